import pytest

from mechsparse.train import Config, load_config, preset


def test_paper_preset_has_reference_constants():
    c = preset("paper")
    assert (c.model.encoder_width, c.model.encoder_depth) == (512, 6)
    assert (c.model.decoder_width, c.model.decoder_depth) == (512, 6)
    assert (c.model.prior_width, c.model.prior_depth) == (512, 5)
    assert c.model.prior_hidden_bias is False
    assert c.model.mask_init_logit == 5.0 and c.model.mask_temperature == 1.0
    assert c.model.mask_noise == "batch" and c.model.mask_hard is False
    assert c.optim.lr == 5e-4 and c.optim.batch_size == 1024 and c.optim.max_steps == 300_000
    assert c.regularizer.schedule_steps == 150_000 and c.regularizer.dual_lr == 5e-4
    assert c.regularizer.mask_lr is None and c.regularizer.dual_restarts is True
    assert c.regularizer.coef_warmup_steps == 0  # the reference's penalty runs had no schedule
    assert c.data.n_samples == 1_000_000


def test_config_choices_are_the_models():
    """config.py stays free of torch, so it lists the model's choices again; keep them equal."""
    from mechsparse.model.masks import MASK_NOISE_MODES
    from mechsparse.model.prior import REGIME_EFFECTS, VARIANCE_MODES
    from mechsparse.train import config

    assert config.MASK_NOISES == MASK_NOISE_MODES
    # the config adds ``auto``, which ModelConfig.for_data resolves before the model is built
    assert config.TRANSITION_VARIANCES == (*VARIANCE_MODES, "auto")
    assert config.REGIME_EFFECTS == (*REGIME_EFFECTS, "auto")


def test_yaml_round_trip(tmp_path):
    c = preset("fast").updated({"seed": 3, "regularizer": {"kind": "penalty", "coef": 2.0}})
    path = c.save(tmp_path / "config.yaml")
    assert load_config(path) == c


def test_dotted_and_nested_overrides_agree():
    a = preset("fast").updated({"optim.max_steps": 7, "regularizer.edges_z": 12})
    b = preset("fast").updated({"optim": {"max_steps": 7}, "regularizer": {"edges_z": 12}})
    assert a == b and a.optim.max_steps == 7


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"optim.max_step": 3}, "unknown config key 'optim.max_step'"),
        ({"modle.encoder_width": 3}, "unknown config section 'modle'"),
        ({"optim.max_steps": "many"}, "must be an integer"),
        ({"model.mask_hard": "yes"}, "true or false"),
        ({3: 1}, "config keys are strings"),
        ({"foo": {"a": 1}}, "unknown config key 'foo'"),
        ({"model.beta": [1]}, "must be a number or a string"),
    ],
)
def test_bad_overrides_are_named(overrides, match):
    with pytest.raises(ValueError, match=match):
        preset("fast").updated(overrides)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"regularizer.kind": "lasso"}, "regularizer.kind"),
        ({"regularizer.edges_z": -1}, "regularizer.edges_z"),
        ({"regularizer.kind": "penalty", "regularizer.coef": 0.0}, "regularizer.coef"),
        ({"data.density": 1.5}, "data.density"),
        ({"optim.device": "tpu"}, "optim.device"),
        ({"model.regime_effect": "add"}, "model.regime_effect"),
        ({"model.prior_mechanism": "linear"}, "model.prior_mechanism"),
        ({"model.beta": "half"}, "model.beta"),
        ({"model.beta": -0.5}, "model.beta"),
        ({"regularizer.realign_at_step": 0}, "regularizer.realign_at_step"),
        ({"regularizer.realign_steps": 0}, "regularizer.realign_steps"),
        ({"regularizer.realign_schedule_steps": -1}, "regularizer.realign_schedule_steps"),
        ({"regularizer.realign_map_lr": 0.0}, "regularizer.realign_map_lr"),
        ({"regularizer.realign_map_search": "pca"}, "regularizer.realign_map_search"),
    ],
)
def test_validate_names_the_bad_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        preset("fast").updated(overrides).validate()


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'slow'"):
        preset("slow")
    with pytest.raises(ValueError, match="unknown preset"):
        Config.from_dict({"preset": "slow"})


