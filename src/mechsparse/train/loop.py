"""The training loop: one function, readable in one sitting.

``train(config, out_dir)`` loads the data, builds the model and the sparsity problem, then
repeats: draw a minibatch by index from tensors on the device → one simultaneous primal/dual
step (cooper) → dual restarts → every ``log_every`` steps a training record, every
``eval_every`` steps a validation record, every ``checkpoint_every`` steps a checkpoint. It stops
at ``max_steps`` or ``max_minutes`` and finishes with the test-split evaluation
(``final.json``, ``z_hat.npz``) and the report.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mechsparse.baselines import BASELINES, DataSpec, build_method
from mechsparse.data import Benchmark, load_benchmark
from mechsparse.model import LatentCausalVAE, LatentPrior
from mechsparse.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from mechsparse.train.config import OWN_METHOD, Config
from mechsparse.train.evaluate import (
    GroundTruth,
    disentanglement_scores,
    encode_means,
    objective_on,
)
from mechsparse.train.realign import realign_latents
from mechsparse.train.regularizers import (
    GraphBudget,
    MethodProblem,
    Regularizer,
    SparsityProblem,
    build_optimizer,
)
from mechsparse.train.run_dir import RunDir

__all__ = [
    "RunResult",
    "TrainingDiverged",
    "build_any_model",
    "build_model",
    "load_data",
    "load_trained_model",
    "resolve_device",
    "train",
]

EVAL_BATCH = 4096
FINAL_FRAMES = 100_000


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True)
class RunResult:
    """What :func:`train` returns: the run directory and the contents of final.json."""

    run_dir: Path
    final: dict[str, Any]

    @property
    def scores(self) -> dict[str, float]:
        return self.final["scores"]


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was requested but no CUDA GPU is available; use 'auto' or 'cpu'."
        )
    return torch.device(name)


def load_data(config: Config) -> Benchmark:
    """The benchmark named by ``config.data``."""
    d = config.data
    return load_benchmark(
        d.benchmark, n_samples=d.n_samples, seed=d.data_seed, graph=d.graph, density=d.density
    )


def _budgets(config: Config, data: Benchmark, d_z: int) -> tuple[GraphBudget, ...]:
    """The constraint per learned graph, resolving ``"true"`` to the ground-truth edge count."""
    r = config.regularizer
    graphs = {"graph_z": (data.graph_z, d_z * d_z, r.edges_z)}
    if data.d_a:
        graphs["graph_a"] = (data.graph_a, d_z * data.d_a, r.edges_a)
    present = {"graph_z": data.T >= 2, "graph_a": data.d_a > 0}
    out = []
    for name, (true, max_edges, edges) in graphs.items():
        if edges is None:
            continue
        if not present[name]:
            continue  # a bound for a graph these data do not have does not apply
        if edges == "true":
            if true is None:
                raise ValueError(f"edges 'true' needs a known ground-truth {name}.")
            edges = int(np.asarray(true).sum())
        out.append(GraphBudget(name=name, max_edges=max_edges, k=int(edges)))
    return tuple(out)


def build_model(
    config: Config,
    *,
    d_x: int,
    d_z: int,
    d_a: int,
    n_lags: int,
    learn_z: bool,
    learn_a: bool,
    discrete_aux: bool = False,
) -> LatentCausalVAE:
    """The VAE with its latent causal prior, sized by ``config.model`` and with its ``auto``
    choices resolved for these data (``discrete_aux``: the auxiliary variables are one-hot
    regimes; absent from checkpoints written before it existed, whose configs have no ``auto``)."""
    m = config.model.for_data(discrete_aux=discrete_aux)
    prior = LatentPrior(
        d_z,
        d_a=d_a,
        n_lags=n_lags,
        width=m.prior_width,
        depth=m.prior_depth,
        hidden_bias=m.prior_hidden_bias,
        variance=m.transition_variance,
        learn_graph_z=learn_z,
        learn_graph_a=learn_a,
        mask_init_logit=m.mask_init_logit,
        mask_temperature=m.mask_temperature,
        mask_hard=m.mask_hard,
        mask_noise=m.mask_noise,
        regime_effect=m.regime_effect,
        mechanism=m.prior_mechanism,
        residual=m.prior_residual,
    )
    return LatentCausalVAE(
        d_x,
        d_z,
        d_a=d_a,
        n_lags=n_lags,
        encoder_width=m.encoder_width,
        encoder_depth=m.encoder_depth,
        decoder_width=m.decoder_width,
        decoder_depth=m.decoder_depth,
        prior=prior,
        decoder_logvar_init=m.decoder_logvar_init,
        beta=m.kl_weight(temporal=n_lags > 0),
    )


def build_any_model(config: Config, dims: dict[str, Any]) -> torch.nn.Module:
    """The model of ``config.method`` for data of dimensions ``dims`` (as saved in checkpoints):
    the mechanism-sparsity VAE (:func:`build_model`) or a baseline."""
    if config.method == OWN_METHOD:
        return build_model(config, **dims)
    return build_method(config.method, DataSpec(**dims), config.model, config.baseline)


class _Setup:
    """Everything a run needs, built identically for a fresh start and for a resume."""

    def __init__(self, config: Config, data: Benchmark) -> None:
        o, r = config.optim, config.regularizer
        self.device = resolve_device(o.device)
        self.d_z = config.model.n_latents or data.d_z
        self.n_lags = 1 if data.T >= 2 else 0
        self.budgets: tuple[GraphBudget, ...] = ()
        discrete_aux = data.aux_type == "discrete"
        if (
            config.model.for_data(discrete_aux=discrete_aux).regime_effect == "shift"
            and not discrete_aux
        ):
            raise ValueError(
                "model.regime_effect='shift' needs discrete auxiliary variables (one-hot "
                f"regimes); these data have {data.aux_type or 'none'}. Use 'input'."
            )
        if config.method == OWN_METHOD:
            if r.realign_at_step is not None and r.realign_map_search == "additive" and data.T < 2:
                raise ValueError(
                    "regularizer.realign_map_search='additive' searches the coordinates of the "
                    f"transitions z_(t-1) -> z_t and needs sequences (T >= 2); these data have "
                    f"T = {data.T}. Use 'joint'."
                )
            regularizer = Regularizer(r.kind)
            if regularizer is Regularizer.CONSTRAINT:
                self.budgets = _budgets(config, data, self.d_z)
                learned = {b.name for b in self.budgets}
            else:
                learned = set() if regularizer is Regularizer.NONE else {"graph_z", "graph_a"}
            self.dims: dict[str, Any] = {
                "d_x": data.d_x,
                "d_z": self.d_z,
                "d_a": data.d_a,
                "n_lags": self.n_lags,
                "learn_z": "graph_z" in learned,
                "learn_a": "graph_a" in learned,
                "discrete_aux": discrete_aux,
            }
        else:
            self.dims = DataSpec(
                d_x=data.d_x,
                d_z=self.d_z,
                d_a=data.d_a,
                n_frames=data.T,
                aux_type=data.aux_type,
                n_train=int(data.train.x.shape[0]),
                has_latents=data.train.z is not None,
            ).to_dict()
        torch.manual_seed(config.seed)
        self.model = build_any_model(config, self.dims).to(self.device)
        if config.method == OWN_METHOD:
            self.problem = SparsityProblem(
                self.model,
                regularizer,
                coef=r.coef,
                coef_warmup_steps=r.coef_warmup_steps,
                budgets=self.budgets,
                schedule_steps=r.schedule_steps,
                d_x=data.d_x,
            )
        else:
            self.problem = MethodProblem(self.model)
        # A baseline's objective is evaluated at the training minibatch size: β-TCVAE's
        # minibatch-weighted estimate depends on it and is quadratic in it.
        self.objective_batch = EVAL_BATCH if config.method == OWN_METHOD else o.batch_size
        self.trains = bool(getattr(self.model, "trains", True))
        self.needs_latents = bool(getattr(self.model, "needs_latents", False))
        self.optimizer = build_optimizer(
            self.problem,
            lr=o.lr,
            mask_lr=r.mask_lr,
            dual_lr=r.dual_lr,
            decoder_var_lr=o.decoder_var_lr,
        )
        primal = self.optimizer.primal_optimizers
        self.primal = primal[0] if isinstance(primal, list | tuple) else primal
        self.base_lrs = [group["lr"] for group in self.primal.param_groups]
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        to = lambda arr: None if arr is None else torch.as_tensor(arr, device=self.device)  # noqa: E731
        self.x = {s: to(data.split(s).x) for s in ("train", "valid", "test")}
        self.a = {s: to(data.split(s).a) for s in ("train", "valid", "test")}
        # The true latents reach training only for a method supervised by them (``supervised``).
        self.z = {
            s: to(data.split(s).z) if self.needs_latents else None
            for s in ("train", "valid", "test")
        }
        self.truth = GroundTruth(
            graph_z=data.graph_z if self.n_lags else None, graph_a=data.graph_a
        )
        self.has_z = all(data.split(s).z is not None for s in ("valid", "test"))

    def scale_learning_rates(self, scale: float) -> None:
        """Set every primal parameter group's learning rate to ``scale`` times its configured
        value (the warm-up after a latent realignment; 1 otherwise)."""
        for group, base in zip(self.primal.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * scale

    def state(self, step: int, elapsed: float) -> dict[str, Any]:
        cuda = self.device.type == "cuda"
        return {
            "step": step,
            "elapsed_s": elapsed,
            "dims": self.dims,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "problem": self.problem.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": list(torch.cuda.get_rng_state_all()) if cuda else [],
                "batches": self.generator.get_state(),
            },
        }

    def load_state(self, state: dict[str, Any]) -> tuple[int, float]:
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.problem.load_state_dict(state["problem"])
            torch.set_rng_state(state["rng"]["torch"])
            if self.device.type == "cuda" and state["rng"]["cuda"]:
                torch.cuda.set_rng_state_all(state["rng"]["cuda"])
            self.generator.set_state(state["rng"]["batches"])
            return int(state["step"]), float(state["elapsed_s"])
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise CheckpointError(f"the checkpoint does not match this run's model: {err}") from err

    def learned_graphs(self) -> dict[str, np.ndarray]:
        """The learned graphs 1[σ(α) > 0.5] (all ones for a frozen mask); none for a baseline."""
        prior = getattr(self.model, "prior", None)
        if prior is None:
            return {}
        return {
            name: mask.graph().cpu().numpy()
            for name, mask in (("graph_z", prior.mask_z), ("graph_a", prior.mask_a))
            if mask is not None
        }

    def probabilities(self) -> dict[str, np.ndarray]:
        prior = getattr(self.model, "prior", None)
        if prior is None:
            return {}
        return {
            name: mask.probabilities().detach().cpu().numpy()
            for name, mask in (("graph_z", prior.mask_z), ("graph_a", prior.mask_a))
            if mask is not None
        }


def _evaluate(
    setup: _Setup, data: Benchmark, split: str, frames: int, seed: int, *, final: bool
) -> dict[str, Any]:
    """ELBO terms on a split and, with ground truth, the scores on its first ``frames`` frames.

    Runs under a forked RNG seeded by ``seed`` so that evaluating never changes the training
    stream (a resumed run and an uninterrupted one stay identical)."""
    devices = [setup.device.index or 0] if setup.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        out: dict[str, Any] = {
            f"{split}/{k}": v
            for k, v in objective_on(
                setup.model, setup.x[split], setup.a[split], setup.z[split], setup.objective_batch
            ).items()
        }
        n_seq = max(1, min(setup.x[split].shape[0], frames // data.T))
        z_hat = encode_means(setup.model, setup.x[split][:n_seq], EVAL_BATCH)
    details = None
    if setup.has_z:
        from threadpoolctl import threadpool_limits

        z = data.split(split).z[:n_seq]
        # scikit-learn's OpenMP pools default to every core; keep them to the run's threads so
        # parallel runs (sweeps, compare --workers) do not oversubscribe the machine.
        with threadpool_limits(limits=torch.get_num_threads()):
            details = disentanglement_scores(
                z, z_hat, setup.truth, setup.learned_graphs(), nonlinear=final
            )
        out.update(details["scores"])
    return {"record": out, "details": details, "z_hat": z_hat}


def train(
    config: Config,
    out_dir: str | Path,
    *,
    resume: bool = False,
    data: Benchmark | None = None,
    progress: bool = True,
    report: bool = True,
) -> RunResult:
    """Train a mechanism-sparsity VAE and write its run directory.

    Args:
        config: the run's configuration (validated here).
        out_dir: the run directory (created; refused if it holds anything else).
        resume: continue the run in ``out_dir`` from its last checkpoint.
        data: the benchmark to use instead of loading ``config.data`` (same splits).
        progress: show a live progress bar.
        report: write report.html at the end.

    Returns:
        The run directory and the final (test-split) results.

    Raises:
        TrainingDiverged: the loss became NaN or infinite (the last good checkpoint is kept).
    """
    config.validate()
    run = RunDir(out_dir)
    has_checkpoint = run.prepare(config, resume=resume)
    if resume and run.final.is_file():
        final = run.read_final()
        budget_s = None if config.optim.max_minutes is None else 60 * config.optim.max_minutes
        untrained = not getattr(BASELINES.get(config.method), "trains", True)  # ``random``
        if (
            untrained
            or final["step"] >= config.optim.max_steps
            or (budget_s is not None and final["wall_time_s"] >= budget_s)
        ):
            return RunResult(run.path, final)  # finished; a larger budget extends it instead
    if config.optim.n_threads is not None:
        torch.set_num_threads(config.optim.n_threads)
    data = load_data(config) if data is None else data
    setup = _Setup(config, data)  # refuses settings that do not fit the data, writing nothing
    run.save_config(config)
    o = config.optim
    start, elapsed0 = 0, 0.0
    if has_checkpoint:
        start, elapsed0 = setup.load_state(load_checkpoint(run.checkpoint))
        run.truncate_metrics(start)
    elif run.metrics.exists():
        run.truncate_metrics(0)
    (run.path / "checkpoints").mkdir(exist_ok=True)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=o.max_steps, initial=start, desc=run.path.name, dynamic_ncols=True)
    t0 = time.perf_counter() - elapsed0
    n_train = setup.x["train"].shape[0]
    x_train, a_train = setup.x["train"], setup.a["train"]
    nonfinite = torch.zeros((), dtype=torch.bool, device=setup.device)
    last_eval: dict[str, Any] = {}
    step = start
    constrained = bool(setup.budgets) and config.regularizer.dual_restarts
    z_train = setup.z["train"]
    r = config.regularizer
    realign_at = r.realign_at_step if config.method == OWN_METHOD else None
    if not setup.trains:  # ``random``: evaluated at initialisation, nothing to optimise
        result = _evaluate(setup, data, "valid", o.eval_frames, config.seed, final=False)
        run.append_metrics({"kind": "eval", "step": 0, "time_s": 0.0, **result["record"]})
        save_checkpoint(run.checkpoint, setup.state(0, time.perf_counter() - t0))
    while step < o.max_steps and setup.trains:
        setup.scale_learning_rates(realign_warmup(step, realign_at, r.realign_warmup_steps))
        idx = torch.randint(
            n_train, (o.batch_size,), generator=setup.generator, device=setup.device
        )
        batch = {"x": x_train[idx], "a": None if a_train is None else a_train[idx], "step": step}
        if z_train is not None:
            batch["z"] = z_train[idx]
        rollout = setup.optimizer.roll(compute_cmp_state_kwargs=batch)
        if constrained:
            setup.problem.restart_duals(rollout.cmp_state)
        nonfinite |= ~torch.isfinite(rollout.loss.detach())
        step += 1
        elapsed = time.perf_counter() - t0
        out_of_time = o.max_minutes is not None and elapsed >= 60 * o.max_minutes
        boundary = out_of_time or step == o.max_steps
        if (
            step % o.log_every == 0
            or step % o.checkpoint_every == 0
            or step % o.eval_every == 0
            or boundary
        ):
            if bool(nonfinite):
                if bar is not None:
                    bar.close()
                raise TrainingDiverged(
                    f"the loss became NaN or infinite before step {step}; the run stopped and its "
                    f"last good checkpoint ({str(run.checkpoint)!r}, if any) was kept. Try a lower "
                    "learning rate (optim.lr) or a different seed."
                )
        if step % o.log_every == 0 or boundary:
            record = _train_record(step, elapsed, rollout, setup)
            run.append_metrics(record)
            if bar is not None:
                bar.set_postfix_str(_postfix(record, last_eval), refresh=False)
        if step % o.eval_every == 0 or boundary:
            result = _evaluate(setup, data, "valid", o.eval_frames, config.seed + step, final=False)
            last_eval = {
                "kind": "eval",
                "step": step,
                "time_s": round(elapsed, 2),
                **result["record"],
            }
            run.append_metrics(last_eval)
        realigned = step == realign_at
        if realigned:
            record = _realign(setup, config, data, step)
            record["time_s"] = round(time.perf_counter() - t0, 2)
            run.append_metrics(record)
            last_eval = record
        if step % o.checkpoint_every == 0 or boundary or realigned:
            save_checkpoint(run.checkpoint, setup.state(step, time.perf_counter() - t0))
        if bar is not None:
            bar.update(1)
        if out_of_time:
            break
    if bar is not None:
        bar.close()
    final = _finish(setup, data, run, config, step, time.perf_counter() - t0)
    if report:
        from mechsparse.report import write_report

        write_report(run.path)
    return RunResult(run.path, final)


def _realign(setup: _Setup, config: Config, data: Benchmark, step: int) -> dict[str, Any]:
    """Realign the latents after ``step`` (:func:`realign_latents`), reset Adam's moments of
    every parameter it changed and the multipliers, and return the metrics record: the
    realignment's loss (mean of its last 100 steps), expected edges and wall time, and the
    validation scores after it.

    Runs under a forked RNG seeded by ``config.seed + step``, so a resumed run repeats it
    exactly and the training stream is not changed."""
    r = config.regularizer
    devices = [setup.device.index or 0] if setup.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config.seed + step)
        fresh_prior = build_model(config, **setup.dims).prior.to(setup.device)
        n = min(r.realign_examples, setup.x["train"].shape[0])
        a_train = setup.a["train"]
        result = realign_latents(
            setup.model,
            fresh_prior,
            setup.x["train"][:n],
            None if a_train is None else a_train[:n],
            regularizer=Regularizer(r.kind),
            budgets=setup.budgets,
            coef=r.coef,
            steps=r.realign_steps,
            schedule_steps=r.realign_schedule_steps,
            batch_size=r.realign_batch_size,
            lr=config.optim.lr,
            map_lr=r.realign_map_lr,
            map_search=r.realign_map_search,
            mask_lr=r.mask_lr,
            dual_lr=r.dual_lr,
            dual_restarts=r.dual_restarts,
            generator=torch.Generator(device=setup.device).manual_seed(config.seed + step),
        )
    model = setup.model
    for param in (
        *model.encoder.net[-1].parameters(),
        *model.decoder.net[0].parameters(),
        *model.prior.parameters(),
    ):
        setup.primal.state.pop(param, None)  # Adam's moments belong to the old coordinates
    with torch.no_grad():
        for budget in setup.budgets:
            getattr(setup.problem, budget.name).multiplier.weight.zero_()
    record: dict[str, Any] = {
        "kind": "realign",
        "step": step,
        "realign_loss": result.loss,
        "realign_seconds": round(result.seconds, 2),
        **{f"realign_expected_edges_{k[-1]}": v for k, v in result.expected_edges.items()},
    }
    scores = _evaluate(
        setup, data, "valid", config.optim.eval_frames, config.seed + step, final=False
    )
    record.update(scores["record"])
    return record


def realign_warmup(step: int, realign_at: int | None, warmup_steps: int) -> float:
    """Learning-rate factor of the update that follows ``step``: it rises linearly from 0 to 1
    over the ``warmup_steps`` updates after a latent realignment done after step
    ``realign_at`` (None: none), and is 1 otherwise.

    The realignment re-expresses the encoder's last layer, the decoder's first layer and the
    whole prior, and restarts their Adam moments; Adam's first steps on fresh moments (or on
    moments of the old coordinates) move every weight by about the full learning rate and
    blow the reconstruction up within ten steps at the fast preset's rate."""
    if realign_at is None or warmup_steps == 0 or step < realign_at:
        return 1.0
    return min(1.0, (step + 1 - realign_at) / warmup_steps)


