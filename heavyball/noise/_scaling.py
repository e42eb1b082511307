r"""Scaling rules of the noise floor in the learning rate, the momentum and the batch size."""

from __future__ import annotations

import math

import numpy as np

from .. import _validation as _v
from ..spectral._modes import check_hessian


def _trace_noise(noise_cov, n):
    from ._discrete import _noise_cov

    kind, Q = _noise_cov(noise_cov, n)
    return float(np.sum(Q)) if kind == "diag" else float(np.trace(Q))


def rule_floor(H, lr, momentum=0.0, noise_cov=1.0, batch_size=1):
    r"""The small-step floor ``lr tr(Q) / (4 B (1 - beta))`` (the linear scaling rule).

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian (only its size is used: the rule does not depend on
        the curvature).
    lr : float >= 0
        Learning rate.
    momentum : float in [0, 1)
        ``beta``.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of one sample's gradient noise.
    batch_size : int >= 1
        ``B``: the gradient noise has covariance ``Q / B``.

    Returns
    -------
    float
        The floor of the stochastic modified equation.

    Raises
    ------
    ValueError
        For bad input, naming the parameter.

    Notes
    -----
    The modified equation's stationary covariance solves
    ``H C + C H = lr Q / (B (1 - beta))``; taking the trace,

    .. math::

        \tfrac12 \operatorname{tr}(H C) = \frac{lr\, \operatorname{tr} Q}{4 B (1 - \beta)},

    for every ``H`` and ``Q``: the floor depends on ``(lr, beta, B)`` only
    through ``lr / (B (1 - beta))``. It is the limit of
    :func:`heavyball.noise.stationary_loss` as ``lr -> 0`` at fixed ``beta``
    for gradient descent, heavy ball and Nesterov.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> round(noise.rule_floor(np.diag([1.0, 100.0]), lr=0.01, momentum=0.9, noise_cov=1.0, batch_size=4), 12)
    0.0125
    """
    H = check_hessian(H)
    lr = _v.real("lr", lr, low=0.0)
    beta = _v.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    B = _v.integer("batch_size", batch_size, low=1)
    return lr * _trace_noise(noise_cov, H.shape[0]) / (4.0 * B * (1.0 - beta))


def rule_error(H, lr, momentum=0.0, method="heavy_ball", noise_cov=1.0):
    r"""How far the exact floor is from the linear scaling rule: ``floor / rule - 1``.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    lr : float > 0
        Learning rate.
    momentum : float in [0, 1)
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser (PyTorch semantics).
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance ``Q`` (not all zero).

    Returns
    -------
    float
        The relative error of :func:`rule_floor` against
        :func:`heavyball.noise.stationary_loss`; the same for every batch
        size, as both are proportional to ``1 / B``.

    Raises
    ------
    ValueError
        For an unstable setting, ``lr = 0``, zero noise, or bad input.

    Notes
    -----
    For heavy ball with ``Q = s I`` the floor of a mode with ``a = lr lambda``
    is ``lr s (1 + beta) / (2 (1 - beta)(2 (1 + beta) - a))``, so the error is
    the ``Q``-weighted mean over modes of

    .. math::

        \frac{2 (1 + \beta)}{2 (1 + \beta) - lr\,\lambda} - 1 = \frac{lr\,\lambda}{2 (1 + \beta) - lr\,\lambda},

    zero only as ``lr lambda -> 0`` and unbounded at the stability edge
    ``lr lambda -> 2 (1 + beta)``. Nesterov's differs (it can be negative).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> round(noise.rule_error(np.diag([100.0]), lr=0.01, momentum=0.5), 6)  # a / (2 (1 + b) - a), a = 1
    0.5
    """
    from ._discrete import stationary_loss

    H = check_hessian(H)
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    rule = rule_floor(H, lr, momentum, noise_cov)
    if not rule > 0.0:
        raise ValueError("`noise_cov` must not be zero: the rule and the floor are both 0")
    return stationary_loss(H, lr, momentum, method, noise_cov) / rule - 1.0


