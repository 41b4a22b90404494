"""Synthetic data shaped like the five schemes evalkit evaluates, with their known truth.

**Everything here is synthetic.** :func:`simulate_scheme` makes person, offence, custody,
death and engagement tables shaped like a Ministry of Justice / Police National Computer
extract for one of the schemes of ``SCHEMES.md`` (Fresh Start, Continuity of Care, DIVERT,
Restart Thames Valley), a monthly service series (Continuity of Care) or a table of services
(the Leicestershire portfolio), and returns the true parameters alongside, so that evalkit's
methods can be checked against a truth known by construction. One small seeded data set per
scheme ships with evalkit (:func:`load_restart` and the others, :func:`scheme_path` for the
folder a TOML configuration points at); their folders carry the synthetic-data marker, so
reports built on them are labelled synthetic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from evalkit._options import check_choice, check_int, check_number, option_error
from evalkit.datasets._portfolio import simulate_portfolio
from evalkit.datasets._scheme_model import FOLLOW_UP_DAYS, simulate_people
from evalkit.datasets._scheme_specs import SPECS
from evalkit.datasets._scheme_truth import meaning
from evalkit.datasets.extracts import UK_COLUMNS, write_extract
from evalkit.datasets.synthetic import ANNUAL_DEATH_RISK, HAZARD_SHAPE, WAITING_DAYS
from evalkit.results import Result

__all__ = [
    "SCHEMES",
    "SCHEME_UK_COLUMNS",
    "SHIPPED",
    "SchemeData",
    "load_continuity_of_care",
    "load_divert",
    "load_fresh_start",
    "load_portfolio",
    "load_restart",
    "load_scheme",
    "scheme_path",
    "simulate_scheme",
    "write_scheme",
]

SCHEMES = ("fresh_start", "continuity_of_care", "divert", "portfolio", "restart")
"""The schemes :func:`simulate_scheme` knows (``SCHEMES.md`` numbers 1–5)."""

SHIPPED: dict[str, dict[str, Any]] = {
    "fresh_start": {"rng": 309},
    "continuity_of_care": {"rng": 2023},
    "divert": {"rng": 2021},
    "portfolio": {"rng": 2024},
    "restart": {"rng": 2022},
}
"""The :func:`simulate_scheme` arguments of the data set shipped for each scheme (its folder is
``evalkit/datasets/<scheme>/``, written by ``tools/make_scheme_data.py``)."""

TABLES = ("people", "offences", "custody", "deaths", "engagement", "monthly", "services")
"""The tables a :class:`SchemeData` can hold, in the order they are written."""

_DATE_COLUMNS = {
    "engagement": ("referral_date", "engagement_start", "engagement_end"),
    "monthly": ("month",),
}
_COHORT_TABLES = ("people", "offences", "custody", "deaths")

_UK_EXTRA = {
    "cohort_period": "Cohort Period",
    "substance_misuse_need": "Substance Misuse Need",
    "area": "Area",
    "referral_date": "Referral Date",
    "engagement_start": "Engagement Start",
    "engagement_end": "Engagement End",
    "completed": "Completed",
    "maintaining_abstinence": "Maintaining Abstinence",
    "month": "Month",
    "referrals": "Referrals",
    "continuing": "Continuing",
    "denominator": "Denominator",
    "post": "Post",
    "claim": "Claim",
}
SCHEME_UK_COLUMNS = {**UK_COLUMNS, **{v: k for k, v in _UK_EXTRA.items()}}
"""``{"Person ID": "person_id", "Referral Date": "referral_date", ...}``: the ``columns``
mapping that reads back the UK-style files :func:`write_scheme` writes."""


@dataclass(frozen=True, eq=False, repr=False)
class SchemeData(Result):
    """A synthetic scheme data set and the truth it was made from.

    Attributes
    ----------
    scheme
        The scheme (one of :data:`SCHEMES`).
    seed
        The integer seed it was made with (``None`` if made from a Generator).
    people, offences, custody, deaths
        The cohort input tables of :func:`evalkit.proven_reoffending` (``None`` for the
        portfolio).
    engagement
        One row per referred person: ``person_id``, ``referral_date``, ``engagement_start``
        and ``engagement_end`` (``NaT`` if never engaged), ``completed`` (``"yes"``/``"no"``;
        missing if never engaged) and, for Fresh Start, ``maintaining_abstinence``.
    monthly
        Continuity of Care's monthly service series: ``month`` (first day), ``referrals``,
        ``continuing`` (started community treatment within three weeks of release),
        ``denominator`` (released with a need), ``post`` (0/1, the scheme running) and
        ``claim`` (``"before"``/``"after"`` on the two months a headline would quote).
    services
        The portfolio's services (``service_id``, ``service``, ``provider``,
        ``annual_cost_gbp``, ``participants``, ``reoffenders_12m``, ``evaluation``,
        ``reported_outcome``).
    truth
        ``{parameter: value}``: the true parameters; :meth:`to_frame` explains each.

    Examples
    --------
    >>> import evalkit as ek
    >>> from evalkit.datasets import simulate_scheme
    >>> data = simulate_scheme("restart", n_people=300, rng=2)
    >>> data  # doctest: +ELLIPSIS
    SchemeData(scheme='restart', seed=2, people=300, offences=..., truth=...)
    >>> cohort = ek.proven_reoffending(**data.cohort())
    >>> len(cohort.data)
    300
    >>> data.to_frame().head(2)[["parameter", "value"]]
             parameter  value
    0        effect_hr   0.85
    1  selection_scale   1.00
    """

    _title: ClassVar[str] = "Synthetic scheme data (known truth)"

    scheme: str
    seed: int | None
    people: pd.DataFrame | None = field(default=None, repr=False)
    offences: pd.DataFrame | None = field(default=None, repr=False)
    custody: pd.DataFrame | None = field(default=None, repr=False)
    deaths: pd.DataFrame | None = field(default=None, repr=False)
    engagement: pd.DataFrame | None = field(default=None, repr=False)
    monthly: pd.DataFrame | None = field(default=None, repr=False)
    services: pd.DataFrame | None = field(default=None, repr=False)
    truth: dict[str, float] = field(default_factory=dict, repr=False)

    def _describe(self) -> list[str]:
        sizes = [f"{k}={len(v)}" for k, v in self.tables().items()]
        return [*super()._describe(), *sizes, f"truth={len(self.truth)}"]

    def to_frame(self) -> pd.DataFrame:
        """The true parameters: one row each, ``parameter``, ``value``, ``meaning``."""
        keys = list(self.truth)
        return pd.DataFrame(
            {
                "parameter": keys,
                "value": [float(self.truth[k]) for k in keys],
                "meaning": [meaning(k, self.scheme) for k in keys],
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The data tables it holds, by name (``people``, ``offences``, …, ``services``)."""
        out = {}
        for name in TABLES:
            df = getattr(self, name)
            if df is not None:
                out[name] = df
        return out

    def cohort(self) -> dict[str, pd.DataFrame]:
        """``people``, ``offences``, ``custody`` and ``deaths``, to pass on as
        ``evalkit.proven_reoffending(**data.cohort())``."""
        if self.people is None:
            raise option_error("scheme", f"the {self.scheme} data set has no people", self.scheme)
        return {k: v for k, v in self.tables().items() if k in _COHORT_TABLES}


