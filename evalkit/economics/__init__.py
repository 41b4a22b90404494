"""Value for money: cost per participant and per outcome, break-even and net benefit.

A scheme's cost is set against the cost of the crime it prevents, priced with the Home Office's
unit costs of crime (:func:`unit_costs`; Heeks et al. 2018, 2015/16 prices, kept with their
source in ``unit_costs_of_crime.csv``). The effect's uncertainty is carried through: the net
benefit has the interval of the effect it rests on, and the probability of breaking even is
read from the same (normal) sampling distribution.

References
----------
Heeks, M., Reed, S., Tafsiri, M. & Prince, S. (2018). The economic and social costs of crime,
second edition. Home Office Research Report 99.
HM Treasury (2022). The Green Book: central government guidance on appraisal and evaluation,
ch. 5 (net present social value) and annex A6 (real prices and the GDP deflator).
Drummond, M. F., Sculpher, M. J., Claxton, K., Stoddart, G. L. & Torrance, G. W. (2015).
Methods for the Economic Evaluation of Health Care Programmes, 4th ed., ch. 11
(characterising uncertainty; probability that an intervention is cost-saving).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from evalkit._inference import critical
from evalkit._options import check_choice, check_conf_level, check_number, option_error
from evalkit.economics.portfolio import PortfolioTable, portfolio_table
from evalkit.results import Estimate, Result

__all__ = [
    "PortfolioTable",
    "ValueForMoney",
    "offences_prevented",
    "portfolio_table",
    "unit_cost",
    "unit_costs",
    "value_for_money",
]

_COLUMNS = ("offence", "cost_gbp", "price_year", "source")


def unit_costs() -> pd.DataFrame:
    """The unit costs of crime shipped with evalkit, one row per offence type.

    Columns ``offence``, ``cost_gbp`` (economic and social cost of one offence),
    ``price_year``, ``source``, ``table`` and ``note``. Every row carries its source and price
    year (see ``PROVENANCE.md`` beside the file).

    Examples
    --------
    >>> costs = unit_costs().set_index("offence")
    >>> int(costs.loc["violence with injury", "cost_gbp"]), costs.loc["robbery", "price_year"]
    (14050, '2015/16')
    """
    path = resources.files("evalkit.economics") / "unit_costs_of_crime.csv"
    with resources.as_file(path) as p:
        table = pd.read_csv(p, dtype={"price_year": str, "note": str, "table": str})
    missing = [c for c in _COLUMNS if c not in table or table[c].isna().any()]
    if missing:  # pragma: no cover - guards edits to the shipped file
        raise ValueError(f"unit_costs_of_crime.csv: every row needs {missing}")
    return table


def unit_cost(offence: str | Mapping[str, float], *, inflation: float = 1.0) -> float:
    """The cost of one offence: one type, or a mix of types weighted by their shares.

    Parameters
    ----------
    offence
        An offence type in :func:`unit_costs` (``"violence with injury"``), or a mapping of
        types to shares that sum to 1 (``{"violence with injury": 0.3, "criminal damage":
        0.7}``) for the mix of offences a scheme's cohort commits.
    inflation
        Factor from the 2015/16 price year to the year of the scheme's costs (e.g. a ratio of
        GDP deflators); 1 keeps 2015/16 prices.

    Examples
    --------
    >>> unit_cost("criminal damage")
    1350.0
    >>> unit_cost({"violence with injury": 0.5, "criminal damage": 0.5}, inflation=1.2)
    9240.0
    """
    inflation = check_number(inflation, "inflation", minimum=0.0, strict=True)
    costs = unit_costs().set_index("offence")["cost_gbp"].astype(float)
    mix = {offence: 1.0} if isinstance(offence, str) else dict(offence)
    unknown = sorted(set(mix) - set(costs.index))
    if unknown:
        raise option_error(
            "offence", f"unknown offence type(s) {unknown}; known: {sorted(costs.index)}"
        )
    shares = {k: check_number(v, f"offence[{k!r}]", minimum=0.0) for k, v in mix.items()}
    if not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9):
        raise option_error("offence", "shares must sum to 1", sum(shares.values()))
    return float(sum(costs[k] * s for k, s in shares.items()) * inflation)


def _effect_numbers(effect: Any) -> tuple[float, float, float]:
    """The estimate and interval of ``effect``, checked: finite, with lower <= estimate <= upper."""
    if not all(hasattr(effect, a) for a in ("estimate", "lower", "upper")):
        raise option_error(
            "effect",
            "must be an estimate with an interval (an evalkit.Estimate or Measure, e.g. "
            "Estimate(-0.05, -0.12, 0.02)), not a bare number",
            effect,
        )
    est, lo, hi = (
        check_number(getattr(effect, a), f"effect.{a}") for a in ("estimate", "lower", "upper")
    )
    if not lo <= est <= hi:
        raise option_error("effect", "needs lower <= estimate <= upper", (lo, est, hi))
    return est, lo, hi


def offences_prevented(
    effect: Any,
    *,
    participants: float,
    offences_per_reoffender: float = 1.0,
    good: str = "lower",
) -> Estimate:
    """Offences prevented implied by a difference in the proportion reoffending.

    ``effect`` is a programme-minus-comparison difference in proportions (an
    :class:`evalkit.Measure` of kind ``"difference"``, an :class:`evalkit.Estimate`, or any
    object with ``estimate``, ``lower``, ``upper`` and ``conf_level``), e.g. −0.08 (8 fewer per
    100). Offences prevented = −difference × participants × offences per reoffender, so the
    limits swap. With ``good="higher"`` (e.g. a difference in abstinence) the sign is kept.

    Examples
    --------
    >>> from evalkit import Estimate
    >>> e = offences_prevented(Estimate(-0.08, -0.15, -0.01), participants=200,
    ...                        offences_per_reoffender=2.5)
    >>> round(e.estimate, 6), round(e.lower, 6), round(e.upper, 6)
    (40.0, 5.0, 75.0)
    """
    if getattr(effect, "kind", "difference") != "difference":
        raise option_error(
            "effect",
            "must be a difference in proportions (a ratio needs a baseline rate: convert it "
            "to a difference first)",
        )
    est, lo, hi = _effect_numbers(effect)
    n = check_number(participants, "participants", minimum=0.0, strict=True)
    k = check_number(offences_per_reoffender, "offences_per_reoffender", minimum=0.0)
    good = check_choice(good, "good", ("lower", "higher"))
    scale = n * k * (-1.0 if good == "lower" else 1.0)
    ends = sorted([lo * scale, hi * scale])
    return Estimate(
        est * scale,
        ends[0],
        ends[1],
        conf_level=float(getattr(effect, "conf_level", 0.95)),
        method="scaled difference in proportions",
    )


@dataclass(frozen=True, eq=False, repr=False)
class ValueForMoney(Result):
    """Costs per participant and outcome, break-even and (with an effect) net benefit.

    Attributes
    ----------
    cost
        Total cost of the scheme (£, in the prices of ``inflation``).
    participants, outcomes
        People who took part, and the outcomes achieved (``None`` if not counted).
    cost_per_participant, cost_per_outcome
        ``cost / participants`` and ``cost / outcomes``.
    unit_cost
        Cost of one offence used (£, 2015/16 prices times ``inflation``).
    break_even_offences
        Offences the scheme must prevent to repay its cost: ``cost / unit_cost``.
    break_even_difference
        The same as a difference in proportions reoffending (negative: fewer), given
        ``offences_per_reoffender``.
    prevented
        Offences prevented (an :class:`Estimate`), or ``None`` without an effect.
    net_benefit, net_lower, net_upper
        Value of the offences prevented minus the cost, with the effect's interval.
    p_break_even
        Probability that the offences prevented exceed the break-even number, from the normal
        distribution matching the effect's interval (``None`` without an effect).
    inflation, conf_level
        The options used.
    """

    _title = "Value for money"

    cost: float
    participants: int
    outcomes: int | None
    cost_per_participant: float
    cost_per_outcome: float | None
    unit_cost: float
    break_even_offences: float
    break_even_difference: float
    prevented: Estimate | None
    net_benefit: float | None
    net_lower: float | None
    net_upper: float | None
    p_break_even: float | None
    inflation: float
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per quantity: ``measure``, ``estimate``, ``lower``, ``upper``."""
        nan = math.nan
        rows: list[tuple[str, float | None, float | None, float | None]] = [
            ("cost per participant", self.cost_per_participant, nan, nan),
            (
                "cost per outcome",
                nan if self.cost_per_outcome is None else self.cost_per_outcome,
                nan,
                nan,
            ),
            ("unit cost of an offence", self.unit_cost, nan, nan),
            ("offences to prevent to break even", self.break_even_offences, nan, nan),
        ]
        if self.prevented is not None:
            rows += [
                (
                    "offences prevented",
                    self.prevented.estimate,
                    self.prevented.lower,
                    self.prevented.upper,
                ),
                ("net benefit", self.net_benefit, self.net_lower, self.net_upper),
                ("probability of breaking even", self.p_break_even, nan, nan),
            ]
        return pd.DataFrame(rows, columns=["measure", "estimate", "lower", "upper"])


