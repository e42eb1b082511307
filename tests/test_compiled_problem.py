"""User problems written with Numba: the kernels against the built-in twin and the NumPy path.

``(x^2 - 1)^2 + 5 y^2`` is ``DoubleWell(tilt=0, stiffness=10)``, and the user
functions below repeat its formulas operation by operation (the built-in's
``barrier * q^2 + tilt x`` with barrier 1 and tilt 0 differs only in the sign
of a zero, and ``0.5 * stiffness`` is exactly 5): so every comparison is bit
for bit. The same holds against the problem's own NumPy path, which calls
the same compiled functions from Python. The 3-D user quadratic repeats the
diagonal quadratic's loops (the n-D paths of the kernels).

The user functions are compiled once, at module level, and shared by all tests.
"""

import numba
import numpy as np
import pytest

import heavyball as hb
from heavyball import _compiled, _fast
from heavyball import _compiled as _kinds
from tests.test_kernels import _numpy_integrate, _numpy_optimize, assert_same


@numba.njit
def well_value(x):
    q = x[0] * x[0] - 1.0
    return q * q + 5.0 * (x[1] * x[1])


@numba.njit
def well_grad(x, out):
    x0 = x[0]
    out[0] = 4.0 * x0 * (x0 * x0 - 1.0)
    out[1] = 10.0 * x[1]


LAM = np.array([1.0, 4.0, 30.0])


@numba.njit
def quad_value(x):
    acc = 0.0
    for i in range(3):
        acc += LAM[i] * x[i] * x[i]
    return 0.5 * acc + 0.0


@numba.njit
def quad_grad(x, out):
    for i in range(3):
        out[i] = LAM[i] * x[i]


@pytest.fixture(scope="module")
def well():
    return hb.CustomProblem(2, well_value, well_grad, name="user well")


@pytest.fixture(scope="module")
def quad():
    return hb.CustomProblem(3, quad_value, quad_grad, minimizer=np.zeros(3), name="user quadratic")


BUILTIN_WELL = hb.DoubleWell(tilt=0.0, stiffness=10.0)
BUILTIN_QUAD = hb.Quadratic.diagonal(LAM)


def test_numba_functions_give_a_compiled_form(well):
    cp = well.compiled()
    assert cp.kind == _kinds.USER_FUNCTIONS and cp.dim == 2
    assert cp.value_fn is well_value and cp.grad_fn is well_grad
    x = np.array([0.3, -0.7])
    assert cp.value(x) == well.value(x) == BUILTIN_WELL.value(x)
    np.testing.assert_array_equal(cp.grad(x), BUILTIN_WELL.grad(x))
    np.testing.assert_array_equal(well.grad(np.array([x, 2 * x])), BUILTIN_WELL.grad(np.array([x, 2 * x])))
    # Python functions, or only one compiled function: the NumPy path
    assert hb.CustomProblem(2, well_value, lambda x: np.zeros(2)).compiled() is None
    assert hb.CustomProblem(2, lambda x: 0.0, lambda x: np.zeros(2)).compiled() is None


@pytest.mark.parametrize("method", list(hb.METHODS))
def test_integrate_equals_the_builtin_and_the_numpy_path(well, method):
    kw = dict(method=method, step=0.01, n_steps=300, record_every=7)
    x0, v0 = [0.4, 0.3], [0.1, -0.2]
    fast = hb.integrate(hb.DampedParticle(well, 1.5, 0.8), x0, v0, **kw)
    assert fast.status == 0
    assert_same(fast, hb.integrate(hb.DampedParticle(BUILTIN_WELL, 1.5, 0.8), x0, v0, **kw), exact=True)
    assert_same(fast, _numpy_integrate(hb.DampedParticle(well, 1.5, 0.8), x0, v0, **kw), exact=True)


