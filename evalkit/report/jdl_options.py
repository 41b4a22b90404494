"""The options of ``evalkit jdl``, in one table: the command line and the rebuild command.

:data:`OPTIONS` lists every option once, in the order the command that rebuilds a report
writes them. From it, :func:`add_arguments` defines the ``evalkit jdl`` command line,
:func:`from_command_line` turns a parsed command line into the arguments of
:func:`evalkit.report.jdl.run_jdl`, and :func:`command_line` writes those arguments back as a
command line (:func:`evalkit.report.jdl.rebuild_command`), so that an option is added, renamed
or documented in one place. The module imports nothing heavy: the ``evalkit`` command builds its
parser from it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "INPUTS",
    "OPTIONS",
    "READER",
    "JDLOption",
    "add_arguments",
    "command_line",
    "from_command_line",
    "relative",
]

INPUTS = ("people", "offences", "custody", "deaths")
"""The input tables, each given by an option of its name (``paths`` of ``run_jdl``)."""

READER = ("columns", "date_format", "na_values")
"""Options of :func:`evalkit.io.read_table` (``reader`` of ``run_jdl``)."""

KINDS = ("path", "out", "text", "switch", "names", "labels", "columns", "format", "values")


@dataclass(frozen=True)
class JDLOption:
    """One option of ``evalkit jdl``.

    Attributes
    ----------
    flag
        The option on the command line (``"--data-date"``); its name without dashes, with
        ``_`` for ``-`` (``data_date``), is the keyword of ``run_jdl``, the key of ``paths`` (an
        input table) or of ``reader`` (:data:`READER`).
    kind
        How its value is read and written back: ``"path"`` (an input file, written relative to
        the output folder), ``"out"`` (the output folder, written ``.``), ``"text"`` (written when
        given and not the default), ``"switch"`` (a flag without value), ``"names"`` (a comma
        list whose absence means "the default" and whose empty value means "none"),
        ``"values"`` (a comma list), ``"labels"`` and ``"columns"`` (``key=value`` lists),
        ``"format"`` (a date format, written only when it is one format for every column).
    help, metavar, default, required
        As for :meth:`argparse.ArgumentParser.add_argument`.
    """

    flag: str
    kind: str
    help: str
    metavar: str | None = None
    default: Any = None
    required: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:  # pragma: no cover - a programming error in OPTIONS
            raise ValueError(f"unknown kind {self.kind!r} of {self.flag}")

    @property
    def name(self) -> str:
        """``"--data-date"`` → ``"data_date"``."""
        return self.flag[2:].replace("-", "_")


OPTIONS: tuple[JDLOption, ...] = (
    JDLOption("--people", "path", "people table (one row a person)", "P", required=True),
    JDLOption("--offences", "path", "offence table", "O", required=True),
    JDLOption("--custody", "path", "custody spells table (optional)", "C"),
    JDLOption("--deaths", "path", "deaths table (optional)", "D"),
    JDLOption("--out", "out", "output folder", "DIR", default="jdl-report"),
    JDLOption("--title", "text", "report title (default: a generic one)", "T"),
    JDLOption("--scheme", "text", "name of the scheme evaluated", "S", default=""),
    JDLOption(
        "--area",
        "text",
        "where the scheme ran, e.g. a police force area (in the title)",
        "A",
        default="",
    ),
    JDLOption(
        "--synthetic",
        "switch",
        "label the report as built on synthetic data (automatic when the input files carry "
        "evalkit's synthetic-data marker)",
    ),
    JDLOption(
        "--replace",
        "switch",
        "match with replacement (a comparison person can be matched to several programme "
        "members): for a comparison pool not much larger than the programme group",
    ),
    JDLOption(
        "--programme",
        "text",
        "value of the people table's group column for the programme (default: programme)",
        "LABEL",
        default="programme",
    ),
    JDLOption(
        "--comparison",
        "text",
        "value of the group column for the comparison group (default: comparison)",
        "LABEL",
        default="comparison",
    ),
    JDLOption(
        "--data-date",
        "text",
        "date of the extract (default: the latest disposal date in the offence table)",
        "YYYY-MM-DD",
    ),
    JDLOption(
        "--covariates",
        "names",
        "people-table columns to match on (default: those of known meaning present: "
        "age, sex, prior_offences, sentence_length_days, ethnicity, offence_type, ogrs_score; "
        "'' for none)",
        "A,B,...",
    ),
    JDLOption(
        "--labels",
        "labels",
        'words for the characteristics in the report, e.g. "prior_offences=Previous '
        'offences,sex[F]=Women" (known columns have readable defaults)',
        "'column=Label,...'",
    ),
    JDLOption(
        "--columns",
        "columns",
        "map the files' headers to evalkit's names, e.g. \"Person ID=person_id\" "
        "(one mapping for all the files)",
        "'Header=name,...'",
    ),
    JDLOption(
        "--date-format",
        "format",
        "how dates are written, e.g. %%d/%%m/%%Y (UK, day first); 'excel' for Excel serial "
        "day numbers; ISO dates (2024-03-02) need nothing",
        "FMT",
    ),
    JDLOption(
        "--na-values",
        "values",
        "further values meaning missing, e.g. NULL,- (empty, NA and NULL always do)",
        "V,...",
    ),
)
"""Every option of ``evalkit jdl``, in the order :func:`command_line` writes them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``evalkit jdl`` options of :data:`OPTIONS` on ``parser``."""
    for o in OPTIONS:
        if o.kind == "switch":
            parser.add_argument(o.flag, action="store_true", help=o.help)
        else:
            parser.add_argument(
                o.flag, metavar=o.metavar, default=o.default, required=o.required, help=o.help
            )


def _split(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def from_command_line(args: argparse.Namespace) -> tuple[dict[str, Path], Path, dict[str, Any]]:
    """The input files, the output folder and the keyword arguments of ``run_jdl``.

    Options not given are left out (``run_jdl``'s defaults apply), except the ``"text"`` and
    ``"switch"`` ones, which always have a value.
    """
    from evalkit.io import parse_column_mapping
    from evalkit.report.jdl import parse_labels

    paths: dict[str, Path] = {}
    out_dir = Path(".")
    options: dict[str, Any] = {}
    reader: dict[str, Any] = {}
    for o in OPTIONS:
        value = getattr(args, o.name)
        if o.kind == "out":
            out_dir = Path(value)
            continue
        if o.kind in ("text", "switch"):
            options[o.name] = value
            continue
        if value is None or (not value and o.kind != "names"):
            continue
        if o.kind == "path":
            paths[o.name] = Path(value)
            continue
        parsed: Any = {
            "names": _split,
            "values": _split,
            "labels": parse_labels,
            "columns": parse_column_mapping,
        }.get(o.kind, str)(value)
        (reader if o.name in READER else options)[o.name] = parsed
    options["reader"] = reader
    return paths, out_dir, options


def relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` (POSIX separators); absolute if there is no such path."""
    try:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.resolve().as_posix()


def _written(o: JDLOption, value: Any) -> list[str]:
    """The command-line words for option ``o`` set to ``value`` (none when not needed)."""
    if o.kind == "switch":
        return [o.flag] if value else []
    if o.kind == "names":
        return [] if value is None else [o.flag, ",".join(value)]
    if not value or (o.kind == "text" and value == o.default):
        return []
    if o.kind in ("labels", "columns"):
        return [o.flag, ",".join(f"{k}={v}" for k, v in value.items())]
    if o.kind == "values":
        return [o.flag, ",".join(str(v) for v in value)]
    if o.kind == "format" and not isinstance(value, str):
        return []  # one format per column: not on the command line
    return [o.flag, str(value)]


def command_line(paths: Mapping[str, Path], out_dir: Path, options: Mapping[str, Any]) -> list[str]:
    """The options that give ``run_jdl(paths, out_dir, **options)``, in :data:`OPTIONS` order.

    Input paths are relative to ``out_dir``, the output folder is ``.``; options at their
    defaults are left out, and so are reader options the command line cannot express
    (``dayfirst``, ``sheet``, one date format per column).

    Examples
    --------
    >>> command_line({"people": Path("/d/p.csv"), "offences": Path("/d/o.csv")}, Path("/d/r"),
    ...              {"replace": True, "covariates": [], "reader": {"na_values": ["-"]}})
    ['--people', '../p.csv', '--offences', '../o.csv', '--out', '.', '--replace', '--covariates', '', '--na-values', '-']
    """  # noqa: E501
    unknown = set(options) - {o.name for o in OPTIONS} - {"reader"}
    if unknown:
        raise TypeError(f"unknown option(s) of evalkit jdl: {', '.join(sorted(unknown))}")
    reader = dict(options.get("reader") or {})
    args: list[str] = []
    for o in OPTIONS:
        if o.kind == "path":
            if o.name in paths:
                args += [o.flag, relative(Path(paths[o.name]), out_dir)]
        elif o.kind == "out":
            args += [o.flag, "."]
        else:
            args += _written(o, (reader if o.name in READER else options).get(o.name, o.default))
    return args
