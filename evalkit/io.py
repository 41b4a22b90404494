"""The reader: every input file goes through :func:`read_table`.

One implementation for CSV, gzip-compressed CSV, parquet and Excel workbooks (``.xlsx``,
``.xlsm``, ``.xls``, read with ``python-calamine``), with the same options from Python, from an
analysis TOML (``[data]`` entries and ``[reader]``) and from the command line:

- ``columns``: a mapping from the file's headers to evalkit's names
  (``{"Person ID": "person_id"}``);
- ``date_format`` / ``dayfirst``: how day/month/year text is written (one format per column;
  ambiguous text with no format is refused, ISO 8601 needs no option); ``date_format="excel"``
  for Excel serial day numbers;
- ``na_values``: extra strings that mean "missing" (pandas' usual ones, such as an empty cell,
  ``NA`` and ``NULL``, always do);
- ``sheet``: which sheet of a workbook (required when it has more than one).

The reader changes nothing silently: identifiers are kept exactly as written (read as text from
CSV and Excel, so ``007`` keeps its zeros; whole numbers in Excel become ``"1001"``), and values
are never trimmed or re-cased. Errors name the file's table, the column and the row positions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit._dates import EXCEL, parse_dates
from evalkit._options import check_columns, check_listed, parse_pairs
from evalkit.errors import InputError, Rows

__all__ = [
    "DATE_COLUMNS",
    "EXCEL",
    "ID_COLUMN",
    "KNOWN_COVARIATES",
    "READER_OPTIONS",
    "REQUIRED_COLUMNS",
    "SUFFIXES",
    "SYNTHETIC_MARKER",
    "SYNTHETIC_METADATA",
    "TABLES",
    "is_synthetic",
    "mark_synthetic",
    "parse_column_mapping",
    "read_table",
    "unmapped_headers",
]

TABLES = ("people", "offences", "custody", "deaths")
"""The input tables of a proven-reoffending cohort (``DESIGN.md``, cohort input schema)."""

ID_COLUMN = "person_id"
"""The column identifying people in every input table."""

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "people": ("person_id", "index_date", "group"),
    "offences": ("person_id", "offence_date", "disposal_date", "disposal"),
    "custody": ("person_id", "start", "end"),
    "deaths": ("person_id", "date"),
}
"""Columns each input table must have."""

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "people": ("index_date",),
    "offences": ("offence_date", "disposal_date"),
    "custody": ("start", "end"),
    "deaths": ("date",),
}
"""The date columns of each input table, read as dates by :func:`read_table`."""

KNOWN_COVARIATES = (
    "age",
    "sex",
    "prior_offences",
    "sentence_length_days",
    "ethnicity",
    "offence_type",
    "ogrs_score",
)
"""People-table covariates of known meaning (DESIGN.md's input schema); ``evalkit jdl`` matches
on those present by default. Any other column is used only when listed."""

READER_OPTIONS = ("columns", "date_format", "dayfirst", "na_values", "sheet")
"""Options of :func:`read_table` that a TOML ``[data]`` entry or ``[reader]`` table may set."""

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls")
"""File types :func:`read_table` reads."""

_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")

SYNTHETIC_MARKER = "EVALKIT-SYNTHETIC"
"""Name of the file that marks the data files in its folder as synthetic (made by evalkit)."""

SYNTHETIC_TEXT = (
    "The data files in this folder are synthetic: they were made by evalkit "
    "(evalkit.datasets) and describe no real person.\n"
)
"""The marker file's text: one line."""

SYNTHETIC_METADATA = ("evalkit_synthetic", "yes")
"""Key-value metadata that marks a parquet file as synthetic, whatever folder it is in."""


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    table: str | None = None,
    columns: Mapping[str, str] | None = None,
    date_format: str | Mapping[str, str] | None = None,
    dayfirst: bool = False,
    na_values: Sequence[str] | None = None,
    sheet: str | int | None = None,
    dates: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read an input table from a file (or tidy a DataFrame) with one set of rules.

    Parameters
    ----------
    source
        A ``.csv``, ``.csv.gz``, ``.parquet``/``.pq`` or Excel (``.xlsx``, ``.xlsm``, ``.xls``)
        file, or a DataFrame (from a database, say) to which the same options are applied.
    table
        ``"people"``, ``"offences"``, ``"custody"`` or ``"deaths"``: the reader then checks the
        table's required columns (after ``columns``) and reads its date columns as dates.
        ``None``: a table of another kind (only the columns named in a ``date_format``
        mapping are read as dates).
    columns
        ``{header in the file: evalkit name}``, e.g. ``{"Person ID": "person_id"}``. Headers
        are compared after removing surrounding spaces. Columns not named keep their headers;
        headers the file does not have are ignored, so that one mapping can serve all four
        tables of an extract (a misspelt header shows up as a missing column).
    date_format
        How the dates are written, for every date column (``"%d/%m/%Y"``, ``"ISO8601"``,
        ``"excel"`` for Excel serial day numbers) or per column (``{"index_date": "excel"}``).
        Without it, ISO 8601 text (``2024-03-02``) and text with month names are read; numeric
        day/month text is read only when the column itself settles which comes first, and is
        otherwise an :class:`InputError` that says how to give the format.
    dayfirst
        Numeric day/month/year text is day first (``02/03/2024`` is 2 March), as UK systems
        write it. Equivalent to ``date_format="%d/%m/%Y"`` for such columns.
    na_values
        Further strings meaning "missing" (compared exactly), besides pandas' defaults (empty,
        ``NA``, ``N/A``, ``NULL``, ``NaN``, ``#N/A``, …).
    sheet
        Sheet name or 0-based number in an Excel workbook; required if it has several sheets.
    dates
        Further columns to read as dates (evalkit names, after ``columns``), such as the start
        of engagement in an engagement log, by the same rules as the cohort tables' dates: the
        format ``date_format`` or ``dayfirst`` gives, else ISO 8601 or month names, or numeric
        day/month text whose column settles which comes first.

    Returns
    -------
    pandas.DataFrame
        The table with evalkit's column names, date columns as ``datetime64[ns]`` (missing
        dates as ``NaT``) and, for CSV and Excel files, ``person_id`` (whatever the table) as
        text.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``source``.
    InputError
        For an unsupported file type, an unreadable file, a mapping that gives two columns
        one name, a missing required column (with the
        mapping that would fix it, when a header looks like it), and dates that are ambiguous,
        numbers, or not in the given format (naming the column and rows).

    Examples
    --------
    A people table exported from Excel with UK dates and its own headers:

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "people.csv").write_text(
    ...     "Person ID,Release date,Group\\n007,02/03/2024,programme\\n"
    ... )
    >>> t = read_table(
    ...     d / "people.csv",
    ...     table="people",
    ...     columns={"Person ID": "person_id", "Release date": "index_date", "Group": "group"},
    ...     date_format="%d/%m/%Y",
    ... )
    >>> t["person_id"].tolist(), t["index_date"].dt.strftime("%Y-%m-%d").tolist()
    (['007'], ['2024-03-02'])
    """
    if table is not None and table not in TABLES:
        valid = ", ".join(repr(t) for t in TABLES)
        raise InputError("table", f"got {table!r}; valid values are {valid} or None", argument=True)
    name = table or (Path(source).name if isinstance(source, str | os.PathLike) else "data")
    mapping = _check_mapping(columns)
    extra_dates = check_columns(dates, "dates")
    formats = _check_formats(date_format)
    if not isinstance(dayfirst, bool):
        raise InputError("dayfirst", f"must be true or false, got {dayfirst!r}", argument=True)
    extra_na = _check_na(na_values)

    if not isinstance(source, pd.DataFrame | str | os.PathLike):
        raise InputError(
            "source",
            f"must be a file path or a pandas DataFrame; got {type(source).__name__}",
            argument=True,
        )
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        df.columns = [str(c).strip() for c in df.columns]
        if extra_na:
            df = _apply_na(df, extra_na)
        suffix = "frame"
    else:
        p = Path(source)
        suffix = _suffix(p)
        if suffix not in SUFFIXES:
            raise InputError(
                None,
                f"cannot read {str(p)!r}: unsupported file type (supported: {', '.join(SUFFIXES)})",
                table=name,
            )
        if not p.is_file():
            raise FileNotFoundError(f"{name} table: no file at {str(p)!r}")
        df = _read_file(p, suffix, name, _header_for(mapping, ID_COLUMN), extra_na, sheet)
        df.columns = [str(c).strip() for c in df.columns]

    df = _rename(df, mapping, name)
    if table is not None:
        _require(df, REQUIRED_COLUMNS[table], name, mapping)
    if suffix in _EXCEL_SUFFIXES and ID_COLUMN in df.columns:
        df[ID_COLUMN] = _excel_ids(df[ID_COLUMN])

    date_cols = list(DATE_COLUMNS[table]) if table is not None else []
    if isinstance(formats, dict):
        check_listed(list(formats), df.columns, listed="is named in date_format", table=name)
        date_cols += [c for c in formats if c not in date_cols]
    check_listed(extra_dates, df.columns, listed="is named in dates", table=name)
    date_cols += [c for c in extra_dates if c not in date_cols]
    id_col = ID_COLUMN if ID_COLUMN in df.columns else None
    for col in date_cols:
        fmt = formats.get(col) if isinstance(formats, dict) else formats
        df[col] = parse_dates(
            df[col],
            column=col,
            table=name,
            date_format=fmt,
            dayfirst=dayfirst,
            rows=_rows(df, id_col),
        )
    if suffix in _EXCEL_SUFFIXES:
        df = _whole_numbers(df, exclude=[ID_COLUMN, *date_cols])
    return df


def mark_synthetic(folder: str | os.PathLike[str]) -> Path:
    """Mark the data files in ``folder`` as synthetic: write its :data:`SYNTHETIC_MARKER` file.

    Reports built on files from a marked folder are labelled synthetic (banner and
    ``<meta name="evalkit-synthetic" content="yes">``) whatever their configuration says, so
    that made-up numbers are never presented as real. Returns the marker's path.
    """
    target = Path(folder)
    if not target.is_dir():
        raise InputError(None, f"no folder at {str(target)!r} to mark", table="synthetic data")
    marker = target / SYNTHETIC_MARKER
    marker.write_text(SYNTHETIC_TEXT, encoding="utf-8")
    return marker


def is_synthetic(path: str | os.PathLike[str]) -> bool:
    """True when the data file ``path`` carries evalkit's synthetic-data marker.

    The marker is a file named :data:`SYNTHETIC_MARKER` in the same folder (written by
    :func:`mark_synthetic` and :func:`evalkit.datasets.write_extract`), or, for a parquet file,
    the key-value metadata ``evalkit_synthetic=yes`` (:data:`SYNTHETIC_METADATA`), which travels
    with the file. Given a folder, whether that folder is marked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "people.csv").write_text("person_id,index_date,group\\n")
    >>> is_synthetic(d / "people.csv")
    False
    >>> _ = mark_synthetic(d)
    >>> is_synthetic(d / "people.csv")
    True
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if (folder / SYNTHETIC_MARKER).is_file():
        return True
    if p.is_file() and _suffix(p) in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(p).metadata or {}
        except (OSError, ValueError):  # not readable as parquet: the reader will say why
            return False
        key, value = (s.encode() for s in SYNTHETIC_METADATA)
        return meta.get(key, b"").strip().lower() == value
    return False


