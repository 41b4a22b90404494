"""The result contract every evalkit estimator returns.

A result is a frozen dataclass (``eq=False``: results are compared by their numbers, never by
``==``) that

* keeps its own copies of any data it holds, so editing the caller's DataFrame after the call
  changes nothing (``own()`` makes the copies);
* has a short ``repr`` (one line: what it is and its size) and a ``summary()`` (plain text: the
  headline table);
* gives its headline table from ``to_frame()`` (a fresh copy each time) and stores the
  ``conf_level`` its intervals were computed at;
* names columns from one vocabulary, :data:`COLUMNS`: ``estimate, se, lower, upper,
  statistic, df, df2, p`` — never ``coef``, ``z``, ``p_value``…
  (:data:`FORBIDDEN_COLUMNS`). Columns beyond the vocabulary (``hr``, ``events``…) describe
  other quantities.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover - pandas is imported when a table is made
    import pandas as pd

__all__ = ["COLUMNS", "FORBIDDEN_COLUMNS", "Estimate", "Result", "TestResult", "own"]

COLUMNS = ("estimate", "se", "lower", "upper", "statistic", "df", "df2", "p")
"""The column vocabulary of every results table."""

FORBIDDEN_COLUMNS = frozenset(
    {
        "coef",
        "coefficient",
        "z",
        "t",
        "chisq",
        "stat",
        "p_value",
        "pvalue",
        "p-value",
        "pval",
        "std_err",
        "std.error",
        "se(coef)",
        "ci_lower",
        "ci_upper",
        "lcl",
        "ucl",
        "conf.low",
        "conf.high",
    }
)
"""Synonyms of :data:`COLUMNS` that no results table may use."""

_REPR_LIMIT = 240


def own(value: Any) -> Any:
    """A private copy of ``value`` for a result to keep: DataFrames, Series and arrays are
    copied (arrays made read-only); dicts, lists and tuples are copied element by element;
    everything else is returned as it is."""
    if type(value).__module__.startswith("pandas") and hasattr(value, "iloc"):
        return value.copy(deep=True)  # a DataFrame or Series
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        out = value.copy()
        out.flags.writeable = False
        return out
    if isinstance(value, dict):
        return {k: own(v) for k, v in value.items()}
    if isinstance(value, list):
        return [own(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(own(v) for v in value)
    return value


def _short(value: Any) -> str | None:
    """A compact text for a scalar field in ``repr``; ``None`` for anything bigger."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        return "nan" if math.isnan(x) else f"{x:.4g}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if (
        isinstance(value, tuple)
        and len(value) <= 4
        and all(isinstance(v, (str, int, float, bool)) for v in value)
    ):
        return repr(tuple(value))
    return None


class Result:
    """Base class of every result (see the module docstring for the contract).

    Subclasses are ``@dataclass(frozen=True, eq=False, repr=False)`` and implement
    :meth:`to_frame`. ``_title`` names the result in ``repr`` and ``summary``.
    """

    _title: ClassVar[str] = ""

    def to_frame(self) -> pd.DataFrame:
        """The headline table (a new DataFrame each call)."""
        raise NotImplementedError

    def _describe(self) -> list[str]:
        """``name=value`` for the scalar fields (numbers, short text), in field order."""
        out = []
        for f in fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or not f.repr:
                continue
            text = _short(getattr(self, f.name))
            if text is not None:
                out.append(f"{f.name}={text}")
        return out

    def __repr__(self) -> str:
        name = type(self).__name__
        parts = self._describe()
        text = f"{name}(" + ", ".join(parts) + ")"
        if len(text) > _REPR_LIMIT:
            kept: list[str] = []
            for p in parts:
                if len(name) + sum(len(k) + 2 for k in kept) + len(p) + 8 > _REPR_LIMIT:
                    break
                kept.append(p)
            text = f"{name}(" + ", ".join(kept) + ", ...)"
        return text

    def summary(self) -> str:
        """Plain-text summary: the title line and the headline table."""
        title = self._title or type(self).__name__
        head = ", ".join(self._describe())
        table = self.to_frame().to_string(index=False, float_format=lambda x: f"{x:.6g}")
        return f"{title}\n{head}\n\n{table}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


@dataclass(frozen=True, eq=False, repr=False)
class TestResult(Result):
    """A hypothesis test.

    Attributes
    ----------
    statistic
        The test statistic (chi-squared for log-rank, likelihood-ratio, Wald and score tests).
    df
        Degrees of freedom of the reference chi-squared distribution.
    p
        Two-sided p-value from that distribution.
    name
        What was tested, e.g. ``"log-rank"``.
    """

    __test__ = False  # not a pytest test class
    _title = "Test"

    statistic: float
    df: float
    p: float
    name: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row: test, statistic, df, p."""
        import pandas as pd

        return pd.DataFrame(
            {"test": [self.name], "statistic": [self.statistic], "df": [self.df], "p": [self.p]}
        )


@dataclass(frozen=True, eq=False, repr=False)
class Estimate(Result):
    """A point estimate with its confidence interval.

    Attributes
    ----------
    estimate, lower, upper
        The estimate and its confidence limits.
    conf_level
        Confidence level of the interval, e.g. 0.95.
    method
        The interval method, e.g. ``"newcombe"``.
    """

    _title = "Estimate"

    estimate: float
    lower: float
    upper: float
    conf_level: float = 0.95
    method: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row: estimate, lower, upper, conf_level, method."""
        import pandas as pd

        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self)}])
