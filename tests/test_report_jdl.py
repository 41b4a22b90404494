"""End-to-end tests of ``evalkit jdl``: files written from simulated data → a JDL-style report.

Every test runs the real command (``evalkit.cli.main``) on CSV or parquet files written from
``evalkit.datasets.simulate_reoffending`` in a temporary folder; the report is built in a fresh
kernel by the report pipeline. The identifier test searches the finished HTML for every person
identifier in the input files, independently of the build's own scan, and a negative control
shows that a script that prints an identifier is refused. Further tests build reports with a
title, scheme, area and labels, on a comparison pool smaller than the programme group (with and
without matching with replacement), and on inputs carrying evalkit's synthetic-data marker, and
check the page's text, its meta tags, its configuration and its rebuild command.
"""

from __future__ import annotations

import html
import re
import shlex
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.cli import main
from evalkit.jdl import jdl_outcomes
from evalkit.report import jdl as report_jdl
from evalkit.report.build import BuildError

RARE = "Rutland"  # a region with three people: its balance rows must be withheld


def write_inputs(
    folder: Path,
    *,
    n: int = 2500,
    hr: float = 0.6,
    seed: int = 7,
    fmt: str = "csv",
    covariates: bool = True,
) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sim = ek.datasets.simulate_reoffending(n, effect_hr=hr, programme_share=0.2, rng=seed)
    people = sim["people"]
    if covariates:
        region = np.where(np.arange(n) % 2 == 0, "North", "South").astype(object)
        region[[10, 20, 30]] = RARE
        people = people.assign(region=region)
    else:
        people = people[["person_id", "index_date", "group"]]
    sim["people"] = people
    paths = {}
    for name, df in sim.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        paths[name] = path
    return paths


def run(paths: dict[str, Path], out: Path, *extra: str) -> tuple[int, str, str]:
    import io

    o, e = io.StringIO(), io.StringIO()
    args = ["-q", "--log-file", str(out.parent / "evalkit.log"), "jdl"]
    for name in ("people", "offences", "custody", "deaths"):
        if name in paths:
            args += [f"--{name}", str(paths[name])]
    code = main([*args, "--out", str(out), *extra], stdout=o, stderr=e)
    return code, o.getvalue(), e.getvalue()


