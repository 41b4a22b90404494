"""The example extract, and writing an extract the ways users have it.

:func:`load_example_extract` gives the synthetic extract that the analysis template runs on
(``example_extract/*.csv``, written by ``tools/make_example_extract.py``). :func:`write_extract`
writes any extract as ISO-dated CSV, as a UK-style CSV or as Excel workbooks: UK-style is what a
PCC analyst or a probation data team exports (headers in words such as "Person ID", dates written
day first, ``02/03/2024``); :data:`UK_COLUMNS` maps those headers back to evalkit's names, as a
user gives it to :func:`evalkit.read_table`. They let a user try the reader's options, and tests
check that the three forms give the same cohort.

Both are synthetic data, and say so: the example extract's folder and every folder
:func:`write_extract` writes hold evalkit's synthetic-data marker (an ``EVALKIT-SYNTHETIC`` file,
:func:`evalkit.io.mark_synthetic`), so that a report built on them is labelled synthetic.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

from evalkit._options import check_choice

__all__ = ["UK_COLUMNS", "UK_HEADERS", "load_example_extract", "write_extract"]

UK_HEADERS = {
    "person_id": "Person ID",
    "index_date": "Index Date",
    "group": "Group",
    "age": "Age",
    "sex": "Sex",
    "prior_offences": "Prior Offences",
    "sentence_length_days": "Sentence Length (days)",
    "offence_date": "Offence Date",
    "disposal_date": "Disposal Date",
    "disposal": "Disposal",
    "start": "Custody Start",
    "end": "Custody End",
    "date": "Date of Death",
}
UK_COLUMNS = {v: k for k, v in UK_HEADERS.items()}
"""``{"Person ID": "person_id", ...}``: the ``columns`` mapping for the UK forms."""


def load_example_extract() -> dict[str, pd.DataFrame]:
    """The synthetic example extract: people, offences, custody and deaths tables.

    800 synthetic people released from prison between May 2022 and April 2023, 30% of them in a
    programme that lowers the hazard of a proven reoffence (true hazard ratio 0.8), with their
    offences, custody spells and deaths, as :func:`simulate_reoffending` makes them (seed 2024;
    comparison-group proven reoffending about 57%, as for short custodial sentences). Synthetic:
    no real person is in it. Read with :func:`evalkit.read_table`, so dates are dates.

    Examples
    --------
    >>> from evalkit.datasets import load_example_extract
    >>> tables = load_example_extract()
    >>> sorted(tables), len(tables["people"])
    (['custody', 'deaths', 'offences', 'people'], 800)
    """
    from evalkit.io import read_table

    folder = resources.files(__package__).joinpath("example_extract")
    out = {}
    for name in ("people", "offences", "custody", "deaths"):
        with resources.as_file(folder.joinpath(f"{name}.csv")) as path:
            out[name] = read_table(path, table=name)
    return out


def write_extract(
    tables: dict[str, pd.DataFrame], folder: str | os.PathLike[str], style: str = "uk"
) -> dict[str, Path]:
    """Write an extract's tables to ``folder``; return the path of each file.

    Parameters
    ----------
    tables
        ``{"people": ..., "offences": ..., ...}`` with evalkit's column names and date columns.
    folder
        Where to write (created).
    style
        ``"iso"``: ``people.csv`` etc. with evalkit's headers and ISO dates. ``"uk"``:
        ``People.csv`` etc. with the headers of :data:`UK_HEADERS` and dates as ``dd/mm/yyyy``.
        ``"xlsx"``: ``People.xlsx`` etc., UK headers, dates as Excel date cells (needs
        ``openpyxl``).

    The tables are taken to be synthetic (evalkit's own simulations, such as
    :func:`simulate_reoffending`): the folder gets the synthetic-data marker
    (:func:`evalkit.io.mark_synthetic`), so that reports built on these files say they are
    synthetic. Do not use it to write real data.
    """
    from evalkit.io import mark_synthetic

    style = check_choice(style, "style", ("iso", "uk", "xlsx"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in tables.items():
        out = df.copy() if style == "iso" else df.rename(columns=UK_HEADERS)
        if style in ("iso", "uk"):
            text = "%Y-%m-%d" if style == "iso" else "%d/%m/%Y"
            for c in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[c]):
                    out[c] = out[c].dt.strftime(text)
            paths[name] = folder / (f"{name}.csv" if style == "iso" else f"{name.capitalize()}.csv")
            out.to_csv(paths[name], index=False, lineterminator="\n")
        else:
            paths[name] = folder / f"{name.capitalize()}.xlsx"
            out.to_excel(paths[name], index=False, sheet_name=name.capitalize())
    mark_synthetic(folder)
    return paths
