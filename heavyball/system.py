r"""The physical model: a particle of mass ``m`` with friction on a loss surface.

.. math::

    m x'' = -\nabla L(x) - \gamma(t) x'

With ``m = 0`` it is the gradient flow ``gamma x' = -grad L(x)``. Two optional
terms (off by default) give the high-resolution ODEs of Shi, Du, Jordan & Su
(2021): a Hessian-driven damping ``c_H Hess L(x) x'`` and a gradient scale
``sigma(t)``,

.. math::

    m x'' = -\sigma(t) \nabla L(x) - \gamma(t) x' - c_H \nabla^2 L(x) x'.
"""

from __future__ import annotations

import numpy as np

from . import _validation as _v
from . import problems as _problems

__all__ = ["DampedParticle"]


class DampedParticle:
    r"""A damped particle ``m x'' = -grad L(x) - gamma(t) x'`` on ``problem``.

    With the optional terms, ``m x'' = -sigma(t) grad L(x) - gamma(t) x' -
    c_H Hess L(x) x'`` (``sigma = gradient_scale``, ``c_H = hessian_damping``).

    Parameters
    ----------
    problem : Problem or str
        The potential ``L``; anything with ``dim``, ``value`` and ``grad``,
        or the name of a registered problem (built with its defaults).
    mass : float >= 0, optional
        ``m`` (default 1); 0 means the gradient flow ``gamma x' = -grad L(x)``.
    friction : float >= 0 or callable, optional
        ``gamma`` (default 1), constant or a function of time ``gamma(t)`` (for
        example ``lambda t: 3 / t``, the Su-Boyd-Candes ODE). With ``mass = 0``
        it must be positive.
    hessian_damping : float >= 0, optional
        ``c_H``, the coefficient of the Hessian-driven damping
        ``c_H Hess L(x) x'`` (a friction that depends on the position; the
        "gradient correction" ``sqrt(s) Hess f x'`` of NAG). Default 0 (off).
        Needs ``problem.hessian`` and ``mass > 0``. Only
        :func:`~heavyball.solve_reference` integrates it;
        :func:`~heavyball.integrate` refuses it.
    gradient_scale : float > 0 or callable, optional
        ``sigma``, constant or a function of time ``sigma(t)`` multiplying the
        force ``-grad L`` (``1 + sqrt(mu s)`` or ``1 + 3 sqrt(s)/(2t)`` in the
        high-resolution ODEs). Default 1 (off). Any value other than 1 is,
        like ``hessian_damping``, for :func:`~heavyball.solve_reference` only.

    Raises
    ------
    ValueError
        For an unknown problem name, a negative or non-finite ``mass`` or
        ``friction``, ``friction = 0`` with ``mass = 0``, a ``hessian_damping``
        with ``mass = 0`` or without a Hessian, or ``gradient_scale <= 0``.

    Notes
    -----
    As a first-order system in ``y = (x, v)`` (:meth:`rhs`):

    .. math::

        x' = v, \qquad
        v' = \frac{-\sigma(t) \nabla L(x) - \gamma(t) v - c_H \nabla^2 L(x) v}{m},

    and for ``m = 0``, ``x' = -sigma(t) grad L(x) / gamma(t)``. Its
    mechanical energy ``E = L(x) + m |v|^2 / 2`` (:meth:`energy`) decays at the
    rate ``dE/dt = -gamma |v|^2`` when ``sigma = 1`` and ``c_H = 0``. The
    fixed-step schemes of :mod:`heavyball.integrators` discretise it; they are
    the optimisers of :mod:`heavyball.optimizers` (see :mod:`heavyball.maps`).

    References
    ----------
    .. [1] B. Shi, S. S. Du, M. I. Jordan and W. J. Su, "Understanding the
       acceleration phenomenon via high-resolution differential equations",
       Mathematical Programming 195, 79-148, 2022 (arXiv 2018).

    Examples
    --------
    >>> import heavyball as hb
    >>> system = hb.DampedParticle(hb.Rosenbrock(), mass=1.0, friction=2.0)
    >>> system.rhs(0.0, [0.0, 0.0, 0.5, 0.0])  # y = [x, v]; grad L(0, 0) = (-2, 0)
    array([ 0.5,  0. ,  1. , -0. ])

    A Hessian-driven damping on a quadratic ``diag(1, 4)`` adds ``c_H H v``:

    >>> q = hb.Quadratic.diagonal([1.0, 4.0])
    >>> hb.DampedParticle(q, 1.0, 0.0, hessian_damping=0.5).rhs(0.0, [0.0, 0.0, 1.0, 1.0])
    array([ 1. ,  1. , -0.5, -2. ])
    """

    def __init__(self, problem, mass=1.0, friction=1.0, *, hessian_damping=0.0, gradient_scale=1.0):
        self.problem = problem = _problems.check_problem("problem", problem)
        self.mass = _v.real("mass", mass, low=0.0)
        if callable(friction):
            self.friction = friction
        else:
            self.friction = _v.real("friction", friction, low=0.0)
            if self.mass == 0.0 and self.friction == 0.0:
                raise ValueError(
                    "`friction` must be > 0 when `mass` = 0 (gradient flow gamma x' = -grad L), got 0.0"
                )
        self.hessian_damping = _v.real("hessian_damping", hessian_damping, low=0.0)
        if self.hessian_damping > 0.0:
            if self.mass == 0.0:
                raise ValueError("`hessian_damping` must be 0 when `mass` = 0 (gradient flow has no velocity), "
                                 f"got {hessian_damping!r}")
            _require_hessian(problem)
        if callable(gradient_scale):
            self.gradient_scale = gradient_scale
        else:
            self.gradient_scale = _v.real("gradient_scale", gradient_scale, low=0.0, low_open=True)

    @property
    def dim(self):
        """Dimension of the position ``x`` (the problem's ``dim``).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DampedParticle(hb.Rosenbrock()).dim
        2
        """
        return self.problem.dim

    @property
    def time_dependent(self):
        """True when the friction is a function of time.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DampedParticle("rosenbrock", 1.0, lambda t: 3 / t).time_dependent
        True
        """
        return callable(self.friction)

    def friction_at(self, t):
        """Friction ``gamma(t)`` for a scalar or an array of times (validated).

        Parameters
        ----------
        t : float or array_like
            Time(s).

        Returns
        -------
        float or ndarray
            ``gamma(t)``, of the shape of ``t``; the constant for a constant
            friction.

        Raises
        ------
        ValueError
            If a value is negative or non-finite (or zero with ``mass = 0``).

        Notes
        -----
        A callable friction is called once on the whole array when it accepts
        one and returns the right shape, else once per time.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DampedParticle("rosenbrock", 1.0, lambda t: 3 / t).friction_at([1.0, 2.0])
        array([3. , 1.5])
        """
        t = np.asarray(t, dtype=np.float64)
        if not self.time_dependent:
            return np.full(t.shape, self.friction)[()] if t.ndim else self.friction
        gam = _evaluate_on_times(self.friction, t)
        low = 0.0 if self.mass > 0 else np.nextafter(0.0, 1.0)
        bad = ~np.isfinite(gam) | (gam < low)
        if np.any(bad):
            i = np.flatnonzero(np.atleast_1d(bad))[0]
            ti, gi = np.atleast_1d(t)[i], np.atleast_1d(gam)[i]
            need = ">= 0" if self.mass > 0 else "> 0 (mass = 0)"
            raise ValueError(f"`friction(t)` must be finite and {need}; friction({ti!r}) = {gi!r}")
        return gam[()] if gam.ndim == 0 else gam

    @property
    def high_resolution(self):
        """True when a Hessian damping or a gradient scale other than 1 is set.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DampedParticle("rosenbrock", gradient_scale=1.1).high_resolution
        True
        """
        return self.hessian_damping != 0.0 or callable(self.gradient_scale) or self.gradient_scale != 1.0

    def gradient_scale_at(self, t):
        """Gradient scale ``sigma(t)`` for a scalar or an array of times (validated).

        Parameters
        ----------
        t : float or array_like
            Time(s).

        Returns
        -------
        float or ndarray
            ``sigma(t)``, of the shape of ``t``; the constant for a constant scale.

        Raises
        ------
        ValueError
            If a value is not finite and positive.

        Notes
        -----
        Evaluated as :meth:`friction_at` is (vectorised when the callable allows).

        Examples
        --------
        >>> import heavyball as hb
        >>> from heavyball.odes import InverseTime
        >>> float(hb.DampedParticle("rosenbrock", gradient_scale=InverseTime(1.0, 1.0)).gradient_scale_at(2.0))
        1.5
        """
        t = np.asarray(t, dtype=np.float64)
        if not callable(self.gradient_scale):
            return np.full(t.shape, self.gradient_scale)[()] if t.ndim else self.gradient_scale
        sig = _evaluate_on_times(self.gradient_scale, t)
        bad = ~np.isfinite(sig) | (sig <= 0.0)
        if np.any(bad):
            i = np.flatnonzero(np.atleast_1d(bad))[0]
            ti, si = np.atleast_1d(t)[i], np.atleast_1d(sig)[i]
            raise ValueError(f"`gradient_scale(t)` must be finite and > 0; gradient_scale({ti!r}) = {si!r}")
        return sig[()] if sig.ndim == 0 else sig

    def rhs(self, t, y):
        """Right-hand side ``dy/dt`` in SciPy's signature.

        Parameters
        ----------
        t : float
            Time.
        y : array_like, shape (2 dim,) or (dim,)
            ``concatenate([x, v])``; ``x`` alone when ``mass = 0``.

        Returns
        -------
        ndarray
            ``[v, (-sigma(t) grad L(x) - gamma(t) v - c_H Hess L(x) v) / m]``,
            or ``-sigma(t) grad L(x) / gamma(t)`` when ``mass = 0``
            (``sigma = 1``, ``c_H = 0`` unless set).

        Notes
        -----
        This is the ``fun`` that :func:`~heavyball.solve_reference` passes to
        :func:`scipy.integrate.solve_ivp`. A diagonal quadratic applies ``c_H H v``
        without forming the dense Hessian.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0]), mass=0.0, friction=2.0).rhs(0.0, [1.0, 1.0])
        array([-0.5, -2. ])
        """
        y = np.asarray(y, dtype=np.float64)
        gamma = self.friction(t) if self.time_dependent else self.friction
        n = self.dim
        if self.mass == 0.0:
            return -self._force(t, y) / gamma
        x, v = y[:n], y[n:]
        acc = -self._force(t, x) - gamma * v
        if self.hessian_damping != 0.0:
            acc = acc - self.hessian_damping * _hessian_times(self.problem, x, v)
        return np.concatenate([v, acc / self.mass])

    def _force(self, t, x):
        """``sigma(t) grad L(x)`` (just ``grad L(x)`` when the scale is off)."""
        g = self.problem.grad(x)
        if callable(self.gradient_scale):
            return self.gradient_scale(t) * g
        return g if self.gradient_scale == 1.0 else self.gradient_scale * g

    def energy(self, x, v=None):
        """Mechanical energy ``L(x) + m |v|^2 / 2`` (broadcasts over leading axes).

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            Position(s).
        v : array_like, shape (dim,) or (..., dim), optional
            Velocity (velocities); None, or ``mass = 0``, gives the potential
            ``L(x)`` alone.

        Returns
        -------
        ndarray, shape (...)
            ``L(x) + m |v|^2 / 2`` for each state.

        Notes
        -----
        Along the exact flow with constant friction (and ``sigma = 1``,
        ``c_H = 0``) ``dE/dt = -gamma |v|^2 <= 0``.

        Examples
        --------
        >>> import heavyball as hb
        >>> sys = hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0]), mass=2.0)
        >>> float(sys.energy([1.0, 1.0], [1.0, 0.0]))  # (1 + 4)/2 + 2 * 1/2
        3.5
        """
        pot = np.asarray(self.problem.value(x), dtype=np.float64)
        if v is None or self.mass == 0.0:
            return pot
        v = np.asarray(v, dtype=np.float64)
        return pot + 0.5 * self.mass * np.sum(v * v, axis=-1)

    def __repr__(self):
        extra = ""
        if self.hessian_damping != 0.0:
            extra += f", hessian_damping={self.hessian_damping!r}"
        if callable(self.gradient_scale) or self.gradient_scale != 1.0:
            extra += f", gradient_scale={self.gradient_scale!r}"
        return f"DampedParticle({self.problem!r}, mass={self.mass!r}, friction={self.friction!r}{extra})"


