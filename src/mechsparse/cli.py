"""Command-line interface: parses arguments, builds a Config, calls the library.

Every command is a thin wrapper over a public function (``load_benchmark``, ``save_benchmark``,
``entanglement_graph``, ``train``, ``compare``, ``write_report``, and for your own data ``read_data``,
``MechanismSparsityVAE``, ``write_latents`` and ``mechsparse.graph_export``); nothing here is
missing from the Python API.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mechsparse.data.files import LATENT_FORMATS
from mechsparse.graph_export import GRAPH_FORMATS

__all__ = ["main"]

#: Steps of `mechsparse demo` unless --max-steps (or --config) says otherwise.
DEMO_MAX_STEPS = 24_000


def _edges(value: str) -> int | str:
    if value == "true":
        return value
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer ≥ 0 or 'true'; got {value!r}"
        ) from None
    if k < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0; got {k}")
    return k


def _add_data_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--benchmark", required=required, help="benchmark name (see `mechsparse datasets`)"
    )
    p.add_argument("--graph", help="named ground-truth graph, e.g. graph_action_3_easy")
    p.add_argument(
        "--density", type=float, help="edge probability of a random ground-truth graph, in (0, 1]"
    )
    p.add_argument(
        "--n-samples", type=int, help="examples in all (split 80/10/10); default 1,000,000"
    )
    p.add_argument(
        "--data-seed", type=int, help="seed of the data (graph, mechanisms, mixing, samples)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mechsparse",
        description="Causal representation learning by mechanism sparsity regularisation.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("datasets", help="list the benchmarks with their sizes, graphs and guarantees")

    g = sub.add_parser("generate", help="generate a benchmark and save it to one .npz file")
    g.add_argument("name", help="benchmark name")
    g.add_argument("--out", required=True, help="output .npz file")
    g.add_argument("--n-samples", type=int, default=1_000_000)
    g.add_argument("--seed", type=int, default=0, help="data seed")
    g.add_argument("--graph", help="named ground-truth graph")
    g.add_argument("--density", type=float, help="random-graph edge probability in (0, 1]")
    g.add_argument("--d-z", type=int, default=10)
    g.add_argument("--d-x", type=int, default=20)
    g.add_argument("--d-a", type=int, default=None)
    g.add_argument("--overwrite", action="store_true", help="replace an existing file")

    t = sub.add_parser("theory", help="entanglement graph C and the graphical criterion")
    t.add_argument("--benchmark", help="benchmark name (its ground-truth graphs)")
    t.add_argument("--graph", help="named graph for the benchmark")
    t.add_argument("--graph-z", help="G^z as a .npy or .csv/.txt file (rows = children)")
    t.add_argument("--graph-a", help="G^a as a .npy or .csv/.txt file (rows = children)")

    for name, help_text in (
        ("train", "train a mechanism-sparsity VAE on a benchmark"),
        (
            "demo",
            "the main demo: a fast constrained run on action_sparsity_non_trivial, "
            f"{DEMO_MAX_STEPS:,} steps",
        ),
    ):
        r = sub.add_parser(name, help=help_text)
        _add_data_args(r, required=False)
        _add_training_args(r)
        r.add_argument(
            "--method",
            help="mechanism_sparsity (default) or a baseline: supervised, random, beta_vae, "
            "beta_tcvae, ivae, slowvae, pcl, tcl",
        )

    c = sub.add_parser(
        "compare", help="rank methods (mechanism sparsity and baselines) on one benchmark"
    )
    _add_data_args(c, required=True)
    c.add_argument(
        "--methods",
        default="all",
        help="'all' (every method applicable to the benchmark) or a comma-separated list of "
        "mechanism_sparsity, none and the baselines of `train --method`",
    )
    c.add_argument("--seeds", type=int, default=3, help="training seeds per method")
    c.add_argument("--preset", choices=("fast", "paper"), default="fast")
    c.add_argument(
        "--edges", type=_edges, default="true", help="bound of mechanism_sparsity (default true)"
    )
    c.add_argument("--max-steps", type=int)
    c.add_argument("--max-minutes", type=float)
    c.add_argument("--workers", type=int, default=1, help="runs trained in parallel")
    c.add_argument("--threads", type=int, help="torch CPU threads per run")
    c.add_argument("--device", choices=("auto", "cpu", "cuda"))
    _add_set_arg(c)
    c.add_argument("--out", required=True, help="output directory (finished runs are reused)")
    c.add_argument("--no-progress", action="store_true", help="no progress bars")

    sw = sub.add_parser(
        "sweep",
        help="train a grid of configurations × seeds from a YAML spec, with UDR model selection",
        description="Train every run of a sweep spec (benchmarks × methods × grid × seeds; see "
        "docs/sweeps.md) into OUT/runs, then write results.csv, summary.md (scores and UDR per "
        "configuration, the UDR-selected and the ground-truth-selected configuration) and one "
        "figure per benchmark. Finished runs are skipped and interrupted ones resumed, so "
        "running the same command again completes the sweep.",
    )
    sw.add_argument("spec", help="sweep spec (YAML)")
    sw.add_argument("--out", required=True, help="sweep directory (its finished runs are reused)")
    sw.add_argument(
        "--backend", choices=("local", "ray"), default="local", help="where runs are trained"
    )
    sw.add_argument(
        "--workers",
        type=int,
        help="runs trained at the same time (default 1; with --address: as the cluster allows)",
    )
    sw.add_argument(
        "--address", help="Ray cluster to join (HOST:PORT, ray://HOST:PORT or auto); ray only"
    )
    sw.add_argument("--yes", action="store_true", help="allow a sweep of more than 200 runs")

    se = sub.add_parser(
        "select", help="the configuration UDR selects in a sweep directory, per benchmark"
    )
    se.add_argument("sweep_dir", help="directory written by `mechsparse sweep`")

    rep = sub.add_parser("report", help="rebuild report.html of a run directory")
    rep.add_argument("run_dir")

    f = sub.add_parser(
        "fit",
        help="train on your own data (.npz, CSV or Parquet) and write a run directory",
        description="Train a mechanism-sparsity VAE on your own data. The constraint bound "
        "defaults to 20%% of each learned graph's possible edges; set it with --edges, or use "
        "--coef c (penalty) or --regularizer none.",
    )
    f.add_argument("data", help="training data: .npz (keys x, optional a), .csv or .parquet")
    f.add_argument("--latents", type=int, required=True, help="number of latents K")
    f.add_argument("--valid", help="validation data (default: 10%% of DATA's sequences)")
    _add_table_args(f)
    _add_training_args(f)
    f.add_argument(
        "--overwrite", action="store_true", help="replace a previous run or model in --out"
    )

    e = sub.add_parser("encode", help="posterior means of the latents of DATA under a fitted model")
    e.add_argument("run_dir", help="run directory of `mechsparse fit` (or a saved model)")
    e.add_argument("data", help=".npz, .csv or .parquet with the model's feature columns")
    e.add_argument("--out", required=True, help="output file (.npz, .csv or .parquet)")
    e.add_argument("--format", choices=LATENT_FORMATS, help="default: from the --out suffix")
    _add_table_args(e)
    e.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    e.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    gr = sub.add_parser("graph", help="print or export the learned graphs of a fitted model")
    gr.add_argument("run_dir", help="run directory of `mechsparse fit` (or a saved model)")
    gr.add_argument("--format", choices=GRAPH_FORMATS, default="text")
    gr.add_argument("--out", help="write to this file instead of printing")
    gr.add_argument("--threshold", type=float, default=0.5, help="edge learned when σ(α) > this")
    gr.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    return parser


def _add_training_args(r: argparse.ArgumentParser) -> None:
    """The regulariser, budget, config and run-directory options of train, demo and fit."""
    r.add_argument("--regularizer", choices=("none", "penalty", "constraint"))
    r.add_argument("--coef", type=float, help="penalty coefficient")
    r.add_argument(
        "--edges", type=_edges, help="constraint bound k for every learned graph, or 'true'"
    )
    r.add_argument("--edges-z", type=_edges, help="bound for G^z only")
    r.add_argument("--edges-a", type=_edges, help="bound for G^a only")
    r.add_argument("--preset", choices=("fast", "paper"), help="fast (CPU default) or paper")
    r.add_argument("--seed", type=int, help="training seed (init, minibatches, mask noise)")
    r.add_argument("--max-steps", type=int)
    r.add_argument("--max-minutes", type=float)
    r.add_argument("--config", help="YAML config file (CLI flags override it)")
    _add_set_arg(r)
    r.add_argument("--device", choices=("auto", "cpu", "cuda"))
    r.add_argument("--threads", type=int, help="torch CPU threads")
    r.add_argument("--out", required=True, help="run directory")
    r.add_argument("--resume", action="store_true", help="continue the run in --out")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_set_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="any config field by its dotted name, e.g. --set baseline.beta=4 "
        "model.prior_residual=true (YAML values; several per flag, and the flag repeatable; "
        "applied last)",
    )


def _add_table_args(p: argparse.ArgumentParser) -> None:
    """How to read a long-format CSV/Parquet table into sequences (see mechsparse.data.files)."""
    p.add_argument("--window", type=int, help="frames T per sequence; longer ones are cut")
    p.add_argument("--stride", type=int, help="frames between window starts (default: T)")
    p.add_argument("--sequence-col", help="column grouping rows into sequences")
    p.add_argument("--time-col", help="column ordering the rows of a sequence")
    p.add_argument("--feature-cols", help="feature columns, comma-separated names or patterns")
    p.add_argument("--action-cols", help="continuous action columns (names or patterns)")
    p.add_argument("--regime-col", help="integer regime column")


def _config_from_args(args: argparse.Namespace, default_preset: str):
    from mechsparse.train import load_config, preset
    from mechsparse.train.config import parse_overrides

    base = load_config(args.config) if args.config else preset(args.preset or default_preset)
    if args.config and args.preset and args.preset != base.preset:
        base = preset(args.preset).updated(
            {k: v for k, v in base.to_dict().items() if k != "preset"}
        )
    overrides = {  # fit has no data options: its data come from a file
        "method": getattr(args, "method", None),
        "data.benchmark": getattr(args, "benchmark", None),
        "data.graph": getattr(args, "graph", None),
        "data.density": getattr(args, "density", None),
        "data.n_samples": getattr(args, "n_samples", None),
        "data.data_seed": getattr(args, "data_seed", None),
        "regularizer.kind": args.regularizer,
        "regularizer.coef": args.coef,
        "regularizer.edges_z": args.edges_z if args.edges_z is not None else args.edges,
        "regularizer.edges_a": args.edges_a if args.edges_a is not None else args.edges,
        "seed": args.seed,
        "optim.max_steps": args.max_steps,
        "optim.max_minutes": args.max_minutes,
        "optim.device": args.device,
        "optim.n_threads": args.threads,
    }
    base = base.updated({k: v for k, v in overrides.items() if v is not None})
    return base.updated(parse_overrides(args.set))


def _read_graph(path: str | None, name: str) -> np.ndarray | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{name} file {path!r} does not exist.")
    if p.suffix == ".npy":
        return np.load(p, allow_pickle=False)
    try:
        return np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{name} file {path!r} is not a numeric matrix: {err}") from err


def _cmd_datasets() -> None:
    from mechsparse.data import list_benchmarks, load_benchmark
    from mechsparse.theory import fully_disentangled

    rows = []
    for name in list_benchmarks():
        b = load_benchmark(name, n_samples=200)
        full = fully_disentangled(graph_z=b.graph_z if b.T >= 2 else None, graph_a=b.graph_a)
        rows.append(
            (name, b.T, b.d_z, b.d_x, b.d_a, b.n_edges_z, b.n_edges_a, "yes" if full else "no")
        )
    head = ("benchmark", "T", "d_z", "d_x", "d_a", "|G^z|", "|G^a|", "full disentanglement")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(f"{v!s:<{w}}" for v, w in zip(r, widths, strict=True)))


def _cmd_generate(args: argparse.Namespace) -> None:
    from mechsparse.data import load_benchmark, save_benchmark

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{str(out)!r} already exists; pass --overwrite to replace it.")
    b = load_benchmark(
        args.name,
        n_samples=args.n_samples,
        seed=args.seed,
        graph=args.graph,
        density=args.density,
        d_z=args.d_z,
        d_x=args.d_x,
        d_a=args.d_a,
    )
    save_benchmark(b, out)
    print(_benchmark_summary(b))
    print(f"\nsaved to {out}")


def _benchmark_summary(b, *, sizes: bool = True) -> str:
    from mechsparse.report.text import format_graph, format_graphs_side_by_side
    from mechsparse.theory import entangled_groups, entanglement_graph, fully_disentangled

    gz = b.graph_z if b.T >= 2 else None
    graph = b.params.get("graph")
    title = b.name + (f" with graph {graph}" if isinstance(graph, str) else "")
    if b.params.get("density") is not None:
        title += f" with a random graph of density {b.params['density']}"
    head = f"T = {b.T}, d_z = {b.d_z}, d_x = {b.d_x}, d_a = {b.d_a} ({b.aux_type or 'no auxiliary variable'})"
    if sizes:
        head = f"{b.train.n:,} train / {b.valid.n:,} valid / {b.test.n:,} test sequences, " + head
    lines = [f"{title}: {head}", b.description]
    blocks = []
    if gz is not None:
        blocks.append((f"G^z ({b.n_edges_z} edges)", format_graph(gz)))
    if b.graph_a is not None:
        blocks.append((f"G^a ({b.n_edges_a} edges)", format_graph(b.graph_a, col_prefix="a")))
    c = entanglement_graph(graph_z=gz, graph_a=b.graph_a)
    blocks.append(("entanglement graph C", format_graph(c)))
    lines += ["", format_graphs_side_by_side(blocks)]
    if fully_disentangled(graph_z=gz, graph_a=b.graph_a):
        lines.append("graphical criterion holds (C = I): full disentanglement is guaranteed.")
    else:
        groups = "; ".join(
            "{" + ", ".join(f"z{i}" for i in grp) + "}"
            for grp in entangled_groups(graph_z=gz, graph_a=b.graph_a)
        )
        lines.append(
            f"criterion fails: partial disentanglement; groups that may stay mixed: {groups}"
        )
    return "\n".join(lines)


def _cmd_theory(args: argparse.Namespace) -> None:
    from mechsparse.report.text import format_graph
    from mechsparse.theory import entangled_groups, entanglement_graph, fully_disentangled

    if args.benchmark:
        if args.graph_z or args.graph_a:
            raise ValueError("give either --benchmark or --graph-z/--graph-a, not both.")
        from mechsparse.data import load_benchmark

        bench = load_benchmark(args.benchmark, n_samples=200, graph=args.graph)
        print(_benchmark_summary(bench, sizes=False))
        return
    gz, ga = _read_graph(args.graph_z, "--graph-z"), _read_graph(args.graph_a, "--graph-a")
    if gz is None and ga is None:
        raise ValueError(
            "give --benchmark NAME, or at least one of --graph-z FILE / --graph-a FILE."
        )
    c = entanglement_graph(graph_z=gz, graph_a=ga)
    print("entanglement graph C (rows: true latents; a 1 at (i, j): z_i may be mixed with z_j):")
    print("\n".join(format_graph(c)))
    if fully_disentangled(graph_z=gz, graph_a=ga):
        print("graphical criterion holds (C = I): full disentanglement is guaranteed.")
    else:
        groups = entangled_groups(graph_z=gz, graph_a=ga)
        print("criterion fails; groups that may stay mixed: " + "; ".join(str(g) for g in groups))


def _cmd_train(args: argparse.Namespace, *, default_preset: str) -> None:
    from mechsparse.report.text import summarize_final
    from mechsparse.train import load_data, train

    config = _config_from_args(args, default_preset).validate()
    data = load_data(config)
    print(_benchmark_summary(data), flush=True)
    what = config.regularizer.kind if config.method == "mechanism_sparsity" else config.method
    print(f"\ntraining ({config.preset} preset, {what}) → {args.out}", flush=True)
    result = train(config, args.out, resume=args.resume, data=data, progress=not args.no_progress)
    print()
    print(summarize_final(result.final))
    print(f"\nrun directory: {result.run_dir}\nreport: {result.run_dir / 'report.html'}")


def _cmd_compare(args: argparse.Namespace) -> None:
    from mechsparse.compare import compare
    from mechsparse.train.config import parse_overrides

    overrides = {
        "data.n_samples": args.n_samples,
        "data.data_seed": args.data_seed,
        "optim.max_steps": args.max_steps,
        "optim.max_minutes": args.max_minutes,
        "optim.n_threads": args.threads,
        "optim.device": args.device,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    result = compare(
        args.benchmark,
        out=args.out,
        methods=args.methods,
        seeds=args.seeds,
        graph=args.graph,
        density=args.density,
        edges=args.edges,
        preset_name=args.preset,
        overrides={**overrides, **parse_overrides(args.set)},
        workers=args.workers,
        progress=not args.no_progress,
    )
    print((result.out / "comparison.md").read_text())
    print(f"wrote {result.out / 'comparison.csv'}, comparison_runs.csv and comparison.png")


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; exit status 1 when some runs failed (their errors are in results.csv)."""
    from mechsparse.sweep import sweep

    result = sweep(
        args.spec,
        args.out,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
        yes=args.yes,
        log=lambda line: print(line, flush=True),
    )
    print()
    print((result.out / "summary.md").read_text())
    print(f"wrote {result.out / 'results.csv'}, summary.md, selection.json and the figures")
    if result.failed:
        print(
            f"{len(result.failed)} run(s) failed (errors in results.csv); run the same command "
            "again to retry them.",
            file=sys.stderr,
        )
        return 1
    print(f"next: mechsparse select {result.out}")
    return 0


