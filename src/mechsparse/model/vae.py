"""The VAE whose prior is a learned sparse causal model, and its ELBO with the reference scaling.

Encoder q(z_t | x_t) and decoder p(x_t | z_t) act frame by frame; the prior is a
:class:`~mechsparse.model.prior.LatentPrior`. The negative ELBO is reported per observed
scalar, i.e. divided by T·d_x, as in the reference (REFERENCE_SPEC §2.5):

    rec = −(1/(T·d_x)) Σ_t Σ_k log N(x_{t,k}; x̂_{t,k}, std²)
    kl  = (1/(T·d_x)) Σ_t Σ_i KL_{t,i}
    −ELBO = rec + β·kl
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from mechsparse._validation import check_positive_int, check_tensor
from mechsparse.model.autoencoder import (
    DECODER_STD_OFFSET,
    POSTERIOR_MIN_VARIANCE,
    GaussianAutoencoder,
    check_beta,
)
from mechsparse.model.prior import LatentPrior

__all__ = [
    "DECODER_STD_OFFSET",
    "POSTERIOR_MIN_VARIANCE",
    "ELBOTerms",
    "LatentCausalVAE",
    "gaussian_kl",
    "gaussian_log_density",
]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass
class ELBOTerms:
    """Per-example terms of the negative ELBO, with the reference scaling.

    Attributes:
        reconstruction: rec = −(1/(T·d_x)) Σ_t Σ_k log N(x_{t,k}; x̂_{t,k}, std²), shape ``(B,)``,
            nats per observed scalar (a loss: lower is better).
        kl: (1/T) Σ_t Σ_i KL_{t,i} / d_x, shape ``(B,)``, nats per observed scalar.
        kl_per_latent: (1/T) Σ_t KL_{t,i}, shape ``(B, d_z)``, nats per frame, not divided by
            d_x (useful to see which latents carry information).
        beta: weight β of the KL term in :attr:`negative_elbo`.
    """

    reconstruction: Tensor
    kl: Tensor
    kl_per_latent: Tensor
    beta: float = 1.0

    @property
    def negative_elbo(self) -> Tensor:
        """rec + β·kl, shape ``(B,)``; its batch mean is the training loss."""
        return self.reconstruction + self.beta * self.kl


def gaussian_kl(mean_q: Tensor, var_q: Tensor, mean_p: Tensor, var_p: Tensor) -> Tensor:
    """Element-wise KL(q || p) between diagonal Gaussians, in nats.

    KL = ½ log(σ_p²/σ_q²) + (σ_q² + (μ_q − μ_p)²) / (2σ_p²) − ½.

    Args:
        mean_q: μ_q, any shape broadcastable with the others, e.g. ``(B, T, d_z)``.
        var_q: σ_q² (> 0), same.
        mean_p: μ_p, same.
        var_p: σ_p² (> 0), same.

    Returns:
        The KL per element, of the broadcast shape.
    """
    return 0.5 * (
        torch.log(var_p) - torch.log(var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1
    )


def gaussian_log_density(value: Tensor, mean: Tensor, variance: Tensor) -> Tensor:
    """Element-wise log N(value; mean, variance) of diagonal Gaussians, in nats.

    Args:
        value: the points, any shape broadcastable with the others.
        mean: μ, same.
        variance: σ² (> 0), same.

    Returns:
        −½ (log 2π + log σ² + (value − μ)² / σ²) per element, of the broadcast shape.
    """
    return -0.5 * (_LOG_2PI + torch.log(variance) + (value - mean) ** 2 / variance)


class LatentCausalVAE(GaussianAutoencoder):
    """VAE with frame-wise encoder/decoder MLPs and a learned sparse causal latent prior.

    * Encoder: :class:`MLP` d_x → 2·d_z with interleaved outputs (mean_1, raw_1, mean_2, …);
      q(z_i | x) = N(mean_i, softplus(raw_i) + 1e-4).
    * Decoder: :class:`MLP` d_z → d_x; p(x | z) = N(x̂, std² I) with std = exp(ℓ/2) + 1e-4 and
      one learned scalar ℓ (init −10, so std starts at 0.006838).
    * Prior: the given :class:`LatentPrior` (G^z when ``n_lags == 1``, G^a when ``d_a > 0``).

    Args:
        d_x: observed dimension.
        d_z: number of latents; must equal ``prior.d_z``.
        d_a: auxiliary dimension; must equal ``prior.d_a``.
        n_lags: 0 or 1; must equal ``prior.n_lags``.
        encoder_width: hidden units of the encoder (reference 512).
        encoder_depth: hidden layers of the encoder (reference 6).
        decoder_width: hidden units of the decoder (reference 512).
        decoder_depth: hidden layers of the decoder (reference 6).
        prior: the latent prior, built by the caller.
        decoder_logvar_init: initial ℓ (reference −10).
        beta: weight β ≥ 0 of the KL term (reference 1).
    """

    def __init__(
        self,
        d_x: int,
        d_z: int,
        *,
        d_a: int = 0,
        n_lags: int = 1,
        encoder_width: int = 512,
        encoder_depth: int = 6,
        decoder_width: int = 512,
        decoder_depth: int = 6,
        prior: LatentPrior,
        decoder_logvar_init: float = -10.0,
        beta: float = 1.0,
    ) -> None:
        super().__init__(
            d_x,
            d_z,
            encoder_width=encoder_width,
            encoder_depth=encoder_depth,
            decoder_width=decoder_width,
            decoder_depth=decoder_depth,
            decoder_logvar_init=decoder_logvar_init,
        )
        self.d_a = check_positive_int(d_a, "d_a", minimum=0)
        self.n_lags = check_positive_int(n_lags, "n_lags", minimum=0)
        if not isinstance(prior, LatentPrior):
            raise TypeError(f"prior must be a LatentPrior; got {type(prior).__name__}.")
        for attr in ("d_z", "d_a", "n_lags"):
            if getattr(prior, attr) != getattr(self, attr):
                raise ValueError(
                    f"prior.{attr} must equal the model's {attr}={getattr(self, attr)}; "
                    f"got prior.{attr}={getattr(prior, attr)}."
                )
        self.beta = check_beta(beta)
        self.prior = prior

    def _check_batch(self, x: Tensor, a: Tensor | None) -> Tensor | None:
        """Validate ``x`` (B, T, d_x) and ``a`` (B, T, d_a); return ``a`` in x's dtype."""
        check_tensor(
            x,
            "x",
            shape=(None, None, self.d_x),
            dims="(batch, n_timesteps, d_x)",
        )
        batch, n_frames = x.shape[:2]
        if batch < 1 or n_frames < 1:
            raise ValueError(
                f"x needs at least one example and one frame; got shape {tuple(x.shape)}."
            )
        if self.d_a == 0:
            if a is not None:
                raise ValueError(
                    "a must be None: this model has d_a=0 (no actions or regimes); "
                    f"got a tensor of shape {tuple(a.shape)}."
                )
            return None
        if a is None:
            raise ValueError(
                f"a of shape (batch, n_timesteps, d_a={self.d_a}) is required: "
                "this model has d_a > 0."
            )
        check_tensor(
            a,
            "a",
            shape=(batch, n_frames, self.d_a),
            dims="(batch, n_timesteps, d_a)",
            floating=False,
        )
        return a.to(x.dtype)

    def elbo_terms(
        self, x: Tensor, a: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> ELBOTerms:
        """Per-example negative-ELBO terms for a minibatch of sequences.

        All B·T frames are encoded and one reparameterised sample z̃_t is drawn per frame. The
        masks M^z and M^a are sampled once per call (:meth:`LatentPrior.sample_masks`) and
        used for every frame. Per latent, analytic Gaussian KL:

        * ``n_lags = 1``: frame 0 against the initial prior p(z_0) (a_0 is ignored), frames
          t ≥ 1 against p(z_t | z̃_{t−1}, a_t), with the *sampled* z̃_{t−1} as parent input.
        * ``n_lags = 0``: every frame against p(z_t | a_t).

        kl averages over the T frames and divides by d_x, so for T = 2 it is the reference's
        ½(KL_transition + KL_initial) / d_x, and for T = 1 its KL / d_x; any T ≥ 1 works.
        With ``n_lags = 1`` and T = 1 only the initial prior is used (no graph is learned).

        Args:
            x: observations, shape ``(B, T, d_x)``.
            a: auxiliary variables (continuous actions or one-hot regimes), shape
                ``(B, T, d_a)``; required iff ``d_a > 0``. Integer tensors are cast to x's dtype.
            generator: optional torch generator (on the model's device) for the posterior and
                mask noise.

        Returns:
            The :class:`ELBOTerms` (each of shape ``(B,)``, ``kl_per_latent`` ``(B, d_z)``).
        """
        a = self._check_batch(x, a)
        n_frames = x.shape[1]
        mean_q, var_q = self.encode(x)  # (B, T, d_z) each
        z = self.sample_posterior(mean_q, var_q, generator=generator)  # (B, T, d_z)

        reconstruction = self.reconstruction(x, z)  # (B,)

        if self.n_lags == 1:
            init_mean, init_var = self.prior.initial()  # (d_z,) each
            kl_frames = gaussian_kl(mean_q[:, :1], var_q[:, :1], init_mean, init_var)
            if n_frames > 1:
                kl_trans = self._transition_kl(
                    mean_q[:, 1:],
                    var_q[:, 1:],
                    z_prev=z[:, :-1],
                    a=None if a is None else a[:, 1:],
                    generator=generator,
                )
                kl_frames = torch.cat([kl_frames, kl_trans], dim=1)  # (B, T, d_z)
        else:
            kl_frames = self._transition_kl(mean_q, var_q, z_prev=None, a=a, generator=generator)
        kl_per_latent = kl_frames.mean(dim=1)  # (B, d_z)
        kl = kl_per_latent.sum(dim=1) / self.d_x  # (B,)
        return ELBOTerms(
            reconstruction=reconstruction, kl=kl, kl_per_latent=kl_per_latent, beta=self.beta
        )

    def _transition_kl(
        self,
        mean_q: Tensor,
        var_q: Tensor,
        *,
        z_prev: Tensor | None,
        a: Tensor | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        """KL(q(z_t | x_t) || p(z_t | parents)) for n frames at once, shape ``(B, n, d_z)``.

        ``mean_q``, ``var_q`` and ``z_prev`` are ``(B, n, d_z)``, ``a`` is ``(B, n, d_a)``; the
        (B, n) axes are flattened into one batch of B·n transitions.
        """
        batch, n_frames = mean_q.shape[:2]
        flat = batch * n_frames
        mask_z, mask_a = self.prior.sample_masks(batch, generator=generator)
        mean_p, var_p = self.prior.transition(
            None if z_prev is None else z_prev.reshape(flat, self.d_z),
            None if a is None else a.reshape(flat, self.d_a),
            _repeat_over_frames(mask_z, n_frames),
            _repeat_over_frames(mask_a, n_frames),
        )  # (B·n, d_z) each
        mean_p = mean_p.reshape(batch, n_frames, self.d_z)
        var_p = var_p.reshape(batch, n_frames, self.d_z)
        return gaussian_kl(mean_q, var_q, mean_p, var_p)


def _repeat_over_frames(mask: Tensor | None, n_frames: int) -> Tensor | None:
    """Repeat each example's mask over its frames: (B, c, p) -> (B·n_frames, c, p).

    A mask shared by the batch (stride 0 along B) stays a stride-0 view; per-example masks are
    copied, which is cheap (c·p values per row).
    """
    if mask is None:
        return None
    batch = mask.shape[0]
    expanded = mask[:, None].expand(batch, n_frames, *mask.shape[1:])
    return expanded.reshape(batch * n_frames, *mask.shape[1:])
