"""The discrete theory on quadratics: the noisy iteration, its stationary covariance and loss, the expected loss.

Public through :mod:`heavyball.noise`; the other private modules of the package build on these.
"""

from __future__ import annotations

import numpy as np

from .. import _validation as _v
from ..spectral._modes import check_hessian, check_method, check_rates
from ..spectral import spectral_radius


def noisy_system(H, lr, momentum=0.0, method="heavy_ball"):
    r"""The linear system ``z_{k+1} = A z_k + B xi_k`` of a noisy optimiser.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
        Learning rate ``lr`` of ``torch.optim.SGD``.
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser, in ``torch.optim.SGD``'s semantics.

    Returns
    -------
    A : ndarray, shape (2n, 2n)
        The iteration matrix of the state ``z_k = (e_k, b_{k-1})``.
    B : ndarray, shape (2n, n)
        How the noise ``xi_k`` enters the state. For the state ``z_k = (e_k, b_{k-1})`` (module notes), with
        ``J = I - lr H``:

        * ``gd`` and ``heavy_ball``: ``A = [[J, -lr beta I], [H, beta I]]``,
          ``B = [[-lr I], [I]]`` (for ``gd`` ``beta = 0``: the buffer is
          carried but never read);
        * ``nesterov``: ``A = [[I - lr (1 + beta) H, -lr beta^2 I], [H, beta I]]``,
          ``B = [[-lr (1 + beta) I], [I]]``.

    Raises
    ------
    ValueError
        For a bad ``H``, ``lr``, ``momentum`` or ``method``, naming it.

    Notes
    -----
    With ``g_k = H e_k + xi_k`` and PyTorch's buffer ``b_k = beta b_{k-1} + g_k``,
    the step ``e_{k+1} = e_k - lr b_k`` (heavy ball) or
    ``e_{k+1} = e_k - lr (g_k + beta b_k)`` (Nesterov) is linear in
    ``(e_k, b_{k-1}, xi_k)``: ``z_{k+1} = A z_k + B xi_k``.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> A, B = noise.noisy_system(np.diag([2.0]), lr=0.1, momentum=0.5)
    >>> A
    array([[ 0.8 , -0.05],
           [ 2.  ,  0.5 ]])
    >>> B.ravel()
    array([-0.1,  1. ])
    """
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    return _system(check_hessian(H), lr, beta, method)


def _system(H, lr, beta, method):
    n = H.shape[0]
    I = np.eye(n)
    c = 1.0 + beta if method == "nesterov" else 1.0  # gradient weight in the step
    d = beta * beta if method == "nesterov" else beta  # buffer weight in the step
    with np.errstate(over="ignore", invalid="ignore"):
        A = np.block([[I - lr * c * H, -lr * d * I], [H, beta * I]])
        B = np.vstack([-lr * c * I, I])
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise ValueError("`lr` times `H` overflows float64")
    return A + 0.0, B + 0.0


def _noise_cov(noise_cov, n):
    """``("diag", (n,))`` for a scalar or a vector, ``("dense", (n, n))`` for a matrix."""
    Q = _v.real_array("noise_cov", noise_cov)
    if not np.all(np.isfinite(Q)):
        raise ValueError("`noise_cov` must be finite")
    if Q.ndim == 0:
        Q = np.full(n, float(Q))
    if Q.shape == (n,):
        if np.any(Q < 0.0):
            raise ValueError("`noise_cov` must be >= 0 (a variance)")
        return "diag", Q
    if Q.shape != (n, n):
        raise ValueError(f"`noise_cov` must be a scalar, shape ({n},) or ({n}, {n}); got shape {Q.shape}")
    scale = max(float(np.max(np.abs(Q))), np.finfo(float).tiny)
    if float(np.max(np.abs(Q - Q.T))) > 1e-12 * scale:
        raise ValueError("`noise_cov` must be symmetric (a covariance matrix)")
    Q = 0.5 * (Q + Q.T)
    if float(np.min(np.linalg.eigvalsh(Q))) < -1e-12 * scale:
        raise ValueError("`noise_cov` must be positive semi-definite (a covariance matrix)")
    return "dense", Q


def _inputs(H, lr, momentum, method, noise_cov):
    method = check_method(method)
    lr, beta = check_rates(lr, momentum, method)
    H = check_hessian(H)
    kind, Q = _noise_cov(noise_cov, H.shape[0])
    diagonal = kind == "diag" and np.count_nonzero(H - np.diag(np.diag(H))) == 0
    return H, lr, beta, method, Q, diagonal


def _check_stable(H, lr, beta, method, diagonal):
    lam = np.diag(H) if diagonal else np.linalg.eigvalsh(H)
    rho = spectral_radius(lam, lr, beta, method)
    if not rho < 1.0:
        raise ValueError(f"not stable: the spectral radius is {rho!r} >= 1 for `lr` = {lr!r}, `momentum` = "
                         f"{beta!r}, method {method!r} and the eigenvalues of `H` in [{float(lam.min())!r}, "
                         f"{float(lam.max())!r}], so the noise has no stationary covariance")


