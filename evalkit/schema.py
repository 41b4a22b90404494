"""Input validation shared by every public entry point.

Each check raises :class:`evalkit.errors.InputError` naming the table, the column, the rule and
up to five offending row identifiers. Row identifiers are the DataFrame index labels unless an
identifier column (``id_col``) is given, in which case its values are shown: a user with
``person_id`` in their data wants to see person ids, not positions.

Nothing here coerces invalid values to NA or drops rows: invalid input is an error. Numbers
too large or too small to compute with (:data:`MAX_MAGNITUDE`, :data:`MIN_SCALE`) are refused
with the rescaling that would bring them into range, and :func:`small_groups` finds the groups
too small for large-sample tests (:data:`MIN_GROUP_PEOPLE`, :data:`MIN_GROUP_EVENTS`), which
callers report with a :class:`~evalkit.errors.SmallCountWarning`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DesignError, InputError, Rows, _plain

__all__ = [
    "MAX_MAGNITUDE",
    "MIN_GROUP_EVENTS",
    "MIN_GROUP_PEOPLE",
    "MIN_SCALE",
    "MIXED_TEXT_NUMBERS",
    "SMALL_RULE",
    "check_covariates",
    "check_dates",
    "check_event",
    "check_frame",
    "check_groups",
    "check_has_events",
    "check_magnitude",
    "check_no_missing",
    "check_numeric",
    "check_positive",
    "check_time",
    "check_unique",
    "group_codes",
    "require_columns",
    "row_ids",
    "small_groups",
    "validate_survival",
]


#: The largest size (absolute value) of a number accepted in any numeric column. Beyond it
#: float64 no longer holds whole numbers exactly (2**53 ≈ 9.0e15), sums of squares of a few
#: thousand values overflow near 1e154, and no count, time or measurement of the people a
#: scheme serves comes close: such a value is a unit or coding mistake (an identifier, a date
#: in nanoseconds), refused with a request to rescale rather than left to overflow.
MAX_MAGNITUDE = 1e15

#: Where a column's scale matters (weights, exposures, covariates, a regression's outcome or
#: time), its largest absolute value must be at least this: squares of smaller numbers
#: underflow towards 0 in float64 and the fits lose their precision. A column of zeros is
#: left to the constant-column checks.
MIN_SCALE = 1e-10


#: A text covariate with at least this many distinct numbers, making up most of its distinct
#: values, is a number column with stray text (:func:`check_covariates`), not a factor.
MIXED_TEXT_NUMBERS = 10

#: A group (a log-rank arm, a level of a Cox model's categorical or 0/1 covariate) with fewer
#: people or fewer events than these gets a SmallCountWarning: the large-sample (chi-squared
#: and Wald) approximations behind the p-values and intervals are then unreliable. Five events
#: is Cochran's (1954) and Mantel & Fleiss's (1980) minimum expected count for the
#: chi-squared approximation of (Mantel–Haenszel) tests such as the log-rank; ten people is
#: twice that, so that both events and non-events can reach it.
MIN_GROUP_EVENTS = 5
MIN_GROUP_PEOPLE = 10


def row_ids(df: pd.DataFrame, mask: Any, id_col: str | None = None) -> Rows:
    """Identifiers of the rows where ``mask`` is true: values of ``id_col`` or index labels.

    The result also carries the rows' positions (0-based), which are all that logs keep.
    """
    mask = np.asarray(mask, dtype=bool)
    positions = np.flatnonzero(mask)
    if id_col is not None and id_col in df.columns:
        return Rows(df[id_col].to_numpy()[mask], positions, label=id_col)
    labels = list(df.index[mask])
    plain = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
    return Rows(labels, positions, label=None if plain else "index")


def check_frame(df: Any, *, table: str = "data") -> pd.DataFrame:
    """Check that ``df`` is a non-empty pandas DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(None, f"must be a pandas DataFrame, not {type(df).__name__}", table=table)
    if len(df) == 0:
        raise InputError(None, "has no rows", table=table)
    return df


