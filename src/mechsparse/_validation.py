"""Input validation shared by every public entry point.

Each check raises ``ValueError`` (or ``TypeError``) with a message that names the argument,
what was expected and what was received, in the manner of scikit-learn's ``check_array``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "check_array",
    "check_binary_graph",
    "check_choice",
    "check_positive_int",
    "check_same_length",
    "check_tensor",
]


def check_array(
    array: object,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: type | None = np.float64,
    allow_nan: bool = False,
    min_rows: int = 1,
) -> np.ndarray:
    """Convert ``array`` to numpy and check its rank, numeric type and finiteness.

    Args:
        array: anything ``np.asarray`` accepts.
        name: the argument's name, used in error messages.
        ndim: accepted number(s) of dimensions, or None for any.
        dtype: dtype to convert to (None keeps the input's dtype).
        allow_nan: accept NaN and infinite values.
        min_rows: minimal size of the first axis.

    Returns:
        The array as numpy (a copy only when a conversion was needed).
    """
    try:
        out = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array; could not convert it: {err}") from err
    if out.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array; got dtype {out.dtype}.")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if out.ndim not in allowed:
            expected = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {expected}; got shape {out.shape}.")
    if out.ndim >= 1 and out.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows; got shape {out.shape}.")
    if not allow_nan and out.dtype.kind == "f" and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"{name} contains NaN or infinite values (first at index {tuple(int(i) for i in bad)})."
        )
    return out


def check_binary_graph(
    graph: object, name: str, *, shape: tuple[int | None, int | None] | None = None
) -> np.ndarray:
    """Check a 2-D {0,1} adjacency matrix (rows = children, columns = parents).

    Returns:
        The graph as an ``int64`` array.
    """
    g = check_array(graph, name, ndim=2, dtype=None)
    if not np.isin(g, (0, 1)).all():
        bad = sorted({float(v) for v in np.unique(g) if v not in (0, 1)})[:5]
        raise ValueError(f"{name} must contain only 0 and 1; found values {bad}.")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, g.shape, strict=True)):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} must have shape {tuple('*' if s is None else s for s in shape)} "
                    f"(rows = children, columns = parents); got {g.shape} (axis {axis} differs)."
                )
    return g.astype(np.int64)


def check_same_length(arrays: dict[str, np.ndarray]) -> None:
    """Check that every array has the same first dimension."""
    lengths = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"arrays must have the same number of rows; {desc}.")


def check_choice(value: str, name: str, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(choices)}.")
    return value


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Check that ``value`` is an integer (not a bool) of at least ``minimum``.

    Returns:
        The value as a Python ``int``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_tensor(
    tensor: object, name: str, *, shape: Sequence[int | None], dims: str, floating: bool = True
) -> None:
    """Check the rank and sizes of a torch tensor without copying or synchronising it.

    Args:
        tensor: the value to check.
        name: the argument's name, used in error messages.
        shape: expected sizes, one per axis; ``None`` accepts any size on that axis.
        dims: the axes in words for the message, e.g. ``"(batch, n_timesteps, d_x)"``.
        floating: require a floating-point dtype.
    """
    import torch  # local import: the numpy-only users of this module do not need torch

    if not isinstance(tensor, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape {dims}; got {type(tensor).__name__}."
        )
    expected = tuple("*" if s is None else s for s in shape)
    got = tuple(tensor.shape)
    if len(got) != len(expected) or any(
        want is not None and want != size for want, size in zip(shape, got, strict=False)
    ):
        raise ValueError(f"{name} must have shape {dims} = {expected}; got {got}.")
    if floating and not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor; got dtype {tensor.dtype}.")