def parse_column_mapping(text: str) -> dict[str, str]:
    """``"Person ID=person_id, Release date=index_date"`` → a ``columns`` mapping (for the CLI)."""
    return parse_pairs(
        text, "--columns", form="Header in file=evalkit_name", parts="header or name"
    )


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _suffix(p: Path) -> str:
    lower = p.name.lower()
    for s in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(s):
            return s
    return p.suffix.lower()


def _check_mapping(columns: Any) -> dict[str, str]:
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise InputError(
            "columns",
            f"must map headers to names, e.g. {{'Person ID': 'person_id'}}; got {columns!r}",
            argument=True,
        )
    bad = [(k, v) for k, v in columns.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise InputError(
            "columns", f"headers and names must be text; got {bad[0]!r}", argument=True
        )
    targets = list(columns.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise InputError(
            "columns", f"maps two headers to the same name {twice[0]!r}", argument=True
        )
    return {k.strip(): v.strip() for k, v in columns.items()}


def _check_formats(date_format: Any) -> str | dict[str, str] | None:
    if date_format is None or isinstance(date_format, str):
        return date_format
    if isinstance(date_format, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in date_format.items()
    ):
        return dict(date_format)
    raise InputError(
        "date_format",
        "must be a format such as '%d/%m/%Y', 'ISO8601' or 'excel', or a mapping from date "
        f"columns to formats; got {date_format!r}",
        argument=True,
    )


def _check_na(na_values: Any) -> list[str]:
    if na_values is None:
        return []
    if isinstance(na_values, str):
        return [na_values]
    values = list(na_values) if isinstance(na_values, Iterable) else [na_values]
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InputError(
            "na_values", f"must be text values such as 'NULL'; got {bad[0]!r}", argument=True
        )
    return values


def _header_for(mapping: Mapping[str, str], target: str) -> str:
    """The file's header that becomes ``target`` (``target`` itself when not mapped)."""
    for header, name in mapping.items():
        if name == target:
            return header
    return target


def _read_file(
    p: Path,
    suffix: str,
    table: str,
    id_header: str,
    na_values: list[str],
    sheet: str | int | None,
) -> pd.DataFrame:
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p, engine="pyarrow")
            return _apply_na(df, na_values) if na_values else df
        if suffix in _EXCEL_SUFFIXES:
            return _read_excel(p, table, na_values, sheet)
        # the id column as text, so that 007 keeps its zeros
        headers = pd.read_csv(p, nrows=0).columns
        dtype = {h: str for h in headers if str(h).strip() == id_header}
        return pd.read_csv(p, dtype=dtype, na_values=na_values or None)
    except InputError:
        raise
    except (ValueError, OSError, pd.errors.ParserError, KeyError) as exc:
        raise InputError(None, f"could not read {str(p)!r}: {exc}", table=table) from exc


def _read_excel(p: Path, table: str, na_values: list[str], sheet: str | int | None) -> pd.DataFrame:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError(
            None, "reading Excel files needs the python-calamine package", table=table
        ) from None
    try:
        names = CalamineWorkbook.from_path(str(p)).sheet_names
    except Exception as exc:  # calamine's own error types (zip, xml, password…)
        raise InputError(
            None, f"could not read {str(p)!r} as an Excel workbook: {exc}", table=table
        ) from exc
    if sheet is None:
        if len(names) > 1:
            raise InputError(
                None,
                f"{str(p)!r} has {len(names)} sheets ({', '.join(map(repr, names))}); say which "
                'one holds the table with sheet= (sheet = "..." in the TOML)',
                table=table,
            )
        sheet = 0
    elif isinstance(sheet, str) and sheet not in names:
        raise InputError(
            None,
            f"{str(p)!r} has no sheet {sheet!r} (sheets: {', '.join(map(repr, names))})",
            table=table,
        )
    return pd.read_excel(p, engine="calamine", sheet_name=sheet, na_values=na_values or None)


def _apply_na(df: pd.DataFrame, na_values: list[str]) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s):
            out[col] = s.mask(s.isin(na_values))
    return out


