r"""Spectral analysis of gradient methods on quadratics: every rate before a single step.

On ``L(x) = 1/2 x^T H x - b^T x`` gradient descent, heavy ball and Nesterov
are linear maps of the error ``x_k - x*``. In the eigenbasis of ``H`` they
split into independent modes, one per eigenvalue ``lambda``, each a scalar
recurrence ``e_{k+1} = T e_k - D e_{k-1}`` with characteristic polynomial
``s^2 - T s + D``. Its roots say how fast the mode decays (their modulus),
whether it oscillates (complex roots), flips sign every step (negative real
roots) or diverges (modulus >= 1). With ``a = lr lambda``:

==============  ======================================  ==========================
method          per-mode polynomial                     PyTorch
==============  ======================================  ==========================
``gd``          ``s - (1 - a)``                         ``SGD(lr)``
``heavy_ball``  ``s^2 - (1 + beta - a) s + beta``       ``SGD(lr, momentum=beta)``
``nesterov``    ``s^2 - (1 + beta)(1 - a) s + beta (1 - a)``  ``SGD(lr, beta, nesterov=True)``, iterate = look-ahead point
==============  ======================================  ==========================

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

from . import _validation as _v
from ._spectral_modes import (
    OPTIMIZER_METHODS,
    dominant_modulus,
    explicit_euler_coefficients,
    optimizer_coefficients,
    roots_from_coefficients,
)
from ._spectral_regions import REGIMES, Curve, RegimeBoundaries, convergence_region, regime, regime_boundaries
from .integrators import METHODS

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


# ----------------------------------------------------------------------------- validation

def _method(method):
    return _v.choice("method", method, list(OPTIMIZER_METHODS))


def _eigenvalues(eigenvalues):
    """Float64 copy of a scalar or 1-D array, and whether the input was a scalar."""
    scalar = np.ndim(eigenvalues) == 0
    lam = _v.vector("eigenvalues", np.reshape(eigenvalues, -1) if scalar else eigenvalues)
    if lam.size == 0:
        raise ValueError("`eigenvalues` must be non-empty")
    return lam, scalar


def _rates(lr, momentum, method):
    lr = _v.real("lr", lr, low=0.0)
    beta = _v.real("momentum", momentum)
    if method == "gd" and beta != 0.0:
        raise ValueError(f"`momentum` must be 0 for method 'gd', got {momentum!r}")
    return lr, beta


def _hessian(H):
    """Dense symmetric float64 Hessian from an array or a :class:`~heavyball.Quadratic`."""
    if hasattr(H, "hessian_diagonal") and hasattr(H, "eigenvalues"):
        return np.diag(H.hessian_diagonal) if H.is_diagonal else np.array(H.H)
    try:
        H = np.array(H, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`H` must be a square array of real numbers, got {H!r}") from exc
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"`H` must be a non-empty square matrix, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("`H` must be finite")
    scale = max(float(np.max(np.abs(H))), np.finfo(float).tiny)
    if float(np.max(np.abs(H - H.T))) > 1e-12 * scale:
        raise ValueError("`H` must be symmetric (a Hessian)")
    return 0.5 * (H + H.T)


def _physical(mass, friction, step, method):
    m = _v.real("mass", mass, low=0.0)
    if callable(friction):
        raise ValueError("`friction` must be a constant: a time-dependent friction has no fixed iteration matrix")
    gamma = _v.real("friction", friction, low=0.0)
    h = _v.real("step", step, low=0.0, low_open=True)
    _v.choice("method", method, list(METHODS))
    if m == 0.0:
        if method != "explicit_euler":
            raise ValueError(f"mass = 0 (gradient flow) is integrated by 'explicit_euler' only, got {method!r}")
        if gamma == 0.0:
            raise ValueError("`friction` must be > 0 when mass = 0, got 0.0")
    return m, gamma, h


# ----------------------------------------------------------------------------- matrices

def iteration_matrix(H, lr, momentum=0.0, method="heavy_ball"):
    r"""The linear map of the error of GD, heavy ball or Nesterov on a quadratic.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}

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
    method = _method(method)
    lr, beta = _rates(lr, momentum, method)
    H = _hessian(H)
    I = np.eye(H.shape[0])
    if method == "gd":
        return I - lr * H
    if method == "heavy_ball":
        top = [(1.0 + beta) * I - lr * H, -beta * I]
    else:
        top = [(1.0 + beta) * (I - lr * H), -beta * (I - lr * H)]
    return np.block([top, [I, np.zeros_like(I)]]) + 0.0  # + 0.0 turns -0.0 into 0.0


