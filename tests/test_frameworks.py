"""Iterates against the frameworks themselves (needs the `frameworks` extra)."""

import numpy as np
import pytest

import heavyball as hb
from heavyball import schedules

from .oracles import rel_err

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.frameworks

ROSEN = hb.Rosenbrock()
QUAD5 = hb.Quadratic.diagonal([0.5, 1.0, 2.0, 4.0, 8.0], b=[1.0, -1.0, 0.5, 0.0, 2.0])
NEG_ROSEN = hb.CustomProblem(2, lambda x: -ROSEN.value(x), lambda x: -ROSEN.grad(x))
NEG_QUAD5 = hb.CustomProblem(5, lambda x: -QUAD5.value(x), lambda x: -QUAD5.grad(x))
CASES = [(ROSEN, NEG_ROSEN, [-1.2, 1.0]), (QUAD5, NEG_QUAD5, [1.0, -2.0, 0.5, 3.0, -1.0])]
IDS = ["rosenbrock", "quad5"]


def run_torch(problem, x0, n, make, lr_schedule=None, momentum_schedule=None, restart_every=None):
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    out = [p.detach().numpy().copy()]
    for k in range(n):
        if restart_every and k and k % restart_every == 0:
            opt.state.clear()
        for group in opt.param_groups:
            if lr_schedule is not None:
                group["lr"] = lr_schedule(k)
            if momentum_schedule is not None:
                group["momentum"] = momentum_schedule(k)
        p.grad = torch.from_numpy(problem.grad(p.detach().numpy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


SGD_CASES = {
    "momentum": dict(lr=1e-3, momentum=0.9),
    "dampening": dict(lr=1e-3, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=1e-3, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=1e-3, momentum=0.9, weight_decay=0.05),
    "maximize": dict(lr=1e-3, momentum=0.9, maximize=True),
}


@pytest.mark.parametrize("case", SGD_CASES)
@pytest.mark.parametrize("problem, negated, x0", CASES, ids=IDS)
def test_sgd_iterates_equal_torch_for_500_steps(case, problem, negated, x0):
    kw = SGD_CASES[case]
    target = negated if kw.get("maximize") else problem
    ours = hb.optimize(target, hb.SGD(**kw), x0, n_steps=500)
    theirs = run_torch(target, x0, 500, lambda ps: torch.optim.SGD(ps, **kw))
    assert ours.success and rel_err(ours.x, theirs) <= 1e-10


@pytest.mark.parametrize("kw", [dict(lr=1e-2), dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, weight_decay=0.01),
                                dict(lr=1e-2, betas=(0.8, 0.99), maximize=True)])
@pytest.mark.parametrize("problem, negated, x0", CASES, ids=IDS)
def test_adam_iterates_equal_torch_for_500_steps(kw, problem, negated, x0):
    target = negated if kw.get("maximize") else problem
    ours = hb.optimize(target, hb.Adam(**kw), x0, n_steps=500)
    theirs = run_torch(target, x0, 500, lambda ps: torch.optim.Adam(ps, **kw))
    assert rel_err(ours.x, theirs) <= 1e-10


def test_schedules_restarts_and_the_zero_momentum_first_step_match_torch():
    # lr * lambda_max stays below the stability limit, so rounding is not amplified
    lrs, moms = schedules.step_decay(1e-3, 0.5, 100), (lambda j: j / (j + 3))
    ours = hb.optimize(ROSEN, hb.SGD(1e-3, momentum=0.5, nesterov=True), [-1.2, 1.0], n_steps=500,
                       lr_schedule=lrs, momentum_schedule=moms, restart_every=150)
    theirs = run_torch(ROSEN, [-1.2, 1.0], 500,
                       lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.5, nesterov=True),
                       lr_schedule=lrs, momentum_schedule=moms, restart_every=150)
    assert rel_err(ours.x, theirs) <= 1e-10


def test_adam_restart_resets_bias_correction_like_a_fresh_torch_state():
    ours = hb.optimize(QUAD5, hb.Adam(lr=0.05), CASES[1][2], n_steps=200, restart_every=50)
    theirs = run_torch(QUAD5, CASES[1][2], 200, lambda ps: torch.optim.Adam(ps, lr=0.05), restart_every=50)
    assert rel_err(ours.x, theirs) <= 1e-10


@pytest.mark.parametrize("mass, friction, step", [(1.0, 1.0, 0.03), (2.0, 5.0, 0.05), (0.5, 0.2, 0.01)])
def test_nesterov_look_ahead_points_equal_torch_nesterov(mass, friction, step):
    system = hb.DampedParticle(ROSEN, mass, friction)
    traj = hb.integrate(system, [-1.2, 1.0], method="nesterov", step=step, n_steps=500)
    beta = 1 - step * friction / mass
    look_ahead = traj.x + step * beta * traj.v
    opt = hb.to_optimizer(mass, friction, step, method="nesterov")
    theirs = run_torch(ROSEN, [-1.2, 1.0], 500,
                       lambda ps: torch.optim.SGD(ps, lr=opt.lr, momentum=opt.momentum, nesterov=True))
    assert rel_err(look_ahead, theirs) <= 1e-10


def test_symplectic_euler_is_torch_heavy_ball_and_the_buffer_is_minus_m_over_h_v():
    mass, friction, step = 2.0, 3.0, 0.04
    system = hb.DampedParticle(QUAD5, mass, friction)
    traj = hb.integrate(system, CASES[1][2], method="symplectic_euler", step=step, n_steps=500)
    opt = hb.to_optimizer(mass, friction, step)
    p = torch.tensor(CASES[1][2], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([p], lr=opt.lr, momentum=opt.momentum)
    for k in range(500):
        p.grad = torch.from_numpy(QUAD5.grad(p.detach().numpy()))
        topt.step()
    buf = topt.state[p]["momentum_buffer"].numpy()
    assert rel_err(traj.x[-1], p.detach().numpy()) <= 1e-10
    np.testing.assert_allclose(buf, -(mass / step) * traj.v[-1], rtol=1e-8, atol=1e-12)
