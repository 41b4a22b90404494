"""The proven-reoffending rules, written once as Ibis expressions.

Every engine runs these same expressions: embedded DuckDB for pandas DataFrames and parquet
files (the default), and whatever backend a user connects (Spark, Trino/Athena, Postgres,
SQL Server…). The inputs are the four tables *normalised* by the front ends
(:mod:`evalkit.cohort._frames` for pandas, :mod:`evalkit.cohort._tables` for Ibis tables),
with dates already turned into whole day numbers (days since 1970-01-01):

==========  ==============================================================================
people      ``pid`` (unique: the identifier the other tables join on; for pandas input the
            person's row position), ``index_day``
offences    ``pid``, ``off_day``, ``disp_day``, ``proven`` (the disposal proves the offence)
custody     ``pid``, ``start_day``, ``end_day``
deaths      ``pid``, ``death_day``
==========  ==============================================================================

and a one-row table of options (:data:`PARAMS_SCHEMA`: options are data, so that the compiled SQL
is the same whatever their values). The rules are those documented in
:func:`evalkit.cohort.proven_reoffending`; the vectorised pandas implementation they replaced is
kept in ``tests/oracles`` and the results are tested to be identical on every fixture.

They run in three stages, each a table a runner may store (a temporary table) before the next:

1. :func:`base` — one row per person: index day, day of death, exclusions;
2. :func:`offence_groups` — every offence row joined to its person and put in the first
   category of the flow that removes it, then counted in *one* aggregation grouped by category
   and, for proven reoffences only, by person: the flow's counts and each person's number and
   first day of proven reoffences come out of the same pass (grouping every offence row by
   person, a million groups, costs several times more);
3. :func:`custody_groups` — custody spells clipped to follow-up and merged per person, with the
   flow's counts by category, the same way.

:func:`outcomes` then gives the cohort (one row per person kept) and :func:`flow_counts` the
counts of the exclusion flow (one row). :func:`offending_rows` finds the rows a warning or an
error names.

Portability: only joins, ``UNION ALL``, ``CASE``, ``GREATEST``/``LEAST`` on non-null values,
aggregates with ``CASE`` inside and two window functions with explicit ``ROWS`` frames — SQL that
every Ibis backend compiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = [
    "FLOW_COUNTS",
    "PARAMS_SCHEMA",
    "base",
    "custody_groups",
    "flow_counts",
    "offence_groups",
    "offending_rows",
    "outcomes",
]

FLOW_COUNTS = (
    "n_people",
    "incomplete",
    "died_before",
    "off_matched",
    "off_excluded",
    "off_before",
    "off_after",
    "off_late",
    "off_not_proven",
    "off_proven",
    "off_after_death",
    "cus_matched",
    "cus_excluded",
    "cus_outside",
    "death_matched",
    "death_excluded",
    "death_after",
)
"""The counts :func:`flow_counts` returns (unknown rows are the input count minus matched)."""

# Categories of offence rows (the flow's steps in order; 0 = a proven reoffence) and of custody
# spells (0 = the person's merged spells).
PROVEN, EXCLUDED, BEFORE, AFTER, LATE, NOT_PROVEN = range(6)
SPELLS, OUTSIDE, OVERLAPS = 0, 2, 3


def _n(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """Number of rows where ``condition`` holds (NULL counts as false), on every backend."""
    return ibis.ifelse(condition, 1, 0).sum()


def _total(value: ir.IntegerValue, condition: ir.BooleanValue) -> ir.IntegerScalar:
    """Sum of ``value`` over the rows where ``condition`` holds (0 if none)."""
    return ibis.ifelse(condition, value, 0).sum().fill_null(0)


def _clip(value: ir.IntegerValue, high: ir.IntegerValue) -> ir.IntegerValue:
    """``value`` limited to [0, high] (``value`` is never NULL here)."""
    return ibis.greatest(ibis.least(value, high), 0)


PARAMS_SCHEMA = {
    "follow_up_days": "int64",
    "waiting_days": "int64",
    "end_day": "int64",
    "free": "boolean",
}
"""The one-row table of options: F (``follow_up_days``) and W (``waiting_days``) of the
definition, ``data_end`` as a day number (``end_day``, NULL if not given) and ``free``
(``at_risk="free"``: days in custody before the event or censoring are removed from ``time``)."""


def _with_options(t: ir.Table, params: ir.Table) -> ir.Table:
    """``t`` with the options as columns: F (``f``), F + W (``fw``), ``end_day``, ``free``
    (a cross join with the one-row ``params``)."""
    opts = params.select(
        f=params.follow_up_days,
        fw=params.follow_up_days + params.waiting_days,
        end_day=params.end_day,
        free=params.free,
    )
    return t.cross_join(opts)


def _person(b: ir.Table) -> list[ir.Value]:
    """What a row of another table takes from its person in :func:`base`."""
    return [b.pid, b.keep, b.death_rel]


def base(people: ir.Table, deaths: ir.Table | None, params: ir.Table) -> ir.Table:
    """Stage 1: one row per person, with the people steps of the flow.

    Columns ``pid``, ``index_day``; ``death_rel`` (day of death − index day, NULL without a
    death); ``incomplete`` (follow-up plus waiting period ends after ``data_end``),
    ``died_before`` (died on or before the index date, and not already ``incomplete``) and
    ``keep`` (neither).
    """
    b = _with_options(people.select("pid", "index_day"), params)
    if deaths is not None:
        d = deaths.select(d_pid=deaths.pid, death_day=deaths.death_day)
        b = b.left_join(d, b.pid == d.d_pid).select(
            *(b[c] for c in b.columns), death_rel=d.death_day - b.index_day
        )
    else:
        b = b.mutate(death_rel=ibis.null("int64"))
    late = b.end_day.notnull() & (b.index_day + b.fw > b.end_day)
    dead = b.death_rel.notnull() & (b.death_rel <= 0) & ~late
    return b.select(
        "pid", "index_day", "death_rel", incomplete=late, died_before=dead, keep=~late & ~dead
    )


def offence_groups(offences: ir.Table, base: ir.Table, params: ir.Table) -> ir.Table:
    """Stage 2: offence rows counted by the flow's category, proven ones by person too.

    With d = offence day − index day an offence row is, in this order: of an *excluded*
    person; *on or before the index* (d ≤ 0); *after follow-up* (d > F); *late* (disposal
    after day F + W); *not proven* (the disposal code does not prove it); else a proven
    reoffence. Rows of people not in the people table never join.

    Returns
    -------
    ibis.expr.types.Table
        ``cat`` (:data:`PROVEN`, :data:`EXCLUDED`, … :data:`NOT_PROVEN`), ``pid`` (the
        person, for proven reoffences; else NULL), ``rows``, ``first`` (the smallest d: the day
        of the first proven reoffence) and ``after_death`` (rows dated after the person's
        death, an input error).
    """
    o = offences.select(
        o_pid=offences.pid,
        off_day=offences.off_day,
        disp_day=offences.disp_day,
        proven=offences.proven,
    )
    b = base
    j = o.join(b, o.o_pid == b.pid).select(
        *_person(b),
        rel=o.off_day - b.index_day,
        disp_rel=o.disp_day - b.index_day,
        proven=o.proven,
    )
    j = _with_options(j, params)
    cat = ibis.cases(
        (~j.keep, EXCLUDED),
        (j.rel <= 0, BEFORE),
        (j.rel > j.f, AFTER),
        (j.disp_rel > j.fw, LATE),
        (~j.proven, NOT_PROVEN),
        else_=PROVEN,
    )
    j = j.mutate(cat=cat)
    j = j.select(
        "cat",
        "rel",
        pid=ibis.ifelse(j.cat == PROVEN, j.pid, ibis.null(j.pid.type())),
        after_death=ibis.ifelse(j.death_rel.notnull() & (j.rel > j.death_rel), 1, 0),
    )
    return j.group_by(["cat", "pid"]).aggregate(
        rows=j.count(), first=j.rel.min(), after_death=j.after_death.sum()
    )


def custody_groups(
    custody: ir.Table, base: ir.Table, offences: ir.Table, params: ir.Table
) -> ir.Table:
    """Stage 3: custody spells by the flow's category, and each person's days in custody.

    Spells are clipped to follow-up, (0, F] relative to the index date; a spell of an
    excluded person is :data:`EXCLUDED`, one that is empty once clipped :data:`OUTSIDE` and
    the rest :data:`OVERLAPS`. A person's days in custody are the length of the union of
    their overlapping spells (overlapping or touching spells count once), found in one sweep:
    ordered by start, each spell adds the part of it after the furthest end of the spells
    before it (a running maximum, one window function). The sum does not depend on the order
    of spells that start and end on the same days, so every engine gives the same.

    Returns
    -------
    ibis.expr.types.Table
        ``cat``, ``pid``, ``rows`` (spells, for the flow's categories), ``days`` and ``inside``
        (for :data:`SPELLS`, one row per person: the days in custody, and those before the
        calendar ``time`` of :func:`outcomes`, removed from it with ``at_risk="free"``).
    """
    c = custody.select(c_pid=custody.pid, start_day=custody.start_day, end_day=custody.end_day)
    b = base
    j = c.join(b, c.c_pid == b.pid).select(
        *_person(b),
        s=c.start_day - b.index_day,
        e=c.end_day - b.index_day,
    )
    j = _with_options(j, params)
    j = j.mutate(s=_clip(j.s, j.f), e=_clip(j.e, j.f))
    cat = ibis.cases((~j.keep, EXCLUDED), (j.e <= j.s, OUTSIDE), else_=OVERLAPS)
    counts = j.group_by(cat=cat).aggregate(rows=j.count())
    counts = counts.select(
        "cat",
        pid=ibis.null(j.pid.type()),
        rows="rows",
        days=ibis.null("int64"),
        inside=ibis.null("int64"),
    )

    spells = j.filter(j.keep & (j.e > j.s)).select("pid", "f", "death_rel", "s", "e")
    earlier = ibis.window(group_by=spells.pid, order_by=[spells.s, spells.e], rows=(None, -1))
    spells = spells.mutate(reach=spells.e.max().over(earlier))
    # the part of the spell no earlier spell covers: (max(s, reach), e]
    spells = spells.mutate(new=ibis.greatest(spells.s, spells.reach.fill_null(spells.s)))
    proven = offences.filter(offences.cat == PROVEN).select(o_pid="pid", first="first")
    spells = spells.left_join(proven, spells.pid == proven.o_pid)
    time = _calendar_time(spells.first, spells.f, spells.death_rel)
    per_person = spells.group_by("pid").aggregate(
        days=ibis.greatest(spells.e - spells.new, 0).sum(),
        inside=ibis.greatest(ibis.least(spells.e, time) - spells.new, 0).sum(),
    )
    per_person = per_person.select(
        cat=ibis.literal(SPELLS, counts.cat.type()),
        pid=per_person.pid,
        rows=ibis.null("int64"),
        days=per_person.days.cast("int64"),
        inside=per_person.inside.cast("int64"),
    )
    return counts.union(per_person)


def _calendar_time(
    first: ir.IntegerValue, f: ir.IntegerValue, death_rel: ir.IntegerValue
) -> ir.IntegerValue:
    """d of the first proven reoffence, else censored at F or earlier at death."""
    return ibis.ifelse(first.notnull(), first, ibis.least(f, death_rel.fill_null(f)))


def outcomes(
    base: ir.Table, offences: ir.Table, custody: ir.Table | None, params: ir.Table
) -> ir.Table:
    """The people kept in the cohort: ``pid``, ``time``, ``event``, ``n_reoffences``,
    ``days_in_custody``.

    ``time`` is d of the first proven reoffence (``event`` 1), else the person is censored
    at F or earlier at death; with ``at_risk="free"`` the days in custody before it are
    removed.
    """
    b = base.filter(base.keep).select("pid", "death_rel")
    o = offences.filter(offences.cat == PROVEN).select(o_pid="pid", rows="rows", first="first")
    out = b.left_join(o, b.pid == o.o_pid).select(
        "pid",
        "death_rel",
        n_reoffences=o.rows.fill_null(0),
        first=o.first,
    )
    if custody is not None:
        c = custody.filter(custody.cat == SPELLS).select(c_pid="pid", days="days", inside="inside")
        out = out.left_join(c, out.pid == c.c_pid).select(
            *(out[col] for col in out.columns),
            days_in_custody=c.days.fill_null(0),
            inside=c.inside.fill_null(0),
        )
    else:
        out = out.mutate(days_in_custody=ibis.literal(0, "int64"), inside=ibis.literal(0, "int64"))
    out = _with_options(out, params)
    time = _calendar_time(out.first, out.f, out.death_rel)
    return out.select(
        "pid",
        time=(time - ibis.ifelse(out.free, out.inside, 0)).cast("int64"),
        event=ibis.ifelse(out.n_reoffences > 0, 1, 0).cast("int64"),
        n_reoffences=out.n_reoffences.cast("int64"),
        days_in_custody=out.days_in_custody.cast("int64"),
    )


def flow_counts(
    base: ir.Table, offences: ir.Table, custody: ir.Table | None, params: ir.Table
) -> ir.Table:
    """The exclusion flow's counts, one row (columns :data:`FLOW_COUNTS`).

    Rows of offences, custody and deaths whose person is not in the people table never reach
    the stages; they are the input count minus ``*_matched``.
    """
    b = _with_options(base, params)
    has_death = b.death_rel.notnull()
    people = b.aggregate(
        n_people=b.count(),
        incomplete=_n(b.incomplete),
        died_before=_n(b.died_before),
        death_matched=_n(has_death),
        death_excluded=_n(has_death & ~b.keep),
        death_after=_n(has_death & b.keep & (b.death_rel > b.f)),
    )
    o = offences
    off = o.aggregate(
        off_matched=o.rows.sum().fill_null(0),
        off_excluded=_total(o.rows, o.cat == EXCLUDED),
        off_before=_total(o.rows, o.cat == BEFORE),
        off_after=_total(o.rows, o.cat == AFTER),
        off_late=_total(o.rows, o.cat == LATE),
        off_not_proven=_total(o.rows, o.cat == NOT_PROVEN),
        off_proven=_total(o.rows, o.cat == PROVEN),
        off_after_death=o.after_death.sum().fill_null(0),
    )
    out = people.cross_join(off)
    if custody is not None:
        c = custody
        cus = c.aggregate(
            cus_matched=_total(c.rows, c.cat != SPELLS),
            cus_excluded=_total(c.rows, c.cat == EXCLUDED),
            cus_outside=_total(c.rows, c.cat == OUTSIDE),
        )
        out = out.cross_join(cus)
    else:
        out = out.mutate(cus_matched=0, cus_excluded=0, cus_outside=0)
    return out.select(*(out[k].cast("int64").name(k) for k in FLOW_COUNTS))


def offending_rows(
    people: ir.Table,
    offences: ir.Table,
    custody: ir.Table | None,
    deaths: ir.Table | None,
) -> dict[str, ir.Table]:
    """The rows a warning or an error names, when :func:`flow_counts` says there are some.

    ``unknown_offences``, ``unknown_custody``, ``unknown_deaths``: rows whose ``pid`` is not in
    the people table (an anti-join); ``after_death``: offences dated after the person's death
    (an input error). Each keeps its table's columns.
    """
    out = {"unknown_offences": offences.anti_join(people, offences.pid == people.pid)}
    if custody is not None:
        out["unknown_custody"] = custody.anti_join(people, custody.pid == people.pid)
    if deaths is not None:
        out["unknown_deaths"] = deaths.anti_join(people, deaths.pid == people.pid)
        d = deaths.select(d_pid=deaths.pid, death_day=deaths.death_day)
        known = offences.semi_join(people, offences.pid == people.pid)
        j = known.join(d, known.pid == d.d_pid)
        out["after_death"] = j.filter(j.off_day > j.death_day).select(*offences.columns)
    return out
