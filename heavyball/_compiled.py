r"""Compiled values and gradients of the built-in problems.

Each function dispatches on the kind code of a
:class:`~heavyball._kinds.CompiledProblem` (``kind, scalars, vec1, vec2``), so
a kernel that calls it is compiled once for every problem. Two layouts:

- ``*_point``: one point ``x`` of shape ``(dim,)`` (integrators, optimisers);
- ``grad_block``: a block of points ``X`` of shape ``(dim, LANES)``, one grid
  point per column, written so the compiler vectorises across the columns
  (the sweep kernel).

The formulas repeat the NumPy methods of :mod:`heavyball.problems` operation by
operation (same order, ``x**2`` as ``x * x``), so the results are bit-identical
wherever NumPy uses plain IEEE arithmetic. Three places round differently, by
an ulp or so: ``pow`` and ``exp`` (NumPy calls its own SIMD versions, Numba
calls libm; ``Saddle`` and ``Plateau``), the dense matrix-vector product and
quadratic form (BLAS and ``einsum`` sum in their own order) and sums over more
than 7 coordinates (NumPy sums pairwise, these loops sequentially).
"""

from __future__ import annotations

import math

from numba import njit

from ._kinds import (
    DENSE_QUADRATIC,
    DIAGONAL_QUADRATIC,
    DOUBLE_WELL,
    LESSARD,
    PLATEAU,
    ROSENBROCK,
    SADDLE,
)

#: Number of grid points a sweep block advances together (one SIMD-friendly block).
LANES = 32

#: Options of every compiled function that allocates nothing. ``cache=True``:
#: compiled once per machine, then loaded from ``__pycache__``.
#: ``error_model="numpy"``: a division by zero gives inf or nan as in NumPy,
#: with no exception path in the loop. ``_nrt=False``: no reference counting of
#: the array arguments; the atomic increments cost ~150 ns per call on these
#: machines against ~7 ns for a 2-D gradient without them (measured).
HOT = {"cache": True, "error_model": "numpy", "_nrt": False}
#: ``HOT`` and inlined into the caller at the Numba IR level: a call with array
#: arguments costs ~10 ns (each array is passed as seven scalars), more than a
#: whole 2-D step. Every inlined function has one call site per kernel.
INLINE = dict(HOT, inline="always")


@njit(**INLINE)
def value_point(kind, s, v1, v2, x):
    """``L(x)`` for one point ``x`` of shape ``(dim,)``."""
    d = x.shape[0]
    if kind == DIAGONAL_QUADRATIC:
        acc = 0.0
        for i in range(d):
            acc += v1[i] * x[i] * x[i]
        quad = 0.5 * acc
        if s[1] != 0.0:
            bx = 0.0
            for i in range(d):
                bx += x[i] * v2[i]
            return quad - bx + s[0]
        return quad + s[0]
    if kind == DENSE_QUADRATIC:
        acc = 0.0
        for i in range(d):
            row = 0.0
            for j in range(d):
                row += v1[i * d + j] * x[j]
            acc += x[i] * row
        quad = 0.5 * acc
        if s[1] != 0.0:
            bx = 0.0
            for i in range(d):
                bx += x[i] * v2[i]
            return quad - bx + s[0]
        return quad + s[0]
    if kind == ROSENBROCK:
        x0, x1 = x[0], x[1]
        t0 = s[0] - x0
        t1 = x1 - x0 * x0
        return t0 * t0 + s[1] * (t1 * t1)
    if kind == DOUBLE_WELL:
        x0, x1 = x[0], x[1]
        q = x0 * x0 - 1.0
        return s[0] * (q * q) + s[1] * x0 + 0.5 * s[2] * (x1 * x1)
    if kind == SADDLE:
        x0, x1 = x[0], x[1]
        return 0.5 * s[0] * (x0 * x0) - 0.5 * s[1] * (x1 * x1) + 0.25 * s[2] * x1**4.0
    if kind == PLATEAU:
        acc = 0.0
        for i in range(d):
            acc += x[i] * x[i]
        return s[1] * (1.0 - math.exp(-0.5 * acc / s[0]))
    if kind == LESSARD:
        z = x[0]
        if z < 1.0:
            return 12.5 * (z * z)
        if z < 2.0:
            return 0.5 * (z * z) + 24.0 * z - 12.0
        return 12.5 * (z * z) - 24.0 * z + 36.0
    return math.nan


