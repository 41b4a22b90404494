"""Report figures: identical bytes on any machine, readable on a phone, alt text from the data."""

from __future__ import annotations

import dataclasses
import itertools
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit import report as rp
from evalkit.report import figures
from evalkit.report.disclosure import Disclosure

matplotlib.use("Agg")

LABELS = {0: "No financial aid", 1: "Financial aid"}
TERMS = {
    "fin": "Financial aid",
    "age": "Age at release (per year)",
    "race": "Black",
    "wexp": "Full-time work experience",
    "mar": "Married",
    "paro": "Released on parole",
    "prio": "Prior convictions (per conviction)",
}


def _nudge(values, rel, rng):
    """``values`` moved by a relative ``rel``, each in a random direction (none when rel = 0)."""
    arr = np.asarray(values, dtype=float)
    return arr * (1.0 + rel * rng.choice([-1.0, 1.0], size=arr.shape))


def _nudge_frame(df: pd.DataFrame, rel: float, rng) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = _nudge(out[col], rel, rng)
    return out


def _report_figures(rel: float, seed: int, monkeypatch) -> list[str]:
    """The SVG of the figures the reports use, with every numeric input moved by ``rel``."""
    monkeypatch.setattr(figures, "_counter", itertools.count(1))  # same element ids each time
    rng = np.random.default_rng(seed)
    rossi = ek.datasets.load_rossi()
    # the data: every time moved the same way (moving tied times apart would be other data)
    rossi = rossi.assign(week=rossi["week"] * (1.0 + rel * (-1.0) ** seed))
    km = ek.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    # the estimates (times, survival, limits), each moved as another machine might compute it
    km = dataclasses.replace(
        km, curve=_nudge_frame(km.curve, rel, rng), table=_nudge_frame(km.table, rel, rng)
    )
    km_svg = rp.km_figure(
        km,
        caption="Proportion not yet re-arrested",
        labels=LABELS,
        risk_times=list(_nudge([0, 13, 26, 39, 52], rel, rng)),
        xlabel="Weeks since release",
    ).html

    fit = ek.cox(ek.datasets.load_rossi(), time="week", event="arrest", covariates=list(TERMS))
    forest_svg = rp.forest_figure(
        _nudge_frame(fit.table, rel, rng), labels=TERMS, caption="Hazard ratios", alt="Forest"
    ).html

    fig, ax = plt.subplots(figsize=(4.3, 3.0))
    x = _nudge(np.arange(1, 11), rel, rng)
    ax.plot(x, _nudge(np.sqrt(np.arange(1, 11)) / 3.0, rel, rng), marker="o")
    ax.bar(x, _nudge(np.linspace(0.1, 0.9, 10), rel, rng), width=0.4, alpha=0.5)
    ax.set_xlabel("Month")
    plain_svg = rp.figure(fig, alt="Line and bars", caption="Plain figure").html
    return [km_svg, forest_svg, plain_svg]


def test_figure_bytes_do_not_change_when_inputs_move_by_1e_12(monkeypatch):
    # Another machine with the same packages wrote 175.442187 where this one wrote 175.442188:
    # a last-bit difference in the estimates must not change a byte of a report.
    base = _report_figures(0.0, 0, monkeypatch)
    for seed in range(4):
        moved = _report_figures(1e-12, seed, monkeypatch)
        for name, before, after in zip(("km", "forest", "plain"), base, moved, strict=True):
            assert after == before, f"{name} figure changed (perturbation seed {seed})"


def _numbers_in_attributes(svg: str) -> list[str]:
    values = re.findall(r'\s(?!id=|class=|xlink:href=|aria-)[\w:-]+="([^"]*)"', svg)
    return [n for v in values for n in re.findall(r"(?<![\w#.-])-?\d+\.\d+", v)]


