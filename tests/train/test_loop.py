import json

import numpy as np
import pytest
import torch

from mechsparse.train import (
    CheckpointError,
    RunDirError,
    TrainingDiverged,
    load_checkpoint,
    load_trained_model,
    preset,
    train,
)
from mechsparse.train.regularizers import SparsityProblem


def tiny(**overrides):
    """A seconds-long run on small data with a small model."""
    base = {
        "data.benchmark": "action_sparsity_trivial",
        "data.n_samples": 3_000,
        "model.encoder_width": 32,
        "model.encoder_depth": 2,
        "model.decoder_width": 32,
        "model.decoder_depth": 2,
        "model.prior_width": 16,
        "model.prior_depth": 1,
        "regularizer.schedule_steps": 20,
        "regularizer.coef_warmup_steps": 20,
        "optim.batch_size": 64,
        "optim.max_steps": 40,
        "optim.eval_every": 20,
        "optim.log_every": 5,
        "optim.checkpoint_every": 10,
        "optim.eval_frames": 500,
        "optim.device": "cpu",
    }
    return preset("fast").updated({**base, **overrides})


def test_run_directory_contents(tmp_path):
    result = train(tiny(), tmp_path / "run", progress=False, report=False)
    run = tmp_path / "run"
    for name in (
        "config.yaml",
        "metrics.jsonl",
        "final.json",
        "z_hat.npz",
        "checkpoints/last.safetensors",
    ):
        assert (run / name).is_file(), name
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train_records = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in train_records] == list(range(5, 41, 5))
    assert {"loss", "expected_edges_a", "bound_a", "multiplier_a", "violation_a"} <= set(
        train_records[0]
    )
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [20, 40]
    assert {"mcc", "linear_r", "consistent_r", "shd_a", "valid/nll"} <= set(evals[0])
    final = result.final
    assert final["step"] == 40 and 0 <= final["scores"]["mcc"] <= 1
    assert np.asarray(final["graph_a"]["probabilities"]).shape == (10, 10)
    assert sorted(final["permutation"]) == list(range(10))
    z = np.load(run / "z_hat.npz", allow_pickle=False)
    assert z["z_hat"].shape == z["z"].shape == (300, 1, 10)
    # the bound follows the schedule: max 100 at step 0 → k = 10 from step 20 on
    assert train_records[-1]["bound_a"] == 10


def test_same_seed_same_numbers_on_cpu(tmp_path):
    a = train(tiny(), tmp_path / "a", progress=False, report=False).final
    b = train(tiny(), tmp_path / "b", progress=False, report=False).final
    assert a["scores"] == b["scores"]
    c = train(tiny(seed=1), tmp_path / "c", progress=False, report=False).final
    assert c["scores"]["mcc"] != a["scores"]["mcc"]


def test_killed_and_resumed_run_ends_identical(tmp_path, monkeypatch):
    config = tiny()
    reference = train(config, tmp_path / "ref", progress=False, report=False).final

    original = SparsityProblem.compute_cmp_state

    def killed_at_27(self, x, a, step):
        if step == 27:
            raise KeyboardInterrupt("simulated kill")
        return original(self, x, a, step)

    monkeypatch.setattr(SparsityProblem, "compute_cmp_state", killed_at_27)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "run", progress=False, report=False)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")["step"] == 20
    monkeypatch.setattr(SparsityProblem, "compute_cmp_state", original)
    resumed = train(config, tmp_path / "run", resume=True, progress=False, report=False).final
    assert resumed["scores"] == reference["scores"]
    assert resumed["graph_a"] == reference["graph_a"]
    ref_lines = (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()
    run_lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    strip = lambda lines: [{k: v for k, v in json.loads(x).items() if k != "time_s"} for x in lines]  # noqa: E731
    assert strip(run_lines) == strip(ref_lines)


def test_refuses_a_directory_holding_another_run(tmp_path):
    train(tiny(), tmp_path / "run", progress=False, report=False)
    before = sorted(p.name for p in (tmp_path / "run").iterdir())
    with pytest.raises(RunDirError, match="already holds a run"):
        train(tiny(), tmp_path / "run", progress=False, report=False)
    with pytest.raises(RunDirError, match="differs in seed"):
        train(tiny(seed=5), tmp_path / "run", resume=True, progress=False, report=False)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="holds other files"):
        train(tiny(), other, progress=False, report=False)
    assert (other / "notes.txt").read_text() == "mine"


