"""Log-rank test of equal survival in k groups, optionally stratified (R's ``survdiff``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evalkit.errors import DesignError, SmallCountWarning, _plain
from evalkit.results import TestResult
from evalkit.schema import MIN_GROUP_EVENTS, MIN_GROUP_PEOPLE, SMALL_RULE, check_has_events
from evalkit.survival._common import group_column, prepare, run_starts, suffix_sum, table_html

__all__ = ["LogRankResult", "logrank"]


@dataclass(frozen=True, eq=False, repr=False)
class LogRankResult(TestResult):
    """Log-rank test comparing survival curves (R's ``survdiff`` with ``rho = 0``).

    Attributes
    ----------
    statistic, df, p, name
        Chi-squared statistic, its degrees of freedom (groups with expected events > 0, minus
        one), the upper-tail p-value and ``"log-rank"`` (``"stratified log-rank"`` with strata).
    table
        One row per group: ``group, n, observed, expected, o_minus_e, variance`` (observed and
        expected events summed over strata; ``variance`` is the diagonal of the variance of
        O − E).
    vcov
        The full k × k variance matrix of O − E, in the order of ``table``.
    n_strata
        Number of strata (1 without ``strata``).
    """

    _title = "Log-rank test"

    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    vcov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    n_strata: int = 1

    def _headline(self, chi: str = "chi-squared", digits: int = 4) -> str:
        return (
            f"{self.name.capitalize()} test: {chi} = {self.statistic:.{digits}f} on "
            f"{self.df:g} df, p = {self.p:.{digits}g}"
        )

    def summary(self) -> str:
        """The test and the per-group observed and expected events."""
        return f"{self._headline()}\n{self.table.to_string(index=False)}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return table_html(self._headline("χ²", 3), self.table)


def logrank(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    strata: str | Sequence[str] | None = None,
    id_col: str | None = None,
) -> LogRankResult:
    """Log-rank test of equal survival in k ≥ 2 groups, optionally stratified.

    R equivalent: ``survdiff(Surv(time, event) ~ by + strata(strata), data)``.

    Parameters
    ----------
    df
        One row per person.
    time, event
        Follow-up time (≥ 0) and event indicator (1 event, 0 censored).
    by
        Group column; at least two groups.
    strata
        Optional column (or columns) defining strata: observed and expected events and their
        variance are computed within each stratum and summed. A group absent from a stratum
        simply contributes nothing there (it has nobody at risk), as in R.
    id_col
        Column identifying people (one row per person): its values must be unique, and they
        name offending rows in error messages (default: no such column; index labels).

    Returns
    -------
    LogRankResult
        A :class:`~evalkit.results.TestResult` with a per-group ``table``.

    Raises
    ------
    DesignError
        Fewer than two groups, or a singular variance matrix (no informative event time; R's
        ``survdiff`` stops with an error there too).
    InputError
        Invalid time/event/group/strata values, or no events at all.

    Warns
    -----
    SmallCountWarning
        A group has fewer than 10 people or 5 events
        (:data:`~evalkit.schema.MIN_GROUP_PEOPLE`, :data:`~evalkit.schema.MIN_GROUP_EVENTS`),
        or fails the Mantel–Fleiss criterion: its expected events, summed over event times,
        are within 5 of the fewest or the most it could have had given the numbers at risk.
        The chi-squared approximation of the statistic, and so the p-value, is then unreliable
        (one person in a group can give p < 0.01 by chance); a permutation test is safer.

    Notes
    -----
    At each distinct event time t_j with d_j events among n_j at risk (n_gj in group g),
    E_g = Σ_j d_j n_gj / n_j and
    V_gh = Σ_j d_j (n_j − d_j)/(n_j − 1) · (n_gj/n_j)(δ_gh − n_hj/n_j) (hypergeometric variance,
    Mantel 1966; Peto & Peto 1972). The statistic is (O − E)ᵀ V⁻¹ (O − E) over the groups with
    E > 0 less the first, on that many degrees of freedom. Tied times are handled by the
    hypergeometric variance, as in R. The test has most power against proportional hazards;
    when curves cross it can miss real differences — report the curves and RMST as well. Case
    weights are not offered: R's ``survdiff`` has none. For an observational comparison the
    test answers "do the curves differ", not "what did the scheme cause".

    **Small groups.** The log-rank statistic is the Mantel–Haenszel statistic of the 2 × k
    tables (event or not, by group) at the event times, so the minimum-size rule of that
    statistic's chi-squared approximation applies (Mantel & Fleiss 1980): for each group,
    Σ_j E_gj must be at least 5 above Σ_j max(0, d_j − (n_j − n_gj)) and at least 5 below
    Σ_j min(d_j, n_gj), the fewest and the most events the group could have had at the
    observed event times. The simpler rule of at least 10 people and 5 events per group
    (Cochran 1954) is checked as well; either failing gives a warning, not an error.

    References
    ----------
    Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in
    its consideration. *Cancer Chemotherapy Reports* 50(3), 163–170.

    Peto, R. and Peto, J. (1972). Asymptotically efficient rank invariant test procedures.
    *Journal of the Royal Statistical Society A* 135(2), 185–207. doi:10.2307/2344317

    Mantel, N. and Fleiss, J.L. (1980). Minimum expected cell size requirements for the
    Mantel–Haenszel one-degree-of-freedom chi-square test and a related rapid procedure.
    *American Journal of Epidemiology* 112(1), 129–134.
    doi:10.1093/oxfordjournals.aje.a112982

    Cochran, W.G. (1954). Some methods for strengthening the common χ² tests. *Biometrics*
    10(4), 417–451. doi:10.2307/3001616

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> lr = ek.logrank(rossi, time="week", event="arrest", by="fin")
    >>> round(lr.statistic, 4), lr.df, round(lr.p, 4)
    (3.8376, 1.0, 0.0501)
    >>> lr
    LogRankResult(statistic=3.838, df=1, p=0.05012, name='log-rank', n_strata=1)
    """
    prep = prepare(
        df,
        time=time,
        event=event,
        by=by,
        strata=strata,
        min_groups=2,
        id_col=id_col,
        pool_groups=True,
    )
    check_has_events(prep.event, column=event)
    groups = prep.groups
    k = len(groups)
    n_strata = len(prep.bounds) - 1
    observed = np.zeros(k)
    expected = np.zeros(k)
    fewest = np.zeros(k)  # Mantel–Fleiss bounds: fewest and most events each group could have
    most = np.zeros(k)
    cov = np.zeros((k, k))
    for _, sl in prep.blocks():
        tt, ee, gg = prep.time[sl], prep.event[sl], prep.group_code[sl]
        starts = run_starts(tt)
        n_t = len(starts)
        tidx = np.repeat(np.arange(n_t), np.diff(np.append(starts, len(tt))))
        cell = tidx * k + gg
        total = np.bincount(cell, minlength=n_t * k).reshape(n_t, k).astype(float)
        dead = np.bincount(cell, weights=ee, minlength=n_t * k).reshape(n_t, k)
        risk = suffix_sum(total)  # n_gj: at risk in group g at time j (reverse cumsum, axis 0)
        n_j = risk.sum(axis=1)
        d_j = dead.sum(axis=1)
        use = d_j > 0
        risk, n_j, d_j = risk[use], n_j[use], d_j[use]
        observed += dead[use].sum(axis=0)
        fewest += np.maximum(d_j[:, None] - (n_j[:, None] - risk), 0.0).sum(axis=0)
        most += np.minimum(d_j[:, None], risk).sum(axis=0)
        p = risk / n_j[:, None]
        expected += (p * d_j[:, None]).sum(axis=0)
        multi = n_j > 1
        wj = np.zeros_like(n_j)
        wj[multi] = d_j[multi] * (n_j[multi] - d_j[multi]) / (n_j[multi] - 1)
        cov += np.diag((wj[:, None] * p).sum(axis=0)) - (p * wj[:, None]).T @ p

    keep = np.flatnonzero(expected > 0)
    if len(keep) < 2:
        chisq, dof = 0.0, max(len(keep) - 1, 0)
    else:
        sub = keep[1:]
        diff = (observed - expected)[sub]
        v_sub = cov[np.ix_(sub, sub)]
        scale = float(np.max(np.abs(v_sub)))
        if scale == 0 or np.linalg.matrix_rank(v_sub, tol=1e-12 * scale) < len(sub):
            raise DesignError(
                "the log-rank variance matrix is singular: at no event time were people from "
                "the groups at risk together with someone left over, so the data carry no "
                "information for the test"
            )
        chisq = float(diff @ np.linalg.solve(v_sub, diff))
        dof = len(keep) - 1
    from scipy.stats import chi2  # imported when first needed: keeps `import evalkit` fast

    p_value = float(chi2.sf(chisq, dof)) if dof > 0 else float("nan")
    n_per = np.bincount(prep.group_code, minlength=k)
    _warn_small(prep.group_code, prep.event, groups, expected, fewest, most)
    table = pd.DataFrame(
        {
            "group": group_column(groups, [1] * k),
            "n": n_per.astype(np.int64),
            "observed": observed,
            "expected": expected,
            "o_minus_e": observed - expected,
            "variance": np.diag(cov).copy(),
        }
    )
    cov.flags.writeable = False
    return LogRankResult(
        statistic=chisq,
        df=float(dof),
        p=p_value,
        name="stratified log-rank" if strata is not None else "log-rank",
        table=table,
        vcov=cov,
        n_strata=n_strata,
    )


def _warn_small(
    codes: np.ndarray,
    event: np.ndarray,
    groups: list,
    expected: np.ndarray,
    fewest: np.ndarray,
    most: np.ndarray,
) -> None:
    """SmallCountWarning for small groups and for the Mantel–Fleiss criterion (see logrank)."""
    k = len(groups)
    people = np.bincount(codes, minlength=k)
    events = np.bincount(codes, weights=(event > 0).astype(float), minlength=k)
    room = np.minimum(expected - fewest, most - expected)
    small = (people < MIN_GROUP_PEOPLE) | (events < MIN_GROUP_EVENTS)
    small |= (expected > 0) & (room < MIN_GROUP_EVENTS)
    if not small.any():
        return
    found = "; ".join(
        f"group {_plain(groups[i])!r}: {int(people[i])} "
        f"{'person' if people[i] == 1 else 'people'}, {int(events[i])} observed and "
        f"{expected[i]:.3g} expected events"
        for i in np.flatnonzero(small)[:6]
    )
    warnings.warn(
        f"log-rank test with small groups ({found}): {SMALL_RULE}, as it is when a group's "
        f"expected events are within {MIN_GROUP_EVENTS} of the fewest or the most it could "
        "have had; the p-value may be far from exact (consider a permutation test)",
        SmallCountWarning,
        stacklevel=3,
    )
