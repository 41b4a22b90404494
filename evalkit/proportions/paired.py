"""The difference of two paired proportions: the same people, or matched pairs, measured twice."""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit._inference import p_two_sided
from evalkit.proportions._checks import _broadcast, _counts, _options, _raise
from evalkit.proportions._score import _signed_ratio, _wilson
from evalkit.proportions.independent import ComparisonEstimate, _result

__all__ = ["paired_rate_difference"]


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

    ===========  ===============  ===============
    \\            second: yes      second: no
    ===========  ===============  ===============
    first: yes   ``both``         ``first_only``
    first: no    ``second_only``  ``neither``
    ===========  ===============  ===============

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
        ``rate1`` and ``rate0`` are the first and second proportions; ``p`` is NaN for
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
    method, level, z = _options("paired_rate_difference", method, conf_level)
    arrs = [
        _counts(v, k)
        for v, k in (
            (both, "both"),
            (first_only, "first_only"),
            (second_only, "second_only"),
            (neither, "neither"),
        )
    ]
    scalar = all(v.ndim == 0 for v in arrs)
    a, b, c, d = _broadcast(both=arrs[0], first_only=arrs[1], second_only=arrs[2], neither=arrs[3])
    n = a + b + c + d
    if np.any(n == 0):
        _raise("both", "the four counts must not all be zero (no pairs)", n, n == 0)
    p1 = (a + b) / n
    p2 = (a + c) / n
    est = (b - c) / n
    pval = np.full_like(est, np.nan)
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
        pval = p_two_sided(_signed_ratio(est, se * se))
    lower = np.clip(lower, -1.0, 1.0)
    upper = np.clip(upper, -1.0, 1.0)
    return _result(
        "paired rate difference", method, level, scalar, est, lower, upper, pval, 0.0, p1, p2
    )
