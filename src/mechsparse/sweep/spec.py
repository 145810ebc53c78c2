"""A sweep spec: what to run (benchmarks × methods × grid × seeds), parsed, checked and expanded.

A spec is a YAML mapping (see ``docs/sweeps.md``)::

    benchmarks:                       # names, or {name, graph, density}
      - action_sparsity_non_trivial
      - {name: action_sparsity_non_trivial, graph: graph_action_3_easy}
    methods: [mechanism_sparsity, none]   # default [mechanism_sparsity]; or "all"
    grid:                             # config field → list of values (the product is swept)
      edges: [5, 10, 20]              # shorthand: regularizer.edges_z and edges_a, constraint
    seeds: 3                          # training seeds 0 … seeds − 1 (the data are the same)
    preset: fast
    max_steps: 24000                  # budget per run (and/or max_minutes)
    overrides: {data.n_samples: 100000}   # fixed dotted config keys for every run
    threads: 1                        # torch CPU threads per run

Grid keys are dotted config keys (``regularizer.edges_a``, ``optim.lr``, …) or the shorthands
``edges`` (sets ``regularizer.edges_z`` and ``regularizer.edges_a``; implies the constraint)
and ``coef`` (``regularizer.coef``; implies the penalty). A grid key is applied only to the
methods that read it: sparsity keys (``edges``, ``coef``, ``regularizer.*``) to
``mechanism_sparsity``, ``baseline.*`` keys to the baselines, every other key to every
method. ``none`` and the baselines therefore run once per combination of the other keys.

Every run trains on identical data across its seeds: ``data.data_seed`` is separate from the
training ``seed`` and is fixed by the spec (0 unless ``overrides`` set it), and a random
ground-truth graph (``density``) is drawn from the data seed alone, so it is the same graph
for every seed. That is what UDR (agreement between seeds) needs.

:func:`expand` turns a spec into runs, each with its directory name, built from its
parameters: ``<benchmark>[__<graph>][__density-<p>]__<method>[__<key>-<value>…]__seed<s>``
(readable, filesystem-safe, deterministic; a short hash is appended when a value had to be
made safe or the name would be too long). Every problem is reported before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mechsparse.train.config import OWN_METHOD, PRESETS, Config, flatten, preset

__all__ = [
    "MAX_RUNS_WITHOUT_CONFIRMATION",
    "SPEC_FIELDS",
    "BenchmarkEntry",
    "Run",
    "SpecError",
    "SweepSpec",
    "expand",
    "load_spec",
    "parse_spec",
]

MAX_RUNS_WITHOUT_CONFIRMATION = 200
"""A sweep with more runs than this needs ``yes=True`` (``--yes``)."""

SPEC_FIELDS = (
    "benchmarks",
    "data",
    "methods",
    "grid",
    "seeds",
    "preset",
    "max_steps",
    "max_minutes",
    "overrides",
    "threads",
)
"""Every top-level field of a spec."""

SHORTHANDS = {
    "edges": ("regularizer.edges_z", "regularizer.edges_a", "regularizer.kind"),
    "coef": ("regularizer.coef", "regularizer.kind"),
}
"""Grid shorthands and the config keys each one sets."""

# config keys that a spec sets through its own fields
_RESERVED = {
    "seed": "seeds",
    "method": "methods",
    "preset": "preset",
    "data.benchmark": "benchmarks",
    "data.graph": "benchmarks",
    "data.density": "benchmarks",
    "optim.max_steps": "max_steps",
    "optim.max_minutes": "max_minutes",
    "optim.n_threads": "threads",
}
_MAX_NAME = 150  # characters of a run directory name before it is shortened with a hash
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")


class SpecError(ValueError):
    """The sweep spec is invalid; nothing was run or written."""


@dataclass(frozen=True)
class BenchmarkEntry:
    """One benchmark of a sweep: a registered name with an optional named or random graph."""

    name: str
    graph: str | None = None
    density: float | None = None

    @property
    def label(self) -> str:
        """Readable, filesystem-safe identifier, e.g. ``action_sparsity_non_trivial__density-0.2``."""
        text = self.name
        if self.graph is not None:
            text += f"__{self.graph}"
        if self.density is not None:
            text += f"__density-{format_value(self.density)}"
        return _UNSAFE.sub("_", text)


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, checked sweep spec (see the module docstring for each field).

    Attributes:
        benchmarks: the benchmarks, in spec order.
        methods: method names, or ``("all",)`` for every method applicable to a benchmark.
        grid: config key (dotted or shorthand) → tuple of values, in spec order.
        seeds: training seeds 0 … seeds − 1 per configuration.
        preset: ``fast`` or ``paper``.
        max_steps, max_minutes: the budget per run (None: the preset's max_steps, no time limit).
        overrides: fixed dotted config keys applied to every run.
        threads: torch CPU threads per run (``optim.n_threads``).
        source: the spec file it was read from (None: given as a mapping), for messages.
    """

    benchmarks: tuple[BenchmarkEntry, ...]
    methods: tuple[str, ...] = (OWN_METHOD,)
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    seeds: int = 3
    preset: str = "fast"
    max_steps: int | None = None
    max_minutes: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    threads: int = 1
    source: str | None = None

    @property
    def title(self) -> str:
        """``sweep spec 'path.yaml'`` (or ``sweep spec``), the prefix of its messages."""
        return "sweep spec" if self.source is None else f"sweep spec {self.source!r}"

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain mapping (what ``sweep.yaml`` holds); parses back to itself."""
        benchmarks: list[Any] = []
        for b in self.benchmarks:
            if b.graph is None and b.density is None:
                benchmarks.append(b.name)
            else:
                entry: dict[str, Any] = {"name": b.name}
                if b.graph is not None:
                    entry["graph"] = b.graph
                if b.density is not None:
                    entry["density"] = b.density
                benchmarks.append(entry)
        out: dict[str, Any] = {
            "benchmarks": benchmarks,
            "methods": "all" if self.methods == ("all",) else list(self.methods),
            "grid": {k: list(v) for k, v in self.grid.items()},
            "seeds": self.seeds,
            "preset": self.preset,
        }
        if self.max_steps is not None:
            out["max_steps"] = self.max_steps
        if self.max_minutes is not None:
            out["max_minutes"] = self.max_minutes
        out["overrides"] = dict(self.overrides)
        out["threads"] = self.threads
        return out


@dataclass(frozen=True)
class Run:
    """One training run of a sweep.

    Attributes:
        name: its directory name under ``OUT/runs`` (unique in the sweep).
        configuration: ``name`` without the seed: the runs of one configuration differ only
            in their training seed (and see identical data).
        benchmark: the benchmark entry.
        method: the method (``mechanism_sparsity``, ``none`` or a baseline).
        params: the grid values that apply to this run (spec key → value).
        seed: the training seed.
        config: the complete, validated config of the run.
    """

    name: str
    configuration: str
    benchmark: BenchmarkEntry
    method: str
    params: dict[str, Any]
    seed: int
    config: Config


# ------------------------------------------------------------------------------------ parsing
def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a YAML sweep spec.

    Raises:
        FileNotFoundError: the file does not exist.
        SpecError: invalid YAML or an invalid spec (the message names the field).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec {str(path)!r} does not exist.")
    try:
        mapping = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"sweep spec {str(path)!r} is not valid YAML: {err}") from err
    return parse_spec(mapping, source=str(path))


def parse_spec(mapping: object, *, source: str | None = None) -> SweepSpec:
    """Check a spec mapping (as read from YAML) and return the :class:`SweepSpec`.

    Raises:
        SpecError: an unknown or missing field, a value of the wrong type or range, an
            unknown benchmark, method or config key, an empty grid list, contradictory keys.
    """

    def fail(message: str) -> SpecError:
        title = "sweep spec" if source is None else f"sweep spec {source!r}"
        return SpecError(f"{title}: {message}")

    if mapping is None:
        raise fail("the spec is empty; it needs at least 'benchmarks'.")
    if not isinstance(mapping, dict):
        raise fail(f"a sweep spec must be a mapping of fields; got {type(mapping).__name__}.")
    unknown = [k for k in mapping if k not in SPEC_FIELDS]
    if unknown:
        raise fail(
            f"unknown field(s) {unknown}; the fields of a sweep spec are {list(SPEC_FIELDS)}."
        )
    if "data" in mapping:
        raise fail(
            "field 'data' (a sweep on your own data file) is not supported yet; sweep the "
            "synthetic benchmarks with 'benchmarks', or call MechanismSparsityVAE.fit per "
            "configuration on your data."
        )
    if "benchmarks" not in mapping:
        raise fail("field 'benchmarks' is missing: list the benchmarks to sweep.")

    preset_name = mapping.get("preset", "fast")
    if preset_name not in PRESETS:
        raise fail(f"field 'preset' must be one of {sorted(PRESETS)}; got {preset_name!r}.")
    benchmarks = _parse_benchmarks(mapping["benchmarks"], fail)
    methods = _parse_methods(mapping.get("methods", [OWN_METHOD]), fail)
    seeds = _positive_int(mapping.get("seeds", 3), "seeds", fail)
    threads = _positive_int(mapping.get("threads", 1), "threads", fail)
    max_steps = mapping.get("max_steps")
    if max_steps is not None:
        max_steps = _positive_int(max_steps, "max_steps", fail)
    max_minutes = mapping.get("max_minutes")
    if max_minutes is not None and (
        isinstance(max_minutes, bool)
        or not isinstance(max_minutes, int | float)
        or not math.isfinite(max_minutes)
        or max_minutes <= 0
    ):
        raise fail(f"field 'max_minutes' must be a number > 0; got {max_minutes!r}.")
    overrides = _parse_overrides(mapping.get("overrides") or {}, preset_name, fail)
    grid = _parse_grid(mapping.get("grid") or {}, preset_name, fail)
    _check_conflicts(grid, overrides, fail)
    return SweepSpec(
        benchmarks=benchmarks,
        methods=methods,
        grid=grid,
        seeds=seeds,
        preset=preset_name,
        max_steps=max_steps,
        max_minutes=None if max_minutes is None else float(max_minutes),
        overrides=overrides,
        threads=threads,
        source=source,
    )


def _positive_int(value: object, name: str, fail: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(f"field {name!r} must be an integer ≥ 1; got {value!r}.")
    return value


def _parse_benchmarks(value: object, fail: Any) -> tuple[BenchmarkEntry, ...]:
    from mechsparse.data import list_benchmarks

    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise fail(
            "field 'benchmarks' must be a non-empty list of names or {name, graph, density}."
        )
    known = list_benchmarks()
    entries = []
    for i, item in enumerate(value):
        where = f"benchmarks[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise fail(
                f"{where} must be a name or a mapping {{name, graph, density}}; got {item!r}."
            )
        extra = [k for k in item if k not in ("name", "graph", "density")]
        if extra:
            raise fail(f"{where} has unknown key(s) {extra}; expected name, graph, density.")
        name, graph, density = item.get("name"), item.get("graph"), item.get("density")
        if name not in known:
            raise fail(f"{where}: unknown benchmark {name!r}; choose from {known}.")
        if graph is not None and not isinstance(graph, str):
            raise fail(f"{where}: graph must be the name of a graph; got {graph!r}.")
        if density is not None:
            if isinstance(density, bool) or not isinstance(density, int | float):
                raise fail(f"{where}: density must be a number in (0, 1]; got {density!r}.")
            if not 0 < density <= 1:
                raise fail(f"{where}: density must be in (0, 1]; got {density!r}.")
            density = float(density)
        entry = BenchmarkEntry(name=name, graph=graph, density=density)
        if entry in entries:
            raise fail(f"{where} ({entry.label}) is listed more than once.")
        entries.append(entry)
    return tuple(entries)


def _parse_methods(value: object, fail: Any) -> tuple[str, ...]:
    from mechsparse.compare import METHODS

    if value == "all":
        return ("all",)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise fail(f"field 'methods' must be a non-empty list of {list(METHODS)} or 'all'.")
    unknown = [m for m in value if m not in METHODS]
    if unknown:
        raise fail(f"unknown method(s) {unknown}; choose from {list(METHODS)} or 'all'.")
    duplicates = sorted({m for m in value if value.count(m) > 1})
    if duplicates:
        raise fail(f"method(s) {duplicates} are listed more than once.")
    return tuple(value)


def _check_key(key: str, value: Any, where: str, preset_name: str, fail: Any) -> None:
    """Reject reserved keys; let ``Config.updated`` reject unknown keys and mistyped values."""
    if key in _RESERVED:
        raise fail(f"{where}: {key!r} is set by the spec's field {_RESERVED[key]!r}, not here.")
    updates = {k: value for k in SHORTHANDS[key][:-1]} if key in SHORTHANDS else {key: value}
    try:
        preset(preset_name).updated(updates)
    except ValueError as err:
        raise fail(f"{where}: {err}") from None


def _parse_overrides(value: object, preset_name: str, fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"field 'overrides' must be a mapping of config keys to values; got {value!r}.")
    flat = flatten(value)
    for key, v in flat.items():
        if key in SHORTHANDS:
            raise fail(
                f"overrides: {key!r} is a grid shorthand; give the config keys "
                f"({', '.join(SHORTHANDS[key][:-1])}) in overrides."
            )
        _check_key(key, v, f"overrides key {key!r}", preset_name, fail)
    return flat


def _parse_grid(value: object, preset_name: str, fail: Any) -> dict[str, tuple[Any, ...]]:
    if not isinstance(value, dict):
        raise fail(f"field 'grid' must be a mapping of config keys to lists; got {value!r}.")
    grid: dict[str, tuple[Any, ...]] = {}
    for key, values in value.items():
        where = f"grid key {key!r}"
        if not isinstance(key, str):
            raise fail(f"{where}: grid keys must be config keys (strings).")
        if not isinstance(values, list):
            raise fail(f"{where} must map to a list of values; got {values!r}.")
        if not values:
            raise fail(f"{where} has an empty list; give at least one value or remove the key.")
        for v in values:
            if isinstance(v, dict | list):
                raise fail(f"{where}: values must be scalars; got {v!r}.")
            _check_key(key, v, where, preset_name, fail)
        texts = [format_value(v) for v in values]
        duplicates = sorted({t for t in texts if texts.count(t) > 1})
        if duplicates:
            raise fail(f"{where} lists value(s) {duplicates} more than once.")
        grid[key] = tuple(values)
    return grid


def _check_conflicts(
    grid: dict[str, tuple[Any, ...]], overrides: dict[str, Any], fail: Any
) -> None:
    if "edges" in grid and "coef" in grid:
        raise fail(
            "grid keys 'edges' (constraint bound) and 'coef' (penalty coefficient) select "
            "different regularisers; sweep them in two specs."
        )
    for short, keys in SHORTHANDS.items():
        if short not in grid:
            continue
        for key in keys:
            for where, mapping in (("grid", grid), ("overrides", overrides)):
                if key in mapping:
                    raise fail(
                        f"grid key {short!r} sets {', '.join(keys)}; remove {key!r} from {where}."
                    )


# ---------------------------------------------------------------------------------- expansion
def format_value(value: Any) -> str:
    """A grid value as text in run names and tables: ``0.5``, ``16`` (for 16.0), ``true``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def applies(key: str, method: str) -> bool:
    """Whether grid key ``key`` changes a run of ``method`` (sparsity keys: only
    ``mechanism_sparsity``; ``baseline.*``: only the baselines; others: every method)."""
    sparsity = key in SHORTHANDS or key.startswith("regularizer.")
    if sparsity:
        return method == OWN_METHOD
    if key.startswith("baseline."):
        return method not in (OWN_METHOD, "none")
    return True


