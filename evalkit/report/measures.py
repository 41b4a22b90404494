"""Estimates as the verdict engine's measures (:class:`evalkit.verdict.Measure`).

A report hands its estimates to :func:`evalkit.report.judge` as measures: the primary one
fixed in the configuration and the secondary ones it reports beside it. The same kinds of
estimate recur across the scheme reports, and each is turned into a measure the one way here:
a hazard ratio from a Cox table's row, and a difference in restricted mean survival time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evalkit.verdict import Measure

__all__ = ["hazard_ratio_measure", "rmst_measure"]


def hazard_ratio_measure(row: Mapping[str, Any], name: str = "hazard ratio") -> Measure:
    """A hazard ratio row (``hr``, ``hr_lower``, ``hr_upper``, ``p``) as a verdict measure.

    Parameters
    ----------
    row
        A row of a Cox table (``ek.cox(...).table.loc[term]``,
        :func:`evalkit.report.matched_hazard_ratio`).
    name
        What the measure is called in the verdict's wording.

    Returns
    -------
    evalkit.verdict.Measure
        A ratio measure with no unit, lower being better.

    Examples
    --------
    >>> m = hazard_ratio_measure({"hr": 0.8, "hr_lower": 0.6, "hr_upper": 1.1, "p": 0.17})
    >>> m.kind, m.estimate, m.upper
    ('ratio', 0.8, 1.1)
    """
    return Measure(
        name,
        "",
        float(row["hr"]),
        float(row["hr_lower"]),
        float(row["hr_upper"]),
        p=float(row["p"]),
        kind="ratio",
        unit="",
    )


def rmst_measure(result: Any, *, name: str, unit: str) -> Measure:
    """A difference in restricted mean survival time as a verdict measure (higher is better).

    Parameters
    ----------
    result
        The difference (:func:`evalkit.rmst_difference`): its ``estimate``, ``lower``,
        ``upper``, ``p`` and ``conf_level``.
    name
        What the measure is called in the verdict's wording
        (``"difference in days without a proven reoffence"``).
    unit
        The unit of time (``"days"``, ``"weeks"``).

    Returns
    -------
    evalkit.verdict.Measure
        A difference measure: more time without a reoffence is better.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rmd = SimpleNamespace(estimate=12.0, lower=2.0, upper=22.0, p=0.02, conf_level=0.95)
    >>> m = rmst_measure(rmd, name="difference in days without a proven reoffence", unit="days")
    >>> m.good, m.unit, m.estimate
    ('higher', 'days', 12.0)
    """
    return Measure(
        name,
        "",
        float(result.estimate),
        float(result.lower),
        float(result.upper),
        p=float(result.p),
        good="higher",
        unit=unit,
        conf_level=float(result.conf_level),
    )
