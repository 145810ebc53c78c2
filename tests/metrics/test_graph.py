import numpy as np
import pytest

from mechsparse.metrics import GraphErrors, graph_errors, permute_graph


def test_false_negative_is_true_one_predicted_zero():
    true = np.array([[1, 1], [1, 0]])
    learned = np.array([[0, 0], [1, 1]])
    errors = graph_errors(true, learned, [0, 1])
    assert isinstance(errors, GraphErrors)
    # FN: (0, 0), (0, 1) are true edges not learned; FP: (1, 1) is learned but not true
    assert (errors.fn, errors.fp, errors.shd) == (2, 1, 3)


def test_logits_are_thresholded_at_zero_and_binary_graphs_kept():
    true = np.array([[1, 0], [0, 1]])
    logits = np.array([[2.0, -1.0], [-0.5, 0.1]])  # σ(α) > 0.5 exactly where α > 0
    errors = graph_errors(true, logits, [0, 1])
    np.testing.assert_array_equal(errors.permuted, [[1, 0], [0, 1]])
    assert errors.shd == 0
    assert graph_errors(true, np.array([[1, 1], [0, 1]]), [0, 1]).fp == 1


def test_permutation_convention_on_three_latents_kind_z():
    perm = np.array([1, 2, 0])  # π(0) = 1, π(1) = 2, π(2) = 0
    learned = np.zeros((3, 3), dtype=int)
    learned[1, 0] = 1  # learned edge ẑ_0 -> ẑ_1, i.e. learned[π(0), π(2)]
    permuted = permute_graph(learned, perm, "z")
    expected = np.zeros((3, 3), dtype=int)
    expected[0, 2] = 1  # permuted[i, k] = learned[π(i), π(k)]: edge z_2 -> z_0
    np.testing.assert_array_equal(permuted, expected)
    errors = graph_errors(expected, learned, perm, "z")
    assert errors.shd == 0


def test_permutation_convention_kind_a_permutes_rows_only():
    perm = np.array([1, 2, 0])
    learned = np.array([[1, 0], [0, 1], [1, 1]])
    errors = graph_errors(np.array([[0, 1], [1, 1], [1, 0]]), learned, perm, "a")
    np.testing.assert_array_equal(errors.permuted, learned[perm])
    assert errors.shd == 0


def test_probabilities_instead_of_logits_warn():
    probs = np.array([[0.9, 0.2], [0.1, 0.8]])
    with pytest.warns(UserWarning, match="looks like edge probabilities"):
        errors = graph_errors(np.eye(2, dtype=int), probs, [0, 1])
    assert errors.fp == 2  # every positive probability counted as an edge, as warned


@pytest.mark.parametrize(
    ("true", "learned", "perm", "kind", "match"),
    [
        (np.eye(3), np.eye(2), [0, 1, 2], "z", "learned_logits_or_binary must have"),
        (np.ones((3, 2)), np.ones((3, 2)), [0, 1, 2], "z", "square"),
        (np.eye(3) * 2, np.eye(3), [0, 1, 2], "z", "true must contain only 0 and 1"),
        (np.eye(3), np.eye(3), [0, 1], "z", r"permutation must have shape \(3,\)"),
        (np.eye(3), np.eye(3), [0, 1, 2], "x", "unknown kind 'x'"),
        (np.eye(3), np.full((3, 3), np.nan), [0, 1, 2], "z", "contains NaN"),
    ],
)
def test_bad_inputs_raise(true, learned, perm, kind, match):
    with pytest.raises(ValueError, match=match):
        graph_errors(true, learned, perm, kind)
