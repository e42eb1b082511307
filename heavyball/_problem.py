"""The base class of every problem, :class:`Problem` (``heavyball.problems.Problem``).

In a module of its own so that the problems defined outside
:mod:`heavyball.problems` (:class:`~heavyball.problems.TorchProblem`) can
subclass it without importing the registry that lists them.
"""

from __future__ import annotations

from . import _validation as _v


class Problem:
    """Base class of the built-in problems: validation of points and a readable ``repr``.

    Notes
    -----
    A subclass sets ``name``, ``dim``, ``minimizer`` and ``min_value`` and
    implements ``_value``, ``_grad`` and ``_hessian`` on float64 arrays of shape
    ``(..., dim)``. The public :meth:`value`, :meth:`grad` and :meth:`hessian`
    convert ``x`` to such an array (a scalar is accepted when ``dim = 1``) and
    refuse any other shape with a ``ValueError`` before calling them, so the
    formulas never see bad input. :meth:`compiled` returns None: a subclass has
    no Numba form unless it provides one.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.problems import Problem
    >>> class Bowl(Problem):
    ...     name, dim, minimizer, min_value = "bowl", 2, np.zeros(2), 0.0
    ...     def _value(self, x):
    ...         return 0.5 * np.sum(x * x, axis=-1)
    ...     def _grad(self, x):
    ...         return x.copy()
    ...     def _hessian(self, x):
    ...         return np.broadcast_to(np.eye(2), x.shape + (2,)).copy()
    >>> Bowl().value([[1.0, 2.0], [0.0, 0.0]])
    array([2.5, 0. ])
    >>> Bowl().compiled() is None
    True
    """

    name = "problem"
    dim = 0
    minimizer = None
    min_value = None

    def value(self, x):
        """Loss ``L(x)`` at one point or at a batch of points.

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            The point(s); the leading axes are broadcast over (a contour grid is
            one call).

        Returns
        -------
        ndarray, shape (...)
            ``L(x)`` for each point: a 0-d array (a NumPy scalar) for one point.

        Raises
        ------
        ValueError
            If the last axis of ``x`` does not have length ``dim``.

        Notes
        -----
        The formula is the problem's own (see its class); ``x`` is converted to a
        float64 array first. A :class:`TorchProblem` returns a Python float for one
        point.

        Examples
        --------
        >>> import heavyball as hb
        >>> r = hb.Rosenbrock()
        >>> float(r.value([0.0, 0.0])), r.value([[1.0, 1.0], [0.0, 1.0]])
        (1.0, array([  0., 101.]))
        """
        return self._value(_v.points("x", x, self.dim))

    def grad(self, x):
        """Gradient ``grad L(x)`` at one point or at a batch of points.

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            The point(s); the leading axes are broadcast over.

        Returns
        -------
        ndarray, same shape as ``x``
            The analytic gradient at each point.

        Raises
        ------
        ValueError
            If the last axis of ``x`` does not have length ``dim``.

        Notes
        -----
        Analytic for every built-in problem (the formula is in its class
        docstring); the tests compare each one with finite differences of
        :meth:`value`.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Rosenbrock().grad([0.0, 0.0])  # (-2 (a - x) - 4 b x (y - x^2), 2 b (y - x^2))
        array([-2.,  0.])
        """
        return self._grad(_v.points("x", x, self.dim))

    def hessian(self, x):
        """Hessian ``Hess L(x)`` at one point or at a batch of points.

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            The point(s); the leading axes are broadcast over.

        Returns
        -------
        ndarray, shape (..., dim, dim)
            The analytic Hessian at each point (a fresh array).

        Raises
        ------
        ValueError
            If the last axis of ``x`` does not have length ``dim``.
        NotImplementedError
            For a :class:`CustomProblem` given no ``hessian``.

        Notes
        -----
        Used by the spectral analysis (the local curvatures ``lambda``) and by the
        Hessian-driven damping of :class:`~heavyball.DampedParticle`.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Rosenbrock().hessian([1.0, 1.0])
        array([[ 802., -400.],
               [-400.,  200.]])
        """
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