@njit(**INLINE)
def grad_point(kind, s, v1, v2, x, g):
    """Write ``grad L(x)`` into ``g``; ``x`` and ``g`` of shape ``(dim,)``."""
    d = x.shape[0]
    if kind == DIAGONAL_QUADRATIC:
        if s[1] != 0.0:
            for i in range(d):
                g[i] = v1[i] * x[i] - v2[i]
        else:
            for i in range(d):
                g[i] = v1[i] * x[i]
    elif kind == DENSE_QUADRATIC:
        # (x @ H)_i = sum_j x_j H_ji, summed over j in ascending order
        for i in range(d):
            g[i] = 0.0
        for j in range(d):
            xj = x[j]
            row = j * d
            for i in range(d):
                g[i] += xj * v1[row + i]
        if s[1] != 0.0:
            for i in range(d):
                g[i] -= v2[i]
    elif kind == ROSENBROCK:
        x0, x1 = x[0], x[1]
        r = x1 - x0 * x0
        g[0] = -2.0 * (s[0] - x0) - 4.0 * s[1] * x0 * r
        g[1] = 2.0 * s[1] * r
    elif kind == DOUBLE_WELL:
        x0 = x[0]
        g[0] = 4.0 * s[0] * x0 * (x0 * x0 - 1.0) + s[1]
        g[1] = s[2] * x[1]
    elif kind == SADDLE:
        x1 = x[1]
        g[0] = s[0] * x[0]
        g[1] = -s[1] * x1 + s[2] * x1**3.0
    elif kind == PLATEAU:
        acc = 0.0
        for i in range(d):
            acc += x[i] * x[i]
        scale = s[2] * math.exp(-0.5 * acc / s[0])
        for i in range(d):
            g[i] = scale * x[i]
    elif kind == LESSARD:
        z = x[0]
        if z < 1.0:
            g[0] = 25.0 * z
        elif z < 2.0:
            g[0] = z + 24.0
        else:
            g[0] = 25.0 * z - 24.0
    else:
        for i in range(d):
            g[i] = math.nan


@njit(**INLINE)
def grad_block(kind, s, v1, v2, X, G):
    """Write ``grad L`` of every column of ``X`` (shape ``(dim, LANES)``) into ``G``."""
    d, w = X.shape
    if kind == DIAGONAL_QUADRATIC:
        has_b = s[1] != 0.0
        for i in range(d):
            lam = v1[i]
            bi = v2[i] if has_b else 0.0
            if has_b:
                for j in range(w):
                    G[i, j] = lam * X[i, j] - bi
            else:
                for j in range(w):
                    G[i, j] = lam * X[i, j]
    elif kind == DENSE_QUADRATIC:
        for i in range(d):
            for j in range(w):
                G[i, j] = 0.0
        for k in range(d):
            for i in range(d):
                hki = v1[k * d + i]
                for j in range(w):
                    G[i, j] += X[k, j] * hki
        if s[1] != 0.0:
            for i in range(d):
                bi = v2[i]
                for j in range(w):
                    G[i, j] -= bi
    elif kind == ROSENBROCK:
        a, b = s[0], s[1]
        for j in range(w):
            x0 = X[0, j]
            r = X[1, j] - x0 * x0
            G[0, j] = -2.0 * (a - x0) - 4.0 * b * x0 * r
            G[1, j] = 2.0 * b * r
    elif kind == DOUBLE_WELL:
        for j in range(w):
            x0 = X[0, j]
            G[0, j] = 4.0 * s[0] * x0 * (x0 * x0 - 1.0) + s[1]
            G[1, j] = s[2] * X[1, j]
    elif kind == SADDLE:
        for j in range(w):
            x1 = X[1, j]
            G[0, j] = s[0] * X[0, j]
            G[1, j] = -s[1] * x1 + s[2] * x1**3.0
    elif kind == PLATEAU:
        for j in range(w):
            acc = 0.0
            for i in range(d):
                acc += X[i, j] * X[i, j]
            scale = s[2] * math.exp(-0.5 * acc / s[0])
            for i in range(d):
                G[i, j] = scale * X[i, j]
    elif kind == LESSARD:
        for j in range(w):
            z = X[0, j]
            if z < 1.0:
                G[0, j] = 25.0 * z
            elif z < 2.0:
                G[0, j] = z + 24.0
            else:
                G[0, j] = 25.0 * z - 24.0
    else:
        for i in range(d):
            for j in range(w):
                G[i, j] = math.nan


