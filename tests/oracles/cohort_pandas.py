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

from evalkit._ids import _unknown_people
from evalkit.cohort import Cohort

# Argument checks, date-to-day conversion and the flow table's layout are the library's: the
# oracle is an independent implementation of the *rules* (which rows count), not of these.
from evalkit.cohort._frames import check_frames
from evalkit.cohort.build import check_options
from evalkit.cohort.result import _flow_table
from evalkit.errors import InputError
from evalkit.io import read_table
from evalkit.schema import row_ids

__all__ = ["proven_reoffending", "read_table"]


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

    The same arguments, rules, errors and result as :func:`evalkit.proven_reoffending` (its
    docstring is the specification, with the MoJ reference), computed here in pandas/numpy
    from the rules as written, not through the library's Ibis expressions. Input checks are
    the library's own (:func:`evalkit.cohort._frames.check_frames`): the oracle checks the
    rules, not the validation.
    """
    f_days, w_days, at_risk, proven_codes, other_codes, end_day = check_options(
        follow_up_days, waiting_days, at_risk, proven_disposals, other_disposals, data_end
    )

    # ---- validate the tables (the library's checks, in the library's order) ---------------
    v = check_frames(
        people, offences, custody, deaths, proven_codes=proven_codes, other_codes=other_codes
    )
    people, offences, custody, deaths = v.people, v.offences, v.custody, v.deaths
    index_day, off_day, disp_day, death_day = v.index_day, v.off_day, v.disp_day, v.death_day
    if v.custody_days is not None:
        c_start, c_end = v.custody_days
    disposal = offences["disposal"]

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
