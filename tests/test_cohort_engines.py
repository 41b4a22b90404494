"""The cohort rules on every engine give exactly the oracle's cohort and flow (issue 12, item 3).

The rules are Ibis expressions (evalkit/cohort/rules.py) run by a database engine; the
vectorised pandas implementation they replaced is the oracle (tests/oracles/cohort_pandas.py),
beside the per-person, per-day loop of tests/test_cohort.py. Engines checked here:

- ``frames``: pandas DataFrames, validated in pandas, rules in embedded DuckDB (the default);
- ``frames+backend``: DataFrames with ``backend=`` an Ibis DuckDB connection (rules through Ibis);
- ``tables``: Ibis tables in a DuckDB database (validated with SQL aggregates);
- Spark (slow): a local-mode PySpark session, on a 20,000-person extract.

Each is compared on the hand-built fixtures of the counting rules, on the property test's
cohorts, and (slow) on the 1M-person extract. Errors and warnings on tables in a database name
rows by ``person_id`` only (a table in a database has no row order), inside the segment that
``redact`` removes.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from oracles.cohort_pandas import proven_reoffending as oracle
from test_cohort import (
    cohorts,
    custody,
    custody_fixture,
    day,
    deaths,
    offences,
    people,
    text_offences,
    text_people,
    to_dates,
)

from evalkit.cohort import Cohort, proven_reoffending
from evalkit.datasets.synthetic import simulate_reoffending
from evalkit.errors import DataWarning, InputError, redact

DATE_COLUMNS = ("index_date", "offence_date", "disposal_date", "start", "end", "date")


# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------


def arrow(df: pd.DataFrame) -> pa.Table:
    """A DataFrame as Arrow, text dates parsed (a database holds dates, not text)."""
    df = df.copy()
    for col in df.columns:
        if col in DATE_COLUMNS and not pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = pd.to_datetime(df[col], format="ISO8601")
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields))  # an empty text column has no type in Arrow


def write_parquet(tables: dict[str, pd.DataFrame], folder: Any) -> dict[str, str]:
    """The tables as parquet files, timestamps in microseconds (Spark reads no nanoseconds)."""
    paths = {}
    for name, df in tables.items():
        paths[name] = str(folder / f"{name}.parquet")
        df.to_parquet(paths[name], coerce_timestamps="us")
    return paths


def as_tables(con: Any, tables: dict[str, pd.DataFrame | None]) -> dict[str, Any]:
    """The DataFrames as tables of the database ``con`` (its own names, so no clashes)."""
    return {
        name: None if df is None else con.create_table(f"t_{name}", arrow(df), overwrite=True)
        for name, df in tables.items()
    }


def run_frames(tables: dict[str, Any], **kw: Any) -> Cohort:
    return proven_reoffending(**tables, **kw)


def run_frames_backend(tables: dict[str, Any], **kw: Any) -> Cohort:
    return proven_reoffending(**tables, backend=ibis.duckdb.connect(), **kw)


def run_tables(tables: dict[str, Any], **kw: Any) -> Cohort:
    return proven_reoffending(**as_tables(ibis.duckdb.connect(), tables), **kw)


ENGINES: dict[str, Callable[..., Cohort]] = {
    "frames": run_frames,
    "frames+backend": run_frames_backend,
    "tables": run_tables,
}
ORDERED = {"frames", "frames+backend"}  # the others come back ordered by person_id


def by_person(data: pd.DataFrame) -> pd.DataFrame:
    return data.sort_values("person_id", kind="stable").reset_index(drop=True)


def assert_same_cohort(got: Cohort, want: Cohort, *, ordered: bool, dtypes: bool = True) -> None:
    """Identical flow, and identical data (in the people table's order, or by person)."""
    pd.testing.assert_frame_equal(got.flow, want.flow)
    if ordered:
        pd.testing.assert_frame_equal(got.data, want.data, check_dtype=dtypes)
    else:
        pd.testing.assert_frame_equal(
            got.data, by_person(want.data), check_dtype=dtypes, check_categorical=False
        )
    assert (got.follow_up_days, got.waiting_days, got.at_risk, got.data_end) == (
        want.follow_up_days,
        want.waiting_days,
        want.at_risk,
        want.data_end,
    )


def without_rows(message: str) -> str:
    """A message without the rows it names (positions and ids): the rule alone."""
    text = redact(message)
    return re.sub(r"; \d+ offending rows?( at positions? [\d, ]+)?", "", text)


def run_quietly(fn: Callable[..., Cohort], *args: Any, **kw: Any) -> tuple[Cohort, list[str]]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", DataWarning)
        cohort = fn(*args, **kw)
    return cohort, [str(w.message) for w in record if issubclass(w.category, DataWarning)]


# ---------------------------------------------------------------------------------------------
# Fixtures of the counting rules (as in tests/test_cohort.py)
# ---------------------------------------------------------------------------------------------


def _index_dates() -> dict[str, Any]:
    p = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "index_date": ["2022-05-01 18:30", "2023-02-28"],
            "group": ["x", "y"],
        }
    )
    o = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "offence_date": ["2022-05-02 01:00", "2024-02-28"],
            "disposal_date": ["2022-05-03", "2024-03-01"],
            "disposal": ["caution", "conviction"],
        }
    )
    return {"people": p, "offences": o}