def require_columns(
    df: pd.DataFrame, columns: Iterable[str | None], *, table: str = "data"
) -> None:
    """Raise if any of ``columns`` (``None`` entries are skipped) is missing from ``df``."""
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:20]))
        raise InputError(
            missing[0],
            f"is missing (missing: {', '.join(map(str, missing))}; columns present: {have})",
            table=table,
        )


def check_no_missing(
    df: pd.DataFrame, column: str, *, table: str = "data", id_col: str | None = None
) -> None:
    """Raise if ``column`` has missing values (NaN, None, NaT, pd.NA)."""
    bad = df[column].isna().to_numpy()
    if bad.any():
        raise InputError(column, "has missing values", row_ids(df, bad, id_col), table=table)


def check_numeric(
    df: pd.DataFrame, column: str, *, table: str = "data", id_col: str | None = None
) -> np.ndarray:
    """Require a numeric (or boolean) column without missing values; return it as float64.

    Values must be finite and at most :data:`MAX_MAGNITUDE` (1e15) in absolute value
    (:func:`check_magnitude`); larger ones are refused with the rescaling that would fix them.
    """
    s = df[column]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        coerced = pd.to_numeric(s, errors="coerce")
        bad = coerced.isna().to_numpy() & s.notna().to_numpy()
        raise InputError(
            column,
            f"must be numeric, but has dtype {s.dtype}",
            row_ids(df, bad, id_col) if bad.any() else None,
            table=table,
        )
    check_no_missing(df, column, table=table, id_col=id_col)
    values = s.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(column, "must be finite", row_ids(df, bad, id_col), table=table)
    check_magnitude(df, column, values, table=table, id_col=id_col)
    return values


def _power_of_ten(x: float) -> str:
    """``1e+297``-style text of the power of ten nearest below ``x`` (``1,000`` when small)."""
    k = int(np.floor(np.log10(x)))
    return f"{10**k:,}" if 0 <= k <= 6 else f"1e{k:+d}"


def check_magnitude(
    df: pd.DataFrame,
    column: str,
    values: np.ndarray,
    *,
    largest: float = MAX_MAGNITUDE,
    smallest: float | None = None,
    table: str = "data",
    id_col: str | None = None,
) -> None:
    """Refuse numbers too large (or, with ``smallest``, too small) to compute with safely.

    ``values`` are the finite float64 values of ``column``. Rows whose absolute value exceeds
    ``largest`` are an :class:`InputError` naming them; with ``smallest``, so is a column whose
    non-zero values are all smaller than it in absolute value (a column of zeros is left to
    the rank and constant-column checks). The message says how far to rescale, e.g.
    ``column 'x': has values up to 1e+300 in absolute value; rescale it (e.g. divide it by
    1e+298) so that its values are at most 1e+15``.
    """
    if not len(values):
        return
    top = max(float(values.max()), -float(values.min()))  # max |value|, without a temporary
    if top > largest:
        by = _power_of_ten(top / 1e2) if top > 1e3 else "10"
        raise InputError(
            column,
            f"has values up to {top:.3g} in absolute value; rescale it (e.g. divide it by "
            f"{by}) so that its values are at most {largest:.0e}: numbers this large lose "
            "precision or overflow in the calculations (and usually mean a unit or coding "
            "mistake)",
            row_ids(df, np.abs(values) > largest, id_col),
            table=table,
        )
    if smallest is not None and 0.0 < top < smallest:
        by = _power_of_ten(1.0 / top)
        raise InputError(
            column,
            f"has no value larger than {top:.3g} in absolute value; rescale it (e.g. multiply "
            f"it by {by}) so that its values are at least {smallest:.0e} in size: numbers this "
            "small lose precision in the model fits",
            table=table,
        )


