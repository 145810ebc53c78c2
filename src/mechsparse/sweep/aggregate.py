"""A sweep's tables: every run, every configuration with its UDR, and the selected ones.

Files written to the sweep directory (each atomically):

``results.csv``
    one row per run: run, configuration, benchmark, graph, density, method, the grid values,
    seed, status (``finished``, ``failed`` or ``pending``), error, every final test score of
    the run's ``final.json`` (mcc, linear_r, consistent_r, shd_z/shd_a, …), wall time, steps
    and run directory (relative to the sweep directory).
``summary.md``
    per benchmark, one row per configuration (all parameters but the seed): mean ± sample
    standard deviation (ddof 1) over its finished seeds of MCC, consistent R, linear R and SHD,
    and its UDR (mean and median pairwise MCC between the seeds' test latents); then the
    configuration UDR selects (highest UDR mean) and the one the ground truth would select
    (highest mean consistent R; MCC where consistent R is unknown), with their scores.
``selection.json``
    the same selections, read by :func:`select` (``mechsparse select``).
``udr.json``
    per configuration, its UDR with the runs it compares and a fingerprint of each run's
    final.json. UDR needs the runs' test latents (``z_hat.npz``, megabytes each); with this
    record a sweep can be archived without them (results, configs and final.json only, as in
    ``benchmarks/paper/results``) and still be tabulated and completed: a configuration whose
    latents are gone keeps its recorded UDR while its runs are unchanged.
``<benchmark>.png``
    MCC and consistent R against the swept sparsity level (:mod:`mechsparse.sweep.figures`).

UDR compares only runs on identical data (same benchmark, graph, density, n_samples and
data seed), which the runs of one configuration are by construction; a configuration with
fewer than 2 finished seeds has no UDR. The reference points ``supervised`` (trained on the
true latents) and ``random`` (untrained) are shown but never selected.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mechsparse._atomic import atomic_write_bytes, atomic_write_csv, atomic_write_text
from mechsparse._seed_stats import format_mean_std, mean_std
from mechsparse.sweep.spec import Run, SweepSpec, data_identity, format_value
from mechsparse.train.config import preset

__all__ = [
    "REFERENCE_METHODS",
    "SELECTION_FILE",
    "configuration_label",
    "results_rows",
    "select",
    "select_configurations",
    "summarize",
    "summary_markdown",
    "write_outputs",
]

REFERENCE_METHODS = ("supervised", "random")
"""Methods shown as reference points but never selected (they use the truth or do not train)."""

SELECTION_FILE = "selection.json"
UDR_FILE = "udr.json"
SUMMARY_SCORES = (("mcc", "MCC"), ("consistent_r", "consistent R"), ("linear_r", "linear R"))
_SCORE_ORDER = (
    "mcc",
    "mcc_spearman",
    "linear_r",
    "consistent_r",
    "consistent_r2_nonlinear",
    "shd_z",
    "shd_a",
)


def _read_final(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _grid_keys(runs: Sequence[Run]) -> list[str]:
    return list(dict.fromkeys(k for r in runs for k in r.params))


def results_rows(
    runs: Sequence[Run], out: Path, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per run (see ``results.csv`` in the module docstring); ``errors`` maps a run
    name to the error of a run that failed in this invocation."""
    errors = errors or {}
    finals = {r.name: _read_final(out / "runs" / r.name / "final.json") for r in runs}
    score_keys = list(
        dict.fromkeys(k for f in finals.values() if f for k in (f.get("scores") or {}))
    )
    ordered = [k for k in _SCORE_ORDER if k in score_keys]
    ordered += sorted(k for k in score_keys if k not in _SCORE_ORDER)
    grid_keys = _grid_keys(runs)
    rows = []
    for run in runs:
        final = finals[run.name]
        status = "finished" if final else "failed" if run.name in errors else "pending"
        row: dict[str, Any] = {
            "run": run.name,
            "configuration": run.configuration,
            "benchmark": run.benchmark.name,
            "graph": run.benchmark.graph,
            "density": run.benchmark.density,
            "method": run.method,
        }
        row.update({k: run.params.get(k) for k in grid_keys})
        row.update({"seed": run.seed, "status": status, "error": errors.get(run.name)})
        scores = (final or {}).get("scores") or {}
        row.update({k: scores.get(k) for k in ordered})
        row["wall_time_s"] = (final or {}).get("wall_time_s")
        row["steps"] = (final or {}).get("step")
        row["run_dir"] = f"runs/{run.name}"
        rows.append(row)
    return rows


