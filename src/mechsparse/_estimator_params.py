"""The parameters of :class:`mechsparse.MechanismSparsityVAE`: their checks, and the training
config and edge bounds they resolve to."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from mechsparse._validation import check_choice, check_positive_int
from mechsparse.train.config import PRESETS, REGULARIZERS, Config, flatten, preset
from mechsparse.train.loop import resolve_device
from mechsparse.train.regularizers import linear_bound, penalty_coefficient

__all__ = [
    "DEFAULT_EDGE_FRACTION",
    "GRAPHS",
    "RESERVED_CONFIG_KEYS",
    "ShortScheduleWarning",
    "build_config",
    "check_params",
    "json_params",
    "resolve_edges",
    "warn_short_schedule",
]

DEFAULT_EDGE_FRACTION = 0.2
"""``edges=None`` bounds each learned graph by this fraction of its possible edges."""
GRAPHS = ("graph_z", "graph_a")
RESERVED_CONFIG_KEYS = {
    # config key: the estimator parameter that sets it (config_overrides may not)
    "preset": "preset",
    "seed": "seed",
    "model.n_latents": "n_latents",
    "regularizer.kind": "regularizer",
    "regularizer.coef": "coef",
    "regularizer.edges_z": "edges",
    "regularizer.edges_a": "edges",
    "optim.max_steps": "max_steps",
    "optim.max_minutes": "max_minutes",
    "optim.device": "device",
    "optim.n_threads": "n_threads",
}


class ShortScheduleWarning(UserWarning):
    """Training stops before the constraint's bound has decreased to k, or before the penalty's
    coefficient has risen to its value."""


def check_params(est: Any) -> dict[str, Any]:
    """The estimator's parameters, every one validated (its ``_parameter_constraints``)."""
    p: dict[str, Any] = {}
    p["n_latents"] = check_positive_int(est.n_latents, "n_latents")
    p["regularizer"] = check_choice(est.regularizer, "regularizer", REGULARIZERS)
    p["edges"] = _check_edges(est.edges, p["regularizer"])
    p["coef"] = _check_coef(est.coef, p["regularizer"])
    p["preset"] = check_choice(est.preset, "preset", tuple(PRESETS))
    p["seed"] = check_positive_int(est.seed, "seed", minimum=0)
    p["max_steps"] = (
        None if est.max_steps is None else check_positive_int(est.max_steps, "max_steps")
    )
    p["max_minutes"] = _check_number(est.max_minutes, "max_minutes", allow_none=True)
    p["device"] = check_choice(est.device, "device", ("auto", "cpu", "cuda"))
    p["n_threads"] = (
        None if est.n_threads is None else check_positive_int(est.n_threads, "n_threads")
    )
    for name in ("standardize", "verbose"):
        if not isinstance(getattr(est, name), bool | np.bool_):
            raise TypeError(f"{name} must be True or False; got {getattr(est, name)!r}.")
        p[name] = bool(getattr(est, name))
    fraction = _check_number(est.valid_fraction, "valid_fraction", allow_none=False)
    if not 0 < fraction <= 0.5:
        raise ValueError(f"valid_fraction must be in (0, 0.5]; got {fraction}.")
    p["valid_fraction"] = fraction
    p["config_overrides"] = _check_overrides(est.config_overrides)
    return p


def build_config(params: dict[str, Any], edges: dict[str, int | None], name: str) -> Config:
    """The run's Config: preset → config_overrides → the estimator's parameters."""
    try:
        config = preset(params["preset"]).updated(params["config_overrides"])
    except ValueError as err:
        raise ValueError(f"config_overrides: {err}") from err
    values: dict[str, Any] = {
        "seed": params["seed"],
        "data.benchmark": name,
        "model.n_latents": params["n_latents"],
        "regularizer.kind": params["regularizer"],
        "regularizer.coef": params["coef"] or 0.0,
        "regularizer.edges_z": edges["graph_z"],
        "regularizer.edges_a": edges["graph_a"],
        "optim.device": params["device"],
        "optim.n_threads": params["n_threads"],
    }
    if params["max_steps"] is not None:
        values["optim.max_steps"] = params["max_steps"]
    if params["max_minutes"] is not None:
        values["optim.max_minutes"] = params["max_minutes"]
    config = config.updated(values)
    try:
        resolve_device(config.optim.device)
        return config.validate()
    except ValueError as err:
        raise ValueError(f"invalid configuration: {err}") from err