@njit(**INLINE)
def grad_2d(kind, s, v1, v2, x0, x1):
    """``grad L`` at ``(x0, x1)`` for a two-dimensional problem, as two floats.

    The scalar twin of :func:`grad_point` (same formulas, same order): the
    state stays in registers, which halves the cost of a 2-D step.
    """
    if kind == ROSENBROCK:
        r = x1 - x0 * x0
        return -2.0 * (s[0] - x0) - 4.0 * s[1] * x0 * r, 2.0 * s[1] * r
    if kind == DOUBLE_WELL:
        return 4.0 * s[0] * x0 * (x0 * x0 - 1.0) + s[1], s[2] * x1
    if kind == SADDLE:
        return s[0] * x0, -s[1] * x1 + s[2] * x1**3.0
    if kind == PLATEAU:
        acc = 0.0
        acc += x0 * x0
        acc += x1 * x1
        scale = s[2] * math.exp(-0.5 * acc / s[0])
        return scale * x0, scale * x1
    if kind == DIAGONAL_QUADRATIC:
        if s[1] != 0.0:
            return v1[0] * x0 - v2[0], v1[1] * x1 - v2[1]
        return v1[0] * x0, v1[1] * x1
    if kind == DENSE_QUADRATIC:
        g0 = 0.0
        g1 = 0.0
        g0 += x0 * v1[0]
        g1 += x0 * v1[1]
        g0 += x1 * v1[2]
        g1 += x1 * v1[3]
        if s[1] != 0.0:
            return g0 - v2[0], g1 - v2[1]
        return g0, g1
    return math.nan, math.nan


@njit(**INLINE)
def value_2d(kind, s, v1, v2, x0, x1):
    """``L(x0, x1)`` for a two-dimensional problem (scalar twin of :func:`value_point`)."""
    if kind == ROSENBROCK:
        t0 = s[0] - x0
        t1 = x1 - x0 * x0
        return t0 * t0 + s[1] * (t1 * t1)
    if kind == DOUBLE_WELL:
        q = x0 * x0 - 1.0
        return s[0] * (q * q) + s[1] * x0 + 0.5 * s[2] * (x1 * x1)
    if kind == SADDLE:
        return 0.5 * s[0] * (x0 * x0) - 0.5 * s[1] * (x1 * x1) + 0.25 * s[2] * x1**4.0
    if kind == PLATEAU:
        acc = 0.0
        acc += x0 * x0
        acc += x1 * x1
        return s[1] * (1.0 - math.exp(-0.5 * acc / s[0]))
    if kind == DIAGONAL_QUADRATIC or kind == DENSE_QUADRATIC:
        if kind == DIAGONAL_QUADRATIC:
            acc = 0.0
            acc += v1[0] * x0 * x0
            acc += v1[1] * x1 * x1
        else:
            acc = 0.0
            row = 0.0
            row += v1[0] * x0
            row += v1[1] * x1
            acc += x0 * row
            row = 0.0
            row += v1[2] * x0
            row += v1[3] * x1
            acc += x1 * row
        quad = 0.5 * acc
        if s[1] != 0.0:
            bx = 0.0
            bx += x0 * v2[0]
            bx += x1 * v2[1]
            return quad - bx + s[0]
        return quad + s[0]
    return math.nan
