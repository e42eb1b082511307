r"""The compiled problems: what the Numba kernels run, and how a problem reaches them.

A problem that the kernels can run describes itself by a
:class:`CompiledProblem`: an integer ``kind`` that selects the formula, three
float64 arrays holding its parameters and, for a user problem, its compiled
functions. The compiled value and gradient (:mod:`heavyball.kernels`)
dispatch on ``kind`` inside one function, so every kernel is compiled once
for all problems instead of once per problem.

Kind codes
----------
The codes themselves are defined in ``kernels.py`` (:data:`KINDS`).

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

User problems
-------------
A :class:`~heavyball.problems.CustomProblem` whose ``value`` and ``grad`` are
Numba dispatchers (``@numba.njit`` functions) runs ``integrate``,
``optimize`` and ``sweep`` in the same kernels as the built-in problems.

Calling convention
------------------
``value(x) -> float`` and ``grad(x, out) -> None``, where ``x`` is a
C-contiguous float64 array of shape ``(dim,)`` and ``grad`` writes
``dL/dx`` into ``out`` (same type and shape) in place. Data such as a
dataset is captured by the functions (a closure or a global): Numba freezes
it into the compiled code as a constant. There is no extra ``args``: a
closure costs nothing at run time and keeps one calling convention.

How the functions reach the kernels
-----------------------------------
Every kernel takes a problem as ``kind, scalars, vec1, vec2, fv, fg``
(:func:`problem_args`). A user problem has kind ``USER_FUNCTIONS`` and its
functions as ``fv, fg``: first-class function values, typed by signature
only, so one compiled (and disk-cached) version of each kernel serves every
user problem, and a new problem costs only the compilation of its own two
functions. The kernels reach the problem through ``value_point`` and
``grad_point`` (every other layout derives from them), whose
``USER_FUNCTIONS`` branch calls ``fv``/``fg``; built-ins pass None, and
their kernels, compiled for None, contain no call at all.

A call through a function pointer cannot be inlined. The alternative,
measured and available (a sweep of at least :data:`SPECIALISE_SWEEP_WORK`
trajectory-steps, off by default), runs in copies of the kernels made by
:func:`specialised`: the same code with ``value_point``, ``grad_point`` and
``grad_block`` replaced by versions that call the user's dispatchers
directly, which LLVM inlines. That costs seconds of compilation per problem
and process (not cached on disk: Numba keys its cache on argument types, and
a dispatcher's type is new in every process). ``docs/performance.md``
("Compiled user problems") has the numbers.

Errors
------
:func:`validate` calls both functions once on the start point from Python
(compiling them for the kernels' argument types) and turns a function that
does not compile, raises, returns the wrong type or leaves ``out`` unset
into a ``ValueError`` naming it. An exception raised inside the user's
function later, in a kernel, ends the call with a ``ValueError`` raised from
it (see :class:`_Guarded`).
"""

from __future__ import annotations

import math
import sys
import types as pytypes
from typing import NamedTuple

import numpy as np

from ._kernel_constants import constant

#: Every kind code the kernels know (values defined once, in kernels.py: see
#: heavyball/_kernel_constants.py); :func:`make` and the kernels' callers reject others.
KINDS = {name: constant(name) for name in ("DENSE_QUADRATIC", "DIAGONAL_QUADRATIC", "ROSENBROCK", "DOUBLE_WELL",
                                           "SADDLE", "PLATEAU", "LESSARD", "USER_FUNCTIONS")}
DENSE_QUADRATIC = KINDS["DENSE_QUADRATIC"]
DIAGONAL_QUADRATIC = KINDS["DIAGONAL_QUADRATIC"]
ROSENBROCK = KINDS["ROSENBROCK"]
DOUBLE_WELL = KINDS["DOUBLE_WELL"]
SADDLE = KINDS["SADDLE"]
PLATEAU = KINDS["PLATEAU"]
LESSARD = KINDS["LESSARD"]
USER_FUNCTIONS = KINDS["USER_FUNCTIONS"]

