"""Counting-process ``(start, stop]`` data for the Cox engine: delayed entry and time-varying rows.

With a ``start`` column each row is at risk on ``(start, stop]`` (R's
``Surv(start, stop, event)``; Andersen & Gill 1982). The engine keeps its rows sorted by
(stratum, stop) and its risk-set sums as reverse cumulative sums over tied stop times; this module
supplies the correction for rows that have not yet entered. For an event time t of stratum s,

    Σ_{start_i < t ≤ stop_i} v_i  =  Σ_{stop_i ≥ t} v_i  −  Σ_{start_i ≥ t} v_i,

because start_i ≥ t implies stop_i > t. The second sum is again a reverse cumulative sum, over
event times, of the rows bucketed by the last event time at or before their entry (located once
with ``searchsorted``). Per-row sums over the event times at which a row is at risk (the
information, the score residuals, ``cox.zph``) become differences of one cumulative sum over
tied-time groups, taken at the row's stop and at its start. Nothing loops over rows.

References
----------
Andersen, P. K. & Gill, R. D. (1982). Cox's regression model for counting processes: a large
sample study. Annals of Statistics 10(4), 1100–1120. doi:10.1214/aos/1176345976
Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model,
ch. 3. Springer. doi:10.1007/978-1-4757-3294-8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import InputError
from evalkit.schema import check_event, check_numeric, check_positive, require_columns, row_ids

__all__ = ["Entry", "km_at_risk", "make_entry", "validate_counting"]


def validate_counting(
    df: pd.DataFrame,
    *,
    start: str,
    time: str,
    event: str,
    weights: str | None,
    table: str,
) -> dict[str, np.ndarray]:
    """Check ``(start, stop]`` survival columns; return start, time, event (and weights).

    Times may be negative (e.g. days relative to an index date), but every row needs a finite
    ``start < stop``: a row whose interval is empty is an :class:`InputError` naming the rows.
    """
    require_columns(df, [start, time, event, weights], table=table)
    if start in (time, event):
        raise InputError(
            "start", f"must differ from the time and event columns (got '{start}')", argument=True
        )
    out = {
        "start": check_numeric(df, start, table=table),
        "time": check_numeric(df, time, table=table),
        "event": check_event(df, event, table=table),
    }
    bad = out["start"] >= out["time"]
    if bad.any():
        raise InputError(
            start,
            f"must be less than '{time}': each row is at risk on the interval (start, stop], "
            "which is empty when start ≥ stop",
            row_ids(df, bad),
            table=table,
        )
    if weights is not None:
        out["weights"] = check_positive(df, weights, table=table)
    return out


def _seg_revcumsum(values: np.ndarray, seg_end: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum along axis 0, restarting at each segment (one past its end given)."""
    rc = np.cumsum(values[::-1], axis=0)[::-1]
    rc0 = np.concatenate([rc, np.zeros((1, *values.shape[1:]))])
    return rc0[:-1] - rc0[seg_end]


