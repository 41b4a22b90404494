"""``evalkit jdl``: a Justice-Data-Lab-style report from a user's own people and offence files.

The command builds a configuration from the file paths it is given and runs the JDL analysis
that ships with evalkit (``templates/jdl_analysis.py``) through the same pipeline as every other
report: fresh kernel, report fragments only, disclosure control, identifier scan. It needs the
``evalkit.jdl`` module (the Justice Data Lab outcome set and its wording); until that module and
its analysis script exist, :func:`available` is false and the command says so.

The analysis builds the proven-reoffending cohort (data end = the extract date), matches the
programme group 1:1 on the propensity score estimated from the other columns of the people
table (or, with none, compares the groups unmatched and says so), and reports the JDL outcome
set (:func:`evalkit.jdl_outcomes`) with Kaplan-Meier curves, balance and caveats.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from evalkit.errors import InputError
from evalkit.report._base import Progress, write_atomic
from evalkit.report.build import render_report

__all__ = ["JDL_SCRIPT", "available", "infer_data_date", "run_jdl"]

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


def run_jdl(
    paths: Mapping[str, Path],
    out_dir: Path,
    *,
    data_date: str | None = None,
    title: str = "Justice Data Lab-style comparison",
    programme: str = "programme",
    comparison: str = "comparison",
    script: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``out_dir/jdl.toml`` and ``out_dir/jdl.html`` for the given input files.

    Parameters
    ----------
    paths
        ``{"people": ..., "offences": ..., "custody": ..., "deaths": ...}`` (the last two
        optional); CSV or parquet, with the columns of the cohort schema.
    out_dir
        Output folder (created).
    data_date
        Date of the extract; default: inferred from the offence table.
    title
        Report title.
    programme, comparison
        The labels of the two groups in the people table's ``group`` column.
    script
        The analysis to run (default :data:`JDL_SCRIPT`).
    progress
        Progress callback, as for :func:`evalkit.report.build`.

    Returns
    -------
    Path
        The report written.
    """
    from evalkit.cohort import read_table

    tables = {name: read_table(path, table=name) for name, path in paths.items()}
    if data_date is None:
        data_date = infer_data_date(tables["offences"])
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"title = {_toml_str(title)}",
        f"data_date = {_toml_str(data_date)}",
        "",
        "[data]",
    ]
    for name, path in paths.items():
        full = _toml_str(str(Path(path).resolve()))
        lines.append(f'{name} = {{ path = {full}, id_column = "person_id" }}')
    # the analysis' settings, written out so that the report's configuration records them
    lines += [
        "",
        "[parameters]",
        f"programme = {_toml_str(programme)}",
        f"comparison = {_toml_str(comparison)}",
        "follow_up_days = 365",
        "waiting_days = 182",
        "caliper = 0.2",
        "max_categories = 10",
    ]
    config = out_dir / "jdl.toml"
    write_atomic(config, "\n".join(lines) + "\n")
    report = render_report(
        out_dir,
        "jdl",
        config_path=config,
        script_path=script if script is not None else JDL_SCRIPT,
        progress=progress,
    )
    target = out_dir / "jdl.html"
    write_atomic(target, report.html)
    return target
