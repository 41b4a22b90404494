"""End-to-end tests of ``evalkit jdl``: files written from simulated data → a JDL-style report.

Every test runs the real command (``evalkit.cli.main``) on CSV or parquet files written from
``evalkit.datasets.simulate_reoffending`` in a temporary folder; the report is built in a fresh
kernel by the report pipeline. The identifier test searches the finished HTML for every person
identifier in the input files, independently of the build's own scan, and a negative control
shows that a script that prints an identifier is refused.
"""

from __future__ import annotations

import re
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


def text_of(page: str) -> str:
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


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
    # known truth: hazard ratio 0.6, so the matched comparison finds fewer reoffenders
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page, flags=re.S)
    assert verdict is not None and verdict.group(1).startswith(
        "For every 100 people who received support, between"
    )
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
    d = cohort.data.assign(programme_member=(cohort.data["group"] == "programme").astype(int))
    # by default the columns of known meaning; `region` is used only when listed
    covs = ["age", "sex", "prior_offences", "sentence_length_days"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        m = ek.match(
            d, treatment="programme_member", covariates=covs, caliper=0.2, link="linear.logit"
        )
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
    assert f"region_{RARE}" not in page
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


def test_programme_of_59_fails_with_the_jdl_rule(tmp_path):
    paths = write_inputs(tmp_path / "data", n=800)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    prog = np.flatnonzero(people["group"].to_numpy() == "programme")
    people.loc[prog[59:], "group"] = "comparison"  # keep 59 programme members
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 1
    assert "at least 60 people" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "jdl.html").exists()


def test_unknown_group_label_fails_naming_the_column(tmp_path):
    paths = write_inputs(tmp_path / "data", n=800)
    people = pd.read_csv(paths["people"], dtype={"person_id": str})
    people.loc[5, "group"] = "Programme"
    people.to_csv(paths["people"], index=False)
    code, _, err = run(paths, tmp_path / "out")
    assert code == 1
    assert "column 'group'" in err and "'Programme'" in err and "Traceback" not in err


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
    assert verdict.group(1).startswith("The analysis is inconclusive: for every 100 people")
    code, _, err = run(paths, tmp_path / "a")
    assert code == 0, err
    assert (tmp_path / "a" / "jdl.html").read_bytes() == first


def _measures(page: str) -> str:
    """The findings of a JDL report (everything between the headline and the methods)."""
    body = page.split("<main", 1)[1].split('id="reproducibility"')[0]
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
    assert "<code>region</code>" not in page and "region_" not in page
    config = (tmp_path / "out" / "jdl.toml").read_text(encoding="utf-8")
    assert 'covariates = ["age", "sex", "prior_offences", "sentence_length_days"]' in config
    # listed explicitly, a column is used
    code, _, err = run(paths, tmp_path / "out2", "--covariates", "age,region")
    assert code == 0, err
    page = (tmp_path / "out2" / "jdl.html").read_text(encoding="utf-8")
    assert "<code>region</code>" in page and "<code>sex</code>" not in page
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
