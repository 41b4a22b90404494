"""Tests of evalkit.datasets.schemes: synthetic scheme data with a known truth.

The truth is known by construction (see ``simulate_scheme``'s Notes): the reoffending hazard is
calibrated so that the comparison group's expected one-year proven reoffending rate equals
``base_rate`` exactly, and ``truth`` holds closed-form expected rates for the other groups.
Observed rates are then unbiased for them, with binomial sampling error at most
√(p(1 − p)/n); tolerances are four such standard errors (or four Cox / ITS standard errors), so
a correct generator fails with probability below 1e-4, and seeds are fixed so that the tests
are deterministic.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.datasets import (
    SCHEME_UK_COLUMNS,
    SchemeData,
    load_continuity_of_care,
    load_divert,
    load_fresh_start,
    load_portfolio,
    load_restart,
    scheme_path,
    simulate_scheme,
    write_scheme,
)
from evalkit.datasets.schemes import SCHEMES, SHIPPED
from evalkit.errors import InputError
from evalkit.io import is_synthetic, read_table

ROOT = Path(__file__).resolve().parents[1]
PEOPLE_SCHEMES = ("fresh_start", "continuity_of_care", "divert", "restart")
LOADERS = {
    "fresh_start": load_fresh_start,
    "continuity_of_care": load_continuity_of_care,
    "divert": load_divert,
    "portfolio": load_portfolio,
    "restart": load_restart,
}
COVARIATES = {
    "restart": ["age", "sex", "log_prior", "sentence_length_days", "substance_misuse_need", "area"],
    "divert": ["age", "sex", "log_prior", "substance_misuse_need", "area"],
}


def cohort_data(data: SchemeData, **kwargs) -> pd.DataFrame:
    return ek.proven_reoffending(**data.cohort(), **kwargs).data


def within(observed: float, truth: float, n: int, k: float = 4.0) -> bool:
    """|observed − truth| below k binomial standard errors of a proportion over n people."""
    return abs(observed - truth) < k * np.sqrt(truth * (1 - truth) / n)


def engaged_ids(data: SchemeData) -> pd.Series:
    return data.engagement.loc[data.engagement["engagement_start"].notna(), "person_id"]


def log_hr(fit, term: str) -> tuple[float, float]:
    """(log hazard ratio, SE) of ``term`` from ``ek.cox`` (``estimate``; ``coef`` before the
    issue-10 rename)."""
    row = fit.to_frame().set_index("term").loc[term]
    return float(row["estimate"] if "estimate" in row else row["coef"]), float(row["se"])


def frames_equal(a: SchemeData, b: SchemeData) -> bool:
    if sorted(a.tables()) != sorted(b.tables()):
        return False
    try:
        for name, df in a.tables().items():
            pd.testing.assert_frame_equal(df, b.tables()[name])
    except AssertionError:
        return False
    return a.truth == b.truth


# --------------------------------------------------------------------------------------------
# Shape and determinism
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_deterministic_given_seed_or_generator(scheme):
    kw = {} if scheme == "portfolio" else {"n_people": 600}
    a = simulate_scheme(scheme, rng=7, **kw)
    b = simulate_scheme(scheme, rng=7, **kw)
    c = simulate_scheme(scheme, rng=np.random.default_rng(7), **kw)
    d = simulate_scheme(scheme, rng=8, **kw)
    assert frames_equal(a, b)
    assert frames_equal(a, c)
    assert not frames_equal(a, d)
    assert a.seed == 7 and c.seed is None


@pytest.mark.parametrize("scheme", PEOPLE_SCHEMES)
def test_tables_have_the_cohort_schema(scheme):
    data = simulate_scheme(scheme, rng=3)
    p = data.people
    expected = ["person_id", "index_date", "group"]
    expected += ["cohort_period"] if scheme in ("restart", "continuity_of_care") else []
    expected += ["age", "sex", "prior_offences"]
    expected += [] if scheme == "divert" else ["sentence_length_days"]
    expected += ["substance_misuse_need"]
    expected += [] if scheme == "continuity_of_care" else ["area"]
    assert list(p.columns) == expected
    assert pd.api.types.is_string_dtype(p["person_id"]) and p["person_id"].is_unique
    assert set(p["group"]) == {"programme", "comparison"}
    assert set(p["sex"]) <= {"F", "M"}
    assert set(p["substance_misuse_need"]) <= {"yes", "no"}
    assert p["age"].between(18, 75).all()
    assert list(data.offences.columns) == ["person_id", "offence_date", "disposal_date", "disposal"]
    assert list(data.custody.columns) == ["person_id", "start", "end"]
    assert list(data.deaths.columns) == ["person_id", "date"]
    assert (data.offences["disposal_date"] >= data.offences["offence_date"]).all()
    assert (data.custody["end"] >= data.custody["start"]).all()
    # proven_reoffending raises on any schema problem (and on offences after death)
    d = cohort_data(data)
    assert len(d) == len(p)
    if scheme == "divert":  # out of court: no index custody, nobody on licence
        assert data.custody["start"].gt(p.set_index("person_id").loc[
            data.custody["person_id"], "index_date"].to_numpy()).all()  # fmt: skip
    if "cohort_period" in p:
        after = p["cohort_period"] == "after"
        assert (p.loc[p["group"] == "programme", "cohort_period"] == "after").all()
        assert p.loc[after, "index_date"].min() > p.loc[~after, "index_date"].max()


@pytest.mark.parametrize(
    ("scheme", "first", "last"),
    [
        ("restart", "2021-05-01", "2023-04-30"),
        ("divert", "2021-08-01", "2022-07-31"),
        ("fresh_start", "2023-04-01", "2024-03-31"),
        ("continuity_of_care", "2021-04-01", "2024-03-31"),
    ],
)
def test_index_dates_span_the_scheme_period(scheme, first, last):
    dates = simulate_scheme(scheme, rng=4).people["index_date"]
    assert dates.min() >= pd.Timestamp(first) and dates.max() <= pd.Timestamp(last)
    assert dates.min() < pd.Timestamp(first) + pd.Timedelta(days=10)
    assert dates.max() > pd.Timestamp(last) - pd.Timedelta(days=10)


@pytest.mark.parametrize("scheme", PEOPLE_SCHEMES)
def test_engagement_starts_after_referral_and_before_it_ends(scheme):
    data = simulate_scheme(scheme, n_people=20_000, rng=5)
    e = data.engagement.merge(data.people[["person_id", "index_date", "group"]], on="person_id")
    assert list(data.engagement.columns[:5]) == [
        "person_id",
        "referral_date",
        "engagement_start",
        "engagement_end",
        "completed",
    ]
    assert e["person_id"].is_unique and e["referral_date"].notna().all()
    if scheme != "continuity_of_care":  # everyone referred is in the programme group
        assert set(e["person_id"]) == set(data.people.loc[data.people["group"] == "programme",
                                                          "person_id"])  # fmt: skip
    on = e["engagement_start"].notna()
    assert 0 < on.sum() < len(e)  # some never engage
    assert (e["engagement_end"].notna() == on).all() and (e["completed"].notna() == on).all()
    assert (e.loc[on, "engagement_start"] > e.loc[on, "referral_date"]).all()
    assert (e.loc[on, "engagement_end"] >= e.loc[on, "engagement_start"]).all()
    days = (e.loc[on, "engagement_start"] - e.loc[on, "index_date"]).dt.days
    if scheme == "restart":  # met at the gate: referred before release, engaged on release
        assert (days == 0).all() and (e["referral_date"] < e["index_date"]).all()
    else:  # after release / diversion: time in which an early reoffence prevents engagement
        assert days.min() >= 1
        if scheme == "continuity_of_care":
            assert days.max() <= 21
    assert data.truth["n_engaged"] == on.sum()
    assert data.truth["n_referred"] == len(e)


def test_early_reoffenders_cannot_engage():
    # Every would-be engager an early reoffence or death stopped had that reoffence (or death)
    # on or before the day they would have started; nobody engaged after a proven reoffence.
    data = simulate_scheme("divert", n_people=20_000, rng=6)
    d = cohort_data(data).set_index("person_id")
    e = data.engagement.set_index("person_id")
    on = e["engagement_start"].notna()
    start = (e.loc[on, "engagement_start"] - data.people.set_index("person_id").loc[
        e.index[on], "index_date"]).dt.days  # fmt: skip
    first = d.loc[start.index]
    assert not ((first["event"] == 1) & (first["time"] <= start)).any()
    assert data.truth["n_engagement_prevented"] > 0
    assert data.truth["n_would_engage"] == data.truth["n_engaged"] + data.truth[
        "n_engagement_prevented"]  # fmt: skip


def test_fresh_start_abstinence_is_among_the_engaged():
    data = simulate_scheme("fresh_start", rng=309)
    e = data.engagement
    yes = e["maintaining_abstinence"] == "yes"
    assert e.loc[yes, "engagement_start"].notna().all()
    assert (e["maintaining_abstinence"].notna() == e["engagement_start"].notna()).all()
    assert yes.sum() == data.truth["n_maintaining_abstinence"]
    # the shipped seed resembles the published claim ("309 maintaining abstinence")
    assert 250 <= yes.sum() <= 370 and data.truth["n_referred"] > yes.sum()


# --------------------------------------------------------------------------------------------
# Known truth, by simulation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "target", "seed"),
    [("restart", 0.57, 11), ("divert", 0.30, 12), ("fresh_start", 0.40, 13),
     ("continuity_of_care", 0.50, 14)],
)  # fmt: skip
def test_comparison_rate_is_the_calibrated_target(scheme, target, seed):
    # E[comparison rate | people] = base_rate exactly; binomial SE at most sqrt(p(1-p)/n).
    data = simulate_scheme(scheme, n_people=200_000, rng=seed)
    assert data.truth["rate_comparison_365"] == pytest.approx(target, abs=1e-9)
    d = cohort_data(data)
    comparison = d[d["group"] == "comparison"]
    assert within(comparison["reoffended"].mean(), target, len(comparison))
    programme = d[d["group"] == "programme"]
    if scheme == "continuity_of_care":  # the programme is the after cohort
        assert within(programme["reoffended"].mean(), data.truth["rate_after_365"], len(programme))
    else:
        truth = data.truth["rate_programme_365"]
        assert within(programme["reoffended"].mean(), truth, len(programme))
    if "cohort_period" in d:
        after = d[d["cohort_period"] == "after"]
        assert within(after["reoffended"].mean(), data.truth["rate_after_365"], len(after))


def test_divert_six_month_rate_has_a_known_truth():
    # First reoffences within 182 days are proven within 182 more, so proven reoffending at
    # six months (follow_up_days=182, the same waiting period) is unbiased for its truth.
    data = simulate_scheme("divert", n_people=200_000, rng=15)
    d = cohort_data(data, follow_up_days=182)
    for group in ("comparison", "programme"):
        g = d[d["group"] == group]
        assert within(g["reoffended"].mean(), data.truth[f"rate_{group}_182"], len(g))
    assert 0.15 < data.truth["rate_comparison_182"] < data.truth["rate_comparison_365"]


def test_adjusted_cox_recovers_the_programme_hazard_ratio():
    # Restart with everyone referred engaging at the gate (engagement=1): the programme
    # multiplies the hazard by effect_hr from release on, conditional on the covariates, and
    # selection is on observed covariates only (unobserved_selection=0), so Cox adjusting for
    # the generating terms is consistent; the crude comparison is confounded.
    data = simulate_scheme("restart", n_people=100_000, engagement=1.0, effect_hr=0.8, rng=21)
    d = cohort_data(data).assign(log_prior=lambda x: np.log1p(x["prior_offences"]))
    reference = {"group": "comparison"}
    fit = ek.cox(d, time="time", event="event", covariates=["group", *COVARIATES["restart"]],
                 reference=reference)  # fmt: skip
    est, se = log_hr(fit, "group[programme]")
    assert abs(est - np.log(0.8)) < 4 * se
    crude, _ = log_hr(
        ek.cox(d, time="time", event="event", covariates=["group"], reference=reference),
        "group[programme]",
    )
    # Restart targets people at higher risk (short sentences, a need, more previous
    # offences): unadjusted, the programme looks less effective than it is.
    assert crude > np.log(0.8) + 2 * se


@pytest.mark.slow
def test_unobserved_selection_biases_the_adjusted_hazard_ratio():
    # With a frailty that raises the hazard and lowers uptake, the programme group is
    # lower-risk in a way the covariates cannot see: the adjusted HR is biased below 1 when
    # the true effect is none.
    data = simulate_scheme("restart", n_people=100_000, engagement=1.0, effect_hr=1.0,
                           unobserved_selection=1.0, rng=22)  # fmt: skip
    d = cohort_data(data).assign(log_prior=lambda x: np.log1p(x["prior_offences"]))
    fit = ek.cox(d, time="time", event="event", covariates=["group", *COVARIATES["restart"]],
                 reference={"group": "comparison"})  # fmt: skip
    est, se = log_hr(fit, "group[programme]")
    assert est < -4 * se


@pytest.mark.parametrize("selection", [0.0, 1.0])
def test_of_those_engaged_looks_better_than_itt_even_with_no_effect(selection):
    # effect_hr = 1: engagement does nothing. Engagers cannot have reoffended before they
    # start (immortal time) and, with selection, are lower-risk: the per-protocol rate is
    # better than the intention-to-treat rate, which equals the truth without any effect.
    data = simulate_scheme("divert", n_people=200_000, effect_hr=1.0, selection=selection,
                           rng=31)  # fmt: skip
    d = cohort_data(data, follow_up_days=182)
    programme = d[d["group"] == "programme"]
    itt = programme["reoffended"].mean()
    assert data.truth["effect_rate_difference_182"] == pytest.approx(0.0, abs=1e-12)
    assert within(itt, data.truth["rate_programme_182"], len(programme))
    engaged = programme[programme["person_id"].isin(engaged_ids(data))]
    naive = engaged["reoffended"].mean()
    assert itt - naive > 4 * np.sqrt(itt * (1 - itt) / len(engaged))
    if selection == 0.0:  # referral and engagement at random: ITT equals the comparison
        comparison = d[d["group"] == "comparison"]
        se = np.sqrt(itt * (1 - itt) * (1 / len(programme) + 1 / len(comparison)))
        assert abs(itt - comparison["reoffended"].mean()) < 4 * se


def test_continuity_of_care_its_recovers_the_level_change():
    # The monthly series' expected continuation proportion follows its()'s log-linear model
    # (one harmonic, a trend, a level change); without month noise and with large
    # denominators, a Poisson ITS with the denominator as exposure recovers level_change.
    data = simulate_scheme("continuity_of_care", n_people=300_000, rng=41,
                           params={"month_noise_sd": 0.0})  # fmt: skip
    m = data.monthly
    assert int(m["denominator"].sum()) == 300_000
    assert (m["continuing"] <= m["referrals"]).all() and (m["referrals"] <= m["denominator"]).all()
    fit = ek.its(m, outcome="continuing", time="month", post="post", exposure="denominator",
                 family="quasipoisson", harmonics=1)  # fmt: skip
    row = fit.to_frame().set_index("term").loc["level_change"]
    assert abs(row["estimate"] - np.log(data.truth["level_change"])) < 4 * row["se"]
    trend = fit.to_frame().set_index("term").loc["trend"]
    assert abs(trend["estimate"] - np.log(data.truth["trend"])) < 4 * trend["se"]


def test_continuity_of_care_claim_is_decomposed():
    data = simulate_scheme("continuity_of_care", rng=2023)
    m, t = data.monthly, data.truth
    rate = m["continuing"] / m["denominator"]
    before, after = m.index[m["claim"] == "before"], m.index[m["claim"] == "after"]
    assert len(before) == 1 and len(after) == 1
    assert rate[before[0]] == t["claim_before_rate"] == rate[12:24].min()
    assert rate[after[0]] == t["claim_after_rate"] == rate[24:].max()
    parts = ("scheme", "trend", "seasonality", "chance")
    assert sum(t[f"claim_part_{p}"] for p in parts) == pytest.approx(t["claim_log_ratio"])
    assert t["claim_part_scheme"] == pytest.approx(np.log(1.3))


def test_portfolio_services_and_truth():
    data = simulate_scheme("portfolio", rng=2024)
    s = data.services
    assert data.people is None and data.tables().keys() == {"services"}
    assert s["annual_cost_gbp"].tolist() == [34_000, 448_909, 8_307, 9_500, 10_000, 2_947]
    assert (s["reoffenders_12m"] <= s["participants"]).all()
    for sid in s["service_id"]:
        base = data.truth[f"service[{sid}].baseline_rate"]
        hr = data.truth[f"service[{sid}].effect_hr"]
        assert data.truth[f"service[{sid}].rate_with_service"] == pytest.approx(
            1 - (1 - base) ** hr
        )
    with pytest.raises(InputError, match="n_people"):
        simulate_scheme("portfolio", n_people=10)


# --------------------------------------------------------------------------------------------
# Results, options
# --------------------------------------------------------------------------------------------


def test_to_frame_lists_and_explains_every_true_parameter():
    data = simulate_scheme("restart", n_people=500, rng=1)
    t = data.to_frame()
    assert list(t.columns) == ["parameter", "value", "meaning"]
    assert t["parameter"].tolist() == list(data.truth)
    assert (t["meaning"].str.len() > 0).all()
    assert t is not data.to_frame()
    assert len(repr(data)) < 240 and repr(data).startswith("SchemeData(scheme='restart'")
    truth = data.truth
    assert truth["selection[female]"] == 0.6 and truth["hazard[log1p_prior_offences]"] == 0.35
    halved = simulate_scheme("restart", n_people=500, selection=0.5, rng=1).truth
    assert halved["selection[female]"] == 0.3


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"scheme": "nowhere"}, "scheme"),
        ({"n_people": 0}, "n_people"),
        ({"n_people": 10.5}, "n_people"),
        ({"effect_hr": 0.0}, "effect_hr"),
        ({"effect_hr": float("nan")}, "effect_hr"),
        ({"selection": -1.0}, "selection"),
        ({"unobserved_selection": -0.1}, "unobserved_selection"),
        ({"engagement": 0.0}, "engagement"),
        ({"engagement": 1.5}, "engagement"),
        ({"base_rate": 1.0}, "base_rate"),
        ({"params": {"level_change": 1.2}}, "params"),
        ({"params": {"programme_share": 1.5}}, "params"),
    ],
)
def test_invalid_arguments_are_named(kwargs, name):
    kwargs = {"scheme": "restart", **kwargs}
    with pytest.raises(InputError, match=f"argument '{name}"):
        simulate_scheme(kwargs.pop("scheme"), **kwargs)


def test_tiny_simulations_work():
    for scheme in PEOPLE_SCHEMES:
        data = simulate_scheme(scheme, n_people=3, rng=0)
        cohort = ek.proven_reoffending(**data.cohort())
        people = cohort.flow[cohort.flow["table"] == "people"]
        assert people["n_remaining"].iloc[0] == 3, scheme  # every person is accounted for
        assert people["n_remaining"].iloc[-1] == len(cohort.data), scheme


# --------------------------------------------------------------------------------------------
# Shipped data sets
# --------------------------------------------------------------------------------------------


def test_shipped_data_are_what_the_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_scheme_data", ROOT / "tools" / "make_scheme_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for scheme in SCHEMES:
        shipped = ROOT / "evalkit" / "datasets" / scheme
        names = sorted(p.name for p in shipped.iterdir())
        assert names == sorted(p.name for p in (tmp_path / scheme).iterdir())
        assert "README.md" in names and "truth.csv" in names
        for name in names:
            assert (tmp_path / scheme / name).read_bytes() == (shipped / name).read_bytes(), name


@pytest.mark.parametrize("scheme", SCHEMES)
def test_shipped_data_load_with_their_truth_and_are_marked_synthetic(scheme):
    folder = scheme_path(scheme)
    assert folder.is_dir() and is_synthetic(folder)
    for csv in folder.glob("*.csv"):
        assert is_synthetic(csv)
    loaded = LOADERS[scheme]()
    assert isinstance(loaded, SchemeData) and loaded.scheme == scheme
    made = simulate_scheme(scheme, **SHIPPED[scheme])
    assert sorted(loaded.tables()) == sorted(made.tables())
    for name, df in made.tables().items():
        pd.testing.assert_frame_equal(loaded.tables()[name], df, check_dtype=False)
    assert loaded.truth.keys() == made.truth.keys()
    for k, v in made.truth.items():
        assert loaded.truth[k] == pytest.approx(v, rel=1e-9), k
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 1_500_000  # a few MB at most over the five schemes


@pytest.mark.parametrize("scheme", PEOPLE_SCHEMES)
def test_proven_reoffending_accepts_every_shipped_data_set(scheme):
    data = LOADERS[scheme]()
    d = cohort_data(data)
    assert len(d) == len(data.people)
    assert d["reoffended"].between(0, 1).all() and d["reoffended"].mean() > 0.1


def test_shipped_data_resemble_the_published_figures():
    # Restart: about 57% proven reoffending for short custodial sentences (comparison group)
    d = cohort_data(load_restart())
    rate = d.loc[d["group"] == "comparison", "reoffended"].mean()
    assert within(rate, 0.57, int((d["group"] == "comparison").sum()))
    # DIVERT: "87% of those engaged did not re-offend within six months" (per protocol)
    data = load_divert()
    d = cohort_data(data, follow_up_days=182)
    engaged = d[d["person_id"].isin(engaged_ids(data))]
    assert 0.82 < 1 - engaged["reoffended"].mean() < 0.92
    # Continuity of Care: "25% to 51%", the low month before and the high month after
    t = load_continuity_of_care().truth
    assert abs(t["claim_before_rate"] - 0.25) < 0.05 and abs(t["claim_after_rate"] - 0.51) < 0.05


@pytest.mark.parametrize("scheme", PEOPLE_SCHEMES)
def test_uk_style_files_round_trip(scheme, tmp_path):
    # A second extract with another seed, written as a PCC analyst's export would be
    # (headers in words, dd/mm/yyyy dates), reads back to the same tables.
    data = simulate_scheme(scheme, n_people=400, rng=99)
    paths = write_scheme(data, tmp_path, style="uk")
    assert is_synthetic(tmp_path) and paths["people"].name == "People.csv"
    text = paths["people"].read_text().splitlines()
    assert text[0].startswith("Person ID,Index Date,Group")
    first = data.people["index_date"].iloc[0]
    assert first.strftime("%d/%m/%Y") in text[1]
    for name, df in data.tables().items():
        kind = name if name in ("people", "offences", "custody", "deaths") else None
        dates: str | dict[str, str] = "%d/%m/%Y"
        if kind is None:
            dates = {
                c: "%d/%m/%Y" for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])
            }
        back = read_table(paths[name], table=kind, columns=SCHEME_UK_COLUMNS, date_format=dates)
        pd.testing.assert_frame_equal(back, df, check_dtype=False)
    a = ek.proven_reoffending(**data.cohort()).data
    back = {
        k: read_table(paths[k], table=k, columns=SCHEME_UK_COLUMNS, date_format="%d/%m/%Y")
        for k in ("people", "offences", "custody", "deaths")
    }
    pd.testing.assert_frame_equal(ek.proven_reoffending(**back).data, a, check_dtype=False)
