"""The person-level model behind :func:`evalkit.datasets.simulate_scheme` (synthetic data).

One model serves the four schemes with people (Fresh Start, Continuity of Care, DIVERT,
Restart); :class:`Spec` holds what differs between them. The record generator (offences,
custody spells, deaths) is :func:`evalkit.datasets.synthetic._records`, shared with
:func:`~evalkit.datasets.simulate_reoffending`. Everything is vectorised with numpy (no loop
over people) and a deterministic function of the generator passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

from evalkit.datasets._scheme_specs import Spec
from evalkit.datasets.synthetic import (
    _CAUTION,
    _CONVICTION,
    ANNUAL_DEATH_RISK,
    LOG_HR,
    WAITING_DAYS,
    _covariates,
    _dates,
    _ids,
    _pieces,
    _record_frames,
    _records,
    _sample_first,
    _truncated_delay,
)

__all__ = ["FOLLOW_UP_DAYS", "simulate_people"]

FOLLOW_UP_DAYS = 365
"""Follow-up (days) over which first proven reoffences are generated; the MoJ one year."""

_COMMUNITY_RESOLUTION = 3  # position of "community_resolution" in synthetic._CODES


NEED_LOG_HR = 0.3
"""Log hazard ratio of a substance-misuse need for the first proven reoffence."""

ENGAGEMENT_SPREAD = 0.25
"""Continuity of Care: an engagement modifier 1 + 0.25·tanh(selection score) (0.75–1.25)."""


def _design(spec: Spec, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The terms as float arrays, area indicators against the first area."""
    x = {
        "age": cols["age"] - 33.0,
        "female": cols["female"].astype(float),
        "log1p_prior_offences": np.log1p(cols["prior"]),
        "sentence_length_days": cols["sentence"].astype(float),
        "substance_misuse_need": cols["need"].astype(float),
    }
    for j, name in enumerate(spec.areas[1:], start=1):
        x[f"area[{name}]"] = (cols["area"] == j).astype(float)
    return x


def _score(x: dict[str, np.ndarray], coefs: Mapping[str, float], scale: float) -> np.ndarray:
    n = len(x["age"])
    out = np.zeros(n)
    for term, b in coefs.items():
        out += scale * b * x[term]
    return out


def _intercept(lin: np.ndarray, target: float) -> float:
    """a such that mean(expit(a + lin)) = target (1 → +∞ is capped at a large value)."""
    if len(lin) == 0:
        return 0.0
    if target >= 1.0:
        return 50.0
    return float(brentq(lambda a: float(expit(a + lin).mean()) - target, -60.0, 60.0))


def cum_baseline(t: np.ndarray, f_days: int = FOLLOW_UP_DAYS) -> np.ndarray:
    """Cumulative baseline hazard H0(t) (per unit λ) of the piecewise-constant shape."""
    lo, length, shape, _ = _pieces(f_days)
    t = np.asarray(t, dtype=float)
    out = np.zeros(t.shape)
    for a_j, l_j, c_j in zip(lo, length, shape, strict=True):
        out += c_j * np.clip(t - a_j, 0.0, l_j)
    return out


def event_probability(
    lam: float,
    risk: np.ndarray,
    switch: np.ndarray,
    effect_hr: float,
    horizon: int = FOLLOW_UP_DAYS,
) -> np.ndarray:
    """P(first proven reoffence by day ``horizon``, before death), per person, closed form.

    The hazard is λ·risk·h0(t) before day ``switch`` and λ·risk·h0(t)·``effect_hr`` after it
    (``inf``: never); death has the constant hazard μ of :data:`ANNUAL_DEATH_RISK`. Over each
    stretch [s, s + L) with constant hazard h the contribution is
    S(s)·h/(h + μ)·(1 − exp(−(h + μ)L)), S(s) = exp(−λ·risk·G(s) − μs), where G is the
    cumulative baseline with the effect applied after the switch.
    """
    mu = -np.log1p(-ANNUAL_DEATH_RISK) / 365.0
    lo, length, shape, cum = _pieces(horizon)
    e = np.minimum(np.asarray(switch, dtype=float), float(horizon))
    rate = lam * np.asarray(risk, dtype=float)
    on = np.flatnonzero(e < horizon)  # people whose hazard changes within the horizon
    e_on, rate_on = e[on], rate[on]
    h_e = cum_baseline(e_on, horizon)
    out = np.zeros(len(rate))
    for a_j, l_j, c_j, cum_j in zip(lo, length, shape, cum, strict=True):
        if l_j <= 0:
            continue
        b_j = a_j + l_j
        e1 = np.full(len(rate), b_j)
        e1[on] = np.clip(e_on, a_j, b_j)  # end of the stretch before the switch
        h1 = rate * c_j
        out += (
            np.exp(-rate * cum_j - mu * a_j) * h1 / (h1 + mu) * -np.expm1(-(h1 + mu) * (e1 - a_j))
        )
        e1_on = e1[on]
        h2 = rate_on * c_j * effect_hr
        g2 = h_e + effect_hr * (cum_j + c_j * (e1_on - a_j) - h_e)
        out[on] += (
            np.exp(-rate_on * g2 - mu * e1_on)
            * h2
            / (h2 + mu)
            * -np.expm1(-(h2 + mu) * (b_j - e1_on))
        )
    return out


