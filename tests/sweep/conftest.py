"""A tiny sweep spec and one finished sweep shared by the sweep tests (session scope)."""

import csv
import shutil

import pytest
import yaml

from mechsparse.sweep import sweep

# a ~1 s run: 3,000 examples, narrow networks, 40 steps, one thread
SMALL = {
    "data.n_samples": 3_000,
    "model.encoder_width": 32,
    "model.encoder_depth": 2,
    "model.decoder_width": 32,
    "model.decoder_depth": 2,
    "model.prior_width": 16,
    "model.prior_depth": 1,
    "regularizer.schedule_steps": 20,
    "regularizer.coef_warmup_steps": 20,
    "optim.batch_size": 64,
    "optim.eval_every": 20,
    "optim.checkpoint_every": 20,
    "optim.eval_frames": 500,
    "optim.device": "cpu",
}


def tiny_spec(**changes):
    """6 runs: action_sparsity_non_trivial × (edges 10, edges 20, none) × 2 seeds."""
    spec = {
        "benchmarks": ["action_sparsity_non_trivial"],
        "methods": ["mechanism_sparsity", "none"],
        "grid": {"edges": [10, 20]},
        "seeds": 2,
        "preset": "fast",
        "max_steps": 40,
        "overrides": dict(SMALL),
        "threads": 1,
    }
    spec.update(changes)
    return spec


def write_spec(path, spec):
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def read_rows(path, drop=("wall_time_s",)):
    """results.csv as a list of dicts, without the columns that change between runs."""
    with open(path) as f:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(f)]


@pytest.fixture(scope="session")
def finished_sweep(tmp_path_factory):
    """The tiny sweep, trained once by the local backend with 2 worker processes."""
    root = tmp_path_factory.mktemp("sweep")
    spec = write_spec(root / "spec.yaml", tiny_spec())
    result = sweep(spec, root / "out", workers=2, log=None)
    return {"spec": spec, "out": root / "out", "result": result}


@pytest.fixture
def sweep_copy(finished_sweep, tmp_path):
    """A private copy of the finished sweep directory, free to modify."""
    out = tmp_path / "out"
    shutil.copytree(finished_sweep["out"], out)
    return out
