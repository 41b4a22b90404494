"""Small data sets shipped with evalkit, loaded through :mod:`importlib.resources`.

Only openly licensed or synthetic data ship here: never person-level records of real people
other than published research data sets such as Rossi et al. (1980). The synthetic data sets
of the five schemes (:func:`simulate_scheme`, :func:`load_restart` and the others) carry their
known truth.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from evalkit.datasets.extracts import UK_COLUMNS, load_example_extract, write_extract
from evalkit.datasets.schemes import (
    SCHEME_UK_COLUMNS,
    SCHEMES,
    SchemeData,
    load_continuity_of_care,
    load_divert,
    load_fresh_start,
    load_portfolio,
    load_restart,
    load_scheme,
    scheme_path,
    simulate_scheme,
    write_scheme,
)
from evalkit.datasets.synthetic import simulate_reoffending

__all__ = [
    "SCHEMES",
    "SCHEME_UK_COLUMNS",
    "UK_COLUMNS",
    "SchemeData",
    "load_continuity_of_care",
    "load_divert",
    "load_example_extract",
    "load_fresh_start",
    "load_portfolio",
    "load_restart",
    "load_rossi",
    "load_scheme",
    "scheme_path",
    "simulate_reoffending",
    "simulate_scheme",
    "write_extract",
    "write_scheme",
]


def load_rossi() -> pd.DataFrame:
    """Rossi et al. (1980): recidivism of 432 men released from Maryland state prisons.

    A randomised trial of financial aid for released prisoners (the Life Insurance for Ex-Offenders
    experiment, LIFE): half of the men were randomly assigned to receive financial aid (``fin``)
    after release; they were followed for one year and the week of first arrest recorded.

    Source: Rossi, P.H., Berk, R.A. and Lenihan, K.J. (1980). *Money, Work and Crime: Some
    Experimental Results*. New York: Academic Press. As distributed with the ``carData`` R
    package (``Rossi``, reduced to the time-fixed covariates) and with lifelines
    (``lifelines.datasets.load_rossi``, MIT licence), from which this copy was taken unchanged.

    Returns
    -------
    pandas.DataFrame
        432 rows (one per man) and 9 integer columns:

        - ``week``: week of first arrest after release, or 52 if not arrested (censored);
        - ``arrest``: 1 if arrested during the year of follow-up, else 0;
        - ``fin``: 1 if the man received financial aid (the randomised treatment), else 0;
        - ``age``: age in years at release;
        - ``race``: 1 if black, else 0;
        - ``wexp``: 1 if the man had full-time work experience before incarceration, else 0;
        - ``mar``: 1 if married at release, else 0;
        - ``paro``: 1 if released on parole, else 0;
        - ``prio``: number of prior convictions.

    Examples
    --------
    >>> from evalkit.datasets import load_rossi
    >>> rossi = load_rossi()
    >>> rossi.shape
    (432, 9)
    >>> int(rossi["arrest"].sum())
    114
    """
    with resources.files(__package__).joinpath("rossi.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)