def simulate_scheme(
    scheme: str,
    *,
    n_people: int | None = None,
    effect_hr: float | None = None,
    selection: float = 1.0,
    unobserved_selection: float = 0.0,
    engagement: float | None = None,
    base_rate: float | None = None,
    params: Mapping[str, float] | None = None,
    rng: int | np.random.Generator | None = 0,
) -> SchemeData:
    """Simulate one scheme's data with a known truth (synthetic data).

    Parameters
    ----------
    scheme
        ``"fresh_start"``, ``"continuity_of_care"``, ``"divert"``, ``"portfolio"`` or
        ``"restart"`` (:data:`SCHEMES`; ``SCHEMES.md`` describes each).
    n_people
        People in the people table (whole number ≥ 1); default the scheme's size (Restart
        3,000; DIVERT 4,000; Fresh Start 2,800; Continuity of Care 2,700). Not for the
        portfolio, which has services, not people.
    effect_hr
        True hazard ratio of a first proven reoffence from the start of engagement on
        (> 0; 1 = no effect). Default: Restart and DIVERT 0.85, Fresh Start 0.9, Continuity
        of Care 0.8 (continuing treatment); portfolio 0.9 (the centre of the services' true
        hazard ratios).
    selection
        Multiplier (≥ 0) of the scheme's coefficients of selection on observed covariates,
        for referral and for engagement: 1 the scheme's default, 0 random with respect to
        them.
    unobserved_selection
        Strength s ≥ 0 of selection on an unobserved frailty U ~ N(0, 1): the reoffending
        hazard is multiplied by exp(s·U) and the odds of referral and of engagement by
        exp(−s·U), so that people who would reoffend more are less often in the programme
        and engage less. 0: no unobserved confounding.
    engagement
        Expected share, in (0, 1], of referred people who would engage (if no reoffence or
        death comes first). Default Restart 0.8, DIVERT 0.45, Fresh Start 0.65. Continuity of
        Care: the de-seasonalised share continuing treatment before the scheme (default 0.33).
    base_rate
        Expected one-year proven reoffending rate, in (0, 1), of the comparison group (the
        reoffending hazard is calibrated to it). Default Restart 0.57 (custodial sentences
        under 12 months), DIVERT 0.30, Fresh Start 0.40, Continuity of Care 0.50.
    params
        Scheme-specific parameters overriding the defaults: Restart, DIVERT, Fresh Start
        ``programme_share`` (0.2, 0.5, 0.25); Restart and Continuity of Care ``period_hr``
        (1.0; hazard ratio of the after period); Fresh Start ``abstinence`` (0.69);
        Continuity of Care ``level_change`` (1.3), ``trend`` (1.005 a month),
        ``seasonal_amplitude`` (0.12), ``seasonal_peak_month`` (8), ``month_noise_sd``
        (0.05) and ``referral_share`` (0.9).
    rng
        Seed (int) or :class:`numpy.random.Generator`; the result is a deterministic function
        of it.

    Returns
    -------
    SchemeData
        The tables (in the cohort input schema of :func:`evalkit.proven_reoffending`: text
        ``person_id``, dates as ``datetime64[ns]``) and ``truth``, whose
        :meth:`~SchemeData.to_frame` lists and explains every true parameter.

    Notes
    -----
    **People.** Index dates spread uniformly over the scheme period: Restart's pilot
    (releases May 2022 – April 2023, and a before cohort released May 2021 – April 2022);
    DIVERT's first year (diversions or out-of-court disposals from 1 August 2021; no index
    custody); Fresh Start's year (April 2023 – March 2024; 40% released from custody, the rest
    sentenced in the community, ``sentence_length_days`` 0); Continuity of Care's 36 months
    (releases April 2021 – March 2024, the scheme from April 2023, ``cohort_period``
    before/after). Covariates: age 18 + Gamma years, sex, previous offences (negative
    binomial), index sentence (log-normal, median 120 days), ``substance_misuse_need``
    (yes/no) and ``area`` (police or local-authority areas).

    **Selection and engagement.** Referral to the programme is Bernoulli with
    logit p = a + selection · β_sel · x − s·U, a solved so that the mean p over eligible
    people (the after cohort for Restart) is ``programme_share``. A referred person would
    engage with logit probability b + selection · β_eng · x − s·U (b solved for
    ``engagement``); engagement starts some days after referral (DIVERT 5–90 days, Fresh
    Start 3–60, Continuity of Care 1–21 days after release; Restart at the prison gate, so
    on the release date), and only if no proven reoffence and no death comes first — early
    reoffenders cannot engage, the immortal-time trap of "of those engaged" figures.
    Engagement ends at completion or drop-out. Continuity of Care has no referral selection:
    its ``group`` is the period (``"programme"`` after the launch) and the probability of
    continuing treatment in month k is p_k times a person modifier with mean one in every
    month (0.75–1.25, from the engagement score), with

    log p_k = log p0 + log(trend)·(k − 24) + A·cos(2π(m_k − peak)/12) + log(level_change)·P_k
    + ε_k,

    the log-linear model of :func:`evalkit.its` with one harmonic, ε_k month noise with mean
    one on the ratio scale. So the monthly series' true ITS level change is
    ``level_change`` (the loss of would-be continuers to early reoffending or death is the
    same in every month in expectation). The headline "25% → 51%" is made the way headlines
    are: the lowest month of the year before the launch against the highest month of the year
    after it (``claim`` column); ``truth`` splits its log ratio into the scheme, the trend,
    seasonality and chance (the regression to the mean that picking extreme months brings).

    **Reoffending.** The first proven reoffence has hazard
    λ·h0(t)·exp(β·x + s·U)·period_hr^after·``effect_hr``^engaged(t), engaged(t) = 1 from the
    engagement start on, h0 piecewise constant (1.6, 1.0, 0.7 before day 91, to day 182,
    after), β as in :func:`~evalkit.datasets.simulate_reoffending` plus 0.3 for a
    substance-misuse need and small area effects; death has a constant hazard (1% a year).
    With d = ``engagement_start`` − ``index_date`` in days, the hazard changes at time d: in
    counting-process form a person is not engaged over (0, d] and engaged over (d, time]; a
    first offence on or before day d (or a death) prevents engagement.
    λ is solved so that the mean closed-form probability of a proven reoffence within a year
    (before death) over the comparison group equals ``base_rate``. Offence, custody and
    death records around it come from the same generator as
    :func:`~evalkit.datasets.simulate_reoffending` (further reoffences, non-proven disposals,
    late convictions, recalls, sentences); DIVERT's first reoffences within 182 days are
    also proven within 182 days more, so its six-month measure has the same truth.

    **Truth.** Besides the parameters, ``truth`` holds closed-form expected rates
    conditional on the people drawn (their covariates, frailty, referral and would-be
    engagement): the comparison group's (= ``base_rate``), the programme group's with and
    without the effect and their difference (the true intention-to-treat effect on the
    referred), the after cohort's with and without the scheme (the true case-mix-adjusted
    before/after difference), at 365 days and, for DIVERT, 182 days; and counts, such as
    the people whose engagement an early reoffence prevented.

    **Portfolio.** The six services with their published annual costs; participants,
    reoffenders and each service's true effect are synthetic (see ``truth``).

    **When not to use.** For demonstrating and testing methods only: the numbers are not
    estimates of anything about the real schemes or people, and reports using them must say
    so (the shipped folders carry the synthetic-data marker).

    References
    ----------
    Ministry of Justice (2019). *Guide to Proven Reoffending Statistics*. London: Ministry of
    Justice. Office for Health Improvement and Disparities: *Continuity of care* indicator
    (adults engaging in community treatment within three weeks of release from prison).

    Examples
    --------
    >>> from evalkit.datasets import simulate_scheme
    >>> data = simulate_scheme("divert", n_people=500, rng=1)
    >>> sorted(data.tables())
    ['custody', 'deaths', 'engagement', 'offences', 'people']
    >>> list(data.engagement.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['person_id', 'referral_date', 'engagement_start', 'engagement_end', 'completed']
    >>> data.truth["effect_hr"], data.truth["base_rate"]
    (0.85, 0.3)
    >>> t = data.to_frame().set_index("parameter")
    >>> print(round(t.loc["rate_comparison_365", "value"], 6))
    0.3
    """
    scheme = check_choice(scheme, "scheme", SCHEMES)
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    gen = np.random.default_rng(rng)
    if scheme == "portfolio":
        return _simulate_portfolio(
            n_people, effect_hr, selection, unobserved_selection, engagement, base_rate, params,
            gen, seed,
        )  # fmt: skip
    spec = SPECS[scheme]
    n = spec.n_people if n_people is None else check_int(n_people, "n_people", minimum=1)
    hr = spec.effect_hr if effect_hr is None else _positive(effect_hr, "effect_hr")
    sel = check_number(selection, "selection", minimum=0.0)
    s = check_number(unobserved_selection, "unobserved_selection", minimum=0.0)
    eng = spec.engagement if engagement is None else _share(engagement, "engagement")
    rate = spec.base_rate if base_rate is None else _share(base_rate, "base_rate", open_=True)
    defaults = dict(spec.options)
    if scheme != "continuity_of_care":
        defaults["programme_share"] = spec.programme_share
    opts = _params(params, defaults, scheme)
    tables, truth = simulate_people(
        spec, n=n, effect_hr=hr, selection=sel, unobserved=s, engagement=eng, base_rate=rate,
        opts=opts, gen=gen,
    )  # fmt: skip
    head = {
        "effect_hr": hr,
        "selection_scale": sel,
        "unobserved_selection": s,
        "engagement": eng,
        "base_rate": rate,
        **opts,
        "annual_death_risk": ANNUAL_DEATH_RISK,
        "follow_up_days": float(FOLLOW_UP_DAYS),
        "waiting_days": float(WAITING_DAYS),
        "hazard_shape[1-91]": HAZARD_SHAPE[0],
        "hazard_shape[92-182]": HAZARD_SHAPE[1],
        "hazard_shape[183-365]": HAZARD_SHAPE[2],
    }
    return SchemeData(scheme=scheme, seed=seed, **tables, truth={**head, **truth})


