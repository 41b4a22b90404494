"""Value for money: costs, break-even and net benefit, checked against hand calculations."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalkit import Estimate, Measure
from evalkit.economics import (
    offences_prevented,
    portfolio_table,
    unit_cost,
    unit_costs,
    value_for_money,
)
from evalkit.errors import InputError


def test_unit_costs_carry_source_and_price_year() -> None:
    table = unit_costs()
    assert {"offence", "cost_gbp", "price_year", "source"} <= set(table.columns)
    assert table["source"].str.contains("Home Office Research Report 99").all()
    assert (table["price_year"] == "2015/16").all()
    # the values quoted in SCHEMES.md's reference facts (Heeks et al. 2018, Table 1)
    costs = table.set_index("offence")["cost_gbp"]
    assert costs["violence with injury"] == 14050
    assert costs["robbery"] == 11320
    assert costs["theft of vehicle"] == 10290
    assert costs["arson"] == 8420
    assert costs["criminal damage"] == 1350
    assert costs["rape"] == 39360


def test_unit_cost_of_a_mix_and_inflation() -> None:
    # 0.3 * 14050 + 0.7 * 1350 = 4215 + 945 = 5160; times 1.25 = 6450
    assert unit_cost({"violence with injury": 0.3, "criminal damage": 0.7}) == pytest.approx(5160)
    assert unit_cost(
        {"violence with injury": 0.3, "criminal damage": 0.7}, inflation=1.25
    ) == pytest.approx(6450)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"offence": "shoplifting"}, "argument 'offence'"),
        ({"offence": {"robbery": 0.5, "arson": 0.4}}, "sum to 1"),
        ({"offence": "robbery", "inflation": 0}, "argument 'inflation'"),
        ({"offence": "robbery", "inflation": "1.1"}, "argument 'inflation'"),
    ],
)
def test_unit_cost_refuses_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        unit_cost(**kwargs)


def test_costs_per_participant_and_outcome_for_fresh_start() -> None:
    # Fresh Start: grants of almost £20,000; 309 "maintaining abstinence"
    v = value_for_money(19_950, participants=500, outcomes=309, offence="criminal damage")
    assert v.cost_per_participant == pytest.approx(39.9)
    assert v.cost_per_outcome == pytest.approx(19_950 / 309)  # £64.56
    assert v.break_even_offences == pytest.approx(19_950 / 1350)  # 14.78 offences
    # 14.78 offences among 500 people, one offence per reoffender: 2.96 fewer per 100
    assert v.break_even_difference == pytest.approx(-19_950 / 1350 / 500)
    assert v.prevented is None and v.net_benefit is None and v.p_break_even is None


def test_net_benefit_carries_the_effects_interval() -> None:
    # effect −5 (−12 to +2) per 100; 400 people; 2 offences per reoffender; £1,350 each.
    # prevented = 0.05 * 400 * 2 = 40 (limits −16 and 96); net = 40 * 1350 − 19950 = 34,050,
    # limits −16 * 1350 − 19950 = −41,550 and 96 * 1350 − 19950 = 109,650.
    # se = (96 − (−16)) / (2 * 1.959964) = 28.5719; break-even 14.7778;
    # P = Φ((40 − 14.7778) / 28.5719) = Φ(0.88277) = 0.81132 (hand calculation).
    v = value_for_money(
        19_950,
        participants=400,
        effect=Estimate(-0.05, -0.12, 0.02),
        offence="criminal damage",
        offences_per_reoffender=2.0,
    )
    assert v.prevented is not None
    assert (v.prevented.estimate, v.prevented.lower, v.prevented.upper) == pytest.approx(
        (40, -16, 96)
    )
    assert (v.net_benefit, v.net_lower, v.net_upper) == pytest.approx((34_050, -41_550, 109_650))
    assert v.p_break_even == pytest.approx(0.81132, abs=1e-5)
    table = v.to_frame().set_index("measure")
    assert table.loc["net benefit", "lower"] == pytest.approx(-41_550)


def test_probability_of_breaking_even_is_one_half_at_break_even() -> None:
    # choose the effect so that prevented offences equal the break-even number exactly
    cost, n, price = 27_000.0, 300, 1350.0
    needed = cost / price / n  # difference in proportions that just repays the cost
    v = value_for_money(
        cost,
        participants=n,
        effect=Estimate(-needed, -needed - 0.05, -needed + 0.05),
        offence="criminal damage",
    )
    assert v.net_benefit == pytest.approx(0.0, abs=1e-6)
    assert v.p_break_even == pytest.approx(0.5)


def test_interval_is_re_expressed_at_the_level_asked_for() -> None:
    e = Estimate(-0.05, -0.12, 0.02)  # 95%
    v90 = value_for_money(10_000, participants=400, effect=e, conf_level=0.9)
    v95 = value_for_money(10_000, participants=400, effect=e)
    assert v90.conf_level == 0.9
    width90 = v90.net_upper - v90.net_lower
    width95 = v95.net_upper - v95.net_lower
    # normal limits: width ratio z(0.95) / z(0.975) = 1.644854 / 1.959964
    assert width90 / width95 == pytest.approx(1.644854 / 1.959964, rel=1e-6)


def test_measures_from_the_verdict_engine_are_accepted() -> None:
    m = Measure.rate_difference(40, 200, 55, 200, outcome="proven reoffending")
    prevented = offences_prevented(m, participants=200)
    assert prevented.estimate == pytest.approx(15.0)  # (55 − 40) / 200 * 200
    assert prevented.lower < 15 < prevented.upper
    ratio = Measure("hazard ratio", "x", 0.8, 0.6, 1.1, kind="ratio")
    with pytest.raises(InputError, match="argument 'effect'"):
        offences_prevented(ratio, participants=200)


def test_cost_per_outcome_without_outcomes_is_not_given() -> None:
    v = value_for_money(1000, participants=10)
    assert v.cost_per_outcome is None
    assert math.isnan(v.to_frame().set_index("measure").loc["cost per outcome", "estimate"])
    assert len(repr(v)) <= 300


# --- portfolio_table: one row per service ---------------------------------------------------


def _services() -> pd.DataFrame:
    # the published costs of three of the Leicestershire services, with invented numbers
    return pd.DataFrame(
        {
            "service": ["Recovery centre", "Treatment", "Workshop"],
            "annual_cost_gbp": [34_000, 448_909, 8_307],
            "participants": [64, 1379, 270],
            "no_reoffence": [32, 770, 228],
            "evaluation": ["none", "before_after", "matched"],
        }
    )


def test_portfolio_table_by_hand() -> None:
    t = portfolio_table(
        _services(), outcomes="no_reoffence", offence="criminal damage", offences_per_reoffender=3.5
    )
    row = t.to_frame().set_index("service").loc["Treatment"]
    # £448,909 / 1,379 = £325.53; / 770 = £583.00; / £1,350 = 332.53 offences;
    # 332.53 / (1,379 × 3.5) × 100 = 6.890 fewer reoffenders per 100 participants
    assert row["cost_per_participant"] == pytest.approx(448_909 / 1379)
    assert row["cost_per_outcome"] == pytest.approx(448_909 / 770)
    assert row["break_even_offences"] == pytest.approx(448_909 / 1350)
    assert row["break_even_per_100"] == pytest.approx(100 * 448_909 / 1350 / (1379 * 3.5))
    assert t.total_cost == 34_000 + 448_909 + 8_307
    assert t.total_participants == 64 + 1379 + 270
    assert t.total_break_even_offences == pytest.approx(t.total_cost / 1350)
    assert (t.unit_cost, t.price_year, t.offence) == (1350.0, "2015/16", "criminal damage")


def test_portfolio_ratings_come_from_the_verdict_engines_designs() -> None:
    from evalkit.verdict import DESIGNS

    t = portfolio_table(_services()).to_frame()
    assert list(t["rating"]) == [DESIGNS["none"], DESIGNS["before_after"], DESIGNS["matched"]]
    assert list(t["rating"]) == [1, 2, 3]
    assert t["outcomes"].isna().all() and t["cost_per_outcome"].isna().all()


def test_portfolio_rows_agree_with_value_for_money() -> None:
    t = portfolio_table(
        _services(), outcomes="no_reoffence", offence="violence with injury", inflation=1.2
    ).to_frame()
    v = value_for_money(8_307, participants=270, outcomes=228, offence="violence with injury",
                        inflation=1.2)  # fmt: skip
    row = t.iloc[2]
    assert row["break_even_offences"] == pytest.approx(v.break_even_offences)
    assert row["cost_per_outcome"] == pytest.approx(v.cost_per_outcome)
    assert row["break_even_per_100"] == pytest.approx(-100 * v.break_even_difference)


def test_portfolio_table_keeps_its_own_copy() -> None:
    services = _services()
    t = portfolio_table(services)
    services.loc[0, "annual_cost_gbp"] = 0
    first = t.to_frame()
    first.loc[0, "cost"] = -1.0
    assert t.to_frame().loc[0, "cost"] == 34_000
    assert repr(t).startswith("PortfolioTable(services=3")


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        ({"evaluation": ["none", "rct", "matched"]}, {}, "column 'evaluation'.*'randomised'"),
        ({"participants": [64, 0, 270]}, {}, "column 'participants'"),
        ({"participants": [64.5, 1379, 270]}, {}, "column 'participants'"),
        ({"annual_cost_gbp": [34_000, -1, 8_307]}, {}, "column 'annual_cost_gbp'"),
        ({"no_reoffence": [65, 770, 228]}, {"outcomes": "no_reoffence"}, "column 'no_reoffence'"),
        ({}, {"design": "design"}, "column 'design'"),
        ({}, {"offences_per_reoffender": 0}, "argument 'offences_per_reoffender'"),
        ({}, {"offence": "shoplifting"}, "argument 'offence'"),
    ],
)
def test_portfolio_table_refuses_bad_input(change: dict, kwargs: dict, match: str) -> None:
    services = _services().assign(**change)
    with pytest.raises(InputError, match=match):
        portfolio_table(services, **kwargs)
