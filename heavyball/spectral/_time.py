r"""Behaviour over the steps: measured rates, transient growth, memory of momentum.

Private module behind :func:`heavyball.spectral.empirical_rate`,
:func:`~heavyball.spectral.transient_growth`, :func:`~heavyball.spectral.half_life`
and :func:`~heavyball.spectral.memory_window`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from ._modes import check_eigenvalues, check_method, check_rates, dominant_modulus, optimizer_coefficients


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
    _v.trajectory("trajectory", trajectory)
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
    pair = _pair_norms(e if v is None else np.concatenate([e, v], axis=1))
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


def _pair_norms(s):
    """``sqrt(|s_j|^2 + |s_{j-1}|^2)`` for ``j >= 1``, scaled so that no square under- or overflows."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing point is simply not resolvable
        a = np.abs(s).max(axis=1)
        m = np.maximum(a[1:], a[:-1])
        safe = np.where((m > 0) & np.isfinite(m), m, 1.0)[:, None]
        u1, u0 = s[1:] / safe, s[:-1] / safe
        return m * np.sqrt(np.sum(u1 * u1, axis=1) + np.sum(u0 * u0, axis=1))


class TransientGrowth(NamedTuple):
    r"""``||R^k||_2`` next to ``rho^k``; see :func:`transient_growth`.

    Parameters
    ----------
    steps : ndarray of int
        ``k = 0 .. n_steps``.
    norm : ndarray
        ``||R^k||_2`` per ``k``.
    rho_power : ndarray
        ``rho^k`` per ``k``.
    rho : float
        Spectral radius of ``R``.

    Notes
    -----
    A plain named tuple; ``norm >= rho_power`` always
    (``||R^k|| >= rho(R^k) = rho^k``: the spectral radius bounds every
    induced norm from below), with equality for all ``k`` when ``R`` is
    normal (gradient descent).

    Examples
    --------
    >>> from heavyball import spectral
    >>> g = spectral.transient_growth([1.0, 3.0], 0.5, method="gd", momentum=0.0, n_steps=2)
    >>> g.steps, g.norm, g.rho  # R = diag(0.5, -0.5)
    (array([0, 1, 2]), array([1.  , 0.5 , 0.25]), 0.5)
    """

    steps: np.ndarray
    norm: np.ndarray
    rho_power: np.ndarray
    rho: float


def _norm_2x2(p, q, r, s):
    """Largest singular value of ``[[p, q], [r, s]]`` per entry: ``(sqrt(F + 2|det|) + sqrt(F - 2|det|))/2``."""
    f = p * p + q * q + r * r + s * s
    d2 = 2.0 * np.abs(p * s - q * r)
    return 0.5 * (np.sqrt(f + d2) + np.sqrt(np.maximum(f - d2, 0.0)))


#: Largest ``n_steps`` of :func:`transient_growth` (seconds of work; ``rho^k``
#: has long left the float range for any contracting method by then).
MAX_GROWTH_STEPS = 10**6


def transient_growth(eigenvalues, lr, momentum=0.0, method="heavy_ball", n_steps=100):
    r"""``||R^k||_2`` against ``rho^k`` for ``k`` from 0 to ``n_steps``.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        Hessian eigenvalues.
    lr : float >= 0
        Learning rate, as in :func:`iteration_matrix`.
    momentum : float
        ``beta``, as in :func:`iteration_matrix`.
    method : {"gd", "heavy_ball", "nesterov"}
        As in :func:`iteration_matrix`.
    n_steps : int in [0, MAX_GROWTH_STEPS]
        Last power ``k`` computed (``MAX_GROWTH_STEPS = 10**6``).

    Returns
    -------
    TransientGrowth
        ``steps`` (``0..n_steps``), ``norm`` (``||R^k||_2``, the largest
        growth of ``|[e_k, e_{k-1}]|`` from any start), ``rho_power``
        (``rho^k``) and ``rho`` (:func:`spectral_radius`). Values beyond the
        float range are ``inf`` (only when ``rho > 1``).

    Raises
    ------
    ValueError
        For bad rates or eigenvalues, or ``n_steps > MAX_GROWTH_STEPS``.

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
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    lam, _ = check_eigenvalues(eigenvalues)
    n = _v.integer("n_steps", n_steps, low=0)
    if n > MAX_GROWTH_STEPS:
        raise ValueError(f"`n_steps` must be <= {MAX_GROWTH_STEPS} (a Python loop of n_steps vector updates), got {n}")
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


def half_life(beta):
    r"""Steps after which a gradient's weight in the momentum buffer has halved.

    Parameters
    ----------
    beta : float or array_like in (0, 1)
        Momentum coefficient(s).

    Returns
    -------
    float or ndarray
        ``ln 0.5 / ln beta`` (the weight of a gradient ``k`` steps old is
        ``beta^k``).

    Raises
    ------
    TypeError
        For strings, booleans or complex numbers (``"0.5"`` is not a number).
    ValueError
        For values outside ``(0, 1)``.

    Notes
    -----
    The momentum buffer ``b_k = beta b_{k-1} + g_k = sum_j beta^j g_{k-j}``
    weights a gradient ``k`` steps old by ``beta^k``; the half-life solves
    ``beta^k = 1/2``, ``k = ln 0.5 / ln beta`` (real, not rounded).

    Examples
    --------
    >>> from heavyball import spectral
    >>> round(spectral.half_life(0.9), 2), round(spectral.half_life(0.99), 2)
    (6.58, 68.97)
    """
    b = _v.real_array("beta", beta)
    if not np.all((b > 0.0) & (b < 1.0)):
        raise ValueError(f"`beta` must be in (0, 1), got {beta!r}")
    out = math.log(0.5) / np.log(b)
    return float(out) if out.ndim == 0 else out


def memory_window(beta, fraction=0.9):
    r"""How many recent gradients hold ``fraction`` of the momentum buffer's weight.

    Parameters
    ----------
    beta : float in (0, 1)
        Momentum coefficient.
    fraction : float in (0, 1)
        Share of the total weight the window must hold.

    Returns
    -------
    int
        The smallest ``N`` with ``1 - beta^N >= fraction``: the last ``N``
        gradients carry at least ``fraction`` of the total weight
        ``sum_i beta^i = 1/(1 - beta)`` of an infinitely long history.

    Raises
    ------
    ValueError
        For ``beta`` or ``fraction`` outside ``(0, 1)``.

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
