"""Confidence intervals for comparing two proportions: differences, ratios and odds ratios.

A diversion evaluation usually ends in a two-by-two table: ``x1`` of ``n1`` people in the
programme group reoffended, against ``x0`` of ``n0`` in the comparison group. This module gives
intervals for the rate difference ``p1 - p0``, the rate ratio ``p1 / p0`` and the odds ratio,
for independent groups, and for the difference of two paired proportions (the same people
measured twice).

Every function accepts plain numbers or numpy arrays of counts (broadcast against each other),
so a table of many comparisons is one call. All limits are finite numbers or, for ratios where
that is the mathematically correct answer, ``0`` and ``inf``; counts of ``0`` or ``n`` in either
group never raise, warn or return NaN limits.

The score intervals (Miettinen–Nurminen, Mee, Koopman) are computed here from first principles:
the restricted maximum-likelihood estimates have closed forms (a cubic for the difference, a
quadratic for the ratio and the odds ratio) and the confidence limits are found by bisection of
the score statistic, vectorised over tables. They do not use statsmodels, whose
Miettinen–Nurminen interval is wrong (for 56/70 vs 48/80 it gives 0.0526 to 0.3440 rather than
the published 0.0528 to 0.3382).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from evalkit._results import Estimate
from evalkit.errors import InputError
from evalkit.schema import check_level

__all__ = [
    "PROPORTION_METHODS",
    "ComparisonEstimate",
    "odds_ratio",
    "paired_rate_difference",
    "rate_difference",
    "rate_ratio",
]

#: Valid ``method`` values of each function; the first is the default.
PROPORTION_METHODS: dict[str, tuple[str, ...]] = {
    "rate_difference": ("newcombe", "miettinen-nurminen", "mee", "agresti-caffo", "wald"),
    "rate_ratio": ("koopman", "miettinen-nurminen", "katz"),
    "odds_ratio": ("miettinen-nurminen", "woolf", "exact"),
    "paired_rate_difference": ("newcombe", "wald"),
}

# Upper bound on bisection halvings; brackets stop early once narrower than ~1e-15.
_BISECT_STEPS = 200


@dataclass(frozen=True)
class ComparisonEstimate(Estimate):
    """A comparison of two proportions: estimate, confidence interval and (where natural) a test.

    Extends :class:`evalkit._results.Estimate`. When the function was called with arrays of
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
    p_value
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

    measure: str = ""
    p_value: Any = math.nan
    null: float = 0.0
    rate1: Any = math.nan
    rate0: Any = math.nan

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with one row per table.

        Columns: ``measure, method, estimate, lower, upper, conf_level, p, rate1, rate0``.
        """
        est = np.atleast_1d(np.asarray(self.estimate, dtype=float)).ravel()
        size = est.size

        def col(value: Any) -> np.ndarray:
            return np.broadcast_to(np.asarray(value, dtype=float), np.shape(self.estimate)).ravel()

        return pd.DataFrame(
            {
                "measure": [self.measure] * size,
                "method": [self.method] * size,
                "estimate": est,
                "lower": col(self.lower),
                "upper": col(self.upper),
                "conf_level": [self.conf_level] * size,
                "p": col(self.p_value),
                "rate1": col(self.rate1),
                "rate0": col(self.rate0),
            }
        )

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


# ---------------------------------------------------------------------------------------------
# Validation


def _counts(value: Any, name: str) -> np.ndarray:
    """A whole, finite, non-negative count (scalar or array) as float64."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy accepts nearly anything
        raise InputError(name, f"must be a number or an array of numbers ({exc})") from exc
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise InputError(name, f"must be a whole number of people, not {type(value).__name__}")
    arr = arr.astype(float)
    if arr.size == 0:
        raise InputError(name, "is empty")
    for bad, rule in (
        (~np.isfinite(arr), "must be finite"),
        (arr < 0, "must not be negative"),
        (arr != np.round(arr), "must be a whole number"),
    ):
        bad = np.asarray(bad)
        if bad.any():
            _raise(name, rule, arr, bad)
    return arr


