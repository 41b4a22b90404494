"""Engagement without immortal time: splitting, landmark, and the per-protocol demonstration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evalkit as ek
from evalkit.engagement import engagement_days, landmark, per_protocol_bias, split_engagement
from evalkit.errors import DesignError, InputError


def _no_effect(n: int, seed: int) -> pd.DataFrame:
    """Referrals where engagement does nothing (known truth: HR = 1).

    Times to first reoffence are exponential (mean 500 days) whatever happens; 60% of people
    are offered engagement on a day drawn from 5..89; they engage only if still free then.
    """
    rng = np.random.default_rng(seed)
    t_event = np.ceil(rng.exponential(500, n))
    t = np.minimum(t_event, 365.0)
    offered = np.where(rng.random(n) < 0.6, rng.integers(5, 90, n).astype(float), np.nan)
    return pd.DataFrame(
        {
            "person_id": [f"D{i:05d}" for i in range(n)],
            "time": t,
            "event": (t_event <= 365).astype(int),
            "engaged_day": offered,
            "age": rng.integers(18, 60, n),
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 400),
            st.integers(0, 1),
            st.one_of(st.none(), st.integers(0, 420)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_splitting_keeps_time_events_and_engaged_time(rows) -> None:
    df = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(len(rows))],
            "time": [float(r[0]) for r in rows],
            "event": [r[1] for r in rows],
            "engaged_day": [np.nan if r[2] is None else float(r[2]) for r in rows],
        }
    )
    long = split_engagement(df)
    t, day = df["time"].to_numpy(), df["engaged_day"].to_numpy()
    assert (long["stop"] > long["start"]).all()
    assert (long["stop"] - long["start"]).sum() == pytest.approx(t.sum())
    assert long["event"].sum() == df["event"].sum()
    engaged_time = np.where(np.isnan(day) | (day >= t), 0.0, t - np.nan_to_num(day))
    got = ((long["stop"] - long["start"]) * long["engaged"]).sum()
    assert got == pytest.approx(engaged_time.sum())
    # the event sits on each person's last row
    last = long.groupby("person_id", sort=False).tail(1)
    assert last["event"].sum() == df["event"].sum()
    assert len(long) == len(df) + int(((day > 0) & (day < t)).sum())


def _linked() -> tuple[pd.DataFrame, pd.DataFrame]:
    people = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d"],
            "index_date": pd.to_datetime(["2022-01-01", "2022-03-01", "2022-05-10", "2022-06-01"]),
        },
        index=[10, 11, 12, 13],
    )
    engagement = pd.DataFrame(
        {
            "person_id": ["d", "a", "x", "c"],
            "engagement_start": pd.to_datetime(["2022-06-01", "2022-01-31", "2021-01-01", None]),
        }
    )
    return people, engagement


def test_engagement_days_links_by_person_and_keeps_the_cohort_index() -> None:
    people, engagement = _linked()
    days = engagement_days(people, engagement)
    assert days.name == "engaged_day"
    assert list(days.index) == [10, 11, 12, 13]
    # a: 30 days; b: not in the engagement table; c: never engaged; d: engaged on the index
    # date; x (not in the cohort) is not used
    assert days.tolist()[0] == 30.0 and days.tolist()[3] == 0.0
    assert np.isnan(days.tolist()[1]) and np.isnan(days.tolist()[2])


def test_engagement_days_refuses_duplicates_early_starts_and_text_dates() -> None:
    people, engagement = _linked()
    twice = pd.concat([engagement, engagement.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError, match=r"column 'person_id' in engagement: must list each"):
        engagement_days(people, twice)
    early = engagement.assign(
        engagement_start=pd.to_datetime(["2022-05-01", "2022-01-31", None, None])
    )
    with pytest.raises(InputError, match=r"must not be before.*position 0 \[person_id: 'd'\]"):
        engagement_days(people, early)
    text = engagement.assign(engagement_start=["2022-06-01", "2022-01-31", "", ""])
    with pytest.raises(InputError, match="must hold dates"):
        engagement_days(people, text)


def test_negative_engagement_day_is_refused_by_position() -> None:
    df = pd.DataFrame(
        {"person_id": ["a", "b"], "time": [10.0, 20.0], "event": [0, 1], "engaged_day": [-1, 5]}
    )
    with pytest.raises(InputError, match=r"column 'engaged_day'.*position 0"):
        split_engagement(df)


def test_landmark_counts_and_hazard_ratio_from_an_independent_subset() -> None:
    df = _no_effect(4000, seed=1)
    res = landmark(df, landmark_day=60)
    c = res.counts
    assert c["in_cohort"] == 4000
    assert (
        c["event_before_landmark"]
        + c["censored_before_landmark"]
        + c["engaged_by_landmark"]
        + c["not_engaged_by_landmark"]
        == 4000
    )
    # the same analysis built by hand
    sub = df[df["time"] > 60].copy()
    sub["t60"] = sub["time"] - 60
    sub["by60"] = (sub["engaged_day"] <= 60).astype(int)
    fit = ek.cox(sub, time="t60", event="event", covariates=["by60"])
    row = fit.to_frame().set_index("term").loc["by60"]
    got = res.to_frame().iloc[0]
    assert got["hr"] == pytest.approx(row["hr"], rel=1e-12)
    assert got["hr_lower"] == pytest.approx(row["hr_lower"], rel=1e-12)
    assert c["engaged_by_landmark"] == int(sub["by60"].sum())


def test_landmark_needs_both_groups() -> None:
    df = _no_effect(200, seed=2).assign(engaged_day=np.nan)
    with pytest.raises(DesignError, match="both groups need people"):
        landmark(df, landmark_day=60)


def test_per_protocol_figure_looks_good_when_engagement_does_nothing() -> None:
    """Known truth HR = 1: the naive analyses show a benefit, the time-varying and landmark
    analyses do not (their intervals include 1)."""
    df = _no_effect(6000, seed=20261130)
    table = per_protocol_bias(df, horizon_days=182, landmark_day=90).to_frame()
    t = table.set_index("analysis")
    assert t.loc["of those engaged", "estimate"] > t.loc["everyone referred", "estimate"] + 0.03
    assert t.loc["ever engaged, from referral", "upper"] < 1.0  # immortal time: spurious benefit
    assert (
        t.loc["time-varying engagement", "lower"] < 1.0 < t.loc["time-varying engagement", "upper"]
    )
    assert t.loc["landmark at day 90", "lower"] < 1.0 < t.loc["landmark at day 90", "upper"]
    assert list(t["biased"]) == [True, False, True, False, False]


@pytest.mark.slow
def test_time_varying_and_landmark_hazard_ratios_are_unbiased_under_no_effect() -> None:
    """200 replications (seeds 0..199) of 3000 referrals with no effect: the mean log hazard
    ratio of the time-varying and landmark analyses is within Monte Carlo error of 0, the
    naive one is far below it."""
    logs = {"naive": [], "varying": [], "landmark": []}
    for seed in range(200):
        t = per_protocol_bias(_no_effect(3000, seed), landmark_day=90).to_frame()
        t = t.set_index("analysis")["estimate"]
        logs["naive"].append(np.log(t["ever engaged, from referral"]))
        logs["varying"].append(np.log(t["time-varying engagement"]))
        logs["landmark"].append(np.log(t["landmark at day 90"]))
    for key in ("varying", "landmark"):
        x = np.asarray(logs[key])
        assert abs(x.mean()) < 4 * x.std(ddof=1) / np.sqrt(len(x)), key
    assert np.mean(logs["naive"]) < -0.1
