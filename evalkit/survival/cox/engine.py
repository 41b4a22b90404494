"""Cox proportional-hazards regression, vectorised for large cohorts: the fitting engine.

Newton–Raphson and :func:`cox` itself. The partial likelihood, its gradient and information
are computed on rows sorted once by (stratum, time) (:mod:`evalkit.survival.cox.riskset`).
When times are heavily tied, as whole days are, each iteration forms one BLAS product per
block of a tied time and sums the Efron terms in closed form
(:mod:`evalkit.survival.cox.grouped`): the rows are read once per iteration and nothing of
size events × covariates is formed; otherwise the sums are vectorised over the rows. Either
way there is no Python loop over rows and each iteration costs O(n·p²). Counting-process
``(start, stop]`` rows (delayed entry, time-varying covariates) subtract the rows not yet
entered (:mod:`evalkit.survival.cox.counting`). The robust variance lives in
:mod:`evalkit.survival.cox.robust`, Harrell's concordance in
:mod:`evalkit.survival.cox.concordance`, the ``cox.zph`` test in :mod:`evalkit.survival.cox.zph`,
R's LDLᵀ algebra in :mod:`evalkit.survival.cox.linalg` and the result in
:mod:`evalkit.survival.cox.result`.

The numbers reproduce R's ``survival::coxph`` (survival 3.x): same starting value (0), same
Newton–Raphson with step halving, same convergence rule (relative change in log partial
likelihood ≤ 1e-9, at most 20 iterations), same Efron and Breslow handling of ties and case
weights, the same score residuals (``coxscore2``; ``agscore3`` for ``(start, stop]`` data), the
same concordance counting (``concordance3``/``concordance4``) and the same ``cox.zph`` test
(``zph1``/``zph2``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import design_matrix, warn_sparse_levels
from evalkit._inference import wald
from evalkit._options import (
    check_choice,
    check_columns,
    check_conf_level,
    check_flag,
    option_error,
)
from evalkit.errors import ConvergenceError, InputError, StatisticalWarning
from evalkit.results import TestResult
from evalkit.schema import (
    check_frame,
    check_has_events,
    check_no_missing,
    require_columns,
    validate_survival,
)
from evalkit.survival.cox.counting import validate_counting
from evalkit.survival.cox.grouped import finish, grouped_parts, layout, use_grouped
from evalkit.survival.cox.linalg import inverse, ldl, ldl_solve, quad_test, solve
from evalkit.survival.cox.result import CoxResult
from evalkit.survival.cox.riskset import (
    Parts,
    SortedData,
    risk_set_parts,
    sort_rows,
)
from evalkit.survival.cox.robust import lin_wei

__all__ = ["TIES", "cox"]

#: Approximations for tied event times, as R's ``ties``.
TIES = ("efron", "breslow")

# Control values of R's coxph.control(): eps, iter.max, toler.inf (toler.chol: linalg.py).
_EPS = 1e-9
_MAX_ITER = 20
_TOLER_INF = float(np.sqrt(_EPS))


# --------------------------------------------------------------------------------------------
# Newton–Raphson
# --------------------------------------------------------------------------------------------
@dataclass
class _Fit:
    parts: Parts
    parts0: Parts
    loglik0: float
    score_stat: float
    iterations: int
    var: np.ndarray


def _newton(des: SortedData, names: list[str], max_iter: int, eps: float) -> _Fit:
    """Newton–Raphson with step halving, exactly as survival's coxfit6 (init = 0).

    Each step evaluates the partial likelihood with one BLAS product per tied time
    (:mod:`~evalkit.survival.cox.grouped`) when times are heavily tied, otherwise vectorised
    over the rows (:func:`~evalkit.survival.cox.riskset.risk_set_parts`); both give the same
    numbers up to rounding.
    """
    p = des.p
    lay = layout(des) if use_grouped(des) else None

    def _parts(des: SortedData, beta: np.ndarray) -> Parts:
        return risk_set_parts(des, beta) if lay is None else grouped_parts(des, beta, lay)

    beta = np.zeros(p)
    parts0 = _parts(des, beta)
    loglik0 = parts0.loglik
    fac, singular = ldl(parts0.imat)
    if singular.any():
        bad = [names[i] for i in np.flatnonzero(singular)]
        raise InputError(
            bad[0],
            "is a linear combination of the other covariates, or does not vary within the risk "
            "sets of the events (e.g. it is constant within every stratum), so its coefficient "
            f"cannot be estimated (aliased: {', '.join(bad)})",
        )
    step = ldl_solve(fac, singular, parts0.U)
    score_stat = float(parts0.U @ step)
    best = parts0
    best_ll = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, max_iter + 1):
        # a step too far (a diverging coefficient) can overflow exp(η): a non-finite candidate
        # is halved back below, so numpy's overflow warnings carry no information
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            cand = _parts(des, newbeta)
        finite = (
            np.isfinite(cand.loglik) and np.isfinite(cand.U).all() and np.isfinite(cand.imat).all()
        )
        change = abs(cand.loglik - best_ll)
        if finite and (change <= eps * abs(cand.loglik) or change == 0.0):  # R: |1 - old/new|
            var = inverse(cand.imat)
            if lay is not None:
                cand, parts0 = finish(des, cand), finish(des, parts0)
            return _Fit(cand, parts0, loglik0, score_stat, it, var)
        if not finite or cand.loglik < best_ll:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best_ll = cand.loglik
            best = cand
            beta = newbeta
            newbeta = newbeta + solve(cand.imat, cand.U)
    coefs = ", ".join(f"{n}={b:.4g}" for n, b in zip(names, best.beta * des.scale, strict=True))
    raise ConvergenceError(
        f"Cox partial likelihood did not converge in {max_iter} Newton–Raphson iterations "
        f"(last log-likelihood {best_ll:.6f}; coefficients {coefs}). A covariate that separates "
        "events from non-events (monotone likelihood) is the usual cause."
    )


def _standard_errors(
    var: np.ndarray, scale: np.ndarray, beta: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors from the variance, and which coefficients have no Wald test.

    A variance of 0 arises when the information for a coefficient vanishes at the fit (e.g. a
    0/1 covariate whose one exposed person has the first event: the coefficient runs off and
    :func:`~evalkit.survival.cox.linalg.ldl` marks it singular, so the generalised inverse gives
    it 0, where R's ``coxph`` reports NA); a robust variance D'D, positive semi-definite in
    exact arithmetic, can have a diagonal that is negative by rounding when there are more
    coefficients than clusters. Both are clipped at 0 and treated as no variance: a standard
    error below 1e-7 in the units of the scaled covariate (mean absolute deviation 1) gets
    ``se = 0``, no statistic or p-value (NaN) and a :class:`~evalkit.errors.StatisticalWarning`,
    rather than p = 0.
    """
    se = np.sqrt(np.clip(np.diag(var), 0.0, None))
    no_test = se / scale <= 1e-7 * np.maximum(1.0, np.abs(beta / scale))
    se = np.where(no_test, 0.0, se)
    if no_test.any():
        bad = ", ".join(repr(names[i]) for i in np.flatnonzero(no_test))
        warnings.warn(
            f"the variance of the coefficient of {bad} is 0 at the fit (its information "
            "vanishes, or the robust variance is not positive definite, e.g. with more "
            "coefficients than clusters): the coefficient may be infinite (monotone likelihood, "
            "e.g. a covariate level with one person or no events) and has no standard error "
            "or test (se 0, statistic and p NaN)",
            StatisticalWarning,
            stacklevel=3,
        )
    return se, no_test


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------
def _codes(df: pd.DataFrame, columns: list[str], table: str, *, sort: bool = True) -> np.ndarray:
    """Integer codes 0..k-1 of the combinations of ``columns`` (strata, clusters).

    No missing values. Strata are numbered in sorted order; clusters (``sort=False``) in order
    of appearance, which sums within them the same and spares sorting a million identifiers.
    """
    for c in columns:
        check_no_missing(df, c, table=table)
    if len(columns) == 1:
        col = df[columns[0]]
        if not sort and pd.api.types.is_string_dtype(col) and hasattr(col.array, "__arrow_array__"):
            import pyarrow.compute as pc  # Arrow-backed text: Arrow's hash table, 1.6x faster

            encoded = pc.dictionary_encode(col.array.__arrow_array__())
            chunks = getattr(encoded, "chunks", [encoded])
            return np.concatenate(
                [np.zeros(0, np.int64)] + [c.indices.to_numpy().astype(np.int64) for c in chunks]
            )
        return pd.factorize(col, sort=sort)[0].astype(np.int64)
    return df.groupby(columns, sort=True, observed=True).ngroup().to_numpy().astype(np.int64)