def _simulate_portfolio(
    n_people: Any,
    effect_hr: Any,
    selection: Any,
    unobserved_selection: Any,
    engagement: Any,
    base_rate: Any,
    params: Any,
    gen: np.random.Generator,
    seed: int | None,
) -> SchemeData:
    given = {
        "n_people": n_people is not None,
        "selection": selection != 1.0,
        "unobserved_selection": unobserved_selection != 0.0,
        "engagement": engagement is not None,
        "base_rate": base_rate is not None,
        "params": bool(params),
    }
    for name, bad in given.items():
        if bad:
            raise option_error(name, "does not apply to the portfolio (a table of services)")
    hr = 0.9 if effect_hr is None else _positive(effect_hr, "effect_hr")
    services, truth = simulate_portfolio(hr, gen)
    return SchemeData(
        scheme="portfolio", seed=seed, services=services, truth={"effect_hr": hr, **truth}
    )


def _positive(value: Any, name: str) -> float:
    return check_number(value, name, minimum=0.0, strict=True)


def _share(value: Any, name: str, *, open_: bool = False) -> float:
    x = check_number(value, name, minimum=0.0, maximum=1.0)
    if x == 0.0 or (open_ and x == 1.0):
        rule = "strictly between 0 and 1" if open_ else "above 0 and at most 1"
        raise option_error(name, f"must be a proportion {rule}", value)
    return x