def _physical_blocks(m, gamma, h, method):
    """Each per-mode entry of the update as ``p + q lambda``: ``((p11, q11), (p12, q12), ...)``."""
    if method == "explicit_euler":
        beta = 1.0 - h * gamma / m
        return (1.0, 0.0), (h, 0.0), (0.0, -h / m), (beta, 0.0)
    if method == "nesterov":
        beta = 1.0 - h * gamma / m
        a = h * h / m
        return (1.0, -a), (h * beta, -h * beta * a), (0.0, -h / m), (beta, -beta * a)
    if method == "implicit_friction_euler":  # v' = beta (v - (h/m) g), x' = x + h v'
        beta = m / (m + gamma * h)
        return (1.0, -beta * h * h / m), (h * beta, 0.0), (0.0, -beta * h / m), (beta, 0.0)
    # symplectic and conformal symplectic Euler: v' = beta v - (h/m) g, x' = x + h v'
    beta = math.exp(-h * gamma / m) if method == "conformal_symplectic_euler" else 1.0 - h * gamma / m
    return (1.0, -h * h / m), (h * beta, 0.0), (0.0, -h / m), (beta, 0.0)


def physical_iteration_matrix(H, mass, friction, step, method):
    r"""The linear map of ``[x_k - x*, v_k]`` for one step of an integrator.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
    mass : float >= 0
    friction : float >= 0
        A constant; ``> 0`` when ``mass = 0``.
    step : float > 0
    method : str
        One of :data:`heavyball.integrators.METHODS`; with ``mass = 0`` only
        ``"explicit_euler"``.

    Returns
    -------
    ndarray, shape (2n, 2n), or (n, n) when ``mass = 0``
        ``M`` with ``[x_{k+1} - x*, v_{k+1}] = M [x_k - x*, v_k]``, where
        ``x``, ``v`` are the physical position and velocity of
        :func:`heavyball.integrate` (for ``"nesterov"`` the gradient is taken at
        ``x + h beta v``). With ``mass = 0`` (gradient flow, no velocity) it acts
        on ``x_k - x*`` alone: ``M = I - (h/gamma) H``.

    Notes
    -----
    With ``beta = 1 - h gamma/m`` and ``A = (h^2/m) H``:

    ==============================  ==================================================  ==========================
    method                          ``M``                                               det per mode
    ==============================  ==================================================  ==========================
    ``symplectic_euler``            ``[[I - A, h beta I], [-(h/m) H, beta I]]``         ``beta``
    ``conformal_symplectic_euler``  same with ``beta = exp(-h gamma/m)``                ``exp(-h gamma/m)``
    ``implicit_friction_euler``     same with ``beta = m/(m + gamma h)`` and ``A`` scaled by it  ``m/(m + gamma h)``
    ``nesterov``                    ``[[I - A, h beta (I - A)], [-(h/m) H, beta (I - A)]]``  ``beta (1 - h^2 lambda/m)``
    ``explicit_euler``              ``[[I, h I], [-(h/m) H, beta I]]``                  ``beta + h^2 lambda/m``
    ==============================  ==================================================  ==========================

    Explicit Euler without friction has determinant ``1 + h^2 lambda/m > 1``
    per mode, so it diverges for every step.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import spectral
    >>> M = spectral.physical_iteration_matrix(np.array([[2.0]]), 1.0, 1.0, 0.1, "symplectic_euler")
    >>> M
    array([[ 0.98,  0.09],
           [-0.2 ,  0.9 ]])
    >>> float(np.linalg.det(M))  # beta = 1 - h gamma/m
    0.9
    """
    m, gamma, h = _physical(mass, friction, step, method)
    H = _hessian(H)
    I = np.eye(H.shape[0])
    if m == 0.0:
        return I - (h / gamma) * H
    (p11, q11), (p12, q12), (p21, q21), (p22, q22) = _physical_blocks(m, gamma, h, method)
    return np.block([[p11 * I + q11 * H, p12 * I + q12 * H], [p21 * I + q21 * H, p22 * I + q22 * H]])


