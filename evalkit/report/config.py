"""Analysis configuration: the small TOML file beside each ``analyses/<name>.py``.

A configuration names the data (paths relative to the TOML file), how to read them, the
parameters, the report's title and the date of the data, so that a user points an analysis at
their own data by editing or copying the TOML, never the code::

    title = "Financial aid for people leaving prison"
    data_date = "1980"            # when the data were extracted: YYYY, YYYY-MM or YYYY-MM-DD
    synthetic = false             # true labels the report as built on synthetic data

    [reader]                      # optional: how to read every input (evalkit.io.read_table)
    date_format = "%d/%m/%Y"      # or "excel" (serial day numbers), or { index_date = "%d/%m/%Y" }
    # dayfirst = true             # instead of date_format: day-first dates, format inferred
    na_values = ["NULL", "-"]     # text meaning "missing"
    columns = { "Person ID" = "person_id" }    # file header = column name evalkit uses

    [data]
    rossi = "../evalkit/datasets/rossi.csv"
    # a key naming a cohort table (people, offences, custody, deaths) is read as that table;
    # an entry's own options replace the [reader] value of the same key:
    offences = { path = "/secure/extract/offences.csv.gz", na_values = ["NULL", "n/a"] }

    [data.people]                 # the same as an inline table, written over several lines
    path = "/secure/extract/people.xlsx"
    sheet = "Sheet1"
    columns = { "Person ID" = "person_id", "Release date" = "index_date" }
    id_column = "person_id"       # the column identifying people (after the mapping)

    [parameters]                  # anything the script reads: numbers, strings, lists
    tau = 52

    [disclosure]                  # optional; these are the defaults
    threshold = 5
    round_to = 0                  # 5 rounds every count shown to the nearest 5

    [cost]                        # optional: what the scheme cost, if known
    total = 20000
    currency = "GBP"
    note = "two grants from the Commissioner's Safety Fund"

Each ``[data]`` entry is a path, or an inline table with ``path`` and any of ``table`` (which
cohort table the file is: ``people``, ``offences``, ``custody`` or ``deaths``; by default the
entry's key when it is one of these), ``id_column`` (the column identifying people), and the
reader options ``columns``, ``date_format``, ``dayfirst``, ``na_values`` and ``sheet`` (an
Excel sheet's name or 0-based position). ``[reader]`` sets defaults for ``columns``,
``date_format``, ``dayfirst`` and ``na_values``; an entry's own value replaces the default as a
whole (a ``columns`` table is not merged with the default one). An analysis reads an input with
``cfg.read("people")``, which applies these options.

Person identifiers: the build reads the id column of every input (``id_column`` if given, else
``person_id`` when the table has one after the column mapping) and refuses a report that shows
any of them, in any case and with or without spaces. Identifiers that cannot be told apart from
ordinary numbers are not scanned as free text: numeric ids shorter than five digits, and other
ids shorter than four characters (the build logs how many were skipped). Use longer ids where
you can.

The report build passes the configuration's path to the analysis in the ``EVALKIT_CONFIG``
environment variable; run by hand (for example in Jupyter through jupytext), an analysis finds
``<name>.toml`` beside itself or in ``analyses/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from evalkit.errors import InputError
from evalkit.report.disclosure import Disclosure

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CONFIG_ENV", "AnalysisConfig", "Cost", "DataSource", "load_config"]

CONFIG_ENV = "EVALKIT_CONFIG"
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_KNOWN_KEYS = {
    "primary",
    "design",
    "title",
    "data_date",
    "synthetic",
    "scheme",
    "reader",
    "data",
    "parameters",
    "disclosure",
    "cost",
}

# The TOML vocabulary of the reader (evalkit.io.TABLES and evalkit.io.READER_OPTIONS; a test
# checks that they agree). Kept here so that a configuration is checked without reading data.
_TABLES = ("people", "offences", "custody", "deaths")
_READER_OPTIONS = ("columns", "date_format", "dayfirst", "na_values", "sheet")
_READER_DEFAULTS = ("columns", "date_format", "dayfirst", "na_values")
"""The options ``[reader]`` may set for every input (a sheet belongs to one file)."""
_ENTRY_KEYS = ("path", "table", "id_column", *_READER_OPTIONS)


@dataclass(frozen=True)
class DataSource:
    """One input file.

    Attributes
    ----------
    name
        The key in ``[data]``.
    path
        Absolute path of the file (resolved against the TOML file's folder).
    written
        The path as written in the TOML file: what the report shows, so that reports do not
        depend on where the repository was cloned.
    id_column
        Column identifying people, as named after the column mapping. When it is not given, the
        build uses ``person_id`` if the table has one; either way it reads the identifiers and
        fails if any appears in the report.
    table
        Which cohort table the file is (``"people"``, ``"offences"``, ``"custody"``,
        ``"deaths"``), so that the reader knows its date columns and its ``person_id``;
        ``None`` for any other input.
    options
        Read-only keyword arguments for :func:`evalkit.io.read_table`: the ``[reader]``
        defaults overridden by the entry's own options (only the options that were set).
    """

    name: str
    path: Path
    written: str
    id_column: str | None = None
    table: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Cost:
    """What the scheme cost, if known: ``total`` in ``currency``, with a note on what it covers."""

    total: float
    currency: str = "GBP"
    note: str = ""


MEASURES = (
    "rate difference",
    "rate ratio",
    "odds ratio",
    "hazard ratio",
    "RMST difference",
    "mean difference",
)
"""Primary measures a configuration may name (``[primary] measure``)."""


@dataclass(frozen=True)
class Primary:
    """The pre-specified primary measure (``[primary]``), fixed before the results are seen.

    Attributes
    ----------
    outcome
        The outcome in words, as the headline says it ("re-arrest within a year").
    measure
        One of :data:`MEASURES`.
    good
        ``"lower"`` or ``"higher"``: the direction that is a benefit.
    """

    outcome: str
    measure: str
    good: str = "lower"


@dataclass(frozen=True)
class Design:
    """The design (``[design]``): its kind and why it is that kind.

    Attributes
    ----------
    kind
        One of :data:`evalkit.verdict.DESIGNS` (randomised, did, matched, unmatched,
        before_after, none): the verdict engine derives the evidence rating from it.
    justification
        A sentence saying why (how people were assigned, how the comparison was formed).
    """

    kind: str
    justification: str


@dataclass(frozen=True)
class AnalysisConfig:
    """A parsed analysis configuration (see the module docstring for the TOML layout).

    Attributes
    ----------
    name
        The analysis name (the TOML file's stem).
    path
        The TOML file.
    title
        Report title.
    data_date
        When the data were extracted (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``): the only date a
        report shows, so rebuilding never changes it.
    synthetic
        True when the data are synthetic; the report says so prominently.
    scheme
        Optional name of the scheme evaluated.
    data
        Input files by name.
    parameters
        Read-only mapping of the ``[parameters]`` table.
    disclosure
        Disclosure-control settings for every count the report shows.
    cost
        The scheme's cost, or ``None`` when unknown.
    """

    name: str
    path: Path
    title: str
    data_date: str
    synthetic: bool = False
    scheme: str = ""
    data: Mapping[str, DataSource] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    disclosure: Disclosure = field(default_factory=Disclosure)
    cost: Cost | None = None
    primary: Primary | None = None
    design: Design | None = None

    def data_path(self, name: str) -> Path:
        """Absolute path of the input called ``name`` in ``[data]``."""
        try:
            return self.data[name].path
        except KeyError:
            known = ", ".join(sorted(self.data)) or "none"
            raise InputError(
                name, f"is not listed in [data] of {self.path.name} (listed: {known})"
            ) from None

    def read(self, name: str, *, dates: Sequence[str] | None = None) -> pd.DataFrame:
        """The input called ``name`` in ``[data]``, read with its reader options.

        Calls :func:`evalkit.io.read_table` with the file's path, its ``table`` and the merged
        ``[reader]`` and per-entry options, so that an analysis reads ``.xlsx`` files, mapped
        headers and day-first dates exactly as the configuration says. The cohort tables know
        their date columns; for any other input (an engagement log, a monthly series) name
        them in ``dates``: they are read by the same rules as the cohort tables' dates (the
        configured ``date_format`` or ``dayfirst``, else ISO 8601, month names, or day/month
        text whose column settles which comes first; one format per column, ambiguous
        day/month text refused).

        Raises
        ------
        InputError
            If ``name`` is not listed in ``[data]``, or the file breaks a rule of the reader.
        """
        from evalkit.io import read_table

        path = self.data_path(name)
        source = self.data[name]
        options = _plain(source.options)
        return read_table(path, table=source.table, dates=dates, **options)

    def param(self, name: str) -> Any:
        """The value of ``name`` in ``[parameters]``; a clear error if it is missing."""
        try:
            return self.parameters[name]
        except KeyError:
            known = ", ".join(sorted(self.parameters)) or "none"
            raise InputError(
                name, f"is not set in [parameters] of {self.path.name} (set: {known})"
            ) from None


def _fail(path: Path, what: str) -> InputError:
    return InputError(None, what, table=str(path))


def _parse_date(path: Path, value: Any) -> str:
    if isinstance(value, dt.datetime):
        raise _fail(path, "data_date must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    if isinstance(value, str) and _DATE.match(value):
        return value
    raise _fail(path, f"data_date must look like YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    """Reader options as plain dicts and lists (they are stored read-only)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_option(path: Path, where: str, key: str, value: Any) -> Any:
    """``value`` of reader option ``key`` (in ``where``, e.g. ``[reader]``), checked and frozen."""
    if key == "columns":
        if (
            not isinstance(value, dict)
            or not all(isinstance(k, str) and k for k in value)
            or not all(_is_text(v) for v in value.values())
        ):
            raise _fail(
                path,
                f"{where} columns must be a table of file header = column name, "
                f'e.g. {{ "Person ID" = "person_id" }}, not {value!r}',
            )
        return MappingProxyType(dict(value))
    if key == "date_format":
        if _is_text(value):
            return value
        if isinstance(value, dict) and value and all(_is_text(v) for v in value.values()):
            return MappingProxyType(dict(value))
        raise _fail(
            path,
            f'{where} date_format must be a format such as "%d/%m/%Y", "excel", or a table '
            f'of column = format, e.g. {{ index_date = "%d/%m/%Y" }}, not {value!r}',
        )
    if key == "dayfirst":
        if not isinstance(value, bool):
            raise _fail(path, f"{where} dayfirst must be true or false, not {value!r}")
        return value
    if key == "na_values":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
        ):
            raise _fail(
                path,
                f"{where} na_values must be a list of values meaning missing, "
                f'e.g. ["NULL", "-"], not {value!r}',
            )
        return tuple(values)
    if key == "sheet":
        if _is_text(value) or (
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
        ):
            return value
        raise _fail(
            path,
            f"{where} sheet must be an Excel sheet's name or its position (0 = the first), "
            f"not {value!r}",
        )
    raise AssertionError(key)  # pragma: no cover - keys are checked before


