"""Propensity scores, nearest-neighbour matching, inverse-probability weights and balance.

A diversion-scheme evaluation compares the people who went through the scheme (the programme
arm, "treated") with people who did not (the comparison arm, "control"). When the two arms
differ in who they are, a naive comparison of reoffending rates mixes the effect of the scheme
with those differences. This package estimates the propensity score (the probability of being
in the programme arm given the covariates; Rosenbaum & Rubin 1983), forms comparable groups by
greedy nearest-neighbour matching on it or by inverse-probability weighting, and reports
covariate balance the way MatchIt and cobalt do.

Every function takes the data first, the arm column as ``group=`` and the label of the
programme arm as ``treated=`` (default ``"programme"``, so ``Cohort.data`` flows straight in;
``treated=1`` for a 0/1 column).

Modules
-------
:mod:`~evalkit.matching.propensity`
    :func:`propensity_score`: logistic regression of the arm on covariates (IRLS in plain
    numpy, as R's ``glm.fit``: ``evalkit/matching/_logistic.py``).
:mod:`~evalkit.matching.greedy`
    The greedy nearest-neighbour search (MatchIt's classic algorithm, without a distance
    matrix: vectorised first choices, confirmed in one pass, union–find searches after that).
:mod:`~evalkit.matching.match`
    :func:`match`: 1:k greedy matching, with or without replacement, calipers and exact
    matching cells; reproduces MatchIt's classic greedy algorithm exactly.
:mod:`~evalkit.matching.weighting`
    :func:`weight`: inverse-probability weights for the ATT, ATC or ATE; stabilised and
    truncated on request.
:mod:`~evalkit.matching.balance`
    :func:`balance`: standardised mean differences, variance ratios and eCDF statistics before
    and after weighting, with effective sample sizes (Kish 1965); the love plot.
:mod:`~evalkit.matching.effects`
    :func:`matched_rate_difference`: rate difference in a matched or weighted sample with a
    cluster-robust standard error.

Outcomes after matching or weighting
------------------------------------
Survival outcomes are analysed with the survival functions on the matched or weighted data
(``m.data`` or ``w.data``, which carry a ``weight`` column):

* weighted Kaplan–Meier: ``ek.kaplan_meier(m.data, time="time", event="event",
  by="group", weights="weight")``;
* weighted Cox model with a robust variance clustered on the matched set (Austin 2013):
  ``ek.cox(m.data, time="time", event="event", covariates=["group"], weights="weight",
  cluster="subclass")``. After matching **with** replacement ``subclass`` is missing (a control
  can belong to several sets); cluster on the person identifier instead.

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

Austin PC (2013). The use of propensity score methods with survival or time-to-event outcomes:
reporting measures of effect similar to those used in randomized experiments. *Statistics in
Medicine* 33(7):1242–1258. doi:10.1002/sim.5984

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

from evalkit.matching.balance import Balance, balance
from evalkit.matching.effects import MatchedEffect, matched_rate_difference
from evalkit.matching.match import MatchResult, match
from evalkit.matching.propensity import PropensityScore, propensity_score
from evalkit.matching.weighting import WeightResult, weight

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
