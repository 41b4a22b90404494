"""The Justice Data Lab outcome set: rate, frequency and time to first reoffence, in plain words.

The Ministry of Justice's Justice Data Lab (JDL) tells organisations whether the people they
worked with reoffended less than similar people who were not helped. Every JDL report gives the
same three headline measures for a programme ("treatment") group and a matched comparison group,
each over a one-year follow-up:

1. the **one-year proven reoffending rate** — the proportion of people with a proven reoffence;
2. the **frequency** — proven reoffences per person;
3. the **days to first proven reoffence**, among the people who reoffended;

and applies fixed reporting rules before it calls a difference significant: a programme group of
at least 60 people, at least 30 of whom reoffended, n·p of at least 10, and p ≤ 0.05. Results are
described in set phrases ("For every 100 people who received support, between 1 and 9 fewer
people committed a proven reoffence…"; "More people would need to be available for
analysis…"). :func:`jdl_outcomes` computes the three measures from a proven-reoffending cohort
(:attr:`evalkit.Cohort.data`, optionally matched) and returns them as a tidy table with those
sentences.

References
----------
Ministry of Justice (2013). *Justice Data Lab: Methodology Paper*. London: Ministry of Justice
(April 2013): the minimum of 60 people, propensity-score matching and the headline measures.

Ministry of Justice, Analytical Services. Justice Data Lab report pipeline (R), repository
``moj-analytical-services/kpow2`` on GitHub: ``JDL RAP/Scripts/variables.R`` (a measure is
listed as significant only when ``difference_p <= 0.05``, the number of treatment-group
reoffenders is at least 30 and ``np_treat >= 10``; rates to whole percentages, frequencies to two
decimals, intervals per 100 people), ``R/higher_or_lower_CI.R`` and
``JDLpackage/R/incr_or_decr_phrase.R`` (the wording of the estimates).

Ministry of Justice. *Justice Data Lab statistics* (quarterly, e.g. July 2018, April 2019),
https://www.gov.uk/government/collections/justice-data-lab-pilot-statistics — source of the
"inconclusive" wording: "more people would need to be available for analysis in order to
determine the way in which the programme affects a person's re-offending behaviour, but this
should not be taken to mean that the programme fails to affect it".
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.errors import DesignError, InputError
from evalkit.proportions import rate_difference
from evalkit.schema import (
    check_choice,
    check_event,
    check_frame,
    check_level,
    check_no_missing,
    check_numeric,
    check_unique,
    require_columns,
    row_ids,
)

__all__ = [
    "JDL_MIN_NP",
    "JDL_MIN_PROGRAMME",
    "JDL_MIN_REOFFENDERS",
    "JDL_OUTCOMES",
    "RATE_METHODS",
    "JDLResult",
    "jdl_outcomes",
]

JDL_MIN_PROGRAMME = 60
"""People needed in the programme group before the Justice Data Lab will analyse it."""

JDL_MIN_REOFFENDERS = 30
"""Programme-group reoffenders needed before any difference is reported as significant."""

JDL_MIN_NP = 10
"""Minimum of n·p and n·(1 − p) in the programme group for the reoffending rate."""

JDL_OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "rate": "One-year proven reoffending rate",
        "frequency": "Proven reoffences per person (frequency)",
        "days_to_first": "Days to first proven reoffence (reoffenders only)",
    }
)
"""Outcome codes of :attr:`JDLResult.table`, in order, with their display labels."""

RATE_METHODS = ("newcombe", "miettinen-nurminen", "welch")
"""Valid ``rate_method`` values of :func:`jdl_outcomes`; the first is the default."""

TABLE_COLUMNS = (
    "outcome",
    "programme",
    "comparison",
    "difference",
    "lower",
    "upper",
    "p",
    "n_programme",
    "n_comparison",
    "reoffenders_programme",
    "significant",
    "shown",
    "reason",
    "method",
)

_RULE_30 = (
    f"fewer than {JDL_MIN_REOFFENDERS} people in the programme group committed a proven reoffence"
)
_RULE_NP = (
    f"fewer than {JDL_MIN_NP} people in the programme group did not commit a proven reoffence "
    f"(n·(1 − p) below {JDL_MIN_NP})"
)
_MORE_PEOPLE = (
    "More people would need to be available for analysis to determine the direction of the "
    "difference; this should not be taken to mean that the support has no effect."
)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JDLResult:
    """The Justice Data Lab outcome set for one programme group and its comparison group.

    Attributes
    ----------
    table
        One row per outcome, in the order of :data:`JDL_OUTCOMES`; full precision, nothing
        rounded. Columns:

        ``outcome``
            ``"rate"``, ``"frequency"`` or ``"days_to_first"``.
        ``programme``, ``comparison``
            The measure in each group: a proportion (0.31, not 31%), reoffences per person, or
            mean days from the index date to the first proven reoffence among reoffenders.
            Weighted means when ``weights`` was given.
        ``difference``, ``lower``, ``upper``
            Programme minus comparison, with its confidence interval (NaN when it cannot be
            estimated, e.g. fewer than two reoffenders in a group for ``days_to_first``).
        ``p``
            Two-sided p-value of no difference (see ``method``).
        ``n_programme``, ``n_comparison``
            People analysed in each group (rows with positive weight); for ``days_to_first``
            the reoffenders.
        ``reoffenders_programme``
            Programme-group people with a proven reoffence (the JDL's "30 reoffenders" count).
        ``significant``
            ``p ≤ 1 − conf_level`` and the interval excludes zero.
        ``shown``
            The JDL reporting rules are met, so a significant difference may be reported as
            one: at least :data:`JDL_MIN_REOFFENDERS` programme-group reoffenders and, for the
            rate, n·p and n·(1 − p) of at least :data:`JDL_MIN_NP`.
        ``reason``
            Why ``shown`` is false (empty when it is true).
        ``method``
            How the interval and p-value were computed.
    sentences
        Outcome code → the plain-language sentence a JDL report would print.
    display
        The table as a reader sees it: rates in whole percentages (differences in percentage
        points), frequencies to two decimals, days whole, p to three decimals; text columns.
    conf_level
        Confidence level of the intervals; the significance level is ``1 − conf_level``.
    programme_label, comparison_label
        The group labels compared.
    weighted
        True when weights or clusters were used (robust standard errors, normal intervals).
    rate_method
        Interval method for the rate (``"newcombe"``, ``"miettinen-nurminen"`` or ``"welch"``).
    """

    table: pd.DataFrame
    sentences: Mapping[str, str]
    display: pd.DataFrame
    conf_level: float
    programme_label: Any
    comparison_label: Any
    weighted: bool
    rate_method: str
    rules: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(
            {
                "min_programme": JDL_MIN_PROGRAMME,
                "min_reoffenders": JDL_MIN_REOFFENDERS,
                "min_np": JDL_MIN_NP,
            }
        )
    )

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        level = f"{100 * self.conf_level:g}%"
        items = "".join(
            f"<li><strong>{html.escape(JDL_OUTCOMES[k])}.</strong> {html.escape(s)}</li>"
            for k, s in self.sentences.items()
        )
        return (
            f"<p>Justice Data Lab outcome set: {html.escape(str(self.programme_label))} "
            f"versus {html.escape(str(self.comparison_label))} ({level} confidence intervals"
            f"{', weighted' if self.weighted else ''}).</p>"
            + self.display.to_html(index=False)
            + f"<ul>{items}</ul>"
        )


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Diff:
    programme: float
    comparison: float
    difference: float
    lower: float
    upper: float
    p: float


_NAN_DIFF = _Diff(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)


def _welch(x1: np.ndarray, x0: np.ndarray, level: float) -> _Diff:
    """Welch's unequal-variance t interval and test for a difference of two means."""
    n1, n0 = len(x1), len(x0)
    m1 = float(x1.mean()) if n1 else math.nan
    m0 = float(x0.mean()) if n0 else math.nan
    if n1 < 2 or n0 < 2:
        return _Diff(m1, m0, m1 - m0, math.nan, math.nan, math.nan)
    a1 = float(x1.var(ddof=1)) / n1
    a0 = float(x0.var(ddof=1)) / n0
    se2 = a1 + a0
    diff = m1 - m0
    if se2 <= 0.0:  # no variation in either group: no interval, no test
        return _Diff(m1, m0, diff, math.nan, math.nan, math.nan)
    df = se2 * se2 / (a1 * a1 / (n1 - 1) + a0 * a0 / (n0 - 1))
    se = math.sqrt(se2)
    crit = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return _Diff(m1, m0, diff, diff - crit * se, diff + crit * se, p)


def _robust(y: np.ndarray, z: np.ndarray, w: np.ndarray, codes: np.ndarray, level: float) -> _Diff:
    """Weighted difference of means with a cluster-robust (CR1) standard error.

    The slope of the weighted least-squares regression of ``y`` on ``[1, z]`` is the difference
    of the weighted group means; its sandwich variance with clusters ``codes`` is
    ``c · Σ_g (Σ_{i∈g} ψ_i)²`` with influence ψ_i = w_i e_i (z_i/W₁ − (1 − z_i)/W₀), residuals
    e_i from the group means, W₁ and W₀ the group weight totals, and the small-sample factor
    c = G/(G − 1) · (N − 1)/(N − 2) (``sandwich::vcovCL``'s default ``HC1``; with one row per
    cluster it is HC1).
    """
    on = z == 1
    w1, w0 = float(w[on].sum()), float(w[~on].sum())
    m1 = float((w * y)[on].sum() / w1) if w1 > 0 else math.nan
    m0 = float((w * y)[~on].sum() / w0) if w0 > 0 else math.nan
    diff = m1 - m0
    n = len(y)
    _, codes = np.unique(codes, return_inverse=True)
    g = int(codes.max()) + 1 if n else 0
    if w1 <= 0 or w0 <= 0 or g < 2 or n < 3:
        return _Diff(m1, m0, diff, math.nan, math.nan, math.nan)
    e = y - np.where(on, m1, m0)
    psi = w * e * np.where(on, 1.0 / w1, -1.0 / w0)
    s = np.bincount(codes, weights=psi, minlength=g)
    var = g / (g - 1) * (n - 1) / (n - 2) * float(np.dot(s, s))
    if not var > 0:
        return _Diff(m1, m0, diff, math.nan, math.nan, math.nan)
    se = math.sqrt(var)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    p = float(2 * stats.norm.sf(abs(diff) / se))
    return _Diff(m1, m0, diff, diff - crit * se, diff + crit * se, p)


def _pearson_p(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p of the pooled two-proportion z-test (Pearson's chi-squared, no correction).

    R: ``prop.test(c(x1, x0), c(n1, n0), correct = FALSE)$p.value``. When nobody or everybody
    reoffended in both groups the proportions cannot differ: p = 1.
    """
    pooled = (x1 + x0) / (n1 + n0)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0)
    if var <= 0.0:
        return 1.0
    return float(2 * stats.norm.sf(abs(x1 / n1 - x0 / n0) / math.sqrt(var)))


# --------------------------------------------------------------------------------------------
# Wording
# --------------------------------------------------------------------------------------------


def _whole(x: float) -> int:
    """``|x|`` rounded half away from zero to a whole number (published-statistics rounding)."""
    return math.floor(abs(x) + 0.5)


def _two_dp(x: float) -> str:
    v = math.floor(abs(x) * 100 + 0.5) / 100
    sign = "-" if x < 0 and v > 0 else ""
    return f"{sign}{v:.2f}"


def _signed_whole(x: float) -> str:
    v = _whole(x)
    return f"-{v}" if x < 0 and v > 0 else f"{v}"


_SINGULAR = {"people": "person", "proven reoffences": "proven reoffence", "days": "day"}


def _up_to(x: int, unit: str) -> str:
    """``by up to 12 people``; ``by up to 1 person``; ``by less than 1 person``."""
    if x < 1:
        return f"by less than 1 {_SINGULAR[unit]}"
    return f"by up to {x} {_SINGULAR[unit] if x == 1 else unit}"


def _between(a: int, b: int) -> str:
    return f"about {a}" if a == b else f"between {a} and {b}"


_SUBJECT = {
    "rate": "people",
    "frequency": "proven reoffences",
    "days_to_first": "days",
}


def _sentence(outcome: str, row: Mapping[str, Any]) -> str:
    """The JDL-style sentence for one outcome row of the table."""
    lo, up = row["lower"], row["upper"]
    scale = 1.0 if outcome == "days_to_first" else 100.0
    if not row["shown"]:
        if outcome == "days_to_first":
            return (
                "Time to the first proven reoffence is not reported as a result: "
                f"{row['reason']}, too few for a reliable comparison (the Justice Data Lab "
                f"requires at least {JDL_MIN_REOFFENDERS})."
            )
        what = (
            "the proportion of people who committed a proven reoffence"
            if outcome == "rate"
            else "the number of proven reoffences"
        )
        minimum = (
            f"at least {JDL_MIN_REOFFENDERS} reoffenders"
            if row["reason"] == _RULE_30
            else f"at least {JDL_MIN_NP} people who did not reoffend"
        )
        return (
            f"The analysis cannot report a difference in {what}: {row['reason']}, and the "
            f"Justice Data Lab requires {minimum} in the programme group before it reports one. "
            + _MORE_PEOPLE
        )
    if not (np.isfinite(lo) and np.isfinite(up)):
        return (
            "The analysis is inconclusive: the difference could not be estimated from these "
            "data (too few people, or no variation, in a group)."
        )
    if row["significant"]:
        near, far = (up, lo) if up < 0 else (lo, up)
        rng = _between(_whole(scale * near), _whole(scale * far))
        if outcome == "rate":
            word = "fewer" if up < 0 else "more"
            return (
                f"For every 100 people who received support, {rng} {word} people committed a "
                "proven reoffence during the one-year period than would have without support."
            )
        if outcome == "frequency":
            word = "fewer" if up < 0 else "more"
            return (
                f"For every 100 people who received support, {rng} {word} proven reoffences "
                "were committed during the one-year period than would have been without support."
            )
        word = "earlier" if up < 0 else "later"
        return (
            "Among people who received support and committed a proven reoffence during the "
            f"one-year period, the first proven reoffence came {rng} days {word} on average "
            "than it would have without support."
        )
    # inconclusive: give the range in the JDL's "lower by up to …, or higher by up to …" form
    unit = _SUBJECT[outcome]
    if outcome == "days_to_first":
        lead = (
            "among people who received support and committed a proven reoffence during the "
            "one-year period, the average time to the first proven reoffence could be"
        )
        down, upw = "shorter", "longer"
    else:
        what = (
            "the number of people who committed a proven reoffence"
            if outcome == "rate"
            else "the number of proven reoffences committed"
        )
        lead = (
            f"for every 100 people who received support, {what} during the one-year period could be"
        )
        down, upw = "lower", "higher"
    if lo <= 0 <= up:
        span = (
            f"{down} {_up_to(_whole(scale * lo), unit)} or {upw} "
            f"{_up_to(_whole(scale * up), unit)} than without support"
        )
    else:  # rare: interval and test disagree (p above the level, interval excludes zero)
        word = down if up < 0 else upw
        near, far = (up, lo) if up < 0 else (lo, up)
        span = (
            f"{word} by {_between(_whole(scale * near), _whole(scale * far))} {unit}, but the "
            f"test of no difference gives p = {row['p']:.3f}"
        )
    return f"The analysis is inconclusive: {lead} {span}. " + _MORE_PEOPLE


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _display(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in table.iterrows():
        o = r["outcome"]
        if o == "rate":

            def pct(x: float) -> str:
                return "–" if not np.isfinite(x) else f"{_whole(100 * x)}%"

            def pts(x: float) -> str:
                return "–" if not np.isfinite(x) else _signed_whole(100 * x)

            prog, comp, diff = pct(r["programme"]), pct(r["comparison"]), pts(r["difference"])
            rng = f"{pts(r['lower'])} to {pts(r['upper'])}"
            unit = "percentage points"
        elif o == "frequency":

            def dec(x: float) -> str:
                return "–" if not np.isfinite(x) else _two_dp(x)

            prog, comp, diff = dec(r["programme"]), dec(r["comparison"]), dec(r["difference"])
            rng = f"{dec(r['lower'])} to {dec(r['upper'])}"
            unit = "reoffences per person"
        else:

            def day(x: float) -> str:
                return "–" if not np.isfinite(x) else _signed_whole(x)

            prog, comp, diff = day(r["programme"]), day(r["comparison"]), day(r["difference"])
            rng = f"{day(r['lower'])} to {day(r['upper'])}"
            unit = "days"
        if "–" in rng:
            rng = "–"
        if not r["shown"]:
            few = "reoffenders" if r["reason"] == _RULE_30 else "non-reoffenders"
            result = f"not reported: too few {few}"
        elif r["significant"]:
            result = "significant: " + ("lower" if r["difference"] < 0 else "higher")
        else:
            result = "inconclusive"
        rows.append(
            {
                "outcome": JDL_OUTCOMES[o],
                "programme": prog,
                "comparison": comp,
                "difference": diff,
                "interval": rng,
                "unit": unit,
                "p": _fmt_p(float(r["p"])),
                "n_programme": int(r["n_programme"]),
                "n_comparison": int(r["n_comparison"]),
                "result": result,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------------------------


def jdl_outcomes(
    data: pd.DataFrame,
    *,
    group: str = "group",
    programme: Any = "programme",
    comparison: Any = "comparison",
    reoffended: str = "reoffended",
    frequency: str = "n_reoffences",
    time: str = "time",
    weights: str | None = None,
    cluster: str | None = None,
    rate_method: str = "newcombe",
    conf_level: float = 0.95,
    id_col: str | None = "person_id",
) -> JDLResult:
    """Justice Data Lab outcome set: reoffending rate, frequency and days to first reoffence.

    Parameters
    ----------
    data
        One row per person: a proven-reoffending cohort (:attr:`evalkit.Cohort.data`), or the
        matched rows of one (``ek.match(...).data``).
    group
        Column holding each person's group.
    programme, comparison
        The labels in ``group`` of the programme (treatment) group and the comparison group.
        Every row must carry one of the two: other labels are an error, not silently dropped.
    reoffended
        Column: 1/``True`` if the person committed a proven reoffence in the follow-up period.
    frequency
        Column: number of proven reoffences in the follow-up period (whole number ≥ 0; at least
        1 exactly for the people who reoffended).
    time
        Column: days from the index date to the offence date of the first proven reoffence
        (read only for people who reoffended; :func:`evalkit.proven_reoffending`'s ``time``).
    weights
        Optional column of non-negative weights, e.g. ``"weight"`` from :func:`evalkit.match`
        or inverse-probability weights. Rows with weight 0 contribute nothing and are not
        counted in ``n_programme``/``n_comparison``.
    cluster
        Optional column of clusters for the standard errors, e.g. ``"subclass"`` (the matched
        set) after matching without replacement. Given with or without ``weights``, it switches
        every outcome to the weighted regression with cluster-robust errors (see Notes).
    rate_method
        Interval for the rate difference without weights or clusters: ``"newcombe"`` (default;
        Newcombe's hybrid score interval, p-value from the two-proportion score test),
        ``"miettinen-nurminen"`` (score interval and the matching "N − 1" score test), or
        ``"welch"`` (Welch's t-test on the 0/1 indicator, which is what the JDL's own pipeline
        reports).
    conf_level
        Confidence level of the intervals (default 0.95); a difference is significant when its
        p-value is at most ``1 − conf_level`` and its interval excludes zero.
    id_col
        Column identifying people (default ``"person_id"``). When it is a column of the data
        its values must be unique — one row per person — and they name offending rows in error
        messages; otherwise index labels do. Matched data from :func:`evalkit.match` satisfy
        this with or without replacement: a control matched several times is one row of
        ``m.data`` with a larger ``weight``, never a repeated row. Pass ``id_col=None`` only
        for data that repeat a person on purpose (e.g. one row per matched pair).

    Returns
    -------
    JDLResult
        ``table`` (full precision), ``sentences`` (outcome → sentence), ``display`` (rounded
        for reading).

    Raises
    ------
    InputError
        Missing columns; duplicated ``id_col`` values; missing group labels, or labels other
        than ``programme`` and ``comparison`` (offending rows named); ``programme ==
        comparison``; ``reoffended`` not 0/1; ``frequency`` negative, fractional, or
        inconsistent with ``reoffended``; ``time`` missing or negative for a reoffender;
        negative or non-finite weights; missing cluster labels; bad ``rate_method`` or
        ``conf_level``.
    DesignError
        No comparison group (or no one in it with positive weight); a programme group of fewer
        than :data:`JDL_MIN_PROGRAMME` (60) people — the JDL does not analyse smaller groups,
        whose results are too imprecise to be useful.

    Notes
    -----
    **Measures** (Ministry of Justice 2013; the JDL report pipeline). The rate is the
    proportion with ``reoffended``; the frequency is the mean of ``frequency`` over everyone in
    the group (reoffenders and non-reoffenders); days to first reoffence is the mean of
    ``time`` over the reoffenders only, so it compares *when* reoffenders reoffended, not
    *whether* people did (use :func:`evalkit.kaplan_meier` and :func:`evalkit.rmst` for the
    time to reoffence of everyone).

    **Intervals without weights.** The rate difference uses Newcombe's (1998) hybrid score
    interval by default: it keeps close to its nominal coverage at the small counts the JDL
    deals with (60 people, 30 reoffenders), where the simple Wald interval does not; its
    p-value is Pearson's two-proportion (score) test without continuity correction (R's
    ``prop.test(correct = FALSE)``). The JDL itself reports, for every measure, a Welch
    t-test of the difference in means — for the rate, on the 0/1 indicator — which
    ``rate_method="welch"`` reproduces; it is close to the Wald interval and slightly too
    narrow for small groups. Frequency and days to first reoffence use Welch's (1947)
    unequal-variance t interval and test with Satterthwaite's degrees of freedom, as the
    JDL does (R's ``t.test(var.equal = FALSE)``).

    **Weighted or matched data.** With ``weights`` or ``cluster`` every difference is the slope
    of a weighted least-squares regression of the measure on the group indicator (the
    difference of weighted means), with a cluster-robust standard error — by matched set when
    ``cluster="subclass"`` after 1:k matching without replacement (Austin 2011; Abadie &
    Spiess 2022), otherwise heteroskedasticity-robust (HC1) — and a normal-theory interval and
    p-value. This is ``lm(y ~ group, weights = w)`` with ``sandwich::vcovCL(cluster = ~set)``,
    the same estimator as :func:`evalkit.matched_rate_difference`. The weights are treated as
    known; the uncertainty of the propensity score is ignored.

    **Reporting rules** (JDL report pipeline, ``variables.R``). The programme group must have at
    least 60 people (else :class:`DesignError`). A difference may be reported as significant
    (``shown`` and ``significant``) only when at least 30 programme-group people reoffended;
    for the rate also n·p ≥ 10, which we apply as the usual normal-approximation condition on
    both counts, n·p̂ ≥ 10 and n·(1 − p̂) ≥ 10 in the programme group (the pipeline's ``np_treat``
    is not defined in the published material; with 30 reoffenders n·p̂ ≥ 10 always holds, so the
    binding condition is that at least 10 people did not reoffend). Days to first reoffence is
    not reported at all with fewer than 30 reoffenders, as in JDL reports. The significance
    level is ``1 − conf_level`` (0.05 by default, as the JDL).

    **Wording.** Significant differences follow the JDL's phrasing, per 100 people for the rate
    and the frequency ("For every 100 people who received support, between 1 and 9 fewer people
    committed a proven reoffence during the one-year period than would have without support"),
    in days for the time to first reoffence. Otherwise the result is "inconclusive", with the
    range given as the JDL gives it ("lower by up to …, or higher by up to …") and its caution
    that "more people would need to be available for analysis … this should not be taken to
    mean that the support has no effect". Numbers in sentences are the interval limits rounded
    half away from zero to whole numbers.

    **When not to use.** The wording ("than would have without support") presumes that the
    comparison group shows what would have happened to the programme group without support.
    That holds only as far as the matching removes the differences between the groups; it can
    never remove differences in what was not measured (motivation, the selection of people into
    the programme). A raw, unmatched comparison group makes the sentences misleading: match
    first (:func:`evalkit.match`) and say in the report that the design is observational.

    References
    ----------
    Ministry of Justice (2013). *Justice Data Lab: Methodology Paper*. London: MoJ.

    Ministry of Justice. Justice Data Lab report pipeline, GitHub
    ``moj-analytical-services/kpow2`` (``JDL RAP/Scripts/variables.R``,
    ``R/higher_or_lower_CI.R``, ``JDLpackage/R/incr_or_decr_phrase.R``).

    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17:873–890.

    Welch BL (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34:28–35. doi:10.1093/biomet/34.1-2.28

    Satterthwaite FE (1946). An approximate distribution of estimates of variance components.
    *Biometrics Bulletin* 2:110–114. doi:10.2307/3002019

    Austin PC (2011). An introduction to propensity score methods for reducing the effects of
    confounding in observational studies. *Multivariate Behavioral Research* 46:399–424.

    Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American
    Statistical Association* 117:983–995. doi:10.1080/01621459.2020.1840383

    Examples
    --------
    >>> import evalkit as ek
    >>> sim = ek.datasets.simulate_reoffending(1500, effect_hr=0.6, rng=3)
    >>> cohort = ek.proven_reoffending(sim["people"], sim["offences"])
    >>> res = ek.jdl_outcomes(cohort.data)
    >>> list(res.table["outcome"])
    ['rate', 'frequency', 'days_to_first']
    >>> res.sentences["rate"].startswith("For every 100 people who received support")
    True
    """
    df = check_frame(data)
    check_choice(rate_method, "rate_method", RATE_METHODS)
    level = check_level(conf_level)
    require_columns(df, [group, reoffended, frequency, time, weights, cluster])
    if id_col is not None and id_col in df.columns:
        check_unique(df, id_col)
    if programme == comparison:
        raise InputError(
            "programme", f"and 'comparison' must be different group labels (both {programme!r})"
        )

    # ---- groups: exactly the two labels, nothing else -----------------------------------------
    check_no_missing(df, group, id_col=id_col)
    labels = df[group]
    is_prog = (labels == programme).to_numpy(dtype=bool, na_value=False)
    is_comp = (labels == comparison).to_numpy(dtype=bool, na_value=False)
    other = ~(is_prog | is_comp)
    if other.any():
        found = [v.item() if hasattr(v, "item") else v for v in pd.unique(labels[other])][:5]
        raise InputError(
            group,
            f"must be {programme!r} (programme) or {comparison!r} (comparison); "
            f"found other labels {found}",
            row_ids(df, other, id_col),
        )
    if not is_prog.any():
        raise DesignError(
            f"no rows in the programme group ({group} = {programme!r}); the Justice Data Lab "
            "compares a programme group with a comparison group"
        )
    if not is_comp.any():
        raise DesignError(
            f"no rows in the comparison group ({group} = {comparison!r}); the Justice Data Lab "
            "compares a programme group with a comparison group"
        )

    # ---- weights and clusters ------------------------------------------------------------------
    robust = weights is not None or cluster is not None
    if weights is not None:
        w = check_numeric(df, weights, id_col=id_col)
        bad = w < 0
        if bad.any():
            raise InputError(weights, "must not be negative", row_ids(df, bad, id_col))
    else:
        w = np.ones(len(df))
    use = w > 0
    if cluster is not None:
        miss = df[cluster].isna().to_numpy() & use
        if miss.any():
            raise InputError(cluster, "has missing values", row_ids(df, miss, id_col))
        codes = pd.factorize(df[cluster])[0]
    else:
        codes = np.arange(len(df))

    # ---- outcomes ------------------------------------------------------------------------------
    reo = check_event(df, reoffended, id_col=id_col)
    freq = check_numeric(df, frequency, id_col=id_col)
    bad = (freq < 0) | (freq != np.floor(freq))
    if bad.any():
        raise InputError(
            frequency, "must be a whole number of reoffences (0, 1, 2, …)", row_ids(df, bad, id_col)
        )
    bad = (reo == 1) != (freq > 0)
    if bad.any():
        raise InputError(
            frequency,
            f"must be at least 1 exactly for the people with '{reoffended}' true (a reoffender "
            "has at least one proven reoffence; a non-reoffender has none)",
            row_ids(df, bad, id_col),
        )
    reo_rows = reo == 1
    t = np.full(len(df), np.nan)
    if reo_rows.any():
        s = df[time]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InputError(time, f"must be numeric days, but has dtype {s.dtype}")
        tv = s.to_numpy(dtype=float, na_value=np.nan)
        bad = reo_rows & ~np.isfinite(tv)
        if bad.any():
            raise InputError(
                time, "is missing or not finite for a reoffender", row_ids(df, bad, id_col)
            )
        bad = reo_rows & (tv < 0)
        if bad.any():
            raise InputError(
                time, "must not be negative for a reoffender", row_ids(df, bad, id_col)
            )
        t = tv

    prog = is_prog & use
    comp = is_comp & use
    n1, n0 = int(prog.sum()), int(comp.sum())
    if n0 == 0:
        raise DesignError(
            f"nobody in the comparison group ({group} = {comparison!r}) has a positive weight"
        )
    if n1 < JDL_MIN_PROGRAMME:
        raise DesignError(
            f"the programme group has {n1} people{' with positive weight' if robust else ''}; "
            f"the Justice Data Lab analyses a programme group only when it has at least "
            f"{JDL_MIN_PROGRAMME} people, because smaller groups give results too imprecise to "
            "be useful"
        )
    x1 = int(reo[prog].sum())
    x0 = int(reo[comp].sum())

    # ---- the three comparisons ----------------------------------------------------------------
    results: dict[str, tuple[_Diff, int, int, str]] = {}
    if robust:
        z_all = np.where(is_prog, 1, 0)
        kind = (
            f"weighted least squares, cluster-robust SE by '{cluster}' (CR1), normal interval"
            if cluster is not None
            else "weighted least squares, robust SE (HC1), normal interval"
        )

        def rob(y: np.ndarray, rows: np.ndarray) -> _Diff:
            return _robust(y[rows], z_all[rows], w[rows], codes[rows], level)

        both = prog | comp
        results["rate"] = (rob(reo.astype(float), both), n1, n0, kind)
        results["frequency"] = (rob(freq, both), n1, n0, kind)
        r_rows = both & reo_rows
        results["days_to_first"] = (rob(t, r_rows), x1, x0, kind)
    else:
        if rate_method == "welch":
            rate = _welch(reo[prog].astype(float), reo[comp].astype(float), level)
            rate_kind = "Welch t-test on the 0/1 indicator (as the JDL)"
        else:
            ci = rate_difference(x1, n1, x0, n0, method=rate_method, conf_level=level)
            if rate_method == "newcombe":
                p = _pearson_p(x1, n1, x0, n0)
                rate_kind = "Newcombe hybrid score interval; Pearson two-proportion test"
            else:
                p = float(ci.p_value)
                rate_kind = "Miettinen-Nurminen score interval and test"
            rate = _Diff(
                float(ci.rate1), float(ci.rate0), float(ci.estimate), float(ci.lower),
                float(ci.upper), p,
            )  # fmt: skip
        results["rate"] = (rate, n1, n0, rate_kind)
        welch_kind = "Welch unequal-variance t interval and test"
        results["frequency"] = (_welch(freq[prog], freq[comp], level), n1, n0, welch_kind)
        results["days_to_first"] = (
            _welch(t[prog & reo_rows], t[comp & reo_rows], level),
            x1,
            x0,
            welch_kind,
        )

    # ---- rules, table, sentences ---------------------------------------------------------------
    alpha = 1.0 - level
    rows: list[dict[str, Any]] = []
    for outcome in JDL_OUTCOMES:
        d, na, nb, kind = results[outcome]
        reason = ""
        if x1 < JDL_MIN_REOFFENDERS:
            reason = _RULE_30
        elif outcome == "rate" and min(x1, n1 - x1) < JDL_MIN_NP:
            reason = _RULE_NP
        excludes_zero = bool(d.lower > 0 or d.upper < 0)
        significant = bool(np.isfinite(d.p) and d.p <= alpha and excludes_zero)
        rows.append(
            {
                "outcome": outcome,
                "programme": d.programme,
                "comparison": d.comparison,
                "difference": d.difference,
                "lower": d.lower,
                "upper": d.upper,
                "p": d.p,
                "n_programme": na,
                "n_comparison": nb,
                "reoffenders_programme": x1,
                "significant": significant,
                "shown": reason == "",
                "reason": reason,
                "method": kind,
            }
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.astype(
        {
            "n_programme": "int64",
            "n_comparison": "int64",
            "reoffenders_programme": "int64",
            "significant": bool,
            "shown": bool,
        }
    )
    sentences = {str(r["outcome"]): _sentence(str(r["outcome"]), r) for r in rows}
    return JDLResult(
        table=table,
        sentences=MappingProxyType(sentences),
        display=_display(table),
        conf_level=level,
        programme_label=programme,
        comparison_label=comparison,
        weighted=robust,
        rate_method=rate_method,
    )
