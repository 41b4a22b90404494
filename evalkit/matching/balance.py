"""Covariate balance before and after matching or weighting, and the love plot.

The statistics follow MatchIt 4.5's ``summary.matchit()`` and cobalt's ``bal.tab()``: the
standardised mean difference with an SD from the unadjusted sample, weighted variance ratios,
the mean and maximum distance between the groups' empirical CDFs, and Kish's effective sample
size.

References
----------
Austin PC (2011). An introduction to propensity score methods for reducing the effects of
confounding in observational studies. *Multivariate Behavioral Research* 46(3):399–424.
doi:10.1080/00273171.2011.568786

Stuart EA (2010). Matching methods for causal inference: a review and a look forward.
*Statistical Science* 25(1):1–21. doi:10.1214/09-STS313

Kish L (1965). *Survey Sampling*. Wiley, New York.

Greifer N. cobalt: Covariate Balance Tables and Plots (R package), "Details on calculations".
https://ngreifer.github.io/cobalt/
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalkit._design import Design, design_matrix
from evalkit._options import check_choice
from evalkit._palette import GREY, OKABE_ITO
from evalkit.errors import DesignError, InputError
from evalkit.matching._inputs import Arms, arms, row_values
from evalkit.matching.greedy import _stable_argsort
from evalkit.results import Result, own
from evalkit.schema import row_ids

__all__ = [
    "BALANCE_COLUMNS",
    "SMD_THRESHOLD",
    "WEIGHT_ESTIMANDS",
    "Adjusted",
    "Balance",
    "balance",
]

WEIGHT_ESTIMANDS = ("ATT", "ATC", "ATE")
BALANCE_COLUMNS = (
    "type",
    "smd_before",
    "smd_after",
    "vr_before",
    "vr_after",
    "mean_treated_before",
    "mean_control_before",
    "mean_treated_after",
    "mean_control_after",
    "ecdf_mean_before",
    "ecdf_mean_after",
    "ecdf_max_before",
    "ecdf_max_after",
)
SMD_THRESHOLD = 0.1
_SQRT_EPS = math.sqrt(np.finfo(float).eps)
_BEFORE_COLOUR = OKABE_ITO[1]  # vermillion
_AFTER_COLOUR = OKABE_ITO[0]  # blue


# --------------------------------------------------------------------------------------------
# the statistics (MatchIt 4.5 summary.matchit / cobalt conventions)
# --------------------------------------------------------------------------------------------


def _wmean(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    s = w.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((w @ X) / s, dtype=float)


def _wvar(X: np.ndarray, w: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """MatchIt's ``wvar``: p(1-p) for binary columns, else Σw̃(x-m)²/(1-Σw̃²) with w̃ = w/Σw."""
    s = w.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        wn = w / s
        m = wn @ X
        cont = (wn @ (X - m) ** 2) / (1.0 - np.sum(wn**2))
        out = np.where(binary, m * (1.0 - m), cont)
    return np.asarray(out, dtype=float)


