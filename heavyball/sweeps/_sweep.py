r"""Hyper-parameter sweeps: a learning-rate x momentum grid of optimiser runs.

:func:`sweep` runs ``torch.optim.SGD`` (plain, heavy ball or Nesterov) from
the same start at every point of a grid and summarises each run by its final
loss, the number of steps to a tolerance, its mean contraction rate and
whether it diverged (:class:`SweepResult`). The ``"numba"`` backend advances
blocks of neighbouring grid points together in a parallel compiled kernel
(:func:`heavyball.kernels.sweep_kernel`); the ``"numpy"`` backend, vectorised
over the grid, computes the same numbers and is the test oracle; the
``"dask"`` backend runs chunks of the grid as tasks on a Dask cluster
(:mod:`heavyball.sweeps._dask`), each chunk with the same compiled kernel.

Extra leading axes (``grid=``: a problem parameter such as the condition
number, or starting-point seeds, :mod:`heavyball.sweeps._grid`) give a
labelled result; :meth:`SweepResult.save` and :meth:`SweepResult.load` keep
it in one portable file (:mod:`heavyball.sweeps._persist`).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .. import _compiled
from .. import _validation as _v
from .. import problems as _problems
from .._methods import SGD_METHODS
from ..trajectory import DIVERGENCE_BOUND
from . import _chunks
from . import _grid
from ._numpy import norms

__all__ = ["sweep", "SweepResult", "METHODS", "BACKENDS"]

METHODS = SGD_METHODS
BACKENDS = ("numba", "numpy", "dask")

#: Smallest ``tol |x_0 - x*|`` accepted: the test works in units of it.
SMALLEST_THRESHOLD = 1e-300
#: Work (grid points x steps x dimension) above which ``progress=None`` shows a
#: bar on a terminal: about a second for the compiled kernel.
LONG_SWEEP_WORK = {"numba": 1e9, "numpy": 5e7}


@dataclass
class SweepResult:
    """Summary of a learning-rate x momentum sweep, possibly over extra axes.

    The result arrays have shape ``(len(momenta), len(lrs))`` for a plain
    sweep; a sweep with ``grid=`` axes puts them first:
    ``shape = (*grid lengths, len(momenta), len(lrs))``, labelled by
    :attr:`axes` and :attr:`coords`.

    Parameters
    ----------
    lrs : ndarray, shape (L,)
        The learning rates of the grid, in the order given to :func:`sweep`.
    momenta : ndarray, shape (M,)
        The momenta of the grid, in the order given.
    final_loss : ndarray, shape (..., M, L)
        ``L(x_n)``; ``inf`` where diverged.
    steps_to_tol : ndarray of int64, shape (..., M, L)
        First ``k`` in ``0..n`` with ``|x_k - x*| <= tol |x_0 - x*|``; -1 where
        never reached (a run that got there and diverged later keeps its ``k``).
    rate : ndarray, shape (..., M, L)
        Mean contraction factor per step, ``(|x_K - x*| / |x_0 - x*|)^(1/K)``
        with ``K = n``, or, where ``|x_n - x*|`` reached the floating-point
        floor (below ``1e-300``, where the sweep flushes to zero), the
        largest power of two ``K <= max(steps_to_tol, 1)``: the rate over steps before the floor, so
        a converged point has a rate in ``(0, 1)``. ``inf`` where diverged; 0
        only where a run lands exactly on ``x*`` within ``K`` steps.
    diverged : ndarray of bool, shape (..., M, L)
        A coordinate of ``x`` or of the momentum buffer became non-finite or
        exceeded ``divergence_bound`` at some step, or ``L(x_n)`` is not finite.
    method : str
        ``"gd"``, ``"heavy_ball"`` or ``"nesterov"``.
    n_steps : int
        Steps run at every point (unless it diverged first).
    tol : float
        Relative tolerance of ``steps_to_tol``.
    x0 : ndarray, shape (dim,)
        The ``x0`` argument (see ``starts``).
    problem_name : str
        The problem's ``name`` attribute (its registry name for a built-in
        problem), or its class name where it has none.
    problem_params : dict
        The problem's constructor parameters (arrays for quadratics); for a
        problem given by name, the fixed ``params`` (the ``grid`` axes hold
        the others, and :meth:`sel` adds the selected ones).
    distance : str
        ``"x - x*"`` or, for a problem without a unique minimiser, ``"grad"``:
        what ``|.|`` measures in ``steps_to_tol`` and ``rate``.
    divergence_bound : float
        The bound on ``|x|`` and the buffer above which a run counts as
        diverged (``1e50``).
    backend : str
        The engine that computed the numbers: ``"numba"``, ``"numpy"``,
        ``"dask+numba"`` or ``"dask+numpy"``.
    grid : dict
        The extra axes, ``name -> 1-D coordinates``, in array order (empty
        for a plain sweep).
    starts : ndarray or None
        Shape ``(*grid lengths, dim)``: where each run started, when the grid
        has an ``"x0_seed"`` axis; None when every run started at ``x0``.

    Notes
    -----
    The fields are the per-point summaries :func:`sweep` defines: with
    ``d_k = |x_k - x*|``, ``steps_to_tol = min{k : d_k <= tol d_0}`` and
    ``rate = (d_K / d_0)^(1/K)``. :meth:`best` ranks the points by
    ``steps_to_tol`` then ``rate``; :meth:`save` / :meth:`load` keep every
    field in one ``.npz`` file (no pickles).

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

    A condition-number axis: gradient descent with ``lr = 0.1`` on
    ``diag(1, kappa)`` multiplies the fast mode by ``1 - 0.1 kappa`` per step:
    ``kappa = 20`` sits on the edge (the mode flips sign forever) and
    ``kappa = 30`` diverges (``2^200 > 1e50``), while ``kappa = 5`` reaches the
    tolerance at step 172 as above:

    >>> res = hb.sweep("quadratic", [0.1], [0.0], x0=[1.0, 1.0], n_steps=200,
    ...                grid={"kappa": [5.0, 20.0, 30.0]})
    >>> res.axes, res.shape
    (('kappa', 'momentum', 'lr'), (3, 1, 1))
    >>> res.diverged[:, 0, 0].tolist(), res.sel(kappa=5.0).steps_to_tol.tolist()
    ([False, False, True], [[172]])
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
    grid: dict = field(default_factory=dict)
    starts: np.ndarray | None = None

    #: Names of the result arrays, in file order.
    ARRAYS = ("final_loss", "steps_to_tol", "rate", "diverged")

    @property
    def shape(self):
        """``(*grid lengths, len(momenta), len(lrs))``; ``(len(momenta), len(lrs))`` without a grid."""
        return tuple(len(c) for c in self.grid.values()) + (len(self.momenta), len(self.lrs))

    @property
    def axes(self):
        """Axis names of the result arrays: the ``grid`` axes, then ``"momentum"``, ``"lr"``."""
        return tuple(self.grid) + _grid.CORE_AXES

    @property
    def coords(self):
        """``axis name -> coordinates`` for every axis of the result arrays."""
        return {**self.grid, "momentum": self.momenta, "lr": self.lrs}

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
            "grid": self.grid,
            "starts": self.starts,
        }

    def sel(self, **coords):
        """The result at given coordinates of ``grid`` axes (exact match), those axes removed.

        Selecting every ``grid`` axis gives a plain ``(M, L)`` result; a
        selected problem parameter joins ``problem_params``, so
        ``problems.get(res.problem_name, **res.problem_params)`` rebuilds the
        problem of a named-problem sweep.

        Raises
        ------
        ValueError
            For a name that is not a ``grid`` axis or a value not among its coordinates.
        """
        index, grid, params = [], {}, dict(self.problem_params)
        unknown = sorted(set(coords) - set(self.grid))
        if unknown:
            raise ValueError(f"`{unknown[0]}` is not a grid axis of this result; grid axes: "
                             f"{', '.join(self.grid) or '(none)'}")
        for name, values in self.grid.items():
            if name not in coords:
                index.append(slice(None))
                grid[name] = values
                continue
            hit = np.flatnonzero(values == coords[name])
            if hit.size != 1:
                raise ValueError(f"`{name}` must be one of {values.tolist()}, got {coords[name]!r}")
            index.append(int(hit[0]))
            if name != _grid.SEED_AXIS:
                params[name] = values[hit[0]].item()
        idx = tuple(index)
        arrays = {name: getattr(self, name)[idx] for name in self.ARRAYS}
        starts = None if self.starts is None else self.starts[idx]
        return dataclasses.replace(self, grid=grid, starts=starts, problem_params=params, **arrays)

    def best(self):
        """``(lr, momentum, rate)`` of the best non-diverged point, or None if every point diverged.

        The best point reaches the tolerance in the fewest steps
        (``steps_to_tol``); ties, and results where no point reached it, go
        to the smallest ``rate``. Only for a plain ``(M, L)`` result; select a
        cell of a grid with :meth:`sel` first.
        """
        if self.grid:
            raise ValueError(f"best() needs a (momenta x lrs) result; select the grid axes first, "
                             f"e.g. res.sel({', '.join(f'{n}=...' for n in self.grid)})")
        rate = np.where(self.diverged, np.inf, self.rate)
        if not np.isfinite(rate).any():
            return None
        steps = np.where((self.steps_to_tol >= 0) & np.isfinite(rate), self.steps_to_tol, np.iinfo(np.int64).max)
        flat = int(np.lexsort((rate.ravel(), steps.ravel()))[0])
        i, j = np.unravel_index(flat, rate.shape)
        return float(self.lrs[j]), float(self.momenta[i]), float(rate[i, j])

    def save(self, path):
        """Write the result to one file exactly at ``path`` (no suffix added), atomically.

        The file is a NumPy ``.npz`` archive without pickles: every array with
        its dtype and the metadata as JSON (format described in
        :mod:`heavyball.sweeps._persist`). It is written to a temporary file in the
        same directory, synced to disk and renamed over ``path``, so a crash
        or Ctrl-C leaves either the old file or the new one, never a partial
        one.
        """
        from . import _persist

        _persist.save(self, path)

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; every array and field round-trips exactly.

        Raises
        ------
        ValueError
            If the file is corrupt, truncated, not a heavyball sweep file, or
            written in a newer format version than this heavyball reads.
        """
        from . import _persist

        return _persist.load(cls, path)

    def __repr__(self):
        m, l = self.shape[-2:]
        extra = "".join(f"{len(c)} ({n}) x " for n, c in self.grid.items())
        return (f"SweepResult(method={self.method!r}, problem={self.problem_name!r}, "
                f"grid={extra}{m}x{l} (momenta x lrs), n_steps={self.n_steps}, "
                f"diverged={int(self.diverged.sum())}, backend={self.backend!r})")


class _Cell(NamedTuple):
    """One problem and start of a sweep, with what its runs need (sent to Dask workers as is)."""

    problem: object
    cp: object  # CompiledProblem or None
    x0: np.ndarray
    xstar: np.ndarray
    use_grad: bool
    d0: float
    scale: float
    thr2: float


def sweep(problem, lrs, momenta, *, x0, n_steps, method="heavy_ball", tol=1e-8, backend="numba",
          progress=None, params=None, grid=None, client=None, workers=None, chunk_size=None):
    r"""Run an optimiser at every point of a learning-rate x momentum grid.

    Parameters
    ----------
    problem : Problem or str
        Anything with ``dim``, ``value`` and ``grad`` (broadcasting over
        leading axes), or the name of a registered problem
        (:func:`heavyball.problems.names`), built with ``params``. Built-in
        problems run in the compiled kernel; others use the NumPy backend
        whatever ``backend`` says, which calls ``grad`` once per step on all
        the grid points of a chunk: one call for a
        ``CustomProblem(..., vectorized=True)``, one per point otherwise.
    lrs : array_like, shape (L,)
        Learning rates, ``>= 0``.
    momenta : array_like, shape (M,)
        Momenta, ``>= 0``. For ``"gd"`` the momentum does not enter the
        update: each ``lr`` is run once and its result repeated along the
        momentum axis, so ``momenta=[0.0]`` gives a ``(1, L)`` result.
    x0 : array_like, shape (dim,)
        Start of every run (at rest: PyTorch's buffer starts empty).
    n_steps : int >= 1
        Steps per run.
    method : {"gd", "heavy_ball", "nesterov"}
        ``torch.optim.SGD`` with ``momentum=0``, ``momentum=m`` or
        ``momentum=m, nesterov=True``; for Nesterov the iterate is PyTorch's
        parameter, the look-ahead point.
    tol : float > 0
        Relative tolerance of ``steps_to_tol``; ``tol |x_0 - x*|`` must be at
        least ``1e-300``.
    backend : {"numba", "numpy", "dask"}
        ``"numpy"`` (vectorised over the grid) gives the same numbers: it is
        the reference twin of the compiled kernel, written for readability
        and a bit-for-bit match rather than for speed (it advances all live
        points one step at a time with whole-array operations and the
        kernel's bookkeeping, about 100 ns per trajectory-step, some 20 times
        slower than a tuned NumPy formulation and about 70 times slower than
        ``"numba"``); use it to check the kernel, not for large sweeps.
        ``"dask"`` runs chunks of the grid as tasks on a Dask cluster (the
        optional extra ``dask``), each with the kernel of ``"numba"``, and
        gives bit-identical results.
    progress : bool or None
        Show a progress bar (tqdm, on stderr). None: only for a long sweep
        (more than about a second of work) when stderr is a terminal.
    params : dict, optional
        Constructor parameters of a problem given by name, e.g.
        ``{"dim": 5}`` for ``"quadratic"``.
    grid : dict, optional
        Extra axes, ``name -> 1-D values``, placed first in the result in the
        order given. A name is a constructor parameter of the problem given
        by name (``"kappa"`` for ``"quadratic"``; each value builds a problem
        with ``problems.get(problem, **params, name=value)``), or
        ``"x0_seed"``: integer seeds, each drawing a start at the distance of
        ``x0`` from the minimiser in a random direction,
        ``x* + |x0 - x*| z / |z|`` with
        ``z = numpy.random.default_rng(seed).standard_normal(dim)``.
    client : distributed.Client or str, optional
        For ``backend="dask"``: the client of the cluster to use, or a
        scheduler address to connect to (closed afterwards). None: the
        current default client if there is one, else a private
        ``LocalCluster`` (one single-threaded worker process per core, or
        ``workers``) started for this call and shut down before it returns,
        also on error or Ctrl-C.
    workers : int >= 1, optional
        For ``backend="dask"`` without ``client``: start a private
        ``LocalCluster`` of this many worker processes (even when a
        default client exists).
    chunk_size : int >= 1, optional
        Grid points per chunk (a Dask task, or a step of the progress bar),
        rounded up to a multiple of 32 (a kernel block). Default: for Dask,
        ``2e8 x (worker threads) / dim`` trajectory-steps per chunk (the
        scheduler's work per chunk is then a small share of the wall time
        on any cluster), but at least two chunks per worker thread when
        the grid is smaller; locally, the whole grid (memory permitting).

    Returns
    -------
    SweepResult
        Arrays of shape ``(len(momenta), len(lrs))``, or
        ``(*grid lengths, len(momenta), len(lrs))`` with ``grid``.

    Raises
    ------
    ValueError
        For a bad argument, or an ``x0`` at which ``|x_0 - x*|`` (or
        ``|grad L(x_0)|``) is 0 or not finite, since the rate is then undefined.
    ImportError
        For ``backend="dask"`` without ``dask.distributed`` installed.

    Notes
    -----
    Every point runs all ``n_steps`` unless it diverges. With ``x*`` the
    problem's ``minimizer`` (where that is None, read ``grad L(x)`` for
    ``x - x*``): ``steps_to_tol`` is the first ``k`` with
    ``|x_k - x*| <= tol |x_0 - x*|``, ``rate`` is
    ``(|x_K - x*| / |x_0 - x*|)^(1/K)`` with ``K = n`` (see below for runs
    that reach the floating-point floor) and ``final_loss`` is ``L(x_n)``.
    A point diverges when a coordinate of ``x`` or of the momentum buffer
    becomes non-finite or exceeds ``1e50`` in magnitude
    (:data:`~heavyball.trajectory.DIVERGENCE_BOUND`) after any step, or when
    ``L(x_n)`` is not finite; its ``final_loss`` and ``rate`` are ``inf``,
    so both are finite wherever ``diverged`` is false.

    Every 16 steps, coordinates of ``x`` and of the buffer smaller than the
    smallest normal float64 (``2.2e-308``) are set to zero. Without this, a
    run that converges onto ``x* = 0`` spends its remaining steps on
    subnormal numbers, each about 20 times slower. It changes nothing but
    the underflow. A run whose ``|x_n - x*|`` ends below ``1e-300``
    (:data:`FLOOR_DISTANCE`) has reached this floor, where
    ``(|x_n - x*| / |x_0 - x*|)^(1/n)`` would measure the floor (often 0),
    not the run; its rate is measured over the steps before the floor
    instead: ``K`` is the largest power of two ``<= max(steps_to_tol, 1)``
    (such a run has always reached the tolerance, since
    ``tol |x_0 - x*| >= 1e-300``), and the point is run again for ``K``
    steps (the same iterates; powers of two keep the re-runs to a few
    vectorised passes, under 5% of the sweep's time where most points reach
    the floor). For gradient descent at its optimal learning rate on a quadratic
    this is the spectral radius ``(kappa - 1) / (kappa + 1)`` whatever
    ``n_steps``.

    Each grid point is computed independently of the others (the kernel's
    blocks of 32 points never mix their lanes), so splitting the grid into
    chunks, locally or on Dask workers, does not change a bit of the result
    as long as every process runs the same NumPy and Numba on the same
    kind of CPU (NumPy picks its SIMD routines by CPU; the Dask backend
    checks the versions, not the CPU).

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

    Seeds as an extra axis: the start keeps its distance ``sqrt 2`` from
    ``x* = 0`` and changes direction.

    >>> res = hb.sweep("quadratic", [0.01], [0.9], x0=[1.0, 1.0], n_steps=100,
    ...                params={"kappa": 100.0}, grid={"x0_seed": [0, 1, 2]})
    >>> res.shape, np.linalg.norm(res.starts, axis=1).round(12).tolist()
    ((3, 1, 1), [1.414213562373, 1.414213562373, 1.414213562373])
    """
    lrs, momenta, x0, n, tol, chunk = _validate(problem, lrs, momenta, x0, n_steps, method, tol, backend,
                                                progress, client, workers, chunk_size)
    g = _grid.build(problem, params, grid, x0)
    starts = None if g.starts is None else g.starts.reshape(len(g.problems), -1)
    cells = [_cell(p, x0 if starts is None else starts[i], tol, backend, g.label(i))
             for i, p in enumerate(g.problems)]
    if len({c.use_grad for c in cells}) > 1:
        raise ValueError("the grid mixes problems with and without a known minimiser, whose `steps_to_tol` and "
                         "`rate` measure different distances (|x - x*| and |grad L|); sweep them separately")
    engine = "numba" if cells[0].cp is not None else "numpy"
    run_momenta = np.zeros(1) if method == "gd" else momenta
    common = (method, lrs, run_momenta, n)
    total = len(cells) * len(run_momenta) * len(lrs)
    _v.check_size("grid", f"{g.shape} x {len(momenta)} x {len(lrs)}", 4 * len(cells) * len(momenta) * len(lrs),
                  "the result arrays", "sweep a smaller grid")
    dim = cells[0].x0.shape[0]
    show = _show_progress(progress, total * n * dim, engine)
    if backend == "dask":
        from . import _dask

        flat = _dask.run(cells, common, total, client=client, workers=workers, chunk_size=chunk, show=show)
        engine = "dask+" + engine
    else:
        flat = _chunks.run_local(cells, common, total, chunk, show)
    shape = g.shape + (len(run_momenta), len(lrs))
    arrays = [a.reshape(shape) for a in flat]
    if method == "gd":
        arrays = [np.repeat(a, len(momenta), axis=-2) for a in arrays]
    first = cells[0]
    return SweepResult(
        lrs=lrs, momenta=momenta, final_loss=arrays[2], steps_to_tol=arrays[0], rate=arrays[3],
        diverged=arrays[1], method=method, n_steps=n, tol=tol, x0=x0, problem_name=g.problem_name,
        problem_params=g.fixed, distance="grad" if first.use_grad else "x - x*", backend=engine,
        grid=g.coords, starts=g.starts,
    )


def _validate(problem, lrs, momenta, x0, n_steps, method, tol, backend, progress, client, workers, chunk_size):
    _v.choice("method", method, METHODS)
    _v.choice("backend", backend, BACKENDS)
    if not (progress is None or isinstance(progress, (bool, np.bool_))):
        raise ValueError(f"`progress` must be None, True or False, got {progress!r}")
    if backend != "dask":
        for name, value in (("client", client), ("workers", workers)):
            if value is not None:
                raise ValueError(f"`{name}` is used only by backend='dask', got backend={backend!r}")
    if workers is not None:
        workers = _v.integer("workers", workers, low=1)
        if client is not None:
            raise ValueError("`workers` starts a private LocalCluster: give either `workers` or `client`, not both")
    if chunk_size is not None:
        chunk_size = _v.integer("chunk_size", chunk_size, low=1)
    grids = []
    for name, values in (("lrs", lrs), ("momenta", momenta)):
        arr = _v.vector(name, values)
        if arr.size == 0:
            raise ValueError(f"`{name}` must be non-empty, got shape {arr.shape}")
        if np.any(arr < 0):
            bad = float(arr[np.flatnonzero(arr < 0)[0]])
            raise ValueError(f"`{name}` must be >= 0, got {bad!r}")
        grids.append(arr)
    cells = len(grids[0]) * len(grids[1])
    _v.check_size("lrs x momenta", f"{len(grids[0])} x {len(grids[1])}", 4 * cells, "the result arrays",
                  "sweep a smaller grid")
    x0 = _v.vector("x0", x0, None if isinstance(problem, str) else _problems.check_problem("problem", problem).dim)
    n = _v.integer("n_steps", n_steps, low=1)
    if n >= 2**62:
        raise ValueError(f"`n_steps` must be < 2**62 (steps are counted in int64), got {n!r}")
    tol = _v.real("tol", tol, low=0.0, low_open=True)
    return grids[0], grids[1], x0, n, tol, chunk_size


def _cell(problem, x0, tol, backend, label):
    """Check ``x0`` and ``tol`` against one problem of the grid; what its runs need."""
    try:
        x0 = _v.vector("x0", x0, problem.dim)
        xstar = getattr(problem, "minimizer", None)
        use_grad = xstar is None
        xstar = np.zeros(problem.dim) if use_grad else np.ascontiguousarray(xstar, dtype=np.float64)
        d0 = _start_distance(problem, x0, xstar, use_grad)
        scale, thr2 = _tolerance_scale(tol, d0)
    except ValueError as exc:
        if not label:
            raise
        raise ValueError(f"at {label}: {exc}") from None
    cp = None if backend == "numpy" else _compiled.compiled_problem(problem)
    return _Cell(problem, cp, x0, xstar, use_grad, d0, scale, thr2)


def _start_distance(problem, x0, xstar, use_grad):
    with np.errstate(all="ignore"):
        e = np.asarray(problem.grad(x0), dtype=np.float64) if use_grad else x0 - xstar
        d0 = float(norms(e[None, :])[0])
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


def _show_progress(progress, work, engine):
    if progress is not None:
        return progress
    return work >= LONG_SWEEP_WORK[engine] and sys.stderr is not None and sys.stderr.isatty()


