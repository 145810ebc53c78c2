"""Contract and known-answer tests of the benchmark generators (spec §1, Appendix B)."""

import json

import numpy as np
import pytest

from mechsparse.data import Benchmark, Split, list_benchmarks, load_benchmark
from mechsparse.data.benchmarks import data_streams
from mechsparse.data.graphs import default_intervention_targets
from mechsparse.data.mixing import make_mixing
from mechsparse.theory import fully_disentangled

N = 2_000
ACTION = "action_sparsity_non_trivial"
TEMPORAL = "temporal_sparsity_non_trivial"
INTERVENTIONS = "interventions_unknown_targets"

# name -> (T, d_a, aux_type, edges of graph_z, edges of graph_a)
EXPECTED = {
    "action_sparsity_trivial": (1, 10, "continuous", 0, 10),
    "action_sparsity_non_trivial": (1, 10, "continuous", 0, 20),
    "action_sparsity_non_trivial_k=2": (1, 10, "continuous", 0, 20),
    "action_sparsity_non_trivial_no_suff_var": (1, 10, "continuous", 0, 20),
    "action_sparsity_non_trivial_no_graph_crit": (1, 10, "continuous", 0, 20),
    "temporal_sparsity_trivial": (2, 0, None, 10, 0),
    "temporal_sparsity_non_trivial": (2, 0, None, 55, 0),
    "temporal_sparsity_non_trivial_k=2": (2, 0, None, 55, 0),
    "temporal_sparsity_non_trivial_no_suff_var": (2, 0, None, 55, 0),
    "temporal_sparsity_non_trivial_no_graph_crit": (2, 0, None, 50, 0),
    "interventions_unknown_targets": (1, 21, "discrete", 0, 40),
}


def omega_phase(d_z=10):
    return (np.arange(d_z) + 3) / np.pi, np.arange(d_z)


def sinusoid_sum(u, graph):
    """Direct Σ_j G_ij sin(ω_i u_j + φ_i), shape (n, d_z) (reference formula, no tricks)."""
    omega, phase = omega_phase(graph.shape[0])
    args = omega[None, :, None] * u[:, None, :] + phase[None, :, None]  # (n, d_z, d_par)
    return (np.sin(args) * graph[None]).sum(axis=2)


@pytest.fixture(scope="module")
def benchmarks():
    return {name: load_benchmark(name, n_samples=N, seed=3) for name in list_benchmarks()}


def test_registry_names():
    assert list_benchmarks() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_contract(benchmarks, name):
    bench = benchmarks[name]
    T, d_a, aux_type, edges_z, edges_a = EXPECTED[name]
    assert isinstance(bench, Benchmark) and bench.name == name
    assert (bench.T, bench.d_z, bench.d_x, bench.d_a) == (T, 10, 20, d_a)
    assert bench.aux_type == aux_type
    assert (bench.n_edges_z, bench.n_edges_a) == (edges_z, edges_a)
    assert bench.description
    sizes = {"train": 1_600, "valid": 200, "test": 200}
    for split_name, n in sizes.items():
        split = bench.split(split_name)
        assert isinstance(split, Split) and (split.n, split.T) == (n, T)
        assert split.x.shape == (n, T, 20) and split.x.dtype == np.float32
        assert split.z.shape == (n, T, 10) and split.z.dtype == np.float32
        assert np.isfinite(split.x).all() and np.isfinite(split.z).all()
        if d_a:
            assert split.a.shape == (n, T, d_a) and split.a.dtype == np.float32
            assert np.isfinite(split.a).all()
        else:
            assert split.a is None
    for graph, edges in ((bench.graph_z, edges_z), (bench.graph_a, edges_a)):
        if edges == 0:
            assert graph is None
        else:
            assert graph.dtype == np.int64 and set(np.unique(graph)) <= {0, 1}
    params = json.loads(json.dumps(bench.params))  # JSON-serialisable
    assert params["name"] == name and params["seed"] == 3 and params["n_samples"] == N
    assert (params["n_train"], params["n_valid"], params["n_test"]) == (1_600, 200, 200)
    with pytest.raises(ValueError, match="unknown split"):
        bench.split("validation")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_determinism_and_seed_dependence(benchmarks, name):
    again = load_benchmark(name, n_samples=N, seed=3)
    other = load_benchmark(name, n_samples=N, seed=4)
    bench = benchmarks[name]
    for split_name in ("train", "valid", "test"):
        first, second = bench.split(split_name), again.split(split_name)
        np.testing.assert_array_equal(first.x, second.x)
        np.testing.assert_array_equal(first.z, second.z)
        if first.a is not None:
            np.testing.assert_array_equal(first.a, second.a)
    assert not np.allclose(bench.train.x, other.train.x)
    assert not np.allclose(bench.train.z, other.train.z)
    for key in ("graph_z", "graph_a"):  # fixed graphs do not depend on the data seed
        if getattr(bench, key) is not None:
            np.testing.assert_array_equal(getattr(bench, key), getattr(other, key))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_standardisation_uses_train_statistics(benchmarks, name):
    bench = benchmarks[name]
    x = bench.train.x.reshape(-1, 20).astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=2e-3)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=2e-3)  # noise adds only 5e-5
    # Rebuild f from the documented seed tree and check valid/test use the TRAIN statistics.
    mixing = make_mixing(10, 20, data_streams(3)["mixing"])
    clean = mixing(bench.train.z.astype(np.float64)).reshape(-1, 20)
    loc, scale = clean.mean(axis=0), clean.std(axis=0)
    for split in (bench.valid, bench.test):
        expected = (mixing(split.z.astype(np.float64)) - loc) / scale
        residual = split.x - expected
        assert np.abs(residual).max() < 0.06  # observation noise std 0.01
        assert 0.008 < residual.std() < 0.012


