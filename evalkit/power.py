"""Sample sizes, power and minimum detectable effects for comparing reoffending rates.

Two questions come before any diversion pilot: how many people are needed to detect a given
fall in the reoffending rate, and — the usual way round, since recruitment is fixed by the
number of eligible people — what is the smallest fall that a pilot of a given size could
detect. :func:`n_two_proportions`, :func:`power_two_proportions` and
:func:`mde_two_proportions` answer them for a binary outcome (reoffended within the follow-up
period or not); :func:`events_logrank` gives the number of events a time-to-reoffence
comparison needs; :func:`plan_pilot` puts the answer in a sentence for commissioners.

All functions accept numpy arrays (broadcast against each other) as well as plain numbers, so a
planning table is one call; they return a float when every argument is a plain number and a
numpy array of the broadcast shape otherwise (typed ``float | numpy.ndarray``). ``alpha`` is
always the two-sided significance level and ``allocation`` the number of comparison people per
programme person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from evalkit._inference import critical
from evalkit._options import check_choice, check_flag, check_probability
from evalkit.errors import InputError
from evalkit.proportions._checks import _broadcast, _out, _raise
from evalkit.results import Result

__all__ = [
    "LOGRANK_METHODS",
    "PilotPlan",
    "events_logrank",
    "mde_two_proportions",
    "n_two_proportions",
    "plan_pilot",
    "power_two_proportions",
]

#: Valid ``method`` values of :func:`events_logrank`; the first is the default.
LOGRANK_METHODS: tuple[str, ...] = ("schoenfeld", "freedman")


# ---------------------------------------------------------------------------------------------
# Validation


def _numbers(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        got = f", got {value!r}" if arr.ndim == 0 else ""
        raise InputError(name, f"must be a number or an array of numbers{got}", argument=True)
    arr = arr.astype(float)
    if arr.size == 0:
        raise InputError(name, "is empty", argument=True)
    _require(name, np.isfinite(arr), "must be finite", arr)
    return arr


def _require(name: str, ok: np.ndarray, rule: str, arr: np.ndarray) -> None:
    bad = ~np.broadcast_to(np.asarray(ok), np.shape(arr))
    if bad.any():
        _raise(name, rule, arr, bad)


def _rate(value: Any, name: str) -> np.ndarray:
    arr = _numbers(value, name)
    _require(name, (arr > 0) & (arr < 1), "must be a proportion strictly between 0 and 1", arr)
    return arr


def _positive(value: Any, name: str) -> np.ndarray:
    arr = _numbers(value, name)
    _require(name, arr > 0, "must be positive", arr)
    return arr


#: Hazard ratios and allocation ratios outside this range are refused: no design has them, and
#: their squares overflow in the sample-size formulas.
RATIO_RANGE = (1e-6, 1e6)


def _ratio(value: Any, name: str) -> np.ndarray:
    """A positive ratio within :data:`RATIO_RANGE` (a hazard ratio, an allocation ratio)."""
    arr = _positive(value, name)
    lo, hi = RATIO_RANGE
    _require(name, (arr >= lo) & (arr <= hi), f"must be between {lo:g} and {hi:g}", arr)
    return arr


def _levels(power: Any, alpha: Any) -> tuple[float, float, float]:
    """Checked power and two-sided alpha, with the critical value z_{α/2} of the test."""
    pw = check_probability(power, "power")
    al = check_probability(alpha, "alpha")
    return pw, al, critical(1.0 - al)


def _alpha(alpha: Any) -> tuple[float, float]:
    """Checked two-sided alpha and the critical value z_{α/2} of the test."""
    al = check_probability(alpha, "alpha")
    return al, critical(1.0 - al)


def _quantile(power: float) -> float:
    """z_β: the standard normal quantile at ``power``."""
    from scipy import stats

    return float(stats.norm.ppf(power))


# ---------------------------------------------------------------------------------------------
# Two proportions (Fleiss, Levin & Paik 2003, section 4.2)


def _n_fleiss(p1: np.ndarray, p0: np.ndarray, z_a: float, z_b: float, r: np.ndarray) -> np.ndarray:
    """Fleiss, Levin & Paik (2003) eq. 4.14: people in group 1; group 0 has r times as many."""
    pbar = (p1 + r * p0) / (1.0 + r)
    num = z_a * np.sqrt((r + 1.0) * pbar * (1.0 - pbar)) + z_b * np.sqrt(
        r * p1 * (1.0 - p1) + p0 * (1.0 - p0)
    )
    return num * num / (r * (p1 - p0) ** 2)


def _continuity(n: np.ndarray, p1: np.ndarray, p0: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Fleiss, Tytun & Ury (1980) continuity correction of a sample size from eq. 4.14."""
    return n / 4.0 * (1.0 + np.sqrt(1.0 + 2.0 * (r + 1.0) / (n * r * np.abs(p1 - p0)))) ** 2


