"""The report pipeline: script → executed notebook → self-contained HTML, and its safeguards.

One small project is built once (three analyses, two of which fail on purpose); most tests read
its output. Checks of which outputs a report may contain run on hand-made notebooks, without a
kernel.
"""

from __future__ import annotations

import hashlib
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.report import BuildError, build, check, list_analyses, read_config, render_report
from evalkit.report.build import read_report_meta, scan_for_identifiers
from evalkit.report.components import FRAGMENT_MIME, headline
from evalkit.report.notebook import check_outputs

pytestmark = pytest.mark.report  # these tests run notebook kernels

GOOD = """\
# %% [markdown]
# An introduction for the reader.

# %%
import pandas as pd
import matplotlib.pyplot as plt
from evalkit import report as rp

cfg = rp.load_config("good")
people = pd.read_csv(cfg.data_path("people"))
SDC = cfg.disclosure

# %%
import evalkit as ek
rp.headline(ek.verdict(ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03),
                       design="matched"), synthetic=cfg.synthetic)

# %% [markdown]
# ## Results

# %%
tab = (people.groupby("group")
       .agg(people=("person_id", "size"), reoffended=("reoffended", "sum"))
       .reset_index())
tab["percent"] = 100 * tab["reoffended"] / tab["people"]
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(tab["group"], tab["people"])
rp.show(
    rp.table(tab, caption="Reoffending by group", percents={"percent": ("reoffended", "people")},
             complements={"reoffended": "people"}, formats={"percent": "{:.1f}%"},
             disclosure=SDC),
    rp.paragraph(f"The pilot group had {SDC.count(int(tab['reoffended'].iloc[1]))} reoffenders."),
    rp.figure(fig, alt="Bar chart of group sizes", caption="People by group"),
)
"""

FAILS = """\
# %%
from evalkit import report as rp
import evalkit as ek
m_ = ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03)
rp.headline(ek.verdict(m_, design="none"))

# %%
x = 1

# %%
y = x / 0
"""

LEAKS = """\
# %%
import pandas as pd
from evalkit import report as rp
cfg = rp.load_config("leaks")
people = pd.read_csv(cfg.data_path("people"))
import evalkit as ek
m_ = ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03)
rp.headline(ek.verdict(m_, design="unmatched"))

# %%
rp.paragraph("The first person in the data is " + str(people["person_id"].iloc[0]) + ".")
"""

CONFIG = """\
title = "{title}"
data_date = "2024-03-31"
synthetic = true
[data]
people = {{ path = "people.csv", id_column = "person_id" }}
"""


def _people() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    group = np.where(np.arange(n) < 52, "comparison", "pilot")
    reoffended = np.zeros(n, dtype=int)
    reoffended[:20] = 1  # 20 of 52 in comparison
    reoffended[52:55] = 1  # 3 of 8 in the pilot: a small count
    ids = [f"PX{rng.integers(10**6, 10**7)}Q" for _ in range(n)]
    return pd.DataFrame({"person_id": ids, "group": group, "reoffended": reoffended})


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    analyses = root / "analyses"
    analyses.mkdir()
    people = _people()
    people.to_csv(analyses / "people.csv", index=False)
    for name, script in [("good", GOOD), ("fails", FAILS), ("leaks", LEAKS)]:
        (analyses / f"{name}.py").write_text(script)
        (analyses / f"{name}.toml").write_text(CONFIG.format(title=f"The {name} analysis"))
    (root / "reports").mkdir()
    (root / "reports" / "fails.html").write_text("OLD REPORT")
    result = build(root, jobs=2)
    return root, result, people


def test_each_analysis_has_an_outcome_and_failures_name_the_cell(project):
    _, result, _ = project
    by_name = {o.name: o for o in result.outcomes}
    assert by_name["good"].ok
    fails = by_name["fails"]
    assert not fails.ok
    assert "fails.py, cell 3 (line 11)" in fails.message
    assert "ZeroDivisionError" in fails.message
    assert not result.ok and {f.name for f in result.failures} == {"fails", "leaks"}


def test_a_failed_analysis_leaves_its_previous_report_in_place(project):
    root, _, _ = project
    assert (root / "reports" / "fails.html").read_text() == "OLD REPORT"
    assert not (root / "reports" / "leaks.html").exists()


def test_a_report_showing_a_person_identifier_is_not_written(project):
    _, result, _ = project
    leaks = next(o for o in result.outcomes if o.name == "leaks")
    assert "person identifier" in leaks.message
    assert "[data] people" in leaks.message


def test_report_has_no_identifiers_and_no_small_counts(project):
    root, _, people = project
    page = (root / "reports" / "good.html").read_text()
    for pid in people["person_id"]:
        assert pid not in page
    # the pilot's 3 reoffenders are withheld in the table, the sentence and the percentage
    row = re.search(r"<tr><th scope=\"row\">pilot</th>(.*?)</tr>", page).group(1)
    assert ">3<" not in row and "37.5" not in row and "[c]" in row
    assert "fewer than 5 reoffenders" in page


def test_report_is_self_contained_accessible_html(project):
    root, _, _ = project
    page = (root / "reports" / "good.html").read_text()
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert page.count("<h1>") == 1 and "<h1>The good analysis</h1>" in page
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert "<caption>Reoffending by group</caption>" in page
    assert 'role="img" aria-labelledby="fig1-title"' in page
    assert '<title id="fig1-title">Bar chart of group sizes</title>' in page
    assert '<meta name="viewport"' in page and "@media print" in page
    assert "Synthetic data" in page
    # code is not shown, except in the closed appendix
    assert page.count("rp.headline") == 1 and '<details class="code">' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids must be unique"


