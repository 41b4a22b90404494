"""Running the cohort rules: on embedded DuckDB, or on an Ibis backend a user connects.

Both runners build the three stages of :mod:`evalkit.cohort.rules` in turn, each stored as a
temporary table where the backend has them (:func:`stages`), and read from them the flow's
counts (:func:`~evalkit.cohort.rules.flow_counts`), the cohort
(:func:`~evalkit.cohort.rules.outcomes`) and, when there are some, the rows a warning or an
error names (:func:`~evalkit.cohort.rules.offending_rows`).

- :class:`LocalRun` (pandas input, the default): the rules are compiled by Ibis to DuckDB's
  SQL once per input schema (the options are a one-row table, not constants, so the SQL does
  not change with them) and run in a private in-memory DuckDB database, on the Arrow tables
  as they are (no copy). Building and compiling the Ibis expressions takes longer than
  running them on a small cohort, hence the cache.
- :class:`IbisRun` (Ibis tables, or ``backend=``): the expressions run through Ibis on the
  backend, where the data are.

Results come back as Arrow tables; Ibis' own pandas conversion is not used (it reads pandas
options that pandas 3 deprecates).
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.cohort import rules

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

__all__ = [
    "IbisRun",
    "LocalRun",
    "duckdb_ibis",
    "fetch",
    "ibis_run",
    "local_run",
    "params_table",
    "stages",
]

_TABLES = ("people", "offences", "custody", "deaths")


def params_table(options: dict[str, Any]) -> pa.Table:
    """The options as the one-row table the rules read (:data:`~rules.PARAMS_SCHEMA`)."""
    import pyarrow as pa

    return pa.table(
        {
            "follow_up_days": pa.array([options["follow_up_days"]], pa.int64()),
            "waiting_days": pa.array([options["waiting_days"]], pa.int64()),
            "end_day": pa.array([options["end_day"]], pa.int64()),
            "free": pa.array([options["free"]], pa.bool_()),
        }
    )


def duckdb_ibis() -> BaseBackend:
    """A new in-memory DuckDB database as an Ibis backend (for Ibis tables that belong to
    none: ``ibis.memtable``)."""
    import ibis

    return ibis.duckdb.connect()


def fetch(con: BaseBackend, expr: ir.Expr) -> pa.Table:
    """Execute ``expr`` on ``con``; the result as an Arrow table.

    Some backends (Ibis 12 on Spark, with PySpark 4.0) pass results through pandas with an
    option and an argument that pandas 3 deprecates; those two warnings, which the user can
    do nothing about, are silenced here.
    """
    with warnings.catch_warnings():
        for message in _THIRD_PARTY_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message)
        return con.to_pyarrow(expr)


_THIRD_PARTY_DEPRECATIONS = (
    "The 'future.infer_string' option is deprecated",
    "The copy keyword is deprecated",
)


def _counts(row: pa.Table) -> dict[str, int]:
    return {k: int(row.column(k)[0].as_py() or 0) for k in rules.FLOW_COUNTS}


_local = threading.local()


def _database() -> Any:
    """This thread's private in-memory DuckDB database (opened once: opening one takes
    longer than building a small cohort)."""
    db = getattr(_local, "db", None)
    if db is None or _local.pid != os.getpid():
        import duckdb

        db = duckdb.connect(":memory:")
        _local.db, _local.pid = db, os.getpid()
    return db


def stages(
    tables: dict[str, Any], params: ir.Table, store: Callable[[str, ir.Table], ir.Table]
) -> tuple[ir.Table, ir.Table, ir.Table | None, ir.Table]:
    """The three stages of the rules, each passed through ``store`` before the next uses it;
    then ``params`` (what :func:`~rules.outcomes` and :func:`~rules.flow_counts` take)."""
    b = store("base", rules.base(tables["people"], tables.get("deaths"), params))
    o = store("off", rules.offence_groups(tables["offences"], b, params))
    custody = tables.get("custody")
    c = None if custody is None else store("cus", rules.custody_groups(custody, b, o, params))
    return b, o, c, params


class LocalRun:
    """The rules on Arrow tables in a private in-memory DuckDB database (see the module).

    The tables are registered as views of the Arrow data (no copy) for the time of the run,
    the stages are temporary tables; :meth:`close` removes all of them.
    """

    def __init__(self, tables: dict[str, pa.Table | None], options: dict[str, Any]) -> None:
        self._db = _database()
        self._views: list[str] = []
        self._tables: list[str] = []
        self._sql = _compiled(_signature(tables))
        try:
            for name in _TABLES:
                if tables[name] is not None:
                    self._register(f"ek_{name}", tables[name])
            self._register("ek_params", params_table(options))
            for name, sql in self._sql["stages"]:
                self._create(name, sql)
        except BaseException:
            self.close()
            raise

    def _register(self, name: str, table: pa.Table) -> None:
        self._db.register(name, table)
        self._views.append(name)

    def _create(self, name: str, sql: str) -> None:
        self._db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        self._tables.append(name)

    def _arrow(self, sql: str) -> pa.Table:
        out = self._db.sql(sql).arrow()
        return out.read_all() if hasattr(out, "read_all") else out

    def counts(self) -> dict[str, int]:
        """The exclusion flow's counts (:data:`evalkit.cohort.rules.FLOW_COUNTS`)."""
        return _counts(self._arrow(self._sql["counts"]))

    def outcomes(self) -> pa.Table:
        """``pid``, ``time``, ``event``, ``n_reoffences``, ``days_in_custody`` of the cohort."""
        return self._arrow(self._sql["outcomes"])

    def rows(self, name: str) -> np.ndarray:
        """Positions of the rows :func:`~rules.offending_rows` names ``name``."""
        return self._arrow(self._sql[name]).column("row").to_numpy()

    def close(self) -> None:
        """Drop the stages and unregister the Arrow tables."""
        for name in reversed(self._tables):
            self._db.execute(f"DROP TABLE IF EXISTS {name}")
        for name in self._views:
            self._db.unregister(name)
        self._tables.clear()
        self._views.clear()


