"""The result of :func:`evalkit.survival.cox`: coefficients, variances, tests, diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalkit.results import Result, TestResult
from evalkit.survival.cox.concordance import Concordance, concordance

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival.cox.riskset import Parts, SortedData

__all__ = ["CoxResult"]


@dataclass(frozen=True, eq=False, repr=False)
class CoxResult(Result):
    """A fitted Cox proportional-hazards model.

    Attributes
    ----------
    table
        DataFrame indexed by ``term`` (coefficient name) with columns ``estimate`` (log hazard
        ratio), ``se`` (robust when the fit is robust), ``lower``/``upper`` (confidence limits
        of the log hazard ratio at ``conf_level``), ``statistic`` (Wald z) and ``p``, and
        ``hr``, ``hr_lower``, ``hr_upper``: the hazard ratio exp(estimate) and its limits.
    coef
        Coefficients, the log hazard ratios (Series indexed by term; R's ``coef(fit)``).
    vcov
        Variance matrix used in ``table`` and the Wald test (robust if robust).
    naive_vcov
        Inverse of the information matrix (model-based variance).
    robust_vcov
        Sandwich variance D'D from dfbeta residuals summed within clusters; ``None`` when not
        robust.
    loglik, loglik0
        Log partial likelihood at the estimate and at zero.
    lr_test, wald_test, score_test
        Likelihood-ratio, Wald (uses ``vcov``, so robust when the fit is robust, as R's
        ``fit$wald.test``) and score (at zero; the log-rank test for one binary covariate)
        tests that all coefficients are zero.
    naive_wald_test
        Wald test with the model-based variance (equals ``wald_test`` when not robust).
    robust_score_test
        R's robust score test (``fit$rscore``) when robust, else ``None``.
    concordance
        Harrell's C and its standard error (:class:`Concordance`), computed on first access.
    n, n_events
        Rows used (periods at risk for ``(start, time]`` data) and number of events
        (unweighted).
    iterations
        Newton–Raphson iterations (R's ``fit$iter``).
    ties, robust, conf_level
        The options used.
    terms
        Covariate (term) → coefficient names (several for a categorical covariate).
    levels
        Categorical covariate → its levels, the reference level first.
    """

    _title = "Cox proportional-hazards model"

    table: pd.DataFrame = field(repr=False)
    coef: pd.Series = field(repr=False)
    vcov: pd.DataFrame = field(repr=False)
    naive_vcov: pd.DataFrame = field(repr=False)
    robust_vcov: pd.DataFrame | None = field(repr=False)
    loglik: float
    loglik0: float
    lr_test: TestResult = field(repr=False)
    wald_test: TestResult = field(repr=False)
    score_test: TestResult = field(repr=False)
    naive_wald_test: TestResult = field(repr=False)
    robust_score_test: TestResult | None = field(repr=False)
    n: int
    n_events: int
    iterations: int
    ties: str
    robust: bool
    conf_level: float
    terms: dict[str, list[str]] = field(repr=False)
    levels: dict[str, list[Any]] = field(repr=False)
    _design: SortedData = field(repr=False, compare=False)
    _parts: Parts = field(repr=False, compare=False)
    _cluster: np.ndarray | None = field(repr=False, compare=False)

    @cached_property
    def concordance(self) -> Concordance:
        """Harrell's C and its standard error, as ``fit$concordance`` in R.

        Computed on first access (O(n log n); about a second for a million rows) and cached.
        """
        return concordance(self._design, self._parts.eta, self._cluster)

    def ph_test(self, transform: str = "km") -> pd.DataFrame:
        """Test of proportional hazards, identical to R's ``cox.zph(fit, transform)`` (3.x).

        For each term, the score test of adding interactions x·g(t) to the model at the fitted
        coefficients (Grambsch & Therneau 1994), with g(t) centred over the event times; and a
        GLOBAL test of all of them together.

        Parameters
        ----------
        transform
            g(t): ``"km"`` (1 − left-continuous Kaplan–Meier of all rows, unweighted, ignoring
            strata, with delayed entry for ``(start, time]`` rows; R's default), ``"identity"``,
            ``"rank"`` (average ranks of all rows' end times) or ``"log"``.

        Returns
        -------
        DataFrame
            Index ``term`` (the covariates, then ``"GLOBAL"``); columns ``statistic``
            (chi-squared), ``df`` and ``p``.

        Notes
        -----
        This is the exact score test of survival ≥ 3.0 (C routines ``zph1``, and ``zph2`` for
        ``(start, time]`` data), not the older
        approximation from scaled Schoenfeld residuals (survival < 3.0, lifelines). A small p
        says the hazard ratio of that covariate changes over follow-up; look at the residual
        plot before acting on it with large samples, where trivial departures are significant.

        References
        ----------
        Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics
        based on weighted residuals. Biometrika 81(3), 515–526. doi:10.1093/biomet/81.3.515
        Therneau, T. M. (2024). survival: A Package for Survival Analysis in R, R/cox.zph.R and
        src/zph1.c.

        Examples
        --------
        >>> import evalkit as ek
        >>> fit = ek.cox(ek.datasets.load_rossi(), time="week", event="arrest",
        ...              covariates=["fin", "age", "prio"])
        >>> fit.ph_test().round(3).reset_index()
             term  statistic  df      p
        0     fin      0.064   1  0.801
        1     age      6.325   1  0.012
        2    prio      0.519   1  0.471
        3  GLOBAL      7.137   3  0.068
        """
        from evalkit.survival.cox.zph import ph_test

        return ph_test(self, transform)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table with ``term`` as a column."""
        return self.table.reset_index()

    def _repr_html_(self) -> str:
        c = self.concordance
        head = (
            f"<p>Cox model ({self.ties} ties{', robust SE' if self.robust else ''}): "
            f"n = {self.n}, events = {self.n_events}; concordance {c.estimate:.3f} "
            f"(se {c.se:.3f}); LR test {self.lr_test.statistic:.2f} on {self.lr_test.df:g} df, "
            f"p = {self.lr_test.p:.3g}</p>"
        )
        return head + self.table.to_html()