def test_load_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: [1, 2\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(bad)


def test_paper_preset_builds_the_reference_model():
    """REFERENCE_SPEC §2.2–2.3 and Appendix B: ≈13.2 M parameters, reference initial values."""
    import math

    import torch

    from mechsparse.train import build_model

    torch.manual_seed(0)
    model = build_model(
        preset("paper"), d_x=20, d_z=10, d_a=10, n_lags=0, learn_z=False, learn_a=True
    )
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert abs(n - 13.2e6) / 13.2e6 < 0.005
    assert float(model.prior.mask_a.expected_edges().detach()) == pytest.approx(99.33, abs=0.01)
    assert float(model.decoder_std().detach()) == pytest.approx(math.exp(-5) + 1e-4, rel=1e-5)
    _, var = model.prior.transition(None, torch.zeros(2, 10), None, model.prior.mask_a.sample(2))
    assert torch.allclose(var, torch.full_like(var, 1.01e-4), rtol=1e-3)
    temporal = build_model(
        preset("paper"), d_x=20, d_z=10, d_a=0, n_lags=1, learn_z=True, learn_a=False
    )
    mean0, var0 = temporal.prior.initial()
    assert torch.all(mean0 == 0) and torch.allclose(var0, torch.full_like(var0, 1 + 1e-6))


def test_kl_weight_auto_depends_on_temporal_data():
    from mechsparse.train import build_model

    fast = preset("fast")
    assert fast.model.beta == "auto" and preset("paper").model.beta == 1.0
    dims = {"d_x": 20, "d_z": 4, "learn_z": False, "learn_a": True}
    assert build_model(fast, **dims, d_a=3, n_lags=0).beta == 0.5
    temporal = {**dims, "learn_z": True, "learn_a": False}
    assert build_model(fast, **temporal, d_a=0, n_lags=1).beta == 1.0
    assert build_model(fast.updated({"model.beta": 2}), **dims, d_a=3, n_lags=0).beta == 2.0


def test_regime_effect_and_variance_auto_depend_on_discrete_regimes():
    from mechsparse.train import build_model

    fast = preset("fast")
    dims = {"d_x": 20, "d_z": 4, "d_a": 5, "n_lags": 0, "learn_z": False, "learn_a": True}
    regimes = build_model(fast, **dims, discrete_aux=True).prior
    assert (regimes.regime_effect, regimes.variance) == ("shift", "parents")
    actions = build_model(fast, **dims, discrete_aux=False).prior
    assert (actions.regime_effect, actions.variance) == ("input", "constant")
    # an explicit choice is kept, and the paper preset keeps the reference's
    explicit = fast.updated({"model.transition_variance": "constant"})
    assert build_model(explicit, **dims, discrete_aux=True).prior.variance == "constant"
    paper = preset("paper").model.for_data(discrete_aux=True)
    assert (paper.regime_effect, paper.transition_variance) == ("input", "constant")


def test_reported_nll_is_the_elbo_whatever_beta():
    import torch

    from mechsparse.train import build_model
    from mechsparse.train.evaluate import elbo_on

    torch.manual_seed(0)
    config = preset("fast").updated({"model.beta": 0.5})
    model = build_model(config, d_x=6, d_z=3, d_a=2, n_lags=0, learn_z=False, learn_a=True)
    x, a = torch.randn(40, 1, 6), torch.randn(40, 1, 2)
    terms = elbo_on(model, x, a, batch_size=16)
    assert model.beta == 0.5 and terms["kl"] > 0
    assert terms["nll"] == pytest.approx(terms["reconstruction"] + terms["kl"], rel=1e-5)


def test_unused_fields_follow_method_and_regulariser():
    own = preset("fast")
    assert own.regularizer.kind == "constraint"
    assert {"regularizer.coef", "regularizer.coef_warmup_steps"} <= own.unused_fields()
    assert "baseline.beta" in own.unused_fields()
    assert (
        not {"regularizer.edges_a", "regularizer.dual_lr", "model.prior_width"}
        & own.unused_fields()
    )
    none = own.updated({"regularizer.kind": "none"})
    assert {"regularizer.edges_a", "regularizer.schedule_steps"} <= none.unused_fields()
    baseline = own.updated({"method": "beta_vae"})
    assert {"regularizer.kind", "regularizer.edges_a"} <= baseline.unused_fields()
    assert not {"baseline.beta", "model.encoder_width", "optim.lr"} & baseline.unused_fields()
    # the realignment's details count only when a realignment is scheduled
    assert {"regularizer.realign_steps", "regularizer.realign_map_lr"} <= own.unused_fields()
    assert "regularizer.realign_at_step" not in own.unused_fields()
    realigned = own.updated({"regularizer.realign_at_step": 100})
    assert not {"regularizer.realign_steps", "regularizer.realign_map_lr"} & (
        realigned.unused_fields()
    )
