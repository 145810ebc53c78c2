"""Tests of saving / loading benchmarks as .npz files."""

import numpy as np
import pytest

import mechsparse.data.io as bench_io
from mechsparse.data import load_benchmark, load_benchmark_file, save_benchmark


@pytest.fixture(
    scope="module",
    params=[
        "action_sparsity_non_trivial",
        "temporal_sparsity_non_trivial",
        "interventions_unknown_targets",
    ],
)
def bench(request):
    return load_benchmark(request.param, n_samples=500, seed=1)


def assert_same(first, second):
    assert first.name == second.name
    assert first.aux_type == second.aux_type
    assert first.params == second.params
    assert first.description == second.description
    for key in ("graph_z", "graph_a"):
        if getattr(first, key) is None:
            assert getattr(second, key) is None
        else:
            np.testing.assert_array_equal(getattr(first, key), getattr(second, key))
            assert getattr(second, key).dtype == np.int64
    for split in ("train", "valid", "test"):
        a, b = first.split(split), second.split(split)
        for field in ("x", "z", "a"):
            if getattr(a, field) is None:
                assert getattr(b, field) is None
            else:
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
                assert getattr(b, field).dtype == np.float32


def test_round_trip(bench, tmp_path):
    path = save_benchmark(bench, tmp_path / "bench.npz")
    assert path == tmp_path / "bench.npz" and path.is_file()
    assert_same(bench, load_benchmark_file(path))
    assert_same(bench, load_benchmark_file(str(path)))
    assert [p.name for p in tmp_path.iterdir()] == ["bench.npz"]  # no temporary file left


def test_documented_keys(bench, tmp_path):
    path = save_benchmark(bench, tmp_path / "bench.npz")
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
    expected = {f"{k}_{s}" for k in ("x", "z") for s in ("train", "valid", "test")} | {"meta"}
    if bench.train.a is not None:
        expected |= {f"a_{s}" for s in ("train", "valid", "test")}
    expected |= {k for k in ("graph_z", "graph_a") if getattr(bench, k) is not None}
    assert keys == expected


def test_save_overwrites_atomically(bench, tmp_path, monkeypatch):
    path = save_benchmark(bench, tmp_path / "bench.npz")
    before = path.read_bytes()

    def failing_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(bench_io.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save_benchmark(bench, path)
    assert path.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["bench.npz"]  # temp file removed


def test_save_to_missing_directory(bench, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_benchmark(bench, tmp_path / "missing" / "bench.npz")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="must be a Benchmark"):
        save_benchmark({"x": 1}, tmp_path / "bench.npz")


def test_load_errors(bench, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_benchmark_file(tmp_path / "nope.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        load_benchmark_file(garbage)
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match=r"not a \.npz benchmark archive"):
        load_benchmark_file(npy)
    good = save_benchmark(bench, tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"truncated\.npz"):
        load_benchmark_file(truncated)
    corrupt = tmp_path / "corrupt.npz"
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 3 : len(raw) // 3 + 64] = bytes(64)  # damage the x_train payload
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt benchmark file"):
        load_benchmark_file(corrupt)
    partial = tmp_path / "partial.npz"
    with np.load(good, allow_pickle=False) as archive:
        kept = {k: archive[k] for k in archive.files if k != "x_valid"}
    np.savez(partial, **kept)
    with pytest.raises(ValueError, match="'x_valid' is missing"):
        load_benchmark_file(partial)
    no_meta = tmp_path / "no_meta.npz"
    np.savez(no_meta, x_train=np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="'meta' is missing"):
        load_benchmark_file(no_meta)
