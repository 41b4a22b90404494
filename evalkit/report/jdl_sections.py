"""The numbers and tables of the JDL report (``templates/jdl_analysis.py``), as tested functions.

The analysis script tells the report's story and calls these for the parts that are mostly
computation: the covariates that can be matched on, the group profile before and after matching
with its disclosure control, the balance diagnostics the verdict uses, the flow of each input
table, and the tables of results. Their prose is in :mod:`evalkit.report.jdl_text`.

Every function takes the report's settings as a :class:`JDLSetting` (group labels, disclosure
control, the label map, matching options), so that it can be tested on small tables without a
configuration file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import is_categorical, levels_of
from evalkit.report.components import Fragment, table
from evalkit.report.disclosure import SUPPRESSED, Disclosure
from evalkit.report.jdl import covariate_label
from evalkit.report.sections import flow_steps
from evalkit.wording import fmt_p

__all__ = [
    "MONTHS",
    "PROFILE_STATS",
    "VR_LIMITS",
    "WELL_MATCHED_SMD",
    "BalanceSummary",
    "GroupSizes",
    "JDLSetting",
    "ProfileRow",
    "balance_key",
    "balance_summary",
    "custody_days",
    "differences_table",
    "flow_fragment",
    "flow_table",
    "is_share",
    "kept",
    "listing",
    "matching_fragment",
    "measures_table",
    "month_year",
    "p_cell",
    "plain",
    "profile_rows",
    "profile_table",
    "said",
    "two_dp",
    "usable_covariates",
    "whole",
]

WELL_MATCHED_SMD = 0.1
"""The largest standardised difference after matching, either way, of a well-matched
characteristic (Austin 2009; Stuart 2010)."""

VR_LIMITS = (0.5, 2.0)
"""The range of the variance ratio after matching of a well-matched number (Austin 2009)."""

MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class JDLSetting:
    """What the JDL report's pieces need to know of its configuration.

    Attributes
    ----------
    programme, comparison
        The labels of the two groups in the cohort's ``group`` column.
    disclosure
        Disclosure control (``cfg.disclosure``).
    labels
        The label map of ``[parameters] labels`` (see :func:`evalkit.report.jdl.covariate_label`).
    replace
        Matching was with replacement.
    caliper
        The caliper, in standard deviations of the log-odds of the propensity score.
    """

    programme: str = "programme"
    comparison: str = "comparison"
    disclosure: Disclosure = field(default_factory=Disclosure)
    labels: Mapping[str, str] = field(default_factory=dict)
    replace: bool = False
    caliper: float = 0.2

    @property
    def groups(self) -> tuple[str, str]:
        """``(programme, comparison)``."""
        return self.programme, self.comparison

    @property
    def names(self) -> dict[str, str]:
        """How tables name the two groups."""
        return {self.programme: "Programme", self.comparison: "Comparison"}

    def label(self, name: str, level: Any = None) -> str:
        """How the report names a characteristic (the label map, else readable words)."""
        return covariate_label(name, level, self.labels)


@dataclass(frozen=True)
class GroupSizes:
    """The programme and comparison people in the cohort, and those analysed.

    ``analysed`` counts the people after matching (the different comparison people, with
    replacement), or the cohort again without matching.
    """

    cohort: tuple[int, int]
    analysed: tuple[int, int]
    disclosure: Disclosure = field(default_factory=Disclosure)

    @property
    def unmatched(self) -> int:
        """Programme members left out by matching."""
        return self.cohort[0] - self.analysed[0]

    @property
    def few_unmatched(self) -> bool:
        """A small number left unmatched, which would follow from the group sizes before and
        after matching (and the people total in the flow table): then only matched numbers are
        shown."""
        return 0 < self.unmatched and self.disclosure.is_small(self.unmatched)

    @property
    def small_pool(self) -> bool:
        """Fewer than two comparison people for each programme member in the cohort: 1:1
        matching without replacement has few good partners to choose from."""
        return self.cohort[1] < 2 * self.cohort[0]


# --------------------------------------------------------------------------------------------
# numbers in words
# --------------------------------------------------------------------------------------------


def month_year(d: pd.Timestamp) -> str:
    """``"March 2024"``: the report gives dates as month and year, never exact days."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def p_cell(p: float) -> str:
    """A p-value in a table (the same formatter as in sentences); ``"–"`` when not finite."""
    return fmt_p(p) if np.isfinite(p) else "–"


