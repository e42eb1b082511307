import numpy as np
import pytest

import heavyball as hb
from heavyball.diagnostics import detect_cycle


def test_lessard_heavy_ball_falls_into_the_published_three_cycle():
    # Lessard, Recht & Packard (2016): mu = 1, L = 25, quadratic-optimal heavy ball
    mu, L = 1.0, 25.0
    lr = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
    assert (lr, beta) == pytest.approx((1 / 9, 4 / 9), rel=1e-15)
    traj = hb.optimize(hb.LessardCounterexample(), hb.SGD(lr, beta), [3.3], n_steps=300)
    period, points = detect_cycle(traj)
    assert period == 3
    np.testing.assert_allclose(np.sort(points[:, 0]), np.array([-2208.0, 792.0, 2592.0]) / 1225, atol=1e-12)


def test_a_converging_run_has_no_cycle():
    traj = hb.optimize(hb.Quadratic.from_condition_number(10), hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=2000)
    assert np.allclose(traj.x[-1], 0.0, atol=1e-12)
    assert detect_cycle(traj) is None  # a fixed point is convergence, not a cycle


def test_a_planted_cycle_and_noise():
    class T:
        pass

    t = T()
    t.x = np.tile(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), (5, 1))
    period, points = detect_cycle(t)
    assert period == 4 and np.array_equal(points, t.x[-4:])
    t.x = t.x + 1e-6 * np.random.default_rng(0).normal(size=t.x.shape)
    assert detect_cycle(t) is None and detect_cycle(t, tol=1e-4)[0] == 4
    with pytest.raises(ValueError, match="tol"):
        detect_cycle(t, tol=-1)


# --- diagnostics for the seed-claims studies -------------------------------------------------

import math  # noqa: E402

from heavyball.diagnostics import (  # noqa: E402
    distances,
    effective_learning_rate,
    energies,
    final_minimum,
    nearest_minimum,
    oscillation_count,
    overshoot,
    steps_to_tolerance,
    velocities,
    velocity_gradient_angle,
    velocity_norms,
)


class _Slope:
    """L(x) = g . x: a constant gradient."""

    def __init__(self, g):
        self.g = np.asarray(g, dtype=float)
        self.dim = self.g.size

    def value(self, x):
        return np.asarray(x) @ self.g

    def grad(self, x):
        return np.broadcast_to(self.g, np.shape(x)).copy()


def test_velocities_of_an_optimizer_run_are_its_steps_and_start_at_rest():
    p = hb.Rosenbrock()
    tr = hb.optimize(p, hb.SGD(1e-3, 0.9), [-1.2, 1.0], n_steps=50)
    v = velocities(tr)
    assert np.array_equal(v[0], [0.0, 0.0])
    np.testing.assert_array_equal(v[1:], np.diff(tr.x, axis=0))
    np.testing.assert_allclose(velocity_norms(tr), np.linalg.norm(v, axis=1), rtol=1e-15)
    thin = hb.optimize(p, hb.SGD(1e-3, 0.9), [-1.2, 1.0], n_steps=50, record_every=5)
    np.testing.assert_allclose(velocities(thin)[1:], (tr.x[5::5] - tr.x[:-5:5]) / 5, rtol=1e-13)


def test_symplectic_euler_velocity_is_the_step_over_h_and_energies_agree_with_the_optimizer():
    p, h, m, gam = hb.Rosenbrock(), 0.03, 2.0, 1.5
    tr = hb.integrate(hb.DampedParticle(p, m, gam), [-1.2, 1.0], method="symplectic_euler", step=h, n_steps=300)
    np.testing.assert_allclose(velocities(tr), tr.v, rtol=0, atol=0)
    np.testing.assert_allclose(tr.v[1:], np.diff(tr.x, axis=0) / h, rtol=1e-9, atol=1e-12)
    kin, pot = energies(tr, mass=m)
    np.testing.assert_allclose(kin, 0.5 * m * np.sum(tr.v**2, axis=1), rtol=1e-15)
    np.testing.assert_array_equal(pot, tr.loss)
    opt = hb.to_optimizer(m, gam, h)
    tr2 = hb.optimize(p, opt, [-1.2, 1.0], n_steps=300)
    kin2, pot2 = energies(tr2, optimizer=opt)
    np.testing.assert_allclose(kin2, kin, rtol=1e-9, atol=1e-14)  # same particle, started at rest
    np.testing.assert_allclose(pot2, pot, rtol=1e-12)
    with pytest.raises(ValueError, match="optimizer"):
        energies(tr2)
    with pytest.raises(ValueError, match="optimizer"):
        energies(tr, optimizer=opt)


