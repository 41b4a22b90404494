"""evalkit: reproducible evaluation of criminal-justice diversion schemes.

The public API is flat: ``import evalkit as ek`` then ``ek.kaplan_meier``, ``ek.cox``,
``ek.proven_reoffending``… Each name lives in one module (see ``DESIGN.md``); this file only
re-exports them.
"""

from evalkit import datasets
from evalkit._cox import Concordance, CoxResult, cox
from evalkit._results import Estimate, TestResult
from evalkit._version import __version__
from evalkit.cohort import Cohort, proven_reoffending
from evalkit.errors import (
    ConvergenceError,
    DataWarning,
    DesignError,
    EvalkitError,
    InputError,
    SmallCountWarning,
    StatisticalWarning,
)
from evalkit.io import read_table
from evalkit.jdl import JDLResult, jdl_outcomes
from evalkit.matching import (
    Balance,
    MatchedEffect,
    MatchResult,
    PropensityScore,
    WeightResult,
    balance,
    match,
    matched_rate_difference,
    propensity_score,
    weight,
)
from evalkit.power import (
    PilotPlan,
    events_logrank,
    mde_two_proportions,
    n_two_proportions,
    plan_pilot,
    power_two_proportions,
)
from evalkit.proportions import (
    ComparisonEstimate,
    odds_ratio,
    paired_rate_difference,
    rate_difference,
    rate_ratio,
)
from evalkit.survival import (
    KaplanMeierResult,
    LogRankResult,
    cumulative_incidence,
    kaplan_meier,
    logrank,
    rmst,
    rmst_difference,
)
from evalkit.timeseries import DiDResult, ITSResult, did, its
from evalkit.verdict import Diagnostics, Measure, Verdict, verdict

__all__ = [
    "Balance",
    "Cohort",
    "ComparisonEstimate",
    "Concordance",
    "ConvergenceError",
    "CoxResult",
    "DataWarning",
    "DesignError",
    "DiDResult",
    "Diagnostics",
    "Estimate",
    "EvalkitError",
    "ITSResult",
    "InputError",
    "JDLResult",
    "KaplanMeierResult",
    "LogRankResult",
    "MatchResult",
    "MatchedEffect",
    "Measure",
    "PilotPlan",
    "PropensityScore",
    "SmallCountWarning",
    "StatisticalWarning",
    "TestResult",
    "Verdict",
    "WeightResult",
    "__version__",
    "balance",
    "cox",
    "cumulative_incidence",
    "datasets",
    "did",
    "events_logrank",
    "its",
    "jdl_outcomes",
    "kaplan_meier",
    "logrank",
    "match",
    "matched_rate_difference",
    "mde_two_proportions",
    "n_two_proportions",
    "odds_ratio",
    "paired_rate_difference",
    "plan_pilot",
    "power_two_proportions",
    "propensity_score",
    "proven_reoffending",
    "rate_difference",
    "rate_ratio",
    "read_table",
    "rmst",
    "rmst_difference",
    "verdict",
    "weight",
]
