"""Tests of evalkit.matching: propensity scores, greedy matching, IPW weights and balance.

Reference values come from ``tests/reference/matching_reference.R`` (R 4.2.2, MatchIt 4.5.1,
sandwich 3.0.2; see ``tests/reference/README.md``, section "Matching reference values"), run on
the simulated cohort ``tests/reference/data/matching_sim.csv``. MatchIt's *classic* greedy
algorithm is used there (distance given as a treated × control matrix of |PS differences|, treated
rows pre-sorted, ``m.order = "data"``). Tolerances: R's doubles are stored with 17 significant
digits, so pairs are compared exactly and numbers to 1e-6 relative (agreement is ~1e-13 in
practice); the propensity-model coefficients come from two different IRLS implementations and are
compared to 1e-6 relative.

The R files name indicator columns ``offence_type_other`` / ``court_A`` (the names evalkit used
when they were written); :func:`r_term` maps them to evalkit's ``offence_type[other]`` /
``court[A]``. Only names are mapped, never values.

Properties that vary with the input are tested with hypothesis against a deliberately naive
O(n₁·n₀) re-implementation of MatchIt's ``nn_matchC`` loop written below.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_matches_r, expected, reference_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evalkit.matching as mt
from evalkit.errors import DesignError, InputError, StatisticalWarning

COVS = ["age", "female", "prior_offences", "risk_score", "employed", "offence_type"]
ARM = {"group": "treated", "treated": 1}  # the simulated cohort codes the arms 0/1
BAL_COLS = {
    "mean_treated": "mean_treated_{}",
    "mean_control": "mean_control_{}",
    "smd": "smd_{}",
    "var_ratio": "vr_{}",
    "ecdf_mean": "ecdf_mean_{}",
    "ecdf_max": "ecdf_max_{}",
}


def r_term(name: str) -> str:
    """The R script's indicator name (``offence_type_other``) as evalkit names it."""
    return re.sub(r"^(offence_type|court)_(.+)$", r"\1[\2]", name)


def read(name: str) -> pd.DataFrame:
    """An R reference table, indicator names (``term``/``covariate``) mapped to evalkit's."""
    ref = expected(name)
    for col in ("term", "covariate"):
        if col in ref.columns:
            ref[col] = ref[col].map(r_term)
    return ref


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return reference_data("matching_sim.csv").set_index("id", drop=False)


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    return read("matching_scores.csv").set_index("id")


SPECS = read("matching_specs.csv")
SPEC_IDS = list(SPECS["spec"])


def spec_kwargs(spec: str) -> dict:
    sp = SPECS.set_index("spec").loc[spec]
    kw: dict = {"ratio": int(sp["ratio"]), "replace": bool(sp["replace"]), "order": sp["order"]}
    if not pd.isna(sp["caliper"]):
        kw["caliper"] = float(sp["caliper"])
    if not pd.isna(sp["exact"]):
        kw["exact"] = sp["exact"]
    return kw


WEIGHT_CASES = {
    "att": {"estimand": "ATT"},
    "ate": {"estimand": "ATE"},
    "ate_stab": {"estimand": "ATE", "stabilize": True},
    "att_trim95": {"estimand": "ATT", "trim": 0.95},
    "ate_trim95": {"estimand": "ATE", "trim": 0.95},
    "ate_max10": {"estimand": "ATE", "max_weight": 10},
}


_RESULTS: dict = {}  # results are frozen, so each specification is matched once per session


def run_spec(sim: pd.DataFrame, scores: pd.DataFrame, spec: str, *, r_scores: bool):
    key = ("match", spec, r_scores)
    if key not in _RESULTS:
        _RESULTS[key] = _run_spec(sim, scores, spec, r_scores=r_scores)
    return _RESULTS[key]


def run_weight(sim: pd.DataFrame, name: str):
    key = ("weight", name)
    if key not in _RESULTS:
        _RESULTS[key] = mt.weight(
            sim, group="treated", treated=1, covariates=COVS, **WEIGHT_CASES[name]
        )
    return _RESULTS[key]


def _run_spec(sim: pd.DataFrame, scores: pd.DataFrame, spec: str, *, r_scores: bool):
    link = SPECS.set_index("spec").loc[spec, "link"]
    distance = None
    if r_scores:
        distance = (scores["lp"] if link == "linear.logit" else scores["ps"]).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return mt.match(
            sim,
            group="treated",
            treated=1,
            covariates=COVS,
            distance=distance,
            link=link,
            **spec_kwargs(spec),
        )


# ------------------------------------------------------------------------------------------
# propensity score against R glm
# ------------------------------------------------------------------------------------------


def test_propensity_score_against_R(sim, scores):
    # glm(treated ~ age + female + prior_offences + risk_score + employed + offence_type,
    #     family = binomial, control = glm.control(epsilon = 1e-14))
    ps = mt.propensity_score(sim, group="treated", treated=1, covariates=COVS)
    ref = read("matching_ps_coef.csv").set_index("term")
    assert list(ps.coefficients.index) == list(ref.index)
    assert list(ps.coefficients.index)[-2:] == ["offence_type[other]", "offence_type[violence]"]
    for col, rcol in (("estimate", "estimate"), ("se", "se"), ("statistic", "z")):
        assert_matches_r(ps.coefficients[col], ref[rcol], f"propensity model {col}")
    # R's SEs use the IRLS weights of the last iteration, statsmodels those at the final
    # estimate: they differ by ~3e-8 relative, which p-values of 1e-21 amplify to ~3e-6; compare
    # log p (relative ~1e-7).
    assert_matches_r(np.log(ps.coefficients["p"]), np.log(ref["p"]), "propensity model log p")
    assert_matches_r(ps.scores, scores["ps"], "propensity scores", rtol=1e-8)
    assert_matches_r(ps.linear_predictor, scores["lp"], "linear predictor", rtol=1e-7)
    fit = read("matching_ps_fit.csv").iloc[0]
    assert ps.deviance == pytest.approx(fit["deviance"], rel=1e-10)
    assert ps.null_deviance == pytest.approx(fit["null_deviance"], rel=1e-10)
    assert ps.distance is ps.scores


