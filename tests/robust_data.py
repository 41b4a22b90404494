"""Data and calls shared by the robustness tests (``tests/test_robust_*.py``, issue 12).

Small, realistic data sets built from a seed (people, a monthly series, a panel), a list of
ways to spoil a column (missing or infinite values, 1e300, text, booleans, unused categories…),
one call per public data function, and :func:`outcome`, which runs a call and sorts what
happened into: a result, a documented error (``InputError``, ``DesignError``,
``ConvergenceError``), or an escape (any other exception, or a warning that is not evalkit's).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import evalkit as ek
from evalkit.errors import ConvergenceError, DataWarning, DesignError, InputError
from evalkit.errors import StatisticalWarning as _Stat

DOCUMENTED = (InputError, DesignError, ConvergenceError)


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------
def people(n: int, seed: int) -> pd.DataFrame:
    """``n`` people: two arms, survival time and event, causes, covariates, JDL outcomes."""
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "programme", "comparison")
    rng.shuffle(arm)
    age = rng.integers(18, 60, n).astype(float)
    prio = rng.poisson(2, n)
    hazard = 0.004 * np.exp(0.3 * (arm == "comparison") + 0.08 * prio)
    t_event = rng.exponential(1 / hazard)
    censor = rng.uniform(30, 365, n)
    time = np.ceil(np.minimum(t_event, censor))
    event = (t_event <= censor).astype(int)
    area = pd.Categorical(
        rng.choice(["north", "south", "east"], n), categories=["north", "south", "east"]
    )
    engaged = np.where(rng.random(n) < 0.5, rng.integers(1, 40, n).astype(float), np.nan)
    return pd.DataFrame(
        {
            "person_id": [f"P{i:04d}" for i in range(n)],
            "group": arm,
            "time": time,
            "event": event,
            "cause": event * rng.integers(1, 3, n),
            "age": age,
            "prio": prio,
            "fin": (arm == "programme").astype(int),
            "area": area,
            "w": rng.uniform(0.5, 2.0, n),
            "reoffended": event,
            "n_reoffences": event * (1 + prio % 3),
            "engaged_day": np.where(engaged < time, engaged, np.nan),
            "cohort_period": np.where(np.arange(n) % 2 == 0, "before", "after"),
        }
    )


def series(n: int, seed: int) -> pd.DataFrame:
    """A monthly count series of ``n`` points, interrupted two thirds of the way."""
    rng = np.random.default_rng(seed)
    post = (np.arange(n) >= (2 * n) // 3).astype(int)
    return pd.DataFrame(
        {
            "month": np.arange(1, n + 1),
            "post": post,
            "count": rng.poisson(60 * np.exp(-0.2 * post)),
            "population": rng.integers(900, 1100, n).astype(float),
        }
    )


def panel(units: int, seed: int, periods: int = 4) -> pd.DataFrame:
    """``units`` units (half in the programme) observed over ``periods`` periods."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(periods), units)
    arm = np.where(unit < units // 2 + units % 2, "programme", "comparison")
    post = (period >= periods // 2).astype(int)
    y = 10 + 0.5 * period - 2.0 * post * (arm == "programme") + rng.normal(size=len(unit))
    return pd.DataFrame(
        {
            "unit": unit,
            "group": arm,
            "period": period,
            "post": post,
            "y": y,
            "count": rng.poisson(5 + period),
            "area": np.where(unit % 2 == 0, "north", "south"),
        }
    )


DATA: dict[str, Callable[[int, int], pd.DataFrame]] = {
    "people": people,
    "series": series,
    "panel": panel,
}


# ------------------------------------------------------------------------------------------
# ways to spoil a column
# ------------------------------------------------------------------------------------------
KINDS = (
    "nan",
    "inf",
    "minus_inf",
    "huge",
    "tiny",
    "huge_one",
    "negative",
    "zero",
    "constant",
    "text_one",
    "numbers_as_text",
    "bool",
    "nullable",
    "unused_category",
    "string_dtype",
    "third_label",
)


def spoil(df: pd.DataFrame, column: str, kind: str, row: int = 0) -> pd.DataFrame:
    """A copy of ``df`` with ``column`` spoilt in the way ``kind`` names (at ``row``)."""
    d = df.copy()
    n = len(d)
    if n == 0:
        return d
    row = row % n
    s = d[column]
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    values = s.to_numpy(dtype=float) if numeric else None
    if kind in ("nan", "inf", "minus_inf", "huge_one", "text_one", "third_label"):
        new = s.astype(object).to_numpy(copy=True)
        new[row] = {
            "nan": np.nan,
            "inf": np.inf,
            "minus_inf": -np.inf,
            "huge_one": 1e300,
            "text_one": "abc",
            "third_label": "third",
        }[kind]
        if numeric and kind in ("nan", "inf", "minus_inf", "huge_one"):
            new = new.astype(float)
        d[column] = new
    elif kind == "huge" and values is not None:
        d[column] = values * 1e300 + (values == 0) * 1e300
    elif kind == "tiny" and values is not None:
        d[column] = values * 1e-300 + (values == 0) * 1e-300
    elif kind == "negative" and values is not None:
        d[column] = -values - 1
    elif kind == "zero":
        d[column] = 0
    elif kind == "constant":
        d[column] = s.iloc[0]
    elif kind == "numbers_as_text":
        d[column] = s.astype(str)
    elif kind == "bool":
        d[column] = (values > np.median(values)) if values is not None else s == s.iloc[0]
    elif kind == "nullable" and values is not None:
        arr = pd.array(values, dtype="Float64")
        arr[row] = pd.NA
        d[column] = arr
    elif kind == "unused_category":
        labels = s.astype(str)
        d[column] = pd.Categorical(labels, categories=[*sorted(set(labels.dropna())), "zz_unused"])
    elif kind == "string_dtype":
        d[column] = s.astype(str).astype("string")
    return d


def reshape(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Whole-frame changes: no rows, one row, duplicated rows or index labels."""
    if kind == "empty":
        return df.iloc[:0]
    if kind == "one_row":
        return df.iloc[:1]
    if kind == "duplicated_rows":
        return pd.concat([df, df.iloc[:3]], ignore_index=True)
    if kind == "duplicated_index":
        return df.set_axis(np.zeros(len(df), dtype=int), axis=0)
    if kind == "text_index":
        return df.set_axis([f"r{i}" for i in range(len(df))], axis=0)
    if kind == "one_arm" and "group" in df:
        return df[df["group"] == "comparison"]
    if kind == "one_in_programme" and "group" in df:
        first = df[df["group"] == "programme"].iloc[:1]
        return pd.concat([first, df[df["group"] == "comparison"]])
    if kind == "all_censored":
        return df.assign(
            **{c: 0 for c in ("event", "cause", "reoffended", "n_reoffences") if c in df}
        )
    if kind == "all_events" and "event" in df:
        return df.assign(event=1, reoffended=1, n_reoffences=np.maximum(df["n_reoffences"], 1))
    return df


RESHAPES = (
    "empty",
    "one_row",
    "duplicated_rows",
    "duplicated_index",
    "text_index",
    "one_arm",
    "one_in_programme",
    "all_censored",
    "all_events",
)


# ------------------------------------------------------------------------------------------
# one call per public data function: (data set, columns it reads, call)
# ------------------------------------------------------------------------------------------
SURV = {"time": "time", "event": "event"}
COVS = ["age", "prio", "area"]
DID = {"group": "group", "post": "post", "time": "period"}


@dataclass(frozen=True)
class Call:
    data: str
    columns: tuple[str, ...]
    run: Callable[[pd.DataFrame], Any]
    # columns of the headline table that may hold NaN or inf without a warning, and why
    nan_ok: frozenset[str] = field(default_factory=frozenset)


def _jdl(df: pd.DataFrame, **k: Any) -> Any:
    return ek.jdl_outcomes(df, group="group", time="time", id_col="person_id", **k)


CALLS: dict[str, Call] = {
    # the SE of a curve that has reached 0 is undefined (R: NA)
    "kaplan_meier": Call(
        "people",
        ("time", "event", "group", "w"),
        lambda d: ek.kaplan_meier(d, **SURV, by="group", weights="w"),
        frozenset({"se", "lower", "upper"}),
    ),
    "logrank": Call(
        "people", ("time", "event", "group"), lambda d: ek.logrank(d, **SURV, by="group")
    ),
    "rmst": Call(
        "people", ("time", "event", "group"), lambda d: ek.rmst(d, **SURV, tau=30, by="group")
    ),
    "rmst_difference": Call(
        "people",
        ("time", "event", "group"),
        lambda d: ek.rmst_difference(d, **SURV, tau=30, group="group"),
    ),
    "cumulative_incidence": Call(
        "people",
        ("time", "cause", "group"),
        lambda d: ek.cumulative_incidence(d, time="time", event="cause", by="group"),
        frozenset({"se", "lower", "upper"}),
    ),
    # a coefficient that diverges (monotone likelihood) has infinite limits; Cox warns
    "cox": Call(
        "people",
        ("time", "event", "fin", "age", "prio", "area", "w"),
        lambda d: ek.cox(d, **SURV, covariates=["fin", *COVS], weights="w", robust=True),
    ),
    "propensity_score": Call(
        "people",
        ("group", *COVS),
        lambda d: ek.propensity_score(d, group="group", covariates=COVS),
    ),
    # variance ratios are for continuous covariates only (NaN for binary ones, as cobalt)
    "match": Call(
        "people",
        ("group", *COVS),
        lambda d: ek.match(d, group="group", covariates=COVS, caliper=0.5),
        frozenset({"vr_before", "vr_after", "smd_before", "smd_after"}),
    ),
    "weight": Call(
        "people",
        ("group", *COVS),
        lambda d: ek.weight(d, group="group", covariates=COVS),
        frozenset({"vr_before", "vr_after", "smd_before", "smd_after"}),
    ),
    # without weights the "after" columns are empty
    "balance": Call(
        "people",
        ("group", *COVS),
        lambda d: ek.balance(d, group="group", covariates=COVS),
        frozenset(
            {
                "vr_before",
                "vr_after",
                "smd_before",
                "smd_after",
                "mean_treated_after",
                "mean_control_after",
                "ecdf_mean_after",
                "ecdf_max_after",
            }
        ),
    ),
    # the Newcombe interval has no SE; a comparison shown as "not available" (too few
    # reoffenders, or no variation) has no interval or test
    "jdl_outcomes": Call(
        "people",
        ("group", "time", "reoffended", "n_reoffences", "person_id"),
        _jdl,
        frozenset({"se", "lower", "upper", "p", "programme", "comparison", "estimate"}),
    ),
    "its": Call(
        "series",
        ("count", "month", "post", "population"),
        lambda d: ek.its(d, outcome="count", time="month", post="post", exposure="population"),
    ),
    "did": Call(
        "panel",
        ("y", "group", "post", "period", "unit", "area"),
        lambda d: ek.did(d, outcome="y", **DID, cluster="unit", covariates=["area"]),
    ),
    "did_poisson": Call(
        "panel",
        ("count", "group", "post", "period"),
        lambda d: ek.did(d, outcome="count", **DID, family="poisson"),
    ),
    # the baseline row has no test
    "compare_cohorts": Call(
        "people",
        ("event", "age", "prio", "area", "cohort_period"),
        lambda d: ek.compare_cohorts(d, outcome="event", covariates=COVS),
        frozenset({"p"}),
    ),
    "landmark": Call(
        "people",
        ("time", "event", "age", "engaged_day", "person_id"),
        lambda d: ek.landmark(d, **SURV, landmark_day=10, covariates=["age"]),
    ),
    "per_protocol_bias": Call(
        "people",
        ("time", "event", "engaged_day", "person_id"),
        lambda d: ek.per_protocol_bias(d, **SURV, horizon_days=120, landmark_day=10),
    ),
}


# ------------------------------------------------------------------------------------------
# running a call
# ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    result: Any = None
    error: BaseException | None = None
    warnings: list[warnings.WarningMessage] = field(default_factory=list)

    @property
    def escaped(self) -> bool:
        return self.error is not None and not isinstance(self.error, DOCUMENTED)

    def foreign_warnings(self) -> list[str]:
        """Warnings that are not evalkit's own (numpy overflow, statsmodels, pandas…)."""
        return sorted(
            {
                f"{w.category.__name__}: {w.message}"
                for w in self.warnings
                if not issubclass(w.category, (_Stat, DataWarning))
            }
        )

    def warned(self) -> bool:
        return any(issubclass(w.category, _Stat) for w in self.warnings)


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run ``fn``; keep its result or exception and every warning it gave."""
    out = Outcome()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out.result = fn(*args, **kwargs)
        except Exception as exc:  # sorted by the caller: documented or an escape
            out.error = exc
    out.warnings = list(caught)
    return out


def describe(out: Outcome) -> str:
    if out.error is not None:
        return f"{type(out.error).__name__}: {out.error}"
    return f"result {type(out.result).__name__}; warnings {out.foreign_warnings()}"


def undefined_columns(table: pd.DataFrame) -> set[str]:
    """Float columns of ``table`` holding NaN or ±inf (``df`` = inf means the normal
    distribution, not an undefined number)."""
    out = set()
    for c in table.columns:
        if pd.api.types.is_float_dtype(table[c]) and c not in ("df", "df2"):
            values = table[c].to_numpy(dtype=float)
            if not np.isfinite(values).all():
                out.add(str(c))
    return out
