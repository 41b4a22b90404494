"""The greedy nearest-neighbour search behind :func:`evalkit.match`.

Greedy matching (Rosenbaum & Rubin 1985; Austin 2011) as MatchIt's classic C++ routine
``nn_matchC``: focal units are processed in order and each takes the nearest still-available
unit of the other arm (ties: the earliest row) within the caliper and its exact-matching cell.

The pool is sorted once by (cell, distance, row), so the pool units of a focal unit's cell at
or above its distance start at one position and those below end just before it: the nearest
unit is one of two neighbours, and there is no n₁ × n₀ distance matrix. Without replacement,
each round first finds every focal unit's nearest pool unit among those available when the
round starts (vectorised binary searches). That unit is still its choice when its turn comes
unless an earlier unit took it in the meantime (availability only shrinks), which a sequential
pass checks in O(1) per unit; only a unit whose first choice was taken searches again, through
"next available" / "previous available" pointer arrays with path halving (a union–find
structure; amortised O(log n) per search). Matching with replacement has no dependence between
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

Tarjan RE, van Leeuwen J (1984). Worst-case analysis of set union algorithms. *Journal of the
ACM* 31(2):245–281. doi:10.1145/62.2160
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["_Pool", "_greedy", "_k_nearest", "_prepare_pool", "shortfall_reasons"]


@dataclass(frozen=True)
class _Pool:
    """Pool (candidate-match) units sorted by (cell, distance, row) for nearest-neighbour search.

    ``asc`` holds the pool's row positions in that order, ``dist`` their distances and
    ``cells`` their exact-matching cells; ``group_start[p]`` is the first position of the run
    of units with the same cell and distance as position ``p`` (a tie group, rows ascending).
    For each focal unit, ``cell_start``/``cell_end`` delimit its cell in ``asc`` and ``start``
    is the first position in its cell with a distance at or above its own: the units at
    ``start``, ``start + 1``, … are its candidates above (nearest first, ties by row) and those
    before ``start`` its candidates below.
    """

    asc: np.ndarray
    dist: np.ndarray
    cells: np.ndarray
    group_start: np.ndarray
    start: np.ndarray
    cell_start: np.ndarray
    cell_end: np.ndarray

    @cached_property
    def desc(self) -> np.ndarray:
        """Pool rows sorted by (cell, distance descending, row).

        Tie groups in reverse order within each cell, rows ascending within a group: built by
        a permutation of ``asc``, not a sort. Walking it forwards from a focal unit's
        :attr:`left_start` visits its candidates below from nearest to farthest, ties by row.
        """
        n0 = len(self.asc)
        pos = np.arange(n0, dtype=np.int64)
        gs = self.group_start
        first = _run_starts(gs)
        group_end = _run_ends(first)
        cell_first = _run_starts(self.cells)
        cs = np.maximum.accumulate(np.where(cell_first, pos, 0))
        ce = _run_ends(cell_first)
        out = np.empty(n0, dtype=np.int64)
        out[cs + (ce - group_end) + (pos - gs)] = self.asc
        return out

    @property
    def left_start(self) -> np.ndarray:
        """Per focal unit: where its candidates below start in :attr:`desc`."""
        return np.asarray(self.cell_start + (self.cell_end - self.start))


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts."""
    out = np.ones(len(values), dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def _run_ends(starts: np.ndarray) -> np.ndarray:
    """For each position, one past the last position of its run (runs marked by ``starts``)."""
    bounds = np.r_[np.flatnonzero(starts), len(starts)]
    return np.repeat(bounds[1:], np.diff(bounds)).astype(np.int64)


def _search(sorted_values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``np.searchsorted(sorted_values, queries, side="left")`` with the queries sorted first:
    binary searches in increasing order stay in cache (several times faster on large arrays)."""
    if len(queries) < 1024:
        return np.searchsorted(sorted_values, queries, side="left")
    order = np.argsort(queries)
    out = np.empty(len(queries), dtype=np.int64)
    out[order] = np.searchsorted(sorted_values, queries[order], side="left")
    return out


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, faster: an unstable sort, then the members of each
    run of equal values put back in position order (only they are sorted again)."""
    order = np.argsort(values)
    s = values[order]
    tie = s[1:] == s[:-1]
    if tie.any():
        in_run = np.zeros(len(s), dtype=bool)
        in_run[1:] = tie
        in_run[:-1] |= tie
        idx = np.flatnonzero(in_run)
        run = np.cumsum(_run_starts(s[idx])).astype(np.int64)  # run number, increasing
        members = order[idx].astype(np.int64)
        order[idx] = members[np.argsort(run * np.int64(len(values)) + members)]
    return order


def _prepare_pool(d: np.ndarray, cells: np.ndarray, focal: np.ndarray, pool: np.ndarray) -> _Pool:
    """Sort the pool by (cell, distance, row) and locate each focal unit in it.

    The pool is sorted by (distance, row) once; with exact-matching cells, a stable sort by
    cell (a radix sort of small integers) then gives the (cell, distance, row) order, and the
    key cell × (n₀ + 1) + (position in distance order) increases along it, so one binary search
    locates a focal unit in its cell. ``pool`` must list row positions in increasing order.
    """
    n0 = len(pool)
    n_cells = int(cells.max()) + 1 if len(cells) else 1
    d_pool = d[pool]
    by_d = _stable_argsort(d_pool)
    d_sorted = d_pool[by_d]
    start = _search(d_sorted, d[focal])  # first position at or above the focal distance
    if n_cells == 1:
        asc = pool[by_d]
        cells_asc = np.zeros(n0, dtype=np.int64)
        cell_start = np.zeros(len(focal), dtype=np.int64)
        cell_end = np.full(len(focal), n0, dtype=np.int64)
        group_first = _run_starts(d_sorted)
    else:
        small = np.min_scalar_type(n_cells - 1)  # int8/int16 cells are radix sorted
        by_cell = np.argsort(cells[pool[by_d]].astype(small), kind="stable")
        asc = pool[by_d[by_cell]]
        cells_asc = cells[asc].astype(np.int64)
        stride = np.int64(n0 + 1)
        key_asc = cells_asc * stride + by_cell  # increasing along asc
        cf = cells[focal].astype(np.int64) * stride
        start = _search(key_asc, cf + start)
        cell_start = _search(key_asc, cf)
        cell_end = _search(key_asc, cf + stride)
        group_first = _run_starts(d_sorted[by_cell]) | _run_starts(cells_asc)
    pos = np.arange(n0, dtype=np.int64)
    if not group_first.all():  # ties: each position points to the first of its group
        pos = np.maximum.accumulate(np.where(group_first, pos, 0))
    return _Pool(
        asc=asc,
        dist=d[asc],
        cells=cells_asc,
        group_start=pos,
        start=start,
        cell_start=cell_start,
        cell_end=cell_end,
    )


def _k_nearest(
    d: np.ndarray,
    focal: np.ndarray,
    pool: _Pool,
    k: int,
    caliper: float,
    select: np.ndarray | None = None,
) -> np.ndarray:
    """The k nearest pool units of each focal unit in the *full* pool (matching with
    replacement): vectorised, no search beyond k candidates on each side.

    ``select`` restricts the search to those positions in ``focal``. Returns an
    (n_focal, k) array of row positions, nearest first (ties: earliest row), -1 where fewer than
    k pool units are within the caliper.
    """
    if select is None:
        select = np.arange(len(focal))
    m = len(select)
    n0 = len(pool.asc)
    steps = np.arange(k)
    end = pool.cell_end[select][:, None]
    pos_r = pool.start[select][:, None] + steps
    pos_l = pool.left_start[select][:, None] + steps
    ok_r = pos_r < end
    ok_l = pos_l < end
    desc = pool.desc if n0 else pool.asc
    rows_r = pool.asc[np.minimum(pos_r, n0 - 1)] if n0 else np.zeros_like(pos_r)
    rows_l = desc[np.minimum(pos_l, n0 - 1)] if n0 else np.zeros_like(pos_l)
    t = d[focal[select]][:, None]
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


def _first_choices(
    pool: _Pool, t: np.ndarray, units: np.ndarray, available: np.ndarray | None, caliper: float
) -> np.ndarray:
    """Each unit's nearest available pool unit (its position in ``pool.asc``), or -1 when none
    is within the caliper: the choice the greedy pass makes unless an earlier unit takes it.

    ``available`` flags the available positions (``None``: all are). Vectorised binary
    searches among the available positions. Ties between the nearest units above and below go
    to the earlier row; among equal distances below, to the earliest available row of the tie
    group.
    """
    start = pool.start[units]
    if available is None:  # every position is available: searches are the identity
        free = None
        m = len(pool.asc)
        idx = start
    else:
        free = np.flatnonzero(available)
        m = len(free)
        idx = _search(free, start)
    if m == 0 or not len(units):
        return np.full(len(units), -1, dtype=np.int64)

    def at(i: np.ndarray) -> np.ndarray:
        return i if free is None else free[i]

    above = at(np.minimum(idx, m - 1))
    ok_above = (idx < m) & (above < pool.cell_end[units])
    below = at(np.maximum(idx - 1, 0))
    ok_below = (idx > 0) & (below >= pool.cell_start[units])
    # the earliest available row of the tie group of `below` (which is itself available)
    first = pool.group_start[below]
    below = first if free is None else at(_search(free, first))
    tu = t[units]
    d_above = np.where(ok_above, np.abs(pool.dist[above] - tu), np.inf)
    d_below = np.where(ok_below, np.abs(tu - pool.dist[below]), np.inf)
    go_below = (d_below < d_above) | (
        (d_below == d_above) & np.isfinite(d_below) & (pool.asc[below] < pool.asc[above])
    )
    choice = np.where(go_below, below, above)
    dist = np.where(go_below, d_below, d_above)
    return np.where(np.isfinite(dist) & (dist <= caliper), choice, -1).astype(np.int64)


def _greedy(d: np.ndarray, focal: np.ndarray, pool: _Pool, k: int, caliper: float) -> np.ndarray:
    """MatchIt's classic greedy nearest-neighbour matching without replacement.

    ``focal`` lists the focal units in processing order. In round r = 1..k each focal unit, in
    that order, takes the nearest pool unit still available (ties: earliest row) if it is within
    the caliper. The choices made from the availability at the start of the round
    (:func:`_first_choices`) are confirmed in one sequential pass, O(1) per unit; a unit whose
    choice an earlier unit took searches again through "next available" / "previous
    available" pointers with path halving. Returns (n_focal, k) row positions or -1.
    """
    n_focal = len(focal)
    n0 = len(pool.asc)
    out = np.full((n_focal, k), -1, dtype=np.int64)
    if n0 == 0 or n_focal == 0:
        return out
    t = d[focal]
    # Index q = position + 1, with sentinels at 0 (nothing below) and n0 + 1 (nothing above)
    # that are always "available". A taken q points right to nxt[q] and left to prv[q]; the
    # searches halve the paths they walk.
    available = np.ones(n0 + 2, dtype=np.uint8)
    nxt_arr = np.arange(1, n0 + 3, dtype=np.int64)
    prv_arr = np.arange(-1, n0 + 1, dtype=np.int64)
    # memoryviews (ndarray.data): indexing them from Python costs what a list does, making
    # them nothing. dist, rows and first are indexed by position (q - 1).
    av, nxt, prv = available.data, nxt_arr.data, prv_arr.data
    dist, rows, first = pool.dist.data, pool.asc.data, pool.group_start.data
    start = (pool.start + 1).tolist()
    lo = (pool.cell_start + 1).tolist()  # first q of the unit's cell
    hi = (pool.cell_end + 1).tolist()  # one past its last q
    tl = t.tolist()
    inf = math.inf
    remaining = n0
    chosen_arr = np.zeros(n_focal, dtype=np.int64)  # chosen q, 0 = none
    chosen = chosen_arr.data
    active = np.arange(n_focal, dtype=np.int64)
    for r in range(k):
        free = None if r == 0 else available[1:-1].view(bool)
        guess = (_first_choices(pool, t, active, free, caliper) + 1).tolist()
        chosen_arr[:] = 0
        for i, c in zip(active.tolist(), guess, strict=True):
            if c == 0:  # nothing within reach now: nothing later either (availability shrinks)
                continue
            if not av[c]:  # an earlier unit took it: search the units still available
                j = _find(av, nxt, start[i])  # nearest available at or above
                dr = abs(dist[j - 1] - tl[i]) if j < hi[i] else inf
                h = _find(av, prv, start[i] - 1)  # nearest available below
                if h >= lo[i]:
                    h = _find(av, nxt, first[h - 1] + 1)  # earliest available among its ties
                    dl = abs(tl[i] - dist[h - 1])
                else:
                    dl = inf
                if dl < dr or (dl == dr and dl != inf and rows[h - 1] < rows[j - 1]):
                    if dl > caliper:
                        continue
                    c = h
                else:
                    if dr == inf or dr > caliper:
                        continue
                    c = j
            av[c] = 0
            chosen[i] = c
            remaining -= 1
            if not remaining:  # the pool is used up: no later unit gets a match
                break
        active = np.flatnonzero(chosen_arr)  # a unit without a match now gets none later
        out[active, r] = pool.asc[chosen_arr[active] - 1]
    return out


def _find(av: memoryview, ptr: memoryview, q: int) -> int:
    """The first available index reached from ``q`` by following ``ptr`` (the "next" or
    "previous available" pointers), halving the path it walks (Tarjan & van Leeuwen 1984)."""
    while not av[q]:
        nq = ptr[q]
        if av[nq]:
            return int(nq)
        g = ptr[nq]
        ptr[q] = g
        q = g
    return q


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
    reach = (_k_nearest(d, focal, pool, ratio, caliper, select=short) >= 0).sum(axis=1)
    got = n_matches[short]
    no_cell = pool_per_cell[cells[focal[short]]] == 0
    none_near = ~no_cell & (reach == 0)
    few_near = ~no_cell & ~none_near & (got == reach)
    reasons[:] = (
        f"{pool_name} units within reach were used by earlier matches "
        "(matching without replacement)"
    )
    reasons[no_cell] = f"no {pool_name} unit in its exact-matching cell"
    reasons[none_near] = f"no {pool_name} unit within the caliper"
    for r in np.unique(reach[few_near]).tolist():
        reasons[few_near & (reach == r)] = (
            f"only {r} {pool_name} unit{'s' if r != 1 else ''} within reach "
            "(exact cell and caliper)"
        )
    return reasons
