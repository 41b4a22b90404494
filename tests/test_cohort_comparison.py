"""compare_cohorts: the baseline model against R's glm, the intervals' coverage by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_matches_r, expected, reference_data

from evalkit.cohort_comparison import compare_cohorts
from evalkit.errors import InputError

COVS = ["age", "prior_offences", "sex", "area"]


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    df = reference_data("cohorts_sim.csv")
    df["area"] = pd.Categorical(df["area"], categories=["north", "south", "east"])
    return df


@pytest.fixture(scope="module")
def result(sim: pd.DataFrame):
    return compare_cohorts(sim, covariates=COVS)


def test_baseline_model_matches_R_glm(result) -> None:
    # cohorts_reference.R: glm(reoffended ~ age + prior_offences + sex + area, binomial) on the
    # "before" cohort; area's levels north, south, east (north the reference)
    ref = expected("cohorts_coef.csv").set_index("term")
    got = result.coefficients
    assert list(got.index) == list(ref.index)
    for col in ("estimate", "se", "statistic", "p"):
        assert_matches_r(got[col], ref[col], f"baseline model {col}")


def test_expected_rate_and_its_delta_method_variance_match_R(result) -> None:
    # cohorts_reference.R: mean(predict(fit, after, "response")) and g' V g, g the mean of
    # p (1 - p) x over the after cohort
    ref = expected("cohorts_summary.csv").set_index("quantity")["value"]
    table = result.to_frame().set_index("measure")
    assert_matches_r(table.loc["observed", "estimate"], ref["observed"], "observed")
    assert_matches_r(table.loc["expected", "estimate"], ref["expected"], "expected")
    assert_matches_r(table.loc["expected", "se"] ** 2, ref["var_expected"], "Var(expected)")
    assert_matches_r(
        table.loc["adjusted difference", "estimate"], ref["adjusted_difference"], "O - E"
    )
    assert_matches_r(
        table.loc["adjusted difference", "se"], ref["se_adjusted_difference"], "se(O - E)"
    )
    assert_matches_r(table.loc["adjusted ratio", "estimate"], ref["adjusted_ratio"], "O / E")
    assert_matches_r(table.loc["adjusted ratio", "se"], ref["se_log_ratio"], "se log(O / E)")


def test_unadjusted_difference_is_newcombes(result, sim: pd.DataFrame) -> None:
    from evalkit import rate_difference

    a = sim[sim["cohort_period"] == "after"]["reoffended"]
    b = sim[sim["cohort_period"] == "before"]["reoffended"]
    rd = rate_difference(int(a.sum()), len(a), int(b.sum()), len(b))
    row = result.row("unadjusted difference")
    assert (row["estimate"], row["lower"], row["upper"]) == pytest.approx(
        (float(rd.estimate), float(rd.lower), float(rd.upper)), rel=1e-12
    )


def test_difference_in_differences_with_a_comparison_population(sim: pd.DataFrame) -> None:
    res = compare_cohorts(sim, covariates=COVS, comparison=(260, 1000, 250, 1000))
    row = res.row("difference in differences")
    a = sim.groupby("cohort_period")["reoffended"].agg(["sum", "count"])
    change = a.loc["after", "sum"] / a.loc["after", "count"] - (
        a.loc["before", "sum"] / a.loc["before", "count"]
    )
    assert row["estimate"] == pytest.approx(change - (0.25 - 0.26))
    assert row["lower"] < row["estimate"] < row["upper"]


def test_case_mix_change_alone_is_not_an_effect() -> None:
    # the later cohort is riskier (more prior offences) but the model is unchanged: the
    # unadjusted rate rises, the adjusted difference stays near zero
    rng = np.random.default_rng(5)
    n = 20_000
    period = np.repeat(["before", "after"], n // 2)
    prior = rng.poisson(np.where(period == "after", 9, 5))
    p = 1 / (1 + np.exp(-(-2 + 0.2 * prior)))
    df = pd.DataFrame({"cohort_period": period, "prior": prior, "reoffended": rng.binomial(1, p)})
    res = compare_cohorts(df, covariates=["prior"])
    assert res.row("unadjusted difference")["lower"] > 0.05
    adj = res.row("adjusted difference")
    assert adj["lower"] < 0 < adj["upper"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"before": "baseline"}, "no rows labelled before='baseline'"),
        ({"conf_level": "0.9"}, "argument 'conf_level'"),
        ({"comparison": (1, 2, 3)}, "argument 'comparison'"),
        ({"covariates": ["age", "age"]}, "argument 'covariates'"),
    ],
)
def test_bad_input_is_refused(sim: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        compare_cohorts(sim, **{"covariates": COVS, **kwargs})


def test_a_third_cohort_is_refused(sim: pd.DataFrame) -> None:
    df = sim.copy()
    df.loc[df.index[:5], "cohort_period"] = "pilot"
    with pytest.raises(InputError, match="only the two cohorts"):
        compare_cohorts(df, covariates=COVS)


@pytest.mark.slow
def test_adjusted_difference_interval_covers_the_truth() -> None:
    """Simulation with known truth: 1,000 replications (seed 20261130). The target is the
    later cohort's mean change in risk, (1/n) Σ [expit(x_i'β + δ) − expit(x_i'β)], from the
    true β."""
    rng = np.random.default_rng(20261130)
    reps, n, delta = 1000, 2000, -0.3
    beta = np.array([-1.0, 0.15])
    covered = 0
    for _ in range(reps):
        prior = rng.poisson(5, n)
        period = np.repeat(["before", "after"], n // 2)
        after = period == "after"
        eta = beta[0] + beta[1] * prior
        y = rng.binomial(1, 1 / (1 + np.exp(-(eta + delta * after))))
        truth = float(
            np.mean(1 / (1 + np.exp(-(eta[after] + delta))) - 1 / (1 + np.exp(-eta[after])))
        )
        df = pd.DataFrame({"cohort_period": period, "prior": prior, "reoffended": y})
        row = compare_cohorts(df, covariates=["prior"]).row("adjusted difference")
        covered += int(row["lower"] <= truth <= row["upper"])
    coverage = covered / reps
    mc_error = np.sqrt(0.95 * 0.05 / reps)  # 0.0069
    print(f"coverage {coverage:.3f} (Monte Carlo error {mc_error:.4f})")
    assert abs(coverage - 0.95) < 3 * mc_error, coverage
