"""Executed notebook → self-contained HTML page, and the checks made on the page.

nbconvert renders the notebook through evalkit's template (``templates/evalkit``); nbconvert's
``HTMLExporter`` is not used because it re-serialises the page through BeautifulSoup, which
lower-cases SVG attribute names. The page is then scanned for external resources and for the
person identifiers of every input that has an id column (``id_column``, or ``person_id``): see
:func:`scan_for_identifiers` for how identifiers are matched and which are too short to scan.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import numpy as np

from evalkit._version import __version__
from evalkit.errors import InputError, shown
from evalkit.report._base import TEMPLATES, BuildError, log
from evalkit.report.components import FRAGMENT_MIME
from evalkit.report.config import AnalysisConfig, DataSource, _plain
from evalkit.report.markdown import HeadingRenderer, render_markdown
from evalkit.report.notebook import _PLACEHOLDER, PLACEHOLDER
from evalkit.report.provenance import Provenance

__all__ = [
    "MAX_JOINED_TOKENS",
    "MIN_DIGIT_ID_LENGTH",
    "MIN_ID_LENGTH",
    "css",
    "scan_for_identifiers",
    "scan_page",
    "to_html",
]


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
            "strength": meta.get("strength", ""),
            "primary": meta.get("primary", ""),
            "headline": meta.get("headline", ""),
            "max_smd_after": meta.get("max_smd_after", ""),
            # a report made by a command (evalkit jdl) records the command that rebuilds it
            "command": str(config.parameters.get("command", "")),
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


_PLACES = {"table": "table", "figure": "figure", "svg": "figure"} | {
    f"h{level}": "heading" for level in range(1, 7)
}
"""Elements that give a piece of text its place in the refusal message (innermost wins)."""

_LABELS = frozenset({"caption", "figcaption"})
"""Elements whose text names their table or figure in the refusal message."""

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)


@dataclass(frozen=True)
class _Chunk:
    """A piece of the page's text: where it is and what names that place."""

    text: str
    place: str  # "table", "figure", "heading" or "text"
    container: int | None  # index into _TextCollector.labels of the table/figure/heading
    section: int | None  # the heading it follows


