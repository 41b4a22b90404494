"""Survival analysis of time to reoffence: Kaplan–Meier, log-rank, RMST, cumulative incidence, Cox.

Every estimator here reproduces R's ``survival`` package (survival 3.x; reference values and the
script that made them are in ``tests/reference/``) and is vectorised over rows sorted by
(group, time): counts per distinct time come from :func:`numpy.add.reduceat`, numbers at risk
from reversed cumulative sums and variances from cumulative sums, so tied whole-day times cost
nothing extra and a million rows take a fraction of a second. Loops run over groups, strata or
causes, never over people.

The Cox model lives in :mod:`evalkit._cox` and is re-exported here.

Conventions shared by every function
-------------------------------------
* ``time`` is numeric and non-negative, ``event`` is 0 (censored) or 1 (event), booleans allowed
  (for :func:`cumulative_incidence`: 0 censored, 1, 2, … competing causes). Invalid rows raise
  :class:`~evalkit.errors.InputError` naming the column and the rows; nothing is dropped.
* ``by`` names the group column. Groups are reported in sorted order (categorical order for a
  categorical column); a categorical level with no rows is an error, as is a single group where
  a comparison needs two (:class:`~evalkit.errors.DesignError`). Without ``by`` the one curve is
  labelled ``"all"``. In every output table ``group`` is a pandas Categorical whose categories
  are the groups in that order (cheap on a million rows; compares equal to the plain labels).
* Confidence intervals use ``z = Φ⁻¹(1 − (1 − conf_level)/2)``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evalkit._cox import CoxResult, cox
from evalkit._results import TestResult
from evalkit.errors import DesignError, InputError
from evalkit.schema import (
    check_choice,
    check_frame,
    check_has_events,
    check_level,
    check_unique,
    group_codes,
    require_columns,
    validate_survival,
)

__all__ = [
    "CONF_TYPES",
    "VARIANCES",
    "CoxResult",
    "KaplanMeierResult",
    "LogRankResult",
    "cox",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "rmst",
    "rmst_difference",
]

#: Confidence-interval transformations, as R's ``conf.type``.
CONF_TYPES = ("log-log", "log", "plain")
#: Variance estimators of the Kaplan–Meier curve (``"auto"`` follows R's rule for weights).
VARIANCES = ("auto", "greenwood", "ij")

ConfType = Literal["log-log", "log", "plain"]

# R's tolerance for "S is exactly 0.5" in the median (survmean's minmin: sqrt(machine eps)).
_MEDIAN_TOL = float(np.sqrt(np.finfo(float).eps))
_ALL = "all"


# ----------------------------------------------------------------------------------------------
# Shared machinery
# ----------------------------------------------------------------------------------------------
def _z(conf_level: float) -> float:
    """Normal quantile for a two-sided interval; raise on a level outside (0, 1)."""
    level = check_level(conf_level)
    return float(stats.norm.ppf(1 - (1 - level) / 2))


@dataclass(frozen=True)
class _Prepared:
    """Validated columns sorted by (block, time), where blocks are groups or, with strata, strata.

    Every estimator starts from this: one sort, then contiguous slices per block.
    """

    time: np.ndarray
    event: np.ndarray  # 0/1 as float, or integer cause codes
    weights: np.ndarray | None
    groups: list[Any]  # group labels in output order ([_ALL] without ``by``)
    group_code: np.ndarray  # each sorted row's position in ``groups``
    bounds: np.ndarray  # rows of block b are bounds[b]:bounds[b + 1]

    def blocks(self) -> Iterable[tuple[int, slice]]:
        for b in range(len(self.bounds) - 1):
            yield b, slice(int(self.bounds[b]), int(self.bounds[b + 1]))


def _order(time: np.ndarray, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Row order sorted by (code, time) in O(n log n), O(n) for whole-day times.

    Whole-number times below 2¹⁵ (90 years of days) and codes are sorted with numpy's radix sort
    (stable sorts of 16-bit integers); other times with numpy's default comparison sort (the
    order of rows with tied times does not matter: they are aggregated).
    """
    if len(time) and time.max() < 2**15 and np.all(time == np.floor(time)):
        order = np.argsort(time.astype(np.int16), kind="stable")
    else:
        order = np.argsort(time)
    if n_codes > 1:
        sorted_codes = codes[order]
        if n_codes < 2**15:
            sorted_codes = sorted_codes.astype(np.int16)
        order = order[np.argsort(sorted_codes, kind="stable")]
    return order


def _prepare(
    df: Any,
    *,
    time: str,
    event: str,
    by: str | None,
    weights: str | None = None,
    strata: str | list[str] | None = None,
    causes: bool = False,
    min_groups: int = 1,
    id_col: str | None = None,
    pool_groups: bool = False,
) -> _Prepared:
    """Validate with the shared evalkit.schema rules, code groups (and strata) and sort once.

    ``id_col``, when given, must be a column with one row per person (unique values).

    Blocks are the groups, or with ``pool_groups`` the strata (one block without strata).
    """
    df = check_frame(df)
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    require_columns(df, [time, event, by, weights, id_col, *strata_cols])
    if id_col is not None:
        check_unique(df, id_col)
    v = validate_survival(df, time=time, event=event, weights=weights, causes=causes, id_col=id_col)
    t = v["time"]
    if by is not None:
        codes, labels = group_codes(df, by, min_groups=min_groups, id_col=id_col)
        groups = [_plain_num(g) for g in labels]  # np.int64(1) -> 1 in tables and reprs
    else:
        codes, groups = np.zeros(len(t), dtype=np.intp), [_ALL]
    block, n_blocks = codes, len(groups)
    if pool_groups:  # log-rank: one block per stratum, groups travel as a per-row code
        block, n_blocks = np.zeros(len(t), dtype=np.intp), 1
    if len(strata_cols) == 1:
        block, levels = group_codes(df, strata_cols[0], id_col=id_col)
        n_blocks = len(levels)
    elif strata_cols:  # combinations of several columns that occur in the data
        combined = np.zeros(len(t), dtype=np.int64)
        for col in strata_cols:
            c, levels = group_codes(df, col, id_col=id_col)
            combined = combined * len(levels) + c
        uniq, inverse = np.unique(combined, return_inverse=True)
        block, n_blocks = inverse.astype(np.intp).ravel(), len(uniq)
    order = _order(t, block, n_blocks)
    event_values = v["event"] if causes else v["event"].astype(float)
    return _Prepared(
        time=t[order],
        event=event_values[order],
        weights=v["weights"][order] if weights is not None else None,
        groups=groups,
        group_code=codes[order],
        bounds=np.searchsorted(block[order], np.arange(n_blocks + 1)),
    )


