"""Tests of counting-process ``(start, stop]`` data in evalkit's Cox model (``cox(start=)``).

Reference values: tests/reference/expected/cox_counting_{coef,fit,zph}.csv, written by
tests/reference/cox_counting_reference.R (R 4.2.2, survival 3.5.3) from
tests/reference/data/cox_counting.csv: 600 people referred to a programme, 60% of whom engage
5–60 days later; the time-varying covariate ``engaged`` switches from 0 to 1 at engagement, so
engaged people have two rows, (0, engage] and (engage, stop]. The ``delayed`` model drops the
first row of the people who engaged: they enter the study at engagement (left truncation).
The R call behind each model is in ``MODELS`` and is repeated in the test ids. Tolerance:
1e-6 relative, the project's standard for R output (the implementation agrees to about 1e-12).
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
from evalkit.survival import TIES, CoxResult, cox

COVS = ["engaged", "age", "prior"]
R_FORMULA = "Surv(start, stop, event) ~ engaged + age + prior"

# model -> (data set, keyword arguments of evalkit.cox besides time/start/event/covariates, R call)
MODELS: dict[str, tuple[str, dict, str]] = {
    "efron": ("long", {}, f'coxph({R_FORMULA}, long, ties = "efron")'),
    "breslow": ("long", dict(ties="breslow"), f'coxph({R_FORMULA}, long, ties = "breslow")'),
    "robust": ("long", dict(cluster="id"), f"coxph({R_FORMULA}, long, cluster = id)"),
    "strata": (
        "long",
        dict(strata="area"),
        f"coxph({R_FORMULA} + strata(area), long)",
    ),
    "breslow_robust": (
        "long",
        dict(ties="breslow", cluster="id"),
        f'coxph({R_FORMULA}, long, ties = "breslow", cluster = id)',
    ),
    "weighted": (
        "long",
        dict(weights="w", cluster="id"),
        f"coxph({R_FORMULA}, long, weights = w, cluster = id)",
    ),
    "frequency": (
        "long",
        dict(weights="k", strata="area"),
        f"coxph({R_FORMULA} + strata(area), long, weights = k)",
    ),
    "delayed": ("late", {}, f"coxph({R_FORMULA}, late)"),
}
ROBUST = ["robust", "breslow_robust", "weighted"]
ZPH_MODELS = ["efron", "breslow", "strata", "frequency", "delayed"]


def _ids(models: list[str]) -> list[str]:
    return [f"{m}: {MODELS[m][2]}" for m in models]


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    long = reference_data("cox_counting.csv")
    # R: late <- long[!(long$start == 0 & duplicated(long$id, fromLast = TRUE)), ]
    late = long[~((long["start"] == 0) & long["id"].duplicated(keep="last"))]
    return {"long": long, "late": late.reset_index(drop=True)}


@pytest.fixture(scope="module")
def fits(data: dict[str, pd.DataFrame]) -> dict[str, CoxResult]:
    return {
        m: cox(data[ds], time="stop", start="start", event="event", covariates=COVS, **kw)
        for m, (ds, kw, _) in MODELS.items()
    }


# ------------------------------------------------------------------------------------------
# Against R
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_counting_coefficients_and_se_against_R(model: str, fits: dict[str, CoxResult]) -> None:
    # cox_counting_coef.csv: estimate = coef(fit); se = sqrt(diag(fit$naive.var or fit$var));
    # robust_se = sqrt(diag(fit$var)) for robust fits; statistic = coef / se used; p two-sided
    ref = expected("cox_counting_coef.csv").query("model == @model").set_index("term")
    fit = fits[model]
    assert list(fit.coef.index) == list(ref.index)
    assert_matches_r(fit.coef, ref["estimate"], "estimate", atol=0)
    assert_matches_r(np.sqrt(np.diag(fit.naive_vcov)), ref["se"], "naive se", atol=0)
    if model in ROBUST:
        assert fit.robust and fit.robust_vcov is not None
        assert_matches_r(fit.table["se"], ref["robust_se"], "robust se", atol=0)
    else:
        assert ref["robust_se"].isna().all()
        assert fit.robust_vcov is None
    assert_matches_r(fit.table["statistic"], ref["statistic"], "statistic", atol=0)
    assert_matches_r(fit.table["p"], ref["p"], "p", atol=0)


@pytest.mark.parametrize("model", list(MODELS), ids=_ids(list(MODELS)))
def test_counting_tests_loglik_concordance_against_R(
    model: str, fits: dict[str, CoxResult]
) -> None:
    # cox_counting_fit.csv: fit$loglik, fit$n, fit$nevent, fit$iter, fit$score, fit$wald.test,
    # 2 diff(fit$loglik), fit$rscore, fit$concordance (estimate, std and the pair counts)
    ref = expected("cox_counting_fit.csv").set_index("model").loc[model]
    fit = fits[model]
    assert (fit.n, fit.n_events, fit.iterations) == (ref["n"], ref["nevent"], ref["iter"])
    assert_matches_r([fit.loglik0, fit.loglik], [ref.loglik0, ref.loglik], "loglik", atol=0)
    assert_matches_r(fit.lr_test.statistic, ref["lr"], "LR test", atol=0)
    assert_matches_r(fit.score_test.statistic, ref["score"], "score test", atol=0)
    assert_matches_r(fit.wald_test.statistic, ref["wald"], "Wald test", atol=0)
    if model in ROBUST:
        assert fit.robust_score_test is not None
        assert_matches_r(fit.robust_score_test.statistic, ref["rscore"], "robust score", atol=0)
    else:
        assert fit.robust_score_test is None and np.isnan(ref["rscore"])
    c = fit.concordance
    assert_matches_r(c.estimate, ref["concordance"], "concordance", atol=0)
    assert_matches_r(c.se, ref["concordance_se"], "concordance se", atol=0)
    counts = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    assert_matches_r(
        counts, ref[["concordant", "discordant", "tied_x", "tied_y", "tied_xy"]], "pair counts"
    )


@pytest.mark.parametrize("transform", ["km", "identity", "rank", "log"])
@pytest.mark.parametrize("model", ZPH_MODELS, ids=_ids(ZPH_MODELS))
def test_counting_ph_test_against_R(model: str, transform: str, fits: dict[str, CoxResult]) -> None:
    # cox_counting_zph.csv: cox.zph(fit, transform = transform)$table (survival's zph2)
    ref = (
        expected("cox_counting_zph.csv")
        .query("model == @model and transform == @transform")
        .set_index("term")
    )
    got = fits[model].ph_test(transform)
    assert list(got.index) == list(ref.index)
    assert_matches_r(got["statistic"], ref["chisq"], "chisq", atol=0)
    np.testing.assert_array_equal(got["df"], ref["df"])
    assert_matches_r(got["p"], ref["p"], "p", atol=0)


# ------------------------------------------------------------------------------------------
# Delayed entry and input checks
# ------------------------------------------------------------------------------------------
def test_delayed_entry_uses_only_rows_already_in_follow_up() -> None:
    # Four people; events at t = 2 (a) and t = 6 (c). b enters at 3, so it is not at risk at
    # t = 2; d leaves at 5. Partial likelihood by hand (Therneau & Grambsch 2000, sec. 3.7):
    #   t = 2: {a, c, d}; t = 6: {b, c}
    df = pd.DataFrame(
        {
            "start": [0.0, 3.0, 0.0, 0.0],
            "stop": [2.0, 8.0, 6.0, 5.0],
            "event": [1, 0, 1, 0],
            "x": [1.0, 2.0, 0.0, 3.0],
        }
    )
    fit = cox(df, time="stop", start="start", event="event", covariates=["x"])
    b = fit.coef["x"]
    r = np.exp(b * df["x"].to_numpy())
    by_hand = np.log(r[0] / (r[0] + r[2] + r[3])) + np.log(r[2] / (r[1] + r[2]))
    np.testing.assert_allclose(fit.loglik, by_hand, rtol=1e-12)
    # loglik0: log(1/3) + log(1/2); ignoring the delayed entry would give log(1/4) + log(1/2)
    np.testing.assert_allclose(fit.loglik0, np.log(1 / 3) + np.log(1 / 2), rtol=1e-14)
    right_censored = cox(df, time="stop", event="event", covariates=["x"])
    np.testing.assert_allclose(right_censored.loglik0, np.log(1 / 4) + np.log(1 / 2), rtol=1e-14)


def test_delayed_entry_against_R_changes_the_fit(fits: dict[str, CoxResult]) -> None:
    # the left-truncated data differ from the split data only in the dropped (0, engage] rows
    assert fits["delayed"].n == 600 and fits["efron"].n == 901
    assert not np.allclose(fits["delayed"].coef, fits["efron"].coef, rtol=1e-3)


def test_start_before_every_event_equals_the_right_censored_fit() -> None:
    rossi = reference_data("rossi.csv")
    covs = ["fin", "age", "prio"]
    a = cox(rossi, time="week", event="arrest", covariates=covs, robust=True)
    b = cox(rossi.assign(s=-1.5), time="week", start="s", event="arrest", covariates=covs,
            robust=True)  # fmt: skip
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-10)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-14)
    assert a.concordance.to_frame().equals(b.concordance.to_frame())
    np.testing.assert_allclose(a.ph_test()["statistic"], b.ph_test()["statistic"], rtol=1e-10)


def test_start_not_before_stop_is_refused_naming_the_rows(data: dict[str, pd.DataFrame]) -> None:
    df = data["long"].copy()
    df.loc[[4, 9], "start"] = df.loc[[4, 9], "stop"]  # empty interval (t, t]
    df.loc[12, "start"] = df.loc[12, "stop"] + 1.0  # start after stop
    with pytest.raises(InputError, match=r"column 'start'.*must be less than 'stop'") as err:
        cox(df, time="stop", start="start", event="event", covariates=COVS)
    assert err.value.column == "start"
    assert err.value.rows == [4, 9, 12]
    assert err.value.positions == [4, 9, 12]


def test_start_column_checks(data: dict[str, pd.DataFrame]) -> None:
    df = data["long"]
    kw = dict(time="stop", event="event", covariates=COVS)
    with pytest.raises(InputError, match="'entry'"):
        cox(df, start="entry", **kw)
    bad = df.astype({"start": float})
    bad.loc[3, "start"] = np.nan
    with pytest.raises(InputError, match="missing") as err:
        cox(bad, start="start", **kw)
    assert err.value.rows == [3]
    bad.loc[3, "start"] = -np.inf
    with pytest.raises(InputError, match="finite"):
        cox(bad, start="start", **kw)
    with pytest.raises(InputError, match="numeric"):
        cox(df.assign(start=df["start"].astype(str) + "d"), start="start", **kw)
    with pytest.raises(InputError, match="argument 'start'"):
        cox(df, start="stop", **kw)
    with pytest.raises(InputError, match="time or event"):
        cox(df, time="stop", event="event", start="start", covariates=["engaged", "start"])
    with pytest.raises(InputError, match="no events"):
        cox(df.assign(event=0), start="start", **kw)


def test_negative_times_are_allowed_with_start_and_only_differences_matter(
    data: dict[str, pd.DataFrame], fits: dict[str, CoxResult]
) -> None:
    # days relative to engagement or to any index date: shift every time by -100
    df = data["long"].assign(start=lambda d: d["start"] - 100, stop=lambda d: d["stop"] - 100)
    fit = cox(df, time="stop", start="start", event="event", covariates=COVS, cluster="id")
    ref = fits["robust"]
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-12)
    np.testing.assert_allclose(fit.vcov, ref.vcov, rtol=1e-10)
    assert fit.concordance.estimate == ref.concordance.estimate
    np.testing.assert_allclose(
        fit.ph_test("km")["statistic"], ref.ph_test("km")["statistic"], rtol=1e-10
    )
    # without start negative times are still refused (follow-up time since entry)
    with pytest.raises(InputError, match="negative"):
        cox(df, time="stop", event="event", covariates=COVS)
    with pytest.raises(InputError, match="'log' needs all times > 0"):
        fit.ph_test("log")


def test_counting_result_is_independent_of_the_input_frame(data: dict[str, pd.DataFrame]) -> None:
    df = data["long"].copy()
    fit = cox(df, time="stop", start="start", event="event", covariates=COVS, cluster="id")
    table, conc = fit.table.copy(), fit.concordance.to_frame()
    df.loc[:, "start"] = 0.0
    df.loc[:, "engaged"] = 1 - df["engaged"]
    pd.testing.assert_frame_equal(fit.table, table)
    pd.testing.assert_frame_equal(fit.concordance.to_frame(), conc)


# ------------------------------------------------------------------------------------------
# Property: splitting follow-up without changing covariates changes nothing
# ------------------------------------------------------------------------------------------
@st.composite
def split_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A right-censored data set and the same people with follow-up split at random cuts."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(25, 90))
    n_times = draw(st.integers(3, 30))  # few distinct times: heavy ties
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "t": rng.integers(1, n_times + 1, n).astype(float),
            "e": (rng.random(n) < 0.6).astype(int),
            "x1": rng.normal(size=n),
            "x2": (rng.random(n) < 0.4).astype(float),
            "s": rng.integers(0, 2, n),
            "w": rng.uniform(0.5, 2.0, n).round(3),
        }
    )
    # cut points anywhere in (0, t), often on event times (integers) and sometimes between
    n_cuts = rng.integers(0, 4, n)
    person = np.repeat(np.arange(n), n_cuts)
    u = rng.random(person.size) * df["t"].to_numpy()[person]
    cuts = np.where(rng.random(person.size) < 0.5, np.ceil(u) - 1.0, u.round(2))
    keep = (cuts > 0) & (cuts < df["t"].to_numpy()[person])
    cut = pd.DataFrame({"id": person[keep], "stop": cuts[keep]}).drop_duplicates()
    ends = pd.DataFrame({"id": df["id"], "stop": df["t"]})
    pieces = pd.concat([cut, ends]).sort_values(["id", "stop"], kind="stable")
    pieces["start"] = pieces.groupby("id")["stop"].shift(fill_value=0.0)
    long = pieces.merge(df, on="id")
    long["e"] = np.where(long["stop"] == long["t"], long["e"], 0)
    long = long.sample(frac=1.0, random_state=seed % 1000)  # row order must not matter
    options = dict(
        ties=draw(st.sampled_from(TIES)),
        strata="s" if draw(st.booleans()) else None,
        weights="w" if draw(st.booleans()) else None,
    )
    return df, long.reset_index(drop=True), options


def _fit(df: pd.DataFrame, **kw) -> CoxResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        try:
            return cox(df, event="e", covariates=["x1", "x2"], **kw)
        except (StatisticalWarning, InputError, ConvergenceError):
            assume(False)
            raise  # unreachable


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_cases())
def test_splitting_follow_up_gives_the_unsplit_fit(case: tuple) -> None:
    df, long, options = case
    a = _fit(df, time="t", robust=True, **options)
    b = _fit(long, time="stop", start="start", cluster="id", **options)
    assert b.n == len(long) and a.n_events == b.n_events
    assert a.iterations == b.iterations
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.naive_vcov, a.naive_vcov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.robust_vcov, a.robust_vcov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.table["se"], a.table["se"], rtol=1e-10)
    np.testing.assert_allclose([b.loglik0, b.loglik], [a.loglik0, a.loglik], rtol=1e-10)
    for test in ["lr_test", "score_test", "wald_test", "robust_score_test"]:
        np.testing.assert_allclose(
            getattr(b, test).statistic, getattr(a, test).statistic, rtol=1e-9, err_msg=test
        )
    # concordance: each event meets the same people at risk; the IJ se sums within people
    np.testing.assert_allclose(b.concordance.estimate, a.concordance.estimate, rtol=1e-12)
    np.testing.assert_allclose(b.concordance.se, a.concordance.se, rtol=1e-9)
    # cox.zph with g(t) = t or the KM transform (rank would rank the extra rows' stop times)
    for transform in ["identity", "km"]:
        np.testing.assert_allclose(
            b.ph_test(transform)["statistic"], a.ph_test(transform)["statistic"], rtol=1e-8
        )


def test_splitting_with_many_strata_and_distinct_times() -> None:
    # exercises the paths for large (stratum × time) key spaces (no look-up table) and for
    # more than 2^15 event groups (no 16-bit radix sort); robust and concordance included
    rng = np.random.default_rng(11)
    n = 60_000
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "t": rng.random(n).round(7) + 0.5,
            "e": (rng.random(n) < 0.65).astype(int),
            "x": rng.normal(size=n),
            "b": (rng.random(n) < 0.3).astype(float),
            "s": rng.integers(0, 20_000, n),
        }
    )
    cut = (rng.random(n) * df["t"]).round(3)
    cut = cut.where((cut > 0) & (cut < df["t"]), df["t"] / 2)
    first = df.assign(start=0.0, stop=cut, e=0)
    long = pd.concat([first, df.assign(start=cut, stop=df["t"])], ignore_index=True)
    kw = dict(event="e", covariates=["x", "b"], strata="s")
    a = cox(df, time="t", robust=True, **kw)
    b = cox(long, time="stop", start="start", cluster="id", **kw)
    assert b.n == 2 * n and a.n_events > 2**15
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10)
    np.testing.assert_allclose(b.naive_vcov, a.naive_vcov, rtol=1e-10)
    np.testing.assert_allclose(b.robust_vcov, a.robust_vcov, rtol=1e-10)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-12)
    np.testing.assert_allclose(b.concordance.estimate, a.concordance.estimate, rtol=1e-12)
    np.testing.assert_allclose(b.concordance.se, a.concordance.se, rtol=1e-9)
