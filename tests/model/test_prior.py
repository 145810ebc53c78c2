"""Tests for mechsparse.model.prior (the masked per-latent transition model)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from mechsparse.model.prior import LatentPrior


def _body_by_loop(prior, h, k):
    """Network k of ``prior.body`` applied to its first layer's output h, one layer at a time."""
    h = F.leaky_relu(h, 0.2)
    for layer in prior.body.hidden:
        h = h @ layer.weight[k]
        if layer.bias is not None:
            h = h + layer.bias[k, 0]
        h = F.leaky_relu(h, 0.2)
    return h @ prior.body.output.weight[k] + prior.body.output.bias[k, 0]


def _prior(**kwargs) -> LatentPrior:
    defaults = {"d_a": 3, "n_lags": 1, "width": 8, "depth": 3, "hidden_bias": False}
    return LatentPrior(4, **{**defaults, **kwargs})


def _loop_transition(prior, z_prev, a, mask_z, mask_a):
    """Per example and per latent, with explicit matrix-vector products (the slow reference)."""
    batch = (z_prev if z_prev is not None else a).shape[0]
    means = torch.empty(batch, prior.d_z)
    raws = torch.empty(batch, prior.d_z)
    for b in range(batch):
        for i in range(prior.d_z):
            h = prior.input_bias[i, 0].clone()
            if z_prev is not None:
                h = h + (mask_z[b, i] * z_prev[b]) @ prior.weight_z.weight[i]
            if a is not None and prior.weight_a is not None:
                h = h + (mask_a[b, i] * a[b]) @ prior.weight_a.weight[i]
            out = _body_by_loop(prior, h, i)
            if prior.regime_shift is not None:
                out = out + (mask_a[b, i] * a[b]) @ prior.regime_shift[i]
            means[b, i] = out[0]
            raws[b, i] = out[-1]
    return means, raws


@pytest.mark.parametrize("hidden_bias", [False, True])
@pytest.mark.parametrize("noise", ["batch", "example"])
def test_transition_equals_a_loop_over_latents_and_examples(hidden_bias, noise):
    torch.manual_seed(0)
    prior = _prior(hidden_bias=hidden_bias, mask_noise=noise, variance="parents")
    with torch.no_grad():  # non-zero first-layer bias so that it is exercised
        prior.input_bias.normal_()
    z_prev, a = torch.randn(5, 4), torch.randn(5, 3)
    mask_z, mask_a = prior.sample_masks(5)
    mean, variance = prior.transition(z_prev, a, mask_z, mask_a)
    want_mean, want_raw = _loop_transition(prior, z_prev, a, mask_z, mask_a)
    torch.testing.assert_close(mean, want_mean, atol=1e-6, rtol=1e-6)
    want_var = F.softplus(want_raw + math.log(math.expm1(1e-4))) + 1e-6
    torch.testing.assert_close(variance, want_var, atol=1e-9, rtol=1e-5)


@pytest.mark.parametrize("n_lags", [0, 1])
def test_regime_shift_equals_a_loop_and_a_masked_regime_has_no_effect(n_lags):
    torch.manual_seed(2)
    prior = _prior(d_a=5, n_lags=n_lags, variance="parents", regime_effect="shift")
    assert prior.weight_a is None and prior.regime_shift.shape == (4, 5, 2)
    with torch.no_grad():
        prior.regime_shift.normal_()
    z_prev = torch.randn(6, 4) if n_lags else None
    a = F.one_hot(torch.tensor([0, 1, 2, 3, 4, 1]), 5).float()  # one-hot regimes
    mask_z, mask_a = prior.sample_masks(6)
    mask_z = mask_z if n_lags else None
    mean, variance = prior.transition(z_prev, a, mask_z, mask_a)
    want_mean, want_raw = _loop_transition(prior, z_prev, a, mask_z, mask_a)
    torch.testing.assert_close(mean, want_mean, atol=1e-6, rtol=1e-6)
    want_var = F.softplus(want_raw + math.log(math.expm1(1e-4))) + 1e-6
    torch.testing.assert_close(variance, want_var, atol=1e-9, rtol=1e-5)
    # the shift is linear in the mask value: edge (i, r) at m moves latent i by m Δ_ir, and a
    # regime outside latent i's parents (m = 0) leaves it where regime "none" would
    graph = torch.ones(4, 5)
    graph[0, 1] = 0.0
    graph[2, 3] = 0.5
    mean, _ = prior.transition(z_prev, a, mask_z, graph)
    base, _ = prior.transition(z_prev, torch.zeros_like(a), mask_z, graph)
    shift = mean - base
    torch.testing.assert_close(shift[1, 0], torch.tensor(0.0))
    torch.testing.assert_close(shift[3, 2], 0.5 * prior.regime_shift[2, 3, 0])
    torch.testing.assert_close(shift[1, 1], prior.regime_shift[1, 1, 0])