def _cmd_select(args: argparse.Namespace) -> None:
    from mechsparse.sweep import select
    from mechsparse.sweep.aggregate import configuration_label

    for item in select(args.sweep_dir):
        choice = item["udr"]
        print(f"{item['benchmark']}:")
        if choice is None:
            print("  no UDR selection: no configuration has 2 finished seeds yet")
        else:
            print(f"  UDR selects  {configuration_label(choice)}")
            print(
                f"  UDR          {choice['udr_mean']:.3f} (median {choice['udr_median']:.3f}, "
                f"{choice['finished']} seeds)"
            )
            print(f"  run          {choice['run_dir']}  (seed {choice['seed']})")
            print(f"  next         mechsparse graph {choice['run_dir']}")
        truth = item["truth"]
        if truth is not None:
            criterion = "consistent R" if item["criterion"] == "consistent_r" else "MCC"
            score = truth[f"{item['criterion']}_mean"]
            print(
                f"  (ground truth would select {configuration_label(truth)}: {criterion} {score:.3f})"
            )
        if item["unfinished_runs"]:
            print(
                f"  note: {item['unfinished_runs']} run(s) of this benchmark are not finished; "
                "run the sweep again to complete it"
            )


def _cmd_report(args: argparse.Namespace) -> None:
    from mechsparse.report import write_report

    print(write_report(Path(args.run_dir)))


