"""Exact maps between the damped particle and the optimisers it *is*.

For a step ``h`` of a particle with mass ``m > 0`` and friction ``gamma``:

==============================  ================================  ======================================================
integrator                      optimiser                         parameters
==============================  ================================  ======================================================
``symplectic_euler``            ``SGD(lr, beta)``                 ``lr = h^2/m``, ``beta = 1 - h gamma/m``
``nesterov``                    ``SGD(lr, beta, nesterov=True)``  same; PyTorch's iterate is ``x + h beta v``
``conformal_symplectic_euler``  ``SGD(lr, beta)``                 ``lr = h^2/m``, ``beta = exp(-h gamma/m)``
``implicit_friction_euler``     ``SGD(lr, beta)``                 ``lr = h^2/(m + gamma h)``, ``beta = m/(m + gamma h)``
``explicit_euler``, ``m = 0``   ``GD(lr)``                        ``lr = h/gamma``
==============================  ================================  ======================================================

PyTorch's buffer and the velocity are related by ``buf = -(m/h) v`` (for the
implicit scheme ``buf = -(h/lr) v``). The step ``h`` is a gauge: ``(lr, beta)``
fixes only two combinations of ``(m, gamma, h)``, so :func:`to_physical` takes
the mass and returns the rest.

Examples
--------
>>> import heavyball as hb
>>> hb.to_optimizer(1.0, 1.0, 0.1, framework="keras")
KerasSGD(learning_rate=0.010000000000000002, momentum=0.9, nesterov=False, weight_decay=0.0)
"""

from __future__ import annotations

from typing import NamedTuple

from . import _validation as _v
from .integrators import METHODS, SCHEMES
from .optimizers import GD, SGD, Adam, EMAMomentum, KerasSGD

__all__ = ["PhysicalParams", "to_optimizer", "to_physical", "initial_velocity", "physical_run"]

_FRAMEWORKS = ("torch", "keras", "ema")


class PhysicalParams(NamedTuple):
    """Mass, friction, step and integrator equal to an optimiser.

    Parameters
    ----------
    mass : float
        ``m`` (the gauge chosen).
    friction : float
        ``gamma``.
    step : float
        ``h``.
    method : str
        The integrator (a key of :data:`~heavyball.METHODS`).
    v0_scale : float, optional
        The factor with ``v0 = v0_scale * grad L(x0)`` under which the
        integrator reproduces the optimiser from the first step (default 0;
        non-zero only for PyTorch's dampening, whose first buffer is undamped).

    Notes
    -----
    A :class:`~typing.NamedTuple` returned by :func:`to_physical`; for
    symplectic Euler ``h = sqrt(m lr)``, ``gamma = m (1 - beta) / h``. With
    dampening ``d`` the effective learning rate is ``lr (1 - d)`` and
    ``v0_scale = -lr d / (h beta)``: PyTorch's first buffer is ``g``, not
    ``(1 - d) g``, which the particle reproduces by starting at that velocity.

    Examples
    --------
    >>> import heavyball as hb
    >>> p = hb.to_physical(hb.SGD(0.1, momentum=0.9, dampening=0.5))
    >>> p.method, round(p.step, 6), round(p.friction, 6), round(p.v0_scale, 6)
    ('symplectic_euler', 0.223607, 0.447214, -0.248452)
    """

    mass: float
    friction: float
    step: float
    method: str
    v0_scale: float = 0.0


