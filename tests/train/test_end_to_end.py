"""One short real training run: the sparsity constraint must beat the unregularised VAE."""

from mechsparse.data import load_benchmark
from mechsparse.train import preset, train


def test_constraint_beats_unregularised_on_mcc(tmp_path):
    data = load_benchmark("action_sparsity_trivial", n_samples=30_000, seed=0)
    common = {
        "data.benchmark": "action_sparsity_trivial",
        "data.n_samples": 30_000,
        "regularizer.schedule_steps": 1_500,
        "optim.max_steps": 2_500,
        "optim.eval_every": 2_500,
        "optim.checkpoint_every": 2_500,
        "optim.eval_frames": 3_000,
        "optim.device": "cpu",
        # the ELBO (β = 1): at the fast preset's β = 0.5 for T = 1 data the latents align later
        # in training, and 2,500 steps show no gap yet (MCC 0.61 against 0.58; at β = 1: 0.82
        # against 0.63); from 12k steps on the two β agree (BENCHMARKS.md, "The KL weight β")
        "model.beta": 1.0,
    }
    scores = {}
    for kind in ("constraint", "none"):
        config = preset("fast").updated({**common, "regularizer.kind": kind})
        scores[kind] = train(
            config, tmp_path / kind, data=data, progress=False, report=False
        ).scores
    assert scores["constraint"]["mcc"] > scores["none"]["mcc"] + 0.1, scores
    assert scores["constraint"]["shd_a"] < scores["none"]["shd_a"]
