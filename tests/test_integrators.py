import math

import numpy as np
import pytest

import heavyball as hb

from .oracles import rel_err

WELL = hb.DoubleWell(barrier=1.0, tilt=0.25, stiffness=2.0)
MOMENTUM_METHODS = ["explicit_euler", "symplectic_euler", "conformal_symplectic_euler", "nesterov",
                    "implicit_friction_euler"]


def _final_error(system, x0, v0, method, h, T):
    n = int(round(T / h))
    traj = hb.integrate(system, x0, v0, method=method, step=h, n_steps=n)
    ref = hb.solve_reference(system, x0, v0, t_span=(0.0, T), t_eval=[T])
    err = np.linalg.norm(traj.x[-1] - ref.x[-1])
    if system.mass > 0:
        err = max(err, np.linalg.norm(traj.v[-1] - ref.v[-1]))
    return err


@pytest.mark.parametrize("method", MOMENTUM_METHODS)
def test_each_integrator_converges_to_the_reference_with_order_one(method):
    system = hb.DampedParticle(WELL, mass=1.0, friction=0.7)
    errs = [_final_error(system, [1.4, 0.5], [0.0, -0.3], method, h, 2.0) for h in (0.01, 0.005, 0.0025)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.1), orders


def test_gradient_flow_converges_with_order_one():
    system = hb.DampedParticle(WELL, mass=0.0, friction=2.0)
    errs = [_final_error(system, [1.4, 0.5], None, "explicit_euler", h, 2.0) for h in (0.01, 0.005, 0.0025)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.1), orders


def test_time_dependent_friction_converges_to_the_reference():
    system = hb.DampedParticle(WELL, mass=1.0, friction=lambda t: 3.0 / t)
    errs = []
    for h in (0.004, 0.002):
        n = int(round(2.0 / h))
        traj = hb.integrate(system, [1.4, 0.5], method="symplectic_euler", step=h, n_steps=n, t0=1.0)
        ref = hb.solve_reference(system, [1.4, 0.5], t_span=(1.0, 3.0), t_eval=[3.0])
        errs.append(np.linalg.norm(traj.x[-1] - ref.x[-1]))
    assert abs(math.log2(errs[0] / errs[1]) - 1.0) < 0.1


def test_constant_callable_friction_equals_the_float():
    a = hb.integrate(hb.DampedParticle(WELL, 1.0, 0.5), [1.0, 1.0], method="nesterov", step=0.05, n_steps=200)
    b = hb.integrate(hb.DampedParticle(WELL, 1.0, lambda t: 0.5), [1.0, 1.0], method="nesterov", step=0.05,
                     n_steps=200)
    np.testing.assert_array_equal(a.x, b.x)


def test_symplectic_euler_keeps_energy_bounded_without_friction():
    q = hb.Quadratic.diagonal([4.0])
    system = hb.DampedParticle(q, mass=1.0, friction=0.0)
    h = 0.1
    traj = hb.integrate(system, [1.0], method="symplectic_euler", step=h, n_steps=5000)
    energy = system.energy(traj.x, traj.v)
    # symplectic Euler conserves a modified energy; the true one oscillates within O(h)
    assert energy.max() / energy.min() < 1.0 + 2 * h * math.sqrt(4.0)
    assert abs(energy[-1] / energy[0] - 1.0) < 0.25


def test_explicit_euler_energy_grows_by_one_plus_h2_lambda_over_m_per_step():
    lam, m, h = 4.0, 2.0, 0.05
    system = hb.DampedParticle(hb.Quadratic.diagonal([lam]), mass=m, friction=0.0)
    traj = hb.integrate(system, [1.0], [0.3], method="explicit_euler", step=h, n_steps=3000)
    energy = system.energy(traj.x, traj.v)
    np.testing.assert_allclose(energy[1:] / energy[:-1], 1.0 + h * h * lam / m, rtol=1e-12)
    # so the amplitude sqrt(E) grows by sqrt(1 + h^2 lambda / m) per step
    growth = (energy[-1] / energy[0]) ** (0.5 / 3000)
    assert growth == pytest.approx(math.sqrt(1.0 + h * h * lam / m), rel=1e-12)