def _group_column(groups: list[Any], lengths: Iterable[int]) -> pd.Categorical:
    """Group labels for output rows: a categorical whose categories are the groups in order."""
    codes = np.repeat(np.arange(len(groups)), np.asarray(list(lengths), dtype=np.intp))
    return pd.Categorical.from_codes(codes, categories=pd.Index(groups))


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Index of the first element of every run of equal values in a sorted array."""
    new = np.empty(len(sorted_values), dtype=bool)
    if len(sorted_values):
        new[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _suffix_sum(x: np.ndarray) -> np.ndarray:
    """``out[j] = x[j] + x[j+1] + …`` (numbers at risk from counts per distinct time)."""
    return np.cumsum(x[::-1], axis=0)[::-1]


def _confint(
    p: np.ndarray, se_log: np.ndarray, z: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits for a probability ``p`` from the SE of ``log p`` (R's survfit_confint).

    ``plain``: p ∓ z·p·se, clipped to [0, 1]; ``log``: p·exp(∓z·se), upper capped at 1;
    ``log-log``: exp(−exp(log(−log p) ∓ z·se/log p)) (Kalbfleisch & Prentice 2002, §1.4).
    Where the estimate has no sampling variability yet (se = 0: no events so far) the interval is
    the point itself; where it is undefined (log of 0) it is NaN.
    """
    p = np.asarray(p, dtype=float)
    se_log = np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = z * se_log * p
            lower = np.maximum(p - half, 0.0)
            upper = np.minimum(p + half, 1.0)
            # R's pmax/pmin propagate NaN; numpy's maximum/minimum do too.
        elif conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            lower = np.exp(np.log(xx) - z * se_log)
            upper = np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)
        else:  # log-log
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            half = z * se_log / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - half))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + half))
    degenerate = se_log == 0
    lower = np.where(degenerate, p, lower)
    upper = np.where(degenerate, p, upper)
    return lower, upper


def _check_times(times: Any, name: str = "times") -> np.ndarray:
    """Requested time points: finite, non-negative numbers; returned sorted and de-duplicated."""
    arr = np.atleast_1d(np.asarray(times, dtype=object))
    try:
        values = arr.astype(float)
    except (TypeError, ValueError):
        raise InputError(name, "must be numbers") from None
    if values.size == 0:
        raise InputError(name, "must hold at least one time")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise InputError(name, "must be finite and not negative", [_plain_num(v) for v in arr[bad]])
    return np.unique(values)


def _plain_num(v: Any) -> Any:
    item = getattr(v, "item", None)
    return item() if callable(item) else v


def _check_tau(tau: Any) -> float:
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise InputError("tau", f"must be a positive number, got {tau!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise InputError("tau", f"must be a positive number, got {tau!r}")
    return value


def _first_below_half(y: np.ndarray, x: np.ndarray) -> float:
    """R's ``minmin`` (survival:::survmean): first x where y ≤ 0.5, midpoint rule on a plateau.

    y is a survival curve (or a confidence limit curve) on the times x, starting at time 0; NaN
    values are skipped. When y equals 0.5 (within √eps) the result is the midpoint between that
    time and the next time y drops below it (Brookmeyer & Crowley 1982 read off the limits).
    """
    keep = ~np.isnan(y) & (y < 0.5 + _MEDIAN_TOL)
    if not keep.any():
        return float("nan")
    xk, yk = x[keep], y[keep]
    if abs(yk[0] - 0.5) < _MEDIAN_TOL:
        lower = np.flatnonzero(yk < yk[0])
        if lower.size:
            return float((xk[0] + xk[lower[0]]) / 2)
    return float(xk[0])


def _table_html(title: str, frame: pd.DataFrame, note: str = "") -> str:
    body = frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="NA")
    extra = f"<p>{html.escape(note)}</p>" if note else ""
    return f"<p><strong>{html.escape(title)}</strong></p>{extra}{body}"


