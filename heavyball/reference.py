"""The continuous trajectory, by :func:`scipy.integrate.solve_ivp`."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from . import _validation as _v
from .system import DampedParticle
from .trajectory import DIVERGENCE_BOUND, Trajectory

__all__ = ["solve_reference"]

_IVP_METHODS = ("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA")


def solve_reference(system, x0, v0=None, *, t_span, t_eval=None, method="DOP853", rtol=1e-10, atol=1e-12):
    """Solve the damped-particle ODE accurately: the reference for the integrators.

    Parameters
    ----------
    system : DampedParticle
    x0 : array_like, shape (dim,)
    v0 : array_like, shape (dim,), optional
        Default zeros; must be None when ``mass = 0``.
    t_span : (float, float)
        Start and end time, ``t_span[1] > t_span[0]``.
    t_eval : array_like, optional
        Times at which to store the solution (inside ``t_span``); default the
        solver's own steps.
    method : str
        A ``solve_ivp`` method (default ``"DOP853"``, order 8).
    rtol, atol : float
        Tolerances passed to ``solve_ivp``.

    Returns
    -------
    Trajectory
        ``step`` is None, ``nfev`` counts right-hand-side (gradient)
        evaluations. Status -1 when the solver fails or the state leaves
        :data:`~heavyball.trajectory.DIVERGENCE_BOUND` (a terminal event).

    Examples
    --------
    >>> import heavyball as hb
    >>> sys = hb.DampedParticle(hb.Quadratic.from_condition_number(10), 1.0, 2.0)
    >>> ref = hb.solve_reference(sys, [1.0, 1.0], t_span=(0.0, 5.0), t_eval=[0.0, 5.0])
    >>> ref.x.shape
    (2, 2)
    """
    if not isinstance(system, DampedParticle):
        raise ValueError(f"`system` must be a DampedParticle, got {type(system).__name__}")
    t0, t1 = _span(t_span)
    _v.choice("method", method, _IVP_METHODS)
    rtol = _v.real("rtol", rtol, low=100 * np.finfo(float).eps)  # SciPy's floor (it would warn and raise it)
    atol = _v.real("atol", atol, low=0.0, low_open=True)
    y0 = _initial_state(system, x0, v0)
    if t_eval is not None:
        t_eval = _v.real_array("t_eval", t_eval)
        if t_eval.size == 0:
            raise ValueError("`t_eval` must be non-empty (or None for the solver's own steps)")
        if not np.all(np.isfinite(t_eval)):
            raise ValueError(f"`t_eval` must be finite, got {t_eval!r}")
        if t_eval.ndim != 1 or np.any(t_eval < t0) or np.any(t_eval > t1):
            raise ValueError(f"`t_eval` must be a 1-D array inside t_span = ({t0!r}, {t1!r})")
    system.friction_at(t0)  # validates a time-dependent friction where it starts
    system.gradient_scale_at(t0)  # and a time-dependent gradient scale

    def escaped(t, y):
        return DIVERGENCE_BOUND - np.max(np.abs(y))

    escaped.terminal = True
    with np.errstate(all="ignore"):
        sol = solve_ivp(system.rhs, (t0, t1), y0, method=method, t_eval=t_eval,
                        rtol=rtol, atol=atol, events=escaped)
    return _to_trajectory(system, sol, method)


def _span(t_span):
    try:
        t0, t1 = t_span
    except (TypeError, ValueError):
        raise ValueError(f"`t_span` must be a pair (t0, t1), got {t_span!r}") from None
    t0 = _v.real("t_span[0]", t0)
    t1 = _v.real("t_span[1]", t1)
    if not t1 > t0:
        raise ValueError(f"`t_span` must satisfy t_span[1] > t_span[0], got {t_span!r}")
    return t0, t1


def _initial_state(system, x0, v0):
    x = _v.vector("x0", x0, system.dim)
    if system.mass == 0.0:
        if v0 is not None and np.any(_v.vector("v0", v0, system.dim) != 0.0):
            raise ValueError("`v0` must be None when mass = 0: gradient flow has no velocity state")
        return x
    v = np.zeros(system.dim) if v0 is None else _v.vector("v0", v0, system.dim)
    return np.concatenate([x, v])


def _to_trajectory(system, sol, method):
    n = system.dim
    y = sol.y.T
    finite = np.all(np.isfinite(y), axis=1)
    y, t = y[finite], sol.t[finite]
    x = y[:, :n].copy()
    v = None if system.mass == 0.0 else y[:, n:].copy()
    with np.errstate(all="ignore"):
        loss = np.asarray(system.problem.value(x), dtype=np.float64).reshape(len(t))
    if sol.status == 1:
        status, message = -1, f"diverged at t = {sol.t_events[0][0]:.6g}: state beyond {DIVERGENCE_BOUND:g}"
    elif sol.status < 0 or not finite.all():
        status, message = -1, f"solve_ivp failed: {sol.message}"
    else:
        status, message = 0, "all steps done"
    return Trajectory(t=t, x=x, v=v, loss=loss, method=method, step=None,
                      status=status, message=message, nfev=int(sol.nfev))