def _mode_variance(lam, lr, beta, method, q):
    r"""Stationary variance of each mode, in closed form (module notes of :func:`stationary_covariance`)."""
    a = lr * lam
    if method == "nesterov":
        T, D, c0, c1 = (1.0 + beta) * (1.0 - a), beta * (1.0 - a), 1.0 + beta, -beta
    else:
        T, D, c0, c1 = 1.0 + beta - a, beta, 1.0, 0.0
    num = (c0 * c0 + c1 * c1) * (1.0 + D) + 2.0 * c0 * c1 * T
    return q * lr * num / (lam * (1.0 - D) * (1.0 + D + T))


def stationary_covariance(H, lr, momentum=0.0, method="heavy_ball", noise_cov=1.0):
    r"""Stationary covariance of ``x_k - x*`` under gradient noise.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
        Learning rate ``lr`` of ``torch.optim.SGD``.
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser, in ``torch.optim.SGD``'s semantics.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of the gradient noise: ``s`` means ``s I``, a vector
        its diagonal, a matrix is symmetric PSD. ``optimize(...,
        grad_noise=sigma)`` has ``Q = sigma^2 I``.

    Returns
    -------
    ndarray, shape (n, n)
        ``C = lim E[(x_k - x*)(x_k - x*)^T]``.

    Raises
    ------
    ValueError
        When the iteration is not stable (spectral radius ``>= 1``: a
        non-positive eigenvalue, or ``lr``/``momentum`` too large), or for
        bad input, naming the parameter.

    Notes
    -----
    ``C`` is the ``(e, e)`` block of the solution ``S`` of the discrete
    Lyapunov equation ``S = A S A^T + B Q B^T`` of :func:`noisy_system`,
    solved by :func:`scipy.linalg.solve_discrete_lyapunov`.

    When ``H`` is diagonal and ``Q`` diagonal (a scalar or a vector) the
    modes decouple and each is an ARMA(2, 1) process
    ``e_{k+1} - T e_k + D e_{k-1} = -lr (c_0 xi_k + c_1 xi_{k-1})``, with the
    trace ``T`` and determinant ``D`` of the mode polynomial
    (:func:`heavyball.spectral.mode_roots`) and ``(c_0, c_1) = (1, 0)``
    (``gd``, ``heavy_ball``) or ``(1 + beta, -beta)`` (``nesterov``). Its
    variance, with ``1 + D - T = lr lambda`` for all three methods, is

    ``C_ii = lr q_i [(c_0^2 + c_1^2)(1 + D) + 2 c_0 c_1 T] / (lambda_i (1 - D)(1 + D + T))``.

    For gradient descent this is ``lr q / (lambda (2 - lr lambda))``; for heavy
    ball ``lr q (1 + beta) / (lambda (1 - beta)(2 (1 + beta) - lr lambda))``.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> noise.stationary_covariance(np.diag([1.0, 4.0]), lr=0.1, method="gd", momentum=0.0, noise_cov=0.01)
    array([[0.00052632, 0.        ],
           [0.        , 0.00015625]])
    >>> 0.1 * 0.01 / (1.0 * (2.0 - 0.1))  # lr s / (lambda (2 - lr lambda))
    0.0005263157894736842
    """
    H, lr, beta, method, Q, diagonal = _inputs(H, lr, momentum, method, noise_cov)
    _check_stable(H, lr, beta, method, diagonal)
    if diagonal:
        return np.diag(_mode_variance(np.diag(H), lr, beta, method, Q)) + 0.0
    import scipy.linalg

    A, B = _system(H, lr, beta, method)
    Qm = np.diag(Q) if Q.ndim == 1 else Q
    S = scipy.linalg.solve_discrete_lyapunov(A, B @ Qm @ B.T)
    n = H.shape[0]
    C = S[:n, :n]
    return 0.5 * (C + C.T)


def stationary_loss(H, lr, momentum=0.0, method="heavy_ball", noise_cov=1.0):
    r"""The loss floor ``lim E[L(x_k)] - L* = 1/2 tr(H C)``.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
        Learning rate ``lr`` of ``torch.optim.SGD``.
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser, in ``torch.optim.SGD``'s semantics.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of the gradient noise: ``s`` means ``s I``, a vector
        its diagonal, a matrix is symmetric PSD. ``optimize(...,
        grad_noise=sigma)`` has ``Q = sigma^2 I``.

    Returns
    -------
    float
        The floor ``1/2 tr(H C)`` with ``C`` from :func:`stationary_covariance`.

    Raises
    ------
    ValueError
        As :func:`stationary_covariance`: for an unstable setting or bad input.

    Notes
    -----
    For gradient descent with ``Q = s I`` the floor is
    ``sum_i lr s / (2 (2 - lr lambda_i))``, about ``n lr s / 4`` for small
    steps: independent of the curvature.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> H = np.diag([1.0, 100.0])
    >>> round(noise.stationary_loss(H, lr=0.01, momentum=0.0, method="gd", noise_cov=1.0), 6)
    0.007513
    >>> round(0.01 / (2 * 1.99) + 0.01 / (2 * 1.0), 6)
    0.007513
    """
    C = stationary_covariance(H, lr, momentum, method, noise_cov)
    return 0.5 * float(np.sum(check_hessian(H) * C))


