"""pandas input of :func:`~evalkit.cohort.proven_reoffending`: validation and hand-over.

The checks that name rows by position run here, in pandas, in a fixed order (people, offences,
custody, deaths), and dates are read by evalkit's own rules (:mod:`evalkit._dates`: one format
per column, ambiguous day/month text refused), which no SQL engine reproduces. What goes to
the engine is then only what the rules need: identifiers, day numbers (days since
1970-01-01, floored) and whether each disposal proves its offence, as Arrow columns that
DuckDB reads without copying, plus each row's position so that the few rows an error or a
warning names can be found again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalkit._ids import _check_same_id_kind, _id_kind, _unknown_people
from evalkit.cohort import _engine
from evalkit.cohort.result import OUTCOME_COLUMNS
from evalkit.errors import InputError
from evalkit.io import REQUIRED_COLUMNS
from evalkit.schema import check_dates, check_no_missing, check_unique, require_columns, row_ids

__all__ = ["Checked", "check_frames", "engine_tables", "from_frames"]

# warnings about unmatched ids point at the caller of proven_reoffending: the stack is
# _unknown_people, _report_rows, from_frames, proven_reoffending, the caller
_STACKLEVEL = 5


def from_frames(
    tables: tuple[Any, Any, Any, Any],
    proven_codes: tuple[str, ...],
    other_codes: tuple[str, ...],
    options: dict[str, Any],
    backend: Any = None,
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The cohort of pandas tables: checked here, the rules run in DuckDB (or ``backend``).

    Returns the cohort's data, the flow's counts and each table's row count.
    """
    v = check_frames(*tables, proven_codes=proven_codes, other_codes=other_codes)
    arrow, unknown = engine_tables(v)
    if backend is None:
        with _engine.local_run(arrow, options) as run:
            counts = run.counts()
            _report_rows(run, v, counts, unknown)
            out = run.outcomes()
    else:
        import ibis

        mem = {k: None if t is None else ibis.memtable(t) for k, t in arrow.items()}
        with _engine.ibis_run(backend, mem, options) as irun:
            counts = irun.counts()
            _report_rows(irun, v, counts, unknown)
            out = irun.outcomes()
    n_input = {
        "people": len(v.people),
        "offences": len(v.offences),
        "custody": 0 if v.custody is None else len(v.custody),
        "deaths": 0 if v.deaths is None else len(v.deaths),
    }
    return _assemble(v, out), counts, n_input