def _check_number(value: Any, name: str, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number; got {value!r}.")
    return float(value)


def _check_edges(edges: Any, regularizer: str) -> dict[str, int | None] | None:
    """``edges`` as ``{"graph_z": k or None, "graph_a": k or None}`` (None: default)."""
    if edges is None:
        return None
    if regularizer != "constraint":
        raise ValueError(
            f"edges bounds the constraint; it does not apply to regularizer={regularizer!r}. "
            "Use regularizer='constraint' or leave edges=None."
        )
    if isinstance(edges, str):
        raise ValueError(
            f"edges must be an integer bound k ≥ 0 or a mapping of them; got {edges!r}. "
            "('true', the ground-truth edge count, exists only for the synthetic benchmarks.)"
        )
    if isinstance(edges, Mapping):
        unknown = sorted(set(edges) - set(GRAPHS))
        if unknown:
            raise ValueError(f"edges keys must be among {list(GRAPHS)}; got {unknown}.")
        out = {}
        for g in GRAPHS:
            value = edges.get(g)
            out[g] = (
                None if value is None else check_positive_int(value, f"edges[{g!r}]", minimum=0)
            )
        return out
    k = check_positive_int(edges, "edges", minimum=0)
    return dict.fromkeys(GRAPHS, k)


def _check_coef(coef: Any, regularizer: str) -> float | None:
    if regularizer == "penalty":
        if coef is None:
            raise ValueError(
                "regularizer='penalty' needs coef, the penalty coefficient c > 0 (e.g. coef=1.0)."
            )
        return _check_number(coef, "coef", allow_none=False)
    if coef is not None:
        raise ValueError(
            f"coef is the penalty coefficient; it does not apply to regularizer={regularizer!r}. "
            "Use regularizer='penalty' or leave coef=None."
        )
    return None


def _check_overrides(overrides: Any) -> dict[str, Any]:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError(
            f"config_overrides must be a mapping of config keys; got {type(overrides).__name__}."
        )
    flat = flatten(overrides)
    for key in flat:
        if not isinstance(key, str):
            raise TypeError(f"config_overrides keys must be strings; got {key!r}.")
        if key in RESERVED_CONFIG_KEYS:
            raise ValueError(
                f"config_overrides key {key!r} is set by the estimator's parameter "
                f"{RESERVED_CONFIG_KEYS[key]!r}; pass it there."
            )
        if key.startswith("data."):
            raise ValueError(
                f"config_overrides key {key!r} configures the synthetic benchmarks; the "
                "estimator trains on the data given to fit."
            )
    return flat


def resolve_edges(params: dict[str, Any], *, k: int, d_a: int, T: int) -> dict[str, int | None]:
    """The constraint's bound per learned graph (None: absent or unconstrained graph)."""
    possible = {"graph_z": k * k if T >= 2 else 0, "graph_a": k * d_a}
    if params["regularizer"] != "constraint":
        return dict.fromkeys(GRAPHS)
    given = params["edges"] or dict.fromkeys(GRAPHS)
    out: dict[str, int | None] = {}
    for g in GRAPHS:
        if possible[g] == 0:
            out[g] = None
            continue
        bound = given[g]
        if bound is None:
            bound = max(1, round(DEFAULT_EDGE_FRACTION * possible[g]))
        if bound > possible[g]:
            raise ValueError(
                f"edges for {g} must be at most its {possible[g]} possible edges; got {bound}."
            )
        out[g] = int(bound)
    return out


def warn_short_schedule(config: Config, edges: dict[str, int | None], *, k: int, d_a: int) -> None:
    """Warn when max_steps ends the run before the bound has decreased to k (constraint),
    before the coefficient has risen to ``coef`` (penalty), or before a scheduled latent
    realignment."""
    r, steps = config.regularizer, config.optim.max_steps
    if r.realign_at_step is not None and steps < r.realign_at_step:
        warnings.warn(
            f"the latent realignment runs after regularizer.realign_at_step = "
            f"{r.realign_at_step} steps but training stops after max_steps = {steps}: it "
            "never runs. Raise max_steps or lower realign_at_step.",
            ShortScheduleWarning,
            stacklevel=4,
        )
    if r.kind == "penalty" and steps < r.coef_warmup_steps:
        final = penalty_coefficient(steps, r.coef, r.coef_warmup_steps)
        warnings.warn(
            f"the penalty coefficient rises to coef = {r.coef:g} over "
            f"regularizer.coef_warmup_steps = {r.coef_warmup_steps} steps but training stops "
            f"after max_steps = {steps}: the final coefficient is {final:.3g}, so the learned "
            "graph stays denser. Raise max_steps, or shorten the warm-up with "
            "config_overrides={'regularizer.coef_warmup_steps': ...}.",
            ShortScheduleWarning,
            stacklevel=4,
        )
        return
    schedule = r.schedule_steps
    if r.kind != "constraint" or steps >= schedule:
        return
    possible = {"graph_z": k * k, "graph_a": k * d_a}
    ends = {
        g: linear_bound(steps, possible[g], bound, schedule)
        for g, bound in edges.items()
        if bound is not None
    }
    if not ends:
        return
    where = ", ".join(f"{ends[g]:.0f} for {g} (k = {edges[g]})" for g in ends)
    warnings.warn(
        f"the constraint's bound decreases to k over regularizer.schedule_steps = {schedule} "
        f"steps but training stops after max_steps = {steps}: the final bound is {where}, so "
        "the learned graph stays denser than k. Raise max_steps, or shorten the schedule with "
        "config_overrides={'regularizer.schedule_steps': ...} (a --config file for the CLI).",
        ShortScheduleWarning,
        stacklevel=4,
    )


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """The estimator's parameters as JSON values (refusing what JSON cannot hold)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            value = dict(value)
        if isinstance(value, np.integer | np.floating | np.bool_):
            value = value.item()
        try:
            json.dumps(value)
        except TypeError as err:
            raise TypeError(
                f"parameter {key}={value!r} cannot be saved as JSON; use plain numbers, "
                "strings and mappings."
            ) from err
        out[key] = value
    return out
