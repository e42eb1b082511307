"""heavyball.noise, the SDE limit (issue 15): Langevin and the modified equations, and the convergence order."""

import numpy as np
import pytest

import heavyball as hb
from heavyball import noise


def _spd(n, rng, lo=0.5, hi=3.0):
    R = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return R @ np.diag(np.linspace(lo, hi, n)) @ R.T


def _kron_lyapunov(F, D):
    """F S + S F^T + D = 0 by the vec linear solve (not SciPy's Lyapunov solver)."""
    m = F.shape[0]
    I = np.eye(m)
    S = np.linalg.solve(np.kron(F, I) + np.kron(I, F), -D.ravel()).reshape(m, m)
    return 0.5 * (S + S.T)


def test_langevin_sde_is_the_hand_written_equation_and_its_covariance_is_equipartition():
    rng = np.random.default_rng(1)
    n, m, gamma, h, s = 3, 2.0, 0.7, 0.05, 0.4
    H = _spd(n, rng)
    F, D = noise.langevin_sde(H, m, gamma, h, s)
    # dx = v dt; dv = (-H x - gamma v) / m dt + sqrt(h s) / m dW
    F_hand = np.zeros((2 * n, 2 * n))
    F_hand[:n, n:] = np.eye(n)
    F_hand[n:, :n] = -H / m
    F_hand[n:, n:] = -gamma / m * np.eye(n)
    np.testing.assert_allclose(F, F_hand, atol=1e-15)
    np.testing.assert_allclose(D[n:, n:], h * s / m**2 * np.eye(n), rtol=1e-15)
    assert np.all(D[:n] == 0.0) and np.all(D[:, :n] == 0.0)
    S = noise.continuous_covariance(F, D)
    np.testing.assert_allclose(S, _kron_lyapunov(F, D), rtol=1e-10, atol=1e-14)
    # Gibbs at temperature T = h s / (2 gamma): Cov x = T H^{-1}, Cov v = T / m, Cov(x, v) = 0
    T = h * s / (2 * gamma)
    np.testing.assert_allclose(S[:n, :n], T * np.linalg.inv(H), rtol=1e-10)
    np.testing.assert_allclose(S[n:, n:], T / m * np.eye(n), rtol=1e-10, atol=1e-14)
    assert np.max(np.abs(S[:n, n:])) < 1e-12 * T


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_modified_equation_covariance_is_lr_over_one_minus_beta(beta):
    rng = np.random.default_rng(2)
    H, lr = _spd(3, rng), 0.01
    G = rng.standard_normal((3, 3))
    Q = G @ G.T
    F, D = noise.modified_equation(H, lr, beta, Q)
    np.testing.assert_allclose(F, -H / (1 - beta), rtol=1e-15)
    np.testing.assert_allclose(D, lr * Q / (1 - beta) ** 2, rtol=1e-15)
    S = noise.continuous_covariance(F, D)
    np.testing.assert_allclose(S, _kron_lyapunov(F, D), rtol=1e-10)
    np.testing.assert_allclose(H @ S + S @ H, lr * Q / (1 - beta), rtol=1e-9, atol=1e-14)
    # isotropic noise: C = lr s H^{-1} / (2 (1 - beta)), floor lr s n / (4 (1 - beta))
    S = noise.continuous_covariance(*noise.modified_equation(H, lr, beta, 0.3))
    np.testing.assert_allclose(S, lr * 0.3 * np.linalg.inv(H) / (2 * (1 - beta)), rtol=1e-10)


# Predicted orders (Notes of langevin_limit): generic noise, all weak order 1; isotropic noise, the two maps with
# lr / (1 - beta) = h / gamma exactly have the relative error lr lambda / (2 (1 + beta) - lr lambda) = O(h^2).
LANGEVIN_ORDERS = [("symplectic_euler", 1, 2), ("implicit_friction_euler", 1, 2),
                   ("conformal_symplectic_euler", 1, 1), ("nesterov", 1, 1)]


