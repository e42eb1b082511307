r"""Accelerated ODEs: Su-Boyd-Candes (2016) and the high-resolution ODEs (Shi et al. 2021).

Nesterov's method for convex functions (NAG-C), with step ``s`` and momentum
``(k - 1)/(k + 2)``, follows the Su-Boyd-Candes ODE

.. math::

    x'' + \frac{3}{t} x' + \nabla f(x) = 0,\qquad x(0) = x_0,\ x'(0) = 0,

with ``x_k ~ x(k sqrt(s))`` and an error of order ``sqrt(s)``. At that
("low") resolution heavy ball and Nesterov's method for mu-strongly convex
functions (NAG-SC), both with momentum ``(1 - sqrt(mu s))/(1 + sqrt(mu s))``,
share one ODE, ``x'' + 2 sqrt(mu) x' + grad f = 0``. Keeping the terms of order
``sqrt(s)`` (Shi, Du, Jordan & Su 2021) separates them:

==========  ========================================================================================
method      high-resolution ODE
==========  ========================================================================================
heavy ball  ``x'' + 2 sqrt(mu) x' + (1 + sqrt(mu s)) grad f(x) = 0``
NAG-SC      ``x'' + 2 sqrt(mu) x' + sqrt(s) Hess f(x) x' + (1 + sqrt(mu s)) grad f(x) = 0``
NAG-C       ``x'' + (3/t) x' + sqrt(s) Hess f(x) x' + (1 + 3 sqrt(s)/(2t)) grad f(x) = 0``
==========  ========================================================================================

and the iterates track them with an error of order ``s``. Each ODE is a
:class:`~heavyball.DampedParticle` (mass 1, the Hessian term as
``hessian_damping``, the gradient factor as ``gradient_scale``) solved by
:func:`~heavyball.solve_reference`; :func:`accelerated_ode` pairs it with the
map from iteration ``k`` to ODE time and a start consistent with a run that
begins at rest, and :func:`iterates` runs the discrete methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import _validation as _v
from .integrators import integrate
from .reference import solve_reference
from .system import DampedParticle

__all__ = [
    "InverseTime",
    "su_boyd_candes",
    "su_boyd_candes_exact",
    "su_boyd_candes_start",
    "nesterov_momentum",
    "accelerated_momentum",
    "iterates",
    "accelerated_ode",
    "AcceleratedODE",
    "ACCELERATED_METHODS",
]

#: Methods with an accelerated ODE: heavy ball, Nesterov for strongly convex
#: functions (NAG-SC) and Nesterov for convex functions (NAG-C).
ACCELERATED_METHODS = ("heavy_ball", "nag_sc", "nag_c")


class InverseTime:
    """The function ``t -> constant + coefficient / t`` (vectorised, picklable).

    Parameters
    ----------
    coefficient : float
        ``c`` in ``constant + c / t``.
    constant : float, optional
        The constant term (default 0).

    Raises
    ------
    ValueError
        If a parameter is not a finite real number.

    Notes
    -----
    ``InverseTime(3.0)`` is the Su-Boyd-Candes friction ``3/t``;
    ``InverseTime(1.5 * sqrt(s), 1.0)`` the NAG-C gradient scale
    ``1 + 3 sqrt(s)/(2t)``. A class rather than a lambda so that systems built
    from it can be pickled (process pools) and compared. At ``t = 0`` it gives
    ``inf``, which :class:`~heavyball.DampedParticle` refuses.

    Examples
    --------
    >>> from heavyball.odes import InverseTime
    >>> InverseTime(3.0)(2.0), InverseTime(0.5, 1.0)(0.25)
    (1.5, 3.0)
    """

    def __init__(self, coefficient, constant=0.0):
        self.coefficient = _v.real("coefficient", coefficient)
        self.constant = _v.real("constant", constant)

    def __call__(self, t):
        with np.errstate(divide="ignore", invalid="ignore"):  # t = 0 gives inf, rejected by the system
            out = self.constant + self.coefficient / np.asarray(t, dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    def __eq__(self, other):
        return isinstance(other, InverseTime) and (self.coefficient, self.constant) == (
            other.coefficient, other.constant)

    def __hash__(self):
        return hash((InverseTime, self.coefficient, self.constant))

    def __repr__(self):
        if self.constant == 0.0:
            return f"InverseTime({self.coefficient!r})"
        return f"InverseTime({self.coefficient!r}, constant={self.constant!r})"


def su_boyd_candes(problem, r=3.0):
    r"""The Su-Boyd-Candes system ``x'' + (r/t) x' + grad f(x) = 0``.

    Parameters
    ----------
    problem : Problem
        The convex function ``f``.
    r : float > 0, optional
        Friction coefficient (default 3); 3 is Nesterov's method, ``r >= 3``
        keeps the ``O(1/t^2)`` rate.

    Returns
    -------
    DampedParticle
        Mass 1, friction :class:`InverseTime` ``(r)``. It is singular at
        ``t = 0``: start it at ``t0 > 0`` (see :func:`su_boyd_candes_start`).

    Raises
    ------
    ValueError
        If ``r`` is not positive.

    Notes
    -----
    .. math::

        \ddot x + \frac{r}{t} \dot x + \nabla f(x) = 0,

    the limit of Nesterov's method for convex functions (momentum
    ``(k - 1)/(k + r - 1)``) with ``x_k ~ x(k sqrt(s))`` as the step ``s -> 0``.

    References
    ----------
    .. [1] W. Su, S. Boyd and E. J. Candes, "A differential equation for
       modeling Nesterov's accelerated gradient method: theory and insights",
       Journal of Machine Learning Research 17(153), 1-43, 2016.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.odes import su_boyd_candes
    >>> float(su_boyd_candes(hb.Quadratic.diagonal([2.0])).friction_at(1.5))
    2.0
    """
    r = _v.real("r", r, low=0.0, low_open=True)
    return DampedParticle(problem, mass=1.0, friction=InverseTime(r))


def _phi(nu, z):
    r"""``Gamma(nu + 1) (2/z)^nu J_nu(z)``, equal to 1 at ``z = 0`` (``z >= 0``)."""
    from scipy import special  # (here: SciPy's import costs ``import heavyball`` 0.4 s)

    z = np.asarray(z, dtype=np.float64)
    small = z < 1e-4  # there the series 1 - z^2/(4(nu+1)) is exact to rounding
    zs = np.where(small, 1.0, z)
    with np.errstate(all="ignore"):
        far = special.gamma(nu + 1.0) * (2.0 / zs) ** nu * special.jv(nu, zs)
    return np.where(small, 1.0 - z * z / (4.0 * (nu + 1.0)), far)


def su_boyd_candes_exact(problem, x0, t, r=3.0):
    r"""Exact solution of ``x'' + (r/t) x' + grad f = 0`` from rest on a quadratic.

    Parameters
    ----------
    problem : Quadratic
        ``f(x) = 1/2 x^T H x - b^T x + c`` with a minimiser.
    x0 : array_like, shape (dim,)
        ``x(0)``; ``x'(0) = 0``.
    t : array_like, shape (n,)
        Times ``>= 0``.
    r : float > 0, optional
        Friction coefficient (default 3).

    Returns
    -------
    x, v : ndarray, shape (n, dim)
        Position and velocity.

    Notes
    -----
    Per eigenvalue ``lambda`` of ``H``, with ``z = sqrt(lambda) t`` and
    ``nu = (r - 1)/2``, the deviation from the minimiser ``x*`` is

    .. math::

        x(t) - x^* = (x_0 - x^*)\, \Gamma(\nu + 1) (2/z)^\nu J_\nu(z),
        \qquad x'(t) = -(x_0 - x^*) \frac{\lambda t}{r + 1}
        \Gamma(\nu + 2) (2/z)^{\nu + 1} J_{\nu + 1}(z);

    for ``r = 3``, ``x(t) - x* = 2 (x_0 - x*) J_1(z)/z``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.odes import su_boyd_candes_exact
    >>> x, v = su_boyd_candes_exact(hb.Quadratic.diagonal([2.0]), [1.0], [1.0, 5.0, 10.0, 20.0])
    >>> x[:, 0].round(6).tolist()
    [0.769987, 0.004689, 0.021894, 0.007327]
    """
    lam, basis, xstar = _quadratic_modes(problem)
    x0 = _v.vector("x0", x0, problem.dim)
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"`t` must be a 1-D array of finite times >= 0, got {t!r}")
    r = _v.real("r", r, low=0.0, low_open=True)
    nu = 0.5 * (r - 1.0)
    c0 = (x0 - xstar) if basis is None else basis.T @ (x0 - xstar)
    z = np.sqrt(lam)[None, :] * t[:, None]
    modes_x = c0 * _phi(nu, z)
    modes_v = -c0 * lam * t[:, None] / (r + 1.0) * _phi(nu + 1.0, z)
    if basis is not None:
        modes_x, modes_v = modes_x @ basis.T, modes_v @ basis.T
    return xstar + modes_x, modes_v


def _quadratic_modes(problem):
    """Eigenvalues, eigenvectors (None when diagonal) and minimiser of a quadratic."""
    from .problems import Quadratic

    if not isinstance(problem, Quadratic) or problem.minimizer is None:
        raise ValueError("`problem` must be a Quadratic with a minimiser (b in the range of H)")
    if problem.is_diagonal:
        return np.maximum(problem.hessian_diagonal, 0.0), None, problem.minimizer
    lam, basis = np.linalg.eigh(problem.H)
    return np.maximum(lam, 0.0), basis, problem.minimizer


def su_boyd_candes_start(problem, x0, t0, r=3.0):
    """State at a small ``t0 > 0`` of the Su-Boyd-Candes solution started at rest at 0.

    The ODE is singular at ``t = 0``; this series lets
    :func:`~heavyball.solve_reference` start just after it.

    Parameters
    ----------
    problem : Problem
        The function ``f`` (its ``grad`` at ``x0`` is used).
    x0 : array_like, shape (dim,)
        ``x(0)``; ``x'(0) = 0``.
    t0 : float > 0
        The (small) start time.
    r : float > 0, optional
        Friction coefficient (default 3).

    Returns
    -------
    x, v : ndarray, shape (dim,)
        Position and velocity at ``t0``.

    Raises
    ------
    ValueError
        For a bad ``x0``, ``t0 <= 0`` or ``r <= 0``.

    Notes
    -----
    ``x(t) = x0 - t^2 grad f(x0) / (2 (r + 1)) + O(t^4)`` and
    ``x'(t) = -t grad f(x0) / (r + 1) + O(t^3)``, from matching powers of ``t``
    in ``x'' + (r/t) x' = -grad f(x)``. With ``r = 3`` the Lyapunov function
    ``t^2 (f(x) - f*) + 2 |x + t x'/2 - x*|^2`` at ``t0`` is then at most
    ``2 |x0 - x*|^2 + O(t0^4)`` on a convex ``f``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.odes import su_boyd_candes_start
    >>> su_boyd_candes_start(hb.Quadratic.diagonal([2.0]), [1.0], 0.1)
    (array([0.9975]), array([-0.05]))
    """
    x0 = _v.vector("x0", x0, problem.dim)
    t0 = _v.real("t0", t0, low=0.0, low_open=True)
    r = _v.real("r", r, low=0.0, low_open=True)
    g = np.asarray(problem.grad(x0), dtype=np.float64)
    return x0 - (t0 * t0 / (2.0 * (r + 1.0))) * g, -(t0 / (r + 1.0)) * g


def nesterov_momentum(k, r=3.0):
    """Nesterov's momentum ``(k - 1)/(k + r - 1)`` in Su-Boyd-Candes counting (``k = 1, 2, ...``).

    Parameters
    ----------
    k : float >= 1
        Iteration number (1 for the first step).
    r : float > 0, optional
        Friction coefficient of the ODE (default 3).

    Returns
    -------
    float
        ``(k - 1)/(k + r - 1)``; ``(k - 1)/(k + 2)`` for ``r = 3``.

    Raises
    ------
    ValueError
        If ``k < 1`` or ``r <= 0``.

    Notes
    -----
    The scheme is ``x_k = y_{k-1} - s grad f(y_{k-1})``,
    ``y_k = x_k + nesterov_momentum(k) (x_k - x_{k-1})``, ``y_0 = x_0``.
    :func:`iterates` runs it exactly.

    Onto ``optimize(problem, SGD(s, nesterov=True), ...)``, whose
    ``momentum_schedule`` counts steps ``j`` from 0, the momentum of step ``j``
    is that of ``k = j + 1``: ``momentum_schedule=lambda j: nesterov_momentum(j + 1)``
    (``j/(j + 3)``). Its first value is 0, and PyTorch keeps no buffer on a
    step whose momentum is 0, so the first buffer is the gradient of step 1:
    that is what makes PyTorch's iterates equal ``y_1`` and ``y_2``. From step
    2 on they differ at order ``s``: PyTorch uses one momentum per step both
    to decay its buffer and to look ahead, where the scheme decays with
    ``(k-1)/(k+2)`` and looks ahead with ``k/(k+3)``. Both track the ODE with
    an error of order ``sqrt(s)``.

    References
    ----------
    .. [1] W. Su, S. Boyd and E. J. Candes, "A differential equation for
       modeling Nesterov's accelerated gradient method: theory and insights",
       Journal of Machine Learning Research 17(153), 1-43, 2016.

    Examples
    --------
    >>> from heavyball.odes import nesterov_momentum
    >>> [nesterov_momentum(k) for k in (1, 2, 3)]
    [0.0, 0.25, 0.4]
    """
    k = _v.real("k", k, low=1.0)
    r = _v.real("r", r, low=0.0, low_open=True)
    return (k - 1.0) / (k + r - 1.0)


def accelerated_momentum(mu, lr):
    r"""Momentum ``(1 - sqrt(mu s))/(1 + sqrt(mu s))`` of heavy ball and NAG-SC in Shi et al.

    Parameters
    ----------
    mu : float > 0
        Strong-convexity modulus.
    lr : float > 0
        Step ``s``, with ``mu s < 1``.

    Returns
    -------
    float
        The momentum ``beta``, in ``(0, 1)``.

    Raises
    ------
    ValueError
        If ``mu`` or ``lr`` is not positive, or ``mu * lr >= 1``.

    Notes
    -----
    .. math::

        \beta = \frac{1 - \sqrt{\mu s}}{1 + \sqrt{\mu s}},

    so ``1 - beta = 2 sqrt(mu s) / (1 + sqrt(mu s))``: with ``h = sqrt(s)``
    the friction ``(1 - beta)/h`` tends to ``2 sqrt(mu)``, the critical damping
    of the slowest mode of the low-resolution ODE.

    References
    ----------
    .. [1] B. Shi, S. S. Du, M. I. Jordan and W. J. Su, "Understanding the
       acceleration phenomenon via high-resolution differential equations",
       Mathematical Programming 195, 79-148, 2022.

    Examples
    --------
    >>> from heavyball.odes import accelerated_momentum
    >>> accelerated_momentum(1.0, 0.01)  # (1 - 0.1)/(1 + 0.1)
    0.8181818181818181
    """
    mu = _v.real("mu", mu, low=0.0, low_open=True)
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    if mu * lr >= 1.0:
        raise ValueError(f"`mu` * `lr` must be < 1 for a momentum in (0, 1), got {mu * lr!r}")
    q = math.sqrt(mu * lr)
    return (1.0 - q) / (1.0 + q)


def iterates(method, problem, x0, lr, n_steps, *, mu=None):
    r"""Run heavy ball, NAG-SC or NAG-C from rest; the iterates ``x_k`` the ODEs model.

    Parameters
    ----------
    method : {"heavy_ball", "nag_sc", "nag_c"}
        The method.
    problem : Problem
        The function ``f``.
    x0 : array_like, shape (dim,)
        Starting point (at rest: ``x_{-1} = x_0``).
    lr : float > 0
        Step ``s``.
    n_steps : int >= 0
        Number of iterations.
    mu : float > 0, optional
        Needed by ``"heavy_ball"`` and ``"nag_sc"`` (their momentum is
        :func:`accelerated_momentum` ``(mu, s)``); not used by ``"nag_c"``.

    Returns
    -------
    Trajectory
        ``t`` is the iteration index ``k``; ``x`` the iterates ``x_k``
        (for the Nesterov methods the gradient-step sequence, not the
        look-ahead ``y_k``); ``v`` the physical velocity ``(x_k - x_{k-1})/sqrt(s)``.

    Notes
    -----
    Each is a scheme of :func:`~heavyball.integrate` with mass 1 and step
    ``h = sqrt(s)``, so these are the library's own exact maps: heavy ball is
    symplectic Euler with friction ``(1 - beta)/h``; NAG-SC the look-ahead
    scheme with the same friction; NAG-C the look-ahead scheme with friction
    ``3/t`` started at ``t0 = 2h``, whose ``beta = 1 - 3h/t`` at
    ``t = (k + 2) h`` is ``(k - 1)/(k + 2)`` (:func:`nesterov_momentum`).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.odes import iterates
    >>> traj = iterates("nag_c", hb.Quadratic.diagonal([1.0]), [1.0], 0.25, 2)
    >>> traj.x[:, 0].tolist()  # x1 = 0.75; y1 = x1; x2 = 0.75 * 0.75
    [1.0, 0.75, 0.5625]
    """
    _v.choice("method", method, ACCELERATED_METHODS)
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    h = math.sqrt(lr)
    if method == "nag_c":
        system, scheme, t0 = su_boyd_candes(problem), "nesterov", 2.0 * h
    else:
        beta = accelerated_momentum(_need_mu(method, mu), lr)
        scheme = "symplectic_euler" if method == "heavy_ball" else "nesterov"
        system, t0 = DampedParticle(problem, 1.0, (1.0 - beta) / h), 0.0
    traj = integrate(system, x0, method=scheme, step=h, n_steps=n_steps, t0=t0)
    k = np.rint((traj.t - t0) / h)
    return replace(traj, t=k, step=1.0, method=method)


def _need_mu(method, mu):
    if mu is None:
        raise ValueError(f"method {method!r} needs `mu` (> 0), the strong-convexity modulus")
    return _v.real("mu", mu, low=0.0, low_open=True)


@dataclass(frozen=True)
class AcceleratedODE:
    """An ODE model of an accelerated method, with its clock and its start.

    Built by :func:`accelerated_ode`; the fields are its results.

    Parameters
    ----------
    system : DampedParticle
        The ODE (mass 1; Hessian damping and gradient scale at high
        resolution).
    method : str
        ``"heavy_ball"``, ``"nag_sc"`` or ``"nag_c"``.
    resolution : {"low", "high"}
        Which ODE.
    lr : float
        The step ``s`` of the method modelled.
    t_start : float
        ODE time at which the solution starts (:meth:`initial_state`).
    time_offset : float
        ``c`` in the clock ``t_k = (k + c) sqrt(s)`` (:meth:`time_of`).

    Notes
    -----
    Iterate ``x_k`` is compared with ``x(t_k)``, ``t_k = (k + time_offset)
    sqrt(lr)``; the ODE starts at ``t_start`` from :meth:`initial_state`. The
    high-resolution ODE tracks the iterates to order ``s``, the low-resolution
    one to order ``sqrt(s)`` (Shi et al. 2022).

    References
    ----------
    .. [1] B. Shi, S. S. Du, M. I. Jordan and W. J. Su, "Understanding the
       acceleration phenomenon via high-resolution differential equations",
       Mathematical Programming 195, 79-148, 2022.

    Examples
    --------
    Heavy ball follows its high-resolution ODE to order ``s``, the shared
    low-resolution one only to order ``sqrt(s)``:

    >>> import heavyball as hb
    >>> from heavyball.odes import accelerated_ode, iterates
    >>> q = hb.Quadratic.diagonal([1.0, 10.0])
    >>> run = iterates("heavy_ball", q, [1.0, 1.0], 1e-3, 100, mu=1.0)  # up to t = 3.2
    >>> high = accelerated_ode("heavy_ball", q, 1e-3, mu=1.0).tracking_error(run)
    >>> low = accelerated_ode("heavy_ball", q, 1e-3, mu=1.0, resolution="low").tracking_error(run)
    >>> bool(high < 2e-3), bool(low > 20 * high)
    (True, True)
    """

    system: DampedParticle
    method: str
    resolution: str
    lr: float
    t_start: float
    time_offset: float

    def time_of(self, k):
        """ODE time ``(k + time_offset) sqrt(lr)`` of iterate ``k``.

        Parameters
        ----------
        k : float or array_like
            Iteration index (indices).

        Returns
        -------
        ndarray
            ``t_k``, of the shape of ``k`` (0-d for a scalar).

        Examples
        --------
        >>> import heavyball as hb
        >>> from heavyball.odes import accelerated_ode
        >>> accelerated_ode("nag_c", hb.Quadratic.diagonal([1.0]), 0.01).time_of([1, 2])  # (k + 1/2) 0.1
        array([0.15, 0.25])
        """
        return (np.asarray(k, dtype=np.float64) + self.time_offset) * math.sqrt(self.lr)

    def initial_state(self, x0):
        """``(x, v)`` at ``t_start`` consistent with a run started at rest at ``x0``.

        Parameters
        ----------
        x0 : array_like, shape (dim,)
            The method's starting point (``x_{-1} = x_0``: at rest).

        Returns
        -------
        x, v : ndarray, shape (dim,)
            Position and velocity of the ODE at ``t_start``.

        Notes
        -----
        Heavy ball and NAG-SC (high resolution): ``x = x0``,
        ``v = -(sqrt(s)/2) grad f(x0)``. Started at rest (``x_{-1} = x_0``),
        ``(x_k - x_{k-1})/sqrt(s)`` is the velocity half a step back, so
        ``x'(-sqrt(s)/2) = 0`` and ``x'(0) = -(sqrt(s)/2) grad f(x0) + O(s)``.
        NAG-C (high): the initial conditions of Shi et al., ``x = x0``,
        ``v = -sqrt(s) grad f(x0)`` at ``t = 3 sqrt(s)/2``. Low resolution:
        rest, through :func:`su_boyd_candes_start` for NAG-C.

        Examples
        --------
        >>> import heavyball as hb
        >>> from heavyball.odes import accelerated_ode
        >>> ode = accelerated_ode("heavy_ball", hb.Quadratic.diagonal([1.0, 4.0]), 0.01, mu=1.0)
        >>> ode.initial_state([1.0, 1.0])  # v = -(0.1 / 2) grad f
        (array([1., 1.]), array([-0.05, -0.2 ]))
        """
        x0 = _v.vector("x0", x0, self.system.dim)
        g = np.asarray(self.system.problem.grad(x0), dtype=np.float64)
        h = math.sqrt(self.lr)
        if self.resolution == "low":
            if self.method == "nag_c":
                return su_boyd_candes_start(self.system.problem, x0, self.t_start)
            return x0, np.zeros_like(x0)
        return x0, -(h if self.method == "nag_c" else 0.5 * h) * g

    def solve(self, x0, n_steps, *, rtol=1e-11, atol=1e-13):
        """Solve the ODE and sample it at the times of iterates ``k <= n_steps``.

        Parameters
        ----------
        x0 : array_like, shape (dim,)
            The method's starting point.
        n_steps : int >= 1
            Last iterate to sample.
        rtol, atol : float, optional
            Tolerances of :func:`~heavyball.solve_reference` (defaults ``1e-11``,
            ``1e-13``).

        Returns
        -------
        Trajectory
            From :func:`~heavyball.solve_reference`, at ``t_k`` for every
            ``k`` with ``t_k >= t_start`` (all ``k`` except ``k = 0`` of NAG-C).

        Examples
        --------
        >>> import heavyball as hb
        >>> from heavyball.odes import accelerated_ode
        >>> ode = accelerated_ode("heavy_ball", hb.Quadratic.diagonal([1.0, 4.0]), 0.01, mu=1.0)
        >>> ref = ode.solve([1.0, 1.0], 3)
        >>> ref.t, ref.status
        (array([0. , 0.1, 0.2, 0.3]), 0)
        """
        n = _v.integer("n_steps", n_steps, low=1)
        t = self.time_of(np.arange(n + 1))
        t = t[t >= self.t_start * (1.0 - 1e-12)]
        t[0] = max(t[0], self.t_start)
        x, v = self.initial_state(x0)
        return solve_reference(self.system, x, v, t_span=(self.t_start, t[-1]), t_eval=t,
                               rtol=rtol, atol=atol)

    def tracking_error(self, iterates_traj, *, rtol=1e-11, atol=1e-13):
        """``max_k |x_k - x(t_k)|`` between a run of :func:`iterates` and this ODE.

        Parameters
        ----------
        iterates_traj : Trajectory
            From :func:`iterates` (``t`` the iteration index, every step
            recorded), started at rest at ``iterates_traj.x[0]``.
        rtol, atol : float, optional
            Tolerances of the ODE solve (defaults ``1e-11``, ``1e-13``).

        Returns
        -------
        float
            The largest Euclidean distance between an iterate and the ODE at its
            time.

        Raises
        ------
        RuntimeError
            If the ODE solve fails.

        Examples
        --------
        >>> import heavyball as hb
        >>> from heavyball.odes import accelerated_ode, iterates
        >>> q = hb.Quadratic.diagonal([1.0, 4.0])
        >>> run = iterates("heavy_ball", q, [1.0, 1.0], 0.01, 10, mu=1.0)
        >>> round(accelerated_ode("heavy_ball", q, 0.01, mu=1.0).tracking_error(run), 4)
        0.0067
        """
        k = np.asarray(iterates_traj.t)
        ref = self.solve(iterates_traj.x[0], int(k[-1]), rtol=rtol, atol=atol)
        if ref.status != 0:
            raise RuntimeError(f"the ODE solve failed: {ref.message}")
        xs = iterates_traj.x[len(k) - len(ref.t):]
        return float(np.max(np.linalg.norm(xs - ref.x, axis=1)))


def accelerated_ode(method, problem, lr, *, mu=None, resolution="high"):
    """The low- or high-resolution ODE of heavy ball, NAG-SC or NAG-C with step ``lr``.

    Parameters
    ----------
    method : {"heavy_ball", "nag_sc", "nag_c"}
        The method modelled.
    problem : Problem
        The function ``f``; needs ``hessian`` for NAG-SC and NAG-C at high
        resolution.
    lr : float > 0
        Step ``s`` of the method.
    mu : float > 0, optional
        Strong-convexity modulus (heavy ball and NAG-SC; NAG-C takes none).
    resolution : {"high", "low"}, optional
        Which ODE (default ``"high"``).

    Returns
    -------
    AcceleratedODE
        The system with its clock ``t_k`` and its start.

    Raises
    ------
    ValueError
        For an unknown method or resolution, ``lr <= 0``, a missing ``mu``
        (heavy ball, NAG-SC), a ``mu`` given to NAG-C, or ``mu * lr >= 1``.

    Notes
    -----
    ==========  =====================================================  ======================
    method      high resolution (low: drop the ``sqrt(s)`` terms)      ``t_k`` (high; low)
    ==========  =====================================================  ======================
    heavy_ball  ``x'' + 2 sqrt(mu) x' + (1 + sqrt(mu s)) grad f = 0``  ``k sqrt(s)``; same
    nag_sc      adds ``sqrt(s) Hess f(x) x'``                          ``k sqrt(s)``; same
    nag_c       ``x'' + (3/t) x' + sqrt(s) Hess f(x) x'``              ``(k + 1/2) sqrt(s)``;
                ``+ (1 + 3 sqrt(s)/(2t)) grad f = 0``                  ``k sqrt(s)``
    ==========  =====================================================  ======================

    The NAG-C clock follows from a Taylor expansion of the scheme about
    ``t_k``: with ``t_k = (k + c) sqrt(s)`` its friction is
    ``3/t + 3 (c - 1/2) sqrt(s)/t^2 + O(s)``, so only ``c = 1/2`` gives
    ``3/t``; the start ``t = 3 sqrt(s)/2`` of Shi et al. is then iterate 1.

    References
    ----------
    .. [1] B. Shi, S. S. Du, M. I. Jordan and W. J. Su, "Understanding the
       acceleration phenomenon via high-resolution differential equations",
       Mathematical Programming 195, 79-148, 2022.
    .. [2] W. Su, S. Boyd and E. J. Candes, "A differential equation for
       modeling Nesterov's accelerated gradient method: theory and insights",
       Journal of Machine Learning Research 17(153), 1-43, 2016.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.odes import accelerated_ode
    >>> ode = accelerated_ode("nag_sc", hb.Quadratic.diagonal([1.0, 100.0]), 1e-4, mu=1.0)
    >>> ode.system.friction, ode.system.hessian_damping, ode.system.gradient_scale
    (2.0, 0.01, 1.01)
    >>> float(ode.time_of(3))  # iterate 3 at 3 sqrt(s)
    0.03
    """
    _v.choice("method", method, ACCELERATED_METHODS)
    _v.choice("resolution", resolution, ("high", "low"))
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    h = math.sqrt(lr)
    high = resolution == "high"
    if method == "nag_c":
        if mu is not None:
            raise ValueError("method 'nag_c' takes no `mu` (its ODE is for convex f); got mu = " f"{mu!r}")
        if not high:
            return AcceleratedODE(su_boyd_candes(problem), method, resolution, lr, 1e-3 * h, 0.0)
        system = DampedParticle(problem, 1.0, InverseTime(3.0), hessian_damping=h,
                                gradient_scale=InverseTime(1.5 * h, 1.0))
        return AcceleratedODE(system, method, resolution, lr, 1.5 * h, 0.5)
    mu = _need_mu(method, mu)
    accelerated_momentum(mu, lr)  # validates mu s < 1
    friction = 2.0 * math.sqrt(mu)
    if not high:
        return AcceleratedODE(DampedParticle(problem, 1.0, friction), method, resolution, lr, 0.0, 0.0)
    system = DampedParticle(problem, 1.0, friction, hessian_damping=h if method == "nag_sc" else 0.0,
                            gradient_scale=1.0 + math.sqrt(mu * lr))
    return AcceleratedODE(system, method, resolution, lr, 0.0, 0.0)
