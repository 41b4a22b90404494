"""Figures for reports: matplotlib → deterministic inline SVG with alt text.

The SVG keeps its text as text (``svg.fonttype = "none"``): it stays selectable, it scales on a
phone, and the build's identifier scan can read it.

**Identical bytes on any machine.** A last-bit difference in floating point (another CPU, another
BLAS) must not change a byte of a committed report. Two layers guarantee it:

1. the figure functions round what they plot before drawing (:data:`PLOT_SIGNIFICANT`
   significant digits; survival proportions to :data:`PROPORTION_DECIMALS` decimals; times to
   a grid of 1/10,000 of the follow-up), so nearly equal inputs draw exactly the same figure;
2. every number in the emitted SVG (path data, coordinates, transforms, the viewBox, stroke
   widths…) is written with :data:`SVG_DECIMALS` decimals (0.01 pt, invisible), so a
   difference far below that in layout arithmetic disappears too.

Element ids come from a fixed ``svg.hashsalt`` per figure (also keeping them unique within a
page), the metadata carries no creation date, and layout uses the DejaVu Sans metrics bundled
with matplotlib.

**Phones.** Report figures are laid out for a 360 px screen: the page leaves
:data:`PHONE_CONTENT_PX` px for a figure, which scales with the page, and every piece of chart
text must then be at least :data:`MIN_TEXT_PX` CSS px. :func:`km_figure` and
:func:`forest_figure` are drawn narrow (about 4.3 inches) with 11 pt text; :func:`figure`
measures any other figure and narrows it until its smallest text passes (see
:func:`phone_text_px`). On a wide screen the stylesheet caps figures at 30rem, where their text
is about body size. The numbers at risk stay in the survival chart, in text of the same size.

**Contrast.** Lines and bands use the Okabe–Ito colours (:data:`PALETTE`); text drawn in a group's
colour uses :data:`TEXT_PALETTE`, the same hues darkened to at least 4.5:1 against white.
"""

from __future__ import annotations

import dataclasses
import html
import io
import itertools
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evalkit.errors import InputError
from evalkit.report.components import Fragment
from evalkit.report.disclosure import SUPPRESSED, Disclosure

__all__ = [
    "MIN_TEXT_PX",
    "PALETTE",
    "PHONE_CONTENT_PX",
    "SVG_DECIMALS",
    "TEXT_PALETTE",
    "contrast_ratio",
    "figure",
    "forest_figure",
    "km_figure",
    "phone_text_px",
    "protect_figure_counts",
    "report_style",
]

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
"""Okabe & Ito (2008) colour-blind-safe colours for lines and areas, darkest first (all but the
last two have at least 3:1 contrast with white, as WCAG 2.1 asks of graphics)."""

SVG_DECIMALS = 2
"""Decimals kept for every number in a figure's SVG (user units are points: 0.01 pt)."""

PROPORTION_DECIMALS = 4
"""Decimals kept for plotted proportions (survival and its limits) before drawing."""

PLOT_SIGNIFICANT = 5
"""Significant digits kept for other plotted values (estimates, limits) before drawing."""

PHONE_CONTENT_PX = 336
"""Width in CSS px that a figure gets on a 360 px screen (the page has 12 px side padding)."""

MIN_TEXT_PX = 12.0
"""Smallest chart text allowed on that screen, in CSS px."""

_FONT = 11.0  # pt: the size of every piece of text in the figures made here
_NARROW = 4.3  # inches: the width of the figures made here

_counter = itertools.count(1)


