"""mechsparse: causal representation learning by mechanism sparsity regularisation.

Learns latent factors z from observations x together with the sparse causal graphs that
link them to their own past (G^z, ``graph_z``) and to observed auxiliary variables such as
actions or intervention regimes (G^a, ``graph_a``), after Lachapelle et al. (CLeaR 2022;
arXiv 2401.04890).

On your own data::

    from mechsparse import MechanismSparsityVAE, read_data
    data = read_data("actions.csv", action_cols="a*")
    z = MechanismSparsityVAE(n_latents=10).fit(data).transform(data)

``MechanismSparsityVAE`` and ``read_data`` are imported on first use, so ``import mechsparse``
stays light (no torch, no pandas).
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("mechsparse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["MechanismSparsityVAE", "__version__", "read_data"]

_LAZY = {
    "MechanismSparsityVAE": "mechsparse.estimator",
    "read_data": "mechsparse.data.files",
}


def __getattr__(name: str) -> Any:
    """Import the heavy public names (torch, pandas) only when they are first used."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mechsparse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