def _power_fleiss(
    p1: np.ndarray,
    p0: np.ndarray,
    n1: np.ndarray,
    r: np.ndarray,
    z_a: float,
    continuity: bool,
) -> np.ndarray:
    """Power of the two-sided test with n1 and r*n1 people (eq. 4.14 solved for z_beta)."""
    delta = np.abs(p1 - p0)
    n = n1
    if continuity:
        # invert n_cc = n/4 (1 + sqrt(1 + A/n))² with A = 2 (r + 1) / (r delta):
        # n = (n_cc - A/4)² / n_cc
        quarter_a = (r + 1.0) / (2.0 * r * delta)
        n = np.where(n1 > quarter_a, (n1 - quarter_a) ** 2 / n1, 0.0)
    from scipy import stats

    pbar = (p1 + r * p0) / (1.0 + r)
    num = delta * np.sqrt(r * n) - z_a * np.sqrt((r + 1.0) * pbar * (1.0 - pbar))
    return np.asarray(stats.norm.cdf(num / np.sqrt(r * p1 * (1.0 - p1) + p0 * (1.0 - p0))))


def n_two_proportions(
    p1: ArrayLike,
    p0: ArrayLike,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    allocation: ArrayLike = 1.0,
    continuity: bool = False,
) -> float | np.ndarray:
    """People needed to compare two proportions with a two-sided test.

    Parameters
    ----------
    p1
        Expected proportion in group 1 (e.g. the programme group's reoffending rate).
    p0
        Expected proportion in group 0 (the comparison group); must differ from ``p1``.
    power
        Probability of a statistically significant result when the proportions are ``p1`` and
        ``p0``.
    alpha
        Two-sided significance level. For a one-sided test at level a, pass ``alpha=2*a``.
    allocation
        People in group 0 per person in group 1 (``n0 = allocation * n1``): 2 for two
        comparison people per programme person.
    continuity
        Apply the Fleiss, Tytun & Ury (1980) continuity correction (for a test with Yates'
        correction, or Fisher's exact test, which it approximates).

    Returns
    -------
    float or numpy.ndarray
        ``n1``, the number of people in group 1 (not rounded; round up). Group 0 needs
        ``allocation * n1``. A float when every argument is a number, else an array of the
        broadcast shape.

    Raises
    ------
    InputError
        Proportions outside (0, 1) or equal; ``power`` or ``alpha`` outside (0, 1);
        ``allocation`` not positive.

    Notes
    -----
    The normal approximation of Fleiss, Levin & Paik (2003), eq. 4.14:

    n1 = [z_{α/2} √((r + 1) p̄ q̄) + z_β √(r p1 q1 + p0 q0)]² / [r (p1 − p0)²],
    with r = ``allocation`` and p̄ = (p1 + r p0)/(1 + r),

    i.e. the pooled variance under the null hypothesis and the unpooled variance under the
    alternative. With equal groups this is exactly the formula of R's
    ``power.prop.test(p1, p2, power = , sig.level = )`` (``strict = FALSE``); ``strict = TRUE``
    also counts rejections in the wrong direction and gives very slightly smaller n.
    The formula assumes simple random samples analysed as independent binomials; for matched or
    clustered designs, or adjustment for covariates, it is only a starting point.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*, 3rd ed.
    Wiley. Section 4.2, eqs 4.14 and 4.18. doi:10.1002/0471445428

    Fleiss JL, Tytun A, Ury HK (1980). A simple approximation for calculating sample sizes for
    comparing independent proportions. *Biometrics* 36:343–346. doi:10.2307/2529990

    Examples
    --------
    25% against 51%, 80% power, 5% two-sided:

    >>> import evalkit as ek
    >>> round(ek.n_two_proportions(0.25, 0.51), 1)
    53.5
    >>> round(ek.n_two_proportions(0.25, 0.51, continuity=True), 1)
    61.0
    """
    a1, a0 = _rate(p1, "p1"), _rate(p0, "p0")
    r = _ratio(allocation, "allocation")
    pw, _, z_a = _levels(power, alpha)
    continuity = check_flag(continuity, "continuity")
    scalar = all(np.ndim(v) == 0 for v in (a1, a0, r))
    a1, a0, r = _broadcast(p1=a1, p0=a0, allocation=r)
    _require("p1", a1 != a0, "must differ from p0 (no difference needs infinitely many people)", a1)
    n = _n_fleiss(a1, a0, z_a, _quantile(pw), r)
    if continuity:
        n = _continuity(n, a1, a0, r)
    return _out(n, scalar)


