r"""The continuous (SDE) limit of the noisy optimisers and its convergence order."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from ..spectral._modes import check_hessian

#: Integrators with an exact map to ``torch.optim.SGD`` (:func:`heavyball.maps.to_optimizer`).
LANGEVIN_METHODS = ("symplectic_euler", "conformal_symplectic_euler", "implicit_friction_euler", "nesterov")


class SDELimit(NamedTuple):
    """Discrete against continuous stationary covariance along a sequence of steps.

    Parameters
    ----------
    steps : ndarray
        The steps: ``h`` for :func:`langevin_limit`, ``lr`` for
        :func:`modified_equation_limit`.
    relative_error : ndarray
        ``|C_disc - C_sde|_F / |C_sde|_F`` at each step.
    order : float
        The fitted order (:func:`fitted_order`).

    Notes
    -----
    ``relative_error ~ const * steps^order`` as the steps go to 0.

    Examples
    --------
    >>> from heavyball import noise
    >>> noise.SDELimit([0.1, 0.05], [0.2, 0.1], 1.0).order
    1.0
    """

    steps: np.ndarray
    relative_error: np.ndarray
    order: float


def _noise_matrix(noise_cov, n):
    from ._discrete import _noise_cov

    kind, Q = _noise_cov(noise_cov, n)
    return np.diag(Q) if kind == "diag" else Q


def langevin_sde(H, mass, friction, step, noise_cov=1.0):
    r"""Drift and diffusion of underdamped Langevin driven by the gradient noise of a step.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian of ``L = 1/2 (x - x*)^T H (x - x*)``.
    mass : float > 0
        ``m``.
    friction : float > 0
        ``gamma``.
    step : float > 0
        ``h``, the time step of the integrator; it sets the noise strength.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of the gradient noise per step, as in
        :func:`heavyball.noise.stationary_covariance`.

    Returns
    -------
    F : ndarray, shape (2n, 2n)
        Drift of ``dz = F z dt + dW``, ``z = (x - x*, v)``.
    D : ndarray, shape (2n, 2n)
        Diffusion: ``E[dW dW^T] = D dt``.

    Raises
    ------
    ValueError
        For a non-positive ``mass``, ``friction`` or ``step``, or bad ``H``,
        ``noise_cov``.

    Notes
    -----
    An integrator of ``m x'' = -grad L - gamma x'`` that takes the noisy
    gradient ``grad L + xi_k`` changes the velocity by ``-(h/m) xi_k`` per step
    of length ``h``: a random walk with variance ``(h^2/m^2) Q`` per time ``h``.
    Its weak limit as ``h -> 0`` is

    .. math::

        dx = v\,dt, \qquad m\,dv = -H (x - x^*)\,dt - \gamma v\,dt + \sqrt{h}\, Q^{1/2} dW,

    so ``F = [[0, I], [-H/m, -(gamma/m) I]]`` and ``D = [[0, 0], [0, h Q / m^2]]``.
    The noise temperature is proportional to ``h``: at fixed ``(m, gamma, Q)``
    the noise vanishes with the step, as ``lr = h^2/m`` does.

    References
    ----------
    G. A. Pavliotis, *Stochastic Processes and Applications*, Springer, 2014,
    ch. 6 (the Langevin equation).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> F, D = noise.langevin_sde(np.diag([2.0]), mass=1.0, friction=0.5, step=0.1, noise_cov=1.0)
    >>> F
    array([[ 0. ,  1. ],
           [-2. , -0.5]])
    >>> D
    array([[0. , 0. ],
           [0. , 0.1]])
    """
    H = check_hessian(H)
    m = _v.real("mass", mass, low=0.0, low_open=True)
    gamma = _v.real("friction", friction, low=0.0, low_open=True)
    h = _v.real("step", step, low=0.0, low_open=True)
    n = H.shape[0]
    Q = _noise_matrix(noise_cov, n)
    F = np.block([[np.zeros((n, n)), np.eye(n)], [-H / m, -(gamma / m) * np.eye(n)]])
    D = np.zeros((2 * n, 2 * n))
    D[n:, n:] = h * Q / (m * m)
    return F, D


def modified_equation(H, lr, momentum=0.0, noise_cov=1.0):
    r"""Drift and diffusion of the stochastic modified equation of SGD (with momentum).

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float > 0
        Learning rate.
    momentum : float in [0, 1)
        ``beta`` (0 for plain SGD).
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance ``Q``.

    Returns
    -------
    F : ndarray, shape (n, n)
        Drift of ``dX = F X dt + dW`` in the time ``t = k lr``.
    D : ndarray, shape (n, n)
        Diffusion: ``E[dW dW^T] = D dt``.

    Raises
    ------
    ValueError
        For ``lr <= 0``, ``momentum`` outside ``[0, 1)`` or bad ``H``,
        ``noise_cov``.

    Notes
    -----
    The first-order stochastic modified equation of Li, Tai and E for SGD,
    ``dX = -grad L dt + sqrt(lr) Q^{1/2} dW`` (time ``t = k lr``), and for
    heavy ball or Nesterov at a fixed momentum ``beta`` as ``lr -> 0``,
    where the momentum only rescales time and noise:

    .. math::

        dX = -\frac{1}{1-\beta} H X\,dt + \frac{\sqrt{lr}}{1-\beta} Q^{1/2} dW,

    i.e. ``F = -H / (1 - beta)``, ``D = lr Q / (1 - beta)^2``: SGD with the
    learning rate ``lr / (1 - beta)``.

    References
    ----------
    Q. Li, C. Tai, W. E, "Stochastic modified equations and adaptive
    stochastic gradient algorithms", ICML 2017; "Stochastic modified
    equations and dynamics of stochastic gradient algorithms I: mathematical
    foundations", JMLR 20, 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> F, D = noise.modified_equation(np.diag([2.0]), lr=0.1, momentum=0.5, noise_cov=1.0)
    >>> F, D
    (array([[-4.]]), array([[0.4]]))
    """
    H = check_hessian(H)
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    beta = _v.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    Q = _noise_matrix(noise_cov, H.shape[0])
    return -H / (1.0 - beta), lr * Q / (1.0 - beta) ** 2


def continuous_covariance(F, D):
    r"""Stationary covariance of ``dz = F z dt + dW``, ``E[dW dW^T] = D dt``.

    Parameters
    ----------
    F : array_like, shape (m, m)
        Drift; all its eigenvalues must have negative real part.
    D : array_like, shape (m, m)
        Symmetric positive semi-definite diffusion.

    Returns
    -------
    ndarray, shape (m, m)
        The stationary covariance ``S`` of ``z``.

    Raises
    ------
    ValueError
        When ``F`` is not stable (an eigenvalue with real part ``>= 0``), or
        the shapes do not match.

    Notes
    -----
    The continuous Lyapunov equation ``F S + S F^T + D = 0``, solved by
    :func:`scipy.linalg.solve_continuous_lyapunov`.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> noise.continuous_covariance(np.array([[-2.0]]), np.array([[1.0]]))  # D / (2 * 2)
    array([[0.25]])
    """
    import scipy.linalg

    F = _v.real_array("F", F)
    D = _v.real_array("D", D)
    if F.ndim != 2 or F.shape[0] != F.shape[1] or F.shape[0] == 0 or D.shape != F.shape:
        raise ValueError(f"`F` and `D` must be square of the same shape, got {F.shape} and {D.shape}")
    if not (np.all(np.isfinite(F)) and np.all(np.isfinite(D))):
        raise ValueError("`F` and `D` must be finite")
    top = float(np.max(np.linalg.eigvals(F).real))
    if not top < 0.0:
        raise ValueError(f"`F` is not stable: an eigenvalue has real part {top!r} >= 0, so there is no "
                         "stationary covariance")
    S = scipy.linalg.solve_continuous_lyapunov(F, -D)
    return 0.5 * (S + S.T)


def fitted_order(steps, errors):
    """Least-squares slope of ``log errors`` against ``log steps`` (the observed convergence order).

    Parameters
    ----------
    steps : array_like, shape (k,)
        Positive steps, ``k >= 2``.
    errors : array_like, shape (k,)
        Positive errors.

    Returns
    -------
    float
        The slope ``p`` of ``errors ~ C steps^p``.

    Raises
    ------
    ValueError
        For fewer than two points or a non-positive entry.

    Notes
    -----
    ``p`` minimising ``sum (log e_i - p log h_i - c)^2``: ``errors ~ C steps^p``.

    Examples
    --------
    >>> from heavyball import noise
    >>> round(noise.fitted_order([0.1, 0.05, 0.025], [0.02, 0.005, 0.00125]), 12)
    2.0
    """
    h = _v.vector("steps", steps)
    if h.size < 2 or np.any(h <= 0.0):
        raise ValueError(f"`steps` needs at least two entries > 0, got {steps!r}")
    e = _v.vector("errors", errors, h.size)
    if np.any(e <= 0.0):
        raise ValueError("`steps` and `errors` need at least two positive entries each")
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])


def _relative(C, S):
    return float(np.linalg.norm(C - S) / np.linalg.norm(S))


def langevin_limit(H, steps, method="symplectic_euler", *, mass=1.0, friction=1.0, noise_cov=1.0):
    r"""The noisy optimiser equal to an integrator, against its Langevin SDE, as ``h -> 0``.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    steps : array_like
        Steps ``h > 0`` (at least two).
    method : {"symplectic_euler", "conformal_symplectic_euler", "implicit_friction_euler", "nesterov"}
        The integrator; :func:`heavyball.maps.to_optimizer` gives its
        ``SGD(lr, momentum, nesterov)``.
    mass, friction : float > 0
        ``m`` and ``gamma``.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance ``Q``.

    Returns
    -------
    SDELimit
        The relative error of the discrete stationary covariance of the
        optimiser's iterate (:func:`heavyball.noise.stationary_covariance`)
        against the position block of :func:`continuous_covariance` of
        :func:`langevin_sde`, and its fitted order in ``h``.

    Raises
    ------
    ValueError
        For an unknown method, bad parameters, or a step at which the
        optimiser is not stable.

    Notes
    -----
    A scheme of weak order 1 has an invariant measure accurate to order 1
    (Talay and Tubaro): ``|C_h - C| / |C| = O(h)``. For the two schemes whose
    ``lr / (1 - beta) = h / gamma`` exactly (symplectic Euler, implicit
    friction Euler) and a noise ``Q`` commuting with ``H`` (e.g. ``s I``),
    the closed form of heavy ball's mode variance gives the relative error
    ``lr lambda / (2 (1 + beta) - lr lambda) = h^2 lambda / (4 m) + O(h^3)``:
    order 2. Conformal symplectic Euler (``1 - beta = 1 - exp(-h gamma/m)``)
    and the Nesterov map stay at order 1.

    References
    ----------
    D. Talay, L. Tubaro, "Expansion of the global error for numerical
    schemes solving stochastic differential equations", Stochastic Analysis
    and Applications 8, 1990. J. C. Mattingly, A. M. Stuart, M. V. Tretyakov,
    "Convergence of numerical time-averaging and stationary measures via
    Poisson equations", SIAM J. Numer. Anal. 48, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> r = noise.langevin_limit(np.diag([1.0, 3.0]), [0.02, 0.01, 0.005], noise_cov=0.5)
    >>> round(r.order, 1)  # symplectic Euler, isotropic noise: order 2
    2.0
    """
    from ..maps import to_optimizer
    from ._discrete import stationary_covariance

    H = check_hessian(H)
    method = _v.choice("method", method, LANGEVIN_METHODS)
    hs = _v.vector("steps", steps)
    if hs.size < 2 or np.any(hs <= 0.0):
        raise ValueError("`steps` must hold at least two steps > 0")
    n = H.shape[0]
    errors = []
    for h in hs:
        opt = to_optimizer(mass, friction, float(h), method)
        C = stationary_covariance(H, opt.lr, opt.momentum, "nesterov" if opt.nesterov else "heavy_ball", noise_cov)
        S = continuous_covariance(*langevin_sde(H, mass, friction, float(h), noise_cov))[:n, :n]
        errors.append(_relative(C, S))
    errors = np.array(errors)
    return SDELimit(hs, errors, fitted_order(hs, errors))


def modified_equation_limit(H, lrs, momentum=0.0, method="heavy_ball", *, noise_cov=1.0):
    r"""The noisy optimiser against its stochastic modified equation, as ``lr -> 0`` at fixed momentum.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    lrs : array_like
        Learning rates ``> 0`` (at least two).
    momentum : float in [0, 1)
        ``beta``, held fixed; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance ``Q``.

    Returns
    -------
    SDELimit
        The relative error of :func:`heavyball.noise.stationary_covariance`
        against :func:`continuous_covariance` of :func:`modified_equation`,
        and its fitted order in ``lr``.

    Raises
    ------
    ValueError
        For bad parameters or an unstable learning rate.

    Notes
    -----
    The modified equation is a weak order-1 approximation and its stationary
    covariance solves ``H C + C H = lr Q / (1 - beta)`` (``C = lr s H^{-1} /
    (2 (1 - beta))`` for ``Q = s I``). For gradient descent the exact mode
    variance ``lr s / (lambda (2 - lr lambda))`` is off by the factor
    ``1 / (1 - lr lambda / 2)``: order 1 in ``lr``, for every method.

    References
    ----------
    Q. Li, C. Tai, W. E, "Stochastic modified equations and dynamics of
    stochastic gradient algorithms I: mathematical foundations", JMLR 20,
    2019.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> r = noise.modified_equation_limit(np.diag([1.0, 3.0]), [0.004, 0.002, 0.001], 0.0, "gd")
    >>> round(r.order, 2)
    1.0
    """
    from ._discrete import stationary_covariance

    H = check_hessian(H)
    lrs = _v.vector("lrs", lrs)
    if lrs.size < 2 or np.any(lrs <= 0.0):
        raise ValueError("`lrs` must hold at least two learning rates > 0")
    errors = []
    for lr in lrs:
        C = stationary_covariance(H, float(lr), momentum, method, noise_cov)
        S = continuous_covariance(*modified_equation(H, float(lr), momentum, noise_cov))
        errors.append(_relative(C, S))
    errors = np.array(errors)
    return SDELimit(lrs, errors, fitted_order(lrs, errors))
