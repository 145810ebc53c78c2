import gc
import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import mechsparse
from mechsparse import MechanismSparsityVAE
from mechsparse.data import load_benchmark
from mechsparse.estimator import ShortScheduleWarning
from mechsparse.metrics import mcc
from mechsparse.train import preset, train

# seconds-long runs: a small model, a handful of steps
TINY = {
    "model.encoder_width": 16,
    "model.encoder_depth": 1,
    "model.decoder_width": 16,
    "model.decoder_depth": 1,
    "model.prior_width": 8,
    "model.prior_depth": 1,
    "optim.batch_size": 64,
    "optim.eval_every": 10,
    "optim.log_every": 5,
    "optim.checkpoint_every": 10,
    "optim.eval_frames": 100,
    "regularizer.schedule_steps": 10,
    "regularizer.coef_warmup_steps": 10,
}


def tiny(n_latents=4, **params):
    params = {"max_steps": 20, "device": "cpu", "config_overrides": TINY, **params}
    return MechanismSparsityVAE(n_latents, **params)


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("action_sparsity_trivial", n_samples=1_000, seed=0)


@pytest.fixture(scope="module")
def fitted(bench):
    return tiny().fit(bench.train.x, bench.train.a)


def test_import_stays_light():
    import subprocess
    import sys

    code = "import sys, mechsparse; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert mechsparse.MechanismSparsityVAE is MechanismSparsityVAE


def test_fit_transform_and_fitted_attributes(fitted, bench):
    est = fitted
    z = est.transform(bench.test.x)
    assert z.shape == (100, 1, 4) and z.dtype == np.float32 and np.isfinite(z).all()
    np.testing.assert_array_equal(est.transform(bench.test.x[:, 0]), z[:, 0])  # (n, d_x) input
    assert est.graph_z_ is None and est.edge_probabilities_z_ is None  # T = 1: no G^z
    assert est.graph_a_.shape == est.edge_probabilities_a_.shape == (4, 10)
    assert set(np.unique(est.graph_a_)) <= {0, 1}
    assert ((est.edge_probabilities_a_ > 0) & (est.edge_probabilities_a_ < 1)).all()
    assert est.edges_ == {"graph_z": None, "graph_a": 8}  # 20 % of 4·10 possible edges
    assert est.n_features_in_ == 20 and list(est.feature_names_in_[:2]) == ["x0", "x1"]
    assert est.action_names_ == tuple(f"a{j}" for j in range(10))
    assert est.aux_type_ == "continuous" and est.n_timesteps_ == 1
    assert [r["step"] for r in est.history_ if r["kind"] == "eval"] == [10, 20]
    assert est.final_["step"] == 20 and "test/nll" in est.final_["scores"]
    assert est.data_info_["n_train"] == 720 and est.data_info_["n_valid"] == 80
    frames = bench.train.x.reshape(-1, 20).astype(np.float64)
    assert not np.allclose(est.mean_, frames.mean(0))  # learned on the 90 % kept for training
    np.testing.assert_allclose(est.mean_, frames.mean(0), atol=0.2)
    assert (est.run_dir_ / "estimator.json").is_file()


def test_same_seed_same_model_other_seed_differs(fitted, bench):
    again = tiny().fit(bench.train.x, bench.train.a)
    np.testing.assert_array_equal(again.transform(bench.test.x), fitted.transform(bench.test.x))
    other = tiny(seed=1).fit(bench.train.x, bench.train.a)
    assert not np.allclose(other.transform(bench.test.x), fitted.transform(bench.test.x))


def test_not_fitted_error(bench):
    est = tiny()
    for call in (lambda: est.transform(bench.test.x), lambda: est.save("anywhere")):
        with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
            call()


def test_params_follow_scikit_learn(fitted):
    params = fitted.get_params()
    assert params["n_latents"] == 4 and params["regularizer"] == "constraint"
    copy = clone(fitted)
    assert copy.get_params() == params and not hasattr(copy, "model_")
    copy.set_params(edges=3, seed=5)
    assert copy.edges == 3 and copy.seed == 5
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(not_a_param=1)