def _unknown(path: Path, where: str, keys: Any, valid: tuple[str, ...]) -> None:
    unknown = sorted(set(keys) - set(valid))
    if unknown:
        raise _fail(
            path,
            f"{where} has unknown keys {', '.join(unknown)}; "
            f"valid keys are {', '.join(sorted(valid))}",
        )


def _parse_reader(path: Path, table: Any) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise _fail(path, "[reader] must be a table of reader options, e.g. dayfirst = true")
    _unknown(path, "[reader]", table, _READER_DEFAULTS)
    return {key: _check_option(path, "[reader]", key, value) for key, value in table.items()}


def _parse_data(path: Path, table: Any, defaults: Mapping[str, Any]) -> dict[str, DataSource]:
    if not isinstance(table, dict):
        raise _fail(path, "[data] must be a table of name = path entries")
    out: dict[str, DataSource] = {}
    for key, value in table.items():
        where = f"[data] {key}:"
        entry = value if isinstance(value, dict) else {"path": value}
        _unknown(path, f"[data] {key}", entry, _ENTRY_KEYS)
        if "path" not in entry:
            raise _fail(path, f'{where} path is missing: {{ path = "file.csv", ... }}')
        written = entry["path"]
        if not isinstance(written, str) or not written:
            raise _fail(path, f"{where} path must be a file path (a string)")
        id_column = entry.get("id_column")
        if id_column is not None and not _is_text(id_column):
            raise _fail(path, f"{where} id_column must be a column name, not {id_column!r}")
        name = entry.get("table", key if key in _TABLES else None)
        if name is not None and name not in _TABLES:
            raise _fail(path, f"{where} table must be one of {', '.join(_TABLES)}, not {name!r}")
        options = dict(defaults)
        for option in _READER_OPTIONS:
            if option in entry:
                options[option] = _check_option(path, where, option, entry[option])
        full = (path.parent / Path(written).expanduser()).resolve()
        out[key] = DataSource(
            name=key,
            path=full,
            written=written,
            id_column=id_column,
            table=name,
            options=MappingProxyType(options),
        )
    return out