def _params(
    params: Mapping[str, float] | None, defaults: dict[str, float], scheme: str
) -> dict[str, float]:
    if params is None:
        return defaults
    if not isinstance(params, Mapping):
        raise option_error("params", "must be a mapping of parameter names to numbers", params)
    out = dict(defaults)
    for key, value in params.items():
        if key not in defaults:
            valid = ", ".join(repr(k) for k in defaults) or "none"
            raise option_error("params", f"{key!r} is not a parameter of {scheme} (valid: {valid})")
        name = f"params[{key!r}]"
        if key in ("programme_share", "referral_share", "abstinence"):
            out[key] = _share(value, name, open_=key == "abstinence")
        elif key == "seasonal_peak_month":
            out[key] = check_number(value, name, minimum=1.0, maximum=12.0)
        elif key in ("seasonal_amplitude", "month_noise_sd"):
            out[key] = check_number(value, name, minimum=0.0)
        else:
            out[key] = _positive(value, name)
    return out


# --------------------------------------------------------------------------------------------
# Shipped data sets
# --------------------------------------------------------------------------------------------


def scheme_path(scheme: str) -> Path:
    """The folder of the synthetic data set shipped for ``scheme`` (for a TOML ``[data]``).

    Examples
    --------
    >>> from evalkit.datasets import scheme_path
    >>> folder = scheme_path("divert")
    >>> sorted(p.name for p in folder.glob("*.csv"))  # doctest: +NORMALIZE_WHITESPACE
    ['custody.csv', 'deaths.csv', 'engagement.csv', 'offences.csv', 'people.csv',
     'truth.csv']
    """
    scheme = check_choice(scheme, "scheme", SCHEMES)
    return Path(str(resources.files(__package__).joinpath(scheme)))


