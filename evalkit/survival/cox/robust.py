"""Lin & Wei's robust (sandwich) variance of a Cox fit, from score (dfbeta) residuals.

The dfbeta residuals D = diag(w) R V (R: score residuals, V: the model-based variance) are
summed within clusters and the variance is D'D, as R's ``coxph(robust = TRUE)`` and
``coxph(cluster = )``; the score residuals at β = 0 give R's robust score test.

Without clusters, or with one row per cluster (``cluster`` the person, one row each), D'D is
V (Σ_i w_i² r_i r_iᵀ) V: the residuals are formed block by block of rows and each block is
added to the cross-product by one BLAS ``syrk``, so no n × p matrix is ever held. Clusters with
several rows, and counting-process data, form the residuals for all rows and sum them within
clusters.

References
----------
Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
JASA 84(408), 1074–1078. doi:10.1080/01621459.1989.10478874
Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model,
sec. 3.7 and 7.2. Springer. doi:10.1007/978-1-4757-3294-8
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival.cox.riskset import Parts, SortedData

__all__ = ["collapse", "lin_wei", "score_residuals"]

#: Rows per block of the blockwise cross-product.
BLOCK = 4096


def _event_sums(des: SortedData, parts: Parts) -> list[np.ndarray]:
    """Per tied-time group: Σ h, Σ h·mean, Σ h·f, Σ h·f·mean and Σ q·mean over its Efron terms.

    h = a/den is the hazard increment of a term, f its down-weighting fraction and q its share
    of the tied events' mean (Therneau & Grambsch 2000, sec. 3.7). A grouped fit keeps the
    term means as m_D + Δ/den_k (:mod:`evalkit.survival.cox.grouped`), so these sums are
    closed forms in the per-time scalars Σ h/den, Σ h f/den and Σ q/den.
    """
    f, q = des.e_f, des.e_q
    h = des.e_a / parts.den
    hf = h * f
    es = des.e_starts

    def per_set(v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, es, axis=0)

    H, Hf = per_set(h), per_set(hf)
    if parts.m_d is not None and parts.delta is not None:
        md, dl = parts.m_d, parts.delta
        inv = 1.0 / parts.den
        HM = md * H[:, None] + dl * per_set(h * inv)[:, None]
        HMf = md * Hf[:, None] + dl * per_set(hf * inv)[:, None]
        MB = md * per_set(q)[:, None] + dl * per_set(q * inv)[:, None]
    else:
        m = parts.mean
        HM = per_set(m * h[:, None])
        HMf = per_set(m * hf[:, None])
        MB = per_set(m * q[:, None])
    return [des.to_groups(v) for v in (H, HM, Hf, HMf, MB)]


def score_residuals(des: SortedData, parts: Parts) -> np.ndarray:
    """Unweighted score residuals (rows in sorted order), as survival's C routine coxscore2.

    For row i in tied set t: δ_i (x_i − x̄̄(t)) − r_i Σ_{s ≤ t} Σ_k h_k(s) (x_i − x̄_k(s)), where the
    Efron terms of the row's own tied set are multiplied by (1 − k/d) when row i is one of the d
    events (Therneau & Grambsch 2000, sec. 3.7). Cumulative sums make it O(n·p). With
    counting-process data the sum runs over the event times s in the row's (start, stop] only
    (survival's ``agscore3``).
    """
    X = des.X
    H, HM, Hf, HMf, MB = _event_sums(des, parts)
    g = des.grp
    r = parts.r
    entry = des.entry
    if entry is None:
        CH = des.seg_cumsum(H)
        CHM = np.asfortranarray(des.seg_cumsum(HM))
    else:  # counting process: only the event times in the row's (start, stop]
        HM = np.asfortranarray(HM)
    HMf = np.asfortranarray(HMf)
    MB = np.asfortranarray(MB)
    dr = des.death_rows
    gd = g[dr]
    rd = r[dr]
    rCH = r * (CH[g] if entry is None else entry.at_risk(H, g))
    rdHf = rd * Hf[gd]
    resid = np.empty(X.shape, order="F")
    for k in range(des.p):  # column by column keeps every operation contiguous
        chm = CHM[:, k][g] if entry is None else entry.at_risk(HM[:, k], g)
        resid[:, k] = r * chm - X[:, k] * rCH
        xd = des.Xd[:, k]
        resid[dr, k] += xd - MB[:, k][gd] + xd * rdHf - rd * HMf[:, k][gd]
    return resid


def _crossprod(des: SortedData, *fits: Parts) -> list[tuple[np.ndarray, np.ndarray]]:
    """Σ_i w_i² r_i r_iᵀ and Σ_i w_i r_i over the rows (r_i: score residuals), block by block.

    The residuals of :func:`score_residuals` for right-censored data, formed for BLOCK rows at
    a time in a buffer that stays in cache; each of ``fits`` (the fit and β = 0) gets its
    pair, from one pass over the rows. With heavily tied times the blocks lie within one tied
    time, whose cumulative sums are then one vector for the whole block.
    """
    from scipy.linalg.blas import dgemm

    from evalkit.survival.cox.grouped import blocks, use_grouped

    n, p = des.n, des.p
    X, g, w, dr = des.X, des.grp, des.w, des.death_rows
    sums = []
    for parts in fits:
        H, HM, Hf, HMf, MB = _event_sums(des, parts)
        sums.append((des.seg_cumsum(H), des.seg_cumsum(HM), Hf, HMf, MB, parts.r))
    weighted = not bool((w == 1.0).all())
    aligned = use_grouped(des)
    bounds = blocks(des.starts, n, BLOCK)[0] if aligned else [*range(0, n, BLOCK), n]
    cut = np.searchsorted(dr, bounds).tolist()  # the events of each block
    out = [(np.zeros((p, p)), np.zeros(p)) for _ in fits]
    buf = np.empty((BLOCK, p), order="F")
    for b in range(len(bounds) - 1):
        s, e = bounds[b], bounds[b + 1]
        xb = X[s:e]
        loc = dr[cut[b] : cut[b + 1]] - s
        xd = xb[loc]
        key: Any = g[s] if aligned else g[s:e]  # one tied time, or one per row
        kd = key if aligned else key[loc]
        for (CH, CHM, Hf, HMf, MB, r), (cross, total) in zip(sums, out, strict=True):
            rb = r[s:e]
            y = buf[: e - s]
            ch = CH[key] if aligned else CH[key][:, None]
            np.multiply(xb, ch, out=y)
            np.subtract(CHM[key], y, out=y)
            y *= rb[:, None]
            if loc.size:
                rd = rb[loc][:, None]
                hf = Hf[kd] if aligned else Hf[kd][:, None]
                y[loc] += xd * (1.0 + rd * hf) - MB[kd] - rd * HMf[kd]
            if weighted:
                y *= w[s:e, None]
            cross += dgemm(1.0, y, y, trans_a=1)  # faster than numpy's syrk for narrow y
            total += y.sum(axis=0)
    return out


def collapse(mat: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Sum rows within cluster codes (identity when there is no cluster)."""
    if codes is None:
        return np.asfortranarray(mat)
    k = int(codes.max()) + 1
    return np.column_stack(
        [np.bincount(codes, weights=mat[:, j], minlength=k) for j in range(mat.shape[1])]
    )


def lin_wei(
    des: SortedData,
    parts: Parts,
    parts0: Parts,
    naive: np.ndarray,
    clusters: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The robust variance at the fit, and the cross-product and sum of the residuals at β = 0.

    D'D is formed as V (R_wᵀ R_w) V, so no second n × p matrix is needed. R's robust score test
    is uᵀ (R₀ᵀR₀)⁻ u with R₀ the per-cluster weighted score residuals at β = 0 and u their sum:
    the second and third arrays are R₀ᵀR₀ and u.
    """
    one_row_each = clusters is None or int(clusters.max()) + 1 == clusters.size
    if des.entry is None and one_row_each:  # clusters of one row: no sums within clusters
        (cross, _), (cross0, u0) = _crossprod(des, parts, parts0)
    else:
        rw = collapse(score_residuals(des, parts) * des.w[:, None], clusters)
        cross = rw.T @ rw
        r0 = collapse(score_residuals(des, parts0) * des.w[:, None], clusters)
        cross0, u0 = r0.T @ r0, r0.sum(axis=0)
    var = naive @ cross @ naive
    return 0.5 * (var + var.T), cross0, u0