def batch_equivalents(H, lr, momentum=0.0, method="heavy_ball", noise_cov=1.0, batch_size=1, factor=2):
    r"""Floor and rate after multiplying the batch by ``factor``, and the two ways to keep the floor.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    lr : float > 0
        Learning rate.
    momentum : float in [0, 1)
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of one sample's gradient noise (not all zero).
    batch_size : int >= 1
        ``B`` of the base setting.
    factor : int >= 2
        ``k``: the batch grows to ``k B``.

    Returns
    -------
    dict
        Keys ``"base"`` ``(lr, beta, B)``, ``"batch"`` ``(lr, beta, k B)``,
        ``"batch_and_lr"`` ``(k lr, beta, k B)`` and ``"batch_and_momentum"``
        ``(lr, 1 - (1 - beta)/k, k B)`` (momentum only for heavy ball and
        Nesterov), each a dict with ``lr``, ``momentum``, ``batch_size``,
        ``floor`` (``inf`` when unstable), ``rule`` (:func:`rule_floor`),
        ``floor_ratio`` (floor over the base floor), ``rate`` (spectral
        radius) and ``samples`` (gradient samples per e-fold of the mean
        error, ``-B / ln(rate)``; ``inf`` when unstable).

    Raises
    ------
    ValueError
        When the base setting is unstable, or for bad input.

    Notes
    -----
    The floor is linear in the noise covariance, so ``floor(lr, beta, k B) =
    floor(lr, beta, B) / k`` exactly. The linear scaling rule keeps
    ``lr / (B (1 - beta))`` fixed, so both ``"batch_and_lr"`` and
    ``"batch_and_momentum"`` have ``floor_ratio -> 1`` as ``lr lambda -> 0``;
    the exact ratios say how far from 1 they are at a finite step.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> r = noise.batch_equivalents(np.diag([1.0, 100.0]), lr=0.001, momentum=0.9)
    >>> round(r["batch"]["floor_ratio"], 12), round(r["batch_and_lr"]["floor_ratio"], 3)
    (0.5, 1.014)
    """
    from ..spectral import spectral_radius
    from ._discrete import _check_stable, _inputs, stationary_loss

    H, lr, beta, method, _, diagonal = _inputs(H, lr, momentum, method, noise_cov)
    _check_stable(H, lr, beta, method, diagonal)
    B = _v.integer("batch_size", batch_size, low=1)
    k = _v.integer("factor", factor, low=2)
    if not rule_floor(H, lr, beta, noise_cov, B) > 0.0:
        raise ValueError("`noise_cov` must not be zero: every floor would be 0")
    lam = np.linalg.eigvalsh(H)
    settings = {"base": (lr, beta, B), "batch": (lr, beta, k * B), "batch_and_lr": (k * lr, beta, k * B)}
    if method != "gd":
        settings["batch_and_momentum"] = (lr, 1.0 - (1.0 - beta) / k, k * B)
    out = {}
    for name, (a, b, size) in settings.items():
        rate = float(spectral_radius(lam, a, b, method))
        Qb = _scaled(noise_cov, size)
        floor = stationary_loss(H, a, b, method, Qb) if rate < 1.0 else math.inf
        samples = -size / math.log(rate) if 0.0 < rate < 1.0 else (0.0 if rate == 0.0 else math.inf)
        out[name] = dict(lr=a, momentum=b, batch_size=size, floor=floor, rule=rule_floor(H, a, b, noise_cov, size),
                         rate=rate, samples=samples)
    for row in out.values():
        row["floor_ratio"] = row["floor"] / out["base"]["floor"] if out["base"]["floor"] > 0 else math.nan
    return out


def _scaled(noise_cov, size):
    Q = _v.real_array("noise_cov", noise_cov)
    return Q / size