def two_dp(v: float) -> str:
    """Two decimals without a negative zero (``"-0.00"``).

    Examples
    --------
    >>> two_dp(-0.001), two_dp(0.125)
    ('0.00', '0.12')
    """
    return f"{round(v, 2) + 0.0:.2f}"


def whole(v: float) -> str:
    """Half away from zero, as the JDL table (Python's format rounds half to even).

    Examples
    --------
    >>> whole(2.5), whole(-2.5), whole(-0.4)
    ('3', '-3', '0')
    """
    return f"{np.floor(abs(v) + 0.5) * np.sign(v) + 0.0:.0f}"


def listing(items: Sequence[str]) -> str:
    """``["A", "B", "C"]`` → ``"A, B and C"``.

    Examples
    --------
    >>> listing(["A"]), listing(["A", "B", "C"])
    ('A', 'A, B and C')
    """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


PLAIN_WORDS = {
    "data_end": "the extract date",
    "person_id": "person identifier",
    "pnd": "penalty notice",
}


def plain(text: str) -> str:
    """Names such as ``data_end`` or ``community_resolution`` as words.

    Examples
    --------
    >>> plain("after data_end: community_resolution or pnd")
    'after the extract date: community resolution or penalty notice'
    """
    return re.sub(
        r"\b(?:pnd|[A-Za-z]+(?:_[A-Za-z0-9]+)+)\b",
        lambda t: PLAIN_WORDS.get(t.group(0), t.group(0).replace("_", " ")),
        text,
    )


# --------------------------------------------------------------------------------------------
# the covariates, the group profile and the balance diagnostics
# --------------------------------------------------------------------------------------------


