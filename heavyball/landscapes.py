r"""Landscapes for the seed documents' scenarios, each with a measurable question.

============================  =========================================================
problem                       scenario (registry name)
============================  =========================================================
:class:`Ravine`               long narrow valley ``L = (steep x^2 + shallow y^2)/2``;
                              the default is the course page's ``100 x^2 + y^2``
                              (``"ravine"``)
:class:`SharpFlatMinima`      one flat and one sharp minimum of equal depth
                              (``"sharp_flat"``)
:class:`LeastSquares`         least squares with minibatch gradients whose noise
                              covariance is exactly ``Sigma_1 / B`` (``"least_squares"``)
:class:`SparseLeastSquares`   one-hot features of unequal frequency: sparse minibatch
                              gradients (``"sparse_least_squares"``)
:class:`DriftingQuadratic`    online quadratic whose minimiser moves with the step
                              (``"drifting_quadratic"``)
============================  =========================================================

The plateau and the saddle are :class:`~heavyball.problems.Plateau` and
:class:`~heavyball.problems.Saddle`; the tilted double well (local and
global minimum) is :class:`~heavyball.problems.DoubleWell`.

Every problem has analytic ``value``, ``grad`` and ``hessian`` that broadcast
over leading axes of ``x`` (shape ``(..., dim)``). The stochastic ones also
have ``stochastic_grad(x, k, rng)``, the hook that
``heavyball.optimize(..., stochastic=True, seed=...)`` calls at step ``k``; it
too broadcasts, drawing independent samples for every leading index, so a
whole grid of runs advances in one call. For ``x`` of shape ``(dim,)`` and
``(1, dim)`` it draws the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validation as _v
from .problems import Problem, Quadratic, _finite, register

__all__ = [
    "Ravine",
    "SharpFlatMinima",
    "LeastSquares",
    "SparseLeastSquares",
    "DriftingQuadratic",
]


class Ravine(Quadratic):
    r"""The ravine preset: ``L(x, y) = (steep x^2 + shallow y^2) / 2``.

    Parameters
    ----------
    steep : float > 0
        Curvature across the valley (the walls).
    shallow : float > 0
        Curvature along the valley floor; ``steep >= shallow``.

    Notes
    -----
    The defaults ``steep = 200``, ``shallow = 2`` are the course page's
    ``100 x^2 + y^2``, condition number ``kappa = 100``. Gradient descent and
    heavy ball are rotation-equivariant, so an axis-aligned valley loses no
    generality. Minimiser the origin, ``L = 0``.

    Examples
    --------
    >>> from heavyball.landscapes import Ravine
    >>> r = Ravine()
    >>> float(r.value([1.0, 1.0])), r.kappa
    (101.0, 100.0)
    """

    name = "ravine"

    def __init__(self, steep=200.0, shallow=2.0):
        steep = _v.real("steep", steep, low=0.0, low_open=True)
        shallow = _v.real("shallow", shallow, low=0.0, low_open=True)
        if shallow > steep:
            raise ValueError(f"`shallow` must be <= `steep` = {steep!r} (the walls are the steep side), "
                             f"got {shallow!r}")
        lam = np.array([steep, shallow])
        self._set_spectrum(np.sort(lam), steep)
        self.H = None
        self._diag = lam
        self._finish(None, 0.0)
        self.steep, self.shallow = steep, shallow

    def compiled(self):
        """The diagonal quadratic's compiled form: the ravine keeps its formulas."""
        return self._compiled_form()

    def _params(self):
        return {"steep": self.steep, "shallow": self.shallow}


