"""Contrastive baselines: a feature extractor h: x_t ↦ ẑ_t trained by a classification task.

* :class:`PCL`, permutation-contrastive learning (Hyvärinen & Morioka 2017): a logistic
  regression tells real consecutive pairs (x_t, x_{t−1}) from pairs whose x_{t−1} is taken from
  another sequence, with the score r = Σ_i ψ_i(h_i(x_t), h_i(x_{t−1})) + b built from one
  small network ψ_i per latent (all evaluated as one batched product).
* :class:`TCL`, time-contrastive learning (Hyvärinen & Morioka 2016): a multinomial logistic
  regression on the sufficient statistics (h_i(x), h_i(x)²) predicts the regime (segment) of
  each frame.

h is an :class:`~mechsparse.model.networks.MLP` with the encoder's sizes. Neither method has a
posterior; ``encode`` returns ``(h(x), 0)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from mechsparse.baselines.base import DataSpec, Method
from mechsparse.model.autoencoder import check_features
from mechsparse.model.networks import LEAKY_RELU_SLOPE, MLP, ParallelLinear

__all__ = ["PCL", "TCL"]


class _FeatureExtractor(Method, nn.Module):
    """h: (..., d_x) → (..., d_z), an MLP with the encoder's width and depth."""

    def __init__(self, spec: DataSpec, *, encoder_width: int, encoder_depth: int) -> None:
        super().__init__()
        self.d_x, self.d_z = spec.d_x, spec.d_z
        self.features = MLP(spec.d_x, spec.d_z, width=encoder_width, depth=encoder_depth)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(h(x), zeros)``, each ``(..., d_z)``."""
        check_features(x, "x", self.d_x, "d_x")
        h = self.features(x)
        return h, torch.zeros_like(h)


class PCL(_FeatureExtractor):
    """Permutation-contrastive learning on consecutive frames.

    For every transition t ≥ 1 of every sequence the positive pair is (x_t, x_{t−1}); the
    negative pair keeps x_t and takes x_{t−1} from the sequence ``shift`` places further in the
    minibatch (a random shift ≥ 1 per step, so no sequence is paired with itself). The loss is
    the binary cross-entropy of σ(r) on both, averaged over the transitions of each sequence.

    Args:
        spec: the data (T ≥ 2).
        encoder_width, encoder_depth: sizes of h.
        psi_width: hidden units of each ψ_i: ℝ² → ℝ (one hidden layer).
    """

    name = "pcl"
    applies_to = "sequences (T ≥ 2)"

    def __init__(
        self, spec: DataSpec, *, encoder_width: int, encoder_depth: int, psi_width: int = 64
    ) -> None:
        super().__init__(spec, encoder_width=encoder_width, encoder_depth=encoder_depth)
        self.psi_hidden = ParallelLinear(spec.d_z, 2, psi_width, bias=True)
        self.psi_out = ParallelLinear(spec.d_z, psi_width, 1, bias=False)
        self.bias = nn.Parameter(torch.zeros(()))

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        return "it needs sequences of T ≥ 2 frames" if spec.n_frames < 2 else None

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> PCL:
        return cls(
            spec,
            encoder_width=model.encoder_width,
            encoder_depth=model.encoder_depth,
            psi_width=model.prior_width,
        )

    def score(self, h_now: Tensor, h_prev: Tensor) -> Tensor:
        """r = Σ_i ψ_i(h_now_i, h_prev_i) + b for features of shape ``(n, d_z)`` → ``(n,)``."""
        pairs = torch.stack([h_now, h_prev], dim=-1).transpose(0, 1)  # (d_z, n, 2)
        hidden = F.leaky_relu(self.psi_hidden(pairs), LEAKY_RELU_SLOPE)
        return self.psi_out(hidden).sum(dim=(0, 2)) + self.bias

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        batch, n_frames = x.shape[:2]
        h = self.features(x)  # (B, T, d_z)
        h_now, h_prev = h[:, 1:], h[:, :-1]
        shift = int(torch.randint(1, max(batch, 2), (), generator=generator, device=x.device))
        h_other = torch.roll(h_prev, shifts=shift % batch, dims=0) if batch > 1 else h_prev
        flat = lambda t: t.reshape(-1, self.d_z)  # noqa: E731
        positive = self.score(flat(h_now), flat(h_prev)).reshape(batch, n_frames - 1)
        negative = self.score(flat(h_now), flat(h_other)).reshape(batch, n_frames - 1)
        loss = F.softplus(-positive) + F.softplus(negative)  # BCE of labels 1 and 0
        accuracy = 0.5 * ((positive > 0).float() + (negative < 0).float())
        return {"loss": loss.mean(1), "accuracy": accuracy.mean(1)}


class TCL(_FeatureExtractor):
    """Time-contrastive learning: classify each frame's regime from (h(x), h(x)²).

    The regime of frame t is the index of the one-hot a_t (``interventions_unknown_targets``
    and user data with a ``--regime-col``). Loss: cross-entropy, averaged over frames.

    Args:
        spec: the data (discrete regimes).
        encoder_width, encoder_depth: sizes of h.
    """

    name = "tcl"
    applies_to = "data with discrete regimes (one-hot a, e.g. interventions_unknown_targets)"

    def __init__(self, spec: DataSpec, *, encoder_width: int, encoder_depth: int) -> None:
        super().__init__(spec, encoder_width=encoder_width, encoder_depth=encoder_depth)
        self.classifier = nn.Linear(2 * spec.d_z, spec.d_a)

    @classmethod
    def unsupported(cls, spec: DataSpec) -> str | None:
        if spec.aux_type != "discrete":
            return "it needs discrete regimes (one-hot a) to classify, and these data have none"
        return None

    @classmethod
    def from_config(cls, spec: DataSpec, model: Any, baseline: Any) -> TCL:
        return cls(spec, encoder_width=model.encoder_width, encoder_depth=model.encoder_depth)

    def loss_terms(self, x, a=None, z=None, *, generator=None) -> dict[str, Tensor]:
        if a is None:
            raise ValueError("tcl needs the one-hot regimes a of shape (batch, n_timesteps, K).")
        h = self.features(x)
        logits = self.classifier(torch.cat([h, h * h], dim=-1))  # (B, T, K)
        labels = a.argmax(dim=-1)  # (B, T)
        loss = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")  # (B, T)
        accuracy = (logits.argmax(-1) == labels).float()
        return {"loss": loss.mean(1), "accuracy": accuracy.mean(1)}
