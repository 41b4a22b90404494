"""Person identifiers across the cohort's input tables: kinds, matching, and why ids fail to match.

The cohort joins offences, custody spells and deaths to people by ``person_id``. Ids read from
different systems often fail to match for mundane reasons (padding, letter case, a number
format that dropped leading zeros); these helpers find such rows without a Python loop, and
say the likely cause in the warning, with row positions (identifiers only inside the
``[label: …]`` segments that logs redact).
"""

from __future__ import annotations

import warnings

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


def _positions(ids: pd.Series, other: pd.Series) -> np.ndarray:
    """Row position in ``ids`` (unique) of each value of ``other``; −1 where it is absent.

    One ``pandas.factorize`` of both columns together: with Arrow-backed text identifiers
    this avoids converting millions of strings to Python objects.
    """
    if len(other) == 0:
        return np.empty(0, dtype=np.intp)
    codes, uniques = pd.factorize(pd.concat([ids, other], ignore_index=True))
    lookup = np.full(len(uniques), -1, dtype=np.intp)
    lookup[codes[: len(ids)]] = np.arange(len(ids))
    return lookup[codes[len(ids) :]]


def _unknown_people(ids: pd.Series, other: pd.DataFrame, unknown: np.ndarray, table: str) -> None:
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
    rows = row_ids(other, unknown, "person_id")
    if table == "offences" and n_unknown == len(other):
        raise InputError(
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
        f"{n_unknown} of {len(other)} {what} rows {verb} a person_id that is not in the people "
        "table and are not counted (cohort.flow step 'unknown_person'; ids are compared "
        f"exactly); likely cause: {cause}"
    )
    warnings.warn(str(InputError("person_id", rule, rows, table=table)), DataWarning, stacklevel=3)


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
    causes = []
    for flag, words in (
        (space, "surrounding spaces ({} a person once spaces are stripped)"),
        (case, "letter case ({} a person when upper and lower case are treated alike)"),
        (number, "number format ({} a person as numbers, e.g. '007' and '7', or '7.0' and '7')"),
    ):
        n_rows = int(np.count_nonzero(flag[codes]))
        if n_rows:
            causes.append(words.format("1 row matches" if n_rows == 1 else f"{n_rows} rows match"))
    if not causes:
        return (
            "people missing from the people table (no difference of spaces, letter case or "
            "number format explains these ids)"
        )
    return ", and ".join(causes)


def _isin(values: pd.Series, other: pd.Series) -> np.ndarray:
    """Whether each of ``values`` is among ``other`` (missing values never are).

    One ``pandas.factorize`` of both (as :func:`_positions`): ``Series.isin`` on Arrow-backed
    text converts every value of ``other`` to a Python object: tens of seconds on a million.
    """
    codes, uniques = pd.factorize(pd.concat([other, values], ignore_index=True))
    seen = np.zeros(len(uniques) + 1, dtype=bool)  # the last slot takes code -1 (missing)
    seen[codes[: len(other)]] = True
    seen[-1] = False
    return seen[codes[len(other) :]]
