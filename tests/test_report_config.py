"""Reader options in an analysis TOML: ``[reader]`` defaults, per-entry options, the cohort table
an entry is, and ``AnalysisConfig.read`` reading the file with them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import pytest

import evalkit.io
from evalkit.errors import InputError
from evalkit.report import config as config_module
from evalkit.report import read_config


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "a.toml"
    path.write_text('title = "A"\ndata_date = "2024"\n' + textwrap.dedent(body))
    return path


def test_reader_defaults_apply_to_every_input_and_entries_override_them(tmp_path):
    cfg = read_config(
        _toml(
            tmp_path,
            """
            [reader]
            date_format = "%d/%m/%Y"
            na_values = ["NULL", "-"]
            columns = { "Person ID" = "person_id" }

            [data]
            people = "people.csv"
            offences = { path = "offences.xlsx", sheet = "Offences", date_format = "excel" }
            custody = { path = "custody.csv", columns = { "ID" = "person_id" }, dayfirst = true }
            """,
        )
    )
    people, offences, custody = cfg.data["people"], cfg.data["offences"], cfg.data["custody"]
    assert dict(people.options["columns"]) == {"Person ID": "person_id"}
    assert people.options["date_format"] == "%d/%m/%Y"
    assert list(people.options["na_values"]) == ["NULL", "-"]
    assert offences.options["date_format"] == "excel"  # the entry's own value wins
    assert offences.options["sheet"] == "Offences"
    assert list(offences.options["na_values"]) == ["NULL", "-"]
    # an entry's mapping replaces the default one as a whole
    assert dict(custody.options["columns"]) == {"ID": "person_id"}
    assert custody.options["dayfirst"] is True
    assert "sheet" not in people.options  # only options that were set


def test_table_defaults_to_the_key_for_cohort_tables(tmp_path):
    cfg = read_config(
        _toml(
            tmp_path,
            """
            [data]
            people = "p.csv"
            deaths = { path = "d.csv" }
            outcomes = "o.csv"
            releases = { path = "r.csv", table = "people", id_column = "person_id" }
            """,
        )
    )
    tables = {name: source.table for name, source in cfg.data.items()}
    assert tables == {
        "people": "people",
        "deaths": "deaths",
        "outcomes": None,
        "releases": "people",
    }
    assert cfg.data["outcomes"].options == {}
    assert cfg.data["releases"].id_column == "person_id"


def test_reader_options_are_read_only(tmp_path):
    cfg = read_config(
        _toml(tmp_path, '[data]\npeople = { path = "p.csv", columns = { "ID" = "person_id" } }\n')
    )
    options = cfg.data["people"].options
    assert isinstance(options, MappingProxyType)
    with pytest.raises(TypeError):
        options["dayfirst"] = True  # type: ignore[index]
    with pytest.raises(TypeError):
        options["columns"]["Other"] = "x"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[reader]\nsheet = "Sheet1"\n', r"\[reader\] has unknown keys sheet; valid keys are "),
        ('[reader]\ncolour = "red"\n', r"valid keys are columns, date_format, dayfirst, na_values"),
        (
            '[data]\npeople = { path = "p.csv", date_fmt = "%d/%m/%Y" }\n',
            r"\[data\] people has unknown keys date_fmt; valid keys are columns, date_format, "
            r"dayfirst, id_column, na_values, path, sheet, table",
        ),
        ('[data]\npeople = { table = "people" }\n', r"\[data\] people: path is missing"),
    ],
)
def test_unknown_reader_option_keys_are_listed_with_the_valid_ones(tmp_path, body, message):
    path = _toml(tmp_path, body)
    with pytest.raises(InputError, match=message) as info:
        read_config(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[reader]\ndayfirst = "yes"\n', r"\[reader\] dayfirst must be true or false"),
        ("[reader]\nna_values = 0\n", r"\[reader\] na_values must be a list"),
        ("[reader]\nna_values = [true]\n", r"\[reader\] na_values must be a list"),
        ('[reader]\ncolumns = ["person_id"]\n', r"\[reader\] columns must be a table of"),
        ('[reader]\ncolumns = { "ID" = 1 }\n', r"\[reader\] columns must be a table of"),
        ("[reader]\ndate_format = 1\n", r"\[reader\] date_format must be a format"),
        ('[data]\np = { path = "p.csv", date_format = { a = 1 } }\n', r"\[data\] p: date_format"),
        ('[data]\np = { path = "p.csv", sheet = -1 }\n', r"\[data\] p: sheet must be"),
        ('[data]\np = { path = "p.csv", sheet = true }\n', r"\[data\] p: sheet must be"),
        ('[data]\np = { path = "p.csv", table = "persons" }\n', r"\[data\] p: table must be one"),
        ('[data]\np = { path = "p.csv", id_column = 3 }\n', r"\[data\] p: id_column must be"),
        ("[data]\np = { path = 3 }\n", r"\[data\] p: path must be a file path"),
        ('reader = "dayfirst"\n', r"\[reader\] must be a table"),
    ],
)
def test_reader_option_types_are_checked_with_the_file_and_key(tmp_path, body, message):
    path = _toml(tmp_path, body)
    with pytest.raises(InputError, match=message) as info:
        read_config(path)
    assert str(path) in str(info.value)


def test_na_values_may_be_one_string_and_sheet_a_position(tmp_path):
    cfg = read_config(
        _toml(tmp_path, '[data]\np = { path = "p.xlsx", na_values = "NULL", sheet = 0 }\n')
    )
    assert list(cfg.data["p"].options["na_values"]) == ["NULL"]
    assert cfg.data["p"].options["sheet"] == 0


def test_read_passes_path_table_and_options_to_the_reader(tmp_path, monkeypatch):
    calls = []

    def fake_read_table(source, **kwargs):
        calls.append((source, kwargs))
        return pd.DataFrame()

    monkeypatch.setattr(evalkit.io, "read_table", fake_read_table)
    cfg = read_config(
        _toml(
            tmp_path,
            """
            [reader]
            dayfirst = true
            [data.people]
            path = "in/p.csv"
            columns = { "Person ID" = "person_id" }
            na_values = ["-"]
            """,
        )
    )
    cfg.read("people")
    assert calls == [
        (
            (tmp_path / "in" / "p.csv").resolve(),
            {
                "table": "people",
                "dayfirst": True,
                "columns": {"Person ID": "person_id"},
                "na_values": ["-"],
                "dates": None,
            },
        )
    ]
    # plain containers reach the reader, not the read-only ones stored in the configuration
    assert type(calls[0][1]["columns"]) is dict
    with pytest.raises(InputError, match="is not listed in \\[data\\]"):
        cfg.read("offences")


def test_read_applies_the_mapping_and_day_first_dates(tmp_path):
    (tmp_path / "people.csv").write_text(
        "Person ID,Release date,group\n007,02/03/2024,programme\nQQ1,NULL,comparison\n"
    )
    cfg = read_config(
        _toml(
            tmp_path,
            """
            [reader]
            date_format = "%d/%m/%Y"
            na_values = ["NULL"]
            [data.people]
            path = "people.csv"
            columns = { "Person ID" = "person_id", "Release date" = "index_date" }
            """,
        )
    )
    people = cfg.read("people")
    assert people["person_id"].tolist() == ["007", "QQ1"]
    assert people["index_date"].iloc[0] == pd.Timestamp("2024-03-02")
    assert pd.isna(people["index_date"].iloc[1])


def test_read_reads_further_date_columns_by_the_cohort_tables_rules(tmp_path):
    # no date format configured: an engagement log's UK dates are read as the people table's
    # would be (the column settles day first), not refused as "not ISO 8601"
    (tmp_path / "eng.csv").write_text("person_id,engagement_start\nA,25/01/2024\nB,02/03/2024\n")
    cfg = read_config(_toml(tmp_path, '[data]\nengagement = "eng.csv"\n'))
    got = cfg.read("engagement", dates=["engagement_start"])
    assert got["engagement_start"].tolist() == [
        pd.Timestamp("2024-01-25"),
        pd.Timestamp("2024-03-02"),
    ]


def test_the_docstring_example_is_a_valid_configuration(tmp_path):
    doc = config_module.__doc__ or ""
    example = doc.split("::\n", 1)[1].split("\nEach ``[data]``", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text(textwrap.dedent(example))
    cfg = read_config(path)
    assert cfg.data["people"].options["sheet"] == "Sheet1"
    assert cfg.data["offences"].table == "offences"
    assert cfg.data["rossi"].table is None
    assert cfg.data["rossi"].options["date_format"] == "%d/%m/%Y"


def test_config_vocabulary_agrees_with_the_reader():
    assert config_module._TABLES == evalkit.io.TABLES
    assert config_module._READER_OPTIONS == evalkit.io.READER_OPTIONS
