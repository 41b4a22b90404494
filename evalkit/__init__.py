"""evalkit: reproducible evaluation of criminal-justice diversion schemes."""

from evalkit._version import __version__
from evalkit.errors import (
    ConvergenceError,
    DesignError,
    EvalkitError,
    InputError,
    SmallCountWarning,
    StatisticalWarning,
)

__all__ = [
    "ConvergenceError",
    "DesignError",
    "EvalkitError",
    "InputError",
    "SmallCountWarning",
    "StatisticalWarning",
    "__version__",
]
