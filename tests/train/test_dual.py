"""Dual update and restart semantics of the constraint (REFERENCE_SPEC §3.3, Appendix B)."""

import pytest
import torch

from mechsparse.train import preset
from mechsparse.train.loop import build_model
from mechsparse.train.regularizers import GraphBudget, Regularizer, SparsityProblem, build_optimizer


def make(regularizer=Regularizer.CONSTRAINT, k=10, dual_lr=0.5, coef=0.0, coef_warmup=0):
    torch.manual_seed(0)
    config = preset("fast").updated(
        {"model.encoder_width": 16, "model.decoder_width": 16, "model.prior_width": 8}
    )
    model = build_model(config, d_x=6, d_z=4, d_a=3, n_lags=0, learn_z=False, learn_a=True)
    budgets = (
        (GraphBudget("graph_a", max_edges=12, k=k),)
        if regularizer is Regularizer.CONSTRAINT
        else ()
    )
    problem = SparsityProblem(
        model,
        regularizer,
        coef=coef,
        coef_warmup_steps=coef_warmup,
        budgets=budgets,
        schedule_steps=0,
        d_x=6,
    )
    opt = build_optimizer(problem, lr=1e-3, mask_lr=1e-2, dual_lr=dual_lr)
    x, a = torch.randn(32, 1, 6), torch.rand(32, 1, 3) * 4 - 2
    return model, problem, opt, x, a


def roll(problem, opt, x, a, restarts=True):
    out = opt.roll(compute_cmp_state_kwargs={"x": x, "a": a, "step": 0})
    if restarts:
        problem.restart_duals(out.cmp_state)
    return out


def test_multiplier_starts_at_zero_and_ascends_by_dual_lr_times_violation():
    model, problem, opt, x, a = make(dual_lr=0.5)
    assert problem.multiplier_values() == {"graph_a": 0.0}
    expected = float(model.prior.mask_a.expected_edges().detach())  # 12 · σ(3) before the step
    out = roll(problem, opt, x, a)
    violation = float(next(iter(out.cmp_state.observed_constraints.values())).violation.detach())
    assert violation == pytest.approx(expected - 10, rel=1e-6)
    assert problem.multiplier_values()["graph_a"] == pytest.approx(0.5 * violation, rel=1e-6)


def test_dual_lr_is_really_used():
    _, p1, o1, x, a = make(dual_lr=0.5)
    _, p2, o2, _, _ = make(dual_lr=0.05)
    roll(p1, o1, x, a)
    roll(p2, o2, x, a)
    assert p1.multiplier_values()["graph_a"] == pytest.approx(
        10 * p2.multiplier_values()["graph_a"], rel=1e-5
    )


@pytest.mark.parametrize("restarts", [True, False])
def test_dual_restart_resets_multiplier_when_constraint_holds(restarts):
    model, problem, opt, x, a = make(dual_lr=0.5)
    roll(problem, opt, x, a)
    lam = problem.multiplier_values()["graph_a"]
    assert lam > 0
    with torch.no_grad():
        model.prior.mask_a.logits.fill_(-8.0)  # E|G| ≈ 0 < k: the constraint holds
    out = roll(problem, opt, x, a, restarts=restarts)
    violation = float(next(iter(out.cmp_state.observed_constraints.values())).violation.detach())
    assert violation < 0
    if restarts:
        assert problem.multiplier_values()["graph_a"] == 0.0
    else:  # projected ascent only: λ ← max(0, λ + η g)
        assert problem.multiplier_values()["graph_a"] == pytest.approx(
            max(0.0, lam + 0.5 * violation), rel=1e-5
        )


def test_multiplier_enters_the_primal_gradient():
    # With a large λ the gradient of λ·E|G| dominates: every logit goes down in the primal step.
    model, problem, opt, x, a = make(dual_lr=0.5)
    problem.graph_a.multiplier.weight.data.fill_(1e4)
    before = model.prior.mask_a.logits.detach().clone()
    roll(problem, opt, x, a)
    assert (model.prior.mask_a.logits.detach() < before).all()


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_penalty_adds_beta_coef_times_expected_edges_over_dx(beta):
    model, problem, _, x, a = make(regularizer=Regularizer.PENALTY, coef=2.0)
    model.beta = beta  # the fast preset's β on these T = 1 data is 0.5; 1 is the reference's
    torch.manual_seed(1)
    with_penalty = problem.compute_cmp_state(x, a, step=0).loss
    torch.manual_seed(1)
    terms = model.elbo_terms(x, a)
    e = model.prior.mask_a.expected_edges()
    expected = (terms.reconstruction.mean() + beta * (terms.kl.mean() + 2.0 * e / 6)).detach()
    assert float(with_penalty.detach()) == pytest.approx(float(expected), rel=1e-6)


def test_penalty_warm_up_scales_the_price_per_edge_and_is_logged():
    model, problem, _, x, a = make(regularizer=Regularizer.PENALTY, coef=2.0, coef_warmup=100)
    e = float(model.prior.mask_a.expected_edges().detach())
    losses, logged = [], []
    for step in (0, 25, 100, 400):
        torch.manual_seed(1)
        state = problem.compute_cmp_state(x, a, step=step)
        losses.append(float(state.loss.detach()))
        logged.append(state.misc["penalty_coef"])
    assert logged == [0.0, 0.5, 2.0, 2.0]
    # the same minibatch and noise: the loss differs only by β · c(t) · E|G| / d_x
    price = model.beta * e / 6
    assert losses[1] - losses[0] == pytest.approx(0.5 * price, abs=1e-3)  # float32 losses
    assert losses[2] - losses[0] == pytest.approx(2.0 * price, abs=1e-3)
    assert losses[3] == pytest.approx(losses[2], rel=1e-6)