def test_unknown_regime_effect_is_refused():
    with pytest.raises(ValueError, match="regime_effect"):
        _prior(regime_effect="add")


def test_action_only_prior_equals_loop():
    torch.manual_seed(1)
    prior = _prior(n_lags=0)
    assert prior.mask_z is None and prior.weight_z is None
    a = torch.randn(6, 3)
    _, mask_a = prior.sample_masks(6)
    mean, variance = prior.transition(None, a, None, mask_a)
    want_mean, _ = _loop_transition(prior, None, a, None, mask_a)
    torch.testing.assert_close(mean, want_mean, atol=1e-6, rtol=1e-6)
    assert variance.shape == (6, 4)


def test_masked_out_parent_has_no_influence():
    torch.manual_seed(2)
    prior = _prior()
    z_prev = torch.randn(5, 4, requires_grad=True)
    a = torch.randn(5, 3, requires_grad=True)
    mask_z, mask_a = torch.ones(4, 4), torch.ones(4, 3)
    mask_z[2, 1] = 0.0  # z_{t-1,1} -> z_{t,2} removed
    mask_a[2, 0] = 0.0  # a_0 -> z_2 removed
    mean, _ = prior.transition(z_prev, a, mask_z, mask_a)
    mean[:, 2].sum().backward()
    assert torch.count_nonzero(z_prev.grad[:, 1]) == 0
    assert torch.count_nonzero(a.grad[:, 0]) == 0
    assert (z_prev.grad[:, [0, 2, 3]].abs() > 0).all()
    assert (a.grad[:, 1:].abs() > 0).all()


def test_two_dimensional_mask_broadcasts_over_the_batch():
    torch.manual_seed(3)
    prior = _prior()
    z_prev, a = torch.randn(5, 4), torch.randn(5, 3)
    graph_z = (torch.rand(4, 4) > 0.5).float()
    graph_a = (torch.rand(4, 3) > 0.5).float()
    mean_2d, _ = prior.transition(z_prev, a, graph_z, graph_a)
    mean_3d, _ = prior.transition(z_prev, a, graph_z.expand(5, 4, 4), graph_a.expand(5, 4, 3))
    torch.testing.assert_close(mean_2d, mean_3d)


def test_initial_values_match_the_reference():
    prior = _prior()
    _, variance = prior.transition(torch.randn(3, 4), torch.randn(3, 3), *prior.sample_masks(3))
    assert variance.shape == (3, 4)
    torch.testing.assert_close(variance, torch.full((3, 4), 1.01e-4), atol=1e-10, rtol=1e-5)
    assert prior.transition_raw_variance.detach().numpy() == pytest.approx(-9.2103, abs=1e-4)
    init_mean, init_var = prior.initial()
    assert torch.equal(init_mean, torch.zeros(4))
    torch.testing.assert_close(init_var, torch.full((4,), 1 + 1e-6), atol=1e-7, rtol=0)
    assert prior.mask_z.expected_edges().item() == pytest.approx(16 * 0.993307, abs=1e-4)


def test_parents_variance_varies_per_example_and_has_no_constant_parameter():
    torch.manual_seed(4)
    prior = _prior(variance="parents")
    assert not hasattr(prior, "transition_raw_variance")
    assert "variance_shift" in dict(prior.named_buffers())
    _, variance = prior.transition(torch.randn(6, 4), torch.randn(6, 3), *prior.sample_masks(6))
    assert variance.shape == (6, 4)
    assert (variance.std(dim=0) > 0).all()
    assert (variance > 1e-6).all()
    assert prior.body.output.out_features == 2
    assert _prior().body.output.out_features == 1


