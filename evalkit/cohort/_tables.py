"""Ibis-table input of :func:`~evalkit.cohort.proven_reoffending`: checked where the data live.

Tables in a database (or parquet files, read with ``ibis.read_parquet``) are validated with
SQL aggregates — one query per table counts every broken rule, and only a broken rule costs a
second query, for up to five person ids to show — then normalised (dates to day numbers, the
disposal to "proves the offence") and handed to :mod:`evalkit.cohort.rules` on the same
backend. Nothing but counts, the ids an error or warning shows and the cohort (one row per
person kept) leaves the database.

A table in a database has no row order: errors and warnings name rows by ``person_id`` only
(inside the ``[person_id: …]`` segment that :func:`evalkit.errors.redact` removes from logs), and
the cohort comes back ordered by ``person_id``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from evalkit._ids import unknown_id_cause_sql, unknown_people_error
from evalkit.cohort import _engine
from evalkit.cohort.result import OUTCOME_COLUMNS
from evalkit.errors import InputError, Rows
from evalkit.io import REQUIRED_COLUMNS
from evalkit.schema import require_columns

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

__all__ = ["from_tables"]

_NAMES = ("people", "offences", "custody", "deaths")
_DATES = {
    "people": ("index_date",),
    "offences": ("offence_date", "disposal_date"),
    "custody": ("start", "end"),
    "deaths": ("date",),
}
_SHOWN = 5  # ids an error shows (InputError shows five)
_STACKLEVEL = 5  # warnings point at the caller of proven_reoffending


def from_tables(
    tables: tuple[Any, Any, Any, Any],
    backend: BaseBackend | None,
    proven_codes: tuple[str, ...],
    other_codes: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The cohort of Ibis tables (DataFrames among them are uploaded to their backend).

    Returns the cohort's data (ordered by ``person_id``), the flow's counts and each table's
    row count.
    """
    con, raw, own = _resolve(dict(zip(_NAMES, tables, strict=True)), backend)
    try:
        n_input = _check(con, raw, proven_codes, other_codes)
        norm = _normalise(raw, proven_codes)
        with _engine.ibis_run(con, norm, options) as run:
            counts = run.counts()
            _report(con, run, norm, counts, n_input)
            data = _assemble(con, raw["people"], norm["people"], run.outcomes(expr=True))
    finally:
        if own:
            con.disconnect()
    return data, counts, n_input


# --------------------------------------------------------------------------------------------
# The tables and their backend
# --------------------------------------------------------------------------------------------


def _resolve(
    given: dict[str, Any], backend: BaseBackend | None
) -> tuple[BaseBackend, dict[str, Any], bool]:
    """Ibis tables on one backend; whether the backend was opened here (to close it)."""
    import ibis
    import pyarrow as pa

    types = sys.modules["ibis.expr.types"]
    found = []
    for name, t in given.items():
        if isinstance(t, types.Table):
            found += [(name, b) for b in t._find_backends()[0]]  # none for an in-memory table
    if backend is None and found:
        backend = found[0][1]
    for name, b in found:
        if b is not backend:
            raise InputError(
                None,
                "is a table of another database than "
                + ("the other tables" if backend is found[0][1] else "backend")
                + "; the four tables must be in one database (upload the small ones with "
                "ibis.memtable, or pass DataFrames)",
                table=name,
            )
    own = backend is None
    con = _engine.duckdb_ibis() if backend is None else backend
    raw: dict[str, Any] = {}
    for name, t in given.items():
        if t is None or isinstance(t, types.Table):
            raw[name] = t
        elif isinstance(t, str):
            if own:
                raise InputError(
                    None,
                    f"is given by name ({t!r}): pass backend=, the connection it is in",
                    table=name,
                )
            raw[name] = con.table(t)
        elif isinstance(t, pd.DataFrame):
            raw[name] = ibis.memtable(pa.Table.from_pandas(t, preserve_index=False))
        else:
            raise InputError(
                None,
                f"must be a pandas DataFrame or an Ibis table, not {type(t).__name__}",
                table=name,
            )
    return con, raw, own


# --------------------------------------------------------------------------------------------
# Validation with SQL aggregates
# --------------------------------------------------------------------------------------------


