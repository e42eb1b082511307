import numpy as np
import pytest

import heavyball as hb
from heavyball import problems

from .oracles import check_broadcast, check_derivatives

ALL = [
    hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], b=[1.0, -1.0], c=0.5),
    hb.Quadratic.diagonal([1.0, 4.0, 9.0], b=[1.0, 0.0, 2.0]),
    hb.Rosenbrock(),
    hb.Rosenbrock(a=0.5, b=10.0),
    hb.DoubleWell(),
    hb.DoubleWell(barrier=2.0, tilt=-0.3, stiffness=5.0),
    hb.Saddle(a=2.0, b=1.0, c=0.5),
    hb.Plateau(width=0.7, depth=2.0, dim=3),
    hb.LessardCounterexample(),
]


def _points(problem, rng, n=5):
    pts = rng.uniform(-1.8, 1.8, size=(n, problem.dim))
    if isinstance(problem, hb.LessardCounterexample):
        pts = np.array([[-0.7], [0.4], [1.5], [2.6], [-3.1]])  # one point per piece, away from joins
    return pts


@pytest.mark.parametrize("problem", ALL, ids=lambda p: repr(p)[:40])
def test_gradient_and_hessian_match_central_differences(problem, rng):
    check_derivatives(problem, _points(problem, rng))


@pytest.mark.parametrize("problem", ALL, ids=lambda p: repr(p)[:40])
def test_value_grad_hessian_broadcast_over_leading_axes(problem, rng):
    check_broadcast(problem, rng.uniform(-1.5, 1.5, size=(3, 4, problem.dim)))


@pytest.mark.parametrize("problem", ALL, ids=lambda p: repr(p)[:40])
def test_minimizer_is_stationary_with_the_stated_value(problem):
    minima = [problem.minimizer] if problem.minimizer is not None else problem.local_minima
    for x in minima:
        np.testing.assert_allclose(problem.grad(x), 0.0, atol=1e-10)
        assert np.all(np.linalg.eigvalsh(problem.hessian(x)) > 0)
    if problem.min_value is not None:
        assert min(float(problem.value(x)) for x in minima) == pytest.approx(problem.min_value, abs=1e-12)


def test_quadratic_dense_and_diagonal_agree(rng):
    lam = np.array([0.5, 2.0, 7.0])
    b = rng.normal(size=3)
    dense, diag = hb.Quadratic(np.diag(lam), b, 1.5), hb.Quadratic.diagonal(lam, b, 1.5)
    x = rng.normal(size=(6, 3))
    np.testing.assert_allclose(dense.value(x), diag.value(x), rtol=1e-14)
    np.testing.assert_allclose(dense.grad(x), diag.grad(x), rtol=1e-14)
    np.testing.assert_allclose(dense.minimizer, b / lam, rtol=1e-14)
    assert diag.is_diagonal and not dense.is_diagonal
    assert (dense.mu, dense.L, dense.kappa) == (0.5, 7.0, 14.0)


def test_quadratic_random_spd_minimizer_and_spectrum(rng):
    A = rng.normal(size=(5, 5))
    H = A @ A.T + 0.1 * np.eye(5)
    b = rng.normal(size=5)
    q = hb.Quadratic(H, b)
    np.testing.assert_allclose(H @ q.minimizer, b, atol=1e-10)
    np.testing.assert_allclose(q.eigenvalues, np.linalg.eigvalsh(H), rtol=1e-12)
    assert q.min_value == pytest.approx(-0.5 * b @ np.linalg.solve(H, b), rel=1e-12)


def test_from_condition_number_spacing():
    q = hb.Quadratic.from_condition_number(100.0, dim=5, mu=2.0)
    np.testing.assert_allclose(q.eigenvalues, np.linspace(2.0, 200.0, 5))
    assert q.kappa == pytest.approx(100.0) and q.mu == 2.0 and q.L == 200.0


def test_diagonal_quadratic_in_ten_million_dimensions_has_no_dense_hessian():
    q = hb.Quadratic.diagonal(np.ones(10_000_000))
    assert q.H is None and q.dim == 10_000_000
    assert q.value(np.full(q.dim, 2.0)) == pytest.approx(2.0e7)


def test_singular_quadratic():
    q = hb.Quadratic([[1.0, 0.0], [0.0, 0.0]], b=[2.0, 0.0])
    np.testing.assert_allclose(q.minimizer, [2.0, 0.0], atol=1e-14)
    assert q.kappa == np.inf
    assert hb.Quadratic([[1.0, 0.0], [0.0, 0.0]], b=[2.0, 1.0]).minimizer is None  # unbounded below


@pytest.mark.parametrize(
    "H, match",
    [
        ([[1.0, 2.0], [0.0, 1.0]], "symmetric"),
        ([[1.0, 0.0], [0.0, -1.0]], "positive semi-definite"),
        ([[1.0, 0.0, 0.0]], "square"),
        ([[np.nan, 0.0], [0.0, 1.0]], "finite"),
    ],
)
def test_quadratic_rejects_bad_hessians(H, match):
    with pytest.raises(ValueError, match=match):
        hb.Quadratic(H)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="kappa"):
        hb.Quadratic.from_condition_number(0.5)
    with pytest.raises(ValueError, match="`b`"):
        hb.Rosenbrock(b=-1.0)
    with pytest.raises(ValueError, match="tilt"):
        hb.DoubleWell(tilt=5.0)
    with pytest.raises(ValueError, match=r"shape \(2,\) or \(\.\.\., 2\)"):
        hb.Rosenbrock().grad([1.0, 2.0, 3.0])


