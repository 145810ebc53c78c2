"""Tests of the mixing function f (spec §1.3)."""

import numpy as np
import pytest

from mechsparse.data.mixing import NEGATIVE_SLOPE, make_mixing, semi_orthogonal


@pytest.fixture(scope="module")
def mixing():
    return make_mixing(10, 20, np.random.default_rng(0))


def test_singular_values(mixing):
    assert [w.shape for w in mixing.weights] == [(10, 20), (20, 20), (20, 20), (20, 20)]
    np.testing.assert_allclose(
        np.linalg.svd(mixing.weights[0], compute_uv=False), 0.35806, rtol=1e-4
    )
    for weight in mixing.weights[1:]:
        np.testing.assert_allclose(np.linalg.svd(weight, compute_uv=False), 0.31009, rtol=1e-4)


def test_forward_matches_formula_across_chunks(mixing):
    z = np.random.default_rng(1).standard_normal((70_000, 10))  # more than one chunk

    def lrelu(u):
        return np.maximum(NEGATIVE_SLOPE * u, u)

    w1, w2, w3, w4 = mixing.weights
    expected = lrelu(lrelu(lrelu(z @ w1) @ w2) @ w3) @ w4
    np.testing.assert_allclose(mixing(z), expected, rtol=1e-12, atol=1e-15)
    batched = mixing(z[:600].reshape(200, 3, 10))
    assert batched.shape == (200, 3, 20)
    np.testing.assert_allclose(batched.reshape(600, 20), expected[:600], rtol=1e-12, atol=1e-15)


def test_raw_scale_is_tiny(mixing):
    x = mixing(np.random.default_rng(2).standard_normal((20_000, 10)))
    assert 5e-4 < x.std(axis=0).mean() < 5e-3


def test_mixing_is_invertible(mixing):
    z = np.random.default_rng(3).standard_normal((1_000, 10))
    h = mixing(z)
    w1, *hidden = mixing.weights
    h = h @ np.linalg.inv(hidden[-1])
    for weight in reversed(hidden[:-1]):
        h = np.where(h > 0, h, h / NEGATIVE_SLOPE) @ np.linalg.inv(weight)
    h = np.where(h > 0, h, h / NEGATIVE_SLOPE)
    recovered = h @ np.linalg.pinv(w1)
    np.testing.assert_allclose(recovered, z, atol=1e-9)


def test_errors(mixing):
    with pytest.raises(ValueError, match="d_x must be >= d_z"):
        make_mixing(10, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fan_in must be <= fan_out"):
        semi_orthogonal(4, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., 10\)"):
        mixing(np.zeros((4, 3)))
