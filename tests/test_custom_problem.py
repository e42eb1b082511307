"""CustomProblem: vectorised user functions, checked results, and no hang in solve_reference (issues 12, 17)."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import heavyball as hb

FIELDS = ("final_loss", "steps_to_tol", "rate", "diverged")
LRS, MOMS = np.linspace(0.01, 0.5, 8), np.linspace(0.0, 0.95, 8)
X0 = [0.5, 1.0]


# L(x, y) = (x^2 - 1)^2 + 5 y^2, written as DoubleWell writes it: barrier (x^2 - 1)^2 + tilt x
# + stiffness y^2 / 2 with barrier = 1, tilt = 0, stiffness = 10, i.e. gradient
# (4 barrier x (x^2 - 1) + tilt, stiffness y). Multiplying by 1.0, adding 0.0 * x and 0.5 * 10 = 5.0
# are exact, so with the operations in this order every number is the same, bit for bit.
# Squares are written as products: on arrays ``x ** 2`` is NumPy's exact ``square``, but the
# point-by-point problem sees NumPy scalars (``x[0]`` of a row), whose ``** 2`` goes through
# the C library's ``pow`` and can differ from ``x * x`` in the last bit.
def well_value(x):
    x0, x1 = x[..., 0], x[..., 1]
    q = x0 * x0 - 1.0
    return q * q + 5.0 * (x1 * x1)


def well_grad(x):
    g = np.empty_like(x)
    x0 = x[..., 0]
    g[..., 0] = 4.0 * x0 * (x0 * x0 - 1.0)
    g[..., 1] = 10.0 * x[..., 1]
    return g


BUILTIN = hb.DoubleWell(tilt=0.0, stiffness=10.0)


def counted(fn):
    def wrapper(x):
        wrapper.calls += 1
        wrapper.points += int(np.prod(np.shape(x)[:-1]))
        return fn(x)

    wrapper.calls = wrapper.points = 0
    return wrapper


def well(vectorized=True, grad=well_grad, value=well_value, **kw):
    return hb.CustomProblem(2, value, grad, vectorized=vectorized, **kw)


def assert_same_sweep(a, b):
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# --------------------------------------------------------------------------- same numbers as the built-in
def test_builtin_formula_is_the_custom_loss():
    pts = np.random.default_rng(3).normal(size=(50, 2)) * 3
    np.testing.assert_array_equal(BUILTIN.value(pts), well_value(pts))
    np.testing.assert_array_equal(BUILTIN.grad(pts), well_grad(pts))


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_vectorized_sweep_equals_builtin_bit_for_bit(method):
    """Both backends of the built-in, the vectorised and the point-by-point custom problem agree exactly.

    Same formula, same operation order (see well_grad), and the engines apply the same
    elementwise operations per grid point, so bit for bit (not merely to 1e-12).
    """
    vec = well()
    kw = dict(x0=X0, n_steps=120, method=method)
    ref = hb.sweep(BUILTIN, LRS, MOMS, backend="numpy", **kw)
    assert ref.diverged.any() and (ref.steps_to_tol >= 0).any()  # the grid has both kinds of point
    assert_same_sweep(hb.sweep(vec, LRS, MOMS, backend="numpy", **kw), ref)
    assert_same_sweep(hb.sweep(BUILTIN, LRS, MOMS, backend="numba", **kw), ref)
    fallback = hb.sweep(vec, LRS, MOMS, backend="numba", **kw)  # a Python problem: the NumPy engine
    assert fallback.backend == "numpy"
    assert_same_sweep(fallback, ref)
    assert_same_sweep(hb.sweep(well(vectorized=False), LRS[:3], MOMS[:3], backend="numpy", **kw),
                      hb.sweep(BUILTIN, LRS[:3], MOMS[:3], backend="numpy", **kw))


def test_integrate_and_optimize_equal_builtin():
    """The custom problem runs the NumPy loops, the built-in the compiled kernels: bit for bit
    (the kernels' twin tests hold them to the loops' operation order)."""
    vec, loop = well(), well(vectorized=False)
    for method in ("symplectic_euler", "nesterov", "explicit_euler"):
        runs = [hb.integrate(hb.DampedParticle(p, 1.0, 0.7), X0, method=method, step=0.1, n_steps=300)
                for p in (BUILTIN, vec, loop)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other.x, runs[0].x)
            np.testing.assert_array_equal(other.v, runs[0].v)
            np.testing.assert_array_equal(other.loss, runs[0].loss)
    for opt in (hb.SGD(0.05, momentum=0.9), hb.SGD(0.05, momentum=0.9, nesterov=True), hb.KerasSGD(0.05, 0.5)):
        runs = [hb.optimize(p, opt, X0, n_steps=300) for p in (BUILTIN, vec, loop)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other.x, runs[0].x)
            np.testing.assert_array_equal(other.loss, runs[0].loss)


def test_solve_reference_equals_builtin():
    runs = [hb.solve_reference(hb.DampedParticle(p, 1.0, 0.7), X0, t_span=(0.0, 3.0), t_eval=[1.0, 3.0])
            for p in (BUILTIN, well(), well(vectorized=False))]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.x, runs[0].x)


# --------------------------------------------------------------------------- one call per step
def test_vectorized_sweep_calls_grad_once_per_step():
    grad = counted(well_grad)
    n = 50
    res = hb.sweep(well(grad=grad), LRS, MOMS, x0=X0, n_steps=n, backend="numpy")
    # n + 1 steps of one chunk, plus |grad L(x0)| (no minimiser) and the final summary
    assert grad.calls <= n + 3
    assert res.diverged.any()
    assert grad.points < 64 * (n + 3)  # diverged points are dropped from the calls


def test_point_by_point_problem_loops_and_batches_agree():
    value, grad = counted(lambda x: float(x @ x)), counted(lambda x: 2.0 * x)
    p = hb.CustomProblem(2, value, grad)
    x = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(p.value(x), np.sum(x * x, axis=-1))
    np.testing.assert_array_equal(p.grad(x), 2 * x)
    assert (value.calls, grad.calls) == (6, 6)
    vec = hb.CustomProblem(2, counted(lambda x: np.sum(x * x, axis=-1)), counted(lambda x: 2.0 * x),
                           vectorized=True)
    np.testing.assert_array_equal(vec.value(x), p.value(x))
    np.testing.assert_array_equal(vec.grad(x), p.grad(x))
    assert vec._f.calls == vec._g.calls == 1


def test_accepted_outputs_are_converted():
    """Lists, tuples, ints, float32 and size-preserving length-1 axes are what np.asarray makes of them."""
    p = hb.CustomProblem(2, lambda x: [float(x @ x)], lambda x: [2 * x[0], 2 * x[1]])
    assert p.value([1.0, 2.0]) == 5.0 and p.value([1.0, 2.0]).shape == ()
    np.testing.assert_array_equal(p.grad(np.ones((3, 2))), 2 * np.ones((3, 2)))
    q = hb.CustomProblem(2, lambda x: np.float32(1.5), lambda x: np.array([1, 2]))
    assert q.grad([0.0, 0.0]).dtype == np.float64 and q.value([0.0, 0.0]) == 1.5
    line = hb.CustomProblem(1, lambda x: x[..., 0] ** 2, lambda x: 2 * x[..., 0], vectorized=True)
    np.testing.assert_array_equal(line.grad(np.ones((4, 1))), 2 * np.ones((4, 1)))  # (4,) -> (4, 1)
    run = hb.optimize(line, hb.SGD(0.1), [1.0], n_steps=5)
    assert run.status == 0 and run.x.shape == (6, 1)


# --------------------------------------------------------------------------- bad user functions
ENTRY_POINTS = ("grad", "integrate", "optimize", "sweep_numpy", "sweep_numba", "reference")


def run_everywhere(problem, where, x0=(0.5, 1.0)):
    x0 = list(x0)[:problem.dim]
    if where == "grad":
        return problem.grad(np.asarray(x0))
    if where == "integrate":
        return hb.integrate(hb.DampedParticle(problem, 1.0, 1.0), x0, method="symplectic_euler", step=0.1,
                            n_steps=3)
    if where == "optimize":
        return hb.optimize(problem, hb.SGD(0.1, momentum=0.5), x0, n_steps=3)
    if where.startswith("sweep"):
        return hb.sweep(problem, [0.1, 0.2], [0.0, 0.5], x0=x0, n_steps=3, backend=where[6:])
    return hb.solve_reference(hb.DampedParticle(problem, 1.0, 1.0), x0, t_span=(0.0, 1.0))


def compatible(shape, want):
    """What the checks accept: the same numbers up to axes of length one."""
    squeeze = lambda s: tuple(n for n in s if n != 1)  # noqa: E731
    return int(np.prod(shape)) == int(np.prod(want)) and squeeze(shape) == squeeze(want)


@settings(max_examples=25, deadline=None)
@given(dim=st.integers(1, 3), shape=st.lists(st.integers(0, 4), max_size=3).map(tuple),
       vectorized=st.booleans(), where=st.sampled_from(ENTRY_POINTS))
def test_wrong_gradient_shape_is_a_clear_error(dim, shape, vectorized, where):
    batch = vectorized and where.startswith("sweep")
    want = (4, dim) if batch else (dim,)  # the sweep calls with its 2 x 2 grid at once
    if compatible(shape, want):
        shape = shape + (2,)
    problem = hb.CustomProblem(dim, lambda x: np.sum(x * x, axis=-1), lambda x: np.ones(shape),
                               vectorized=vectorized)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as err:
            run_everywhere(problem, where, x0=[0.5, 1.0, -1.0])
    text = str(err.value)
    assert "`grad` of problem 'custom'" in text, text
    assert f"returned shape {shape}" in text and "must return an array of shape (" in text, text


@pytest.mark.parametrize("where", ENTRY_POINTS)
@pytest.mark.parametrize("case, grad, expect", [
    ("scalar", lambda x: 2.0, r"returned shape \(\) for x of shape \(2,\); it must return an array of shape \(2,\)"),
    ("(1,)", lambda x: np.ones(1), r"returned shape \(1,\).*must return an array of shape \(2,\).*not broadcast"),
    ("None", lambda x: None, r"returned None.*must return an array of shape \(2,\)"),
    ("ragged", lambda x: [1.0, [2.0, 3.0]], r"returned a list that is not an array of numbers"),
    ("complex", lambda x: x + 1j, r"returned complex numbers.*must return real numbers"),
    ("string", lambda x: "0.1", r"returned strings.*must return real numbers"),
    ("booleans", lambda x: x > 0, r"returned booleans"),
    ("NaN", lambda x: np.full(2, np.nan), r"returned NaN at x = \[.*\], a finite point inside"),
])
def test_bad_gradients_are_clear_errors(where, case, grad, expect):
    problem = hb.CustomProblem(2, lambda x: float(x @ x), grad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"`grad` of problem 'custom' " + expect):
            run_everywhere(problem, where)


def test_bad_values_and_hessians_are_clear_errors():
    matrix_value = hb.CustomProblem(2, lambda x: x @ x.T, well_grad, vectorized=True, name="mine")
    with pytest.raises(ValueError, match=r"`value` of problem 'mine' returned shape \(4, 4\) for x of shape "
                                         r"\(4, 2\).*vectorized=True.*one result per point"):
        hb.sweep(matrix_value, [0.1, 0.2], [0.0, 0.5], x0=X0, n_steps=3, backend="numpy")
    with pytest.raises(ValueError, match=r"`value` of problem 'custom' returned None"):
        hb.integrate(hb.DampedParticle(hb.CustomProblem(2, lambda x: None, well_grad), 1.0, 1.0), X0,
                     method="symplectic_euler", step=0.1, n_steps=3)
    odd = hb.CustomProblem(2, well_value, well_grad, hessian=lambda x: np.eye(3))
    with pytest.raises(ValueError, match=r"`hessian` of problem 'custom' returned shape \(3, 3\).*\(2, 2\)"):
        hb.solve_reference(hb.DampedParticle(odd, 1.0, 1.0, hessian_damping=0.5), X0, t_span=(0.0, 1.0))


@pytest.mark.parametrize("where", ENTRY_POINTS)
def test_a_function_that_raises_is_named_and_chained(where):
    def grad(x):
        raise ZeroDivisionError("my bug")

    expect = r"`grad` of problem 'quirky' raised ZeroDivisionError at x = .*: my bug"
    with pytest.raises(ValueError, match=expect) as err:
        run_everywhere(hb.CustomProblem(2, well_value, grad, name="quirky"), where)
    assert isinstance(err.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, MemoryError])
def test_interrupts_and_memory_errors_pass_through(exc):
    def grad(x):
        raise exc()

    with pytest.raises(exc):
        hb.optimize(hb.CustomProblem(2, well_value, grad), hb.SGD(0.1), X0, n_steps=3)


def test_none_gradient_is_not_divergence():
    with pytest.raises(ValueError, match="returned None"):
        hb.optimize(hb.CustomProblem(1, lambda x: 0.0, lambda x: None), hb.SGD(0.1), [1.0], n_steps=5)


def test_overflow_to_inf_is_divergence_not_an_error():
    """An inf at a huge but finite point is an overflow: status -1 / diverged, no error, no warning."""
    # grad x^9 (value a stand-in that stays finite, so only the gradient overflows)
    tenth = hb.CustomProblem(1, lambda x: np.abs(x[..., 0]), lambda x: x ** 9, vectorized=True)
    with np.errstate(over="ignore"):
        assert np.isinf(tenth.grad([1e40])[0])  # 1e360, at a point inside the bound 1e50: no error
    with warnings.catch_warnings():  # the runs silence the overflow warnings of the user's NumPy code
        warnings.simplefilter("error")
        run = hb.optimize(tenth, hb.SGD(0.1), [1e40], n_steps=5)
        assert run.status == -1 and "diverged at step 1" in run.message
        traj = hb.integrate(hb.DampedParticle(tenth, 1.0, 1.0), [1e40], method="symplectic_euler", step=0.1,
                            n_steps=5)
        assert traj.status == -1
        res = hb.sweep(tenth, [0.1, 1e-90], [0.0], x0=[1e4], n_steps=5, backend="numpy")
        assert res.diverged.tolist() == [[True, False]]
        ref = hb.solve_reference(hb.DampedParticle(tenth, 1.0, 1.0), [1e40], t_span=(0.0, 1.0))
        assert ref.status == -1 and "right-hand side is not finite" in ref.message


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="`vectorized` must be True or False, got 'yes'"):
        hb.CustomProblem(2, well_value, well_grad, vectorized="yes")
    with pytest.raises(ValueError, match="`grad` must be a callable, got ndarray"):
        hb.CustomProblem(2, well_value, np.zeros(2))
    with pytest.raises(ValueError, match="`hessian` must be a callable"):
        hb.CustomProblem(2, well_value, well_grad, hessian=np.eye(2))
    assert repr(well()) == "CustomProblem(dim=2, name='custom', vectorized=True)"


# --------------------------------------------------------------------------- solve_reference never hangs
REPRODUCERS = textwrap.dedent("""
    import numpy as np, heavyball as hb

    class Duck:  # not a CustomProblem: no checks of its own
        dim = 2
        def value(self, x):
            return np.sum(np.asarray(x) ** 2, axis=-1)
        def grad(self, x):
            return np.full(np.shape(x), np.nan)

    nan_grad = hb.CustomProblem(2, lambda x: x @ x, lambda x: np.full(2, np.nan))
    try:
        hb.solve_reference(hb.DampedParticle(nan_grad, 1, 1), [1, 1], t_span=(0, 1))
    except ValueError as err:
        print("nan:", err)
    for method in ("DOP853", "LSODA"):
        for problem in (nan_grad, hb.CustomProblem(2, lambda x: x @ x, lambda x: 2 * x)):
            r = hb.solve_reference(hb.DampedParticle(problem, 1, 1), [1e307, 1e307], t_span=(0, 1), method=method)
            print("huge:", r.status, len(r.t), r.message)
        r = hb.solve_reference(hb.DampedParticle(Duck(), 1, 1), [1, 1], t_span=(0, 1), method=method)
        print("duck:", r.status, len(r.t), r.message)
