"""Leicestershire's substance-misuse portfolio as synthetic service data (value for money).

The services and their annual costs are as published in the PCC's report to the Police and
Crime Panel (``SCHEMES.md``, scheme 4); everything else — participants a year, their
reoffending, the true effect of each service and the design of its current evaluation — is
invented, and is the known truth of the synthetic data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OFFENCES_PER_REOFFENDER", "SERVICES", "simulate_portfolio"]

SERVICES = (
    # id, service, provider, annual cost (GBP, published), mean participants a year,
    # one-year proven reoffending without the service, current evaluation, what is reported
    (
        "hill_street",
        "No. 5 Hill Street recovery centre for street drinkers",
        "No. 5 Hill Street",
        34_000,
        60,
        0.55,
        "none",
        "attendance counts",
    ),
    (
        "turning_point",
        "Community and HMP Leicester treatment services",
        "Turning Point (co-commissioned)",
        448_909,
        1_400,
        0.45,
        "before_after",
        "treatment completions and outcomes profile",
    ),
    (
        "oocd_workshop",
        "Out-of-court disposal substance workshop",
        "Turning Point",
        8_307,
        300,
        0.20,
        "none",
        "workshops delivered",
    ),
    (
        "streetvibe",
        "Streetvibe youth diversion",
        "Streetvibe",
        9_500,
        90,
        0.30,
        "none",
        "young people engaged",
    ),
    (
        "lcfc_trust",
        "Leicester City FC Community Trust",
        "Leicester City FC Community Trust",
        10_000,
        150,
        0.25,
        "none",
        "sessions and participants",
    ),
    (
        "dear_albert",
        "Dear Albert recovery support",
        "Dear Albert",
        2_947,
        60,
        0.40,
        "none",
        "people maintaining abstinence",
    ),
)
"""The portfolio's services (costs as published; the rest synthetic)."""

OFFENCES_PER_REOFFENDER = 3.5
"""Mean proven reoffences of a reoffender in a year (as in the person-level model: the first
plus a negative binomial number with mean 2.5)."""

EFFECT_SPREAD = 0.15
"""Standard deviation of the services' true log hazard ratios around log(``effect_hr``)."""


def simulate_portfolio(
    effect_hr: float, gen: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The services table and its truth.

    Participants a year are Poisson around each service's mean; each service's true hazard
    ratio is exp(N(log ``effect_hr``, 0.15²)); with a one-year proven reoffending rate p0
    without the service, the rate with it is 1 − (1 − p0)^HR (proportional hazards over the
    year); the participants' proven reoffenders are binomial at that rate.
    """
    k = len(SERVICES)
    participants = gen.poisson([s[4] for s in SERVICES]).astype(np.int64)
    hr = np.exp(np.log(effect_hr) + EFFECT_SPREAD * gen.standard_normal(k))
    base = np.array([s[5] for s in SERVICES])
    with_service = 1.0 - (1.0 - base) ** hr
    reoffenders = gen.binomial(participants, with_service).astype(np.int64)
    services = pd.DataFrame(
        {
            "service_id": pd.array([s[0] for s in SERVICES], dtype="str"),
            "service": pd.array([s[1] for s in SERVICES], dtype="str"),
            "provider": pd.array([s[2] for s in SERVICES], dtype="str"),
            "annual_cost_gbp": np.array([s[3] for s in SERVICES], dtype=np.int64),
            "participants": participants,
            "reoffenders_12m": reoffenders,
            "evaluation": pd.array([s[6] for s in SERVICES], dtype="str"),
            "reported_outcome": pd.array([s[7] for s in SERVICES], dtype="str"),
        }
    )
    truth: dict[str, float] = {"effect_spread": EFFECT_SPREAD}
    for i, s in enumerate(SERVICES):
        prevented = participants[i] * (base[i] - with_service[i])
        truth |= {
            f"service[{s[0]}].baseline_rate": float(base[i]),
            f"service[{s[0]}].effect_hr": float(hr[i]),
            f"service[{s[0]}].rate_with_service": float(with_service[i]),
            f"service[{s[0]}].reoffenders_prevented": float(prevented),
            f"service[{s[0]}].reoffences_prevented": float(prevented * OFFENCES_PER_REOFFENDER),
        }
    return services, truth