def load_scheme(scheme: str) -> SchemeData:
    """The synthetic data set shipped for ``scheme``, with its truth (see :func:`load_restart`).

    Examples
    --------
    >>> from evalkit.datasets import load_scheme
    >>> load_scheme("portfolio").services["annual_cost_gbp"].sum()
    np.int64(513663)
    """
    from evalkit.io import read_table

    folder = scheme_path(scheme)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        if name in _COHORT_TABLES:
            tables[name] = read_table(path, table=name)
        else:
            dates = {c: "%Y-%m-%d" for c in _DATE_COLUMNS.get(name, ())}
            tables[name] = read_table(path, date_format=dates or None)
    truth = pd.read_csv(folder / "truth.csv")
    return SchemeData(
        scheme=scheme,
        seed=SHIPPED[scheme]["rng"],
        **tables,
        truth=dict(zip(truth["parameter"], truth["value"].astype(float), strict=True)),
    )


def load_restart() -> SchemeData:
    """Synthetic Restart Thames Valley data (3,000 prison leavers, seed 2022) and its truth.

    People released from prison to Thames Valley: a before cohort (May 2021 – April 2022) and
    the pilot year (May 2022 – April 2023), in which about 20% were referred to Restart
    (``group`` ``"programme"``; selected on sex, sentence length, need and previous
    offences); 80% of them engaged at the gate; the comparison group's one-year proven
    reoffending is 57%, as for custodial sentences under 12 months; engagement lowers the
    hazard by a hazard ratio of 0.85. See :func:`simulate_scheme` for the model and
    ``evalkit/datasets/restart/README.md`` for the truth.

    Examples
    --------
    >>> from evalkit.datasets import load_restart
    >>> data = load_restart()
    >>> len(data.people), sorted(data.people["cohort_period"].unique())
    (3000, ['after', 'before'])
    """
    return load_scheme("restart")


