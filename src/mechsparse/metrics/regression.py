"""Regression scores: linear R, consistent R and its nonlinear variant (spec §4.3–4.4).

All three regress each true latent z_i on (some of) the learned latents ẑ and report the
coefficient of multiple correlation √R²_i, averaged over true latents so that the scores
are on the same [0, 1] scale as MCC:

* ``linear_r``: all learned latents may be used — identifiability up to an invertible
  linear map;
* ``consistent_r``: only the learned latents allowed by the entanglement pattern C
  (partial disentanglement; equals MCC when C = I);
* ``consistent_r2_nonlinear``: the same allowed inputs, a flexible regressor and a held-out
  split, because the theory identifies latents only up to element-wise *nonlinear* maps
  (and mixing within C's blocks), which linear scores understate (spec §7.3 item 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from mechsparse.metrics._utils import check_pair, check_pattern, check_permutation

__all__ = [
    "RegressionResult",
    "allowed_inputs",
    "consistent_r",
    "consistent_r2_nonlinear",
    "entanglement_measured",
    "linear_r",
]


@dataclass(frozen=True)
class RegressionResult:
    """Result of the regression scores.

    Attributes:
        score: (1/d_true) Σ_i √R²_i, the mean coefficient of multiple correlation, in [0, 1];
            higher is better.
        per_latent: (d_true,) √R²_i for each true latent z_i.
        coef: (d_true, d_learned) regression coefficients L̂ of the standardised z on the
            standardised ẑ for :func:`linear_r`; None for the other scores.
    """

    score: float
    per_latent: np.ndarray
    coef: np.ndarray | None


def _standardise(x: np.ndarray) -> np.ndarray:
    """Standardise the columns of x (n, d) to mean 0 and std 1; constant columns become 0."""
    std = x.std(axis=0)
    constant = np.ptp(x, axis=0) == 0
    out = (x - x.mean(axis=0)) / np.where(constant | (std == 0), 1.0, std)
    out[:, constant] = 0.0
    return out


def _r2(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-column R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² of y, pred (n, d), clipped to [0, 1].

    A constant target (Σ(y − ȳ)² = 0) gets R² = 0, like its correlation in :func:`mcc`.
    """
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    ok = ss_tot > 0
    r2 = np.where(ok, 1.0 - ss_res / np.where(ok, ss_tot, 1.0), 0.0)
    return np.clip(r2, 0.0, 1.0)


def _result(r2: np.ndarray, coef: np.ndarray | None = None) -> RegressionResult:
    per_latent = np.sqrt(np.clip(r2, 0.0, 1.0))
    return RegressionResult(score=float(per_latent.mean()), per_latent=per_latent, coef=coef)


def allowed_inputs(C: object, permutation: object, d_learned: int) -> np.ndarray:
    """Which learned latents may be used to predict each true latent.

    Definition: Λ = C P, i.e. Λ[i, π(k)] = C[i, k] (equivalently Λ[i, j] = C[i, π⁻¹(j)]):
    learned latent j may be used for true latent i iff the true latent matched to j is in
    row i of C. Learned latents matched to no true latent are never allowed.

    Args:
        C: (d_true, d_true) binary entanglement pattern (rows: true latent to recover).
        permutation: (d_true,) matching, ``permutation[i] = π(i)`` (see :func:`mcc`).
        d_learned: number of learned latents.

    Returns:
        Λ as an int64 array of shape (d_true, d_learned).
    """
    d_true = int(np.shape(C)[0]) if np.ndim(C) == 2 else 0
    pattern = check_pattern(C, d_true)
    perm = check_permutation(permutation, d_true, d_learned)
    return _allowed(pattern, perm, d_learned)


def _allowed(pattern: np.ndarray, perm: np.ndarray, d_learned: int) -> np.ndarray:
    lam = np.zeros((pattern.shape[0], d_learned), dtype=np.int64)
    lam[:, perm] = pattern  # Λ[i, π(k)] = C[i, k]
    return lam