def test_resume_ignores_only_settings_the_run_never_reads(tmp_path):
    # a constraint run reads neither the penalty coefficient nor the baselines' settings, so a
    # changed default of either must not lock it out; a setting it reads still does
    first = train(tiny(), tmp_path / "run", progress=False, report=False).final
    unread = tiny(
        **{"regularizer.coef": 0.5, "regularizer.coef_warmup_steps": 7, "baseline.beta": 3.0}
    )
    again = train(unread, tmp_path / "run", resume=True, progress=False, report=False).final
    assert again["scores"] == first["scores"]
    with pytest.raises(RunDirError, match=r"differs in regularizer\.dual_lr"):
        train(tiny(**{"regularizer.dual_lr": 0.5}), tmp_path / "run", resume=True, progress=False)
    # under the penalty the coefficient is read, and the bound is not
    pen = tiny(**{"regularizer.kind": "penalty", "regularizer.coef": 2.0})
    train(pen, tmp_path / "pen", progress=False, report=False)
    with pytest.raises(RunDirError, match=r"differs in regularizer\.coef"):
        train(pen.updated({"regularizer.coef": 1.0}), tmp_path / "pen", resume=True, progress=False)
    longer = pen.updated({"regularizer.coef_warmup_steps": 30})
    with pytest.raises(RunDirError, match=r"differs in regularizer\.coef_warmup_steps"):
        train(longer, tmp_path / "pen", resume=True, progress=False)
    bound = pen.updated({"regularizer.edges_a": 3})
    train(bound, tmp_path / "pen", resume=True, progress=False, report=False)


@pytest.mark.parametrize("content", [b"not a checkpoint at all", None])
def test_corrupt_or_foreign_checkpoint(tmp_path, content):
    run = tmp_path / "run"
    train(tiny(**{"optim.max_steps": 10}), run, progress=False, report=False)
    (run / "final.json").unlink()
    ckpt = run / "checkpoints" / "last.safetensors"
    if content is None:  # a valid safetensors file written by someone else
        from safetensors.torch import save_file

        save_file({"w": torch.zeros(2)}, str(ckpt))
        match = "not a mechsparse checkpoint"
    else:
        ckpt.write_bytes(content)
        match = "corrupt"
    with pytest.raises(CheckpointError, match=match):
        train(tiny(**{"optim.max_steps": 10}), run, resume=True, progress=False, report=False)


def test_edge_bound_larger_than_the_graph(tmp_path):
    with pytest.raises(ValueError, match="between 0 and 100"):
        train(tiny(**{"regularizer.edges_a": 101}), tmp_path / "r", progress=False, report=False)
    assert not (tmp_path / "r").exists()  # nothing written, so the fixed command can run there


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    original = SparsityProblem.compute_cmp_state

    def nan_after_12(self, x, a, step):
        state = original(self, x, a, step)
        if step >= 12:
            state.loss = state.loss * float("nan")
        return state

    monkeypatch.setattr(SparsityProblem, "compute_cmp_state", nan_after_12)
    with pytest.raises(TrainingDiverged, match="NaN or infinite"):
        train(tiny(), tmp_path / "run", progress=False, report=False)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert state["step"] == 10
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert not (tmp_path / "run" / "final.json").exists()


def test_resume_with_a_larger_budget_extends_a_finished_run(tmp_path):
    short = train(tiny(), tmp_path / "run", progress=False, report=False).final
    assert short["step"] == 40
    again = train(tiny(), tmp_path / "run", resume=True, progress=False, report=False).final
    assert again == short  # finished: nothing is redone
    longer = tiny(**{"optim.max_steps": 60})
    extended = train(longer, tmp_path / "run", resume=True, progress=False, report=False).final
    fresh = train(longer, tmp_path / "fresh", progress=False, report=False).final
    assert extended["step"] == 60
    assert extended["scores"] == fresh["scores"]


def test_both_graphs_and_long_sequences_in_one_run(tmp_path):
    """G^z and G^a learned together on T = 4 sequences with actions, no ground truth."""
    from mechsparse.data import Benchmark, Split

    rng = np.random.default_rng(0)

    def split(n):
        x = rng.normal(size=(n, 4, 6)).astype(np.float32)
        a = rng.uniform(-2, 2, size=(n, 4, 3)).astype(np.float32)
        return Split(x=x, z=None, a=a)

    data = Benchmark(
        name="user",
        train=split(200),
        valid=split(40),
        test=split(40),
        graph_z=None,
        graph_a=None,
        aux_type="continuous",
        params={},
    )
    config = tiny(**{"model.n_latents": 3, "regularizer.edges_z": 4, "regularizer.edges_a": 5})
    final = train(config, tmp_path / "run", data=data, progress=False, report=False).final
    assert np.asarray(final["graph_z"]["probabilities"]).shape == (3, 3)
    assert np.asarray(final["graph_a"]["probabilities"]).shape == (3, 3)
    assert final["graph_z"]["true"] is None and "mcc" not in final["scores"]
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in records if r["kind"] == "train"][-1]
    assert last["bound_z"] == 4 and last["bound_a"] == 5