# ----------------------------------------------------------------------------------------------
# Kaplan–Meier
# ----------------------------------------------------------------------------------------------
def _km_curve(t: np.ndarray, e: np.ndarray, w: np.ndarray, ij: bool) -> dict[str, np.ndarray]:
    """Kaplan–Meier curve of one group from rows sorted by time.

    Returns arrays over the distinct times: time, at_risk, events, censored (weighted sums),
    survival, se (SE of S) and se_log (SE of log S, which the confidence limits use).

    Greenwood (1926): var(log S(t)) = Σ_{t_j ≤ t} d_j / (n_j (n_j − d_j)), on weighted counts.

    Infinitesimal jackknife (R's default for non-integer case weights; Therneau's survfitKM
    "robust variance" with every row its own cluster): var S(t) = Σ_i (w_i ∂S(t)/∂w_i)². With
    a_j = d_j/(n_j(n_j − d_j)), b_j = 1/(n_j − d_j) and A(t) = Σ_{t_j ≤ t} a_j, differentiating
    log S(t) = Σ log(1 − d_j/n_j) gives w_i ∂S(t)/∂w_i = S(t)·w_i·u_i(t) with
    u_i(t) = A(min(t, T_i)) − δ_i·1{T_i ≤ t}·b(T_i). Rows still at risk after t share
    u = A(t), so var S(t) = S(t)² [A(t)²·Σ_{T_i > t} w_i² + Σ_{T_i ≤ t} w_i² u_i²], and the last
    sum is a cumulative sum over the distinct times.
    """
    starts = _run_starts(t)
    times = t[starts]
    wev = w * e
    events = np.add.reduceat(wev, starts)
    censored = np.add.reduceat(w - wev, starts)
    at_risk = _suffix_sum(events + censored)
    has = events > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(has, (at_risk - events) / at_risk, 1.0))
        if not ij:
            green = np.where(has, events / (at_risk * (at_risk - events)), 0.0)
            se_log = np.sqrt(np.cumsum(green))  # inf once S reaches 0, as in R
            se = surv * se_log  # NaN where S = 0 (0·inf), as R's summary()
        else:
            w2 = w * w
            w2e = np.add.reduceat(w2 * e, starts)
            w2c = np.add.reduceat(w2 * (1 - e), starts)
            w2_after = np.append(_suffix_sum(w2e + w2c)[1:], 0.0)
            # The step where S reaches 0 has zero derivative (everyone at risk had the event);
            # its a and b only ever multiply zeros, so set them to 0 to avoid 0·inf.
            live = has & (at_risk - events > 0)
            a = np.where(live, events / (at_risk * (at_risk - events)), 0.0)
            b = np.where(live, 1.0 / (at_risk - events), 0.0)
            big_a = np.cumsum(a)
            inside = np.cumsum(w2c * big_a**2 + w2e * (big_a - b) ** 2)
            se = surv * np.sqrt(big_a**2 * w2_after + inside)
            se_log = np.where(se == 0, 0.0, se / surv)
    return {
        "time": times,
        "at_risk": at_risk,
        "events": events,
        "censored": censored,
        "survival": surv,
        "se": se,
        "se_log": se_log,
    }


