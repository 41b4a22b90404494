"""Sample sizes, power and minimum detectable effects for comparing reoffending rates.

Two questions come before any diversion pilot: how many people are needed to detect a given
fall in the reoffending rate, and — the usual way round, since recruitment is fixed by the
number of eligible people — what is the smallest fall that a pilot of a given size could
detect. :func:`n_two_proportions`, :func:`power_two_proportions` and
:func:`mde_two_proportions` answer them for a binary outcome (reoffended within the follow-up
period or not); :func:`events_logrank` gives the number of events a time-to-reoffence
comparison needs; :func:`plan_pilot` puts the answer in a sentence for commissioners.

All functions accept numpy arrays (broadcast against each other) as well as plain numbers, so a
planning table is one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.errors import InputError
from evalkit.schema import check_level

__all__ = [
    "PilotPlan",
    "events_logrank",
    "mde_two_proportions",
    "n_two_proportions",
    "plan_pilot",
    "power_two_proportions",
]


# ---------------------------------------------------------------------------------------------
# Validation


def _numbers(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise InputError(name, f"must be a number, not {type(value).__name__}")
    arr = arr.astype(float)
    if arr.size == 0:
        raise InputError(name, "is empty")
    _require(name, np.isfinite(arr), "must be finite", arr)
    return arr


def _require(name: str, ok: np.ndarray, rule: str, arr: np.ndarray) -> None:
    ok = np.asarray(ok)
    if ok.all():
        return
    if np.ndim(arr) == 0:
        raise InputError(name, f"{rule} (got {np.asarray(arr).item():g})")
    bad = np.broadcast_to(~ok, np.shape(arr))
    raise InputError(name, rule, [tuple(i) if len(i) > 1 else i[0] for i in np.argwhere(bad)])


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    """Broadcast the arguments, raising InputError naming the first that does not fit."""
    shape: tuple[int, ...] = ()
    for name, arr in arrays.items():
        try:
            shape = np.broadcast_shapes(shape, np.shape(arr))
        except ValueError:
            raise InputError(
                name, f"has shape {np.shape(arr)}, which does not match the others {shape}"
            ) from None
    return [np.broadcast_to(a, shape).astype(float) for a in arrays.values()]


def _rate(value: Any, name: str) -> np.ndarray:
    arr = _numbers(value, name)
    _require(name, (arr > 0) & (arr < 1), "must be a proportion strictly between 0 and 1", arr)
    return arr


def _positive(value: Any, name: str) -> np.ndarray:
    arr = _numbers(value, name)
    _require(name, arr > 0, "must be positive", arr)
    return arr


def _out(value: np.ndarray, scalar: bool) -> Any:
    return float(value) if scalar else np.asarray(value, dtype=float)


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
    pbar = (p1 + r * p0) / (1.0 + r)
    num = delta * np.sqrt(r * n) - z_a * np.sqrt((r + 1.0) * pbar * (1.0 - pbar))
    return np.asarray(stats.norm.cdf(num / np.sqrt(r * p1 * (1.0 - p1) + p0 * (1.0 - p0))))


def n_two_proportions(
    p1: Any,
    p0: Any,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: Any = 1.0,
    continuity: bool = False,
) -> Any:
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
    ratio
        People in group 0 per person in group 1 (``n0 = ratio * n1``).
    continuity
        Apply the Fleiss, Tytun & Ury (1980) continuity correction (for a test with Yates'
        correction, or Fisher's exact test, which it approximates).

    Returns
    -------
    float or numpy.ndarray
        ``n1``, the number of people in group 1 (not rounded; round up). Group 0 needs
        ``ratio * n1``.

    Raises
    ------
    InputError
        Proportions outside (0, 1) or equal; ``power`` or ``alpha`` outside (0, 1);
        ``ratio`` not positive.

    Notes
    -----
    The normal approximation of Fleiss, Levin & Paik (2003), eq. 4.14:

    n1 = [z_{α/2} √((r + 1) p̄ q̄) + z_β √(r p1 q1 + p0 q0)]² / [r (p1 − p0)²],
    with r = ``ratio`` and p̄ = (p1 + r p0)/(1 + r),

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
    r = _positive(ratio, "ratio")
    pw = check_level(power, "power")
    al = check_level(alpha, "alpha")
    scalar = all(np.ndim(v) == 0 for v in (a1, a0, r))
    a1, a0, r = _broadcast(p1=a1, p0=a0, ratio=r)
    _require("p1", a1 != a0, "must differ from p0 (no difference needs infinitely many people)", a1)
    n = _n_fleiss(a1, a0, float(stats.norm.isf(al / 2)), float(stats.norm.ppf(pw)), r)
    if continuity:
        n = _continuity(n, a1, a0, r)
    return _out(n, scalar)


def power_two_proportions(
    p1: Any,
    p0: Any,
    n1: Any,
    n0: Any,
    *,
    alpha: float = 0.05,
    continuity: bool = False,
) -> Any:
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
    al = check_level(alpha, "alpha")
    scalar = all(np.ndim(v) == 0 for v in (a1, a0, m1, m0))
    a1, a0, m1, m0 = _broadcast(p1=a1, p0=a0, n1=m1, n0=m0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pw = _power_fleiss(a1, a0, m1, m0 / m1, float(stats.norm.isf(al / 2)), continuity)
    pw = np.where(a1 == a0, al / 2.0, pw)  # no difference: only the one-tail rejection rate
    return _out(pw, scalar)


def mde_two_proportions(
    p0: Any,
    n1: Any,
    n0: Any,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    continuity: bool = False,
) -> Any:
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
    :func:`n_two_proportions`: ``n_two_proportions(mde, p0, ratio=n0/n1) == n1``. Only
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
    pw = check_level(power, "power")
    al = check_level(alpha, "alpha")
    scalar = all(np.ndim(v) == 0 for v in (b0, m1, m0))
    b0, m1, m0 = _broadcast(p0=b0, n1=m1, n0=m0)
    z_a = float(stats.norm.isf(al / 2))
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
    hr: Any,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    method: str = "schoenfeld",
    ratio: Any = 1.0,
) -> Any:
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
        Freedman (1982), d = (z_{α/2} + z_β)² (r + hr)² / (r (1 − hr)²), with r = ``ratio``
        (for equal groups (1 + hr)² / (1 − hr)²).
    ratio
        People in the comparison group per person in the programme group (π = 1/(1 + r)).

    Returns
    -------
    float or numpy.ndarray
        Events needed (not rounded). To turn events into people, divide by the expected
        proportion who reoffend during follow-up.

    Raises
    ------
    InputError
        ``hr`` not positive or equal to 1; bad ``power``, ``alpha``, ``ratio`` or ``method``.

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
    valid = ("schoenfeld", "freedman")
    if method not in valid:
        raise InputError("method", f"got {method!r}; valid values are 'schoenfeld', 'freedman'")
    h = _positive(hr, "hr")
    r = _positive(ratio, "ratio")
    pw = check_level(power, "power")
    al = check_level(alpha, "alpha")
    scalar = np.ndim(h) == 0 and np.ndim(r) == 0
    h, r = _broadcast(hr=h, ratio=r)
    _require("hr", h != 1.0, "must differ from 1 (no effect needs infinitely many events)", h)
    zz = (float(stats.norm.isf(al / 2)) + float(stats.norm.ppf(pw))) ** 2
    if method == "schoenfeld":
        d = zz * (1.0 + r) ** 2 / (r * np.log(h) ** 2)
    else:
        d = zz * (r + h) ** 2 / (r * (1.0 - h) ** 2)
    return _out(d, scalar)


# ---------------------------------------------------------------------------------------------
# Pilot planner


@dataclass(frozen=True)
class PilotPlan:
    """What a pilot of a given size can detect, with a sentence for commissioners.

    When :func:`plan_pilot` is called with arrays, numeric fields are numpy arrays (one element
    per scenario), ``sentence`` is a tuple of strings and :meth:`to_frame` has one row per
    scenario.

    Attributes
    ----------
    participants_per_month, months
        Recruitment rate and recruitment period, as given.
    n_programme, n_comparison
        People in the programme group (``participants_per_month * months``) and in the
        comparison group (``comparison_ratio * n_programme``).
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

    participants_per_month: Any
    months: Any
    n_programme: Any
    n_comparison: Any
    baseline_rate: Any
    detectable_rate: Any
    absolute_reduction: Any
    relative_reduction: Any
    power: float
    alpha: float
    sentence: Any

    def to_frame(self) -> pd.DataFrame:
        """DataFrame, one row per scenario, with a column for every attribute."""
        cols = [
            "participants_per_month",
            "months",
            "n_programme",
            "n_comparison",
            "baseline_rate",
            "detectable_rate",
            "absolute_reduction",
            "relative_reduction",
        ]
        shape = np.shape(self.detectable_rate)
        data: dict[str, Any] = {
            c: np.broadcast_to(np.asarray(getattr(self, c), dtype=float), shape).ravel()
            for c in cols
        }
        size = int(np.prod(shape)) if shape else 1
        data["power"] = [self.power] * size
        data["alpha"] = [self.alpha] * size
        sentences = [self.sentence] if isinstance(self.sentence, str) else list(self.sentence)
        data["sentence"] = sentences
        return pd.DataFrame(data)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


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
            f"chance of a statistically significant result ({test}) against a reoffending rate "
            f"of {p0:.1%} would be below {power:.0%}. A longer or larger pilot is needed."
        )
    drop = p0 - p1
    chance = f"{power:.0%}"
    return (
        f"{recruit} The pilot has {_a(chance)} {chance} chance of showing a statistically "
        f"significant fall ({test}) if the programme cuts the reoffending rate from {p0:.1%} "
        f"to {p1:.1%} or lower: a fall of at least {100 * drop:.1f} percentage points, or "
        f"{drop / p0:.0%} of the baseline rate. A smaller real effect could easily be missed, "
        "so a non-significant result would not show that the programme does not work."
    )


def plan_pilot(
    participants_per_month: Any,
    months: Any,
    baseline_rate: Any,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    comparison_ratio: Any = 1.0,
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
    comparison_ratio
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
        Non-positive recruitment, months or ratio; ``baseline_rate``, ``power`` or ``alpha``
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
    ratio = _positive(comparison_ratio, "comparison_ratio")
    pw = check_level(power, "power")
    al = check_level(alpha, "alpha")
    scalar = all(np.ndim(v) == 0 for v in (per, mo, base, ratio))
    per, mo, base, ratio = _broadcast(
        participants_per_month=per, months=mo, baseline_rate=base, comparison_ratio=ratio
    )
    n1 = per * mo
    n0 = ratio * n1
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
