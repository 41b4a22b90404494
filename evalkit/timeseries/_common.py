"""Pieces shared by the before/after designs: the time index, the post indicator, GLM fits.

statsmodels is imported inside :func:`fit_glm`, never when evalkit is imported.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import COVARIATE_RANGE, check_rank
from evalkit.errors import ConvergenceError, DesignError, InputError
from evalkit.schema import check_magnitude, check_no_missing, check_numeric, row_ids

__all__ = [
    "GLM_MAXITER",
    "check_arm_clusters",
    "check_full_rank",
    "check_post",
    "check_switch_once",
    "fit_glm",
    "refuse",
    "time_index",
]

GLM_MAXITER = 100
# IRLS stops when successive coefficient vectors agree to 1e-10 (absolute + relative). IRLS
# converges quadratically, so the returned estimate is then accurate to rounding; a criterion
# on the deviance instead can stall on its rounding noise (large deviances, or NB with θ → ∞).
_GLM_FIT: dict[str, Any] = {
    "tol": 1e-10,
    "rtol": 1e-10,
    "tol_criterion": "params",
    "maxiter": GLM_MAXITER,
}


def fit_glm(
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    *,
    what: str,
    nb_alpha: float | None = None,
    scale: Any = None,
    start: np.ndarray | None = None,
) -> Any:
    """A log-link GLM fitted by statsmodels' IRLS: Poisson, or NB2 with known ``nb_alpha``.

    ``scale="X2"`` gives the quasi-Poisson (Pearson χ²/(n − p)) dispersion. An exact fit is
    not an error here — callers check the design's rank and the outcome totals first — so
    statsmodels' "perfect separation" warning and the divisions by zero residual degrees of
    freedom of a saturated fit are silenced; a fit that does not converge, or gives non-finite
    coefficients, is a :class:`~evalkit.errors.ConvergenceError` naming ``what``.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    family = (
        sm.families.Poisson() if nb_alpha is None else sm.families.NegativeBinomial(alpha=nb_alpha)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.filterwarnings(
            "ignore",
            r"(divide by zero|invalid value) encountered in scalar divide",
            RuntimeWarning,
        )
        res = sm.GLM(y, X, family=family, offset=offset).fit(
            start_params=start, scale=scale, **_GLM_FIT
        )
    if not bool(getattr(res, "converged", True)):
        raise ConvergenceError(f"the {what} fit did not converge in {GLM_MAXITER} iterations")
    if not np.all(np.isfinite(res.params)):
        raise ConvergenceError(f"the {what} fit gave non-finite coefficients")
    return res


def check_full_rank(
    X: np.ndarray, names: Sequence[str], what: str, columns: Mapping[str, str] | None = None
) -> None:
    """:func:`evalkit._design.check_rank` for a model whose terms are not all data columns.

    A dependent term that comes from a data column (``columns``: term → column, e.g.
    ``area[south]`` → ``area``) is an :class:`~evalkit.errors.InputError` naming that column;
    a design term (``post``, ``trend``, ``sin1``, ``time[3]``…) is a
    :class:`~evalkit.errors.DesignError`. ``X`` may have fewer rows than columns (a table of
    distinct design rows): zero rows are added, which leave the rank as it is.
    """
    short = X.shape[1] - X.shape[0]
    if short > 0:
        X = np.vstack([X, np.zeros((short, X.shape[1]))])
    try:
        check_rank(X, names, what)
    except InputError as err:
        column = (columns or {}).get(str(err.column))
        if column is not None:
            term = "" if column == err.column else f"(term '{err.column}') "
            raise InputError(column, term + err.rule, table="data") from None
        raise DesignError(f"the {what} term '{err.column}' {err.rule}") from None


def refuse(df: pd.DataFrame, column: str, bad: np.ndarray, rule: str) -> None:
    """An :class:`~evalkit.errors.InputError` naming ``column``, ``rule`` and the rows where
    ``bad`` is true, if there are any."""
    if bad.any():
        raise InputError(column, rule, row_ids(df, bad), table="data")


def check_post(df: pd.DataFrame, column: str) -> np.ndarray:
    """The post-interruption indicator: 0/1 (or booleans), no missing values, as int64."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s):
        check_no_missing(df, column)
        return s.to_numpy(dtype=np.int64)
    values = check_numeric(df, column)
    bad = (values != 0) & (values != 1)
    refuse(df, column, bad, "must be 0 (before the interruption) or 1 (from the interruption on)")
    return values.astype(np.int64)


def time_index(df: pd.DataFrame, column: str) -> tuple[np.ndarray, bool, pd.Series]:
    """Numeric time, or a month index ``12·year + month`` for dates and monthly periods.

    Returns the index (float64), whether it is a month index, and the values to plot against.
    """
    s = df[column]
    if isinstance(s.dtype, pd.PeriodDtype):
        if not s.dtype.freq.freqstr.startswith("M"):
            raise InputError(
                column,
                f"periods must be monthly (freq 'M'), got {s.dtype.freq.freqstr!r}; "
                "use an integer time index for other frequencies",
                table="data",
            )
        check_no_missing(df, column)
        idx = (s.dt.year * 12 + s.dt.month).to_numpy(dtype=float)
        return idx, True, s.dt.to_timestamp()
    if pd.api.types.is_datetime64_any_dtype(s):
        check_no_missing(df, column)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        idx = (s.dt.year * 12 + s.dt.month).to_numpy(dtype=float)
        return idx, True, s
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise InputError(
            column,
            f"must be numeric (e.g. 1, 2, 3, …), datetimes or monthly periods, but has dtype "
            f"{s.dtype}; convert text dates with pandas.to_datetime first",
            table="data",
        )
    values = check_numeric(df, column)
    # a linear trend in time multiplies the values: they must not vanish in float64
    check_magnitude(df, column, values, smallest=COVARIATE_RANGE[0])
    return values, False, s


def check_switch_once(
    df: pd.DataFrame, post_col: str, post: np.ndarray, t: np.ndarray, shown: pd.Series
) -> None:
    """``post`` must be 0 before the first time with post = 1 and 1 from that time on."""
    if not (post == 1).any() or not (post == 0).any():
        n1 = int((post == 1).sum())
        raise DesignError(
            f"column '{post_col}' must have rows before (0) and after (1) the interruption; "
            f"it has {len(post) - n1} rows with 0 and {n1} with 1"
        )
    first = shown.to_numpy()[post == 1][np.argmin(t[post == 1])]
    refuse(
        df,
        post_col,
        (post == 0) & (t >= t[post == 1].min()),
        "must switch once from 0 to 1 in time order (0 before the interruption, 1 from it "
        f"on), but these rows have 0 at or after the first 1 (at time {first})",
    )


def check_arm_clusters(
    clusters: np.ndarray, g: np.ndarray, cluster: str, labels: tuple[Any, Any]
) -> None:
    """Refuse an arm that is one cluster of its own: its cluster-robust SE would be 0.

    With clusters nested in the arms, the residuals of an arm's only cluster sum to zero
    (the arm's own coefficients absorb them), so the sandwich has no information about the
    arm's variability and reports a standard error of 0 — and p = 0.
    """
    arms_of = np.zeros((int(clusters.max()) + 1, 2), dtype=bool)
    arms_of[clusters, g] = True
    for arm in (1, 0):
        own = np.flatnonzero(arms_of[:, arm])
        if len(own) == 1 and not arms_of[own[0], 1 - arm]:
            raise DesignError(
                f"the {'programme' if arm else 'comparison'} arm ({labels[arm]!r}) is a single "
                f"cluster of '{cluster}': cluster-robust standard errors need several clusters "
                "in each arm (with one, its standard error comes out as 0 and p as 0); cluster "
                "at a lower level (e.g. the person or the area) or drop cluster="
            )
