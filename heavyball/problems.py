"""Loss landscapes: the potentials the particle rolls on.

Every problem has ``dim``, ``value(x)``, ``grad(x)``, ``hessian(x)``,
``minimizer`` (array or None), ``min_value`` (float or None) and ``name``.
``value`` and ``grad`` accept ``x`` of shape ``(dim,)`` or ``(..., dim)`` and
broadcast over the leading axes, so a whole contour grid is one call;
``hessian`` returns shape ``(..., dim, dim)``. All derivatives are analytic.

A user-defined landscape is any object with ``dim``, ``value`` and ``grad``;
:class:`CustomProblem` wraps a user's functions, checks every result they
return (:mod:`heavyball._user_functions`) and, with ``vectorized=True``,
evaluates a batch of points in one call. It runs through the same API on the
NumPy (pure-Python) paths.

Examples
--------
>>> import heavyball as hb
>>> q = hb.problems.get("quadratic", kappa=4.0)
>>> q.grad([[1.0, 1.0], [2.0, 0.0]])  # a batch of two points, one call
array([[1., 4.],
       [2., 0.]])
"""

from __future__ import annotations

import math

import numpy as np

from . import _compiled
from . import _user_functions
from . import _validation as _v
from ._problem import Problem

__all__ = [
    "Problem",
    "Quadratic",
    "Rosenbrock",
    "DoubleWell",
    "Saddle",
    "Plateau",
    "LessardCounterexample",
    "CustomProblem",
    "TorchProblem",
    "get",
    "names",
    "factory",
]


def _finite(what, params, compute):
    """Value of ``compute()``, or a ValueError naming ``params`` if it is not finite.

    Parameters
    ----------
    what : str
        The derived quantity (``"the minimiser (a, a**2)"``), quoted in the message.
    params : dict
        The parameters it is computed from, name -> value (all named).
    compute : callable
        Computes the quantity from the parameters (a float or an array).

    Raises
    ------
    ValueError
        When the quantity overflows float64 (or divides by a value that
        underflowed to 0), so a problem never holds an ``inf`` minimiser,
        minimum or constant that its formulas then turn into NaN.
    """
    try:
        with np.errstate(all="ignore"):
            value = compute()
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if value is not None and not np.all(np.isfinite(value)):
        given = ", ".join(f"`{k}` = {v!r}" if np.ndim(v) == 0 else f"`{k}` ({_v.describe(v)})"
                          for k, v in params.items())
        raise ValueError(f"{given}: float64 overflows in {what} (it is not finite); "
                         f"choose {'a value' if len(params) == 1 else 'values'} closer to 1")
    return value


