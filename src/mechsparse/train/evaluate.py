"""Evaluation of a model on one split: ELBO terms and, when the ground truth is known, the
disentanglement and graph scores of ``mechsparse.metrics`` with the entanglement graph of
``mechsparse.theory``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mechsparse.metrics import (
    consistent_r,
    consistent_r2_nonlinear,
    entanglement_measured,
    graph_errors,
    linear_r,
    mcc,
)
from mechsparse.theory import entanglement_graph

__all__ = ["GroundTruth", "disentanglement_scores", "elbo_on", "encode_means", "objective_on"]


@dataclass(frozen=True)
class GroundTruth:
    """What evaluation may compare against (never used for training).

    Attributes:
        graph_z: (d_z, d_z) true G^z or None.
        graph_a: (d_z, d_a) true G^a or None.
    """

    graph_z: np.ndarray | None
    graph_a: np.ndarray | None

    @property
    def entanglement(self) -> np.ndarray | None:
        """The theory's entanglement graph C (d_z, d_z), or None without any true graph."""
        if self.graph_z is None and self.graph_a is None:
            return None
        return entanglement_graph(graph_z=self.graph_z, graph_a=self.graph_a)


@torch.no_grad()
def elbo_on(
    model: torch.nn.Module, x: Tensor, a: Tensor | None, batch_size: int
) -> dict[str, float]:
    """Mean ELBO terms over a whole split (per dimension, the training scaling).

    Args:
        x: (n, T, d_x) observations on the model's device.
        a: (n, T, d_a) auxiliary variables or None.

    Returns:
        ``nll`` (mean −ELBO = reconstruction + kl, whatever the training β), ``reconstruction``,
        ``kl`` and ``kl_<i>`` (mean unscaled nats of latent i).
    """
    was_training = model.training
    model.eval()
    sums: dict[str, Tensor] = {}
    n = x.shape[0]
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        terms = model.elbo_terms(x[sl], None if a is None else a[sl])
        parts = {
            "nll": (terms.reconstruction + terms.kl).sum(),
            "reconstruction": terms.reconstruction.sum(),
            "kl": terms.kl.sum(),
            "kl_latent": terms.kl_per_latent.sum(0),
        }
        for key, value in parts.items():
            sums[key] = sums.get(key, 0) + value
    model.train(was_training)
    out = {k: float(v) / n for k, v in sums.items() if k != "kl_latent"}
    for i, value in enumerate((sums["kl_latent"] / n).tolist()):
        out[f"kl_{i}"] = value
    return out


@torch.no_grad()
def objective_on(
    model: torch.nn.Module,
    x: Tensor,
    a: Tensor | None,
    z: Tensor | None,
    batch_size: int,
) -> dict[str, float]:
    """Mean training objective over a whole split, for any method.

    The mechanism-sparsity VAE reports its ELBO terms (:func:`elbo_on`: ``nll``, ...); a
    baseline reports the batch means of its ``loss_terms`` (``loss``, ...); an untrained
    method (``random``) reports nothing.

    Args:
        x: (n, T, d_x) observations; a: (n, T, d_a) or None; z: (n, T, d_z) true latents, used
            only by methods supervised by them (else None).
    """
    from mechsparse.model import LatentCausalVAE

    if isinstance(model, LatentCausalVAE):
        return elbo_on(model, x, a, batch_size)
    if not getattr(model, "trains", True):
        return {}
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    for start in range(0, x.shape[0], batch_size):
        sl = slice(start, start + batch_size)
        terms = model.loss_terms(x[sl], None if a is None else a[sl], None if z is None else z[sl])
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value.sum())
    model.train(was_training)
    return {k: v / x.shape[0] for k, v in sums.items()}


@torch.no_grad()
def encode_means(model: torch.nn.Module, x: Tensor, batch_size: int) -> np.ndarray:
    """Posterior means E[z_t | x_t] of every frame: (n, T, d_x) → (n, T, d_z) numpy."""
    chunks = [model.encode(x[i : i + batch_size])[0] for i in range(0, x.shape[0], batch_size)]
    return torch.cat(chunks).cpu().numpy()


def disentanglement_scores(
    z: np.ndarray,
    z_hat: np.ndarray,
    truth: GroundTruth,
    learned_graphs: dict[str, np.ndarray],
    *,
    nonlinear: bool = False,
) -> dict:
    """All scores of a representation against the true latents.

    Args:
        z: (n, T, d_z) true latents.
        z_hat: (n, T, d_z) posterior means of the same frames.
        truth: the true graphs.
        learned_graphs: ``{"graph_z": (d_z, d_z), "graph_a": (d_z, d_a)}`` binary learned graphs
            1[σ(α) > 0.5] of the masks present in the model.
        nonlinear: also compute the (slower) nonlinear consistent R².

    Returns:
        A dict with ``scores`` (mcc, mcc_spearman, linear_r, consistent_r, ...), ``permutation``,
        ``corr``, per-graph errors and the predicted and measured entanglement graphs.
    """
    zf = z.reshape(-1, z.shape[-1])
    zhf = z_hat.reshape(-1, z_hat.shape[-1])
    res = mcc(zf, zhf)
    perm = res.permutation
    scores = {
        "mcc": res.score,
        "mcc_spearman": mcc(zf, zhf, method="spearman").score,
        "linear_r": linear_r(zf, zhf).score,
    }
    c = truth.entanglement
    if c is not None:
        scores["consistent_r"] = consistent_r(zf, zhf, c, perm).score
        if nonlinear:
            scores["consistent_r2_nonlinear"] = consistent_r2_nonlinear(zf, zhf, c, perm).score
    graphs = {}
    for name, true in (("graph_z", truth.graph_z), ("graph_a", truth.graph_a)):
        if true is None or name not in learned_graphs:
            continue
        err = graph_errors(true, learned_graphs[name], perm, kind=name[-1])
        graphs[name] = {"fn": err.fn, "fp": err.fp, "shd": err.shd}
        scores[f"shd_{name[-1]}"] = err.shd
    return {
        "scores": {k: float(v) for k, v in scores.items()},
        "permutation": perm.tolist(),
        "corr": res.corr.tolist(),
        "graph_errors": graphs,
        "entanglement_predicted": None if c is None else c.tolist(),
        "entanglement_measured": entanglement_measured(zf, zhf, perm).tolist(),
    }