def _check(
    con: BaseBackend,
    raw: dict[str, Any],
    proven_codes: tuple[str, ...],
    other_codes: tuple[str, ...],
) -> dict[str, int]:
    """Each table's rules, in the order the pandas front end checks them; its row count."""
    n_input = {}
    people_kind = None
    for name in _NAMES:
        t = raw[name]
        if t is None:
            n_input[name] = 0
            continue
        _check_schema(t, name)
        kind = _id_kind(t, name)
        stats = _stats(con, t, name, proven_codes + other_codes)
        n_input[name] = stats["n"]
        if name == "people" and stats["n"] == 0:
            raise InputError(None, "has no rows", table="people")
        if stats["null_id"]:
            raise InputError(
                "person_id", f"has missing values ({_rows(stats['null_id'])})", table=name
            )
        if name in ("people", "deaths") and stats["n_ids"] < stats["n"]:
            dup = t.group_by("person_id").aggregate(n=t.count()).filter(lambda d: d.n > 1)
            raise InputError(
                "person_id",
                "must be unique (one row per person)",
                _ids(con, dup, dup.count()),
                table=name,
            )
        for column in _DATES[name]:
            _no_missing(con, t, column, stats, name, what="dates")
        if name == "people":
            _no_missing(con, t, "group", stats, name)
            clash = [c for c in OUTCOME_COLUMNS if c in t.columns]
            if clash:
                raise InputError(
                    clash[0],
                    f"is a name of an outcome column the cohort adds "
                    f"({', '.join(OUTCOME_COLUMNS)}); rename it before building the cohort",
                    table="people",
                )
            people_kind = kind
        first, second = _DATES[name] if len(_DATES[name]) == 2 else (None, None)
        if first is not None and second is not None and stats["backwards"]:
            bad = t.filter(_day(t[second]) < _day(t[first]))
            raise InputError(
                second, f"is before the {first}", _ids(con, bad, stats["backwards"]), table=name
            )
        if name == "offences":
            _check_disposals(con, t, stats, proven_codes, other_codes)
        if name != "people" and stats["n"] and kind != people_kind:
            raise InputError(
                "person_id",
                f"holds {kind} but person_id in people holds {people_kind}; identifiers would "
                "never match (convert one of them, e.g. .cast('string'))",
                table=name,
            )
    return n_input


def _no_missing(
    con: BaseBackend,
    t: ir.Table,
    column: str,
    stats: dict[str, int],
    table: str,
    *,
    what: str = "values",
) -> None:
    """Refuse missing values in ``column``, naming up to five people."""
    if stats[f"null_{column}"]:
        rows = _ids(con, t.filter(t[column].isnull()), stats[f"null_{column}"])
        raise InputError(column, f"has missing {what}", rows, table=table)


def _check_schema(t: ir.Table, name: str) -> None:
    """The required columns are there, and the date columns hold dates."""
    require_columns(cast(Any, t), REQUIRED_COLUMNS[name], table=name)  # needs .columns only
    for column in _DATES[name]:
        dtype = t[column].type()
        if dtype.is_string():
            raise InputError(
                column,
                "holds text, not dates: in a database, dates must be DATE or TIMESTAMP "
                "columns (evalkit reads text dates only in DataFrames, where it can refuse "
                "ambiguous ones); convert the column where it lives, with the format the "
                "extract uses (e.g. t.mutate(d=t.d.as_date('%d/%m/%Y')) in Ibis)",
                table=name,
            )
        if not (dtype.is_date() or dtype.is_timestamp()):
            raise InputError(column, f"must hold dates; it holds {dtype}", table=name)


def _id_kind(t: ir.Table, name: str) -> str:
    dtype = t.person_id.type()
    if dtype.is_string():
        return "text"
    if dtype.is_numeric():
        return "number"
    raise InputError("person_id", f"must hold text or numbers; it holds {dtype}", table=name)


def _stats(con: BaseBackend, t: ir.Table, name: str, codes: tuple[str, ...]) -> dict[str, int]:
    """Every count the checks of one table need, in one query."""
    import ibis

    def n(condition: Any) -> Any:
        return ibis.ifelse(condition, 1, 0).sum()

    aggs = {"n": t.count(), "null_id": n(t.person_id.isnull())}
    if name in ("people", "deaths"):
        aggs["n_ids"] = t.person_id.nunique()
    for column in _DATES[name]:
        aggs[f"null_{column}"] = n(t[column].isnull())
    if name == "people":
        aggs["null_group"] = n(t.group.isnull())
    if len(_DATES[name]) == 2:
        first, second = _DATES[name]
        aggs["backwards"] = n(_day(t[second]) < _day(t[first]))
    if name == "offences":
        aggs["null_disposal"] = n(t.disposal.isnull())
        aggs["unknown_codes"] = n(t.disposal.notnull() & ~t.disposal.isin(list(codes)))
    row = _engine.fetch(con, t.aggregate(**aggs))
    return {k: int(row.column(k)[0].as_py() or 0) for k in aggs}


def _check_disposals(
    con: BaseBackend,
    t: ir.Table,
    stats: dict[str, int],
    proven_codes: tuple[str, ...],
    other_codes: tuple[str, ...],
) -> None:
    _no_missing(con, t, "disposal", stats, "offences")
    if stats["unknown_codes"]:
        bad = t.filter(t.disposal.notnull() & ~t.disposal.isin(list(proven_codes + other_codes)))
        found = _engine.fetch(con, bad.select("disposal").distinct().order_by("disposal"))
        unknown_codes = sorted(map(str, found.column("disposal").to_pylist()))
        raise InputError(
            "disposal",
            f"has unknown codes {unknown_codes}; proven codes are {list(proven_codes)} and "
            f"other recognised codes are {list(other_codes)} (pass proven_disposals / "
            "other_disposals to add codes)",
            _ids(con, bad, stats["unknown_codes"]),
            table="offences",
        )


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n} rows"