""")


def test_solve_reference_reproducers_finish():
    """Issue 17 item 1: each reproducer hung (or grew memory) before; now all end within seconds."""
    out = subprocess.run([sys.executable, "-c", REPRODUCERS], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("nan: `grad` of problem 'custom' returned NaN at x = [1., 1.]")
    huge = [line for line in lines if line.startswith("huge:")]
    assert len(huge) == 4 and all(line.startswith("huge: -1 1 diverged at t = 0: the initial state is beyond")
                                  for line in huge), huge
    duck = [line for line in lines if line.startswith("duck:")]
    assert len(duck) == 2 and all(line == "duck: -1 1 diverged at t = 0: the right-hand side is not finite "
                                          "(dv[0]/dt = nan at v[0] = 0.0)" for line in duck), duck


def test_non_finite_rhs_mid_run_keeps_the_accepted_steps():
    class Cliff:  # finite gradient until x passes 2, NaN beyond: the run stops there with its history
        dim = 1

        def value(self, x):
            return -np.asarray(x)[..., 0]

        def grad(self, x):
            x = np.asarray(x)
            return np.where(x < 2.0, -1.0, np.nan)

    ref = hb.solve_reference(hb.DampedParticle(Cliff(), 1.0, 0.0), [0.0], t_span=(0.0, 10.0), t_eval=[0.0, 10.0])
    assert ref.status == -1 and "right-hand side is not finite" in ref.message and "x[0]" not in ref.message
    assert len(ref.t) > 2 and np.all(np.diff(ref.t) > 0)  # the solver's accepted steps, not t_eval
    np.testing.assert_allclose(ref.x[:, 0], ref.t**2 / 2, rtol=1e-9, atol=1e-12)  # x'' = 1 from rest
    assert ref.x[-1, 0] < 2.0 and np.all(np.isfinite(ref.loss))
