"""Mean ± sample std over seeds, shared by ``compare``, ``sweep`` and the benchmark scripts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(mean, sample std with ddof 1) of per-seed scores.

    The std is None for a single value (one seed has no spread to report) and both are None
    for no values.
    """
    if len(values) == 0:
        return None, None
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), (float(arr.std(ddof=1)) if arr.size > 1 else None)


def format_mean_std(mean: float | None, std: float | None, digits: int = 3) -> str:
    """A table cell: ``mean ± std``, ``mean`` alone without a std, ``–`` without a mean."""
    if mean is None:
        return "–"
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"
