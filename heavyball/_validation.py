"""Small named validators shared by the public API.

Every message names the parameter, the allowed range and the value given, so
that a user can fix the call without reading the source.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings

import numpy as np


class InputTypeError(TypeError, ValueError):
    """A value of the wrong kind (a string, a bool, a complex number, an array...).

    A :class:`TypeError`, as Python and NumPy raise for the wrong kind of
    argument; also a :class:`ValueError`, so code that catches ``ValueError``
    for every bad input (the CLI does) keeps working.
    """


def describe(value):
    """Short description of a value for error messages (``tensor of shape (3,)``)."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (str, bytes)):
        try:
            shape = tuple(int(n) for n in shape)
        except TypeError:
            shape = None
    kind = "tensor" if type(value).__name__ == "Tensor" else type(value).__name__
    if shape:
        return f"{kind} of shape {shape}"
    text = repr(value)
    return f"{kind} {text[:60] + '...' if len(text) > 60 else text}"


def number(name, value, *, integral=False):
    """``value`` as a Python float (or int with ``integral``), refusing other kinds.

    Accepts Python and NumPy real numbers and 0-d arrays or tensors (anything
    with ``ndim == 0`` and ``item()``, so ``torch.tensor(0.1)`` without
    importing torch). Bools, complex numbers, strings, None and arrays with
    more than one element raise :class:`InputTypeError`.
    """
    kind = "an integer" if integral else "a real number"
    v = value
    if not isinstance(v, numbers.Number) and getattr(v, "ndim", None) == 0 and callable(getattr(v, "item", None)):
        v = v.item()
    ok_type = numbers.Integral if integral else numbers.Real
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, ok_type):
        raise InputTypeError(f"`{name}` must be {kind}, got {describe(value)}")
    return int(v) if integral else float(v)


def real(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float inside the given range.

    Parameters
    ----------
    name : str
        Parameter name quoted in the error message.
    value : object
        Candidate value: a real number, NumPy scalar or 0-d array/tensor
        (not a bool, a string or an array with more than one element).
    low, high : float, optional
        Bounds; ``None`` means unbounded on that side.
    low_open, high_open : bool
        Whether the corresponding bound is excluded.

    Raises
    ------
    InputTypeError
        (a TypeError and ValueError) If the value is not a real number.
    ValueError
        If it is not finite or out of range.
    """
    v = number(name, value)
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        raise ValueError(f"`{name}` must be {range_text(low, high, low_open, high_open)}, got {value!r}")
    return v


def range_text(low, high, low_open, high_open):
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return f"in {left}{low:g}, {high:g}{right}"


def integer(name, value, *, low=None):
    """Return ``value`` as an int ``>= low``.

    Raises
    ------
    InputTypeError
        For bools, floats, strings and other non-integers (NumPy integers and
        0-d integer arrays/tensors are accepted).
    ValueError
        If the value is below ``low``.
    """
    v = number(name, value, integral=True)
    if low is not None and v < low:
        raise ValueError(f"`{name}` must be an integer >= {low}, got {value!r}")
    return v


def flag(name, value):
    """Return ``value`` as a bool; only ``True``/``False`` (or NumPy bools) are flags.

    Raises
    ------
    InputTypeError
        For anything else: ``nesterov="no"`` would otherwise be true.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"`{name}` must be True or False, got {describe(value)}")
    return bool(value)


def seed(name, value):
    """``None`` or an integer ``>= 0`` (what ``numpy.random.default_rng`` accepts)."""
    return None if value is None else integer(name, value, low=0)


def choice(name, value, choices):
    """Check that ``value`` is one of ``choices`` (listed in the message)."""
    if all(isinstance(c, str) for c in choices) and not isinstance(value, str):
        listed = ", ".join(repr(c) for c in choices)
        raise InputTypeError(f"`{name}` must be one of {listed}; got {describe(value)}")
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}")
    return value


