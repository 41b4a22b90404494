"""The sections and estimates the scheme reports share (evalkit.report: matched, measures,
sections, cohorts): each checked on what it shows or returns, not against a copy of itself."""

from __future__ import annotations

import re
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit import report as rp
from evalkit.claims import check_claim
from evalkit.datasets import write_extract
from evalkit.errors import InputError
from evalkit.report.config import read_config

COVARIATES = ["age", "sex", "prior_offences", "sentence_length_days"]
WITHHELD = "withheld to protect confidentiality"


def _cells(fragment: rp.Fragment) -> list[list[str]]:
    """The text of each body row of a table fragment (header cells and data cells)."""
    body = fragment.html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


def _headings(fragment: rp.Fragment) -> list[str]:
    head = fragment.html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return re.findall(r"<th[^>]*>(.*?)</th>", head)


@pytest.fixture(scope="module")
def cohort() -> ek.Cohort:
    return ek.proven_reoffending(**ek.datasets.load_example_extract(), data_end="2024-12-31")


@pytest.fixture(scope="module")
def mc(cohort: ek.Cohort) -> rp.MatchedComparison:
    return rp.matched_comparison(cohort.data, covariates=COVARIATES)


# ---------------------------------------------------------------------------------------------
# term labels and measures


def test_term_label_writes_covariates_and_levels_in_words():
    assert rp.term_label("prior_offences") == "Previous proven offences"
    assert rp.term_label("sex[F]") == "Sex: F"
    assert rp.term_label("risk_score") == "Risk score"  # never a column name as it is
    assert rp.term_label("area[North East]") == "Area: North East"
    assert rp.term_label("sex[F]", labels={"sex[F]": "Women"}) == "Women"


def test_hazard_ratio_measure_is_a_ratio_with_the_rows_limits():
    m = rp.hazard_ratio_measure(
        pd.Series({"hr": 0.8, "hr_lower": 0.6, "hr_upper": 1.1, "p": 0.17}), "adjusted HR"
    )
    assert (m.name, m.kind, m.unit, m.good) == ("adjusted HR", "ratio", "", "lower")
    assert (m.estimate, m.lower, m.upper, m.p) == (0.8, 0.6, 1.1, 0.17)
    assert all(type(v) is float for v in (m.estimate, m.lower, m.upper, m.p))


def test_rmst_measure_counts_more_time_without_reoffending_as_better(cohort):
    rmd = ek.rmst_difference(cohort.data, time="time", event="event", group="group", tau=365)
    m = rp.rmst_measure(rmd, name="difference in days without a proven reoffence", unit="days")
    assert (m.good, m.unit, m.kind, m.conf_level) == ("higher", "days", "difference", 0.95)
    assert m.lower < m.estimate < m.upper
    assert m.estimate == pytest.approx(float(rmd.estimate))
    assert "days" in m.words()


# ---------------------------------------------------------------------------------------------
# the matched comparison


def test_matched_comparison_pairs_programme_people_and_names_the_other_group(cohort, mc):
    assert (mc.treated, mc.comparison, mc.group) == ("programme", "comparison", "group")
    counts = mc.counts()
    assert list(counts) == ["programme", "comparison"]
    (n1, x1), (n0, x0) = counts.values()
    assert n1 == n0 == int(mc.match.counts.loc["matched", "treated"])  # 1:1
    assert n1 <= int((cohort.data["group"] == "programme").sum())
    rows = mc.data
    assert x1 == int(rows.loc[rows["group"] == "programme", "reoffended"].sum())
    assert x0 == int(rows.loc[rows["group"] == "comparison", "reoffended"].sum())
    assert set(rows["weight"]) == {1.0}
    assert rows.groupby("subclass").size().eq(2).all()  # one pair per subclass


