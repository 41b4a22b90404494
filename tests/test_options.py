"""One validation of options (evalkit/_options.py): checked values returned, arguments named."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit._options import (
    check_choice,
    check_columns,
    check_conf_level,
    check_date,
    check_flag,
    check_int,
    check_listed,
    check_number,
    check_probability,
    parse_pairs,
)
from evalkit.errors import InputError


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, 95, "0.9", "high", True, None, float("nan")])
def test_levels_must_lie_strictly_between_0_and_1(bad) -> None:
    with pytest.raises(InputError, match="argument 'power': must be a number strictly") as info:
        check_probability(bad, "power")
    assert info.value.column == "power" and info.value.argument


def test_checked_values_are_returned_as_floats() -> None:
    assert check_conf_level(0.9) == 0.9
    assert isinstance(check_conf_level(np.float32(0.5)), float)
    assert check_number(3, "x") == 3.0 and isinstance(check_number(3, "x"), float)


def test_choice_lists_valid_values_and_returns_the_value() -> None:
    assert check_choice("efron", "ties", ["efron", "breslow"]) == "efron"
    with pytest.raises(InputError, match="argument 'ties': valid values are 'efron', 'breslow'"):
        check_choice("exact", "ties", ["efron", "breslow"])
    with pytest.raises(InputError, match="argument 'ties'"):
        check_choice(["efron"], "ties", ["efron", "breslow"])  # unhashable


@pytest.mark.parametrize(("value", "ok"), [(2, 2), (2.0, 2), (np.int64(3), 3)])
def test_whole_numbers(value, ok) -> None:
    assert check_int(value, "ratio", minimum=1) == ok


@pytest.mark.parametrize("bad", [2.5, "2", True, None, float("inf"), 0])
def test_whole_numbers_refused(bad) -> None:
    with pytest.raises(InputError, match="argument 'ratio'"):
        check_int(bad, "ratio", minimum=1)


def test_bounds_are_worded() -> None:
    with pytest.raises(InputError, match="must be greater than 0"):
        check_number(0, "caliper", minimum=0, strict=True)
    with pytest.raises(InputError, match="must be at most 1"):
        check_number(2, "share", maximum=1)
    with pytest.raises(InputError, match="must be a finite number"):
        check_number(float("inf"), "x")


@pytest.mark.parametrize("bad", ["yes", 1, 0, None])
def test_flags_are_booleans_only(bad) -> None:
    with pytest.raises(InputError, match="argument 'robust': must be True or False"):
        check_flag(bad, "robust")
    assert check_flag(np.bool_(True), "robust") is True


def test_columns() -> None:
    assert check_columns(None, "covariates") == []
    assert check_columns("age", "covariates") == ["age"]
    with pytest.raises(InputError, match="lists a column more than once"):
        check_columns(["age", "age"], "covariates")
    with pytest.raises(InputError, match="must name at least one column"):
        check_columns([], "covariates", allow_empty=False)
    with pytest.raises(InputError, match="column name or a list"):
        check_columns([1, 2], "covariates")


def test_option_text_pairs_are_parsed_and_bad_items_named() -> None:
    assert parse_pairs(" a = Alpha,, b=Beta ", "--labels", form="x=y", parts="p") == {
        "a": "Alpha",
        "b": "Beta",
    }
    with pytest.raises(InputError, match="each item must look like 'column=Label', got 'b'"):
        parse_pairs("a=A, b", "--labels", form="column=Label", parts="column or label")
    with pytest.raises(InputError, match="empty column or label in 'a='"):
        parse_pairs("a=", "--labels", form="column=Label", parts="column or label")


def test_listed_columns_must_exist_and_at_most_20_are_shown() -> None:
    columns = [f"c{i}" for i in range(30)]
    check_listed(["c1", "c29"], columns, listed="is named in date_format", table="people")
    with pytest.raises(InputError, match="is named in date_format but is not a column") as info:
        check_listed(["c1", "zz"], columns, listed="is named in date_format", table="people")
    assert info.value.column == "zz" and "c19" in str(info.value) and "c20" not in str(info.value)


def test_dates_are_read_or_refused_with_an_example() -> None:
    assert str(check_date("2024-03-31", "data_end", example="2024-03-31").date()) == "2024-03-31"
    with pytest.raises(InputError, match=r"must be a date \(e.g. '2024-03-31'\); got 'soon'"):
        check_date("soon", "data_end", example="2024-03-31")