def power_two_proportions(
    p1: ArrayLike,
    p0: ArrayLike,
    n1: ArrayLike,
    n0: ArrayLike,
    *,
    alpha: float = 0.05,
    continuity: bool = False,
) -> float | np.ndarray:
    """Power of the two-sided test comparing two proportions with ``n1`` and ``n0`` people.

    The inverse of :func:`n_two_proportions` (same formula, Fleiss, Levin & Paik 2003 eq.
    4.14, solved for the power; with ``continuity=True`` the continuity-corrected size is first
    converted back to the uncorrected one). Group sizes need not be whole numbers.

    Parameters
    ----------
    p1, p0
        Proportions in groups 1 and 0, strictly between 0 and 1.
    n1, n0
        People in groups 1 and 0 (positive).
    alpha
        Two-sided significance level.
    continuity
        As in :func:`n_two_proportions`.

    Returns
    -------
    float or numpy.ndarray
        The power (the probability of a significant difference in the direction of the true
        one).

    Examples
    --------
    >>> import evalkit as ek
    >>> round(ek.power_two_proportions(0.25, 0.51, 53.5157, 53.5157), 3)
    0.8
    """
    a1, a0 = _rate(p1, "p1"), _rate(p0, "p0")
    m1, m0 = _positive(n1, "n1"), _positive(n0, "n0")
    al, z_a = _alpha(alpha)
    continuity = check_flag(continuity, "continuity")
    scalar = all(np.ndim(v) == 0 for v in (a1, a0, m1, m0))
    a1, a0, m1, m0 = _broadcast(p1=a1, p0=a0, n1=m1, n0=m0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pw = _power_fleiss(a1, a0, m1, m0 / m1, z_a, continuity)
    pw = np.where(a1 == a0, al / 2.0, pw)  # no difference: only the one-tail rejection rate
    return _out(pw, scalar)


def mde_two_proportions(
    p0: ArrayLike,
    n1: ArrayLike,
    n0: ArrayLike,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    continuity: bool = False,
) -> float | np.ndarray:
    """Smallest detectable fall: the rate in group 1 below ``p0`` that gives the stated power.

    Parameters
    ----------
    p0
        Baseline proportion (the comparison group's expected reoffending rate).
    n1
        People in group 1 (the programme group).
    n0
        People in group 0 (the comparison group).
    power, alpha, continuity
        As in :func:`n_two_proportions` (two-sided ``alpha``).

    Returns
    -------
    float or numpy.ndarray
        The proportion ``p1 < p0`` at which the two-sided test has exactly ``power``; any lower
        true rate is detected with higher probability. NaN where even ``p1 = 0`` would not
        reach that power (the groups are too small for any reduction to be reliably detected).
        The minimum detectable effect is ``p0 - p1``.

    Raises
    ------
    InputError
        ``p0`` outside (0, 1); group sizes not positive; ``power`` or ``alpha`` outside (0, 1).

    Notes
    -----
    Solves :func:`power_two_proportions` ``(p1, p0, n1, n0) = power`` for ``p1`` in (0, p0)
    numerically: a grid of 64 points locates the largest ``p1`` with at least the stated
    power and bisection refines it to full precision, so the answer is the smallest detectable
    reduction even if the power curve were not monotone. Consistent with
    :func:`n_two_proportions`: ``n_two_proportions(mde, p0, allocation=n0/n1) == n1``. Only
    reductions are considered; for increases swap the roles of the rates.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*, 3rd ed.
    Wiley. Section 4.2.

    Examples
    --------
    240 people in each group, baseline 45%:

    >>> import evalkit as ek
    >>> round(ek.mde_two_proportions(0.45, 240, 240), 4)
    0.3257
    """
    b0 = _rate(p0, "p0")
    m1, m0 = _positive(n1, "n1"), _positive(n0, "n0")
    pw, _, z_a = _levels(power, alpha)
    continuity = check_flag(continuity, "continuity")
    scalar = all(np.ndim(v) == 0 for v in (b0, m1, m0))
    b0, m1, m0 = _broadcast(p0=b0, n1=m1, n0=m0)
    r = m0 / m1

    def excess(p1: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                _power_fleiss(p1, b0[..., None], m1[..., None], r[..., None], z_a, continuity) - pw
            )

    # grid on (0, p0): fractions of p0 from tiny to just below 1
    frac = np.linspace(0.0, 1.0, 65)[1:-1]
    tiny = 1e-12
    fr = np.concatenate([[tiny], frac, [1.0 - tiny]])
    grid = b0[..., None] * fr
    ok = excess(grid) >= 0
    # largest grid point with enough power, then bisection between it and the next one
    idx = np.where(ok.any(axis=-1), ok.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1), -1)
    found = idx >= 0
    lo_i = np.clip(idx, 0, fr.size - 1)
    hi_i = np.clip(idx + 1, 0, fr.size - 1)
    lo = b0 * fr[lo_i]
    hi = b0 * fr[hi_i]
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        enough = excess(mid[..., None])[..., 0] >= 0
        lo = np.where(enough, mid, lo)
        hi = np.where(enough, hi, mid)
    p1 = np.where(found, 0.5 * (lo + hi), np.nan)
    return _out(p1, scalar)