def load_divert() -> SchemeData:
    """Synthetic DIVERT data (4,000 people found in possession, seed 2021) and its truth.

    Out-of-court: the index date is the diversion date (``group`` ``"programme"``) or the
    caution for those not diverted, from 1 August 2021 over a year, in four West Midlands
    force areas; 45% of those diverted would engage in the virtual sessions, which start 5–90
    days later (so early reoffenders cannot engage); six-month and one-year horizons; the
    comparison group's one-year proven reoffending is 30%.

    Examples
    --------
    >>> from evalkit.datasets import load_divert
    >>> data = load_divert()
    >>> int(data.engagement["engagement_start"].notna().sum()) < len(data.engagement)
    True
    """
    return load_scheme("divert")


def load_fresh_start() -> SchemeData:
    """Synthetic Fresh Start data (2,800 people, seed 309) and its truth.

    People leaving prison or sentenced in the community in Leicester, Leicestershire and
    Rutland (April 2023 – March 2024); about a quarter referred to Fresh Start; the
    engagement table says who is ``maintaining_abstinence`` (the published claim is a count
    of 309 with no denominator: here ``truth["n_referred"]`` is the denominator).

    Examples
    --------
    >>> from evalkit.datasets import load_fresh_start
    >>> data = load_fresh_start()
    >>> int((data.engagement["maintaining_abstinence"] == "yes").sum()) == int(
    ...     data.truth["n_maintaining_abstinence"])
    True
    """
    return load_scheme("fresh_start")


