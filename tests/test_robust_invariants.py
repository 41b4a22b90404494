"""Invariants that hold for any data (issue 12, item 4).

* Kaplan–Meier curves are non-increasing and within [0, 1], their intervals contain them, and
  with the cumulative incidences of the competing causes they add up to 1;
* every interval contains its estimate;
* swapping the arms (``treated`` the other label) flips differences and inverts ratios:
  ``rate_difference``, ``rate_ratio``, ``odds_ratio``, ``rmst_difference``, ``jdl_outcomes``,
  ``did``, Cox coefficients of a recoded 0/1 covariate, weighted (ATE) effects and balance;
* results do not depend on the order of the rows (greedy matching aside: it takes ties in
  data order, as MatchIt);
* matching is reproducible for a seed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from robust_data import panel, people, series

import evalkit as ek
from evalkit.errors import DesignError, InputError

PROP = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
FEW = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` with evalkit's own warnings (small groups, monotone likelihood) silenced:
    these tests check numbers, the warnings are tested elsewhere."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        return fn(*args, **kwargs)


# heavily tied whole-day times, so that ties, all-censored tails and groups of one occur
survival_rows = st.lists(
    st.tuples(st.integers(0, 12), st.booleans(), st.sampled_from("ab"), st.integers(1, 4)),
    min_size=1,
    max_size=40,
)


def survival_frame(rows: list[tuple[int, bool, str, int]]) -> pd.DataFrame:
    t, e, g, w = zip(*rows, strict=True)
    return pd.DataFrame(
        {"t": np.asarray(t, float), "e": np.asarray(e, int), "g": list(g), "w": np.asarray(w) / 2}
    )


# ------------------------------------------------------------------------------------------
# survival curves
# ------------------------------------------------------------------------------------------
@PROP
@given(
    rows=survival_rows, weighted=st.booleans(), conf=st.sampled_from(["log-log", "log", "plain"])
)
def test_kaplan_meier_is_a_non_increasing_probability_inside_its_interval(
    rows: list[Any], weighted: bool, conf: str
) -> None:
    d = survival_frame(rows)
    km = ek.kaplan_meier(d, time="t", event="e", by="g", weights="w" if weighted else None,
                         conf_type=conf)  # fmt: skip
    for _, curve in km.table.groupby("group", observed=True):
        s = curve["survival"].to_numpy()
        assert ((s >= 0) & (s <= 1)).all()
        assert (np.diff(s) <= 1e-12).all(), "the curve went up"
        assert (np.diff(curve["at_risk"].to_numpy()) <= 1e-9).all()
        lo, hi = curve["lower"].to_numpy(), curve["upper"].to_numpy()
        ok = np.isfinite(lo) & np.isfinite(hi)
        assert (lo[ok] <= s[ok] + 1e-12).all() and (s[ok] <= hi[ok] + 1e-12).all()
        assert ((lo[ok] >= -1e-12) & (hi[ok] <= 1 + 1e-12)).all()
        # an undefined SE only where the curve has reached 0 (Greenwood divides by n - d = 0)
        assert (s[~np.isfinite(curve["se"].to_numpy())] == 0).all()


@PROP
@given(rows=survival_rows, causes=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_cumulative_incidences_and_survival_add_up_to_one(
    rows: list[Any], causes: int, seed: int
) -> None:
    d = survival_frame(rows)
    rng = np.random.default_rng(seed)
    d["cause"] = d["e"] * rng.integers(1, causes + 1, len(d))
    assume(d["cause"].gt(0).any())
    cif = ek.cumulative_incidence(d, time="t", event="cause", by="g").table
    km = ek.kaplan_meier(d, time="t", event="e", by="g").table
    for group, curve in km.groupby("group", observed=True):
        inc = cif[cif["group"] == group]
        total = inc.groupby("time")["estimate"].sum()
        for cause, one in inc.groupby("cause"):
            f = one["estimate"].to_numpy()
            assert ((f >= -1e-12) & (f <= 1 + 1e-12)).all(), cause
            assert (np.diff(f) >= -1e-12).all(), f"cause {cause} went down"
            lo, hi = one["lower"].to_numpy(), one["upper"].to_numpy()
            ok = np.isfinite(lo) & np.isfinite(hi)
            assert (lo[ok] <= f[ok] + 1e-12).all() and (f[ok] <= hi[ok] + 1e-12).all()
        s = curve.set_index("time")["survival"].reindex(total.index).ffill().fillna(1.0)
        np.testing.assert_allclose(total.to_numpy() + s.to_numpy(), 1.0, atol=1e-12)


@PROP
@given(rows=survival_rows, tau=st.integers(1, 12))
def test_rmst_lies_between_0_and_tau_and_swapping_arms_flips_the_difference(
    rows: list[Any], tau: int
) -> None:
    d = survival_frame(rows)
    assume(d["g"].nunique() == 2)
    try:
        one = quiet(ek.rmst_difference, d, time="t", event="e", group="g", treated="a", tau=tau)
    except InputError as err:  # tau beyond an arm's follow-up: the same for both orders
        assert err.column == "tau"
        with pytest.raises(InputError, match="tau"):
            ek.rmst_difference(d, time="t", event="e", group="g", treated="b", tau=tau)
        return
    other = quiet(ek.rmst_difference, d, time="t", event="e", group="g", treated="b", tau=tau)
    assert ((one.arms["estimate"] >= -1e-12) & (one.arms["estimate"] <= tau + 1e-9)).all()
    assert other.estimate == pytest.approx(-one.estimate, abs=1e-12)
    assert other.se == pytest.approx(one.se, abs=1e-15)
    assert (other.lower, other.upper) == pytest.approx((-one.upper, -one.lower), abs=1e-12)
    if np.isfinite(one.p):
        assert one.lower <= one.estimate <= one.upper
        assert other.p == pytest.approx(one.p, abs=1e-12)


# ------------------------------------------------------------------------------------------
# proportions: intervals contain estimates; swapping the groups flips or inverts
# ------------------------------------------------------------------------------------------
counts = st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
METHODS = {
    "rate_difference": ("newcombe", "miettinen-nurminen", "mee", "agresti-caffo", "wald"),
    "rate_ratio": ("koopman", "miettinen-nurminen", "katz"),
    "odds_ratio": ("miettinen-nurminen", "woolf", "exact"),
}


def _contains(r: Any) -> None:
    if np.isfinite(r.estimate):
        tol = 1e-9 * max(1.0, abs(r.estimate))
        assert r.lower <= r.estimate + tol, (r.lower, r.estimate)
        assert r.estimate <= r.upper + tol, (r.estimate, r.upper)


@PROP
@given(a=counts, b=counts, name=st.sampled_from(sorted(METHODS)), data=st.data())
def test_proportion_intervals_contain_the_estimate_and_swapping_groups_flips(
    a: tuple[int, int], b: tuple[int, int], name: str, data: Any
) -> None:
    method = data.draw(st.sampled_from(METHODS[name]))
    fn = getattr(ek, name)
    one = quiet(fn, *a, *b, method=method)
    other = quiet(fn, *b, *a, method=method)
    _contains(one)
    _contains(other)
    if name == "rate_difference":
        assert other.estimate == pytest.approx(-one.estimate, abs=1e-12)
        if method != "agresti-caffo" or a[1] == b[1]:  # AC adds 1 success/failure per group
            assert (other.lower, other.upper) == pytest.approx((-one.upper, -one.lower), abs=1e-9)
    else:  # ratios invert (0 and inf included)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / np.array([one.estimate, one.upper, one.lower], dtype=float)
        got = [other.estimate, other.lower, other.upper]
        for x, y in zip(got, inv, strict=True):
            if np.isfinite(x) or np.isfinite(y):
                assert x == pytest.approx(y, rel=1e-6, abs=1e-12)


@PROP
@given(cells=st.tuples(*(st.integers(0, 30) for _ in range(4))),
       method=st.sampled_from(["newcombe", "wald"]))  # fmt: skip
def test_paired_difference_interval_contains_it_and_flips(
    cells: tuple[int, int, int, int], method: str
) -> None:
    both, first, second, neither = cells
    assume(sum(cells) > 0)
    one = quiet(ek.paired_rate_difference, both, first, second, neither, method=method)
    other = quiet(ek.paired_rate_difference, both, second, first, neither, method=method)
    _contains(one)
    assert other.estimate == pytest.approx(-one.estimate, abs=1e-12)
    assert (other.lower, other.upper) == pytest.approx((-one.upper, -one.lower), abs=1e-9)


@PROP
@given(xn=counts, level=st.floats(0.5, 0.999))
def test_wilson_interval_contains_the_proportion(xn: tuple[int, int], level: float) -> None:
    r = ek.wilson_interval(*xn, conf_level=level)
    assert 0 <= r.lower <= r.estimate <= r.upper <= 1


# ------------------------------------------------------------------------------------------
# two-arm estimators: swapping the arms
# ------------------------------------------------------------------------------------------
def _swap(df: pd.DataFrame) -> pd.DataFrame:
    """The same people with the arm labels exchanged."""
    flip = {"programme": "comparison", "comparison": "programme"}
    return df.assign(group=df["group"].map(flip))


@FEW
@given(n=st.integers(70, 160), seed=st.integers(0, 2**16))
def test_jdl_outcomes_flip_when_the_arms_swap(n: int, seed: int) -> None:
    d = people(n, seed)
    kw: dict[str, Any] = {"group": "group", "time": "time", "id_col": "person_id"}
    try:
        one = quiet(ek.jdl_outcomes, d, **kw).table.set_index("outcome")
    except DesignError:  # too few in the programme arm: the same design error both ways?
        return
    try:
        other = quiet(ek.jdl_outcomes, _swap(d), **kw).table.set_index("outcome")
    except DesignError:
        return
    np.testing.assert_allclose(other["estimate"], -one["estimate"], atol=1e-12)
    np.testing.assert_allclose(other["programme"], one["comparison"], atol=1e-12)
    np.testing.assert_allclose(other["lower"], -one["upper"], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(other["upper"], -one["lower"], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(other["p"], one["p"], atol=1e-12, equal_nan=True)


@FEW
@given(units=st.integers(6, 16), seed=st.integers(0, 2**16), cluster=st.booleans())
def test_did_flips_differences_and_inverts_ratios_when_the_arms_swap(
    units: int, seed: int, cluster: bool
) -> None:
    d = panel(units, seed)
    kw: dict[str, Any] = {"group": "group", "post": "post", "time": "period"}
    if cluster:
        kw["cluster"] = "unit"
    gauss = quiet(ek.did, d, outcome="y", **kw).estimate
    gauss_s = quiet(ek.did, _swap(d), outcome="y", **kw).estimate
    assert gauss_s.estimate == pytest.approx(-gauss.estimate, abs=1e-10)
    assert (gauss_s.lower, gauss_s.upper) == pytest.approx((-gauss.upper, -gauss.lower), abs=1e-9)
    pois = quiet(ek.did, d, outcome="count", family="poisson", **kw).estimate
    pois_s = quiet(ek.did, _swap(d), outcome="count", family="poisson", **kw).estimate
    assert pois_s.estimate == pytest.approx(1 / pois.estimate, rel=1e-8)
    assert (pois_s.lower, pois_s.upper) == pytest.approx((1 / pois.upper, 1 / pois.lower), rel=1e-8)


@FEW
@given(n=st.integers(80, 200), seed=st.integers(0, 2**16))
def test_cox_coefficient_of_a_recoded_0_1_covariate_changes_sign(n: int, seed: int) -> None:
    d = people(n, seed)
    kw: dict[str, Any] = {"time": "time", "event": "event"}
    one = quiet(ek.cox, d, **kw, covariates=["fin", "age"]).table
    other = quiet(ek.cox, d.assign(fin=1 - d["fin"]), **kw, covariates=["fin", "age"]).table
    assert other.loc["fin", "estimate"] == pytest.approx(-one.loc["fin", "estimate"], abs=1e-7)
    assert other.loc["fin", "se"] == pytest.approx(one.loc["fin", "se"], rel=1e-6)
    assert other.loc["fin", "hr"] == pytest.approx(1 / one.loc["fin", "hr"], rel=1e-6)
    assert other.loc["age", "estimate"] == pytest.approx(one.loc["age", "estimate"], abs=1e-7)


@FEW
@given(n=st.integers(60, 200), seed=st.integers(0, 2**16))
def test_weighted_ate_effect_and_balance_flip_when_the_arms_swap(n: int, seed: int) -> None:
    d = people(n, seed)
    covs = ["age", "prio", "area"]
    one = quiet(ek.weight, d, group="group", covariates=covs, estimand="ATE")
    other = quiet(ek.weight, _swap(d), group="group", covariates=covs, estimand="ATE")
    np.testing.assert_allclose(other.data["weight"], one.data["weight"], rtol=1e-6)
    e1 = quiet(ek.matched_rate_difference, one, outcome="event")
    e2 = quiet(ek.matched_rate_difference, other, outcome="event")
    assert e2.estimate == pytest.approx(-e1.estimate, abs=1e-8)
    assert (e2.lower, e2.upper) == pytest.approx((-e1.upper, -e1.lower), abs=1e-8)
    b1 = quiet(ek.balance, d, group="group", covariates=covs, estimand="ATE").to_frame()
    b2 = quiet(ek.balance, _swap(d), group="group", covariates=covs, estimand="ATE").to_frame()
    np.testing.assert_allclose(b2["smd_before"], -b1["smd_before"], atol=1e-10, equal_nan=True)


# ------------------------------------------------------------------------------------------
# row order
# ------------------------------------------------------------------------------------------
SURV: dict[str, Any] = {"time": "time", "event": "event"}
ARMS: dict[str, Any] = {"group": "group"}
ORDER_FREE: dict[str, tuple[str, Any]] = {
    "kaplan_meier": ("people", lambda d: ek.kaplan_meier(d, **SURV, by="group", weights="w")),
    "logrank": ("people", lambda d: ek.logrank(d, **SURV, by="group", strata="area")),
    "rmst": ("people", lambda d: ek.rmst(d, **SURV, tau=30, by="group")),
    "cumulative_incidence": (
        "people",
        lambda d: ek.cumulative_incidence(d, time="time", event="cause"),
    ),
    "cox": (
        "people",
        lambda d: ek.cox(d, **SURV, covariates=["fin", "age", "area"], robust=True),
    ),
    "propensity_score": (
        "people",
        lambda d: ek.propensity_score(d, **ARMS, covariates=["age", "area"]),
    ),
    "weight": ("people", lambda d: ek.weight(d, **ARMS, covariates=["age", "area"])),
    "balance": ("people", lambda d: ek.balance(d, **ARMS, covariates=["age", "prio", "area"])),
    "jdl_outcomes": (
        "people",
        lambda d: ek.jdl_outcomes(d, **ARMS, time="time", id_col="person_id"),
    ),
    "its": ("series", lambda d: ek.its(d, outcome="count", time="month", post="post")),
    "did": (
        "panel",
        lambda d: ek.did(d, outcome="y", **ARMS, post="post", time="period", cluster="unit"),
    ),
    "compare_cohorts": (
        "people",
        lambda d: ek.compare_cohorts(d, outcome="event", covariates=["age"]),
    ),
}
SIZE = {"people": 120, "series": 30, "panel": 12}
MAKE = {"people": people, "series": series, "panel": panel}


@pytest.mark.parametrize("name", sorted(ORDER_FREE))
@FEW
@given(seed=st.integers(0, 2**16), shuffle=st.integers(0, 2**16))
def test_results_do_not_depend_on_row_order(name: str, seed: int, shuffle: int) -> None:
    data, call = ORDER_FREE[name]
    d = MAKE[data](SIZE[data], seed)
    try:
        a = quiet(call, d).to_frame()
    except (InputError, DesignError):
        return
    rng = np.random.default_rng(shuffle)
    b = quiet(call, d.iloc[rng.permutation(len(d))]).to_frame()
    num = [c for c in a.columns if pd.api.types.is_float_dtype(a[c])]
    np.testing.assert_allclose(
        a[num].to_numpy(dtype=float), b[num].to_numpy(dtype=float), rtol=1e-8, atol=1e-12,
        equal_nan=True,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------
# matching is reproducible
# ------------------------------------------------------------------------------------------
@FEW
@given(n=st.integers(40, 150), seed=st.integers(0, 2**16), rng=st.integers(0, 2**31))
def test_matching_is_reproducible_for_a_seed(n: int, seed: int, rng: int) -> None:
    d = people(n, seed)
    kw: dict[str, Any] = {"group": "group", "covariates": ["age", "prio", "area"]}
    for extra in ({}, {"order": "random", "rng": rng}, {"caliper": 0.3, "ratio": 2}):
        try:
            a = quiet(ek.match, d, **kw, **extra)
        except (InputError, DesignError):
            continue
        b = quiet(ek.match, d, **kw, **extra)
        pd.testing.assert_frame_equal(a.data, b.data)
        pd.testing.assert_frame_equal(a.balance(), b.balance())