def _raise(name: str, rule: str, arr: np.ndarray, bad: np.ndarray) -> None:
    if arr.ndim == 0:
        raise InputError(name, f"{rule} (got {arr.item():g})")
    raise InputError(name, rule, [tuple(i) if len(i) > 1 else i[0] for i in np.argwhere(bad)])


def _check_shapes(**arrays: np.ndarray) -> None:
    """Raise InputError (naming the first argument that does not fit) if shapes don't broadcast."""
    shape: tuple[int, ...] = ()
    for name, arr in arrays.items():
        try:
            shape = np.broadcast_shapes(shape, np.shape(arr))
        except ValueError:
            raise InputError(
                name, f"has shape {np.shape(arr)}, which does not match the other counts {shape}"
            ) from None


def _check_totals(x: np.ndarray, n: np.ndarray, xname: str, nname: str) -> None:
    bad = np.broadcast_to(n == 0, np.broadcast_shapes(x.shape, n.shape))
    if bad.any():
        _raise(
            nname,
            "must be at least 1 (a group with nobody in it)",
            np.broadcast_to(n, bad.shape),
            bad,
        )
    bad = x > n
    if np.any(bad):
        shape = np.broadcast_shapes(x.shape, n.shape)
        xb, nb = np.broadcast_to(x, shape), np.broadcast_to(n, shape)
        if xb.ndim == 0:
            raise InputError(
                xname, f"must not exceed {nname} (got {xname}={xb.item():g}, {nname}={nb.item():g})"
            )
        _raise(xname, f"must not exceed {nname}", xb, np.asarray(bad))


def _check_method(method: Any, function: str) -> str:
    valid = PROPORTION_METHODS[function]
    if method not in valid:
        listed = ", ".join(repr(m) for m in valid)
        raise InputError("method", f"got {method!r}; valid values are {listed}")
    return str(method)


