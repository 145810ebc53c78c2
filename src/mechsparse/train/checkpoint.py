"""Atomic file writes and resumable checkpoints that load without unpickling.

A checkpoint is one ``.safetensors`` file. Its tensors hold every tensor of the training state
(model, optimisers, multipliers, RNG states); its metadata holds a JSON skeleton of the nested
state (dicts, lists, numbers, strings) in which each tensor is replaced by a reference to its
key. Loading therefore never executes code from the file, unlike ``torch.load`` of a pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from mechsparse._atomic import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "mechsparse-checkpoint/1"
_TENSOR = "__tensor__"


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt or was not written by mechsparse."""


def _split(tree: Any, tensors: dict[str, torch.Tensor], prefix: str) -> Any:
    """Replace tensors in a nested structure by references, collecting them in ``tensors``."""
    if isinstance(tree, torch.Tensor):
        key = prefix or "root"
        tensors[key] = tree.detach().to("cpu").contiguous().clone()
        return {_TENSOR: key}
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            if not isinstance(k, str | int):
                raise TypeError(f"checkpoint keys must be str or int; got {type(k).__name__}.")
            # JSON object keys are strings: remember integer keys (optimizer state ids).
            tag = f"i:{k}" if isinstance(k, int) else f"s:{k}"
            out[tag] = _split(v, tensors, f"{prefix}/{k}")
        return out
    if isinstance(tree, list | tuple):
        return [_split(v, tensors, f"{prefix}/{i}") for i, v in enumerate(tree)]
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    raise TypeError(f"cannot store an object of type {type(tree).__name__} in a checkpoint.")


def _join(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {_TENSOR}:
            return tensors[tree[_TENSOR]]
        return {
            (int(k[2:]) if k.startswith("i:") else k[2:]): _join(v, tensors)
            for k, v in tree.items()
        }
    if isinstance(tree, list):
        return [_join(v, tensors) for v in tree]
    return tree


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write a nested training state (dicts/lists of tensors, numbers, strings) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _split(state, tensors, "")
    metadata = {"format": CHECKPOINT_FORMAT, "skeleton": json.dumps(skeleton)}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on the CPU).

    Raises:
        CheckpointError: the file is missing, not a safetensors file, corrupt, or was not
            written by mechsparse.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist.")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or not a safetensors file: {err}"
        ) from err
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{str(path)!r} is not a mechsparse checkpoint (format {metadata.get('format')!r}, "
            f"expected {CHECKPOINT_FORMAT!r})."
        )
    try:
        skeleton = json.loads(metadata["skeleton"])
        return _join(skeleton, tensors)
    except (KeyError, json.JSONDecodeError) as err:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has a damaged state description: {err}"
        ) from err
