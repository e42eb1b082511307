"""The base class of every problem, :class:`Problem` (``heavyball.problems.Problem``).

In a module of its own so that the problems defined outside
:mod:`heavyball.problems` (:class:`~heavyball.problems.TorchProblem`) can
subclass it without importing the registry that lists them.
"""

from __future__ import annotations

from . import _validation as _v


class Problem:
    """Base class: validation of points and a readable ``repr``.

    Subclasses set ``name``, ``dim``, ``minimizer``, ``min_value`` and
    implement ``_value``, ``_grad`` and ``_hessian`` on arrays of shape
    ``(..., dim)``.
    """

    name = "problem"
    dim = 0
    minimizer = None
    min_value = None

    def value(self, x):
        """Loss ``L(x)``; ``x`` of shape ``(dim,)`` or ``(..., dim)`` -> shape ``(...)``."""
        return self._value(_v.points("x", x, self.dim))

    def grad(self, x):
        """Gradient ``grad L(x)``, same shape as ``x``."""
        return self._grad(_v.points("x", x, self.dim))

    def hessian(self, x):
        """Hessian of ``L`` at ``x``: shape ``(..., dim, dim)``."""
        return self._hessian(_v.points("x", x, self.dim))

    def _params(self):
        return {}

    def compiled(self):
        """The problem as the Numba kernels see it, or None if they cannot run it.

        Returns
        -------
        CompiledProblem or None
            A kind code and float64 parameter arrays (see
            :mod:`heavyball._compiled`) for which compiled ``value`` and ``grad``
            exist. None for user-defined problems (and subclasses, which may
            change a formula): those run on the pure-Python path.

        Examples
        --------
        >>> import heavyball as hb
        >>> cp = hb.Rosenbrock().compiled()
        >>> cp.scalars, cp.value([1.0, 1.0]), cp.grad([0.0, 0.0])
        (array([  1., 100.]), 0.0, array([-2.,  0.]))
        >>> hb.CustomProblem(1, lambda x: x[0] ** 2, lambda x: 2 * x).compiled() is None
        True
        """
        return None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"
