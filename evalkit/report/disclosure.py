"""Statistical disclosure control for every count a report shows.

A published table must not let a reader learn something about a person. The rules applied here
follow the UK Government Statistical Service's guidance on tables of counts:

1. **Primary suppression.** A count below ``threshold`` (default 5) is withheld. Zero counts
   are withheld too unless ``allow_zeros=True`` (a zero can disclose that *everyone* in a group
   shared an outcome: "nobody in group X reoffended").
2. **Secondary suppression covers every declared total.** Cells are related by published
   totals — a row total, a total row, a group size from which the complement of a count follows
   (``n - events``), or any sum given explicitly. A *flow table* (input count, the exclusions,
   what remains) is the same relation read the other way — the input equals the exclusions plus
   what remains — and is declared with ``total_row`` = the input row. The rule:

       every withheld small count (and every implied one, such as ``n - events``) can take
       values spanning at least ``threshold`` — its smallest and largest values over all tables
       of non-negative counts that agree with the published cells and the declared relations
       differ by at least ``threshold`` — and no withheld cell is determined by the rest.

   So a reader can neither solve for a withheld count nor bracket it inside a range narrower
   than the threshold; its range always reaches ``threshold`` or more, so it is not even clear
   that it is small. Non-negativity matters: two withheld exclusions beside a published input
   and remainder that differ by 0 are both 0, although neither can be solved for by linear
   algebra alone; one withheld exclusion between two published totals is their difference. The
   ranges are found by linear programming (each withheld small count minimised and maximised);
   while one is too narrow, the smallest published cell sharing a relation with it is withheld
   too, preferring cells that are not totals. In a flow (``total_row`` is the *first* row) the
   last row, what remains, is withheld only after the input: it is the population the rest of
   a report describes, so its size is usually published elsewhere and withholding it would
   protect nothing. A secondarily withheld cell that the rest of the table determines exactly
   is then published, as withholding it would hide nothing.
3. **Percentages** computed from a withheld count (or with a withheld denominator) are withheld:
   a percentage and its denominator give the count back.
4. **Rounding** (optional, ``round_to=5``) rounds every published count to the nearest multiple.
   Secondary suppression does not rely on it (percentages and other statistics computed from
   unrounded counts can undo rounding): the rule above holds with the published counts taken
   as exact, so it holds all the more for a reader who knows only the rounded values.

The chosen rule is rule 2, not "publish zeros where they are not disclosive": whether a zero
discloses something about a group depends on what the rows are, which this module cannot tell.
A table whose zeros are harmless (e.g. exclusion counts in a flow: "nobody died before their
index date" says nothing about a person) can say so with ``allow_zeros=True``; its zeros are then
published and need no protection. The protection covers the relations declared for the table;
the same count shown in another table of the report is a relation this module does not see.

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

from evalkit._options import check_flag, check_int, option_error
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
                raise option_error(name, "must be a whole number", value)
        check_int(self.threshold, "threshold", minimum=1)
        check_int(self.round_to, "round_to", minimum=0)
        check_flag(self.allow_zeros, "allow_zeros")

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
            f"Counts below {self.threshold}{zeros} are withheld and shown as {SUPPRESSED}. "
            "Other counts are withheld with them where needed, so that no withheld count can be "
            "worked out from the table's totals and other cells, or narrowed down to a range of "
            f"less than {self.threshold}; percentages based on withheld counts are withheld too."
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


def _range(a: np.ndarray, vals: np.ndarray, unknown: np.ndarray, j: int) -> tuple[float, float]:
    """Smallest and largest value of unknown cell ``j`` over every non-negative solution.

    Rows of ``a`` are the declared relations (``a @ cells == 0``). Known cells are fixed at their
    values, unknown cells range over ``[0, inf)``; the two linear programmes minimise and
    maximise cell ``j``. Only the unknown cells linked to ``j`` through the relations matter (the
    problem splits into independent blocks), so only that block is solved. Whole counts: the
    bounds are rounded inwards, so the range is never wider than the whole-number one.
    """
    from scipy.optimize import linprog

    involved = np.abs(a) > 0
    block = np.zeros(a.shape[1], dtype=bool)
    block[j] = True
    while True:
        rows = involved[:, block].any(axis=1)
        grown = block | (involved[rows].any(axis=0) & unknown)
        if grown.sum() == block.sum():
            break
        block = grown
    if not rows.any():
        return 0.0, float("inf")
    idx = np.flatnonzero(block)
    a_eq = a[np.ix_(rows, idx)]
    known = ~unknown
    b_eq = -a[np.ix_(rows, np.flatnonzero(known))] @ vals[known].astype(float)
    objective = np.zeros(idx.size)
    objective[int(np.flatnonzero(idx == j)[0])] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        res = linprog(sign * objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res.status == 3:  # unbounded: only possible when maximising
            ends.append(float("inf"))
        elif res.status == 0:
            ends.append(sign * float(res.fun))
        else:  # pragma: no cover - the true table is always a solution
            raise RuntimeError(f"disclosure check failed: {res.message}")
    lo, hi = ends
    lo = float(np.ceil(lo - 1e-7))
    hi = float(np.floor(hi + 1e-7)) if np.isfinite(hi) else hi
    return lo, max(hi, lo)


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
        Index label of a row equal to the sum of the other rows (in every count column). A flow
        table (input count, the exclusions, what remains) is declared with its input row here:
        the input equals the exclusions plus what remains.
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
    Secondary suppression protects against *exact* recovery and against *interval* disclosure:
    with every count non-negative, each withheld small count (and each implied one) keeps a
    range of possible values at least ``threshold`` wide (see the module docstring). It knows
    only the relations it is told about: relations with other tables in the same report (the
    same count shown twice) must be declared or avoided. The cell chosen for secondary
    suppression is the smallest published cell related to the exposed one, preferring cells
    that are not totals, and in a flow (``total_row`` first) the input over what remains.

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
    broken = np.flatnonzero(a @ vals != 0)
    if broken.size:
        total, _ = sums[int(broken[0])]
        what = "a complement" if total[0] == "complement" else f"row {total[0]!r}"
        raise InputError(
            str(total[-1]),
            f"{what} is declared a total (total_row, row_total or constraints) but is not the "
            "sum of its parts",
            table="table",
        )
    is_real = np.array(real, dtype=bool)
    # Preference when withholding more: ordinary cells (0), then totals (1), then what remains
    # at the end of a flow (2): a total row placed first is read as a flow's input, and its
    # last row is the population the rest of a report describes (its size is shown elsewhere,
    # so withholding it here would protect nothing).
    rank = np.zeros(len(cells), dtype=int)
    for total, _ in sums:
        rank[position[total]] = 1
    if total_row is not None and len(labels) > 1 and labels[0] == total_row:
        for col in counts:
            rank[position[(labels[-1], col)]] = 2
    small = np.array([disclosure.is_small(int(v)) for v in vals], dtype=bool)
    withheld = small & is_real
    n_primary = int(withheld.sum())

    # Withholding more cells only widens every range, so a cell once protected stays protected.
    protected = ~small
    while True:
        unknown = withheld | ~is_real
        exposed = None
        for j in np.flatnonzero(~protected):
            lo, hi = _range(a, vals, unknown, int(j))
            if hi - lo >= disclosure.threshold:
                protected[j] = True
            else:
                exposed = int(j)
                break
        if exposed is None:
            break
        related = _neighbours(a, exposed, unknown) & is_real & ~withheld
        if not related.any():  # pragma: no cover - only if the relations alone fix the cell
            raise InputError(None, "its declared relations fix a withheld count", table="table")
        candidates = np.flatnonzero(related)
        best = min(candidates, key=lambda i: (int(rank[i]), int(vals[i]), int(i)))
        withheld[best] = True

    # A secondarily withheld cell that the rest of the table determines hides nothing: publish it
    # (publishing a determined value leaves every other range as it was).
    unknown = withheld | ~is_real
    for k in np.flatnonzero(withheld & ~small).tolist():
        lo, hi = _range(a, vals, unknown, k)
        if lo == hi:
            withheld[k] = False

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
