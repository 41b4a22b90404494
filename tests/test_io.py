"""The reader (evalkit.io.read_table) and the dates it reads: UK extracts read right or refused.

Each test is named for what a user sees. Reference values are worked out by hand in the
comments (day arithmetic on the calendar), or come from a simulation whose tables are known.
"""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evalkit as ek
from evalkit.datasets import UK_COLUMNS, write_extract
from evalkit.errors import InputError, redact
from evalkit.io import parse_column_mapping, read_table

openpyxl = pytest.importorskip("openpyxl")


def _people_csv(path, dates, header="person_id,index_date,group"):
    rows = [header] + [f"P{i:04d},{d},programme" for i, d in enumerate(dates)]
    path.write_text("\n".join(rows) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------


def test_dayfirst_dates_without_format_are_refused(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["02/03/2024", "11/04/2024", "01/01/2024"])
    with pytest.raises(InputError) as err:
        read_table(p, table="people")
    msg = str(err.value)
    assert err.value.column == "index_date" and err.value.table == "people"
    assert "'02/03/2024'" in msg and "'11/04/2024'" in msg  # two examples
    assert "day first" in msg and "month first" in msg
    assert "date_format='%d/%m/%Y'" in msg and "dayfirst=True" in msg
    assert "--date-format" in msg and "TOML" in msg
    # the examples are data: logs keep the rule without them
    assert "02/03/2024" not in redact(msg)


def test_further_date_columns_are_read_by_the_cohort_tables_rules(tmp_path):
    # an engagement log: not a cohort table, so its date column is named in `dates`
    log = tmp_path / "Engagement.csv"
    log.write_text("person_id,engagement_start\nA1,25/01/2024\nA2,02/03/2024\nA3,\n")
    got = read_table(log, dates=["engagement_start"])
    # 25 cannot be a month: the column settles day first, so 02/03 is 2 March, not 3 February
    assert got["engagement_start"].tolist()[:2] == [
        pd.Timestamp("2024-01-25"),
        pd.Timestamp("2024-03-02"),
    ]
    assert pd.isna(got["engagement_start"].iloc[2])
    # a column every value of which reads both ways is refused, naming the file and column
    log.write_text("person_id,engagement_start\nA1,02/03/2024\nA2,11/04/2024\n")
    with pytest.raises(InputError, match="could be read day first") as err:
        read_table(log, dates=["engagement_start"])
    assert err.value.column == "engagement_start" and err.value.table == "Engagement.csv"
    assert read_table(log, dates="engagement_start", dayfirst=True)[
        "engagement_start"
    ].tolist() == [pd.Timestamp("2024-03-02"), pd.Timestamp("2024-04-11")]
    with pytest.raises(InputError, match="is named in dates but is not a column"):
        read_table(log, dates=["start"])


def test_dayfirst_dates_in_dataframes_are_refused_by_the_cohort():
    people = pd.DataFrame(
        {"person_id": ["a"], "index_date": ["25/01/2024"], "group": ["programme"]}
    )
    offences = pd.DataFrame(
        {
            "person_id": ["a"],
            "offence_date": ["02/03/2024"],
            "disposal_date": ["03/04/2024"],
            "disposal": ["conviction"],
        }
    )
    # index_date settles day first (25 > 12); the offence dates do not: refused, not guessed
    with pytest.raises(InputError, match="could be read day first") as err:
        ek.proven_reoffending(people, offences)
    assert err.value.column == "offence_date"


def test_dayfirst_dates_with_format_give_the_right_time_to_reoffence(tmp_path):
    # released 25 January 2024; reoffence 2 March 2024 = 37 days later (read month first,
    # 3 February, it would be 9 days; the old reader gave that without a word)
    people = pd.DataFrame(
        {"person_id": ["a"], "index_date": ["25/01/2024"], "group": ["programme"]}
    )
    offences = pd.DataFrame(
        {
            "person_id": ["a"],
            "offence_date": ["02/03/2024"],
            "disposal_date": ["03/04/2024"],
            "disposal": ["conviction"],
        }
    )
    people.to_csv(tmp_path / "people.csv", index=False)
    offences.to_csv(tmp_path / "offences.csv", index=False)
    for options in ({"date_format": "%d/%m/%Y"}, {"dayfirst": True}):
        p = read_table(tmp_path / "people.csv", table="people", **options)
        o = read_table(tmp_path / "offences.csv", table="offences", **options)
        cohort = ek.proven_reoffending(p, o)
        assert cohort.data["time"].tolist() == [37]
        assert cohort.data["event"].tolist() == [1]


def test_a_column_that_settles_the_order_is_read_without_a_format(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["02/03/2024", "25/12/2023"])
    t = read_table(p, table="people")
    assert t["index_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02", "2023-12-25"]


def test_day_and_month_first_in_one_column_are_refused(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["25/12/2023", "12/25/2023", "01/01/2024"])
    with pytest.raises(InputError, match="mixes day-first and month-first") as err:
        read_table(p, table="people")
    assert err.value.positions == [1]


def test_iso_dates_need_no_option(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02", "2024-03-02 00:00:00"])
    t = read_table(p, table="people")
    assert str(t["index_date"].dtype) == "datetime64[ns]"
    assert t["index_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02"] * 2


def test_month_name_dates_need_no_option(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["02-Mar-2024", "25-Dec-2023"])
    t = read_table(p, table="people")
    assert t["index_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02", "2023-12-25"]


def test_excel_style_midnight_times_are_dropped(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["02/03/2024 00:00", "03/03/2024 00:00"])
    t = read_table(p, table="people", date_format="%d/%m/%Y")
    assert t["index_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02", "2024-03-03"]


def test_dates_not_matching_the_format_name_the_rows(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["02/03/2024", "2024-03-05", "31/02/2024"])
    with pytest.raises(InputError, match="format '%d/%m/%Y'") as err:
        read_table(p, table="people", date_format="%d/%m/%Y")
    assert err.value.rows == ["P0001", "P0002"]  # person ids on screen
    assert err.value.positions == [1, 2]  # positions for logs
    assert "P0001" not in redact(str(err.value))
    assert "positions 1, 2" in redact(str(err.value))


def test_iso_and_uk_dates_mixed_in_one_column_are_refused(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02", "2024-03-04", "05/03/2024"])
    with pytest.raises(InputError, match="one format") as err:
        read_table(p, table="people")
    assert err.value.positions == [2]


def test_excel_serial_index_dates_are_refused_with_what_they_look_like(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["44699", "44700"])
    with pytest.raises(InputError, match="Excel serial day numbers") as err:
        read_table(p, table="people")
    assert "date_format='excel'" in str(err.value)
    # never 1970-01-01
    df = pd.DataFrame({"person_id": ["a"], "index_date": [44699], "group": ["programme"]})
    empty = pd.DataFrame(columns=["person_id", "offence_date", "disposal_date", "disposal"])
    with pytest.raises(InputError, match="holds numbers, not dates"):
        ek.proven_reoffending(df, empty)


def test_excel_serial_dates_are_converted_when_asked(tmp_path):
    # Excel's day 44699 is 18 May 2022 (days since 30 December 1899)
    p = _people_csv(tmp_path / "people.csv", ["44699", "44700.75"])
    t = read_table(p, table="people", date_format="excel")
    assert t["index_date"].dt.strftime("%Y-%m-%d").tolist() == ["2022-05-18", "2022-05-19"]
    t2 = read_table(p, table="people", date_format={"index_date": "excel"})
    pd.testing.assert_frame_equal(t, t2)


def test_excel_serials_out_of_range_are_refused(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["44699", "12"])
    with pytest.raises(InputError, match="between 61") as err:
        read_table(p, table="people", date_format="excel")
    assert err.value.positions == [1]


def test_ambiguous_data_end_is_refused():
    people = pd.DataFrame(
        {"person_id": ["a"], "index_date": ["2022-05-01"], "group": ["programme"]}
    )
    empty = pd.DataFrame(columns=["person_id", "offence_date", "disposal_date", "disposal"])
    with pytest.raises(InputError, match="could be read day first") as err:
        ek.proven_reoffending(people, empty, data_end="01/06/2024")
    assert err.value.column == "data_end"
    # ISO is unambiguous, and a day above 12 settles the order
    a = ek.proven_reoffending(people, empty, data_end="2024-06-01")
    b = ek.proven_reoffending(people, empty, data_end="13/06/2024")
    assert a.data_end == pd.Timestamp("2024-06-01")
    assert b.data_end == pd.Timestamp("2024-06-13")


def test_missing_dates_stay_missing_for_the_cohort_to_refuse(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02", ""])
    t = read_table(p, table="people")
    assert t["index_date"].isna().tolist() == [False, True]
    with pytest.raises(InputError, match="missing dates"):
        ek.proven_reoffending(t, pd.DataFrame(columns=list(ek.io.REQUIRED_COLUMNS["offences"])))


# --------------------------------------------------------------------------------------------
# files, headers, missing values
# --------------------------------------------------------------------------------------------


def test_person_id_header_can_be_mapped_and_ids_keep_their_zeros(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02"], header="Person ID ,Index Date,Group")
    p.write_text(p.read_text().replace("P0000", "007"))
    t = read_table(
        p,
        table="people",
        columns={"Person ID": "person_id", "Index Date": "index_date", "Group": "group"},
    )
    assert t["person_id"].tolist() == ["007"]
    assert list(t.columns) == ["person_id", "index_date", "group"]


def test_missing_column_error_suggests_the_mapping(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02"], header="Person ID,index_date,group")
    with pytest.raises(InputError) as err:
        read_table(p, table="people")
    msg = str(err.value)
    assert err.value.column == "person_id"
    assert "columns={'Person ID': 'person_id'}" in msg
    assert '--columns "Person ID=person_id"' in msg


def test_mapping_that_gives_two_columns_one_name_is_refused(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02"], header="id,index_date,group")
    with pytest.raises(InputError, match="two columns"):
        read_table(p, table="people", columns={"id": "group"})


def test_na_values_mean_missing(tmp_path):
    (tmp_path / "t.csv").write_text("person_id,age\na,NULL\nb,-\nc,31\n")
    t = read_table(tmp_path / "t.csv", na_values=["-"])
    assert t["age"].isna().tolist() == [True, True, False]


def test_csv_gz_is_read_like_csv(tmp_path):
    p = _people_csv(tmp_path / "people.csv", ["2024-03-02"])
    with gzip.open(tmp_path / "people.csv.gz", "wt") as fh:
        fh.write(p.read_text())
    pd.testing.assert_frame_equal(
        read_table(p, table="people"), read_table(tmp_path / "people.csv.gz", table="people")
    )


def test_xlsx_files_are_read(tmp_path):
    df = pd.DataFrame(
        {
            "Person ID": [1001, 1002, "QQ1"],
            "Index Date": pd.to_datetime(["2022-05-01", "2022-05-02", "2022-05-03"]),
            "Group": ["programme", "comparison", "programme"],
            "Age": [34, 27, 51],
        }
    )
    df.to_excel(tmp_path / "people.xlsx", index=False)
    t = read_table(tmp_path / "people.xlsx", table="people", columns=UK_COLUMNS)
    assert t["person_id"].tolist() == ["1001", "1002", "QQ1"]  # ids as text, no ".0"
    assert str(t["index_date"].dtype) == "datetime64[ns]"
    assert t["age"].dtype == np.int64


def test_workbook_with_several_sheets_needs_a_sheet_name(tmp_path):
    path = tmp_path / "extract.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"person_id": ["a"]}).to_excel(xl, sheet_name="People", index=False)
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Notes", index=False)
    with pytest.raises(InputError, match="2 sheets"):
        read_table(path)
    assert read_table(path, sheet="People")["person_id"].tolist() == ["a"]
    with pytest.raises(InputError, match="no sheet 'Offences'"):
        read_table(path, sheet="Offences")


def test_data_frames_get_the_same_options():
    df = pd.DataFrame({"Person ID": ["a"], "Index Date": ["02/03/2024"], "Group": ["x"]})
    t = read_table(df, table="people", columns=UK_COLUMNS, dayfirst=True)
    assert t["index_date"].tolist() == [pd.Timestamp("2024-03-02")]
    assert list(df.columns) == ["Person ID", "Index Date", "Group"]  # caller's frame untouched


def test_column_mapping_from_the_command_line_text():
    assert parse_column_mapping("Person ID=person_id, Index Date = index_date") == {
        "Person ID": "person_id",
        "Index Date": "index_date",
    }
    with pytest.raises(InputError, match="Header in file=evalkit_name"):
        parse_column_mapping("Person ID")


# --------------------------------------------------------------------------------------------
# the same extract three ways
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extract():
    sim = ek.datasets.simulate_reoffending(400, rng=11)
    people = sim["people"]
    no_offence = people[~people["person_id"].isin(sim["offences"]["person_id"])].iloc[:2]
    deaths = pd.DataFrame(
        {
            "person_id": no_offence["person_id"].to_numpy(),
            "date": no_offence["index_date"].to_numpy() + np.timedelta64(200, "D"),
        }
    )
    sim["deaths"] = deaths
    return sim


def _cohort(paths, **options):
    tables = {k: read_table(v, table=k, **options) for k, v in paths.items()}
    return ek.proven_reoffending(**tables, data_end="2024-12-31")


def test_same_extract_as_iso_csv_uk_csv_and_xlsx_gives_identical_cohorts(tmp_path, extract):
    iso = _cohort(write_extract(extract, tmp_path / "iso", "iso"))
    uk = _cohort(
        write_extract(extract, tmp_path / "uk", "uk"), columns=UK_COLUMNS, date_format="%d/%m/%Y"
    )
    xl = _cohort(write_extract(extract, tmp_path / "xl", "xlsx"), columns=UK_COLUMNS)
    pd.testing.assert_frame_equal(iso.data, uk.data, check_exact=True)
    pd.testing.assert_frame_equal(iso.data, xl.data, check_exact=True)
    pd.testing.assert_frame_equal(iso.flow, xl.flow, check_exact=True)
    # byte-identical, not just equal
    assert iso.data.to_csv(index=False) == uk.data.to_csv(index=False)
    assert iso.data.to_csv(index=False) == xl.data.to_csv(index=False)
    assert iso.data["event"].sum() > 50  # a real cohort, not an empty one


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

_BASE = np.datetime64("2022-01-01")


@st.composite
def small_extract(draw):
    n = draw(st.integers(1, 8))
    ids = [f"P{i}" for i in range(n)]
    index = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["programme", "comparison"]), min_size=n, max_size=n))
    k = draw(st.integers(0, 12))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(-30, 600),
                st.integers(0, 300),
                st.sampled_from(["conviction", "caution", "pnd"]),
            ),
            min_size=k,
            max_size=k,
        )
    )
    people = pd.DataFrame(
        {
            "person_id": ids,
            "index_date": _BASE + np.array(index, dtype="timedelta64[D]"),
            "group": groups,
            "age": draw(st.lists(st.integers(18, 70), min_size=n, max_size=n)),
        }
    )
    off_days = np.array([index[r[0]] + r[1] for r in rows], dtype="timedelta64[D]")
    offences = pd.DataFrame(
        {
            "person_id": [ids[r[0]] for r in rows],
            "offence_date": _BASE + off_days,
            "disposal_date": _BASE + off_days + np.array([r[2] for r in rows], "timedelta64[D]"),
            "disposal": [r[3] for r in rows],
        }
    )
    offences["person_id"] = offences["person_id"].astype(object)
    return people, offences


def _as_text(df, fmt):
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime(fmt).astype(object)
    return out


def _as_serials(df):
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = (
                (out[c].to_numpy() - np.datetime64("1899-12-30"))
                .astype("timedelta64[D]")
                .astype(np.int64)
            )
    return out


def _build(people, offences, **options):
    p = read_table(people, table="people", **options)
    o = read_table(offences, table="offences", **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ek.DataWarning)
        data = ek.proven_reoffending(p, o).data
    return data.sort_values("person_id", key=lambda s: s.astype(str)).reset_index(drop=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_extract(), st.randoms(use_true_random=False))
def test_cohort_is_the_same_however_the_extract_is_written(ex, rnd):
    people, offences = ex
    expected = _build(people, offences)
    # any permutation of rows and any column order
    p_perm = people.sample(frac=1, random_state=rnd.randint(0, 10**6))
    p_perm = p_perm[rnd.sample(list(p_perm.columns), len(p_perm.columns))]
    o_perm = offences.sample(frac=1, random_state=rnd.randint(0, 10**6))
    o_perm = o_perm[rnd.sample(list(o_perm.columns), len(o_perm.columns))]
    got = _build(p_perm, o_perm)[list(expected.columns)]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # day-first text with the right format
    got = _build(_as_text(people, "%d/%m/%Y"), _as_text(offences, "%d/%m/%Y"), dayfirst=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # Excel serial numbers with the right option
    got = _build(_as_serials(people), _as_serials(offences), date_format="excel")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


_CORRUPTIONS = st.sampled_from(
    ["", "  ", "not a date", "31/02/2024", "44699", "2024-13-01", None, "02/03/2024", 12345]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    small_extract(),
    st.sampled_from(["index_date", "offence_date", "disposal_date", "person_id", "disposal"]),
    _CORRUPTIONS,
    st.integers(0, 100),
)
def test_corrupted_extract_gives_a_correct_result_or_an_input_error(ex, column, bad, where):
    people, offences = ex
    table = people if column in people.columns else offences
    if len(table) == 0:
        return
    expected = _build(people, offences)
    text_p, text_o = _as_text(people, "%Y-%m-%d"), _as_text(offences, "%Y-%m-%d")
    target = text_p if column in people.columns else text_o
    target[column] = target[column].astype(object)
    target.iloc[where % len(target), target.columns.get_loc(column)] = bad
    try:
        got = _build(text_p, text_o)
    except InputError:
        return  # refused with a message naming the column: fine
    # accepted: then nothing changed that the corruption should have changed silently
    if column in ("person_id", "disposal"):
        # a different id is a different (unknown) person: counted in the flow, never a crash
        assert len(got) <= len(expected)
    else:
        pytest.fail(f"corrupted {column} value {bad!r} was accepted: {got}")