def test_frozen_graphs_are_not_parameters():
    prior = _prior(learn_graph_z=False, learn_graph_a=False)
    names = {name for name, _ in prior.named_parameters()}
    assert not any(name.startswith("mask_") for name in names)
    mask_z, mask_a = prior.sample_masks(2)
    assert torch.equal(mask_z, torch.ones(2, 4, 4)) and torch.equal(mask_a, torch.ones(2, 4, 3))
    learned = {name for name, _ in _prior().named_parameters()}
    assert {"mask_z.logits", "mask_a.logits"} <= learned


def test_depth_counts_the_first_masked_layer():
    prior = _prior(depth=5, width=16)
    assert len(prior.body.hidden) == 4
    assert _prior(depth=1).body.hidden.__len__() == 0


def test_initial_requires_a_temporal_prior():
    with pytest.raises(ValueError, match="n_lags"):
        _prior(n_lags=0).initial()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_lags": 2}, "n_lags"),
        ({"n_lags": 0, "d_a": 0}, "needs parents"),
        ({"depth": 0}, "depth"),
        ({"variance": "dependent"}, "variance"),
        ({"mask_noise": "global"}, "noise"),
    ],
)
def test_invalid_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _prior(**kwargs)


def test_invalid_transition_inputs():
    prior = _prior()
    z_prev, a = torch.randn(5, 4), torch.randn(5, 3)
    mask_z, mask_a = prior.sample_masks(5)
    with pytest.raises(ValueError, match="z_prev"):
        prior.transition(None, a, mask_z, mask_a)
    with pytest.raises(ValueError, match="z_prev"):
        prior.transition(torch.randn(5, 3), a, mask_z, mask_a)
    with pytest.raises(ValueError, match="a must have shape"):
        prior.transition(z_prev, torch.randn(4, 3), mask_z, mask_a)
    with pytest.raises(ValueError, match="mask_z is required"):
        prior.transition(z_prev, a, None, mask_a)
    with pytest.raises(ValueError, match="mask_a"):
        prior.transition(z_prev, a, mask_z, torch.ones(5, 4, 4))
    with pytest.raises(ValueError, match="batch size 1 or 5"):
        prior.transition(z_prev, a, torch.ones(3, 4, 4), mask_a)
    action_prior = _prior(n_lags=0)
    with pytest.raises(ValueError, match="z_prev must be None"):
        action_prior.transition(z_prev, a, None, mask_a)
    with pytest.raises(ValueError, match="a must be None"):
        _prior(d_a=0).transition(z_prev, a, mask_z, None)


def test_residual_identity_is_gated_by_the_learned_self_edge():
    torch.manual_seed(4)
    prior = _prior(d_a=0, residual=True)
    plain = _prior(d_a=0)
    plain.load_state_dict(prior.state_dict())
    with torch.no_grad():
        prior.mask_z.logits[1, 1] = -8.0  # the self-edge of z_1 is absent from G^z
    z_prev = torch.randn(6, 4)
    mask_z, _ = prior.sample_masks(6)
    mean, _ = prior.transition(z_prev, None, mask_z, None)
    base, _ = plain.transition(z_prev, None, mask_z, None)
    gate = torch.tensor([1.0, 0.0, 1.0, 1.0])
    torch.testing.assert_close(mean, base + gate * z_prev)
    # the gate is deterministic and passes the gradient of σ(α_ii) to the self-edge logits
    mean[:, 0].sum().backward()
    assert prior.mask_z.logits.grad[0, 0] != 0


def test_residual_follows_a_fixed_graph():
    torch.manual_seed(5)
    prior = _prior(d_a=0, residual=True)
    z_prev = torch.randn(5, 4, requires_grad=True)
    graph_z = torch.ones(4, 4)
    graph_z[2, 2] = 0.0  # no self-edge for z_2: z_{t-1,2} must not reach z_{t,2}
    mean, _ = prior.transition(z_prev, None, graph_z, None)
    mean[:, 2].sum().backward()
    assert torch.count_nonzero(z_prev.grad[:, 2]) == 0


