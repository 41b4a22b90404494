"""Difference in differences: two groups, before and after, with cluster-robust errors.

:func:`did` compares the before/after change in an intervention (programme) group with the
change in a comparison group, with cluster-robust standard errors and a test of differential
pre-trends. The model is fitted exactly on cell sums (least squares for ``gaussian``, a
statsmodels Poisson GLM for ``poisson``). Verification (``tests/test_timeseries.py``): R
reference values (``lm``/``glm`` with ``sandwich::vcovCL`` and ``vcovHC``) on committed data
agree to 1e-6 relative; the 2×2 closed forms hold for any data; a simulation with a known
effect and clustering checks bias and coverage.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalkit._design import COVARIATE_RANGE, INTERCEPT, design_matrix, two_groups
from evalkit._inference import sandwich, wald
from evalkit._options import check_choice, check_columns, check_conf_level, option_error
from evalkit.errors import DesignError, InputError, StatisticalWarning
from evalkit.results import Estimate, Result, TestResult
from evalkit.schema import (
    check_frame,
    check_magnitude,
    check_no_missing,
    check_numeric,
    check_positive,
    require_columns,
)
from evalkit.timeseries import _common

__all__ = ["DID_FAMILIES", "FEW_CLUSTERS", "DiDResult", "did"]

#: Valid ``family`` values of :func:`did`; the first is the default.
DID_FAMILIES: tuple[str, ...] = ("gaussian", "poisson")
#: :func:`did` warns when there are fewer clusters than this (cluster-robust SEs too small).
FEW_CLUSTERS = 20
#: Valid ``pretrend`` values of :func:`did`; the first is the default.
PRETRENDS: tuple[str, ...] = ("linear", "leads")


@dataclass(frozen=True, eq=False, repr=False)
class DiDResult(Result):
    """Result of :func:`did`.

    Attributes
    ----------
    estimate
        The difference-in-differences effect as an :class:`~evalkit.results.Estimate`: a
        difference in mean outcome (``gaussian``) or a ratio of rate ratios (``poisson``).
    table
        Indexed by ``term``: ``group`` (programme vs comparison group before the
        interruption), ``post`` (before/after change in the comparison group; absent with
        ``time`` fixed effects), ``did`` and the covariates (a categorical covariate as one
        ``column[level]`` row per non-reference level). Columns ``estimate, se, lower, upper,
        statistic, df, p`` on the model scale (identity for ``gaussian``, log for ``poisson``;
        ``df`` is the t degrees of freedom, ``inf`` for the normal distribution) and, for
        ``poisson``, the ratio ``rr`` = exp(``estimate``) with ``rr_lower, rr_upper``.
    vcov
        Variance–covariance matrix of every coefficient (``(Intercept)``, the terms of
        ``table``, and the time fixed effects ``time[t]``), cluster-robust CR1 or HC1.
    cells
        The 2×2 table: ``group`` (the labels, comparison group first), ``post``, ``n`` (rows),
        ``outcome`` (sum), ``exposure`` (sum; rows when no exposure column) and ``mean``
        (outcome mean, or rate = outcome / exposure).
    pretrend
        Test of differential pre-intervention trends (:class:`~evalkit.results.TestResult`),
        or ``None`` without ``time`` or with fewer than two pre-intervention time points.
    family
        ``"gaussian"`` or ``"poisson"``.
    cov_type
        ``"CR1"`` (cluster-robust) or ``"HC1"`` (heteroskedasticity-robust, no clusters).
    n, n_clusters
        Rows used and number of clusters (``None`` without ``cluster``).
    df_inference
        Degrees of freedom of the t reference distribution (G − 1 with clusters, n − k for
        gaussian without); ``inf`` means the normal distribution.
    time_effects
        Whether the model has one fixed effect per time point instead of a single ``post``.
    treated_label, control_label
        The labels in ``group`` of the programme group and of the comparison group.
    conf_level
        Confidence level of the intervals.
    """

    _title: ClassVar[str] = "Difference in differences"

    estimate: Estimate
    table: pd.DataFrame
    vcov: pd.DataFrame
    cells: pd.DataFrame
    pretrend: TestResult | None
    family: str
    cov_type: str
    n: int
    n_clusters: int | None
    df_inference: float
    time_effects: bool
    treated_label: Any
    control_label: Any
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (:attr:`table`) with ``term`` as a column."""
        return self.table.reset_index()

    def _describe(self) -> list[str]:
        e = self.estimate
        effect = [f"{k}={v:.4g}" for k, v in (("estimate", e.estimate), ("lower", e.lower),
                                              ("upper", e.upper))]  # fmt: skip
        return [*effect, *super()._describe()]


