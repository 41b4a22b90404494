"""Engagement without immortal time: time-varying exposure and landmark analysis.

A scheme's figure "of those engaged" counts people who engaged — and to engage, a person had to
stay free of reoffending (and out of custody) until the day they engaged. That time is
"immortal": comparing engagers with non-engagers from referral credits the scheme with the
survival that made engagement possible (Suissa 2008). Two analyses avoid it:

* **time-varying exposure** (:func:`split_engagement` then :func:`evalkit.cox` with
  ``start=``): each person is unengaged from referral until the day they engage and engaged
  after it, as ``(start, stop]`` intervals — the counting-process form of Andersen & Gill (1982);
* **landmark analysis** (:func:`landmark`): fix a day L; keep the people still at risk on it;
  compare those who had engaged by L with those who had not, from L onwards (Anderson, Cain &
  Gelber 1983; Dafni 2011).

:func:`engagement_days` links a scheme's engagement records to a cohort (the day engagement
started, counted from each person's index date), and :func:`per_protocol_bias` sets the
published kind of figure beside both analyses.

References
----------
Andersen, P. K. & Gill, R. D. (1982). Cox's regression model for counting processes: a large
sample study. Ann. Statist. 10(4), 1100–1120.
Anderson, J. R., Cain, K. C. & Gelber, R. D. (1983). Analysis of survival by tumor response.
J. Clin. Oncol. 1(11), 710–719.
Dafni, U. (2011). Landmark analysis at the 25-year landmark point. Circ. Cardiovasc. Qual.
Outcomes 4(3), 363–371.
Suissa, S. (2008). Immortal time bias in pharmacoepidemiology. Am. J. Epidemiol. 167(4),
492–499.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._options import check_columns, check_conf_level, check_number
from evalkit.errors import InputError
from evalkit.results import Result, own
from evalkit.schema import check_event, check_frame, check_time, require_columns, row_ids

__all__ = [
    "EngagementComparison",
    "LandmarkResult",
    "engagement_days",
    "landmark",
    "per_protocol_bias",
    "split_engagement",
]


def _engaged_day(df: pd.DataFrame, column: str, id_col: str | None) -> np.ndarray:
    """Day of engagement (NaN = never engaged); negative days are refused."""
    s = df[column]
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        raise InputError(
            column,
            "must be the day of engagement counted from the index date (a number; empty for "
            f"people who never engaged), but has dtype {s.dtype}",
        )
    day = s.to_numpy(dtype=float)
    bad = day < 0
    if bad.any():
        raise InputError(
            column,
            "must not be negative (engagement before the index date)",
            row_ids(df, bad, id_col),
        )
    return day


def engagement_days(
    df: pd.DataFrame,
    engagement: pd.DataFrame,
    *,
    start: str = "engagement_start",
    index_date: str = "index_date",
    id_col: str = "person_id",
) -> pd.Series:
    """Days from each person's index date to the day their engagement started (NaN if never).

    Links a scheme's engagement records (one row per person referred, with the date engagement
    started, empty if it never did) to a cohort (:attr:`evalkit.Cohort.data`, whose
    ``index_date`` starts follow-up), giving the ``engaged_at`` column of
    :func:`split_engagement`, :func:`landmark` and :func:`per_protocol_bias`.

    Parameters
    ----------
    df
        One row per person: ``id_col`` (unique) and ``index_date`` (dates).
    engagement
        One row per person referred: ``id_col`` (unique) and ``start`` (dates; missing for
        people who never engaged). People it lists who are not in ``df`` (for instance
        excluded from the cohort because their follow-up had not ended) are not used.
    start, index_date, id_col
        Column names.

    Returns
    -------
    pandas.Series
        Float days (``start`` − ``index_date``, whole days), NaN for people without an
        engagement start, indexed like ``df`` and named ``engaged_day``.

    Raises
    ------
    InputError
        A column missing or not dates; an identifier listed twice in ``engagement`` (naming
        the rows); an engagement that started before the person's index date (naming the
        rows): follow-up starts at the index date, so engagement before it cannot be timed
        without immortal time.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"person_id": ["a", "b", "c"],
    ...                        "index_date": pd.to_datetime(["2022-01-01"] * 3)})
    >>> eng = pd.DataFrame({"person_id": ["a", "c", "z"],
    ...                     "engagement_start": pd.to_datetime(["2022-01-15", None, "2022-02-01"])})
    >>> engagement_days(people, eng).tolist()
    [14.0, nan, nan]
    """
    df = check_frame(df)
    engagement = check_frame(engagement, table="engagement")
    require_columns(df, [id_col, index_date])
    require_columns(engagement, [id_col, start], table="engagement")
    for frame, column, table in ((df, index_date, "data"), (engagement, start, "engagement")):
        if not pd.api.types.is_datetime64_any_dtype(frame[column]):
            raise InputError(
                column,
                f"must hold dates, but has dtype {frame[column].dtype}: read the table with its "
                "date format (evalkit.read_table's date_format)",
                table=table,
            )
    for frame, table in ((df, "data"), (engagement, "engagement")):
        twice = frame[id_col].duplicated(keep=False).to_numpy()
        if twice.any():
            raise InputError(
                id_col, "must list each person once", row_ids(frame, twice, id_col), table=table
            )
    began = engagement.set_index(id_col)[start]
    days = (df[id_col].map(began) - df[index_date]).dt.days.astype(float)
    if (days < 0).any():
        index_of = df.set_index(id_col)[index_date]
        early = (engagement[start] < engagement[id_col].map(index_of)).to_numpy()
        raise InputError(
            start,
            f"must not be before the person's {index_date} (follow-up starts there)",
            row_ids(engagement, early, id_col),
            table="engagement",
        )
    return pd.Series(days.to_numpy(), index=df.index, name="engaged_day")


def split_engagement(
    df: pd.DataFrame,
    *,
    time: str = "time",
    event: str = "event",
    engaged_at: str = "engaged_day",
    id_col: str | None = "person_id",
    keep: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per person → ``(start, stop]`` rows with a time-varying ``engaged`` indicator.

    A person who engaged on day e before the end of their follow-up t gets two rows, (0, e]
    with ``engaged`` 0 and no event, and (e, t] with ``engaged`` 1 and their event; anyone
    else gets one row (0, t] with ``engaged`` 0. Engagement on day 0 counts from the start; on
    or after t it never happened in follow-up. Vectorised: a million people take well under a
    second.

    Parameters
    ----------
    df
        One row per person: follow-up ``time`` (days from the index date), ``event`` (0/1) and
        ``engaged_at`` (day of engagement, NaN if never).
    keep
        Other columns to carry onto every row (covariates, ``group``…); by default every column
        except the three above.

    Returns
    -------
    DataFrame
        Columns ``start``, ``stop``, ``event``, ``engaged`` and the kept columns, sorted by
        person then start; for :func:`evalkit.cox` with ``start="start", time="stop"``.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"person_id": ["a", "b", "c"], "time": [100, 40, 365],
    ...                        "event": [1, 1, 0], "engaged_day": [30, None, 0]})
    >>> split_engagement(people)[["person_id", "start", "stop", "event", "engaged"]]
      person_id  start   stop  event  engaged
    0         a    0.0   30.0      0        0
    1         a   30.0  100.0      1        1
    2         b    0.0   40.0      1        0
    3         c    0.0  365.0      0        1
    """
    df = check_frame(df)
    require_columns(df, [time, event, engaged_at])
    t = check_time(df, time, id_col=id_col if id_col in df else None)
    e = check_event(df, event, id_col=id_col if id_col in df else None)
    day = _engaged_day(df, engaged_at, id_col if id_col in df else None)
    carry = (
        check_columns(keep, "keep")
        if keep is not None
        else [c for c in df.columns if c not in (time, event, engaged_at)]
    )
    require_columns(df, carry)
    from_start = day == 0  # engaged from the index date: one engaged row
    split = (day > 0) & (day < t)  # engaged during follow-up: two rows
    n = len(df)
    reps = np.where(split, 2, 1)
    rows = np.repeat(np.arange(n), reps)
    second = np.zeros(rows.size, dtype=bool)
    second[np.cumsum(reps)[split] - 1] = True  # the engaged row of a split person
    first_of_split = np.repeat(split, reps) & ~second
    start = np.where(second, day[rows], 0.0)
    stop = np.where(first_of_split, day[rows], t[rows])
    ev = np.where(first_of_split, 0, e[rows])
    engaged = (second | from_start[rows]).astype(np.int8)
    out = df.iloc[rows][carry].reset_index(drop=True)
    out["start"] = start.astype(float)
    out["stop"] = stop.astype(float)
    out["event"] = ev.astype(np.int64)
    out["engaged"] = engaged
    return out


