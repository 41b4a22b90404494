"""The API contract of docs/conventions.md, checked over every public name in ``ek.__all__``.

Each public function is either called here on a small data set (``CALLS``) or listed with the
reason it takes no data frame (``NO_FRAME``); a new public name that is in neither fails
``test_every_public_name_is_covered``, so the contract cannot be skipped by accident.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.errors import InputError
from evalkit.results import COLUMNS, FORBIDDEN_COLUMNS, Result

# ------------------------------------------------------------------------------------------
# data: rossi (Rossi, Berk & Lenihan 1980, via lifelines) with a labelled two-arm group, a
# categorical covariate and a short monthly panel for the time-series designs
# ------------------------------------------------------------------------------------------


def _people() -> pd.DataFrame:
    df = ek.datasets.load_rossi()
    df["group"] = np.where(df["fin"] == 1, "programme", "comparison")
    df["area"] = pd.Categorical(
        np.array(["north", "south", "east"])[np.arange(len(df)) % 3],
        categories=["north", "south", "east"],
    )
    df["cause"] = np.where(df["arrest"] == 1, 1 + (df["prio"] > 3), 0)
    df["person_id"] = [f"P{i:04d}" for i in range(len(df))]
    df["cohort_period"] = np.where(np.arange(len(df)) % 2 == 0, "before", "after")
    # engagement in week 2..14 for half the people, if still free then (no effect: known truth)
    day = (2 + df["prio"] % 13).astype(float)
    df["engaged_day"] = np.where((df["age"] % 2 == 0) & (day < df["week"]), day, np.nan)
    return df


def _series() -> pd.DataFrame:
    rng = np.random.default_rng(20261130)
    months = pd.period_range("2021-01", periods=36, freq="M").to_timestamp()
    post = (np.arange(36) >= 24).astype(int)
    count = rng.poisson(80 * np.exp(-0.2 * post))
    return pd.DataFrame({"month": months, "post": post, "count": count})


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for unit in range(40):
        arm = "programme" if unit < 20 else "comparison"
        for period in range(6):
            post = int(period >= 3)
            y = 10 + 0.5 * period - 2.0 * post * (arm == "programme") + rng.normal()
            rows.append(
                {
                    "unit": unit,
                    "group": arm,
                    "period": period,
                    "post": post,
                    "y": y,
                    "area": ["north", "south"][unit % 2],
                }
            )
    return pd.DataFrame(rows)


DATA: dict[str, Callable[[], pd.DataFrame]] = {
    "people": _people,
    "series": _series,
    "panel": _panel,
}

PEOPLE_KW = {"time": "week", "event": "arrest"}
COVS = ["age", "prio", "area"]

# name -> (data set, call taking the frame and extra keyword arguments)
CALLS: dict[str, tuple[str, Callable[..., Any]]] = {
    "kaplan_meier": ("people", lambda df, **k: ek.kaplan_meier(df, **PEOPLE_KW, by="group", **k)),
    "logrank": ("people", lambda df, **k: ek.logrank(df, **PEOPLE_KW, by="group", **k)),
    "rmst": ("people", lambda df, **k: ek.rmst(df, **PEOPLE_KW, tau=40, by="group", **k)),
    "rmst_difference": (
        "people",
        lambda df, **k: ek.rmst_difference(df, **PEOPLE_KW, tau=40, group="group", **k),
    ),
    "cumulative_incidence": (
        "people",
        lambda df, **k: ek.cumulative_incidence(df, time="week", event="cause", by="group", **k),
    ),
    "cox": ("people", lambda df, **k: ek.cox(df, **PEOPLE_KW, covariates=["fin", *COVS], **k)),
    "propensity_score": (
        "people",
        lambda df, **k: ek.propensity_score(df, group="group", covariates=COVS, **k),
    ),
    "match": (
        "people",
        lambda df, **k: ek.match(df, group="group", covariates=COVS, caliper=0.2, **k),
    ),
    "weight": ("people", lambda df, **k: ek.weight(df, group="group", covariates=COVS, **k)),
    "balance": ("people", lambda df, **k: ek.balance(df, group="group", covariates=COVS, **k)),
    "jdl_outcomes": (
        "people",
        lambda df, **k: ek.jdl_outcomes(
            df.assign(reoffended=df["arrest"], n_reoffences=df["arrest"] * (1 + df["prio"] % 3)),
            group="group",
            time="week",
            id_col="person_id",
            **k,
        ),
    ),
    "its": (
        "series",
        lambda df, **k: ek.its(df, outcome="count", time="month", post="post", **k),
    ),
    "compare_cohorts": (
        "people",
        lambda df, **k: ek.compare_cohorts(
            df, outcome="arrest", covariates=["age", "prio", "area"], **k
        ),
    ),
    "landmark": (
        "people",
        lambda df, **k: ek.landmark(df, **PEOPLE_KW, landmark_day=8, covariates=["age"], **k),
    ),
    "per_protocol_bias": (
        "people",
        lambda df, **k: ek.per_protocol_bias(df, **PEOPLE_KW, horizon_days=26, landmark_day=8, **k),
    ),
    "did": (
        "panel",
        lambda df, **k: ek.did(
            df, outcome="y", group="group", post="post", time="period", cluster="unit", **k
        ),
    ),
}

# public functions that reshape data rather than estimate: df first, a DataFrame/Series back
TRANSFORMS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "split_engagement": lambda df: ek.split_engagement(df, **PEOPLE_KW),
    "engagement_days": lambda df: ek.engagement_days(
        df.assign(index_date=pd.Timestamp("2024-01-01")),
        pd.DataFrame(
            {"person_id": df["person_id"], "engagement_start": pd.Timestamp("2024-01-15")}
        ),
    ),
}

# public callables that take no data frame first, and why
NO_FRAME: dict[str, str] = {
    "check_claim": "checks a published figure (a number), not data",
    "value_for_money": "costs and an effect estimate, not data",
    "proven_reoffending": "builds the cohort from several tables (people, offences, custody...)",
    "read_table": "reads a file",
    "rate_difference": "counts (x1, n1, x0, n0), as R's prop.test",
    "rate_ratio": "counts",
    "odds_ratio": "counts",
    "paired_rate_difference": "counts of a paired 2x2 table",
    "wilson_interval": "counts (x, n), as R's prop.test",
    "n_two_proportions": "planning: rates, no data yet",
    "power_two_proportions": "planning",
    "mde_two_proportions": "planning",
    "events_logrank": "planning",
    "plan_pilot": "planning",
    "verdict": "judges Measures, not data",
    "matched_rate_difference": "post-estimation: takes a MatchResult or WeightResult",
}

TWO_ARM = {
    "propensity_score",
    "match",
    "weight",
    "balance",
    "jdl_outcomes",
    "did",
    "rmst_difference",
    "matched_rate_difference",
}
K_GROUP = {"kaplan_meier", "logrank", "rmst", "cumulative_incidence"}

# argument names that the glossary replaced, and where (if anywhere) they remain legitimate
RETIRED = {
    "treatment": set(),
    "programme": set(),
    # the comparison *arm* is whatever `group` holds besides `treated`; `comparison` remains
    # only where it names a comparison population or the kind of comparison a claim made
    "comparison": {"check_claim", "compare_cohorts"},
    "data": set(),
    "level": set(),
    "ci": set(),
    "p_value": set(),
    "ratio": {"match"},
    "alpha": {
        "n_two_proportions",
        "power_two_proportions",
        "mde_two_proportions",
        "events_logrank",
        "plan_pilot",
    },
}


def _public() -> dict[str, Any]:
    return {name: getattr(ek, name) for name in ek.__all__ if not name.startswith("__")}


def _functions() -> dict[str, Callable[..., Any]]:
    return {
        n: obj
        for n, obj in _public().items()
        if inspect.isfunction(obj) and not isinstance(obj, type)
    }


def _result_classes() -> dict[str, type]:
    return {
        n: obj for n, obj in _public().items() if isinstance(obj, type) and issubclass(obj, Result)
    }


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return {name: _quiet(call, DATA[ds]()) for name, (ds, call) in CALLS.items()}


# ------------------------------------------------------------------------------------------
# the glossary
# ------------------------------------------------------------------------------------------


def test_every_public_name_is_covered() -> None:
    missing = sorted(set(_functions()) - set(CALLS) - set(NO_FRAME) - set(TRANSFORMS))
    assert not missing, (
        f"public functions neither called by the contract test nor exempt: {missing}"
    )


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_take_df_first_and_return_data(name: str) -> None:
    params = list(inspect.signature(getattr(ek, name)).parameters.values())
    assert params[0].name == "df"
    out = _quiet(TRANSFORMS[name], _people())
    assert isinstance(out, (pd.DataFrame, pd.Series))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_data_is_the_first_positional_argument_df(name: str) -> None:
    params = list(inspect.signature(getattr(ek, name)).parameters.values())
    assert params[0].name == "df", f"{name}: first argument is {params[0].name!r}"
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    others = [p for p in params[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert not others, f"{name}: options must be keyword-only: {[p.name for p in others]}"


@pytest.mark.parametrize("name", sorted(_functions()))
def test_retired_argument_names_are_gone(name: str) -> None:
    params = inspect.signature(getattr(ek, name)).parameters
    for old, allowed in RETIRED.items():
        if old in params:
            assert name in allowed, f"{name} still takes {old!r} (see docs/conventions.md)"


@pytest.mark.parametrize("name", sorted(TWO_ARM))
def test_two_arm_methods_take_group_and_treated(name: str) -> None:
    params = inspect.signature(getattr(ek, name)).parameters
    if name == "matched_rate_difference":  # the arms come from the matching result
        assert "group" not in params and "treated" not in params
        return
    assert "group" in params and "treated" in params, name
    assert params["treated"].default == "programme", name
    assert "by" not in params, f"{name}: 'by' is only for k-group summaries"


@pytest.mark.parametrize("name", sorted(K_GROUP))
def test_k_group_summaries_take_by(name: str) -> None:
    params = inspect.signature(getattr(ek, name)).parameters
    assert "by" in params and "group" not in params, name


@pytest.mark.parametrize("name", sorted(_functions()))
def test_conf_level_defaults_to_95_percent(name: str) -> None:
    params = inspect.signature(getattr(ek, name)).parameters
    if "conf_level" in params:
        assert params["conf_level"].default == 0.95, name


@pytest.mark.parametrize("name", sorted(_functions()))
def test_public_functions_are_typed(name: str) -> None:
    sig = inspect.signature(getattr(ek, name))
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"
    assert sig.return_annotation not in ("Any", Any), f"{name}: returns Any"
    untyped = [
        p.name
        for p in sig.parameters.values()
        if p.annotation is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
    ]
    assert not untyped, f"{name}: untyped arguments {untyped}"


# ------------------------------------------------------------------------------------------
# the result contract
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_result_classes()))
def test_result_classes_are_frozen_without_equality(name: str) -> None:
    cls = _result_classes()[name]
    assert dataclasses.is_dataclass(cls), name
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen, f"{name} is not frozen"
    assert not params.eq, f"{name} compares with == (eq=False is the contract)"


def test_every_function_returns_a_result(results: dict[str, Any]) -> None:
    for name, res in results.items():
        assert isinstance(res, Result), f"{name} returns {type(res).__name__}, not a Result"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_are_short_to_print_and_summarise(name: str, results: dict[str, Any]) -> None:
    res = results[name]
    text = repr(res)
    assert "\n" not in text and len(text) <= 300, f"{name}: repr is {len(text)} characters"
    summary = res.summary()
    assert isinstance(summary, str) and summary


@pytest.mark.parametrize("name", sorted(CALLS))
def test_to_frame_is_a_fresh_table_in_the_vocabulary(name: str, results: dict[str, Any]) -> None:
    res = results[name]
    a, b = res.to_frame(), res.to_frame()
    assert isinstance(a, pd.DataFrame) and len(a)
    assert a is not b
    floats = [k for k, c in enumerate(a.columns) if pd.api.types.is_float_dtype(a[c])]
    if floats:
        a.iloc[0, floats[0]] = 12345.0
    pd.testing.assert_frame_equal(b, res.to_frame())  # editing one copy changes nothing
    columns = {str(c).lower() for c in b.columns}
    assert not columns & FORBIDDEN_COLUMNS, f"{name}: {sorted(columns & FORBIDDEN_COLUMNS)}"
    if {"estimate", "lower", "upper"} <= columns:
        ok = b[["estimate", "lower", "upper"]].astype(float).dropna()
        assert (ok["lower"] <= ok["estimate"] + 1e-12).all(), name
        assert (ok["estimate"] <= ok["upper"] + 1e-12).all(), name
    if "p" in columns:
        p = b["p"].astype(float).dropna()
        assert ((p >= 0) & (p <= 1)).all(), name


def test_vocabulary_is_the_documented_one() -> None:
    assert COLUMNS == ("estimate", "se", "lower", "upper", "statistic", "df", "df2", "p")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_conf_level_round_trips(name: str) -> None:
    ds, call = CALLS[name]
    if "conf_level" not in inspect.signature(getattr(ek, name)).parameters:
        pytest.skip(f"{name} computes no interval")
    res = _quiet(call, DATA[ds](), conf_level=0.9)
    assert res.conf_level == 0.9


@pytest.mark.parametrize("name", sorted(CALLS))
def test_conf_level_as_text_is_refused_by_name(name: str) -> None:
    ds, call = CALLS[name]
    if "conf_level" not in inspect.signature(getattr(ek, name)).parameters:
        pytest.skip(f"{name} computes no interval")
    with pytest.raises(InputError, match="argument 'conf_level'"):
        _quiet(call, DATA[ds](), conf_level="0.9")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_are_immutable(name: str, results: dict[str, Any]) -> None:
    res = results[name]
    field = dataclasses.fields(res)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, field, None)


def _numbers(res: Any) -> list[pd.DataFrame]:
    """Every table a result can show (its headline and, where it has one, its balance)."""
    out = [res.to_frame()]
    bal = getattr(res, "balance", None)
    if callable(bal) and not isinstance(res, ek.Balance):
        out.append(bal())
    return out


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_do_not_change_when_the_input_frame_does(name: str) -> None:
    ds, call = CALLS[name]
    df = DATA[ds]()
    res = _quiet(call, df)
    before = _numbers(res)
    # vandalise the caller's frame: every numeric column reversed, every arm relabelled
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            df[col] = df[col].to_numpy()[::-1]
    if "group" in df:
        df["group"] = "comparison"
    after = _numbers(res)
    for a, b in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_results_do_not_depend_on_row_order(name: str) -> None:
    ds, call = CALLS[name]
    df = DATA[ds]()
    if name in {"match", "matched_rate_difference"}:
        pytest.skip("greedy matching takes ties in data order, as MatchIt")
    shuffled = df.sample(frac=1.0, random_state=3)
    a = _quiet(call, df).to_frame()
    b = _quiet(call, shuffled).to_frame()
    num = [c for c in a.columns if pd.api.types.is_float_dtype(a[c])]
    np.testing.assert_allclose(
        a[num].to_numpy(dtype=float), b[num].to_numpy(dtype=float), rtol=1e-8, equal_nan=True
    )


def test_two_arm_methods_accept_0_1_columns_with_treated_1() -> None:
    df = _people()
    labelled = _quiet(ek.balance, df, group="group", covariates=COVS).to_frame()
    coded = _quiet(ek.balance, df, group="fin", treated=1, covariates=COVS).to_frame()
    pd.testing.assert_frame_equal(labelled, coded)


def test_categorical_covariates_are_coded_one_way_everywhere() -> None:
    df = _people()
    cox_terms = set(_quiet(ek.cox, df, **PEOPLE_KW, covariates=COVS).to_frame()["term"])
    ps = _quiet(ek.propensity_score, df, group="group", covariates=COVS)
    ps_terms = set(ps.coefficients.index)
    assert {"area[south]", "area[east]"} <= cox_terms
    assert {"(Intercept)", "area[south]", "area[east]"} <= ps_terms
    assert "area[north]" not in cox_terms | ps_terms  # the first category is the reference


def test_option_errors_name_the_argument() -> None:
    df = _people()
    with pytest.raises(InputError, match="argument 'ratio'"):
        ek.match(df, group="group", covariates=COVS, ratio="2")
    with pytest.raises(InputError, match="argument 'allocation'"):
        ek.n_two_proportions(0.5, 0.4, allocation="2")


def test_public_names_survive_every_submodule_being_imported() -> None:
    """A public function named like a module (``verdict``) must stay the function after the
    module is imported (Python binds a submodule onto its package when it is imported)."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(ek.__path__, prefix="evalkit."):
        if ".templates" in info.name:  # report templates are scripts, not modules
            continue
        importlib.import_module(info.name)
    for name in ek.__all__:
        value = getattr(ek, name)
        if name in NO_FRAME or name in CALLS or name in TRANSFORMS:
            assert inspect.isfunction(value), f"ek.{name} is {type(value).__name__}"


def test_import_evalkit_loads_no_numerical_library() -> None:
    """``import evalkit`` stays fast (the command line starts at once): numpy, pandas, scipy
    and statsmodels load when a function needs them (measure with ``python -X importtime``)."""
    import subprocess
    import sys

    code = (
        "import sys, evalkit; "
        "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'statsmodels', 'matplotlib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