def _report_rows(
    run: Any, v: Checked, counts: dict[str, int], unknown: dict[str, np.ndarray]
) -> None:
    """Warn about rows of unknown people, and refuse offences after death, naming the rows.

    In the order the rules meet them: offences of unknown people (an error when none is
    known), offences after death, then custody spells and deaths of unknown people.
    """
    ids = v.people["person_id"]

    def mask(name: str, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        out[run.rows(name)] = True
        return out

    def warn(name: str, df: pd.DataFrame | None) -> None:
        if df is not None and unknown[name].any():
            _unknown_people(ids, df, unknown[name], name, stacklevel=_STACKLEVEL)

    warn("offences", v.offences)
    if counts["off_after_death"]:
        raise InputError(
            "offence_date",
            "is after the person's date of death in the deaths table (check the linkage)",
            row_ids(v.offences, mask("after_death", len(v.offences)), "person_id"),
            table="offences",
        )
    warn("custody", v.custody)
    warn("deaths", v.deaths)


def _assemble(v: Checked, out: pa.Table) -> pd.DataFrame:
    """The people kept, in the people table's order, with their outcomes."""
    pid = out.column("pid").to_numpy()
    order = np.argsort(pid, kind="stable")
    kept = pid[order]
    people = v.people
    others = [c for c in people.columns if c not in ("person_id", "group")]
    data = people.iloc[kept][["person_id", "group", *others]].reset_index(drop=True)
    data["index_date"] = (
        pd.Series(v.index_day[kept].astype("datetime64[D]")).astype("datetime64[ns]").to_numpy()
    )
    event = out.column("event").to_numpy()[order]
    data["time"] = out.column("time").to_numpy()[order].astype(np.int64)
    data["event"] = event.astype(np.int64)
    data["reoffended"] = event.astype(bool)
    data["n_reoffences"] = out.column("n_reoffences").to_numpy()[order].astype(np.int64)
    data["days_in_custody"] = out.column("days_in_custody").to_numpy()[order].astype(np.int64)
    return data


@dataclass(frozen=True)
class Checked:
    """The validated pandas tables and their columns as day numbers."""

    people: pd.DataFrame
    offences: pd.DataFrame
    custody: pd.DataFrame | None
    deaths: pd.DataFrame | None
    index_day: np.ndarray
    off_day: np.ndarray
    disp_day: np.ndarray
    proven: np.ndarray
    custody_days: tuple[np.ndarray, np.ndarray] | None
    death_day: np.ndarray | None


def check_frames(
    people: Any,
    offences: Any,
    custody: Any,
    deaths: Any,
    *,
    proven_codes: tuple[str, ...],
    other_codes: tuple[str, ...],
) -> Checked:
    """Validate the four tables; raise the first :class:`InputError`, naming rows.

    The order of the checks is part of the behaviour (the first broken rule is the one
    reported): people (columns, identifiers, uniqueness, index dates, groups, names of the
    outcome columns), offences (dates, disposal before offence, disposal codes), custody,
    deaths.
    """
    _check_table(people, "people", allow_empty=False)
    check_unique(people, "person_id", table="people")
    index_day = _days(check_dates(people, "index_date", table="people", id_col="person_id"))
    check_no_missing(people, "group", table="people", id_col="person_id")
    clash = [c for c in OUTCOME_COLUMNS if c in people.columns]
    if clash:
        raise InputError(
            clash[0],
            f"is a name of an outcome column the cohort adds ({', '.join(OUTCOME_COLUMNS)}); "
            "rename it before building the cohort",
            table="people",
        )

    off_day, disp_day = _date_pair(offences, "offences", "offence_date", "disposal_date")
    check_no_missing(offences, "disposal", table="offences", id_col="person_id")
    disposal = offences["disposal"]
    known = disposal.isin(proven_codes + other_codes).to_numpy()
    if not known.all():
        unknown_codes = sorted(map(str, pd.unique(disposal.to_numpy()[~known])))
        raise InputError(
            "disposal",
            f"has unknown codes {unknown_codes}; proven codes are {list(proven_codes)} and "
            f"other recognised codes are {list(other_codes)} (pass proven_disposals / "
            "other_disposals to add codes)",
            row_ids(offences, ~known, "person_id"),
            table="offences",
        )
    _check_same_id_kind(people, offences, "offences")
    proven = disposal.isin(proven_codes).to_numpy(dtype=bool)

    custody_days = None
    if custody is not None:
        custody_days = _date_pair(custody, "custody", "start", "end")
        _check_same_id_kind(people, custody, "custody")
    death_day = None
    if deaths is not None:
        _check_table(deaths, "deaths", allow_empty=True)
        check_unique(deaths, "person_id", table="deaths")
        death_day = _days(check_dates(deaths, "date", table="deaths", id_col="person_id"))
        _check_same_id_kind(people, deaths, "deaths")
    return Checked(
        people,
        offences,
        custody,
        deaths,
        index_day,
        off_day,
        disp_day,
        proven,
        custody_days,
        death_day,
    )


def engine_tables(v: Checked) -> tuple[dict[str, pa.Table | None], dict[str, np.ndarray]]:
    """The normalised tables of :mod:`evalkit.cohort.rules`, as Arrow tables.

    Identifiers are matched here (:func:`_person_keys`): every row carries, as ``pid``, the
    row position of its person in ``people`` (−1 when the person is not there, so that it
    joins nothing). ``row`` is each row's own position (to find the rows an error names).
    Day numbers fit in 32 bits (pandas' dates span 1677–2262), and so do positions below
    2³¹: narrow columns make DuckDB's joins faster. Also returns, per table, which rows have
    no person.
    """
    frames = {"offences": v.offences, "custody": v.custody, "deaths": v.deaths}
    keys = _person_keys(
        v.people["person_id"], {k: None if f is None else f["person_id"] for k, f in frames.items()}
    )
    n = len(v.people)
    key = np.int32 if n < 2**31 else np.int64  # narrow keys hash faster

    def table(pid: np.ndarray, **columns: np.ndarray) -> pa.Table:
        days = {c: a.astype(np.int32) if a.dtype == np.int64 else a for c, a in columns.items()}
        return pa.table({"pid": pid.astype(key), "row": np.arange(len(pid)), **days})

    out: dict[str, pa.Table | None] = {
        "people": pa.table(
            {"pid": np.arange(n, dtype=key), "index_day": v.index_day.astype(np.int32)}
        ),
        "offences": table(
            keys["offences"], off_day=v.off_day, disp_day=v.disp_day, proven=v.proven
        ),
        "custody": None,
        "deaths": None,
    }
    if v.custody_days is not None:
        out["custody"] = table(
            keys["custody"], start_day=v.custody_days[0], end_day=v.custody_days[1]
        )
    if v.death_day is not None:
        out["deaths"] = table(keys["deaths"], death_day=v.death_day)
    unknown = {name: k < 0 for name, k in keys.items()}
    return out, unknown


def _person_keys(ids: pd.Series, others: dict[str, pd.Series | None]) -> dict[str, np.ndarray]:
    """Row position in ``ids`` (unique) of each identifier of the other tables; −1 if absent.

    Identifiers are compared exactly, with pandas' equality. Text held by Arrow (pandas'
    default for text) and whole numbers are looked up with one hash table of the people's ids
    (:func:`pyarrow.compute.index_in`, no Python objects); anything else (object columns,
    categoricals, numbers of different kinds) with one :func:`pandas.factorize` of every
    column together.
    """
    present = {k: s for k, s in others.items() if s is not None}
    out = {k: np.empty(0, dtype=np.int64) for k in others if others[k] is None}
    columns = [ids, *present.values()]
    bounds = np.cumsum([0, *(len(s) for s in present.values())])
    if all(_is_text(c) for c in columns) or all(c.dtype.kind == "i" for c in columns):
        value_set = _arrow(ids).combine_chunks()
        probe = pa.chunked_array(
            [c for s in present.values() for c in _arrow(s).chunks], type=value_set.type
        )
        found = pc.index_in(probe, value_set=value_set).fill_null(-1)
        keys = found.to_numpy().astype(np.int64, copy=False)
        for (k, _), a, b in zip(present.items(), bounds[:-1], bounds[1:], strict=True):
            out[k] = keys[a:b]
        return out
    codes, _ = pd.factorize(pd.concat(columns, ignore_index=True))
    lookup = np.full(codes.max(initial=-1) + 2, -1, dtype=np.int64)
    lookup[codes[: len(ids)]] = np.arange(len(ids))
    start = len(ids)
    for k, s in present.items():
        out[k] = lookup[codes[start : start + len(s)]]
        start += len(s)
    return out


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    """Identifiers as Arrow data, without a copy where pandas holds them in Arrow already
    (text as ``large_string``, whole numbers as ``int64``)."""
    if s.dtype.kind == "i":
        return pa.chunked_array([pa.array(s.to_numpy(), type=pa.int64())])
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arr = pa.chunked_array(s.array.__arrow_array__())
    else:
        arr = pa.chunked_array([pa.array(s.to_numpy(dtype=object), type=pa.large_string())])
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def _is_text(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return s.dtype == object and (len(s) == 0 or _id_kind(s) == "text")


def _days(dates: pd.Series) -> np.ndarray:
    """Dates (datetime64[ns]) as whole days since 1970-01-01 (floored), int64."""
    return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _date_pair(
    df: pd.DataFrame, table: str, first: str, second: str
) -> tuple[np.ndarray, np.ndarray]:
    """Two date columns of a table as day numbers, the second never before the first."""
    _check_table(df, table, allow_empty=True)
    a = _days(check_dates(df, first, table=table, id_col="person_id"))
    b = _days(check_dates(df, second, table=table, id_col="person_id"))
    backwards = b < a
    if backwards.any():
        raise InputError(
            second, f"is before the {first}", row_ids(df, backwards, "person_id"), table=table
        )
    return a, b


def _check_table(df: Any, table: str, *, allow_empty: bool) -> None:
    """A DataFrame with the table's required columns and no missing ``person_id``."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(None, f"must be a pandas DataFrame, not {type(df).__name__}", table=table)
    if not allow_empty and len(df) == 0:
        raise InputError(None, "has no rows", table=table)
    require_columns(df, REQUIRED_COLUMNS[table], table=table)
    check_no_missing(df, "person_id", table=table)
    ids = df["person_id"]
    if pd.api.types.is_object_dtype(ids) and len(ids) and _id_kind(ids) is None:
        is_text = ids.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        minority = is_text if is_text.sum() <= (~is_text).sum() else ~is_text
        raise InputError(
            "person_id",
            "mixes numbers and text; identifiers must all be text (or all numbers) to be "
            "compared, e.g. .astype(str)",
            row_ids(df, minority),
            table=table,
        )
