"""Sections that recur across the scheme reports in ``analyses/``.

Each function returns report fragments (:class:`~evalkit.report.components.Fragment`) built
with :func:`~evalkit.report.components.table` and its disclosure control, so that a section
several reports show is laid out, worded and protected the one way:

* :func:`opening`: the claim as published, then the verdict's headline box;
* :func:`scheme_summary`: the one-page summary, with the design, rating and cost filled in
  from the configuration and the verdict;
* :func:`claim_intervals` and :func:`claim_findings`: what :func:`evalkit.claims.check_claim`
  found, as the table of intervals over plausible denominators and the list of findings;
* :func:`reoffending_table`: people and proven reoffenders per group, with percentages;
* :func:`people_flow`: the people table of a cohort's exclusion flow, from the input file to
  the cohort.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalkit.errors import InputError
from evalkit.report.components import Fragment, claim, headline, markdown, summary, table
from evalkit.report.config import Cost
from evalkit.report.disclosure import Disclosure

if TYPE_CHECKING:
    from evalkit.claims import ClaimCheck
    from evalkit.cohort import Cohort
    from evalkit.report.config import AnalysisConfig
    from evalkit.verdict import Verdict

__all__ = [
    "CLAIM_FINDINGS",
    "claim_findings",
    "claim_intervals",
    "flow_steps",
    "opening",
    "people_flow",
    "reoffending_table",
    "scheme_summary",
]

CLAIM_FINDINGS: tuple[str, ...] = ("supports", "cannot_support", "biases", "design")
"""The findings of a :class:`~evalkit.claims.ClaimCheck`, in the order a report lists them."""

REOFFENDING_LABELS: Mapping[str, str] = {
    "group": "Group",
    "people": "People",
    "reoffended": "Reoffended",
    "percent": "Percent",
}
"""Column headings of :func:`reoffending_table` unless a report words them otherwise."""


def opening(cfg: AnalysisConfig, verdict: Verdict, *, note: str = "") -> tuple[Fragment, Fragment]:
    """The first two fragments of a scheme report: the claim as published, then the headline.

    Parameters
    ----------
    cfg
        The analysis configuration: its ``[parameters]`` ``claim`` (quoted exactly) and
        ``claim_source``, and whether the data are ``synthetic``.
    verdict
        The verdict of the analysis (:func:`evalkit.report.judge`).
    note
        What kind of figure the claim is, or what the report asks of it (inline markup
        allowed; see :func:`evalkit.report.claim`).

    Returns
    -------
    tuple of Fragment
        ``(claim, headline)``, to show with ``rp.show(*rp.opening(cfg, verdict, note=...))``.
    """
    return (
        claim(str(cfg.param("claim")), source=str(cfg.param("claim_source")), note=note),
        headline(verdict, synthetic=cfg.synthetic),
    )


def scheme_summary(
    cfg: AnalysisConfig,
    verdict: Verdict,
    *,
    question: str,
    effect: str,
    caveats: Sequence[str],
    sample: str = "",
    design: str | None = None,
    cost: Cost | str | None = None,
) -> Fragment:
    """The report's one-page summary (:func:`evalkit.report.summary`), from its configuration.

    The design is the configuration's ``[design]`` justification, the evidence rating the one
    the verdict earned and the cost the configuration's ``[cost]``, unless given here.

    Parameters
    ----------
    cfg
        The analysis configuration.
    verdict
        The verdict of the analysis (:func:`evalkit.report.judge`): its rating is shown.
    question, effect, caveats, sample
        As :func:`evalkit.report.summary`.
    design
        How the comparison was made, when the justification in ``[design]`` is not the words
        to show (``""`` when the configuration has no ``[design]``).
    cost
        The cost, when ``[cost]`` does not give it (a sentence, e.g. for several services).

    Returns
    -------
    Fragment
        The summary.
    """
    if design is None:
        design = cfg.design.justification if cfg.design is not None else ""
    return summary(
        question=question,
        design=design,
        sample=sample,
        effect=effect,
        rating=verdict.rating,
        cost=cfg.cost if cost is None else cost,
        caveats=caveats,
    )


def claim_intervals(
    check: ClaimCheck,
    *,
    caption: str,
    labels: Mapping[str, str],
    range_text: Callable[[float, float], str],
    disclosure: Disclosure | None = None,
    estimate_format: str = "{:.0f}%",
    notes: Sequence[str] = (),
) -> Fragment:
    """The claim's estimate and interval for each plausible denominator, as a table.

    Parameters
    ----------
    check
        The claim check (:func:`evalkit.claims.check_claim`); its interval table
        (``to_frame()``: ``denominator``, ``estimate``, ``lower``, ``upper``) is shown.
    caption
        What the table shows.
    labels
        Headings of the three columns shown: ``denominator``, ``estimate`` (shown times 100)
        and ``range`` (the interval in words).
    range_text
        The interval in words, from its lower and upper limits (proportions, or differences
        of proportions).
    disclosure
        The report's disclosure settings. The denominators are hypothetical numbers of people,
        not counts, and are never withheld.
    estimate_format
        How the estimate, times 100, is written.
    notes
        Footnotes (the interval method, how the counts behind each row were found).

    Returns
    -------
    Fragment
        The table.
    """
    frame = check.to_frame()
    frame["estimate"] = 100 * frame["estimate"]
    frame["range"] = [
        range_text(lo, hi) for lo, hi in zip(frame["lower"], frame["upper"], strict=True)
    ]
    return table(
        frame[["denominator", "estimate", "range"]],
        caption=caption,
        labels=labels,
        formats={"estimate": estimate_format},
        not_counts=["denominator"],
        disclosure=disclosure,
        notes=notes,
    )


def claim_findings(check: ClaimCheck, parts: Sequence[str] = CLAIM_FINDINGS) -> Fragment:
    """What a claim check found, as a bulleted list of sentences.

    Parameters
    ----------
    check
        The claim check (:func:`evalkit.claims.check_claim`).
    parts
        Which findings to list, in order: any of ``"supports"`` (what the figure shows),
        ``"cannot_support"``, ``"biases"`` and ``"design"`` (the design that would answer the
        question; a report that gives it in its own section leaves it out here).

    Returns
    -------
    Fragment
        The list.
    """
    unknown = [p for p in parts if p not in CLAIM_FINDINGS]
    if unknown:
        raise InputError("parts", f"must name findings among {list(CLAIM_FINDINGS)}: {unknown}")
    sentences: list[str] = []
    for part in parts:
        found = getattr(check, part)
        sentences += [found] if isinstance(found, str) else list(found)
    return markdown("\n".join(f"- {s}" for s in sentences))


def reoffending_table(
    groups: Mapping[str, tuple[int, int]],
    *,
    caption: str,
    disclosure: Disclosure | None = None,
    labels: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> Fragment:
    """People and people with a proven reoffence in each group, with the percentage.

    Disclosure control treats people and reoffenders as counts, protects the people who did
    not reoffend (a complement) and withholds a percentage with the count behind it.

    Parameters
    ----------
    groups
        ``{row name: (people, reoffended)}`` in the order the rows are shown.
    caption
        What the table shows.
    disclosure
        The report's disclosure settings.
    labels
        Column headings that differ from :data:`REOFFENDING_LABELS` (``group``, ``people``,
        ``reoffended``, ``percent``), e.g. ``{"people": "Men", "reoffended": "Re-arrested"}``.
    notes
        Footnotes.

    Returns
    -------
    Fragment
        The table, percentages to one decimal.
    """
    frame = pd.DataFrame(
        [(name, int(n), int(x)) for name, (n, x) in groups.items()],
        columns=["group", "people", "reoffended"],
    )
    frame["percent"] = 100 * frame["reoffended"] / frame["people"]
    return table(
        frame,
        caption=caption,
        labels={**REOFFENDING_LABELS, **dict(labels or {})},
        percents={"percent": ("reoffended", "people")},
        complements={"reoffended": "people"},
        formats={"percent": "{:.1f}%"},
        disclosure=disclosure,
        notes=notes,
    )


def flow_steps(
    flow: pd.DataFrame,
    table: str,
    *,
    first: str,
    step: Callable[[Mapping[Any, Any]], str],
    last: Callable[[Mapping[Any, Any]], str],
    drop_empty: bool = False,
) -> pd.DataFrame:
    """The rows of one input table's flow (``cohort.flow``): the rows read, each exclusion, and
    what was kept, as columns ``step`` and ``count``; the first row is the total of the others.

    ``first`` labels the rows read; ``step`` words an exclusion (after "Excluded: ") and
    ``last`` the rows kept, each from its flow record. ``drop_empty`` leaves out exclusions
    that removed nobody.
    """
    part = flow[flow["table"] == table].to_dict("records")
    if len(part) < 2:
        raise InputError(
            "table", f"must hold the {table} table's first and last rows", table="flow"
        )
    excluded = [r for r in part[1:-1] if r["n_removed"] or not drop_empty]
    return pd.DataFrame(
        [(first, int(part[0]["n_remaining"]))]
        + [(f"Excluded: {step(r)}", int(r["n_removed"])) for r in excluded]
        + [(last(part[-1]), int(part[-1]["n_remaining"]))],
        columns=["step", "count"],
    )


def people_flow(
    cohort: Cohort | pd.DataFrame,
    *,
    disclosure: Disclosure | None = None,
    caption: str = "People: from the input file to the proven-reoffending cohort",
    drop_empty: bool = False,
) -> Fragment:
    """Who was included: the people in the file, each exclusion, and the people in the cohort.

    The first row is the total of the others (the people removed and the people kept), which
    disclosure control needs to see, so that a withheld exclusion cannot be recovered by
    subtraction.

    Parameters
    ----------
    cohort
        A :class:`evalkit.Cohort`, or its ``flow`` table.
    disclosure
        The report's disclosure settings.
    caption
        What the table shows.
    drop_empty
        Leave out the exclusions that removed nobody (their zero would be withheld, and the
        total with it); the rows still add up.

    Returns
    -------
    Fragment
        The table, with columns "Step" and "People".
    """
    flow = cohort if isinstance(cohort, pd.DataFrame) else cohort.flow
    return table(
        flow_steps(
            flow,
            "people",
            first="People in the file",
            step=lambda r: str(r["reason"]),
            last=lambda r: "People in the cohort",
            drop_empty=drop_empty,
        ),
        caption=caption,
        labels={"step": "Step", "count": "People"},
        total_row=0,
        disclosure=disclosure,
    )