def test_explicit_euler_with_mass_is_the_delayed_gradient_recurrence():
    m, gamma, h = 1.5, 2.0, 0.05
    system = hb.DampedParticle(WELL, m, gamma)
    x = hb.integrate(system, [1.2, -0.4], method="explicit_euler", step=h, n_steps=300).x
    lr, beta = h * h / m, 1 - h * gamma / m
    for k in range(299):
        rhs = x[k + 1] + beta * (x[k + 1] - x[k]) - lr * WELL.grad(x[k])
        np.testing.assert_allclose(x[k + 2], rhs, rtol=1e-13, atol=1e-14)


def test_divergence_is_a_result_with_no_nan_rows():
    system = hb.DampedParticle(hb.Rosenbrock(), mass=1.0, friction=0.1)
    traj = hb.integrate(system, [-1.2, 1.0], method="symplectic_euler", step=0.2, n_steps=1000)
    assert traj.status == -1 and not traj.success
    assert traj.message.startswith("diverged at step")
    k = int(traj.message.split()[3].rstrip(":"))
    assert traj.nfev == k and traj.t[-1] == pytest.approx(0.2 * (k - 1))
    assert np.all(np.isfinite(traj.x)) and np.all(np.isfinite(traj.v)) and np.all(np.isfinite(traj.loss))


def test_tol_stops_the_run():
    system = hb.DampedParticle(hb.Quadratic.from_condition_number(10), 1.0, 2.0)
    traj = hb.integrate(system, [1.0, 1.0], method="conformal_symplectic_euler", step=0.1, n_steps=100_000,
                        tol=1e-9)
    assert traj.status == 1 and traj.message.startswith("tol reached at step")
    assert traj.nfev == len(traj.t) - 1 < 100_000
    assert np.linalg.norm(traj.x[-1]) < 1e-7


def test_record_every_subsamples_and_keeps_the_last_state():
    system = hb.DampedParticle(WELL, 1.0, 0.5)
    full = hb.integrate(system, [1.0, 1.0], method="symplectic_euler", step=0.01, n_steps=1003, t0=2.0)
    part = hb.integrate(system, [1.0, 1.0], method="symplectic_euler", step=0.01, n_steps=1003, t0=2.0,
                        record_every=100)
    idx = list(range(0, 1001, 100)) + [1003]
    np.testing.assert_array_equal(part.x, full.x[idx])
    np.testing.assert_array_equal(part.v, full.v[idx])
    np.testing.assert_allclose(part.t, 2.0 + 0.01 * np.array(idx))
    np.testing.assert_array_equal(part.loss, full.loss[idx])
    assert part.nfev == full.nfev == 1003


def test_gradient_flow_is_gradient_descent_with_lr_h_over_gamma():
    system = hb.DampedParticle(WELL, mass=0.0, friction=4.0)
    traj = hb.integrate(system, [1.2, -0.4], method="explicit_euler", step=0.02, n_steps=300)
    gd = hb.optimize(WELL, hb.GD(0.005), [1.2, -0.4], n_steps=300)
    assert traj.v is None
    assert rel_err(traj.x, gd.x) <= 1e-14


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="leapfrog"), "'explicit_euler', 'symplectic_euler'"),
        (dict(step=0.0), "`step` must be > 0"),
        (dict(step=float("inf")), "`step` must be finite"),
        (dict(n_steps=-1), "`n_steps` must be an integer >= 0"),
        (dict(n_steps=2.5), "`n_steps` must be an integer"),
        (dict(x0=[1.0]), r"`x0` must have shape \(2,\)"),
        (dict(x0=[np.nan, 1.0]), "`x0` must be finite"),
        (dict(v0=[1.0, 2.0, 3.0]), r"`v0` must have shape \(2,\)"),
        (dict(record_every=0), "record_every"),
        (dict(tol=-1.0), "`tol` must be >= 0"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, match):
    args = dict(x0=[1.0, 1.0], method="symplectic_euler", step=0.1, n_steps=10)
    args.update(kwargs)
    x0 = args.pop("x0")
    with pytest.raises(ValueError, match=match):
        hb.integrate(hb.DampedParticle(WELL, 1.0, 1.0), x0, **args)