@pytest.mark.parametrize("method", ["symplectic_euler", "nesterov", "explicit_euler"])
def test_integrate_in_three_dimensions(quad, method):
    kw = dict(method=method, step=0.02, n_steps=200, tol=1e-6)
    system = hb.DampedParticle(quad, 1.0, 2.0)
    fast = hb.integrate(system, [1.0, -0.5, 0.2], **kw)
    assert_same(fast, hb.integrate(hb.DampedParticle(BUILTIN_QUAD, 1.0, 2.0), [1.0, -0.5, 0.2], **kw), exact=True)
    assert_same(fast, _numpy_integrate(system, [1.0, -0.5, 0.2], **kw), exact=True)


def test_integrate_divergence_and_gradient_flow(well):
    for mass, friction, step in ((1.0, 0.0, 0.5), (0.0, 1.0, 0.01)):
        kw = dict(method="explicit_euler", step=step, n_steps=400, record_every=3)
        fast = hb.integrate(hb.DampedParticle(well, mass, friction), [1.5, 1.0], **kw)
        ref = hb.integrate(hb.DampedParticle(BUILTIN_WELL, mass, friction), [1.5, 1.0], **kw)
        assert_same(fast, ref, exact=True)
    assert fast.status == 0 and ref.status == 0
    diverged = hb.integrate(hb.DampedParticle(well, 1.0, 0.0), [1.5, 1.0], method="explicit_euler", step=0.5,
                            n_steps=400)
    assert diverged.status == -1


@pytest.mark.parametrize("method", list(hb.integrators.METHODS))
def test_diverging_2d_runs_off_the_recording_grid_equal_the_builtin_and_numpy(well, method):
    # the state before a diverging step, off the grid, is recorded after the loop; its loss is the
    # one evaluated with its gradient (a built-in) or the user's value called there (a user problem)
    diverged = 0
    for every in (1, 3, 7):
        for friction, step in ((0.0, 0.5), (0.1, 0.9), (0.3, 0.05)):
            kw = dict(method=method, step=step, n_steps=200, record_every=every)
            fast = hb.integrate(hb.DampedParticle(well, 1.0, friction), [1.5, 1.0], **kw)
            assert_same(fast, hb.integrate(hb.DampedParticle(BUILTIN_WELL, 1.0, friction), [1.5, 1.0], **kw),
                        exact=True)
            assert_same(fast, _numpy_integrate(hb.DampedParticle(BUILTIN_WELL, 1.0, friction), [1.5, 1.0], **kw),
                        exact=True)
            diverged += fast.status == -1 and every > 1
    assert diverged >= 2


OPTIONS = [
    (hb.SGD(2e-3, momentum=0.9), {}),
    (hb.SGD(2e-3, momentum=0.8, dampening=0.3, weight_decay=0.05, nesterov=False), dict(restart_every=17)),
    (hb.SGD(2e-3, momentum=0.9, nesterov=True), dict(grad_noise=0.3, seed=5)),
    (hb.KerasSGD(2e-3, momentum=0.9), dict(lr_schedule=lambda k: 2e-3 / (1.0 + k / 50.0))),
    (hb.EMAMomentum(2e-2, beta=0.9), dict(tol=1e-3)),
    (hb.GD(0.2), {}),  # diverges
]


@pytest.mark.parametrize("case", range(len(OPTIONS)))
def test_optimize_equals_the_builtin_and_the_numpy_path(well, case):
    optimizer, kw = OPTIONS[case]
    assert _fast.optimize_supported(well, optimizer) is not None
    fast = hb.optimize(well, optimizer, [0.4, 0.3], n_steps=300, **kw)
    assert_same(fast, hb.optimize(BUILTIN_WELL, optimizer, [0.4, 0.3], n_steps=300, **kw), exact=True)
    assert_same(fast, _numpy_optimize(well, optimizer, [0.4, 0.3], n_steps=300, **kw), exact=True)


