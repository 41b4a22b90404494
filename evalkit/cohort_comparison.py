"""Before/after programme cohorts: observed against case-mix-expected proven reoffending.

The Ministry of Justice adjusts local proven reoffending rates for case mix by fitting a model of
reoffending on a baseline cohort and using it to predict the rate a later cohort *would* have had
with the baseline's risk, given its own characteristics. :func:`compare_cohorts` does the same:
a logistic regression fitted on the cohort before the programme gives each person in the cohort
after it a predicted probability; their mean is the expected rate, set beside the observed rate
with the difference and the ratio, and intervals that include the model's uncertainty.

References
----------
Ministry of Justice (2013, updated 2024). Proven reoffending statistics: guide (local adjusted
rates compare actual with predicted reoffending from a model fitted on a baseline year).
Flanders, W. D. & Rhodes, P. H. (1987). Large sample confidence intervals for regression
standardized risks, risk ratios, and risk differences. J. Chronic Dis. 40(7), 697–704 (delta
method for model-based standardised risks).
Newcombe, R. G. (1998). Interval estimation for the difference between independent
proportions. Stat. Med. 17, 873–890 (the unadjusted difference).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import check_rank, design_matrix
from evalkit._inference import critical, p_two_sided, wald
from evalkit._options import check_columns, check_conf_level
from evalkit.errors import ConvergenceError, DesignError, InputError, shown
from evalkit.results import Result, own
from evalkit.schema import check_event, check_frame, check_no_missing, require_columns

__all__ = ["CohortComparison", "compare_cohorts"]


@dataclass(frozen=True, eq=False, repr=False)
class CohortComparison(Result):
    """Observed and case-mix-expected reoffending of the later cohort, and the unadjusted change.

    Attributes
    ----------
    table
        One row per measure (``measure``, ``estimate``, ``se``, ``lower``, ``upper``, ``p``):
        observed rate, expected rate, adjusted difference (observed − expected), adjusted
        ratio (observed / expected; its ``se`` is of the log ratio), unadjusted difference
        (after − before, Newcombe's interval) and, with a comparison, the difference in
        differences.
    coefficients
        The baseline model: ``estimate``, ``se``, ``statistic``, ``p`` by term (log odds).
    vcov
        Variance matrix of the baseline model's coefficients.
    n_before, n_after, events_before, events_after
        Cohort sizes and people reoffending.
    before, after
        The labels of the two cohorts in ``period``.
    conf_level
        Level of the intervals.
    """

    _title = "Before/after cohorts, case-mix adjusted"

    table: pd.DataFrame
    coefficients: pd.DataFrame
    vcov: pd.DataFrame
    n_before: int
    n_after: int
    events_before: int
    events_after: int
    before: Any
    after: Any
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The measures table."""
        return self.table.copy()

    def row(self, measure: str) -> pd.Series:
        """One measure's row (``"adjusted difference"``, ``"expected"``…)."""
        row = self.table.set_index("measure").loc[measure]
        assert isinstance(row, pd.Series)
        return row.copy()


def _fit_logistic(y: np.ndarray, X: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression (IRLS, as R's ``glm(family = binomial)``)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    # Separation shows as fitted probabilities of 0 or 1 (refused below with a DesignError that
    # says what to do), so statsmodels' own PerfectSeparationWarning and the overflow warnings
    # of the diverging iterations would only repeat it in words a reader cannot act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        model = sm.GLM(y, X, family=sm.families.Binomial())
        res = model.fit(tol=1e-12, maxiter=100)
        fitted = np.asarray(res.fittedvalues, dtype=float)  # computed on first access
    edge = np.minimum(fitted, 1.0 - fitted)
    separated = not np.all(np.isfinite(edge)) or bool(np.any(edge < 1e-8))
    if not separated and (not res.converged or not np.all(np.isfinite(res.params))):
        raise ConvergenceError("the baseline reoffending model did not converge")
    if separated:
        raise DesignError(
            "the baseline reoffending model separates reoffenders from non-reoffenders "
            "(fitted probabilities of 0 or 1): remove or group the covariate that does it"
        )
    return np.asarray(res.params, dtype=float), np.asarray(res.cov_params(), dtype=float)


def compare_cohorts(
    df: pd.DataFrame,
    *,
    outcome: str = "reoffended",
    period: str = "cohort_period",
    before: Any = "before",
    after: Any = "after",
    covariates: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    comparison: tuple[int, int, int, int] | None = None,
    conf_level: float = 0.95,
    id_col: str | None = None,
) -> CohortComparison:
    """Compare a cohort after a programme started with the cohort before it, adjusting for case mix.

    Parameters
    ----------
    df
        One row per person of both cohorts (e.g. ``Cohort.data`` with a period column).
    outcome
        0/1 column: proven reoffence within the follow-up.
    period
        Column holding the cohort of each row; ``before`` and ``after`` are its two labels.
    covariates
        Case-mix characteristics for the baseline model (age, sex, prior offences…);
        categorical ones coded ``col[level]`` (reference: first category, or ``reference``).
    comparison
        Counts ``(x_before, n_before, x_after, n_after)`` of a comparison population over the
        same two periods (the national or a matched cohort): adds the difference in
        differences of the unadjusted rates.
    conf_level
        Level of every interval.

    Returns
    -------
    CohortComparison

    Notes
    -----
    With β̂ the baseline cohort's logistic coefficients (variance V) and x_i the later cohort's
    covariates, the expected rate is E = (1/n) Σ expit(x_i'β̂) and the observed rate O = ȳ.
    Var(E) = g'Vg with g = (1/n) Σ p_i(1 − p_i) x_i (delta method; Flanders & Rhodes 1987),
    conditional on the later cohort's characteristics; Var(O) = O(1 − O)/n; the two are
    independent (different people), so Var(O − E) = Var(O) + Var(E), and the ratio's interval
    is formed on the log scale, Var(log O/E) = Var(O)/O² + Var(E)/E². The unadjusted
    difference after − before uses Newcombe's hybrid score interval. With a comparison
    population, the difference in differences (after − before) − (comparison after − before)
    has the sum of the four binomial variances. The adjusted difference estimates the change
    *for the later cohort's people*: it assumes the baseline model would still hold without the
    programme, so anything else that changed between the periods (policing, courts, a
    national trend) is attributed to it — the comparison population is there to show that.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n = 4000
    >>> prior = rng.poisson(5, n)
    >>> period = np.where(np.arange(n) < n // 2, "before", "after")
    >>> p = 1 / (1 + np.exp(-(-1.5 + 0.2 * prior - 0.6 * (period == "after"))))
    >>> df = pd.DataFrame({"period": period, "prior": prior, "y": rng.binomial(1, p)})
    >>> res = compare_cohorts(df, outcome="y", period="period", covariates=["prior"])
    >>> list(res.to_frame()["measure"])  # doctest: +NORMALIZE_WHITESPACE
    ['observed', 'expected', 'adjusted difference', 'adjusted ratio',
     'unadjusted difference']
    >>> bool(res.row("adjusted difference")["upper"] < 0)
    True
    """
    df = check_frame(df)
    conf_level = check_conf_level(conf_level)
    covs = check_columns(covariates, "covariates")
    require_columns(df, [outcome, period, *covs])
    check_no_missing(df, period, id_col=id_col)
    labels = pd.unique(df[period].to_numpy())
    for name, label in (("before", before), ("after", after)):
        if not (df[period] == label).any():
            raise InputError(
                period,
                f"has no rows labelled {name}={label!r}"
                + shown("labels", sorted(map(str, labels))),
            )
    on_before = (df[period] == before).to_numpy()
    on_after = (df[period] == after).to_numpy()
    other = ~(on_before | on_after)
    if other.any():
        raise InputError(
            period,
            f"must hold only the two cohorts {before!r} and {after!r}; filter the other rows first",
            shown("labels", sorted({str(v) for v in df.loc[other, period]})[:5]),
        )
    y = check_event(df, outcome, id_col=id_col).astype(float)
    design = design_matrix(df, covs, reference=reference, intercept=True, id_col=id_col)
    X0, y0 = design.X[on_before], y[on_before]
    X1, y1 = design.X[on_after], y[on_after]
    check_rank(X0, design.names, "baseline reoffending model")
    if y0.min() == y0.max():
        raise DesignError(
            f"{'everyone' if y0[0] else 'no one'} in the {before!r} cohort has {outcome}="
            f"{int(y0[0])}, so a model of reoffending cannot be fitted on it: the expected rate "
            "for the later cohort is not estimable (compare the observed rates only)"
        )
    beta, V = _fit_logistic(y0, X0, design.names)

    level = conf_level
    z = critical(level)
    eta = X1 @ beta
    p1 = 1.0 / (1.0 + np.exp(-eta))
    n1, n0 = len(y1), len(y0)
    expected = float(p1.mean())
    observed = float(y1.mean())
    grad = (p1 * (1 - p1)) @ X1 / n1
    var_e = float(grad @ V @ grad)
    var_o = observed * (1 - observed) / n1
    diff = observed - expected
    se_diff = math.sqrt(var_o + var_e)
    lo_d, hi_d, _, p_d = wald(diff, se_diff, level)
    rows = [
        _wald_row("observed", observed, math.sqrt(var_o), z),
        _wald_row("expected", expected, math.sqrt(var_e), z),
        ("adjusted difference", diff, se_diff, float(lo_d), float(hi_d), float(p_d)),
    ]
    if observed > 0:
        log_ratio = math.log(observed / expected)
        se_log = math.sqrt(var_o / observed**2 + var_e / expected**2)
        rows.append(
            (
                "adjusted ratio",
                observed / expected,
                se_log,
                math.exp(log_ratio - z * se_log),
                math.exp(log_ratio + z * se_log),
                float(p_two_sided(log_ratio / se_log)),
            )
        )
    from evalkit.proportions import rate_difference

    x1, x0 = int(y1.sum()), int(y0.sum())
    rd = rate_difference(x1, n1, x0, n0, conf_level=level)
    se_rd = math.sqrt(x1 / n1 * (1 - x1 / n1) / n1 + x0 / n0 * (1 - x0 / n0) / n0)
    rows.append(
        (
            "unadjusted difference",
            float(rd.estimate),
            se_rd,
            float(rd.lower),
            float(rd.upper),
            float(rd.p),
        )
    )
    if comparison is not None:
        rows.append(_did_row(x0, n0, x1, n1, comparison, level))
    table = pd.DataFrame(rows, columns=["measure", "estimate", "se", "lower", "upper", "p"])
    se_b = np.sqrt(np.diag(V))
    _, _, stat, p = wald(beta, se_b, level)
    coefficients = pd.DataFrame(
        {"estimate": beta, "se": se_b, "statistic": stat, "p": p},
        index=pd.Index(design.names, name="term"),
    )
    return CohortComparison(
        table=table,
        coefficients=coefficients,
        vcov=own(pd.DataFrame(V, index=design.names, columns=design.names)),
        n_before=n0,
        n_after=n1,
        events_before=x0,
        events_after=x1,
        before=before,
        after=after,
        conf_level=level,
    )


def _wald_row(
    name: str, est: float, se: float, z: float
) -> tuple[str, float, float, float, float, float]:
    """A rate with its Wald interval and no p-value (no null value to test against)."""
    return (name, est, se, est - z * se, est + z * se, math.nan)


def _did_row(
    x0: int, n0: int, x1: int, n1: int, comparison: tuple[int, int, int, int], level: float
) -> tuple[str, float, float, float, float, float]:
    try:
        c0, m0, c1, m1 = (int(v) for v in comparison)
    except (TypeError, ValueError):
        raise InputError(
            "comparison",
            "must be four counts (x_before, n_before, x_after, n_after)",
            argument=True,
        ) from None
    if min(m0, m1) < 1 or not (0 <= c0 <= m0 and 0 <= c1 <= m1):
        raise InputError("comparison", "counts must satisfy 0 ≤ x ≤ n and n ≥ 1", argument=True)
    rates = [(x1, n1), (x0, n0), (c1, m1), (c0, m0)]
    est = (x1 / n1 - x0 / n0) - (c1 / m1 - c0 / m0)
    se = math.sqrt(sum(x / n * (1 - x / n) / n for x, n in rates))
    lo, hi, _, p = wald(est, se, level)
    return ("difference in differences", est, se, float(lo), float(hi), float(p))
