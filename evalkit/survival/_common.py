"""Machinery shared by the survival estimators: validation, one sort, confidence limits.

Every estimator is vectorised over rows sorted by (group, time): counts per distinct time come
from :func:`numpy.add.reduceat`, numbers at risk from reversed cumulative sums and variances
from cumulative sums, so tied whole-day times cost nothing extra and a million rows take a
fraction of a second. Loops run over groups, strata or causes, never over people.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalkit._options import check_columns, option_error
from evalkit.errors import _plain
from evalkit.schema import (
    check_frame,
    check_unique,
    group_codes,
    require_columns,
    validate_survival,
)

#: Confidence-interval transformations, as R's ``conf.type``.
CONF_TYPES = ("log-log", "log", "plain")

ConfType = Literal["log-log", "log", "plain"]

#: The label of the one curve (or row) when no ``by`` column is given.
ALL = "all"


@dataclass(frozen=True)
class Prepared:
    """Validated columns sorted by (block, time), where blocks are groups or, with strata, strata.

    Every estimator starts from this: one sort, then contiguous slices per block.
    """

    time: np.ndarray
    event: np.ndarray  # 0/1 as float, or integer cause codes
    weights: np.ndarray | None
    groups: list[Any]  # group labels in output order ([ALL] without ``by``)
    group_code: np.ndarray  # each sorted row's position in ``groups``
    bounds: np.ndarray  # rows of block b are bounds[b]:bounds[b + 1]

    def blocks(self) -> Iterable[tuple[int, slice]]:
        for b in range(len(self.bounds) - 1):
            yield b, slice(int(self.bounds[b]), int(self.bounds[b + 1]))


def order_rows(time: np.ndarray, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Row order sorted by (code, time) in O(n log n), O(n) for whole-day times.

    Whole-number times below 2¹⁵ (90 years of days) and codes are sorted with numpy's radix sort
    (stable sorts of 16-bit integers); other times with numpy's default comparison sort (the
    order of rows with tied times does not matter: they are aggregated).
    """
    if len(time) and time.max() < 2**15 and np.all(time == np.floor(time)):
        order = np.argsort(time.astype(np.int16), kind="stable")
    else:
        order = np.argsort(time)
    if n_codes > 1:
        sorted_codes = codes[order]
        if n_codes < 2**15:
            sorted_codes = sorted_codes.astype(np.int16)
        order = order[np.argsort(sorted_codes, kind="stable")]
    return order


def prepare(
    df: Any,
    *,
    time: str,
    event: str,
    by: str | None,
    weights: str | None = None,
    strata: str | Sequence[str] | None = None,
    causes: bool = False,
    min_groups: int = 1,
    id_col: str | None = None,
    pool_groups: bool = False,
) -> Prepared:
    """Validate with the shared evalkit.schema rules, code groups (and strata) and sort once.

    ``id_col``, when given, must be a column with one row per person (unique values).

    Blocks are the groups, or with ``pool_groups`` the strata (one block without strata).
    """
    df = check_frame(df)
    strata_cols = check_columns(strata, "strata")
    require_columns(df, [time, event, by, weights, id_col, *strata_cols])
    if id_col is not None:
        check_unique(df, id_col)
    v = validate_survival(df, time=time, event=event, weights=weights, causes=causes, id_col=id_col)
    t = v["time"]
    if by is not None:
        codes, labels = group_codes(df, by, min_groups=min_groups, id_col=id_col)
        groups = [_plain(g) for g in labels]  # np.int64(1) -> 1 in tables and reprs
    else:
        codes, groups = np.zeros(len(t), dtype=np.intp), [ALL]
    block, n_blocks = codes, len(groups)
    if pool_groups:  # log-rank: one block per stratum, groups travel as a per-row code
        block, n_blocks = np.zeros(len(t), dtype=np.intp), 1
    if len(strata_cols) == 1:
        block, levels = group_codes(df, strata_cols[0], id_col=id_col)
        n_blocks = len(levels)
    elif strata_cols:  # combinations of several columns that occur in the data
        combined = np.zeros(len(t), dtype=np.int64)
        for col in strata_cols:
            c, levels = group_codes(df, col, id_col=id_col)
            combined = combined * len(levels) + c
        uniq, inverse = np.unique(combined, return_inverse=True)
        block, n_blocks = inverse.astype(np.intp).ravel(), len(uniq)
    order = order_rows(t, block, n_blocks)
    event_values = v["event"] if causes else v["event"].astype(float)
    return Prepared(
        time=t[order],
        event=event_values[order],
        weights=v["weights"][order] if weights is not None else None,
        groups=groups,
        group_code=codes[order],
        bounds=np.searchsorted(block[order], np.arange(n_blocks + 1)),
    )


