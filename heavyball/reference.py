"""The continuous trajectory, by :func:`scipy.integrate.solve_ivp`."""

from __future__ import annotations

import numpy as np

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
        Mass, friction (constant or ``gamma(t)``), potential and the optional
        high-resolution terms (Hessian damping, gradient scale).
    x0 : array_like, shape (dim,)
        Initial position.
    v0 : array_like, shape (dim,), optional
        Initial velocity, default zeros; must be None when ``mass = 0``.
    t_span : (float, float)
        Start and end time, ``t_span[1] > t_span[0]``.
    t_eval : array_like, optional
        Times at which to store the solution (inside ``t_span``); default the
        solver's own steps.
    method : {"DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"}, optional
        A ``solve_ivp`` method (default ``"DOP853"``, order 8).
    rtol, atol : float, optional
        Tolerances passed to ``solve_ivp`` (defaults ``1e-10`` and
        ``1e-12``; ``rtol`` at least ``100 eps``, ``atol > 0``).

    Returns
    -------
    Trajectory
        ``step`` is None, ``nfev`` counts right-hand-side (gradient)
        evaluations. Status -1 when the solver fails, when an accepted state
        leaves :data:`~heavyball.trajectory.DIVERGENCE_BOUND`, or when the
        right-hand side is not finite (an overflowing gradient, a NaN from a
        problem that is not a :class:`~heavyball.problems.CustomProblem`);
        the message says where. A stopped run ignores ``t_eval``: its arrays
        hold the solver's accepted steps up to the last state inside the bound.

    Raises
    ------
    ValueError
        If ``system`` is not a :class:`~heavyball.DampedParticle`, for an
        unknown method, a bad ``t_span``, ``t_eval``, ``x0``, ``v0`` or
        tolerance, or a time-dependent friction or gradient scale that is
        invalid at ``t_span[0]``.

    Notes
    -----
    The system solved is :meth:`DampedParticle.rhs
    <heavyball.DampedParticle.rhs>`, ``y = (x, v)``,
    ``x' = v``, ``m v' = -sigma(t) grad L(x) - gamma(t) v - c_H Hess L(x) v``
    (``x' = -sigma grad L / gamma`` when ``m = 0``), by an adaptive
    Runge-Kutta (or implicit) method of SciPy at tight tolerances; the
    fixed-step integrators are measured against it.

    ``solve_ivp`` does not stop on its own when the right-hand side turns NaN
    or infinite: its step-size control can shrink the step without end
    (issue 17). So every evaluation is checked, and the state after every
    accepted step is compared with the bound; either stops the run at once.

    References
    ----------
    .. [1] E. Hairer, S. P. Norsett and G. Wanner, "Solving Ordinary
       Differential Equations I: Nonstiff Problems", 2nd ed., Springer, 1993
       (the DOP853 method).
    .. [2] SciPy, ``scipy.integrate.solve_ivp`` documentation.

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

    if not np.all(np.abs(y0) <= DIVERGENCE_BOUND):
        return _stopped(system, [t0], [y0], method, 0, f"diverged at t = {t0:.6g}: the initial state is beyond "
                        f"{DIVERGENCE_BOUND:g}")
    from scipy.integrate import solve_ivp  # (here: SciPy's import costs ``import heavyball`` 0.4 s)

    watch = _Watch(system, t0, y0)
    try:
        with np.errstate(all="ignore"):
            sol = solve_ivp(watch.rhs, (t0, t1), y0, method=method, t_eval=t_eval, rtol=rtol, atol=atol,
                            events=watch.escaped)
    except _Stop as stop:
        return _stopped(system, watch.t, watch.y, method, watch.nfev, stop.message)
    return _to_trajectory(system, sol, method, watch.nfev)


class _Stop(Exception):
    """Raised from inside ``solve_ivp`` by :class:`_Watch` (caught by :func:`solve_reference`)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class _Watch:
    """The checked right-hand side and the divergence check on accepted steps, for one solve.

    ``rhs`` raises :class:`_Stop` on a non-finite state or derivative;
    ``escaped`` (a ``solve_ivp`` event, called after each accepted step)
    keeps the accepted states and raises :class:`_Stop` once one is beyond
    the bound, so the event never changes sign and ``solve_ivp`` never
    root-finds on an interpolant that may itself have overflowed.
    """

    def __init__(self, system, t0, y0):
        self.system, self.nfev = system, 0
        self.t, self.y = [t0], [y0]

    def rhs(self, t, y):
        self.nfev += 1
        dy = self.system.rhs(t, y)
        if not (np.isfinite(dy).all() and np.isfinite(y).all()):
            bad = ~(np.isfinite(np.asarray(dy, dtype=np.float64)) & np.isfinite(y))
            j = int(np.flatnonzero(bad)[0])
            name = self._component(j)
            raise _Stop(f"diverged at t = {t:.6g}: the right-hand side is not finite "
                        f"(d{name}/dt = {float(dy[j])!r} at {name} = {float(y[j])!r})")
        return dy

    def escaped(self, t, y):
        if t == self.t[-1]:  # solve_ivp's call at the start
            return 1.0
        size = np.max(np.abs(y))
        if not size <= DIVERGENCE_BOUND:
            j = int(np.flatnonzero(~(np.abs(y) <= DIVERGENCE_BOUND))[0])
            name = self._component(j)
            raise _Stop(f"diverged at t = {t:.6g}: state beyond {DIVERGENCE_BOUND:g} ({name} = {float(y[j])!r})")
        self.t.append(t)
        self.y.append(np.array(y, dtype=np.float64))
        return 1.0

    def _component(self, j):
        n = self.system.dim
        return f"x[{j}]" if j < n else f"v[{j - n}]"


def _stopped(system, ts, ys, method, nfev, message):
    """A status -1 trajectory through the accepted states ``ys`` at times ``ts``."""
    y = np.array(ys, dtype=np.float64).reshape(len(ts), -1)
    n = system.dim
    x = y[:, :n].copy()
    v = None if system.mass == 0.0 else y[:, n:].copy()
    with np.errstate(all="ignore"):
        loss = np.asarray(system.problem.value(x), dtype=np.float64).reshape(len(ts))
    keep = np.isfinite(loss)
    if not keep[1:].all():  # the initial state stays, so the trajectory is never empty
        stop = int(np.flatnonzero(~keep[1:])[0]) + 1
        x, loss, ts = x[:stop], loss[:stop], np.asarray(ts)[:stop]
        v = None if v is None else v[:stop]
    return Trajectory(t=np.array(ts, dtype=np.float64), x=x, v=v, loss=loss, method=method, step=None,
                      status=-1, message=message, nfev=int(nfev))


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


def _to_trajectory(system, sol, method, nfev):
    n = system.dim
    y = sol.y.T
    finite = np.all(np.isfinite(y), axis=1)  # every evaluation was checked; this guards the interpolant
    y, t = y[finite], sol.t[finite]
    x = y[:, :n].copy()
    v = None if system.mass == 0.0 else y[:, n:].copy()
    with np.errstate(all="ignore"):
        loss = np.asarray(system.problem.value(x), dtype=np.float64).reshape(len(t))
    if sol.status < 0 or not finite.all():
        status, message = -1, f"solve_ivp failed: {sol.message}"
    else:
        status, message = 0, "all steps done"
    return Trajectory(t=t, x=x, v=v, loss=loss, method=method, step=None,
                      status=status, message=message, nfev=int(nfev))
