"""Harrell's concordance of a Cox fit with R's counting and infinitesimal-jackknife SE.

Counts follow survival's ``concordance3`` (``concordance4`` for ``(start, stop]`` data) and
``concordancefit`` (time weight "n"): O(n log n) through weighted dominance counts on sorted
merges, with no loop over rows.

References
----------
Harrell, F. E., Lee, K. L. & Mark, D. B. (1996). Multivariable prognostic models. Stat Med
15(4), 361–387. doi:10.1002/(SICI)1097-0258(19960229)15:4<361::AID-SIM168>3.0.CO;2-4
Therneau, T. M. & Atkinson, E. The concordance statistic. Vignette of the R package survival.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalkit.results import Result

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival.cox.riskset import SortedData

__all__ = ["Concordance", "concordance"]


@dataclass(frozen=True, eq=False, repr=False)
class Concordance(Result):
    """Harrell's concordance of a Cox fit, as ``coxph(...)$concordance`` in R.

    Attributes
    ----------
    estimate
        Proportion of comparable pairs in which the person with the higher risk score fails
        first; pairs tied on the risk score count one half.
    se
        Standard error (R's ``std``): infinitesimal jackknife, summed within clusters when the
        fit had a cluster.
    concordant, discordant, tied_x, tied_y, tied_xy
        Weighted pair counts as R reports them (``tied_y``: events at the same time with
        different scores; ``tied_xy``: same time and same score). Only concordant, discordant
        and tied_x pairs enter the estimate.
    """

    _title = "Concordance (Harrell's C)"

    estimate: float
    se: float
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float

    def to_frame(self) -> pd.DataFrame:
        """One row: ``estimate, se, concordant, discordant, tied_x, tied_y, tied_xy``."""
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self)}])


def _prefix_less(
    m_h: np.ndarray, m_item: np.ndarray, m_w: np.ndarray, q_pos: np.ndarray, n_h: int
) -> np.ndarray:
    """Weighted 2-d dominance counts on a key-sorted merge of items and queries.

    ``m_h``, ``m_item`` and ``m_w`` describe a merged array of items and queries sorted by key,
    with every query placed before the items of equal key (query weights are 0). For the query
    at merged position ``q_pos[j]`` the result is Σ w over items that come earlier in the merge
    (smaller key) and have a smaller ``h``.

    The prefix h < h_q is split into aligned blocks of 2^ℓ values of h (ℓ = 0..log2 n_h): at
    level ℓ a query whose bit ℓ of h_q is set needs the items of block (h_q >> ℓ) − 1 that come
    before it. A stable (radix) sort by block keeps key order inside each block, so a cumulative
    sum answers every query of the level at once: O(N log n_h) with no loop over rows.
    """
    out = np.zeros(q_pos.size)
    m_h = m_h.astype(np.int32)
    q_h = m_h[q_pos]
    is_q = (~m_item).astype(np.int32)
    n_levels = max(1, int(n_h).bit_length())
    small = n_h + 2 < np.iinfo(np.int16).max
    for lev in range(n_levels):
        active = ((q_h >> lev) & 1).astype(bool)
        if not active.any():
            continue
        qa = q_pos[active]
        shifted = m_h >> lev
        # items in odd blocks are never asked for at this level; a query needs block - 1
        keep = m_item & ((shifted & 1) == 0)
        keep[qa] = True
        idx = np.flatnonzero(keep)
        b = (shifted[idx] - is_q[idx]) >> 1  # even blocks only: halve the ids
        b = b.astype(np.int16) if small else b
        perm = np.argsort(b, kind="stable")
        w_idx = m_w[idx]
        ws = w_idx[perm]
        cs = np.cumsum(ws) - ws  # item weight before each sorted position (all blocks)
        block_w = np.bincount(b, weights=w_idx)
        before_block = np.cumsum(block_w) - block_w
        where = np.empty(idx.size, dtype=np.int64)
        where[perm] = np.arange(idx.size)
        qi = (np.cumsum(keep) - 1)[qa]  # position of each active query within idx
        out[active] += cs[where[qi]] - before_block[b[qi]]
    return out


def _run_sum(
    run_item: np.ndarray,
    val_item: np.ndarray,
    w_item: np.ndarray,
    run_q: np.ndarray,
    lo_q: np.ndarray,
    hi_q: np.ndarray,
    width: int,
) -> np.ndarray:
    """Per query: Σ w over items of the query's run with lo ≤ value < hi (values in [0, width))."""
    key = run_item.astype(np.int64) * width + val_item
    srt = np.argsort(key, kind="stable")
    key = key[srt]
    cw = np.concatenate([[0.0], np.cumsum(w_item[srt])])
    base = run_q.astype(np.int64) * width
    return cw[np.searchsorted(key, base + hi_q)] - cw[np.searchsorted(key, base + lo_q)]


def _dominance(
    h: np.ndarray,
    w: np.ndarray,
    items: np.ndarray,
    q_pos: np.ndarray,
    it_pos: np.ndarray,
    q_h: np.ndarray,
    n_h: int,
) -> np.ndarray:
    """:func:`_prefix_less` on a merge given by the positions of queries and items."""
    N = q_pos.size + it_pos.size
    m_h = np.empty(N, dtype=np.int64)
    m_item = np.zeros(N, dtype=bool)
    m_w = np.zeros(N)
    m_h[q_pos] = q_h
    m_h[it_pos] = h[items]
    m_item[it_pos] = True
    m_w[it_pos] = w[items]
    return _prefix_less(m_h, m_item, m_w, q_pos, n_h)


def _not_yet_entered(
    des: SortedData,
    ent_s: np.ndarray,
    g_s: np.ndarray,
    w_s: np.ndarray,
    dpos: np.ndarray,
    run_id: np.ndarray,
    merges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The pairs that right-censored counting would include but delayed entry excludes.

    A row j is not at risk at an event time t when start_j ≥ t, i.e. when t belongs to a group
    before ``ent_j`` (such a row always stops after t, so it was counted as a later row). Returns
    (total, smaller score, equal score) sums (a) per event d over rows j of its stratum with
    ``ent_j > grp_d``, and (b) per row i over events d of its stratum with ``grp_d < ent_i``
    (survival's ``concordance4`` removes these rows from its tree at their start time).
    Arrays are in the score order of :func:`concordance`; ``merges`` are its merge positions.
    """
    n = g_s.size
    G = des.n_groups
    pos = np.arange(n)
    g_d = g_s[dpos]
    wd = w_s[dpos]
    first = des.g_first[g_s]
    # (a) per event d: rows j with ent_j > grp_d (ent_j never exceeds the stratum's groups)
    cum_ent = np.concatenate([[0.0], np.cumsum(np.bincount(ent_s, weights=w_s, minlength=G + 1))])
    tot_a = cum_ent[des.g_end[g_d]] - cum_ent[g_d + 1]
    q_a, it_a, q_b, it_b = merges
    less_a = _dominance(G - ent_s, w_s, pos, q_a, it_a, G - g_d, G + 1)
    eq_a = _run_sum(run_id, ent_s, w_s, run_id[dpos], g_d + 1, np.full(dpos.size, G + 1), G + 2)
    # (b) per row i: events d with grp_d < ent_i (events of earlier strata have smaller scores)
    dcum_g = np.concatenate([[0.0], np.cumsum(np.bincount(g_d, weights=wd, minlength=G))])
    tot_b = dcum_g[ent_s] - dcum_g[first]
    less_b = _dominance(g_s, w_s, dpos, q_b, it_b, ent_s, G + 1) - dcum_g[first]
    eq_b = _run_sum(run_id[dpos], g_d, wd, run_id, np.zeros(n, dtype=np.int64), ent_s, G + 1)
    return (tot_a, less_a, eq_a), (tot_b, less_b, eq_b)


def concordance(des: SortedData, eta: np.ndarray, cluster_codes: np.ndarray | None) -> Concordance:
    """Harrell's C with R's counting (timewt "n") and infinitesimal-jackknife variance.

    Comparable pair (Harrell et al. 1996): an event at t and a row of the same stratum with time
    > t, or censored at t (and, for ``(start, stop]`` rows, start < t: at risk at t); events
    tied in time are not comparable; pairs tied on the score count 1/2. The counts and each
    row's influence follow survival's ``concordance3`` (``concordance4``) and
    ``concordancefit``: var = Σ_c (Σ_{i∈c} dfbeta_i)² / 4 with
    dfbeta_i = w_i [(c_i − d_i)/N − (c − d)/N² · (c_i + d_i + t_i)], where c_i, d_i, t_i are the
    weighted concordant, discordant and score-tied pairs row i belongs to.
    """
    n = des.n
    w = des.w
    ev = des.event
    # time index refined so that, within a tied time, events (2g) precede censored rows (2g+1)
    h = 2 * des.grp + (~ev).astype(np.int64)
    H = 2 * des.n_groups
    # one sort: stratum, then score, then h. "key" = dense rank of (stratum, score).
    srt = np.lexsort((h, eta, des.stratum))
    st_s, eta_s, h_s, ev_s, w_s = des.stratum[srt], eta[srt], h[srt], ev[srt], w[srt]
    pos = np.arange(n)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = (eta_s[1:] != eta_s[:-1]) | (st_s[1:] != st_s[:-1])
    run_starts = np.flatnonzero(new_key)
    run_id = np.cumsum(new_key) - 1
    run_start = run_starts[run_id]
    run_end = np.append(run_starts[1:], n)[run_id]
    new_blk = new_key.copy()
    new_blk[1:] |= h_s[1:] != h_s[:-1]
    blk_starts = np.flatnonzero(new_blk)
    blk_id = np.cumsum(new_blk) - 1
    blk_start = blk_starts[blk_id]
    blk_end = np.append(blk_starts[1:], n)[blk_id]
    wd_s = np.where(ev_s, w_s, 0.0)
    cw_all = np.concatenate([[0.0], np.cumsum(w_s)])
    cw_dead = np.concatenate([[0.0], np.cumsum(wd_s)])
    n_dead_before = np.concatenate([[0], np.cumsum(ev_s)])  # deaths at sorted positions < j
    dpos = np.flatnonzero(ev_s)

    # same score: (b) events with the same key and earlier h; (a) rows with the same key, later h
    eq_b = cw_dead[blk_start] - cw_dead[run_start]
    eq_a = (cw_all[run_end] - cw_all[blk_end])[dpos]

    # totals in the stratum: (a) all rows with h > h_d; (b) events with h < h_i
    g_s = des.grp[srt]
    first_h = 2 * des.g_first[g_s]
    end_h = 2 * des.g_end[g_s]
    wh = np.bincount(h_s, weights=w_s, minlength=H)
    cum_h = np.concatenate([[0.0], np.cumsum(wh)])
    tot_a = (cum_h[end_h] - cum_h[h_s + 1])[dpos]
    dwh = np.bincount(h_s, weights=wd_s, minlength=H)
    dcum_h = np.concatenate([[0.0], np.cumsum(dwh)])
    tot_b = dcum_h[h_s] - dcum_h[first_h]

    # smaller score: dominance counts on key-sorted merges (queries before equal-key items)
    # (a) queries = events, items = all rows, order reversed in h (h' = H-1-h: later times first)
    merges = (
        run_start[dpos] + n_dead_before[dpos],  # (a) queries = events
        pos + n_dead_before[run_end],  # (a) items = all rows
        pos + n_dead_before[run_start],  # (b) queries = all rows
        run_end[dpos] + n_dead_before[dpos],  # (b) items = events
    )
    q_a, it_a, q_b, it_b = merges
    less_a = _dominance((H - 1) - h_s, w_s, pos, q_a, it_a, (H - 1) - h_s[dpos], H)
    # rows of later strata have larger keys, so they never count as "smaller score" in (a)
    # (b) queries = all rows, items = events
    less_b = _dominance(h_s, w_s, dpos, q_b, it_b, h_s, H)
    # events of earlier strata have smaller keys and smaller h: remove them
    less_b -= dcum_h[first_h]
    if des.entry is not None:  # counting process: only pairs at risk at the event time
        ex_a, ex_b = _not_yet_entered(des, des.entry.ent[srt], g_s, w_s, dpos, run_id, merges)
        tot_a, less_a, eq_a = tot_a - ex_a[0], less_a - ex_a[1], eq_a - ex_a[2]
        tot_b, less_b, eq_b = tot_b - ex_b[0], less_b - ex_b[1], eq_b - ex_b[2]
    greater_a = tot_a - less_a - eq_a
    greater_b = tot_b - less_b - eq_b

    wd = w_s[dpos]
    # R's raw orientation: "concordant" when the longer survivor has the larger score
    c_raw = float(wd @ greater_a)
    d_raw = float(wd @ less_a)
    t_x = float(wd @ eq_a)
    npair = c_raw + d_raw + t_x
    imat0 = less_b
    imat1 = greater_b
    imat2 = eq_b
    imat0[dpos] += greater_a
    imat1[dpos] += less_a
    imat2[dpos] += eq_a
    somer = (c_raw - d_raw) / npair if npair > 0 else np.nan
    dfbeta = w_s * ((imat0 - imat1) / npair - (somer / npair) * (imat0 + imat1 + imat2))
    if cluster_codes is not None:
        dfbeta = np.bincount(cluster_codes[srt], weights=dfbeta)
    var = float(dfbeta @ dfbeta) / 4.0

    # tied on time (events only), and tied on both time and score
    dg = g_s[dpos]
    gw = np.bincount(dg, weights=wd, minlength=des.n_groups)
    gw2 = np.bincount(dg, weights=wd**2, minlength=des.n_groups)
    tied_y = float((gw @ gw - gw2.sum()) / 2.0)
    cell = blk_id[dpos]  # events in one (key, h) block share score and time
    cw_ = np.bincount(cell, weights=wd)
    cw2 = np.bincount(cell, weights=wd**2)
    tied_xy = float((cw_ @ cw_ - cw2.sum()) / 2.0)
    # coxph reverses the orientation (higher risk score = shorter survival)
    return Concordance(
        estimate=float(1.0 - (somer + 1.0) / 2.0),
        se=float(np.sqrt(var)),
        concordant=d_raw,
        discordant=c_raw,
        tied_x=t_x,
        tied_y=tied_y - tied_xy,
        tied_xy=tied_xy,
    )
