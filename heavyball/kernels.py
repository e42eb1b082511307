r"""Compiled inner loops of ``integrate``, ``optimize`` and ``sweep``.

The public functions validate their arguments, evaluate schedules, friction
and gradient noise into arrays, allocate every output with NumPy and then call
one of these kernels, which only loop. Each kernel has a NumPy twin that
defines its semantics (``integrators._run``, ``optimizers._run`` and the
``"numpy"`` backend of :func:`~heavyball.sweep`); ``tests/test_kernels.py``
and ``tests/test_sweep.py`` check that they agree.

All kernels are module-level ``@njit(cache=True)`` functions without closures
(``sweep_kernel`` is a Python function that runs the compiled ``_sweep_blocks``
on several threads): the problem enters as a kind code, three float64 arrays and two function slots
(:class:`~heavyball._compiled.CompiledProblem`, passed as
``heavyball._compiled.problem_args(cp)``: the slots are None for a built-in and
the user's compiled ``value``/``grad`` for a user problem) and the scheme or
optimiser as an integer, so each kernel has one signature for the built-ins and
one for user problems, compiles once per machine and is loaded from the on-disk
cache afterwards.

Codes
-----
Schemes (:data:`SCHEMES`): ``explicit_euler`` 0, ``symplectic_euler`` 1,
``conformal_symplectic_euler`` 2, ``nesterov`` 3, ``implicit_friction_euler`` 4.
Optimisers (:data:`OPTIMIZERS`): ``GD`` 0, ``SGD`` 1, ``KerasSGD`` 2,
``EMAMomentum`` 3. Sweep methods (:data:`SWEEP_METHODS`): ``gd`` 0,
``heavy_ball`` 1, ``nesterov`` 2.

Examples
--------
The public functions are thin layers over these kernels; calling one directly
means allocating what :func:`~heavyball.integrate` allocates:

>>> import numpy as np, heavyball as hb
>>> from heavyball import kernels
>>> cp = hb.Quadratic.diagonal([1.0, 4.0, 9.0]).compiled()
>>> n, x, v, none = 10, np.ones(3), np.zeros(3), np.empty(0)
>>> ts, xs, vs, ls = np.empty(n + 1), np.empty((n + 1, 3)), np.empty((n + 1, 3)), np.empty(n + 1)
>>> from heavyball._compiled import problem_args
>>> kernels.integrate_kernel(kernels.SCHEMES["symplectic_euler"], *problem_args(cp), x, v, none, none,
...                          0.1, 1.0, np.array([0.5]), 0.0, n, -1.0, 1, ts, xs, vs, ls)
(0, 11, 10)
>>> traj = hb.integrate(hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0, 9.0]), 1.0, 0.5),
...                     np.ones(3), method="symplectic_euler", step=0.1, n_steps=n)
>>> bool(np.array_equal(traj.x, xs) and np.array_equal(traj.loss, ls))
True

Divergence
----------
A state with a coordinate of ``x`` or ``v`` beyond :data:`DIVERGENCE_BOUND`
(``1e50``), or not finite, ends a run (status -1). The integrator kernel
updates the state in place and, when a step diverges, recovers the last good
state by replaying the steps since the last recorded state (recorded states
are exact copies and the steps are deterministic), so a large state needs no
second buffer. (Two-dimensional problems keep the state in registers.)
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload
from numba.np.arrayobj import make_array, populate_array

__all__ = [
    "SCHEMES",
    "OPTIMIZERS",
    "SWEEP_METHODS",
    "FLUSH_BELOW",
    "FLUSH_EVERY",
    "DISTANCE_FLOOR",
    "integrate_kernel",
    "optimize_kernel",
    "sweep_kernel",
]

EXPLICIT, SYMPLECTIC, CONFORMAL, NESTEROV, IMPLICIT = 0, 1, 2, 3, 4
SCHEMES = {
    "explicit_euler": EXPLICIT,
    "symplectic_euler": SYMPLECTIC,
    "conformal_symplectic_euler": CONFORMAL,
    "nesterov": NESTEROV,
    "implicit_friction_euler": IMPLICIT,
}

OPT_GD, OPT_SGD, OPT_KERAS, OPT_EMA = 0, 1, 2, 3
OPTIMIZERS = {"GD": OPT_GD, "SGD": OPT_SGD, "KerasSGD": OPT_KERAS, "EMAMomentum": OPT_EMA}

SWEEP_GD, SWEEP_HEAVY_BALL, SWEEP_NESTEROV = 0, 1, 2
SWEEP_METHODS = {"gd": SWEEP_GD, "heavy_ball": SWEEP_HEAVY_BALL, "nesterov": SWEEP_NESTEROV}

# Numba's cache watches only this file and freezes globals into the compiled
# code: a constant defined elsewhere and imported could change without the
# cached kernels noticing. So this file imports nothing from heavyball and is
# the one home of every constant its kernels compile in: the kind codes below,
# the divergence bound and the sweep's flush and distance floor. Modules that
# need them without loading Numba (trajectory.DIVERGENCE_BOUND, the kind codes
# of heavyball/_compiled.py, the sweeps' NumPy engine) read these literal
# assignments from this file's source (heavyball/_kernel_constants.py), so keep
# them plain ``NAME = literal`` lines.
DENSE_QUADRATIC = 1
DIAGONAL_QUADRATIC = 2
ROSENBROCK = 3
DOUBLE_WELL = 4
SADDLE = 5
PLATEAU = 6
LESSARD = 7
USER_FUNCTIONS = 8  # no formula here: heavyball/_compiled.py links the user's functions in
#: Divergence bound (``heavyball.trajectory.DIVERGENCE_BOUND`` is read from here).
BOUND = 1e50
#: Every ``FLUSH_EVERY`` steps the sweep sets coordinates of ``x`` and of the
#: momentum buffer smaller than ``FLUSH_BELOW`` (the smallest normal float64)
#: to zero; see :func:`sweep_kernel`.
FLUSH_BELOW = 2.2250738585072014e-308
FLUSH_EVERY = 16
#: Lower bound of each scaled term of the sweep's tolerance test (see :func:`sweep_kernel`).
DISTANCE_FLOOR = 1e-150


# --------------------------------------------------------------------------
# problems: compiled values and gradients
# --------------------------------------------------------------------------
#
# The door: every kernel takes a problem as ``kind, s, v1, v2, fv, fg`` (see
# heavyball/_compiled.py: CompiledProblem, problem_args): a kind code, three
# parameter arrays, and for a user problem (kind USER_FUNCTIONS) its compiled
# ``value(x)`` and ``grad(x, out)`` as first-class functions (None for a built-in:
# those kernels, compiled for None, contain no call). One signature per kernel for
# all built-ins and one for all user problems, each compiled once per machine.
#
# One home per formula: ``value_point`` and ``grad_point`` (one point ``x`` of
# shape (dim,)) hold every built-in formula, and the other layouts derive from
# them. ``grad_value_2d`` (a 2-D point held in two floats, the state of a 2-D
# trajectory in registers) calls ``grad_point`` and ``value_point`` on stack arrays
# (each step evaluates the loss of the state it starts from). Not yet derived: ``grad_block`` (a block
# ``X`` of shape (dim, LANES), one sweep grid point per column; its docstring says
# what deriving it cost when measured). The fused updates of the
# diagonal quadratic (integrate, sweep) write its gradient into the update pass:
# a memory-bound stream over millions of coordinates, kept on purpose.
#
# The formulas repeat the NumPy methods of heavyball/problems.py operation by
# operation (same order, ``x**2`` as ``x * x``), so the results are bit-identical
# wherever NumPy uses plain IEEE arithmetic. Three places round differently, by an
# ulp or so: ``pow`` and ``exp`` (NumPy calls its own SIMD versions, Numba calls
# libm: Saddle, Plateau), the dense matrix-vector product and quadratic form (BLAS
# and einsum sum in their own order) and sums over more than 7 coordinates (NumPy
# sums pairwise, these loops sequentially).
#
# Adding a built-in problem: its class in problems.py (NumPy formulas and
# ``compiled()``), a kind code above (named in _compiled.KINDS), and one branch in
# ``value_point`` and in ``grad_point``; a loop in ``grad_block`` if it can be 2-D (the
# built-in 2-D sweep compiles no derived loop) or its sweeps must be as fast as possible.

#: Number of grid points a sweep block advances together (one SIMD-friendly block).
LANES = 32


def _cache_probe():  # pragma: no cover (never called: Numba locates its cache from it)
    pass


def _find_cache():
    """Whether Numba can cache the kernels of this file; if not, one :class:`~heavyball.CacheWarning`.

    Numba tries ``NUMBA_CACHE_DIR``, then ``__pycache__`` beside this file,
    then the user-wide cache directory, and otherwise raises ``RuntimeError:
    cannot cache function`` when a ``cache=True`` function is defined. Asking
    it the same question for a plain function of this file lets the kernels
    be compiled without the cache instead (in every new process).
    """
    try:
        from numba.core import caching, config
    except ImportError:  # pragma: no cover (an internal module moved: let Numba decide)
        return True
    try:
        caching.FunctionCache(_cache_probe)
    except RuntimeError:
        from numba.misc.appdirs import AppDirs

        from ._warnings import CacheWarning

        tried = [f"NUMBA_CACHE_DIR={config.CACHE_DIR!r}" if config.CACHE_DIR else "NUMBA_CACHE_DIR (not set)",
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__"),
                 AppDirs(appname="numba", appauthor=False).user_cache_dir]
        warnings.warn(CacheWarning(
            "heavyball: Numba found no writable cache directory (tried " + ", ".join(tried) + "); the compiled "
            "kernels are built anew in every process, which takes seconds. Set the environment variable "
            "NUMBA_CACHE_DIR to a writable directory to keep them."), stacklevel=2)
        return False
    return True


#: Whether the kernels are cached on disk (False, with one warning, when no
#: cache directory is writable).
CACHE = _find_cache()


@intrinsic
def stack_array(typingctx, n):
    """``stack_array(n)``: a float64 array of ``n`` (a compile-time constant) elements on the stack.

    It has no meminfo (no allocation, no reference counting), so once a
    function that fills it is inlined, LLVM keeps it in registers. Used to
    hand a point held in registers to a user's ``grad(x, out)``.
    """
    if not isinstance(n, types.IntegerLiteral):
        return None
    size = n.literal_value
    arr_t = types.Array(types.float64, 1, "C")

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        data = cgutils.alloca_once(builder, context.get_value_type(types.float64),
                                   size=context.get_constant(types.intp, size))
        ary = make_array(arr_t)(context, builder)
        populate_array(ary, data=data, shape=[intp(size)], strides=[intp(8)], itemsize=intp(8), meminfo=None)
        return ary._getvalue()

    return arr_t(n), codegen

#: Options of every compiled function that allocates nothing. ``cache=True``:
#: compiled once per machine, then loaded from ``__pycache__`` (or
#: ``NUMBA_CACHE_DIR``); see :data:`CACHE`.
#: ``error_model="numpy"``: a division by zero gives inf or nan as in NumPy,
#: with no exception path in the loop. ``_nrt=False``: no reference counting of
#: the array arguments; the atomic increments cost ~150 ns per call on these
#: machines against ~7 ns for a 2-D gradient without them (measured).
HOT = {"cache": CACHE, "error_model": "numpy", "_nrt": False}
#: ``HOT`` and inlined into the caller at the Numba IR level: a call with array
#: arguments costs ~10 ns (each array is passed as seven scalars), more than a
#: whole 2-D step. Each call site of an inlined function is a copy of it in the
#: compiled code (compile time, not run time). The problem formulas
#: (``value_point``, ``grad_point``, ``grad_value_2d``, ``grad_block``) have one call
#: site per loop (see ``_integrate_2d``). A few helpers have more, on purpose:
#: ``_sweep_step`` and ``_sweep_step_2d`` call ``_sweep_cell`` and ``_column_2d``
#: once per method (three loops, each specialised on its method),
#: ``_column_2d`` calls ``_sgd`` once per coordinate, and the integrator loops
#: call ``_coefficients`` before the steps and inside them for a varying friction, and
#: ``_integrate_2d`` calls ``_record_2d`` (a few stores) at its three record sites.
INLINE = dict(HOT, inline="always")


def call_value(fv, x):
    """``fv(x)``; ``nan`` when ``fv`` is None (a built-in problem: no call is compiled).

    The two overloads below are not inlined at the Numba IR level (no
    ``inline="always"``): that typed inlining cost about a second of every
    kernel's cold compile, and LLVM inlines their one-line bodies anyway
    (measured: the same speed; docs/performance.md, "Speed to reach").
    """


def call_grad(fg, x, g):
    """``fg(x, g)``; nothing when ``fg`` is None (a built-in problem: no call is compiled)."""


@overload(call_value)
def _call_value(fv, x):
    if isinstance(fv, types.NoneType):
        return lambda fv, x: math.nan
    return lambda fv, x: fv(x)


@overload(call_grad)
def _call_grad(fg, x, g):
    if isinstance(fg, types.NoneType):
        return lambda fg, x, g: None
    return lambda fg, x, g: fg(x, g)


@njit(cache=CACHE)
def values_kernel(fv, X, out):
    """``out[p] = fv(X[p])`` for every row of ``X`` (a user's compiled ``value`` on a batch of points)."""
    for p in range(X.shape[0]):
        out[p] = fv(X[p])


@njit(cache=CACHE)
def grads_kernel(fg, X, G):
    """``fg(X[p], G[p])`` for every row (a user's compiled ``grad`` on a batch of points)."""
    for p in range(X.shape[0]):
        fg(X[p], G[p])


@njit(**INLINE)
def value_point(kind, s, v1, v2, fv, fg, x):
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
    if kind == USER_FUNCTIONS:
        return call_value(fv, x)
    return math.nan


@njit(**INLINE)
def grad_point(kind, s, v1, v2, fv, fg, x, g):
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
    elif kind == USER_FUNCTIONS:
        call_grad(fg, x, g)
    else:
        for i in range(d):
            g[i] = math.nan


@njit(**INLINE)
def grad_block(kind, s, v1, v2, fv, fg, X, G, W, derived):
    """Write ``grad L`` of every column of ``X`` (shape ``(dim, LANES)``) into ``G``.

    The one layout that still restates the built-in formulas (row by row,
    the lanes innermost, parameters hoisted out of the lane loop). Derived
    from :func:`grad_point` (each column through stack arrays, one constant
    kind per lane loop), Rosenbrock, DoubleWell and Saddle sweep as fast,
    but the quadratics 1.9x (2-D) to 3x (3-D) slower (their parameters are
    reloaded in the lane loop: the compiler cannot tell that ``G`` does not
    overlap ``vec1``) and the sweep kernel took 1.6x the CPU time to compile
    cold (three more inlined copies of ``grad_point``); measured, see
    docs/performance.md. Kinds without a loop here (Lessard, user
    problems, a new kind) take the derived loop: each column through the
    rows of ``W`` (shape ``(2, d)``) to :func:`grad_point`. ``derived`` None
    (settled when compiled) leaves that loop out: the sweep of a built-in
    2-D problem passes it, since every 2-D kind has a loop here (Lessard is
    1-D), which takes about 1.2 s off the kernel's cold compile. A new 2-D
    kind needs its loop here.
    """
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
    elif derived is not None:  # derived: Lessard, user functions, and any kind without a loop above
        xb, gb = W[0], W[1]
        for j in range(w):
            for i in range(d):
                xb[i] = X[i, j]
            grad_point(kind, s, v1, v2, fv, fg, xb, gb)
            for i in range(d):
                G[i, j] = gb[i]
    else:  # (not compiled in: a kind without a loop above sweeps to nan, and tests/test_sweep.py fails)
        for i in range(d):
            for j in range(w):
                G[i, j] = math.nan


@njit(**INLINE)
def grad_value_2d(kind, s, v1, v2, fv, fg, y0, y1, x0, x1, want, need_grad):
    """``(dL/dx0, dL/dx1)`` at ``(y0, y1)`` and ``L`` at ``(x0, x1)``: :func:`grad_point`, then :func:`value_point`.

    The points and the gradient are stack arrays; once the formulas are
    inlined, LLVM keeps them in registers, so a 2-D trajectory never touches
    memory for its state. For a built-in the loss is always computed: the
    two dispatches on ``kind`` then sit side by side and the compiler merges
    them, so the loss costs a few arithmetic operations (a loss computed
    only on request, or in a dispatch of its own, kept the state in memory:
    measured, docs/performance.md). A user's ``value`` is called only when
    ``want`` (``L`` is nan otherwise), and its ``grad`` only when
    ``need_grad`` (the gradient is nan otherwise: the final state of a run
    needs its loss alone). (A user's functions are called with
    buffers of their own: buffers passed to a call that LLVM cannot see into
    stay in memory, and with them every path that shares them.)
    """
    if kind == USER_FUNCTIONS:  # its buffers escape into the call: kept apart from the others
        ub = stack_array(2)
        ug = stack_array(2)
        ub[0] = y0
        ub[1] = y1
        ug[0] = ug[1] = math.nan
        if need_grad:
            call_grad(fg, ub, ug)
        return ug[0], ug[1], _user_value_2d(fv, x0, x1) if want else math.nan
    yb = stack_array(2)
    gb = stack_array(2)
    xb = stack_array(2)
    yb[0] = y0
    yb[1] = y1
    xb[0] = x0
    xb[1] = x1
    grad_point(kind, s, v1, v2, fv, fg, yb, gb)
    return gb[0], gb[1], value_point(kind, s, v1, v2, fv, fg, xb)


@njit(**INLINE)
def _user_value_2d(fv, x0, x1):
    """A user's ``value`` at ``(x0, x1)`` (nan for a built-in: no call is compiled)."""
    ub = stack_array(2)
    ub[0] = x0
    ub[1] = x1
    return call_value(fv, ub)


# --------------------------------------------------------------------------
# integrate
# --------------------------------------------------------------------------


@njit(**INLINE)
def _coefficients(scheme, h, m, gamma):
    """``(a, c, e, div, r)`` of one step, with the NumPy schemes' expressions.

    Kick-drift schemes: ``v' = (a v - c g(x + e v)) / div``, ``x' = x + h v'``
    (``div`` only for implicit friction); explicit Euler uses ``a, c``; the
    gradient flow ``x' = x - r g``. The compiled twin of the ``coefficients``
    of each scheme's record (``heavyball.integrators.SCHEMES``), which compiled
    code cannot call; ``tests/test_integrators.py`` checks them bit for bit.
    """
    a, c, e, div, r = 1.0, 0.0, 0.0, 1.0, 0.0
    if m == 0.0:
        r = h / gamma
        return a, c, e, div, r
    c = h / m
    if scheme == CONFORMAL:
        a = math.exp(-h * gamma / m)
    elif scheme == IMPLICIT:
        div = 1.0 + h * gamma / m
    else:
        a = 1.0 - h * gamma / m
        if scheme == NESTEROV:
            e = h * a
    return a, c, e, div, r


@njit(**INLINE)
def _step_2d(scheme, x0, x1, u0, u1, g0, g1, a, c, e, div, r, h, has_v):
    """One step from ``(x0, x1, u0, u1)`` in registers, given the gradient: ``(xn0, xn1, un0, un1)``."""
    if not has_v:
        xn0 = x0 - r * g0
        xn1 = x1 - r * g1
        un0 = un1 = 0.0
    elif scheme == EXPLICIT:
        xn0 = x0 + h * u0
        xn1 = x1 + h * u1
        un0 = a * u0 - c * g0
        un1 = a * u1 - c * g1
    else:
        if scheme == IMPLICIT:
            un0 = (u0 - c * g0) / div
            un1 = (u1 - c * g1) / div
        else:
            un0 = a * u0 - c * g0
            un1 = a * u1 - c * g1
        xn0 = x0 + h * un0
        xn1 = x1 + h * un1
    return xn0, xn1, un0, un1


@njit(**INLINE)
def _record_2d(count, k, x0, x1, u0, u1, has_v, t0, h, ts, xs, vs):
    """Write the state of step ``k`` to record row ``count``."""
    xs[count, 0] = x0
    xs[count, 1] = x1
    if has_v:
        vs[count, 0] = u0
        vs[count, 1] = u1
    ts[count] = t0 + h * float(k)


@njit(**HOT)
def _integrate_2d(scheme, kind, s, v1, v2, fv, fg, x, v, h, m, gammas, t0, n, tol, every, ts, xs, vs, ls):
    """:func:`integrate_kernel` for ``d = 2``, with the state in registers.

    Each pass of the loop evaluates the problem at state ``k``: the gradient
    at the step's point (``x_k``, or ``x_k + e v_k`` for the look-ahead
    scheme) and the loss at ``x_k`` (:func:`grad_value_2d`, one call site:
    one inlined copy of the formulas). That loss is written when state ``k``
    was recorded; then the run stops (at ``k = n``, or after the step that
    reached ``tol``), or takes the step, tests it for divergence and records
    the new state when it is due (a few stores). A diverging step leaves the
    loop with the state before it, and its loss, still in registers. So the
    last state costs one more evaluation and no loss is computed twice.
    Measured against a hand-written loop on Rosenbrock (docs/performance.md):
    1.2x; the losses in a pass after the loop 1.25 - 1.3x; the loop deciding
    at its top whether to record 1.55x.
    """
    has_v = m != 0.0
    x0, x1 = x[0], x[1]
    u0 = v[0] if has_v else 0.0
    u1 = v[1] if has_v else 0.0
    a, c, e, div, r = _coefficients(scheme, h, m, gammas[0])
    varying = gammas.shape[0] > 1
    look_ahead = scheme == NESTEROV and has_v
    with_tol = tol >= 0.0
    user = kind == USER_FUNCTIONS
    _record_2d(0, 0, x0, x1, u0, u1, has_v, t0, h, ts, xs, vs)
    count = 1
    pending = 0  # the record whose loss the next evaluation gives (-1: none)
    finite = True  # every loss written so far is finite
    status = 0
    due = every  # the next step on the recording grid
    k = 0
    while True:
        if varying and k < n:
            a, c, e, div, r = _coefficients(scheme, h, m, gammas[k])
        y0 = x0 + e * u0 if look_ahead else x0
        y1 = x1 + e * u1 if look_ahead else x1
        g0, g1, val = grad_value_2d(kind, s, v1, v2, fv, fg, y0, y1, x0, x1, pending >= 0, k < n)
        if pending >= 0:
            ls[pending] = val
            finite = finite & (abs(val) < math.inf)
            pending = -1
        if k == n or status != 0:
            break
        xn0, xn1, un0, un1 = _step_2d(scheme, x0, x1, u0, u1, g0, g1, a, c, e, div, r, h, has_v)
        if not ((abs(xn0) <= BOUND) & (abs(xn1) <= BOUND) & (abs(un0) <= BOUND) & (abs(un1) <= BOUND)):
            status = -1  # k stays the index of the diverging step
            break
        if with_tol:
            dx0 = xn0 - x0
            dx1 = xn1 - x1
            if (math.sqrt(g0 * g0 + g1 * g1) <= tol) and (math.sqrt(dx0 * dx0 + dx1 * dx1) <= tol):
                status = 1
        x0, x1, u0, u1 = xn0, xn1, un0, un1
        k += 1
        if k == due or status != 0 or k == n:
            _record_2d(count, k, x0, x1, u0, u1, has_v, t0, h, ts, xs, vs)
            pending = count
            count += 1
            if k == due:
                due += every
    if status == -1 and k % every != 0:  # the state before the diverging step, off the grid
        _record_2d(count, k, x0, x1, u0, u1, has_v, t0, h, ts, xs, vs)
        ls[count] = _user_value_2d(fv, x0, x1) if user else val  # (a user's value was not asked for)
        finite = finite & (abs(ls[count]) < math.inf)
        count += 1
    return status, count, k, finite


@njit(**INLINE)
def _generic_step(scheme, fused, has_b, lam, b, x, v, g, a, c, e, div, r, h, m, with_tol):
    """One step in place for any scheme; returns ``|g|^2, |x' - x|^2, ok``.

    ``g`` holds the gradient (at the look-ahead point for Nesterov) unless
    ``fused``: for a diagonal quadratic ``lam x - b`` is formed here.
    """
    d = x.shape[0]
    gn2 = 0.0
    dx2 = 0.0
    ok = True
    for i in range(d):
        xi = x[i]
        vi = v[i] if m != 0.0 else 0.0
        if fused:
            yi = xi + e * vi if scheme == NESTEROV else xi
            gi = lam[i] * yi - b[i] if has_b else lam[i] * yi
        else:
            gi = g[i]
        if m == 0.0:
            xni = xi - r * gi
            vni = 0.0
        elif scheme == EXPLICIT:
            xni = xi + h * vi
            vni = a * vi - c * gi
        else:
            vni = (vi - c * gi) / div if scheme == IMPLICIT else a * vi - c * gi
            xni = xi + h * vni
        if with_tol:
            dx = xni - xi
            gn2 += gi * gi
            dx2 += dx * dx
        ok = ok & (abs(xni) <= BOUND) & (abs(vni) <= BOUND)
        x[i] = xni
        if m != 0.0:
            v[i] = vni
    return gn2, dx2, ok


@njit(**INLINE)
def _fused_kick_drift(look_ahead, has_b, lam, b, x, v, a, c, e, h):
    """Symplectic / conformal / Nesterov step in place on a diagonal quadratic (vectorised)."""
    d = x.shape[0]
    ok = True
    if look_ahead:
        for i in range(d):
            xi = x[i]
            vi = v[i]
            yi = xi + e * vi
            gi = lam[i] * yi - b[i] if has_b else lam[i] * yi
            vni = a * vi - c * gi
            xni = xi + h * vni
            ok = ok & (abs(xni) <= BOUND) & (abs(vni) <= BOUND)
            x[i] = xni
            v[i] = vni
    else:
        for i in range(d):
            xi = x[i]
            vi = v[i]
            gi = lam[i] * xi - b[i] if has_b else lam[i] * xi
            vni = a * vi - c * gi
            xni = xi + h * vni
            ok = ok & (abs(xni) <= BOUND) & (abs(vni) <= BOUND)
            x[i] = xni
            v[i] = vni
    return ok


@njit(**INLINE)
def _fused_kick_drift_record(look_ahead, has_b, lam, b, x, v, a, c, e, h, xr, vr):
    """:func:`_fused_kick_drift` that also writes the new state to ``xr, vr`` and returns its loss terms.

    Returns ``(ok, sum lam x'^2, sum x' b)``, summed in the order of
    :func:`value_point`, so the loss is bit-identical.
    """
    d = x.shape[0]
    ok = True
    quad = 0.0
    lin = 0.0
    for i in range(d):
        xi = x[i]
        vi = v[i]
        yi = xi + e * vi if look_ahead else xi
        gi = lam[i] * yi - b[i] if has_b else lam[i] * yi
        vni = a * vi - c * gi
        xni = xi + h * vni
        ok = ok & (abs(xni) <= BOUND) & (abs(vni) <= BOUND)
        x[i] = xni
        v[i] = vni
        xr[i] = xni
        vr[i] = vni
        quad += lam[i] * xni * xni
        if has_b:
            lin += xni * b[i]
    return ok, quad, lin


@njit(**HOT)
def _integrate_nd(scheme, kind, s, v1, v2, fv, fg, x, v, g, y, h, m, gammas, t0, n, tol, every,
                  ts, xs, vs, ls):
    """:func:`integrate_kernel` for any ``d``: state updated in place.

    The run is a sequence of segments, each ending at a recorded state. For
    a diagonal quadratic (without ``tol``) the last step of a segment writes
    the record and sums the loss in its own pass over memory. A diverging step
    has overwritten the state, so the state before it is rebuilt by replaying
    the (deterministic) steps since the last record, at most ``every - 1``.
    """
    d = x.shape[0]
    fused = kind == DIAGONAL_QUADRATIC
    has_b = fused and s[1] != 0.0
    has_v = m != 0.0
    with_tol = tol >= 0.0
    look_ahead = scheme == NESTEROV and has_v
    fast = fused and not with_tol and has_v and scheme != EXPLICIT and scheme != IMPLICIT
    a, c, e, div, r = _coefficients(scheme, h, m, gammas[0])
    varying = gammas.shape[0] > 1
    count = 0
    last = -1
    status = 0
    k = 0
    target = -1  # while >= 0: replaying the steps up to this one after a divergence
    in_pass = False  # the state k was recorded by the step that produced it
    quad = lin = 0.0
    while True:
        if last != k:
            if in_pass:
                ls[count] = 0.5 * quad - lin + s[0] if has_b else 0.5 * quad + s[0]
            else:
                for i in range(d):
                    xs[count, i] = x[i]
                    if has_v:
                        vs[count, i] = v[i]
                ls[count] = value_point(kind, s, v1, v2, fv, fg, x)
            ts[count] = t0 + h * float(k)
            count += 1
            last = k
        if status != 0 or k == n:
            break
        replay = target >= 0
        stop = target if replay else min(n, k + every)
        in_pass = False
        ok = True
        while k < stop:
            if varying:
                a, c, e, div, r = _coefficients(scheme, h, m, gammas[k])
            if fast and not replay and k == stop - 1:
                ok, quad, lin = _fused_kick_drift_record(look_ahead, has_b, v1, v2, x, v, a, c, e,
                                                         h, xs[count], vs[count])
                in_pass = ok
            elif fast:
                ok = _fused_kick_drift(look_ahead, has_b, v1, v2, x, v, a, c, e, h)
            else:
                if not fused:
                    if look_ahead:
                        for i in range(d):
                            y[i] = x[i] + e * v[i]
                    grad_point(kind, s, v1, v2, fv, fg, y if look_ahead else x, g)
                gn2, dx2, ok = _generic_step(scheme, fused, has_b, v1, v2, x, v, g, a, c, e, div,
                                             r, h, m, with_tol)
                if ok and with_tol and not replay and math.sqrt(gn2) <= tol and math.sqrt(dx2) <= tol:
                    status = 1
            if not ok:
                break
            k += 1
            if status == 1:
                break
        if replay:
            status = -1
        elif not ok:  # step k diverged: restore the last record and replay up to step k
            for i in range(d):
                x[i] = xs[count - 1, i]
                if has_v:
                    v[i] = vs[count - 1, i]
            target = k
            k = last
    return status, count, k


@njit(**HOT)
def integrate_kernel(scheme, kind, s, v1, v2, fv, fg, x, v, g, y, h, m, gammas, t0, n, tol, every,
                     ts, xs, vs, ls):
    """Advance the damped particle ``n`` steps with one scheme, recording as it goes.

    Parameters
    ----------
    scheme : int
        Code from :data:`SCHEMES`; with ``m = 0``, explicit Euler of the gradient flow.
    kind : int
        Problem kind code of the :class:`~heavyball._compiled.CompiledProblem`.
    s, v1, v2 : ndarray
        Its scalars and two vectors (``cp.scalars``, ``cp.vec1``, ``cp.vec2``).
    fv, fg : None or first-class function
        The user's compiled ``value`` and ``grad``; None for a built-in.
        The six come from ``heavyball._compiled.problem_args(cp)``.
    x, v : ndarray, shape (d,)
        Initial state (``v`` empty when ``m = 0``); overwritten.
    g, y : ndarray, shape (d,) or (0,)
        Work arrays for the gradient and the look-ahead point (unused for
        ``d = 2`` and, except with ``tol``, for a diagonal quadratic). ``g``
        may be None when ``d = 2`` (see Notes).
    h, m : float
        Step and mass.
    gammas : ndarray, shape (1,) or (n,)
        Constant friction, or the friction at the start of each step.
    t0 : float
        Time of the initial state; record ``j`` of step ``k`` has time ``t0 + k h``.
    n : int
        Number of steps.
    tol : float
        Negative for none; otherwise stop (status 1) after a step with
        ``|g| <= tol`` and ``|x_{k+1} - x_k| <= tol``.
    every : int
        Record every ``every``-th state and always the last.
    ts, xs, vs, ls : ndarray
        Preallocated records: times ``(R,)``, positions ``(R, d)``,
        velocities ``(R, d)`` or ``(0, d)``, losses ``(R,)``.

    Returns
    -------
    status : int
        0 all steps done, 1 ``tol`` reached, -1 diverged.
    count : int
        Number of records written.
    k : int
        Steps completed; for status -1 the index of the step that diverged
        (the state recorded last is the one before it).

    Notes
    -----
    One step of ``m x'' = -grad L(x) - gamma x'`` with ``g = grad L``,
    ``gamma = gammas[k]`` (or the constant), ``a = 1 - h gamma/m`` and
    ``c = h/m``:

    * ``explicit_euler``: ``x' = x + h v``, ``v' = a v - c g(x)``;
    * ``symplectic_euler``: ``v' = a v - c g(x)``, ``x' = x + h v'``;
    * ``conformal_symplectic_euler``: the same with ``a = exp(-h gamma/m)``;
    * ``nesterov``: ``v' = a v - c g(x + h a v)``, ``x' = x + h v'``;
    * ``implicit_friction_euler``: ``v' = (v - c g(x)) / (1 + h gamma/m)``,
      ``x' = x + h v'``;
    * ``m = 0`` (gradient flow ``gamma x' = -grad L``): ``x' = x - (h/gamma) g(x)``.

    The expressions and their order of operations are those of the NumPy
    schemes in :mod:`heavyball.integrators`, so the two agree bit for bit.
    Two-dimensional problems run in :func:`_integrate_2d` (state in
    registers), all others in :func:`_integrate_nd` (state in place, the
    gradient of a diagonal quadratic fused into the update pass, and the
    records and loss written in that same pass).

    With ``g`` None the kernel is compiled for the 2-D path alone; with
    arrays, both paths are compiled and ``x.shape[0]`` picks one.
    (:func:`~heavyball.integrate` calls :func:`_integrate_2d` itself for
    ``d = 2``: a program that integrates only 2-D problems compiles neither
    the n-D path, about 5 s of a cold compile, nor this function, which
    links the 2-D loop in and optimises it once more, about 2 s.)

    Examples
    --------
    Symplectic Euler on ``L = x^2/2`` with ``m = 1``, ``gamma = 0``,
    ``h = 0.5`` from ``x = 1`` at rest: ``v_1 = -0.5``, ``x_1 = 0.75``.

    >>> import numpy as np, heavyball as hb
    >>> from heavyball import kernels
    >>> from heavyball._compiled import problem_args
    >>> cp = hb.Quadratic.diagonal([1.0]).compiled()
    >>> x, v, none = np.ones(1), np.zeros(1), np.empty(0)
    >>> ts, xs, vs, ls = np.empty(3), np.empty((3, 1)), np.empty((3, 1)), np.empty(3)
    >>> kernels.integrate_kernel(kernels.SCHEMES["symplectic_euler"], *problem_args(cp), x, v, none, none,
    ...                          0.5, 1.0, np.array([0.0]), 0.0, 2, -1.0, 1, ts, xs, vs, ls)
    (0, 3, 2)
    >>> xs[:, 0].tolist(), vs[:, 0].tolist(), ts.tolist()
    ([1.0, 0.75, 0.3125], [0.0, -0.5, -0.875], [0.0, 0.5, 1.0])
    """
    if g is None or x.shape[0] == 2:  # (``g is None`` is settled when the kernel is compiled)
        status, count, k, _ = _integrate_2d(scheme, kind, s, v1, v2, fv, fg, x, v, h, m, gammas, t0, n, tol,
                                            every, ts, xs, vs, ls)
        return status, count, k
    return _integrate_nd(scheme, kind, s, v1, v2, fv, fg, x, v, g, y, h, m, gammas, t0, n, tol, every,
                         ts, xs, vs, ls)


# --------------------------------------------------------------------------
# optimize
# --------------------------------------------------------------------------


@njit(**INLINE)
def _optimizer_step(code, nesterov, maximize, no_velocity, wd, damp, sigma, x, buf, has_buf, g,
                    noise, row, lr, mom, xn, bn):
    """One step of GD / SGD / KerasSGD / EMAMomentum from ``(x, buf)`` into ``(xn, bn)``.

    Returns ``|x' - x|^2`` and whether ``x'`` and ``buf'`` are finite and
    inside :data:`DIVERGENCE_BOUND`. Formulas and their operation order as in
    :mod:`heavyball.optimizers`.
    """
    d = x.shape[0]
    one_minus_damp = 1.0 - damp
    dx2 = 0.0
    ok_x = True
    ok_b = True
    for i in range(d):
        gi = g[i]
        if sigma > 0.0:
            gi = gi + sigma * noise[row, i]
        xi = x[i]
        bni = buf[i]
        if code == OPT_GD:
            xni = xi - lr * gi
        elif code == OPT_SGD:
            di = -gi if maximize else gi
            if wd != 0.0:
                di = di + wd * xi
            if mom != 0.0:
                bni = bni * mom + one_minus_damp * di if has_buf else di
                di = di + mom * bni if nesterov else bni
            xni = xi - lr * di
        elif code == OPT_KERAS:
            xd = xi - xi * wd * lr if wd != 0.0 else xi
            if no_velocity:
                xni = xd - gi * lr
            else:
                bni = bni * mom - gi * lr
                xni = xd + (bni * mom - gi * lr) if nesterov else xd + bni
        else:  # EMAMomentum
            bni = mom * bni + (1.0 - mom) * gi
            xni = xi - lr * bni
        dx = xni - xi
        dx2 += dx * dx
        ok_x = ok_x & (abs(xni) <= BOUND)
        ok_b = ok_b & (abs(bni) <= BOUND)
        xn[i] = xni
        bn[i] = bni
    return dx2, ok_x, ok_b


@njit(**INLINE)
def _record_opt(row, k, kind, s, v1, v2, fv, fg, x, buf, has_buf, ks, xs, vs, ls):
    d = x.shape[0]
    for i in range(d):
        xs[row, i] = x[i]
    if vs.shape[0] > 0:
        for i in range(d):
            vs[row, i] = buf[i] if has_buf else 0.0
    ks[row] = k
    ls[row] = value_point(kind, s, v1, v2, fv, fg, x)


@njit(**HOT)
def optimize_kernel(code, kind, s, v1, v2, fv, fg, x, buf, state, flags, hyper, lrs, moms, restart,
                    noise, k0, k1, n, tol, every, ks, xs, vs, ls, g, xn, bn):
    """Run optimiser steps ``k0 <= k < k1`` of an ``n``-step run, recording as it goes.

    Resumable, so that the gradient noise can be drawn in bounded chunks:
    ``noise[k - k0]`` is the standard-normal row of step ``k`` (scaled by
    ``hyper[2]``; ``noise`` may be empty when that is 0).

    Parameters
    ----------
    code : int
        Code from :data:`OPTIMIZERS`.
    kind : int
        Problem kind code of the :class:`~heavyball._compiled.CompiledProblem`.
    s, v1, v2 : ndarray
        Its scalars and two vectors (``cp.scalars``, ``cp.vec1``, ``cp.vec2``).
    fv, fg : None or first-class function
        The user's compiled ``value`` and ``grad``; None for a built-in.
        The six come from ``heavyball._compiled.problem_args(cp)``.
    x, buf : ndarray, shape (d,)
        Iterate and optimiser state (PyTorch's momentum buffer, the Keras
        velocity or the EMA), updated in place.
    state : ndarray of int64, shape (3,)
        ``[has_buf, count, last]``: whether the state is live (PyTorch creates
        its buffer on the first step with non-zero momentum; always 1 for
        Keras and EMA), records written so far, and the step of the last
        record (-1 before the first). Updated.
    flags : ndarray of int64, shape (3,)
        ``[nesterov, maximize, no_velocity]`` (the last: Keras was built with
        momentum 0 and keeps no velocity).
    hyper : ndarray, shape (3,)
        ``[weight_decay, dampening, sigma]``.
    lrs, moms : ndarray, shape (1,) or (n,)
        Constant value or the schedule evaluated at every step.
    restart : int
        Re-initialise the state before steps ``restart, 2 restart, ...`` (0: never).
    noise : ndarray, shape (k1 - k0, d) or (0, d)
        Standard-normal rows, one per step of this call (empty when
        ``sigma = 0``).
    k0, k1 : int
        Steps ``k0 <= k < k1`` are run (``k1 <= n``); ``x``, ``buf`` and
        ``state`` carry the run from one call to the next.
    n : int
        Length of the whole run (the last iterate is recorded at ``k = n``).
    tol : float
        Negative for none; stop after a step with noise-free ``|g| <= tol``
        and ``|x_{k+1} - x_k| <= tol``.
    every : int
        Record every ``every``-th iterate, and the last when the run ends.
    ks, xs, vs, ls : ndarray
        Records: step indices, iterates, velocities (``(0, d)`` for GD;
        zeros while PyTorch has no buffer), losses.
    g, xn, bn : ndarray, shape (d,)
        Work arrays.

    Returns
    -------
    status : int
        0 (steps remain, or all done), 1 ``tol`` reached, -1 diverged.
    k : int
        Steps done; for status -1 the index of the step that diverged (the
        state in ``x, buf`` and recorded last is the one before it).

    Notes
    -----
    With ``g = grad L(x_k) + sigma xi_k`` (``xi_k = noise[k - k0]``),
    ``lr = lrs[k]``, ``mu = moms[k]`` (or the constants), weight decay ``wd``
    and dampening ``tau``:

    * ``GD``: ``x' = x - lr g``.
    * ``SGD`` (``torch.optim.SGD`` [1]_): ``d = g + wd x`` (``d = -g + wd x``
      with ``maximize``); with ``mu != 0`` the buffer is ``b = d`` on its first
      step (undamped) and ``b = mu b + (1 - tau) d`` after; the step uses
      ``d = b``, or ``d = d + mu b`` for Nesterov; ``x' = x - lr d``.
    * ``KerasSGD`` (``keras.optimizers.SGD`` [2]_): ``x_w = x - x wd lr``;
      velocity ``u' = mu u - lr g``; ``x' = x_w + u'``, or
      ``x' = x_w + mu u' - lr g`` for Nesterov (``x' = x_w - lr g`` without
      velocity).
    * ``EMAMomentum``: ``b = mu b + (1 - mu) g``, ``x' = x - lr b``.

    The order of operations is that of :mod:`heavyball.optimizers`, so the
    kernel and the NumPy loop agree bit for bit. A step whose ``x'`` (or live
    buffer) leaves :data:`DIVERGENCE_BOUND` is not taken (status -1).

    References
    ----------
    .. [1] PyTorch documentation, ``torch.optim.SGD``.
       https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
    .. [2] Keras documentation, ``keras.optimizers.SGD``.
       https://keras.io/api/optimizers/sgd/

    Examples
    --------
    Two GD steps of ``lr = 0.5`` on ``L = x^2/2`` from ``x = 1``:

    >>> import numpy as np, heavyball as hb
    >>> from heavyball import kernels
    >>> from heavyball._compiled import problem_args
    >>> cp = hb.Quadratic.diagonal([1.0]).compiled()
    >>> x, buf = np.ones(1), np.zeros(1)
    >>> state = np.array([1, 0, -1], dtype=np.int64)
    >>> flags, hyper = np.zeros(3, dtype=np.int64), np.zeros(3)
    >>> ks, xs, vs, ls = np.empty(3, dtype=np.int64), np.empty((3, 1)), np.empty((0, 1)), np.empty(3)
    >>> kernels.optimize_kernel(kernels.OPTIMIZERS["GD"], *problem_args(cp), x, buf, state, flags, hyper,
    ...                         np.array([0.5]), np.array([0.0]), 0, np.empty((0, 1)), 0, 2, 2, -1.0, 1,
    ...                         ks, xs, vs, ls, np.empty(1), np.empty(1), np.empty(1))
    (0, 2)
    >>> ks.tolist(), xs[:, 0].tolist(), ls.tolist()
    ([0, 1, 2], [1.0, 0.5, 0.25], [0.5, 0.125, 0.03125])
    """
    has_buf = state[0] != 0
    count = state[1]
    last = state[2]
    nesterov = flags[0] != 0
    maximize = flags[1] != 0
    no_velocity = flags[2] != 0
    wd, damp, sigma = hyper[0], hyper[1], hyper[2]
    d = x.shape[0]
    with_tol = tol >= 0.0
    status = 0
    k = k0
    due = (k0 + every - 1) // every * every  # next step on the recording grid
    # next restart (k % restart is a slow division); never when restart = 0
    next_restart = (k0 // restart + 1) * restart if restart > 0 else -1
    if restart > 0 and k0 > 0 and k0 % restart == 0:
        next_restart = k0
    while True:
        finished = status != 0 or k == n
        on_grid = k == due
        if on_grid:
            due += every
        if last != k and (finished or on_grid):
            _record_opt(count, k, kind, s, v1, v2, fv, fg, x, buf, has_buf, ks, xs, vs, ls)
            count += 1
            last = k
        if finished or k == k1:
            break
        if k == next_restart:
            next_restart += restart
            if code == OPT_SGD:
                has_buf = False
            else:
                for i in range(d):
                    buf[i] = 0.0
        lr = lrs[k] if lrs.shape[0] > 1 else lrs[0]
        mom = moms[k] if moms.shape[0] > 1 else moms[0]
        grad_point(kind, s, v1, v2, fv, fg, x, g)
        dx2, ok_x, ok_b = _optimizer_step(code, nesterov, maximize, no_velocity, wd, damp, sigma, x,
                                          buf, has_buf, g, noise, k - k0, lr, mom, xn, bn)
        live = has_buf or (code == OPT_SGD and mom != 0.0)
        if not (ok_x and (ok_b or not live or code == OPT_GD)):
            status = -1
            continue
        has_buf = live
        gn2 = 0.0
        for i in range(d):
            gn2 += g[i] * g[i]
            x[i] = xn[i]
            buf[i] = bn[i]
        k += 1
        if with_tol and math.sqrt(gn2) <= tol and math.sqrt(dx2) <= tol:
            status = 1
    state[0] = 1 if has_buf else 0
    state[1] = count
    state[2] = last
    return status, k


# --------------------------------------------------------------------------
# sweep
# --------------------------------------------------------------------------


@njit(**INLINE)
def _sgd(method, x, buf, g, lr, mom):
    """``torch.optim.SGD`` on one coordinate: returns ``(x', buf')`` (``buf' = 0`` for GD).

    ``buf`` starts at 0, which gives PyTorch's first buffer ``buf = g``
    exactly.
    """
    if method == SWEEP_GD:
        return x - lr * g, 0.0
    b = buf * mom + g
    return x - lr * (b if method == SWEEP_HEAVY_BALL else g + mom * b), b


@njit(**INLINE)
def _column_2d(method, j, fused, l0, l1, xs0, xs1, X, V, G, use_grad, scale, lr, mom, thr2, k,
               steps, dead):
    """Step and bookkeeping of column ``j`` of a 2-D block; returns whether it is dead."""
    x0 = X[0, j]
    x1 = X[1, j]
    g0 = l0 * x0 if fused else G[0, j]
    g1 = l1 * x1 if fused else G[1, j]
    e0 = max(abs(g0 if use_grad else x0 - xs0) * scale, DISTANCE_FLOOR)
    e1 = max(abs(g1 if use_grad else x1 - xs1) * scale, DISTANCE_FLOOR)
    d2 = 0.0
    d2 += e0 * e0
    d2 += e1 * e1
    xn0, b0 = _sgd(method, x0, V[0, j], g0, lr[j], mom[j])
    xn1, b1 = _sgd(method, x1, V[1, j], g1, lr[j], mom[j])
    bad = not ((abs(xn0) <= BOUND) & (abs(xn1) <= BOUND) & (abs(b0) <= BOUND) & (abs(b1) <= BOUND))
    hit = (steps[j] < 0) & (not dead[j]) & (d2 <= thr2)
    steps[j] = k if hit else steps[j]
    dj = dead[j] | bad
    dead[j] = dj
    V[0, j] = b0
    V[1, j] = b1
    X[0, j] = xn0
    X[1, j] = xn1
    return dj


@njit(**INLINE)
def _sweep_step_2d(method, fused, lam, X, V, G, xstar, use_grad, scale, lr, mom, thr2, k, steps,
                   dead):
    """One step of every column of a 2-D block, with its bookkeeping, in one pass.

    Before the step, ``steps[j] = k`` for a live column whose
    scaled ``|x_k - x*|^2`` (or ``|grad L(x_k)|^2``; see :func:`sweep_kernel`)
    is first ``<= thr2``; after it, ``dead[j]`` when a coordinate of ``x`` or
    of the buffer is not finite or beyond the bound. ``G`` holds the gradient
    unless ``fused`` (a diagonal quadratic without ``b``: ``g = lam x``).
    One loop per method, so that each is compiled without branches (a branch
    in the loop keeps the compiler from vectorising it). Returns the number
    of dead columns.
    """
    w = X.shape[1]
    xs0 = 0.0 if use_grad else xstar[0]
    xs1 = 0.0 if use_grad else xstar[1]
    l0 = lam[0] if fused else 0.0
    l1 = lam[1] if fused else 0.0
    n_dead = 0
    if method == SWEEP_HEAVY_BALL:
        for j in range(w):
            n_dead += _column_2d(SWEEP_HEAVY_BALL, j, fused, l0, l1, xs0, xs1, X, V, G, use_grad,
                                 scale, lr, mom, thr2, k, steps, dead)
    elif method == SWEEP_NESTEROV:
        for j in range(w):
            n_dead += _column_2d(SWEEP_NESTEROV, j, fused, l0, l1, xs0, xs1, X, V, G, use_grad,
                                 scale, lr, mom, thr2, k, steps, dead)
    else:
        for j in range(w):
            n_dead += _column_2d(SWEEP_GD, j, fused, l0, l1, xs0, xs1, X, V, G, use_grad, scale,
                                 lr, mom, thr2, k, steps, dead)
    return n_dead


@njit(**INLINE)
def _sweep_step(method, fused, lam, X, V, G, xstar, use_grad, scale, lr, mom, D2, bad):
    """One step of every column of a block of any dimension, row by row.

    Forms ``D2``, the squared distance of the state before the step (as in
    :func:`_sweep_step_2d`), and ``bad``; one lane loop per method.
    """
    d, w = X.shape
    for j in range(w):
        D2[j] = 0.0
        bad[j] = False
    for i in range(d):
        xsi = 0.0 if use_grad else xstar[i]
        li = lam[i] if fused else 0.0
        if method == SWEEP_HEAVY_BALL:
            for j in range(w):
                _sweep_cell(SWEEP_HEAVY_BALL, i, j, fused, li, xsi, X, V, G, use_grad, scale, lr,
                            mom, D2, bad)
        elif method == SWEEP_NESTEROV:
            for j in range(w):
                _sweep_cell(SWEEP_NESTEROV, i, j, fused, li, xsi, X, V, G, use_grad, scale, lr,
                            mom, D2, bad)
        else:
            for j in range(w):
                _sweep_cell(SWEEP_GD, i, j, fused, li, xsi, X, V, G, use_grad, scale, lr, mom,
                            D2, bad)


@njit(**INLINE)
def _sweep_cell(method, i, j, fused, li, xsi, X, V, G, use_grad, scale, lr, mom, D2, bad):
    xij = X[i, j]
    gij = li * xij if fused else G[i, j]
    e = max(abs(gij if use_grad else xij - xsi) * scale, DISTANCE_FLOOR)
    D2[j] += e * e
    xn, b = _sgd(method, xij, V[i, j], gij, lr[j], mom[j])
    bad[j] = bad[j] | (not ((abs(xn) <= BOUND) & (abs(b) <= BOUND)))
    V[i, j] = b
    X[i, j] = xn


@njit(**HOT)
def _sweep_block(method, kind, s, v1, v2, fv, fg, x0, xstar, use_grad, scale, thr2, lr, mom, k0, k1, n,
                 X, V, G, W, D2, bad, steps, dead, nd_path):
    """Advance one block of ``LANES`` grid points over steps ``k0 <= k < k1`` (``k1 <= n + 1``).

    The state is the caller's: ``X, V`` of shape ``(d, LANES)`` (column ``j``
    is grid point ``j`` of the block: its iterate and its buffer), ``steps``
    and ``dead`` of shape ``(LANES,)``; at ``k0 = 0`` the block sets them to
    ``x0``, zeros, -1 and False (the start at rest), later calls carry them
    on. ``G, W, D2, bad`` are work arrays. Step ``k = n`` is only the tolerance test of the final
    state. A step is one pass for the gradient (none for a diagonal quadratic
    without ``b``, whose gradient is fused into the update) and one for the
    update and the bookkeeping (two for ``d != 2``). The block stops when all
    its points are dead. The flush to zero runs after every
    :data:`FLUSH_EVERY`-th step of the global index ``k``, so running
    ``[0, n + 1)`` in any number of consecutive pieces gives the same bits as
    one call. ``nd_path`` (settled when compiled) picks the step: None the
    2-D one (``d = 2``), True the n-D one, so each is compiled alone.
    """
    d = X.shape[0]
    fused = kind == DIAGONAL_QUADRATIC and s[1] == 0.0
    if k0 == 0:
        for i in range(d):
            for j in range(LANES):
                X[i, j] = x0[i]
                V[i, j] = 0.0
        for j in range(LANES):
            steps[j] = -1
            dead[j] = False
    n_dead = 0
    for j in range(LANES):
        n_dead += dead[j]
    if n_dead == LANES:
        return
    for k in range(k0, k1):
        if not fused:
            if fg is None:  # a built-in: the derived loop only serves Lessard, which is 1-D (settled when compiled)
                grad_block(kind, s, v1, v2, fv, fg, X, G, W, nd_path)
            else:
                grad_block(kind, s, v1, v2, fv, fg, X, G, W, True)
        if k == n:  # only the tolerance test, on the final state
            for j in range(LANES):
                D2[j] = 0.0
            for i in range(d):
                xsi = 0.0 if use_grad else xstar[i]
                li = v1[i] if fused else 0.0
                for j in range(LANES):
                    gij = li * X[i, j] if fused else G[i, j]
                    e = max(abs(gij if use_grad else X[i, j] - xsi) * scale, DISTANCE_FLOOR)
                    D2[j] += e * e
            for j in range(LANES):
                hit = (steps[j] < 0) & (not dead[j]) & (D2[j] <= thr2)
                steps[j] = n if hit else steps[j]
            break
        if nd_path is None:
            n_dead = _sweep_step_2d(method, fused, v1, X, V, G, xstar, use_grad, scale, lr, mom,
                                    thr2, k, steps, dead)
        else:
            _sweep_step(method, fused, v1, X, V, G, xstar, use_grad, scale, lr, mom, D2, bad)
            n_dead = 0
            for j in range(LANES):
                hit = (steps[j] < 0) & (not dead[j]) & (D2[j] <= thr2)
                steps[j] = k if hit else steps[j]
                dead[j] = dead[j] | bad[j]
                n_dead += dead[j]
        if n_dead == LANES:
            break
        if (k + 1) % FLUSH_EVERY == 0:
            for i in range(d):
                for j in range(LANES):
                    X[i, j] = 0.0 if abs(X[i, j]) < FLUSH_BELOW else X[i, j]
                    V[i, j] = 0.0 if abs(V[i, j]) < FLUSH_BELOW else V[i, j]


#: Pieces per thread that :func:`_in_threads` cuts a call's blocks into: blocks
#: whose points all diverge stop early, so smaller pieces, taken in turn by
#: whichever thread is free, even out the threads' loads.
PIECES_PER_THREAD = 4
_POOL = {"pid": None, "pool": None}


def _pool():
    """The process's worker threads (created at first use, and again in a forked child)."""
    import concurrent.futures

    import numba

    if _POOL["pid"] != os.getpid():
        _POOL["pool"] = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1), thread_name_prefix="heavyball-sweep")
        _POOL["pid"] = os.getpid()
    return _POOL["pool"]


