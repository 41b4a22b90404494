"""Tests for evalkit.power: sample size, power, minimum detectable effect, log-rank events.

Reference values: the worked figures quoted below (hand-checkable from the formulas); R output
in tests/reference/expected/proportions_{power_n,mde,events}.csv written by
tests/reference/proportions_reference.R (including R's own power.prop.test); round trips
between the functions.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_matches_r, expected
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import InputError
from evalkit.power import (
    PilotPlan,
    events_logrank,
    mde_two_proportions,
    n_two_proportions,
    plan_pilot,
    power_two_proportions,
)
from evalkit.results import Result

# ---------------------------------------------------------------------------------------------
# Worked values


def test_n_two_proportions_worked_example():
    # 25% vs 51%, 80% power, 5% two-sided: 53.5 per group (Fleiss, Levin & Paik 2003, eq.
    # 4.14), 61.0 with the Fleiss-Tytun-Ury continuity correction.
    # R: power.prop.test(p1 = 0.25, p2 = 0.51, power = 0.8)$n = 53.51566
    assert round(n_two_proportions(0.25, 0.51), 1) == 53.5
    assert round(n_two_proportions(0.25, 0.51, continuity=True), 1) == 61.0
    assert n_two_proportions(0.25, 0.51) == pytest.approx(53.51566, abs=5e-6)
    # the order of the groups does not matter with equal allocation
    assert n_two_proportions(0.51, 0.25) == pytest.approx(n_two_proportions(0.25, 0.51))


def test_events_logrank_worked_example():
    # HR 0.7, 80% power, 5% two-sided, equal groups: Schoenfeld (1983) 246.8 events,
    # Freedman (1982) 252.0 events.
    assert round(events_logrank(0.7), 1) == 246.8
    assert round(events_logrank(0.7, method="freedman"), 1) == 252.0


# ---------------------------------------------------------------------------------------------
# Against R


def test_n_two_proportions_against_R():
    # R: fleiss_n / fleiss_n_cc in tests/reference/proportions_reference.R (FLP eq. 4.14 and
    # the continuity correction), and power.prop.test(p1, p2, sig.level, power, tol = 1e-12)
    # (R's column `ratio` is evalkit's `allocation`: comparison people per programme person)
    ref = expected("proportions_power_n.csv")
    for (alpha, power), g in ref.groupby(["alpha", "power"]):
        args = (g.p1.to_numpy(), g.p0.to_numpy())
        n = n_two_proportions(*args, power=power, alpha=alpha, allocation=g.ratio.to_numpy())
        ncc = n_two_proportions(
            *args, power=power, alpha=alpha, allocation=g.ratio.to_numpy(), continuity=True
        )
        assert_matches_r(n, g.n, "n", atol=0)
        assert_matches_r(ncc, g.n_continuity, "n, continuity corrected", atol=0)
        equal = g.ratio.to_numpy() == 1
        # power.prop.test (strict = FALSE) is the same formula for equal groups ...
        assert_matches_r(n[equal], g.power_prop_test_n[equal], "power.prop.test n", atol=0)
        # ... and strict = TRUE, which also counts rejections in the wrong tail, needs at most
        # a fraction of a person fewer
        diff = n[equal] - g.power_prop_test_strict_n[equal].to_numpy()
        assert np.all((diff >= 0) & (diff < 0.5))


def test_mde_two_proportions_against_R():
    # R: uniroot on the power function (fleiss_power) and on fleiss_n_cc, tol = 1e-14
    ref = expected("proportions_mde.csv")
    for (alpha, power), g in ref.groupby(["alpha", "power"]):
        args = (g.p0.to_numpy(), g.n1.to_numpy(), g.n0.to_numpy())
        mde = mde_two_proportions(*args, power=power, alpha=alpha)
        mde_cc = mde_two_proportions(*args, power=power, alpha=alpha, continuity=True)
        assert_matches_r(mde, g.mde, "mde", atol=0)
        assert_matches_r(mde_cc, g.mde_continuity, "mde, continuity corrected", atol=0)


def test_events_logrank_against_R():
    # R: zz * (1 + ratio)^2 / (ratio * log(hr)^2) and zz * (ratio + hr)^2 / (ratio * (1 - hr)^2)
    ref = expected("proportions_events.csv")
    for (alpha, power), g in ref.groupby(["alpha", "power"]):
        for method in ("schoenfeld", "freedman"):
            d = events_logrank(
                g.hr.to_numpy(),
                power=power,
                alpha=alpha,
                method=method,
                allocation=g.ratio.to_numpy(),
            )
            assert_matches_r(d, g[method], f"events, {method}", atol=0)


# ---------------------------------------------------------------------------------------------
# Round trips and properties


def test_mde_round_trip_through_n():
    for p0, n1, n0, cc in [(0.45, 240, 240, False), (0.3, 100, 400, False), (0.6, 500, 250, True)]:
        p1 = mde_two_proportions(p0, n1, n0, continuity=cc)
        assert p1 < p0
        n = n_two_proportions(p1, p0, allocation=n0 / n1, continuity=cc)
        assert n == pytest.approx(n1, rel=1e-9)
        assert power_two_proportions(p1, p0, n1, n0, continuity=cc) == pytest.approx(0.8, abs=1e-9)


def test_power_round_trip_through_n():
    n = n_two_proportions(0.2, 0.35, power=0.9, alpha=0.01, allocation=2.0, continuity=True)
    pw = power_two_proportions(0.2, 0.35, n, 2 * n, alpha=0.01, continuity=True)
    assert pw == pytest.approx(0.9, abs=1e-12)


def test_mde_is_nan_when_no_reduction_is_detectable():
    assert np.isnan(mde_two_proportions(0.45, 5, 5))
    out = mde_two_proportions(0.45, np.array([5, 500]), np.array([5, 500]))
    assert np.isnan(out[0]) and 0 < out[1] < 0.45


@settings(max_examples=50, deadline=None)
@given(
    p0=st.floats(0.05, 0.95),
    n1=st.floats(20, 5000),
    grow=st.floats(1.01, 3.0),
    allocation=st.floats(0.25, 4.0),
)
def test_larger_groups_detect_smaller_reductions(p0, n1, grow, allocation):
    small = mde_two_proportions(p0, n1, allocation * n1)
    large = mde_two_proportions(p0, grow * n1, allocation * grow * n1)
    if np.isnan(small):
        return
    assert small < large < p0


@settings(max_examples=50, deadline=None)
@given(p1=st.floats(0.02, 0.98), p0=st.floats(0.02, 0.98), power=st.floats(0.5, 0.95))
def test_more_power_needs_more_people(p1, p0, power):
    if abs(p1 - p0) < 1e-3:
        return
    assert n_two_proportions(p1, p0, power=power) < n_two_proportions(p1, p0, power=power + 0.04)
    assert n_two_proportions(p1, p0, power=power) < n_two_proportions(
        p1, p0, power=power, continuity=True
    )


@settings(max_examples=30, deadline=None)
@given(hr=st.floats(0.2, 0.95))
def test_schoenfeld_is_symmetric_in_log_hazard_ratio(hr):
    assert events_logrank(hr) == pytest.approx(events_logrank(1 / hr), rel=1e-12)
    # allocation r and 1/r give the same Schoenfeld events
    assert events_logrank(hr, allocation=3.0) == pytest.approx(events_logrank(hr, allocation=1 / 3))


# ---------------------------------------------------------------------------------------------
# Pilot planner


def test_plan_pilot_matches_mde_and_says_so():
    plan = plan_pilot(20, 12, 0.45, allocation=2)
    assert isinstance(plan, PilotPlan) and isinstance(plan, Result)
    assert (plan.n_programme, plan.n_comparison, plan.allocation) == (240.0, 480.0, 2.0)
    p1 = mde_two_proportions(0.45, 240, 480)
    assert plan.detectable_rate == pytest.approx(p1, rel=1e-12)
    assert plan.absolute_reduction == pytest.approx(0.45 - p1)
    assert plan.relative_reduction == pytest.approx((0.45 - p1) / 0.45)
    s = plan.sentence
    assert "240 in the programme group and 480 in the comparison group" in s
    assert f"from 45.0% to {p1:.1%}" in s
    assert f"{100 * (0.45 - p1):.1f} percentage points" in s
    assert "an 80% chance" in s
    frame = plan.to_frame()
    assert len(frame) == 1 and frame.sentence.iloc[0] == s
    assert frame.allocation.iloc[0] == 2.0
    assert "<table" in plan._repr_html_()
    text = repr(plan)
    assert text.startswith("PilotPlan(") and len(text) <= 240 and "\n" not in text
    assert "allocation=2" in text and "detectable_rate=" in text
    assert plan.summary().startswith("Pilot plan")


def test_plan_pilot_too_small():
    plan = plan_pilot(1, 3, 0.45)
    assert np.isnan(plan.detectable_rate)
    assert "too few" in plan.sentence


def test_plan_pilot_table_of_scenarios():
    plan = plan_pilot(np.array([[5], [10], [20]]), np.array([6, 12, 24]), 0.4)
    frame = plan.to_frame()
    assert len(frame) == 9 and len(plan.sentence) == 9
    # longer recruitment detects smaller falls
    rates = np.asarray(plan.detectable_rate)
    assert np.all(np.diff(rates, axis=1) > 0) and np.all(np.diff(rates, axis=0) > 0)


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("call", "column"),
    [
        (lambda: n_two_proportions(0, 0.5), "p1"),
        (lambda: n_two_proportions(0.3, 1.0), "p0"),
        (lambda: n_two_proportions(0.3, 0.3), "p1"),
        (lambda: n_two_proportions(0.3, 0.5, power=1.2), "power"),
        (lambda: n_two_proportions(0.3, 0.5, alpha=0), "alpha"),
        (lambda: n_two_proportions(0.3, 0.5, allocation=0), "allocation"),
        (lambda: n_two_proportions([0.3, 1.5], 0.5), "p1"),
        (lambda: mde_two_proportions(0.4, -10, 10), "n1"),
        (lambda: mde_two_proportions(0.4, 10, np.nan), "n0"),
        (lambda: power_two_proportions(0.4, 0.5, 10, 0), "n0"),
        (lambda: events_logrank(1.0), "hr"),
        (lambda: events_logrank(-0.5), "hr"),
        (lambda: events_logrank(0.7, method="lakatos"), "method"),
        (lambda: plan_pilot(0, 12, 0.4), "participants_per_month"),
        (lambda: plan_pilot(10, 12, 40), "baseline_rate"),
        (lambda: plan_pilot(10, 12, 0.4, allocation=-1), "allocation"),
        (lambda: n_two_proportions(0.3, 0.5, continuity="no"), "continuity"),
        (lambda: plan_pilot("ten", 12, 0.4), "participants_per_month"),
        (lambda: n_two_proportions([0.1, 0.2, 0.3], [0.4, 0.5]), "p0"),
        (lambda: plan_pilot([10, 20], [6, 12, 18], 0.4), "months"),
    ],
)
def test_bad_input_names_the_argument(call, column):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.column == column
    assert str(err.value).startswith(f"argument '{column}'")


@pytest.mark.parametrize(
    "call",
    [
        lambda: n_two_proportions(0.3, 0.5, allocation="2"),
        lambda: events_logrank(0.7, allocation="2"),
        lambda: plan_pilot(10, 12, 0.4, allocation="2"),
    ],
)
def test_allocation_as_text_is_refused_naming_the_argument(call):
    with pytest.raises(InputError, match="argument 'allocation'") as err:
        call()
    assert err.value.column == "allocation"


@pytest.mark.parametrize("option", ["power", "alpha"])
def test_levels_as_text_are_refused_naming_the_argument(option):
    with pytest.raises(InputError, match=f"argument '{option}'"):
        n_two_proportions(0.3, 0.5, **{option: "0.9"})
    with pytest.raises(InputError, match=f"argument '{option}'"):
        plan_pilot(10, 12, 0.4, **{option: "0.9"})


def test_scalars_give_floats_and_arrays_give_arrays():
    assert isinstance(n_two_proportions(0.3, 0.5), float)
    assert isinstance(events_logrank(0.7), float)
    out = n_two_proportions([0.3, 0.4], 0.5)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    assert isinstance(power_two_proportions(0.3, 0.5, [50, 100], 100), np.ndarray)


def test_bad_method_lists_valid_ones():
    with pytest.raises(InputError, match="'schoenfeld', 'freedman'"):
        events_logrank(0.7, method="x")
