"""What each true parameter of a synthetic scheme data set means (``SchemeData.to_frame``)."""

from __future__ import annotations

__all__ = ["meaning"]

_MEANINGS = {
    "effect_hr": "hazard ratio of a first proven reoffence from the start of engagement on",
    "selection_scale": "multiplier of the default selection coefficients (0 = random)",
    "unobserved_selection": "s: a 1-SD frailty multiplies the hazard by exp(s) and the odds "
    "of referral and of engagement by exp(-s)",
    "programme_share": "expected share of eligible people referred to the programme",
    "engagement": "expected share of referred people who would engage",
    "base_rate": "target one-year proven reoffending rate of the comparison group",
    "baseline_hazard_per_day": "daily hazard (days 91-182) of a 33-year-old man, no previous "
    "offences, no custodial sentence, no need, first area",
    "annual_death_risk": "probability of dying within a year (independent of everything)",
    "follow_up_days": "follow-up of the reoffending model (days)",
    "waiting_days": "waiting period within which first proven reoffences are disposed of",
    "period_hr": "hazard ratio of the after period vs the before period (secular change)",
    "abstinence": "probability of maintaining abstinence if engaged (average, approximately)",
    "level_change": "true ITS level change: ratio of the expected continuation proportion "
    "with vs without the scheme",
    "trend": "true monthly trend: ratio of the expected continuation proportion per month",
    "seasonal_amplitude": "amplitude A of the seasonal term A cos(2 pi (month - peak)/12) on "
    "the log scale",
    "seasonal_peak_month": "calendar month (1-12) of the seasonal peak",
    "month_noise_sd": "SD of the month-level log-normal noise of the continuation proportion",
    "referral_share": "share of prison leavers with a need referred to community treatment",
    "n_people": "people in the people table",
    "n_referred": "people referred to the programme",
    "n_would_engage": "referred people who would engage if not prevented",
    "n_engaged": "people who engaged (the engagement table's non-missing starts)",
    "n_engagement_prevented": "would-be engagers whose reoffence or death came first "
    "(immortal time: early reoffenders cannot engage)",
    "n_maintaining_abstinence": "engaged people maintaining abstinence (the published 309)",
    "claim_before_rate": "claim: lowest monthly continuation in the 12 months before launch",
    "claim_after_rate": "claim: highest monthly continuation in the 12 months after launch",
    "claim_log_ratio": "log(after / before) of the claimed rise",
    "claim_part_scheme": "part of the log ratio due to the scheme (log level_change)",
    "claim_part_trend": "part due to the underlying trend",
    "claim_part_seasonality": "part due to seasonality (the two months' seasonal terms)",
    "claim_part_chance": "the rest: month noise, binomial sampling and picking the extreme "
    "months (regression to the mean)",
    "effect_spread": "SD of the services' true log hazard ratios around log(effect_hr)",
}
_SCHEME_MEANINGS = {
    ("portfolio", "effect_hr"): "centre of the services' true hazard ratios",
    ("continuity_of_care", "effect_hr"): "hazard ratio of a first proven reoffence from the "
    "start of community treatment on",
    ("continuity_of_care", "engagement"): "p0: share continuing treatment before the scheme, "
    "de-seasonalised, at the launch month (trend extrapolated)",
    ("continuity_of_care", "n_referred"): "people referred to community treatment",
    ("fresh_start", "n_referred"): "people referred to Fresh Start: the unpublished "
    "denominator of the published count",
}
_PATTERNS = {
    "rate_comparison_": "expected proven reoffending of the comparison group within {h} days",
    "rate_programme_no_effect_": "expected proven reoffending of the programme group within "
    "{h} days had engagement no effect",
    "rate_programme_": "expected proven reoffending of the programme group (intention to "
    "treat) within {h} days",
    "effect_rate_difference_": "true effect of referral on the referred (ITT, programme "
    "group): rate with minus rate without the programme's effect, {h} days",
    "rate_after_no_scheme_": "expected rate of the after cohort without the scheme and with "
    "before-period conditions, {h} days",
    "rate_after_": "expected proven reoffending of the after cohort within {h} days",
    "before_after_difference_": "true case-mix-adjusted before/after difference: after "
    "cohort's expected rate minus its rate under before-period conditions, {h} days",
}


def meaning(key: str, scheme: str = "") -> str:
    """What the true parameter ``key`` of ``scheme`` means, in words."""
    if (scheme, key) in _SCHEME_MEANINGS:
        return _SCHEME_MEANINGS[scheme, key]
    if key in _MEANINGS:
        return _MEANINGS[key]
    for prefix, text in _PATTERNS.items():
        if key.startswith(prefix):
            return text.format(h=key.rsplit("_", 1)[-1])
    term = key[key.find("[") + 1 : -1] if "[" in key else key
    if key.startswith("hazard["):
        return f"log hazard ratio of {term} for the first proven reoffence"
    if key.startswith("selection["):
        return f"log odds ratio of {term} for referral to the programme"
    if key.startswith("engagement_selection["):
        return f"log odds ratio of {term} for engaging, once referred"
    if key.startswith("service["):
        what = key.rsplit(".", 1)[-1].replace("_", " ")
        return f"{key[8 : key.index(']')]}: true {what} (one year)"
    if key.startswith("hazard_shape["):
        return "relative baseline hazard over these days after the index date"
    return ""
