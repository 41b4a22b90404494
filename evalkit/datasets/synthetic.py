"""Synthetic prison-leaver data with a known truth, for examples, tests and benchmarks.

**Everything here is synthetic.** No record describes a real person; the numbers are invented
to resemble the published shape of short-sentence prison leavers in England and Wales (Ministry
of Justice proven reoffending statistics) so that evalkit's methods can be shown and checked
against a truth that is known by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from evalkit._options import check_date
from evalkit.errors import InputError

__all__ = ["simulate_reoffending"]

WAITING_DAYS = 182
"""Waiting period (days) assumed when placing disposals; the MoJ six months."""

HAZARD_BREAKS = (91, 182)
"""Day boundaries of the piecewise-constant baseline hazard of a first proven reoffence."""

HAZARD_SHAPE = (1.6, 1.0, 0.7)
"""Relative baseline hazard before day 91, days 91–182 and after day 182 (risk is highest
soon after release)."""

ANNUAL_DEATH_RISK = 0.01
"""Probability of dying within a year (constant hazard, independent of everything else)."""

LOG_HR = {
    "age": -0.02,  # per year of age
    "female": -0.20,
    "log1p_prior_offences": 0.35,  # per unit of log(1 + prior offences)
    "sentence_length_days": -0.0007,  # per day of the index sentence
}
"""Log hazard ratios of the covariates for the first proven reoffence (conditional on group)."""

LOGIT_SELECTION = {"age": 0.02, "female": 0.40, "log1p_prior_offences": -0.25}
"""Log odds ratios of joining the programme: older people, women and people with fewer
previous offences are more likely to join (selection on observed covariates)."""

_CODES = ("conviction", "caution", "pnd", "community_resolution", "breach")
_CONVICTION, _CAUTION = 0, 1  # positions in _CODES; 2, 3, 4 do not prove an offence


def simulate_reoffending(
    n_people: int = 2000,
    *,
    programme_share: float = 0.5,
    effect_hr: float = 0.8,
    base_rate: float = 0.45,
    follow_up_days: int = 365,
    start: Any = "2022-05-01",
    rng: int | np.random.Generator | None = 0,
) -> dict[str, pd.DataFrame]:
    """Simulate a prison-leaver scheme evaluation with a known effect (synthetic data).

    The shape follows Restart Thames Valley (a 12-month pilot for people released from
    prison, e.g. May 2022 to April 2023): people released over twelve months from ``start``,
    some joining the programme, followed for proven reoffending. The tables have the input
    schema of :func:`evalkit.cohort.proven_reoffending`.

    Parameters
    ----------
    n_people
        Number of people released (whole number ≥ 1).
    programme_share
        Expected share of people in the programme group, in (0, 1).
    effect_hr
        True hazard ratio of a first proven reoffence, programme vs comparison, conditional on
        the covariates (> 0; 1 = no effect).
    base_rate
        Probability, in (0, 1), that a person in the comparison group has a proven reoffence
        within ``follow_up_days`` as measured by ``proven_reoffending`` (deaths included).
        National proven reoffending after custodial sentences of under 12 months is about
        0.55–0.62, and about 0.37 for all adults released from custody; 0.57 resembles
        Restart Thames Valley's short-sentence leavers.
    follow_up_days
        Follow-up period (days) the outcome is defined over (whole number ≥ 1); the waiting
        period is six months (182 days).
    start
        First release date; releases are spread uniformly over the following 365 days.
    rng
        Seed (int) or :class:`numpy.random.Generator`; the result is a deterministic function
        of it.

    Returns
    -------
    dict of pandas.DataFrame
        ``people``: ``person_id`` (text, ``"RTV0000001"``…), ``index_date`` (release),
        ``group`` (``"programme"`` / ``"comparison"``), ``age`` (years), ``sex`` (``"F"`` /
        ``"M"``), ``prior_offences`` (count) and ``sentence_length_days`` (index sentence).
        ``offences``: ``person_id``, ``offence_date``, ``disposal_date``, ``disposal``, sorted
        by person and date: the index offence, proven reoffences, offences with non-proven
        disposals (``pnd``, ``community_resolution``, ``breach``), offences proven only after
        the waiting period, offences after follow-up, and a few offences on the release date.
        ``custody``: ``person_id``, ``start``, ``end``: the index custodial spell (ending on
        the release date), some custodial sentences for reoffences and some recalls, which can
        overlap. ``deaths``: ``person_id``, ``date`` for deaths up to the end of the waiting
        period.

    Notes
    -----
    **Model (the known truth).** Covariates: age 18 + Gamma(2.5, scale 6) years (mean 33),
    10% women, previous offences negative binomial with mean 12, index sentence log-normal
    with median 120 days (14–720). Programme membership is Bernoulli with
    logit p = a + :data:`LOGIT_SELECTION` · x, with a set so that the mean p equals
    ``programme_share``: the groups differ on observed covariates, as in a real pilot, so an
    unadjusted comparison is confounded and an adjusted or matched one recovers
    ``effect_hr``. The time to the first offence that is proven within the waiting period has
    hazard λ · h0(t) · exp(:data:`LOG_HR` · x) · ``effect_hr``^programme, with h0
    piecewise constant (:data:`HAZARD_SHAPE`); death has a constant hazard
    (:data:`ANNUAL_DEATH_RISK` a year) independent of everything else, so censoring by
    death is non-informative. λ is solved (Brent's method) so that the mean, over the
    comparison group's covariates, of the closed-form probability of a proven reoffence before
    death and within follow-up equals ``base_rate``; the comparison group's observed rate is
    therefore unbiased for ``base_rate`` with binomial sampling error at most
    √(p(1 − p)/n).

    Everything else is decoration that ``proven_reoffending`` must see through and that does
    not change the truth: further proven reoffences after the first (negative binomial, mean
    2.5, dated between the first and the end of follow-up or death), offences with non-proven
    disposals (Poisson mean 0.35 a person), offences convicted after the waiting period
    (mean 0.06), offences after follow-up (mean 0.4), the index offence, and custody spells.
    No offence is dated after the person's death. Disposal delays are truncated exponential
    (mean 40 days) within the waiting period for proven reoffences.

    Custody spells are generated after, and independently of, the reoffence times, so the
    known truth is about calendar time (``at_risk="calendar"``); times from
    ``at_risk="free"`` have no stated truth.

    **When not to use.** For demonstrating and testing methods only. The numbers are not
    estimates of anything about real people or schemes; reports using them must say so.

    References
    ----------
    Ministry of Justice (2019). *Guide to Proven Reoffending Statistics*. London: Ministry of
    Justice, section 2.1 (definitions of the follow-up and waiting periods).

    Ministry of Justice. *Proven reoffending statistics* (quarterly bulletins), tables by
    index disposal and sentence length:
    https://www.gov.uk/government/collections/proven-reoffending-statistics

    Examples
    --------
    >>> from evalkit.datasets.synthetic import simulate_reoffending
    >>> sim = simulate_reoffending(500, rng=1)
    >>> sorted(sim)
    ['custody', 'deaths', 'offences', 'people']
    >>> list(sim["people"].columns)  # doctest: +NORMALIZE_WHITESPACE
    ['person_id', 'index_date', 'group', 'age', 'sex', 'prior_offences',
     'sentence_length_days']
    """
    n = _whole(n_people, "n_people", minimum=1)
    f_days = _whole(follow_up_days, "follow_up_days", minimum=1)
    _open_unit(programme_share, "programme_share")
    _open_unit(base_rate, "base_rate")
    if not (np.isfinite(effect_hr) and effect_hr > 0):
        raise InputError("effect_hr", f"must be a positive hazard ratio; got {effect_hr!r}")
    start_ts = check_date(start, "start", example="2022-05-01")
    start_day = int(start_ts.value // 86_400_000_000_000)  # whole days since 1970-01-01
    gen = np.random.default_rng(rng)
    w_days = WAITING_DAYS

    # ---- people ------------------------------------------------------------------------------
    age, female, prior, sentence = _covariates(gen, n)
    served = (sentence + 1) // 2
    index_day = start_day + gen.integers(0, 365, n)
    log_prior = np.log1p(prior)

    x_sel = (
        LOGIT_SELECTION["age"] * (age - 33)
        + LOGIT_SELECTION["female"] * female
        + LOGIT_SELECTION["log1p_prior_offences"] * (log_prior - log_prior.mean())
    )
    a = brentq(lambda a: float(expit(a + x_sel).mean()) - programme_share, -30.0, 30.0)
    programme = gen.random(n) < expit(a + x_sel)

    lp = (
        LOG_HR["age"] * age
        + LOG_HR["female"] * female
        + LOG_HR["log1p_prior_offences"] * log_prior
        + LOG_HR["sentence_length_days"] * sentence
    )
    risk0 = np.exp(lp - lp.mean())  # relative hazard without the programme effect
    risk = risk0 * np.where(programme, effect_hr, 1.0)

    # ---- first proven reoffence and death ------------------------------------------------------
    mu = -np.log1p(-ANNUAL_DEATH_RISK) / 365.0
    lo, length, shape, cum = _pieces(f_days)
    calib = risk0[~programme] if (~programme).any() else risk0
    log_lam = brentq(
        lambda ll: (
            float(_event_probability(np.exp(ll), calib, mu, lo, length, shape, cum).mean())
            - base_rate
        ),
        -40.0,
        20.0,
        xtol=1e-12,
    )
    lam = float(np.exp(log_lam))
    t_first = _sample_first(gen.exponential(1.0, n), lam * risk, lo, length, shape, cum)
    t_death = gen.exponential(1.0 / mu, n)
    event = (t_first <= f_days) & (t_first <= t_death)
    death_day = np.ceil(t_death).astype(np.int64)  # day of death after release (≥ 1)

    code = np.array(_CONVICTION)
    offences, custody = _records(gen, event, t_first, death_day, (f_days, w_days), served, code)

    # ---- tables --------------------------------------------------------------------------------
    ids = _ids("RTV", n)
    people = pd.DataFrame(
        {
            "person_id": ids,
            "index_date": _dates(index_day),
            "group": np.where(programme, "programme", "comparison"),
            "age": age,
            "sex": np.where(female, "F", "M"),
            "prior_offences": prior,
            "sentence_length_days": sentence,
        }
    )
    return {
        "people": people,
        **_record_frames(ids, index_day, offences, custody, death_day, f_days + w_days),
    }


# --------------------------------------------------------------------------------------------
# Records shared with the scheme generators (evalkit.datasets.schemes)
# --------------------------------------------------------------------------------------------

Records = tuple[np.ndarray, ...]
"""Columns of a generated table as arrays of positions (people) and days after the index date."""


def _covariates(
    gen: np.random.Generator,
    n: int,
    *,
    age_shape: float = 2.5,
    age_scale: float = 6.0,
    female_share: float = 0.10,
    prior_mean: float = 12.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Age (18 + Gamma, at most 75), female (bool), previous offences (negative binomial,
    size 1.5) and index sentence in days (log-normal, median 120, 14–720), in that draw order."""
    age = np.minimum(18 + np.floor(gen.gamma(age_shape, age_scale, n)), 75).astype(np.int64)
    female = gen.random(n) < female_share
    prior = gen.negative_binomial(1.5, 1.5 / (1.5 + prior_mean), n).astype(np.int64)
    sentence = np.clip(np.round(np.exp(gen.normal(np.log(120.0), 0.6, n))), 14, 720)
    return age, female, prior, sentence.astype(np.int64)


def _records(
    gen: np.random.Generator,
    event: np.ndarray,
    t_first: np.ndarray,
    death_day: np.ndarray,
    days: tuple[int, int],
    served: np.ndarray,
    index_code: np.ndarray,
    *,
    custodial: np.ndarray | None = None,
    index_lag: tuple[int, int] = (20, 151),
    short_horizon: int | None = None,
) -> tuple[Records, Records]:
    """Offence and custody records around each person's first proven reoffence.

    ``days``: the follow-up and waiting periods (days). ``event``/``t_first``: whether and
    when (days after the index date, continuous) the first proven reoffence happens;
    ``death_day``: whole day of death (≥ 1). ``served``: days of the index custodial spell
    (ending on the index date) and ``custodial``: who had one (``None``: everyone); people
    without one have their index offence disposed of on the index date with ``index_code``,
    ``index_lag`` days after the offence. ``short_horizon``: a shorter follow-up (e.g. 182
    days) whose own waiting period every first proven reoffence in it also meets, so that
    proven reoffending measured over it has the same truth. Returns ``(position, offence day,
    disposal day, disposal code)`` sorted by person and dates, and ``(position, start day,
    end day)`` of the custody spells sorted by person and start. The random draws, in this
    order, are what :func:`simulate_reoffending` has always made: its output for a seed does
    not change.
    """
    n = len(death_day)
    f_days, w_days = days
    alive_until = np.minimum(death_day, f_days + w_days + 10_000)
    everyone = np.arange(n)
    rows_pos: list[np.ndarray] = []
    rows_off: list[np.ndarray] = []
    rows_disp: list[np.ndarray] = []
    rows_code: list[np.ndarray] = []

    def add(pos: np.ndarray, off: np.ndarray, disp: np.ndarray, code: np.ndarray) -> None:
        keep = off <= alive_until[pos]  # nobody offends after death
        rows_pos.append(pos[keep])
        rows_off.append(off[keep])
        rows_disp.append(disp[keep])
        rows_code.append(np.broadcast_to(code, pos.shape)[keep])

    # first proven reoffence: offence day, disposal within the waiting period
    ev = np.flatnonzero(event)
    d1 = np.ceil(t_first[ev]).astype(np.int64)
    limit = f_days + w_days - d1
    if short_horizon is not None:
        limit = np.where(d1 <= short_horizon, short_horizon + w_days - d1, limit)
    disp1 = d1 + _truncated_delay(gen, limit, 40.0)
    code1 = np.where(gen.random(len(ev)) < 0.85, _CONVICTION, _CAUTION)
    add(ev, d1, disp1, code1)

    # further proven reoffences between the first and the end of follow-up (or death)
    k = gen.negative_binomial(1.0, 1.0 / 3.5, len(ev))
    pos = np.repeat(ev, k)
    lo_day = np.repeat(d1, k)
    hi_day = np.minimum(f_days, death_day[pos])
    day = lo_day + np.floor(gen.random(len(pos)) * (hi_day - lo_day + 1)).astype(np.int64)
    disp = day + _truncated_delay(gen, f_days + w_days - day, 40.0)
    add(pos, day, disp, np.where(gen.random(len(pos)) < 0.85, _CONVICTION, _CAUTION))

    # non-proven disposals within follow-up
    pos = np.repeat(everyone, gen.poisson(0.35, n))
    day = gen.integers(1, f_days + 1, len(pos))
    code = 2 + gen.choice(3, size=len(pos), p=[0.3, 0.3, 0.4])
    add(pos, day, day + gen.integers(0, 31, len(pos)), code)

    # offences in follow-up proven only after the waiting period (not proven reoffences)
    pos = np.repeat(everyone, gen.poisson(0.06, n))
    day = gen.integers(1, f_days + 1, len(pos))
    add(pos, day, f_days + w_days + 1 + gen.integers(0, 180, len(pos)), np.array(_CONVICTION))

    # offences after the follow-up period
    pos = np.repeat(everyone, gen.poisson(0.4, n))
    day = gen.integers(f_days + 1, f_days + w_days + 1, len(pos))
    add(pos, day, day + gen.integers(7, 121, len(pos)), np.array(_CONVICTION))

    # the index offence (before the index custody) and a few offences on the index date
    add(everyone, -served - gen.integers(*index_lag, n), -served, index_code)
    pos = np.flatnonzero(gen.random(n) < 0.01)
    add(pos, np.zeros(len(pos), np.int64), gen.integers(7, 61, len(pos)), np.array(_CONVICTION))

    o_pos = np.concatenate(rows_pos)
    o_off = np.concatenate(rows_off)
    o_disp = np.concatenate(rows_disp)
    o_code = np.concatenate(rows_code)
    order = _sort_order(o_pos, o_off, o_disp)
    offences = (o_pos[order], o_off[order], o_disp[order], o_code[order])

    # ---- custody spells: the index spell, sentences for reoffences, recalls -----------------
    jailed_ever = everyone if custodial is None else np.flatnonzero(custodial)
    c_pos: list[np.ndarray] = [jailed_ever]
    c_start: list[np.ndarray] = [-served[jailed_ever]]
    c_end: list[np.ndarray] = [np.zeros(len(jailed_ever), np.int64)]
    jailed = gen.random(len(ev)) < 0.4
    jailed &= code1 == _CONVICTION
    c_pos.append(ev[jailed])
    c_start.append(disp1[jailed])
    c_end.append(disp1[jailed] + gen.integers(14, 181, int(jailed.sum())))
    recall = gen.random(n) < 0.08  # on licence: only after a custodial index sentence
    recalled = np.flatnonzero(recall if custodial is None else recall & custodial)
    r_start = gen.integers(1, f_days + 1, len(recalled))
    c_pos.append(recalled)
    c_start.append(r_start)
    c_end.append(r_start + gen.integers(14, 29, len(recalled)))
    cp = np.concatenate(c_pos)
    cs = np.concatenate(c_start)
    ce = np.concatenate(c_end)
    alive = cs <= alive_until[cp]
    cp, cs, ce = cp[alive], cs[alive], np.minimum(ce[alive], alive_until[cp[alive]])
    order = _sort_order(cp, cs)
    return offences, (cp[order], cs[order], ce[order])


def _ids(prefix: str, n: int) -> Any:
    """Text identifiers ``prefix0000001``…, as an Arrow-backed string array (fast takes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), 7, "0")
    return pd.array(pc.binary_join_element_wise(prefix, digits, ""), dtype="str")


def _record_frames(
    ids: Any,
    index_day: np.ndarray,
    offences: Records,
    custody: Records,
    death_day: np.ndarray,
    last_day: int,
) -> dict[str, pd.DataFrame]:
    """The offences, custody and deaths tables (deaths up to ``last_day`` after the index)."""
    o_pos, o_off, o_disp, o_code = offences
    cp, cs, ce = custody
    died = np.flatnonzero(death_day <= last_day)
    return {
        "offences": pd.DataFrame(
            {
                "person_id": ids.take(o_pos),
                "offence_date": _dates(index_day[o_pos] + o_off),
                "disposal_date": _dates(index_day[o_pos] + o_disp),
                "disposal": pd.array(_CODES, dtype="str").take(o_code),
            }
        ),
        "custody": pd.DataFrame(
            {
                "person_id": ids.take(cp),
                "start": _dates(index_day[cp] + cs),
                "end": _dates(index_day[cp] + ce),
            }
        ),
        "deaths": pd.DataFrame(
            {"person_id": ids.take(died), "date": _dates(index_day[died] + death_day[died])}
        ),
    }


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _pieces(f_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start, length, relative hazard and cumulative baseline hazard at start of each piece."""
    starts = np.minimum(np.array([0, *HAZARD_BREAKS], dtype=float), f_days)
    ends = np.minimum(np.array([*HAZARD_BREAKS, f_days], dtype=float), f_days)
    length = np.maximum(ends - starts, 0.0)
    shape = np.array(HAZARD_SHAPE, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(shape * length)[:-1]])
    return starts, length, shape, cum


