"""Exceptions and warnings raised by evalkit.

Every public entry point validates its input and raises :class:`InputError` naming the
column, the rule that failed and up to five offending row identifiers, so that a user can find
the bad rows in their own data. Statistical problems that are not input errors (a model that did
not converge, a design that cannot answer the question) have their own classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConvergenceError",
    "DesignError",
    "EvalkitError",
    "InputError",
    "SmallCountWarning",
    "StatisticalWarning",
]

MAX_ROWS_SHOWN = 5


class EvalkitError(Exception):
    """Base class of every error evalkit raises on purpose."""


class InputError(EvalkitError, ValueError):
    """Input data break a rule: the message names the column, the rule and example rows.

    Parameters
    ----------
    column
        The offending column (or argument) name; ``None`` when the rule concerns the table.
    rule
        Plain-language statement of the rule that was broken, e.g. ``"must be 0 or 1"``.
    rows
        Identifiers (index labels or person ids) of the offending rows; the first five are shown
        and the total is counted.
    table
        Name of the input table (``"people"``, ``"offences"``, ``"data"``…), shown in the message.

    Attributes
    ----------
    column, rule, rows, n_rows, table
        As given; ``rows`` holds at most five identifiers and ``n_rows`` the total count.
    """

    def __init__(
        self,
        column: str | None,
        rule: str,
        rows: Iterable[Any] | None = None,
        *,
        table: str | None = None,
    ) -> None:
        all_rows = [] if rows is None else list(rows)
        self.column = column
        self.rule = rule
        self.table = table
        self.n_rows = len(all_rows)
        self.rows = all_rows[:MAX_ROWS_SHOWN]
        where = f" in {table}" if table else ""
        subject = f"column '{column}'{where}" if column is not None else (table or "input")
        msg = f"{subject}: {rule}"
        if self.n_rows:
            shown = ", ".join(repr(_plain(r)) for r in self.rows)
            more = (
                f" (and {self.n_rows - len(self.rows)} more)"
                if self.n_rows > len(self.rows)
                else ""
            )
            noun = "row" if self.n_rows == 1 else "rows"
            msg += f"; {self.n_rows} offending {noun}: {shown}{more}"
        super().__init__(msg)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones so messages read ``3`` rather than ``np.int64(3)``."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


class ConvergenceError(EvalkitError, RuntimeError):
    """An iterative fit (Cox partial likelihood, GLM) did not converge."""


class DesignError(EvalkitError, ValueError):
    """The analysis cannot be done with this design (e.g. one group where two are needed)."""


class StatisticalWarning(UserWarning):
    """A result is computable but should be read with care (e.g. a monotone likelihood)."""


class SmallCountWarning(StatisticalWarning):
    """Counts are too small for the stated method or for disclosure."""
