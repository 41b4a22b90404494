"""Tests of evalkit.cohort: proven reoffending (MoJ definition), exclusion flow and readers.

Each counting rule has a hand-built fixture whose expected values follow from the definition in
the Ministry of Justice *Guide to Proven Reoffending Statistics* (offence on day 1..365 after the
index date, proven by caution or conviction by day 365 + 182 = 547) and are written out by hand.
A property test compares the vectorised implementation with a deliberately naive per-person,
per-day implementation written independently below.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.cohort import Cohort, proven_reoffending, read_table
from evalkit.errors import DataWarning, InputError, redact

BASE = pd.Timestamp("2022-05-01")


def day(d: int) -> pd.Timestamp:
    return BASE + pd.Timedelta(days=d)


def people(n: int = 1, **extra) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "index_date": [BASE] * n,
            "group": ["programme" if i % 2 == 0 else "comparison" for i in range(n)],
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def offences(*rows) -> pd.DataFrame:
    """rows: (person_id, offence day, disposal day, disposal)."""
    cols = ["person_id", "offence_date", "disposal_date", "disposal"]
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}).astype(
            {"person_id": "int64"}
        )
    return pd.DataFrame(
        [(p, day(o), day(d), code) for p, o, d, code in rows],
        columns=cols,
    )


def custody(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(p, day(s), day(e)) for p, s, e in rows], columns=["person_id", "start", "end"]
    )


def deaths(*rows) -> pd.DataFrame:
    return pd.DataFrame([(p, day(d)) for p, d in rows], columns=["person_id", "date"])


def by_id(cohort: Cohort) -> pd.DataFrame:
    return cohort.data.set_index("person_id")


def flow_counts(cohort: Cohort, table: str) -> dict[str, int]:
    f = cohort.flow[cohort.flow["table"] == table]
    return dict(zip(f["step"], f["n_removed"], strict=True))


def flow_kept(cohort: Cohort, table: str) -> int:
    f = cohort.flow[cohort.flow["table"] == table]
    return int(f["n_remaining"].iloc[-1])


# ---------------------------------------------------------------------------------------------
# Counting rules
# ---------------------------------------------------------------------------------------------


def test_offence_on_day_365_counts_and_day_366_does_not():
    c = proven_reoffending(
        people(2), offences((1, 365, 365, "conviction"), (2, 366, 366, "conviction"))
    )
    d = by_id(c)
    assert d.loc[1, ["time", "event", "n_reoffences"]].tolist() == [365, 1, 1]
    assert d.loc[2, ["time", "event", "n_reoffences"]].tolist() == [365, 0, 0]
    assert flow_counts(c, "offences")["after_follow_up"] == 1
    assert flow_kept(c, "offences") == 1


def test_offence_on_day_1_counts():
    c = proven_reoffending(people(1), offences((1, 1, 2, "caution")))
    assert by_id(c).loc[1, ["time", "event"]].tolist() == [1, 1]


def test_disposal_on_day_547_counts_and_day_548_does_not():
    c = proven_reoffending(
        people(2), offences((1, 10, 547, "conviction"), (2, 10, 548, "conviction"))
    )
    d = by_id(c)
    assert d.loc[1, ["time", "event"]].tolist() == [10, 1]
    assert d.loc[2, ["time", "event"]].tolist() == [365, 0]
    assert flow_counts(c, "offences")["late_disposal"] == 1


def test_other_periods_six_months_and_no_waiting():
    # follow_up_days=182, waiting_days=0: offence day 182 proven on day 182 counts;
    # proven on day 183 does not; offence on day 183 is after follow-up.
    c = proven_reoffending(
        people(3),
        offences(
            (1, 182, 182, "conviction"), (2, 182, 183, "conviction"), (3, 183, 183, "caution")
        ),
        follow_up_days=182,
        waiting_days=0,
    )
    d = by_id(c)
    assert d["event"].tolist() == [1, 0, 0]
    assert d["time"].tolist() == [182, 182, 182]
    counts = flow_counts(c, "offences")
    assert (counts["late_disposal"], counts["after_follow_up"]) == (1, 1)


@pytest.mark.parametrize("code", ["pnd", "community_resolution", "breach"])
def test_non_proven_disposals_never_count(code):
    c = proven_reoffending(people(1), offences((1, 30, 40, code)))
    assert by_id(c).loc[1, ["event", "n_reoffences", "time"]].tolist() == [0, 0, 365]
    assert flow_counts(c, "offences")["not_proven"] == 1


def test_disposal_codes_are_configurable():
    # Only convictions prove; cautions recognised but not proven; a "fine" code added.
    c = proven_reoffending(
        people(1),
        offences((1, 5, 6, "caution"), (1, 9, 9, "fine"), (1, 20, 30, "conviction")),
        proven_disposals=("conviction",),
        other_disposals=("caution", "fine"),
    )
    assert by_id(c).loc[1, ["time", "n_reoffences"]].tolist() == [20, 1]


def test_offences_before_and_on_the_index_date_never_count():
    c = proven_reoffending(
        people(1),
        offences((1, -30, 0, "conviction"), (1, 0, 5, "conviction"), (1, -400, -100, "caution")),
    )
    assert by_id(c).loc[1, ["event", "n_reoffences"]].tolist() == [0, 0]
    assert flow_counts(c, "offences")["on_or_before_index"] == 3


def test_first_proven_reoffence_sets_time_and_every_offence_counts():
    c = proven_reoffending(
        people(1),
        offences(
            (1, 200, 260, "conviction"),
            (1, 50, 51, "caution"),
            (1, 20, 21, "pnd"),  # earlier, but not proven
            (1, 50, 90, "conviction"),  # same day as another: both count
            (1, 400, 420, "conviction"),  # after follow-up
            (1, 8, 600, "conviction"),  # earlier, but proven too late
        ),
    )
    d = by_id(c)
    assert d.loc[1, ["time", "event", "n_reoffences"]].tolist() == [50, 1, 3]
    assert bool(d.loc[1, "reoffended"]) is True


def test_person_with_no_offences_is_censored_at_follow_up():
    c = proven_reoffending(people(2), offences((1, 3, 4, "caution")))
    row = by_id(c).loc[2]
    assert row[["time", "event", "n_reoffences", "days_in_custody"]].tolist() == [365, 0, 0, 0]
    assert bool(row["reoffended"]) is False


def test_empty_offence_table_is_allowed():
    c = proven_reoffending(people(3), offences())
    assert c.data["time"].tolist() == [365] * 3
    assert c.data["event"].sum() == 0
    assert flow_kept(c, "offences") == 0


def test_index_dates_differ_per_person_and_times_of_day_are_ignored():
    p = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "index_date": ["2022-05-01 18:30", "2023-02-28"],
            "group": ["x", "y"],
        }
    )
    o = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "offence_date": ["2022-05-02 01:00", "2024-02-28"],  # b: 2024 is a leap year
            "disposal_date": ["2022-05-03", "2024-03-01"],
            "disposal": ["caution", "conviction"],
        }
    )
    d = by_id(proven_reoffending(p, o))
    # a: 2022-05-01 -> 2022-05-02 is day 1; b: 2023-02-28 -> 2024-02-28 is day 365.
    assert d["time"].tolist() == [1, 365]
    assert d["event"].tolist() == [1, 1]


# ---------------------------------------------------------------------------------------------
# Deaths
# ---------------------------------------------------------------------------------------------


def test_death_censors_and_reoffence_before_death_counts():
    c = proven_reoffending(
        people(4),
        offences((2, 40, 41, "conviction"), (4, 100, 120, "conviction")),
        deaths=deaths((1, 100), (2, 100), (3, 400), (4, 100)),
    )
    d = by_id(c)
    assert d.loc[1, ["time", "event"]].tolist() == [100, 0]  # censored at death
    assert d.loc[2, ["time", "event", "n_reoffences"]].tolist() == [40, 1, 1]  # before death
    assert d.loc[3, ["time", "event"]].tolist() == [365, 0]  # died after follow-up
    assert d.loc[4, ["time", "event"]].tolist() == [100, 1]  # offence on the day of death
    assert flow_counts(c, "deaths")["after_follow_up"] == 1
    assert flow_kept(c, "deaths") == 3


def test_death_on_or_before_index_date_is_an_exclusion_counted_in_the_flow():
    c = proven_reoffending(
        people(3),
        offences((1, -10, -5, "conviction"), (3, 7, 8, "caution")),
        custody=custody((2, -30, 0)),
        deaths=deaths((1, 0), (2, -5)),
    )
    assert c.data["person_id"].tolist() == [3]
    assert flow_counts(c, "people")["died_before_index"] == 2
    assert flow_counts(c, "offences")["excluded_person"] == 1
    assert flow_counts(c, "custody")["excluded_person"] == 1
    assert flow_counts(c, "deaths")["excluded_person"] == 2


def test_offence_after_death_is_an_error():
    with pytest.raises(InputError, match="offence_date") as err:
        proven_reoffending(
            people(2), offences((2, 101, 110, "conviction")), deaths=deaths((2, 100))
        )
    assert err.value.rows == [2]


# ---------------------------------------------------------------------------------------------
# data_end
# ---------------------------------------------------------------------------------------------


def test_data_end_excludes_people_without_complete_follow_up_and_waiting_period():
    p = people(3)
    p["index_date"] = [day(0), day(1), day(2)]
    end = day(547)  # person 1's follow-up + waiting period ends exactly on data_end
    c = proven_reoffending(
        p,
        offences((1, 5, 6, "caution"), (2, 5, 6, "caution"), (3, -5, -4, "caution")),
        deaths=deaths((3, 1)),  # also died before index: counted once, under data_end
        data_end=end,
    )
    assert c.data["person_id"].tolist() == [1]
    people_flow = flow_counts(c, "people")
    assert people_flow["incomplete_follow_up"] == 2
    assert people_flow["died_before_index"] == 0
    assert flow_counts(c, "offences")["excluded_person"] == 2
    assert c.data_end == end
    assert "2023-10-30" in c.flow["reason"].iloc[1]


# ---------------------------------------------------------------------------------------------
# Custody
# ---------------------------------------------------------------------------------------------


def custody_fixture():
    p = people(5)
    o = offences((1, 100, 120, "conviction"), (3, 10, 12, "conviction"))
    cu = custody(
        (1, -60, 0),  # index spell: ends on the index date, 0 days
        (1, 10, 30),
        (1, 20, 50),  # overlaps the previous: merged 10..50
        (1, 50, 60),  # touches: merged 10..60 = 50 days
        (1, 360, 400),  # clipped at day 365: 5 days
        (1, 450, 470),  # after follow-up
        (3, 5, 15),  # offence on day 10 committed in custody
        (4, 100, 130),
        (4, 200, 200),  # same-day spell: 0 days
        (99, 1, 10),  # unknown person
    )
    return p, o, cu


def test_custody_days_merge_overlapping_spells_within_follow_up():
    p, o, cu = custody_fixture()
    with pytest.warns(DataWarning, match="custody: 1 of 10 custody spell rows has a person_id"):
        c = proven_reoffending(p, o, custody=cu)
    d = by_id(c)
    assert d["days_in_custody"].tolist() == [55, 0, 10, 30, 0]
    assert d["time"].tolist() == [100, 365, 10, 365, 365]  # calendar time is unchanged
    counts = flow_counts(c, "custody")
    assert counts["unknown_person"] == 1
    assert counts["outside_follow_up"] == 3  # index spell, after follow-up, same-day spell
    assert flow_kept(c, "custody") == 6


def test_at_risk_free_removes_custody_days_before_the_event_or_censoring():
    p, o, cu = custody_fixture()
    with pytest.warns(DataWarning, match="custody"):
        d = by_id(proven_reoffending(p, o, custody=cu, at_risk="free"))
    # 1: 100 − 50 days in custody before day 100; 3: offence on day 10, in custody from day 5;
    # 4: censored at 365 − 30.
    assert d["time"].tolist() == [50, 365, 5, 335, 365]
    assert d["event"].tolist() == [1, 0, 1, 0, 0]
    assert d["days_in_custody"].tolist() == [55, 0, 10, 30, 0]


def test_at_risk_free_stops_at_death():
    d = by_id(
        proven_reoffending(
            people(1),
            offences(),
            custody=custody((1, 50, 150)),
            deaths=deaths((1, 100)),
            at_risk="free",
        )
    )
    assert d.loc[1, ["time", "days_in_custody"]].tolist() == [50, 100]


def test_at_risk_must_be_a_known_choice():
    with pytest.raises(InputError, match="at_risk"):
        proven_reoffending(people(1), offences(), at_risk="liberty")


# ---------------------------------------------------------------------------------------------
# Output shape, covariates and flow
# ---------------------------------------------------------------------------------------------


def test_covariates_are_carried_through_unchanged_in_order():
    p = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "age": [19, 45, 33],
            "index_date": ["2022-05-01", "2022-06-01", "2022-07-01"],
            "region": pd.Categorical(["north", "south", "north"]),
            "group": ["comparison", "programme", "programme"],
            "score": [0.1, np.nan, 2.5],
            "female": [True, False, True],
        }
    )
    c = proven_reoffending(p, offences().astype({"person_id": object}))
    d = c.data
    assert list(d.columns) == [
        "person_id",
        "group",
        "age",
        "index_date",
        "region",
        "score",
        "female",
        "time",
        "event",
        "reoffended",
        "n_reoffences",
        "days_in_custody",
    ]
    pd.testing.assert_series_equal(d["age"], p["age"])
    pd.testing.assert_series_equal(d["region"], p["region"])
    pd.testing.assert_series_equal(d["score"], p["score"])
    pd.testing.assert_series_equal(d["female"], p["female"])
    assert d["index_date"].tolist() == [
        pd.Timestamp("2022-05-01"),
        pd.Timestamp("2022-06-01"),
        pd.Timestamp("2022-07-01"),
    ]
    assert d["time"].dtype == np.int64
    assert d["event"].dtype == np.int64
    assert d["reoffended"].dtype == bool
    assert d["n_reoffences"].dtype == np.int64
    assert d["days_in_custody"].dtype == np.int64


def test_people_order_is_kept_and_index_reset():
    p = people(4)
    p.index = [10, 3, 7, 1]
    p = p.iloc[[2, 0, 3, 1]]
    c = proven_reoffending(p, offences())
    assert c.data["person_id"].tolist() == p["person_id"].tolist()
    assert list(c.data.index) == [0, 1, 2, 3]


def test_flow_accounts_for_every_input_row():
    p = people(6)
    p["index_date"] = [day(0)] * 5 + [day(100)]
    o = offences(
        (1, 10, 20, "conviction"),  # proven
        (1, 30, 600, "conviction"),  # late disposal
        (2, 400, 410, "caution"),  # after follow-up
        (2, -5, 1, "conviction"),  # before index
        (3, 7, 7, "pnd"),  # not proven
        (4, -3, -1, "caution"),  # person 4 died on the index date: excluded
        (6, 120, 130, "conviction"),  # person 6 has incomplete follow-up: excluded
        (77, 5, 6, "conviction"),  # unknown person
        (5, 12, 12, "caution"),  # proven
        (5, 13, 12 + 300, "caution"),  # proven
    )
    cu = custody((1, 5, 15), (1, 400, 410), (4, 1, 3), (78, 1, 2))
    de = deaths((4, 0), (3, 200), (2, 500), (79, 3))
    with pytest.warns(DataWarning) as record:  # one unknown person in each table
        c = proven_reoffending(p, o, cu, de, data_end=day(600))
    assert [str(w.message).split(":")[0] for w in record] == [
        f"column 'person_id' in {table}" for table in ("offences", "custody", "deaths")
    ]

    expected = pd.DataFrame(
        [
            ("people", "input", 0, 6),
            ("people", "incomplete_follow_up", 1, 5),
            ("people", "died_before_index", 1, 4),
            ("people", "cohort", 0, 4),
            ("offences", "input", 0, 10),
            ("offences", "unknown_person", 1, 9),
            ("offences", "excluded_person", 2, 7),
            ("offences", "on_or_before_index", 1, 6),
            ("offences", "after_follow_up", 1, 5),
            ("offences", "late_disposal", 1, 4),
            ("offences", "not_proven", 1, 3),
            ("offences", "proven", 0, 3),
            ("custody", "input", 0, 4),
            ("custody", "unknown_person", 1, 3),
            ("custody", "excluded_person", 1, 2),
            ("custody", "outside_follow_up", 1, 1),
            ("custody", "overlaps_follow_up", 0, 1),
            ("deaths", "input", 0, 4),
            ("deaths", "unknown_person", 1, 3),
            ("deaths", "excluded_person", 1, 2),
            ("deaths", "after_follow_up", 1, 1),
            ("deaths", "within_follow_up", 0, 1),
        ],
        columns=["table", "step", "n_removed", "n_remaining"],
    )
    pd.testing.assert_frame_equal(
        c.flow[["table", "step", "n_removed", "n_remaining"]], expected, check_dtype=False
    )
    assert list(c.flow.columns) == ["table", "step", "reason", "n_removed", "n_remaining"]
    assert c.flow["reason"].str.len().min() > 10
    assert_flow_reconciles(c, {"people": 6, "offences": 10, "custody": 4, "deaths": 4})
    assert c.data["n_reoffences"].tolist() == [1, 0, 0, 2]


def assert_flow_reconciles(c: Cohort, n_input: dict[str, int]) -> None:
    for table, n in n_input.items():
        f = c.flow[c.flow["table"] == table]
        assert f["step"].iloc[0] == "input"
        assert int(f["n_remaining"].iloc[0]) == n
        assert n - int(f["n_removed"].sum()) == int(f["n_remaining"].iloc[-1])
        assert (np.diff(f["n_remaining"].to_numpy()) == -f["n_removed"].to_numpy()[1:]).all()
    assert flow_kept(c, "people") == len(c.data)
    assert flow_kept(c, "offences") == int(c.data["n_reoffences"].sum())


def test_result_is_frozen_and_renders():
    c = proven_reoffending(people(2), offences((1, 3, 4, "caution")))
    with pytest.raises(AttributeError):
        c.follow_up_days = 10  # type: ignore[misc]
    assert c.to_frame() is not c.data
    pd.testing.assert_frame_equal(c.to_frame(), c.data)
    html = c._repr_html_()
    assert "Exclusion flow" in html and "unknown_person" in html
    s = c.summary()
    assert list(s.columns) == [
        "group",
        "people",
        "reoffenders",
        "rate",
        "reoffences",
        "per_reoffender",
        "days_in_custody",
    ]
    assert s.set_index("group").loc["programme", "rate"] == 1.0
    assert np.isnan(s.set_index("group").loc["comparison", "per_reoffender"])
    assert (c.proven_disposals, c.other_disposals) == (
        ("conviction", "caution"),
        ("pnd", "community_resolution", "breach"),
    )
    assert "people=2" in repr(c)


# ---------------------------------------------------------------------------------------------
# Validation: each rule raises InputError naming column and rows
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("people", "index_date"),
        ("people", "group"),
        ("people", "person_id"),
        ("offences", "disposal"),
        ("offences", "disposal_date"),
        ("custody", "end"),
        ("deaths", "date"),
    ],
)
def test_missing_columns_are_named(table, column):
    tables = {
        "people": people(1),
        "offences": offences((1, 3, 4, "caution")),
        "custody": custody((1, 3, 4)),
        "deaths": deaths((1, 30)),
    }
    tables[table] = tables[table].drop(columns=column)
    with pytest.raises(InputError, match=column) as err:
        proven_reoffending(**tables)
    assert err.value.table == table
    assert err.value.column == column


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("people", "index_date"),
        ("offences", "offence_date"),
        ("offences", "disposal_date"),
        ("custody", "start"),
        ("custody", "end"),
        ("deaths", "date"),
    ],
)
@pytest.mark.parametrize("bad", [None, "not a date", "2022-13-45"])
def test_missing_or_unparseable_dates_name_the_person(table, column, bad):
    tables = {
        "people": people(3),
        "offences": offences((1, 3, 4, "caution"), (2, 5, 6, "caution")),
        "custody": custody((1, 3, 4), (2, 8, 9)),
        "deaths": deaths((1, 30), (2, 40)),
    }
    df = tables[table].astype({column: object})
    df.loc[1, column] = bad
    tables[table] = df
    with pytest.raises(InputError) as err:
        proven_reoffending(**tables)
    assert (err.value.table, err.value.column) == (table, column)
    assert err.value.rows == [2]  # the person_id, not the row position
    assert "2" in str(err.value)


def test_duplicate_person_ids_in_people():
    p = people(3)
    p.loc[2, "person_id"] = 1
    with pytest.raises(InputError, match="unique") as err:
        proven_reoffending(p, offences())
    assert (err.value.table, err.value.rows) == ("people", [1])


def test_duplicate_person_ids_in_deaths():
    with pytest.raises(InputError, match="unique") as err:
        proven_reoffending(people(2), offences(), deaths=deaths((2, 5), (2, 9)))
    assert (err.value.table, err.value.rows) == ("deaths", [2])


def test_missing_group_names_the_person():
    p = people(3)
    p.loc[2, "group"] = None
    with pytest.raises(InputError, match="group") as err:
        proven_reoffending(p, offences())
    assert err.value.rows == [3]


def test_missing_person_id_in_offences():
    o = offences((1, 3, 4, "caution"), (2, 3, 4, "caution")).astype({"person_id": float})
    o.loc[1, "person_id"] = np.nan
    with pytest.raises(InputError, match="person_id") as err:
        proven_reoffending(people(2), o)
    assert err.value.table == "offences"


@pytest.mark.parametrize("value", [0, -5, 365.5, True, "365", None])
def test_follow_up_days_must_be_a_positive_whole_number(value):
    with pytest.raises(InputError, match="follow_up_days"):
        proven_reoffending(people(1), offences(), follow_up_days=value)


@pytest.mark.parametrize("value", [-1, 1.5, "182"])
def test_waiting_days_must_not_be_negative(value):
    with pytest.raises(InputError, match="waiting_days"):
        proven_reoffending(people(1), offences(), waiting_days=value)


def test_whole_number_floats_and_numpy_ints_are_accepted():
    c = proven_reoffending(people(1), offences(), follow_up_days=365.0, waiting_days=np.int64(0))
    assert (c.follow_up_days, c.waiting_days) == (365, 0)
    assert isinstance(c.follow_up_days, int)


def test_unknown_disposal_codes_are_listed_with_their_rows():
    o = offences(
        (1, 3, 4, "Conviction"), (2, 5, 6, "caution"), (3, 5, 6, "fine"), (3, 8, 9, "fine")
    )
    with pytest.raises(InputError) as err:
        proven_reoffending(people(3), o)
    e = err.value
    assert (e.table, e.column) == ("offences", "disposal")
    assert e.rows == [1, 3, 3]
    assert "'Conviction'" in str(e) and "'fine'" in str(e)


def test_disposal_before_offence_is_an_error():
    with pytest.raises(InputError, match="disposal_date") as err:
        proven_reoffending(people(2), offences((1, 3, 4, "caution"), (2, 10, 9, "caution")))
    assert err.value.rows == [2]


def test_custody_ending_before_it_starts_is_an_error():
    with pytest.raises(InputError, match="end") as err:
        proven_reoffending(people(2), offences(), custody=custody((1, 3, 4), (2, 10, 9)))
    assert (err.value.table, err.value.rows) == ("custody", [2])


def test_outcome_column_names_cannot_be_reused():
    with pytest.raises(InputError, match="time"):
        proven_reoffending(people(1, time=[3]), offences())


def test_person_ids_must_be_the_same_kind_in_every_table():
    o = offences((1, 3, 4, "caution")).astype({"person_id": str})
    with pytest.raises(InputError, match="never match") as err:
        proven_reoffending(people(1), o)
    assert err.value.table == "offences"


def test_a_code_cannot_be_both_proven_and_not():
    with pytest.raises(InputError, match="caution"):
        proven_reoffending(people(1), offences(), other_disposals=("caution", "pnd"))


def test_proven_disposals_must_not_be_empty():
    with pytest.raises(InputError, match="proven_disposals"):
        proven_reoffending(people(1), offences(), proven_disposals=())


def test_data_end_must_be_a_date():
    with pytest.raises(InputError, match="data_end"):
        proven_reoffending(people(1), offences(), data_end="last Tuesday")


def test_people_must_be_a_non_empty_dataframe():
    with pytest.raises(InputError, match="DataFrame"):
        proven_reoffending({"person_id": [1]}, offences())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no rows"):
        proven_reoffending(people(1).iloc[:0], offences())


# ---------------------------------------------------------------------------------------------
# Offences, custody spells and deaths of people not in the people table
# ---------------------------------------------------------------------------------------------


def text_people(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"person_id": list(ids), "index_date": BASE, "group": "programme"})


def text_offences(*ids: str) -> pd.DataFrame:
    o = offences(*[(1, 10, 20, "conviction") for _ in ids])
    o["person_id"] = list(ids)
    return o


def data_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, DataWarning)]


def test_offences_with_padded_ids_warn_with_cause():
    p = text_people("QQ100001C", "QQ100002C", "QQ100003C")
    o = text_offences("QQ100001C", " QQ100002C", "QQ100003C ", " QQ100002C")
    with pytest.warns(DataWarning) as record:
        c = proven_reoffending(p, o)
    (msg,) = data_warnings(record)
    assert "column 'person_id' in offences: 3 of 4 offence rows have a person_id" in msg
    assert "likely cause: surrounding spaces (3 rows match a person" in msg
    assert "positions 1, 2, 3 [person_id: ' QQ100002C', 'QQ100003C ', ' QQ100002C']" in msg
    assert "QQ1000" not in redact(msg) and "positions 1, 2, 3" in redact(msg)
    # matching stays exact: only QQ100001C's offence counts, the rest are in the flow
    assert by_id(c)["n_reoffences"].tolist() == [1, 0, 0]
    assert flow_counts(c, "offences")["unknown_person"] == 3
    assert_flow_reconciles(c, {"people": 3, "offences": 4})
    # once the ids are fixed nothing is unknown: no warning, every offence counts
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        c = proven_reoffending(p, o.assign(person_id=o["person_id"].str.strip()))
    assert by_id(c)["n_reoffences"].tolist() == [1, 2, 1]
    assert flow_counts(c, "offences")["unknown_person"] == 0


def test_offences_with_different_case_ids_warn_with_cause():
    p = text_people("QQ100001C", "QQ100002C")
    o = text_offences("QQ100001C", "qq100002c", "Qq100002C")
    with pytest.warns(DataWarning) as record:
        c = proven_reoffending(p, o)
    (msg,) = data_warnings(record)
    assert "2 of 3 offence rows have a person_id that is not in the people table" in msg
    assert "likely cause: letter case (2 rows match a person" in msg
    assert "surrounding spaces" not in msg and "number format" not in msg
    assert by_id(c)["n_reoffences"].tolist() == [1, 0]
    assert flow_counts(c, "offences")["unknown_person"] == 2
    assert_flow_reconciles(c, {"people": 2, "offences": 3})


def test_offences_with_leading_zeros_or_numbers_as_text_warn_with_cause():
    p = text_people("7", "8", "9")
    o = text_offences("7", "007", "8.0")
    with pytest.warns(DataWarning, match=r"likely cause: number format \(2 rows match"):
        c = proven_reoffending(p, o)
    assert flow_counts(c, "offences")["unknown_person"] == 2
    assert by_id(c)["n_reoffences"].tolist() == [1, 0, 0]


def test_people_missing_from_the_people_table_warn_without_a_false_cause():
    p = text_people("QQ100001C", "QQ100002C")
    o = text_offences("QQ100001C", "QQ999999Z")
    with pytest.warns(DataWarning, match="likely cause: people missing from the people table"):
        proven_reoffending(p, o)


def test_custody_spells_and_deaths_of_unknown_people_warn():
    p = text_people("QQ100001C", "QQ100002C")
    o = text_offences("QQ100001C")
    cu = pd.DataFrame({"person_id": [" QQ100001C"], "start": day(5), "end": day(9)})
    de = pd.DataFrame({"person_id": ["qq100002c"], "date": day(50)})
    with pytest.warns(DataWarning) as record:
        c = proven_reoffending(p, o, cu, de)
    msgs = data_warnings(record)
    assert len(msgs) == 2
    assert msgs[0].startswith("column 'person_id' in custody: 1 of 1 custody spell rows has")
    assert "surrounding spaces" in msgs[0]
    assert msgs[1].startswith("column 'person_id' in deaths: 1 of 1 death rows has")
    assert "letter case" in msgs[1]
    assert flow_counts(c, "custody")["unknown_person"] == 1
    assert flow_counts(c, "deaths")["unknown_person"] == 1
    assert_flow_reconciles(c, {"people": 2, "offences": 1, "custody": 1, "deaths": 1})


@pytest.mark.parametrize(
    ("people_ids", "offence_ids", "cause"),
    [
        (("QQ100001C", "QQ100002C"), (" QQ100001C", "QQ100002C "), "surrounding spaces"),
        (("QQ100001C", "QQ100002C"), ("qq100001c", "qq100002c"), "letter case"),
        (("7", "12"), ("0007", "00012"), "number format"),
        (("QQ100001C", "QQ100002C"), ("AB1", "AB2"), "people missing from the people table"),
    ],
)
def test_no_offence_matching_any_person_is_refused(people_ids, offence_ids, cause):
    with pytest.raises(InputError) as err:
        proven_reoffending(text_people(*people_ids), text_offences(*offence_ids))
    msg = str(err.value)
    assert err.value.table == "offences" and err.value.column == "person_id"
    assert "no offence matches any person in the people table" in msg
    assert f"(likely cause: {cause}" in msg
    assert err.value.n_rows == 2 and err.value.positions == [0, 1]
    assert offence_ids[0] not in redact(msg)
    with warnings.catch_warnings():  # no offences at all is fine: nothing fails to match
        warnings.simplefilter("error", DataWarning)
        proven_reoffending(text_people(*people_ids), text_offences())


# ---------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------


def test_read_csv_csv_gz_and_parquet_give_the_same_cohort(tmp_path):
    p = pd.DataFrame(
        {
            "person_id": ["007", "010"],
            "index_date": ["2022-05-01", "2022-06-01"],
            "group": ["programme", "comparison"],
            "age": [30, 40],
        }
    )
    o = pd.DataFrame(
        {
            "person_id": ["007", "010"],
            "offence_date": ["2022-06-01", "2022-06-02"],
            "disposal_date": ["2022-07-01", "2022-06-02"],
            "disposal": ["conviction", "pnd"],
        }
    )
    p.to_csv(tmp_path / "people.csv", index=False)
    o.to_csv(tmp_path / "offences.csv.gz", index=False)
    p.to_parquet(tmp_path / "people.parquet")
    o.to_parquet(tmp_path / "offences.parquet")

    from_csv = proven_reoffending(
        read_table(tmp_path / "people.csv"),
        read_table(str(tmp_path / "offences.csv.gz"), table="offences"),
    )
    from_parquet = proven_reoffending(
        read_table(tmp_path / "people.parquet"),
        read_table(tmp_path / "offences.parquet", table="offences"),
    )
    assert from_csv.data["person_id"].tolist() == ["007", "010"]  # leading zeros kept
    assert from_csv.data["time"].tolist() == [31, 365]
    pd.testing.assert_frame_equal(from_csv.data, from_parquet.data, check_dtype=False)
    # the reader leaves dates as text; validation parses them
    assert not pd.api.types.is_datetime64_any_dtype(
        read_table(tmp_path / "people.csv")["index_date"]
    )


def test_read_table_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="offences table"):
        read_table(tmp_path / "nope.csv", table="offences")


@pytest.mark.parametrize("name", ["people.txt", "people"])
def test_read_table_unsupported_suffix(tmp_path, name):
    (tmp_path / name).write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_table(tmp_path / name)


def test_read_table_broken_workbook_is_an_input_error(tmp_path):
    (tmp_path / "people.xlsx").write_text("this is not a workbook")
    with pytest.raises(InputError, match=r"could not read .* as an Excel workbook"):
        read_table(tmp_path / "people.xlsx")


def test_read_table_unparseable_file(tmp_path):
    (tmp_path / "people.parquet").write_text("this is not parquet")
    with pytest.raises(InputError, match="could not read"):
        read_table(tmp_path / "people.parquet")


def test_read_table_unknown_table_name(tmp_path):
    with pytest.raises(InputError, match="table"):
        read_table(tmp_path / "people.csv", table="persons")


# ---------------------------------------------------------------------------------------------
# Property test against a naive implementation
# ---------------------------------------------------------------------------------------------

PROVEN = {"conviction", "caution"}
CODES = ["conviction", "caution", "pnd", "community_resolution", "breach"]


def naive(p, o, cu, de, f_days, w_days, data_end, at_risk):
    """Per person and per day, straight from the definition (day numbers, no dates)."""
    death = dict(zip(de["person_id"], de["day"], strict=True))
    rows = []
    excluded = set()
    for pid, idx, grp in zip(p["person_id"], p["day"], p["group"], strict=True):
        if data_end is not None and idx + f_days + w_days > data_end:
            excluded.add(pid)
            continue
        if pid in death and death[pid] <= idx:
            excluded.add(pid)
            continue
        proven = [
            off - idx
            for q, off, disp, code in zip(
                o["person_id"], o["off"], o["disp"], o["disposal"], strict=True
            )
            if q == pid
            and 1 <= off - idx <= f_days
            and disp - idx <= f_days + w_days
            and code in PROVEN
        ]
        censor = f_days if pid not in death else min(f_days, death[pid] - idx)
        time = min(proven) if proven else censor
        cells = set()  # day k in custody if a spell covers (k − 1, k]
        for q, s, e in zip(cu["person_id"], cu["s"], cu["e"], strict=True):
            if q == pid:
                cells |= {k for k in range(1, f_days + 1) if s - idx <= k - 1 and k <= e - idx}
        if at_risk == "free":
            time -= sum(1 for k in cells if k <= time)
        rows.append((pid, grp, time, int(bool(proven)), len(proven), len(cells)))
    return pd.DataFrame(
        rows,
        columns=["person_id", "group", "time", "event", "n_reoffences", "days_in_custody"],
    ), excluded


@st.composite
def cohorts(draw):
    """Small cohorts whose days cluster on the rule boundaries (day 0, 1, F, F + 1, F + W…)."""
    f_days = draw(st.integers(1, 20))
    w_days = draw(st.integers(0, 8))
    n = draw(st.integers(1, 4))
    index = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    p = pd.DataFrame(
        {
            "person_id": range(1, n + 1),
            "day": index,
            "group": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        }
    )
    idx = dict(zip(range(1, n + 2), [*index, 0], strict=True))  # person n + 1 is unknown
    pid = st.integers(1, n + 1)

    def rel(lo, hi, edges):
        return st.one_of(st.sampled_from(edges), st.integers(lo, hi))

    dead = draw(st.lists(pid, unique=True, max_size=2))
    de = pd.DataFrame(
        {
            "person_id": dead,
            "day": [idx[q] + draw(rel(-1, f_days + 2, [0, 1, f_days])) for q in dead],
        },
        dtype=np.int64,
    )
    death = dict(zip(de["person_id"], de["day"], strict=True))
    o_rows = []
    for _ in range(draw(st.integers(0, 12))):
        q = draw(pid)
        off = idx[q] + draw(rel(-3, f_days + 3, [0, 1, f_days, f_days + 1]))
        if q in death and off > death[q]:
            continue  # offences after death are an input error, tested separately
        last = idx[q] + f_days + w_days  # the last day a disposal can prove an offence
        disp = max(off, draw(rel(off - 1, last + 2, [last, last + 1])))
        code = draw(st.sampled_from(["conviction", "caution", *CODES]))
        o_rows.append((q, off, disp, code))
    o = pd.DataFrame(o_rows, columns=["person_id", "off", "disp", "disposal"]).astype(
        {"person_id": np.int64, "off": np.int64, "disp": np.int64, "disposal": object}
    )
    c_rows = []
    for _ in range(draw(st.integers(0, 8))):
        q = draw(pid)
        s = idx[q] + draw(st.integers(-3, f_days + 2))
        c_rows.append((q, s, s + draw(st.integers(0, 12))))
    cu = pd.DataFrame(c_rows, columns=["person_id", "s", "e"], dtype=np.int64)
    data_end = draw(st.one_of(st.none(), st.integers(f_days + w_days, f_days + w_days + 6)))
    at_risk = draw(st.sampled_from(["calendar", "free"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return p, o, cu, de, f_days, w_days, data_end, at_risk, seed


def to_dates(df, cols):
    out = df.copy()
    for old, new in cols.items():
        out[new] = BASE + pd.to_timedelta(out.pop(old), unit="D")
    return out


# 30 examples (two cohorts each, ~0.1 s a cohort: most of it DuckDB planning the rules' queries);
# tests/test_cohort_engines.py checks 30 more random cohorts against the pandas oracle
@settings(max_examples=30, deadline=None, derandomize=True)
@given(cohorts())
def test_vectorised_cohort_matches_naive_definition_and_is_order_invariant(case):
    p, o, cu, de, f_days, w_days, data_end, at_risk, seed = case
    pp = to_dates(p, {"day": "index_date"})
    oo = to_dates(o, {"off": "offence_date", "disp": "disposal_date"})
    cc = to_dates(cu, {"s": "start", "e": "end"})
    dd = to_dates(de, {"day": "date"})
    kw = dict(
        follow_up_days=f_days,
        waiting_days=w_days,
        data_end=None if data_end is None else day(data_end),
        at_risk=at_risk,
    )
    unknown = {
        name: int((~df["person_id"].isin(p["person_id"])).sum())
        for name, df in (("offences", o), ("custody", cu), ("deaths", de))
    }
    if len(o) and unknown["offences"] == len(o):
        with pytest.raises(InputError, match="no offence matches any person"):
            proven_reoffending(pp, oo, cc, dd, **kw)
        return
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", DataWarning)
        c = proven_reoffending(pp, oo, cc, dd, **kw)
    warned = [str(w.message) for w in record if issubclass(w.category, DataWarning)]
    assert len(warned) == sum(1 for k in unknown.values() if k)  # one warning per table
    expected, excluded = naive(p, o, cu, de, f_days, w_days, data_end, at_risk)

    got = c.data[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert (c.data["reoffended"] == (c.data["n_reoffences"] > 0)).all()
    assert (c.data["event"] == c.data["reoffended"].astype(int)).all()
    assert (c.data["time"] <= f_days).all() and (c.data["time"] >= 0).all()
    assert (c.data["days_in_custody"] <= f_days).all()
    assert_flow_reconciles(
        c, {"people": len(p), "offences": len(o), "custody": len(cu), "deaths": len(de)}
    )
    assert flow_counts(c, "offences")["unknown_person"] == int(
        (~o["person_id"].isin(p["person_id"])).sum()
    )
    assert flow_counts(c, "offences")["excluded_person"] == int(o["person_id"].isin(excluded).sum())

    # every input's row order is irrelevant (the output follows the people table's order)
    rng = np.random.default_rng(seed)
    shuffled = [df.iloc[rng.permutation(len(df))] for df in (pp, oo, cc, dd)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        c2 = proven_reoffending(*shuffled, **kw)
    pd.testing.assert_frame_equal(
        c2.data.sort_values("person_id").reset_index(drop=True),
        c.data.sort_values("person_id").reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(c2.flow, c.flow)


# ---------------------------------------------------------------------------------------------
# Scale (a smoke test of vectorisation; the benchmark measures 1M people)
# ---------------------------------------------------------------------------------------------


def test_fifty_thousand_people_run_quickly():
    import time

    from evalkit.datasets.synthetic import simulate_reoffending

    sim = simulate_reoffending(50_000, rng=5)
    t0 = time.perf_counter()
    c = proven_reoffending(**sim, data_end="2024-06-30", at_risk="free")
    elapsed = time.perf_counter() - t0
    complete = sim["people"]["index_date"] + pd.Timedelta(days=547) <= pd.Timestamp("2024-06-30")
    assert len(c.data) == int(complete.sum())
    assert elapsed < 5.0  # ~0.2 s on a laptop; a per-person loop would take minutes
