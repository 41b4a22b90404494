"""Shared test helpers: the R reference data and the one way tests compare against them.

Reference values live in ``tests/reference/expected/*.csv``, written by the committed R scripts
``tests/reference/*.R`` (``make reference``); input data sets in ``tests/reference/data/``.
Tests never call R. Import the helpers with ``from conftest import assert_matches_r, expected``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REF = Path(__file__).resolve().parent / "reference"
RTOL = 1e-6  # R output is written to 17 significant digits; 1e-6 relative as agreed in STYLE.md
ATOL = 1e-12  # only for exact zeros


def expected(name: str, **read_csv: Any) -> pd.DataFrame:
    """An R reference table from ``tests/reference/expected/``."""
    return pd.read_csv(REF / "expected" / name, **read_csv)


def reference_data(name: str, **read_csv: Any) -> pd.DataFrame:
    """An input data set from ``tests/reference/data/`` (the data the R script analysed)."""
    return pd.read_csv(REF / "data" / name, **read_csv)


def assert_matches_r(
    actual: Any,
    reference: Any,
    what: str = "",
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Assert evalkit's numbers equal R's to ``rtol`` (relative), NaN where R has NA.

    ``what`` names the quantity in the failure message (e.g. ``"KM survival, rossi by fin"``).
    Shapes must agree; a length mismatch fails rather than broadcasting.
    """
    a = np.asarray(actual, dtype=float)
    r = np.asarray(reference, dtype=float)
    assert a.shape == r.shape, f"{what}: evalkit gives shape {a.shape}, R gives {r.shape}"
    np.testing.assert_allclose(a, r, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
