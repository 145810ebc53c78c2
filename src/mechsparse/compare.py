"""Rank methods on one benchmark: every method × seed with the same data, sizes and budget.

``compare(benchmark, methods=..., seeds=..., out=...)`` trains (or reuses) one run directory per
method and seed under ``OUT/runs/<method>__seed<s>`` and writes

* ``comparison.csv``: per method, mean and standard deviation over seeds of MCC, linear R,
  consistent R, SHD (methods that learn a graph), wall time and steps;
* ``comparison_runs.csv``: the same scores for every run;
* ``comparison.md``: the per-method table as Markdown, ranked by consistent R (MCC when the
  benchmark has no entanglement graph), with the exact settings;
* ``comparison.png``: MCC and consistent R per method, one point per seed.

A finished run (its ``final.json`` present) is reused, an interrupted one resumed from its last
checkpoint, so running the same command again after a crash does only what is missing. The runs
are trained by the sweep's local backend (:class:`mechsparse.sweep.backends.LocalBackend`): a
failed run (or a run directory holding a run with other settings) does not stop the others, and
``compare`` raises one error naming every failed run once the rest are done.

Methods: ``mechanism_sparsity`` (the constraint at ``edges``, default the true edge count),
``none`` (the same VAE with its masks frozen fully connected) and every baseline of
:mod:`mechsparse.baselines`. ``all`` selects every method applicable to the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mechsparse._atomic import atomic_write_bytes, atomic_write_csv, atomic_write_text
from mechsparse._seed_stats import format_mean_std, mean_std
from mechsparse.baselines import BASELINES, DataSpec
from mechsparse.sweep.backends import LocalBackend
from mechsparse.train.config import OWN_METHOD, Config, preset
from mechsparse.train.run_dir import RunDir

__all__ = ["METHODS", "ComparisonResult", "compare", "data_spec", "resolve_methods"]

METHODS = (OWN_METHOD, "none", *BASELINES)
"""Every method ``compare`` knows, in the order of its tables."""

_SCORES = ("mcc", "linear_r", "consistent_r", "shd")


@dataclass(frozen=True)
class ComparisonResult:
    """What :func:`compare` returns.

    Attributes:
        out: the output directory.
        runs: one dict per run (method, seed, scores, wall time, steps, run directory).
        summary: one dict per method with ``<score>_mean`` and ``<score>_std``, ranked.
    """

    out: Path
    runs: list[dict[str, Any]]
    summary: list[dict[str, Any]]


def data_spec(config: Config) -> DataSpec:
    """The data a run of ``config`` sees, without generating it (from the benchmark's sizes)."""
    from mechsparse.data import load_benchmark

    d = config.data
    small = load_benchmark(
        d.benchmark, n_samples=100, seed=d.data_seed, graph=d.graph, density=d.density
    )
    return DataSpec(
        d_x=small.d_x,
        d_z=config.model.n_latents or small.d_z,
        d_a=small.d_a,
        n_frames=small.T,
        aux_type=small.aux_type,
        n_train=int(d.n_samples * 0.8),
        has_latents=small.train.z is not None,
    )


def resolve_methods(methods: str | Sequence[str], spec: DataSpec) -> list[str]:
    """The methods to run: ``"all"`` (every applicable one) or an explicit list.

    Raises ``ValueError`` for an empty list, an unknown name or a duplicate, and
    :class:`~mechsparse.baselines.MethodNotApplicable` for a method that cannot handle the data.
    """
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    methods = list(methods)
    if not methods:
        raise ValueError(f"the method list is empty; choose from {list(METHODS)} or 'all'.")
    if methods == ["all"]:
        return [m for m in METHODS if m not in BASELINES or BASELINES[m].unsupported(spec) is None]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {list(METHODS)} or 'all'.")
    duplicates = sorted({m for m in methods if methods.count(m) > 1})
    if duplicates:
        raise ValueError(f"method(s) {duplicates} are listed more than once.")
    for m in methods:
        if m in BASELINES:
            BASELINES[m].check_applicable(spec)
    return methods


def method_config(base: Config, method: str, seed: int, edges: int | str) -> Config:
    """The config of one run: ``base`` with the method, its regulariser and the seed."""
    overrides: dict[str, Any] = {"seed": seed}
    if method == OWN_METHOD:
        overrides.update(
            {
                "method": OWN_METHOD,
                "regularizer.kind": "constraint",
                "regularizer.edges_z": edges,
                "regularizer.edges_a": edges,
            }
        )
    elif method == "none":
        overrides.update({"method": OWN_METHOD, "regularizer.kind": "none"})
    else:
        overrides["method"] = method
    return base.updated(overrides).validate()


def compare(
    benchmark: str,
    *,
    out: str | Path,
    methods: str | Sequence[str] = "all",
    seeds: int = 3,
    graph: str | None = None,
    density: float | None = None,
    edges: int | str = "true",
    preset_name: str = "fast",
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> ComparisonResult:
    """Run every method × seed on one benchmark and write the comparison files to ``out``.

    Args:
        benchmark: benchmark name (``mechsparse.data.list_benchmarks()``).
        out: output directory (runs in ``out/runs``; created if needed; its finished runs
            are reused).
        methods: ``"all"`` or a list (or comma-separated string) of :data:`METHODS`.
        seeds: training seeds 0 … seeds−1 per method (the data are the same for all).
        graph: named ground-truth graph; density: random-graph density.
        edges: constraint bound of ``mechanism_sparsity`` (``"true"``: the true edge count).
        preset_name: ``fast`` or ``paper``.
        overrides: further config overrides (dotted keys) applied to every run, e.g.
            ``{"optim.max_steps": 5000}``.
        workers: runs trained in parallel (one process each); set ``optim.n_threads`` so that
            workers × threads does not exceed the cores.
        progress: show each run's progress bar.
    """
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be an integer ≥ 1; got {seeds!r}.")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an integer ≥ 1; got {workers!r}.")
    data_overrides = {"data.benchmark": benchmark, "data.graph": graph, "data.density": density}
    base = preset(preset_name).updated({k: v for k, v in data_overrides.items() if v is not None})
    base = base.updated(overrides or {}).validate()
    spec = data_spec(base)
    chosen = resolve_methods(methods, spec)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {str(out)!r} exists and is not a directory.")
    jobs = [
        {
            "name": f"{method}__seed{seed}",
            "method": method,
            "seed": seed,
            "config": method_config(base, method, seed, edges).to_dict(),
            "run_dir": str(out / "runs" / f"{method}__seed{seed}"),
            "progress": progress and workers == 1,
        }
        # seed-major, so an interrupted call leaves every method's first seeds finished
        for seed in range(seeds)
        for method in chosen
    ]
    (out / "runs").mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    LocalBackend(workers).run(jobs, lambda record: records.__setitem__(record["name"], record))
    failed = [records[job["name"]] for job in jobs if records[job["name"]]["status"] != "finished"]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(jobs)} run(s) failed (the others are kept and reused when "
            "the same command is run again): "
            + "; ".join(f"{r['name']}: {r['error']}" for r in failed)
        )
    runs = [
        _run_row(job["method"], job["seed"], RunDir(job["run_dir"]).read_final(), job["run_dir"])
        for job in sorted(jobs, key=lambda job: (chosen.index(job["method"]), job["seed"]))
    ]
    summary = summarize(runs)
    _write_outputs(out, base, runs, summary, edges=edges, seeds=seeds)
    return ComparisonResult(out=out, runs=runs, summary=summary)


