r"""Hyper-parameter sweeps: a learning-rate x momentum grid of optimiser runs.

:func:`sweep` runs ``torch.optim.SGD`` (plain, heavy ball or Nesterov) from
the same start at every point of a grid and summarises each run by its final
loss, the number of steps to a tolerance, its mean contraction rate and
whether it diverged (:class:`SweepResult`). The ``"numba"`` backend advances
blocks of neighbouring grid points together in a parallel compiled kernel
(:func:`heavyball.kernels.sweep_kernel`); the ``"numpy"`` backend, vectorised
over the grid, computes the same numbers and is the test oracle.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from . import _fast
from . import _validation as _v
from .trajectory import DIVERGENCE_BOUND

__all__ = ["sweep", "SweepResult", "METHODS", "BACKENDS"]

METHODS = ("gd", "heavy_ball", "nesterov")
BACKENDS = ("numba", "numpy")

#: Smallest normal float64: every ``FLUSH_EVERY`` steps the sweep sets smaller
#: coordinates of ``x`` and of the momentum buffer to zero (see :func:`sweep`, Notes).
FLUSH_BELOW = 2.2250738585072014e-308
FLUSH_EVERY = 16
#: Each scaled term of the per-step tolerance test is raised to at least this
#: before squaring (see :func:`_tolerance_scale`).
DISTANCE_FLOOR = 1e-150
#: Smallest ``tol |x_0 - x*|`` accepted: the test works in units of it.
SMALLEST_THRESHOLD = 1e-300
#: Work (grid points x steps x dimension) above which ``progress=None`` shows a
#: bar on a terminal: about a second for the compiled kernel.
LONG_SWEEP_WORK = {"numba": 1e9, "numpy": 5e7}
#: Grid points kept in memory at a time is capped at this many numbers per state array.
CHUNK_NUMBERS = 1 << 22


@dataclass
class SweepResult:
    """Summary of a learning-rate x momentum sweep.

    Attributes
    ----------
    lrs : ndarray, shape (L,)
    momenta : ndarray, shape (M,)
    final_loss : ndarray, shape (M, L)
        ``L(x_n)``; ``inf`` where diverged.
    steps_to_tol : ndarray of int64, shape (M, L)
        First ``k`` in ``0..n`` with ``|x_k - x*| <= tol |x_0 - x*|``; -1 where
        never reached (a run that got there and diverged later keeps its ``k``).
    rate : ndarray, shape (M, L)
        ``(|x_n - x*| / |x_0 - x*|)^(1/n)``; ``inf`` where diverged; 0 where
        the distance underflowed to zero.
    diverged : ndarray of bool, shape (M, L)
        A coordinate of ``x`` or of the momentum buffer became non-finite or
        exceeded ``divergence_bound`` at some step, or ``L(x_n)`` is not finite.
    method : str
        ``"gd"``, ``"heavy_ball"`` or ``"nesterov"``.
    n_steps : int
    tol : float
    x0 : ndarray, shape (dim,)
    problem_name : str
    problem_params : dict
        The problem's constructor parameters (arrays for quadratics).
    distance : str
        ``"x - x*"`` or, for a problem without a unique minimiser, ``"grad"``:
        what ``|.|`` measures in ``steps_to_tol`` and ``rate``.
    divergence_bound : float
    backend : str
        The engine that computed the numbers.

    Examples
    --------
    Heavy ball on ``diag(1, 10)``; with ``lr = 0.1`` and no momentum the slow
    mode contracts by 0.9 per step and the fast one vanishes after one step, so
    ``|x_k - x*| = 0.9^k`` reaches ``1e-8 |x_0 - x*| = 1e-8 sqrt 2`` at ``k = 172``:

    >>> import heavyball as hb
    >>> res = hb.sweep(hb.Quadratic.diagonal([1.0, 10.0]), [0.05, 0.1, 0.5], [0.0, 0.5],
    ...                x0=[1.0, 1.0], n_steps=200)
    >>> res.shape, res.diverged.tolist()
    ((2, 3), [[False, False, True], [False, False, True]])
    >>> res.steps_to_tol.tolist()
    [[-1, 172, -1], [150, 55, -1]]
    >>> res.rate.round(3).tolist()  # 0.9 * 2**(-1/400); sqrt(0.5) for complex roots
    [[0.948, 0.898, inf], [0.884, 0.707, inf]]
    """

    lrs: np.ndarray
    momenta: np.ndarray
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    rate: np.ndarray
    diverged: np.ndarray
    method: str
    n_steps: int
    tol: float
    x0: np.ndarray
    problem_name: str
    problem_params: dict = field(default_factory=dict)
    distance: str = "x - x*"
    divergence_bound: float = DIVERGENCE_BOUND
    backend: str = "numba"

    @property
    def shape(self):
        """``(len(momenta), len(lrs))``."""
        return (len(self.momenta), len(self.lrs))

    @property
    def metadata(self):
        """Everything but the result arrays, as a dict."""
        return {
            "method": self.method,
            "n_steps": self.n_steps,
            "tol": self.tol,
            "x0": self.x0,
            "problem_name": self.problem_name,
            "problem_params": self.problem_params,
            "distance": self.distance,
            "divergence_bound": self.divergence_bound,
            "backend": self.backend,
        }

    def best(self):
        """``(lr, momentum, rate)`` of the smallest rate among the non-diverged points, or None."""
        rate = np.where(self.diverged, np.inf, self.rate)
        if not np.isfinite(rate).any():
            return None
        i, j = np.unravel_index(int(np.argmin(rate)), rate.shape)
        return float(self.lrs[j]), float(self.momenta[i]), float(rate[i, j])

    def __repr__(self):
        m, l = self.shape
        return (f"SweepResult(method={self.method!r}, problem={self.problem_name!r}, "
                f"grid={m}x{l} (momenta x lrs), n_steps={self.n_steps}, "
                f"diverged={int(self.diverged.sum())}, backend={self.backend!r})")


def sweep(problem, lrs, momenta, *, x0, n_steps, method="heavy_ball", tol=1e-8, backend="numba",
          progress=None):
    r"""Run an optimiser at every point of a learning-rate x momentum grid.

    Parameters
    ----------
    problem : Problem
        Anything with ``dim``, ``value`` and ``grad`` (broadcasting over
        leading axes). Built-in problems run in the compiled kernel; others
        use the NumPy backend whatever ``backend`` says.
    lrs : array_like, shape (L,)
        Learning rates, ``>= 0``.
    momenta : array_like, shape (M,)
        Momenta, ``>= 0``. For ``"gd"`` the momentum does not enter the
        update: each ``lr`` is run once and its result repeated along the
        momentum axis, so ``momenta=[0.0]`` gives a ``(1, L)`` result.
    x0 : array_like, shape (dim,)
        Start of every run (at rest: PyTorch's buffer starts empty).
    n_steps : int >= 1
    method : {"gd", "heavy_ball", "nesterov"}
        ``torch.optim.SGD`` with ``momentum=0``, ``momentum=m`` or
        ``momentum=m, nesterov=True``; for Nesterov the iterate is PyTorch's
        parameter, the look-ahead point.
    tol : float > 0
        Relative tolerance of ``steps_to_tol``; ``tol |x_0 - x*|`` must be at
        least ``1e-300``.
    backend : {"numba", "numpy"}
        ``"numpy"`` (vectorised over the grid) gives the same numbers.
    progress : bool or None
        Show a progress bar (tqdm, on stderr). None: only for a long sweep
        (more than about a second of work) when stderr is a terminal.

    Returns
    -------
    SweepResult
        Arrays of shape ``(len(momenta), len(lrs))``.

    Raises
    ------
    ValueError
        For a bad argument, or an ``x0`` at which ``|x_0 - x*|`` (or
        ``|grad L(x_0)|``) is 0 or not finite, since the rate is then undefined.

    Notes
    -----
    Every point runs all ``n_steps`` unless it diverges. With ``x*`` the
    problem's ``minimizer`` (where that is None, read ``grad L(x)`` for
    ``x - x*``): ``steps_to_tol`` is the first ``k`` with
    ``|x_k - x*| <= tol |x_0 - x*|``, ``rate`` is
    ``(|x_n - x*| / |x_0 - x*|)^(1/n)`` and ``final_loss`` is ``L(x_n)``.
    A point diverges when a coordinate of ``x`` or of the momentum buffer
    becomes non-finite or exceeds ``1e50`` in magnitude
    (:data:`~heavyball.trajectory.DIVERGENCE_BOUND`) after any step, or when
    ``L(x_n)`` is not finite; its ``final_loss`` and ``rate`` are ``inf``,
    so both are finite wherever ``diverged`` is false.

    Every 16 steps, coordinates of ``x`` and of the buffer smaller than the
    smallest normal float64 (``2.2e-308``) are set to zero. Without this, a
    run that converges onto ``x* = 0`` spends its remaining steps on
    subnormal numbers, each about 20 times slower. It changes nothing but
    the underflow: where ``|x_n - x*|`` would have been subnormal the rate
    may be 0 instead of a number set by the underflow floor; a contraction
    rate below ``(2.2e-308 / |x_0 - x*|)^(1/n)`` is not representable in
    float64 either way.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic.from_condition_number(100.0)
    >>> res = hb.sweep(q, np.linspace(0.001, 0.03, 30), np.linspace(0.0, 0.95, 20),
    ...                x0=[1.0, 1.0], n_steps=500)
    >>> res.rate.shape
    (20, 30)
    >>> lr, momentum, rate = res.best()
    >>> bool(rate < 0.9)
    True
    """
    args = _validate(problem, lrs, momenta, x0, n_steps, method, tol, backend, progress)
    lrs, momenta, x0, n, tol = args
    xstar = getattr(problem, "minimizer", None)
    use_grad = xstar is None
    xstar = np.zeros(problem.dim) if use_grad else np.ascontiguousarray(xstar, dtype=np.float64)
    d0 = _start_distance(problem, x0, xstar, use_grad)
    scale, thr2 = _tolerance_scale(tol, d0)
    run_momenta = np.zeros(1) if method == "gd" else momenta
    cp = _fast.compiled_problem(problem) if backend == "numba" else None
    engine = "numba" if cp is not None else "numpy"
    n_pts = len(run_momenta) * len(lrs)
    show = _show_progress(progress, n_pts * n * problem.dim, engine)
    steps, dead, loss, rate = _run_grid(problem, cp, method, x0, xstar, use_grad, scale, thr2, lrs,
                                        run_momenta, n, d0, show)
    shape = (len(run_momenta), len(lrs))
    arrays = [a.reshape(shape) for a in (loss, steps, rate, dead)]
    if method == "gd":
        arrays = [np.repeat(a, len(momenta), axis=0) for a in arrays]
    return SweepResult(
        lrs=lrs, momenta=momenta, final_loss=arrays[0], steps_to_tol=arrays[1], rate=arrays[2],
        diverged=arrays[3], method=method, n_steps=n, tol=tol, x0=x0,
        problem_name=str(getattr(problem, "name", type(problem).__name__)),
        problem_params=_problem_params(problem), distance="grad" if use_grad else "x - x*",
        backend=engine,
    )


def _validate(problem, lrs, momenta, x0, n_steps, method, tol, backend, progress):
    for attr in ("dim", "value", "grad"):
        if not hasattr(problem, attr):
            raise ValueError(f"`problem` must have `dim`, `value` and `grad`; missing `{attr}`")
    _v.choice("method", method, METHODS)
    _v.choice("backend", backend, BACKENDS)
    if progress not in (None, True, False):
        raise ValueError(f"`progress` must be None, True or False, got {progress!r}")
    grids = []
    for name, values in (("lrs", lrs), ("momenta", momenta)):
        arr = _v.vector(name, values)
        if arr.size == 0:
            raise ValueError(f"`{name}` must be non-empty, got shape {arr.shape}")
        if np.any(arr < 0):
            bad = float(arr[np.flatnonzero(arr < 0)[0]])
            raise ValueError(f"`{name}` must be >= 0, got {bad!r}")
        grids.append(arr)
    x0 = _v.vector("x0", x0, problem.dim)
    n = _v.integer("n_steps", n_steps, low=1)
    tol = _v.real("tol", tol, low=0.0, low_open=True)
    return grids[0], grids[1], x0, n, tol


def _start_distance(problem, x0, xstar, use_grad):
    with np.errstate(all="ignore"):
        e = np.asarray(problem.grad(x0), dtype=np.float64) if use_grad else x0 - xstar
        d0 = float(_norms(e[None, :])[0])
    what = "|grad L(x0)|" if use_grad else "|x0 - x*|"
    if not (0.0 < d0 < math.inf):
        raise ValueError(f"`x0` must give a finite, non-zero {what} (the rate is relative to it); got {d0!r}")
    return d0


def _tolerance_scale(tol, d0):
    """``(scale, thr2)`` of the tolerance test ``sum_i max(scale |e_i|, DISTANCE_FLOOR)^2 <= thr2``.

    ``scale`` is the power of two that brings ``tol d0`` into ``[0.5, 1)``.
    Multiplying by it is exact, so the test is ``|e| <= tol d0`` without
    the underflow of squaring a tiny threshold; raising each term to
    ``DISTANCE_FLOOR`` adds at most ``dim * 1e-300`` to a sum compared with
    ``thr2 >= 0.25``, which no rounding can see, and keeps the squares of
    vanishing coordinates out of the (20x slower) subnormal range.
    """
    thr = tol * d0
    if not thr >= SMALLEST_THRESHOLD:
        raise ValueError(f"`tol` * |x0 - x*| must be >= {SMALLEST_THRESHOLD:g}, got {thr!r} (tol = {tol!r})")
    scale = math.ldexp(1.0, -math.frexp(thr)[1])
    return scale, (thr * scale) ** 2


def _norms(e):
    """Euclidean norm of each row; rows whose squares could under- or overflow use ``hypot``."""
    with np.errstate(all="ignore"):
        sq = np.einsum("ij,ij->i", e, e)
        out = np.sqrt(sq)
        risky = ~((sq > 1e-290) & (sq < 1e290))
        if risky.any():
            out[risky] = np.hypot.reduce(np.abs(e[risky]), axis=1)
    return out


def _problem_params(problem):
    params = getattr(problem, "_params", None)
    return dict(params()) if callable(params) else {}


def _show_progress(progress, work, engine):
    if progress is not None:
        return progress
    return work >= LONG_SWEEP_WORK[engine] and sys.stderr is not None and sys.stderr.isatty()


def _chunk_size(n_pts, dim, show):
    from .kernels import LANES

    cap = max(LANES, CHUNK_NUMBERS // max(dim, 1))
    target = max(LANES * 16, -(-n_pts // 50)) if show else n_pts
    size = min(n_pts, cap, target)
    return size if size == n_pts else -(-size // LANES) * LANES


def _run_grid(problem, cp, method, x0, xstar, use_grad, scale, thr2, lrs, momenta, n, d0, show):
    """Run every grid point in chunks; returns flat ``steps, diverged, final_loss, rate``."""
    n_pts = len(momenta) * len(lrs)
    steps = np.empty(n_pts, dtype=np.int64)
    dead = np.empty(n_pts, dtype=np.bool_)
    loss = np.empty(n_pts)
    rate = np.empty(n_pts)
    size = _chunk_size(n_pts, problem.dim, show)
    bar = _bar(n_pts, show)
    try:
        for p0 in range(0, n_pts, size):
            p1 = min(n_pts, p0 + size)
            if cp is not None:
                xf = _numba_chunk(cp, method, x0, xstar, use_grad, scale, thr2, lrs, momenta, n,
                                  p0, p1, steps[p0:p1], dead[p0:p1])
            else:
                pts = np.arange(p0, p1)
                lr, mom = lrs[pts % len(lrs)], momenta[pts // len(lrs)]
                st, dd, xf = numpy_chunk(problem, method, x0, xstar, use_grad, scale, thr2, lr, mom, n)
                steps[p0:p1], dead[p0:p1] = st, dd
            loss[p0:p1], rate[p0:p1] = _summarise(problem, xf, dead[p0:p1], xstar, use_grad, d0, n)
            if bar is not None:
                bar.update(p1 - p0)
    finally:
        if bar is not None:
            bar.close()
    return steps, dead, loss, rate


def _bar(total, show):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="pt", file=sys.stderr, dynamic_ncols=True)


def _numba_chunk(cp, method, x0, xstar, use_grad, scale, thr2, lrs, momenta, n, p0, p1, steps, dead):
    from . import kernels

    xf = np.empty((p1 - p0, cp.dim))
    kernels.sweep_kernel(kernels.SWEEP_METHODS[method], cp.kind, cp.scalars, cp.vec1, cp.vec2, x0,
                         xstar, use_grad, scale, thr2, lrs, momenta, p0, p1, n, steps, dead, xf)
    return xf


def numpy_chunk(problem, method, x0, xstar, use_grad, scale, thr2, lr, mom, n):
    """The NumPy twin of :func:`heavyball.kernels.sweep_kernel` for points with the given ``lr, mom``.

    Vectorised over the points, same operations in the same order; the
    gradient is the problem's own NumPy ``grad``. Returns ``steps, dead, xf``.
    """
    p, d = len(lr), len(x0)
    X = np.tile(x0, (p, 1))
    V = np.zeros((p, d))
    steps = np.full(p, -1, dtype=np.int64)
    dead = np.zeros(p, dtype=np.bool_)
    lr, mom = lr[:, None], mom[:, None]
    with np.errstate(all="ignore"):
        for k in range(n + 1):
            G = np.asarray(problem.grad(X), dtype=np.float64)
            d2 = _tolerance_distance2(G if use_grad else X - xstar, scale)
            hit = (steps < 0) & ~dead & (d2 <= thr2)
            steps[hit] = k
            if k == n:
                break
            if method == "gd":
                X = X - lr * G
                B = V
            else:
                B = V * mom + G
                X = X - lr * (B if method == "heavy_ball" else G + mom * B)
            ok = np.all(np.abs(X) <= DIVERGENCE_BOUND, axis=1)
            if method != "gd":
                ok &= np.all(np.abs(B) <= DIVERGENCE_BOUND, axis=1)
            dead |= ~ok
            V = B
            if dead.all():
                break
            if (k + 1) % FLUSH_EVERY == 0:
                X = np.where(np.abs(X) < FLUSH_BELOW, 0.0, X)
                V = np.where(np.abs(V) < FLUSH_BELOW, 0.0, V)
    return steps, dead, X


def _tolerance_distance2(e, scale):
    """Sum over coordinates of ``max(scale |e_i|, DISTANCE_FLOOR)^2``, in the kernel's order (small ``dim``)."""
    a = np.maximum(np.abs(e) * scale, DISTANCE_FLOOR)
    if a.shape[1] > 32:
        return np.sum(a * a, axis=1)
    d2 = np.zeros(a.shape[0])
    for i in range(a.shape[1]):
        d2 += a[:, i] * a[:, i]
    return d2


def _summarise(problem, xf, dead, xstar, use_grad, d0, n):
    """``final_loss`` and ``rate`` from final states (shared by both backends); updates ``dead``."""
    loss = np.full(len(dead), np.inf)
    rate = np.full(len(dead), np.inf)
    live = np.flatnonzero(~dead)
    if live.size:
        x = xf if live.size == len(dead) else xf[live]
        with np.errstate(all="ignore"):
            value = np.asarray(problem.value(x), dtype=np.float64).reshape(-1)
            e = np.asarray(problem.grad(x), dtype=np.float64) if use_grad else x - xstar
            # exp(log / n): (dist / d0) itself may overflow for a far but bounded point
            r = np.exp((np.log(_norms(e)) - math.log(d0)) / n)
        ok = np.isfinite(value) & np.isfinite(r)
        loss[live[ok]] = value[ok]
        rate[live[ok]] = r[ok]
        dead[live[~ok]] = True
    return loss, rate
