"""The verdict engine (evalkit.verdict) and its wording helpers (evalkit.wording).

Each rule of the engine's docstring has a test here; the Rossi figures are R-verified elsewhere
(test_survival, test_proportions) and used here only as inputs. Simulations with known truth
check that the engine states an effect about as often as it should.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.errors import InputError
from evalkit.report import judge, read_config
from evalkit.verdict import DESIGNS, Diagnostics, Measure, verdict
from evalkit.wording import fmt_number, fmt_p, fmt_ratio_range, per100, range_words

OUTCOME = "re-arrest within a year"


def rossi_primary() -> Measure:
    # Rossi et al. (1980): 48 of 216 with aid and 66 of 216 without were re-arrested
    return Measure.rate_difference(48, 216, 66, 216, outcome=OUTCOME)


def hr(est, lo, hi, p, name="hazard ratio"):
    return Measure(name, OUTCOME, est, lo, hi, p=p, kind="ratio", unit="")


# --------------------------------------------------------------------------------------------
# wording
# --------------------------------------------------------------------------------------------


def test_bounds_that_round_to_no_effect_keep_their_side():
    assert fmt_number(1.0027838, 2, null=1.0) == "1.003"
    assert fmt_number(0.9961, 2, null=1.0) == "0.996"
    assert fmt_number(0.69137, 2, null=1.0) == "0.69"
    assert fmt_number(-0.0151, 1, null=0.0) == "-0.02"
    assert fmt_number(-0.0, 1) == "0.0"  # never "-0.0"
    assert fmt_ratio_range(0.6914, 0.4767, 1.00278) == "0.69 (0.48 to 1.003)"


def test_p_values_near_0_05_show_their_side():
    assert fmt_p(0.05011611740900577) == "0.0501"  # Rossi log-rank, printed "0.050" before
    assert fmt_p(0.0496) == "0.0496"
    assert fmt_p(0.0004) == "< 0.001"
    assert fmt_p(0.00099) == "< 0.001"
    assert fmt_p(0.0123) == "0.012"
    assert fmt_p(0.2345) == "0.23"
    assert fmt_p(0.05000001) not in ("0.05", "0.050")


def test_ranges_in_words_start_nearest_to_no_effect():
    assert range_words(-0.1650, -0.000151) == "between 0.02 and 16.5 fewer"
    assert range_words(0.02, 0.10) == "between 2.0 and 10.0 more"
    assert range_words(-0.162, 0.014) == "between 1.4 more and 16.2 fewer"
    assert per100(-0.0833333) == "8.3 fewer"
    assert per100(0.0) == "no difference"


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------


def test_rossi_is_reduced_with_borderline_evidence_and_the_right_numbers():
    p = rossi_primary()
    # the p-value agrees with Newcombe's interval: just below 0.05, as the upper bound is
    # just below 0 (−0.000151)
    assert 0.045 < p.p < 0.05
    secondary = [hr(0.6914, 0.4767, 1.00278, 0.0517), hr(0.68, 0.47, 0.996, 0.047, "adjusted")]
    v = verdict(p, design="randomised", secondary=secondary, subject="financial aid")
    assert (v.conclusion, v.strength, v.rating, v.benefit) == ("reduced", "borderline", 5, True)
    assert "22.2%" in v.headline and "30.6%" in v.headline
    assert "8.3 fewer per 100" in v.headline and "between 0.02 and 16.5 fewer" in v.headline
    assert "borderline" in v.headline and "do not exclude no effect" in v.headline
    assert v.headline.startswith("Financial aid reduced re-arrest within a year")


def test_secondaries_that_disagree_cap_the_strength_at_weak():
    strong = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=0.0001)
    other = hr(0.8, 0.6, 1.05, 0.11)
    v = verdict(strong, design="randomised", secondary=[other])
    assert v.conclusion == "reduced" and v.strength == "weak"
    assert "other analyses of the same outcome" in v.headline
    # a secondary of another outcome does not count
    unrelated = Measure("hazard ratio", "employment", 0.8, 0.6, 1.05, p=0.11, kind="ratio")
    assert verdict(strong, design="randomised", secondary=[unrelated]).strength == "strong"


@pytest.mark.parametrize(
    ("diag", "why"),
    [
        (Diagnostics(n_programme=59, programme_events=40), "fewer than 60 people"),
        (Diagnostics(n_programme=200, programme_events=29), "fewer than 30 people"),
        (Diagnostics(min_expected=8.0), "expected count"),
    ],
)
def test_below_the_jdl_minimums_nothing_is_stated(diag, why):
    strong = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=0.0001)
    v = verdict(strong, design="matched", diagnostics=diag)
    assert v.conclusion == "not assessable" and v.strength == "none"
    assert why in v.headline and "cannot assess" in v.headline


def test_unbalanced_matching_cannot_state_an_effect_and_loses_a_level():
    strong = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=0.0001)
    diag = Diagnostics(max_smd_after=-0.17, worst_covariate="Previous proven offences")
    v = verdict(strong, design="matched", diagnostics=diag)
    assert v.conclusion == "not assessable" and v.rating == 2
    assert "Previous proven offences" in v.headline and "0.17" in v.headline
    assert v.meta()["max_smd_after"] == "0.17"
    vr = verdict(strong, design="matched", diagnostics=Diagnostics(vr_after=2.5))
    assert vr.conclusion == "not assessable" and "variance ratio 2.50" in vr.headline
    fine = verdict(strong, design="matched", diagnostics=Diagnostics(max_smd_after=0.04))
    assert fine.conclusion == "reduced" and fine.rating == 3


def test_unmatched_share_attrition_and_pretrends_lower_the_rating():
    m = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=0.0001)
    assert verdict(m, design="matched", diagnostics=Diagnostics(unmatched_share=0.2)).rating == 2
    assert verdict(m, design="randomised", diagnostics=Diagnostics(attrition_share=0.3)).rating == 4
    v = verdict(m, design="did", diagnostics=Diagnostics(pretrend_p=0.01))
    assert v.rating == 3 and any("not parallel" in r for r in v.reasons)
    assert verdict(m, design="none", diagnostics=Diagnostics(attrition_share=0.9)).rating == 1


def test_the_design_caps_strength_and_wording():
    m = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=1e-8)
    by_design = {d: verdict(m, design=d, subject="the scheme") for d in DESIGNS}
    assert by_design["randomised"].strength == "strong"
    assert by_design["did"].strength == "strong"
    assert by_design["matched"].strength == "moderate"
    assert by_design["unmatched"].strength == "weak"
    assert by_design["randomised"].headline.startswith("The scheme reduced")
    assert by_design["did"].headline.startswith("The scheme appears to have reduced")
    for d in ("matched", "unmatched", "before_after"):
        assert " was lower in the programme group than in the comparison group" in (
            by_design[d].headline
        )
        assert "reduced" not in by_design[d].headline


def test_an_interval_including_no_effect_is_no_clear_change():
    m = Measure.rate_difference(40, 200, 45, 200, outcome=OUTCOME)
    v = verdict(m, design="randomised")
    assert (v.conclusion, v.strength, v.benefit) == ("no clear change", "none", None)
    assert v.headline.startswith("The data cannot tell whether the scheme changed")
    assert "includes no effect" in v.headline


def test_harm_is_stated_as_an_increase():
    m = Measure("rate difference", OUTCOME, 0.2, 0.1, 0.3, p=0.0001)
    v = verdict(m, design="randomised")
    assert v.conclusion == "increased" and v.benefit is False
    good_up = Measure("RMST difference", OUTCOME, 20, 10, 30, p=0.0001, good="higher", unit="days")
    assert verdict(good_up, design="randomised").benefit is True


def test_bad_inputs_are_refused():
    m = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=0.01)
    with pytest.raises(InputError, match="design"):
        verdict(m, design="quasi")
    with pytest.raises(InputError, match="kind"):
        Measure("x", OUTCOME, 1, 0, 2, kind="odds")
    nan = Measure("rate difference", OUTCOME, float("nan"), -0.3, -0.1)
    assert verdict(nan, design="randomised").conclusion == "not assessable"


# --------------------------------------------------------------------------------------------
# the primary comes from the configuration
# --------------------------------------------------------------------------------------------


def _cfg(tmp_path, body):
    path = tmp_path / "a.toml"
    path.write_text('title = "t"\ndata_date = "2024"\n' + body, encoding="utf-8")
    return read_config(path)


def test_judge_takes_primary_and_design_from_the_configuration(tmp_path):
    cfg = _cfg(
        tmp_path,
        '[primary]\noutcome = "re-arrest within a year"\nmeasure = "rate difference"\n'
        'good = "lower"\n[design]\nkind = "randomised"\njustification = "Random assignment."\n',
    )
    v = judge(cfg, rossi_primary())
    assert v.design == "randomised" and v.prespecified == "[primary] of a.toml"
    assert "fixed in [primary] of a.toml before the results were seen" in v.detail
    with pytest.raises(InputError, match="names the hazard ratio"):
        cfg2 = _cfg(
            tmp_path,
            '[primary]\noutcome = "o"\nmeasure = "hazard ratio"\n'
            '[design]\nkind = "randomised"\njustification = "Random."\n',
        )
        judge(cfg2, rossi_primary())
    with pytest.raises(InputError, match="no \\[primary\\]"):
        judge(_cfg(tmp_path, ""), rossi_primary())


def test_design_without_a_justification_is_refused(tmp_path):
    with pytest.raises(InputError, match="justification"):
        _cfg(tmp_path, '[design]\nkind = "matched"\njustification = ""\n')
    placeholder = _cfg(
        tmp_path,
        '[primary]\noutcome = "o"\nmeasure = "rate difference"\n'
        '[design]\nkind = "matched"\njustification = "EDIT: say why"\n',
    )
    with pytest.raises(InputError, match="placeholder"):
        judge(placeholder, rossi_primary())
    with pytest.raises(InputError, match="kind must be one of"):
        _cfg(tmp_path, '[design]\nkind = "rct"\njustification = "x"\n')


# --------------------------------------------------------------------------------------------
# known truth
# --------------------------------------------------------------------------------------------


def _trial(rng, n, p0, p1):
    x1, x0 = rng.binomial(n, p1), rng.binomial(n, p0)
    return verdict(Measure.rate_difference(x1, n, x0, n, outcome=OUTCOME), design="randomised")


@pytest.mark.slow
def test_with_no_true_effect_a_change_is_stated_about_5_percent_of_the_time():
    rng = np.random.default_rng(20261130)
    conclusions = [_trial(rng, 300, 0.45, 0.45).conclusion for _ in range(2000)]
    stated = np.mean([c != "no clear change" for c in conclusions])
    # Newcombe's interval has close to nominal coverage: 5% ± 4 binomial SEs (0.49%)
    assert abs(stated - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 2000)


@pytest.mark.slow
def test_with_a_large_true_effect_a_reduction_is_stated_almost_always():
    rng = np.random.default_rng(7)
    verdicts = [_trial(rng, 500, 0.45, 0.30) for _ in range(300)]
    assert np.mean([v.conclusion == "reduced" for v in verdicts]) > 0.99
    assert all(v.benefit for v in verdicts if v.conclusion == "reduced")


def test_no_comparison_group_is_not_assessable_whatever_the_estimate():
    m = Measure("rate difference", OUTCOME, -0.2, -0.3, -0.1, p=1e-8)
    v = verdict(m, design="none", subject="the scheme")
    assert (v.conclusion, v.strength, v.rating, v.benefit) == ("not assessable", "none", 1, None)
    assert v.headline.startswith("This evaluation cannot assess the effect of the scheme")
    assert "no comparison group" in v.headline
    # with no estimate at all, the reasons say why once, not twice
    missing = Measure("rate difference", OUTCOME, float("nan"), float("nan"), float("nan"))
    reasons = verdict(missing, design="none").reasons
    assert [r for r in reasons if r.startswith("Not assessable")] == [
        "Not assessable: there is no comparison group, so no effect can be estimated."
    ]


def test_no_clear_change_of_a_ratio_is_not_called_a_difference():
    m = Measure("rate ratio", OUTCOME, 1.11, 0.91, 1.36, kind="ratio")
    v = verdict(m, design="before_after", subject="the scheme")
    assert v.conclusion == "no clear change"
    assert "a difference of" not in v.headline
    assert "rate ratio 1.11" in v.headline
