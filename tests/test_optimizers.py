import numpy as np
import pytest

import heavyball as hb
from heavyball import schedules

from .oracles import adam_torch, rel_err, sgd_keras, sgd_torch

ROSEN = hb.Rosenbrock()
QUAD5 = hb.Quadratic.diagonal([0.5, 1.0, 2.0, 4.0, 8.0], b=[1.0, -1.0, 0.5, 0.0, 2.0])
X_ROSEN = [-1.2, 1.0]
X_QUAD = [1.0, -2.0, 0.5, 3.0, -1.0]

SGD_CASES = {
    "plain": dict(lr=1e-3, momentum=0.9),
    "dampening": dict(lr=1e-3, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=1e-3, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=1e-3, momentum=0.8, weight_decay=0.1),
    "no_momentum": dict(lr=1e-3, dampening=0.5),
}


@pytest.mark.parametrize("case", SGD_CASES)
@pytest.mark.parametrize("problem, x0", [(ROSEN, X_ROSEN), (QUAD5, X_QUAD)], ids=["rosenbrock", "quad5"])
def test_sgd_matches_independent_oracle(case, problem, x0):
    kw = SGD_CASES[case]
    traj = hb.optimize(problem, hb.SGD(**kw), x0, n_steps=500)
    assert rel_err(traj.x, sgd_torch(problem.grad, x0, 500, **kw)) <= 1e-12


def test_sgd_maximize_ascends_the_negated_problem():
    neg = hb.CustomProblem(5, lambda x: -QUAD5.value(x), lambda x: -QUAD5.grad(x))
    up = hb.optimize(neg, hb.SGD(1e-2, momentum=0.9, maximize=True), X_QUAD, n_steps=300)
    down = hb.optimize(QUAD5, hb.SGD(1e-2, momentum=0.9), X_QUAD, n_steps=300)
    np.testing.assert_array_equal(up.x, down.x)
    assert rel_err(up.x, sgd_torch(neg.grad, X_QUAD, 300, 1e-2, 0.9, maximize=True)) <= 1e-12


@pytest.mark.parametrize("kw", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                dict(momentum=0.0), dict(momentum=0.8, weight_decay=0.05)])
def test_keras_matches_independent_oracle(kw):
    traj = hb.optimize(ROSEN, hb.KerasSGD(1e-3, **kw), X_ROSEN, n_steps=500)
    assert rel_err(traj.x, sgd_keras(ROSEN.grad, X_ROSEN, 500, 1e-3, **kw)) <= 1e-12


@pytest.mark.parametrize("kw", [dict(), dict(amsgrad=True), dict(weight_decay=0.01)])
def test_adam_matches_independent_oracle(kw):
    traj = hb.optimize(ROSEN, hb.Adam(lr=1e-2, **kw), X_ROSEN, n_steps=500)
    assert rel_err(traj.x, adam_torch(ROSEN.grad, X_ROSEN, 500, lr=1e-2, **kw)) <= 1e-12


def test_keras_and_pytorch_agree_at_constant_lr_and_differ_under_a_schedule():
    grad_one = hb.CustomProblem(1, lambda x: float(x[0]), lambda x: np.ones(1))
    sched = lambda k: [0.1, 0.01][k]  # noqa: E731
    torch_like = hb.optimize(grad_one, hb.SGD(0.1, momentum=0.9), [0.0], n_steps=2, lr_schedule=sched)
    keras_like = hb.optimize(grad_one, hb.KerasSGD(0.1, momentum=0.9), [0.0], n_steps=2, lr_schedule=sched)
    assert torch_like.x[2, 0] == pytest.approx(-0.119, abs=1e-15)
    assert keras_like.x[2, 0] == pytest.approx(-0.200, abs=1e-15)
    a = hb.optimize(ROSEN, hb.SGD(1e-3, momentum=0.9), X_ROSEN, n_steps=400)
    b = hb.optimize(ROSEN, hb.KerasSGD(1e-3, momentum=0.9), X_ROSEN, n_steps=400)
    assert rel_err(a.x, b.x) <= 1e-12
    # the buffers differ by the factor -lr: Keras's velocity holds the learning rate
    np.testing.assert_allclose(b.v[1:], -1e-3 * a.v[1:], rtol=1e-9, atol=1e-15)


