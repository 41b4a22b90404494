"""The matched comparison of a scheme report: match, outcomes, hazard ratio and diagnostics.

Several scheme reports (``analyses/divert.py``, ``fresh_start.py``, ``restart.py`` and the
template) compare the programme group with people matched to them 1:1 on the logit of the
propensity score, then read the Justice Data Lab outcome set, a Cox hazard ratio and the
verdict's balance diagnostics off the matched rows, always with the matching weights and
standard errors clustered on the matched pairs. :func:`matched_comparison` does the matching
once and returns a :class:`MatchedComparison` that computes each of those the one way::

    mc = rp.matched_comparison(data, treated="programme", covariates=COVARIATES, caliper=0.2)
    res = mc.outcomes()                                   # ek.jdl_outcomes on the matched rows
    primary = mc.rate_measure(res, outcome="...", disclosure=cfg.disclosure)
    hr = mc.hazard_ratio()                                # hr, hr_lower, hr_upper, p, ...
    verdict = rp.judge(cfg, primary, secondary=[rp.hazard_ratio_measure(hr)],
                       diagnostics=mc.diagnostics())

The statistics are evalkit's own (:func:`evalkit.match`, :func:`evalkit.jdl_outcomes`,
:func:`evalkit.cox`); this module only fixes how a report calls them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from evalkit.errors import StatisticalWarning
from evalkit.report.disclosure import Disclosure
from evalkit.report.jdl import covariate_label
from evalkit.verdict import Diagnostics, Measure

if TYPE_CHECKING:  # the estimators load scipy and statsmodels: imported when first used
    from evalkit.jdl import JDLResult
    from evalkit.matching import MatchResult

__all__ = [
    "MatchedComparison",
    "matched_comparison",
    "matched_hazard_ratio",
    "term_label",
]

_INDICATOR = "programme"
"""Name of the 0/1 programme column the Cox model of a matched comparison is fitted on."""


def term_label(term: str, labels: Mapping[str, str] | None = None) -> str:
    """A term of a balance table or model in words: ``age`` → ``Age``, ``sex[F]`` → ``Sex: F``.

    Parameters
    ----------
    term
        A covariate name, or an indicator of one level of a categorical covariate written
        ``name[level]`` (as :func:`evalkit.match` and :func:`evalkit.cox` name them).
    labels
        Words for names or ``name[level]`` terms that take precedence over evalkit's defaults
        (:func:`evalkit.report.jdl.covariate_label`).

    Returns
    -------
    str
        The words a report shows for the term.

    Examples
    --------
    >>> term_label("prior_offences"), term_label("sex[F]")
    ('Previous proven offences', 'Sex: F')
    >>> term_label("risk_score")
    'Risk score'
    """
    name, bracket, level = term.partition("[")
    if not bracket:
        return covariate_label(name, labels=labels)
    return covariate_label(name, level[:-1] if level.endswith("]") else level, labels)


def matched_hazard_ratio(
    df: pd.DataFrame,
    *,
    treated: Any = "programme",
    group: str = "group",
    time: str = "time",
    event: str = "event",
) -> pd.Series:
    """Hazard ratio of the programme group against its matched comparison group.

    A Cox model (Efron ties) of ``time`` and ``event`` on a 0/1 programme indicator, weighted
    by the matching weights and with standard errors robust to the pairing (clustered on the
    matched pair), as the Justice Data Lab reads a matched comparison.

    Parameters
    ----------
    df
        Matched rows, as ``ek.match(...).data``: ``group``, ``time``, ``event`` and the
        matching's ``weight`` and ``subclass`` columns.
    treated
        The label of the programme group in ``group``.
    group, time, event
        Columns of the group, the follow-up time and the event (1 = event, 0 = censored).

    Returns
    -------
    pandas.Series
        The indicator's row of the Cox table: ``estimate, se, lower, upper, statistic, p, hr,
        hr_lower, hr_upper``.
    """
    from evalkit.survival import cox

    fit = cox(
        df.assign(**{_INDICATOR: (df[group] == treated).astype(int)}),
        time=time,
        event=event,
        covariates=[_INDICATOR],
        weights="weight",
        cluster="subclass",
    )
    return cast(pd.Series, fit.table.loc[_INDICATOR])


@dataclass(frozen=True, eq=False)
class MatchedComparison:
    """A programme group and its matched comparison group (see :func:`matched_comparison`).

    Attributes
    ----------
    match
        The :class:`evalkit.matching.MatchResult` (balance, counts, matched rows).
    group
        Column holding each person's group.
    treated, comparison
        The labels of the programme group and of the comparison group in ``group``.
    """

    match: MatchResult
    group: str
    treated: Any
    comparison: Any

    @property
    def data(self) -> pd.DataFrame:
        """The matched rows, with the matching's ``weight`` and ``subclass`` columns."""
        return self.match.data

    def counts(self, outcome: str = "reoffended") -> dict[Any, tuple[int, int]]:
        """People and people with the outcome in each matched group.

        Parameters
        ----------
        outcome
            A 0/1 (or boolean) column of the matched rows.

        Returns
        -------
        dict
            ``{label: (people, with the outcome)}``, the programme group first.
        """
        data = self.data
        out = {}
        for label in (self.treated, self.comparison):
            rows = data[self.group] == label
            out[label] = (int(rows.sum()), int(data.loc[rows, outcome].sum()))
        return out

    def outcomes(
        self,
        *,
        reoffended: str = "reoffended",
        frequency: str = "n_reoffences",
        time: str = "time",
    ) -> JDLResult:
        """The Justice Data Lab outcome set of the matched groups (:func:`evalkit.jdl_outcomes`).

        Weighted by the matching weights, with errors clustered on the matched pairs.

        Parameters
        ----------
        reoffended, frequency, time
            The outcome columns (see :func:`evalkit.jdl_outcomes`), e.g.
            ``reoffended="reoffended_6m"`` for a second follow-up period.
        """
        from evalkit.jdl import jdl_outcomes

        return jdl_outcomes(
            self.data,
            group=self.group,
            treated=self.treated,
            reoffended=reoffended,
            frequency=frequency,
            time=time,
            weights="weight",
            cluster="subclass",
        )

    def rates_publishable(self, disclosure: Disclosure, outcome: str = "reoffended") -> bool:
        """True when no group's count with or without the outcome is small (disclosure)."""
        return not any(
            disclosure.is_small(x) or disclosure.is_small(n - x)
            for n, x in self.counts(outcome).values()
        )

    def rate_measure(
        self,
        result: JDLResult,
        *,
        outcome: str,
        disclosure: Disclosure,
        reoffended: str = "reoffended",
    ) -> Measure:
        """The rate difference of an outcome set as a verdict measure.

        Parameters
        ----------
        result
            The outcome set (:meth:`outcomes`); its first row, the reoffending rate, is used.
        outcome
            The outcome in words (``"proven reoffending within 6 months"``).
        disclosure
            The report's disclosure settings: the two groups' rates are given to the verdict
            (which may print them) only when no count behind them is small.
        reoffended
            The 0/1 column ``result`` was computed from, for the disclosure check.
        """
        row = result.table.iloc[0]
        publish = self.rates_publishable(disclosure, reoffended)
        return Measure(
            "rate difference",
            outcome,
            float(row["estimate"]),
            float(row["lower"]),
            float(row["upper"]),
            p=float(row["p"]),
            programme=float(row["programme"]) if publish else None,
            comparison=float(row["comparison"]) if publish else None,
            conf_level=result.conf_level,
        )

    def hazard_ratio(self, time: str = "time", event: str = "event") -> pd.Series:
        """The hazard ratio, robust to the pairing (:func:`matched_hazard_ratio`)."""
        return matched_hazard_ratio(
            self.data, treated=self.treated, group=self.group, time=time, event=event
        )

    def diagnostics(
        self, outcome: str = "reoffended", labels: Mapping[str, str] | None = None
    ) -> Diagnostics:
        """The verdict's diagnostics: balance, matched numbers and the smaller expected count.

        :meth:`evalkit.verdict.Diagnostics.from_match`, with every balance term named in words
        (:func:`term_label`), the programme group's people with the outcome as its events, and
        ``min_expected`` the smaller of the programme group's counts with and without it.

        Parameters
        ----------
        outcome
            The 0/1 column of the primary outcome.
        labels
            Words for terms, before evalkit's defaults (see :func:`term_label`).
        """
        n, x = self.counts(outcome)[self.treated]
        names = {t: term_label(str(t), labels) for t in self.match.balance().index}
        return dataclasses.replace(
            Diagnostics.from_match(self.match, labels=names, programme_events=x),
            min_expected=float(min(x, n - x)),
        )


