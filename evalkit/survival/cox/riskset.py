"""Rows sorted by (stratum, time) and the risk-set sums of the Cox partial likelihood.

:func:`sort_rows` sorts the rows once by (stratum, time), groups tied times and expands every
tied set of events into its Efron (or Breslow) terms; :func:`risk_set_parts` gives the log
partial likelihood, score and information at a coefficient vector with vectorised numpy over
the rows (the reference computation, any number of distinct times); :func:`information` forms
the information (and the weighted versions ``cox.zph`` needs) as one weighted Xᵀ X product.
:mod:`evalkit.survival.cox.grouped` computes the same :class:`Parts` with one BLAS product per
tied time, faster when times are whole days.

References
----------
Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA
72(359), 557–565. doi:10.1080/01621459.1977.10480613
Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model,
sec. 3.3 (tied times) and appendix (the computations of coxph). Springer.
doi:10.1007/978-1-4757-3294-8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.survival.cox.counting import Entry, make_entry

__all__ = [
    "Parts",
    "SortedData",
    "information",
    "linear_predictor",
    "risk_set_parts",
    "sort_order",
    "sort_rows",
    "term_means",
]


def sort_order(time: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    """The stable order of the rows by (stratum, time): ``np.lexsort((time, stratum))``.

    Whole-number times spanning fewer than 65,536 values (days over a few years) with few
    strata form one 16-bit key, which numpy sorts stably by radix sort in linear time; the
    permutation is the same as lexsort's (both are stable), only faster.
    """
    if time.size:
        lo, hi = float(time.min()), float(time.max())
        n_strata = int(stratum.max()) + 1
        span = hi - lo + 1.0
        if span * n_strata <= 65_536 and bool((time == np.floor(time)).all()):
            key = (time - lo).astype(np.uint16)
            if n_strata > 1:
                key += (stratum * int(span)).astype(np.uint16)
            return np.argsort(key, kind="stable")
    return np.lexsort((time, stratum))


# --------------------------------------------------------------------------------------------
# Rows sorted by (stratum, time), with the risk-set bookkeeping
# --------------------------------------------------------------------------------------------
@dataclass
class SortedData:
    """Rows sorted by (stratum, time), tied times grouped, and the Efron expansion of events.

    ``grp`` numbers the unique (stratum, time) pairs 0..G-1 in sorted order; ``starts`` holds the
    first row of each group. Groups that contain at least one event are the "event groups"
    (``eg_grp`` maps them to groups). The Efron (or Breslow) approximation turns each event group
    into ``d`` (or 1) expanded terms with weight ``e_a`` (average death weight; the total death
    weight for Breslow), down-weighting fraction ``e_f`` (k/d; 0 for Breslow) and share ``e_q``
    of the group's mean covariate (1/d; 1 for Breslow).
    """

    X: np.ndarray  # n x p, Fortran order: (x - center) * scale
    center: np.ndarray
    scale: np.ndarray  # 1 / weighted mean absolute deviation (1 for columns in {-1, 0, 1})
    time: np.ndarray
    event: np.ndarray  # bool
    w: np.ndarray
    stratum: np.ndarray  # int codes 0..S-1 (sorted)
    order: np.ndarray  # sorted position -> original position
    grp: np.ndarray
    starts: np.ndarray
    g_first: np.ndarray  # per group: index of the first group of its stratum
    g_end: np.ndarray  # per group: one past the last group of its stratum
    g_time: np.ndarray
    death_rows: np.ndarray  # sorted positions of events (grouped by event group)
    wd: np.ndarray  # w[death_rows]
    d_starts: np.ndarray  # start of each event group within death_rows
    eg_grp: np.ndarray
    e_eg: np.ndarray  # expanded term -> event group
    e_starts: np.ndarray  # start of each event group's expanded terms
    e_a: np.ndarray
    e_f: np.ndarray
    e_q: np.ndarray
    ties: str
    entry: Entry | None = None  # counting-process data: where rows enter their risk sets
    _Xd: np.ndarray | None = None

    @property
    def Xd(self) -> np.ndarray:
        """X[death_rows] in Fortran order, gathered on first use (the grouped path needs none)."""
        if self._Xd is None:
            Xd = np.empty((self.death_rows.size, self.p), order="F")
            for k in range(self.p):
                np.take(self.X[:, k], self.death_rows, out=Xd[:, k], mode="clip")
            self._Xd = Xd
        return self._Xd

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_groups(self) -> int:
        return int(self.starts.size)

    def seg_cumsum(self, values: np.ndarray) -> np.ndarray:
        """Cumulative sum over groups (axis 0), restarting at each stratum."""
        cs = np.cumsum(values, axis=0)
        cs0 = np.concatenate([np.zeros((1, *values.shape[1:])), cs])
        return cs0[1:] - cs0[self.g_first]

    def seg_revcumsum(self, values: np.ndarray) -> np.ndarray:
        """Reverse cumulative sum over groups (risk-set sums), restarting at each stratum."""
        rc = np.cumsum(values[::-1], axis=0)[::-1]
        rc0 = np.concatenate([rc, np.zeros((1, *values.shape[1:]))])
        return rc0[:-1] - rc0[self.g_end]

    def to_groups(self, values: np.ndarray) -> np.ndarray:
        """Spread per-event-group values to all groups (zero where a group has no event)."""
        out = np.zeros((self.n_groups, *values.shape[1:]))
        out[self.eg_grp] = values
        return out


def sort_rows(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    w: np.ndarray,
    stratum: np.ndarray,
    ties: str,
    start: np.ndarray | None = None,
) -> SortedData:
    """Sort the rows by (stratum, time), centre and scale the covariates, group tied times.

    Every covariate is centred at its weighted mean; those not confined to {-1, 0, 1} are also
    divided by their weighted mean absolute deviation, as survival's ``coxfit6`` does
    (``doscale``; R's ``nocenter = c(-1, 0, 1)``), so the Newton iteration and the singularity
    test of :func:`~evalkit.survival.cox.linalg.ldl` do not depend on a covariate's units. The
    fit is made in these units; :func:`~evalkit.survival.cox.engine.cox` multiplies the
    coefficients by ``scale`` and the variances by ``scale scaleᵀ`` (Therneau & Grambsch 2000,
    appendix).
    """
    n = time.size
    order = sort_order(time, stratum)
    time_s = time[order]
    one_stratum = not stratum.any()
    stratum_s = np.zeros(n, dtype=stratum.dtype) if one_stratum else stratum[order]
    event_s = event.astype(bool)[order]
    w_s = w if bool((w == 1.0).all()) else w[order]  # unit weights need no reordering
    Xs = np.empty(X.shape, order="F")
    w_total = float(w.sum())
    center = (w @ X) / w_total
    scale = np.ones(X.shape[1])
    for k in range(X.shape[1]):  # one gather per column, centred and scaled in place
        col = Xs[:, k]
        np.take(X[:, k], order, out=col, mode="clip")  # "clip": no buffered bounds check
        lo, hi = float(col.min()), float(col.max())
        zero_one = lo >= -1.0 and hi <= 1.0 and bool(np.isin(col, (-1.0, 0.0, 1.0)).all())
        col -= center[k]
        if not zero_one:  # coxfit6's doscale: divide by the weighted mean absolute deviation
            mad = float(w_s @ np.abs(col)) / w_total
            if mad > 0.0:
                scale[k] = 1.0 / mad
                col *= scale[k]

    new = np.ones(n, dtype=bool)
    np.not_equal(time_s[1:], time_s[:-1], out=new[1:])
    if not one_stratum:
        new[1:] |= stratum_s[1:] != stratum_s[:-1]
    starts = np.flatnonzero(new)
    grp = np.cumsum(new, dtype=np.int64)
    grp -= 1
    G = starts.size
    g_stratum = stratum_s[starts]
    s_new = np.ones(G, dtype=bool)
    s_new[1:] = g_stratum[1:] != g_stratum[:-1]
    s_starts = np.flatnonzero(s_new)
    s_index = np.cumsum(s_new) - 1
    s_ends = np.append(s_starts[1:], G)
    g_first = s_starts[s_index]
    g_end = s_ends[s_index]

    death_rows = np.flatnonzero(event_s)
    d_grp = grp[death_rows]
    d_new = np.ones(death_rows.size, dtype=bool)
    d_new[1:] = d_grp[1:] != d_grp[:-1]
    d_starts = np.flatnonzero(d_new)
    eg_grp = d_grp[d_starts]
    d_count = np.diff(np.append(d_starts, death_rows.size))
    d_weight = np.add.reduceat(w_s[death_rows], d_starts) if death_rows.size else np.zeros(0)

    if ties == "efron":
        e_eg = np.repeat(np.arange(eg_grp.size), d_count)
        e_starts = d_starts.copy()
        rank_in_set = np.arange(death_rows.size) - np.repeat(d_starts, d_count)
        dd = d_count[e_eg].astype(float)
        e_f = rank_in_set / dd
        e_a = d_weight[e_eg] / dd
        e_q = 1.0 / dd
    else:
        e_eg = np.arange(eg_grp.size)
        e_starts = np.arange(eg_grp.size)
        e_f = np.zeros(eg_grp.size)
        e_a = d_weight.astype(float)
        e_q = np.ones(eg_grp.size)
    entry = None
    if start is not None:
        entry = make_entry(start[order], stratum_s, grp, time_s[starts], g_stratum, eg_grp, Xs)
    return SortedData(
        X=Xs,
        center=center,
        scale=scale,
        time=time_s,
        event=event_s,
        w=w_s,
        stratum=stratum_s,
        order=order,
        grp=grp,
        starts=starts,
        g_first=g_first,
        g_end=g_end,
        g_time=time_s[starts],
        death_rows=death_rows,
        wd=w_s[death_rows],
        d_starts=d_starts,
        eg_grp=eg_grp,
        e_eg=e_eg,
        e_starts=e_starts,
        e_a=e_a,
        e_f=e_f,
        e_q=e_q,
        ties=ties,
        entry=entry,
    )


def linear_predictor(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """X @ beta accumulated column by column, so identical rows give identical values.

    Done for 65,536 rows at a time, so the partial sums stay in cache; every element gets the
    same operations in the same order as a column-by-column sum over all rows.
    """
    n = X.shape[0]
    eta = np.zeros(n)
    term = np.empty(max(1, min(n, 65_536)))
    cols = [k for k in range(X.shape[1]) if beta[k] != 0.0]
    for s in range(0, n, term.size):
        e = min(s + term.size, n)
        out, t = eta[s:e], term[: e - s]
        for k in cols:
            out += np.multiply(X[s:e, k], beta[k], out=t)
    return eta


@dataclass
class Parts:
    """Log partial likelihood, score and information at ``beta`` plus the pieces reused later."""

    beta: np.ndarray
    eta: np.ndarray  # centred linear predictor, sorted order
    r: np.ndarray  # exp(eta - shift), unweighted
    loglik: float
    U: np.ndarray
    imat: np.ndarray
    den: np.ndarray  # per expanded term
    mean: np.ndarray  # per expanded term, p columns
    c1: np.ndarray  # per group: sum of a/den
    c2: np.ndarray  # per group: sum of a*f/den
    shift: float = 0.0  # the largest linear predictor: r and den are scaled by exp(-shift)
    # grouped path (evalkit.survival.cox.grouped) while iterating: ``mean`` is not formed per
    # term until the fit is final; per event group, mean_k = m_d + delta / den_k
    m_d: np.ndarray | None = None
    delta: np.ndarray | None = None


def term_means(des: SortedData, parts: Parts) -> np.ndarray:
    """The risk-set mean of every expanded (Efron) term, events × covariates.

    The grouped path keeps them per event group (``m_d + delta / den_k``) and forms them here,
    only when a caller needs them one by one (``cox.zph``).
    """
    if parts.m_d is None or parts.delta is None:
        return parts.mean
    e = des.e_eg
    return parts.m_d[e] + parts.delta[e] / parts.den[:, None]


def risk_set_parts(des: SortedData, beta: np.ndarray, *, info: bool = True) -> Parts:
    """Log partial likelihood, score and information at ``beta``, vectorised over the rows.

    Risk-set sums are reverse cumulative sums over the tied-time groups of per-group sums
    (``np.add.reduceat``), minus the rows not yet entered for counting-process data; the
    information is :func:`information`. Any number of distinct times.
    """
    X = des.X
    eta = linear_predictor(X, beta)
    shift = float(eta.max())
    r = np.exp(eta - shift)
    rw = r * des.w
    S0 = np.add.reduceat(rw, des.starts)
    S1 = np.add.reduceat(X * rw[:, None], des.starts, axis=0)
    dr = des.death_rows
    rwd = rw[dr]
    S0D = np.add.reduceat(rwd, des.d_starts)
    S1D = np.add.reduceat(des.Xd * rwd[:, None], des.d_starts, axis=0)
    R0 = des.seg_revcumsum(S0)[des.eg_grp]
    R1 = des.seg_revcumsum(S1)[des.eg_grp]
    if des.entry is not None:  # rows that enter after the event time are not at risk
        E0, E1 = des.entry.sums(rw)
        R0 = R0 - E0
        R1 = R1 - E1
    e, f, a = des.e_eg, des.e_f, des.e_a
    den = R0[e] - f * S0D[e]
    mean = (R1[e] - f[:, None] * S1D[e]) / den[:, None]
    wd = des.wd
    with np.errstate(divide="ignore"):
        loglik = float(wd @ eta[dr] - a @ (np.log(den) + shift))
    U = wd @ des.Xd - a @ mean
    G = des.n_groups
    c1 = np.zeros(G)
    c2 = np.zeros(G)
    imat = np.zeros((des.p, des.p))
    if info:
        c1 = des.to_groups(np.add.reduceat(a / den, des.e_starts))
        c2 = des.to_groups(np.add.reduceat(a * f / den, des.e_starts))
        imat = information(des, rw, mean, c1, c2, np.ones(G), 0)
    return Parts(beta, eta, r, loglik, U, imat, den, mean, c1, c2, shift)


def information(
    des: SortedData,
    rw: np.ndarray,
    mean: np.ndarray,
    c1: np.ndarray,
    c2: np.ndarray,
    tw: np.ndarray,
    power: int,
) -> np.ndarray:
    """Sum over expanded terms of a·g(t)^power·(S2/den − mean meanᵀ), in O(n·p²) BLAS.

    ``tw`` holds g(t) per group (ones for the Cox information itself). The risk-set second
    moments are never formed per time: Σ_t c1(t) S2(t) = Xᵀ diag(rw_i · Σ_{t ≤ t_i} c1(t)) X.
    """
    X = des.X
    twp = tw**power
    if des.entry is None:
        C1 = des.seg_cumsum(c1 * twp)
        v = rw * C1[des.grp]
    else:  # only the groups in (start, stop]
        v = rw * des.entry.at_risk(c1 * twp, des.grp)
    dr = des.death_rows
    v[dr] -= rw[dr] * (c2 * twp)[des.grp[dr]]
    ae = des.e_a * twp[des.eg_grp][des.e_eg]
    if power % 2 == 0:
        # v >= 0 in exact arithmetic (C1 includes the group's own c1 >= c2): Yᵀ Y is a syrk
        Y = X * np.sqrt(np.maximum(v, 0.0))[:, None]
        first = Y.T @ Y
    else:
        first = X.T @ (X * v[:, None])
    imat = first - mean.T @ (mean * ae[:, None])
    return 0.5 * (imat + imat.T)
