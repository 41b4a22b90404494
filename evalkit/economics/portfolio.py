"""A portfolio of services in one table: spend, cost per participant and outcome, break-even
and the evidence rating each service's current evaluation earns.

A Police and Crime Commissioner funds several services from one budget; the panel that
scrutinises the spending needs, per service, what it costs, how many people it serves, how many
offences it would have to prevent to repay its cost (priced with the Home Office unit costs of
crime, :func:`evalkit.economics.unit_costs`) and how far its current evaluation could show that
it does. :func:`portfolio_table` puts these in one tidy table. The evidence rating is not typed
in: it is the Maryland Scientific Methods Scale level the verdict engine gives the design of
each service's evaluation (:data:`evalkit.verdict.DESIGNS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._options import check_number, option_error
from evalkit.errors import InputError
from evalkit.results import Result, own
from evalkit.schema import check_frame, check_no_missing, check_numeric, require_columns, row_ids

__all__ = ["PortfolioTable", "portfolio_table"]

_TABLE = "services"


@dataclass(frozen=True, eq=False, repr=False)
class PortfolioTable(Result):
    """Spend, cost per participant and outcome, break-even and evidence rating, per service.

    Attributes
    ----------
    table
        One row per service (in the order given), columns:

        - ``service``: the service's name;
        - ``cost``: spend (£ a year, or over the period the participants were served);
        - ``participants``: people served in that period;
        - ``outcomes``: outcomes achieved (e.g. participants without a proven reoffence within
          a year), or missing when not given;
        - ``cost_per_participant``, ``cost_per_outcome``: ``cost / participants`` and
          ``cost / outcomes`` (missing without outcomes, or with none);
        - ``break_even_offences``: offences the service must prevent to repay its cost,
          ``cost / unit_cost``;
        - ``break_even_per_100``: the same as fewer reoffenders per 100 participants,
          ``100 × break_even_offences / (participants × offences_per_reoffender)``;
        - ``design``: the design of the service's current evaluation (a key of
          :data:`evalkit.verdict.DESIGNS`);
        - ``rating``: the Maryland Scientific Methods Scale level that design earns at best.
    unit_cost
        Cost of one offence used (£: the 2015/16 Home Office figure times ``inflation``).
    offence
        The offence type (or mix) an avoided offence is priced as, in words.
    price_year
        Price year of the unit costs before ``inflation`` (``"2015/16"``).
    inflation
        Factor applied to the unit costs to bring them to the price year of the spend.
    offences_per_reoffender
        Proven reoffences per reoffender used in ``break_even_per_100``.
    total_cost, total_participants, total_break_even_offences
        Sums over the services.
    """

    _title = "Portfolio value for money"

    table: pd.DataFrame
    unit_cost: float
    offence: str
    price_year: str
    inflation: float
    offences_per_reoffender: float
    total_cost: float
    total_participants: int
    total_break_even_offences: float

    def _describe(self) -> list[str]:
        return [f"services={len(self.table)}", *super()._describe()]

    def to_frame(self) -> pd.DataFrame:
        """The per-service table (a new DataFrame each call)."""
        return self.table.copy()


def _offence_words(offence: str | Mapping[str, float]) -> str:
    if isinstance(offence, str):
        return offence
    return ", ".join(f"{k} {100 * float(v):g}%" for k, v in offence.items())


def portfolio_table(
    df: pd.DataFrame,
    *,
    service: str = "service",
    cost: str = "annual_cost_gbp",
    participants: str = "participants",
    design: str = "evaluation",
    outcomes: str | None = None,
    offence: str | Mapping[str, float] = "criminal damage",
    offences_per_reoffender: float = 1.0,
    inflation: float = 1.0,
) -> PortfolioTable:
    """Spend per service, per participant and per outcome, break-even and evidence rating.

    Parameters
    ----------
    df
        One row per service.
    service
        Column of service names.
    cost
        Column of each service's spend (£) over the period its participants were served (a
        year, for annual contracts).
    participants
        Column of people served in that period (whole numbers, at least 1).
    design
        Column holding the design of each service's current evaluation: one of
        :data:`evalkit.verdict.DESIGNS` (``"randomised"``, ``"did"``, ``"matched"``,
        ``"unmatched"``, ``"before_after"``, ``"none"``).
    outcomes
        Optional column of outcomes achieved (e.g. participants without a proven reoffence
        within a year); gives the cost per outcome.
    offence
        The offence type an avoided offence is priced as, or a mix of types with shares
        summing to 1 (see :func:`evalkit.economics.unit_cost`).
    offences_per_reoffender
        Proven reoffences per reoffender (positive): one person kept from reoffending avoids
        this many offences.
    inflation
        Factor from the 2015/16 price year of the unit costs to the price year of the spend
        (e.g. a ratio of HM Treasury GDP deflators); 1 keeps 2015/16 prices, which overstates
        the offences needed to break even when the spend is in later prices.

    Returns
    -------
    PortfolioTable
        The per-service table (:meth:`PortfolioTable.to_frame`) and the assumptions used.

    Raises
    ------
    InputError
        A missing column; a missing, negative or non-numeric cost; participants that are not
        whole numbers of at least 1; outcomes outside 0 to participants; a design that is not
        one of :data:`evalkit.verdict.DESIGNS` (the offending rows are named); bad options.

    Notes
    -----
    Each row is :func:`evalkit.economics.value_for_money` of that service without an effect:
    cost per participant and per outcome, and break-even offences = cost / unit cost
    (Heeks et al. 2018 unit costs; HM Treasury 2022, annex A6, for bringing them to the
    spend's price year). The break-even fall in reoffending, per 100 participants, is
    100 × break-even offences / (participants × offences per reoffender): a service that
    prevents fewer reoffenders than this costs more than the crime it prevents, at that price
    per offence. It prices offences, not people, and counts only the costs of crime, so it is
    a threshold for the evidence to clear, not an estimate of value.

    The rating is the Maryland Scientific Methods Scale level (Sherman et al. 1997;
    Farrington et al. 2002) that the verdict engine gives the design of each service's
    evaluation at best (:data:`evalkit.verdict.DESIGNS`: randomised 5, difference in
    differences 4, matched 3, unmatched or before/after 2, none 1); the engine lowers it
    further when a comparison's checks fail, which a table of designs cannot know.

    **When not to use.** The break-even numbers say what a service would have to achieve, not
    what it achieves: without an effect estimated against a comparison group they show
    nothing about value for money.

    References
    ----------
    Heeks, M., Reed, S., Tafsiri, M. & Prince, S. (2018). The economic and social costs of
    crime, second edition. Home Office Research Report 99.
    HM Treasury (2022). The Green Book: central government guidance on appraisal and
    evaluation, annex A6 (real prices and the GDP deflator).
    Sherman, L. W., Gottfredson, D., MacKenzie, D., Eck, J., Reuter, P. & Bushway, S. (1997).
    Preventing Crime: What Works, What Doesn't, What's Promising. US Department of Justice.
    Farrington, D. P., Gottfredson, D. C., Sherman, L. W. & Welsh, B. C. (2002). The Maryland
    Scientific Methods Scale. In *Evidence-Based Crime Prevention*, 13–21. Routledge.

    Examples
    --------
    >>> import pandas as pd
    >>> services = pd.DataFrame({
    ...     "service": ["Recovery centre", "Workshop"],
    ...     "annual_cost_gbp": [34_000, 8_307],
    ...     "participants": [64, 270],
    ...     "evaluation": ["none", "before_after"],
    ... })
    >>> t = portfolio_table(services, offence="criminal damage", offences_per_reoffender=3.5)
    >>> t.to_frame()[["service", "cost_per_participant", "break_even_offences", "rating"]]
               service  cost_per_participant  break_even_offences  rating
    0  Recovery centre            531.250000            25.185185       1
    1         Workshop             30.766667             6.153333       2
    >>> round(float(t.to_frame()["break_even_per_100"].iloc[0]), 2)
    11.24
    """
    from evalkit.economics import value_for_money
    from evalkit.verdict import DESIGNS

    df = check_frame(df, table=_TABLE)
    require_columns(df, [service, cost, participants, design, outcomes], table=_TABLE)
    k = check_number(offences_per_reoffender, "offences_per_reoffender", minimum=0.0, strict=True)
    check_no_missing(df, service, table=_TABLE)
    spend = check_numeric(df, cost, table=_TABLE)
    if (spend < 0).any():
        raise InputError(cost, "must not be negative", row_ids(df, spend < 0), table=_TABLE)
    n = check_numeric(df, participants, table=_TABLE)
    bad = (n < 1) | (n != np.round(n))
    if bad.any():
        raise InputError(
            participants, "must be whole numbers of at least 1", row_ids(df, bad), table=_TABLE
        )
    if outcomes is not None:
        got = check_numeric(df, outcomes, table=_TABLE)
        bad = (got < 0) | (got > n) | (got != np.round(got))
        if bad.any():
            raise InputError(
                outcomes,
                f"must be whole numbers from 0 to the number of {participants}",
                row_ids(df, bad),
                table=_TABLE,
            )
    kinds = df[design].astype("string")
    bad = ~kinds.isin(list(DESIGNS)).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        valid = ", ".join(repr(d) for d in DESIGNS)
        raise InputError(design, f"must be one of {valid}", row_ids(df, bad), table=_TABLE)

    rows: list[dict[str, Any]] = []
    vfm = None
    for i in range(len(df)):  # one row per service: a handful, not people
        achieved = None if outcomes is None else int(df[outcomes].iloc[i])
        vfm = value_for_money(
            float(spend[i]),
            participants=int(n[i]),
            outcomes=achieved,
            offence=offence,
            offences_per_reoffender=k,
            inflation=inflation,
        )
        rows.append(
            {
                "service": str(df[service].iloc[i]),
                "cost": vfm.cost,
                "participants": int(n[i]),
                "outcomes": pd.NA if achieved is None else achieved,
                "cost_per_participant": vfm.cost_per_participant,
                "cost_per_outcome": math.nan
                if vfm.cost_per_outcome is None
                else vfm.cost_per_outcome,
                "break_even_offences": vfm.break_even_offences,
                "break_even_per_100": -100.0 * vfm.break_even_difference,
                "design": str(kinds.iloc[i]),
                "rating": int(DESIGNS[str(kinds.iloc[i])]),
            }
        )
    if vfm is None:  # pragma: no cover - check_frame refuses an empty table
        raise option_error("df", "has no services")
    table = pd.DataFrame(rows)
    table["outcomes"] = table["outcomes"].astype("Int64")
    from evalkit.economics import unit_costs

    years = unit_costs().set_index("offence")["price_year"]
    mix = [offence] if isinstance(offence, str) else list(offence)
    return PortfolioTable(
        table=own(table),
        unit_cost=vfm.unit_cost,
        offence=_offence_words(offence),
        price_year=" and ".join(sorted({str(years[m]) for m in mix})),
        inflation=float(inflation),
        offences_per_reoffender=k,
        total_cost=float(table["cost"].sum()),
        total_participants=int(table["participants"].sum()),
        total_break_even_offences=float(table["break_even_offences"].sum()),
    )
