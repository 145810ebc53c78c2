"""Sweep specs: every invalid input is refused before anything runs; expansion and run names."""

import socket
from pathlib import Path

import pytest

from mechsparse.cli import main
from mechsparse.sweep import BackendUnavailable, SpecError, expand, load_spec, parse_spec, sweep
from mechsparse.sweep.spec import BenchmarkEntry, _configuration_name

from .conftest import tiny_spec, write_spec

PAPER_SPECS = sorted((Path(__file__).parents[2] / "benchmarks" / "paper").glob("*.yaml"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 3}, r"unknown field\(s\) \['epochs'\]"),
        ({"grid": {"optim.learning_rate": [1e-3]}}, "unknown config key 'optim.learning_rate'"),
        ({"overrides": {"model.widht": 8}}, "unknown config key 'model.widht'"),
        ({"benchmarks": ["action_sparsity_mega"]}, "unknown benchmark 'action_sparsity_mega'"),
        ({"methods": ["magic"]}, r"unknown method\(s\) \['magic'\]"),
        ({"grid": {"edges": []}}, "grid key 'edges' has an empty list"),
        ({"seeds": 0}, "field 'seeds' must be an integer ≥ 1; got 0"),
        ({"seeds": True}, "field 'seeds' must be an integer ≥ 1; got True"),
        ({"data": "obs.csv"}, "field 'data' .* not supported yet"),
        ({"grid": {"edges": [5], "coef": [1]}}, "select different regularisers"),
        ({"grid": {"seed": [1, 2]}}, "'seed' is set by the spec's field 'seeds'"),
        ({"overrides": {"optim.max_steps": 5}}, "set by the spec's field 'max_steps'"),
        (
            {"grid": {"optim.lr": [-1]}},
            "run .*optim.lr--1__seed0: config value optim.lr must be > 0",
        ),
        ({"grid": {"optim.lr": ["fast"]}}, "config key 'optim.lr' must be a number"),
        ({"grid": {"edges": [5, 5]}}, r"lists value\(s\) \['5'\] more than once"),
        ({"methods": ["pcl"]}, "pcl.*T ≥ 2"),
        (
            {"benchmarks": [{"name": "action_sparsity_trivial", "graph": "graph_action_3_easy"}]},
            "benchmarks\\[0\\].*fixed ground-truth graph",
        ),
        ({"benchmarks": [{"name": "action_sparsity_non_trivial", "p": 0.2}]}, "unknown key"),
        ({"max_minutes": 0}, "'max_minutes' must be a number > 0"),
        ({"seeds": 101}, "the sweep has 303 runs, more than 200; pass --yes"),
    ],
)
def test_invalid_spec_is_refused_before_anything_is_written(tmp_path, changes, message):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message):
        sweep(tiny_spec(**changes), out, log=None)
    assert not out.exists()


