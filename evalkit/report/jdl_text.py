"""The paragraphs and notes of the JDL report (``templates/jdl_analysis.py``), as tested functions.

Each function writes one piece of the report's prose from numbers the analysis script has
computed (with :mod:`evalkit.report.jdl_sections`), applying disclosure control to every count it
names (:meth:`evalkit.report.Disclosure.count`): the summary's design and caveats, the handling
of custody and deaths, how the comparison group was formed, the notes of the results tables and
the command that rebuilds the report.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from evalkit.report.components import Fragment, paragraph, table
from evalkit.report.disclosure import Disclosure
from evalkit.report.jdl_sections import (
    VR_LIMITS,
    WELL_MATCHED_SMD,
    BalanceSummary,
    GroupSizes,
    JDLSetting,
    ProfileRow,
    listing,
    profile_table,
    said,
    whole,
)

__all__ = [
    "NOT_EFFECTS",
    "NO_CUSTODY",
    "NO_DEATHS",
    "UNMATCHED_SENTENCE",
    "balance_text",
    "caveats",
    "custody_text",
    "deaths_text",
    "design_text",
    "differences_fragment",
    "measures_fragment",
    "method_text",
    "no_matching_text",
    "profile_fragment",
    "rates_sentence",
    "rebuild_fragments",
    "skipped_text",
    "small_pool_text",
    "too_few_text",
]

UNMATCHED_SENTENCE = (
    "Without a matched comparison group this report cannot estimate the effect of the "
    "support: a difference may come from who joined the programme rather than from what it did."
)
"""Said under the headline of an unmatched comparison."""

NO_CUSTODY = (
    "**Custody.** No custody file was given, so time spent in custody during the "
    "follow-up year (on remand, or serving a new sentence or a recall) is not known and was "
    "not counted. People in custody have less opportunity to reoffend: if the groups "
    "differed in time spent in custody, the comparison does not show it."
)
"""What a report without a custody file says about custody."""

NO_DEATHS = (
    "**Deaths.** No deaths file was given, so everyone is taken to have been alive for "
    "the whole follow-up year. A person who died early in the year could not reoffend and "
    "counts as not reoffending, which makes the reoffending rates slightly too low."
)
"""What a report without a deaths file says about deaths."""

NOT_EFFECTS = (
    "These are the Justice Data Lab's standard sentences for each estimate. Here they "
    "describe differences between the two groups, not effects of the programme: the "
    "headline says why the comparison cannot assess its effect."
)
"""Said before the Justice Data Lab's sentences when the verdict is "not assessable"."""


def too_few_text(n_programme: int, sdc: Disclosure) -> str:
    """Why a report on fewer than 60 programme people stops after its headline."""
    from evalkit.jdl import JDL_MIN_PROGRAMME

    return (
        f"The programme group has {sdc.count(n_programme)} people in the cohort. The "
        f"Justice Data Lab analyses only programme groups of at least {JDL_MIN_PROGRAMME} "
        "people, because smaller groups give results too imprecise to tell an effect from "
        "chance; this report therefore stops here, without matching or measures. A larger "
        "group (a longer period, or more sites) would make an evaluation possible."
    )


def rates_sentence(programme: float, comparison: float, comparison_group: str) -> str:
    """The two rates, as the Justice Data Lab gives them ("for every 100 people").

    Examples
    --------
    >>> rates_sentence(0.305, 0.42, "the matched comparison group")[:60]
    '31 of every 100 people in the programme group committed a pr'
    """
    return (
        f"{whole(100 * programme)} of every 100 people in the programme group committed a "
        f"proven reoffence within a year, against {whole(100 * comparison)} of every 100 in "
        f"{comparison_group}."
    )


def design_text(setting: JDLSetting, covariates: Sequence[str], period: str) -> str:
    """The summary's design: how the groups were compared, and the participation period."""
    replacement = "with replacement" if setting.replace else "without replacement"
    design = (
        "Observational comparison in the style of the Justice Data Lab: each programme member "
        f"was matched to the comparison-group person with the nearest propensity score (1:1, "
        f"{replacement}, within {setting.caliper:g} standard deviations of its log-odds), using "
        + listing([setting.label(c) for c in covariates])
        + "."
        if covariates
        else "Observational comparison with an unmatched comparison group (no characteristics "
        "were given to match on)."
    )
    return design + f" Programme members' index dates fell {period}."