@contextmanager
def local_run(tables: dict[str, pa.Table | None], options: dict[str, Any]) -> Iterator[LocalRun]:
    """A :class:`LocalRun`, its tables removed on exit."""
    run = LocalRun(tables, options)
    try:
        yield run
    finally:
        run.close()


def _signature(tables: dict[str, pa.Table | None]) -> tuple[Any, ...]:
    """The input schema (what the compiled SQL depends on), as Arrow types."""
    return tuple(
        (name, None if tables[name] is None else tuple(tables[name].schema))  # type: ignore[union-attr]
        for name in _TABLES
    )


@functools.lru_cache(maxsize=64)
def _compiled(signature: tuple[Any, ...]) -> dict[str, Any]:
    """DuckDB SQL of every statement of a :class:`LocalRun`, for one input schema."""
    import ibis
    import pyarrow as pa

    t = {
        name: None
        if fields is None
        else ibis.table(ibis.Schema.from_pyarrow(pa.schema(fields)), name=f"ek_{name}")
        for name, fields in signature
    }
    sql: dict[str, Any] = {"stages": []}

    def store(name: str, expr: ir.Table) -> ir.Table:
        # stored with the types Ibis expects (DuckDB's SUM of BIGINT is a 128-bit HUGEINT)
        schema = ibis.schema({c: ty.copy(nullable=True) for c, ty in expr.schema().items()})
        columns = [
            (d.this.sql("duckdb"), d.args["kind"].sql("duckdb"))
            for d in schema.to_sqlglot_column_defs("duckdb")
        ]
        typed = ", ".join(f"CAST({c} AS {kind}) AS {c}" for c, kind in columns)
        query = ibis.to_sql(expr, dialect="duckdb")
        sql["stages"].append((f"ek_{name}", f"SELECT {typed} FROM ({query}) AS ek_stage"))
        return ibis.table(schema, name=f"ek_{name}")

    found = stages(t, ibis.table(rules.PARAMS_SCHEMA, name="ek_params"), store)
    queries = {"counts": rules.flow_counts(*found), "outcomes": rules.outcomes(*found)}
    for name, expr in rules.offending_rows(
        t["people"], t["offences"], t["custody"], t["deaths"]
    ).items():
        queries[name] = expr.select("row")
    sql.update({name: ibis.to_sql(expr, dialect="duckdb") for name, expr in queries.items()})
    return sql


class IbisRun:
    """The rules through Ibis on ``con`` (a user's backend); see :func:`ibis_run`."""

    def __init__(
        self,
        con: BaseBackend,
        tables: dict[str, Any],
        stored: tuple[ir.Table, ir.Table, ir.Table | None, ir.Table],
    ) -> None:
        self.con = con
        self.tables = tables
        self.stored = stored

    def counts(self) -> dict[str, int]:
        """The exclusion flow's counts (:data:`evalkit.cohort.rules.FLOW_COUNTS`)."""
        return _counts(fetch(self.con, rules.flow_counts(*self.stored)))

    def outcomes(self, expr: bool = False) -> Any:
        """``pid``, ``time``, ``event``, ``n_reoffences``, ``days_in_custody`` of the cohort
        (an Arrow table; the expression if ``expr``)."""
        out = rules.outcomes(*self.stored)
        return out if expr else fetch(self.con, out)

    def offending(self, name: str) -> ir.Table:
        """The rows :func:`~rules.offending_rows` names ``name``, as an expression."""
        t = self.tables
        found = rules.offending_rows(t["people"], t["offences"], t.get("custody"), t.get("deaths"))
        return found[name]

    def rows(self, name: str) -> np.ndarray:
        """Positions (the ``row`` column) of the rows :func:`~rules.offending_rows` names."""
        return fetch(self.con, self.offending(name).select("row")).column("row").to_numpy()


@contextmanager
def ibis_run(
    con: BaseBackend, tables: dict[str, Any], options: dict[str, Any]
) -> Iterator[IbisRun]:
    """The rules applied to the normalised ``tables`` on ``con``, each stage stored once.

    Stages are stored with Ibis' cache on ``con`` (a temporary table on DuckDB, Postgres or
    SQL Server; a cached DataFrame on Spark) and released on exit; backends without either
    (Trino, Athena) compute the stages again in each query.
    """
    import ibis

    cached: list[Any] = []

    def store(name: str, expr: ir.Table) -> ir.Table:
        # Ibis' cache, on this backend (``expr.cache()`` would pick the default backend for
        # in-memory tables), released below rather than when garbage-collected. In-memory
        # tables are registered first: Ibis 12's Spark cache does not do it itself.
        con._run_pre_execute_hooks(expr)
        try:
            table = con._cached_table(expr)
        except NotImplementedError:  # no temporary tables on this backend
            return expr
        cached.append(table)
        return table

    try:
        stored = stages(tables, ibis.memtable(params_table(options)), store)
        yield IbisRun(con, tables, stored)
    finally:
        for table in reversed(cached):
            table.release()
