"""``evalkit jdl``: a Justice-Data-Lab-style report from a user's own people and offence files.

The command builds a configuration from the file paths it is given and runs the JDL analysis
that ships with evalkit (``templates/jdl_analysis.py``) through the same pipeline as every other
report: fresh kernel, report fragments only, disclosure control, identifier scan. It needs the
``evalkit.jdl`` module (the Justice Data Lab outcome set and its wording); until that module and
its analysis script exist, :func:`available` is false and the command says so.

The analysis builds the proven-reoffending cohort (data end = the extract date), matches the
programme group 1:1 on the propensity score estimated from the listed covariates (by default
the people table's columns of known meaning, :data:`evalkit.io.KNOWN_COVARIATES`; never free
text), without replacement or, with ``replace=True``, with replacement, or, with none, compares
the groups unmatched and says so, and reports the JDL outcome set (:func:`evalkit.jdl_outcomes`)
with Kaplan-Meier curves, a profile of the groups before and after matching and caveats. Its
headline comes from the verdict engine (:func:`evalkit.verdict`), with the primary measure and
the design fixed in the configuration before the analysis runs. The script tells that story;
its tables, diagnostics and paragraphs are built by :mod:`evalkit.report.jdl_sections` and
:mod:`evalkit.report.jdl_text`, which are tested on their own.

The configuration ``run_jdl`` writes stores the input paths relative to the output folder, and
the report shows the ``evalkit jdl`` command that rebuilds it (:func:`rebuild_command`; the
options of the command line and of that command come from one table,
:data:`evalkit.report.jdl_options.OPTIONS`). A report
is labelled synthetic when asked to, and always when an input carries evalkit's synthetic-data
marker (:func:`evalkit.io.is_synthetic`).
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit._options import check_listed, parse_pairs
from evalkit.errors import InputError
from evalkit.io import KNOWN_COVARIATES, is_synthetic, unmapped_headers
from evalkit.report._base import Progress, write_atomic
from evalkit.report.build import render_report
from evalkit.report.jdl_options import command_line, relative

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_TITLE",
    "JDL_SCRIPT",
    "PRIMARY_OUTCOME",
    "available",
    "covariate_label",
    "default_covariates",
    "infer_data_date",
    "parse_labels",
    "rebuild_command",
    "report_title",
    "run_jdl",
]

JDL_SCRIPT = Path(__file__).parent / "templates" / "jdl_analysis.py"
"""The analysis ``evalkit jdl`` runs (a jupytext percent script, like those in ``analyses/``)."""

DEFAULT_TITLE = "Justice Data Lab-style comparison"
"""The report title when none is given (with the area, if one is given)."""

PRIMARY_OUTCOME = "proven reoffending within one year"
"""The pre-specified primary outcome (the JDL's headline measure: the one-year rate)."""

DEFAULT_LABELS: Mapping[str, str] = {
    "age": "Age (years)",
    "sex": "Sex",
    "prior_offences": "Previous proven offences",
    "sentence_length_days": "Sentence length (days)",
    "ethnicity": "Ethnicity",
    "offence_type": "Offence type",
    "ogrs_score": "OGRS score",
}
"""How the report names the people table's columns of known meaning (``labels`` overrides)."""


def covariate_label(name: str, level: Any = None, labels: Mapping[str, str] | None = None) -> str:
    """The words a report uses for covariate ``name`` (or one ``level`` of a categorical one).

    ``labels`` (from the configuration's ``[parameters] labels`` or ``--labels``) comes first,
    then :data:`DEFAULT_LABELS`; other names are written as words (``"risk_score"`` →
    ``"Risk score"``), so that a column name is never shown as it is. A level is
    ``"<label>: <level>"`` (``"Sex: F"``) unless ``labels`` names it as ``"sex[F]"``.

    Examples
    --------
    >>> covariate_label("prior_offences"), covariate_label("sex", "F")
    ('Previous proven offences', 'Sex: F')
    >>> covariate_label("risk_score", labels={"sex[F]": "Women"})
    'Risk score'
    >>> covariate_label("sex", "F", labels={"sex[F]": "Women"})
    'Women'
    """
    given = dict(labels or {})
    if level is not None:
        key = f"{name}[{level}]"
        if given.get(key):
            return str(given[key])
        return f"{covariate_label(name, labels=given)}: {level}"
    if given.get(name):
        return str(given[name])
    if name in DEFAULT_LABELS:
        return DEFAULT_LABELS[name]
    words = " ".join(name.replace("_", " ").replace(".", " ").split())
    return words[:1].upper() + words[1:] if words else name


def parse_labels(text: str) -> dict[str, str]:
    """``"prior_offences=Previous offences,sex=Sex"`` → a label map (for ``--labels``).

    Keys are people-table columns, or ``column[level]`` for one level of a categorical column.
    """
    return parse_pairs(text, "--labels", form="column=Label", parts="column or label")


def report_title(title: str | None = None, area: str = "", scheme: str = "") -> str:
    """The report title: ``title`` with the area, if it is not in it already.

    Without a title: the scheme's name and :data:`DEFAULT_TITLE`, or that alone.

    Examples
    --------
    >>> report_title(None, "Thames Valley")
    'Justice Data Lab-style comparison (Thames Valley)'
    >>> report_title(None, "Thames Valley", scheme="Restart Thames Valley")
    'Restart Thames Valley: a Justice Data Lab-style comparison'
    >>> report_title("Restart in Thames Valley", "Thames Valley")
    'Restart in Thames Valley'
    """
    text = (title or "").strip()
    if not text:
        text = f"{scheme.strip()}: a {DEFAULT_TITLE}" if scheme.strip() else DEFAULT_TITLE
    area = area.strip()
    if area and area.lower() not in text.lower():
        text = f"{text} ({area})"
    return text


def rebuild_command(paths: Mapping[str, Path], out_dir: Path, **options: Any) -> str:
    """The ``evalkit jdl`` command that rebuilds a report, to be run in its output folder.

    ``options`` are the keyword arguments of :func:`run_jdl` that shape the report (all but
    ``script`` and ``progress``). Every option that was given is repeated (defaults are left
    out); input paths are relative to ``out_dir`` and the output folder is ``.``, so that the
    command still works when the data and the report are moved together. Reader options the
    command line cannot express (``dayfirst``, ``sheet``) are not in the command; :func:`run_jdl`
    says so in the report. The options come from one table,
    :data:`evalkit.report.jdl_options.OPTIONS`, which also defines the command line.

    Examples
    --------
    >>> from pathlib import Path
    >>> print(rebuild_command(
    ...     {"people": Path("/d/people.csv"), "offences": Path("/d/off.csv")},
    ...     Path("/d/report"), title="Restart", replace=True,
    ... ))
    evalkit jdl --people ../people.csv --offences ../off.csv --out . --title Restart --replace
    """
    args = ["evalkit", "jdl", *command_line(paths, out_dir, options)]
    return " ".join(shlex.quote(str(a)) for a in args)


def _not_on_command_line(reader: Mapping[str, Any] | None) -> list[str]:
    """Reader options given from Python that :func:`rebuild_command` cannot repeat."""
    options = dict(reader or {})
    out = [k for k in ("dayfirst", "sheet") if options.get(k) not in (None, False)]
    if isinstance(options.get("date_format"), Mapping):
        out.append("date_format (one format per column)")
    return out


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
    title: str | None = None,
    scheme: str = "",
    area: str = "",
    synthetic: bool = False,
    replace: bool = False,
    labels: Mapping[str, str] | None = None,
    programme: str = "programme",
    comparison: str = "comparison",
    covariates: Sequence[str] | None = None,
    reader: Mapping[str, Any] | None = None,
    script: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write ``out_dir/jdl.html`` and ``out_dir/jdl.toml`` for the given input files.

    The configuration is written only together with a report: it is rendered from a temporary
    folder beside ``out_dir`` and both files are moved into ``out_dir`` when the report
    succeeded, so a failed run leaves neither a new configuration nor a new report behind.

    Parameters
    ----------
    paths
        ``{"people": ..., "offences": ..., "custody": ..., "deaths": ...}`` (the last two
        optional); CSV, CSV.gz, parquet or Excel, with the columns of the cohort schema (after
        the ``columns`` mapping in ``reader``).
    out_dir
        Output folder (created). The configuration names the inputs by their paths relative to
        it, and the report gives the command that rebuilds it from there.
    data_date
        Date of the extract; default: inferred from the offence table.
    title
        Report title (default :data:`DEFAULT_TITLE`); ``area`` is added when it is not in it.
    scheme
        Name of the scheme evaluated (the configuration's ``scheme``, shown above the title
        and in the summary).
    area
        Where the scheme ran (e.g. a police force area), shown in the title and the summary.
    synthetic
        Label the report as built on synthetic data. It is labelled so anyway when any input
        carries evalkit's synthetic-data marker (:func:`evalkit.io.is_synthetic`): synthetic
        data are never presented as real, whatever this says.
    replace
        Match with replacement (a comparison person can be the match of several programme
        members), for a comparison pool that is small beside the programme group. Default:
        1:1 without replacement.
    labels
        Words for the covariates and their levels (``{"prior_offences": "Previous offences",
        "sex[F]": "Women"}``), over :data:`DEFAULT_LABELS`; written to ``[parameters]``.
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
    given_covariates = None if covariates is None else list(covariates)
    if covariates is None:
        covariates = default_covariates(people)
    check_listed(
        covariates,
        people.columns,
        listed="is listed in --covariates",
        table="people",
        where="the people table",
    )
    labels = dict(labels or {})
    for key in labels:
        column = key.split("[", 1)[0] if key.endswith("]") and "[" in key else key
        if column not in people.columns:
            raise InputError(
                key,
                "is given a label (--labels) but is not a column of the people table "
                "(a level is written column[level], e.g. sex[F])",
                table="people",
            )
    given_date = data_date
    if data_date is None:
        data_date = infer_data_date(tables["offences"])
    marked = [name for name, path in paths.items() if is_synthetic(path)]
    out_dir = Path(out_dir).resolve()
    # the options as given (not as resolved: the command leaves defaults to evalkit)
    given = {
        "data_date": given_date,
        "title": title,
        "scheme": scheme,
        "area": area,
        "synthetic": synthetic,
        "replace": replace,
        "labels": labels,
        "programme": programme,
        "comparison": comparison,
        "covariates": given_covariates,
        "reader": options,
    }
    command = rebuild_command(paths, out_dir, **given)
    design = (
        (
            "matched",
            "People were not assigned to the programme at random; each programme member is "
            "compared with a comparison-group person matched on recorded characteristics "
            "(propensity score), as the Justice Data Lab does.",
        )
        if covariates
        else (
            "unmatched",
            "People were not assigned to the programme at random, and no characteristics were "
            "given to match on: the comparison group is unmatched.",
        )
    )
    lines = [
        f"title = {_toml_str(report_title(title, area, scheme))}",
    ]
    if scheme:
        lines.append(f"scheme = {_toml_str(scheme)}")
    lines.append(f"data_date = {_toml_str(data_date)}")
    if synthetic or marked:
        why = (
            f"  # {', '.join(marked)}: evalkit's synthetic-data marker (EVALKIT-SYNTHETIC)"
            if marked
            else "  # evalkit jdl --synthetic"
        )
        lines.append("synthetic = true" + why)
    lines += [
        "",
        "# fixed before the analysis is run: the Justice Data Lab's headline measure",
        "[primary]",
        f"outcome = {_toml_str(PRIMARY_OUTCOME)}",
        'measure = "rate difference"',
        'good = "lower"',
        "",
        "[design]",
        f"kind = {_toml_str(design[0])}",
        f"justification = {_toml_str(design[1])}",
        "",
        "[reader]",
        *(f"{k} = {_toml_value(v)}" for k, v in options.items()),
        "",
        "# paths relative to this file's folder",
        "[data]",
    ]
    # The report is rendered from a temporary folder beside out_dir (the same depth), so a
    # path relative to out_dir names the same file from there; a path inside out_dir is written
    # through its parent ("../out/people.csv"), which is right from both folders.
    for name, path in paths.items():
        rel = relative(Path(path), out_dir)
        if not rel.startswith("../") and not Path(rel).is_absolute():
            rel = f"../{out_dir.name}/{rel}"
        lines.append(f"{name} = {_toml_str(rel)}")
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
        f"replace = {_toml_value(bool(replace))}",
    ]
    if area:
        lines.append(f"area = {_toml_str(area)}")
    if labels:
        lines.append(f"labels = {_toml_value(labels)}")
    lines.append(f"command = {_toml_str(command)}")
    missing = _not_on_command_line(options)
    if missing:
        lines.append(f"command_omits = {_toml_value(missing)}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}-", dir=out_dir.parent) as tmp:
        config = Path(tmp) / "jdl.toml"
        write_atomic(config, "\n".join(lines) + "\n")
        report = render_report(
            Path(tmp),
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
