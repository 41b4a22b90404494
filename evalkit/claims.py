"""Check a published headline figure: what it can and cannot support.

Schemes publish figures such as "87% of those engaged did not reoffend within six months",
"continuation rose from 25% to 51%" or "309 ex-offenders maintaining abstinence". None has a
comparison group, an interval or a definition. :func:`check_claim` takes the figure as published
and returns, in plain sentences, its interval (over plausible denominators when the denominator
was not published), the baseline it should be compared with, the biases it is exposed to, and
the design that would answer the question with that design's minimum detectable effect at the
scheme's size. The rules are here, in one place, and tested; reports quote their sentences.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209–212 (interval for one proportion).
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions. Stat. Med. 17, 873–890 (method 10, for a before/after change).
Suissa, S. (2008). Immortal time bias in pharmacoepidemiology. Am. J. Epidemiol. 167, 492–499.
Hernán, M. A. & Hernández-Díaz, S. (2012). Beyond the intention-to-treat in comparative
effectiveness research. Clin. Trials 9, 48–55 (per-protocol comparisons).
Barnett, A. G., van der Pols, J. C. & Dobson, A. J. (2005). Regression to the mean: what it is and
how to deal with it. Int. J. Epidemiol. 34, 215–220.
Ministry of Justice (2024). Proven reoffending statistics: definitions and measurement (12-month
follow-up, 6-month waiting period); Justice Data Lab methodology (2013).
Sherman, L. W. et al. (1997). Preventing Crime: What Works, What Doesn't, What's Promising
(Maryland Scientific Methods Scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit._options import (
    check_choice,
    check_conf_level,
    check_flag,
    check_int,
    check_number,
    option_error,
)
from evalkit.results import Result
from evalkit.wording import fmt_number

__all__ = ["BASELINES", "ClaimCheck", "check_claim"]

KINDS = ("proportion", "count", "change")
COUNTED = ("referred", "released", "engaged", "completed")
COMPARISONS = (None, "national", "matched", "randomised", "before")

BASELINES: dict[str, tuple[float, str]] = {
    "proven reoffending, all adults": (
        0.26,
        "Ministry of Justice proven reoffending statistics: about 25–28% of adult offenders "
        "reoffend within 12 months (quarterly national figures)",
    ),
    "proven reoffending, custody under 12 months": (
        0.57,
        "Ministry of Justice proven reoffending statistics: about 55–62% after custodial "
        "sentences of under 12 months",
    ),
}
"""National figures a claim about proven reoffending can be set beside (rate, source)."""

_DENOMINATOR_MULTIPLES = (1.0, 1.25, 1.5, 2.0, 3.0, 5.0)  # for counts: n = count × multiple
_PROPORTION_DENOMINATORS = (25, 50, 100, 200, 400, 800)


@dataclass(frozen=True, eq=False, repr=False)
class ClaimCheck(Result):
    """What a published figure can and cannot support.

    Attributes
    ----------
    claim
        The claim as published.
    kind, counted, comparison, horizon_days
        How it was described (see :func:`check_claim`).
    intervals
        One row per denominator considered: ``denominator``, ``estimate``, ``lower``,
        ``upper`` (for a change, ``before_denominator`` too); the published denominator alone
        when it is known.
    denominator_known
        Whether the denominator was published.
    baseline, baseline_source
        The national figure the claim should be compared with, if any.
    biases
        Plain sentences, one per bias the figure is exposed to.
    supports, cannot_support
        Sentences: what the figure shows, and what it does not.
    design
        The design that would answer the question, in a sentence.
    mde
        Smallest fall in the rate that design would detect with 80% power at the 5% level,
        in percentage points (``None`` without a scheme size and baseline).
    conf_level
        Level of the intervals.
    """

    _title = "Claim check"

    claim: str
    kind: str
    counted: str
    comparison: str | None
    horizon_days: int | None
    intervals: pd.DataFrame
    denominator_known: bool
    baseline: float | None
    baseline_source: str
    biases: tuple[str, ...]
    supports: tuple[str, ...]
    cannot_support: tuple[str, ...]
    design: str
    mde: float | None
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The interval table (one row per denominator considered)."""
        return self.intervals.copy()

    def sentences(self) -> list[str]:
        """Every finding, in the order a report gives them."""
        return [*self.supports, *self.cannot_support, *self.biases, self.design]


