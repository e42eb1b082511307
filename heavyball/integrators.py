r"""Fixed-step integrators of the damped particle ``m x'' = -grad L(x) - gamma x'``.

Each scheme is one short function with the signature
``step(grad, x, v, h, m, gamma) -> (x_new, v_new, g)``, where ``g`` is the
gradient the scheme evaluated; :func:`integrate` dispatches through
:data:`METHODS`. With ``beta = 1 - h gamma / m`` and ``lr = h^2 / m``:

==============================  ==============================================================  =======================
method                          update                                                          optimiser it is
==============================  ==============================================================  =======================
``explicit_euler``              ``x' = x + h v``, ``v' = v - (h/m)(g(x) + gamma v)``            delayed-gradient method
``symplectic_euler``            ``v' = beta v - (h/m) g(x)``, ``x' = x + h v'``                 heavy ball
``conformal_symplectic_euler``  ``v' = exp(-h gamma/m) v - (h/m) g(x)``, ``x' = x + h v'``      heavy ball
``nesterov``                    ``v' = beta v - (h/m) g(x + h beta v)``, ``x' = x + h v'``      Nesterov
``implicit_friction_euler``     ``v' = (v - (h/m) g(x)) / (1 + h gamma/m)``, ``x' = x + h v'``  heavy ball
==============================  ==============================================================  =======================

With ``m = 0`` only ``explicit_euler`` is defined: ``x' = x - (h/gamma) g(x)``,
gradient descent with ``lr = h / gamma``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _fast
from . import _validation as _v
from . import schedules as _schedules
from ._recording import Recorder, check_records, finish, small, state_ok
from .system import DampedParticle

__all__ = [
    "integrate",
    "METHODS",
    "explicit_euler",
    "symplectic_euler",
    "conformal_symplectic_euler",
    "nesterov",
    "implicit_friction_euler",
]


def explicit_euler(grad, x, v, h, m, gamma):
    r"""Explicit (forward) Euler; order 1, not symplectic.

    Notes
    -----
    ``x' = x + h v``, ``v' = v - (h/m)(grad L(x) + gamma v)``. With ``m = 0``:
    ``x' = x - (h/gamma) grad L(x)`` (gradient descent, ``lr = h/gamma``).
    Per mode the determinant of the update is ``beta + h^2 lambda / m``, so
    without friction the energy grows by ``1 + h^2 lambda/m`` each step.
    """
    g = grad(x)
    if m == 0.0:
        return x - (h / gamma) * g, None, g
    return x + h * v, (1.0 - h * gamma / m) * v - (h / m) * g, g


def symplectic_euler(grad, x, v, h, m, gamma):
    r"""Symplectic (semi-implicit) Euler: kick, then drift. Order 1.

    Notes
    -----
    ``v' = (1 - h gamma/m) v - (h/m) grad L(x)``, ``x' = x + h v'``.
    This is heavy-ball momentum with ``lr = h^2/m``, ``beta = 1 - h gamma/m``.
    """
    g = grad(x)
    v_new = (1.0 - h * gamma / m) * v - (h / m) * g
    return x + h * v_new, v_new, g


def conformal_symplectic_euler(grad, x, v, h, m, gamma):
    r"""Conformal symplectic Euler: friction solved exactly, then kick and drift.

    Notes
    -----
    ``v' = exp(-h gamma/m) v - (h/m) grad L(x)``, ``x' = x + h v'``: heavy ball
    with ``beta = exp(-h gamma/m)``, ``lr = h^2/m``. Without the potential it
    damps the velocity exactly as the ODE does.
    """
    g = grad(x)
    v_new = math.exp(-h * gamma / m) * v - (h / m) * g
    return x + h * v_new, v_new, g


def nesterov(grad, x, v, h, m, gamma):
    r"""Look-ahead (Nesterov) scheme: the gradient is taken at ``x + h beta v``.

    Notes
    -----
    ``v' = beta v - (h/m) grad L(x + h beta v)``, ``x' = x + h v'`` with
    ``beta = 1 - h gamma/m``. The look-ahead points ``x + h beta v`` are the
    iterates of ``torch.optim.SGD(nesterov=True)`` with ``lr = h^2/m``.
    """
    beta = 1.0 - h * gamma / m
    g = grad(x + (h * beta) * v)
    v_new = beta * v - (h / m) * g
    return x + h * v_new, v_new, g


def implicit_friction_euler(grad, x, v, h, m, gamma):
    r"""Euler with the friction taken implicitly (Qian 1999).

    Notes
    -----
    ``v' = (v - (h/m) grad L(x)) / (1 + h gamma/m)``, ``x' = x + h v'``: heavy
    ball with ``beta = m/(m + gamma h)`` and ``lr = h^2/(m + gamma h)``.
    """
    g = grad(x)
    v_new = (v - (h / m) * g) / (1.0 + h * gamma / m)
    return x + h * v_new, v_new, g


METHODS = {
    "explicit_euler": explicit_euler,
    "symplectic_euler": symplectic_euler,
    "conformal_symplectic_euler": conformal_symplectic_euler,
    "nesterov": nesterov,
    "implicit_friction_euler": implicit_friction_euler,
}

#: The schemes the compiled kernel implements (see :mod:`heavyball.kernels`); a
#: problem with a compiled form runs there, anything else in :func:`_run`.
_SCHEMES_IN_KERNELS = {
    name: METHODS[name]
    for name in ("explicit_euler", "symplectic_euler", "conformal_symplectic_euler", "nesterov",
                 "implicit_friction_euler")
}


def integrate(system, x0, v0=None, *, method, step, n_steps, t0=0.0, tol=None, record_every=1):
    r"""Integrate the damped particle with a fixed-step scheme.

    Parameters
    ----------
    system : DampedParticle
        Mass, friction and potential.
    x0 : array_like, shape (dim,)
        Initial position.
    v0 : array_like, shape (dim,), optional
        Initial velocity (default zeros); must be None (or zeros) when ``mass = 0``.
    method : str
        One of :data:`METHODS`. With ``mass = 0`` only ``"explicit_euler"``.
    step : float > 0
        Time step ``h``.
    n_steps : int >= 0
        Number of steps.
    t0 : float
        Initial time (matters for a time-dependent friction).
    tol : float >= 0, optional
        Stop (status 1) after a step that used a gradient of norm ``<= tol``
        and moved ``x`` by ``<= tol``.
    record_every : int >= 1
        Keep every ``record_every``-th state, and always the last.

    Returns
    -------
    Trajectory
        ``x`` and ``v`` are the physical position and velocity for every
        method (for ``"nesterov"`` the gradient point is ``x + h beta v``).
        On divergence (status -1) the arrays end at the last finite state.

    Raises
    ------
    TypeError
        (:class:`~heavyball._validation.InputTypeError`, also a ValueError)
        For a value of the wrong kind: ``system`` not a DampedParticle (build
        one around a problem or a registered name), a complex or boolean
        ``x0``, a string where a number is expected.
    ValueError
        For an unknown method, a bad step, a mass-0 system with a scheme that
        needs a velocity, a malformed ``x0``/``v0``, or a run whose records
        (``n_steps / record_every`` rows of ``dim`` numbers) would need more
        memory than :func:`heavyball._validation.size_limit` allows.

    Notes
    -----
    A built-in problem (one with a ``compiled()`` form) runs in the compiled
    kernel :func:`heavyball.kernels.integrate_kernel`; a problem with only a
    Python ``grad`` (a :class:`~heavyball.problems.CustomProblem`), or a
    system with a feature the kernel does not know, runs in the NumPy loop,
    which defines the semantics: same numbers, microseconds per step instead
    of nanoseconds (see ``docs/performance.md``).

    Examples
    --------
    >>> import heavyball as hb
    >>> sys = hb.DampedParticle(hb.Quadratic.from_condition_number(10), mass=1, friction=2)
    >>> traj = hb.integrate(sys, [1.0, 1.0], method="symplectic_euler", step=0.1, n_steps=100)
    >>> traj.status, traj.x.shape
    (0, (101, 2))
    """
    args = _validate(system, x0, v0, method, step, n_steps, t0, tol, record_every)
    x, v, h, n, t0, tol, every = args
    gammas = _friction_sequence(system, t0, h, n)
    if METHODS[method] is _SCHEMES_IN_KERNELS.get(method) and not isinstance(gammas, _schedules.Chunked):
        traj = _fast.integrate_compiled(system, method, x, v, h, n, t0, gammas, tol, every)
        if traj is not None:
            return traj
    return _run(system, METHODS[method], method, x, v, h, n, t0, gammas, tol, every)


def _validate(system, x0, v0, method, step, n_steps, t0, tol, record_every):
    if not isinstance(system, DampedParticle):
        hint = (f"; for a registered problem use DampedParticle({system!r}, mass, friction)"
                if isinstance(system, str) else "")
        raise _v.InputTypeError(f"`system` must be a DampedParticle, got {_v.describe(system)}{hint}")
    _v.choice("method", method, list(METHODS))
    if system.high_resolution:
        raise ValueError(
            "`integrate` runs the plain damped particle only; this system has "
            f"hessian_damping = {system.hessian_damping!r} and gradient_scale = {system.gradient_scale!r} "
            "(allowed: 0.0 and 1.0). Use solve_reference for a high-resolution ODE, and the method it "
            "models (optimize with SGD) for its discretisation"
        )
    if system.mass == 0.0 and method != "explicit_euler":
        raise ValueError(
            f"method {method!r} needs a velocity, which a mass-0 system (gradient flow) "
            "does not have; use method='explicit_euler'"
        )
    h = _v.real("step", step, low=0.0, low_open=True)
    n = _v.integer("n_steps", n_steps, low=0)
    t0 = _v.real("t0", t0)
    tol = None if tol is None else _v.real("tol", tol, low=0.0)
    every = _v.integer("record_every", record_every, low=1)
    check_records(n, every, system.dim, 1 if system.mass == 0.0 else 2)
    every = min(every, n + 1)  # the same records (start and end), and an int64 for the kernel
    x = _v.vector("x0", x0, system.dim)
    if system.mass == 0.0:
        if v0 is not None and np.any(_v.vector("v0", v0, system.dim) != 0.0):
            raise ValueError("`v0` must be None when mass = 0: gradient flow has no velocity state")
        v = None
    else:
        v = np.zeros(system.dim) if v0 is None else _v.vector("v0", v0, system.dim)
    return x, v, h, n, t0, tol, every


def _friction_sequence(system, t0, h, n):
    """Friction at the start of each step, ``gamma(t0 + k h)``.

    A float for a constant friction; an array for up to
    ``schedules.FULL_ARRAY_STEPS`` steps; beyond, a
    :class:`~heavyball.schedules.Chunked` sequence evaluated a chunk at a time
    (the NumPy loop then runs), so memory does not grow with ``n``.
    """
    if not system.time_dependent:
        return system.friction

    def fill(k0, k1):
        return np.atleast_1d(system.friction_at(t0 + h * np.arange(k0, k1)))

    if n <= _schedules.FULL_ARRAY_STEPS:
        return fill(0, n)
    fill(0, _schedules.CHUNK)  # a bad friction fails before the run
    return _schedules.Chunked(fill, n)


def _run(system, scheme, method, x, v, h, n, t0, gammas, tol, every):
    """The NumPy loop (the reference twin of the compiled kernels)."""
    grad, m = system.problem.grad, system.mass
    rec = Recorder(n, every, system.dim, with_v=v is not None)
    rec.add(0, x, v)
    status, k = 0, 0
    constant = isinstance(gammas, float)
    with np.errstate(all="ignore"):
        for k in range(n):
            gamma = gammas if constant else gammas[k]
            x_new, v_new, g = scheme(grad, x, v, h, m, gamma)
            if not state_ok(x_new, v_new):
                status = -1
                break
            done = tol is not None and small(g, tol) and small(x_new - x, tol)
            x, v = x_new, v_new
            if done:
                status, k = 1, k + 1
                break
            rec.maybe_add(k + 1, x, v)
        else:
            k = n
    stop = k + 1 if status == -1 else k
    last = k if status == -1 else stop
    rec.close(last, x, v)
    nfev = stop if status != -1 else k + 1
    return finish(rec, system.problem.value, t0=t0, step=h, method=method,
                  status=status, stop_step=stop, nfev=nfev)
