"""The outcome comparison after matching or weighting: :func:`matched_rate_difference`.

References
----------
Austin PC (2011). An introduction to propensity score methods for reducing the effects of
confounding in observational studies. *Multivariate Behavioral Research* 46(3):399–424.

Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American Statistical
Association* 117(538):983–995. doi:10.1080/01621459.2020.1840383

Cameron AC, Gelbach JB, Miller DL (2011). Robust inference with multiway clustering. *Journal
of Business & Economic Statistics* 29(2):238–249.

Austin PC (2016). Variance estimation when using inverse probability of treatment weighting
(IPTW) with survival analysis. *Statistics in Medicine* 35(30):5642–5655.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from evalkit._inference import diff_of_means_cr1, wald
from evalkit._options import check_conf_level, option_error
from evalkit.errors import InputError
from evalkit.matching.match import MatchResult
from evalkit.matching.weighting import WeightResult
from evalkit.results import Result
from evalkit.schema import require_columns, row_ids

__all__ = ["MatchedEffect", "matched_rate_difference"]


@dataclass(frozen=True, eq=False, repr=False)
class MatchedEffect(Result):
    """A rate difference (programme minus comparison arm) in a matched or weighted sample.

    Attributes
    ----------
    estimate
        Weighted proportion with the outcome in the programme arm minus that in the comparison
        arm.
    se
        Cluster-robust (matched sets) or heteroskedasticity-robust (weights) standard error.
    lower, upper
        Wald confidence limits of ``estimate``, estimate ∓ z·se.
    statistic, p
        The Wald statistic estimate/se and its two-sided p-value (normal reference).
    rate_treated, rate_control
        The weighted proportions in the programme and the comparison arm.
    conf_level
        Confidence level of the interval.
    method
        How the SE was computed.
    n_treated, n_control
        Rows used in each arm (weight > 0).
    n_clusters
        Number of clusters (matched sets) for the SE; rows for the weighted case.
    outcome, group, treated, control
        The outcome column, the group column and the labels of its two arms.
    """

    _title = "Rate difference after matching or weighting"

    estimate: float
    se: float
    lower: float
    upper: float
    statistic: float
    p: float
    rate_treated: float
    rate_control: float
    conf_level: float
    method: str
    n_treated: int
    n_control: int
    n_clusters: int
    outcome: str
    group: str
    treated: Any
    control: Any

    def to_frame(self) -> pd.DataFrame:
        """One row: the estimate, its interval and test, the two rates, sizes and labels."""
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self)}])


def _binary_outcome(df: pd.DataFrame, column: str, use: np.ndarray) -> np.ndarray:
    require_columns(df, [column])
    s = df[column]
    miss = s.isna().to_numpy() & use
    if miss.any():
        raise InputError(
            column, "has missing values in the matched/weighted sample", row_ids(df, miss)
        )
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(s):
        raise InputError(column, f"must be 0/1 (or booleans), but has dtype {s.dtype}")
    y = s.to_numpy(dtype=float, na_value=np.nan)
    bad = use & (y != 0) & (y != 1)
    if bad.any():
        raise InputError(column, "must be 0 (no) or 1 (yes)", row_ids(df, bad))
    return y


def matched_rate_difference(
    result: MatchResult | WeightResult,
    *,
    outcome: str,
    conf_level: float = 0.95,
) -> MatchedEffect:
    """Rate difference (programme − comparison arm) of a 0/1 outcome after matching or weighting.

    Parameters
    ----------
    result
        A :class:`MatchResult` from :func:`match` or a :class:`WeightResult` from
        :func:`weight`; the outcome is read from its ``data`` (its own copy of the rows it
        used), and the arms are those it was computed with.
    outcome
        Column coded 0/1 (e.g. ``reoffended``); must be present for every row used.
    conf_level
        Confidence level of the Wald interval.

    Returns
    -------
    MatchedEffect

    Notes
    -----
    The estimate is the difference in weighted means from a weighted least-squares regression of
    the outcome on the programme indicator (the "linear probability model"), using the matching
    or IPW weights. Standard errors:

    * matching without replacement: cluster-robust on the matched set (``subclass``), as
      recommended by Austin (2011) and justified by Abadie & Spiess (2022); this is
      ``lm(y ~ treated, weights = weights)`` with ``sandwich::vcovCL(cluster = ~subclass)``
      (HC1 type: small-sample factor G/(G−1)·(n−1)/(n−k));
    * matching with replacement: one row per (treated, control) pair as MatchIt's
      ``get_matches()``, each control row weighted 1/(number of matches of its treated unit),
      two-way clustered on matched set and person (``vcovCL(cluster = ~subclass + id)``; Cameron,
      Gelbach & Miller 2011: V = V_set + V_person − V_set∩person, each with its own CR1 factor),
      as MatchIt's "Estimating effects" vignette;
    * weighting: heteroskedasticity-robust HC1 (``sandwich::vcovHC(type = "HC1")``). This
      treats the weights as known; it ignores the estimation of the propensity score, which is
      usually conservative for the ATE but not guaranteed to be for the ATT (Austin 2016).

    The interval uses the normal distribution. For survival outcomes use the weighted
    Kaplan–Meier and Cox functions on ``result.data`` with ``weights="weight"`` (and, after
    matching without replacement, ``cluster="subclass"``).

    References
    ----------
    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.

    Abadie A, Spiess J (2022). *Journal of the American Statistical Association*
    117(538):983–995. doi:10.1080/01621459.2020.1840383

    Cameron AC, Gelbach JB, Miller DL (2011). Robust inference with multiway clustering.
    *Journal of Business & Economic Statistics* 29(2):238–249.

    Austin PC (2016). Variance estimation when using inverse probability of treatment weighting
    (IPTW) with survival analysis. *Statistics in Medicine* 35(30):5642–5655.

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> m = ek.match(rossi, group="fin", treated=1, covariates=["age", "prio", "wexp"])
    >>> eff = ek.matched_rate_difference(m, outcome="arrest")
    >>> eff.method
    'WLS, cluster-robust SE by matched set (HC1)'
    >>> list(eff.to_frame().columns[:6])
    ['estimate', 'se', 'lower', 'upper', 'statistic', 'p']
    """
    conf_level = check_conf_level(conf_level)
    if not isinstance(outcome, str):
        raise option_error("outcome", "must be a column name", outcome)
    if not isinstance(result, (MatchResult, WeightResult)):
        raise InputError(
            "result",
            f"must be a MatchResult or WeightResult, not {type(result).__name__}",
            argument=True,
        )
    data = result.data
    w_all = result.weights.to_numpy(dtype=float)
    use = w_all > 0
    z_all = result._covariates.z
    if isinstance(result, MatchResult):  # data holds exactly the rows with weight > 0
        y_data = _binary_outcome(data, outcome, np.ones(len(data), dtype=bool))
        z_data, w_data = z_all[use], w_all[use]
    else:
        y_data = _binary_outcome(data, outcome, use)
        z_data, w_data = z_all, w_all
    if isinstance(result, MatchResult) and result.replace:
        pr = result.pairs
        focal_col, pool_col = (
            ("treated", "control") if result.estimand == "ATT" else ("control", "treated")
        )
        focal_rows = data.index.get_indexer(pd.Index(pr[focal_col]))
        pool_rows = data.index.get_indexer(pd.Index(pr[pool_col]))
        sets = pr["subclass"].to_numpy()
        k = np.bincount(sets)[sets]
        first = np.r_[True, sets[1:] != sets[:-1]]
        rows = np.concatenate([focal_rows[first], pool_rows])
        w = np.concatenate([np.ones(int(first.sum())), 1.0 / k])
        set_of_row = np.concatenate([sets[first], sets])
        y, z = y_data[rows], z_data[rows]
        # two-way (Cameron, Gelbach & Miller 2011): by set, plus by person, minus by both —
        # a person appears once in a set, so the intersection is one row per cluster (HC1)
        parts = [diff_of_means_cr1(y, z, w, c, conf_level) for c in (set_of_row, rows, None)]
        var = parts[0].se ** 2 + parts[1].se ** 2 - parts[2].se ** 2
        fit = parts[0]
        se = math.sqrt(var) if var > 0 else math.nan
        method = "WLS on matched pairs, two-way cluster-robust SE by matched set and person"
        n_clusters = len(np.unique(set_of_row))
    else:
        rows = np.flatnonzero(w_data > 0)
        y, z, w = y_data[rows], z_data[rows], w_data[rows]
        if isinstance(result, MatchResult):
            clusters = result.subclass.to_numpy(dtype=np.int64, na_value=-1)[use][rows]
            method = "WLS, cluster-robust SE by matched set (HC1)"
            n_clusters = len(np.unique(clusters))
            fit = diff_of_means_cr1(y, z, w, clusters, conf_level)
        else:
            method = "WLS, heteroskedasticity-robust SE (HC1)"
            n_clusters = len(rows)
            fit = diff_of_means_cr1(y, z, w, None, conf_level)
        se = fit.se
    lower, upper, statistic, p = wald(fit.difference, se, conf_level)
    return MatchedEffect(
        estimate=fit.difference,
        se=se,
        lower=float(lower),
        upper=float(upper),
        statistic=float(statistic),
        p=float(p),
        rate_treated=fit.treated,
        rate_control=fit.control,
        conf_level=conf_level,
        method=method,
        n_treated=int(np.sum(w_data[z_data == 1] > 0)),
        n_control=int(np.sum(w_data[z_data == 0] > 0)),
        n_clusters=n_clusters,
        outcome=outcome,
        group=result.group,
        treated=result.treated,
        control=result.control,
    )
