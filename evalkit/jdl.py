"""The Justice Data Lab outcome set: rate, frequency and time to first reoffence, in plain words.

The Ministry of Justice's Justice Data Lab (JDL) tells organisations whether the people they
worked with reoffended less than similar people who were not helped. Every JDL report gives the
same three headline measures for a programme ("treatment") group and a matched comparison group,
each over a one-year follow-up:

1. the **one-year proven reoffending rate** — the proportion of people with a proven reoffence;
2. the **frequency** — proven reoffences per person;
3. the **days to first proven reoffence**, among the people who reoffended;

and applies fixed reporting rules before it calls a difference significant: a programme group of
at least 60 people, at least 30 of whom reoffended, n·p of at least 10, and p ≤ 0.05. Results are
described in set phrases ("For every 100 people who received support, between 1 and 9 fewer
people committed a proven reoffence…"; "More people would need to be available for
analysis…"). :func:`jdl_outcomes` computes the three measures from a proven-reoffending cohort
(:attr:`evalkit.Cohort.data`, optionally matched) and returns them as a tidy table with those
sentences.

References
----------
Ministry of Justice (2013). *Justice Data Lab: Methodology Paper*. London: Ministry of Justice
(April 2013): the minimum of 60 people, propensity-score matching and the headline measures.

Ministry of Justice, Analytical Services. Justice Data Lab report pipeline (R), repository
``moj-analytical-services/kpow2`` on GitHub: ``JDL RAP/Scripts/variables.R`` (a measure is
listed as significant only when ``difference_p <= 0.05``, the number of treatment-group
reoffenders is at least 30 and ``np_treat >= 10``; rates to whole percentages, frequencies to two
decimals, intervals per 100 people), ``R/higher_or_lower_CI.R`` and
``JDLpackage/R/incr_or_decr_phrase.R`` (the wording of the estimates).

Ministry of Justice. *Justice Data Lab statistics* (quarterly, e.g. July 2018, April 2019),
https://www.gov.uk/government/collections/justice-data-lab-pilot-statistics — source of the
"inconclusive" wording: "more people would need to be available for analysis in order to
determine the way in which the programme affects a person's re-offending behaviour, but this
should not be taken to mean that the programme fails to affect it".
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalkit._design import COVARIATE_RANGE, two_groups
from evalkit._inference import DiffOfMeans, critical, diff_of_means_cr1, p_two_sided
from evalkit._options import check_choice, check_conf_level
from evalkit.errors import DesignError, InputError
from evalkit.proportions import rate_difference
from evalkit.results import Result
from evalkit.schema import (
    check_event,
    check_frame,
    check_magnitude,
    check_numeric,
    check_unique,
    require_columns,
    row_ids,
)

__all__ = [
    "JDL_MIN_NP",
    "JDL_MIN_PROGRAMME",
    "JDL_MIN_REOFFENDERS",
    "JDL_OUTCOMES",
    "RATE_METHODS",
    "JDLResult",
    "jdl_outcomes",
]

JDL_MIN_PROGRAMME = 60
"""People needed in the programme group before the Justice Data Lab will analyse it."""

JDL_MIN_REOFFENDERS = 30
"""Programme-group reoffenders needed before any difference is reported as significant."""

JDL_MIN_NP = 10
"""Minimum of n·p and n·(1 − p) in the programme group for the reoffending rate."""

JDL_OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "rate": "One-year proven reoffending rate",
        "frequency": "Proven reoffences per person (frequency)",
        "days_to_first": "Days to first proven reoffence (reoffenders only)",
    }
)
"""Outcome codes of :attr:`JDLResult.table`, in order, with their display labels."""

RATE_METHODS = ("newcombe", "miettinen-nurminen", "welch")
"""Valid ``rate_method`` values of :func:`jdl_outcomes`; the first is the default."""

TABLE_COLUMNS = (
    "outcome",
    "programme",
    "comparison",
    "estimate",
    "se",
    "lower",
    "upper",
    "p",
    "n_programme",
    "n_comparison",
    "reoffenders_programme",
    "significant",
    "shown",
    "reason",
    "method",
)

# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class JDLResult(Result):
    """The Justice Data Lab outcome set for one programme group and its comparison group.

    Attributes
    ----------
    table
        One row per outcome, in the order of :data:`JDL_OUTCOMES`; full precision, nothing
        rounded. Columns:

        ``outcome``
            ``"rate"``, ``"frequency"`` or ``"days_to_first"``.
        ``programme``, ``comparison``
            The measure in each group: a proportion (0.31, not 31%), reoffences per person, or
            mean days from the index date to the first proven reoffence among reoffenders.
            Weighted means when ``weights`` was given.
        ``estimate``, ``lower``, ``upper``
            The difference, programme minus comparison, with its confidence interval (NaN
            when it cannot be estimated, e.g. fewer than two reoffenders in a group for
            ``days_to_first``).
        ``se``
            Standard error of the difference (NaN for the rate's score intervals, which are
            not estimate ± z·se).
        ``p``
            Two-sided p-value of no difference (see ``method``).
        ``n_programme``, ``n_comparison``
            People analysed in each group (rows with positive weight); for ``days_to_first``
            the reoffenders.
        ``reoffenders_programme``
            Programme-group people with a proven reoffence (the JDL's "30 reoffenders" count).
        ``significant``
            ``p ≤ 1 − conf_level`` and the interval excludes zero.
        ``shown``
            The JDL reporting rules are met, so a significant difference may be reported as
            one: at least :data:`JDL_MIN_REOFFENDERS` programme-group reoffenders and, for the
            rate, n·p and n·(1 − p) of at least :data:`JDL_MIN_NP`.
        ``reason``
            Why ``shown`` is false (empty when it is true).
        ``method``
            How the interval and p-value were computed.
    sentences
        Outcome code → the plain-language sentence a JDL report would print.
    display
        The table as a reader sees it: rates in whole percentages (differences in percentage
        points), frequencies to two decimals, days whole, p to three decimals; text columns.
    conf_level
        Confidence level of the intervals; the significance level is ``1 − conf_level``.
    treated_label, control_label
        The labels in ``group`` of the programme group and of the comparison group.
    weighted
        True when weights or clusters were used (robust standard errors, normal intervals).
    rate_method
        Interval method for the rate (``"newcombe"``, ``"miettinen-nurminen"`` or ``"welch"``).
    """

    _title: ClassVar[str] = "Justice Data Lab outcome set"

    table: pd.DataFrame
    sentences: Mapping[str, str]
    display: pd.DataFrame
    conf_level: float
    treated_label: Any
    control_label: Any
    weighted: bool
    rate_method: str
    rules: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(
            {
                "min_programme": JDL_MIN_PROGRAMME,
                "min_reoffenders": JDL_MIN_REOFFENDERS,
                "min_np": JDL_MIN_NP,
            }
        )
    )

    def to_frame(self) -> pd.DataFrame:
        """The headline table: a copy of :attr:`table`."""
        return self.table.copy()

    def _describe(self) -> list[str]:
        rate = self.table.iloc[0]  # the rate comes first
        effect = [f"rate_{k}={float(rate[k]):.4g}" for k in ("estimate", "lower", "upper")]
        return [*effect, *super()._describe()]

    def _repr_html_(self) -> str:
        level = f"{100 * self.conf_level:g}%"
        items = "".join(
            f"<li><strong>{html.escape(JDL_OUTCOMES[k])}.</strong> {html.escape(s)}</li>"
            for k, s in self.sentences.items()
        )
        return (
            f"<p>Justice Data Lab outcome set: {html.escape(str(self.treated_label))} "
            f"versus {html.escape(str(self.control_label))} ({level} confidence intervals"
            f"{', weighted' if self.weighted else ''}).</p>"
            + self.display.to_html(index=False)
            + f"<ul>{items}</ul>"
        )


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def _welch(x1: np.ndarray, x0: np.ndarray, level: float) -> DiffOfMeans:
    """Welch's unequal-variance t interval and test for a difference of two means."""
    n1, n0 = len(x1), len(x0)
    m1 = float(x1.mean()) if n1 else math.nan
    m0 = float(x0.mean()) if n0 else math.nan
    diff = m1 - m0
    a1 = float(x1.var(ddof=1)) / n1 if n1 >= 2 else math.nan
    a0 = float(x0.var(ddof=1)) / n0 if n0 >= 2 else math.nan
    se2 = a1 + a0
    if not se2 > 0.0:  # fewer than two in a group, or no variation: no interval, no test
        return DiffOfMeans(m1, m0, diff, math.nan, math.nan, math.nan, math.nan)
    df = se2 * se2 / (a1 * a1 / (n1 - 1) + a0 * a0 / (n0 - 1))
    se = math.sqrt(se2)
    half = critical(level, df) * se
    return DiffOfMeans(
        m1, m0, diff, se, diff - half, diff + half, float(p_two_sided(diff / se, df))
    )


def _pearson_p(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p of the pooled two-proportion z-test (Pearson's chi-squared, no correction).

    R: ``prop.test(c(x1, x0), c(n1, n0), correct = FALSE)$p.value``. When nobody or everybody
    reoffended in both groups the proportions cannot differ: p = 1.
    """
    pooled = (x1 + x0) / (n1 + n0)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0)
    if var <= 0.0:
        return 1.0
    return float(p_two_sided((x1 / n1 - x0 / n0) / math.sqrt(var)))


def _cluster_codes(
    df: pd.DataFrame, cluster: str, use: np.ndarray, id_col: str | None
) -> np.ndarray:
    """Cluster codes of the rows; a cluster must be known for every row with positive weight.

    After matching with replacement ``subclass`` is missing for everyone (a person can be in
    several matched sets); the error then says what to use instead.
    """
    miss = df[cluster].isna().to_numpy() & use
    if miss.any():
        if miss.sum() == use.sum():
            person = (
                f"cluster={id_col!r}"
                if id_col is not None and id_col in df.columns
                else "clustering on a person identifier"
            )
            raise InputError(
                cluster,
                "has no value for anyone with a positive weight. After matching with "
                "replacement a person can belong to several matched sets, so the matched data "
                "have no single set per person: use cluster=None (robust standard errors by "
                f"person, with the matching weights), which is the same as {person}",
                table="data",
            )
        raise InputError(cluster, "has missing values", row_ids(df, miss, id_col), table="data")
    return pd.factorize(df[cluster])[0]


# --------------------------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------------------------


def jdl_outcomes(
    df: pd.DataFrame,
    *,
    group: str = "group",
    treated: Any = "programme",
    reoffended: str = "reoffended",
    frequency: str = "n_reoffences",
    time: str = "time",
    weights: str | None = None,
    cluster: str | None = None,
    rate_method: str = "newcombe",
    conf_level: float = 0.95,
    id_col: str | None = "person_id",
) -> JDLResult:
    """Justice Data Lab outcome set: reoffending rate, frequency and days to first reoffence.

    Parameters
    ----------
    df
        One row per person: a proven-reoffending cohort (:attr:`evalkit.Cohort.data`), or the
        matched rows of one (``ek.match(...).data``).
    group
        Column holding each person's group: exactly two labels, the programme group's
        (``treated``) and the comparison group's. Other labels are an error, not silently
        dropped.
    treated
        The label in ``group`` of the programme (treatment) group, default ``"programme"``
        (as :attr:`evalkit.Cohort.data`); the other label is the comparison group.
        ``treated=1`` for a 0/1 column.
    reoffended
        Column: 1/``True`` if the person committed a proven reoffence in the follow-up period.
    frequency
        Column: number of proven reoffences in the follow-up period (whole number ≥ 0; at least
        1 exactly for the people who reoffended).
    time
        Column: days from the index date to the offence date of the first proven reoffence
        (read only for people who reoffended; :func:`evalkit.proven_reoffending`'s ``time``).
    weights
        Optional column of non-negative weights, e.g. ``"weight"`` from :func:`evalkit.match`
        or inverse-probability weights. Rows with weight 0 contribute nothing and are not
        counted in ``n_programme``/``n_comparison``.
    cluster
        Optional column of clusters for the standard errors, e.g. ``"subclass"`` (the matched
        set) after matching without replacement. Given with or without ``weights``, it switches
        every outcome to the weighted regression with cluster-robust errors (see Notes). After
        matching **with** replacement a person can belong to several matched sets and
        ``m.data`` has no set per person (``subclass`` is missing throughout): leave
        ``cluster=None`` — robust errors by person, with the matching weights — or pass the
        person identifier (``cluster="person_id"``), which is the same.
    rate_method
        Interval for the rate difference without weights or clusters: ``"newcombe"`` (default;
        Newcombe's hybrid score interval, p-value from the two-proportion score test),
        ``"miettinen-nurminen"`` (score interval and the matching "N − 1" score test), or
        ``"welch"`` (Welch's t-test on the 0/1 indicator, which is what the JDL's own pipeline
        reports).
    conf_level
        Confidence level of the intervals (default 0.95); a difference is significant when its
        p-value is at most ``1 − conf_level`` and its interval excludes zero.
    id_col
        Column identifying people (default ``"person_id"``). When it is a column of the data
        its values must be unique — one row per person — and they name offending rows in error
        messages; otherwise index labels do. Matched data from :func:`evalkit.match` satisfy
        this with or without replacement: a control matched several times is one row of
        ``m.data`` with a larger ``weight``, never a repeated row. Pass ``id_col=None`` only
        for data that repeat a person on purpose (e.g. one row per matched pair).

    Returns
    -------
    JDLResult
        ``table`` (full precision; also ``to_frame()``), ``sentences`` (outcome → sentence),
        ``display`` (rounded for reading).

    Raises
    ------
    InputError
        Missing columns; duplicated ``id_col`` values; missing group labels, no rows labelled
        ``treated``, or more than two labels; ``reoffended`` not 0/1; ``frequency`` negative,
        fractional, or inconsistent with ``reoffended``; ``time`` missing or negative for a
        reoffender; negative or non-finite weights; missing cluster labels (for every person,
        as after matching with replacement, the message says what to use instead); bad
        ``rate_method`` or ``conf_level``.
    DesignError
        Only one group; nobody in the comparison group with positive weight; a programme group
        of fewer than :data:`JDL_MIN_PROGRAMME` (60) people — the JDL does not analyse smaller
        groups, whose results are too imprecise to be useful.

    Notes
    -----
    **Measures** (Ministry of Justice 2013; the JDL report pipeline). The rate is the
    proportion with ``reoffended``; the frequency is the mean of ``frequency`` over everyone in
    the group (reoffenders and non-reoffenders); days to first reoffence is the mean of
    ``time`` over the reoffenders only, so it compares *when* reoffenders reoffended, not
    *whether* people did (use :func:`evalkit.kaplan_meier` and :func:`evalkit.rmst` for the
    time to reoffence of everyone).

    **Intervals without weights.** The rate difference uses Newcombe's (1998) hybrid score
    interval by default: it keeps close to its nominal coverage at the small counts the JDL
    deals with (60 people, 30 reoffenders), where the simple Wald interval does not; its
    p-value is Pearson's two-proportion (score) test without continuity correction (R's
    ``prop.test(correct = FALSE)``). The JDL itself reports, for every measure, a Welch
    t-test of the difference in means — for the rate, on the 0/1 indicator — which
    ``rate_method="welch"`` reproduces; it is close to the Wald interval and slightly too
    narrow for small groups. Frequency and days to first reoffence use Welch's (1947)
    unequal-variance t interval and test with Satterthwaite's degrees of freedom, as the
    JDL does (R's ``t.test(var.equal = FALSE)``).

    **Weighted or matched data.** With ``weights`` or ``cluster`` every difference is the slope
    of a weighted least-squares regression of the measure on the group indicator (the
    difference of weighted means), with a cluster-robust standard error — by matched set when
    ``cluster="subclass"`` after 1:k matching without replacement (Austin 2011; Abadie &
    Spiess 2022), otherwise heteroskedasticity-robust (HC1) — and a normal-theory interval and
    p-value. This is ``lm(y ~ group, weights = w)`` with ``sandwich::vcovCL(cluster = ~set)``,
    the same estimator as :func:`evalkit.matched_rate_difference`. The weights are treated as
    known; the uncertainty of the propensity score is ignored. After matching with replacement
    the matched sets overlap, so there is no set to cluster on: the errors are then robust by
    person (``cluster=None``), with each control weighted by its matches. Two-way clustering on
    set and person (Cameron, Gelbach & Miller 2011) needs one row per matched pair, as
    :func:`evalkit.matched_rate_difference` builds from the match.

    **Reporting rules** (JDL report pipeline, ``variables.R``). The programme group must have at
    least 60 people (else :class:`DesignError`). A difference may be reported as significant
    (``shown`` and ``significant``) only when at least 30 programme-group people reoffended;
    for the rate also n·p ≥ 10, which we apply as the usual normal-approximation condition on
    both counts, n·p̂ ≥ 10 and n·(1 − p̂) ≥ 10 in the programme group (the pipeline's ``np_treat``
    is not defined in the published material; with 30 reoffenders n·p̂ ≥ 10 always holds, so the
    binding condition is that at least 10 people did not reoffend). Days to first reoffence is
    not reported at all with fewer than 30 reoffenders, as in JDL reports. The significance
    level is ``1 − conf_level`` (0.05 by default, as the JDL).

    **Wording.** Significant differences follow the JDL's phrasing, per 100 people for the rate
    and the frequency ("For every 100 people who received support, between 1 and 9 fewer people
    committed a proven reoffence during the one-year period than would have without support"),
    in days for the time to first reoffence. Otherwise the result is "inconclusive", with the
    range given as the JDL gives it ("lower by up to …, or higher by up to …") and its caution
    that "more people would need to be available for analysis … this should not be taken to
    mean that the support has no effect". Numbers in sentences are the interval limits rounded
    half away from zero to whole numbers.

    **When not to use.** The wording ("than would have without support") presumes that the
    comparison group shows what would have happened to the programme group without support.
    That holds only as far as the matching removes the differences between the groups; it can
    never remove differences in what was not measured (motivation, the selection of people into
    the programme). A raw, unmatched comparison group makes the sentences misleading: match
    first (:func:`evalkit.match`) and say in the report that the design is observational.

    References
    ----------
    Ministry of Justice (2013). *Justice Data Lab: Methodology Paper*. London: MoJ.

    Ministry of Justice. Justice Data Lab report pipeline, GitHub
    ``moj-analytical-services/kpow2`` (``JDL RAP/Scripts/variables.R``,
    ``R/higher_or_lower_CI.R``, ``JDLpackage/R/incr_or_decr_phrase.R``).

    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17:873–890.

    Welch BL (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34:28–35. doi:10.1093/biomet/34.1-2.28

    Satterthwaite FE (1946). An approximate distribution of estimates of variance components.
    *Biometrics Bulletin* 2:110–114. doi:10.2307/3002019

    Austin PC (2011). An introduction to propensity score methods for reducing the effects of
    confounding in observational studies. *Multivariate Behavioral Research* 46:399–424.

    Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American
    Statistical Association* 117:983–995. doi:10.1080/01621459.2020.1840383

    Cameron AC, Gelbach JB, Miller DL (2011). Robust inference with multiway clustering.
    *Journal of Business & Economic Statistics* 29:238–249. doi:10.1198/jbes.2010.07136

    Examples
    --------
    >>> import evalkit as ek
    >>> sim = ek.datasets.simulate_reoffending(1500, effect_hr=0.6, rng=3)
    >>> cohort = ek.proven_reoffending(sim["people"], sim["offences"])
    >>> res = ek.jdl_outcomes(cohort.data)
    >>> list(res.table["outcome"])
    ['rate', 'frequency', 'days_to_first']
    >>> res.sentences["rate"].startswith("For every 100 people who received support")
    True
    """
    from evalkit._jdl_wording import RULE_30, RULE_NP, display_table, sentence

    df = check_frame(df)
    rate_method = check_choice(rate_method, "rate_method", RATE_METHODS)
    level = check_conf_level(conf_level)
    require_columns(df, [group, reoffended, frequency, time, weights, cluster])
    if id_col is not None and id_col in df.columns:
        check_unique(df, id_col)

    # ---- groups: exactly two labels, one of them the programme's -------------------------------
    z, treated_label, control_label = two_groups(df, group, treated, id_col=id_col)
    is_prog = z == 1
    is_comp = ~is_prog

    # ---- weights and clusters ------------------------------------------------------------------
    robust = weights is not None or cluster is not None
    if weights is not None:
        w = check_numeric(df, weights, id_col=id_col)
        bad = w < 0
        if bad.any():
            raise InputError(weights, "must not be negative", row_ids(df, bad, id_col))
    else:
        w = np.ones(len(df))
    use = w > 0
    codes = None if cluster is None else _cluster_codes(df, cluster, use, id_col)

    # ---- outcomes ------------------------------------------------------------------------------
    reo = check_event(df, reoffended, id_col=id_col)
    freq = check_numeric(df, frequency, id_col=id_col)
    bad = (freq < 0) | (freq != np.floor(freq))
    if bad.any():
        raise InputError(
            frequency, "must be a whole number of reoffences (0, 1, 2, …)", row_ids(df, bad, id_col)
        )
    bad = (reo == 1) != (freq > 0)
    if bad.any():
        raise InputError(
            frequency,
            f"must be at least 1 exactly for the people with '{reoffended}' true (a reoffender "
            "has at least one proven reoffence; a non-reoffender has none)",
            row_ids(df, bad, id_col),
        )
    reo_rows = reo == 1
    t = np.full(len(df), np.nan)
    if reo_rows.any():
        s = df[time]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InputError(time, f"must be numeric days, but has dtype {s.dtype}")
        tv = s.to_numpy(dtype=float, na_value=np.nan)
        bad = reo_rows & ~np.isfinite(tv)
        if bad.any():
            raise InputError(
                time, "is missing or not finite for a reoffender", row_ids(df, bad, id_col)
            )
        bad = reo_rows & (tv < 0)
        if bad.any():
            raise InputError(
                time, "must not be negative for a reoffender", row_ids(df, bad, id_col)
            )
        check_magnitude(
            df, time, np.where(reo_rows, tv, 0.0), smallest=COVARIATE_RANGE[0], id_col=id_col
        )
        t = tv

    prog = is_prog & use
    comp = is_comp & use
    n1, n0 = int(prog.sum()), int(comp.sum())
    if n0 == 0:
        raise DesignError(
            f"nobody in the comparison group ({group} = {control_label!r}) has a positive weight"
        )
    if n1 < JDL_MIN_PROGRAMME:
        raise DesignError(
            f"the programme group has {n1} people{' with positive weight' if robust else ''}; "
            f"the Justice Data Lab analyses a programme group only when it has at least "
            f"{JDL_MIN_PROGRAMME} people, because smaller groups give results too imprecise to "
            "be useful"
        )
    x1 = int(reo[prog].sum())
    x0 = int(reo[comp].sum())

    # ---- the three comparisons ----------------------------------------------------------------
    results: dict[str, tuple[DiffOfMeans, int, int, str]] = {}
    if robust:
        kind = (
            f"weighted least squares, cluster-robust SE by '{cluster}' (CR1), normal interval"
            if cluster is not None
            else "weighted least squares, robust SE (HC1), normal interval"
        )

        def rob(y: np.ndarray, rows: np.ndarray) -> DiffOfMeans:
            cl = None if codes is None else codes[rows]
            return diff_of_means_cr1(y[rows], z[rows], w[rows], cl, level)

        both = prog | comp
        results["rate"] = (rob(reo.astype(float), both), n1, n0, kind)
        results["frequency"] = (rob(freq, both), n1, n0, kind)
        r_rows = both & reo_rows
        results["days_to_first"] = (rob(t, r_rows), x1, x0, kind)
    else:
        if rate_method == "welch":
            rate = _welch(reo[prog].astype(float), reo[comp].astype(float), level)
            rate_kind = "Welch t-test on the 0/1 indicator (as the JDL)"
        else:
            ci = rate_difference(x1, n1, x0, n0, method=rate_method, conf_level=level)
            if rate_method == "newcombe":
                p = _pearson_p(x1, n1, x0, n0)
                rate_kind = "Newcombe hybrid score interval; Pearson two-proportion test"
            else:
                p = float(ci.p)
                rate_kind = "Miettinen-Nurminen score interval and test"
            rate = DiffOfMeans(
                float(ci.rate1), float(ci.rate0), float(ci.estimate), math.nan, float(ci.lower),
                float(ci.upper), p,
            )  # fmt: skip
        results["rate"] = (rate, n1, n0, rate_kind)
        welch_kind = "Welch unequal-variance t interval and test"
        results["frequency"] = (_welch(freq[prog], freq[comp], level), n1, n0, welch_kind)
        results["days_to_first"] = (
            _welch(t[prog & reo_rows], t[comp & reo_rows], level),
            x1,
            x0,
            welch_kind,
        )

    # ---- rules, table, sentences ---------------------------------------------------------------
    alpha = 1.0 - level
    rows: list[dict[str, Any]] = []
    for outcome in JDL_OUTCOMES:
        d, na, nb, kind = results[outcome]
        reason = ""
        if x1 < JDL_MIN_REOFFENDERS:
            reason = RULE_30
        elif outcome == "rate" and min(x1, n1 - x1) < JDL_MIN_NP:
            reason = RULE_NP
        excludes_zero = bool(d.lower > 0 or d.upper < 0)
        significant = bool(np.isfinite(d.p) and d.p <= alpha and excludes_zero)
        rows.append(
            {
                "outcome": outcome,
                "programme": d.treated,
                "comparison": d.control,
                "estimate": d.difference,
                "se": d.se,
                "lower": d.lower,
                "upper": d.upper,
                "p": d.p,
                "n_programme": na,
                "n_comparison": nb,
                "reoffenders_programme": x1,
                "significant": significant,
                "shown": reason == "",
                "reason": reason,
                "method": kind,
            }
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.astype(
        {
            "n_programme": "int64",
            "n_comparison": "int64",
            "reoffenders_programme": "int64",
            "significant": bool,
            "shown": bool,
        }
    )
    sentences = {str(r["outcome"]): sentence(str(r["outcome"]), r) for r in rows}
    return JDLResult(
        table=table,
        sentences=MappingProxyType(sentences),
        display=display_table(table),
        conf_level=level,
        treated_label=treated_label,
        control_label=control_label,
        weighted=robust,
        rate_method=rate_method,
    )
