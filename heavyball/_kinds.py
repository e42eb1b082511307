"""Kind codes of the compiled problem representation (pure Python, no Numba).

A built-in problem that the Numba kernels can run describes itself by a
:class:`CompiledProblem`: an integer ``kind`` that selects the formula and
three float64 arrays holding its parameters. The compiled value and gradient
(:mod:`heavyball.kernels`) dispatch on ``kind`` inside one function, so every
kernel is compiled once for all problems instead of once per problem.

==========================  ====================================  ===================  =========
kind                        ``scalars``                           ``vec1``             ``vec2``
==========================  ====================================  ===================  =========
``DENSE_QUADRATIC``         ``[c, has_b]``                        ``H.ravel()``        ``b``
``DIAGONAL_QUADRATIC``      ``[c, has_b]``                        eigenvalues          ``b``
``ROSENBROCK``              ``[a, b]``                            (empty)              (empty)
``DOUBLE_WELL``             ``[barrier, tilt, stiffness]``        (empty)              (empty)
``SADDLE``                  ``[a, b, c]``                         (empty)              (empty)
``PLATEAU``                 ``[width**2, depth, depth/width**2]``  (empty)              (empty)
``LESSARD``                 ``[]``                                (empty)              (empty)
==========================  ====================================  ===================  =========

``has_b`` is 0.0 when the linear term is zero; ``vec2`` is then empty, so a
diagonal quadratic in millions of dimensions streams one parameter array, not two.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DENSE_QUADRATIC = 1
DIAGONAL_QUADRATIC = 2
ROSENBROCK = 3
DOUBLE_WELL = 4
SADDLE = 5
PLATEAU = 6
LESSARD = 7
USER_FUNCTIONS = 8

#: Every kind code the kernels know; :func:`make` and the kernels' callers reject others.
KINDS = {
    "DENSE_QUADRATIC": DENSE_QUADRATIC,
    "DIAGONAL_QUADRATIC": DIAGONAL_QUADRATIC,
    "ROSENBROCK": ROSENBROCK,
    "DOUBLE_WELL": DOUBLE_WELL,
    "SADDLE": SADDLE,
    "PLATEAU": PLATEAU,
    "LESSARD": LESSARD,
    "USER_FUNCTIONS": USER_FUNCTIONS,
}

EMPTY = np.empty(0, dtype=np.float64)


class CompiledProblem(NamedTuple):
    """A problem as the Numba kernels see it: a kind code and its parameters.

    Attributes
    ----------
    kind : int
        One of the codes of this module (``DENSE_QUADRATIC``, ...).
    dim : int
        Dimension of ``x``.
    scalars, vec1, vec2 : ndarray of float64, C-contiguous
        Parameters as listed in the module docstring; ``vec1`` and ``vec2``
        are views of the problem's own arrays, never copies.
    value_fn, grad_fn : numba dispatcher or None
        The user's compiled ``value(x) -> float`` and ``grad(x, out) -> None``
        (kind ``USER_FUNCTIONS`` only).

    Notes
    -----
    ``value(x)`` and ``grad(x)`` evaluate the compiled functions at one point
    ``x`` of shape ``(dim,)``; they exist for inspection and tests, the kernels
    call the compiled functions directly.
    """

    kind: int
    dim: int
    scalars: np.ndarray
    vec1: np.ndarray
    vec2: np.ndarray
    value_fn: object = None
    grad_fn: object = None

    def value(self, x):
        """Compiled ``L(x)`` for one point ``x`` of shape ``(dim,)``."""
        from . import _compiled, kernels

        x = _point(x, self.dim)
        return float(kernels.value_point(*_compiled.problem_args(self), x))

    def grad(self, x):
        """Compiled ``grad L(x)`` for one point ``x`` of shape ``(dim,)``."""
        from . import _compiled, kernels

        x = _point(x, self.dim)
        g = np.empty(self.dim)
        kernels.grad_point(*_compiled.problem_args(self), x, g)
        return g


def check_kind(kind):
    """``kind`` if the kernels know it, else a ``ValueError`` naming the known codes."""
    if not isinstance(kind, (int, np.integer)) or isinstance(kind, bool) or int(kind) not in KINDS.values():
        known = ", ".join(f"{name} = {code}" for name, code in KINDS.items())
        raise ValueError(f"compiled problem kind {kind!r} is unknown to the kernels (known: {known}); "
                         "a problem the kernels cannot run must return None from `compiled()`")
    return int(kind)


def _point(x, dim):
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    if x.shape != (dim,):
        raise ValueError(f"`x` must have shape ({dim},), got shape {x.shape}")
    return x


def make(kind, dim, scalars=(), vec1=EMPTY, vec2=EMPTY):
    """Build a :class:`CompiledProblem`, checking the kind, dtypes and contiguity."""
    kind = check_kind(kind)
    arrays = []
    for arr in (np.asarray(scalars, dtype=np.float64), vec1, vec2):
        if arr.dtype != np.float64 or arr.ndim != 1 or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        arrays.append(arr)
    return CompiledProblem(kind, int(dim), *arrays)