@dataclass(frozen=True, eq=False)
class KaplanMeierResult:
    """Kaplan–Meier estimate of the survival curve, one curve per group.

    Attributes
    ----------
    table
        One row per event time and group: ``group, time, at_risk, events, censored, survival,
        se, lower, upper``. ``censored`` counts censorings in (previous event time, time], as R's
        ``summary(fit, censored = FALSE)``; ``se`` is the standard error of S(t) (not of log S).
        With weights, the counts are sums of weights.
    curve
        The same columns at every distinct observed time (event or censoring): the whole step
        function, used by :meth:`at`, :meth:`median` and the plot.
    groups
        The groups, in the order used in every table.
    counts
        One row per group: ``group, n`` (rows), ``events`` (rows with an event).
    conf_level, conf_type
        Level and transformation of the pointwise confidence limits.
    variance
        ``"greenwood"`` or ``"ij"`` (infinitesimal jackknife), the variance actually used.
    weighted
        Whether case weights were given.
    time, event, by, weights
        The column names the curve was estimated from.
    """

    table: pd.DataFrame = field(repr=False)
    curve: pd.DataFrame = field(repr=False)
    groups: tuple[Any, ...]
    counts: pd.DataFrame = field(repr=False)
    conf_level: float
    conf_type: str
    variance: str
    weighted: bool
    time: str
    event: str
    by: str | None = None
    weights: str | None = None
    _bounds: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(1, dtype=np.intp))

    def _slices(self) -> Iterable[tuple[Any, slice]]:
        for i, g in enumerate(self.groups):
            yield g, slice(int(self._bounds[i]), int(self._bounds[i + 1]))

    def at(self, times: Any) -> pd.DataFrame:
        """Survival at given times, as R's ``summary(fit, times = times)``.

        Parameters
        ----------
        times
            Non-negative time points (sorted and de-duplicated).

        Returns
        -------
        pandas.DataFrame
            ``group, time, survival, se, lower, upper, at_risk, events, censored``: S(t) is the
            step function at t (an event at t counts), ``at_risk`` the number with time ≥ t,
            ``events``/``censored`` the counts in (previous requested time, t]. Before the first
            event S = 1 with limits 1. After the last follow-up time of a group (its largest
            observed time) S is unknown: ``survival, se, lower, upper`` are NaN and ``at_risk``
            is 0. (R's ``summary(times=, extend = FALSE)`` drops such rows instead; returning
            them as NaN keeps one row per group and time.)
        """
        req = _check_times(times)
        c = self.curve
        cols = {k: c[k].to_numpy(dtype=float) for k in c.columns if k != "group"}
        start = {"survival": 1.0, "se": 0.0, "lower": 1.0, "upper": 1.0}
        out: dict[str, list[np.ndarray]] = {
            k: [] for k in ("survival", "se", "lower", "upper", "at_risk", "events", "censored")
        }
        for _, sl in self._slices():
            ut = cols["time"][sl]
            idx = np.searchsorted(ut, req, side="right") - 1  # last distinct time ≤ t
            first = np.minimum(np.searchsorted(ut, req, side="left"), len(ut) - 1)
            before, beyond = idx < 0, req > ut[-1]
            for name, initial in start.items():
                v = cols[name][sl][np.maximum(idx, 0)]
                out[name].append(np.where(before, initial, np.where(beyond, np.nan, v)))
            out["at_risk"].append(np.where(beyond, 0.0, cols["at_risk"][sl][first]))
            for name in ("events", "censored"):
                cum = np.concatenate([[0.0], np.cumsum(cols[name][sl])])[idx + 1]
                out[name].append(np.diff(cum, prepend=0.0))
        kind = float if self.weighted else np.int64
        frame = pd.DataFrame(
            {
                "group": _group_column(list(self.groups), [len(req)] * len(self.groups)),
                "time": np.tile(req, len(self.groups)),
            }
        )
        for name, parts in out.items():
            value = np.concatenate(parts)
            frame[name] = (
                _counts(value, kind) if name in ("at_risk", "events", "censored") else value
            )
        return frame

    def median(self) -> pd.DataFrame:
        """Median survival time with its confidence interval, as R's ``print(survfit(...))``.

        The median is the first time S(t) ≤ 0.5; where S is exactly 0.5 over an interval it is
        the midpoint of that interval (R's rule, to √eps). The limits apply the same rule to the
        pointwise confidence curves (Brookmeyer & Crowley 1982): ``lower`` is where the lower
        pointwise limit reaches 0.5 (it falls first) and ``upper`` where the upper limit does;
        they depend on ``conf_type`` and the variance. NaN means not reached (for ``upper``:
        the upper limit never falls to 0.5 within follow-up).

        Returns
        -------
        pandas.DataFrame
            ``group, median, lower, upper``.
        """
        c = self.curve
        t = c["time"].to_numpy(dtype=float)
        s = c["survival"].to_numpy(dtype=float)
        lo = c["lower"].to_numpy(dtype=float)
        up = c["upper"].to_numpy(dtype=float)
        res: dict[str, list[float]] = {"median": [], "lower": [], "upper": []}
        for _, sl in self._slices():
            x = np.concatenate([[0.0], t[sl]])
            for name, curve in (("median", s), ("lower", lo), ("upper", up)):
                res[name].append(_first_below_half(np.concatenate([[1.0], curve[sl]]), x))
        return pd.DataFrame(
            {"group": _group_column(list(self.groups), [1] * len(self.groups)), **res}
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Step curves with confidence bands, censoring ticks and an at-risk table.

        See :func:`evalkit.plotting.plot_km` for the options; returns the matplotlib axes.
        """
        from evalkit.plotting import plot_km

        return plot_km(self, ax=ax, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """The event-time table (a copy of :attr:`table`)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        note = (
            f"{self.conf_level:.0%} pointwise limits ({self.conf_type}), "
            f"{'Greenwood' if self.variance == 'greenwood' else 'infinitesimal-jackknife'} "
            "variance"
        )
        return _table_html("Kaplan–Meier estimate: median survival", self.median(), note)


def kaplan_meier(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | None = None,
    weights: str | None = None,
    conf_level: float = 0.95,
    conf_type: ConfType = "log-log",
    variance: Literal["auto", "greenwood", "ij"] = "auto",
    id_col: str | None = None,
) -> KaplanMeierResult:
    """Kaplan–Meier estimate of the survival function, with pointwise confidence limits.

    R equivalent: ``survfit(Surv(time, event) ~ by, data, weights = w, conf.type = conf_type)``
    and ``summary()`` of it.

    Parameters
    ----------
    df
        One row per person.
    time, event
        Columns: follow-up time (≥ 0) and event indicator (1 event, 0 censored).
    by
        Optional group column: one curve per group.
    weights
        Optional column of positive case weights. Counts become sums of weights, as in R.
    conf_level
        Level of the pointwise limits (default 0.95).
    conf_type
        ``"log-log"`` (default; Kalbfleisch & Prentice 2002), ``"log"`` (R's own default) or
        ``"plain"``.
    variance
        ``"greenwood"`` (Greenwood 1926, on weighted counts), ``"ij"`` (infinitesimal jackknife,
        each row its own cluster) or ``"auto"``: IJ when some weight is not a whole number, else
        Greenwood — R's default (``survfitKM`` switches ``robust`` on for non-integer weights).
        Without weights both give Greenwood under ``"auto"``.
    id_col
        Column identifying people (one row per person): its values must be unique, and they
        name offending rows in error messages (default: no such column; index labels).

    Returns
    -------
    KaplanMeierResult
        ``.table`` (every event time), ``.at(times)``, ``.median()``, ``.plot()``.

    Raises
    ------
    InputError
        Missing columns; time missing, negative or not finite; event not 0/1; weights not
        positive; a categorical group with no rows; bad ``conf_level``/``conf_type``/``variance``.

    Notes
    -----
    S(t) = Π_{t_j ≤ t} (1 − d_j/n_j) over the distinct event times, with d_j events and n_j at
    risk (Kaplan & Meier 1958). Assumes censoring independent of the time to event given the
    group: people lost to follow-up (death, emigration, custody) must have the same prospects as
    those still followed. The curve is not a proportion reoffending when there are competing
    events such as death — use :func:`cumulative_incidence` for that.

    Where S(t) has no sampling variability yet (S = 1 before the first event; S = 0 under the
    infinitesimal jackknife once everyone has had the event) the limits equal S. R agrees at
    time 0 but reports NA for ``log-log`` between the first censoring and the first event, and
    for ``log``/``log-log`` at S = 0. With Greenwood the variance is infinite at S = 0, so
    ``se`` and the limits there are NaN, as in R. Times are used as given;
    R additionally merges times that differ by rounding error (``timefix``), which matters only
    for non-integer times computed by arithmetic.

    References
    ----------
    Kaplan, E.L. and Meier, P. (1958). Nonparametric estimation from incomplete observations.
    *Journal of the American Statistical Association* 53(282), 457–481.
    doi:10.1080/01621459.1958.10501452

    Greenwood, M. (1926). *The Natural Duration of Cancer*. Reports on Public Health and Medical
    Subjects 33. London: HMSO.

    Kalbfleisch, J.D. and Prentice, R.L. (2002). *The Statistical Analysis of Failure Time
    Data*, 2nd ed. Wiley. doi:10.1002/9781118032985

    Brookmeyer, R. and Crowley, J. (1982). A confidence interval for the median survival time.
    *Biometrics* 38(1), 29–41. doi:10.2307/2530286

    Therneau, T.M. and Grambsch, P.M. (2000). *Modeling Survival Data: Extending the Cox Model*.
    Springer. doi:10.1007/978-1-4757-3294-8 (infinitesimal-jackknife variance).

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> km = ek.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    >>> km.at([52])[["group", "survival", "lower", "upper"]].round(3)
       group  survival  lower  upper
    0      0     0.694  0.628  0.751
    1      1     0.778  0.716  0.828
    """
    check_choice(conf_type, "conf_type", CONF_TYPES)
    check_choice(variance, "variance", VARIANCES)
    z = _z(conf_level)
    prep = _prepare(df, time=time, event=event, by=by, weights=weights, id_col=id_col)
    w = prep.weights if prep.weights is not None else np.ones_like(prep.time)
    if variance == "auto":
        variance = "ij" if weights is not None and np.any(w != np.floor(w)) else "greenwood"
    ij = variance == "ij"

    parts: list[dict[str, np.ndarray]] = []
    counts = []
    for i, sl in prep.blocks():
        cv = _km_curve(prep.time[sl], prep.event[sl], w[sl], ij)
        # Event-time table: censorings accumulated over (previous event time, t], as R.
        is_event = cv["events"] > 0
        cv["is_event"] = is_event
        cv["censored_since"] = np.diff(np.cumsum(cv["censored"])[is_event], prepend=0.0)
        parts.append(cv)
        counts.append(
            {"group": prep.groups[i], "n": sl.stop - sl.start, "events": int(prep.event[sl].sum())}
        )
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    lower, upper = _confint(cat["survival"], cat["se_log"], z, conf_type)
    lengths = [len(p["time"]) for p in parts]
    count_type = float if weights is not None else np.int64
    curve = pd.DataFrame(
        {
            "group": _group_column(prep.groups, lengths),
            "time": cat["time"],
            "at_risk": _counts(cat["at_risk"], count_type),
            "events": _counts(cat["events"], count_type),
            "censored": _counts(cat["censored"], count_type),
            "survival": cat["survival"],
            "se": cat["se"],
            "lower": lower,
            "upper": upper,
        }
    )
    table = curve.loc[cat["is_event"]].reset_index(drop=True)
    table["censored"] = _counts(cat["censored_since"], count_type)
    return KaplanMeierResult(
        table=table,
        curve=curve,
        groups=tuple(prep.groups),
        counts=pd.DataFrame(counts, columns=["group", "n", "events"]),
        conf_level=float(conf_level),
        conf_type=conf_type,
        variance=variance,
        weighted=weights is not None,
        time=time,
        event=event,
        by=by,
        weights=weights,
        _bounds=np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp),
    )


