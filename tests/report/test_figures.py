import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from mechsparse.report import (
    plot_correlation,
    plot_entanglement,
    plot_graph_comparison,
    plot_training_curves,
)

TRUE_Z = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1]])


def _frames(ax):
    """Error frames drawn on an axes: (solid count, dashed count)."""
    rects = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    solid = sum(r.get_linestyle() == "-" for r in rects)
    return solid, len(rects) - solid


def test_graph_comparison_marks_errors_in_true_order():
    perm = np.array([2, 0, 1])
    probs = np.full((3, 3), 0.05)
    probs[np.ix_(perm, perm)] = np.where(TRUE_Z == 1, 0.95, 0.05)  # learned = relabelled truth
    probs[perm[0], perm[0]] = 0.3  # one false negative at (0, 0)
    probs[perm[0], perm[2]] = 0.8  # one false positive at (0, 2)
    fig = plot_graph_comparison(TRUE_Z, probs, perm, "z", "G^z test")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # true graph, learned probabilities, colorbar
    np.testing.assert_allclose(fig.axes[1].images[0].get_array()[0], [0.3, 0.05, 0.8])
    assert _frames(fig.axes[1]) == (1, 1)  # solid = false positive, dashed = false negative


def test_graph_comparison_action_graph_and_without_ground_truth():
    probs_a = np.array([[0.9, 0.1], [0.2, 0.7], [0.6, 0.4]])
    true_a = np.array([[1, 0], [0, 1], [1, 0]])
    fig = plot_graph_comparison(true_a, probs_a, [0, 1, 2], "a", "G^a")
    assert len(fig.axes) == 3
    assert _frames(fig.axes[1]) == (0, 0)
    assert "a_" in fig.axes[1].get_xticklabels()[0].get_text()
    no_truth = plot_graph_comparison(None, probs_a, None, "a")
    assert len(no_truth.axes) == 2  # learned probabilities and colorbar only


@pytest.mark.parametrize(
    ("true", "probs", "perm", "kind", "match"),
    [
        (TRUE_Z, np.full((3, 2), 0.5), [0, 1, 2], "a", "same shape"),
        (None, np.full((3, 2), 0.5), None, "z", "must be square"),
        (TRUE_Z, np.full((3, 3), 1.5), [0, 1, 2], "z", r"must lie in \[0, 1\]"),
        (TRUE_Z, np.full((3, 3), 0.5), [0, 1], "z", r"permutation must have shape \(3,\)"),
        (TRUE_Z, np.full((3, 3), 0.5), [0, 1, 2], "b", "unknown kind"),
    ],
)
def test_graph_comparison_rejects_bad_input(true, probs, perm, kind, match):
    with pytest.raises(ValueError, match=match):
        plot_graph_comparison(true, probs, perm, kind, "bad")


def test_entanglement_figure():
    C = np.kron(np.eye(2, dtype=int), np.ones((2, 2), dtype=int))
    measured = np.abs(np.random.default_rng(0).normal(size=(4, 4)))
    fig = plot_entanglement(C, measured / measured.max())
    assert len(fig.axes) == 3  # C, measured, colorbar
    with pytest.raises(ValueError, match=r"measured must have predicted_C's shape \(4, 4\)"):
        plot_entanglement(C, measured[:3, :3])
    with pytest.raises(ValueError, match="predicted_C must be square"):
        plot_entanglement(C[:3], measured[:3])
    with pytest.raises(ValueError, match="non-negative"):
        plot_entanglement(C, -measured)


def test_correlation_figure_reorders_columns_and_reports_mcc():
    corr = np.array([[0.1, 0.9, 0.2], [0.8, 0.3, 0.1], [0.2, 0.1, 0.7]])
    fig = plot_correlation(corr, [1, 0, 2])
    assert len(fig.axes) == 2  # matrix, colorbar
    np.testing.assert_allclose(np.diag(fig.axes[0].images[0].get_array()), [0.9, 0.8, 0.7])
    assert "MCC = 0.800" in fig.axes[0].get_title()
    wide = plot_correlation(np.hstack([corr, np.full((3, 1), 0.5)]), [1, 0, 2])
    assert wide.axes[0].images[0].get_array().shape == (3, 4)
    with pytest.raises(ValueError, match=r"permutation must have shape \(3,\)"):
        plot_correlation(corr, [0, 1])
    with pytest.raises(ValueError, match=r"corr must lie in \[0, 1\]"):
        plot_correlation(corr - 0.5, [1, 0, 2])


def _records():
    out = []
    for step in range(0, 100, 10):
        out.append(
            {
                "kind": "train",
                "step": step,
                "loss": 1.0 / (step + 1),
                "expected_edges_z": 100 - step,
                "bound_z": 100 - step / 2,
                "multiplier_z": 0.1 * step,
                "multiplier_a": 0.05 * step,
            }
        )
        out.append({"kind": "eval", "step": step, "mcc": step / 100, "valid/nll": 0.5})
    return out


def test_training_curves_panels_follow_the_keys_present():
    fig = plot_training_curves(_records())
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "MCC", "expected number of edges", "Lagrange multiplier"]
    edges = fig.axes[2]
    styles = {line.get_label(): line.get_linestyle() for line in edges.get_lines()}
    assert styles == {"expected_edges_z": "-", "bound_z": "--"}
    assert len(fig.axes[3].get_lines()) == 2
    only_loss = plot_training_curves([{"step": 1, "loss": 2.0}, {"step": 0, "loss": 3.0}])
    assert len(only_loss.axes) == 1
    np.testing.assert_array_equal(only_loss.axes[0].get_lines()[0].get_xdata(), [0.0, 1.0])
    # a penalty run logs its coefficient c(t) in place of multipliers
    penalty = plot_training_curves(
        [{"step": s, "loss": 1.0, "penalty_coef": s / 4} for s in (0, 4)]
    )
    assert [ax.get_title() for ax in penalty.axes] == ["loss", "penalty coefficient"]
    empty = plot_training_curves([{"step": 0, "other": 1.0}])
    assert len(empty.axes) == 1 and "no training curves" in empty.axes[0].texts[0].get_text()


def test_training_curves_reject_bad_records():
    with pytest.raises(ValueError, match=r"records\[1\] has 'loss' but no numeric 'step'"):
        plot_training_curves([{"step": 0, "loss": 1.0}, {"loss": 2.0}])
    with pytest.raises(TypeError, match="list of dicts"):
        plot_training_curves({"step": 0, "loss": 1.0})
    with pytest.raises(TypeError, match=r"records\[0\] must be a dict"):
        plot_training_curves([[0, 1.0]])