@dataclass
class Entry:
    """Where each row enters its risk sets, in the engine's (stratum, stop) order.

    ``ent[i]`` is the index of the first tied-time group of row i's stratum whose time exceeds
    ``start_i``: row i is at risk exactly at the groups ``ent[i] .. grp[i]``. Rows that have not
    entered by some event time of their stratum are bucketed by the last such event group
    (``sub_rows``, sorted by bucket, with ``b_starts``/``b_eg`` the runs and their event group).
    """

    start: np.ndarray  # sorted start times
    ent: np.ndarray  # per sorted row: first group at which it is at risk
    sub_rows: np.ndarray
    b_starts: np.ndarray
    b_eg: np.ndarray
    X_sub: np.ndarray  # X[sub_rows], Fortran order
    eg_end: np.ndarray  # per event group: one past the last event group of its stratum
    n_eg: int

    def sums(self, rw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per event group t: Σ rw_i and Σ rw_i x_i over rows of its stratum with start_i ≥ t."""
        p = self.X_sub.shape[1]
        b0 = np.zeros(self.n_eg)
        b1 = np.zeros((self.n_eg, p))
        if self.sub_rows.size:
            rs = rw[self.sub_rows]
            b0[self.b_eg] = np.add.reduceat(rs, self.b_starts)
            b1[self.b_eg] = np.add.reduceat(self.X_sub * rs[:, None], self.b_starts, axis=0)
        return _seg_revcumsum(b0, self.eg_end), _seg_revcumsum(b1, self.eg_end)

    def at_risk(self, per_group: np.ndarray, grp: np.ndarray) -> np.ndarray:
        """Per row: Σ of a per-group quantity over the groups at which the row is at risk."""
        cs0 = np.concatenate([np.zeros((1, *per_group.shape[1:])), np.cumsum(per_group, axis=0)])
        return cs0[grp + 1] - cs0[self.ent]


def make_entry(
    start_s: np.ndarray,
    stratum_s: np.ndarray,
    grp: np.ndarray,
    g_time: np.ndarray,
    g_stratum: np.ndarray,
    eg_grp: np.ndarray,
    X_s: np.ndarray,
) -> Entry:
    """Locate every row's entry among the (stratum, time) groups, and bucket the late entrants.

    Keys are exact integers (stratum, number of distinct group times ≤ the time), so every
    search runs over the short arrays of groups; with few (stratum, time) cells the searches
    become table look-ups.
    """
    values = np.unique(g_time)
    k = np.int64(values.size + 1)
    G = g_time.size
    g_key = g_stratum.astype(np.int64) * k + (np.searchsorted(values, g_time) + 1)
    s_key = stratum_s.astype(np.int64) * k + np.searchsorted(values, start_s, side="right")
    n_keys = int(g_stratum[-1] + 1) * int(k)
    if n_keys <= 4 * start_s.size + 4096:
        ent = np.searchsorted(g_key, np.arange(n_keys), side="right")[s_key]
    else:
        ent = np.searchsorted(g_key, s_key, side="right")  # groups with (stratum, time) ≤ entry

    # bucket: the last event group (of the row's own stratum) at or before the row's entry
    n_eg = eg_grp.size
    eg_stratum = g_stratum[eg_grp]
    eb = (np.searchsorted(eg_grp, np.arange(G + 1), side="left") - 1)[ent]
    valid = (eb >= 0) & (eg_stratum[np.maximum(eb, 0)] == stratum_s)
    rows = np.flatnonzero(valid)
    small = n_eg < np.iinfo(np.int16).max  # 16-bit keys: numpy's stable sort is a radix sort
    sub_eb = eb[rows].astype(np.int16) if small else eb[rows]
    perm = np.argsort(sub_eb, kind="stable")
    sub_rows = rows[perm]
    sub_eb = sub_eb[perm].astype(np.int64)
    new = np.ones(sub_rows.size, dtype=bool)
    new[1:] = sub_eb[1:] != sub_eb[:-1]
    b_starts = np.flatnonzero(new)

    s_new = np.ones(n_eg, dtype=bool)
    s_new[1:] = eg_stratum[1:] != eg_stratum[:-1]
    s_starts = np.flatnonzero(s_new)
    s_ends = np.append(s_starts[1:], n_eg)
    eg_end = s_ends[np.cumsum(s_new) - 1]
    return Entry(
        start=start_s,
        ent=ent,
        sub_rows=sub_rows,
        b_starts=b_starts,
        b_eg=sub_eb[b_starts],
        X_sub=np.asfortranarray(X_s[sub_rows]),
        eg_end=eg_end,
        n_eg=n_eg,
    )


def km_at_risk(
    time: np.ndarray, start: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted Kaplan–Meier with delayed entry: the unique stop times and S at each.

    At risk at t: rows with start < t ≤ stop (R's ``survfit`` on ``Surv(start, stop, event)``).
    """
    ut, inv = np.unique(time, return_inverse=True)
    n_stop = np.bincount(inv, minlength=ut.size)[::-1].cumsum()[::-1]  # stop ≥ t
    n_late = start.size - np.searchsorted(np.sort(start), ut, side="left")  # start ≥ t
    d_at = np.bincount(inv, weights=event.astype(float), minlength=ut.size)
    at_risk = (n_stop - n_late).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(d_at > 0, 1.0 - d_at / at_risk, 1.0)
    return ut, np.cumprod(step)
