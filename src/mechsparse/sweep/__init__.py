"""Hyperparameter sweeps with unsupervised model selection (UDR), resumable and parallel.

``sweep(SPEC, out=DIR)`` (``mechsparse sweep SPEC.yaml --out DIR``) trains every run of a
spec (benchmarks × methods × grid × seeds, see :mod:`mechsparse.sweep.spec` and
``docs/sweeps.md``) into ``DIR/runs/<run name>`` and writes ``results.csv``, ``summary.md``,
``selection.json`` and one figure per benchmark (:mod:`mechsparse.sweep.aggregate`).
``select(DIR)`` (``mechsparse select DIR``) returns, per benchmark, the configuration UDR
selects and the path of its most representative run.

The sweep is resumable and idempotent: a finished run (``final.json`` present, same config) is
skipped, an interrupted one resumed from its checkpoint, a failed one recorded (status
``failed`` and its error in results.csv) while the others go on; running the same command
again completes the sweep. Every problem with the spec or the options is reported before
anything is written or run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mechsparse._atomic import atomic_write_text
from mechsparse.sweep.aggregate import select, write_outputs
from mechsparse.sweep.backends import (
    BACKENDS,
    BackendUnavailable,
    check_backend_options,
    make_backend,
)
from mechsparse.sweep.spec import (
    MAX_RUNS_WITHOUT_CONFIRMATION,
    Run,
    SpecError,
    SweepSpec,
    expand,
    load_spec,
    parse_spec,
)

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "Run",
    "SpecError",
    "SweepResult",
    "SweepSpec",
    "expand",
    "load_spec",
    "parse_spec",
    "select",
    "sweep",
]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`sweep` returns.

    Attributes:
        out: the sweep directory.
        rows: one dict per run, as in results.csv.
        summary: one dict per configuration (scores mean/std, UDR, representative run).
        selections: per benchmark, the UDR-selected and the ground-truth-selected configuration.
        trained: names of the runs trained (or resumed) by this call.
    """

    out: Path
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    selections: list[dict[str, Any]]
    trained: list[str]

    @property
    def failed(self) -> list[str]:
        """Names of the runs that failed (their errors are in results.csv)."""
        return [row["run"] for row in self.rows if row["status"] == "failed"]


def _is_done(run: Run, out: Path) -> bool:
    """A run is done when its final.json exists and its saved config is this run's config
    (up to the resource settings n_threads and device); a larger budget or another config
    sends it back to ``train(..., resume=True)``, which extends it or reports the difference."""
    from mechsparse.train import load_config

    run_dir = out / "runs" / run.name
    if not (run_dir / "final.json").is_file():
        return False
    try:
        saved = load_config(run_dir / "config.yaml").to_dict()
    except (OSError, ValueError, TypeError):
        return False
    planned = run.config.to_dict()
    for config in (saved, planned):
        config["optim"].pop("n_threads")
        config["optim"].pop("device")
    return saved == planned


def _as_spec(spec: str | Path | SweepSpec | Mapping[str, Any]) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, str | Path):
        return load_spec(spec)
    return parse_spec(dict(spec))


def sweep(
    spec: str | Path | SweepSpec | Mapping[str, Any],
    out: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    yes: bool = False,
    log: Callable[[str], None] | None = print,
) -> SweepResult:
    """Run (or complete) a sweep and write its tables, selection and figures to ``out``.

    Args:
        spec: a spec file (YAML), a mapping with the same fields, or a :class:`SweepSpec`.
        out: the sweep directory (created; runs in ``out/runs``).
        backend: ``local`` (process pool) or ``ray`` (see :mod:`mechsparse.sweep.backends`).
        workers: runs trained at the same time (default 1; with a Ray ``address``: no cap).
        address: a Ray cluster to join (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``).
        yes: allow more than 200 runs.
        log: called with one line per event (start, each run's end); None for silence.

    Raises:
        FileNotFoundError: the spec file does not exist.
        SpecError: the spec is invalid (nothing was written or run).
        ValueError: bad options, more than 200 runs without ``yes``, ``out`` is a file.
        BackendUnavailable: Ray is missing or the cluster cannot be reached (nothing run).
    """
    check_backend_options(backend, workers=workers, address=address)
    spec = _as_spec(spec)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {str(out)!r} exists and is not a directory.")
    runs = expand(spec)
    if len(runs) > MAX_RUNS_WITHOUT_CONFIRMATION and not yes:
        raise ValueError(
            f"the sweep has {len(runs)} runs, more than {MAX_RUNS_WITHOUT_CONFIRMATION}; pass "
            "--yes (yes=True) to run them all, or shrink the grid, seeds or benchmarks."
        )
    pending = [run for run in runs if not _is_done(run, out)]
    say = log or (lambda _line: None)
    errors: dict[str, str] = {}
    trained: list[str] = []
    executor = None
    if pending:
        executor = make_backend(backend, workers=workers, threads=spec.threads, address=address)
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "sweep.yaml", yaml.safe_dump(spec.to_dict(), sort_keys=False))
        say(
            f"{spec.title}: {len(runs)} runs, {len(runs) - len(pending)} already "
            f"finished, {len(pending)} to run"
            + (f" on the {executor.describe()}" if executor is not None else "")
        )
        if executor is not None:
            jobs = [
                {
                    "name": run.name,
                    "config": run.config.to_dict(),
                    "run_dir": str((out / "runs" / run.name).resolve()),
                }
                for run in pending
            ]

            def on_done(record: dict[str, Any]) -> None:
                name = record["name"]
                trained.append(name)
                if record["status"] == "failed":
                    errors[name] = record["error"]
                    outcome = f"failed: {record['error']}"
                else:
                    outcome = _scores_line(out / "runs" / name / "final.json")
                say(f"[{len(trained)}/{len(pending)}] {name}: {outcome}")

            executor.run(jobs, on_done)
    finally:
        if executor is not None:
            executor.close()
    rows, summary, selections = write_outputs(out, spec, runs, errors)
    return SweepResult(out, rows, summary, selections, trained)


def _scores_line(final_path: Path) -> str:
    """``finished (MCC 0.912, consistent R 0.950, 24000 steps, 312 s)`` from final.json."""
    try:
        final = json.loads(final_path.read_text())
    except (OSError, ValueError):
        return "finished"
    scores = final.get("scores") or {}
    parts = [
        f"{label} {scores[key]:.3f}"
        for key, label in (("mcc", "MCC"), ("consistent_r", "consistent R"))
        if scores.get(key) is not None
    ]
    parts.append(f"{final.get('step')} steps, {final.get('wall_time_s', 0):.0f} s")
    return "finished (" + ", ".join(parts) + ")"