# ------------------------------------------------------------------------------------------
# matching against MatchIt's classic greedy algorithm
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("r_scores", [True, False], ids=["R_scores", "python_scores"])
@pytest.mark.parametrize("spec", SPEC_IDS)
def test_match_pairs_against_R(sim, scores, spec, r_scores):
    # matchit(treated ~ ..., data = <treated sorted by score, then controls in data order>,
    #         method = "nearest", distance = abs(outer(ps_t, ps_c, "-")), m.order = "data",
    #         ratio, replace, caliper = k * sd(ps), std.caliper = FALSE, exact = ~court)
    m = run_spec(sim, scores, spec, r_scores=r_scores)
    ref = read("matching_pairs.csv")
    ref = ref[ref["spec"] == spec]
    got = set(zip(m.pairs["treated"], m.pairs["control"], m.pairs["match_number"], strict=True))
    want = set(zip(ref["treated_id"], ref["control_id"], ref["column"], strict=True))
    assert got == want
    units = read("matching_units.csv")
    units = units[units["spec"] == spec].set_index("id")
    assert_matches_r(m.weights, units["weight"], f"matching weights {spec}", rtol=1e-12)
    if bool(spec_kwargs(spec)["replace"]):
        assert m.subclass.isna().all()
    else:  # same matched sets (MatchIt numbers them differently)
        r_sets = {
            frozenset(g.index) for _, g in units.dropna(subset=["subclass"]).groupby("subclass")
        }
        p_sets = {frozenset(g.index) for _, g in m.subclass.dropna().to_frame().groupby("subclass")}
        assert r_sets == p_sets
    cal = SPECS.set_index("spec").loc[spec, "caliper_abs"]
    if pd.isna(cal):
        assert m.caliper is None
    else:
        assert m.caliper == pytest.approx(cal, rel=1e-12)


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_match_balance_against_R(sim, scores, spec):
    # summary(m, addlvariables = data.frame(distance = ps), un = TRUE)$sum.all / $sum.matched
    m = run_spec(sim, scores, spec, r_scores=True)
    table = m.balance()
    ref = read("matching_balance.csv")
    ref = ref[ref["spec"] == spec]
    for sample, suffix in (("all", "before"), ("matched", "after")):
        r = ref[ref["sample"] == sample].set_index("covariate")
        assert set(r.index) == set(table.index)
        for rcol, pcol in BAL_COLS.items():
            assert_matches_r(
                table.loc[r.index, pcol.format(suffix)], r[rcol], f"{spec} {sample} {rcol}"
            )


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_match_counts_against_R(sim, scores, spec):
    # summary(m)$nn: All, Matched (ESS), Matched, Unmatched
    m = run_spec(sim, scores, spec, r_scores=True)
    ref = read("matching_counts.csv")
    ref = ref[ref["spec"] == spec].set_index("row")
    for ours, theirs in (
        ("all", "All"),
        ("matched", "Matched"),
        ("matched_ess", "Matched (ESS)"),
        ("unmatched", "Unmatched"),
    ):
        for g in ("control", "treated"):
            assert m.counts.loc[ours, g] == pytest.approx(ref.loc[theirs, g], rel=1e-10)
    n_short = int((m.unmatched["n_matched"] == 0).sum())
    assert n_short == ref.loc["Unmatched", "treated"]
    assert (m.counts.loc["all"] == m.counts.loc["matched"] + m.counts.loc["unmatched"]).all()


@pytest.mark.parametrize("spec", SPEC_IDS)
def test_matched_rate_difference_against_R(sim, scores, spec):
    # without replacement: lm(reoffended ~ treated, match.data(m), weights = weights) with
    #   sandwich::vcovCL(fit, cluster = ~subclass)
    # with replacement: the same on get_matches(m), vcovCL(cluster = ~subclass + unit_id)
    m = run_spec(sim, scores, spec, r_scores=True)
    ref = read("matching_effects.csv").set_index("spec").loc[spec]
    eff = mt.matched_rate_difference(m, outcome="reoffended")
    assert eff.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert eff.se == pytest.approx(ref["se"], rel=1e-9)
    assert eff.lower == pytest.approx(ref["estimate"] - 1.959963984540054 * ref["se"], rel=1e-9)
    frame = eff.to_frame()
    assert list(frame.columns[:6]) == ["estimate", "se", "lower", "upper", "statistic", "p"]
    assert frame.shape == (1, 17) and eff.conf_level == 0.95


def test_exact_cell_without_controls_is_reported(sim, scores):
    # court "D" has 6 treated people and no controls: they must be counted, not dropped
    with pytest.warns(StatisticalWarning, match="6 of 499 treated units have fewer than 1"):
        m = mt.match(
            sim, group="treated", treated=1, covariates=COVS, distance=scores["ps"], exact="court"
        )
    assert m.counts.loc["unmatched", "treated"] == 6
    assert set(m.unmatched.index) == set(sim.index[sim["court"] == "D"])
    assert (m.unmatched["reason"] == "no control unit in its exact-matching cell").all()


def test_matchit_default_path_record():
    # The reference script also ran MatchIt 4.5.1's default (heuristic) path: on that
    # installation it always picked the control *below* the treated score and ignored calipers,
    # so it differs from the classic algorithm; the README explains. Pin the record so that a
    # re-run with a fixed MatchIt is noticed.
    rec = read("matching_default_path.csv").set_index("spec")
    assert (rec["share_default_below"] > 0.99).all()
    assert (
        rec.loc["nn1_caliper", "n_matched_default_path"]
        > rec.loc["nn1_caliper", "n_matched_exact_path"]
    )


# ------------------------------------------------------------------------------------------
# weighting against R
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WEIGHT_CASES))
def test_weights_against_R(sim, name):
    # att: ifelse(z == 1, 1, p/(1-p)); ate: 1/p, 1/(1-p); ate_stab: ate * mean(z == group);
    # att_trim95: controls capped at quantile(w_att[z == 0], 0.95, type = 7);
    # ate_trim95: all capped at quantile(w_ate, 0.95, type = 7); ate_max10: pmin(w_ate, 10)
    w = run_weight(sim, name)
    ref = read("matching_ipw.csv")
    assert_matches_r(w.weights, ref[f"w_{name}"], f"IPW weights {name}", rtol=1e-8)
    trim = read("matching_ipw_trim.csv").set_index("weighting")
    if name in trim.index:
        assert w.n_trimmed == trim.loc[name, "n_trimmed"]
        assert w.trim_threshold == pytest.approx(trim.loc[name, "threshold"], rel=1e-8)
    else:
        assert w.n_trimmed == 0 and w.trim_threshold is None


@pytest.mark.parametrize("name", ["att", "ate", "ate_stab", "att_trim95", "ate_max10"])
def test_weighted_balance_against_R(sim, name):
    # MatchIt:::bal1var(x, tt = z, ww = w, s.weights = 1, standardize = TRUE,
    #                   s.d.denom = "treated" (ATT) / "pooled" (ATE)); MatchIt:::nn(z, w) for ESS
    w = run_weight(sim, name)
    table = w.balance()
    ref = read("matching_ipw_balance.csv")
    ref = ref[ref["weighting"] == name]
    for sample, suffix in (("all", "before"), ("weighted", "after")):
        r = ref[ref["sample"] == sample].set_index("covariate")
        for rcol, pcol in BAL_COLS.items():
            assert_matches_r(
                table.loc[r.index, pcol.format(suffix)], r[rcol], f"{name} {sample} {rcol}"
            )
    ess = read("matching_ipw_ess.csv").set_index("weighting").loc[name]
    assert w.sample_sizes.loc["ess", "control"] == pytest.approx(ess["ess_control"], rel=1e-9)
    assert w.sample_sizes.loc["ess", "treated"] == pytest.approx(ess["ess_treated"], rel=1e-9)
    assert w.sample_sizes.loc["sum_weights", "control"] == pytest.approx(ess["sum_control"])
    # the same through the public balance() with the weights as a column
    b = mt.balance(
        sim.assign(w=w.weights),
        group="treated",
        treated=1,
        covariates=COVS,
        weights="w",
        estimand=w.estimand,
    )
    pd.testing.assert_frame_equal(b.table, table.drop(index="distance"))
    assert b.sample_sizes.equals(w.sample_sizes)
    # and with the WeightResult itself as the weights
    b2 = mt.balance(sim, **ARM, covariates=COVS, weights=w, estimand=w.estimand)
    pd.testing.assert_frame_equal(b2.table, b.table)


