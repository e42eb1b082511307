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
    """Schedule returning ``value`` at every step."""
    return Constant(_v.real("value", value))


def linear(start, end, n_steps):
    """Linear ramp ``start -> end`` over ``n_steps`` steps, constant afterwards."""
    return Linear(_v.real("start", start), _v.real("end", end), _v.integer("n_steps", n_steps, low=1))


def cosine(start, end, n_steps):
    """Cosine annealing ``start -> end`` over ``n_steps`` steps, constant afterwards."""
    return Cosine(_v.real("start", start), _v.real("end", end), _v.integer("n_steps", n_steps, low=1))


def warmup(after, n_warmup, start=0.0):
    """Ramp linearly from ``start`` to ``after`` over ``n_warmup`` steps.

    ``after`` is a number or a schedule (evaluated at ``k`` once warm).
    """
    if not isinstance(after, Schedule):
        after = constant(after)
    return Warmup(after, _v.integer("n_warmup", n_warmup, low=1), _v.real("start", start))


def step_decay(initial, factor, every):
    """Multiply ``initial`` by ``factor`` every ``every`` steps."""
    return StepDecay(
        _v.real("initial", initial),
        _v.real("factor", factor, low=0.0),
        _v.integer("every", every, low=1),
    )


def evaluate(schedule, n_steps, name="schedule"):
    """Values of ``schedule`` at steps ``0 .. n_steps - 1`` as a float64 array.

    Raises
    ------
    ValueError
        If ``schedule`` is not callable or returns a non-finite value.
    """
    if not callable(schedule):
        raise ValueError(f"`{name}` must be a callable k -> value, got {schedule!r}")
    if getattr(schedule, "vectorized", False):
        values = np.asarray(schedule(np.arange(n_steps)), dtype=np.float64).reshape(n_steps)
    else:
        values = np.array([schedule(k) for k in range(n_steps)], dtype=np.float64).reshape(n_steps)
    if not np.all(np.isfinite(values)):
        k = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(f"`{name}` must return finite values; {name}({k}) = {float(values[k])!r}")
    return values
