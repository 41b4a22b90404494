import numpy as np
import pandas as pd
import pytest

from evalkit import schema
from evalkit.errors import DesignError, InputError


def test_input_error_names_column_rule_and_at_most_five_rows():
    err = InputError("time", "must not be negative", [np.int64(3), 4, 5, 6, 7, 8, 9], table="data")
    msg = str(err)
    assert "column 'time' in data" in msg
    assert "must not be negative" in msg
    assert "7 offending rows [rows: 3, 4, 5, 6, 7] (and 2 more)" in msg
    assert err.rows == [3, 4, 5, 6, 7] and err.n_rows == 7
    assert isinstance(err, ValueError)


def test_row_ids_prefer_the_id_column():
    df = pd.DataFrame({"person_id": ["a", "b", "c"], "time": [1.0, -1.0, 2.0]})
    with pytest.raises(InputError, match=r"'b'") as info:
        schema.check_time(df, "time", id_col="person_id")
    assert info.value.column == "time"


def test_missing_columns_listed():
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError, match=r"missing: time, event") as info:
        schema.require_columns(df, ["a", "time", "event"], table="data")
    assert info.value.column == "time"


def test_wrong_dtype_names_rows_that_are_not_numbers():
    df = pd.DataFrame({"time": ["1", "x", "3"]})
    with pytest.raises(InputError, match=r"must be numeric.*1 offending row: 1"):
        schema.check_numeric(df, "time")


@pytest.mark.parametrize("bad", [np.nan, -1.0, np.inf])
def test_bad_times(bad):
    df = pd.DataFrame({"time": [1.0, bad, 2.0]})
    with pytest.raises(InputError) as info:
        schema.check_time(df, "time")
    assert info.value.rows == [1]


def test_event_must_be_binary():
    df = pd.DataFrame({"event": [0, 1, 2, 1]})
    with pytest.raises(InputError, match=r"must be 0 .censored. or 1") as info:
        schema.check_event(df, "event")
    assert info.value.rows == [2]
    # cause codes are allowed only where asked for
    assert list(schema.check_event(df, "event", causes=True)) == [0, 1, 2, 1]


def test_missing_and_unparseable_dates():
    df = pd.DataFrame({"d": ["2023-01-01", None, "not a date"]})
    with pytest.raises(InputError, match="must be dates") as info:
        schema.check_dates(df, "d")
    assert info.value.rows == [2]
    with pytest.raises(InputError, match="missing dates") as info:
        schema.check_dates(df.iloc[:2], "d")
    assert info.value.rows == [1]


def test_duplicate_ids():
    df = pd.DataFrame({"person_id": [1, 2, 2, 3, 3]})
    with pytest.raises(InputError, match="must be unique") as info:
        schema.check_unique(df, "person_id")
    assert info.value.rows == [2, 3]


def test_empty_group_and_single_group():
    df = pd.DataFrame({"g": pd.Categorical(["a", "a"], categories=["a", "b"])})
    with pytest.raises(InputError, match="group 'b' has no rows"):
        schema.check_groups(df, "g")
    with pytest.raises(DesignError, match="needs at least 2"):
        schema.check_groups(pd.DataFrame({"g": ["a", "a"]}), "g", min_groups=2)


def test_group_without_events():
    with pytest.raises(InputError, match=r"no events in group\(s\) \['b'\]"):
        schema.check_has_events(
            np.array([1, 0, 0]), column="event", labels=np.array(["a", "b", "b"]), by="g"
        )
    with pytest.raises(InputError, match="has no events"):
        schema.check_has_events(np.array([0, 0]), column="event")


def test_empty_or_wrong_type_frame():
    with pytest.raises(InputError, match="has no rows"):
        schema.check_frame(pd.DataFrame({"a": []}))
    with pytest.raises(InputError, match="must be a pandas DataFrame"):
        schema.check_frame([1, 2])  # type: ignore[arg-type]