def to_optimizer(mass, friction, step, method="symplectic_euler", *, framework="torch"):
    """The optimiser whose iterates equal ``integrate(..., method=method)``.

    Parameters
    ----------
    mass : float >= 0
        ``m``; 0 is gradient flow (then only ``"explicit_euler"``).
    friction : float >= 0
        ``gamma``, a constant (for a time-dependent friction use a
        ``momentum_schedule``).
    step : float > 0
        ``h``.
    method : str, optional
        An integrator name (default ``"symplectic_euler"``); with ``mass = 0``
        only ``"explicit_euler"``.
    framework : {"torch", "keras", "ema"}, optional
        Which convention to return: ``SGD`` (default), ``KerasSGD`` or
        ``EMAMomentum`` (the latter two only for heavy ball / Nesterov forms
        they support).

    Returns
    -------
    GD, SGD, KerasSGD or EMAMomentum
        The optimiser with ``lr`` and ``momentum`` of the table in
        :mod:`heavyball.maps` (``GD(h / gamma)`` for gradient flow in the
        ``"torch"`` convention).

    Raises
    ------
    ValueError
        For ``explicit_euler`` with ``mass > 0`` (not an optimiser in these
        frameworks; the message gives its recurrence), when ``h gamma / m > 1``
        makes the momentum negative, for a callable friction, an EMA form of
        Nesterov or of zero friction, or a parameter out of range.

    Notes
    -----
    Heavy ball: ``lr = h^2/m``, ``beta = 1 - h gamma/m`` (``exp(-h gamma/m)``
    for the conformal scheme; ``lr = h^2/(m + gamma h)``, ``beta = m/(m +
    gamma h)`` for the implicit one). ``EMAMomentum`` gets ``lr / (1 - beta)``
    and ``beta``. A momentum of 0 with ``method="nesterov"`` gives plain
    steps (PyTorch refuses Nesterov without momentum).

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.to_optimizer(1.0, 1.0, 0.1)
    SGD(lr=0.010000000000000002, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False)
    >>> hb.to_optimizer(0.0, 2.0, 0.1, method="explicit_euler")
    GD(lr=0.05)
    """
    m = _v.real("mass", mass, low=0.0)
    if callable(friction):
        raise ValueError("`friction` must be a constant here; map a time-dependent friction "
                         "to a `momentum_schedule` instead")
    gamma = _v.real("friction", friction, low=0.0)
    h = _v.real("step", step, low=0.0, low_open=True)
    _v.choice("method", method, list(METHODS))
    _v.choice("framework", framework, _FRAMEWORKS)
    if m == 0.0:
        return _gradient_flow_optimizer(gamma, h, method, framework)
    if SCHEMES[method].optimizer is None:
        raise ValueError(
            "explicit Euler with mass > 0 is no momentum optimiser of these frameworks: it is the "
            "delayed-gradient recurrence x[k+2] = x[k+1] + beta (x[k+1] - x[k]) - lr grad L(x[k]) "
            f"with lr = h^2/m = {h * h / m!r}, beta = 1 - h gamma/m = {1 - h * gamma / m!r}"
        )
    lr, beta = _heavy_ball_parameters(m, gamma, h, method)
    return _build(lr, beta, SCHEMES[method].look_ahead, framework)


def _gradient_flow_optimizer(gamma, h, method, framework):
    if method != "explicit_euler":
        raise ValueError(f"mass = 0 (gradient flow) is integrated by 'explicit_euler' only, got {method!r}")
    if gamma == 0.0:
        raise ValueError("`friction` must be > 0 when mass = 0, got 0.0")
    if framework != "torch":
        return _build(h / gamma, 0.0, False, framework)
    return GD(h / gamma)


def _heavy_ball_parameters(m, gamma, h, method):
    lr, beta = SCHEMES[method].optimizer(h, m, gamma)
    if -1e-12 < beta < 0.0:  # h gamma = m up to rounding: zero momentum
        beta = 0.0
    if beta < 0.0:
        raise ValueError(
            f"h * friction / mass = {h * gamma / m!r} > 1 gives momentum {beta!r} < 0, which "
            "the optimisers reject; reduce `step` below mass / friction"
        )
    return lr, beta