def _train_record(step: int, elapsed: float, rollout: Any, setup: _Setup) -> dict[str, Any]:
    misc = rollout.cmp_state.misc
    record: dict[str, Any] = {
        "kind": "train",
        "step": step,
        "time_s": round(elapsed, 2),
        "loss": float(rollout.loss.detach()),
        **{name: float(value) for name, value in misc["terms"].items()},
    }
    for name, value in misc["expected_edges"].items():
        record[f"expected_edges_{name[-1]}"] = float(value)
    for name, bound in misc["bounds"].items():
        record[f"bound_{name[-1]}"] = bound
        record[f"violation_{name[-1]}"] = record[f"expected_edges_{name[-1]}"] - bound
    for name, value in setup.problem.multiplier_values().items():
        record[f"multiplier_{name[-1]}"] = value
    if misc["penalty_coef"] is not None:
        record["penalty_coef"] = misc["penalty_coef"]
    return record


def _postfix(record: dict[str, Any], last_eval: dict[str, Any]) -> str:
    parts = [f"loss {record['loss']:.3f}"]
    if "mcc" in last_eval:
        parts.append(f"mcc {last_eval['mcc']:.3f}")
    for g in ("z", "a"):
        if f"expected_edges_{g}" in record:
            parts.append(f"E|G{g}| {record[f'expected_edges_{g}']:.1f}")
        if f"multiplier_{g}" in record:
            parts.append(f"λ{g} {record[f'multiplier_{g}']:.3g}")
    return ", ".join(parts)


