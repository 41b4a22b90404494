"""Argument checks shared by the functions of ``evalkit.proportions`` (and ``evalkit.power``).

Counts may be numbers or numpy arrays; every check names the offending argument and, for arrays,
the positions of the offending elements.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from evalkit._inference import critical
from evalkit._options import check_choice, check_conf_level
from evalkit.errors import InputError
from evalkit.schema import MAX_MAGNITUDE

#: Valid ``method`` values of each function; the first is the default.
PROPORTION_METHODS: dict[str, tuple[str, ...]] = {
    "rate_difference": ("newcombe", "miettinen-nurminen", "mee", "agresti-caffo", "wald"),
    "rate_ratio": ("koopman", "miettinen-nurminen", "katz"),
    "odds_ratio": ("miettinen-nurminen", "woolf", "exact"),
    "paired_rate_difference": ("newcombe", "wald"),
}


def _counts(value: Any, name: str) -> np.ndarray:
    """A whole, finite, non-negative count (scalar or array) as float64, at most
    :data:`~evalkit.schema.MAX_MAGNITUDE` (beyond it float64 holds no exact whole numbers)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy accepts nearly anything
        raise InputError(name, f"must be a number or an array of numbers ({exc})") from exc
    if arr.dtype == object and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in arr.flat
    ):  # Python integers too large for int64 (10**20): numbers all the same
        arr = arr.astype(float)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise InputError(
            name, f"must be a whole number of people, not {type(value).__name__}", argument=True
        )
    arr = arr.astype(float)
    if arr.size == 0:
        raise InputError(name, "is empty", argument=True)
    for bad, rule in (
        (~np.isfinite(arr), "must be finite"),
        (arr < 0, "must not be negative"),
        (arr != np.round(arr), "must be a whole number"),
        (arr > MAX_MAGNITUDE, f"must be at most {MAX_MAGNITUDE:.0e} (a count of people)"),
    ):
        bad = np.asarray(bad)
        if bad.any():
            _raise(name, rule, arr, bad)
    return arr


def _raise(name: str, rule: str, arr: np.ndarray, bad: np.ndarray) -> None:
    """InputError for argument ``name``: its value, or the positions of the bad elements."""
    if np.ndim(arr) == 0:
        raise InputError(name, f"{rule} (got {np.asarray(arr).item():g})", argument=True)
    positions = [tuple(i) if len(i) > 1 else i[0] for i in np.argwhere(bad)]
    raise InputError(name, rule, positions, argument=True)


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    """The arguments broadcast to one shape (float64), or InputError naming the first that
    does not fit."""
    shape: tuple[int, ...] = ()
    for name, arr in arrays.items():
        try:
            shape = np.broadcast_shapes(shape, np.shape(arr))
        except ValueError:
            raise InputError(
                name,
                f"has shape {np.shape(arr)}, which does not match the other arguments {shape}",
                argument=True,
            ) from None
    return [np.broadcast_to(a, shape).astype(float) for a in arrays.values()]


def _check_totals(x: np.ndarray, n: np.ndarray, xname: str, nname: str) -> None:
    bad = np.broadcast_to(n == 0, np.broadcast_shapes(x.shape, n.shape))
    if bad.any():
        _raise(
            nname,
            "must be at least 1 (a group with nobody in it)",
            np.broadcast_to(n, bad.shape),
            bad,
        )
    bad = x > n
    if np.any(bad):
        shape = np.broadcast_shapes(x.shape, n.shape)
        xb, nb = np.broadcast_to(x, shape), np.broadcast_to(n, shape)
        if xb.ndim == 0:
            raise InputError(
                xname,
                f"must not exceed {nname} (got {xname}={xb.item():g}, {nname}={nb.item():g})",
                argument=True,
            )
        _raise(xname, f"must not exceed {nname}", xb, np.asarray(bad))


def _options(function: str, method: Any, conf_level: Any) -> tuple[str, float, float]:
    """The checked ``method`` and ``conf_level`` of ``function``, and the critical value."""
    method = check_choice(method, "method", PROPORTION_METHODS[function])
    level = check_conf_level(conf_level)
    return str(method), level, critical(level)


def _two_groups(
    x1: Any, n1: Any, x0: Any, n0: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Checked counts broadcast to one shape, the two proportions, and whether all were
    scalars."""
    a1, m1, a0, m0 = (_counts(v, k) for v, k in ((x1, "x1"), (n1, "n1"), (x0, "x0"), (n0, "n0")))
    scalar = all(np.ndim(v) == 0 for v in (a1, m1, a0, m0))
    b1, c1, b0, c0 = _broadcast(x1=a1, n1=m1, x0=a0, n0=m0)
    _check_totals(a1, m1, "x1", "n1")
    _check_totals(a0, m0, "x0", "n0")
    return b1, c1, b0, c0, b1 / c1, b0 / c0, scalar


def _out(value: np.ndarray, scalar: bool) -> Any:
    """A float for scalar arguments, else a float64 array."""
    return float(value) if scalar else np.asarray(value, dtype=float)
