"""Every baseline trains through the library's trainer, learns, and refuses data it cannot fit."""

import json
from functools import cache

import numpy as np
import pytest
import torch

from mechsparse.baselines import BASELINES, DataSpec, MethodNotApplicable, build_method
from mechsparse.data import load_benchmark
from mechsparse.train import load_trained_model, preset, train

BENCHMARK_OF = {
    "supervised": "action_sparsity_non_trivial",
    "beta_vae": "action_sparsity_non_trivial",
    "beta_tcvae": "temporal_sparsity_non_trivial",
    "ivae": "action_sparsity_non_trivial",
    "slowvae": "temporal_sparsity_non_trivial",
    "pcl": "temporal_sparsity_non_trivial",
    "tcl": "interventions_unknown_targets",
}


@cache
def data(name):
    return load_benchmark(name, n_samples=4_000)


def config(method, benchmark, **overrides):
    base = {
        "method": method,
        "data.benchmark": benchmark,
        "data.n_samples": 4_000,
        "model.encoder_width": 64,
        "model.encoder_depth": 2,
        "model.decoder_width": 64,
        "model.decoder_depth": 2,
        "model.prior_width": 32,
        "model.prior_depth": 1,
        "optim.batch_size": 128,
        "optim.max_steps": 300,
        "optim.eval_every": 150,
        "optim.log_every": 10,
        "optim.checkpoint_every": 150,
        "optim.eval_frames": 2_000,
        "optim.device": "cpu",
    }
    return preset("fast").updated({**base, **overrides})


def run(tmp_path, method, benchmark, name="run", **overrides):
    return train(
        config(method, benchmark, **overrides),
        tmp_path / name,
        data=data(benchmark),
        progress=False,
        report=False,
    )


def train_losses(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if r["kind"] == "train"]


STEPS_OF = {"pcl": 1_000}  # contrastive features need more (cheap) steps than the VAEs


@pytest.mark.parametrize("method", sorted(BENCHMARK_OF))
def test_method_learns_and_beats_random(tmp_path, method):
    benchmark = BENCHMARK_OF[method]
    steps = STEPS_OF.get(method, 300)
    result = run(tmp_path, method, benchmark, **{"optim.max_steps": steps})
    losses = train_losses(result.run_dir)
    assert len(losses) == steps // 10
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    floor = run(tmp_path, "random", benchmark, name="random").scores["mcc"]
    assert result.scores["mcc"] > floor + 0.05, (result.scores["mcc"], floor)
    assert result.final["method"] == method
    assert result.final["graph_z"] is None and result.final["graph_a"] is None
    # the run directory rebuilds the same model without unpickling
    model = load_trained_model(result.run_dir)
    x = torch.as_tensor(data(benchmark).test.x[:7])
    z_hat = np.load(result.run_dir / "z_hat.npz")["z_hat"][:7]
    np.testing.assert_allclose(model.encode(x)[0].detach().numpy(), z_hat, atol=1e-5)


def test_random_is_evaluated_untrained(tmp_path):
    result = run(tmp_path, "random", "action_sparsity_non_trivial")
    assert result.final["step"] == 0
    assert train_losses(result.run_dir) == []
    again = run(tmp_path, "random", "action_sparsity_non_trivial", name="again")
    assert again.scores == result.scores  # the seed fixes the initialisation
    other = run(tmp_path, "random", "action_sparsity_non_trivial", name="other", seed=1)
    assert other.scores["mcc"] != result.scores["mcc"]


def test_supervised_is_the_only_method_given_the_latents(tmp_path, monkeypatch):
    seen = {}
    for method in ("supervised", "beta_vae"):
        cls = BASELINES[method]
        original = cls.loss_terms

        def spy(self, x, a=None, z=None, *, generator=None, _m=method, _o=original):
            seen.setdefault(_m, set()).add(z is not None)
            return _o(self, x, a, z, generator=generator)

        monkeypatch.setattr(cls, "loss_terms", spy)
        run(tmp_path, method, "action_sparsity_non_trivial", name=method, **{"optim.max_steps": 5})
    assert seen == {"supervised": {True}, "beta_vae": {False}}


