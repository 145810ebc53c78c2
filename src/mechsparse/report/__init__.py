"""Figures and a self-contained HTML report of a run (matplotlib, Agg canvas).

This is the only subpackage that imports matplotlib; ``import mechsparse`` does not load it.

* :func:`plot_graph_comparison`, :func:`plot_entanglement`, :func:`plot_correlation`,
  :func:`plot_training_curves` — one ``matplotlib.figure.Figure`` each, from plain arrays;
* :func:`write_report` — ``run_dir/report.html`` with the figures embedded as PNG data URIs.
"""

from mechsparse.report.figures import (
    plot_correlation,
    plot_entanglement,
    plot_graph_comparison,
    plot_training_curves,
)
from mechsparse.report.html import write_report

__all__ = [
    "plot_correlation",
    "plot_entanglement",
    "plot_graph_comparison",
    "plot_training_curves",
    "write_report",
]