def test_every_number_in_figure_svg_has_at_most_two_decimals(monkeypatch):
    for svg in _report_figures(0.0, 0, monkeypatch):
        numbers = _numbers_in_attributes(svg)
        assert numbers, "the figure has coordinates"
        long = [n for n in numbers if len(n.split(".")[1]) > figures.SVG_DECIMALS]
        assert not long, long[:5]
        assert not re.search(r'id="[a-z][0-9a-f]{10}"', svg), "hash-named ids remain"


def _rendered_px(svg: str, width_px: float = 336.0) -> float:
    """Smallest text in CSS px when the SVG is ``width_px`` wide (360 px screen, 12 px padding)."""
    box = float(re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg).group(1))
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    return min(sizes) * width_px / box


def test_chart_text_is_at_least_12px_on_a_360px_phone(monkeypatch):
    svgs = _report_figures(0.0, 0, monkeypatch)
    # a figure made with matplotlib's defaults (6.4 inches, 10 pt) is narrowed to fit
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.bar(["programme", "comparison"], [0.31, 0.42])
    ax.set_ylabel("Proportion reoffending")
    svgs.append(rp.figure(fig, alt="Bars", caption="Wide figure").html)
    for svg in svgs:
        assert _rendered_px(svg) >= 12.0, _rendered_px(svg)
        assert figures.phone_text_px(svg) == pytest.approx(_rendered_px(svg))


def test_a_figure_whose_text_cannot_fit_a_phone_is_refused():
    fig, ax = plt.subplots(figsize=(6.4, 2.0))
    ax.set_xlabel("x" * 400, fontsize=5)
    with pytest.raises(ek.InputError, match="360 px phone"):
        rp.figure(fig, alt="Unreadable", caption="Too wide")


def _hex(colour: str) -> str:
    colour = colour.lower()
    return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])


def test_text_in_survival_charts_has_at_least_4_5_to_1_contrast():
    df = ek.datasets.load_rossi().assign(arm=lambda d: d["fin"] + 2 * (d["prio"] > 3))
    km = ek.kaplan_meier(df, time="week", event="arrest", by="arm")  # 4 groups: 4 colours
    svg = rp.km_figure(km, caption="Four groups", risk_times=[0, 26, 52]).html
    fills = set(re.findall(r"<text[^>]*fill: (#[0-9a-fA-F]{3,6})", svg))
    assert len(fills) >= 4  # the group names under the chart are coloured
    for colour in fills:
        assert figures.contrast_ratio(_hex(colour)) >= 4.5, colour
    for colour in figures.TEXT_PALETTE:
        assert figures.contrast_ratio(colour) >= 4.5, colour
    # the lines keep the Okabe-Ito colours
    assert "stroke: #d55e00" in svg and "stroke: #0072b2" in svg


def _alt(html_text: str) -> str:
    return re.search(r"<title[^>]*>(.*?)</title>", html_text, re.S).group(1)


def test_survival_alt_text_says_which_curve_is_higher_and_gives_the_landmark_values():
    rossi = ek.datasets.load_rossi()
    km = ek.kaplan_meier(rossi, time="week", event="arrest", by="fin")
    alt = _alt(
        rp.km_figure(
            km,
            caption="c",
            labels=LABELS,
            risk_times=[0, 13, 26, 39, 52],
            xlabel="Weeks since release",
        ).html
    )
    assert "The Financial aid curve is above the No financial aid curve" in alt
    at = km.at([13, 26, 52])
    s = {
        (g, t): round(100 * v)
        for g, t, v in zip(at["group"], at["time"], at["survival"], strict=True)
    }
    assert (
        f"At 13 weeks, {s[0, 13]}% of the No financial aid group and {s[1, 13]}% of the "
        "Financial aid group were not yet re-arrested" in alt
    )
    assert f"at 52 weeks, {s[0, 52]}% and {s[1, 52]}%" in alt
    assert s[1, 52] > s[0, 52]  # aid really is higher at the end

    # the other way round: the group without aid relabelled as the one above
    flipped = rossi.assign(fin=1 - rossi["fin"])
    km2 = ek.kaplan_meier(flipped, time="week", event="arrest", by="fin")
    alt2 = _alt(
        rp.km_figure(
            km2,
            caption="c",
            labels={0: "Group A", 1: "Group B"},
            risk_times=[0, 52],
            ylabel="Proportion without a proven reoffence",
            xlabel="Days since release",
        ).html
    )
    assert "The Group A curve is above the Group B curve" in alt2
    assert "were without a proven reoffence" in alt2
    assert f"At 52 days, {s[1, 52]}% of the Group A group and {s[0, 52]}%" in alt2