# ----------------------------------------------------------------------------- roots and radius

def mode_roots(eigenvalues, lr, momentum=0.0, method="heavy_ball"):
    r"""Roots of each mode's characteristic polynomial, in closed form.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues (any real numbers; negative ones are saddle
        directions).
    lr : float >= 0
    momentum : float
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}

    Returns
    -------
    ndarray, complex, shape (n, 2) (``(2,)`` for a scalar eigenvalue)
        Column 0 the root of larger modulus (of a complex pair, the one with
        ``Im >= 0``), column 1 the other. For ``"gd"`` column 1 is 0: the
        roots are those of ``s (s - (1 - lr lambda))``, heavy ball at momentum
        0, so that all methods share one shape.

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
    method = _method(method)
    lr, beta = _rates(lr, momentum, method)
    lam, scalar = _eigenvalues(eigenvalues)
    roots = roots_from_coefficients(*optimizer_coefficients(lam, lr, beta, method))
    return roots[0] if scalar else roots


def spectral_radius(eigenvalues, lr, momentum=0.0, method="heavy_ball"):
    r"""Largest root modulus over the modes: the asymptotic rate per step.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
    lr : float >= 0
    momentum : float
    method : {"gd", "heavy_ball", "nesterov"}

    Returns
    -------
    float
        ``max_i max |s|`` over the roots of mode ``i``; the iteration
        converges from every start iff it is ``< 1``. Equal to the spectral
        radius of :func:`iteration_matrix`, at ``O(n)`` cost once the
        eigenvalues are known (no ``2n x 2n`` eigen-solve).

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
    method = _method(method)
    lr, beta = _rates(lr, momentum, method)
    lam, _ = _eigenvalues(eigenvalues)
    return float(np.max(dominant_modulus(*optimizer_coefficients(lam, lr, beta, method))))


def _physical_coefficients(lam, m, gamma, h, method):
    """``T, D, disc`` of a physical scheme per mode, through the optimiser it equals."""
    if method == "explicit_euler":
        return explicit_euler_coefficients(lam, m, gamma, h)
    if method == "implicit_friction_euler":
        return optimizer_coefficients(lam, h * h / (m + gamma * h), m / (m + gamma * h), "heavy_ball")
    if method == "conformal_symplectic_euler":
        return optimizer_coefficients(lam, h * h / m, math.exp(-h * gamma / m), "heavy_ball")
    kind = "nesterov" if method == "nesterov" else "heavy_ball"
    return optimizer_coefficients(lam, h * h / m, 1.0 - h * gamma / m, kind)