def test_ema_form_is_sgd_with_scaled_learning_rate():
    beta, lr = 0.9, 0.02
    ema = hb.optimize(QUAD5, hb.EMAMomentum(lr, beta), X_QUAD, n_steps=300)
    sgd = hb.optimize(QUAD5, hb.SGD(lr * (1 - beta), momentum=beta), X_QUAD, n_steps=300)
    assert rel_err(ema.x, sgd.x) <= 1e-12
    np.testing.assert_allclose(ema.v[1:], (1 - beta) * sgd.v[1:], rtol=1e-10)


def test_schedules_reach_the_optimizer_step_by_step():
    lrs = schedules.cosine(2e-3, 1e-4, 300)
    moms = schedules.linear(0.5, 0.9, 200)
    traj = hb.optimize(ROSEN, hb.SGD(1.0, momentum=0.1, dampening=0.2), X_ROSEN, n_steps=300,
                       lr_schedule=lrs, momentum_schedule=moms)
    ks = range(300)
    ref = sgd_torch(ROSEN.grad, X_ROSEN, 300, None, dampening=0.2,
                    lrs=[lrs(k) for k in ks], moms=[moms(k) for k in ks])
    assert rel_err(traj.x, ref) <= 1e-12


def test_momentum_zero_step_keeps_no_buffer_like_pytorch():
    # Su-Boyd-Candes counting: momentum (k - 1)/(k + 2) for k = 1, 2, ... is j/(j + 3) from j = 0.
    sched = lambda j: j / (j + 3)  # noqa: E731
    traj = hb.optimize(QUAD5, hb.SGD(0.05, momentum=0.5, nesterov=True), X_QUAD, n_steps=50,
                       momentum_schedule=sched)
    ref = sgd_torch(QUAD5.grad, X_QUAD, 50, 0.05, nesterov=True, moms=[sched(j) for j in range(50)])
    assert rel_err(traj.x, ref) <= 1e-12
    np.testing.assert_array_equal(traj.v[1], 0.0)  # step 0 had momentum 0: no buffer yet
    np.testing.assert_array_equal(traj.v[2], QUAD5.grad(traj.x[1]))  # first buffer is the gradient


def test_restart_every_resets_the_velocity():
    traj = hb.optimize(QUAD5, hb.SGD(0.05, momentum=0.9), X_QUAD, n_steps=30, restart_every=10)
    ref = sgd_torch(QUAD5.grad, X_QUAD, 30, 0.05, 0.9, restart_every=10)
    assert rel_err(traj.x, ref) <= 1e-12
    seg = hb.optimize(QUAD5, hb.SGD(0.05, momentum=0.9), traj.x[10], n_steps=10)
    np.testing.assert_array_equal(seg.x, traj.x[10:21])


def test_grad_noise_is_seeded_and_reproducible():
    run = lambda seed: hb.optimize(QUAD5, hb.SGD(0.01, momentum=0.9), X_QUAD, n_steps=100,  # noqa: E731
                                   grad_noise=0.5, seed=seed)
    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    # GD makes the noise visible exactly: x1 = x0 - lr (g0 + sigma z0)
    gd = hb.optimize(QUAD5, hb.GD(0.01), X_QUAD, n_steps=1, grad_noise=0.5, seed=7)
    z = np.random.default_rng(7).standard_normal(5)
    np.testing.assert_allclose(gd.x[1], np.array(X_QUAD) - 0.01 * (QUAD5.grad(X_QUAD) + 0.5 * z), rtol=1e-15)


def test_tol_stops_early_with_status_one():
    traj = hb.optimize(QUAD5, hb.SGD(0.1, momentum=0.5), X_QUAD, n_steps=10_000, tol=1e-8)
    assert traj.status == 1 and traj.success and "tol reached" in traj.message
    assert len(traj.t) < 10_000
    np.testing.assert_allclose(traj.x[-1], QUAD5.minimizer, atol=1e-6)


def test_divergence_is_reported_without_nans_or_warnings():
    traj = hb.optimize(ROSEN, hb.SGD(0.1, momentum=0.9), X_ROSEN, n_steps=1000)
    assert traj.status == -1 and not traj.success and traj.message.startswith("diverged at step")
    assert np.all(np.isfinite(traj.x)) and np.all(np.isfinite(traj.loss)) and np.all(np.isfinite(traj.v))


