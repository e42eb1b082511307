"""The NumPy step loop shared by ``integrate`` and ``optimize``, and its bookkeeping.

:func:`step_loop` runs the steps, stopping at divergence or at the
tolerance; :class:`Recorder` keeps every ``record_every``-th state and always
the last one; :func:`finish` turns what was kept into a :class:`Trajectory`,
checks the loss for divergence and writes the status message.
"""

from __future__ import annotations

import numpy as np

from . import _validation as _v
from .trajectory import DIVERGENCE_BOUND, MESSAGES, Trajectory


def n_records(n_steps, every):
    """Number of states kept for ``n_steps`` steps recorded every ``every``."""
    return n_steps // every + 1 + (1 if n_steps % every else 0)


#: Step counts are int64 in the kernels; longer runs are refused.
MAX_STEPS = 2**62


def check_records(n, every, dim, per_state):
    """Refuse (ValueError naming ``n_steps``) a run whose records would not fit in memory.

    Also refuses ``n_steps >= MAX_STEPS`` (the kernels count in int64).
    """
    if n >= MAX_STEPS:
        raise ValueError(f"`n_steps` must be < 2**62 (steps are counted in int64), got {n!r}")
    rows = n_records(n, every)
    _v.check_size("n_steps", n, rows * (dim * per_state + 2), f"the {rows:.3g} recorded states",
                  f"raise `record_every` (now {every}) or lower `n_steps`")


def small(a, tol):
    """True when the Euclidean norm of ``a`` is ``<= tol``."""
    a = np.ravel(a)
    return float(np.sqrt(np.dot(a, a))) <= tol


def state_ok(x, v=None):
    """True when ``x`` (and ``v``) are finite and inside :data:`DIVERGENCE_BOUND`."""
    ok = np.max(np.abs(x)) <= DIVERGENCE_BOUND  # False for NaN
    if v is not None:
        ok = ok and np.max(np.abs(v)) <= DIVERGENCE_BOUND
    return bool(ok)


class Recorder:
    """Preallocated storage for the recorded states of one run."""

    def __init__(self, n_steps, every, dim, with_v):
        size = n_records(n_steps, every)
        self.every = every
        self.k = np.empty(size, dtype=np.int64)
        self.x = np.empty((size, dim))
        self.v = np.empty((size, dim)) if with_v else None
        self.count = 0

    def add(self, k, x, v=None):
        """Store the state after step ``k`` (``k = 0`` is the initial state)."""
        i = self.count
        self.k[i] = k
        self.x[i] = x
        if self.v is not None:
            self.v[i] = 0.0 if v is None else v
        self.count = i + 1

    def maybe_add(self, k, x, v=None):
        """Store the state after step ``k`` if ``k`` is on the recording grid."""
        if k % self.every == 0:
            self.add(k, x, v)

    def close(self, k, x, v=None):
        """Make sure the final state (after step ``k``) is the last one stored."""
        if self.count == 0 or self.k[self.count - 1] != k:
            self.add(k, x, v)


def first_non_finite(loss):
    """Index of the first non-finite loss, or None.

    A finite sum means every loss is finite (a NaN or an infinity makes the
    sum NaN or infinite): one pass that allocates nothing, where the usual
    case of a long run has no bad loss. Only a sum that is not finite (a bad
    loss, or finite losses whose sum overflows) takes the exact scan.
    """
    with np.errstate(all="ignore"):
        if np.isfinite(np.sum(loss)):
            return None
    bad = ~np.isfinite(loss)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def outcome(status, stop_step, loss_step=None):
    """Final ``(status, stop_step, message)`` of a run.

    ``loss_step`` is the step of the first recorded state whose loss is not
    finite (None if there is none): the run then counts as diverged there.
    """
    if loss_step == 0:
        return -1, 0, "the loss at the start is not finite (the start is the one record)"
    if loss_step is not None:
        return -1, loss_step, f"diverged at step {loss_step}: loss is not finite"
    if status == -1:
        return status, stop_step, f"diverged at step {stop_step}: state not finite or beyond {DIVERGENCE_BOUND:g}"
    if status == 1:
        return status, stop_step, f"{MESSAGES[1]} at step {stop_step}"
    return status, stop_step, MESSAGES[status]


def finish(rec, value, *, t0, step, method, status, stop_step, nfev):
    """Build the :class:`Trajectory` from a :class:`Recorder`.

    Parameters
    ----------
    rec : Recorder
    value : callable
        The loss, applied to all recorded positions at once.
    t0, step : float
        ``t = t0 + step * k`` for the recorded step indices ``k``.
    status : int
        0, 1 or -1 as decided by the loop.
    stop_step : int
        Step at which the run ended (the step that diverged, for status -1).
    nfev : int
        Gradient evaluations.
    """
    n = rec.count
    ks, xs = rec.k[:n], rec.x[:n]
    vs = None if rec.v is None else rec.v[:n]
    with np.errstate(all="ignore"):
        loss = np.asarray(value(xs), dtype=np.float64).reshape(n)
    j = first_non_finite(loss)
    if j is not None:  # the start stays, as the one record, when its own loss is not finite
        ks, xs, loss = ks[:max(j, 1)], xs[:max(j, 1)], loss[:max(j, 1)]
        vs = None if vs is None else vs[:max(j, 1)]
    status, stop_step, message = outcome(status, stop_step, None if j is None else int(rec.k[j]))
    return Trajectory(
        t=t0 + step * ks.astype(np.float64),
        x=xs.copy(),
        v=None if vs is None else vs.copy(),
        loss=loss,
        method=method,
        step=step,
        status=status,
        message=message,
        nfev=int(nfev),
    )


def step_loop(advance, x, state, velocity, n, every, with_v, tol, *, start=None, value, t0, step, method):
    """The NumPy loop of :func:`~heavyball.integrate` and :func:`~heavyball.optimize` (the kernels' twin).

    Parameters
    ----------
    advance : callable
        ``advance(k, x, state) -> (x', state', g)``: step ``k``; ``g`` is
        the gradient the tolerance test sees.
    x, state : the start (``state``: the velocity, or an optimiser's state)
    velocity : callable
        ``velocity(state)``: what is recorded as ``v`` (None without one).
    n, every, with_v, tol
        Steps, record interval, whether ``v`` is recorded, tolerance or None.
    start : callable, optional
        ``start(k, x, state) -> state`` before each step (an optimiser's restarts).
    value, t0, step, method
        As in :func:`finish`.

    Notes
    -----
    A step whose state is not finite or beyond the divergence bound ends the
    run with status -1 and is not taken; a step with ``|g| <= tol`` and
    ``|x' - x| <= tol`` is taken and ends the run with status 1.
    """
    rec = Recorder(n, every, x.shape[0], with_v=with_v)
    rec.add(0, x, velocity(state))
    status, k = 0, 0
    with np.errstate(all="ignore"):
        for k in range(n):
            if start is not None:
                state = start(k, x, state)
            x_new, state_new, g = advance(k, x, state)
            v_new = velocity(state_new)
            if not state_ok(x_new, v_new):
                status = -1
                break
            done = tol is not None and small(g, tol) and small(x_new - x, tol)
            x, state = x_new, state_new
            if done:
                status, k = 1, k + 1
                break
            rec.maybe_add(k + 1, x, v_new)
        else:
            k = n
    stop = k + 1 if status == -1 else k
    rec.close(k if status == -1 else stop, x, velocity(state))
    nfev = k + 1 if status == -1 else stop
    return finish(rec, value, t0=t0, step=step, method=method, status=status, stop_step=stop, nfev=nfev)