class SharpFlatMinima(Problem):
    r"""A 1-D landscape with a flat and a sharp minimum of equal depth.

    .. math::

        L(x) = c\,(x^2 - 1)^2 \exp(r \tanh x), \qquad
        c = \frac{\sqrt{\lambda_f \lambda_s}}{8}, \quad
        r = \frac{\ln(\lambda_s / \lambda_f)}{2 \tanh 1}

    Parameters
    ----------
    flat, sharp : float > 0
        Curvatures ``L''`` at the flat minimum ``x = -1`` and at the sharp
        minimum ``x = +1`` (exactly), ``sharp >= flat``.

    Attributes
    ----------
    local_minima : list of ndarray
        ``[array([-1.]), array([1.])]``: flat first, then sharp; both have
        ``L = 0``, so ``minimizer`` is None.
    barrier_point : ndarray
        The maximum between them (root of ``4x + r (x^2 - 1) sech^2 x = 0``
        in ``(-1, 1)``); gradient flow from ``x < x_b`` ends in the flat
        minimum, from ``x > x_b`` in the sharp one.
    barrier_height : float

    Notes
    -----
    ``(x^2 - 1)^2`` and its derivative vanish at ``+-1``, so
    ``L''(+-1) = 8 c exp(+-r tanh 1)``: exactly the two curvatures asked for,
    and both minima have ``L = 0`` (no preference by depth). The weight
    ``exp(r tanh x)`` lies in ``[e^{-r}, e^r]``, so ``L`` grows like ``x^4``
    on both sides and has no other stationary point.

    Examples
    --------
    >>> from heavyball.landscapes import SharpFlatMinima
    >>> p = SharpFlatMinima(flat=1.0, sharp=25.0)
    >>> [round(float(p.hessian(m)[0, 0]), 12) for m in p.local_minima]
    [1.0, 25.0]
    """

    name = "sharp_flat"
    dim = 1

    def __init__(self, flat=1.0, sharp=20.0):
        self.flat = _v.real("flat", flat, low=0.0, low_open=True)
        self.sharp = _v.real("sharp", sharp, low=0.0, low_open=True)
        if self.sharp < self.flat:
            raise ValueError(f"`sharp` must be >= `flat` = {flat!r} (the sharp minimum is the more curved), "
                             f"got {sharp!r}")
        ratio = _finite("the ratio sharp / flat", {"flat": self.flat, "sharp": self.sharp},
                        lambda: self.sharp / self.flat)
        self.r = 0.5 * math.log(ratio) / math.tanh(1.0)
        self.c = math.sqrt(self.flat) * math.sqrt(self.sharp) / 8.0
        self.local_minima = [np.array([-1.0]), np.array([1.0])]
        xb = 0.0
        if self.r > 0:
            from scipy.optimize import brentq

            xb = brentq(lambda z: 4.0 * z + self.r * (z * z - 1.0) / math.cosh(z) ** 2, -1.0, 1.0,
                        xtol=1e-15, rtol=4 * np.finfo(float).eps)
        self.barrier_point = np.array([xb])
        self.barrier_height = float(self._value(self.barrier_point))
        self.minimizer = None
        self.min_value = 0.0

    def _weight(self, z):
        return np.exp(self.r * np.tanh(z))

    def _value(self, x):
        z = x[..., 0]
        return self.c * (z * z - 1.0) ** 2 * self._weight(z)

    def _grad(self, x):
        z = x[..., 0]
        q = z * z - 1.0
        sech2 = 1.0 / np.cosh(z) ** 2
        return (self.c * self._weight(z) * q * (4.0 * z + self.r * sech2 * q))[..., None]

    def _hessian(self, x):
        z = x[..., 0]
        q = z * z - 1.0
        sech2 = 1.0 / np.cosh(z) ** 2
        w1 = self.r * sech2  # w' / w
        w2 = w1 * (w1 - 2.0 * np.tanh(z))  # w'' / w
        inner = 4.0 * q + 8.0 * z * z + 8.0 * z * q * w1 + q * q * w2
        return (self.c * self._weight(z) * inner)[..., None, None]

    def _params(self):
        return {"flat": self.flat, "sharp": self.sharp}


