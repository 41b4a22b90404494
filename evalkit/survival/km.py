"""Kaplan–Meier estimate of the survival curve, with Greenwood or infinitesimal-jackknife variance.

Reproduces R's ``survfit`` and ``summary.survfit`` (survival 3.x; reference values and the
script that made them are in ``tests/reference/``).

Conventions shared by the survival summaries
--------------------------------------------
* ``time`` is numeric and non-negative, ``event`` is 0 (censored) or 1 (event), booleans allowed
  (for :func:`~evalkit.survival.cumulative_incidence`: 0 censored, 1, 2, … competing causes).
  Invalid rows raise :class:`~evalkit.errors.InputError` naming the column and the rows;
  nothing is dropped.
* ``by`` names the group column of a k-group summary. Groups are reported in sorted order
  (categorical order for a categorical column); a categorical level with no rows is an error,
  as is a single group where a comparison needs two (:class:`~evalkit.errors.DesignError`).
  Without ``by`` the one curve is labelled ``"all"``. In every output table ``group`` is a
  pandas Categorical whose categories are the groups in that order (cheap on a million rows;
  compares equal to the plain labels).
* Confidence limits use the normal critical value of :func:`evalkit._inference.critical`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalkit._inference import critical
from evalkit._options import check_choice, check_conf_level
from evalkit.results import Result
from evalkit.survival._common import (
    CONF_TYPES,
    ConfType,
    check_times,
    confint,
    counts,
    group_column,
    prepare,
    run_starts,
    suffix_sum,
    table_html,
)

__all__ = ["VARIANCES", "KaplanMeierResult", "kaplan_meier"]

#: Variance estimators of the Kaplan–Meier curve (``"auto"`` follows R's rule for weights).
VARIANCES = ("auto", "greenwood", "ij")

# R's tolerance for "S is exactly 0.5" in the median (survmean's minmin: sqrt(machine eps)).
_MEDIAN_TOL = float(np.sqrt(np.finfo(float).eps))


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
    starts = run_starts(t)
    times = t[starts]
    wev = w * e
    events = np.add.reduceat(wev, starts)
    censored = np.add.reduceat(w - wev, starts)
    at_risk = suffix_sum(events + censored)
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
            w2_after = np.append(suffix_sum(w2e + w2c)[1:], 0.0)
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


@dataclass(frozen=True, eq=False, repr=False)
class KaplanMeierResult(Result):
    """Kaplan–Meier estimate of the survival curve, one curve per group.

    Attributes
    ----------
    table
        One row per event time and group: ``group, time, at_risk, events, censored, survival,
        se, lower, upper``. ``censored`` counts censorings in (previous event time, time], as R's
        ``summary(fit, censored = FALSE)``; ``se`` is the standard error of S(t) (not of log S)
        and ``lower``/``upper`` are the pointwise limits of ``survival``. With weights, the
        counts are sums of weights.
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

    _title = "Kaplan–Meier estimate"

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
        req = check_times(times)
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
        frame = pd.DataFrame(
            {
                "group": group_column(self.groups, [len(req)] * len(self.groups)),
                "time": np.tile(req, len(self.groups)),
            }
        )
        for name, parts in out.items():
            value = np.concatenate(parts)
            is_count = name in ("at_risk", "events", "censored")
            frame[name] = counts(value, self.weighted) if is_count else value
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
        return pd.DataFrame({"group": group_column(self.groups, [1] * len(self.groups)), **res})

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Step curves with confidence bands, censoring ticks and an at-risk table.

        See :func:`evalkit.plotting.plot_km` for the options; returns the matplotlib axes.
        """
        from evalkit.plotting import plot_km

        return plot_km(self, ax=ax, **kwargs)

    def alt_text(self) -> str:
        """The plain-language description :meth:`plot` attaches as ``ax.alt_text``."""
        from evalkit.plotting import km_alt_text

        return km_alt_text(self)

    def to_frame(self) -> pd.DataFrame:
        """The event-time table (a copy of :attr:`table`)."""
        return self.table.copy()

    def summary(self) -> str:
        """Numbers, events and median survival per group, as R's ``print(survfit(...))``."""
        med = self.median().drop(columns="group")
        frame = pd.concat([self.counts, med], axis=1)
        text = frame.to_string(index=False, float_format=lambda x: f"{x:.6g}")
        return f"{self._title}\n{self._note()}\n\n{text}"

    def _note(self) -> str:
        kind = "Greenwood" if self.variance == "greenwood" else "infinitesimal-jackknife"
        return (
            f"{self.conf_level:.0%} pointwise limits ({self.conf_type}), {kind} variance; "
            "median with its confidence limits"
        )

    def _repr_html_(self) -> str:
        return table_html(f"{self._title}: median survival", self.median(), self._note())


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
    events such as death — use :func:`~evalkit.survival.cumulative_incidence` for that.

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
    >>> km  # doctest: +ELLIPSIS
    KaplanMeierResult(groups=(0, 1), conf_level=0.95, conf_type='log-log', ...)
    >>> km.at([52])[["group", "survival", "lower", "upper"]].round(3)
      group  survival  lower  upper
    0     0     0.694  0.628  0.751
    1     1     0.778  0.716  0.828
    """
    conf_type = check_choice(conf_type, "conf_type", CONF_TYPES)
    variance = check_choice(variance, "variance", VARIANCES)
    conf_level = check_conf_level(conf_level)
    crit = critical(conf_level)
    prep = prepare(df, time=time, event=event, by=by, weights=weights, id_col=id_col)
    weighted = weights is not None
    w = prep.weights if prep.weights is not None else np.ones_like(prep.time)
    if variance == "auto":
        variance = "ij" if weighted and np.any(w != np.floor(w)) else "greenwood"
    ij = variance == "ij"

    parts: list[dict[str, np.ndarray]] = []
    per_group = []
    for i, sl in prep.blocks():
        cv = _km_curve(prep.time[sl], prep.event[sl], w[sl], ij)
        # Event-time table: censorings accumulated over (previous event time, t], as R.
        is_event = cv["events"] > 0
        cv["is_event"] = is_event
        cv["censored_since"] = np.diff(np.cumsum(cv["censored"])[is_event], prepend=0.0)
        parts.append(cv)
        per_group.append(
            {"group": prep.groups[i], "n": sl.stop - sl.start, "events": int(prep.event[sl].sum())}
        )
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    lower, upper = confint(cat["survival"], cat["se_log"], crit, conf_type)
    lengths = [len(p["time"]) for p in parts]
    curve = pd.DataFrame(
        {
            "group": group_column(prep.groups, lengths),
            "time": cat["time"],
            "at_risk": counts(cat["at_risk"], weighted),
            "events": counts(cat["events"], weighted),
            "censored": counts(cat["censored"], weighted),
            "survival": cat["survival"],
            "se": cat["se"],
            "lower": lower,
            "upper": upper,
        }
    )
    table = curve.loc[cat["is_event"]].reset_index(drop=True)
    table["censored"] = counts(cat["censored_since"], weighted)
    return KaplanMeierResult(
        table=table,
        curve=curve,
        groups=tuple(prep.groups),
        counts=pd.DataFrame(per_group, columns=["group", "n", "events"]),
        conf_level=conf_level,
        conf_type=conf_type,
        variance=variance,
        weighted=weighted,
        time=time,
        event=event,
        by=by,
        weights=weights,
        _bounds=np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp),
    )