# ---------------------------------------------------------------------------------------------
# Log-rank test


def events_logrank(
    hr: ArrayLike,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    method: str = "schoenfeld",
    allocation: ArrayLike = 1.0,
) -> float | np.ndarray:
    """Number of events (reoffences, both groups together) a log-rank test needs.

    Parameters
    ----------
    hr
        Hazard ratio to detect, programme group against comparison group (positive, not 1).
    power
        Probability of a significant log-rank test when the hazard ratio is ``hr``.
    alpha
        Two-sided significance level.
    method
        ``"schoenfeld"`` (default): Schoenfeld (1983), d = (z_{α/2} + z_β)² / (π(1 − π)
        log² hr), with π the proportion of people in the programme group. ``"freedman"``:
        Freedman (1982), d = (z_{α/2} + z_β)² (r + hr)² / (r (1 − hr)²), with r =
        ``allocation``
        (for equal groups (1 + hr)² / (1 − hr)²).
    allocation
        People in the comparison group per person in the programme group (π = 1/(1 + r)).

    Returns
    -------
    float or numpy.ndarray
        Events needed (not rounded). To turn events into people, divide by the expected
        proportion who reoffend during follow-up.

    Raises
    ------
    InputError
        ``hr`` not positive or equal to 1; bad ``power``, ``alpha``, ``allocation`` or
        ``method``.

    Notes
    -----
    Both assume proportional hazards and that almost all information comes from the events.
    Schoenfeld's formula is the one implied by the Cox model score test; Freedman's is a little
    more conservative (larger) for hazard ratios below 1 with equal groups.

    References
    ----------
    Schoenfeld D (1983). Sample-size formula for the proportional-hazards regression model.
    *Biometrics* 39:499–503. doi:10.2307/2531021

    Freedman LS (1982). Tables of the number of patients required in clinical trials using the
    logrank test. *Statistics in Medicine* 1:121–129. doi:10.1002/sim.4780010204

    Examples
    --------
    >>> import evalkit as ek
    >>> round(ek.events_logrank(0.7), 1), round(ek.events_logrank(0.7, method="freedman"), 1)
    (246.8, 252.0)
    """
    method = check_choice(method, "method", LOGRANK_METHODS)
    h = _ratio(hr, "hr")
    r = _ratio(allocation, "allocation")
    pw, _, z_a = _levels(power, alpha)
    scalar = np.ndim(h) == 0 and np.ndim(r) == 0
    h, r = _broadcast(hr=h, allocation=r)
    _require("hr", h != 1.0, "must differ from 1 (no effect needs infinitely many events)", h)
    zz = (z_a + _quantile(pw)) ** 2
    if method == "schoenfeld":
        d = zz * (1.0 + r) ** 2 / (r * np.log(h) ** 2)
    else:
        d = zz * (r + h) ** 2 / (r * (1.0 - h) ** 2)
    return _out(d, scalar)


