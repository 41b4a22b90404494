"""Survival and forest charts for reports, drawn with the conventions of
:mod:`evalkit.report.figures` (deterministic SVG, phone-sized text, Okabe–Ito colours).

:func:`km_figure` draws Kaplan–Meier curves with numbers at risk and describes them in words
(the alt text states which group fared better and when); :func:`forest_figure` draws estimates
with their intervals on a log or linear axis. Both round what they plot first (see the rounding
rules in :mod:`evalkit.report.figures`), so a last-bit change in the inputs draws the same bytes.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evalkit.report.components import Fragment
from evalkit.report.disclosure import Disclosure
from evalkit.report.figures import (
    _FONT,
    _NARROW,
    AT_RISK_GID,
    PALETTE,
    PLOT_SIGNIFICANT,
    PROPORTION_DECIMALS,
    TEXT_PALETTE,
    figure,
    report_style,
)

__all__ = ["forest_figure", "km_figure"]

# --------------------------------------------------------------------------------------------
# rounding what is plotted
# --------------------------------------------------------------------------------------------


def _round_sig(values: Any, digits: int = PLOT_SIGNIFICANT) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (exact decimal rounding, NaN kept)."""
    arr = np.asarray(values, dtype=float)
    flat = [float(f"{v:.{digits}g}") if np.isfinite(v) else v for v in arr.ravel()]
    return np.asarray(flat, dtype=float).reshape(arr.shape)


def _time_decimals(t_max: float) -> int:
    """Decimals that keep times to 1/10,000 of the follow-up (at least whole units)."""
    if not np.isfinite(t_max) or t_max <= 0:
        return 4
    return max(0, 4 - math.floor(math.log10(float(f"{t_max:.3g}"))))


def _round_times(values: Any, decimals: int) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), decimals) + 0.0  # + 0.0: no -0.0


def _rounded_km(km: Any) -> tuple[Any, int]:
    """A copy of a Kaplan–Meier result whose curve holds the rounded values that are drawn."""
    curve = km.curve.copy()
    decimals = _time_decimals(float(curve["time"].max()) if len(curve) else 1.0)
    curve["time"] = _round_times(curve["time"], decimals)
    for col in ("survival", "lower", "upper", "se"):
        if col in curve.columns:
            curve[col] = np.round(curve[col].to_numpy(dtype=float), PROPORTION_DECIMALS) + 0.0
    if km.weighted:
        for col in ("at_risk", "events", "censored"):
            if col in curve.columns:
                curve[col] = _round_sig(curve[col], 9)
    # times that differ only in their last bits become one step, as if they had been tied:
    # the curve after it, the number at risk before it, the events and censorings summed
    # (the curve is sorted by group, then time, so equal rounded times are adjacent)
    group_of = np.repeat(np.arange(len(km.groups)), np.diff(np.asarray(km._bounds)))
    t = curve["time"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, (np.diff(t) != 0) | (np.diff(group_of) != 0)])
    if len(starts) < len(curve):
        ends = np.r_[starts[1:], len(curve)] - 1
        merged = curve.iloc[ends].reset_index(drop=True)
        merged["at_risk"] = curve["at_risk"].to_numpy()[starts]
        for col in ("events", "censored"):
            if col in curve.columns:
                merged[col] = np.add.reduceat(curve[col].to_numpy(), starts)
        sizes = np.bincount(group_of[starts], minlength=len(km.groups))
        bounds = np.r_[0, np.cumsum(sizes)].astype(np.intp)
        return dataclasses.replace(km, curve=merged, _bounds=bounds), decimals
    return dataclasses.replace(km, curve=curve), decimals


# --------------------------------------------------------------------------------------------
# survival curves
# --------------------------------------------------------------------------------------------

_UNITS = {"second", "minute", "hour", "day", "week", "month", "quarter", "year"}


def _time_unit(xlabel: str | None) -> str | None:
    """``"weeks"`` from "Weeks since release"; ``None`` when the label names no unit."""
    if not xlabel:
        return None
    first = xlabel.strip().split()[0].lower().rstrip(",:;")
    singular = first[:-1] if first.endswith("s") else first
    return singular if singular in _UNITS else None


