"""Input checks shared by the matching functions: the two arms, per-row values, the index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._design import two_groups
from evalkit._options import check_columns, option_error
from evalkit.errors import InputError
from evalkit.schema import check_frame, check_numeric, require_columns, row_ids


@dataclass(frozen=True)
class Arms:
    """The checked data of a two-arm call: the frame, its covariates and the group code."""

    df: pd.DataFrame
    covariates: list[str]
    z: np.ndarray  # int8, 1 = the programme (treated) arm
    group: str
    treated: Any
    control: Any


def arms(
    df: Any,
    group: Any,
    treated: Any,
    covariates: Any,
    *,
    exact: Sequence[str] = (),
    need_covariates: bool = True,
) -> Arms:
    """Check the frame, the covariate list and the group column; code the programme arm 0/1.

    ``exact`` lists further columns (exact-matching cells) that must exist and must not be the
    group column. With ``need_covariates`` an empty covariate list is refused.
    """
    df = check_frame(df)
    if not isinstance(group, str):
        raise option_error("group", "must be the name of the column holding the two arms", group)
    covs = check_columns(covariates, "covariates", allow_empty=not need_covariates)
    require_columns(df, [group, *covs, *exact])
    for name, cols in (("covariates", covs), ("exact", exact)):
        if group in cols:
            raise option_error(name, f"must not include the group column '{group}'")
    z, treated_label, control_label = two_groups(df, group, treated)
    return Arms(df, covs, z, group, treated_label, control_label)


def check_index(df: pd.DataFrame) -> None:
    """Refuse duplicated index labels: matched sets and weights are reported by row label."""
    if not df.index.is_unique:
        dup = pd.unique(df.index[df.index.duplicated(keep=False)])
        raise InputError(
            None,
            "the index must be unique: matched sets and weights are reported by row label "
            "(reset it with df.reset_index(drop=True))",
            dup,
        )


def row_values(df: pd.DataFrame, value: Any, name: str) -> np.ndarray:
    """One finite number per row: a column name, or a sequence/array/Series of values.

    A Series must carry the index of ``df``. Returns a new float64 array (never a view of the
    caller's data).
    """
    if isinstance(value, str):
        require_columns(df, [value])
        return np.array(check_numeric(df, value), dtype=float)
    if isinstance(value, pd.Series) and not value.index.equals(df.index):
        raise option_error(name, "a Series must have the same index as df")
    try:
        if isinstance(value, pd.Series):
            values = value.to_numpy(dtype=float, na_value=np.nan, copy=True)
        else:
            values = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise option_error(name, "must be a column name or one number per row") from None
    if values.shape != (len(df),):
        raise option_error(name, f"must have one value per row ({len(df)}), not {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(name, "must be finite and not missing", row_ids(df, bad), argument=True)
    return values