def matched_comparison(
    df: pd.DataFrame,
    *,
    covariates: Sequence[str],
    treated: Any = "programme",
    group: str = "group",
    caliper: float = 0.2,
    exact: str | Sequence[str] | None = None,
) -> MatchedComparison:
    """Match the programme group 1:1 to the rest of ``df``, as the scheme reports do.

    Greedy nearest-neighbour matching on the logit of the propensity score (a logistic model of
    being in the programme group on ``covariates``) within ``caliper`` standard deviations of
    it, without replacement (:func:`evalkit.match`, Austin 2011). The warning that some
    programme people found no match is not shown: a report counts them (disclosure-controlled)
    and the verdict's diagnostics weigh them.

    Parameters
    ----------
    df
        One row per person, e.g. :attr:`evalkit.Cohort.data`.
    covariates
        Characteristics to match on.
    treated
        The label of the programme group in ``group``; the one other label is the comparison
        group.
    group
        Column holding each person's group: exactly two labels.
    caliper
        Largest distance of a match, in standard deviations of the logit of the propensity
        score.
    exact
        Columns matched on exactly as well.

    Returns
    -------
    MatchedComparison
        The matching and the labels of the two groups.

    References
    ----------
    Austin, P.C. (2011). Optimal caliper widths for propensity-score matching when estimating
    differences in means and differences in proportions in observational studies.
    *Pharmaceutical Statistics* 10, 150-161. https://doi.org/10.1002/pst.433
    """
    from evalkit._design import two_groups
    from evalkit.matching import match

    # the same check of the two arms as every two-arm method; it gives the comparison label
    _, _, comparison = two_groups(df, group, treated)
    with warnings.catch_warnings():
        # programme people left unmatched are counted by the report and in the diagnostics
        warnings.simplefilter("ignore", StatisticalWarning)
        m = match(
            df,
            group=group,
            treated=treated,
            covariates=covariates,
            caliper=caliper,
            exact=exact,
            link="linear.logit",
        )
    return MatchedComparison(match=m, group=group, treated=treated, comparison=comparison)