def physical_mode_roots(eigenvalues, mass, friction, step, method):
    r"""Eigenvalues of :func:`physical_iteration_matrix`, mode by mode, in closed form.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
    mass, friction, step, method
        As in :func:`physical_iteration_matrix`.

    Returns
    -------
    ndarray, complex, shape (n, 2), or (n, 1) when ``mass = 0``
        Ordered as in :func:`mode_roots`; a scalar eigenvalue drops the
        first axis.

    Notes
    -----
    Through the exact maps: symplectic Euler is heavy ball with
    ``lr = h^2/m``, ``beta = 1 - h gamma/m``; the conformal scheme is heavy
    ball with ``beta = exp(-h gamma/m)``; implicit friction is heavy ball with
    ``lr = h^2/(m + gamma h)``, ``beta = m/(m + gamma h)``; the look-ahead
    scheme is Nesterov. Explicit Euler (``m > 0``) has
    ``s^2 - (1 + beta) s + beta + h^2 lambda/m``; with ``m = 0`` its single
    root is ``1 - h lambda/gamma``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> abs(spectral.physical_mode_roots(1.0, 1.0, 0.0, 0.1, "explicit_euler")).round(6)
    array([1.004988, 1.004988])
    """
    m, gamma, h = _physical(mass, friction, step, method)
    lam, scalar = _eigenvalues(eigenvalues)
    if m == 0.0:
        roots = (1.0 - (h / gamma) * lam).astype(np.complex128)[:, None]
    else:
        roots = roots_from_coefficients(*_physical_coefficients(lam, m, gamma, h, method))
    return roots[0] if scalar else roots


def physical_spectral_radius(eigenvalues, mass, friction, step, method):
    r"""Spectral radius of :func:`physical_iteration_matrix`, in closed form per mode.

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.physical_spectral_radius([1.0, 4.0], 1.0, 0.0, 0.01, "explicit_euler") > 1  # no friction
    True
    """
    m, gamma, h = _physical(mass, friction, step, method)
    lam, _ = _eigenvalues(eigenvalues)
    if m == 0.0:
        return float(np.max(np.abs(1.0 - (h / gamma) * lam)))
    return float(np.max(dominant_modulus(*_physical_coefficients(lam, m, gamma, h, method))))


# ----------------------------------------------------------------------------- optimal tuning

class OptimalParameters(NamedTuple):
    """``(lr, momentum, rate)``: a tuning and the spectral radius it achieves on ``[mu, L]``."""

    lr: float
    momentum: float
    rate: float


def optimal_parameters(mu, L, method):
    r"""Classical tunings for a quadratic with eigenvalues in ``[mu, L]``.

    Parameters
    ----------
    mu, L : float, ``0 < mu <= L``
    method : {"gd", "heavy_ball", "nesterov"}

    Returns
    -------
    OptimalParameters
        ``(lr, momentum, rate)``; ``rate`` is the worst-case spectral radius
        over ``[mu, L]``, from its exact closed form.

    Notes
    -----
    With ``k = L/mu``:

    * GD: ``lr = 2/(L + mu)``, rate ``(k - 1)/(k + 1)`` (optimal).
    * Heavy ball (Polyak): ``lr = 4/(sqrt L + sqrt mu)^2``,
      ``beta = ((sqrt k - 1)/(sqrt k + 1))^2``, rate ``(sqrt k - 1)/(sqrt k + 1)``
      (optimal); every mode then has modulus exactly ``sqrt(beta)``, with a
      double root at ``mu`` and at ``L``.
    * Nesterov (Lessard, Recht & Packard 2016): ``lr = 4/(3L + mu)``,
      ``beta = (sqrt(3k + 1) - 2)/(sqrt(3k + 1) + 2)``, rate
      ``1 - 2/sqrt(3k + 1)``: a double root ``1 - 2/sqrt(3k+1)`` at ``mu`` and
      the simple root ``-(1 - 2/sqrt(3k+1))`` at ``L``; every mode in between
      is strictly faster. (A tuning, not the best Nesterov rate on quadratics.)

    Examples
    --------
    >>> from heavyball import spectral
    >>> lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    >>> round(lr * 121, 12), round(beta * 121, 12), round(rate * 11, 12)  # 4/121, 81/121, 9/11
    (4.0, 81.0, 9.0)
    """
    mu = _v.real("mu", mu, low=0.0, low_open=True)
    L = _v.real("L", L, low=mu)
    method = _method(method)
    if method == "gd":
        return OptimalParameters(2.0 / (L + mu), 0.0, (L - mu) / (L + mu))
    if method == "heavy_ball":
        sL, sm = math.sqrt(L), math.sqrt(mu)
        r = (sL - sm) / (sL + sm)
        return OptimalParameters(4.0 / (sL + sm) ** 2, r * r, r)
    q = math.sqrt(3.0 * L / mu + 1.0)
    return OptimalParameters(4.0 / (3.0 * L + mu), (q - 2.0) / (q + 2.0), 1.0 - 2.0 / q)


