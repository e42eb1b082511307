"""heavyball.noise.minibatch_floor (issue 15): exact floor of minibatch least squares, state-dependent noise."""

import itertools

import numpy as np
import pytest

from heavyball import noise
from heavyball.landscapes import LeastSquares


def _problem():
    return LeastSquares.random(n_samples=12, dim=2, kappa=4.0, noise=0.5, seed=3)


def _step_maps(p, lr, beta, method, batches):
    """For each equally likely batch: z -> F z + f (the optimiser's step with that batch's gradient)."""
    A, y, xs = p.A, p.y, p.minimizer
    n = A.shape[1]
    r = A @ xs - y
    c = 1.0 + beta if method == "nesterov" else 1.0
    d = beta * beta if method == "nesterov" else beta
    maps = []
    for batch in batches:
        G = sum(np.outer(A[i], A[i]) for i in batch) / len(batch)  # g = G e + g0 on this batch
        g0 = sum(A[i] * r[i] for i in batch) / len(batch)
        # b' = beta b + g; e' = e - lr (c g + d b)   (heavy ball: c = 1, d = beta; Nesterov: 1 + beta, beta^2)
        F = np.block([[np.eye(n) - lr * c * G, -lr * d * np.eye(n)], [G, beta * np.eye(n)]])
        f = np.concatenate([-lr * c * g0, g0])
        maps.append((F, f))
    return maps


@pytest.mark.parametrize("method,beta,B,replace", [("gd", 0.0, 1, True), ("heavy_ball", 0.5, 2, True),
                                                   ("nesterov", 0.5, 2, False), ("heavy_ball", 0.8, 2, False)])
def test_exact_floor_is_the_fixed_point_of_the_enumerated_second_moment_recursion(method, beta, B, replace):
    p = _problem()
    N = p.n_samples
    batches = list(itertools.product(range(N), repeat=B)) if replace else list(itertools.permutations(range(N), B))
    maps = _step_maps(p, 0.04, beta, method, batches)
    Fs, fs = np.array([F for F, _ in maps]), np.array([f for _, f in maps])
    assert np.max(np.abs(fs.mean(axis=0))) < 1e-12  # E z_1 = 0 from z_0 = 0, so the mean stays 0 ...
    ff = np.einsum("ki,kj->ij", fs, fs) / len(maps)
    S, Fts = np.zeros((4, 4)), Fs.transpose(0, 2, 1)
    for _ in range(1200):  # ... and S_{k+1} = E over the batches of F S F^T + f f^T
        S = (Fs @ S @ Fts).mean(axis=0) + ff
    r = noise.minibatch_floor(p, 0.04, beta, method, batch_size=B, replace=replace)
    np.testing.assert_allclose(r.covariance, S[:2, :2], rtol=1e-9)
    assert r.floor == pytest.approx(0.5 * np.trace(p.hessian_matrix @ S[:2, :2]), rel=1e-9)
    assert r.second_moment_radius < 1
    # the constant-noise prediction uses Sigma_1(x*) c_B, the library's gradient_covariance at x* for B, replace
    cB = 1.0 / B if replace else (N - B) / (B * (N - 1))
    Q = p.gradient_covariance(p.minimizer, batch_size=1) * cB
    assert r.constant_noise_floor == pytest.approx(noise.stationary_loss(p.hessian_matrix, 0.04, beta, method, Q),
                                                   rel=1e-12)
    assert r.floor > r.constant_noise_floor  # the state-dependent part only adds noise


def test_simulated_minibatch_sgd_matches_the_exact_floor_not_the_constant_noise_one():
    p, lr, beta, B = _problem(), 0.1, 0.5, 2
    r = noise.minibatch_floor(p, lr, beta, "heavy_ball", batch_size=B)
    assert r.floor > 1.3 * r.constant_noise_floor
    rng = np.random.default_rng(7)
    seeds, steps = 4000, 300  # the second-moment radius is ~0.8 per step: 300 steps forget the start
    x = np.tile(p.minimizer, (seeds, 1))
    buf = np.zeros_like(x)
    for _ in range(steps):
        idx = rng.integers(p.n_samples, size=(seeds, B))
        a = p.A[idx]
        resid = np.einsum("sbd,sd->sb", a, x) - p.y[idx]
        g = np.einsum("sbd,sb->sd", a, resid) / B
        buf = beta * buf + g
        x = x - lr * buf
    e = x - p.minimizer
    loss = 0.5 * np.einsum("si,ij,sj->s", e, p.hessian_matrix, e)
    se = loss.std(ddof=1) / np.sqrt(seeds)
    assert abs(loss.mean() - r.floor) < 3 * se
    assert abs(loss.mean() - r.constant_noise_floor) > 6 * se


def test_small_batches_lose_mean_square_stability_first_and_large_ones_approach_constant_noise():
    p = _problem()
    ratios = [noise.minibatch_floor(p, 0.1, 0.5, batch_size=B) for B in (1, 2, 4, 8, 64)]
    finite = [r.floor / r.constant_noise_floor for r in ratios if np.isfinite(r.floor)]
    assert np.all(np.diff(finite) < 0) and finite[-1] < 1.05
    hot = noise.minibatch_floor(p, 0.3, 0.5, batch_size=1)  # mean-stable (lr L = 1.2 < 3) but not in mean square
    assert hot.floor == np.inf and hot.second_moment_radius >= 1 and np.isfinite(hot.constant_noise_floor)
    # without replacement a full batch has no noise at all
    full = noise.minibatch_floor(p, 0.1, 0.5, batch_size=p.n_samples, replace=False)
    assert full.floor == pytest.approx(0.0, abs=1e-15)


def test_minibatch_floor_refuses_bad_input():
    p = _problem()
    with pytest.raises(ValueError, match="problem"):
        noise.minibatch_floor(np.eye(2), 0.1)
    with pytest.raises(ValueError, match="batch_size"):
        noise.minibatch_floor(p, 0.1, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        noise.minibatch_floor(p, 0.1, batch_size=13, replace=False)
    with pytest.raises(ValueError, match="not stable"):
        noise.minibatch_floor(p, 1.0, 0.0, "gd")
    with pytest.raises((ValueError, TypeError), match="replace"):
        noise.minibatch_floor(p, 0.1, replace="yes")
