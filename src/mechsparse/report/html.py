"""A self-contained HTML report of one run directory.

``write_report(run_dir)`` reads what a run leaves behind — ``config.yaml``, ``metrics.jsonl``
and ``final.json`` — draws the figures of :mod:`mechsparse.report.figures`, keeps them as PNG
files under ``run_dir/figures/`` and embeds them as base64 data URIs in ``report.html``, so the
single HTML file can be mailed around. Panels that need ground truth (true latents or graphs)
are omitted for user data that has none, and the report says so.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure

from mechsparse import __version__
from mechsparse._atomic import atomic_write_bytes
from mechsparse.report.figures import (
    plot_correlation,
    plot_entanglement,
    plot_graph_comparison,
    plot_training_curves,
    png_bytes,
)

__all__ = ["write_report"]

_SCORE_NAMES = {
    "mcc": "MCC (Pearson)",
    "mcc_spearman": "MCC (Spearman)",
    "linear_r": "linear R",
    "consistent_r": "consistent R",
    "consistent_r2_nonlinear": "consistent R (nonlinear, held-out)",
}
_SCORE_HELP = {
    "mcc": "mean |corr| of matched latents; 1 = disentangled up to affine maps",
    "mcc_spearman": "rank correlation; 1 = disentangled up to monotone maps",
    "linear_r": "√R² of z on all of ẑ; 1 = identified up to a linear map",
    "consistent_r": "√R² of z on the ẑ allowed by C; 1 = partial disentanglement as predicted",
    "consistent_r2_nonlinear": "as consistent R with a nonlinear held-out regressor",
}
_GROUND_TRUTH_SCORES = tuple(_SCORE_NAMES)

_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #2f6f9f; --bg: #f7f9fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 24px; padding-bottom: 12px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 12px; color: var(--accent); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; background: white; min-width: 60%; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 14px; text-align: left; }
th { background: #eef2f6; font-weight: 600; }
td.num { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; text-align: right; }
td.help { color: var(--muted); font-size: 13px; }
figure { margin: 16px 0; background: white; border: 1px solid var(--line); padding: 12px; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 8px; }
.note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 8px 12px; }
details { background: white; border: 1px solid var(--line); padding: 8px 12px; }
summary { cursor: pointer; font-weight: 600; }
pre { overflow-x: auto; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; }
"""

_NO_TRUTH_NOTE = (
    "Scores that compare with the ground truth (MCC, linear R, consistent R, graph errors, "
    "the correlation and entanglement figures) need the true latents and graphs; this run's "
    "data have none, so they are omitted."
)


def _read_final(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"final.json not found: {path}. write_report needs the final scores that a "
            f"finished run writes to its run directory; did the run complete?"
        )
    try:
        final = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(final, dict):
        raise ValueError(f"{path} must hold a JSON object; got {type(final).__name__}.")
    return final


def _read_config(path: Path) -> tuple[str | None, dict[str, Any]]:
    if not path.is_file():
        return None, {}
    text = path.read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from err
    return text, config if isinstance(config, dict) else {}


def _read_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records, bad = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            bad.append(number)
    if bad:
        warnings.warn(
            f"{path}: skipped {len(bad)} line(s) that are not JSON objects (lines {bad[:10]}); "
            f"a run still writing its last line can leave one truncated line.",
            UserWarning,
            stacklevel=3,
        )
    return records


def _nested(config: Mapping[str, Any], *keys: str) -> Any:
    node: Any = config
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def _fmt_duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or math.isnan(seconds):
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{seconds:.1f} s ({hours}:{minutes:02d}:{secs:02d})"