def _covariates() -> dict[str, Any]:
    p = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "age": [19, 45, 33],
            "index_date": ["2022-05-01", "2022-06-01", "2022-07-01"],
            "region": pd.Categorical(["north", "south", "north"]),
            "group": ["comparison", "programme", "programme"],
            "score": [0.1, np.nan, 2.5],
            "female": [True, False, True],
        }
    )
    return {"people": p, "offences": offences().astype({"person_id": object})}


def _flow_fixture() -> dict[str, Any]:
    p = people(6)
    p["index_date"] = [day(0)] * 5 + [day(100)]
    o = offences(
        (1, 10, 20, "conviction"),
        (1, 30, 600, "conviction"),
        (2, 400, 410, "caution"),
        (2, -5, 1, "conviction"),
        (3, 7, 7, "pnd"),
        (4, -3, -1, "caution"),
        (6, 120, 130, "conviction"),
        (77, 5, 6, "conviction"),
        (5, 12, 12, "caution"),
        (5, 13, 12 + 300, "caution"),
    )
    cu = custody((1, 5, 15), (1, 400, 410), (4, 1, 3), (78, 1, 2))
    de = deaths((4, 0), (3, 200), (2, 500), (79, 3))
    return {"people": p, "offences": o, "custody": cu, "deaths": de}


