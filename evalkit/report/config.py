"""Analysis configuration: the small TOML file beside each ``analyses/<name>.py``.

A configuration names the data (paths relative to the TOML file), the parameters, the report's
title and the date of the data, so that a user points an analysis at their own data by editing
or copying the TOML, never the code::

    title = "Financial aid for people leaving prison"
    data_date = "1980"            # when the data were extracted: YYYY, YYYY-MM or YYYY-MM-DD
    synthetic = false             # true labels the report as built on synthetic data

    [data]
    rossi = "../evalkit/datasets/rossi.csv"
    # or, with the column that identifies people (checked against the report for leaks):
    # people = { path = "/secure/people.parquet", id_column = "person_id" }

    [parameters]                  # anything the script reads: numbers, strings, lists
    tau = 52

    [disclosure]                  # optional; these are the defaults
    threshold = 5
    round_to = 0                  # 5 rounds every count shown to the nearest 5

    [cost]                        # optional: what the scheme cost, if known
    total = 20000
    currency = "GBP"
    note = "two grants from the Commissioner's Safety Fund"

The report build passes the configuration's path to the analysis in the ``EVALKIT_CONFIG``
environment variable; run by hand (for example in Jupyter through jupytext), an analysis finds
``<name>.toml`` beside itself or in ``analyses/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from evalkit.errors import InputError
from evalkit.report.disclosure import Disclosure

__all__ = ["CONFIG_ENV", "AnalysisConfig", "Cost", "DataSource", "load_config"]

CONFIG_ENV = "EVALKIT_CONFIG"
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_KNOWN_KEYS = {
    "title",
    "data_date",
    "synthetic",
    "scheme",
    "data",
    "parameters",
    "disclosure",
    "cost",
}


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
        Column identifying people, if any: the build reads it and fails if any identifier
        appears in the report.
    """

    name: str
    path: Path
    written: str
    id_column: str | None = None


@dataclass(frozen=True)
class Cost:
    """What the scheme cost, if known: ``total`` in ``currency``, with a note on what it covers."""

    total: float
    currency: str = "GBP"
    note: str = ""


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

    def data_path(self, name: str) -> Path:
        """Absolute path of the input called ``name`` in ``[data]``."""
        try:
            return self.data[name].path
        except KeyError:
            known = ", ".join(sorted(self.data)) or "none"
            raise InputError(
                name, f"is not listed in [data] of {self.path.name} (listed: {known})"
            ) from None

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


def _parse_data(path: Path, table: Any) -> dict[str, DataSource]:
    if not isinstance(table, dict):
        raise _fail(path, "[data] must be a table of name = path entries")
    out: dict[str, DataSource] = {}
    for key, value in table.items():
        id_column = None
        if isinstance(value, dict):
            unknown = set(value) - {"path", "id_column"}
            if unknown or "path" not in value:
                raise _fail(
                    path, f"[data] {key} must be a path or {{ path = ..., id_column = ... }}"
                )
            written, id_column = value["path"], value.get("id_column")
        else:
            written = value
        if not isinstance(written, str) or not written:
            raise _fail(path, f"[data] {key} must be a file path (a string)")
        if id_column is not None and not isinstance(id_column, str):
            raise _fail(path, f"[data] {key}: id_column must be a column name")
        full = (path.parent / Path(written).expanduser()).resolve()
        out[key] = DataSource(name=key, path=full, written=written, id_column=id_column)
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
        keys, a malformed date, a non-string path…). Paths are not required to exist here: the
        build checks them before running the analysis, so a missing file is reported by name.
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
        data=MappingProxyType(_parse_data(p, raw.get("data", {}))),
        parameters=MappingProxyType(dict(params)),
        disclosure=_parse_disclosure(p, raw.get("disclosure")),
        cost=_parse_cost(p, raw.get("cost")),
    )


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