def _wilson(x: np.ndarray, n: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    from evalkit.proportions import wilson_interval

    r = wilson_interval(x, n, conf_level=conf_level)
    return np.atleast_1d(r.lower), np.atleast_1d(r.upper)


def _pct(p: float) -> str:
    return f"{fmt_number(100 * p, 0)}%"


def _interval_table(
    kind: str,
    value: float,
    before: float | None,
    denominators: Sequence[int],
    before_denominators: Sequence[int],
    conf_level: float,
) -> pd.DataFrame:
    n = np.asarray(denominators, dtype=float)
    if kind == "count":
        x = np.full_like(n, value)
    else:
        x = np.floor(value * n + 0.5)  # half up, as the figure was rounded
    if kind != "change":
        lo, hi = _wilson(x, n, conf_level)
        return pd.DataFrame(
            {"denominator": n.astype(int), "estimate": x / n, "lower": lo, "upper": hi}
        )
    from evalkit.proportions import rate_difference

    n0 = np.asarray(before_denominators, dtype=float)
    x0 = np.floor(float(before or 0.0) * n0 + 0.5)
    rd = rate_difference(x, n, x0, n0, conf_level=conf_level)
    return pd.DataFrame(
        {
            "denominator": n.astype(int),
            "before_denominator": n0.astype(int),
            "estimate": np.atleast_1d(rd.estimate),
            "lower": np.atleast_1d(rd.lower),
            "upper": np.atleast_1d(rd.upper),
        }
    )


def check_claim(
    claim: str,
    value: float,
    *,
    kind: str = "proportion",
    denominator: int | None = None,
    denominators: Sequence[int] | None = None,
    before: float | None = None,
    before_denominator: int | None = None,
    outcome: str = "did not reoffend",
    reoffending: bool = True,
    horizon_days: int | None = None,
    counted: str = "referred",
    comparison: str | None = None,
    baseline: str | float | None = None,
    scheme_size: int | None = None,
    conf_level: float = 0.95,
) -> ClaimCheck:
    """What a published headline figure can and cannot support.

    Parameters
    ----------
    claim
        The claim as published, quoted (``"87% of those engaged did not re-offend within six
        months"``).
    value
        The figure: a proportion (0.87), a count (309) or, for a change, the later proportion
        (0.51).
    kind
        ``"proportion"``, ``"count"`` (successes with no rate) or ``"change"`` (``before`` →
        ``value``).
    denominator, denominators
        The published denominator; when it is unknown, the denominators to consider
        (default: 25 to 800 people for a proportion; 1 to 5 times the count for a count).
    before, before_denominator
        For a change, the earlier proportion and its denominator (same rules).
    outcome
        What the figure counts, in words (``"did not reoffend"``, ``"continued treatment"``).
    reoffending
        Whether ``outcome`` is a measure of reoffending. ``False`` (abstinence, engagement,
        continued treatment) adds the bias that the figure says nothing by itself about
        reoffending.
    horizon_days
        Follow-up over which the outcome was counted, if stated.
    counted
        Who the figure is about: ``"referred"`` (everyone offered the scheme: intention to
        treat), ``"released"`` (everyone released, e.g. a local reoffending rate), ``"engaged"``
        or ``"completed"``.
    comparison
        The comparison published with it: ``None``, ``"national"``, ``"before"``,
        ``"matched"`` or ``"randomised"``.
    baseline
        A key of :data:`BASELINES` or a rate to compare with (a share *reoffending*).
    scheme_size
        People the scheme serves in a year: the size at which the minimum detectable effect of
        the recommended design is given.
    conf_level
        Level of the intervals.

    Returns
    -------
    ClaimCheck

    Notes
    -----
    Intervals are Wilson score intervals for one proportion (Wilson 1927) and Newcombe's hybrid
    score interval for a change (Newcombe 1998), computed for each denominator considered, so
    the reader sees how much the conclusion depends on a number that was not published. The
    biases are flagged by rules: a figure about people who engaged or completed is a
    per-protocol figure, exposed to selection and to immortal time (people who reoffend before
    they could engage are not counted; Suissa 2008; Hernán & Hernández-Díaz 2012); a change
    with no comparison is exposed to regression to the mean (Barnett et al. 2005), trend and
    seasonality; an outcome other than reoffending (``reoffending=False``) is at most a step
    on the way to it; a horizon under 12 months is not the proven reoffending measure; a
    figure with no comparison cannot show an effect (Maryland Scientific Methods Scale
    level 1). The
    minimum detectable effect is that of a 1:1 comparison of ``scheme_size`` programme people
    with as many matched comparison people, 80% power, two-sided 5% (Fleiss et al. 2003).

    Examples
    --------
    >>> c = check_claim("87% of those engaged did not re-offend within six months", 0.87,
    ...                 counted="engaged", horizon_days=182,
    ...                 baseline="proven reoffending, all adults", scheme_size=300)
    >>> c.denominator_known
    False
    >>> [b.split(":")[0] for b in c.biases]  # doctest: +ELLIPSIS
    ['Per-protocol figure', 'Immortal time', 'No comparison', 'Short horizon', 'Unknown ...']
    >>> round(c.mde, 1)
    9.4
    """
    kind = check_choice(kind, "kind", KINDS)
    counted = check_choice(counted, "counted", COUNTED)
    reoffending = check_flag(reoffending, "reoffending")
    comparison = check_choice(comparison, "comparison", COMPARISONS)
    conf_level = check_conf_level(conf_level)
    if kind == "count":
        value = float(check_int(value, "value", minimum=0))
    else:
        value = check_number(value, "value", minimum=0.0, maximum=1.0)
    if kind == "change":
        if before is None:
            raise option_error("before", "is needed for a change (the earlier proportion)")
        before = check_number(before, "before", minimum=0.0, maximum=1.0)
    if horizon_days is not None:
        horizon_days = check_int(horizon_days, "horizon_days", minimum=1)
    if scheme_size is not None:
        scheme_size = check_int(scheme_size, "scheme_size", minimum=2)

    known = denominator is not None
    if known:
        ns = [check_int(denominator, "denominator", minimum=1)]
    elif denominators is not None:
        ns = [check_int(d, "denominators", minimum=1) for d in denominators]
    elif kind == "count":
        ns = [round(value * m) for m in _DENOMINATOR_MULTIPLES]
    else:
        ns = list(_PROPORTION_DENOMINATORS)
    if kind == "count" and min(ns) < value:
        raise option_error("denominator", f"must be at least the count ({value:g})")
    if kind == "change":
        n0s = (
            [check_int(before_denominator, "before_denominator", minimum=1)] * len(ns)
            if before_denominator is not None
            else list(ns)
        )
    else:
        n0s = []
    table = _interval_table(kind, value, before, ns, n0s, conf_level)

    base_rate, base_source = _baseline(baseline)
    biases = _biases(kind, counted, comparison, horizon_days, known, outcome, reoffending)
    supports, cannot = _reading(kind, value, before, table, known, outcome, counted, conf_level)
    if base_rate is not None and kind == "proportion" and "not reoffend" in outcome:
        cannot.append(
            f"Compared with the national figure ({_pct(1 - base_rate)} not reoffending: "
            f"{base_source}), the figure describes different people over a different "
            "period; the national rate is a context, not a comparison group."
        )
    mde = None
    if scheme_size is not None and base_rate is not None:
        from evalkit.power import mde_two_proportions

        p1 = float(mde_two_proportions(base_rate, scheme_size, scheme_size))
        mde = 100 * (base_rate - p1)
    design = _design_sentence(kind, scheme_size, mde)
    return ClaimCheck(
        claim=claim,
        kind=kind,
        counted=counted,
        comparison=comparison,
        horizon_days=horizon_days,
        intervals=table,
        denominator_known=known,
        baseline=base_rate,
        baseline_source=base_source,
        biases=tuple(biases),
        supports=tuple(supports),
        cannot_support=tuple(cannot),
        design=design,
        mde=mde,
        conf_level=conf_level,
    )


def _baseline(baseline: str | float | None) -> tuple[float | None, str]:
    if baseline is None:
        return None, ""
    if isinstance(baseline, str):
        check_choice(baseline, "baseline", tuple(BASELINES))
        return BASELINES[baseline]
    return check_number(baseline, "baseline", minimum=0.0, maximum=1.0), "given by the user"


def _biases(
    kind: str,
    counted: str,
    comparison: str | None,
    horizon_days: int | None,
    known: bool,
    outcome: str = "did not reoffend",
    reoffending: bool = True,
) -> list[str]:
    out: list[str] = []
    if counted in ("engaged", "completed"):
        out.append(
            f"Per-protocol figure: it counts only people who {counted}, who are likely to "
            "differ from those who did not (motivation, stability, support); the figure for "
            "everyone referred (intention to treat) is the one that shows what the scheme does."
        )
        out.append(
            "Immortal time: people who reoffended before they could engage, or were in custody, "
            "could not be counted as engaged, so the engaged group is selected for not having "
            "reoffended early. A time-varying or landmark analysis avoids this."
        )
    if comparison == "before":
        out.append(
            "No comparison group: a before/after comparison cannot separate the scheme from "
            "anything else that changed over the same period (Maryland Scientific Methods "
            "Scale level 2)."
        )
    elif comparison in (None, "national"):
        out.append(
            "No comparison: without a comparison group of similar people the figure cannot "
            "show what would have happened without the scheme (Maryland Scientific Methods "
            "Scale level 1)."
        )
    if kind == "change" and comparison not in ("matched", "randomised"):
        out.append(
            "Regression to the mean and trend: a rate chosen for attention when it was low "
            "tends to rise again on its own, and seasonality or a national trend can move it; "
            "a monthly series before and after (interrupted time series), with the national "
            "trend as comparison, separates these from the scheme."
        )
    if not reoffending:
        out.append(
            f"Not a reoffending outcome: people who {outcome} may or may not have reoffended; "
            "only linking the same people to police and court records (proven reoffending, "
            "as the Justice Data Lab does) shows whether the scheme is followed by less "
            "reoffending."
        )
    if horizon_days is not None and horizon_days < 365:
        out.append(
            f"Short horizon: {horizon_days} days is shorter than the proven reoffending "
            "measure's 12 months (plus a 6-month waiting period for the offence to be proven), "
            "so the figure cannot be set beside national proven reoffending rates."
        )
    if kind == "count":
        out.append(
            "A count, not a rate: without the number who started, the count cannot show "
            "how often the outcome was achieved."
        )
    elif not known:
        out.append(
            "Unknown denominator: the figure's precision depends on how many people it "
            "describes, which was not published; the intervals show it for a range."
        )
    return out


def _reading(
    kind: str,
    value: float,
    before: float | None,
    table: pd.DataFrame,
    known: bool,
    outcome: str,
    counted: str,
    conf_level: float,
) -> tuple[list[str], list[str]]:
    level = f"{100 * conf_level:g}%"
    lo, hi = float(table["lower"].min()), float(table["upper"].max())
    who = {
        "referred": "people referred",
        "engaged": "people who engaged",
        "completed": "people who completed",
        "released": "people released",
    }[counted]
    if kind == "count":
        supports = [
            f"{int(value):,} people {outcome}: between {_pct(lo)} and {_pct(hi)} of those who "
            f"started, if between {int(table['denominator'].min()):,} and "
            f"{int(table['denominator'].max()):,} started ({level} intervals)."
        ]
    elif kind == "change":
        n = table.iloc[0]
        span = (
            f"({level} interval {fmt_number(100 * n['lower'], 0)} to "
            f"{fmt_number(100 * n['upper'], 0)} points with {int(n['before_denominator']):,} "
            f"and {int(n['denominator']):,} people)"
            if known
            else f"(its {level} interval runs from {fmt_number(100 * lo, 0)} to "
            f"{fmt_number(100 * hi, 0)} points across the denominators considered)"
        )
        supports = [
            f"The share of {who} who {outcome} went from {_pct(float(before or 0))} to "
            f"{_pct(value)}, a change of {fmt_number(100 * (value - float(before or 0)), 0)} "
            f"points {span}."
        ]
    else:
        span = (
            f"{level} interval {_pct(lo)} to {_pct(hi)}"
            if known
            else f"with {int(table['denominator'].min()):,} to "
            f"{int(table['denominator'].max()):,} people behind it, its {level} interval could "
            f"run from as low as {_pct(lo)} to as high as {_pct(hi)}"
        )
        supports = [f"{_pct(value)} of {who} {outcome} ({span})."]
    cannot = [
        "It cannot show that the scheme caused the outcome: that needs a comparison with "
        "similar people who were not in the scheme."
    ]
    return supports, cannot


def _design_sentence(kind: str, scheme_size: int | None, mde: float | None) -> str:
    if kind == "change":
        core = (
            "Design that would answer the question: a monthly interrupted time series of the "
            "rate for at least a year before and after, with the national series as a "
            "comparison (difference in differences), then proven reoffending of people who "
            "continued against similar people who did not, timed from release so that no "
            "immortal time is counted."
        )
    else:
        core = (
            "Design that would answer the question: everyone referred (intention to treat) "
            "compared with a matched comparison group on proven reoffending over 12 months plus "
            "a 6-month waiting period, as the Justice Data Lab does."
        )
    if scheme_size is not None and mde is not None:
        core += (
            f" With {scheme_size:,} people a year and as many matched comparisons, it would "
            f"detect a fall of about {fmt_number(mde, 1)} percentage points or more (80% power, "
            "5% two-sided)."
        )
    return core
