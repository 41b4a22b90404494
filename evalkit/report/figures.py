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

import html
import io
import itertools
import math
import re
from typing import Any

from evalkit._palette import OKABE_ITO
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
    "phone_text_px",
    "protect_figure_counts",
    "report_style",
]

PALETTE: tuple[str, ...] = OKABE_ITO
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