@pytest.mark.parametrize("name", [n for n in EXPECTED if EXPECTED[n][1]])
def test_valid_and_test_auxiliaries_are_fresh_draws(benchmarks, name):
    bench = benchmarks[name]
    for split in (bench.valid, bench.test):
        assert not np.array_equal(split.a, bench.train.a[: split.n])
    assert not np.array_equal(bench.valid.a, bench.test.a)
    if name.startswith("action"):  # no validation action vector occurs in the training set
        train_rows = {row.tobytes() for row in bench.train.a[:, 0]}
        assert not any(row.tobytes() in train_rows for row in bench.valid.a[:, 0])


def test_temporal_initial_states_differ_between_splits(benchmarks):
    bench = benchmarks[TEMPORAL]
    assert not np.allclose(bench.valid.z[:, 0], bench.train.z[: bench.valid.n, 0])


def test_action_mechanism_and_latent_statistics():
    bench = load_benchmark(ACTION, n_samples=20_000, seed=0)
    a, z = bench.train.a[:, 0].astype(np.float64), bench.train.z[:, 0].astype(np.float64)
    residual = z - sinusoid_sum(a, bench.graph_a)
    np.testing.assert_allclose(residual.std(axis=0), 0.01, rtol=0.05)
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=1e-3)
    std = z.std(axis=0)
    assert ((std > 0.9) & (std < 1.1)).all()
    assert (np.abs(a) <= 2).all() and a.min() < -1.99 and a.max() > 1.99


def test_temporal_mechanism_and_latent_statistics():
    bench = load_benchmark(TEMPORAL, n_samples=20_000, seed=0)
    z0, z1 = (bench.train.z[:, t].astype(np.float64) for t in (0, 1))
    residual = z1 - z0 - 0.5 * sinusoid_sum(z0, bench.graph_z)
    np.testing.assert_allclose(residual.std(axis=0), 0.01, rtol=0.05)
    np.testing.assert_allclose(z0.std(axis=0), 1.0, atol=0.05)
    std = z1.std(axis=0)
    assert ((std > 1.0) & (std < 1.6)).all()
    corr = np.array([np.corrcoef(z0[:, i], z1[:, i])[0, 1] for i in range(10)])
    assert corr[0] == pytest.approx(0.996, abs=0.01)
    assert corr[-1] == pytest.approx(0.67, abs=0.05)
    assert corr[0] > corr[4] > corr[-1]


def test_trivial_and_no_suff_var_mechanisms(benchmarks):
    trivial = benchmarks["action_sparsity_trivial"].train
    np.testing.assert_allclose(trivial.z[:, 0], np.sin(trivial.a[:, 0]), atol=0.06)
    temporal = benchmarks["temporal_sparsity_trivial"].train
    z0, z1 = temporal.z[:, 0], temporal.z[:, 1]
    np.testing.assert_allclose(z1, z0 + 0.5 * np.sin(z0), atol=0.06)
    # Linear mechanism: z = A a + noise with A supported on the default graph.
    bench = benchmarks["action_sparsity_non_trivial_no_suff_var"]
    a, z = bench.train.a[:, 0].astype(np.float64), bench.train.z[:, 0].astype(np.float64)
    coef, *_ = np.linalg.lstsq(a, z, rcond=None)  # (d_a, d_z) = A^T
    assert (z - a @ coef).std() < 0.012
    assert np.abs(coef.T[bench.graph_a == 0]).max() < 0.01
    assert np.abs(coef.T[bench.graph_a == 1]).min() > 0.01


