"""Propensity scores, nearest-neighbour matching, inverse-probability weights and balance.

A diversion-scheme evaluation compares people who went through the scheme ("treated") with
people who did not ("control"). When the two groups differ in who they are, a naive comparison
of reoffending rates mixes the effect of the scheme with those differences. This module
estimates the propensity score (the probability of being treated given the covariates; Rosenbaum
& Rubin 1983), forms comparable groups by greedy nearest-neighbour matching on it or by
inverse-probability weighting, and reports covariate balance the way MatchIt and cobalt do.

Public functions
----------------
:func:`propensity_score`
    Logistic regression of treatment on covariates (statsmodels GLM, binomial family).
:func:`match`
    Greedy nearest-neighbour matching, 1:k, with or without replacement, calipers and exact
    matching cells; reproduces MatchIt's classic greedy algorithm exactly.
:func:`weight`
    Inverse-probability weights for the ATT, ATC or ATE; stabilised and truncated on request.
:func:`balance`
    Standardised mean differences, variance ratios and eCDF statistics before and after
    weighting, with effective sample sizes (Kish 1965).
:func:`matched_rate_difference`
    Rate difference in a matched or weighted sample with a cluster-robust standard error.

Outcomes after matching or weighting
------------------------------------
Survival outcomes are analysed with the survival module using the weights and the matched sets:

* weighted Kaplan–Meier: ``ek.kaplan_meier(m.data, time="time", event="event",
  by="treated", weights="weight")``;
* weighted Cox model with a robust variance clustered on the matched set (Austin 2013):
  ``ek.cox(m.data, time="time", event="event", covariates=["treated"], weights="weight",
  cluster="subclass")``. After matching **with** replacement ``subclass`` is missing (a control
  can belong to several sets); cluster on the person identifier instead. After weighting use
  ``w.weights`` as a column, e.g. ``df.assign(weight=w.weights)``.

References
----------
Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in observational studies
for causal effects. *Biometrika* 70(1):41–55. doi:10.1093/biomet/70.1.41

Rosenbaum PR, Rubin DB (1985). Constructing a control group using multivariate matched sampling
methods that incorporate the propensity score. *The American Statistician* 39(1):33–38.
doi:10.1080/00031305.1985.10479383

Austin PC (2011). An introduction to propensity score methods for reducing the effects of
confounding in observational studies. *Multivariate Behavioral Research* 46(3):399–424.
doi:10.1080/00273171.2011.568786

Stuart EA (2010). Matching methods for causal inference: a review and a look forward.
*Statistical Science* 25(1):1–21. doi:10.1214/09-STS313

Ho DE, Imai K, King G, Stuart EA (2007). Matching as nonparametric preprocessing for reducing
model dependence in parametric causal inference. *Political Analysis* 15(3):199–236.
doi:10.1093/pan/mpl013; and (2011) MatchIt: nonparametric preprocessing for parametric causal
inference. *Journal of Statistical Software* 42(8). doi:10.18637/jss.v042.i08

Kish L (1965). *Survey Sampling*. Wiley, New York.

Greifer N. cobalt: Covariate Balance Tables and Plots (R package), vignette "cobalt: Covariate
Balance Tables and Plots", section on standardised mean differences.
https://ngreifer.github.io/cobalt/
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evalkit.errors import ConvergenceError, DesignError, InputError, StatisticalWarning
from evalkit.schema import (
    check_choice,
    check_covariates,
    check_frame,
    check_level,
    check_no_missing,
    check_numeric,
    require_columns,
    row_ids,
)

__all__ = [
    "Balance",
    "MatchResult",
    "MatchedEffect",
    "PropensityScore",
    "WeightResult",
    "balance",
    "match",
    "matched_rate_difference",
    "propensity_score",
    "weight",
]

LINKS = ("logit", "linear.logit")
ORDERS = ("largest", "smallest", "random", "data")
MATCH_ESTIMANDS = ("ATT", "ATC")
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
_BEFORE_COLOUR = "#D55E00"  # Okabe & Ito vermillion
_AFTER_COLOUR = "#0072B2"  # Okabe & Ito blue


# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------


def _check_index(df: pd.DataFrame) -> None:
    if not df.index.is_unique:
        dup = pd.unique(df.index[df.index.duplicated(keep=False)])
        raise InputError(
            None,
            "the index must be unique: matched sets and weights are reported by row label "
            "(reset it with df.reset_index(drop=True))",
            dup,
        )


def _treatment(df: pd.DataFrame, column: str) -> np.ndarray:
    """Treatment indicator as int8 0/1 (bool or numeric 0/1 accepted; nothing coerced)."""
    s = df[column]
    check_no_missing(df, column)
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.int8)
    if not pd.api.types.is_numeric_dtype(s):
        raise InputError(
            column, f"must be 0 (control) or 1 (treated), but has dtype {s.dtype}", None
        )
    values = s.to_numpy(dtype=float)
    bad = (values != 0) & (values != 1)
    if bad.any():
        raise InputError(column, "must be 0 (control) or 1 (treated)", row_ids(df, bad))
    return values.astype(np.int8)


def _columns_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    cols = list(value)
    if not all(isinstance(c, str) for c in cols):
        raise InputError(name, "must be a column name or a list of column names")
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise InputError(name, f"lists a column more than once: {dup}")
    return cols


def _levels(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    values = pd.unique(s.to_numpy())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _expand(
    df: pd.DataFrame, covariates: Sequence[str], *, drop_first: bool
) -> tuple[np.ndarray, list[str]]:
    """Covariate matrix: numeric columns as they are, booleans as 0/1, categories as dummies.

    Dummy columns are named ``<column>_<level>``, levels in sorted (or categorical) order. With
    ``drop_first`` the first level is the reference (as R's treatment contrasts), otherwise every
    level gets a column (as MatchIt's and cobalt's balance tables). Numbers stored as text
    are refused (:func:`evalkit.schema.check_covariates`).
    """
    check_covariates(df, covariates)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in covariates:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            check_no_missing(df, col)
            blocks.append(s.to_numpy(dtype=float)[:, None])
            names.append(col)
        elif _is_categorical(s):
            check_no_missing(df, col)
            levels = _levels(s)
            values = s.to_numpy()
            use = levels[1:] if drop_first else levels
            for level in use:
                blocks.append((values == level).astype(float)[:, None])
                names.append(f"{col}_{level}")
        else:
            blocks.append(check_numeric(df, col)[:, None])
            names.append(col)
    if not blocks:
        return np.empty((len(df), 0)), names
    return np.hstack(blocks), names


def _cells(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Integer code (0..G-1) of each row's exact-matching cell, cells in sorted order."""
    codes = np.zeros(len(df), dtype=np.int64)
    for col in columns:
        check_no_missing(df, col)
        c, uniques = pd.factorize(df[col], sort=True)
        _, codes = np.unique(codes * len(uniques) + c, return_inverse=True)
    return codes.astype(np.int64)


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    from scipy.linalg import qr

    if X.shape[0] < X.shape[1]:
        raise DesignError(f"the propensity model has {X.shape[1]} terms but only {X.shape[0]} rows")
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    _, r, piv = qr(X / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = 1e-7 * (diag[0] if diag.size else 0.0)  # R's qr() tolerance in lm/glm
    rank = int(np.sum(diag > tol))
    if rank < X.shape[1]:
        dependent = [names[i] for i in piv[rank:]]
        raise InputError(
            dependent[0],
            "is constant or a linear combination of the other covariates (collinear), so the "
            f"propensity model cannot estimate it; remove it (collinear terms: {dependent})",
        )


# --------------------------------------------------------------------------------------------
# propensity score
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PropensityScore:
    """A fitted logistic propensity-score model.

    Attributes
    ----------
    scores
        Fitted probability of treatment for every row (pandas Series aligned to the input
        index, named ``"propensity_score"``).
    linear_predictor
        The fitted log-odds (logit of ``scores``), named ``"linear_predictor"``.
    table
        Coefficients: index ``term`` (``"(Intercept)"``, numeric covariates, dummies named
        ``<column>_<level>``); columns ``coef``, ``se``, ``z``, ``p`` (Wald, as ``summary(glm)``).
    link
        ``"logit"`` (the distance used for matching is the score itself, MatchIt's default) or
        ``"linear.logit"`` (the distance is the linear predictor).
    deviance, null_deviance, n_iter
        Residual and null deviance, and IRLS iterations.
    treatment, covariates
        The column names used.
    """

    scores: pd.Series
    linear_predictor: pd.Series
    table: pd.DataFrame
    link: str
    deviance: float
    null_deviance: float
    n_iter: int
    treatment: str
    covariates: tuple[str, ...]

    @property
    def distance(self) -> pd.Series:
        """The matching distance: ``scores`` for link "logit", the log-odds for "linear.logit"."""
        return self.linear_predictor if self.link == "linear.logit" else self.scores

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return self.table.to_html()


def propensity_score(
    df: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    link: str = "logit",
) -> PropensityScore:
    """Estimate propensity scores by logistic regression.

    Parameters
    ----------
    df
        One row per person.
    treatment
        Column coded 1 (treated) / 0 (control), or booleans.
    covariates
        Columns entering the model linearly. Numeric and boolean columns are used as they are;
        text or categorical columns become indicator terms with the first level (sorted, or the
        first category) as reference, as R's ``factor`` does.
    link
        ``"logit"``: the score is the fitted probability and is the matching distance, as
        MatchIt's default; ``"linear.logit"``: the distance is the linear predictor (log-odds),
        as recommended by Austin (2011) for calipers.

    Returns
    -------
    PropensityScore

    Raises
    ------
    InputError
        Treatment not 0/1, missing or non-finite covariate values (rows are named), collinear
        or constant covariates.
    DesignError
        Only one treatment group present.
    ConvergenceError
        The iteratively reweighted least-squares fit did not converge.

    Warns
    -----
    StatisticalWarning
        Perfect separation, or fitted probabilities numerically 0 or 1: weights built from such
        scores are extreme and matching on them is unreliable.

    Notes
    -----
    The model is ``glm(treatment ~ covariates, family = binomial)`` in R; coefficients and
    standard errors agree with R to about 1e-8 relative (IRLS is run to a deviance tolerance of
    1e-12). The propensity score balances the covariates *in the model* only: it says nothing
    about unmeasured confounders (Rosenbaum & Rubin 1983). Check balance after matching or
    weighting (:func:`balance`) rather than the model's fit statistics.

    References
    ----------
    Rosenbaum PR, Rubin DB (1983). *Biometrika* 70(1):41–55. doi:10.1093/biomet/70.1.41

    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.
    doi:10.1080/00273171.2011.568786

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> ps = ek.propensity_score(rossi, treatment="fin", covariates=["age", "prio"])
    >>> round(float(ps.scores.mean()), 3)
    0.5
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    df = check_frame(df)
    covs = _columns_list(covariates, "covariates")
    if not covs:
        raise InputError("covariates", "must name at least one column")
    require_columns(df, [treatment, *covs])
    if treatment in covs:
        raise InputError("covariates", f"must not include the treatment column '{treatment}'")
    check_choice(link, "link", LINKS)
    z = _treatment(df, treatment)
    n1 = int(z.sum())
    if n1 == 0 or n1 == len(z):
        which = "treated" if n1 == 0 else "control"
        raise DesignError(
            f"column '{treatment}' has no {which} rows; a propensity score needs both groups"
        )
    Xc, names = _expand(df, covs, drop_first=True)
    X = np.column_stack([np.ones(len(df)), Xc])
    names = ["(Intercept)", *names]
    _check_rank(X, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PerfectSeparationWarning)
        model = sm.GLM(z.astype(float), X, family=sm.families.Binomial())
        fit = model.fit(tol=1e-12, maxiter=100)
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    if not fit.converged:
        raise ConvergenceError(
            "the propensity-score model did not converge in 100 iterations; check for "
            "covariates that (nearly) perfectly predict treatment"
        )
    params = np.asarray(fit.params, dtype=float)
    eta = X @ params
    mu = np.asarray(fit.fittedvalues, dtype=float)
    eps = 10 * np.finfo(float).eps
    if separated or np.any((mu < eps) | (mu > 1 - eps)):
        warnings.warn(
            "propensity model: fitted probabilities numerically 0 or 1 occurred (perfect or "
            "quasi-perfect separation); weights from these scores are extreme and the matched "
            "or weighted comparison relies on extrapolation",
            StatisticalWarning,
            stacklevel=2,
        )
    se = np.asarray(fit.bse, dtype=float)
    zval = params / se
    table = pd.DataFrame(
        {"coef": params, "se": se, "z": zval, "p": 2 * stats.norm.sf(np.abs(zval))},
        index=pd.Index(names, name="term"),
    )
    history = getattr(fit, "fit_history", {}) or {}
    return PropensityScore(
        scores=pd.Series(mu, index=df.index, name="propensity_score"),
        linear_predictor=pd.Series(eta, index=df.index, name="linear_predictor"),
        table=table,
        link=link,
        deviance=float(fit.deviance),
        null_deviance=float(fit.null_deviance),
        n_iter=int(history.get("iteration", 0)),
        treatment=treatment,
        covariates=tuple(covs),
    )


# --------------------------------------------------------------------------------------------
# balance statistics (MatchIt 4.5 summary.matchit / cobalt conventions)
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
    X: np.ndarray, z: np.ndarray, w: np.ndarray, binary: np.ndarray, mdiff: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and maximum distance between the weighted eCDFs of the two groups.

    As MatchIt's ``qqsum(standardize = TRUE)``: weights are normalised within each group, the
    difference of the cumulative sums is taken at each distinct value of the covariate over the
    whole sample (units with zero weight included), and its absolute value is averaged and
    maximised. For binary columns both statistics are |difference in means|.
    """
    p = X.shape[1]
    mean = np.abs(mdiff).astype(float)
    mx = np.abs(mdiff).astype(float)
    s1 = w[z == 1].sum()
    s0 = w[z == 0].sum()
    signed = np.where(z == 1, w / s1, -w / s0)
    for j in range(p):
        if binary[j]:
            continue
        x = X[:, j]
        order = np.argsort(x, kind="stable")
        xs = x[order]
        cs = np.abs(np.cumsum(signed[order]))
        last = np.ones(len(xs), dtype=bool)
        last[:-1] = xs[1:] != xs[:-1]
        e = cs[last]
        mean[j] = e.mean()
        mx[j] = e.max()
    return mean, mx


def _balance_stats(
    X: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    sd_denom: np.ndarray,
    binary: np.ndarray,
) -> dict[str, np.ndarray]:
    t1 = z == 1
    t0 = z == 0
    m1 = _wmean(X[t1], w[t1])
    m0 = _wmean(X[t0], w[t0])
    mdiff = m1 - m0
    too_small = (np.count_nonzero(w[t1]) < 2) and (np.count_nonzero(w[t0]) < 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        smd = mdiff / sd_denom
        vr = _wvar(X[t1], w[t1], binary) / _wvar(X[t0], w[t0], binary)
    vr = np.where(binary, np.nan, vr)
    ecdf_mean, ecdf_max = _ecdf_stats(X, z, w, binary, mdiff)
    if too_small:
        smd = np.full_like(smd, np.nan)
        vr = np.full_like(vr, np.nan)
    return {
        "mean_treated": m1,
        "mean_control": m0,
        "smd": smd,
        "vr": vr,
        "ecdf_mean": ecdf_mean,
        "ecdf_max": ecdf_max,
    }


def _sd_denominator(X: np.ndarray, z: np.ndarray, binary: np.ndarray, estimand: str) -> np.ndarray:
    """Standardisation SD from the *unadjusted* sample (MatchIt/cobalt): treated SD for the ATT,
    control SD for the ATC, sqrt of the mean of the two group variances for the ATE. Binary
    variables use p(1-p). If that SD is 0 or undefined, MatchIt's pooled SD is used instead."""
    ones = np.ones(len(z))
    v1 = _wvar(X[z == 1], ones[z == 1], binary)
    v0 = _wvar(X[z == 0], ones[z == 0], binary)
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
    X: np.ndarray,
    names: list[str],
    z: np.ndarray,
    weights: np.ndarray | None,
    estimand: str,
) -> pd.DataFrame:
    binary = np.all((X == 0) | (X == 1), axis=0)
    sd = _sd_denominator(X, z, binary, estimand)
    before = _balance_stats(X, z, np.ones(len(z)), sd, binary)
    if weights is None:
        nan = np.full(X.shape[1], np.nan)
        after = {k: nan for k in before}
    else:
        after = _balance_stats(X, z, np.asarray(weights, dtype=float), sd, binary)
    table = pd.DataFrame(
        {
            "type": np.where(binary, "binary", "continuous"),
            "smd_before": before["smd"],
            "smd_after": after["smd"],
            "vr_before": before["vr"],
            "vr_after": after["vr"],
            "mean_treated_before": before["mean_treated"],
            "mean_control_before": before["mean_control"],
            "mean_treated_after": after["mean_treated"],
            "mean_control_after": after["mean_control"],
            "ecdf_mean_before": before["ecdf_mean"],
            "ecdf_mean_after": after["ecdf_mean"],
            "ecdf_max_before": before["ecdf_max"],
            "ecdf_max_after": after["ecdf_max"],
        },
        index=pd.Index(names, name="covariate"),
    )
    return table


def _ess(w: np.ndarray) -> float:
    """Kish (1965) effective sample size (Σw)²/Σw²; 0 when every weight is 0."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


def _sample_sizes(z: np.ndarray, w: np.ndarray | None) -> pd.DataFrame:
    ww = np.ones(len(z)) if w is None else np.asarray(w, dtype=float)
    rows = {}
    for g, name in ((0, "control"), (1, "treated")):
        wg = ww[z == g]
        rows[name] = [float(np.sum(z == g)), float(wg.sum()), _ess(wg)]
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
    ax.axvline(SMD_THRESHOLD, color="#666666", linestyle="--", linewidth=1.0, zorder=1)
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
    alt = _love_alt_text(table, adjusted)
    ax.evalkit_alt_text = alt
    return ax


# --------------------------------------------------------------------------------------------
# balance (public)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Balance:
    """Covariate balance before and after weighting (or matching).

    Attributes
    ----------
    table
        Index ``covariate`` (dummies ``<column>_<level>`` for every level of a categorical
        column). Columns, fixed: ``type`` ("binary"/"continuous"); ``smd_before``,
        ``smd_after`` (standardised mean difference, treated minus control); ``vr_before``,
        ``vr_after`` (variance ratio treated/control, NaN for binary variables);
        ``mean_treated_before``, ``mean_control_before``, ``mean_treated_after``,
        ``mean_control_after``; ``ecdf_mean_*`` and ``ecdf_max_*`` (mean and maximum distance
        between the groups' empirical CDFs). ``*_after`` columns are NaN when no weights were
        given.
    sample_sizes
        Index ``n``, ``sum_weights``, ``ess`` (Kish effective sample size with the weights);
        columns ``control``, ``treated``.
    estimand
        Which SD standardises the differences: treated (ATT), control (ATC), pooled (ATE).
    """

    table: pd.DataFrame
    sample_sizes: pd.DataFrame
    estimand: str

    def to_frame(self) -> pd.DataFrame:
        """The balance table."""
        return self.table.copy()

    def love_alt_text(self) -> str:
        """A text alternative for :meth:`plot_love`."""
        return _love_alt_text(self.table, "weighting")

    def plot_love(self, ax: Any = None) -> Any:
        """Love plot of |SMD| before and after, with the 0.1 threshold; returns the axes.

        The axes carry the text alternative in ``ax.evalkit_alt_text``; pass it as ``alt`` to
        :func:`evalkit.report.figures.figure`.
        """
        return _plot_love(self.table, ax, "weighting")

    def _repr_html_(self) -> str:
        return self.sample_sizes.to_html() + self.table.to_html()


def _weights_argument(df: pd.DataFrame, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        require_columns(df, [weights])
        w = check_numeric(df, weights)
        column = weights
    else:
        if isinstance(weights, pd.Series):
            if not weights.index.equals(df.index):
                raise InputError("weights", "a Series of weights must have the same index as df")
        w = np.asarray(weights, dtype=float)
        column = "weights"
        if w.shape != (len(df),):
            raise InputError("weights", f"must have one value per row ({len(df)}), not {w.shape}")
        bad = ~np.isfinite(w)
        if bad.any():
            raise InputError(column, "must be finite and not missing", row_ids(df, bad))
    bad = w < 0
    if bad.any():
        raise InputError(column, "must not be negative", row_ids(df, bad))
    return w


def balance(
    df: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    estimand: str = "ATT",
) -> Balance:
    """Covariate balance between treated and control, before and after weighting.

    Parameters
    ----------
    df
        One row per person.
    treatment
        Column coded 1/0 (or booleans).
    covariates
        Columns to summarise; categorical columns get one row per level.
    weights
        ``None`` (only the unadjusted comparison), a column name, or one non-negative weight per
        row (e.g. ``w.weights`` from :func:`weight`, or matching weights; zero = not used).
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
    scale: the treated group's SD for the ATT, the control group's for the ATC, and
    sqrt((s²_treated + s²_control)/2) for the ATE. Binary (0/1) variables use sqrt(p(1−p)) (no
    n−1); continuous variables the usual n−1 variance. Variance ratios use weighted variances
    Σw̃(x−x̄)²/(1−Σw̃²) (w̃ normalised weights) and are not given for binary variables. The eCDF
    statistics are MatchIt's "eCDF Mean" and "eCDF Max". Austin (2011) suggests |SMD| < 0.1 and
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
    >>> b = ek.balance(rossi, treatment="fin", covariates=["age", "prio"])
    >>> list(b.table.columns[:3])
    ['type', 'smd_before', 'smd_after']
    """
    df = check_frame(df)
    covs = _columns_list(covariates, "covariates")
    if not covs:
        raise InputError("covariates", "must name at least one column")
    require_columns(df, [treatment, *covs])
    check_choice(estimand, "estimand", WEIGHT_ESTIMANDS)
    z = _treatment(df, treatment)
    _require_both_groups(z, treatment)
    X, names = _expand(df, covs, drop_first=False)
    w = _weights_argument(df, weights)
    if w is not None:
        for g, label in ((1, "treated"), (0, "control")):
            if not np.any(w[z == g] > 0):
                raise DesignError(f"every {label} weight is zero; balance cannot be assessed")
    table = _balance_table(X, names, z, w, estimand)
    return Balance(table=table, sample_sizes=_sample_sizes(z, w), estimand=estimand)


def _require_both_groups(z: np.ndarray, treatment: str) -> None:
    n1 = int(z.sum())
    if n1 == 0:
        raise DesignError(f"column '{treatment}' has no treated rows (1); both groups are needed")
    if n1 == len(z):
        raise DesignError(f"column '{treatment}' has no control rows (0); both groups are needed")


# --------------------------------------------------------------------------------------------
# nearest-neighbour matching: the engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pool:
    """Pool (candidate-match) units sorted two ways for one-dimensional nearest-neighbour search.

    ``asc`` holds pool rows sorted by (cell, distance ascending, row); ``desc`` by (cell,
    distance descending, row). For a focal unit, the pool units in its cell with a distance at or
    above its own start at ``right_start`` in ``asc``; those strictly below start at
    ``left_start`` in ``desc``. Walking each array forwards therefore visits candidates from
    nearest to farthest on that side, and among equal distances from the earliest row.
    """

    asc: np.ndarray
    desc: np.ndarray
    right_start: np.ndarray
    right_end: np.ndarray
    left_start: np.ndarray
    left_end: np.ndarray


def _prepare_pool(d: np.ndarray, cells: np.ndarray, focal: np.ndarray, pool: np.ndarray) -> _Pool:
    uniq, rank = np.unique(d, return_inverse=True)
    R = np.int64(len(uniq))
    rank = rank.astype(np.int64)
    cp, rp = cells[pool], rank[pool]
    o_asc = np.lexsort((pool, rp, cp))
    o_desc = np.lexsort((pool, -rp, cp))
    asc_key = (cp * R + rp)[o_asc]
    desc_key = (cp * R + (R - 1 - rp))[o_desc]
    cf, rf = cells[focal], rank[focal]
    return _Pool(
        asc=pool[o_asc],
        desc=pool[o_desc],
        right_start=np.searchsorted(asc_key, cf * R + rf, side="left"),
        right_end=np.searchsorted(asc_key, (cf + 1) * R, side="left"),
        left_start=np.searchsorted(desc_key, cf * R + (R - 1 - rf), side="right"),
        left_end=np.searchsorted(desc_key, (cf + 1) * R, side="left"),
    )


def _k_nearest(d: np.ndarray, focal: np.ndarray, pool: _Pool, k: int, caliper: float) -> np.ndarray:
    """The k nearest pool units of each focal unit in the *full* pool (matching with
    replacement): vectorised, no search beyond k candidates on each side.

    Returns an (n_focal, k) array of row positions, nearest first (ties: earliest row), -1 where
    fewer than k pool units are within the caliper.
    """
    m = len(focal)
    n0 = len(pool.asc)
    steps = np.arange(k)
    pos_r = pool.right_start[:, None] + steps
    pos_l = pool.left_start[:, None] + steps
    ok_r = pos_r < pool.right_end[:, None]
    ok_l = pos_l < pool.left_end[:, None]
    rows_r = pool.asc[np.minimum(pos_r, n0 - 1)] if n0 else np.zeros_like(pos_r)
    rows_l = pool.desc[np.minimum(pos_l, n0 - 1)] if n0 else np.zeros_like(pos_l)
    t = d[focal][:, None]
    dist_r = np.where(ok_r, np.abs(d[rows_r] - t), np.inf)
    dist_l = np.where(ok_l, np.abs(d[rows_l] - t), np.inf)
    rows = np.concatenate([rows_r, rows_l], axis=1)
    dist = np.concatenate([dist_r, dist_l], axis=1)
    big = np.iinfo(np.int64).max
    rows_key = np.where(np.isfinite(dist), rows, big)
    order = np.lexsort((rows_key, dist), axis=-1)[:, :k]
    take = np.arange(m)[:, None]
    best_rows = rows[take, order]
    best_dist = dist[take, order]
    valid = np.isfinite(best_dist) & (best_dist <= caliper)
    return np.where(valid, best_rows, -1)


def _greedy(
    d: np.ndarray, focal: np.ndarray, pool: _Pool, k: int, caliper: float, n: int
) -> np.ndarray:
    """MatchIt's classic greedy nearest-neighbour matching without replacement.

    ``focal`` lists the focal units in processing order. In round r = 1..k each focal unit, in
    that order, takes the nearest pool unit still available (ties: earliest row) if it is within
    the caliper. Availability is kept in two "next available" arrays (one per sort direction)
    with path halving, so finding the nearest available unit on each side costs amortised
    O(log n) and nothing is ever compared with more than two candidates; the whole match is
    O((n_focal · k + n_pool) log n) after the sort. Returns (n_focal, k) row positions or -1.
    """
    n_focal = len(focal)
    n0 = len(pool.asc)
    out = np.full((n_focal, k), -1, dtype=np.int64)
    if n0 == 0 or n_focal == 0:
        return out
    pos_in_asc = np.empty(n, dtype=np.int64)
    pos_in_asc[pool.asc] = np.arange(n0)
    pos_in_desc = np.empty(n, dtype=np.int64)
    pos_in_desc[pool.desc] = np.arange(n0)
    asc_rows = pool.asc.tolist()
    desc_rows = pool.desc.tolist()
    asc_d = d[pool.asc].tolist()
    desc_d = d[pool.desc].tolist()
    asc_to_desc = pos_in_desc[pool.asc].tolist()
    desc_to_asc = pos_in_asc[pool.desc].tolist()
    nxt_a = list(range(n0 + 1))  # next available position at or after i (n0 = none)
    nxt_d = list(range(n0 + 1))
    rs = pool.right_start.tolist()
    re_ = pool.right_end.tolist()
    ls = pool.left_start.tolist()
    le = pool.left_end.tolist()
    td = d[focal].tolist()
    inf = math.inf
    active = list(range(n_focal))
    for r in range(k):
        chosen = [-1] * n_focal
        still = []
        for i in active:
            t = td[i]
            # nearest available at or above t (earliest row among equal distances)
            j = rs[i]
            while nxt_a[j] != j:
                nxt_a[j] = nxt_a[nxt_a[j]]
                j = nxt_a[j]
            dr = abs(asc_d[j] - t) if j < re_[i] else inf
            # nearest available strictly below t
            h = ls[i]
            while nxt_d[h] != h:
                nxt_d[h] = nxt_d[nxt_d[h]]
                h = nxt_d[h]
            dl = abs(t - desc_d[h]) if h < le[i] else inf
            if dl < dr or (dl == dr and dl != inf and desc_rows[h] < asc_rows[j]):
                if dl > caliper:
                    continue
                a, b = desc_to_asc[h], h
                chosen[i] = desc_rows[h]
            else:
                if dr == inf or dr > caliper:  # no candidate on either side, or too far
                    continue
                a, b = j, asc_to_desc[j]
                chosen[i] = asc_rows[j]
            nxt_a[a] = a + 1
            nxt_d[b] = b + 1
            still.append(i)
        out[:, r] = chosen
        active = still  # a unit left without a match now cannot get one in a later round
    return out


# --------------------------------------------------------------------------------------------
# matching: public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Result of :func:`match`.

    Attributes
    ----------
    data
        The matched rows (weight > 0) in their original order, with the input columns plus
        ``weight`` and ``subclass`` (as MatchIt's ``match.data()``).
    weights
        Matching weight of every input row (0 = not matched), MatchIt's convention: each matched
        focal unit (treated, for the ATT) has weight 1; a matched control gets the sum over the
        treated units it is matched to of 1/(number of controls matched to that treated unit),
        and the control weights are then scaled to sum to the number of distinct matched
        controls.
    subclass
        Matched-set identifier (1, 2, … numbered in the row order of the focal units; nullable
        integer). Missing for unmatched rows, and for every row after matching with replacement
        (a control can then belong to several sets; use ``pairs``).
    pairs
        One row per (focal, match) pair: ``treated``, ``control`` (row labels), ``subclass``,
        ``match_number`` (1..ratio: the round of greedy matching, or the rank of nearness with
        replacement) and ``difference`` (|distance difference|).
    counts
        Index ``all``, ``matched``, ``matched_ess`` (Kish effective sample size of the matching
        weights), ``unmatched``; columns ``control``, ``treated``. Every input row is counted
        in ``all`` = ``matched`` + ``unmatched``.
    unmatched
        Every focal unit with fewer than ``ratio`` matches: index = row label; columns
        ``n_matched`` and ``reason`` (no unit of the other group in its exact cell; none within
        the caliper; fewer than ``ratio`` within reach; or those within reach were used by earlier
        matches).
    distance
        The distance matched on (propensity score, its logit, or the user's), per row.
    propensity
        The fitted :class:`PropensityScore` (``None`` when ``distance`` was supplied).
    caliper
        The caliper actually applied, in units of ``distance`` (``None`` without a caliper).
    ratio, replace, order, estimand, exact, treatment, covariates
        The settings used.
    """

    data: pd.DataFrame
    weights: pd.Series
    subclass: pd.Series
    pairs: pd.DataFrame
    counts: pd.DataFrame
    unmatched: pd.DataFrame
    distance: pd.Series
    propensity: PropensityScore | None
    caliper: float | None
    ratio: int
    replace: bool
    order: str
    estimand: str
    exact: tuple[str, ...]
    treatment: str
    covariates: tuple[str, ...]
    _source: pd.DataFrame = field(repr=False)

    def balance(self) -> pd.DataFrame:
        """Balance before and after matching, as MatchIt's ``summary()``.

        Rows: ``distance`` first, then the covariates and exact-matching columns (categorical
        ones as one row per level). Columns as :attr:`Balance.table`; SMDs standardised by the
        treated-group SD (ATT) or control-group SD (ATC) of the full sample.
        """
        return self._balance().table

    def _balance(self) -> Balance:
        extra = [c for c in self.exact if c not in self.covariates]
        X, names = _expand(self._source, [*self.covariates, *extra], drop_first=False)
        X = np.column_stack([self.distance.to_numpy(dtype=float), X])
        names = ["distance", *names]
        z = _treatment(self._source, self.treatment)
        w = self.weights.to_numpy(dtype=float)
        table = _balance_table(X, names, z, w, self.estimand)
        return Balance(table=table, sample_sizes=_sample_sizes(z, w), estimand=self.estimand)

    def love_alt_text(self) -> str:
        """A text alternative for :meth:`plot_love`."""
        return _love_alt_text(self.balance(), "matching")

    def plot_love(self, ax: Any = None) -> Any:
        """Love plot of |SMD| before and after matching with the 0.1 threshold; returns the axes.

        Colour-blind-safe (Okabe–Ito vermillion open circles before, blue triangles after). The
        text alternative is stored in ``ax.evalkit_alt_text`` for
        :func:`evalkit.report.figures.figure`.
        """
        return _plot_love(self.balance(), ax, "matching")

    def to_frame(self) -> pd.DataFrame:
        """The balance table (see :meth:`balance`)."""
        return self.balance()

    def _repr_html_(self) -> str:
        return self.counts.to_html() + self.balance().to_html()


def _distance_argument(df: pd.DataFrame, distance: Any) -> np.ndarray:
    if isinstance(distance, str):
        require_columns(df, [distance])
        return check_numeric(df, distance)
    values = (
        distance.to_numpy(dtype=float)
        if isinstance(distance, pd.Series)
        else np.asarray(distance, dtype=float)
    )
    if isinstance(distance, pd.Series) and not distance.index.equals(df.index):
        raise InputError("distance", "a Series of distances must have the same index as df")
    if values.shape != (len(df),):
        raise InputError("distance", f"must have one value per row ({len(df)}), not {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError("distance", "must be finite and not missing", row_ids(df, bad))
    return values


def _check_ratio(ratio: Any) -> int:
    if isinstance(ratio, bool) or not isinstance(ratio, int | np.integer) or ratio < 1:
        raise InputError("ratio", f"must be a whole number of at least 1, got {ratio!r}")
    return int(ratio)


def match(
    df: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    ratio: int = 1,
    caliper: float | None = None,
    exact: str | Sequence[str] | None = None,
    replace: bool = False,
    order: str | None = None,
    estimand: str = "ATT",
    distance: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    link: str = "logit",
    std_caliper: bool = True,
    rng: int | np.random.Generator | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour matching on the propensity score (or another distance).

    Parameters
    ----------
    df
        One row per person; the index must be unique (rows are reported by label).
    treatment
        Column coded 1 (treated) / 0 (control), or booleans.
    covariates
        Columns for the propensity model (unless ``distance`` is given) and the balance table.
    ratio
        Number of controls per treated unit (1:k matching), a whole number ≥ 1.
    caliper
        Maximum allowed |distance difference| of a pair, in standard deviations of the
        distance (``std_caliper=True``, as MatchIt) — i.e. of the propensity score itself with
        ``link="logit"``, of its logit with ``link="linear.logit"``. Austin (2011) recommends 0.2
        SD of the logit: ``link="linear.logit", caliper=0.2``. The SD is the sample SD
        (n−1) of the distance over all rows. ``None``: no caliper.
    exact
        Column(s) on which pairs must agree exactly (e.g. court, sex); matching is done within
        each cell of their combinations.
    replace
        Match with replacement: every treated unit independently gets its ``ratio`` nearest
        controls, which may be shared (processing order is then irrelevant).
    order
        Order in which treated units choose (without replacement): ``"largest"`` distance first,
        ``"smallest"`` first, ``"random"`` (uses ``rng``) or ``"data"`` (row order). ``None``
        means ``"largest"`` for the ATT and ``"smallest"`` for the ATC, MatchIt's defaults.
        Ties in the distance are taken in row order.
    estimand
        ``"ATT"`` (find controls for the treated) or ``"ATC"`` (find treated units for the
        controls; "treated" and "control" swap roles in the description above).
    distance
        ``None`` (estimate a logistic propensity score from ``covariates``), a column name, or
        one value per row (e.g. ``ps.scores`` or scores from another model).
    link
        ``"logit"`` (match on the probability, MatchIt's default) or ``"linear.logit"`` (match
        on the log-odds). Ignored when ``distance`` is given.
    std_caliper
        ``True``: ``caliper`` is in SDs of the distance; ``False``: in its own units.
    rng
        Seed or ``numpy.random.Generator`` for ``order="random"``.

    Returns
    -------
    MatchResult

    Raises
    ------
    InputError
        Treatment not 0/1; missing or non-finite covariates, distances or exact columns (rows
        named); ratio < 1 or not whole; caliper ≤ 0; unknown order, estimand or link (valid
        values listed); duplicated index labels; a data column already called ``weight`` or
        ``subclass``.
    DesignError
        No treated or no control rows; nobody could be matched.

    Warns
    -----
    StatisticalWarning
        When some treated units get fewer than ``ratio`` matches (no control in their exact cell,
        none within the caliper, or the controls within reach were used up). They are never
        dropped silently: they are counted in ``counts`` and listed in ``unmatched``.

    Notes
    -----
    **Algorithm.** Greedy matching (Rosenbaum & Rubin 1985; Austin 2011): the treated units are
    processed one at a time in ``order``; each takes the still-available control whose distance
    is closest to its own, provided the difference is within the caliper, the control is in the
    same exact cell, and (without replacement) the control has not been used. Ties between
    equally close controls go to the earliest row. With ``ratio = k`` this is done in k rounds,
    each treated unit taking one more control per round, exactly as MatchIt's classic C++
    routine (``nn_matchC``). It is greedy, not optimal: earlier units take the controls they
    like best, so results depend on ``order`` and a later unit can receive a worse match than an
    optimal (minimum total distance) matching would give it.

    **Speed.** The controls are sorted once by (cell, distance); each treated unit finds the
    nearest available control above and below its score through "next available" pointer arrays
    with path halving (a union–find structure), so each step is amortised O(log n) and there is
    no n₁ × n₀ distance matrix: 100,000 treated against 900,000 controls match in about two seconds
    (``benchmarks/bench_matching.py``). The loop over treated units is sequential because the
    greedy result is: each choice depends on every earlier one. With replacement there is no
    dependence and the search is fully vectorised.

    **Agreement with MatchIt.** Tested to give the same matched pairs, weights and balance table
    as MatchIt 4.5.1 run with the treated × control matrix of |PS differences| as ``distance``
    (the classic algorithm; ``tests/reference/matching_reference.R``). MatchIt 4.5.1's *default*
    path for a propensity-score distance (``nn_matchC_vec``) is a different, faster heuristic
    whose tie-breaking depends on sort order (MatchIt issue #180); on the installation used for
    the references it also always chose the nearest control *below* the treated unit's score
    and ignored calipers on the probability scale (fixed in later MatchIt releases, issue #163),
    so its pairs differ from the nearest-neighbour pairs returned here.

    **Weights.** With ``ratio = k`` or with replacement the matched sample is analysed with the
    matching weights (``weight``), not as if every row counted once. Standard errors should
    account for the matched sets: cluster on ``subclass`` (Austin 2011; Abadie & Spiess 2022),
    see :func:`matched_rate_difference`.

    **When not to use.** Matching cannot remove bias from unmeasured confounders; with poor
    overlap (treated units whose scores no control approaches) a caliper discards treated units
    and the estimand is then no longer the ATT of everyone treated — report how many were lost.

    References
    ----------
    Rosenbaum PR, Rubin DB (1985). *The American Statistician* 39(1):33–38.
    doi:10.1080/00031305.1985.10479383

    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.
    doi:10.1080/00273171.2011.568786

    Stuart EA (2010). *Statistical Science* 25(1):1–21. doi:10.1214/09-STS313

    Ho DE, Imai K, King G, Stuart EA (2011). MatchIt. *Journal of Statistical Software* 42(8).
    doi:10.18637/jss.v042.i08

    Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American
    Statistical Association* 117(538):983–995. doi:10.1080/01621459.2020.1840383

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> m = ek.match(rossi, treatment="fin", covariates=["age", "prio", "wexp"])
    >>> m.counts.loc["matched"].tolist()
    [216.0, 216.0]
    """
    df = check_frame(df)
    _check_index(df)
    covs = _columns_list(covariates, "covariates")
    exact_cols = _columns_list(exact, "exact")
    if distance is None and not covs:
        raise InputError("covariates", "must name at least one column (or give distance=)")
    require_columns(df, [treatment, *covs, *exact_cols])
    if treatment in covs or treatment in exact_cols:
        raise InputError("covariates", f"must not include the treatment column '{treatment}'")
    for name in ("weight", "subclass"):
        if name in df.columns:
            raise InputError(
                name,
                "is already a column of the data; match() adds 'weight' and 'subclass' to the "
                "matched data, so rename it first",
            )
    ratio = _check_ratio(ratio)
    if caliper is not None:
        if isinstance(caliper, bool) or not np.isfinite(caliper) or caliper <= 0:
            raise InputError("caliper", f"must be a positive number (or None), got {caliper!r}")
    check_choice(estimand, "estimand", MATCH_ESTIMANDS)
    if order is None:
        order = "largest" if estimand == "ATT" else "smallest"
    check_choice(order, "order", ORDERS)
    check_choice(link, "link", LINKS)
    if not isinstance(replace, bool | np.bool_):
        raise InputError("replace", f"must be True or False, got {replace!r}")

    z = _treatment(df, treatment)
    _require_both_groups(z, treatment)
    ps: PropensityScore | None = None
    if distance is None:
        ps = propensity_score(df, treatment=treatment, covariates=covs, link=link)
        d = ps.distance.to_numpy(dtype=float)
    else:
        d = _distance_argument(df, distance)
    # validate covariates for the balance table now rather than later
    _expand(df, covs, drop_first=False)
    cells = _cells(df, exact_cols) if exact_cols else np.zeros(len(df), dtype=np.int64)

    cal_abs: float | None = None
    if caliper is not None:
        if std_caliper:
            sd = float(np.std(d, ddof=1))
            if not sd > 0:
                raise InputError(
                    "caliper",
                    "is in SD units of the distance, but the distance has no variation",
                )
            cal_abs = float(caliper) * sd
        else:
            cal_abs = float(caliper)

    focal_flag = 1 if estimand == "ATT" else 0
    rows = np.arange(len(df), dtype=np.int64)
    focal_all = rows[z == focal_flag]
    pool_rows = rows[z != focal_flag]
    if order == "largest":
        focal = focal_all[np.lexsort((focal_all, -d[focal_all]))]
    elif order == "smallest":
        focal = focal_all[np.lexsort((focal_all, d[focal_all]))]
    elif order == "random":
        focal = _rng(rng).permutation(focal_all)
    else:
        focal = focal_all
    pool = _prepare_pool(d, cells, focal, pool_rows)
    cal = math.inf if cal_abs is None else cal_abs
    if replace:
        matches = _k_nearest(d, focal, pool, ratio, cal)
    else:
        matches = _greedy(d, focal, pool, ratio, cal, len(df))

    return _assemble(
        df,
        z=z,
        d=d,
        cells=cells,
        focal=focal,
        pool=pool,
        matches=matches,
        ratio=ratio,
        caliper=cal,
        replace=bool(replace),
        estimand=estimand,
        settings={
            "order": order,
            "exact": tuple(exact_cols),
            "treatment": treatment,
            "covariates": tuple(covs),
            "propensity": ps,
            "caliper": cal_abs,
        },
    )


def _assemble(
    df: pd.DataFrame,
    *,
    z: np.ndarray,
    d: np.ndarray,
    cells: np.ndarray,
    focal: np.ndarray,
    pool: _Pool,
    matches: np.ndarray,
    ratio: int,
    caliper: float,
    replace: bool,
    estimand: str,
    settings: dict[str, Any],
) -> MatchResult:
    n = len(df)
    focal_name, pool_name = ("treated", "control") if estimand == "ATT" else ("control", "treated")
    n_matches = (matches >= 0).sum(axis=1)
    matched_focal = n_matches > 0
    if not matched_focal.any():
        raise DesignError(
            f"no {focal_name} unit could be matched (check the caliper and exact-matching cells)"
        )

    # weights (MatchIt's weights_matrixC plus rescaling of the pool weights)
    f_idx, col = np.nonzero(matches >= 0)
    pool_matched = matches[f_idx, col]
    w = np.zeros(n)
    w[focal[matched_focal]] = 1.0
    raw = np.bincount(pool_matched, weights=1.0 / n_matches[f_idx], minlength=n)
    n_pool_matched = int(np.count_nonzero(raw))
    w += raw * (n_pool_matched / raw.sum())

    # matched sets numbered in row order of their focal unit
    set_id = np.zeros(len(focal), dtype=np.int64)
    mf = np.flatnonzero(matched_focal)
    set_id[mf[np.argsort(focal[mf], kind="stable")]] = np.arange(1, len(mf) + 1)
    sub = pd.array(np.full(n, pd.NA), dtype="Int64")
    if not replace:
        sub_values = np.zeros(n, dtype=np.int64)
        sub_values[focal[mf]] = set_id[mf]
        sub_values[pool_matched] = set_id[f_idx]
        sub = pd.array(np.where(sub_values > 0, sub_values, 0), dtype="Int64")
        sub[sub_values == 0] = pd.NA

    labels = df.index
    focal_rows = focal[f_idx]
    treated_rows, control_rows = (
        (focal_rows, pool_matched) if estimand == "ATT" else (pool_matched, focal_rows)
    )
    order_pairs = np.lexsort((col, set_id[f_idx]))
    pairs = pd.DataFrame(
        {
            "treated": labels[treated_rows[order_pairs]],
            "control": labels[control_rows[order_pairs]],
            "subclass": set_id[f_idx][order_pairs],
            "match_number": col[order_pairs] + 1,
            "difference": np.abs(d[pool_matched] - d[focal_rows])[order_pairs],
        }
    )

    # counts: every row is either matched or unmatched
    matched_mask = w > 0
    counts = pd.DataFrame(
        {
            name: [
                float(np.sum(z == g)),
                float(np.sum(matched_mask & (z == g))),
                _ess(w[z == g]),
                float(np.sum(~matched_mask & (z == g))),
            ]
            for g, name in ((0, "control"), (1, "treated"))
        },
        index=pd.Index(["all", "matched", "matched_ess", "unmatched"], name="sample"),
    )

    # units short of `ratio` matches, with the reason
    short = np.flatnonzero(n_matches < ratio)
    reasons = np.empty(len(short), dtype=object)
    if len(short):
        pool_per_cell = np.bincount(cells[pool.asc], minlength=int(cells.max()) + 1)
        sub_pool = _Pool(
            asc=pool.asc,
            desc=pool.desc,
            right_start=pool.right_start[short],
            right_end=pool.right_end[short],
            left_start=pool.left_start[short],
            left_end=pool.left_end[short],
        )
        reach = (_k_nearest(d, focal[short], sub_pool, ratio, caliper) >= 0).sum(axis=1)
        for i, (u, got, r) in enumerate(zip(short, n_matches[short], reach, strict=True)):
            if pool_per_cell[cells[focal[u]]] == 0:
                reasons[i] = f"no {pool_name} unit in its exact-matching cell"
            elif r == 0:
                reasons[i] = f"no {pool_name} unit within the caliper"
            elif got == r:
                reasons[i] = (
                    f"only {r} {pool_name} unit{'s' if r != 1 else ''} within reach "
                    "(exact cell and caliper)"
                )
            else:
                reasons[i] = (
                    f"{pool_name} units within reach were used by earlier matches "
                    "(matching without replacement)"
                )
    short_sorted = np.argsort(focal[short], kind="stable")
    unmatched = pd.DataFrame(
        {
            "n_matched": n_matches[short][short_sorted].astype(np.int64),
            "reason": reasons[short_sorted],
        },
        index=labels[focal[short][short_sorted]],
    )
    if len(short):
        n_none = int(np.sum(n_matches == 0))
        msg = (
            f"{len(short)} of {len(focal)} {focal_name} units have fewer than {ratio} "
            f"match{'es' if ratio > 1 else ''} ({n_none} have none); they are counted in "
            "`counts` and listed with the reason in `unmatched`"
        )
        warnings.warn(msg, StatisticalWarning, stacklevel=3)

    weights = pd.Series(w, index=labels, name="weight")
    subclass = pd.Series(sub, index=labels, name="subclass")
    data = df.loc[matched_mask].copy()
    data["weight"] = w[matched_mask]
    data["subclass"] = subclass[matched_mask].array
    return MatchResult(
        data=data,
        weights=weights,
        subclass=subclass,
        pairs=pairs,
        counts=counts,
        unmatched=unmatched,
        distance=pd.Series(d, index=labels, name="distance"),
        propensity=settings["propensity"],
        caliper=settings["caliper"],
        ratio=ratio,
        replace=replace,
        order=settings["order"],
        estimand=estimand,
        exact=settings["exact"],
        treatment=settings["treatment"],
        covariates=settings["covariates"],
        _source=df,
    )


# --------------------------------------------------------------------------------------------
# inverse-probability weighting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WeightResult:
    """Result of :func:`weight`.

    Attributes
    ----------
    weights
        One weight per input row (Series named ``"weight"``, same index).
    propensity
        The fitted :class:`PropensityScore`.
    estimand
        ``"ATT"``, ``"ATC"`` or ``"ATE"``.
    stabilize
        Whether weights were multiplied by the marginal share of the person's own group.
    trim, max_weight
        The truncation asked for (quantile, absolute cap), or ``None``.
    trim_threshold
        The value weights were capped at (``None`` without truncation).
    n_trimmed
        How many weights were lowered to ``trim_threshold``.
    sample_sizes
        Index ``n``, ``sum_weights``, ``ess`` (Kish); columns ``control``, ``treated``.
    treatment, covariates
        Column names used.
    """

    weights: pd.Series
    propensity: PropensityScore
    estimand: str
    stabilize: bool
    trim: float | None
    max_weight: float | None
    trim_threshold: float | None
    n_trimmed: int
    sample_sizes: pd.DataFrame
    treatment: str
    covariates: tuple[str, ...]
    _source: pd.DataFrame = field(repr=False)

    def balance(self) -> pd.DataFrame:
        """Balance before and after weighting (see :func:`balance`), ``distance`` row first."""
        return self._balance().table

    def _balance(self) -> Balance:
        X, names = _expand(self._source, list(self.covariates), drop_first=False)
        X = np.column_stack([self.propensity.scores.to_numpy(), X])
        names = ["distance", *names]
        z = _treatment(self._source, self.treatment)
        w = self.weights.to_numpy()
        table = _balance_table(X, names, z, w, self.estimand)
        return Balance(table=table, sample_sizes=_sample_sizes(z, w), estimand=self.estimand)

    def love_alt_text(self) -> str:
        """A text alternative for :meth:`plot_love`."""
        return _love_alt_text(self.balance(), "weighting")

    def plot_love(self, ax: Any = None) -> Any:
        """Love plot of |SMD| before and after weighting (alt text in ``ax.evalkit_alt_text``)."""
        return _plot_love(self.balance(), ax, "weighting")

    def to_frame(self) -> pd.DataFrame:
        """The sample sizes (n, sum of weights, effective sample size) by group."""
        return self.sample_sizes.copy()

    def _repr_html_(self) -> str:
        return self.sample_sizes.to_html()


def weight(
    df: pd.DataFrame,
    *,
    treatment: str,
    covariates: Sequence[str],
    estimand: str = "ATT",
    stabilize: bool = False,
    trim: float | None = None,
    max_weight: float | None = None,
    link: str = "logit",
) -> WeightResult:
    """Inverse-probability-of-treatment weights from a logistic propensity score.

    Parameters
    ----------
    df, treatment, covariates, link
        As :func:`propensity_score` (``link`` only changes the reported distance).
    estimand
        ``"ATT"``: treated 1, controls p/(1−p) (the controls are reweighted to resemble the
        treated); ``"ATC"``: treated (1−p)/p, controls 1; ``"ATE"``: treated 1/p, controls
        1/(1−p).
    stabilize
        Multiply each weight by the share of the sample in the person's own group (Robins,
        Hernán & Brumback 2000; as WeightIt's ``stabilize = TRUE``). Weighted means and their
        differences are unchanged; the weights sum to about n rather than 2n, which keeps naive
        weighted-regression variances honest.
    trim
        Truncate (winsorise) weights above this quantile, 0.5 < trim < 1 (e.g. 0.99), to the
        quantile's value; the quantile is computed over the non-focal group's weights for the ATT
        (controls) and ATC (treated) — the focal group's weights are all equal and never trimmed
        — and over all weights for the ATE, with R's default quantile definition (type 7).
        No one is removed: this is truncation, not exclusion (Cole & Hernán 2008; Lee, Lessler &
        Stuart 2011).
    max_weight
        Cap weights at this absolute value (a threshold, e.g. 10), same groups as ``trim``.
        With both, the lower of the two caps is used.

    Returns
    -------
    WeightResult
        ``n_trimmed`` reports how many weights were capped.

    Raises
    ------
    InputError
        As :func:`propensity_score`; ``trim`` outside (0.5, 1); ``max_weight`` ≤ 0.
    DesignError
        A propensity score of exactly 0 or 1 where the weight needs its inverse.

    Notes
    -----
    Weights are w = 1/P(group received | covariates) for the ATE (Rosenbaum 1987) and the odds
    p/(1−p) for controls under the ATT (Hirano, Imbens & Ridder 2003). Extreme weights mean poor
    overlap; inspect ``sample_sizes`` (effective sample size) and :meth:`WeightResult.balance`
    before estimating effects. Truncation trades bias for variance and changes the estimand
    slightly; report ``n_trimmed``. Order of operations: weights, then stabilisation, then
    truncation.

    References
    ----------
    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.

    Robins JM, Hernán MA, Brumback B (2000). Marginal structural models and causal inference in
    epidemiology. *Epidemiology* 11(5):550–560.

    Hirano K, Imbens GW, Ridder G (2003). Efficient estimation of average treatment effects
    using the estimated propensity score. *Econometrica* 71(4):1161–1189.

    Cole SR, Hernán MA (2008). Constructing inverse probability weights for marginal structural
    models. *American Journal of Epidemiology* 168(6):656–664.

    Lee BK, Lessler J, Stuart EA (2011). Weight trimming and propensity score weighting.
    *PLoS ONE* 6(3):e18174.

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> w = ek.weight(rossi, treatment="fin", covariates=["age", "prio"], estimand="ATE")
    >>> w.sample_sizes.loc["n"].tolist()
    [216.0, 216.0]
    """
    check_choice(estimand, "estimand", WEIGHT_ESTIMANDS)
    if not isinstance(stabilize, bool | np.bool_):
        raise InputError("stabilize", f"must be True or False, got {stabilize!r}")
    if trim is not None and (isinstance(trim, bool) or not (0.5 < float(trim) < 1.0)):
        raise InputError("trim", f"must be a quantile between 0.5 and 1 (e.g. 0.99), got {trim!r}")
    if max_weight is not None and (
        isinstance(max_weight, bool) or not np.isfinite(max_weight) or max_weight <= 0
    ):
        raise InputError("max_weight", f"must be a positive number, got {max_weight!r}")
    ps = propensity_score(df, treatment=treatment, covariates=covariates, link=link)
    z = _treatment(df, treatment)
    p = ps.scores.to_numpy()
    if estimand == "ATT":
        bad = (z == 0) & (p >= 1.0)
    elif estimand == "ATC":
        bad = (z == 1) & (p <= 0.0)
    else:
        bad = ((z == 1) & (p <= 0.0)) | ((z == 0) & (p >= 1.0))
    if bad.any():
        ids = [repr(r) for r in row_ids(df, bad)[:5]]
        raise DesignError(
            f"propensity score of exactly 0 or 1 makes the {estimand} weight infinite for "
            f"{int(bad.sum())} rows (e.g. {', '.join(ids)}); the groups do not overlap"
        )
    with np.errstate(divide="ignore"):
        if estimand == "ATT":
            w = np.where(z == 1, 1.0, p / (1.0 - p))
        elif estimand == "ATC":
            w = np.where(z == 1, (1.0 - p) / p, 1.0)
        else:
            w = np.where(z == 1, 1.0 / p, 1.0 / (1.0 - p))
    if stabilize:
        share1 = float(np.mean(z == 1))
        w = w * np.where(z == 1, share1, 1.0 - share1)
    threshold: float | None = None
    n_trimmed = 0
    if trim is not None or max_weight is not None:
        eligible = {"ATT": z == 0, "ATC": z == 1, "ATE": np.ones(len(z), dtype=bool)}[estimand]
        caps = []
        if trim is not None:
            caps.append(float(np.quantile(w[eligible], float(trim))))
        if max_weight is not None:
            caps.append(float(max_weight))
        threshold = min(caps)
        over = eligible & (w > threshold)
        n_trimmed = int(over.sum())
        w = np.where(over, threshold, w)
    return WeightResult(
        weights=pd.Series(w, index=df.index, name="weight"),
        propensity=ps,
        estimand=estimand,
        stabilize=bool(stabilize),
        trim=None if trim is None else float(trim),
        max_weight=None if max_weight is None else float(max_weight),
        trim_threshold=threshold,
        n_trimmed=n_trimmed,
        sample_sizes=_sample_sizes(z, w),
        treatment=treatment,
        covariates=ps.covariates,
        _source=df,
    )


# --------------------------------------------------------------------------------------------
# outcome comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchedEffect:
    """A rate difference (treated minus control) in a matched or weighted sample.

    Attributes
    ----------
    estimate
        Weighted proportion with the outcome among treated minus among controls.
    se
        Cluster-robust (matched sets) or heteroskedasticity-robust (weights) standard error.
    lower, upper
        Wald confidence limits, estimate ∓ z·se.
    p_value
        Two-sided Wald p-value (normal reference).
    conf_level
        Confidence level.
    method
        How the SE was computed.
    n_treated, n_control
        Rows used in each group (weight > 0).
    n_clusters
        Number of clusters (matched sets) for the SE; rows for the weighted case.
    """

    estimate: float
    se: float
    lower: float
    upper: float
    p_value: float
    conf_level: float
    method: str
    n_treated: int
    n_control: int
    n_clusters: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of all fields."""
        return pd.DataFrame([self.__dict__])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


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
    """Rate difference (treated − control) of a 0/1 outcome after matching or weighting.

    Parameters
    ----------
    result
        A :class:`MatchResult` from :func:`match` or a :class:`WeightResult` from
        :func:`weight`; the outcome is read from the data they were computed on.
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
    the outcome on the treatment indicator (the "linear probability model"), using the matching
    or IPW weights. Standard errors:

    * matching without replacement: cluster-robust on the matched set (``subclass``), as
      recommended by Austin (2011) and justified by Abadie & Spiess (2022); this is
      ``lm(y ~ treated, weights = weights)`` with ``sandwich::vcovCL(cluster = ~subclass)``
      (HC1 type: small-sample factor G/(G−1)·(n−1)/(n−k));
    * matching with replacement: one row per (treated, control) pair as MatchIt's
      ``get_matches()``, each control row weighted 1/(number of matches of its treated unit),
      two-way clustered on matched set and person (``vcovCL(cluster = ~subclass + id)``; Cameron,
      Gelbach & Miller 2011), as MatchIt's "Estimating effects" vignette;
    * weighting: heteroskedasticity-robust HC1 (``sandwich::vcovHC(type = "HC1")``). This
      treats the weights as known; it ignores the estimation of the propensity score, which is
      usually conservative for the ATE but not guaranteed to be for the ATT (Austin 2016).

    The interval uses the normal distribution. For survival outcomes use the weighted
    Kaplan–Meier and Cox functions (see the module documentation).

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
    >>> m = ek.match(rossi, treatment="fin", covariates=["age", "prio", "wexp"])
    >>> eff = ek.matched_rate_difference(m, outcome="arrest")
    >>> eff.method
    'WLS, cluster-robust SE by matched set (HC1)'
    """
    import statsmodels.api as sm

    check_level(conf_level)
    df = result._source
    if isinstance(result, MatchResult):
        w_all = result.weights.to_numpy()
        use = w_all > 0
        y_all = _binary_outcome(df, outcome, use)
        z_all = _treatment(df, result.treatment)
        if not result.replace:
            rows = np.flatnonzero(use)
            y, z, w = y_all[rows], z_all[rows], w_all[rows]
            groups: np.ndarray = result.subclass.to_numpy(dtype=np.int64, na_value=-1)[rows]
            method = "WLS, cluster-robust SE by matched set (HC1)"
            n_clusters = len(np.unique(groups))
        else:
            pos = pd.Index(df.index)
            pr = result.pairs
            focal_col, pool_col = (
                ("treated", "control") if result.estimand == "ATT" else ("control", "treated")
            )
            focal_rows = pos.get_indexer(pr[focal_col])
            pool_rows = pos.get_indexer(pr[pool_col])
            sets = pr["subclass"].to_numpy()
            k = np.bincount(sets)[sets]
            first = np.r_[True, sets[1:] != sets[:-1]]
            rows = np.concatenate([focal_rows[first], pool_rows])
            w = np.concatenate([np.ones(int(first.sum())), 1.0 / k])
            set_of_row = np.concatenate([sets[first], sets])
            y, z = y_all[rows], z_all[rows]
            groups = np.column_stack([set_of_row, rows])
            method = "WLS on matched pairs, two-way cluster-robust SE by matched set and person"
            n_clusters = len(np.unique(set_of_row))
    elif isinstance(result, WeightResult):
        w = result.weights.to_numpy()
        use = w > 0
        y_all = _binary_outcome(df, outcome, use)
        z_all = _treatment(df, result.treatment)
        rows = np.flatnonzero(use)
        y, z, w = y_all[rows], z_all[rows], w[rows]
        groups = rows
        method = "WLS, heteroskedasticity-robust SE (HC1)"
        n_clusters = len(rows)
    else:
        raise InputError(
            "result", f"must be a MatchResult or WeightResult, not {type(result).__name__}"
        )
    X = np.column_stack([np.ones(len(y)), z.astype(float)])
    model = sm.WLS(y, X, weights=w)
    if isinstance(result, WeightResult):
        fit = model.fit(cov_type="HC1")
    else:
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    est = float(fit.params[1])
    se = float(fit.bse[1])
    crit = float(stats.norm.ppf(0.5 + conf_level / 2))
    return MatchedEffect(
        estimate=est,
        se=se,
        lower=est - crit * se,
        upper=est + crit * se,
        p_value=float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan"),
        conf_level=float(conf_level),
        method=method,
        n_treated=int(np.sum(use & (z_all == 1))),
        n_control=int(np.sum(use & (z_all == 0))),
        n_clusters=n_clusters,
    )
