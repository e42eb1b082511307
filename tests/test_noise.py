"""heavyball.noise (issue 15, exact core): stationary covariance, loss floor and expected loss under noise."""

import doctest
from pathlib import Path

import numpy as np
import pytest

import heavyball as hb
from heavyball import noise

METHODS = [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.6)]


def _rotation(n, rng):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _spd(n, rng, lo=0.5, hi=4.0):
    R = _rotation(n, rng)
    return R @ np.diag(np.linspace(lo, hi, n)) @ R.T


def _torch_step(e, b, xi, H, lr, beta, method):
    """One torch.optim.SGD step on the error, written from the update rule (b is the previous buffer)."""
    g = H @ e + xi
    if method == "gd":
        return e - lr * g, g  # GD reads no buffer; this one is what heavy ball at beta = 0 would keep
    b = beta * b + g
    return (e - lr * b if method == "heavy_ball" else e - lr * (g + beta * b)), b


def _hand_system(H, lr, beta, method):
    """A, B of z -> (e, b) from the step applied to unit vectors: no algebra shared with heavyball."""
    n = H.shape[0]
    A, B = np.empty((2 * n, 2 * n)), np.empty((2 * n, n))
    zero = np.zeros(n)
    for j in range(2 * n):
        z = np.eye(2 * n)[j]
        A[:, j] = np.concatenate(_torch_step(z[:n], z[n:], zero, H, lr, beta, method))
    for j in range(n):
        B[:, j] = np.concatenate(_torch_step(zero, zero, np.eye(n)[j], H, lr, beta, method))
    return A, B


def _hand_lyapunov(A, W):
    """S = A S A^T + W by the Kronecker (vec) linear solve, not SciPy's Lyapunov solver."""
    m = A.shape[0]
    S = np.linalg.solve(np.eye(m * m) - np.kron(A, A), W.ravel()).reshape(m, m)
    return 0.5 * (S + S.T)


@pytest.mark.parametrize("method,beta", METHODS)
@pytest.mark.parametrize("dense_noise", [False, True])
def test_stationary_covariance_equals_hand_built_lyapunov(method, beta, dense_noise):
    rng = np.random.default_rng(15)
    n = 4
    H = _spd(n, rng)
    G = rng.standard_normal((n, n))
    Q = G @ G.T / n if dense_noise else 0.7
    lr = 0.3
    A, B = _hand_system(H, lr, beta, method)
    S = _hand_lyapunov(A, B @ (Q if dense_noise else Q * np.eye(n)) @ B.T)
    C = noise.stationary_covariance(H, lr, beta, method, Q)
    assert np.max(np.abs(C - S[:n, :n])) <= 1e-10 * np.max(np.abs(S[:n, :n]))
    assert noise.stationary_loss(H, lr, beta, method, Q) == pytest.approx(0.5 * np.trace(H @ S[:n, :n]), rel=1e-10)


@pytest.mark.parametrize("method,beta", METHODS)
def test_diagonal_closed_form_equals_dense_lyapunov(method, beta):
    rng = np.random.default_rng(3)
    lam, q = np.array([0.2, 1.0, 3.0, 6.0]), np.array([0.5, 2.0, 1.0, 0.1])
    lr = 0.15
    C_modal = noise.stationary_covariance(np.diag(lam), lr, beta, method, q)
    R = _rotation(4, rng)  # the same system in a rotated basis takes the dense (SciPy) path
    C_dense = noise.stationary_covariance(R @ np.diag(lam) @ R.T, lr, beta, method, R @ np.diag(q) @ R.T)
    assert np.max(np.abs(R.T @ C_dense @ R - C_modal)) <= 1e-10 * np.max(C_modal)
    assert np.count_nonzero(C_modal - np.diag(np.diag(C_modal))) == 0
    A, B = _hand_system(np.diag(lam), lr, beta, method)
    S = _hand_lyapunov(A, B @ np.diag(q) @ B.T)
    np.testing.assert_allclose(np.diag(C_modal), np.diag(S)[:4], rtol=1e-10)


