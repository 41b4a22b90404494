"""Statistical disclosure control for every count a report shows.

A published table must not let a reader learn something about a person. The rules applied here
follow the UK Government Statistical Service's guidance on tables of counts:

1. **Primary suppression.** A count below ``threshold`` (default 5) is withheld. Zero counts
   are withheld too unless ``allow_zeros=True`` (a zero can disclose that *everyone* in a group
   shared an outcome).
2. **Secondary suppression.** Cells related by published totals — a row total, a total row, a
   group size from which the complement of a count follows (``n - events``), or any constraint
   given explicitly — are checked with linear algebra: a withheld cell whose value could be
   solved for exactly from the published cells is protected by withholding the smallest
   related published cell, repeatedly, until no small count can be recovered.
3. **Percentages** computed from a withheld count (or with a withheld denominator) are withheld:
   a percentage and its denominator give the count back.
4. **Rounding** (optional, ``round_to=5``) rounds every published count to the nearest multiple.

Withheld cells show ``[c]`` (the GSS symbol for confidential), never ``<5``: a secondarily
suppressed cell can be large, and marking which cells are small would undo the protection.

Person-level rows are a separate matter: reports never show them, and the build fails if any
identifier from an input's ``person_id`` column (or its declared ``id_column``) appears in a
report (see :func:`evalkit.report.page.scan_page`).

References
----------
Government Statistical Service (2021). *Statistical disclosure control for tables produced from
administrative data sources* (GSS guidance). Office for National Statistics (2019). *Disclosure
control policy for tables*. Hundepool, A. et al. (2012). *Statistical Disclosure Control*,
Wiley, ch. 4 (frequency tables, secondary suppression), doi:10.1002/9781118348239.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import InputError

__all__ = ["SUPPRESSED", "Disclosure", "ProtectedTable", "protect_table"]

SUPPRESSED = "[c]"
"""Symbol shown in place of a withheld value (GSS convention: confidential)."""

Cell = tuple[Any, ...]


@dataclass(frozen=True)
class Disclosure:
    """Disclosure-control settings.

    Parameters
    ----------
    threshold
        Counts below this are withheld (default 5). Must be at least 1.
    round_to
        Round published counts to the nearest multiple of this (0 or 1: no rounding).
    allow_zeros
        Publish zero counts (default False: zeros are withheld like other small counts).

    Examples
    --------
    >>> d = Disclosure()
    >>> d.count(3), d.count(12), d.count(1234)
    ('fewer than 5', '12', '1,234')
    >>> Disclosure(round_to=5).count(12)
    '10'
    """

    threshold: int = 5
    round_to: int = 0
    allow_zeros: bool = False

    def __post_init__(self) -> None:
        for name in ("threshold", "round_to"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        if self.threshold < 1:
            raise ValueError(f"threshold must be at least 1, not {self.threshold}")
        if self.round_to < 0:
            raise ValueError(f"round_to must be 0 (no rounding) or positive, not {self.round_to}")
        if not isinstance(self.allow_zeros, bool):
            raise ValueError(f"allow_zeros must be true or false, not {self.allow_zeros!r}")

    def is_small(self, n: int) -> bool:
        """True if the count ``n`` must be withheld under the primary rule."""
        if n == 0 and self.allow_zeros:
            return False
        return n < self.threshold

    def rounded(self, n: int) -> int:
        """``n`` rounded half up to the nearest ``round_to`` (unchanged without rounding)."""
        if self.round_to <= 1:
            return int(n)
        return int(np.floor(n / self.round_to + 0.5)) * self.round_to

    def count(self, n: int) -> str:
        """A count for running text: ``"fewer than 5"`` when small, else the (rounded) number."""
        n = _as_count(n, "count")
        if self.is_small(n):
            return f"fewer than {self.threshold}"
        return f"{self.rounded(n):,}"

    def describe(self) -> str:
        """One sentence stating the rules, for a report's methods section."""
        zeros = "" if self.allow_zeros else " (including zeros)"
        text = (
            f"Counts below {self.threshold}{zeros} are withheld and shown as {SUPPRESSED}, "
            "as are other cells from which a withheld count could be worked out, and "
            "percentages based on withheld counts."
        )
        if self.round_to > 1:
            text += f" Published counts are rounded to the nearest {self.round_to}."
        return text