def test_total_energy_of_the_damped_reference_solution_never_increases():
    sys_ = hb.DampedParticle(hb.DoubleWell(), mass=1.0, friction=0.3)
    ref = hb.solve_reference(sys_, [1.8, 0.5], [0.0, -1.0], t_span=(0.0, 20.0), t_eval=np.linspace(0, 20, 400))
    kin, pot = energies(ref)
    e = kin + pot
    # dE/dt = -gamma |v|^2 <= 0; the solver's tolerances (1e-10) bound any apparent rise
    assert np.all(np.diff(e) <= 1e-8)
    assert e[-1] < e[0] - 1.0


def test_velocity_gradient_angle_matches_a_direct_computation():
    p = hb.Rosenbrock()
    tr = hb.optimize(p, hb.SGD(1e-3, 0.9), [-1.2, 1.0], n_steps=40)
    ang = velocity_gradient_angle(tr, p)
    assert math.isnan(ang[0])  # at rest
    for k in range(1, 41):
        d = tr.x[k] - tr.x[k - 1]
        f = -p.grad(tr.x[k])
        c = float(d @ f) / (math.hypot(*d) * math.hypot(*f))
        assert ang[k] == pytest.approx(math.degrees(math.acos(max(-1.0, min(1.0, c)))), abs=1e-9)


def test_effective_learning_rate_is_the_terminal_step_on_a_constant_gradient():
    slope = _Slope([2.0, -1.0])
    for opt in (hb.SGD(0.01, 0.9), hb.SGD(0.02, 0.5, dampening=0.3), hb.KerasSGD(0.01, 0.8),
                hb.EMAMomentum(0.05, 0.9), hb.GD(0.03)):
        tr = hb.optimize(slope, opt, [0.0, 0.0], n_steps=600)
        step = tr.x[-1] - tr.x[-2]
        np.testing.assert_allclose(step, -effective_learning_rate(opt) * slope.g, rtol=1e-10)
    assert effective_learning_rate(0.01, 0.9) == pytest.approx(0.1, rel=1e-15)
    np.testing.assert_allclose(effective_learning_rate([0.1, 0.2], [0.5, 0.75]), [0.2, 0.8], rtol=1e-15)
    with pytest.raises(ValueError, match="momentum"):
        effective_learning_rate(0.1, 1.0)
    with pytest.raises(ValueError, match="Adam"):
        effective_learning_rate(hb.Adam())


def test_oscillation_count_and_overshoot_on_gradient_descent_closed_forms():
    q = hb.Quadratic.diagonal([1.5, 0.5])
    tr = hb.optimize(q, hb.GD(1.0), [1.0, 1.0], n_steps=12)  # x_k = (-0.5^k, 0.5^k)
    assert oscillation_count(tr, about=[0.0, 0.0]).tolist() == [12, 0]
    assert oscillation_count(tr).tolist() == [11, 0]  # steps alternate across, never along
    assert overshoot(tr, [0.0, 0.0]) == 0.0  # x_k . (1, 1) = 0 or > 0: never beyond x* along x_0 - x*
    one = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(1.5), [1.0], n_steps=20)
    assert overshoot(one, [0.0]) == 0.5
    assert oscillation_count(one, about=[0.0], tol=1e-3).tolist() == [9]  # 0.5^k > 1e-3 for k <= 9
    with pytest.raises(ValueError, match="minimizer"):
        overshoot(one, [1.0])


