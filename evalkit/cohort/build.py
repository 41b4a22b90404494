"""proven_reoffending: the cohort's entry point (options, dispatch, assembly).

The rules live in :mod:`evalkit.cohort.rules` as Ibis expressions; the two front ends check
and normalise the input — :mod:`evalkit.cohort._frames` for pandas DataFrames (validated in
pandas, run in embedded DuckDB or ``backend``) and :mod:`evalkit.cohort._tables` for Ibis
tables (validated with SQL aggregates where they live).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalkit._options import check_choice, check_date
from evalkit.cohort.result import Cohort, flow_frame
from evalkit.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = ["proven_reoffending"]

AT_RISK_CHOICES = ("calendar", "free")

_NS_PER_DAY = 86_400_000_000_000


def proven_reoffending(
    people: pd.DataFrame | ibis.Table | str,
    offences: pd.DataFrame | ibis.Table | str,
    custody: pd.DataFrame | ibis.Table | str | None = None,
    deaths: pd.DataFrame | ibis.Table | str | None = None,
    *,
    follow_up_days: int = 365,
    waiting_days: int = 182,
    data_end: Any = None,
    at_risk: str = "calendar",
    proven_disposals: Iterable[str] = ("conviction", "caution"),
    other_disposals: Iterable[str] = ("pnd", "community_resolution", "breach"),
    backend: ibis.BaseBackend | None = None,
) -> Cohort:
    """Build a proven-reoffending cohort (MoJ definition) with an exclusion flow.

    Parameters
    ----------
    people
        A pandas DataFrame, an Ibis table, or (with ``backend``) the name of a table in that
        database; likewise ``offences``, ``custody`` and ``deaths``. One row per person:
        ``person_id`` (unique), ``index_date`` (release from custody, or
        the date of the caution or non-custodial sentence that starts follow-up), ``group``
        (e.g. ``"programme"`` / ``"comparison"``) and any covariates, which are carried through
        to :attr:`Cohort.data` unchanged.
    offences
        One row per offence: ``person_id``, ``offence_date``, ``disposal_date`` (when it was
        cautioned or convicted, or otherwise disposed of) and ``disposal`` (a code from
        ``proven_disposals`` or ``other_disposals``). May have no rows. Offences of people not
        in ``people`` are allowed and counted in the flow.
    custody
        Optional custody spells: ``person_id``, ``start``, ``end`` (the dates of entering and
        leaving custody; ``end`` may equal ``start``).
    deaths
        Optional: ``person_id`` (unique) and ``date`` of death.
    follow_up_days
        Length of the follow-up period in days (whole number ≥ 1); MoJ: one year, 365.
    waiting_days
        Further period in days in which an offence committed during follow-up can still be
        proven (whole number ≥ 0); MoJ: six months, 182.
    data_end
        Date the extract was taken (anything :class:`pandas.Timestamp` accepts). People whose
        follow-up plus waiting period ends after it are excluded and counted in the flow.
        ``None``: the extract is taken to cover everyone.
    at_risk
        ``"calendar"`` (default): ``time`` counts calendar days, as the MoJ measures do.
        ``"free"``: days in custody before the event or censoring are removed from ``time``,
        so that it counts days at liberty (at risk of offending in the community).
    proven_disposals
        Disposal codes that prove an offence (default caution and conviction).
    other_disposals
        Recognised disposal codes that do not prove an offence (default penalty notice for
        disorder, community resolution, breach). Any code in neither list is an error.
    backend
        An Ibis connection (``ibis.duckdb.connect()``, ``ibis.pyspark.connect(spark)``,
        ``ibis.trino.connect(...)``, ``ibis.postgres.connect(...)``, ``ibis.mssql.connect(...)``)
        to run the rules in. Tables given by name are read from it. ``None`` (default): the
        backend of the Ibis tables given, or, for DataFrames, an embedded DuckDB database
        opened for this call.

    Returns
    -------
    Cohort
        ``data`` (one row per person), ``flow`` (every exclusion with its reason and count)
        and the parameters used; see :class:`Cohort`.

    Raises
    ------
    InputError
        Naming the table, column and rows (by ``person_id``; for DataFrames also by position)
        for: missing columns; missing or
        unparseable dates; duplicate ``person_id`` in ``people`` or ``deaths``; missing
        ``group`` or ``person_id``; disposal codes outside both lists; a disposal before its
        offence; a custody spell ending before it starts; an offence dated after the person's
        death; identifiers that are numbers in one table and text in another; outcome column
        names already used in ``people``; text date columns in a database; and invalid
        options.

    Notes
    -----
    **Definition.** A proven reoffence is an offence committed in the follow-up period that
    receives a caution or conviction in that period or in a further waiting period (Ministry of
    Justice, 2019). With d the number of whole days from the index date (d = offence date −
    index date), an offence counts when ``1 ≤ d ≤ follow_up_days``, its disposal falls on a day
    ``≤ follow_up_days + waiting_days`` (365 + 182 = 547 by default) and its disposal code is in
    ``proven_disposals``. The index event itself and offences on or before the index date never
    count; penalty notices, community resolutions and breaches never count. Each offence row
    counts once in ``n_reoffences`` (the MoJ frequency measure counts offences, not court
    appearances). Times of day are ignored: dates are floored to whole days.

    **Time to first reoffence.** ``time`` is d of the *offence date* of the first proven
    reoffence (``event = 1``), else the person is censored at ``follow_up_days`` or earlier at
    death (day of death − index date). ``reoffended`` equals ``event == 1``, which is the MoJ
    binary measure: a reoffence before death counts; a death without one is not a reoffence.
    Because a reoffence only counts once proven, the event time of an offence committed near
    the end of follow-up is known only after the waiting period: use ``data_end`` so that
    everyone kept has the full period in the extract.

    **Custody.** Spells are merged per person (overlapping or touching spells are one) and
    intersected with the follow-up period (index, index + ``follow_up_days``]; a spell counts
    ``end − start`` days, so a same-day spell counts 0. ``days_in_custody`` is that overlap.
    With ``at_risk="free"`` the days in custody in (index, index + ``time``] are removed from
    ``time``; an offence committed in custody still counts, at its liberty time (0 if the person
    had not yet been at liberty). The MoJ measures do not adjust for time in custody; the
    ``"free"`` option is an evalkit extension for time-to-event analyses of prison leavers, who
    are often recalled.

    **Decisions.** A person whose death is dated on or before the index date has no time at
    risk; they are *excluded* and counted in the flow (step ``died_before_index``), not treated
    as an error, because linked death records are an external source. An offence dated after
    the person's death, by contrast, contradicts the data and is an error. ``data_end`` is
    applied before deaths; a person excluded by ``data_end`` is counted there only. Offences,
    custody spells and deaths of people not in the cohort are counted in the flow, never
    silently dropped.

    **Where the rules run.** The rules are Ibis expressions (:mod:`evalkit.cohort.rules`),
    executed by a database engine; the data never pass through a Python loop.
    *DataFrames* are validated in pandas (errors and warnings give row positions and person
    ids), their dates read by evalkit's rules (:func:`evalkit.read_table`'s: one format per
    column, ambiguous day/month text refused — no SQL engine has these rules, so this step
    stays in Python), and the identifiers and day numbers handed to embedded DuckDB, or to
    ``backend``. *Ibis tables* (a database's tables, or parquet files read with
    ``ibis.read_parquet``, which DuckDB streams, so they may be larger than memory) are
    validated where they live, with SQL aggregates: the same rules, with errors naming up to
    five person ids (no row positions: a table in a database has no row order). There the
    date columns must be dates or timestamps (text dates are refused: convert them in the
    database with the format they are written in; timestamps are floored to days in the
    session's time zone), identifiers are matched exactly by the engine, and the likely
    cause of an unmatched id is looked for with SQL's ``TRIM`` and ``LOWER``. DataFrames
    given together with Ibis tables are uploaded to the tables' backend. Only the cohort
    (one row per person kept) comes back, as a pandas DataFrame ordered by ``person_id``;
    the counts of the flow are computed in the database.

    **When not to use.** Proven reoffending undercounts offending (only offences that are
    detected and proven count) and depends on police and court practice; comparisons between
    areas or periods with different disposal practice (e.g. more community resolutions) are
    biased. Not a substitute for the MoJ's own counting rules where the input extract differs
    from the Police National Computer (e.g. it lacks offences recorded elsewhere).

    References
    ----------
    Ministry of Justice (2019). *Guide to Proven Reoffending Statistics*. London: Ministry of
    Justice, April 2019, section 2.1 "Definitions for the measurement of proven reoffending".
    Revised with the quarterly bulletins at
    https://www.gov.uk/government/collections/proven-reoffending-statistics

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"person_id": [1, 2], "index_date": ["2022-05-01"] * 2,
    ...                        "group": ["programme", "comparison"], "age": [23, 41]})
    >>> offences = pd.DataFrame({"person_id": [1, 1, 2],
    ...     "offence_date": ["2022-06-01", "2022-07-01", "2022-06-10"],
    ...     "disposal_date": ["2022-09-01", "2022-08-01", "2022-06-10"],
    ...     "disposal": ["conviction", "caution", "pnd"]})
    >>> c = proven_reoffending(people, offences)
    >>> c.data[["person_id", "age", "time", "event", "n_reoffences"]]
       person_id  age  time  event  n_reoffences
    0          1   23    31      1             2
    1          2   41   365      0             0
    >>> c.flow.query("table == 'offences'")[["step", "n_removed", "n_remaining"]]
                      step  n_removed  n_remaining
    4                input          0            3
    5       unknown_person          0            3
    6      excluded_person          0            3
    7   on_or_before_index          0            3
    8      after_follow_up          0            3
    9        late_disposal          0            3
    10          not_proven          1            2
    11              proven          0            2

    The same rules where the data live: tables in a database, here DuckDB (for Spark,
    ``con = ibis.pyspark.connect(spark)``; for Athena, ``ibis.athena.connect(...)``), given by
    name or as Ibis tables (``con.table("people")``, ``con.read_parquet(path)``):

    >>> import ibis
    >>> import pyarrow as pa
    >>> con = ibis.duckdb.connect()
    >>> def store(name, df):  # a DataFrame as a table in the database, dates as dates
    ...     df = df.assign(**{c: pd.to_datetime(df[c]) for c in df if c.endswith("date")})
    ...     return con.create_table(name, pa.Table.from_pandas(df))
    >>> _ = store("people", people), store("offences", offences)
    >>> c2 = proven_reoffending("people", "offences", backend=con)
    >>> c2.data[["person_id", "age", "time", "event", "n_reoffences"]]
       person_id  age  time  event  n_reoffences
    0          1   23    31      1             2
    1          2   41   365      0             0
    >>> c2.flow.equals(c.flow)
    True
    """
    f_days, w_days, at_risk, proven_codes, other_codes, end_day = check_options(
        follow_up_days, waiting_days, at_risk, proven_disposals, other_disposals, data_end
    )
    options = {
        "follow_up_days": f_days,
        "waiting_days": w_days,
        "end_day": end_day,
        "free": at_risk == "free",
    }
    tables = (people, offences, custody, deaths)
    if not any(_is_ibis(t) or isinstance(t, str) for t in tables):
        from evalkit.cohort._frames import from_frames

        data, counts, n_input = from_frames(tables, proven_codes, other_codes, options, backend)
    else:
        from evalkit.cohort._tables import from_tables

        data, counts, n_input = from_tables(tables, backend, proven_codes, other_codes, options)
    end_text = "not given" if end_day is None else str(np.datetime64(end_day, "D"))
    flow = flow_frame(
        counts,
        n_input,
        follow_up_days=f_days,
        waiting_days=w_days,
        end_text=end_text,
        other_codes=other_codes,
    )
    return Cohort(
        data=data,
        flow=flow,
        follow_up_days=f_days,
        waiting_days=w_days,
        data_end=None if end_day is None else pd.Timestamp(np.datetime64(end_day, "D")),
        at_risk=at_risk,
        proven_disposals=proven_codes,
        other_disposals=other_codes,
    )


def _is_ibis(value: Any) -> bool:
    """Whether ``value`` is an Ibis table (without importing Ibis when nothing could be)."""
    types = sys.modules.get("ibis.expr.types")
    return types is not None and isinstance(value, types.Table)


def check_options(
    follow_up_days: Any,
    waiting_days: Any,
    at_risk: Any,
    proven_disposals: Any,
    other_disposals: Any,
    data_end: Any,
) -> tuple[int, int, str, tuple[str, ...], tuple[str, ...], int | None]:
    """The options of :func:`proven_reoffending`, checked: follow-up and waiting days, at-risk
    choice, proven and other disposal codes (no code in both) and ``data_end`` as a day number.
    """
    f_days = _whole_days(follow_up_days, "follow_up_days", minimum=1)
    w_days = _whole_days(waiting_days, "waiting_days", minimum=0)
    at_risk = check_choice(at_risk, "at_risk", AT_RISK_CHOICES)
    proven_codes = _codes(proven_disposals, "proven_disposals")
    other_codes = _codes(other_disposals, "other_disposals", allow_empty=True)
    both = sorted(set(proven_codes) & set(other_codes))
    if both:
        raise InputError(
            "proven_disposals",
            f"codes {both} are also in other_disposals; a code is either proven or not",
        )
    return f_days, w_days, at_risk, proven_codes, other_codes, _data_end_day(data_end)


def _whole_days(value: Any, name: str, *, minimum: int) -> int:
    """A whole number of days ≥ ``minimum`` (ints, or floats with a whole value)."""
    ok = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if ok and np.isfinite(value) and float(value) == int(value) and int(value) >= minimum:
        return int(value)
    bound = "positive" if minimum == 1 else f"at least {minimum}"
    raise InputError(name, f"must be a whole number of days, {bound}; got {value!r}")


def _codes(value: Any, name: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """Disposal codes as a tuple of strings (a single string is one code)."""
    if isinstance(value, str):
        value = (value,)
    try:
        codes = tuple(value)
    except TypeError:
        raise InputError(
            name, f"must be a list of disposal codes such as ('conviction',); got {value!r}"
        ) from None
    bad = [c for c in codes if not isinstance(c, str)]
    if bad:
        raise InputError(name, f"codes must be strings; got {bad!r}")
    if not codes and not allow_empty:
        raise InputError(name, "must list at least one disposal code")
    return codes


def _data_end_day(value: Any) -> int | None:
    """``data_end`` as whole days since 1970-01-01, or ``None``.

    Text is read as a date column is (:func:`evalkit._dates.parse_dates`): ``"01/06/2024"``
    could be 1 June or 6 January and is refused; ``"2024-06-01"`` is not ambiguous.
    """
    if value is None:
        return None
    if isinstance(value, str):
        from evalkit._dates import parse_dates

        value = parse_dates(pd.Series([value], dtype=object), column="data_end").iloc[0]
    ts = check_date(value, "data_end", example="2024-03-31")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return int(ts.value // _NS_PER_DAY)  # floor: times of day are ignored