@dataclass(frozen=True)
class _CellFit:
    beta: np.ndarray
    vcov: np.ndarray
    n: int
    k: int
    exact: bool  # the model reproduces the outcome to rounding: no residual variation


def _cell_fit(
    family: str,
    y: np.ndarray,
    expo: np.ndarray | None,
    keys: list[np.ndarray],
    build_X: Callable[[np.ndarray], np.ndarray],
    clusters: np.ndarray | None,
    what: str,
    names: Sequence[str],
    columns: Mapping[str, str],
) -> _CellFit:
    """Fit the DiD GLM on cells of identical design rows (and cluster), exactly.

    Every regressor of :func:`did` is a function of the integer ``keys`` (cluster, group,
    period or time point, covariate values), so the rows of a cell share one design row
    ``x_c``. The least-squares and Poisson estimating equations depend on the data only through
    the cell sums (n_c, Σy, Σexposure), so fitting the cell table gives the row-level estimates
    and bread (X'WX)⁻¹. The meat is built from row-level residuals r_i = y_i − μ_i: cluster
    sums of x_c·Σ_{i∈c} r_i (CR1), or Σ_c x_c x_c' Σ_{i∈c} r_i² (HC1), with the small-sample
    factors of :func:`evalkit._inference.sandwich` computed from the number of rows (not
    cells). Memory and time are O(n) in the rows plus O(cells × k²).
    """
    all_keys = keys if clusters is None else [clusters, *keys]
    cell = (
        pd.DataFrame(dict(enumerate(all_keys)))
        .groupby(list(range(len(all_keys))), sort=True)
        .ngroup()
        .to_numpy()
    )
    n_cells = int(cell.max()) + 1
    _, first = np.unique(cell, return_index=True)
    X = np.asarray(build_X(first), dtype=float)
    n, k = len(y), X.shape[1]
    # the rows' design has the rank of the cells' design
    _common.check_full_rank(X, names, what, columns)
    if n - k < 1:
        raise DesignError(f"the {what} has {k} coefficients but only {n} rows")
    n_c = np.bincount(cell, minlength=n_cells).astype(float)
    y_c = np.bincount(cell, weights=y, minlength=n_cells)
    if family == "gaussian":
        # weighted least squares on the cell means (weights n_c) = OLS on the rows
        sw_ = np.sqrt(n_c)
        beta = np.linalg.lstsq(X * sw_[:, None], y_c / sw_, rcond=None)[0]
        bread = np.linalg.inv(X.T @ (X * n_c[:, None]))
        mu_row = (X @ beta)[cell]
    else:
        e_c = np.bincount(cell, weights=expo, minlength=n_cells) if expo is not None else n_c
        # a saturated cell table fits exactly: fit_glm allows that
        res = _common.fit_glm(y_c, X, np.log(e_c), what="Poisson")
        beta = np.asarray(res.params)
        bread = np.asarray(res.normalized_cov_params)
        rate = np.exp(X @ beta)[cell]
        mu_row = rate * expo if expo is not None else rate
    r = y - mu_row
    # residuals within rounding of the outcome's spread: an exact fit, whose sandwich is
    # rounding noise (R's summary.lm warns "essentially perfect fit")
    exact = bool(np.max(np.abs(r)) <= 1e-9 * max(float(np.ptp(y)), float(np.max(np.abs(y)))))
    if clusters is not None:
        r_c = np.bincount(cell, weights=r, minlength=n_cells)
        cl_of_cell = clusters[first]
        n_groups = int(cl_of_cell.max()) + 1
        scores = np.column_stack(
            [np.bincount(cl_of_cell, weights=X[:, j] * r_c, minlength=n_groups) for j in range(k)]
        )
        vcov = sandwich(bread, scores.T @ scores, n_obs=n, n_params=k, n_clusters=n_groups)
    else:
        q_c = np.bincount(cell, weights=r * r, minlength=n_cells)
        vcov = sandwich(bread, X.T @ (X * q_c[:, None]), n_obs=n, n_params=k)
    return _CellFit(beta=beta, vcov=vcov, n=n, k=k, exact=exact)


