"""The frame-wise Gaussian autoencoder shared by the mechanism-sparsity VAE and the baselines.

Encoder q(z_t | x_t) = N(mean(x_t), diag(softplus(raw(x_t)) + 1e-4)) and decoder
p(x_t | z_t) = N(x̂(z_t), std² I) with one learned log-variance ℓ, std = exp(ℓ/2) + 1e-4
(REFERENCE_SPEC §2.2). Every method with an encoder (the VAEs, ``supervised`` and ``random``)
uses this one, so that comparisons differ only in the objective and the prior.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from mechsparse._validation import check_positive_int, check_tensor
from mechsparse.model.networks import MLP

__all__ = [
    "DECODER_STD_OFFSET",
    "POSTERIOR_MIN_VARIANCE",
    "GaussianAutoencoder",
    "GaussianEncoder",
    "check_beta",
    "check_features",
]

POSTERIOR_MIN_VARIANCE = 1e-4
"""Added to softplus(raw) for the posterior variance q(z_i | x)."""

DECODER_STD_OFFSET = 1e-4
"""Added to exp(ℓ/2) for the decoder standard deviation."""

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class GaussianEncoder(nn.Module):
    """The encoder q(z_t | x_t) alone: :class:`MLP` d_x → 2·d_z with interleaved outputs
    (mean_1, raw_1, mean_2, …) and q(z_i | x) = N(mean_i, softplus(raw_i) + 1e-4).

    Args:
        d_x: observed dimension.
        d_z: number of latents.
        encoder_width, encoder_depth: hidden units and hidden layers (reference 512, 6).
    """

    def __init__(
        self, d_x: int, d_z: int, *, encoder_width: int = 512, encoder_depth: int = 6
    ) -> None:
        super().__init__()
        self.d_x = check_positive_int(d_x, "d_x")
        self.d_z = check_positive_int(d_z, "d_z")
        self.encoder = MLP(self.d_x, 2 * self.d_z, width=encoder_width, depth=encoder_depth)

    def n_parameters(self) -> int:
        """Number of trainable scalars (parameters with ``requires_grad``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior q(z_t | x_t) for every frame.

        Args:
            x: observations, shape ``(..., d_x)``.

        Returns:
            ``(mean, variance)``, each of shape ``(..., d_z)``.
        """
        check_features(x, "x", self.d_x, "d_x")
        out = self.encoder(x).unflatten(-1, (self.d_z, 2))  # (..., d_z, 2): interleaved outputs
        mean, raw = out[..., 0], out[..., 1]
        return mean, F.softplus(raw) + POSTERIOR_MIN_VARIANCE


class GaussianAutoencoder(GaussianEncoder):
    """:class:`GaussianEncoder` plus the decoder p(x_t | z_t) = N(x̂(z_t), std² I).

    * Decoder: :class:`MLP` d_z → d_x and a learned scalar ℓ (init −10: std starts at 0.006838).

    Args:
        d_x: observed dimension.
        d_z: number of latents.
        encoder_width, encoder_depth: hidden units and hidden layers of the encoder (ref. 512, 6).
        decoder_width, decoder_depth: same for the decoder (ref. 512, 6).
        decoder_logvar_init: initial ℓ (reference −10).
    """

    def __init__(
        self,
        d_x: int,
        d_z: int,
        *,
        encoder_width: int = 512,
        encoder_depth: int = 6,
        decoder_width: int = 512,
        decoder_depth: int = 6,
        decoder_logvar_init: float = -10.0,
    ) -> None:
        super().__init__(d_x, d_z, encoder_width=encoder_width, encoder_depth=encoder_depth)
        if (
            isinstance(decoder_logvar_init, bool)
            or not isinstance(decoder_logvar_init, int | float)
            or not math.isfinite(decoder_logvar_init)
        ):
            raise ValueError(
                f"decoder_logvar_init must be a finite number; got {decoder_logvar_init!r}."
            )
        self.decoder = MLP(self.d_z, self.d_x, width=decoder_width, depth=decoder_depth)
        self.decoder_logvar = nn.Parameter(torch.tensor(float(decoder_logvar_init)))

    def decode(self, z: Tensor) -> Tensor:
        """Mean x̂ of p(x_t | z_t), shape ``(..., d_x)``, for latents z of shape ``(..., d_z)``."""
        check_features(z, "z", self.d_z, "d_z")
        return self.decoder(z)

    def decoder_std(self) -> Tensor:
        """Decoder standard deviation exp(ℓ/2) + 1e-4, a scalar tensor."""
        return torch.exp(0.5 * self.decoder_logvar) + DECODER_STD_OFFSET

    def sample_posterior(
        self, mean: Tensor, variance: Tensor, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """One reparameterised sample z̃ = mean + √variance · ε, ε ~ N(0, I), same shape as mean."""
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + variance.sqrt() * noise

    def reconstruction(self, x: Tensor, z: Tensor) -> Tensor:
        """rec = −(1/(T·d_x)) Σ_t Σ_k log N(x_{t,k}; x̂_{t,k}(z_t), std²), shape ``(B,)``.

        Args:
            x: observations ``(B, T, d_x)``.
            z: latent samples ``(B, T, d_z)``.
        """
        x_hat = self.decode(z)
        std = self.decoder_std()
        neg_log_lik = 0.5 * ((x - x_hat) / std) ** 2 + torch.log(std) + _HALF_LOG_2PI
        return neg_log_lik.mean(dim=(1, 2))


def check_features(tensor: object, name: str, size: int, size_name: str) -> None:
    """Check that ``tensor`` is a floating tensor of shape ``(..., size)``."""
    if isinstance(tensor, Tensor) and tensor.ndim >= 1:
        check_tensor(
            tensor, name, shape=(*tensor.shape[:-1], size), dims=f"(..., {size_name}={size})"
        )
    else:
        check_tensor(tensor, name, shape=(size,), dims=f"(..., {size_name}={size})")


def check_beta(beta: object) -> float:
    """β, the weight of a KL term: a finite number ≥ 0."""
    if isinstance(beta, bool) or not isinstance(beta, int | float) or not math.isfinite(beta):
        raise ValueError(f"beta must be a finite number; got {beta!r}.")
    if beta < 0:
        raise ValueError(f"beta must be >= 0; got {beta}.")
    return float(beta)
