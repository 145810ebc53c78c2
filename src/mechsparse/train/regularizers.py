"""Sparsity regularisation of the learned graphs as a cooper constrained problem.

The three regimes of REFERENCE_SPEC §3.1 are one :class:`SparsityProblem` whose
:meth:`~SparsityProblem.compute_cmp_state` returns the per-dimension negative ELBO as the loss
and, depending on the regime:

* ``none``: nothing else (the masks are frozen fully connected by the model);
* ``penalty``: the loss gains ``β · c(t) · E|G| / d_x`` for every learned graph (β weighs the
  KL term, 1 in the reference); the coefficient c(t) rises linearly from 0 to ``coef`` over
  ``coef_warmup_steps`` steps (:func:`penalty_coefficient`; 0 steps, the reference's penalty
  exactly);
* ``constraint``: one inequality constraint ``E|G| − k(t) ≤ 0`` per learned graph (G^z and G^a
  separately), each with its own cooper ``DenseMultiplier`` λ.

The constraint is solved as a Lagrangian with simultaneous updates (cooper's
``SimultaneousOptimizer``): the primal Adam step on ∇θ[ℒ + λ·g] with λ held fixed, and the dual
step λ ← max(0, λ + η_dual · g) by SGD with ``maximize=True``. The multiplier starts at 0.
*Dual restarts* (used in every run of the paper; cooper 1.x no longer offers them) reset λ to 0
whenever its constraint is satisfied (g < 0) after the dual step. ``E|G| = Σ σ(α)`` is measured
in raw edge counts, so λ·g is not divided by d_x, exactly as in the reference.

The bound follows :func:`linear_bound`: from the maximum number of edges down to k over
``schedule_steps`` steps, then constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import cooper
import torch
from torch import Tensor

__all__ = [
    "GraphBudget",
    "MethodProblem",
    "Regularizer",
    "SparsityProblem",
    "build_optimizer",
    "linear_bound",
    "penalty_coefficient",
]


class Regularizer(Enum):
    """The sparsity regime (strings at the edges, this enum inside)."""

    NONE = "none"
    PENALTY = "penalty"
    CONSTRAINT = "constraint"


def linear_bound(step: int, max_edges: float, k: float, schedule_steps: int) -> float:
    """The bound k(t) used at optimisation step ``step`` (0-based).

    k(t) = max − (max − k) · min(t / S, 1): the maximum at the first step, k from step S on
    (REFERENCE_SPEC §3.4 with P = 0; with max = 100, k = 20, S = 150,000: k(75,000) = 60).
    ``schedule_steps = 0`` gives k from the first step.
    """
    if schedule_steps <= 0:
        return float(k)
    frac = min(max(step, 0) / schedule_steps, 1.0)
    return float(max_edges - (max_edges - k) * frac)


def penalty_coefficient(step: int, coef: float, warmup_steps: int) -> float:
    """The penalty coefficient c(t) used at optimisation step ``step`` (0-based).

    c(t) = c · min(t / W, 1): 0 at the first step, c from step W on; ``warmup_steps = 0`` gives c
    from the first step, as in the reference. The penalty's counterpart of the constraint's
    bound schedule (:func:`linear_bound`): edges are priced only once the representation
    has formed, so a fixed price does not cut edges whose worth the model cannot yet see.
    """
    if warmup_steps <= 0:
        return float(coef)
    return float(coef * min(max(step, 0) / warmup_steps, 1.0))


@dataclass(frozen=True)
class GraphBudget:
    """The constraint on one learned graph.

    Attributes:
        name: ``graph_z`` or ``graph_a``.
        max_edges: number of possible edges (d_z·d_z or d_z·d_a).
        k: target bound on the expected number of edges, 0 ≤ k ≤ max_edges.
    """

    name: str
    max_edges: int
    k: int

    def __post_init__(self) -> None:
        if not 0 <= self.k <= self.max_edges:
            raise ValueError(
                f"the edge bound for {self.name} must be between 0 and {self.max_edges} "
                f"(the number of possible edges); got {self.k}."
            )


class SparsityProblem(cooper.ConstrainedMinimizationProblem):
    """min_θ −ELBO(θ)/(T·d_x)  [+ penalty]  s.t.  E|G^z| ≤ k_z(t),  E|G^a| ≤ k_a(t).

    Args:
        model: a ``LatentCausalVAE``; its prior's ``mask_z`` / ``mask_a`` are the graphs.
        regularizer: the regime.
        coef: penalty coefficient c (``penalty`` only).
        coef_warmup_steps: length W of the penalty coefficient's linear warm-up.
        budgets: one :class:`GraphBudget` per constrained graph (``constraint`` only).
        schedule_steps: length S of the linear bound schedule.
        d_x: observation dimension (the penalty is divided by it, as in the reference).
        objective: the data term, ``(x, a) -> (loss, terms)``; None uses the model's negative
            ELBO per dimension (``terms``: its reconstruction and KL parts). The latent
            realignment (:mod:`mechsparse.train.realign`) passes its own.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        regularizer: Regularizer,
        *,
        coef: float = 0.0,
        coef_warmup_steps: int = 0,
        budgets: tuple[GraphBudget, ...] = (),
        schedule_steps: int = 0,
        d_x: int,
        objective: Callable[[Tensor, Tensor | None], tuple[Tensor, dict[str, Tensor]]]
        | None = None,
    ) -> None:
        super().__init__()
        if regularizer is Regularizer.CONSTRAINT and not budgets:
            raise ValueError("the constraint regulariser needs at least one graph to constrain.")
        if regularizer is Regularizer.PENALTY and coef <= 0:
            raise ValueError(f"the penalty regulariser needs a coefficient > 0; got {coef}.")
        self.model = model
        self.regularizer = regularizer
        self.coef = float(coef)
        self.coef_warmup_steps = int(coef_warmup_steps)
        self.budgets = budgets if regularizer is Regularizer.CONSTRAINT else ()
        self.schedule_steps = int(schedule_steps)
        self.d_x = int(d_x)
        self.objective = self._negative_elbo if objective is None else objective
        device = next(model.parameters()).device
        for budget in self.budgets:
            setattr(
                self,
                budget.name,
                cooper.Constraint(
                    constraint_type=cooper.ConstraintType.INEQUALITY,
                    formulation_type=cooper.formulations.Lagrangian,
                    multiplier=cooper.multipliers.DenseMultiplier(num_constraints=1, device=device),
                ),
            )

    def masks(self) -> dict[str, torch.nn.Module]:
        """The learnable masks of the model by graph name."""
        prior = self.model.prior
        out = {}
        for name, mask in (("graph_z", prior.mask_z), ("graph_a", prior.mask_a)):
            if mask is not None and mask.learnable:
                out[name] = mask
        return out

    def bounds(self, step: int) -> dict[str, float]:
        """The current bound k(t) of every constrained graph."""
        return {
            b.name: linear_bound(step, b.max_edges, b.k, self.schedule_steps) for b in self.budgets
        }

    def compute_cmp_state(
        self, x: Tensor, a: Tensor | None, step: int, z: Tensor | None = None
    ) -> cooper.CMPState:
        """Loss and constraint violations on one minibatch (``z`` is never used).

        Args:
            x: (B, T, d_x) observations.
            a: (B, T, d_a) auxiliary variables or None.
            step: the optimisation step (sets the bound of the schedule).
        """
        loss, terms = self.objective(x, a)
        expected = {name: mask.expected_edges() for name, mask in self.masks().items()}
        coef = None
        if self.regularizer is Regularizer.PENALTY:
            # a price per edge in the KL's units (a log-prior on the graph): weighted by β with it
            coef = penalty_coefficient(step, self.coef, self.coef_warmup_steps)
            loss = loss + self.model.beta * sum(coef * e / self.d_x for e in expected.values())
        observed = {}
        bounds = self.bounds(step)
        for budget in self.budgets:
            violation = (expected[budget.name] - bounds[budget.name]).reshape(1)
            observed[getattr(self, budget.name)] = cooper.ConstraintState(violation=violation)
        misc = {
            "terms": terms,
            "expected_edges": {k: v.detach() for k, v in expected.items()},
            "bounds": bounds,
            "penalty_coef": coef,
        }
        return cooper.CMPState(loss=loss, observed_constraints=observed, misc=misc)

    def _negative_elbo(self, x: Tensor, a: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
        """Mean negative ELBO per dimension and its (detached) reconstruction and KL parts."""
        terms = self.model.elbo_terms(x, a)
        parts = {
            "reconstruction": terms.reconstruction.mean().detach(),
            "kl": terms.kl.mean().detach(),
        }
        return terms.negative_elbo.mean(), parts

    @torch.no_grad()
    def restart_duals(self, cmp_state: cooper.CMPState) -> None:
        """Dual restarts: λ ← 0 for every constraint that holds (g < 0) at this step."""
        for constraint, state in cmp_state.observed_constraints.items():
            if bool((state.violation < 0).all()):
                constraint.multiplier.weight.zero_()

    def multiplier_values(self) -> dict[str, float]:
        """Current λ per constrained graph."""
        return {b.name: float(getattr(self, b.name).multiplier.weight.item()) for b in self.budgets}


class MethodProblem(cooper.ConstrainedMinimizationProblem):
    """The unconstrained problem min_θ mean loss of a baseline method (no graphs, no λ).

    Args:
        model: a baseline of :mod:`mechsparse.baselines` (``loss_terms`` returns per-example
            terms whose ``loss`` is minimised).
    """

    regularizer = Regularizer.NONE
    budgets: tuple[GraphBudget, ...] = ()

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def masks(self) -> dict[str, torch.nn.Module]:
        return {}

    def compute_cmp_state(
        self, x: Tensor, a: Tensor | None, step: int, z: Tensor | None = None
    ) -> cooper.CMPState:
        """The method's loss on one minibatch; ``z`` only for methods supervised by the truth."""
        terms = self.model.loss_terms(x, a, z)
        misc = {
            "terms": {k: v.mean().detach() for k, v in terms.items() if k != "loss"},
            "expected_edges": {},
            "bounds": {},
            "penalty_coef": None,
        }
        return cooper.CMPState(loss=terms["loss"].mean(), misc=misc)

    def multiplier_values(self) -> dict[str, float]:
        return {}


def build_optimizer(
    problem: SparsityProblem | MethodProblem,
    *,
    lr: float,
    mask_lr: float | None,
    dual_lr: float,
    decoder_var_lr: float | None = None,
    map_lr: float | None = None,
) -> cooper.optim.CooperOptimizer:
    """The primal Adam and, for the constraint, the dual SGD with ``maximize=True``, wrapped in
    cooper's simultaneous optimizer.

    The edge logits α, the decoder log-variance ℓ and the linear map W of a latent realignment
    (when it is learned, not held fixed) get their own parameter groups so that their learning rates can differ from the networks'
    (None: the same as ``lr``).
    """
    model = problem.model
    mask_params = [p for mask in problem.masks().values() for p in mask.parameters()]
    var_params = [model.decoder_logvar] if hasattr(model, "decoder_logvar") else []
    map_weight = getattr(model, "map_weight", None)
    map_params = [map_weight] if map_weight is not None and map_weight.requires_grad else []
    special = {id(p) for p in mask_params + var_params + map_params}
    other = [p for p in model.parameters() if p.requires_grad and id(p) not in special]
    groups = [{"params": other, "lr": lr}]
    if var_params:
        groups.append(
            {"params": var_params, "lr": lr if decoder_var_lr is None else decoder_var_lr}
        )
    if mask_params:
        groups.append({"params": mask_params, "lr": lr if mask_lr is None else mask_lr})
    if map_params:
        groups.append({"params": map_params, "lr": lr if map_lr is None else map_lr})
    primal = torch.optim.Adam(groups)
    if problem.regularizer is Regularizer.CONSTRAINT:
        # One multiplier per budget, in budget order (cooper's dual_parameters() is unordered).
        duals = [getattr(problem, b.name).multiplier.weight for b in problem.budgets]
        dual = torch.optim.SGD(duals, lr=dual_lr, maximize=True)
        return cooper.optim.SimultaneousOptimizer(
            problem, primal_optimizers=primal, dual_optimizers=dual
        )
    return cooper.optim.UnconstrainedOptimizer(problem, primal_optimizers=primal)