class Quadratic(Problem):
    r"""Quadratic ``L(x) = 1/2 x^T H x - b^T x + c`` with ``H`` symmetric PSD.

    Parameters
    ----------
    H : array_like, shape (n, n)
        Symmetric positive semi-definite Hessian (checked, up to a relative
        ``1e-12`` of its largest entry).
    b : array_like, shape (n,), optional
        Linear term (default zeros).
    c : float, optional
        Constant term (default 0).

    Attributes
    ----------
    eigenvalues : ndarray, shape (n,)
        Eigenvalues of ``H`` in ascending order.
    mu, L, kappa : float
        Smallest and largest eigenvalue, and ``L / mu`` (``inf`` if ``mu = 0``).
    minimizer : ndarray or None
        ``H^+ b`` (the minimum-norm minimiser when ``H`` is singular), or None
        when ``b`` is not in the range of ``H`` (unbounded below).
    min_value : float or None
        ``L(minimizer)``.

    Raises
    ------
    ValueError
        If ``H`` is not square, finite, symmetric and positive semi-definite,
        or ``b`` has the wrong shape, or the minimiser overflows.

    Notes
    -----
    .. math::

        L(x) = \tfrac12 x^T H x - b^T x + c, \qquad \nabla L(x) = H x - b,
        \qquad \nabla^2 L = H.

    The minimiser solves ``H x = b``; the minimum is ``c - b^T x^* / 2``. On a
    quadratic every fixed-step scheme acts on each eigen-direction of ``H``
    separately, which makes it the model problem of the spectral analysis.
    :meth:`diagonal` stores ``H = diag(eigenvalues)`` as a vector (no dense
    matrix), so ``dim`` can be in the millions.

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic.from_condition_number(100.0)
    >>> q.eigenvalues, q.kappa
    (array([  1., 100.]), 100.0)
    >>> hb.Quadratic([[2.0, 1.0], [1.0, 2.0]], b=[1.0, 1.0]).minimizer.round(6)
    array([0.333333, 0.333333])
    """

    name = "quadratic"

    def __init__(self, H, b=None, c=0.0):
        H = _v.real_array("H", H)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
            raise ValueError(f"`H` must be a non-empty square matrix, got shape {H.shape}")
        if not np.all(np.isfinite(H)):
            raise ValueError("`H` must be finite")
        scale = max(float(np.max(np.abs(H))), np.finfo(float).tiny)
        asym = float(np.max(np.abs(H - H.T)))
        if asym > 1e-12 * scale:
            raise ValueError(f"`H` must be symmetric; max |H - H^T| = {asym:.3g}")
        H = 0.5 * H + 0.5 * H.T  # not 0.5 * (H + H.T), which overflows for entries near 1e308
        eig = np.linalg.eigvalsh(H)
        self._set_spectrum(eig, scale)
        self.H = H
        self._diag = None
        self._finish(b, c, "H")

    @classmethod
    def diagonal(cls, eigenvalues, b=None, c=0.0):
        """Quadratic with diagonal Hessian ``diag(eigenvalues)``, stored as a vector.

        Parameters
        ----------
        eigenvalues : array_like, shape (n,)
            The diagonal of ``H``, all ``>= 0`` (non-empty; need not be sorted).
        b : array_like, shape (n,), optional
            Linear term (default zeros).
        c : float, optional
            Constant term (default 0).

        Returns
        -------
        Quadratic
            ``L(x) = 1/2 sum_i lambda_i x_i^2 - b^T x + c`` with ``is_diagonal``
            True.

        Raises
        ------
        ValueError
            If ``eigenvalues`` is empty, not finite or has a negative entry.

        Notes
        -----
        No dense ``H`` is ever formed (``value``, ``grad`` and the compiled form
        use the vector), so ``dim`` can be in the millions. The minimiser is
        ``b_i / lambda_i`` where ``lambda_i > 0`` and 0 elsewhere (None if some
        ``b_i != 0`` has ``lambda_i = 0``).

        Examples
        --------
        >>> import heavyball as hb
        >>> q = hb.Quadratic.diagonal([1.0, 4.0], b=[1.0, 2.0])
        >>> q.minimizer, q.min_value
        (array([1. , 0.5]), -1.0)
        """
        lam = _v.vector("eigenvalues", eigenvalues)
        if lam.size == 0:
            raise ValueError("`eigenvalues` must be non-empty")
        self = cls.__new__(cls)
        self._set_spectrum(np.sort(lam), max(float(np.max(np.abs(lam))), np.finfo(float).tiny))
        self.H = None
        self._diag = lam
        self._finish(b, c, "eigenvalues")
        return self

    @classmethod
    def from_condition_number(cls, kappa, dim=2, mu=1.0):
        """Diagonal quadratic with eigenvalues ``linspace(mu, kappa * mu, dim)``.

        Parameters
        ----------
        kappa : float >= 1
            Condition number ``L / mu``.
        dim : int >= 1, optional
            Dimension (default 2); ``dim = 1`` needs ``kappa = 1``.
        mu : float > 0, optional
            Smallest eigenvalue (default 1).

        Returns
        -------
        Quadratic
            A diagonal quadratic (``b = 0``, ``c = 0``, minimiser the origin).

        Raises
        ------
        ValueError
            For a parameter out of range, a ``dim`` whose vectors (eigenvalues,
            ``b``, minimiser) would not fit in memory, or a ``kappa * mu`` that
            overflows.

        Notes
        -----
        ``lambda_i = mu + (kappa - 1) mu i / (dim - 1)``, ``i = 0 .. dim - 1``,
        built by :meth:`diagonal`. This is the ``"quadratic"`` of
        :func:`heavyball.problems.get` and of the CLI.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Quadratic.from_condition_number(10.0, dim=4).eigenvalues
        array([ 1.,  4.,  7., 10.])
        """
        kappa = _v.real("kappa", kappa, low=1.0)
        dim = _v.integer("dim", dim, low=1)
        mu = _v.real("mu", mu, low=0.0, low_open=True)
        if dim == 1 and kappa != 1.0:
            raise ValueError(f"`kappa` must be 1 when `dim` = 1, got {kappa!r}")
        _v.check_size("dim", dim, 4 * dim, "the eigenvalues, `b` and the minimiser of the quadratic",
                      "use a smaller `dim`")
        _finite("the largest eigenvalue kappa * mu", {"kappa": kappa, "mu": mu}, lambda: kappa * mu)
        return cls.diagonal(np.linspace(mu, kappa * mu, dim))

    def _set_spectrum(self, eig, scale):
        if eig[0] < -1e-12 * scale:
            raise ValueError(
                f"`H` must be positive semi-definite; its smallest eigenvalue is {eig[0]:.6g}"
            )
        self.eigenvalues = np.maximum(eig, 0.0) if eig[0] < 0 else eig
        self.dim = int(eig.size)
        self.mu = float(self.eigenvalues[0])
        self.L = float(self.eigenvalues[-1])
        self.kappa = self.L / self.mu if self.mu > 0 else math.inf

    def _finish(self, b, c, hessian_name="H"):
        self.b = np.zeros(self.dim) if b is None else _v.vector("b", b, self.dim)
        self.c = _v.real("c", c)
        params = {hessian_name: self._diag if self._diag is not None else self.H, "b": self.b, "c": self.c}
        self.minimizer = _finite("the minimiser H^+ b", params, self._solve_minimizer)
        if self.minimizer is not None:
            self.min_value = float(_finite("the minimum value", params, lambda: self._value(self.minimizer)))
        else:
            self.min_value = None

    def _solve_minimizer(self):
        if self._diag is not None:
            lam, b = self._diag, self.b
            pos = lam > 0
            if np.any(b[~pos] != 0):
                return None
            x = np.zeros(self.dim)
            x[pos] = b[pos] / lam[pos]
            return x
        if self.mu > 0:
            return np.linalg.solve(self.H, self.b)
        x = np.linalg.lstsq(self.H, self.b, rcond=None)[0]
        resid = np.linalg.norm(self.H @ x - self.b)
        return x if resid <= 1e-10 * max(1.0, np.linalg.norm(self.b)) else None

    @property
    def is_diagonal(self):
        """True when the Hessian is stored as a vector of eigenvalues.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Quadratic.diagonal([1.0, 2.0]).is_diagonal, hb.Quadratic([[1.0]]).is_diagonal
        (True, False)
        """
        return self._diag is not None

    @property
    def hessian_diagonal(self):
        """Diagonal of ``H`` as a vector (a copy; cheap for diagonal problems).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Quadratic([[2.0, 1.0], [1.0, 3.0]]).hessian_diagonal
        array([2., 3.])
        """
        return self._diag.copy() if self._diag is not None else np.diag(self.H).copy()

    def _value(self, x):
        if self._diag is not None:
            quad = 0.5 * np.sum(self._diag * x * x, axis=-1)
        else:
            quad = 0.5 * np.einsum("...i,ij,...j->...", x, self.H, x)
        return quad - x @ self.b + self.c

    def _grad(self, x):
        if self._diag is not None:
            return self._diag * x - self.b
        return x @ self.H - self.b

    def _hessian(self, x):
        H = np.diag(self._diag) if self._diag is not None else self.H
        return np.broadcast_to(H, x.shape + (self.dim,)).copy()

    def compiled(self):
        """The compiled form: ``DIAGONAL_QUADRATIC`` (eigenvalues, ``b``) or ``DENSE_QUADRATIC``.

        Returns
        -------
        CompiledProblem or None
            Scalars ``[c, has_b]``, the eigenvalues (or the flattened ``H``) and
            ``b`` (empty when ``b = 0``). None for a subclass, which may change the
            formulas; a subclass that keeps them (only its constructor differs)
            opts in with ``def compiled(self): return self._compiled_form()``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Quadratic.diagonal([1.0, 4.0]).compiled().scalars
        array([0., 0.])
        """
        if type(self) is not Quadratic:
            return None
        return self._compiled_form()

    def _compiled_form(self):
        has_b = bool(np.any(self.b != 0.0))
        b = self.b if has_b else _compiled.EMPTY
        if self._diag is not None:
            return _compiled.make(_compiled.DIAGONAL_QUADRATIC, self.dim, [self.c, float(has_b)], self._diag, b)
        return _compiled.make(_compiled.DENSE_QUADRATIC, self.dim, [self.c, float(has_b)], self.H.reshape(-1), b)

    def _params(self):
        if self._diag is not None:
            return {"eigenvalues": self._diag}
        return {"H": self.H}