def usable_covariates(
    df: pd.DataFrame, listed: Sequence[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The listed columns that can be matched on, and the others with the reason.

    A column with missing values, a date, or one value for everyone is left out (never rows).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 30], "x": [1.0, None], "k": ["a", "a"]})
    >>> usable_covariates(df, ["age", "x", "k"])
    (['age'], [('x', 'has missing values'), ('k', 'the same for everyone')])
    """
    covariates: list[str] = []
    skipped: list[tuple[str, str]] = []
    for col in listed:
        s = df[col]
        if s.isna().any():
            skipped.append((col, "has missing values"))
        elif pd.api.types.is_datetime64_any_dtype(s):
            skipped.append((col, "a date"))
        elif s.nunique() < 2:
            skipped.append((col, "the same for everyone"))
        else:
            covariates.append(col)
    return covariates, skipped


def is_share(s: pd.Series) -> bool:
    """Shown as a percentage: a category, a yes/no column, or numbers that are all 0 or 1."""
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        return True
    return pd.api.types.is_bool_dtype(s) or set(pd.unique(s)) <= {0, 1}


def balance_key(col: str, level: Any = None) -> str:
    """The row of the matching balance table for ``col`` (or one ``level`` of it).

    Examples
    --------
    >>> balance_key("age"), balance_key("sex", "F")
    ('age', 'sex[F]')
    """
    return col if level is None else f"{col}[{level}]"


PROFILE_STATS = (
    "mean_treated_before",
    "mean_control_before",
    "mean_treated_after",
    "mean_control_after",
    "smd_before",
    "smd_after",
    "vr_after",
)
"""The columns of the balance table a profile row keeps."""


@dataclass(frozen=True)
class ProfileRow:
    """One row of the group profile: a characteristic (or a level of one) and its balance.

    ``share``: shown as a percentage; ``withheld``: not shown (a small category), though it
    still counts in the balance check; ``spread_ok``: the variance ratio after matching is
    within :data:`VR_LIMITS` (or not defined); ``well``: well matched.
    """

    key: str
    name: str
    col: str | None
    level: Any
    share: bool
    withheld: bool
    column_name: str
    mean_treated_before: float
    mean_control_before: float
    mean_treated_after: float
    mean_control_after: float
    smd_before: float
    smd_after: float
    vr_after: float
    spread_ok: bool
    well: bool


def profile_rows(
    balance: pd.DataFrame,
    covariates: Sequence[str],
    frames: Sequence[pd.DataFrame],
    setting: JDLSetting,
) -> list[ProfileRow]:
    """The group profile: a row per number, yes/no column or category level, and the score.

    Parameters
    ----------
    balance
        The matching balance table (``m.balance()``), indexed by :func:`balance_key` and
        ``"distance"`` (the propensity score).
    covariates
        The columns matched on.
    frames
        The tables whose group counts a percentage could give away: the cohort before matching
        (first: its columns decide how a covariate is shown), the matched people and, with
        replacement, the matches.
    setting
        Group labels, disclosure control and the label map.

    Returns
    -------
    list of ProfileRow
        A share is withheld when, in any of ``frames`` and either group, the people with the
        level or those without it are a small count; when exactly one level of a covariate with
        three or more is withheld, the smallest other level is withheld too (the shares add up to
        100%: secondary suppression).
    """
    data = frames[0]
    sdc = setting.disclosure

    def small_share(col: str, level: Any) -> bool:
        for frame in frames:
            for g in setting.groups:
                x = frame.loc[frame["group"] == g, col]
                k = int((x == level).sum())
                if sdc.is_small(k) or sdc.is_small(len(x) - k):
                    return True
        return False

    heads: list[dict[str, Any]] = []
    for col in covariates:
        s = data[col]
        if is_categorical(s):
            rows = [
                {
                    "key": balance_key(col, lev),
                    "name": setting.label(col, lev),
                    "col": col,
                    "level": lev,
                    "share": True,
                    "withheld": small_share(col, lev),
                }
                for lev in levels_of(s)
            ]
            # secondary suppression: one withheld level of three or more would follow from
            # the others (they add up to 100%), so the smallest other level is withheld too
            if sum(r["withheld"] for r in rows) == 1 and len(rows) > 2:
                counts = {r["key"]: int((s == r["level"]).sum()) for r in rows if not r["withheld"]}
                smallest = min(counts, key=lambda k: counts[k])
                for r in rows:
                    r["withheld"] |= r["key"] == smallest
            heads += rows
        else:
            share = is_share(s)
            yes = True if pd.api.types.is_bool_dtype(s) else 1
            heads.append(
                {
                    "key": balance_key(col),
                    "name": setting.label(col),
                    "col": col,
                    "level": yes,
                    "share": share,
                    "withheld": share and small_share(col, yes),
                }
            )
    heads.append(
        {
            "key": "distance",
            "name": "Propensity score",
            "col": None,
            "level": None,
            "share": False,
            "withheld": False,
        }
    )
    out = []
    for h in heads:
        b = balance.loc[h["key"]]
        stats: dict[str, Any] = {k: float(b[k]) for k in PROFILE_STATS}
        vr = stats["vr_after"]
        spread_ok = not np.isfinite(vr) or VR_LIMITS[0] <= vr <= VR_LIMITS[1]
        out.append(
            ProfileRow(
                **h,
                column_name="" if h["col"] is None else setting.label(h["col"]),
                **stats,
                spread_ok=spread_ok,
                well=abs(stats["smd_after"]) <= WELL_MATCHED_SMD and spread_ok,
            )
        )
    return out


def said(r: ProfileRow) -> str:
    """A characteristic's name for a sentence; a withheld category is not named."""
    if r.withheld:
        return f"a small category of {r.column_name.lower()}"
    return "the propensity score" if r.key == "distance" else r.name


@dataclass(frozen=True)
class BalanceSummary:
    """The balance diagnostics the verdict uses (all ``None`` without matching).

    Attributes
    ----------
    max_smd_after, worst_covariate
        The largest absolute standardised difference after matching, over every row (withheld
        rows and the propensity score included), and the characteristic it belongs to in words.
    vr_range
        The smallest and largest variance ratio after matching.
    vr_worst, vr_worst_covariate
        The variance ratio furthest from 1 (on the log scale), and its characteristic.
    balanced
        Every row is well matched.
    """

    max_smd_after: float | None = None
    worst_covariate: str | None = None
    vr_range: tuple[float, float] | None = None
    vr_worst: float | None = None
    vr_worst_covariate: str | None = None
    balanced: bool = False