@dataclass(frozen=True, eq=False, repr=False)
class LandmarkResult(Result):
    """A landmark comparison: engaged by day L against not engaged by L, followed from L.

    Attributes
    ----------
    landmark_day
        The landmark L (days after the index date).
    table
        The hazard ratio of engagement by L (``estimate`` log HR, ``se``, ``lower``,
        ``upper``, ``statistic``, ``p``, ``hr``, ``hr_lower``, ``hr_upper``) from a Cox model
        of time from L, with any covariates.
    counts
        People: ``in_cohort``, ``event_before_landmark`` and ``censored_before_landmark``
        (excluded), ``engaged_by_landmark`` and ``not_engaged_by_landmark`` (analysed), and
        ``engaged_after_landmark`` (counted as not engaged, as the design requires).
    data
        The analysed rows with ``time_from_landmark``, ``event`` and ``engaged_by_landmark``.
    conf_level
        Level of the intervals.
    """

    _title = "Landmark analysis"

    landmark_day: float
    table: pd.DataFrame
    counts: Mapping[str, int]
    data: pd.DataFrame
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The hazard-ratio row of engagement by the landmark."""
        return self.table.copy()


def landmark(
    df: pd.DataFrame,
    *,
    landmark_day: float,
    time: str = "time",
    event: str = "event",
    engaged_at: str = "engaged_day",
    covariates: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    conf_level: float = 0.95,
    id_col: str | None = "person_id",
) -> LandmarkResult:
    """Compare people engaged by a landmark day with those not engaged by it, from that day.

    Parameters
    ----------
    df
        One row per person with follow-up ``time``, ``event`` and ``engaged_at`` (day of
        engagement; NaN if never).
    landmark_day
        The landmark L: people with an event or censored on or before L are excluded (and
        counted); the rest are grouped by engagement on or before L and followed from L.
    covariates, reference
        Adjust the Cox model for these (categorical ones coded ``col[level]``).

    Notes
    -----
    People who engage after L count as not engaged: the landmark analysis answers "did being
    engaged by day L go with a lower hazard afterwards", conditional on surviving to L
    (Anderson et al. 1983). Choose L before seeing the results (the analysis plan), early
    enough to keep most people and late enough for most engagement to have happened.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> t = np.ceil(rng.exponential(400, n)).clip(max=365)
    >>> df = pd.DataFrame({"time": t, "event": (t < 365).astype(int),
    ...                    "engaged_day": np.where(rng.random(n) < 0.5,
    ...                                            rng.integers(1, 60, n), np.nan)})
    >>> res = landmark(df, landmark_day=60, id_col=None)
    >>> res.counts["engaged_by_landmark"] + res.counts["not_engaged_by_landmark"] < n
    True
    """
    df = check_frame(df)
    covs = check_columns(covariates, "covariates")
    require_columns(df, [time, event, engaged_at, *covs])
    ids = id_col if id_col is not None and id_col in df else None
    L = check_number(landmark_day, "landmark_day", minimum=0.0, strict=True)
    t = check_time(df, time, id_col=ids)
    e = check_event(df, event, id_col=ids)
    day = _engaged_day(df, engaged_at, ids)
    at_risk = t > L
    engaged = at_risk & (day <= L)
    data = df.loc[at_risk, covs].reset_index(drop=True)
    data["time_from_landmark"] = t[at_risk] - L
    data["event"] = e[at_risk]
    data["engaged_by_landmark"] = engaged[at_risk].astype(np.int8)
    counts = {
        "in_cohort": len(df),
        "event_before_landmark": int(np.sum(~at_risk & (e == 1))),
        "censored_before_landmark": int(np.sum(~at_risk & (e == 0))),
        "engaged_by_landmark": int(engaged.sum()),
        "not_engaged_by_landmark": int(np.sum(at_risk & ~engaged)),
        "engaged_after_landmark": int(np.sum(at_risk & (day > L))),
    }
    if counts["engaged_by_landmark"] == 0 or counts["not_engaged_by_landmark"] == 0:
        from evalkit.errors import DesignError

        raise DesignError(
            f"at the landmark (day {L:g}) {counts['engaged_by_landmark']} people still at "
            f"risk had engaged and {counts['not_engaged_by_landmark']} had not; both groups "
            "need people: choose another landmark day"
        )
    from evalkit.survival import cox

    fit = cox(
        data,
        time="time_from_landmark",
        event="event",
        covariates=["engaged_by_landmark", *covs],
        reference=reference,
        conf_level=conf_level,
    )
    table = fit.to_frame()
    table = table[table["term"] == "engaged_by_landmark"].reset_index(drop=True)
    return LandmarkResult(
        landmark_day=L,
        table=table,
        counts=dict(counts),
        data=own(data),
        conf_level=fit.conf_level,
    )


@dataclass(frozen=True, eq=False, repr=False)
class EngagementComparison(Result):
    """The "of those engaged" figure beside the analyses that avoid immortal time.

    Attributes
    ----------
    table
        One row per analysis: ``analysis``, ``scale`` (``"proportion not reoffending"`` or
        ``"hazard ratio"``), ``estimate``, ``lower``, ``upper``, ``n`` (people), ``biased``
        (whether the analysis carries immortal time):

        * ``of those engaged`` — share of people who ever engaged with no event within the
          horizon (the published kind of figure);
        * ``everyone referred`` — the same share among everyone referred (intention to
          treat: what referral to the scheme achieved, no comparison);
        * ``ever engaged, from referral`` — Cox hazard ratio of ever engaging, timed from
          referral (immortal time included: biased towards benefit);
        * ``time-varying engagement`` — Cox hazard ratio with engagement as a time-varying
          covariate from the day it starts (Andersen–Gill);
        * ``landmark at day L`` — Cox hazard ratio of engagement by day L among people still
          at risk on day L, from L.
    horizon_days, landmark_day, conf_level
        The options used.
    """

    _title = "Engagement: per-protocol figure and immortal-time-free analyses"

    table: pd.DataFrame
    horizon_days: float
    landmark_day: float
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """The table of analyses."""
        return self.table.copy()


def per_protocol_bias(
    df: pd.DataFrame,
    *,
    time: str = "time",
    event: str = "event",
    engaged_at: str = "engaged_day",
    horizon_days: float = 182,
    landmark_day: float = 60,
    covariates: Sequence[str] = (),
    conf_level: float = 0.95,
    id_col: str | None = "person_id",
) -> EngagementComparison:
    """Show how much of an "of those engaged" figure is immortal time and selection.

    Parameters
    ----------
    df
        One row per person referred to the scheme: follow-up ``time`` (days from referral),
        ``event`` (first proven reoffence) and ``engaged_at`` (day engagement started; NaN if
        never).
    horizon_days
        Horizon of the published figure (DIVERT: six months, 182 days).
    landmark_day
        Landmark for the landmark analysis (fix it in the analysis plan).
    covariates
        Adjust the three Cox models for these.

    Notes
    -----
    The share "of those engaged" who did not reoffend counts only people who stayed free long
    enough to engage, and compares nobody: it is high even when engagement does nothing
    (Suissa 2008). The Cox model of *ever* engaging from referral has the same immortal time
    and gives a hazard ratio below 1 under no effect. With engagement as a time-varying
    covariate (:func:`split_engagement`, counting process; Andersen & Gill 1982) or a landmark
    (:func:`landmark`), a person counts as engaged only from the day they engage, and under no
    effect the hazard ratio is 1 up to chance — though selection on characteristics that
    are not measured (motivation) remains, and only a comparison group can address it.
    Shares use Wilson intervals; people censored before the horizon without an event count as
    not reoffending (the published figures do the same).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> n = 3000
    >>> t = np.ceil(rng.exponential(500, n)).clip(max=365)  # engagement does nothing
    >>> day = np.where(rng.random(n) < 0.6, rng.integers(5, 90, n), np.nan)
    >>> df = pd.DataFrame({"time": t, "event": (t < 365).astype(int), "engaged_day": day})
    >>> res = per_protocol_bias(df, id_col=None).to_frame().set_index("analysis")
    >>> bool(res.loc["of those engaged", "estimate"] > res.loc["everyone referred", "estimate"])
    True
    >>> bool(res.loc["ever engaged, from referral", "upper"] < 1)
    True
    """
    from evalkit.proportions import wilson_interval
    from evalkit.survival import cox

    df = check_frame(df)
    require_columns(df, [time, event, engaged_at])
    ids = id_col if id_col is not None and id_col in df else None
    H = check_number(horizon_days, "horizon_days", minimum=0.0, strict=True)
    covs = check_columns(covariates, "covariates")
    t = check_time(df, time, id_col=ids)
    e = check_event(df, event, id_col=ids)
    day = _engaged_day(df, engaged_at, ids)
    ever = day < t  # engaged before the end of follow-up
    free = ~((e == 1) & (t <= H))  # no event within the horizon
    conf_level = check_conf_level(conf_level)
    rows: list[dict[str, Any]] = []
    for name, use in (("of those engaged", ever), ("everyone referred", np.ones_like(ever))):
        k, m = int(free[use].sum()), int(use.sum())
        share = wilson_interval(k, m, conf_level=conf_level) if m else None
        rows.append(
            {
                "analysis": name,
                "scale": "proportion not reoffending",
                "estimate": float(share.estimate) if share else np.nan,
                "lower": float(share.lower) if share else np.nan,
                "upper": float(share.upper) if share else np.nan,
                "n": m,
                "biased": name == "of those engaged",
            }
        )
    base = df[covs].reset_index(drop=True)
    base["time"], base["event"] = t, e
    naive = cox(
        base.assign(ever_engaged=ever.astype(np.int8)),
        time="time",
        event="event",
        covariates=["ever_engaged", *covs],
        conf_level=conf_level,
    )
    long = split_engagement(
        base.assign(engaged_day=day),
        time="time",
        event="event",
        engaged_at="engaged_day",
        id_col=None,
        keep=covs,
    )
    varying = cox(
        long,
        start="start",
        time="stop",
        event="event",
        covariates=["engaged", *covs],
        conf_level=conf_level,
    )
    marked = landmark(
        base.assign(engaged_day=day),
        landmark_day=landmark_day,
        covariates=covs,
        conf_level=conf_level,
        id_col=None,
    )
    for name, table, term, n, biased in (
        ("ever engaged, from referral", naive.to_frame(), "ever_engaged", len(df), True),
        ("time-varying engagement", varying.to_frame(), "engaged", len(df), False),
        (
            f"landmark at day {marked.landmark_day:g}",
            marked.to_frame(),
            "engaged_by_landmark",
            len(marked.data),
            False,
        ),
    ):
        r = table[table["term"] == term].iloc[0]
        rows.append(
            {
                "analysis": name,
                "scale": "hazard ratio",
                "estimate": float(r["hr"]),
                "lower": float(r["hr_lower"]),
                "upper": float(r["hr_upper"]),
                "n": n,
                "biased": biased,
            }
        )
    return EngagementComparison(
        table=pd.DataFrame(rows),
        horizon_days=H,
        landmark_day=marked.landmark_day,
        conf_level=naive.conf_level,
    )
