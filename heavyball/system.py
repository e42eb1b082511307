r"""The physical model: a particle of mass ``m`` with friction on a loss surface.

.. math::

    m x'' = -\nabla L(x) - \gamma(t) x'

With ``m = 0`` it is the gradient flow ``gamma x' = -grad L(x)``.
"""

from __future__ import annotations

import numpy as np

from . import _validation as _v

__all__ = ["DampedParticle"]


class DampedParticle:
    r"""A damped particle ``m x'' = -grad L(x) - gamma(t) x'`` on ``problem``.

    Parameters
    ----------
    problem : Problem
        The potential ``L``; anything with ``dim``, ``value`` and ``grad``.
    mass : float >= 0
        ``m``; 0 means the gradient flow ``gamma x' = -grad L(x)``.
    friction : float >= 0 or callable
        ``gamma``, constant or a function of time ``gamma(t)`` (for example
        ``lambda t: 3 / t``, the Su-Boyd-Candes ODE). With ``mass = 0`` it
        must be positive.

    Examples
    --------
    >>> import heavyball as hb
    >>> system = hb.DampedParticle(hb.Rosenbrock(), mass=1.0, friction=2.0)
    >>> system.rhs(0.0, [0.0, 0.0, 0.5, 0.0])  # y = [x, v]; grad L(0, 0) = (-2, 0)
    array([ 0.5,  0. ,  1. , -0. ])
    """

    def __init__(self, problem, mass=1.0, friction=1.0):
        for attr in ("dim", "value", "grad"):
            if not hasattr(problem, attr):
                raise ValueError(f"`problem` must have `dim`, `value` and `grad`; missing `{attr}`")
        self.problem = problem
        self.mass = _v.real("mass", mass, low=0.0)
        if callable(friction):
            self.friction = friction
        else:
            self.friction = _v.real("friction", friction, low=0.0)
            if self.mass == 0.0 and self.friction == 0.0:
                raise ValueError(
                    "`friction` must be > 0 when `mass` = 0 (gradient flow gamma x' = -grad L), got 0.0"
                )

    @property
    def dim(self):
        """Dimension of the position ``x``."""
        return self.problem.dim

    @property
    def time_dependent(self):
        """True when the friction is a function of time."""
        return callable(self.friction)

    def friction_at(self, t):
        """Friction ``gamma(t)`` for a scalar or array of times (validated).

        Raises
        ------
        ValueError
            If a value is negative or non-finite (or zero with ``mass = 0``).
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
            ``[v, (-grad L(x) - gamma(t) v) / m]``, or ``-grad L(x) / gamma(t)``
            when ``mass = 0``.
        """
        y = np.asarray(y, dtype=np.float64)
        gamma = self.friction(t) if self.time_dependent else self.friction
        n = self.dim
        if self.mass == 0.0:
            return -self.problem.grad(y) / gamma
        x, v = y[:n], y[n:]
        return np.concatenate([v, (-self.problem.grad(x) - gamma * v) / self.mass])

    def energy(self, x, v=None):
        """Mechanical energy ``L(x) + m |v|^2 / 2`` (broadcasts over leading axes)."""
        pot = np.asarray(self.problem.value(x), dtype=np.float64)
        if v is None or self.mass == 0.0:
            return pot
        v = np.asarray(v, dtype=np.float64)
        return pot + 0.5 * self.mass * np.sum(v * v, axis=-1)

    def __repr__(self):
        return f"DampedParticle({self.problem!r}, mass={self.mass!r}, friction={self.friction!r})"


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
