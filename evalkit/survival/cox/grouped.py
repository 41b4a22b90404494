"""The Cox partial likelihood with one BLAS product per tied time (whole-day data).

When event times are whole days, a million rows share a few hundred distinct times. Every
quantity of a Newton step is then a function of per-time moments of the rows: for the rows of
tied time g, with weights v_i = w_i exp(η_i),

    M_g = Σ_{i ∈ g} v_i (1, x_i)(1, x_i)ᵀ,

whose entries are S0_g = Σ v_i, S1_g = Σ v_i x_i and S2_g = Σ v_i x_i x_iᵀ. The risk-set sums at
an event time are reverse cumulative sums of S0 and S1 over the times (within a stratum), and
the information needs no risk-set S2 at all: Σ_t c1(t) Σ_{g ≥ t} S2_g = Σ_g C1_g S2_g with C1 the
forward cumulative sum of c1 = Σ_k a_k/den_k (Therneau & Grambsch 2000, sec. 3.3, for the Efron
terms). The rows of a time are contiguous after sorting, so M_g is one symmetric rank-k update
(``Yᵀ Y`` with Y = √v · (1, x), a BLAS ``syrk``) over a block that stays in cache, and the rows
are read once per iteration. Efron's correction for d ≥ 2 tied events needs the same moments
over the events of the time (D0, D1, D2), formed the same way from the event rows.

Each block is exponentiated against its own largest linear predictor and rescaled to the
global one afterwards, so one pass over the rows suffices and nothing overflows. The result is
the :class:`~evalkit.survival.cox.riskset.Parts` of
:func:`~evalkit.survival.cox.riskset.risk_set_parts` (the reference computation), equal to it
up to rounding (tested to 1e-10); :func:`use_grouped` chooses this path when times are tied
enough for it to pay, and only for right-censored data (no ``start``).

References
----------
Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA
72(359), 557–565. doi:10.1080/01621459.1977.10480613
Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model,
sec. 3.3. Springer. doi:10.1007/978-1-4757-3294-8
Dongarra, J. J., Du Croz, J., Hammarling, S. & Duff, I. S. (1990). A set of level 3 basic
linear algebra subprograms. ACM TOMS 16(1), 1–17. doi:10.1145/77626.79170 (``dsyrk``)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from evalkit.survival.cox.riskset import Parts, SortedData, linear_predictor

__all__ = [
    "BLOCK",
    "MIN_TIED",
    "Layout",
    "blocks",
    "finish",
    "grouped_parts",
    "layout",
    "use_grouped",
]

#: Rows per BLAS block: 4096 rows of up to ~30 columns stay in a core's L2 cache.
BLOCK = 4096
#: Average rows per distinct (stratum, time) from which the grouped path is used.
MIN_TIED = 32


def use_grouped(des: SortedData) -> bool:
    """Whether the per-time BLAS path pays: right-censored data with heavily tied times."""
    return des.entry is None and des.n >= MIN_TIED * des.n_groups


def blocks(starts: np.ndarray, n: int, size: int) -> tuple[list[int], np.ndarray]:
    """Split contiguous runs (given by their starts) into blocks of at most ``size`` rows.

    Returns the block boundaries (Python ints, one more than the blocks) and, for every run,
    the index of its first block (for ``np.add.reduceat`` over blocks).
    """
    ends = np.append(starts[1:], n)
    n_blocks = -(-(ends - starts) // size)  # ceil; every run has at least one row
    first = np.concatenate([[0], np.cumsum(n_blocks)[:-1]])
    offsets = np.arange(int(n_blocks.sum())) - np.repeat(first, n_blocks)
    bounds = np.repeat(starts, n_blocks) + offsets * size
    return [*bounds.tolist(), int(n)], first


@dataclass
class Layout:
    """Blocks of the sorted rows, fixed for the whole Newton iteration."""

    bounds: list[int]  # row blocks (within one tied time each)
    g_first: np.ndarray  # per tied time: its first block
    sqrt_w: np.ndarray | None  # √w per sorted row (None: unit weights)
    tied: np.ndarray  # event groups with ≥ 2 events under Efron (their D moments are needed)
    t_first: np.ndarray  # per such group: its first block
    d_cut: list[int]  # per block: where its events of such groups start in d_loc (and end)
    d_loc: np.ndarray  # those events' positions within their block
    wdX: np.ndarray  # Σ over events of w_i x_i (the constant part of the score)
    a_eg: np.ndarray  # per event group: Σ of its terms' weights a


def layout(des: SortedData) -> Layout:
    """The blocks of :func:`grouped_parts` for ``des`` (computed once per fit)."""
    bounds, g_first = blocks(des.starts, des.n, BLOCK)
    unit = bool((des.w == 1.0).all())
    d_count = np.diff(np.append(des.d_starts, des.death_rows.size))
    tied = np.flatnonzero(d_count >= 2) if des.ties == "efron" else np.zeros(0, dtype=np.int64)
    rows = des.death_rows[np.repeat(d_count >= 2, d_count)] if tied.size else des.death_rows[:0]
    edges = np.asarray(bounds)
    block = np.searchsorted(edges, rows, side="right") - 1
    return Layout(
        bounds=bounds,
        g_first=g_first,
        sqrt_w=None if unit else np.sqrt(des.w),
        tied=tied,
        t_first=g_first[des.eg_grp[tied]],
        d_cut=np.searchsorted(rows, edges).tolist(),
        d_loc=rows - edges[block],
        wdX=(des.w * des.event) @ des.X,
        a_eg=np.add.reduceat(des.e_a, des.e_starts),
    )


def _moments(X: np.ndarray, beta: np.ndarray, lay: Layout) -> tuple[np.ndarray, ...]:
    """Per block b: M_b = Yᵀ Y with Y = √(w e^{η − m_b}) (1, x), the same over b's tied events
    (D_b, zero where there are none), and the shift m_b (the largest η of b).

    Yᵀ Y is a BLAS ``dgemm``: OpenBLAS's ``dsyrk``, which numpy's ``y.T @ y`` calls, is about
    three times slower for such tall, narrow blocks.
    """
    from scipy.linalg.blas import dgemm  # imported when first needed: keeps `import evalkit` fast

    p = X.shape[1]
    nb = len(lay.bounds) - 1
    out = np.empty((nb, p + 1, p + 1))
    out_d = np.zeros((nb, p + 1, p + 1))
    shift = np.zeros(nb)
    buf = np.empty((BLOCK, p + 1), order="F")
    eta = np.empty(BLOCK)
    bounds, cut, loc, sqrt_w = lay.bounds, lay.d_cut, lay.d_loc, lay.sqrt_w
    for b in range(nb):
        s, e = bounds[b], bounds[b + 1]
        xb = X[s:e]
        eb = np.matmul(xb, beta, out=eta[: e - s])
        m = float(eb.max())
        shift[b] = m
        sq = np.subtract(eb, m)
        sq *= 0.5
        np.exp(sq, out=sq)
        if sqrt_w is not None:
            sq *= sqrt_w[s:e]
        y = buf[: e - s]
        y[:, 0] = sq
        np.multiply(xb, sq[:, None], out=y[:, 1:])
        out[b] = dgemm(1.0, y, y, trans_a=1)
        if cut[b + 1] > cut[b]:
            yd = y[loc[cut[b] : cut[b + 1]]].T  # the events' rows; Fortran order once transposed
            out_d[b] = dgemm(1.0, yd, yd, trans_b=1)
    return out, out_d, shift


def grouped_parts(des: SortedData, beta: np.ndarray, lay: Layout, *, info: bool = True) -> Parts:
    """:func:`~evalkit.survival.cox.riskset.risk_set_parts` from per-time moments (see module).

    The Efron terms of a tied time are summed in closed form: with m_D = D1/D0 the mean of the
    time's events and Δ = R1 − m_D R0, the k-th term's risk-set mean is m_D + Δ/den_k, so
    Σ_k a mean_k = A m_D + c1 Δ and Σ_k a mean_k mean_kᵀ = A m_D m_Dᵀ + c1 (m_D Δᵀ + Δ m_Dᵀ) +
    q Δ Δᵀ, with A = Σ a, c1 = Σ a/den_k and q = Σ a/den_k² (scalars per time). Nothing of size
    (events × covariates) is formed; :func:`finish` forms the linear predictor and exp(η)
    once the fit is final, and
    :func:`~evalkit.survival.cox.riskset.term_means` the per-term means if they are needed.
    """
    p = des.p
    moments, d_moments, m = _moments(des.X, beta, lay)
    shift = float(m.max())
    scale = np.exp(m - shift)[:, None, None]
    moments *= scale
    per_time = np.add.reduceat(moments, lay.g_first, axis=0)

    n_eg = des.eg_grp.size
    S0D = np.zeros(n_eg)
    m_d = np.zeros((n_eg, p))
    D2 = np.zeros((0, p, p))
    if lay.tied.size:
        d_moments *= scale
        per_set = np.add.reduceat(d_moments, lay.t_first, axis=0)  # other blocks hold zeros
        d0 = per_set[:, 0, :1]  # weight of the events (0 only if every exp(η) underflowed)
        S0D[lay.tied] = d0[:, 0]
        m_d[lay.tied] = np.divide(
            per_set[:, 0, 1:], d0, out=np.zeros((lay.tied.size, p)), where=d0 > 0
        )
        D2 = per_set[:, 1:, 1:]

    R0 = des.seg_revcumsum(per_time[:, 0, 0])[des.eg_grp]
    R1 = des.seg_revcumsum(per_time[:, 0, 1:])[des.eg_grp]
    delta = R1 - m_d * R0[:, None]
    e, f, a, a_eg = des.e_eg, des.e_f, des.e_a, lay.a_eg
    den = R0[e]
    if lay.tied.size:
        den -= f * S0D[e]
    es = des.e_starts
    inv = a / den
    c1_eg = np.add.reduceat(inv, es)
    with np.errstate(divide="ignore"):  # Σ w_i η_i over the events is β · Σ w_i x_i
        loglik = float(beta @ lay.wdX - a @ np.log(den) - a_eg.sum() * shift)
    U = lay.wdX - (a_eg @ m_d + c1_eg @ delta)
    G = des.n_groups
    c1 = np.zeros(G)
    c2 = np.zeros(G)
    imat = np.zeros((p, p))
    if info:
        c2_eg = np.add.reduceat(inv * f, es)
        c1 = des.to_groups(c1_eg)
        c2 = des.to_groups(c2_eg)
        first = np.tensordot(des.seg_cumsum(c1), per_time[:, 1:, 1:], axes=1)
        if lay.tied.size:
            first -= np.tensordot(c2_eg[lay.tied], D2, axes=1)
        q = np.add.reduceat(inv / den, es)
        cross = m_d.T @ (delta * c1_eg[:, None])
        means = m_d.T @ (m_d * a_eg[:, None]) + cross + cross.T + delta.T @ (delta * q[:, None])
        imat = first - means
        imat = 0.5 * (imat + imat.T)
    empty = np.zeros(0)  # η, exp(η) and the per-term means: see finish and term_means
    return Parts(
        beta, empty, empty, loglik, U, imat, den, np.zeros((0, p)), c1, c2, shift, m_d, delta
    )


def finish(des: SortedData, parts: Parts) -> Parts:
    """The final :class:`Parts` of a grouped fit: η summed column by column, and exp(η).

    The linear predictor is recomputed as :func:`~evalkit.survival.cox.riskset.linear_predictor`
    sums it, so identical rows get identical values, as the concordance needs. Per-term means
    stay per event group (:func:`~evalkit.survival.cox.riskset.term_means` forms them).
    """
    if not parts.beta.any():  # β = 0: η = 0 and exp(η − shift) = 1 exactly
        return replace(parts, eta=np.zeros(des.n), r=np.full(des.n, np.exp(-parts.shift)))
    eta = linear_predictor(des.X, parts.beta)
    r = np.subtract(eta, parts.shift)
    return replace(parts, eta=eta, r=np.exp(r, out=r))
