"""The proven-reoffending cohort of a scheme report, from the files its configuration names.

Every scheme report reads the cohort's tables from ``[data]`` with the ``[reader]`` options
(:meth:`evalkit.report.AnalysisConfig.read`) and builds the cohort with
:func:`evalkit.proven_reoffending`, its data end the extract's date::

    tables = rp.read_cohort_tables(cfg)            # people, offences, custody, deaths
    tables["people"]["group"] = tables["people"]["group"].astype("string")
    cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=365, waiting_days=182)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from evalkit.errors import InputError

if TYPE_CHECKING:
    from evalkit.cohort import Cohort
    from evalkit.report.config import AnalysisConfig

__all__ = ["COHORT_TABLES", "read_cohort_tables", "reoffending_cohort"]

COHORT_TABLES: tuple[str, ...] = ("people", "offences", "custody", "deaths")
"""The tables of a proven-reoffending cohort, as named in ``[data]``."""


def read_cohort_tables(cfg: AnalysisConfig) -> dict[str, pd.DataFrame]:
    """The cohort's tables listed in the configuration's ``[data]``, read as it says.

    Parameters
    ----------
    cfg
        The analysis configuration.

    Returns
    -------
    dict
        ``{name: table}`` for each of ``people``, ``offences``, ``custody`` and ``deaths``
        listed in ``[data]`` (custody and deaths are optional), in that order.

    Raises
    ------
    InputError
        If ``people`` or ``offences`` is not listed, or a file breaks a rule of the reader.
    """
    for name in COHORT_TABLES[:2]:
        cfg.data_path(name)  # a clear error naming [data] when it is not listed
    return {name: cfg.read(name) for name in COHORT_TABLES if name in cfg.data}


def reoffending_cohort(
    cfg: AnalysisConfig,
    tables: Mapping[str, pd.DataFrame],
    *,
    follow_up_days: int,
    waiting_days: int,
    at_risk: str = "calendar",
) -> Cohort:
    """The proven-reoffending cohort of ``tables``, with the extract's date as its data end.

    Calls :func:`evalkit.proven_reoffending` with the people, offences, custody and deaths
    tables (the last two when present) and ``data_end`` the configuration's ``data_date`` when
    it is a full date (``YYYY-MM-DD``): people whose follow-up and waiting period end later are
    excluded. A ``data_date`` of a year or a month only sets no data end.

    Parameters
    ----------
    cfg
        The analysis configuration.
    tables
        The cohort's tables (:func:`read_cohort_tables`, adjusted as the analysis needs).
    follow_up_days, waiting_days
        The follow-up period, and the further period in which an offence may be proven.
    at_risk
        ``"calendar"`` (every day counts) or ``"free"`` (days in custody removed).

    Returns
    -------
    evalkit.Cohort
        One row per person and the exclusion flow.
    """
    from evalkit.cohort import proven_reoffending

    missing = [n for n in COHORT_TABLES[:2] if n not in tables]
    if missing:
        raise InputError("tables", f"must hold the {missing[0]} table")
    return proven_reoffending(
        tables["people"],
        tables["offences"],
        tables.get("custody"),
        tables.get("deaths"),
        follow_up_days=follow_up_days,
        waiting_days=waiting_days,
        data_end=cfg.data_date if len(cfg.data_date) == 10 else None,
        at_risk=at_risk,
    )
