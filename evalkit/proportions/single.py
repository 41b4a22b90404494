"""One proportion: the Wilson score interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from evalkit._inference import critical
from evalkit._options import check_conf_level
from evalkit.proportions._checks import _broadcast, _check_totals, _counts, _out
from evalkit.proportions._score import _wilson
from evalkit.proportions.independent import _frame
from evalkit.results import Estimate

__all__ = ["ProportionEstimate", "wilson_interval"]


@dataclass(frozen=True, eq=False, repr=False)
class ProportionEstimate(Estimate):
    """A proportion ``x / n`` with its confidence interval.

    Extends :class:`evalkit.results.Estimate`. When the function was called with arrays of
    counts, ``estimate``, ``lower`` and ``upper`` are numpy arrays of the broadcast shape and
    :meth:`to_frame` has one row per element.

    Attributes
    ----------
    estimate
        The observed proportion ``x / n``.
    lower, upper
        Confidence limits, within ``[0, 1]``.
    conf_level
        Confidence level, e.g. 0.95.
    method
        The interval method: ``"wilson"``.
    """

    _title: ClassVar[str] = "Proportion"

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with one row per proportion: ``method, estimate, lower, upper, conf_level``."""
        return _frame(self, ("method", "estimate", "lower", "upper", "conf_level"))


def wilson_interval(x: Any, n: Any, *, conf_level: float = 0.95) -> ProportionEstimate:
    """Wilson score interval for one proportion, ``x`` events among ``n`` people.

    Parameters
    ----------
    x, n
        Events and people; whole numbers, ``0 <= x <= n``, ``n >= 1``; scalars or arrays
        (broadcast against each other).
    conf_level
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    ProportionEstimate
        ``estimate`` (= ``x / n``), ``lower``, ``upper``: floats for scalar arguments, arrays
        otherwise.

    Raises
    ------
    InputError
        Counts negative, non-integer or non-finite; ``x > n``; ``n = 0``; ``conf_level``
        outside (0, 1).

    Notes
    -----
    The interval inverts the score test of one binomial proportion (Wilson 1927); it is
    R's ``prop.test(x, n, correct = FALSE)$conf.int``. Unlike the Wald interval it stays within
    ``[0, 1]`` and has coverage close to nominal for small ``n`` and proportions near 0 or 1
    (Newcombe 1998); the lower limit is exactly 0 when ``x = 0`` and the upper exactly 1 when
    ``x = n``. It is the building block of Newcombe's hybrid intervals for a difference
    (:func:`rate_difference`, :func:`paired_rate_difference`).

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    *Journal of the American Statistical Association* 22:209–212. doi:10.2307/2276774

    Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of
    seven methods. *Statistics in Medicine* 17:857–872.
    doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Examples
    --------
    Newcombe's (1998) example, 81 of 263:

    >>> from evalkit.proportions import wilson_interval
    >>> r = wilson_interval(81, 263)
    >>> round(r.estimate, 4), round(r.lower, 4), round(r.upper, 4)
    (0.308, 0.2553, 0.3662)
    >>> r = wilson_interval([0, 5], 10)
    >>> r.lower.round(4).tolist(), r.upper.round(4).tolist()
    ([0.0, 0.2366], [0.2775, 0.7634])
    """
    level = check_conf_level(conf_level)
    xa, na = _counts(x, "x"), _counts(n, "n")
    scalar = xa.ndim == 0 and na.ndim == 0
    xb, nb = _broadcast(x=xa, n=na)
    _check_totals(xa, na, "x", "n")
    lower, upper = _wilson(xb, nb, critical(level))
    return ProportionEstimate(
        estimate=_out(xb / nb, scalar),
        lower=_out(lower, scalar),
        upper=_out(upper, scalar),
        conf_level=level,
        method="wilson",
    )