def _run_row(method: str, seed: int, final: dict[str, Any], run_dir: str) -> dict[str, Any]:
    scores = final.get("scores", {})
    shd = [scores[k] for k in ("shd_z", "shd_a") if scores.get(k) is not None]
    return {
        "method": method,
        "seed": seed,
        "mcc": scores.get("mcc"),
        "linear_r": scores.get("linear_r"),
        "consistent_r": scores.get("consistent_r"),
        "shd": float(sum(shd)) if shd else None,
        "wall_time_s": final.get("wall_time_s"),
        "steps": final.get("step"),
        "run_dir": run_dir,
    }


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per method: number of seeds, mean and sample std (ddof 1, None for a single seed; as in
    ``mechsparse sweep``) of each score, wall time and steps; ranked by consistent R (MCC when
    absent), best first."""
    out = []
    for method in dict.fromkeys(r["method"] for r in runs):
        rows = [r for r in runs if r["method"] == method]
        entry: dict[str, Any] = {"method": method, "seeds": len(rows)}
        for key in (*_SCORES, "wall_time_s", "steps"):
            values = [r[key] for r in rows if r[key] is not None]
            entry[f"{key}_mean"], entry[f"{key}_std"] = mean_std(values)
        out.append(entry)
    rank_key = (
        "consistent_r_mean"
        if all(e["consistent_r_mean"] is not None for e in out)
        else ("mcc_mean")
    )
    return sorted(out, key=lambda e: -(e[rank_key] if e[rank_key] is not None else -math.inf))


def _cell(entry: dict[str, Any], key: str, digits: int = 3) -> str:
    return format_mean_std(entry[f"{key}_mean"], entry[f"{key}_std"], digits)


def comparison_markdown(
    summary: list[dict[str, Any]], base: Config, *, edges: int | str, seeds: int
) -> str:
    """The ranked per-method table with the settings that produced it."""
    d, o = base.data, base.optim
    target = (
        d.benchmark
        + (f", graph {d.graph}" if d.graph else "")
        + (f", density {d.density}" if d.density else "")
    )
    budget = f"{o.max_steps} steps" + (f" or {o.max_minutes} min" if o.max_minutes else "")
    lines = [
        f"# Comparison on {target}",
        "",
        f"Preset `{base.preset}`, {seeds} seed(s) per method (mean ± std over seeds), budget "
        f"{budget} per run, {d.n_samples:,} samples (data seed {d.data_seed}); "
        f"`mechanism_sparsity` constrained at edges = {edges}. Scores on the test split.",
        "",
        "| rank | method | MCC | consistent R | linear R | SHD | wall (s) | steps |",
        "|---:|---|---|---|---|---|---:|---:|",
    ]
    for rank, e in enumerate(summary, start=1):
        lines.append(
            f"| {rank} | {e['method']} | {_cell(e, 'mcc')} | {_cell(e, 'consistent_r')} | "
            f"{_cell(e, 'linear_r')} | {_cell(e, 'shd', 1)} | {_cell(e, 'wall_time_s', 0)} | "
            f"{_cell(e, 'steps', 0)} |"
        )
    return "\n".join(lines) + "\n"


def _write_outputs(
    out: Path,
    base: Config,
    runs: list[dict[str, Any]],
    summary: list[dict[str, Any]],
    *,
    edges: int | str,
    seeds: int,
) -> None:
    from mechsparse.report.figures import plot_method_scores, png_bytes

    atomic_write_csv(out / "comparison.csv", summary)
    atomic_write_csv(out / "comparison_runs.csv", runs)
    atomic_write_text(
        out / "comparison.md", comparison_markdown(summary, base, edges=edges, seeds=seeds)
    )
    fig = plot_method_scores(runs, order=[e["method"] for e in summary])
    atomic_write_bytes(out / "comparison.png", png_bytes(fig))