# ---------------------------------------------------------------------------------------------
# Pilot planner


@dataclass(frozen=True, eq=False, repr=False)
class PilotPlan(Result):
    """What a pilot of a given size can detect, with a sentence for commissioners.

    When :func:`plan_pilot` is called with arrays, numeric fields are numpy arrays (one element
    per scenario), ``sentence`` is a tuple of strings and :meth:`to_frame` has one row per
    scenario; with numbers they are floats and one string.

    Attributes
    ----------
    participants_per_month, months
        Recruitment rate and recruitment period, as given.
    allocation
        Comparison people per programme participant, as given.
    n_programme, n_comparison
        People in the programme group (``participants_per_month * months``) and in the
        comparison group (``allocation * n_programme``).
    baseline_rate
        Expected reoffending rate without the programme (the comparison group's rate).
    detectable_rate
        Reoffending rate in the programme group that the pilot detects with probability
        ``power``: the minimum detectable effect expressed as a rate. NaN when no reduction,
        not even to zero, would be detected with that probability.
    absolute_reduction
        ``baseline_rate - detectable_rate`` as a proportion (0.12 = 12 percentage points).
    relative_reduction
        ``absolute_reduction / baseline_rate`` (0.27 = a 27% fall).
    power, alpha
        Power and two-sided significance level used.
    sentence
        Plain-language summary.
    """

    _title: ClassVar[str] = "Pilot plan"

    participants_per_month: float | np.ndarray
    months: float | np.ndarray
    allocation: float | np.ndarray
    n_programme: float | np.ndarray
    n_comparison: float | np.ndarray
    baseline_rate: float | np.ndarray
    detectable_rate: float | np.ndarray
    absolute_reduction: float | np.ndarray
    relative_reduction: float | np.ndarray
    power: float
    alpha: float
    sentence: str | tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """DataFrame, one row per scenario, with a column for every attribute."""
        shape = np.shape(self.detectable_rate)
        size = int(np.prod(shape)) if shape else 1
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "sentence":
                data[f.name] = [value] if isinstance(value, str) else list(value)
            elif f.name in ("power", "alpha"):
                data[f.name] = [value] * size
            else:
                data[f.name] = np.broadcast_to(np.asarray(value, dtype=float), shape).ravel()
        return pd.DataFrame(data)


