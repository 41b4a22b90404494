"""Small frozen result objects shared by the estimators."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Estimate", "TestResult"]


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test.

    Attributes
    ----------
    statistic
        The test statistic (chi-squared for log-rank, likelihood-ratio, Wald and score tests).
    df
        Degrees of freedom of the reference chi-squared distribution.
    p_value
        Two-sided p-value from that distribution.
    name
        What was tested, e.g. ``"log-rank"``.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    df: float
    p_value: float
    name: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: test, statistic, df, p."""
        return pd.DataFrame(
            {
                "test": [self.name],
                "statistic": [self.statistic],
                "df": [self.df],
                "p": [self.p_value],
            }
        )

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


@dataclass(frozen=True)
class Estimate:
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

    estimate: float
    lower: float
    upper: float
    conf_level: float = 0.95
    method: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: estimate, lower, upper, conf_level, method."""
        return pd.DataFrame([self.__dict__])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)
