"""The ceiling and the floor of every comparison (REFERENCE_SPEC §2.6).

* :class:`Supervised`: the encoder regresses the true latents (mean squared error of the
  posterior mean against z, every frame). It uses the ground truth, so it exists only for
  benchmarks, as an upper bound of what the architecture can represent.
* :class:`RandomEncoder`: the encoder at its random initialisation, never trained; the lower
  bound that every method must beat.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from mechsparse.baselines.base import DataSpec, Method
from mechsparse.model.autoencoder import GaussianEncoder

__all__ = ["RandomEncoder", "Supervised"]


class Supervised(Method, GaussianEncoder):
    """Encoder trained on ‖E[z_t | x_t] − z_t‖² / d_z (frames averaged); benchmarks only."""

    name = "supervised"
    applies_to = "benchmarks with known latents"
    needs_latents = True

    def __init__(self, spec: DataSpec, *, encoder_width: int, encoder_depth: int) -> None:
        super().__init__(
            spec.d_x, spec.d_z, encoder_width=encoder_width, encoder_depth=encoder_depth
        )

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        return None if spec.has_latents else "the true latents are unknown (not a benchmark)"

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> Supervised:
        return cls(spec, encoder_width=model.encoder_width, encoder_depth=model.encoder_depth)

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        if z is None:
            raise ValueError("supervised needs the true latents z of shape (batch, T, d_z).")
        mean, _ = self.encode(x)
        mse = ((mean - z.to(mean.dtype)) ** 2).mean(dim=(1, 2))
        return {"loss": mse}


class RandomEncoder(Method, GaussianEncoder):
    """The encoder at initialisation (seeded by the run's seed); nothing is trained."""

    name = "random"
    trains = False

    def __init__(self, spec: DataSpec, *, encoder_width: int, encoder_depth: int) -> None:
        super().__init__(
            spec.d_x, spec.d_z, encoder_width=encoder_width, encoder_depth=encoder_depth
        )

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> RandomEncoder:
        return cls(spec, encoder_width=model.encoder_width, encoder_depth=model.encoder_depth)

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        return {}