def _build(lr, beta, nesterov, framework):
    if framework == "keras":
        return KerasSGD(lr, beta, nesterov=nesterov and beta > 0)
    if framework == "ema":
        if nesterov:
            raise ValueError("EMAMomentum has no Nesterov form; use framework='torch' or 'keras'")
        if beta >= 1.0:
            raise ValueError("zero friction (beta = 1) has no EMAMomentum form")
        return EMAMomentum(lr / (1.0 - beta), beta)
    # PyTorch refuses nesterov with momentum 0; the scheme is then plain GD steps.
    return SGD(lr, beta, nesterov=nesterov and beta > 0)


def to_physical(optimizer, *, mass=1.0, method=None):
    """Mass, friction and step of the particle whose integrator is ``optimizer``.

    Parameters
    ----------
    optimizer : GD, SGD, KerasSGD or EMAMomentum
        Without weight decay or ``maximize`` (those change the potential).
    mass : float >= 0, optional
        The gauge (default 1): ``h = sqrt(mass * lr)`` for symplectic Euler.
        ``mass = 0`` (gradient flow, ``friction = 1``, ``step = lr``) only for
        methods without momentum.
    method : str, optional
        Target integrator: ``"symplectic_euler"`` (default), or
        ``"conformal_symplectic_euler"`` / ``"implicit_friction_euler"`` for
        heavy ball; Nesterov optimisers map to ``"nesterov"``.

    Returns
    -------
    PhysicalParams
        ``(mass, friction, step, method, v0_scale)``. For ``SGD`` with
        dampening ``d`` the effective learning rate is ``lr (1 - d)`` and
        ``v0_scale = -lr d / (h beta)`` restores PyTorch's undamped first step.

    Raises
    ------
    ValueError
        For Adam, weight decay, ``maximize``, momentum outside ``[0, 1]``
        (1 is zero friction, allowed), ``lr = 0`` or ``dampening >= 1``.

    Notes
    -----
    The inverse of :func:`to_optimizer`. With the effective ``(lr, beta)``
    (``lr (1 - beta)`` for ``EMAMomentum``, ``learning_rate`` for Keras):
    symplectic Euler and Nesterov ``h = sqrt(m lr)``, ``gamma = m (1 - beta) /
    h``; conformal ``gamma = -m ln(beta) / h``; implicit ``h = sqrt(m lr /
    beta)``, ``gamma = m (1 - beta) / (beta h)``.

    Examples
    --------
    >>> import heavyball as hb
    >>> p = hb.to_physical(hb.SGD(lr=0.01, momentum=0.9))
    >>> round(p.step, 12), round(p.friction, 12), p.method
    (0.1, 1.0, 'symplectic_euler')
    """
    m = _v.real("mass", mass, low=0.0)
    lr, beta, nesterov, damp_lr = _optimizer_parameters(optimizer)
    if method is None:
        method = "nesterov" if nesterov else "symplectic_euler"
    _check_target(method, nesterov)
    if m == 0.0:
        if beta != 0.0:
            raise ValueError("`mass` must be > 0 for an optimiser with momentum (mass 0 is gradient descent)")
        return PhysicalParams(0.0, 1.0, lr, "explicit_euler", 0.0)
    if method in ("conformal_symplectic_euler", "implicit_friction_euler") and beta == 0.0:
        raise ValueError(f"momentum 0 would need infinite friction in {method!r}; use 'symplectic_euler'")
    h, gamma = SCHEMES[method].physical(lr, beta, m)
    v0_scale = -damp_lr / (h * beta) if damp_lr else 0.0
    return PhysicalParams(m, gamma, h, method, v0_scale)


def _check_target(method, nesterov):
    _v.choice("method", method, [name for name, s in SCHEMES.items() if s.optimizer is not None])
    if nesterov != SCHEMES[method].look_ahead:
        kind = "a Nesterov" if nesterov else "a heavy-ball"
        raise ValueError(f"{kind} optimiser cannot be mapped to method {method!r}")