EMPTY = np.empty(0, dtype=np.float64)


class CompiledProblem(NamedTuple):
    """A problem as the Numba kernels see it: a kind code and its parameters.

    Attributes
    ----------
    kind : int
        One of the kind codes (:data:`KINDS`).
    dim : int
        Dimension of ``x``.
    scalars, vec1, vec2 : ndarray of float64, C-contiguous
        Parameters as listed in the module docstring (Kind codes); ``vec1`` and ``vec2``
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
        from . import kernels

        x = _point(x, self.dim)
        return float(kernels.value_point(*problem_args(self), x))

    def grad(self, x):
        """Compiled ``grad L(x)`` for one point ``x`` of shape ``(dim,)``."""
        from . import kernels

        x = _point(x, self.dim)
        g = np.empty(self.dim)
        kernels.grad_point(*problem_args(self), x, g)
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


def compiled_problem(problem):
    """``problem.compiled()`` if it is a usable :class:`CompiledProblem`, else None."""
    fn = getattr(problem, "compiled", None)
    if not callable(fn):
        return None
    cp = fn()
    if not isinstance(cp, CompiledProblem) or cp.dim != problem.dim:
        return None
    return cp


def work_per_step(cp):
    """Work of one step of one point: ``dim`` coordinates, ``dim^2`` for a dense quadratic."""
    return cp.dim * cp.dim if cp.kind == DENSE_QUADRATIC else cp.dim

_SPECIALISED = {}


def is_jitted(fn):
    """True if ``fn`` is a Numba-compiled function (a dispatcher)."""
    if "numba" not in sys.modules:  # nobody compiled anything
        return False
    from numba.extending import is_jitted as _is_jitted

    return bool(_is_jitted(fn))


#: What ``out`` holds before a call of the user's ``grad`` from Python: a NaN with a payload that no
#: arithmetic on finite numbers produces (its NaNs carry the default payload), so an element still
#: equal to it bit for bit was not written.
UNSET = np.array(0x7FF8DEADBEEF0001, dtype=np.uint64).view(np.float64)


class PythonValue:
    """``value(x)`` for the NumPy paths: the compiled function, with its errors made clear."""

    def __init__(self, value, dim):
        self.value_fn, self.dim = value, dim

    def __call__(self, x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        try:
            v = self.value_fn(x)
        except Exception as exc:  # noqa: BLE001 (numba's typing errors, or the function raised)
            raise ValueError(_failed("value", x, exc, self.dim)) from exc
        _check_value(v, self.dim)
        return v

    def batch(self, x):
        """``value`` of every point of ``x`` (shape ``(..., dim)``), in one compiled loop."""
        from . import kernels

        if x.ndim == 1:
            return np.asarray(self(x), dtype=np.float64)
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, self.dim)
        out = np.empty(flat.shape[0])
        if flat.shape[0]:
            self(flat[0])  # the convention's checks, with clear errors
            _Guarded(kernels.values_kernel)(_function_pointer(self.value_fn, _signatures()[0], "value"), flat, out)
        return out.reshape(x.shape[:-1])


class PythonGrad:
    """``grad(x) -> array`` for the NumPy paths, from a compiled ``grad(x, out) -> None``."""

    def __init__(self, grad, dim):
        self.grad_fn, self.dim = grad, dim

    def __call__(self, x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.full(self.dim, UNSET)
        try:
            r = self.grad_fn(x, out)
        except Exception as exc:  # noqa: BLE001
            raise ValueError(_failed("grad", x, exc, self.dim)) from exc
        _check_grad(r, self.dim)
        unset = np.flatnonzero(out.view(np.uint64) == UNSET.view(np.uint64))
        if unset.size:
            raise ValueError(f"the compiled `grad` left out[{unset[0]}] unset at x = {x.tolist()}; "
                             f"{_convention(self.dim)}")
        return out

    def batch(self, x):
        """``grad`` of every point of ``x`` (shape ``(..., dim)``), in one compiled loop."""
        from . import kernels

        if x.ndim == 1:
            return self(x)
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, self.dim)
        out = np.empty(flat.shape)
        if flat.shape[0]:
            self(flat[0])
            _Guarded(kernels.grads_kernel)(_function_pointer(self.grad_fn, _signatures()[1], "grad"), flat, out)
        return out.reshape(x.shape)


def user_form(problem):
    """The :class:`~heavyball.CompiledProblem` of a custom problem with compiled functions."""
    return CompiledProblem(USER_FUNCTIONS, problem.dim, EMPTY, EMPTY, EMPTY,
                                  problem._f.value_fn, problem._g.grad_fn)


#: Trajectory-steps of one sweep call from which a user problem's sweep runs in kernels specialised on
#: its functions (compiled per problem and process: about 8 s) instead of the cached kernel calling
#: them through function pointers. Off (infinite) by default: on the 2-D benchmark the pointer sweep
#: was within 1.06x of the built-in and the specialised one no faster (docs/performance.md,
#: "Compiled user problems"). Set it to a finite number to opt in, e.g. for a costly gradient.
SPECIALISE_SWEEP_WORK = math.inf


def _signatures():
    from numba import types

    arr = types.Array(types.float64, 1, "C")
    return types.float64(arr), types.none(arr, arr)


_WAPS = {}


def _function_pointer(fn, sig, what):
    """``fn`` compiled for ``sig``, as a first-class function value the kernels take (built once per ``fn``)."""
    from numba.core.types.function_type import CompileResultWAP

    key = (fn, sig)
    found = _WAPS.get(key)
    if found is None:
        fn.compile(sig.args)
        cres = fn.overloads[sig.args]
        if cres.signature.return_type != sig.return_type:
            raise ValueError(f"the compiled `{what}` must return {sig.return_type} for x of type {sig.args[0]}, "
                             f"it returns {cres.signature.return_type}")
        found = _WAPS[key] = CompileResultWAP(cres)
    return found


def problem_args(cp):
    """``kind, scalars, vec1, vec2, fv, fg``: how every kernel takes a problem (built-in or user).

    For a user problem ``fv`` and ``fg`` are its functions as first-class
    function values (types ``float64(array)`` and ``none(array, array)``,
    the same for every user problem); for a built-in they are None, and the
    kernels compiled for None contain no call at all. Each kernel thus has
    two signatures, both in the on-disk cache.
    """
    kind = check_kind(cp.kind)
    if kind != USER_FUNCTIONS:
        return kind, cp.scalars, cp.vec1, cp.vec2, None, None
    value_sig, grad_sig = _signatures()
    fv = _function_pointer(cp.value_fn, value_sig, "value")
    fg = _function_pointer(cp.grad_fn, grad_sig, "grad")
    return kind, cp.scalars, cp.vec1, cp.vec2, fv, fg


def kernels_for(cp, x0, sweep_work=0):
    """The kernels that run ``cp`` (call them with ``*problem_args(cp)``).

    :mod:`heavyball.kernels` itself for a built-in. For a user problem (after
    :func:`validate` at ``x0``): the same cached kernels, wrapped so that an
    exception raised by the user's function inside them is raised again
    here; and for a sweep of at least :data:`SPECIALISE_SWEEP_WORK`
    trajectory-steps (or once compiled in this process), the sweep kernel
    specialised on the user's functions. Raises ``ValueError`` for a kind
    code the kernels do not know.
    """
    from . import kernels

    if check_kind(cp.kind) != USER_FUNCTIONS:
        return kernels
    validate(cp, x0)
    key = (cp.value_fn, cp.grad_fn, int(cp.dim))
    sweep = _Guarded(kernels.sweep_kernel)
    if key in _SPECIALISED or sweep_work >= SPECIALISE_SWEEP_WORK:
        sweep = _Guarded(specialised(*key).sweep_kernel)
    return pytypes.SimpleNamespace(integrate_kernel=_Guarded(kernels.integrate_kernel),
                                   _integrate_2d=_Guarded(kernels._integrate_2d),
                                   optimize_kernel=_Guarded(kernels.optimize_kernel), sweep_kernel=sweep)


class _Guarded:
    """A kernel call that raises what the user's function raised inside it.

    Numba calls a first-class function through a C wrapper, which cannot
    return an exception: it reports it to ``sys.unraisablehook`` and the
    kernel goes on with whatever ``out`` holds. The hook is replaced during
    the call, and once the kernel returns (its results are then discarded)
    a ``ValueError`` is raised from the first exception reported. A specialised kernel calls the
    function directly and propagates its exception (from whichever of the
    sweep's threads ran it), which becomes the same ``ValueError``.
    """

    def __init__(self, kernel):
        self.kernel = kernel

    def __call__(self, *args):
        caught = []
        previous = sys.unraisablehook
        sys.unraisablehook = caught.append
        try:
            result = self.kernel(*args)
        except Exception as err:  # (not KeyboardInterrupt)
            if type(err).__module__.startswith("numba"):  # compiling failed: not the user's function
                raise
            exc = err
        else:
            exc = caught[0].exc_value if caught else None
        finally:
            sys.unraisablehook = previous
        if exc is not None:
            raise ValueError(f"a compiled user function (`value` or `grad`) raised inside a heavyball kernel: "
                             f"{type(exc).__name__}: {_first_line(exc)}") from exc
        return result


def _convention(d):
    return (f"compiled problems need `value(x) -> float` and `grad(x, out) -> None` (filling `out` in place), "
            f"x and out C-contiguous float64 arrays of shape ({d},)")


def validate(cp, x0):
    """Call ``value`` and ``grad`` once at ``x0`` from Python; a clear ``ValueError`` if they misbehave."""
    PythonValue(cp.value_fn, cp.dim)(x0)
    PythonGrad(cp.grad_fn, cp.dim)(x0)


def _failed(what, x, exc, d):
    return (f"the compiled `{what}` failed at x = {np.asarray(x).tolist()}: {type(exc).__name__}: "
            f"{_first_line(exc)}; {_convention(d)}")


def _check_value(v, d):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (float, int, np.floating, np.integer)):
        raise ValueError(f"the compiled `value` must return a float, got {type(v).__name__} {_short(v)}; "
                         f"{_convention(d)}")


def _check_grad(r, d):
    if r is not None:
        raise ValueError(f"the compiled `grad` must return None and write the gradient into `out`, "
                         f"it returned {type(r).__name__} {_short(r)}; {_convention(d)}")


def _first_line(exc):
    """The gist of an exception: its first line, and the second for Numba's typing errors."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Failed in nopython mode"):
        return f"{lines[0]}: {lines[1]}"
    return lines[0] if lines else ""


def _short(v):
    text = repr(v)
    return text if len(text) < 60 else text[:57] + "..."


def specialised(value, grad, dim):
    """Copies of the kernels calling ``value`` and ``grad`` (built once per process and problem).

    Returns a namespace with ``integrate_kernel``, ``optimize_kernel`` and
    ``sweep_kernel``, taking the same arguments as those of
    :mod:`heavyball.kernels` (the problem arguments are ignored). Each is
    compiled at its first call. The library uses only ``sweep_kernel``;
    the others exist for ``benchmarks/bench_compiled_problem.py``, which
    measures them against the function-pointer path.
    """
    key = (value, grad, int(dim))
    found = _SPECIALISED.get(key)
    if found is None:
        found = _SPECIALISED[key] = _copy_kernels({**_formulas(value, grad, int(dim)), **_stubs(int(dim))})
    return found


def _stubs(dim):
    """Stand-ins for the kernel paths a user problem of dimension ``dim`` never takes (less to compile).

    The diagonal quadratic's fused updates, and the 2-D or the n-D paths;
    each returns values of the types of the function it replaces.
    """
    import numba

    from . import kernels

    opts = {k: v for k, v in kernels.INLINE.items() if k != "cache"}
    hot = {k: v for k, v in kernels.HOT.items() if k != "cache"}

    @numba.njit(**opts)
    def _fused_kick_drift(look_ahead, has_b, lam, b, x, v, a, c, e, h):
        return False

    @numba.njit(**opts)
    def _fused_kick_drift_record(look_ahead, has_b, lam, b, x, v, a, c, e, h, xr, vr):
        return False, 0.0, 0.0

    out = {"_fused_kick_drift": _fused_kick_drift, "_fused_kick_drift_record": _fused_kick_drift_record}
    if dim == 2:
        @numba.njit(**hot)
        def _integrate_nd(scheme, kind, s, v1, v2, fv, fg, x, v, g, y, h, m, gammas, t0, n, tol, every, ts, xs, vs, ls):
            return -1, 0, 0

        @numba.njit(**opts)
        def _sweep_step(method, fused, lam, X, V, G, xstar, use_grad, scale, lr, mom, D2, bad):
            pass

        out.update(_integrate_nd=_integrate_nd, _sweep_step=_sweep_step)
    else:
        @numba.njit(**hot)
        def _integrate_2d(scheme, kind, s, v1, v2, fv, fg, x, v, h, m, gammas, t0, n, tol, every, ts, xs, vs, ls):
            return -1, 0, 0, False

        @numba.njit(**opts)
        def _sweep_step_2d(method, fused, lam, X, V, G, xstar, use_grad, scale, lr, mom, thr2, k, steps, dead):
            return 0

        out.update(_integrate_2d=_integrate_2d, _sweep_step_2d=_sweep_step_2d)
    return out


def _copy_kernels(formulas):
    """Every compiled function of :mod:`heavyball.kernels`, recompiled with ``formulas`` in its globals.

    Each copy gets the same globals dictionary, in which every kernel name
    refers to its copy, so the copies call each other (and the inlined
    helpers are inlined from the copies). Not cached on disk.
    """
    import numba
    from numba.core.dispatcher import Dispatcher

    from . import kernels

    glb = dict(vars(kernels))
    for name, obj in vars(kernels).items():
        if not isinstance(obj, Dispatcher) or obj.py_func.__module__ != kernels.__name__:
            continue
        if name in formulas:
            glb[name] = formulas[name]
            continue
        py = obj.py_func
        fn = pytypes.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
        fn.__doc__, fn.__qualname__ = py.__doc__, py.__qualname__
        glb[name] = numba.jit(**obj.targetoptions)(fn)
    py = kernels.sweep_kernel  # plain Python (it shares the blocks out over threads): it calls the copies
    glb["sweep_kernel"] = pytypes.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
    return pytypes.SimpleNamespace(**{n: glb[n] for n in ("integrate_kernel", "optimize_kernel", "sweep_kernel")})


def _formulas(value, grad, dim):
    """``value_point``, ``grad_point`` and ``grad_block`` of the kernels, calling the user's point functions.

    (``grad_value_2d`` derives from the point functions in the kernels; ``grad_block`` is
    replaced by one generic loop, with stack buffers of the problem's own size.)
    """
    import numba
    from . import kernels

    opts = {k: v for k, v in kernels.INLINE.items() if k != "cache"}
    stack_array = kernels.stack_array
    D = dim

    @numba.njit(**opts)
    def value_point(kind, s, v1, v2, fv, fg, x):
        return float(value(x))

    @numba.njit(**opts)
    def grad_point(kind, s, v1, v2, fv, fg, x, g):
        grad(x, g)

    @numba.njit(**opts)
    def grad_block(kind, s, v1, v2, fv, fg, X, G, W, derived):
        xb = stack_array(D)
        gb = stack_array(D)
        for j in range(X.shape[1]):
            for i in range(D):
                xb[i] = X[i, j]
            grad(xb, gb)
            for i in range(D):
                G[i, j] = gb[i]

    return {"value_point": value_point, "grad_point": grad_point, "grad_block": grad_block}