def _when(t: float, unit: str | None, time_name: str) -> str:
    """A duration for "at …": "52 weeks", "1 day", or "week 52" when no unit is known."""
    if unit is None:
        return f"{time_name} {t:g}"
    return f"{t:g} {unit}{'' if t == 1 else 's'}"


def _point(t: float, unit: str | None, time_name: str) -> str:
    """A point in follow-up for "from … to …": "week 1", "day 91"."""
    return f"{unit or time_name} {t:g}"


def _pct(x: float, hidden: bool = False) -> str:
    if hidden:
        return "not given (small group)"
    return "not known (follow-up had ended)" if not np.isfinite(x) else f"{100 * x:.0f}%"


def _share(x: float) -> str:
    """A share of follow-up as a whole percentage that never rounds a real stretch to 0% or 100%."""
    if 0 < x < 0.005:
        return "less than 1%"
    if 0.995 < x < 1:
        return "more than 99%"
    return f"{100 * x:.0f}%"


def _step_values(km: Any, times: np.ndarray) -> list[np.ndarray]:
    """Each group's survival at ``times`` (1 before its first event; NaN past follow-up)."""
    at = km.at(times)
    return [at.loc[at["group"] == g, "survival"].to_numpy(dtype=float) for g in km.groups]


def _order_sentence(
    km: Any, names: Mapping[Any, str], unit: str | None, meaning: str, hidden: Sequence[bool]
) -> tuple[str, float]:
    """Which curve is higher over follow-up, for two groups; also the common end of follow-up."""
    curve = km.curve
    ends = [float(curve.loc[curve["group"] == g, "time"].max()) for g in km.groups]
    end = min(ends)
    if km.by is None or len(km.groups) < 2:
        return "", end
    grid = np.unique(np.r_[0.0, curve["time"].to_numpy(dtype=float)])
    grid = grid[grid <= end]
    if len(km.groups) > 2:
        last = _step_values(km, np.array([end]))
        order = sorted(range(len(km.groups)), key=lambda i: -last[i][0])
        ranked = ", ".join(f"{names[km.groups[i]]} ({_pct(last[i][0], hidden[i])})" for i in order)
        when = _when(end, unit, km.time)
        return f"At {when}, the curves from highest to lowest: {ranked}.", end
    sa, sb = _step_values(km, grid)
    diff = sa - sb
    sign = np.where(np.abs(diff) < 1e-9, 0, np.sign(diff)).astype(int)
    widths = np.diff(np.r_[grid, end])
    total = float(widths.sum()) or 1.0
    a, b = (names[g] for g in km.groups)
    span = f"to {_point(end, unit, km.time)} (the end of follow-up)"
    if not sign.any():
        return "The two curves are the same throughout follow-up.", end
    above_a = float(widths[sign > 0].sum()) / total
    above_b = float(widths[sign < 0].sum()) / total
    nonzero = sign[sign != 0]
    final = int(nonzero[-1])
    hi, lo = (a, b) if final > 0 else (b, a)
    meaning_text = f" (a higher curve means {meaning})"
    if (nonzero == final).all():
        first = int(np.argmax(sign == final))
        if (sign[first:] == final).all():
            return (
                f"The {hi} curve is above the {lo} curve from "
                f"{_point(float(grid[first]), unit, km.time)} {span}{meaning_text}.",
                end,
            )
        share = above_a if final > 0 else above_b
        return (
            f"The {hi} curve is never below the {lo} curve, and is above it for "
            f"{_share(share)} of follow-up{meaning_text}.",
            end,
        )
    opposite = int(np.flatnonzero(sign == -final)[-1])
    start = float(grid[opposite + 1 + int(np.argmax(sign[opposite + 1 :] == final))])
    split = f"the {a} curve is above for {_share(above_a)} of follow-up and the {b} curve for "
    split += _share(above_b)
    if start >= end:
        # the last crossing is the last moment of follow-up: no stretch "from … to …" to name
        closing = (
            f"they cross for the last time at {_point(end, unit, km.time)}, the end of follow-up,"
        )
        return (
            f"The curves cross: {split}; {closing} where the {hi} curve ends above{meaning_text}.",
            end,
        )
    return (
        f"The curves cross: {split}; from {_point(start, unit, km.time)} {span}, "
        f"the {hi} curve is above{meaning_text}.",
        end,
    )