def check_time(
    df: pd.DataFrame,
    column: str,
    *,
    table: str = "data",
    id_col: str | None = None,
    allow_zero: bool = True,
) -> np.ndarray:
    """Survival time: numeric, finite, no missing values, non-negative (or positive)."""
    values = check_numeric(df, column, table=table, id_col=id_col)
    bad = values <= 0 if not allow_zero else values < 0
    if bad.any():
        rule = "must be positive" if not allow_zero else "must not be negative"
        raise InputError(column, rule, row_ids(df, bad, id_col), table=table)
    return values


def check_event(
    df: pd.DataFrame,
    column: str,
    *,
    table: str = "data",
    id_col: str | None = None,
    causes: bool = False,
) -> np.ndarray:
    """Event indicator: 0/1 (or booleans); with ``causes=True``, 0 = censored and 1, 2, … causes."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s):
        check_no_missing(df, column, table=table, id_col=id_col)
        return s.to_numpy(dtype=np.int64)
    values = check_numeric(df, column, table=table, id_col=id_col)
    if causes:
        bad = (values < 0) | (values != np.round(values))
        rule = "must be 0 (censored) or a positive whole-number cause code 1, 2, …"
    else:
        bad = (values != 0) & (values != 1)
        rule = "must be 0 (censored) or 1 (event)"
    if bad.any():
        raise InputError(column, rule, row_ids(df, bad, id_col), table=table)
    return values.astype(np.int64)


def check_positive(
    df: pd.DataFrame, column: str, *, table: str = "data", id_col: str | None = None
) -> np.ndarray:
    """Weights and similar: numeric, finite, strictly positive, and not all below
    :data:`MIN_SCALE` (rescale such weights: only their ratios matter)."""
    values = check_numeric(df, column, table=table, id_col=id_col)
    bad = values <= 0
    if bad.any():
        raise InputError(column, "must be positive", row_ids(df, bad, id_col), table=table)
    check_magnitude(df, column, values, smallest=MIN_SCALE, table=table, id_col=id_col)
    return values


def check_dates(
    df: pd.DataFrame,
    column: str,
    *,
    table: str = "data",
    id_col: str | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
) -> pd.Series:
    """Read ``column`` as dates with one format; raise naming the rows that are missing or wrong.

    Datetime columns are taken as they are; text must be ISO 8601 (``2023-04-01``), have the
    month as a word, or be numeric day/month text whose order is given (``date_format``,
    ``dayfirst``) or settled by the column itself — see :func:`evalkit._dates.parse_dates`.
    Ambiguous day/month text and numbers (Excel serial days, unless
    ``date_format="excel"``) are errors, never guesses. Times of day are kept (the cohort code
    works in whole days).
    """
    from evalkit._dates import parse_dates

    parsed = parse_dates(
        df[column],
        column=column,
        table=table,
        date_format=date_format,
        dayfirst=dayfirst,
        rows=lambda mask: row_ids(df, mask, id_col),
    )
    missing = parsed.isna().to_numpy()
    if missing.any():
        raise InputError(column, "has missing dates", row_ids(df, missing, id_col), table=table)
    return parsed


def check_unique(df: pd.DataFrame, column: str, *, table: str = "data") -> None:
    """Raise if ``column`` has duplicated values (each duplicated value is listed once)."""
    dup = df[column].duplicated(keep=False).to_numpy()
    if dup.any():
        # each duplicated value once, with the position of its second occurrence (no sort:
        # identifiers of mixed types, or missing ones, need not be comparable)
        repeat = df[column].duplicated(keep="first").to_numpy()
        again = df[column][repeat]
        once = ~again.duplicated(keep="first").to_numpy()
        raise InputError(
            column,
            "must be unique (one row per person)",
            Rows(again.to_numpy()[once], np.flatnonzero(repeat)[once], label=column),
            table=table,
        )


def check_groups(
    df: pd.DataFrame,
    by: str,
    *,
    table: str = "data",
    min_groups: int = 1,
    id_col: str | None = None,
) -> list[Any]:
    """Groups of ``by``: no missing labels, no empty group, at least ``min_groups`` of them.

    Every category of a categorical column is expected to have rows: a category with none is an
    error rather than a silently missing row of output. Returns the groups in sorted order
    (categorical order for categoricals; labels of types that do not sort together are sorted
    by their text).
    """
    check_no_missing(df, by, table=table, id_col=id_col)
    s = df[by]
    present = pd.unique(s.to_numpy())
    if isinstance(s.dtype, pd.CategoricalDtype):
        seen = set(present)
        empty = [_plain(g) for g in s.cat.categories if g not in seen]
        if empty:
            raise InputError(
                by, f"group {empty[0]!r} has no rows (empty groups: {empty})", table=table
            )
        ordered = list(s.cat.categories)
    else:
        try:
            ordered = sorted(present)
        except TypeError:  # labels of types that do not sort together
            ordered = sorted(present, key=str)
    if len(ordered) < min_groups:
        labels = [_plain(g) for g in ordered]
        raise DesignError(
            f"column '{by}' in {table} has {len(ordered)} group ({labels!r}); "
            f"this method compares groups and needs at least {min_groups}"
        )
    return ordered


def check_has_events(
    event: np.ndarray,
    *,
    column: str,
    table: str = "data",
    labels: np.ndarray | None = None,
    by: str | None = None,
) -> None:
    """Raise if there are no events at all, or (with ``labels``) a group has none."""
    if labels is None:
        if not np.any(event > 0):
            raise InputError(
                column,
                "has no events (all rows censored); the method needs at least one",
                table=table,
            )
        return
    codes, uniques = pd.factorize(labels, sort=True)
    counts = np.bincount(codes, weights=(event > 0).astype(float), minlength=len(uniques))
    none = [_plain(uniques[i]) for i in np.flatnonzero(counts == 0)]
    if none:
        raise InputError(
            column,
            f"has no events in group(s) {none!r} of '{by}'; "
            "the method needs at least one per group",
            table=table,
        )


def validate_survival(
    df: Any,
    *,
    time: str,
    event: str,
    weights: str | None = None,
    id_col: str | None = None,
    table: str = "data",
    causes: bool = False,
) -> dict[str, np.ndarray]:
    """Validate the survival columns of a data set and return them as numpy arrays.

    Returns a dict with ``time`` (float64) and ``event`` (int64: 0/1, or with ``causes`` 0 for
    censored and 1, 2, … for the cause) and, with ``weights``, ``weights`` (positive float64).
    Groups, strata, covariates and clusters are each checked where they are coded
    (:func:`group_codes`, :func:`evalkit._design.design_matrix`).
    """
    df = check_frame(df, table=table)
    require_columns(df, [time, event, weights], table=table)
    out = {
        "time": check_time(df, time, table=table, id_col=id_col),
        "event": check_event(df, event, table=table, id_col=id_col, causes=causes),
    }
    if weights is not None:
        out["weights"] = check_positive(df, weights, table=table, id_col=id_col)
    return out


def group_codes(
    df: pd.DataFrame,
    by: str,
    *,
    table: str = "data",
    min_groups: int = 1,
    id_col: str | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """:func:`check_groups` plus each row's group as an integer code, without a Python loop.

    The same rules and errors as :func:`check_groups` (no missing labels, no categorical level
    without rows, at least ``min_groups`` groups). Returns ``(codes, groups)`` where ``groups``
    is ordered as :func:`check_groups` orders it and ``codes[i]`` indexes row i's group in it.
    The column is factorised as it is (no conversion to Python objects), so this stays fast on
    a million rows of Arrow-backed strings.
    """
    check_no_missing(df, by, table=table, id_col=id_col)
    s = df[by]
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:  # labels of types that do not sort together
        codes, uniques = pd.factorize(s, sort=False)
    distinct = pd.DataFrame({by: uniques})  # one row per label (keeps a categorical's levels)
    groups = check_groups(distinct, by, table=table, min_groups=min_groups)
    position = pd.Index(list(groups), dtype=object).get_indexer(
        pd.Index(list(uniques), dtype=object)
    )
    return np.asarray(position, dtype=np.intp)[codes], groups


def check_covariates(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    table: str = "data",
    id_col: str | None = None,
) -> None:
    """Refuse covariates that hold numbers stored as text (they would become dummy factors).

    A covariate is categorical when its dtype is a pandas ``Categorical`` (always: that is how
    a user declares it categorical) or a string/object dtype whose values are not all numbers.
    A string/object column whose non-missing values all parse as numbers once surrounding
    spaces are stripped (``"34"``, ``" 27"``, ``"1.5"``) is an :class:`InputError`: an age read
    from a file as text would otherwise be dummy-coded into one term per distinct age. So is
    one where most distinct values (more than half, and at least
    :data:`MIXED_TEXT_NUMBERS`) are numbers and the rest are not (``"34"``, ``"27"``, …,
    ``"unknown"``): a number column with a stray word or code, which would otherwise become
    one term per distinct number; the error names the rows holding the text. A few numeric
    codes beside words (``"1"``, ``"2"``, ``"unknown"``) stay a factor. Empty strings count as
    missing here. Numeric, boolean and date columns are not looked at.

    The test runs on the distinct values only, so it stays fast on a million rows.
    """
    for column in columns:
        s = df[column]
        if isinstance(s.dtype, pd.CategoricalDtype):
            continue
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        distinct = pd.Series(pd.unique(s.dropna().to_numpy()), dtype=object)
        text = distinct.astype(str).str.strip()
        text = text[text != ""]
        numeric = pd.to_numeric(text, errors="coerce").notna()
        if len(text) and numeric.all():
            raise InputError(
                column,
                "holds numbers stored as text; convert it (e.g. pd.to_numeric) or declare it "
                "categorical (astype('category'))",
                table=table,
            )
        n_numbers = int(numeric.sum())
        if n_numbers >= MIXED_TEXT_NUMBERS and n_numbers > len(text) / 2:
            words = set(text[~numeric])
            stripped = s.astype(object).where(s.notna(), "").astype(str).str.strip()
            bad = stripped.isin(words).to_numpy()
            raise InputError(
                column,
                "holds numbers stored as text mixed with other text; correct or remove the "
                "text values and convert the column (e.g. pd.to_numeric), or declare it "
                "categorical (astype('category'))",
                row_ids(df, bad, id_col),
                table=table,
            )


def small_groups(
    codes: np.ndarray, event: np.ndarray, labels: Sequence[Any], *, what: str
) -> list[str]:
    """Descriptions of the groups with too few people or events (empty if there are none).

    ``codes[i]`` is row i's position in ``labels``; ``event`` is > 0 for an event. A group is
    small when it has fewer than :data:`MIN_GROUP_PEOPLE` rows or fewer than
    :data:`MIN_GROUP_EVENTS` events; each is described as ``"{what} 'a': 1 person, 1 event"``
    (``what`` such as ``"group"`` or ``"level of 'area'"``). Callers warn with
    :class:`~evalkit.errors.SmallCountWarning`, ending the message with :data:`SMALL_RULE`.
    """
    k = len(labels)
    people = np.bincount(codes, minlength=k)
    events = np.bincount(codes, weights=(np.asarray(event) > 0).astype(float), minlength=k)
    small = np.flatnonzero((people < MIN_GROUP_PEOPLE) | (events < MIN_GROUP_EVENTS))
    return [
        f"{what} {_plain(labels[i])!r}: {int(people[i])} "
        f"{'person' if people[i] == 1 else 'people'}, {int(events[i])} "
        f"event{'' if events[i] == 1 else 's'}"
        for i in small.tolist()
    ]


#: The end of every SmallCountWarning about :func:`small_groups`.
SMALL_RULE = (
    f"with fewer than {MIN_GROUP_PEOPLE} people or {MIN_GROUP_EVENTS} events in a group the "
    "large-sample (chi-squared, normal) approximation behind p-values and intervals is "
    "unreliable (Cochran 1954; Mantel & Fleiss 1980)"
)
