"""The model: a VAE whose prior is a learned sparse causal model over the latents.

* :class:`GumbelSigmoidMask` — a learned graph (G^z ``graph_z`` or G^a ``graph_a``) sampled as
  relaxed Bernoulli edge masks, rows = children, columns = parents.
* :class:`MLP`, :class:`ParallelLinear`, :class:`ParallelMLP` — encoder/decoder networks and
  independent per-latent networks evaluated as one batched product.
* :class:`LatentPrior` — the transition model p(z_t | z_{t-1}, a_t) =
  Π_i N(z_t,i; μ_i(M^z_i ⊙ z_{t-1}, M^a_i ⊙ a_t), σ_i²), one network per latent.
* :class:`GaussianEncoder`, :class:`GaussianAutoencoder` — the frame-wise encoder q(z_t | x_t)
  and decoder p(x_t | z_t) shared with the baselines.
* :class:`LatentCausalVAE` and :class:`ELBOTerms` — the VAE and its per-example ELBO terms.
"""

from mechsparse.model.autoencoder import GaussianAutoencoder, GaussianEncoder
from mechsparse.model.masks import MASK_NOISE_MODES, GumbelSigmoidMask
from mechsparse.model.networks import MLP, ParallelLinear, ParallelMLP
from mechsparse.model.prior import VARIANCE_MODES, LatentPrior
from mechsparse.model.vae import ELBOTerms, LatentCausalVAE, gaussian_kl

__all__ = [
    "MASK_NOISE_MODES",
    "MLP",
    "VARIANCE_MODES",
    "ELBOTerms",
    "GaussianAutoencoder",
    "GaussianEncoder",
    "GumbelSigmoidMask",
    "LatentCausalVAE",
    "LatentPrior",
    "ParallelLinear",
    "ParallelMLP",
    "gaussian_kl",
]
