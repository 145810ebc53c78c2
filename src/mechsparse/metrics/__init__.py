"""Scores comparing learned latents and graphs with the ground truth (spec §4).

Pure numpy/scipy/scikit-learn. Every score takes the truth first (z, then ẑ), accepts
frames (n, d) or sequences (n, T, d) (time is flattened into frames), and validates its
input at the boundary.

* :func:`mcc` — mean correlation coefficient (Pearson or Spearman) with Hungarian matching;
* :func:`linear_r`, :func:`consistent_r`, :func:`consistent_r2_nonlinear` — regression
  scores (linear identifiability, partial disentanglement, and its nonlinear variant);
* :func:`entanglement_measured` — the measured |L̂ Pᵀ| to compare with the entanglement
  pattern C;
* :func:`graph_errors` — FN / FP / SHD of a learned graph after matching;
* :func:`udr` — pairwise MCC between runs, for unsupervised model selection.
"""

from mechsparse.metrics._utils import flatten_frames
from mechsparse.metrics.graph import GraphErrors, graph_errors, permute_graph
from mechsparse.metrics.mcc import MCCResult, mcc
from mechsparse.metrics.regression import (
    RegressionResult,
    allowed_inputs,
    consistent_r,
    consistent_r2_nonlinear,
    entanglement_measured,
    linear_r,
)
from mechsparse.metrics.udr import UDRResult, udr

__all__ = [
    "GraphErrors",
    "MCCResult",
    "RegressionResult",
    "UDRResult",
    "allowed_inputs",
    "consistent_r",
    "consistent_r2_nonlinear",
    "entanglement_measured",
    "flatten_frames",
    "graph_errors",
    "linear_r",
    "mcc",
    "permute_graph",
    "udr",
]