def _same_sweep(a, b):
    for name in ("rate", "steps_to_tol", "diverged", "final_loss"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


SWEEP = dict(lrs=np.linspace(0.005, 0.4, 20), momenta=np.linspace(0.0, 0.95, 4), n_steps=150)


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov", "gd"])
def test_sweep_equals_the_builtin_and_the_numpy_backend(well, method):
    kw = dict(SWEEP, x0=[0.5, 0.5], method=method)
    fast = hb.sweep(well, **kw)
    assert fast.backend == "numba" and fast.diverged.any() and not fast.diverged.all()
    _same_sweep(fast, hb.sweep(BUILTIN_WELL, **kw))
    _same_sweep(fast, hb.sweep(well, backend="numpy", **kw))


def test_sweep_in_three_dimensions(quad):
    kw = dict(SWEEP, x0=[1.0, -0.5, 0.2])
    fast = hb.sweep(quad, **kw)
    assert fast.distance == "x - x*"
    _same_sweep(fast, hb.sweep(BUILTIN_QUAD, **kw))
    _same_sweep(fast, hb.sweep(quad, backend="numpy", **kw))


def test_sweep_rate_before_the_float_floor_equals_the_builtin(quad):
    # 3000 steps: most points reach the floor, where the rate is re-measured
    # (the user problem's re-run takes its NumPy path, the built-in's the kernel)
    kw = dict(lrs=np.linspace(0.03, 0.06, 6), momenta=np.linspace(0.5, 0.8, 3), n_steps=8000, x0=[1.0, -0.5, 0.2])
    fast = hb.sweep(quad, **kw)
    builtin = hb.sweep(BUILTIN_QUAD, **kw)
    assert (fast.final_loss == 0).all()  # every point ended at the floor
    assert ((fast.rate > 0.75) & (fast.rate < 0.95)).all()
    _same_sweep(fast, builtin)


@pytest.mark.slow
def test_the_specialised_sweep_equals_the_pointer_sweep(well, monkeypatch):
    # big sweeps run in kernels compiled with the user's functions inlined: same numbers
    kw = dict(SWEEP, x0=[0.5, 0.5])
    pointer = hb.sweep(well, **kw)
    monkeypatch.setattr(_compiled, "SPECIALISE_SWEEP_WORK", 0)
    _same_sweep(hb.sweep(well, **kw), pointer)
    assert (well_value, well_grad, 2) in _compiled._SPECIALISED


# ---------------------------------------------------------------- errors


@numba.njit
def returns_gradient(x):
    return 2.0 * x


@numba.njit
def returns_array(x):
    return x * x


@numba.njit
def returns_out(x, out):
    out[0] = x[0]
    out[1] = x[1]
    return out


@numba.njit
def leaves_out(x, out):
    out[0] = x[0]


@numba.njit
def does_not_compile(x, out):
    out[0] = x.no_such_attribute


@numba.njit
def raises_at_start(x, out):
    raise ValueError("no gradient here")


@numba.njit
def raises_far_out(x, out):
    if abs(x[0]) > 2.0:
        raise ZeroDivisionError("left the box")
    out[0] = 2.0 * x[0]
    out[1] = 2.0 * x[1]


@numba.njit
def square(x):
    return x[0] * x[0] + x[1] * x[1]


BAD = [
    (square, returns_gradient, r"`grad` failed at x = \[1.0, 1.0\]: TypeError"),
    (returns_array, well_grad, "`value` must return a float, got ndarray"),
    (square, returns_out, "`grad` must return None"),
    (square, leaves_out, r"left out\[1\] unset"),
    (square, does_not_compile, "`grad` failed at x = .*TypingError"),
    (square, raises_at_start, "`grad` failed at x = .*no gradient here"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_compiled_functions_get_a_clear_error(case):
    value, grad, match = BAD[case]
    problem = hb.CustomProblem(2, value, grad)
    for run in (lambda: hb.integrate(hb.DampedParticle(problem, 1.0, 1.0), [1.0, 1.0], method="nesterov",
                                     step=0.1, n_steps=5),
                lambda: hb.optimize(problem, hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=5),
                lambda: hb.sweep(problem, [0.1], [0.5], x0=[1.0, 1.0], n_steps=5)):
        with pytest.raises(ValueError, match=match) as info:
            run()
        assert "grad(x, out) -> None" in str(info.value)


def test_an_exception_inside_a_kernel_is_raised():
    problem = hb.CustomProblem(2, square, raises_far_out)
    runs = {
        "integrate": lambda: hb.integrate(hb.DampedParticle(problem, 1.0, 0.0), [1.0, 0.0],
                                          method="symplectic_euler", step=1.9, n_steps=100),
        "optimize": lambda: hb.optimize(problem, hb.SGD(1.2), [1.0, 0.0], n_steps=100),
        "sweep": lambda: hb.sweep(problem, np.linspace(0.1, 1.5, 40), [0.0, 0.5], x0=[1.0, 1.0], n_steps=50),
    }
    for name, run in runs.items():
        with pytest.raises(ValueError, match="raised inside a heavyball kernel: ZeroDivisionError: left the box"):
            run()


def test_an_exception_inside_the_specialised_sweep_is_raised(monkeypatch):
    # the specialised kernel calls the user's function directly, on the sweep's threads: the
    # exception comes back through the thread that ran it and becomes the same ValueError
    monkeypatch.setattr(_compiled, "SPECIALISE_SWEEP_WORK", 0)
    problem = hb.CustomProblem(2, square, raises_far_out)
    with pytest.raises(ValueError, match="raised inside a heavyball kernel: ZeroDivisionError: left the box"):
        hb.sweep(problem, np.linspace(0.1, 1.5, 40), [0.0, 0.5], x0=[1.0, 1.0], n_steps=50)


def test_an_unknown_kind_raises_instead_of_diverging():
    class Stranger(hb.problems.Problem):
        name, dim = "stranger", 2

        def _value(self, x):
            return np.sum(x * x, axis=-1)

        def _grad(self, x):
            return 2.0 * x

        def compiled(self):
            return _kinds.CompiledProblem(99, 2, _kinds.EMPTY, _kinds.EMPTY, _kinds.EMPTY)

    with pytest.raises(ValueError, match="kind 99 is unknown"):
        _kinds.make(99, 2)
    problem = Stranger()
    with pytest.raises(ValueError, match="kind 99 is unknown"):
        hb.integrate(hb.DampedParticle(problem, 1.0, 1.0), [1.0, 1.0], method="nesterov", step=0.1, n_steps=5)
    with pytest.raises(ValueError, match="kind 99 is unknown"):
        hb.optimize(problem, hb.SGD(0.1), [1.0, 1.0], n_steps=5)
    with pytest.raises(ValueError, match="kind 99 is unknown"):
        hb.sweep(problem, [0.1], [0.5], x0=[1.0, 1.0], n_steps=5)
    with pytest.raises(ValueError, match="kind 99 is unknown"):
        problem.compiled().value([1.0, 1.0])


_CALLS = {"value": 0, "grad": 0}


def _bump(name):
    _CALLS[name] += 1


@numba.njit
def _counted_value(x):
    with numba.objmode():
        _bump("value")
    return 0.5 * (x[0] * x[0] + 4.0 * x[1] * x[1])


@numba.njit
def _counted_grad(x, out):
    with numba.objmode():
        _bump("grad")
    out[0] = x[0]
    out[1] = 4.0 * x[1]


@pytest.mark.parametrize("method", ["symplectic_euler", "nesterov"])
def test_a_2d_user_problem_is_called_once_per_step_and_per_record(method):
    # the 2-D loop evaluates a state's loss with its gradient: the user's grad once per step (none for
    # the final state), its value once per recorded state (plus one call of each to validate them)
    problem = hb.CustomProblem(2, _counted_value, _counted_grad)
    _CALLS.update(value=0, grad=0)
    kw = dict(method=method, step=0.1, n_steps=50, record_every=7)
    fast = hb.integrate(hb.DampedParticle(problem, 1.0, 1.0), [1.0, 1.0], **kw)
    assert _CALLS == {"value": 1 + len(fast.t), "grad": 1 + 50} and len(fast.t) == 9
    assert_same(fast, hb.integrate(hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0]), 1.0, 1.0), [1.0, 1.0],
                                   **kw), exact=True)
