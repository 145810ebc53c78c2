"""A tiny sweep end to end: tables, UDR selection, figure, resuming, failures and `select`."""

import json
import shutil

import pytest

import mechsparse.train
from mechsparse.cli import main
from mechsparse.sweep import select, sweep

from .conftest import read_rows, tiny_spec, write_spec

PREFIX = "action_sparsity_non_trivial__"


def test_sweep_writes_results_summary_selection_and_figure(finished_sweep):
    out = finished_sweep["out"]
    for name in ("results.csv", "summary.md", "selection.json", "sweep.yaml"):
        assert (out / name).is_file(), name
    assert (out / "action_sparsity_non_trivial.png").stat().st_size > 10_000
    rows = read_rows(out / "results.csv", drop=())
    assert [r["run"] for r in rows] == [
        PREFIX + "mechanism_sparsity__edges-10__seed0",
        PREFIX + "mechanism_sparsity__edges-10__seed1",
        PREFIX + "mechanism_sparsity__edges-20__seed0",
        PREFIX + "mechanism_sparsity__edges-20__seed1",
        PREFIX + "none__seed0",
        PREFIX + "none__seed1",
    ]
    for row in rows:
        assert row["status"] == "finished" and row["error"] == "" and row["steps"] == "40"
        for key in ("mcc", "linear_r", "consistent_r", "shd_a", "test/nll", "wall_time_s"):
            assert row[key] != "", key
        assert (out / row["run_dir"] / "final.json").is_file()
    assert [r["edges"] for r in rows] == ["10", "10", "20", "20", "", ""]
    summary = finished_sweep["result"].summary
    assert [e["configuration"] for e in summary] == [
        PREFIX + "mechanism_sparsity__edges-10",
        PREFIX + "mechanism_sparsity__edges-20",
        PREFIX + "none",
    ]
    for entry in summary:
        assert entry["finished"] == 2 and 0 < entry["udr_mean"] <= 1 and entry["udr_median"]
    md = (out / "summary.md").read_text()
    assert "## action_sparsity_non_trivial" in md and "True graph: |G^a| = 20 edges." in md
    assert "| method | edges | seeds | MCC |" in md and "**UDR selects**" in md
    assert "**Ground truth (consistent R) selects**" in md
    assert "![action_sparsity_non_trivial](action_sparsity_non_trivial.png)" in md
    selection = finished_sweep["result"].selections[0]
    best = max(summary, key=lambda e: e["udr_mean"])
    assert selection["udr"]["configuration"] == best["configuration"]
    assert f"UDR {best['udr_mean']:.3f}" in md