def _shd(row: dict[str, Any]) -> float | None:
    values = [row[k] for k in ("shd_z", "shd_a") if row.get(k) is not None]
    return float(sum(values)) if values else None


def _fingerprint(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def _read_udr_record(out: Path) -> dict[str, Any]:
    try:
        record = json.loads((out / UDR_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _udr(
    configuration: str,
    members: list[tuple[Run, dict[str, Any]]],
    out: Path,
    record: dict[str, Any],
) -> tuple[float | None, float | None, int | None, str | None]:
    """(UDR mean, UDR median, index of the most agreeing seed, note) of a configuration's
    finished runs, from their z_hat.npz, or from ``record`` (udr.json) when the latents are
    gone and the runs are the ones recorded. A computed UDR is added to ``record``."""
    from mechsparse.metrics import udr

    if len(members) < 2:
        return None, None, None, "fewer than 2 finished seeds"
    if len({data_identity(run.config) for run, _ in members}) > 1:  # pragma: no cover
        return None, None, None, "runs on different data"
    run_dirs = [out / "runs" / run.name for run, _ in members]
    names = [run.name for run, _ in members]
    prints = [_fingerprint(d / "final.json") for d in run_dirs]
    if not all((d / "z_hat.npz").is_file() for d in run_dirs):
        kept = record.get(configuration)
        if isinstance(kept, dict) and kept.get("runs") == names and kept.get("final") == prints:
            return kept["mean"], kept["median"], kept["best"], None
        return None, None, None, "z_hat.npz missing and no UDR recorded for these runs"
    z_hats, truths = [], []
    try:
        for d in run_dirs:
            with np.load(d / "z_hat.npz") as saved:
                z_hats.append(saved["z_hat"])
                truths.append(saved["z"] if "z" in saved.files else None)
    except (OSError, KeyError, ValueError) as err:
        return None, None, None, f"z_hat.npz unreadable ({err})"
    if truths[0] is not None and not all(
        t is not None and np.array_equal(t, truths[0]) for t in truths
    ):
        return None, None, None, "runs on different data"
    result = udr(z_hats)
    k = result.pairwise.shape[0]
    agreement = (result.pairwise.sum(axis=1) - 1.0) / (k - 1)  # mean MCC with the other seeds
    best = int(np.argmax(agreement))
    record[configuration] = {
        "runs": names,
        "final": prints,
        "mean": result.mean,
        "median": result.median,
        "best": best,
    }
    return result.mean, result.median, best, None


def summarize(
    runs: Sequence[Run],
    rows: Sequence[dict[str, Any]],
    out: Path,
    udr_record: dict[str, Any] | None = None,
) -> list[dict]:
    """One entry per configuration, in sweep order.

    ``udr_record`` is the content of udr.json (read from ``out`` when None); UDRs computed
    here are added to it.

    Each entry: ``configuration``, ``benchmark`` (label), ``method``, ``params``, ``seeds``
    (runs), ``finished``, ``<score>_mean`` / ``<score>_std`` for mcc, consistent_r,
    linear_r and shd (std None with one seed), ``udr_mean``, ``udr_median`` (None with fewer
    than 2 finished seeds), ``udr_note`` (why there is no UDR), ``seed`` and ``run_dir`` of
    the representative run (the seed that agrees most with the others; otherwise the lowest
    finished seed, or seed 0).
    """
    by_name = {row["run"]: row for row in rows}
    record = _read_udr_record(out) if udr_record is None else udr_record
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.configuration, []).append(run)
    summary = []
    for configuration, members in groups.items():
        first = members[0]
        finished = [
            (r, by_name[r.name]) for r in members if by_name[r.name]["status"] == "finished"
        ]
        entry: dict[str, Any] = {
            "configuration": configuration,
            "benchmark": first.benchmark.label,
            "method": first.method,
            "params": dict(first.params),
            "seeds": len(members),
            "finished": len(finished),
        }
        for key, _ in SUMMARY_SCORES:
            values = [row[key] for _, row in finished if row.get(key) is not None]
            entry[f"{key}_mean"], entry[f"{key}_std"] = mean_std(values)
        shd = [v for _, row in finished if (v := _shd(row)) is not None]
        entry["shd_mean"], entry["shd_std"] = mean_std(shd)
        entry["udr_mean"], entry["udr_median"], best, entry["udr_note"] = _udr(
            configuration, finished, out, record
        )
        if best is not None:
            representative = finished[best][0]
        elif finished:
            representative = finished[0][0]
        else:
            representative = members[0]
        entry["seed"] = representative.seed
        entry["run_dir"] = f"runs/{representative.name}"
        summary.append(entry)
    return summary


def configuration_label(entry: dict[str, Any]) -> str:
    """``mechanism_sparsity, edges 10`` — a configuration in words."""
    params = ", ".join(f"{k} {format_value(v)}" for k, v in entry["params"].items())
    return entry["method"] + (f", {params}" if params else "")


def _best(entries: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    scored = [e for e in entries if e.get(key) is not None]
    return max(scored, key=lambda e: e[key]) if scored else None  # first of equal ones


def select_configurations(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per benchmark: the configuration UDR selects and the one the ground truth would select.

    Returns one dict per benchmark label with ``benchmark``, ``udr`` (the configuration
    entry with the highest UDR mean, or None), ``truth`` (highest mean consistent R, or MCC
    when a candidate lacks consistent R; None without finished runs) and ``criterion``.
    ``supervised`` and ``random`` are not candidates.
    """
    labels = list(dict.fromkeys(e["benchmark"] for e in summary))
    out = []
    for label in labels:
        candidates = [
            e
            for e in summary
            if e["benchmark"] == label and e["method"] not in REFERENCE_METHODS and e["finished"]
        ]
        criterion = (
            "consistent_r"
            if candidates and all(e["consistent_r_mean"] is not None for e in candidates)
            else "mcc"
        )
        out.append(
            {
                "benchmark": label,
                "udr": _best(candidates, "udr_mean"),
                "truth": _best(candidates, f"{criterion}_mean"),
                "criterion": criterion,
            }
        )
    return out


def _cell(entry: dict[str, Any], key: str, digits: int = 3) -> str:
    return format_mean_std(entry.get(f"{key}_mean"), entry.get(f"{key}_std"), digits)


def _scores_text(entry: dict[str, Any]) -> str:
    parts = [f"{label} {_cell(entry, key)}" for key, label in SUMMARY_SCORES]
    if entry.get("shd_mean") is not None:
        parts.append(f"SHD {_cell(entry, 'shd', 1)}")
    return ", ".join(parts)


def true_edges(run: Run) -> dict[str, int]:
    """The true edge counts of the graphs a run's model learns: ``graph_z`` (T ≥ 2) and
    ``graph_a`` (with auxiliary variables), from the benchmark's generator."""
    from mechsparse.data import load_benchmark

    d = run.config.data
    bench = load_benchmark(
        d.benchmark, n_samples=100, seed=d.data_seed, graph=d.graph, density=d.density
    )
    counts = {}
    if bench.T >= 2 and bench.graph_z is not None:
        counts["graph_z"] = int(np.asarray(bench.graph_z).sum())
    if bench.d_a and bench.graph_a is not None:
        counts["graph_a"] = int(np.asarray(bench.graph_a).sum())
    return counts


def summary_markdown(
    spec: SweepSpec,
    rows: Sequence[dict[str, Any]],
    summary: Sequence[dict[str, Any]],
    selections: Sequence[dict[str, Any]],
    truths: dict[str, dict[str, int]],
    figures: dict[str, str],
) -> str:
    """The Markdown of ``summary.md`` (see the module docstring)."""
    statuses = [row["status"] for row in rows]
    steps = spec.max_steps if spec.max_steps is not None else preset(spec.preset).optim.max_steps
    budget_text = f"{steps} steps"
    if spec.max_minutes is not None:
        budget_text += f" or {format_value(spec.max_minutes)} min"
    lines = [
        "# Sweep summary",
        "",
        ("Spec" if spec.source is None else f"Spec `{spec.source}`")
        + f": preset `{spec.preset}`, {spec.seeds} seed(s) per configuration, "
        f"budget {budget_text} per run, {spec.threads} thread(s) per run.",
        f"Runs: {len(rows)} ({statuses.count('finished')} finished, "
        f"{statuses.count('failed')} failed, {statuses.count('pending')} pending)"
        + (
            "; the errors of failed runs are in results.csv, and running the same command "
            "again retries them."
            if statuses.count("failed") or statuses.count("pending")
            else "."
        ),
        "",
        "Test-split scores: mean ± sample std (ddof 1) over the finished seeds of each "
        "configuration. UDR: mean and median pairwise MCC between the test latents of those "
        "seeds, which see identical data (configurations with fewer than 2 finished seeds "
        "have none). UDR selects the configuration with the highest UDR mean, without "
        "ground truth; the ground truth would select the highest mean consistent R (MCC "
        "where it is unknown). `supervised` and `random` are reference points, never selected.",
    ]
    grid_keys = list(dict.fromkeys(k for e in summary for k in e["params"]))
    for selection in selections:
        label = selection["benchmark"]
        entries = [e for e in summary if e["benchmark"] == label]
        lines += ["", f"## {label}", ""]
        counts = truths.get(label) or {}
        if counts:
            names = {"graph_z": "|G^z|", "graph_a": "|G^a|"}
            lines += [
                "True graph: "
                + ", ".join(f"{names[g]} = {n} edges" for g, n in counts.items())
                + ".",
                "",
            ]
        keys = [k for k in grid_keys if any(k in e["params"] for e in entries)]
        head = ["method", *keys, "seeds", "MCC", "consistent R", "linear R", "SHD"]
        head += ["UDR mean", "UDR median", "selected"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" for _ in head) + "|")
        for e in entries:
            chosen = [
                name
                for name, key in (("UDR", "udr"), ("truth", "truth"))
                if selection[key] is not None
                and selection[key]["configuration"] == e["configuration"]
            ]
            udr_mean = "–" if e["udr_mean"] is None else f"{e['udr_mean']:.3f}"
            udr_median = "–" if e["udr_median"] is None else f"{e['udr_median']:.3f}"
            cells = [e["method"]]
            cells += [format_value(e["params"][k]) if k in e["params"] else "" for k in keys]
            cells += [
                f"{e['finished']}/{e['seeds']}",
                _cell(e, "mcc"),
                _cell(e, "consistent_r"),
                _cell(e, "linear_r"),
                _cell(e, "shd", 1),
                udr_mean,
                udr_median,
                ", ".join(chosen),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        udr_choice = selection["udr"]
        if udr_choice is None:
            lines.append("**UDR selects**: nothing yet (no configuration has 2 finished seeds).")
        else:
            lines.append(
                f"**UDR selects** {configuration_label(udr_choice)}: UDR "
                f"{udr_choice['udr_mean']:.3f} (median {udr_choice['udr_median']:.3f}); "
                f"{_scores_text(udr_choice)}; run `{udr_choice['run_dir']}`."
            )
        truth = selection["truth"]
        criterion = "consistent R" if selection["criterion"] == "consistent_r" else "MCC"
        if truth is not None:
            lines.append("")
            lines.append(
                f"**Ground truth ({criterion}) selects** {configuration_label(truth)}: "
                f"{_scores_text(truth)}."
            )
        if label in figures:
            lines += ["", f"![{label}]({figures[label]})"]
    return "\n".join(lines) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_outputs(
    out: Path, spec: SweepSpec, runs: Sequence[Run], errors: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Write results.csv, summary.md, selection.json, udr.json and one figure per benchmark.

    Returns:
        (rows of results.csv, configuration summary, selections per benchmark).
    """
    from mechsparse.report.figures import png_bytes
    from mechsparse.sweep.figures import plot_sweep_benchmark, sparsity_axis

    rows = results_rows(runs, out, errors)
    udr_record = _read_udr_record(out)
    summary = summarize(runs, rows, out, udr_record)
    configurations = {run.configuration for run in runs}
    udr_record = {k: v for k, v in sorted(udr_record.items()) if k in configurations}
    atomic_write_text(out / UDR_FILE, json.dumps(_finite(udr_record), indent=2) + "\n")
    selections = select_configurations(summary)
    first_run: dict[str, Run] = {}
    for run in runs:
        first_run.setdefault(run.benchmark.label, run)
    truths = {label: true_edges(run) for label, run in first_run.items()}
    axis = sparsity_axis(list(spec.grid))
    figures: dict[str, str] = {}
    for selection in selections:
        label = selection["benchmark"]
        entries = [e for e in summary if e["benchmark"] == label and e["finished"]]
        if not entries:
            continue
        fig = plot_sweep_benchmark(entries, axis=axis, true_edges=truths[label], title=label)
        figures[label] = f"{label}.png"
        atomic_write_bytes(out / figures[label], png_bytes(fig))
    atomic_write_csv(out / "results.csv", rows)
    atomic_write_text(
        out / "summary.md", summary_markdown(spec, rows, summary, selections, truths, figures)
    )
    unfinished = {
        label: sum(
            1
            for r, row in zip(runs, rows, strict=True)
            if r.benchmark.label == label and row["status"] != "finished"
        )
        for label in first_run
    }
    payload = {
        "spec": spec.source,
        "benchmarks": [
            {
                "benchmark": s["benchmark"],
                "unfinished_runs": unfinished[s["benchmark"]],
                "criterion": s["criterion"],
                "udr": s["udr"],
                "truth": s["truth"],
            }
            for s in selections
        ],
    }
    atomic_write_text(out / SELECTION_FILE, json.dumps(_finite(payload), indent=2) + "\n")
    return rows, summary, selections


def select(out: str | Path) -> list[dict[str, Any]]:
    """The UDR selection of a sweep directory, per benchmark (as written by the sweep).

    Returns:
        One dict per benchmark: ``benchmark``, ``unfinished_runs``, ``criterion``, ``udr``
        (the selected configuration's summary entry, with ``run_dir`` made a full path, or
        None when no configuration has 2 finished seeds) and ``truth`` (the ground truth's
        choice, for comparison).

    Raises:
        FileNotFoundError: ``out`` is not a sweep directory (no selection.json).
    """
    out = Path(out)
    path = out / SELECTION_FILE
    if not out.is_dir():
        raise FileNotFoundError(f"sweep directory {str(out)!r} does not exist.")
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(out)!r} is not a sweep directory ({SELECTION_FILE} is missing); run "
            f"`mechsparse sweep SPEC.yaml --out {out}` first."
        )
    benchmarks = json.loads(path.read_text())["benchmarks"]
    for item in benchmarks:
        for key in ("udr", "truth"):
            if item[key] is not None:
                item[key]["run_dir"] = str(out / item[key]["run_dir"])
    return benchmarks
