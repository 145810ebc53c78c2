import numpy as np
import pytest

from mechsparse.metrics import (
    allowed_inputs,
    consistent_r,
    consistent_r2_nonlinear,
    entanglement_measured,
    linear_r,
    mcc,
)

# graph_action_3_easy / graph_temporal_3_easy entanglement pattern: five 2×2 diagonal blocks
C_EASY = np.kron(np.eye(5, dtype=int), np.ones((2, 2), dtype=int))


def _block_mixed(seed=0, n=3000, angle=0.6):
    """z and z_hat where z_hat mixes latents only within the 2×2 blocks, then permutes."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 10))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mixing = np.kron(np.eye(5), rotation)
    perm = rng.permutation(10)
    return z, (z @ mixing.T)[:, perm]


def test_block_pattern_consistent_r_is_one_while_mcc_is_not():
    z, z_hat = _block_mixed()
    result = mcc(z, z_hat)
    assert result.score < 0.9
    cons = consistent_r(z, z_hat, C_EASY, result.permutation)
    assert cons.score > 0.999
    assert cons.per_latent.shape == (10,)
    assert cons.coef is None
    # with C = I the same representation is penalised for the within-block mixing
    assert consistent_r(z, z_hat, np.eye(10, dtype=int), result.permutation).score < 0.9


def test_allowed_inputs_follow_the_matching():
    C = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    perm = np.array([2, 0, 1])  # true 0 -> learned 2, true 1 -> learned 0, true 2 -> learned 1
    lam = allowed_inputs(C, perm, d_learned=4)
    # Λ[i, π(k)] = C[i, k]; learned latent 3 is unmatched and never allowed
    expected = np.array([[1, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(lam, expected)


def test_linear_r_recovers_invertible_linear_mixing():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2000, 4))
    z_hat = z @ rng.normal(size=(4, 4)) + 1.0
    result = linear_r(z, z_hat)
    assert result.score == pytest.approx(1.0, abs=1e-9)
    assert result.coef.shape == (4, 4)
    assert mcc(z, z_hat).score < 0.95


def test_linear_r_coefficients_and_measured_entanglement_for_relabelled_latents():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(2000, 3))
    z_hat = z[:, [1, 2, 0]] * np.array([2.0, -0.5, 3.0])
    perm = mcc(z, z_hat).permutation
    coef = linear_r(z, z_hat).coef
    # standardised coefficients: ±1 on the matched learned latent, 0 elsewhere
    expected = np.zeros((3, 3))
    expected[np.arange(3), perm] = np.sign([3.0, 2.0, -0.5])
    np.testing.assert_allclose(coef, expected, atol=1e-9)
    np.testing.assert_allclose(entanglement_measured(z, z_hat, perm), np.eye(3), atol=1e-9)


def test_linear_r_of_constant_true_latent_is_zero_not_nan():
    rng = np.random.default_rng(5)
    z = np.column_stack([rng.normal(size=500), np.full(500, 2.0)])
    result = linear_r(z, rng.normal(size=(500, 2)))
    assert np.isfinite(result.per_latent).all()
    assert result.per_latent[1] == 0.0


def test_nonlinear_variant_sees_elementwise_nonlinear_recovery():
    rng = np.random.default_rng(6)
    z = rng.normal(size=(3000, 4))
    perm = np.array([3, 0, 2, 1])
    maps = [lambda x: x**3, np.exp, lambda x: np.tanh(x / 2) + 0.2 * x, lambda x: -(x**3)]
    z_hat = np.column_stack([f(z[:, p]) for f, p in zip(maps, perm, strict=True)])
    matching = mcc(z, z_hat, method="spearman").permutation
    eye = np.eye(4, dtype=int)
    linear = consistent_r(z, z_hat, eye, matching).score
    nonlinear = consistent_r2_nonlinear(z, z_hat, eye, matching, random_state=0)
    assert nonlinear.score > 0.97
    assert linear < 0.93
    assert nonlinear.coef is None


def test_nonlinear_variant_is_reproducible_and_validates_its_options():
    z, z_hat = _block_mixed(n=600)
    perm = mcc(z, z_hat).permutation
    a = consistent_r2_nonlinear(z, z_hat, C_EASY, perm, random_state=1, max_samples=400)
    b = consistent_r2_nonlinear(z, z_hat, C_EASY, perm, random_state=1, max_samples=400)
    np.testing.assert_array_equal(a.per_latent, b.per_latent)
    with pytest.raises(ValueError, match="test_fraction must lie in"):
        consistent_r2_nonlinear(z, z_hat, C_EASY, perm, test_fraction=1.5)
    with pytest.raises(ValueError, match="both need at least 2"):
        consistent_r2_nonlinear(z[:5], z_hat[:5], C_EASY, perm, test_fraction=0.1)


@pytest.mark.parametrize(
    ("C", "permutation", "match"),
    [
        (np.eye(3, dtype=int), np.arange(10), r"C must have shape \(10, 10\)"),
        (np.eye(10) * 0.5, np.arange(10), "C must contain only 0 and 1"),
        (C_EASY, np.arange(9), r"permutation must have shape \(10,\)"),
        (C_EASY, np.zeros(10, dtype=int), "same learned latent"),
        (C_EASY, np.arange(1, 11), r"must lie in \[0, 10\)"),
        (C_EASY, np.arange(10) + 0.5, "integer indices"),
    ],
)
def test_bad_pattern_or_permutation_raises(C, permutation, match):
    z, z_hat = _block_mixed(n=50)
    with pytest.raises(ValueError, match=match):
        consistent_r(z, z_hat, C, permutation)


def test_mismatched_rows_raise_naming_both_arrays():
    z, z_hat = _block_mixed(n=50)
    with pytest.raises(ValueError, match="z and z_hat"):
        linear_r(z, z_hat[:40])
    with pytest.raises(ValueError, match="z contains NaN"):
        linear_r(np.where(np.arange(10) == 3, np.nan, z), z_hat)
