"""Bring your own data: read ``.npz`` files and long-format CSV/Parquet tables into sequences.

Everything a user's file must satisfy is checked here, before anything is trained or written,
with errors that name the file, the column (or array) and the first offending row.

Inputs
------
``.npz`` (``np.load`` without pickle)
    key ``x``: observations, (n, T, d_x) or (n, d_x) for T = 1; optional key ``a``: continuous
    auxiliary variables (n, T, d_a) / (n, d_a), or integer regimes (n, T) / (n,). Each of the
    n entries is one sequence of T frames.
CSV or Parquet, long format (one row per frame)
    rows are grouped into sequences by ``sequence_col`` (no column: the whole table is one
    sequence) and sorted by ``time_col`` (no column: file order). Feature columns (default:
    every column not used otherwise), continuous action columns and an integer regime column
    are read as numbers. Column lists accept shell-style patterns (``"x*"``).

Windows
-------
Sequences are cut into windows of ``window`` = T consecutive frames, one every ``stride``
frames (default ``stride = window``: non-overlapping windows, so that every row lands in at
most one window). Sequences shorter than T are dropped, with their count reported (a
:class:`DroppedRowsWarning` and :attr:`UserData.n_dropped_sequences`), as are the rows of a
sequence's tail that do not fill a window. Without ``window``: T = 1 for tables without a
sequence column, the (common) sequence length otherwise, and the array's T for ``.npz``.

Convention for the auxiliary variables: ``a[:, t]`` acts on the latents of frame t, i.e. the
paper's a^{t-1} → z^t is stored at index t. A table that records on row t the action taken at
time t (which affects frame t + 1) must shift the action columns down by one row per sequence.

Every window keeps its provenance: ``rows`` (n, T) are the source rows of its frames, so each
latent vector computed from a window can be joined back to its row (:func:`write_latents`).
This module uses numpy and pandas only (pandas is imported when a table is read).
"""

from __future__ import annotations

import fnmatch
import json
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mechsparse._atomic import atomic_write
from mechsparse._validation import check_array, check_choice, check_positive_int

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "LATENT_FORMATS",
    "DroppedRowsWarning",
    "UserData",
    "as_sequences",
    "check_output_path",
    "from_frame",
    "latents_frame",
    "read_data",
    "write_latents",
]

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
LATENT_FORMATS = ("npz", "csv", "parquet")


class DroppedRowsWarning(UserWarning):
    """Some sequences were shorter than the window, or some rows did not fill a window."""