def _time_dummies(codes: np.ndarray, levels: Sequence[Any]) -> np.ndarray:
    """Indicators ``time[t]`` of every time level but the first (the reference), as
    :func:`evalkit._design.design_matrix` codes a categorical covariate."""
    categories = pd.Index(list(levels), dtype=object)
    frame = pd.DataFrame({"time": pd.Categorical.from_codes(codes, categories=categories)})
    return design_matrix(frame, ["time"], table="cells").X


def _time_levels(values: np.ndarray) -> list[Any]:
    """Time points as labels: whole numbers as ``int`` (``time[24253]``), others as ``float``."""
    return [int(v) if float(v).is_integer() else float(v) for v in values]


def did(
    df: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    post: str,
    treated: Any = "programme",
    time: str | None = None,
    cluster: str | None = None,
    family: str = "gaussian",
    exposure: str | None = None,
    covariates: Sequence[str] | None = None,
    reference: Mapping[str, Any] | None = None,
    pretrend: str = "linear",
    conf_level: float = 0.95,
) -> DiDResult:
    """Difference in differences: two groups, before and after, with cluster-robust SEs.

    Fits :math:`g(E[Y]) = \\alpha + \\gamma\\,G + \\lambda\\,P + \\delta\\,G P\\,(+\\,x'\\beta)`
    where :math:`G` is 1 in the programme (intervention) group and :math:`P` is 1 after the
    interruption, with identity link (``gaussian``, ordinary least squares) or log link
    (``poisson``). With ``time``, :math:`\\lambda P` is replaced by one fixed effect per time
    point (the two-way fixed-effects form of Angrist & Pischke 2009, ch. 5). The effect is
    :math:`\\delta`: for the 2×2 design without covariates it is exactly the difference of the
    four cell means, (ȳ₁₁ − ȳ₁₀) − (ȳ₀₁ − ȳ₀₀), or for ``poisson`` the ratio of the rate ratios
    (r₁₁/r₁₀)/(r₀₁/r₀₀).

    Parameters
    ----------
    df
        One row per observation: a person, or an area in a month, etc.
    outcome
        Numeric outcome column; non-negative for ``poisson`` (whole numbers are not required:
        a 0/1 outcome gives ratios of proportions, with robust SEs).
    group
        Column holding each row's group: exactly two labels, the programme group's
        (``treated``) and the comparison group's.
    post
        0/1 (or boolean) column: 1 = after the interruption. With ``time`` it must switch once,
        from 0 to 1, in time order (common timing for both groups).
    treated
        The label in ``group`` of the programme (intervention) group, default
        ``"programme"`` (as :attr:`evalkit.Cohort.data`); ``treated=1`` for a 0/1 column.
    time
        Optional time column (numbers, datetimes or monthly periods): adds time fixed effects
        and enables the pre-trend test.
    cluster
        Optional column of cluster identifiers (e.g. area, prison, person in a panel). Without
        it each row is its own cluster (heteroskedasticity-robust HC1 SEs).
    family
        ``"gaussian"`` (default; effect = difference) or ``"poisson"`` (effect = ratio).
    exposure
        ``poisson`` only: column of person-time or population (offset log(exposure)).
    covariates
        Optional covariate columns: numbers (booleans as 0/1) or categories (text or a pandas
        ``Categorical``), which become indicators ``column[level]`` of every level but the
        reference, as R's treatment contrasts.
    reference
        ``{column: level}``: the reference level of a categorical covariate (default: the
        first category of a ``Categorical``, else the first level in sorted order).
    pretrend
        ``"linear"`` (default): Wald test of a group × linear-time interaction in the
        pre-intervention rows (1 df); ``"leads"``: joint test of group × time-point
        indicators for every pre-intervention time but the last (event-study leads).
    conf_level
        Confidence level of the intervals.

    Returns
    -------
    DiDResult
        ``.estimate``, ``.table`` (also ``.to_frame()``), ``.vcov``, ``.cells`` and
        ``.pretrend``.

    Raises
    ------
    InputError
        Missing columns or values; ``group`` without exactly two labels or without the
        ``treated`` label; ``post`` not 0/1; negative outcome for ``poisson``; exposure ≤ 0 or
        given with ``gaussian``; ``post`` not switching once in time; numbers stored as text
        in a covariate; a collinear design (the message names the term); invalid options.
    DesignError
        A group × period cell with no rows, fewer than two clusters, or an arm that is a
        single cluster of its own (its cluster-robust standard error would be 0).

    Warns
    -----
    StatisticalWarning
        Fewer than 20 clusters, or a model that reproduces the outcome exactly, e.g. an
        outcome constant within every group × period cell (the standard errors are then 0
        and the tests undefined, as R's ``summary.lm`` warns of an "essentially perfect
        fit").

    Notes
    -----
    **Standard errors.** Cluster-robust CR1: G/(G − 1)·(n − 1)/(n − k) times the sandwich with
    bread (X'WX)⁻¹ and the cluster sums of score contributions as meat — Stata's
    ``vce(cluster)``, statsmodels' ``cov_type="cluster"`` and
    ``sandwich::vcovCL(fit, type = "HC1", cadjust = TRUE)``. Intervals and p-values use t with
    G − 1 degrees of freedom (Cameron & Miller 2015). Without ``cluster`` each row is a cluster,
    which gives HC1, with t(n − k) for ``gaussian`` and the normal distribution for ``poisson``.
    Serially correlated outcomes within units make unclustered SEs far too small (Bertrand,
    Duflo & Mullainathan 2004): cluster at the level at which the intervention was assigned
    (area, prison), not the row. With few clusters (fewer than about 20, and certainly fewer
    than 10) even CR1 with t(G − 1) over-rejects; a wild cluster bootstrap is then better, and a
    warning is given. With only two clusters (one per group) no valid SE exists.

    **Computation.** Every regressor is a function of group, period or time point, covariate
    values and cluster, so the model is fitted exactly on the table of distinct combinations
    (cell sums of rows, outcome and exposure), and the robust covariance is built from
    row-level residuals summed within cells: time and memory grow linearly with the number of
    rows (a million rows with 200 clusters and 12 months take about a second), not with
    rows × time points. Continuous covariates make every row its own cell.

    **Pre-trend test.** Fitted to the pre-intervention rows only, with the same covariance
    type. The statistic is the Wald statistic divided by its degrees of freedom q, referred to
    F(q, G − 1) with clusters (F(q, n − k) for unclustered ``gaussian``; χ²(q), undivided, for
    unclustered ``poisson``). How to read it: a small p-value is evidence that the groups were
    already diverging, so the parallel-trends assumption is doubtful. A large p-value is
    **not** evidence of parallel trends — with few pre-intervention periods the test has little
    power, it says nothing about what would have happened after the interruption, and
    choosing a specification because it passes biases the estimate (Roth 2022). Report it as
    a diagnostic, with a plot of group means over time.

    **Assumptions / when not to use.** Parallel trends: without the intervention the expected
    outcome (on the link scale: differences for ``gaussian``, ratios for ``poisson``) would have
    changed by the same amount in both groups. Parallel trends on one scale generally fail on
    the other, so choose the family for substantive reasons. Group composition must be stable
    (no one moves group because of the intervention), and nothing else must change at the same
    time in only one group. With staggered adoption (groups treated at different times) the
    two-way fixed-effects estimate can be badly biased; this function supports a single common
    interruption only.

    References
    ----------
    Angrist, J.D. and Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, chapter 5.
    Princeton University Press.

    Bertrand, M., Duflo, E. and Mullainathan, S. (2004). How much should we trust
    differences-in-differences estimates? *Quarterly Journal of Economics* 119(1), 249–275.
    https://doi.org/10.1162/003355304772839588

    Cameron, A.C. and Miller, D.L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317–372. https://doi.org/10.3368/jhr.50.2.317

    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. *American Economic Review: Insights* 4(3), 305–322.
    https://doi.org/10.1257/aeri.20210236

    Examples
    --------
    >>> import pandas as pd
    >>> import evalkit as ek
    >>> d = pd.DataFrame({"y": [10, 12, 11, 13, 10, 11, 12, 18],
    ...                   "group": ["comparison"] * 4 + ["programme"] * 4,
    ...                   "post": [0, 0, 1, 1, 0, 0, 1, 1]})
    >>> res = ek.did(d, outcome="y", group="group", post="post")
    >>> round(res.estimate.estimate, 2)   # (15 - 10.5) - (12 - 11)
    3.5
    >>> res.to_frame()[["term", "estimate"]]
        term  estimate
    0  group      -0.5
    1   post       1.0
    2    did       3.5
    """
    data = check_frame(df)
    family = check_choice(family, "family", DID_FAMILIES)
    pretrend = check_choice(pretrend, "pretrend", PRETRENDS)
    level = check_conf_level(conf_level)
    covs = check_columns(covariates, "covariates")
    if exposure is not None and family != "poisson":
        raise option_error("exposure", "is used only with family='poisson'", exposure)
    require_columns(data, [outcome, group, post, time, cluster, exposure, *covs])

    y = check_numeric(data, outcome)
    check_magnitude(data, outcome, y, smallest=COVARIATE_RANGE[0])
    if family == "poisson":
        _common.refuse(data, outcome, y < 0, "must not be negative for family 'poisson'")
    z, treated_label, control_label = two_groups(data, group, treated)
    g = z.astype(np.int64)
    p = _common.check_post(data, post)
    expo = check_positive(data, exposure) if exposure is not None else None
    design = design_matrix(data, covs, reference=reference)
    Z = design.X
    t: np.ndarray | None = None
    if time is not None:
        t, _, shown = _common.time_index(data, time)
        _common.check_switch_once(data, post, p, t, shown)

    cells = _two_by_two(y, g, p, expo, family, outcome, control_label, treated_label)
    clusters, n_clusters = _clusters(data, cluster, g, (control_label, treated_label))

    t_levels: np.ndarray = np.empty(0)
    t_code = np.zeros(len(data), dtype=np.int64)
    if t is not None:
        t_levels, t_code = np.unique(t, return_inverse=True)
    labels = _time_levels(t_levels)
    time_names = [f"time[{v}]" for v in labels[1:]]
    # rows with equal covariate values share a design row: one key per covariate column
    z_codes = [pd.factorize(data[c], sort=False)[0] for c in covs]
    names = [INTERCEPT, "group", *([] if t is not None else ["post"]), "did", *design.names]
    names += time_names

    def build_X(idx: np.ndarray) -> np.ndarray:
        gi, pi = g[idx].astype(float), p[idx].astype(float)
        cols = [np.ones(len(idx)), gi, *([] if t is not None else [pi]), gi * pi, Z[idx]]
        if t is not None:
            cols.append(_time_dummies(t_code[idx], labels))
        return np.column_stack(cols)

    keys = [g, p, t_code, *z_codes]
    of_column = {name: col for col, terms in design.terms.items() for name in terms}
    fit = _cell_fit(
        family,
        y,
        expo,
        keys,
        build_X,
        clusters,
        "difference-in-differences model",
        names,
        of_column,
    )
    if fit.exact:
        warnings.warn(
            f"the difference-in-differences model reproduces '{outcome}' exactly (no residual "
            "variation): the standard errors are 0 and the intervals and tests are not "
            "meaningful",
            StatisticalWarning,
            stacklevel=2,
        )
    if n_clusters is not None:
        df_inf: float = float(n_clusters - 1)
    elif family == "gaussian":
        df_inf = float(fit.n - fit.k)
    else:
        df_inf = math.inf
    beta = fit.beta
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))  # rounding can make a 0 slightly negative
    keep = [i for i, nm in enumerate(names) if nm not in (INTERCEPT, *time_names)]
    # An SE at rounding level (a term the rows determine exactly: e.g. one unit per arm whose
    # before-period counts coincide) is no SE: report no test rather than p = 0.
    unit = 1.0 if family == "poisson" else max(float(np.std(y)), float(np.max(np.abs(y))) * 1e-8)
    degenerate = se <= 1e-7 * np.maximum(np.abs(beta), unit)
    se = np.where(degenerate, 0.0, se)
    lo, hi, stat, pval = wald(beta, se, level, df_inf)
    stat, pval = np.where(degenerate, np.nan, stat), np.where(degenerate, np.nan, pval)
    no_test = [names[i] for i in keep if degenerate[i]]
    if no_test and not fit.exact:
        warnings.warn(
            f"the standard error of {', '.join(repr(t) for t in no_test)} is 0: the rows "
            "determine it exactly (too few rows per group × period cell for a robust "
            "standard error), so it has no test (statistic and p are NaN)",
            StatisticalWarning,
            stacklevel=2,
        )
    columns: dict[str, Any] = {
        "estimate": beta[keep],
        "se": se[keep],
        "lower": lo[keep],
        "upper": hi[keep],
        "statistic": stat[keep],
        "df": np.full(len(keep), df_inf),
        "p": pval[keep],
    }
    if family == "poisson":
        with np.errstate(over="ignore"):  # an infinite upper limit is the right answer
            columns.update(
                rr=np.exp(beta[keep]), rr_lower=np.exp(lo[keep]), rr_upper=np.exp(hi[keep])
            )
    table = pd.DataFrame(columns, index=pd.Index([names[i] for i in keep], name="term"))

    i_did = names.index("did")
    effect = [beta[i_did], lo[i_did], hi[i_did]]
    if family == "poisson":
        with np.errstate(over="ignore"):
            effect = list(np.exp(effect))
    ci = "cluster-robust CR1" if n_clusters is not None else "robust HC1"
    ref = f"t({df_inf:g})" if math.isfinite(df_inf) else "normal"
    what = "ratio of rate ratios" if family == "poisson" else "difference in differences"
    estimate = Estimate(
        estimate=float(effect[0]),
        lower=float(effect[1]),
        upper=float(effect[2]),
        conf_level=level,
        method=f"{what} ({family}, {ci}, {ref})",
    )

    pre_test = None
    if t is not None:
        pre_test = _pretrend_test(
            pretrend, family, y, expo, g, p, t_code, t_levels, Z, design.names, z_codes, clusters
        )

    return DiDResult(
        estimate=estimate,
        table=table,
        vcov=pd.DataFrame(fit.vcov, index=names, columns=names),
        cells=cells,
        pretrend=pre_test,
        family=family,
        cov_type="CR1" if n_clusters is not None else "HC1",
        n=int(fit.n),
        n_clusters=n_clusters,
        df_inference=df_inf,
        time_effects=t is not None,
        treated_label=treated_label,
        control_label=control_label,
        conf_level=level,
    )


