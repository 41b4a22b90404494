"""The greedy nearest-neighbour search behind :func:`evalkit.match`.

Greedy matching (Rosenbaum & Rubin 1985; Austin 2011) as MatchIt's classic C++ routine
``nn_matchC``: focal units are processed in order and each takes the nearest still-available
unit of the other arm (ties: the earliest row) within the caliper and its exact-matching cell.
The pool is sorted once by (cell, distance); "next available" pointer arrays with path halving
(a union–find structure) find the nearest available unit on each side in amortised O(log n),
so there is no n₁ × n₀ distance matrix. Matching with replacement has no dependence between
focal units and is vectorised.

References
----------
Rosenbaum PR, Rubin DB (1985). Constructing a control group using multivariate matched sampling
methods that incorporate the propensity score. *The American Statistician* 39(1):33–38.
doi:10.1080/00031305.1985.10479383

Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.
doi:10.1080/00273171.2011.568786

Ho DE, Imai K, King G, Stuart EA (2011). MatchIt: nonparametric preprocessing for parametric
causal inference. *Journal of Statistical Software* 42(8). doi:10.18637/jss.v042.i08
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["_Pool", "_greedy", "_k_nearest", "_prepare_pool", "shortfall_reasons"]


@dataclass(frozen=True)
class _Pool:
    """Pool (candidate-match) units sorted two ways for one-dimensional nearest-neighbour search.

    ``asc`` holds pool rows sorted by (cell, distance ascending, row); ``desc`` by (cell,
    distance descending, row). For a focal unit, the pool units in its cell with a distance at or
    above its own start at ``right_start`` in ``asc``; those strictly below start at
    ``left_start`` in ``desc``. Walking each array forwards therefore visits candidates from
    nearest to farthest on that side, and among equal distances from the earliest row.
    """

    asc: np.ndarray
    desc: np.ndarray
    right_start: np.ndarray
    right_end: np.ndarray
    left_start: np.ndarray
    left_end: np.ndarray


def _prepare_pool(d: np.ndarray, cells: np.ndarray, focal: np.ndarray, pool: np.ndarray) -> _Pool:
    uniq, rank = np.unique(d, return_inverse=True)
    R = np.int64(len(uniq))
    rank = rank.astype(np.int64)
    cp, rp = cells[pool], rank[pool]
    o_asc = np.lexsort((pool, rp, cp))
    o_desc = np.lexsort((pool, -rp, cp))
    asc_key = (cp * R + rp)[o_asc]
    desc_key = (cp * R + (R - 1 - rp))[o_desc]
    cf, rf = cells[focal], rank[focal]
    return _Pool(
        asc=pool[o_asc],
        desc=pool[o_desc],
        right_start=np.searchsorted(asc_key, cf * R + rf, side="left"),
        right_end=np.searchsorted(asc_key, (cf + 1) * R, side="left"),
        left_start=np.searchsorted(desc_key, cf * R + (R - 1 - rf), side="right"),
        left_end=np.searchsorted(desc_key, (cf + 1) * R, side="left"),
    )


def _k_nearest(d: np.ndarray, focal: np.ndarray, pool: _Pool, k: int, caliper: float) -> np.ndarray:
    """The k nearest pool units of each focal unit in the *full* pool (matching with
    replacement): vectorised, no search beyond k candidates on each side.

    Returns an (n_focal, k) array of row positions, nearest first (ties: earliest row), -1 where
    fewer than k pool units are within the caliper.
    """
    m = len(focal)
    n0 = len(pool.asc)
    steps = np.arange(k)
    pos_r = pool.right_start[:, None] + steps
    pos_l = pool.left_start[:, None] + steps
    ok_r = pos_r < pool.right_end[:, None]
    ok_l = pos_l < pool.left_end[:, None]
    rows_r = pool.asc[np.minimum(pos_r, n0 - 1)] if n0 else np.zeros_like(pos_r)
    rows_l = pool.desc[np.minimum(pos_l, n0 - 1)] if n0 else np.zeros_like(pos_l)
    t = d[focal][:, None]
    dist_r = np.where(ok_r, np.abs(d[rows_r] - t), np.inf)
    dist_l = np.where(ok_l, np.abs(d[rows_l] - t), np.inf)
    rows = np.concatenate([rows_r, rows_l], axis=1)
    dist = np.concatenate([dist_r, dist_l], axis=1)
    big = np.iinfo(np.int64).max
    rows_key = np.where(np.isfinite(dist), rows, big)
    order = np.lexsort((rows_key, dist), axis=-1)[:, :k]
    take = np.arange(m)[:, None]
    best_rows = rows[take, order]
    best_dist = dist[take, order]
    valid = np.isfinite(best_dist) & (best_dist <= caliper)
    return np.where(valid, best_rows, -1)


def _greedy(
    d: np.ndarray, focal: np.ndarray, pool: _Pool, k: int, caliper: float, n: int
) -> np.ndarray:
    """MatchIt's classic greedy nearest-neighbour matching without replacement.

    ``focal`` lists the focal units in processing order. In round r = 1..k each focal unit, in
    that order, takes the nearest pool unit still available (ties: earliest row) if it is within
    the caliper. Availability is kept in two "next available" arrays (one per sort direction)
    with path halving, so finding the nearest available unit on each side costs amortised
    O(log n) and nothing is ever compared with more than two candidates; the whole match is
    O((n_focal · k + n_pool) log n) after the sort. Returns (n_focal, k) row positions or -1.
    """
    n_focal = len(focal)
    n0 = len(pool.asc)
    out = np.full((n_focal, k), -1, dtype=np.int64)
    if n0 == 0 or n_focal == 0:
        return out
    pos_in_asc = np.empty(n, dtype=np.int64)
    pos_in_asc[pool.asc] = np.arange(n0)
    pos_in_desc = np.empty(n, dtype=np.int64)
    pos_in_desc[pool.desc] = np.arange(n0)
    asc_rows = pool.asc.tolist()
    desc_rows = pool.desc.tolist()
    asc_d = d[pool.asc].tolist()
    desc_d = d[pool.desc].tolist()
    asc_to_desc = pos_in_desc[pool.asc].tolist()
    desc_to_asc = pos_in_asc[pool.desc].tolist()
    nxt_a = list(range(n0 + 1))  # next available position at or after i (n0 = none)
    nxt_d = list(range(n0 + 1))
    rs = pool.right_start.tolist()
    re_ = pool.right_end.tolist()
    ls = pool.left_start.tolist()
    le = pool.left_end.tolist()
    td = d[focal].tolist()
    inf = math.inf
    active = list(range(n_focal))
    for r in range(k):
        chosen = [-1] * n_focal
        still = []
        for i in active:
            t = td[i]
            # nearest available at or above t (earliest row among equal distances)
            j = rs[i]
            while nxt_a[j] != j:
                nxt_a[j] = nxt_a[nxt_a[j]]
                j = nxt_a[j]
            dr = abs(asc_d[j] - t) if j < re_[i] else inf
            # nearest available strictly below t
            h = ls[i]
            while nxt_d[h] != h:
                nxt_d[h] = nxt_d[nxt_d[h]]
                h = nxt_d[h]
            dl = abs(t - desc_d[h]) if h < le[i] else inf
            if dl < dr or (dl == dr and dl != inf and desc_rows[h] < asc_rows[j]):
                if dl > caliper:
                    continue
                a, b = desc_to_asc[h], h
                chosen[i] = desc_rows[h]
            else:
                if dr == inf or dr > caliper:  # no candidate on either side, or too far
                    continue
                a, b = j, asc_to_desc[j]
                chosen[i] = asc_rows[j]
            nxt_a[a] = a + 1
            nxt_d[b] = b + 1
            still.append(i)
        out[:, r] = chosen
        active = still  # a unit left without a match now cannot get one in a later round
    return out


def shortfall_reasons(
    d: np.ndarray,
    cells: np.ndarray,
    focal: np.ndarray,
    pool: _Pool,
    n_matches: np.ndarray,
    short: np.ndarray,
    ratio: int,
    caliper: float,
    pool_name: str,
) -> np.ndarray:
    """Why each focal unit in ``short`` (positions in ``focal``) got fewer than ``ratio`` matches.

    No unit of the other arm in its exact cell; none within the caliper; fewer than ``ratio``
    within reach; or those within reach were used by earlier matches.
    """
    reasons = np.empty(len(short), dtype=object)
    if not len(short):
        return reasons
    pool_per_cell = np.bincount(cells[pool.asc], minlength=int(cells.max()) + 1)
    sub_pool = _Pool(
        asc=pool.asc,
        desc=pool.desc,
        right_start=pool.right_start[short],
        right_end=pool.right_end[short],
        left_start=pool.left_start[short],
        left_end=pool.left_end[short],
    )
    reach = (_k_nearest(d, focal[short], sub_pool, ratio, caliper) >= 0).sum(axis=1)
    for i, (u, got, r) in enumerate(zip(short, n_matches[short], reach, strict=True)):
        if pool_per_cell[cells[focal[u]]] == 0:
            reasons[i] = f"no {pool_name} unit in its exact-matching cell"
        elif r == 0:
            reasons[i] = f"no {pool_name} unit within the caliper"
        elif got == r:
            reasons[i] = (
                f"only {r} {pool_name} unit{'s' if r != 1 else ''} within reach "
                "(exact cell and caliper)"
            )
        else:
            reasons[i] = (
                f"{pool_name} units within reach were used by earlier matches "
                "(matching without replacement)"
            )
    return reasons
