"""``MechanismSparsityVAE``: the method as a scikit-learn-style estimator for your own data.

Three lines take a table to latents and a learned causal graph::

    from mechsparse import MechanismSparsityVAE, read_data
    data = read_data("actions.csv", action_cols="a*")           # x (n, 1, d_x), a (n, 1, d_a)
    z = MechanismSparsityVAE(n_latents=10).fit(data).transform(data)   # (n, 1, 10)

``fit`` builds a :class:`~mechsparse.data.Benchmark` without ground truth from the arrays and
calls the one training function, :func:`mechsparse.train.train`, exactly as ``mechsparse train``
and ``mechsparse fit`` do; the fitted model is then rebuilt from the run directory.

Data layout
-----------
x is (n, T, d_x), or (n, d_x) for T = 1: n independent sequences of T frames. The auxiliary
variable a is optional: continuous actions (n, T, d_a) float (or (n, d_a) with a 2-D x), or
discrete regimes (n, T) int (or (n,)), one-hot encoded over the regimes seen by ``fit``.
``a[:, t]`` acts on the latents of frame t: the paper's a^{t-1} → z^t is stored at index t. If
your data record at time t the action taken at t (affecting frame t + 1), shift a by one frame.
With T ≥ 2 the first frame has the learned initial prior p(z^0), so ``a[:, 0]`` is unused.
With T = 1 a is required (there is no temporal graph to learn).

Each feature of x is standardised with the mean and standard deviation of the training
sequences (over all frames); the statistics are saved with the model and applied by
``transform``, ``score`` and ``mechsparse encode``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from mechsparse import __version__
from mechsparse._atomic import atomic_write_text
from mechsparse._estimator_inputs import (
    Inputs,
    action_names,
    encoded_a,
    standardisation,
    standardised,
)
from mechsparse._estimator_params import (
    DEFAULT_EDGE_FRACTION,
    RESERVED_CONFIG_KEYS,
    ShortScheduleWarning,
    build_config,
    check_params,
    json_params,
    resolve_edges,
    warn_short_schedule,
)
from mechsparse._model_dir import (
    ESTIMATOR_FILE,
    check_target_dir,
    is_model_dir,
    model_dims,
    replace_dir,
)
from mechsparse.data.benchmarks import Benchmark, Split
from mechsparse.train.checkpoint import CheckpointError, save_checkpoint
from mechsparse.train.config import Config, load_config
from mechsparse.train.evaluate import elbo_on, encode_means
from mechsparse.train.loop import EVAL_BATCH, load_trained_model, train
from mechsparse.train.run_dir import RunDir

__all__ = [
    "DEFAULT_EDGE_FRACTION",
    "ESTIMATOR_FILE",
    "MIN_SEQUENCES",
    "RESERVED_CONFIG_KEYS",
    "MechanismSparsityVAE",
    "ShortScheduleWarning",
    "is_model_dir",
]

MIN_SEQUENCES = 10
"""Fewest sequences ``fit`` accepts (before the validation hold-out)."""
FORMAT = "mechsparse-estimator"
FORMAT_VERSION = 1


class MechanismSparsityVAE(BaseEstimator):
    """VAE with a sparse latent causal prior, fitted to your sequences (scikit-learn style).

    Learns n_latents latents z^t from observations x^t and the graphs of their mechanisms:
    G^z (``graph_z``, latent z^{t-1}_j → z^t_i, for T ≥ 2) and G^a (``graph_a``, auxiliary
    variable a_j → z_i, when a is given); rows are children, columns parents. The graphs are
    made sparse by a constraint E|G| ≤ k (default), a penalty, or not at all.

    Parameters:
        n_latents: number of latents K.
        regularizer: ``"constraint"`` (E|G| ≤ k per learned graph, a Lagrangian solved with
            cooper), ``"penalty"`` (β · coef · E|G| / d_x added to the loss, β the KL weight
            of the preset; the fast preset raises the coefficient from 0 to coef over the first
            12,000 steps, ``regularizer.coef_warmup_steps``) or ``"none"``
            (graphs frozen fully connected).
        edges: the bound k of the constraint: an integer for every learned graph, or a
            mapping ``{"graph_z": k_z, "graph_a": k_a}``. None (or a graph left out of the
            mapping) uses ``DEFAULT_EDGE_FRACTION`` = 20 % of that graph's possible edges
            (K·K for G^z, K·d_a for G^a), rounded, at least 1: a starting point, not a
            guarantee. The theory asks for k no larger than the true number of edges; when it
            is unknown, compare a few k by ``score`` on held-out data or by UDR.
        coef: the penalty coefficient c > 0 (``regularizer="penalty"`` only).
        preset: ``"fast"`` (CPU-sized model, minutes) or ``"paper"`` (the authors' constants).
        seed: seeds the initialisation, minibatches, mask noise, the validation hold-out and
            ``score``. Pass an int for reproducible results across calls.
        max_steps: optimisation steps (None: the preset's, 36,000 for ``fast``).
        max_minutes: wall-clock limit of training (None: none).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        n_threads: torch CPU threads during training (None: torch's default).
        standardize: standardise each feature with the training mean and std.
        valid_fraction: share of the sequences held out for validation when ``fit`` gets no
            ``x_valid``.
        config_overrides: further :class:`~mechsparse.train.Config` values as dotted keys or
            a nested mapping, e.g. ``{"model.encoder_width": 64, "optim.lr": 1e-3}``; keys set
            by the parameters above are refused.
        verbose: show a progress bar while training.

    Attributes:
        model_: the trained ``LatentCausalVAE`` (eval mode).
        config_: the resolved :class:`~mechsparse.train.Config` of the run.
        graph_z_: (K, K) int {0,1} learned G^z = 1[σ(α) > 0.5] (rows children z^t_i, columns
            parents z^{t-1}_j), or None for T = 1. All ones when not learned.
        graph_a_: (K, d_a) learned G^a (columns: actions, or regimes in ``regime_values_``
            order), or None without a.
        edge_probabilities_z_: (K, K) float edge probabilities σ(α) of G^z, or None.
        edge_probabilities_a_: (K, d_a) float edge probabilities of G^a, or None.
        edges_: the constraint's bounds ``{"graph_z": k_z, "graph_a": k_a}`` (None where a
            graph is absent or not constrained).
        history_: the training records of metrics.jsonl (dicts with ``kind`` ``train`` or
            ``eval``, ``step``, ``loss``, ``expected_edges_*``, ``valid/nll``, ...).
        final_: the contents of final.json (scores on the validation data).
        run_dir_: the run directory (a temporary one, removed with the estimator, unless
            ``fit`` was given ``run_dir``).
        n_features_in_: d_x.
        feature_names_in_: (d_x,) feature names (``x0``, ... for unnamed arrays).
        n_timesteps_: T of the training sequences.
        data_info_: where the training data came from: ``source``, ``named_features``,
            ``sequence_col``, ``time_col`` and ``stride`` (tables), ``n_train``, ``n_valid``
            and ``valid`` (``"held out"`` or ``"given"``).
        aux_type_: ``"continuous"``, ``"discrete"`` or None.
        action_names_: names of G^a's columns: the action names, or ``"<regime>=<value>"``.
        regime_values_: (d_a,) sorted regime labels seen by ``fit``, or None.
        mean_: (d_x,) training mean of each feature (0 without standardisation).
        scale_: (d_x,) training standard deviation of each feature (1 without).
    """

    def __init__(
        self,
        n_latents: int,
        *,
        regularizer: str = "constraint",
        edges: int | Mapping[str, int] | None = None,
        coef: float | None = None,
        preset: str = "fast",
        seed: int = 0,
        max_steps: int | None = None,
        max_minutes: float | None = None,
        device: str = "auto",
        n_threads: int | None = None,
        standardize: bool = True,
        valid_fraction: float = 0.1,
        config_overrides: Mapping[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        self.n_latents = n_latents
        self.regularizer = regularizer
        self.edges = edges
        self.coef = coef
        self.preset = preset
        self.seed = seed
        self.max_steps = max_steps
        self.max_minutes = max_minutes
        self.device = device
        self.n_threads = n_threads
        self.standardize = standardize
        self.valid_fraction = valid_fraction
        self.config_overrides = config_overrides
        self.verbose = verbose

    # ------------------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any,
        a: Any = None,
        *,
        x_valid: Any = None,
        a_valid: Any = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
    ) -> Self:
        """Train on x (and a); see the module docstring for the layouts.

        Args:
            x: (n, T, d_x) or (n, d_x) observations, a pandas DataFrame (n, d_x) whose
                columns name the features, or a :class:`~mechsparse.data.UserData` from
                :func:`~mechsparse.data.read_data` (then a comes from it).
            a: (n, T, d_a) float actions, (n, T) int regimes, or None.
            x_valid: validation sequences in x's layout. None holds out ``valid_fraction``
                of x's sequences (chosen with ``seed``). The validation data are evaluated
                during training and are also the "test" split of the run's final evaluation
                (final.json, z_hat.npz, report), since user data have no separate test set.
            a_valid: the validation sequences' a.
            run_dir: write the run here (created; refused if it holds anything else) and
                keep it; None trains in a temporary directory.
            resume: continue the run in ``run_dir`` from its last checkpoint.

        Returns:
            self, fitted.

        Raises:
            ValueError, TypeError: invalid parameters or data (nothing is written).
            TrainingDiverged: the loss became NaN or infinite.
        """
        params = check_params(self)
        config, meta, bench = self._prepare(params, x, a, x_valid, a_valid)
        temporary = run_dir is None
        if temporary:
            if resume:
                raise ValueError("resume=True needs the run_dir of the run to continue.")
            run_dir = tempfile.mkdtemp(prefix="mechsparse-fit-")
            weakref.finalize(self, shutil.rmtree, run_dir, ignore_errors=True)
        result = train(
            config,
            run_dir,
            resume=resume,
            data=bench,
            progress=params["verbose"],
            report=not temporary,
        )
        run = RunDir(result.run_dir)
        atomic_write_text(run.path / ESTIMATOR_FILE, json.dumps(meta, indent=1))
        model = load_trained_model(run.path, device=params["device"])
        self._set_fitted(model, config, meta, result.final, run.read_metrics(), run.path)
        return self

    def fit_transform(
        self,
        x: Any,
        a: Any = None,
        *,
        x_valid: Any = None,
        a_valid: Any = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
    ) -> np.ndarray:
        """``fit`` with the same arguments, then ``transform(x, a)``."""
        self.fit(x, a, x_valid=x_valid, a_valid=a_valid, run_dir=run_dir, resume=resume)
        return self.transform(x, a)

    def _prepare(
        self, params: dict[str, Any], x: Any, a: Any, x_valid: Any, a_valid: Any
    ) -> tuple[Config, dict[str, Any], Benchmark]:
        """Check the data, split off the validation sequences, learn the standardisation and
        the regime vocabulary; return the run's config, the model's metadata (estimator.json)
        and the Benchmark (without ground truth) that ``train`` runs on."""
        data = Inputs.read(x, a, "x", "a")
        if data.x.shape[0] < MIN_SEQUENCES:
            raise ValueError(
                f"x has {data.x.shape[0]} sequences; fit needs at least {MIN_SEQUENCES}."
            )
        if data.a is None and data.x.shape[1] == 1:
            raise ValueError(
                "x has T = 1 frame per sequence and no a: mechanism sparsity needs a "
                "temporal graph (sequences with T ≥ 2) or an auxiliary variable a (actions "
                "or regimes) to learn."
            )
        if x_valid is None:
            if a_valid is not None:
                raise ValueError("a_valid was given without x_valid.")
            train_part, valid_part = data.split(params["valid_fraction"], params["seed"])
        else:
            valid = Inputs.read(x_valid, a_valid, "x_valid", "a_valid")
            data.check_compatible(valid)
            train_part, valid_part = data, valid
        vocabulary = None
        if data.is_regime:
            vocabulary = np.unique(data.a)  # sorted regime labels of all of fit's a
        mean, scale = standardisation(train_part.x, data.feature_names, params["standardize"])
        d_a = 0 if data.a is None else (len(vocabulary) if data.is_regime else data.a.shape[2])
        edges = resolve_edges(params, k=params["n_latents"], d_a=d_a, T=data.x.shape[1])
        config = build_config(params, edges, data.source)
        warn_short_schedule(config, edges, k=params["n_latents"], d_a=d_a)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "mechsparse_version": __version__,
            "params": json_params(self.get_params(deep=False)),
            "n_features_in": int(data.x.shape[2]),
            "feature_names": list(data.feature_names),
            "n_timesteps": int(data.x.shape[1]),
            "aux_type": None
            if data.a is None
            else ("discrete" if data.is_regime else "continuous"),
            "action_names": None if data.a is None else action_names(data, vocabulary),
            "regime_name": data.regime_name,
            "regime_values": None if vocabulary is None else vocabulary.tolist(),
            "standardize": params["standardize"],
            "mean": mean.tolist(),
            "scale": scale.tolist(),
            "edges": edges,
            "data": {
                "source": data.source,
                "named_features": data.named,
                **data.table_options,
                "n_train": int(train_part.x.shape[0]),
                "n_valid": int(valid_part.x.shape[0]),
                "valid": "held out" if x_valid is None else "given",
            },
        }
        splits = {
            name: Split(x=standardised(part.x, meta), z=None, a=encoded_a(part, meta))
            for name, part in (("train", train_part), ("valid", valid_part))
        }
        bench = Benchmark(
            name=data.source,
            train=splits["train"],
            valid=splits["valid"],
            test=splits["valid"],
            graph_z=None,
            graph_a=None,
            aux_type=meta["aux_type"],
            params={"source": data.source, "n_sequences": int(data.x.shape[0])},
        )
        return config, meta, bench

    # ------------------------------------------------------------------------- inference
    def transform(self, x: Any, a: Any = None) -> np.ndarray:
        """Posterior means E[z^t | x^t] of every frame.

        Args:
            x: observations in the layout of ``fit`` (same features; any n and T).
            a: optional; checked against the fitted model (e.g. unseen regimes are an error)
                but not needed: the encoder q(z^t | x^t) sees x only.

        Returns:
            (n, T, n_latents) latents, or (n, n_latents) for a 2-D x.
        """
        self._check_fitted()
        data = self._checked_inputs(x, a)
        z = encode_means(self.model_, self._tensor(standardised(data.x, self._meta)), EVAL_BATCH)
        return z[:, 0] if data.two_d else z

    def score(self, x: Any, a: Any = None) -> float:
        """Mean ELBO of the sequences, per observed scalar (the training's scaling).

        One posterior sample and one mask sample per call, drawn with the ``seed`` the model
        was fitted with (so the same data give the same score). Higher is better.

        Args:
            x: observations in the layout of ``fit``.
            a: their auxiliary variables (required when the model was fitted with a).

        Returns:
            −(reconstruction + β·KL) averaged over the sequences, in nats per scalar.
        """
        self._check_fitted()
        data = self._checked_inputs(x, a)
        if self.aux_type_ is not None and data.a is None:
            raise ValueError(
                f"a is required to score: the model's prior p(z | a) uses the {self.aux_type_} "
                "auxiliary variable it was fitted with."
            )
        device = next(self.model_.parameters()).device
        x_t = self._tensor(standardised(data.x, self._meta))
        a_np = encoded_a(data, self._meta)
        a_t = None if a_np is None else self._tensor(a_np)
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(self._meta["params"]["seed"]))  # the fitted model's seed
            terms = elbo_on(self.model_, x_t, a_t, EVAL_BATCH)
        return -float(terms["nll"])

    # --------------------------------------------------------------------- persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted model to a directory, atomically.

        The directory holds ``config.yaml``, ``checkpoints/last.safetensors`` (the model's
        weights and sizes), ``final.json``, ``metrics.jsonl`` and ``estimator.json`` (the
        parameters, standardisation statistics, feature, action and regime names and the
        regime vocabulary); :meth:`load` reads it back without unpickling anything.

        Args:
            path: the directory; it must not exist, be empty, or (with ``overwrite``) hold a
                saved model or run, which is replaced. A directory of other files is refused.
            overwrite: replace a saved model or run at ``path``.

        Returns:
            The directory.
        """
        self._check_fitted()
        target = Path(path)
        check_target_dir(target, overwrite=overwrite)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            self.config_.save(tmp / "config.yaml")
            (tmp / "checkpoints").mkdir()
            state = {
                "step": int(self.final_.get("step", 0)),
                "dims": model_dims(self.model_, discrete_aux=self.aux_type_ == "discrete"),
                "model": self.model_.state_dict(),
            }
            save_checkpoint(tmp / "checkpoints" / "last.safetensors", state)
            atomic_write_text(tmp / "final.json", json.dumps(self.final_, indent=1))
            atomic_write_text(
                tmp / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in self.history_)
            )
            atomic_write_text(tmp / ESTIMATOR_FILE, json.dumps(self._meta, indent=1))
            replace_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> MechanismSparsityVAE:
        """Read a model written by :meth:`save` or by ``fit(..., run_dir=...)``.

        Args:
            path: the model or run directory.
            device: where to put the model (None: the saved ``device`` parameter).

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ValueError: ``path`` is not a saved model, or a file in it is corrupt.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"model directory {str(path)!r} does not exist.")
        meta_path = path / ESTIMATOR_FILE
        if not meta_path.is_file():
            hint = (
                " It is a `train` run directory; only runs of `mechsparse fit` or "
                "MechanismSparsityVAE.fit(run_dir=...) and saved models can be loaded."
                if (path / "config.yaml").is_file()
                else ""
            )
            raise ValueError(
                f"{str(path)!r} is not a saved mechsparse model: {ESTIMATOR_FILE} is missing.{hint}"
            )
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(
                    f"format {meta.get('format')!r} version {meta.get('format_version')!r}; "
                    f"expected {FORMAT!r} version {FORMAT_VERSION}"
                )
            est = cls(**meta["params"])
            params = check_params(est)
            required = (
                "n_features_in",
                "feature_names",
                "n_timesteps",
                "standardize",
                "mean",
                "scale",
            )
            missing = [k for k in required if k not in meta]
            if missing:
                raise ValueError(f"missing entries {missing}")
        except (
            json.JSONDecodeError,
            UnicodeDecodeError,
            AttributeError,
            TypeError,
            KeyError,
            ValueError,
        ) as err:
            raise ValueError(f"{str(meta_path)!r} is corrupt: {err}") from err
        run = RunDir(path)
        try:
            model = load_trained_model(path, device=device or params["device"])
            config = load_config(run.config)
        except (CheckpointError, FileNotFoundError) as err:
            raise ValueError(f"cannot load the model in {str(path)!r}: {err}") from err
        final = json.loads(run.final.read_text()) if run.final.is_file() else {}
        est._set_fitted(model, config, meta, final, run.read_metrics(), path)
        return est

    # ------------------------------------------------------------------------- helpers
    def __sklearn_is_fitted__(self) -> bool:
        """Whether ``fit`` (or ``load``) has run."""
        return hasattr(self, "model_")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with your "
                "data first, or load a fitted model with MechanismSparsityVAE.load(path)."
            )

    def _set_fitted(
        self,
        model: torch.nn.Module,
        config: Config,
        meta: dict[str, Any],
        final: dict[str, Any],
        history: list[dict[str, Any]],
        run_dir: Path,
    ) -> None:
        self._meta = meta
        self.model_ = model
        self.config_ = config
        self.n_features_in_ = int(meta["n_features_in"])
        self.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
        self.n_timesteps_ = int(meta["n_timesteps"])
        self.aux_type_ = meta.get("aux_type")
        names = meta.get("action_names")
        self.action_names_ = None if names is None else tuple(names)
        values = meta.get("regime_values")
        self.regime_values_ = None if values is None else np.asarray(values, dtype=np.int64)
        self.mean_ = np.asarray(meta["mean"], dtype=np.float64)
        self.scale_ = np.asarray(meta["scale"], dtype=np.float64)
        self.edges_ = dict(meta.get("edges") or {})
        self.data_info_ = dict(meta.get("data") or {})
        prior = model.prior
        for suffix, mask in (("z", prior.mask_z), ("a", prior.mask_a)):
            probs = None if mask is None else mask.probabilities().detach().cpu().numpy()
            setattr(self, f"edge_probabilities_{suffix}_", probs)
            graph = None if mask is None else mask.graph().cpu().numpy()
            setattr(self, f"graph_{suffix}_", graph)
        self.final_ = final
        self.history_ = history
        self.run_dir_ = Path(run_dir)

    def _checked_inputs(self, x: Any, a: Any) -> Inputs:
        """Read x and a for inference and check them against the fitted model."""
        data = Inputs.read(x, a, "x", "a")
        d = data.x.shape[2]
        if d != self.n_features_in_:
            raise ValueError(
                f"x has {d} features per frame, but this {type(self).__name__} was fitted with "
                f"{self.n_features_in_}."
            )
        fitted = [str(n) for n in self.feature_names_in_]
        named = self.data_info_.get("named_features", False)
        if data.named and named and list(data.feature_names) != fitted:
            missing = [n for n in fitted if n not in data.feature_names]
            extra = [n for n in data.feature_names if n not in fitted]
            if missing or extra:
                raise ValueError(
                    f"the feature names of x differ from those seen by fit: missing {missing}, "
                    f"unexpected {extra}."
                )
            order = [data.feature_names.index(n) for n in fitted]  # same names, other order
            data = data.with_x(data.x[:, :, order], tuple(fitted))
        if data.a is None:
            return data
        if self.aux_type_ is None:
            raise ValueError("a was given, but this model was fitted without a.")
        if data.is_regime != (self.aux_type_ == "discrete"):
            want = (
                "(n, T) integer regimes" if self.aux_type_ == "discrete" else "(n, T, d_a) floats"
            )
            raise ValueError(
                f"a must hold {want} like the a seen by fit; got shape {data.a.shape}."
            )
        if data.is_regime:
            unseen = np.setdiff1d(np.unique(data.a), self.regime_values_)
            if unseen.size:
                raise ValueError(
                    f"a holds regimes {unseen[:10].tolist()} that fit never saw; the model knows "
                    f"regimes {self.regime_values_.tolist()}."
                )
        elif data.a.shape[2] != len(self.action_names_ or ()):
            raise ValueError(
                f"a has {data.a.shape[2]} actions per frame, but the model was fitted with "
                f"{len(self.action_names_ or ())}."
            )
        return data

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        device = next(self.model_.parameters()).device
        return torch.as_tensor(np.ascontiguousarray(array), device=device)