def _require_hessian(problem):
    """Raise ValueError unless ``problem.hessian`` exists and is implemented."""
    from .problems import CustomProblem

    message = "`hessian_damping` > 0 needs a problem with a `hessian(x)` method"
    if not callable(getattr(problem, "hessian", None)):
        raise ValueError(message)
    if isinstance(problem, CustomProblem) and problem._h is None:  # its hessian() would raise mid-solve
        raise ValueError(message + f"; {problem!r} was given none")


def _hessian_times(problem, x, v):
    """``Hess L(x) v``; a diagonal quadratic never forms its dense Hessian."""
    if getattr(problem, "is_diagonal", False):
        return problem.hessian_diagonal * v
    return np.asarray(problem.hessian(x), dtype=np.float64) @ v


def _evaluate_on_times(fn, t):
    """Evaluate ``fn`` on an array of times, vectorised when it allows."""
    if t.ndim == 0:
        return np.asarray(fn(float(t)), dtype=np.float64)
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(t), dtype=np.float64)
        if out.shape in ((), t.shape):
            return np.broadcast_to(out, t.shape).copy()
    except Exception:  # a scalar-only callable (math.exp, if-branches): loop instead
        pass
    return np.array([fn(float(s)) for s in t.ravel()], dtype=np.float64).reshape(t.shape)
