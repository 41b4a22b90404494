"""The wording of the Justice Data Lab outcome set: its sentences and its display table.

The phrases follow the JDL report pipeline (``R/higher_or_lower_CI.R`` and
``JDLpackage/R/incr_or_decr_phrase.R`` in ``moj-analytical-services/kpow2``) and the published
JDL statistics (the "inconclusive" caution); see :mod:`evalkit.jdl`, whose
:func:`~evalkit.jdl.jdl_outcomes` calls :func:`sentence` and :func:`display_table`. Numbers are
rounded half away from zero, as published statistics are (:func:`evalkit.wording.fmt_number`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from evalkit.jdl import JDL_MIN_NP, JDL_MIN_REOFFENDERS, JDL_OUTCOMES
from evalkit.wording import fmt_number, fmt_percent

__all__ = [
    "MORE_PEOPLE",
    "RULE_30",
    "RULE_NP",
    "between",
    "display_table",
    "sentence",
    "up_to",
    "whole",
]

RULE_30 = (
    f"fewer than {JDL_MIN_REOFFENDERS} people in the programme group committed a proven reoffence"
)
"""The ``reason`` of an outcome not reported for too few programme-group reoffenders."""

RULE_NP = (
    f"fewer than {JDL_MIN_NP} people in the programme group did not commit a proven reoffence "
    f"(n·(1 − p) below {JDL_MIN_NP})"
)
"""The ``reason`` of a rate not reported for too few programme-group non-reoffenders."""

MORE_PEOPLE = (
    "More people would need to be available for analysis to determine the direction of the "
    "difference; this should not be taken to mean that the support has no effect."
)
"""The JDL's caution after a result it cannot call."""

_SINGULAR = {"people": "person", "proven reoffences": "proven reoffence", "days": "day"}

_SUBJECT = {
    "rate": "people",
    "frequency": "proven reoffences",
    "days_to_first": "days",
}

_DASH = "–"  # a number that cannot be estimated, in the display table


def whole(x: float) -> int:
    """``|x|`` rounded half away from zero to a whole number (published-statistics rounding).

    Examples
    --------
    >>> whole(2.5), whole(-2.5), whole(0.49)
    (3, 3, 0)
    """
    return math.floor(abs(x) + 0.5)


def up_to(x: int, unit: str) -> str:
    """``by up to 12 people``; ``by up to 1 person``; ``by less than 1 person``.

    Examples
    --------
    >>> up_to(0, "people"), up_to(1, "days"), up_to(7, "proven reoffences")
    ('by less than 1 person', 'by up to 1 day', 'by up to 7 proven reoffences')
    """
    if x < 1:
        return f"by less than 1 {_SINGULAR[unit]}"
    return f"by up to {x} {_SINGULAR[unit] if x == 1 else unit}"


def between(a: int, b: int) -> str:
    """``between 1 and 9``, or ``about 4`` when both ends round to the same number.

    Examples
    --------
    >>> between(1, 9), between(4, 4)
    ('between 1 and 9', 'about 4')
    """
    return f"about {a}" if a == b else f"between {a} and {b}"


def sentence(outcome: str, row: Mapping[str, Any]) -> str:
    """The JDL-style sentence for one outcome row of :attr:`evalkit.JDLResult.table`.

    Numbers are the interval limits rounded half away from zero to whole numbers, per 100
    people for the rate and the frequency, in days for the time to first reoffence.
    """
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
            if row["reason"] == RULE_30
            else f"at least {JDL_MIN_NP} people who did not reoffend"
        )
        return (
            f"The analysis cannot report a difference in {what}: {row['reason']}, and the "
            f"Justice Data Lab requires {minimum} in the programme group before it reports one. "
            + MORE_PEOPLE
        )
    if not (math.isfinite(lo) and math.isfinite(up)):
        return (
            "The analysis is inconclusive: the difference could not be estimated from these "
            "data (too few people, or no variation, in a group)."
        )
    if row["significant"]:
        near, far = (up, lo) if up < 0 else (lo, up)
        rng = between(whole(scale * near), whole(scale * far))
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
            f"{down} {up_to(whole(scale * lo), unit)} or {upw} "
            f"{up_to(whole(scale * up), unit)} than without support"
        )
    else:  # rare: interval and test disagree (p above the level, interval excludes zero)
        word = down if up < 0 else upw
        near, far = (up, lo) if up < 0 else (lo, up)
        span = (
            f"{word} by {between(whole(scale * near), whole(scale * far))} {unit}, but the "
            f"test of no difference gives p = {row['p']:.3f}"
        )
    return f"The analysis is inconclusive: {lead} {span}. " + MORE_PEOPLE


def _p_cell(p: float) -> str:
    """A p-value in the display table: three decimals, ``< 0.001`` below 0.001."""
    if not math.isfinite(p):
        return _DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


# outcome -> (format of a group's value, format of a difference, unit of the difference)
_FORMATS: dict[str, tuple[Callable[[float], str], Callable[[float], str], str]] = {
    "rate": (
        lambda x: fmt_percent(x, 0),
        lambda x: fmt_number(100 * x, 0),
        "percentage points",
    ),
    "frequency": (
        lambda x: fmt_number(x, 2),
        lambda x: fmt_number(x, 2),
        "reoffences per person",
    ),
    "days_to_first": (
        lambda x: fmt_number(x, 0),
        lambda x: fmt_number(x, 0),
        "days",
    ),
}


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The outcome table as a reader sees it (:attr:`evalkit.JDLResult.display`).

    Rates in whole percentages (differences in percentage points), frequencies to two decimals,
    days whole, p to three decimals; ``–`` where a number cannot be estimated.
    """
    rows = []
    for _, r in table.iterrows():
        o = r["outcome"]
        level, difference, unit = _FORMATS[o]

        def cell(x: float, fmt: Callable[[float], str]) -> str:
            return _DASH if not math.isfinite(x) else fmt(x)

        lower, upper = cell(r["lower"], difference), cell(r["upper"], difference)
        if not r["shown"]:
            few = "reoffenders" if r["reason"] == RULE_30 else "non-reoffenders"
            result = f"not reported: too few {few}"
        elif r["significant"]:
            result = "significant: " + ("lower" if r["estimate"] < 0 else "higher")
        else:
            result = "inconclusive"
        rows.append(
            {
                "outcome": JDL_OUTCOMES[o],
                "programme": cell(r["programme"], level),
                "comparison": cell(r["comparison"], level),
                "difference": cell(r["estimate"], difference),
                "interval": _DASH if _DASH in (lower, upper) else f"{lower} to {upper}",
                "unit": unit,
                "p": _p_cell(float(r["p"])),
                "n_programme": int(r["n_programme"]),
                "n_comparison": int(r["n_comparison"]),
                "result": result,
            }
        )
    return pd.DataFrame(rows)