def matched(data: pd.DataFrame, covariates: list[str], **options) -> ek.MatchResult:
    """``ek.match`` as the report calls it: ``Cohort.data`` straight in, the group column and
    the programme's label, 1:1 on the logit of the propensity score within 0.2 SD."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        return ek.match(
            data,
            group="group",
            treated="programme",
            covariates=covariates,
            caliper=0.2,
            link="linear.logit",
            **options,
        )


def text_of(page: str) -> str:
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def meta(page: str, name: str) -> str | None:
    found = re.search(rf'<meta name="evalkit-{name}" content="([^"]*)">', page)
    return None if found is None else found.group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jdl")
    paths = write_inputs(folder / "data")
    code, out, err = run(paths, folder / "report")
    assert code == 0, err
    page = (folder / "report" / "jdl.html").read_text(encoding="utf-8")
    return paths, page, out


def test_report_is_written_with_the_jdl_outcome_set(built):
    _, page, out = built
    assert "wrote" in out and out.strip().endswith("jdl.html")
    text = text_of(page)
    # known truth: hazard ratio 0.6, so the matched comparison finds fewer reoffenders; the
    # headline is the verdict engine's (rates of both groups, the difference per 100 people)
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page, flags=re.S)
    assert verdict is not None and verdict.group(1).startswith(
        "Proven reoffending within one year was lower in the programme group than in the "
        "matched comparison group"
    )
    assert meta(page, "verdict") == "reduced"
    assert float(meta(page, "max-smd-after")) <= 0.1  # balanced: the effect may be stated
    assert re.search(r"\d+ of every 100 people in the programme group committed a proven ", text)
    assert "fewer people committed a proven reoffence during the one-year period" in text
    assert "Level 3 of 5" in text
    for heading in ("Who was included", "How the comparison group was formed", "Results"):
        assert heading in text
    assert "Proportion without a proven reoffence" in text and "<svg" in page
    assert "Maryland Scientific Methods Scale level 3 at best" in text
    assert "Data as of" in text


def test_headline_is_what_the_library_gives(built):
    # the same analysis done by hand with the public API gives the same sentence
    paths, page, _ = built
    people = ek.read_table(paths["people"], table="people")
    people["group"] = people["group"].astype("string")
    offences = ek.read_table(paths["offences"], table="offences")
    custody = ek.read_table(paths["custody"], table="custody")
    deaths = ek.read_table(paths["deaths"], table="deaths")
    date = report_jdl.infer_data_date(offences)
    cohort = ek.proven_reoffending(people, offences, custody, deaths, data_end=date)
    # by default the columns of known meaning; `region` is used only when listed
    m = matched(cohort.data, ["age", "sex", "prior_offences", "sentence_length_days"])
    res = jdl_outcomes(m.data, weights="weight", cluster="subclass")
    text = text_of(page)
    for sentence in res.sentences.values():
        assert sentence in text


def test_no_person_identifier_reaches_the_report(built):
    paths, page, _ = built
    ids: set[str] = set()
    for path in paths.values():
        ids |= set(pd.read_csv(path, dtype={"person_id": str})["person_id"].astype(str))
    assert len(ids) >= 2500
    leaked = sorted(i for i in ids if i in page)
    assert not leaked, leaked[:5]


def test_small_categories_are_withheld(built):
    _, page, _ = built
    # the three people of the rare region: their balance rows are withheld, not shown
    assert f"region[{RARE}]" not in page and f"region_{RARE}" not in page
    assert "withheld to protect confidentiality" in page
    # zero counts in the flow tables are withheld too
    assert "[c]" in page


def test_a_script_that_shows_an_identifier_is_refused(built, tmp_path):
    # negative control for the build's identifier scan
    paths, _, _ = built
    leaky = tmp_path / "leaky.py"
    leaky.write_text(
        report_jdl.JDL_SCRIPT.read_text(encoding="utf-8")
        + '\n# %%\nrp.paragraph("first person: " + str(tables["people"]["person_id"].iloc[0]))\n',
        encoding="utf-8",
    )
    with pytest.raises(BuildError, match="person identifier"):
        report_jdl.run_jdl(paths, tmp_path / "out", script=leaky)
    assert not (tmp_path / "out" / "jdl.html").exists()


def test_without_covariates_the_comparison_is_unmatched_and_says_so(tmp_path):
    paths = write_inputs(tmp_path / "data", fmt="parquet", covariates=False, n=1500)
    # relabel the groups and name the labels on the command line
    people = pd.read_parquet(paths["people"])
    people["group"] = people["group"].map({"programme": "treated", "comparison": "control"})
    people.to_parquet(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out", "--programme", "treated", "--comparison", "control")
    assert code == 0, err
    text = text_of((tmp_path / "out" / "jdl.html").read_text(encoding="utf-8"))
    assert "Without a matched comparison group this report cannot estimate the effect" in text
    assert "Level 2 of 5" in text
    assert "no matched comparison group could be formed" in text
    assert 'programme = "treated"' in (tmp_path / "out" / "jdl.toml").read_text()


def test_programme_of_59_is_not_assessable(tmp_path):
    # the JDL's minimum: below 60 programme people the report says so and stops (no measures)
    paths = write_inputs(tmp_path / "data", n=800)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    prog = np.flatnonzero(people["group"].to_numpy() == "programme")
    people.loc[prog[59:], "group"] = "comparison"  # keep 59 programme members
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 0, err
    page = (tmp_path / "out" / "jdl.html").read_text(encoding="utf-8")
    assert meta(page, "verdict") == "not assessable" and meta(page, "strength") == "none"
    assert "fewer than 60 people" in meta(page, "headline")
    assert "this report therefore stops here" in page
    published = page.split('id="analysis-code"')[0]  # the page, not its code appendix
    assert "The Justice Data Lab measures" not in published  # nothing after the end


def test_unknown_group_label_fails_naming_the_column(tmp_path):
    paths = write_inputs(tmp_path / "data", n=800)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    people.loc[5, "group"] = "Programme"
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 1
    assert "column 'group'" in err and "'Programme'" in err and "Traceback" not in err


def test_a_comparison_label_other_than_the_one_given_is_refused(tmp_path):
    # two labels, but the other one is not --comparison: refused, not taken as the comparison
    paths = write_inputs(tmp_path / "data", n=400)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    people["group"] = people["group"].replace({"comparison": "control"})
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "column 'group'" in err and "'comparison' (comparison)" in err and "'control'" in err


@pytest.mark.slow
def test_no_effect_gives_the_inconclusive_headline_and_rebuilds_identically(tmp_path):
    # known truth: no effect (hazard ratio 1); seed chosen so that the matched comparison is
    # not significant, as it should be about 95% of the time
    paths = write_inputs(tmp_path / "data", hr=1.0, seed=2, n=3000)
    code, _, err = run(paths, tmp_path / "a")
    assert code == 0, err
    first = (tmp_path / "a" / "jdl.html").read_bytes()
    verdict = re.search(r'<p class="verdict">(.*?)</p>', first.decode(), flags=re.S)
    assert verdict is not None
    assert verdict.group(1).startswith("The data cannot tell whether the programme changed")
    assert meta(first.decode(), "verdict") == "no clear change"
    code, _, err = run(paths, tmp_path / "a")
    assert code == 0, err
    assert (tmp_path / "a" / "jdl.html").read_bytes() == first


def _measures(page: str) -> str:
    """The findings of a JDL report (everything between the headline and the methods).

    The rebuild command at the end differs between the three forms (file names, --columns).
    """
    body = page.split("<main", 1)[1].split('id="how-to-rebuild-this-report"')[0]
    return re.sub(r"<style.*?</style>", "", body, flags=re.S)


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory):
    """One synthetic extract written as ISO CSV, UK CSV and Excel, each through `evalkit jdl`."""
    from evalkit.datasets import UK_COLUMNS, write_extract

    pytest.importorskip("openpyxl")
    folder = tmp_path_factory.mktemp("jdl3")
    sim = ek.datasets.simulate_reoffending(1500, effect_hr=0.6, programme_share=0.25, rng=3)
    cli_columns = ",".join(f"{k}={v}" for k, v in UK_COLUMNS.items())
    styles = {
        "iso": [],
        "uk": ["--columns", cli_columns, "--date-format", "%d/%m/%Y"],
        "xlsx": ["--columns", cli_columns],
    }
    out = {}
    for style, extra in styles.items():
        paths = write_extract(sim, folder / style, style)
        code, _, err = run(paths, folder / f"out-{style}", "--data-date", "2024-12-31", *extra)
        assert code == 0, err
        out[style] = (paths, (folder / f"out-{style}" / "jdl.html").read_text(encoding="utf-8"))
    return out


def test_jdl_on_uk_csv_and_xlsx_gives_the_same_report_numbers_as_iso_csv(three_ways):
    iso = _measures(three_ways["iso"][1])
    assert "fewer people committed a proven reoffence" in iso
    assert _measures(three_ways["uk"][1]) == iso
    assert _measures(three_ways["xlsx"][1]) == iso


def test_jdl_refuses_uk_dates_without_a_date_format(three_ways, tmp_path):
    from evalkit.datasets import UK_COLUMNS

    paths = three_ways["uk"][0]
    # a people file whose days are all 1-12: 02/03 could be 2 March or 3 February
    people = pd.read_csv(paths["people"], dtype=str)
    people = people[people["Index Date"].str[:2].astype(int) <= 12]
    small = dict(paths, people=tmp_path / "People.csv")
    people.to_csv(small["people"], index=False)
    cols = ",".join(f"{k}={v}" for k, v in UK_COLUMNS.items())
    code, _, err = run(small, tmp_path / "out", "--columns", cols)
    assert code == 1 and "Traceback" not in err
    assert "could be read day first" in err and "--date-format %d/%m/%Y" in err
    # nothing written: neither a report nor its configuration
    assert not (tmp_path / "out" / "jdl.html").exists()
    assert not (tmp_path / "out" / "jdl.toml").exists()


def test_jdl_matches_only_on_covariates_of_known_meaning(tmp_path):
    paths = write_inputs(tmp_path / "data", n=1200)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    officers = np.array(["PO Jane Doe", "PO John Roe", "PO Ann Poe"], dtype=object)
    people["probation_officer"] = officers[np.arange(len(people)) % 3]
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 0, err
    page = (tmp_path / "out" / "jdl.html").read_text(encoding="utf-8")
    assert "Jane Doe" not in page and "probation_officer" not in page
    # `region` is not of known meaning and was not listed: not matched on
    assert "Region" not in text_of(page) and "region_" not in page and "region[" not in page
    config = (tmp_path / "out" / "jdl.toml").read_text(encoding="utf-8")
    assert 'covariates = ["age", "sex", "prior_offences", "sentence_length_days"]' in config
    # listed explicitly, a column is used (named in words: the page shows labels)
    code, _, err = run(paths, tmp_path / "out2", "--covariates", "age,region")
    assert code == 0, err
    text = text_of((tmp_path / "out2" / "jdl.html").read_text(encoding="utf-8"))
    assert "log-odds), using Age (years) and Region." in text
    assert "Sex: F" not in text
    # a listed column that does not exist is refused by name
    code, _, err = run(paths, tmp_path / "out3", "--covariates", "age,risk_score")
    assert code == 1 and "column 'risk_score' in people" in err


def test_failed_jdl_run_leaves_the_previous_report_and_config(tmp_path):
    paths = write_inputs(tmp_path / "data", n=800)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 0, err
    before = {name: (tmp_path / "out" / name).read_bytes() for name in ("jdl.html", "jdl.toml")}
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    people.loc[3, "group"] = "Programme"
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out", "--data-date", "2024-12-30")
    assert code == 1
    after = {name: (tmp_path / "out" / name).read_bytes() for name in before}
    assert after == before  # the pair is written together or not at all


def test_jdl_asks_for_a_mapping_of_known_covariates_under_other_headers(tmp_path):
    paths = write_inputs(tmp_path / "data", n=800)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    people = people.rename(columns={"prior_offences": "Prior Offences"})
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "column 'Prior Offences' in people" in err
    assert "Prior Offences=prior_offences" in err
    assert not (tmp_path / "out").exists()
    # saying what to match on is enough
    code, _, err = run(paths, tmp_path / "out", "--covariates", "age,sex")
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# title, scheme, area, labels, the group profile, the rebuild command (issue 9, item 3)
# --------------------------------------------------------------------------------------------

TITLE, SCHEME, AREA = "Restart pilot", "Restart Thames Valley", "Thames Valley"
LABEL_ARG = "prior_offences=Previous offences,sex[F]=Women"
LABELLED_COVARIATES = "age,sex,prior_offences,sentence_length_days,region"


def visible_text(page: str) -> str:
    """Everything a reader sees, meta tags included, except the configuration record.

    Left out: the analysis script (closed ``<details>``), the table of the configuration's
    parameters and the shell commands (``<pre>``), which reproduce the configuration and the
    command line as written (column names included) so that the report can be rebuilt.
    """
    head = " ".join(re.findall(r'<meta name="evalkit-[^"]+" content="([^"]*)">', page))
    body = page.split("<body>", 1)[1]
    body = re.sub(r'<details class="code">.*?</details>', " ", body, flags=re.S)
    body = re.sub(r'<table class="parameters">.*?</table>', " ", body, flags=re.S)
    body = re.sub(r"<pre[ >].*?</pre>", " ", body, flags=re.S)
    return head + " " + text_of(body)


def table_rows(page: str, caption: str) -> list[list[str]]:
    """The body rows of the table with ``caption`` (cell texts)."""
    found = re.search(
        rf"<caption>{re.escape(caption)}</caption>.*?<tbody>(.*?)</tbody>", page, flags=re.S
    )
    assert found is not None, caption
    return [
        [text_of(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), flags=re.S)
    ]


def cohort_of(paths: dict[str, Path]):
    tables = {k: ek.read_table(p, table=k) for k, p in paths.items()}
    tables["people"]["group"] = tables["people"]["group"].astype("string")
    date = report_jdl.infer_data_date(tables["offences"])
    return ek.proven_reoffending(
        tables["people"],
        tables["offences"],
        tables.get("custody"),
        tables.get("deaths"),
        data_end=date,
    )


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jdl-labelled")
    paths = write_inputs(folder / "data", n=1500, seed=5)
    out = folder / "report"
    extra = [
        "--title", TITLE, "--scheme", SCHEME, "--area", AREA, "--synthetic",
        "--labels", LABEL_ARG, "--covariates", LABELLED_COVARIATES,
    ]  # fmt: skip
    code, _, err = run(paths, out, *extra)
    assert code == 0, err
    return paths, out, (out / "jdl.html").read_text(encoding="utf-8")


def test_title_scheme_area_and_participation_period_are_shown(labelled):
    paths, out, page = labelled
    assert f"<h1>{TITLE} ({AREA})</h1>" in page
    assert meta(page, "title") == f"{TITLE} ({AREA})"
    assert f"Evaluation report · {SCHEME}" in page
    assert meta(page, "synthetic") == "yes" and "Synthetic data." in text_of(page)
    config = (out / "jdl.toml").read_text(encoding="utf-8")
    assert f'title = "{TITLE} ({AREA})"' in config and f'scheme = "{SCHEME}"' in config
    assert f'area = "{AREA}"' in config and "synthetic = true" in config
    # the participation period: first and last index date of the programme group, month and year
    data = cohort_of(paths).data
    dates = pd.to_datetime(data.loc[data["group"] == "programme", "index_date"])
    first, last = (d.strftime("%B %Y") for d in (dates.min(), dates.max()))
    assert first != last
    text = text_of(page)
    assert f"Did people who took part in {SCHEME} ({first} to {last})" in text
    assert f"Programme members' index dates fell between {first} and {last}." in text
    # never exact days
    assert dates.min().strftime("%Y-%m-%d") not in page


def test_group_profile_before_and_after_matching_with_labels(labelled):
    paths, _, page = labelled
    # two rows a characteristic: (programme, comparison, difference, balance) before and matched
    table = table_rows(page, "Group profile before and after matching")
    rows = {(r[0], r[1]): r[2:] for r in table}
    names = list(dict.fromkeys(r[0] for r in table))
    assert all({(n, "Before"), (n, "Matched")} <= set(rows) for n in names)
    # labels from --labels, the defaults, and words for a column with no label
    assert {"Age (years)", "Women", "Sex: M", "Previous offences", "Sentence length (days)"} <= set(
        names
    )
    # small categories withheld: Rutland (three people), and one more region so that Rutland's
    # share cannot be worked out from the others (they add up to 100%)
    assert f"Region: {RARE}" not in names
    assert len([n for n in names if n.startswith("Region: ")]) == 1
    assert "row(s) for small categories withheld to protect confidentiality" in page
    # the numbers: group means and percentages before matching, from the data by hand
    data = cohort_of(paths).data
    prog, comp = (data[data["group"] == g] for g in ("programme", "comparison"))
    assert rows["Age (years)", "Before"][:2] == [
        f"{prog['age'].mean():.1f}",
        f"{comp['age'].mean():.1f}",
    ]
    women = [f"{np.floor(100 * (d['sex'] == 'F').mean() + 0.5):.0f}%" for d in (prog, comp)]
    assert rows["Women", "Before"][:2] == women
    # after matching, as the library's balance table gives them, with a plain label
    m = matched(data, LABELLED_COVARIATES.split(","))
    bal = m.balance()
    for name, key in [("Age (years)", "age"), ("Previous offences", "prior_offences")]:
        b = bal.loc[key]
        assert rows[name, "Matched"][:2] == [
            f"{b['mean_treated_after']:.1f}",
            f"{b['mean_control_after']:.1f}",
        ]
        assert rows[name, "Before"][2] == f"{round(b['smd_before'], 2) + 0.0:.2f}"
        assert rows[name, "Matched"][2] == f"{round(b['smd_after'], 2) + 0.0:.2f}"
        well = abs(b["smd_after"]) <= 0.1 and 0.5 <= b["vr_after"] <= 2
        assert rows[name, "Matched"][3] == ("well matched" if well else "not well matched")
    assert all(
        r[3].startswith(("well matched", "not well matched"))
        for (_, stage), r in rows.items()
        if stage == "Matched"
    )
    # the largest difference after matching is in the page's meta tags
    assert float(meta(page, "max-smd-after")) == pytest.approx(
        bal["smd_after"].abs().max(), abs=0.005
    )


def test_raw_variable_names_never_reach_the_page(built, labelled):
    for paths, page in ((built[0], built[1]), (labelled[0], labelled[2])):
        text = visible_text(page)
        names = set()
        for path in paths.values():
            names |= {c for c in pd.read_csv(path, nrows=0).columns if "_" in c}
        names |= {"sex_F", "sex_M", "region_North", "region_South", f"region_{RARE}"}
        names |= {"sex[F]", "sex[M]", "region[North]", "region[South]", f"region[{RARE}]"}
        names |= {"data_end", "days_in_custody", "n_reoffences", "programme_member"}
        names |= {"community_resolution", "subclass"}
        shown = sorted(n for n in names if n in text)
        assert not shown, shown
        assert "prior_offences" in page  # (in the configuration record: the test sees the page)


# --------------------------------------------------------------------------------------------
# a comparison pool smaller than the programme group; matching with replacement
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory):
    """About as many comparison people as programme members (1,013 against 987), selected."""
    folder = tmp_path_factory.mktemp("jdl-pool")
    sim = ek.datasets.simulate_reoffending(2000, effect_hr=0.6, programme_share=0.5, rng=11)
    paths = {}
    (folder / "data").mkdir()
    for name in ("people", "offences"):
        paths[name] = folder / "data" / f"{name}.csv"
        sim[name].to_csv(paths[name], index=False)
    pages = {}
    for how, extra in (("without", ()), ("with", ("--replace",))):
        code, _, err = run(paths, folder / how, *extra)
        assert code == 0, err
        pages[how] = (folder / how / "jdl.html").read_text(encoding="utf-8")
    return paths, folder, pages


def test_small_pool_is_explained_and_replace_is_offered(small_pool):
    paths, _, pages = small_pool
    page = pages["without"]
    data = cohort_of(paths).data
    n_prog = int((data["group"] == "programme").sum())
    n_comp = int((data["group"] == "comparison").sum())
    assert n_comp < n_prog
    text = text_of(page)
    assert (
        f"The comparison pool was small: {n_comp:,} people for {n_prog:,} programme members, "
        "fewer than one comparison person for each programme member." in text
    )
    assert (
        "Matching one to one without replacement uses each comparison person at most once" in text
    )
    assert "run evalkit jdl again with --replace" in text
    assert "some programme members were left unmatched" in text
    # 1:1 without replacement leaves the groups unbalanced: no effect may be stated
    assert float(meta(page, "max-smd-after")) > 0.1
    assert meta(page, "verdict") == "not assessable"
    assert "not well matched" in text
    assert "without replacement" in text_of(page.split('id="summary-title"')[1][:3000])


def test_replace_uses_matching_with_replacement_and_says_so(small_pool):
    paths, folder, pages = small_pool
    page = pages["with"]
    text = text_of(page)
    assert "(1:1, with replacement," in text
    assert "Matching was with replacement" in text
    assert "a comparison person could be the partner of several programme members" in text
    assert "Balance was reached with matching with replacement." in text
    assert float(meta(page, "max-smd-after")) <= 0.1
    assert meta(page, "verdict") == "reduced"
    config = (folder / "with" / "jdl.toml").read_text(encoding="utf-8")
    assert "replace = true" in config and "--replace" in config
    # the outcome analysis uses the matching weights, with errors by person: with replacement a
    # control can be matched to several programme people, so there is no pair to cluster on
    data = cohort_of(paths).data
    m = matched(data, ["age", "sex", "prior_offences", "sentence_length_days"], replace=True)
    assert m.data["weight"].max() > 1  # some comparison people were used several times
    with pytest.raises(ek.InputError, match="subclass"):
        jdl_outcomes(m.data, weights="weight", cluster="subclass")
    res = jdl_outcomes(m.data, weights="weight")
    rows = {
        r[0]: r
        for r in table_rows(page, "Programme minus comparison, with 95% confidence intervals")
    }
    assert rows["Reoffending rate"][2] == res.display.loc[0, "interval"]
    assert res.sentences["rate"] in text
    # close to the two-way (pair and person) clustered interval of matched_rate_difference
    two_way = ek.matched_rate_difference(m, outcome="reoffended")
    rate = res.table.iloc[0]
    assert rate["estimate"] == pytest.approx(two_way.estimate)
    assert rate["upper"] - rate["lower"] == pytest.approx(two_way.upper - two_way.lower, rel=0.05)


def test_p_values_in_text_are_written_as_in_the_tables(small_pool):
    _, _, pages = small_pool
    text = text_of(pages["without"])
    assert "p = 0.000" not in text
    rows = {
        r[0]: r
        for r in table_rows(
            pages["without"], "Programme minus comparison, with 95% confidence intervals"
        )
    }
    assert rows["Reoffending rate"][3] == "< 0.001"
    assert re.search(
        r"hazard ratio, 95% confidence interval\) is [0-9.]+ \([0-9.]+ to [0-9.]+\), p < 0\.001",
        text,
    )


# --------------------------------------------------------------------------------------------
# custody and deaths; the synthetic-data marker; the rebuild command
# --------------------------------------------------------------------------------------------


def test_custody_and_deaths_handling_is_reported(built, small_pool):
    paths, page, _ = built
    flow = cohort_of(paths).flow
    text = text_of(page)
    custody = table_rows(page, "Custody spells: which fall in the follow-up year")
    deaths = table_rows(page, "Deaths: which fall in the follow-up year")
    kept = {t: int(flow[flow["table"] == t]["n_remaining"].iloc[-1]) for t in ("custody", "deaths")}
    assert custody[-1] == [
        "Spells overlapping the follow-up year (days counted)",
        f"{kept['custody']:,}",
    ]
    assert deaths[-1] == [
        "Deaths within the follow-up year (follow-up ends at death)",
        f"{kept['deaths']:,}",
    ]
    assert f"{kept['custody']:,} custody spells overlapped someone's follow-up year" in text
    assert "the days spent in custody during the follow-up year were counted" in text
    assert "their follow-up was censored (ended) on the date of death" in text
    # none given: the report says so and what that means
    other = visible_text(small_pool[2]["without"])
    assert "No custody file was given" in other and "No deaths file was given" in other
    assert "Custody spells:" not in other and "Deaths:" not in other


def test_synthetic_marker_makes_the_report_synthetic(tmp_path):
    import pyarrow.parquet as pq

    from evalkit.datasets import write_extract
    from evalkit.io import SYNTHETIC_MARKER, is_synthetic, mark_synthetic

    # the marker: a file beside the data, or parquet key-value metadata
    plain = write_inputs(tmp_path / "plain", n=600, fmt="parquet")
    assert not any(is_synthetic(p) for p in plain.values())
    marker = mark_synthetic(tmp_path / "plain")
    assert marker.name == SYNTHETIC_MARKER and "synthetic" in marker.read_text()
    assert "evalkit" in marker.read_text() and len(marker.read_text().splitlines()) == 1
    assert all(is_synthetic(p) for p in plain.values())
    written = write_extract(ek.datasets.simulate_reoffending(100, rng=1), tmp_path / "x", "iso")
    assert all(is_synthetic(p) for p in written.values())
    shipped = Path(ek.datasets.__file__).parent / "example_extract"
    assert is_synthetic(shipped / "people.csv")

    # a report on unmarked files, one of them a parquet file carrying the metadata: synthetic,
    # though --synthetic was not given
    paths = write_inputs(tmp_path / "data", n=800, fmt="parquet")
    paths = {k: paths[k] for k in ("people", "offences")}
    table = pq.read_table(paths["offences"])
    metadata = {**(table.schema.metadata or {}), b"evalkit_synthetic": b"yes"}
    pq.write_table(table.replace_schema_metadata(metadata), paths["offences"])
    assert is_synthetic(paths["offences"]) and not is_synthetic(paths["people"])
    code, _, err = run(paths, tmp_path / "out")
    assert code == 0, err
    page = (tmp_path / "out" / "jdl.html").read_text(encoding="utf-8")
    assert meta(page, "synthetic") == "yes"
    assert "Synthetic data." in text_of(page)
    assert "synthetic = true" in (tmp_path / "out" / "jdl.toml").read_text(encoding="utf-8")


def test_rebuild_command_is_exact_and_relative(labelled):
    paths, out, page = labelled
    section = page.split('id="how-to-rebuild-this-report"', 1)[1].split("</section>")[0]
    found = re.search(r'<pre class="commands"><code>(.*?)</code></pre>', section, flags=re.S)
    assert found is not None
    command = html.unescape(found.group(1))
    expected = [
        "evalkit", "jdl",
        "--people", "../data/people.csv", "--offences", "../data/offences.csv",
        "--custody", "../data/custody.csv", "--deaths", "../data/deaths.csv",
        "--out", ".",
        "--title", TITLE, "--scheme", SCHEME, "--area", AREA, "--synthetic",
        "--covariates", LABELLED_COVARIATES, "--labels", LABEL_ARG,
    ]  # fmt: skip
    assert shlex.split(command) == expected
    # no absolute paths anywhere: not in the page, not in the configuration
    config = (out / "jdl.toml").read_text(encoding="utf-8")
    for text in (page, config):
        assert str(out.parent) not in text and "/tmp/" not in text
    assert 'people = "../data/people.csv"' in config
    from evalkit.report.config import read_config

    cfg = read_config(out / "jdl.toml")
    assert cfg.data["people"].path == paths["people"].resolve()
    # the command works: run in the report's folder, it rebuilds the same report
    import os

    before = (out / "jdl.html").read_bytes()
    cwd = os.getcwd()
    try:
        os.chdir(out)
        code = main(["-q", "--log-file", str(out.parent / "evalkit.log"), *expected[1:]])
    finally:
        os.chdir(cwd)
    assert code == 0
    assert (out / "jdl.html").read_bytes() == before


def test_labels_and_titles_helpers():
    assert report_jdl.covariate_label("ogrs_score") == "OGRS score"
    assert report_jdl.covariate_label("risk_score") == "Risk score"
    assert report_jdl.covariate_label("sex", "M") == "Sex: M"
    assert report_jdl.parse_labels(LABEL_ARG) == {
        "prior_offences": "Previous offences",
        "sex[F]": "Women",
    }
    with pytest.raises(ek.InputError, match="--labels"):
        report_jdl.parse_labels("prior_offences")
    assert report_jdl.report_title(None, "", scheme="Fresh Start") == (
        "Fresh Start: a Justice Data Lab-style comparison"
    )


def test_a_label_for_an_unknown_column_is_refused(tmp_path):
    paths = write_inputs(tmp_path / "data", n=300)
    code, _, err = run(paths, tmp_path / "out", "--labels", "prior_ofences=Previous offences")
    assert code == 1 and "column 'prior_ofences' in people" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
