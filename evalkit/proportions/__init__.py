"""Confidence intervals for comparing two proportions: differences, ratios and odds ratios.

A diversion evaluation usually ends in a two-by-two table: ``x1`` of ``n1`` people in the
programme group reoffended, against ``x0`` of ``n0`` in the comparison group. This package gives
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

Layout (every public name is importable from ``evalkit.proportions`` itself):

- ``independent``: two independent groups, ``rate_difference``, ``rate_ratio``, ``odds_ratio``
  and their result, ``ComparisonEstimate``;
- ``paired``: ``paired_rate_difference``;
- ``single``: one proportion, ``wilson_interval`` and its result, ``ProportionEstimate``;
- ``_score`` (score statistics, restricted MLEs, bisection) and ``_checks`` (argument checks,
  also used by ``evalkit.power``).
"""

from __future__ import annotations

from evalkit.proportions._checks import PROPORTION_METHODS
from evalkit.proportions.independent import (
    ComparisonEstimate,
    odds_ratio,
    rate_difference,
    rate_ratio,
)
from evalkit.proportions.paired import paired_rate_difference
from evalkit.proportions.single import ProportionEstimate, wilson_interval

# Private argument checks that evalkit.power imports from here.

__all__ = [
    "PROPORTION_METHODS",
    "ComparisonEstimate",
    "ProportionEstimate",
    "odds_ratio",
    "paired_rate_difference",
    "rate_difference",
    "rate_ratio",
    "wilson_interval",
]