def _checked_allowed(
    z: object, z_hat: object, C: object, permutation: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z_arr, z_hat_arr = check_pair(z, z_hat)
    d_true, d_learned = z_arr.shape[1], z_hat_arr.shape[1]
    pattern = check_pattern(C, d_true)
    perm = check_permutation(permutation, d_true, d_learned)
    return z_arr, z_hat_arr, _allowed(pattern, perm, d_learned)


def linear_r(z: object, z_hat: object) -> RegressionResult:
    """Linear R: how well an invertible linear map of ẑ recovers z (spec §4.4).

    Definition: standardise z and ẑ per column; fit the multi-output OLS (with intercept)
    z ≈ L̂ ẑ + b in-sample; R²_i = 1 − Σ(z_i − ẑ_i^pred)² / Σ(z_i − z̄_i)² is clipped to [0, 1];
    score = (1/d_true) Σ_i √R²_i. Range [0, 1], higher is better (1 = z is an affine
    function of ẑ). Constant columns are set to 0 after standardisation (a constant true
    latent scores 0).

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true).
        z_hat: learned latents of the same frames, (n, T, d_learned) or (n, d_learned).

    Returns:
        :class:`RegressionResult` with ``coef`` = L̂ of shape (d_true, d_learned).

    Raises:
        ValueError: NaN/Inf, fewer than 2 frames or different numbers of frames.
    """
    z_arr, z_hat_arr = check_pair(z, z_hat)
    zs, hs = _standardise(z_arr), _standardise(z_hat_arr)
    reg = LinearRegression().fit(hs, zs)
    r2 = _r2(zs, reg.predict(hs))
    return _result(r2, coef=np.asarray(reg.coef_, dtype=np.float64).reshape(zs.shape[1], -1))


def consistent_r(z: object, z_hat: object, C: object, permutation: object) -> RegressionResult:
    """Consistent R: recovery up to the entanglement the theory allows (spec §4.3).

    Definition: Λ[i, j] = C[i, π⁻¹(j)] (see :func:`allowed_inputs`); for each true latent
    z_i, fit an in-sample OLS (with intercept, no split) of z_i on the learned latents j with
    Λ[i, j] = 1 (the others are dropped); R²_i is clipped to [0, 1];
    score = (1/d_true) Σ_i √R²_i. Range [0, 1], higher is better. With C = I the single
    regressor is ẑ_{π(i)} and √R²_i = |corr(z_i, ẑ_{π(i)})|, so the score equals the Pearson
    MCC. A true latent with no allowed input scores 0.

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true).
        z_hat: learned latents of the same frames, (n, T, d_learned) or (n, d_learned).
        C: (d_true, d_true) binary entanglement pattern (from the true graphs).
        permutation: (d_true,) matching π from :func:`mcc` (``permutation[i]`` = learned
            latent matched to true latent i).

    Returns:
        :class:`RegressionResult` (``coef`` is None).

    Raises:
        ValueError: invalid latents (see :func:`linear_r`), C not binary or not
            (d_true, d_true), or an invalid permutation.
    """
    z_arr, z_hat_arr, lam = _checked_allowed(z, z_hat, C, permutation)
    zs, hs = _standardise(z_arr), _standardise(z_hat_arr)
    r2 = np.zeros(zs.shape[1])
    for i, row in enumerate(lam):  # one small OLS per true latent (d_true fits)
        cols = np.flatnonzero(row)
        if cols.size:
            reg = LinearRegression().fit(hs[:, cols], zs[:, i])
            r2[i] = _r2(zs[:, [i]], reg.predict(hs[:, cols])[:, None])[0]
    return _result(r2)


def consistent_r2_nonlinear(
    z: object,
    z_hat: object,
    C: object,
    permutation: object,
    *,
    test_fraction: float = 0.3,
    max_samples: int = 20_000,
    random_state: int | np.random.Generator | None = 0,
) -> RegressionResult:
    """Nonlinear consistent R: like :func:`consistent_r` with a flexible held-out regressor.

    Why: the theory identifies each latent only up to an element-wise *nonlinear* invertible
    map (and mixing within the blocks of C), so the linear scores understate recovery — e.g.
    ẑ_{π(i)} = z_i³ is perfectly disentangled yet has Pearson MCC ≈ 0.77 (spec §7.3 item 8).

    Definition: the same allowed inputs Λ[i, :] as :func:`consistent_r`; at most
    ``max_samples`` frames are drawn at random, split into a training part and a held-out
    part of ``test_fraction``; for each true latent a
    ``sklearn.ensemble.HistGradientBoostingRegressor`` (default settings, fast on one core:
    ≈ 1–2 s for d = 10 and 20,000 frames) is fitted on the training part; R²_i is computed on
    the held-out part, clipped to [0, 1], and score = (1/d_true) Σ_i √R²_i. Range [0, 1],
    higher is better. Because R² is held-out, a score near 1 is not an artefact of
    overfitting; it is stochastic only through the split and the regressor's seed.

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true).
        z_hat: learned latents of the same frames, (n, T, d_learned) or (n, d_learned).
        C: (d_true, d_true) binary entanglement pattern (use the identity for full
            disentanglement).
        permutation: (d_true,) matching π from :func:`mcc`.
        test_fraction: fraction of the (sub-sampled) frames held out for scoring, in (0, 1).
        max_samples: maximal number of frames used (sub-sampled without replacement).
        random_state: seed or ``numpy.random.Generator`` for the sub-sample, the split and
            the regressors. Pass an int for reproducible results.

    Returns:
        :class:`RegressionResult` (``coef`` is None).

    Raises:
        ValueError: invalid inputs (see :func:`consistent_r`), ``test_fraction`` outside
            (0, 1), or too few frames for a training and a held-out part of ≥ 2 frames each.
    """
    z_arr, z_hat_arr, lam = _checked_allowed(z, z_hat, C, permutation)
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1); got {test_fraction!r}.")
    if int(max_samples) < 4:
        raise ValueError(f"max_samples must be at least 4; got {max_samples!r}.")
    rng = np.random.default_rng(random_state)
    n = z_arr.shape[0]
    idx = rng.permutation(n)[: min(n, int(max_samples))]
    n_test = round(test_fraction * idx.size)
    if n_test < 2 or idx.size - n_test < 2:
        raise ValueError(
            f"test_fraction={test_fraction} of {idx.size} frames leaves {idx.size - n_test} "
            f"training and {n_test} held-out frames; both need at least 2."
        )
    test, train = idx[:n_test], idx[n_test:]
    seed = int(rng.integers(2**31 - 1))
    r2 = np.zeros(z_arr.shape[1])
    for i, row in enumerate(lam):  # one regressor per true latent (d_true fits)
        cols = np.flatnonzero(row)
        if cols.size:
            reg = HistGradientBoostingRegressor(random_state=seed)
            reg.fit(z_hat_arr[np.ix_(train, cols)], z_arr[train, i])
            pred = reg.predict(z_hat_arr[np.ix_(test, cols)])
            r2[i] = _r2(z_arr[test][:, [i]], pred[:, None])[0]
    return _result(r2)