# --------------------------------------------------------------------- your own data
def _fit_estimator(args: argparse.Namespace):
    """The MechanismSparsityVAE that ``fit`` trains: the train options and --config resolved
    by ``_config_from_args``, handed over as the estimator's parameters."""
    from mechsparse.estimator import RESERVED_CONFIG_KEYS, MechanismSparsityVAE

    if args.regularizer is None and args.coef is not None:
        args.regularizer = "penalty"  # --coef c selects the penalty
    config = _config_from_args(args, "fast")
    r, o = config.regularizer, config.optim
    edges = None
    if r.kind == "constraint":
        given = {
            "graph_z": args.edges_z if args.edges_z is not None else args.edges,
            "graph_a": args.edges_a if args.edges_a is not None else args.edges,
        }
        for graph, from_file in (("graph_z", r.edges_z), ("graph_a", r.edges_a)):
            if given[graph] == "true":
                raise ValueError(
                    "--edges true uses a ground-truth graph, which your data do not have; give "
                    "an integer bound k (or leave it out for 20% of the possible edges)."
                )
            if given[graph] is None and isinstance(from_file, int):
                given[graph] = from_file  # an integer bound from --config
        if any(v is not None for v in given.values()):
            edges = given
    overrides = {
        f"{section}.{key}": value
        for section, values in config.to_dict().items()
        if isinstance(values, dict) and section != "data"
        for key, value in values.items()
        if f"{section}.{key}" not in RESERVED_CONFIG_KEYS
    }
    return MechanismSparsityVAE(
        args.latents,
        regularizer=r.kind,
        edges=edges,
        coef=r.coef if r.kind == "penalty" else None,
        preset=config.preset,
        seed=config.seed,
        max_steps=o.max_steps,
        max_minutes=o.max_minutes,
        device=o.device,
        n_threads=o.n_threads,
        config_overrides=overrides,
        verbose=not args.no_progress,
    )


