"""Robustness of the public functions that take numbers, results or several tables rather than
one data frame (issue 12, item 4): counts and proportions, power and planning, published
claims, value for money, verdicts, post-matching effects, the engagement transforms, the
cohort builder and the file reader. Any value in any argument gives a result or a documented
error (``InputError``, ``DesignError``, ``ConvergenceError``; ``FileNotFoundError`` for a
missing file, as ``read_table`` documents), never another exception or a foreign warning.

``test_every_public_function_is_fuzzed`` keeps the list complete: a new public function that
is neither here nor in ``robust_data.CALLS`` fails it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_data import CALLS, Outcome, describe, outcome, people

import evalkit as ek
from evalkit.errors import InputError

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# anything a user might pass where a number is expected
anything = st.one_of(
    st.integers(-3, 60),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.sampled_from([1e300, -1e300, 1e-300, 0.0, 0.5, 2**63, True, False, None, "5", "", "x"]),
    st.lists(st.integers(0, 50), min_size=0, max_size=3),
    st.just(np.array([[1, 2], [3, 4]])),
)


def clean(out: Outcome, what: str, *also: type[BaseException]) -> None:
    assert not out.escaped or isinstance(out.error, also), f"{what}: {describe(out)}"
    assert not out.foreign_warnings(), f"{what}: {out.foreign_warnings()}"


# ------------------------------------------------------------------------------------------
# counts, proportions, power
# ------------------------------------------------------------------------------------------
COUNT_FUNCTIONS = {
    "rate_difference": (ek.rate_difference, (8, 20, 4, 20)),
    "rate_ratio": (ek.rate_ratio, (8, 20, 4, 20)),
    "odds_ratio": (ek.odds_ratio, (8, 20, 4, 20)),
    "paired_rate_difference": (ek.paired_rate_difference, (5, 3, 2, 10)),
    "wilson_interval": (ek.wilson_interval, (8, 20)),
    "n_two_proportions": (ek.n_two_proportions, (0.5, 0.4)),
    "power_two_proportions": (ek.power_two_proportions, (0.5, 0.4, 100, 100)),
    "mde_two_proportions": (ek.mde_two_proportions, (0.4, 100, 100)),
    "plan_pilot": (ek.plan_pilot, (10, 12, 0.4)),
    "events_logrank": (ek.events_logrank, (0.8,)),
}


@pytest.mark.parametrize("name", sorted(COUNT_FUNCTIONS))
@FAST
@given(data=st.data())
def test_number_functions_take_any_value(name: str, data: Any) -> None:
    fn, base = COUNT_FUNCTIONS[name]
    args = list(base)
    position = data.draw(st.integers(0, len(args) - 1))
    args[position] = data.draw(anything)
    options = {
        p.name: p.default
        for p in inspect.signature(fn).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    }
    kwargs = {}
    if options and data.draw(st.booleans()):
        option = data.draw(st.sampled_from(sorted(options)))
        kwargs[option] = data.draw(st.one_of(anything, st.sampled_from(["wald", "exact", "x"])))
    if name == "events_logrank":  # extreme hr or allocation overflow: open, test_robust_bugs.py
        if _real(args[0]):
            args[0] = np.clip(np.asarray(args[0], dtype=float), 1e-6, 1e6)
        if "allocation" in kwargs and _real(kwargs["allocation"]):
            kwargs["allocation"] = np.clip(np.asarray(kwargs["allocation"], float), -1e6, 1e6)
    clean(outcome(fn, *args, **kwargs), f"{name}({args}, {kwargs})")


def _real(value: Any) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
    except (TypeError, ValueError):
        return False


@FAST
@given(
    value=anything,
    kind=st.sampled_from(["proportion", "count", "x"]),
    counted=st.sampled_from(["referred", "engaged", "completed"]),
    field=st.sampled_from(
        ["denominator", "before", "before_denominator", "horizon_days", "scheme_size", "baseline"]
    ),
)
def test_check_claim_takes_any_value(value: Any, kind: str, counted: str, field: str) -> None:
    kwargs = {"kind": kind, "counted": counted, "horizon_days": 182, field: value}
    out = outcome(ek.check_claim, "87% did not reoffend", 0.87, **kwargs)
    clean(out, f"check_claim({kwargs})")
    out = outcome(ek.check_claim, "claim", value, kind=kind)
    clean(out, f"check_claim(value={value!r})")


@FAST
@given(
    value=anything,
    field=st.sampled_from(
        ["cost", "participants", "outcomes", "offences_per_reoffender", "inflation"]
    ),
    estimate=st.tuples(st.floats(-1, 1), st.floats(0, 0.5)),
)
def test_value_for_money_takes_any_value(
    value: Any, field: str, estimate: tuple[float, float]
) -> None:
    mid, half = estimate
    kwargs: dict[str, Any] = {
        "cost": 19_950,
        "participants": 400,
        "outcomes": 309,
        "effect": ek.Estimate(mid, mid - half, mid + half),
        "offence": "criminal damage",
        field: value,
    }
    cost = kwargs.pop("cost")
    clean(outcome(ek.value_for_money, cost, **kwargs), f"value_for_money({field}={value!r})")


@FAST
@given(
    numbers=st.tuples(*(st.floats(-100, 100) for _ in range(3))),
    p=st.one_of(st.none(), st.floats(0, 1)),
    design=st.sampled_from(["randomised", "did", "matched", "unmatched", "before_after", "x"]),
    kind=st.sampled_from(["difference", "ratio"]),
    good=st.sampled_from(["lower", "higher"]),
)
def test_verdict_takes_any_measure_with_numbers(
    numbers: tuple[float, float, float], p: float | None, design: str, kind: str, good: str
) -> None:
    # text in a Measure's numbers and inverted intervals are open: see test_robust_bugs.py
    low, mid, high = sorted(numbers)
    if kind == "ratio":
        low, mid, high = (float(np.exp(v / 50)) for v in (low, mid, high))
    m = outcome(ek.Measure, "m", "reoffending", mid, low, high, p=p, kind=kind, good=good)
    clean(m, "Measure")
    if m.result is not None:
        clean(outcome(ek.verdict, m.result, design=design), f"verdict({m.result!r})")


# ------------------------------------------------------------------------------------------
# post-matching effects, the engagement transforms, the cohort builder, the reader
# ------------------------------------------------------------------------------------------
@FAST
@given(
    n=st.integers(0, 80),
    seed=st.integers(0, 2**16),
    outcome_column=st.sampled_from(["event", "age", "group", "area", "nope", "engaged_day"]),
    how=st.sampled_from(["match", "weight", "match_replace"]),
)
def test_matched_rate_difference_takes_any_outcome(
    n: int, seed: int, outcome_column: str, how: str
) -> None:
    d = people(n, seed)
    covs = ["age", "prio", "area"]
    fit = {
        "match": lambda: ek.match(d, group="group", covariates=covs),
        "weight": lambda: ek.weight(d, group="group", covariates=covs),
        "match_replace": lambda: ek.match(d, group="group", covariates=covs, replace=True),
    }[how]
    first = outcome(fit)
    clean(first, how)
    if first.result is not None:
        out = outcome(ek.matched_rate_difference, first.result, outcome=outcome_column)
        clean(out, f"matched_rate_difference(outcome={outcome_column!r})")
    clean(outcome(ek.matched_rate_difference, d, outcome="event"), "a frame for a result")


@FAST
@given(
    n=st.integers(0, 40),
    seed=st.integers(0, 2**16),
    column=st.sampled_from(["time", "event", "engaged_day", "person_id"]),
    value=anything,
)
def test_engagement_transforms_take_any_value(n: int, seed: int, column: str, value: Any) -> None:
    d = people(n, seed)
    if n:
        d[column] = d[column].astype(object)
        d.loc[d.index[0], column] = value if np.ndim(value) == 0 else str(value)
    clean(outcome(ek.split_engagement, d), f"split_engagement({column}={value!r})")
    people_ = d.assign(index_date=pd.Timestamp("2024-01-01"))
    starts = pd.DataFrame(
        {"person_id": d["person_id"], "engagement_start": pd.Timestamp("2024-01-10")}
    )
    if n:
        starts["engagement_start"] = starts["engagement_start"].astype(object)
        starts.loc[starts.index[-1], "engagement_start"] = (
            value if np.ndim(value) == 0 else str(value)
        )
    clean(outcome(ek.engagement_days, people_, starts), f"engagement_days({value!r})")


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    table=st.sampled_from(["people", "offences", "custody", "deaths"]),
    kind=st.sampled_from(["nan", "text", "number", "bool", "huge", "empty", "duplicated"]),
    row=st.integers(0, 50),
    data=st.data(),
)
def test_proven_reoffending_takes_any_table(table: str, kind: str, row: int, data: Any) -> None:
    sim = {k: v.copy() for k, v in ek.datasets.simulate_reoffending(80, rng=row).items()}
    if table in sim:
        t = sim[table]
        if kind == "empty":
            sim[table] = t.iloc[:0]
        elif kind == "duplicated":
            sim[table] = pd.concat([t, t.iloc[:3]], ignore_index=True)
        elif len(t):
            column = data.draw(st.sampled_from(list(t.columns)))
            t[column] = t[column].astype(object)
            t.loc[t.index[row % len(t)], column] = {
                "nan": np.nan,
                "text": "abc",
                "number": 12345,
                "bool": True,
                "huge": 1e300,
            }[kind]
    out = outcome(
        ek.proven_reoffending,
        sim["people"],
        sim["offences"],
        sim.get("custody"),
        sim.get("deaths"),
    )
    clean(out, f"proven_reoffending({table}: {kind})")


READ_CASES = {
    "missing file": ("nope.csv", {}),
    "bad bytes": ("bytes.csv", {}),
    "empty file": ("empty.csv", {}),
    "not excel": ("fake.xlsx", {}),
    "not parquet": ("fake.parquet", {}),
    "other type": ("notes.txt", {}),
    "a folder": (".", {}),
    "bad date": ("dates.csv", {}),
    "date format": ("dates.csv", {"date_format": "%d/%m/%Y"}),
    "columns not a mapping": ("dates.csv", {"columns": 5}),
    "date format not text": ("dates.csv", {"date_format": 5}),
}


@pytest.mark.parametrize("case", sorted(READ_CASES))
def test_read_table_takes_any_file(case: str, tmp_path: Path) -> None:
    (tmp_path / "bytes.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x01")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "fake.xlsx").write_text("not excel")
    (tmp_path / "fake.parquet").write_text("not parquet")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dates.csv").write_text("person_id,date\n1,2024-13-01\n2,\n3,01/02/2024\n")
    name, kwargs = READ_CASES[case]
    out = outcome(ek.read_table, tmp_path / name, **kwargs)
    clean(out, f"read_table({case})", FileNotFoundError)


def test_read_table_refuses_what_is_not_a_source() -> None:
    for args, kwargs in (
        ((5,), {}),
        ((None,), {}),
        ((pd.DataFrame({"a": [1]}),), {"na_values": 5}),
    ):
        out = outcome(ek.read_table, *args, **kwargs)
        clean(out, f"read_table({args}, {kwargs})")
        assert isinstance(out.error, InputError) and "argument '" in str(out.error), out.error


# ------------------------------------------------------------------------------------------
# every public function is covered by a robustness test
# ------------------------------------------------------------------------------------------
COVERED_HERE = {
    *COUNT_FUNCTIONS,
    "check_claim",
    "value_for_money",
    "verdict",
    "matched_rate_difference",
    "split_engagement",
    "engagement_days",
    "proven_reoffending",
    "read_table",
}


def test_every_public_function_is_fuzzed() -> None:
    public = {
        name
        for name in ek.__all__
        if not name.startswith("_") and inspect.isfunction(getattr(ek, name))
    }
    calls = {name.split("_poisson")[0] for name in CALLS}
    missing = sorted(public - calls - COVERED_HERE)
    assert not missing, f"public functions without a robustness test: {missing}"