def _parse_disclosure(path: Path, table: Any) -> Disclosure:
    if table is None:
        return Disclosure()
    if not isinstance(table, dict):
        raise _fail(path, "[disclosure] must be a table")
    unknown = set(table) - {"threshold", "round_to", "allow_zeros"}
    if unknown:
        raise _fail(path, f"[disclosure] has unknown keys: {', '.join(sorted(unknown))}")
    try:
        return Disclosure(**table)
    except (TypeError, ValueError) as exc:
        raise _fail(path, f"[disclosure]: {exc}") from None


def _parse_cost(path: Path, table: Any) -> Cost | None:
    if table is None:
        return None
    if not isinstance(table, dict) or "total" not in table:
        raise _fail(path, "[cost] must be a table with at least total = <amount>")
    unknown = set(table) - {"total", "currency", "note"}
    if unknown:
        raise _fail(path, f"[cost] has unknown keys: {', '.join(sorted(unknown))}")
    total = table["total"]
    if isinstance(total, bool) or not isinstance(total, int | float) or total < 0:
        raise _fail(path, f"[cost] total must be a non-negative number, not {total!r}")
    return Cost(
        total=float(total),
        currency=str(table.get("currency", "GBP")),
        note=str(table.get("note", "")),
    )


def read_config(path: str | os.PathLike[str]) -> AnalysisConfig:
    """Parse the TOML file at ``path`` into an :class:`AnalysisConfig`.

    Raises
    ------
    InputError
        If the file is missing, is not valid TOML, or breaks the layout (unknown top-level
        keys, a malformed date, a non-string path, a reader option of the wrong type or an
        unknown one…); the message names the file and the key. Paths are not required to
        exist here: the build checks them before running the analysis, so a missing file is
        reported by name.
    """
    p = Path(path).resolve()
    if not p.is_file():
        raise InputError(None, "configuration file not found", table=str(path))
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(p, f"is not valid TOML: {exc}") from None
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise _fail(
            p,
            f"unknown keys {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(sorted(_KNOWN_KEYS))}",
        )
    title = raw.get("title", p.stem)
    if not isinstance(title, str) or not title.strip():
        raise _fail(p, "title must be a non-empty string")
    if "data_date" not in raw:
        raise _fail(p, "data_date is required (when the data were extracted, e.g. 2024-03-31)")
    synthetic = raw.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise _fail(p, "synthetic must be true or false")
    params = raw.get("parameters", {})
    if not isinstance(params, dict):
        raise _fail(p, "[parameters] must be a table")
    return AnalysisConfig(
        name=p.stem,
        path=p,
        title=title.strip(),
        data_date=_parse_date(p, raw["data_date"]),
        synthetic=synthetic,
        scheme=str(raw.get("scheme", "")),
        data=MappingProxyType(
            _parse_data(p, raw.get("data", {}), _parse_reader(p, raw.get("reader")))
        ),
        parameters=MappingProxyType(dict(params)),
        disclosure=_parse_disclosure(p, raw.get("disclosure")),
        cost=_parse_cost(p, raw.get("cost")),
        primary=_parse_primary(p, raw.get("primary")),
        design=_parse_design(p, raw.get("design")),
    )


