"""`compare`: every method × seed on one benchmark, reused and resumed, with clear errors."""

import csv
import json

import pytest

from mechsparse.baselines import MethodNotApplicable
from mechsparse.cli import main
from mechsparse.compare import compare

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
    "optim.max_steps": 60,
    "optim.eval_every": 30,
    "optim.checkpoint_every": 30,
    "optim.eval_frames": 500,
    "optim.device": "cpu",
}


def run_compare(out, methods="supervised,random,mechanism_sparsity", **kwargs):
    return compare(
        "action_sparsity_non_trivial",
        out=out,
        methods=methods,
        seeds=kwargs.pop("seeds", 2),
        overrides={**SMALL, **kwargs.pop("overrides", {})},
        progress=False,
        **kwargs,
    )


def test_compare_writes_ranked_tables_and_figure(tmp_path):
    result = run_compare(tmp_path / "cmp")
    out = tmp_path / "cmp"
    for name in ("comparison.md", "comparison.csv", "comparison_runs.csv", "comparison.png"):
        assert (out / name).is_file(), name
    ranked = [row["method"] for row in result.summary]
    assert ranked[0] == "supervised" and ranked[-1] == "random"
    with open(out / "comparison.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == ranked
    assert all(r["seeds"] == "2" for r in rows)
    with open(out / "comparison_runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert len(runs) == 6
    # SHD only where a graph is learned
    shd = {r["method"]: r["shd"] for r in runs}
    assert shd["mechanism_sparsity"] != "" and shd["supervised"] == "" and shd["random"] == ""
    md = (out / "comparison.md").read_text()
    assert "| 1 | supervised |" in md and "edges = true" in md
    for method in ("supervised", "random", "mechanism_sparsity"):
        final = json.loads((out / "runs" / f"{method}__seed1" / "final.json").read_text())
        assert final["method"] == (
            "mechanism_sparsity" if method != "supervised" and method != "random" else method
        )


def test_compare_reuses_finished_runs_and_resumes_interrupted_ones(tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    first = run_compare(out, methods="beta_vae,none", seeds=1)
    # an interrupted run: its checkpoint at step 30 survives, its final.json does not
    interrupted = out / "runs" / "beta_vae__seed0"
    (interrupted / "final.json").unlink()
    import mechsparse.train

    calls = []
    original = mechsparse.train.train

    def counting_train(config, out_dir, *, resume=False, **kwargs):
        calls.append((config.method, resume))
        return original(config, out_dir, resume=resume, **kwargs)

    monkeypatch.setattr(mechsparse.train, "train", counting_train)
    finished = out / "runs" / "none__seed0"
    kept = ("final.json", "metrics.jsonl", "z_hat.npz")
    before = {name: (finished / name).stat().st_mtime_ns for name in kept}
    second = run_compare(out, methods="beta_vae,none", seeds=1)
    assert calls == [("beta_vae", True), ("mechanism_sparsity", True)]  # both resumed (none) ...
    after = {name: (finished / name).stat().st_mtime_ns for name in kept}
    assert after == before  # ... but the finished `none` run was not retrained or rewritten

    def scores(runs):
        return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in runs]

    assert scores(second.runs) == scores(first.runs)  # the resumed run ends where it would have


def test_compare_reports_failed_runs_after_finishing_the_others(tmp_path):
    out = tmp_path / "cmp"
    run_compare(out, methods="random", seeds=1)
    # same directory, other settings: that run fails (it is not silently reused), the new seed
    # still trains, and the error names the run and the differing field
    with pytest.raises(RuntimeError, match=r"1 of 2 run\(s\) failed.*random__seed0.*encoder_width"):
        run_compare(out, methods="random", seeds=2, overrides={"model.encoder_width": 48})
    assert (out / "runs" / "random__seed1" / "final.json").is_file()


@pytest.mark.parametrize(
    ("methods", "error", "match"),
    [
        ("", ValueError, "empty"),
        ("supervised,vae_xyz", ValueError, "unknown method"),
        ("pcl", MethodNotApplicable, "T ≥ 2"),
        ("random,random", ValueError, "more than once"),
    ],
)
def test_compare_rejects_bad_method_lists_before_training(tmp_path, methods, error, match):
    with pytest.raises(error, match=match):
        run_compare(tmp_path / "cmp", methods=methods)
    assert not (tmp_path / "cmp").exists()


def test_all_selects_the_methods_that_apply(tmp_path):
    from mechsparse.compare import data_spec, resolve_methods
    from mechsparse.train import preset

    action = data_spec(preset("fast").updated({"data.benchmark": "action_sparsity_non_trivial"}))
    temporal = data_spec(preset("fast").updated({"data.benchmark": "temporal_sparsity_trivial"}))
    regimes = data_spec(preset("fast").updated({"data.benchmark": "interventions_unknown_targets"}))
    assert "pcl" not in resolve_methods("all", action)
    assert "tcl" not in resolve_methods("all", action)
    assert {"pcl", "slowvae", "ivae"} <= set(resolve_methods("all", temporal))
    assert "tcl" in resolve_methods("all", regimes)
    assert resolve_methods("all", action)[:2] == ["mechanism_sparsity", "none"]


def test_compare_cli_errors_are_clear(tmp_path, capsys):
    status = main(
        [
            "compare",
            "--benchmark",
            "temporal_sparsity_trivial",
            "--methods",
            "tcl",
            "--out",
            str(tmp_path / "cmp"),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "mechsparse compare: error" in err and "discrete regimes" in err
    assert (
        main(
            [
                "compare",
                "--benchmark",
                "action_sparsity_trivial",
                "--seeds",
                "0",
                "--out",
                str(tmp_path / "c2"),
            ]
        )
        == 2
    )
    assert "seeds" in capsys.readouterr().err


def test_compare_cli_set_reaches_every_run(tmp_path, capsys):
    from mechsparse.train import load_config

    out = tmp_path / "cmp"
    sets = [arg for key, value in SMALL.items() for arg in ("--set", f"{key}={value}")]
    argv = ["compare", "--benchmark", "action_sparsity_non_trivial", "--methods", "beta_vae,random"]
    status = main(
        [
            *argv,
            "--seeds",
            "1",
            "--no-progress",
            "--out",
            str(out),
            *sets,
            "--set",
            "baseline.beta=4",
        ]
    )
    assert status == 0
    assert "| beta_vae |" in capsys.readouterr().out
    for method in ("beta_vae", "random"):
        config = load_config(out / "runs" / f"{method}__seed0" / "config.yaml")
        assert config.baseline.beta == 4.0 and config.model.encoder_width == 32


def test_summary_uses_the_sample_std_over_seeds():
    from mechsparse.compare import summarize

    def row(method, mcc):
        return {"method": method, "mcc": mcc, "linear_r": mcc, "consistent_r": mcc, "shd": None,
                "wall_time_s": 1.0, "steps": 10}  # fmt: skip

    summary = summarize([row("a", 0.8), row("a", 0.9), row("a", 1.0), row("b", 0.5)])
    assert [e["method"] for e in summary] == ["a", "b"]
    assert summary[0]["mcc_std"] == pytest.approx(0.1)  # ddof 1, as in mechsparse sweep
    # one seed has no spread: no std (shown as the mean alone), as in mechsparse sweep
    assert summary[1]["mcc_std"] is None and summary[1]["shd_mean"] is None
    from mechsparse.compare import comparison_markdown
    from mechsparse.train.config import preset

    table = comparison_markdown(summary, preset("fast"), edges="true", seeds=3)
    assert "| a | 0.900 ± 0.100 |" in table and "| b | 0.500 | 0.500 |" in table