def _figure_html(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _score_rows(final: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    scores = final.get("scores") or {}
    if not isinstance(scores, Mapping):
        raise ValueError(f"final.json 'scores' must be an object; got {type(scores).__name__}.")
    for key, value in scores.items():
        rows.append((_SCORE_NAMES.get(key, key), _fmt(value), _SCORE_HELP.get(key, "")))
    for graph in ("graph_z", "graph_a"):
        errors = (final.get(graph) or {}).get("errors")
        if isinstance(errors, Mapping):
            label = "G^z" if graph == "graph_z" else "G^a"
            for key in ("shd", "fn", "fp"):
                if key in errors:
                    help_text = {
                        "shd": "structural Hamming distance = FN + FP",
                        "fn": "true edge, not learned",
                        "fp": "learned edge, not true",
                    }[key]
                    rows.append((f"{label} {key.upper()}", _fmt(errors[key]), help_text))
    return rows


def _has_ground_truth(final: Mapping[str, Any]) -> bool:
    scores = final.get("scores") or {}
    graphs_true = any((final.get(g) or {}).get("true") is not None for g in ("graph_z", "graph_a"))
    return (
        any(scores.get(k) is not None for k in _GROUND_TRUTH_SCORES)
        or final.get("permutation") is not None
        or graphs_true
    )


def _figures(
    final: Mapping[str, Any], records: list[dict[str, Any]]
) -> list[tuple[str, str, str, Callable[[], Figure]]]:
    """(file stem, section, caption, figure factory) for each figure the data allow."""
    out: list[tuple[str, str, str, Callable[[], Figure]]] = []
    permutation = final.get("permutation")
    for graph, kind in (("graph_z", "z"), ("graph_a", "a")):
        info = final.get(graph)
        if not isinstance(info, Mapping) or info.get("probabilities") is None:
            continue
        name = "G^z (latent → latent)" if kind == "z" else "G^a (action → latent)"
        caption = (
            f"{name}: rows are children, columns parents. Learned edge probabilities σ(α)"
            + (" in the true latents' order (MCC matching)" if permutation is not None else "")
            + (
                "; solid red frames mark false positives and dashed red frames false "
                "negatives after thresholding at 0.5."
                if info.get("true") is not None
                else "."
            )
        )
        out.append(
            (
                graph,
                "Learned graphs",
                caption,
                lambda info=info, kind=kind: plot_graph_comparison(
                    info.get("true"), info["probabilities"], permutation, kind
                ),
            )
        )
    predicted, measured = final.get("entanglement_predicted"), final.get("entanglement_measured")
    if predicted is not None and measured is not None:
        out.append(
            (
                "entanglement",
                "Entanglement",
                "Left: the entanglement pattern C the theory predicts from the true graphs "
                "(which true latents may stay mixed). Right: the measured |L̂P̂ᵀ| (linear map "
                "from learned to true latents, normalised); a match means the model is "
                "disentangled as far as the graphs allow.",
                lambda: plot_entanglement(predicted, measured),
            )
        )
    corr = final.get("corr")
    if corr is not None and permutation is not None:
        out.append(
            (
                "correlation",
                "Correlation",
                "|Pearson correlation| between true latents (rows) and learned latents "
                "(columns, in the order of the MCC matching).",
                lambda: plot_correlation(corr, permutation),
            )
        )
    if records:
        out.append(
            (
                "training_curves",
                "Training curves",
                "Loss, MCC, expected number of edges with the constraint bound (dashed) and "
                "the Lagrange multiplier, against the training step (panels only for what "
                "was logged).",
                lambda: plot_training_curves(records),
            )
        )
    return out


def write_report(run_dir: Path | str) -> Path:
    """Write ``run_dir/report.html``, a single self-contained HTML report of a run.

    Reads ``final.json`` (required), ``config.yaml`` and ``metrics.jsonl`` (optional), saves
    the figures as ``run_dir/figures/<name>.png`` and embeds them in the HTML as base64
    data URIs (no external resources). Sections: header (benchmark/data, regulariser, seed
    from ``config["data"]["benchmark"]``, ``config["regularizer"]["kind"]``,
    ``config["seed"]``; missing keys show "—"), score table, learned graph(s), entanglement,
    correlation matrix, training curves and the config as a collapsible YAML block. Panels
    that need ground truth are omitted when ``final.json`` has none. Files are written
    atomically (temporary file + ``os.replace``).

    Args:
        run_dir: the run directory.

    Returns:
        The path of ``report.html``.

    Raises:
        FileNotFoundError: ``run_dir`` or ``run_dir/final.json`` does not exist.
        ValueError: ``final.json`` or ``config.yaml`` cannot be parsed, or ``final.json``
            holds arrays of inconsistent shapes.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}.")
    final = _read_final(run_dir / "final.json")
    config_text, config = _read_config(run_dir / "config.yaml")
    records = _read_records(run_dir / "metrics.jsonl")

    figure_dir = run_dir / "figures"
    figure_dir.mkdir(exist_ok=True)
    sections: dict[str, list[str]] = {}
    for stem, section, caption, factory in _figures(final, records):
        try:
            png = png_bytes(factory(), dpi=100)
        except ValueError as err:
            raise ValueError(f"final.json / metrics.jsonl in {run_dir}: {stem}: {err}") from err
        atomic_write_bytes(figure_dir / f"{stem}.png", png)
        sections.setdefault(section, []).append(_figure_html(png, stem, caption))

    benchmark = _nested(config, "data", "benchmark") or final.get("benchmark")
    data = benchmark or _nested(config, "data", "path") or "—"
    meta = [
        ("data", data),
        ("regulariser", _nested(config, "regularizer", "kind")),
        ("seed", _nested(config, "seed")),
        ("step", final.get("step")),
        ("wall time", _fmt_duration(final.get("wall_time_s"))),
        ("run directory", str(run_dir.resolve())),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mechsparse report — {html.escape(str(data))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<header><h1>mechsparse run report: {html.escape(str(data))}</h1><dl class='meta'>",
        *(f"<dt>{k}</dt><dd>{html.escape(_fmt(v))}</dd>" for k, v in meta),
        "</dl></header>",
        "<section><h2>Scores</h2>",
    ]
    rows = _score_rows(final)
    if rows:
        parts.append("<table><tr><th>score</th><th>value</th><th>meaning</th></tr>")
        parts += [
            f"<tr><td>{html.escape(n)}</td><td class='num'>{html.escape(v)}</td>"
            f"<td class='help'>{html.escape(h)}</td></tr>"
            for n, v, h in rows
        ]
        parts.append("</table>")
    else:
        parts.append("<p>No scores were recorded in final.json.</p>")
    if not _has_ground_truth(final):
        parts.append(f"<p class='note'>{html.escape(_NO_TRUTH_NOTE)}</p>")
    parts.append("</section>")
    for section, figures in sections.items():
        parts.append(f"<section><h2>{html.escape(section)}</h2>{''.join(figures)}</section>")
    parts.append("<section><h2>Configuration</h2>")
    if config_text is None:
        parts.append("<p>No config.yaml in the run directory.</p>")
    else:
        parts.append(
            "<details><summary>config.yaml</summary>"
            f"<pre><code>{html.escape(config_text)}</code></pre></details>"
        )
    parts.append("</section>")
    stamp = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    parts.append(f"<footer>Generated by mechsparse {__version__} on {stamp}.</footer>")
    parts.append("</main></body></html>")

    out = run_dir / "report.html"
    atomic_write_bytes(out, "\n".join(parts).encode("utf-8"))
    return out
