"""Reading a column of dates: one format per column, ambiguity refused, never row by row.

Dates in files from England and Wales are usually written day first (``02/03/2024`` is
2 March 2024), while pandas' default reading of such text is month first. Reading a column
"row by row" (``format="mixed"``) also lets one file mix conventions without a word. Here a
column is read with exactly one format:

- datetime columns (parquet, Excel date cells) are kept as they are;
- ISO 8601 text (``2024-03-02``, optionally with a time) needs no option;
- text with the month as a word (``02-Mar-2024``, ``2 March 2024``) needs no option;
- numeric day/month/year text (``02/03/2024``) is read with the format the user gives
  (``date_format="%d/%m/%Y"`` or ``dayfirst=True``); without one it is read only when the
  column itself settles the order (some day above 12, and no value that would then be invalid);
  a column in which every value could be read either way is an :class:`InputError` that shows
  two examples and how to give the format;
- numbers are Excel serial day numbers only when the user says so (``date_format="excel"``);
  otherwise they are refused with an error that says what they look like (never 1970-01-01).

Every value that does not fit the column's format is an error naming the rows. Missing values
are left missing (``NaT``) for the caller's own rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import InputError, shown

__all__ = ["EXCEL", "parse_dates"]

EXCEL = "excel"
"""``date_format`` value meaning Excel serial day numbers (days since 1899-12-30)."""

_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_EXCEL_MIN, _EXCEL_MAX = 61, 2_958_465  # 1900-03-01 (after Excel's 1900 leap-day bug), 9999-12-31

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}" + _TIME + r"(?:Z|[+-]\d{2}:?\d{2})?$")
_YMD_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}" + _TIME + "$")
_DMY = r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})" + _TIME + "$"
_TRAILING_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_WORD_MONTH_FORMATS = (
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%B-%Y",
    "%d/%b/%Y",
    "%d-%b-%y",
    "%d %b %y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
_HOW = (
    "give the format: date_format='%d/%m/%Y' (day first, as UK systems write dates) or "
    'dayfirst=True in Python; date_format = "%d/%m/%Y" in the analysis TOML; '
    "--date-format %d/%m/%Y on the command line"
)


@dataclass(frozen=True)
class _Column:
    """The column being read: its names for errors, the format asked for, and ``rows``."""

    column: str
    table: str | None
    date_format: str | None
    dayfirst: bool
    rows: Any

    def fail(self, rule: str, mask: np.ndarray) -> InputError:
        """``InputError`` naming the column and the rows where ``mask`` is true."""
        return InputError(self.column, rule, self.rows(mask), table=self.table)


def parse_dates(
    values: pd.Series,
    *,
    column: str,
    table: str | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
    rows: Any = None,
) -> pd.Series:
    """Read one column as dates (``datetime64[ns]``), with one format for the whole column.

    Parameters
    ----------
    values
        The column as read from the file (text, numbers or datetimes).
    column, table
        Names used in error messages.
    date_format
        A :func:`~datetime.datetime.strptime` format (``"%d/%m/%Y"``), ``"ISO8601"``, or
        ``"excel"`` for Excel serial day numbers. ``None``: ISO 8601 and month-name text are
        read; numeric day/month text only when the column settles the order (see module notes).
    dayfirst
        Numeric day/month/year text is day first (``%d/%m/%Y`` with the column's separator).
    rows
        ``rows(mask) -> identifiers`` of the rows where ``mask`` is true, for error messages
        (default: row positions).

    Returns
    -------
    pandas.Series
        ``datetime64[ns]`` values, timezone removed, with the index of ``values``; missing
        values stay ``NaT``.

    Raises
    ------
    InputError
        Naming the column and the rows, when values do not fit the format, when day-first and
        month-first readings are both possible and no format was given, when the column holds
        numbers and ``date_format`` is not ``"excel"``, or when serial numbers are out of range.
    """
    if rows is None:

        def rows(mask: np.ndarray) -> Any:
            from evalkit.errors import Rows

            return Rows(np.flatnonzero(mask), np.flatnonzero(mask), label=None)

    c = _Column(column, table, date_format, dayfirst, rows)
    s = values
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        return s.astype("datetime64[ns]")
    present = s.notna().to_numpy()
    if pd.api.types.is_bool_dtype(s):
        raise c.fail("holds true/false values, not dates", present)
    if pd.api.types.is_numeric_dtype(s):
        return _from_numbers(s, c)
    if not (pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s)):
        raise InputError(column, f"must be dates, not {s.dtype}", table=table)

    # Python objects (Excel cells, hand-made frames) may mix datetimes, numbers and text
    if pd.api.types.is_object_dtype(s) and len(s):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in ("datetime", "datetime64", "date"):
            return _to_ns(pd.to_datetime(s, errors="raise"))
        if kind in ("integer", "floating", "mixed-integer-float"):
            return _from_numbers(pd.to_numeric(s), c)
        if kind not in ("string", "empty"):
            return _mixed_objects(s, present, c)

    # Dates repeat (a few thousand distinct days in a million rows): read each distinct text
    # once and spread the result back, so that every check below costs little at scale.
    codes, uniques = pd.factorize(s)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype="str").str.strip()
    counts = np.bincount(codes[codes >= 0], minlength=len(text))

    def rows_u(mask_u: np.ndarray) -> Any:
        return rows(np.concatenate([mask_u, [False]])[codes])  # code -1 (missing) → False

    parsed = _parse_text(text, counts, replace(c, rows=rows_u))
    out = np.concatenate([parsed.to_numpy(dtype="datetime64[ns]"), [np.datetime64("NaT")]])
    return pd.Series(out[codes], index=s.index, dtype="datetime64[ns]")


def _parse_text(text: pd.Series, counts: np.ndarray, c: _Column) -> pd.Series:
    """Distinct date texts (none missing), each occurring ``counts`` times: one format for all."""
    present = np.ones(len(text), dtype=bool)
    if c.date_format == EXCEL:
        digits = text.str.fullmatch(r"\d+(\.\d+)?").to_numpy(dtype=bool)
        if not digits.all():
            raise c.fail(
                "must hold Excel serial day numbers (date_format='excel'), but holds text", ~digits
            )
        return _from_numbers(pd.to_numeric(text), c)
    if c.date_format is not None:
        return _with_format(text, present, c.date_format, c)
    if len(text) == 0:
        return pd.Series([], dtype="datetime64[ns]")
    iso = text.str.fullmatch(_ISO.pattern).to_numpy(dtype=bool)
    if iso.all():
        return _with_format(text, present, "ISO8601", c)
    ymd = text.str.fullmatch(_YMD_SLASH.pattern).to_numpy(dtype=bool)
    if ymd.all():
        return _with_format(_strip_time(text), present, "%Y/%m/%d", c)
    parts = text.str.extract(_DMY)
    dmy = parts[0].notna().to_numpy()
    if dmy.all() or (c.dayfirst and dmy.any()):
        return _day_month(text, parts, present, c)
    for fmt in _WORD_MONTH_FORMATS:
        parsed = pd.to_datetime(_strip_time(text), format=fmt, errors="coerce")
        if parsed.notna().all():
            return _to_ns(parsed)
    # not one format: name the rows that differ from the most common kind of value
    kinds = {"ISO dates (2024-03-02)": iso, "day/month/year dates": dmy}
    main_kind, main = max(kinds.items(), key=lambda kv: int(counts[kv[1]].sum()))
    if main.any():
        odd = ~main
        raise c.fail(
            f"must be dates in one format: most values are {main_kind}, these rows are "
            "not (a column is read with one format)" + shown("values", text[odd].head(2)),
            odd,
        )
    raise c.fail(
        "must be dates (e.g. 2024-03-02); these values are in no format evalkit reads "
        "without being told: "
        + _HOW.replace("'%d/%m/%Y' (day first", "matching them (e.g. '%d/%m/%Y', day first")
        + shown("values", text.head(2)),
        present,
    )


def _mixed_objects(s: pd.Series, present: np.ndarray, c: _Column) -> pd.Series:
    """A column of Python objects mixing dates with text or numbers (an Excel column, say).

    Date cells are kept; the others are read as the text or numbers they are, so a column of
    date cells with a few text cells is an error naming those rows (unless the text is in a
    format that may be read), never a silent mixture.
    """
    import datetime as dt

    is_date = (
        s.map(lambda v: isinstance(v, dt.date | np.datetime64), na_action="ignore")
        .astype("boolean")
        .fillna(False)
        .to_numpy(dtype=bool)
    )
    if not is_date.any():
        rest = s.astype("str").where(present)
        return parse_dates(
            rest,
            column=c.column,
            table=c.table,
            date_format=c.date_format,
            dayfirst=c.dayfirst,
            rows=c.rows,
        )
    others = present & ~is_date
    raise c.fail(
        "must be dates: most values are dates, these rows hold text or numbers"
        + shown("values", s[others].head(2)),
        others,
    )


def _to_ns(parsed: pd.Series) -> pd.Series:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _strip_time(text: pd.Series) -> pd.Series:
    """Drop a trailing time of day (``00:00``, ``00:00:00``): evalkit counts whole days."""
    return text.str.replace(_TRAILING_TIME.pattern, "", regex=True)


def _with_format(text: pd.Series, present: np.ndarray, fmt: str, c: _Column) -> pd.Series:
    has_time = any(code in fmt for code in ("%H", "%I", "%M", "%S", "%p", "%X", "%c"))
    source = text if has_time or fmt == "ISO8601" else _strip_time(text)
    try:
        parsed = pd.to_datetime(source, format=fmt, errors="coerce")
    except ValueError as exc:  # an invalid format string
        raise InputError(c.column, f"date_format {fmt!r} is not a valid format: {exc}") from None
    bad = present & parsed.isna().to_numpy()
    if bad.any():
        raise c.fail(
            f"must be dates in the format {fmt!r}" + shown("values", text[bad].head(2)), bad
        )
    return _to_ns(parsed)


def _day_month(text: pd.Series, parts: pd.DataFrame, present: np.ndarray, c: _Column) -> pd.Series:
    """Numeric ``dd/mm/yyyy`` or ``mm/dd/yyyy`` text: read day first when told, or when settled."""
    sep = parts[1].dropna()
    seps = pd.unique(sep.to_numpy())
    if len(seps) > 1:
        first = present & (parts[1] == seps[1]).fillna(False).to_numpy(dtype=bool)
        raise c.fail(
            "mixes date separators ('/', '-', '.'); a column is read with one format", first
        )
    year_digits = parts[3].dropna().str.len()
    if (year_digits == 2).any() and not c.dayfirst:
        two = present & (parts[3].str.len() == 2).fillna(False).to_numpy(dtype=bool)
        raise c.fail("has two-digit years; give the format, e.g. date_format='%d/%m/%y'", two)
    year = "%Y" if (year_digits == 4).all() else "%y"
    a = pd.to_numeric(parts[0]).to_numpy(dtype=float)
    b = pd.to_numeric(parts[2]).to_numpy(dtype=float)
    s0 = str(seps[0]) if len(seps) else "/"
    day_first = f"%d{s0}%m{s0}{year}"
    if c.dayfirst:
        return _with_format(text, present, day_first, c)
    a_big = np.nan_to_num(a) > 12
    b_big = np.nan_to_num(b) > 12
    if a_big.any() and b_big.any():
        raise c.fail(
            "mixes day-first and month-first dates (some values have a day above 12 in the "
            "first place, others in the second); a column is read with one format",
            present & b_big,
        )
    if a_big.any():
        return _with_format(text, present, day_first, c)
    if b_big.any():
        return _with_format(text, present, f"%m{s0}%d{s0}{year}", c)
    examples = text[present].drop_duplicates().head(2)
    raise InputError(
        c.column,
        "holds dates that could be read day first (UK) or month first (US), "
        f"e.g.{shown('values', examples)}; evalkit will not guess: {_HOW}",
        table=c.table,
    )


def _from_numbers(s: pd.Series, c: _Column) -> pd.Series:
    """Excel serial day numbers when asked for (``date_format='excel'``); otherwise refused."""
    v = s.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(v)
    if c.date_format != EXCEL:
        plausible = present & (v >= _EXCEL_MIN) & (v <= 80_000)
        hint = (
            "; they look like Excel serial day numbers (days since 30 December 1899: 44699 is "
            "18 May 2022): if they are, pass date_format='excel' (--date-format excel on the "
            "command line), or format the column as dates in Excel before saving"
            if plausible[present].all() and present.any()
            else ""
        )
        raise c.fail(
            "holds numbers, not dates" + hint + shown("values", s[present].head(2)), present
        )
    bad = present & ((v < _EXCEL_MIN) | (v > _EXCEL_MAX) | ~np.isfinite(v))
    if bad.any():
        raise c.fail(
            f"Excel serial day numbers must be between {_EXCEL_MIN} (1 March 1900) and "
            f"{_EXCEL_MAX} (31 December 9999)",
            bad,
        )
    days = np.floor(np.where(present, v, 0)).astype(np.int64)
    out = (_EXCEL_EPOCH + days).astype("datetime64[ns]")
    out[~present] = np.datetime64("NaT")
    return pd.Series(out, index=s.index)
