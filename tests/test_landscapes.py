"""The scenario landscapes: derivatives, broadcasting, minima, and the stochastic gradients."""

import math

import numpy as np
import pytest

import heavyball as hb
from heavyball import problems
from heavyball.landscapes import DriftingQuadratic, LeastSquares, Ravine, SharpFlatMinima, SparseLeastSquares

from .oracles import check_broadcast, check_derivatives

ALL = [
    Ravine(),
    Ravine(steep=50.0, shallow=0.5),
    SharpFlatMinima(),
    SharpFlatMinima(flat=2.0, sharp=30.0),
    SharpFlatMinima(flat=1.0, sharp=1.0),
    LeastSquares.random(n_samples=40, dim=4, kappa=30.0, seed=3),
    SparseLeastSquares.zipf(dim=6, exponent=1.5, noise=0.2),
    DriftingQuadratic([1.0, 3.0, 5.0], drift="switch", radius=0.7, period=5),
]


@pytest.mark.parametrize("problem", ALL, ids=lambda p: repr(p)[:50])
def test_gradient_and_hessian_match_central_differences(problem, rng):
    check_derivatives(problem, rng.uniform(-1.7, 1.7, size=(5, problem.dim)))


@pytest.mark.parametrize("problem", ALL, ids=lambda p: repr(p)[:50])
def test_value_grad_hessian_broadcast_over_leading_axes(problem, rng):
    check_broadcast(problem, rng.uniform(-1.5, 1.5, size=(3, 2, problem.dim)))


def test_ravine_default_is_the_course_pages_function():
    r = Ravine()
    x = np.array([[0.3, -0.7], [1.0, 1.0]])
    np.testing.assert_allclose(r.value(x), 100 * x[:, 0] ** 2 + x[:, 1] ** 2, rtol=1e-15)
    assert (r.mu, r.L, r.kappa) == (2.0, 200.0, 100.0)
    assert np.array_equal(r.minimizer, [0.0, 0.0]) and r.min_value == 0.0
    with pytest.raises(ValueError, match="shallow"):
        Ravine(steep=1.0, shallow=2.0)


@pytest.mark.parametrize("flat, sharp", [(1.0, 20.0), (0.5, 40.0), (3.0, 3.0)])
def test_sharp_flat_minima_have_the_requested_curvatures_and_equal_depth(flat, sharp):
    p = SharpFlatMinima(flat=flat, sharp=sharp)
    (xf, xs) = p.local_minima
    assert float(p.hessian(xf)[0, 0]) == pytest.approx(flat, rel=1e-13)
    assert float(p.hessian(xs)[0, 0]) == pytest.approx(sharp, rel=1e-13)
    assert p.value(xf) == 0.0 and p.value(xs) == 0.0
    assert np.all(p.grad(np.array([xf, xs])) == 0.0)
    xb = p.barrier_point
    assert abs(float(p.grad(xb)[0])) < 1e-12 * (1 + p.barrier_height)
    assert float(p.hessian(xb)[0, 0]) < 0 and p.barrier_height > 0
    # no other stationary point: the gradient changes sign only at -1, x_b and +1
    z = np.linspace(-6, 6, 120001)[:, None]
    s = np.sign(p.grad(z)[:, 0])
    assert np.count_nonzero(np.diff(s[s != 0]) != 0) == 3


