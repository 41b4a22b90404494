"""Executed notebook → self-contained HTML page, and the checks made on the page.

nbconvert renders the notebook through evalkit's template (``templates/evalkit``); nbconvert's
``HTMLExporter`` is not used because it re-serialises the page through BeautifulSoup, which
lower-cases SVG attribute names. The page is then scanned for external resources and, for inputs
that declare an ``id_column``, for person identifiers.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

from evalkit._version import __version__
from evalkit.report._base import TEMPLATES, BuildError, log
from evalkit.report.components import FRAGMENT_MIME
from evalkit.report.config import AnalysisConfig
from evalkit.report.markdown import HeadingRenderer, render_markdown
from evalkit.report.provenance import Provenance

__all__ = ["MIN_ID_LENGTH", "css", "scan_for_identifiers", "scan_page", "to_html"]

MIN_ID_LENGTH = 4
"""Identifiers shorter than this cannot be told from ordinary numbers and are not scanned for."""


def css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8").strip()


def to_html(
    nb: Any,
    *,
    config: AnalysisConfig,
    meta: dict[str, Any],
    provenance: Provenance,
    script_rel: str,
    config_rel: str,
    source: str,
) -> str:
    from nbconvert.exporters import TemplateExporter

    class _Exporter(TemplateExporter):  # HTMLExporter re-serialises through BeautifulSoup,
        output_mimetype = "text/html"  # which lower-cases SVG attributes (viewBox)

        def _file_extension_default(self) -> str:
            return ".html"

    nb = copy.deepcopy(nb)
    renderer = HeadingRenderer(ids=True)
    renderer.used.update(
        {
            "content",
            "toc-title",
            "headline-title",
            "summary-title",
            "disclosure-control",
            "reproducibility",
            "how-to-rebuild",
            "what-it-was-built-from",
            "analysis-code",
        }
    )
    toc: list[dict[str, str]] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            before = len(renderer.headings)
            cell.metadata["evalkit_html"] = render_markdown(cell.source, renderer)
            toc += [
                {"id": slug, "text": text}
                for level, slug, text in renderer.headings[before:]
                if level == 2
            ]
        elif cell.cell_type == "code":
            for output in cell.outputs:
                if FRAGMENT_MIME in output.get("data", {}):
                    kind = output["data"][FRAGMENT_MIME].get("kind")
                    if kind == "headline":
                        toc.append({"id": "headline-title", "text": "Headline"})
                    elif kind == "summary":
                        toc.append({"id": "summary-title", "text": "Summary"})
    toc += [
        {"id": "disclosure-control", "text": "Disclosure control"},
        {"id": "reproducibility", "text": "Reproducibility"},
    ]
    params = [
        (k, json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)
        for k, v in sorted(config.parameters.items())
    ]
    resources = {
        "evalkit": {
            "name": config.name,
            "title": config.title,
            "scheme": config.scheme,
            "data_date": config.data_date,
            "synthetic": config.synthetic,
            "verdict": meta.get("verdict", ""),
            "rating": meta.get("rating", ""),
            "version": __version__,
            "css": css(),
            "toc": toc,
            "fragment_mime": FRAGMENT_MIME,
            "disclosure": config.disclosure.describe(),
            "provenance": provenance,
            "parameters": params,
            "script": script_rel,
            "config": config_rel,
            "source": source,
        }
    }
    exporter = _Exporter(
        template_name="evalkit",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    # one trailing newline, no trailing spaces: stable under editors and pre-commit hooks
    text = "\n".join(line.rstrip() for line in body.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


class _TextCollector(HTMLParser):
    """Visible text and text-bearing attributes of an HTML page (not SVG geometry)."""

    TEXT_ATTRS = frozenset({"alt", "title", "aria-label", "content", "href", "src"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.external.append(f"<{tag}>")
        for key, value in attrs:
            if value is None:
                continue
            if key in self.TEXT_ATTRS:
                self.chunks.append(value)
            if key == "src" and not value.startswith(("data:", "#")):
                self.external.append(f'{tag} src="{value}"')

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def _tokens(text: str) -> set[str]:
    found: set[str] = set()
    for pattern in (r"[A-Za-z0-9]+", r"[A-Za-z0-9_\-]+", r"[A-Za-z0-9_\-./:]+"):
        found.update(re.findall(pattern, text))
    return found


def _read_ids(source: Any) -> list[str]:
    import pandas as pd

    path, col = source.path, source.id_column
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            series = pd.read_parquet(path, columns=[col])[col]
        else:
            series = pd.read_csv(path, usecols=[col], dtype=str)[col]
    except (ValueError, KeyError) as exc:
        raise BuildError(
            f"[data] {source.name}: could not read id_column {col!r} from {source.written}: {exc}"
        ) from None
    return [str(v) for v in series.dropna().unique()]


def scan_for_identifiers(page: str, ids: Sequence[str]) -> list[str]:
    """Identifiers (at least four characters long) that appear as tokens in the page's text.

    Shorter identifiers cannot be told apart from ordinary numbers and are not checked; use
    identifiers of four or more characters (most systems do).
    """
    collector = _TextCollector()
    collector.feed(page)
    tokens = _tokens(" ".join(collector.chunks))
    return sorted({i for i in ids if len(i) >= MIN_ID_LENGTH and i in tokens})


def scan_page(page: str, config: AnalysisConfig) -> None:
    collector = _TextCollector()
    collector.feed(page)
    if collector.external:
        raise BuildError(
            f"{config.name}: the report would load external resources "
            f"({', '.join(collector.external[:3])}); reports must be self-contained"
        )
    for source in config.data.values():
        if source.id_column is None:
            continue
        ids = _read_ids(source)
        short = sum(1 for i in ids if len(i) < MIN_ID_LENGTH)
        if short:
            log.warning(
                "%s: %d identifiers in %s are shorter than %d characters and cannot be scanned",
                config.name,
                short,
                source.name,
                MIN_ID_LENGTH,
            )
        leaked = scan_for_identifiers(page, ids)
        if leaked:
            raise BuildError(
                f"{config.name}: the report shows {len(leaked)} person identifier(s) from "
                f"[data] {source.name} (column {source.id_column!r}); not published. "
                "Reports must show only aggregate results."
            )
