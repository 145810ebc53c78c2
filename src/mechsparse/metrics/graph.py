"""Graph recovery errors: false negatives, false positives and SHD (spec §4.5).

The learned latents are only identified up to a permutation, so the learned graph is first
expressed in the true latents' order using the MCC matching π, then compared entry by entry
with the true graph (rows = children, columns = parents).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mechsparse._validation import check_array, check_binary_graph, check_choice
from mechsparse.metrics._utils import check_permutation

__all__ = ["GraphErrors", "graph_errors", "permute_graph"]

_KINDS = ("z", "a")


@dataclass(frozen=True)
class GraphErrors:
    """Edge errors of a learned graph against the true graph; lower is better (0 = exact).

    Attributes:
        fn: false negatives, #{(i, j): true[i, j] = 1 and learned[i, j] = 0}.
        fp: false positives, #{(i, j): true[i, j] = 0 and learned[i, j] = 1}.
        shd: structural Hamming distance FN + FP (every wrong entry counts 1; there is no
            "reversed edge" notion).
        permuted: the learned binary graph in the true latents' order (int64, same shape as
            the true graph).
    """

    fn: int
    fp: int
    shd: int
    permuted: np.ndarray


def permute_graph(graph: object, permutation: object, kind: str = "z") -> np.ndarray:
    """Express a learned graph (or edge probabilities) in the true latents' order.

    Definition (P[i, π(i)] = 1): for G^z (``kind="z"``) rows and columns are permuted,
    P G Pᵀ, i.e. ``out[i, k] = graph[π(i), π(k)]``; for G^a (``kind="a"``) only the rows
    (children) are, because actions are observed: P G, i.e. ``out[i, :] = graph[π(i), :]``.

    Args:
        graph: (d, d) for ``kind="z"`` or (d, d_a) for ``kind="a"``; any numeric values
            (logits, probabilities or {0, 1}).
        permutation: (d,) matching, ``permutation[i] = π(i)`` = learned latent matched to
            true latent i.
        kind: ``"z"`` (G^z, latent-to-latent) or ``"a"`` (G^a, action-to-latent).

    Returns:
        The permuted graph, same shape and dtype as ``graph``.
    """
    check_choice(kind, "kind", _KINDS)
    g = check_array(graph, "graph", ndim=2, dtype=None, allow_nan=True)
    if kind == "z" and g.shape[0] != g.shape[1]:
        raise ValueError(f"graph for kind 'z' (G^z) must be square (d, d); got shape {g.shape}.")
    perm = check_permutation(permutation, g.shape[0], g.shape[0])
    return g[np.ix_(perm, perm)] if kind == "z" else g[perm, :]


def graph_errors(
    true: object, learned_logits_or_binary: object, permutation: object, kind: str = "z"
) -> GraphErrors:
    """False negatives, false positives and SHD of a learned graph after MCC matching.

    The learned graph is ``learned_logits_or_binary > 0``: for mask logits α this is the
    reference's threshold σ(α) > 0.5, and a {0, 1} graph is left unchanged. Do **not** pass
    edge probabilities σ(α) (they would all count as edges; a warning is raised when the
    values look like probabilities). The learned graph is then permuted with
    :func:`permute_graph` and compared with ``true``: FN = #(true 1, learned 0),
    FP = #(true 0, learned 1), SHD = FN + FP. Range: integers in [0, number of entries];
    lower is better. The errors are conditional on the matching (for entangled latents the
    matching is partly arbitrary).

    Args:
        true: true binary graph, (d, d) for ``kind="z"`` (G^z) or (d, d_a) for ``kind="a"``
            (G^a); rows = children, columns = parents.
        learned_logits_or_binary: learned graph of the same shape, as logits α or {0, 1}.
        permutation: (d,) matching from :func:`mcc`, ``permutation[i] = π(i)``.
        kind: ``"z"`` (permute rows and columns) or ``"a"`` (permute rows only).

    Returns:
        :class:`GraphErrors`.

    Raises:
        ValueError: unknown kind, non-binary or wrongly shaped ``true``, a learned graph of a
            different shape, NaN values, or an invalid permutation.
    """
    check_choice(kind, "kind", _KINDS)
    t = check_binary_graph(true, "true")
    if kind == "z" and t.shape[0] != t.shape[1]:
        raise ValueError(
            f"true must be a square (d, d) graph G^z for kind 'z'; got shape {t.shape}. "
            f"Use kind='a' for an action graph G^a (d, d_a)."
        )
    learned = check_array(learned_logits_or_binary, "learned_logits_or_binary", ndim=2)
    if learned.shape != t.shape:
        raise ValueError(
            f"learned_logits_or_binary must have the true graph's shape {t.shape} "
            f"(rows = children, columns = parents); got shape {learned.shape}."
        )
    if (
        learned.size
        and learned.min() >= 0.0
        and learned.max() <= 1.0
        and not np.isin(learned, (0.0, 1.0)).all()
    ):
        warnings.warn(
            "learned_logits_or_binary has all values in [0, 1] but is not binary: it looks "
            "like edge probabilities σ(α). It is thresholded at 0 (logits), so every "
            "positive probability counts as an edge; pass logits or 1[σ(α) > 0.5] instead.",
            UserWarning,
            stacklevel=2,
        )
    binary = (learned > 0).astype(np.int64)
    permuted = permute_graph(binary, permutation, kind)
    fn = int(((t == 1) & (permuted == 0)).sum())
    fp = int(((t == 0) & (permuted == 1)).sum())
    return GraphErrors(fn=fn, fp=fp, shd=fn + fp, permuted=permuted)
