"""Mean correlation coefficient (MCC) between true and learned latents (spec §4.2).

MCC measures disentanglement up to permutation and per-component affine maps (Pearson) or
per-component strictly monotone maps (Spearman): correlate every true latent with every
learned latent, match them one-to-one with the Hungarian algorithm on |corr|, and average
the matched |corr|.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from mechsparse._validation import check_choice
from mechsparse.metrics._utils import check_pair

__all__ = ["MCCResult", "abs_corr", "match_latents", "mcc"]

_METHODS = ("pearson", "spearman")


@dataclass(frozen=True)
class MCCResult:
    """Result of :func:`mcc`.

    Attributes:
        score: MCC = (1/d_true) Σ_i |corr(z_i, ẑ_{π(i)})|, in [0, 1]; higher is better
            (1 = every true latent is an affine (Pearson) or monotone (Spearman) function
            of its own learned latent).
        permutation: (d_true,) int, ``permutation[i] = π(i)`` = index of the learned latent
            matched to true latent i.
        corr: (d_true, d_learned) matrix K of |corr(z_i, ẑ_j)| (rows true, columns learned).
    """

    score: float
    permutation: np.ndarray
    corr: np.ndarray

    @property
    def permutation_matrix(self) -> np.ndarray:
        """The matching as a 0/1 matrix P of shape (d_true, d_learned), P[i, π(i)] = 1.

        ``z_hat @ P.T`` reorders the learned latents into the true latents' order, and
        ``corr @ P.T`` is the correlation matrix with matched pairs on the diagonal (the
        reference code calls this matrix P̂ᵀ).
        """
        d_true, d_learned = self.corr.shape
        p = np.zeros((d_true, d_learned), dtype=np.int64)
        p[np.arange(d_true), self.permutation] = 1
        return p


def _unit_columns(x: np.ndarray) -> np.ndarray:
    """Centre each column of x (n, d) and scale it to unit Euclidean norm.

    Constant columns (all entries equal) become all-zero, so their correlation with
    anything is 0 rather than NaN.
    """
    centred = x - x.mean(axis=0)
    norms = np.linalg.norm(centred, axis=0)
    constant = np.ptp(x, axis=0) == 0
    scale = np.where(constant | (norms == 0), 1.0, norms)
    centred[:, constant] = 0.0
    return centred / scale


def abs_corr(z: np.ndarray, z_hat: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between every column of z and every column of z_hat.

    Args:
        z: (n, d_true) finite frames.
        z_hat: (n, d_learned) finite frames with the same n.

    Returns:
        K of shape (d_true, d_learned), K[i, j] = |corr(z_i, ẑ_j)| in [0, 1]; 0 where either
        column is constant. Inputs are not validated (use :func:`mcc` for that).
    """
    k = np.abs(_unit_columns(z).T @ _unit_columns(z_hat))
    return np.clip(k, 0.0, 1.0)


def match_latents(corr: np.ndarray) -> np.ndarray:
    """Hungarian matching maximising the summed |corr| (``linear_sum_assignment(-K)``).

    Args:
        corr: (d_true, d_learned) |corr| matrix with d_learned ≥ d_true.

    Returns:
        (d_true,) int64 matching π with π(i) = learned latent matched to true latent i.
    """
    rows, cols = linear_sum_assignment(-corr)
    perm = np.empty(corr.shape[0], dtype=np.int64)
    perm[rows] = cols
    return perm


def mcc(z: object, z_hat: object, method: str = "pearson") -> MCCResult:
    """Mean correlation coefficient between true latents z and learned latents ẑ.

    Definition: K_ij = |corr(z_i, ẑ_j)|; π = argmax over one-to-one matchings of
    Σ_i K_{i,π(i)} (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment(-K)``);
    MCC = (1/d_true) Σ_i K_{i,π(i)}. Range [0, 1], higher is better.

    With ``method="pearson"`` (the reference's metric) MCC = 1 iff each true latent is an
    affine function of its own learned latent. With ``"spearman"`` both arrays are first
    replaced column-wise by their ranks (``scipy.stats.rankdata``, ties averaged) and Pearson
    is applied, so MCC = 1 for any strictly monotone element-wise map — closer to what the
    theory identifies (element-wise *nonlinear* maps).

    A constant column (all values equal) has an undefined correlation; it is counted as 0
    (no NaN), so a collapsed learned latent simply scores 0 against every true latent.

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true); time is flattened into frames.
        z_hat: learned latents of the same frames, (n, T, d_learned) or (n, d_learned),
            with d_learned ≥ d_true (extra learned latents stay unmatched).
        method: ``"pearson"`` or ``"spearman"``.

    Returns:
        :class:`MCCResult` with the score, the matching π and the |corr| matrix.

    Raises:
        ValueError: unknown method, NaN/Inf, fewer than 2 frames, different numbers of frames,
            or fewer learned than true latents.
    """
    check_choice(method, "method", _METHODS)
    z_arr, z_hat_arr = check_pair(z, z_hat)
    if z_hat_arr.shape[1] < z_arr.shape[1]:
        raise ValueError(
            f"z_hat must have at least as many latents as z to match every true latent; "
            f"got z_hat with {z_hat_arr.shape[1]} and z with {z_arr.shape[1]} columns."
        )
    if method == "spearman":
        z_arr = rankdata(z_arr, axis=0)
        z_hat_arr = rankdata(z_hat_arr, axis=0)
    corr = abs_corr(z_arr, z_hat_arr)
    perm = match_latents(corr)
    score = float(corr[np.arange(corr.shape[0]), perm].mean())
    return MCCResult(score=score, permutation=perm, corr=corr)
