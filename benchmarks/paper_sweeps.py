"""The paper's sweeps (benchmarks/paper/*.yaml) beside the paper's logged tables.

Runs (or completes) the named sweep specs of ``benchmarks/paper/`` with ``mechsparse sweep``
into ``benchmarks/paper/results/NAME`` (kept in the repository: configs, scores, tables and
figures; see benchmarks/paper/README.md) and writes, per spec, one BENCHMARKS.md section: for
every benchmark and sparsity level, our mean ± std over seeds next to the paper's
(REFERENCE_SPEC §5.3, tables T5–T10: 300,000-step GPU runs, 5 seeds), with UDR, which bound
UDR selects in each, and the figure of scores against the bound.

    python benchmarks/paper_sweeps.py sec81_action_constraint --workers 2 --write
    python benchmarks/paper_sweeps.py sec81_action_constraint random_graphs_constraint \\
        --aggregate-only --write

The sweeps are resumable: an interrupted command picks up where it stopped, and
``--aggregate-only`` tabulates whatever has finished without training anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mechsparse._seed_stats import format_mean_std, mean_std
from mechsparse.sweep.spec import BenchmarkEntry

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "benchmarks" / "paper"
sys.path.insert(0, str(ROOT / "benchmarks"))
from _markdown import BENCHMARKS_MD, command_line, write_section  # noqa: E402

# The paper's numbers, REFERENCE_SPEC §5.3: per benchmark, per bound k (``"none"``: masks
# frozen fully connected; ``"true"``: the bound set to the true edge count), the tuple
# (MCC mean, MCC std, consistent R mean, consistent R std, UDR or None). 5 seeds each.
PAPER: dict[str, dict[Any, tuple[float, float, float, float, float | None]]] = {
    # T5, Section 8.1, action
    "action_sparsity_trivial": {
        5: (0.993, 0.0, 0.993, 0.0, 0.995),
        10: (0.999, 0.0, 0.999, 0.0, 1.0),
        15: (0.98, 0.016, 0.98, 0.016, 0.983),
        20: (0.965, 0.032, 0.965, 0.032, 0.934),
        25: (0.911, 0.03, 0.911, 0.03, 0.852),
        50: (0.756, 0.05, 0.756, 0.05, 0.7),
        75: (0.636, 0.029, 0.636, 0.029, 0.639),
        "none": (0.614, 0.014, 0.614, 0.014, 0.623),
    },
    "action_sparsity_non_trivial": {
        5: (0.878, 0.025, 0.878, 0.025, 0.887),
        10: (0.949, 0.017, 0.949, 0.017, 0.938),
        15: (0.983, 0.006, 0.983, 0.006, 0.984),
        20: (0.998, 0.0, 0.998, 0.0, 0.999),
        25: (0.98, 0.012, 0.98, 0.012, 0.967),
        50: (0.915, 0.023, 0.915, 0.023, 0.902),
        75: (0.841, 0.055, 0.841, 0.055, 0.8),
        "none": (0.758, 0.044, 0.758, 0.044, 0.745),
    },
    # T6, Section 8.1, temporal
    "temporal_sparsity_trivial": {
        5: (0.901, 0.03, 0.901, 0.03, 0.915),
        10: (0.96, 0.017, 0.96, 0.017, 0.993),
        20: (0.915, 0.037, 0.915, 0.037, 0.893),
        30: (0.889, 0.023, 0.889, 0.023, 0.86),
        40: (0.872, 0.035, 0.872, 0.035, 0.829),
        50: (0.842, 0.035, 0.842, 0.035, 0.807),
        75: (0.715, 0.054, 0.715, 0.054, 0.672),
        "none": (0.576, 0.047, 0.576, 0.047, 0.653),
    },
    "temporal_sparsity_non_trivial": {
        5: (0.718, 0.01, 0.718, 0.01, 0.984),
        10: (0.728, 0.007, 0.728, 0.007, 0.967),
        20: (0.747, 0.024, 0.747, 0.024, 0.937),
        30: (0.786, 0.02, 0.786, 0.02, 0.976),
        40: (0.788, 0.03, 0.788, 0.03, 0.903),
        50: (0.825, 0.041, 0.825, 0.041, 0.879),
        75: (0.724, 0.034, 0.724, 0.034, 0.857),
        "none": (0.61, 0.022, 0.61, 0.022, 0.778),
    },
    # T7, Section 8.2, action
    "graph_action_3_easy": {
        5: (0.722, 0.012, 0.968, 0.014, 0.928),
        10: (0.849, 0.056, 0.988, 0.014, 0.924),
        15: (0.878, 0.047, 0.99, 0.004, 0.933),
        20: (0.883, 0.059, 0.985, 0.004, 0.907),
        25: (0.868, 0.048, 0.964, 0.017, 0.882),
        30: (0.84, 0.051, 0.934, 0.019, 0.819),
        40: (0.794, 0.044, 0.899, 0.024, 0.737),
        "none": (0.673, 0.039, 0.812, 0.07, 0.693),
    },
    "graph_action_3_hard": {
        5: (0.707, 0.013, 0.95, 0.018, 0.896),
        10: (0.769, 0.036, 0.973, 0.01, 0.892),
        15: (0.819, 0.058, 0.988, 0.006, 0.894),
        20: (0.817, 0.057, 0.977, 0.009, 0.866),
        25: (0.813, 0.053, 0.968, 0.011, 0.856),
        30: (0.791, 0.054, 0.953, 0.011, 0.862),
        40: (0.759, 0.058, 0.914, 0.036, 0.802),
        "none": (0.681, 0.054, 0.82, 0.028, 0.698),
    },
    # T8, Section 8.2, temporal
    "graph_temporal_3_easy": {
        5: (0.854, 0.046, 0.933, 0.046, 0.877),
        10: (0.835, 0.067, 0.941, 0.08, 0.88),
        20: (0.843, 0.037, 0.992, 0.009, 0.945),
        30: (0.844, 0.056, 0.978, 0.024, 0.892),
        40: (0.843, 0.055, 0.963, 0.038, 0.861),
        50: (0.828, 0.057, 0.942, 0.036, 0.839),
        75: (0.782, 0.079, 0.893, 0.071, 0.794),
        "none": (0.61, 0.045, 0.697, 0.071, 0.721),
    },
    "graph_temporal_3_hard": {
        5: (0.841, 0.027, 0.92, 0.022, 0.942),
        10: (0.823, 0.024, 0.968, 0.011, 0.947),
        20: (0.847, 0.033, 0.99, 0.001, 0.964),
        30: (0.847, 0.038, 0.992, 0.002, 0.97),
        40: (0.823, 0.038, 0.976, 0.017, 0.931),
        50: (0.793, 0.039, 0.945, 0.029, 0.905),
        75: (0.767, 0.048, 0.902, 0.039, 0.802),
        "none": (0.675, 0.035, 0.783, 0.017, 0.719),
    },
    # T9, assumption violations, constraint at the true edge count (no UDR logged)
    "action_sparsity_non_trivial_k=2": {
        "true": (0.982, 0.02, 0.982, 0.02, None),
        "none": (0.695, 0.031, 0.695, 0.031, None),
    },
    "action_sparsity_non_trivial_no_suff_var": {
        "true": (0.857, 0.04, 0.857, 0.04, None),
        "none": (0.618, 0.025, 0.618, 0.025, None),
    },
    "temporal_sparsity_non_trivial_k=2": {
        "true": (0.74, 0.037, 0.74, 0.037, None),
        "none": (0.618, 0.007, 0.618, 0.007, None),
    },
    "temporal_sparsity_non_trivial_no_suff_var": {
        "true": (0.634, 0.032, 0.634, 0.032, None),
        "none": (0.616, 0.036, 0.616, 0.036, None),
    },
    # T10, random graphs, constraint at the true edge count (no UDR logged)
    "random_action_0.1": {
        "true": (0.691, 0.137, 0.704, 0.117, None),
        "none": (0.58, 0.125, 0.608, 0.111, None),
    },
    "random_action_0.2": {
        "true": (0.853, 0.083, 0.856, 0.084, None),
        "none": (0.672, 0.059, 0.695, 0.052, None),
    },
    "random_action_0.4": {
        "true": (0.943, 0.051, 0.945, 0.048, None),
        "none": (0.674, 0.027, 0.699, 0.027, None),
    },
    "random_temporal_0.1": {
        "true": (0.995, 0.003, 0.995, 0.003, None),
        "none": (0.663, 0.027, 0.663, 0.027, None),
    },
    "random_temporal_0.2": {
        "true": (0.99, 0.011, 0.99, 0.011, None),
        "none": (0.628, 0.045, 0.628, 0.045, None),
    },
    "random_temporal_0.4": {
        "true": (0.823, 0.161, 0.823, 0.161, None),
        "none": (0.61, 0.018, 0.614, 0.022, None),
    },
}
PAPER_NOTE = (
    "Paper: REFERENCE_SPEC §5.3 (tables T5–T10), 300,000 steps at batch 1024 on a GPU, "
    "5 seeds, 3–5 GPU-hours per run. In the paper's random-graph runs every seed drew its "
    "own graph; here the graph depends on the data seed only, so the seeds of a row share it."
)

GRAPH_SYMBOL = {"graph_z": "|G^z|", "graph_a": "|G^a|"}


def paper_key(bench: BenchmarkEntry) -> str:
    """The PAPER key of a sweep's benchmark: its name, its graph, or random_KIND_DENSITY."""
    if bench.graph is not None:
        return bench.graph
    if bench.density is not None:
        kind = "action" if bench.name.startswith("action") else "temporal"
        return f"random_{kind}_{bench.density:g}"
    return bench.name