def _custody(**kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    p, o, cu = custody_fixture()
    return {"people": p, "offences": o, "custody": cu}, kw


def _data_end() -> tuple[dict[str, Any], dict[str, Any]]:
    p = people(3)
    p["index_date"] = [day(0), day(1), day(2)]
    o = offences((1, 5, 6, "caution"), (2, 5, 6, "caution"), (3, -5, -4, "caution"))
    return {"people": p, "offences": o, "deaths": deaths((3, 1))}, {"data_end": day(547)}


def _shuffled_people() -> dict[str, Any]:
    p = people(4)
    p.index = [10, 3, 7, 1]
    return {"people": p.iloc[[2, 0, 3, 1]], "offences": offences((3, 5, 6, "caution"))}


FIXTURES: dict[str, Callable[[], tuple[dict[str, Any], dict[str, Any]]]] = {
    "day_365_366": lambda: (
        {
            "people": people(2),
            "offences": offences((1, 365, 365, "conviction"), (2, 366, 366, "conviction")),
        },
        {},
    ),
    "day_1": lambda: ({"people": people(1), "offences": offences((1, 1, 2, "caution"))}, {}),
    "disposal_547_548": lambda: (
        {
            "people": people(2),
            "offences": offences((1, 10, 547, "conviction"), (2, 10, 548, "conviction")),
        },
        {},
    ),
    "six_months_no_waiting": lambda: (
        {
            "people": people(3),
            "offences": offences(
                (1, 182, 182, "conviction"),
                (2, 182, 183, "conviction"),
                (3, 183, 183, "caution"),
            ),
        },
        {"follow_up_days": 182, "waiting_days": 0},
    ),
    "codes_configurable": lambda: (
        {
            "people": people(1),
            "offences": offences(
                (1, 5, 6, "caution"), (1, 9, 9, "fine"), (1, 20, 30, "conviction")
            ),
        },
        {"proven_disposals": ("conviction",), "other_disposals": ("caution", "fine")},
    ),
    "before_index": lambda: (
        {
            "people": people(1),
            "offences": offences(
                (1, -30, 0, "conviction"), (1, 0, 5, "conviction"), (1, -400, -100, "caution")
            ),
        },
        {},
    ),
    "first_and_every": lambda: (
        {
            "people": people(1),
            "offences": offences(
                (1, 200, 260, "conviction"),
                (1, 50, 51, "caution"),
                (1, 20, 21, "pnd"),
                (1, 50, 90, "conviction"),
                (1, 400, 420, "conviction"),
                (1, 8, 600, "conviction"),
            ),
        },
        {},
    ),
    "no_offences": lambda: ({"people": people(3), "offences": offences()}, {}),
    "index_dates_and_times": lambda: (_index_dates(), {}),
    "deaths": lambda: (
        {
            "people": people(4),
            "offences": offences((2, 40, 41, "conviction"), (4, 100, 120, "conviction")),
            "deaths": deaths((1, 100), (2, 100), (3, 400), (4, 100)),
        },
        {},
    ),
    "died_before_index": lambda: (
        {
            "people": people(3),
            "offences": offences((1, -10, -5, "conviction"), (3, 7, 8, "caution")),
            "custody": custody((2, -30, 0)),
            "deaths": deaths((1, 0), (2, -5)),
        },
        {},
    ),
    "data_end": _data_end,
    "custody_calendar": lambda: _custody(),
    "custody_free": lambda: _custody(at_risk="free"),
    "free_stops_at_death": lambda: (
        {
            "people": people(1),
            "offences": offences(),
            "custody": custody((1, 50, 150)),
            "deaths": deaths((1, 100)),
        },
        {"at_risk": "free"},
    ),
    "covariates": lambda: (_covariates(), {}),
    "people_order": lambda: (_shuffled_people(), {}),
    "flow_every_step": lambda: (_flow_fixture(), {"data_end": day(600)}),
}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_engines_give_the_oracles_cohort_on_every_fixture(fixture, engine):
    tables, kw = FIXTURES[fixture]()
    want, want_warnings = run_quietly(oracle, **tables, **kw)
    got, got_warnings = run_quietly(ENGINES[engine], tables, **kw)
    # a database gives back its own types for covariates (a Categorical becomes text)
    assert_same_cohort(got, want, ordered=engine in ORDERED, dtypes=fixture != "covariates")
    if engine in ORDERED:
        assert got_warnings == want_warnings
    else:
        assert [without_rows(m) for m in got_warnings] == [without_rows(m) for m in want_warnings]


# ---------------------------------------------------------------------------------------------
# Property test: random cohorts on the rule boundaries
# ---------------------------------------------------------------------------------------------


def random_case(case: tuple[Any, ...]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    p, o, cu, de, f_days, w_days, data_end, at_risk, _ = case
    tables = {
        "people": to_dates(p, {"day": "index_date"}),
        "offences": to_dates(o, {"off": "offence_date", "disp": "disposal_date"}),
        "custody": to_dates(cu, {"s": "start", "e": "end"}),
        "deaths": to_dates(de, {"day": "date"}),
    }
    kw = dict(
        follow_up_days=f_days,
        waiting_days=w_days,
        data_end=None if data_end is None else day(data_end),
        at_risk=at_risk,
    )
    return tables, kw


def assert_engines_agree(case: tuple[Any, ...], engines: list[str]) -> None:
    tables, kw = random_case(case)
    try:
        want, want_warnings = run_quietly(oracle, **tables, **kw)
    except InputError as e:  # no offence matches anyone: every engine refuses it
        for name in engines:
            with pytest.raises(InputError) as err:
                run_quietly(ENGINES[name], tables, **kw)
            assert without_rows(str(err.value)) == without_rows(str(e))
        return
    for name in engines:
        got, got_warnings = run_quietly(ENGINES[name], tables, **kw)
        assert_same_cohort(got, want, ordered=name in ORDERED)
        assert [without_rows(m) for m in got_warnings] == [without_rows(m) for m in want_warnings]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(cohorts())
def test_duckdb_from_frames_agrees_with_the_oracle_on_random_cohorts(case):
    assert_engines_agree(case, ["frames"])


# Ibis builds and compiles the expressions on every call (half a second): fewer examples
@settings(max_examples=8, deadline=None, derandomize=True)
@given(cohorts())
def test_ibis_engines_agree_with_the_oracle_on_random_cohorts(case):
    assert_engines_agree(case, ["frames+backend", "tables"])


# ---------------------------------------------------------------------------------------------
# Tables in a database: errors and warnings name rows by person_id, from SQL aggregates
# ---------------------------------------------------------------------------------------------


def tables_error(**tables: Any) -> InputError:
    with pytest.raises(InputError) as err:
        run_tables(tables)
    return err.value


def test_duplicate_ids_in_a_database_are_named_by_id_without_positions():
    p = people(3)
    p.loc[2, "person_id"] = 1
    e = tables_error(people=p, offences=offences())
    assert (e.table, e.column, e.rows, e.positions) == ("people", "person_id", [1], None)
    assert "must be unique" in str(e) and "[person_id: 1]" in str(e)
    assert "person_id: 1" not in redact(str(e))


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("people", "index_date"),
        ("offences", "offence_date"),
        ("offences", "disposal_date"),
        ("custody", "start"),
        ("custody", "end"),
        ("deaths", "date"),
    ],
)
def test_missing_dates_in_a_database_name_the_person(table, column):
    tables = {
        "people": people(3),
        "offences": offences((1, 3, 4, "caution"), (2, 5, 6, "caution")),
        "custody": custody((1, 3, 4), (2, 8, 9)),
        "deaths": deaths((1, 30), (2, 40)),
    }
    tables[table].loc[1, column] = pd.NaT
    e = tables_error(**tables)
    assert (e.table, e.column, e.rows) == (table, column, [2])
    assert "has missing dates" in str(e)