def test_least_squares_random_has_exact_spectrum_and_minimizer():
    p = LeastSquares.random(n_samples=60, dim=5, kappa=50.0, noise=0.3, seed=7)
    np.testing.assert_allclose(p.eigenvalues, np.geomspace(1.0, 50.0, 5), rtol=1e-12)
    ref = np.linalg.solve(p.A.T @ p.A, p.A.T @ p.y)  # normal equations, independent of lstsq
    np.testing.assert_allclose(p.minimizer, ref, rtol=1e-10)
    assert p.min_value == pytest.approx(0.5 * np.mean((p.A @ ref - p.y) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="full column rank"):
        LeastSquares(np.ones((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="batch_size"):
        LeastSquares(np.eye(2), np.zeros(2), batch_size=0)


def _noise_stats(problem, x, batch, n_draws, seed):
    """Empirical E|g_B - grad|^2 and its standard error from ``n_draws`` independent minibatches."""
    rng = np.random.default_rng(seed)
    xs = np.broadcast_to(x, (n_draws, problem.dim))
    g = problem.stochastic_grad(xs, 0, rng)  # one independent batch per row
    d2 = np.sum((g - problem.grad(x)) ** 2, axis=1)
    return g, d2.mean(), d2.std(ddof=1) / math.sqrt(n_draws)


@pytest.mark.parametrize("make", [
    lambda B: LeastSquares(*_ls_data(), batch_size=B),
    lambda B: SparseLeastSquares([0.5, 0.3, 0.15, 0.05], target=[1.0, -1.0, 2.0, 0.5], noise=0.4, batch_size=B),
], ids=["least_squares", "sparse"])
def test_minibatch_noise_is_unbiased_and_its_variance_scales_as_one_over_B(make):
    x = np.array([0.3, -0.2, 0.5, 1.0])
    exact = np.trace(make(1).gradient_covariance(x)) if hasattr(make(1), "gradient_covariance") else None
    if exact is None:  # one-hot: Sigma_1 = diag(p (r^2 + sigma^2)) - grad grad^T, r = x - t
        p = make(1)
        r = x - p.minimizer
        exact = float(np.sum(p.frequencies * (r * r + p.noise**2)) - np.sum(p.grad(x) ** 2))
    for B in (1, 4, 16):
        prob = make(B)
        g, var, se = _noise_stats(prob, x, B, 20000, seed=B)
        # unbiased: each coordinate of the mean within 5 of its standard errors
        assert np.all(np.abs(g.mean(axis=0) - prob.grad(x)) <= 5 * g.std(axis=0, ddof=1) / math.sqrt(20000))
        # E|g_B - grad|^2 = tr(Sigma_1) / B exactly; the estimate is within 5 of its standard errors
        assert abs(var - exact / B) <= 5 * se, (B, var, exact / B, se)


def _ls_data():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((30, 4)) * np.array([1.0, 2.0, 0.5, 3.0])
    return A, A @ np.array([1.0, -1.0, 0.5, 2.0]) + 0.7 * rng.standard_normal(30)


def test_least_squares_covariance_formula_matches_the_definition():
    p = LeastSquares(*_ls_data(), batch_size=3)
    x = np.array([0.2, 0.1, -0.4, 0.9])
    gi = np.array([a * (a @ x - y) for a, y in zip(p.A, p.y)])  # per-sample gradients, loop by loop
    ref = np.cov(gi.T, bias=True) / 3
    np.testing.assert_allclose(p.gradient_covariance(x), ref, rtol=1e-12, atol=1e-12)


STOCHASTIC = [LeastSquares(*_ls_data(), batch_size=5), SparseLeastSquares([0.6, 0.4], batch_size=3),
              DriftingQuadratic([1.0, 2.0], noise=0.5)]


@pytest.mark.parametrize("problem", STOCHASTIC, ids=lambda p: type(p).__name__)
def test_stochastic_grad_draws_the_same_numbers_for_one_point_and_a_batch_of_one(problem):
    x = np.linspace(-0.5, 0.5, problem.dim)
    a = problem.stochastic_grad(x, 3, np.random.default_rng(5))
    b = problem.stochastic_grad(x[None, :], 3, np.random.default_rng(5))
    assert a.shape == x.shape and b.shape == (1, problem.dim)
    np.testing.assert_array_equal(a, b[0])
    many = problem.stochastic_grad(np.broadcast_to(x, (50, problem.dim)), 3, np.random.default_rng(5))
    assert len({tuple(r) for r in many}) > 1  # rows get independent samples


def test_optimize_with_minibatches_is_reproducible_and_converges_to_the_noise_floor():
    p = LeastSquares.random(n_samples=100, dim=3, kappa=5.0, noise=0.1, batch_size=8, seed=2)
    def run(seed):
        return hb.optimize(p, hb.SGD(0.05, 0.5), np.zeros(3), n_steps=600, stochastic=True, seed=seed)

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert a.loss[-1] - p.min_value < 1e-2 * (a.loss[0] - p.min_value)


def test_sparse_gradients_touch_at_most_B_coordinates_at_the_stated_rate():
    p = SparseLeastSquares.zipf(dim=10, exponent=1.0, noise=0.0, batch_size=3)
    rng = np.random.default_rng(0)
    g = p.stochastic_grad(np.zeros((20000, 10)), 0, rng)
    nz = g != 0
    assert nz.sum(axis=1).max() <= 3
    q = p.touch_probability()
    np.testing.assert_allclose(q, 1 - (1 - p.frequencies) ** 3, rtol=1e-12)
    # binomial standard error sqrt(q (1 - q) / n): 5 of them
    assert np.all(np.abs(nz.mean(axis=0) - q) <= 5 * np.sqrt(q * (1 - q) / 20000))
    assert p.value(p.minimizer) == p.min_value == 0.0


def test_drifting_quadratic_paths_and_losses():
    lin = DriftingQuadratic([1.0, 4.0], drift="linear", speed=0.1)
    np.testing.assert_allclose(lin.minimizer_at(10), [1 / math.sqrt(2)] * 2, rtol=1e-15)
    circ = DriftingQuadratic([1.0, 1.0, 2.0], drift="circle", radius=2.0, period=8)
    np.testing.assert_allclose(circ.minimizer_at(2), [0.0, 2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(circ.minimizer_at([0, 4]), [[2.0, 0, 0], [-2.0, 0, 0]], atol=1e-15)
    sw = DriftingQuadratic([1.0], drift="switch", radius=1.5, period=3)
    assert sw.minimizer_at(np.arange(7))[:, 0].tolist() == [1.5, 1.5, 1.5, -1.5, -1.5, -1.5, 1.5]
    for k in (0, 5, 17):
        c = circ.minimizer_at(k)
        assert circ.value_at(c, k) == 0.0
        np.testing.assert_allclose(circ.grad_at(c + 1.0, k), circ.eigenvalues, rtol=1e-15)
        np.testing.assert_array_equal(circ.stochastic_grad(c + 1.0, k, None), circ.grad_at(c + 1.0, k))
    assert circ.value(circ.minimizer) == 0.0
    with pytest.raises(ValueError, match="drift"):
        DriftingQuadratic(drift="jump")
    with pytest.raises(ValueError, match="circle"):
        DriftingQuadratic([1.0], drift="circle")


def test_registry_builds_every_scenario_by_name():
    for name in ("ravine", "sharp_flat", "least_squares", "sparse_least_squares", "drifting_quadratic"):
        assert name in problems.names()
        p = problems.get(name)
        assert p.name == name and p.grad(np.zeros(p.dim)).shape == (p.dim,)
    assert problems.get("least_squares", dim=3, n_samples=20).dim == 3
    with pytest.raises(ValueError, match="bad parameters"):
        problems.get("ravine", kappa=3)


def test_ravine_runs_on_the_compiled_path_with_the_numpy_loops_numbers():
    from heavyball import _fast

    from .test_kernels import _numpy_optimize, assert_same

    r, opt = Ravine(), hb.SGD(0.005, momentum=0.9)
    assert _fast.optimize_supported(r, opt) is not None
    assert_same(hb.optimize(r, opt, [1.0, 1.0], n_steps=200), _numpy_optimize(r, opt, [1.0, 1.0], n_steps=200),
                exact=True)


@pytest.mark.parametrize("make, names", [
    (lambda: Ravine(steep=1e-320), ["`steep`", "`shallow`"]),
    (lambda: SharpFlatMinima(flat=1e308), ["`flat`", "`sharp`"]),
    (lambda: SharpFlatMinima(flat=1e-320), ["`flat`", "overflows"]),
    (lambda: LeastSquares(A="abc", y=[1.0]), ["`A`"]),
    (lambda: LeastSquares(A=np.eye(2), y=[1.0, 2.0, 3.0]), ["`y`", "`A`"]),
    (lambda: LeastSquares.random(n_samples=10**30), ["`n_samples`", "numbers"]),
    (lambda: LeastSquares.random(kappa=1e30), ["`kappa`"]),
    (lambda: LeastSquares.random(noise=1e308), ["`noise`", "overflows"]),
    (lambda: LeastSquares.random(seed=-1), ["`seed`"]),
    (lambda: SparseLeastSquares([0.5, 0.5, 0.5], target=[1.0, 2.0]), ["`target`", "`frequencies`"]),
    (lambda: SparseLeastSquares([1e308, 1e-320]), ["`frequencies`"]),
    (lambda: SparseLeastSquares([0.5, 0.5], noise=1e308), ["`noise`", "overflows"]),
    (lambda: SparseLeastSquares.zipf(dim=10**30), ["`dim`", "numbers"]),
    (lambda: SparseLeastSquares.zipf(exponent=1e308), ["`exponent`"]),
])
def test_landscape_constructors_refuse_bad_values_naming_the_parameter(make, names):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert all(name in str(info.value) for name in names), str(info.value)


def test_sparse_frequencies_spanning_the_float_range_are_normalised_without_overflow():
    p = SparseLeastSquares([1e308, 1e308, 1e300], noise=0.0)
    np.testing.assert_allclose(p.frequencies, np.array([1.0, 1.0, 1e-8]) / (2 + 1e-8), rtol=1e-14)
