r"""The exact noise floor of minibatch least squares (state-dependent gradient noise)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validation as _v


class MinibatchFloor(NamedTuple):
    """Exact floor of minibatch least squares and the constant-noise prediction.

    Parameters
    ----------
    floor : float
        Exact ``lim E[L(x_k)] - L*`` (``inf`` when not mean-square stable).
    covariance : ndarray, shape (n, n)
        Exact ``lim E[(x_k - x*)(x_k - x*)^T]`` (``inf`` entries when unstable).
    constant_noise_floor : float
        The prediction with the constant noise ``Sigma_1(x*) / B``
        (:func:`heavyball.noise.stationary_loss`; ``inf`` when unstable).
    second_moment_radius : float
        Spectral radius of the second-moment recursion; ``< 1`` iff the
        exact floor is finite.

    Notes
    -----
    See :func:`minibatch_floor` for the equations.

    Examples
    --------
    >>> from heavyball import noise
    >>> noise.MinibatchFloor(0.1, None, 0.09, 0.5).floor
    0.1
    """

    floor: float
    covariance: np.ndarray
    constant_noise_floor: float
    second_moment_radius: float


def minibatch_floor(problem, lr, momentum=0.0, method="heavy_ball", batch_size=None, replace=True):
    r"""Exact stationary loss of SGD on minibatch least squares, where the noise depends on ``x``.

    Parameters
    ----------
    problem : LeastSquares
        :class:`heavyball.landscapes.LeastSquares` (rows ``a_i``, targets
        ``y_i``, ``N`` samples); anything with ``A``, ``y``, ``minimizer``.
    lr : float > 0
        Learning rate.
    momentum : float
        ``beta``; 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser (PyTorch semantics).
    batch_size : int >= 1, optional
        ``B`` (default ``problem.batch_size``).
    replace : bool
        Draw the batch with replacement (``LeastSquares.stochastic_grad``)
        or without (then ``B <= N``).

    Returns
    -------
    MinibatchFloor
        The exact floor and covariance, the constant-noise prediction and
        the second-moment spectral radius.

    Raises
    ------
    ValueError
        For bad input, or when the iteration is not stable in the mean
        (:func:`heavyball.noise.stationary_covariance`'s condition).

    Notes
    -----
    With ``e = x - x*`` and ``r_i = a_i^T x* - y_i``, the sample gradient
    ``a_i (a_i^T e + r_i)`` is affine in ``e``, so the noise covariance is
    quadratic in ``e``:

    .. math::

        \operatorname{Cov}(g \mid e) = c_B \Big[\Sigma_1(x^*) + K(e e^T) - H e e^T H\Big],\quad
        K(P) = \frac1N \sum_i (a_i^T P a_i)\, a_i a_i^T,

    with ``c_B = 1/B`` (with replacement) or ``(N - B) / (B (N - 1))``
    (without) and ``Sigma_1(x*) = (1/N) sum_i r_i^2 a_i a_i^T``. Since the
    noise has mean 0 given the past, the second moment ``S_k = E[z_k z_k^T]``
    of the state ``z = (e, b)`` of :func:`heavyball.noise.noisy_system`
    obeys the *closed* linear recursion
    ``S_{k+1} = A S_k A^T + B_z c_B [Sigma_1(x*) + K(P_k) - H P_k H] B_z^T``
    (``P`` the ``e`` block): its fixed point, a linear solve of size
    ``(2n)^2``, is exact. It exists iff that recursion contracts (mean-square
    stability, stricter than stability of the mean). The recursion closes for
    every loss whose per-sample gradients are affine in ``x``; for nonlinear
    ones (logistic, neural networks) it does not, and the constant-noise
    prediction ``Sigma_1(x*) / B`` is what remains (measured in the docs).

    Examples
    --------
    >>> from heavyball import noise
    >>> from heavyball.landscapes import LeastSquares
    >>> p = LeastSquares.random(n_samples=30, dim=2, kappa=4.0, noise=0.5, seed=1)
    >>> r = noise.minibatch_floor(p, lr=0.1, momentum=0.5, batch_size=2)
    >>> bool(r.floor > r.constant_noise_floor), round(r.floor / r.constant_noise_floor, 3)
    (True, 2.38)
    """
    from ..spectral._modes import check_method, check_rates
    from ._discrete import _check_stable, _system, stationary_loss

    A_data, y, x_star = _least_squares_parts(problem)
    N, n = A_data.shape
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    B = _v.integer("batch_size", getattr(problem, "batch_size", 1) if batch_size is None else batch_size, low=1)
    replace = _v.flag("replace", replace)
    if not replace and B > N:
        raise ValueError(f"`batch_size` must be <= the {N} samples when drawing without replacement, got {B}")
    c = 1.0 / B if replace else (N - B) / (B * (N - 1)) if N > 1 else 0.0
    _v.check_size("problem", 16 * n ** 4, 16 * n ** 4, "the second-moment system", "use a smaller `dim`")
    H = A_data.T @ A_data / N
    r = A_data @ x_star - y
    sigma_star = (A_data * (r * r)[:, None]).T @ A_data / N
    _check_stable(H, lr, beta, method, False)
    A, Bz = _system(H, lr, beta, method)
    m = 2 * n
    outer = np.einsum("ni,nj->nij", A_data, A_data).reshape(N, n * n)
    K = outer.T @ outer / N  # vec K(P) = K vec P (row-major vec)
    noise_op = c * (K - np.kron(H, H))  # (n^2, n^2): vec P -> vec of the state-dependent noise
    BB = np.kron(Bz, Bz)  # (m^2, n^2)
    pick = _e_block_selector(n)  # (n^2, m^2): vec S -> vec P
    M = np.kron(A, A) + BB @ noise_op @ pick
    radius = float(np.max(np.abs(np.linalg.eigvals(M))))
    constant = stationary_loss(H, lr, beta, method, c * sigma_star)
    if not radius < 1.0:
        return MinibatchFloor(np.inf, np.full((n, n), np.inf), constant, radius)
    S = np.linalg.solve(np.eye(m * m) - M, BB @ (c * sigma_star).ravel()).reshape(m, m)
    P = 0.5 * (S[:n, :n] + S[:n, :n].T)
    return MinibatchFloor(0.5 * float(np.sum(H * P)), P, constant, radius)


def _e_block_selector(n):
    m = 2 * n
    E = np.zeros((n * n, m * m))
    for i in range(n):
        for j in range(n):
            E[i * n + j, i * m + j] = 1.0
    return E


def _least_squares_parts(problem):
    for attr in ("A", "y", "minimizer"):
        if not hasattr(problem, attr):
            raise ValueError(f"`problem` must be a least-squares problem (heavyball.landscapes.LeastSquares); "
                             f"missing `{attr}`")
    A = np.asarray(problem.A, dtype=float)
    y = np.asarray(problem.y, dtype=float)
    x_star = np.asarray(problem.minimizer, dtype=float)
    if A.ndim != 2 or y.shape != (A.shape[0],) or x_star.shape != (A.shape[1],):
        raise ValueError(f"`problem` has inconsistent shapes: A {A.shape}, y {y.shape}, minimizer {x_star.shape}")
    return A, y, x_star
