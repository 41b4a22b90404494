"""Unit tests of the JDL report's pieces: ``evalkit.report.jdl_sections``, ``jdl_text`` and
``jdl_options``.

The analysis script (``templates/jdl_analysis.py``) calls these for its tables, diagnostics and
paragraphs; ``test_report_jdl.py`` runs the whole report. Here each piece gets small synthetic
inputs with known answers: which profile rows disclosure control withholds (and the secondary
suppression of one more category), the balance diagnostics the verdict uses, the flow and results
tables, the wording that depends on small counts, and the option table that drives both the
``evalkit jdl`` command line and the command a report gives to rebuild it.
"""

from __future__ import annotations

import inspect
import shlex
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.cli import _parser
from evalkit.report import jdl as report_jdl
from evalkit.report import jdl_options as jo
from evalkit.report import jdl_sections as js
from evalkit.report import jdl_text as jt
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.wording import fmt_p

S = js.JDLSetting(labels={"sex[F]": "Women"})
STATS = list(js.PROFILE_STATS)


def balance_table(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A balance table as ``MatchResult.balance()`` gives it; unlisted statistics are 0.5/1."""
    base = dict.fromkeys(STATS, 0.5) | {"smd_before": 0.3, "smd_after": 0.02, "vr_after": 1.0}
    return pd.DataFrame([base | v for v in rows.values()], index=list(rows))


def people(region: list[str], group: list[str], **more: list) -> pd.DataFrame:
    return pd.DataFrame({"group": group, "region": region, **more})


# --------------------------------------------------------------------------------------------
# covariates and formatting
# --------------------------------------------------------------------------------------------


def test_usable_covariates_leaves_out_columns_not_rows():
    df = pd.DataFrame(
        {
            "age": [20, 31, 45],
            "risk": [1.0, np.nan, 2.0],
            "born": pd.to_datetime(["1990-01-01", "1980-01-01", "1970-01-01"]),
            "site": ["a", "a", "a"],
            "sex": ["F", "M", "F"],
        }
    )
    used, skipped = js.usable_covariates(df, ["age", "risk", "born", "site", "sex"])
    assert used == ["age", "sex"]
    assert skipped == [
        ("risk", "has missing values"),
        ("born", "a date"),
        ("site", "the same for everyone"),
    ]


def test_numbers_in_words():
    assert js.whole(0.5) == "1" and js.whole(-0.5) == "-1" and js.whole(-0.2) == "0"
    assert js.two_dp(-0.004) == "0.00"
    assert js.p_cell(float("nan")) == "–" and js.p_cell(0.0001) == "< 0.001"
    assert js.month_year(pd.Timestamp("2024-03-02")) == "March 2024"
    assert js.listing(["A", "B"]) == "A and B"
    assert js.plain("data_end and person_id") == "the extract date and person identifier"


def test_is_share():
    assert js.is_share(pd.Series(["a", "b"]))
    assert js.is_share(pd.Series([True, False]))
    assert js.is_share(pd.Series([0, 1, 1]))
    assert not js.is_share(pd.Series([0, 1, 2]))
    assert not js.is_share(pd.Series([0.5, 1.0]))


# --------------------------------------------------------------------------------------------
# the group profile: disclosure control of its rows
# --------------------------------------------------------------------------------------------


def test_a_small_category_is_withheld_with_the_smallest_other_one():
    # three regions: Rutland has 2 people in the programme group; withheld, and so is the
    # smallest other region (South), or Rutland's share would follow from the other two
    n = 60
    region = ["North"] * 30 + ["South"] * 26 + ["Rutland"] * 4
    group = (["programme", "comparison"] * (n // 2))[:n]
    df = people(region, group)
    bal = balance_table(
        {"distance": {}, "region[North]": {}, "region[Rutland]": {}, "region[South]": {}}
    )
    rows = js.profile_rows(bal, ["region"], [df], S)
    withheld = {r.key: r.withheld for r in rows}
    assert withheld == {
        "region[North]": False,
        "region[Rutland]": True,
        "region[South]": True,
        "distance": False,
    }
    assert [r.name for r in rows] == [
        "Region: North",
        "Region: Rutland",
        "Region: South",
        "Propensity score",
    ]
    # levels in the order matching names its indicators (sorted), propensity score last
    assert [r.key for r in rows][-1] == "distance"
    shown = js.profile_table(rows)
    assert set(shown["characteristic"]) == {"Region: North", "Propensity score"}
    assert list(shown["stage"]) == ["Before", "Matched", "Before", "Matched"]


def test_no_secondary_suppression_when_two_levels_are_withheld_already():
    n = 64
    region = ["North"] * 30 + ["South"] * 30 + ["Rutland"] * 2 + ["Oakham"] * 2
    group = (["programme", "comparison"] * (n // 2))[:n]
    df = people(region, group)
    keys = ["distance"] + [f"region[{r}]" for r in ("North", "Oakham", "Rutland", "South")]
    rows = js.profile_rows(balance_table({key: {} for key in keys}), ["region"], [df], S)
    assert [r.key for r in rows if r.withheld] == ["region[Oakham]", "region[Rutland]"]


def test_a_share_is_withheld_when_the_people_without_it_are_few():
    # every programme member but one has the flag: the one without it is a small count
    df = pd.DataFrame(
        {
            "group": ["programme"] * 20 + ["comparison"] * 20,
            "flag": [1] * 19 + [0] + [1, 0] * 10,
            "age": np.arange(40) + 20,
        }
    )
    bal = balance_table({"distance": {}, "flag": {}, "age": {}})
    rows = {r.key: r for r in js.profile_rows(bal, ["flag", "age"], [df], S)}
    assert rows["flag"].share and rows["flag"].withheld
    assert not rows["age"].share and not rows["age"].withheld  # a number: a mean, not a count
    # in a later frame only (the matched people) is enough
    ok = df.assign(flag=[1, 0] * 20)
    rows = {r.key: r for r in js.profile_rows(bal, ["flag"], [ok], S)}
    assert not rows["flag"].withheld
    rows = {r.key: r for r in js.profile_rows(bal, ["flag"], [ok, df], S)}
    assert rows["flag"].withheld


def test_labels_name_levels():
    df = pd.DataFrame({"group": ["programme", "comparison"] * 10, "sex": ["F", "M"] * 10})
    bal = balance_table({"distance": {}, "sex[F]": {}, "sex[M]": {}})
    rows = js.profile_rows(bal, ["sex"], [df], js.JDLSetting(disclosure=Disclosure(threshold=1)))
    assert [r.name for r in rows] == ["Sex: F", "Sex: M", "Propensity score"]
    rows = js.profile_rows(bal, ["sex"], [df], js.JDLSetting(labels={"sex[F]": "Women"}))
    assert rows[0].name == "Women" and rows[0].column_name == "Sex"


def test_profile_keys_are_the_rows_of_the_matching_balance_table():
    sim = ek.datasets.simulate_reoffending(600, programme_share=0.3, rng=4)
    cohort = ek.proven_reoffending(sim["people"], sim["offences"])
    data = cohort.data.assign(region=np.where(np.arange(len(cohort.data)) % 3, "N", "S"))
    covs = ["age", "sex", "region", "prior_offences"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        m = ek.match(data, group="group", treated="programme", covariates=covs, caliper=0.2)
    rows = js.profile_rows(m.balance(), covs, [data, m.data], js.JDLSetting())
    assert {r.key for r in rows} == set(m.balance().index)
    age = next(r for r in rows if r.key == "age")
    assert age.smd_after == pytest.approx(float(m.balance().loc["age", "smd_after"]))


# --------------------------------------------------------------------------------------------
# balance diagnostics
# --------------------------------------------------------------------------------------------


def rows_of(bal: pd.DataFrame, df: pd.DataFrame, covariates: list[str]) -> list[js.ProfileRow]:
    return js.profile_rows(bal, covariates, [df], S)


BALANCE_DATA = pd.DataFrame(
    {
        "group": ["programme", "comparison"] * 30,
        "age": np.arange(60) + 18,
        "prior": np.arange(60) % 7,
        "region": ["North"] * 30 + ["South"] * 26 + ["Rutland"] * 4,
    }
)


def test_balance_summary_names_the_worst_row():
    bal = balance_table(
        {
            "distance": {"smd_after": 0.03},
            "age": {"smd_after": -0.15, "vr_after": 1.4},
            "prior": {"smd_after": 0.05, "vr_after": 0.4},
        }
    )
    rows = rows_of(bal, BALANCE_DATA, ["age", "prior"])
    summary = js.balance_summary(rows)
    assert summary.max_smd_after == pytest.approx(0.15)
    assert summary.worst_covariate == "Age (years)"
    assert summary.vr_range == (0.4, 1.4)
    assert summary.vr_worst == 0.4 and summary.vr_worst_covariate == "Prior"  # |log 0.4| > log 1.4
    assert not summary.balanced
    # not well matched: age (difference) and prior (spread)
    assert [r.key for r in rows if not r.well] == ["age", "prior"]
    text = jt.balance_text(rows, summary)
    assert "largest standardised difference is 0.15 (Age (years))" in text
    assert "Not well matched: Age (years) and Prior." in text
    assert "The variance ratios after matching lie between 0.40 and 1.40." in text
    table = js.profile_table(rows)
    assert "not well matched (spread)" in set(table["balance"])


def test_the_worst_row_may_be_withheld_or_the_score():
    bal = balance_table(
        {
            "distance": {"smd_after": 0.3},
            "age": {"smd_after": 0.02},
            "region[North]": {"smd_after": 0.05},
            "region[Rutland]": {"smd_after": -0.25},
            "region[South]": {"smd_after": 0.01},
        }
    )
    rows = rows_of(bal, BALANCE_DATA, ["age", "region"])
    summary = js.balance_summary(rows)
    # the propensity score is furthest apart: the characteristic furthest apart is named too,
    # but a withheld category only as "a small category of ..."
    assert summary.max_smd_after == pytest.approx(0.3)
    assert summary.worst_covariate == (
        "the propensity score; most of all a small category of region, -0.25"
    )
    assert "Rutland" not in jt.balance_text(rows, summary)


def test_balanced_and_without_rows():
    bal = balance_table({"distance": {"smd_after": -0.01}, "age": {"smd_after": 0.04}})
    rows = rows_of(bal, BALANCE_DATA, ["age"])
    summary = js.balance_summary(rows)
    assert summary.balanced and summary.worst_covariate == "Age (years)"
    assert "every characteristic is well matched" in jt.balance_text(rows, summary)
    empty = js.balance_summary([])
    assert empty == js.BalanceSummary() and not empty.balanced and empty.max_smd_after is None


def test_profile_values():
    df = pd.DataFrame({"group": ["programme", "comparison"] * 20, "flag": [0, 0, 1, 1] * 10})
    bal = balance_table({"distance": {"mean_treated_before": 0.3}, "flag": {}})
    bal.loc["flag", "mean_treated_before"] = 0.125
    rows = js.profile_rows(bal, ["flag"], [df], S)
    table = js.profile_table(rows).set_index(["characteristic", "stage"])
    assert table.loc[("Flag", "Before"), "programme"] == "13%"  # half away from zero
    assert table.loc[("Propensity score", "Before"), "programme"] == "–"  # a score, not a mean


# --------------------------------------------------------------------------------------------
# flow, custody, deaths
# --------------------------------------------------------------------------------------------

FLOW = pd.DataFrame(
    {
        "table": ["people"] * 3 + ["custody"] * 3,
        "step": ["input", "incomplete_follow_up", "cohort", "input", "x", "overlaps_follow_up"],
        "reason": [
            "people in the input table",
            "follow-up ends after data_end",
            "people in the cohort",
            "spells",
            "spell outside follow_up",
            "kept",
        ],
        "n_removed": [0, 3, 0, 0, 10, 0],
        "n_remaining": [100, 97, 97, 40, 30, 30],
    }
)


def test_flow_table_words_and_counts():
    table = js.flow_table(FLOW, "people", "People")
    assert table.values.tolist() == [
        ["People in the file", 100],
        ["Excluded: follow-up ends after the extract date", 3],
        ["People in the cohort", 97],
    ]
    custody = js.flow_table(FLOW, "custody", "Custody spells")
    assert custody["step"].iloc[1] == "Excluded: spell outside follow up"
    assert custody["step"].iloc[-1] == "Spells overlapping the follow-up year (days counted)"
    assert js.kept(FLOW, "custody") == 30
    # the small exclusion is withheld, with a second cell so that it cannot be worked out
    page = js.flow_fragment(FLOW, "people", "People", "People", "People", Disclosure()).html
    assert page.count('title="withheld to protect confidentiality"') == 2


def test_custody_days_and_text():
    analysed = pd.DataFrame(
        {
            "group": ["programme"] * 10 + ["comparison"] * 10,
            "days_in_custody": [0, 10] * 5 + [0, 0, 0, 0, 0, 5, 5, 5, 5, 5],
            "weight": [1.0] * 10 + [2.0] * 5 + [0.0] * 5,
        }
    )
    assert js.custody_days(analysed, None, S) == (5.0, 2.5)
    assert js.custody_days(analysed, "weight", S) == (5.0, 0.0)
    few = analysed.assign(days_in_custody=[0] * 19 + [3])
    assert js.custody_days(few, None, S) is None
    text = jt.custody_text(30, (5.0, 2.5), "the matched comparison group", Disclosure())
    assert text.startswith("**Custody.** 30 custody spells overlapped")
    assert text.endswith("and people in the matched comparison group 2.5 days.")
    assert "On average" not in jt.custody_text(3, None, "x", Disclosure())
    assert "Fewer than 5 custody spells" in jt.custody_text(3, None, "x", Disclosure())
    assert jt.deaths_text(2, Disclosure()).startswith("**Deaths.** Fewer than 5 of the recorded")


# --------------------------------------------------------------------------------------------
# results tables
# --------------------------------------------------------------------------------------------


def test_measures_table_counts_matches_with_replacement():
    per_match = pd.DataFrame(
        {
            "group": ["programme"] * 4 + ["comparison"] * 4,
            "reoffended": [True, False, True, False, True, True, True, False],
            "n_reoffences": [2, 0, 1, 0, 1, 3, 1, 0],
            "time": [100, 365, 200, 365, 50, 60, 70, 365],
        }
    )
    table = js.measures_table(per_match, js.JDLSetting(replace=True))
    assert table["group"].tolist() == ["Programme", "Comparison (per match)"]
    assert table["people"].tolist() == [4, 4] and table["reoffenders"].tolist() == [2, 3]
    assert table["rate"].tolist() == [50.0, 75.0]
    assert table["days"].tolist() == [150.0, 60.0]
    page = jt.measures_fragment(
        table, js.JDLSetting(replace=True), matched=True, n_comparison=3
    ).html
    assert "Matches" in page and "fewer than 5 different people make them up" in page


DISPLAY = pd.DataFrame(
    {
        "difference": ["-8", "-0.25", "12"],
        "interval": ["-12 to -4", "-0.40 to -0.10", "–"],
        "unit": ["percentage points", "reoffences per person", "days"],
        "n_programme": [500, 500, 3],
        "n_comparison": [500, 500, 200],
        "result": ["significant: lower", "inconclusive", "not reported: too few reoffenders"],
    }
)


def test_differences_table_withholds_differences_behind_small_counts():
    table = js.differences_table(
        DISPLAY, [0.0004, 0.2, float("nan")], Disclosure(), rates_safe=True
    )
    assert table.columns.tolist() == ["outcome", "difference", "interval", "p", "result"]
    assert table["difference"].tolist() == ["-8 points", "-0.25 per person", SUPPRESSED]
    assert table["interval"].iloc[2] == SUPPRESSED
    assert table["p"].tolist() == ["< 0.001", fmt_p(0.2), "–"]
    assert table["result"].tolist() == [
        "lower (significant)",
        "inconclusive",
        "not reported, too few reoffenders",
    ]
    # rates that cannot be published: their difference is withheld too
    unsafe = js.differences_table(DISPLAY, [0.0004, 0.2, 0.5], Disclosure(), rates_safe=False)
    assert unsafe["difference"].iloc[0] == SUPPRESSED and unsafe["interval"].iloc[0] == SUPPRESSED
    assert DISPLAY["difference"].iloc[0] == "-8"  # the input is not changed
    page = jt.differences_fragment(table, "95%", Disclosure(), not_assessable=True).html
    assert "cannot be read as effects" in page and "95% confidence interval" in page


# --------------------------------------------------------------------------------------------
# how the comparison group was formed
# --------------------------------------------------------------------------------------------


def test_group_sizes():
    sizes = js.GroupSizes(cohort=(100, 150), analysed=(97, 97), disclosure=Disclosure())
    assert sizes.unmatched == 3 and sizes.few_unmatched and sizes.small_pool
    sizes = js.GroupSizes(cohort=(100, 300), analysed=(100, 100))
    assert sizes.unmatched == 0 and not sizes.few_unmatched and not sizes.small_pool


def test_few_unmatched_hides_the_group_sizes():
    few = js.GroupSizes(cohort=(100, 150), analysed=(97, 97))
    text = jt.method_text(S, few, (97, 97))
    assert "Fewer than 5 programme members had no such partner" in text
    assert "without replacement" in text
    page = js.matching_fragment((97, 97), few, S).html
    assert "In the cohort" not in page and "100" not in page
    pool = jt.small_pool_text(S, few, js.BalanceSummary(balanced=True))
    assert "The group sizes are not shown" in pool and "150" not in pool
    caveats = jt.caveats(S, few, js.BalanceSummary(balanced=True))
    assert caveats[-1].startswith("The results describe the programme members")
    assert "fewer than 5 could not be matched" in caveats[-1]

    many = js.GroupSizes(cohort=(100, 150), analysed=(80, 80))
    page = js.matching_fragment((80, 80), many, S).html
    assert "In the cohort" in page and "Not matched" in page
    assert "20 programme members had no such partner" in jt.method_text(S, many, (80, 80))
    unbalanced = js.BalanceSummary(max_smd_after=0.2, worst_covariate="Age", balanced=False)
    pool = jt.small_pool_text(S, many, unbalanced)
    assert pool.startswith("The comparison pool was small: 150 people for 100 programme members")
    assert "some programme members were left unmatched and after matching the largest" in pool
    caveats = jt.caveats(S, many, unbalanced)
    assert caveats[0].startswith("The matched groups are not well matched")
    assert "the comparison pool was small" in caveats[0]
    assert "20 of 100 could not be matched" in caveats[-1]


def test_with_replacement_and_unmatched_wording():
    setting = js.JDLSetting(replace=True, caliper=0.1)
    sizes = js.GroupSizes(cohort=(100, 80), analysed=(100, 40))
    text = jt.method_text(setting, sizes, (100, 40), ess=31.6)
    assert "within 0.1 standard deviations" in text and "**with replacement**" in text
    assert "40 different comparison-group people were used for 100" in text
    assert "about 32 people" in text and text.endswith("Every programme member was matched.")
    pool = jt.small_pool_text(setting, sizes, js.BalanceSummary(balanced=True))
    assert "fewer than one comparison person for each programme member" in pool
    assert "matching with replacement avoids that" in pool
    unmatched = jt.caveats(setting, sizes, None)
    assert "Maryland Scientific Methods Scale level 2" in unmatched[0] and len(unmatched) == 2
    assert "(Const: the same for everyone)" in jt.no_matching_text(
        [("const", "the same for everyone")], S
    )
    assert "none was listed with --covariates" in jt.no_matching_text([], S)
    assert jt.skipped_text([("x", "a date")], S) == "Not used for matching: X (a date)."
    design = jt.design_text(setting, ["age", "sex"], "in May 2023")
    assert "using Age (years) and Sex. Programme members' index dates fell in May 2023." in design
    assert "(1:1, with replacement, within 0.1" in design


def test_profile_fragment_notes_withheld_rows():
    bal = balance_table(
        {"distance": {}, "region[North]": {}, "region[Rutland]": {}, "region[South]": {}}
    )
    rows = rows_of(bal, BALANCE_DATA, ["region"])
    page = jt.profile_fragment(rows, S).html
    assert "2 row(s) for small categories withheld" in page
    assert "Rutland" not in page and "Region: North" in page


def test_small_texts():
    assert "fewer than 5 people in the cohort" in jt.too_few_text(3, Disclosure())
    assert jt.rates_sentence(0.125, 0.5, "the comparison group").startswith("13 of every 100")
    rebuild = jt.rebuild_fragments("evalkit jdl --people 'a b.csv'", ["dayfirst"])
    assert len(rebuild) == 3 and "&#x27;a b.csv&#x27;" in rebuild[1].html
    assert "(dayfirst)" in rebuild[2].html
    assert len(jt.rebuild_fragments("", ["dayfirst"])) == 1


# --------------------------------------------------------------------------------------------
# the option table of `evalkit jdl`
# --------------------------------------------------------------------------------------------


def test_option_table_matches_run_jdl():
    keywords = set(inspect.signature(report_jdl.run_jdl).parameters) - {
        "paths",
        "out_dir",
        "script",
        "progress",
    }
    named = {o.name for o in jo.OPTIONS} - set(jo.INPUTS) - {"out"} - set(jo.READER)
    assert named | {"reader"} == keywords
    assert [o.name for o in jo.OPTIONS if o.kind == "path"] == list(jo.INPUTS)


def test_the_command_line_and_the_rebuild_command_agree(tmp_path):
    given = [
        "--people", str(tmp_path / "data" / "people.csv"),
        "--offences", str(tmp_path / "data" / "offences.csv"),
        "--out", str(tmp_path / "report"),
        "--title", "Restart pilot", "--scheme", "Restart", "--area", "Kent",
        "--synthetic", "--replace", "--programme", "treated", "--comparison", "control",
        "--data-date", "2024-12-31", "--covariates", "age,sex",
        "--labels", "sex[F]=Women", "--columns", "Person ID=person_id",
        "--date-format", "%d/%m/%Y", "--na-values", "NULL,-",
    ]  # fmt: skip
    args = _parser().parse_args(["jdl", *given])
    paths, out_dir, options = jo.from_command_line(args)
    assert paths == {
        "people": tmp_path / "data" / "people.csv",
        "offences": tmp_path / "data" / "offences.csv",
    }
    assert out_dir == tmp_path / "report"
    assert options["covariates"] == ["age", "sex"] and options["labels"] == {"sex[F]": "Women"}
    assert options["reader"] == {
        "columns": {"Person ID": "person_id"},
        "date_format": "%d/%m/%Y",
        "na_values": ["NULL", "-"],
    }
    command = report_jdl.rebuild_command(paths, out_dir, **options)
    words = shlex.split(command)
    assert words[:2] == ["evalkit", "jdl"]
    expected = [
        "--people", "../data/people.csv", "--offences", "../data/offences.csv", "--out", ".",
        *given[6:],
    ]  # fmt: skip
    assert words[2:] == expected


def test_defaults_are_left_out_and_empty_covariates_kept():
    args = _parser().parse_args(["jdl", "--people", "p.csv", "--offences", "o.csv"])
    paths, out_dir, options = jo.from_command_line(args)
    assert out_dir == Path("jdl-report")
    assert options == {
        "title": None,
        "scheme": "",
        "area": "",
        "synthetic": False,
        "replace": False,
        "programme": "programme",
        "comparison": "comparison",
        "data_date": None,
        "reader": {},
    }
    command = report_jdl.rebuild_command(paths, Path("."), **options)
    assert command == "evalkit jdl --people p.csv --offences o.csv --out ."
    args = _parser().parse_args(["jdl", "--people", "p", "--offences", "o", "--covariates", ""])
    _, _, options = jo.from_command_line(args)
    assert options["covariates"] == []
    assert report_jdl.rebuild_command(paths, Path("."), covariates=[]).endswith("--covariates ''")
    # reader options the command line cannot express are left out
    per_column = {"date_format": {"index_date": "%d/%m/%Y"}, "dayfirst": True}
    assert "--date-format" not in report_jdl.rebuild_command(paths, Path("."), reader=per_column)
    with pytest.raises(TypeError, match="titel"):
        report_jdl.rebuild_command(paths, Path("."), titel="x")


def test_help_lists_every_option(capsys):
    from evalkit.cli import main

    assert main(["jdl", "--help"]) == 0
    out = capsys.readouterr().out
    for o in jo.OPTIONS:
        assert o.flag in out