def _two_by_two(
    y: np.ndarray,
    g: np.ndarray,
    p: np.ndarray,
    expo: np.ndarray | None,
    family: str,
    outcome: str,
    control_label: Any,
    treated_label: Any,
) -> pd.DataFrame:
    """The group × period table; refuses an empty cell (and, for Poisson, a zero total)."""
    cell = 2 * g + p
    n_cell = np.bincount(cell, minlength=4)
    labels = [
        "comparison/before",
        "comparison/after",
        "intervention/before",
        "intervention/after",
    ]
    if (n_cell == 0).any():
        counts = ", ".join(f"{lab} {int(c)}" for lab, c in zip(labels, n_cell, strict=True))
        raise DesignError(
            f"difference in differences needs rows in all four group × period cells; got {counts}"
        )
    sum_y = np.bincount(cell, weights=y, minlength=4)
    if family == "poisson" and (sum_y == 0).any():
        empty = ", ".join(lab for lab, v in zip(labels, sum_y, strict=True) if v == 0)
        raise DesignError(
            f"column '{outcome}' is 0 in every row of cell(s) {empty}: the ratio of rate "
            "ratios is 0 or infinite; use family='gaussian' or pool periods"
        )
    sum_e = np.bincount(cell, weights=expo, minlength=4) if expo is not None else n_cell
    return pd.DataFrame(
        {
            "group": [control_label, control_label, treated_label, treated_label],
            "post": [0, 1, 0, 1],
            "n": n_cell.astype(np.int64),
            "outcome": sum_y,
            "exposure": np.asarray(sum_e, dtype=float),
            "mean": sum_y / sum_e,
        }
    )


