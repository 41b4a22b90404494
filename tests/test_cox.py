"""Tests of evalkit's Cox model (evalkit/survival/cox/).

Reference values: tests/reference/expected/cox_*.csv, written by
tests/reference/survival_reference.R with R 4.2.2 and survival 3.5.3 (see
tests/reference/README.md). R's output is stored to 17 significant digits, so the tolerance is
1e-6 relative, the project's standard for R output; the implementation actually agrees to about
1e-12. The R call behind each model is in ``R_CALLS`` and is repeated in the test ids.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_matches_r, expected, reference_data
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evalkit.errors import ConvergenceError, InputError, StatisticalWarning
from evalkit.results import Result
from evalkit.survival import TIES, Concordance, CoxResult, cox

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
    rossi = reference_data("rossi.csv")
    sim = reference_data("sim_ties.csv")
    # the R script makes these indicators itself: groupB = (group == "B"), groupC = (group == "C")
    sim["groupB"] = (sim["group"] == "B").astype(int)
    sim["groupC"] = (sim["group"] == "C").astype(int)
    return {"rossi": rossi, "sim": sim}


@pytest.fixture(scope="module")
def fits(data: dict[str, pd.DataFrame]) -> dict[str, CoxResult]:
    return {m: cox(data[ds], **kw) for m, (ds, kw, _) in MODELS.items()}


# ------------------------------------------------------------------------------------------
# Against R
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_coefficients_and_se_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_coef.csv: coef(fit); se = sqrt(diag(fit$naive.var or fit$var));
    # robust_se = sqrt(diag(fit$var)) for robust fits; z = coef / (robust) se; p = 2 pnorm(-|z|)
    # (evalkit's table: estimate = R's coef, statistic = R's z)
    ref = expected("cox_coef.csv").query("model == @model").set_index("term")
    fit = fits[model]
    tab = fit.table.loc[ref.index]
    assert list(fit.coef.index) == list(ref.index)
    assert_matches_r(fit.coef[ref.index], ref["coef"], "coef", atol=0)
    assert_matches_r(tab["estimate"], ref["coef"], "estimate", atol=0)
    naive_se = np.sqrt(np.diag(fit.naive_vcov.loc[ref.index, ref.index]))
    assert_matches_r(naive_se, ref["se"], "se", atol=0)
    if model in ROBUST:
        assert_matches_r(tab["se"], ref["robust_se"], "robust se", atol=0)
    else:
        assert ref["robust_se"].isna().all()
        assert fit.robust_vcov is None
    assert_matches_r(tab["statistic"], ref["z"], "z", atol=0)
    assert_matches_r(tab["p"], ref["p"], "p", atol=0)
    # hazard ratio and 95% limits follow from coef and the reported se (z = qnorm(0.975))
    se = fit.table["se"]
    assert_matches_r(fit.table["hr"], np.exp(ref["coef"]), "hr", atol=0)
    lower = fit.table["estimate"] - 1.959963984540054 * se
    np.testing.assert_allclose(fit.table["lower"], lower, rtol=1e-12)
    np.testing.assert_allclose(fit.table["hr_lower"], np.exp(lower), rtol=1e-12)


@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_vcov_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_vcov.csv: naive = fit$naive.var (robust fits) or fit$var; robust = fit$var
    ref = expected("cox_vcov.csv").query("model == @model")
    fit = fits[model]
    naive = [
        fit.naive_vcov.loc[r, c] for r, c in zip(ref["row_term"], ref["col_term"], strict=True)
    ]
    assert_matches_r(naive, ref["naive"], "naive vcov", atol=1e-15)
    if model in ROBUST:
        assert fit.robust_vcov is not None
        rob = [
            fit.robust_vcov.loc[r, c] for r, c in zip(ref["row_term"], ref["col_term"], strict=True)
        ]
        assert_matches_r(rob, ref["robust"], "robust vcov", atol=1e-15)
        pd.testing.assert_frame_equal(fit.vcov, fit.robust_vcov)


@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_cox_tests_loglik_concordance_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_tests.csv: fit$n, fit$nevent, fit$loglik, 2*diff(fit$loglik), model-based Wald,
    # fit$score, fit$wald.test (robust), fit$rscore, fit$concordance[c("concordance", "std")],
    # fit$iter
    ref = expected("cox_tests.csv").set_index("model").loc[model]
    fit = fits[model]
    assert fit.n == ref["n"]
    assert fit.n_events == ref["nevent"]
    assert fit.iterations == ref["iter"]
    assert fit.ties == ref["ties"]
    assert_matches_r([fit.loglik0, fit.loglik], [ref.loglik0, ref.loglik], "loglik", atol=0)
    for res, stat in [
        (fit.lr_test, "lr"),
        (fit.naive_wald_test, "wald"),
        (fit.score_test, "score"),
    ]:
        assert_matches_r(res.statistic, ref[stat], stat, atol=0)
        assert res.df == ref[f"{stat}_df"]
        assert_matches_r(res.p, ref[f"{stat}_p"], f"{stat} p", atol=0)
    if model in ROBUST:
        assert fit.robust
        assert_matches_r(fit.wald_test.statistic, ref["robust_wald"], "robust wald", atol=0)
        assert_matches_r(fit.wald_test.p, ref["robust_wald_p"], "robust wald p", atol=0)
        rscore = fit.robust_score_test
        assert rscore is not None
        assert_matches_r(rscore.statistic, ref["robust_score"], "robust score", atol=0)
        assert_matches_r(rscore.p, ref["robust_score_p"], "robust score p", atol=0)
    else:
        assert not fit.robust
        assert fit.robust_score_test is None
        assert fit.wald_test.statistic == fit.naive_wald_test.statistic
    assert_matches_r(fit.concordance.estimate, ref["concordance"], "concordance", atol=0)
    assert_matches_r(fit.concordance.se, ref["concordance_se"], "concordance se", atol=0)


ZPH_MODELS = ["rossi_efron", "rossi_breslow", "sim_efron_strata"]


@pytest.mark.parametrize("transform", ["km", "identity", "rank"])
@pytest.mark.parametrize("model", ZPH_MODELS, ids=_ids(ZPH_MODELS))
def test_cox_ph_test_against_R(model: str, transform: str, fits: dict[str, CoxResult]) -> None:
    # cox_zph.csv: cox.zph(fit, transform = transform)$table  (survival 3.5.3, terms = TRUE)
    ref = (
        expected("cox_zph.csv")
        .query("model == @model and transform == @transform")
        .set_index("term")
    )
    got = fits[model].ph_test(transform)
    assert list(got.index) == list(ref.index)
    assert list(got.columns) == ["statistic", "df", "p"]
    assert_matches_r(got["statistic"], ref["chisq"], "chisq", atol=0)
    np.testing.assert_array_equal(got["df"], ref["df"])
    assert_matches_r(got["p"], ref["p"], "p", atol=0)


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
    cols = ["estimate", "se", "lower", "upper", "statistic", "p", "hr", "hr_lower", "hr_upper"]
    assert list(fit.table.columns) == cols
    assert fit.table.index.name == "term"
    assert fit.conf_level == 0.95
    frame = fit.to_frame()
    assert list(frame.columns) == ["term", *cols]
    np.testing.assert_allclose(frame["hr_upper"], np.exp(frame["upper"]), rtol=1e-14)
    assert "<table" in fit._repr_html_()
    assert isinstance(fit, Result) and isinstance(fit.concordance, Concordance)
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
    upper = f90.table["estimate"] + z90 * f90.table["se"]
    np.testing.assert_allclose(f90.table["upper"], upper, rtol=1e-12)
    np.testing.assert_allclose(f90.table["hr_upper"], np.exp(upper), rtol=1e-12)
    assert (f90.table["hr_upper"] < f95.table["hr_upper"]).all()
    assert f90.conf_level == 0.9


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


def test_cox_reference_level_equals_the_refit_with_that_level_first(
    data: dict[str, pd.DataFrame],
) -> None:
    # reference={"group": "B"} must give exactly the fit on a Categorical whose first category
    # is B (R: relevel(group, "B")); the log hazard ratios are those of the default fit
    # re-expressed against B
    sim = data["sim"]
    kw = dict(time="time", event="event", strata="stratum")
    covs = ["x1", "x2", "x3", "group"]
    default = cox(sim, covariates=covs, **kw)
    relevelled = cox(sim, covariates=covs, reference={"group": "B"}, **kw)
    assert list(relevelled.coef.index) == ["x1", "x2", "x3", "group[A]", "group[C]"]
    assert relevelled.levels["group"] == ["B", "A", "C"]
    assert default.levels["group"] == ["A", "B", "C"]
    as_factor = sim.assign(group=pd.Categorical(sim["group"], categories=["B", "A", "C"]))
    refit = cox(as_factor, covariates=covs, **kw)
    pd.testing.assert_frame_equal(relevelled.table, refit.table, check_exact=True)
    b = default.coef
    np.testing.assert_allclose(relevelled.coef["group[A]"], -b["group[B]"], rtol=1e-9)
    np.testing.assert_allclose(
        relevelled.coef["group[C]"], b["group[C]"] - b["group[B]"], rtol=1e-9
    )
    np.testing.assert_allclose(relevelled.loglik, default.loglik, rtol=1e-12)
    np.testing.assert_allclose(relevelled.coef[:3], default.coef[:3], rtol=1e-8)


def test_cox_categorical_keeps_its_category_order(data: dict[str, pd.DataFrame]) -> None:
    # R's factor order: a Categorical's first category is the reference even when it does not
    # sort first (veteran's celltype: squamous, smallcell, adeno, large), and a category with
    # no rows is skipped
    sim = data["sim"]
    cats = pd.Categorical(sim["group"], categories=["unused", "C", "A", "B"])
    fit = cox(sim.assign(group=cats), time="time", event="event", covariates=["x1", "group"])
    assert list(fit.coef.index) == ["x1", "group[A]", "group[B]"]
    same = cox(
        sim, time="time", event="event", covariates=["x1", "group"], reference={"group": "C"}
    )
    pd.testing.assert_frame_equal(fit.table, same.table, check_exact=True)


def test_cox_reference_must_name_a_categorical_covariate_and_a_present_level(
    data: dict[str, pd.DataFrame],
) -> None:
    sim = data["sim"]
    kw = dict(time="time", event="event", covariates=["x1", "group"])
    with pytest.raises(InputError, match="reference level not found") as err:
        cox(sim, reference={"group": "Z"}, **kw)
    assert err.value.column == "group"
    with pytest.raises(InputError, match=r"argument 'reference'.*not covariates"):
        cox(sim, reference={"stratum": "s1"}, **kw)
    with pytest.raises(InputError, match=r"argument 'reference'.*not categorical"):
        cox(sim, reference={"x1": 0.5}, **kw)


@pytest.mark.parametrize(
    ("option", "value"),
    [("conf_level", "0.9"), ("conf_level", 95), ("robust", "no"), ("ties", "exact")],
)
def test_cox_options_are_checked_and_named(
    data: dict[str, pd.DataFrame], option: str, value: object
) -> None:
    # conf_level="0.9" used to pass validation and fail later with a TypeError
    with pytest.raises(InputError, match=f"argument '{option}'"):
        cox(data["rossi"], time="week", event="arrest", covariates=["fin"], **{option: value})


def test_cox_result_does_not_depend_on_the_input_frame(data: dict[str, pd.DataFrame]) -> None:
    sim = data["sim"].copy()
    fit = cox(
        sim,
        time="time",
        event="event",
        covariates=["x1", "group"],
        strata="stratum",
        cluster="cluster",
    )
    table = fit.table.copy()
    vcov = fit.vcov.copy()
    for col in ("time", "x1", "cluster"):
        sim[col] = 1
    sim["event"] = 0
    sim["group"] = "A"
    pd.testing.assert_frame_equal(fit.table, table, check_exact=True)
    pd.testing.assert_frame_equal(fit.vcov, vcov, check_exact=True)
    # the concordance and the PH test are computed after the frame changed
    ref = cox(
        data["sim"],
        time="time",
        event="event",
        covariates=["x1", "group"],
        strata="stratum",
        cluster="cluster",
    )
    assert fit.concordance.estimate == ref.concordance.estimate
    assert fit.concordance.se == ref.concordance.se
    pd.testing.assert_frame_equal(fit.ph_test(), ref.ph_test(), check_exact=True)


def test_cox_repr_is_short_and_summary_shows_the_table(fits: dict[str, CoxResult]) -> None:
    for name, fit in fits.items():
        text = repr(fit)
        assert len(text) < 300 and "\n" not in text, (name, text)
        assert text.startswith("CoxResult(") and "n_events=" in text
        assert "hr_lower" in fit.summary()
        assert len(repr(fit.concordance)) < 300
        assert fit.to_frame() is not fit.to_frame()


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
    with pytest.raises(InputError, match=r"argument 'ties': valid values are 'efron', 'breslow'"):
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
    from evalkit.survival.cox import engine as mod

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
    np.testing.assert_allclose(b.table["statistic"], a.table["statistic"], rtol=1e-6, atol=1e-9)


@PROP
@given(survival_frames(), st.floats(0.01, 100))
def test_cox_time_scale_invariance(case: tuple, c: float) -> None:
    # the partial likelihood depends on times only through their order (and ties)
    df, ties, strata = case
    a = _fit_or_reject(df, ties, strata, robust=True)
    b = _fit_or_reject(df.assign(t=df["t"] * c), ties, strata, robust=True)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-8, atol=1e-14)
    pd.testing.assert_frame_equal(
        a.concordance.to_frame(), b.concordance.to_frame(), check_exact=True
    )
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


# ------------------------------------------------------------------------------------------
# The per-time BLAS path (cox/grouped.py) equals the row-vectorised reference (cox/riskset.py)
# ------------------------------------------------------------------------------------------
def _close_rel(a, b, what: str, tol: float = 1e-10) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    scale = max(1.0, float(np.abs(a).max())) if a.size else 1.0
    assert float(np.max(np.abs(a - b), initial=0.0)) <= tol * scale, what


@st.composite
def tied_designs(draw: st.DrawFn):
    """Sorted rows of random heavily tied data (strata, weights, either ties) and a β."""
    from evalkit.survival.cox.riskset import sort_rows

    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 250))
    p = draw(st.integers(1, 4))
    n_times = draw(st.integers(1, 25))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * draw(st.sampled_from([0.1, 1.0, 5.0]))
    X[:, 0] = rng.integers(0, 2, n)  # a binary column, as a programme indicator
    t = rng.integers(1, n_times + 1, n).astype(float)
    e = rng.random(n) < draw(st.floats(0.05, 1.0))
    e[0] = True
    w = rng.uniform(0.2, 3.0, n) if draw(st.booleans()) else np.ones(n)
    stratum = rng.integers(0, draw(st.integers(1, 3)), n)
    des = sort_rows(X, t, e, w, stratum, draw(st.sampled_from(TIES)))
    return des, rng.normal(size=p) * draw(st.sampled_from([0.0, 0.3, 1.0]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tied_designs(), st.sampled_from([1, 3, 4096]), st.sampled_from([0, 10**9]))
def test_cox_grouped_path_equals_reference_on_tied_data(case, block: int, min_tied: int) -> None:
    # one BLAS product per (block of a) tied time and closed-form Efron sums give the
    # reference's log-likelihood, score, information, risk-set means and robust cross-products
    from unittest import mock

    from evalkit.survival.cox import grouped, robust
    from evalkit.survival.cox.riskset import risk_set_parts, term_means

    des, beta = case
    with (
        mock.patch.object(grouped, "BLOCK", block),
        mock.patch.object(robust, "BLOCK", block),
        mock.patch.object(grouped, "MIN_TIED", min_tied),  # robust blocks within tied times
    ):
        ref = risk_set_parts(des, beta)
        fast = grouped.finish(des, grouped.grouped_parts(des, beta, grouped.layout(des)))
        for name in ("loglik", "U", "imat", "den", "c1", "c2", "r"):
            _close_rel(getattr(ref, name), getattr(fast, name), name)
        np.testing.assert_array_equal(ref.eta, fast.eta)  # identical rows, identical η
        _close_rel(ref.mean, term_means(des, fast), "mean")
        resid = robust.score_residuals(des, ref) * des.w[:, None]
        for parts in (ref, fast):
            ((cross, total),) = robust._crossprod(des, parts)
            _close_rel(resid.T @ resid, cross, "robust cross-product")
            _close_rel(resid.sum(axis=0), total, "residual sums")


def _every_number(fit: CoxResult) -> dict[str, np.ndarray]:
    out = {
        "table": fit.table.to_numpy(),
        "vcov": fit.vcov.to_numpy(),
        "naive_vcov": fit.naive_vcov.to_numpy(),
        "loglik": np.array([fit.loglik, fit.loglik0, fit.iterations]),
        "tests": np.array([t.statistic for t in (fit.lr_test, fit.wald_test, fit.score_test)]),
        "concordance": fit.concordance.to_frame().to_numpy(),
        "ph_test": fit.ph_test().to_numpy(),
    }
    if fit.robust_score_test is not None:
        out["robust_score"] = np.array([fit.robust_score_test.statistic])
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survival_frames(), st.sampled_from([{}, {"robust": True}, {"cluster": "c"}]))
def test_cox_fit_is_the_same_on_the_grouped_and_reference_paths(case: tuple, extra) -> None:
    from unittest import mock

    from evalkit.survival.cox import engine

    df, ties, strata = case
    df = df.assign(c=np.arange(len(df)) // 3)  # clusters of three rows
    fits = []
    for grouped in (False, True):
        with mock.patch.object(engine, "use_grouped", lambda des, g=grouped: g):
            fits.append(_fit_or_reject(df, ties, strata, **extra))
    ref, fast = (_every_number(f) for f in fits)
    assert ref.keys() == fast.keys()
    for key in ref:
        _close_rel(ref[key], fast[key], key)
