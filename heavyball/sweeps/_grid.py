r"""The extra axes of a sweep: problem parameters and starting-point seeds.

A sweep always runs a momentum x learning-rate grid. ``sweep(..., grid=...)``
adds leading axes, in the order given: a registered problem's constructor
parameters (``"kappa"``, ``"dim"``, ...), each value building a new problem
with :func:`heavyball.problems.get`, and ``"x0_seed"``, which draws the
starting point. :func:`build` turns the arguments into a :class:`Grid`: one
*cell* (a problem and a starting point) per point of the extra axes.

What a seed randomises
----------------------
Seed ``s`` keeps the distance of the start from the minimiser and draws its
direction: with ``r = |x0 - x*|``,

``x0_s = x* + r z / |z|``,  ``z = numpy.random.default_rng(s).standard_normal(dim)``,

so ``z / |z|`` is uniform on the unit sphere. ``steps_to_tol`` and ``rate``
are relative to ``|x0_s - x*| = r`` (to rounding), so results for different
seeds differ only through the direction of the start: which modes it
excites. It needs a problem with a known minimiser. The starts are stored
in the result (``SweepResult.starts``), so a saved result stays exact even if
a future NumPy changes its random streams.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .. import _validation as _v
from .. import problems as _problems
from ._numpy import norms  # the sweep's overflow-safe norm

#: Axis name of the starting-point seeds.
SEED_AXIS = "x0_seed"
#: The two axes every sweep has, last in its arrays.
CORE_AXES = ("momentum", "lr")


class Grid(NamedTuple):
    """The extra axes of a sweep and one cell per point of them.

    Attributes
    ----------
    names : tuple of str
        Extra axis names, in array order (leading axes of the result).
    coords : dict
        ``name -> 1-D ndarray`` of coordinates, same order.
    problem_name : str
    fixed : dict
        The problem's parameters that do not vary: ``params`` for a problem
        given by name, the instance's own parameters otherwise.
    problems : list
        One problem per cell, in C order over the extra axes.
    starts : ndarray or None
        Shape ``shape + (dim,)``: the start of each cell when there is a seed
        axis, else None (every cell starts at ``x0``).
    """

    names: tuple
    coords: dict
    problem_name: str
    fixed: dict
    problems: list
    starts: np.ndarray | None

    @property
    def shape(self):
        return tuple(len(self.coords[n]) for n in self.names)

    def label(self, index):
        """``"kappa=100, x0_seed=3"`` for the cell with flat ``index`` (empty for a 2-D sweep)."""
        if not self.names:
            return ""
        idx = np.unravel_index(index, self.shape)
        return ", ".join(f"{n}={self.coords[n][i].item()!r}" for n, i in zip(self.names, idx))


def build(problem, params, grid, x0):
    """Validate ``problem``, ``params`` and ``grid``; build the problems and starts of every cell.

    ``x0`` is the validated start (its length is checked against each
    problem later, where the error can name the cell).
    """
    axes = _axes(grid)
    seeds = axes.pop(SEED_AXIS, None)
    if isinstance(problem, str):
        name, fixed = _named_problem(problem, params, axes)
        cell_problems = [_problems.get(name, **fixed, **dict(zip(axes, values)))
                         for values in itertools.product(*(c.tolist() for c in axes.values()))]
    else:
        _check_instance(problem, params, axes)
        name = str(getattr(problem, "name", type(problem).__name__))
        fixed = problem_params(problem)
        cell_problems = [problem]
    names = tuple(grid) if grid else ()
    coords = dict(axes)
    if seeds is not None:
        coords[SEED_AXIS] = seeds
    coords = {n: coords[n] for n in names}
    starts = None
    if seeds is not None:
        shape = tuple(len(c) for c in coords.values())
        starts = _seeded_starts(cell_problems, seeds, x0, names.index(SEED_AXIS), shape)
        cell_problems = _repeat_along(cell_problems, names, coords)
    return Grid(names, coords, name, fixed, cell_problems, starts)


def problem_params(problem):
    """The constructor parameters a problem reports (``_params()``), or {}."""
    params = getattr(problem, "_params", None)
    return dict(params()) if callable(params) else {}


def _axes(grid):
    if grid is None:
        return {}
    if not isinstance(grid, dict):
        raise ValueError(f"`grid` must be a dict of axis name -> values, got {type(grid).__name__}")
    axes = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"`grid` axis names must be non-empty strings, got {name!r}")
        if name in CORE_AXES:
            raise ValueError(f"`grid` axis {name!r} is one of the core axes {CORE_AXES}: give it as "
                             f"`{'lrs' if name == 'lr' else 'momenta'}`")
        axes[name] = _coordinates(name, values)
    return axes


def _coordinates(name, values):
    arr = np.asarray(list(values) if isinstance(values, range) else values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`grid[{name!r}]` must be a non-empty 1-D sequence, got shape {arr.shape}")
    if arr.dtype.kind not in "biufU":
        raise ValueError(f"`grid[{name!r}]` must hold numbers or strings, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"`grid[{name!r}]` must be finite, got {values!r}")
    if len(np.unique(arr)) != arr.size:
        raise ValueError(f"`grid[{name!r}]` must not repeat a value (results are labelled by them), got {values!r}")
    if name == SEED_AXIS:
        if arr.dtype.kind not in "iu" or np.any(arr < 0):
            raise ValueError(f"`grid[{SEED_AXIS!r}]` must hold integers >= 0, got {values!r}")
        arr = arr.astype(np.int64)
    return arr


def _check_instance(problem, params, axes):
    for attr in ("dim", "value", "grad"):
        if not hasattr(problem, attr):
            raise ValueError(f"`problem` must be a registered problem name or have `dim`, `value` and "
                             f"`grad`; missing `{attr}`")
    if params is not None or axes:
        varied = list(axes) or ["`params`"]
        raise ValueError(f"`params` and problem-parameter axes ({', '.join(map(str, varied))}) need the "
                         f"problem by its registered name (one of {', '.join(_problems.names())}), "
                         f"got a {type(problem).__name__} instance")


def _named_problem(name, params, axes):
    _v.choice("problem", name, _problems.names())
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(f"`params` must be a dict of constructor parameters, got {type(params).__name__}")
    both = sorted(set(params) & set(axes))
    if both:
        raise ValueError(f"problem parameter {both[0]!r} is given both in `params` and as a `grid` axis")
    fixed = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        fixed[str(key)] = value
    return name, fixed


def _seeded_starts(cell_problems, seeds, x0, seed_axis, shape):
    """``x* + |x0 - x*| z/|z|`` for every (problem cell, seed), laid out as ``shape + (dim,)``."""
    directions = {}
    rows = []
    for problem in cell_problems:
        xstar = getattr(problem, "minimizer", None)
        if xstar is None:
            raise ValueError(f"`grid[{SEED_AXIS!r}]` needs a problem with a known minimiser (a seed draws the "
                             f"direction of the start from it); problem {getattr(problem, 'name', problem)!r} has none")
        xstar = np.asarray(xstar, dtype=np.float64)
        start = _v.vector("x0", x0, problem.dim)
        radius = float(norms((start - xstar)[None, :])[0])
        for seed in seeds.tolist():
            if (seed, problem.dim) not in directions:
                z = np.random.default_rng(seed).standard_normal(problem.dim)
                directions[seed, problem.dim] = z / norms(z[None, :])[0]
            rows.append(xstar + radius * directions[seed, problem.dim])
    dims = {len(r) for r in rows}
    if len(dims) != 1:
        raise ValueError(f"`grid[{SEED_AXIS!r}]` needs every problem of the grid to have the same `dim`")
    # rows run over (problem cell, seed) with seed fastest: move the seed axis into place
    other = [n for i, n in enumerate(shape) if i != seed_axis]
    starts = np.array(rows).reshape(tuple(other) + (shape[seed_axis], dims.pop()))
    return np.ascontiguousarray(np.moveaxis(starts, len(other), seed_axis))


def _repeat_along(cell_problems, names, coords):
    """Problems per cell of the full grid (seed axis included), in C order."""
    param_names = [n for n in names if n != SEED_AXIS]
    by_params = dict(zip(itertools.product(*(range(len(coords[n])) for n in param_names)), cell_problems))
    out = []
    for idx in itertools.product(*(range(len(coords[n])) for n in names)):
        key = tuple(i for n, i in zip(names, idx) if n != SEED_AXIS)
        out.append(by_params[key])
    return out