def test_regime_shift_trains_on_regimes_and_is_refused_for_actions(tmp_path):
    config = tiny(
        **{
            "data.benchmark": "interventions_unknown_targets",
            "model.regime_effect": "shift",
            "model.transition_variance": "parents",
        }
    )
    result = train(config, tmp_path / "regimes", progress=False, report=False)
    assert np.isfinite(result.final["scores"]["mcc"])
    assert np.asarray(result.final["graph_a"]["probabilities"]).shape == (10, 21)
    with pytest.raises(ValueError, match="regime_effect='shift' needs discrete"):
        train(tiny(**{"model.regime_effect": "shift"}), tmp_path / "a", progress=False)
    assert not (tmp_path / "a").exists()  # refused before anything is written


def test_additive_realignment_is_refused_for_data_without_sequences(tmp_path):
    config = tiny(
        **{"regularizer.realign_at_step": 10, "regularizer.realign_map_search": "additive"}
    )
    with pytest.raises(ValueError, match="needs sequences"):
        train(config, tmp_path / "a", progress=False)
    assert not (tmp_path / "a").exists()  # refused before anything is written


def test_additive_mechanisms_train_and_reload(tmp_path):
    config = tiny(
        **{"data.benchmark": "temporal_sparsity_non_trivial", "model.prior_mechanism": "additive"}
    )
    result = train(config, tmp_path / "run", progress=False, report=False)
    assert np.isfinite(result.final["scores"]["mcc"])
    assert np.asarray(result.final["graph_z"]["probabilities"]).shape == (10, 10)
    model = load_trained_model(tmp_path / "run")
    assert model.prior.mechanism == "additive" and model.prior.term_first.n_nets == 100


REALIGN = {
    "regularizer.realign_at_step": 25,
    "regularizer.realign_steps": 30,
    "regularizer.realign_schedule_steps": 10,
    "regularizer.realign_batch_size": 128,
    "regularizer.realign_warmup_steps": 8,
}


def test_realignment_is_recorded_and_learning_rates_warm_up_after_it(tmp_path, monkeypatch):
    from mechsparse.train import loop

    factors = []
    original = loop._Setup.scale_learning_rates

    def spy(self, scale):
        factors.append(scale)
        original(self, scale)
        assert [g["lr"] for g in self.primal.param_groups] == [b * scale for b in self.base_lrs]

    monkeypatch.setattr(loop._Setup, "scale_learning_rates", spy)
    train(tiny(**REALIGN), tmp_path / "run", progress=False, report=False)
    # the update after step s gets factor min(1, (s + 1 − 25) / 8) from step 25 on
    assert factors[:25] == [1.0] * 25
    assert factors[25:34] == pytest.approx([1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 7 / 8, 1, 1])
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    realign = [r for r in records if r["kind"] == "realign"]
    assert len(realign) == 1 and realign[0]["step"] == 25
    assert {"realign_loss", "realign_seconds", "realign_expected_edges_a", "mcc"} <= set(realign[0])


@pytest.mark.parametrize("kill_at", [23, 27])
def test_run_killed_before_or_after_the_realignment_resumes_identical(
    tmp_path, monkeypatch, kill_at
):
    """Killed before it (resumed from step 20: the realignment is redone exactly) or after it
    (resumed from the checkpoint written right after it, at step 25)."""
    config = tiny(**REALIGN)
    reference = train(config, tmp_path / "ref", progress=False, report=False).final
    original = SparsityProblem.compute_cmp_state

    def killed(self, x, a, step):
        if step == kill_at and x.shape[0] == 64:  # a VAE step, not one of the realignment's
            raise KeyboardInterrupt("simulated kill")
        return original(self, x, a, step)

    monkeypatch.setattr(SparsityProblem, "compute_cmp_state", killed)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "run", progress=False, report=False)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert checkpoint["step"] == (20 if kill_at < 25 else 25)
    monkeypatch.setattr(SparsityProblem, "compute_cmp_state", original)
    resumed = train(config, tmp_path / "run", resume=True, progress=False, report=False).final
    assert resumed["scores"] == reference["scores"]
    assert resumed["graph_a"] == reference["graph_a"]
