"""``reports/index.html``: every report with its title, verdict, evidence rating and data date.

The facts come from the ``evalkit-*`` meta tags of the built reports, so building one report
keeps the others' entries.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from evalkit._version import __version__
from evalkit.errors import InputError
from evalkit.report._base import write_atomic
from evalkit.report.components import SMS_LEVELS, evidence_rating
from evalkit.report.page import css

__all__ = ["read_report_meta", "render_index", "write_index"]


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = dict(attrs)
            key = a.get("name") or ""
            if key.startswith("evalkit-") and a.get("content") is not None:
                self.meta[key[len("evalkit-") :]] = str(a["content"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            raise _StopParsing


class _StopParsing(Exception):
    pass


def read_report_meta(path: Path) -> dict[str, str]:
    """The ``evalkit-*`` meta tags of a built report (empty if it is not an evalkit report)."""
    reader = _MetaReader()
    try:
        reader.feed(path.read_text(encoding="utf-8"))
    except _StopParsing:
        pass
    return reader.meta


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="evalkit {version}">
<title>evalkit reports</title>
<style>
{css}
</style>
</head>
<body>
<a class="skip-link" href="#content">Skip to the list of reports</a>
<header class="page-header">
<p class="kicker">evalkit</p>
<h1>Evaluation reports</h1>
<p class="page-meta">Evaluations of criminal-justice diversion schemes, rebuilt from the scripts
in <code>analyses/</code> with evalkit {version}.</p>
</header>
<main id="content">
{body}
<section aria-labelledby="about">
<h2 id="about">About the evidence ratings</h2>
<p>Each evaluation is rated on the Maryland Scientific Methods Scale by the strength of its
design, not by its result:</p>
<ol>
{levels}
</ol>
<p>A rating of 3 or more is usually needed before a difference can be attributed to a scheme.</p>
</section>
</main>
</body>
</html>
"""


def render_index(entries: list[tuple[str, dict[str, str]]]) -> str:
    e = html.escape
    if entries:
        items = []
        for name, meta in entries:
            rating = meta.get("rating", "")
            try:
                rating_text = evidence_rating(int(rating))
            except (ValueError, InputError):
                rating_text = "not rated"
            synthetic = (
                ' <strong class="tag">Synthetic data</strong>'
                if meta.get("synthetic") == "yes"
                else ""
            )
            items.append(
                "<li>\n"
                f'<h2><a href="{e(name)}.html">{e(meta.get("title", name))}</a></h2>\n'
                f'<p class="verdict">{e(meta.get("headline", ""))}</p>\n'
                "<dl>\n"
                f"<dt>Conclusion</dt><dd>{e(meta.get('verdict', ''))}"
                + (
                    f" ({e(meta['strength'])} evidence)"
                    if meta.get("strength") not in (None, "", "none")
                    else ""
                )
                + "</dd>\n"
                f"<dt>Evidence rating</dt><dd>{e(rating_text)}</dd>\n"
                f"<dt>Data as of</dt><dd>{e(meta.get('data-date', 'unknown'))}{synthetic}</dd>\n"
                "</dl>\n</li>"
            )
        body = '<ul class="reports">\n' + "\n".join(items) + "\n</ul>"
    else:
        body = "<p>No reports have been built yet.</p>"
    levels = "\n".join(f"<li>{e(SMS_LEVELS[k].capitalize())}.</li>" for k in sorted(SMS_LEVELS))
    return INDEX_TEMPLATE.format(version=e(__version__), css=css(), body=body, levels=levels)


def write_index(out: Path, names: Sequence[str]) -> None:
    entries = []
    for name in names:
        path = out / f"{name}.html"
        if path.is_file():
            entries.append((name, read_report_meta(path)))
    write_atomic(out / "index.html", render_index(entries))