def _km_alt_text(
    km: Any,
    names: Mapping[Any, str],
    *,
    disclosure: Disclosure,
    landmarks: Sequence[float],
    unit: str | None,
    xlabel: str,
    ylabel: str,
) -> str:
    """Alt text for Kaplan–Meier curves, from the (rounded) result: no small counts."""
    measure = ylabel.strip()
    noun = next((w for w in ("proportion", "share") if measure.lower().startswith(w + " ")), None)
    state = measure[len(noun) + 1 :] if noun else None
    meaning = f"a larger {noun} {state}" if noun else "fewer events so far"
    groups = list(km.groups)
    who = "everyone" if km.by is None else _join([names[g] for g in groups])
    # a proportion of a group below the disclosure threshold could give away its counts
    hidden = [disclosure.is_small(int(n)) for n in km.counts["n"]]
    order, end = _order_sentence(km, names, unit, meaning, hidden)
    parts = [
        f"Kaplan–Meier curves of the {measure[:1].lower() + measure[1:]} by "
        f"{xlabel[:1].lower() + xlabel[1:]}, from 0 to {end:g}, for {who}."
    ]
    if order:
        parts.append(order)
    marks = [float(t) for t in landmarks]
    shown = [i for i in range(len(groups)) if not hidden[i]]
    if marks and shown:
        values = _step_values(km, np.asarray(marks, dtype=float))
        clauses = []
        for j, t in enumerate(marks):
            if km.by is None:
                body = _pct(values[0][j])
            elif j == 0:
                body = _join(
                    [f"{_pct(values[i][j])} of the {names[groups[i]]} group" for i in shown]
                )
            else:
                body = _join([_pct(values[i][j]) for i in shown])
            clauses.append(f"at {_when(t, unit, km.time)}, {body}")
        lead = (
            f"{clauses[0][0].upper()}{clauses[0][1:]}"
            + (f" were {state}" if state else f" ({measure.lower()})")
            + ("; " + "; ".join(clauses[1:]) if len(clauses) > 1 else "")
        )
        parts.append(lead + ".")
    small = [names[g] for i, g in enumerate(groups) if hidden[i]]
    if small:
        parts.append(
            f"Proportions for {_join(small)} are not given: fewer than "
            f"{disclosure.threshold} people."
        )
    sizes = "; ".join(
        ("" if km.by is None else f"{names[g]}: ")
        + f"{disclosure.count(int(km.counts['n'].iloc[i]))} people, "
        f"{disclosure.count(int(km.counts['events'].iloc[i]))} events"
        for i, g in enumerate(groups)
    )
    parts.append(f"{sizes[:1].upper()}{sizes[1:]}." if km.by is None else f"{sizes}.")
    parts.append(
        f"Shaded bands are {km.conf_level:.0%} confidence intervals; the rows under the chart "
        "give the numbers still at risk."
    )
    return " ".join(parts)


def _join(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width)) or text