@pytest.mark.parametrize("name", ["att", "ate", "ate_stab", "att_trim95", "ate_max10"])
def test_weighted_rate_difference_against_R(sim, name):
    # lm(reoffended ~ treated, weights = w); sandwich::vcovHC(fit, type = "HC1")
    w = run_weight(sim, name)
    ref = read("matching_effects.csv").set_index("spec").loc[f"ipw_{name}"]
    eff = mt.matched_rate_difference(w, outcome="reoffended")
    assert eff.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert eff.se == pytest.approx(ref["se"], rel=1e-9)
    assert eff.n_treated + eff.n_control == len(sim)


# ------------------------------------------------------------------------------------------
# hand-worked examples
# ------------------------------------------------------------------------------------------


def frame(z, d, **extra) -> pd.DataFrame:
    df = pd.DataFrame({"treated": z, "d": np.asarray(d, dtype=float), "x": np.arange(len(z))})
    for k, v in extra.items():
        df[k] = v
    return df


def pairs_of(m) -> set:
    return set(zip(m.pairs["treated"], m.pairs["control"], strict=True))


def test_greedy_depends_on_order_by_hand():
    # treated 0.6 (row 0) and 0.5 (row 1); controls 0.55 (row 2) and 0.2 (row 3).
    # largest first: 0.6 takes 0.55, 0.5 is left with 0.2; smallest first: the reverse.
    df = frame([1, 1, 0, 0], [0.6, 0.5, 0.55, 0.2])
    big = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d")
    small = mt.match(
        df, group="treated", treated=1, covariates=["x"], distance="d", order="smallest"
    )
    assert pairs_of(big) == {(0, 2), (1, 3)}
    assert pairs_of(small) == {(1, 2), (0, 3)}
    data_order = mt.match(
        df, group="treated", treated=1, covariates=["x"], distance="d", order="data"
    )
    assert pairs_of(data_order) == {(0, 2), (1, 3)}


def test_ties_go_to_the_earliest_row_by_hand():
    # treated score 5 (row 3); controls 6 (row 0), 4 (row 1), 4 (row 2): all at distance 1,
    # row 0 is earliest. Then with it taken: rows 1 and 2 tie, row 1 wins.
    df = frame([0, 0, 0, 1, 1], [6, 4, 4, 5, 5])
    m = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d")
    assert pairs_of(m) == {(3, 0), (4, 1)}
    df2 = frame([0, 0, 0, 1], [4, 4, 6, 5])  # left side has the earliest rows now
    assert pairs_of(mt.match(df2, group="treated", treated=1, covariates=["x"], distance="d")) == {
        (3, 0)
    }


def test_ratio_weights_by_hand():
    # 1:2 without replacement; treated A (0.9) and B (0.1); controls 0.8, 0.7 (near A) and 0.2.
    # Round 1: A→0.8, B→0.2; round 2: A→0.7, B gets nothing (only controls far away... none left).
    # Raw control weights: 1/2, 1/2 (A's), 1 (B's) → sum 2 over 3 matched controls, so scaled
    # by 3/2: 0.75, 0.75, 1.5 (MatchIt's convention).
    df = frame([1, 1, 0, 0, 0], [0.9, 0.1, 0.8, 0.7, 0.2])
    with pytest.warns(StatisticalWarning, match="1 of 2 treated units have fewer than 2 matches"):
        m = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", ratio=2)
    np.testing.assert_allclose(m.weights.to_numpy(), [1, 1, 0.75, 0.75, 1.5])
    assert m.unmatched.loc[1, "n_matched"] == 1
    assert "used by earlier matches" in m.unmatched.loc[1, "reason"]
    assert m.subclass.tolist() == [1, 2, 1, 1, 2]
    assert m.counts.loc["matched_ess", "control"] == pytest.approx(3.0**2 / (0.75**2 * 2 + 1.5**2))


def test_caliper_by_hand():
    # distances 0, 1, 2, 3, 10 (controls 0,2,3; treated 1, 10); SD(ddof=1) of all five scores;
    # a caliper of 1.5 units keeps only pairs within 1.5.
    df = frame([0, 1, 0, 0, 1], [0, 1, 2, 3, 10])
    with pytest.warns(StatisticalWarning):
        m = mt.match(
            df,
            group="treated",
            treated=1,
            covariates=["x"],
            distance="d",
            caliper=1.5,
            std_caliper=False,
        )
    assert pairs_of(m) == {(1, 0)}  # tie between rows 0 and 2, row 0 first
    assert m.unmatched.loc[4, "reason"] == "no control unit within the caliper"
    sd = float(np.std([0, 1, 2, 3, 10], ddof=1))
    with pytest.warns(StatisticalWarning):
        m2 = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", caliper=0.3)
    assert m2.caliper == pytest.approx(0.3 * sd)


def test_more_treated_than_controls_by_hand():
    df = frame([1, 1, 1, 0], [0.3, 0.5, 0.7, 0.6])
    with pytest.warns(StatisticalWarning, match="2 of 3 treated units"):
        m = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d")
    assert pairs_of(m) == {(2, 3)}
    assert m.counts.loc["unmatched", "treated"] == 2
    assert m.counts.loc["matched", "control"] == 1
    assert list(m.unmatched.index) == [0, 1]
    assert m.data.index.tolist() == [2, 3]
    assert m.data["weight"].tolist() == [1.0, 1.0]


def test_with_replacement_by_hand():
    # both treated want control row 2; with replacement they share it (weight scaled to 1)
    df = frame([1, 1, 0, 0], [0.50, 0.52, 0.51, 0.1])
    m = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", replace=True)
    assert pairs_of(m) == {(0, 2), (1, 2)}
    np.testing.assert_allclose(m.weights.to_numpy(), [1, 1, 1, 0])
    assert m.subclass.isna().all() and "subclass" in m.data.columns