def test_gd_and_heavy_ball_scalar_noise_closed_forms():
    # GD, per mode: c = (1 - a)^2 c + lr^2 s  =>  c = lr s / (lambda (2 - lr lambda)), a = lr lambda.
    lam, lr, s = np.array([0.5, 2.0, 7.0]), 0.2, 0.3
    C = noise.stationary_covariance(np.diag(lam), lr, 0.0, "gd", s)
    np.testing.assert_allclose(np.diag(C), lr * s / (lam * (2.0 - lr * lam)), rtol=1e-13)
    assert noise.stationary_loss(np.diag(lam), lr, 0.0, "gd", s) == pytest.approx(
        np.sum(lr * s / (2.0 * (2.0 - lr * lam))), rel=1e-13)
    # Heavy ball is AR(2) e' = (1 + b - a) e - b e'' - lr xi:  var = lr s (1 + b) / (lambda (1 - b)(2 (1 + b) - a)).
    b = 0.8
    C = noise.stationary_covariance(np.diag(lam), lr, b, "heavy_ball", s)
    np.testing.assert_allclose(np.diag(C), lr * s * (1 + b) / (lam * (1 - b) * (2 * (1 + b) - lr * lam)), rtol=1e-12)
    # momentum 0 heavy ball and Nesterov are GD
    for method in ("heavy_ball", "nesterov"):
        np.testing.assert_allclose(noise.stationary_covariance(np.diag(lam), lr, 0.0, method, s),
                                   noise.stationary_covariance(np.diag(lam), lr, 0.0, "gd", s), rtol=1e-13)


@pytest.mark.parametrize("method,beta", METHODS)
def test_noisy_system_has_the_spectral_mode_roots(method, beta):
    lam = np.array([0.3, 1.0, 4.0])
    A, B = noise.noisy_system(np.diag(lam), 0.2, beta, method)
    A_hand, B_hand = _hand_system(np.diag(lam), 0.2, beta, method)
    np.testing.assert_allclose(A, A_hand, atol=1e-15)
    np.testing.assert_allclose(B, B_hand, atol=1e-15)
    key = lambda z: (round(z.real, 9), round(z.imag, 9))  # noqa: E731
    got = sorted(np.linalg.eigvals(A), key=key)
    want = sorted(hb.spectral.mode_roots(lam, 0.2, beta, method).ravel(), key=key)
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("method,beta", METHODS)
def test_expected_loss_tends_to_the_floor_and_is_the_noiseless_run_without_noise(method, beta):
    rng = np.random.default_rng(8)
    H, lr = _spd(3, rng), 0.3
    floor = noise.stationary_loss(H, lr, beta, method, 0.4)
    curve = noise.expected_loss(H, lr, beta, method, 0.4, x0=np.zeros(3), n_steps=600)
    assert curve[0] == 0.0 and curve[-1] == pytest.approx(floor, rel=1e-10)
    x0 = np.array([1.0, -2.0, 0.5])
    opt = hb.GD(lr) if method == "gd" else hb.SGD(lr, momentum=beta, nesterov=method == "nesterov")
    traj = hb.optimize(hb.Quadratic(H), opt, x0, n_steps=40)
    np.testing.assert_allclose(noise.expected_loss(H, lr, beta, method, 0.0, x0=x0, n_steps=40), traj.loss,
                               rtol=1e-12, atol=1e-300)
    modal = noise.expected_loss(np.diag([0.5, 4.0]), lr, beta, method, [0.4, 0.1], x0=x0[:2], n_steps=40)
    dense = noise.expected_loss(np.array([[0.5, 0.0], [0.0, 4.0]]), lr, beta, method,
                                np.diag([0.4, 0.1]), x0=x0[:2], n_steps=40)
    np.testing.assert_allclose(modal, dense, rtol=1e-12)


def _optimizer(method, lr, beta):
    return hb.GD(lr) if method == "gd" else hb.SGD(lr, momentum=beta, nesterov=method == "nesterov")