def test_survival_alt_text_describes_crossing_curves():
    # group "early" has events early and then none; "late" the other way round
    df = pd.DataFrame(
        {
            "time": [1, 2, 3, 20, 20, 20, 20, 20, 10, 11, 12, 13, 14, 20, 20, 20],
            "event": [1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0],
            "group": ["early"] * 8 + ["late"] * 8,
        }
    )
    km = ek.kaplan_meier(df, time="time", event="event", by="group")
    alt = _alt(rp.km_figure(km, caption="c", risk_times=[0, 5, 20]).html)
    assert "The curves cross" in alt
    # tied at 62.5% from time 12; the late group's next event puts the early curve above
    assert "from time 13 to time 20 (the end of follow-up), the early curve is above" in alt


def test_survival_alt_text_names_a_crossing_at_the_end_of_follow_up():
    # "a" is above from time 2 until the last time, when "b" loses fewer and ends above
    df = pd.DataFrame(
        {
            "time": [2, 3, 3, *([10] * 15), 5, 5],
            "event": [1, *([0] * 9), 1, 1, 1, 1, *([0] * 6)],
            "group": ["a"] * 10 + ["b"] * 10,
        }
    )
    km = ek.kaplan_meier(df, time="time", event="event", by="group")
    alt = _alt(rp.km_figure(km, caption="c", risk_times=[0, 5, 10]).html)
    assert "from time 10 to time 10" not in alt
    assert "they cross for the last time at time 10, the end of follow-up, where the a curve" in alt
    shares = _alt(
        rp.km_figure(
            km, caption="c", risk_times=[0, 10], ylabel="Share without a proven reoffence"
        ).html
    )
    assert "(a higher curve means a larger share without a proven reoffence)" in shares


def test_survival_alt_text_does_not_round_a_real_stretch_to_zero():
    # "b" is above only from time 1 to 2 of 400: 0.25% of follow-up, not "0%"
    n = 200
    df = pd.DataFrame(
        {
            "time": [1.0] + [400.0] * (n - 1) + [2.0] * 3 + [400.0] * (n - 3),
            "event": [1] + [0] * (n - 1) + [1] * 3 + [0] * (n - 3),
            "group": ["a"] * n + ["b"] * n,
        }
    )
    km = ek.kaplan_meier(df, time="time", event="event", by="group")
    alt = _alt(rp.km_figure(km, caption="c", risk_times=[0, 400]).html)
    assert "the b curve for less than 1%" in alt and " 0% of follow-up" not in alt


def test_survival_alt_text_gives_no_small_counts():
    df = pd.DataFrame(
        {
            "time": [5, 8, 9, 12, 15, 30, 30, 30, 30, 30, 30, 30, 4, 30, 30],
            "event": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
            "group": ["large"] * 12 + ["small"] * 3,
        }
    )
    km = ek.kaplan_meier(df, time="time", event="event", by="group")
    alt = _alt(rp.km_figure(km, caption="c", risk_times=[0, 10, 30]).html)
    assert "small: fewer than 5 people, fewer than 5 events" in alt
    assert "large: 12 people, 5 events" in alt
    assert not re.search(r"\b[1-4] (people|events)\b", alt)
    # a proportion of a group of three (67%) would give its counts away
    assert "67%" not in alt and "Proportions for small are not given: fewer than 5" in alt
    rounded = _alt(
        rp.km_figure(
            km, caption="c", risk_times=[0, 10, 30], disclosure=Disclosure(round_to=5)
        ).html
    )
    assert "large: 10 people, 5 events" in rounded