def value_for_money(
    cost: float,
    *,
    participants: int,
    outcomes: int | None = None,
    effect: Any = None,
    offence: str | Mapping[str, float] = "violence with injury",
    offences_per_reoffender: float = 1.0,
    inflation: float = 1.0,
    conf_level: float = 0.95,
) -> ValueForMoney:
    """Cost per participant and outcome, break-even, and net benefit with its uncertainty.

    Parameters
    ----------
    cost
        Total cost of the scheme over the period the participants were served (£).
    participants
        People who took part (the denominator of the effect, if one is given).
    outcomes
        Outcomes achieved, e.g. the 309 people "maintaining abstinence" (optional).
    effect
        Programme-minus-comparison difference in the proportion reoffending (a
        :class:`evalkit.Measure` or :class:`evalkit.Estimate`); without it only costs and
        break-even are given.
    offence
        The offence type (or mix, see :func:`unit_cost`) an avoided reoffence is priced as.
    offences_per_reoffender
        Proven reoffences per reoffender (the cohort's ``n_reoffences`` among reoffenders):
        each person kept from reoffending avoids this many offences.
    inflation
        Price factor applied to the 2015/16 unit costs.
    conf_level
        Level of the net-benefit interval (the effect's interval is re-expressed at this
        level when it was computed at another).

    Notes
    -----
    Break-even offences = cost / unit cost; break-even difference = −break-even offences /
    (participants × offences per reoffender). Net benefit = prevented × unit cost − cost, a
    linear function of the effect, so its limits are the effect's limits transformed (Green
    Book net present social value, undiscounted: the follow-up is one year). The probability
    of breaking even is Φ((prevented − break-even) / se) with se = (upper − lower) / (2 z),
    the normal approximation to the effect's sampling distribution implied by its interval
    (Drummond et al. 2015, ch. 11); it is 0.5 when the estimate is exactly at break-even.
    This prices offences, not people: it assumes each prevented reoffender would have
    committed the cohort's average number of offences, at the chosen unit cost.

    Examples
    --------
    >>> from evalkit import Estimate
    >>> v = value_for_money(19_950, participants=400, outcomes=309,
    ...                     effect=Estimate(-0.05, -0.12, 0.02), offence="criminal damage",
    ...                     offences_per_reoffender=2.0)
    >>> round(v.cost_per_participant, 2), round(v.cost_per_outcome, 2)
    (49.88, 64.56)
    >>> round(v.break_even_offences, 1), v.prevented.estimate
    (14.8, 40.0)
    >>> round(v.net_benefit), round(v.p_break_even, 3)
    (34050, 0.811)
    """
    cost = check_number(cost, "cost", minimum=0.0)
    n = check_number(participants, "participants", minimum=1.0)
    if outcomes is not None:
        check_number(outcomes, "outcomes", minimum=0.0)
    k = check_number(offences_per_reoffender, "offences_per_reoffender", minimum=0.0, strict=True)
    price = unit_cost(offence, inflation=inflation)
    level = check_conf_level(conf_level)
    break_even = cost / price
    prevented = net = net_lo = net_hi = p_even = None
    if effect is not None:
        prevented = offences_prevented(effect, participants=n, offences_per_reoffender=k)
        net = prevented.estimate * price - cost
        net_lo = prevented.lower * price - cost
        net_hi = prevented.upper * price - cost
        se = (prevented.upper - prevented.lower) / (2 * critical(prevented.conf_level))
        if se > 0:
            from scipy import stats

            p_even = float(stats.norm.sf((break_even - prevented.estimate) / se))
        else:
            p_even = float(prevented.estimate >= break_even)
        if level != prevented.conf_level:  # re-express the interval at the level asked for
            half = critical(level) * se
            lo, hi = prevented.estimate - half, prevented.estimate + half
            net_lo, net_hi = lo * price - cost, hi * price - cost
    return ValueForMoney(
        cost=cost,
        participants=int(n),
        outcomes=None if outcomes is None else int(outcomes),
        cost_per_participant=cost / n,
        cost_per_outcome=(cost / outcomes) if outcomes else None,
        unit_cost=price,
        break_even_offences=break_even,
        break_even_difference=-break_even / (n * k),
        prevented=prevented,
        net_benefit=net,
        net_lower=net_lo,
        net_upper=net_hi,
        p_break_even=p_even,
        inflation=float(inflation),
        conf_level=level,
    )