@pytest.mark.parametrize("method,beta", METHODS)
def test_long_optimize_run_matches_the_floor_within_batch_means_band(method, beta):
    rng = np.random.default_rng(21)
    H, lr, sigma = _spd(2, rng, 1.0, 10.0), 0.05, 0.3
    traj = hb.optimize(hb.Quadratic(H), _optimizer(method, lr, beta), np.zeros(2), n_steps=100_000,
                       grad_noise=sigma, seed=5)
    loss = traj.loss[1001:].reshape(99, -1)  # batch means over 99 batches of 1000 steps (>> correlation time)
    means = loss.mean(axis=1)
    half_width = 3.0 * means.std(ddof=1) / np.sqrt(means.size)
    floor = noise.stationary_loss(H, lr, beta, method, sigma**2)
    assert abs(means.mean() - floor) < half_width
    assert half_width < 0.05 * floor  # the band is tight enough to tell a wrong floor


def _simulate_losses(H, lr, beta, method, sigma, x0, n_steps, n_seeds, seed):
    """Torch SGD on many seeds at once (NumPy, written here); loss per seed and step."""
    rng = np.random.default_rng(seed)
    e = np.tile(x0, (n_seeds, 1))
    b = np.zeros_like(e)
    out = np.empty((n_seeds, n_steps + 1))
    for k in range(n_steps + 1):
        out[:, k] = 0.5 * np.einsum("si,ij,sj->s", e, H, e)
        g = e @ H + sigma * rng.standard_normal(e.shape)
        if method == "gd":
            e = e - lr * g
        else:
            b = beta * b + g  # first step: b = g (PyTorch's buffer)
            e = e - lr * b if method == "heavy_ball" else e - lr * (g + beta * b)
    return out


@pytest.mark.parametrize("method,beta", METHODS)
def test_average_over_seeds_matches_expected_loss_at_every_step(method, beta):
    rng = np.random.default_rng(4)
    H, lr, sigma, x0 = _spd(3, rng), 0.3, 0.5, np.array([1.0, -1.0, 0.5])
    # recorded every 5th step: 13 tests at 3 standard errors (every step would be 61 correlated ones)
    losses = _simulate_losses(H, lr, beta, method, sigma, x0, 60, 4000, seed=10)[:, ::5]
    exact = noise.expected_loss(H, lr, beta, method, sigma**2, x0=x0, n_steps=60)[::5]
    se = losses.std(axis=0, ddof=1) / np.sqrt(losses.shape[0])
    assert np.all(np.abs(losses.mean(axis=0) - exact) <= 3.0 * se + 1e-12 * exact)  # step 0 is deterministic
    assert np.all(3.0 * se[1:] < 0.2 * exact[1:])  # the check has power


def test_average_of_optimize_runs_matches_expected_loss():
    H, lr, beta, sigma, x0 = np.array([[2.0, 0.5], [0.5, 1.0]]), 0.2, 0.7, 0.4, np.array([1.0, 1.0])
    for method in ("heavy_ball", "nesterov"):
        opt = _optimizer(method, lr, beta)
        runs = np.array([hb.optimize(hb.Quadratic(H), opt, x0, n_steps=30, grad_noise=sigma, seed=s).loss
                         for s in range(300)])
        exact = noise.expected_loss(H, lr, beta, method, sigma**2, x0=x0, n_steps=30)
        se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
        assert np.all(np.abs(runs.mean(axis=0) - exact) <= 3.0 * se + 1e-12 * exact), method


@pytest.mark.parametrize("H,lr,beta,method", [
    (np.diag([1.0, 2.0]), 1.5, 0.0, "gd"),           # lr lambda = 3 > 2
    (np.diag([1.0, 2.0]), 0.1, 1.0, "heavy_ball"),   # momentum 1: radius 1
    (np.diag([0.0, 2.0]), 0.1, 0.5, "heavy_ball"),   # a flat direction: radius 1
    (np.diag([-1.0, 2.0]), 0.1, 0.5, "nesterov"),    # a saddle
    (np.array([[1.0, 0.9], [0.9, 1.0]]), 1.9, 0.0, "gd"),  # eigenvalue 1.9: lr lambda = 3.61
    (np.diag([1.0, 2.0]), 0.0, 0.5, "heavy_ball"),   # lr = 0: nothing contracts
])
def test_unstable_settings_raise(H, lr, beta, method):
    for f in (noise.stationary_covariance, noise.stationary_loss):
        with pytest.raises(ValueError, match="not stable.*`lr`.*`momentum`"):
            f(H, lr, beta, method, 1.0)


