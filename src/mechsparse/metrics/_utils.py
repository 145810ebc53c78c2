"""Input handling shared by the metrics: frame flattening and boundary checks.

Every metric compares ground-truth latents z with learned latents ẑ frame by frame, so
sequences (n, T, d) are first flattened to frames (n·T, d). The checks here are the ones
all metrics share; each error names the offending argument.
"""

from __future__ import annotations

import numpy as np

from mechsparse._validation import check_array, check_binary_graph

__all__ = ["check_frames", "check_pair", "check_pattern", "check_permutation", "flatten_frames"]


def flatten_frames(arr: object, name: str = "arr") -> np.ndarray:
    """Flatten sequences of latents into frames.

    Args:
        arr: latents of shape (n, T, d) (n sequences of T frames) or frames of shape (n, d).
        name: the argument's name, used in error messages.

    Returns:
        A float64 array of shape (n·T, d) (row ``s·T + t`` is frame t of sequence s), or the
        (n, d) input unchanged (converted to float64). Values are not checked here.

    Raises:
        ValueError: if ``arr`` is neither 2-D nor 3-D.
    """
    out = check_array(arr, name, ndim=(2, 3), allow_nan=True, min_rows=0)
    if out.ndim == 3:
        out = out.reshape(-1, out.shape[-1])  # (n, T, d) -> (n·T, d)
    return out


def check_frames(arr: object, name: str) -> np.ndarray:
    """Flatten ``arr`` with :func:`flatten_frames` and check it is usable by a metric.

    Args:
        arr: latents of shape (n, T, d) or (n, d).
        name: the argument's name, used in error messages.

    Returns:
        Finite float64 frames of shape (n_frames, d) with n_frames ≥ 2 and d ≥ 1.

    Raises:
        ValueError: wrong rank, fewer than 2 frames, no column, or NaN/infinite values.
    """
    frames = flatten_frames(arr, name)
    if frames.shape[0] < 2:
        raise ValueError(
            f"{name} needs at least 2 frames (rows after flattening time) to compute a "
            f"correlation; got shape {np.shape(arr)}."
        )
    if frames.shape[1] < 1:
        raise ValueError(f"{name} needs at least one latent (column); got shape {np.shape(arr)}.")
    return check_array(frames, name, ndim=2, min_rows=2)


def check_pair(
    z: object, z_hat: object, names: tuple[str, str] = ("z", "z_hat")
) -> tuple[np.ndarray, np.ndarray]:
    """Check a (truth, estimate) pair of latent arrays and flatten both to frames.

    Args:
        z: ground-truth latents, (n, T, d_true) or (n, d_true).
        z_hat: learned latents, (n, T, d_learned) or (n, d_learned).
        names: argument names used in error messages.

    Returns:
        ``(z, z_hat)`` as finite float64 frames with the same number of rows.

    Raises:
        ValueError: see :func:`check_frames`; or different numbers of frames (the message
            names both arrays and their row counts).
    """
    a = check_frames(z, names[0])
    b = check_frames(z_hat, names[1])
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must hold the same frames; after flattening time "
            f"{names[0]} has {a.shape[0]} rows (shape {np.shape(z)}) and {names[1]} has "
            f"{b.shape[0]} rows (shape {np.shape(z_hat)})."
        )
    return a, b


def check_permutation(
    permutation: object, d_true: int, d_learned: int, name: str = "permutation"
) -> np.ndarray:
    """Check a matching of true latents to learned latents.

    Args:
        permutation: (d_true,) integers, ``permutation[i] = π(i)`` = index of the learned
            latent matched to true latent i; entries distinct and in [0, d_learned).
        d_true: number of true latents.
        d_learned: number of learned latents.
        name: the argument's name, used in error messages.

    Returns:
        The matching as an int64 array of shape (d_true,).

    Raises:
        ValueError: wrong shape, non-integer, out-of-range or repeated entries.
    """
    perm = check_array(permutation, name, ndim=1, dtype=None, min_rows=0)
    if perm.shape != (d_true,):
        raise ValueError(
            f"{name} must have shape ({d_true},) (one learned index per true latent); "
            f"got shape {perm.shape}."
        )
    if perm.dtype.kind == "f" and not np.array_equal(perm, np.round(perm)):
        raise ValueError(f"{name} must contain integer indices; got {perm.tolist()}.")
    perm = perm.astype(np.int64)
    if perm.size and (perm.min() < 0 or perm.max() >= d_learned):
        raise ValueError(
            f"{name} entries must lie in [0, {d_learned}) (indices of learned latents); "
            f"got {perm.tolist()}."
        )
    if np.unique(perm).size != perm.size:
        raise ValueError(
            f"{name} must not match two true latents to the same learned latent; "
            f"got {perm.tolist()}."
        )
    return perm


def check_pattern(C: object, d_true: int, name: str = "C") -> np.ndarray:
    """Check an entanglement pattern C (d_true, d_true) with entries in {0, 1}.

    Args:
        C: binary matrix; ``C[i, j] = 1`` iff true latent i may be entangled with true
            latent j (rows: true latent to recover, columns: true latents allowed).
        d_true: number of true latents.
        name: the argument's name, used in error messages.

    Returns:
        C as an int64 array of shape (d_true, d_true).
    """
    pattern = check_array(C, name, ndim=2, dtype=None)
    if pattern.shape != (d_true, d_true):
        raise ValueError(
            f"{name} must have shape ({d_true}, {d_true}) (true latents × true latents, "
            f"matching z's {d_true} columns); got shape {pattern.shape}."
        )
    return check_binary_graph(pattern, name)
