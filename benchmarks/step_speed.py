"""Seconds per training iteration of the ``paper`` and ``fast`` presets on this machine.

Trains each preset for a few hundred steps on ``action_sparsity_non_trivial`` (and optionally
``temporal_sparsity_non_trivial``) with a constraint and reads the per-step time from the
training records of metrics.jsonl (evaluation excluded), beside the authors' 0.63 s per
iteration measured for their code on this kind of 2-core CPU (shared FINDINGS).

    python benchmarks/step_speed.py --threads 2 --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _markdown import command_line, write_section  # noqa: E402


def seconds_per_step(
    preset_name: str, benchmark: str, steps: int, threads: int, device: str
) -> float:
    from mechsparse.train import preset, train

    config = preset(preset_name).updated(
        {
            "data.benchmark": benchmark,
            "data.n_samples": 200_000,
            "optim.max_steps": steps,
            "optim.log_every": 10,
            "optim.eval_every": 10 * steps,
            "optim.checkpoint_every": 10 * steps,
            "optim.eval_frames": 1_000,
            "optim.n_threads": threads,
            "optim.device": device,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        train(config, Path(tmp) / "run", progress=False, report=False)
        records = [
            json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()
        ]
    t = np.array([(r["step"], r["time_s"]) for r in records if r["kind"] == "train"])
    t = t[len(t) // 5 :]  # skip warm-up
    return float(np.polyfit(t[:, 0], t[:, 1], 1)[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--paper-steps", type=int, default=100)
    p.add_argument("--fast-steps", type=int, default=1_000)
    p.add_argument("--device", default="cpu")
    p.add_argument("--temporal", action="store_true", help="also time the temporal benchmark")
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    import torch

    rows = []
    benches = ["action_sparsity_non_trivial"] + (
        ["temporal_sparsity_non_trivial"] if args.temporal else []
    )
    for bench in benches:
        for name, steps in (("paper", args.paper_steps), ("fast", args.fast_steps)):
            s = seconds_per_step(name, bench, steps, args.threads, args.device)
            rows.append((bench, name, s))
            print(f"{bench} {name}: {s * 1000:.1f} ms/step", flush=True)
    device = (
        torch.cuda.get_device_name()
        if args.device == "cuda"
        else f"CPU, {args.threads} torch threads"
    )
    lines = [
        f"Command: `{command_line(__file__, argv)}` "
        f"({device}; constraint regulariser, batch of the preset, evaluation excluded).",
        "",
        "| benchmark | preset | ms / step | 300k paper steps would take | authors' code here |",
        "|---|---|---|---|---|",
    ]
    for bench, name, s in rows:
        total = f"{s * 300_000 / 3600:.1f} h" if name == "paper" else "–"
        ref = (
            "630 ms / step (≈ 52 h per run)"
            if name == "paper" and bench.startswith("action")
            else "–"
        )
        lines.append(f"| {bench} | {name} | {s * 1000:.1f} | {total} | {ref} |")
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", "Speed per iteration", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