def _pooled_sd_proportional(X: np.ndarray, z: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """MatchIt's fallback ``pooled_sd(contribution = "proportional")`` without weights."""
    n = len(z)
    out = np.zeros(X.shape[1])
    cont = np.zeros(X.shape[1])
    for g in (0, 1):
        xg = X[z == g]
        ng = xg.shape[0]
        if ng == 0:
            continue
        sx = xg.sum(axis=0)
        out += sx * (1.0 - sx / ng) / n
        cont += ((xg - xg.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cont = cont / (n - 2)
    return np.asarray(np.sqrt(np.where(binary, out, cont)), dtype=float)


def _ecdf_stats(
    X: np.ndarray,
    z: np.ndarray,
    weightings: Sequence[np.ndarray],
    binary: np.ndarray,
    mdiffs: Sequence[np.ndarray],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mean and maximum distance between the weighted eCDFs of the two groups, for each of
    ``weightings`` (with ``mdiffs`` its differences in means).

    As MatchIt's ``qqsum(standardize = TRUE)``: weights are normalised within each group, the
    difference of the cumulative sums is taken at each distinct value of the covariate over the
    whole sample (units with zero weight included), and its absolute value is averaged and
    maximised. For binary columns both statistics are the absolute difference in means. Each
    column is sorted once for all the weightings.
    """
    out = [(np.abs(m).astype(float), np.abs(m).astype(float)) for m in mdiffs]
    signed = []
    for w in weightings:
        s1 = w[z == 1].sum()
        s0 = w[z == 0].sum()
        signed.append(np.where(z == 1, w / s1, -w / s0))
    for j in range(X.shape[1]):
        if binary[j]:
            continue
        x = X[:, j]
        order = _stable_argsort(x)
        xs = x[order]
        last = np.ones(len(xs), dtype=bool)
        last[:-1] = xs[1:] != xs[:-1]
        for (mean, mx), sw in zip(out, signed, strict=True):
            e = np.abs(np.cumsum(sw[order]))[last]
            mean[j] = e.mean()
            mx[j] = e.max()
    return out


@dataclass(frozen=True)
class _Arms:
    """The rows of each arm, split once for every statistic."""

    X1: np.ndarray
    X0: np.ndarray
    t1: np.ndarray
    t0: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, z: np.ndarray) -> _Arms:
        t1, t0 = z == 1, z == 0
        return cls(X[t1], X[t0], t1, t0)


def _balance_stats(
    arms: _Arms, w: np.ndarray, sd_denom: np.ndarray, binary: np.ndarray
) -> dict[str, np.ndarray]:
    """Means, SMDs and variance ratios with weights ``w`` (eCDF statistics come separately)."""
    t1, t0 = arms.t1, arms.t0
    m1 = _wmean(arms.X1, w[t1])
    m0 = _wmean(arms.X0, w[t0])
    mdiff = m1 - m0
    too_small = (np.count_nonzero(w[t1]) < 2) and (np.count_nonzero(w[t0]) < 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        smd = mdiff / sd_denom
        vr = _wvar(arms.X1, w[t1], binary) / _wvar(arms.X0, w[t0], binary)
    vr = np.where(binary, np.nan, vr)
    if too_small:
        smd = np.full_like(smd, np.nan)
        vr = np.full_like(vr, np.nan)
    return {"mean_treated": m1, "mean_control": m0, "smd": smd, "vr": vr}


def _sd_denominator(
    arms: _Arms, X: np.ndarray, z: np.ndarray, binary: np.ndarray, estimand: str
) -> np.ndarray:
    """Standardisation SD from the *unadjusted* sample (MatchIt/cobalt): treated SD for the ATT,
    control SD for the ATC, sqrt of the mean of the two group variances for the ATE. Binary
    variables use p(1-p). If that SD is 0 or undefined, MatchIt's pooled SD is used instead."""
    ones = np.ones(len(z))
    v1 = _wvar(arms.X1, ones[arms.t1], binary)
    v0 = _wvar(arms.X0, ones[arms.t0], binary)
    if estimand == "ATT":
        var = v1
    elif estimand == "ATC":
        var = v0
    else:
        var = (v1 + v0) / 2.0
    with np.errstate(invalid="ignore"):
        sd = np.sqrt(var)
    bad = ~np.isfinite(sd) | (sd < _SQRT_EPS)
    if bad.any():
        sd = np.where(bad, _pooled_sd_proportional(X, z, binary), sd)
    return np.asarray(sd, dtype=float)


def _balance_table(
    X: np.ndarray, names: Sequence[str], z: np.ndarray, weights: np.ndarray | None, estimand: str
) -> pd.DataFrame:
    binary = np.all((X == 0) | (X == 1), axis=0)
    arms = _Arms.of(X, z)
    sd = _sd_denominator(arms, X, z, binary, estimand)
    weightings = [np.ones(len(z))]
    if weights is not None:
        weightings.append(np.asarray(weights, dtype=float))
    stats = [_balance_stats(arms, w, sd, binary) for w in weightings]
    ecdf = _ecdf_stats(
        X, z, weightings, binary, [s["mean_treated"] - s["mean_control"] for s in stats]
    )
    for s, (mean, mx) in zip(stats, ecdf, strict=True):
        s["ecdf_mean"], s["ecdf_max"] = mean, mx
    before = stats[0]
    if weights is None:
        nan = np.full(X.shape[1], np.nan)
        after = {k: nan for k in before}
    else:
        after = stats[1]
    columns: dict[str, Any] = {"type": np.where(binary, "binary", "continuous")}
    for name in BALANCE_COLUMNS[1:]:
        stat, _, when = name.rpartition("_")
        columns[name] = (before if when == "before" else after)[stat]
    return pd.DataFrame(columns, index=pd.Index(list(names), name="covariate"))


def ess(w: np.ndarray) -> float:
    """Kish (1965) effective sample size (Σw)²/Σw²; 0 when every weight is 0."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


def sample_sizes(z: np.ndarray, w: np.ndarray | None) -> pd.DataFrame:
    """Rows ``n``, ``sum_weights``, ``ess`` (Kish); columns ``control``, ``treated``."""
    ww = np.ones(len(z)) if w is None else np.asarray(w, dtype=float)
    rows = {}
    for g, name in ((0, "control"), (1, "treated")):
        wg = ww[z == g]
        rows[name] = [float(np.sum(z == g)), float(wg.sum()), ess(wg)]
    return pd.DataFrame(rows, index=pd.Index(["n", "sum_weights", "ess"], name="sample"))


# --------------------------------------------------------------------------------------------
# love plot
# --------------------------------------------------------------------------------------------


def _love_alt_text(table: pd.DataFrame, adjusted: str) -> str:
    before = table["smd_before"].abs()
    after = table["smd_after"].abs()
    k = len(table)
    text = (
        f"Love plot of absolute standardised mean differences for {k} covariates before {adjusted}"
    )
    if before.notna().any():
        text += f"; largest before: {before.max():.2f} ({before.idxmax()})"
    if after.notna().any():
        below = int((after < SMD_THRESHOLD).sum())
        text += (
            f", largest after {adjusted}: {after.max():.2f} ({after.idxmax()}); "
            f"{below} of {k} below the {SMD_THRESHOLD} threshold after {adjusted}"
        )
    return text + "."


def _plot_love(table: pd.DataFrame, ax: Any, adjusted: str) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.35 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    ax.axvline(SMD_THRESHOLD, color=GREY, linestyle="--", linewidth=1.0, zorder=1)
    ax.scatter(
        table["smd_before"].abs(),
        y,
        marker="o",
        facecolors="none",
        edgecolors=_BEFORE_COLOUR,
        label="before",
        zorder=2,
    )
    if table["smd_after"].notna().any():
        ax.scatter(
            table["smd_after"].abs(),
            y,
            marker="^",
            color=_AFTER_COLOUR,
            label=f"after {adjusted}",
            zorder=3,
        )
    ax.set_yticks(y)
    ax.set_yticklabels(list(table.index))
    ax.set_xlabel("Absolute standardised mean difference")
    ax.set_xlim(left=0)
    ax.legend(loc="lower right")
    ax.alt_text = _love_alt_text(table, adjusted)
    return ax


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Balance(Result):
    """Covariate balance between the arms before and after weighting (or matching).

    Attributes
    ----------
    table
        Index ``covariate`` (indicators ``column[level]`` for every level of a categorical
        column). Columns, fixed: ``type`` ("binary"/"continuous"); ``smd_before``,
        ``smd_after`` (standardised mean difference, programme minus comparison arm);
        ``vr_before``, ``vr_after`` (variance ratio programme/comparison, NaN for binary
        variables); ``mean_treated_before``, ``mean_control_before``, ``mean_treated_after``,
        ``mean_control_after``; ``ecdf_mean_*`` and ``ecdf_max_*`` (mean and maximum distance
        between the groups' empirical CDFs). ``*_after`` columns are NaN when no weights were
        given.
    sample_sizes
        Index ``n``, ``sum_weights``, ``ess`` (Kish effective sample size with the weights);
        columns ``control``, ``treated``.
    estimand
        Which SD standardises the differences: treated (ATT), control (ATC), pooled (ATE).
    group, treated, control
        The group column, the label of its programme arm and that of the comparison arm.
    adjustment
        ``"weighting"`` or ``"matching"``: what "after" means (used in the love plot).
    """

    _title = "Covariate balance"

    table: pd.DataFrame
    sample_sizes: pd.DataFrame
    estimand: str
    group: str
    treated: Any
    control: Any
    adjustment: str = "weighting"

    def to_frame(self) -> pd.DataFrame:
        """The balance table with ``covariate`` as a column."""
        return self.table.reset_index()

    def summary(self) -> str:
        """The balance table and the sample sizes, as plain text."""
        return with_sizes(super().summary(), self.sample_sizes)

    def love_alt_text(self) -> str:
        """A text alternative for :meth:`plot_love` (the same as ``ax.alt_text``)."""
        return _love_alt_text(self.table, self.adjustment)

    def plot_love(self, ax: Any = None) -> Any:
        """Love plot of absolute SMDs before and after, with the 0.1 threshold; returns the axes.

        Okabe–Ito colours (vermillion open circles before, blue triangles after, so the chart
        also reads in greyscale). The text alternative is ``ax.alt_text``; pass it as ``alt``
        to :func:`evalkit.report.figures.figure`.
        """
        return _plot_love(self.table, ax, self.adjustment)


def with_sizes(text: str, sizes: pd.DataFrame) -> str:
    """A summary with the sample-size table appended."""
    return f"{text}\n\nSample sizes\n{sizes.to_string(float_format=lambda x: f'{x:.6g}')}"


@dataclass(frozen=True, eq=False)
class Covariates:
    """What a matching or weighting result keeps to compute its balance table: its own copy of
    the balance design (every level of a categorical covariate) and of the group code."""

    X: np.ndarray
    names: tuple[str, ...]
    z: np.ndarray
    group: str
    treated: Any
    control: Any

    @classmethod
    def of(cls, a: Arms, columns: Sequence[str]) -> Covariates:
        return cls.from_design(a, cls.design(a, columns))

    @staticmethod
    def design(a: Arms, columns: Sequence[str]) -> Design:
        """The balance design of ``columns`` (every level of a categorical column) after an
        ``(Intercept)`` column: when the covariates are numeric, its leading columns are the
        propensity model's design (:func:`~evalkit.matching.propensity.propensity_design`)."""
        return design_matrix(a.df, list(columns), all_levels=True, intercept=True)

    @classmethod
    def from_design(cls, a: Arms, design: Design) -> Covariates:
        """Keep the columns of ``design`` after the intercept. The matrix was made for this
        result alone, so it is made read-only rather than copied."""
        X = design.X[:, 1:]
        X.flags.writeable = False
        return cls(X, tuple(design.names[1:]), own(a.z), a.group, a.treated, a.control)

    def balance(
        self, distance: np.ndarray, weights: np.ndarray, estimand: str, adjustment: str
    ) -> Balance:
        """Balance with ``distance`` as the first row, as MatchIt's ``summary()``."""
        X = np.column_stack([distance, self.X])
        table = _balance_table(X, ["distance", *self.names], self.z, weights, estimand)
        return Balance(
            table=table,
            sample_sizes=sample_sizes(self.z, weights),
            estimand=estimand,
            group=self.group,
            treated=self.treated,
            control=self.control,
            adjustment=adjustment,
        )


@dataclass(frozen=True, eq=False, repr=False)
class Adjusted(Result):
    """Base of :class:`MatchResult` and :class:`WeightResult`: the adjusted data and weights,
    the settings both share, and the balance table, love plot, headline table and summary
    computed from the balance design the result keeps (``_covariates``)."""

    _adjustment: ClassVar[str] = ""

    data: pd.DataFrame
    weights: pd.Series
    estimand: str
    group: str
    treated: Any
    control: Any
    covariates: tuple[str, ...]
    _covariates: Covariates = field(repr=False)

    def _distance(self) -> np.ndarray:
        raise NotImplementedError

    def _sizes(self) -> pd.DataFrame:
        raise NotImplementedError

    @cached_property
    def _balance(self) -> Balance:
        return self._covariates.balance(
            self._distance(), self.weights.to_numpy(dtype=float), self.estimand, self._adjustment
        )

    def balance(self) -> pd.DataFrame:
        """Balance before and after, as MatchIt's ``summary()`` (a new DataFrame each call).

        Rows: ``distance`` first, then the covariates (and exact-matching columns), categorical
        ones as one row per level, ``column[level]``. Columns as :attr:`Balance.table`; SMDs
        are standardised by the programme arm's SD (ATT), the comparison arm's (ATC) or the
        pooled SD (ATE) in the full sample.
        """
        return self._balance.table.copy()

    def love_alt_text(self) -> str:
        """A text alternative for :meth:`plot_love` (the same as ``ax.alt_text``)."""
        return self._balance.love_alt_text()

    def plot_love(self, ax: Any = None) -> Any:
        """Love plot of absolute SMDs before and after with the 0.1 threshold; returns the axes.

        Colour-blind-safe (Okabe–Ito vermillion open circles before, blue triangles after). The
        text alternative is ``ax.alt_text``, for :func:`evalkit.report.figures.figure`.
        """
        return self._balance.plot_love(ax)

    def to_frame(self) -> pd.DataFrame:
        """The balance table (see :meth:`balance`) with ``covariate`` as a column."""
        return self._balance.to_frame()

    def summary(self) -> str:
        """The balance table and the sample sizes, as plain text."""
        return with_sizes(super().summary(), self._sizes())


def _weights_argument(df: pd.DataFrame, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, Result):  # a MatchResult or WeightResult: its weights
        carried = getattr(weights, "weights", None)
        if not isinstance(carried, pd.Series):
            raise InputError(
                "weights",
                f"a {type(weights).__name__} carries no weights; pass a MatchResult, a "
                "WeightResult, a column name or one weight per row",
                argument=True,
            )
        weights = carried
    w = row_values(df, weights, "weights")
    bad = w < 0
    if bad.any():
        name = weights if isinstance(weights, str) else "weights"
        raise InputError(
            name, "must not be negative", row_ids(df, bad), argument=not isinstance(weights, str)
        )
    return w


def balance(
    df: pd.DataFrame,
    *,
    group: str,
    treated: Any = "programme",
    covariates: Sequence[str],
    weights: Any = None,
    estimand: str = "ATT",
) -> Balance:
    """Covariate balance between the programme and the comparison arm, before and after weighting.

    Parameters
    ----------
    df
        One row per person.
    group
        Column holding the two arms (e.g. ``Cohort.data["group"]``).
    treated
        The label in ``group`` of the programme arm (default ``"programme"``; ``1`` for a 0/1
        column).
    covariates
        Columns to summarise; categorical columns get one row per level, ``column[level]``.
    weights
        ``None`` (only the unadjusted comparison), a column name, one non-negative weight per
        row (zero = not used), or a :class:`MatchResult` / :class:`WeightResult` computed on
        ``df`` (its ``weights``).
    estimand
        ``"ATT"``, ``"ATC"`` or ``"ATE"``: chooses the standardising SD.

    Returns
    -------
    Balance

    Notes
    -----
    Conventions are those of MatchIt 4.5's ``summary()`` and cobalt's ``bal.tab()``
    (Greifer): the standardised mean difference (SMD) is the weighted difference in means divided
    by an SD computed in the **unweighted** sample, so that before and after are on the same
    scale: the programme arm's SD for the ATT, the comparison arm's for the ATC, and
    sqrt((s²_treated + s²_control)/2) for the ATE. Binary (0/1) variables use sqrt(p(1−p)) (no
    n−1); continuous variables the usual n−1 variance. Variance ratios use weighted variances
    Σw̃(x−x̄)²/(1−Σw̃²) (w̃ normalised weights) and are not given for binary variables. The eCDF
    statistics are MatchIt's "eCDF Mean" and "eCDF Max". Austin (2011) suggests SMD within ±0.1 and
    variance ratios between 0.5 and 2 as signs of adequate balance; these are rules of thumb,
    not tests — balance is a property of the sample, so p-values are not reported
    (Stuart 2010).

    The effective sample size (Kish 1965) is (Σw)²/Σw² within each group: the number of
    equally weighted people carrying the same information.

    References
    ----------
    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.

    Stuart EA (2010). *Statistical Science* 25(1):1–21. doi:10.1214/09-STS313

    Greifer N. cobalt (R package) documentation, "Details on calculations".

    Kish L (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> b = ek.balance(rossi, group="fin", treated=1, covariates=["age", "prio"])
    >>> list(b.table.columns[:3])
    ['type', 'smd_before', 'smd_after']
    >>> round(float(b.table.loc["age", "smd_before"]), 3)
    0.116
    """
    estimand = check_choice(estimand, "estimand", WEIGHT_ESTIMANDS)
    a = arms(df, group, treated, covariates)
    design = design_matrix(a.df, a.covariates, all_levels=True)
    w = _weights_argument(a.df, weights)
    if w is not None:
        for g, label in ((1, a.treated), (0, a.control)):
            if not np.any(w[a.z == g] > 0):
                raise DesignError(
                    f"every weight in the {label!r} arm is zero; balance cannot be assessed"
                )
    return Balance(
        table=_balance_table(design.X, design.names, a.z, w, estimand),
        sample_sizes=sample_sizes(a.z, w),
        estimand=estimand,
        group=a.group,
        treated=a.treated,
        control=a.control,
    )
