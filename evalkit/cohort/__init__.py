"""Proven-reoffending cohorts: from person and offence tables to one row per person.

:func:`proven_reoffending` turns a table of people (one index event each: a release from custody,
a caution or a non-custodial sentence) and a table of offences into the Ministry of Justice's
proven-reoffending outcomes, one row per person, together with an exclusion *flow* that accounts
for every input row; :func:`evalkit.io.read_table` (re-exported here) reads the files.

The rules are written once, as Ibis expressions (:mod:`evalkit.cohort.rules`), and run by a
database engine: embedded DuckDB for pandas DataFrames and parquet files, or any backend a user
connects (Spark, Trino/Athena, Postgres, SQL Server), where the data live. A million people and
a few million offences take seconds.

Modules: :mod:`~evalkit.cohort.build` (the entry point), :mod:`~evalkit.cohort.rules` (the
rules), :mod:`~evalkit.cohort.result` (:class:`Cohort` and the flow), and the two front ends
``_frames`` (pandas) and ``_tables`` (Ibis tables).
"""

from __future__ import annotations

from evalkit.cohort.build import AT_RISK_CHOICES, proven_reoffending
from evalkit.cohort.result import FLOW_COLUMNS, OUTCOME_COLUMNS, Cohort
from evalkit.io import read_table

__all__ = [
    "AT_RISK_CHOICES",
    "FLOW_COLUMNS",
    "OUTCOME_COLUMNS",
    "Cohort",
    "proven_reoffending",
    "read_table",
]