def balance_summary(rows: Sequence[ProfileRow]) -> BalanceSummary:
    """The diagnostics of :class:`BalanceSummary` from the group profile (none without rows).

    When the propensity score is furthest apart, the characteristic furthest apart is named too.
    """
    finite = [r for r in rows if np.isfinite(r.smd_after)]
    if not finite:
        return BalanceSummary()
    worst = max(finite, key=lambda r: abs(r.smd_after))
    worst_covariate = said(worst)
    characteristics = [r for r in finite if r.key != "distance"]
    if worst.key == "distance" and characteristics:
        # the propensity score summarises the characteristics: name the one furthest apart too
        worst_char = max(characteristics, key=lambda r: abs(r.smd_after))
        worst_covariate = (
            f"the propensity score; most of all {said(worst_char)}, {two_dp(worst_char.smd_after)}"
        )
    ratios = [r for r in rows if np.isfinite(r.vr_after) and r.vr_after > 0]
    worst_vr = max(ratios, key=lambda r: abs(np.log(r.vr_after))) if ratios else None
    return BalanceSummary(
        max_smd_after=abs(worst.smd_after),
        worst_covariate=worst_covariate,
        vr_range=(
            (min(r.vr_after for r in ratios), max(r.vr_after for r in ratios)) if ratios else None
        ),
        vr_worst=worst_vr.vr_after if worst_vr else None,
        vr_worst_covariate=said(worst_vr) if worst_vr else None,
        balanced=all(r.well for r in rows),
    )


def _value(r: ProfileRow, k: str) -> str:
    v = getattr(r, k)
    if r.key == "distance" and k.startswith("mean"):
        return "–"
    if not np.isfinite(v):
        return "–"
    return f"{whole(100 * v)}%" if r.share else f"{v:.1f}"


def profile_table(rows: Sequence[ProfileRow]) -> pd.DataFrame:
    """The profile as shown: two rows a characteristic (before matching, matched).

    Means for numbers, percentages for categories, ``"–"`` for the propensity score's means
    and values that are not defined; withheld rows are left out.
    """
    shown: list[dict[str, str]] = []
    for r in rows:
        if r.withheld:
            continue
        verdict_word = (
            "well matched" if r.well else "not well matched" + ("" if r.spread_ok else " (spread)")
        )
        for stage, when in (("Before", "before"), ("Matched", "after")):
            shown.append(
                {
                    "characteristic": r.name,
                    "stage": stage,
                    "programme": _value(r, f"mean_treated_{when}"),
                    "comparison": _value(r, f"mean_control_{when}"),
                    "difference": two_dp(getattr(r, f"smd_{when}")),
                    "balance": verdict_word if when == "after" else "",
                }
            )
    return pd.DataFrame(shown)


# --------------------------------------------------------------------------------------------
# who was included: the flow of each input table
# --------------------------------------------------------------------------------------------

STEP_WORDS = {
    ("custody", "overlaps_follow_up"): "Spells overlapping the follow-up year (days counted)",
    ("deaths", "within_follow_up"): "Deaths within the follow-up year (follow-up ends at death)",
}
"""The cohort's own wording of a step, where it names columns or codes."""


def flow_table(flow: pd.DataFrame, table: str, unit: str) -> pd.DataFrame:
    """Input count (as the total row), each exclusion, and what was kept (``cohort.flow``)."""

    def words(r: Mapping[Any, Any]) -> str:
        return plain(STEP_WORDS.get((table, r["step"]), str(r["reason"])))

    def kept_words(r: Mapping[Any, Any]) -> str:
        text = words(r)
        return text[:1].upper() + text[1:]

    return flow_steps(flow, table, first=f"{unit} in the file", step=words, last=kept_words)


def kept(flow: pd.DataFrame, table: str) -> int:
    """How many rows of an input table the cohort kept."""
    return int(flow[flow["table"] == table]["n_remaining"].iloc[-1])


