"""TorchProblem against plain PyTorch training loops (needs the `frameworks` extra)."""

import copy
import subprocess
import sys

import numpy as np
import pytest

import heavyball as hb
from heavyball.diagnostics import energies, oscillation_count, velocity_gradient_angle

from .oracles import rel_err

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.frameworks

N_STEPS = 200
F = torch.nn.functional


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: PyTorch's intra-op threads only cost time on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()


def data(n=40, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


def make(batch_size=None, seed=0):
    X, y = data()
    return hb.problems.TorchProblem(mlp(), F.cross_entropy, X, y, batch_size=batch_size, seed=seed)


def vector(model):
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()


def torch_loop(problem, make_opt, n, *, lr_lambda=None, minibatch=False):
    """The plain training loop: a copy of the model, torch.optim, the batches of problem.batch(k)."""
    model = copy.deepcopy(problem.model)
    opt = make_opt(model.parameters())
    sched = None if lr_lambda is None else torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    X, y = problem.inputs, problem.targets
    out = [vector(model)]
    for k in range(n):
        idx = problem.batch(k) if minibatch else slice(None)
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
        if sched is not None:
            sched.step()
        out.append(vector(model))
    return np.array(out)


def reference_functions(problem):
    """value/grad of the same loss, the textbook way: vector_to_parameters, backward, .grad."""
    model = copy.deepcopy(problem.model)
    X, y = problem.inputs, problem.targets

    def value(x):
        torch.nn.utils.vector_to_parameters(torch.tensor(x), model.parameters())
        with torch.no_grad():
            return float(F.cross_entropy(model(X), y))

    def grad(x):
        torch.nn.utils.vector_to_parameters(torch.tensor(x), model.parameters())
        model.zero_grad()
        F.cross_entropy(model(X), y).backward()
        return torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy().copy()

    return value, grad


SGD_CASES = {
    "momentum": dict(lr=0.1, momentum=0.9),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, momentum=0.8, weight_decay=0.01),
    "dampening": dict(lr=0.1, momentum=0.9, dampening=0.2),
}


def decay(k):
    return 1.0 / (1.0 + 0.01 * k)


@pytest.mark.parametrize("minibatch", [False, True], ids=["full", "minibatch"])
@pytest.mark.parametrize("case", SGD_CASES)
def test_sgd_equals_a_torch_training_loop_over_200_steps(case, minibatch):
    kw = SGD_CASES[case]
    problem = make(batch_size=8 if minibatch else None, seed=3)
    ours = hb.optimize(problem, hb.SGD(**kw), problem.x0, n_steps=N_STEPS, stochastic=minibatch)
    theirs = torch_loop(problem, lambda ps: torch.optim.SGD(ps, **kw), N_STEPS, minibatch=minibatch)
    assert ours.success and rel_err(ours.x, theirs) <= 1e-10
    assert np.linalg.norm(theirs[-1] - theirs[0]) > 0.1  # the run actually moved


@pytest.mark.parametrize("minibatch", [False, True], ids=["full", "minibatch"])
def test_lr_schedule_equals_lambda_lr(minibatch):
    kw = dict(lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-3)
    problem = make(batch_size=16 if minibatch else None, seed=5)
    ours = hb.optimize(problem, hb.SGD(**kw), problem.x0, n_steps=N_STEPS, stochastic=minibatch,
                       lr_schedule=lambda k: kw["lr"] * decay(k))
    theirs = torch_loop(problem, lambda ps: torch.optim.SGD(ps, **kw), N_STEPS, lr_lambda=decay,
                        minibatch=minibatch)
    assert rel_err(ours.x, theirs) <= 1e-10


@pytest.mark.parametrize("minibatch", [False, True], ids=["full", "minibatch"])
def test_adam_equals_torch_adam(minibatch):
    kw = dict(lr=1e-2, weight_decay=1e-3)
    problem = make(batch_size=8 if minibatch else None)
    ours = hb.optimize(problem, hb.Adam(**kw), problem.x0, n_steps=N_STEPS, stochastic=minibatch)
    theirs = torch_loop(problem, lambda ps: torch.optim.Adam(ps, **kw), N_STEPS, minibatch=minibatch)
    assert rel_err(ours.x, theirs) <= 1e-10