class _TextCollector(HTMLParser):
    """Visible text and text-bearing attributes of an HTML page (not SVG geometry).

    Each piece of text is kept as a :class:`_Chunk` recording its place, found from the stack
    of open elements: inside a ``<table>`` (its caption included), inside a ``<figure>`` or an
    ``<svg>`` (or an image's ``alt``), inside a heading, or elsewhere. For each table, figure,
    SVG and heading (a "container") the collector keeps the words that name it — its caption,
    figcaption or heading text, or else its alt text, ``aria-label`` or SVG ``<title>`` — for
    the message of a refused build (:meth:`label`).
    """

    TEXT_ATTRS = frozenset({"alt", "title", "aria-label", "content", "href", "src"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[_Chunk] = []
        self.external: list[str] = []
        self._captions: list[list[str]] = []  # per container: caption, figcaption, heading
        self._names: list[list[str]] = []  # per container: alt, aria-label, SVG title
        self._parents: list[int | None] = []
        self._stack: list[tuple[str, int | None]] = []
        self._section: int | None = None

    def _container(self) -> tuple[str, int | None]:
        for tag, index in reversed(self._stack):
            if index is not None:
                return _PLACES[tag], index
        return "text", None

    def _add(self, text: str, place: str, container: int | None) -> None:
        self.chunks.append(_Chunk(text, place, container, self._section))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.external.append(f"<{tag}>")
        index = None
        if tag in _PLACES:
            index = len(self._captions)
            self._parents.append(self._container()[1])
            self._captions.append([])
            self._names.append([])
            if _PLACES[tag] == "heading":
                self._section = index
        if tag not in _VOID:
            self._stack.append((tag, index))
        place, container = self._container()
        if tag == "img":
            place = "figure"
        for key, value in attrs:
            if value is None:
                continue
            if key in self.TEXT_ATTRS:
                self._add(value, place, container)
                if key in ("alt", "aria-label") and place == "figure" and container is not None:
                    self._names[container].append(value)
            if key == "src" and not value.startswith(("data:", "#")):
                self.external.append(f'{tag} src="{value}"')

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:  # closes any element left open inside it
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        place, container = self._container()
        self._add(data, place, container)
        if container is None:
            return
        if place == "heading" or any(tag in _LABELS for tag, _ in self._stack):
            self._captions[container].append(data)
        elif place == "figure" and self._stack[-1][0] == "title":
            self._names[container].append(data)

    def label(self, container: int | None) -> str:
        """The words naming a container and, failing that, the containers around it."""
        chain = []
        while container is not None:
            chain.append(container)
            container = self._parents[container]
        for pieces in (self._captions, self._names):
            for c in chain:
                text = " ".join(" ".join(pieces[c]).split())
                if text:
                    return text
        return ""


def _collect(page: str) -> _TextCollector:
    collector = _TextCollector()
    collector.feed(page)
    collector.close()
    return collector


MIN_ID_LENGTH = 4
"""Identifiers containing a letter are scanned for when, without spaces, they have at least this
many characters."""

MIN_DIGIT_ID_LENGTH = 5
"""Identifiers without letters (numbers such as ``104233``, possibly with separators) are
scanned for when they have at least this many digits: shorter ones cannot be told apart from
counts, years (1947, 2011) and other numbers in a report."""

MAX_JOINED_TOKENS = 6
"""Tokens separated only by spaces or ``_ - . / :`` are joined, up to this many, so that an
identifier written ``QQ 10 00 01 C`` is found."""

_WORD = re.compile(r"[^\W_]+")
_JOINABLE = re.compile(r"[\s_\-./:]+")
_SPACE = re.compile(r"\s+")


class _IdIndex:
    """The identifiers that can be scanned for, normalised (lower-cased, without whitespace).

    Built without a Python loop over people: pandas string methods normalise the identifiers,
    and the page's strings (a few thousand) are looked up in a hash index of them, so a
    national extract of a million ids costs a fraction of a second.
    """

    def __init__(self, ids: Iterable[Any]) -> None:
        import pandas as pd

        raw = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
        text = pd.Series(pd.unique(raw.dropna())).astype("str")
        # explicit character classes: pandas runs them in Arrow, not row by row in Python
        key = text.str.replace(r"[ \t\r\n\f\v]+", "", regex=True).str.lower()
        length = key.str.len().to_numpy()
        has_letter = key.str.contains(r"[^\W\d_]", regex=True).to_numpy(dtype=bool)
        digits = np.zeros(len(key), dtype=np.int64)
        if (~has_letter).any():  # numeric ids: count their digits
            plain = key[~has_letter].str.replace(r"[^0-9]", "", regex=True).str.len()
            digits[~has_letter] = plain.to_numpy()
        nonempty = length > 0
        ok = nonempty & np.where(has_letter, length >= MIN_ID_LENGTH, digits >= MIN_DIGIT_ID_LENGTH)
        self.short = int((nonempty & ~ok).sum())
        keep = ~key[ok].duplicated().to_numpy()  # ids differing only in case or spaces
        self.keys = pd.Index(key[ok].to_numpy()[keep])
        self.texts = text[ok].to_numpy()[keep]

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, tokens: list[str]) -> list[str | None]:
        """The identifier (as given) each token is, or ``None``."""
        if not tokens or not len(self.keys):
            return [None] * len(tokens)
        import pandas as pd

        pos = self.keys.get_indexer(pd.Index(tokens))
        return [None if p < 0 else str(self.texts[p]) for p in pos]

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and self.lookup([token])[0] is not None


def _tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """Every string of ``text`` that could be an identifier, normalised, with its span.

    The alphanumeric runs, and runs of up to :data:`MAX_JOINED_TOKENS` of them separated only
    by whitespace or ``_ - . / :`` (whitespace removed, separators kept): ``AB-123`` in
    ``see AB-123.`` and ``qq100001c`` in ``QQ 10 00 01 C``. Runs of numbers joined only by
    spaces (``2019 20``) are not kept: they are adjacent numbers, not identifiers.
    """
    words = [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    for i, (word, start, end) in enumerate(words):
        yield word, start, end
        joined = word
        for j in range(i + 1, min(i + MAX_JOINED_TOKENS, len(words))):
            gap = text[words[j - 1][2] : words[j][1]]
            if not _JOINABLE.fullmatch(gap):
                break
            joined += _SPACE.sub("", gap) + words[j][0]
            end = words[j][2]
            if not joined.isdigit():
                yield joined, start, end


@dataclass(frozen=True)
class _Match:
    identifier: str  # as given in the data
    place: str
    context: str


def _context(
    collector: _TextCollector, chunk: _Chunk, start: int, end: int, index: _IdIndex
) -> str:
    """A few words saying where a match is, without the identifier (nor any other)."""

    def clean(words: list[str]) -> list[str]:
        return ["…" if any(t in index for t, _, _ in _tokens(w)) else w for w in words]

    if chunk.place != "text":
        label = clean(collector.label(chunk.container).split())
        if label and set(label) != {"…"}:
            return _shorten(label)
    before = clean(chunk.text[:start].split()[-4:])
    after = clean(chunk.text[end:].split()[:3])
    if set(before + after) - {"…"}:
        return _shorten([*before, "…", *after] if before else ["…", *after])
    section = clean(collector.label(chunk.section).split())
    if section and set(section) != {"…"}:
        return "section " + _shorten(section)
    return ""


def _shorten(words: list[str], n: int = 8) -> str:
    text = " ".join(words[:n]) + (" …" if len(words) > n else "")
    return text[:80]


def _find(collector: _TextCollector, index: _IdIndex) -> list[_Match]:
    """Identifiers of ``index`` found in the page's text, each once, in page order."""
    if not len(index):
        return []
    spots = [
        (chunk, token, start, end)
        for chunk in collector.chunks
        for token, start, end in _tokens(chunk.text)
    ]
    found: dict[str, _Match] = {}
    hits = index.lookup([token for _, token, _, _ in spots])
    for (chunk, _, start, end), identifier in zip(spots, hits, strict=True):
        if identifier is not None and identifier not in found:
            found[identifier] = _Match(
                identifier, chunk.place, _context(collector, chunk, start, end, index)
            )
    return list(found.values())


def _read_for_scan(source: DataSource, config: AnalysisConfig) -> Any:
    """The input as :meth:`AnalysisConfig.read` gives it; if that fails for a cohort table (an
    analysis may read the file its own way, e.g. without the table's date columns), the same
    file read with the same column mapping, missing values and sheet as a plain table: the scan
    needs only the identifiers."""
    try:
        return config.read(source.name)
    except InputError:
        if source.table is None:
            raise
    from evalkit.io import read_table

    options = {
        k: v for k, v in _plain(source.options).items() if k in ("columns", "na_values", "sheet")
    }
    return read_table(source.path, table=None, **options)


def _read_ids(source: DataSource, config: AnalysisConfig) -> tuple[str, Any] | None:
    """The id column of ``source`` and its values, read as the analysis reads the file; ``None``
    when the input has no id column."""
    try:
        df = _read_for_scan(source, config)
    except Exception as exc:  # any failure: the page cannot be checked, so it is not published
        raise BuildError(
            f"[data] {source.name}: could not read {source.written} to check the report for "
            f"person identifiers: {exc}"
        ) from None
    column = source.id_column
    if column is None:
        if "person_id" not in df.columns:
            return None
        column = "person_id"
    elif column not in df.columns:
        raise BuildError(
            f"[data] {source.name}: id_column {column!r} is not a column of {source.written} "
            f"(after the column mapping it has {', '.join(map(str, df.columns))})"
        )
    values = df[column].dropna()
    if values.dtype.kind == "f" and (values == values.round()).all():
        values = values.astype("int64")  # ids read as floats (a column with gaps): 104233.0
    return column, values


def scan_for_identifiers(page: str, ids: Iterable[Any]) -> list[str]:
    """Identifiers of ``ids`` that appear in the page's text (sorted, as given in ``ids``).

    The text is the page's visible text and text-bearing attributes (alt text, titles, links),
    not SVG geometry. Matching ignores case and whitespace: ``QQ100001C`` is found in
    ``qq100001c`` and in ``QQ 10 00 01 C``. An identifier is compared with every alphanumeric
    run of the text and with runs of up to :data:`MAX_JOINED_TOKENS` of them separated by
    whitespace or ``_ - . / :`` (so identifiers are found when made of letters, digits and
    these separators); a set of the normalised identifiers is built once, and each of these
    strings of the page is looked up in it.

    Only identifiers that can be told apart from ordinary numbers are scanned for: those
    containing a letter need at least :data:`MIN_ID_LENGTH` (4) characters without spaces, and
    those without letters (numeric ids) at least :data:`MIN_DIGIT_ID_LENGTH` (5) digits — so
    ids 1 to 9999 are not scanned as free text and never collide with a year such as 1985.
    """
    index = _IdIndex(ids)
    return sorted(m.identifier for m in _find(_collect(page), index))


_WHERE = {"table": "in a table", "figure": "in a figure", "heading": "in a heading"}


def scan_page(page: str, config: AnalysisConfig) -> None:
    """Refuse a page that loads external resources or shows a person identifier of an input.

    Every ``[data]`` input with an id column (its ``id_column``, else ``person_id`` when the
    table has one after the column mapping) is read through :meth:`AnalysisConfig.read` and its
    identifiers are looked for as :func:`scan_for_identifiers` describes. The refusal names the
    identifier (through :func:`evalkit.errors.shown`, so that logs on disk do not keep it) and
    where it was found: a table, a figure, a heading or the text, with a few words of context.
    """
    collector = _collect(page)
    # the template's placeholders, wherever they reach the page from (the TOML's title, scheme
    # or parameters included); the analysis code shown in the appendix is not page text
    published = page.split('id="analysis-code"', 1)[0]
    if _PLACEHOLDER.search(published):
        raise BuildError(
            f"{config.name}: the report still shows the template's placeholder text "
            f"({PLACEHOLDER!r}), e.g. in the title, scheme or [parameters] of "
            f"{config.path.name}; replace it before publishing"
        )
    if collector.external:
        raise BuildError(
            f"{config.name}: the report would load external resources "
            f"({', '.join(collector.external[:3])}); reports must be self-contained"
        )
    for source in config.data.values():
        read = _read_ids(source, config)
        if read is None:
            continue
        column, ids = read
        index = _IdIndex(ids)
        short = index.short
        if short:
            log.warning(
                "%s: %d identifiers in [data] %s (column %r) are too short to scan the report "
                "for (numbers need %d or more digits, other ids %d or more characters)",
                config.name,
                short,
                source.name,
                column,
                MIN_DIGIT_ID_LENGTH,
                MIN_ID_LENGTH,
            )
        leaked = _find(collector, index)
        if leaked:
            places = []
            for match in leaked[:3]:
                where = _WHERE.get(match.place, "in the text")
                context = f' ("{match.context}")' if match.context else ""
                places.append(f"{shown('person_id', [match.identifier])} {where}{context}")
            more = f" (and {len(leaked) - 3} more)" if len(leaked) > 3 else ""
            noun = (
                "a person identifier" if len(leaked) == 1 else f"{len(leaked)} person identifiers"
            )
            raise BuildError(
                f"{config.name}: the report shows {noun} from [data] {source.name} "
                f"(column {column!r}):{','.join(places)}{more}; not published. "
                "Reports must show only aggregate results."
            )
