"""The data of :class:`mechsparse.MechanismSparsityVAE`: arrays, DataFrames or
:class:`~mechsparse.data.UserData` brought to the (n, T, ·) layout with their names, the
standardisation of x and the one-hot encoding of regimes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mechsparse.data.files import UserData, as_sequences

__all__ = ["Inputs", "action_names", "encoded_a", "standardisation", "standardised"]


@dataclass
class Inputs:
    """x and a in the (n, T, ·) layout, with names and provenance.

    Attributes:
        x: (n, T, d_x) float32 observations.
        a: (n, T, d_a) float32 continuous actions, (n, T) int64 regime labels, or None.
        is_regime: a holds regime labels.
        two_d: x was given as (n, d_x) (T = 1).
        feature_names: d_x names (``x0`` … when the data have none).
        named: the names came with the data (a table or a DataFrame).
        action_names: d_a names of continuous actions, or None.
        regime_name: name of the regime variable, or None.
        source: where the data came from (file name, ``DataFrame`` or ``arrays``).
        table_options: sequence/time columns and stride of a table, for ``encode``.
    """

    x: np.ndarray  # (n, T, d_x) float32
    a: np.ndarray | None  # (n, T, d_a) float32, (n, T) int64 regimes, or None
    is_regime: bool
    two_d: bool  # x was (n, d_x)
    feature_names: tuple[str, ...]
    named: bool  # the names came with the data (a table or a DataFrame)
    action_names: tuple[str, ...] | None
    regime_name: str | None
    source: str
    table_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, x: Any, a: Any, x_name: str, a_name: str) -> Inputs:
        """Read x (array, DataFrame or UserData) and a; ``x_name``/``a_name`` name them in
        errors."""
        if isinstance(x, UserData):
            if a is not None:
                raise ValueError(f"{a_name} must be None when {x_name} is a UserData (it has a).")
            return cls(
                x=x.x,
                a=x.a,
                is_regime=x.aux_type == "discrete",
                two_d=False,
                feature_names=x.feature_names,
                named=x.named_columns,
                action_names=x.action_names,
                regime_name=x.regime_name,
                source=Path(x.source).name if x.source != "DataFrame" else x.source,
                table_options={
                    "sequence_col": x.sequence_col,
                    "time_col": x.time_col,
                    "stride": x.stride,
                },
            )
        names = _column_names(x)
        action_names = _column_names(a)
        values = x.to_numpy() if names is not None else x
        a_values = a.to_numpy() if action_names is not None else a
        two_d = np.ndim(values) == 2
        x3, a3, is_regime = as_sequences(values, a_values, x_name=x_name, a_name=a_name)
        d_x = x3.shape[2]
        return cls(
            x=x3,
            a=a3,
            is_regime=is_regime,
            two_d=two_d,
            feature_names=names or tuple(f"x{j}" for j in range(d_x)),
            named=names is not None,
            action_names=None
            if a3 is None or is_regime
            else (action_names or tuple(f"a{j}" for j in range(a3.shape[2]))),
            regime_name=a_name if is_regime else None,
            source="DataFrame" if names is not None else "arrays",
        )

    def with_x(self, x: np.ndarray, names: tuple[str, ...]) -> Inputs:
        """A copy with other observations (n, T, d_x) and feature names."""
        return replace(self, x=x, feature_names=names)

    def subset(self, index: np.ndarray) -> Inputs:
        """The sequences ``index`` (an (m,) integer array) of x and a."""
        out = self.with_x(self.x[index], self.feature_names)
        out.a = None if self.a is None else self.a[index]
        return out

    def split(self, fraction: float, seed: int) -> tuple[Inputs, Inputs]:
        """(train, valid): ``fraction`` of the sequences, drawn with ``seed``, held out."""
        n = self.x.shape[0]
        n_valid = max(1, round(fraction * n))
        perm = np.random.default_rng(seed).permutation(n)
        valid = np.sort(perm[:n_valid])
        train_idx = np.sort(perm[n_valid:])
        return self.subset(train_idx), self.subset(valid)

    def check_compatible(self, other: Inputs) -> None:
        """The validation data must match the training data's layout."""
        if other.x.shape[1:] != self.x.shape[1:]:
            raise ValueError(
                f"x_valid must have the (T, d_x) = {self.x.shape[1:]} of x; got "
                f"{other.x.shape[1:]}."
            )
        if self.named and other.named and other.feature_names != self.feature_names:
            raise ValueError(
                f"x_valid's feature names {list(other.feature_names)} differ from x's "
                f"{list(self.feature_names)}."
            )
        if (self.a is None) != (other.a is None) or self.is_regime != other.is_regime:
            raise ValueError(
                "x_valid must come with the same kind of auxiliary variable as x (a_valid "
                "continuous, integer regimes, or none)."
            )
        if self.a is not None and not self.is_regime and other.a.shape[2] != self.a.shape[2]:
            raise ValueError(
                f"a_valid must have d_a = {self.a.shape[2]} like a; got {other.a.shape[2]}."
            )
        if self.is_regime:
            unseen = np.setdiff1d(np.unique(other.a), np.unique(self.a))
            if unseen.size:
                raise ValueError(
                    f"a_valid holds regimes {unseen[:10].tolist()} that a does not; every "
                    "regime must occur in the training data."
                )