def _people(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"about {x:,.0f}"


def _a(percent: str) -> str:
    """'a' or 'an' before a percentage as it is read aloud ('an 80%', 'a 90%')."""
    digits = percent.rstrip("%").split(".")[0]
    return "an" if digits.startswith("8") or digits in ("11", "18") else "a"


def _sentence(
    per_month: float,
    months: float,
    n1: float,
    n0: float,
    p0: float,
    p1: float,
    power: float,
    alpha: float,
) -> str:
    recruit = (
        f"Recruiting {per_month:g} people a month for {months:g} months gives "
        f"{_people(n1)} in the programme group and {_people(n0)} in the comparison group."
    )
    test = f"a two-sided test at the {alpha:.0%} level"
    if math.isnan(p1):
        return (
            f"{recruit} That is too few: even if nobody in the programme group reoffended, the "
            f"chance of a result whose {1 - alpha:.0%} interval excludes no difference ({test}) "
            f"against a reoffending rate of {p0:.1%} would be below {power:.0%}. A longer or "
            "larger pilot is needed."
        )
    drop = p0 - p1
    chance = f"{power:.0%}"
    return (
        f"{recruit} The pilot has {_a(chance)} {chance} chance of showing a fall whose "
        f"{1 - alpha:.0%} interval excludes no difference ({test}) if the programme cuts the "
        f"reoffending rate from {p0:.1%} to {p1:.1%} or lower: a fall of at least "
        f"{100 * drop:.1f} percentage points, or {drop / p0:.0%} of the baseline rate. A "
        "smaller real effect could easily be missed, so an interval that includes no difference "
        "would not show that the programme does not work."
    )


def plan_pilot(
    participants_per_month: ArrayLike,
    months: ArrayLike,
    baseline_rate: ArrayLike,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    allocation: ArrayLike = 1.0,
    continuity: bool = False,
) -> PilotPlan:
    """What fall in reoffending a pilot of a given size can detect.

    Parameters
    ----------
    participants_per_month
        People expected to join the programme each month.
    months
        Length of the recruitment period in months.
    baseline_rate
        Expected proportion reoffending without the programme (e.g. the comparison group's or
        the national proven reoffending rate for similar people), strictly between 0 and 1.
    power
        Probability of detecting the effect (0.8 is conventional).
    alpha
        Two-sided significance level.
    allocation
        People in the comparison group per programme participant (1 for 1:1 matching, 4 for a
        comparison pool four times larger).
    continuity
        Use the continuity-corrected sample-size formula (slightly more conservative).

    Returns
    -------
    PilotPlan
        Group sizes, the detectable rate, the reduction in percentage points and relative
        terms, and a plain-language sentence.

    Raises
    ------
    InputError
        Non-positive recruitment, months or allocation; ``baseline_rate``, ``power`` or ``alpha``
        outside (0, 1).

    Notes
    -----
    The detectable rate comes from :func:`mde_two_proportions` (Fleiss, Levin & Paik 2003,
    eq. 4.14) for a binary outcome such as proven reoffending within one year, compared
    between two independent groups. Everyone recruited is assumed to complete follow-up; if
    some will be lost, reduce ``participants_per_month`` accordingly. Matching or adjustment
    for covariates usually increases power a little, and clustering (by court, area or
    worker) reduces it; neither is allowed for here.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*, 3rd ed.
    Wiley. Section 4.2.

    Examples
    --------
    >>> import evalkit as ek
    >>> plan = ek.plan_pilot(20, 12, 0.45)
    >>> plan.n_programme, round(plan.detectable_rate, 3), round(plan.relative_reduction, 2)
    (240.0, 0.326, 0.28)
    """
    per = _positive(participants_per_month, "participants_per_month")
    mo = _positive(months, "months")
    base = _rate(baseline_rate, "baseline_rate")
    alloc = _ratio(allocation, "allocation")
    pw, al, _ = _levels(power, alpha)
    continuity = check_flag(continuity, "continuity")
    scalar = all(np.ndim(v) == 0 for v in (per, mo, base, alloc))
    per, mo, base, alloc = _broadcast(
        participants_per_month=per, months=mo, baseline_rate=base, allocation=alloc
    )
    n1 = per * mo
    n0 = alloc * n1
    p1 = np.asarray(
        mde_two_proportions(base, n1, n0, power=pw, alpha=al, continuity=continuity), dtype=float
    )
    drop = base - p1
    sentences = tuple(
        _sentence(float(a), float(b), float(c), float(d), float(e), float(f), pw, al)
        for a, b, c, d, e, f in zip(
            per.ravel(), mo.ravel(), n1.ravel(), n0.ravel(), base.ravel(), p1.ravel(), strict=True
        )
    )
    return PilotPlan(
        participants_per_month=_out(per, scalar),
        months=_out(mo, scalar),
        allocation=_out(alloc, scalar),
        n_programme=_out(n1, scalar),
        n_comparison=_out(n0, scalar),
        baseline_rate=_out(base, scalar),
        detectable_rate=_out(p1, scalar),
        absolute_reduction=_out(drop, scalar),
        relative_reduction=_out(drop / base, scalar),
        power=pw,
        alpha=al,
        sentence=sentences[0] if scalar else sentences,
    )
