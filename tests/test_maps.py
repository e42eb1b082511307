import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import heavyball as hb

from .oracles import rel_err, sgd_torch

ROSEN = hb.Rosenbrock()
X0 = [-1.2, 1.0]
HEAVY_BALL_METHODS = ["symplectic_euler", "conformal_symplectic_euler", "implicit_friction_euler"]


def test_table_values():
    m, g, h = 2.0, 3.0, 0.1
    assert hb.to_optimizer(m, g, h) == hb.SGD(h * h / m, 1 - h * g / m)
    assert hb.to_optimizer(m, g, h, "nesterov") == hb.SGD(h * h / m, 1 - h * g / m, nesterov=True)
    assert hb.to_optimizer(m, g, h, "conformal_symplectic_euler") == hb.SGD(h * h / m, math.exp(-h * g / m))
    assert hb.to_optimizer(m, g, h, "implicit_friction_euler") == hb.SGD(h * h / (m + g * h), m / (m + g * h))
    assert hb.to_optimizer(0.0, 4.0, 0.2, "explicit_euler") == hb.GD(0.05)


@pytest.mark.parametrize("method", HEAVY_BALL_METHODS)
def test_heavy_ball_integrators_equal_their_optimizer(method):
    m, gamma, h = 1.5, 2.0, 0.03
    system = hb.DampedParticle(ROSEN, m, gamma)
    traj = hb.integrate(system, X0, method=method, step=h, n_steps=500)
    opt = hb.to_optimizer(m, gamma, h, method)
    ours = hb.optimize(ROSEN, opt, X0, n_steps=500)
    assert rel_err(traj.x, ours.x) <= 1e-12
    assert rel_err(traj.x, sgd_torch(ROSEN.grad, X0, 500, opt.lr, opt.momentum)) <= 1e-12
    # PyTorch's buffer is the velocity rescaled: buf = -(h / lr) v  (= -(m/h) v for symplectic Euler)
    np.testing.assert_allclose(ours.v[1:], -(h / opt.lr) * traj.v[1:], rtol=1e-9, atol=1e-12)


def test_look_ahead_points_are_the_nesterov_iterates():
    m, gamma, h = 1.0, 1.0, 0.03
    traj = hb.integrate(hb.DampedParticle(ROSEN, m, gamma), X0, method="nesterov", step=h, n_steps=500)
    opt = hb.to_optimizer(m, gamma, h, "nesterov")
    ours = hb.optimize(ROSEN, opt, X0, n_steps=500)
    assert rel_err(traj.x + h * opt.momentum * traj.v, ours.x) <= 1e-12
    assert rel_err(ours.x, sgd_torch(ROSEN.grad, X0, 500, opt.lr, opt.momentum, nesterov=True)) <= 1e-12


def test_explicit_euler_with_mass_is_refused_with_its_recurrence():
    with pytest.raises(ValueError, match=r"x\[k\+2\] = x\[k\+1\] \+ beta \(x\[k\+1\] - x\[k\]\) - lr grad L\(x\[k\]\)"):
        hb.to_optimizer(1.0, 1.0, 0.1, "explicit_euler")


@pytest.mark.parametrize("dampening", [0.1, 0.5, -0.3])
def test_dampening_is_reproduced_by_to_physical_and_initial_velocity(dampening):
    opt = hb.SGD(1e-3, momentum=0.9, dampening=dampening)
    params = hb.to_physical(opt)
    assert params.v0_scale != 0.0
    v0 = hb.initial_velocity(opt, ROSEN.grad(X0))
    system = hb.DampedParticle(ROSEN, params.mass, params.friction)
    traj = hb.integrate(system, X0, v0, method=params.method, step=params.step, n_steps=500)
    ours = hb.optimize(ROSEN, opt, X0, n_steps=500)
    assert rel_err(traj.x, ours.x) <= 1e-12
    # without the first-step correction the trajectories differ at O(lr d)
    plain = hb.integrate(system, X0, method=params.method, step=params.step, n_steps=500)
    assert rel_err(plain.x, ours.x) > 1e-6


@pytest.mark.parametrize("opt", [hb.KerasSGD(1e-3, 0.9), hb.KerasSGD(1e-3, 0.9, nesterov=True),
                                 hb.EMAMomentum(1e-2, 0.9), hb.GD(1e-3), hb.SGD(1e-3, 0.0, dampening=0.7)])
