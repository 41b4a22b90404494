"""Before/after designs: interrupted time series and difference in differences.

:func:`its` fits a segmented (interrupted time series, ITS) regression to one series of counts —
monthly arrests, admissions, people continuing treatment — and reports the change in level at
the interruption, optionally the change in slope, the pre-intervention (counterfactual) trend and
the effect at the end of the series, all as rate ratios. :func:`did` compares the before/after
change in an intervention group with the change in a comparison group (difference in
differences, DiD) with cluster-robust standard errors and a test of differential pre-trends.

Both are GLMs: statsmodels IRLS for the Poisson and negative binomial fits, least squares on
cell sums for the gaussian DiD. Verification (``tests/test_timeseries.py``): R reference
values (``glm``, ``MASS::glm.nb``, ``sandwich::NeweyWest``, ``sandwich::vcovCL``) on committed
data agree to 1e-6 relative; the smoking-ban example of Lopez Bernal, Cummins & Gasparrini (2017)
is reproduced; simulations with known level and slope changes check bias and coverage.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special, stats
from statsmodels.stats import sandwich_covariance as sw
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from evalkit._results import Estimate, TestResult
from evalkit.errors import ConvergenceError, DesignError, InputError, StatisticalWarning
from evalkit.schema import (
    check_choice,
    check_covariates,
    check_frame,
    check_level,
    check_no_missing,
    check_numeric,
    check_positive,
    require_columns,
    row_ids,
)

__all__ = [
    "DID_FAMILIES",
    "ITS_FAMILIES",
    "MIN_POINTS_PER_SEGMENT",
    "DiDResult",
    "ITSResult",
    "did",
    "its",
]

#: Valid ``family`` values of :func:`its`; the first is the default.
ITS_FAMILIES: tuple[str, ...] = ("poisson", "quasipoisson", "negbin")
#: Valid ``family`` values of :func:`did`; the first is the default.
DID_FAMILIES: tuple[str, ...] = ("gaussian", "poisson")
#: :func:`its` needs at least this many time points before and after the interruption.
MIN_POINTS_PER_SEGMENT = 3
#: :func:`did` warns when there are fewer clusters than this (cluster-robust SEs too small).
FEW_CLUSTERS = 20

_GLM_MAXITER = 100
# IRLS stops when successive coefficient vectors agree to 1e-10 (absolute + relative). IRLS
# converges quadratically, so the returned estimate is then accurate to rounding; a criterion
# on the deviance instead can stall on its rounding noise (large deviances, or NB with θ → ∞).
_GLM_FIT: dict[str, Any] = {
    "tol": 1e-10,
    "rtol": 1e-10,
    "tol_criterion": "params",
    "maxiter": _GLM_MAXITER,
}
# Okabe & Ito (2008) colour-blind-safe colours (the same as evalkit.report.figures.PALETTE).
_BLUE, _VERMILLION, _GREY = "#0072B2", "#D55E00", "#555555"


# --------------------------------------------------------------------------------------------
# shared validation
# --------------------------------------------------------------------------------------------


def _check_binary(df: pd.DataFrame, column: str, rule: str) -> np.ndarray:
    """A 0/1 (or boolean) column without missing values, as int64."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s):
        check_no_missing(df, column)
        return s.to_numpy(dtype=np.int64)
    values = check_numeric(df, column)
    bad = (values != 0) & (values != 1)
    if bad.any():
        raise InputError(column, rule, row_ids(df, bad), table="data")
    return values.astype(np.int64)


def _time_index(df: pd.DataFrame, column: str) -> tuple[np.ndarray, bool, pd.Series]:
    """Numeric time, or a month index ``12·year + month`` for dates and monthly periods.

    Returns the index (float64), whether it is a month index, and the values to plot against.
    """
    s = df[column]
    if isinstance(s.dtype, pd.PeriodDtype):
        if not s.dtype.freq.freqstr.startswith("M"):
            raise InputError(
                column,
                f"periods must be monthly (freq 'M'), got {s.dtype.freq.freqstr!r}; "
                "use an integer time index for other frequencies",
                table="data",
            )
        check_no_missing(df, column)
        idx = (s.dt.year * 12 + s.dt.month).to_numpy(dtype=float)
        return idx, True, s.dt.to_timestamp()
    if pd.api.types.is_datetime64_any_dtype(s):
        check_no_missing(df, column)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        idx = (s.dt.year * 12 + s.dt.month).to_numpy(dtype=float)
        return idx, True, s
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise InputError(
            column,
            f"must be numeric (e.g. 1, 2, 3, …), datetimes or monthly periods, but has dtype "
            f"{s.dtype}; convert text dates with pandas.to_datetime first",
            table="data",
        )
    return check_numeric(df, column), False, s


def _check_unique_times(df: pd.DataFrame, column: str, t: np.ndarray, months: bool) -> None:
    dup = pd.Series(t).duplicated(keep=False).to_numpy()
    if dup.any():
        how = " (dates are converted to calendar months: one row per month)" if months else ""
        raise InputError(column, f"has duplicate time points{how}", row_ids(df, dup), table="data")


def _check_switch_once(
    df: pd.DataFrame, post_col: str, post: np.ndarray, t: np.ndarray, shown: pd.Series
) -> None:
    """``post`` must be 0 before the first time with post = 1 and 1 from that time on."""
    if not (post == 1).any() or not (post == 0).any():
        n1 = int((post == 1).sum())
        raise DesignError(
            f"column '{post_col}' must have rows before (0) and after (1) the interruption; "
            f"it has {len(post) - n1} rows with 0 and {n1} with 1"
        )
    t_switch = t[post == 1].min()
    bad = (post == 0) & (t >= t_switch)
    if bad.any():
        first = shown.to_numpy()[post == 1][np.argmin(t[post == 1])]
        raise InputError(
            post_col,
            "must switch once from 0 to 1 in time order (0 before the interruption, 1 from it "
            f"on), but these rows have 0 at or after the first 1 (at time {first})",
            row_ids(df, bad),
            table="data",
        )


