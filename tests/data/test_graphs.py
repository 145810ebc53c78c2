"""Tests of the ground-truth graphs (spec §1.6–§1.7, Appendix B)."""

import numpy as np
import pytest

from mechsparse.data import list_graphs, named_graph
from mechsparse.data.graphs import (
    block_diagonal_graph,
    check_intervention_targets,
    check_temporal_graph,
    default_action_graph,
    default_intervention_targets,
    default_temporal_graph,
    ensure_parent,
    graph_kind,
    random_graph,
)


def test_default_action_graph_is_identity_plus_cyclic_subdiagonal():
    graph = default_action_graph(10)
    assert graph.dtype == np.int64 and graph.shape == (10, 10)
    assert graph.sum() == 20
    np.testing.assert_array_equal(graph.sum(axis=1), 2)
    assert graph[0, 9] == 1
    rows = np.arange(1, 10)
    np.testing.assert_array_equal(graph[rows, rows - 1], 1)
    np.testing.assert_array_equal(np.diag(graph), 1)


def test_default_temporal_graph_is_lower_triangular():
    graph = default_temporal_graph(10)
    assert graph.sum() == 55
    np.testing.assert_array_equal(graph, np.tril(graph))
    np.testing.assert_array_equal(np.diag(graph), 1)


@pytest.mark.parametrize(
    ("name", "shape", "edges"),
    [
        ("graph_action_3_easy", (10, 5), 10),
        ("graph_action_3_hard", (10, 5), 12),
        ("graph_temporal_3_easy", (10, 10), 20),
        ("graph_temporal_3_hard", (10, 10), 32),
    ],
)
def test_named_graphs(name, shape, edges):
    graph = named_graph(name)
    assert graph.dtype == np.int64
    assert graph.shape == shape
    assert graph.sum() == edges
    assert name in list_graphs()
    assert graph_kind(name) == name.split("_")[1]


def test_named_graph_rows_and_copies():
    hard = named_graph("graph_action_3_hard")
    np.testing.assert_array_equal(hard[8], [1, 0, 0, 0, 1])
    hard[:] = 0  # callers get a fresh copy
    assert named_graph("graph_action_3_hard").sum() == 12
    for name in list_graphs("temporal"):
        check_temporal_graph(named_graph(name), name)  # all-ones diagonal
    assert set(list_graphs()) == set(list_graphs("action")) | set(list_graphs("temporal"))


def test_unknown_graph_name_lists_valid_names():
    with pytest.raises(ValueError, match="graph_temporal_3_easy"):
        named_graph("graph_nope")


@pytest.mark.parametrize(
    ("kind", "density", "seed", "edges"),
    [
        ("temporal", 0.1, 44, 14),
        ("temporal", 0.4, 11, 49),
        ("temporal", 0.9, 44, 96),
        ("action", 0.1, 44, 4),
        ("action", 0.5, 33, 64),
    ],
)
def test_random_graphs_match_reference_edge_counts(kind, density, seed, edges):
    graph = random_graph(kind, density, seed)
    assert graph.sum() == edges
    if kind == "temporal":
        np.testing.assert_array_equal(np.diag(graph), 1)


def test_random_action_graph_repair():
    graph = random_graph("action", 0.1, 44)
    empty = np.flatnonzero(graph.sum(axis=1) == 0)
    assert empty.size == 6  # the reference leaves these latents without a parent
    repaired, rows = ensure_parent(graph, np.random.default_rng(0))
    assert rows == empty.tolist()
    assert (repaired.sum(axis=1) >= 1).all()
    assert repaired.sum() == graph.sum() + empty.size
    np.testing.assert_array_equal(np.delete(repaired, empty, 0), np.delete(graph, empty, 0))


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5])
def test_random_graph_rejects_density_outside_unit_interval(density):
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
        random_graph("temporal", density, 0)


def test_default_intervention_targets():
    targets = default_intervention_targets(10)
    assert targets.shape == (10, 21)
    np.testing.assert_array_equal(targets[:, 0], 0)
    np.testing.assert_array_equal(targets[:, 1:].sum(axis=0), 2)  # two targets per regime
    np.testing.assert_array_equal(targets.sum(axis=1), 4)  # four regimes per latent
    assert set(np.flatnonzero(targets[:, 1])) == {0, 1}
    assert set(np.flatnonzero(targets[:, 10])) == {9, 0}
    assert set(np.flatnonzero(targets[:, 11])) == {0, 3}
    assert set(np.flatnonzero(targets[:, 20])) == {9, 2}
    with pytest.raises(ValueError, match="d_z must be an integer >= 3"):
        default_intervention_targets(2)


def test_block_diagonal_graph():
    graph = block_diagonal_graph([2, 3])
    np.testing.assert_array_equal(
        graph,
        [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1]],
    )


def test_graph_validators():
    with pytest.raises(ValueError, match="all-ones diagonal"):
        check_temporal_graph(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="square"):
        check_temporal_graph(np.ones((3, 4)))
    with pytest.raises(ValueError, match="must be all zero"):
        check_intervention_targets(np.ones((3, 4)))
    with pytest.raises(ValueError, match="at least 2 columns"):
        check_intervention_targets(np.zeros((3, 1)))
