r"""Speed against floor: the (lr, momentum) maps of the rate and the floor, and their Pareto front."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from .._methods import SGD_METHODS
from ..spectral._modes import check_hessian


class Tradeoff(NamedTuple):
    """Rate and floor over a ``(lr, momentum)`` grid, and the tunings on their Pareto front.

    Parameters
    ----------
    lrs : ndarray, shape (l,)
        Learning rates (columns).
    momenta : ndarray, shape (m,)
        Momenta (rows).
    rate : ndarray, shape (m, l)
        Spectral radius at each point.
    floor : ndarray, shape (m, l)
        Stationary ``E[L] - L*``; ``inf`` where the rate is ``>= 1``.
    front : ndarray, shape (k, 2)
        ``(i, j)`` (momentum row, lr column) of the Pareto-optimal points,
        ordered by increasing rate (decreasing floor).

    Notes
    -----
    A point is on the front when no other grid point has a rate and a floor
    both at most its own, one strictly smaller (:func:`pareto_front`).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> t = noise.tradeoff(np.diag([1.0, 10.0]), [0.01, 0.1], [0.0, 0.5])
    >>> t.rate.shape, t.front.shape[1]
    ((2, 2), 2)
    """

    lrs: np.ndarray
    momenta: np.ndarray
    rate: np.ndarray
    floor: np.ndarray
    front: np.ndarray


def pareto_front(rates, floors):
    r"""Indices of the points no other point beats in both rate and floor.

    Parameters
    ----------
    rates : array_like
        Contraction rates (smaller is faster).
    floors : array_like, same shape
        Loss floors (smaller is better).

    Returns
    -------
    ndarray of int
        Flat indices (into ``np.ravel(rates)``) of the non-dominated points,
        sorted by increasing rate; points with a non-finite rate or floor
        are left out. Equal points are all kept.

    Raises
    ------
    ValueError
        When the shapes differ.

    Notes
    -----
    ``p`` is dominated when some ``q`` has ``rate_q <= rate_p`` and
    ``floor_q <= floor_p`` with one inequality strict. Sorting by
    ``(rate, floor)`` and keeping each point whose floor is below every
    floor before it (or equal to the last kept point) finds the front in
    ``O(N log N)``.

    Examples
    --------
    >>> from heavyball import noise
    >>> noise.pareto_front([0.9, 0.8, 0.95, 0.85], [1.0, 3.0, 0.5, 3.5])
    array([1, 0, 2])
    """
    r = np.ravel(_v.real_array("rates", rates))
    f = np.ravel(_v.real_array("floors", floors))
    if np.shape(rates) != np.shape(floors):
        raise ValueError(f"`rates` and `floors` must have the same shape, got {np.shape(rates)} and "
                         f"{np.shape(floors)}")
    idx = np.flatnonzero(np.isfinite(r) & np.isfinite(f))
    idx = idx[np.lexsort((f[idx], r[idx]))]
    keep, best, last = [], np.inf, None
    for k in idx:
        if f[k] < best or (last is not None and f[k] == f[last] and r[k] == r[last]):
            keep.append(k)
            best, last = f[k], k
    return np.array(keep, dtype=int)


def tradeoff(H, lrs, momenta, method="heavy_ball", noise_cov=1.0):
    r"""The rate map, the floor map and the Pareto front of a quadratic under noise.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    lrs : array_like, shape (l,)
        Learning rates ``> 0``.
    momenta : array_like, shape (m,)
        Momenta in ``[0, 1)`` (only ``[0.0]`` for ``"gd"``).
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser (PyTorch semantics).
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance ``Q`` (``sigma^2`` for ``grad_noise = sigma``).

    Returns
    -------
    Tradeoff
        ``rate`` from :func:`heavyball.spectral.spectral_radius`, ``floor``
        from :func:`heavyball.noise.stationary_loss` (``inf`` where
        unstable), and the :func:`pareto_front` of the two.

    Raises
    ------
    ValueError
        For bad input, naming the parameter.

    Notes
    -----
    With ``H = V diag(lambda) V^T`` and ``V^T Q V`` diagonal (always for
    ``Q = s I``), the floor is the sum of the closed-form mode floors
    ``lambda_i c_i / 2`` of :func:`heavyball.noise.stationary_covariance`,
    evaluated on the whole grid at once; otherwise each point solves its
    discrete Lyapunov equation.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> t = noise.tradeoff(np.diag([1.0, 100.0]), np.geomspace(1e-3, 1e-2, 3), [0.0, 0.5, 0.9])
    >>> [(float(t.lrs[j]), float(t.momenta[i])) for i, j in t.front][:2]
    [(0.0031622776601683794, 0.9), (0.01, 0.5)]
    """
    from ..spectral import spectral_radius
    from ._discrete import _mode_variance, _noise_cov, stationary_loss
    from ..spectral._modes import check_method, check_rates

    H = check_hessian(H)
    method = check_method(method)
    lrs = _grid("lrs", lrs, positive=True)
    momenta = _grid("momenta", momenta)
    for b in momenta:
        check_rates(float(lrs[0]), float(b), method)
    if momenta[-1] >= 1.0:
        raise ValueError(f"`momenta` must be < 1, got {momenta[-1]!r}")
    lam, V = np.linalg.eigh(H)
    kind, Q = _noise_cov(noise_cov, H.shape[0])
    Qv = V.T @ (np.diag(Q) if kind == "diag" else Q) @ V
    rate = np.array([[spectral_radius(lam, lr, b, method) for lr in lrs] for b in momenta])
    stable = rate < 1.0
    floor = np.full(rate.shape, np.inf)
    off = Qv - np.diag(np.diag(Qv))
    if np.max(np.abs(off), initial=0.0) <= 1e-12 * max(np.max(np.abs(Qv)), np.finfo(float).tiny):
        B, L = np.meshgrid(momenta, lrs, indexing="ij")
        with np.errstate(all="ignore"):
            var = _mode_variance(lam[:, None, None], L[None], B[None], method, np.diag(Qv)[:, None, None])
            total = 0.5 * np.sum(lam[:, None, None] * var, axis=0)
        floor[stable] = total[stable]
    else:
        for i, j in zip(*np.nonzero(stable)):
            floor[i, j] = stationary_loss(H, float(lrs[j]), float(momenta[i]), method, Q)
    flat = pareto_front(rate, floor)
    front = np.stack(np.unravel_index(flat, rate.shape), axis=1) if flat.size else np.empty((0, 2), int)
    return Tradeoff(lrs, momenta, rate, floor, front)


def _grid(name, values, positive=False):
    arr = np.atleast_1d(_v.real_array(name, values)).astype(float)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be a finite 1-D grid, got shape {arr.shape}")
    if arr.size == 0 or np.any(np.diff(arr) <= 0) or (positive and arr[0] <= 0) or (not positive and arr[0] < 0):
        raise ValueError(f"`{name}` must be strictly increasing and {'> 0' if positive else '>= 0'}, got {values!r}")
    return arr


def spectrum_floors(kappa, mu=1.0, sigma=1.0, lr=None, momentum=0.0, method="heavy_ball"):
    r"""Rate and noise floor of each optimal tuning (and of one setting) on ``diag(mu, kappa mu)``.

    The numbers behind ``heavyball spectrum ... --noise SIGMA``.

    Parameters
    ----------
    kappa : float >= 1
        Condition number.
    mu : float > 0
        Smallest eigenvalue.
    sigma : float >= 0
        Gradient noise standard deviation per coordinate (``grad_noise``).
    lr : float > 0, optional
        Also report this setting.
    momentum : float
        Momentum of the setting (0 for ``"gd"``).
    method : {"gd", "heavy_ball", "nesterov"}
        Method of the setting.

    Returns
    -------
    dict
        ``noise_cov`` (``sigma^2``), ``optimal`` (per method: ``lr``,
        ``momentum``, ``rate``, ``floor``, ``rule``) and, with ``lr``, ``at``
        (the same keys for the setting; ``floor`` None when unstable).

    Raises
    ------
    ValueError
        For bad input, naming the parameter.

    Notes
    -----
    ``floor`` is :func:`heavyball.noise.stationary_loss` with
    ``Q = sigma^2 I``, ``rule`` the small-step :func:`heavyball.noise.rule_floor`
    ``lr sigma^2 n / (4 (1 - beta))`` (``n = 2``), ``rate`` the spectral radius.

    Examples
    --------
    >>> from heavyball import noise
    >>> r = noise.spectrum_floors(100.0, sigma=0.1)
    >>> round(r["optimal"]["heavy_ball"]["floor"], 6), round(r["optimal"]["heavy_ball"]["rate"], 6)
    (0.025502, 0.818182)
    """
    from ..spectral import optimal_parameters, spectral_radius
    from ._discrete import stationary_loss
    from ._scaling import rule_floor

    kappa = _v.real("kappa", kappa, low=1.0)
    mu = _v.real("mu", mu, low=0.0, low_open=True)
    sigma = _v.real("sigma", sigma, low=0.0)
    H = np.diag([mu, kappa * mu])
    if not np.isfinite(H).all():
        raise ValueError("`kappa` * `mu` must be finite")
    s = sigma * sigma

    def row(a, b, m):
        rate = float(spectral_radius(np.diag(H), a, b, m))
        floor = stationary_loss(H, a, b, m, s) if rate < 1.0 else None
        return dict(lr=a, momentum=b, rate=rate, floor=floor, rule=rule_floor(H, a, b, s))

    out = dict(noise_cov=s, optimal={})
    for m in SGD_METHODS:
        a, b, _ = optimal_parameters(mu, kappa * mu, m)
        out["optimal"][m] = row(a, b, m)
    if lr is not None:
        out["at"] = dict(row(_v.real("lr", lr, low=0.0, low_open=True), _v.real("momentum", momentum), method),
                         method=method)
    return out