def caveats(setting: JDLSetting, sizes: GroupSizes, balance: BalanceSummary | None) -> list[str]:
    """The summary's caveats: the design, the measure, balance and unmatched people.

    ``balance`` is ``None`` without matching.
    """
    sdc = setting.disclosure
    matched = balance is not None
    out = [
        "People were not assigned to the programme at random. "
        + (
            "Matching balances only the characteristics recorded in the data; differences in "
            "motivation, support, housing, substance use or anything else not recorded can "
            "explain part or all of any difference (Maryland Scientific Methods Scale level 3 at "
            "best)."
            if matched
            else "With an unmatched comparison group any difference may reflect who joined "
            "rather than what the programme did (Maryland Scientific Methods Scale level 2)."
        ),
        "Proven reoffending counts only offences that led to a caution or conviction within the "
        "follow-up year or a further six-month waiting period; offences that were not detected "
        "or not proven are invisible to it.",
    ]
    if balance is not None and not balance.balanced:
        out.insert(
            0,
            "The matched groups are not well matched: the largest standardised difference after "
            f"matching is {balance.max_smd_after:.2f} ({balance.worst_covariate}), above the "
            f"{WELL_MATCHED_SMD:g} taken as balanced"
            + (
                "; the comparison pool was small for the programme group (see how the comparison "
                "group was formed)."
                if sizes.small_pool
                else "."
            ),
        )
    if matched and sizes.unmatched > 0:
        out.append(
            "The results describe the programme members for whom a close match was found; "
            + (
                f"fewer than {sdc.threshold} could not be matched"
                if sizes.few_unmatched
                else f"{sdc.count(sizes.unmatched)} of {sdc.count(sizes.cohort[0])} could not "
                "be matched"
            )
            + ", and they may differ from the rest."
        )
    return out


# --------------------------------------------------------------------------------------------
# who was included
# --------------------------------------------------------------------------------------------


def custody_text(
    kept: int, days: tuple[float, float] | None, comparison_group: str, sdc: Disclosure
) -> str:
    """How custody was handled: ``kept`` spells overlapped a follow-up year; the average days
    in custody by group (:func:`~evalkit.report.jdl_sections.custody_days`) unless ``None``."""
    text = (
        f"**Custody.** {sdc.count(kept).capitalize()} custody spells overlapped "
        "someone's follow-up year. For each person the days spent in custody during the "
        "follow-up year were counted. The follow-up clock was not stopped while they were in "
        "custody (calendar time, as in the Ministry of Justice measure), so people who spent "
        "time in custody had less time at liberty in which to reoffend."
    )
    if days is not None:
        programme, comparison = days
        text += (
            f" On average programme members spent {programme:.1f} days in custody "
            f"during their follow-up year, and people in {comparison_group} "
            f"{comparison:.1f} days."
        )
    return text


def deaths_text(kept: int, sdc: Disclosure) -> str:
    """How deaths were handled: ``kept`` deaths fell within someone's follow-up year."""
    return (
        f"**Deaths.** {sdc.count(kept).capitalize()} of the recorded deaths fell "
        "within someone's follow-up year: their follow-up was censored (ended) on the date of "
        "death unless they had already committed a proven reoffence, so the survival curves "
        "below count them only while they were alive. A death on or before the index date "
        "excludes the person (see the people table); deaths after the follow-up year change "
        "nothing."
    )


# --------------------------------------------------------------------------------------------
# how the comparison group was formed
# --------------------------------------------------------------------------------------------


def method_text(
    setting: JDLSetting, sizes: GroupSizes, matched: tuple[int, int], *, ess: float | None = None
) -> str:
    """How the matching was done and who was left out.

    ``matched``: the programme members and the different comparison people matched; ``ess``:
    the comparison group's effective sample size (with replacement).
    """
    sdc = setting.disclosure
    if sizes.unmatched == 0:
        unmatched_text = "Every programme member was matched."
    elif sizes.few_unmatched:
        unmatched_text = (
            f"Fewer than {sdc.threshold} programme members had no such partner and were left "
            "out; the group sizes before matching are not shown, so that this small number "
            "cannot be worked out."
        )
    else:
        unmatched_text = (
            f"{sdc.count(sizes.unmatched)} programme members had no such partner and were left out."
        )
    text = (
        "Each programme member was paired with the comparison-group person whose "
        "propensity score — the estimated chance of joining the programme given the "
        "characteristics below — was closest, provided it was within "
        f"{setting.caliper:g} standard deviations (of the log-odds; Austin 2011). "
    )
    if setting.replace:
        text += (
            "Matching was "
            "**with replacement**: a comparison person could be the partner of several "
            f"programme members. {sdc.count(matched[1]).capitalize()} different "
            f"comparison-group people were used for {sdc.count(matched[0])} programme "
            "members; counting each as often as they were used (the matching weights), the "
            f"comparison group carries as much information as about {sdc.count(round(ess or 0))} "
            "people (its effective sample size), which the confidence intervals allow for. "
        )
    else:
        text += (
            "Matching was one to one **without replacement**: each comparison person could be "
            "used once. "
        )
    return text + unmatched_text


