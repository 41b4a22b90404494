"""Building blocks of a report: headline box, summary, accessible tables, text.

Each function returns a :class:`Fragment`: a piece of HTML that Jupyter displays and that the
report build places in the page. Only fragments reach a report — a cell that prints, or displays
a raw DataFrame or a bare matplotlib figure, fails the build — so every table passes through
disclosure control and every figure carries alt text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd

from evalkit.errors import InputError
from evalkit.report.config import Cost
from evalkit.report.disclosure import SUPPRESSED, Disclosure, protect_table

if TYPE_CHECKING:
    from evalkit.verdict import Verdict

__all__ = [
    "FRAGMENT_MIME",
    "SMS_LEVELS",
    "Fragment",
    "ReportEnds",
    "claim",
    "end_report",
    "evidence_rating",
    "headline",
    "markdown",
    "paragraph",
    "show",
    "summary",
    "table",
]

FRAGMENT_MIME = "application/vnd.evalkit.fragment+json"
"""MIME type marking display outputs made by evalkit; the build keeps only these."""

SMS_LEVELS: Mapping[int, str] = {
    1: "no comparison group",
    2: "a before-and-after measure, or a comparison with an unmatched group",
    3: "a comparison with a matched or well-controlled group",
    4: "a comparison that also controls for trends before the scheme",
    5: "random assignment to the scheme or a control group",
}
"""The Maryland Scientific Methods Scale (Sherman et al., 1997; Farrington et al., 2002)."""


@dataclass(frozen=True)
class Fragment:
    """A piece of report HTML, with optional metadata the build reads (e.g. the verdict).

    Attributes
    ----------
    html
        The HTML.
    kind
        What it is (``"headline"``, ``"table"``, ``"figure"``…).
    meta
        Metadata for the build (``verdict`` and ``rating`` for a headline).
    """

    html: str
    kind: str = "html"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return self.html

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": self.html,
            "text/plain": f"<evalkit {self.kind}>",
            FRAGMENT_MIME: {"kind": self.kind, **dict(self.meta)},
        }

    def __add__(self, other: Fragment) -> Fragment:
        meta = {**dict(self.meta), **dict(other.meta)}
        return Fragment(self.html + "\n" + other.html, kind=self.kind, meta=meta)


def show(*fragments: Fragment) -> None:
    """Display several fragments from one cell (inside Jupyter or a report build)."""
    from IPython.display import display

    for frag in fragments:
        if not isinstance(frag, Fragment):
            raise TypeError(f"show() takes report fragments, not {type(frag).__name__}")
        display(frag)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
]


def _inline(text: str) -> str:
    """Escape ``text`` and apply **bold**, *italic* and `code`: enough for report sentences."""
    out = _esc(text)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def paragraph(text: str, *, css_class: str | None = None) -> Fragment:
    """One paragraph of text (HTML-escaped; ``**bold**``, ``*italic*`` and backticks allowed)."""
    cls = f' class="{_esc(css_class)}"' if css_class else ""
    return Fragment(f"<p{cls}>{_inline(text)}</p>", kind="text")


def markdown(text: str) -> Fragment:
    """Markdown (for text with computed numbers); headings start at level 3 inside sections."""
    from evalkit.report.markdown import render_markdown

    return Fragment(render_markdown(text), kind="text")


def claim(text: str, *, source: str, note: str = "") -> Fragment:
    """The claim a report examines, quoted as published, with its source.

    Every scheme report opens with it, before the headline, so the reader sees the figure in
    question before what evalkit's rules make of it. ``text`` is quoted exactly (no markup);
    ``note`` (markdown-style inline markup allowed) says briefly what kind of figure it is.

    Examples
    --------
    >>> print(claim("87% did not re-offend", source="PCC").html)  # doctest: +NORMALIZE_WHITESPACE
    <p class="claim"><strong>The claim as published:</strong> “87% did not re-offend”
    (PCC).</p>
    """
    extra = f" {_inline(note)}" if note else ""
    body = (
        f'<p class="claim"><strong>The claim as published:</strong> “{_esc(text)}” '
        f"({_esc(source)}).{extra}</p>"
    )
    return Fragment(body, kind="text")


def evidence_rating(level: int) -> str:
    """The Maryland Scientific Methods Scale wording for ``level`` (1 to 5).

    Examples
    --------
    >>> evidence_rating(5)
    'Level 5 of 5: random assignment to the scheme or a control group'
    """
    if isinstance(level, bool) or level not in SMS_LEVELS:
        raise InputError(
            "rating", f"must be a Maryland Scientific Methods Scale level 1-5: {level!r}"
        )
    return f"Level {level} of 5: {SMS_LEVELS[level]}"


def _rating_badge(level: int) -> str:
    dots = "".join(f'<span class="dot{" on" if i <= level else ""}"></span>' for i in range(1, 6))
    return (
        f'<span class="rating" aria-hidden="true">{dots}</span> '
        f"<span>{_esc(evidence_rating(level))}</span>"
    )


class ReportEnds(Exception):
    """Raised by :func:`end_report`: the build publishes what the report has shown so far."""


def end_report() -> NoReturn:
    """End the report here: what was shown so far is published, the rest of the script is not.

    For an analysis that finds, early on, that it cannot go further (e.g. a programme group
    below the Justice Data Lab's minimum of 60 people): it shows its headline (a "not
    assessable" verdict) and why, then calls this. ``evalkit build`` keeps the cells run so far,
    drops the ones after this cell, and writes the page; run by hand, it stops the script.
    """
    raise ReportEnds("the report ends here")


def headline(verdict: Verdict, *, synthetic: bool = False) -> Fragment:
    """The box that opens a report: what the evidence shows, as the verdict engine judged it.

    Parameters
    ----------
    verdict
        The :class:`evalkit.verdict.Verdict` of the analysis (from :func:`evalkit.verdict` or
        :func:`evalkit.report.judge`): its headline and detail sentences, the evidence rating it
        earned, the strength of the evidence and the reasons are shown, and its conclusion,
        strength, rating and primary measure become the page's ``evalkit-*`` meta tags. A
        sentence written by hand is refused: conclusions come from the library's rules.
    synthetic
        True when the data are synthetic: the box says so.
    """
    from evalkit.verdict import Verdict

    if not isinstance(verdict, Verdict):
        raise InputError(
            "verdict",
            "must be the Verdict of ek.verdict(...) or rp.judge(...), not "
            f"{type(verdict).__name__}: a report's conclusion comes from the verdict rules, "
            "never from a sentence written in the analysis",
        )
    rating = verdict.rating
    evidence_rating(rating)
    parts = [
        '<section class="headline" aria-labelledby="headline-title">',
        '<h2 id="headline-title">Headline</h2>',
        f'<p class="verdict">{_inline(verdict.headline)}</p>',
        f"<p>{_inline(verdict.detail)}</p>",
        f'<p class="evidence">Evidence rating: {_rating_badge(rating)}</p>',
    ]
    if verdict.reasons:
        items = "".join(f"<li>{_inline(r)}</li>" for r in verdict.reasons)
        parts.append(f'<ul class="reasons">{items}</ul>')
    if synthetic:
        parts.append(
            '<p class="synthetic"><strong>Synthetic data:</strong> these numbers illustrate the '
            "method and say nothing about the real scheme.</p>"
        )
    parts.append("</section>")
    return Fragment("\n".join(parts), kind="headline", meta=verdict.meta())


def _money(amount: float, currency: str) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency.upper())
    text = f"{amount:,.0f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def summary(
    *,
    question: str,
    effect: str,
    rating: int,
    design: str,
    caveats: Sequence[str],
    cost: Cost | str | None = None,
    sample: str = "",
) -> Fragment:
    """The one-page summary: question, design, effect, evidence rating, cost, main caveats.

    Parameters
    ----------
    question
        What the evaluation asks, in a sentence.
    effect
        The effect in words, with its range.
    rating
        Maryland Scientific Methods Scale level (1-5).
    design
        How the comparison was made (e.g. "randomised controlled trial, 432 men").
    caveats
        The main limitations, most important first (at least one: every evaluation has some).
    cost
        The scheme's cost (from the configuration's ``[cost]``), a sentence, or ``None`` (shown
        as not known).
    sample
        Who was included (numbers should pass through :meth:`Disclosure.count`).
    """
    if not caveats:
        raise InputError("caveats", "list at least one main caveat")
    evidence_rating(rating)
    if cost is None:
        cost_text = "Not known: the cost of the scheme was not available to this evaluation."
    elif isinstance(cost, Cost):
        cost_text = _money(cost.total, cost.currency) + (f" ({cost.note})" if cost.note else "")
    else:
        cost_text = str(cost)
    rows = [
        ("Question", _inline(question)),
        ("Design", _inline(design)),
    ]
    if sample:
        rows.append(("Who was included", _inline(sample)))
    rows += [
        ("Effect", _inline(effect)),
        ("Evidence rating", _esc(evidence_rating(rating))),
        ("Cost", _esc(cost_text)),
    ]
    items = "\n".join(f"<dt>{k}</dt>\n<dd>{v}</dd>" for k, v in rows)
    cav = "\n".join(f"<li>{_inline(c)}</li>" for c in caveats)
    body = (
        '<section class="summary" aria-labelledby="summary-title">\n'
        '<h2 id="summary-title">Summary</h2>\n'
        f'<dl class="summary-list">\n{items}\n<dt>Main caveats</dt>\n<dd><ul>\n{cav}\n</ul></dd>\n'
        "</dl>\n</section>"
    )
    return Fragment(body, kind="summary")


Formatter = str | Callable[[Any], str]

TABLE_SCROLL_HINT = "Scroll sideways to see every column →"
"""Shown above a table only while it is too wide for the screen (see ``report.css``)."""


def _format(value: Any, fmt: Formatter | None) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if fmt is None:
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if isinstance(value, int | np.integer):
            return f"{int(value):,}"
        if isinstance(value, float | np.floating):
            x = float(value)
            return f"{x:,.3g}" if abs(x) < 1e5 else f"{x:,.0f}"
        return str(value)
    if callable(fmt):
        return fmt(value)
    return fmt.format(value)


def table(
    data: pd.DataFrame,
    *,
    caption: str,
    counts: Sequence[str] | None = None,
    not_counts: Iterable[str] = (),
    percents: Mapping[str, str | tuple[str, str]] | None = None,
    row_total: str | None = None,
    total_row: Any = None,
    complements: Mapping[str, str] | None = None,
    disclosure: Disclosure | None = None,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, Formatter] | None = None,
    row_header: str | None = None,
    index: bool = False,
    notes: Sequence[str] = (),
    max_rows: int = 60,
) -> Fragment:
    """An accessible table, with disclosure control applied to every count.

    Parameters
    ----------
    data
        A tidy table (a result's ``.table`` or ``to_frame()``); at most ``max_rows`` rows, so that
        person-level data cannot be shown by mistake.
    caption
        What the table shows: required (screen readers announce it).
    counts
        Count columns. By default every integer column is a count (disclosure control is on by
        default); list columns in ``not_counts`` to exempt them (years, weeks, ages).
    not_counts
        Integer columns that are not counts of people or events.
    percents, row_total, total_row, complements
        Relations between cells, passed to :func:`protect_table` for secondary suppression.
    disclosure
        Disclosure settings (default: threshold 5, zeros withheld, no rounding).
    labels
        Display names for columns.
    formats
        Format strings (``"{:.2f}"``) or callables per column.
    row_header
        Column whose cells head their rows (``<th scope="row">``); default: the first column.
    index
        Include the DataFrame index as the first column.
    notes
        Footnotes shown under the table.
    max_rows
        Refuse larger tables.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(None, f"must be a DataFrame, not {type(data).__name__}", table="table")
    if not caption.strip():
        raise InputError("caption", "every table needs a caption")
    if len(data) > max_rows:
        raise InputError(
            None,
            f"has {len(data)} rows; reports show summary tables of at most {max_rows} rows "
            "(never person-level data)",
            table="table",
        )
    df = data.reset_index() if index else data.copy()
    df.columns = [str(c) for c in df.columns]
    exempt = set(not_counts)
    if counts is None:
        counts = [
            c
            for c in df.columns
            if pd.api.types.is_integer_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])
            and c not in exempt
        ]
    counts = [c for c in counts if c not in exempt]
    protected = protect_table(
        df,
        counts=counts,
        percents=percents,
        row_total=row_total,
        total_row=total_row,
        complements=complements,
        disclosure=disclosure,
    )
    shown = protected.table
    withheld = protected.withheld
    labels = dict(labels or {})
    formats = dict(formats or {})
    header = row_header if row_header is not None else df.columns[0]
    if header not in df.columns:
        raise InputError(header, "row_header is not a column of the table", table="table")
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])}

    num_cls = ' class="num"'
    head = "".join(
        f'<th scope="col"{num_cls if c in numeric else ""}>{_esc(labels.get(c, c))}</th>'
        for c in df.columns
    )
    body_rows = []
    for pos in range(len(df)):
        cells = []
        for c in df.columns:
            if c in withheld.columns and bool(withheld[c].iloc[pos]):
                text = f'<abbr title="withheld to protect confidentiality">{SUPPRESSED}</abbr>'
            else:
                text = _esc(_format(shown[c].iloc[pos], formats.get(c)))
            cls = num_cls if c in numeric else ""
            if c == header:
                cells.append(f'<th scope="row"{cls}>{text}</th>')
            else:
                cells.append(f"<td{cls}>{text}</td>")
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = list(notes)
    if protected.any_withheld:
        foot.append(f"{SUPPRESSED}: {protected.disclosure.describe()}")
    elif protected.disclosure.round_to > 1 and counts:
        foot.append(f"Counts are rounded to the nearest {protected.disclosure.round_to}.")
    notes_html = "".join(f'<p class="table-note">{_inline(n)}</p>' for n in foot)
    # The visible caption sits outside the region that scrolls sideways on a phone, so it stays
    # in view; screen readers get the table's own <caption> (hidden on screen) instead.
    html_text = (
        '<div class="table-block">\n'
        f'<p class="table-caption" aria-hidden="true">{_inline(caption)}</p>\n'
        f'<p class="table-hint" aria-hidden="true">{TABLE_SCROLL_HINT}</p>\n'
        '<div class="table-wrap" role="region" tabindex="0" '
        f'aria-label="{_esc(caption)}">\n'
        f"<table>\n<caption>{_inline(caption)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body_rows) + "\n</tbody>\n"
        f"</table>\n</div>{notes_html}\n</div>"
    )
    return Fragment(
        html_text,
        kind="table",
        meta={"withheld": int(withheld.to_numpy().sum())},
    )
