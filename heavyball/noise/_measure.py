r"""Beyond quadratics, measured: the simulated floor over seeds against the quadratic prediction."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _validation as _v


class MeasuredFloor(NamedTuple):
    """A simulated noise floor with its error bar, and the quadratic prediction.

    Parameters
    ----------
    mean : float
        Mean over seeds of each run's time-averaged ``L(x_k) - L*`` after
        the burn-in (``inf`` when a run diverged).
    stderr : float
        Standard error of ``mean`` (the runs are independent).
    prediction : float
        :func:`heavyball.noise.stationary_loss` at the minimiser's Hessian
        with the noise covariance at the minimiser (``inf`` when unstable).
    per_seed : ndarray
        Each run's time average.

    Notes
    -----
    ``mean +- 3 stderr`` is the band the prediction is set against.

    Examples
    --------
    >>> from heavyball import noise
    >>> noise.MeasuredFloor(1.0, 0.1, 1.05, None).stderr
    0.1
    """

    mean: float
    stderr: float
    prediction: float
    per_seed: np.ndarray


def measured_floor(problem, lr, momentum=0.0, method="heavy_ball", *, grad_noise=0.0, stochastic=False,
                   n_steps=2000, burn_in=500, seeds=8, x0=None):
    r"""The loss floor of a noisy optimiser on any problem, simulated over seeds.

    Parameters
    ----------
    problem : Problem
        A problem with ``minimizer`` and ``min_value`` (e.g.
        :class:`heavyball.Rosenbrock`, :class:`heavyball.DoubleWell`,
        :class:`heavyball.landscapes.LeastSquares`).
    lr : float > 0
        Learning rate.
    momentum : float
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        ``GD`` or ``SGD(lr, momentum, nesterov=...)``.
    grad_noise : float >= 0
        ``sigma`` of :func:`heavyball.optimize` (Gaussian, ``Q = sigma^2 I``).
    stochastic : bool
        Use ``problem.stochastic_grad`` (minibatches); the prediction then
        takes ``problem.gradient_covariance(x*)`` (``Sigma_1(x*) / B``).
    n_steps : int >= 1
        Steps per run.
    burn_in : int >= 0
        Steps left out of each time average (``< n_steps``).
    seeds : int >= 2
        Independent runs, seeds ``0 .. seeds - 1``.
    x0 : array_like, optional
        Start (default: the minimiser).

    Returns
    -------
    MeasuredFloor
        The simulated floor, its standard error and the quadratic prediction.

    Raises
    ------
    ValueError
        For bad input or a problem without a minimiser.

    Notes
    -----
    Run ``s`` gives ``F_s = mean_{burn_in < k <= n_steps} (L(x_k) - L*)``;
    ``mean = mean_s F_s``, ``stderr = std_s(F_s) / sqrt(seeds)``. The
    prediction is the floor ``1/2 tr(H C)`` of the quadratic
    ``1/2 (x - x*)^T H (x - x*)``, ``H = hessian(x*)``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import noise
    >>> r = noise.measured_floor(hb.Quadratic.diagonal([1.0, 10.0]), 0.05, 0.5, grad_noise=0.1,
    ...                          n_steps=400, burn_in=100, seeds=4)
    >>> round(r.prediction, 6), bool(abs(r.mean - r.prediction) < 5 * r.stderr)
    (0.000554, True)
    """
    from ..optimizers import GD, SGD, optimize
    from ..spectral._modes import check_method, check_rates
    from ._discrete import stationary_loss

    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    sigma = _v.real("grad_noise", grad_noise, low=0.0)
    stochastic = _v.flag("stochastic", stochastic)
    n = _v.integer("n_steps", n_steps, low=1)
    burn = _v.integer("burn_in", burn_in, low=0)
    if burn >= n:
        raise ValueError(f"`burn_in` must be < `n_steps` = {n}, got {burn}")
    k = _v.integer("seeds", seeds, low=2)
    x_star = getattr(problem, "minimizer", None)
    if x_star is None:
        raise ValueError("`problem` must have a `minimizer` (a DoubleWell needs a tilt)")
    x_star = np.asarray(x_star, dtype=float)
    start = x_star if x0 is None else _v.vector("x0", x0, x_star.size)
    opt = GD(lr) if method == "gd" else SGD(lr, momentum=beta, nesterov=method == "nesterov")
    H = np.asarray(problem.hessian(x_star), dtype=float)
    Q = np.asarray(problem.gradient_covariance(x_star), dtype=float) if stochastic else sigma * sigma
    try:
        prediction = stationary_loss(0.5 * (H + H.T), lr, beta, method, Q)
    except ValueError:
        prediction = math.inf
    per_seed = np.empty(k)
    for s in range(k):
        traj = optimize(problem, opt, start, n_steps=n, grad_noise=sigma, seed=s, stochastic=stochastic)
        loss = np.asarray(traj.loss, dtype=float)
        ok = traj.status >= 0 and loss.size == n + 1 and np.all(np.isfinite(loss))
        per_seed[s] = float(np.mean(loss[burn + 1:] - problem.min_value)) if ok else math.inf
    if not np.all(np.isfinite(per_seed)):
        return MeasuredFloor(math.inf, math.inf, prediction, per_seed)
    return MeasuredFloor(float(per_seed.mean()), float(per_seed.std(ddof=1) / math.sqrt(k)), prediction, per_seed)