def _optimizer_parameters(opt):
    """``(lr_eff, beta, nesterov, lr * dampening)`` of a supported optimiser (its ``_heavy_ball`` form)."""
    if isinstance(opt, Adam):
        raise ValueError("Adam rescales each coordinate by a running gradient norm; it is no "
                         "constant-coefficient damped particle and has no physical map")
    if getattr(opt, "weight_decay", 0.0) != 0.0:
        raise ValueError("`weight_decay` changes the potential (L + wd |x|^2 / 2 for PyTorch); "
                         "map the optimiser without it and add the term to the problem")
    if getattr(opt, "maximize", False):
        raise ValueError("`maximize` flips the potential; map the optimiser on -L instead")
    form = getattr(opt, "_heavy_ball", None)
    if form is None:
        raise ValueError(f"`optimizer` must be GD, SGD, KerasSGD or EMAMomentum, got {type(opt).__name__}")
    lr, beta, nesterov, damp_lr = form()
    if beta > 1.0:
        raise ValueError(f"`momentum` must be in [0, 1] for a physical map (1 is zero friction), got {beta!r}")
    d = getattr(opt, "dampening", 0.0)
    if beta != 0.0 and d >= 1.0:
        raise ValueError(f"`dampening` must be < 1 for a physical map (1 - d scales the force), got {d!r}")
    if not lr > 0.0:
        raise ValueError(f"the effective learning rate must be > 0 (lr = h^2/m), got {lr!r}")
    return lr, beta, nesterov and beta > 0, damp_lr


def initial_velocity(optimizer, grad0, *, mass=1.0, method=None):
    """The ``v0`` under which :func:`integrate` reproduces ``optimizer`` from step one.

    Parameters
    ----------
    optimizer : GD, SGD, KerasSGD or EMAMomentum
        The optimiser (as accepted by :func:`to_physical`).
    grad0 : array_like, shape (dim,)
        ``grad L(x0)``.
    mass : float >= 0, optional
        As in :func:`to_physical`.
    method : str, optional
        As in :func:`to_physical`.

    Returns
    -------
    ndarray, shape (dim,), or None
        ``v0_scale * grad0`` (zeros unless PyTorch dampening is on); None for
        a mass-0 map (gradient flow has no velocity).

    Raises
    ------
    ValueError
        When :func:`to_physical` refuses the optimiser, or ``grad0`` is not a
        finite vector.

    Notes
    -----
    ``v0 = v0_scale grad L(x0)`` with ``v0_scale = -lr d / (h beta)``
    (:class:`PhysicalParams`): the particle's first step then uses the
    undamped first buffer ``g`` of PyTorch.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.initial_velocity(hb.SGD(0.1, momentum=0.9, dampening=0.5), [1.0, -2.0]).round(6)
    array([-0.248452,  0.496904])
    >>> hb.initial_velocity(hb.SGD(0.1, momentum=0.9), [1.0, -2.0]) + 0.0  # no dampening: at rest
    array([0., 0.])
    """
    params = to_physical(optimizer, mass=mass, method=method)
    g = _v.vector("grad0", grad0)
    if params.mass == 0.0:
        return None
    return params.v0_scale * g


