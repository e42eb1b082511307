r"""Per-mode characteristic polynomials and their roots, in closed form.

Private helpers of :mod:`heavyball.spectral`. On a quadratic with Hessian
eigenvalue ``lambda`` every method studied here reduces, mode by mode, to a
2x2 linear recurrence whose characteristic polynomial is
``s^2 - T s + D`` (trace ``T``, determinant ``D``). This module computes
``T``, ``D`` and the discriminant ``T^2 - 4 D`` for each method, written so
that the discriminant keeps its sign where it matters (a product of factors
instead of a difference of nearly equal numbers), and from them the roots and
the largest root modulus without any eigen-solver.

The coefficient functions work on validated float64 arrays; the ``check_*``
helpers at the end are the validation shared by the public functions.
"""

from __future__ import annotations

import numpy as np

from .. import _validation as _v
from .._methods import SGD_METHODS
from ..integrators import METHODS
from ..problems import Quadratic

#: Optimiser names accepted by the spectral functions.
OPTIMIZER_METHODS = SGD_METHODS


def optimizer_coefficients(lam, lr, beta, method):
    r"""Trace, determinant and discriminant of each mode's polynomial.

    Parameters
    ----------
    lam : ndarray, shape (n,)
        Hessian eigenvalues.
    lr, beta : float or ndarray broadcasting against ``lam``
        Learning rate and momentum.
    method : {"gd", "heavy_ball", "nesterov"}

    Returns
    -------
    T, D, disc : ndarray, shape (n,)
        ``s^2 - T s + D`` is the mode's characteristic polynomial and
        ``disc = T^2 - 4 D``.

    Notes
    -----
    With ``a = lr lambda``:

    * gradient descent: ``T = 1 - a``, ``D = 0`` (the polynomial
      ``s (s - (1 - a))`` of heavy ball at momentum 0);
    * heavy ball: ``T = 1 + beta - a``, ``D = beta``, and for ``beta >= 0``
      ``disc = ((1 - sqrt beta)^2 - a) ((1 + sqrt beta)^2 - a)``;
    * Nesterov (PyTorch's look-ahead iterate): ``T = (1 + beta)(1 - a)``,
      ``D = beta (1 - a)``, ``disc = (1 - a) ((1 - beta)^2 - (1 + beta)^2 a)``.

    The factored discriminants vanish exactly where the roots coincide, so
    their sign (complex or real roots) is decided to relative rounding of
    each factor rather than to absolute rounding of ``T^2``.

    Raises
    ------
    ValueError
        When ``lr lambda`` is so large that a coefficient overflows float64.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return finite_modes(*_optimizer_coefficients(lam, lr, beta, method))


def finite_or_raise(values, what, names="`eigenvalues`, `lr`, `momentum`, `mass`, `friction` or `step`"):
    """Return ``values`` if all finite, else raise a ValueError saying ``what`` overflowed.

    ``names`` lists the parameters the caller took, for the message.
    """
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} overflows float64; the inputs ({names}) are too large (or `mass` too small) "
                         "for this analysis")
    return values


def finite_modes(T, D, disc):
    """Return ``(T, D, disc)``, or raise when one of them overflowed."""
    if not (np.all(np.isfinite(T)) and np.all(np.isfinite(D)) and np.all(np.isfinite(disc))):
        raise ValueError("the largest |eigenvalue| (`eigenvalues`) times `lr` (`step`^2/`mass`), or the `momentum` "
                         "(from `friction`), is too large: the mode polynomial "
                         "overflows float64 (such a mode diverges at once)")
    return T, D, disc


def _optimizer_coefficients(lam, lr, beta, method):
    a, beta = np.broadcast_arrays(np.multiply(lr, lam), np.asarray(beta, dtype=np.float64))
    if method == "gd":
        T = 1.0 - a
        return T, np.zeros_like(T), T * T
    if method == "heavy_ball":
        T = (1.0 + beta) - a
        s = np.sqrt(np.maximum(beta, 0.0))
        # beta < 0 gives D < 0, and then T^2 - 4 D is a sum of non-negative terms
        disc = np.where(beta >= 0.0, ((1.0 - s) ** 2 - a) * ((1.0 + s) ** 2 - a), T * T - 4.0 * beta)
        return T, beta.copy(), disc
    c = 1.0 - a
    return (1.0 + beta) * c, beta * c, c * ((1.0 - beta) ** 2 - (1.0 + beta) ** 2 * a)


def explicit_euler_coefficients(lam, mass, friction, step):
    r"""``T``, ``D``, discriminant of explicit Euler with ``mass > 0``, per mode.

    Notes
    -----
    The per-mode update ``[[1, h], [-(h/m) lambda, beta]]`` with
    ``beta = 1 - h gamma/m`` has ``T = 1 + beta``, ``D = beta + h^2 lambda/m``
    and ``disc = (1 - beta)^2 - 4 h^2 lambda/m``.
    """
    beta = 1.0 - step * friction / mass
    with np.errstate(over="ignore", invalid="ignore"):
        a = step * step * lam / mass
        T = np.full_like(a, 1.0 + beta)
        return finite_modes(T, beta + a, (1.0 - beta) ** 2 - 4.0 * a)


def roots_from_coefficients(T, D, disc):
    r"""Both roots of ``s^2 - T s + D`` per mode, without cancellation.

    Returns
    -------
    ndarray, complex, shape (n, 2)
        Column 0 holds the root of larger modulus (for a complex pair, the one
        with non-negative imaginary part), column 1 the other.

    Notes
    -----
    Complex pair (``disc < 0``): ``T/2 +- i sqrt(-disc)/2``. Real roots:
    ``q = (T + sign(T) sqrt(disc)) / 2`` and ``D / q`` (``q`` is a sum of
    terms of one sign, so neither root loses digits to cancellation).
    """
    return _roots(T, D, disc)


def _roots(T, D, disc):
    out = np.empty(T.shape + (2,), dtype=np.complex128)
    cplx = disc < 0.0
    half_im = 0.5 * np.sqrt(np.where(cplx, -disc, 0.0))
    out[:, 0] = np.where(cplx, 0.5 * T + 1j * half_im, 0.0)
    out[:, 1] = np.conj(out[:, 0])
    real = ~cplx
    if np.any(real):
        Tr, Dr = T[real], D[real]
        q = 0.5 * (Tr + np.copysign(np.sqrt(disc[real]), Tr))
        safe = np.where(q == 0.0, 1.0, q)
        out[real, 0] = q
        out[real, 1] = np.where(q == 0.0, 0.0, Dr / safe)
    out += 0.0  # no signed zeros in the output
    return out


def dominant_modulus(T, D, disc):
    r"""Largest root modulus of ``s^2 - T s + D`` per mode, in closed form.

    Notes
    -----
    ``sqrt(D)`` (the modulus of each root of a complex or double pair: the
    square root of their product) when ``disc <= 0``; otherwise
    ``(|T| + sqrt(disc)) / 2``, a sum of non-negative terms.
    """
    complex_or_double = np.sqrt(np.maximum(D, 0.0))
    real = 0.5 * (np.abs(T) + np.sqrt(np.maximum(disc, 0.0)))
    return np.where(disc <= 0.0, complex_or_double, real)


# ----------------------------------------------------------------------------- validation

def check_method(method):
    return _v.choice("method", method, list(OPTIMIZER_METHODS))


def check_eigenvalues(eigenvalues):
    """Float64 copy of a scalar or 1-D array, and whether the input was a scalar."""
    lam = _v.real_array("eigenvalues", eigenvalues)
    scalar = lam.ndim == 0
    lam = _v.vector("eigenvalues", lam.reshape(-1) if scalar else lam)
    if lam.size == 0:
        raise ValueError("`eigenvalues` must be non-empty")
    return lam, scalar


def check_rates(lr, momentum, method):
    lr = _v.real("lr", lr, low=0.0)
    beta = _v.real("momentum", momentum)
    if method == "gd" and beta != 0.0:
        raise ValueError(f"`momentum` must be 0 for method 'gd', got {momentum!r}")
    return lr, beta


def check_hessian(H):
    """Dense symmetric float64 Hessian from an array or a :class:`~heavyball.Quadratic`."""
    if isinstance(H, Quadratic):
        return np.diag(H.hessian_diagonal) if H.is_diagonal else np.array(H.H)
    H = _v.real_array("H", H)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"`H` must be a non-empty square matrix, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("`H` must be finite")
    scale = max(float(np.max(np.abs(H))), np.finfo(float).tiny)
    if float(np.max(np.abs(H - H.T))) > 1e-12 * scale:
        raise ValueError("`H` must be symmetric (a Hessian)")
    return 0.5 * (H + H.T)


def check_physical(mass, friction, step, method):
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
