r"""Calling a user's loss functions, with every result checked.

:class:`~heavyball.problems.CustomProblem` evaluates the user's ``value``,
``grad`` and ``hessian`` only through :func:`evaluate`, so every path that
takes a problem (``integrate``, ``optimize``, ``sweep``, ``solve_reference``,
the diagnostics and figures) sees the same checked results:

* a function that raises gives a ``ValueError`` naming it, with the original
  exception chained (``MemoryError``, ``KeyboardInterrupt`` and ``SystemExit``
  pass through unchanged);
* the result is converted as ``numpy.asarray`` converts (a list, a tuple, a
  NumPy or Python scalar, float32 or integers are fine) and must be real:
  ``None``, a ragged sequence, a complex, boolean, string or object result
  is a ``ValueError``;
* it must have the shape the function promises, up to axes of length one
  (``()`` and ``(1,)`` are the same number): ``value`` -> ``(...)``,
  ``grad`` -> ``(..., dim)``, ``hessian`` -> ``(..., dim, dim)`` for points of
  shape ``(..., dim)``. Nothing is broadcast: a scalar or ``(1,)`` gradient for
  ``dim = 2`` is an error, not a gradient with equal components;
* NaN at a point whose coordinates are finite and inside
  :data:`~heavyball.trajectory.DIVERGENCE_BOUND` (``1e50``) is the function's
  error (a ``ValueError``), while ``inf`` there is an overflow, which the runs
  report as divergence (status -1, ``diverged``). At a point outside the bound
  or not finite, the run has diverged already and any result is accepted.

The common case (a float64 array of the right shape without NaN) costs one
type and shape test and one sum (or dot product) per call.
"""

from __future__ import annotations

import math

import numpy as np

from .trajectory import DIVERGENCE_BOUND

__all__ = ["evaluate", "checked_call"]


def evaluate(fn, x, trailing, vectorized, role, name):
    """``fn`` at the points ``x`` (shape ``(..., dim)``), checked; shape ``x.shape[:-1] + trailing``.

    With ``vectorized`` true, ``fn`` gets the whole array in one call;
    otherwise it is called once per point (a row of shape ``(dim,)``).
    ``role`` (``"value"``, ``"grad"`` or ``"hessian"``) and ``name`` (the
    problem's) only make the error messages.
    """
    if vectorized or x.ndim == 1:
        return checked_call(fn, x, x.shape[:-1] + trailing, vectorized, role, name)
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty((flat.shape[0],) + trailing)
    for i in range(flat.shape[0]):
        out[i] = checked_call(fn, flat[i], trailing, vectorized, role, name)
    return out.reshape(x.shape[:-1] + trailing)


def checked_call(fn, x, want, vectorized, role, name):
    """One call ``fn(x)``; the result as float64 of shape ``want``, or a ValueError saying what is wrong."""
    try:
        out = fn(x)
    except MemoryError:
        raise
    except Exception as err:
        raise ValueError(f"{_label(role, name)} raised {type(err).__name__} at x = {_show(x)}: {err}") from err
    if type(out) is np.ndarray and out.dtype == np.float64 and out.shape == want:
        arr = out
    elif want == () and isinstance(out, float):  # a Python float or a NumPy float64 scalar
        if out != out:
            _refuse_nan(np.float64(out), x, want, role, name)
        return np.float64(out)
    else:
        arr = _coerce(out, x, want, vectorized, role, name)
    # A cheap screen: s is NaN when an element is NaN (or, for the sum, when inf meets -inf);
    # _refuse_nan then looks element by element.
    if arr.ndim == 1 and arr.shape[0] <= 32:
        s = sum(arr.tolist())
    else:
        flat = arr.reshape(-1)
        s = float(np.dot(flat, flat))  # sum of squares: NaN exactly when an element is NaN
    if s != s:
        _refuse_nan(arr, x, want, role, name)
    return arr


def _coerce(out, x, want, vectorized, role, name):
    label = _label(role, name)
    if out is None:
        raise ValueError(f"{label} returned None at x = {_show(x)}; it must return {_describe(want)} "
                         f"(did the function forget a `return`?)")
    try:
        arr = np.asarray(out)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{label} returned a {type(out).__name__} that is not an array of numbers "
                         f"({err}); it must return {_describe(want)}") from None
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{label} returned {_kind(arr)} ({type(out).__name__} {_short(out)}); it must "
                         f"return real numbers: {_describe(want)}")
    if arr.shape != want:
        if arr.size != math.prod(want) or _squeeze(arr.shape) != _squeeze(want):
            raise ValueError(f"{label} returned shape {arr.shape} for x of shape {x.shape}; it must return "
                             f"{_describe(want)}{_hint(role, x, want, vectorized)}")
        arr = arr.reshape(want)
    return arr.astype(np.float64, copy=False)


def _refuse_nan(arr, x, want, role, name):
    """Raise if ``arr`` has a NaN for a point of ``x`` that is finite and inside the bound."""
    lead = x.shape[:-1]
    nan = np.isnan(arr).reshape(lead + (-1,)).any(axis=-1)
    inside = np.all(np.abs(x) <= DIVERGENCE_BOUND, axis=-1)  # False for NaN coordinates
    bad = nan & inside
    if not bad.any():
        return
    i = np.unravel_index(int(np.flatnonzero(bad)[0]), lead) if lead else ()
    where = f" (point {tuple(int(j) for j in i)} of the batch)" if lead else ""
    raise ValueError(f"{_label(role, name)} returned NaN at x = {_show(x[i])}{where}, a finite point inside the "
                     f"divergence bound {DIVERGENCE_BOUND:g}: a NaN there is an error in the function "
                     f"(an overflow to inf would be reported as divergence)")


def _label(role, name):
    return f"`{role}` of problem {name!r}"


def _describe(want):
    return "a scalar (shape ())" if want == () else f"an array of shape {want}"


def _hint(role, x, want, vectorized):
    if vectorized:
        return (f" (with vectorized=True, `{role}` gets a batch of points, shape (..., dim), and returns one "
                f"result per point)")
    if role == "grad" and len(want) == 1:
        return f" (a gradient is not broadcast: give all {want[0]} components)"
    return ""


def _squeeze(shape):
    return tuple(n for n in shape if n != 1)


def _kind(arr):
    kinds = {"c": "complex numbers", "b": "booleans", "U": "strings", "S": "bytes", "O": "Python objects"}
    return kinds.get(arr.dtype.kind, f"dtype {arr.dtype}")


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _show(x):
    with np.printoptions(precision=6, threshold=8, edgeitems=2):
        return np.array2string(np.asarray(x), separator=", ")
