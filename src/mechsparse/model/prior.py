"""The latent prior: a learned sparse causal transition model p(z_t | z_{t-1}, a_t).

    p(z_t | z_{t-1}, a_t) = Π_i N(z_t,i; μ_i(M^z_i ⊙ z_{t-1}, M^a_i ⊙ a_t), σ_i²)

with one network μ_i per latent (no weight sharing), evaluated for all d_z latents at once, and
M^z, M^a sampled from the learned graphs G^z (``graph_z``) and G^a (``graph_a``). Masked-out
parents are replaced by 0, which is the reference's frozen dummy value (REFERENCE_SPEC §2.3).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from mechsparse._validation import check_choice, check_positive_int, check_tensor
from mechsparse.model.masks import GumbelSigmoidMask
from mechsparse.model.networks import LEAKY_RELU_SLOPE, ParallelLinear, ParallelMLP

__all__ = [
    "INITIAL_VARIANCE",
    "MECHANISMS",
    "MIN_PRIOR_VARIANCE",
    "REGIME_EFFECTS",
    "TRANSITION_VARIANCE_INIT",
    "VARIANCE_MODES",
    "LatentPrior",
]

VARIANCE_MODES = ("constant", "parents")
"""``constant``: one learned σ_i² per latent (reference ``independent``, the paper's setting);
``parents``: σ_i² is a second output of the network, so it depends on the parents."""

MECHANISMS = ("mlp", "additive")
"""Form of each latent's mechanism μ_i: ``mlp`` (one network of all masked parents, the
reference's) or ``additive`` (a sum of one-parent networks, one per possible edge:
μ_i = c_i + Σ_j M_ij f_ij(u_j), the causal additive model class)."""

REGIME_EFFECTS = ("input", "shift")
"""How a_t enters latent i's mechanism: ``input`` (M^a_i ⊙ a_t is an input of the network, the
reference's way, for actions and regimes alike) or ``shift`` (for one-hot regimes: each edge
(i, r) of G^a adds a learned offset Δ_ir to the network's outputs, M^a_ir a_r Δ_ir)."""

MIN_PRIOR_VARIANCE = 1e-6
"""Added to every prior variance (transition and initial state)."""

TRANSITION_VARIANCE_INIT = 1e-4
"""softplus(raw) at initialisation of the transition variance (so σ_i² starts at 1.01e-4)."""

INITIAL_VARIANCE = 1.0
"""softplus(raw) at initialisation of the initial-state prior variance (so 1 + 1e-6)."""


def _inverse_softplus(value: float) -> float:
    """The raw value r with softplus(r) = ``value``, i.e. log(e^value − 1)."""
    return math.log(math.expm1(value))


