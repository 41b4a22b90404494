"""The analysis template runs on a user's own extract by editing its TOML only.

`evalkit new NAME` copies ``analyses/_template.{py,toml}``. Pointed at the same synthetic
extract written three ways — ISO CSV, a UK CSV (``dd/mm/yyyy``, headers such as "Person ID")
and Excel workbooks — through the TOML's ``[reader]`` options, it must publish the same numbers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import evalkit as ek
from evalkit.datasets import UK_COLUMNS, write_extract
from evalkit.report import build, new_analysis

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("openpyxl")


def _toml_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"


def _config(paths: dict[str, Path], reader: str = "") -> str:
    text = (ROOT / "analyses" / "_template.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[data\].*?^\[parameters\]", "[data]\n[parameters]", text)
    data = "".join(f'{name} = "{path.as_posix()}"\n' for name, path in paths.items())
    text = re.sub(r"(?m)^\[data\]\n", lambda _: "[data]\n" + data, text)
    text = re.sub(r"(?m)^\[reader\]\n", lambda _: "[reader]\n" + reader, text)
    text = re.sub(
        r'(?m)^justification = "EDIT:.*"$',
        'justification = "Synthetic prison leavers; the comparison group is matched on age, sex, '
        'previous offences and sentence length."',
        text,
    )
    text = re.sub(r'(?m)^kind = "unmatched"', 'kind = "matched"', text)
    return text.replace(
        "covariates = []", 'covariates = ["age", "sex", "prior_offences", "sentence_length_days"]'
    )


def _results(page: str) -> str:
    """The report's findings: everything before the reproducibility section (which names files)."""
    main = page.split("<main", 1)[1].split('id="reproducibility"')[0]
    main = re.sub(r"<style.*?</style>", "", main, flags=re.S)
    return main


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    (root / "analyses").mkdir()
    for suffix in (".py", ".toml"):
        shutil.copyfile(
            ROOT / "analyses" / f"_template{suffix}", root / "analyses" / f"_template{suffix}"
        )
    new_analysis(root, "scheme")
    extract = ek.datasets.load_example_extract()
    configs = {
        "iso": _config(write_extract(extract, root / "iso", "iso")),
        "uk": _config(
            write_extract(extract, root / "uk", "uk"),
            f'date_format = "%d/%m/%Y"\ncolumns = {_toml_table(UK_COLUMNS)}\n',
        ),
        "xlsx": _config(
            write_extract(extract, root / "xlsx", "xlsx"),
            f"columns = {_toml_table(UK_COLUMNS)}\n",
        ),
    }
    pages = {}
    for style, text in configs.items():
        (root / f"cfg-{style}").mkdir()
        cfg = root / f"cfg-{style}" / "scheme.toml"  # one name: the report cites its config
        cfg.write_text(text, encoding="utf-8")
        result = build(root, root / f"out-{style}", names=["scheme"], config_path=cfg)
        assert result.ok, result.failures
        pages[style] = (root / f"out-{style}" / "scheme.html").read_text(encoding="utf-8")
    return root, pages


def test_template_reads_people_and_offence_files_through_the_toml(project):
    _, pages = project
    text = re.sub(r"<[^>]+>", " ", _results(pages["iso"]))
    assert "People in the cohort" in text
    assert "matched on age, sex" in text
    assert "Synthetic data" in text


def test_template_on_uk_csv_and_xlsx_publishes_the_same_numbers_as_iso_csv(project):
    _, pages = project
    assert _results(pages["uk"]) == _results(pages["iso"])
    assert _results(pages["xlsx"]) == _results(pages["iso"])


def test_template_without_reader_options_refuses_ambiguous_uk_dates(project, tmp_path):
    # an extract whose days are all 1-12 cannot tell 02/03 from 03/02: the build must stop
    root, _ = project
    ex = ek.datasets.load_example_extract()
    people = ex["people"][ex["people"]["index_date"].dt.day <= 12]
    o = ex["offences"]
    offences = o[(o["offence_date"].dt.day <= 12) & (o["disposal_date"].dt.day <= 12)]
    paths = write_extract({"people": people, "offences": offences}, tmp_path / "uk", "uk")
    cfg = root / "uk-no-format.toml"
    cfg.write_text(_config(paths, f"columns = {_toml_table(UK_COLUMNS)}\n"), encoding="utf-8")
    result = build(root, tmp_path / "out", names=["scheme"], config_path=cfg)
    assert not result.ok
    message = result.failures[0].message
    assert "could be read day first" in message and "date_format" in message
    assert not (tmp_path / "out" / "scheme.html").exists()


def test_template_matches_on_nothing_unless_listed(project, tmp_path):
    root, _ = project
    cfg = root / "unmatched.toml"
    text = (root / "cfg-iso" / "scheme.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^covariates = \[.*?\]", "covariates = []", text)
    text = re.sub(r'(?m)^kind = "matched"', 'kind = "unmatched"', text)
    cfg.write_text(text, encoding="utf-8")
    result = build(root, tmp_path, names=["scheme"], config_path=cfg)
    assert result.ok, result.failures
    page = (tmp_path / "scheme.html").read_text(encoding="utf-8")
    assert 'name="evalkit-rating" content="2"' in page


def test_unedited_template_cannot_be_published(project, tmp_path):
    # the template's [design] justification is a placeholder: the build must stop
    root, _ = project
    text = (root / "cfg-iso" / "scheme.toml").read_text(encoding="utf-8")
    text = re.sub(
        r'(?m)^justification = ".*"$',
        'justification = "EDIT: say how people came to be in the scheme"',
        text,
    )
    cfg = tmp_path / "scheme.toml"
    cfg.write_text(text, encoding="utf-8")
    result = build(root, tmp_path / "out", names=["scheme"], config_path=cfg)
    assert not result.ok
    assert "[design] justification is still the template's placeholder" in (
        result.failures[0].message
    )
    assert not (tmp_path / "out" / "scheme.html").exists()