def test_report_does_not_depend_on_where_it_was_built(project):
    root, _, _ = project
    page = (root / "reports" / "good.html").read_text()
    assert str(root) not in page
    assert "/tmp" not in page


def test_reproducibility_section_hashes_every_input(project):
    root, _, _ = project
    page = (root / "reports" / "good.html").read_text()
    for f in ["analyses/good.py", "analyses/good.toml", "analyses/people.csv"]:
        digest = hashlib.sha256((root / f).read_bytes()).hexdigest()
        assert digest in page
    assert "evalkit build good" in page
    assert re.search(r"<th scope=\"row\">pandas</th><td>\d", page)


def test_index_lists_title_verdict_rating_and_date(project):
    root, _, _ = project
    index = (root / "reports" / "index.html").read_text()
    assert '<a href="good.html">The good analysis</a>' in index
    assert "The data cannot tell whether the scheme changed reoffending" in index
    assert "Level 3 of 5" in index
    assert "2024-03-31" in index
    meta = read_report_meta(root / "reports" / "good.html")
    assert meta["rating"] == "3" and meta["data-date"] == "2024-03-31"


def test_rebuild_is_byte_identical(project, tmp_path):
    root, _, _ = project
    again = build(root, tmp_path, names=["good"])
    assert again.ok
    assert (tmp_path / "good.html").read_bytes() == (root / "reports" / "good.html").read_bytes()


# --------------------------------------------------------------------------------------------
# what a cell may show (no kernel needed)
# --------------------------------------------------------------------------------------------


def _nb(*outputs_per_cell, markdown: str | None = None):
    cells = []
    if markdown is not None:
        cells.append(nbformat.v4.new_markdown_cell(markdown))
    for outputs in outputs_per_cell:
        cell = nbformat.v4.new_code_cell("x")
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


HEAD = {
    "output_type": "display_data",
    "metadata": {},
    "data": headline(
        ek.verdict(ek.Measure("rate difference", "o", -0.03, -0.09, 0.03), design="unmatched")
    )._repr_mimebundle_(),
}


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"output_type": "stream", "name": "stdout", "text": "hello"}, "printed text"),
        (
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "metadata": {},
                "data": {"text/html": '<table class="dataframe">', "text/plain": "df"},
            },
            "raw DataFrame",
        ),
        (
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/png": "iVBOR", "text/plain": "<Figure size 640x480>"},
            },
            "bare matplotlib figure",
        ),
    ],
)
def test_only_report_fragments_may_be_shown(output, message, tmp_path):
    nb = _nb([HEAD], [output])
    with pytest.raises(BuildError, match=message):
        check_outputs(nb, tmp_path / "a.py", [0, 0])


def test_stderr_becomes_a_logged_warning_not_page_content(tmp_path):
    warn = {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful"}
    warnings, meta = check_outputs(_nb([HEAD, warn]), tmp_path / "a.py", [3])
    assert warnings == ["a.py, cell 1 (line 3): UserWarning: careful"]
    assert meta["verdict"] == "no clear change" and meta["kind"] == "headline"


def test_exactly_one_headline_and_no_level_one_headings(tmp_path):
    with pytest.raises(BuildError, match=r"exactly one rp\.headline"):
        check_outputs(_nb([]), tmp_path / "a.py", [0])
    with pytest.raises(BuildError, match=r"exactly one rp\.headline"):
        check_outputs(_nb([HEAD], [HEAD]), tmp_path / "a.py", [0, 0])
    with pytest.raises(BuildError, match="level-1 heading"):
        check_outputs(_nb([HEAD], markdown="# Title"), tmp_path / "a.py", [0, 0])
    assert FRAGMENT_MIME in HEAD["data"]


# --------------------------------------------------------------------------------------------
# identifiers, configuration, errors before running
# --------------------------------------------------------------------------------------------


def test_identifier_scan_reads_text_not_svg_geometry():
    page = (
        '<p>Person AB12345 was here</p><svg><path d="M 1234567 0"/>'
        '<text>9876543</text></svg><img alt="id ZZ99">'
    )
    assert scan_for_identifiers(page, ["AB12345", "1234567", "9876543", "ZZ99", "X1"]) == [
        "9876543",
        "AB12345",
        "ZZ99",
    ]


def test_configuration_errors_are_reported_by_name(tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text('title = "x"\n')
    with pytest.raises(Exception, match="data_date is required"):
        read_config(bad)
    bad.write_text('title = "x"\ndata_date = "last year"\n')
    with pytest.raises(Exception, match="YYYY"):
        read_config(bad)
    bad.write_text('title = "x"\ndata_date = 2024\ncolour = "red"\n')
    with pytest.raises(Exception, match="unknown keys colour"):
        read_config(bad)
    bad.write_text("title = \n")
    with pytest.raises(Exception, match="not valid TOML"):
        read_config(bad)
    bad.write_text('title = "x"\ndata_date = 2024-03-31\n[disclosure]\nthreshold = 0\n')
    with pytest.raises(Exception, match="threshold"):
        read_config(bad)


def test_missing_config_or_data_fails_before_running(tmp_path):
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "a.py").write_text("# %%\nraise SystemExit\n")
    with pytest.raises(BuildError, match=r"no configuration a\.toml"):
        render_report(tmp_path, "a")
    (tmp_path / "analyses" / "a.toml").write_text(
        'title = "A"\ndata_date = "2024"\n[data]\npeople = "nowhere/people.csv"\n'
    )
    with pytest.raises(BuildError, match=r"input file not found: people = 'nowhere/people\.csv'"):
        render_report(tmp_path, "a")
    assert list_analyses(tmp_path / "analyses") == ["a"]


def test_check_on_an_empty_project_passes(tmp_path):
    (tmp_path / "analyses").mkdir()
    build(tmp_path)
    assert check(tmp_path).ok
