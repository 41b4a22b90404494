"""Exceptions and warnings raised by evalkit.

Every public entry point validates its input and raises :class:`InputError` naming the
column, the rule that failed and up to five offending row identifiers, so that a user can find
the bad rows in their own data. Statistical problems that are not input errors (a model that did
not converge, a design that cannot answer the question) have their own classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConvergenceError",
    "DataWarning",
    "DesignError",
    "EvalkitError",
    "InputError",
    "SmallCountWarning",
    "StatisticalWarning",
    "redact",
    "shown",
]

MAX_ROWS_SHOWN = 5


class EvalkitError(Exception):
    """Base class of every error evalkit raises on purpose."""


class Rows(list[Any]):
    """Identifiers of offending rows together with their positions (0-based, in table order).

    A plain list of the identifiers shown to the user (person ids or index labels), carrying
    ``positions`` for anything written to disk and ``label`` (the identifier column's name, or
    ``None`` when the identifiers are the positions themselves).
    """

    def __init__(
        self,
        values: Iterable[Any],
        positions: Iterable[int] | None = None,
        label: str | None = None,
    ) -> None:
        super().__init__(values)
        self.positions: list[int] | None = (
            None if positions is None else [int(p) for p in positions]
        )
        self.label = label


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
        and the total is counted. A :class:`Rows` (what :func:`evalkit.schema.row_ids` returns)
        also carries the rows' positions.
    table
        Name of the input table (``"people"``, ``"offences"``, ``"data"``…), shown in the message.
    argument
        ``True`` when ``column`` names a function argument (an option such as ``conf_level``)
        rather than a column: the message then reads ``argument 'conf_level': …``.

    Attributes
    ----------
    column, rule, rows, n_rows, table
        As given; ``rows`` holds at most five identifiers and ``n_rows`` the total count.
    positions
        Positions (0-based) of the first five offending rows, or ``None`` when not known.

    Notes
    -----
    Identifiers appear in the message inside a ``[label: ...]`` segment, which :func:`redact`
    removes: the screen shows person ids (so the user can find the rows), while logs written
    to disk keep only the rule, the column and the row positions.
    """

    def __init__(
        self,
        column: str | None,
        rule: str,
        rows: Iterable[Any] | None = None,
        *,
        table: str | None = None,
        argument: bool = False,
    ) -> None:
        all_rows = [] if rows is None else list(rows)
        positions = getattr(rows, "positions", None)
        label = getattr(rows, "label", "rows")
        self.column = column
        self.rule = rule
        self.table = table
        self.argument = argument
        self.n_rows = len(all_rows)
        self.rows = all_rows[:MAX_ROWS_SHOWN]
        self.positions = None if positions is None else list(positions[:MAX_ROWS_SHOWN])
        where = f" in {table}" if table else ""
        if argument:
            subject = f"argument '{column}'"
        elif column is not None:
            subject = f"column '{column}'{where}"
        else:
            subject = table or "input"

        msg = f"{subject}: {rule}"
        if self.n_rows:
            more = (
                f" (and {self.n_rows - len(self.rows)} more)"
                if self.n_rows > len(self.rows)
                else ""
            )
            noun = "row" if self.n_rows == 1 else "rows"
            if self.positions is not None and label is None:  # identifiers are the positions
                msg += f"; {self.n_rows} offending {noun}: "
                msg += ", ".join(str(p) for p in self.positions) + more
            elif self.positions is not None:
                where_rows = "position" if self.n_rows == 1 else "positions"
                msg += f"; {self.n_rows} offending {noun} at {where_rows} "
                msg += ", ".join(str(p) for p in self.positions)
                msg += shown(label or "rows", self.rows) + more
            else:
                msg += f"; {self.n_rows} offending {noun}" + shown(label or "rows", self.rows)
                msg += more
        super().__init__(msg)


def shown(label: str, values: Iterable[Any]) -> str:
    """`` [label: v1, v2]``: data values (identifiers, codes) inside a message.

    Every value taken from the user's data is written through this helper, so that
    :func:`redact` can remove it from anything written to disk.
    """
    return f" [{label}: " + ", ".join(repr(_plain(v)) for v in values) + "]"


_SEGMENT = re.compile(r" \[[A-Za-z0-9_ .()-]{1,60}: ")


def redact(text: str) -> str:
    """``text`` without the data values that :func:`shown` put in it (for logs on disk).

    Each `` [label: …]`` segment is removed; quoted values inside it may contain brackets.
    Row positions, column names and rules are kept.
    """
    out: list[str] = []
    i = 0
    while True:
        m = _SEGMENT.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        j = m.end()
        quote: str | None = None
        depth = 0
        while j < len(text):
            ch = text[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")}" or (ch == "]" and depth > 0):
                depth -= 1
            elif ch == "]":
                break
            elif ch == "\n":
                break
            j += 1
        out.append(text[i : m.start()])
        out.append(" [values withheld]" if j >= len(text) or text[j] != "]" else "")
        i = j + 1 if j < len(text) and text[j] == "]" else j


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


class DataWarning(UserWarning):
    """The input data look wrong but can be used (e.g. offences of people not in the cohort)."""
