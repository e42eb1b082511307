"""Sweeps over more than two axes: problem parameters and starting-point seeds, labelled.

Each cell of a labelled grid must be exactly the plain sweep of its own
problem and start (built independently here), and the labels must say which
cell is which. Seeds: the same seed gives the same start, different seeds
different ones, each at ``x* + |x0 - x*| z / |z|`` with ``z`` drawn from
``numpy.random.default_rng(seed)`` as documented.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import heavyball as hb

FIELDS = ("final_loss", "steps_to_tol", "rate", "diverged")
LRS, MOMS = np.linspace(0.002, 0.05, 25), np.linspace(0.0, 0.95, 7)


def assert_same(a, b):
    for field in FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and np.array_equal(x, y), field


def test_a_plain_sweep_keeps_its_two_axes():
    res = hb.sweep(hb.Quadratic.from_condition_number(10.0), LRS, MOMS, x0=[1.0, 1.0], n_steps=50)
    assert res.shape == res.rate.shape == (7, 25)
    assert res.axes == ("momentum", "lr") and res.grid == {} and res.starts is None
    assert res.coords["lr"] is res.lrs and res.coords["momentum"] is res.momenta


def test_each_cell_of_a_parameter_grid_is_the_sweep_of_its_problem():
    kappas = [10.0, 100.0, 1000.0]
    res = hb.sweep("quadratic", LRS, MOMS, x0=[1.0, 1.0], n_steps=300, grid={"kappa": kappas})
    assert res.axes == ("kappa", "momentum", "lr") and res.shape == (3, 7, 25)
    np.testing.assert_array_equal(res.coords["kappa"], kappas)
    for k, kappa in enumerate(kappas):
        own = hb.sweep(hb.Quadratic.from_condition_number(kappa), LRS, MOMS, x0=[1.0, 1.0], n_steps=300)
        assert_same(res.sel(kappa=kappa), own)
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(res, field)[k], getattr(own, field))
    # the grid sees different behaviour along kappa (guards the loop above against comparing constants)
    assert res.diverged[0].sum() < res.diverged[2].sum()
    # two parameter axes, a fixed parameter, and another problem
    two = hb.sweep("quadratic", LRS, MOMS, x0=np.ones(3), n_steps=100, params={"dim": 3, "mu": 0.5},
                   grid={"kappa": kappas[:2], "c": [0.0, 2.0]})
    assert two.shape == (2, 2, 7, 25) and two.problem_params == {"dim": 3, "mu": 0.5}
    cell = two.sel(kappa=100.0, c=2.0)
    assert cell.problem_params == {"dim": 3, "mu": 0.5, "kappa": 100.0, "c": 2.0}
    rebuilt = hb.problems.get(cell.problem_name, **cell.problem_params)  # the labels rebuild the problem
    assert_same(cell, hb.sweep(rebuilt, LRS, MOMS, x0=np.ones(3), n_steps=100))
    rosen = hb.sweep("rosenbrock", LRS / 50, MOMS, x0=[-1.0, 1.2], n_steps=200, grid={"b": [10.0, 100.0]})
    assert_same(rosen.sel(b=10.0), hb.sweep(hb.Rosenbrock(b=10.0), LRS / 50, MOMS, x0=[-1.0, 1.2], n_steps=200))


def test_seeds_reproduce_differ_and_draw_the_documented_start():
    kw = dict(x0=[1.0, -0.5], n_steps=300, grid={"x0_seed": [0, 1, 7]})
    q = hb.Quadratic.from_condition_number(50.0)
    a, b = hb.sweep(q, LRS, MOMS, **kw), hb.sweep(q, LRS, MOMS, **kw)
    assert a.axes == ("x0_seed", "momentum", "lr")
    assert_same(a, b)
    np.testing.assert_array_equal(a.starts, b.starts)
    radius = np.hypot(1.0, 0.5)
    for s, seed in enumerate([0, 1, 7]):
        z = np.random.default_rng(seed).standard_normal(2)
        expect = radius * z / np.linalg.norm(z)  # x* = 0
        # |z| computed by einsum + sqrt in the library, by BLAS here: one rounding apart
        np.testing.assert_allclose(a.starts[s], expect, rtol=4e-16, atol=0)
        own = hb.sweep(q, LRS, MOMS, x0=a.starts[s], n_steps=300)
        assert_same(a.sel(x0_seed=seed), own)
    assert len({tuple(s) for s in a.starts}) == 3  # different seeds, different starts ...
    assert not np.array_equal(a.steps_to_tol[0], a.steps_to_tol[1])  # ... and different results
    # a problem whose minimiser is not the origin: the start keeps its distance from x*
    rosen = hb.sweep(hb.Rosenbrock(), LRS / 50, MOMS, x0=[-1.0, 1.2], n_steps=10, grid={"x0_seed": range(5)})
    dist = np.linalg.norm(rosen.starts - [1.0, 1.0], axis=1)
    np.testing.assert_allclose(dist, np.hypot(2.0, 0.2), rtol=1e-15)


def test_seed_and_parameter_axes_combine_in_the_order_given():
    grid = {"x0_seed": [3, 4], "kappa": [10.0, 100.0, 1000.0]}
    res = hb.sweep("quadratic", LRS, MOMS, x0=[1.0, 1.0], n_steps=200, grid=grid)
    assert res.axes == ("x0_seed", "kappa", "momentum", "lr") and res.starts.shape == (2, 3, 2)
    for s in (3, 4):
        # a seed fixes the direction, whatever kappa (same x* = 0 and radius)
        np.testing.assert_array_equal(res.sel(x0_seed=s).starts, np.repeat(res.starts[s - 3, :1], 3, axis=0))
        for kappa in grid["kappa"]:
            cell = res.sel(kappa=kappa, x0_seed=s)
            own = hb.sweep(hb.Quadratic.from_condition_number(kappa), LRS, MOMS, x0=cell.starts, n_steps=200)
            assert_same(cell, own)


def test_gd_and_the_numpy_backend_with_a_grid():
    kw = dict(x0=[1.0, 1.0], n_steps=150, grid={"kappa": [10.0, 40.0], "x0_seed": [0, 1]})
    fast = hb.sweep("quadratic", LRS, MOMS, **kw)
    ref = hb.sweep("quadratic", LRS, MOMS, backend="numpy", **kw)
    assert ref.backend == "numpy"
    assert_same(fast, ref)
    gd = hb.sweep("quadratic", LRS, [0.0, 0.5, 0.9], method="gd", **kw)
    assert gd.shape == (2, 2, 3, 25)
    for field in FIELDS:  # gd ignores the momentum axis: its rows repeat
        arr = getattr(gd, field)
        np.testing.assert_array_equal(arr[:, :, 0], arr[:, :, 2])


def test_chunking_does_not_change_a_bit():
    kw = dict(x0=[1.0, -0.5], n_steps=200, grid={"kappa": [10.0, 300.0], "x0_seed": [0, 1, 2]})
    whole = hb.sweep("quadratic", LRS, MOMS, **kw)
    for chunk in (1, 33, 100, 10**6):  # rounded to blocks of 32; chunks cross cell boundaries
        assert_same(whole, hb.sweep("quadratic", LRS, MOMS, chunk_size=chunk, **kw))


def test_sel_and_best_on_a_labelled_result():
    res = hb.sweep("quadratic", LRS, MOMS, x0=[1.0, 1.0], n_steps=100, grid={"kappa": [10.0, 100.0]})
    with pytest.raises(ValueError, match=r"best\(\) needs a \(momenta x lrs\) result.*sel\(kappa=...\)"):
        res.best()
    lr, mom, rate = res.sel(kappa=10.0).best()
    # fewest steps to tolerance, then the smallest rate among those
    reached = (res.steps_to_tol[0] >= 0) & ~res.diverged[0]
    fastest = reached & (res.steps_to_tol[0] == res.steps_to_tol[0][reached].min())
    assert rate == np.min(res.rate[0][fastest])
    with pytest.raises(ValueError, match=r"`kappa` must be one of \[10.0, 100.0\], got 30.0"):
        res.sel(kappa=30.0)
    with pytest.raises(ValueError, match="`x0_seed` is not a grid axis of this result; grid axes: kappa"):
        res.sel(x0_seed=0)
    assert "grid=2 (kappa) x 7x25 (momenta x lrs)" in repr(res)


@pytest.mark.parametrize("kwargs, match", [
    (dict(problem=hb.Quadratic.from_condition_number(10.0), grid={"kappa": [1.0, 2.0]}),
     r"need the problem by its registered name \(one of .*quadratic.*\), got a Quadratic instance"),
    (dict(problem=hb.Quadratic.from_condition_number(10.0), params={"dim": 2}), "registered name"),
    (dict(problem="quadric"), "`problem` must be one of 'double_well'"),
    (dict(grid={"lr": [0.1]}), "give it as `lrs`"),
    (dict(grid={"kappa": [10.0, 10.0]}), "must not repeat a value"),
    (dict(grid={"kappa": []}), r"`grid\['kappa'\]` must be a non-empty 1-D sequence"),
    (dict(grid={"kappa": [[1.0, 2.0]]}), "non-empty 1-D sequence"),
    (dict(grid={"x0_seed": [-1, 2]}), r"`grid\['x0_seed'\]` must hold integers >= 0"),
    (dict(grid={"x0_seed": [0.5]}), "must hold integers >= 0"),
    (dict(grid={"kappa": [10.0]}, params={"kappa": 5.0}), "given both in `params` and as a `grid` axis"),
    (dict(grid={"kapa": [10.0]}), "bad parameters for problem 'quadratic'"),
    (dict(grid={"kappa": [0.5, 10.0]}), "`kappa` must be >= 1"),
    (dict(grid="kappa"), "`grid` must be a dict"),
    (dict(problem="double_well", grid={"tilt": [0.0, 0.25]}), "mixes problems with and without a known minimiser"),
    (dict(problem="saddle", grid={"x0_seed": [0]}), "needs a problem with a known minimiser"),
    (dict(problem="rosenbrock", x0=[1.0, 1.0], grid={"a": [2.0, 1.0]}),
     r"at a=1\.0: `x0` must give a finite, non-zero"),
    (dict(chunk_size=0), "`chunk_size` must be an integer >= 1"),
    (dict(client="tcp://127.0.0.1:8786"), "`client` is used only by backend='dask'"),
    (dict(workers=2), "`workers` is used only by backend='dask'"),
])
def test_bad_grid_arguments_raise_value_errors_that_name_them(kwargs, match):
    args = dict(problem="quadratic", x0=[1.0, 1.0], n_steps=10)
    args.update(kwargs)
    problem = args.pop("problem")
    with pytest.raises(ValueError, match=match):
        hb.sweep(problem, [0.01], [0.5], **args)


def test_the_dask_backend_without_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ImportError, match=r"optional extra 'dask'.*heavyball-dynamics\[dask\]"):
        hb.sweep(hb.Quadratic.from_condition_number(10.0), [0.1], [0.5], x0=[1.0, 1.0], n_steps=5, backend="dask")


def test_importing_heavyball_imports_no_dask():
    code = "import sys, heavyball; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
