"""The propensity score: a logistic regression of the programme arm on the covariates.

The model is fitted by plain-numpy IRLS, as R's ``glm.fit`` (``evalkit/matching/_logistic.py``).

References
----------
Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in observational studies
for causal effects. *Biometrika* 70(1):41–55. doi:10.1093/biomet/70.1.41

Austin PC (2011). An introduction to propensity score methods for reducing the effects of
confounding in observational studies. *Multivariate Behavioral Research* 46(3):399–424.
doi:10.1080/00273171.2011.568786
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import INTERCEPT, Design, design_matrix
from evalkit._inference import p_two_sided, safe_ratio
from evalkit._options import check_choice
from evalkit.errors import ConvergenceError, StatisticalWarning
from evalkit.matching._inputs import Arms, arms
from evalkit.matching._logistic import MAXITER, check_full_rank, cross_product, fit_logistic
from evalkit.results import Result, own

__all__ = ["LINKS", "PropensityScore", "propensity_score"]

LINKS = ("logit", "linear.logit")


@dataclass(frozen=True, eq=False, repr=False)
class PropensityScore(Result):
    """A fitted logistic propensity-score model.

    Attributes
    ----------
    scores
        Fitted probability of being in the programme arm for every row (pandas Series aligned
        to the input index, named ``"propensity_score"``).
    linear_predictor
        The fitted log-odds (logit of ``scores``), named ``"linear_predictor"``.
    coefficients
        Coefficient table: index ``term`` (``"(Intercept)"``, numeric covariates, indicators named
        ``column[level]``); columns ``estimate``, ``se``, ``statistic`` (Wald z) and ``p``, as
        ``summary(glm)``.
    link
        ``"logit"`` (the distance used for matching is the score itself, MatchIt's default) or
        ``"linear.logit"`` (the distance is the linear predictor).
    deviance, null_deviance, n_iter
        Residual and null deviance, and IRLS iterations.
    n_treated, n_control
        Rows in the programme and the comparison arm.
    group, treated, control
        The group column, the label of its programme arm and that of the comparison arm.
    covariates
        The covariate columns.
    levels
        Categorical covariate → its levels, reference first.
    """

    _title = "Propensity score (logistic regression)"

    scores: pd.Series
    linear_predictor: pd.Series
    coefficients: pd.DataFrame
    link: str
    deviance: float
    null_deviance: float
    n_iter: int
    n_treated: int
    n_control: int
    group: str
    treated: Any
    control: Any
    covariates: tuple[str, ...]
    levels: dict[str, list]

    @property
    def distance(self) -> pd.Series:
        """The matching distance: ``scores`` for link "logit", the log-odds for "linear.logit"."""
        return self.linear_predictor if self.link == "linear.logit" else self.scores

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table with ``term`` as a column."""
        return self.coefficients.reset_index()


def propensity_score(
    df: pd.DataFrame,
    *,
    group: str,
    treated: Any = "programme",
    covariates: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    link: str = "logit",
) -> PropensityScore:
    """Estimate propensity scores by logistic regression.

    Parameters
    ----------
    df
        One row per person.
    group
        Column holding the two arms (e.g. ``Cohort.data["group"]``).
    treated
        The label in ``group`` of the programme arm (default ``"programme"``; ``1`` for a 0/1
        column). The other label is the comparison arm.
    covariates
        Columns entering the model linearly. Numeric and boolean columns are used as they are;
        text or categorical columns become indicator terms ``column[level]`` with the first
        level (the first category of a ``Categorical``, else the first in sorted order) as
        reference, as R's ``factor``.
    reference
        ``{column: level}``: another reference level for a categorical covariate.
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
        ``group`` without exactly two labels or without ``treated``; missing or non-finite
        covariate values (rows are named), collinear or constant covariates.
    DesignError
        Only one arm present.
    ConvergenceError
        The iteratively reweighted least-squares fit did not converge.

    Warns
    -----
    StatisticalWarning
        Perfect separation, or fitted probabilities numerically 0 or 1: weights built from such
        scores are extreme and matching on them is unreliable.

    Notes
    -----
    The model is ``glm(treated ~ covariates, family = binomial)`` in R, fitted the way
    ``glm.fit`` fits it — iteratively reweighted least squares (Fisher scoring) from R's
    starting values, stopped by R's rule ``abs(D - D_old) / (abs(D) + 0.1) < 1e-14`` on the
    deviance D — in plain numpy (Cholesky solves of XᵀWX accumulated over row blocks; see
    ``evalkit/matching/_logistic.py``). Coefficients agree with R's ``glm`` and statsmodels'
    ``GLM`` to about 1e-12 relative; standard errors come from (XᵀWX)⁻¹ with the weights of the
    last iteration, as ``summary.glm``. ``ConvergenceError`` after 100 iterations. The
    propensity score balances the covariates *in the model* only: it says nothing
    about unmeasured confounders (Rosenbaum & Rubin 1983). Check balance after matching or
    weighting (:func:`~evalkit.balance`) rather than the model's fit statistics.

    References
    ----------
    Rosenbaum PR, Rubin DB (1983). *Biometrika* 70(1):41–55. doi:10.1093/biomet/70.1.41

    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.
    doi:10.1080/00273171.2011.568786

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> ps = ek.propensity_score(rossi, group="fin", treated=1, covariates=["age", "prio"])
    >>> round(float(ps.scores.mean()), 3)
    0.5
    >>> list(ps.to_frame().columns)
    ['term', 'estimate', 'se', 'statistic', 'p']
    """
    link = check_choice(link, "link", LINKS)
    a = arms(df, group, treated, covariates)
    return fit_propensity(a, reference=reference, link=link, stacklevel=3)


def propensity_design(
    a: Arms, reference: Mapping[str, Any] | None, balance: Design | None = None
) -> Design:
    """The propensity model's design: ``(Intercept)`` and the covariates, categorical ones as
    treatment-contrast indicators.

    ``balance`` is the caller's balance design of the same rows (``(Intercept)``, then every
    level of a categorical column, then possibly further columns). If every covariate is
    numeric and no reference level is asked for, the model's design is its leading columns —
    a view with the numbers :func:`~evalkit._design.design_matrix` would give, without
    checking and converting the data a second time.
    """
    covs = list(a.covariates)
    if (
        balance is not None
        and not reference
        and balance.names[: len(covs) + 1] == [INTERCEPT, *covs]
        and all(balance.terms.get(c) == [c] for c in covs)
    ):
        X = balance.X[:, : len(covs) + 1]
        return Design(X, [INTERCEPT, *covs], {c: [c] for c in covs}, {})
    return design_matrix(a.df, covs, reference=reference, intercept=True)


def fit_propensity(
    a: Arms,
    *,
    reference: Mapping[str, Any] | None,
    link: str,
    stacklevel: int,
    balance: Design | None = None,
) -> PropensityScore:
    """The logistic fit behind :func:`propensity_score`, on already checked arms.

    ``balance``: the caller's balance design of the same rows, reused when it holds the
    model's columns (see :func:`propensity_design`).
    """
    design = propensity_design(a, reference, balance)
    X, names = design.X, design.names
    xtx = cross_product(X)
    check_full_rank(X, names, "propensity model", xtx)
    fit = fit_logistic(X, a.z.astype(float), xtx=xtx)
    if not fit.converged:
        raise ConvergenceError(
            f"the propensity-score model did not converge in {MAXITER} iterations; check for "
            "covariates that (nearly) perfectly predict the programme arm"
        )
    params, eta, mu = fit.params, fit.eta, fit.mu
    eps = 10 * np.finfo(float).eps
    if fit.separated or np.any((mu < eps) | (mu > 1 - eps)):
        warnings.warn(
            "propensity model: fitted probabilities numerically 0 or 1 occurred (perfect or "
            "quasi-perfect separation); weights from these scores are extreme and the matched "
            "or weighted comparison relies on extrapolation",
            StatisticalWarning,
            stacklevel=stacklevel,
        )
    se = np.sqrt(np.diag(fit.vcov))
    statistic = safe_ratio(params, se)
    coefficients = pd.DataFrame(
        {"estimate": params, "se": se, "statistic": statistic, "p": p_two_sided(statistic)},
        index=pd.Index(names, name="term"),
    )
    n_treated = int(a.z.sum())
    return PropensityScore(
        scores=pd.Series(mu, index=a.df.index, name="propensity_score"),
        linear_predictor=pd.Series(eta, index=a.df.index, name="linear_predictor"),
        coefficients=coefficients,
        link=link,
        deviance=fit.deviance,
        null_deviance=fit.null_deviance,
        n_iter=fit.n_iter,
        n_treated=n_treated,
        n_control=len(a.z) - n_treated,
        group=a.group,
        treated=a.treated,
        control=a.control,
        covariates=tuple(a.covariates),
        levels=own(design.levels),
    )
