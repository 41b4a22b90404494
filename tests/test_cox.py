"""Tests of evalkit's Cox model (evalkit/_cox.py).

Reference values: tests/reference/expected/cox_*.csv, written by
tests/reference/survival_reference.R with R 4.2.2 and survival 3.5.3 (see
tests/reference/README.md). R's output is stored to 17 significant digits, so the tolerance is
1e-6 relative, the project's standard for R output; the implementation actually agrees to about
1e-12. The R call behind each model is in ``R_CALLS`` and is repeated in the test ids.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evalkit._cox import TIES, CoxResult, cox
from evalkit.errors import ConvergenceError, InputError, StatisticalWarning

REF = Path(__file__).parent / "reference"
RTOL = 1e-6  # R output written with %.17g; 1e-6 relative is the project's standard

ROSSI_COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
SIM_COVS = ["x1", "x2", "x3", "groupB", "groupC"]

# model -> (dataset, keyword arguments of evalkit.cox, the R call that produced the numbers)
MODELS: dict[str, tuple[str, dict, str]] = {
    "rossi_efron": (
        "rossi",
        dict(time="week", event="arrest", covariates=ROSSI_COVS),
        "coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi, "
        'ties = "efron")',
    ),
    "rossi_breslow": (
        "rossi",
        dict(time="week", event="arrest", covariates=ROSSI_COVS, ties="breslow"),
        "coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi, "
        'ties = "breslow")',
    ),
    "rossi_efron_robust": (
        "rossi",
        dict(time="week", event="arrest", covariates=ROSSI_COVS, robust=True),
        "coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi, "
        'ties = "efron", robust = TRUE)',
    ),
    "sim_efron_strata": (
        "sim",
        dict(time="time", event="event", covariates=SIM_COVS, strata="stratum"),
        "coxph(Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC + strata(stratum), sim, "
        'ties = "efron")',
    ),
    "sim_breslow_strata": (
        "sim",
        dict(time="time", event="event", covariates=SIM_COVS, strata="stratum", ties="breslow"),
        "coxph(Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC + strata(stratum), sim, "
        'ties = "breslow")',
    ),
    "sim_efron_cluster": (
        "sim",
        dict(time="time", event="event", covariates=SIM_COVS[:3], cluster="cluster"),
        'coxph(Surv(time, event) ~ x1 + x2 + x3, sim, cluster = cluster, ties = "efron")',
    ),
    "sim_efron_weighted": (
        "sim",
        dict(time="time", event="event", covariates=SIM_COVS[:3], weights="w", robust=True),
        'coxph(Surv(time, event) ~ x1 + x2 + x3, sim, weights = w, robust = TRUE, ties = "efron")',
    ),
    "sim_efron_nostrata": (
        "sim",
        dict(time="time", event="event", covariates=SIM_COVS, robust=True),
        "coxph(Surv(time, event) ~ x1 + x2 + x3 + groupB + groupC, sim, robust = TRUE, "
        'ties = "efron")',
    ),
}
ROBUST = ["rossi_efron_robust", "sim_efron_cluster", "sim_efron_weighted", "sim_efron_nostrata"]


def _ids(models: list[str]) -> list[str]:
    return [f"{m}: {MODELS[m][2]}" for m in models]


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    rossi = pd.read_csv(REF / "data" / "rossi.csv")
    sim = pd.read_csv(REF / "data" / "sim_ties.csv")
    # the R script makes these indicators itself: groupB = (group == "B"), groupC = (group == "C")
    sim["groupB"] = (sim["group"] == "B").astype(int)
    sim["groupC"] = (sim["group"] == "C").astype(int)
    return {"rossi": rossi, "sim": sim}


@pytest.fixture(scope="module")
def fits(data: dict[str, pd.DataFrame]) -> dict[str, CoxResult]:
    return {m: cox(data[ds], **kw) for m, (ds, kw, _) in MODELS.items()}


def _expected(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "expected" / name)


# ------------------------------------------------------------------------------------------
# Against R
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_coefficients_and_se_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_coef.csv: coef(fit); se = sqrt(diag(fit$naive.var or fit$var));
    # robust_se = sqrt(diag(fit$var)) for robust fits; z = coef / (robust) se; p = 2 pnorm(-|z|)
    ref = _expected("cox_coef.csv").query("model == @model").set_index("term")
    fit = fits[model]
    assert list(fit.coef.index) == list(ref.index)
    np.testing.assert_allclose(fit.coef[ref.index], ref["coef"], rtol=RTOL)
    naive_se = np.sqrt(np.diag(fit.naive_vcov.loc[ref.index, ref.index]))
    np.testing.assert_allclose(naive_se, ref["se"], rtol=RTOL)
    if model in ROBUST:
        np.testing.assert_allclose(fit.table.loc[ref.index, "se"], ref["robust_se"], rtol=RTOL)
    else:
        assert ref["robust_se"].isna().all()
        assert fit.robust_vcov is None
    np.testing.assert_allclose(fit.table.loc[ref.index, "z"], ref["z"], rtol=RTOL)
    np.testing.assert_allclose(fit.table.loc[ref.index, "p"], ref["p"], rtol=RTOL)
    # hazard ratio and 95% limits follow from coef and the reported se (z = qnorm(0.975))
    se = fit.table["se"]
    np.testing.assert_allclose(fit.table["hr"], np.exp(ref["coef"]), rtol=RTOL)
    np.testing.assert_allclose(
        fit.table["lower"], np.exp(fit.table["coef"] - 1.959963984540054 * se), rtol=1e-12
    )


@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_vcov_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_vcov.csv: naive = fit$naive.var (robust fits) or fit$var; robust = fit$var
    ref = _expected("cox_vcov.csv").query("model == @model")
    fit = fits[model]
    naive = [
        fit.naive_vcov.loc[r, c] for r, c in zip(ref["row_term"], ref["col_term"], strict=True)
    ]
    np.testing.assert_allclose(naive, ref["naive"], rtol=RTOL, atol=1e-15)
    if model in ROBUST:
        assert fit.robust_vcov is not None
        rob = [
            fit.robust_vcov.loc[r, c] for r, c in zip(ref["row_term"], ref["col_term"], strict=True)
        ]
        np.testing.assert_allclose(rob, ref["robust"], rtol=RTOL, atol=1e-15)
        pd.testing.assert_frame_equal(fit.vcov, fit.robust_vcov)


@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_tests_loglik_concordance_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_tests.csv: fit$n, fit$nevent, fit$loglik, 2*diff(fit$loglik), model-based Wald,
    # fit$score, fit$wald.test (robust), fit$rscore, fit$concordance[c("concordance", "std")],
    # fit$iter
    ref = _expected("cox_tests.csv").set_index("model").loc[model]
    fit = fits[model]
    assert fit.n == ref["n"]
    assert fit.n_events == ref["nevent"]
    assert fit.iterations == ref["iter"]
    assert fit.ties == ref["ties"]
    np.testing.assert_allclose([fit.loglik0, fit.loglik], [ref.loglik0, ref.loglik], rtol=RTOL)
    for res, stat in [
        (fit.lr_test, "lr"),
        (fit.naive_wald_test, "wald"),
        (fit.score_test, "score"),
    ]:
        np.testing.assert_allclose(res.statistic, ref[stat], rtol=RTOL)
        assert res.df == ref[f"{stat}_df"]
        np.testing.assert_allclose(res.p_value, ref[f"{stat}_p"], rtol=RTOL)
    if model in ROBUST:
        assert fit.robust
        np.testing.assert_allclose(fit.wald_test.statistic, ref["robust_wald"], rtol=RTOL)
        np.testing.assert_allclose(fit.wald_test.p_value, ref["robust_wald_p"], rtol=RTOL)
        assert fit.robust_score_test is not None
        np.testing.assert_allclose(fit.robust_score_test.statistic, ref["robust_score"], rtol=RTOL)
        np.testing.assert_allclose(fit.robust_score_test.p_value, ref["robust_score_p"], rtol=RTOL)
    else:
        assert not fit.robust
        assert fit.robust_score_test is None
        assert fit.wald_test.statistic == fit.naive_wald_test.statistic
    np.testing.assert_allclose(fit.concordance.estimate, ref["concordance"], rtol=RTOL)
    np.testing.assert_allclose(fit.concordance.se, ref["concordance_se"], rtol=RTOL)


ZPH_MODELS = ["rossi_efron", "rossi_breslow", "sim_efron_strata"]


@pytest.mark.parametrize("transform", ["km", "identity", "rank"])
@pytest.mark.parametrize("model", ZPH_MODELS, ids=_ids(ZPH_MODELS))
def test_cox_ph_test_against_R(model: str, transform: str, fits: dict[str, CoxResult]) -> None:
    # cox_zph.csv: cox.zph(fit, transform = transform)$table  (survival 3.5.3, terms = TRUE)
    ref = (
        _expected("cox_zph.csv")
        .query("model == @model and transform == @transform")
        .set_index("term")
    )
    got = fits[model].ph_test(transform)
    assert list(got.index) == list(ref.index)
    assert list(got.columns) == ["statistic", "df", "p"]
    np.testing.assert_allclose(got["statistic"], ref["chisq"], rtol=RTOL)
    np.testing.assert_array_equal(got["df"], ref["df"])
    np.testing.assert_allclose(got["p"], ref["p"], rtol=RTOL)


def test_cox_rossi_published_summary_against_R(fits: dict[str, CoxResult]) -> None:
    # summary(coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, rossi))
    # as printed (3-4 significant digits), e.g. in Fox & Weisberg's Cox appendix:
    # fin -0.37942 (0.19138), prio 0.09150 (0.02865); LR 33.27, Wald 32.11, score 33.53 on 7 df
    fit = fits["rossi_efron"]
    assert round(fit.coef["fin"], 5) == -0.37942
    assert round(fit.table.loc["prio", "se"], 5) == 0.02865
    assert (round(fit.lr_test.statistic, 2), round(fit.wald_test.statistic, 2)) == (33.27, 32.11)
    assert round(fit.score_test.statistic, 2) == 33.53


@pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")
def test_cox_rossi_against_lifelines(data: dict[str, pd.DataFrame]) -> None:
    # A second opinion, not provenance: lifelines' CoxPHFitter (Efron) on the same data.
    from lifelines import CoxPHFitter

    rossi = data["rossi"]
    cph = CoxPHFitter().fit(rossi, duration_col="week", event_col="arrest")
    fit = cox(rossi, time="week", event="arrest", covariates=ROSSI_COVS)
    np.testing.assert_allclose(fit.coef[ROSSI_COVS], cph.params_[ROSSI_COVS], atol=1e-6)
    np.testing.assert_allclose(
        fit.table.loc[ROSSI_COVS, "se"], cph.standard_errors_[ROSSI_COVS], rtol=1e-5
    )
    np.testing.assert_allclose(fit.loglik, cph.log_likelihood_, rtol=1e-8)
    np.testing.assert_allclose(fit.concordance.estimate, cph.concordance_index_, rtol=1e-10)


@pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")
def test_cox_concordance_many_distinct_times_against_lifelines() -> None:
    # Second opinion on Harrell's C where every time is distinct (no ties in time or score,
    # so lifelines' and R's definitions coincide). 20,000 distinct times also exercise the
    # code path for more than 2^14 distinct times (wide block ids in the dominance counts).
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(5)
    n = 20_000
    x = rng.normal(size=n)
    b = (rng.random(n) < 0.5).astype(float)
    t = rng.exponential(size=n) * np.exp(-0.5 * x)
    c = rng.exponential(size=n) * 1.5
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x, "b": b})
    assert df["t"].nunique() == n
    fit = cox(df, time="t", event="e", covariates=["x", "b"])
    lp = fit.coef["x"] * x + fit.coef["b"] * b
    expected = concordance_index(df["t"], -lp, df["e"])
    np.testing.assert_allclose(fit.concordance.estimate, expected, rtol=1e-12)


# ------------------------------------------------------------------------------------------
# Result object
# ------------------------------------------------------------------------------------------
def test_cox_result_shapes(fits: dict[str, CoxResult]) -> None:
    fit = fits["sim_efron_strata"]
    assert list(fit.table.columns) == ["coef", "se", "hr", "lower", "upper", "z", "p"]
    assert fit.table.index.name == "term"
    assert fit.conf_level == 0.95
    frame = fit.to_frame()
    assert list(frame.columns) == ["term", "coef", "se", "hr", "lower", "upper", "z", "p"]
    assert "<table" in fit._repr_html_()
    conc = fit.concordance.to_frame()
    assert conc.loc[0, "estimate"] == fit.concordance.estimate
    # counts: comparable pairs split into (R-reversed) concordant / discordant / tied on score
    c = fit.concordance
    np.testing.assert_allclose(
        c.estimate, (c.concordant + c.tied_x / 2) / (c.concordant + c.discordant + c.tied_x)
    )
    with pytest.raises(AttributeError):
        fit.n = 3  # type: ignore[misc]


def test_cox_conf_level_changes_only_the_limits(data: dict[str, pd.DataFrame]) -> None:
    f95 = cox(data["rossi"], time="week", event="arrest", covariates=["fin", "prio"])
    f90 = cox(
        data["rossi"], time="week", event="arrest", covariates=["fin", "prio"], conf_level=0.9
    )
    pd.testing.assert_series_equal(f95.table["se"], f90.table["se"])
    z90 = 1.6448536269514722
    np.testing.assert_allclose(
        f90.table["upper"], np.exp(f90.table["coef"] + z90 * f90.table["se"]), rtol=1e-12
    )
    assert (f90.table["upper"] < f95.table["upper"]).all()


def test_cox_categorical_covariate_matches_indicator_columns(
    data: dict[str, pd.DataFrame], fits: dict[str, CoxResult]
) -> None:
    # a string column is expanded to treatment dummies with the first level ("A") as reference
    sim = data["sim"]
    fit = cox(
        sim, time="time", event="event", covariates=["x1", "x2", "x3", "group"], strata="stratum"
    )
    ref = fits["sim_efron_strata"]
    assert list(fit.coef.index) == ["x1", "x2", "x3", "group[B]", "group[C]"]
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)
    assert fit.terms["group"] == ["group[B]", "group[C]"]
    zph = fit.ph_test()
    assert list(zph.index) == ["x1", "x2", "x3", "group", "GLOBAL"]
    assert zph.loc["group", "df"] == 2
    # the GLOBAL test does not depend on how columns are grouped into terms (R: cox.zph GLOBAL)
    np.testing.assert_allclose(
        zph.loc["GLOBAL", "statistic"], ref.ph_test().loc["GLOBAL", "statistic"], rtol=1e-10
    )


@pytest.mark.parametrize("dtype", [object, "str"])
def test_cox_refuses_age_stored_as_text(
    data: dict[str, pd.DataFrame], fits: dict[str, CoxResult], dtype
) -> None:
    # ages read from a file as text ("34", " 27") must not become one dummy per distinct age
    rossi = data["rossi"]
    df = rossi.astype({"age": str}).astype({"age": dtype})
    df.loc[3, "age"] = f" {df.loc[3, 'age']} "
    with pytest.raises(InputError, match="holds numbers stored as text") as err:
        cox(df, time="week", event="arrest", covariates=ROSSI_COVS)
    assert err.value.column == "age" and err.value.table == "data"
    assert "pd.to_numeric" in str(err.value) and "astype('category')" in str(err.value)
    # the first fix the message names gives R's fit
    fixed = cox(
        df.assign(age=pd.to_numeric(df["age"])), time="week", event="arrest", covariates=ROSSI_COVS
    )
    np.testing.assert_allclose(
        fixed.coef.to_numpy(), fits["rossi_efron"].coef.to_numpy(), rtol=1e-12
    )

    # numeric codes of a factor: refused as text, a factor once declared categorical (the
    # second fix), with the same fit as the letters A/B/C (R: group as a factor)
    sim, ref = data["sim"], fits["sim_efron_strata"]
    kw = dict(time="time", event="event", strata="stratum")
    covs = ["x1", "x2", "x3", "group"]
    codes = sim["group"].map({"A": "1", "B": "2", "C": "3"}).astype(dtype)
    with pytest.raises(InputError, match=r"column 'group' in data: holds numbers stored as text"):
        cox(sim.assign(group=codes), covariates=covs, **kw)
    for declared in (codes.astype("category"), pd.to_numeric(codes).astype("category")):
        fit = cox(sim.assign(group=declared), covariates=covs, **kw)
        assert list(fit.coef.index) == ["x1", "x2", "x3", "group[2]", "group[3]"]
        np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)
        np.testing.assert_allclose(fit.table["se"], ref.table["se"].to_numpy(), rtol=1e-10)
    # text that is not all numbers stays a factor
    fit = cox(sim.assign(group=codes.replace({"3": "unknown"})), covariates=covs, **kw)
    assert list(fit.coef.index)[3:] == ["group[2]", "group[unknown]"]
    np.testing.assert_allclose(fit.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)


def test_cox_cluster_implies_robust(data: dict[str, pd.DataFrame]) -> None:
    fit = cox(data["sim"], time="time", event="event", covariates=["x1"], cluster="cluster")
    assert fit.robust
    assert fit.robust_vcov is not None


def test_cox_multiple_strata_columns(data: dict[str, pd.DataFrame]) -> None:
    # strata=[a, b] is the same as one column holding the combination
    sim = data["sim"].copy()
    sim["combo"] = sim["stratum"] + "/" + sim["x2"].astype(str)
    a = cox(sim, time="time", event="event", covariates=["x1", "x3"], strata=["stratum", "x2"])
    b = cox(sim, time="time", event="event", covariates=["x1", "x3"], strata="combo")
    pd.testing.assert_frame_equal(a.table, b.table)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------
def test_cox_missing_covariate_column(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="'nope'") as err:
        cox(data["rossi"], time="week", event="arrest", covariates=["fin", "nope"])
    assert err.value.column == "nope"


def test_cox_nan_covariate_names_rows(data: dict[str, pd.DataFrame]) -> None:
    df = data["rossi"].astype({"age": float})
    df.loc[[5, 17], "age"] = np.nan
    with pytest.raises(InputError, match="missing values") as err:
        cox(df, time="week", event="arrest", covariates=["fin", "age"])
    assert err.value.column == "age"
    assert err.value.rows == [5, 17]


def test_cox_no_events(data: dict[str, pd.DataFrame]) -> None:
    df = data["rossi"].assign(arrest=0)
    with pytest.raises(InputError, match="no events") as err:
        cox(df, time="week", event="arrest", covariates=["fin"])
    assert err.value.column == "arrest"


def test_cox_constant_covariate(data: dict[str, pd.DataFrame]) -> None:
    df = data["rossi"].assign(const=1.0)
    with pytest.raises(InputError, match="constant") as err:
        cox(df, time="week", event="arrest", covariates=["fin", "const"])
    assert err.value.column == "const"


def test_cox_aliased_covariate(data: dict[str, pd.DataFrame]) -> None:
    # fin2 = 1 - fin is a linear combination of fin (R would return NA for it)
    df = data["rossi"].assign(fin2=lambda d: 1 - d["fin"])
    with pytest.raises(InputError, match="linear combination") as err:
        cox(df, time="week", event="arrest", covariates=["fin", "fin2", "age"])
    assert err.value.column == "fin2"


def test_cox_covariate_constant_within_strata(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="within every stratum"):
        cox(data["rossi"], time="week", event="arrest", covariates=["fin", "age"], strata="fin")


def test_cox_unknown_ties_lists_valid_values(data: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError, match=r"'exact'.*'efron', 'breslow'"):
        cox(data["rossi"], time="week", event="arrest", covariates=["fin"], ties="exact")
    assert TIES == ("efron", "breslow")


def test_cox_unknown_transform_lists_valid_values(fits: dict[str, CoxResult]) -> None:
    with pytest.raises(InputError, match="'km', 'identity', 'rank', 'log'"):
        fits["rossi_efron"].ph_test("spline")


def test_cox_bad_time_event_weights(data: dict[str, pd.DataFrame]) -> None:
    df = data["rossi"].copy()
    df.loc[3, "week"] = -1
    with pytest.raises(InputError, match="negative") as err:
        cox(df, time="week", event="arrest", covariates=["fin"])
    assert err.value.rows == [3]
    df = data["rossi"].copy()
    df.loc[4, "arrest"] = 2
    with pytest.raises(InputError, match="0 \\(censored\\) or 1") as err:
        cox(df, time="week", event="arrest", covariates=["fin"])
    assert err.value.rows == [4]
    df = data["rossi"].assign(w=1.0)
    df.loc[7, "w"] = 0.0
    with pytest.raises(InputError, match="positive") as err:
        cox(df, time="week", event="arrest", covariates=["fin"], weights="w")
    assert err.value.rows == [7]


def test_cox_covariate_list_checks(data: dict[str, pd.DataFrame]) -> None:
    rossi = data["rossi"]
    with pytest.raises(InputError, match="at least one"):
        cox(rossi, time="week", event="arrest", covariates=[])
    with pytest.raises(InputError, match="more than once"):
        cox(rossi, time="week", event="arrest", covariates=["fin", "fin"])
    with pytest.raises(InputError, match="time or event"):
        cox(rossi, time="week", event="arrest", covariates=["fin", "week"])
    with pytest.raises(InputError, match="conf_level"):
        cox(rossi, time="week", event="arrest", covariates=["fin"], conf_level=95)


def test_cox_monotone_likelihood_warns() -> None:
    # every event has x = 1 and no one with x = 0 has an event before the last x = 1 event:
    # the partial likelihood increases without bound in beta_x (R: "Loglik converged before
    # variable 1; coefficient may be infinite")
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "t": np.r_[np.arange(1, 21), np.arange(25, 45)],
            "e": np.r_[np.ones(20), rng.random(20) < 0.3].astype(int),
            "x": np.r_[np.ones(20), np.zeros(20)],
            "z": rng.normal(size=40),
        }
    )
    with pytest.warns(StatisticalWarning, match="x; they may be infinite"):
        fit = cox(df, time="t", event="e", covariates=["x", "z"])
    assert fit.coef["x"] > 10
    assert np.isfinite(fit.coef["z"])


def test_cox_non_convergence_raises(data: dict[str, pd.DataFrame]) -> None:
    import evalkit._cox as mod

    old = mod._MAX_ITER
    mod._MAX_ITER = 1
    try:
        with pytest.raises(ConvergenceError, match="did not converge in 1"):
            cox(data["rossi"], time="week", event="arrest", covariates=ROSSI_COVS)
    finally:
        mod._MAX_ITER = old


def test_cox_noninteger_weights_without_robust_warn(data: dict[str, pd.DataFrame]) -> None:
    with pytest.warns(StatisticalWarning, match="robust=True"):
        cox(data["sim"], time="time", event="event", covariates=["x1"], weights="w")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = cox(
            data["sim"], time="time", event="event", covariates=["x1"], weights="w", robust=True
        )
    assert fit.robust


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------
@st.composite
def survival_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, str, bool]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(30, 120))
    n_times = draw(st.integers(3, 40))  # few distinct times: heavy ties
    strata = draw(st.booleans())
    ties = draw(st.sampled_from(TIES))
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    t = rng.integers(1, n_times + 1, size=n).astype(float)
    e = (rng.random(n) < 0.6).astype(int)
    df = pd.DataFrame({"t": t, "e": e, "x1": x1, "x2": x2, "s": rng.integers(0, 2, n)})
    return df, ties, strata


def _fit_or_reject(df: pd.DataFrame, ties: str, strata: bool, **kw) -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        try:
            return cox(
                df,
                time=kw.pop("time", "t"),
                event="e",
                covariates=kw.pop("covariates", ["x1", "x2"]),
                strata="s" if strata else None,
                ties=ties,
                **kw,
            )
        except (StatisticalWarning, InputError, ConvergenceError):
            assume(False)
            raise  # unreachable


PROP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROP
@given(survival_frames(), st.randoms(use_true_random=False))
def test_cox_invariant_to_row_order(case: tuple, rnd) -> None:
    df, ties, strata = case
    a = _fit_or_reject(df, ties, strata)
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    b = _fit_or_reject(df.iloc[perm], ties, strata)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.naive_vcov, b.naive_vcov, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.concordance.estimate, b.concordance.estimate, rtol=1e-12)
    np.testing.assert_allclose(a.concordance.se, b.concordance.se, rtol=1e-8)
    np.testing.assert_allclose(a.ph_test()["statistic"], b.ph_test()["statistic"], rtol=1e-7)


@PROP
@given(survival_frames(), st.floats(-50, 50), st.floats(0.1, 10))
def test_cox_covariate_shift_and_scale(case: tuple, shift: float, scale: float) -> None:
    # x1 -> scale * x1 + shift: coefficient divides by scale, everything else unchanged
    df, ties, strata = case
    a = _fit_or_reject(df, ties, strata)
    b = _fit_or_reject(df.assign(x1=df["x1"] * scale + shift), ties, strata)
    np.testing.assert_allclose(b.coef["x1"] * scale, a.coef["x1"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.coef["x2"], a.coef["x2"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-9)
    np.testing.assert_allclose(b.table["z"], a.table["z"], rtol=1e-6, atol=1e-9)


@PROP
@given(survival_frames(), st.floats(0.01, 100))
def test_cox_time_scale_invariance(case: tuple, c: float) -> None:
    # the partial likelihood depends on times only through their order (and ties)
    df, ties, strata = case
    a = _fit_or_reject(df, ties, strata, robust=True)
    b = _fit_or_reject(df.assign(t=df["t"] * c), ties, strata, robust=True)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-8, atol=1e-14)
    assert a.concordance == b.concordance
    np.testing.assert_allclose(
        a.ph_test("rank")["statistic"], b.ph_test("rank")["statistic"], rtol=1e-8
    )


@PROP
@given(survival_frames(), st.integers(0, 2**32 - 1))
def test_cox_integer_weights_equal_replicated_rows(case: tuple, seed: int) -> None:
    # Breslow with case weights k equals the fit on data with each row repeated k times
    # (Efron is not: R's Efron divides a tied set by its number of rows, not its weight)
    df, _, strata = case
    w = np.random.default_rng(seed).integers(1, 4, len(df))
    a = _fit_or_reject(df.assign(w=w.astype(float)), "breslow", strata, weights="w")
    b = _fit_or_reject(df.loc[df.index.repeat(w)].reset_index(drop=True), "breslow", strata)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(a.naive_vcov, b.naive_vcov, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-10)
    np.testing.assert_allclose(a.concordance.estimate, b.concordance.estimate, rtol=1e-10)


@PROP
@given(st.integers(0, 2**32 - 1), st.integers(20, 80))
def test_cox_efron_equals_breslow_without_ties(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "t": rng.permutation(n) + 1.0,
            "e": (rng.random(n) < 0.7).astype(int),
            "x1": rng.normal(size=n),
            "x2": (rng.random(n) < 0.5).astype(float),
        }
    )
    a = _fit_or_reject(df, "efron", False, robust=True)
    b = _fit_or_reject(df, "breslow", False, robust=True)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-10, atol=1e-14)
