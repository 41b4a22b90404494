"""Two independent proportions: rate difference, rate ratio and odds ratio.

The score intervals (Miettinen–Nurminen, Mee, Koopman) invert score tests computed in
``evalkit.proportions._score``; the exact odds-ratio interval (Cornfield) is computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalkit._inference import p_two_sided
from evalkit.proportions._checks import _options, _out, _two_groups
from evalkit.proportions._score import (
    _log_ratio_limits,
    _or_score,
    _rd_score_interval,
    _rr_score,
    _signed_ratio,
    _wilson,
)
from evalkit.results import Estimate

__all__ = ["ComparisonEstimate", "odds_ratio", "rate_difference", "rate_ratio"]


@dataclass(frozen=True, eq=False, repr=False)
class ComparisonEstimate(Estimate):
    """A comparison of two proportions: estimate, confidence interval and (where natural) a test.

    Extends :class:`evalkit.results.Estimate`. When the function was called with arrays of
    counts, every numeric field is a numpy array of the broadcast shape (one element per table)
    and :meth:`to_frame` has one row per table.

    Attributes
    ----------
    estimate
        The sample difference ``p1 - p0``, ratio ``p1 / p0`` or odds ratio (for
        ``method="exact"``, the conditional maximum-likelihood odds ratio, as R's
        ``fisher.test``). ``inf`` where the ratio's denominator is zero and ``nan`` only where the
        ratio is 0/0 (both groups 0, or for the odds ratio both groups all events): the quantity
        is then undefined, though its interval, ``0`` to ``inf``, is not.
    lower, upper
        Confidence limits; differences lie in ``[-1, 1]``, ratios in ``[0, inf]``.
    conf_level
        Confidence level, e.g. 0.95.
    method
        The interval method, e.g. ``"newcombe"``.
    measure
        ``"rate difference"``, ``"rate ratio"``, ``"odds ratio"`` or
        ``"paired rate difference"``.
    p
        Two-sided p-value of the test of no difference that the interval inverts: the score
        test for ``"miettinen-nurminen"``, ``"mee"`` and ``"koopman"`` (Mee and Koopman give
        Pearson's chi-squared test without continuity correction; Miettinen–Nurminen gives the
        "N − 1" chi-squared test, Pearson's statistic times (N − 1)/N); the Wald test for
        ``"wald"``, ``"katz"`` and ``"woolf"``; Fisher's exact test for ``"exact"``. NaN for the
        hybrid intervals (``"newcombe"``, ``"agresti-caffo"``), which do not invert a test, and
        NaN (with limits ``0`` and ``inf``) for a Wald test on the log scale with a zero cell.
    null
        Value of the measure under no difference: 0 for differences, 1 for ratios.
    rate1, rate0
        The observed proportions ``x1 / n1`` and ``x0 / n0`` (paired: first and second).
    """

    _title: ClassVar[str] = "Comparison of two proportions"

    measure: str = ""
    p: Any = math.nan
    null: float = 0.0
    rate1: Any = math.nan
    rate0: Any = math.nan

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with one row per table.

        Columns: ``measure, method, estimate, lower, upper, conf_level, p, rate1, rate0``.
        """
        columns = ("measure", "method", "estimate", "lower", "upper", "conf_level", "p")
        return _frame(self, (*columns, "rate1", "rate0"))


def _frame(result: Estimate, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per table: numeric fields broadcast to the shape of ``estimate``, others repeated.

    ``method``, ``measure`` and ``conf_level`` are the same for every table of a result.
    """
    shape = np.shape(result.estimate)
    size = int(np.prod(shape))

    def col(name: str) -> Any:
        value = getattr(result, name)
        if name in ("measure", "method", "conf_level"):
            return [value] * size
        return np.broadcast_to(np.asarray(value, dtype=float), shape).ravel()

    return pd.DataFrame({name: col(name) for name in columns})


def _result(
    measure: str,
    method: str,
    level: float,
    scalar: bool,
    est: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    pval: np.ndarray,
    null: float,
    rate1: np.ndarray,
    rate0: np.ndarray,
) -> ComparisonEstimate:
    """The result object of every function here: floats for scalar input, arrays otherwise."""
    return ComparisonEstimate(
        estimate=_out(est, scalar),
        lower=_out(lower, scalar),
        upper=_out(upper, scalar),
        conf_level=level,
        method=method,
        measure=measure,
        p=_out(pval, scalar),
        null=null,
        rate1=_out(rate1, scalar),
        rate0=_out(rate0, scalar),
    )


# ---------------------------------------------------------------------------------------------
# Rate difference


def rate_difference(
    x1: Any,
    n1: Any,
    x0: Any,
    n0: Any,
    *,
    method: str = "newcombe",
    conf_level: float = 0.95,
) -> ComparisonEstimate:
    """Difference of two independent proportions, ``x1/n1 - x0/n0``, with a confidence interval.

    Parameters
    ----------
    x1, n1
        Events and people in group 1 (e.g. the programme group). Whole numbers, ``0 <= x1 <= n1``,
        ``n1 >= 1``; scalars or arrays (broadcast against each other).
    x0, n0
        Events and people in group 0 (e.g. the comparison group).
    method
        ``"newcombe"`` (default): Newcombe's (1998a) hybrid score interval, his method 10, which
        combines the Wilson intervals of the two proportions ("square and add").
        ``"miettinen-nurminen"``: inverts the Miettinen & Nurminen (1985) score test (variance
        with the N/(N − 1) factor). ``"mee"``: the same without that factor (Mee 1984; the
        Farrington & Manning 1990 statistic). ``"agresti-caffo"``: Wald interval after adding one
        event and one non-event to each group (Agresti & Caffo 2000). ``"wald"``: the simple
        asymptotic interval, for comparison with older reports only.
    conf_level
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ComparisonEstimate
        ``estimate`` (= ``x1/n1 - x0/n0``), ``lower``, ``upper``, ``p`` (score test of
        ``p1 = p0`` for the score methods, Wald test for ``"wald"``, NaN for the hybrid
        methods), ``rate1``, ``rate0``.

    Raises
    ------
    InputError
        Counts negative, non-integer or non-finite; ``x > n``; ``n = 0``; ``conf_level``
        outside (0, 1); unknown ``method`` (the message lists the valid ones). The offending
        argument is named, with the positions of offending elements for arrays.

    Notes
    -----
    Assumes two independent binomial samples: each person counted once, outcomes independent
    between people. It is not for clustered data (people within courts or areas) or for the
    same people measured twice (use :func:`paired_rate_difference`).

    *Boundaries.* All methods return finite limits within ``[-1, 1]`` for every table,
    including ``0/n`` and ``n/n`` in either group. The score methods reach ``-1`` or ``1`` only
    when the estimate itself does. ``"wald"`` degenerates at the boundaries (a zero-width
    interval when both groups are 0/n or n/n) — one of the reasons not to use it.
    ``"agresti-caffo"`` is truncated to ``[-1, 1]``; it is centred on the adjusted estimate, so
    at low confidence levels in extreme tables it can exclude the sample difference.

    *Which method.* Newcombe (1998a) found the score intervals (methods 5, 6 and 10) to have
    coverage close to nominal and no aberrations; method 10 is simple and the default here.
    Miettinen–Nurminen is the common choice in regulatory statistics and is the one whose
    p-value agrees exactly with its interval (p < 1 − conf_level exactly when the interval
    excludes 0).

    Computation: the restricted maximum-likelihood estimates under ``p1 - p0 = delta`` have a
    closed form (the root of a cubic; Miettinen & Nurminen 1985, Appendix 1; Farrington &
    Manning 1990); the limits are found by bisection of the score statistic to full double
    precision. R equivalents: none in base R; ``DescTools::BinomDiffCI`` and
    ``ratesci::scoreci`` implement the same intervals. Values agree with our independent R
    implementation (``tests/reference/proportions_reference.R``) to about 1e-10.

    References
    ----------
    Newcombe RG (1998a). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17:873–890.
    doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Miettinen O, Nurminen M (1985). Comparative analysis of two rates. *Statistics in Medicine*
    4:213–226. doi:10.1002/sim.4780040211

    Mee RW (1984). Confidence bounds for the difference between two probabilities.
    *Biometrics* 40:1175–1176.

    Farrington CP, Manning G (1990). Test statistics and sample size formulae for comparative
    binomial trials with null hypothesis of non-zero risk difference or non-unity relative
    risk. *Statistics in Medicine* 9:1447–1454. doi:10.1002/sim.4780091208

    Agresti A, Caffo B (2000). Simple and effective confidence intervals for proportions and
    differences of proportions result from adding two successes and two failures. *The American
    Statistician* 54:280–288. doi:10.1080/00031305.2000.10474560

    Examples
    --------
    Newcombe's (1998a) first example, 56/70 against 48/80:

    >>> import evalkit as ek
    >>> r = ek.rate_difference(56, 70, 48, 80)
    >>> round(r.estimate, 4), round(r.lower, 4), round(r.upper, 4)
    (0.2, 0.0524, 0.3339)
    >>> r = ek.rate_difference(56, 70, 48, 80, method="miettinen-nurminen")
    >>> round(r.lower, 4), round(r.upper, 4), round(r.p, 4)
    (0.0528, 0.3382, 0.0083)
    """
    method, level, z = _options("rate_difference", method, conf_level)
    x1a, n1a, x0a, n0a, p1, p0, scalar = _two_groups(x1, n1, x0, n0)
    est = p1 - p0
    pval = np.full_like(est, np.nan)
    if method == "newcombe":
        l1, u1 = _wilson(x1a, n1a, z)
        l0, u0 = _wilson(x0a, n0a, z)
        lower = est - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        upper = est + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    elif method in ("miettinen-nurminen", "mee"):
        lower, upper, pval = _rd_score_interval(
            x1a, n1a, x0a, n0a, z, bias_correction=method == "miettinen-nurminen"
        )
    elif method == "agresti-caffo":
        q1 = (x1a + 1.0) / (n1a + 2.0)
        q0 = (x0a + 1.0) / (n0a + 2.0)
        half = z * np.sqrt(q1 * (1 - q1) / (n1a + 2.0) + q0 * (1 - q0) / (n0a + 2.0))
        lower, upper = q1 - q0 - half, q1 - q0 + half
    else:  # wald
        se = np.sqrt(p1 * (1 - p1) / n1a + p0 * (1 - p0) / n0a)
        lower, upper = est - z * se, est + z * se
        pval = p_two_sided(_signed_ratio(est, se * se))
    lower = np.clip(lower, -1.0, 1.0)
    upper = np.clip(upper, -1.0, 1.0)
    return _result("rate difference", method, level, scalar, est, lower, upper, pval, 0.0, p1, p0)


# ---------------------------------------------------------------------------------------------
# Rate ratio


def rate_ratio(
    x1: Any,
    n1: Any,
    x0: Any,
    n0: Any,
    *,
    method: str = "koopman",
    conf_level: float = 0.95,
) -> ComparisonEstimate:
    """Ratio of two independent proportions, ``(x1/n1) / (x0/n0)``, with a confidence interval.

    Parameters
    ----------
    x1, n1, x0, n0
        Events and people in group 1 (numerator) and group 0 (denominator); whole numbers,
        ``0 <= x <= n``, ``n >= 1``; scalars or arrays.
    method
        ``"koopman"`` (default): the asymptotic score interval of Koopman (1984).
        ``"miettinen-nurminen"``: the same score statistic with the N/(N − 1) variance factor
        (Miettinen & Nurminen 1985). ``"katz"``: the Wald interval on the log scale (Katz et
        al. 1978), for comparison with older reports.
    conf_level
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ComparisonEstimate
        ``estimate``, ``lower``, ``upper``, ``p`` (score test of ratio 1 for the score
        methods, Wald test for ``"katz"``), ``rate1``, ``rate0``.

    Raises
    ------
    InputError
        As :func:`rate_difference`.

    Notes
    -----
    Assumes two independent binomial samples (see :func:`rate_difference`).

    *Boundaries.* With ``x1 = 0`` the estimate and the lower limit are 0; with ``x0 = 0`` the
    estimate and the upper limit are ``inf`` (the data are compatible with any large ratio);
    with both 0 the ratio is undefined (``estimate`` NaN) and the interval is ``0`` to ``inf``.
    With ``x1 = n1`` and ``x0 = n0`` the estimate is 1 with a finite interval. ``"katz"`` has
    infinite variance when either count is 0 and then returns ``0`` to ``inf``; it degenerates
    to a single point when both groups are n/n.

    Koopman's chi-squared statistic equals the square of Miettinen & Nurminen's score statistic
    without the N/(N − 1) factor (Fagerland, Lydersen & Laake 2017, section 4.7), which is how
    it is computed here. The restricted MLE has a closed form (a quadratic) and the limits are
    found by bisection on the log scale. R equivalents: ``DescTools::BinomRatioCI(method =
    "koopman")``, ``ratesci::scoreci(contrast = "RR")``.

    References
    ----------
    Koopman PAR (1984). Confidence intervals for the ratio of two binomial proportions.
    *Biometrics* 40:513–517. doi:10.2307/2531405

    Miettinen O, Nurminen M (1985). Comparative analysis of two rates. *Statistics in Medicine*
    4:213–226. doi:10.1002/sim.4780040211

    Katz D, Baptista J, Azen SP, Pike MC (1978). Obtaining confidence intervals for the risk
    ratio in cohort studies. *Biometrics* 34:469–474. doi:10.2307/2530610

    Fagerland MW, Lydersen S, Laake P (2017). *Statistical Analysis of Contingency Tables*.
    Chapman & Hall/CRC.

    Examples
    --------
    Koopman's (1984) example, 36/40 against 16/80:

    >>> import evalkit as ek
    >>> r = ek.rate_ratio(36, 40, 16, 80)
    >>> round(r.estimate, 2), round(r.lower, 4), round(r.upper, 4)
    (4.5, 2.9396, 7.1522)
    """
    method, level, z = _options("rate_ratio", method, conf_level)
    x1a, n1a, x0a, n0a, p1, p0, scalar = _two_groups(x1, n1, x0, n0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = p1 / p0
    if method == "katz":
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(1.0 / x1a - 1.0 / n1a + 1.0 / x0a - 1.0 / n0a)
            log_est = np.log(est)
            lower = np.exp(log_est - z * se)
            upper = np.exp(log_est + z * se)
            pval = p_two_sided(log_est / se)
        zero_cell = (x1a == 0) | (x0a == 0)
        lower = np.where(zero_cell, 0.0, lower)
        upper = np.where(zero_cell, np.inf, upper)
        pval = np.where(zero_cell | (se == 0), np.nan, pval)
        pval = np.where((se == 0) & ~zero_cell, 1.0, pval)
    else:
        bc = method == "miettinen-nurminen"

        def stat(theta: np.ndarray) -> np.ndarray:
            return _rr_score(x1a, n1a, x0a, n0a, theta, bc)

        centre = np.log((x1a + 0.5) / (n1a + 0.5)) - np.log((x0a + 0.5) / (n0a + 0.5))
        lower, upper = _log_ratio_limits(stat, z, centre, x1a == 0, x0a == 0)
        with np.errstate(all="ignore"):
            pval = p_two_sided(stat(np.ones_like(p1)))
    return _result("rate ratio", method, level, scalar, est, lower, upper, pval, 1.0, p1, p0)


# ---------------------------------------------------------------------------------------------
# Odds ratio


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    from scipy import special

    return np.asarray(
        special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
    )


def _exact_or_one(x1: int, n1: int, x0: int, n0: int, alpha: float) -> tuple[float, ...]:
    """Conditional MLE, Cornfield exact limits and Fisher's p-value for one table."""
    from scipy import optimize, special, stats

    m = x1 + x0
    big_n = n1 + n0
    lo, hi = max(0, m - n0), min(n1, m)
    if lo == hi:  # m = 0 or m = N: the odds ratio is not identified
        return math.nan, 0.0, math.inf, 1.0
    # Fisher's exact test (psi = 1) on the whole support: the sum of the null probabilities no
    # larger than the observed one, with R's relative tolerance 1e-7 for ties.
    full = np.arange(lo, hi + 1, dtype=float)
    log_null = stats.hypergeom.logpmf(full, big_n, n1, m)
    log_obs = log_null[x1 - lo]
    keep = log_null <= log_obs + math.log1p(1e-7)
    p = float(min(1.0, np.exp(special.logsumexp(log_null[keep]))))
    # The limits and the MLE only need the support near x1: at the solutions the distribution
    # of X has standard deviation at most sqrt(min(n1, n0, m, N - m) / 4), so a window of 40
    # such deviations around x1 holds all but a negligible fraction of the probability; for
    # other psi the windowed tails are still on the correct side of alpha/2.
    half = int(40 * math.sqrt(min(n1, n0, m, big_n - m) / 4.0)) + 50
    support = np.arange(max(lo, x1 - half), min(hi, x1 + half) + 1, dtype=float)
    base = _log_choose(np.full_like(support, n1), support) + _log_choose(
        np.full_like(support, n0), m - support
    )

    at_or_above = support >= x1
    at_or_below = support <= x1

    def weights(t: float) -> np.ndarray:  # unnormalised probabilities, largest = 1
        w = base + support * t
        return np.exp(w - w.max())

    def upper_tail(t: float) -> float:  # P(X >= x1 | log OR = t), increasing in t
        w = weights(t)
        return float(w[at_or_above].sum() / w.sum())

    def lower_tail(t: float) -> float:  # P(X <= x1 | log OR = t), decreasing in t
        w = weights(t)
        return float(w[at_or_below].sum() / w.sum())

    def mean(t: float) -> float:
        w = weights(t)
        return float((support * w).sum() / w.sum())

    def solve(f: Any) -> float:
        a, b = -2.0, 2.0
        fa, fb = f(a), f(b)
        while fa * fb > 0:
            a, b = a * 2.0, b * 2.0
            fa, fb = f(a), f(b)
        return float(optimize.brentq(f, a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps))

    est = 0.0 if x1 == lo else math.inf if x1 == hi else math.exp(solve(lambda t: mean(t) - x1))
    lower = 0.0 if x1 == lo else math.exp(solve(lambda t: upper_tail(t) - alpha / 2.0))
    upper = math.inf if x1 == hi else math.exp(solve(lambda t: lower_tail(t) - alpha / 2.0))
    return est, lower, upper, p


def odds_ratio(
    x1: Any,
    n1: Any,
    x0: Any,
    n0: Any,
    *,
    method: str = "miettinen-nurminen",
    conf_level: float = 0.95,
) -> ComparisonEstimate:
    """Odds ratio of two independent proportions with a confidence interval.

    The odds ratio is ``[x1 / (n1 - x1)] / [x0 / (n0 - x0)]``.

    Parameters
    ----------
    x1, n1, x0, n0
        Events and people in group 1 and group 0; whole numbers, ``0 <= x <= n``, ``n >= 1``;
        scalars or arrays.
    method
        ``"miettinen-nurminen"`` (default): inverts the Miettinen & Nurminen (1985) score test
        for the odds ratio. ``"woolf"``: the Wald interval on the log scale (Woolf 1955).
        ``"exact"``: the conditional exact interval of Cornfield (1956), inverting Fisher's
        exact test, as R's ``fisher.test``; its estimate is the conditional maximum-likelihood
        odds ratio and its p-value Fisher's two-sided exact p-value. ``"exact"`` loops over the
        distinct tables, so prefer the score method for very many tables.
    conf_level
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ComparisonEstimate

    Raises
    ------
    InputError
        As :func:`rate_difference`.

    Notes
    -----
    Assumes two independent binomial samples. Report the odds ratio when a logistic model or a
    case–control design calls for it; for a reoffending rate the rate ratio or difference is
    easier to read, and the odds ratio exaggerates the rate ratio when the outcome is common.

    *Boundaries.* The estimate and the lower limit are 0 when ``x1 = 0`` or ``x0 = n0``; the
    estimate and the upper limit are ``inf`` when ``x0 = 0`` or ``x1 = n1``. When every person
    had the event, or nobody did, the odds ratio is undefined (``estimate`` NaN) and the
    interval is ``0`` to ``inf``. ``"woolf"`` returns ``0`` to ``inf`` whenever a cell is zero
    (infinite variance), with a NaN p-value.

    The exact interval is conservative: its coverage is at least nominal, often well above.

    References
    ----------
    Miettinen O, Nurminen M (1985). Comparative analysis of two rates. *Statistics in Medicine*
    4:213–226. doi:10.1002/sim.4780040211

    Woolf B (1955). On estimating the relation between blood group and disease. *Annals of
    Human Genetics* 19:251–253. doi:10.1111/j.1469-1809.1955.tb01348.x

    Cornfield J (1956). A statistical problem arising from retrospective studies. *Proceedings
    of the Third Berkeley Symposium on Mathematical Statistics and Probability* 4:135–148.

    Fisher RA (1935). The logic of inductive inference. *Journal of the Royal Statistical
    Society* 98:39–82.

    Examples
    --------
    >>> import evalkit as ek
    >>> r = ek.odds_ratio(9, 13, 4, 14)
    >>> round(r.estimate, 4), round(r.lower, 4), round(r.upper, 4)
    (5.625, 1.0934, 28.9419)
    """
    method, level, z = _options("odds_ratio", method, conf_level)
    x1a, n1a, x0a, n0a, p1, p0, scalar = _two_groups(x1, n1, x0, n0)
    a, b, c, d = x1a, n1a - x1a, x0a, n0a - x0a
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (a * d) / (b * c)
    if method == "woolf":
        zero_cell = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
            log_est = np.log(est)
            lower = np.where(zero_cell, 0.0, np.exp(log_est - z * se))
            upper = np.where(zero_cell, np.inf, np.exp(log_est + z * se))
            pval = np.where(zero_cell, np.nan, p_two_sided(log_est / se))
    elif method == "miettinen-nurminen":

        def stat(psi: np.ndarray) -> np.ndarray:
            return _or_score(x1a, n1a, x0a, n0a, psi)

        centre = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
        undefined = (a + c == 0) | (b + d == 0)
        lower, upper = _log_ratio_limits(
            stat, z, centre, (a == 0) | (d == 0) | undefined, (b == 0) | (c == 0) | undefined
        )
        with np.errstate(all="ignore"):
            pval = p_two_sided(stat(np.ones_like(p1)))
        pval = np.where(undefined, 1.0, pval)
    else:  # exact
        flat = np.stack([v.ravel() for v in (x1a, n1a, x0a, n0a)], axis=1).astype(np.int64)
        tables, inverse = np.unique(flat, axis=0, return_inverse=True)
        alpha = 1.0 - level
        res = np.array(
            [_exact_or_one(int(t[0]), int(t[1]), int(t[2]), int(t[3]), alpha) for t in tables],
            dtype=float,
        )
        res = res[np.asarray(inverse).ravel()]
        shape = x1a.shape
        est, lower, upper, pval = (res[:, k].reshape(shape) for k in range(4))
    return _result("odds ratio", method, level, scalar, est, lower, upper, pval, 1.0, p1, p0)