def _clusters(
    data: pd.DataFrame, cluster: str | None, g: np.ndarray, labels: tuple[Any, Any]
) -> tuple[np.ndarray | None, int | None]:
    """Cluster codes 0..G-1 and G, or ``(None, None)``; warns with fewer than FEW_CLUSTERS.

    ``g`` is the 0/1 arm of each row and ``labels`` the (comparison, programme) labels: an
    arm that is a single cluster of its own is refused
    (:func:`evalkit.timeseries._common.check_arm_clusters`).
    """
    if cluster is None:
        return None, None
    check_no_missing(data, cluster)
    codes = pd.factorize(data[cluster], sort=True)[0]
    n_groups = int(codes.max()) + 1
    if n_groups < 2:
        raise DesignError(
            f"column '{cluster}' has {n_groups} cluster; cluster-robust standard errors "
            "need at least 2 (and many more to be reliable)"
        )
    _common.check_arm_clusters(codes, g, cluster, labels)
    if n_groups < FEW_CLUSTERS:
        warnings.warn(
            f"only {n_groups} clusters in '{cluster}': cluster-robust standard errors are "
            "unreliable with few clusters (Cameron & Miller 2015); consider a wild cluster "
            "bootstrap",
            StatisticalWarning,
            stacklevel=3,
        )
    return codes, n_groups


