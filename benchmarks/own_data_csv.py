"""The README's three-line "your own data" example, measured on a benchmark exported to CSV.

Exports a benchmark (default ``action_sparsity_non_trivial``, all 1,000,000 examples, as one
row each with columns ``x0…`` and ``a0…``) to a CSV file, then runs exactly the README's lines

    data = read_data("actions.csv", action_cols="a*")
    z = MechanismSparsityVAE(n_latents=10).fit(data).transform(data)

and scores ``z`` against the true latents, which the CSV does not contain (MCC over every row,
and over the rows of the benchmark's test split alone). The estimator keeps its defaults
(``fast`` preset, constraint at 20 % of the possible edges, i.e. 20 for 10 × 10): nothing
about the true graph is given to it.

    python benchmarks/own_data_csv.py --threads 1 --write
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _markdown import command_line, write_section  # noqa: E402


def export_csv(name: str, n_samples: int, path: Path) -> tuple[np.ndarray, int]:
    """Write the benchmark's train, valid and test examples (in that order) as one CSV table.

    Returns the true latents (n, d_z) of the rows, in row order, and the first test row."""
    import pandas as pd

    from mechsparse.data import load_benchmark

    bench = load_benchmark(name, n_samples=n_samples, seed=0)
    splits = (bench.train, bench.valid, bench.test)
    if any(s.x.shape[1] != 1 or s.a is None for s in splits):
        raise ValueError(f"{name} is not an action benchmark with T = 1; pick one that is.")
    x = np.concatenate([s.x[:, 0] for s in splits])
    a = np.concatenate([s.a[:, 0] for s in splits])
    z = np.concatenate([s.z[:, 0] for s in splits])
    table = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
    for j in range(a.shape[1]):
        table[f"a{j}"] = a[:, j]
    table.to_csv(path, index=False)
    return z, bench.train.n + bench.valid.n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--benchmark", default="action_sparsity_non_trivial")
    p.add_argument("--n-samples", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--max-steps", type=int, help="shorter run for a quick check (default: preset's)"
    )
    p.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = p.parse_args(argv)

    import torch

    from mechsparse import MechanismSparsityVAE, read_data
    from mechsparse.metrics import mcc

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "actions.csv"
        t0 = time.perf_counter()
        z_true, first_test = export_csv(args.benchmark, args.n_samples, csv)
        export_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        # the README's lines, verbatim apart from seed and max_steps
        data = read_data(csv, action_cols="a*")
        model = MechanismSparsityVAE(n_latents=10, seed=args.seed, max_steps=args.max_steps)
        z = model.fit(data).transform(data)
        fit_s = time.perf_counter() - t0
    z = z[:, 0]
    overall = mcc(z_true, z).score
    held_out = mcc(z_true[first_test:], z[first_test:]).score
    edges = int(model.graph_a_.sum())
    steps = model.history_[-1]["step"] if model.history_ else "–"
    body = (
        f"Command: `{command_line(__file__, argv)}` "
        f"({args.threads} torch thread(s), estimator defaults: `fast` preset, constraint at 20 % "
        "of the possible edges; the true latents are never in the CSV).\n\n"
        "| data | rows | MCC (all rows) | MCC (test-split rows) | learned edges of G^a | steps "
        "| export (s) | read + fit + transform (min) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {args.benchmark} as CSV | {len(z):,} | {overall:.3f} | {held_out:.3f} | {edges} "
        f"| {steps} | {export_s:.0f} | {fit_s / 60:.1f} |"
    )
    print(body)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", "Your own data: the README's three lines", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
