"""Tests for mechsparse.model.networks (MLP, ParallelLinear, ParallelMLP)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from mechsparse.model.networks import MLP, ParallelLinear, ParallelMLP


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_mlp_reference_sizes_and_structure():
    # REFERENCE_SPEC §2.2: encoder 20 -> 6 x 512 -> 20 and decoder 10 -> 6 x 512 -> 20
    assert _count(MLP(20, 20, width=512, depth=6)) == 1_334_292
    assert _count(MLP(10, 20, width=512, depth=6)) == 1_329_172
    mlp = MLP(3, 2, width=4, depth=2)
    kinds = [type(m) for m in mlp.net]
    assert kinds == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear]
    assert all(m.negative_slope == 0.2 for m in mlp.net if isinstance(m, nn.LeakyReLU))
    assert all(m.bias is not None for m in mlp.net if isinstance(m, nn.Linear))


def test_mlp_depth_zero_is_linear_and_keeps_leading_axes():
    mlp = MLP(3, 2, width=8, depth=0)
    assert len(mlp.net) == 1
    x = torch.randn(5, 4, 3)
    assert mlp(x).shape == (5, 4, 2)


def test_parallel_linear_initialisation_bounds():
    torch.manual_seed(0)
    layer = ParallelLinear(4, 64, 32, bias=True)
    bound = 1 / math.sqrt(64)
    assert layer.weight.shape == (4, 64, 32) and layer.bias.shape == (4, 1, 32)
    assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
    # U(±b) has standard deviation b/√3 (here 8192 draws: relative error ~1 %)
    assert layer.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert ParallelLinear(2, 3, 4, bias=False).bias is None


def _loop_reference(model: ParallelMLP, h: torch.Tensor) -> torch.Tensor:
    """The same computation, one network and one layer at a time with F.linear."""
    outputs = []
    for k in range(model.n_nets):
        out = h[k]
        layers = [*model.hidden, model.output]
        for depth, layer in enumerate(layers):
            bias = None if layer.bias is None else layer.bias[k, 0]
            out = F.linear(out, layer.weight[k].T, bias)
            if depth < len(layers) - 1:
                out = F.leaky_relu(out, 0.2)
        outputs.append(out)
    return torch.stack(outputs)


@pytest.mark.parametrize("hidden_bias", [False, True])
@pytest.mark.parametrize("hidden_widths", [(), (6,), (6, 5)])
def test_parallel_mlp_equals_a_loop_over_networks(hidden_bias, hidden_widths):
    torch.manual_seed(1)
    model = ParallelMLP(3, 4, hidden_widths, 2, hidden_bias=hidden_bias)
    h = torch.randn(3, 7, 4)
    out = model(h)
    assert out.shape == (3, 7, 2)
    torch.testing.assert_close(out, _loop_reference(model, h), atol=1e-6, rtol=1e-6)
    assert all((layer.bias is not None) == hidden_bias for layer in model.hidden)
    assert model.output.bias is not None


def test_parallel_mlp_networks_are_independent():
    torch.manual_seed(2)
    model = ParallelMLP(3, 4, (5,), 1, hidden_bias=False)
    h = torch.randn(3, 6, 4, requires_grad=True)
    model(h)[1].sum().backward()
    assert h.grad[1].abs().sum() > 0
    assert torch.count_nonzero(h.grad[0]) == 0 and torch.count_nonzero(h.grad[2]) == 0


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError, match="depth"):
        MLP(3, 2, width=4, depth=-1)
    with pytest.raises(ValueError, match="n_nets"):
        ParallelMLP(0, 4, (4,), 1, hidden_bias=False)
    with pytest.raises(ValueError, match="hidden_widths"):
        ParallelMLP(2, 4, (0,), 1, hidden_bias=False)
