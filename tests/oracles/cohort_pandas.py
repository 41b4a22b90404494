"""Oracle: the vectorised pandas/numpy implementation of the proven-reoffending rules.

This was ``evalkit/cohort.py`` until issue 12 moved the rules into Ibis expressions run by a
database engine (``evalkit/cohort/rules.py``). It is kept, unchanged in its rules, as an
independent oracle: ``tests/test_cohort_engines.py`` checks that the engines (embedded DuckDB
from pandas, DuckDB tables, Spark) give exactly this cohort and flow, beside the per-person,
per-day loop in ``tests/test_cohort.py``, and ``benchmarks/bench_cohort.py`` times it against
them. It returns evalkit's own :class:`~evalkit.cohort.Cohort`.

Everything is vectorised (``pandas.factorize``, ``numpy.bincount``, sorted-array
interval merging): a million people and a few million offences take seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from evalkit._ids import _check_same_id_kind, _unknown_people
from evalkit._options import check_choice
from evalkit.cohort import Cohort

# Argument checks, date-to-day conversion and the flow table's layout are the library's: the
# oracle is an independent implementation of the *rules* (which rows count), not of these.
from evalkit.cohort._frames import _check_table, _date_pair, _days
from evalkit.cohort.build import _codes, _data_end_day, _whole_days
from evalkit.cohort.result import _flow_table
from evalkit.errors import InputError
from evalkit.io import read_table
from evalkit.schema import (
    check_dates,
    check_no_missing,
    check_unique,
    row_ids,
)

__all__ = ["proven_reoffending", "read_table"]

OUTCOME_COLUMNS = ("time", "event", "reoffended", "n_reoffences", "days_in_custody")
"""Columns :func:`proven_reoffending` adds to the people table."""

FLOW_COLUMNS = ("table", "step", "reason", "n_removed", "n_remaining")

AT_RISK_CHOICES = ("calendar", "free")


# --------------------------------------------------------------------------------------------
# Cohort construction
# --------------------------------------------------------------------------------------------


def proven_reoffending(
    people: pd.DataFrame,
    offences: pd.DataFrame,
    custody: pd.DataFrame | None = None,
    deaths: pd.DataFrame | None = None,
    *,
    follow_up_days: int = 365,
    waiting_days: int = 182,
    data_end: Any = None,
    at_risk: str = "calendar",
    proven_disposals: Iterable[str] = ("conviction", "caution"),
    other_disposals: Iterable[str] = ("pnd", "community_resolution", "breach"),
) -> Cohort:
    """Build a proven-reoffending cohort (MoJ definition) with an exclusion flow.

    Parameters
    ----------
    people
        One row per person: ``person_id`` (unique), ``index_date`` (release from custody, or
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

    Returns
    -------
    Cohort
        ``data`` (one row per person), ``flow`` (every exclusion with its reason and count)
        and the parameters used; see :class:`Cohort`.

    Raises
    ------
    InputError
        Naming the table, column and rows (by ``person_id``) for: missing columns; missing or
        unparseable dates; duplicate ``person_id`` in ``people`` or ``deaths``; missing
        ``group`` or ``person_id``; disposal codes outside both lists; a disposal before its
        offence; a custody spell ending before it starts; an offence dated after the person's
        death; identifiers that are numbers in one table and text in another; outcome column
        names already used in ``people``; and invalid options.

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
    end_day = _data_end_day(data_end)

    # ---- validate the tables -------------------------------------------------------------
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

    if custody is not None:
        c_start, c_end = _date_pair(custody, "custody", "start", "end")
        _check_same_id_kind(people, custody, "custody")
    if deaths is not None:
        _check_table(deaths, "deaths", allow_empty=True)
        check_unique(deaths, "person_id", table="deaths")
        death_day = _days(check_dates(deaths, "date", table="deaths", id_col="person_id"))
        _check_same_id_kind(people, deaths, "deaths")

    # ---- people: exclusions ----------------------------------------------------------------
    n = len(people)
    ids = people["person_id"]
    no_death = np.iinfo(np.int64).max // 4
    death_rel = np.full(n, no_death, dtype=np.int64)  # day of death relative to index
    if deaths is not None and len(deaths):
        d_pos = _positions(ids, deaths["person_id"])
        d_known = d_pos >= 0
        death_rel[d_pos[d_known]] = death_day[d_known] - index_day[d_pos[d_known]]
    else:
        d_pos = np.empty(0, dtype=np.intp)

    incomplete = np.zeros(n, dtype=bool)
    if end_day is not None:
        incomplete = index_day + (f_days + w_days) > end_day
    died_before = (death_rel <= 0) & ~incomplete
    keep = ~incomplete & ~died_before

    # ---- offences ----------------------------------------------------------------------------
    o_pos = _positions(ids, offences["person_id"])
    o_unknown = o_pos < 0
    _unknown_people(ids, offences, o_unknown, "offences")
    o_safe = np.where(o_unknown, 0, o_pos)
    o_rel = off_day - index_day[o_safe]
    o_disp_rel = disp_day - index_day[o_safe]
    after_death = ~o_unknown & (o_rel > death_rel[o_safe])
    if after_death.any():
        raise InputError(
            "offence_date",
            "is after the person's date of death in the deaths table (check the linkage)",
            row_ids(offences, after_death, "person_id"),
            table="offences",
        )
    o_excluded = ~o_unknown & ~keep[o_safe]
    remaining = ~o_unknown & ~o_excluded
    o_before = remaining & (o_rel <= 0)
    remaining &= ~o_before
    o_after = remaining & (o_rel > f_days)
    remaining &= ~o_after
    o_late = remaining & (o_disp_rel > f_days + w_days)
    remaining &= ~o_late
    o_not_proven = remaining & ~disposal.isin(proven_codes).to_numpy()
    proven = remaining & ~o_not_proven

    p_pos = o_pos[proven]
    n_reoffences = np.bincount(p_pos, minlength=n).astype(np.int64)
    first = np.full(n, f_days + 1, dtype=np.int64)
    np.minimum.at(first, p_pos, o_rel[proven])
    event = n_reoffences > 0
    censor = np.minimum(f_days, death_rel)
    time = np.where(event, first, censor).astype(np.int64)

    # ---- custody -----------------------------------------------------------------------------
    days_in_custody = np.zeros(n, dtype=np.int64)
    custody_flow: list[tuple[str, str, int]] = []
    n_custody = 0 if custody is None else len(custody)
    if custody is not None and n_custody:
        c_pos = _positions(ids, custody["person_id"])
        c_unknown = c_pos < 0
        _unknown_people(ids, custody, c_unknown, "custody")
        c_safe = np.where(c_unknown, 0, c_pos)
        c_excluded = ~c_unknown & ~keep[c_safe]
        s = np.clip(c_start - index_day[c_safe], 0, f_days)
        e = np.clip(c_end - index_day[c_safe], 0, f_days)
        overlaps = ~c_unknown & ~c_excluded & (e > s)
        c_outside = ~c_unknown & ~c_excluded & ~overlaps
        b_pos, b_start, b_end = _merge_spells(c_pos[overlaps], s[overlaps], e[overlaps], f_days)
        days_in_custody = np.bincount(b_pos, weights=b_end - b_start, minlength=n).astype(np.int64)
        if at_risk == "free":
            inside = np.clip(np.minimum(b_end, time[b_pos]) - b_start, 0, None)
            time = time - np.bincount(b_pos, weights=inside, minlength=n).astype(np.int64)
        custody_flow = [
            ("unknown_person", _UNKNOWN, int(c_unknown.sum())),
            ("excluded_person", _EXCLUDED, int(c_excluded.sum())),
            (
                "outside_follow_up",
                "spell does not overlap the follow-up period",
                int(c_outside.sum()),
            ),
        ]
    else:
        custody_flow = [
            ("unknown_person", _UNKNOWN, 0),
            ("excluded_person", _EXCLUDED, 0),
            ("outside_follow_up", "spell does not overlap the follow-up period", 0),
        ]

    # ---- deaths (for the flow) -----------------------------------------------------------------
    n_deaths = 0 if deaths is None else len(deaths)
    if n_deaths:
        d_unknown = d_pos < 0
        if deaths is not None:  # always true here; for the type checker
            _unknown_people(ids, deaths, d_unknown, "deaths")
        d_safe = np.where(d_unknown, 0, d_pos)
        d_excluded = ~d_unknown & ~keep[d_safe]
        d_after = ~d_unknown & ~d_excluded & (death_rel[d_safe] > f_days)
        death_counts = (int(d_unknown.sum()), int(d_excluded.sum()), int(d_after.sum()))
    else:
        death_counts = (0, 0, 0)

    # ---- assemble ------------------------------------------------------------------------------
    kept = np.flatnonzero(keep)
    others = [c for c in people.columns if c not in ("person_id", "group")]
    data = people.iloc[kept][["person_id", "group", *others]].reset_index(drop=True)
    data["index_date"] = (
        pd.Series(index_day[kept].astype("datetime64[D]")).astype("datetime64[ns]").to_numpy()
    )
    data["time"] = time[kept]
    data["event"] = event[kept].astype(np.int64)
    data["reoffended"] = event[kept]
    data["n_reoffences"] = n_reoffences[kept]
    data["days_in_custody"] = days_in_custody[kept]

    end_text = "not given" if end_day is None else str(np.datetime64(end_day, "D"))
    flow = pd.concat(
        [
            _flow_table(
                "people",
                n,
                "people in the input table",
                [
                    (
                        "incomplete_follow_up",
                        f"follow-up plus waiting period ({f_days} + {w_days} days) ends after "
                        f"data_end ({end_text})",
                        int(incomplete.sum()),
                    ),
                    (
                        "died_before_index",
                        "died on or before the index date (no time at risk)",
                        int(died_before.sum()),
                    ),
                ],
                ("cohort", "people in the cohort"),
            ),
            _flow_table(
                "offences",
                len(offences),
                "offence rows in the input table",
                [
                    ("unknown_person", _UNKNOWN, int(o_unknown.sum())),
                    ("excluded_person", _EXCLUDED, int(o_excluded.sum())),
                    (
                        "on_or_before_index",
                        "offence on or before the index date (never counts)",
                        int(o_before.sum()),
                    ),
                    (
                        "after_follow_up",
                        f"offence after the {f_days}-day follow-up period",
                        int(o_after.sum()),
                    ),
                    (
                        "late_disposal",
                        f"disposal after the {w_days}-day waiting period "
                        f"(later than day {f_days + w_days})",
                        int(o_late.sum()),
                    ),
                    (
                        "not_proven",
                        f"disposal does not prove the offence ({', '.join(other_codes)})",
                        int(o_not_proven.sum()),
                    ),
                ],
                ("proven", "proven reoffences counted"),
            ),
            _flow_table(
                "custody",
                n_custody,
                "custody spells in the input table",
                custody_flow,
                ("overlaps_follow_up", "spells overlapping follow-up (in days_in_custody)"),
            ),
            _flow_table(
                "deaths",
                n_deaths,
                "deaths in the input table",
                [
                    ("unknown_person", _UNKNOWN, death_counts[0]),
                    ("excluded_person", _EXCLUDED, death_counts[1]),
                    (
                        "after_follow_up",
                        "death after the follow-up period (no effect)",
                        death_counts[2],
                    ),
                ],
                ("within_follow_up", "deaths within follow-up (censor unless reoffended)"),
            ),
        ],
        ignore_index=True,
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


_UNKNOWN = "person_id not in the people table"
_EXCLUDED = "person excluded from the cohort (see the people steps)"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _merge_spells(
    pos: np.ndarray, start: np.ndarray, end: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals [start, end] per person, vectorised.

    ``start`` and ``end`` lie in [0, width]. Offsetting each person's intervals by
    ``pos * (width + 1)`` makes one running maximum over the sorted rows serve every person:
    a row opens a new block when it starts after everything before it has ended.
    Returns the person position, start and end of each merged block.
    """
    if len(pos) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    order = np.lexsort((start, pos))
    pos, start, end = pos[order].astype(np.int64), start[order], end[order]
    offset = pos * (width + 1)
    key_start = start + offset
    key_end = end + offset
    run_max = np.maximum.accumulate(key_end)
    new_block = np.empty(len(pos), dtype=bool)
    new_block[0] = True
    new_block[1:] = key_start[1:] > run_max[:-1]
    firsts = np.flatnonzero(new_block)
    block_end = np.maximum.reduceat(key_end, firsts) - offset[firsts]
    return pos[firsts], start[firsts], block_end
