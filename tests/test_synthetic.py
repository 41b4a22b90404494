"""Tests of evalkit.datasets.synthetic.simulate_reoffending (synthetic data with a known truth).

The truth is known by construction: the baseline hazard is solved so that the expected
proportion of the comparison group with a proven reoffence (deaths included) equals
``base_rate``, and the programme multiplies the hazard by ``effect_hr`` conditional on the
covariates. Tolerances are four binomial (or Cox) standard errors: a correct generator fails
with probability below 1e-4, and seeds are fixed so the tests are deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from evalkit.cohort import proven_reoffending
from evalkit.datasets.synthetic import simulate_reoffending
from evalkit.errors import InputError

# lifelines 0.30 calls DataFrame.std positionally, which pandas 3 deprecates.
lifelines_warning = pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")


def frames_equal(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    try:
        for k in ("people", "offences", "custody", "deaths"):
            pd.testing.assert_frame_equal(a[k], b[k])
    except AssertionError:
        return False
    return True


def test_deterministic_given_seed_or_generator():
    a = simulate_reoffending(800, rng=7)
    b = simulate_reoffending(800, rng=7)
    c = simulate_reoffending(800, rng=np.random.default_rng(7))
    d = simulate_reoffending(800, rng=8)
    assert frames_equal(a, b)
    assert frames_equal(a, c)
    assert not frames_equal(a, d)


def test_tables_have_the_cohort_schema_and_every_kind_of_record():
    sim = simulate_reoffending(5000, rng=2)
    assert list(sim["people"].columns) == [
        "person_id",
        "index_date",
        "group",
        "age",
        "sex",
        "prior_offences",
        "sentence_length_days",
    ]
    assert list(sim["offences"].columns) == [
        "person_id",
        "offence_date",
        "disposal_date",
        "disposal",
    ]
    assert list(sim["custody"].columns) == ["person_id", "start", "end"]
    assert list(sim["deaths"].columns) == ["person_id", "date"]
    p = sim["people"]
    assert p["person_id"].is_unique
    assert set(p["group"]) == {"programme", "comparison"}
    assert set(p["sex"]) == {"F", "M"}
    assert p["age"].between(18, 75).all()
    assert p["sentence_length_days"].between(14, 720).all()
    assert (p["prior_offences"] >= 0).all()
    releases = p["index_date"]
    assert releases.min() >= pd.Timestamp("2022-05-01")
    assert releases.max() <= pd.Timestamp("2023-04-30")
    assert (sim["custody"]["end"] >= sim["custody"]["start"]).all()
    assert (sim["offences"]["disposal_date"] >= sim["offences"]["offence_date"]).all()

    # proven_reoffending accepts the tables as they are (it raises on any schema problem,
    # unknown disposal code, or offence after death) and every flow step is exercised.
    cohort = proven_reoffending(**sim)
    removed = cohort.flow.set_index(["table", "step"])["n_removed"]
    kept = cohort.flow.set_index(["table", "step"])["n_remaining"]
    for step in ("on_or_before_index", "after_follow_up", "late_disposal", "not_proven"):
        assert removed["offences", step] > 0, step
    assert removed["custody", "outside_follow_up"] > 0
    assert kept["custody", "overlaps_follow_up"] > 0
    assert removed["deaths", "after_follow_up"] > 0
    assert kept["deaths", "within_follow_up"] > 0
    assert set(sim["offences"]["disposal"]) == {
        "conviction",
        "caution",
        "pnd",
        "community_resolution",
        "breach",
    }
    # custody spells overlap (recalls during sentences), so merging matters
    assert (cohort.data["days_in_custody"] > 0).any()
    assert len(cohort.data) == 5000


@pytest.mark.parametrize(
    ("base_rate", "follow_up_days", "seed"), [(0.45, 365, 11), (0.57, 365, 12), (0.3, 182, 13)]
)
def test_comparison_group_rate_matches_base_rate(base_rate, follow_up_days, seed):
    # Known truth: E[rate in comparison group | covariates] = base_rate exactly, and the
    # sampling SE is at most sqrt(p(1 − p)/n) (binomial; Bernoulli with unequal p has less).
    # With n = 20 000 and ~half in the comparison group, SE ≈ 0.005; tolerance 4 SE.
    sim = simulate_reoffending(20_000, base_rate=base_rate, follow_up_days=follow_up_days, rng=seed)
    d = proven_reoffending(**sim, follow_up_days=follow_up_days).data
    comparison = d[d["group"] == "comparison"]
    n = len(comparison)
    se = np.sqrt(base_rate * (1 - base_rate) / n)
    assert abs(comparison["reoffended"].mean() - base_rate) < 4 * se


def test_programme_share_is_honoured():
    # E[share] = programme_share exactly (the selection intercept is solved for it).
    people = simulate_reoffending(20_000, programme_share=0.3, rng=21)["people"]
    share = (people["group"] == "programme").mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 20_000)


@lifelines_warning
def test_adjusted_cox_recovers_effect_hr_and_crude_comparison_is_confounded():
    # Known truth: log HR(programme | covariates) = log(effect_hr). Cox with the generating
    # covariates (age, sex, log(1 + prior offences), sentence length) is consistent; its SE
    # here is about 0.022, and the tolerance is 4 SE. Selection into the programme favours
    # lower-risk people, so the unadjusted log HR is further from the truth.
    sim = simulate_reoffending(20_000, effect_hr=0.8, rng=31)
    d = proven_reoffending(**sim).data
    X = pd.DataFrame(
        {
            "time": d["time"],
            "event": d["event"],
            "programme": (d["group"] == "programme").astype(int),
            "age": d["age"],
            "female": (d["sex"] == "F").astype(int),
            "log_prior": np.log1p(d["prior_offences"]),
            "sentence": d["sentence_length_days"],
        }
    )
    adjusted = CoxPHFitter().fit(X, "time", "event").summary.loc["programme"]
    assert abs(adjusted["coef"] - np.log(0.8)) < 4 * adjusted["se(coef)"]
    crude = CoxPHFitter().fit(X[["time", "event", "programme"]], "time", "event").summary
    assert crude.loc["programme", "coef"] < np.log(0.8) - 2 * adjusted["se(coef)"]


@lifelines_warning
def test_no_effect_means_equal_adjusted_hazards():
    sim = simulate_reoffending(20_000, effect_hr=1.0, rng=41)
    d = proven_reoffending(**sim).data
    X = pd.DataFrame(
        {
            "time": d["time"],
            "event": d["event"],
            "programme": (d["group"] == "programme").astype(int),
            "age": d["age"],
            "female": (d["sex"] == "F").astype(int),
            "log_prior": np.log1p(d["prior_offences"]),
            "sentence": d["sentence_length_days"],
        }
    )
    fit = CoxPHFitter().fit(X, "time", "event").summary.loc["programme"]
    assert abs(fit["coef"]) < 4 * fit["se(coef)"]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_people": 0}, "n_people"),
        ({"n_people": 10.5}, "n_people"),
        ({"programme_share": 0.0}, "programme_share"),
        ({"programme_share": 1.2}, "programme_share"),
        ({"base_rate": 1.0}, "base_rate"),
        ({"base_rate": -0.1}, "base_rate"),
        ({"effect_hr": 0.0}, "effect_hr"),
        ({"effect_hr": float("nan")}, "effect_hr"),
        ({"follow_up_days": 0}, "follow_up_days"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_invalid_parameters_are_named(kwargs, name):
    with pytest.raises(InputError, match=name):
        simulate_reoffending(**kwargs)


def test_tiny_simulation_works():
    sim = simulate_reoffending(1, rng=0)
    assert len(sim["people"]) == 1
    proven_reoffending(**sim)
