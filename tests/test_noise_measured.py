"""heavyball.noise.measured_floor (issue 15): simulated floors over seeds against the quadratic prediction."""

import numpy as np
import pytest

import heavyball as hb
from heavyball import noise
from heavyball.landscapes import LeastSquares


def test_on_a_quadratic_the_measured_floor_is_the_exact_one_and_the_error_bar_is_the_seed_spread():
    q = hb.Quadratic.diagonal([1.0, 10.0])
    r = noise.measured_floor(q, 0.05, 0.5, "nesterov", grad_noise=0.2, n_steps=3000, burn_in=300, seeds=6)
    assert r.prediction == pytest.approx(noise.stationary_loss(np.diag([1.0, 10.0]), 0.05, 0.5, "nesterov", 0.04))
    assert abs(r.mean - r.prediction) < 3 * r.stderr and r.stderr < 0.05 * r.prediction
    # the per-seed numbers are the time averages of independent optimize runs
    traj = hb.optimize(q, hb.SGD(0.05, 0.5, nesterov=True), q.minimizer, n_steps=3000, grad_noise=0.2, seed=2)
    assert r.per_seed[2] == pytest.approx(np.mean(traj.loss[301:]), rel=1e-12)
    assert r.stderr == pytest.approx(np.std(r.per_seed, ddof=1) / np.sqrt(6), rel=1e-12)


def test_minibatch_least_squares_measured_matches_the_exact_floor_not_the_constant_noise_prediction():
    p = LeastSquares.random(n_samples=40, dim=3, kappa=5.0, noise=0.5, batch_size=2, seed=1)
    r = noise.measured_floor(p, 0.03, 0.8, stochastic=True, n_steps=3000, burn_in=500, seeds=6)
    exact = noise.minibatch_floor(p, 0.03, 0.8)
    assert r.prediction == pytest.approx(exact.constant_noise_floor, rel=1e-10)
    assert abs(r.mean - exact.floor) < 3 * r.stderr
    assert abs(r.mean - r.prediction) > 3 * r.stderr


def test_divergence_is_reported_and_bad_input_refused():
    r = noise.measured_floor(hb.Quadratic.diagonal([1.0, 10.0]), 0.5, 0.0, "gd", grad_noise=0.1, n_steps=200,
                             burn_in=10, seeds=2)
    assert r.mean == np.inf and r.prediction == np.inf
    with pytest.raises(ValueError, match="minimizer"):
        noise.measured_floor(hb.DoubleWell(tilt=0.0), 0.01, grad_noise=0.1)
    with pytest.raises(ValueError, match="burn_in"):
        noise.measured_floor(hb.Rosenbrock(), 1e-4, n_steps=10, burn_in=10)
    with pytest.raises(ValueError, match="seeds"):
        noise.measured_floor(hb.Rosenbrock(), 1e-4, seeds=1)