def test_baseline_resume_matches_an_uninterrupted_run(tmp_path):
    full = run(
        tmp_path,
        "slowvae",
        "temporal_sparsity_non_trivial",
        name="full",
        **{"optim.max_steps": 40, "optim.checkpoint_every": 20, "optim.eval_every": 20},
    )
    half = config(
        "slowvae",
        "temporal_sparsity_non_trivial",
        **{"optim.max_steps": 20, "optim.checkpoint_every": 20, "optim.eval_every": 20},
    )
    bench = data("temporal_sparsity_non_trivial")
    train(half, tmp_path / "resumed", data=bench, progress=False, report=False)
    rest = config(
        "slowvae",
        "temporal_sparsity_non_trivial",
        **{"optim.max_steps": 40, "optim.checkpoint_every": 20, "optim.eval_every": 20},
    )
    resumed = train(
        rest, tmp_path / "resumed", resume=True, data=bench, progress=False, report=False
    )
    assert resumed.scores == full.scores


SPECS = {
    "action": DataSpec(20, 10, 10, 1, "continuous", 800, True),
    "temporal": DataSpec(20, 10, 0, 2, None, 800, True),
    "regimes": DataSpec(20, 10, 21, 1, "discrete", 800, True),
    "user_action": DataSpec(20, 10, 10, 1, "continuous", 800, False),
    "no_aux": DataSpec(20, 10, 0, 1, None, 800, False),
}


@pytest.mark.parametrize(
    ("method", "spec", "reason"),
    [
        ("pcl", "action", "T ≥ 2"),
        ("slowvae", "regimes", "T ≥ 2"),
        ("tcl", "temporal", "discrete regimes"),
        ("tcl", "action", "discrete regimes"),
        ("supervised", "user_action", "latents are unknown"),
        ("ivae", "no_aux", "auxiliary variable"),
    ],
)
def test_methods_refuse_data_they_cannot_handle(method, spec, reason):
    model_config = preset("fast").model
    with pytest.raises(MethodNotApplicable, match=reason) as info:
        build_method(method, SPECS[spec], model_config, preset("fast").baseline)
    assert repr(method) in str(info.value)


def test_train_refuses_a_method_for_the_wrong_data_before_writing(tmp_path):
    with pytest.raises(MethodNotApplicable, match="pcl"):
        run(tmp_path, "pcl", "action_sparsity_non_trivial")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_unknown_method_is_a_config_error():
    with pytest.raises(ValueError, match="method must be one of"):
        config("vae_xyz", "action_sparsity_non_trivial").validate()


def test_every_loss_term_is_per_example_and_finite():
    model_config, baseline = preset("fast").model, preset("fast").baseline
    generator = torch.Generator().manual_seed(0)
    for method, spec_name in [
        ("supervised", "action"),
        ("beta_vae", "temporal"),
        ("beta_tcvae", "temporal"),
        ("ivae", "temporal"),
        ("ivae", "action"),
        ("slowvae", "temporal"),
        ("pcl", "temporal"),
        ("tcl", "regimes"),
    ]:
        spec = SPECS[spec_name]
        model = build_method(method, spec, model_config, baseline)
        x = torch.randn(6, spec.n_frames, spec.d_x, generator=generator)
        a = None
        if spec.aux_type == "discrete":
            a = torch.nn.functional.one_hot(torch.arange(6) % spec.d_a, spec.d_a)[:, None].float()
        elif spec.d_a:
            a = torch.randn(6, 1, spec.d_a, generator=generator)
        z = torch.randn(6, spec.n_frames, spec.d_z, generator=generator)
        terms = model.loss_terms(x, a, z, generator=generator)
        assert "loss" in terms, method
        for key, value in terms.items():
            assert value.shape == (6,), (method, key)
            assert torch.isfinite(value).all(), (method, key)
        assert model.encode(x)[0].shape == (6, spec.n_frames, spec.d_z)