def test_heteroscedastic_variant_noise_scale(benchmarks):
    bench = benchmarks["action_sparsity_non_trivial_k=2"]
    a, z = bench.train.a[:, 0].astype(np.float64), bench.train.z[:, 0].astype(np.float64)
    omega, phase = omega_phase()
    args = omega[None, :, None] * a[:, None, :] + phase[None, :, None]
    var = (0.1 / 10) * np.exp((np.cos(args) * bench.graph_a[None]).sum(axis=2))
    standardised = (z - sinusoid_sum(a, bench.graph_a)) / np.sqrt(var)
    assert standardised.std() == pytest.approx(1.0, abs=0.05)


def test_interventions_design(benchmarks):
    bench = benchmarks[INTERVENTIONS]
    np.testing.assert_array_equal(bench.graph_a, default_intervention_targets(10))
    assert fully_disentangled(graph_a=bench.graph_a)  # C = I
    np.testing.assert_array_equal(bench.graph_a.sum(axis=1), 4)
    a = bench.train.a[:, 0]
    np.testing.assert_array_equal(a.sum(axis=1), 1.0)  # one-hot
    assert set(np.unique(a)) == {0.0, 1.0}
    assert bench.params["aux_names"][0] == "observational"
    big = load_benchmark(INTERVENTIONS, n_samples=20_000, seed=0)
    regime = big.train.a[:, 0].argmax(axis=1)
    z = big.train.z[:, 0].astype(np.float64)
    np.testing.assert_allclose(z[regime == 0].mean(axis=0), 0.0, atol=0.2)
    np.testing.assert_allclose(z[regime == 0].std(axis=0), 1.0, atol=0.15)
    targeted = z[regime == 1]  # regime 1 targets latents 0 and 1
    assert (np.abs(targeted[:, :2].mean(axis=0)) > 0.7).all()
    np.testing.assert_allclose(targeted[:, 2:].mean(axis=0), 0.0, atol=0.3)


def test_interventions_custom_targets():
    targets = np.zeros((10, 11), dtype=np.int64)
    targets[np.arange(10), np.arange(1, 11)] = 1  # single-node interventions
    bench = load_benchmark(INTERVENTIONS, n_samples=N, graph=targets)
    assert bench.d_a == 11 and bench.n_edges_a == 10
    np.testing.assert_array_equal(bench.graph_a, targets)
    small = load_benchmark(INTERVENTIONS, n_samples=N, d_z=4, d_x=6)
    assert small.d_a == 9 and fully_disentangled(graph_a=small.graph_a)


@pytest.mark.parametrize(
    ("density", "seed", "edges"), [(0.1, 44, 14), (0.4, 11, 49), (0.9, 44, 96)]
)
def test_random_temporal_graphs_match_reference(density, seed, edges):
    bench = load_benchmark(TEMPORAL, n_samples=300, seed=seed, density=density)
    assert bench.n_edges_z == edges
    assert bench.params["graph_source"] == "random" and bench.params["density"] == density


def test_random_action_graphs_have_a_parent_per_latent():
    bench = load_benchmark(ACTION, n_samples=300, seed=44, density=0.1)
    assert (bench.graph_a.sum(axis=1) >= 1).all()
    assert len(bench.params["repaired_rows"]) == 6  # 6 parent-less rows in the reference
    assert bench.n_edges_a == 4 + 6
    for seed in range(5):
        graph = load_benchmark(ACTION, n_samples=300, seed=seed, density=0.15).graph_a
        assert (graph.sum(axis=1) >= 1).all()


@pytest.mark.parametrize(
    ("name", "graph", "d_a", "edges"),
    [
        (ACTION, "graph_action_3_easy", 5, 10),
        (ACTION, "graph_action_3_hard", 5, 12),
        (TEMPORAL, "graph_temporal_3_easy", 0, 20),
        (TEMPORAL, "graph_temporal_3_hard", 0, 32),
    ],
)
def test_named_graphs(name, graph, d_a, edges):
    bench = load_benchmark(name, n_samples=300, graph=graph)
    assert bench.d_a == d_a
    assert bench.n_edges_a + bench.n_edges_z == edges
    assert bench.params["graph"] == graph and bench.params["graph_source"] == "named"


def test_user_graphs():
    action = np.zeros((10, 3), dtype=np.int64)
    action[np.arange(10), np.arange(10) % 3] = 1
    bench = load_benchmark(ACTION, n_samples=300, graph=action)
    assert bench.d_a == 3 and bench.train.a.shape == (240, 1, 3)
    np.testing.assert_array_equal(bench.graph_a, action)
    temporal = np.eye(10, dtype=int)
    temporal[3, 0] = 1
    bench = load_benchmark(TEMPORAL, n_samples=300, graph=temporal.tolist())
    assert bench.n_edges_z == 11 and bench.params["graph_source"] == "user"
    assert bench.params["graph"] == temporal.tolist()


