"""Small named validators shared by the public API.

Every message names the parameter, the allowed range and the value given, so
that a user can fix the call without reading the source.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def real(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float inside the given range.

    Parameters
    ----------
    name : str
        Parameter name quoted in the error message.
    value : object
        Candidate value; must be a real number (not a bool, not an array).
    low, high : float, optional
        Bounds; ``None`` means unbounded on that side.
    low_open, high_open : bool
        Whether the corresponding bound is excluded.

    Raises
    ------
    ValueError
        If the value is not a finite real number in range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite, got {value!r}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        raise ValueError(f"`{name}` must be {_range_text(low, high, low_open, high_open)}, got {value!r}")
    return v


def _range_text(low, high, low_open, high_open):
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return f"in {left}{low:g}, {high:g}{right}"


def integer(name, value, *, low=None):
    """Return ``value`` as an int ``>= low``; bools and floats are rejected."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"`{name}` must be an integer, got {value!r}")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"`{name}` must be an integer >= {low}, got {value!r}")
    return v


def choice(name, value, choices):
    """Check that ``value`` is one of ``choices`` (listed in the message)."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}")
    return value


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
    """
    try:
        arr = np.array(value, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be an array of real numbers, got {value!r}") from exc
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
