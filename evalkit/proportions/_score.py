"""Score statistics and the numerics behind the proportion intervals.

The restricted maximum-likelihood estimates under the null of each score test have closed forms
(a cubic for the rate difference, a quadratic for the rate ratio and the odds ratio); the
confidence limits are found by bisection of the score statistic, vectorised over tables. The
Wilson interval of one proportion is the building block of Newcombe's hybrid intervals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from evalkit._inference import p_two_sided

# Upper bound on bisection halvings; brackets stop early once narrower than ~1e-15.
_BISECT_STEPS = 200


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
    f: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    xtol: float = 1e-15,
    rtol: float = 4e-16,
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
    stat: Callable[[np.ndarray], np.ndarray],
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
            t = _bisect_decreasing(functools.partial(g, target=target), lo, hi)
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
        p = p_two_sided(stat(np.zeros_like(est)))
    lower = np.where(est == -1.0, -1.0, lower)
    upper = np.where(est == 1.0, 1.0, upper)
    return lower, upper, p


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
