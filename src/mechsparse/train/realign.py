"""Latent realignment: a linear change of latent coordinates learned with a fresh sparse prior.

From a random start, the VAE can settle in a representation that is close to a *linear* mixture
of the true latents (linear R ≈ 0.98) but whose mixing is not a permutation, together with a
learned graph that fits the mixture (BENCHMARKS.md, "Latent realignment"). Leaving that basin
by minibatch gradient steps on the whole VAE is slow: the encoder, decoder and prior must move
together. Realignment searches the linear part directly. With the encoder and decoder fixed, a
linear change of coordinates z' = A z + c changes the ELBO only through the prior term, which is
(up to the posterior's width) the log-likelihood of the encoded means under the prior plus the
Jacobian log|det A|. So, on the posterior means μ(x) of the training data, it minimises

    ℒ(W, θ) = −(1/(T·d_x)) [ Σ_t log p_θ(W μ̃_t | W μ̃_{t−1}, a_t) ] − log|det W| / d_x,

with μ̃ the means standardised per latent, over W (initialised to the identity) and the
parameters θ of a *fresh* prior (new networks and edge logits at their initial values), under
the run's own sparsity regulariser: the constraint E|G| ≤ k with its bound falling from the
maximum to k over ``realign_schedule_steps`` steps, or the penalty with its coefficient warmed
up over as many steps. The graph is thus learned again, together with the coordinates it is
sparse in. The result is folded into the VAE: the encoder's mean outputs become A μ + c, the
decoder reads A⁻¹(z' − c), and the prior is replaced by the fresh one; the VAE then continues
training from there.

The posterior of A z is not diagonal: each latent's variance output becomes a constant matched to
the diagonal of A diag(v) Aᵀ (v the mean old variances), and training after the fold adapts it.

Where the mechanisms of G^z are *additive* in the parents (δ_i(z) = Σ_j f_ij(z_j), the causal
additive model class; temporal_sparsity_non_trivial is one), a second search is stronger
(``map_search="additive"``, :func:`additive_basis_map`): a linear mixture of two latents turns a
sum of one-parent functions into functions of both, so the coordinates in which the transitions
are best explained by an additive model are the aligned ones. For a given W the additive model's
best fit in a fixed Fourier basis is a least-squares problem, solved exactly at every step
("variable projection"), so W is searched alone, against the profile likelihood, without a
network that must first learn high-frequency mechanisms. The sparse prior and its graph are then
fitted in the coordinates found, with W held fixed (BENCHMARKS.md, "Latent realignment").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mechsparse.model import LatentCausalVAE, LatentPrior
from mechsparse.model.autoencoder import POSTERIOR_MIN_VARIANCE
from mechsparse.model.vae import gaussian_log_density
from mechsparse.train.evaluate import encode_means
from mechsparse.train.regularizers import (
    GraphBudget,
    Regularizer,
    SparsityProblem,
    build_optimizer,
)

__all__ = [
    "MAP_SEARCHES",
    "LinearRealignment",
    "RealignResult",
    "additive_basis_map",
    "fold_linear_map",
    "realign_latents",
]

_LOSS_TAIL = 100  # steps averaged for the reported loss
# How W is found: jointly with the sparse prior, or by the additive model's profile likelihood.
MAP_SEARCHES = ("joint", "additive")
# The additive search's basis per parent: sin(ν z), cos(ν z) for ν = ν_max/K, 2ν_max/K, …, ν_max
# (radians per standard deviation of the whitened latent), and z itself; one constant per output.
_BASIS_FREQUENCIES = 24
_BASIS_MAX_FREQUENCY = 5.0
_BASIS_RIDGE = 1e-3  # ridge on the normalised Gram matrix, for a well-posed solve
_SEARCH_STEPS = 300
_SEARCH_BATCH = 4_096  # transitions per minibatch of the search
_SEARCH_LR = 0.01
_SEARCH_EVAL_EVERY = 50


class LinearRealignment(nn.Module):
    """A linear map W of standardised latents and the prior it is judged by.

    Coordinates: z' = W (μ − m) / s, i.e. z' = A μ + c with A = W diag(1/s), c = −A m, where m
    and s are the mean and standard deviation of each latent over the encoded data.

    Args:
        prior: a fresh :class:`LatentPrior` of the VAE's architecture (its masks are the graphs
            that the sparsity problem regularises).
        center: m, shape ``(d_z,)``.
        scale: s, shape ``(d_z,)``, every entry > 0.
        d_x: observation dimension (the objective is per observed dimension, as the VAE's).
        initial_map: W found beforehand (:func:`additive_basis_map`), shape ``(d_z, d_z)``,
            then held fixed; None: W starts at the identity and is learned.

    Attributes:
        map_weight: W, shape ``(d_z, d_z)``.
        beta: 1: the objective is the prior's term alone, so a penalty is not reweighted.
    """

    beta = 1.0

    def __init__(
        self,
        prior: LatentPrior,
        center: Tensor,
        scale: Tensor,
        d_x: int,
        initial_map: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.prior = prior
        self.d_x = int(d_x)
        d_z = prior.d_z
        self.register_buffer("center", center.detach().clone())
        self.register_buffer("scale", scale.detach().clone())
        if initial_map is None:
            self.map_weight = nn.Parameter(torch.eye(d_z, dtype=center.dtype, device=center.device))
        else:  # a map found beforehand is held fixed
            self.map_weight = nn.Parameter(initial_map.detach().clone(), requires_grad=False)

    def affine_map(self) -> tuple[Tensor, Tensor]:
        """``(A, c)`` with z' = A μ + c: A of shape ``(d_z, d_z)``, c of shape ``(d_z,)``."""
        with torch.no_grad():
            matrix = self.map_weight / self.scale[None, :]
            return matrix.clone(), -(matrix @ self.center)

    def objective(self, means: Tensor, a: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
        """ℒ on a minibatch of encoded sequences.

        Args:
            means: posterior means μ, shape ``(B, T, d_z)``.
            a: auxiliary variables, shape ``(B, T, d_a)``, or None.

        Returns:
            ``(loss, terms)``: the scalar ℒ and, detached, its ``log_density`` part (mean over
            frames, summed over latents, per d_x) and ``log_det`` (log|det W| / d_x).
        """
        prior = self.prior
        z = ((means - self.center) / self.scale) @ self.map_weight.T  # (B, T, d_z)
        batch, n_frames = z.shape[:2]
        mask_z, mask_a = prior.sample_masks(batch)
        a_t = None if a is None else a.to(z.dtype)
        if prior.n_lags == 1:
            init_mean, init_var = prior.initial()
            log_p = gaussian_log_density(z[:, 0], init_mean, init_var).sum(-1)  # (B,)
            for t in range(1, n_frames):
                mean, var = prior.transition(
                    z[:, t - 1], None if a_t is None else a_t[:, t], mask_z, mask_a
                )
                log_p = log_p + gaussian_log_density(z[:, t], mean, var).sum(-1)
        else:
            log_p = z.new_zeros(batch)
            for t in range(n_frames):
                mean, var = prior.transition(None, a_t[:, t], None, mask_a)
                log_p = log_p + gaussian_log_density(z[:, t], mean, var).sum(-1)
        log_density = log_p.mean() / (n_frames * self.d_x)
        log_det = torch.linalg.slogdet(self.map_weight)[1] / self.d_x
        loss = -(log_density + log_det)
        return loss, {"log_density": log_density.detach(), "log_det": log_det.detach()}


def _basis(values: Tensor, frequencies: Tensor) -> Tensor:
    """The additive basis of each variable: ``(m, d)`` → ``(m, d·(2K + 1))`` with, per variable
    u_j, the columns sin(ν_k u_j), cos(ν_k u_j) (k = 1..K) and u_j."""
    angle = values[:, :, None] * frequencies  # (m, d, K)
    return torch.cat([torch.sin(angle), torch.cos(angle), values[:, :, None]], -1).flatten(1)


def additive_profile_nll(map_weight: Tensor, latents: Tensor, aux: Tensor | None) -> Tensor:
    """Negative profile log-likelihood of W under an additive transition model, per sequence.

    With v_t = W u_t, each latent's transition is modelled as v_t,i = c_i + Σ_j f_ij(v_{t−1,j})
    + Σ_m g_im(a_t,m) + ε, every f and g in the fixed basis of :func:`_basis`, ε ~ N(0, r_i), and
    v_0 ~ N(m, diag(s²)). The coefficients, r, m and s that maximise the likelihood are solved in
    closed form (ridge least squares on the minibatch), so what is returned depends on W alone:

        (T − 1)/2 · Σ_i log r_i + 1/2 · Σ_i log s_i² − T · log|det W|  (+ constants).

    Args:
        map_weight: W, shape ``(d_z, d_z)``.
        latents: u, shape ``(B, T, d_z)``, T ≥ 2.
        aux: a, shape ``(B, T, d_a)`` (standardised), or None.

    Returns:
        The scalar negative profile log-likelihood.
    """
    frequencies = torch.linspace(
        _BASIS_MAX_FREQUENCY / _BASIS_FREQUENCIES,
        _BASIS_MAX_FREQUENCY,
        _BASIS_FREQUENCIES,
        dtype=latents.dtype,
        device=latents.device,
    )
    v = latents @ map_weight.T  # (B, T, d_z)
    n_frames, d_z = v.shape[1:]
    previous = v[:, :-1].reshape(-1, d_z)
    target = v[:, 1:].reshape(-1, d_z)
    columns = [_basis(previous, frequencies), previous.new_ones(previous.shape[0], 1)]
    if aux is not None:
        columns.append(_basis(aux[:, 1:].reshape(-1, aux.shape[-1]), frequencies))
    features = torch.cat(columns, 1)  # (m, p)
    m, p = features.shape  # transitions, basis columns
    gram = features.T @ features / m + _BASIS_RIDGE * torch.eye(p, dtype=v.dtype, device=v.device)
    coefficients = torch.linalg.solve(gram, features.T @ target / m)  # (p, d_z)
    residual = (target - features @ coefficients).pow(2).mean(0)  # r, (d_z,)
    log_det = torch.linalg.slogdet(map_weight)[1]
    return (
        0.5 * (n_frames - 1) * torch.log(residual).sum()
        + 0.5 * torch.log(v[:, 0].var(0)).sum()
        - n_frames * log_det
    )


def additive_basis_map(
    latents: Tensor, aux: Tensor | None, *, generator: torch.Generator
) -> Tensor:
    """The linear map W under which the transitions are best explained by an additive model.

    The latents are first whitened on their first frame (W starts at that symmetric whitening,
    the nearest decorrelated coordinates to the run's own), then W is searched by Adam on
    :func:`additive_profile_nll` over minibatches of 4,096 transitions for 300 steps, its rows
    renormalised after each step (the objective does not depend on their scale). The W with the
    lowest objective on a fixed evaluation subset (every 50 steps) is returned.

    Args:
        latents: standardised posterior means u, shape ``(n, T, d_z)``, T ≥ 2.
        aux: auxiliary variables, shape ``(n, T, d_a)``, or None.
        generator: draws the minibatches.

    Returns:
        W, shape ``(d_z, d_z)``, applied as W u.
    """
    n, n_frames, d_z = latents.shape
    if n_frames < 2:
        raise ValueError(
            "map_search='additive' searches the coordinates of the transitions z_{t-1} -> z_t and "
            f"needs sequences of at least 2 frames; these have T = {n_frames}."
        )
    first = latents[:, 0] - latents[:, 0].mean(0)
    covariance = first.T @ first / (n - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    whitening = eigenvectors @ torch.diag(eigenvalues.clamp_min(1e-8).rsqrt()) @ eigenvectors.T
    if aux is not None:
        flat = aux.reshape(-1, aux.shape[-1])
        aux = (aux - flat.mean(0)) / flat.std(0).clamp_min(1e-6)
    weight = torch.eye(d_z, dtype=latents.dtype, device=latents.device, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=_SEARCH_LR)
    per_batch = max(1, _SEARCH_BATCH // (n_frames - 1))
    evaluation = torch.arange(min(n, 2 * per_batch), device=latents.device)  # fixed subset

    def nll(idx: Tensor, w: Tensor) -> Tensor:
        return additive_profile_nll(w @ whitening, latents[idx], None if aux is None else aux[idx])

    best, best_value = weight.detach().clone(), float("inf")
    for step in range(_SEARCH_STEPS + 1):
        if step % _SEARCH_EVAL_EVERY == 0:
            with torch.no_grad():
                value = float(nll(evaluation, weight))
            if value < best_value:
                best, best_value = weight.detach().clone(), value
        if step == _SEARCH_STEPS:
            break
        idx = torch.randint(n, (per_batch,), generator=generator, device=latents.device)
        loss = nll(idx, weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            weight /= weight.norm(dim=1, keepdim=True)
    return best @ whitening


@dataclass(frozen=True)
class RealignResult:
    """Outcome of :func:`realign_latents`.

    Attributes:
        matrix: A, shape ``(d_z, d_z)``.
        offset: c, shape ``(d_z,)``.
        loss: ℒ (with the constraint's or penalty's term) averaged over the last 100 steps.
        expected_edges: E|G| of every learned graph at the end, by graph name.
        seconds: wall time of the realignment (encoding included).
    """

    matrix: Tensor
    offset: Tensor
    loss: float
    expected_edges: dict[str, float]
    seconds: float


def realign_latents(
    model: LatentCausalVAE,
    fresh_prior: LatentPrior,
    x: Tensor,
    a: Tensor | None,
    *,
    regularizer: Regularizer,
    budgets: tuple[GraphBudget, ...],
    coef: float,
    steps: int,
    schedule_steps: int,
    batch_size: int,
    lr: float,
    map_lr: float,
    mask_lr: float | None,
    dual_lr: float,
    dual_restarts: bool,
    generator: torch.Generator,
    map_search: str = "joint",
) -> RealignResult:
    """Learn W and a fresh prior on the encoded ``x`` (see the module docstring), then fold
    them into ``model`` (:func:`fold_linear_map`; the model's prior takes the fresh prior's
    state).

    Args:
        model: the trained VAE (changed in place).
        fresh_prior: a newly initialised prior of the same architecture as ``model.prior``.
        x: the observations to encode, shape ``(n, T, d_x)``.
        a: their auxiliary variables, shape ``(n, T, d_a)``, or None.
        regularizer: the run's regime; ``budgets`` the constraint's graphs and bounds, ``coef``
            the penalty's coefficient.
        steps: optimisation steps; ``schedule_steps`` the length of the bound schedule (or of
            the penalty's warm-up).
        batch_size: sequences per minibatch.
        lr: learning rate of the prior's networks; ``map_lr`` that of W; ``mask_lr`` that of the
            edge logits (None: ``lr``); ``dual_lr`` that of the multipliers.
        dual_restarts: reset a multiplier to 0 whenever its constraint holds.
        generator: draws the minibatches (mask noise uses torch's global generator, as the VAE).
        map_search: ``"joint"``: W starts at the identity and is learned with the prior;
            ``"additive"``: W is found first by :func:`additive_basis_map` (sequences only) and
            held fixed while the prior and its graph are fitted.

    Returns:
        The :class:`RealignResult`.
    """
    if map_search not in MAP_SEARCHES:
        raise ValueError(f"unknown map_search {map_search!r}; expected one of {MAP_SEARCHES}")
    start = time.perf_counter()
    means = torch.as_tensor(encode_means(model, x, 8192), device=x.device)  # (n, T, d_z)
    flat = means.reshape(-1, means.shape[-1])
    center, scale = flat.mean(0), flat.std(0).clamp_min(1e-6)
    initial_map = None
    if map_search == "additive":
        aux = None if a is None else a.to(means.dtype)
        initial_map = additive_basis_map((means - center) / scale, aux, generator=generator)
    realignment = LinearRealignment(fresh_prior, center, scale, model.d_x, initial_map).to(x.device)
    problem = SparsityProblem(
        realignment,
        regularizer,
        coef=coef,
        coef_warmup_steps=schedule_steps,
        budgets=budgets,
        schedule_steps=schedule_steps,
        d_x=model.d_x,
        objective=realignment.objective,
    )
    optimizer = build_optimizer(problem, lr=lr, mask_lr=mask_lr, dual_lr=dual_lr, map_lr=map_lr)
    constrained = bool(problem.budgets) and dual_restarts
    n = means.shape[0]
    nonfinite = torch.zeros((), dtype=torch.bool, device=x.device)
    tail = min(steps, _LOSS_TAIL)
    loss = torch.zeros((), device=x.device)
    for step in range(steps):
        idx = torch.randint(n, (batch_size,), generator=generator, device=x.device)
        batch = {"x": means[idx], "a": None if a is None else a[idx], "step": step}
        rollout = optimizer.roll(compute_cmp_state_kwargs=batch)
        if constrained:
            problem.restart_duals(rollout.cmp_state)
        nonfinite |= ~torch.isfinite(rollout.loss.detach())  # checked once at the end
        if step >= steps - tail:
            loss = loss + rollout.loss.detach() / tail
    if bool(nonfinite):
        raise FloatingPointError(
            "the realignment's loss became NaN or infinite; the model was left unchanged."
        )
    matrix, offset = realignment.affine_map()
    if not bool(torch.isfinite(matrix).all()) or abs(float(torch.linalg.det(matrix))) == 0.0:
        raise FloatingPointError("the realignment's map is singular; the model was left unchanged.")
    with torch.no_grad():
        _, variances = model.encode(x[: min(len(x), 8192)])
    fold_linear_map(model, matrix, offset, variances.reshape(-1, model.d_z).mean(0))
    model.prior.load_state_dict(fresh_prior.state_dict())
    expected = {name: float(m.expected_edges().detach()) for name, m in problem.masks().items()}
    seconds = time.perf_counter() - start
    return RealignResult(matrix, offset, float(loss), expected, seconds)


@torch.no_grad()
def fold_linear_map(
    model: LatentCausalVAE, matrix: Tensor, offset: Tensor, variances: Tensor | None = None
) -> None:
    """Re-express ``model``'s latents as z' = A z + c, in place.

    The encoder's mean outputs μ become A μ + c (its last layer, whose outputs interleave
    (mean_i, raw_i)); the decoder's first layer reads z = A⁻¹(z' − c), so the decoded means of
    the encoder's means are unchanged. The posterior of A z is not diagonal, so its variances
    cannot be folded exactly: given the posterior variances of the old latents averaged over
    some data (``variances``, v), latent i's variance output becomes the constant Σ_j A_ij² v_j
    (the diagonal of A diag(v) Aᵀ); training after the fold lets it depend on x again. Without
    ``variances`` the variance outputs are left as they are. The prior is not touched.

    Args:
        model: the VAE.
        matrix: A, shape ``(d_z, d_z)``, invertible.
        offset: c, shape ``(d_z,)``.
        variances: v, shape ``(d_z,)``, or None.
    """
    last = model.encoder.net[-1]
    d_z = model.d_z
    weight = last.weight.view(d_z, 2, -1)  # (d_z, [mean, raw], width): views into the layer
    bias = last.bias.view(d_z, 2)
    weight[:, 0] = matrix @ weight[:, 0]
    bias[:, 0] = matrix @ bias[:, 0] + offset
    if variances is not None:
        target = (matrix**2 @ variances).clamp_min(2 * POSTERIOR_MIN_VARIANCE)
        weight[:, 1] = 0.0
        # softplus⁻¹(target − offset), the raw value whose posterior variance is the target
        bias[:, 1] = torch.log(torch.expm1(target - POSTERIOR_MIN_VARIANCE))
    first = model.decoder.net[0]
    inverse = torch.linalg.inv(matrix)
    first.bias -= first.weight @ (inverse @ offset)
    first.weight.copy_(first.weight @ inverse)