class RateRow(NamedTuple):
    """One row of :func:`rate_table`."""

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
    k = max(1, math.ceil(log_reduction / log_rate))
    while k > 1 and (k - 1) * log_rate <= log_reduction:  # guard the ceil against rounding
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

    Notes
    -----
    ``log rate`` is taken as ``log1p(-2/(k + 1))``, ``log1p(-2/(sqrt k + 1))``
    and ``log1p(-2/sqrt(3k + 1))``, which stay accurate as ``k -> inf``.

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


# ----------------------------------------------------------------------------- measured rates

def empirical_rate(trajectory, minimizer=None, *, tail=0.5):
    r"""The contraction per step measured on a trajectory.

    Parameters
    ----------
    trajectory : Trajectory
        From :func:`heavyball.optimize`, :func:`heavyball.integrate` or
        :func:`heavyball.solve_reference`.
    minimizer : array_like, shape (dim,), optional
        ``x*``. Without it the successive differences ``x_{j+1} - x_j`` are
        used, which obey the same linear recurrence on a quadratic and decay
        at the same rate.
    tail : float in (0, 1]
        Fraction of the resolvable points (the latest ones) used for the fit.

    Returns
    -------
    float
        ``exp(slope)`` of a least-squares line through ``log P_j`` against the
        step index ``j`` (against time for the reference solver, which has no
        step). Above 1 when the trajectory grows.

    Raises
    ------
    ValueError
        When fewer than 3 points are resolvable.

    Notes
    -----
    ``P_j = sqrt(|s_j|^2 + |s_{j-1}|^2)`` with ``s_j = [x_j - x*, v_j]`` (``v``
    the recorded velocity or momentum buffer, left out when absent). On a
    quadratic ``s_j`` is a linear function of the state, so it decays at the
    spectral radius; unlike ``|x_j - x*|`` alone, ``P_j`` does not dip to zero
    when an oscillating error crosses zero. The fluctuation that remains
    (bounded, quasi-periodic) biases the slope by about its amplitude divided
    by the window length, so longer runs measure more precisely; a double
    root (``e_j ~ j rho^j``) adds a bias of about ``1/j`` in ``log rho``.
    Points are resolvable while ``P_j > 100 eps max|x|`` (above rounding) and
    ``P_j > 1e-280`` (no underflow); the fit stops at the first that is not.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import spectral
    >>> q = hb.Quadratic.from_condition_number(100.0, dim=5)
    >>> traj = hb.optimize(q, hb.GD(2 / 101), [1.0] * 5, n_steps=400)
    >>> round(spectral.empirical_rate(traj, q.minimizer), 10), round(99 / 101, 10)
    (0.9801980198, 0.9801980198)
    """
    x = np.asarray(trajectory.x, dtype=np.float64)
    v = None if trajectory.v is None else np.asarray(trajectory.v, dtype=np.float64)
    if trajectory.step is None:
        k = np.asarray(trajectory.t, dtype=np.float64)
    else:
        k = np.round((np.asarray(trajectory.t) - trajectory.t[0]) / trajectory.step)
    tail = _v.real("tail", tail, low=0.0, high=1.0, low_open=True)
    scale = np.abs(x).max(axis=1)
    if minimizer is None:
        e, k, scale = np.diff(x, axis=0), k[1:], np.maximum(scale[1:], scale[:-1])
        v = None if v is None else v[1:]
    else:
        e = x - _v.vector("minimizer", minimizer, x.shape[1])
    r2 = np.sum(e * e, axis=1) if v is None else np.sum(e * e, axis=1) + np.sum(v * v, axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        pair = np.sqrt(r2[1:] + r2[:-1])
    floor = 100.0 * np.finfo(float).eps * np.maximum(scale[1:], scale[:-1])
    ok = (pair > floor) & (pair > 1e-280) & np.isfinite(pair)
    n_ok = len(ok) if np.all(ok) else int(np.argmin(ok))
    start = n_ok - int(round(tail * n_ok))
    y, j = np.log(pair[start:n_ok]), k[1:][start:n_ok]
    if len(y) < 3:
        raise ValueError(f"`trajectory` has {len(y)} resolvable points in its tail; at least 3 are needed "
                         "(record more steps, or stop before the error reaches rounding)")
    slope = np.polyfit(j - j.mean(), y, 1)[0]
    return float(np.exp(slope))


# ----------------------------------------------------------------------------- continuous link

def continuous_roots(eigenvalues, mass, friction):
    r"""Roots ``s`` of ``m s^2 + gamma s + lambda``: the modes ``exp(s t)`` of the ODE.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
    mass : float >= 0
    friction : float >= 0 (``> 0`` when ``mass = 0``)

    Returns
    -------
    ndarray, complex, shape (n, 2), or (n, 1) when ``mass = 0``
        Column 0 the slower root (larger real part; of a complex pair the one
        with ``Im >= 0``). With ``mass = 0`` the single root ``-lambda/gamma``
        of gradient flow. A scalar eigenvalue drops the first axis.

    Notes
    -----
    ``m x'' + gamma x' + lambda x = 0``. Complex (underdamped) when
    ``gamma^2 < 4 m lambda``: ``-gamma/(2m) +- i sqrt(4 m lambda - gamma^2)/(2m)``.
    Otherwise ``q = -(gamma + sqrt(gamma^2 - 4 m lambda))/2`` and the roots
    are ``lambda/q`` and ``q/m`` (no cancellation).

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.continuous_roots([1.0, 0.25], mass=1.0, friction=1.0).round(6)
    array([[-0.5+0.866025j, -0.5-0.866025j],
           [-0.5+0.j      , -0.5+0.j      ]])
    """
    m = _v.real("mass", mass, low=0.0)
    gamma = _v.real("friction", friction, low=0.0)
    lam, scalar = _eigenvalues(eigenvalues)
    if m == 0.0:
        if gamma == 0.0:
            raise ValueError("`friction` must be > 0 when mass = 0, got 0.0")
        out = (-lam / gamma).astype(np.complex128)[:, None]
        return out[0] if scalar else out
    disc = gamma * gamma - 4.0 * m * lam
    out = np.empty((lam.size, 2), dtype=np.complex128)
    cplx = disc < 0.0
    out[:, 0] = np.where(cplx, -gamma / (2.0 * m) + 0.5j * np.sqrt(np.where(cplx, -disc, 0.0)) / m, 0.0)
    out[:, 1] = np.conj(out[:, 0])
    real = ~cplx
    q = -0.5 * (gamma + np.sqrt(disc[real]))
    safe = np.where(q == 0.0, 1.0, q)
    out[real, 0] = np.where(q == 0.0, 0.0, lam[real] / safe)
    out[real, 1] = q / m
    return out[0] if scalar else out


class ContinuousLimit(NamedTuple):
    """Discrete roots next to ``exp(h s)``; see :func:`continuous_limit`."""

    continuous: np.ndarray
    predicted: np.ndarray
    discrete: np.ndarray
    error: np.ndarray


def continuous_limit(eigenvalues, mass, friction, step, method="symplectic_euler"):
    r"""Compare each discrete root with ``exp(h s)`` of the continuous root it approximates.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
    mass, friction, step, method
        As in :func:`physical_iteration_matrix`.

    Returns
    -------
    ContinuousLimit
        ``continuous`` (``s``, from :func:`continuous_roots`), ``predicted``
        (``exp(h s)``), ``discrete`` (:func:`physical_mode_roots`, reordered
        to pair each root with the nearest prediction), all of shape
        ``(n, 2)`` (``(n, 1)`` for ``mass = 0``), and ``error``, shape
        ``(n,)``: ``max |discrete - predicted|`` per mode. A scalar
        eigenvalue drops the first axis (``error`` is then a float).

    Notes
    -----
    The exact flow over one step multiplies mode ``s`` by ``exp(h s)``; a
    first-order scheme's one-step map agrees with it to ``O(h^2)``, so
    ``error = O(h^2)`` as ``h -> 0`` with ``m``, ``gamma``, ``lambda`` fixed.
    It breaks down when ``h |s|`` is not small: the discrete roots can be
    negative reals (sign flipping; ``exp(h s)`` of a real ``s`` is positive),
    leave the unit disc (instability, while ``|exp(h s)| <= 1`` whenever
    ``gamma >= 0`` and ``lambda >= 0``), or be complex where the ODE is
    overdamped. See ``docs/spectral.md`` for numbers.

    Examples
    --------
    >>> from heavyball import spectral
    >>> small = spectral.continuous_limit(1.0, 1.0, 1.0, 0.01).error
    >>> half = spectral.continuous_limit(1.0, 1.0, 1.0, 0.005).error
    >>> round(float(small / half), 2)  # O(h^2)
    4.0
    """
    m, gamma, h = _physical(mass, friction, step, method)
    lam, scalar = _eigenvalues(eigenvalues)
    s = continuous_roots(lam, m, gamma)
    predicted = np.exp(h * s)
    z = physical_mode_roots(lam, m, gamma, h, method)
    if z.shape[1] == 2:
        straight = np.abs(z - predicted).sum(axis=1)
        crossed = np.abs(z[:, ::-1] - predicted).sum(axis=1)
        z = np.where((crossed < straight)[:, None], z[:, ::-1], z)
    error = np.abs(z - predicted).max(axis=1)
    if scalar:
        return ContinuousLimit(s[0], predicted[0], z[0], float(error[0]))
    return ContinuousLimit(s, predicted, z, error)


# ----------------------------------------------------------------------------- transient growth

class TransientGrowth(NamedTuple):
    """``||R^k||_2`` next to ``rho^k``; see :func:`transient_growth`."""

    steps: np.ndarray
    norm: np.ndarray
    rho_power: np.ndarray
    rho: float


def _norm_2x2(p, q, r, s):
    """Largest singular value of ``[[p, q], [r, s]]`` per entry: ``(sqrt(F + 2|det|) + sqrt(F - 2|det|))/2``."""
    f = p * p + q * q + r * r + s * s
    d2 = 2.0 * np.abs(p * s - q * r)
    return 0.5 * (np.sqrt(f + d2) + np.sqrt(np.maximum(f - d2, 0.0)))


def transient_growth(eigenvalues, lr, momentum=0.0, method="heavy_ball", n_steps=100):
    r"""``||R^k||_2`` against ``rho^k`` for ``k = 0 .. n_steps``.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
    lr, momentum, method
        As in :func:`iteration_matrix`.
    n_steps : int >= 0

    Returns
    -------
    TransientGrowth
        ``steps`` (``0..n_steps``), ``norm`` (``||R^k||_2``, the largest
        growth of ``|[e_k, e_{k-1}]|`` from any start), ``rho_power``
        (``rho^k``) and ``rho`` (:func:`spectral_radius`). Values beyond the
        float range are ``inf`` (only when ``rho > 1``).

    Notes
    -----
    ``R`` is orthogonally similar to the block-diagonal matrix of the
    per-mode companion blocks ``B = [[T, -D], [1, 0]]``, so
    ``||R^k||_2 = max_i ||B_i^k||_2``, computed in ``O(n n_steps)`` with the
    closed-form norm of a 2x2 matrix. ``B`` is not normal: ``||B^k||`` can
    exceed 1 for many steps although ``rho < 1``. At a double root ``r``,
    ``B^k = [[(k+1) r^k, -k r^(k+1)], [k r^(k-1), -(k-1) r^k]]`` grows like
    ``k rho^k``. GD (``R = I - lr H`` symmetric) has ``||R^k|| = rho^k``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> g = spectral.transient_growth([1.0, 100.0], 4 / 121, 81 / 121, n_steps=40)
    >>> g.rho < 1, bool(g.norm.max() > 2)  # rho = 9/11, yet the error first grows
    (True, True)
    """
    method = _method(method)
    lr, beta = _rates(lr, momentum, method)
    lam, _ = _eigenvalues(eigenvalues)
    n = _v.integer("n_steps", n_steps, low=0)
    T, D, disc = optimizer_coefficients(lam, lr, beta, method)
    rho = float(np.max(dominant_modulus(T, D, disc)))
    steps = np.arange(n + 1)
    with np.errstate(over="ignore"):
        rho_power = rho ** steps.astype(np.float64)
        if method == "gd":
            return TransientGrowth(steps, rho_power.copy(), rho_power, rho)
        u = 1.0 / rho if rho > 0.0 else 1.0  # powers of B / rho stay bounded (~k at a double root)
        t, d = T * u, D * u
        p, q, r, s = np.ones_like(t), np.zeros_like(t), np.zeros_like(t), np.ones_like(t)
        scaled = np.empty(n + 1)
        for k in range(n + 1):
            scaled[k] = np.max(_norm_2x2(p, q, r, s))
            p, q, r, s = t * p - d * r, t * q - d * s, u * p, u * q
        norm = scaled * (rho_power if rho > 0.0 else 1.0)
    return TransientGrowth(steps, norm, rho_power, rho)


# ----------------------------------------------------------------------------- memory of momentum

def half_life(beta):
    r"""Steps after which a gradient's weight in the momentum buffer has halved.

    Parameters
    ----------
    beta : float or array_like in (0, 1)

    Returns
    -------
    float or ndarray
        ``ln 0.5 / ln beta`` (the weight of a gradient ``k`` steps old is
        ``beta^k``).

    Examples
    --------
    >>> from heavyball import spectral
    >>> round(spectral.half_life(0.9), 2), round(spectral.half_life(0.99), 2)
    (6.58, 68.97)
    """
    b = np.asarray(beta, dtype=np.float64)
    if not np.all((b > 0.0) & (b < 1.0)):
        raise ValueError(f"`beta` must be in (0, 1), got {beta!r}")
    out = math.log(0.5) / np.log(b)
    return float(out) if out.ndim == 0 else out


def memory_window(beta, fraction=0.9):
    r"""How many recent gradients hold ``fraction`` of the momentum buffer's weight.

    Parameters
    ----------
    beta : float in (0, 1)
    fraction : float in (0, 1)

    Returns
    -------
    int
        The smallest ``N`` with ``1 - beta^N >= fraction``: the last ``N``
        gradients carry at least ``fraction`` of the total weight
        ``sum_i beta^i = 1/(1 - beta)`` of an infinitely long history.

    Notes
    -----
    The real solution is ``ln(1 - fraction)/ln beta``: 21.85 for
    ``beta = 0.9`` and 229.1 for ``beta = 0.99``. So 22 and 230 gradients;
    the last 229 hold only 89.99% at ``beta = 0.99``.

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.memory_window(0.9), spectral.memory_window(0.99)
    (22, 230)
    """
    b = _v.real("beta", beta, low=0.0, high=1.0, low_open=True, high_open=True)
    f = _v.real("fraction", fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    n = max(1, math.ceil(math.log1p(-f) / math.log(b)))
    while n > 1 and b ** (n - 1) <= 1.0 - f:  # guard the ceil against rounding
        n -= 1
    while b ** n > 1.0 - f:
        n += 1
    return n
