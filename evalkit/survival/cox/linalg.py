"""Linear algebra of the Cox engine, as R's ``cholesky2`` / ``chsolve2`` / ``chinv2``.

An LDLᵀ factorisation whose pivots below ``toler · max(diag)`` mark a column singular (its
solution and inverse entries are set to zero), and R's ``coxph.wtest`` quadratic form.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TOLER_CHOL", "inverse", "ldl", "ldl_solve", "quad_test", "solve"]

#: R's coxph.control(toler.chol).
TOLER_CHOL = float(np.finfo(float).eps ** 0.75)


def ldl(mat: np.ndarray, toler: float = TOLER_CHOL) -> tuple[np.ndarray, np.ndarray]:
    """LDLᵀ factorisation; columns whose pivot is below toler·max(diag) are marked singular."""
    m = np.array(mat, dtype=float)
    n = m.shape[0]
    diag = np.diag(m)
    eps = toler * (diag.max() if n and np.isfinite(diag).all() and diag.max() > 0 else 1.0)
    singular = np.zeros(n, dtype=bool)
    for i in range(n):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            m[i, i] = 0.0
            singular[i] = True
            continue
        col = m[i + 1 :, i] / pivot
        m[i + 1 :, i + 1 :] -= np.outer(col, m[i + 1 :, i])
        m[i + 1 :, i] = col
    return m, singular


def ldl_solve(fac: np.ndarray, singular: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solve with a factorisation from :func:`ldl`; singular columns get 0 (R's chsolve2)."""
    L = np.tril(fac, -1) + np.eye(fac.shape[0])
    d = np.diag(fac).copy()
    z = np.linalg.solve(L, y)
    z = np.where(singular, 0.0, z / np.where(singular, 1.0, d))
    x = np.linalg.solve(L.T, z)
    return np.where(singular, 0.0, x)


def solve(mat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """mat⁻¹ y over the non-singular columns."""
    fac, singular = ldl(mat)
    return ldl_solve(fac, singular, y)


def inverse(mat: np.ndarray) -> np.ndarray:
    """Generalised inverse (R's chinv2: zero rows and columns for singular columns)."""
    fac, singular = ldl(mat)
    inv = np.column_stack([ldl_solve(fac, singular, e) for e in np.eye(mat.shape[0])])
    return 0.5 * (inv + inv.T)


def quad_test(var: np.ndarray, u: np.ndarray) -> float:
    """uᵀ var⁻¹ u as R's coxph.wtest (generalised inverse over non-singular columns)."""
    return float(u @ solve(var, u))
