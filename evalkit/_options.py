"""One validation of function options (arguments that are not columns).

Every checker returns the checked, converted value — callers must use what it returns, so
``conf_level="0.9"`` is refused here rather than passing and failing later — and raises
:class:`~evalkit.errors.InputError` worded ``argument 'name': rule, got value``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from evalkit.errors import InputError

__all__ = [
    "check_choice",
    "check_columns",
    "check_conf_level",
    "check_date",
    "check_flag",
    "check_int",
    "check_listed",
    "check_number",
    "check_probability",
    "option_error",
    "parse_pairs",
]

T = TypeVar("T")


def option_error(name: str, rule: str, value: Any = ...) -> InputError:
    """``InputError`` for argument ``name``: ``argument 'name': rule, got value``."""
    got = "" if value is ... else f", got {value!r}"
    return InputError(name, f"{rule}{got}", argument=True)


def _real(value: Any) -> bool:
    """A real number that is not a bool (``True`` is an int to Python, never a level to us)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_probability(value: Any, name: str) -> float:
    """A number strictly between 0 and 1 (a power, a significance level, a proportion)."""
    if not _real(value) or not 0.0 < float(value) < 1.0:
        raise option_error(name, "must be a number strictly between 0 and 1", value)
    return float(value)


def check_conf_level(value: Any, name: str = "conf_level") -> float:
    """A confidence level: a number strictly between 0 and 1 (0.95, not 95 or "0.95")."""
    return check_probability(value, name)


def check_flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans accepted); never a truthy string such as "no"."""
    if isinstance(value, bool):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)  # numpy.bool_ (numpy is not imported here: it is slow to import)
    raise option_error(name, "must be True or False", value)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
    finite: bool = True,
) -> float:
    """A real number, optionally bounded (``strict``: the bounds themselves are excluded)."""
    if not _real(value) or math.isnan(float(value)):
        raise option_error(name, "must be a number", value)
    x = float(value)
    if finite and not math.isfinite(x):
        raise option_error(name, "must be a finite number", value)
    if minimum is not None and (x < minimum or (strict and x == minimum)):
        word = "greater than" if strict else "at least"
        raise option_error(name, f"must be {word} {minimum:g}", value)
    if maximum is not None and (x > maximum or (strict and x == maximum)):
        word = "less than" if strict else "at most"
        raise option_error(name, f"must be {word} {maximum:g}", value)
    return x


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number (``2`` or ``2.0``; not ``2.5``, ``"2"`` or ``True``), optionally bounded."""
    if not _real(value) or not math.isfinite(float(value)) or float(value) != int(value):
        raise option_error(name, "must be a whole number", value)
    k = int(value)
    if minimum is not None and k < minimum:
        raise option_error(name, f"must be at least {minimum}", value)
    if maximum is not None and k > maximum:
        raise option_error(name, f"must be at most {maximum}", value)
    return k


def check_choice(value: T, name: str, choices: Sequence[Any]) -> T:
    """One of ``choices``; the error lists the valid values."""
    try:
        ok = bool(value in choices)
    except (TypeError, ValueError):  # unhashable, incomparable, or an array (ambiguous ==)
        ok = False
    if not ok:
        valid = ", ".join(repr(c) for c in choices)
        raise option_error(name, f"valid values are {valid}", value)
    return value


def check_columns(value: Any, name: str, *, allow_empty: bool = True) -> list[str]:
    """A column name or a list of distinct column names, as a list (``None`` → ``[]``)."""
    if value is None:
        cols: list[Any] = []
    elif isinstance(value, str):
        cols = [value]
    else:
        try:
            cols = list(value)
        except TypeError:
            raise option_error(name, "must be a column name or a list of column names") from None
    if not all(isinstance(c, str) for c in cols):
        raise option_error(name, "must be a column name or a list of column names", value)
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise option_error(name, f"lists a column more than once: {dup}")
    if not cols and not allow_empty:
        raise option_error(name, "must name at least one column")
    return cols


def check_listed(
    names: Iterable[Any],
    columns: Iterable[Any],
    *,
    listed: str,
    table: str | None,
    where: str = "the table",
) -> None:
    """Every one of ``names`` (columns an option lists) is among the table's ``columns``.

    The first absent one is an ``InputError`` worded ``column 'x' in table: {listed} but is not
    a column of {where} (columns: …)`` (at most 20 columns shown), e.g. ``listed="is named in
    date_format"``.
    """
    present = list(columns)
    absent = [c for c in names if c not in present]
    if absent:
        have = ", ".join(map(str, present[:20]))
        raise InputError(
            absent[0], f"{listed} but is not a column of {where} (columns: {have})", table=table
        )


def check_date(value: Any, name: str, *, example: str) -> Any:
    """A date as a ``pandas.Timestamp`` (anything it reads); else ``InputError`` worded ``must
    be a date (e.g. 'example'); got value``."""
    import pandas as pd  # not at the top: this module is imported before any data is read

    try:
        ts: Any = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if pd.isna(ts):
        raise InputError(name, f"must be a date (e.g. {example!r}); got {value!r}")
    return ts


def parse_pairs(text: str, name: str, *, form: str, parts: str) -> dict[str, str]:
    """``"a=b, c=d"``, the text of a command-line option such as ``--columns``, as a dict.

    Empty items are skipped and both sides stripped; an item without ``=`` is an
    ``InputError`` showing ``form`` (one item, ``"column=Label"``), one with an empty side an
    error naming ``parts`` (``"column or label"``).
    """
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InputError(name, f"each item must look like {form!r}, got {item.strip()!r}")
        key, value = (part.strip() for part in item.split("=", 1))
        if not key or not value:
            raise InputError(name, f"empty {parts} in {item.strip()!r}")
        out[key] = value
    return out