def _as_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or value is None:
        raise InputError(what, f"must be a whole non-negative count, not {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(what, f"must be a whole non-negative count, not {value!r}") from None
    if not np.isfinite(f) or f < 0 or f != np.floor(f):
        raise InputError(what, f"must be a whole non-negative count, not {value!r}")
    return int(f)


@dataclass(frozen=True)
class ProtectedTable:
    """A table after disclosure control.

    Attributes
    ----------
    table
        The input table with withheld cells set to ``pd.NA`` (count columns become nullable
        ``Int64``, rounded if asked; percentage columns nullable ``Float64``).
    withheld
        Boolean DataFrame, same index as ``table``, one column per count or percentage column:
        True where the value is withheld.
    n_primary, n_secondary
        How many count cells were withheld for being small, and to protect those.
    counts, percents
        The count columns and the percentage columns that were protected.
    disclosure
        The settings applied.
    """

    table: pd.DataFrame
    withheld: pd.DataFrame
    n_primary: int
    n_secondary: int
    counts: tuple[str, ...]
    percents: tuple[str, ...]
    disclosure: Disclosure = field(default_factory=Disclosure)

    @property
    def any_withheld(self) -> bool:
        """True if anything was withheld."""
        return bool(self.withheld.to_numpy().any())


def _null_space(a: np.ndarray) -> np.ndarray:
    """Orthonormal basis (columns) of the null space of ``a``."""
    if a.shape[0] == 0:
        return np.eye(a.shape[1])
    _, s, vt = np.linalg.svd(a, full_matrices=True)
    tol = max(a.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)
    rank = int((s > tol).sum())
    return np.asarray(vt[rank:].T)


def _determined(a: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """For each cell, whether it is unknown but solvable exactly from the constraints.

    With published cells moved to the right-hand side, the unknown cells satisfy
    ``A[:, U] x = b``; cell ``j`` is pinned down exactly iff every null-space direction of
    ``A[:, U]`` leaves it unchanged.
    """
    out = np.zeros(a.shape[1], dtype=bool)
    idx = np.flatnonzero(unknown)
    if idx.size == 0:
        return out
    sub = a[:, idx]
    rows = np.abs(sub).sum(axis=1) > 0
    basis = _null_space(sub[rows])
    free = np.abs(basis).max(axis=1, initial=0.0) > 1e-9
    out[idx] = ~free
    return out


def _neighbours(a: np.ndarray, j: int, unknown: np.ndarray) -> np.ndarray:
    """Cells sharing a constraint with the unknown cells linked to cell ``j``.

    Starting from ``j``, follow constraints through unknown cells only; the published cells met
    on the way are where withholding one more value can break the chain that exposes ``j``.
    """
    involved = np.abs(a) > 0
    component = np.zeros(a.shape[1], dtype=bool)
    component[j] = True
    while True:
        rows = involved[:, component].any(axis=1)
        reach = involved[rows].any(axis=0) & unknown
        if (reach | component).sum() == component.sum():
            break
        component |= reach
    rows = involved[:, component].any(axis=1)
    return np.asarray(involved[rows].any(axis=0) & ~component)


def protect_table(
    table: pd.DataFrame,
    *,
    counts: Sequence[str],
    percents: Mapping[str, str | tuple[str, str]] | None = None,
    row_total: str | None = None,
    total_row: Any = None,
    complements: Mapping[str, str] | None = None,
    constraints: Sequence[tuple[Cell, Sequence[Cell]]] = (),
    disclosure: Disclosure | None = None,
) -> ProtectedTable:
    """Apply primary and secondary suppression (and optional rounding) to a table of counts.

    Parameters
    ----------
    table
        One row per category; columns include the counts.
    counts
        Count columns (whole, non-negative numbers).
    percents
        Percentage (or rate) columns derived from counts: ``{"pct": "events"}`` or
        ``{"pct": ("events", "n")}``. A percentage is withheld when its count or its denominator
        is withheld.
    row_total
        A count column equal to the sum of the other count columns in its row.
    total_row
        Index label of a row equal to the sum of the other rows (in every count column).
    complements
        ``{"events": "n"}``: ``n - events`` is an implied count (e.g. people who did *not*
        reoffend) that is protected like a published one.
    constraints
        Further sums, each ``((row_label, column), [(row_label, column), ...])``: the first cell
        equals the sum of the others.
    disclosure
        Settings (default :class:`Disclosure()`: threshold 5, zeros withheld, no rounding).

    Returns
    -------
    ProtectedTable

    Notes
    -----
    Secondary suppression protects against *exact* recovery of a withheld count from the linear
    relations declared here; it does not bound how narrowly a withheld value can be bracketed
    (interval disclosure), and it knows only the relations it is told about. Relations with
    other tables in the same report (the same count shown twice) must be declared or avoided.
    The cell chosen for secondary suppression is the smallest published cell related to the
    exposed one, preferring cells that are not totals.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, section 4.2.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": ["a", "b", "c"], "reoffended": [3, 40, 52]})
    >>> t.loc[3] = ["total", 95]
    >>> p = protect_table(t, counts=["reoffended"], total_row=3)
    >>> p.table["reoffended"].tolist()
    [<NA>, <NA>, 52, 95]
    """
    disclosure = disclosure if disclosure is not None else Disclosure()
    if not isinstance(table, pd.DataFrame):
        raise InputError(None, "must be a pandas DataFrame", table="table")
    if not table.index.is_unique:
        raise InputError(None, "index labels must be unique", table="table")
    counts = list(counts)
    percents = dict(percents or {})
    complements = dict(complements or {})
    for col in [*counts, *percents]:
        if col not in table.columns:
            raise InputError(col, "is not a column of the table", table="table")
    if row_total is not None and row_total not in counts:
        raise InputError(row_total, "row_total must be one of the count columns", table="table")
    if total_row is not None and total_row not in table.index:
        raise InputError(None, f"total_row {total_row!r} is not an index label", table="table")
    for part, whole in complements.items():
        if part not in counts or whole not in counts:
            raise InputError(part, f"complements {part!r}: {whole!r} must both be count columns")

    labels = list(table.index)
    values: dict[Cell, int] = {}
    for col in counts:
        for label, v in zip(labels, table[col].tolist(), strict=True):
            values[(label, col)] = _as_count(v, f"{col} (row {label!r})")

    cells: list[Cell] = list(values)
    real = [True] * len(cells)
    sums: list[tuple[Cell, list[Cell]]] = []
    if row_total is not None:
        addends = [c for c in counts if c != row_total]
        sums += [((lab, row_total), [(lab, c) for c in addends]) for lab in labels]
    if total_row is not None:
        others = [lab for lab in labels if lab != total_row]
        sums += [((total_row, c), [(lab, c) for lab in others]) for c in counts]
    for part, whole in complements.items():
        for lab in labels:
            virtual: Cell = ("complement", lab, part)
            values[virtual] = values[(lab, whole)] - values[(lab, part)]
            if values[virtual] < 0:
                raise InputError(part, f"exceeds {whole}", [lab], table="table")
            cells.append(virtual)
            real.append(False)
            sums.append(((lab, whole), [(lab, part), virtual]))
    for given_total, given_parts in constraints:
        for c in (given_total, *given_parts):
            if tuple(c) not in values:
                raise InputError(None, f"constraint cell {c!r} is not a count cell", table="table")
        sums.append((tuple(given_total), [tuple(c) for c in given_parts]))

    position = {c: i for i, c in enumerate(cells)}
    a = np.zeros((len(sums), len(cells)))
    for k, (total, parts) in enumerate(sums):
        a[k, position[total]] -= 1.0
        for c in parts:
            a[k, position[c]] += 1.0
    vals = np.array([values[c] for c in cells])
    is_real = np.array(real, dtype=bool)
    is_total = np.zeros(len(cells), dtype=bool)
    for total, _ in sums:
        is_total[position[total]] = True
    small = np.array([disclosure.is_small(int(v)) for v in vals], dtype=bool)
    withheld = small & is_real
    n_primary = int(withheld.sum())

    while True:
        unknown = withheld | ~is_real
        exposed = _determined(a, unknown) & small
        if not exposed.any():
            break
        j = int(np.flatnonzero(exposed)[0])
        related = _neighbours(a, j, unknown) & is_real & ~withheld
        if not related.any():  # pragma: no cover - an exposed cell always has a published neighbour
            break
        candidates = np.flatnonzero(related)
        best = min(candidates, key=lambda i: (bool(is_total[i]), int(vals[i]), int(i)))
        withheld[best] = True

    n_secondary = int(withheld.sum()) - n_primary
    out = table.copy()
    mask = pd.DataFrame(False, index=table.index, columns=[*counts, *percents])
    for i, c in enumerate(cells):
        if is_real[i] and withheld[i]:
            mask.loc[c[0], c[1]] = True
    for col in counts:
        published = [disclosure.rounded(values[(lab, col)]) for lab in labels]
        out[col] = pd.array(published, dtype="Int64")
        out.loc[mask[col].to_numpy(), col] = pd.NA
    for pct, source in percents.items():
        used = (source,) if isinstance(source, str) else tuple(source)
        for col in used:
            if col not in counts:
                raise InputError(pct, f"is derived from {col!r}, which is not a count column")
        hide = np.zeros(len(labels), dtype=bool)
        for col in used:
            hide |= mask[col].to_numpy()
        mask[pct] = hide
        out[pct] = pd.array(table[pct].to_numpy(dtype=float), dtype="Float64")
        out.loc[hide, pct] = pd.NA
    return ProtectedTable(
        table=out,
        withheld=mask,
        n_primary=n_primary,
        n_secondary=n_secondary,
        counts=tuple(counts),
        percents=tuple(percents),
        disclosure=disclosure,
    )