def test_other_dimensions():
    bench = load_benchmark(
        "temporal_sparsity_non_trivial_no_graph_crit", n_samples=300, d_z=5, d_x=7
    )
    assert (bench.d_z, bench.d_x, bench.n_edges_z) == (5, 7, 2 * 2 + 3 * 3)
    bench = load_benchmark("action_sparsity_non_trivial_no_graph_crit", n_samples=300, d_z=5, d_x=5)
    assert bench.n_edges_a == 4 + 9
    bench = load_benchmark(ACTION, n_samples=300, density=0.5, d_a=4)
    assert bench.d_a == 4 and bench.graph_a.shape == (10, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "action_sparsity"}, ValueError, "interventions_unknown_targets"),
        ({"density": 0.0}, ValueError, r"density must be in \(0, 1\]"),
        ({"density": 1.5}, ValueError, r"density must be in \(0, 1\]"),
        ({"density": "high"}, TypeError, "density must be a float"),
        ({"graph": np.ones((10, 9))}, ValueError, r"shape \(10, 10\)"),
        ({"graph": np.full((10, 10), 2)}, ValueError, "only 0 and 1"),
        ({"graph": np.zeros((10, 10))}, ValueError, "all-ones diagonal"),
        ({"graph": "graph_action_3_easy"}, ValueError, "is a action graph"),
        ({"graph": "graph_unknown"}, ValueError, "unknown graph name"),
        ({"graph": "graph_temporal_3_easy", "density": 0.2}, ValueError, "not both"),
        ({"d_a": 3}, ValueError, "d_a is not used by temporal"),
        ({"splits": (0.8, 0.1, 0.2)}, ValueError, "must sum to 1"),
        ({"splits": (1.0, 0.0, 0.0)}, ValueError, "positive"),
        ({"splits": (0.8, 0.2)}, ValueError, "3 entries"),
        ({"n_samples": 5}, ValueError, "too small"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an integer"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"d_z": 10, "d_x": 5}, ValueError, "d_x must be >= d_z"),
    ],
)
def test_bad_input_temporal(kwargs, error, match):
    kwargs = {"name": TEMPORAL, "n_samples": 300, **kwargs}
    with pytest.raises(error, match=match):
        load_benchmark(**kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("action_sparsity_trivial", {"graph": np.eye(10)}, "fixed ground-truth graph"),
        ("temporal_sparsity_trivial", {"density": 0.3}, "fixed ground-truth graph"),
        ("action_sparsity_non_trivial_k=2", {"graph": "graph_action_3_easy"}, "graph= is accepted"),
        ("action_sparsity_trivial", {"d_a": 5}, "d_a must be 10"),
        (ACTION, {"d_a": 5}, "d_a must be 10"),
        (ACTION, {"graph": "graph_action_3_easy", "d_a": 4}, "d_a must be 5"),
        (ACTION, {"graph": np.ones((9, 4))}, r"got \(9, 4\)"),
        (ACTION, {"graph": "graph_action_3_easy", "d_z": 8, "d_x": 8}, "pass d_z=10"),
        (INTERVENTIONS, {"graph": np.ones((10, 5))}, "must be all zero"),
        (INTERVENTIONS, {"graph": "graph_action_3_easy"}, "target matrix"),
        (INTERVENTIONS, {"density": 0.5}, "density= is accepted only by"),
        (INTERVENTIONS, {"d_z": 2, "d_x": 4}, "need d_z >= 3"),
        (INTERVENTIONS, {"d_a": 5}, "d_a must be 21"),
    ],
)
def test_bad_input_combinations(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_benchmark(name, n_samples=300, **kwargs)


def test_sinusoid_kernel_matches_direct_formula():
    from mechsparse.data.benchmarks import _sinusoid_sums

    rng = np.random.default_rng(0)
    u = rng.standard_normal((40_000, 7)) * 3  # wide arguments, several row chunks
    graph = rng.binomial(1, 0.5, size=(12, 7))
    sin_sum, cos_sum = _sinusoid_sums(u, graph, with_cos=True)
    omega, phase = omega_phase(12)
    args = omega[None, :, None] * u[:, None, :] + phase[None, :, None]
    np.testing.assert_allclose(sin_sum, sinusoid_sum(u, graph), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        cos_sum, (np.cos(args) * graph[None]).sum(axis=2), rtol=0, atol=1e-12
    )