@pytest.mark.parametrize("mass", [1.0, 3.0])
def test_to_physical_reproduces_keras_ema_and_gd(opt, mass):
    p = hb.to_physical(opt, mass=mass)
    traj = hb.integrate(hb.DampedParticle(ROSEN, p.mass, p.friction), X0, method=p.method, step=p.step,
                        n_steps=400)
    ours = hb.optimize(ROSEN, opt, X0, n_steps=400)
    x = traj.x
    if p.method == "nesterov":
        x = x + p.step * (1 - p.step * p.friction / p.mass) * traj.v
    assert rel_err(x, ours.x) <= 1e-12


def test_gd_maps_to_gradient_flow_at_mass_zero():
    p = hb.to_physical(hb.GD(0.01), mass=0.0)
    assert p == hb.PhysicalParams(0.0, 1.0, 0.01, "explicit_euler", 0.0)
    assert hb.initial_velocity(hb.GD(0.01), [1.0, 2.0], mass=0.0) is None


@pytest.mark.parametrize("method", ["conformal_symplectic_euler", "implicit_friction_euler"])
def test_to_physical_can_target_other_friction_discretisations(method):
    opt = hb.SGD(4e-3, 0.85)
    p = hb.to_physical(opt, mass=2.0, method=method)
    assert p.method == method
    back = hb.to_optimizer(p.mass, p.friction, p.step, method)
    assert back.lr == pytest.approx(opt.lr, rel=1e-13) and back.momentum == pytest.approx(opt.momentum, rel=1e-13)


def test_frameworks_option():
    keras = hb.to_optimizer(1.0, 1.0, 0.1, framework="keras")
    ema = hb.to_optimizer(1.0, 1.0, 0.1, framework="ema")
    assert keras == hb.KerasSGD(0.1 * 0.1, 0.9)
    assert ema.beta == pytest.approx(0.9) and ema.lr == pytest.approx(0.01 / 0.1)


phys = dict(mass=st.floats(0.05, 20.0), friction=st.floats(0.0, 20.0), step=st.floats(1e-4, 1.0))


@given(**phys, method=st.sampled_from(["symplectic_euler", "nesterov"] + HEAVY_BALL_METHODS[1:]))
def test_physical_round_trip(mass, friction, step, method):
    assume(step * friction / mass <= 0.99 or method in HEAVY_BALL_METHODS[1:])
    opt = hb.to_optimizer(mass, friction, step, method)
    assume(opt.momentum > 1e-9)
    p = hb.to_physical(opt, mass=mass, method=method)
    assert p.mass == mass and p.method == method
    assert p.step == pytest.approx(step, rel=1e-9)
    assert p.friction == pytest.approx(friction, rel=1e-7, abs=1e-9 * mass / step)


@given(lr=st.floats(1e-6, 1.0), beta=st.floats(0.0, 1.0), mass=st.floats(0.1, 10.0), nesterov=st.booleans())
def test_optimizer_round_trip(lr, beta, mass, nesterov):
    assume(beta > 1e-9 or not nesterov)  # 1 - beta rounds to 1 below ~1e-16
    opt = hb.SGD(lr, beta, nesterov=nesterov)
    p = hb.to_physical(opt, mass=mass)
    back = hb.to_optimizer(p.mass, p.friction, p.step, p.method)
    assert back.nesterov == nesterov
    assert back.lr == pytest.approx(lr, rel=1e-12)
    assert back.momentum == pytest.approx(beta, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=1.5)), r"`momentum` must be in \[0, 1\]"),
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=0.9, dampening=1.0)), "dampening"),
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=0.9, weight_decay=0.1)), "weight_decay"),
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=0.9, maximize=True)), "maximize"),
        (lambda: hb.to_physical(hb.Adam()), "Adam"),
        (lambda: hb.to_physical(hb.SGD(0.0, momentum=0.9)), "learning rate must be > 0"),
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=0.9), mass=0.0), "`mass` must be > 0"),
        (lambda: hb.to_physical(hb.SGD(0.1, momentum=0.9), method="nesterov"), "cannot be mapped"),
        (lambda: hb.to_optimizer(1.0, 30.0, 0.1), "momentum .* < 0"),
        (lambda: hb.to_optimizer(-1.0, 1.0, 0.1), "`mass` must be >= 0"),
        (lambda: hb.to_optimizer(1.0, 1.0, 0.0), "`step` must be > 0"),
        (lambda: hb.to_optimizer(0.0, 1.0, 0.1), "explicit_euler"),
        (lambda: hb.to_optimizer(1.0, lambda t: 3 / t, 0.1), "momentum_schedule"),
        (lambda: hb.to_optimizer(1.0, 1.0, 0.1, "rk4"), "'symplectic_euler'"),
    ],
)
def test_map_errors_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_momentum_one_is_zero_friction():
    p = hb.to_physical(hb.SGD(0.01, momentum=1.0))
    assert p.friction == 0.0 and p.step == pytest.approx(0.1)
