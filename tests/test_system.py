import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import heavyball as hb


def test_rhs_is_newtons_law():
    p = hb.Rosenbrock()
    system = hb.DampedParticle(p, mass=2.0, friction=0.5)
    x, v = np.array([0.3, -0.2]), np.array([1.0, 2.0])
    dy = system.rhs(0.0, np.concatenate([x, v]))
    np.testing.assert_allclose(dy, np.concatenate([v, (-p.grad(x) - 0.5 * v) / 2.0]))
    flow = hb.DampedParticle(p, mass=0.0, friction=4.0)
    np.testing.assert_allclose(flow.rhs(0.0, x), -p.grad(x) / 4.0)


def test_time_dependent_friction_in_rhs_and_energy():
    system = hb.DampedParticle(hb.Quadratic.diagonal([2.0]), mass=1.0, friction=lambda t: 3.0 / t)
    np.testing.assert_allclose(system.rhs(2.0, [1.0, 1.0]), [1.0, -2.0 - 1.5])
    assert system.energy(np.array([1.0]), np.array([2.0])) == pytest.approx(1.0 + 2.0)
    np.testing.assert_allclose(system.friction_at([1.0, 3.0]), [3.0, 1.0])
    with pytest.raises(ValueError, match="friction"):
        system.friction_at(-1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mass=-1.0), "`mass` must be >= 0"),
        (dict(friction=-0.5), "`friction` must be >= 0"),
        (dict(mass=0.0, friction=0.0), "`friction` must be > 0 when `mass` = 0"),
        (dict(mass=float("nan")), "`mass` must be finite"),
    ],
)
def test_bad_physical_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hb.DampedParticle(hb.Rosenbrock(), **kwargs)


@given(
    friction=st.floats(0.05, 5.0),
    mass=st.floats(0.2, 5.0),
    x0=st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)),
)
def test_energy_never_increases_along_the_reference_when_damped(friction, mass, x0):
    system = hb.DampedParticle(hb.DoubleWell(), mass, friction)
    ref = hb.solve_reference(system, list(x0), [0.3, -0.2], t_span=(0.0, 5.0), t_eval=np.linspace(0, 5, 60))
    energy = system.energy(ref.x, ref.v)
    assert np.all(np.diff(energy) <= 1e-8 * (1 + np.abs(energy[:-1])))
