import numpy as np
import pytest

import heavyball as hb


def test_damped_oscillator_matches_its_closed_form():
    lam, m, gamma = 4.0, 1.0, 0.6
    system = hb.DampedParticle(hb.Quadratic.diagonal([lam]), m, gamma)
    t = np.linspace(0, 10, 41)
    ref = hb.solve_reference(system, [1.0], [0.0], t_span=(0.0, 10.0), t_eval=t)
    a = gamma / (2 * m)
    w = np.sqrt(lam / m - a * a)
    exact = np.exp(-a * t) * (np.cos(w * t) + (a / w) * np.sin(w * t))
    np.testing.assert_allclose(ref.x[:, 0], exact, atol=1e-9)
    assert ref.status == 0 and ref.step is None and ref.nfev > 0 and ref.method == "DOP853"


def test_gradient_flow_matches_exponential_decay():
    system = hb.DampedParticle(hb.Quadratic.diagonal([1.0, 3.0]), 0.0, 2.0)
    ref = hb.solve_reference(system, [1.0, 1.0], t_span=(0, 4), t_eval=[4.0])
    np.testing.assert_allclose(ref.x[-1], np.exp(-np.array([1.0, 3.0]) * 4.0 / 2.0), rtol=1e-8)
    assert ref.v is None


def test_escape_is_reported_as_divergence():
    # negative curvature direction of the saddle without the quartic wall: unbounded
    up = hb.CustomProblem(1, lambda x: -float(x[0] ** 2), lambda x: -2.0 * x)
    system = hb.DampedParticle(up, 1.0, 0.0)
    ref = hb.solve_reference(system, [1.0], t_span=(0.0, 200.0))
    assert ref.status == -1 and "diverged" in ref.message
    assert np.all(np.isfinite(ref.x))


def test_bad_span_and_method():
    system = hb.DampedParticle(hb.Rosenbrock(), 1.0, 1.0)
    with pytest.raises(ValueError, match="t_span"):
        hb.solve_reference(system, [0.0, 0.0], t_span=(1.0, 0.0))
    with pytest.raises(ValueError, match="'DOP853'"):
        hb.solve_reference(system, [0.0, 0.0], t_span=(0.0, 1.0), method="euler")
    with pytest.raises(ValueError, match="t_eval"):
        hb.solve_reference(system, [0.0, 0.0], t_span=(0.0, 1.0), t_eval=[2.0])