def test_gd_equals_torch_sgd_without_momentum_and_every_optimizer_runs():
    problem = make()
    ours = hb.optimize(problem, hb.GD(0.3), problem.x0, n_steps=50)
    theirs = torch_loop(problem, lambda ps: torch.optim.SGD(ps, lr=0.3), 50)
    assert rel_err(ours.x, theirs) <= 1e-12
    for opt in (hb.KerasSGD(0.1, momentum=0.9, nesterov=True), hb.EMAMomentum(0.5, 0.9), hb.SGD(0.1)):
        traj = hb.optimize(problem, opt, problem.x0, n_steps=50, lr_schedule=hb.schedules.cosine(opt.lr, 0.0, 50))
        assert traj.success and traj.loss[-1] < 0.9 * traj.loss[0], opt


def test_value_and_grad_against_finite_differences_and_the_textbook_loop():
    problem = make()
    value, grad = reference_functions(problem)
    rng = np.random.default_rng(0)
    x = problem.x0 + 0.3 * rng.standard_normal(problem.dim)
    assert problem.value(x) == value(x) and isinstance(problem.value(x), float)
    np.testing.assert_array_equal(problem.grad(x), grad(x))
    h, fd = 1e-6, np.empty(problem.dim)
    for i in range(problem.dim):
        e = np.zeros(problem.dim)
        e[i] = h
        fd[i] = (value(x + e) - value(x - e)) / (2 * h)
    np.testing.assert_allclose(problem.grad(x), fd, rtol=1e-6, atol=1e-9)
    # a batch of points is evaluated point by point, shape (..., dim)
    xs = np.stack([x, problem.x0, 2 * x]).reshape(3, 1, problem.dim)
    assert problem.value(xs).shape == (3, 1) and problem.grad(xs).shape == (3, 1, problem.dim)
    np.testing.assert_array_equal(problem.grad(xs)[2, 0], grad(2 * x))


def test_hessian_is_the_derivative_of_grad():
    problem = make()
    x, h = problem.x0, 1e-5
    H = problem.hessian(x)
    cols = [(problem.grad(x + h * e) - problem.grad(x - h * e)) / (2 * h) for e in np.eye(problem.dim)]
    np.testing.assert_allclose(H, np.array(cols).T, rtol=1e-5, atol=1e-8)


def test_the_model_is_left_untouched_and_cached_losses_are_fresh_forwards():
    problem = make()
    before = vector(problem.model)
    traj = hb.optimize(problem, hb.SGD(0.1, momentum=0.9), problem.x0, n_steps=30)
    problem.grad(traj.x[-1] + 1.0)
    assert np.array_equal(vector(problem.model), before)
    assert all(p.grad is None for p in problem.model.parameters())
    value, _ = reference_functions(problem)
    assert traj.loss.tolist() == [value(x) for x in traj.x]


def test_batches_are_reproducible_epochs_of_distinct_samples():
    problem = make(batch_size=12, seed=7)  # 40 samples: 3 batches per epoch, 4 dropped
    epoch = np.concatenate([problem.batch(k) for k in range(3)])
    assert epoch.shape == (36,) and len(set(epoch.tolist())) == 36
    np.testing.assert_array_equal(epoch, np.random.default_rng([7, 0]).permutation(40)[:36])
    np.testing.assert_array_equal(problem.batch(4), np.random.default_rng([7, 1]).permutation(40)[12:24])
    again = make(batch_size=12, seed=7)
    assert np.array_equal(again.batch(100), problem.batch(100)) and np.array_equal(again.batch(2), epoch[24:])
    assert not np.array_equal(make(batch_size=12, seed=8).batch(0), problem.batch(0))
    np.testing.assert_array_equal(make().batch(5), np.arange(40))
    # the batches follow the problem's seed, not optimize's
    a = hb.optimize(problem, hb.SGD(0.1), problem.x0, n_steps=10, stochastic=True, seed=1)
    b = hb.optimize(problem, hb.SGD(0.1), problem.x0, n_steps=10, stochastic=True, seed=2)
    assert np.array_equal(a.x, b.x)


@pytest.mark.parametrize("method", ["symplectic_euler", "conformal_symplectic_euler", "nesterov",
                                    "explicit_euler", "implicit_friction_euler"])
def test_integrate_equals_integrate_on_the_equivalent_custom_problem(method):
    if method not in hb.METHODS:
        pytest.skip(f"{method} is not an integrator on this branch")
    problem = make()
    value, grad = reference_functions(problem)
    custom = hb.CustomProblem(problem.dim, value, grad)
    runs = [hb.integrate(hb.DampedParticle(p, mass=1.0, friction=2.0), problem.x0, method=method,
                         step=0.3, n_steps=60) for p in (problem, custom)]
    assert runs[0].success
    for field in ("x", "v", "loss"):
        assert rel_err(getattr(runs[0], field), getattr(runs[1], field)) <= 1e-12, field