def _calibrate(risk: np.ndarray, switch: np.ndarray, effect_hr: float, base_rate: float) -> float:
    """λ such that the mean closed-form one-year probability over ``risk`` is ``base_rate``.

    Solved first on every k-th person (k making about 50,000), then on everyone within a
    narrow bracket around that solution: the answer is the full solution, found in fewer
    evaluations over millions of people.
    """

    def gap(log_lam: float, r: np.ndarray, e: np.ndarray) -> float:
        p = event_probability(float(np.exp(log_lam)), r, e, effect_hr)
        return float(p.mean()) - base_rate

    lo, hi = -40.0, 20.0
    step = len(risk) // 50_000
    if step > 1:
        guess = brentq(gap, lo, hi, args=(risk[::step], switch[::step]), xtol=1e-6)
        if gap(guess - 0.05, risk, switch) < 0 < gap(guess + 0.05, risk, switch):
            lo, hi = guess - 0.05, guess + 0.05
    return float(np.exp(brentq(gap, lo, hi, args=(risk, switch), xtol=1e-12)))


def _monthly_probability(
    opts: Mapping[str, float],
    p0: float,
    first_month: int,
    launch: int,
    noise: np.ndarray,
    scheme_on: bool,
) -> np.ndarray:
    """Continuity of Care: expected share continuing treatment in months 0, 1, … of the series.

    log p_k = log p0 + log(trend)·(k − launch) + A·cos(2π(m_k − peak)/12) + ε_k
    [+ log(level_change) from the launch], m_k the calendar month (1–12) of month k,
    ``first_month`` that of month 0, ε_k the month's noise (mean-one on the ratio scale).
    """
    k = np.arange(len(noise))
    moy = (first_month - 1 + k) % 12 + 1
    log_p = (
        np.log(p0)
        + np.log(opts["trend"]) * (k - launch)
        + opts["seasonal_amplitude"] * np.cos(2 * np.pi * (moy - opts["seasonal_peak_month"]) / 12)
        + noise
    )
    if scheme_on:
        log_p = log_p + np.log(opts["level_change"]) * (k >= launch)
    return np.exp(log_p)


