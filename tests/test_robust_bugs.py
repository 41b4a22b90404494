"""Every input that escaped before issue 12, and what evalkit does with it now.

Extreme magnitudes get an ``InputError`` saying how to rescale (the limits are
``evalkit.schema.MAX_MAGNITUDE``, ``MIN_SCALE`` and ``evalkit._design.COVARIATE_RANGE``); small
groups get a ``SmallCountWarning``; the other escapes found by the property tests
(``test_robust_inputs.py``) are pinned here one by one, so that none comes back.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from robust_data import outcome, panel, people, series

import evalkit as ek
from evalkit._design import COVARIATE_RANGE, design_matrix, warn_sparse_levels
from evalkit.errors import DesignError, InputError, SmallCountWarning, StatisticalWarning
from evalkit.schema import MAX_MAGNITUDE, MIN_GROUP_EVENTS, MIN_GROUP_PEOPLE, MIN_SCALE


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    df = ek.datasets.load_rossi()
    df["group"] = np.where(df["fin"] == 1, "programme", "comparison")
    return df


def clean_error(fn: Any, *args: Any, **kwargs: Any) -> InputError:
    """The InputError ``fn`` raises, checking that nothing else (no numpy warning) escaped."""
    out = outcome(fn, *args, **kwargs)
    assert isinstance(out.error, InputError), f"expected InputError, got {out.error!r}"
    assert not out.foreign_warnings(), out.foreign_warnings()
    return out.error


# ------------------------------------------------------------------------------------------
# extreme magnitudes
# ------------------------------------------------------------------------------------------
COVARIATE_CALLS = {
    "cox": lambda d: ek.cox(d, time="week", event="arrest", covariates=["fin", "age", "prio"]),
    "propensity_score": lambda d: ek.propensity_score(d, group="group", covariates=["age", "prio"]),
    "match": lambda d: ek.match(d, group="group", covariates=["age", "prio"]),
    "weight": lambda d: ek.weight(d, group="group", covariates=["age", "prio"]),
    "balance": lambda d: ek.balance(d, group="group", covariates=["age", "prio"]),
    "compare_cohorts": lambda d: ek.compare_cohorts(
        d.assign(cohort_period=np.where(d.index % 2 == 0, "before", "after")),
        outcome="arrest",
        covariates=["age", "prio"],
    ),
    "landmark": lambda d: ek.landmark(
        d.assign(engaged_day=np.where(d["prio"] > 2, 3.0, np.nan)),
        time="week",
        event="arrest",
        landmark_day=8,
        covariates=["age"],
        id_col=None,
    ),
}


@pytest.mark.parametrize("name", sorted(COVARIATE_CALLS))
@pytest.mark.parametrize("factor", [1e300, 1e20, 1e-20, 1e-300])
def test_a_covariate_of_extreme_magnitude_is_refused_with_a_rescaling(
    name: str, factor: float, rossi: pd.DataFrame
) -> None:
    # before: cox "column 'fin' is a linear combination of the other covariates" with numpy
    # overflow warnings; propensity_score NaN statistics; balance overflow warnings
    err = clean_error(COVARIATE_CALLS[name], rossi.assign(age=rossi["age"] * factor))
    assert err.column == "age"
    assert "rescale it" in err.rule
    word = "divide" if factor > 1 else "multiply"
    assert word in err.rule


def test_the_magnitude_message_says_how_far_to_rescale() -> None:
    d = pd.DataFrame({"x": [1.0, 2.0, 1e300], "y": [1e-300, 0.0, 2e-300]})
    with pytest.raises(InputError) as err:
        design_matrix(d, ["x"])
    assert str(err.value).startswith(
        "column 'x' in data: has values up to 1e+300 in absolute value; rescale it (e.g. "
        "divide it by 1e+298)"
    )
    assert err.value.rows == [2]  # the offending row
    with pytest.raises(InputError, match=r"no value larger than 2e-300.*multiply it by 1e\+299"):
        design_matrix(d, ["y"])


def test_covariate_limits_are_the_documented_ones() -> None:
    assert MAX_MAGNITUDE == 1e15 and MIN_SCALE == 1e-10
    assert COVARIATE_RANGE == (1e-10, 1e10)
    ok = pd.DataFrame({"x": [0.0, 1e10, -3.0], "z": [0.0, 0.0, 0.0], "s": [1e-10, 0.0, 5e-11]})
    assert design_matrix(ok, ["x", "z", "s"]).X.shape == (3, 3)  # zeros: for the rank checks
    for bad in ([0.0, 1.1e10], [1e-11, 0.0]):
        with pytest.raises(InputError, match="rescale"):
            design_matrix(pd.DataFrame({"x": bad}), ["x"])


@pytest.mark.parametrize("factor", [1e6, 1e-6])
def test_rescaling_a_covariate_rescales_its_coefficient(factor: float, rossi: pd.DataFrame) -> None:
    """Inside the range, the units of a covariate change nothing but its coefficient."""
    d = rossi.assign(age2=rossi["age"] * factor)
    ps = ek.propensity_score(rossi, group="group", covariates=["age", "prio"]).coefficients
    ps2 = ek.propensity_score(d, group="group", covariates=["age2", "prio"]).coefficients
    assert ps2.loc["age2", "estimate"] * factor == pytest.approx(
        ps.loc["age", "estimate"], rel=1e-6
    )
    cc = dict(outcome="arrest", covariates=["age", "prio"])
    arms = {"cohort_period": np.where(rossi.index % 2 == 0, "before", "after")}
    a = ek.compare_cohorts(rossi.assign(**arms), **cc).to_frame()
    cc["covariates"] = ["age2", "prio"]
    b = ek.compare_cohorts(d.assign(**arms), **cc).to_frame()
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-6)


@pytest.mark.parametrize("factor", [1e6, 1e-6])
def test_cox_coefficients_follow_the_units_of_a_covariate(
    factor: float, rossi: pd.DataFrame
) -> None:
    covs = ["fin", "age", "prio"]
    a = ek.cox(rossi, time="week", event="arrest", covariates=covs).table["estimate"]
    d = rossi.assign(age=rossi["age"] * factor)
    b = ek.cox(d, time="week", event="arrest", covariates=covs).table["estimate"]
    np.testing.assert_allclose(b.to_numpy() * [1, factor, 1], a.to_numpy(), rtol=1e-6)


def test_its_counts_of_1e300_are_refused_by_name() -> None:
    # before: statsmodels ValueError "NaN, inf or invalid value detected in weights"
    s = series(36, 1)
    err = clean_error(
        ek.its, s.assign(count=s["count"] * 1e300), outcome="count", time="month", post="post"
    )
    assert err.column == "count" and "rescale" in err.rule


@pytest.mark.parametrize("column", ["y", "period"])
@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_did_outcome_and_time_of_extreme_magnitude_are_refused(column: str, factor: float) -> None:
    # before: y * 1e300 gave overflow warnings and NaN SEs; y * 1e-300 a numpy LinAlgError;
    # time * 1e300 or 1e-300 overflow / invalid-value warnings
    d = panel(12, 2)
    d[column] = d[column] * factor
    err = clean_error(ek.did, d, outcome="y", group="group", post="post", time="period")
    assert err.column == column and "rescale" in err.rule


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_weights_and_times_of_extreme_magnitude(factor: float, rossi: pd.DataFrame) -> None:
    w = rossi.assign(w=factor)
    err = clean_error(ek.kaplan_meier, w, time="week", event="arrest", weights="w")
    assert err.column == "w"
    # before: cox with weights * 1e-300 gave a NaN Wald statistic without a warning
    err = clean_error(
        ek.cox, w, time="week", event="arrest", covariates=["fin"], weights="w", robust=True
    )
    assert err.column == "w"


def test_jdl_days_to_reoffence_of_extreme_magnitude(rossi: pd.DataFrame) -> None:
    # before: 1e300 days gave overflow warnings and infinite SEs; 1e-300 NaN intervals
    d = rossi.assign(reoffended=rossi["arrest"], n_reoffences=rossi["arrest"])
    for factor in (1e300, 1e-300):
        err = clean_error(ek.jdl_outcomes, d.assign(week=d["week"] * factor), time="week",
                          id_col=None)  # fmt: skip
        assert err.column == "week"


def test_a_cause_code_of_1e300_is_refused(rossi: pd.DataFrame) -> None:
    # before: RuntimeWarning "invalid value encountered in cast" and a cause -2**63
    d = rossi.assign(cause=rossi["arrest"].astype(float))
    d.loc[3, "cause"] = 1e300
    err = clean_error(ek.cumulative_incidence, d, time="week", event="cause")
    assert err.column == "cause" and err.rows == [3]


def test_counts_beyond_exact_whole_numbers_are_refused() -> None:
    # before: paired_rate_difference(10, 1e300, 4, 20) gave overflow warnings
    for fn, args, name in (
        (ek.paired_rate_difference, (10, 1e300, 4, 20), "first_only"),
        (ek.rate_difference, (3, 10, 2, 1e16), "n0"),
        (ek.odds_ratio, (3, 10**20, 2, 10), "n1"),
    ):
        err = clean_error(fn, *args)
        assert err.column == name and "at most 1e+15" in err.rule


# ------------------------------------------------------------------------------------------
# text in numeric columns
# ------------------------------------------------------------------------------------------
def test_a_number_column_with_a_stray_word_is_refused_naming_the_rows(rossi: pd.DataFrame) -> None:
    # before: age with one "unknown" became a categorical covariate of 40 levels (one per age)
    d = rossi.assign(age=rossi["age"].astype(str))
    d.loc[[5, 9], "age"] = " unknown"
    err = clean_error(ek.cox, d, time="week", event="arrest", covariates=["fin", "age"])
    assert err.column == "age" and err.rows == [5, 9]
    assert "numbers stored as text mixed with other text" in err.rule
    # a declared categorical is left alone, and so is text that is mostly words
    design_matrix(d.assign(age=d["age"].astype("category")), ["age"])
    words = pd.DataFrame({"band": ["low", "high", "1", "mid", "low"]})
    assert design_matrix(words, ["band"]).names == ["band[high]", "band[low]", "band[mid]"]


# ------------------------------------------------------------------------------------------
# small groups: SmallCountWarning
# ------------------------------------------------------------------------------------------
def test_logrank_with_one_person_in_a_group_warns(rossi: pd.DataFrame) -> None:
    # before: p = 0.0025 (here 7.7e-6) with no warning
    d = pd.concat([rossi.iloc[:1].assign(fin=2, arrest=1), rossi.iloc[1:40]], ignore_index=True)
    with pytest.warns(SmallCountWarning, match=r"group 2: 1 person, 1 observed") as rec:
        lr = ek.logrank(d, time="week", event="arrest", by="fin")
    assert lr.p < 0.05  # the number is still reported; the warning says not to trust it
    assert "Mantel & Fleiss 1980" in str(rec[0].message)


def test_logrank_on_adequate_groups_does_not_warn(rossi: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [
            ek.logrank(rossi, time="week", event="arrest", by="fin"),
            ek.logrank(rossi, time="week", event="arrest", by="race", strata="mar"),
        ]
    assert all(0.0 < r.p < 1.0 and r.statistic > 0.0 for r in results)


def test_logrank_mantel_fleiss_criterion_warns_for_few_expected_events() -> None:
    # 12 people in the small group (>= 10) and 6 events (>= 5), all on day 1 while 200 other
    # people are at risk: it expects 0.4 events, within 5 of the fewest possible (0)
    large = np.arange(1.0, 201.0)
    d = pd.DataFrame(
        {
            "t": np.r_[np.ones(12), large],
            "e": np.r_[[1] * 6 + [0] * 6, large % 2 == 1].astype(int),
            "g": ["small"] * 12 + ["large"] * 200,
        }
    )
    assert d[d.g == "small"].e.sum() >= MIN_GROUP_EVENTS and MIN_GROUP_PEOPLE <= 12
    with pytest.warns(SmallCountWarning, match=r"'small': 12 people, 6 observed and 0\.\d+ exp"):
        ek.logrank(d, time="t", event="e", by="g")


def test_sparse_covariate_levels_warn() -> None:
    d = pd.DataFrame(
        {
            "area": ["n"] * 30 + ["s"] * 30 + ["e"] * 3,
            "flag": [0] * 60 + [1] * 3,
            "age": np.arange(63.0),
        }
    )
    event = np.r_[np.ones(10), np.zeros(20), np.ones(10), np.zeros(20), [1, 0, 0]]
    design = design_matrix(d, ["area", "flag", "age"])
    with pytest.warns(SmallCountWarning) as rec:
        warn_sparse_levels(design, event, what="Cox model")
    text = str(rec[0].message)
    assert "level of 'area' 'e': 3 people, 1 event" in text
    assert "level of 'flag' 1: 3 people, 1 event" in text
    assert "'n'" not in text and "age" not in text  # numbers are not levels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_sparse_levels(design_matrix(d.iloc[:60], ["area"]), event[:60], what="Cox model")


def test_cox_warns_about_a_covariate_level_with_few_people(rossi: pd.DataFrame) -> None:
    d = pd.concat([rossi, rossi.iloc[:2].assign(race=2)], ignore_index=True)
    d["race"] = d["race"].astype("category")
    with pytest.warns(SmallCountWarning, match="level of 'race' 2: 2 people"):
        ek.cox(d, time="week", event="arrest", covariates=["fin", "race"])


# ------------------------------------------------------------------------------------------
# other escapes, now fixed
# ------------------------------------------------------------------------------------------
def test_its_with_a_numeric_time_index() -> None:
    # before: every ITS with an integer time column raised "ValueError: Cannot set flags on
    # array scalars" (own() of the numpy scalar that marks the interruption)
    res = ek.its(series(30, 3), outcome="count", time="month", post="post")
    assert res.interruption == 21 and type(res.interruption) is int


def test_own_returns_numpy_scalars_as_they_are() -> None:
    # fixed by the lead during issue 12 (results.py): own(np.int64(3)) raised ValueError
    from evalkit.results import own

    assert own(np.int64(3)) == 3


def test_did_with_an_exact_fit_warns_instead_of_linalg_error() -> None:
    # before: a constant outcome gave numpy.linalg.LinAlgError in the pre-trend test (0), or
    # rounding-noise estimates with a "significant" pre-trend, p = 9e-6 (5)
    for value in (0.0, 5.0):
        d = panel(20, 1).assign(y=value)
        with pytest.warns(StatisticalWarning, match="reproduces 'y' exactly"):
            res = ek.did(d, outcome="y", group="group", post="post", time="period")
        assert res.pretrend is None


def test_did_refuses_an_arm_that_is_one_cluster() -> None:
    # before: clusters = the arms gave SE 0 and p = 0 (with only a few-clusters warning)
    d = panel(20, 1)
    d["site"] = d["group"] == "programme"
    out = outcome(ek.did, d, outcome="y", group="group", post="post", time="period",
                  cluster="site")  # fmt: skip
    assert isinstance(out.error, DesignError) and "single cluster of 'site'" in str(out.error)
    assert not out.warnings  # the error, not first a few-clusters warning


def test_did_term_determined_exactly_has_no_test() -> None:
    # before: one unit per arm whose before-period counts coincide gave the 'group' term an
    # SE of 0 and p = 0, silently
    d = pd.DataFrame(
        {
            "unit": [0] * 4 + [1] * 4,
            "group": ["programme"] * 4 + ["comparison"] * 4,
            "period": [0, 1, 2, 3] * 2,
            "post": [0, 0, 1, 1] * 2,
            "count": [2, 8, 9, 11, 2, 8, 6, 6],
        }
    )
    with pytest.warns(StatisticalWarning, match="standard error of 'group' is 0"):
        res = ek.did(d, outcome="count", group="group", post="post", time="period",
                     family="poisson")  # fmt: skip
    row = res.table.loc["group"]
    assert row["se"] == 0 and np.isnan(row["p"]) and np.isnan(row["statistic"])
    assert res.table.loc["did", "p"] > 0  # the other terms keep their tests


def test_an_array_as_an_option_is_an_input_error() -> None:
    # before: ValueError "The truth value of an array with more than one element is
    # ambiguous" from check_choice
    with pytest.raises(InputError, match="argument 'method'"):
        ek.rate_difference(3, 10, 2, 10, method=np.array([1, 2]))


def test_duplicated_identifiers_of_mixed_types_are_reported(rossi: pd.DataFrame) -> None:
    # before: TypeError "'<' not supported between instances of 'float' and 'str'"
    d = rossi.iloc[:6].assign(pid=["a", np.nan, "b", np.nan, "a", "c"])
    with pytest.raises(InputError, match="must be unique") as err:
        ek.kaplan_meier(d, time="week", event="arrest", id_col="pid")
    assert err.value.positions == [3, 4]


def test_rmst_difference_without_variability_warns(rossi: pd.DataFrame) -> None:
    # before: statistic and p NaN without a word
    with pytest.warns(StatisticalWarning, match="standard error is 0"):
        res = ek.rmst_difference(rossi.assign(arrest=0), time="week", event="arrest",
                                 group="group", tau=20)  # fmt: skip
    assert res.estimate == 0 and np.isnan(res.p)


# ------------------------------------------------------------------------------------------
# escapes in cox, cohort_comparison, engagement, economics, verdict and power
# ------------------------------------------------------------------------------------------
def test_cox_newton_steps_do_not_leak_numpy_warnings() -> None:
    d = people(60, 7)
    d["age"] = pd.Categorical(d["age"].astype(str))
    out = outcome(ek.cox, d, time="time", event="event", covariates=["age"], weights="w")
    assert not out.foreign_warnings()


def test_cox_robust_variance_does_not_take_the_root_of_a_negative() -> None:
    out = outcome(
        ek.cox, people(10, 0), time="time", event="event",
        covariates=["fin", "age", "prio", "area"], weights="w", robust=True,
    )  # fmt: skip
    assert not out.foreign_warnings()


def test_cox_does_not_report_a_zero_standard_error_silently() -> None:
    d = people(23, 415)
    at_risk = d[d["time"] > 10].assign(
        engaged=lambda x: (x["engaged_day"] <= 10).astype(int), t=lambda x: x["time"] - 10
    )
    assert at_risk["engaged"].sum() == 1
    out = outcome(ek.cox, at_risk, time="t", event="event", covariates=["engaged", "age"])
    assert out.result is not None
    assert out.warned() or not (out.result.table["se"] == 0).any()


def test_compare_cohorts_separation_is_only_a_design_error() -> None:
    d = people(60, 7).assign(event=0)
    out = outcome(ek.compare_cohorts, d, outcome="event", covariates=["age"])
    assert isinstance(out.error, DesignError | InputError) and not out.foreign_warnings()


def test_landmark_names_a_missing_covariate(rossi: pd.DataFrame) -> None:
    d = rossi.assign(engaged_day=np.nan)
    with pytest.raises(InputError, match="'nope'"):
        ek.landmark(d, time="week", event="arrest", landmark_day=8, covariates=["nope"],
                    id_col=None)  # fmt: skip


def test_value_for_money_refuses_an_effect_that_is_not_an_estimate() -> None:
    with pytest.raises(InputError, match="argument 'effect'"):
        ek.value_for_money(19950, participants=400, effect=0.5)


def test_a_measure_with_text_or_an_inverted_interval_is_refused() -> None:
    with pytest.raises(InputError):
        ek.verdict(ek.Measure(name="m", outcome="o", estimate="5", lower=-9, upper=-1),
                   design="matched")  # fmt: skip
    with pytest.raises(InputError):
        ek.Measure(name="m", outcome="o", estimate=-5.0, lower=-1.0, upper=-9.0)


def test_events_logrank_with_an_absurd_hazard_ratio_or_allocation() -> None:
    for args, kwargs in (((1e300,), {"method": "freedman"}), ((1e-6,), {"allocation": 1e154})):
        out = outcome(ek.events_logrank, *args, **kwargs)
        assert isinstance(out.error, InputError) and not out.foreign_warnings()