def _rename(df: pd.DataFrame, mapping: dict[str, str], table: str) -> pd.DataFrame:
    if not mapping:
        _check_unique_headers(df, table)
        return df
    headers = list(df.columns)
    renamed = [mapping.get(h, h) for h in headers]
    clash = sorted({n for n in renamed if renamed.count(n) > 1})
    if clash:
        raise InputError(
            clash[0],
            "would be the name of two columns after the mapping (the file already has a "
            "column of that name); map or drop one of them",
            table=table,
        )
    df = df.copy()
    df.columns = renamed
    return df


def _check_unique_headers(df: pd.DataFrame, table: str) -> None:
    headers = list(df.columns)
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if twice:
        raise InputError(twice[0], "is the header of two columns", table=table)


def _normal(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")


def _require(
    df: pd.DataFrame, required: Sequence[str], table: str, mapping: Mapping[str, str]
) -> None:
    missing = [c for c in required if c not in df.columns]
    if not missing:
        return
    have = ", ".join(map(repr, map(str, df.columns[:20])))
    hints = unmapped_headers(df, missing)
    fix = ""
    if hints:
        py = ", ".join(f"{h!r}: {c!r}" for c, h in hints.items())
        cli = ",".join(f"{h}={c}" for c, h in hints.items())
        fix = (
            f"; the file seems to call {'it' if len(hints) == 1 else 'them'} differently: map "
            f'with columns={{{py}}} (--columns "{cli}" on the command line, '
            "columns = { ... } in the TOML)"
        )
    raise InputError(
        missing[0],
        f"is missing (missing: {', '.join(missing)}; columns present: {have}){fix}",
        table=table,
    )


def unmapped_headers(df: pd.DataFrame, names: Sequence[str]) -> dict[str, str]:
    """``{name: header}`` for each of ``names`` absent from ``df`` whose header looks like it.

    A header "looks like" a name when they agree ignoring case, spaces and punctuation
    (``"Prior Offences"`` and ``prior_offences``); used to suggest a ``columns`` mapping.
    """
    by_normal = {_normal(str(h)): str(h) for h in df.columns}
    return {
        c: by_normal[_normal(c)] for c in names if c not in df.columns and _normal(c) in by_normal
    }


def _excel_ids(s: pd.Series) -> pd.Series:
    """Identifiers from Excel cells as text: whole numbers without a trailing ``.0``."""
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        return s
    present = s.notna()
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(v) & (v == np.round(v))
        text = np.where(whole, np.round(v).astype(np.int64).astype(str), s.astype(str))
        return pd.Series(text, index=s.index, dtype="str").where(present)

    def one(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return s.map(one, na_action="ignore").astype("str").where(present)


def _whole_numbers(df: pd.DataFrame, exclude: Sequence[str]) -> pd.DataFrame:
    """Excel stores every number as a float: whole-number columns become int64, as in a CSV."""
    for col in df.columns:
        if col in exclude:
            continue
        s = df[col]
        if pd.api.types.is_float_dtype(s) and s.notna().all():
            v = s.to_numpy(dtype=float)
            if np.all(v == np.round(v)) and np.all(np.abs(v) < 2**53):
                df[col] = v.astype(np.int64)
    return df


def _rows(df: pd.DataFrame, id_col: str | None) -> Any:
    def rows(mask: np.ndarray) -> Rows:
        positions = np.flatnonzero(mask)
        if id_col is None:
            return Rows(positions, positions, label=None)
        return Rows(df[id_col].to_numpy()[mask], positions, label=id_col)

    return rows
