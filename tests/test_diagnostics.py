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