def test_bad_input_is_refused_by_name():
    H = np.diag([1.0, 2.0])
    cases = [
        (dict(noise_cov=-1.0), "noise_cov"),
        (dict(noise_cov=np.ones(3)), "noise_cov"),
        (dict(noise_cov=np.array([[1.0, 2.0], [2.0, 1.0]])), "noise_cov.*positive semi-definite"),
        (dict(noise_cov=np.array([[1.0, 0.1], [0.0, 1.0]])), "noise_cov.*symmetric"),
        (dict(noise_cov=np.nan), "noise_cov"),
        (dict(method="adam"), "method"),
        (dict(method="gd", momentum=0.5), "momentum"),
        (dict(lr=-0.1), "lr"),
    ]
    for kwargs, match in cases:
        args = dict(H=H, lr=0.1, momentum=0.5, method="heavy_ball", noise_cov=1.0) | kwargs
        with pytest.raises(ValueError, match=match):
            noise.stationary_covariance(**args)
    with pytest.raises(ValueError, match="`H`"):
        noise.stationary_loss(np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="x0"):
        noise.expected_loss(H, 0.1, x0=[1.0], n_steps=3)
    with pytest.raises(ValueError, match="n_steps"):
        noise.expected_loss(H, 0.1, x0=[1.0, 1.0], n_steps=-1)
    with pytest.raises(ValueError, match="overflows"):
        noise.expected_loss(H, 5.0, 0.0, "gd", x0=[1.0, 1.0], n_steps=2000)
    # an unstable but short transient is finite and allowed
    assert noise.expected_loss(H, 1.5, 0.0, "gd", 0.0, x0=[1.0, 0.0], n_steps=2)[-1] == pytest.approx(0.5 * 0.25**2)  # e_2 = (1 - 1.5)^2


def test_docs_page_examples_run():
    path = Path(__file__).resolve().parents[1] / "docs" / "noise.md"
    result = doctest.testfile(str(path), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


BAD_VALUES = [None, "0.1", 1 + 2j, True, np.nan, np.inf, -np.inf, [], [[1.0]], object()]


@pytest.mark.parametrize("name", ["H", "lr", "momentum", "method", "noise_cov", "x0", "n_steps"])
def test_every_parameter_refuses_junk_with_a_clear_error(name):
    good = dict(H=np.diag([1.0, 2.0]), lr=0.1, momentum=0.5, method="heavy_ball", noise_cov=1.0,
                x0=[1.0, 1.0], n_steps=5)
    for bad in BAD_VALUES:
        if name == "H" and bad == [[1.0]]:
            continue  # a valid 1 x 1 Hessian (then `x0` has the wrong shape)
        args = dict(good, **{name: bad})
        with pytest.raises((ValueError, TypeError)) as info:
            noise.expected_loss(**args)
        assert f"`{name}" in str(info.value), (name, bad)  # `noise_cov[0]` for an entry
        if name not in ("x0", "n_steps"):
            args = {k: v for k, v in args.items() if k not in ("x0", "n_steps")}
            with pytest.raises((ValueError, TypeError)):
                noise.stationary_loss(**args)


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_small_step_floor_depends_on_lr_over_one_minus_momentum_only(method):
    # per mode the floor -> lr s / (4 (1 - beta)) as lr lambda -> 0, the same for both methods
    H, s = np.diag([1.0, 10.0, 100.0]), 0.5
    for beta in (0.0, 0.5, 0.9):
        lr = 1e-7
        assert noise.stationary_loss(H, lr, beta, method, s) == pytest.approx(3 * lr * s / (4 * (1 - beta)), rel=1e-4)