def _read_user_data(path: str, args: argparse.Namespace, **defaults):
    """read_data with the table options of the command line (``defaults`` fill the gaps)."""
    import warnings

    from mechsparse.data.files import DroppedRowsWarning, read_data

    options = {
        "window": args.window,
        "stride": args.stride,
        "sequence_col": args.sequence_col,
        "time_col": args.time_col,
        "feature_cols": args.feature_cols,
        "action_cols": args.action_cols,
        "regime_col": args.regime_col,
    }
    for key, value in defaults.items():
        if options.get(key) is None:
            options[key] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)  # the summary line reports it
        data = read_data(path, **options)
    print(data.summary(), flush=True)
    return data


def _cmd_fit(args: argparse.Namespace) -> None:
    import shutil
    import tempfile

    from mechsparse.estimator import MIN_SEQUENCES, is_model_dir
    from mechsparse.graph_export import graphs_text

    out = Path(args.out)
    if args.resume and args.overwrite:
        raise ValueError(
            "--resume continues the run in --out and --overwrite replaces it; pick one."
        )
    replace = False
    if out.is_dir() and any(out.iterdir()) and not args.resume:
        if not is_model_dir(out):
            raise FileExistsError(
                f"output directory {str(out)!r} already holds other files; choose a new or "
                "empty directory (nothing was written)."
            )
        if not args.overwrite:
            raise FileExistsError(
                f"output directory {str(out)!r} already holds a run; pass --overwrite to replace "
                "it or --resume to continue it (nothing was written)."
            )
        replace = True
    estimator = _fit_estimator(args)
    data = _read_user_data(args.data, args, min_sequences=MIN_SEQUENCES)
    valid = _read_user_data(args.valid, args, window=data.T) if args.valid else None
    old = None
    if replace:  # keep the previous run until the new one has finished
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
    print(f"\ntraining ({estimator.preset} preset, {estimator.regularizer}) → {out}", flush=True)
    try:
        estimator.fit(data, x_valid=valid, run_dir=out, resume=args.resume)
    except BaseException:
        if old is not None:
            shutil.rmtree(out, ignore_errors=True)
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    est = estimator  # fitted
    bounds = ", ".join(f"E|G^{g[-1]}| ≤ {k}" for g, k in est.edges_.items() if k is not None)
    print(f"\nstep {est.final_.get('step')}" + (f", constraint {bounds}" if bounds else ""))
    nll = (est.final_.get("scores") or {}).get("test/nll")
    if nll is not None:
        print(f"validation ELBO per observed scalar: {-nll:.4f}")
    probs = (est.edge_probabilities_z_, est.edge_probabilities_a_, est.action_names_)
    print(graphs_text(*probs, list_edges=False))
    print(f"\nrun directory: {out}\nreport: {out / 'report.html'}")
    print(f"next: mechsparse graph {out}   |   mechsparse encode {out} DATA --out latents.csv")