def _in_threads(run, n_blocks):
    """``run(b0, b1)`` over pieces covering ``range(n_blocks)``, on ``numba.get_num_threads()`` threads.

    The calling thread and ``threads - 1`` pool threads take the pieces in
    turn. The first exception raised by a piece is raised here once the
    threads are done; an exception (or a ``KeyboardInterrupt``) stops them
    from taking further pieces.
    """
    import threading

    import numba

    threads = min(numba.get_num_threads(), n_blocks)
    if threads <= 1:
        run(0, n_blocks)
        return
    n_pieces = min(n_blocks, PIECES_PER_THREAD * threads)
    cuts = [n_blocks * i // n_pieces for i in range(n_pieces + 1)]
    pieces = iter(range(n_pieces))
    lock = threading.Lock()
    stop = []

    def work():
        while not stop:
            with lock:
                i = next(pieces, None)
            if i is None:
                return
            try:
                run(cuts[i], cuts[i + 1])
            except BaseException:
                stop.append(True)
                raise

    futures = [_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()
        for f in futures:
            f.result()
    finally:
        stop.append(True)


def sweep_kernel(method, kind, s, v1, v2, fv, fg, x0, xstar, use_grad, scale, thr2, lrs, moms, p0, p1, k0, k1, n,
                 X, V, steps, dead):
    """Steps ``k0 <= k < k1`` of PyTorch SGD for grid points ``p0 <= p < p1``, blocks of ``LANES`` in parallel.

    Grid point ``p`` has ``momentum = moms[p // len(lrs)]`` and ``lr = lrs[p % len(lrs)]``.
    The blocks are independent: they are shared out over ``numba.get_num_threads()``
    threads (:func:`_in_threads`), each running the compiled loop
    :func:`_sweep_blocks` on a run of whole blocks without holding the GIL.
    Inside a block the lanes are the
    innermost loop, so the compiler vectorises the update across grid points.
    The state is the caller's (a call with ``k0 = 0`` starts every point at
    ``x0`` at rest): calls for consecutive step ranges covering
    ``[0, n + 1)`` give exactly the bits of one call for ``[0, n + 1)``, so
    the caller can return to Python (and obey Ctrl-C) between them.

    Parameters
    ----------
    method : int
        Code from :data:`SWEEP_METHODS` (``torch.optim.SGD`` semantics; for
        Nesterov the iterate is PyTorch's parameter, the look-ahead point).
    kind : int
        Problem kind code of the :class:`~heavyball._compiled.CompiledProblem`.
    s, v1, v2 : ndarray
        Its scalars and two vectors (``cp.scalars``, ``cp.vec1``, ``cp.vec2``).
    fv, fg : None or first-class function
        The user's compiled ``value`` and ``grad``; None for a built-in.
        The six come from ``heavyball._compiled.problem_args(cp)``.
    x0 : ndarray, shape (d,)
        Starting point shared by every grid point (each starts at rest).
    xstar : ndarray, shape (d,)
        Minimiser; ignored when ``use_grad`` (then ``|grad L(x_k)|`` stands
        in for ``|x_k - x*|``).
    use_grad : bool
        Measure the error by the gradient norm instead of the distance to
        ``xstar`` (for problems without a known minimiser).
    scale : float
        A power of two; the tolerance test compares
        ``sum_i max(scale |x_k - x*|_i, DISTANCE_FLOOR)^2`` with ``thr2``.
    thr2 : float
        ``(scale tol |x_0 - x*|)^2``, in ``[0.25, 1)``. Scaling by a power of
        two is exact, so the test is ``|x_k - x*| <= tol |x_0 - x*|`` with
        no underflow even for tiny tolerances; raising each term to
        :data:`DISTANCE_FLOOR` changes the sum by at most ``d * 1e-300``,
        far below the rounding of ``thr2``, and keeps the squares of
        vanishing coordinates out of the subnormal range (20x slower).
    lrs, moms : ndarray
        The grid axes: learning rates (fastest index) and momenta.
    p0, p1 : int
        The grid points ``p0 <= p < p1`` run by this call.
    k0, k1, n : int
        Steps ``k0 <= k < k1 <= n + 1`` are run; ``k = n`` is only the
        tolerance test of the final state.
    X, V : ndarray, shape (n_blocks, d, LANES)
        Iterates and buffers, out (and in, unless ``k0 = 0``); grid point ``p0 + b LANES + j`` is
        column ``j`` of block ``b`` (``n_blocks = ceil((p1 - p0) / LANES)``;
        the lanes past ``p1`` repeat the last point). After step ``n``:
        final iterates (meaningless where ``dead``).
    steps : ndarray of int64, shape (n_blocks, LANES)
        Out (and in, unless ``k0 = 0``): first ``k`` in ``0..n`` at which the (scaled) tolerance
        test holds, -1 if none (yet).
    dead : ndarray of bool, shape (n_blocks, LANES)
        Out (and in, unless ``k0 = 0``): True where a coordinate of ``x`` or of the buffer became
        non-finite or exceeded :data:`DIVERGENCE_BOUND`; a block stops (in
        this call and the later ones) once all its points are dead.

    Notes
    -----
    After every :data:`FLUSH_EVERY`-th step (of the global index ``k``), coordinates of ``x`` and of the
    buffer below :data:`FLUSH_BELOW` in magnitude are set to zero: a
    trajectory that converges onto ``x* = 0`` would otherwise spend its
    remaining steps on subnormal numbers, each about 20 times slower than a
    normal one. (A test at every step costs about a third of a step; every
    16th leaves at most 15 slow steps per coordinate that underflows.)

    Each grid point runs ``torch.optim.SGD`` [1]_ coordinate by coordinate, with
    the buffer starting at ``b = 0`` so that the first buffer is ``g``
    (PyTorch's undamped first step):

    * ``gd``: ``x' = x - lr g``;
    * ``heavy_ball``: ``b' = mu b + g``, ``x' = x - lr b'``;
    * ``nesterov``: ``b' = mu b + g``, ``x' = x - lr (g + mu b')``.

    ``steps`` is the first ``k`` with
    ``sum_i max(scale |x_k - x*|_i, DISTANCE_FLOOR)^2 <= thr2``.

    References
    ----------
    .. [1] PyTorch documentation, ``torch.optim.SGD``.
       https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

    Examples
    --------
    Heavy ball with ``lr = 0.5`` at momenta 0 and 0.5 on ``L = x^2/2`` from
    ``x = 1``, tolerance ``0.1 |x_0 - x*|`` (``scale = 8``, the power of two
    bringing 0.1 into ``[0.5, 1)``): momentum 0 halves the error each step
    (``0.5^4 <= 0.1``); momentum 0.5 reaches ``x_2 = 0`` exactly.

    >>> import numpy as np, heavyball as hb
    >>> from heavyball import kernels
    >>> from heavyball._compiled import problem_args
    >>> cp = hb.Quadratic.diagonal([1.0]).compiled()
    >>> X, V = np.empty((1, 1, kernels.LANES)), np.empty((1, 1, kernels.LANES))
    >>> steps, dead = np.empty((1, kernels.LANES), np.int64), np.empty((1, kernels.LANES), np.bool_)
    >>> kernels.sweep_kernel(kernels.SWEEP_METHODS["heavy_ball"], *problem_args(cp), np.ones(1), np.zeros(1),
    ...                      False, 8.0, (8.0 * 0.1) ** 2, np.array([0.5]), np.array([0.0, 0.5]), 0, 2, 0, 11, 10,
    ...                      X, V, steps, dead)
    >>> steps[0, :2].tolist(), dead[0, :2].tolist()
    ([4, 2], [False, False])
    """
    nd_path = None if X.shape[1] == 2 else True  # the 2-D or the n-D step, each compiled alone

    def run(b0, b1):  # blocks b0 <= b < b1 (their grid points start at p0 + b0 LANES)
        _sweep_blocks(method, kind, s, v1, v2, fv, fg, x0, xstar, use_grad, scale, thr2, lrs, moms,
                      p0 + b0 * LANES, min(p1, p0 + b1 * LANES), k0, k1, n, X[b0:b1], V[b0:b1], steps[b0:b1],
                      dead[b0:b1], nd_path)

    _in_threads(run, X.shape[0])


@njit(cache=CACHE, nogil=True, error_model="numpy")
def _sweep_blocks(method, kind, s, v1, v2, fv, fg, x0, xstar, use_grad, scale, thr2, lrs, moms, p0, p1, k0, k1, n,
                  X, V, steps, dead, nd_path):
    """:func:`sweep_kernel` on the blocks of ``p0 <= p < p1``, one after the other, without the GIL.

    ``nd_path`` None (for ``d = 2``) compiles the two-dimensional step alone
    and True (any other ``d``) the n-D step alone: one kernel with both took
    1.4 s more to compile cold than the 2-D one alone (measured).
    Serial on purpose: the threads are Python's (:func:`_in_threads`). A
    ``prange`` loop here took 3.3 s more to compile cold (Numba optimises
    the linked block kernel again inside its parallel region) and ran no
    faster (measured, docs/performance.md).
    """
    n_pts = p1 - p0
    n_lr = lrs.shape[0]
    d = X.shape[1]
    n_blocks = (n_pts + LANES - 1) // LANES
    for blk in range(n_blocks):
        q0 = blk * LANES
        nl = min(LANES, n_pts - q0)
        lr = np.empty(LANES)
        mom = np.empty(LANES)
        for j in range(LANES):
            p = p0 + q0 + min(j, nl - 1)
            lr[j] = lrs[p % n_lr]
            mom[j] = moms[p // n_lr]
        Xb = np.empty((d, LANES))  # local copies of the state: the compiler knows they alias nothing
        Vb = np.empty((d, LANES))
        G = np.empty((d, LANES))
        W = np.empty((2, d))  # one point and its gradient, for user functions
        D2 = np.empty(LANES)
        bad = np.empty(LANES, dtype=np.bool_)
        st = np.empty(LANES, dtype=np.int64)
        dd = np.empty(LANES, dtype=np.bool_)
        if k0 > 0:
            for j in range(LANES):
                st[j] = steps[blk, j]
                dd[j] = dead[blk, j]
                for i in range(d):
                    Xb[i, j] = X[blk, i, j]
                    Vb[i, j] = V[blk, i, j]
        _sweep_block(method, kind, s, v1, v2, fv, fg, x0, xstar, use_grad, scale, thr2, lr, mom, k0, k1, n,
                     Xb, Vb, G, W, D2, bad, st, dd, nd_path)
        for j in range(LANES):
            steps[blk, j] = st[j]
            dead[blk, j] = dd[j]
            for i in range(d):
                X[blk, i, j] = Xb[i, j]
                V[blk, i, j] = Vb[i, j]