def _parse_primary(path: Path, table: Any) -> Primary | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _fail(path, "[primary] must be a table: outcome, measure, good")
    unknown = set(table) - {"outcome", "measure", "good"}
    if unknown:
        raise _fail(path, f"[primary] has unknown keys: {', '.join(sorted(unknown))}")
    outcome, measure = table.get("outcome"), table.get("measure")
    good = table.get("good", "lower")
    if not isinstance(outcome, str) or not outcome.strip():
        raise _fail(path, "[primary] outcome must say the outcome in words")
    if measure not in MEASURES:
        valid = ", ".join(repr(m) for m in MEASURES)
        raise _fail(path, f"[primary] measure must be one of {valid}, not {measure!r}")
    if good not in ("lower", "higher"):
        raise _fail(path, f"[primary] good must be 'lower' or 'higher', not {good!r}")
    return Primary(outcome=outcome.strip(), measure=measure, good=good)


def _parse_design(path: Path, table: Any) -> Design | None:
    from evalkit.verdict import DESIGNS

    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - {"kind", "justification"}:
        raise _fail(path, "[design] must be a table with kind and justification")
    kind, why = table.get("kind"), table.get("justification")
    if kind not in DESIGNS:
        valid = ", ".join(repr(d) for d in DESIGNS)
        raise _fail(path, f"[design] kind must be one of {valid}, not {kind!r}")
    if not isinstance(why, str) or not why.strip():
        raise _fail(
            path,
            "[design] justification must say in a sentence why the design is what kind says "
            "(how people came to be in each group); the evidence rating rests on it",
        )
    return Design(kind=kind, justification=why.strip())


def load_config(name: str | None = None) -> AnalysisConfig:
    """The configuration of the running analysis.

    Inside a report build the path comes from the ``EVALKIT_CONFIG`` environment variable.
    Otherwise ``name`` (the analysis name, e.g. ``"rossi_financial_aid"``) is looked up as
    ``<name>.toml`` in the current folder and then in ``analyses/``.

    Parameters
    ----------
    name
        The analysis name; needed only when running an analysis by hand.

    Examples
    --------
    >>> from evalkit import report as rp
    >>> cfg = rp.load_config("rossi_financial_aid")  # doctest: +SKIP
    >>> cfg.param("tau")  # doctest: +SKIP
    52
    """
    env = os.environ.get(CONFIG_ENV)
    if env:
        return read_config(env)
    if name is None:
        raise InputError(
            None,
            f"no configuration: set {CONFIG_ENV} or pass the analysis name to load_config()",
            table="configuration",
        )
    for folder in (Path.cwd(), Path.cwd() / "analyses"):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return read_config(candidate)
    raise InputError(
        None, f"no {name}.toml in the current folder or in analyses/", table="configuration"
    )
