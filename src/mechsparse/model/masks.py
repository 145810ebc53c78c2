"""Learned causal graphs as Gumbel-sigmoid (relaxed Bernoulli) edge masks.

One logit α_ij per possible edge j → i (rows = children, columns = parents). A mask sample is

    y_soft = σ((α + log U − log(1 − U)) / τ),   U ~ Uniform(0, 1),

so that P(y_soft > 0.5) = σ(α) for every temperature τ. The expected number of edges
E|G| = Σ_ij σ(α_ij) is what the sparsity penalty or constraint acts on, and the learned graph
is 1[σ(α) > 0.5] (REFERENCE_SPEC §2.4).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mechsparse._validation import check_choice, check_positive_int

__all__ = ["MASK_NOISE_MODES", "GumbelSigmoidMask"]

MASK_NOISE_MODES = ("batch", "example")
"""How logistic noise is shared: one draw for the whole minibatch, or one per example."""


class GumbelSigmoidMask(nn.Module):
    """A learned graph over ``(n_children, n_parents)`` edges, sampled as Gumbel-sigmoid masks.

    Rows are children and columns are parents, so for G^z (``graph_z``) entry (i, j) is the
    edge z^{t-1}_j → z^t_i and for G^a (``graph_a``) it is a_j → z_i.

    Args:
        n_children: number of rows (children), d_z.
        n_parents: number of columns (parents), d_z for G^z or d_a for G^a.
        init_logit: initial value of every logit α (reference 5.0, so σ(5) = 0.9933).
        temperature: relaxation temperature τ > 0 (reference 1.0).
        hard: straight-through samples: the forward pass gives 1[y_soft > 0.5] and the gradient
            is that of y_soft. The reference uses soft samples (``False``).
        noise: ``"batch"`` draws one logistic noise sample shared by the minibatch (reference),
            ``"example"`` one per example.
        learnable: ``False`` freezes the mask at the fully connected graph (the reference's
            unregularised "none" regime): samples, probabilities and the graph are all ones and
            the logits are a buffer, not a parameter.

    Attributes:
        logits: α, shape ``(n_children, n_parents)``; an ``nn.Parameter`` when learnable, else a
            buffer (kept so that state dicts have the same keys in both cases).
    """

    def __init__(
        self,
        n_children: int,
        n_parents: int,
        *,
        init_logit: float = 5.0,
        temperature: float = 1.0,
        hard: bool = False,
        noise: str = "batch",
        learnable: bool = True,
    ) -> None:
        super().__init__()
        self.n_children = check_positive_int(n_children, "n_children")
        self.n_parents = check_positive_int(n_parents, "n_parents")
        if not isinstance(init_logit, int | float) or not math.isfinite(init_logit):
            raise ValueError(f"init_logit must be a finite number; got {init_logit!r}.")
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not math.isfinite(temperature)
            or temperature <= 0
        ):
            raise ValueError(f"temperature must be a finite number > 0; got {temperature!r}.")
        self.temperature = float(temperature)
        self.hard = bool(hard)
        self.noise = check_choice(noise, "noise", MASK_NOISE_MODES)
        self.learnable = bool(learnable)
        logits = torch.full((self.n_children, self.n_parents), float(init_logit))
        if self.learnable:
            self.logits = nn.Parameter(logits)
        else:
            self.register_buffer("logits", logits)

    @property
    def n_possible_edges(self) -> int:
        """Number of entries of the graph, ``n_children * n_parents`` (the bound's maximum)."""
        return self.n_children * self.n_parents

    def extra_repr(self) -> str:
        """Summary shown by ``print(module)``."""
        return (
            f"n_children={self.n_children}, n_parents={self.n_parents}, "
            f"temperature={self.temperature}, hard={self.hard}, noise={self.noise!r}, "
            f"learnable={self.learnable}"
        )

    def sample(self, batch_size: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Draw relaxed masks M, one per example.

        Args:
            batch_size: B, the number of examples.
            generator: optional torch generator (on the logits' device) for the uniform noise.

        Returns:
            M, shape ``(B, n_children, n_parents)``, values in [0, 1] (exactly {0, 1} when
            ``hard``). With ``noise="batch"`` one mask is broadcast to the batch with ``expand``
            (no copy, stride 0 along the batch axis). Frozen masks are all ones.
        """
        batch_size = check_positive_int(batch_size, "batch_size")
        full_shape = (batch_size, self.n_children, self.n_parents)
        if not self.learnable:
            return self.logits.new_ones(()).expand(full_shape)
        draw_shape = (1, *full_shape[1:]) if self.noise == "batch" else full_shape
        uniform = torch.rand(
            draw_shape, generator=generator, device=self.logits.device, dtype=self.logits.dtype
        )
        # keep U inside (0, 1) so that the logistic noise log U − log(1 − U) is finite
        eps = torch.finfo(self.logits.dtype).eps
        uniform = uniform.clamp(eps, 1.0 - eps)
        logistic = torch.log(uniform) - torch.log1p(-uniform)
        y_soft = torch.sigmoid((self.logits + logistic) / self.temperature)
        if self.hard:
            y_hard = (y_soft > 0.5).to(y_soft.dtype)
            # y_soft - y_soft.detach() is exactly 0 in the forward pass and carries y_soft's
            # gradient, so the forward values are exactly {0, 1} (straight-through estimator)
            y = y_hard + (y_soft - y_soft.detach())
        else:
            y = y_soft
        return y.expand(full_shape)

    def probabilities(self) -> Tensor:
        """Edge probabilities σ(α), shape ``(n_children, n_parents)``; ones when frozen."""
        if not self.learnable:
            return torch.ones_like(self.logits)
        return torch.sigmoid(self.logits)

    def expected_edges(self) -> Tensor:
        """Expected number of edges E|G| = Σ_ij σ(α_ij), a differentiable scalar tensor.

        Equals ``n_children * n_parents`` when frozen.
        """
        return self.probabilities().sum()

    def graph(self) -> Tensor:
        """The learned graph 1[σ(α) > 0.5], ``int64`` of shape ``(n_children, n_parents)``.

        All ones when frozen.
        """
        with torch.no_grad():
            return (self.probabilities() > 0.5).to(torch.int64)