# --------------------------------------------------------------------------------------------
# colours
# --------------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    h = colour.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(colour: str, background: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21).

    Examples
    --------
    >>> round(contrast_ratio("#D55E00"), 2)
    3.87
    """
    a, b = _luminance(colour), _luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def _text_colour(colour: str, minimum: float = 4.6) -> str:
    """``colour`` darkened towards black in 2% steps until it reaches ``minimum``:1 on white."""
    h = colour.lstrip("#")
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    for step in range(51):
        scaled = "#" + "".join(f"{round(c * (1 - 0.02 * step)):02X}" for c in rgb)
        if contrast_ratio(scaled) >= minimum:
            return scaled
    return "#000000"


TEXT_PALETTE: tuple[str, ...] = tuple(_text_colour(c) for c in PALETTE)
""":data:`PALETTE` darkened for text: each at least 4.5:1 on white (WCAG 2.1 AA, small text)."""


def report_style() -> dict[str, Any]:
    """matplotlib rcParams used for report figures (pass to ``matplotlib.rc_context``).

    The same settings as ``templates/matplotlibrc``, which the build gives the kernel.
    """
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": _FONT,
        "axes.titlesize": _FONT,
        "axes.labelsize": _FONT,
        "xtick.labelsize": _FONT,
        "ytick.labelsize": _FONT,
        "legend.fontsize": _FONT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#333333",
        "axes.labelcolor": "#1a1a1a",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "text.color": "#1a1a1a",
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "figure.figsize": (_NARROW, 3.2),
        "figure.dpi": 100,
        "svg.fonttype": "none",
    }


# --------------------------------------------------------------------------------------------
# SVG post-processing
# --------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w#.\-])-?(?:\d+\.?\d*|\.\d+)(?=px|pt|%|[^\w.]|$)")
_ATTRIBUTE = re.compile(r'(\s)([\w:.-]+)="([^"]*)"')
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_KEEP = frozenset({"id", "class", "href", "xlink:href", "role", "version", "focusable"})


def _quantise_number(token: str) -> str:
    text = f"{float(token):.{SVG_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _quantise_svg(svg: str) -> str:
    """Every number in the SVG's attributes (not its text) to :data:`SVG_DECIMALS` decimals.

    Colours (``#0072b2``), ids and references are left alone; so is the text of ``<text>`` and
    ``<title>`` elements, which is content, not geometry.
    """

    def attribute(m: re.Match[str]) -> str:
        name, value = m.group(2), m.group(3)
        if name in _KEEP or name.startswith(("aria-", "xmlns")):
            return m.group(0)
        return f'{m.group(1)}{name}="{_NUMBER.sub(lambda n: _quantise_number(n.group(0)), value)}"'

    return _TAG.sub(lambda t: _ATTRIBUTE.sub(attribute, t.group(0)), svg)


def _clean_svg(svg: str, label: str, uid: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = _quantise_svg(svg)
    # matplotlib names clip paths and markers by a hash of their unrounded geometry
    # ("p1f2e3d4c5b"): number them in order of appearance instead
    hashed = dict.fromkeys(re.findall(r'\bid="([a-z][0-9a-f]{10})"', svg))
    names = {h: f"{h[0]}{k}" for k, h in enumerate(hashed, 1)}
    svg = re.sub(
        r'(?<=["#])([a-z][0-9a-f]{10})(?=[")])', lambda m: names.get(m.group(1), m.group(1)), svg
    )
    # responsive: keep the viewBox, drop the fixed size; label the image for assistive tech
    svg = re.sub(
        r"<svg([^>]*?)\s+width=\"[^\"]*\"\s+height=\"[^\"]*\"",
        lambda m: f"<svg{m.group(1)}",
        svg,
        count=1,
    )
    title_id = f"{uid}-title"
    svg = re.sub(
        r"<svg([^>]*)>",
        lambda m: (
            f'<svg{m.group(1)} role="img" aria-labelledby="{title_id}" focusable="false">'
            f'<title id="{title_id}">{html.escape(label)}</title>'
        ),
        svg,
        count=1,
    )
    # ids must be unique in the page: prefix every id and every reference to one
    svg = re.sub(
        r'\bid="(?!' + re.escape(uid) + r')([^"]+)"', lambda m: f'id="{uid}-{m.group(1)}"', svg
    )
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{uid}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{uid}-{m.group(1)})", svg)
    return svg.strip()


def phone_text_px(svg: str, *, width_px: float = PHONE_CONTENT_PX) -> float:
    """The size in CSS px of the smallest text of ``svg`` when the figure is ``width_px`` wide.

    The figure scales with the page (``width: 100%`` of the text column), so text of ``f``
    user units in a viewBox ``w`` units wide is ``f * width_px / w`` px. Returns ``inf`` for a
    figure without text.
    """
    box = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"', svg)
    sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
    if box is None or not sizes:
        return math.inf
    return min(sizes) * width_px / float(box.group(1))


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
# figures
# --------------------------------------------------------------------------------------------


def _render(fig: Any, uid: str) -> str:
    import matplotlib as mpl

    buf = io.StringIO()
    rc: dict[str, Any] = {
        "svg.hashsalt": f"evalkit-{uid}",
        "svg.id": f"{uid}-svg",
        "svg.fonttype": "none",
    }
    with mpl.rc_context(rc):  # type: ignore[arg-type]
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return buf.getvalue()


def _fit_phone(fig: Any, uid: str) -> str:
    """Render ``fig``, narrowing it until its smallest text is readable on a phone."""
    import warnings

    svg = _render(fig, uid)
    for _ in range(6):
        px = phone_text_px(svg)
        if px >= MIN_TEXT_PX - 1e-9:
            return svg
        box = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"', svg)
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
        assert box is not None
        width_pt = float(box.group(1))
        target_pt = min(sizes) * PHONE_CONTENT_PX / MIN_TEXT_PX - 2.0
        w_in, h_in = fig.get_size_inches()
        # text keeps its size, so the excess comes off the plotting area
        new_w = w_in - (width_pt - target_pt) / 72.0
        if new_w < 1.5:
            break
        # keep the shape (text keeps its size, so the plot gets relatively shorter)
        fig.set_size_inches(new_w, max(h_in * new_w / w_in, min(h_in, 2.5)))
        if fig.get_layout_engine() is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig.tight_layout()
        svg = _render(fig, uid)
    raise InputError(
        "fig",
        f"its smallest text would be {phone_text_px(svg):.1f} px on a 360 px phone screen "
        f"(at least {MIN_TEXT_PX:g} px is needed) even when narrowed; use fewer or larger "
        "labels, or a larger font size",
    )


def figure(
    fig: Any,
    *,
    alt: str,
    caption: str,
    disclosure: Disclosure | None = None,
    close: bool = True,
) -> Fragment:
    """A matplotlib figure as an accessible, byte-stable report figure.

    Parameters
    ----------
    fig
        A ``matplotlib.figure.Figure`` (or an ``Axes``, whose figure is used).
    alt
        Text alternative: what the figure shows and what a reader should take from it
        (e.g. "Kaplan-Meier curves: the aid group stays above the control group from week 10").
        Required.
    caption
        Visible caption.
    disclosure
        Applied to the at-risk numbers that :func:`evalkit.plotting.plot_km` draws (default:
        threshold 5).
    close
        Close the figure after rendering (default), so it is not drawn twice.

    Notes
    -----
    Every number in the SVG is written with :data:`SVG_DECIMALS` decimals, so the bytes do not
    depend on the last bits of the plotted values. A figure whose smallest text would be below
    :data:`MIN_TEXT_PX` px on a 360 px phone is made narrower (its text keeps its size; a figure
    without a layout engine is re-laid out with ``tight_layout``); one that cannot be narrowed
    enough is refused with an :class:`~evalkit.errors.InputError`.

    Counts drawn in other ways (bar labels, annotations) and counts written into ``alt`` are
    not recognised as counts: pass them through :meth:`Disclosure.count` first. In particular,
    do not reuse ``ax.alt_text`` from :func:`evalkit.plotting.plot_km`, which gives raw group
    sizes and event counts; :func:`km_figure` writes a protected description.
    """
    import matplotlib.pyplot as plt

    if hasattr(fig, "get_figure") and not hasattr(fig, "savefig"):
        fig = fig.get_figure()
    if not hasattr(fig, "savefig"):
        raise InputError("fig", f"must be a matplotlib Figure, not {type(fig).__name__}")
    if not alt.strip():
        raise InputError("alt", "every figure needs alt text describing what it shows")
    if not caption.strip():
        raise InputError("caption", "every figure needs a caption")
    protect_figure_counts(fig, disclosure)
    uid = f"fig{next(_counter)}"
    try:
        raw = _fit_phone(fig, uid)
    finally:
        if close:
            plt.close(fig)
    svg = _clean_svg(raw, alt, uid)
    body = (
        f'<figure class="chart" id="{uid}">\n{svg}\n'
        f"<figcaption>{html.escape(caption)}</figcaption>\n</figure>"
    )
    return Fragment(body, kind="figure")


AT_RISK_GID = "evalkit-at-risk"  # the gid evalkit.plotting gives at-risk numbers


def protect_figure_counts(fig: Any, disclosure: Disclosure | None = None) -> int:
    """Apply disclosure control to the at-risk numbers drawn under survival curves.

    :func:`evalkit.plotting.plot_km` tags each at-risk number with a ``gid`` beginning
    ``"evalkit-at-risk"``; small ones become ``[c]`` and, with rounding, the rest are rounded.
    Returns how many numbers were withheld.
    """
    from matplotlib.text import Text

    disclosure = disclosure if disclosure is not None else Disclosure()
    withheld = 0
    for text in fig.findobj(Text):
        gid = text.get_gid()
        if not gid or not str(gid).startswith(AT_RISK_GID):
            continue
        raw = text.get_text().replace(",", "")
        try:
            n = int(float(raw))
        except ValueError:
            continue
        if disclosure.is_small(n):
            text.set_text(SUPPRESSED)
            withheld += 1
        else:
            text.set_text(f"{disclosure.rounded(n):,}")
    return withheld


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
            f"{100 * share:.0f}% of follow-up{meaning_text}.",
            end,
        )
    opposite = int(np.flatnonzero(sign == -final)[-1])
    start = float(grid[opposite + 1 + int(np.argmax(sign[opposite + 1 :] == final))])
    return (
        f"The curves cross: the {a} curve is above for {100 * above_a:.0f}% of follow-up and "
        f"the {b} curve for {100 * above_b:.0f}%; from {_point(start, unit, km.time)} {span}, "
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
    state = measure[len("proportion ") :] if measure.lower().startswith("proportion ") else None
    meaning = f"a larger proportion {state}" if state else "fewer events so far"
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
    lower: str = "lower",
    upper: str = "upper",
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