@dataclass(frozen=True, eq=False)
class UserData:
    """A user's observations cut into n windows of T frames, with their provenance.

    Attributes:
        x: observations, shape (n, T, d_x), float32.
        a: auxiliary variables acting on each frame's latents: (n, T, d_a) float32 continuous
            actions, (n, T) int64 regime labels, or None.
        feature_names: the d_x names of x's features (column names; ``x0``... for arrays).
        action_names: the d_a names of the continuous actions, or None.
        regime_name: the name of the regime column (``a`` for arrays), or None.
        rows: (n, T) int64 source row of every frame: the 0-based data row of the table, or
            for ``.npz`` the flat frame index i·T₀ + t of ``x`` of shape (n₀, T₀, d_x).
        sequences: (n,) the sequence each window comes from (values of the sequence column,
            else 0 for a table and the index i for ``.npz``).
        times: (n, T) time of every frame (values of the time column, else the position of
            the frame in its sequence).
        source: the file name, or the ``source`` given to :func:`from_frame`.
        sequence_col: sequence column used, or None.
        time_col: time column used, or None.
        stride: frames between the starts of consecutive windows of a sequence.
        named_columns: the feature and action names are a table's column names (False for
            ``.npz`` files, whose names are generated).
        n_dropped_sequences: sequences shorter than T, left out.
        n_dropped_rows: rows in no window (those dropped sequences and the sequence tails).
    """

    x: np.ndarray
    a: np.ndarray | None
    feature_names: tuple[str, ...]
    action_names: tuple[str, ...] | None
    regime_name: str | None
    rows: np.ndarray
    sequences: np.ndarray
    times: np.ndarray
    source: str
    sequence_col: str | None = None
    time_col: str | None = None
    stride: int = 1
    named_columns: bool = True
    n_dropped_sequences: int = 0
    n_dropped_rows: int = 0

    @property
    def n(self) -> int:
        """Number of windows (the sequences the model sees)."""
        return int(self.x.shape[0])

    @property
    def T(self) -> int:
        """Frames per window."""
        return int(self.x.shape[1])

    @property
    def d_x(self) -> int:
        """Number of features."""
        return int(self.x.shape[2])

    @property
    def aux_type(self) -> str | None:
        """``"continuous"``, ``"discrete"`` (regimes) or None."""
        if self.a is None:
            return None
        return "discrete" if self.regime_name is not None else "continuous"

    def summary(self) -> str:
        """One line: what was read and what was left out."""
        aux = {
            None: "no auxiliary variable",
            "continuous": f"{len(self.action_names or ())} continuous actions",
            "discrete": f"regimes from {self.regime_name!r}",
        }[self.aux_type]
        line = (
            f"{self.source}: {self.n:,} sequences of T = {self.T} frames, "
            f"{self.d_x} features, {aux}"
        )
        if self.n_dropped_rows:
            line += (
                f"; left out {self.n_dropped_sequences:,} sequences shorter than T and "
                f"{self.n_dropped_rows:,} rows in no window"
            )
        return line