class LatentPrior(nn.Module):
    """Per-latent Gaussian transition networks with masked parents, all latents batched.

    For latent i the first layer is h1 = LeakyReLU_0.2(W^z_i u_i + W^a_i v_i + b_i) with
    u_i = M^z_i ⊙ z_{t-1} and v_i = M^a_i ⊙ a_t (W^z, W^a without bias, b_i initialised to 0),
    followed by ``depth − 1`` hidden layers and a linear output head (:class:`ParallelMLP`).

    With ``mechanism="additive"`` each latent's outputs are instead a sum over its possible
    parents u_j (the lagged latents, then the auxiliary variables when they are network inputs):
    out_i = c_i + Σ_j M_ij f_ij(u_j), with one scalar-input network f_ij per (child, parent)
    pair (``depth`` hidden layers of ``width`` units, all d_z·(d_z + d_a) of them batched) and
    c_i learned, initialised to 0. A masked-out edge removes its term instead of zeroing an
    input. This is the causal additive model class (CAM; Bühlmann et al. 2014): it cannot
    express interactions between parents, and every mechanism of the sinusoid-sum benchmarks
    lies in it.

    Transition variance (``variance``):

    * ``"constant"`` (reference ``independent``): σ_i² = softplus(λ_i) + 1e-6 with one learned
      λ_i per latent, initialised to log(e^{1e-4} − 1) ≈ −9.2103; the net outputs the mean only.
    * ``"parents"``: the net outputs (mean, raw) and σ_i² = softplus(raw_i + shift) + 1e-6 with
      a fixed buffer shift = log(e^{1e-4} − 1). Deviation from the reference's ``dependent``
      mode, whose shift is set once from the first batch so that the batch-mean pre-activation
      equals that value: here the shift is a constant, which is simpler and deterministic.

    With ``n_lags = 1`` the first frame z_0 has a learned diagonal Gaussian prior N(m, s²), m
    initialised to 0 and s² = softplus(raw) + 1e-6 with raw initialised to log(e − 1), so that
    s² starts at 1 + 1e-6.

    Args:
        d_z: number of latents (and of networks).
        d_a: number of auxiliary variables a (actions, one-hot regimes); 0 for none.
        n_lags: 1 for a first-order Markov model p(z_t | z_{t-1}, a_t), 0 for p(z_t | a_t).
        width: units H of every hidden layer of each per-latent network (reference 512).
        depth: hidden layers of each network, the first masked layer included (reference 5).
        hidden_bias: give the hidden layers after the first a bias (the reference has none).
        variance: ``"constant"`` or ``"parents"`` (see above).
        learn_graph_z: learn G^z; ``False`` freezes it at the fully connected graph.
        learn_graph_a: learn G^a; ``False`` freezes it at the fully connected graph.
        mask_init_logit: initial mask logit α (reference 5.0).
        mask_temperature: Gumbel-sigmoid temperature τ (reference 1.0).
        mask_hard: straight-through hard masks (reference: soft).
        mask_noise: ``"batch"`` (reference) or ``"example"`` mask noise.
        regime_effect: ``"input"`` (reference) or ``"shift"``: with a one-hot regime a_t, the
            mean (and, with ``variance="parents"``, the raw variance) of latent i in regime r
            is the network's output plus M^a_ir Δ_ir, Δ learned and initialised to 0. A regime
            is then an intervention that moves the latent's Gaussian, and a relaxed mask value
            m ∈ (0, 1) scales that move. As a network input instead, the one-hot column passes
            as soon as m > 0 (the network can detect any non-zero input), so soft masks leak a
            regime whose edge probability is small. With ``n_lags = 0`` and ``variance=
            "parents"`` this models any Gaussian per regime; with ``n_lags = 1`` a regime
            shifts the transition additively.
        mechanism: ``"mlp"`` (reference) or ``"additive"`` (see above).
        residual: with ``n_lags = 1``, predict the change: μ_i = g_i z_{t-1,i} + net_i(...)
            with g_i = 1[σ(α_ii) > 0.5] the learned self-edge of G^z (straight-through
            gradient). The identity part of the transition then needs no network and carries
            no mask noise, yet a latent without a self-edge does not see z_{t-1,i} (a fixed
            graph passed to :meth:`transition` as a 2-D mask uses its own diagonal). The
            reference's ``--output_delta`` (off in its runs) adds z_{t-1,i} unmasked.

    Attributes:
        mask_z: G^z as a :class:`GumbelSigmoidMask` of shape (d_z, d_z) when ``n_lags == 1``,
            else None.
        mask_a: G^a as a :class:`GumbelSigmoidMask` of shape (d_z, d_a) when ``d_a > 0``,
            else None.
    """

    def __init__(
        self,
        d_z: int,
        *,
        d_a: int = 0,
        n_lags: int = 1,
        width: int,
        depth: int,
        hidden_bias: bool,
        variance: str = "constant",
        learn_graph_z: bool = True,
        learn_graph_a: bool = True,
        mask_init_logit: float = 5.0,
        mask_temperature: float = 1.0,
        mask_hard: bool = False,
        mask_noise: str = "batch",
        regime_effect: str = "input",
        mechanism: str = "mlp",
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.d_z = check_positive_int(d_z, "d_z")
        self.d_a = check_positive_int(d_a, "d_a", minimum=0)
        self.n_lags = check_positive_int(n_lags, "n_lags", minimum=0)
        if self.n_lags > 1:
            raise ValueError(f"n_lags must be 0 or 1 (first-order Markov prior); got {n_lags}.")
        if self.n_lags == 0 and self.d_a == 0:
            raise ValueError(
                "the prior needs parents: use n_lags=1 (temporal data) and/or d_a > 0 "
                "(actions or regimes); got n_lags=0 and d_a=0."
            )
        self.width = check_positive_int(width, "width")
        self.depth = check_positive_int(depth, "depth")
        self.hidden_bias = bool(hidden_bias)
        self.variance = check_choice(variance, "variance", VARIANCE_MODES)
        self.regime_effect = check_choice(regime_effect, "regime_effect", REGIME_EFFECTS)
        self.mechanism = check_choice(mechanism, "mechanism", MECHANISMS)
        self.residual = bool(residual) and n_lags == 1

        mask_kwargs = {
            "init_logit": mask_init_logit,
            "temperature": mask_temperature,
            "hard": mask_hard,
            "noise": mask_noise,
        }
        self.mask_z: GumbelSigmoidMask | None = None
        if self.n_lags == 1:
            self.mask_z = GumbelSigmoidMask(
                self.d_z, self.d_z, learnable=learn_graph_z, **mask_kwargs
            )
        self.mask_a: GumbelSigmoidMask | None = None
        self.regime_shift: nn.Parameter | None = None  # Δ, shape (d_z, d_a, n_outputs)
        if self.d_a > 0:
            self.mask_a = GumbelSigmoidMask(
                self.d_z, self.d_a, learnable=learn_graph_a, **mask_kwargs
            )
            if self.regime_effect == "shift":
                self.regime_shift = nn.Parameter(torch.zeros(self.d_z, self.d_a, self.n_outputs))
        # parents that are network inputs: the lagged latents, then a unless it only shifts
        a_inputs = self.d_a if self.regime_effect == "input" else 0
        self.n_inputs = self.d_z * self.n_lags + a_inputs
        self.weight_z: ParallelLinear | None = None
        self.weight_a: ParallelLinear | None = None
        self.input_bias: nn.Parameter | None = None
        self.term_first: ParallelLinear | None = None
        self.term_bias: nn.Parameter | None = None
        n_nets = self.d_z
        if self.mechanism == "mlp":
            if self.n_lags == 1:
                self.weight_z = ParallelLinear(self.d_z, self.d_z, self.width, bias=False)
            if a_inputs:
                self.weight_a = ParallelLinear(self.d_z, self.d_a, self.width, bias=False)
            # b_i of the first layer, shape (d_z, 1, H), initialised to 0 as in the reference
            self.input_bias = nn.Parameter(torch.zeros(self.d_z, 1, self.width))
        elif self.n_inputs:
            # f_ij for every (child i, input parent j), flattened as i·n_inputs + j
            n_nets = self.d_z * self.n_inputs
            self.term_first = ParallelLinear(n_nets, 1, self.width, bias=True)
        if self.mechanism == "additive":
            self.term_bias = nn.Parameter(torch.zeros(self.d_z, 1, self.n_outputs))  # c_i
        self.body: ParallelMLP | None = None
        if self.mechanism == "mlp" or self.n_inputs:
            self.body = ParallelMLP(
                n_nets,
                self.width,
                (self.width,) * (self.depth - 1),
                self.n_outputs,
                hidden_bias=self.hidden_bias,
            )

        raw_transition = _inverse_softplus(TRANSITION_VARIANCE_INIT)
        if self.variance == "constant":
            self.transition_raw_variance = nn.Parameter(torch.full((self.d_z,), raw_transition))
        else:
            self.register_buffer("variance_shift", torch.tensor(raw_transition))
        if self.n_lags == 1:
            self.initial_mean = nn.Parameter(torch.zeros(self.d_z))
            self.initial_raw_variance = nn.Parameter(
                torch.full((self.d_z,), _inverse_softplus(INITIAL_VARIANCE))
            )

    @property
    def n_outputs(self) -> int:
        """Outputs per latent network: 1 (mean) or 2 (mean, raw variance)."""
        return 1 if self.variance == "constant" else 2

    def extra_repr(self) -> str:
        """Summary shown by ``print(module)``."""
        return (
            f"d_z={self.d_z}, d_a={self.d_a}, n_lags={self.n_lags}, width={self.width}, "
            f"depth={self.depth}, hidden_bias={self.hidden_bias}, variance={self.variance!r}, "
            f"regime_effect={self.regime_effect!r}, mechanism={self.mechanism!r}"
        )

    def sample_masks(
        self, batch_size: int, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor | None, Tensor | None]:
        """Sample M^z and M^a for a minibatch (see :meth:`GumbelSigmoidMask.sample`).

        Returns:
            ``(mask_z, mask_a)``: shapes ``(B, d_z, d_z)`` and ``(B, d_z, d_a)``, each None
            when the prior has no such graph.
        """
        mask_z = (
            None if self.mask_z is None else self.mask_z.sample(batch_size, generator=generator)
        )
        mask_a = (
            None if self.mask_a is None else self.mask_a.sample(batch_size, generator=generator)
        )
        return mask_z, mask_a

    def _check_mask(self, mask: Tensor | None, name: str, batch: int, n_parents: int) -> None:
        """Check that ``mask`` broadcasts to ``(batch, d_z, n_parents)``."""
        parents = "d_z" if name == "mask_z" else "d_a"
        if mask is None:
            raise ValueError(
                f"{name} is required for this prior: pass a sampled mask of shape "
                f"(batch, d_z, {parents}) (LatentPrior.sample_masks), a fixed graph of shape "
                f"(d_z, {parents}), or ones."
            )
        if mask.ndim == 2:
            check_tensor(mask, name, shape=(self.d_z, n_parents), dims=f"(d_z, {parents})")
            return
        check_tensor(mask, name, shape=(None, self.d_z, n_parents), dims=f"(batch, d_z, {parents})")
        if mask.shape[0] not in (1, batch):
            raise ValueError(
                f"{name} must have batch size 1 or {batch} (that of the parents); "
                f"got shape {tuple(mask.shape)}."
            )

    def transition(
        self,
        z_prev: Tensor | None,
        a: Tensor | None,
        mask_z: Tensor | None,
        mask_a: Tensor | None,
    ) -> tuple[Tensor, Tensor]:
        """Mean and variance of p(z_t | M^z ⊙ z_{t-1}, M^a ⊙ a_t) for every latent.

        Args:
            z_prev: z_{t-1}, shape ``(B, d_z)``; required iff ``n_lags == 1``, else None.
            a: a_t, shape ``(B, d_a)``; required iff ``d_a > 0``, else None.
            mask_z: M^z, shape ``(B, d_z, d_z)`` (or ``(1, d_z, d_z)`` / ``(d_z, d_z)``,
                broadcast over the batch); required iff ``n_lags == 1``. Rows = children.
            mask_a: M^a, shape ``(B, d_z, d_a)`` (or broadcastable likewise); required iff
                ``d_a > 0``.

        Returns:
            ``(mean, variance)``, each of shape ``(B, d_z)``.
        """
        batch = self._check_parents(z_prev, a)
        masked_z = None
        if self.n_lags == 1:
            self._check_mask(mask_z, "mask_z", batch, self.d_z)
            masked_z = mask_z * z_prev[:, None, :]  # (B, d_z children, d_z parents)
        elif mask_z is not None:
            raise ValueError("mask_z must be None: this prior has n_lags=0 (no graph G^z).")
        masked_a = None
        if self.mask_a is not None:
            self._check_mask(mask_a, "mask_a", batch, self.d_a)
            masked_a = mask_a * a[:, None, :]  # (B, d_z children, d_a parents)
        elif mask_a is not None:
            raise ValueError("mask_a must be None: this prior has d_a=0 (no graph G^a).")
        if self.mechanism == "mlp":
            out = self._joint(masked_z, masked_a)
        else:
            out = self._additive(z_prev, a, mask_z, mask_a, batch)
        if self.regime_shift is not None:
            # Σ_r M^a_ir a_r Δ_ir for every latent i and output o, batched over i
            out = out + torch.einsum("bir,iro->ibo", masked_a, self.regime_shift)
        mean = out[..., 0].transpose(0, 1)  # (B, d_z)
        if self.residual:
            # a fixed graph (2-D mask) decides the self-edges itself; sampled masks use the
            # learned, noise-free ones
            gate = torch.diagonal(mask_z) if mask_z.ndim == 2 else self._self_edges()
            mean = mean + gate * z_prev
        if self.variance == "constant":
            variance = F.softplus(self.transition_raw_variance) + MIN_PRIOR_VARIANCE
            variance = variance.expand(batch, self.d_z)
        else:
            raw = out[..., 1].transpose(0, 1)  # (B, d_z)
            variance = F.softplus(raw + self.variance_shift) + MIN_PRIOR_VARIANCE
        return mean, variance

    def _joint(self, masked_z: Tensor | None, masked_a: Tensor | None) -> Tensor:
        """Outputs of the ``mlp`` mechanisms, shape ``(d_z, B or 1, n_outputs)``."""
        # first layer: h1 = W^z_i (M^z_i ⊙ z_{t-1}) + W^a_i (M^a_i ⊙ a_t) + b_i, batched over i
        hidden = self.input_bias  # (d_z, 1, H), broadcast over the batch
        if self.weight_z is not None:
            hidden = torch.baddbmm(hidden, masked_z.transpose(0, 1), self.weight_z.weight)
        if self.weight_a is not None:
            # baddbmm broadcasts a (d_z, 1, H) bias over the batch when there is no lagged part
            hidden = torch.baddbmm(hidden, masked_a.transpose(0, 1), self.weight_a.weight)
        return self.body(F.leaky_relu(hidden, LEAKY_RELU_SLOPE))

    def _additive(
        self,
        z_prev: Tensor | None,
        a: Tensor | None,
        mask_z: Tensor | None,
        mask_a: Tensor | None,
        batch: int,
    ) -> Tensor:
        """Outputs of the ``additive`` mechanisms c_i + Σ_j M_ij f_ij(u_j), shape
        ``(d_z, B, n_outputs)``."""
        if self.term_first is None:  # no input parents: regimes that only shift
            return self.term_bias.expand(self.d_z, batch, self.n_outputs)
        values, masks = [], []
        if self.n_lags == 1:
            values.append(z_prev)
            masks.append(mask_z if mask_z.ndim == 3 else mask_z[None])
        if self.d_a > 0 and self.regime_shift is None:  # a is an input, not a shift
            values.append(a)
            masks.append(mask_a if mask_a.ndim == 3 else mask_a[None])
        n_masks = max(m.shape[0] for m in masks)  # B, or 1 for a mask shared by the batch
        u = torch.cat(values, dim=1)  # (B, n_inputs)
        mask = torch.cat([m.expand(n_masks, -1, -1) for m in masks], dim=2)
        # every child i reads every parent u_j through its own scalar network f_ij
        x = u.T[None].expand(self.d_z, self.n_inputs, batch)
        h = self.term_first(x.reshape(self.d_z * self.n_inputs, batch, 1))
        terms = self.body(F.leaky_relu(h, LEAKY_RELU_SLOPE))
        terms = terms.reshape(self.d_z, self.n_inputs, batch, self.n_outputs)
        gate = mask.permute(1, 2, 0)[..., None]  # (d_z, n_inputs, B or 1, 1)
        return (gate * terms).sum(dim=1) + self.term_bias

    def _self_edges(self) -> Tensor:
        """Gate g_i = 1[σ(α_ii) > 0.5] of the identity path, shape ``(d_z,)``: the learned
        self-edges of G^z, deterministic (no mask noise), with the straight-through gradient
        of σ(α_ii)."""
        p = torch.diagonal(self.mask_z.probabilities())
        return (p > 0.5).to(p.dtype) + p - p.detach()

    def _check_parents(self, z_prev: Tensor | None, a: Tensor | None) -> int:
        """Check the parent tensors against ``n_lags`` and ``d_a``; return the batch size."""
        batch = None
        if self.n_lags == 1:
            if z_prev is None:
                raise ValueError(
                    "z_prev of shape (batch, d_z) is required: this prior has n_lags=1."
                )
            check_tensor(z_prev, "z_prev", shape=(None, self.d_z), dims="(batch, d_z)")
            batch = z_prev.shape[0]
        elif z_prev is not None:
            raise ValueError("z_prev must be None: this prior has n_lags=0.")
        if self.d_a > 0:
            if a is None:
                raise ValueError(
                    f"a of shape (batch, d_a={self.d_a}) is required: this prior has d_a > 0."
                )
            check_tensor(a, "a", shape=(batch, self.d_a), dims="(batch, d_a)")
            batch = a.shape[0]
        elif a is not None:
            raise ValueError("a must be None: this prior has d_a=0 (no auxiliary variables).")
        return batch

    def initial(self) -> tuple[Tensor, Tensor]:
        """Mean and variance of the initial-state prior p(z_0), each of shape ``(d_z,)``.

        Only defined when ``n_lags == 1``.
        """
        if self.n_lags != 1:
            raise ValueError("initial() needs a temporal prior (n_lags=1); this one has n_lags=0.")
        variance = F.softplus(self.initial_raw_variance) + MIN_PRIOR_VARIANCE
        return self.initial_mean, variance