def flow_fragment(
    flow: pd.DataFrame, table_name: str, unit: str, count: str, caption: str, sdc: Disclosure
) -> Fragment:
    """The flow of one input table, its first row the total of the others (disclosure)."""
    return table(
        flow_table(flow, table_name, unit),
        caption=caption,
        labels={"step": "Step", "count": count},
        total_row=0,
        disclosure=sdc,
    )


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def measures_table(per_match: pd.DataFrame, setting: JDLSetting) -> pd.DataFrame:
    """The Justice Data Lab measures of each group, one row a group.

    With replacement ``per_match`` has a row per match, so that the comparison row counts
    matches (and says so).
    """
    rows = []
    for g in setting.groups:
        part = per_match[per_match["group"] == g]
        reoffenders = part[part["reoffended"].astype(bool)]
        rows.append(
            {
                "group": setting.names[g]
                + (" (per match)" if setting.replace and g == setting.comparison else ""),
                "people": len(part),
                "reoffenders": len(reoffenders),
                "rate": 100 * len(reoffenders) / len(part),
                "reoffences": int(part["n_reoffences"].sum()),
                "per_person": float(part["n_reoffences"].mean()),
                "days": float(reoffenders["time"].mean()) if len(reoffenders) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def differences_table(
    display: pd.DataFrame, p: Iterable[float], sdc: Disclosure, *, rates_safe: bool
) -> pd.DataFrame:
    """The differences as shown: measure, difference with its unit, interval, p and result.

    ``display`` and ``p`` are :func:`evalkit.jdl_outcomes`' display table and p-values. A
    difference is withheld with the counts behind it (``n_programme``, ``n_comparison``), and the
    rate difference also when the rates cannot be published (``rates_safe`` false).
    """
    out = display.copy()
    # p-values with the formatter used in every sentence of the report
    out["p"] = [p_cell(float(v)) for v in p]
    # a difference is withheld with the counts behind it (the rates table withholds the rates)
    small_row = [
        any(sdc.is_small(int(x)) for x in (r["n_programme"], r["n_comparison"]))
        for _, r in out.iterrows()
    ]
    if not rates_safe:
        small_row[0] = True
    for i, small in enumerate(small_row):
        if small:
            for col in ("difference", "interval"):
                out.loc[i, col] = SUPPRESSED
    out["outcome"] = ["Reoffending rate", "Reoffences per person", "Days to first reoffence"]
    out["unit"] = out["unit"].replace({"reoffences per person": "per person"})
    out["difference"] = [
        d if d == SUPPRESSED else f"{d} " + {"percentage points": "points"}.get(u, u)
        for d, u in zip(out["difference"], out["unit"], strict=True)
    ]
    out["result"] = out["result"].map(
        lambda r: (
            r.replace("significant: lower", "lower (significant)")
            .replace("significant: higher", "higher (significant)")
            .replace("not reported: ", "not reported, ")
        )
    )
    return out[["outcome", "difference", "interval", "p", "result"]]


def custody_days(
    analysed: pd.DataFrame, weights: str | None, setting: JDLSetting
) -> tuple[float, float] | None:
    """Average days in custody in the follow-up year, programme and comparison (weighted by the
    column ``weights`` after matching).

    ``None`` when the people with any days in custody are a small count in either group.
    """
    in_custody = {
        g: int((analysed.loc[analysed["group"] == g, "days_in_custody"] > 0).sum())
        for g in setting.groups
    }
    if any(setting.disclosure.is_small(k) for k in in_custody.values()):
        return None
    w = analysed[weights] if weights else pd.Series(1.0, index=analysed.index)
    programme, comparison = (
        float(
            np.average(
                analysed.loc[analysed["group"] == g, "days_in_custody"],
                weights=w[analysed["group"] == g],
            )
        )
        for g in setting.groups
    )
    return programme, comparison


def matching_fragment(matched: tuple[int, int], sizes: GroupSizes, setting: JDLSetting) -> Fragment:
    """The people of each group matched and, unless that would give away a small number of
    unmatched programme members, in the cohort and not matched."""
    counts = pd.DataFrame(
        {"group": [setting.names[g] for g in setting.groups], "matched": list(matched)}
    )
    if not sizes.few_unmatched:
        counts.insert(1, "in_cohort", list(sizes.cohort))
        counts["not_matched"] = counts["in_cohort"] - counts["matched"]
    return table(
        counts,
        caption="Matching: people in each group who were and were not used",
        labels={
            "group": "Group",
            "in_cohort": "In the cohort",
            "matched": "Matched",
            "not_matched": "Not matched",
        },
        row_total=None if sizes.few_unmatched else "in_cohort",
        disclosure=setting.disclosure,
    )