def _counts(x: np.ndarray, kind: Any) -> np.ndarray:
    """Counts as integers when unweighted (they are whole numbers), else as sums of weights."""
    return np.rint(x).astype(np.int64) if kind is np.int64 else np.asarray(x, dtype=float)


# ----------------------------------------------------------------------------------------------
# Log-rank test
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LogRankResult(TestResult):
    """Log-rank test comparing survival curves (R's ``survdiff`` with ``rho = 0``).

    Attributes
    ----------
    statistic, df, p_value, name
        Chi-squared statistic, its degrees of freedom (groups with expected events > 0, minus
        one), the upper-tail p-value and ``"log-rank"`` (``"stratified log-rank"`` with strata).
    table
        One row per group: ``group, n, observed, expected, o_minus_e, variance`` (observed and
        expected events summed over strata; ``variance`` is the diagonal of the variance of
        O − E).
    covariance
        The full k × k variance matrix of O − E, in the order of ``table``.
    n_strata
        Number of strata (1 without ``strata``).
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    covariance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    n_strata: int = 1

    def __str__(self) -> str:
        return (
            f"{self.name.capitalize()} test: chi-squared = {self.statistic:.4f} on "
            f"{self.df:g} df, p = {self.p_value:.4g}\n{self.table.to_string(index=False)}"
        )

    def _repr_html_(self) -> str:
        title = (
            f"{self.name.capitalize()} test: χ² = {self.statistic:.3f} on {self.df:g} df, "
            f"p = {self.p_value:.3g}"
        )
        return _table_html(title, self.table)


def logrank(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    strata: str | list[str] | None = None,
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
        A :class:`~evalkit._results.TestResult` with a per-group ``table``.

    Raises
    ------
    DesignError
        Fewer than two groups, or a singular variance matrix (no informative event time; R's
        ``survdiff`` stops with an error there too).
    InputError
        Invalid time/event/group/strata values, or no events at all.

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

    References
    ----------
    Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in
    its consideration. *Cancer Chemotherapy Reports* 50(3), 163–170.

    Peto, R. and Peto, J. (1972). Asymptotically efficient rank invariant test procedures.
    *Journal of the Royal Statistical Society A* 135(2), 185–207. doi:10.2307/2344317

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> lr = ek.logrank(rossi, time="week", event="arrest", by="fin")
    >>> round(lr.statistic, 4), lr.df, round(lr.p_value, 4)
    (3.8376, 1.0, 0.0501)
    """
    prep = _prepare(
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
    cov = np.zeros((k, k))
    for _, sl in prep.blocks():
        tt, ee, gg = prep.time[sl], prep.event[sl], prep.group_code[sl]
        starts = _run_starts(tt)
        n_t = len(starts)
        tidx = np.repeat(np.arange(n_t), np.diff(np.append(starts, len(tt))))
        cell = tidx * k + gg
        total = np.bincount(cell, minlength=n_t * k).reshape(n_t, k).astype(float)
        dead = np.bincount(cell, weights=ee, minlength=n_t * k).reshape(n_t, k)
        risk = _suffix_sum(total)  # n_gj: at risk in group g at time j (reverse cumsum, axis 0)
        n_j = risk.sum(axis=1)
        d_j = dead.sum(axis=1)
        use = d_j > 0
        risk, n_j, d_j = risk[use], n_j[use], d_j[use]
        observed += dead[use].sum(axis=0)
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
    p_value = float(stats.chi2.sf(chisq, dof)) if dof > 0 else float("nan")
    n_per = np.bincount(prep.group_code, minlength=k)
    table = pd.DataFrame(
        {
            "group": _group_column(groups, [1] * k),
            "n": n_per.astype(np.int64),
            "observed": observed,
            "expected": expected,
            "o_minus_e": observed - expected,
            "variance": np.diag(cov).copy(),
        }
    )
    return LogRankResult(
        statistic=chisq,
        df=float(dof),
        p_value=p_value,
        name="stratified log-rank" if strata is not None else "log-rank",
        table=table,
        covariance=cov,
        n_strata=n_strata,
    )


# ----------------------------------------------------------------------------------------------
# Restricted mean survival time
# ----------------------------------------------------------------------------------------------
def _rmst_one(t: np.ndarray, e: np.ndarray, tau: float) -> tuple[float, float, float, float]:
    """RMST and its SE for one group (rows sorted by time), as R's survmean with rmean = tau.

    Returns (rmst, se, last observed time, final survival).
    """
    starts = _run_starts(t)
    times = t[starts]
    events = np.add.reduceat(e, starts)
    at_risk = _suffix_sum(np.diff(np.append(starts, len(t))).astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(events > 0, (at_risk - events) / at_risk, 1.0))
        hh = np.where(at_risk - events > 0, events / (at_risk * (at_risk - events)), 0.0)
    k = int(np.searchsorted(times, tau, side="right"))
    breaks = np.concatenate([[0.0], times[:k], [tau]])
    heights = np.concatenate([[1.0], surv[:k]])
    rect = np.diff(breaks) * heights
    area_after = _suffix_sum(rect)[1:]  # ∫_{t_j}^{tau} S(u) du for each kept time t_j
    var = float(np.sum(area_after**2 * hh[:k]))
    return float(rect.sum()), float(np.sqrt(var)), float(times[-1]), float(surv[-1])


def _rmst_table(
    df: pd.DataFrame,
    time: str,
    event: str,
    tau: Any,
    by: str | None,
    conf_level: float,
    id_col: str | None,
    min_groups: int = 1,
) -> pd.DataFrame:
    z = _z(conf_level)
    tau_ = _check_tau(tau)
    prep = _prepare(df, time=time, event=event, by=by, min_groups=min_groups, id_col=id_col)
    values, ses = [], []
    for i, sl in prep.blocks():
        value, se, last, s_last = _rmst_one(prep.time[sl], prep.event[sl], tau_)
        if tau_ > last and s_last > 0:
            where = f" in group {_plain_num(prep.groups[i])!r}" if by is not None else ""
            raise InputError(
                "tau",
                f"is {tau_:g}, beyond the last follow-up time{where} ({last:g}); the survival "
                "curve is unknown there. Choose tau no larger than the shortest group's last "
                "follow-up time",
            )
        values.append(value)
        ses.append(se)
    est, se_arr = np.asarray(values), np.asarray(ses)
    out = pd.DataFrame(
        {
            "group": _group_column(prep.groups, [1] * len(prep.groups)),
            "tau": np.full(len(est), tau_),
            "rmst": est,
            "se": se_arr,
            "lower": est - z * se_arr,
            "upper": est + z * se_arr,
        }
    )
    out.attrs["conf_level"] = float(conf_level)
    return out


def rmst(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    tau: float,
    by: str | None = None,
    conf_level: float = 0.95,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Restricted mean survival time: expected time free of the event up to ``tau``.

    R equivalent: ``summary(survfit(Surv(time, event) ~ by), rmean = tau)$table[, c("rmean",
    "se(rmean)")]``.

    Parameters
    ----------
    df
        One row per person.
    time, event
        Follow-up time (≥ 0) and event indicator (1 event, 0 censored).
    tau
        Restriction time (> 0), in the units of ``time``.
    by
        Optional group column.
    conf_level
        Level of the (plain, RMST ± z·se) interval.
    id_col
        Column identifying people (one row per person): its values must be unique, and they
        name offending rows in error messages (default: no such column; index labels).

    Returns
    -------
    pandas.DataFrame
        ``group, tau, rmst, se, lower, upper``; ``attrs["conf_level"]`` holds the level.

    Raises
    ------
    InputError
        Invalid data or ``tau``; ``tau`` beyond the last follow-up time of a group whose curve
        has not reached 0 (R silently carries the last value of S forward; survRM2 refuses, and
        so do we, because the area beyond the data is a guess).

    Notes
    -----
    RMST(τ) = ∫₀^τ S(u) du, the area under the Kaplan–Meier step function (Royston & Parmar
    2013). Its variance is the delta-method (Greenwood-type) estimate used by R and survRM2:
    var = Σ_{t_j ≤ τ} A_j² d_j / (n_j (n_j − d_j)) with A_j = ∫_{t_j}^τ S(u) du (Miller 1981,
    §3.1.2); terms with n_j = d_j are 0 and there is no n/(n − 1) factor. RMST needs no
    proportional-hazards assumption and reads in time units ("on average 2 more weeks free of
    arrest in the first year"). Choose τ before looking at the data; near the end of follow-up,
    where few remain at risk, the estimate is noisy.

    References
    ----------
    Royston, P. and Parmar, M.K.B. (2013). Restricted mean survival time: an alternative to the
    hazard ratio for the design and analysis of randomized trials with a time-to-event outcome.
    *BMC Medical Research Methodology* 13, 152. doi:10.1186/1471-2288-13-152

    Uno, H. et al. (2014). Moving beyond the hazard ratio in quantifying the between-group
    difference in survival analysis. *Journal of Clinical Oncology* 32(22), 2380–2385.
    doi:10.1200/JCO.2014.55.2208

    Miller, R.G. (1981). *Survival Analysis*. Wiley.

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> ek.rmst(rossi, time="week", event="arrest", tau=52, by="fin").round(3)
       group  tau    rmst     se   lower   upper
    0      0 52.0  44.833  0.918  43.035  46.632
    1      1 52.0  46.875  0.793  45.320  48.430
    """
    return _rmst_table(df, time, event, tau, by, conf_level, id_col)


def rmst_difference(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    tau: float,
    reference: Any = None,
    conf_level: float = 0.95,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Difference in restricted mean survival time between groups (Uno et al. 2014).

    R equivalent: ``survRM2::rmst2(time, status, arm, tau)`` ("RMST (arm=1)-(arm=0)"), built from
    the per-group values of :func:`rmst`.

    Parameters
    ----------
    df
        One row per person.
    time, event
        Follow-up time (≥ 0) and event indicator (1 event, 0 censored).
    by
        Group column; at least two groups.
    tau
        Restriction time (> 0).
    reference
        The group every other group is compared with (default: the first group in order).
    conf_level
        Level of the interval difference ± z·se.
    id_col
        Column identifying people (one row per person): its values must be unique, and they
        name offending rows in error messages (default: no such column; index labels).

    Returns
    -------
    pandas.DataFrame
        One row per non-reference group: ``group, reference, tau, difference, se, lower, upper,
        p`` with difference = RMST(group) − RMST(reference), se = √(se₁² + se₀²) and a two-sided
        normal p-value.

    Raises
    ------
    DesignError
        Fewer than two groups.
    InputError
        Invalid data, ``tau`` or ``reference``; ``tau`` beyond a group's follow-up (see
        :func:`rmst`).

    Notes
    -----
    The groups are independent samples (e.g. randomised arms or separate cohorts), so the
    variances add. Matched or weighted comparisons need a variance that reflects the matching.

    References
    ----------
    Uno, H. et al. (2014). Moving beyond the hazard ratio in quantifying the between-group
    difference in survival analysis. *Journal of Clinical Oncology* 32(22), 2380–2385.
    doi:10.1200/JCO.2014.55.2208

    Royston, P. and Parmar, M.K.B. (2013). *BMC Medical Research Methodology* 13, 152.
    doi:10.1186/1471-2288-13-152

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> d = ek.rmst_difference(rossi, time="week", event="arrest", by="fin", tau=52)
    >>> d[["group", "reference", "difference", "se", "p"]].round(3)
       group  reference  difference     se      p
    0      1          0       2.042  1.213  0.092
    """
    z = _z(conf_level)
    per = _rmst_table(df, time, event, tau, by, conf_level, id_col, min_groups=2)
    groups = list(per["group"].cat.categories)
    if reference is None:
        ref_pos = 0
    else:
        matches = [i for i, g in enumerate(groups) if g == reference]
        if not matches:
            valid = ", ".join(repr(_plain_num(g)) for g in groups)
            raise InputError("reference", f"got {reference!r}; valid groups are {valid}")
        ref_pos = matches[0]
    values = per["rmst"].to_numpy(dtype=float)
    ses = per["se"].to_numpy(dtype=float)
    rows = []
    for i, g in enumerate(groups):  # one row per group, not per person
        if i == ref_pos:
            continue
        diff = float(values[i] - values[ref_pos])
        se = float(np.hypot(ses[i], ses[ref_pos]))
        p = float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else float("nan")
        rows.append(
            {
                "group": g,
                "reference": groups[ref_pos],
                "tau": float(per["tau"].iloc[0]),
                "difference": diff,
                "se": se,
                "lower": diff - z * se,
                "upper": diff + z * se,
                "p": p,
            }
        )
    out = pd.DataFrame(
        rows, columns=["group", "reference", "tau", "difference", "se", "lower", "upper", "p"]
    )
    for col in ("group", "reference"):
        out[col] = pd.Categorical(out[col], categories=per["group"].cat.categories)
    out.attrs["conf_level"] = float(conf_level)
    return out


# ----------------------------------------------------------------------------------------------
# Cumulative incidence (Aalen–Johansen)
# ----------------------------------------------------------------------------------------------
def _cif_one(
    t: np.ndarray, c: np.ndarray, causes: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Aalen–Johansen cumulative incidence and its IJ standard error for one group.

    Rows are sorted by time; ``c`` holds 0 (censored) or the cause. Returns the distinct-time
    arrays (time, at_risk, events) and, per cause, (estimate, se) over the distinct times.

    With all-cause KM S, f_kj = S(t_j−) d_kj / n_j and F_k(t) = Σ_{t_j ≤ t} f_kj. The influence
    of row i (unit weights) is D_i(t) = ∂F_k(t)/∂w_i. Using ∂S(t_j−)/∂w_i = S(t_j−) u_i(t_{j−1})
    with u_i as in the Kaplan–Meier IJ (G = cumulative a_j, g_i = G(T_i) − δ_i b(T_i)):

    * rows with T_i > t:  D = R_k(t) := H_k(t) − Q_k(t), where H_k(t) = Σ f_kj G(t_j−) and
      Q_k(t) = Σ f_kj / n_j;
    * rows with T_i ≤ t:  D_i = α_i + g_i (F_k(t) − F_k(T_i)) with α_i = R_k(T_i) +
      1{cause_i = k} S(T_i−)/n(T_i).

    Writing p_i = α_i − g_i F_k(T_i), Σ_{T_i ≤ t} D_i² = Σp² + 2F_k(t) Σpg + F_k(t)² Σg², three
    cumulative sums over distinct times; var F_k(t) = #{T_i > t}·R_k(t)² + that.
    """
    starts = _run_starts(t)
    times = t[starts]
    size = np.diff(np.append(starts, len(t))).astype(float)
    d_all = np.add.reduceat((c > 0).astype(float), starts)
    n = _suffix_sum(size)
    n_after = np.append(n[1:], 0.0)
    has = d_all > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(has, (n - d_all) / n, 1.0))
        live = has & (n - d_all > 0)
        a = np.where(live, d_all / (n * (n - d_all)), 0.0)
        b = np.where(live, 1.0 / (n - d_all), 0.0)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    big_g = np.cumsum(a)
    g_prev = np.concatenate([[0.0], big_g[:-1]])
    cens = size - d_all
    g_event = big_g - b
    jump_unit = s_prev / n
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in causes:
        d_k = np.add.reduceat((c == k).astype(float), starts)
        d_other = d_all - d_k
        f = jump_unit * d_k
        big_f = np.cumsum(f)
        r = np.cumsum(f * g_prev) - np.cumsum(f / n)
        # Per distinct time, the three kinds of rows ending there: censored, cause k, other.
        p_cens = r - big_g * big_f
        p_k = r + jump_unit - g_event * big_f
        p_oth = r - g_event * big_f
        s_pp = np.cumsum(cens * p_cens**2 + d_k * p_k**2 + d_other * p_oth**2)
        s_pg = np.cumsum(cens * p_cens * big_g + (d_k * p_k + d_other * p_oth) * g_event)
        s_gg = np.cumsum(cens * big_g**2 + d_all * g_event**2)
        var = n_after * r**2 + s_pp + 2 * big_f * s_pg + big_f**2 * s_gg
        # The expansion cancels where the true variance is 0 (e.g. once everyone has had an
        # event); values within round-off of the terms' size are 0.
        scale = n_after * r**2 + s_pp + 2 * np.abs(big_f * s_pg) + big_f**2 * s_gg
        var = np.where(var <= 64 * np.finfo(float).eps * scale, 0.0, var)
        out[int(k)] = (big_f, np.sqrt(var))
    return {"time": times, "at_risk": n, "events": d_all}, out


def cumulative_incidence(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | None = None,
    times: Any = None,
    conf_level: float = 0.95,
    conf_type: ConfType = "log",
    id_col: str | None = None,
) -> pd.DataFrame:
    """Cumulative incidence of competing events (Aalen–Johansen), with IJ standard errors.

    R equivalent: ``survfit(Surv(time, factor(event, 0:K)) ~ by)`` — a multi-state fit whose
    ``pstate`` for each cause is the cumulative incidence — and ``summary(fit, times = times)``.

    Parameters
    ----------
    df
        One row per person.
    time
        Follow-up time (≥ 0).
    event
        0 = censored, 1, 2, … = the cause that ended follow-up (e.g. 1 reoffence, 2 death).
    by
        Optional group column.
    times
        Time points to report. Default: every distinct event time (any cause) in each group.
    conf_level, conf_type
        Pointwise limits: ``"log"`` (R's default for multi-state curves), ``"log-log"`` or
        ``"plain"``, computed from the standard error as for :func:`kaplan_meier`.
    id_col
        Column identifying people (one row per person): its values must be unique, and they
        name offending rows in error messages (default: no such column; index labels).

    Returns
    -------
    pandas.DataFrame
        ``group, cause, time, at_risk, estimate, se, lower, upper``; ``at_risk`` is the number
        still event-free at the time (time ≥ t). Causes are the distinct non-zero codes in the
        data; a cause absent from a group has estimate 0 there. At requested times beyond a
        group's last follow-up time the estimate is NaN (as :meth:`KaplanMeierResult.at`).

    Raises
    ------
    InputError
        Invalid data (negative or non-integer cause codes, …) or no events at all.

    Notes
    -----
    F_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j, where S is the Kaplan–Meier estimate of being free
    of every cause (Aalen & Johansen 1978). Unlike 1 − KM with deaths censored, which
    overstates reoffending by treating the dead as if they could still reoffend, F_k is the
    proportion who actually reoffend in the presence of death; Σ_k F_k + S = 1.

    Variance: the infinitesimal jackknife, var F_k(t) = Σ_i (∂F_k(t)/∂w_i)², each row its own
    cluster — the only variance R's multi-state ``survfit`` offers (not the Aalen or
    Dinse–Larson delta-method forms). The derivative is expanded so that the sum over rows
    becomes three cumulative sums over distinct times (see the source), O(n) overall. Where the
    estimate is still 0 (se 0) the limits are 0; R reports NA there for ``log``. Assumes
    independent censoring (loss to follow-up unrelated to either cause).

    References
    ----------
    Aalen, O.O. and Johansen, S. (1978). An empirical transition matrix for non-homogeneous
    Markov chains based on censored observations. *Scandinavian Journal of Statistics* 5(3),
    141–150.

    Therneau, T.M. and Grambsch, P.M. (2000). *Modeling Survival Data*. Springer.
    doi:10.1007/978-1-4757-3294-8 (infinitesimal jackknife).

    Examples
    --------
    >>> import pandas as pd
    >>> import evalkit as ek
    >>> d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "cause": [1, 2, 0, 1, 0, 2]})
    >>> ek.cumulative_incidence(d, time="t", event="cause", times=[5])[
    ...     ["cause", "estimate"]].round(3)
       cause  estimate
    0      1     0.389
    1      2     0.611
    """
    check_choice(conf_type, "conf_type", CONF_TYPES)
    z = _z(conf_level)
    req = None if times is None else _check_times(times)
    prep = _prepare(df, time=time, event=event, by=by, causes=True, id_col=id_col)
    check_has_events(prep.event, column=event)
    causes = np.unique(prep.event[prep.event > 0])
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("cause", "time", "at_risk", "estimate", "se")
    }
    lengths = []
    for _, sl in prep.blocks():
        base, per_cause = _cif_one(prep.time[sl], prep.event[sl], causes)
        ut = base["time"]
        if req is None:
            rows = np.flatnonzero(base["events"] > 0)
            at_times, at_risk = ut[rows], base["at_risk"][rows]
            before = beyond = np.zeros(len(rows), dtype=bool)
        else:
            idx = np.searchsorted(ut, req, side="right") - 1
            first = np.minimum(np.searchsorted(ut, req, side="left"), len(ut) - 1)
            before, beyond = idx < 0, req > ut[-1]
            rows, at_times = np.maximum(idx, 0), req
            at_risk = np.where(beyond, 0.0, base["at_risk"][first])
        for k in causes:
            est_all, se_all = per_cause[int(k)]
            cols["cause"].append(np.full(len(at_times), int(k), dtype=np.int64))
            cols["time"].append(at_times)
            cols["at_risk"].append(at_risk)
            cols["estimate"].append(np.where(before, 0.0, np.where(beyond, np.nan, est_all[rows])))
            cols["se"].append(np.where(before, 0.0, np.where(beyond, np.nan, se_all[rows])))
            lengths.append(len(at_times))
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = np.where(cat["se"] == 0, 0.0, cat["se"] / cat["estimate"])
    lower, upper = _confint(cat["estimate"], se_log, z, conf_type)
    group_of_block = np.repeat(np.arange(len(prep.groups)), len(causes))
    out = pd.DataFrame(
        {
            "group": pd.Categorical.from_codes(
                np.repeat(group_of_block, lengths), categories=pd.Index(prep.groups)
            ),
            "cause": cat["cause"],
            "time": cat["time"],
            "at_risk": np.rint(cat["at_risk"]).astype(np.int64),
            "estimate": cat["estimate"],
            "se": cat["se"],
            "lower": lower,
            "upper": upper,
        }
    )
    out.attrs["conf_level"] = float(conf_level)
    out.attrs["conf_type"] = conf_type
    return out