def group_column(groups: Sequence[Any], lengths: Iterable[int]) -> pd.Categorical:
    """Group labels for output rows: a categorical whose categories are the groups in order."""
    codes = np.repeat(np.arange(len(groups)), np.asarray(list(lengths), dtype=np.intp))
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(groups)))


def run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Index of the first element of every run of equal values in a sorted array."""
    new = np.empty(len(sorted_values), dtype=bool)
    if len(sorted_values):
        new[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.flatnonzero(new)


def suffix_sum(x: np.ndarray) -> np.ndarray:
    """``out[j] = x[j] + x[j+1] + …`` (numbers at risk from counts per distinct time)."""
    return np.cumsum(x[::-1], axis=0)[::-1]


def confint(
    p: np.ndarray, se_log: np.ndarray, crit: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits for a probability ``p`` from the SE of ``log p`` (R's survfit_confint).

    ``crit`` is the normal critical value (:func:`evalkit._inference.critical`). ``plain``:
    p ∓ crit·p·se, clipped to [0, 1]; ``log``: p·exp(∓crit·se), upper capped at 1; ``log-log``:
    exp(−exp(log(−log p) ∓ crit·se/log p)) (Kalbfleisch & Prentice 2002, §1.4). Where the
    estimate has no sampling variability yet (se = 0: no events so far) the interval is the
    point itself; where it is undefined (log of 0) it is NaN.
    """
    p = np.asarray(p, dtype=float)
    se_log = np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = crit * se_log * p
            lower = np.maximum(p - half, 0.0)
            upper = np.minimum(p + half, 1.0)
            # R's pmax/pmin propagate NaN; numpy's maximum/minimum do too.
        elif conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            lower = np.exp(np.log(xx) - crit * se_log)
            upper = np.minimum(np.exp(np.log(xx) + crit * se_log), 1.0)
        else:  # log-log
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            half = crit * se_log / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - half))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + half))
    degenerate = se_log == 0
    lower = np.where(degenerate, p, lower)
    upper = np.where(degenerate, p, upper)
    return lower, upper


def check_times(times: Any, name: str = "times") -> np.ndarray:
    """Requested time points: finite, non-negative numbers; returned sorted and de-duplicated."""
    arr = np.atleast_1d(np.asarray(times, dtype=object))
    try:
        values = arr.astype(float)
    except (TypeError, ValueError):
        raise option_error(name, "must be numbers", times) from None
    if values.size == 0:
        raise option_error(name, "must hold at least one time")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        shown = [_plain(v) for v in arr[bad]][:5]
        raise option_error(name, f"must be finite and not negative; offending times {shown}")
    return np.unique(values)


def counts(x: np.ndarray, weighted: bool) -> np.ndarray:
    """Counts as integers when unweighted (they are whole numbers), else as sums of weights."""
    return np.asarray(x, dtype=float) if weighted else np.rint(x).astype(np.int64)


def table_html(title: str, frame: pd.DataFrame, note: str = "") -> str:
    """A titled HTML table for notebooks (NA shown as ``NA``)."""
    body = frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="NA")
    extra = f"<p>{html.escape(note)}</p>" if note else ""
    return f"<p><strong>{html.escape(title)}</strong></p>{extra}{body}"
