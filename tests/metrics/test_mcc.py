import numpy as np
import pytest

from mechsparse.metrics import MCCResult, mcc


@pytest.fixture
def z():
    return np.random.default_rng(0).normal(size=(1000, 3))


def test_permutation_convention_on_three_latents(z):
    # learned column 0 holds z_2, column 1 holds z_0, column 2 holds z_1
    z_hat = z[:, [2, 0, 1]]
    result = mcc(z, z_hat)
    assert isinstance(result, MCCResult)
    # permutation[i] = index of the learned latent matched to true latent i
    np.testing.assert_array_equal(result.permutation, [1, 2, 0])
    np.testing.assert_array_equal(result.permutation_matrix, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(z_hat @ result.permutation_matrix.T, z)
    assert result.corr.shape == (3, 3)
    np.testing.assert_allclose(result.corr[[0, 1, 2], [1, 2, 0]], 1.0)


def test_score_is_mean_of_matched_abs_correlations(z):
    rng = np.random.default_rng(1)
    z_hat = z + rng.normal(scale=[0.1, 1.0, 3.0], size=z.shape)
    result = mcc(z, z_hat)
    expected = np.mean([abs(np.corrcoef(z[:, i], z_hat[:, i])[0, 1]) for i in range(3)])
    assert result.score == pytest.approx(expected, abs=1e-12)
    np.testing.assert_array_equal(result.permutation, [0, 1, 2])
    assert 0.0 <= result.score <= 1.0


def test_sign_flip_still_scores_one(z):
    assert mcc(z, -3.0 * z).score == pytest.approx(1.0)


def test_spearman_differs_from_pearson_for_nonlinear_map(z):
    z_hat = np.exp(2 * z)
    assert mcc(z, z_hat, method="spearman").score == pytest.approx(1.0)
    assert mcc(z, z_hat, method="pearson").score < 0.9


def test_constant_columns_have_zero_correlation_not_nan(z):
    z_hat = z.copy()
    z_hat[:, 1] = 0.1  # collapsed learned latent
    result = mcc(z, z_hat)
    assert np.isfinite(result.corr).all()
    np.testing.assert_array_equal(result.corr[:, 1], 0.0)
    assert result.score == pytest.approx(2 / 3)


def test_sequences_are_flattened_into_frames(z):
    seq = z.reshape(250, 4, 3)  # (n, T, d)
    assert mcc(seq, seq[..., ::-1]).score == pytest.approx(mcc(z, z[:, ::-1]).score)


def test_more_learned_than_true_latents(z):
    extra = np.random.default_rng(2).normal(size=(1000, 2))
    z_hat = np.concatenate([extra[:, :1], z[:, [1]], extra[:, 1:], z[:, [2, 0]]], axis=1)
    result = mcc(z, z_hat)
    np.testing.assert_array_equal(result.permutation, [4, 1, 3])
    assert result.corr.shape == (3, 5)
    assert result.permutation_matrix.shape == (3, 5)
    assert result.score == pytest.approx(1.0)


def test_fewer_learned_than_true_latents_raises(z):
    with pytest.raises(ValueError, match="at least as many latents"):
        mcc(z, z[:, :2])


@pytest.mark.parametrize(
    ("z_bad", "z_hat_bad", "match"),
    [
        ("nan_z", None, "z contains NaN"),
        (None, "inf_z_hat", "z_hat contains NaN or infinite"),
        (None, "short", "z and z_hat must hold the same frames.*1000 rows.*999 rows"),
        ("one_row", "one_row", "at least 2 frames"),
        ("four_d", None, "z must be 2-D or 3-D"),
    ],
)
def test_bad_inputs_raise_naming_the_problem(z, z_bad, z_hat_bad, match):
    variants = {
        "nan_z": np.where(np.arange(3) == 1, np.nan, z),
        "inf_z_hat": np.where(np.arange(3) == 0, np.inf, z),
        "short": z[:-1],
        "one_row": z[:1],
        "four_d": z.reshape(10, 10, 10, 3),
    }
    a = variants[z_bad] if z_bad else z
    b = variants[z_hat_bad] if z_hat_bad else z
    with pytest.raises(ValueError, match=match):
        mcc(a, b)


def test_unknown_method_raises(z):
    with pytest.raises(ValueError, match="unknown method 'kendall'"):
        mcc(z, z, method="kendall")
