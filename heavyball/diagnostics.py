"""Diagnostics computed from a :class:`~heavyball.Trajectory`."""

from __future__ import annotations

import numpy as np

from . import _validation as _v

__all__ = ["detect_cycle"]


def detect_cycle(trajectory, tol=1e-9, *, max_period=None, repeats=2):
    """Find a limit cycle at the end of a trajectory.

    The smallest period ``p`` is sought for which the last ``repeats + 1``
    turns agree: ``|x[n - i] - x[n - i - p]| <= tol (1 + |x[n - i]|)`` for
    ``i = 0 .. repeats p - 1`` (each coordinate). Period 1 is a fixed point,
    which is convergence, not a cycle.

    Parameters
    ----------
    trajectory : Trajectory
        Recorded at every step (``record_every = 1``), so that a period in
        recorded states is a period in steps.
    tol : float >= 0
        Relative-plus-absolute tolerance on each coordinate.
    max_period : int, optional
        Largest period tried (default: as many as the trajectory allows).
    repeats : int >= 1
        How many periods must repeat exactly.

    Returns
    -------
    (period, points) or None
        ``period >= 2`` and ``points`` of shape ``(period, dim)``, the last
        ``period`` states in time order; None for a fixed point or no cycle.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import detect_cycle
    >>> traj = hb.optimize(hb.LessardCounterexample(), hb.SGD(1/9, 4/9), [3.3], n_steps=300)
    >>> period, points = detect_cycle(traj)
    >>> period, sorted((points[:, 0] * 1225).round(6).tolist())
    (3, [-2208.0, 792.0, 2592.0])
    """
    tol = _v.real("tol", tol, low=0.0)
    repeats = _v.integer("repeats", repeats, low=1)
    x = np.asarray(trajectory.x, dtype=np.float64)
    n = len(x)
    longest = (n - 1) // (repeats + 1) if n > 1 else 0
    if max_period is not None:
        longest = min(longest, _v.integer("max_period", max_period, low=1))
    for p in range(1, longest + 1):
        span = repeats * p
        tail, earlier = x[n - span:], x[n - span - p:n - p]
        if np.all(np.abs(tail - earlier) <= tol * (1.0 + np.abs(tail))):
            return None if p == 1 else (p, x[n - p:].copy())
    return None
