"""mechsparse: causal representation learning by mechanism sparsity regularisation.

Learns latent factors z from observations x together with the sparse causal graphs that
link them to their own past (G^z, ``graph_z``) and to observed auxiliary variables such as
actions or intervention regimes (G^a, ``graph_a``), after Lachapelle et al. (CLeaR 2022;
arXiv 2401.04890).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mechsparse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
