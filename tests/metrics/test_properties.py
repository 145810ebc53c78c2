"""Property tests (hypothesis) for the invariances the metrics must have (spec Appendix B)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsparse.metrics import consistent_r, graph_errors, linear_r, mcc, udr

FAST = settings(max_examples=30, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def affine_relabelling(draw):
    """(z, z_hat, perm) with z_hat[:, j] = s_j · z[:, perm[j]] + b_j, s_j ≠ 0."""
    d = draw(st.integers(1, 6))
    perm = np.array(draw(st.permutations(range(d))))
    magnitudes = draw(st.lists(st.floats(0.1, 10.0), min_size=d, max_size=d))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    shifts = draw(st.lists(st.floats(-100.0, 100.0), min_size=d, max_size=d))
    z = np.random.default_rng(draw(SEEDS)).normal(size=(300, d))
    z_hat = z[:, perm] * (np.array(magnitudes) * np.array(signs)) + np.array(shifts)
    return z, z_hat, perm


@FAST
@given(affine_relabelling())
def test_pearson_mcc_is_one_under_permutation_scaling_and_shift(case):
    z, z_hat, perm = case
    result = mcc(z, z_hat)
    assert abs(result.score - 1.0) < 1e-6
    # z_hat column j holds z_{perm[j]}, so true latent perm[j] is matched to learned j
    np.testing.assert_array_equal(result.permutation[perm], np.arange(len(perm)))


@FAST
@given(affine_relabelling())
def test_consistent_r_with_identity_pattern_is_one(case):
    z, z_hat, _ = case
    perm = mcc(z, z_hat).permutation
    result = consistent_r(z, z_hat, np.eye(z.shape[1], dtype=int), perm)
    assert abs(result.score - 1.0) < 1e-6
    assert abs(linear_r(z, z_hat).score - 1.0) < 1e-6


@FAST
@given(SEEDS, st.integers(1, 5))
def test_consistent_r_with_identity_pattern_equals_pearson_mcc(seed, d):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(400, d))
    z_hat = z @ rng.normal(size=(d, d)) + 0.5 * rng.normal(size=(400, d))
    result = mcc(z, z_hat)
    cons = consistent_r(z, z_hat, np.eye(d, dtype=int), result.permutation)
    assert abs(cons.score - result.score) < 1e-8


_MONOTONE = {
    "cube": lambda x: x**3,
    "exp": np.exp,
    "tanh": lambda x: np.tanh(x / 2),
    "arctan": np.arctan,
    "cube_plus_linear": lambda x: x + x**3,
}


@FAST
@given(
    SEEDS,
    st.integers(1, 5).flatmap(
        lambda d: st.tuples(
            st.permutations(range(d)),
            st.lists(st.sampled_from(sorted(_MONOTONE)), min_size=d, max_size=d),
            st.lists(st.booleans(), min_size=d, max_size=d),
        )
    ),
)
def test_spearman_mcc_is_one_under_strictly_monotone_maps(seed, spec):
    perm, names, decreasing = spec
    z = np.random.default_rng(seed).normal(size=(300, len(perm)))
    columns = []
    for j, (name, down) in enumerate(zip(names, decreasing, strict=True)):
        mapped = _MONOTONE[name](z[:, perm[j]])
        columns.append(-mapped if down else mapped)
    z_hat = np.stack(columns, axis=1)
    assert abs(mcc(z, z_hat, method="spearman").score - 1.0) < 1e-6


@st.composite
def binary_graph(draw):
    kind = draw(st.sampled_from(["z", "a"]))
    d = draw(st.integers(1, 6))
    n_parents = d if kind == "z" else draw(st.integers(1, 6))
    bits = draw(st.lists(st.booleans(), min_size=d * n_parents, max_size=d * n_parents))
    perm = np.array(draw(st.permutations(range(d))))
    return np.array(bits, dtype=int).reshape(d, n_parents), kind, perm


@FAST
@given(binary_graph())
def test_shd_of_a_graph_with_itself_is_zero(case):
    graph, kind, _ = case
    errors = graph_errors(graph, graph, np.arange(graph.shape[0]), kind)
    assert (errors.fn, errors.fp, errors.shd) == (0, 0, 0)


@FAST
@given(binary_graph())
def test_relabelled_graph_has_no_error_under_its_permutation(case):
    graph, kind, perm = case
    learned = np.zeros_like(graph)
    if kind == "z":
        learned[np.ix_(perm, perm)] = graph  # learned[π(i), π(k)] = G[i, k]
    else:
        learned[perm, :] = graph  # learned[π(i), :] = G[i, :]
    errors = graph_errors(graph, learned, perm, kind)
    assert errors.shd == 0
    np.testing.assert_array_equal(errors.permuted, graph)


@settings(max_examples=10, deadline=None)
@given(SEEDS, st.integers(2000, 4000))
def test_independent_noise_scores_low(seed, n):
    rng = np.random.default_rng(seed)
    z, noise = rng.normal(size=(n, 5)), rng.normal(size=(n, 5))
    assert mcc(z, noise).score < 0.2
    assert linear_r(z, noise).score < 0.2


@FAST
@given(SEEDS, st.integers(2, 5), affine_relabelling())
def test_udr_of_identical_and_relabelled_representations_is_one(seed, n_runs, case):
    z, z_hat, _ = case
    identical = udr([z] * n_runs)
    assert abs(identical.mean - 1.0) < 1e-6 and abs(identical.median - 1.0) < 1e-6
    relabelled = udr([z, z_hat])
    assert abs(relabelled.mean - 1.0) < 1e-6
    assert identical.pairwise.shape == (n_runs, n_runs)
