"""Tests for mechsparse.model.masks (Gumbel-sigmoid edge masks)."""

from __future__ import annotations

import math

import pytest
import torch

from mechsparse.model.masks import GumbelSigmoidMask


def test_initial_probabilities_and_expected_edges():
    square = GumbelSigmoidMask(10, 10)
    wide = GumbelSigmoidMask(10, 5)
    assert square.probabilities().shape == (10, 10)
    torch.testing.assert_close(
        square.probabilities(), torch.full((10, 10), 0.99331), atol=1e-5, rtol=0
    )
    assert square.expected_edges().item() == pytest.approx(99.33, abs=5e-3)
    assert wide.expected_edges().item() == pytest.approx(49.67, abs=5e-3)
    assert square.n_possible_edges == 100 and wide.n_possible_edges == 50
    assert torch.equal(square.graph(), torch.ones(10, 10, dtype=torch.int64))


def test_expected_edges_is_differentiable():
    mask = GumbelSigmoidMask(3, 4, init_logit=0.0)
    mask.expected_edges().backward()
    # d/dα σ(α) = σ(α)(1 − σ(α)) = 0.25 at α = 0
    torch.testing.assert_close(mask.logits.grad, torch.full((3, 4), 0.25))


def test_graph_thresholds_probabilities_at_one_half():
    mask = GumbelSigmoidMask(2, 2)
    with torch.no_grad():
        mask.logits.copy_(torch.tensor([[-1.0, 0.5], [2.0, -0.1]]))
    assert mask.graph().dtype == torch.int64
    assert mask.graph().tolist() == [[0, 1], [1, 0]]


def test_batch_noise_shares_one_mask_without_copy():
    mask = GumbelSigmoidMask(4, 3, init_logit=0.0, noise="batch")
    sample = mask.sample(16, generator=torch.Generator().manual_seed(0))
    assert sample.shape == (16, 4, 3)
    assert sample.stride(0) == 0  # an expanded view, not a copy
    assert torch.equal(sample, sample[:1].expand(16, 4, 3))
    assert sample.min() > 0 and sample.max() < 1


def test_example_noise_differs_across_examples():
    mask = GumbelSigmoidMask(4, 3, init_logit=0.0, noise="example")
    sample = mask.sample(16, generator=torch.Generator().manual_seed(0))
    assert sample.shape == (16, 4, 3)
    differences = (sample[1:] - sample[:1]).abs().amax(dim=(1, 2))
    assert (differences > 1e-3).all()


def test_hard_samples_are_binary_with_soft_gradient():
    soft = GumbelSigmoidMask(5, 6, init_logit=0.3, temperature=0.7, hard=False)
    hard = GumbelSigmoidMask(5, 6, init_logit=0.3, temperature=0.7, hard=True)
    y_soft = soft.sample(3, generator=torch.Generator().manual_seed(1))
    y_hard = hard.sample(3, generator=torch.Generator().manual_seed(1))
    assert set(torch.unique(y_hard).tolist()) <= {0.0, 1.0}
    assert torch.equal(y_hard, (y_soft > 0.5).float())
    weights = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(2))
    (weights * y_soft).sum().backward()
    (weights * y_hard).sum().backward()
    assert soft.logits.grad.abs().sum() > 0
    torch.testing.assert_close(hard.logits.grad, soft.logits.grad)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_soft_sample_exceeds_half_with_probability_sigmoid_logit(temperature):
    mask = GumbelSigmoidMask(4, 5, temperature=temperature, noise="example")
    logits = torch.linspace(-2.5, 2.5, 20).reshape(4, 5)
    with torch.no_grad():
        mask.logits.copy_(logits)
    sample = mask.sample(20_000, generator=torch.Generator().manual_seed(3))
    frequency = (sample > 0.5).float().mean(dim=0)
    # binomial standard error <= 0.0036; 0.015 is > 4 standard errors
    torch.testing.assert_close(frequency, torch.sigmoid(logits), atol=0.015, rtol=0)


def test_frozen_mask_is_fully_connected_and_has_no_parameters():
    mask = GumbelSigmoidMask(10, 5, learnable=False)
    assert list(mask.parameters()) == []
    assert "logits" in dict(mask.named_buffers())
    assert not mask.logits.requires_grad
    sample = mask.sample(7)
    assert sample.shape == (7, 10, 5)
    assert torch.equal(sample, torch.ones(7, 10, 5))
    assert torch.equal(mask.probabilities(), torch.ones(10, 5))
    assert mask.expected_edges().item() == 50.0
    assert torch.equal(mask.graph(), torch.ones(10, 5, dtype=torch.int64))


def test_state_dict_keys_do_not_depend_on_learnable():
    learned = GumbelSigmoidMask(3, 3)
    frozen = GumbelSigmoidMask(3, 3, learnable=False)
    assert learned.state_dict().keys() == frozen.state_dict().keys()


def test_samples_follow_dtype_of_the_logits():
    mask = GumbelSigmoidMask(3, 2).double()
    assert mask.sample(4).dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"noise": "minibatch"}, "noise"),
        ({"init_logit": math.nan}, "init_logit"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GumbelSigmoidMask(3, 3, **kwargs)


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError, match="n_children"):
        GumbelSigmoidMask(0, 3)
    with pytest.raises(TypeError, match="n_parents"):
        GumbelSigmoidMask(3, 2.5)
    with pytest.raises(ValueError, match="batch_size"):
        GumbelSigmoidMask(3, 3).sample(0)