class Rosenbrock(Problem):
    r"""Rosenbrock's banana valley ``L(x, y) = (a - x)^2 + b (y - x^2)^2``.

    Parameters
    ----------
    a : float, optional
        Position of the minimiser ``(a, a^2)`` (default 1).
    b : float > 0, optional
        Steepness of the valley walls (default 100).

    Raises
    ------
    ValueError
        If ``b <= 0``, a parameter is not finite, or ``a^2`` or ``8 b``
        overflows.

    Notes
    -----
    .. math::

        \nabla L = \bigl(-2 (a - x) - 4 b x (y - x^2),\ 2 b (y - x^2)\bigr),
        \qquad
        \nabla^2 L = \begin{pmatrix} 2 - 4 b (y - x^2) + 8 b x^2 & -4 b x \\
                                     -4 b x & 2 b \end{pmatrix}.

    Minimiser ``(a, a^2)`` with ``L = 0``; a curved ravine whose floor is flat
    compared with its walls (Hessian condition number about 2500 at the
    minimiser for ``a = 1, b = 100``).

    References
    ----------
    .. [1] H. H. Rosenbrock, "An automatic method for finding the greatest or
       least value of a function", The Computer Journal 3(3), 175-184, 1960.

    Examples
    --------
    >>> import heavyball as hb
    >>> r = hb.Rosenbrock()
    >>> r.minimizer, float(r.value([0.0, 0.0])), r.grad([0.0, 0.0])
    (array([1., 1.]), 1.0, array([-2.,  0.]))
    """

    name = "rosenbrock"
    dim = 2

    def __init__(self, a=1.0, b=100.0):
        self.a = _v.real("a", a)
        self.b = _v.real("b", b, low=0.0, low_open=True)
        _finite("the minimiser (a, a**2)", {"a": self.a}, lambda: self.a**2)
        _finite("the Hessian's constant 8 b", {"b": self.b}, lambda: 8.0 * self.b)
        self.minimizer = np.array([self.a, self.a**2])
        self.min_value = 0.0

    def _value(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return (self.a - x0) ** 2 + self.b * (x1 - x0**2) ** 2

    def _grad(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        r = x1 - x0**2
        g = np.empty_like(x)
        g[..., 0] = -2.0 * (self.a - x0) - 4.0 * self.b * x0 * r
        g[..., 1] = 2.0 * self.b * r
        return g

    def _hessian(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        h = np.empty(x.shape + (2,))
        h[..., 0, 0] = 2.0 - 4.0 * self.b * (x1 - x0**2) + 8.0 * self.b * x0**2
        h[..., 0, 1] = h[..., 1, 0] = -4.0 * self.b * x0
        h[..., 1, 1] = 2.0 * self.b
        return h

    def compiled(self):
        """The compiled form: ``ROSENBROCK`` with scalars ``[a, b]``.

        Returns
        -------
        CompiledProblem or None
            None for a subclass (it may change the formulas).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Rosenbrock(a=2.0).compiled().scalars
        array([  2., 100.])
        """
        if type(self) is not Rosenbrock:
            return None
        return _compiled.make(_compiled.ROSENBROCK, 2, [self.a, self.b])

    def _params(self):
        return {"a": self.a, "b": self.b}


class DoubleWell(Problem):
    r"""Tilted double well ``L(x, y) = barrier (x^2 - 1)^2 + tilt x + stiffness y^2 / 2``.

    With ``tilt > 0`` the left well (``x < 0``) is the global minimum and the
    right one a local minimum behind a barrier: the scenario in which momentum
    may carry the particle over the hump.

    Parameters
    ----------
    barrier : float > 0, optional
        Height of the hump at ``x = 0`` above the untilted wells (default 1).
    tilt : float, optional
        Linear tilt along ``x`` (default 0.25); ``|tilt| < 8 barrier / (3 sqrt 3)``
        keeps two wells.
    stiffness : float > 0, optional
        Curvature across the well (``y`` direction, default 1).

    Attributes
    ----------
    local_minima : list of ndarray
        Both minima ``(x_i, 0)``, the lower first.
    barrier_point : ndarray
        The saddle ``(x_b, 0)`` between them.
    minimizer : ndarray or None
        The global minimum; None when ``tilt = 0`` (the wells tie).

    Raises
    ------
    ValueError
        If ``barrier`` or ``stiffness`` is not positive, or ``tilt`` is outside
        the two-well range.

    Notes
    -----
    .. math::

        \nabla L = \bigl(4\,\mathrm{barrier}\, x (x^2 - 1) + \mathrm{tilt},\
        \mathrm{stiffness}\, y\bigr), \qquad
        \partial_x^2 L = \mathrm{barrier}\,(12 x^2 - 4).

    The stationary points on ``y = 0`` are the three real roots of
    ``x^3 - x + tilt / (4 barrier) = 0``; the outer two are the minima, the
    middle one the barrier.

    Examples
    --------
    >>> import heavyball as hb
    >>> w = hb.DoubleWell()
    >>> [m.round(6).tolist() for m in w.local_minima], w.barrier_point.round(6)
    ([[-1.029896, 0.0], [0.967149, 0.0]], array([0.062747, 0.      ]))
    """

    name = "double_well"
    dim = 2

    def __init__(self, barrier=1.0, tilt=0.25, stiffness=1.0):
        self.barrier = _v.real("barrier", barrier, low=0.0, low_open=True)
        _finite("the Hessian's constant 12 barrier", {"barrier": self.barrier}, lambda: 12.0 * self.barrier)
        limit = self.barrier * (8.0 / (3.0 * math.sqrt(3.0)))
        self.tilt = _v.real("tilt", tilt)
        if not abs(self.tilt) < limit:
            raise ValueError(f"`tilt` must be in (-{limit:g}, {limit:g}) (|tilt| < 8 barrier / (3 sqrt 3), "
                             f"two wells) for `barrier` = {barrier!r}, got {tilt!r}")
        self.stiffness = _v.real("stiffness", stiffness, low=0.0, low_open=True)
        # Stationary points in x: 4 barrier (x^3 - x) + tilt = 0, divided by 4 barrier.
        roots = np.sort(np.roots([1.0, 0.0, -1.0, self.tilt / (4.0 * self.barrier)]).real)
        minima = [np.array([roots[0], 0.0]), np.array([roots[2], 0.0])]
        minima.sort(key=lambda p: float(self._value(p)))
        self.local_minima = minima
        self.barrier_point = np.array([roots[1], 0.0])
        if self.tilt == 0.0:
            self.minimizer, self.min_value = None, 0.0
        else:
            self.minimizer = minima[0]
            self.min_value = float(self._value(minima[0]))

    def _value(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return self.barrier * (x0**2 - 1.0) ** 2 + self.tilt * x0 + 0.5 * self.stiffness * x1**2

    def _grad(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        g = np.empty_like(x)
        g[..., 0] = 4.0 * self.barrier * x0 * (x0**2 - 1.0) + self.tilt
        g[..., 1] = self.stiffness * x1
        return g

    def _hessian(self, x):
        x0 = x[..., 0]
        h = np.zeros(x.shape + (2,))
        h[..., 0, 0] = self.barrier * (12.0 * x0**2 - 4.0)
        h[..., 1, 1] = self.stiffness
        return h

    def compiled(self):
        """The compiled form: ``DOUBLE_WELL`` with scalars ``[barrier, tilt, stiffness]``.

        Returns
        -------
        CompiledProblem or None
            None for a subclass (it may change the formulas).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.DoubleWell().compiled().scalars
        array([1.  , 0.25, 1.  ])
        """
        if type(self) is not DoubleWell:
            return None
        return _compiled.make(_compiled.DOUBLE_WELL, 2, [self.barrier, self.tilt, self.stiffness])

    def _params(self):
        return {"barrier": self.barrier, "tilt": self.tilt, "stiffness": self.stiffness}


class Saddle(Problem):
    r"""Saddle with bounded-below walls ``L(x, y) = a x^2/2 - b y^2/2 + c y^4/4``.

    Parameters
    ----------
    a : float > 0, optional
        Curvature along ``x`` (default 1).
    b : float > 0, optional
        Negative curvature along ``y`` at the saddle (default 1).
    c : float > 0, optional
        Quartic term that bounds ``L`` below (default 1).

    Attributes
    ----------
    local_minima : list of ndarray
        ``(0, sqrt(b/c))`` and ``(0, -sqrt(b/c))``.
    saddle_point : ndarray
        The origin.

    Raises
    ------
    ValueError
        If a parameter is not positive, or the minima or ``3 c`` overflow.

    Notes
    -----
    .. math::

        \nabla L = (a x,\ -b y + c y^3), \qquad
        \nabla^2 L = \mathrm{diag}(a,\ -b + 3 c y^2).

    The origin is a saddle point (Hessian ``diag(a, -b)``); the minima are
    ``(0, +-sqrt(b/c))`` with ``L = -b^2 / (4c)``. They tie, so ``minimizer``
    is None. A run started on the ``y = 0`` axis stops at the saddle; a small
    ``y`` escapes at the rate ``b``.

    Examples
    --------
    >>> import heavyball as hb
    >>> s = hb.Saddle()
    >>> s.local_minima[0], s.min_value, float(s.value(s.local_minima[0]))
    (array([0., 1.]), -0.25, -0.25)
    """

    name = "saddle"
    dim = 2

    def __init__(self, a=1.0, b=1.0, c=1.0):
        self.a = _v.real("a", a, low=0.0, low_open=True)
        self.b = _v.real("b", b, low=0.0, low_open=True)
        self.c = _v.real("c", c, low=0.0, low_open=True)
        b, c = self.b, self.c
        _finite("the Hessian's constant 3 c", {"c": c}, lambda: 3.0 * c)
        _finite("the minima (0, +-sqrt(b/c)) and their value -b**2 / (4 c)", {"b": b, "c": c},
                lambda: [math.sqrt(b / c), b**2 / (4.0 * c)])
        y = math.sqrt(self.b / self.c)
        self.local_minima = [np.array([0.0, y]), np.array([0.0, -y])]
        self.saddle_point = np.zeros(2)
        self.minimizer = None
        self.min_value = -self.b**2 / (4.0 * self.c)

    def _value(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return 0.5 * self.a * x0**2 - 0.5 * self.b * x1**2 + 0.25 * self.c * x1**4

    def _grad(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        g = np.empty_like(x)
        g[..., 0] = self.a * x0
        g[..., 1] = -self.b * x1 + self.c * x1**3
        return g

    def _hessian(self, x):
        x1 = x[..., 1]
        h = np.zeros(x.shape + (2,))
        h[..., 0, 0] = self.a
        h[..., 1, 1] = -self.b + 3.0 * self.c * x1**2
        return h

    def compiled(self):
        """The compiled form: ``SADDLE`` with scalars ``[a, b, c]``.

        Returns
        -------
        CompiledProblem or None
            None for a subclass (it may change the formulas).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Saddle(b=2.0).compiled().scalars
        array([1., 2., 1.])
        """
        if type(self) is not Saddle:
            return None
        return _compiled.make(_compiled.SADDLE, 2, [self.a, self.b, self.c])

    def _params(self):
        return {"a": self.a, "b": self.b, "c": self.c}


class Plateau(Problem):
    r"""Gaussian well on a plateau ``L(x) = depth (1 - exp(-|x|^2 / (2 width^2)))``.

    Parameters
    ----------
    width : float > 0, optional
        Width ``w`` of the well (default 1).
    depth : float > 0, optional
        Height of the plateau above the minimum (default 1).
    dim : int >= 1, optional
        Dimension (default 2).

    Raises
    ------
    ValueError
        If a parameter is out of range or ``width`` is so small or large that
        ``width^2``, ``1/width^4`` or ``depth/width^2`` overflows.

    Notes
    -----
    .. math::

        \nabla L = \frac{\mathrm{depth}}{w^2} e^{-|x|^2 / 2w^2} x, \qquad
        \nabla^2 L = \mathrm{depth}\, e^{-|x|^2 / 2w^2}
        \Bigl(\frac{I}{w^2} - \frac{x x^T}{w^4}\Bigr).

    Far from the origin the gradient vanishes exponentially: the flat region
    a particle must cross. Minimiser the origin, ``L = 0``.

    Examples
    --------
    >>> import heavyball as hb
    >>> p = hb.Plateau()
    >>> round(float(p.value([3.0, 4.0])), 6), p.grad([1.0, 0.0]).round(6)
    (0.999996, array([0.606531, 0.      ]))
    """

    name = "plateau"

    def __init__(self, width=1.0, depth=1.0, dim=2):
        self.width = _v.real("width", width, low=0.0, low_open=True)
        self.depth = _v.real("depth", depth, low=0.0, low_open=True)
        self.dim = _v.integer("dim", dim, low=1)
        _v.check_size("dim", self.dim, self.dim, "the minimiser", "use a smaller `dim`")
        w, d = self.width, self.depth
        _finite("the constants width**2, width**4 and depth / width**2", {"width": w, "depth": d},
                lambda: [w**2, 1.0 / (w**2) ** 2, d / w**2])
        self.minimizer = np.zeros(self.dim)
        self.min_value = 0.0

    def _bump(self, x):
        return np.exp(-0.5 * np.sum(x * x, axis=-1) / self.width**2)

    def _value(self, x):
        return self.depth * (1.0 - self._bump(x))

    def _grad(self, x):
        return (self.depth / self.width**2) * self._bump(x)[..., None] * x

    def _hessian(self, x):
        w2 = self.width**2
        e = (self.depth * self._bump(x))[..., None, None]
        outer = x[..., :, None] * x[..., None, :]
        return e * (np.eye(self.dim) / w2 - outer / w2**2)

    def compiled(self):
        """The compiled form: ``PLATEAU`` with scalars ``[width**2, depth, depth / width**2]``.

        Returns
        -------
        CompiledProblem or None
            None for a subclass (it may change the formulas).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Plateau(width=2.0).compiled().scalars
        array([4.  , 1.  , 0.25])
        """
        if type(self) is not Plateau:
            return None
        w2 = self.width**2
        return _compiled.make(_compiled.PLATEAU, self.dim, [w2, self.depth, self.depth / w2])

    def _params(self):
        return {"width": self.width, "depth": self.depth, "dim": self.dim}


class LessardCounterexample(Problem):
    r"""The 1-D function on which optimally tuned heavy ball cycles forever.

    Notes
    -----
    Lessard, Recht & Packard (2016), section 4.6: ``mu = 1``, ``L = 25``,

    .. math::

        f(x) = \begin{cases} 25 x^2 / 2 & x < 1 \\
                             x^2/2 + 24 x - 12 & 1 \le x < 2 \\
                             25 x^2/2 - 24 x + 36 & x \ge 2 \end{cases}

    smooth (``C^1`` with a 25-Lipschitz gradient) and 1-strongly convex, with
    minimiser 0. Heavy ball at the quadratic-optimal ``lr = 4 / (sqrt L +
    sqrt mu)^2 = 1/9``, ``beta = ((sqrt kappa - 1) / (sqrt kappa + 1))^2 = 4/9``
    falls into a 3-cycle instead of converging. The class attributes ``mu``
    and ``L`` are these constants; the constructor takes no parameters.

    References
    ----------
    .. [1] L. Lessard, B. Recht and A. Packard, "Analysis and design of
       optimization algorithms via integral quadratic constraints", SIAM
       Journal on Optimization 26(1), 57-95, 2016.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> traj = hb.optimize(hb.LessardCounterexample(), hb.SGD(1 / 9, momentum=4 / 9), [3.3], n_steps=300)
    >>> traj.x[-3:, 0].round(4), bool(np.allclose(traj.x[-3:], traj.x[-6:-3]))
    (array([-1.8024,  2.1159,  0.6465]), True)
    """

    name = "lessard"
    dim = 1
    mu = 1.0
    L = 25.0

    def __init__(self):
        self.minimizer = np.zeros(1)
        self.min_value = 0.0

    def _value(self, x):
        z = x[..., 0]
        return np.where(
            z < 1.0,
            12.5 * z**2,
            np.where(z < 2.0, 0.5 * z**2 + 24.0 * z - 12.0, 12.5 * z**2 - 24.0 * z + 36.0),
        )

    def _grad(self, x):
        z = x[..., 0]
        g = np.where(z < 1.0, 25.0 * z, np.where(z < 2.0, z + 24.0, 25.0 * z - 24.0))
        return g[..., None]

    def _hessian(self, x):
        z = x[..., 0]
        h = np.where((z >= 1.0) & (z < 2.0), 1.0, 25.0)
        return h[..., None, None]


    def compiled(self):
        """The compiled form: ``LESSARD`` (no parameters).

        Returns
        -------
        CompiledProblem or None
            None for a subclass (it may change the formulas).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.LessardCounterexample().compiled().dim
        1
        """
        if type(self) is not LessardCounterexample:
            return None
        return _compiled.make(_compiled.LESSARD, 1)

class CustomProblem(Problem):
    r"""A landscape given by your own functions (a pure-Python path).

    Parameters
    ----------
    dim : int >= 1
        Dimension.
    value, grad : callable
        The loss ``L(x)`` and its gradient. With ``vectorized=False``
        (default) they take one point, ``x`` of shape ``(dim,)``, and return a
        scalar and shape ``(dim,)``; a batch of points (``Problem.value`` on
        ``(..., dim)``, a grid sweep) calls them once per point, in a Python
        loop. With ``vectorized=True`` they take ``x`` of shape ``(..., dim)``
        and return shape ``(...)`` and ``(..., dim)``, and a batch is one call.
    hessian : callable, optional
        ``hessian(x) -> (dim, dim)`` (``(..., dim, dim)`` when vectorized).
    minimizer : array_like, shape (dim,), optional
        The minimiser, if known (default None).
    min_value : float, optional
        The minimum value, if known (default None).
    name : str, optional
        Used in results and in error messages (default ``"custom"``).
    vectorized : bool, optional
        Whether the functions broadcast over leading axes (the keyword of
        :func:`scipy.integrate.solve_ivp`). ``sweep(backend="numpy")`` then
        calls ``grad`` once per step for a whole chunk of grid points instead
        of once per point, tens of times faster.

    Raises
    ------
    TypeError
        If ``value``, ``grad`` or ``hessian`` is not callable.
    ValueError
        For a bad ``dim``, ``minimizer``, ``min_value`` or ``vectorized``
        (and ``vectorized=True`` with Numba-compiled functions); later, for
        any result of the functions that is not what it must be (Notes).

    Notes
    -----
    Every result is checked (:mod:`heavyball._user_functions`): a function
    that raises, returns None, a ragged list, complex numbers or strings, or
    the wrong shape (up to axes of length one; nothing is broadcast, so a
    scalar gradient for ``dim = 2`` is an error) gives a ``ValueError``
    naming the function, the shape it should return and what it returned.
    NaN at a finite point inside the divergence bound (``|x_i| <= 1e50``) is
    an error in the function; ``inf`` is an overflow, reported by the runs as
    divergence (status -1).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> well = hb.CustomProblem(2, lambda x: (x[..., 0]**2 - 1)**2 + 5 * x[..., 1]**2,
    ...                         lambda x: np.stack([4 * x[..., 0] * (x[..., 0]**2 - 1), 10 * x[..., 1]], -1),
    ...                         vectorized=True)
    >>> well.grad(np.zeros((64, 64, 2))).shape          # one call for the whole grid
    (64, 64, 2)
    >>> hb.CustomProblem(2, lambda x: x @ x, lambda x: 2.0).grad([1.0, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: `grad` of problem 'custom' returned shape () for x of shape (2,); it must return an array of shape (2,) (a gradient is not broadcast: give all 2 components)
    """

    def __init__(self, dim, value, grad, hessian=None, minimizer=None, min_value=None, name="custom",
                 vectorized=False):
        self.dim = _v.integer("dim", dim, low=1)
        for arg, fn in (("value", value), ("grad", grad), ("hessian", hessian)):
            if not (callable(fn) or (arg == "hessian" and fn is None)):
                raise _v.InputTypeError(f"`{arg}` must be a callable, got {_v.describe(fn)}")
        if not isinstance(vectorized, (bool, np.bool_)):
            raise ValueError(f"`vectorized` must be True or False, got {vectorized!r}")
        self._f, self._g, self._h = value, grad, hessian
        self.vectorized = bool(vectorized)
        self._jitted = _compiled.is_jitted(value) and _compiled.is_jitted(grad)
        if self._jitted and self.vectorized:
            raise ValueError("`vectorized` must be False for Numba-compiled `value` and `grad`: they take one "
                             "point (value(x) -> float, grad(x, out)) and run in the compiled kernels")
        if self._jitted:  # grad(x, out) fills out: the NumPy paths call both through adapters,
            self._f, self._g = _compiled.PythonValue(value, self.dim), _compiled.PythonGrad(grad, self.dim)
            self._value, self._grad = self._f.batch, self._g.batch  # batches of points in one compiled loop
        self.minimizer = None if minimizer is None else _v.vector("minimizer", minimizer, self.dim)
        self.min_value = None if min_value is None else _v.real("min_value", min_value)
        self.name = str(name)

    def _apply(self, fn, role, x, trailing):
        return _user_functions.evaluate(fn, x, trailing, self.vectorized, role, self.name)

    def _value(self, x):
        return self._apply(self._f, "value", x, ())

    def _grad(self, x):
        return self._apply(self._g, "grad", x, (self.dim,))

    def _hessian(self, x):
        if self._h is None:
            raise NotImplementedError(f"problem {self.name!r} was given no `hessian`")
        return self._apply(self._h, "hessian", x, (self.dim, self.dim))

    def compiled(self):
        """The compiled form when ``value`` and ``grad`` are Numba-compiled, else None.

        Returns
        -------
        CompiledProblem or None
            Built from the user's compiled functions, whose convention is
            ``value(x) -> float`` and ``grad(x, out) -> None`` (see
            :mod:`heavyball._compiled` and ``docs/problems.md``); None for plain
            Python functions, which run on the NumPy paths.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.CustomProblem(1, lambda x: x[0] ** 2, lambda x: 2 * x).compiled() is None
        True
        """
        return _compiled.user_form(self) if self._jitted else None

    def _params(self):
        params = {"dim": self.dim, "name": self.name}
        if self.vectorized:
            params["vectorized"] = True
        return params


def _quadratic(kappa=None, dim=2, mu=1.0, eigenvalues=None, H=None, b=None, c=0.0):
    given = sum(p is not None for p in (kappa, eigenvalues, H))
    if given > 1:
        raise ValueError("give only one of `kappa`, `eigenvalues` and `H` for a quadratic")
    if H is not None:
        return Quadratic(H, b, c)
    if eigenvalues is not None:
        return Quadratic.diagonal(eigenvalues, b, c)
    return Quadratic.from_condition_number(10.0 if kappa is None else kappa, dim, mu)


_REGISTRY = {
    "quadratic": _quadratic,
    "rosenbrock": Rosenbrock,
    "double_well": DoubleWell,
    "saddle": Saddle,
    "plateau": Plateau,
    "lessard": LessardCounterexample,
}


def names():
    """Names accepted by :func:`get` (and the CLI's ``--problem``).

    Returns
    -------
    list of str
        The registered names, sorted (the landscapes of
        :mod:`heavyball.landscapes` register theirs on import).

    Notes
    -----
    The registry maps each name to a factory; ``"quadratic"`` builds
    :meth:`Quadratic.from_condition_number` (or a :class:`Quadratic` from
    ``eigenvalues`` or ``H``), the others their class.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.problems.names()[:4]
    ['double_well', 'drifting_quadratic', 'least_squares', 'lessard']
    """
    return sorted(_REGISTRY)


def factory(name):
    """The callable that :func:`get` calls to build problem ``name``.

    Parameters
    ----------
    name : str
        One of :func:`names`.

    Returns
    -------
    callable
        The registered factory: a :class:`Problem` class, or for
        ``"quadratic"`` a function of ``kappa``, ``dim``, ``mu``,
        ``eigenvalues``, ``H``, ``b`` and ``c``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the choices).

    Notes
    -----
    ``get(name, **params)`` is ``factory(name)(**params)``, with a
    ``ValueError`` for parameters the factory refuses. Its signature lists
    the parameters a problem takes (the explorer builds its controls from
    it).

    Examples
    --------
    >>> import inspect
    >>> import heavyball as hb
    >>> list(inspect.signature(hb.problems.factory("rosenbrock")).parameters)
    ['a', 'b']
    """
    _v.choice("name", name, names())
    return _REGISTRY[name]


def register(name, factory):
    """Add a problem factory under ``name`` (used by modules defining new landscapes)."""
    _REGISTRY[str(name)] = factory


def get(name, **params):
    """Build a registered problem by name.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    **params
        Constructor arguments. ``"quadratic"`` takes ``kappa``, ``dim``,
        ``mu`` (:meth:`Quadratic.from_condition_number`) or ``eigenvalues``,
        ``H``, ``b`` and ``c``; other names take their class's arguments.

    Returns
    -------
    Problem
        The problem built with ``params`` (defaults for the rest).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the choices), an unknown
        keyword, or a parameter its class refuses.

    Notes
    -----
    The same registry serves :func:`~heavyball.optimize` and
    :class:`~heavyball.DampedParticle` when they are given a name, and the
    CLI's ``--problem``.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.problems.get("quadratic", kappa=100, dim=2)
    Quadratic(eigenvalues=array([  1., 100.]))
    >>> hb.problems.get("rosenbrock", b=10.0)
    Rosenbrock(a=1.0, b=10.0)
    """
    _v.choice("name", name, names())
    try:
        return _REGISTRY[name](**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for problem {name!r}: {exc}") from None


def check_problem(name, value):
    """A problem object, or the name of a registered problem built with its defaults.

    Raises
    ------
    ValueError
        For an unknown name (the registered names are listed).
    InputTypeError
        For anything without ``dim``, ``value`` and ``grad``.
    """
    if isinstance(value, str):
        return get(_v.choice(name, value, names()))
    missing = [attr for attr in ("dim", "value", "grad") if not hasattr(value, attr)]
    if missing:
        raise _v.InputTypeError(f"`{name}` must be a problem (with `dim`, `value` and `grad`) or the name of a "
                                f"registered one ({', '.join(names())}); got {_v.describe(value)}, "
                                f"which has no `{missing[0]}`")
    return value


from ._torch_problem import TorchProblem  # noqa: E402  (imports torch only when one is made)