def _config_updates(params: Mapping[str, Any]) -> dict[str, Any]:
    """Grid values → dotted config keys, resolving the shorthands."""
    updates: dict[str, Any] = {}
    for key, value in params.items():
        if key == "edges":
            updates.update(
                {
                    "regularizer.kind": "constraint",
                    "regularizer.edges_z": value,
                    "regularizer.edges_a": value,
                }
            )
        elif key == "coef":
            updates.update({"regularizer.kind": "penalty", "regularizer.coef": value})
        else:
            updates[key] = value
    return updates


def _configuration_name(entry: BenchmarkEntry, method: str, params: Mapping[str, Any]) -> str:
    parts = [entry.label, method] + [f"{k}-{format_value(params[k])}" for k in sorted(params)]
    raw = "__".join(parts)
    safe = _UNSAFE.sub("_", raw)
    if safe != raw or len(safe) > _MAX_NAME:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        safe = f"{safe[: _MAX_NAME - 11]}__h{digest}"
    return safe


def expand(spec: SweepSpec) -> list[Run]:
    """Every run of the spec, in order: benchmark, method, grid values (product in spec
    order), seed. Each config is built and validated here, so a bad value, a graph a
    benchmark does not accept or a method that cannot handle a benchmark's data is reported
    before anything runs.

    Raises:
        SpecError: the message names the benchmark, method or run.
    """
    from mechsparse.baselines import MethodNotApplicable
    from mechsparse.compare import data_spec, method_config, resolve_methods

    def fail(message: str) -> SpecError:
        return SpecError(f"{spec.title}: {message}")

    budget: dict[str, Any] = {"optim.n_threads": spec.threads}
    if spec.max_steps is not None:
        budget["optim.max_steps"] = spec.max_steps
    if spec.max_minutes is not None:
        budget["optim.max_minutes"] = spec.max_minutes
    runs: list[Run] = []
    for i, entry in enumerate(spec.benchmarks):
        data_keys = {
            "data.benchmark": entry.name,
            "data.graph": entry.graph,
            "data.density": entry.density,
        }
        base = preset(spec.preset).updated(data_keys).updated(spec.overrides).updated(budget)
        try:
            base.validate()
        except ValueError as err:
            raise fail(f"overrides: {err}") from None
        try:
            spec_of_data = data_spec(base)
        except (ValueError, TypeError) as err:
            raise fail(f"benchmarks[{i}] ({entry.label}): {err}") from None
        try:
            methods = resolve_methods(list(spec.methods), spec_of_data)
        except MethodNotApplicable as err:
            raise fail(f"method cannot run on benchmarks[{i}] ({entry.label}): {err}") from None
        for method in methods:
            keys = [k for k in spec.grid if applies(k, method)]
            for values in itertools.product(*(spec.grid[k] for k in keys)):
                params = dict(zip(keys, values, strict=True))
                configuration = _configuration_name(entry, method, params)
                for seed in range(spec.seeds):
                    name = f"{configuration}__seed{seed}"
                    try:
                        config = method_config(base, method, seed, "true")
                        config = config.updated(spec.overrides).updated(_config_updates(params))
                        if method == "none":  # the unregularised model, whatever overrides say
                            config = config.updated({"regularizer.kind": "none"})
                        config = config.updated(budget).validate()
                    except (ValueError, TypeError) as err:
                        raise fail(f"run {name}: {err}") from None
                    runs.append(Run(name, configuration, entry, method, params, seed, config))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):  # pragma: no cover - names encode every parameter
        raise fail("two runs have the same directory name; report this as a bug.")
    return runs


def data_identity(config: Config) -> str:
    """The data a run sees (benchmark, graph, density, n_samples, data_seed) as one string:
    runs with equal identities encode the same test inputs, as UDR requires."""
    d = config.data
    return json.dumps([d.benchmark, d.graph, d.density, d.n_samples, d.data_seed])