def test_mass_zero_accepts_only_explicit_euler():
    system = hb.DampedParticle(WELL, mass=0.0, friction=1.0)
    with pytest.raises(ValueError, match="needs a velocity"):
        hb.integrate(system, [1.0, 1.0], method="symplectic_euler", step=0.1, n_steps=3)
    with pytest.raises(ValueError, match="v0"):
        hb.integrate(system, [1.0, 1.0], [1.0, 0.0], method="explicit_euler", step=0.1, n_steps=3)


# --- the scheme records (issue 16): every fact of a scheme in one place, checked against each other ---

RECORD_CASES = [(0.1, 1.0, 0.5), (0.37, 2.5, 3.0), (1e-3, 0.2, 0.0), (0.05, 1.0, 19.0)]


@pytest.mark.parametrize("name", MOMENTUM_METHODS)
def test_the_kernels_coefficients_are_the_records_bit_for_bit(name):
    from heavyball import kernels

    scheme = hb.integrators.SCHEMES[name]
    assert kernels.SCHEMES[name] == scheme.code and hb.METHODS[name] is scheme.step
    for h, m, gamma in RECORD_CASES:
        compiled = kernels._coefficients.py_func(scheme.code, h, m, gamma)[:4]
        assert compiled == scheme.coefficients(h, m, gamma), (h, m, gamma)


@pytest.mark.parametrize("name", MOMENTUM_METHODS)
def test_each_records_iteration_matrix_is_its_step_on_a_quadratic(name):
    # one step of the record's own NumPy step on L = lambda x^2 / 2, column by column, is the matrix of `blocks`
    scheme = hb.integrators.SCHEMES[name]
    for h, m, gamma in RECORD_CASES:
        for lam in (0.5, 3.0):
            grad = lambda x, lam=lam: lam * x  # noqa: E731
            cols = [scheme.step(grad, np.array([x0]), np.array([v0]), h, m, gamma)[:2] for x0, v0 in ((1, 0), (0, 1))]
            stepped = np.array([[cols[0][0][0], cols[1][0][0]], [cols[0][1][0], cols[1][1][0]]])
            (p11, q11), (p12, q12), (p21, q21), (p22, q22) = scheme.blocks(h, m, gamma)
            blocks = np.array([[p11 + q11 * lam, p12 + q12 * lam], [p21 + q21 * lam, p22 + q22 * lam]])
            np.testing.assert_allclose(blocks, stepped, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", MOMENTUM_METHODS[1:])
def test_each_records_optimiser_map_and_its_inverse_agree_with_its_coefficients(name):
    # v' = (a v - c g) / div, x' = x + h v' is heavy ball with beta = a / div and lr = h c / div
    scheme = hb.integrators.SCHEMES[name]
    for h, m, gamma in RECORD_CASES:
        a, c, e, div = scheme.coefficients(h, m, gamma)
        lr, beta = scheme.optimizer(h, m, gamma)
        assert lr == pytest.approx(h * c / div, rel=1e-15) and beta == pytest.approx(a / div, rel=1e-15)
        assert scheme.look_ahead == (e != 0.0) and (e == 0.0 or e == pytest.approx(h * beta, rel=1e-15))
        if beta > 0:
            assert scheme.physical(lr, beta, m) == pytest.approx((h, gamma), rel=1e-12, abs=1e-12)
    assert hb.integrators.SCHEMES["explicit_euler"].optimizer is None