def bound_of(entry: dict[str, Any]) -> Any:
    """The row key of a configuration: its constraint bound (int or "true"), or "none"."""
    if entry["method"] != "mechanism_sparsity":
        return entry["method"]
    edges = entry["params"].get("edges")
    return "true" if edges in (None, "true") else int(edges)


def _paper_cell(row: tuple | None, score: str) -> str:
    if row is None:
        return "–"
    mean, std = (row[0], row[1]) if score == "mcc" else (row[2], row[3])
    return format_mean_std(mean, std)


def benchmark_table(
    bench: BenchmarkEntry,
    entries: list[dict[str, Any]],
    selection: dict[str, Any],
    rows: list[dict[str, Any]],
    truth: dict[str, int],
) -> str:
    """The markdown of one benchmark: a row per bound, ours beside the paper's.

    ``entries`` are its configurations and ``selection`` its selections, as
    ``mechsparse.sweep.aggregate.summarize`` and ``select_configurations`` give them.
    """
    key = paper_key(bench)
    paper = PAPER.get(key, {})
    true_count = sum(truth.values())
    graph_text = ", ".join(f"{GRAPH_SYMBOL[g]} = {n}" for g, n in truth.items())
    lines = [
        f"### {bench.label}",
        "",
        f"True graph: {graph_text} edges. Paper rows: `{key}`"
        if paper
        else f"True graph: {graph_text} edges. The paper logged no run on this benchmark.",
        "",
        "| bound k | seeds | MCC | paper MCC | consistent R | paper consR | SHD | UDR "
        "| paper UDR | min / run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        bound = bound_of(e)
        shown_bound = true_count if bound == "true" else bound
        p = paper.get(bound)
        if p is None and bound == true_count:
            p = paper.get("true")
        walls = [
            r["wall_time_s"] / 60
            for r in rows
            if r["configuration"] == e["configuration"] and r["wall_time_s"] is not None
        ]
        wall_mean, _ = mean_std(walls)
        bound_text = f"**{shown_bound}** (true)" if shown_bound == true_count else f"{shown_bound}"
        cells = [
            bound_text,
            f"{e['finished']}/{e['seeds']}",
            format_mean_std(e["mcc_mean"], e["mcc_std"]),
            _paper_cell(p, "mcc"),
            format_mean_std(e["consistent_r_mean"], e["consistent_r_std"]),
            _paper_cell(p, "consistent_r"),
            format_mean_std(e["shd_mean"], e["shd_std"], 1),
            "–" if e["udr_mean"] is None else f"{e['udr_mean']:.3f}",
            "–" if p is None or p[4] is None else f"{p[4]:.3f}",
            "–" if wall_mean is None else f"{wall_mean:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    unfinished = sum(e["finished"] < e["seeds"] for e in entries)
    ours = None
    if selection["udr"] is not None and not unfinished:
        ours = bound_of(selection["udr"])
    paper_udr = {k: v[4] for k, v in paper.items() if v[4] is not None}
    theirs = max(paper_udr, key=paper_udr.get) if paper_udr else None
    ours, theirs = (true_count if c == "true" else c for c in (ours, theirs))
    if ours is not None or theirs is not None:

        def verdict(choice: Any) -> str:
            if choice is None and unfinished:
                return f"nothing yet ({unfinished} of {len(entries)} rows have unfinished seeds)"
            if choice is None:
                return "nothing (fewer than 2 finished seeds everywhere)"
            hit = "the true count" if choice == true_count else f"not the true {true_count}"
            return f"k = {choice} ({hit})"

        lines += ["", f"UDR selects {verdict(ours)}; in the paper's runs, {verdict(theirs)}."]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def section(name: str, out: Path, command: str, note: str) -> str:
    """The BENCHMARKS.md section of one sweep directory (after the sweep has run)."""
    from mechsparse.sweep import expand, load_spec
    from mechsparse.sweep.aggregate import (
        results_rows,
        select_configurations,
        summarize,
        true_edges,
    )

    spec = load_spec(SPECS / f"{name}.yaml")
    runs = expand(spec)
    rows = results_rows(runs, out)
    summary = summarize(runs, rows, out)
    finished = sum(r["status"] == "finished" for r in rows)
    steps = spec.max_steps
    parts = [
        f"Command: `{command}` (spec [`benchmarks/paper/{name}.yaml`](benchmarks/paper/{name}.yaml)"
        f", output `{_shown(out)}`). Preset `{spec.preset}`, {steps} steps per run, "
        f"{spec.threads} torch thread(s) per run, on this machine's 2-core CPU. "
        f"{finished} of {len(rows)} runs finished. Scores on the test split, mean ± sample std "
        "over the seeds; UDR is the mean pairwise MCC between the seeds' test latents (no "
        "ground truth). " + PAPER_NOTE,
    ]
    if note:
        parts.append(note)
    first_run = {}
    for run in runs:
        first_run.setdefault(run.benchmark.label, run)
    for selection in select_configurations(summary):
        label = selection["benchmark"]
        entries = [e for e in summary if e["benchmark"] == label]
        run = first_run[label]
        parts.append(benchmark_table(run.benchmark, entries, selection, rows, true_edges(run)))
        figure = out / f"{label}.png"
        if figure.is_file():
            parts.append(f"![{label}: scores against the bound]({_shown(figure)})")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # the constraint sweeps: the paper's tables T5-T10 are indexed by the bound
    known = sorted(path.stem for path in SPECS.glob("*_constraint.yaml"))
    p.add_argument("specs", nargs="+", choices=known, metavar="SPEC", help=", ".join(known))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=str(SPECS / "results"), help="parent directory")
    p.add_argument("--aggregate-only", action="store_true", help="tabulate, train nothing")
    p.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    p.add_argument("--note", default="", help="extra sentence for each section")
    args = p.parse_args(argv)
    from mechsparse.sweep import expand, load_spec, sweep
    from mechsparse.sweep.aggregate import write_outputs

    failed = 0
    for name in args.specs:
        out = Path(args.out) / name
        if not args.aggregate_only:
            result = sweep(SPECS / f"{name}.yaml", out, workers=args.workers)
            failed += len(result.failed)
        elif not out.is_dir():
            print(f"{out}: no sweep directory yet; run without --aggregate-only first.")
            return 1
        else:  # refresh the directory's tables, figures and udr.json from what has finished
            spec = load_spec(SPECS / f"{name}.yaml")
            write_outputs(out, spec, expand(spec))
        text = section(name, out, command_line(__file__, argv), args.note)
        print(text)
        if args.write:
            write_section(BENCHMARKS_MD, f"Paper sweep: {name}", text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