def test_balance_by_hand():
    # x continuous, b binary. ATT SMD denominator: treated SD (n-1) / sqrt(p(1-p)).
    df = pd.DataFrame(
        {"t": [1, 1, 1, 0, 0, 0, 0], "x": [1.0, 2, 6, 0, 1, 1, 4], "b": [1, 0, 1, 0, 0, 1, 0]}
    )
    b = mt.balance(df, group="t", treated=1, covariates=["x", "b"])
    sx = np.sqrt(np.var([1.0, 2, 6], ddof=1))
    assert b.table.loc["x", "smd_before"] == pytest.approx((3.0 - 1.5) / sx)
    assert b.table.loc["b", "smd_before"] == pytest.approx((2 / 3 - 1 / 4) / np.sqrt(2 / 9))
    assert b.table.loc["x", "vr_before"] == pytest.approx(7.0 / 3.0)
    assert np.isnan(b.table.loc["b", "vr_before"])
    # eCDFs at the distinct values 0,1,2,4,6: |F1-F0| = 1/4, 1/3-3/4, 2/3-3/4, 2/3-1, 0
    e = np.array([0.25, 5 / 12, 1 / 12, 1 / 3, 0.0])
    assert b.table.loc["x", "ecdf_mean_before"] == pytest.approx(e.mean())
    assert b.table.loc["x", "ecdf_max_before"] == pytest.approx(e.max())
    assert b.table["smd_after"].isna().all()
    assert b.sample_sizes.loc["n"].tolist() == [4.0, 3.0]
    # ATE: pooled SD sqrt((s1² + s0²)/2); weights double control row 6
    w = [1, 1, 1, 1, 1, 1, 2]
    b2 = mt.balance(df, group="t", treated=1, covariates=["x"], weights=w, estimand="ATE")
    s0 = np.var([0.0, 1, 1, 4], ddof=1)
    assert b2.table.loc["x", "smd_after"] == pytest.approx((3.0 - 10 / 5) / np.sqrt((7.0 + s0) / 2))
    assert b2.sample_sizes.loc["ess", "control"] == pytest.approx(5**2 / 7)  # (Σw)²/Σw²


def test_balance_sd_fallback_by_hand():
    # every treated person has b = 1, so the treated SD is 0; MatchIt then standardises by the
    # pooled SD: sqrt(Σ_g s_g (1 - s_g/n_g) / n) = sqrt((0 + 1·(2/3)) / 6) = 1/3.
    df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "b": [1, 1, 1, 0, 1, 0]})
    b = mt.balance(df, group="t", treated=1, covariates=["b"])
    assert b.table.loc["b", "smd_before"] == pytest.approx((1 - 1 / 3) / (1 / 3))


def test_categorical_covariates_give_one_row_per_level(sim):
    b = mt.balance(sim, group="treated", treated=1, covariates=["offence_type"])
    assert list(b.table.index) == [
        "offence_type[acquisitive]",
        "offence_type[other]",
        "offence_type[violence]",
    ]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_propensity_model_refuses_numbers_stored_as_text(sim, dtype):
    # ages read from a file as text must not become one dummy per distinct age
    df = sim.assign(age=sim["age"].astype(str).astype(dtype))
    calls = {
        "propensity_score": lambda: mt.propensity_score(
            df, group="treated", treated=1, covariates=COVS
        ),
        "match": lambda: mt.match(df, group="treated", treated=1, covariates=COVS),
        "weight": lambda: mt.weight(df, group="treated", treated=1, covariates=COVS),
        "balance": lambda: mt.balance(df, group="treated", treated=1, covariates=COVS),
        "match (balance only)": lambda: mt.match(
            df, group="treated", treated=1, covariates=COVS, distance=sim["risk_score"].to_numpy()
        ),
    }
    for name, call in calls.items():
        with pytest.raises(InputError, match="holds numbers stored as text") as err:
            call()
        assert err.value.column == "age", name
    ref = mt.propensity_score(sim, group="treated", treated=1, covariates=COVS)
    fixed = df.assign(age=pd.to_numeric(df["age"]))
    ps = mt.propensity_score(fixed, group="treated", treated=1, covariates=COVS)
    np.testing.assert_allclose(
        ps.coefficients["estimate"], ref.coefficients["estimate"], rtol=1e-10
    )

    # numeric codes of a factor: refused as text; declared categorical, the same model and
    # the same matches as the named levels
    ref_m = mt.match(sim, group="treated", treated=1, covariates=COVS)
    codes = sim["offence_type"].map({"acquisitive": "1", "other": "2", "violence": "3"})
    codes = codes.astype(dtype)
    with pytest.raises(InputError, match=r"column 'offence_type'.*numbers stored as text"):
        mt.match(sim.assign(offence_type=codes), group="treated", treated=1, covariates=COVS)
    for declared in (codes.astype("category"), pd.to_numeric(codes).astype("category")):
        d = sim.assign(offence_type=declared)
        ps = mt.propensity_score(d, group="treated", treated=1, covariates=COVS)
        assert list(ps.coefficients.index)[-2:] == ["offence_type[2]", "offence_type[3]"]
        np.testing.assert_allclose(
            ps.coefficients["estimate"], ref.coefficients["estimate"], rtol=1e-10
        )
        np.testing.assert_allclose(ps.scores, ref.scores, rtol=1e-10)
        m = mt.match(d, group="treated", treated=1, covariates=COVS)
        pd.testing.assert_frame_equal(m.pairs, ref_m.pairs)
        np.testing.assert_allclose(m.balance()["smd_after"], ref_m.balance()["smd_after"])


def test_atc_weights_by_hand():
    df = pd.DataFrame({"t": [1, 0, 1, 0, 1, 0], "x": [0.0, 1, 2, 3, 4, 5.5]})
    w = mt.weight(df, group="t", treated=1, covariates=["x"], estimand="ATC")
    p = w.propensity.scores.to_numpy()
    np.testing.assert_allclose(w.weights, np.where(df["t"] == 1, (1 - p) / p, 1.0))


def test_plot_love_has_alt_text_and_colour_blind_palette(sim, scores):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = run_spec(sim, scores, "nn1", r_scores=True)
    ax = m.plot_love()
    assert ax.alt_text == m.love_alt_text()
    assert "before matching" in ax.alt_text and "0.1" in ax.alt_text
    colours = {tuple(np.round(c.get_edgecolor()[0][:3], 3)) for c in ax.collections}
    assert (0.835, 0.369, 0.0) in colours  # Okabe–Ito vermillion (#D55E00)
    assert len(ax.get_yticklabels()) == len(m.balance())
    plt.close(ax.figure)


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


def test_group_must_hold_the_two_arms():
    df = pd.DataFrame({"t": [0, 1, 2, 1], "x": [1.0, 2, 3, 4]}, index=list("abcd"))
    with pytest.raises(InputError, match=r"column 't'.*exactly two groups"):
        mt.match(df, group="t", treated=1, covariates=["x"])
    # a 0/1 column needs treated=1 (the default label is "programme")
    with pytest.raises(InputError, match=r"column 't'.*treated='programme'.*needs treated=1"):
        mt.propensity_score(df.iloc[:2], group="t", covariates=["x"])
    labelled = pd.DataFrame({"arm": ["scheme", "other", "scheme"], "x": [1.0, 2, 3]})
    with pytest.raises(InputError, match=r"column 'arm'.*no rows labelled treated='programme'"):
        mt.balance(labelled, group="arm", covariates=["x"])
    with pytest.raises(InputError, match=r"argument 'covariates'.*group column 'arm'"):
        mt.balance(labelled, group="arm", treated="scheme", covariates=["x", "arm"])


