import pytest

from mechsparse.train.regularizers import GraphBudget, linear_bound, penalty_coefficient


def test_linear_bound_reference_values():
    # REFERENCE_SPEC Appendix B: max 100, k 20, S 150,000.
    assert linear_bound(0, 100, 20, 150_000) == 100
    assert linear_bound(75_000, 100, 20, 150_000) == pytest.approx(60)
    assert linear_bound(150_000, 100, 20, 150_000) == 20
    assert linear_bound(200_000, 100, 20, 150_000) == 20
    assert linear_bound(5, 100, 20, 0) == 20


def test_budget_must_fit_the_graph():
    with pytest.raises(ValueError, match="between 0 and 100"):
        GraphBudget("graph_z", max_edges=100, k=101)
    with pytest.raises(ValueError, match="between 0 and 50"):
        GraphBudget("graph_a", max_edges=50, k=-1)


def test_penalty_coefficient_warms_up_linearly_then_holds():
    assert penalty_coefficient(0, 4.0, 12_000) == 0.0
    assert penalty_coefficient(3_000, 4.0, 12_000) == pytest.approx(1.0)
    assert penalty_coefficient(12_000, 4.0, 12_000) == 4.0
    assert penalty_coefficient(50_000, 4.0, 12_000) == 4.0
    # no warm-up: the reference's constant coefficient from the first step
    assert penalty_coefficient(0, 4.0, 0) == 4.0
