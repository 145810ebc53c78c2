"""benchmarks/prior_fit.py: the prior fitted to the true latents explains their transitions."""

from mechsparse.data import load_benchmark


def test_fit_explains_the_true_transitions_of_temporal_sparsity_trivial(benchmark_script):
    script = benchmark_script("prior_fit")
    benchmark = load_benchmark("temporal_sparsity_trivial", n_samples=2000)
    z = benchmark.test.z
    for mechanism in ("mlp", "additive"):
        residual = script.fit(benchmark, mechanism, steps=150, seed=0)["residual"]
        assert residual.shape == (10,)
        # z^1 varies by about 1.2 (std 1.1) around 0; a fitted prior leaves under 2 % of it
        assert (residual < 0.02 * z[:, 1].var(0)).all(), (mechanism, residual)


def test_main_prints_a_row_per_mechanism(capsys, benchmark_script):
    script = benchmark_script("prior_fit")
    script.main(["--benchmarks", "action_sparsity_trivial", "--steps", "20", "--samples", "300"])
    out = capsys.readouterr().out
    assert "| action_sparsity_trivial | mlp |" in out
    assert "| action_sparsity_trivial | additive |" in out