def test_sweep_takes_a_torch_problem():
    problem = make()
    value, grad = reference_functions(problem)
    custom = hb.CustomProblem(problem.dim, value, grad)
    kw = dict(x0=problem.x0, n_steps=5, backend="numpy", progress=False)
    ours = hb.sweep(problem, [0.1, 0.5], [0.0, 0.9], **kw)
    theirs = hb.sweep(custom, [0.1, 0.5], [0.0, 0.9], **kw)
    for field in ("final_loss", "rate", "steps_to_tol", "diverged"):
        np.testing.assert_allclose(getattr(ours, field), getattr(theirs, field), rtol=1e-12)


def test_the_model_is_restored_when_the_loss_raises():
    X, y = data()
    model = mlp()
    before = vector(model)

    def bad_loss(out, target):
        raise RuntimeError("boom")

    problem = hb.problems.TorchProblem(model, bad_loss, X, y)
    with pytest.raises(RuntimeError, match="boom"):
        problem.grad(problem.x0 + 1.0)
    assert np.array_equal(vector(model), before)


def test_diagnostics_and_figures_take_a_torch_problem():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem = make()
    value, grad = reference_functions(problem)
    custom = hb.CustomProblem(problem.dim, value, grad)
    opt = hb.SGD(0.5, momentum=0.9)
    traj = hb.optimize(problem, opt, problem.x0, n_steps=40)
    angle = velocity_gradient_angle(traj, problem)
    np.testing.assert_allclose(angle, velocity_gradient_angle(traj, custom), rtol=1e-12, equal_nan=True)
    assert np.isnan(angle[0]) and np.all((angle[1:] >= 0) & (angle[1:] <= 180))
    kin, pot = energies(traj, optimizer=opt)
    np.testing.assert_allclose(kin[1:], np.sum(np.diff(traj.x, axis=0) ** 2, axis=1) / (2 * 0.5), rtol=1e-14)
    assert np.array_equal(pot, traj.loss)
    d = np.diff(traj.x, axis=0)
    assert np.all(d != 0)  # every step moves every coordinate: sign changes are well defined
    reversals = oscillation_count(traj)
    np.testing.assert_array_equal(reversals, np.sum(d[1:] * d[:-1] < 0, axis=0))
    assert reversals.max() > 0  # heavy ball overshoots somewhere
    from heavyball import plotting

    ax = plotting.convergence([traj])
    assert ax.lines
    plt.close("all")


def test_bad_inputs_get_clear_errors():
    X, y = data()
    model, loss = mlp(), F.cross_entropy
    TP = hb.problems.TorchProblem
    with pytest.raises(TypeError, match="model"):
        TP(lambda x: x, loss, X, y)
    with pytest.raises(ValueError, match="at least one parameter"):
        TP(torch.nn.Tanh(), loss, X, y)
    with pytest.raises(TypeError, match="float64"):
        TP(torch.nn.Linear(4, 3), loss, X, y)
    frozen = mlp()
    frozen[0].bias.requires_grad_(False)
    with pytest.raises(ValueError, match="requires_grad"):
        TP(frozen, loss, X, y)
    with pytest.raises(TypeError, match="loss_fn"):
        TP(model, "mse", X, y)
    with pytest.raises(TypeError, match="inputs"):
        TP(model, loss, X.numpy(), y)
    with pytest.raises(TypeError, match="inputs.*float64"):
        TP(model, loss, X.float(), y)
    with pytest.raises(ValueError, match="same first dimension"):
        TP(model, loss, X, y[:-1])
    for bad in (0, 41, 2.0):
        with pytest.raises(ValueError, match="batch_size"):
            TP(model, loss, X, y, batch_size=bad)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            TP(model, loss, X, y, seed=bad)
    problem = TP(model, loss, X, y)
    with pytest.raises(ValueError, match=r"shape \(51,\)"):
        problem.grad(np.zeros(3))
    with pytest.raises(ValueError, match="k"):
        problem.batch(-1)


def test_import_heavyball_does_not_import_torch():
    code = "import sys, heavyball; assert hasattr(heavyball.problems, 'TorchProblem'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_real_data_page_examples_run(monkeypatch, tmp_path):
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "real-data.md"
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(page), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