# ------------------------------------------------------------------------------- reading
def read_data(
    path: str | Path,
    *,
    window: int | None = None,
    stride: int | None = None,
    sequence_col: str | None = None,
    time_col: str | None = None,
    feature_cols: str | Sequence[str] | None = None,
    action_cols: str | Sequence[str] | None = None,
    regime_col: str | None = None,
    min_sequences: int = 1,
) -> UserData:
    """Read a ``.npz`` file or a CSV/Parquet table into windows of T frames.

    Args:
        path: ``.npz``, ``.csv``, ``.parquet`` or ``.pq`` file.
        window: frames T per window (see the module docstring for the default).
        stride: frames between window starts (default: ``window``, non-overlapping).
        sequence_col: table column grouping rows into sequences.
        time_col: table column ordering the rows of a sequence (numbers or ISO dates).
        feature_cols: feature columns (names or patterns, a list or one comma-separated
            string); default: every column not used as sequence, time, action or regime.
        action_cols: continuous auxiliary-variable columns (names or patterns).
        regime_col: integer regime column (a discrete auxiliary variable).
        min_sequences: fewest windows accepted.

    Returns:
        The :class:`UserData`.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: unknown suffix, unreadable file, missing columns or keys, NaN or infinite
            values, non-integer regimes, x and a of different n or T, a window longer than
            every sequence, or fewer than ``min_sequences`` windows.
        TypeError: a non-numeric column or array.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        table_options = {
            "sequence_col": sequence_col,
            "time_col": time_col,
            "feature_cols": feature_cols,
            "action_cols": action_cols,
            "regime_col": regime_col,
        }
        given = [k for k, v in table_options.items() if v is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)} apply to CSV/Parquet tables, not to the .npz file "
                f"{str(path)!r} (its arrays are x and a)."
            )
        return _read_npz(path, window=window, stride=stride, min_sequences=min_sequences)
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(
            f"cannot read {str(path)!r}: expected a .npz, .csv, .parquet or .pq file; got "
            f"suffix {suffix!r}."
        )
    frame = _read_table(path, TABLE_SUFFIXES[suffix])
    return from_frame(
        frame,
        source=str(path),
        window=window,
        stride=stride,
        sequence_col=sequence_col,
        time_col=time_col,
        feature_cols=feature_cols,
        action_cols=action_cols,
        regime_col=regime_col,
        min_sequences=min_sequences,
        csv=TABLE_SUFFIXES[suffix] == "csv",
    )


def _read_table(path: Path, kind: str) -> pd.DataFrame:
    import pandas as pd

    try:
        if kind == "csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except Exception as err:  # pandas/pyarrow raise many parser types; re-raise as one
        raise ValueError(f"cannot read {str(path)!r} as a {kind.upper()} table: {err}") from err


def _read_npz(
    path: Path, *, window: int | None, stride: int | None, min_sequences: int
) -> UserData:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{str(path)!r} is not a readable .npz file: {err}") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} holds a single .npy array, not an .npz archive.")
    try:
        with archive:
            if "x" not in archive.files:
                raise ValueError(
                    f"{str(path)!r} has no array 'x' (observations); found {sorted(archive.files)}."
                )
            x_raw = archive["x"]
            a_raw = archive["a"] if "a" in archive.files else None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise ValueError(f"{str(path)!r} is a corrupt .npz file: {err}") from err
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{str(path)!r} holds an unreadable array: {err}") from err
    x, a, is_regime = as_sequences(x_raw, a_raw, x_name=f"{path}: x", a_name=f"{path}: a")
    n0, t0, d_x = x.shape
    lengths = np.full(n0, t0, dtype=np.int64)
    pos, seq, n_drop_seq, n_drop_rows = _windows(
        lengths, window or t0, stride, source=str(path), min_sequences=min_sequences
    )
    flat_x = x.reshape(n0 * t0, d_x)  # (n₀·T₀, d_x)
    a_out = None
    if a is not None:
        flat_a = a.reshape(n0 * t0, *a.shape[2:])
        a_out = flat_a[pos]
    _warn_dropped(str(path), n_drop_seq, n_drop_rows, pos.shape[1])
    return UserData(
        x=flat_x[pos],
        a=a_out,
        feature_names=tuple(f"x{j}" for j in range(d_x)),
        action_names=None if a is None or is_regime else tuple(f"a{j}" for j in range(a.shape[2])),
        regime_name="a" if is_regime else None,
        rows=pos.astype(np.int64),
        sequences=seq.astype(np.int64),
        times=(pos % t0).astype(np.int64),
        source=str(path),
        stride=stride or pos.shape[1],
        named_columns=False,
        n_dropped_sequences=n_drop_seq,
        n_dropped_rows=n_drop_rows,
    )


def as_sequences(
    x: object, a: object = None, *, x_name: str = "x", a_name: str = "a"
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Check arrays in the estimator's layout and bring them to (n, T, ·).

    Args:
        x: (n, T, d_x) observations, or (n, d_x) for T = 1.
        a: None; continuous auxiliary variables of the same rank as x — (n, T, d_a), or
            (n, d_a) with a 2-D x; or integer regimes of one rank less — (n, T), or (n,) with
            a 2-D x.
        x_name: how ``x`` is named in errors.
        a_name: how ``a`` is named in errors.

    Returns:
        ``(x, a, is_regime)``: x (n, T, d_x) float32; a (n, T, d_a) float32, (n, T) int64 or
        None; whether a holds regimes.
    """
    x = check_array(x, x_name, ndim=(2, 3), dtype=None)
    rank = x.ndim
    if rank == 2:
        x = x[:, None, :]  # (n, d_x) → (n, 1, d_x)
    if x.shape[1] < 1 or x.shape[2] < 1:
        raise ValueError(f"{x_name} needs at least one frame and one feature; got {x.shape}.")
    x = x.astype(np.float32, copy=False)
    n, t = x.shape[:2]
    if a is None:
        return x, None, False
    a = check_array(a, a_name, ndim=(rank - 1, rank), dtype=None)
    if a.shape[0] != n or (rank == 3 and a.shape[1] != t):
        lead = "(n,)" if rank == 2 else "(n, T)"
        raise ValueError(
            f"x and a must have the same {lead}: {x_name} has shape {x.shape[: rank - 1]} "
            f"there but {a_name} has shape {a.shape} (a[:, t] acts on the latents of frame t)."
        )
    if a.ndim == rank - 1:  # regimes: x's leading axes only
        return x, _as_regimes(a.reshape(n, t), a_name), True
    a = a.reshape(n, t, a.shape[-1])  # (n, d_a) → (n, 1, d_a) when x is 2-D
    if a.shape[2] < 1:
        raise ValueError(f"{a_name} needs at least one column; got shape {a.shape}.")
    return x, a.astype(np.float32, copy=False), False


