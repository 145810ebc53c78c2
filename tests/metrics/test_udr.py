import numpy as np
import pytest

from mechsparse.metrics import UDRResult, mcc, udr


def test_pairwise_matrix_matches_mcc_between_runs():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(800, 4))
    runs = [z + rng.normal(scale=s, size=z.shape) for s in (0.1, 0.5, 1.0)]
    result = udr(runs)
    assert isinstance(result, UDRResult)
    assert result.pairwise.shape == (3, 3)
    np.testing.assert_allclose(np.diag(result.pairwise), 1.0)
    for k in range(3):
        for m in range(3):
            if k != m:
                assert result.pairwise[k, m] == pytest.approx(mcc(runs[k], runs[m]).score)
    off = result.pairwise[~np.eye(3, dtype=bool)]
    assert result.mean == pytest.approx(off.mean())
    assert result.median == pytest.approx(np.median(off))
    assert result.mean < 0.99


def test_sequences_are_accepted():
    rng = np.random.default_rng(1)
    seq = rng.normal(size=(100, 2, 3))
    assert udr([seq, seq[..., ::-1] * 2.0]).mean == pytest.approx(1.0)


def test_one_representation_raises():
    z = np.zeros((10, 2))
    with pytest.raises(ValueError, match="at least 2 representations"):
        udr([z])
    with pytest.raises(ValueError, match="single array"):
        udr(np.random.default_rng(0).normal(size=(10, 2)))


def test_different_shapes_raise():
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="same shape"):
        udr([rng.normal(size=(10, 2)), rng.normal(size=(12, 2))])


def test_nan_raises_naming_the_representation():
    rng = np.random.default_rng(3)
    bad = rng.normal(size=(10, 2))
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"z_hats\[1\] contains NaN"):
        udr([rng.normal(size=(10, 2)), bad])