def expected_loss(H, lr, momentum=0.0, method="heavy_ball", noise_cov=1.0, *, x0, n_steps):
    r"""Exact ``E[L(x_k)] - L*`` for ``k = 0, ..., n_steps`` from a start at rest.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric Hessian.
    lr : float >= 0
        Learning rate ``lr`` of ``torch.optim.SGD``.
    momentum : float
        ``beta``; must be 0 for ``"gd"``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser, in ``torch.optim.SGD``'s semantics.
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Covariance ``Q`` of the gradient noise: ``s`` means ``s I``, a vector
        its diagonal, a matrix is symmetric PSD. ``optimize(...,
        grad_noise=sigma)`` has ``Q = sigma^2 I``.
    x0 : array_like, shape (n,)
        The start's offset ``x_0 - x*`` (for a ``Quadratic`` with ``b = 0``,
        the start itself).
    n_steps : int >= 0
        Number of steps; the result has ``n_steps + 1`` entries.

    Returns
    -------
    ndarray, shape (n_steps + 1,)
        ``E[L(x_k)] - L*`` for ``k = 0, ..., n_steps``.

    Raises
    ------
    ValueError
        For bad input, or when the loss overflows float64 (an unstable
        setting run for long). Unstable settings are otherwise allowed: the
        transient is finite.

    Notes
    -----
    With ``z_0 = (x_0 - x*, 0)`` (PyTorch's first buffer ``b_0 = g_0``) and
    :func:`noisy_system`'s ``A, B``: ``m_{k+1} = A m_k``,
    ``P_{k+1} = A P_k A^T + B Q B^T``, ``P_0 = 0``, and
    ``E[L(x_k)] - L* = 1/2 (m_k^T H m_k + tr(H P_k))`` on the ``e`` blocks.
    For diagonal ``H`` and ``Q`` the recursion runs per mode (2 x 2).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import noise
    >>> noise.expected_loss(np.diag([1.0]), lr=0.5, momentum=0.0, method="gd", noise_cov=1.0,
    ...                     x0=[2.0], n_steps=2)
    array([2.     , 0.625  , 0.28125])

    (``E e_1^2 = 0.5^2 4 + 0.25``, ``E e_2^2 = 0.5^2 E e_1^2 + 0.25``.)
    """
    H, lr, beta, method, Q, diagonal = _inputs(H, lr, momentum, method, noise_cov)
    n = H.shape[0]
    e0 = _v.vector("x0", x0, n)
    steps = _v.integer("n_steps", n_steps, low=0)
    _v.check_size("n_steps", steps, steps + 1, "losses")
    with np.errstate(over="ignore", invalid="ignore"):
        if diagonal:
            out = _expected_modal(np.diag(H), lr, beta, method, Q, e0, steps)
        else:
            out = _expected_dense(H, lr, beta, method, Q, e0, steps)
    if not np.all(np.isfinite(out)):
        raise ValueError("the expected loss overflows float64: the setting (`lr`, `momentum`, `method`, `H`) is "
                         "unstable and `n_steps` too large")
    return out


def _expected_dense(H, lr, beta, method, Q, e0, steps):
    n = H.shape[0]
    A, B = _system(H, lr, beta, method)
    W = B @ (np.diag(Q) if Q.ndim == 1 else Q) @ B.T
    m = np.concatenate([e0, np.zeros(n)])
    P = np.zeros((2 * n, 2 * n))
    out = np.empty(steps + 1)
    for k in range(steps + 1):
        e = m[:n]
        out[k] = 0.5 * (e @ H @ e + np.sum(H * P[:n, :n]))
        m, P = A @ m, A @ P @ A.T + W
    return out


def _expected_modal(lam, lr, beta, method, q, e0, steps):
    c = 1.0 + beta if method == "nesterov" else 1.0
    d = beta * beta if method == "nesterov" else beta
    A = np.empty((lam.size, 2, 2))
    A[:, 0, 0], A[:, 0, 1], A[:, 1, 0], A[:, 1, 1] = 1.0 - lr * c * lam, -lr * d, lam, beta
    b = np.array([-lr * c, 1.0])
    W = q[:, None, None] * np.outer(b, b)
    m = np.stack([e0, np.zeros_like(e0)], axis=1)
    P = np.zeros((lam.size, 2, 2))
    At = np.swapaxes(A, 1, 2)
    out = np.empty(steps + 1)
    for k in range(steps + 1):
        out[k] = 0.5 * float(np.sum(lam * (m[:, 0] ** 2 + P[:, 0, 0])))
        m, P = np.einsum("nij,nj->ni", A, m), A @ P @ At + W
    return out
