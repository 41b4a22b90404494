"""Tests of evalkit.survival (Kaplan–Meier, log-rank, RMST, cumulative incidence) and its plot.

Reference values come from R 4.2.2 / survival 3.5.3, made by
``tests/reference/survival_reference.R`` on ``tests/reference/data/{rossi,sim_ties}.csv`` and
stored in ``tests/reference/expected/`` (see ``tests/reference/README.md``). Every number in
those files is compared to 1e-6 relative (R writes 17 significant digits; the only differences
are floating-point summation order). Tests never call R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import RTOL, assert_matches_r, expected, reference_data
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import survival as sv
from evalkit.errors import DesignError, InputError
from evalkit.results import Result, TestResult

LABELS = {"group": str, "group1": str, "group0": str}  # group labels as R wrote them


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return reference_data("rossi.csv")


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return reference_data("sim_ties.csv")


def _data(name: str, rossi: pd.DataFrame, sim: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    if name == "rossi":
        return rossi, {"time": "week", "event": "arrest", "by": "fin"}
    return sim, {"time": "time", "event": "event", "by": "group"}


# Each KM variant: (dataset, weighted, se_method in the CSV, evalkit keyword arguments)
KM_VARIANTS = [
    ("rossi", False, "greenwood", {}),
    ("sim", False, "greenwood", {}),
    ("sim", True, "ij", {"weights": "w"}),  # R default for non-integer weights
    ("sim", True, "greenwood", {"weights": "w", "variance": "greenwood"}),  # robust = FALSE
]
KM_CASES = [
    (ds, wt, se, kw, ct, grouped)
    for ds, wt, se, kw in KM_VARIANTS
    for ct in sv.CONF_TYPES
    for grouped in (True, False)
]


def _km_fit(case, rossi, sim):
    ds, _, _, kw, ct, grouped = case
    df, cols = _data(ds, rossi, sim)
    by = cols["by"] if grouped else None
    return sv.kaplan_meier(df, time=cols["time"], event=cols["event"], by=by, conf_type=ct, **kw)


def _ref_rows(frame: pd.DataFrame, case) -> pd.DataFrame:
    ds, wt, se, _, ct, grouped = case
    sel = (
        (frame["dataset"] == ds)
        & (frame["conf_type"] == ct)
        & (frame["weighted"] == wt)
        & (frame["se_method"] == se)
        & ((frame["group"] != "all") if grouped else (frame["group"] == "all"))
    )
    out = frame.loc[sel].reset_index(drop=True)
    assert len(out) > 0
    return out


def _case_id(case) -> str:
    ds, wt, se, _, ct, grouped = case
    return f"{ds}-{'w' if wt else 'u'}-{se}-{ct}-{'by' if grouped else 'all'}"


# ----------------------------------------------------------------------------------------------
# Kaplan–Meier against R
# ----------------------------------------------------------------------------------------------
# evalkit's Kaplan–Meier columns and the names R's summary.survfit gives them
KM_R_COLUMNS = [
    ("time", "time"),
    ("at_risk", "n_risk"),
    ("events", "n_event"),
    ("censored", "n_censor"),
    ("survival", "surv"),
    ("se", "std_err"),
    ("lower", "lower"),
    ("upper", "upper"),
]


def _assert_km_rows_match_r(got, ref, case) -> None:
    assert list(got["group"].astype(str)) == list(ref["group"])
    for ours, theirs in KM_R_COLUMNS:
        assert_matches_r(got[ours], ref[theirs], f"{_case_id(case)}: {ours}")


@pytest.mark.parametrize("case", KM_CASES, ids=[_case_id(c) for c in KM_CASES])
def test_km_table_against_R(case, rossi, sim):
    # R: summary(survfit(Surv(week, arrest) ~ fin, rossi, conf.type = ct), censored = FALSE)
    #    summary(survfit(Surv(time, event) ~ group, sim, weights = w, conf.type = ct,
    #                    robust = NULL | FALSE), censored = FALSE); and each with ~ 1
    ref = _ref_rows(expected("km_table.csv", dtype=LABELS), case)
    got = _km_fit(case, rossi, sim).table
    _assert_km_rows_match_r(got, ref, case)


@pytest.mark.parametrize("case", KM_CASES, ids=[_case_id(c) for c in KM_CASES])
def test_km_at_against_R(case, rossi, sim):
    # R: summary(fit, times = c(13, 26, 52))  (Rossi, weeks)
    #    summary(fit, times = c(30, 90, 182, 365))  (sim, days)
    ref = _ref_rows(expected("km_at.csv", dtype=LABELS), case)
    times = [13, 26, 52] if case[0] == "rossi" else [30, 90, 182, 365]
    got = _km_fit(case, rossi, sim).at(times)
    _assert_km_rows_match_r(got, ref, case)


@pytest.mark.parametrize("case", KM_CASES, ids=[_case_id(c) for c in KM_CASES])
def test_km_median_against_R(case, rossi, sim):
    # R: summary(fit)$table[, c("median", "0.95LCL", "0.95UCL")]
    ref = _ref_rows(expected("km_median.csv", dtype=LABELS), case)
    got = _km_fit(case, rossi, sim).median()
    assert list(got["group"].astype(str)) == list(ref["group"])
    for col in ("median", "lower", "upper"):
        assert_matches_r(got[col], ref[col], f"{_case_id(case)}: {col}")


def test_km_rossi_by_fin_at_13_26_52_weeks_against_R(rossi):
    # R: summary(survfit(Surv(week, arrest) ~ fin, data = rossi, conf.type = "log-log"),
    #            times = c(13, 26, 52))   -> surv, lower, upper (survival 3.5.3)
    got = sv.kaplan_meier(rossi, time="week", event="arrest", by="fin").at([13, 26, 52])
    # rows in R's order: fin=0 at 13, 26, 52 weeks, then fin=1; at-risk counts from R's n.risk
    assert list(got["group"].astype(int)) == [0, 0, 0, 1, 1, 1]
    assert list(got["time"]) == [13, 26, 52, 13, 26, 52]
    assert list(got["at_risk"]) == [206, 187, 154, 207, 194, 168]
    assert_matches_r(
        got["survival"],
        [
            0.94907407407407418,
            0.85185185185185197,
            0.6944444444444442,
            0.95833333333333326,
            0.89814814814814792,
            0.77777777777777757,
        ],
        "surv",
    )
    assert_matches_r(
        got["lower"],
        [
            0.90992987894761135,
            0.79706359528402204,
            0.62828830759427456,
            0.92145629345483582,
            0.8494436155770847,
            0.71624377897406499,
        ],
        "lower",
    )
    assert_matches_r(
        got["upper"],
        [
            0.97147055738259958,
            0.8928395818481315,
            0.75119093345674071,
            0.97810005934777355,
            0.93172579409563583,
            0.82758045250518519,
        ],
        "upper",
    )


# ----------------------------------------------------------------------------------------------
# Log-rank against R
# ----------------------------------------------------------------------------------------------
LOGRANK_CASES = {
    # test name in the CSV: (dataset, by, strata)
    "fin": ("rossi", "fin", None),  # survdiff(Surv(week, arrest) ~ fin, rossi)
    "group": ("sim", "group", None),  # survdiff(Surv(time, event) ~ group, sim)
    "group_strata": ("sim", "group", "stratum"),  # ~ group + strata(stratum); C absent in s3
    "x2": ("sim", "x2", None),  # survdiff(Surv(time, event) ~ x2, sim)
    "x2_strata": ("sim", "x2", "stratum"),  # ~ x2 + strata(stratum)
}


@pytest.mark.parametrize("test", list(LOGRANK_CASES))
def test_logrank_against_R(test, rossi, sim):
    ds, by, strata = LOGRANK_CASES[test]
    df, cols = _data(ds, rossi, sim)
    lr = sv.logrank(df, time=cols["time"], event=cols["event"], by=by, strata=strata)
    ref = expected("logrank.csv", dtype=LABELS).query("dataset == @ds and test == @test").iloc[0]
    assert_matches_r(lr.statistic, ref["chisq"], "chisq")
    assert lr.df == ref["df"]
    assert_matches_r(lr.p, ref["p"], "p")
    groups = expected("logrank_groups.csv", dtype=LABELS).query("dataset == @ds and test == @test")
    assert list(lr.table["group"].astype(str)) == list(groups["group"])
    assert_matches_r(lr.table["n"], groups["n"], "n")
    assert_matches_r(lr.table["observed"], groups["observed"], "observed")
    assert_matches_r(lr.table["expected"], groups["expected"], "expected")


def test_logrank_rossi_is_3_8376_on_1_df_against_R(rossi):
    # R: survdiff(Surv(week, arrest) ~ fin, data = rossi)  ->  Chisq = 3.8 on 1 df, p = 0.05
    lr = sv.logrank(rossi, time="week", event="arrest", by="fin")
    assert isinstance(lr, TestResult)
    assert lr.statistic == pytest.approx(3.837569576549055, rel=RTOL)
    assert lr.df == 1
    assert lr.p == pytest.approx(0.050116117409005671, rel=RTOL)
    assert "3.8376" in str(lr)
    assert list(lr.to_frame().columns) == ["test", "statistic", "df", "p"]
    assert "<table" in lr._repr_html_()
    # the variance matrix of O − E has rows summing to zero
    np.testing.assert_allclose(lr.vcov.sum(axis=1), 0, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# RMST against R
# ----------------------------------------------------------------------------------------------
RMST_CASES = [("rossi", 52), ("rossi", 26), ("sim", 182), ("sim", 365)]


@pytest.mark.parametrize(("ds", "tau"), RMST_CASES)
@pytest.mark.parametrize("grouped", [True, False])
def test_rmst_against_R(ds, tau, grouped, rossi, sim):
    # R: summary(survfit(Surv(week, arrest) ~ fin, rossi), rmean = tau)$table[,
    #            c("rmean", "se(rmean)")]   (and ~ 1; sim: Surv(time, event) ~ group)
    df, cols = _data(ds, rossi, sim)
    by = cols["by"] if grouped else None
    res = sv.rmst(df, time=cols["time"], event=cols["event"], tau=tau, by=by)
    got = res.to_frame()
    ref = expected("rmst.csv", dtype=LABELS).query("dataset == @ds and tau == @tau")
    ref = ref[(ref["group"] != "all") if grouped else (ref["group"] == "all")]
    assert list(got["group"].astype(str)) == list(ref["group"])
    assert_matches_r(got["estimate"], ref["rmst"], "rmst")
    assert_matches_r(got["se"], ref["se"], "se")
    z = 1.959963984540054
    assert_matches_r(got["lower"], ref["rmst"].to_numpy() - z * ref["se"].to_numpy(), "lower")
    assert (got["tau"] == tau).all()
    assert res.tau == tau and res.conf_level == 0.95


@pytest.mark.parametrize(("ds", "tau"), RMST_CASES)
def test_rmst_difference_against_R(ds, tau, rossi, sim):
    # R: rmst1 − rmst0 from summary(survfit(...), rmean = tau)$table, se = sqrt(se1² + se0²),
    #    diff ∓ qnorm(0.975)·se, p = 2·pnorm(−|diff/se|)  (the survRM2 / Uno et al. 2014 contrast)
    # Two arms at a time: treated = R's group1, control = group0 (the other rows left out; each
    # arm's RMST uses only its own rows, so the difference is R's).
    df, cols = _data(ds, rossi, sim)
    by = cols["by"]
    ref = expected("rmst_diff.csv", dtype=LABELS).query("dataset == @ds and tau == @tau")
    assert len(ref) > 0
    for _, row in ref.iterrows():
        label = {str(g): g for g in df[by].unique()}
        treated, control = label[row["group1"]], label[row["group0"]]
        arms = df[df[by].isin([treated, control])]
        got = sv.rmst_difference(
            arms, time=cols["time"], event=cols["event"], group=by, treated=treated, tau=tau
        )
        assert (got.treated, got.control) == (treated, control)
        what = f"{ds} tau={tau} {treated} - {control}"
        for ours, theirs in [
            ("estimate", "diff"),
            ("se", "se"),
            ("lower", "lower"),
            ("upper", "upper"),
            ("p", "p"),
        ]:
            assert_matches_r(getattr(got, ours), row[theirs], f"{what}: {ours}")


def test_rmst_difference_treated_arm_swaps_sign(sim):
    ab = sim[sim["group"].isin(["A", "B"])]
    a = sv.rmst_difference(ab, time="time", event="event", group="group", treated="B", tau=182)
    b = sv.rmst_difference(ab, time="time", event="event", group="group", treated="A", tau=182)
    assert (a.treated, a.control, b.treated, b.control) == ("B", "A", "A", "B")
    assert b.estimate == pytest.approx(-a.estimate, rel=1e-12)
    assert b.statistic == pytest.approx(-a.statistic, rel=1e-12)
    assert b.se == pytest.approx(a.se, rel=1e-12)
    assert b.p == pytest.approx(a.p, rel=1e-12)
    assert list(a.arms["group"]) == ["B", "A"]  # treated first
    frame = a.to_frame()
    assert list(frame.columns) == [
        "treated",
        "control",
        "tau",
        "estimate",
        "se",
        "lower",
        "upper",
        "statistic",
        "p",
    ]
    assert frame.loc[0, "estimate"] == a.estimate


def test_rmst_difference_takes_cohort_labels_and_refuses_other_designs(sim):
    # the default treated="programme" takes Cohort.data["group"] as it is
    d = sim[sim["group"].isin(["A", "B"])].assign(
        group=lambda x: x["group"].map({"A": "comparison", "B": "programme"})
    )
    got = sv.rmst_difference(d, time="time", event="event", group="group", tau=182)
    assert (got.treated, got.control) == ("programme", "comparison")
    assert got.estimate == pytest.approx(119.93837032507307 - 144.67310374243814, rel=RTOL)
    with pytest.raises(InputError, match=r"column 'group'.*exactly two groups"):
        sv.rmst_difference(sim, time="time", event="event", group="group", treated="A", tau=182)
    with pytest.raises(InputError, match=r"column 'group'.*treated='z'"):
        sv.rmst_difference(d, time="time", event="event", group="group", treated="z", tau=182)


# ----------------------------------------------------------------------------------------------
# Cumulative incidence against R
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("grouped", [True, False])
def test_cumulative_incidence_against_R(grouped, sim):
    # R: sim$cause_f <- factor(sim$cause, 0:2, c("censor", "reoffence", "death"))
    #    summary(survfit(Surv(time, cause_f) ~ group, data = sim), times = c(30, 90, 182, 365))
    #    -> pstate and std.err (infinitesimal jackknife) per state; n.risk of state "(s0)"
    got = sv.cumulative_incidence(
        sim,
        time="time",
        event="cause",
        by="group" if grouped else None,
        times=[30, 90, 182, 365],
    ).to_frame()
    ref = expected("cif.csv", dtype=LABELS)
    ref = ref[(ref["group"] != "all") if grouped else (ref["group"] == "all")]
    key = ["group", "cause", "time"]
    got = got.assign(group=got["group"].astype(str)).sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True)
    assert len(got) == len(ref)
    assert (got[key].to_numpy() == ref[key].to_numpy()).all()
    assert_matches_r(got["at_risk"], ref["n_risk"], "n_risk")
    assert_matches_r(got["estimate"], ref["estimate"], "estimate")
    assert_matches_r(got["se"], ref["std_err"], "std_err")


# ----------------------------------------------------------------------------------------------
# Behaviour at the edges
# ----------------------------------------------------------------------------------------------
def test_km_at_before_first_event_is_one(rossi):
    # R's summary(times=) uses the time-0 row survfit0() adds: surv 1, std.err 0, limits 1
    km = sv.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    got = km.at([0, 0.5])
    assert (got["survival"] == 1).all()
    assert (got["se"] == 0).all()
    assert (got["lower"] == 1).all() and (got["upper"] == 1).all()
    assert list(got["at_risk"]) == [216, 216, 216, 216]  # everyone has week ≥ 0.5
    assert (got["events"] == 0).all()


def test_km_at_between_and_after_last_follow_up():
    df = pd.DataFrame({"t": [2, 3, 5, 8, 8, 10], "e": [1, 0, 1, 1, 0, 0]})
    km = sv.kaplan_meier(df, time="t", event="e")
    got = km.at([4, 9, 10, 11])
    # S(4) = 5/6; S(9) = 5/6 · 3/4 · 2/3 (6, 4 and 3 at risk at 2, 5 and 8); unchanged at 10
    # (a censoring); unknown after 10, the last follow-up time
    s9 = 5 / 6 * 3 / 4 * 2 / 3
    np.testing.assert_allclose(got["survival"], [5 / 6, s9, s9, np.nan], rtol=1e-12)
    assert np.isnan(got.loc[3, ["se", "lower", "upper"]].astype(float)).all()
    assert list(got["at_risk"]) == [4, 1, 1, 0]
    assert list(got["events"]) == [1, 2, 0, 0]
    assert list(got["censored"]) == [1, 1, 1, 0]


def test_km_at_sorts_and_deduplicates_times(rossi):
    km = sv.kaplan_meier(rossi, time="week", event="arrest")
    got = km.at([52, 13, 13])
    assert list(got["time"]) == [13, 52]


def test_km_all_events_curve_reaches_zero():
    # Greenwood is infinite where S reaches 0; R's summary() then reports std.err NaN
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 1, 1]})
    km = sv.kaplan_meier(df, time="t", event="e")
    assert km.table["survival"].iloc[-1] == 0
    assert np.isnan(km.table["se"].iloc[-1])
    # the infinitesimal jackknife gives 0 there (R: robust = TRUE), and a plain interval [0, 0]
    km_ij = sv.kaplan_meier(df, time="t", event="e", variance="ij", conf_type="plain")
    assert km_ij.table["se"].iloc[-1] == 0
    assert km_ij.table["lower"].iloc[-1] == 0 and km_ij.table["upper"].iloc[-1] == 0
    # tau beyond the data is fine when the curve has reached 0: the area is known
    r = sv.rmst(df, time="t", event="e", tau=10)
    assert r.to_frame()["estimate"].iloc[0] == pytest.approx(2.0)


def test_km_median_midpoint_rule():
    # S = 0.5 exactly on [2, 4): R's median is the midpoint (2 + 4) / 2 = 3
    df = pd.DataFrame({"t": [1, 2, 4, 5], "e": [1, 1, 1, 1]})
    med = sv.kaplan_meier(df, time="t", event="e").median()
    assert med["median"].iloc[0] == 3
    # without the plateau at exactly 0.5 it is the first time S ≤ 0.5
    df2 = pd.DataFrame({"t": [1, 2, 4], "e": [1, 1, 1]})
    assert sv.kaplan_meier(df2, time="t", event="e").median()["median"].iloc[0] == 2


def test_km_no_events_group_is_flat():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [0, 0, 1, 1], "g": ["a", "a", "b", "b"]})
    km = sv.kaplan_meier(df, time="t", event="e", by="g")
    assert list(km.table["group"]) == ["b", "b"]
    at = km.at([1.5])
    assert at.loc[at["group"] == "a", "survival"].iloc[0] == 1
    assert np.isnan(km.median().loc[0, "median"])


def test_km_result_is_frozen_and_renders(rossi):
    km = sv.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    with pytest.raises(AttributeError):
        km.conf_level = 0.9  # type: ignore[misc]
    assert km.to_frame().equals(km.table)
    assert "<table" in km._repr_html_()
    assert list(km.table.columns) == [
        "group",
        "time",
        "at_risk",
        "events",
        "censored",
        "survival",
        "se",
        "lower",
        "upper",
    ]
    assert km.variance == "greenwood" and not km.weighted
    assert list(km.counts["n"]) == [216, 216]


def test_km_censored_in_table_plus_tail_equals_all_censored(sim):
    km = sv.kaplan_meier(sim, time="time", event="event", by="group")
    for g in km.groups:
        tab = km.table[km.table["group"] == g]
        curve = km.curve[km.curve["group"] == g]
        tail = curve.loc[curve["time"] > tab["time"].max(), "censored"].sum()
        n_cens = int(((sim["group"] == g) & (sim["event"] == 0)).sum())
        assert tab["censored"].sum() + tail == n_cens


def test_km_conf_level_changes_width_only(rossi):
    a = sv.kaplan_meier(rossi, time="week", event="arrest", conf_level=0.95).table
    b = sv.kaplan_meier(rossi, time="week", event="arrest", conf_level=0.80).table
    assert np.array_equal(a["survival"], b["survival"])
    assert ((b["upper"] - b["lower"]) < (a["upper"] - a["lower"])).all()


def test_cumulative_incidence_default_times_are_event_times():
    d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "cause": [1, 2, 0, 1, 0, 2]})
    out = sv.cumulative_incidence(d, time="t", event="cause").to_frame()
    assert sorted(set(out["time"])) == [1, 2, 3, 5]
    c1 = out[out["cause"] == 1].set_index("time")["estimate"]
    c2 = out[out["cause"] == 2].set_index("time")["estimate"]
    # hand calculation, S(t−)·d_k/n at each time: n = 6, 5, 3, 1 at t = 1, 2, 3, 5 and
    # S(t−) = 1, 5/6, 4/6, 4/9
    np.testing.assert_allclose(c1, [1 / 6, 1 / 6, 1 / 6 + 4 / 6 / 3, 1 / 6 + 4 / 6 / 3], rtol=1e-12)
    np.testing.assert_allclose(c2, [0, 5 / 6 / 5, 5 / 6 / 5, 5 / 6 / 5 + 4 / 9], rtol=1e-12)
    at = sv.cumulative_incidence(d, time="t", event="cause", times=[0.5, 6]).to_frame()
    assert (at.loc[at["time"] == 0.5, "estimate"] == 0).all()
    assert at.loc[at["time"] == 6, "estimate"].isna().all()
    assert (at.loc[at["time"] == 6, "at_risk"] == 0).all()


def test_logrank_strata_from_two_columns_equal_one_combined_column(sim):
    both = sv.logrank(sim, time="time", event="event", by="group", strata=["stratum", "x2"])
    combined = sim.assign(sx=sim["stratum"] + "/" + sim["x2"].astype(str))
    one = sv.logrank(combined, time="time", event="event", by="group", strata="sx")
    assert both.statistic == pytest.approx(one.statistic, rel=1e-12)
    assert both.n_strata == one.n_strata == 6
    # and stratifying changes the answer (the test is not ignoring strata)
    assert (
        abs(both.statistic - sv.logrank(sim, time="time", event="event", by="group").statistic) > 1
    )


def test_boolean_event_and_categorical_group_order(rossi):
    d = rossi.assign(
        arrested=rossi["arrest"].astype(bool),
        aid=pd.Categorical(rossi["fin"].map({0: "none", 1: "aid"}), categories=["none", "aid"]),
    )
    km = sv.kaplan_meier(d, time="week", event="arrested", by="aid")
    assert km.groups == ("none", "aid")  # categorical order, not alphabetical
    ref = sv.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    np.testing.assert_array_equal(km.table["survival"], ref.table["survival"])
    assert list(km.at([52])["group"]) == ["none", "aid"]


# ----------------------------------------------------------------------------------------------
# Validation: every rule raises the documented error naming the column
# ----------------------------------------------------------------------------------------------
def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "e": [1, 0, 1, 1, 0, 1],
            "g": ["a", "a", "a", "b", "b", "b"],
            "w": [1.0, 2.0, 1.5, 1.0, 1.0, 0.5],
        }
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda d: sv.kaplan_meier(d, time="t", event="e", by="g"),
        lambda d: sv.logrank(d, time="t", event="e", by="g"),
        lambda d: sv.rmst(d, time="t", event="e", tau=3, by="g"),
        lambda d: sv.rmst_difference(d, time="t", event="e", group="g", treated="b", tau=3),
        lambda d: sv.cumulative_incidence(d, time="t", event="e", by="g"),
    ],
    ids=["kaplan_meier", "logrank", "rmst", "rmst_difference", "cumulative_incidence"],
)
class TestCommonValidation:
    def test_negative_time(self, fn):
        d = _small()
        d.loc[2, "t"] = -1
        with pytest.raises(InputError, match=r"'t'.*not be negative") as err:
            fn(d)
        assert err.value.rows == [2]

    def test_missing_time(self, fn):
        d = _small()
        d.loc[4, "t"] = np.nan
        with pytest.raises(InputError, match="missing") as err:
            fn(d)
        assert err.value.column == "t" and err.value.rows == [4]

    def test_missing_column(self, fn):
        with pytest.raises(InputError, match=r"'e'.*missing"):
            fn(_small().drop(columns="e"))

    def test_missing_group_label(self, fn):
        d = _small().astype({"g": object})
        d.loc[1, "g"] = None
        with pytest.raises(InputError, match="'g'") as err:
            fn(d)
        assert err.value.rows == [1]

    def test_empty_categorical_group(self, fn):
        d = _small()
        d["g"] = pd.Categorical(d["g"], categories=["a", "b", "c"])
        with pytest.raises(InputError, match="group 'c' has no rows"):
            fn(d)

    def test_not_a_frame(self, fn):
        with pytest.raises(InputError, match="DataFrame"):
            fn(_small().to_dict())


@pytest.mark.parametrize(
    "fn",
    [
        lambda d: sv.kaplan_meier(d, time="t", event="e", by="g"),
        lambda d: sv.logrank(d, time="t", event="e", by="g"),
        lambda d: sv.rmst(d, time="t", event="e", tau=3, by="g"),
        lambda d: sv.rmst_difference(d, time="t", event="e", group="g", treated="b", tau=3),
    ],
    ids=["kaplan_meier", "logrank", "rmst", "rmst_difference"],
)
def test_event_must_be_0_or_1(fn):
    d = _small()
    d.loc[3, "e"] = 2
    with pytest.raises(InputError, match="0 \\(censored\\) or 1") as err:
        fn(d)
    assert err.value.column == "e" and err.value.rows == [3]


def test_cause_codes_must_be_whole_non_negative():
    d = _small()
    d["e"] = d["e"].astype(float)
    d.loc[0, "e"] = 1.5
    with pytest.raises(InputError, match="cause code") as err:
        sv.cumulative_incidence(d, time="t", event="e")
    assert err.value.rows == [0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda d: sv.logrank(d, time="t", event="e", by="g"),
        lambda d: sv.rmst_difference(d, time="t", event="e", group="g", treated="a", tau=1),
    ],
    ids=["logrank", "rmst_difference"],
)
def test_single_group_is_a_design_error(fn):
    d = _small().assign(g="a")
    with pytest.raises(DesignError, match="at least 2"):
        fn(d)


def test_logrank_singular_variance_is_a_design_error():
    # every event happens when everyone left is in one risk set that all fail: V = 0 (R's
    # survdiff stops in solve() here)
    d = pd.DataFrame({"t": [1.0, 1.0, 1.0, 1.0], "e": [1, 1, 1, 1], "g": ["x", "x", "x", "y"]})
    with pytest.raises(DesignError, match="singular"):
        sv.logrank(d, time="t", event="e", by="g")


def test_logrank_needs_events():
    with pytest.raises(InputError, match="no events"):
        sv.logrank(_small().assign(e=0), time="t", event="e", by="g")


def test_cumulative_incidence_needs_events():
    with pytest.raises(InputError, match="no events"):
        sv.cumulative_incidence(_small().assign(e=0), time="t", event="e")


def test_tau_beyond_last_follow_up_in_a_group_is_an_error(sim):
    d = sim.copy()
    late = (d["group"] == "C") & (d["time"] > 300)
    d.loc[late, "time"] = 300  # group C's follow-up now ends at day 300, alive
    d.loc[late, "event"] = 0
    with pytest.raises(InputError, match=r"tau.*group 'C'.*300") as err:
        sv.rmst(d, time="time", event="event", tau=365, by="group")
    assert err.value.column == "tau"
    with pytest.raises(InputError, match=r"argument 'tau'.*group 'C'"):
        sv.rmst_difference(
            d[d["group"] != "B"], time="time", event="event", tau=365, group="group", treated="C"
        )
    # up to the shortest group's last follow-up time is fine
    assert len(sv.rmst(d, time="time", event="event", tau=300, by="group").to_frame()) == 3


@pytest.mark.parametrize("tau", [0, -3, np.nan, "a year"])
def test_tau_must_be_positive(tau):
    with pytest.raises(InputError, match="argument 'tau'"):
        sv.rmst(_small(), time="t", event="e", tau=tau)


def test_bad_options_name_the_valid_values():
    with pytest.raises(InputError, match=r"conf_type.*'log-log'"):
        sv.kaplan_meier(_small(), time="t", event="e", conf_type="logit")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="variance"):
        sv.kaplan_meier(_small(), time="t", event="e", variance="robust")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="conf_level"):
        sv.kaplan_meier(_small(), time="t", event="e", conf_level=95)
    with pytest.raises(InputError, match=r"column 'g'.*treated='z'.*labels: 'a', 'b'"):
        sv.rmst_difference(_small(), time="t", event="e", group="g", tau=3, treated="z")


def test_weights_must_be_positive():
    d = _small()
    d.loc[5, "w"] = 0
    with pytest.raises(InputError, match=r"'w'.*positive") as err:
        sv.kaplan_meier(d, time="t", event="e", weights="w")
    assert err.value.rows == [5]


def test_at_times_must_be_non_negative(rossi):
    km = sv.kaplan_meier(rossi, time="week", event="arrest")
    with pytest.raises(InputError, match="times"):
        km.at([-1, 5])
    with pytest.raises(InputError, match="times"):
        km.at([np.nan])


def test_id_col_names_rows_by_person():
    d = _small().assign(person=[f"p{i}" for i in range(6)])
    d.loc[2, "t"] = -1
    with pytest.raises(InputError) as err:
        sv.kaplan_meier(d, time="t", event="e", id_col="person")
    assert err.value.rows == ["p2"]


def _with_repeated_person() -> pd.DataFrame:
    # person p1 appears twice (rows 1 and 4): with id_col the data claim one row per person
    return _small().assign(person=["p0", "p1", "p2", "p3", "p1", "p5"])


def test_kaplan_meier_refuses_duplicate_ids_with_id_col():
    d = _with_repeated_person()
    with pytest.raises(InputError, match=r"column 'person'.*must be unique") as err:
        sv.kaplan_meier(d, time="t", event="e", id_col="person")
    assert err.value.rows == ["p1"] and err.value.positions == [4]
    with pytest.raises(InputError, match="must be unique"):
        sv.kaplan_meier(d, time="t", event="e", by="g", weights="w", id_col="person")
    with pytest.raises(InputError, match=r"column 'nobody'.*missing"):
        sv.kaplan_meier(d, time="t", event="e", id_col="nobody")
    sv.kaplan_meier(d, time="t", event="e")  # without id_col rows are just rows


@pytest.mark.filterwarnings("ignore::evalkit.errors.SmallCountWarning")
def test_logrank_refuses_duplicate_ids_with_id_col():
    d = _with_repeated_person()
    with pytest.raises(InputError, match=r"column 'person'.*must be unique") as err:
        sv.logrank(d, time="t", event="e", by="g", id_col="person")
    assert err.value.rows == ["p1"]
    sv.logrank(d, time="t", event="e", by="g")


def test_rmst_and_cumulative_incidence_refuse_duplicate_ids_with_id_col():
    d = _with_repeated_person()
    calls = [
        lambda: sv.rmst(d, time="t", event="e", tau=5, id_col="person"),
        lambda: sv.rmst_difference(
            d, time="t", event="e", group="g", treated="b", tau=5, id_col="person"
        ),
        lambda: sv.cumulative_incidence(d, time="t", event="e", id_col="person"),
    ]
    for call in calls:
        with pytest.raises(InputError, match="must be unique"):
            call()


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------
times_st = st.lists(st.integers(0, 40), min_size=1, max_size=60)


@settings(max_examples=20, deadline=None)
@given(times=times_st)
def test_km_without_censoring_is_one_minus_ecdf(times):
    t = np.asarray(times, dtype=float)
    km = sv.kaplan_meier(pd.DataFrame({"t": t, "e": 1}), time="t", event="e")
    ecdf = (t[None, :] <= km.table["time"].to_numpy()[:, None]).mean(axis=1)
    np.testing.assert_allclose(km.table["survival"], 1 - ecdf, rtol=0, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(1, 15), st.booleans(), st.integers(1, 4)), min_size=2, max_size=30
    )
)
def test_km_integer_weights_equal_replicated_rows(data):
    t, e, w = (np.asarray(x) for x in zip(*data, strict=True))
    weighted = sv.kaplan_meier(
        pd.DataFrame({"t": t, "e": e.astype(int), "w": w.astype(float)}),
        time="t",
        event="e",
        weights="w",
    )
    assert weighted.variance == "greenwood"  # R's rule: whole-number weights keep Greenwood
    rep = pd.DataFrame({"t": np.repeat(t, w), "e": np.repeat(e.astype(int), w)})
    plain = sv.kaplan_meier(rep, time="t", event="e")
    np.testing.assert_allclose(weighted.curve["survival"], plain.curve["survival"], rtol=1e-12)
    np.testing.assert_allclose(weighted.curve["se"], plain.curve["se"], rtol=1e-9)
    np.testing.assert_allclose(weighted.curve["at_risk"], plain.curve["at_risk"], rtol=1e-12)


def _km_surv_weighted(t, e, w, at):
    """Brute-force weighted KM at one time (a loop over distinct times; test oracle only)."""
    s = 1.0
    for u in np.unique(t[e == 1]):
        if u > at:
            break
        n = w[t >= u].sum()
        d = w[(t == u) & (e == 1)].sum()
        s *= 1 - d / n
    return s


@settings(max_examples=20, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(1, 10), st.booleans(), st.floats(0.5, 2.0)),
        min_size=3,
        max_size=15,
    ),
    at=st.integers(1, 10),
)
def test_km_ij_variance_equals_numerical_derivative(data, at):
    # var = Σ_i (w_i ∂S(t)/∂w_i)², the derivative taken numerically from a brute-force KM
    t, e, w = (np.asarray(x, dtype=float) for x in zip(*data, strict=True))
    km = sv.kaplan_meier(
        pd.DataFrame({"t": t, "e": e.astype(int), "w": w}),
        time="t",
        event="e",
        weights="w",
        variance="ij",
    )
    got = km.at([at])
    if np.isnan(got["se"].iloc[0]) or got["survival"].iloc[0] == 0:
        return
    h = 1e-6
    infl = []
    for i in range(len(t)):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        deriv = (_km_surv_weighted(t, e, up, at) - _km_surv_weighted(t, e, down, at)) / (2 * h)
        infl.append(w[i] * deriv)
    assert got["se"].iloc[0] == pytest.approx(np.sqrt(np.sum(np.square(infl))), rel=1e-5, abs=1e-9)


def _aj_weighted(t, c, w, cause, at):
    """Brute-force weighted Aalen–Johansen cumulative incidence (test oracle only)."""
    s, f = 1.0, 0.0
    for u in np.unique(t[c > 0]):
        if u > at:
            break
        n = w[t >= u].sum()
        f += s * w[(t == u) & (c == cause)].sum() / n
        s *= 1 - w[(t == u) & (c > 0)].sum() / n
    return f


@settings(max_examples=20, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 8), st.integers(0, 2)), min_size=3, max_size=20),
    at=st.integers(1, 8),
    cause=st.sampled_from([1, 2]),
)
def test_cif_ij_variance_equals_numerical_derivative(data, at, cause):
    t, c = (np.asarray(x) for x in zip(*data, strict=True))
    t = t.astype(float)
    if not (c > 0).any() or at > t.max():
        return
    out = sv.cumulative_incidence(
        pd.DataFrame({"t": t, "c": c}), time="t", event="c", times=[at]
    ).to_frame()
    row = out[out["cause"] == cause]
    if row.empty:
        return
    h = 1e-6
    w = np.ones_like(t)
    infl = []
    for i in range(len(t)):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        infl.append(
            (_aj_weighted(t, c, up, cause, at) - _aj_weighted(t, c, down, cause, at)) / (2 * h)
        )
    assert row["estimate"].iloc[0] == pytest.approx(_aj_weighted(t, c, w, cause, at), abs=1e-12)
    assert row["se"].iloc[0] == pytest.approx(np.sqrt(np.sum(np.square(infl))), rel=1e-5, abs=1e-8)


@settings(max_examples=20, deadline=None)
@given(data=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 3)), min_size=2, max_size=40))
def test_cif_and_event_free_probability_sum_to_one(data):
    t, c = (np.asarray(x) for x in zip(*data, strict=True))
    if not (c > 0).any():
        return
    d = pd.DataFrame({"t": t.astype(float), "c": c, "e": (c > 0).astype(int)})
    grid = np.arange(0, 13, dtype=float)
    grid = grid[grid <= t.max()]
    cif = sv.cumulative_incidence(d, time="t", event="c", times=grid).to_frame()
    total = cif.groupby("time")["estimate"].sum().to_numpy()
    s = sv.kaplan_meier(d, time="t", event="e").at(grid)["survival"].to_numpy()
    np.testing.assert_allclose(total + s, 1.0, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(data=st.lists(st.tuples(st.integers(1, 12), st.booleans()), min_size=2, max_size=40))
def test_single_cause_cif_is_one_minus_km_with_the_same_ij_se(data):
    # two different code paths: the KM IJ (variance="ij") and the Aalen–Johansen IJ
    t, e = (np.asarray(x) for x in zip(*data, strict=True))
    if not e.any():
        return
    d = pd.DataFrame({"t": t.astype(float), "e": e.astype(int)})
    cif = sv.cumulative_incidence(d, time="t", event="e").to_frame()
    km = sv.kaplan_meier(d, time="t", event="e", variance="ij").table
    np.testing.assert_allclose(cif["estimate"], 1 - km["survival"], atol=1e-12)
    np.testing.assert_allclose(cif["se"], km["se"], rtol=1e-8, atol=1e-12)


@pytest.mark.filterwarnings("ignore::evalkit.errors.SmallCountWarning")
@settings(max_examples=20, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(1, 20), st.booleans(), st.sampled_from("xyz")),
        min_size=4,
        max_size=50,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_logrank_invariant_to_relabelling_and_row_order(data, seed):
    t, e, g = (np.asarray(x) for x in zip(*data, strict=True))
    if len(set(g)) < 2 or not e.any():
        return
    d = pd.DataFrame({"t": t.astype(float), "e": e.astype(int), "g": g})
    try:
        base = sv.logrank(d, time="t", event="e", by="g")
    except DesignError:  # no information (singular variance): must fail the same way
        with pytest.raises(DesignError):
            sv.logrank(d.iloc[::-1], time="t", event="e", by="g")
        return
    rng = np.random.default_rng(seed)
    shuffled = d.iloc[rng.permutation(len(d))].reset_index(drop=True)
    relabel = {"x": "zz", "y": "aa", "z": "mm"}
    shuffled["g"] = shuffled["g"].map(relabel)
    other = sv.logrank(shuffled, time="t", event="e", by="g")
    assert other.statistic == pytest.approx(base.statistic, rel=1e-9, abs=1e-12)
    assert other.df == base.df
    a = base.table.assign(group=base.table["group"].map(relabel)).set_index("group")
    b = other.table.set_index("group").loc[a.index]
    np.testing.assert_allclose(a[["observed", "expected"]], b[["observed", "expected"]], rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(times=times_st, tau=st.floats(0.5, 45))
def test_rmst_without_censoring_is_mean_of_min_t_tau(times, tau):
    t = np.asarray(times, dtype=float)
    if tau > t.max():
        tau = float(t.max()) if t.max() > 0 else tau
    d = pd.DataFrame({"t": t, "e": 1})
    r = sv.rmst(d, time="t", event="e", tau=tau).to_frame().iloc[0]
    y = np.minimum(t, tau)
    assert r["estimate"] <= tau + 1e-12
    assert r["estimate"] == pytest.approx(y.mean(), rel=1e-12, abs=1e-12)
    # and the delta-method variance is then the plug-in variance of min(T, tau) over n
    assert r["se"] ** 2 == pytest.approx(y.var() / len(y), rel=1e-9, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 30), st.booleans()), min_size=2, max_size=40),
    tau=st.integers(1, 30),
)
def test_rmst_is_between_zero_and_tau_with_censoring(data, tau):
    t, e = (np.asarray(x) for x in zip(*data, strict=True))
    d = pd.DataFrame({"t": t.astype(float), "e": e.astype(int)})
    s_last = sv.kaplan_meier(d, time="t", event="e").curve["survival"].iloc[-1]
    if tau > t.max() and s_last > 0:  # beyond follow-up with the curve still above 0
        with pytest.raises(InputError, match="tau"):
            sv.rmst(d, time="t", event="e", tau=tau)
        return
    r = sv.rmst(d, time="t", event="e", tau=tau).to_frame().iloc[0]
    assert 0 <= r["estimate"] <= tau
    assert r["se"] >= 0


# ----------------------------------------------------------------------------------------------
# Plot
# ----------------------------------------------------------------------------------------------
def test_plot_km_at_risk_numbers_equal_km_at(rossi):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from evalkit.plotting import AT_RISK_GID, OKABE_ITO

    km = sv.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    ax = km.plot(risk_times=[0, 13, 26, 39, 52])
    drawn = {}
    for txt in ax.texts:
        gid = txt.get_gid()
        if gid and gid.startswith(AT_RISK_GID):
            _, i, t = gid.split("|")
            drawn[(km.groups[int(i)], float(t))] = int(txt.get_text())
    expected = km.at([0, 13, 26, 39, 52])
    assert len(drawn) == len(expected) == 10
    for g, t, n in zip(expected["group"], expected["time"], expected["at_risk"], strict=True):
        assert drawn[(g, float(t))] == n
    assert drawn[(0, 52.0)] == 154  # R: summary(survfit(...~ fin), times = 52)$n.risk
    # colours from the Okabe–Ito palette, one step line per group, alt text attached
    colours = [line.get_color() for line in ax.get_lines() if line.get_linestyle() != "None"]
    assert colours[:2] == list(OKABE_ITO[:2])
    assert ax.alt_text.startswith("Kaplan–Meier curves")
    assert "group 0" in ax.alt_text and "median not reached" in ax.alt_text
    plt.close(ax.figure)


def test_plot_km_on_given_axes_without_extras(sim):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    km = sv.kaplan_meier(sim, time="time", event="event", by="group", weights="w")
    out = km.plot(ax=ax, ci=False, censor_marks=False, risk_table=False)
    assert out is ax
    assert len(ax.get_lines()) == 3
    assert not [t for t in ax.texts if (t.get_gid() or "").startswith("evalkit")]
    plt.close(fig)


# ----------------------------------------------------------------------------------------------
# The result contract
# ----------------------------------------------------------------------------------------------
def _all_results(d: pd.DataFrame) -> dict[str, Result]:
    arms = d[d["group"] != "C"]
    return {
        "kaplan_meier": sv.kaplan_meier(d, time="time", event="event", by="group", weights="w"),
        "logrank": sv.logrank(d, time="time", event="event", by="group", strata="stratum"),
        "rmst": sv.rmst(d, time="time", event="event", tau=182, by="group"),
        "rmst_difference": sv.rmst_difference(
            arms, time="time", event="event", group="group", treated="A", tau=182
        ),
        "cumulative_incidence": sv.cumulative_incidence(d, time="time", event="cause", by="group"),
    }


def _snapshot(res: Result) -> list[pd.DataFrame]:
    frames = [res.to_frame()]
    for name in ("table", "curve", "counts", "arms"):
        if isinstance(getattr(res, name, None), pd.DataFrame):
            frames.append(getattr(res, name).copy())
    if isinstance(res, sv.KaplanMeierResult):
        frames += [res.at([30, 182]), res.median()]
    return frames


def test_results_do_not_depend_on_the_input_frame_after_the_call(sim):
    d = sim.copy()
    results = _all_results(d)
    before = {k: _snapshot(r) for k, r in results.items()}
    # overwrite every column the estimators read, in place
    d["time"] = 1.0
    d["event"] = 0
    d["cause"] = 0
    d["w"] = 9.0
    d["group"] = "A"
    d.loc[:, "stratum"] = "s9"
    for name, res in results.items():
        for old, new in zip(before[name], _snapshot(res), strict=True):
            pd.testing.assert_frame_equal(new, old, check_exact=True, obj=name)


def test_results_are_frozen_with_short_repr_and_fresh_frames(sim):
    for name, res in _all_results(sim).items():
        assert isinstance(res, Result), name
        text = repr(res)
        assert len(text) < 300 and "\n" not in text, (name, text)
        assert text.startswith(type(res).__name__ + "("), text
        assert res.summary().splitlines()[0], name
        assert res.to_frame() is not res.to_frame()
        first = res.to_frame()
        first.iloc[:, -1] = -1.0  # editing the returned table changes nothing in the result
        assert not res.to_frame().iloc[:, -1].eq(-1.0).all(), name
        with pytest.raises(AttributeError):
            res.conf_level = 0.5  # type: ignore[misc]  # (LogRankResult: a new attribute)
    lr = _all_results(sim)["logrank"]
    assert isinstance(lr, TestResult) and lr.p == lr.to_frame().loc[0, "p"]


@pytest.mark.parametrize(
    "fn",
    [
        lambda d, lvl: sv.kaplan_meier(d, time="t", event="e", conf_level=lvl),
        lambda d, lvl: sv.rmst(d, time="t", event="e", tau=3, conf_level=lvl),
        lambda d, lvl: sv.rmst_difference(
            d, time="t", event="e", group="g", treated="b", tau=3, conf_level=lvl
        ),
        lambda d, lvl: sv.cumulative_incidence(d, time="t", event="e", conf_level=lvl),
    ],
    ids=["kaplan_meier", "rmst", "rmst_difference", "cumulative_incidence"],
)
@pytest.mark.parametrize("level", ["0.9", 95, 0.0, 1.0, True, None])
def test_conf_level_must_be_a_number_between_0_and_1(fn, level):
    # "0.9" used to pass validation (the checked value was discarded) and fail later
    with pytest.raises(InputError, match=r"argument 'conf_level': must be a number strictly"):
        fn(_small(), level)


def test_conf_level_is_stored_on_every_result(sim):
    d = _small()
    for res in (
        sv.kaplan_meier(d, time="t", event="e", conf_level=0.9),
        sv.rmst(d, time="t", event="e", tau=3, conf_level=0.9),
        sv.rmst_difference(d, time="t", event="e", group="g", treated="b", tau=3, conf_level=0.9),
        sv.cumulative_incidence(d, time="t", event="e", conf_level=0.9),
    ):
        assert res.conf_level == 0.9


# The tables rmst, rmst_difference and cumulative_incidence returned before they returned
# results (evalkit 0.x, captured from the previous implementation); to_frame() gives the same
# numbers, with the columns renamed to the vocabulary (rmst -> estimate; group/reference/
# difference -> treated/control/estimate, plus the Wald statistic).
OLD_RMST_ROSSI_52 = {
    "group": [0, 1],
    "tau": [52.0, 52.0],
    "rmst": [44.833333333333336, 46.875],
    "se": [0.9176715404987923, 0.7933248958857263],
    "lower": [43.03473016431831, 45.32011177602499],
    "upper": [46.63193650234836, 48.42988822397501],
}
OLD_RMST_DIFFERENCE_ROSSI_52 = {
    "group": [1],
    "reference": [0],
    "tau": [52.0],
    "difference": [2.0416666666666643],
    "se": [1.2130479985035731],
    "lower": [-0.3358637219187366],
    "upper": [4.419197055252065],
    "p": [0.09235803530461739],
}
OLD_CIF_SMALL = {
    "group": ["all"] * 8,
    "cause": [1, 1, 1, 1, 2, 2, 2, 2],
    "time": [1.0, 2.0, 3.0, 5.0, 1.0, 2.0, 3.0, 5.0],
    "at_risk": [6, 5, 3, 1, 6, 5, 3, 1],
    "estimate": [
        *[1 / 6, 1 / 6, 0.3888888888888889, 0.3888888888888889],
        *[0.0, 0.16666666666666669, 0.16666666666666669, 0.6111111111111112],
    ],
    "se": [
        *[0.15214515486254615, 0.15214515486254615, 0.21872244094477253, 0.2187224409447725],
        *[0.0, 0.15214515486254618, 0.15214515486254615, 0.21872244094477253],
    ],
    "lower": [
        *[0.027849128299274488, 0.027849128299274488, 0.1291471980412951, 0.1291471980412951],
        *[0.0, 0.027849128299274474, 0.027849128299274488, 0.3030170772472256],
    ],
    "upper": [
        *[0.9974379621247047, 0.9974379621247047, 1.0, 1.0],
        *[0.0, 0.9974379621247049, 0.9974379621247045, 1.0],
    ],
}


def _same_numbers(frame: pd.DataFrame, old: dict, renamed: dict[str, str]) -> None:
    for col, values in old.items():
        got = frame[renamed.get(col, col)]
        if isinstance(values[0], str) or col in ("group", "reference", "cause"):
            assert list(got) == values, col
        else:
            np.testing.assert_allclose(got.to_numpy(dtype=float), values, rtol=1e-13, err_msg=col)


def test_rmst_result_to_frame_is_the_old_table(rossi):
    res = sv.rmst(rossi, time="week", event="arrest", tau=52, by="fin")
    frame = res.to_frame()
    assert list(frame.columns) == ["group", "tau", "estimate", "se", "lower", "upper"]
    _same_numbers(frame, OLD_RMST_ROSSI_52, {"rmst": "estimate"})
    assert (res.tau, res.conf_level, res.groups, res.by) == (52.0, 0.95, (0, 1), "fin")

    d = sv.rmst_difference(rossi, time="week", event="arrest", group="fin", treated=1, tau=52)
    renamed = {"group": "treated", "reference": "control", "difference": "estimate"}
    _same_numbers(d.to_frame(), OLD_RMST_DIFFERENCE_ROSSI_52, renamed)
    assert d.statistic == pytest.approx(d.estimate / d.se, rel=1e-12)
    _same_numbers(d.arms, {k: v[::-1] for k, v in OLD_RMST_ROSSI_52.items()}, {"rmst": "estimate"})


def test_cumulative_incidence_result_to_frame_is_the_old_table():
    d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "cause": [1, 2, 0, 1, 0, 2]})
    res = sv.cumulative_incidence(d, time="t", event="cause")
    frame = res.to_frame()
    assert list(frame.columns) == list(OLD_CIF_SMALL)
    _same_numbers(frame, OLD_CIF_SMALL, {})
    assert (res.causes, res.groups) == ((1, 2), ("all",))
    assert (res.conf_type, res.conf_level) == ("log", 0.95)