def load_continuity_of_care() -> SchemeData:
    """Synthetic Continuity of Care data (2,700 prison leavers, seed 2023) and its truth.

    Releases with a substance-misuse need from April 2021 to March 2024, the scheme from April
    2023 (``cohort_period``); the ``monthly`` series of referrals, people continuing treatment
    within three weeks and the denominator, with seasonality, a trend and a true level change
    of 1.3 (``truth``); the months a headline would quote are marked in its ``claim`` column.

    Examples
    --------
    >>> from evalkit.datasets import load_continuity_of_care
    >>> data = load_continuity_of_care()
    >>> len(data.monthly), int(data.monthly["denominator"].sum()) == len(data.people)
    (36, True)
    """
    return load_scheme("continuity_of_care")


def load_portfolio() -> SchemeData:
    """Synthetic Leicestershire substance-misuse portfolio (six services, seed 2024).

    The services and annual costs are as published; participants, reoffenders and the true
    effects (``truth``) are synthetic.

    Examples
    --------
    >>> from evalkit.datasets import load_portfolio
    >>> load_portfolio().services[["service_id", "annual_cost_gbp"]].head(2)
          service_id  annual_cost_gbp
    0    hill_street            34000
    1  turning_point           448909
    """
    return load_scheme("portfolio")


def write_scheme(
    data: SchemeData | Mapping[str, pd.DataFrame],
    folder: str | os.PathLike[str],
    *,
    style: str = "iso",
) -> dict[str, Path]:
    """Write a scheme's tables (and its truth) to ``folder``; return each file's path.

    Parameters
    ----------
    data
        A :class:`SchemeData`, or ``{"people": ..., ...}``.
    folder
        Where to write (created). It gets the synthetic-data marker: do not write real data
        with this function.
    style
        ``"iso"``: ``people.csv`` etc. with evalkit's headers and ISO dates (as shipped).
        ``"uk"``: ``People.csv`` etc. with headers in words and dates as ``dd/mm/yyyy``;
        read back with ``read_table(path, columns=SCHEME_UK_COLUMNS,
        date_format="%d/%m/%Y")``. ``"xlsx"``: Excel workbooks with UK headers.
        See :func:`evalkit.datasets.write_extract`.

    Examples
    --------
    >>> import tempfile
    >>> from evalkit.datasets import simulate_scheme, write_scheme
    >>> paths = write_scheme(simulate_scheme("restart", n_people=50), tempfile.mkdtemp(),
    ...                      style="uk")
    >>> sorted(p.name for p in paths.values())  # doctest: +NORMALIZE_WHITESPACE
    ['Custody.csv', 'Deaths.csv', 'Engagement.csv', 'Offences.csv', 'People.csv',
     'truth.csv']
    """
    style = check_choice(style, "style", ("iso", "uk", "xlsx"))
    tables = data.tables() if isinstance(data, SchemeData) else dict(data)
    if style != "iso":
        tables = {k: v.rename(columns=_UK_EXTRA) for k, v in tables.items()}
    paths = write_extract(tables, folder, style=style)
    if isinstance(data, SchemeData):
        truth = data.to_frame()
        truth["value"] = [f"{v:.10g}" for v in truth["value"]]
        paths["truth"] = Path(folder) / "truth.csv"
        truth.to_csv(paths["truth"], index=False, lineterminator="\n")
    return paths