def physical_run(run, optimizer, *, mass=1.0, method=None, problem=None):
    """An :func:`~heavyball.optimize` run as the particle's trajectory: position and velocity.

    ``optimize`` records the optimiser's own state as ``v`` (PyTorch's
    momentum buffer, Keras's velocity, the EMA), in gradient units and, for
    PyTorch, of the opposite sign; this converts it.

    Parameters
    ----------
    run : Trajectory
        A run of ``optimize(problem, optimizer, ...)`` with constant
        hyperparameters (no schedules or restarts: those have no constant
        friction and step).
    optimizer : SGD, KerasSGD or EMAMomentum
        The optimiser that made ``run``.
    mass : float > 0, optional
        As in :func:`to_physical` (default 1).
    method : str, optional
        As in :func:`to_physical`.
    problem : Problem, optional
        Needed only for PyTorch's dampening: before its first step PyTorch
        has no buffer, and the particle's start velocity is
        ``v0_scale grad L(x_0)`` (:func:`initial_velocity`).

    Returns
    -------
    Trajectory
        ``x``, ``v`` physical, ``t = h k``, ``method`` and ``step`` of the map.

    Raises
    ------
    TypeError
        If ``run`` is not a :class:`~heavyball.Trajectory`.
    ValueError
        For a run without the optimiser's state (``GD``, or not an optimize
        run), an optimiser other than the one that made the run, an optimiser
        :func:`to_physical` cannot map, ``mass = 0``, or dampening without
        ``problem``.

    Notes
    -----
    With the map of :func:`to_physical` (step ``h``) every optimiser here moves
    as ``x_{k+1} = x_k + h v_{k+1}``:

    - ``SGD`` and ``EMAMomentum``: ``x_{k+1} = x_k - lr buf_{k+1}``, so
      ``v = -(lr / h) buf`` (``lr`` as given, also with dampening);
    - ``KerasSGD``: ``x_{k+1} = x_k + vel_{k+1}``, so ``v = vel / h``;
    - Nesterov (both): the recorded iterate is the look-ahead point
      ``p = x + h beta v``, so ``x = p - h beta v``;

    and the time is ``t_k = h k``. The result equals ``integrate`` on
    ``DampedParticle(problem, mass, params.friction)`` with
    ``method=params.method``, ``step=params.step`` and ``v0 =
    initial_velocity(optimizer, grad0, mass=mass)`` (to rounding).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q, opt = hb.Quadratic.diagonal([1.0, 10.0]), hb.SGD(0.01, momentum=0.9)
    >>> phys = hb.maps.physical_run(hb.optimize(q, opt, [1.0, 1.0], n_steps=50), opt)
    >>> p = hb.to_physical(opt)
    >>> ref = hb.integrate(hb.DampedParticle(q, p.mass, p.friction), [1.0, 1.0], method=p.method,
    ...                    step=p.step, n_steps=50)
    >>> bool(np.allclose(phys.x, ref.x) and np.allclose(phys.v, ref.v)), phys.t[:3]
    (True, array([0. , 0.1, 0.2]))
    """
    import dataclasses

    import numpy as np

    from .trajectory import Trajectory

    if not isinstance(run, Trajectory):
        raise TypeError(f"`run` must be a Trajectory of optimize, got {type(run).__name__}")
    if run.step != 1.0 or run.method in METHODS or run.v is None:
        raise ValueError(f"`run` must be a run of optimize that recorded the optimiser's state (method "
                         f"{run.method!r}, step {run.step!r}, v {'absent' if run.v is None else 'present'})")
    if getattr(optimizer, "name", None) != run.method:
        raise ValueError(f"`optimizer` ({getattr(optimizer, 'name', type(optimizer).__name__)}) is not the one "
                         f"that made `run` ({run.method})")
    params = to_physical(optimizer, mass=mass, method=method)
    if params.mass == 0.0:
        raise ValueError("`mass` must be > 0: gradient flow has no velocity")
    h = params.step
    v = optimizer._velocity(run.v, h)  # each optimiser says what its recorded state means
    beta = optimizer._heavy_ball()[1]
    if params.v0_scale != 0.0 and len(v) and run.t[0] == 0.0:  # dampening: no buffer before step 1
        if problem is None:
            raise ValueError("`problem` is needed for SGD with dampening: the start velocity is "
                             "v0_scale * grad L(x0) (see initial_velocity)")
        v[0] = params.v0_scale * np.asarray(problem.grad(run.x[0]), dtype=float)
    x = run.x - (h * beta) * v if SCHEMES[params.method].look_ahead else run.x.copy()
    return dataclasses.replace(run, t=run.t * h, x=x, v=v, method=params.method, step=h)