def km_figure(
    km: Any,
    *,
    caption: str,
    disclosure: Disclosure | None = None,
    alt: str | None = None,
    labels: Mapping[Any, str] | None = None,
    risk_times: Sequence[float] | None = None,
    landmarks: Sequence[float] | None = None,
    time_unit: str | None = None,
    xlabel: str | None = None,
    ylabel: str = "Proportion not yet re-arrested",
    figsize: tuple[float, float] | None = None,
) -> Fragment:
    """Kaplan–Meier curves with an at-risk table, disclosure-controlled, as a report figure.

    The chart is laid out for a phone (4.3 inches wide, 11 pt text: at least 12 px on a 360 px
    screen); the legend sits above the plot, and under it each group's name (in a darkened
    version of its line colour, at least 4.5:1 contrast) heads its row of numbers at risk. The
    plotted values are rounded (proportions to 4 decimals, times to 1/10,000 of follow-up)
    before drawing, so that the SVG bytes do not depend on the last bits of the estimates.

    Parameters
    ----------
    km
        Result of :func:`evalkit.kaplan_meier`.
    caption
        Visible caption.
    disclosure
        Applied to the at-risk numbers and to the counts in the default alt text.
    alt
        Alt text. By default it is written from the result, in the words of ``labels``,
        ``xlabel`` and ``ylabel``: which curve is higher over follow-up (or where they cross),
        each group's proportion at the ``landmarks``, and the group sizes and event counts
        through ``disclosure`` (small counts are not given).
    labels
        Display names for the groups (e.g. ``{0: "No financial aid", 1: "Financial aid"}``).
    risk_times
        Times for the at-risk table (default: the x-axis ticks).
    landmarks
        Times whose proportions the default alt text gives (default: ``risk_times`` after 0).
    time_unit
        Unit of time for the alt text ("week" gives "at 52 weeks"); by default the first word
        of ``xlabel`` when it names one ("Weeks since release"), else the time column's name
        ("at week 52").
    xlabel, ylabel
        Axis labels (``xlabel`` defaults to the time column's name). A ``ylabel`` beginning
        "Proportion" also words the alt text ("… were not yet re-arrested").
    figsize
        Figure size in inches (default: 4.3 wide, height from the number of groups).
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    disclosure = disclosure if disclosure is not None else Disclosure()
    names = {g: str((labels or {}).get(g, str(g))) for g in km.groups}
    shown, decimals = _rounded_km(km)
    curve = shown.curve
    t_max = float(curve["time"].max()) if len(curve) else 1.0
    xlabel_text = xlabel if xlabel is not None else km.time
    n_groups = len(km.groups)
    size = figsize if figsize is not None else (_NARROW, 3.9 + 0.45 * n_groups)
    with mpl.rc_context(report_style()):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=size)
        shown.plot(
            ax=ax,
            risk_table=False,
            colors=list(PALETTE),
            xlabel=xlabel_text,
            ylabel=_wrap(ylabel, 30),
        )
        if risk_times is None:
            ticks = np.asarray(ax.get_xticks(), dtype=float)
            times = ticks[(ticks >= 0) & (ticks <= t_max)]
        else:
            times = np.asarray(list(risk_times), dtype=float)
        times = np.unique(_round_times(times, decimals))
        ax.set_xticks(times, [f"{t:g}" for t in times])
        ax.set_xlim(0, t_max * 1.02)
        handles, _ = ax.get_legend_handles_labels()
        if km.by is not None and handles:
            ax.legend(
                handles[:n_groups],
                [names[g] for g in km.groups],
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                borderaxespad=0.2,
                handlelength=1.6,
                frameon=False,
            )
        else:
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
        _at_risk_rows(ax, shown, times, names)
        fig.tight_layout()
        if alt is None:
            marks = (
                [float(t) for t in _round_times(landmarks, decimals)]
                if landmarks is not None
                else [float(t) for t in times if 0 < t <= t_max]
            )
            alt = _km_alt_text(
                shown,
                names,
                disclosure=disclosure,
                landmarks=marks,
                unit=time_unit.rstrip("s") if time_unit else _time_unit(xlabel_text),
                xlabel=xlabel_text,
                ylabel=ylabel,
            )
        return figure(fig, alt=alt, caption=caption, disclosure=disclosure)


def _at_risk_rows(ax: Any, km: Any, times: np.ndarray, names: Mapping[Any, str]) -> None:
    """The numbers at risk under the x axis: a heading, then per group its name over its row.

    Rows hang below the axes at fixed distances in points, clear of the x-axis label. Each
    number carries the ``gid`` ``"evalkit-at-risk|<group>|<time>"`` that
    :func:`protect_figure_counts` looks for.
    """
    at = km.at(times)
    line = _FONT * 1.3
    y = -(_FONT * 3.6 + 6.0)  # below tick labels and the axis label
    common: dict[str, Any] = {
        "xycoords": ("axes fraction", "axes fraction"),
        "textcoords": "offset points",
        "va": "center",
        "fontsize": _FONT,
        "annotation_clip": False,
    }
    ax.annotate(
        "Number at risk", xy=(0.0, 0.0), xytext=(0.0, y), ha="left", fontweight="bold", **common
    )
    for i, g in enumerate(km.groups):
        y -= line
        ax.annotate(
            names[g] if km.by is not None else "Everyone",
            xy=(0.0, 0.0),
            xytext=(0.0, y),
            ha="left",
            color=TEXT_PALETTE[i % len(TEXT_PALETTE)],
            **common,
        )
        y -= line
        rows = at[at["group"] == g]
        for t_val, n_val in zip(rows["time"], rows["at_risk"], strict=True):
            count = float(n_val)
            ax.annotate(
                f"{count:.0f}" if km.weighted else str(round(count)),
                xy=(float(t_val), 0.0),
                xytext=(0.0, y),
                ha="center",
                gid=f"{AT_RISK_GID}|{i}|{float(t_val)!r}",
                **{**common, "xycoords": ("data", "axes fraction")},
            )


# --------------------------------------------------------------------------------------------
# forest plots
# --------------------------------------------------------------------------------------------


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks for a log axis from ``lo`` to ``hi``, spaced so that their labels never touch.

    The sparsest of the series 10^k, 1-2-5 ×10^k and denser ones that puts at least three
    ticks on the axis, with no two closer than 12% of its width (it is narrow, for phones).
    """
    lo, hi = float(f"{lo:.6g}"), float(f"{hi:.6g}")
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= lo:
        return [1.0]
    choices = []
    for subs in (
        (1,),
        (1, 2, 5),
        (1, 2, 3, 5),
        (1, 1.5, 2, 3, 5, 7),
        (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8),
    ):
        ticks = [
            float(f"{m * 10.0**k:.6g}")
            for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in subs
        ]
        inside = sorted({t for t in ticks if lo <= t <= hi})
        gaps = np.diff(np.log10(inside)) / (math.log10(hi) - math.log10(lo))
        choices.append((inside, float(gaps.min()) if len(gaps) else 1.0))
    for inside, gap in choices:  # sparsest first: the first with three ticks wins
        if len(inside) >= 3 and gap >= 0.12:
            return inside
    return max(choices, key=lambda c: (c[1] >= 0.12, len(c[0])))[0] or [1.0]


