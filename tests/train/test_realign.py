import math

import numpy as np
import pytest
import torch

from mechsparse.data import load_benchmark
from mechsparse.metrics import mcc
from mechsparse.train import preset
from mechsparse.train.loop import build_model
from mechsparse.train.realign import LinearRealignment, fold_linear_map, realign_latents
from mechsparse.train.regularizers import GraphBudget, Regularizer


def _model(d_x=6, d_z=3, d_a=4, encoder_depth=2, seed=0):
    config = preset("fast").updated(
        {
            "model.encoder_width": 16,
            "model.encoder_depth": encoder_depth,
            "model.decoder_width": 16,
            "model.decoder_depth": 2,
            "model.prior_width": 8,
            "model.prior_depth": 1,
        }
    )
    torch.manual_seed(seed)
    dims = {"d_x": d_x, "d_z": d_z, "d_a": d_a, "n_lags": 0, "learn_z": False, "learn_a": True}
    return config, dims, build_model(config, **dims, discrete_aux=True)


def test_fold_re_expresses_the_latents_and_keeps_the_decoded_means():
    _, _, model = _model()
    x = torch.randn(50, 1, 6)
    mean_before, var_before = model.encode(x)
    decoded_before = model.decode(mean_before)
    torch.manual_seed(1)
    matrix = torch.randn(3, 3) + 3 * torch.eye(3)
    offset = torch.randn(3)
    fold_linear_map(model, matrix, offset)
    mean_after, var_after = model.encode(x)
    torch.testing.assert_close(mean_after, mean_before @ matrix.T + offset)
    torch.testing.assert_close(var_after, var_before)  # variance outputs are left as they are
    torch.testing.assert_close(model.decode(mean_after), decoded_before, rtol=1e-4, atol=1e-4)


def test_objective_is_the_prior_log_likelihood_plus_the_jacobian():
    _, _, model = _model()
    realignment = LinearRealignment(model.prior, torch.zeros(3), torch.ones(3), d_x=6)
    means = torch.randn(40, 1, 3)
    a = torch.nn.functional.one_hot(torch.randint(4, (40, 1)), 4).float()
    # frozen-looking masks: every edge at its initial logit; compare with a hand computation
    torch.manual_seed(5)
    loss, terms = realignment.objective(means, a)
    torch.manual_seed(5)
    _, mask_a = model.prior.sample_masks(40)
    mean, var = model.prior.transition(None, a[:, 0], None, mask_a)
    log_p = -0.5 * ((means[:, 0] - mean) ** 2 / var + torch.log(var) + math.log(2 * math.pi))
    expected = -log_p.sum(-1).mean() / 6
    torch.testing.assert_close(loss, expected)
    assert float(terms["log_det"]) == 0.0  # W starts at the identity
    with torch.no_grad():
        realignment.map_weight.mul_(2.0)
    _, terms2 = realignment.objective(means, a)
    assert float(terms2["log_det"]) == pytest.approx(3 * math.log(2.0) / 6, rel=1e-5)


def _realign_on(latents, a, map_lr, steps=1_500):
    """Realign a VAE whose encoder means are exactly ``latents`` (a linear encoder)."""
    d_z, d_a = latents.shape[-1], a.shape[-1]
    config, dims, model = _model(d_x=d_z, d_z=d_z, d_a=d_a, encoder_depth=0)
    layer = model.encoder.net[-1]  # a single linear map: mean_i = x_i, small posterior var
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
        layer.weight.view(d_z, 2, d_z)[:, 0] = torch.eye(d_z)
        layer.bias.view(d_z, 2)[:, 1] = -6.0
    torch.manual_seed(3)
    fresh = build_model(config, **dims, discrete_aux=True).prior
    k = int(load_benchmark("interventions_unknown_targets", n_samples=100, d_z=d_z).graph_a.sum())
    result = realign_latents(
        model,
        fresh,
        torch.as_tensor(latents),
        torch.as_tensor(a),
        regularizer=Regularizer.CONSTRAINT,
        budgets=(GraphBudget("graph_a", max_edges=d_z * d_a, k=k),),
        coef=0.0,
        steps=steps,
        schedule_steps=300,
        batch_size=1_024,
        lr=8e-3,
        map_lr=map_lr,
        mask_lr=0.01,
        dual_lr=0.01,
        dual_restarts=True,
        generator=torch.Generator().manual_seed(0),
    )
    return model, fresh, result, k


def test_sparse_prior_prefers_the_true_coordinates_and_the_fold_applies_the_map():
    """The realignment's objective, the prior's likelihood under the edge constraint, is lower
    in the true coordinates than in coordinates that mix two pairs of latents by 40° (each
    regime moves two true latents, and a mixed pair needs more edges): this preference is what
    realignment follows. W is held (almost) fixed here; the map it ends with is what the
    encoder applies after the fold."""
    data = load_benchmark("interventions_unknown_targets", n_samples=20_000, d_z=4, d_x=8)
    z, a = data.train.z.astype(np.float32), data.train.a  # (n, 1, 4), (n, 1, 9)
    theta = math.radians(40)
    rotation = np.eye(4, dtype=np.float32)
    for i, j in ((0, 1), (2, 3)):
        rotation[[i, i, j, j], [i, j, i, j]] = [
            math.cos(theta),
            -math.sin(theta),
            math.sin(theta),
            math.cos(theta),
        ]
    mixed = z @ rotation.T
    assert mcc(z[:, 0], mixed[:, 0]).score < 0.8
    _, _, aligned, k = _realign_on(z, a, map_lr=1e-9)
    model, fresh, rotated, _ = _realign_on(mixed, a, map_lr=1e-9)
    assert aligned.loss < rotated.loss - 0.02, (aligned.loss, rotated.loss)
    for result in (aligned, rotated):
        assert result.expected_edges["graph_a"] == pytest.approx(k, abs=1)
    # the model's prior is now the fresh one, and A, c are what the encoder applies
    assert torch.equal(model.prior.mask_a.logits, fresh.mask_a.logits)
    with torch.no_grad():
        realigned = model.encode(torch.as_tensor(mixed))[0]
    torch.testing.assert_close(
        realigned, torch.as_tensor(mixed) @ rotated.matrix.T + rotated.offset, rtol=1e-4, atol=1e-4
    )
