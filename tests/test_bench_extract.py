"""The benchmark's extract generator (benchmarks/extract.py) makes what the issue asks for.

No timing here: the benchmark itself runs by ``make bench``. These checks are on 1,000 and
2,500 people, so that the national-scale extracts have the shape they are said to have.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit as ek

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


extract = _load("extract")


@pytest.fixture(scope="module")
def sim():
    return next(extract.chunks(1000))


def test_tables_have_the_input_schema_of_proven_reoffending(sim):
    assert set(sim) >= set(extract.TABLES)
    assert {"person_id", "index_date", "group", *extract.COVARIATES} <= set(sim["people"])
    assert {"person_id", "offence_date", "disposal_date", "disposal"} <= set(sim["offences"])
    assert {"person_id", "start", "end"} <= set(sim["custody"])
    assert {"person_id", "date"} <= set(sim["deaths"])
    people = sim["people"]
    assert len(people) == 1000 and people["person_id"].is_unique
    # text identifiers, the same in every table
    assert people["person_id"].str.match(r"^K00").all()
    for name in ("offences", "custody", "deaths"):
        assert sim[name]["person_id"].isin(people["person_id"]).all()


def test_about_five_offence_records_per_person_custody_and_deaths(sim):
    per_person = len(sim["offences"]) / len(sim["people"])
    assert 4.0 <= per_person <= 6.0
    assert len(sim["custody"]) > 0.5 * len(sim["people"])
    assert 0 < len(sim["deaths"]) < 0.1 * len(sim["people"])
    # every offence is disposed of on or after the day it was committed
    off = sim["offences"]
    assert (off["disposal_date"] >= off["offence_date"]).all()


def test_ten_numeric_covariates_without_missing_values(sim):
    people = sim["people"]
    assert len(extract.COVARIATES) == 10
    for col in extract.COVARIATES:
        assert pd.api.types.is_numeric_dtype(people[col]), col
        assert people[col].notna().all(), col
    assert set(np.unique(people["female"])) <= {0, 1}
    assert people["ogrs"].between(0, 100).all()


def test_dates_are_whole_days(sim):
    for name, cols in (
        ("people", ["index_date"]),
        ("offences", ["offence_date", "disposal_date"]),
        ("custody", ["start", "end"]),
        ("deaths", ["date"]),
    ):
        for col in cols:
            values = sim[name][col].to_numpy().astype("datetime64[ns]")
            assert ((values - values.astype("datetime64[D]")) == np.timedelta64(0)).all(), col


def test_programme_is_about_100k_at_national_scale_and_half_of_small_extracts(sim):
    assert extract.PROGRAMME == 100_000
    share = (sim["people"]["group"] == "programme").mean()
    assert 0.4 < share < 0.6  # 1,000 people: min(100,000 / n, 0.5)


def test_written_parquet_reads_back_and_builds_a_cohort(tmp_path):
    paths = extract.write(2500, tmp_path, seed=7)
    tables = extract.read(paths)
    again = next(extract.chunks(2500, seed=7))
    for name in extract.TABLES:
        pd.testing.assert_frame_equal(
            tables[name].reset_index(drop=True),
            again[name].reset_index(drop=True),
            check_dtype=False,
        )
    cohort = ek.proven_reoffending(**tables)
    data = cohort.data
    assert data["person_id"].is_unique
    assert len(data) == 2500  # the data cover everyone: nobody is excluded
    assert {"time", "event", "group", *extract.COVARIATES} <= set(data)
    assert data[["time", "event", *extract.COVARIATES]].notna().all().all()