def small_pool_text(setting: JDLSetting, sizes: GroupSizes, balance: BalanceSummary) -> str:
    """Why a comparison pool fewer than twice the programme group matters, and the remedy."""
    sdc = setting.disclosure
    n_prog_cohort, n_comp_cohort = sizes.cohort
    per_member = n_comp_cohort / n_prog_cohort
    for_each = (
        "fewer than one comparison person for each programme member"
        if per_member < 1
        else f"about {per_member:.1f} comparison people for each programme member (fewer than two)"
    )
    if sizes.few_unmatched:
        # the group sizes before matching would give away the small number left unmatched
        pool = (
            f"The comparison pool was small beside the programme group: {for_each}. The "
            "group sizes are not shown, so that the small number of programme members left "
            "unmatched cannot be worked out. "
        )
    else:
        pool = (
            f"The comparison pool was small: {sdc.count(n_comp_cohort)} people for "
            f"{sdc.count(n_prog_cohort)} programme members, {for_each}. "
        )
    if setting.replace:
        return pool + (
            "Matching one to one without replacement would use each comparison person "
            "at most once, so once the closest candidates had been taken later programme "
            "members would get partners less like them, or none; matching with "
            "replacement avoids that by letting the closest comparison person stand in "
            "for several similar programme members, at the cost of resting on fewer "
            "different people (wider intervals)."
        )
    consequence = (
        f"after matching the largest standardised difference is {balance.max_smd_after:.2f} "
        f"({balance.worst_covariate}), above the {WELL_MATCHED_SMD:g} taken as balanced"
        if not balance.balanced
        else "here the groups are still well matched, but the matches are less close "
        "than a larger pool would give"
    )
    return pool + (
        "Matching one to one without replacement uses each comparison person at most "
        "once: once the closest candidates have been taken, later programme members are "
        "paired with people less like them, or with nobody within the caliper, and "
        "are left out. That is why "
        + ("some programme members were left unmatched and " if sizes.unmatched > 0 else "")
        + consequence
        + ". Matching with replacement (run `evalkit jdl` again with `--replace`) lets "
        "the closest comparison person stand in for several similar programme members; "
        "it usually gives much closer matches, at the cost of resting on fewer "
        "different comparison people (wider intervals)."
    )


def profile_fragment(rows: Sequence[ProfileRow], setting: JDLSetting) -> Fragment:
    """The group profile table (:func:`~evalkit.report.jdl_sections.profile_table`), with notes."""
    withheld_rows = sum(r.withheld for r in rows)
    notes = [
        "Averages for numbers, percentages for categories; after matching, the comparison "
        "group's figures are weighted by the matching weights"
        + (" (each person counted as often as they were used)" if setting.replace else "")
        + ". The propensity score (the estimated chance of joining, given the characteristics) "
        "is compared through its difference only. Difference: the standardised difference, "
        "the gap between the groups in units of the programme group's standard deviation "
        "before matching. A characteristic is well "
        f"matched when this is at most {WELL_MATCHED_SMD:g} either way and, for a number, the "
        "ratio of the two groups' variances (their spread) lies between "
        f"{VR_LIMITS[0]:g} and {VR_LIMITS[1]:g} (Austin 2009; Stuart 2010)."
    ]
    if withheld_rows:
        notes.append(
            f"{withheld_rows} row(s) for small categories withheld to protect confidentiality "
            "(they still count in the balance check)."
        )
    return table(
        profile_table(rows),
        caption="Group profile before and after matching",
        labels={
            "characteristic": "Characteristic",
            "stage": "Groups",
            "programme": "Programme",
            "comparison": "Comparison",
            "difference": "Difference",
            "balance": "Balance after matching",
        },
        notes=notes,
        disclosure=setting.disclosure,
        max_rows=160,
    )


def balance_text(rows: Sequence[ProfileRow], balance: BalanceSummary) -> str:
    """The balance after matching in words: the largest difference, the spread, what is not
    well matched."""
    spread = (
        f" The variance ratios after matching lie between {balance.vr_range[0]:.2f} and "
        f"{balance.vr_range[1]:.2f}."
        if balance.vr_range
        else ""
    )
    if balance.balanced:
        return (
            f"After matching the largest standardised difference is {balance.max_smd_after:.2f} "
            f"({balance.worst_covariate}): every characteristic is well matched, so the groups "
            "are balanced on what was recorded." + spread
        )
    poor = [said(r) for r in rows if not r.well]
    return (
        f"After matching the largest standardised difference is {balance.max_smd_after:.2f} "
        f"({balance.worst_covariate}).{spread} Not well matched: {listing(poor)}. The matched "
        "groups still differ on what was recorded, so a difference in reoffending may come "
        "from that difference rather than from the programme; the headline says so."
    )


