"""The claim checker: intervals across denominators, the bias rules and the recommended design."""

from __future__ import annotations

import math

import pytest

from evalkit.claims import BASELINES, check_claim
from evalkit.errors import InputError

# R 4.x: prop.test(87, 100, correct = FALSE)$conf.int (the Wilson score interval)
WILSON_87_100 = (0.790196, 0.922428)
# R: prop.test(c(51, 25), c(100, 100), correct = FALSE) gives the Wald-free score test; the
# Newcombe hybrid score limits for 51/100 − 25/100 follow from the two Wilson intervals
# (Newcombe 1998, method 10): 0.26 − sqrt((0.51 − l1)^2 + (u0 − 0.25)^2), etc.


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) interval in closed form, written out independently of evalkit."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_known_denominator_gives_the_wilson_interval() -> None:
    c = check_claim("87 of 100 did not reoffend", 0.87, denominator=100)
    row = c.to_frame().iloc[0]
    assert (row["lower"], row["upper"]) == pytest.approx(WILSON_87_100, abs=1e-6)
    assert (row["lower"], row["upper"]) == pytest.approx(_wilson(87, 100), rel=1e-12)
    assert c.denominator_known
    assert not any(b.startswith("Unknown denominator") for b in c.biases)


def test_unknown_denominator_shows_how_precision_depends_on_it() -> None:
    c = check_claim("87% did not reoffend", 0.87)
    table = c.to_frame()
    assert list(table["denominator"]) == [25, 50, 100, 200, 400, 800]
    widths = (table["upper"] - table["lower"]).to_numpy()
    assert (widths[1:] < widths[:-1]).all()  # more people, narrower interval
    assert any(b.startswith("Unknown denominator") for b in c.biases)


def test_a_count_is_turned_into_rates_over_plausible_starters() -> None:
    c = check_claim("309 maintaining abstinence", 309, kind="count", counted="engaged")
    table = c.to_frame()
    assert table["denominator"].min() == 309 and table["denominator"].max() == 5 * 309
    assert table["estimate"].iloc[0] == 1.0
    assert table["estimate"].iloc[-1] == pytest.approx(0.2)
    assert any(b.startswith("A count, not a rate") for b in c.biases)
    # counts of people are written with thousands separators, as in the report tables
    assert "if between 309 and 1,545 started" in c.supports[0]


def test_a_count_above_the_denominator_is_refused() -> None:
    with pytest.raises(InputError, match="argument 'denominator'"):
        check_claim("309 maintaining abstinence", 309, kind="count", denominator=200)


def test_a_change_uses_newcombes_interval() -> None:
    c = check_claim(
        "continuation rose from 25% to 51%",
        0.51,
        kind="change",
        before=0.25,
        denominator=100,
        before_denominator=100,
        comparison="before",
    )
    row = c.to_frame().iloc[0]
    l1, u1 = _wilson(51, 100)
    l0, u0 = _wilson(25, 100)
    d = 0.26
    lower = d - math.sqrt((0.51 - l1) ** 2 + (u0 - 0.25) ** 2)
    upper = d + math.sqrt((u1 - 0.51) ** 2 + (0.25 - l0) ** 2)
    assert (row["estimate"], row["lower"], row["upper"]) == pytest.approx(
        (d, lower, upper), rel=1e-9
    )
    starts = [b.split(":")[0] for b in c.biases]
    assert "Regression to the mean and trend" in starts
    assert "No comparison group" in starts
    assert "interrupted time series" in c.design


def test_per_protocol_claims_are_flagged_and_itt_claims_are_not() -> None:
    engaged = check_claim("87% of those engaged", 0.87, counted="engaged", denominator=200)
    referred = check_claim("70% of those referred", 0.70, counted="referred", denominator=200)
    assert any(b.startswith("Per-protocol") for b in engaged.biases)
    assert any(b.startswith("Immortal time") for b in engaged.biases)
    assert not any(b.startswith(("Per-protocol", "Immortal")) for b in referred.biases)


def test_a_matched_comparison_is_not_called_no_comparison() -> None:
    c = check_claim("x", 0.6, denominator=200, comparison="matched", horizon_days=365)
    assert not any(b.startswith("No comparison") for b in c.biases)
    assert not any(b.startswith("Short horizon") for b in c.biases)


def test_short_horizon_is_flagged() -> None:
    c = check_claim("x", 0.87, denominator=200, horizon_days=182)
    assert any(b.startswith("Short horizon: 182 days") for b in c.biases)


def test_minimum_detectable_effect_at_the_schemes_size() -> None:
    # the same number as evalkit.mde_two_proportions for 300 vs 300 at the national rate
    from evalkit import mde_two_proportions

    base = BASELINES["proven reoffending, custody under 12 months"][0]
    c = check_claim(
        "x",
        0.5,
        denominator=300,
        baseline="proven reoffending, custody under 12 months",
        scheme_size=300,
    )
    expected = 100 * (base - float(mde_two_proportions(base, 300, 300)))
    assert c.mde == pytest.approx(expected)
    assert 5 < c.mde < 15
    assert f"{c.mde:.1f}" in c.design


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"kind": "rate"}, "kind"),
        ({"counted": "everyone"}, "counted"),
        ({"comparison": "national average"}, "comparison"),
        ({"conf_level": "0.95"}, "conf_level"),
        ({"baseline": "reoffending"}, "baseline"),
        ({"horizon_days": 0}, "horizon_days"),
    ],
)
def test_bad_options_name_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(InputError, match=f"argument '{argument}'"):
        check_claim("x", 0.5, **kwargs)


def test_a_change_needs_the_earlier_figure() -> None:
    with pytest.raises(InputError, match="argument 'before'"):
        check_claim("x", 0.51, kind="change")


def test_an_outcome_other_than_reoffending_is_flagged() -> None:
    # Fresh Start: "309 ex-offenders who are maintaining abstinence" — no reoffending outcome
    c = check_claim(
        "309 ex-offenders who are maintaining abstinence",
        309,
        kind="count",
        counted="engaged",
        outcome="were maintaining abstinence",
        reoffending=False,
        baseline=0.40,
        scheme_size=700,
    )
    flagged = [b for b in c.biases if b.startswith("Not a reoffending outcome")]
    assert len(flagged) == 1 and "were maintaining abstinence" in flagged[0]
    assert c.supports[0].startswith("309 people were maintaining abstinence")
    # a reoffending figure is not flagged (the default)
    plain = check_claim("87% did not reoffend", 0.87, denominator=200)
    assert not any(b.startswith("Not a reoffending outcome") for b in plain.biases)


def test_reoffending_must_be_a_flag() -> None:
    with pytest.raises(InputError, match="argument 'reoffending'"):
        check_claim("x", 0.5, reoffending="no")
