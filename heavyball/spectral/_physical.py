r"""The physical schemes as linear maps, and their continuous limit.

Private module behind :func:`heavyball.spectral.physical_iteration_matrix`,
:func:`~heavyball.spectral.physical_mode_roots`,
:func:`~heavyball.spectral.physical_spectral_radius`,
:func:`~heavyball.spectral.continuous_roots` and
:func:`~heavyball.spectral.continuous_limit`: one step of each integrator of
:mod:`heavyball.integrators` on a quadratic, acting on ``[x_k - x*, v_k]``,
and its comparison with the exact flow ``exp(h s)`` of ``m x'' + gamma x' + lambda x = 0``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from ..integrators import SCHEMES
from ._modes import (
    check_eigenvalues,
    check_hessian,
    check_physical,
    dominant_modulus,
    finite_or_raise,
    explicit_euler_coefficients,
    optimizer_coefficients,
    roots_from_coefficients,
)


def _physical_blocks(m, gamma, h, method):
    """Each per-mode entry of the update as ``p + q lambda``: ``((p11, q11), (p12, q12), ...)``."""
    return SCHEMES[method].blocks(h, m, gamma)


def physical_iteration_matrix(H, mass, friction, step, method):
    r"""The linear map of ``[x_k - x*, v_k]`` for one step of an integrator.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian of the quadratic.
    mass : float >= 0
        Particle mass ``m``.
    friction : float >= 0
        A constant; ``> 0`` when ``mass = 0``.
    step : float > 0
        Time step ``h``.
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

    Raises
    ------
    ValueError
        For a parameter out of range, a time-dependent ``friction``, an
        unknown method (or one other than ``"explicit_euler"`` with
        ``mass = 0``), a non-symmetric ``H``, or entries overflowing float64.

    Notes
    -----
    With ``beta = 1 - h gamma/m`` and ``A = (h^2/m) H``:

    ==============================  ===========================================================  ===========================
    method                          ``M``                                                        det per mode
    ==============================  ===========================================================  ===========================
    ``symplectic_euler``            ``[[I - A, h beta I], [-(h/m) H, beta I]]``                  ``beta``
    ``conformal_symplectic_euler``  same with ``beta = exp(-h gamma/m)``                         ``exp(-h gamma/m)``
    ``implicit_friction_euler``     same with ``beta = m/(m + gamma h)`` and ``A`` scaled by it  ``m/(m + gamma h)``
    ``nesterov``                    ``[[I - A, h beta (I - A)], [-(h/m) H, beta (I - A)]]``      ``beta (1 - h^2 lambda/m)``
    ``explicit_euler``              ``[[I, h I], [-(h/m) H, beta I]]``                           ``beta + h^2 lambda/m``
    ==============================  ===========================================================  ===========================

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
    m, gamma, h = check_physical(mass, friction, step, method)
    H = check_hessian(H)
    I = np.eye(H.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        if m == 0.0:
            return finite_or_raise(I - (h / gamma) * H, "`step / friction` times `H`")
        (p11, q11), (p12, q12), (p21, q21), (p22, q22) = _physical_blocks(m, gamma, h, method)
        M = np.block([[p11 * I + q11 * H, p12 * I + q12 * H], [p21 * I + q21 * H, p22 * I + q22 * H]])
        return finite_or_raise(M, "the iteration matrix")


def _gradient_flow_root(lam, gamma, h):
    """``1 - h lambda/gamma``: explicit Euler of ``gamma x' = -lambda x``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return finite_or_raise(1.0 - (h / gamma) * lam, "`step / friction` times the eigenvalues")


def _physical_coefficients(lam, m, gamma, h, method):
    """``T, D, disc`` of a physical scheme per mode, through the optimiser it equals."""
    scheme = SCHEMES[method]
    if scheme.optimizer is None:
        return explicit_euler_coefficients(lam, m, gamma, h)
    lr, beta = scheme.optimizer(h, m, gamma)
    return optimizer_coefficients(lam, lr, beta, "nesterov" if scheme.look_ahead else "heavy_ball")


def physical_mode_roots(eigenvalues, mass, friction, step, method):
    r"""Eigenvalues of :func:`physical_iteration_matrix`, mode by mode, in closed form.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues.
    mass : float >= 0
        Particle mass ``m``.
    friction : float >= 0
        Constant friction ``gamma`` (``> 0`` when ``mass = 0``).
    step : float > 0
        Time step ``h``.
    method : str
        As in :func:`physical_iteration_matrix`.

    Returns
    -------
    ndarray, complex, shape (n, 2), or (n, 1) when ``mass = 0``
        Ordered as in :func:`mode_roots`; a scalar eigenvalue drops the
        first axis.

    Raises
    ------
    ValueError
        As :func:`physical_iteration_matrix`, and for non-finite eigenvalues.

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
    m, gamma, h = check_physical(mass, friction, step, method)
    lam, scalar = check_eigenvalues(eigenvalues)
    if m == 0.0:
        roots = _gradient_flow_root(lam, gamma, h).astype(np.complex128)[:, None]
    else:
        roots = roots_from_coefficients(*_physical_coefficients(lam, m, gamma, h, method))
    return roots[0] if scalar else roots


def physical_spectral_radius(eigenvalues, mass, friction, step, method):
    r"""Spectral radius of :func:`physical_iteration_matrix`, in closed form per mode.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues.
    mass : float >= 0
        Particle mass ``m``.
    friction : float >= 0
        Constant friction ``gamma`` (``> 0`` when ``mass = 0``).
    step : float > 0
        Time step ``h``.
    method : str
        As in :func:`physical_iteration_matrix`.

    Returns
    -------
    float
        ``max_i max |z|`` over the roots ``z`` of
        :func:`physical_mode_roots`: the asymptotic contraction per step of
        ``[x - x*, v]``; the scheme is stable iff it is ``< 1``.

    Raises
    ------
    ValueError
        As :func:`physical_mode_roots`.

    Notes
    -----
    Per mode the scheme's polynomial ``s^2 - T s + D`` (see
    :func:`physical_mode_roots` for ``T``, ``D`` of each scheme) has largest
    root modulus ``sqrt(D)`` when ``disc = T^2 - 4 D <= 0`` and
    ``(|T| + sqrt(disc))/2`` otherwise; with ``mass = 0`` it is
    ``|1 - h lambda/gamma|``. Explicit Euler without friction has
    ``D = 1 + h^2 lambda/m > 1`` and is never stable.

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.physical_spectral_radius([1.0, 4.0], 1.0, 0.0, 0.01, "explicit_euler") > 1  # no friction
    True
    """
    m, gamma, h = check_physical(mass, friction, step, method)
    lam, _ = check_eigenvalues(eigenvalues)
    if m == 0.0:
        return float(np.max(np.abs(_gradient_flow_root(lam, gamma, h))))
    return float(np.max(dominant_modulus(*_physical_coefficients(lam, m, gamma, h, method))))


def continuous_roots(eigenvalues, mass, friction):
    r"""Roots ``s`` of ``m s^2 + gamma s + lambda``: the modes ``exp(s t)`` of the ODE.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues ``lambda``.
    mass : float >= 0
        Particle mass ``m``.
    friction : float >= 0
        Friction ``gamma`` (``> 0`` when ``mass = 0``).

    Returns
    -------
    ndarray, complex, shape (n, 2), or (n, 1) when ``mass = 0``
        Column 0 the slower root (larger real part; of a complex pair the one
        with ``Im >= 0``). With ``mass = 0`` the single root ``-lambda/gamma``
        of gradient flow. A scalar eigenvalue drops the first axis.

    Raises
    ------
    ValueError
        For a negative or non-finite ``mass`` or ``friction``, ``friction = 0``
        with ``mass = 0``, non-finite eigenvalues, or roots overflowing float64.

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
    lam, scalar = check_eigenvalues(eigenvalues)
    if m == 0.0 and gamma == 0.0:
        raise ValueError("`friction` must be > 0 when mass = 0, got 0.0")
    with np.errstate(over="ignore", invalid="ignore"):
        out = finite_or_raise(_continuous_roots(lam, m, gamma), "a continuous root")
    return out[0] if scalar else out


def _continuous_roots(lam, m, gamma):
    if m == 0.0:
        return (-lam / gamma).astype(np.complex128)[:, None]
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
    return out


class ContinuousLimit(NamedTuple):
    r"""Discrete roots next to ``exp(h s)``; see :func:`continuous_limit`.

    Parameters
    ----------
    continuous : ndarray, complex
        Roots ``s`` of ``m s^2 + gamma s + lambda``, shape ``(n, 2)``
        (``(n, 1)`` for ``mass = 0``).
    predicted : ndarray, complex
        ``exp(h s)``, same shape.
    discrete : ndarray, complex
        The scheme's roots, each paired with the nearest prediction.
    error : ndarray or float
        ``max |discrete - predicted|`` per mode, shape ``(n,)``.

    Notes
    -----
    A plain named tuple returned by :func:`continuous_limit`; for a scalar
    eigenvalue the first axis is dropped and ``error`` is a float.

    Examples
    --------
    >>> from heavyball import spectral
    >>> lim = spectral.continuous_limit([1.0, 4.0], 1.0, 1.0, 0.01)
    >>> lim.continuous.shape, lim.discrete.shape, lim.error.shape
    ((2, 2), (2, 2), (2,))
    """

    continuous: np.ndarray
    predicted: np.ndarray
    discrete: np.ndarray
    error: np.ndarray


def continuous_limit(eigenvalues, mass, friction, step, method="symplectic_euler"):
    r"""Compare each discrete root with ``exp(h s)`` of the continuous root it approximates.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues ``lambda``.
    mass : float >= 0
        Particle mass ``m``.
    friction : float >= 0
        Constant friction ``gamma`` (``> 0`` when ``mass = 0``).
    step : float > 0
        Time step ``h``.
    method : str, default "symplectic_euler"
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

    Raises
    ------
    ValueError
        As :func:`physical_mode_roots`, or when ``exp(h s)`` overflows.

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
    m, gamma, h = check_physical(mass, friction, step, method)
    lam, scalar = check_eigenvalues(eigenvalues)
    s = continuous_roots(lam, m, gamma)
    with np.errstate(over="ignore", invalid="ignore"):
        predicted = finite_or_raise(np.exp(h * s), "exp(h s)")
    z = physical_mode_roots(lam, m, gamma, h, method)
    if z.shape[1] == 2:
        straight = np.abs(z - predicted).sum(axis=1)
        crossed = np.abs(z[:, ::-1] - predicted).sum(axis=1)
        z = np.where((crossed < straight)[:, None], z[:, ::-1], z)
    error = np.abs(z - predicted).max(axis=1)
    if scalar:
        return ContinuousLimit(s[0], predicted[0], z[0], float(error[0]))
    return ContinuousLimit(s, predicted, z, error)
