"""Figures for reports: matplotlib → deterministic inline SVG with alt text.

The SVG keeps its text as text (``svg.fonttype = "none"``): it stays selectable, it scales on a
phone, and the build's identifier scan can read it. Byte-identical output comes from a fixed
``svg.hashsalt`` per figure (also keeping element ids unique within a page), no creation date in
the metadata, and the DejaVu Sans metrics bundled with matplotlib for layout.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.errors import InputError
from evalkit.report.components import Fragment
from evalkit.report.disclosure import SUPPRESSED, Disclosure

__all__ = [
    "PALETTE",
    "figure",
    "forest_figure",
    "km_figure",
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
"""Okabe & Ito (2008) colour-blind-safe colours, darkest first (all but the last two have at
least 3:1 contrast with white, as WCAG 2.1 asks of graphics)."""

_counter = itertools.count(1)


def report_style() -> dict[str, Any]:
    """matplotlib rcParams used for report figures (pass to ``matplotlib.rc_context``)."""
    from cycler import cycler

    return {
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "font.size": 10.0,
        "axes.titlesize": 11.0,
        "axes.labelsize": 10.0,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#333333",
        "axes.labelcolor": "#1a1a1a",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "text.color": "#1a1a1a",
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "figure.dpi": 100,
        "svg.fonttype": "none",
    }


def _clean_svg(svg: str, label: str, uid: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
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
    Counts drawn in other ways (bar labels, annotations) and counts written into ``alt`` are
    not recognised as counts: pass them through :meth:`Disclosure.count` first. In particular,
    do not reuse ``ax.alt_text`` from :func:`evalkit.plotting.plot_km`, which gives raw group
    sizes and event counts; :func:`km_figure` writes a protected description.
    """
    import matplotlib as mpl
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
    if close:
        plt.close(fig)
    svg = _clean_svg(buf.getvalue(), alt, uid)
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


def km_figure(
    km: Any,
    *,
    caption: str,
    disclosure: Disclosure | None = None,
    alt: str | None = None,
    labels: Mapping[Any, str] | None = None,
    risk_times: Sequence[float] | None = None,
    xlabel: str | None = None,
    ylabel: str = "Proportion not yet re-arrested",
    figsize: tuple[float, float] = (7.0, 4.8),
) -> Fragment:
    """Kaplan–Meier curves with an at-risk table, disclosure-controlled, as a report figure.

    Parameters
    ----------
    km
        Result of :func:`evalkit.kaplan_meier`.
    caption
        Visible caption.
    disclosure
        Applied to the at-risk numbers and to the counts in the default alt text.
    alt
        Alt text; by default a description naming each group's size, events and final
        proportion (counts protected).
    labels
        Display names for the groups (e.g. ``{0: "no aid", 1: "aid"}``).
    risk_times
        Times for the at-risk table (default: the x-axis ticks).
    xlabel, ylabel, figsize
        Passed to the plot.
    """
    import matplotlib.pyplot as plt

    disclosure = disclosure if disclosure is not None else Disclosure()
    names = {g: (labels or {}).get(g, str(g)) for g in km.groups}
    fig, ax = plt.subplots(figsize=figsize)
    km.plot(ax=ax, risk_times=risk_times, xlabel=xlabel, ylabel=ylabel)
    legend = ax.get_legend()
    if km.by is not None and legend is not None:
        for text in legend.get_texts():
            for g, label in names.items():
                if text.get_text() == str(g):
                    text.set_text(label)
        legend.set_title("")
        for text in ax.texts:
            if text.get_gid() is None and text.get_text() in {str(g) for g in names}:
                match = next(g for g in names if str(g) == text.get_text())
                text.set_text(names[match])
    if risk_times is not None:
        ax.set_xticks(list(risk_times))
    # group names of the at-risk table sit left of the axes: keep them clear of the first number
    for text in ax.texts:
        x, y = text.get_position()
        if text.get_gid() is None and text.get_horizontalalignment() == "right" and x < 0:
            text.set_position((x - 0.05, y))
    if alt is None:
        last = float(km.curve["time"].max())
        final = km.at([last])
        parts = []
        for i, g in enumerate(km.groups):
            n = disclosure.count(int(km.counts["n"].iloc[i]))
            ev = disclosure.count(int(km.counts["events"].iloc[i]))
            s = float(final["survival"].iloc[i])
            parts.append(f"{names[g]}: {n} people, {ev} events, {s:.0%} still without the event")
        alt = (
            f"Kaplan–Meier curves of the proportion without the event over {km.time}, "
            f"ending at {last:g}. "
            + "; ".join(parts)
            + ". Shaded bands are 95% confidence intervals; the table under the chart gives "
            "the numbers still at risk."
        )
    return figure(fig, alt=alt, caption=caption, disclosure=disclosure)


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
    import matplotlib.pyplot as plt
    import numpy as np

    labels = dict(labels or {})
    terms = list(table.index)
    est = table[estimate].to_numpy(dtype=float)
    lo = table[lower].to_numpy(dtype=float)
    up = table[upper].to_numpy(dtype=float)
    y = np.arange(len(terms))[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 0.45 * len(terms) + 1.2))
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
    ax.set_yticks(y, [labels.get(str(t), str(t)) for t in terms])
    if log_scale:
        ax.set_xscale("log")
        from matplotlib.ticker import FuncFormatter, LogLocator

        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(0.25, 0.5, 1.0, 2.0, 4.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(LogLocator(base=10, subs=()))
    ax.set_xlabel(xlabel)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return figure(fig, alt=alt, caption=caption)