def test_matched_comparison_counts_unmatched_people_without_a_warning(cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tight = rp.matched_comparison(cohort.data, covariates=COVARIATES, caliper=0.001)
    assert tight.match.counts.loc["unmatched", "treated"] > 0
    wide = rp.matched_comparison(cohort.data, covariates=COVARIATES, caliper=0.2)
    assert tight.counts()["programme"][0] < wide.counts()["programme"][0]


def test_matched_comparison_refuses_a_group_column_without_one_comparison_label(cohort):
    data = cohort.data.assign(group=cohort.data["group"].where(cohort.data.index % 3 > 0, "x"))
    with pytest.raises(InputError, match="must hold exactly two groups") as err:
        rp.matched_comparison(data, covariates=COVARIATES)
    assert len(err.value.positions) > 0  # the rows outside the two largest groups are named


def test_outcomes_are_the_matched_groups_jdl_measures_clustered_on_pairs(mc):
    res = mc.outcomes()
    rate = res.table.iloc[0]
    (n1, x1), (n0, x0) = mc.counts().values()
    assert (int(rate["n_programme"]), int(rate["n_comparison"])) == (n1, n0)
    assert rate["programme"] == pytest.approx(x1 / n1)
    assert rate["comparison"] == pytest.approx(x0 / n0)
    assert rate["estimate"] == pytest.approx(x1 / n1 - x0 / n0)
    # errors clustered on the pairs: not those of the two groups taken as independent
    unpaired = ek.jdl_outcomes(mc.data, weights="weight").table.iloc[0]
    assert rate["se"] != pytest.approx(unpaired["se"], rel=1e-6)
    other = mc.outcomes(reoffended="event")  # another outcome column
    assert other.table.iloc[0]["programme"] == pytest.approx(x1 / n1)  # event == reoffended


def test_rate_measure_gives_the_rates_only_when_no_count_is_small(mc):
    res = mc.outcomes()
    rate = res.table.iloc[0]
    shown = mc.rate_measure(res, outcome="proven reoffending", disclosure=rp.Disclosure())
    assert (shown.name, shown.outcome, shown.kind) == (
        "rate difference",
        "proven reoffending",
        "difference",
    )
    assert (shown.estimate, shown.lower, shown.upper) == (
        rate["estimate"],
        rate["lower"],
        rate["upper"],
    )
    assert shown.programme == pytest.approx(rate["programme"])
    assert shown.comparison == pytest.approx(rate["comparison"])
    n1, x1 = mc.counts()["programme"]
    strict = rp.Disclosure(threshold=min(x1, n1 - x1) + 1)
    assert not mc.rates_publishable(strict)
    hidden = mc.rate_measure(res, outcome="proven reoffending", disclosure=strict)
    assert hidden.programme is None and hidden.comparison is None
    assert hidden.estimate == shown.estimate


def test_hazard_ratio_is_the_weighted_cox_model_robust_to_the_pairing(mc):
    hr = mc.hazard_ratio()
    assert hr["hr_lower"] < hr["hr"] < hr["hr_upper"]
    assert hr["hr"] == pytest.approx(np.exp(hr["estimate"]))
    rows = mc.data.assign(programme=(mc.data["group"] == "programme").astype(int))
    naive = ek.cox(rows, time="time", event="event", covariates=["programme"])
    robust = ek.cox(
        rows, time="time", event="event", covariates=["programme"], robust=True, cluster="subclass"
    )
    assert hr["estimate"] == pytest.approx(naive.table.loc["programme", "estimate"])
    assert hr["se"] == pytest.approx(robust.table.loc["programme", "se"])
    assert hr["se"] != pytest.approx(naive.table.loc["programme", "se"], rel=1e-6)
    free = rp.matched_hazard_ratio(mc.data.assign(t2=mc.data["time"] // 2), time="t2")
    assert free["hr"] == pytest.approx(hr["hr"], rel=0.05)  # the same order, halved days


def test_diagnostics_name_the_worst_balance_in_words_and_the_smaller_count(mc):
    d = mc.diagnostics()
    n1, x1 = mc.counts()["programme"]
    assert d.n_programme == n1 and d.programme_events == x1
    assert d.min_expected == float(min(x1, n1 - x1))
    assert d.worst_covariate in {rp.term_label(t) for t in mc.match.balance().index}
    assert "[" not in d.worst_covariate and "_" not in d.worst_covariate
    assert d.unmatched_share == pytest.approx(
        mc.match.counts.loc["unmatched", "treated"] / mc.match.counts.loc["all", "treated"]
    )


# ---------------------------------------------------------------------------------------------
# tables


def test_reoffending_table_shows_people_reoffenders_and_percent():
    frag = rp.reoffending_table(
        {"Scheme": (200, 50), "Comparison": (200, 64)}, caption="Proven reoffending"
    )
    assert _headings(frag) == ["Group", "People", "Reoffended", "Percent"]
    assert _cells(frag) == [["Scheme", "200", "50", "25.0%"], ["Comparison", "200", "64", "32.0%"]]
    assert "Proven reoffending" in frag.html


def test_reoffending_table_takes_other_headings():
    frag = rp.reoffending_table(
        {"Aid": (216, 48)},
        caption="Men re-arrested",
        labels={"people": "Men", "reoffended": "Re-arrested"},
    )
    assert _headings(frag) == ["Group", "Men", "Re-arrested", "Percent"]
    assert _cells(frag) == [["Aid", "216", "48", "22.2%"]]


def test_reoffending_table_withholds_small_counts_and_their_percent():
    frag = rp.reoffending_table(
        {"Scheme": (40, 3), "Comparison": (40, 38)},
        caption="Small groups",
        disclosure=rp.Disclosure(threshold=5),
    )
    scheme, comparison = _cells(frag)
    assert scheme[0] == "Scheme" and scheme[1] == "40"
    assert scheme[2] == scheme[3] == rp.SUPPRESSED  # 3 reoffenders, and 7.5% would give it back
    assert comparison[2] == comparison[3] == rp.SUPPRESSED  # 2 did not reoffend (complement)
    assert WITHHELD in frag.html and frag.meta["withheld"] == 4


FLOW = pd.DataFrame(
    [
        ("people", "input", "people in the file", 0, 100),
        ("people", "incomplete_follow_up", "follow-up not complete by the data end", 12, 88),
        ("people", "died_before_index", "died on or before the index date", 0, 88),
        ("people", "cohort", "people in the cohort", 0, 88),
        ("offences", "input", "offences in the file", 0, 400),
    ],
    columns=["table", "step", "reason", "n_removed", "n_remaining"],
)


def test_people_flow_lists_the_file_each_exclusion_and_the_cohort():
    frag = rp.people_flow(FLOW, disclosure=rp.Disclosure(allow_zeros=True))
    assert _headings(frag) == ["Step", "People"]
    assert _cells(frag) == [
        ["People in the file", "100"],
        ["Excluded: follow-up not complete by the data end", "12"],
        ["Excluded: died on or before the index date", "0"],
        ["People in the cohort", "88"],
    ]
    assert "People: from the input file to the proven-reoffending cohort" in frag.html
    # a withheld zero would give itself away through the total: the exclusion beside it goes too
    withheld = _cells(rp.people_flow(FLOW))
    assert [r[1] for r in withheld] == ["100", rp.SUPPRESSED, rp.SUPPRESSED, "88"]


def test_people_flow_can_leave_out_exclusions_that_removed_nobody():
    frag = rp.people_flow(FLOW, drop_empty=True, caption="Who was included")
    assert _cells(frag) == [
        ["People in the file", "100"],
        ["Excluded: follow-up not complete by the data end", "12"],
        ["People in the cohort", "88"],
    ]
    assert frag.meta["withheld"] == 0
    assert "Who was included" in frag.html


def test_people_flow_takes_a_cohort(cohort):
    rows = _cells(rp.people_flow(cohort, drop_empty=True))
    assert rows[0] == ["People in the file", f"{len(cohort.data):,}"]
    assert rows[-1] == ["People in the cohort", f"{len(cohort.data):,}"]
    with pytest.raises(InputError, match="people table"):
        rp.people_flow(FLOW[FLOW["table"] == "offences"])


# ---------------------------------------------------------------------------------------------
# the claim


@pytest.fixture(scope="module")
def claim():
    return check_claim(
        "87% of those engaged did not reoffend", 0.87, counted="engaged", horizon_days=182
    )


def test_claim_intervals_show_each_denominator_with_its_range_in_words(claim):
    frag = rp.claim_intervals(
        claim,
        caption="The claim for possible numbers of people",
        labels={"denominator": "People", "estimate": "Did not reoffend", "range": "95%"},
        range_text=lambda lo, hi: f"{100 * lo:.0f}% to {100 * hi:.0f}%",
        disclosure=rp.Disclosure(threshold=50),
        notes=["Wilson score intervals."],
    )
    frame = claim.to_frame()
    rows = _cells(frag)
    assert _headings(frag) == ["People", "Did not reoffend", "95%"]
    assert [r[0] for r in rows] == [f"{n:,}" for n in frame["denominator"]]  # never withheld
    assert rows[0] == ["25", "88%", "70% to 96%"]
    assert rows[-1] == ["800", "87%", "84% to 89%"]
    assert "Wilson score intervals." in frag.html and WITHHELD not in frag.html


def test_claim_intervals_take_the_estimate_format(claim):
    frag = rp.claim_intervals(
        claim,
        caption="c",
        labels={},
        range_text=lambda lo, hi: "x",
        estimate_format="{:.1f}",
    )
    assert _cells(frag)[0] == ["25", "88.0", "x"]


def test_claim_findings_list_the_chosen_findings_in_order(claim):
    every = rp.claim_findings(claim)
    items = re.findall(r"<li>(.*?)</li>", every.html, flags=re.S)
    assert len(items) == len(claim.sentences())
    assert items[0].startswith("87% of people who engaged")
    assert items[-1].startswith("Design that would answer the question")
    some = rp.claim_findings(claim, parts=("cannot_support", "biases"))
    items = re.findall(r"<li>(.*?)</li>", some.html, flags=re.S)
    assert len(items) == len(claim.cannot_support) + len(claim.biases)
    assert items[0].startswith("It cannot show")
    assert not any(i.startswith("Design") for i in items)
    with pytest.raises(InputError, match="parts"):
        rp.claim_findings(claim, parts=("support",))


# ---------------------------------------------------------------------------------------------
# the opening and the summary


def _config(tmp_path, extra: str = ""):
    path = tmp_path / "scheme.toml"
    path.write_text(
        textwrap.dedent(
            """\
            title = "A scheme"
            data_date = "2024-12-31"
            synthetic = true
            [parameters]
            claim = "Reoffending fell by a third"
            claim_source = "Annual report 2024"
            [primary]
            outcome = "proven reoffending within a year"
            measure = "rate difference"
            good = "lower"
            [design]
            kind = "matched"
            justification = "People referred, matched on age and previous offences."
            """
        )
        + extra,
        encoding="utf-8",
    )
    return read_config(path)


def _verdict(cfg):
    primary = ek.Measure("rate difference", cfg.primary.outcome, -0.05, -0.09, -0.01, p=0.01)
    return rp.judge(cfg, primary)


def test_opening_quotes_the_claim_then_the_headline(tmp_path):
    cfg = _config(tmp_path)
    verdict = _verdict(cfg)
    quote, box = rp.opening(cfg, verdict, note="A figure with *no* comparison.")
    assert quote.kind == "text" and box.kind == "headline"
    assert "“Reoffending fell by a third” (Annual report 2024)." in quote.html
    assert "<em>no</em> comparison." in quote.html
    assert verdict.headline.split(":")[0] in box.html
    assert "Synthetic data" in box.html
    assert box.meta["verdict"] == verdict.conclusion


def test_scheme_summary_fills_design_rating_and_cost_from_config_and_verdict(tmp_path):
    cfg = _config(tmp_path, '[cost]\ntotal = 20000\ncurrency = "GBP"\nnote = "two grants"\n')
    verdict = _verdict(cfg)
    frag = rp.scheme_summary(
        cfg, verdict, question="Did it work?", effect="5 fewer per 100", caveats=["Selection."]
    )
    assert "People referred, matched on age and previous offences." in frag.html
    assert rp.evidence_rating(verdict.rating) in frag.html
    assert "£20,000 (two grants)" in frag.html
    assert "Who was included" not in frag.html  # no sample given
    other = rp.scheme_summary(
        cfg,
        verdict,
        question="Did it work?",
        effect="e",
        caveats=["c"],
        sample="400 people.",
        design="A randomised trial.",
        cost="£5,000 a year.",
    )
    assert "A randomised trial." in other.html and "matched on age" not in other.html
    assert "£5,000 a year." in other.html and "£20,000" not in other.html
    assert "400 people." in other.html


# ---------------------------------------------------------------------------------------------
# the cohort from the configuration


def _extract_config(tmp_path, data_date: str, tables=("people", "offences", "custody", "deaths")):
    paths = write_extract(ek.datasets.load_example_extract(), tmp_path / "extract", "iso")
    data = "".join(f'{n} = "{paths[n].as_posix()}"\n' for n in tables)
    path = tmp_path / f"cfg-{data_date}.toml"
    path.write_text(
        f'title = "T"\ndata_date = "{data_date}"\n[data]\n{data}',
        encoding="utf-8",
    )
    return read_config(path)


def test_cohort_tables_are_read_as_the_configuration_names_them(tmp_path):
    cfg = _extract_config(tmp_path, "2024-12-31", tables=("people", "offences", "deaths"))
    tables = rp.read_cohort_tables(cfg)
    assert list(tables) == ["people", "offences", "deaths"]  # custody is optional
    assert pd.api.types.is_datetime64_any_dtype(tables["people"]["index_date"])
    assert len(tables["people"]) == 800
    cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=365, waiting_days=182)
    custody = cohort.flow[cohort.flow["table"] == "custody"]
    assert custody["n_remaining"].iloc[0] == 0  # no custody file: no spells counted
    deaths = cohort.flow[cohort.flow["table"] == "deaths"]
    assert deaths["n_remaining"].iloc[0] == 10
    no_offences = _extract_config(tmp_path / "b", "2024", tables=("people",))
    with pytest.raises(InputError, match="offences"):
        rp.read_cohort_tables(no_offences)


def test_reoffending_cohort_ends_follow_up_at_a_full_data_date(tmp_path):
    full = _extract_config(tmp_path, "2024-12-31")
    year = _extract_config(tmp_path, "2024")
    tables = rp.read_cohort_tables(full)
    ended = rp.reoffending_cohort(full, tables, follow_up_days=365, waiting_days=182)
    open_ended = rp.reoffending_cohort(year, tables, follow_up_days=365, waiting_days=182)
    assert ended.data_end == pd.Timestamp("2024-12-31") and open_ended.data_end is None
    late = ended.data["index_date"] + pd.Timedelta(days=365 + 182)
    assert (late <= pd.Timestamp("2024-12-31")).all()
    assert len(open_ended.data) >= len(ended.data)
    free = rp.reoffending_cohort(full, tables, follow_up_days=365, waiting_days=182, at_risk="free")
    assert free.at_risk == "free"
    assert (free.data["time"] <= ended.data["time"]).all()
    with pytest.raises(InputError, match="offences"):
        rp.reoffending_cohort(full, {"people": tables["people"]}, follow_up_days=1, waiting_days=1)