def _two_groups(
    x1: Any, n1: Any, x0: Any, n0: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    a1, m1, a0, m0 = (_counts(v, k) for v, k in ((x1, "x1"), (n1, "n1"), (x0, "x0"), (n0, "n0")))
    _check_shapes(x1=a1, n1=m1, x0=a0, n0=m0)
    _check_totals(a1, m1, "x1", "n1")
    _check_totals(a0, m0, "x0", "n0")
    scalar = all(np.ndim(v) == 0 for v in (a1, m1, a0, m0))
    b1, c1, b0, c0 = np.broadcast_arrays(a1, m1, a0, m0)
    return b1.astype(float), c1.astype(float), b0.astype(float), c0.astype(float), scalar


def _out(value: np.ndarray, scalar: bool) -> Any:
    return float(value) if scalar else np.asarray(value, dtype=float)


def _result(
    measure: str,
    method: str,
    level: float,
    scalar: bool,
    est: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    p_value: np.ndarray,
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
        p_value=_out(p_value, scalar),
        null=null,
        rate1=_out(rate1, scalar),
        rate0=_out(rate0, scalar),
    )


def _z(conf_level: float) -> float:
    return float(stats.norm.isf((1.0 - conf_level) / 2.0))


def _p_two_sided(z: np.ndarray) -> np.ndarray:
    return np.asarray(2.0 * stats.norm.sf(np.abs(z)), dtype=float)


# ---------------------------------------------------------------------------------------------
# Shared numerics


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval for one proportion, exact 0 and 1 at the boundaries."""
    z2 = z * z
    centre = (x + z2 / 2.0) / (n + z2)
    half = z * np.sqrt(x * (n - x) / n + z2 / 4.0) / (n + z2)
    lo = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(x == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def _bisect_decreasing(
    f: Any, lo: np.ndarray, hi: np.ndarray, xtol: float = 1e-15, rtol: float = 4e-16
) -> np.ndarray:
    """Root of a decreasing function on [lo, hi], elementwise (f(lo) >= 0 >= f(hi) assumed).

    Halves every bracket until it is narrower than ``xtol + rtol * |root|`` everywhere (at most
    ``_BISECT_STEPS`` times).
    """
    lo = lo.copy()
    hi = hi.copy()
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if np.all(hi - lo <= xtol + rtol * np.abs(mid)):
            break
        positive = f(mid) > 0
        lo = np.where(positive, mid, lo)
        hi = np.where(positive, hi, mid)
    return 0.5 * (lo + hi)


def _signed_ratio(num: np.ndarray, var: np.ndarray) -> np.ndarray:
    """num / sqrt(var), with 0 where num is 0 (no evidence) and ±inf where only var is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / np.sqrt(var)
    out = np.where(np.isnan(out), np.copysign(np.inf, num), out)
    return np.where(num == 0, 0.0, out)


def _log_ratio_limits(
    stat: Any,
    z: float,
    centre: np.ndarray,
    lower_zero: np.ndarray,
    upper_inf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Limits of a ratio from a score statistic ``stat(theta)`` that decreases in theta.

    The lower limit solves stat = z and the upper stat = -z; they are searched on the log scale
    in a bracket around ``centre`` (a finite log-ratio) that is widened until it contains the
    root. ``lower_zero`` / ``upper_inf`` mark tables whose limit is 0 / inf exactly.
    """

    def g(t: np.ndarray, target: float) -> np.ndarray:
        return np.asarray(stat(np.exp(t)), dtype=float) - target

    limits = []
    for target, fixed in ((z, lower_zero), (-z, upper_inf)):
        lo = centre - 40.0
        hi = centre + 40.0
        active = ~fixed
        for _ in range(30):  # widen until g(lo) >= 0 >= g(hi) wherever a root must exist
            with np.errstate(all="ignore"):
                need_lo = active & (g(lo, target) < 0)
                need_hi = active & (g(hi, target) > 0)
            if not (need_lo.any() or need_hi.any()):
                break
            lo = np.where(need_lo, np.maximum(lo - 40.0, -700.0), lo)
            hi = np.where(need_hi, np.minimum(hi + 40.0, 700.0), hi)
        with np.errstate(all="ignore"):
            t = _bisect_decreasing(lambda u, tg=target: g(u, tg), lo, hi)
        limits.append(np.exp(t))
    lower = np.where(lower_zero, 0.0, limits[0])
    upper = np.where(upper_inf, np.inf, limits[1])
    return lower, upper


# ---------------------------------------------------------------------------------------------
# Rate difference


def _fm_cubic_root(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    """Restricted MLE of p1 under p1 - p0 = delta: the closed-form root of a cubic.

    Miettinen & Nurminen (1985), Appendix 1, in the notation of Farrington & Manning (1990),
    eqs (3)–(5), followed by two guarded Newton steps on the cubic, which restore full relative
    precision when the root is close to 0 (the trigonometric formula loses it there).
    """
    p1h = x1 / n1
    p0h = x0 / n0
    theta = n0 / n1
    a = 1.0 + theta
    b = -(1.0 + theta + p1h + theta * p0h + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1h + theta + 1.0) + p1h + theta * p0h
    d = -p1h * delta * (1.0 + delta)
    v = b**3 / (27.0 * a**3) - b * c / (6.0 * a * a) + d / (2.0 * a)
    u = np.where(v >= 0, 1.0, -1.0) * np.sqrt(
        np.maximum(b * b / (9.0 * a * a) - c / (3.0 * a), 0.0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cosarg = np.where(u != 0, v / u**3, 0.0)
    w = (np.pi + np.arccos(np.clip(cosarg, -1.0, 1.0))) / 3.0
    lo = np.maximum(0.0, delta)
    hi = np.minimum(1.0, 1.0 + delta)
    root = np.clip(2.0 * u * np.cos(w) - b / (3.0 * a), lo, hi)
    for _ in range(2):
        f = ((a * root + b) * root + c) * root + d
        fprime = (3.0 * a * root + 2.0 * b) * root + c
        with np.errstate(divide="ignore", invalid="ignore"):
            new = root - f / fprime
        fnew = ((a * new + b) * new + c) * new + d
        better = np.isfinite(new) & (new >= lo) & (new <= hi) & (np.abs(fnew) <= np.abs(f))
        root = np.where(better, new, root)
    return root


def _rd_restricted_mle(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximum-likelihood (p1, q1, p0, q0) subject to p1 - p0 = delta.

    The cubic is solved for p1 when p1 <= 1/2 and, with events and non-events swapped, for
    q1 = 1 - p1 otherwise, so that whichever of p1 and q1 is small is computed directly (to full
    relative precision) rather than as 1 minus a number close to 1.
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in (x1, n1, x0, n0, delta)))
    x1, n1, x0, n0, delta = (
        np.broadcast_to(v, shape).ravel().astype(float) for v in (x1, n1, x0, n0, delta)
    )
    p1t = np.asarray(_fm_cubic_root(x1, n1, x0, n0, delta), dtype=float)
    q1t = 1.0 - p1t
    upper = p1t > 0.5
    if upper.any():
        q1t[upper] = _fm_cubic_root(
            n1[upper] - x1[upper], n1[upper], n0[upper] - x0[upper], n0[upper], -delta[upper]
        )
        p1t[upper] = 1.0 - q1t[upper]
    p1t, q1t, delta = p1t.reshape(shape), q1t.reshape(shape), delta.reshape(shape)
    p0t = np.clip(p1t - delta, 0.0, 1.0)
    q0t = np.clip(q1t + delta, 0.0, 1.0)
    return p1t, q1t, p0t, q0t


def _rd_score(
    x1: np.ndarray,
    n1: np.ndarray,
    x0: np.ndarray,
    n0: np.ndarray,
    delta: np.ndarray,
    bias_correction: bool,
) -> np.ndarray:
    """Signed score statistic for H: p1 - p0 = delta (decreasing in delta)."""
    p1t, q1t, p0t, q0t = _rd_restricted_mle(x1, n1, x0, n0, delta)
    var = p1t * q1t / n1 + p0t * q0t / n0
    if bias_correction:
        big_n = n1 + n0
        var = var * big_n / (big_n - 1.0)
    return _signed_ratio(x1 / n1 - x0 / n0 - delta, var)


def _rd_score_interval(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, z: float, bias_correction: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    est = x1 / n1 - x0 / n0

    def stat(delta: np.ndarray) -> np.ndarray:
        return _rd_score(x1, n1, x0, n0, delta, bias_correction)

    ones = np.ones_like(est)
    with np.errstate(all="ignore"):
        lower = _bisect_decreasing(lambda d: stat(d) - z, -ones, est)
        upper = _bisect_decreasing(lambda d: stat(d) + z, est, ones)
        p = _p_two_sided(stat(np.zeros_like(est)))
    lower = np.where(est == -1.0, -1.0, lower)
    upper = np.where(est == 1.0, 1.0, upper)
    return lower, upper, p


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
        ``estimate`` (= ``x1/n1 - x0/n0``), ``lower``, ``upper``, ``p_value`` (score test of
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
    >>> round(r.lower, 4), round(r.upper, 4), round(r.p_value, 4)
    (0.0528, 0.3382, 0.0083)
    """
    method = _check_method(method, "rate_difference")
    level = check_level(conf_level)
    x1a, n1a, x0a, n0a, scalar = _two_groups(x1, n1, x0, n0)
    z = _z(level)
    p1 = x1a / n1a
    p0 = x0a / n0a
    est = p1 - p0
    p_value = np.full_like(est, np.nan)
    if method == "newcombe":
        l1, u1 = _wilson(x1a, n1a, z)
        l0, u0 = _wilson(x0a, n0a, z)
        lower = est - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        upper = est + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    elif method in ("miettinen-nurminen", "mee"):
        lower, upper, p_value = _rd_score_interval(
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
        p_value = _p_two_sided(_signed_ratio(est, se * se))
    lower = np.clip(lower, -1.0, 1.0)
    upper = np.clip(upper, -1.0, 1.0)
    return _result(
        "rate difference", method, level, scalar, est, lower, upper, p_value, 0.0, p1, p0
    )


# ---------------------------------------------------------------------------------------------
# Rate ratio


def _rr_score(
    x1: np.ndarray,
    n1: np.ndarray,
    x0: np.ndarray,
    n0: np.ndarray,
    theta: np.ndarray,
    bias_correction: bool,
) -> np.ndarray:
    """Signed score statistic for H: p1 / p0 = theta (decreasing in theta).

    Restricted MLE: the root in [0, 1] of N·theta·p0² − (n1·theta + x1 + n0 + x0·theta)·p0 +
    (x1 + x0) = 0 (Miettinen & Nurminen 1985; Koopman 1984), computed in a form that neither
    cancels nor overflows for theta from 1e-300 to 1e300.
    """
    big_n = n1 + n0
    m = x1 + x0
    big = theta >= 1.0
    inv = np.where(big, 1.0 / theta, 1.0)
    th = np.where(big, 1.0, theta)
    # Dividing the quadratic by theta when theta >= 1 keeps every coefficient bounded.
    a = big_n * th
    b = n1 * th + x0 * th + (x1 + n0) * inv
    c = m * inv
    disc = np.maximum(b * b - 4.0 * a * c, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p0t = np.where(m == 0, 0.0, 2.0 * c / (b + np.sqrt(disc)))
    p0t = np.clip(p0t, 0.0, np.minimum(1.0, 1.0 / theta))
    p1t = np.minimum(theta * p0t, 1.0)
    var = p1t * (1.0 - p1t) / n1 + theta * p1t * (1.0 - p0t) / n0  # theta**2 p0 q0 = theta p1 q0
    if bias_correction:
        var = var * big_n / (big_n - 1.0)
    return _signed_ratio(x1 / n1 - theta * (x0 / n0), var)


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
        ``estimate``, ``lower``, ``upper``, ``p_value`` (score test of ratio 1 for the score
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
    method = _check_method(method, "rate_ratio")
    level = check_level(conf_level)
    x1a, n1a, x0a, n0a, scalar = _two_groups(x1, n1, x0, n0)
    z = _z(level)
    p1 = x1a / n1a
    p0 = x0a / n0a
    with np.errstate(divide="ignore", invalid="ignore"):
        est = p1 / p0
    if method == "katz":
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(1.0 / x1a - 1.0 / n1a + 1.0 / x0a - 1.0 / n0a)
            log_est = np.log(est)
            lower = np.exp(log_est - z * se)
            upper = np.exp(log_est + z * se)
            p_value = _p_two_sided(log_est / se)
        zero_cell = (x1a == 0) | (x0a == 0)
        lower = np.where(zero_cell, 0.0, lower)
        upper = np.where(zero_cell, np.inf, upper)
        p_value = np.where(zero_cell | (se == 0), np.nan, p_value)
        p_value = np.where((se == 0) & ~zero_cell, 1.0, p_value)
    else:
        bc = method == "miettinen-nurminen"

        def stat(theta: np.ndarray) -> np.ndarray:
            return _rr_score(x1a, n1a, x0a, n0a, theta, bc)

        centre = np.log((x1a + 0.5) / (n1a + 0.5)) - np.log((x0a + 0.5) / (n0a + 0.5))
        lower, upper = _log_ratio_limits(stat, z, centre, x1a == 0, x0a == 0)
        with np.errstate(all="ignore"):
            p_value = _p_two_sided(stat(np.ones_like(p1)))
    return _result("rate ratio", method, level, scalar, est, lower, upper, p_value, 1.0, p1, p0)


# ---------------------------------------------------------------------------------------------
# Odds ratio


def _cornfield_cell(na: np.ndarray, nb: np.ndarray, ma: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Expected events in group A given ``ma`` events in all and odds ratio ``psi <= 1`` (A vs B).

    Cornfield's quadratic (1 - psi) E² + (nb - ma + psi (na + ma)) E - psi na ma = 0, root in
    [max(0, ma - nb), min(na, ma)]. For psi <= 1 every term under the square root is positive
    and the root is taken in whichever algebraic form does not cancel, so E has full relative
    precision even when it is tiny.
    """
    a = 1.0 - psi
    b = nb - ma + psi * (na + ma)
    s = np.sqrt(b * b + 4.0 * a * psi * na * ma)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(b > 0, 2.0 * psi * na * ma / (b + s), (s - b) / (2.0 * a))
    e = np.where(ma == 0, 0.0, e)
    return np.clip(e, np.maximum(0.0, ma - nb), np.minimum(na, ma))


def _or_cells(
    n1: np.ndarray, n0: np.ndarray, m: np.ndarray, psi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expected cells (events 1, non-events 1, events 0, non-events 0) under odds ratio psi.

    The two cells that vanish as psi moves away from 1 (events in group 1 and non-events in
    group 0 when psi < 1; the other two when psi > 1) are computed directly with
    :func:`_cornfield_cell`; the other two, which tend to whole numbers, by subtraction from
    the margins. Valid for psi from 1e-300 to 1e300.
    """
    big_n = n1 + n0
    small = psi <= 1.0
    with np.errstate(divide="ignore", over="ignore"):
        inv = np.where(small, 1.0, 1.0 / psi)
    ps = np.where(small, psi, inv)
    # psi <= 1: E1 and F0 directly.  psi > 1: F1 (non-events, OR 1/psi) and E0 (OR 1/psi).
    d1 = _cornfield_cell(n1, n0, np.where(small, m, big_n - m), ps)  # E1 or F1
    d0 = _cornfield_cell(n0, n1, np.where(small, big_n - m, m), ps)  # F0 or E0
    e1 = np.where(small, d1, n1 - d1)
    f1 = np.where(small, n1 - d1, d1)
    f0 = np.where(small, d0, n0 - d0)
    e0 = np.where(small, n0 - d0, d0)
    return e1, f1, e0, f0


def _or_score(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, psi: np.ndarray
) -> np.ndarray:
    """Miettinen–Nurminen signed score statistic for H: odds ratio = psi (decreasing in psi)."""
    m = x1 + x0
    big_n = n1 + n0
    e1, f1, e0, f0 = _or_cells(n1, n0, m, psi)
    v1 = e1 * f1 / n1  # n1 p1 q1 under H
    v0 = e0 * f0 / n0  # n0 p0 q0 under H
    with np.errstate(divide="ignore", invalid="ignore"):
        info = (1.0 / v1 + 1.0 / v0) * (big_n - 1.0) / big_n
    # x1 - E1 written as (x1 - n1) + F1 when psi > 1, where F1 is the precise cell
    resid = np.where(psi <= 1.0, x1 - e1, (x1 - n1) + f1)
    return _signed_ratio(resid, 1.0 / info)


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.asarray(
        special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
    )


def _exact_or_one(x1: int, n1: int, x0: int, n0: int, alpha: float) -> tuple[float, ...]:
    """Conditional MLE, Cornfield exact limits and Fisher's p-value for one table."""
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
    method = _check_method(method, "odds_ratio")
    level = check_level(conf_level)
    x1a, n1a, x0a, n0a, scalar = _two_groups(x1, n1, x0, n0)
    z = _z(level)
    p1 = x1a / n1a
    p0 = x0a / n0a
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
            p_value = np.where(zero_cell, np.nan, _p_two_sided(log_est / se))
    elif method == "miettinen-nurminen":

        def stat(psi: np.ndarray) -> np.ndarray:
            return _or_score(x1a, n1a, x0a, n0a, psi)

        centre = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
        undefined = (a + c == 0) | (b + d == 0)
        lower, upper = _log_ratio_limits(
            stat, z, centre, (a == 0) | (d == 0) | undefined, (b == 0) | (c == 0) | undefined
        )
        with np.errstate(all="ignore"):
            p_value = _p_two_sided(stat(np.ones_like(p1)))
        p_value = np.where(undefined, 1.0, p_value)
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
        est, lower, upper, p_value = (res[:, k].reshape(shape) for k in range(4))
    return _result("odds ratio", method, level, scalar, est, lower, upper, p_value, 1.0, p1, p0)


# ---------------------------------------------------------------------------------------------
# Paired rate difference


def paired_rate_difference(
    both: Any,
    first_only: Any,
    second_only: Any,
    neither: Any,
    *,
    method: str = "newcombe",
    conf_level: float = 0.95,
) -> ComparisonEstimate:
    """Difference of two paired proportions (the same people, or matched pairs, measured twice).

    With the paired table

    ============  ============  ============
    \\             second: yes   second: no
    ============  ============  ============
    first: yes    ``both``      ``first_only``
    first: no     ``second_only``  ``neither``
    ============  ============  ============

    the first proportion is ``(both + first_only) / n``, the second ``(both + second_only) /
    n`` and their difference ``(first_only - second_only) / n``, with ``n`` the sum of the four.

    Parameters
    ----------
    both, first_only, second_only, neither
        Counts of pairs (whole numbers, not all zero); scalars or arrays.
    method
        ``"newcombe"`` (default): Newcombe's (1998b) method 10, the Wilson "square-and-add"
        interval corrected for the correlation between the two proportions (with his continuity
        adjustment of the phi coefficient). ``"wald"``: the simple asymptotic interval, for
        comparison with older reports.
    conf_level
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ComparisonEstimate
        ``rate1`` and ``rate0`` are the first and second proportions; ``p_value`` is NaN for
        ``"newcombe"`` (it inverts no test; McNemar's test answers the testing question) and
        the Wald test for ``"wald"``.

    Raises
    ------
    InputError
        Counts negative, non-integer or non-finite, or all four zero; bad ``conf_level`` or
        ``method``.

    Notes
    -----
    Use for before/after comparisons on the same people or for 1:1 matched pairs analysed as
    pairs. Limits are finite and within ``[-1, 1]`` for every table; they reach ``±1`` only
    when the estimate does.

    The correlation estimate is phi = (AD − BC − n/2)/√(efgh) when AD − BC > n/2, 0 when
    0 ≤ AD − BC ≤ n/2 and (AD − BC)/√(efgh) when AD < BC, where e, f, g, h are the four margins;
    phi is 0 when a margin is 0 (Newcombe 1998b, section 3, method 10).

    References
    ----------
    Newcombe RG (1998b). Improved confidence intervals for the difference between binomial
    proportions based on paired data. *Statistics in Medicine* 17:2635–2650.
    doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C

    Examples
    --------
    Newcombe's (1998b) example (a):

    >>> import evalkit as ek
    >>> r = ek.paired_rate_difference(36, 12, 2, 0)
    >>> round(r.estimate, 4), round(r.lower, 4), round(r.upper, 4)
    (0.2, 0.0569, 0.3404)
    """
    method = _check_method(method, "paired_rate_difference")
    level = check_level(conf_level)
    arrs = [
        _counts(v, k)
        for v, k in (
            (both, "both"),
            (first_only, "first_only"),
            (second_only, "second_only"),
            (neither, "neither"),
        )
    ]
    _check_shapes(both=arrs[0], first_only=arrs[1], second_only=arrs[2], neither=arrs[3])
    scalar = all(v.ndim == 0 for v in arrs)
    a, b, c, d = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(*arrs))
    n = a + b + c + d
    if np.any(n == 0):
        bad = n == 0
        if n.ndim == 0:
            raise InputError("both", "the four counts must not all be zero (no pairs)")
        raise InputError(
            "both",
            "the four counts must not all be zero (no pairs)",
            [tuple(i) if len(i) > 1 else i[0] for i in np.argwhere(bad)],
        )
    z = _z(level)
    p1 = (a + b) / n
    p2 = (a + c) / n
    est = (b - c) / n
    p_value = np.full_like(est, np.nan)
    if method == "newcombe":
        l1, u1 = _wilson(a + b, n, z)
        l2, u2 = _wilson(a + c, n, z)
        margins = (a + b) * (c + d) * (a + c) * (b + d)
        cross = a * d - b * c
        num = np.where(cross > n / 2.0, cross - n / 2.0, np.where(cross >= 0, 0.0, cross))
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(margins > 0, num / np.sqrt(margins), 0.0)
        dl1, du1 = p1 - l1, u1 - p1
        dl2, du2 = p2 - l2, u2 - p2
        lower = est - np.sqrt(np.maximum(dl1**2 - 2.0 * phi * dl1 * du2 + du2**2, 0.0))
        upper = est + np.sqrt(np.maximum(du1**2 - 2.0 * phi * du1 * dl2 + dl2**2, 0.0))
    else:  # wald
        se = np.sqrt(np.maximum((b + c) - (b - c) ** 2 / n, 0.0)) / n
        lower, upper = est - z * se, est + z * se
        p_value = _p_two_sided(_signed_ratio(est, se * se))
    lower = np.clip(lower, -1.0, 1.0)
    upper = np.clip(upper, -1.0, 1.0)
    return _result(
        "paired rate difference", method, level, scalar, est, lower, upper, p_value, 0.0, p1, p2
    )
