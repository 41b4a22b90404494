"""The cohort a :func:`~evalkit.cohort.proven_reoffending` call returns, and its exclusion flow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FLOW_COLUMNS", "OUTCOME_COLUMNS", "Cohort", "flow_frame"]

OUTCOME_COLUMNS = ("time", "event", "reoffended", "n_reoffences", "days_in_custody")
"""Columns :func:`~evalkit.cohort.proven_reoffending` adds to the people table."""

FLOW_COLUMNS = ("table", "step", "reason", "n_removed", "n_remaining")

_UNKNOWN = "person_id not in the people table"
_EXCLUDED = "person excluded from the cohort (see the people steps)"


@dataclass(frozen=True, eq=False)
class Cohort:
    """A proven-reoffending cohort: one row per person plus the exclusion flow.

    Attributes
    ----------
    data
        One row per person kept in the cohort, in the order of the people table. Columns:
        ``person_id``; ``group``; every other column of the people table, unchanged
        (``index_date`` as dates floored to the day), to be used as covariates; ``time``
        (int, days from the index date to the offence date of the first proven reoffence, or
        to censoring at ``follow_up_days`` or at death; with ``at_risk="free"`` days at
        liberty instead);
        ``event`` (int, 1 if a proven reoffence ends ``time``, else 0); ``reoffended`` (bool,
        the MoJ binary measure, ``event == 1``); ``n_reoffences`` (int, number of proven
        reoffences, the MoJ frequency measure); ``days_in_custody`` (int, days of the follow-up
        period spent in custody).
    flow
        Every input row accounted for. Columns ``table`` ("people", "offences", "custody",
        "deaths"), ``step`` (a short code), ``reason`` (plain language), ``n_removed`` and
        ``n_remaining``. Each table starts with an ``input`` row (its row count) and ends with
        a row giving what is kept (``cohort``, ``proven``, ``overlaps_follow_up``,
        ``within_follow_up``), so that input − Σ removed = kept for every table.
    follow_up_days, waiting_days
        Length of the follow-up and of the further waiting period for disposals, in days.
    data_end
        Date the extract was taken (``None`` if not given).
    at_risk
        ``"calendar"`` (time counts calendar days) or ``"free"`` (custody days removed).
    proven_disposals, other_disposals
        Disposal codes that prove a reoffence, and the recognised codes that do not.
    """

    data: pd.DataFrame
    flow: pd.DataFrame
    follow_up_days: int
    waiting_days: int
    data_end: pd.Timestamp | None
    at_risk: str
    proven_disposals: tuple[str, ...]
    other_disposals: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """The person-level table (a copy of :attr:`data`)."""
        return self.data.copy()

    def summary(self) -> pd.DataFrame:
        """Headline measures by group.

        Returns
        -------
        pandas.DataFrame
            Columns ``group``, ``people``, ``reoffenders``, ``rate`` (proportion with a proven
            reoffence), ``reoffences`` (total), ``per_reoffender`` (reoffences per reoffender,
            NaN when there are none) and ``days_in_custody`` (mean per person).
        """
        g = self.data.groupby("group", sort=True, observed=True)
        out = pd.DataFrame(
            {
                "people": g.size(),
                "reoffenders": g["event"].sum(),
                "reoffences": g["n_reoffences"].sum(),
                "days_in_custody": g["days_in_custody"].mean(),
            }
        )
        out["rate"] = out["reoffenders"] / out["people"]
        out["per_reoffender"] = out["reoffences"] / out["reoffenders"].where(out["reoffenders"] > 0)
        out = out.rename_axis("group").reset_index()
        return out[
            [
                "group",
                "people",
                "reoffenders",
                "rate",
                "reoffences",
                "per_reoffender",
                "days_in_custody",
            ]
        ]

    def _repr_html_(self) -> str:
        end = "none" if self.data_end is None else self.data_end.date().isoformat()
        head = (
            f"<p>Proven-reoffending cohort: {len(self.data)} people; follow-up "
            f"{self.follow_up_days} days, waiting period {self.waiting_days} days, "
            f"data end {end}, time at risk: {self.at_risk}.</p>"
        )
        return (
            head
            + self.summary().to_html(index=False)
            + "<p>Exclusion flow</p>"
            + self.flow.to_html(index=False)
        )

    def __repr__(self) -> str:
        return (
            f"Cohort(people={len(self.data)}, follow_up_days={self.follow_up_days}, "
            f"waiting_days={self.waiting_days}, at_risk={self.at_risk!r})"
        )


def _flow_table(
    table: str,
    n_input: int,
    input_reason: str,
    steps: list[tuple[str, str, int]],
    final: tuple[str, str],
) -> pd.DataFrame:
    """Rows of the flow for one table: input, one row per removal, then what is kept."""
    removed = np.array([0] + [k for _, _, k in steps] + [0], dtype=np.int64)
    remaining = n_input - np.cumsum(removed)
    return pd.DataFrame(
        {
            "table": table,
            "step": ["input", *(s for s, _, _ in steps), final[0]],
            "reason": [input_reason, *(r for _, r, _ in steps), final[1]],
            "n_removed": removed,
            "n_remaining": remaining.astype(np.int64),
        }
    )


def _person_steps(n_input: int, matched: int, excluded: int) -> list[tuple[str, str, int]]:
    """The first two steps of offences, custody and deaths: unknown and excluded people."""
    return [
        ("unknown_person", _UNKNOWN, n_input - matched),
        ("excluded_person", _EXCLUDED, excluded),
    ]


def flow_frame(
    counts: dict[str, int],
    n_input: dict[str, int],
    *,
    follow_up_days: int,
    waiting_days: int,
    end_text: str,
    other_codes: tuple[str, ...],
) -> pd.DataFrame:
    """The exclusion flow from the counts of :func:`evalkit.cohort.rules.flow_counts`.

    ``n_input`` holds each table's row count; rows whose person is not in the people table
    are the input count minus the rows matched to a person.
    """
    f, w = follow_up_days, waiting_days
    c = {k: int(v) for k, v in counts.items()}
    return pd.concat(
        [
            _flow_table(
                "people",
                n_input["people"],
                "people in the input table",
                [
                    (
                        "incomplete_follow_up",
                        f"follow-up plus waiting period ({f} + {w} days) ends after "
                        f"data_end ({end_text})",
                        c["incomplete"],
                    ),
                    (
                        "died_before_index",
                        "died on or before the index date (no time at risk)",
                        c["died_before"],
                    ),
                ],
                ("cohort", "people in the cohort"),
            ),
            _flow_table(
                "offences",
                n_input["offences"],
                "offence rows in the input table",
                [
                    *_person_steps(n_input["offences"], c["off_matched"], c["off_excluded"]),
                    (
                        "on_or_before_index",
                        "offence on or before the index date (never counts)",
                        c["off_before"],
                    ),
                    (
                        "after_follow_up",
                        f"offence after the {f}-day follow-up period",
                        c["off_after"],
                    ),
                    (
                        "late_disposal",
                        f"disposal after the {w}-day waiting period (later than day {f + w})",
                        c["off_late"],
                    ),
                    (
                        "not_proven",
                        f"disposal does not prove the offence ({', '.join(other_codes)})",
                        c["off_not_proven"],
                    ),
                ],
                ("proven", "proven reoffences counted"),
            ),
            _flow_table(
                "custody",
                n_input["custody"],
                "custody spells in the input table",
                [
                    *_person_steps(n_input["custody"], c["cus_matched"], c["cus_excluded"]),
                    (
                        "outside_follow_up",
                        "spell does not overlap the follow-up period",
                        c["cus_outside"],
                    ),
                ],
                ("overlaps_follow_up", "spells overlapping follow-up (in days_in_custody)"),
            ),
            _flow_table(
                "deaths",
                n_input["deaths"],
                "deaths in the input table",
                [
                    *_person_steps(n_input["deaths"], c["death_matched"], c["death_excluded"]),
                    (
                        "after_follow_up",
                        "death after the follow-up period (no effect)",
                        c["death_after"],
                    ),
                ],
                ("within_follow_up", "deaths within follow-up (censor unless reoffended)"),
            ),
        ],
        ignore_index=True,
    )
