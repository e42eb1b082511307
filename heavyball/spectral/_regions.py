r"""Regimes of heavy ball per mode, and the curves that bound them.

Private module behind :func:`heavyball.spectral.regime`,
:func:`~heavyball.spectral.regime_boundaries` and
:func:`~heavyball.spectral.convergence_region`. Everything lives in the plane
of ``a = lr lambda`` (horizontal, as in Goh's *Why Momentum Really Works*) and
``beta`` (vertical). Heavy ball's mode polynomial ``s^2 - (1 + beta - a) s + beta``
has, for ``0 <= beta < 1``:

=====================================  ===============  ==============================
``a``                                  regime           roots, rate
=====================================  ===============  ==============================
``0 < a < (1 - sqrt beta)^2``          monotone         real, positive; rate = larger root
``(1 - sqrt beta)^2 < a < (1 + sqrt beta)^2``  oscillating  complex pair of modulus ``sqrt beta``
``(1 + sqrt beta)^2 < a < 2 + 2 beta``  sign_flipping   real, negative
``a <= 0`` or ``a >= 2 + 2 beta``      divergent        a root of modulus >= 1
=====================================  ===============  ==============================

The oscillating ("ripple") rate is ``sqrt beta``, the modulus of the complex
roots: independent of ``lr`` and ``lambda`` (Goh's figure labels it
``2 sqrt beta``, which exceeds 1 for ``beta > 1/4``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from ._modes import dominant_modulus, optimizer_coefficients

#: Regime names in code order: ``regime(..., codes=True)`` returns indices into this tuple.
REGIMES = ("monotone", "oscillating", "sign_flipping", "divergent")


def _finite(name, value):
    arr = _v.real_array(name, value) if not isinstance(value, (bool, np.bool_)) else None
    if arr is None or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite real numbers, got {value!r}")
    return arr


def regime(eigenvalue, lr, momentum, *, codes=False):
    r"""How heavy ball moves along one eigen-direction.

    Parameters
    ----------
    eigenvalue : float or array_like
        Hessian eigenvalue ``lambda``; broadcast against the others.
    lr : float or array_like
        Learning rate, ``>= 0``.
    momentum : float or array_like
        ``beta``.
    codes : bool
        Return indices into :data:`REGIMES` (an int array) instead of names,
        handy for a filled regime map.

    Returns
    -------
    str or ndarray
        One of ``"monotone"``, ``"oscillating"``, ``"sign_flipping"``,
        ``"divergent"``; a str for scalar inputs, else an array of the
        broadcast shape.

    Raises
    ------
    ValueError
        For non-finite inputs, a negative ``lr``, or shapes that do not
        broadcast.

    Notes
    -----
    From the roots of ``s^2 - (1 + beta - a) s + beta``, ``a = lr lambda``:
    ``"divergent"`` when the larger modulus is ``>= 1`` (the mode does not
    converge; the boundary itself, e.g. ``a = 0``, is included);
    otherwise ``"oscillating"`` for complex roots, ``"monotone"`` when the
    dominant root is ``>= 0`` and ``"sign_flipping"`` when it is negative. For
    ``0 <= beta < 1`` these are exactly the regions between the curves of
    :func:`regime_boundaries`, and from rest (``x_{-1} = x_0``) the error is
    then strictly monotone, changes sign irregularly (``e_k ~ beta^(k/2)
    cos(k theta + phi)``) or alternates sign every step. For ``beta < 0``
    the roots are real with opposite signs and the label describes the
    dominant root, i.e. the long-run behaviour. A double root (the boundary
    between monotone and oscillating) counts as monotone. The regimes are
    those of Goh's map of momentum [1]_.

    References
    ----------
    .. [1] G. Goh, "Why Momentum Really Works", Distill, 2017.
       https://distill.pub/2017/momentum/

    Examples
    --------
    >>> from heavyball import spectral
    >>> [spectral.regime(1.0, lr, 0.5) for lr in (0.05, 1.0, 2.95, 3.5)]
    ['monotone', 'oscillating', 'sign_flipping', 'divergent']
    """
    lam, lr_arr, beta = (_finite(n, v) for n, v in (("eigenvalue", eigenvalue), ("lr", lr),
                                                   ("momentum", momentum)))
    if np.any(lr_arr < 0.0):
        raise ValueError(f"`lr` must be >= 0, got {lr!r}")
    lam, lr_arr, beta = np.broadcast_arrays(lam, lr_arr, beta)
    shape = lam.shape
    T, D, disc = optimizer_coefficients(lam.ravel(), lr_arr.ravel(), beta.ravel(), "heavy_ball")
    rho = dominant_modulus(T, D, disc)
    flips = (T < 0.0) | ((T == 0.0) & (D < 0.0))
    code = np.where(rho >= 1.0, 3, np.where(disc < 0.0, 1, np.where(flips, 2, 0))).reshape(shape)
    if _v.flag("codes", codes):
        return code
    names = np.array(REGIMES)[code]
    return str(names) if names.ndim == 0 else names


class Curve(NamedTuple):
    r"""A boundary curve in the ``(lr lambda, beta)`` plane: ``ax.plot(c.lr_lambda, c.momentum)``.

    Parameters
    ----------
    lr_lambda : ndarray
        Horizontal coordinates ``a = lr lambda``.
    momentum : ndarray
        Vertical coordinates ``beta``, same shape.

    Notes
    -----
    A plain named tuple of two equally long arrays, one point per index;
    built by :func:`regime_boundaries`.

    Examples
    --------
    >>> from heavyball import spectral
    >>> c = spectral.regime_boundaries(num=3).stability
    >>> c.lr_lambda, c.momentum  # lr lambda = 2 + 2 beta
    (array([0., 2., 4.]), array([-1.,  0.,  1.]))
    """

    lr_lambda: np.ndarray
    momentum: np.ndarray


class RegimeBoundaries(NamedTuple):
    r"""The curves of :func:`regime_boundaries` (each a :class:`Curve`).

    Parameters
    ----------
    monotone_oscillating : Curve
        ``lr lambda = (1 - sqrt beta)^2``, ``beta in [0, 1]``.
    oscillating_sign_flipping : Curve
        ``lr lambda = (1 + sqrt beta)^2``, ``beta in [0, 1]``.
    stability : Curve
        ``lr lambda = 2 + 2 beta``, ``beta in [-1, 1]``.
    zero_step : Curve
        ``lr lambda = 0``, ``beta in [-1, 1]``.

    Notes
    -----
    A plain named tuple; iterate over it to draw every boundary.

    Examples
    --------
    >>> from heavyball import spectral
    >>> b = spectral.regime_boundaries(num=5)
    >>> b._fields
    ('monotone_oscillating', 'oscillating_sign_flipping', 'stability', 'zero_step')
    >>> [len(c.lr_lambda) for c in b]
    [5, 5, 5, 5]
    """

    monotone_oscillating: Curve
    oscillating_sign_flipping: Curve
    stability: Curve
    zero_step: Curve


def regime_boundaries(num=201):
    r"""Heavy ball's regime boundaries as curves in the ``(lr lambda, beta)`` plane.

    Parameters
    ----------
    num : int >= 2
        Points per curve.

    Returns
    -------
    RegimeBoundaries
        Four :class:`Curve` s, each with arrays ``lr_lambda`` and ``momentum``
        of shape ``(num,)``:

        * ``monotone_oscillating``: ``lr lambda = (1 - sqrt beta)^2``,
          ``beta in [0, 1]`` (critical damping; double root ``sqrt beta``);
        * ``oscillating_sign_flipping``: ``lr lambda = (1 + sqrt beta)^2``,
          ``beta in [0, 1]`` (double root ``-sqrt beta``);
        * ``stability``: ``lr lambda = 2 + 2 beta``, ``beta in [-1, 1]``
          (a root at ``-1``);
        * ``zero_step``: ``lr lambda = 0``, ``beta in [-1, 1]`` (a root at 1).

        The convergence region (:func:`convergence_region`) is the triangle
        bounded by ``zero_step``, ``stability`` and ``beta = 1``, with corners
        ``(0, -1)``, ``(0, 1)`` and ``(4, 1)``.

    Raises
    ------
    ValueError
        For ``num < 2`` or a ``num`` beyond the library's size limit.

    Notes
    -----
    Heavy ball's mode polynomial ``s^2 - (1 + beta - a) s + beta``
    (``a = lr lambda``) has discriminant
    ``((1 - sqrt beta)^2 - a)((1 + sqrt beta)^2 - a)``, which vanishes on the
    first two curves (double roots ``+sqrt beta`` and ``-sqrt beta``); it has
    the root ``-1`` where ``1 + (1 + beta - a) + beta = 0``, i.e.
    ``a = 2 + 2 beta``, and the root ``1`` where ``a = 0``. The ``beta``
    samples are ``linspace(0, 1, num)`` or ``linspace(-1, 1, num)``. The
    plane and the curves are those of Goh [1]_.

    References
    ----------
    .. [1] G. Goh, "Why Momentum Really Works", Distill, 2017.
       https://distill.pub/2017/momentum/

    Examples
    --------
    >>> from heavyball import spectral
    >>> b = spectral.regime_boundaries(num=3)
    >>> b.monotone_oscillating.momentum, b.monotone_oscillating.lr_lambda
    (array([0. , 0.5, 1. ]), array([1.        , 0.08578644, 0.        ]))
    """
    num = _v.integer("num", num, low=2)
    _v.check_size("num", num, 8 * num, "the boundary curves", "lower `num`")
    nonneg = np.linspace(0.0, 1.0, num)
    full = np.linspace(-1.0, 1.0, num)
    root = np.sqrt(nonneg)
    return RegimeBoundaries(
        Curve((1.0 - root) ** 2, nonneg),
        Curve((1.0 + root) ** 2, nonneg.copy()),
        Curve(2.0 + 2.0 * full, full),
        Curve(np.zeros(num), full.copy()),
    )


def convergence_region(lr_lambda, momentum):
    r"""Whether heavy ball converges along a mode: ``0 < lr lambda < 2 + 2 beta``, ``|beta| < 1``.

    Parameters
    ----------
    lr_lambda : float or array_like
        ``a = lr lambda``; broadcast against ``momentum``.
    momentum : float or array_like
        ``beta``.

    Returns
    -------
    bool or ndarray of bool
        True where both roots lie strictly inside the unit disc; a bool for
        scalar inputs.

    Raises
    ------
    ValueError
        For non-finite inputs.

    Notes
    -----
    The Schur-Cohn (Jury) conditions for both roots of
    ``s^2 - T s + D`` inside the unit disc are ``|D| < 1`` and
    ``|T| < 1 + D``; with ``T = 1 + beta - a``, ``D = beta`` they read
    ``|beta| < 1`` and ``0 < a < 2 + 2 beta`` [1]_.

    References
    ----------
    .. [1] E. I. Jury, "Theory and Application of the z-Transform Method",
       Wiley, 1964.

    Examples
    --------
    >>> from heavyball import spectral
    >>> spectral.convergence_region([0.5, 3.9, 3.9], [0.0, 0.99, 0.9])
    array([ True,  True, False])
    """
    a = _finite("lr_lambda", lr_lambda)
    beta = _finite("momentum", momentum)
    with np.errstate(over="ignore"):  # 2 + 2 beta = inf for a huge beta: the comparison is still right
        inside = (np.abs(beta) < 1.0) & (a > 0.0) & (a < 2.0 + 2.0 * beta)
    return bool(inside) if inside.ndim == 0 else inside
