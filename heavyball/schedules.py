"""Schedules for the learning rate and the momentum: callables ``k -> value``.

``k`` counts optimiser steps from 0 and the schedule returns the value itself
(not a multiplier). Every schedule here also accepts an integer array of steps
and returns an array, so :func:`~heavyball.optimize` evaluates it once for all
steps; any other callable ``k -> float`` works too, called once per step.

Examples
--------
>>> from heavyball import schedules
>>> s = schedules.linear(0.5, 0.9, 4)
>>> [round(float(s(k)), 2) for k in range(6)]
[0.5, 0.6, 0.7, 0.8, 0.9, 0.9]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _validation as _v

__all__ = ["constant", "linear", "cosine", "warmup", "step_decay", "evaluate"]


class Schedule:
    """Base class: a vectorised callable ``k -> value``."""

    vectorized = True

    def __call__(self, k):
        # A scalar goes through a one-element array so that both paths round alike.
        k_arr = np.atleast_1d(np.asarray(k, dtype=np.float64))
        out = self._at(k_arr)
        return float(out[0]) if np.ndim(k) == 0 else out.reshape(np.shape(k))


@dataclass(frozen=True)
class Constant(Schedule):
    """``value`` at every step."""

    value: float

    def _at(self, k):
        return np.full(k.shape, self.value)


@dataclass(frozen=True)
class Linear(Schedule):
    """Linear ramp from ``start`` (step 0) to ``end`` (step ``n_steps``), then flat."""

    start: float
    end: float
    n_steps: int

    def _at(self, k):
        frac = np.clip(k / self.n_steps, 0.0, 1.0)
        return self.start + (self.end - self.start) * frac


@dataclass(frozen=True)
class Cosine(Schedule):
    """Half-cosine from ``start`` (step 0) to ``end`` (step ``n_steps``), then flat."""

    start: float
    end: float
    n_steps: int

    def _at(self, k):
        frac = np.clip(k / self.n_steps, 0.0, 1.0)
        return self.end + (self.start - self.end) * 0.5 * (1.0 + np.cos(math.pi * frac))


@dataclass(frozen=True)
class Warmup(Schedule):
    """Linear from ``start`` to ``after(n_warmup)`` over ``n_warmup`` steps, then ``after(k)``."""

    after: Schedule
    n_warmup: int
    start: float

    def _at(self, k):
        target = self.after(float(self.n_warmup))
        ramp = self.start + (target - self.start) * (k / self.n_warmup)
        return np.where(k < self.n_warmup, ramp, self.after(k))


@dataclass(frozen=True)
class StepDecay(Schedule):
    """``initial * factor ** (k // every)``: multiply by ``factor`` every ``every`` steps."""

    initial: float
    factor: float
    every: int

    def _at(self, k):
        j = np.floor(k / self.every).astype(np.int64)
        # Python's float ** int for each distinct power: exact same rounding everywhere
        powers = np.array([self.factor**int(i) for i in range(int(j.max(initial=0)) + 1)])
        return self.initial * powers[np.maximum(j, 0)]


def constant(value):
    """Schedule returning ``value`` at every step.

    Parameters
    ----------
    value : float
        The value (finite).

    Returns
    -------
    Schedule
        A vectorised callable ``k -> value``.

    Raises
    ------
    ValueError
        If ``value`` is not a finite real number.

    Notes
    -----
    ``s(k) = value`` for every ``k``; equivalent to passing no schedule, but
    explicit.

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.constant(0.9)(3), schedules.constant(0.9)([0, 1])
    (0.9, array([0.9, 0.9]))
    """
    return Constant(_v.real("value", value))


def linear(start, end, n_steps):
    """Linear ramp ``start -> end`` over ``n_steps`` steps, constant afterwards.

    Parameters
    ----------
    start : float
        Value at step 0.
    end : float
        Value from step ``n_steps`` on.
    n_steps : int >= 1
        Length of the ramp.

    Returns
    -------
    Schedule
        A vectorised callable ``k -> value``.

    Raises
    ------
    ValueError
        For a non-finite ``start`` or ``end`` or ``n_steps < 1``.

    Notes
    -----
    ``s(k) = start + (end - start) min(max(k / n_steps, 0), 1)``.

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.linear(0.5, 0.9, 4)([0, 2, 4, 8])
    array([0.5, 0.7, 0.9, 0.9])
    """
    return Linear(_v.real("start", start), _v.real("end", end), _v.integer("n_steps", n_steps, low=1))


def cosine(start, end, n_steps):
    r"""Cosine annealing ``start -> end`` over ``n_steps`` steps, constant afterwards.

    Parameters
    ----------
    start : float
        Value at step 0.
    end : float
        Value from step ``n_steps`` on.
    n_steps : int >= 1
        Length of the half-period.

    Returns
    -------
    Schedule
        A vectorised callable ``k -> value``.

    Raises
    ------
    ValueError
        For a non-finite ``start`` or ``end`` or ``n_steps < 1``.

    Notes
    -----
    With ``f = min(max(k / n_steps, 0), 1)``,

    .. math::

        s(k) = \mathrm{end} + (\mathrm{start} - \mathrm{end})
        \frac{1 + \cos(\pi f)}{2},

    SGDR's annealing without the restarts.

    References
    ----------
    .. [1] I. Loshchilov and F. Hutter, "SGDR: Stochastic gradient descent
       with warm restarts", ICLR 2017.

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.cosine(1.0, 0.0, 4)(range(6)).round(6)
    array([1.      , 0.853553, 0.5     , 0.146447, 0.      , 0.      ])
    """
    return Cosine(_v.real("start", start), _v.real("end", end), _v.integer("n_steps", n_steps, low=1))


def warmup(after, n_warmup, start=0.0):
    """Ramp linearly from ``start`` to ``after`` over ``n_warmup`` steps.

    Parameters
    ----------
    after : float or Schedule
        The value, or the schedule of this module, that takes over once warm
        (evaluated at ``k``).
    n_warmup : int >= 1
        Length of the warm-up.
    start : float, optional
        Value at step 0 (default 0).

    Returns
    -------
    Schedule
        A vectorised callable ``k -> value``.

    Raises
    ------
    ValueError
        For a non-finite number or ``n_warmup < 1``.

    Notes
    -----
    ``s(k) = start + (after(n_warmup) - start) k / n_warmup`` for
    ``k < n_warmup``, then ``s(k) = after(k)``: the gradual warm-up of large
    minibatch training.

    References
    ----------
    .. [1] P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet
       in 1 hour", arXiv:1706.02677, 2017.

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.warmup(0.1, 4)(range(6))
    array([0.   , 0.025, 0.05 , 0.075, 0.1  , 0.1  ])
    """
    if not isinstance(after, Schedule):
        after = Constant(_v.real("after", after))
    return Warmup(after, _v.integer("n_warmup", n_warmup, low=1), _v.real("start", start))


def step_decay(initial, factor, every):
    """Multiply ``initial`` by ``factor`` every ``every`` steps.

    Parameters
    ----------
    initial : float
        Value for the first ``every`` steps.
    factor : float >= 0
        Multiplier applied at each drop.
    every : int >= 1
        Steps between drops.

    Returns
    -------
    Schedule
        A vectorised callable ``k -> value``.

    Raises
    ------
    ValueError
        For a non-finite number, ``factor < 0`` or ``every < 1``.

    Notes
    -----
    ``s(k) = initial * factor ** (k // every)`` (``torch.optim.lr_scheduler.StepLR``
    with ``gamma = factor``, ``step_size = every``), each power computed once
    by Python's ``float ** int`` so that scalar and array calls round alike.

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.step_decay(1.0, 0.5, 2)(range(6))
    array([1.  , 1.  , 0.5 , 0.5 , 0.25, 0.25])
    """
    return StepDecay(
        _v.real("initial", initial),
        _v.real("factor", factor, low=0.0),
        _v.integer("every", every, low=1),
    )


#: Steps evaluated at a time when a schedule is streamed (:class:`Chunked`).
CHUNK = 1 << 16

#: Runs of up to this many steps get their schedules (and a time-dependent
#: friction) as one array, which the compiled kernels need; longer runs
#: evaluate them :data:`CHUNK` steps at a time in the NumPy loop, so memory
#: stays ``O(CHUNK + records)`` whatever ``n_steps`` is.
FULL_ARRAY_STEPS = 1 << 24


def evaluate(schedule, n_steps, name="schedule", start=0):
    """Values of ``schedule`` at the ``n_steps`` steps from ``start`` on, as a float64 array.

    Parameters
    ----------
    schedule : callable
        ``k -> value``; a schedule of this module (``vectorized = True``) is
        called once on the array of steps, any other callable once per step.
    n_steps : int
        Number of steps.
    name : str, optional
        Name used in error messages (default ``"schedule"``).
    start : int, optional
        First step (default 0).

    Returns
    -------
    ndarray, shape (n_steps,)
        The values, float64.

    Raises
    ------
    TypeError
        (:class:`~heavyball._validation.InputTypeError`, also a ValueError) If
        ``schedule`` is not callable or returns something other than a real
        number (a string, an array, a complex number) at some step ``k``.
    ValueError
        If it returns a non-finite value; the message names the step.

    Notes
    -----
    This is how :func:`~heavyball.optimize` reads ``lr_schedule`` and
    ``momentum_schedule`` before a run, so a bad value fails before the first
    step rather than in the middle of it (runs longer than
    :data:`FULL_ARRAY_STEPS` read them :data:`CHUNK` steps at a time).

    Examples
    --------
    >>> from heavyball import schedules
    >>> schedules.evaluate(lambda k: 1 / (k + 1), 3, start=1)
    array([0.5       , 0.33333333, 0.25      ])
    """
    if not callable(schedule):
        raise _v.InputTypeError(f"`{name}` must be a callable k -> value, got {_v.describe(schedule)}")
    if getattr(schedule, "vectorized", False):
        values = _v.real_array(name, schedule(np.arange(start, start + n_steps))).reshape(n_steps)
    else:
        out = [schedule(k) for k in range(start, start + n_steps)]
        if not set(map(type, out)) <= {float}:  # anything but Python floats: check each value
            out = [_v.number(f"{name}({start + j})", value) for j, value in enumerate(out)]
        values = np.array(out, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        j = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(f"`{name}` must return finite values; {name}({start + j}) = {float(values[j])!r}")
    return values


class Chunked:
    """A long sequence of values computed :data:`CHUNK` at a time, on demand.

    ``fill(k0, k1)`` returns the values for steps ``k0 <= k < k1``; indexing
    (in increasing order, as a run does) keeps only the current chunk.
    """

    def __init__(self, fill, n_steps):
        self.fill, self.n = fill, n_steps
        self.k0, self.values = 0, np.empty(0)

    def __len__(self):
        return self.n

    def __getitem__(self, k):
        j = k - self.k0
        if not 0 <= j < len(self.values):
            self.k0 = k - k % CHUNK
            self.values = self.fill(self.k0, min(self.n, self.k0 + CHUNK))
            j = k - self.k0
        return self.values[j]


def values(schedule, n_steps, name="schedule", check=None):
    """The schedule at steps ``0 .. n_steps - 1``: an array, or :class:`Chunked` for long runs.

    ``check(values, k0)`` (optional) validates each block of values
    starting at step ``k0`` and raises a ValueError naming the step.
    """
    def fill(k0, k1):
        out = evaluate(schedule, k1 - k0, name, start=k0)
        if check is not None:
            check(out, k0)
        return out

    if n_steps <= FULL_ARRAY_STEPS:
        return fill(0, n_steps)
    fill(0, min(n_steps, CHUNK))  # errors in the first values surface before the run
    return Chunked(fill, n_steps)
