"""Other methods of the field behind the same trainer, run directory, metrics and CLI.

Each method is a model with ``encode`` and a per-example ``loss_terms`` (see
:mod:`mechsparse.baselines.base`); :func:`build_method` makes one from a config. The library's
own model is ``mechanism_sparsity`` (:class:`~mechsparse.model.LatentCausalVAE`); the
unregularised baseline ``none`` is that model with ``regularizer.kind: none`` (the
:mod:`mechsparse.compare` command names it so).

============  ==========================================================  ===================
method        what it is                                                  applies to
============  ==========================================================  ===================
supervised    encoder regressing the true latents (ceiling)               benchmarks
random        untrained encoder (floor)                                   any data
beta_vae      N(0, I) prior, KL weighted by β (``baseline.beta``)          any data
beta_tcvae    total correlation weighted by β (``baseline.beta``)          any data
ivae          conditional prior p(z_t | u_t), u = a_t and/or x_{t−1}      actions/regimes/T≥2
slowvae       Laplace transition, γ and rate (``baseline.slowvae_*``)      T ≥ 2
pcl           permutation-contrastive learning on consecutive frames      T ≥ 2
tcl           time-contrastive regime classification                      discrete regimes
============  ==========================================================  ===================
"""

from __future__ import annotations

from typing import Any

from mechsparse.baselines.base import DataSpec, Method, MethodNotApplicable
from mechsparse.baselines.contrastive import PCL, TCL
from mechsparse.baselines.reference_points import RandomEncoder, Supervised
from mechsparse.baselines.vaes import IVAE, BetaTCVAE, BetaVAE, SlowVAE

__all__ = [
    "BASELINES",
    "IVAE",
    "PCL",
    "TCL",
    "BetaTCVAE",
    "BetaVAE",
    "DataSpec",
    "Method",
    "MethodNotApplicable",
    "RandomEncoder",
    "SlowVAE",
    "Supervised",
    "build_method",
    "method_class",
]

BASELINES: dict[str, type] = {
    cls.name: cls
    for cls in (Supervised, RandomEncoder, BetaVAE, BetaTCVAE, IVAE, SlowVAE, PCL, TCL)
}
"""Every baseline by its name."""


def method_class(name: str) -> type:
    """The class of the baseline ``name``; a clear error for an unknown name."""
    if name not in BASELINES:
        raise ValueError(f"unknown method {name!r}; baselines are {sorted(BASELINES)}.")
    return BASELINES[name]


def build_method(name: str, spec: DataSpec, model: Any, baseline: Any) -> Any:
    """Check that method ``name`` applies to ``spec`` and build it.

    Args:
        name: a key of :data:`BASELINES`.
        spec: the data it will fit.
        model: a ``ModelConfig`` (encoder/decoder and prior network sizes).
        baseline: a ``BaselineConfig`` (the methods' own hyperparameters).

    Raises:
        MethodNotApplicable: the method cannot handle these data (the message says why).
    """
    cls = method_class(name)
    cls.check_applicable(spec)
    return cls.from_config(spec, model, baseline)