def _loop_additive(prior, z_prev, a, mask_z, mask_a):
    """c_i + Σ_j M_ij f_ij(u_j), one scalar network at a time (the slow reference)."""
    parents, masks = [], []
    if z_prev is not None:
        parents.append(z_prev)
        masks.append(mask_z)
    if a is not None and prior.regime_shift is None:
        parents.append(a)
        masks.append(mask_a)
    batch = (z_prev if z_prev is not None else a).shape[0]
    u = torch.cat(parents, dim=1) if parents else torch.zeros(batch, 0)
    m = torch.cat(masks, dim=2) if masks else None
    n_inputs = u.shape[1]
    out = prior.term_bias[:, 0].expand(batch, prior.d_z, prior.n_outputs).clone()
    for i in range(prior.d_z):
        for j in range(n_inputs):
            k = i * n_inputs + j
            h = u[:, j : j + 1] @ prior.term_first.weight[k] + prior.term_first.bias[k, 0]
            term = _body_by_loop(prior, h, k)
            out[:, i] += m[:, i, j : j + 1] * term
    if prior.regime_shift is not None:
        out = out + torch.einsum("bir,iro->bio", mask_a * a[:, None, :], prior.regime_shift)
    return out[..., 0], out[..., -1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # lagged latents and actions as inputs
        {"n_lags": 0},  # actions only
        {"d_a": 0},  # temporal only
        {"regime_effect": "shift"},  # lagged latents as inputs, regimes as shifts
        {"n_lags": 0, "regime_effect": "shift"},  # no input parents: c_i plus the shifts
        {"hidden_bias": True, "depth": 2},
    ],
)
def test_additive_mechanism_equals_a_sum_of_one_parent_networks(kwargs):
    torch.manual_seed(4)
    prior = _prior(mechanism="additive", variance="parents", **kwargs)
    assert prior.weight_z is None and prior.weight_a is None and prior.input_bias is None
    with torch.no_grad():
        prior.term_bias.normal_()
        if prior.regime_shift is not None:
            prior.regime_shift.normal_()
    z_prev = torch.randn(5, 4) if prior.n_lags else None
    a = F.one_hot(torch.tensor([0, 1, 2, 1, 0]), 3).float() if prior.d_a else None
    mask_z, mask_a = prior.sample_masks(5)
    mean, variance = prior.transition(z_prev, a, mask_z, mask_a)
    want_mean, want_raw = _loop_additive(prior, z_prev, a, mask_z, mask_a)
    torch.testing.assert_close(mean, want_mean, atol=1e-5, rtol=1e-5)
    want_var = F.softplus(want_raw + math.log(math.expm1(1e-4))) + 1e-6
    torch.testing.assert_close(variance, want_var, atol=1e-9, rtol=1e-5)


def test_additive_mechanism_removes_a_masked_edge_and_broadcasts_a_fixed_graph():
    torch.manual_seed(5)
    prior = _prior(mechanism="additive")
    z_prev = torch.randn(5, 4, requires_grad=True)
    a = torch.randn(5, 3, requires_grad=True)
    mask_z, mask_a = torch.ones(4, 4), torch.ones(4, 3)
    mask_z[2, 1] = 0.0
    mask_a[2, 0] = 0.0
    mean, _ = prior.transition(z_prev, a, mask_z, mask_a)
    mean[:, 2].sum().backward()
    assert torch.count_nonzero(z_prev.grad[:, 1]) == 0
    assert torch.count_nonzero(a.grad[:, 0]) == 0
    assert (z_prev.grad[:, [0, 2, 3]].abs() > 0).all() and (a.grad[:, 1:].abs() > 0).all()
    # a (d_z, parents) graph is the same as that graph repeated for every example, and a
    # shared (1, d_z, d_a) mask mixes with a per-example (B, d_z, d_z) one
    mean_3d, _ = prior.transition(z_prev, a, mask_z.expand(5, 4, 4), mask_a[None])
    torch.testing.assert_close(mean, mean_3d)


def test_unknown_mechanism_is_refused():
    with pytest.raises(ValueError, match="mechanism"):
        _prior(mechanism="linear")