def forest_figure(
    table: Any,
    *,
    caption: str,
    alt: str,
    estimate: str = "hr",
    lower: str = "hr_lower",
    upper: str = "hr_upper",
    labels: Mapping[str, str] | None = None,
    reference: float = 1.0,
    log_scale: bool = True,
    xlabel: str = "Hazard ratio (95% confidence interval, log scale)",
) -> Fragment:
    """Forest plot of estimates with confidence intervals (e.g. a Cox model's ``table``).

    Laid out for a phone like :func:`km_figure`: 4.3 inches wide, 11 pt text, long term labels
    and the axis label wrapped. Estimates and limits are rounded to 5 significant digits before
    drawing.

    Parameters
    ----------
    table
        DataFrame indexed by term with the estimate and limits.
    caption, alt
        Visible caption and alt text (required).
    estimate, lower, upper
        Column names.
    labels
        Display names for the terms.
    reference
        Value of no effect, drawn as a vertical line (1 for ratios, 0 for differences).
    log_scale
        Logarithmic x axis (for ratios).
    xlabel
        Axis label.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    labels = dict(labels or {})
    terms = list(table.index)
    est = _round_sig(table[estimate].to_numpy(dtype=float))
    lo = _round_sig(table[lower].to_numpy(dtype=float))
    up = _round_sig(table[upper].to_numpy(dtype=float))
    y = np.arange(len(terms))[::-1]
    with mpl.rc_context(report_style()):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(_NARROW, 0.55 * len(terms) + 1.3))
        ax.axvline(reference, color="#4a4a4a", linewidth=1, linestyle="--")
        ax.errorbar(
            est,
            y,
            xerr=[est - lo, up - est],
            fmt="s",
            color=PALETTE[0],
            ecolor=PALETTE[0],
            capsize=3,
            markersize=5,
        )
        ax.set_yticks(y, [_wrap(labels.get(str(t), str(t)), 18) for t in terms])
        if log_scale:
            from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

            ax.set_xscale("log")
            lo_lim, hi_lim = ax.get_xlim()
            ax.xaxis.set_major_locator(FixedLocator(_log_ticks(lo_lim, hi_lim)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(_wrap(xlabel, 30))
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return figure(fig, alt=alt, caption=caption)