def test_text_dates_in_a_database_are_refused_with_the_way_to_convert_them():
    con = ibis.duckdb.connect()
    p = con.create_table("p", pa.Table.from_pandas(people(1).astype({"index_date": str})))
    o = con.create_table("o", arrow(offences((1, 3, 4, "caution"))))
    with pytest.raises(InputError, match="holds text, not dates") as err:
        proven_reoffending(p, o)
    assert (err.value.table, err.value.column) == ("people", "index_date")


@pytest.mark.parametrize(
    ("tables", "column", "rows", "rule"),
    [
        (
            {"offences": offences((1, 3, 4, "caution"), (2, 10, 9, "caution"))},
            "disposal_date",
            [2],
            "is before the offence_date",
        ),
        (
            {"custody": custody((1, 3, 4), (2, 10, 9))},
            "end",
            [2],
            "is before the start",
        ),
        (
            {
                "offences": offences(
                    (1, 3, 4, "Conviction"),
                    (2, 5, 6, "caution"),
                    (3, 5, 6, "fine"),
                    (3, 8, 9, "fine"),
                )
            },
            "disposal",
            [1, 3, 3],
            "has unknown codes ['Conviction', 'fine']",
        ),
        (
            {"offences": offences((2, 101, 110, "conviction")), "deaths": deaths((2, 100))},
            "offence_date",
            [2],
            "is after the person's date of death",
        ),
    ],
)
def test_rules_broken_in_a_database_name_the_people(tables, column, rows, rule):
    base = {"people": people(3), "offences": offences()}
    e = tables_error(**{**base, **tables})
    assert (e.column, e.rows, e.positions) == (column, rows, None)
    assert rule in str(e)


def test_people_table_checks_in_a_database():
    p = people(2)
    p.loc[1, "group"] = None
    assert tables_error(people=p, offences=offences()).rows == [2]
    e = tables_error(people=people(1, time=[3]), offences=offences())
    assert e.column == "time" and "outcome column" in str(e)
    e = tables_error(people=people(1).drop(columns="group"), offences=offences())
    assert (e.table, e.column) == ("people", "group")
    e = tables_error(people=people(1).iloc[:0], offences=offences())
    assert "has no rows" in str(e)
    e = tables_error(
        people=people(1), offences=offences((1, 3, 4, "caution")).astype({"person_id": str})
    )
    assert e.table == "offences" and "never match" in str(e)


@pytest.mark.parametrize(
    ("people_ids", "offence_ids", "cause"),
    [
        (("QQ1", "QQ2", "QQ3"), ("QQ1", " QQ2", "QQ3 "), "surrounding spaces (2 rows match"),
        (("QQ1", "QQ2"), ("QQ1", "qq2", "Qq2"), "letter case (2 rows match"),
        (("7", "8", "9"), ("7", "007", "8.0"), "number format (2 rows match"),
        (("QQ1", "QQ2"), ("QQ1", "ZZ9"), "people missing from the people table"),
    ],
)
def test_unknown_ids_in_a_database_warn_with_the_cause_found_in_sql(people_ids, offence_ids, cause):
    tables = {"people": text_people(*people_ids), "offences": text_offences(*offence_ids)}
    got, msgs = run_quietly(run_tables, tables)
    want, want_msgs = run_quietly(oracle, **tables)
    (msg,) = msgs
    assert f"likely cause: {cause}" in msg
    assert without_rows(msg) == without_rows(want_msgs[0])
    assert "positions" not in msg and "[person_id: " in msg
    assert "[person_id: " not in redact(msg)
    assert_same_cohort(got, want, ordered=False)


