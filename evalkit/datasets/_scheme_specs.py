"""What differs between the synthetic schemes: one :class:`Spec` per scheme with people.

Values are invented to resemble the published shape of each scheme (``SCHEMES.md``); they are
the known truth of the synthetic data, not estimates about real people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SELECTION_TERMS", "SPECS", "Spec"]


@dataclass(frozen=True)
class Spec:
    """What one scheme's synthetic people look like (see ``SPECS`` for the values)."""

    name: str
    prefix: str  # person_id prefix
    n_people: int
    start: str  # first index date of the scheme period
    days: int  # length of the scheme period
    before_days: int  # length of the before-period cohort's window (0: no such cohort)
    custodial_share: float  # share whose index event is release from custody
    age: tuple[float, float]  # 18 + Gamma(shape, scale) years
    female_share: float
    prior_mean: float
    need_share: float  # share with a substance-misuse need
    areas: tuple[str, ...] = ()
    area_p: tuple[float, ...] = ()
    area_log_hr: tuple[float, ...] = ()
    selection: Mapping[str, float] = field(default_factory=dict)  # log odds of referral
    engagement_selection: Mapping[str, float] = field(default_factory=dict)
    programme_share: float = 0.5
    engagement: float = 0.5
    referral_lag: tuple[int, int] = (0, 1)  # referral day relative to the index date
    delay: tuple[int, int, float] = (0, 0, 1.0)  # engagement start: min, max days, mean
    programme_days: int = 90  # length of the programme for those who complete it
    completion: float = 0.7
    base_rate: float = 0.45
    effect_hr: float = 0.85
    short_horizon: int | None = None
    index_lag: tuple[int, int] = (20, 151)
    options: Mapping[str, float] = field(default_factory=dict)  # scheme-specific parameters


SPECS: dict[str, Spec] = {
    "restart": Spec(
        name="restart",
        prefix="RT",
        n_people=3000,
        start="2022-05-01",
        days=365,
        before_days=365,
        custodial_share=1.0,
        age=(2.5, 6.0),
        female_share=0.12,
        prior_mean=12.0,
        need_share=0.55,
        areas=("Berkshire", "Buckinghamshire", "Oxfordshire"),
        area_p=(0.45, 0.30, 0.25),
        area_log_hr=(0.0, -0.08, 0.05),
        selection={
            "age": -0.01,
            "female": 0.6,
            "log1p_prior_offences": 0.1,
            "sentence_length_days": -0.002,
            "substance_misuse_need": 0.3,
        },
        engagement_selection={"age": 0.02, "female": 0.3, "log1p_prior_offences": -0.3},
        programme_share=0.2,
        engagement=0.8,
        referral_lag=(-90, -13),
        delay=(0, 0, 1.0),
        programme_days=180,
        completion=0.6,
        base_rate=0.57,
        effect_hr=0.85,
        options={"period_hr": 1.0},
    ),
    "divert": Spec(
        name="divert",
        prefix="DV",
        n_people=4000,
        start="2021-08-01",
        days=365,
        before_days=0,
        custodial_share=0.0,
        age=(2.0, 5.0),
        female_share=0.12,
        prior_mean=3.0,
        need_share=0.5,
        areas=("Staffordshire", "Warwickshire", "West Mercia", "West Midlands"),
        area_p=(0.15, 0.10, 0.30, 0.45),
        area_log_hr=(0.0, -0.05, -0.05, 0.10),
        selection={
            "age": -0.01,
            "female": 0.2,
            "log1p_prior_offences": -0.6,
            "substance_misuse_need": 0.4,
            "area[West Mercia]": 0.5,
            "area[West Midlands]": -0.2,
        },
        engagement_selection={"age": 0.03, "log1p_prior_offences": -0.4},
        programme_share=0.5,
        engagement=0.45,
        delay=(5, 90, 14.0),
        programme_days=42,
        completion=0.8,
        base_rate=0.30,
        effect_hr=0.85,
        short_horizon=182,
        index_lag=(0, 8),
    ),
    "fresh_start": Spec(
        name="fresh_start",
        prefix="FS",
        n_people=2800,
        start="2023-04-01",
        days=366,
        before_days=0,
        custodial_share=0.4,
        age=(2.5, 6.5),
        female_share=0.2,
        prior_mean=10.0,
        need_share=0.9,
        areas=("Leicester", "Leicestershire", "Rutland"),
        area_p=(0.50, 0.45, 0.05),
        area_log_hr=(0.0, -0.1, -0.15),
        selection={
            "age": 0.01,
            "female": 0.3,
            "log1p_prior_offences": -0.2,
            "substance_misuse_need": 2.0,
            "area[Leicestershire]": -0.3,
            "area[Rutland]": -0.5,
        },
        engagement_selection={"age": 0.02, "log1p_prior_offences": -0.3},
        programme_share=0.25,
        engagement=0.65,
        delay=(3, 60, 10.0),
        programme_days=84,
        completion=0.6,
        base_rate=0.40,
        effect_hr=0.9,
        options={"abstinence": 0.69},
    ),
    "continuity_of_care": Spec(
        name="continuity_of_care",
        prefix="CC",
        n_people=2700,
        start="2023-04-01",
        days=366,
        before_days=730,
        custodial_share=1.0,
        age=(2.5, 6.0),
        female_share=0.08,
        prior_mean=14.0,
        need_share=1.0,
        engagement_selection={"age": 0.03, "log1p_prior_offences": -0.5},
        engagement=0.33,
        referral_lag=(-42, -6),
        delay=(1, 21, 6.0),
        programme_days=180,
        completion=0.5,
        base_rate=0.50,
        effect_hr=0.8,
        options={
            "level_change": 1.3,
            "trend": 1.005,
            "seasonal_amplitude": 0.12,
            "seasonal_peak_month": 8.0,
            "month_noise_sd": 0.05,
            "referral_share": 0.9,
            "period_hr": 1.0,
        },
    ),
}
"""The schemes with people, by name."""


SELECTION_TERMS = (
    "age",
    "female",
    "log1p_prior_offences",
    "sentence_length_days",
    "substance_misuse_need",
)
"""Covariate terms of the selection and hazard models (plus ``area[level]`` indicators):
age in years minus 33, 1 for women, log(1 + previous offences), index sentence in days (0 for
a non-custodial index event) and 1 for a substance-misuse need."""
