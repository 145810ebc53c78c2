"""Can the prior fit the true mechanisms? A regression of z_t on its true parents.

The VAE's prior p(z_t | z_{t-1}, a_t) must fit each latent's mechanism precisely enough for the
likelihood to prefer the aligned latents over a mixture of them. This script isolates that part:
it fits the ``fast`` preset's transition networks (``LatentPrior``, the true graph as a fixed
mask, the preset's width, depth, learning rate and batch size, Gaussian negative log-likelihood
with a learned variance per latent) to the **true** latents of a benchmark (unit scale), and
reports each latent's residual variance on the test split, E[(z_t,i − μ_i)²], where the true
mechanism leaves its noise variance, 1e-4:

    python benchmarks/prior_fit.py --write

for each mechanism form (``mlp``, the reference's one network of all parents, and ``additive``,
one network per edge). Seconds per fit on one CPU thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from mechsparse.data import load_benchmark
from mechsparse.model.prior import LatentPrior
from mechsparse.train.config import preset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _markdown import BENCHMARKS_MD, command_line, write_section  # noqa: E402

TITLE = "Can the prior fit the true mechanisms? (prior_fit.py)"
ADDITIVE_WIDTH = 32  # per-edge networks: the width measured in "Additive mechanisms"


def _tensors(split) -> dict[str, torch.Tensor | None]:
    """Targets z_t and parents (z_{t-1}, a_t) of one split, as float32 tensors."""
    z = torch.as_tensor(split.z)
    a = None if split.a is None else torch.as_tensor(split.a[:, -1])
    return {"target": z[:, -1], "z_prev": z[:, 0] if split.T == 2 else None, "a": a}


def fit(benchmark, mechanism: str, *, steps: int, seed: int) -> dict:
    """Fit one prior to the true latents; return its residual variances on the test split."""
    cfg = preset("fast")
    torch.manual_seed(seed)
    n_lags = 1 if benchmark.graph_z is not None else 0
    prior = LatentPrior(
        benchmark.d_z,
        d_a=benchmark.d_a,
        n_lags=n_lags,
        width=ADDITIVE_WIDTH if mechanism == "additive" else cfg.model.prior_width,
        depth=cfg.model.prior_depth,
        hidden_bias=cfg.model.prior_hidden_bias,
        mechanism=mechanism,
        learn_graph_z=False,
        learn_graph_a=False,
    )
    masks = [
        None if g is None else torch.as_tensor(g, dtype=torch.float32)
        for g in (benchmark.graph_z, benchmark.graph_a)
    ]
    train, test = _tensors(benchmark.train), _tensors(benchmark.test)
    optimizer = torch.optim.Adam(prior.parameters(), lr=cfg.optim.lr)
    generator = torch.Generator().manual_seed(seed)
    n, batch = train["target"].shape[0], cfg.optim.batch_size
    start = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(n, (batch,), generator=generator)
        z_prev = None if train["z_prev"] is None else train["z_prev"][idx]
        a = None if train["a"] is None else train["a"][idx]
        mean, var = prior.transition(z_prev, a, *masks)
        loss = torch.nn.functional.gaussian_nll_loss(mean, train["target"][idx], var, full=True)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        mean, _ = prior.transition(test["z_prev"], test["a"], *masks)
    residual = (mean - test["target"]).pow(2).mean(0)
    return {"residual": residual.numpy(), "seconds": seconds}


def _row(name: str, mechanism: str, result: dict) -> str:
    u = result["residual"]
    per_latent = " ".join(f"{v:.3f}" for v in u)
    return (
        f"| {name} | {mechanism} | {np.mean(u):.4f} | {np.max(u):.3f} | "
        f"{per_latent} | {result['seconds']:.0f} |"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--benchmarks",
        nargs="+",
        default=[
            "temporal_sparsity_non_trivial",
            "temporal_sparsity_trivial",
            "action_sparsity_non_trivial",
        ],
    )
    p.add_argument("--steps", type=int, default=6000, help="Adam steps per fit")
    p.add_argument("--samples", type=int, default=100_000, help="examples over the 3 splits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.benchmarks:
        benchmark = load_benchmark(name, n_samples=args.samples)
        for mechanism in ("mlp", "additive"):
            result = fit(benchmark, mechanism, steps=args.steps, seed=args.seed)
            rows.append(_row(name, mechanism, result))
            print(rows[-1], flush=True)
    header = (
        "| benchmark | mechanism | mean | max | per latent z_0, z_1, … | s |\n"
        "|---|---|---|---|---|---|"
    )
    fast = preset("fast")
    body = (
        f"Command: `{command_line(__file__, argv)}` (the fast preset's prior: "
        f"{fast.model.prior_depth} layers of {fast.model.prior_width} units, "
        f"{ADDITIVE_WIDTH} per edge for `additive`; {args.steps} Adam steps at lr "
        f"{fast.optim.lr}, batch {fast.optim.batch_size}; true graph as a fixed mask; "
        f"{args.threads} CPU thread(s)). "
        "Residual variance E[(z_t,i − μ_i)²] of each true latent given its true parents on the "
        "test split (the truth: 1e-4; latents have unit scale).\n\n"
        + header
        + "\n"
        + "\n".join(rows)
    )
    if args.write:
        write_section(BENCHMARKS_MD, TITLE, body)
    print(body)


if __name__ == "__main__":
    main()
