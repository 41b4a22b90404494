"""``evalkit jdl``: a Justice-Data-Lab-style report from a user's own people and offence files.

The command builds a configuration from the file paths it is given and runs the JDL analysis
that ships with evalkit (``templates/jdl_analysis.py``) through the same pipeline as every other
report: fresh kernel, report fragments only, disclosure control, identifier scan. It needs the
``evalkit.jdl`` module (the Justice Data Lab outcome set and its wording); until that module and
its analysis script exist, :func:`available` is false and the command says so.

The analysis builds the proven-reoffending cohort (data end = the extract date), matches the
programme group 1:1 on the propensity score estimated from the listed covariates (by default
the people table's columns of known meaning, :data:`evalkit.io.KNOWN_COVARIATES`; never free
text), or, with none, compares the groups unmatched and says so, and reports the JDL outcome
set (:func:`evalkit.jdl_outcomes`) with Kaplan-Meier curves, balance and caveats.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import InputError
from evalkit.io import KNOWN_COVARIATES, unmapped_headers
from evalkit.report._base import Progress, write_atomic
from evalkit.report.build import render_report

__all__ = [
    "JDL_SCRIPT",
    "available",
    "default_covariates",
    "infer_data_date",
    "run_jdl",
]

JDL_SCRIPT = Path(__file__).parent / "templates" / "jdl_analysis.py"
"""The analysis ``evalkit jdl`` runs (a jupytext percent script, like those in ``analyses/``)."""


def available() -> bool:
    """True when both the ``evalkit.jdl`` module and the JDL analysis script are present."""
    return importlib.util.find_spec("evalkit.jdl") is not None and JDL_SCRIPT.is_file()


def infer_data_date(offences: pd.DataFrame) -> str:
    """The latest disposal (or offence) date in the offence table, as ``YYYY-MM-DD``.

    A report's only date comes from its data: the extract cannot be older than its newest
    record. Raises :class:`InputError` when no date can be read.
    """
    for column in ("disposal_date", "offence_date"):
        if column in offences.columns:
            dates = pd.to_datetime(offences[column], errors="coerce", format="ISO8601")
            if dates.notna().any():
                return str(dates.max().date().isoformat())
    raise InputError(
        "disposal_date",
        "no readable dates in the offence table; give the extract date with --data-date",
        table="offences",
    )


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is a JSON string


def default_covariates(people: pd.DataFrame) -> list[str]:
    """The columns of :data:`~evalkit.io.KNOWN_COVARIATES` the people table has, in that order.

    Raises
    ------
    InputError
        If a header looks like one of them but was not mapped (``"Prior Offences"``): matching
        silently without it would give a weaker comparison than the user meant.
    """
    unmapped = unmapped_headers(people, KNOWN_COVARIATES)
    if unmapped:
        cli = ",".join(f"{h}={c}" for c, h in unmapped.items())
        raise InputError(
            next(iter(unmapped.values())),
            "looks like a characteristic of known meaning but is not named as one; map it "
            f'(--columns "...,{cli}") to match on it, or give --covariates to say what to match '
            "on ('' for nothing)",
            table="people",
        )
    return [c for c in KNOWN_COVARIATES if c in people.columns]


def run_jdl(
    paths: Mapping[str, Path],
    out_dir: Path,
    *,
    data_date: str | None = None,
    title: str = "Justice Data Lab-style comparison",
    programme: str = "programme",
    comparison: str = "comparison",
    covariates: Sequence[str] | None = None,
    reader: Mapping[str, Any] | None = None,
    script: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``out_dir/jdl.html`` and ``out_dir/jdl.toml`` for the given input files.

    The configuration is written only together with a report: it is rendered from a temporary
    folder and both files are moved into ``out_dir`` when the report succeeded, so a failed run
    leaves neither a new configuration nor a new report behind.

    Parameters
    ----------
    paths
        ``{"people": ..., "offences": ..., "custody": ..., "deaths": ...}`` (the last two
        optional); CSV, CSV.gz, parquet or Excel, with the columns of the cohort schema (after
        the ``columns`` mapping in ``reader``).
    out_dir
        Output folder (created).
    data_date
        Date of the extract; default: inferred from the offence table.
    title
        Report title.
    programme, comparison
        The labels of the two groups in the people table's ``group`` column.
    covariates
        People-table columns to match on. ``None``: :func:`default_covariates`.
        An empty list: no matching (an unmatched comparison, rated accordingly).
    reader
        Options of :func:`evalkit.io.read_table` for every file (``columns``, ``date_format``,
        ``dayfirst``, ``na_values``), written to the configuration's ``[reader]`` table.
    script
        The analysis to run (default :data:`JDL_SCRIPT`).
    progress
        Progress callback, as for :func:`evalkit.report.build`.

    Returns
    -------
    Path
        The report written.
    """
    from evalkit.io import read_table

    options = dict(reader or {})
    tables = {name: read_table(path, table=name, **options) for name, path in paths.items()}
    people = tables["people"]
    if covariates is None:
        covariates = default_covariates(people)
    absent = [c for c in covariates if c not in people.columns]
    if absent:
        raise InputError(
            absent[0],
            "is listed in --covariates but is not a column of the people table "
            f"(columns: {', '.join(map(str, people.columns))})",
            table="people",
        )
    if data_date is None:
        data_date = infer_data_date(tables["offences"])
    out_dir = out_dir.resolve()
    lines = [
        f"title = {_toml_str(title)}",
        f"data_date = {_toml_str(data_date)}",
        "",
        "[reader]",
        *(f"{k} = {_toml_value(v)}" for k, v in options.items()),
        "",
        "[data]",
    ]
    for name, path in paths.items():
        lines.append(f"{name} = {_toml_str(str(Path(path).resolve()))}")
    # the analysis' settings, written out so that the report's configuration records them
    lines += [
        "",
        "[parameters]",
        f"programme = {_toml_str(programme)}",
        f"comparison = {_toml_str(comparison)}",
        f"covariates = {_toml_value(list(covariates))}",
        "follow_up_days = 365",
        "waiting_days = 182",
        "caliper = 0.2",
    ]
    with tempfile.TemporaryDirectory(prefix="evalkit-jdl-") as tmp:
        config = Path(tmp) / "jdl.toml"
        write_atomic(config, "\n".join(lines) + "\n")
        report = render_report(
            out_dir if out_dir.is_dir() else Path(tmp),
            "jdl",
            config_path=config,
            script_path=script if script is not None else JDL_SCRIPT,
            progress=progress,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / "jdl.html"
        write_atomic(target, report.html)
        write_atomic(out_dir / "jdl.toml", config.read_text(encoding="utf-8"))
    return target


def _toml_value(value: Any) -> str:
    """A TOML value for the reader options and parameters written by :func:`run_jdl`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{_toml_str(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)