def test_no_offence_matching_anyone_in_a_database_is_refused():
    e = tables_error(people=text_people("QQ1", "QQ2"), offences=text_offences(" QQ1", "QQ2 "))
    assert "no offence matches any person" in str(e) and "surrounding spaces" in str(e)
    assert e.rows == [" QQ1", "QQ2 "] and e.positions is None


# ---------------------------------------------------------------------------------------------
# How tables are given: names, mixed inputs, files, several databases
# ---------------------------------------------------------------------------------------------


def test_tables_by_name_need_the_backend():
    con = ibis.duckdb.connect()
    con.create_table("people", arrow(people(2)))
    con.create_table("offences", arrow(offences((1, 3, 4, "caution"))))
    got = proven_reoffending("people", "offences", backend=con)
    assert got.data["n_reoffences"].tolist() == [1, 0]
    with pytest.raises(InputError, match="pass backend="):
        proven_reoffending("people", "offences")


def test_dataframes_mixed_with_database_tables_are_uploaded():
    con = ibis.duckdb.connect()
    p = people(3)
    o = offences((1, 3, 4, "caution"), (2, 400, 410, "conviction"))
    want = oracle(p, o)
    got = proven_reoffending(p, con.create_table("o", arrow(o)))
    assert_same_cohort(got, want, ordered=False)


def test_tables_of_two_databases_are_refused():
    a, b = ibis.duckdb.connect(), ibis.duckdb.connect()
    p = a.create_table("p", arrow(people(1)))
    o = b.create_table("o", arrow(offences((1, 3, 4, "caution"))))
    with pytest.raises(InputError, match="another database"):
        proven_reoffending(p, o)
    with pytest.raises(InputError, match="another database"):
        proven_reoffending(p, b.table("o"), backend=b)


def test_something_else_than_a_table_is_refused_by_type():
    con = ibis.duckdb.connect()
    o = con.create_table("o", arrow(offences()))
    with pytest.raises(InputError, match="must be a pandas DataFrame or an Ibis table, not dict"):
        proven_reoffending({"person_id": [1]}, o)


def test_parquet_files_read_by_duckdb_give_the_same_cohort(tmp_path):
    sim = simulate_reoffending(3_000, rng=11)
    con = ibis.duckdb.connect()
    files = {name: con.read_parquet(path) for name, path in write_parquet(sim, tmp_path).items()}
    kw = dict(data_end="2024-06-30", at_risk="free")
    assert_same_cohort(proven_reoffending(**files, **kw), oracle(**sim, **kw), ordered=False)


# ---------------------------------------------------------------------------------------------
# Scale: the 1M extract (slow), and Spark (slow; needs Java)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_million_person_extract_is_identical_on_duckdb_from_frames_and_from_parquet(tmp_path):
    sim = simulate_reoffending(1_000_000, rng=1)
    kw = dict(data_end="2024-06-30", at_risk="free")
    want = oracle(**sim, **kw)
    assert_same_cohort(proven_reoffending(**sim, **kw), want, ordered=True)
    con = ibis.duckdb.connect()
    files = {name: con.read_parquet(path) for name, path in write_parquet(sim, tmp_path).items()}
    assert_same_cohort(proven_reoffending(**files, **kw), want, ordered=False)


@pytest.fixture(scope="module")
def spark():
    # Skipped locally when Java or pyspark is missing; in CI (.ci/run installs both) a failure.
    missing = pytest.fail if os.environ.get("CI", "").lower() == "true" else pytest.skip
    if shutil.which("java") is None:
        missing("Java is not installed (apt-get install default-jre-headless; .ci/run does)")
    try:
        import pyspark.sql as pyspark_sql
    except ImportError:
        missing(
            "pyspark is not installed (.venv/bin/python -m pip install --no-deps "
            "pyspark==4.0.5 py4j==0.10.9.9; .ci/run does)"
        )
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("evalkit-cohort-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")  # loopback only
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")  # results via Arrow
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_local_session_gives_the_identical_cohort(spark, tmp_path):
    sim = simulate_reoffending(20_000, rng=7)
    con = ibis.pyspark.connect(spark)
    tables = {
        name: con.read_parquet(path, table_name=name)
        for name, path in write_parquet(sim, tmp_path).items()
    }
    for kw in (dict(data_end="2024-06-30", at_risk="free"), dict(follow_up_days=182)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # none expected; Spark may add its own
            got = proven_reoffending(**tables, **kw)
        assert_same_cohort(got, oracle(**sim, **kw), ordered=False)