def _as_regimes(a: np.ndarray, name: str) -> np.ndarray:
    """Integer regime labels (n, T) int64; float arrays must hold whole numbers."""
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} holds regime labels, which must be integers; got {_item(a[first])!r} at "
                f"index {first}."
            )
    return a.astype(np.int64)


# ------------------------------------------------------------------------------- tables
def from_frame(
    frame: pd.DataFrame,
    *,
    source: str = "DataFrame",
    window: int | None = None,
    stride: int | None = None,
    sequence_col: str | None = None,
    time_col: str | None = None,
    feature_cols: str | Sequence[str] | None = None,
    action_cols: str | Sequence[str] | None = None,
    regime_col: str | None = None,
    min_sequences: int = 1,
    csv: bool = False,
) -> UserData:
    """Turn a long-format table (one row per frame) into windows; see :func:`read_data`.

    Args:
        frame: the table, a pandas DataFrame.
        source: how the table is named in errors and summaries (e.g. its file name).
        window, stride, sequence_col, time_col, feature_cols, action_cols, regime_col,
            min_sequences: as in :func:`read_data`.
        csv: the table comes from a CSV file: errors also give the file line of a row.

    Returns:
        The :class:`UserData`; ``rows`` index the table's rows by position (0-based).
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    where = _RowNamer(source, csv)
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(f"{source}: duplicated column names {dup}.")
    if len(frame) == 0:
        raise ValueError(f"{source}: the table has no rows.")
    single = {"sequence_col": sequence_col, "time_col": time_col, "regime_col": regime_col}
    for option, name in single.items():
        if name is not None and name not in columns:
            raise ValueError(
                f"{source}: {option} {name!r} is not a column; columns are {_show(columns)}."
            )
    actions = _match(action_cols, columns, source, "action_cols") if action_cols else []
    if actions and regime_col is not None:
        raise ValueError(
            f"{source}: give either action_cols (continuous actions) or regime_col (regimes), "
            "not both."
        )
    used = {c for c in (sequence_col, time_col, regime_col) if c is not None} | set(actions)
    if feature_cols is None:
        features = [c for c in columns if c not in used]
    else:
        features = _match(feature_cols, columns, source, "feature_cols")
        clash = sorted(set(features) & used)
        if clash:
            raise ValueError(
                f"{source}: columns {clash} are selected both as features and as sequence, "
                "time, action or regime columns."
            )
    if not features:
        raise ValueError(f"{source}: no feature columns are left; columns are {_show(columns)}.")

    x = _numeric(frame, features, where, "feature")  # (n_rows, d_x)
    a = None
    if actions:
        a = _numeric(frame, actions, where, "action")  # (n_rows, d_a)
    elif regime_col is not None:
        a = _regimes(frame[regime_col], regime_col, where)  # (n_rows,)

    n_rows = len(frame)
    if sequence_col is not None:
        seq_col = frame[sequence_col]
        _no_missing(seq_col, sequence_col, where)
        codes, labels = pd.factorize(seq_col, sort=False)  # codes in order of first appearance
        labels = _plain(np.asarray(labels))
    else:
        codes, labels = np.zeros(n_rows, dtype=np.int64), np.zeros(1, dtype=np.int64)
    if time_col is not None:
        times = _times(frame[time_col], time_col, where)
        order = np.lexsort((times, codes))  # by sequence, then time (stable)
        sorted_codes, sorted_times = codes[order], times[order]
        same = (sorted_codes[1:] == sorted_codes[:-1]) & (sorted_times[1:] == sorted_times[:-1])
        if same.any():
            i = int(np.flatnonzero(same)[0])
            r1, r2 = sorted(int(r) for r in order[i : i + 2])
            raise ValueError(
                f"{source}: sequence {_item(labels[sorted_codes[i]])!r} has two rows at "
                f"{time_col} = {_item(sorted_times[i])!r} ({where.row(r1)} and {where.row(r2)})."
            )
    else:
        order = np.argsort(codes, kind="stable")  # by sequence, file order within
        times = None
    lengths = np.bincount(codes, minlength=len(labels)).astype(np.int64)
    if window is None:
        if sequence_col is None:
            window = 1
        elif lengths.min() != lengths.max():
            raise ValueError(
                f"{source}: sequences have {lengths.min()} to {lengths.max()} rows; pass window "
                "(--window T) to cut them into windows of T frames."
            )
        else:
            window = int(lengths[0])
    pos, seq, n_drop_seq, n_drop_rows = _windows(
        lengths, window, stride, source=source, min_sequences=min_sequences
    )
    rows = order[pos]  # (n, T) table rows of every frame
    if times is None:
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        frame_times = pos - starts[seq][:, None]  # position within the sequence
    else:
        frame_times = times[rows]
    _warn_dropped(source, n_drop_seq, n_drop_rows, pos.shape[1])
    return UserData(
        x=x[rows],
        a=None if a is None else a[rows],
        feature_names=tuple(features),
        action_names=tuple(actions) if actions else None,
        regime_name=regime_col,
        rows=rows.astype(np.int64),
        sequences=labels[seq],
        times=frame_times,
        source=source,
        sequence_col=sequence_col,
        time_col=time_col,
        stride=stride or window,
        n_dropped_sequences=n_drop_seq,
        n_dropped_rows=n_drop_rows,
    )


class _RowNamer:
    """Names a table row in errors: ``row 12`` (and ``line 14`` of a CSV file)."""

    def __init__(self, source: str, csv: bool) -> None:
        self.source, self.csv = source, csv

    def row(self, i: int) -> str:
        return f"row {i} (line {i + 2} of the file)" if self.csv else f"row {i}"


def _show(columns: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(c) for c in columns[:limit])
    return f"[{shown}{', ...' if len(columns) > limit else ''}]"


def _match(spec: str | Sequence[str], columns: list[str], source: str, option: str) -> list[str]:
    """Column names in file order matching names or shell patterns (``"x*"``)."""
    items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    items = [s for s in items if s]
    if not items:
        raise ValueError(f"{source}: {option} is empty.")
    out: list[str] = []
    for item in items:
        hits = [item] if item in columns else fnmatch.filter(columns, item)
        if not hits:
            raise ValueError(
                f"{source}: {option} entry {item!r} matches no column; columns are "
                f"{_show(columns)}."
            )
        out += [h for h in hits if h not in out]
    return out


def _numeric(frame: pd.DataFrame, names: list[str], where: _RowNamer, kind: str) -> np.ndarray:
    """(n_rows, len(names)) float32 after checking every column is numeric and finite."""
    import pandas as pd

    for name in names:
        col = frame[name]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            coerced = pd.to_numeric(col, errors="coerce")
            bad = np.flatnonzero((coerced.isna() & col.notna()).to_numpy())
            detail = (
                f"; first non-numeric value {col.iloc[bad[0]]!r} at {where.row(int(bad[0]))}"
                if bad.size
                else ""
            )
            raise TypeError(
                f"{where.source}: {kind} column {name!r} is not numeric (dtype {col.dtype}"
                f"{detail}). Convert it, or leave it out of the {kind} columns "
                f"({kind}_cols / --{kind}-cols)."
            )
    values = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)  # (n_rows, d)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        what = "a missing value (NaN)" if np.isnan(values[i, j]) else f"{values[i, j]}"
        raise ValueError(
            f"{where.source}: {kind} column {names[j]!r} has {what} at {where.row(i)}; NaN and "
            "infinite values are not allowed (drop or impute those rows first)."
        )
    return values.astype(np.float32)


def _regimes(col: pd.Series, name: str, where: _RowNamer) -> np.ndarray:
    """(n_rows,) int64 regime labels; the column must hold whole numbers."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy().astype(np.int64)
    if not pd.api.types.is_numeric_dtype(col.dtype):
        coerced = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero((coerced.isna() | col.isna()).to_numpy())
        raise TypeError(
            f"{where.source}: regime column {name!r} must hold integer labels; got dtype "
            f"{col.dtype} with value {col.iloc[bad[0]]!r} at {where.row(int(bad[0]))}."
        )
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{where.source}: regime column {name!r} must hold integer labels; got "
            f"{_item(values[i])!r} at {where.row(i)}."
        )
    return values.astype(np.int64)


