"""The sentences of a verdict: the headline and the detail, from the rules' outcome.

Kept apart from :mod:`evalkit.verdict` (which decides) so that the wording can be read and
reviewed on its own; nothing here decides anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit.wording import fmt_percent, p_text

if TYPE_CHECKING:  # pragma: no cover
    from evalkit.verdict import Measure

DESIGNS: dict[str, int] = {
    "randomised": 5,
    "did": 4,
    "matched": 3,
    "unmatched": 2,
    "before_after": 2,
    "none": 1,
}
"""Designs and the Maryland Scientific Methods Scale level each can earn at best."""

DESIGN_WORDS: dict[str, str] = {
    "randomised": "a randomised comparison",
    "did": "a comparison that controls for trends before the scheme (difference in differences)",
    "matched": "a comparison with a matched group",
    "unmatched": "a comparison with an unmatched group",
    "before_after": "a before-and-after comparison",
    "none": "no comparison group",
}


def _rates(primary: Measure, groups: tuple[str, str]) -> str:
    if primary.programme is None or primary.comparison is None or primary.unit != "per 100":
        return ""
    a, b = primary.programme, primary.comparison
    return f"{fmt_percent(a)} of {groups[0]} against {fmt_percent(b)} of {groups[1]}"


def _headline(
    primary: Measure,
    conclusion: str,
    strength: str,
    rating: int,
    subject: str,
    groups: tuple[str, str],
    blockers: list[str],
    same: list[Measure],
) -> str:
    outcome = primary.outcome
    rates = _rates(primary, groups)
    if conclusion == "not assessable":
        what = "evaluation" if blockers[0].startswith("there is no comparison") else "comparison"
        return f"This {what} cannot assess the effect of {subject} on {outcome}: {blockers[0]}."
    if conclusion == "no clear change":
        head = f"The data cannot tell whether {subject} changed {outcome}"
        if primary.kind == "ratio":
            body = f"{rates}, " if rates else ""
        else:
            body = f"{rates}, a difference of " if rates else "a difference of "
        return f"{head}: {body}{primary.words()}, a range that includes no effect."
    lower = conclusion == "reduced"
    if rating >= 5:
        verb = f"{subject[0].upper()}{subject[1:]} {'reduced' if lower else 'increased'} {outcome}"
    elif rating == 4:
        verb = (
            f"{subject[0].upper()}{subject[1:]} appears to have "
            f"{'reduced' if lower else 'increased'} {outcome}"
        )
    else:
        verb = (
            f"{outcome[0].upper()}{outcome[1:]} was {'lower' if lower else 'higher'} in "
            f"{groups[0]} than in {groups[1]}"
        )
    numbers = f"{rates}, {primary.words()}" if rates else primary.words()
    tail = {
        "strong": "",
        "moderate": "",
        "weak": " The evidence is weak",
        "borderline": " The evidence is borderline",
    }[strength]
    if tail:
        tail += (
            ": other analyses of the same outcome do not exclude no effect."
            if any(m.finite and m.excludes_null() == 0 for m in same)
            else "."
        )
    return f"{verb}: {numbers}.{tail}"


def _detail(
    primary: Measure,
    conclusion: str,
    strength: str,
    rating: int,
    design: str,
    prespecified: str,
) -> str:
    parts = []
    where = f" (fixed in {prespecified} before the results were seen)" if prespecified else ""
    stated = "" if conclusion == "not assessable" else f", {p_text(primary.two_sided_p())}"
    parts.append(f"Primary measure{where}: the {primary.name} in {primary.outcome}{stated}.")
    parts.append(f"Design: {DESIGN_WORDS[design]}, level {rating} of 5.")
    if strength != "none":
        parts.append(f"Strength of evidence: {strength}.")
    if rating < 5 and conclusion in ("reduced", "increased"):
        parts.append(
            "Without random assignment, the difference may come partly from who took part "
            "rather than from the support."
        )
    return " ".join(parts)