def test_missing_covariate_names_rows():
    df = pd.DataFrame({"t": [0, 1, 0, 1], "x": [1.0, np.nan, 3, np.nan]}, index=[10, 11, 12, 13])
    with pytest.raises(InputError, match=r"column 'x'.*missing.*11, 13"):
        mt.match(df, group="t", treated=1, covariates=["x"])
    with pytest.raises(InputError, match=r"column 'x'"):
        mt.weight(df, group="t", treated=1, covariates=["x"])


def test_one_group_only_is_a_design_error():
    df = pd.DataFrame({"t": [1, 1, 1], "x": [1.0, 2, 3]})
    with pytest.raises(DesignError, match="only one group"):
        mt.match(df, group="t", treated=1, covariates=["x"])
    with pytest.raises(DesignError, match="only one group"):
        mt.weight(df, group="t", treated=1, covariates=["x"])
    with pytest.raises(InputError, match="no rows labelled treated=1"):
        mt.match(df.assign(t=0), group="t", treated=1, covariates=["x"], distance="x")


@pytest.mark.parametrize("ratio", [0, -1, 1.5, True])
def test_bad_ratio(ratio):
    df = frame([1, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="argument 'ratio'"):
        mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", ratio=ratio)


@pytest.mark.parametrize("caliper", [0, -0.2, np.nan])
def test_bad_caliper(caliper):
    df = frame([1, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="argument 'caliper'"):
        mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", caliper=caliper)


def test_unknown_options_list_valid_values():
    df = frame([1, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="'largest', 'smallest', 'random', 'data'"):
        mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", order="closest")
    with pytest.raises(InputError, match="'ATT', 'ATC'"):
        mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", estimand="ATE")
    with pytest.raises(InputError, match=r"'logit', 'linear.logit'"):
        mt.match(df, group="treated", treated=1, covariates=["x"], link="probit")


def test_other_input_errors():
    df = frame([1, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="index must be unique"):
        mt.match(df.set_axis([1, 1, 2]), group="treated", treated=1, covariates=["x"], distance="d")
    with pytest.raises(InputError, match=r"column 'weight'.*already"):
        mt.match(df.assign(weight=1.0), group="treated", treated=1, covariates=["x"], distance="d")
    with pytest.raises(InputError, match=r"argument 'distance'.*one value per row"):
        mt.match(df, group="treated", treated=1, covariates=["x"], distance=[0.1, 0.2])
    with pytest.raises(InputError, match=r"column 'exact_col'.*missing"):
        mt.match(
            df.assign(exact_col=["a", None, "b"]),
            group="treated",
            treated=1,
            covariates=["x"],
            distance="d",
            exact="exact_col",
        )
    with pytest.raises(InputError, match="collinear"):
        mt.propensity_score(
            df.assign(x2=2 * df["x"]), group="treated", treated=1, covariates=["x", "x2"]
        )
    with pytest.raises(InputError, match="argument 'trim'"):
        mt.weight(df, group="treated", treated=1, covariates=["x"], trim=0.3)
    with pytest.raises(InputError, match="argument 'max_weight'"):
        mt.weight(df, group="treated", treated=1, covariates=["x"], max_weight=0)
    with pytest.raises(InputError, match="must not be negative"):
        mt.balance(df, group="treated", treated=1, covariates=["x"], weights=[1, -1, 1])
    with pytest.raises(InputError, match=r"column 'weight'.*already"):
        mt.weight(df.assign(weight=1.0), **ARM, covariates=["x"])
    with pytest.raises(InputError, match=r"argument 'replace': must be True or False"):
        mt.match(df, **ARM, covariates=["x"], distance="d", replace="no")
    with pytest.raises(InputError, match=r"argument 'stabilize'"):
        mt.weight(df, **ARM, covariates=["x"], stabilize=1)


def test_outcome_must_be_binary(sim, scores):
    m = run_spec(sim, scores, "nn1", r_scores=True)
    with pytest.raises(InputError, match=r"column 'age'.*0 \(no\) or 1"):
        mt.matched_rate_difference(m, outcome="age")


def test_no_match_at_all_is_a_design_error():
    df = frame([1, 0, 1, 0], [0.1, 0.9, 0.15, 0.95], cell=["a", "b", "a", "b"])
    with (
        pytest.raises(DesignError, match="no treated unit could be matched"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", StatisticalWarning)
        mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", exact="cell")


# ------------------------------------------------------------------------------------------
# the result contract and the vocabulary (issue 10)
# ------------------------------------------------------------------------------------------


def all_results(df: pd.DataFrame, **arm) -> dict:
    """One result of every kind, computed on ``df``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        m = mt.match(df, **arm, covariates=COVS, caliper=0.2, link="linear.logit")
    w = mt.weight(df, **arm, covariates=COVS, estimand="ATE", trim=0.95)
    return {
        "propensity_score": mt.propensity_score(df, **arm, covariates=COVS),
        "match": m,
        "weight": w,
        "balance": mt.balance(df, **arm, covariates=COVS, weights=m),
        "matched_rate_difference": mt.matched_rate_difference(m, outcome="reoffended"),
        "weighted_rate_difference": mt.matched_rate_difference(w, outcome="reoffended"),
    }


def test_results_are_independent_of_the_input_frame_after_the_call(sim):
    # The results used to keep the caller's DataFrame: editing it after match() moved
    # m.balance()'s SMD from 0.116 to 0.889. Every result now keeps its own copies; the
    # balance tables are computed lazily, so they are first asked for after the edit.
    df = sim.copy()
    got = all_results(df, **ARM)
    want = all_results(sim.copy(), **ARM)
    df.loc[df.index[:700], "age"] = 99.0
    df.loc[:, "treated"] = 1 - df["treated"]
    df.loc[:, "reoffended"] = 1
    df.loc[:, "offence_type"] = "other"
    df.loc[df.index[:50], "risk_score"] = np.nan
    m, w = got["match"], got["weight"]
    pd.testing.assert_frame_equal(m.balance(), want["match"].balance())
    pd.testing.assert_frame_equal(w.balance(), want["weight"].balance())
    for name in ("propensity_score", "balance"):
        pd.testing.assert_frame_equal(got[name].to_frame(), want[name].to_frame())
    pd.testing.assert_frame_equal(m.data, want["match"].data)
    pd.testing.assert_frame_equal(w.data, want["weight"].data)
    for name in ("matched_rate_difference", "weighted_rate_difference"):
        pd.testing.assert_frame_equal(got[name].to_frame(), want[name].to_frame())
    # the effect is read from the result's own data, not from the edited frame
    again = mt.matched_rate_difference(m, outcome="reoffended")
    assert again.estimate == got["matched_rate_difference"].estimate
    assert m.balance().loc["age", "smd_before"] == pytest.approx(
        want["match"].balance().loc["age", "smd_before"], rel=0, abs=0
    )
    # the tables handed out are copies: editing one does not edit the result
    table, frame = m.balance(), m.to_frame()
    table.loc["age", "smd_after"] = 5.0
    frame.loc[0, "smd_after"] = 5.0
    assert m.balance().loc["age", "smd_after"] != 5.0
    assert m.to_frame().loc[0, "smd_after"] != 5.0


def test_results_are_frozen_with_a_short_repr(sim):
    for name, result in all_results(sim, **ARM).items():
        text = repr(result)
        assert len(text) < 300 and "\n" not in text, (name, text)
        assert text.startswith(type(result).__name__ + "(")
        assert isinstance(result.to_frame(), pd.DataFrame)
        assert result.to_frame() is not result.to_frame()
        assert type(result).__name__ in result.summary() or result._title in result.summary()
        with pytest.raises(AttributeError):
            result.group = "other"
    m = all_results(sim, **ARM)["match"]
    assert "treated=1" in repr(m) and "control=0" in repr(m)


def test_matched_effect_columns_and_conf_level(sim, scores):
    m = run_spec(sim, scores, "nn1", r_scores=True)
    eff = mt.matched_rate_difference(m, outcome="reoffended", conf_level=0.9)
    assert eff.conf_level == 0.9
    wide = mt.matched_rate_difference(m, outcome="reoffended")
    assert wide.lower < eff.lower < eff.estimate < eff.upper < wide.upper
    assert eff.statistic == pytest.approx(eff.estimate / eff.se)
    assert eff.rate_treated - eff.rate_control == pytest.approx(eff.estimate)
    assert eff.p == pytest.approx(wide.p)
    for bad in ("0.9", 90, 1.0, True):
        with pytest.raises(InputError, match=r"argument 'conf_level': must be a number"):
            mt.matched_rate_difference(m, outcome="reoffended", conf_level=bad)
    with pytest.raises(InputError, match=r"argument 'result'"):
        mt.matched_rate_difference(m.propensity, outcome="reoffended")


def test_labelled_groups_give_the_same_results_as_0_1(sim):
    labelled = sim.assign(treated=np.where(sim["treated"] == 1, "programme", "comparison")).rename(
        columns={"treated": "arm"}
    )
    a = all_results(sim, **ARM)
    b = all_results(labelled, group="arm")  # treated="programme" is the default
    for name in a:
        labels = ["group", "treated", "control"]  # the effects' one-row tables name the arms
        fa, fb = (r[name].to_frame().drop(columns=labels, errors="ignore") for r in (a, b))
        pd.testing.assert_frame_equal(fa, fb, obj=name)
        assert (b[name].group, b[name].treated, b[name].control) == (
            "arm",
            "programme",
            "comparison",
        )
        assert (a[name].group, a[name].treated, a[name].control) == ("treated", 1, 0)
    pd.testing.assert_frame_equal(a["match"].pairs, b["match"].pairs)
    pd.testing.assert_series_equal(a["weight"].weights, b["weight"].weights)
    # the labels can be any two values; the arm named by treated= is the programme arm
    flipped = mt.balance(labelled, group="arm", treated="comparison", covariates=["age"])
    smd = a["balance"].table.loc["age", "smd_before"]
    assert np.sign(flipped.table.loc["age", "smd_before"]) == -np.sign(smd)
    # booleans work with treated=True
    as_bool = mt.match(
        sim.assign(treated=sim["treated"] == 1), **{**ARM, "treated": True}, covariates=COVS
    )
    pd.testing.assert_frame_equal(as_bool.pairs, mt.match(sim, **ARM, covariates=COVS).pairs)


def test_categorical_covariates_are_named_column_level():
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(
        {
            "arm": rng.choice(["programme", "comparison"], n),
            "age": rng.normal(30, 8, n).round(),
            "area": rng.choice(["north", "south", "west"], n),
        }
    )
    ps = mt.propensity_score(df, group="arm", covariates=["age", "area"])
    assert list(ps.coefficients.index) == ["(Intercept)", "age", "area[south]", "area[west]"]
    assert ps.levels == {"area": ["north", "south", "west"]}
    assert list(ps.to_frame()["term"]) == list(ps.coefficients.index)
    other = mt.propensity_score(
        df, group="arm", covariates=["age", "area"], reference={"area": "south"}
    )
    assert list(other.coefficients.index)[2:] == ["area[north]", "area[west]"]
    np.testing.assert_allclose(other.scores, ps.scores, rtol=1e-9)  # same model, other coding
    # a Categorical's first category is the reference
    cat = df.assign(area=pd.Categorical(df["area"], categories=["west", "north", "south"]))
    assert list(mt.propensity_score(cat, group="arm", covariates=["area"]).coefficients.index) == [
        "(Intercept)",
        "area[north]",
        "area[south]",
    ]
    # balance tables list every level, as MatchIt and cobalt
    b = mt.balance(df, group="arm", covariates=["age", "area"])
    assert list(b.table.index) == ["age", "area[north]", "area[south]", "area[west]"]
    assert list(b.to_frame()["covariate"]) == list(b.table.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # more programme than comparison
        m = mt.match(df, group="arm", covariates=["age", "area"], reference={"area": "west"})
    assert list(m.balance().index) == [
        "distance",
        "age",
        "area[north]",
        "area[south]",
        "area[west]",
    ]
    assert list(m.propensity.coefficients.index)[2:] == ["area[north]", "area[south]"]
    with pytest.raises(InputError, match="reference level not found"):
        mt.weight(df, group="arm", covariates=["area"], reference={"area": "east"})


# ------------------------------------------------------------------------------------------
# properties against a naive implementation of MatchIt's nn_matchC loop
# ------------------------------------------------------------------------------------------


def naive_match(d, z, cells, ratio, caliper, order, replace):
    """Direct transcription of the classic algorithm: O(n1 * n0) per step, no cleverness."""
    n = len(d)
    treated = [i for i in range(n) if z[i] == 1]
    controls = [i for i in range(n) if z[i] == 0]
    if order == "largest":
        treated.sort(key=lambda i: (-d[i], i))
    elif order == "smallest":
        treated.sort(key=lambda i: (d[i], i))
    out = {t: [] for t in treated}
    used = set()
    if replace:
        for t in treated:
            elig = [c for c in controls if cells[c] == cells[t] and abs(d[c] - d[t]) <= caliper]
            elig.sort(key=lambda c: (abs(d[c] - d[t]), c))
            out[t] = elig[:ratio]
        return out
    for _ in range(ratio):
        for t in treated:
            elig = [
                c
                for c in controls
                if c not in used and cells[c] == cells[t] and abs(d[c] - d[t]) <= caliper
            ]
            if not elig:
                continue
            best = min(elig, key=lambda c: (abs(d[c] - d[t]), c))  # which_min: first minimum
            out[t].append(best)
            used.add(best)
    return out


@st.composite
def problems(draw):
    n = draw(st.integers(2, 30))
    z = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    z[0], z[1] = 1, 0  # both groups present
    d = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))  # integer scores: many ties
    cells = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return np.array(z), np.array(d, dtype=float), np.array(cells)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prob=problems(),
    ratio=st.integers(1, 3),
    caliper=st.sampled_from([None, 0.5, 1.0, 2.5]),
    order=st.sampled_from(["largest", "smallest", "data"]),
    replace=st.booleans(),
    use_exact=st.booleans(),
)
def test_match_equals_naive_greedy(prob, ratio, caliper, order, replace, use_exact):
    z, d, cells = prob
    if not use_exact:
        cells = np.zeros_like(cells)
    df = frame(z, d, cell=cells)
    want = naive_match(d, z, cells, ratio, np.inf if caliper is None else caliper, order, replace)
    n_want = sum(len(v) for v in want.values())
    kw = dict(
        ratio=ratio,
        caliper=caliper,
        std_caliper=False,
        order=order,
        replace=replace,
        exact="cell" if use_exact else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        if n_want == 0:
            with pytest.raises(DesignError):
                mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", **kw)
            return
        m = mt.match(df, group="treated", treated=1, covariates=["x"], distance="d", **kw)
    got = {t: [] for t in want}
    for t, c in zip(m.pairs["treated"], m.pairs["control"], strict=True):
        got[t].append(c)
    if replace:  # nearest first, ties by row — the order of the list matters
        assert got == want
    else:  # round by round; compare as sets per treated unit and the round numbers
        assert {t: sorted(v) for t, v in got.items()} == {t: sorted(v) for t, v in want.items()}
    # invariants
    if not replace:
        assert not m.pairs["control"].duplicated().any()
    if caliper is not None:
        assert (m.pairs["difference"] <= caliper).all()
    assert (cells[m.pairs["treated"]] == cells[m.pairs["control"]]).all()
    assert (m.counts.loc["all"] == m.counts.loc["matched"] + m.counts.loc["unmatched"]).all()
    w = m.weights.to_numpy()
    assert w[z == 1].sum() == pytest.approx(m.counts.loc["matched", "treated"])
    assert w[z == 0].sum() == pytest.approx(m.counts.loc["matched", "control"])
    short = {t for t, v in want.items() if len(v) < ratio}
    assert set(m.unmatched.index) == short


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 80),
    ratio=st.integers(1, 2),
    caliper=st.sampled_from([None, 0.1, 0.5]),
)
def test_match_invariant_to_row_order(seed, n, ratio, caliper):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    z[0], z[1] = 0, 1
    d = rng.random(n)  # continuous: no ties, so row order must not matter
    df = frame(z, d)
    perm = rng.permutation(n)

    def run(data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            try:
                return mt.match(
                    data,
                    group="treated",
                    treated=1,
                    covariates=["x"],
                    distance="d",
                    ratio=ratio,
                    caliper=caliper,
                )
            except DesignError:  # nobody within the caliper
                return None

    a, b = run(df), run(df.iloc[perm])
    if a is None:
        assert b is None
        return
    assert b is not None
    assert pairs_of(a) == pairs_of(b)
    pd.testing.assert_series_equal(a.weights, b.weights.loc[a.weights.index])


@settings(max_examples=40, deadline=None)
@given(prob=problems(), replace=st.booleans())
def test_atc_is_att_with_groups_swapped(prob, replace):
    z, d, _ = prob
    df = frame(z, d)
    flipped = df.assign(treated=1 - df["treated"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        atc = mt.match(
            df,
            group="treated",
            treated=1,
            covariates=["x"],
            distance="d",
            estimand="ATC",
            replace=replace,
        )
        att = mt.match(
            flipped,
            group="treated",
            treated=1,
            covariates=["x"],
            distance="d",
            order="smallest",
            replace=replace,
        )
    assert set(zip(atc.pairs["control"], atc.pairs["treated"], strict=True)) == pairs_of(att)
    np.testing.assert_allclose(atc.weights, att.weights)


def test_random_order_is_reproducible_with_rng(sim, scores):
    kw = dict(group="treated", treated=1, covariates=COVS, distance=scores["ps"], order="random")
    a = mt.match(sim, rng=7, **kw)
    b = mt.match(sim, rng=np.random.default_rng(7), **kw)
    assert pairs_of(a) == pairs_of(b)


# ------------------------------------------------------------------------------------------
# issue 12: the plain-numpy propensity fit and the fast greedy search
# ------------------------------------------------------------------------------------------


def logistic_problem(seed: int) -> tuple[pd.DataFrame, list[str]]:
    """A propensity problem with covariates in very different units and a categorical one."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 3000))
    df = pd.DataFrame(
        {
            "age": rng.normal(35, 10, n).round(),
            "income": rng.lognormal(10, 1, n),
            "flag": rng.binomial(1, 0.3, n),
            "score": rng.normal(0, 1, n),
            "area": rng.choice(["n", "s", "e", "w"], n),
        }
    )
    lin = -1 + 0.03 * (df.age - 35) + 0.5 * df.flag + 0.8 * df.score + 1e-5 * (df.income - 2e4)
    df["z"] = rng.binomial(1, 1 / (1 + np.exp(-lin)))
    return df, ["age", "income", "flag", "score", "area"]


@pytest.mark.parametrize("seed", range(12))
def test_propensity_fit_equals_statsmodels_glm(seed):
    import statsmodels.api as sm

    from evalkit._design import design_matrix

    df, covs = logistic_problem(seed)
    ps = mt.propensity_score(df, group="z", treated=1, covariates=covs)
    X = design_matrix(df, covs, intercept=True).X
    fit = sm.GLM(df["z"].to_numpy(float), X, family=sm.families.Binomial()).fit(
        tol=1e-13, maxiter=100
    )
    np.testing.assert_allclose(ps.coefficients["estimate"], fit.params, rtol=1e-10, atol=0)
    np.testing.assert_allclose(ps.scores, fit.fittedvalues, rtol=1e-10, atol=0)
    np.testing.assert_allclose(ps.linear_predictor, X @ fit.params, rtol=1e-9, atol=1e-12)
    assert ps.deviance == pytest.approx(fit.deviance, rel=1e-12)
    assert ps.null_deviance == pytest.approx(fit.null_deviance, rel=1e-12)
    # (XᵀWX)⁻¹ with the weights of the last iteration in both, but statsmodels' absolute
    # deviance tolerance stops at another iteration than R's relative rule: ~1e-8 apart
    np.testing.assert_allclose(ps.coefficients["se"], fit.bse, rtol=1e-6)


def test_propensity_fit_follows_r_glm_iterations(sim):
    # R's starting values, Fisher scoring and convergence rule (epsilon 1e-14, as the R
    # script's glm.control) give R's last iteration: coefficients and the SEs from its weights
    # agree with glm to rounding, far inside the 1e-6 of test_propensity_score_against_R
    ps = mt.propensity_score(sim, group="treated", treated=1, covariates=COVS)
    ref = read("matching_ps_coef.csv").set_index("term")
    np.testing.assert_allclose(ps.coefficients["estimate"], ref["estimate"], rtol=1e-11)
    np.testing.assert_allclose(ps.coefficients["se"], ref["se"], rtol=1e-11)
    fit = read("matching_ps_fit.csv").iloc[0]
    assert ps.deviance == pytest.approx(fit["deviance"], rel=1e-13)


def test_propensity_design_reused_from_the_balance_design(sim):
    # match() and weight() build the design once; the model is the same as propensity_score's
    num = ["age", "female", "prior_offences", "risk_score", "employed"]
    for covs in (num, COVS):
        ps = mt.propensity_score(sim, **ARM, covariates=covs)
        for res in (mt.match(sim, **ARM, covariates=covs), mt.weight(sim, **ARM, covariates=covs)):
            pd.testing.assert_frame_equal(res.propensity.coefficients, ps.coefficients)
            pd.testing.assert_series_equal(res.propensity.scores, ps.scores)


@pytest.mark.parametrize("noise", [1e-1, 1e-3, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-11, 0.0])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_rank_screen_decides_as_check_rank(noise, scale):
    # the XᵀX screen only skips check_rank's QR when the design is clearly of full rank: on
    # nearly collinear designs the outcome and the message are check_rank's
    from evalkit._design import check_rank, design_matrix
    from evalkit.matching._logistic import check_full_rank, cross_product

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500) * scale})
    df["c"] = (df["a"] + df["b"] / scale) * scale + noise * rng.normal(size=500)
    d = design_matrix(df, ["a", "b", "c"], intercept=True)

    def outcome(fn, *args):
        try:
            fn(*args)
        except InputError as err:
            return str(err)
        return None

    want = outcome(check_rank, d.X, d.names, "propensity model")
    got = outcome(check_full_rank, d.X, d.names, "propensity model", cross_product(d.X))
    assert got == want
    if noise == 0.0:
        assert want is not None and "collinear" in want


def test_rank_screen_keeps_the_short_design_error():
    from evalkit.matching._logistic import check_full_rank, cross_product

    X = np.ones((2, 3))
    with pytest.raises(DesignError, match="has 3 terms but only 2 rows"):
        check_full_rank(X, ["a", "b", "c"], "propensity model", cross_product(X))


def test_separation_warns_once_without_numpy_warnings():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    df = pd.DataFrame({"z": (x > 0).astype(int), "x": x, "w": rng.normal(size=200)})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ps = mt.propensity_score(df, group="z", treated=1, covariates=["x", "w"])
    assert [w.category for w in rec] == [StatisticalWarning]
    assert "numerically 0 or 1" in str(rec[0].message)
    assert ps.deviance < 1e-8 and np.isfinite(ps.coefficients.to_numpy()).all()


def reference_greedy(d, z, cells, ratio, caliper, focal, replace):
    """MatchIt's nn_matchC, one focal unit at a time over the whole pool (numpy per unit):
    {focal row: [pool rows in round order]} (nearest first with replacement)."""
    pool = np.flatnonzero(z == 0)
    free = np.ones(len(pool), dtype=bool)
    out = {int(t): [] for t in focal}
    for r in range(ratio if not replace else 1):
        for t in focal:
            t = int(t)
            if len(out[t]) < r:  # no match in an earlier round: none now
                continue
            dist = np.abs(d[pool] - d[t])
            ok = (cells[pool] == cells[t]) & (dist <= caliper) & (free | replace)
            if replace:
                cand = np.flatnonzero(ok)
                out[t] = [int(pool[i]) for i in cand[np.lexsort((pool[cand], dist[cand]))][:ratio]]
                continue
            if not ok.any():
                continue
            best = np.flatnonzero(ok & (dist == dist[ok].min()))[0]  # ties: earliest row
            out[t].append(int(pool[best]))
            free[best] = False
    return out


@pytest.mark.parametrize("seed", range(16))
def test_fast_greedy_equals_the_reference_greedy_on_larger_problems(seed):
    # a few thousand rows with many tied scores and programme people crowded at the top, so
    # that most first choices are taken by an earlier unit and the pointer search does the
    # work; every option combination, pairs compared in round order
    rng = np.random.default_rng(seed)
    n = int(rng.integers(500, 2500))
    z = (rng.random(n) < rng.uniform(0.15, 0.6)).astype(int)
    z[:2] = [1, 0]
    d = np.where(z == 1, rng.beta(4, 2, n), rng.beta(2, 4, n))
    d = np.round(d, int(rng.integers(1, 4)))  # 10 to 1000 distinct values: ties everywhere
    cells = rng.integers(0, int(rng.integers(1, 4)), n)
    ratio = int(rng.integers(1, 4))
    replace = seed % 4 == 3
    caliper = [None, 0.01, 0.05][seed % 3]
    order = ["largest", "smallest", "random", "data"][seed % 4]
    df = frame(z, d, cell=cells)
    kw = dict(
        ratio=ratio,
        replace=replace,
        caliper=caliper,
        std_caliper=False,
        order=order,
        rng=seed,
        exact="cell" if cells.max() > 0 else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        m = mt.match(df, **ARM, covariates=["x"], distance="d", **kw)
    focal = np.flatnonzero(z == 1)
    if order == "largest":
        focal = focal[np.lexsort((focal, -d[focal]))]
    elif order == "smallest":
        focal = focal[np.lexsort((focal, d[focal]))]
    elif order == "random":
        focal = np.random.default_rng(seed).permutation(focal)
    cal = np.inf if caliper is None else caliper
    want = reference_greedy(d, z, cells, ratio, cal, focal, replace)
    got = {int(t): [] for t in focal}
    for t, c in zip(m.pairs["treated"], m.pairs["control"], strict=True):
        got[int(t)].append(int(c))  # pairs are in (set, match_number) order
    assert got == want
    assert set(m.unmatched.index) == {t for t, v in want.items() if len(v) < ratio}


def test_propensity_fit_that_does_not_converge_is_a_convergence_error(monkeypatch):
    import functools
    import sys

    from evalkit.errors import ConvergenceError
    from evalkit.matching._logistic import fit_logistic

    propensity = sys.modules["evalkit.matching.propensity"]
    monkeypatch.setattr(propensity, "fit_logistic", functools.partial(fit_logistic, maxiter=2))
    df, covs = logistic_problem(0)
    with pytest.raises(ConvergenceError, match="did not converge in 100 iterations"):
        mt.propensity_score(df, group="z", treated=1, covariates=covs)
    assert not fit_logistic(np.c_[np.ones(len(df)), df["score"]], df["z"], maxiter=2).converged
