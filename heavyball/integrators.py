"""Fixed-step integrators of the damped particle ``m x'' = -grad L(x) - gamma x'``.

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

Examples
--------
>>> import heavyball as hb
>>> sorted(hb.METHODS)[:2]
['conformal_symplectic_euler', 'explicit_euler']
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from . import _fast
from . import _validation as _v
from . import schedules as _schedules
from ._kernel_constants import constant
from ._recording import check_records, step_loop
from .system import DampedParticle

__all__ = [
    "integrate",
    "METHODS",
    "SCHEMES",
    "Scheme",
    "explicit_euler",
    "symplectic_euler",
    "conformal_symplectic_euler",
    "nesterov",
    "implicit_friction_euler",
]


def explicit_euler(grad, x, v, h, m, gamma):
    """Explicit (forward) Euler; order 1, not symplectic.

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray``, the gradient of the potential.
    x : ndarray, shape (dim,)
        Position.
    v : ndarray, shape (dim,) or None
        Velocity (None when ``m = 0``).
    h : float
        Time step.
    m : float
        Mass (0 for gradient flow).
    gamma : float
        Friction at the start of the step.

    Returns
    -------
    x_new : ndarray, shape (dim,)
        Position after the step.
    v_new : ndarray, shape (dim,) or None
        Velocity after the step (None when ``m = 0``).
    g : ndarray, shape (dim,)
        The gradient evaluated, ``grad L(x)``.

    Notes
    -----
    ``x' = x + h v``, ``v' = v - (h/m)(grad L(x) + gamma v)``. With ``m = 0``:
    ``x' = x - (h/gamma) grad L(x)`` (gradient descent, ``lr = h/gamma``).
    Per mode the determinant of the update is ``beta + h^2 lambda / m``, so
    without friction the energy ``(lambda x^2 + m v^2)/2`` grows by the factor
    ``1 + h^2 lambda/m`` each step. With ``m > 0`` it is no optimiser of the
    frameworks: eliminating ``v`` gives the delayed-gradient recurrence
    ``x_{k+2} = x_{k+1} + beta (x_{k+1} - x_k) - lr grad L(x_k)``.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.integrators import explicit_euler
    >>> explicit_euler(lambda x: 2 * x, np.array([1.0]), np.array([1.0]), 0.1, 1.0, 1.0)
    (array([1.1]), array([0.7]), array([2.]))
    >>> explicit_euler(lambda x: 2 * x, np.array([1.0]), None, 0.1, 0.0, 2.0)  # m = 0: GD, lr = h / gamma
    (array([0.9]), None, array([2.]))
    """
    return _step(SCHEMES["explicit_euler"], grad, x, v, h, m, gamma)


def symplectic_euler(grad, x, v, h, m, gamma):
    """Symplectic (semi-implicit) Euler: kick, then drift. Order 1.

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray``, the gradient of the potential.
    x : ndarray, shape (dim,)
        Position.
    v : ndarray, shape (dim,)
        Velocity.
    h : float
        Time step.
    m : float
        Mass, ``> 0``.
    gamma : float
        Friction at the start of the step.

    Returns
    -------
    x_new : ndarray, shape (dim,)
        Position after the step.
    v_new : ndarray, shape (dim,)
        Velocity after the step.
    g : ndarray, shape (dim,)
        The gradient evaluated, ``grad L(x)``.

    Notes
    -----
    ``v' = (1 - h gamma/m) v - (h/m) grad L(x)``, ``x' = x + h v'``.
    This is heavy-ball momentum with ``lr = h^2/m``, ``beta = 1 - h gamma/m``:
    ``x_{k+1} = x_k + beta (x_k - x_{k-1}) - lr grad L(x_k)``, i.e.
    ``torch.optim.SGD(lr, momentum=beta)`` with buffer ``buf = -(m/h) v``.
    Without friction it preserves phase-space area (symplectic), so the energy
    error stays bounded instead of drifting.

    References
    ----------
    .. [1] B. T. Polyak, "Some methods of speeding up the convergence of
       iteration methods", USSR Computational Mathematics and Mathematical
       Physics 4(5), 1-17, 1964.
    .. [2] E. Hairer, C. Lubich and G. Wanner, "Geometric Numerical
       Integration", 2nd ed., Springer, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.integrators import symplectic_euler
    >>> symplectic_euler(lambda x: 2 * x, np.array([1.0]), np.array([1.0]), 0.1, 1.0, 1.0)
    (array([1.07]), array([0.7]), array([2.]))
    """
    return _step(SCHEMES["symplectic_euler"], grad, x, v, h, m, gamma)


def conformal_symplectic_euler(grad, x, v, h, m, gamma):
    """Conformal symplectic Euler: friction solved exactly, then kick and drift.

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray``, the gradient of the potential.
    x : ndarray, shape (dim,)
        Position.
    v : ndarray, shape (dim,)
        Velocity.
    h : float
        Time step.
    m : float
        Mass, ``> 0``.
    gamma : float
        Friction at the start of the step.

    Returns
    -------
    x_new : ndarray, shape (dim,)
        Position after the step.
    v_new : ndarray, shape (dim,)
        Velocity after the step.
    g : ndarray, shape (dim,)
        The gradient evaluated, ``grad L(x)``.

    Notes
    -----
    ``v' = exp(-h gamma/m) v - (h/m) grad L(x)``, ``x' = x + h v'``: heavy ball
    with ``beta = exp(-h gamma/m)``, ``lr = h^2/m``. Without the potential it
    damps the velocity exactly as the ODE does, and it contracts phase-space
    volume by exactly ``exp(-h gamma/m)`` per step per mode, as the flow does.

    References
    ----------
    .. [1] R. McLachlan and M. Perlmutter, "Conformal Hamiltonian systems",
       Journal of Geometry and Physics 39(4), 276-300, 2001.
    .. [2] G. Franca, J. Sulam, D. P. Robinson and R. Vidal, "Conformal
       symplectic and relativistic optimization", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.integrators import conformal_symplectic_euler
    >>> x, v, g = conformal_symplectic_euler(lambda x: 2 * x, np.array([1.0]), np.array([1.0]), 0.1, 1.0, 1.0)
    >>> v.round(6), x.round(6)  # v' = exp(-0.1) - 0.2
    (array([0.704837]), array([1.070484]))
    """
    return _step(SCHEMES["conformal_symplectic_euler"], grad, x, v, h, m, gamma)


def nesterov(grad, x, v, h, m, gamma):
    """Look-ahead (Nesterov) scheme: the gradient is taken at ``x + h beta v``.

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray``, the gradient of the potential.
    x : ndarray, shape (dim,)
        Position.
    v : ndarray, shape (dim,)
        Velocity.
    h : float
        Time step.
    m : float
        Mass, ``> 0``.
    gamma : float
        Friction at the start of the step.

    Returns
    -------
    x_new : ndarray, shape (dim,)
        Position after the step.
    v_new : ndarray, shape (dim,)
        Velocity after the step.
    g : ndarray, shape (dim,)
        The gradient evaluated, ``grad L(x + h beta v)``.

    Notes
    -----
    ``v' = beta v - (h/m) grad L(x + h beta v)``, ``x' = x + h v'`` with
    ``beta = 1 - h gamma/m``. The look-ahead points ``x + h beta v`` are the
    iterates of ``torch.optim.SGD(nesterov=True)`` with ``lr = h^2/m`` and
    ``momentum = beta`` (Sutskever et al.'s form of Nesterov's method).

    References
    ----------
    .. [1] Y. Nesterov, "A method for solving the convex programming problem
       with convergence rate O(1/k^2)", Soviet Mathematics Doklady 27,
       372-376, 1983.
    .. [2] I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance
       of initialization and momentum in deep learning", ICML 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.integrators import nesterov
    >>> nesterov(lambda x: 2 * x, np.array([1.0]), np.array([1.0]), 0.1, 1.0, 1.0)  # g at 1 + 0.1 * 0.9
    (array([1.0682]), array([0.682]), array([2.18]))
    """
    return _step(SCHEMES["nesterov"], grad, x, v, h, m, gamma)


def implicit_friction_euler(grad, x, v, h, m, gamma):
    """Euler with the friction taken implicitly (Qian 1999).

    Parameters
    ----------
    grad : callable
        ``grad(x) -> ndarray``, the gradient of the potential.
    x : ndarray, shape (dim,)
        Position.
    v : ndarray, shape (dim,)
        Velocity.
    h : float
        Time step.
    m : float
        Mass, ``> 0``.
    gamma : float
        Friction at the start of the step.

    Returns
    -------
    x_new : ndarray, shape (dim,)
        Position after the step.
    v_new : ndarray, shape (dim,)
        Velocity after the step.
    g : ndarray, shape (dim,)
        The gradient evaluated, ``grad L(x)``.

    Notes
    -----
    ``v' = (v - (h/m) grad L(x)) / (1 + h gamma/m)``, ``x' = x + h v'``: heavy
    ball with ``beta = m/(m + gamma h)`` and ``lr = h^2/(m + gamma h)``; the
    momentum stays in ``(0, 1]`` for every step, however large the friction.

    References
    ----------
    .. [1] N. Qian, "On the momentum term in gradient descent learning
       algorithms", Neural Networks 12(1), 145-151, 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.integrators import implicit_friction_euler
    >>> x, v, g = implicit_friction_euler(lambda x: 2 * x, np.array([1.0]), np.array([1.0]), 0.1, 1.0, 1.0)
    >>> v.round(6), x.round(6)  # v' = (1 - 0.2) / 1.1
    (array([0.727273]), array([1.072727]))
    """
    return _step(SCHEMES["implicit_friction_euler"], grad, x, v, h, m, gamma)


class Scheme(NamedTuple):
    r"""Every fact of one integrator, in one record.

    :func:`integrate` (its NumPy step), :mod:`heavyball.maps` (the optimiser
    it is, and back) and :mod:`heavyball.spectral` (its iteration matrix)
    read them here; the compiled kernels know the scheme by ``code`` and
    restate ``coefficients`` in ``kernels._coefficients`` (compiled code
    cannot call Python; ``tests/test_integrators.py`` checks the two bit for
    bit). Adding an integrator is one record plus its tests (and, for the
    kernels, a code and a branch there).

    Parameters
    ----------
    name : str
        The method name :func:`integrate` takes (``"symplectic_euler"``, ...).
    step : callable
        ``step(grad, x, v, h, m, gamma) -> (x', v', g)``, the public step
        function (e.g. :func:`symplectic_euler`); every step is :func:`_step`.
    coefficients : callable
        ``(h, m, gamma) -> (a, c, e, div)`` of the kick
        ``v' = (a v - c grad L(x + e v)) / div`` (``m > 0``).
    drift_first : bool
        True for ``x' = x + h v`` before the kick (explicit Euler), False
        for the drift ``x' = x + h v'`` after it.
    optimizer : callable or None
        ``(h, m, gamma) -> (lr, beta)``: the heavy-ball optimiser the scheme
        is (Nesterov's when ``look_ahead``); None for explicit Euler, a
        delayed-gradient method.
    physical : callable or None
        ``(lr, beta, m) -> (h, gamma)``, the inverse of ``optimizer`` at mass ``m``.
    blocks : callable
        ``(h, m, gamma) -> ((p11, q11), (p12, q12), (p21, q21), (p22, q22))``:
        each entry of the per-mode iteration matrix of ``[x - x*, v]`` as
        ``p + q lambda`` (:func:`heavyball.spectral.physical_iteration_matrix`).
    look_ahead : bool
        The gradient is taken at ``x + e v`` (Nesterov).
    code : int
        The scheme's code in the compiled kernels (:data:`heavyball.kernels.SCHEMES`).

    Notes
    -----
    Every scheme is one kick and one drift: ``v' = (a v - c g) / div`` with
    ``g = grad L(x + e v)`` and ``(a, c, e, div) = coefficients(h, m, gamma)``,
    then ``x' = x + h v'`` (or ``x' = x + h v`` first, when ``drift_first``).
    On ``L = lambda x^2 / 2`` this makes ``[x - x*, v]`` evolve by the 2 x 2
    matrix whose entries ``blocks`` gives as ``p + q lambda``.

    Examples
    --------
    >>> from heavyball.integrators import SCHEMES
    >>> s = SCHEMES["implicit_friction_euler"]
    >>> s.optimizer(0.1, 1.0, 2.0)  # lr = h^2/(m + gamma h), beta = m/(m + gamma h)
    (0.008333333333333335, 0.8333333333333334)
    >>> s.coefficients(0.1, 1.0, 2.0)  # v' = (v - (h/m) g) / (1 + h gamma/m)
    (1.0, 0.1, 0.0, 1.2)
    """

    name: str
    step: Callable
    coefficients: Callable
    drift_first: bool
    optimizer: Callable | None
    physical: Callable | None
    blocks: Callable
    look_ahead: bool
    code: int


def _step(scheme, grad, x, v, h, m, gamma):
    """One step of ``scheme``: the kick ``v' = (a v - c g(x + e v)) / div`` and its drift.

    With ``m = 0`` (explicit Euler only) the gradient flow ``x' = x - (h/gamma) g(x)``.
    """
    if m == 0.0:
        g = grad(x)
        return x - (h / gamma) * g, None, g
    a, c, e, div = scheme.coefficients(h, m, gamma)
    g = grad(x + e * v) if scheme.look_ahead else grad(x)
    v_new = a * v - c * g if div == 1.0 else (a * v - c * g) / div
    return (x + h * v) if scheme.drift_first else (x + h * v_new), v_new, g


def _heavy_ball_blocks(beta, h, m, scale=1.0):
    """``v' = beta v - scale (h/m) g``, ``x' = x + h v'`` per mode, as ``p + q lambda``."""
    return (1.0, -scale * h * h / m), (h * beta, 0.0), (0.0, -scale * h / m), (beta, 0.0)


def _nesterov_blocks(beta, h, m):
    """``v' = beta v - (h/m) g(x + h beta v)``, ``x' = x + h v'`` per mode, as ``p + q lambda``."""
    a = h * h / m
    return (1.0, -a), (h * beta, -h * beta * a), (0.0, -h / m), (beta, -beta * a)


#: Every integrator, by name (see :class:`Scheme`).
SCHEMES = {s.name: s for s in (
    Scheme("explicit_euler", explicit_euler,
           coefficients=lambda h, m, gamma: (1.0 - h * gamma / m, h / m, 0.0, 1.0),
           drift_first=True, optimizer=None, physical=None,
           blocks=lambda h, m, gamma: ((1.0, 0.0), (h, 0.0), (0.0, -h / m), (1.0 - h * gamma / m, 0.0)),
           look_ahead=False, code=constant("EXPLICIT")),
    Scheme("symplectic_euler", symplectic_euler,
           coefficients=lambda h, m, gamma: (1.0 - h * gamma / m, h / m, 0.0, 1.0),
           drift_first=False,
           optimizer=lambda h, m, gamma: (h * h / m, 1.0 - h * gamma / m),
           physical=lambda lr, beta, m: (math.sqrt(m * lr), m * (1.0 - beta) / math.sqrt(m * lr)),
           blocks=lambda h, m, gamma: _heavy_ball_blocks(1.0 - h * gamma / m, h, m),
           look_ahead=False, code=constant("SYMPLECTIC")),
    Scheme("conformal_symplectic_euler", conformal_symplectic_euler,
           coefficients=lambda h, m, gamma: (math.exp(-h * gamma / m), h / m, 0.0, 1.0),
           drift_first=False,
           optimizer=lambda h, m, gamma: (h * h / m, math.exp(-h * gamma / m)),
           physical=lambda lr, beta, m: (math.sqrt(m * lr), -m * math.log(beta) / math.sqrt(m * lr)),
           blocks=lambda h, m, gamma: _heavy_ball_blocks(math.exp(-h * gamma / m), h, m),
           look_ahead=False, code=constant("CONFORMAL")),
    Scheme("nesterov", nesterov,
           coefficients=lambda h, m, gamma: (1.0 - h * gamma / m, h / m, h * (1.0 - h * gamma / m), 1.0),
           drift_first=False,
           optimizer=lambda h, m, gamma: (h * h / m, 1.0 - h * gamma / m),
           physical=lambda lr, beta, m: (math.sqrt(m * lr), m * (1.0 - beta) / math.sqrt(m * lr)),
           blocks=lambda h, m, gamma: _nesterov_blocks(1.0 - h * gamma / m, h, m),
           look_ahead=True, code=constant("NESTEROV")),
    Scheme("implicit_friction_euler", implicit_friction_euler,
           coefficients=lambda h, m, gamma: (1.0, h / m, 0.0, 1.0 + h * gamma / m),
           drift_first=False,
           optimizer=lambda h, m, gamma: (h * h / (m + gamma * h), m / (m + gamma * h)),
           physical=lambda lr, beta, m: (math.sqrt(m * lr / beta), m * (1.0 - beta) / (beta * math.sqrt(m * lr / beta))),
           blocks=lambda h, m, gamma: _heavy_ball_blocks(m / (m + gamma * h), h, m, m / (m + gamma * h)),
           look_ahead=False, code=constant("IMPLICIT")),
)}

#: The step function of every integrator, by name.
METHODS = {name: s.step for name, s in SCHEMES.items()}

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
    if METHODS[method] is SCHEMES[method].step and not isinstance(gammas, _schedules.Chunked):
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
    """The NumPy loop (the reference twin of the compiled kernels): :func:`_recording.step_loop`."""
    grad, m = system.problem.grad, system.mass
    constant = isinstance(gammas, float)

    def advance(k, x, v):
        x_new, v_new, g = scheme(grad, x, v, h, m, gammas if constant else gammas[k])
        return x_new, v_new, g

    return step_loop(advance, x, v, _same, n, every, v is not None, tol, value=system.problem.value, t0=t0,
                     step=h, method=method)


def _same(v):
    return v