class LeastSquares(Problem):
    r"""Least squares ``L(x) = |A x - y|^2 / (2 n)`` with minibatch gradients.

    Parameters
    ----------
    A : array_like, shape (n, dim)
        Design matrix of full column rank (checked).
    y : array_like, shape (n,)
        Targets.
    batch_size : int >= 1
        ``B``, the number of samples in each stochastic gradient.

    Attributes
    ----------
    hessian_matrix : ndarray, shape (dim, dim)
        ``A^T A / n``, constant.
    eigenvalues, mu, L, kappa
        Its spectrum, smallest and largest eigenvalue, condition number.

    Notes
    -----
    ``stochastic_grad(x, k, rng)`` draws ``B`` indices ``i_1 .. i_B``
    uniformly *with replacement* and returns
    ``g_B = (1/B) sum_s a_{i_s} (a_{i_s}^T x - y_{i_s})``. The draws are
    independent, so ``E g_B = grad L(x)`` and
    ``Cov g_B = Sigma_1(x) / B`` exactly, with the single-sample covariance
    ``Sigma_1(x) = (1/n) sum_i g_i g_i^T - grad L grad L^T``
    (:meth:`gradient_covariance`).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.landscapes import LeastSquares
    >>> p = LeastSquares.random(n_samples=50, dim=3, kappa=10.0, seed=0)
    >>> round(p.kappa, 12), bool(np.allclose(p.grad(p.minimizer), 0.0, atol=1e-12))
    (10.0, True)
    """

    name = "least_squares"

    def __init__(self, A, y, batch_size=1):
        A = _v.real_array("A", A)
        if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
            raise ValueError(f"`A` must be a non-empty 2-D array, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("`A` must be finite")
        self.A = A
        self.n_samples, self.dim = A.shape
        self.y = _v.vector("y", y)
        if self.y.shape[0] != self.n_samples:
            raise ValueError(f"`y` must have one entry per row of `A` ({self.n_samples}), got shape {self.y.shape}")
        self.batch_size = _v.integer("batch_size", batch_size, low=1)
        self.hessian_matrix = _finite("A^T A / n", {"A": A}, lambda: A.T @ A / self.n_samples)
        _finite("the loss at 0, |y|^2 / (2 n)", {"y": self.y}, lambda: 0.5 * np.mean(self.y * self.y))
        eig = np.linalg.eigvalsh(self.hessian_matrix)
        if eig[0] <= 1e-12 * eig[-1]:
            raise ValueError("`A` must have full column rank (A^T A / n is singular)")
        self.eigenvalues, self.mu, self.L = eig, float(eig[0]), float(eig[-1])
        self.kappa = self.L / self.mu
        self.minimizer = np.linalg.lstsq(A, self.y, rcond=None)[0]
        self.min_value = float(self._value(self.minimizer))

    @classmethod
    def random(cls, n_samples=200, dim=10, kappa=100.0, noise=0.5, batch_size=1, seed=0):
        """A random instance whose Hessian ``A^T A / n`` has eigenvalues ``geomspace(1, kappa, dim)``.

        ``A = sqrt(n) U diag(sqrt(eigenvalues)) V^T`` with ``U`` (``n x dim``,
        orthonormal columns) and ``V`` orthogonal drawn from ``seed``;
        ``y = A x_true + noise * eps`` with standard normal ``x_true`` and ``eps``.
        ``kappa`` is at most ``1e10`` (the constructor's full-rank test
        refuses ``A^T A`` with ``mu <= 1e-12 L``), ``seed`` an integer >= 0 or
        None.
        """
        n = _v.integer("n_samples", n_samples, low=1)
        d = _v.integer("dim", dim, low=1)
        if n < d:
            raise ValueError(f"`n_samples` must be >= `dim` = {d}, got {n}")
        kappa = _v.real("kappa", kappa, low=1.0, high=1e10)
        noise = _v.real("noise", noise, low=0.0)
        seed = _v.seed("seed", seed)
        _v.check_size("n_samples", n, 3 * n * d + 2 * d * d, "the design matrix and its factors",
                      "use fewer `n_samples` or a smaller `dim`")
        rng = np.random.default_rng(seed)
        U = np.linalg.qr(rng.standard_normal((n, d)))[0]
        V = np.linalg.qr(rng.standard_normal((d, d)))[0]
        lam = np.geomspace(1.0, kappa, d)
        A = math.sqrt(n) * (U * np.sqrt(lam)) @ V.T
        x_true = rng.standard_normal(d)
        eps = rng.standard_normal(n)
        y = _finite("the targets y = A x_true + noise eps", {"noise": noise}, lambda: A @ x_true + noise * eps)
        _finite("the loss at 0, |y|^2 / (2 n)", {"noise": noise}, lambda: 0.5 * np.mean(y * y))
        return cls(A, y, batch_size)

    def _value(self, x):
        r = x @ self.A.T - self.y
        return 0.5 * np.mean(r * r, axis=-1)

    def _grad(self, x):
        return (x @ self.A.T - self.y) @ self.A / self.n_samples

    def _hessian(self, x):
        return np.broadcast_to(self.hessian_matrix, x.shape + (self.dim,)).copy()

    def stochastic_grad(self, x, k, rng):
        """Minibatch gradient at ``x`` (shape ``(..., dim)``), one batch per leading index."""
        x = _v.points("x", x, self.dim)
        idx = rng.integers(self.n_samples, size=x.shape[:-1] + (self.batch_size,))
        a = self.A[idx]  # (..., B, dim)
        resid = np.einsum("...bd,...d->...b", a, x) - self.y[idx]
        return np.einsum("...bd,...b->...d", a, resid) / self.batch_size

    def gradient_covariance(self, x, batch_size=None):
        """Covariance of ``stochastic_grad`` at ``x`` (shape ``(dim,)``): ``Sigma_1(x) / B``."""
        x = _v.vector("x", x, self.dim)
        B = self.batch_size if batch_size is None else _v.integer("batch_size", batch_size, low=1)
        per_sample = self.A * (self.A @ x - self.y)[:, None]
        g = per_sample.mean(axis=0)
        return (per_sample.T @ per_sample / self.n_samples - np.outer(g, g)) / B

    def _params(self):
        return {"n_samples": self.n_samples, "dim": self.dim, "batch_size": self.batch_size}


class SparseLeastSquares(Problem):
    r"""One-hot regression: each sample touches one coordinate, chosen with probability ``p_j``.

    A sample is ``(e_j, t_j + noise eps)`` with ``j ~ Categorical(p)``, so

    .. math::

        L(x) = \tfrac12 \sum_j p_j (x_j - t_j)^2 + \tfrac12 \mathrm{noise}^2,

    a diagonal quadratic with curvatures ``p_j`` (rare features are the flat
    directions; ``kappa = max p / min p``). ``stochastic_grad`` averages ``B``
    samples drawn with replacement: coordinate ``j`` receives a non-zero
    gradient only on steps where it is drawn, probability ``1 - (1 - p_j)^B``,
    the situation of embedding tables.

    Parameters
    ----------
    frequencies : array_like, shape (dim,)
        Positive, normalised to sum 1.
    target : array_like, shape (dim,), optional
        The minimiser ``t`` (default all ones).
    noise : float >= 0
        Standard deviation of the label noise.
    batch_size : int >= 1

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball.landscapes import SparseLeastSquares
    >>> p = SparseLeastSquares([0.9, 0.1], noise=0.0)
    >>> g = p.stochastic_grad(np.zeros(2), 0, np.random.default_rng(0))
    >>> int(np.count_nonzero(g))
    1
    """

    name = "sparse_least_squares"

    def __init__(self, frequencies, target=None, noise=0.1, batch_size=1):
        p = _v.vector("frequencies", frequencies)
        if p.size == 0 or np.any(p <= 0):
            raise ValueError(f"`frequencies` must be non-empty and > 0, got {frequencies!r}")
        p = p / p.max()  # first, so that the sum cannot overflow
        self.frequencies = p / p.sum()
        if np.any(self.frequencies == 0.0):
            raise ValueError(f"`frequencies` must all be > 0 once normalised; the smallest underflows to 0 "
                             f"(ratio max / min above 1e308), got {frequencies!r}")
        self.dim = int(p.size)
        if target is None:
            self.minimizer = np.ones(self.dim)
        else:
            self.minimizer = _v.vector("target", target)
            if self.minimizer.shape != (self.dim,):
                raise ValueError(f"`target` must have one entry per entry of `frequencies` ({self.dim}), "
                                 f"got shape {self.minimizer.shape}")
        self.noise = _v.real("noise", noise, low=0.0)
        _finite("the minimum value noise**2 / 2", {"noise": self.noise}, lambda: 0.5 * self.noise**2)
        self.batch_size = _v.integer("batch_size", batch_size, low=1)
        self.min_value = 0.5 * self.noise**2
        self._cdf = np.cumsum(self.frequencies)
        self._cdf[-1] = 1.0

    @classmethod
    def zipf(cls, dim=20, exponent=1.0, **kwargs):
        """Frequencies ``p_j`` proportional to ``(j + 1)^(-exponent)``."""
        dim = _v.integer("dim", dim, low=1)
        s = _v.real("exponent", exponent, low=0.0)
        _v.check_size("dim", dim, 5 * dim, "the frequencies, their cumulative sum and the minimiser",
                      "use a smaller `dim`")
        with np.errstate(under="ignore"):
            p = np.arange(1, dim + 1, dtype=np.float64) ** (-s)
        if p[-1] == 0.0:
            raise ValueError(f"`exponent` = {exponent!r} is too large for `dim` = {dim}: the smallest "
                             f"frequency dim**(-exponent) underflows to 0")
        return cls(p, **kwargs)

    def _value(self, x):
        d = x - self.minimizer
        return 0.5 * np.sum(self.frequencies * d * d, axis=-1) + self.min_value

    def _grad(self, x):
        return self.frequencies * (x - self.minimizer)

    def _hessian(self, x):
        return np.broadcast_to(np.diag(self.frequencies), x.shape + (self.dim,)).copy()

    def stochastic_grad(self, x, k, rng):
        """Minibatch gradient: non-zero only in the coordinates drawn this step."""
        x = _v.points("x", x, self.dim)
        lead = x.shape[:-1]
        B = self.batch_size
        j = np.searchsorted(self._cdf, rng.random(lead + (B,)), side="right")
        j = np.minimum(j, self.dim - 1)
        eps = self.noise * rng.standard_normal(lead + (B,))
        xj = np.take_along_axis(x, j, axis=-1)
        contrib = (xj - self.minimizer[j] - eps) / B
        g = np.zeros(x.shape)
        flat_g = g.reshape(-1, self.dim)
        rows = np.repeat(np.arange(flat_g.shape[0]), B)
        np.add.at(flat_g, (rows, j.reshape(-1)), contrib.reshape(-1))
        return flat_g.reshape(x.shape)

    def touch_probability(self, batch_size=None):
        """Per-step probability that coordinate ``j`` gets a gradient: ``1 - (1 - p_j)^B``."""
        B = self.batch_size if batch_size is None else _v.integer("batch_size", batch_size, low=1)
        return -np.expm1(B * np.log1p(-np.minimum(self.frequencies, 1.0 - 1e-16)))

    def _params(self):
        return {"dim": self.dim, "noise": self.noise, "batch_size": self.batch_size}


_DRIFTS = ("linear", "circle", "switch")


class DriftingQuadratic(Problem):
    r"""Online learning: a quadratic whose minimiser ``c(k)`` moves with the step ``k``.

    .. math::

        L_k(x) = \tfrac12 \sum_i \lambda_i (x_i - c_i(k))^2

    Parameters
    ----------
    eigenvalues : array_like, shape (dim,)
        Curvatures ``lambda_i > 0``.
    drift : {"linear", "circle", "switch"}
        ``"linear"``: ``c(k) = k speed u`` with ``u = (1, ..., 1)/sqrt(dim)``
        (a steadily moving target); ``"circle"``: ``c(k) = radius (cos wk,
        sin wk, 0, ...)`` with ``w = 2 pi / period`` (needs ``dim >= 2``);
        ``"switch"``: ``c(k) = +-radius u``, the sign flipping every
        ``period`` steps (an abrupt shift of the data distribution).
    speed : float >= 0
        Distance moved per step for ``"linear"``.
    radius : float >= 0
        Size of the circle or of the switch.
    period : int >= 1
        Steps per turn (``"circle"``) or between switches (``"switch"``).
    noise : float >= 0
        Standard deviation of Gaussian noise on each coordinate of
        ``stochastic_grad``.

    Notes
    -----
    ``value``, ``grad`` and ``hessian`` are those of ``L_0`` (the loss at step
    0, so ``minimizer = c(0)`` and ``min_value = 0``); :meth:`value_at`,
    :meth:`grad_at` and :meth:`minimizer_at` take the step.
    ``stochastic_grad(x, k, rng) = grad L_k(x) + noise z``: the hook
    ``heavyball.optimize(..., stochastic=True)`` calls, so an optimiser sees
    the loss of the current step.

    Examples
    --------
    >>> from heavyball.landscapes import DriftingQuadratic
    >>> p = DriftingQuadratic([1.0, 1.0], drift="switch", radius=1.0, period=10)
    >>> p.minimizer_at([0, 9, 10]).round(4).tolist()
    [[0.7071, 0.7071], [0.7071, 0.7071], [-0.7071, -0.7071]]
    """

    name = "drifting_quadratic"

    def __init__(self, eigenvalues=(1.0, 1.0), drift="linear", speed=0.01, radius=1.0, period=100, noise=0.0):
        lam = _v.vector("eigenvalues", eigenvalues)
        if lam.size == 0 or np.any(lam <= 0):
            raise ValueError(f"`eigenvalues` must be non-empty and > 0, got {eigenvalues!r}")
        self.eigenvalues, self.dim = lam, int(lam.size)
        self.drift = _v.choice("drift", drift, _DRIFTS)
        if drift == "circle" and self.dim < 2:
            raise ValueError(f"drift 'circle' needs `eigenvalues` of length >= 2, got {self.dim}")
        self.speed = _v.real("speed", speed, low=0.0)
        self.radius = _v.real("radius", radius, low=0.0)
        self.period = _v.integer("period", period, low=1)
        self.noise = _v.real("noise", noise, low=0.0)
        self._u = np.full(self.dim, 1.0 / math.sqrt(self.dim))
        self.minimizer = self.minimizer_at(0)
        self.min_value = 0.0

    def minimizer_at(self, k):
        """``c(k)``: shape ``(dim,)`` for a scalar ``k``, ``(len(k), dim)`` for an array."""
        k_arr = np.asarray(k, dtype=np.float64)
        kk = np.atleast_1d(k_arr)[:, None]
        if self.drift == "linear":
            c = kk * self.speed * self._u
        elif self.drift == "switch":
            sign = 1.0 - 2.0 * (np.floor(kk / self.period) % 2)
            c = sign * self.radius * self._u
        else:
            w = 2.0 * math.pi / self.period
            c = np.zeros((kk.shape[0], self.dim))
            c[:, :1] = self.radius * np.cos(w * kk)
            c[:, 1:2] = self.radius * np.sin(w * kk)
        return c[0] if k_arr.ndim == 0 else c

    def value_at(self, x, k):
        """``L_k(x)``; ``x`` of shape ``(..., dim)``."""
        d = _v.points("x", x, self.dim) - self.minimizer_at(k)
        return 0.5 * np.sum(self.eigenvalues * d * d, axis=-1)

    def grad_at(self, x, k):
        """``grad L_k(x)``; ``x`` of shape ``(..., dim)``."""
        return self.eigenvalues * (_v.points("x", x, self.dim) - self.minimizer_at(k))

    def _value(self, x):
        d = x - self.minimizer
        return 0.5 * np.sum(self.eigenvalues * d * d, axis=-1)

    def _grad(self, x):
        return self.eigenvalues * (x - self.minimizer)

    def _hessian(self, x):
        return np.broadcast_to(np.diag(self.eigenvalues), x.shape + (self.dim,)).copy()

    def stochastic_grad(self, x, k, rng):
        """``grad L_k(x)`` plus Gaussian noise (none drawn when ``noise = 0``)."""
        g = self.grad_at(x, k)
        if self.noise > 0:
            g = g + self.noise * rng.standard_normal(g.shape)
        return g

    def _params(self):
        return {"drift": self.drift, "dim": self.dim, "period": self.period, "noise": self.noise}


def _least_squares(n_samples=200, dim=10, kappa=100.0, noise=0.5, batch_size=1, seed=0):
    return LeastSquares.random(n_samples, dim, kappa, noise, batch_size, seed)


def _sparse_least_squares(dim=20, exponent=1.0, noise=0.1, batch_size=1):
    return SparseLeastSquares.zipf(dim, exponent, noise=noise, batch_size=batch_size)


register("ravine", Ravine)
register("sharp_flat", SharpFlatMinima)
register("least_squares", _least_squares)
register("sparse_least_squares", _sparse_least_squares)
register("drifting_quadratic", DriftingQuadratic)