def _no_missing(col: pd.Series, name: str, where: _RowNamer) -> None:
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise ValueError(
            f"{where.source}: column {name!r} has a missing value at {where.row(int(missing[0]))}."
        )


def _times(col: pd.Series, name: str, where: _RowNamer) -> np.ndarray:
    """The time column as numbers or datetime64, checked for missing values."""
    import pandas as pd

    _no_missing(col, name, where)
    if pd.api.types.is_bool_dtype(col.dtype):
        raise TypeError(f"{where.source}: time column {name!r} must hold numbers or dates.")
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where.source}: time column {name!r} has {values[i]} at {where.row(i)}."
            )
        return col.to_numpy()
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col.to_numpy()
    try:
        return pd.to_datetime(col, format="ISO8601").to_numpy()
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"{where.source}: time column {name!r} must hold numbers or ISO dates; got dtype "
            f"{col.dtype} ({err})."
        ) from err


def _item(value: Any) -> Any:
    """A numpy scalar as the plain Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _plain(labels: np.ndarray) -> np.ndarray:
    """Sequence labels as a numpy array that ``np.savez`` stores without pickling."""
    if labels.dtype.kind == "O":
        return np.asarray([str(v) for v in labels])
    return labels


# ------------------------------------------------------------------------------- windows
def _windows(
    lengths: np.ndarray, window: int, stride: int | None, *, source: str, min_sequences: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Cut sequences, stored back to back, into windows of ``window`` frames.

    Args:
        lengths: (S,) number of frames of each sequence; sequence s occupies positions
            ``sum(lengths[:s]) ... + lengths[s] - 1`` of the concatenated frames.
        window: frames T per window.
        stride: frames between window starts (None: ``window``).

    Returns:
        ``(positions, sequence, n_dropped_sequences, n_dropped_rows)``: positions (n, T) of
        every window's frames in the concatenated order, the (n,) sequence of every window,
        and what was left out.
    """
    window = check_positive_int(window, "window")
    stride = window if stride is None else check_positive_int(stride, "stride")
    min_sequences = check_positive_int(min_sequences, "min_sequences")
    if window > lengths.max():
        raise ValueError(
            f"{source}: window {window} is longer than every sequence (the longest has "
            f"{int(lengths.max())} frames); choose window ≤ {int(lengths.max())}."
        )
    long_enough = lengths >= window
    n_per_seq = np.where(long_enough, (lengths - window) // stride + 1, 0)  # (S,)
    n = int(n_per_seq.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # (S,) first frame of each
    seq = np.repeat(np.arange(len(lengths)), n_per_seq)  # (n,)
    first_window = np.concatenate([[0], np.cumsum(n_per_seq)[:-1]])  # (S,)
    k = np.arange(n) - first_window[seq]  # (n,) index of the window in its sequence
    positions = (starts[seq] + k * stride)[:, None] + np.arange(window)  # (n, T)
    covered = np.where(long_enough, np.minimum(lengths, (n_per_seq - 1) * stride + window), 0)
    n_dropped_rows = int((lengths - covered).sum())
    if n < min_sequences:
        dropped = int((~long_enough).sum())
        raise ValueError(
            f"{source}: yields {n} sequences of T = {window} frames but at least "
            f"{min_sequences} are needed ({dropped} shorter sequences dropped)."
        )
    return positions, seq, int((~long_enough).sum()), n_dropped_rows


def _warn_dropped(source: str, n_sequences: int, n_rows: int, window: int) -> None:
    if n_rows:
        warnings.warn(
            f"{source}: left out {n_sequences} sequences shorter than the window T = {window} "
            f"and {n_rows} rows in all that fill no window.",
            DroppedRowsWarning,
            stacklevel=3,
        )


# ------------------------------------------------------------------------------- writing
def check_output_path(path: str | Path, *, overwrite: bool = False, what: str = "output") -> Path:
    """Refuse an output file that exists (unless ``overwrite``) or whose folder is missing.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False, or it is a directory.
        FileNotFoundError: the parent folder does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise FileExistsError(f"{what} path {str(path)!r} is a directory; give a file name.")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{what} file {str(path)!r} already exists; pass --overwrite (overwrite=True) to "
            "replace it (nothing was written)."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {what} {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    return path


def write_latents(
    path: str | Path,
    z: np.ndarray,
    data: UserData,
    *,
    format: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write latents with the identifiers that join them back to their source rows.

    Args:
        path: output file.
        z: (n, T, K) latents of ``data``'s windows (e.g. posterior means).
        data: the windows ``z`` was computed from.
        format: ``npz``, ``csv`` or ``parquet``; default from the suffix of ``path`` (npz
            when unknown).
        overwrite: replace an existing file.

    ``npz``: ``z`` (n, T, K), ``row`` (n, T) source rows, ``sequence`` (n,), ``time`` (n, T),
    ``latent_names`` (K,). ``csv``/``parquet``: one line per frame with columns ``row``, the
    sequence and time columns (named as in the source, else ``sequence`` and ``time``),
    ``window`` (index of the window) and ``z0`` … ``z{K-1}``. Written atomically.
    """
    fmt = format or {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}.get(
        Path(path).suffix.lower(), "npz"
    )
    check_choice(fmt, "format", LATENT_FORMATS)
    z = check_array(z, "z", ndim=3, dtype=np.float32)
    if z.shape[:2] != data.x.shape[:2]:
        raise ValueError(
            f"z must have the (n, T) = {data.x.shape[:2]} of the data; got shape {z.shape}."
        )
    path = check_output_path(path, overwrite=overwrite, what="latents")
    names = [f"z{k}" for k in range(z.shape[2])]
    if fmt == "npz":
        arrays = {
            "z": z,
            "row": data.rows,
            "sequence": data.sequences,
            "time": data.times,
            "latent_names": np.asarray(names),
            "meta": np.asarray(json.dumps({"source": data.source, "T": data.T})),
        }

        def write(tmp: str) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)

        return atomic_write(path, write)
    table = latents_frame(z, data)
    if fmt == "csv":
        return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    return atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))


def latents_frame(z: np.ndarray, data: UserData) -> pd.DataFrame:
    """The long table of :func:`write_latents`: one line per frame of every window."""
    import pandas as pd

    n, t, k = z.shape
    seq_name = data.sequence_col or "sequence"
    time_name = data.time_col or "time"
    columns = {
        "row": data.rows.reshape(-1),
        seq_name: np.repeat(data.sequences, t),
        time_name: data.times.reshape(-1),
        "window": np.repeat(np.arange(n), t),
    }
    latent_names = [f"z{j}" for j in range(k)]
    clash = sorted(set(columns) & set(latent_names)) or (
        ["row/window"] if len({"row", seq_name, time_name, "window"}) < 4 else []
    )
    if clash:
        raise ValueError(
            f"cannot write latents: the sequence/time column names clash with {clash}."
        )
    flat = z.reshape(n * t, k)  # (n·T, K)
    columns.update({name: flat[:, j] for j, name in enumerate(latent_names)})
    return pd.DataFrame(columns)
