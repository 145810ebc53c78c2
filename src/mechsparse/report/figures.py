"""Figures of a run: graphs, entanglement, correlations and training curves (spec §3.7).

Every function takes plain numpy arrays or lists and returns a ``matplotlib.figure.Figure``
drawn with the Agg canvas. No pyplot state is touched (no global backend switch, no figure
registry), so the functions are safe in scripts, tests and notebooks alike; save a figure
with ``fig.savefig(path)``. Matrices follow the paper's convention: rows = children (true
latents z_i), columns = parents.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from mechsparse._validation import check_array, check_binary_graph, check_choice
from mechsparse.metrics import permute_graph
from mechsparse.metrics._utils import check_permutation

__all__ = [
    "plot_correlation",
    "plot_entanglement",
    "plot_graph_comparison",
    "plot_method_scores",
    "plot_training_curves",
    "png_bytes",
]

_KINDS = ("z", "a")
_PANEL_WIDTH = 4.2  # inches per matrix panel
_ERROR_COLOR = "#d62728"


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure rendered as a PNG file's bytes (for an atomic write or an inline image)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # explicit Agg canvas: PNG output without pyplot or a GUI backend
    return fig


def _labels(prefix: str, n: int) -> list[str]:
    return [f"${prefix}_{{{i}}}$" for i in range(n)]


def _draw_matrix(
    ax: Axes,
    matrix: np.ndarray,
    row_labels: list[str],
    col_labels: list[str],
    *,
    cmap: str = "Blues",
    vmax: float = 1.0,
    annotate: bool = False,
) -> AxesImage:
    """Draw a (rows, cols) matrix with labelled ticks; returns the image for a colorbar."""
    image = ax.imshow(matrix, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    n_rows, n_cols = matrix.shape
    step_r, step_c = max(1, math.ceil(n_rows / 20)), max(1, math.ceil(n_cols / 20))
    ax.set_yticks(range(0, n_rows, step_r), row_labels[::step_r])
    ax.set_xticks(range(0, n_cols, step_c), col_labels[::step_c])
    ax.tick_params(labelsize=8 if max(n_rows, n_cols) <= 12 else 6)
    if annotate and max(n_rows, n_cols) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            colour = "white" if value > 0.6 * vmax else "black"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color=colour)
    return image


def _check_unit_interval(values: np.ndarray, name: str) -> None:
    if values.size and (values.min() < 0.0 or values.max() > 1.0):
        raise ValueError(
            f"{name} must lie in [0, 1]; got values in [{values.min():.3g}, {values.max():.3g}]."
        )


def plot_graph_comparison(
    true_graph: object | None,
    learned_probabilities: object,
    permutation: object | None,
    kind: str = "z",
    title: str | None = None,
) -> Figure:
    """True graph next to the learned edge probabilities σ(α), in the true latents' order.

    The learned probabilities are permuted by the MCC matching (:func:`permute_graph`:
    rows and columns for G^z, rows only for G^a). After thresholding at 0.5 (the reference's
    learned graph 1[σ(α) > 0.5]), false positives (true 0, learned 1) get a solid red frame
    and false negatives (true 1, learned 0) a dashed red frame.

    Args:
        true_graph: true binary graph, (d, d) for ``kind="z"`` or (d, d_a) for ``kind="a"``,
            rows = children, columns = parents; None when there is no ground truth (only the
            learned panel is drawn).
        learned_probabilities: σ(α), same shape, values in [0, 1], in the learned latents'
            order.
        permutation: (d,) matching from :func:`mechsparse.metrics.mcc`
            (``permutation[i]`` = learned latent matched to true latent i), or None to show
            the learned graph unpermuted.
        kind: ``"z"`` (G^z, parents z_j) or ``"a"`` (G^a, parents a_j).
        title: figure title (default "G^z" / "G^a").

    Returns:
        A Figure with 3 axes (true, learned, colorbar) or 2 without a true graph.

    Raises:
        ValueError: unknown kind, probabilities outside [0, 1], non-square G^z, a true graph
            of another shape, or an invalid permutation.
    """
    check_choice(kind, "kind", _KINDS)
    probs = check_array(learned_probabilities, "learned_probabilities", ndim=2)
    _check_unit_interval(probs, "learned_probabilities")
    if kind == "z" and probs.shape[0] != probs.shape[1]:
        raise ValueError(
            f"learned_probabilities for kind 'z' (G^z) must be square (d, d); got shape "
            f"{probs.shape}."
        )
    truth = None
    if true_graph is not None:
        truth = check_binary_graph(true_graph, "true_graph")
        if truth.shape != probs.shape:
            raise ValueError(
                f"true_graph and learned_probabilities must have the same shape (rows = "
                f"children, columns = parents); got {truth.shape} and {probs.shape}."
            )
    if permutation is not None:
        check_permutation(permutation, probs.shape[0], probs.shape[0])
        probs = permute_graph(probs, permutation, kind)
    d, n_parents = probs.shape
    # without a matching, rows (and G^z columns) are the learned latents ẑ, not the true z
    latent = "z" if permutation is not None else r"\hat{z}"
    rows = _labels(latent, d)
    cols = _labels(latent if kind == "z" else "a", n_parents)
    n_panels = 1 if truth is None else 2
    aspect = n_parents / max(d, n_parents)  # panel width relative to a square panel
    width = n_panels * (_PANEL_WIDTH * max(0.45, aspect) + 0.7) + 1.0
    fig = _new_figure(width, _PANEL_WIDTH * max(0.6, d / max(d, n_parents)) + 0.6)
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    if truth is not None:
        true_cols = _labels("z" if kind == "z" else "a", n_parents)
        _draw_matrix(axes[0], truth, _labels("z", d), true_cols, cmap="Greys")
        axes[0].set_title(f"true graph ({truth.sum()} edges)", fontsize=10)
    ax = axes[-1]
    image = _draw_matrix(ax, probs, rows, cols, annotate=True)
    matched = "permuted by MCC matching" if permutation is not None else "learned order"
    subtitle = f"learned σ(α), {matched}"
    if truth is not None:
        pred = probs > 0.5
        false_pos = (truth == 0) & pred
        false_neg = (truth == 1) & ~pred
        for style, mask in (("-", false_pos), ("--", false_neg)):
            for i, j in np.argwhere(mask):
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        fill=False,
                        edgecolor=_ERROR_COLOR,
                        linewidth=1.8,
                        linestyle=style,
                    )
                )
        subtitle += f"\nFN={int(false_neg.sum())}, FP={int(false_pos.sum())} (threshold 0.5)"
        handles = [
            Line2D([], [], color=_ERROR_COLOR, linestyle="-", label="false positive"),
            Line2D([], [], color=_ERROR_COLOR, linestyle="--", label="false negative"),
        ]
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=2,
            fontsize=7,
            frameon=False,
        )
    ax.set_title(subtitle, fontsize=10)
    for a, name in zip(axes, ["z", latent][-n_panels:], strict=True):
        a.set_ylabel(f"child ${name}_i$")
        a.set_xlabel(f"parent ${name}_j$" if kind == "z" else "parent $a_j$")
    fig.colorbar(image, ax=ax, shrink=0.8, label="σ(α)")
    fig.suptitle(title or ("$G^z$" if kind == "z" else "$G^a$"))
    return fig


def plot_entanglement(predicted_C: object, measured: object) -> Figure:
    """The theory's entanglement pattern C next to the measured |L̂ P̂ᵀ| (normalised).

    Args:
        predicted_C: (d, d) binary entanglement pattern C from the true graphs
            (C[i, j] = 1: true latent i may be mixed with true latent j).
        measured: (d, d) non-negative measured entanglement, e.g. from
            :func:`mechsparse.metrics.entanglement_measured` (columns = learned latents in
            the matched true latents' order).

    Returns:
        A Figure with 3 axes (C, measured, colorbar).

    Raises:
        ValueError: non-square or mismatched shapes, C not binary, negative or NaN values.
    """
    pattern = check_binary_graph(predicted_C, "predicted_C")
    meas = check_array(measured, "measured", ndim=2)
    if pattern.shape[0] != pattern.shape[1]:
        raise ValueError(f"predicted_C must be square (d, d); got shape {pattern.shape}.")
    if meas.shape != pattern.shape:
        raise ValueError(
            f"measured must have predicted_C's shape {pattern.shape}; got shape {meas.shape}."
        )
    if meas.size and meas.min() < 0:
        raise ValueError(f"measured must be non-negative (|L̂ P̂ᵀ|); got minimum {meas.min():.3g}.")
    d = pattern.shape[0]
    fig = _new_figure(2 * _PANEL_WIDTH + 0.8, _PANEL_WIDTH)
    ax_c, ax_m = fig.subplots(1, 2)
    _draw_matrix(ax_c, pattern, _labels("z", d), _labels("z", d), cmap="Greys")
    ax_c.set_title(f"predicted C ({pattern.sum()} non-zeros)", fontsize=10)
    ax_c.set_xlabel("true latent $z_j$")
    vmax = max(1.0, float(meas.max()) if meas.size else 1.0)
    image = _draw_matrix(
        ax_m, meas, _labels("z", d), _labels(r"\hat{z}", d), vmax=vmax, annotate=True
    )
    ax_m.set_title("measured $|\\hat{L}\\hat{P}^T|$ / max", fontsize=10)
    ax_m.set_xlabel(r"learned latent $\hat{z}_{\pi(j)}$")
    for ax in (ax_c, ax_m):
        ax.set_ylabel("true latent $z_i$")
    fig.colorbar(image, ax=ax_m, shrink=0.8)
    fig.suptitle("Entanglement: theory vs. measured")
    return fig


def plot_correlation(corr: object, permutation: object) -> Figure:
    """|corr(z_i, ẑ_j)| with the learned columns reordered to their matched true latents.

    Column k shows the learned latent π(k), so a disentangled model has a bright diagonal;
    learned latents matched to no true latent (d_learned > d_true) follow at the right. The
    title gives MCC = mean_i |corr(z_i, ẑ_π(i))|.

    Args:
        corr: (d_true, d_learned) |corr| matrix from :func:`mechsparse.metrics.mcc`, in [0, 1].
        permutation: (d_true,) matching, ``permutation[i] = π(i)``.

    Returns:
        A Figure with 2 axes (matrix, colorbar).

    Raises:
        ValueError: values outside [0, 1], NaN, or a permutation that does not fit corr.
    """
    k = check_array(corr, "corr", ndim=2)
    _check_unit_interval(k, "corr")
    d_true, d_learned = k.shape
    perm = check_permutation(permutation, d_true, d_learned)
    order = np.concatenate([perm, np.setdiff1d(np.arange(d_learned), perm)])
    reordered = k[:, order]  # (d_true, d_learned), matched pairs on the diagonal
    score = float(k[np.arange(d_true), perm].mean())
    fig = _new_figure(_PANEL_WIDTH + 1.2, _PANEL_WIDTH)
    ax = fig.subplots()
    col_labels = [f"$\\hat{{z}}_{{{j}}}$" for j in order]
    image = _draw_matrix(ax, reordered, _labels("z", d_true), col_labels, annotate=True)
    ax.set_ylabel("true latent $z_i$")
    ax.set_xlabel("learned latent (matched order)")
    ax.set_title(f"|corr|, MCC = {score:.3f}", fontsize=11)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


# (panel title, y label, solid keys, dashed keys; dashed key k is drawn in solid key k's colour)
_PANELS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("loss", "loss", ("loss", "valid/nll"), ()),
    ("MCC", "MCC", ("mcc",), ()),
    (
        "expected number of edges",
        "Σ σ(α)",
        ("expected_edges_z", "expected_edges_a"),
        ("bound_z", "bound_a"),
    ),
    ("Lagrange multiplier", "λ", ("multiplier_z", "multiplier_a"), ()),
    ("penalty coefficient", "c(t)", ("penalty_coef",), ()),
)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _series(records: Sequence[Mapping], key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, values) of ``key`` over the records that hold a number for it, sorted by step."""
    points = []
    for index, record in enumerate(records):
        value = record.get(key)
        if not _is_number(value):
            continue
        step = record.get("step")
        if not _is_number(step):
            raise ValueError(
                f"records[{index}] has {key!r} but no numeric 'step' (the x axis); got "
                f"step={step!r}."
            )
        points.append((float(step), float(value)))
    if not points:
        return None
    steps, values = np.array(sorted(points)).T
    return steps, values


def plot_training_curves(records: Sequence[Mapping]) -> Figure:
    """Training curves against ``"step"``, one panel per group of keys present.

    Panels (each only when one of its keys appears in some record): loss (``"loss"``,
    ``"valid/nll"``); MCC (``"mcc"``); expected number of edges Σσ(α)
    (``"expected_edges_z"``, ``"expected_edges_a"``) with the constraint bounds
    (``"bound_z"``, ``"bound_a"``) as dashed lines; Lagrange multiplier
    (``"multiplier_z"``, ``"multiplier_a"``); penalty coefficient c(t) (``"penalty_coef"``,
    during its warm-up and after). Records are the dicts of ``metrics.jsonl``
    (training and evaluation records may be mixed); non-numeric values are skipped.

    Args:
        records: sequence of dicts, each with a numeric ``"step"`` when it holds a plotted key.

    Returns:
        A Figure with one axes per panel present (1 to 5), or a single axes saying that no
        curve was recorded.

    Raises:
        TypeError: ``records`` is not a sequence of mappings.
        ValueError: a record holds a plotted key but no numeric ``"step"``.
    """
    if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
        raise TypeError(
            f"records must be a list of dicts (one per metrics.jsonl line); got "
            f"{type(records).__name__}."
        )
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(f"records[{index}] must be a dict; got {type(record).__name__}.")
    panels = []
    for title, ylabel, solid, dashed in _PANELS:
        lines = [(key, _series(records, key)) for key in (*solid, *dashed)]
        if any(series is not None for _, series in lines):
            panels.append((title, ylabel, len(solid), lines))
    if not panels:
        fig = _new_figure(5.0, 2.0)
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no training curves recorded", ha="center", va="center")
        ax.set_axis_off()
        return fig
    n_cols = 1 if len(panels) == 1 else 2
    n_rows = math.ceil(len(panels) / n_cols)
    fig = _new_figure(5.0 * n_cols, 3.2 * n_rows)
    grid = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in grid[len(panels) :]:
        fig.delaxes(ax)
    for ax, (title, ylabel, n_solid, lines) in zip(grid, panels, strict=False):
        colours = [f"C{i}" for i in range(n_solid)]
        for index, (key, series) in enumerate(lines):
            if series is None:
                continue
            dashed = index >= n_solid
            colour = colours[index - n_solid] if dashed else colours[index]
            ax.plot(*series, linestyle="--" if dashed else "-", color=colour, label=key)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        if title == "MCC":
            ax.set_ylim(0.0, 1.02)
        if title == "loss":
            # the per-dimension negative ELBO starts in the hundreds (decoder std e^-5) and ends
            # below zero: a symmetric log scale shows both ends
            ax.set_yscale("symlog", linthresh=1.0)
    return fig


def plot_method_scores(runs: Sequence[Mapping], order: Sequence[str] | None = None) -> Figure:
    """MCC and consistent R per method, one point per run (seed), the mean as a bar.

    Args:
        runs: dicts with ``method``, ``mcc`` and ``consistent_r`` (None when unknown), as in
            ``comparison_runs.csv``.
        order: the methods from left to right (default: first appearance).
    """
    methods = list(order) if order is not None else list(dict.fromkeys(r["method"] for r in runs))
    panels = [("mcc", "MCC"), ("consistent_r", "consistent R")]
    fig = _new_figure(max(6.0, 0.9 * len(methods) + 2.0), 5.6)
    axes = fig.subplots(2, 1, sharex=True)
    positions = np.arange(len(methods))
    rng = np.random.default_rng(0)  # horizontal jitter only, so overlapping seeds stay visible
    for ax, (key, label) in zip(axes, panels, strict=True):
        for i, method in enumerate(methods):
            values = [
                float(r[key]) for r in runs if r["method"] == method and _is_number(r.get(key))
            ]
            if not values:
                continue
            ax.bar(i, np.mean(values), width=0.6, color="#c6dbef", edgecolor="#6b8fb3")
            jitter = rng.uniform(-0.12, 0.12, size=len(values))
            ax.scatter(i + jitter, values, s=18, color="#08519c", zorder=3)
        ax.set_ylabel(label)
        ax.set_ylim(0, 1.02)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(positions, methods, rotation=30, ha="right")
    axes[0].set_title("test-split scores per method (points: seeds, bars: mean)")
    return fig