def test_select_prints_the_udr_choice_and_its_run(finished_sweep, capsys):
    out = finished_sweep["out"]
    chosen = select(out)[0]
    assert chosen["benchmark"] == "action_sparsity_non_trivial"
    run_dir = chosen["udr"]["run_dir"]
    assert (out / "runs").as_posix() in run_dir and json.loads(open(f"{run_dir}/final.json").read())
    assert main(["select", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "UDR selects" in printed and run_dir in printed
    assert f"{chosen['udr']['udr_mean']:.3f}" in printed
    assert main(["select", str(out / "runs")]) == 2
    assert "is not a sweep directory" in capsys.readouterr().err


def test_rerun_resumes_only_what_is_missing_and_gives_the_same_table(
    finished_sweep, sweep_copy, monkeypatch
):
    before = read_rows(sweep_copy / "results.csv")
    resumed = sweep_copy / "runs" / (PREFIX + "none__seed1")
    restarted = sweep_copy / "runs" / (PREFIX + "mechanism_sparsity__edges-20__seed0")
    (resumed / "final.json").unlink()  # interrupted after its last checkpoint
    (restarted / "final.json").unlink()  # interrupted before its first checkpoint
    shutil.rmtree(restarted / "checkpoints")
    calls = []
    original = mechsparse.train.train

    def counting_train(config, out_dir, *, resume=False, **kwargs):
        calls.append((str(out_dir), resume))
        return original(config, out_dir, resume=resume, **kwargs)

    monkeypatch.setattr(mechsparse.train, "train", counting_train)
    result = sweep(finished_sweep["spec"], sweep_copy, log=None)
    assert sorted(calls) == sorted(
        [(str(restarted.resolve()), True), (str(resumed.resolve()), True)]
    )
    assert sorted(result.trained) == sorted([restarted.name, resumed.name])
    assert read_rows(sweep_copy / "results.csv") == before
    calls.clear()
    again = sweep(finished_sweep["spec"], sweep_copy, log=None)  # nothing left to do
    assert calls == [] and again.trained == [] and not again.failed
    assert read_rows(sweep_copy / "results.csv") == before


def test_a_failed_run_is_recorded_and_the_others_go_on(
    finished_sweep, sweep_copy, tmp_path, capsys
):
    # a bound larger than the 100 possible edges passes the spec check but fails in training
    spec = write_spec(tmp_path / "spec.yaml", tiny_spec(grid={"edges": [10, 20, 1000]}))
    status = main(["sweep", str(spec), "--out", str(sweep_copy)])
    captured = capsys.readouterr()
    assert status == 1
    assert "6 already finished, 2 to run" in captured.out
    assert "2 run(s) failed" in captured.err
    rows = {r["run"]: r for r in read_rows(sweep_copy / "results.csv")}
    failed = [r for r in rows.values() if r["status"] == "failed"]
    assert sorted(r["run"] for r in failed) == [
        PREFIX + "mechanism_sparsity__edges-1000__seed0",
        PREFIX + "mechanism_sparsity__edges-1000__seed1",
    ]
    for row in failed:
        assert "ValueError" in row["error"] and "between 0 and 100" in row["error"]
        assert row["mcc"] == ""
    before = {r["run"]: r for r in read_rows(finished_sweep["out"] / "results.csv")}
    for name, row in before.items():
        assert rows[name] == row
    md = (sweep_copy / "summary.md").read_text()
    assert "2 failed" in md and "| mechanism_sparsity | 1000 | 0/2 | – |" in md


@pytest.mark.parametrize("grid", [{"coef": [1.0, 8.0]}, {"optim.lr": [0.002]}])
def test_figure_for_penalty_and_non_sparsity_grids(tmp_path, grid):
    from mechsparse.sweep.aggregate import results_rows, summarize
    from mechsparse.sweep.figures import plot_sweep_benchmark, sparsity_axis
    from mechsparse.sweep.spec import expand, parse_spec

    runs = expand(parse_spec(tiny_spec(grid=grid)))
    rows = results_rows(runs, tmp_path)
    summary = summarize(runs, rows, tmp_path)
    for i, entry in enumerate(summary):  # made-up scores: the figure only draws them
        entry.update(
            mcc_mean=0.5 + 0.1 * i, mcc_std=0.05, consistent_r_mean=0.6, consistent_r_std=None
        )
    fig = plot_sweep_benchmark(
        summary, axis=sparsity_axis(list(grid)), true_edges={"graph_a": 20}, title="t"
    )
    assert len(fig.axes) == 2
    assert all(r["status"] == "pending" for r in rows)


def test_udr_survives_archiving_without_latents(finished_sweep, sweep_copy):
    before = {e["configuration"]: e for e in finished_sweep["result"].summary}
    recorded = json.loads((sweep_copy / "udr.json").read_text())
    assert sorted(recorded) == sorted(before)
    for path in sweep_copy.glob("runs/*/z_hat.npz"):  # an archive keeps configs and finals
        path.unlink()
    after = {
        e["configuration"]: e for e in sweep(finished_sweep["spec"], sweep_copy, log=None).summary
    }
    for name, entry in before.items():
        assert after[name]["udr_mean"] == entry["udr_mean"]
        assert after[name]["udr_median"] == entry["udr_median"]
        assert after[name]["run_dir"] == entry["run_dir"]
    # a run that changed since its UDR was recorded invalidates the record, visibly
    final = sweep_copy / "runs" / (PREFIX + "none__seed0") / "final.json"
    final.write_text(final.read_text().replace('"step"', '"step" ', 1))
    changed = {
        e["configuration"]: e for e in sweep(finished_sweep["spec"], sweep_copy, log=None).summary
    }
    assert changed[PREFIX + "none"]["udr_mean"] is None
    assert "no UDR recorded" in changed[PREFIX + "none"]["udr_note"]
    assert changed[PREFIX + "mechanism_sparsity__edges-10"]["udr_mean"] is not None
