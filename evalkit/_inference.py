"""Shared inference: critical values, Wald intervals and tests, sandwich variances, delta method.

Every estimator takes its critical values, Wald limits and p-values from here, so a 95% interval
means the same thing in every table evalkit prints.

References
----------
Wald, A. (1943). Tests of statistical hypotheses concerning several parameters when the number
of observations is large. Trans. Amer. Math. Soc. 54, 426–482.
White, H. (1980). A heteroskedasticity-consistent covariance matrix estimator and a direct test
for heteroskedasticity. Econometrica 48(4), 817–838 (HC0; HC1 adds n/(n − k)).
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
J. Human Resources 50(2), 317–372, eq. (11) (CR1: G/(G − 1) · (N − 1)/(N − k)); as
``sandwich::vcovCL(type = "HC1")`` in R.
Zeileis, A., Köll, S. & Graham, N. (2020). Various versatile variances: an object-oriented
implementation of clustered covariances in R. J. Stat. Softw. 95(1), 1–36.
Oehlert, G. W. (1992). A note on the delta method. Amer. Statist. 46(1), 27–29.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DiffOfMeans",
    "critical",
    "delta_method",
    "diff_of_means_cr1",
    "p_two_sided",
    "safe_ratio",
    "sandwich",
    "wald",
]


def critical(conf_level: float, df: float = math.inf) -> float:
    """Two-sided critical value: the (1 + level)/2 quantile of t(df), or N(0, 1) if df is inf."""
    from scipy import stats

    q = 0.5 + conf_level / 2.0
    if math.isfinite(df):
        return float(stats.t.ppf(q, df))
    return float(stats.norm.ppf(q))


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN/inf where the denominator is 0 (no warnings)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num, dtype=float) / np.asarray(den, dtype=float)


def p_two_sided(statistic: np.ndarray | float, df: float = math.inf) -> np.ndarray:
    """Two-sided p of a Wald statistic against t(df), or N(0, 1) when df is infinite."""
    from scipy import stats

    a = np.abs(np.asarray(statistic, dtype=float))
    if math.isfinite(df):
        return np.asarray(2.0 * stats.t.sf(a, df))
    return np.asarray(2.0 * stats.norm.sf(a))


def wald(
    estimate: np.ndarray | float,
    se: np.ndarray | float,
    conf_level: float,
    df: float = math.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wald limits and test: ``(lower, upper, statistic, p)`` for estimate ± crit · se.

    ``statistic`` is estimate / se (NaN where se is 0 or NaN), ``p`` its two-sided p-value from
    t(df) or N(0, 1).
    """
    est = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    crit = critical(conf_level, df)
    stat = safe_ratio(est, s)
    return est - crit * s, est + crit * s, stat, p_two_sided(stat, df)


def sandwich(
    bread: np.ndarray,
    meat: np.ndarray,
    *,
    n_obs: int,
    n_params: int,
    n_clusters: int | None = None,
) -> np.ndarray:
    """CR1 (with ``n_clusters``) or HC1 sandwich ``c · B M B'`` from a bread and a meat.

    c = G/(G − 1) · (N − 1)/(N − k) with G clusters (Cameron & Miller 2015, eq. 11;
    ``sandwich::vcovCL(type = "HC1")``), or N/(N − k) without clusters (HC1). N is the number
    of observations even when the meat was summed over cells of identical rows. NaN when
    G < 2 or N ≤ k.
    """
    k = bread.shape[0]
    g = n_obs if n_clusters is None else n_clusters
    if g < 2 or n_obs <= n_params:
        return np.full((k, k), math.nan)
    factor = (g / (g - 1)) * ((n_obs - 1) / (n_obs - n_params))  # with g = n: n / (n - k)
    return factor * (bread @ meat @ bread.T)


def delta_method(gradient: np.ndarray, vcov: np.ndarray) -> float:
    """Variance of g(θ̂) by the delta method: ∇g' V ∇g (Oehlert 1992)."""
    grad = np.asarray(gradient, dtype=float)
    return float(grad @ np.asarray(vcov, dtype=float) @ grad)


@dataclass(frozen=True)
class DiffOfMeans:
    """Two weighted group means, their difference and its Wald interval and test."""

    treated: float
    control: float
    difference: float
    se: float
    lower: float
    upper: float
    p: float


def diff_of_means_cr1(
    y: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    clusters: np.ndarray | None,
    conf_level: float,
) -> DiffOfMeans:
    """Weighted difference of means (z = 1 minus z = 0) with a CR1 (or HC1) standard error.

    The slope of the weighted least-squares regression of ``y`` on ``[1, z]`` is the difference
    of the weighted group means; its sandwich variance with clusters is
    ``c · Σ_g (Σ_{i∈g} ψ_i)²`` with influence ψ_i = w_i e_i (z_i/W₁ − (1 − z_i)/W₀), residuals
    e_i from the group means, W₁ and W₀ the group weight totals and
    c = G/(G − 1) · (N − 1)/(N − 2) — ``lm(y ~ z, weights = w)`` with
    ``sandwich::vcovCL(cluster = ~cl, type = "HC1")``; with ``clusters=None`` (or one row per
    cluster) it is ``vcovHC(type = "HC1")``. Normal critical values, as ``lmtest::coefci``
    with ``df = Inf``. Groups with no weight, fewer than two clusters or fewer than three rows
    give NaN limits.
    """
    y = np.asarray(y, dtype=float)
    on = np.asarray(z) == 1
    w = np.asarray(w, dtype=float)
    w1, w0 = float(w[on].sum()), float(w[~on].sum())
    m1 = float((w * y)[on].sum() / w1) if w1 > 0 else math.nan
    m0 = float((w * y)[~on].sum() / w0) if w0 > 0 else math.nan
    diff = m1 - m0
    nan = DiffOfMeans(m1, m0, diff, math.nan, math.nan, math.nan, math.nan)
    n = len(y)
    if w1 <= 0 or w0 <= 0 or n < 3:
        return nan
    e = y - np.where(on, m1, m0)
    psi = w * e * np.where(on, 1.0 / w1, -1.0 / w0)
    if clusters is None:
        g, s = n, psi
    else:
        _, codes = np.unique(clusters, return_inverse=True)
        g = int(codes.max()) + 1
        s = np.bincount(codes, weights=psi, minlength=g)
    if g < 2:
        return nan
    var = g / (g - 1) * (n - 1) / (n - 2) * float(np.dot(s, s))
    if not var > 0:
        return nan
    se = math.sqrt(var)
    lower, upper, _, p = wald(diff, se, conf_level)
    return DiffOfMeans(m1, m0, diff, se, float(lower), float(upper), float(p))