def simulate_people(
    spec: Spec,
    *,
    n: int,
    effect_hr: float,
    selection: float,
    unobserved: float,
    engagement: float,
    base_rate: float,
    opts: Mapping[str, float],
    gen: np.random.Generator,
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """The tables of one scheme and its truth (see ``simulate_scheme`` for the model)."""
    s = unobserved
    start_day = int(pd.Timestamp(spec.start).value // 86_400_000_000_000)
    f_days, w_days = FOLLOW_UP_DAYS, WAITING_DAYS
    coc = spec.name == "continuity_of_care"

    # ---- people --------------------------------------------------------------------------------
    age, female, prior, sentence = _covariates(
        gen,
        n,
        age_shape=spec.age[0],
        age_scale=spec.age[1],
        female_share=spec.female_share,
        prior_mean=spec.prior_mean,
    )
    custodial = gen.random(n) < spec.custodial_share
    sentence = np.where(custodial, sentence, 0)
    need = gen.random(n) < spec.need_share
    area = gen.choice(len(spec.areas), size=n, p=spec.area_p) if spec.areas else np.zeros(n, int)
    frailty = gen.standard_normal(n)
    index_day = start_day - spec.before_days + gen.integers(0, spec.before_days + spec.days, n)
    after = index_day >= start_day
    cols = {"age": age, "female": female, "prior": prior, "sentence": sentence, "need": need}
    x = _design(spec, {**cols, "area": area})

    # ---- referral into the programme --------------------------------------------------------
    u_ref = gen.random(n)
    referral_day = gen.integers(*spec.referral_lag, n)
    if coc:  # the programme is the period; everyone with a need can be referred for treatment
        programme = after
        referred = u_ref < opts["referral_share"]
    else:
        eligible = after if spec.before_days else np.ones(n, bool)
        lin = _score(x, spec.selection, selection) - s * frailty
        a = _intercept(lin[eligible], opts["programme_share"])
        programme = eligible & (u_ref < expit(a + lin))
        referred = programme

    # ---- engagement: starts some days after referral (and release) --------------------------
    u_eng = gen.random(n)
    lo_d, hi_d, mean_d = spec.delay
    start_eng = (
        np.maximum(referral_day, 0) + lo_d + _truncated_delay(gen, np.full(n, hi_d - lo_d), mean_d)
    )
    complete = gen.random(n) < spec.completion
    u_dur = gen.random(n)
    extra = gen.integers(0, spec.programme_days // 4 + 1, n)
    lin_e = _score(x, spec.engagement_selection, selection) - s * frailty
    if coc:
        launch = spec.before_days // 30  # months of the series before the scheme (24)
        n_months = launch + 12
        month = _month_index(index_day, start_day, launch)
        sd = opts["month_noise_sd"]
        noise = gen.normal(-(sd**2) / 2, sd, n_months)
        first_month = (pd.Timestamp(spec.start) - pd.DateOffset(months=launch)).month
        modifier = 1.0 + ENGAGEMENT_SPREAD * np.tanh(lin_e - lin_e.mean())
        counts = np.maximum(np.bincount(month, None, n_months), 1)
        per_month = np.bincount(month, modifier, n_months) / counts
        modifier /= per_month[month]  # mean one in every month
        share = modifier / opts["referral_share"]
        p_on = _monthly_probability(opts, engagement, first_month, launch, noise, True)
        p_off = _monthly_probability(opts, engagement, first_month, launch, noise, False)
        q = np.minimum(p_on[month] * share, 1.0)
        q_cf = np.minimum(p_off[month] * share, 1.0)
    else:
        b = _intercept(lin_e[referred], engagement)
        q = q_cf = expit(b + lin_e)
    would_engage = referred & (u_eng < q)
    would_engage_cf = referred & (u_eng < q_cf) if coc else np.zeros(n, bool)

    # ---- reoffending hazard, calibrated to the comparison group's rate ----------------------
    period_hr = opts.get("period_hr", 1.0)
    lp = (
        _score(x, _hazard_terms(), 1.0) + np.asarray(spec.area_log_hr or (0.0,))[area] + s * frailty
    )
    risk0 = np.exp(lp)  # before-period conditions, no programme
    risk = risk0 * np.where(after, period_hr, 1.0)
    switch = np.where(would_engage, start_eng, np.inf)
    comparison = ~programme if (~programme).any() else np.ones(n, bool)
    lam = _calibrate(risk[comparison], switch[comparison], effect_hr, base_rate)

    e_draw = gen.exponential(1.0, n)
    t_death = gen.exponential(365.0 / -np.log1p(-ANNUAL_DEATH_RISK), n)
    lo, length, shape, cum = _pieces(f_days)
    rate = lam * risk
    t0 = _sample_first(e_draw, rate, lo, length, shape, cum)  # without the programme's effect
    engaged = would_engage & (t0 > start_eng) & (t_death > start_eng)
    h_e = rate * cum_baseline(np.where(engaged, start_eng, 0))
    e_adj = np.where(engaged, h_e + (e_draw - h_e) / effect_hr, e_draw)
    t_first = _sample_first(e_adj, rate, lo, length, shape, cum)
    event = (t_first <= f_days) & (t_first <= t_death)
    death_day = np.ceil(t_death).astype(np.int64)

    served = np.where(custodial, (sentence + 1) // 2, 0)
    if spec.custodial_share == 0.0:  # out of court: diverted or cautioned on the index date
        index_code = np.where(programme, _COMMUNITY_RESOLUTION, _CAUTION)
    else:
        index_code = np.full(n, _CONVICTION)
    offences, custody = _records(
        gen, event, t_first, death_day, (f_days, w_days), served, index_code,
        custodial=custodial, index_lag=spec.index_lag, short_horizon=spec.short_horizon,
    )  # fmt: skip
    abstinent = engaged & (gen.random(n) < _abstinence(opts, x, selection, s, frailty))

    # ---- tables ------------------------------------------------------------------------------
    ids = _ids(spec.prefix, n)
    people: dict[str, Any] = {
        "person_id": ids,
        "index_date": _dates(index_day),
        "group": np.where(programme, "programme", "comparison"),
    }
    if spec.before_days:
        people["cohort_period"] = np.where(after, "after", "before")
    people |= {"age": age, "sex": np.where(female, "F", "M"), "prior_offences": prior}
    if spec.custodial_share > 0:
        people["sentence_length_days"] = sentence
    people["substance_misuse_need"] = np.where(need, "yes", "no")
    if spec.areas:
        people["area"] = pd.array(np.asarray(spec.areas, dtype=object), dtype="str").take(area)
    tables = {
        "people": pd.DataFrame(people),
        **_record_frames(ids, index_day, offences, custody, death_day, f_days + w_days),
    }
    tables["engagement"] = _engagement_table(
        spec,
        ids,
        index_day,
        referred,
        referral_day,
        engaged,
        start_eng,
        complete,
        u_dur,
        extra,
        death_day,
        abstinent if "abstinence" in opts else None,
    )

    # ---- truth (closed forms, conditional on the people drawn) ------------------------------
    truth: dict[str, float] = {"baseline_hazard_per_day": lam}
    horizons = [f_days] if spec.short_horizon is None else [spec.short_horizon, f_days]
    for h in horizons:
        p_actual = event_probability(lam, risk, switch, effect_hr, h)
        truth[f"rate_comparison_{h}"] = float(p_actual[comparison].mean())
        if not coc and programme.any():
            p_none = event_probability(lam, risk, switch, 1.0, h)
            truth[f"rate_programme_{h}"] = float(p_actual[programme].mean())
            truth[f"rate_programme_no_effect_{h}"] = float(p_none[programme].mean())
            truth[f"effect_rate_difference_{h}"] = float((p_actual - p_none)[programme].mean())
        if spec.before_days and after.any():
            switch_cf = np.where(would_engage_cf, start_eng, np.inf)
            p_cf = event_probability(lam, risk0, switch_cf, effect_hr if coc else 1.0, h)
            truth[f"rate_after_{h}"] = float(p_actual[after].mean())
            truth[f"rate_after_no_scheme_{h}"] = float(p_cf[after].mean())
            truth[f"before_after_difference_{h}"] = float((p_actual - p_cf)[after].mean())
    truth |= {
        "n_people": float(n),
        "n_referred": float(referred.sum()),
        "n_would_engage": float(would_engage.sum()),
        "n_engaged": float(engaged.sum()),
        "n_engagement_prevented": float((would_engage & ~engaged).sum()),
    }
    if "abstinence" in opts:
        truth["n_maintaining_abstinence"] = float(abstinent.sum())
    if coc:
        tables["monthly"], claim = _monthly_table(
            spec, opts, start_day, month, referred, engaged, launch
        )
        truth |= claim
    truth |= {f"hazard[{k}]": v for k, v in _hazard_terms().items()}
    truth |= {
        f"hazard[area[{a}]]": v for a, v in zip(spec.areas[1:], spec.area_log_hr[1:], strict=True)
    }
    truth |= {f"selection[{k}]": selection * v for k, v in spec.selection.items() if not coc}
    truth |= {
        f"engagement_selection[{k}]": selection * v for k, v in spec.engagement_selection.items()
    }
    return tables, truth


def _hazard_terms() -> dict[str, float]:
    """Log hazard ratios of the covariate terms (shared with ``simulate_reoffending``)."""
    return {
        "age": LOG_HR["age"],
        "female": LOG_HR["female"],
        "log1p_prior_offences": LOG_HR["log1p_prior_offences"],
        "sentence_length_days": LOG_HR["sentence_length_days"],
        "substance_misuse_need": NEED_LOG_HR,
    }


def _abstinence(
    opts: Mapping[str, float],
    x: dict[str, np.ndarray],
    selection: float,
    s: float,
    frailty: np.ndarray,
) -> np.ndarray:
    """Fresh Start: P(maintaining abstinence | engaged); fewer previous offences and a lower
    frailty make it likelier."""
    target = opts.get("abstinence", 0.5)
    prior = x["log1p_prior_offences"]
    return expit(logit(target) - 0.3 * selection * (prior - prior.mean()) - s * frailty)


def _month_index(index_day: np.ndarray, start_day: int, launch: int) -> np.ndarray:
    """Calendar month of each index date, counted from the first month of the series."""
    d = index_day.astype("datetime64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)
    first = np.datetime64(start_day, "D").astype("datetime64[M]").astype(np.int64) - launch
    return (months - first).astype(np.int64)


def _engagement_table(
    spec: Spec,
    ids: Any,
    index_day: np.ndarray,
    referred: np.ndarray,
    referral_day: np.ndarray,
    engaged: np.ndarray,
    start_eng: np.ndarray,
    complete: np.ndarray,
    u_dur: np.ndarray,
    extra: np.ndarray,
    death_day: np.ndarray,
    abstinent: np.ndarray | None,
) -> pd.DataFrame:
    """One row per referred person: referral date, engagement start and end (NaT if never)."""
    pos = np.flatnonzero(referred)
    length = np.where(
        complete,
        spec.programme_days + extra,
        1 + np.floor(u_dur * spec.programme_days).astype(np.int64),
    )
    end_day = np.minimum(start_eng + length, death_day)
    nat = np.datetime64("NaT", "ns")
    eng = engaged[pos]
    day0 = index_day[pos]
    out = {
        "person_id": ids.take(pos),
        "referral_date": _dates(day0 + referral_day[pos]),
        "engagement_start": np.where(eng, _dates(day0 + start_eng[pos]), nat),
        "engagement_end": np.where(eng, _dates(day0 + end_day[pos]), nat),
        "completed": _text(np.where(complete[pos], "yes", "no"), eng),
    }
    if abstinent is not None:
        out["maintaining_abstinence"] = _text(np.where(abstinent[pos], "yes", "no"), eng)
    return pd.DataFrame(out)


def _text(values: np.ndarray, present: np.ndarray) -> Any:
    """A text column holding ``values`` where ``present`` and missing elsewhere."""
    out = np.full(len(values), None, dtype=object)
    out[present] = values[present]
    return pd.array(out, dtype="str")


def _monthly_table(
    spec: Spec,
    opts: Mapping[str, float],
    start_day: int,
    month: np.ndarray,
    referred: np.ndarray,
    engaged: np.ndarray,
    launch: int,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Continuity of Care's monthly service series and the anatomy of its headline claim."""
    k = launch + 12
    denominator = np.bincount(month, minlength=k)
    continuing = np.bincount(month, engaged.astype(float), k).astype(np.int64)
    referrals = np.bincount(month, referred.astype(float), k).astype(np.int64)
    first = np.datetime64(start_day, "D").astype("datetime64[M]") - np.timedelta64(launch, "M")
    months = (first + np.arange(k)).astype("datetime64[D]").astype("datetime64[ns]")
    rate = continuing / np.maximum(denominator, 1)
    before = launch - 12 + int(np.argmin(rate[launch - 12 : launch]))
    after = launch + int(np.argmax(rate[launch:]))
    claim = np.array([""] * k, dtype=object)
    claim[before], claim[after] = "before", "after"
    table = pd.DataFrame(
        {
            "month": months,
            "referrals": referrals,
            "continuing": continuing,
            "denominator": denominator,
            "post": (np.arange(k) >= launch).astype(np.int64),
            "claim": _text(claim, claim != ""),
        }
    )
    moy = (pd.Timestamp(months[0]).month - 1 + np.arange(k)) % 12 + 1
    season = opts["seasonal_amplitude"] * np.cos(
        2 * np.pi * (moy - opts["seasonal_peak_month"]) / 12
    )
    log_ratio = float(np.log(rate[after] / rate[before])) if rate[before] > 0 else float("inf")
    scheme_part = float(np.log(opts["level_change"]))
    trend_part = float(np.log(opts["trend"]) * (after - before))
    season_part = float(season[after] - season[before])
    truth = {
        "claim_before_rate": float(rate[before]),
        "claim_after_rate": float(rate[after]),
        "claim_log_ratio": log_ratio,
        "claim_part_scheme": scheme_part,
        "claim_part_trend": trend_part,
        "claim_part_seasonality": season_part,
        "claim_part_chance": log_ratio - scheme_part - trend_part - season_part,
    }
    return table, truth
