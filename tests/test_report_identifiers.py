"""No report shows person-level data.

Every analysis (and the template) is built from copies of its inputs in which every person
carries a distinctive identifier, and the HTML is searched for each identifier as plain text
(independently of the build's own identifier scan). The build's scan itself (which inputs it
reads, how it matches, what it says when it refuses) is tested on small hand-made pages.
"""

from __future__ import annotations

import importlib
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import redact
from evalkit.report import BuildError, build, list_analyses, read_config, render_report
from evalkit.report.page import scan_for_identifiers, scan_page

pytestmark = pytest.mark.report  # these tests run notebook kernels

ROOT = Path(__file__).resolve().parents[1]
NAMES = [*list_analyses(ROOT / "analyses"), "_template"]


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every analysis, plus a leaking copy of the template, built from identifier-laden data."""
    project = tmp_path_factory.mktemp("project")
    (project / "analyses").mkdir()
    rng = np.random.default_rng(20240331)
    mapping: dict[str, str] = {}

    def token(original: object) -> str:
        key = repr(original)
        if key not in mapping:
            mapping[key] = f"QZ{rng.integers(10**7, 10**8)}K{len(mapping):05d}"
        return mapping[key]

    for name in NAMES:
        cfg = read_config(ROOT / "analyses" / f"{name}.toml")
        for ext in (".py", ".toml"):
            shutil.copy(ROOT / "analyses" / f"{name}{ext}", project / "analyses" / f"{name}{ext}")
        for source in cfg.data.values():
            assert not Path(source.written).is_absolute(), (
                f"{name}: [data] {source.name} must be a path inside the repository "
                "(reports are rebuilt from a fresh clone)"
            )
            target = (project / "analyses" / source.written).resolve()
            assert target.is_relative_to(project.resolve())
            if target.exists():  # shared by two analyses: already written
                continue
            df = _read(source.path)
            column = source.id_column or "person_id"
            if column in df.columns:
                df[column] = df[column].map(token)
            else:
                df[column] = [token((source.written, i)) for i in range(len(df))]
            _write(df, target)

    # negative control: the template, showing the first person's identifier
    for ext in (".py", ".toml"):
        shutil.copy(project / "analyses" / f"_template{ext}", project / "analyses" / f"leaky{ext}")
    leaky = project / "analyses" / "leaky.py"
    leaky.write_text(
        leaky.read_text().replace('"_template"', '"leaky"')
        + '\n# %%\nrp.paragraph("first: " + str(data["person_id"].iloc[0]))\n'
    )
    names = [*NAMES, "leaky"]
    (project / "analyses" / "_template.py").rename(project / "analyses" / "template_copy.py")
    (project / "analyses" / "_template.toml").rename(project / "analyses" / "template_copy.toml")
    script = project / "analyses" / "template_copy.py"
    script.write_text(script.read_text().replace('"_template"', '"template_copy"'))
    names = [n if n != "_template" else "template_copy" for n in names]
    for toml in project.glob("analyses/*.toml"):  # the template's placeholder, filled in
        toml.write_text(
            re.sub(
                r'(?m)^justification = "EDIT:.*"$',
                'justification = "Synthetic people in two groups."',
                toml.read_text(),
            )
        )
    result = build(project, jobs=2)
    assert {f.name for f in result.failures} <= {"leaky"}, [f.message for f in result.failures]
    pages = {n: (project / "reports" / f"{n}.html").read_text() for n in names if n != "leaky"}
    # negative control for the independent search below: the leaky page, rendered without the
    # build's scan
    with pytest.MonkeyPatch.context() as mp:
        module = importlib.import_module("evalkit.report.build")  # not the build() function
        mp.setattr(module, "scan_page", lambda page, config: None)
        pages["leaky"] = render_report(project, "leaky").html
    return pages, sorted(set(mapping.values())), result


# building every analysis on identifier-laden data takes minutes: a slow test (CI runs it)
@pytest.mark.slow
@pytest.mark.parametrize("name", [n if n != "_template" else "template_copy" for n in NAMES])
def test_no_person_identifier_reaches_the_report(name, built):
    pages, ids, _ = built
    assert ids
    leaked = [i for i in ids if i in pages[name]]
    assert not leaked, f"{name} shows person identifiers: {leaked[:5]}"


@pytest.mark.slow
def test_the_search_finds_an_identifier_that_is_shown(built):
    # negative control: the same search flags a report that prints an identifier
    pages, ids, _ = built
    assert any(i in pages["leaky"] for i in ids)


@pytest.mark.slow
def test_scan_runs_without_id_column_when_input_has_person_id(built):
    # the template's TOML names its inputs without id_column; they have a person_id column
    _, ids, result = built
    assert [f.name for f in result.failures] == ["leaky"]
    message = result.failures[0].message
    assert re.search(r"person identifier from \[data\] \w+ \(column 'person_id'\)", message)
    assert any(f"'{i}'" in message for i in ids)


# --------------------------------------------------------------------------------------------
# the build's scan on hand-made pages
# --------------------------------------------------------------------------------------------

PAGE = """<html><head><title>A report</title></head><body>
<h2 id="results">Results</h2>
<p>Reoffending fell (Rossi, 1980; Smith 1947; Jones 1985, 2011).</p>
<table><caption>Reoffending by group</caption>
<thead><tr><th>Group</th><th>People</th></tr></thead>
<tbody><tr><td>{cell}</td><td>1204</td></tr></tbody></table>
<figure><svg role="img" aria-labelledby="t"><title id="t">Bar chart</title>
<path d="M 104233 0 L 1 1"/><text>{svg}</text></svg>
<figcaption>People by group</figcaption></figure>
<p>{text}</p>
</body></html>
"""


def _page(cell: str = "Programme", svg: str = "0.5", text: str = "Nothing else.") -> str:
    return PAGE.format(cell=cell, svg=svg, text=text)


def _project(tmp_path: Path, people: pd.DataFrame, entry: str, *, fmt: str = "csv") -> Path:
    """A TOML naming one people file (written as ``fmt``) with the [data] entry ``entry``."""
    if fmt == "xlsx":
        people.to_excel(tmp_path / "people.xlsx", index=False)
    else:
        people.to_csv(tmp_path / "people.csv", index=False)
    toml = tmp_path / "a.toml"
    toml.write_text(f'title = "A"\ndata_date = "2024"\n[data]\n{entry}\n')
    return toml


def _people(ids: list[object]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "person_id": ids,
            "index_date": ["2023-01-02"] * n,
            "group": ["programme", "comparison"] * (n // 2) + ["programme"] * (n % 2),
        }
    )


def test_scan_catches_lower_case_and_spaced_ids():
    ids = ["QQ100001C", "QQ100002C", "ab-12345", "QQ100009C"]
    page = _page(cell="qq100001c", text="Seen: QQ 10 00 02 C and AB-12345.")
    assert scan_for_identifiers(page, ids) == ["QQ100001C", "QQ100002C", "ab-12345"]
    # identifiers written with spaces in the data are found written without them
    assert scan_for_identifiers(_page(text="id qq100003c"), ["QQ 10 00 03 C"]) == ["QQ 10 00 03 C"]


def test_short_numeric_ids_do_not_match_citation_years(tmp_path, caplog):
    # ids 1..2000 include the years cited in the page (1947, 1985) and a count (1204)
    entry = 'people = { path = "people.csv", id_column = "person_id" }'
    toml = _project(tmp_path, _people(list(range(1, 2001))), entry)
    with caplog.at_level(logging.WARNING, logger="evalkit.report"):
        scan_page(_page(), read_config(toml))  # no refusal
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "2000 identifiers in [data] people" in logged
    assert "1947" not in logged and "1985" not in logged
    # five digits and more are scanned, in text but not in SVG geometry (d="M 104233 ...")
    page = _page(text="Person 104234.")
    assert scan_for_identifiers(page, ["104233", "104234", "1980"]) == ["104234"]


def test_scan_message_names_the_id_and_where_it_was_found(tmp_path):
    ids = ["QQ100001C", "QQ100002C", "QQ100003C", "QQ100004C"]
    toml = _project(tmp_path, _people(ids), 'people = "people.csv"')
    config = read_config(toml)
    cases = [
        (_page(cell="QQ100001C"), "'QQ100001C'] in a table (\"Reoffending by group\")"),
        (_page(svg="qq100002c"), "'QQ100002C'] in a figure (\"People by group\")"),
        (_page(text="The first person was QQ100003C, aged 30."), "'QQ100003C'] in the text"),
        (
            _page().replace("Results", "Results for QQ100004C"),
            "'QQ100004C'] in a heading (\"Results for …\")",
        ),
    ]
    for page, expected in cases:
        with pytest.raises(BuildError) as info:
            scan_page(page, config)
        message = str(info.value)
        assert "a person identifier from [data] people (column 'person_id')" in message
        assert expected in message, message
        assert "not published" in message
        # log files keep where, not which: the identifier is inside a [person_id: ...] segment
        assert "QQ10000" not in redact(message)
    with pytest.raises(BuildError) as info:
        scan_page(_page(text="The first person was QQ100003C aged 30."), config)
    assert 'in the text ("The first person was … aged 30.")' in str(info.value)


def test_scan_reads_xlsx_and_mapped_columns(tmp_path):
    pytest.importorskip("openpyxl")
    people = _people(["QQ100001C", "QQ100002C"]).rename(
        columns={"person_id": "Person ID", "index_date": "Release date"}
    )
    people["Release date"] = ["02/01/2023", "25/01/2023"]
    entry = (
        'people = { path = "people.xlsx", date_format = "%d/%m/%Y", '
        'columns = { "Person ID" = "person_id", "Release date" = "index_date" } }'
    )
    config = read_config(_project(tmp_path, people, entry, fmt="xlsx"))
    assert config.read("people")["person_id"].tolist() == ["QQ100001C", "QQ100002C"]
    scan_page(_page(), config)  # nothing shown: no refusal
    with pytest.raises(BuildError, match=r"\[data\] people \(column 'person_id'\)"):
        scan_page(_page(cell="qq100002c"), config)


def test_inputs_without_a_person_id_column_are_not_scanned(tmp_path):
    other = pd.DataFrame({"area": ["North", "South"], "count": [104233, 104234]})
    other.to_csv(tmp_path / "areas.csv", index=False)
    toml = tmp_path / "a.toml"
    toml.write_text('title = "A"\ndata_date = "2024"\n[data]\nareas = "areas.csv"\n')
    scan_page(_page(text="North had 104233."), read_config(toml))  # not refused
    # the same numbers in a person_id column are identifiers: then the page is refused
    other.rename(columns={"count": "person_id"}).to_csv(tmp_path / "areas.csv", index=False)
    with pytest.raises(BuildError, match="person identifier"):
        scan_page(_page(text="North had 104233."), read_config(toml))


def test_scan_refuses_when_the_declared_id_column_is_missing(tmp_path):
    entry = 'people = { path = "people.csv", id_column = "nhs_number" }'
    toml = _project(tmp_path, _people(["QQ100001C"]), entry)
    with pytest.raises(BuildError, match="id_column 'nhs_number' is not a column"):
        scan_page(_page(), read_config(toml))
