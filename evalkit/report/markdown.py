"""Markdown to HTML for reports (mistune, which nbconvert already depends on).

Unlike nbconvert's renderer this adds no "¶" anchor links inside headings (a screen reader reads
them out) and gives headings stable, unique ``id`` attributes for the table of contents.
"""

from __future__ import annotations

import re
from typing import Any

import mistune

__all__ = ["HeadingRenderer", "render_markdown", "slugify"]


def slugify(text: str) -> str:
    """A lower-case, hyphenated id from heading text (tags stripped)."""
    plain = re.sub(r"<[^>]+>", "", text)
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug or "section"


class HeadingRenderer(mistune.HTMLRenderer):
    """HTML renderer that records headings and gives each a unique id."""

    def __init__(self, *, ids: bool = True) -> None:
        super().__init__(escape=False)
        self.ids = ids
        self.used: set[str] = set()
        self.headings: list[tuple[int, str, str]] = []

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        if not self.ids:
            return f"<h{level}>{text}</h{level}>\n"
        base = slugify(text)
        slug, k = base, 2
        while slug in self.used:
            slug, k = f"{base}-{k}", k + 1
        self.used.add(slug)
        self.headings.append((level, slug, re.sub(r"<[^>]+>", "", text)))
        return f'<h{level} id="{slug}">{text}</h{level}>\n'


def render_markdown(text: str, renderer: HeadingRenderer | None = None) -> str:
    """Render ``text``; pass a shared ``renderer`` to keep heading ids unique across calls."""
    r = renderer if renderer is not None else HeadingRenderer(ids=False)
    md = mistune.create_markdown(renderer=r, plugins=["table", "strikethrough"])
    out = md(text)
    return out if isinstance(out, str) else str(out)
