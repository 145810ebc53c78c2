"""The figure of one benchmark of a sweep: scores against the swept sparsity level.

Like :mod:`mechsparse.report.figures`, the function returns a ``matplotlib.figure.Figure`` on
an explicit Agg canvas and never touches pyplot state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mechsparse.sweep.spec import format_value

__all__ = ["SPARSITY_KEYS", "plot_sweep_benchmark", "sparsity_axis"]

SPARSITY_KEYS = ("edges", "coef", "regularizer.edges_a", "regularizer.edges_z", "regularizer.coef")
"""Grid keys that set the sparsity level, in the order one is chosen as the x axis."""

_PANELS = (("mcc", "MCC"), ("consistent_r", "consistent R"))
_GRAPH_NAMES = {"graph_z": "$|G^z|$", "graph_a": "$|G^a|$"}


def sparsity_axis(grid_keys: Sequence[str]) -> str | None:
    """The grid key drawn on the x axis: the first of :data:`SPARSITY_KEYS` that is swept."""
    return next((k for k in SPARSITY_KEYS if k in grid_keys), None)


def _graphs_of_axis(axis: str | None, true_edges: Mapping[str, int]) -> list[str]:
    """The learned graphs whose bound the axis sets (empty for a penalty coefficient)."""
    if axis == "edges":
        return [g for g in ("graph_a", "graph_z") if g in true_edges]
    if axis in ("regularizer.edges_a", "regularizer.edges_z"):
        graph = "graph_" + axis[-1]
        return [graph] if graph in true_edges else []
    return []


def _x(value: Any, axis: str, true_edges: Mapping[str, int]) -> float | None:
    """A grid value as a position on the x axis (``true`` → the true edge count)."""
    if value == "true":
        graphs = _graphs_of_axis(axis, true_edges)
        return float(true_edges[graphs[0]]) if graphs else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # null bound (no constraint) or a non-numeric value: not on the axis
    return float(value)


def _series_label(entry: Mapping[str, Any], axis: str | None) -> str:
    params = ", ".join(f"{k} {format_value(v)}" for k, v in entry["params"].items() if k != axis)
    return entry["method"] + (f", {params}" if params else "")


def plot_sweep_benchmark(
    entries: Sequence[Mapping[str, Any]],
    *,
    axis: str | None,
    true_edges: Mapping[str, int],
    title: str,
) -> Figure:
    """MCC and consistent R (mean ± sample std over seeds) against the sparsity level.

    Args:
        entries: configuration summaries of one benchmark (``method``, ``params``,
            ``<score>_mean``, ``<score>_std``), as made by
            :func:`mechsparse.sweep.aggregate.summarize`.
        axis: the swept sparsity key on the x axis (:func:`sparsity_axis`), or None to draw
            one point per configuration.
        true_edges: true edge count per learned graph (``graph_z``, ``graph_a``); drawn as a
            vertical line when the axis is an edge bound.
        title: the figure title (the benchmark).

    Returns:
        A Figure with two panels (MCC, consistent R). Configurations that do not use the axis
        (``none``, baselines) are horizontal dashed lines with a ±std band.
    """
    fig = Figure(figsize=(7.5, 6.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes: Sequence[Axes] = fig.subplots(2, 1, sharex=True)
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    series: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        series.setdefault(_series_label(entry, axis), []).append(entry)
    xs_all: list[float] = []
    for ax, (key, ylabel) in zip(axes, _PANELS, strict=True):
        for i, (label, members) in enumerate(series.items()):
            colour = colours[i % len(colours)]
            on_axis = axis is not None and axis in members[0]["params"]
            if on_axis:
                points = []
                for e in members:
                    x = _x(e["params"][axis], axis, true_edges)
                    if x is not None and e.get(f"{key}_mean") is not None:
                        points.append((x, e[f"{key}_mean"], e.get(f"{key}_std") or 0.0))
                if not points:
                    continue
                x, mean, std = (np.array(v) for v in zip(*sorted(points), strict=True))
                xs_all.extend(x.tolist())
                ax.errorbar(
                    x, mean, yerr=std, marker="o", ms=4, capsize=3, color=colour, label=label
                )
            elif axis is not None:
                for e in members:
                    mean, std = e.get(f"{key}_mean"), e.get(f"{key}_std")
                    if mean is None:
                        continue
                    ax.axhline(mean, ls="--", lw=1.2, color=colour, label=label)
                    if std:
                        ax.axhspan(mean - std, mean + std, color=colour, alpha=0.12, lw=0)
            else:  # nothing swept on a sparsity axis: one point per configuration
                positions = [list(series).index(label)]
                e = members[0]
                if e.get(f"{key}_mean") is not None:
                    ax.errorbar(
                        positions,
                        [e[f"{key}_mean"]],
                        yerr=[e.get(f"{key}_std") or 0.0],
                        marker="o",
                        capsize=3,
                        color=colour,
                    )
        for graph in _graphs_of_axis(axis, true_edges):
            ax.axvline(
                true_edges[graph],
                color="black",
                ls=":",
                lw=1.2,
                label=f"true {_GRAPH_NAMES[graph]} = {true_edges[graph]}",
            )
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    bottom = axes[-1]
    if axis is None:
        bottom.set_xticks(range(len(series)), list(series), rotation=25, ha="right", fontsize=8)
    else:
        bottom.set_xlabel(
            axis + (" (constraint bound k)" if "edges" in axis else " (penalty coefficient c)")
        )
        positive = [x for x in xs_all if x > 0]
        if "coef" in axis and positive and max(positive) / min(positive) >= 10:
            bottom.set_xscale("log")
            bottom.minorticks_off()
        ticks = sorted(set(xs_all))
        if 0 < len(ticks) <= 12:  # label the swept values themselves
            bottom.set_xticks(ticks, [format_value(t) for t in ticks])
    if axis is not None:
        handles, labels = axes[0].get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        axes[0].legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    axes[0].set_title(f"{title}: test scores, mean ± std over seeds")
    return fig
