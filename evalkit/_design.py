"""Design matrices, indicators and the two-arm group code, one way for every estimator.

Conventions (``docs/conventions.md``): a categorical covariate ``area`` becomes indicator
columns ``area[level]`` (R's ``model.matrix`` treatment contrasts); the reference level is the
first category of a pandas ``Categorical``, otherwise the first level in sorted order (R's
``factor()`` order in the C locale), unless ``reference={"area": "north"}`` names another; the
intercept is ``(Intercept)``. A two-arm method takes ``group=`` (a column) and ``treated=`` (the
label of the programme arm), so ``Cohort.data`` flows through unchanged and 0/1 columns work
with ``treated=1``.

References
----------
Chambers, J. M. & Hastie, T. J. (1992). Statistical Models in S, ch. 2 (model matrices and
treatment contrasts).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DesignError, InputError, SmallCountWarning, shown
from evalkit.schema import (
    MIN_SCALE,
    SMALL_RULE,
    check_covariates,
    check_magnitude,
    check_no_missing,
    check_numeric,
    row_ids,
    small_groups,
)

__all__ = [
    "COVARIATE_RANGE",
    "INTERCEPT",
    "Design",
    "design_matrix",
    "is_categorical",
    "levels_of",
    "two_groups",
    "warn_sparse_levels",
]

INTERCEPT = "(Intercept)"

#: The range of a numeric covariate's largest absolute value. A model's terms are combined in
#: one linear predictor and one information matrix: a covariate in the billions beside a 0/1
#: indicator spans more than twenty orders of magnitude in X'X, past what float64 (16 digits)
#: and the rank checks can resolve, so a fit would report a false collinearity or stop short
#: of the maximum. Rescaling changes nothing but the units of a coefficient: give income in
#: thousands, a duration in days rather than nanoseconds.
COVARIATE_RANGE = (MIN_SCALE, 1e10)


def is_categorical(s: pd.Series) -> bool:
    """Categorical for modelling: a ``Categorical``, or text/objects (not numbers, not bools)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return True
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def levels_of(
    s: pd.Series, reference: Any = None, *, column: str = "", table: str = "data"
) -> list:
    """Levels present in ``s``, reference first.

    A ``Categorical`` keeps its category order (unused categories dropped); other columns are
    sorted (mixed types that cannot be sorted are sorted by their text). ``reference`` moves
    that level to the front; it must be present.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = pd.unique(s.cat.codes.to_numpy())
        used = np.zeros(len(s.cat.categories), dtype=bool)
        used[present[present >= 0]] = True
        levels = [c for c, u in zip(s.cat.categories, used, strict=True) if u]
    else:
        values = pd.unique(s.dropna().to_numpy())
        try:
            levels = sorted(values)
        except TypeError:
            levels = sorted(values, key=str)
    levels = [_plain(v) for v in levels]
    if reference is not None:
        ref = _plain(reference)
        if ref not in levels:
            raise InputError(
                column or None,
                f"reference level not found; levels present are {levels!r}"
                + shown("reference", [ref]),
                table=table,
            )
        levels = [ref, *[v for v in levels if v != ref]]
    return levels


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


@dataclass(frozen=True, eq=False)
class Design:
    """A numeric design matrix and how its columns map back to the covariates.

    Attributes
    ----------
    X
        n × p float64 matrix (Fortran order: column slices are contiguous).
    names
        Column names: numeric covariates by name, indicators as ``col[level]``, the intercept
        as ``(Intercept)``.
    terms
        Covariate → its column names (one for a number, one per non-reference level).
    levels
        Categorical covariate → its levels, reference first.
    """

    X: np.ndarray
    names: list[str]
    terms: dict[str, list[str]] = field(default_factory=dict)
    levels: dict[str, list] = field(default_factory=dict)


def design_matrix(
    df: pd.DataFrame,
    covariates: Sequence[str],
    *,
    reference: Mapping[str, Any] | None = None,
    all_levels: bool = False,
    intercept: bool = False,
    table: str = "data",
    id_col: str | None = None,
) -> Design:
    """Covariates as a numeric matrix: numbers as they are, booleans 0/1, categories as indicators.

    Parameters
    ----------
    df, covariates
        The data and the covariate columns, in the order their columns should appear.
    reference
        Covariate → reference level, overriding the default (first category, else sorted).
    all_levels
        Give every level an indicator (balance tables, as MatchIt's and cobalt's); by default
        the reference level has none (treatment contrasts, as R's model formulae).
    intercept
        Put an ``(Intercept)`` column of ones first.

    Numbers stored as text and missing values are refused with the column and rows named; a
    categorical covariate with one level cannot be estimated and is refused unless
    ``all_levels``. A numeric covariate whose largest absolute value is outside
    :data:`COVARIATE_RANGE` (1e-10 to 1e10; a column of zeros aside) is refused with the
    rescaling that would bring it in.
    """
    reference = dict(reference or {})
    unknown = sorted(set(reference) - set(covariates))
    if unknown:
        raise InputError(
            "reference", f"names columns that are not covariates: {unknown}", argument=True
        )
    check_covariates(df, covariates, table=table, id_col=id_col)
    n = len(df)
    blocks: list[np.ndarray] = [np.ones(n)] if intercept else []
    names: list[str] = [INTERCEPT] if intercept else []
    terms: dict[str, list[str]] = {}
    levels: dict[str, list] = {}
    for col in covariates:
        s = df[col]
        if is_categorical(s):
            check_no_missing(df, col, table=table, id_col=id_col)
            lv = levels_of(s, reference.get(col), column=col, table=table)
            if len(lv) < 2 and not all_levels:
                raise InputError(
                    col,
                    "is constant (every row has the same level); its effect cannot be estimated"
                    + shown("level", lv),
                    table=table,
                )
            levels[col] = lv
            codes = pd.Index(lv, dtype=object).get_indexer(pd.Index(s.to_numpy(), dtype=object))
            use = range(len(lv)) if all_levels else range(1, len(lv))
            terms[col] = []
            for k in use:
                blocks.append((codes == k).astype(float))
                name = f"{col}[{lv[k]}]"
                names.append(name)
                terms[col].append(name)
        else:
            if col in reference:
                raise InputError(
                    "reference",
                    f"gives a reference level for '{col}', which is not categorical",
                    argument=True,
                )
            values = check_numeric(df, col, table=table, id_col=id_col)
            low, high = COVARIATE_RANGE
            check_magnitude(df, col, values, largest=high, smallest=low, table=table, id_col=id_col)
            blocks.append(values)
            names.append(col)
            terms[col] = [col]
    X = np.empty((n, len(blocks)), order="F")
    for k, b in enumerate(blocks):
        X[:, k] = b
    return Design(X, names, terms, levels)


def two_groups(
    df: pd.DataFrame,
    group: str,
    treated: Any = "programme",
    *,
    table: str = "data",
    id_col: str | None = None,
) -> tuple[np.ndarray, Any, Any]:
    """The programme indicator of a two-arm comparison: ``(z, treated, control)``.

    ``z`` is an int8 array, 1 where ``df[group] == treated``. The column must hold exactly two
    labels, no missing ones, one of them ``treated`` (``treated=1`` for a 0/1 column,
    ``treated=True`` for a boolean one). Returns the two labels as plain Python values.
    """
    if group not in df.columns:
        raise InputError(group, "is not a column of the data", table=table)
    check_no_missing(df, group, table=table, id_col=id_col)
    codes, uniques = pd.factorize(df[group], sort=False)
    labels = [_plain(u) for u in uniques]
    t = _plain(treated)
    matches = [i for i, lab in enumerate(labels) if _same(lab, t)]
    if not matches:
        hint = ""
        if len(labels) == 2 and all(isinstance(v, (int, float, bool)) for v in labels):
            hint = " (a 0/1 column needs treated=1)"
        raise InputError(
            group,
            f"has no rows labelled treated={t!r}{hint}; pass treated= the label of the "
            "programme arm" + shown("labels", sorted(labels, key=str)[:5]),
            table=table,
        )
    if len(labels) != 2:
        if len(labels) < 2:
            raise DesignError(
                f"column '{group}' in {table} has only one group ({t!r}); a two-arm comparison "
                "needs a comparison group too"
            )
        # the offending rows: those outside the programme arm and the largest other group
        counts = np.bincount(codes, minlength=len(labels))
        counts[matches[0]] = -1
        keep = {matches[0], int(np.argmax(counts))}
        odd = ~np.isin(codes, list(keep))
        raise InputError(
            group,
            f"must hold exactly two groups (the programme arm {t!r} and one comparison "
            f"group), but has {len(labels)}; filter the rows or recode the column"
            + shown("labels", sorted(labels, key=str)[:5]),
            row_ids(df, odd, id_col),
            table=table,
        )
    k = matches[0]
    z = (codes == k).astype(np.int8)
    return z, labels[k], labels[1 - k]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) != isinstance(b, str):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def check_rank(X: np.ndarray, names: Sequence[str], what: str) -> None:
    """Refuse a design whose columns are collinear, naming the dependent terms.

    Pivoted QR of the column-scaled matrix with R's ``qr()`` tolerance (1e-7 relative to the
    largest pivot, as ``lm``/``glm``): the columns pivoted past the rank are the ones that are
    constant or a linear combination of the others. ``what`` names the model in the message
    (``"propensity model"``, ``"ITS model"``…).
    """
    from scipy.linalg import qr

    if X.shape[0] < X.shape[1]:
        raise DesignError(f"the {what} has {X.shape[1]} terms but only {X.shape[0]} rows")
    if X.shape[1] == 0:
        return
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    _, r, piv = qr(X / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = 1e-7 * (diag[0] if diag.size else 0.0)
    rank = int(np.sum(diag > tol))
    if rank < X.shape[1]:
        dependent = [names[i] for i in piv[rank:]]
        raise InputError(
            dependent[0],
            f"is constant or a linear combination of the other terms (collinear), so the {what} "
            f"cannot estimate it; remove it (collinear terms: {dependent})",
        )


def warn_sparse_levels(
    design: Design, event: np.ndarray, *, what: str, stacklevel: int = 3
) -> None:
    """Warn (:class:`~evalkit.errors.SmallCountWarning`) about sparse levels of a model's
    categorical and 0/1 covariates.

    Each level of a categorical covariate (the reference level included) and each value of a
    0/1 (or boolean) covariate is a group of people; one with fewer than
    :data:`~evalkit.schema.MIN_GROUP_PEOPLE` people or
    :data:`~evalkit.schema.MIN_GROUP_EVENTS` events (``event`` > 0) makes the Wald interval
    and p-value of its coefficient unreliable, and a level with no events has an infinite
    coefficient (monotone likelihood). ``what`` names the model in the message.
    """
    index = {name: j for j, name in enumerate(design.names)}
    found: list[str] = []
    for col, term_names in design.terms.items():
        cols = [index[t] for t in term_names]
        labels: list[Any]
        if col in design.levels:
            labels = design.levels[col]
            block = design.X[:, cols]
            if len(cols) == len(labels):  # every level has an indicator (all_levels)
                codes = np.argmax(block, axis=1)
            else:  # the reference level is the rows with no indicator set
                codes = np.rint(block @ np.arange(1, len(cols) + 1)).astype(np.intp)
        else:
            x = design.X[:, cols[0]]
            lo, hi = float(x.min()), float(x.max())
            if lo != 0.0 or hi != 1.0 or np.count_nonzero(x) != np.count_nonzero(x == 1.0):
                continue  # not 0/1, or constant (refused by the model's own checks)
            labels = [0, 1]
            codes = x.astype(np.intp)
        found += small_groups(codes, event, labels, what=f"level of '{col}'")
    if found:
        shown_ = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        warnings.warn(
            f"{what}: sparse covariate levels ({shown_}); {SMALL_RULE}. A level with no events "
            "has an infinite coefficient. Pool levels or drop the covariate",
            SmallCountWarning,
            stacklevel=stacklevel,
        )
