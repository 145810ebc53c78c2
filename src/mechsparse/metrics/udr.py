"""Unsupervised disentanglement ranking (UDR) by pairwise MCC between runs (spec §4.6).

Runs of the same configuration that differ only in their seed should, if the configuration
identifies the latents, learn the same latents up to permutation and element-wise maps. UDR
scores a configuration by how well the runs' representations of the *same inputs* agree —
no ground truth needed, which is why the paper uses it for model selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mechsparse.metrics._utils import check_frames
from mechsparse.metrics.mcc import _unit_columns, match_latents

__all__ = ["UDRResult", "udr"]


@dataclass(frozen=True)
class UDRResult:
    """Result of :func:`udr`.

    Attributes:
        mean: mean of MCC(ẑ_k, ẑ_l) over the K(K−1) ordered pairs k ≠ l, in [0, 1]; higher
            is better (more consistent across seeds).
        median: median of the same K(K−1) values.
        pairwise: (K, K) matrix of MCC(ẑ_k, ẑ_l), diagonal 1.
    """

    mean: float
    median: float
    pairwise: np.ndarray


def udr(z_hats: Sequence[object]) -> UDRResult:
    """UDR: agreement between K ≥ 2 learned representations of the same inputs.

    Definition: M[k, l] = MCC(ẑ_k, ẑ_l) (Pearson, Hungarian matching, as in :func:`mcc`)
    for every ordered pair k ≠ l; UDR mean / median = mean / median of those K(K−1) values.
    Range [0, 1], higher is better. With equally many latents per representation the
    optimal matching of Kᵀ is the transpose of that of K, so M is symmetric and each
    unordered pair is computed once. Unlike Duan et al. (2020) there is no KL-based
    filtering of inactive latents.

    The representations must encode the same inputs in the same order (e.g. the test set
    of a dataset that does not depend on the seed); comparing runs on different data (the
    reference's random-graph sweeps) gives meaningless values.

    Args:
        z_hats: K ≥ 2 arrays of the same shape, each (n, T, d) or (n, d) (time is flattened).

    Returns:
        :class:`UDRResult`.

    Raises:
        ValueError: fewer than 2 representations, different shapes, NaN/Inf or fewer than
            2 frames.
    """
    if isinstance(z_hats, np.ndarray) and z_hats.ndim in (2, 3):
        raise ValueError(
            f"z_hats must be a sequence of at least 2 representations (one per run); got a "
            f"single array of shape {z_hats.shape}. Pass a list, e.g. [z_hat_seed1, z_hat_seed2]."
        )
    reps = list(z_hats)
    if len(reps) < 2:
        raise ValueError(
            f"z_hats must hold at least 2 representations (one per run/seed) to compare; "
            f"got {len(reps)}."
        )
    shapes = [np.shape(r) for r in reps]
    if len(set(shapes)) > 1:
        raise ValueError(
            f"every representation in z_hats must have the same shape (the same inputs, "
            f"encoded by each run); got shapes {shapes}."
        )
    frames = [check_frames(r, f"z_hats[{k}]") for k, r in enumerate(reps)]
    units = [_unit_columns(f) for f in frames]  # centred, unit-norm columns, once per run
    n_reps = len(units)
    pairwise = np.eye(n_reps)
    for k in range(n_reps):  # K(K-1)/2 small matchings, K = number of runs
        for m in range(k + 1, n_reps):
            corr = np.clip(np.abs(units[k].T @ units[m]), 0.0, 1.0)  # |corr|, (d, d)
            perm = match_latents(corr)
            pairwise[k, m] = pairwise[m, k] = corr[np.arange(corr.shape[0]), perm].mean()
    off = pairwise[~np.eye(n_reps, dtype=bool)]
    return UDRResult(mean=float(off.mean()), median=float(np.median(off)), pairwise=pairwise)
