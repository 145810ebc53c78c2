"""The Ray backend on a local instance gives the same runs as the local backend."""

import ray

from mechsparse.sweep import sweep

from .conftest import read_rows, tiny_spec


def test_ray_backend_matches_the_local_backend(finished_sweep, tmp_path):
    # 4 of the finished sweep's 6 runs, on a local Ray instance with 2 CPUs (1 per run)
    spec = tiny_spec(grid={"edges": [10]})
    lines = []
    result = sweep(spec, tmp_path / "out", backend="ray", workers=2, log=lines.append)
    assert not ray.is_initialized()  # the instance it started is stopped again
    assert "local Ray instance, 1 CPU(s) per run, at most 2 run(s) at a time" in lines[0]
    assert len(result.trained) == 4 and not result.failed
    local = {r["run"]: r for r in read_rows(finished_sweep["out"] / "results.csv")}
    rows = read_rows(tmp_path / "out" / "results.csv")
    assert len(rows) == 4
    for row in rows:
        assert row["status"] == "finished"
        assert row == local[row["run"]]  # every score identical; wall time aside
