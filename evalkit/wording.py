"""Numbers in words, with rounding that never hides which side of "no effect" a value is on.

Every report sentence that states an estimate, a range or a p-value is written with these
helpers, so that the same value reads the same way in the text and in the tables, and so that
rounding cannot turn a range that excludes no effect into one that appears to touch it:

- a bound that would round to the null value (``0.0`` for a difference, ``1.00`` for a ratio)
  is shown with as many more decimals as it takes to show which side it is on (``0.02 fewer``,
  ``1.003``);
- p-values are ``< 0.001`` below 0.001, and get a third significant figure between 0.045 and
  0.055 (``0.0501``, ``0.0499``), where two decimals would hide the side of 0.05;
- a range in words is given nearest-to-no-effect first (``between 0.01 and 16.7 fewer``);
- percentages in a sentence that also states their difference have one decimal, so that the
  arithmetic reads right (``22.2% against 30.6%, 8.4 fewer per 100``).

Nothing here decides what a result means: that is :mod:`evalkit.verdict`.
"""

from __future__ import annotations

import math

__all__ = [
    "fmt_number",
    "fmt_p",
    "fmt_percent",
    "fmt_ratio_range",
    "p_text",
    "per100",
    "range_words",
]

_MAX_DECIMALS = 6


def _round_half_away(value: float, decimals: int) -> float:
    """Round half away from zero (as printed tables do), not to even."""
    factor = 10.0**decimals
    return math.copysign(math.floor(abs(value) * factor + 0.5) / factor, value)


def fmt_number(value: float, decimals: int = 1, *, null: float | None = None) -> str:
    """``value`` with ``decimals`` decimals; more if it would otherwise print as ``null``.

    Examples
    --------
    >>> fmt_number(-0.012, 1, null=0.0)
    '-0.01'
    >>> fmt_number(1.003, 2, null=1.0)
    '1.003'
    >>> fmt_number(0.69123, 2, null=1.0)
    '0.69'
    """
    if not math.isfinite(value):
        return "not estimable"
    d = decimals
    while (
        null is not None
        and value != null
        and _round_half_away(value, d) == _round_half_away(null, d)
        and d < _MAX_DECIMALS
    ):
        d += 1
    rounded = _round_half_away(value, d) + 0.0  # no "-0.0"
    return f"{rounded:.{d}f}"


def fmt_p(p: float | None) -> str:
    """A p-value as reports show it, in text and tables alike.

    ``< 0.001`` below 0.001; three significant figures between 0.045 and 0.055 (the side of
    0.05 shows); otherwise three decimals below 0.1 and two above.

    Examples
    --------
    >>> [fmt_p(p) for p in (0.0004, 0.0123, 0.0501, 0.0499, 0.2345)]
    ['< 0.001', '0.012', '0.0501', '0.0499', '0.23']
    """
    if p is None or not math.isfinite(p):
        return "not available"
    if p < 0.001:
        return "< 0.001"
    if 0.045 <= p < 0.055:
        if p == 0.05:
            return "0.0500"
        for digits in range(3, 10):  # as many as it takes to leave the line
            text = f"{p:.{digits}g}"
            if float(text) != 0.05:
                break
        return text
    if p < 0.1:
        return f"{_round_half_away(p, 3):.3f}"
    return f"{_round_half_away(p, 2):.2f}"


def p_text(p: float | None) -> str:
    """``p = 0.012`` or ``p < 0.001``: a p-value in a sentence, formatted by :func:`fmt_p`."""
    shown = fmt_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def fmt_percent(proportion: float, decimals: int = 1) -> str:
    """A proportion as a percentage: ``0.2222`` → ``"22.2%"``."""
    return fmt_number(100 * proportion, decimals) + "%"


def per100(
    difference: float, decimals: int = 1, *, fewer: str = "fewer", more: str = "more"
) -> str:
    """A difference in proportions as people per 100: ``-0.084`` → ``"8.4 fewer"``.

    A difference that would round to zero gets more decimals (``0.01 fewer``); an exact zero is
    ``"no difference"``.
    """
    x = 100 * difference
    if x == 0:
        return "no difference"
    word = fewer if x < 0 else more
    return f"{fmt_number(abs(x), decimals, null=0.0)} {word}"


def range_words(
    lower: float,
    upper: float,
    *,
    decimals: int = 1,
    scale: float = 100.0,
    fewer: str = "fewer",
    more: str = "more",
    unit: str = "",
) -> str:
    """A range of differences in words, nearest to no effect first.

    Examples
    --------
    >>> range_words(-0.167, -0.00012)
    'between 0.01 and 16.7 fewer'
    >>> range_words(-0.162, 0.014)
    'between 1.4 more and 16.2 fewer'
    >>> range_words(2.5, 9.0, scale=1, fewer="shorter", more="longer", unit=" days")
    'between 2.5 and 9.0 longer days'
    """
    lo, hi = scale * lower, scale * upper
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "not estimable"

    def num(v: float) -> str:
        return fmt_number(abs(v), decimals, null=0.0)

    if hi < 0:
        return f"between {num(hi)} and {num(lo)} {fewer}{unit}"
    if lo > 0:
        return f"between {num(lo)} and {num(hi)} {more}{unit}"
    # the range includes no difference: name both ends, the one nearest zero first
    ends = sorted([(abs(lo), lo), (abs(hi), hi)])
    words = [f"{num(v)} {fewer if v < 0 else more}" for _, v in ends]
    if lo == 0 or hi == 0:
        words = [w if not w.startswith("0") else "no difference" for w in words]
    return f"between {words[0]} and {words[1]}{unit}"


def fmt_ratio_range(estimate: float, lower: float, upper: float, decimals: int = 2) -> str:
    """A ratio and its range, ``0.69 (0.48 to 1.003)``: bounds near 1 keep their side.

    Examples
    --------
    >>> fmt_ratio_range(0.691, 0.477, 1.003)
    '0.69 (0.48 to 1.003)'
    """

    def f(v: float) -> str:
        return fmt_number(v, decimals, null=1.0)

    return f"{f(estimate)} ({f(lower)} to {f(upper)})"