def _event_probability(
    lam: float,
    risk: np.ndarray,
    mu: float,
    starts: np.ndarray,
    length: np.ndarray,
    shape: np.ndarray,
    cum: np.ndarray,
) -> np.ndarray:
    """P(first proven reoffence before death and within follow-up), per person, closed form.

    With piecewise-constant hazard h_j = λ r c_j on [a_j, a_j + L_j) and death hazard μ,
    P = Σ_j exp(−μ a_j − λ r C_j) · h_j / (h_j + μ) · (1 − exp(−(h_j + μ) L_j)),
    where C_j is the cumulative baseline hazard at a_j.
    """
    out = np.zeros(len(risk))
    for a_j, l_j, c_j, cum_j in zip(starts, length, shape, cum, strict=True):
        if l_j <= 0:
            continue
        h = lam * risk * c_j
        out += np.exp(-mu * a_j - lam * risk * cum_j) * h / (h + mu) * -np.expm1(-(h + mu) * l_j)
    return out


def _sample_first(
    e: np.ndarray,
    rate: np.ndarray,
    starts: np.ndarray,
    length: np.ndarray,
    shape: np.ndarray,
    cum: np.ndarray,
) -> np.ndarray:
    """Invert the piecewise-linear cumulative hazard at unit-exponential draws ``e``.

    Returns the event time, or ``inf`` when ``e`` exceeds the hazard accumulated by the end of
    follow-up (no proven reoffence in follow-up).
    """
    t = np.full(len(e), np.inf)
    for a_j, l_j, c_j, cum_j in zip(starts, length, shape, cum, strict=True):
        if l_j <= 0:
            continue
        h_lo = rate * cum_j
        h_hi = rate * (cum_j + c_j * l_j)
        here = (e >= h_lo) & (e < h_hi)
        t[here] = a_j + (e[here] - h_lo[here]) / (rate[here] * c_j)
    return t