def _chi2(statistic: float, df: int, name: str) -> TestResult:
    from scipy import stats  # imported when first needed: keeps `import evalkit` fast

    return TestResult(statistic, df, float(stats.chi2.sf(statistic, df)), name)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
def cox(
    df: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    start: str | None = None,
    strata: str | Sequence[str] | None = None,
    reference: Mapping[str, Any] | None = None,
    ties: str = "efron",
    robust: bool = False,
    cluster: str | None = None,
    weights: str | None = None,
    conf_level: float = 0.95,
) -> CoxResult:
    """Fit a Cox proportional-hazards model by maximum partial likelihood.

    Equivalent to R's ``coxph(Surv(time, event) ~ covariates + strata(strata),
    ties=ties, robust=robust, cluster=cluster, weights=weights)`` (survival 3.x), or with
    ``start`` to ``coxph(Surv(start, time, event) ~ ...)``, and agrees with it to about 1e-12
    relative on the reference models in ``tests/reference`` (coefficients, naive and robust
    variances, log-likelihoods, LR/Wald/score/robust score tests, iteration count, concordance
    and its standard error, and ``cox.zph``).

    Parameters
    ----------
    df
        One row per person, or with ``start`` one row per period at risk (several rows per
        person or per group are allowed; give ``cluster`` for robust standard errors).
    time, event
        Follow-up time (non-negative; with ``start``, the end of the row's interval, any finite
        value) and event indicator (0/1 or bool) at that time.
    covariates
        Covariate columns. Numeric and boolean columns enter as they are. Text and
        categorical columns are expanded to treatment indicators named ``"col[level]"`` (R's
        treatment contrasts); levels with no rows are skipped. Interactions, splines and other
        transformations are left to the user: add them as columns.
    start
        Column of entry times for counting-process data (Andersen & Gill 1982): each row is at
        risk on the interval ``(start, time]``, so the risk set at an event time t holds the
        rows with ``start < t ≤ time``. This gives delayed entry (left truncation) and
        time-varying covariates (split a person's follow-up into rows at the times a covariate
        changes; give ``cluster=`` the person id for robust standard errors). Any finite
        values with ``start < time`` on every row; rows never at risk at an event time are
        allowed and do not contribute.
        Column(s) defining strata: each stratum has its own baseline hazard and its own risk
        sets; coefficients are shared.
    reference
        ``{column: level}``: the reference level of a categorical covariate. By default it is
        the first category of a pandas ``Categorical`` (R's factor order), otherwise the first
        level in sorted order.
    ties
        ``"efron"`` (default, as R) or ``"breslow"`` approximation for tied event times.
    robust
        Use the Lin–Wei sandwich variance (dfbeta residuals); implied by ``cluster``.
    cluster
        Column identifying clusters (e.g. person id with several rows, or area): the robust
        variance sums dfbeta residuals within clusters.
    weights
        Column of positive case weights; each row's contribution to the partial likelihood
        is multiplied by its weight. Non-integer (e.g. inverse-probability) weights call for
        ``robust=True`` — R switches it on by default in that case; evalkit warns instead.
    conf_level
        Confidence level of the intervals.

    Returns
    -------
    CoxResult
        ``table`` (one row per term: ``estimate`` = log hazard ratio, ``se``, ``lower``/``upper``
        its limits, Wald ``statistic`` and ``p``, and ``hr``/``hr_lower``/``hr_upper``, the
        hazard ratio and its limits), variance matrices, tests, concordance and a ``ph_test``
        method.

    Raises
    ------
    InputError
        Missing columns, missing/non-finite values (naming the rows), negative times (without
        ``start``), ``start ≥ time`` (naming the rows), an event column that is not 0/1, no
        events, a constant or aliased covariate, an unknown ``ties``, a ``reference`` level
        that is not in the data.
    ConvergenceError
        Newton–Raphson did not converge in 20 iterations.

    Warns
    -----
    StatisticalWarning
        The log-likelihood converged while a coefficient was still drifting (monotone
        likelihood: the coefficient is probably infinite, as R's warning "Loglik converged
        before variable …"); non-integer weights without ``robust=True``; or a coefficient
        whose variance is 0 at the fit (its information vanished, or a robust variance that is
        negative by rounding, e.g. more coefficients than clusters): it gets ``se`` 0 and no
        test (``statistic`` and ``p`` NaN) instead of p = 0.
    SmallCountWarning
        A level of a categorical or 0/1 covariate with fewer than
        :data:`~evalkit.schema.MIN_GROUP_PEOPLE` people or
        :data:`~evalkit.schema.MIN_GROUP_EVENTS` events
        (:func:`~evalkit._design.warn_sparse_levels`).

    Notes
    -----
    The estimate maximises Cox's (1972) partial likelihood with Efron's (1977) or Breslow's
    (1974) handling of tied times, by Newton–Raphson from zero with step halving and the
    convergence rule of R's ``coxph`` (``|1 − ℓ_old/ℓ_new| ≤ 1e-9``, at most 20 iterations).
    Covariates are centred and, unless they take only the values −1, 0 and 1, divided by their
    mean absolute deviation while fitting, as survival's ``coxfit6`` does (``doscale``); the
    coefficients and variances are transformed back, so a covariate's units change nothing
    but its coefficient. Rows are sorted once by (stratum, time)
    and tied times aggregated, so each iteration costs O(n·p²) with no loop over rows; with
    whole-day times each tied day's sums are BLAS products over its rows (Dongarra et al.
    1990), so a million rows with 11 covariates fit in well under a second of CPU and ten
    million in seconds. The result is the same, to rounding, as summing row by row.

    The robust variance is Lin & Wei's (1989) sandwich D'D, where D are the dfbeta residuals
    (score residuals times the inverse information, times the case weight), summed within
    ``cluster``. Score residuals follow the Efron approximation for tied events exactly as
    survival's ``coxscore2``. With ``robust`` the Wald test uses the robust variance and
    ``robust_score_test`` gives R's robust score test.

    Concordance is Harrell's C (Harrell et al. 1996) computed as R's ``concordance`` on the
    linear predictor (time weight "n"; pairs tied on the predictor count 1/2; tied event times
    are not comparable; within strata only), with R's infinitesimal-jackknife standard error.

    Counting-process data (``start``) follow Andersen & Gill (1982) and Therneau & Grambsch
    (2000, ch. 3), as R's ``agreg.fit``: risk-set sums are the sums over rows still in follow-up
    (``time ≥ t``) minus those over rows not yet entered (``start ≥ t``), both reverse
    cumulative sums, so the cost stays O(n·p + n·p²). A row's score (dfbeta) residual
    accumulates only over the event times in its interval (R's ``agscore3``); concordance
    compares an event only with rows at risk at its time (R's ``concordance4``); ``ph_test``
    is R's ``zph2``, its ``"km"`` transform the Kaplan–Meier with delayed entry. Splitting a
    person's follow-up into several rows without changing covariates leaves every estimate
    unchanged (robust variances too when ``cluster`` is the person).

    Assumptions: hazards proportional over follow-up (check with
    :meth:`~evalkit.survival.CoxResult.ph_test`), log-linear covariate effects, independent
    censoring. Ties are exact float equality (R's default ``timefix`` also merges times that
    differ by rounding error only). Do not use it for competing risks where the other event
    precludes the one of interest and the question is about absolute risk (use cumulative
    incidence). With delayed entry, early event times can have small risk sets: look at how
    many rows are at risk where the events are before trusting the estimates.

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2), 187–220.
    doi:10.1111/j.2517-6161.1972.tb00899.x
    Breslow, N. (1974). Covariance analysis of censored survival data. Biometrics 30(1),
    89–99. doi:10.2307/2529620
    Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA
    72(359), 557–565. doi:10.1080/01621459.1977.10480613
    Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards
    model. JASA 84(408), 1074–1078. doi:10.1080/01621459.1989.10478874
    Harrell, F. E., Lee, K. L. & Mark, D. B. (1996). Multivariable prognostic models. Stat Med
    15(4), 361–387. doi:10.1002/(SICI)1097-0258(19960229)15:4<361::AID-SIM168>3.0.CO;2-4
    Andersen, P. K. & Gill, R. D. (1982). Cox's regression model for counting processes: a
    large sample study. Annals of Statistics 10(4), 1100–1120. doi:10.1214/aos/1176345976
    Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox
    Model, ch. 3 (counting-process data). Springer. doi:10.1007/978-1-4757-3294-8
    Dongarra, J. J., Du Croz, J., Hammarling, S. & Duff, I. S. (1990). A set of level 3 basic
    linear algebra subprograms. ACM TOMS 16(1), 1–17. doi:10.1145/77626.79170

    Examples
    --------
    >>> import evalkit as ek
    >>> from evalkit.datasets import load_rossi
    >>> fit = ek.cox(load_rossi(), time="week", event="arrest",
    ...              covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"])
    >>> fit  # doctest: +ELLIPSIS
    CoxResult(loglik=-658.7, loglik0=-675.4, n=432, n_events=114, iterations=4, ...)
    >>> fit.table.loc["fin", ["estimate", "hr", "hr_lower", "hr_upper"]].round(3).tolist()
    [-0.379, 0.684, 0.47, 0.996]
    >>> round(fit.concordance.estimate, 3)
    0.64

    Counting-process data: each row is at risk on ``(start, time]``. Splitting everyone's
    follow-up at week 26 (where a time-varying covariate would change value) leaves the fit
    unchanged:

    >>> import pandas as pd
    >>> rossi = load_rossi()
    >>> first = rossi.assign(start=0, stop=rossi["week"].clip(upper=26),
    ...                      arrest=rossi["arrest"].where(rossi["week"] <= 26, 0))
    >>> second = rossi[rossi["week"] > 26].assign(start=26, stop=lambda d: d["week"])
    >>> periods = pd.concat([first, second])
    >>> split = ek.cox(periods, start="start", time="stop", event="arrest",
    ...                covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"])
    >>> split.n, split.n_events, split.coef.round(3)["fin"].item()
    (810, 114, -0.379)
    >>> bool(abs(split.loglik - fit.loglik) < 1e-9)
    True
    """
    table = "data"
    df = check_frame(df, table=table)
    ties = check_choice(ties, "ties", TIES)
    covariates = check_columns(covariates, "covariates", allow_empty=False)
    strata_cols = check_columns(strata, "strata")
    conf_level = check_conf_level(conf_level)
    robust = check_flag(robust, "robust") or cluster is not None
    require_columns(
        df, [time, event, start, weights, cluster, *strata_cols, *covariates], table=table
    )
    for c in covariates:
        if c in (time, event, start):
            raise option_error("covariates", f"includes '{c}', the time or event column")
    if start is None:
        v = validate_survival(df, time=time, event=event, weights=weights, table=table)
    else:
        v = validate_counting(df, start=start, time=time, event=event, weights=weights, table=table)
    check_has_events(v["event"], column=event, table=table)
    design = design_matrix(df, covariates, reference=reference, table=table)
    X, names = design.X, design.names
    for j, nm in enumerate(names):
        col = X[:, j]
        if col.min() == col.max():
            raise InputError(
                nm,
                f"is constant (every row is {col[0]:g}); a Cox model cannot estimate its effect",
                table=table,
            )
    n = len(df)
    w = v.get("weights", np.ones(n))
    stratum = _codes(df, strata_cols, table) if strata_cols else np.zeros(n, dtype=np.int64)
    cluster_codes = _codes(df, [cluster], table, sort=False) if cluster is not None else None
    if weights is not None and not robust and np.any(w != np.floor(w)):
        warnings.warn(
            f"weights in '{weights}' are not whole numbers; model-based standard errors treat "
            "them as frequency weights. Use robust=True for sampling or inverse-probability "
            "weights (R's coxph does so by default).",
            StatisticalWarning,
            stacklevel=2,
        )

    warn_sparse_levels(design, v["event"], what="Cox model")

    des = sort_rows(X, v["time"], v["event"], w, stratum, ties, v.get("start"))
    fit = _newton(des, names, _MAX_ITER, _EPS)
    parts = fit.parts
    p = des.p
    # The fit is made on scaled covariates (sort_rows); back to the covariates' own units, as
    # coxfit6 returns them: β·s, U/s, V·s sᵀ.
    s = des.scale
    ss = np.outer(s, s)
    beta = parts.beta * s

    # Monotone likelihood check, as coxph.fit: |U V| large relative to the coefficient.
    infs = np.abs((parts.U / s) @ (fit.var * ss))
    flagged = (infs > _EPS) & (infs > _TOLER_INF * np.abs(beta))
    if flagged.any():
        bad = [names[i] for i in np.flatnonzero(flagged)]
        warnings.warn(
            "log partial likelihood converged before coefficient(s) "
            f"{', '.join(bad)}; they may be infinite (monotone likelihood, e.g. a covariate "
            "level with no events). Their standard errors and Wald tests are not meaningful.",
            StatisticalWarning,
            stacklevel=2,
        )

    naive = fit.var * ss
    robust_var = None
    rscore = None
    sorted_clusters = cluster_codes[des.order] if cluster_codes is not None else None
    if robust:
        robust_s, cross0, u0 = lin_wei(des, parts, fit.parts0, fit.var, sorted_clusters)
        robust_var = robust_s * ss
        rscore = quad_test(cross0, u0)
    var = robust_var if robust_var is not None else naive

    se, no_test = _standard_errors(var, s, beta, names)
    lower, upper, statistic, p_value = wald(beta, se, conf_level)
    statistic = np.where(no_test, np.nan, statistic)
    p_value = np.where(no_test, np.nan, p_value)
    terms = pd.Index(names, name="term")
    with np.errstate(over="ignore"):  # an infinite limit is the honest answer for huge se
        tbl = pd.DataFrame(
            {
                "estimate": beta,
                "se": se,
                "lower": lower,
                "upper": upper,
                "statistic": statistic,
                "p": p_value,
                "hr": np.exp(beta),
                "hr_lower": np.exp(lower),
                "hr_upper": np.exp(upper),
            },
            index=terms,
        )
    lr = 2.0 * (parts.loglik - fit.loglik0)

    def _vc(m: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(m, index=names, columns=names)

    return CoxResult(
        table=tbl,
        coef=pd.Series(beta, index=terms, name="estimate"),
        vcov=_vc(var),
        naive_vcov=_vc(naive),
        robust_vcov=_vc(robust_var) if robust_var is not None else None,
        loglik=parts.loglik,
        loglik0=fit.loglik0,
        lr_test=_chi2(lr, p, "likelihood ratio"),
        wald_test=_chi2(quad_test(var, beta), p, "Wald (robust)" if robust else "Wald"),
        score_test=_chi2(fit.score_stat, p, "score (log-rank)"),
        naive_wald_test=_chi2(quad_test(naive, beta), p, "Wald (model-based)"),
        robust_score_test=_chi2(rscore, p, "robust score") if rscore is not None else None,
        n=int(n),
        n_events=int(des.event.sum()),
        iterations=fit.iterations,
        ties=ties,
        robust=robust,
        conf_level=conf_level,
        terms=design.terms,
        levels=design.levels,
        _design=des,
        _parts=parts,
        _cluster=sorted_clusters,
    )