def test_score_is_a_seeded_mean_elbo(fitted, bench):
    s1 = fitted.score(bench.test.x, bench.test.a)
    assert np.isfinite(s1) and s1 == fitted.score(bench.test.x, bench.test.a)
    assert fitted.score(bench.train.x[:50], bench.train.a[:50]) != s1
    with pytest.raises(ValueError, match="a is required to score"):
        fitted.score(bench.test.x)


def test_save_and_load_round_trip(fitted, bench, tmp_path):
    path = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == [
        "checkpoints",
        "config.yaml",
        "estimator.json",
        "final.json",
        "metrics.jsonl",
    ]
    loaded = MechanismSparsityVAE.load(path)
    np.testing.assert_array_equal(loaded.transform(bench.test.x), fitted.transform(bench.test.x))
    np.testing.assert_array_equal(loaded.edge_probabilities_a_, fitted.edge_probabilities_a_)
    np.testing.assert_array_equal(loaded.mean_, fitted.mean_)
    assert loaded.get_params() == fitted.get_params() and loaded.history_ == fitted.history_
    assert loaded.score(bench.test.x, bench.test.a) == fitted.score(bench.test.x, bench.test.a)
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        fitted.save(path)
    fitted.save(path, overwrite=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds other files"):
        fitted.save(other, overwrite=True)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_missing_or_corrupt_model(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MechanismSparsityVAE.load(tmp_path / "nothing")
    path = fitted.save(tmp_path / "model")
    (path / "estimator.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"estimator\.json' is corrupt"):
        MechanismSparsityVAE.load(path)
    path = fitted.save(tmp_path / "model2")
    (path / "checkpoints" / "last.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"cannot load the model.*corrupt"):
        MechanismSparsityVAE.load(path)
    path = fitted.save(tmp_path / "model3")
    (path / "estimator.json").unlink()
    with pytest.raises(ValueError, match=r"estimator\.json is missing.*`train` run directory"):
        MechanismSparsityVAE.load(path)


def test_fit_into_a_run_directory(bench, tmp_path):
    est = tiny().fit(bench.train.x, bench.train.a, run_dir=tmp_path / "run")
    assert est.run_dir_ == tmp_path / "run" and (tmp_path / "run" / "report.html").is_file()
    loaded = MechanismSparsityVAE.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.transform(bench.test.x), est.transform(bench.test.x))
    with pytest.raises(ValueError, match="already holds a run"):
        tiny().fit(bench.train.x, bench.train.a, run_dir=tmp_path / "run")


def test_temporary_run_directory_goes_with_the_estimator(bench):
    est = tiny().fit(bench.train.x, bench.train.a)
    run_dir = est.run_dir_
    assert run_dir.is_dir()
    del est
    gc.collect()
    assert not run_dir.exists()


def test_regimes_are_one_hot_with_a_saved_vocabulary(tmp_path):
    data = load_benchmark("interventions_unknown_targets", n_samples=1_000, seed=0)
    labels = data.train.a.argmax(-1) * 3 + 7  # (n, 1) integer regimes 7, 10, ..., 67
    est = tiny().fit(data.train.x, labels)
    assert est.aux_type_ == "discrete"
    np.testing.assert_array_equal(est.regime_values_, np.arange(21) * 3 + 7)
    assert est.graph_a_.shape == (4, 21) and est.action_names_[:2] == ("a=7", "a=10")
    loaded = MechanismSparsityVAE.load(est.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.regime_values_, est.regime_values_)
    # the fast preset's ``auto`` resolves to regimes as shifts, rebuilt as such on load
    assert loaded.model_.prior.regime_effect == est.model_.prior.regime_effect == "shift"
    assert loaded.model_.prior.variance == "parents"
    test_labels = data.test.a.argmax(-1) * 3 + 7
    assert loaded.score(data.test.x, test_labels) == est.score(data.test.x, test_labels)
    with pytest.raises(ValueError, match=r"regimes \[8\] that fit never saw"):
        loaded.transform(data.test.x, np.full((100, 1), 8))
    with pytest.raises(ValueError, match=r"regimes \[8\] that fit never saw"):
        loaded.score(data.test.x, np.full((100, 1), 8))


def test_temporal_data_learn_graph_z():
    data = load_benchmark("temporal_sparsity_trivial", n_samples=500, seed=0)
    est = tiny(3, edges=2).fit(data.train.x)
    assert est.graph_z_.shape == (3, 3) and est.graph_a_ is None
    assert est.edges_ == {"graph_z": 2, "graph_a": None} and est.config_.regularizer.edges_z == 2
    assert est.transform(data.test.x).shape == (50, 2, 3)


def test_standardisation_uses_training_statistics(bench):
    x = bench.train.x * 5.0 + 3.0
    est = tiny(standardize=True).fit(x, bench.train.a, x_valid=bench.valid.x, a_valid=bench.valid.a)
    frames = x.reshape(-1, 20).astype(np.float64)
    np.testing.assert_allclose(est.mean_, frames.mean(0), rtol=1e-6)
    np.testing.assert_allclose(est.scale_, frames.std(0), rtol=1e-6)
    flat = bench.train.x.copy()
    flat[:, :, 7] = 2.5
    with pytest.raises(ValueError, match=r"feature 'x7' \(column 7\) is constant"):
        tiny().fit(flat, bench.train.a)
    raw = tiny(standardize=False).fit(bench.train.x, bench.train.a)
    assert (raw.mean_ == 0).all() and (raw.scale_ == 1).all()


def test_dataframe_feature_names_are_checked(bench):
    columns = [f"f{j}" for j in range(20)]
    frame = pd.DataFrame(bench.train.x[:, 0], columns=columns)
    est = tiny().fit(frame, bench.train.a[:, 0])
    assert list(est.feature_names_in_) == columns
    test = pd.DataFrame(bench.test.x[:, 0], columns=columns)
    z = est.transform(test)
    assert z.shape == (100, 4)
    np.testing.assert_array_equal(est.transform(test[columns[::-1]]), z)  # reordered by name
    with pytest.raises(ValueError, match=r"missing \['f3'\], unexpected \['g3'\]"):
        est.transform(test.rename(columns={"f3": "g3"}))
    with pytest.raises(ValueError, match=r"x has 19 features per frame.*fitted with 20"):
        est.transform(bench.test.x[:, 0, :19])


def test_data_errors(bench):
    x, a = bench.train.x, bench.train.a
    with pytest.raises(ValueError, match=r"x and a must have the same \(n, T\)"):
        tiny().fit(x, a[:-1])
    with pytest.raises(ValueError, match=r"x and a must have the same \(n, T\)"):
        tiny().fit(np.repeat(x, 2, axis=1), a)
    bad = x.copy()
    bad[3, 0, 2] = np.inf
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values.*\(3, 0, 2\)"):
        tiny().fit(bad, a)
    with pytest.raises(ValueError, match="no a: mechanism sparsity needs"):
        tiny().fit(x)
    with pytest.raises(ValueError, match="x has 9 sequences; fit needs at least 10"):
        tiny().fit(x[:9], a[:9])
    with pytest.raises(ValueError, match=r"x_valid must have the \(T, d_x\)"):
        tiny().fit(x, a, x_valid=x[:5, :, :3], a_valid=a[:5])
    with pytest.raises(ValueError, match=r"regimes \[9\] that a does not"):
        regimes = np.zeros((len(x), 1), dtype=int)
        tiny().fit(x, regimes, x_valid=x[:5], a_valid=np.full((5, 1), 9))


def test_parameter_errors(bench):
    x, a = bench.train.x, bench.train.a
    cases = [
        (dict(edges=41), ValueError, r"edges for graph_a must be at most its 40 possible"),
        (dict(edges="true"), ValueError, r"'true'.*synthetic benchmarks"),
        (dict(edges={"graph_b": 1}), ValueError, r"edges keys must be among"),
        (dict(regularizer="penalty"), ValueError, r"needs coef"),
        (
            dict(regularizer="penalty", coef=1.0, edges=3),
            ValueError,
            r"edges bounds the constraint",
        ),
        (dict(coef=1.0), ValueError, r"coef is the penalty coefficient"),
        (dict(regularizer="lasso"), ValueError, r"unknown regularizer 'lasso'"),
        (dict(config_overrides={"seed": 3}), ValueError, r"'seed' is set by the estimator's"),
        (dict(config_overrides={"optim": {"max_steps": 3}}), ValueError, r"'max_steps'"),
        (dict(config_overrides={"data.n_samples": 3}), ValueError, r"synthetic benchmarks"),
        (dict(config_overrides={"model.width": 3}), ValueError, r"unknown config key"),
        (dict(valid_fraction=0.9), ValueError, r"valid_fraction must be in"),
        (dict(max_steps=0), ValueError, r"max_steps must be an integer >= 1"),
    ]
    for params, error, message in cases:
        est = MechanismSparsityVAE(4, **{"config_overrides": TINY, **params})
        with pytest.raises(error, match=message):
            est.fit(x, a)
    with pytest.raises(ValueError, match="n_latents must be an integer >= 1"):
        MechanismSparsityVAE(0).fit(x, a)


def test_a_budget_shorter_than_the_schedule_warns(bench):
    overrides = {**TINY, "regularizer.schedule_steps": 40}
    with pytest.warns(ShortScheduleWarning, match=r"final bound is 22 for graph_a \(k = 4\)"):
        tiny(edges=4, config_overrides=overrides).fit(bench.train.x, bench.train.a)


def test_a_budget_shorter_than_the_penalty_warm_up_warns(bench):
    overrides = {**TINY, "regularizer.coef_warmup_steps": 40}
    with pytest.warns(ShortScheduleWarning, match=r"the final coefficient is 0\.5"):
        tiny(regularizer="penalty", coef=1.0, config_overrides=overrides).fit(
            bench.train.x, bench.train.a
        )


def test_a_budget_that_ends_before_the_realignment_warns(bench):
    overrides = {**TINY, "regularizer.realign_at_step": 10_000}
    with pytest.warns(ShortScheduleWarning, match=r"realignment .* it never runs"):
        tiny(config_overrides=overrides).fit(bench.train.x, bench.train.a)


def test_penalty_and_none_regularizers(bench):
    pen = tiny(regularizer="penalty", coef=1.0).fit(bench.train.x, bench.train.a)
    assert pen.config_.regularizer.kind == "penalty" and pen.config_.regularizer.coef == 1.0
    assert pen.edges_ == {"graph_z": None, "graph_a": None}
    free = tiny(regularizer="none").fit(bench.train.x, bench.train.a)
    assert (free.graph_a_ == 1).all() and (free.edge_probabilities_a_ == 1).all()


def test_fit_reproduces_a_train_run():
    """The estimator runs the trainer itself: on a benchmark's splits, with the same config
    and seed, it reproduces the train run's latents exactly (without standardisation) and its
    test MCC within 0.01 (with it)."""
    torch.set_num_threads(1)
    small = {
        **TINY,
        "model.encoder_width": 64,
        "model.encoder_depth": 2,
        "model.decoder_width": 64,
        "model.decoder_depth": 2,
        "optim.batch_size": 256,
        "optim.eval_every": 300,
        "optim.checkpoint_every": 300,
        "regularizer.schedule_steps": 150,
    }
    data = load_benchmark("action_sparsity_trivial", n_samples=4_000, seed=0)
    config = preset("fast").updated(
        {
            **small,
            "data.benchmark": "action_sparsity_trivial",
            "data.n_samples": 4_000,
            "optim.max_steps": 300,
            "optim.device": "cpu",
        }
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        reference = train(config, f"{tmp}/run", data=data, progress=False, report=False)
        z_train_run = np.load(f"{tmp}/run/z_hat.npz")["z_hat"]
    mcc_train = reference.scores["mcc"]
    for standardize in (False, True):
        est = MechanismSparsityVAE(
            10,
            edges=10,
            max_steps=300,
            device="cpu",
            standardize=standardize,
            config_overrides=small,
        ).fit(data.train.x, data.train.a, x_valid=data.valid.x, a_valid=data.valid.a)
        z = est.transform(data.test.x)
        score = mcc(data.test.z, z).score
        assert abs(score - mcc_train) < 0.01, (standardize, score, mcc_train)
        if not standardize:
            np.testing.assert_array_equal(z, z_train_run)
            assert score == pytest.approx(mcc_train, abs=1e-12)
    assert json.loads((est.run_dir_ / "estimator.json").read_text())["standardize"] is True
