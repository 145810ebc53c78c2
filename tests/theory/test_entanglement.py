"""Tests of the entanglement pattern C (§4.3) against the values of Appendix B."""

import numpy as np
import pytest

from mechsparse.data.graphs import (
    block_diagonal_graph,
    default_action_graph,
    default_temporal_graph,
    identity_graph,
    named_graph,
)
from mechsparse.theory import entangled_groups, entanglement_graph, fully_disentangled

IDENTITY = np.eye(10, dtype=np.int64)


@pytest.mark.parametrize(
    ("graph_z", "graph_a"),
    [
        (identity_graph(10), None),
        (None, identity_graph(10)),
        (None, default_action_graph(10)),
        (default_temporal_graph(10), None),
    ],
    ids=["temporal_identity", "action_identity", "action_cyclic", "temporal_lower_triangular"],
)
def test_fully_disentangled_graphs_give_identity(graph_z, graph_a):
    pattern = entanglement_graph(graph_z, graph_a)
    assert pattern.dtype == np.int64
    np.testing.assert_array_equal(pattern, IDENTITY)
    assert fully_disentangled(graph_z, graph_a)
    assert entangled_groups(graph_z, graph_a) == []


@pytest.mark.parametrize(
    ("name", "key"), [("graph_action_3_easy", "graph_a"), ("graph_temporal_3_easy", "graph_z")]
)
def test_easy_graphs_give_five_pairs(name, key):
    pattern = entanglement_graph(**{key: named_graph(name)})
    assert pattern.sum() == 20
    np.testing.assert_array_equal(pattern, block_diagonal_graph([2] * 5))
    assert entangled_groups(**{key: named_graph(name)}) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


@pytest.mark.parametrize(
    ("name", "key"), [("graph_action_3_hard", "graph_a"), ("graph_temporal_3_hard", "graph_z")]
)
def test_hard_graphs_add_the_block_rows_0_1_cols_8_9(name, key):
    pattern = entanglement_graph(**{key: named_graph(name)})
    assert pattern.sum() == 24
    assert (pattern[0:2, 8:10] == 1).all()
    assert (pattern[8:10, 0:2] == 0).all()  # the pattern is not symmetric
    assert not fully_disentangled(**{key: named_graph(name)})
    assert entangled_groups(**{key: named_graph(name)}) == [[0, 1, 8, 9], [2, 3], [4, 5], [6, 7]]


def test_no_graph_crit_graphs():
    action = block_diagonal_graph([2] * 5)
    temporal = block_diagonal_graph([5, 5])
    assert not fully_disentangled(graph_a=action)
    assert not fully_disentangled(graph_z=temporal)
    assert entangled_groups(graph_a=action) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert entangled_groups(graph_z=temporal) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_subset_semantics_on_a_small_graph():
    # Pa^a(0) = {0} ⊆ Pa^a(1) = {0, 1}, not the reverse.
    np.testing.assert_array_equal(entanglement_graph(graph_a=[[1, 0], [1, 1]]), [[1, 1], [0, 1]])
    # Temporal: same parents, but Ch(0) = {0, 1} ⊄ Ch(1) = {1}; Ch(1) ⊆ Ch(0).
    graph_z = np.array([[1, 0], [1, 1]])
    np.testing.assert_array_equal(entanglement_graph(graph_z=graph_z), [[1, 0], [0, 1]])


def test_parentless_latent_is_entangled_with_everyone():
    graph_a = np.array([[1, 0], [0, 0], [0, 1]])
    pattern = entanglement_graph(graph_a=graph_a)
    np.testing.assert_array_equal(pattern[1], [1, 1, 1])
    assert entangled_groups(graph_a=graph_a) == [[0, 1, 2]]


def test_both_graphs_multiply():
    graph_z = block_diagonal_graph([4, 6])  # contains every pair block of graph_action_3_easy
    assert fully_disentangled(graph_z=graph_z, graph_a=identity_graph(10))
    partial = entanglement_graph(graph_z=graph_z, graph_a=named_graph("graph_action_3_easy"))
    np.testing.assert_array_equal(partial, block_diagonal_graph([2] * 5))
    # Blocks (0..4), (5..9) split the pair (4, 5): the product removes it.
    split = entanglement_graph(
        graph_z=block_diagonal_graph([5, 5]), graph_a=named_graph("graph_action_3_easy")
    )
    assert split[4, 5] == 0 and split[5, 4] == 0 and split.sum() == 18


def test_input_errors():
    with pytest.raises(ValueError, match="at least one graph"):
        entanglement_graph()
    with pytest.raises(ValueError, match="only 0 and 1"):
        entanglement_graph(graph_a=[[0.5, 1.0]])
    with pytest.raises(ValueError, match="graph_z must be square"):
        entanglement_graph(graph_z=np.ones((3, 2)))
    with pytest.raises(ValueError, match="same number of latents"):
        entanglement_graph(graph_z=np.eye(3), graph_a=np.ones((4, 2)))