def _ids(con: BaseBackend, bad: ir.Table, n: int | Any) -> Rows:
    """Up to five ``person_id`` of the rows of ``bad`` (ordered), standing for ``n`` rows."""
    if not isinstance(n, int):
        n = int(_engine.fetch(con, n.name("n").as_table()).column("n")[0].as_py())
    shown = _engine.fetch(con, bad.select("person_id").order_by("person_id").limit(_SHOWN))
    values = shown.column("person_id").to_pylist()
    return Rows(values + [None] * (n - len(values)), None, label="person_id")


# --------------------------------------------------------------------------------------------
# Normalised tables, warnings, the cohort
# --------------------------------------------------------------------------------------------


def _day(value: ir.Value) -> ir.IntegerValue:
    """A date or timestamp column as whole days since 1970-01-01 (times of day dropped)."""
    if value.type().is_timestamp():
        value = value.date()
    return value.epoch_days().cast("int64")


def _normalise(raw: dict[str, Any], proven_codes: tuple[str, ...]) -> dict[str, Any]:
    """The tables :mod:`evalkit.cohort.rules` takes."""
    p, o = raw["people"], raw["offences"]
    out = {
        "people": p.select(pid=p.person_id, index_day=_day(p.index_date)),
        "offences": o.select(
            pid=o.person_id,
            off_day=_day(o.offence_date),
            disp_day=_day(o.disposal_date),
            proven=o.disposal.isin(list(proven_codes)),
        ),
        "custody": None,
        "deaths": None,
    }
    if (c := raw["custody"]) is not None:
        out["custody"] = c.select(pid=c.person_id, start_day=_day(c.start), end_day=_day(c.end))
    if (d := raw["deaths"]) is not None:
        out["deaths"] = d.select(pid=d.person_id, death_day=_day(d.date))
    return out


def _report(
    con: BaseBackend,
    run: _engine.IbisRun,
    norm: dict[str, Any],
    counts: dict[str, int],
    n_input: dict[str, int],
) -> None:
    """Warnings about rows of unknown people and the error for offences after death, in the
    order of the pandas front end, naming rows by ``person_id``."""
    import warnings

    from evalkit.errors import DataWarning

    matched = {"offences": "off_matched", "custody": "cus_matched", "deaths": "death_matched"}

    def unknown(name: str) -> None:
        n_unknown = n_input[name] - counts[matched[name]]
        if norm[name] is None or n_unknown <= 0:
            return
        rows = run.offending(f"unknown_{name}").rename(person_id="pid")
        cause = unknown_id_cause_sql(con, rows, norm["people"])
        error = unknown_people_error(
            name, n_unknown, n_input[name], cause, _ids(con, rows, n_unknown)
        )
        if name == "offences" and n_unknown == n_input[name]:
            raise error
        warnings.warn(str(error), DataWarning, stacklevel=_STACKLEVEL)

    unknown("offences")
    if counts["off_after_death"]:
        rows = run.offending("after_death").rename(person_id="pid")
        raise InputError(
            "offence_date",
            "is after the person's date of death in the deaths table (check the linkage)",
            _ids(con, rows, counts["off_after_death"]),
            table="offences",
        )
    unknown("custody")
    unknown("deaths")


def _assemble(
    con: BaseBackend, people: ir.Table, norm_people: ir.Table, outcomes: ir.Table
) -> pd.DataFrame:
    """The people kept, ordered by ``person_id``: their columns, then their outcomes."""
    o = outcomes.rename(o_pid="pid")
    j = people.join(o, people.person_id == o.o_pid)
    others = [c for c in people.columns if c not in ("person_id", "group")]
    j = j.select(
        "person_id",
        "group",
        *others,
        ek_index_day=_day(people.index_date),
        **{c: o[c] for c in ("time", "event", "n_reoffences", "days_in_custody")},
    ).order_by("person_id")
    data = _engine.fetch(con, j).to_pandas()
    day = data.pop("ek_index_day").to_numpy(dtype=np.int64)
    data["index_date"] = pd.Series(day.astype("datetime64[D]")).astype("datetime64[ns]")
    event = data.pop("event").to_numpy(dtype=np.int64)
    time = data.pop("time").to_numpy(dtype=np.int64)
    n = data.pop("n_reoffences").to_numpy(dtype=np.int64)
    days = data.pop("days_in_custody").to_numpy(dtype=np.int64)
    data["time"] = time
    data["event"] = event
    data["reoffended"] = event.astype(bool)
    data["n_reoffences"] = n
    data["days_in_custody"] = days
    return data
