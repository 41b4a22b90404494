"""Test of proportional hazards for a Cox fit, identical to R's ``cox.zph`` (survival ≥ 3.0).

For each term, the score test of adding interactions x·g(t) to the model at the fitted
coefficients (Grambsch & Therneau 1994), with g(t) centred over the event times, and a GLOBAL
test of all of them together. This is the exact score test of survival's C routine ``zph1``,
not the older approximation from scaled Schoenfeld residuals (survival < 3.0, lifelines).

References
----------
Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
weighted residuals. Biometrika 81(3), 515–526. doi:10.1093/biomet/81.3.515
Therneau, T. M. (2024). survival: A Package for Survival Analysis in R, R/cox.zph.R and
src/zph1.c.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalkit._options import check_choice, option_error
from evalkit.survival.cox.counting import km_at_risk
from evalkit.survival.cox.riskset import SortedData, information, term_means

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival.cox.result import CoxResult

__all__ = ["TRANSFORMS", "ph_test"]

#: Time transformations g(t) of the test, as R's ``cox.zph(transform = )``.
TRANSFORMS = ("km", "identity", "rank", "log")


def _time_transform(des: SortedData, transform: str) -> np.ndarray:
    """g(t) for every sorted row."""
    t = des.time
    if transform == "identity":
        return t.astype(float)
    if transform == "log":
        if (t <= 0).any():
            raise option_error(
                "transform", "'log' needs all times > 0; use 'km', 'rank' or 'identity'"
            )
        return np.log(t)
    if transform == "rank":
        from scipy.stats import rankdata

        return rankdata(t, method="average")
    # km: 1 − S(t−) from the unweighted, unstratified Kaplan–Meier of all rows
    if des.entry is not None:  # at risk on (start, stop]: R's survfit(Surv(start, stop, event))
        ut, surv = km_at_risk(t, des.entry.start, des.event)
        inv = np.searchsorted(ut, t)
        return 1.0 - np.concatenate([[1.0], surv[:-1]])[inv]
    ut, inv = np.unique(t, return_inverse=True)
    n_at = np.bincount(inv, minlength=ut.size)
    d_at = np.bincount(inv, weights=des.event.astype(float), minlength=ut.size)
    at_risk = n_at[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - d_at / at_risk)
    s_left = np.concatenate([[1.0], surv[:-1]])
    return 1.0 - s_left[inv]


def ph_test(fit: CoxResult, transform: str = "km") -> pd.DataFrame:
    """The ``cox.zph`` table of a fit: ``statistic``, ``df`` and ``p`` per term and GLOBAL.

    See :meth:`evalkit.survival.CoxResult.ph_test`, which calls this.
    """
    transform = check_choice(transform, "transform", TRANSFORMS)
    des = fit._design
    parts = fit._parts
    gt = _time_transform(des, transform)
    g_event_mean = gt[des.death_rows].mean()
    tw = (gt - g_event_mean)[des.starts]  # per group (constant within a tied set)
    p = des.p
    rw = parts.r * des.w
    mean = term_means(des, parts)
    i12 = information(des, rw, mean, parts.c1, parts.c2, tw, 1)
    i22 = information(des, rw, mean, parts.c1, parts.c2, tw, 2)
    imat = np.block([[parts.imat, i12], [i12.T, i22]])
    dr = des.death_rows
    tw_e = tw[des.eg_grp][des.e_eg]
    u2 = (des.w[dr] * tw[des.grp[dr]]) @ des.X[dr] - (des.e_a * tw_e) @ mean
    names = list(fit.coef.index)
    rows = []
    for term, cnames in fit.terms.items():
        jj = [names.index(c) for c in cnames]
        kk = list(range(p)) + [p + j for j in jj]
        u = np.concatenate([np.zeros(p), u2[jj]])
        stat = float(np.linalg.solve(imat[np.ix_(kk, kk)], u) @ u)
        rows.append((term, stat, len(jj)))
    u = np.concatenate([np.zeros(p), u2])
    rows.append(("GLOBAL", float(np.linalg.solve(imat, u) @ u), p))
    out = pd.DataFrame(rows, columns=["term", "statistic", "df"]).set_index("term")
    from scipy.stats import chi2

    out["p"] = chi2.sf(out["statistic"], out["df"])
    return out
