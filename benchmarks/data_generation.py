"""Speed and memory of the benchmark generators (``mechsparse.data.load_benchmark``).

Generates the full-size (1,000,000-sample) benchmarks on ONE thread, each in a fresh
subprocess, and prints a markdown table of wall time, CPU time and peak resident memory
(``resource.getrusage``; the baseline after imports is shown separately). With ``--write`` the
table replaces the section "## Data generation" of BENCHMARKS.md (created if absent).

    python benchmarks/data_generation.py                 # print the table
    python benchmarks/data_generation.py --write         # ... and update BENCHMARKS.md
    python benchmarks/data_generation.py --n-samples 100000 --repeats 1

Targets: < 3 s and < 2 GB peak for ``temporal_sparsity_non_trivial`` at 1M samples; the action
benchmarks similar. Run it alone on the machine: the wall time includes any contention.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "measure", "measure_once", "table"]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _markdown import write_section  # noqa: E402

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
DEFAULT_NAMES = (
    "temporal_sparsity_non_trivial",
    "temporal_sparsity_non_trivial_k=2",
    "action_sparsity_non_trivial",
    "action_sparsity_non_trivial_k=2",
    "interventions_unknown_targets",
)
TARGET_S, TARGET_MB = 3.0, 2048.0


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_once(name: str, n_samples: int) -> dict:
    """Generate one benchmark in this process and return its timings and memory."""
    from mechsparse.data import load_benchmark  # imported here so the baseline includes it

    base = _peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    bench = load_benchmark(name, n_samples=n_samples, seed=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    data_mb = (
        sum(
            arr.nbytes
            for split in (bench.train, bench.valid, bench.test)
            for arr in (split.x, split.z, split.a)
            if arr is not None
        )
        / 2**20
    )
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": _peak_rss_mb(),
        "base_mb": base,
        "data_mb": data_mb,
    }


def measure(name: str, n_samples: int, repeats: int) -> dict:
    """Run ``measure_once`` in ``repeats`` fresh single-threaded subprocesses."""
    env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1")}
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--n-samples", str(n_samples)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "name": name,
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "wall_min_s": min(r["wall_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "base_mb": max(r["base_mb"] for r in runs),
        "data_mb": runs[0]["data_mb"],
    }


def table(results: list[dict], n_samples: int, repeats: int) -> str:
    """Markdown table of the measurements."""
    lines = [
        f"`load_benchmark(name, n_samples={n_samples:_})`, one thread, fresh process per run, "
        f"median of {repeats} run(s); peak RSS includes the ≈{results[0]['base_mb']:.0f} MiB "
        f"of the interpreter and imports. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()}. "
        f"Targets: < {TARGET_S:.0f} s, < {TARGET_MB / 1024:.0f} GB.",
        "",
        "| benchmark | wall (s) | best wall (s) | CPU (s) | peak RSS (MiB) | arrays (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['wall_s']:.2f} | {r['wall_min_s']:.2f} | {r['cpu_s']:.2f} "
            f"| {r['peak_mb']:.0f} | {r['data_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--names", nargs="+", default=list(DEFAULT_NAMES), help="benchmarks")
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per benchmark")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(measure_once(args.child, args.n_samples)))
        return 0
    results = []
    for name in args.names:
        results.append(measure(name, args.n_samples, args.repeats))
        print(f"{name}: {results[-1]['wall_s']:.2f} s", file=sys.stderr)
    body = table(results, args.n_samples, args.repeats)
    print(body)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", "Data generation", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
