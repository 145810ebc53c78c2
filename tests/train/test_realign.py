import math

import numpy as np
import pytest
import torch

from mechsparse.data import load_benchmark
from mechsparse.metrics import mcc
from mechsparse.train import preset
from mechsparse.train.loop import build_model
from mechsparse.train.realign import (
    LinearRealignment,
    additive_basis_map,
    additive_profile_nll,
    fold_linear_map,
    realign_latents,
)
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


def _rotate_pairs(z: np.ndarray, degrees: float) -> np.ndarray:
    """Mix latents (0, 1) and (2, 3) of ``z`` (..., 4) by a rotation of ``degrees``."""
    theta = math.radians(degrees)
    rotation = np.eye(4, dtype=np.float32)
    for i, j in ((0, 1), (2, 3)):
        rotation[[i, i, j, j], [i, j, i, j]] = [
            math.cos(theta),
            -math.sin(theta),
            math.sin(theta),
            math.cos(theta),
        ]
    return z @ rotation.T


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
    mixed = _rotate_pairs(z, 40.0)
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


def test_additive_search_finds_the_coordinates_of_additive_transitions():
    """temporal_sparsity_non_trivial's transitions are sums of one-parent sinusoids; mixed by
    30° in two pairs they are not, so the additive model's profile likelihood is higher in the
    true coordinates and the search returns to them from the mixed ones."""
    data = load_benchmark("temporal_sparsity_non_trivial", n_samples=12_000, d_z=4, d_x=8)
    z = data.train.z.astype(np.float32)  # (n, 2, 4)
    mixed = _rotate_pairs(z, 30.0)
    assert mcc(z.reshape(-1, 4), mixed.reshape(-1, 4)).score < 0.9
    identity = torch.eye(4)
    true_nll = additive_profile_nll(identity, torch.as_tensor(z), None)
    mixed_nll = additive_profile_nll(identity, torch.as_tensor(mixed), None)
    assert float(true_nll) < float(mixed_nll) - 1.0, (float(true_nll), float(mixed_nll))
    flat = mixed.reshape(-1, 4)
    standardised = torch.as_tensor((mixed - flat.mean(0)) / flat.std(0))
    weight = additive_basis_map(standardised, None, generator=torch.Generator().manual_seed(0))
    found = (standardised @ weight.T).numpy()
    assert mcc(z.reshape(-1, 4), found.reshape(-1, 4)).score > 0.99


def test_additive_profile_explains_transitions_by_the_auxiliary_variables_too():
    """An action's effect on the next frame is part of the additive fit: with the action among
    the inputs, the residual of the latent it drives falls to the noise level."""
    generator = torch.Generator().manual_seed(0)
    z0 = torch.randn(4_000, 2, generator=generator)
    a = torch.randn(4_000, 2, 1, generator=generator)
    z1 = z0 + 0.01 * torch.randn(4_000, 2, generator=generator)
    z1[:, 0] += 0.5 * torch.sin(2.0 * a[:, 1, 0])
    latents = torch.stack([z0, z1], 1)
    without = additive_profile_nll(torch.eye(2), latents, None)
    with_aux = additive_profile_nll(torch.eye(2), latents, a)
    # the latent's residual variance goes from ≈ 0.06 to ≈ 1e-4: half its log-ratio, ≈ 3 nats
    assert float(with_aux) < float(without) - 2.5, (float(with_aux), float(without))


def test_additive_search_needs_sequences():
    with pytest.raises(ValueError, match="at least 2 frames"):
        additive_basis_map(torch.randn(100, 1, 3), None, generator=torch.Generator())


def test_additive_realignment_holds_the_searched_map_fixed():
    """With ``map_search="additive"`` the fitted prior does not move W: the folded map is the
    searched one (over the standardisation), whatever the prior's steps."""
    data = load_benchmark("temporal_sparsity_non_trivial", n_samples=5_000, d_z=4, d_x=8)
    mixed = torch.as_tensor(_rotate_pairs(data.train.z.astype(np.float32), 30.0))
    config = preset("fast").updated(
        {"model.encoder_depth": 0, "model.decoder_width": 16, "model.decoder_depth": 1}
    )
    config = config.updated({"model.prior_width": 8, "model.prior_depth": 1})
    dims = {"d_x": 4, "d_z": 4, "d_a": 0, "n_lags": 1, "learn_z": True, "learn_a": False}
    torch.manual_seed(0)
    model = build_model(config, **dims)
    layer = model.encoder.net[-1]  # a linear encoder: mean_i = x_i
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
        layer.weight.view(4, 2, 4)[:, 0] = torch.eye(4)
        layer.bias.view(4, 2)[:, 1] = -6.0
    fresh = build_model(config, **dims).prior
    result = realign_latents(
        model,
        fresh,
        mixed,
        None,
        regularizer=Regularizer.CONSTRAINT,
        budgets=(GraphBudget("graph_z", max_edges=16, k=10),),
        coef=0.0,
        steps=200,
        schedule_steps=100,
        batch_size=512,
        lr=8e-3,
        map_lr=0.5,  # would move W a lot if W were learned
        mask_lr=0.01,
        dual_lr=0.01,
        dual_restarts=True,
        generator=torch.Generator().manual_seed(0),
        map_search="additive",
    )
    flat = mixed.reshape(-1, 4)
    center, scale = flat.mean(0), flat.std(0)
    searched = additive_basis_map(
        (mixed - center) / scale, None, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(result.matrix, searched / scale, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(result.offset, -(searched / scale) @ center, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="unknown map_search"):
        realign_latents(
            model, fresh, mixed, None, regularizer=Regularizer.NONE, budgets=(), coef=0.0,
            steps=1, schedule_steps=0, batch_size=8, lr=1e-3, map_lr=1e-3, mask_lr=None,
            dual_lr=0.01, dual_restarts=False, generator=torch.Generator(), map_search="pca",
        )  # fmt: skip
