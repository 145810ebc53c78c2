"""Plain-text renderings of graphs and score tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["format_graph", "format_graphs_side_by_side", "format_scores", "summarize_final"]


def format_graph(
    graph: np.ndarray,
    *,
    row_prefix: str = "z",
    col_prefix: str = "z",
    probabilities: bool = False,
) -> list[str]:
    """Lines drawing a (children × parents) matrix: ``■`` for an edge, ``·`` for none.

    With ``probabilities`` the entries are σ(α) in [0, 1] and are shown as ``■`` (> 0.5),
    ``▪`` (0.2–0.5, undecided) or ``·``.
    """
    g = np.asarray(graph, dtype=float)
    width = max(len(f"{col_prefix}{g.shape[1] - 1}"), 2)
    label = max(len(f"{row_prefix}{g.shape[0] - 1}"), 2)
    head = " " * (label + 1) + "".join(
        f"{f'{col_prefix}{j}':>{width + 1}}" for j in range(g.shape[1])
    )
    lines = [head]
    for i, row in enumerate(g):
        cells = []
        for v in row:
            if probabilities:
                mark = "■" if v > 0.5 else ("▪" if v > 0.2 else "·")
            else:
                mark = "■" if v > 0 else "·"
            cells.append(f"{mark:>{width + 1}}")
        lines.append(f"{f'{row_prefix}{i}':<{label}} " + "".join(cells))
    return lines


def format_graphs_side_by_side(blocks: Sequence[tuple[str, list[str]]], gap: int = 4) -> str:
    """Join several rendered blocks (title, lines) horizontally."""
    widths = [max(len(t), *(len(line) for line in lines)) for t, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["".join(f"{t:<{w + gap}}" for (t, _), w in zip(blocks, widths, strict=True)).rstrip()]
    for r in range(height):
        row = ""
        for (_, lines), w in zip(blocks, widths, strict=True):
            row += f"{lines[r] if r < len(lines) else '':<{w + gap}}"
        out.append(row.rstrip())
    return "\n".join(out)


def format_scores(scores: dict[str, float], keys: Sequence[str] | None = None) -> str:
    """``name  value`` lines for the given keys (all when None), skipping absent ones."""
    keys = list(scores) if keys is None else [k for k in keys if k in scores]
    if not keys:
        return ""
    width = max(len(k) for k in keys)
    lines = []
    for k in keys:
        v = scores[k]
        if k.startswith("shd") and isinstance(v, int | float):
            lines.append(f"  {k:<{width}}  {int(v)}")  # a count of wrong edges
        elif isinstance(v, float):
            lines.append(f"  {k:<{width}}  {v:.4f}")
        else:
            lines.append(f"  {k:<{width}}  {v}")
    return "\n".join(lines)


def _permuted(matrix: np.ndarray, permutation: Sequence[int] | None, kind: str) -> np.ndarray:
    """Express a learned graph in the true latents' order (rows, and columns for G^z)."""
    if permutation is None:
        return matrix
    p = np.asarray(permutation)
    return matrix[np.ix_(p, p)] if kind == "z" else matrix[p]


SCORE_ORDER = (
    "mcc",
    "mcc_spearman",
    "linear_r",
    "consistent_r",
    "consistent_r2_nonlinear",
    "shd_z",
    "shd_a",
    "test/nll",
    "test/reconstruction",
    "test/kl",
)


def summarize_final(final: dict) -> str:
    """A terminal summary of final.json: the scores, then for each learned graph the true
    graph, the learned one (in the true latents' order via the MCC matching) and the theory's
    entanglement graph C."""
    lines = [f"step {final.get('step')}, wall time {final.get('wall_time_s', 0):.0f} s"]
    scores = final.get("scores") or {}
    if scores:
        lines += ["scores (test split):", format_scores(scores, SCORE_ORDER)]
    perm = final.get("permutation")
    for name, kind, parent in (("graph_z", "z", "z"), ("graph_a", "a", "a")):
        graph = final.get(name)
        if not graph:
            continue
        probs = _permuted(np.asarray(graph["probabilities"]), perm, kind)
        blocks = []
        if graph.get("true") is not None:
            blocks.append(
                (f"true G^{kind}", format_graph(np.asarray(graph["true"]), col_prefix=parent))
            )
        title = f"learned G^{kind}" + (" (matched order)" if perm is not None else "")
        blocks.append((title, format_graph(probs, col_prefix=parent, probabilities=True)))
        errors = graph.get("errors")
        lines.append("")
        lines.append(format_graphs_side_by_side(blocks))
        if errors:
            lines.append(
                f"  edges wrong: {errors['fn']} missing, {errors['fp']} extra (SHD {errors['shd']})"
            )
    c = final.get("entanglement_predicted")
    if c is not None:
        c = np.asarray(c)
        verdict = (
            "C = I: the theory guarantees full disentanglement (each learned latent recovers one true latent)"
            if np.array_equal(c, np.eye(len(c)))
            else "C ≠ I: partial disentanglement; latents in a row of C may stay mixed"
        )
        blocks = [("entanglement graph C (theory)", format_graph(c))]
        if final.get("entanglement_measured") is not None:
            blocks.append(
                (
                    "measured |L P^T| (> 0.2)",
                    format_graph(np.asarray(final["entanglement_measured"]) > 0.2),
                )
            )
        lines += ["", format_graphs_side_by_side(blocks), f"  {verdict}"]
    return "\n".join(lines)
