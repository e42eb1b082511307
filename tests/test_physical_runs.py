"""Issue 17, item 10: optimiser runs in the phase portrait (maps.physical_run); negative losses in convergence."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball import plotting  # noqa: E402
from heavyball.maps import physical_run  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ------------------------------------------------------------------ item 10: phase portrait
OPTIMIZERS = [hb.SGD(0.05, 0.8), hb.SGD(0.05, 0.8, nesterov=True), hb.SGD(0.05, 0.8, dampening=0.3),
              hb.KerasSGD(0.05, 0.8), hb.KerasSGD(0.05, 0.8, nesterov=True), hb.EMAMomentum(0.2, 0.8)]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("mass", [1.0, 3.0])
def test_physical_run_equals_integrate(optimizer, mass):
    """The converted optimiser run is integrate's (x, v) on the mapped particle, to 1e-12."""
    q = hb.Quadratic.diagonal([1.0, 4.0])
    x0 = np.array([1.0, -0.5])
    p = hb.to_physical(optimizer, mass=mass)
    v0 = hb.initial_velocity(optimizer, q.grad(x0), mass=mass)
    ref = hb.integrate(hb.DampedParticle(q, p.mass, p.friction), x0, v0, method=p.method, step=p.step, n_steps=40)
    run = physical_run(hb.optimize(q, optimizer, x0, n_steps=40), optimizer, mass=mass, problem=q)
    assert run.method == p.method and run.step == p.step
    np.testing.assert_allclose(run.v, ref.v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.x, ref.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.t, ref.t, rtol=1e-15, atol=0)
    assert np.abs(ref.v).max() > 0.1  # a real velocity, not zeros


def test_physical_run_refuses_what_it_cannot_map():
    q = hb.Quadratic.diagonal([1.0, 4.0])
    opt = hb.SGD(0.05, 0.8, dampening=0.3)
    run = hb.optimize(q, opt, [1.0, 1.0], n_steps=5)
    with pytest.raises(ValueError, match="problem"):
        physical_run(run, opt)
    with pytest.raises(ValueError, match="not the one"):
        physical_run(run, hb.KerasSGD(0.05, 0.8))
    with pytest.raises(ValueError, match="optimize"):
        physical_run(hb.integrate(hb.DampedParticle(q, 1.0, 1.0), [1.0, 1.0], method="nesterov", step=0.1,
                                  n_steps=3), opt)
    with pytest.raises(ValueError, match="optimize"):
        physical_run(hb.optimize(q, hb.GD(0.1), [1.0, 1.0], n_steps=3), hb.GD(0.1))


def test_phase_portrait_refuses_raw_optimizer_run_and_draws_converted_one():
    q = hb.Quadratic.diagonal([1.0])
    opt = hb.SGD(0.05, 0.8)
    p = hb.to_physical(opt)
    system = hb.DampedParticle(q, p.mass, p.friction)
    run = hb.optimize(q, opt, [1.5], n_steps=30)
    with pytest.raises(ValueError, match=r"physical_run\(run, optimizer, mass=1\)"):
        plotting.phase_portrait(system, trajectories={"run": run})
    ax = plotting.phase_portrait(system, trajectories={"run": physical_run(run, opt)})
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "run")
    ref = hb.integrate(system, [1.5], method=p.method, step=p.step, n_steps=30)
    np.testing.assert_allclose(line.get_ydata(), ref.v[:, 0], rtol=0, atol=1e-12)
    assert line.get_ydata()[1] < 0  # moving towards x* = 0 from x = 1.5; the raw buffer is positive


# ------------------------------------------------------------------ item 10: convergence, negative losses
def _negative_runs():
    """``L = x^2/2 - 1``: the loss crosses zero on the way to ``L* = -1``."""
    q = hb.Quadratic.diagonal([1.0], c=-1.0)
    return q, hb.optimize(q, hb.SGD(0.1, 0.5), [2.0], n_steps=60)


def test_convergence_with_negative_loss_and_known_minimum_plots_l_minus_lstar():
    q, run = _negative_runs()
    assert run.loss.min() < 0 < run.loss[0]
    assert q.min_value == -1.0
    ax = plotting.convergence([run], problem=q)
    y = ax.get_lines()[0].get_ydata()
    np.testing.assert_array_equal(y, plotting.convergence([run], min_value=-1.0).get_lines()[0].get_ydata())
    np.testing.assert_array_equal(np.isfinite(y), run.loss + 1.0 > 0)
    np.testing.assert_allclose(y[np.isfinite(y)], (run.loss + 1.0)[run.loss + 1.0 > 0], rtol=1e-15)
    assert np.isfinite(y).sum() >= 40  # the points with L < 0 are drawn


def test_convergence_with_negative_loss_and_unknown_minimum_shifts_and_says_so():
    q, run = _negative_runs()
    ax = plotting.convergence([run])
    y = ax.get_lines()[0].get_ydata()
    expected = run.loss - run.loss.min()
    np.testing.assert_allclose(y[expected > 0], expected[expected > 0], rtol=1e-15)
    assert "min L" in ax.get_ylabel()
    positive = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.SGD(0.1, 0.5), [2.0], n_steps=10)
    assert plotting.convergence([positive]).get_ylabel() == "$L(x_k)$"  # positive loss: drawn as it is


def test_convergence_refuses_loss_below_the_given_minimum():
    q, run = _negative_runs()
    with pytest.raises(ValueError, match="below the minimum value"):
        plotting.convergence([run], min_value=0.0)