def test_record_every_keeps_the_last_state():
    full = hb.optimize(QUAD5, hb.SGD(0.05, momentum=0.9), X_QUAD, n_steps=23)
    sparse = hb.optimize(QUAD5, hb.SGD(0.05, momentum=0.9), X_QUAD, n_steps=23, record_every=5)
    np.testing.assert_array_equal(sparse.t, [0, 5, 10, 15, 20, 23])
    np.testing.assert_array_equal(sparse.x, full.x[[0, 5, 10, 15, 20, 23]])
    np.testing.assert_array_equal(sparse.v, full.v[[0, 5, 10, 15, 20, 23]])
    assert full.nfev == 23 and full.v.shape == (24, 5)
    assert hb.optimize(QUAD5, hb.GD(0.1), X_QUAD, n_steps=3).v is None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: hb.SGD(-0.1), "Invalid learning rate"),
        (lambda: hb.SGD(0.1, momentum=-0.5), "Invalid momentum value"),
        (lambda: hb.SGD(0.1, weight_decay=-1), "Invalid weight_decay value"),
        (lambda: hb.SGD(0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda: hb.SGD(0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda: hb.KerasSGD(0.1, momentum=1.5), r"`momentum` must be a float between \[0, 1\]"),
        (lambda: hb.Adam(betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
        (lambda: hb.Adam(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda: hb.Adam(eps=-1.0), "Invalid epsilon value"),
        (lambda: hb.EMAMomentum(0.1, beta=1.0), "beta"),
        (lambda: hb.GD(float("nan")), "`lr` must be finite"),
    ],
)
def test_constructor_errors_follow_the_frameworks(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_optimize_input_errors():
    opt = hb.SGD(0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"`x0` must have shape \(5,\)"):
        hb.optimize(QUAD5, opt, [1.0, 2.0], n_steps=3)
    with pytest.raises(ValueError, match="`x0` must be finite"):
        hb.optimize(QUAD5, opt, [np.inf, 0, 0, 0, 0], n_steps=3)
    with pytest.raises(ValueError, match="n_steps"):
        hb.optimize(QUAD5, opt, X_QUAD, n_steps=-1)
    with pytest.raises(ValueError, match="optimizer"):
        hb.optimize(QUAD5, "adam", X_QUAD, n_steps=1)
    with pytest.raises(ValueError, match="lr_schedule"):
        hb.optimize(QUAD5, opt, X_QUAD, n_steps=3, lr_schedule=lambda k: -1.0)
    with pytest.raises(ValueError, match="momentum_schedule"):
        hb.optimize(QUAD5, hb.GD(0.1), X_QUAD, n_steps=3, momentum_schedule=lambda k: 0.5)
    with pytest.raises(ValueError, match="grad_noise"):
        hb.optimize(QUAD5, opt, X_QUAD, n_steps=3, grad_noise=-1.0)


class _Minibatch:
    """Least squares 1/2 |A x - y|^2 / N with row minibatches (test double)."""

    dim = 2

    def __init__(self):
        r = np.random.default_rng(0)
        self.A, self.y = r.normal(size=(64, 2)), r.normal(size=64)

    def value(self, x):
        res = np.asarray(x) @ self.A.T - self.y
        return 0.5 * np.mean(res * res, axis=-1)

    def grad(self, x):
        return self.A.T @ (self.A @ x - self.y) / 64

    def stochastic_grad(self, x, k, rng):
        rows = rng.choice(64, size=8, replace=False)
        A, y = self.A[rows], self.y[rows]
        return A.T @ (A @ x - y) / 8


def test_stochastic_gradients_are_seeded_and_used():
    prob = _Minibatch()
    run = lambda seed, **kw: hb.optimize(prob, hb.SGD(0.05, momentum=0.9), [0.0, 0.0], n_steps=50,  # noqa: E731
                                         stochastic=True, seed=seed, **kw)
    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    full = hb.optimize(prob, hb.SGD(0.05, momentum=0.9), [0.0, 0.0], n_steps=50)
    assert not np.allclose(a.x, full.x)
    # the minibatch stream does not depend on whether Gaussian noise is added too
    noisy = run(3, grad_noise=1e-300)
    np.testing.assert_allclose(noisy.x, a.x, rtol=0, atol=1e-290)
    with pytest.raises(ValueError, match="stochastic_grad"):
        hb.optimize(QUAD5, hb.GD(0.1), X_QUAD, n_steps=2, stochastic=True)