def _truncated_delay(gen: np.random.Generator, limit: np.ndarray, mean: float) -> np.ndarray:
    """Whole-day delays, exponential with ``mean`` truncated to [0, ``limit``]."""
    limit = np.asarray(limit, dtype=float)
    u = gen.random(len(limit))
    delay = -mean * np.log1p(-u * -np.expm1(-(limit + 1) / mean))
    return np.minimum(np.floor(delay), limit).astype(np.int64)


def _sort_order(*keys: np.ndarray) -> np.ndarray:
    """Row order sorting by ``keys`` (integer arrays, first key most significant).

    Packs the keys into one int64 and uses a single stable argsort, several times faster than
    ``np.lexsort`` on millions of rows; falls back to ``np.lexsort`` if the packing overflows.
    """
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    capacity = 1
    for key in keys:
        if len(key) == 0:
            return np.arange(0)
        lo, span = int(key.min()), int(key.max() - key.min()) + 1
        capacity *= span
        if capacity >= 2**62:
            return np.lexsort(keys[::-1])
        packed = packed * span + (key - lo)
    return np.argsort(packed, kind="stable")


def _dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as datetime64[ns]."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _whole(value: Any, name: str, *, minimum: int) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or int(value) < minimum:
        raise InputError(name, f"must be a whole number ≥ {minimum}; got {value!r}")
    return int(value)


def _open_unit(value: Any, name: str) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not (0.0 < float(value) < 1.0):
        raise InputError(name, f"must be a proportion strictly between 0 and 1; got {value!r}")
