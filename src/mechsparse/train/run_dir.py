"""The run directory: what one training run writes, and the rules that keep it safe.

Layout::

    RUN_DIR/
      config.yaml          the resolved config (written first)
      metrics.jsonl        one JSON record per line: {"kind": "train"|"eval", "step": ..., ...}
      checkpoints/last.safetensors   resumable state (model, optimisers, multipliers, RNGs, step)
      final.json           test-split scores, learned graphs, permutation (written last)
      z_hat.npz            test posterior means ``z_hat`` (n, T, d_z) and, when known, ``z``
      report.html, figures/   the report

A directory is never deleted or emptied. Starting a run in a directory that holds anything else
is refused unless it is the same run being resumed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mechsparse._atomic import atomic_write_text
from mechsparse.train.config import Config, flatten, load_config

__all__ = ["RunDir", "RunDirError"]


class RunDirError(ValueError):
    """The output directory cannot be used for this run."""


class RunDir:
    """Paths and bookkeeping of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # paths ------------------------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.safetensors"

    @property
    def final(self) -> Path:
        return self.path / "final.json"

    @property
    def z_hat(self) -> Path:
        return self.path / "z_hat.npz"

    # lifecycle --------------------------------------------------------------------------
    def prepare(self, config: Config, *, resume: bool) -> bool:
        """Check that ``config`` may run here, writing nothing; return True when a checkpoint
        should be resumed. :meth:`save_config` then records the run once it is set up.

        Raises:
            RunDirError: the directory holds other files, or another run (different config),
                or a run while ``resume`` is False.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"output path {str(self.path)!r} exists and is not a directory.")
        existing = sorted(p.name for p in self.path.iterdir()) if self.path.is_dir() else []
        if not existing:
            return False
        if not self.config.is_file():
            raise RunDirError(
                f"output directory {str(self.path)!r} already holds other files "
                f"({', '.join(existing[:5])}{', ...' if len(existing) > 5 else ''}); "
                "choose a new or empty directory (nothing was changed)."
            )
        if not resume:
            raise RunDirError(
                f"output directory {str(self.path)!r} already holds a run; pass --resume "
                "(resume=True) to continue it, or choose another directory (nothing was changed)."
            )
        saved = load_config(self.config)
        # The budget may be extended when resuming, and a key neither config reads may differ
        # (e.g. a changed default of another regulariser); anything else must match.
        ignored = {"optim.max_steps", "optim.max_minutes"}
        ignored |= saved.unused_fields() & config.unused_fields()
        diff = [d for d in _diff(saved.to_dict(), config.to_dict()) if d not in ignored]
        if diff:
            raise RunDirError(
                f"cannot resume {str(self.path)!r}: its config differs in {', '.join(diff)}. "
                "Resume with the same settings or start a new run directory."
            )
        return self.checkpoint.is_file()

    def save_config(self, config: Config) -> None:
        """Create the directory if needed and write ``config.yaml`` (atomically)."""
        self.path.mkdir(parents=True, exist_ok=True)
        config.save(self.config)

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON record to metrics.jsonl (a crash loses at most this line)."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """All complete records of metrics.jsonl (a torn last line is ignored)."""
        if not self.metrics.is_file():
            return []
        records = []
        for line in self.metrics.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, step: int) -> None:
        """Keep only the records up to ``step`` (used when resuming from a checkpoint)."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step]
        atomic_write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))

    def write_final(self, final: dict[str, Any]) -> None:
        """Write final.json atomically."""
        atomic_write_text(self.final, json.dumps(final, indent=1))

    def read_final(self) -> dict[str, Any]:
        """Read final.json (raises FileNotFoundError naming the file when absent)."""
        if not self.final.is_file():
            raise FileNotFoundError(
                f"{str(self.final)!r} does not exist: the run has not finished."
            )
        return json.loads(self.final.read_text())


def _diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The dotted config keys whose values differ between two config dicts, sorted."""
    flat_a, flat_b = flatten(a), flatten(b)
    return sorted(k for k in set(flat_a) | set(flat_b) if flat_a.get(k) != flat_b.get(k))
