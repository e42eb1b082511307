"""heavyball.noise scaling rules (issue 15): the floor in lr, momentum and batch size against independent solves."""

import math

import numpy as np
import pytest

from heavyball import noise


def _hand_floor(H, lr, beta, method, Q):
    """Floor from a Kronecker solve of S = A S A^T + B Q B^T, A built from the torch step (no heavyball code)."""
    n = H.shape[0]
    c = 1.0 + beta if method == "nesterov" else 1.0
    d = beta * beta if method == "nesterov" else beta
    I = np.eye(n)
    A = np.block([[I - lr * c * H, -lr * d * I], [H, beta * I]])
    Bm = np.vstack([-lr * c * I, I])
    W = Bm @ Q @ Bm.T
    S = np.linalg.solve(np.eye(4 * n * n) - np.kron(A, A), W.ravel()).reshape(2 * n, 2 * n)
    return 0.5 * float(np.trace(H @ S[:n, :n]))


def _spd(n, rng):
    R = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return R @ np.diag(np.geomspace(1.0, 10.0, n)) @ R.T


def test_rule_floor_is_the_trace_of_the_modified_equation_covariance():
    rng = np.random.default_rng(5)
    H = _spd(3, rng)
    G = rng.standard_normal((3, 3))
    Q = G @ G.T
    lr, beta, B = 0.02, 0.8, 4
    F, D = -H / (1 - beta), lr * (Q / B) / (1 - beta) ** 2
    I = np.eye(3)
    C = np.linalg.solve(np.kron(F, I) + np.kron(I, F), -D.ravel()).reshape(3, 3)
    assert noise.rule_floor(H, lr, beta, Q, B) == pytest.approx(0.5 * np.trace(H @ C), rel=1e-10)
    # and the exact floor tends to it as lr -> 0 at fixed beta, for every method
    for method, b in (("gd", 0.0), ("heavy_ball", beta), ("nesterov", beta)):
        tiny = 1e-7
        assert noise.stationary_loss(H, tiny, b, method, Q / B) == pytest.approx(
            noise.rule_floor(H, tiny, b, Q, B), rel=1e-4)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_heavy_ball_rule_error_is_the_closed_form(beta):
    lam = np.array([1.0, 10.0, 100.0])
    for lr in (1e-3, 1e-2, 0.015):
        a = lr * lam
        want = np.mean(a / (2 * (1 + beta) - a))  # Q = s I weighs every mode equally
        assert noise.rule_error(np.diag(lam), lr, beta, "heavy_ball", 0.7) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("heavy_ball", 0.7), ("nesterov", 0.7), ("nesterov", 0.95)])
def test_rule_error_against_a_kronecker_solve(method, beta):
    rng = np.random.default_rng(6)
    H = _spd(3, rng)
    G = rng.standard_normal((3, 3))
    Q = G @ G.T
    lr = 0.05
    exact = _hand_floor(H, lr, beta, method, Q)
    rule = lr * np.trace(Q) / (4 * (1 - beta))
    assert noise.rule_error(H, lr, beta, method, Q) == pytest.approx(exact / rule - 1, rel=1e-9)


@pytest.mark.parametrize("method,beta", [("heavy_ball", 0.0), ("heavy_ball", 0.9), ("nesterov", 0.5)])
def test_batch_equivalents_against_kronecker_solves_and_roots(method, beta):
    H, s, lr, B = np.diag([1.0, 100.0]), 0.6, 0.004, 3
    r = noise.batch_equivalents(H, lr, beta, method, s, batch_size=B, factor=2)
    assert r["batch"]["floor_ratio"] == pytest.approx(0.5, rel=1e-12)
    for name, (a, b, size) in {"base": (lr, beta, B), "batch_and_lr": (2 * lr, beta, 2 * B),
                               "batch_and_momentum": (lr, 1 - (1 - beta) / 2, 2 * B)}.items():
        row = r[name]
        assert (row["lr"], row["momentum"], row["batch_size"]) == pytest.approx((a, b, size))
        assert row["floor"] == pytest.approx(_hand_floor(H, a, b, method, s / size * np.eye(2)), rel=1e-9)
        assert row["rule"] == pytest.approx(a * 2 * s / (4 * size * (1 - b)), rel=1e-12)
        # rate: the largest root modulus of the mode polynomials z^2 - T z + D
        roots = []
        for lam in (1.0, 100.0):
            T, D = ((1 + b) * (1 - a * lam), b * (1 - a * lam)) if method == "nesterov" else (1 + b - a * lam, b)
            roots.extend(np.abs(np.roots([1.0, -T, D])))
        assert row["rate"] == pytest.approx(max(roots), rel=1e-9)
        assert row["samples"] == pytest.approx(-size / math.log(max(roots)), rel=1e-9)
    # the linear scaling rule keeps the floor to first order in lr lambda: ten times smaller steps, ~ten times closer
    small = noise.batch_equivalents(H, lr / 10, beta, method, s, batch_size=B, factor=2)
    for name in ("batch_and_lr", "batch_and_momentum"):
        assert abs(small[name]["floor_ratio"] - 1) < 0.2 * abs(r[name]["floor_ratio"] - 1), name


def test_doubling_lr_past_the_edge_is_unstable_and_bad_input_is_refused():
    r = noise.batch_equivalents(np.diag([1.0, 100.0]), 0.015, 0.0, "gd")  # 2 lr L = 3 > 2
    assert r["batch_and_lr"]["floor"] == math.inf and r["batch_and_lr"]["samples"] == math.inf
    assert "batch_and_momentum" not in r
    with pytest.raises(ValueError, match="not stable"):
        noise.batch_equivalents(np.diag([1.0, 100.0]), 0.03, 0.0, "gd")
    with pytest.raises(ValueError, match="noise_cov"):
        noise.batch_equivalents(np.diag([1.0]), 0.1, noise_cov=0.0)
    with pytest.raises(ValueError, match="noise_cov"):
        noise.rule_error(np.diag([1.0]), 0.1, noise_cov=0.0)
    with pytest.raises(ValueError, match="factor"):
        noise.batch_equivalents(np.diag([1.0]), 0.1, factor=1)
    with pytest.raises(ValueError, match="batch_size"):
        noise.rule_floor(np.diag([1.0]), 0.1, batch_size=0)
    with pytest.raises(ValueError, match="momentum"):
        noise.rule_floor(np.diag([1.0]), 0.1, momentum=1.0)
