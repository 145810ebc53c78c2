"""Tests for mechsparse.model.vae (the VAE and the reference ELBO scaling)."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence
from torch.nn import functional as F

from mechsparse.model import LatentCausalVAE, LatentPrior

D_X, D_Z = 6, 3


def _model(*, d_a=0, n_lags=1, noise="batch", variance="constant", beta=1.0, **prior_kwargs):
    torch.manual_seed(0)
    prior = LatentPrior(
        D_Z,
        d_a=d_a,
        n_lags=n_lags,
        width=8,
        depth=2,
        hidden_bias=False,
        variance=variance,
        mask_init_logit=0.5,
        mask_noise=noise,
        **prior_kwargs,
    )
    return LatentCausalVAE(
        D_X,
        D_Z,
        d_a=d_a,
        n_lags=n_lags,
        encoder_width=8,
        encoder_depth=2,
        decoder_width=8,
        decoder_depth=2,
        prior=prior,
        decoder_logvar_init=-1.0,  # a std near 0.6 keeps the reconstruction term O(1)
        beta=beta,
    )


def _capture(monkeypatch, model):
    """Record the posterior sample and the masks that elbo_terms draws."""
    captured = {}
    sample_posterior, sample_masks = model.sample_posterior, model.prior.sample_masks

    def record_posterior(*args, **kwargs):
        captured["z"] = sample_posterior(*args, **kwargs).detach()
        return captured["z"]

    def record_masks(*args, **kwargs):
        captured["masks"] = sample_masks(*args, **kwargs)
        return captured["masks"]

    monkeypatch.setattr(model, "sample_posterior", record_posterior)
    monkeypatch.setattr(model.prior, "sample_masks", record_masks)
    return captured


def _posterior_by_hand(model, x):
    out = model.encoder(x)  # interleaved (mean_1, raw_1, mean_2, raw_2, ...)
    return out[..., 0::2], F.softplus(out[..., 1::2]) + 1e-4


def _reconstruction_by_hand(model, x, z):
    std = torch.exp(0.5 * model.decoder_logvar) + 1e-4
    log_density = Normal(model.decoder(z), std).log_prob(x)  # (B, T, d_x)
    return -log_density.mean(dim=(1, 2))


@pytest.mark.parametrize("noise", ["batch", "example"])
def test_elbo_scaling_actions_single_frame(monkeypatch, noise):
    model = _model(d_a=4, n_lags=0, noise=noise, beta=0.5)
    captured = _capture(monkeypatch, model)
    x, a = torch.randn(5, 1, D_X), torch.randn(5, 1, 4)
    terms = model.elbo_terms(x, a)
    z = captured["z"]
    _, mask_a = captured["masks"]
    with torch.no_grad():
        mean_q, var_q = _posterior_by_hand(model, x)
        rec = _reconstruction_by_hand(model, x, z)
        mean_p, var_p = model.prior.transition(None, a[:, 0], None, mask_a)
        kl_latent = kl_divergence(
            Normal(mean_q[:, 0], var_q[:, 0].sqrt()), Normal(mean_p, var_p.sqrt())
        )  # (B, d_z)
    torch.testing.assert_close(terms.reconstruction, rec, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms.kl_per_latent, kl_latent, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms.kl, kl_latent.sum(-1) / D_X, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms.negative_elbo, rec + 0.5 * kl_latent.sum(-1) / D_X)
    assert terms.reconstruction.shape == terms.kl.shape == (5,)


@pytest.mark.parametrize("noise", ["batch", "example"])
@pytest.mark.parametrize("n_frames", [2, 4])
def test_elbo_scaling_temporal_sequences(monkeypatch, noise, n_frames):
    model = _model(d_a=2, n_lags=1, noise=noise)
    captured = _capture(monkeypatch, model)
    x, a = torch.randn(5, n_frames, D_X), torch.randn(5, n_frames, 2)
    terms = model.elbo_terms(x, a)
    z = captured["z"]
    mask_z, mask_a = captured["masks"]
    assert mask_z.shape == (5, D_Z, D_Z)  # one draw per call, not per frame
    with torch.no_grad():
        mean_q, var_q = _posterior_by_hand(model, x)
        rec = _reconstruction_by_hand(model, x, z)
        init_mean, init_var = model.prior.initial()
        kls = [
            kl_divergence(
                Normal(mean_q[:, 0], var_q[:, 0].sqrt()), Normal(init_mean, init_var.sqrt())
            )
        ]
        for t in range(1, n_frames):  # frame t uses the sampled z_{t-1} and a_t
            mean_p, var_p = model.prior.transition(z[:, t - 1], a[:, t], mask_z, mask_a)
            kls.append(
                kl_divergence(
                    Normal(mean_q[:, t], var_q[:, t].sqrt()), Normal(mean_p, var_p.sqrt())
                )
            )
        kl_latent = torch.stack(kls, dim=1).mean(dim=1)  # (B, d_z); for T = 2: ½(init + trans)
    torch.testing.assert_close(terms.reconstruction, rec, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms.kl_per_latent, kl_latent, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms.kl, kl_latent.sum(-1) / D_X, atol=1e-5, rtol=1e-5)
    if n_frames == 2:
        half = 0.5 * (kls[0] + kls[1]).sum(-1) / D_X
        torch.testing.assert_close(terms.kl, half, atol=1e-5, rtol=1e-5)


def test_single_frame_temporal_model_uses_only_the_initial_prior():
    model = _model(n_lags=1)
    x = torch.randn(4, 1, D_X)
    terms = model.elbo_terms(x, generator=torch.Generator().manual_seed(0))
    mean_q, var_q = model.encode(x[:, 0])
    init_mean, init_var = model.prior.initial()
    want = kl_divergence(Normal(mean_q, var_q.sqrt()), Normal(init_mean, init_var.sqrt()))
    torch.testing.assert_close(terms.kl_per_latent, want, atol=1e-5, rtol=1e-5)
    terms.negative_elbo.mean().backward()
    assert model.prior.mask_z.logits.grad is None  # no transition, so no graph is learned


def test_generator_makes_terms_reproducible():
    model = _model(d_a=2, n_lags=1)
    x, a = torch.randn(3, 3, D_X), torch.randn(3, 3, 2)
    first = model.elbo_terms(x, a, generator=torch.Generator().manual_seed(7))
    second = model.elbo_terms(x, a, generator=torch.Generator().manual_seed(7))
    third = model.elbo_terms(x, a, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first.negative_elbo, second.negative_elbo)
    assert not torch.equal(first.negative_elbo, third.negative_elbo)


@pytest.mark.parametrize("n_frames", [1, 2, 5])
def test_both_graphs_with_one_hot_actions_forward_and_backward(n_frames):
    model = _model(d_a=4, n_lags=1)
    regimes = torch.randint(0, 4, (6, n_frames))
    a = F.one_hot(regimes, 4)  # int64 one-hot: cast to x's dtype inside
    terms = model.elbo_terms(torch.randn(6, n_frames, D_X), a)
    assert terms.kl_per_latent.shape == (6, D_Z)
    terms.negative_elbo.mean().backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert all(torch.isfinite(g).all() for g in grads)
    assert model.decoder_logvar.grad is not None and model.encoder.net[0].weight.grad is not None
    if n_frames > 1:
        assert model.prior.mask_z.logits.grad.abs().sum() > 0
        assert model.prior.mask_a.logits.grad.abs().sum() > 0


def test_parents_variance_mode_runs_end_to_end():
    model = _model(d_a=2, n_lags=1, variance="parents")
    terms = model.elbo_terms(torch.randn(4, 3, D_X), torch.randn(4, 3, 2))
    terms.negative_elbo.mean().backward()
    assert model.prior.body.output.weight.grad[:, :, 1].abs().sum() > 0


def test_paper_architecture_parameter_count_and_initial_values():
    torch.manual_seed(0)
    prior = LatentPrior(10, d_a=10, n_lags=0, width=512, depth=5, hidden_bias=False)
    model = LatentCausalVAE(20, 10, d_a=10, n_lags=0, prior=prior)
    # reference count, REFERENCE_SPEC §2.2-2.3 (action data: G^a only, two outputs per latent)
    encoder = (20 * 512 + 512) + 5 * (512 * 512 + 512) + (512 * 20 + 20)
    decoder = (10 * 512 + 512) + 5 * (512 * 512 + 512) + (512 * 20 + 20)
    transition = 10 * 512 * 10 + 10 * 512 + 4 * 10 * 512 * 512 + 10 * (512 * 2 + 2)
    reference = encoder + decoder + 1 + transition + 10 + 100
    assert (encoder, decoder) == (1_334_292, 1_329_172)
    assert model.n_parameters() == pytest.approx(reference, rel=5e-3)
    assert model.n_parameters() == pytest.approx(13.2e6, rel=5e-3)
    assert model.decoder_std().item() == pytest.approx(0.006838, abs=1e-6)
    assert prior.mask_a.expected_edges().item() == pytest.approx(99.33, abs=5e-3)
    _, variance = prior.transition(None, torch.randn(2, 10), None, torch.ones(10, 10))
    torch.testing.assert_close(variance, torch.full((2, 10), 1.01e-4), atol=1e-10, rtol=1e-5)


def test_temporal_model_initial_prior_is_standard_normal():
    init_mean, init_var = _model(n_lags=1).prior.initial()
    assert torch.equal(init_mean, torch.zeros(D_Z))
    torch.testing.assert_close(init_var, torch.full((D_Z,), 1 + 1e-6), atol=1e-7, rtol=0)


def test_n_parameters_excludes_frozen_graphs():
    learned = _model(d_a=2)
    frozen = _model(d_a=2, learn_graph_z=False, learn_graph_a=False)
    assert learned.n_parameters() - frozen.n_parameters() == D_Z * D_Z + D_Z * 2


def test_encode_and_decode_shapes():
    model = _model()
    mean, variance = model.encode(torch.randn(2, 3, 4, D_X))
    assert mean.shape == variance.shape == (2, 3, 4, D_Z)
    assert (variance > 1e-4).all()
    assert model.decode(mean).shape == (2, 3, 4, D_X)


def test_invalid_inputs_are_rejected():
    model = _model(d_a=2)
    x, a = torch.randn(4, 2, D_X), torch.randn(4, 2, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, n_timesteps, d_x\)"):
        model.elbo_terms(x[:, 0], a)
    with pytest.raises(ValueError, match="x must have shape"):
        model.elbo_terms(torch.randn(4, 2, D_X + 1), a)
    with pytest.raises(ValueError, match=r"a of shape .* is required"):
        model.elbo_terms(x)
    with pytest.raises(ValueError, match="a must have shape"):
        model.elbo_terms(x, torch.randn(4, 3, 2))
    with pytest.raises(ValueError, match="a must be None"):
        _model().elbo_terms(x, a)
    with pytest.raises(TypeError, match="floating-point"):
        model.elbo_terms(x.long(), a)
    with pytest.raises(ValueError, match="x must have shape"):
        model.encode(torch.randn(3, D_X - 1))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        model.encode([[0.0] * D_X])


def test_prior_must_match_the_model():
    prior = LatentPrior(D_Z, d_a=2, n_lags=1, width=4, depth=1, hidden_bias=False)
    with pytest.raises(ValueError, match=r"prior\.d_a"):
        LatentCausalVAE(D_X, D_Z, d_a=0, n_lags=1, prior=prior)
    with pytest.raises(ValueError, match=r"prior\.d_z"):
        LatentCausalVAE(D_X, D_Z + 1, d_a=2, n_lags=1, prior=prior)
    with pytest.raises(TypeError, match="LatentPrior"):
        LatentCausalVAE(D_X, D_Z, prior=None)
    with pytest.raises(ValueError, match="beta"):
        LatentCausalVAE(D_X, D_Z, d_a=2, prior=prior, beta=-1.0)


def test_runs_on_another_device_and_dtype():
    # the meta device catches tensors created on the CPU instead of the parameters' device
    model = _model(d_a=2, n_lags=1, noise="example", mask_hard=True).to("meta")
    terms = model.elbo_terms(
        torch.randn(4, 3, D_X, device="meta"), torch.randn(4, 3, 2, device="meta")
    )
    terms.negative_elbo.mean().backward()
    assert terms.kl.device.type == "meta" and model.prior.mask_z.logits.grad.device.type == "meta"
    double = _model(d_a=2, n_lags=1).double()
    terms = double.elbo_terms(torch.randn(4, 3, D_X, dtype=torch.float64), torch.randn(4, 3, 2))
    assert terms.negative_elbo.dtype == torch.float64
