"""Person identifiers across the cohort's input tables: kinds, matching, and why ids fail to match.

The cohort joins offences, custody spells and deaths to people by ``person_id`` (the database
engine does the join). Ids read from different systems often fail to match for mundane reasons
(padding, letter case, a number format that dropped leading zeros); these helpers say the
likely cause in the warning without a Python loop — in pandas for DataFrames, with row
positions, and in SQL for tables in a database (:func:`unknown_id_cause_sql`), with person ids
only — identifiers appearing only inside the ``[label: …]`` segments that logs redact.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataWarning, InputError
from evalkit.schema import row_ids


def _id_kind(s: pd.Series) -> str | None:
    """``"number"`` or ``"text"`` for identifier columns; ``None`` if neither is clear."""
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    if kind == "string":
        return "text"
    return None


def _check_same_id_kind(people: pd.DataFrame, other: pd.DataFrame, table: str) -> None:
    """Identifiers stored as numbers in one table and text in another would never match."""
    if len(other) == 0:
        return
    a, b = _id_kind(people["person_id"]), _id_kind(other["person_id"])
    if a is not None and b is not None and a != b:
        raise InputError(
            "person_id",
            f"holds {b} but person_id in people holds {a}; identifiers would never match "
            "(convert one of them, e.g. .astype(str))",
            table=table,
        )


def _unknown_people(
    ids: pd.Series, other: pd.DataFrame, unknown: np.ndarray, table: str, *, stacklevel: int = 3
) -> None:
    """Warn about rows of ``other`` whose ``person_id`` is not in the people table.

    The rows stay excluded (and counted in the flow): ids are compared exactly, never
    normalised. The warning counts them, shows up to five with their positions and names a
    likely cause (:func:`_unknown_id_cause`). An offences table of which not one row matches a
    person is an :class:`InputError`: the cohort would show no reoffending at all.
    """
    n_unknown = int(np.count_nonzero(unknown))
    if n_unknown == 0:
        return
    cause = _unknown_id_cause(ids, other["person_id"][unknown])
    error = unknown_people_error(
        table, n_unknown, len(other), cause, row_ids(other, unknown, "person_id")
    )
    if table == "offences" and n_unknown == len(other):
        raise error
    warnings.warn(str(error), DataWarning, stacklevel=stacklevel)


def unknown_people_error(
    table: str, n_unknown: int, n_rows: int, cause: str, rows: Any
) -> InputError:
    """The message about rows whose ``person_id`` is not in the people table.

    An error when it is every row of the offences table, else the text of a warning.
    """
    if table == "offences" and n_unknown == n_rows:
        return InputError(
            "person_id",
            "no offence matches any person in the people table "
            f"(none of the {n_unknown} rows has a person_id found there; ids are compared "
            f"exactly) (likely cause: {cause})",
            rows,
            table=table,
        )
    what = {"offences": "offence", "custody": "custody spell", "deaths": "death"}[table]
    verb = "has" if n_unknown == 1 else "have"
    rule = (
        f"{n_unknown} of {n_rows} {what} rows {verb} a person_id that is not in the people "
        "table and are not counted (cohort.flow step 'unknown_person'; ids are compared "
        f"exactly); likely cause: {cause}"
    )
    return InputError("person_id", rule, rows, table=table)


def _unknown_id_cause(ids: pd.Series, unknown: pd.Series) -> str:
    """Why ids in ``unknown`` (none of them in ``ids``) may fail to match, in words.

    Vectorised on the distinct unknown ids: an id whose text with surrounding spaces removed
    matches a person's (whitespace); whose case-folded text matches (letter case); or which is
    the same number as a person's id ('007' and '7', '7.0' and '7', 7 and '7': number format).
    """
    codes, uniques = pd.factorize(unknown)
    u_text = pd.Series(uniques, dtype=object).astype(str)
    p_text = pd.Series(ids.to_numpy(), dtype=object).astype(str)
    u_strip, p_strip = u_text.str.strip(), p_text.str.strip()
    loose = _isin(u_strip.str.casefold(), p_strip.str.casefold())
    number = np.zeros(len(uniques), dtype=bool)
    space = case = number
    if loose.any():  # which difference: type (7 and '7'), spaces, or letter case
        number = loose & _isin(u_text, p_text)
        space = loose & ~number & _isin(u_strip, p_strip)
        case = loose & ~number & ~space
    if not loose.all():
        u_num = pd.to_numeric(u_strip, errors="coerce")
        if u_num.notna().any():
            number = number | (~loose & _isin(u_num, pd.to_numeric(p_strip, errors="coerce")))
    return _cause_text(*(int(np.count_nonzero(flag[codes])) for flag in (space, case, number)))


def _cause_text(space: int, case: int, number: int) -> str:
    """The likely cause in words, from the number of rows each difference explains."""
    causes = []
    for n_rows, words in (
        (space, "surrounding spaces ({} a person once spaces are stripped)"),
        (case, "letter case ({} a person when upper and lower case are treated alike)"),
        (number, "number format ({} a person as numbers, e.g. '007' and '7', or '7.0' and '7')"),
    ):
        if n_rows:
            causes.append(words.format("1 row matches" if n_rows == 1 else f"{n_rows} rows match"))
    if not causes:
        return (
            "people missing from the people table (no difference of spaces, letter case or "
            "number format explains these ids)"
        )
    return ", and ".join(causes)


def unknown_id_cause_sql(con: Any, unknown: Any, people: Any) -> str:
    """:func:`_unknown_id_cause` for tables in a database, with SQL.

    ``unknown`` holds the rows whose ``person_id`` is not among ``people.pid``. Identifiers
    that are numbers in both tables cannot differ by format (the engine compares them as
    numbers), so only text is examined: an id matches a person once ``TRIM``-med (surrounding
    spaces), once also ``LOWER``-ed (letter case; SQL's lower case, where pandas' check uses
    Unicode case folding), or as a number (``'007'`` and ``'7'``; text that looks like a
    decimal number, compared as a number). One query counts the rows each explains.
    """
    import ibis
    import ibis.common.exceptions as com

    if not (unknown.person_id.type().is_string() and people.pid.type().is_string()):
        return _cause_text(0, 0, 0)

    def number(text: Any) -> Any:
        looks = text.re_search(r"^[+-]?[0-9]+(\.[0-9]*)?$")
        return ibis.cases((looks, text.cast("float64")), else_=ibis.null("float64"))

    u = unknown.select(st=unknown.person_id.strip())
    u = u.mutate(low=u.st.lower())
    p = people.select(p_st=people.pid.strip())
    p = p.mutate(p_low=p.p_st.lower())
    low = p.select("p_low").distinct()
    st = p.select("p_st").distinct()
    j = u.left_join(low, u.low == low.p_low).left_join(st, u.st == st.p_st)
    loose, strip = j.p_low.notnull(), j.p_st.notnull()
    aggs = {
        "space": ibis.ifelse(loose & strip, 1, 0).sum(),
        "case": ibis.ifelse(loose & ~strip, 1, 0).sum(),
    }
    counts = con.to_pyarrow(j.aggregate(**aggs))
    space, case = (int(counts.column(k)[0].as_py() or 0) for k in aggs)
    try:  # text as numbers needs a regular expression, which SQL Server lacks
        n = p.select(p_num=number(p.p_st)).filter(lambda t: t.p_num.notnull()).distinct()
        uu = u.mutate(num=number(u.st))
        jn = uu.left_join(low, uu.low == low.p_low).left_join(n, uu.num == n.p_num)
        found = con.to_pyarrow(
            jn.aggregate(k=ibis.ifelse(jn.p_low.isnull() & jn.p_num.notnull(), 1, 0).sum())
        )
        number_rows = int(found.column("k")[0].as_py() or 0)
    except (com.OperationNotDefinedError, com.UnsupportedOperationError):
        number_rows = 0
    return _cause_text(space, case, number_rows)


def _isin(values: pd.Series, other: pd.Series) -> np.ndarray:
    """Whether each of ``values`` is among ``other`` (missing values never are).

    One ``pandas.factorize`` of both: ``Series.isin`` on Arrow-backed
    text converts every value of ``other`` to a Python object: tens of seconds on a million.
    """
    codes, uniques = pd.factorize(pd.concat([other, values], ignore_index=True))
    seen = np.zeros(len(uniques) + 1, dtype=bool)  # the last slot takes code -1 (missing)
    seen[codes[: len(other)]] = True
    seen[-1] = False
    return seen[codes[len(other) :]]