def _wald_table(
    coef: np.ndarray, se: np.ndarray, crit: float, df_inf: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wald limits (coef ∓ crit·se) and two-sided p from t(df_inf) or, if infinite, N(0, 1)."""
    stat = _ratio(coef, se)
    if math.isfinite(df_inf):
        p = 2.0 * stats.t.sf(np.abs(stat), df_inf)
    else:
        p = 2.0 * stats.norm.sf(np.abs(stat))
    return coef - crit * se, coef + crit * se, p


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


def _critical(conf_level: float, df_inf: float) -> float:
    q = 0.5 + conf_level / 2.0
    return float(stats.t.ppf(q, df_inf) if math.isfinite(df_inf) else stats.norm.ppf(q))


def _check_fit(res: Any, what: str) -> None:
    if not bool(getattr(res, "converged", True)):
        raise ConvergenceError(f"the {what} fit did not converge in {_GLM_MAXITER} iterations")
    if not np.all(np.isfinite(res.params)):
        raise ConvergenceError(f"the {what} fit gave non-finite coefficients")


def _check_rank(X: np.ndarray, names: list[str], what: str) -> None:
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise DesignError(
            f"the {what} design is collinear (rank {rank} < {X.shape[1]} terms: "
            f"{', '.join(names)}); remove harmonics or covariates, or add time points"
        )


# --------------------------------------------------------------------------------------------
# interrupted time series
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ITSResult:
    """Result of :func:`its`.

    Attributes
    ----------
    table
        Rate ratios, indexed by ``term``; columns ``rr, lower, upper, p`` (Wald on the log
        scale). Rows, in order:

        * ``level_change``: rate ratio, fitted over counterfactual, at the first
          post-intervention time point;
        * ``slope_change`` (only with ``slope_change=True``): ratio by which the trend per time
          unit changes after the interruption;
        * ``trend``: rate ratio per time unit before the interruption — the counterfactual
          trend;
        * ``post_trend`` (only with ``slope_change=True``): trend per time unit after it
          (``trend × slope_change``);
        * ``effect_at_end``: rate ratio, fitted over counterfactual, at the last time point
          (delta method); equal to ``level_change`` without a slope change.
    coefficients
        Every model coefficient on the log scale, indexed by ``term`` (``intercept, post,
        trend, slope, sin1, cos1, …``); columns ``coef, se, z, p``. ``se`` is the Newey–West
        SE when ``hac_lags`` was given.
    cov
        Covariance matrix of ``coefficients`` (DataFrame indexed by term both ways).
    fitted
        One row per time point in time order: ``time`` (as given), ``post``, ``observed``,
        ``exposure`` (1 without an exposure column), ``fitted`` and ``counterfactual`` (expected
        counts with the intervention terms set to zero), and ``pearson_resid`` (for checking
        autocorrelation, e.g. with ``statsmodels.graphics.tsaplots.plot_acf``).
    family
        ``"poisson"``, ``"quasipoisson"`` or ``"negbin"``.
    dispersion
        Scale of the model-based SEs: 1 for Poisson and negative binomial, Pearson χ²/(n − p)
        for quasi-Poisson (it cancels in Newey–West SEs).
    alpha
        Negative binomial (NB2) overdispersion, Var = μ + α·μ² (R's ``theta`` is 1/α); NaN for
        the Poisson families.
    n_pre, n_post
        Number of time points before and after the interruption.
    time_unit
        ``"month"`` when time was given as dates or monthly periods, else ``"time unit"``.
    interruption
        The first post-intervention time point (as given).
    hac_lags
        Newey–West lags, or ``None`` for model-based SEs.
    harmonics, period, slope_change, exposure, conf_level
        The options used.
    deviance, df_resid
        Residual deviance and residual degrees of freedom (n − number of coefficients).
    """

    table: pd.DataFrame
    coefficients: pd.DataFrame
    cov: pd.DataFrame
    fitted: pd.DataFrame
    family: str
    dispersion: float
    alpha: float
    n_pre: int
    n_post: int
    time_unit: str
    interruption: Any
    hac_lags: int | None
    harmonics: int
    period: float
    slope_change: bool
    exposure: str | None
    conf_level: float
    deviance: float
    df_resid: int

    def to_frame(self) -> pd.DataFrame:
        """The rate-ratio table with ``term`` as a column."""
        return self.table.reset_index()

    def _repr_html_(self) -> str:
        return self.table.to_html()

    @property
    def alt_text(self) -> str:
        """A plain-language description of :meth:`plot`, for use as the chart's alt text."""
        level = self.table.loc["level_change"]
        end = self.table.loc["effect_at_end"]
        what = "rate" if self.exposure is not None else "count"
        when = self.interruption
        if self.time_unit == "month" and hasattr(when, "strftime"):
            when = when.strftime("%B %Y")
        return (
            f"Interrupted time series of the {what} over {self.n_pre + self.n_post} "
            f"{self.time_unit}s, {self.n_pre} before and {self.n_post} after the interruption "
            f"at {when}. Dots show observed values, a solid line the fitted "
            "model and a dashed line the counterfactual trend without the intervention. "
            f"The fitted {what} was {level['rr']:.2f} times the counterfactual at the "
            f"interruption ({100 * self.conf_level:g}% CI {level['lower']:.2f} to "
            f"{level['upper']:.2f}) and {end['rr']:.2f} times at the end of the series "
            f"({end['lower']:.2f} to {end['upper']:.2f})."
        )

    def plot(self, ax: Any = None, *, per: float | None = None) -> Any:
        """Observed values, fitted model and counterfactual; returns the matplotlib axes.

        With an exposure column the rates per ``per`` units of exposure are shown (default
        100,000), otherwise counts. Colours are Okabe–Ito (blue fitted line, vermillion dashed
        counterfactual) and the lines also differ in style, so the chart reads in greyscale;
        :attr:`alt_text` describes it for screen readers.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        f = self.fitted
        if self.exposure is not None:
            scale = (100_000.0 if per is None else float(per)) / f["exposure"].to_numpy()
            ylabel = f"Rate per {100_000.0 if per is None else per:,.0f}"
        else:
            scale = np.ones(len(f))
            ylabel = "Count"
        x = f["time"]
        after = (f["post"] == 1).to_numpy()
        ax.scatter(x, f["observed"] * scale, s=14, color=_GREY, label="observed", zorder=3)
        ax.plot(x, f["fitted"] * scale, color=_BLUE, linestyle="-", label="fitted")
        cf = after.copy()
        cf[max(int(np.argmax(after)) - 1, 0)] = True  # start the dashed line at the last pre point
        ax.plot(
            x[cf],
            (f["counterfactual"] * scale)[cf],
            color=_VERMILLION,
            linestyle="--",
            label="counterfactual (no intervention)",
        )
        ax.axvline(self.interruption, color=_GREY, linestyle=":", linewidth=1.0)
        ax.set_xlabel("Month" if self.time_unit == "month" else "Time")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.legend(loc="best")
        ax.set_title("Interrupted time series")
        return ax


def _its_design(
    t: np.ndarray, post: np.ndarray, harmonics: int, period: float, slope: bool
) -> tuple[np.ndarray, list[str]]:
    t_first_post = t[post == 1].min()
    trend = t - t_first_post
    cols = [np.ones_like(t), post.astype(float), trend]
    names = ["intercept", "post", "trend"]
    if slope:
        cols.append(post * trend)
        names.append("slope")
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * t / period), np.cos(2 * np.pi * k * t / period)]
        names += [f"sin{k}", f"cos{k}"]
    return np.column_stack(cols), names


def _nb_theta_score(theta: float, y: np.ndarray, mu: np.ndarray) -> float:
    """∂ℓ/∂θ of the NB2 log-likelihood at fixed μ (θ = 1/α; Lawless 1987, eq. 2.4)."""
    return float(
        np.sum(
            special.digamma(theta + y)
            - special.digamma(theta)
            + np.log(theta)
            + 1.0
            - np.log(theta + mu)
            - (y + theta) / (mu + theta)
        )
    )


def _fit_negbin(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, start: np.ndarray
) -> tuple[Any, float]:
    """NB2 maximum likelihood by profiling α out: root of the profile score in log θ.

    At each θ the coefficients are the GLM (IRLS) fit with the negative binomial family of known
    θ; by the envelope theorem the derivative of the profile log-likelihood is the partial
    derivative ∂ℓ/∂θ at those coefficients. Same estimator as ``MASS::glm.nb``.
    """
    state = {"params": start}

    def glm_at(theta: float) -> Any:
        fam = sm.families.NegativeBinomial(alpha=1.0 / theta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            res = sm.GLM(y, X, family=fam, offset=offset).fit(
                start_params=state["params"], **_GLM_FIT
            )
        _check_fit(res, "negative binomial")
        state["params"] = res.params
        return res

    def g(log_theta: float) -> float:
        theta = math.exp(log_theta)
        return _nb_theta_score(theta, y, glm_at(theta).fittedvalues)

    mu0 = np.exp(X @ start + offset)  # the Poisson fit (α = 0)
    # score for α at α = 0 is ½ Σ[(y − μ)² − y] (Dean & Lawless 1989); if it is not positive
    # the likelihood decreases from the Poisson boundary and the MLE is α = 0
    if np.sum((y - mu0) ** 2 - y) <= 0:
        return None, 0.0
    moment = np.sum((y / mu0 - 1.0) ** 2)
    lt0 = math.log(len(y) / moment) if moment > 0 else 0.0
    lt0 = min(max(lt0, math.log(1e-3)), math.log(1e6))
    g0 = g(lt0)
    lo = hi = lt0
    step = math.log(10.0)
    limit_hi, limit_lo = math.log(1e10), math.log(1e-8)
    if g0 > 0:  # profile likelihood still increasing in θ: move right
        while True:
            hi = min(hi + step, limit_hi)
            if g(hi) <= 0:
                break
            if hi >= limit_hi:
                return None, 0.0  # no overdispersion: the MLE is on the Poisson boundary
            lo = hi
    else:
        while True:
            lo = max(lo - step, limit_lo)
            if g(lo) >= 0:
                break
            if lo <= limit_lo:
                raise ConvergenceError(
                    "negative binomial: the overdispersion estimate diverges (theta → 0)"
                )
            hi = lo
    log_theta = optimize.brentq(g, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)
    theta = math.exp(log_theta)
    return glm_at(theta), 1.0 / theta


def its(
    df: pd.DataFrame,
    *,
    outcome: str,
    time: str,
    post: str,
    exposure: str | None = None,
    family: str = "poisson",
    harmonics: int = 0,
    period: float = 12,
    slope_change: bool = False,
    hac_lags: int | None = None,
    conf_level: float = 0.95,
) -> ITSResult:
    """Interrupted time series (segmented) regression of counts or rates.

    Fits the log-linear model

    .. math::

        \\log E[Y_t] = \\log(\\text{exposure}_t) + \\beta_0 + \\beta_1 P_t + \\beta_2 (t - t_1)
        + \\beta_3 P_t (t - t_1) + \\sum_{k=1}^{K} \\gamma_k \\sin(2\\pi k t / L)
        + \\delta_k \\cos(2\\pi k t / L)

    where :math:`P_t` is the 0/1 post-intervention indicator, :math:`t_1` the first
    post-intervention time, :math:`L` the ``period`` and :math:`K` the number of ``harmonics``
    (Lopez Bernal, Cummins & Gasparrini 2017; Wagner et al. 2002). :math:`\\beta_3` is fitted
    only with ``slope_change=True``.

    Parameters
    ----------
    df
        One row per time point.
    outcome
        Column of counts (non-negative whole numbers).
    time
        Column of time points: numbers (1, 2, 3, …), datetimes or monthly ``pandas.Period``.
        Dates become a month index (12·year + month), so one row per calendar month.
    post
        Column coded 0 before and 1 from the interruption on (or booleans). It must switch
        once, from 0 to 1, in time order.
    exposure
        Optional column of populations (or person-time, or people eligible) at risk, strictly
        positive; entered as the offset log(exposure), so effects are ratios of rates.
    family
        ``"poisson"`` (default), ``"quasipoisson"`` (Poisson with the variance multiplied by the
        Pearson χ²/(n − p) dispersion, as R's ``quasipoisson``) or ``"negbin"`` (negative
        binomial NB2, Var = μ + αμ², α by maximum likelihood, as ``MASS::glm.nb``).
    harmonics
        Number of Fourier pairs for seasonality (0 = none). Must be below ``period / 2``.
    period
        Length of the seasonal cycle in time units (12 for monthly data).
    slope_change
        Also fit a change in slope after the interruption.
    hac_lags
        If given, Newey–West (HAC) standard errors with this many lags; see Notes.
    conf_level
        Confidence level of the intervals.

    Returns
    -------
    ITSResult
        ``.table`` (rate ratios: level_change, [slope_change], trend, [post_trend],
        effect_at_end), ``.coefficients``, ``.fitted``, ``.plot()``.

    Raises
    ------
    InputError
        Missing columns; missing, negative, non-integer or non-finite counts; ``post`` not 0/1
        or not switching once from 0 to 1 in time order (the message names the rows); duplicate
        time points; exposure ≤ 0; invalid options.
    DesignError
        Fewer than :data:`MIN_POINTS_PER_SEGMENT` (3) time points before or after the
        interruption, no events at all before or after it, more coefficients than time points,
        or a collinear design.
    ConvergenceError
        The GLM did not converge.

    Notes
    -----
    **Effects.** All effects are ratios (exponentiated coefficients) with Wald intervals on the
    log scale using the normal quantile (as R's ``confint.default``, ``Epi::ci.exp`` and Stata's
    ``glm``; R's ``summary.glm`` uses t(n − p) for quasi-Poisson p-values instead).

    * ``level_change`` = exp(β₁) is the ratio of the fitted rate to the counterfactual rate at
      the first post-intervention time point :math:`t_1`. Wagner et al. (2002) and the R code of
      Lopez Bernal et al. code the slope term as :math:`P_t (t - t_0)` with :math:`t_0` the last
      pre-intervention time; with a slope change their "level change" is ours divided by
      ``slope_change``^(t₁ − t₀) — the same fitted model, with the step placed one time unit
      earlier. Without a slope change the two agree.
    * ``slope_change`` = exp(β₃): the post-intervention trend per time unit divided by the
      pre-intervention trend; ``post_trend`` = exp(β₂ + β₃).
    * ``trend`` = exp(β₂) is the pre-intervention trend per time unit, which the model extends
      after the interruption as the counterfactual (dashed line of :meth:`ITSResult.plot`).
    * ``effect_at_end`` = exp(β₁ + β₃ (t_end − t₁)): the fitted-over-counterfactual ratio at
      the last time point, with a delta-method interval using the covariance of β₁ and β₃.
      Without a slope change it equals ``level_change``.

    **Negative binomial.** NB2 (variance μ + αμ²) by maximum likelihood: α is profiled out —
    the coefficients at each α are the statsmodels GLM fit with the ``NegativeBinomial(alpha)``
    family, and α solves the profile score equation (root-finding in log θ, θ = 1/α) — which is
    what ``MASS::glm.nb`` computes. The coefficient SEs treat α as known, as ``glm.nb`` does
    (β and α are orthogonal in expected information). In short series the ML α is biased
    downwards and the intervals are then too narrow: in 1,000 simulated series of 48 monthly
    counts (α = 0.02, harmonics, slope change) the mean α̂ was 0.016 and 95% intervals covered
    the level and slope changes 93.3% and 91.5% of the time (``quasipoisson``, whose
    dispersion uses n − p: 94.7% and 93.4%; ``negbin`` with 240 months: 94.6% and 95.1%).
    Prefer ``quasipoisson`` for short series. statsmodels' discrete
    ``NegativeBinomial`` model estimates the same quantity but failed to converge on the
    reference data, hence the profile fit. If the score for α at α = 0, ½Σ[(y − μ̂)² − y]
    (Dean & Lawless 1989), is not positive, the data show no overdispersion, the MLE of α is 0
    and a :class:`~evalkit.errors.StatisticalWarning` says the fit is Poisson.

    **Newey–West.** With ``hac_lags = L`` the covariance is the sandwich B·M·B with bread
    B = (X'WX)⁻¹ (expected information, as ``sandwich::bread.glm``) and meat M = Σ_{j=−L..L}
    w_j Σ_t s_t s_{t−j}' of the score contributions s_t, with Bartlett weights
    w_j = 1 − |j|/(L + 1) (Newey & West 1987), times the small-sample factor n/(n − p). This is
    ``sandwich::NeweyWest(fit, lag = L, prewhite = FALSE, adjust = TRUE)`` (R's defaults differ:
    ``prewhite = TRUE``, ``adjust = FALSE`` and a data-driven lag) and statsmodels'
    ``cov_type="HAC"`` with ``use_correction=True`` (identical for the Poisson families; for
    the negative binomial statsmodels uses the observed rather than the expected Hessian).
    The dispersion cancels in the sandwich, so quasi-Poisson and Poisson give the same HAC SEs.
    HAC SEs assume equally spaced time points; a warning is given otherwise. With short series
    they are themselves imprecise and tend to be too small.

    **Rates and proportions.** For a monthly proportion with a known denominator (e.g. people
    continuing treatment out of those released that month, scheme 2 of SCHEMES.md) use the
    count as ``outcome`` and the denominator as ``exposure``: the log-linear Poisson model
    then estimates ratios of proportions (risk ratios), and ``quasipoisson`` estimates the
    dispersion, which is below 1 for binomial data when proportions are large. A binomial
    family is not offered; fitted proportions above 1 in the extrapolated counterfactual are a
    sign that the log-linear trend is not plausible over that range.

    **Assumptions / when not to use.** The pre-intervention trend (log-linear in time, with
    fixed seasonality) would have continued without the intervention; nothing else changed at
    the interruption (co-interventions, changes in recording); the interruption time is known
    in advance, not chosen from the data. Residual autocorrelation makes model-based SEs too
    small — check ``pearson_resid`` and use ``hac_lags`` or a model with AR errors. A
    regression-to-the-mean dip (e.g. a scheme started because of a bad year) is not captured.
    With fewer than about 8 points per segment, estimates of trend and slope change are
    unreliable. Use a comparison series (:func:`did`, or a control series in the model)
    when a concurrent event could explain the change.

    References
    ----------
    Lopez Bernal, J., Cummins, S. and Gasparrini, A. (2017). Interrupted time series regression
    for the evaluation of public health interventions: a tutorial. *International Journal of
    Epidemiology* 46(1), 348–355. https://doi.org/10.1093/ije/dyw098

    Wagner, A.K., Soumerai, S.B., Zhang, F. and Ross-Degnan, D. (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. *Journal of
    Clinical Pharmacy and Therapeutics* 27(4), 299–309.
    https://doi.org/10.1046/j.1365-2710.2002.00430.x

    Newey, W.K. and West, K.D. (1987). A simple, positive semi-definite, heteroskedasticity and
    autocorrelation consistent covariance matrix. *Econometrica* 55(3), 703–708.
    https://doi.org/10.2307/1913610

    Lawless, J.F. (1987). Negative binomial and mixed Poisson regression. *Canadian Journal of
    Statistics* 15(3), 209–225. https://doi.org/10.2307/3314912

    Dean, C. and Lawless, J.F. (1989). Tests for detecting overdispersion in Poisson regression
    models. *Journal of the American Statistical Association* 84(406), 467–472.
    https://doi.org/10.1080/01621459.1989.10478792

    Venables, W.N. and Ripley, B.D. (2002). *Modern Applied Statistics with S*, 4th ed.,
    section 7.4 (``glm.nb``). Springer.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import evalkit as ek
    >>> month = pd.period_range("2021-01", periods=24, freq="M")
    >>> post = (np.arange(24) >= 12).astype(int)
    >>> count = np.round(200 * np.exp(0.01 * np.arange(24) - 0.2 * post)).astype(int)
    >>> res = ek.its(pd.DataFrame({"month": month, "count": count, "post": post}),
    ...              outcome="count", time="month", post="post")
    >>> print(round(res.table.loc["level_change", "rr"], 2))
    0.82
    """
    data = check_frame(df)
    check_choice(family, "family", ITS_FAMILIES)
    level = check_level(conf_level)
    harmonics, period, hac_lags = _check_its_options(harmonics, period, hac_lags, slope_change)
    require_columns(data, [outcome, time, post, exposure])

    t, months, shown = _time_index(data, time)
    y = check_numeric(data, outcome)
    bad = y < 0
    if bad.any():
        raise InputError(outcome, "counts must not be negative", row_ids(data, bad), table="data")
    bad = y != np.round(y)
    if bad.any():
        raise InputError(
            outcome,
            f"must be whole-number counts for family '{family}'",
            row_ids(data, bad),
            table="data",
        )
    p = _check_binary(data, post, "must be 0 (before) or 1 (from the interruption on)")
    expo = check_positive(data, exposure) if exposure is not None else np.ones(len(data))
    _check_unique_times(data, time, t, months)
    _check_switch_once(data, post, p, t, shown)

    order = np.argsort(t, kind="stable")
    t, y, p, expo = t[order], y[order], p[order], expo[order]
    shown_sorted = shown.iloc[order].reset_index(drop=True)
    n_pre, n_post = int((p == 0).sum()), int((p == 1).sum())
    if n_pre < MIN_POINTS_PER_SEGMENT or n_post < MIN_POINTS_PER_SEGMENT:
        raise DesignError(
            f"an interrupted time series needs at least {MIN_POINTS_PER_SEGMENT} time points "
            f"before and {MIN_POINTS_PER_SEGMENT} after the interruption; got {n_pre} before "
            f"and {n_post} after"
        )
    for label, seg in (("before", p == 0), ("after", p == 1)):
        if y[seg].sum() == 0:
            raise DesignError(
                f"column '{outcome}' is 0 at every time point {label} the interruption: the "
                "rate ratios are 0 or infinite and cannot be estimated"
            )
    X, names = _its_design(t, p, harmonics, period, slope_change)
    n, k = X.shape
    if n - k < 1:
        raise DesignError(
            f"the model has {k} coefficients ({', '.join(names)}) but only {n} time points; "
            "use fewer harmonics or more data"
        )
    _check_rank(X, names, "interrupted time series")
    if hac_lags is not None:
        if hac_lags >= n:
            raise InputError("hac_lags", f"must be below the number of time points ({n})")
        steps = np.diff(t)
        if not np.allclose(steps, steps[0]):
            warnings.warn(
                "Newey–West standard errors assume equally spaced time points, but the series "
                f"has gaps (steps between {steps.min():g} and {steps.max():g}); lags count "
                "rows, not time units",
                StatisticalWarning,
                stacklevel=2,
            )

    offset = np.log(expo)
    pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset)
    with warnings.catch_warnings():
        # statsmodels calls an exact fit "perfect prediction"; the design's rank and the
        # segment totals are checked above, so an exact fit is just an exact fit
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        res = pois.fit(**_GLM_FIT, scale="X2" if family == "quasipoisson" else 1.0)
    _check_fit(res, "Poisson")
    alpha = math.nan
    if family == "negbin":
        nb, alpha = _fit_negbin(y, X, offset, res.params)
        if nb is None:
            warnings.warn(
                "negative binomial: no overdispersion (the maximum-likelihood alpha is 0); "
                "the fit is the Poisson fit",
                StatisticalWarning,
                stacklevel=2,
            )
        else:
            res = nb
    beta = np.asarray(res.params)
    dispersion = float(res.scale)
    cov = np.asarray(res.normalized_cov_params) * dispersion
    if hac_lags is not None:
        scores = res.model.score_obs(beta, scale=1.0)
        cov = sw.cov_hac_simple(
            (scores, np.asarray(res.normalized_cov_params)),
            nlags=hac_lags,
            use_correction=True,
        )
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))  # rounding can make a 0 slightly negative
    z = _critical(level, math.inf)
    pval = _wald_table(beta, se, z, math.inf)[2]
    coefficients = pd.DataFrame(
        {"coef": beta, "se": se, "z": _ratio(beta, se), "p": pval},
        index=pd.Index(names, name="term"),
    )
    cov_df = pd.DataFrame(cov, index=names, columns=names)

    # derived effects: linear combinations a'β with delta-method SEs
    def combo(weights: dict[str, float]) -> tuple[float, float, float, float]:
        a = np.array([weights.get(nm, 0.0) for nm in names])
        est = float(a @ beta)
        s = float(np.sqrt(a @ cov @ a))
        low, upp, pv = _wald_table(np.array([est]), np.array([s]), z, math.inf)
        return math.exp(est), math.exp(low[0]), math.exp(upp[0]), float(pv[0])

    d_end = float(t[-1] - t[p == 1].min())
    rows: dict[str, tuple[float, float, float, float]] = {"level_change": combo({"post": 1.0})}
    if slope_change:
        rows["slope_change"] = combo({"slope": 1.0})
    rows["trend"] = combo({"trend": 1.0})
    if slope_change:
        rows["post_trend"] = combo({"trend": 1.0, "slope": 1.0})
        rows["effect_at_end"] = combo({"post": 1.0, "slope": d_end})
    else:
        rows["effect_at_end"] = rows["level_change"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["rr", "lower", "upper", "p"])
    table.index.name = "term"

    X_cf = X.copy()
    X_cf[:, [names.index(c) for c in ("post", "slope") if c in names]] = 0.0
    fitted = pd.DataFrame(
        {
            "time": shown_sorted,
            "post": p,
            "observed": y,
            "exposure": expo,
            "fitted": np.asarray(res.fittedvalues),
            "counterfactual": np.exp(X_cf @ beta + offset),
            "pearson_resid": np.asarray(res.resid_pearson),
        }
    )
    return ITSResult(
        table=table,
        coefficients=coefficients,
        cov=cov_df,
        fitted=fitted,
        family=family,
        dispersion=dispersion,
        alpha=float(alpha),
        n_pre=n_pre,
        n_post=n_post,
        time_unit="month" if months else "time unit",
        interruption=shown_sorted[int(np.argmax(p == 1))],
        hac_lags=hac_lags,
        harmonics=harmonics,
        period=period,
        slope_change=bool(slope_change),
        exposure=exposure,
        conf_level=level,
        deviance=float(res.deviance),
        df_resid=int(n - k),
    )


def _check_its_options(
    harmonics: Any, period: Any, hac_lags: Any, slope_change: Any
) -> tuple[int, float, int | None]:
    if isinstance(harmonics, bool) or not isinstance(harmonics, int | np.integer) or harmonics < 0:
        raise InputError("harmonics", f"must be a whole number ≥ 0, got {harmonics!r}")
    try:
        period_f = float(period)
    except (TypeError, ValueError):
        raise InputError("period", f"must be a positive number, got {period!r}") from None
    if not (math.isfinite(period_f) and period_f > 0):
        raise InputError("period", f"must be a positive number, got {period!r}")
    if harmonics and 2 * harmonics >= period_f:
        raise InputError(
            "harmonics",
            f"must be below period / 2 = {period_f / 2:g} (higher harmonics are aliases of "
            f"lower ones), got {harmonics}",
        )
    if hac_lags is not None and (
        isinstance(hac_lags, bool) or not isinstance(hac_lags, int | np.integer) or hac_lags < 0
    ):
        raise InputError("hac_lags", f"must be None or a whole number ≥ 0, got {hac_lags!r}")
    if not isinstance(slope_change, bool | np.bool_):
        raise InputError("slope_change", f"must be True or False, got {slope_change!r}")
    return int(harmonics), period_f, None if hac_lags is None else int(hac_lags)


# --------------------------------------------------------------------------------------------
# difference in differences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiDResult:
    """Result of :func:`did`.

    Attributes
    ----------
    estimate
        The difference-in-differences effect as an :class:`~evalkit._results.Estimate`: a
        difference in mean outcome (``gaussian``) or a ratio of rate ratios (``poisson``).
    table
        Indexed by ``term``: ``group`` (intervention vs comparison before the interruption),
        ``post`` (before/after change in the comparison group; absent with ``time`` fixed
        effects), ``did`` and any covariates. Columns ``coef`` and ``se`` on the model scale
        (identity or log), ``estimate, lower, upper`` on the reported scale (difference, or
        ratio = exp(coef)) and ``p``.
    cells
        The 2×2 table: ``group, post, n`` (rows), ``outcome`` (sum), ``exposure`` (sum; rows
        when no exposure column) and ``mean`` (outcome mean, or rate = outcome / exposure).
    pretrend
        Test of differential pre-intervention trends (:class:`~evalkit._results.TestResult`),
        or ``None`` without ``time`` or with fewer than two pre-intervention time points.
    family
        ``"gaussian"`` or ``"poisson"``.
    cov_type
        ``"CR1"`` (cluster-robust) or ``"HC1"`` (heteroskedasticity-robust, no clusters).
    n, n_clusters
        Rows used and number of clusters (``None`` without ``cluster``).
    df_inference
        Degrees of freedom of the t reference distribution (G − 1 with clusters, n − k for
        gaussian without); ``inf`` means the normal distribution.
    time_effects
        Whether the model has one fixed effect per time point instead of a single ``post``.
    conf_level
        Confidence level of the intervals.
    """

    estimate: Estimate
    table: pd.DataFrame
    cells: pd.DataFrame
    pretrend: TestResult | None
    family: str
    cov_type: str
    n: int
    n_clusters: int | None
    df_inference: float
    time_effects: bool
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table with ``term`` as a column."""
        return self.table.reset_index()

    def _repr_html_(self) -> str:
        return self.table.to_html()


@dataclass(frozen=True)
class _CellFit:
    beta: np.ndarray
    cov: np.ndarray
    n: int
    k: int


def _cell_fit(
    family: str,
    y: np.ndarray,
    expo: np.ndarray | None,
    keys: list[np.ndarray],
    build_X: Any,
    clusters: np.ndarray | None,
    what: str,
    names: list[str] | None = None,
) -> _CellFit:
    """Fit the DiD GLM on cells of identical design rows (and cluster), exactly.

    Every regressor of :func:`did` is a function of the integer ``keys`` (cluster, group,
    period or time point, covariate values), so the rows of a cell share one design row
    ``x_c``. The least-squares and Poisson estimating equations depend on the data only through
    the cell sums (n_c, Σy, Σexposure), so fitting the cell table gives the row-level estimates
    and bread (X'WX)⁻¹. The meat is built from row-level residuals r_i = y_i − μ_i: cluster
    sums of x_c·Σ_{i∈c} r_i (CR1), or Σ_c x_c x_c' Σ_{i∈c} r_i² (HC1). Memory and time are
    O(n) in the rows plus O(cells × k²).
    """
    all_keys = keys if clusters is None else [clusters, *keys]
    cell = (
        pd.DataFrame(dict(enumerate(all_keys)))
        .groupby(list(range(len(all_keys))), sort=True)
        .ngroup()
        .to_numpy()
    )
    n_cells = int(cell.max()) + 1
    _, first = np.unique(cell, return_index=True)
    X = np.asarray(build_X(first), dtype=float)
    n, k = len(y), X.shape[1]
    _check_rank(X, names or [f"x{j}" for j in range(k)], what)
    if n - k < 1:
        raise DesignError(f"the {what} model has {k} coefficients but only {n} rows")
    n_c = np.bincount(cell, minlength=n_cells).astype(float)
    y_c = np.bincount(cell, weights=y, minlength=n_cells)
    if family == "gaussian":
        # weighted least squares on the cell means (weights n_c) = OLS on the rows
        sw_ = np.sqrt(n_c)
        beta = np.linalg.lstsq(X * sw_[:, None], y_c / sw_, rcond=None)[0]
        bread = np.linalg.inv(X.T @ (X * n_c[:, None]))
        mu_row = (X @ beta)[cell]
    else:
        e_c = np.bincount(cell, weights=expo, minlength=n_cells) if expo is not None else n_c
        with warnings.catch_warnings():
            # a saturated cell table fits exactly, which statsmodels reports as "separation"
            # (and its inner weighted least squares divides by zero residual df)
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            warnings.filterwarnings(
                "ignore",
                r"(divide by zero|invalid value) encountered in scalar divide",
                RuntimeWarning,
            )
            res = sm.GLM(y_c, X, family=sm.families.Poisson(), offset=np.log(e_c)).fit(**_GLM_FIT)
        _check_fit(res, "Poisson")
        beta = np.asarray(res.params)
        bread = np.asarray(res.normalized_cov_params)
        rate = np.exp(X @ beta)[cell]
        mu_row = rate * expo if expo is not None else rate
    r = y - mu_row
    if clusters is not None:
        r_c = np.bincount(cell, weights=r, minlength=n_cells)
        cl_of_cell = clusters[first]
        n_groups = int(cl_of_cell.max()) + 1
        scores = np.column_stack(
            [np.bincount(cl_of_cell, weights=X[:, j] * r_c, minlength=n_groups) for j in range(k)]
        )
        meat = scores.T @ scores
        factor = n_groups / (n_groups - 1.0) * (n - 1.0) / (n - k)
    else:
        q_c = np.bincount(cell, weights=r * r, minlength=n_cells)
        meat = X.T @ (X * q_c[:, None])
        factor = n / (n - k)
    cov = factor * bread @ meat @ bread
    return _CellFit(beta=beta, cov=cov, n=n, k=k)


def did(
    df: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
    time: str | None = None,
    cluster: str | None = None,
    family: str = "gaussian",
    exposure: str | None = None,
    covariates: list[str] | None = None,
    pretrend: str = "linear",
    conf_level: float = 0.95,
) -> DiDResult:
    """Difference in differences: two groups, before and after, with cluster-robust SEs.

    Fits :math:`g(E[Y]) = \\alpha + \\gamma\\,G + \\lambda\\,P + \\delta\\,G P\\,(+\\,x'\\beta)`
    where :math:`G` is 1 in the intervention group and :math:`P` is 1 after the interruption,
    with identity link (``gaussian``, ordinary least squares) or log link (``poisson``). With
    ``time``, :math:`\\lambda P` is replaced by one fixed effect per time point (the two-way
    fixed-effects form of Angrist & Pischke 2009, ch. 5). The effect is :math:`\\delta`: for the
    2×2 design without covariates it is exactly the difference of the four cell means,
    (ȳ₁₁ − ȳ₁₀) − (ȳ₀₁ − ȳ₀₀), or for ``poisson`` the ratio of the rate ratios
    (r₁₁/r₁₀)/(r₀₁/r₀₀).

    Parameters
    ----------
    df
        One row per observation: a person, or an area in a month, etc.
    outcome
        Numeric outcome column; non-negative for ``poisson`` (whole numbers are not required:
        a 0/1 outcome gives ratios of proportions, with robust SEs).
    group
        0/1 (or boolean) column: 1 = intervention group, 0 = comparison group.
    post
        0/1 (or boolean) column: 1 = after the interruption. With ``time`` it must switch once,
        from 0 to 1, in time order (common timing for both groups).
    time
        Optional time column (numbers, datetimes or monthly periods): adds time fixed effects
        and enables the pre-trend test.
    cluster
        Optional column of cluster identifiers (e.g. area, prison, person in a panel). Without
        it each row is its own cluster (heteroskedasticity-robust HC1 SEs).
    family
        ``"gaussian"`` (default; effect = difference) or ``"poisson"`` (effect = ratio).
    exposure
        ``poisson`` only: column of person-time or population (offset log(exposure)).
    covariates
        Optional numeric covariate columns.
    pretrend
        ``"linear"`` (default): Wald test of a group × linear-time interaction in the
        pre-intervention rows (1 df); ``"leads"``: joint test of group × time-point
        indicators for every pre-intervention time but the last (event-study leads).
    conf_level
        Confidence level of the intervals.

    Returns
    -------
    DiDResult
        ``.estimate``, ``.table``, ``.cells`` and ``.pretrend``.

    Raises
    ------
    InputError
        Missing columns or values; ``group``/``post`` not 0/1; negative outcome for
        ``poisson``; exposure ≤ 0 or given with ``gaussian``; ``post`` not switching once in
        time; invalid options.
    DesignError
        A group × period cell with no rows, fewer than two clusters, or a collinear design.

    Notes
    -----
    **Standard errors.** Cluster-robust CR1: G/(G − 1)·(n − 1)/(n − k) times the sandwich with
    bread (X'WX)⁻¹ and the cluster sums of score contributions as meat — Stata's
    ``vce(cluster)``, statsmodels' ``cov_type="cluster"`` and
    ``sandwich::vcovCL(fit, type = "HC1", cadjust = TRUE)``. Intervals and p-values use t with
    G − 1 degrees of freedom (Cameron & Miller 2015). Without ``cluster`` each row is a cluster,
    which gives HC1, with t(n − k) for ``gaussian`` and the normal distribution for ``poisson``.
    Serially correlated outcomes within units make unclustered SEs far too small (Bertrand,
    Duflo & Mullainathan 2004): cluster at the level at which the intervention was assigned
    (area, prison), not the row. With few clusters (fewer than about 20, and certainly fewer
    than 10) even CR1 with t(G − 1) over-rejects; a wild cluster bootstrap is then better, and a
    warning is given. With only two clusters (one per group) no valid SE exists.

    **Computation.** Every regressor is a function of group, period or time point, covariate
    values and cluster, so the model is fitted exactly on the table of distinct combinations
    (cell sums of rows, outcome and exposure), and the robust covariance is built from
    row-level residuals summed within cells: time and memory grow linearly with the number of
    rows (a million rows with 200 clusters and 12 months take about a second), not with
    rows × time points. Continuous covariates make every row its own cell.

    **Pre-trend test.** Fitted to the pre-intervention rows only, with the same covariance
    type. The statistic is the Wald statistic divided by its degrees of freedom q, referred to
    F(q, G − 1) with clusters (F(q, n − k) for unclustered ``gaussian``; χ²(q), undivided, for
    unclustered ``poisson``). How to read it: a small p-value is evidence that the groups were
    already diverging, so the parallel-trends assumption is doubtful. A large p-value is
    **not** evidence of parallel trends — with few pre-intervention periods the test has little
    power, it says nothing about what would have happened after the interruption, and
    choosing a specification because it passes biases the estimate (Roth 2022). Report it as
    a diagnostic, with a plot of group means over time.

    **Assumptions / when not to use.** Parallel trends: without the intervention the expected
    outcome (on the link scale: differences for ``gaussian``, ratios for ``poisson``) would have
    changed by the same amount in both groups. Parallel trends on one scale generally fail on
    the other, so choose the family for substantive reasons. Group composition must be stable
    (no one moves group because of the intervention), and nothing else must change at the same
    time in only one group. With staggered adoption (groups treated at different times) the
    two-way fixed-effects estimate can be badly biased; this function supports a single common
    interruption only.

    References
    ----------
    Angrist, J.D. and Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, chapter 5.
    Princeton University Press.

    Bertrand, M., Duflo, E. and Mullainathan, S. (2004). How much should we trust
    differences-in-differences estimates? *Quarterly Journal of Economics* 119(1), 249–275.
    https://doi.org/10.1162/003355304772839588

    Cameron, A.C. and Miller, D.L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317–372. https://doi.org/10.3368/jhr.50.2.317

    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. *American Economic Review: Insights* 4(3), 305–322.
    https://doi.org/10.1257/aeri.20210236

    Examples
    --------
    >>> import pandas as pd
    >>> import evalkit as ek
    >>> d = pd.DataFrame({"y": [10, 12, 11, 13, 10, 11, 12, 18],
    ...                   "treated": [0, 0, 0, 0, 1, 1, 1, 1],
    ...                   "post": [0, 0, 1, 1, 0, 0, 1, 1]})
    >>> res = ek.did(d, outcome="y", group="treated", post="post")
    >>> round(res.estimate.estimate, 2)   # (15 - 10.5) - (12 - 11)
    3.5
    """
    data = check_frame(df)
    check_choice(family, "family", DID_FAMILIES)
    check_choice(pretrend, "pretrend", ("linear", "leads"))
    level = check_level(conf_level)
    covs = list(covariates or [])
    if exposure is not None and family != "poisson":
        raise InputError("exposure", "is used only with family='poisson'")
    require_columns(data, [outcome, group, post, time, cluster, exposure, *covs])

    y = check_numeric(data, outcome)
    if family == "poisson":
        bad = y < 0
        if bad.any():
            raise InputError(
                outcome,
                "must not be negative for family 'poisson'",
                row_ids(data, bad),
                table="data",
            )
    g = _check_binary(data, group, "must be 0 (comparison group) or 1 (intervention group)")
    p = _check_binary(data, post, "must be 0 (before) or 1 (after the interruption)")
    expo = check_positive(data, exposure) if exposure is not None else None
    check_covariates(data, covs)
    Z = (
        np.column_stack([check_numeric(data, c) for c in covs])
        if covs
        else np.empty((len(data), 0))
    )
    t: np.ndarray | None = None
    if time is not None:
        t, _, shown = _time_index(data, time)
        _check_switch_once(data, post, p, t, shown)

    # the 2 x 2 table
    cell = 2 * g + p
    n_cell = np.bincount(cell, minlength=4)
    labels = [
        "comparison/before",
        "comparison/after",
        "intervention/before",
        "intervention/after",
    ]
    if (n_cell == 0).any():
        counts = ", ".join(f"{lab} {int(c)}" for lab, c in zip(labels, n_cell, strict=True))
        raise DesignError(
            f"difference in differences needs rows in all four group × period cells; got {counts}"
        )
    sum_y = np.bincount(cell, weights=y, minlength=4)
    if family == "poisson" and (sum_y == 0).any():
        empty = ", ".join(lab for lab, v in zip(labels, sum_y, strict=True) if v == 0)
        raise DesignError(
            f"column '{outcome}' is 0 in every row of cell(s) {empty}: the ratio of rate "
            "ratios is 0 or infinite; use family='gaussian' or pool periods"
        )
    sum_e = np.bincount(cell, weights=expo, minlength=4) if expo is not None else n_cell
    cells = pd.DataFrame(
        {
            "group": [0, 0, 1, 1],
            "post": [0, 1, 0, 1],
            "n": n_cell.astype(np.int64),
            "outcome": sum_y,
            "exposure": np.asarray(sum_e, dtype=float),
            "mean": sum_y / sum_e,
        }
    )

    if cluster is not None:
        check_no_missing(data, cluster)
        clusters = pd.factorize(data[cluster], sort=True)[0]
        n_groups = int(clusters.max()) + 1
        if n_groups < 2:
            raise DesignError(
                f"column '{cluster}' has {n_groups} cluster; cluster-robust standard errors "
                "need at least 2 (and many more to be reliable)"
            )
        if n_groups < FEW_CLUSTERS:
            warnings.warn(
                f"only {n_groups} clusters in '{cluster}': cluster-robust standard errors are "
                "unreliable with few clusters (Cameron & Miller 2015); consider a wild cluster "
                "bootstrap",
                StatisticalWarning,
                stacklevel=2,
            )
        n_clusters: int | None = n_groups
    else:
        clusters = None
        n_clusters = None

    t_levels: np.ndarray = np.empty(0)
    t_code = np.zeros(len(data), dtype=np.int64)
    if t is not None:
        t_levels, t_code = np.unique(t, return_inverse=True)
    time_names = [f"time[{v:g}]" for v in t_levels[1:]]
    z_codes = [pd.factorize(Z[:, j])[0] for j in range(Z.shape[1])]
    names = ["intercept", "group", *([] if t is not None else ["post"]), "did", *covs]
    names += time_names

    def build_X(idx: np.ndarray) -> np.ndarray:
        gi, pi = g[idx].astype(float), p[idx].astype(float)
        cols = [np.ones(len(idx)), gi, *([] if t is not None else [pi]), gi * pi, Z[idx]]
        if t is not None:
            cols.append(_dummies(t_code[idx], len(t_levels)))
        return np.column_stack(cols)

    keys = [g, p, t_code, *z_codes]
    fit = _cell_fit(family, y, expo, keys, build_X, clusters, "difference-in-differences", names)
    n, k = fit.n, fit.k
    if n_clusters is not None:
        df_inf: float = float(n_clusters - 1)
    elif family == "gaussian":
        df_inf = float(n - k)
    else:
        df_inf = math.inf
    crit = _critical(level, df_inf)
    beta = fit.beta
    se = np.sqrt(np.clip(np.diag(fit.cov), 0.0, None))  # rounding can make a 0 slightly negative
    lo, hi, pval = _wald_table(beta, se, crit, df_inf)

    def transform(v: Any) -> Any:
        if family != "poisson":
            return v
        with np.errstate(over="ignore"):  # an infinite upper limit is the right answer
            return np.exp(v)

    keep = [i for i, nm in enumerate(names) if nm not in ("intercept", *time_names)]
    table = pd.DataFrame(
        {
            "coef": beta[keep],
            "se": se[keep],
            "estimate": transform(beta[keep]),
            "lower": transform(lo[keep]),
            "upper": transform(hi[keep]),
            "p": pval[keep],
        },
        index=pd.Index([names[i] for i in keep], name="term"),
    )
    ci = "cluster-robust CR1" if n_clusters is not None else "robust HC1"
    ref = f"t({df_inf:g})" if math.isfinite(df_inf) else "normal"
    i_did = names.index("did")
    what = "ratio of rate ratios" if family == "poisson" else "difference in differences"
    estimate = Estimate(
        estimate=float(transform(beta[i_did])),
        lower=float(transform(lo[i_did])),
        upper=float(transform(hi[i_did])),
        conf_level=level,
        method=f"{what} ({family}, {ci}, {ref})",
    )

    pre_test = None
    if t is not None:
        pre_test = _pretrend_test(
            pretrend, family, y, expo, g, p, t_code, t_levels, Z, z_codes, clusters
        )

    return DiDResult(
        estimate=estimate,
        table=table,
        cells=cells,
        pretrend=pre_test,
        family=family,
        cov_type="CR1" if n_clusters is not None else "HC1",
        n=int(n),
        n_clusters=n_clusters,
        df_inference=df_inf,
        time_effects=t is not None,
        conf_level=level,
    )


def _dummies(code: np.ndarray, n_levels: int) -> np.ndarray:
    """Indicators of levels 1..n_levels-1 of ``code`` (level 0 is the reference)."""
    D = np.zeros((len(code), max(n_levels - 1, 0)))
    rows = np.flatnonzero(code > 0)
    D[rows, code[rows] - 1] = 1.0
    return D


def _pretrend_test(
    kind: str,
    family: str,
    y: np.ndarray,
    expo: np.ndarray | None,
    g: np.ndarray,
    p: np.ndarray,
    t_code: np.ndarray,
    t_levels: np.ndarray,
    Z: np.ndarray,
    z_codes: list[np.ndarray],
    clusters: np.ndarray | None,
) -> TestResult | None:
    """Wald test of group × time terms in the pre-intervention rows (see :func:`did`)."""
    pre = p == 0
    codes = t_code[pre]
    levels = np.unique(codes)
    if len(levels) < 2:
        return None
    code_pre = np.searchsorted(levels, codes)  # 0 .. L-1 among pre-intervention times
    t_pre = t_levels[codes]
    g_pre = g[pre].astype(float)
    Z_pre = Z[pre]
    t_mean = float(t_pre.mean())
    n_levels = len(levels)
    q = 1 if kind == "linear" else n_levels - 1

    def build_X(idx: np.ndarray) -> np.ndarray:
        gi = g_pre[idx]
        if kind == "linear":
            test = (gi * (t_pre[idx] - t_mean))[:, None]
        else:  # leads: every pre-intervention time but the last
            test = np.column_stack([gi * (code_pre[idx] == j) for j in range(n_levels - 1)])
        return np.column_stack(
            [np.ones(len(idx)), gi, test, Z_pre[idx], _dummies(code_pre[idx], n_levels)]
        )

    cl = None if clusters is None else pd.factorize(clusters[pre])[0]
    try:
        fit = _cell_fit(
            family,
            y[pre],
            None if expo is None else expo[pre],
            [g[pre], code_pre, *(c[pre] for c in z_codes)],
            build_X,
            cl,
            "pre-trend",
        )
    except DesignError:
        return None
    b = fit.beta[2 : 2 + q]
    V = fit.cov[2 : 2 + q, 2 : 2 + q]
    wald = float(b @ np.linalg.solve(V, b))
    label = "linear differential pre-trend" if kind == "linear" else "event-study leads"
    if cl is not None:
        df2 = float(cl.max())  # clusters - 1
    elif family == "gaussian":
        df2 = float(fit.n - fit.k)
    else:
        return TestResult(
            statistic=wald,
            df=float(q),
            p_value=float(stats.chi2.sf(wald, q)),
            name=f"pre-trend: {label}, Wald chi-squared({q})",
        )
    return TestResult(
        statistic=wald / q,
        df=float(q),
        p_value=float(stats.f.sf(wald / q, q, df2)),
        name=f"pre-trend: {label}, F({q}, {df2:g})",
    )