def _cmd_encode(args: argparse.Namespace) -> None:
    from mechsparse.data.files import check_output_path, write_latents
    from mechsparse.estimator import MechanismSparsityVAE

    check_output_path(args.out, overwrite=args.overwrite, what="latents")
    est = MechanismSparsityVAE.load(args.run_dir, device=args.device)
    defaults: dict = {"window": est.n_timesteps_}
    if not str(args.data).lower().endswith(".npz"):
        info = est.data_info_
        defaults["sequence_col"] = info.get("sequence_col")
        defaults["time_col"] = info.get("time_col")
        if info.get("named_features"):
            defaults["feature_cols"] = [str(n) for n in est.feature_names_in_]
    data = _read_user_data(args.data, args, **defaults)
    z = est.transform(data)
    path = write_latents(args.out, z, data, format=args.format, overwrite=args.overwrite)
    print(f"wrote z {z.shape} with the source rows of every frame to {path}")


def _cmd_graph(args: argparse.Namespace) -> None:
    from mechsparse._atomic import atomic_write
    from mechsparse.data.files import check_output_path
    from mechsparse.estimator import MechanismSparsityVAE
    from mechsparse.graph_export import graphs_csv, graphs_graphml, graphs_text

    if args.out:
        check_output_path(args.out, overwrite=args.overwrite, what="graph")
    run = Path(args.run_dir)
    if (run / "final.json").is_file() and not (run / "estimator.json").is_file():
        # a `train` run on a benchmark: the graphs are in final.json, actions are a0, a1, ...
        final = json.loads((run / "final.json").read_text())
        probs = {
            name: None if final.get(name) is None else np.asarray(final[name]["probabilities"])
            for name in ("graph_z", "graph_a")
        }
        names = (
            None
            if probs["graph_a"] is None
            else [f"a{j}" for j in range(probs["graph_a"].shape[1])]
        )
    else:
        est = MechanismSparsityVAE.load(run, device="cpu")
        probs = {"graph_z": est.edge_probabilities_z_, "graph_a": est.edge_probabilities_a_}
        names = est.action_names_
    export = {"text": graphs_text, "csv": graphs_csv, "graphml": graphs_graphml}[args.format]
    text = export(probs["graph_z"], probs["graph_a"], names, threshold=args.threshold)
    if args.out:
        atomic_write(Path(args.out), lambda tmp: Path(tmp).write_text(text))
        print(f"wrote the learned graphs ({args.format}) to {args.out}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mechsparse`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "datasets":
            _cmd_datasets()
        elif args.command == "generate":
            _cmd_generate(args)
        elif args.command == "theory":
            _cmd_theory(args)
        elif args.command == "train":
            if not args.benchmark and not args.config:
                raise ValueError("train needs --benchmark NAME (or a --config file naming one).")
            _cmd_train(args, default_preset="fast")
        elif args.command == "demo":
            if not args.benchmark:
                args.benchmark = "action_sparsity_non_trivial"
            if args.max_steps is None and not args.config:
                # inside the 10-minute budget of `make demo` on 2 cores, set-up included; this
                # benchmark reaches MCC 0.99 by 24k steps on every seed of the quality table
                args.max_steps = DEMO_MAX_STEPS
            args.resume = True  # running the demo again shows the finished run instead of failing
            _cmd_train(args, default_preset="fast")
        elif args.command == "compare":
            _cmd_compare(args)
        elif args.command == "sweep":
            return _cmd_sweep(args)
        elif args.command == "select":
            _cmd_select(args)
        elif args.command == "report":
            _cmd_report(args)
        elif args.command == "fit":
            _cmd_fit(args)
        elif args.command == "encode":
            _cmd_encode(args)
        elif args.command == "graph":
            _cmd_graph(args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, RuntimeError) as err:
        print(f"mechsparse {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