@pytest.mark.parametrize("method,generic,isotropic", LANGEVIN_ORDERS)
def test_langevin_limit_has_the_predicted_order(method, generic, isotropic):
    rng = np.random.default_rng(3)
    H = _spd(3, rng)
    G = rng.standard_normal((3, 3))
    steps = 0.01 / 2.0 ** np.arange(4)
    dense = noise.langevin_limit(H, steps, method, mass=1.5, friction=0.7, noise_cov=G @ G.T / 3)
    iso = noise.langevin_limit(H, steps, method, mass=1.5, friction=0.7, noise_cov=0.5)
    assert abs(dense.order - generic) < 0.1, dense
    assert abs(iso.order - isotropic) < 0.1, iso
    assert np.all(np.diff(dense.relative_error) < 0) and dense.relative_error[-1] < 0.01
    # the same numbers from an independent path: the optimiser of the map and a Kronecker solve
    h = steps[-1]
    opt = hb.to_optimizer(1.5, 0.7, h, method)
    C = noise.stationary_covariance(H, opt.lr, opt.momentum, "nesterov" if opt.nesterov else "heavy_ball", 0.5)
    S = _kron_lyapunov(*noise.langevin_sde(H, 1.5, 0.7, h, 0.5))[:3, :3]
    assert iso.relative_error[-1] == pytest.approx(np.linalg.norm(C - S) / np.linalg.norm(S), rel=1e-6)


def test_langevin_limit_isotropic_leading_term_is_h2_lambda_over_4m():
    # one mode, heavy ball: relative error lr lambda / (2 (1 + beta) - lr lambda) -> h^2 lambda / (4 m)
    lam, m, gamma, h = 2.0, 1.5, 0.7, 1e-3
    r = noise.langevin_limit(np.diag([lam]), [2 * h, h], mass=m, friction=gamma, noise_cov=1.0)
    assert r.relative_error[-1] == pytest.approx(h * h * lam / (4 * m), rel=1e-2)


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.6)])
def test_modified_equation_limit_has_order_one(method, beta):
    rng = np.random.default_rng(4)
    H = _spd(3, rng)
    G = rng.standard_normal((3, 3))
    r = noise.modified_equation_limit(H, 0.01 / 2.0 ** np.arange(4), beta, method, noise_cov=G @ G.T / 3)
    assert abs(r.order - 1.0) < 0.1, r
    # gradient descent, one mode: the relative error is lr lambda / (2 - lr lambda) exactly
    if method == "gd":
        lr, lam = 0.01, 2.0
        e = noise.modified_equation_limit(np.diag([lam]), [lr, lr / 2], 0.0, "gd").relative_error[0]
        assert e == pytest.approx(lr * lam / (2 - lr * lam), rel=1e-10)


def test_fitted_order_of_a_power_law_and_bad_input():
    h = np.array([0.1, 0.03, 0.01])
    assert noise.fitted_order(h, 3.0 * h**1.5) == pytest.approx(1.5, rel=1e-12)
    with pytest.raises(ValueError, match="not stable"):
        noise.continuous_covariance(np.array([[0.0, 1.0], [-1.0, 0.0]]), np.eye(2))
    with pytest.raises(ValueError, match="same shape"):
        noise.continuous_covariance(-np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="`step`"):
        noise.langevin_sde(np.eye(2), 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="`mass`"):
        noise.langevin_sde(np.eye(2), -1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="`momentum`"):
        noise.modified_equation(np.eye(2), 0.1, 1.0)
    with pytest.raises(ValueError, match="`method`"):
        noise.langevin_limit(np.eye(2), [0.1, 0.05], "explicit_euler")
    with pytest.raises(ValueError, match="`steps`"):
        noise.langevin_limit(np.eye(2), [0.1])
    with pytest.raises(ValueError, match="not stable"):
        noise.modified_equation_limit(np.eye(2), [3.0, 0.1], 0.0, "gd")
    with pytest.raises(ValueError):
        noise.fitted_order([0.1, 0.2], [0.0, 1.0])