def test_steps_to_tolerance_closed_forms_and_options():
    q = hb.Quadratic.diagonal([1.0])
    tr = hb.optimize(q, hb.GD(0.5), [1.0], n_steps=40)  # |x_k| = 0.5^k, L_k = 0.5^(2k+1)
    for tol in (0.3, 1e-3, 1e-9):
        assert steps_to_tolerance(tr, tol, minimizer=[0.0]) == math.ceil(math.log(tol) / math.log(0.5) - 1e-12)
    assert steps_to_tolerance(tr, 1e-6, min_value=0.0) == math.ceil(math.log(1e-6) / math.log(0.25) - 1e-12)
    assert steps_to_tolerance(tr, 0.01, minimizer=[0.0], relative=False) == 7
    assert steps_to_tolerance(tr, 1e-30, minimizer=[0.0]) == -1
    osc = hb.optimize(q, hb.SGD(0.5, 0.8), [1.0], n_steps=200)  # rings: |root| = sqrt(0.8)
    first, stay = (steps_to_tolerance(osc, 0.1, minimizer=[0.0], stay=s) for s in (False, True))
    assert 0 < first < stay
    err = np.abs(osc.x[:, 0])
    assert err[first] <= 0.1 < err[:first].min() and np.all(err[stay:] <= 0.1) and err[stay - 1] > 0.1
    sys_ = hb.DampedParticle(q, 1.0, 1.0)
    phys = hb.integrate(sys_, [1.0], method="symplectic_euler", step=0.1, n_steps=500, t0=3.0)
    k = steps_to_tolerance(phys, 1e-3, minimizer=[0.0])
    assert np.abs(phys.x[k, 0]) <= 1e-3 < np.abs(phys.x[:k, 0]).min()
    with pytest.raises(ValueError, match="exactly one"):
        steps_to_tolerance(tr, 0.1)


def test_final_minimum_and_distances():
    well = hb.DoubleWell()
    runs = {x0: hb.optimize(well, hb.GD(0.05), [x0, 0.2], n_steps=800) for x0 in (-1.5, -0.2, 0.5, 1.7)}
    ends = {x0: final_minimum(tr, well.local_minima) for x0, tr in runs.items()}
    xb = well.barrier_point[0]
    for x0, idx in ends.items():  # small steps stay on their side of the barrier
        expected = 0 if (x0 < xb) == (well.local_minima[0][0] < xb) else 1
        assert idx == expected, (x0, idx)
    short = hb.optimize(well, hb.GD(0.05), [1.5, 0.2], n_steps=3)
    assert final_minimum(short, well.local_minima) == -1
    pts = np.array([well.local_minima[1], well.local_minima[0] + 1e-4, [5.0, 5.0]])
    assert nearest_minimum(pts, well.local_minima).tolist() == [1, 0, -1]
    tr = runs[1.7]
    np.testing.assert_allclose(distances(tr, well.local_minima[1]), np.linalg.norm(tr.x - well.local_minima[1], axis=1))
    path = np.zeros_like(tr.x)
    np.testing.assert_allclose(distances(tr, path), np.linalg.norm(tr.x, axis=1))
    with pytest.raises(ValueError, match="target"):
        distances(tr, np.zeros(3))


def test_every_optimizer_run_is_recognised_as_one():
    from heavyball.diagnostics import OPTIMIZER_METHODS

    q = hb.Quadratic.diagonal([1.0, 2.0])
    for opt in (hb.GD(0.1), hb.SGD(0.1), hb.SGD(0.1, 0.9), hb.SGD(0.1, 0.9, nesterov=True),
                hb.KerasSGD(0.1, 0.9), hb.EMAMomentum(0.1, 0.9), hb.Adam(0.1)):
        tr = hb.optimize(q, opt, [1.0, 1.0], n_steps=3)
        assert tr.method in OPTIMIZER_METHODS
        np.testing.assert_array_equal(velocities(tr)[1:], np.diff(tr.x, axis=0))
    for method in hb.METHODS:
        assert method not in OPTIMIZER_METHODS


def test_accelerated_iterates_keep_their_physical_velocity():
    from heavyball.odes import iterates

    tr = iterates("heavy_ball", hb.Quadratic.diagonal([1.0, 4.0]), [1.0, 1.0], 0.04, 30, mu=1.0)
    np.testing.assert_array_equal(velocities(tr), tr.v)  # (x_k - x_{k-1}) / sqrt(s), not per step
    np.testing.assert_allclose(tr.v[1:], np.diff(tr.x, axis=0) / 0.2, rtol=1e-9, atol=1e-14)