def skipped_text(skipped: Sequence[tuple[str, str]], setting: JDLSetting) -> str:
    """The listed characteristics that were not used for matching, with the reasons."""
    return (
        "Not used for matching: "
        + "; ".join(f"{setting.label(c)} ({why})" for c, why in skipped)
        + "."
    )


def no_matching_text(skipped: Sequence[tuple[str, str]], setting: JDLSetting) -> str:
    """Why no matched comparison group could be formed, and what that means."""
    return (
        "No characteristics were given to match on"
        + (
            " that could be used ("
            + "; ".join(f"{setting.label(c)}: {why}" for c, why in skipped)
            + ")"
            if skipped
            else " (the people table has none of known meaning, such as age, sex or prior "
            "offences, and none was listed with --covariates)"
        )
        + ", so no matched comparison group could be formed. The comparison below is with "
        "the whole comparison group, as recorded: it cannot separate the effect of the "
        "programme from differences between the people in the two groups."
    )


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def measures_fragment(
    measures: pd.DataFrame, setting: JDLSetting, *, matched: bool, n_comparison: int
) -> Fragment:
    """The measures of each group (:func:`~evalkit.report.jdl_sections.measures_table`)."""
    notes = []
    if setting.replace:
        notes.append(
            "Matched with replacement: a comparison person matched to several programme members "
            f"counts once for each match, so the comparison row counts matches; "
            f"{setting.disclosure.count(n_comparison)} different people make them up."
        )
    return table(
        measures,
        caption="Proven reoffending in the one-year follow-up, by group"
        + (" (matched)" if matched else ""),
        labels={
            "group": "Group",
            "people": "Matches" if setting.replace else "People",
            "reoffenders": "Reoffended",
            "rate": "Percent",
            "reoffences": "Proven reoffences",
            "per_person": "Per person",
            "days": "Average days to first (reoffenders)",
        },
        percents={
            "rate": ("reoffenders", "people"),
            "per_person": ("reoffences", "people"),
            "days": "reoffenders",
        },
        complements={"reoffenders": "people"},
        formats={"rate": lambda v: whole(v) + "%", "per_person": "{:.2f}", "days": whole},
        notes=notes,
        disclosure=setting.disclosure,
    )


def differences_fragment(
    differences: pd.DataFrame, level: str, sdc: Disclosure, *, not_assessable: bool
) -> Fragment:
    """The differences (:func:`~evalkit.report.jdl_sections.differences_table`) at ``level``
    (``"95%"``); when the verdict is "not assessable" a note says they are not effects."""
    notes = [
        "Rates in percentage points, reoffences per person to two decimals, days whole; "
        "a result is reported as significant only with at least 30 reoffenders in the "
        "programme group (Justice Data Lab rule)."
    ]
    if not_assessable:
        notes.append("The headline explains why these differences cannot be read as effects.")
    return table(
        differences,
        caption=f"Programme minus comparison, with {level} confidence intervals",
        labels={
            "outcome": "Measure",
            "difference": "Difference",
            "interval": f"{level} confidence interval",
            "p": "p",
            "result": "Result",
        },
        notes=notes,
        disclosure=sdc,
    )


def rebuild_fragments(command: str, omits: Sequence[str] = ()) -> list[Fragment]:
    """How to rebuild the report: the ``evalkit jdl`` command, and the reader options it lacks.

    Without a command (a configuration written by an older evalkit), a sentence instead.
    """
    if not command:
        return [
            paragraph(
                "Run `evalkit jdl` again with the same files and options to rebuild this report."
            )
        ]
    out = [
        paragraph(
            "In the folder that holds this report (the input paths are relative to it), this "
            "command rebuilds it from the same files; with the same files and the same version "
            "of evalkit it gives the same report. The configuration it writes, `jdl.toml`, "
            "records the same settings."
        ),
        Fragment(f'<pre class="commands"><code>{html.escape(command)}</code></pre>', kind="text"),
    ]
    if omits:
        out.append(
            paragraph(
                "The report was built from Python with reading options the command line does not "
                "have (" + ", ".join(omits) + "); they are in `jdl.toml` under `[reader]`."
            )
        )
    return out