def test_double_well_geometry():
    p = hb.DoubleWell(barrier=1.0, tilt=0.25)
    left, right = p.local_minima
    assert left[0] < 0 < right[0]  # positive tilt: the left well is the deeper one
    assert p.value(left) < p.value(right) < p.value(p.barrier_point)
    assert p.hessian(p.barrier_point)[0, 0] < 0
    assert hb.DoubleWell(tilt=0.0).minimizer is None


def test_saddle_point_is_a_saddle():
    p = hb.Saddle()
    np.testing.assert_allclose(p.grad(p.saddle_point), 0.0)
    eig = np.linalg.eigvalsh(p.hessian(p.saddle_point))
    assert eig[0] < 0 < eig[1]


def test_lessard_function_is_c1_with_the_published_constants():
    p = hb.LessardCounterexample()
    for z in (1.0, 2.0):
        lo, hi = np.array([z - 1e-12]), np.array([z])
        assert float(p.value(lo)) == pytest.approx(float(p.value(hi)), abs=1e-9)
        assert float(p.grad(lo)[0]) == pytest.approx(float(p.grad(hi)[0]), abs=1e-9)
    z = np.linspace(-4, 5, 2001)[:, None]
    g = p.grad(z)[:, 0]
    slopes = np.diff(g) / np.diff(z[:, 0])
    assert slopes.min() == pytest.approx(1.0) and slopes.max() == pytest.approx(25.0)
    assert p.value(np.array([3.3])) == pytest.approx(12.5 * 3.3**2 - 24 * 3.3 + 36)


def test_registry():
    assert set(problems.names()) >= {"quadratic", "rosenbrock", "double_well", "saddle", "plateau", "lessard"}
    q = problems.get("quadratic", kappa=100, dim=3)
    assert q.kappa == pytest.approx(100.0) and q.dim == 3
    assert problems.get("rosenbrock", b=10.0).b == 10.0
    with pytest.raises(ValueError, match="'rosenbrock'"):
        problems.get("banana")
    with pytest.raises(ValueError, match="bad parameters"):
        problems.get("saddle", depth=3)
    for name in problems.names():  # get(name) is factory(name)() with the defaults
        built, again = problems.get(name), problems.factory(name)()
        assert type(built) is type(again) and repr(built) == repr(again), name
    assert problems.factory("rosenbrock") is hb.Rosenbrock
    with pytest.raises(ValueError, match="'rosenbrock'"):
        problems.factory("banana")


def test_custom_problem_broadcasts_by_looping():
    p = hb.CustomProblem(2, lambda x: float(x @ x), lambda x: 2 * x, minimizer=[0.0, 0.0], min_value=0.0)
    x = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_allclose(p.value(x), np.sum(x * x, axis=-1))
    np.testing.assert_allclose(p.grad(x), 2 * x)


@pytest.mark.parametrize("make, names", [
    (lambda: hb.Quadratic(H="abc"), ["`H`"]),
    (lambda: hb.Quadratic.from_condition_number(10.0, dim=10**30), ["`dim`", "numbers"]),
    (lambda: hb.Quadratic.from_condition_number(10.0, dim=2**63), ["`dim`", "numbers"]),
    (lambda: hb.Quadratic.from_condition_number(10.0, mu=1e308), ["`kappa`", "`mu`", "overflows"]),
    (lambda: hb.Quadratic.diagonal([1e-300, 1.0], b=[1e10, 0.0]), ["`eigenvalues`", "`b`", "minimiser"]),
    (lambda: hb.Quadratic([[1e-300, 0.0], [0.0, 1.0]], b=[1e10, 0.0]), ["`H`", "`b`", "minimiser"]),
    (lambda: hb.DoubleWell(barrier=1e-320), ["`barrier`", "`tilt`"]),
    (lambda: hb.DoubleWell(barrier=1e308), ["`barrier`", "overflows"]),
    (lambda: hb.Saddle(b=1e308), ["`b`", "overflows"]),
    (lambda: hb.Saddle(c=1e-320), ["`c`", "overflows"]),
    (lambda: hb.Rosenbrock(a=1e308), ["`a`", "overflows"]),
    (lambda: hb.Rosenbrock(b=1e308), ["`b`", "overflows"]),
    (lambda: hb.Plateau(width=1e308), ["`width`"]),
    (lambda: hb.Plateau(width=1e-320), ["`width`"]),
    (lambda: hb.Plateau(dim=10**30), ["`dim`", "numbers"]),
    (lambda: hb.CustomProblem(2, lambda x: x @ x, lambda x: 2 * x, hessian=3), ["`hessian`"]),
])
def test_constructors_refuse_values_that_overflow_or_do_not_fit_naming_the_parameter(make, names):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert all(name in str(info.value) for name in names), str(info.value)


def test_extreme_but_representable_parameters_still_build_and_stay_finite():
    w = hb.DoubleWell(barrier=1e-300, tilt=1e-301)  # the wells are found from the normalised cubic
    g = w.grad(w.minimizer)
    assert abs(g[0]) <= 1e-12 * 4e-300 and w.minimizer[0] < 0
    q = hb.Quadratic([[1e308, 0.0], [0.0, 1.0]])  # symmetrising does not overflow
    assert q.L == 1e308 and np.all(np.isfinite(q.H))
    s = hb.Saddle(b=1e150, c=1.0)
    assert s.min_value == pytest.approx(-1e300 / 4)
