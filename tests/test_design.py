"""Shared design matrices, group codes and inference (evalkit/_design.py, evalkit/_inference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit._design import INTERCEPT, design_matrix, levels_of, two_groups
from evalkit._inference import critical, diff_of_means_cr1, p_two_sided, sandwich, wald
from evalkit.errors import DesignError, InputError


def test_design_matrix_equals_R_model_matrix() -> None:
    # R 4.2.2: x <- factor(c("b","a","c","a"), levels = c("c","a","b"))
    #          model.matrix(~ x + y, data.frame(x = x, y = c(1, 2, 3, 4)))
    #   (Intercept) xa xb y
    # 1           1  0  1 1
    # 2           1  1  0 2
    # 3           1  0  0 3
    # 4           1  1  0 4
    df = pd.DataFrame(
        {
            "x": pd.Categorical(["b", "a", "c", "a"], categories=["c", "a", "b"]),
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    d = design_matrix(df, ["x", "y"], intercept=True)
    assert d.names == [INTERCEPT, "x[a]", "x[b]", "y"]
    expected = np.array([[1, 0, 1, 1], [1, 1, 0, 2], [1, 0, 0, 3], [1, 1, 0, 4]], dtype=float)
    np.testing.assert_array_equal(d.X, expected)
    assert d.terms == {"x": ["x[a]", "x[b]"], "y": ["y"]}
    assert d.levels == {"x": ["c", "a", "b"]}


def test_text_levels_are_sorted_and_reference_can_be_chosen() -> None:
    df = pd.DataFrame({"area": ["south", "north", "east", "north"]})
    assert design_matrix(df, ["area"]).names == ["area[north]", "area[south]"]  # east first
    d = design_matrix(df, ["area"], reference={"area": "north"})
    assert d.names == ["area[east]", "area[south]"]
    np.testing.assert_array_equal(d.X[:, 0], [0, 0, 1, 0])
    assert design_matrix(df, ["area"], all_levels=True).names == [
        "area[east]",
        "area[north]",
        "area[south]",
    ]


def test_unused_categories_are_dropped_and_levels_are_plain_values() -> None:
    s = pd.Series(pd.Categorical(["a", "b"], categories=["z", "a", "b"]))
    assert levels_of(s) == ["a", "b"]
    assert levels_of(pd.Series(np.array([3, 1, 2]))) == [1, 2, 3]
    assert type(levels_of(pd.Series(np.array([3, 1])))[0]) is int


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reference": {"area": "west"}}, "reference level not found"),
        ({"reference": {"age": 30}}, "not categorical"),
        ({"reference": {"sex": "F"}}, "not covariates"),
    ],
)
def test_reference_errors(kwargs: dict, match: str) -> None:
    df = pd.DataFrame({"area": ["south", "north"], "age": [30.0, 40.0]})
    with pytest.raises(InputError, match=match):
        design_matrix(df, ["area", "age"], **kwargs)


def test_constant_category_and_numbers_as_text_are_refused() -> None:
    with pytest.raises(InputError, match=r"column 'area'.*constant"):
        design_matrix(pd.DataFrame({"area": ["x", "x"]}), ["area"])
    with pytest.raises(InputError, match="numbers stored as text"):
        design_matrix(pd.DataFrame({"age": ["34", "27"]}), ["age"])


def test_two_groups_labels_and_codes() -> None:
    df = pd.DataFrame({"group": ["comparison", "programme", "programme"]})
    z, treated, control = two_groups(df, "group")
    np.testing.assert_array_equal(z, [0, 1, 1])
    assert (treated, control) == ("programme", "comparison")
    z01, t, c = two_groups(pd.DataFrame({"g": [0, 1, 1]}), "g", treated=1)
    np.testing.assert_array_equal(z01, z)
    assert (t, c) == (1, 0)


def test_two_groups_errors_say_what_to_do() -> None:
    with pytest.raises(InputError, match=r"a 0/1 column needs treated=1"):
        two_groups(pd.DataFrame({"g": [0, 1]}), "g")
    with pytest.raises(DesignError, match="only one group"):
        two_groups(pd.DataFrame({"g": ["programme"] * 3}), "g")
    three = pd.DataFrame(
        {"g": ["programme", "comparison", "comparison", "Programme"], "person_id": list("abcd")}
    )
    with pytest.raises(InputError, match=r"exactly two groups.*1 offending row at position 3"):
        two_groups(three, "g", id_col="person_id")
    with pytest.raises(InputError, match="is not a column"):
        two_groups(three, "arm")


def test_critical_values_equal_R() -> None:
    # R: qnorm(0.975), qt(0.975, 10), qnorm(0.95)
    assert critical(0.95) == pytest.approx(1.9599639845400536, rel=1e-15)
    assert critical(0.95, 10) == pytest.approx(2.2281388519862739, rel=1e-14)
    assert critical(0.90) == pytest.approx(1.6448536269514715, rel=1e-15)


def test_wald_interval_and_p() -> None:
    lower, upper, stat, p = wald(np.array([1.0, 0.0]), np.array([0.5, 0.0]), 0.95)
    assert lower[0] == pytest.approx(1 - 1.9599639845400536 * 0.5)
    assert upper[0] == pytest.approx(1 + 1.9599639845400536 * 0.5)
    assert stat[0] == 2.0 and np.isnan(stat[1])
    assert p[0] == pytest.approx(0.04550026389635842, rel=1e-12)  # R: 2 * pnorm(-2)
    assert float(p_two_sided(2.0, 10)) == pytest.approx(0.073388034770740, rel=1e-10)  # R


def test_sandwich_small_sample_factors() -> None:
    bread, meat = np.eye(2), np.eye(2)
    # HC1: n / (n - k); CR1: G / (G - 1) * (n - 1) / (n - k)
    np.testing.assert_allclose(sandwich(bread, meat, n_obs=10, n_params=2), np.eye(2) * 10 / 8)
    np.testing.assert_allclose(
        sandwich(bread, meat, n_obs=10, n_params=2, n_clusters=5), np.eye(2) * 5 / 4 * 9 / 8
    )
    assert np.isnan(sandwich(bread, meat, n_obs=10, n_params=2, n_clusters=1)).all()


def test_difference_of_means_with_hc1_equals_the_closed_form() -> None:
    # Without clusters, the HC1 variance of a difference of means is
    # n/(n-2) * (Σ_1 e²/n1² + Σ_0 e²/n0²) (MacKinnon & White 1985, HC1).
    rng = np.random.default_rng(4)
    y = rng.normal(size=50)
    z = (np.arange(50) < 20).astype(int)
    d = diff_of_means_cr1(y, z, np.ones(50), None, 0.95)
    e1 = y[z == 1] - y[z == 1].mean()
    e0 = y[z == 0] - y[z == 0].mean()
    var = 50 / 48 * ((e1**2).sum() / 20**2 + (e0**2).sum() / 30**2)
    assert d.difference == pytest.approx(y[z == 1].mean() - y[z == 0].mean())
    assert d.se == pytest.approx(np.sqrt(var), rel=1e-12)