def _pretrend_test(
    kind: str,
    family: str,
    y: np.ndarray,
    expo: np.ndarray | None,
    g: np.ndarray,
    p: np.ndarray,
    t_code: np.ndarray,
    t_levels: np.ndarray,
    Z: np.ndarray,
    z_names: list[str],
    z_codes: list[np.ndarray],
    clusters: np.ndarray | None,
) -> TestResult | None:
    """Wald test of group × time terms in the pre-intervention rows (see :func:`did`)."""
    from scipy import stats

    pre = p == 0
    codes = t_code[pre]
    levels = np.unique(codes)
    if len(levels) < 2:
        return None
    code_pre = np.searchsorted(levels, codes)  # 0 .. L-1 among pre-intervention times
    t_pre = t_levels[codes]
    labels = _time_levels(t_levels[levels])
    g_pre = g[pre].astype(float)
    Z_pre = Z[pre]
    t_mean = float(t_pre.mean())
    n_levels = len(levels)
    q = 1 if kind == "linear" else n_levels - 1
    tested = ["group:time"] if kind == "linear" else [f"group:time[{v}]" for v in labels[:-1]]
    names = [INTERCEPT, "group", *tested, *z_names, *(f"time[{v}]" for v in labels[1:])]

    def build_X(idx: np.ndarray) -> np.ndarray:
        gi = g_pre[idx]
        if kind == "linear":
            test = (gi * (t_pre[idx] - t_mean))[:, None]
        else:  # leads: every pre-intervention time but the last
            test = np.column_stack([gi * (code_pre[idx] == j) for j in range(n_levels - 1)])
        return np.column_stack(
            [np.ones(len(idx)), gi, test, Z_pre[idx], _time_dummies(code_pre[idx], labels)]
        )

    cl = None if clusters is None else pd.factorize(clusters[pre])[0]
    try:
        fit = _cell_fit(
            family,
            y[pre],
            None if expo is None else expo[pre],
            [g[pre], code_pre, *(c[pre] for c in z_codes)],
            build_X,
            cl,
            "pre-trend model",
            names,
            {},
        )
    except (DesignError, InputError):  # e.g. a covariate constant before the interruption
        return None
    b = fit.beta[2 : 2 + q]
    V = fit.vcov[2 : 2 + q, 2 : 2 + q]
    if fit.exact:  # e.g. an outcome constant before the interruption: nothing to test against
        return None
    try:
        w = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:  # a singular covariance of the tested terms: no test
        return None
    label = "linear differential pre-trend" if kind == "linear" else "event-study leads"
    if cl is not None:
        df2 = float(cl.max())  # clusters - 1
    elif family == "gaussian":
        df2 = float(fit.n - fit.k)
    else:
        return TestResult(
            statistic=w,
            df=float(q),
            p=float(stats.chi2.sf(w, q)),
            name=f"pre-trend: {label}, Wald chi-squared({q})",
        )
    return TestResult(
        statistic=w / q,
        df=float(q),
        p=float(stats.f.sf(w / q, q, df2)),
        name=f"pre-trend: {label}, F({q}, {df2:g})",
    )