def real_array(name, value):
    """``value`` as a float64 array, refusing bool, complex, string and object data.

    Raises
    ------
    InputTypeError
        If the data are not real numbers (no silent cast of ``1+2j`` or ``True``).
    ValueError
        If the value is ragged.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise InputTypeError(f"`{name}` must be an array of real numbers, got {describe(value)}")
    if not isinstance(value, numbers.Number) and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = number(name, value)  # a 0-d tensor: through item(), not NumPy's __array__ protocol
    try:
        with warnings.catch_warnings():  # torch's __array__ predates NumPy 2's copy keyword
            warnings.simplefilter("ignore", DeprecationWarning)
            raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be an array of real numbers, got {describe(value)}") from exc
    if raw.dtype.kind == "O":
        items = [number(f"{name}[{i}]", item) for i, item in enumerate(raw.ravel())]
        raw = np.array(items, dtype=np.float64).reshape(raw.shape)
    if raw.dtype.kind not in "iuf":
        kinds = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes"}
        got = kinds.get(raw.dtype.kind, f"dtype {raw.dtype}")
        raise InputTypeError(f"`{name}` must be an array of real numbers, got {got} ({describe(value)})")
    return np.array(raw, dtype=np.float64, order="C")


def vector(name, value, dim=None):
    """Return a C-contiguous float64 copy of a finite 1-D array.

    Parameters
    ----------
    name : str
        Parameter name for error messages.
    value : array_like
        Candidate vector (a scalar is accepted when ``dim`` is 1).
    dim : int, optional
        Required length.

    Raises
    ------
    InputTypeError
        For booleans, complex numbers, strings or None.
    ValueError
        For a wrong shape or a non-finite entry.
    """
    arr = real_array(name, value)
    if arr.ndim == 0 and dim == 1:
        arr = arr.reshape(1)
    if arr.ndim != 1 or (dim is not None and arr.shape[0] != dim):
        want = f"({dim},)" if dim is not None else "(n,)"
        raise ValueError(f"`{name}` must have shape {want}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    return arr


def points(name, x, dim):
    """Return ``x`` as a float64 array whose last axis has length ``dim``.

    Used by problems, whose ``value``/``grad`` broadcast over leading axes.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 and dim == 1:
        arr = arr.reshape(1)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(f"`{name}` must have shape ({dim},) or (..., {dim}), got shape {arr.shape}")
    return arr


#: The most float64 numbers one call may allocate: 2**31 (16 GiB), or half the
#: physical memory if that is less (see :func:`size_limit`).
MAX_NUMBERS = 2**31


def size_limit():
    """Largest number of float64 values a call may allocate (``MAX_NUMBERS`` or half the RAM)."""
    limit = MAX_NUMBERS
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limit = min(limit, max(ram // 16, 1 << 20))  # half the RAM, in 8-byte numbers
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the fixed cap
        pass
    return limit


def check_size(name, value, n_numbers, what, hint=""):
    """Refuse a call that would allocate more than :func:`size_limit` numbers.

    Parameters
    ----------
    name : str
        The parameter that makes the call big (quoted in the message).
    value : object
        Its value (quoted).
    n_numbers : int
        float64 numbers the call would allocate.
    what : str
        What they are for (``"the recorded states"``).
    hint : str
        How to make the call smaller.

    Raises
    ------
    ValueError
        Before anything is allocated, naming the parameter and the size.
    """
    limit = size_limit()
    if n_numbers > limit:
        raise ValueError(
            f"`{name}` = {value!r} needs {n_numbers:.3g} numbers ({_bytes(8 * n_numbers)}) for {what}; "
            f"the limit is {limit:.3g} numbers ({_bytes(8 * limit)}){'; ' + hint if hint else ''}"
        )
    return n_numbers


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024


def trajectory(name, value):
    """Check that ``value`` is a :class:`~heavyball.Trajectory`, or like one (has ``x``)."""
    if not hasattr(value, "x"):
        raise InputTypeError(f"`{name}` must be a Trajectory (from integrate, optimize or solve_reference), "
                             f"got {describe(value)}")
    return value
