"""The directory of a fitted :class:`mechsparse.MechanismSparsityVAE`: what marks it, the
sizes that rebuild its model, and replacing one safely (never a folder of other files)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["ESTIMATOR_FILE", "check_target_dir", "is_model_dir", "model_dims", "replace_dir"]

ESTIMATOR_FILE = "estimator.json"


def model_dims(model: torch.nn.Module, *, discrete_aux: bool) -> dict[str, Any]:
    """The sizes ``load_trained_model`` needs to rebuild the model (``discrete_aux``: it was
    fitted to one-hot regimes, which resolves the config's ``auto`` choices)."""
    prior = model.prior
    return {
        "d_x": int(model.d_x),
        "d_z": int(model.d_z),
        "d_a": int(model.d_a),
        "n_lags": int(model.n_lags),
        "learn_z": bool(prior.mask_z is not None and prior.mask_z.learnable),
        "learn_a": bool(prior.mask_a is not None and prior.mask_a.learnable),
        "discrete_aux": bool(discrete_aux),
    }


def is_model_dir(path: Path) -> bool:
    """Whether ``path`` holds a saved model or a run (safe to replace with ``overwrite``)."""
    return (path / ESTIMATOR_FILE).is_file() or (path / "config.yaml").is_file()


def check_target_dir(target: Path, *, overwrite: bool) -> None:
    """Refuse a target that is a file, has no parent folder, holds other files, or holds a
    model or run while ``overwrite`` is False."""
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{str(target)!r} exists and is not a directory.")
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist."
        )
    if target.is_dir() and any(target.iterdir()):
        if not is_model_dir(target):
            raise FileExistsError(
                f"{str(target)!r} already holds other files; choose a new or empty directory "
                "(nothing was written)."
            )
        if not overwrite:
            raise FileExistsError(
                f"{str(target)!r} already holds a saved model or run; pass overwrite=True "
                "(--overwrite) to replace it (nothing was written)."
            )


def replace_dir(source: Path, target: Path) -> None:
    """Move the finished directory ``source`` to ``target``, replacing a previous one."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        source.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        source.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
