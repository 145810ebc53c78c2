import numpy as np
import pytest

from mechsparse.metrics import flatten_frames
from mechsparse.metrics._utils import check_pair


def test_flatten_frames_sequences_and_passthrough():
    seq = np.arange(24.0).reshape(2, 3, 4)  # (n, T, d)
    frames = flatten_frames(seq)
    assert frames.shape == (6, 4)
    np.testing.assert_array_equal(frames[4], seq[1, 1])  # row s·T + t is frame t of sequence s
    flat = np.ones((5, 2))
    np.testing.assert_array_equal(flatten_frames(flat), flat)
    assert flatten_frames([[1, 2], [3, 4]]).dtype == np.float64


def test_flatten_frames_rejects_other_ranks():
    with pytest.raises(ValueError, match="z must be 2-D or 3-D"):
        flatten_frames(np.ones(5), "z")


def test_check_pair_accepts_mixed_layouts_with_equal_frames():
    z, z_hat = check_pair(np.ones((4, 2, 3)) * np.arange(3), np.arange(24.0).reshape(8, 3))
    assert z.shape == z_hat.shape == (8, 3)


def test_check_pair_errors():
    with pytest.raises(ValueError, match="at least one latent"):
        check_pair(np.ones((4, 0)), np.ones((4, 1)))
    with pytest.raises(TypeError, match="z_hat must be a numeric array"):
        check_pair(np.ones((4, 1)), np.array([["a"], ["b"], ["c"], ["d"]], dtype=object))
