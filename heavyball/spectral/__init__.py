r"""Spectral analysis of gradient methods on quadratics: every rate before a single step.

On ``L(x) = 1/2 x^T H x - b^T x`` gradient descent, heavy ball and Nesterov
are linear maps of the error ``x_k - x*``. In the eigenbasis of ``H`` they
split into independent modes, one per eigenvalue ``lambda``, each a scalar
recurrence ``e_{k+1} = T e_k - D e_{k-1}`` with characteristic polynomial
``s^2 - T s + D``. Its roots say how fast the mode decays (their modulus),
whether it oscillates (complex roots), flips sign every step (negative real
roots) or diverges (modulus >= 1). With ``a = lr lambda``:

==============  ==============================================  =====================================
method          per-mode polynomial                             PyTorch
==============  ==============================================  =====================================
``gd``          ``s - (1 - a)``                                 ``SGD(lr)``
``heavy_ball``  ``s^2 - (1 + beta - a) s + beta``               ``SGD(lr, momentum=beta)``
``nesterov``    ``s^2 - (1 + beta)(1 - a) s + beta (1 - a)``    ``SGD(lr, beta, nesterov=True)``
==============  ==============================================  =====================================

For Nesterov the iterate is PyTorch's, the look-ahead point.

Import as a submodule: ``from heavyball import spectral``.

Numerical note: at the optimal parameters the extreme modes have a double
root. A double root moves by ``O(sqrt(perturbation))`` when the coefficients
are rounded, so *any* method (this module's closed forms, ``numpy.roots`` or a
dense eigen-solve) sees it only to about ``sqrt(eps) ~ 1e-8``. The analytic
rates of :func:`optimal_parameters` and :func:`rate_table` are therefore
computed from their exact closed forms, not from roots.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from ._modes import (
    check_eigenvalues,
    check_hessian,
    check_method,
    check_rates,
    dominant_modulus,
    finite_or_raise,
    optimizer_coefficients,
    roots_from_coefficients,
)
from ._physical import (
    ContinuousLimit,
    continuous_limit,
    continuous_roots,
    physical_iteration_matrix,
    physical_mode_roots,
    physical_spectral_radius,
)
from ._regions import REGIMES, Curve, RegimeBoundaries, convergence_region, regime, regime_boundaries
from ._time import TransientGrowth, empirical_rate, half_life, memory_window, transient_growth

__all__ = [
    "iteration_matrix",
    "physical_iteration_matrix",
    "mode_roots",
    "physical_mode_roots",
    "spectral_radius",
    "physical_spectral_radius",
    "optimal_parameters",
    "OptimalParameters",
    "rate_table",
    "RateRow",
    "empirical_rate",
    "continuous_roots",
    "continuous_limit",
    "ContinuousLimit",
    "transient_growth",
    "TransientGrowth",
    "half_life",
    "memory_window",
    "regime",
    "REGIMES",
    "regime_boundaries",
    "RegimeBoundaries",
    "Curve",
    "convergence_region",
]


# ----------------------------------------------------------------------------- matrices and roots

def iteration_matrix(H, lr, momentum=0.0, method="heavy_ball"):
    r"""The linear map of the error of GD, heavy ball or Nesterov on a quadratic.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
        Learning rate of the PyTorch optimiser.
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The PyTorch ``SGD`` variant (plain, ``momentum=beta``, ``nesterov=True``).

    Returns
    -------
    ndarray, shape (2n, 2n) (``(n, n)`` for ``"gd"``)
        ``R`` with ``[e_{k+1}, e_k] = R [e_k, e_{k-1}]``, ``e_k = x_k - x*``,
        ``x_k`` the iterate of the PyTorch optimiser (for Nesterov, the
        look-ahead point).

    Notes
    -----
    * GD: ``R = I - lr H``.
    * Heavy ball: ``R = [[(1 + beta) I - lr H, -beta I], [I, 0]]``, from
      ``x_{k+1} = x_k - lr g_k + beta (x_k - x_{k-1})``.
    * Nesterov: ``R = [[(1 + beta)(I - lr H), -beta (I - lr H)], [I, 0]]``,
      from ``x_{k+1} = x_k - lr (1 + beta) g_k + beta (x_k - x_{k-1}) + beta lr g_{k-1}``.

    PyTorch's first step (buffer ``= g_0``) fits these with ``e_{-1} = e_0``
    for heavy ball but not for Nesterov, whose first step is
    ``x_1 = x_0 - lr (1 + beta) g_0``; from ``k = 1`` on both obey ``R``.
    The updates are those of ``torch.optim.SGD`` [1]_.

    References
    ----------
    .. [1] PyTorch documentation, ``torch.optim.SGD``.
       https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import spectral
    >>> R = spectral.iteration_matrix(np.diag([1.0, 4.0]), lr=0.1, momentum=0.5)
    >>> R.shape
    (4, 4)
    >>> R[0]
    array([ 1.4,  0. , -0.5,  0. ])
    """
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    H = check_hessian(H)
    I = np.eye(H.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        step = finite_or_raise(I - lr * H, "`lr` times `H`")
    if method == "gd":
        return step
    if method == "heavy_ball":
        top = [(1.0 + beta) * I - lr * H, -beta * I]
    else:
        top = [(1.0 + beta) * step, -beta * step]
    with np.errstate(over="ignore", invalid="ignore"):
        R = finite_or_raise(np.block([top, [I, np.zeros_like(I)]]), "the iteration matrix")
    return R + 0.0  # + 0.0 turns -0.0 into 0.0


def mode_roots(eigenvalues, lr, momentum=0.0, method="heavy_ball"):
    r"""Roots of each mode's characteristic polynomial, in closed form.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues (any real numbers; negative ones are saddle
        directions).
    lr : float >= 0
        Learning rate.
    momentum : float
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        As in :func:`iteration_matrix`.

    Returns
    -------
    ndarray, complex, shape (n, 2) (``(2,)`` for a scalar eigenvalue)
        Column 0 the root of larger modulus (of a complex pair, the one with
        ``Im >= 0``), column 1 the other. For ``"gd"`` column 1 is 0: the
        roots are those of ``s (s - (1 - lr lambda))``, heavy ball at momentum
        0, so that all methods share one shape.

    Raises
    ------
    ValueError
        For ``lr < 0``, non-finite eigenvalues, a non-zero momentum with
        ``"gd"``, an unknown method, or a mode polynomial overflowing float64.
    TypeError
        For non-real inputs (strings, booleans, complex numbers).

    Notes
    -----
    Heavy ball ``s^2 - (1 + beta - a) s + beta``; Nesterov
    ``s^2 - (1 + beta)(1 - a) s + beta (1 - a)``, ``a = lr lambda``. Complex
    roots are ``T/2 +- i sqrt(4 D - T^2)/2``; real ones
    ``q = (T + sign(T) sqrt(T^2 - 4 D))/2`` and ``D/q`` (no cancellation).
    Near a double root every method, this one included, is only
    ``sqrt(eps)``-accurate: the roots themselves are that sensitive to the
    rounding of ``lr`` and ``momentum``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> z = spectral.mode_roots(1.0, lr=0.5, momentum=0.81)
    >>> z.round(6), abs(z).round(12)  # a complex pair of modulus sqrt(0.81)
    (array([0.655+0.617232j, 0.655-0.617232j]), array([0.9, 0.9]))
    >>> spectral.mode_roots([1.0, 3.0], lr=0.5, method="gd", momentum=0.0).real
    array([[ 0.5,  0. ],
           [-0.5,  0. ]])
    """
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    lam, scalar = check_eigenvalues(eigenvalues)
    roots = roots_from_coefficients(*optimizer_coefficients(lam, lr, beta, method))
    return roots[0] if scalar else roots


def spectral_radius(eigenvalues, lr, momentum=0.0, method="heavy_ball"):
    r"""Largest root modulus over the modes: the asymptotic rate per step.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues.
    lr : float >= 0
        Learning rate.
    momentum : float
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        As in :func:`iteration_matrix`.

    Returns
    -------
    float
        ``max_i max |s|`` over the roots of mode ``i``; the iteration
        converges from every start iff it is ``< 1``. Equal to the spectral
        radius of :func:`iteration_matrix`, at ``O(n)`` cost once the
        eigenvalues are known (no ``2n x 2n`` eigen-solve).

    Raises
    ------
    ValueError
        As :func:`mode_roots`.

    Notes
    -----
    Per mode, with ``disc = T^2 - 4 D`` in the factored forms of the module
    notes: ``sqrt(D)`` (the square root of the product of the roots) when
    ``disc <= 0``, else ``(|T| + sqrt(disc))/2``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.spectral_radius([1.0, 30.0, 100.0], lr=0.02, momentum=0.9)  # all complex: sqrt(0.9)
    0.9486832980505138
    """
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    lam, _ = check_eigenvalues(eigenvalues)
    return float(np.max(dominant_modulus(*optimizer_coefficients(lam, lr, beta, method))))


# ----------------------------------------------------------------------------- optimal tuning

class OptimalParameters(NamedTuple):
    r"""``(lr, momentum, rate)``: a tuning and the spectral radius it achieves on ``[mu, L]``.

    Parameters
    ----------
    lr : float
        Learning rate.
    momentum : float
        ``beta`` (0 for gradient descent).
    rate : float
        Worst-case spectral radius over eigenvalues in ``[mu, L]``.

    Notes
    -----
    Returned by :func:`optimal_parameters`; a plain named tuple, so it
    unpacks as ``lr, beta, rate = ...``. ``rate^k`` bounds the asymptotic
    error reduction after ``k`` steps on every quadratic with spectrum in
    ``[mu, L]``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> p = spectral.optimal_parameters(1.0, 9.0, "gd")
    >>> p.lr, p.momentum, p.rate  # 2/(L + mu), 0, (L - mu)/(L + mu)
    (0.2, 0.0, 0.8)
    """

    lr: float
    momentum: float
    rate: float


def optimal_parameters(mu, L, method):
    r"""Classical tunings for a quadratic with eigenvalues in ``[mu, L]``.

    Parameters
    ----------
    mu, L : float, ``0 < mu <= L``
        Smallest and largest Hessian eigenvalue (strong convexity and
        smoothness constants).
    method : {"gd", "heavy_ball", "nesterov"}
        Which tuning.

    Returns
    -------
    OptimalParameters
        ``(lr, momentum, rate)``; ``rate`` is the worst-case spectral radius
        over ``[mu, L]``, from its exact closed form.

    Raises
    ------
    ValueError
        Unless ``0 < mu <= L``, and when ``kappa = L/mu`` or the tuning is
        beyond the float range (``mu = 1e-320, L = 1e308``).

    Notes
    -----
    With ``k = L/mu``:

    * GD: ``lr = 2/(L + mu)``, rate ``(k - 1)/(k + 1)`` (optimal).
    * Heavy ball (Polyak [1]_): ``lr = 4/(sqrt L + sqrt mu)^2``,
      ``beta = ((sqrt k - 1)/(sqrt k + 1))^2``, rate ``(sqrt k - 1)/(sqrt k + 1)``
      (optimal); every mode then has modulus exactly ``sqrt(beta)``, with a
      double root at ``mu`` and at ``L``.
    * Nesterov (Lessard, Recht & Packard 2016 [2]_): ``lr = 4/(3L + mu)``,
      ``beta = (sqrt(3k + 1) - 2)/(sqrt(3k + 1) + 2)``, rate
      ``1 - 2/sqrt(3k + 1)``: a double root ``1 - 2/sqrt(3k+1)`` at ``mu`` and
      the simple root ``-(1 - 2/sqrt(3k+1))`` at ``L``; every mode in between
      is strictly faster. (A tuning, not the best Nesterov rate on quadratics.)

    References
    ----------
    .. [1] B. T. Polyak, "Some methods of speeding up the convergence of
       iteration methods", USSR Computational Mathematics and Mathematical
       Physics 4(5), 1964.
    .. [2] L. Lessard, B. Recht and A. Packard, "Analysis and design of
       optimization algorithms via integral quadratic constraints", SIAM
       Journal on Optimization 26(1), 2016.

    Examples
    --------
    >>> from heavyball import spectral
    >>> lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    >>> round(lr * 121, 12), round(beta * 121, 12), round(rate * 11, 12)  # 4/121, 81/121, 9/11
    (4.0, 81.0, 9.0)
    """
    mu = _v.real("mu", mu, low=0.0, low_open=True)
    L = _v.real("L", L, low=mu)
    method = check_method(method)
    with np.errstate(all="ignore"):
        kappa = L / mu
        params = _optimal(mu, L, method)
    if not (math.isfinite(kappa) and all(map(math.isfinite, params)) and params[0] > 0.0):
        raise ValueError(f"`mu`, `L`: the condition number kappa = L/mu = {kappa!r} and the tuning {tuple(params)} "
                         f"must be finite (and the learning rate > 0); got mu={mu!r}, L={L!r}")
    return params


def _optimal(mu, L, method):
    if method == "gd":
        return OptimalParameters(2.0 / (L + mu), 0.0, (L - mu) / (L + mu))
    if method == "heavy_ball":
        sL, sm = math.sqrt(L), math.sqrt(mu)
        r = (sL - sm) / (sL + sm)
        return OptimalParameters(4.0 / (sL + sm) ** 2, r * r, r)
    q = math.sqrt(3.0 * L / mu + 1.0)
    return OptimalParameters(4.0 / (3.0 * L + mu), (q - 2.0) / (q + 2.0), 1.0 - 2.0 / q)


class RateRow(NamedTuple):
    r"""One row of :func:`rate_table`: optimal rates and step counts at one condition number.

    Parameters
    ----------
    kappa : float
        Condition number ``L/mu``.
    gd_rate : float
        ``(kappa - 1)/(kappa + 1)``.
    heavy_ball_rate : float
        ``(sqrt kappa - 1)/(sqrt kappa + 1)``.
    nesterov_rate : float
        ``1 - 2/sqrt(3 kappa + 1)``.
    gd_steps : int
        Smallest ``k`` with ``gd_rate^k <= reduction``.
    heavy_ball_steps : int
        The same for heavy ball.
    nesterov_steps : int
        The same for Nesterov.

    Notes
    -----
    The rates are those of :func:`optimal_parameters` (exact closed forms);
    the steps are those of :func:`rate_table`'s ``reduction``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> row = spectral.rate_table(9.0)[0]
    >>> row.kappa, row.gd_rate, row.heavy_ball_rate  # 8/10, 2/4
    (9.0, 0.8, 0.5)
    """

    kappa: float
    gd_rate: float
    heavy_ball_rate: float
    nesterov_rate: float
    gd_steps: int
    heavy_ball_steps: int
    nesterov_steps: int


def _steps(log_rate, log_reduction):
    """Smallest ``k >= 1`` with ``k log_rate <= log_reduction`` (``log_rate = -inf`` for rate 0)."""
    if log_rate == -math.inf:
        return 1
    ratio = log_reduction / log_rate
    if not math.isfinite(ratio):
        raise ValueError(f"`kappas`: a condition number is too large, the steps needed overflow (rate 1 - {-log_rate:g})")
    k = max(1, math.ceil(ratio))
    for _ in range(2):  # guard the ceil against rounding (bounded: beyond 2**53, k - 1 == k in floats)
        if k > 1 and (k - 1) * log_rate <= log_reduction:
            k -= 1
    return k


def rate_table(kappas, reduction=1e-6):
    r"""Optimal rates of GD, heavy ball and Nesterov, and the steps they need.

    Parameters
    ----------
    kappas : float or array_like of floats >= 1
        Condition numbers ``L/mu``.
    reduction : float in (0, 1)
        Error reduction the step counts aim for.

    Returns
    -------
    list of RateRow
        ``(kappa, gd_rate, heavy_ball_rate, nesterov_rate, gd_steps,
        heavy_ball_steps, nesterov_steps)``; rates from
        :func:`optimal_parameters`' closed forms, steps the smallest ``k`` with
        ``rate^k <= reduction``.

    Raises
    ------
    ValueError
        For an empty ``kappas`` or one below 1, ``reduction`` outside
        ``(0, 1)``, or a condition number so large that the step count
        overflows.

    Notes
    -----
    ``log rate`` is taken as ``log1p(-2/(k + 1))``, ``log1p(-2/(sqrt k + 1))``
    and ``log1p(-2/sqrt(3k + 1))``, which stay accurate as ``k -> inf``.
    The rates are those of the tunings of Polyak [1]_ (heavy ball) and of
    Lessard, Recht and Packard [2]_ (Nesterov).

    References
    ----------
    .. [1] B. T. Polyak, "Some methods of speeding up the convergence of
       iteration methods", USSR Computational Mathematics and Mathematical
       Physics 4(5), 1964.
    .. [2] L. Lessard, B. Recht and A. Packard, "Analysis and design of
       optimization algorithms via integral quadratic constraints", SIAM
       Journal on Optimization 26(1), 2016.

    Examples
    --------
    >>> from heavyball import spectral
    >>> row = spectral.rate_table([100.0])[0]
    >>> round(row.gd_rate, 4), round(row.heavy_ball_rate, 4), row.gd_steps, row.heavy_ball_steps
    (0.9802, 0.8182, 691, 69)
    """
    ks = _v.vector("kappas", np.atleast_1d(kappas))
    if ks.size == 0 or np.any(ks < 1.0):
        raise ValueError(f"`kappas` must be condition numbers >= 1, got {kappas!r}")
    log_red = math.log(_v.real("reduction", reduction, low=0.0, high=1.0, low_open=True, high_open=True))
    rows = []
    for k in ks.tolist():
        s, q = math.sqrt(k), math.sqrt(3.0 * k + 1.0)
        rates = ((k - 1.0) / (k + 1.0), (s - 1.0) / (s + 1.0), 1.0 - 2.0 / q)
        logs = [math.log1p(-2.0 / d) if d > 2.0 else -math.inf for d in (k + 1.0, s + 1.0, q)]
        rows.append(RateRow(k, *rates, *(_steps(lg, log_red) for lg in logs)))
    return rows