def test_spec_file_errors_and_cli_exit_status(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sweep(tmp_path / "missing.yaml", out, log=None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("benchmarks: [unclosed\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(bad)
    assert main(["sweep", str(bad), "--out", str(out)]) == 2
    assert "is not valid YAML" in capsys.readouterr().err
    spec = write_spec(tmp_path / "s.yaml", tiny_spec(grid={"regularizer.edges": [1]}))
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"sweep spec {str(spec)!r}" in err and "unknown config key 'regularizer.edges'" in err
    big = write_spec(tmp_path / "big.yaml", tiny_spec(seeds=101))
    assert main(["sweep", str(big), "--out", str(out)]) == 2
    assert "303 runs" in capsys.readouterr().err
    assert not out.exists()


def test_bad_backend_options_and_unreachable_ray_address(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="use it with backend 'ray'"):
        sweep(tiny_spec(), out, address="127.0.0.1:6379", log=None)
    with pytest.raises(ValueError, match="workers must be an integer ≥ 1"):
        sweep(tiny_spec(), out, workers=0, log=None)
    with pytest.raises(ValueError, match="unknown backend 'slurm'"):
        sweep(tiny_spec(), out, backend="slurm", log=None)
    with socket.socket() as s:  # a local port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        BackendUnavailable, match=f"cannot reach the Ray cluster at '127.0.0.1:{port}'"
    ):
        sweep(tiny_spec(), out, backend="ray", address=f"127.0.0.1:{port}", log=None)
    with pytest.raises(BackendUnavailable, match="must be HOST:PORT"):
        sweep(tiny_spec(), out, backend="ray", address="headnode", log=None)
    assert not out.exists()


def test_expansion_order_names_and_configs():
    spec = parse_spec(
        tiny_spec(
            grid={"edges": [10, "true"], "optim.lr": [0.002]},
            overrides={"data.n_samples": 3000, "data.data_seed": 4, "regularizer.dual_lr": 0.5},
            max_minutes=2.5,
            threads=2,
        )
    )
    runs = expand(spec)
    prefix = "action_sparsity_non_trivial__"
    assert [r.name for r in runs] == [
        prefix + "mechanism_sparsity__edges-10__optim.lr-0.002__seed0",
        prefix + "mechanism_sparsity__edges-10__optim.lr-0.002__seed1",
        prefix + "mechanism_sparsity__edges-true__optim.lr-0.002__seed0",
        prefix + "mechanism_sparsity__edges-true__optim.lr-0.002__seed1",
        prefix + "none__optim.lr-0.002__seed0",  # a sparsity level means nothing to `none`
        prefix + "none__optim.lr-0.002__seed1",
    ]
    assert runs[0].configuration == prefix + "mechanism_sparsity__edges-10__optim.lr-0.002"
    edges10, none = runs[0].config, runs[4].config
    r = edges10.regularizer
    assert (r.kind, r.edges_z, r.edges_a, r.dual_lr) == ("constraint", 10, 10, 0.5)
    assert runs[2].config.regularizer.edges_a == "true"
    assert none.regularizer.kind == "none" and none.method == "mechanism_sparsity"
    for run in runs:
        c = run.config
        assert (c.seed, c.optim.lr, c.optim.n_threads) == (run.seed, 0.002, 2)
        assert (c.optim.max_steps, c.optim.max_minutes) == (40, 2.5)
        assert (c.data.data_seed, c.data.n_samples, c.preset) == (4, 3000, "fast")
    # deterministic, and independent of the order of the grid keys
    again = parse_spec(
        tiny_spec(
            grid={"optim.lr": [0.002], "edges": [10, "true"]},
            **{"overrides": spec.overrides, "max_minutes": 2.5, "threads": 2},
        )
    )
    assert [r.name for r in expand(again)] == [r.name for r in runs]


def test_shorthands_and_which_methods_a_key_applies_to():
    spec = parse_spec(
        tiny_spec(
            benchmarks=[{"name": "action_sparsity_non_trivial", "density": 0.2}],
            methods=["mechanism_sparsity", "none", "beta_vae"],
            grid={"coef": [0.5, 16.0], "baseline.beta": [1, 4]},
            seeds=1,
        )
    )
    runs = expand(spec)
    names = [r.configuration.split("density-0.2__")[1] for r in runs]
    assert names == [
        "mechanism_sparsity__coef-0.5",
        "mechanism_sparsity__coef-16",
        "none",
        "beta_vae__baseline.beta-1",
        "beta_vae__baseline.beta-4",
    ]
    penalty = runs[1].config.regularizer
    assert (penalty.kind, penalty.coef) == ("penalty", 16.0)
    assert runs[3].config.method == "beta_vae" and runs[4].config.baseline.beta == 4.0
    assert {r.config.data.density for r in runs} == {0.2}


def test_unsafe_or_long_names_get_a_hash():
    entry = BenchmarkEntry("action_sparsity_non_trivial")
    unsafe = _configuration_name(entry, "none", {"x": "a/b c"})
    assert unsafe.startswith("action_sparsity_non_trivial__none__x-a_b_c__h") and "/" not in unsafe
    assert _configuration_name(entry, "none", {"x": "a_b_c"}) != unsafe
    long = _configuration_name(entry, "none", {f"k{i}": 10**9 for i in range(20)})
    assert len(long) <= 150 and long == _configuration_name(
        entry, "none", {f"k{i}": 10**9 for i in range(20)}
    )


@pytest.mark.parametrize("path", PAPER_SPECS, ids=lambda p: p.name)
def test_paper_specs_are_valid(path):
    spec = load_spec(path)
    runs = expand(spec)
    assert spec.preset == "fast" and spec.seeds == 3
    assert 0 < len(runs) <= 200
    assert any(r.method == "none" for r in runs) and any(r.params for r in runs)
    assert len({r.config.data.data_seed for r in runs}) == 1


def test_paper_specs_are_listed_in_their_readme():
    readme = (PAPER_SPECS[0].parent / "README.md").read_text()
    assert len(PAPER_SPECS) == 10
    for path in PAPER_SPECS:
        assert f"mechsparse sweep benchmarks/paper/{path.name}" in readme


def test_ray_and_torch_are_imported_only_when_needed():
    import subprocess
    import sys

    code = (
        "import sys, mechsparse.cli; "
        "assert 'torch' not in sys.modules and 'ray' not in sys.modules; "
        "import mechsparse.sweep; "
        "assert 'ray' not in sys.modules, 'ray imported by the local backend'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