def entanglement_measured(z: object, z_hat: object, permutation: object) -> np.ndarray:
    """Measured entanglement |L̂ Pᵀ| / max, the "estimated C" figure (spec §3.7, §4.4).

    Definition: L̂ (d_true, d_learned) are the :func:`linear_r` coefficients of the
    standardised z on the standardised ẑ; P[i, π(i)] = 1; (L̂ Pᵀ)[i, k] = L̂[i, π(k)], so
    column k is the learned latent matched to true latent k. The absolute values are divided
    by their maximum (an all-zero L̂ is returned as zeros). Compare with the theory's
    entanglement pattern C: a disentangled solution gives ≈ I.

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true).
        z_hat: learned latents of the same frames, (n, T, d_learned) or (n, d_learned).
        permutation: (d_true,) matching π from :func:`mcc`.

    Returns:
        (d_true, d_true) array with entries in [0, 1].
    """
    z_arr, z_hat_arr = check_pair(z, z_hat)
    perm = check_permutation(permutation, z_arr.shape[1], z_hat_arr.shape[1])
    coef = linear_r(z_arr, z_hat_arr).coef
    assert coef is not None  # linear_r always returns coefficients
    measured = np.abs(coef[:, perm])
    top = measured.max()
    return measured / top if top > 0 else measured
