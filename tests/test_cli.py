"""The command line: every command end to end on small inputs, and its error messages."""

import json

import numpy as np
import pytest

from mechsparse.cli import DEMO_MAX_STEPS, main
from mechsparse.data import load_benchmark_file
from mechsparse.train import load_config, preset

TINY = [
    "--n-samples", "2000",
    "--max-steps", "30",
    "--device", "cpu",
    "--no-progress",
]  # fmt: skip


def test_datasets_lists_every_benchmark(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "temporal_sparsity_non_trivial" in out and "interventions_unknown_targets" in out
    assert "full disentanglement" in out


def test_generate_writes_a_loadable_file(tmp_path, capsys):
    out = tmp_path / "d.npz"
    assert (
        main(["generate", "temporal_sparsity_trivial", "--n-samples", "500", "--out", str(out)])
        == 0
    )
    b = load_benchmark_file(out)
    assert b.train.x.shape == (400, 2, 20) and b.graph_z.sum() == 10
    assert "saved to" in capsys.readouterr().out
    assert (
        main(["generate", "temporal_sparsity_trivial", "--n-samples", "500", "--out", str(out)])
        == 2
    )
    assert "already exists" in capsys.readouterr().err


def test_theory_from_benchmark_and_files(tmp_path, capsys):
    assert (
        main(
            [
                "theory",
                "--benchmark",
                "action_sparsity_non_trivial",
                "--graph",
                "graph_action_3_easy",
            ]
        )
        == 0
    )
    assert "groups that may stay mixed" in capsys.readouterr().out
    g = tmp_path / "g.csv"
    np.savetxt(g, np.eye(4, dtype=int), delimiter=",", fmt="%d")
    assert main(["theory", "--graph-z", str(g)]) == 0
    assert "full disentanglement is guaranteed" in capsys.readouterr().out
    assert main(["theory"]) == 2
    assert "give --benchmark" in capsys.readouterr().err


def test_train_then_report(tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--benchmark",
        "action_sparsity_trivial",
        "--edges",
        "true",
        "--out",
        str(run),
        *TINY,
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "scores (test split)" in out and "learned G^a" in out and "entanglement graph C" in out
    final = json.loads((run / "final.json").read_text())
    assert final["step"] == 30
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file()
    capsys.readouterr()
    assert main(["graph", str(run), "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 1 + 100  # header + every possible a_j → z_i edge of G^a
    # the same command again refuses to overwrite the run
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--benchmark", "no_such_benchmark"], "no_such_benchmark"),
        (["--benchmark", "action_sparsity_trivial", "--edges", "101"], "between 0 and 100"),
        (["--benchmark", "action_sparsity_trivial", "--density", "1.5"], "density"),
        (["--benchmark", "action_sparsity_trivial", "--set", "optim.bogus=1"], "optim.bogus"),
        (["--benchmark", "action_sparsity_trivial", "--set", "optim.lr"], "KEY=VALUE"),
        (["--benchmark", "action_sparsity_trivial", "--set", "baseline.beta=-1"], "≥ 0"),
    ],
)
def test_train_bad_input_is_a_clear_error(tmp_path, capsys, extra, message):
    assert main(["train", *extra, "--out", str(tmp_path / "r"), *TINY]) == 2
    assert message in capsys.readouterr().err


def test_set_overrides_any_config_field_and_is_saved(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--benchmark", "action_sparsity_trivial", "--out", str(run), *TINY]
    extra = ["--set", "optim.lr=0.002", "model.prior_residual=true", "--max-steps", "5"]
    extra += ["--set", "model.beta=2"]  # several per flag, and the flag repeatable
    assert main([*args, *extra]) == 0
    config = load_config(run / "config.yaml")
    # --set is applied after the flags, and every value is parsed as YAML
    assert config.optim.lr == 0.002 and config.model.prior_residual is True
    assert config.model.beta == 2 and config.optim.max_steps == 5


def test_demo_runs_its_own_budget_unless_told_otherwise(tmp_path, capsys):
    # a time limit of a few milliseconds stops both runs at once; their saved configs record
    # the step budgets
    common = ["--n-samples", "2000", "--device", "cpu", "--no-progress", "--max-minutes", "0.0001"]
    assert main(["demo", "--out", str(tmp_path / "d"), *common]) == 0
    config = load_config(tmp_path / "d" / "config.yaml")
    assert config.optim.max_steps == DEMO_MAX_STEPS
    assert config.data.benchmark == "action_sparsity_non_trivial"
    assert config.optim.max_steps < preset("fast").optim.max_steps
    assert main(["demo", "--out", str(tmp_path / "e"), *common, "--max-steps", "7"]) == 0
    assert load_config(tmp_path / "e" / "config.yaml").optim.max_steps == 7


def test_argument_errors_exit_before_running(tmp_path, capsys):
    for bad in (["--preset", "slow"], ["--edges", "-3"]):
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "train",
                    "--benchmark",
                    "action_sparsity_trivial",
                    "--out",
                    str(tmp_path / "r"),
                    *bad,
                ]
            )
        assert info.value.code == 2
    assert not (tmp_path / "r").exists()
