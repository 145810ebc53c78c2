"""VAE baselines with the library's encoder and decoder and a different prior or objective.

Every loss uses the reference scaling of the mechanism-sparsity VAE (per observed scalar): the
reconstruction term rec = −(1/(T·d_x)) Σ_t Σ_k log N(x_{t,k}; x̂_{t,k}, std²) and KL terms
averaged over the frames they apply to and divided by d_x. Only the prior or the KL changes:

* :class:`BetaVAE` (Higgins et al. 2017): p(z) = N(0, I), loss rec + β·KL.
* :class:`BetaTCVAE` (Chen et al. 2018): KL split into index-code mutual information, total
  correlation and dimension-wise KL, estimated by minibatch-weighted sampling; the total
  correlation is weighted by β.
* :class:`IVAE` (Khemakhem et al. 2020): conditional factorised prior
  p(z_t | u_t) = Π_i N(μ_i(u_t), σ_i²(u_t)) with u_t the auxiliary variable (actions or one-hot
  regime) and, for sequences, the previous observation x_{t−1}.
* :class:`SlowVAE` (Klindt et al. 2021): z_0 ~ N(0, I) and a sparse Laplace transition
  p(z_t | z_{t−1}) = Π_i Laplace(z_t,i; z_{t−1,i}, 1/rate), its KL weighted by γ.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from mechsparse.baselines.base import DataSpec, Method
from mechsparse.model.autoencoder import GaussianAutoencoder, check_beta
from mechsparse.model.networks import MLP
from mechsparse.model.vae import gaussian_kl, gaussian_log_density

__all__ = ["IVAE", "BetaTCVAE", "BetaVAE", "SlowVAE"]

_LOG_2PI = math.log(2.0 * math.pi)


def _autoencoder_sizes(model: Any) -> dict[str, Any]:
    """Encoder/decoder keyword arguments from a ``ModelConfig``."""
    return {
        "encoder_width": model.encoder_width,
        "encoder_depth": model.encoder_depth,
        "decoder_width": model.decoder_width,
        "decoder_depth": model.decoder_depth,
        "decoder_logvar_init": model.decoder_logvar_init,
    }


class BetaVAE(Method, GaussianAutoencoder):
    """β-VAE: a factorised standard-normal prior, the KL weighted by β.

    Args:
        spec: the data.
        beta: weight β ≥ 0 of the KL term (1: the plain VAE).
        **sizes: encoder/decoder sizes of :class:`GaussianAutoencoder`.
    """

    name = "beta_vae"
    applies_to = "any data (it ignores time and auxiliary variables)"

    def __init__(self, spec: DataSpec, *, beta: float = 1.0, **sizes: Any) -> None:
        super().__init__(spec.d_x, spec.d_z, **sizes)
        self.beta = check_beta(beta)

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> BetaVAE:
        return cls(spec, beta=baseline.beta, **_autoencoder_sizes(model))

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        mean, var = self.encode(x)  # (B, T, d_z)
        sample = self.sample_posterior(mean, var, generator=generator)
        rec = self.reconstruction(x, sample)
        kl = gaussian_kl(mean, var, torch.zeros_like(mean), torch.ones_like(var))
        kl = kl.sum(-1).mean(1) / self.d_x
        return {"loss": rec + self.beta * kl, "reconstruction": rec, "kl": kl}


class BetaTCVAE(BetaVAE):
    """β-TCVAE: rec + (MI + β·TC + dim-KL)/d_x, estimated on the minibatch.

    For each frame position t, the B samples z̃_j ~ q(z | x_j) of the minibatch estimate the
    aggregate posterior by minibatch-weighted sampling, with N the number of training sequences:

        log q(z̃_j)       ≈ logsumexp_m log q(z̃_j | x_m) − log(N·B)
        log Π_i q(z̃_j,i) ≈ Σ_i [logsumexp_m log q(z̃_j,i | x_m) − log(N·B)]

    so MI = log q(z̃|x) − log q(z̃), TC = log q(z̃) − Σ_i log q(z̃_i) and
    dim-KL = Σ_i log q(z̃_i) − log p(z̃), with p = N(0, I); each is averaged over the frames.
    Estimating per frame position costs T·B² instead of (T·B)² for sequences.

    Args:
        spec: the data (``n_train`` is N).
        beta: weight β of the total correlation.
        **sizes: encoder/decoder sizes.
    """

    name = "beta_tcvae"

    def __init__(self, spec: DataSpec, *, beta: float = 1.0, **sizes: Any) -> None:
        super().__init__(spec, beta=beta, **sizes)
        self.n_train = spec.n_train

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        batch = x.shape[0]
        mean, var = self.encode(x)  # (B, T, d_z)
        sample = self.sample_posterior(mean, var, generator=generator)
        rec = self.reconstruction(x, sample)
        # log q(z̃_j,i | x_m) for every pair at the same frame position: (T, B_j, B_m, d_z)
        z_t, mean_t, var_t = (v.transpose(0, 1) for v in (sample, mean, var))
        # one addcmul over the (T, B, B, d_z) tensor: log N = c_m − ½ (z_j − μ_m)² / σ_m²
        log_norm = (-0.5 * (_LOG_2PI + torch.log(var_t)))[:, None]
        pairwise = torch.addcmul(
            log_norm, (z_t[:, :, None] - mean_t[:, None]).square(), (-0.5 / var_t)[:, None]
        )
        log_nm = math.log(max(self.n_train, batch) * batch)
        log_qz = torch.logsumexp(pairwise.sum(-1), dim=2) - log_nm  # (T, B)
        log_prod_qzi = (torch.logsumexp(pairwise, dim=2) - log_nm).sum(-1)  # (T, B)
        log_qzx = gaussian_log_density(z_t, mean_t, var_t).sum(-1)  # (T, B)
        log_pz = (-0.5 * (_LOG_2PI + z_t**2)).sum(-1)  # (T, B)

        def per_example(v: Tensor) -> Tensor:
            return v.mean(0) / self.d_x  # (T, B) -> (B,)

        mi = per_example(log_qzx - log_qz)
        tc = per_example(log_qz - log_prod_qzi)
        dim_kl = per_example(log_prod_qzi - log_pz)
        return {
            "loss": rec + mi + self.beta * tc + dim_kl,
            "reconstruction": rec,
            "kl": mi + tc + dim_kl,
            "mutual_information": mi,
            "total_correlation": tc,
            "dimension_kl": dim_kl,
        }


class IVAE(Method, GaussianAutoencoder):
    """iVAE: q(z_t | x_t) against a conditional factorised prior p(z_t | u_t).

    u_t is a_t (actions or one-hot regime) for T = 1 data; for sequences it is x_{t−1}
    concatenated with a_t when present, and only frames t ≥ 1 enter the loss. The prior network
    is an :class:`MLP` u → (μ, raw) with σ² = softplus(raw) + 1e-4.

    Args:
        spec: the data.
        prior_width, prior_depth: the prior network's hidden units and layers.
        **sizes: encoder/decoder sizes.
    """

    name = "ivae"
    applies_to = "data with actions or regimes, or sequences (T ≥ 2: u is the previous frame)"

    def __init__(
        self, spec: DataSpec, *, prior_width: int = 512, prior_depth: int = 5, **sizes: Any
    ) -> None:
        super().__init__(spec.d_x, spec.d_z, **sizes)
        self.use_previous = spec.n_frames >= 2
        self.d_a = spec.d_a
        d_u = spec.d_a + (spec.d_x if self.use_previous else 0)
        self.prior_net = MLP(d_u, 2 * spec.d_z, width=prior_width, depth=prior_depth)

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        if spec.d_a == 0 and spec.n_frames < 2:
            return "it needs an auxiliary variable u: actions, regimes or a previous frame (T ≥ 2)"
        return None

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> IVAE:
        return cls(
            spec,
            prior_width=model.prior_width,
            prior_depth=model.prior_depth,
            **_autoencoder_sizes(model),
        )

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        parts = []
        if self.use_previous:
            parts.append(x[:, :-1])
            x = x[:, 1:]
            a = None if a is None else a[:, 1:]
        if self.d_a:
            if a is None:
                raise ValueError(f"ivae needs a of shape (batch, n_timesteps, {self.d_a}).")
            parts.append(a.to(x.dtype))
        u = torch.cat(parts, dim=-1)
        mean, var = self.encode(x)
        sample = self.sample_posterior(mean, var, generator=generator)
        rec = self.reconstruction(x, sample)
        prior_mean, prior_raw = self.prior_net(u).unflatten(-1, (self.d_z, 2)).unbind(-1)
        prior_var = F.softplus(prior_raw) + 1e-4
        kl = gaussian_kl(mean, var, prior_mean, prior_var).sum(-1).mean(1) / self.d_x
        return {"loss": rec + kl, "reconstruction": rec, "kl": kl}


class SlowVAE(Method, GaussianAutoencoder):
    """SlowVAE: z_0 ~ N(0, I), z_t | z_{t−1} ~ Π_i Laplace(z_{t−1,i}, 1/rate).

    loss = rec + [KL(q(z_0|x_0) ‖ N(0, I)) + γ Σ_{t≥1} KL̂_t] / (T·d_x), where KL̂_t is the
    one-sample estimate log q(z̃_t | x_t) − log Laplace(z̃_t; z̃_{t−1}, 1/rate) with the
    reparameterised samples of both frames.

    Args:
        spec: the data (T ≥ 2).
        gamma: weight γ of the transition KL (paper grid 1–16).
        rate: rate λ of the Laplace transition (paper grid 1–10).
        **sizes: encoder/decoder sizes.
    """

    name = "slowvae"
    applies_to = "sequences (T ≥ 2)"

    def __init__(
        self, spec: DataSpec, *, gamma: float = 10.0, rate: float = 6.0, **sizes: Any
    ) -> None:
        super().__init__(spec.d_x, spec.d_z, **sizes)
        for value, label in ((gamma, "gamma"), (rate, "rate")):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"slowvae {label} must be a finite number > 0; got {value!r}.")
        self.gamma, self.rate = float(gamma), float(rate)

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        return "it needs sequences of T ≥ 2 frames" if spec.n_frames < 2 else None

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> SlowVAE:
        return cls(
            spec,
            gamma=baseline.slowvae_gamma,
            rate=baseline.slowvae_rate,
            **_autoencoder_sizes(model),
        )

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        mean, var = self.encode(x)  # (B, T, d_z)
        sample = self.sample_posterior(mean, var, generator=generator)
        rec = self.reconstruction(x, sample)
        kl_0 = gaussian_kl(mean[:, 0], var[:, 0], torch.zeros(()), torch.ones(())).sum(-1)
        log_q = gaussian_log_density(sample[:, 1:], mean[:, 1:], var[:, 1:])
        log_p = math.log(self.rate / 2) - self.rate * (sample[:, 1:] - sample[:, :-1]).abs()
        kl_slow = (log_q - log_p).sum(-1).sum(1)  # (B,)
        n_frames = x.shape[1]
        kl_0 = kl_0 / (n_frames * self.d_x)
        kl_slow = kl_slow / (n_frames * self.d_x)
        return {
            "loss": rec + kl_0 + self.gamma * kl_slow,
            "reconstruction": rec,
            "kl": kl_0 + kl_slow,
            "kl_transition": kl_slow,
        }
