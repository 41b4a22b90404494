"""Lin & Wei's robust (sandwich) variance of a Cox fit, from score (dfbeta) residuals.

The dfbeta residuals D = diag(w) R V (R: score residuals, V: the model-based variance) are
summed within clusters and the variance is D'D, as R's ``coxph(robust = TRUE)`` and
``coxph(cluster = )``; the score residuals at β = 0 give R's robust score test.

References
----------
Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
JASA 84(408), 1074–1078. doi:10.1080/01621459.1989.10478874
Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model,
sec. 3.7 and 7.2. Springer. doi:10.1007/978-1-4757-3294-8
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival.cox.engine import Parts, SortedData

__all__ = ["collapse", "lin_wei", "score_residuals"]


def score_residuals(des: SortedData, parts: Parts) -> np.ndarray:
    """Unweighted score residuals (rows in sorted order), as survival's C routine coxscore2.

    For row i in tied set t: δ_i (x_i − x̄̄(t)) − r_i Σ_{s ≤ t} Σ_k h_k(s) (x_i − x̄_k(s)), where the
    Efron terms of the row's own tied set are multiplied by (1 − k/d) when row i is one of the d
    events (Therneau & Grambsch 2000, sec. 3.7). Cumulative sums make it O(n·p). With
    counting-process data the sum runs over the event times s in the row's (start, stop] only
    (survival's ``agscore3``).
    """
    X = des.X
    a, f, q = des.e_a, des.e_f, des.e_q
    h = a / parts.den
    m = parts.mean
    es = des.e_starts
    H = des.to_groups(np.add.reduceat(h, es))
    HM = des.to_groups(np.add.reduceat(m * h[:, None], es, axis=0))
    hf = h * f  # the part of h removed for the events of the tied set
    Hf = des.to_groups(np.add.reduceat(hf, es))
    HMf = des.to_groups(np.add.reduceat(m * hf[:, None], es, axis=0))
    MB = des.to_groups(np.add.reduceat(m * q[:, None], es, axis=0))
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
) -> tuple[np.ndarray, np.ndarray]:
    """The robust variance at the fit and the per-cluster score residuals at β = 0.

    D'D is formed as V (R_wᵀ R_w) V, so no second n × p matrix is needed. The second array
    (clusters × p) gives R's robust score test, uᵀ (R₀ᵀR₀)⁻ u with u the column sums.
    """
    rw = collapse(score_residuals(des, parts) * des.w[:, None], clusters)
    var = naive @ (rw.T @ rw) @ naive
    r0 = collapse(score_residuals(des, parts0) * des.w[:, None], clusters)
    return 0.5 * (var + var.T), r0
