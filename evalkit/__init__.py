"""evalkit: reproducible evaluation of criminal-justice diversion schemes.

The public API is flat: ``import evalkit as ek`` then ``ek.kaplan_meier``, ``ek.cox``,
``ek.proven_reoffending``… Each name lives in one module (see ``docs/architecture.md``); this
file only re-exports them, lazily: a name's module (and numpy/scipy/pandas/statsmodels behind
it) is imported on first use, so ``import evalkit`` is fast and the command line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from evalkit._version import __version__
from evalkit.errors import (
    ConvergenceError,
    DataWarning,
    DesignError,
    EvalkitError,
    InputError,
    SmallCountWarning,
    StatisticalWarning,
)

# ``verdict`` is both a function and the module defining it: importing the module (as the
# report builder does) would make ``ek.verdict`` the module, so the function is bound here,
# once, before that can happen. evalkit.verdict imports neither numpy nor pandas.
from evalkit.verdict import verdict

if TYPE_CHECKING:  # pragma: no cover - the names as type checkers and IDEs see them
    from evalkit import datasets
    from evalkit.claims import ClaimCheck, check_claim
    from evalkit.cohort import (
        Cohort,
        proven_reoffending,
    )
    from evalkit.cohort_comparison import CohortComparison, compare_cohorts
    from evalkit.economics import ValueForMoney, value_for_money
    from evalkit.engagement import (
        EngagementComparison,
        LandmarkResult,
        engagement_days,
        landmark,
        per_protocol_bias,
        split_engagement,
    )
    from evalkit.io import (
        read_table,
    )
    from evalkit.jdl import (
        JDLResult,
        jdl_outcomes,
    )
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
        ProportionEstimate,
        odds_ratio,
        paired_rate_difference,
        rate_difference,
        rate_ratio,
        wilson_interval,
    )
    from evalkit.results import (
        Estimate,
        TestResult,
    )
    from evalkit.survival import (
        Concordance,
        CoxResult,
        CumulativeIncidenceResult,
        KaplanMeierResult,
        LogRankResult,
        RMSTDifferenceResult,
        RMSTResult,
        cox,
        cumulative_incidence,
        kaplan_meier,
        logrank,
        rmst,
        rmst_difference,
    )
    from evalkit.timeseries import (
        DiDResult,
        ITSResult,
        did,
        its,
    )
    from evalkit.verdict import (
        Diagnostics,
        Measure,
        Verdict,
        verdict,
    )

# public name -> the module that defines it
_LAZY: dict[str, str] = {
    "ClaimCheck": "evalkit.claims",
    "check_claim": "evalkit.claims",
    "CohortComparison": "evalkit.cohort_comparison",
    "compare_cohorts": "evalkit.cohort_comparison",
    "ValueForMoney": "evalkit.economics",
    "value_for_money": "evalkit.economics",
    "EngagementComparison": "evalkit.engagement",
    "LandmarkResult": "evalkit.engagement",
    "engagement_days": "evalkit.engagement",
    "landmark": "evalkit.engagement",
    "per_protocol_bias": "evalkit.engagement",
    "split_engagement": "evalkit.engagement",
    "Concordance": "evalkit.survival",
    "CoxResult": "evalkit.survival",
    "CumulativeIncidenceResult": "evalkit.survival",
    "KaplanMeierResult": "evalkit.survival",
    "LogRankResult": "evalkit.survival",
    "RMSTDifferenceResult": "evalkit.survival",
    "RMSTResult": "evalkit.survival",
    "cox": "evalkit.survival",
    "cumulative_incidence": "evalkit.survival",
    "kaplan_meier": "evalkit.survival",
    "logrank": "evalkit.survival",
    "rmst": "evalkit.survival",
    "rmst_difference": "evalkit.survival",
    "Estimate": "evalkit.results",
    "TestResult": "evalkit.results",
    "Cohort": "evalkit.cohort",
    "proven_reoffending": "evalkit.cohort",
    "read_table": "evalkit.io",
    "JDLResult": "evalkit.jdl",
    "jdl_outcomes": "evalkit.jdl",
    "Balance": "evalkit.matching",
    "MatchResult": "evalkit.matching",
    "MatchedEffect": "evalkit.matching",
    "PropensityScore": "evalkit.matching",
    "WeightResult": "evalkit.matching",
    "balance": "evalkit.matching",
    "match": "evalkit.matching",
    "matched_rate_difference": "evalkit.matching",
    "propensity_score": "evalkit.matching",
    "weight": "evalkit.matching",
    "PilotPlan": "evalkit.power",
    "events_logrank": "evalkit.power",
    "mde_two_proportions": "evalkit.power",
    "n_two_proportions": "evalkit.power",
    "plan_pilot": "evalkit.power",
    "power_two_proportions": "evalkit.power",
    "ComparisonEstimate": "evalkit.proportions",
    "odds_ratio": "evalkit.proportions",
    "ProportionEstimate": "evalkit.proportions",
    "paired_rate_difference": "evalkit.proportions",
    "rate_difference": "evalkit.proportions",
    "rate_ratio": "evalkit.proportions",
    "wilson_interval": "evalkit.proportions",
    "DiDResult": "evalkit.timeseries",
    "ITSResult": "evalkit.timeseries",
    "did": "evalkit.timeseries",
    "its": "evalkit.timeseries",
    "Diagnostics": "evalkit.verdict",
    "Measure": "evalkit.verdict",
    "Verdict": "evalkit.verdict",
}

__all__ = [
    "Balance",
    "ClaimCheck",
    "Cohort",
    "CohortComparison",
    "ComparisonEstimate",
    "Concordance",
    "ConvergenceError",
    "CoxResult",
    "CumulativeIncidenceResult",
    "DataWarning",
    "DesignError",
    "DiDResult",
    "Diagnostics",
    "EngagementComparison",
    "Estimate",
    "EvalkitError",
    "ITSResult",
    "InputError",
    "JDLResult",
    "KaplanMeierResult",
    "LandmarkResult",
    "LogRankResult",
    "MatchResult",
    "MatchedEffect",
    "Measure",
    "PilotPlan",
    "PropensityScore",
    "ProportionEstimate",
    "RMSTDifferenceResult",
    "RMSTResult",
    "SmallCountWarning",
    "StatisticalWarning",
    "TestResult",
    "ValueForMoney",
    "Verdict",
    "WeightResult",
    "__version__",
    "balance",
    "check_claim",
    "compare_cohorts",
    "cox",
    "cumulative_incidence",
    "datasets",
    "did",
    "engagement_days",
    "events_logrank",
    "its",
    "jdl_outcomes",
    "kaplan_meier",
    "landmark",
    "logrank",
    "match",
    "matched_rate_difference",
    "mde_two_proportions",
    "n_two_proportions",
    "odds_ratio",
    "paired_rate_difference",
    "per_protocol_bias",
    "plan_pilot",
    "power_two_proportions",
    "propensity_score",
    "proven_reoffending",
    "rate_difference",
    "rate_ratio",
    "read_table",
    "rmst",
    "rmst_difference",
    "split_engagement",
    "value_for_money",
    "verdict",
    "weight",
    "wilson_interval",
]


def __getattr__(name: str) -> Any:
    if name == "datasets":
        module = importlib.import_module("evalkit.datasets")
        globals()[name] = module
        return module
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