def _column_names(table: Any) -> tuple[str, ...] | None:
    """The column names of a pandas DataFrame (None for anything else)."""
    columns = getattr(table, "columns", None)
    if columns is None or not hasattr(table, "to_numpy"):
        return None
    return tuple(str(c) for c in columns)


def action_names(data: Inputs, vocabulary: np.ndarray | None) -> list[str]:
    """The names of G^a's columns: ``<regime>=<value>`` per regime, else the action names."""
    if vocabulary is not None:
        return [f"{data.regime_name}={v}" for v in vocabulary.tolist()]
    return list(data.action_names or ())


def standardised(x: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
    """(n, T, d_x) float32 x with the training statistics of ``meta`` applied."""
    if not meta["standardize"]:
        return x  # the values are used as given
    mean = np.asarray(meta["mean"], dtype=np.float64)
    scale = np.asarray(meta["scale"], dtype=np.float64)
    return ((x - mean) / scale).astype(np.float32)


def encoded_a(data: Inputs, meta: dict[str, Any]) -> np.ndarray | None:
    """a as the model sees it: (n, T, d_a) float32, or one-hot (n, T, K_r) for regimes."""
    if data.a is None:
        return None
    if not data.is_regime:
        return data.a.astype(np.float32, copy=False)
    vocabulary = np.asarray(meta["regime_values"], dtype=np.int64)
    index = np.clip(np.searchsorted(vocabulary, data.a), 0, len(vocabulary) - 1)  # (n, T)
    if not np.array_equal(vocabulary[index], data.a):
        unseen = np.setdiff1d(np.unique(data.a), vocabulary)
        raise ValueError(
            f"a holds regimes {unseen[:10].tolist()} that fit never saw; the model knows "
            f"regimes {vocabulary.tolist()}."
        )
    return np.eye(len(vocabulary), dtype=np.float32)[index]  # (n, T, K_r)


def standardisation(
    x: np.ndarray, names: tuple[str, ...], standardize: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std over all frames of the training x (n, T, d_x)."""
    d = x.shape[2]
    if not standardize:
        return np.zeros(d), np.ones(d)
    frames = x.reshape(-1, d).astype(np.float64)  # (n·T, d_x)
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    flat = (std == 0) | (std < 1e-7 * np.abs(mean))  # below float32 resolution
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise ValueError(
            f"feature {names[j]!r} (column {j}) is constant in the training data (std "
            f"{std[j]:.3g}); it carries no information and cannot be standardised. Drop it."
        )
    return mean, std