def _finish(
    setup: _Setup, data: Benchmark, run: RunDir, config: Config, step: int, wall: float
) -> dict[str, Any]:
    """Test-split evaluation → final.json and z_hat.npz."""
    from mechsparse._atomic import atomic_write_bytes

    result = _evaluate(setup, data, "test", FINAL_FRAMES, config.seed + 1_000_003, final=True)
    details = result["details"] or {}
    probs = setup.probabilities()
    graphs: dict[str, Any] = {}
    for name, true in (("graph_z", setup.truth.graph_z), ("graph_a", setup.truth.graph_a)):
        if name not in probs:
            graphs[name] = None
            continue
        graphs[name] = {
            "true": None if true is None else np.asarray(true).tolist(),
            "probabilities": probs[name].tolist(),
            "learned": (probs[name] > 0.5).astype(int).tolist(),
            "errors": details.get("graph_errors", {}).get(name),
        }
    test_nll = {k: v for k, v in result["record"].items() if k.startswith("test/")}
    final = {
        "step": step,
        "wall_time_s": round(wall, 2),
        "method": config.method,
        "benchmark": data.name,
        "scores": {**details.get("scores", {}), **test_nll},
        "graph_z": graphs["graph_z"],
        "graph_a": graphs["graph_a"],
        "permutation": details.get("permutation"),
        "corr": details.get("corr"),
        "entanglement_predicted": details.get("entanglement_predicted"),
        "entanglement_measured": details.get("entanglement_measured"),
        "multipliers": setup.problem.multiplier_values(),
        "n_parameters": int(sum(p.numel() for p in setup.model.parameters() if p.requires_grad)),
        "device": str(setup.device),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    final = _finite_json(final)
    import io

    buffer = io.BytesIO()
    arrays = {"z_hat": result["z_hat"]}
    if setup.has_z:
        arrays["z"] = data.split("test").z[: result["z_hat"].shape[0]]
    np.savez(buffer, **arrays)
    atomic_write_bytes(run.z_hat, buffer.getvalue())
    run.write_final(final)
    return final


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux/macOS)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _finite_json(value: Any) -> Any:
    """Replace NaN/Inf floats by None so final.json stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_json(v) for v in value]
    return value


def load_trained_model(run_dir: str | Path, *, device: str = "cpu") -> torch.nn.Module:
    """The model of a run directory, rebuilt from its config.yaml and last checkpoint.

    The architecture sizes come from the config and the data dimensions from the checkpoint,
    so nothing is unpickled. Raises ``CheckpointError`` for a missing or foreign checkpoint.
    """
    from mechsparse.train.config import load_config

    run = RunDir(run_dir)
    config = load_config(run.config)
    state = load_checkpoint(run.checkpoint)
    if "dims" not in state or "model" not in state:
        raise CheckpointError(f"{str(run.checkpoint)!r} lacks the model or its dimensions.")
    try:
        model = build_any_model(config, dict(state["dims"]))
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"{str(run.checkpoint)!r} has dimensions that do not fit its config: {err}"
        ) from err
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{str(run.checkpoint)!r} does not match its config: {err}") from err
    return model.to(resolve_device(device)).eval()
