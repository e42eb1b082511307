"""The compiled kernels against their NumPy twins, the dispatch, and the compile cache.

Tolerances. Problems whose formulas use only ``+ - * /`` (diagonal
quadratics, Rosenbrock, DoubleWell, Lessard) must agree bit for bit: the
kernels repeat NumPy's operations in NumPy's order. Three things round
differently by an ulp or so (see ``heavyball/kernels.py``): ``pow``/``exp``
(NumPy's SIMD versions against libm; Saddle, Plateau), BLAS and ``einsum``
against sequential sums (dense quadratics). Over ``N`` steps of a stable run
such differences add up to at most about ``N`` ulps of the state's scale, so
``RTOL = 1e-12`` for ``N <= 400`` (``400 * 2.2e-16 = 9e-14``, with a 10x margin).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import heavyball as hb
from heavyball import _compiled, _fast, integrators, optimizers
from heavyball import _compiled as _kinds

RTOL = 1e-12

EXACT = {
    "diag2": lambda: hb.Quadratic.diagonal([1.0, 30.0]),
    "diag3_b": lambda: hb.Quadratic.diagonal([1.0, 4.0, 30.0], b=[0.5, -1.0, 2.0], c=0.3),
    "diag5": lambda: hb.Quadratic.from_condition_number(20.0, dim=5),
    "rosenbrock": lambda: hb.Rosenbrock(),
    "double_well": lambda: hb.DoubleWell(barrier=1.0, tilt=0.25, stiffness=2.0),
    "lessard": lambda: hb.LessardCounterexample(),
}
ROUNDED = {
    "dense2": lambda: hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], b=[1.0, -1.0], c=0.5),
    "dense3": lambda: hb.Quadratic([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]]),
    "saddle": lambda: hb.Saddle(),
    "plateau2": lambda: hb.Plateau(width=1.0, depth=2.0),
    "plateau4": lambda: hb.Plateau(width=1.5, depth=1.0, dim=4),
}
PROBLEMS = {**EXACT, **ROUNDED}
SCHEMES = list(hb.METHODS)


def _start(problem):
    x0 = {"lessard": [3.3], "saddle": [0.6, 0.7], "rosenbrock": [-1.0, 1.2]}.get(problem.name)
    return np.array(x0 if x0 is not None else np.linspace(-0.8, 0.9, problem.dim))


def _numpy_integrate(system, x0, v0=None, *, method, step, n_steps, t0=0.0, tol=None, record_every=1):
    """``integrate`` forced onto its NumPy loop (the twin of the kernel)."""
    x, v, h, n, t0, tol, every = integrators._validate(system, x0, v0, method, step, n_steps, t0, tol,
                                                       record_every)
    gammas = integrators._friction_sequence(system, t0, h, n)
    return integrators._run(system, integrators.METHODS[method], method, x, v, h, n, t0, gammas, tol, every)


def _numpy_optimize(problem, optimizer, x0, *, n_steps, lr_schedule=None, momentum_schedule=None,
                    restart_every=None, grad_noise=0.0, seed=None, tol=None, record_every=1):
    """``optimize`` forced onto its NumPy loop."""
    x = np.array(x0, dtype=float)
    lrs = optimizers._schedule_values(lr_schedule, n_steps, "lr_schedule")
    moms = optimizers._schedule_values(momentum_schedule, n_steps, "momentum_schedule")
    noise = optimizers._NoiseStream(grad_noise, problem.dim, seed, n_steps)
    return optimizers._run(problem, optimizer, x, n_steps, lrs, moms, restart_every, noise, tol,
                           record_every, lambda x, k: problem.grad(x))


def assert_same(fast, ref, exact):
    """Same trajectory: bit for bit, or to RTOL of the state's scale."""
    assert (fast.status, fast.message, fast.nfev, fast.method, fast.step) == \
        (ref.status, ref.message, ref.nfev, ref.method, ref.step)
    np.testing.assert_array_equal(fast.t, ref.t)
    assert fast.x.shape == ref.x.shape
    assert (fast.v is None) == (ref.v is None)
    pairs = [(fast.x, ref.x), (fast.loss, ref.loss)] + ([] if ref.v is None else [(fast.v, ref.v)])
    for a, b in pairs:
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
            np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


# ---------------------------------------------------------------- problems


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_compiled_value_and_gradient_match_the_numpy_methods(name, rng):
    problem = PROBLEMS[name]()
    cp = problem.compiled()
    assert isinstance(cp, _kinds.CompiledProblem) and cp.dim == problem.dim
    for x in rng.normal(scale=1.5, size=(20, problem.dim)):
        if name in EXACT:
            assert cp.value(x) == problem.value(x)
            np.testing.assert_array_equal(cp.grad(x), problem.grad(x))
        else:  # pow/exp/BLAS round differently by an ulp or two
            np.testing.assert_allclose(cp.value(x), problem.value(x), rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(cp.grad(x), problem.grad(x), rtol=1e-14, atol=1e-14)


def test_user_problems_and_subclasses_have_no_compiled_form():
    class Steeper(hb.Rosenbrock):
        def _grad(self, x):
            return 2.0 * super()._grad(x)

    class Shifted(hb.Quadratic):  # same formulas, another constructor: opts in
        def __init__(self):
            super().__init__(np.diag([1.0, 5.0]), b=[1.0, 1.0])

        def compiled(self):
            return self._compiled_form()

    custom = hb.CustomProblem(1, lambda x: float(x[0] ** 2), lambda x: 2.0 * np.asarray(x))
    assert custom.compiled() is None
    assert Steeper().compiled() is None
    assert _compiled.compiled_problem(custom) is None
    shifted = Shifted()
    system = hb.DampedParticle(shifted, 1.0, 1.0)
    assert _fast.integrate_supported(system) is not None
    kw = dict(method="nesterov", step=0.1, n_steps=50)
    assert_same(hb.integrate(system, [0.0, 0.0], **kw), _numpy_integrate(system, [0.0, 0.0], **kw), exact=False)


def test_the_constants_compiled_into_the_kernels_are_those_the_python_side_uses():
    # kernels.py is their one home (Numba's cache sees only that file); the light modules read its source
    from heavyball import kernels, trajectory

    assert {name: getattr(kernels, name) for name in _kinds.KINDS} == _kinds.KINDS
    assert kernels.BOUND == trajectory.DIVERGENCE_BOUND


def test_a_diagonal_quadratic_shares_its_arrays_with_the_compiled_form():
    q = hb.Quadratic.diagonal(np.linspace(1.0, 2.0, 7))
    cp = q.compiled()
    assert np.shares_memory(cp.vec1, q._diag) and cp.vec2.size == 0  # b = 0 is not streamed


# ---------------------------------------------------------------- integrate


@pytest.mark.parametrize("method", SCHEMES)
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_integrate_kernel_equals_the_numpy_loop(method, name):
    problem = PROBLEMS[name]()
    system = hb.DampedParticle(problem, mass=1.5, friction=0.8)
    assert _fast.integrate_supported(system) is not None
    kw = dict(method=method, step=0.04, n_steps=300, record_every=7)
    x0 = _start(problem)
    v0 = np.full(problem.dim, 0.1)
    assert_same(hb.integrate(system, x0, v0, **kw), _numpy_integrate(system, x0, v0, **kw), name in EXACT)


@pytest.mark.parametrize("name", ["diag2", "diag5", "rosenbrock", "plateau4", "lessard"])
def test_gradient_flow_kernel_equals_the_numpy_loop(name):
    problem = PROBLEMS[name]()
    system = hb.DampedParticle(problem, mass=0.0, friction=2.0)
    kw = dict(method="explicit_euler", step=0.01, n_steps=250, record_every=3)
    fast = hb.integrate(system, _start(problem), **kw)
    assert fast.v is None
    assert_same(fast, _numpy_integrate(system, _start(problem), **kw), name in EXACT)


@pytest.mark.parametrize("method", SCHEMES)
@pytest.mark.parametrize("name", ["diag2", "diag5", "rosenbrock", "plateau4"])
def test_time_dependent_friction_and_t0(method, name):
    problem = PROBLEMS[name]()
    system = hb.DampedParticle(problem, mass=1.0, friction=lambda t: 3.0 / t)
    kw = dict(method=method, step=0.02, n_steps=200, t0=0.5, record_every=4)
    assert_same(hb.integrate(system, _start(problem), **kw), _numpy_integrate(system, _start(problem), **kw),
                name in EXACT)


@pytest.mark.parametrize("method", SCHEMES)
@pytest.mark.parametrize("name", ["diag2", "diag5", "diag3_b", "double_well", "dense3"])
@pytest.mark.parametrize("every", [1, 6])
def test_tol_stops_at_the_same_step(method, name, every):
    problem = PROBLEMS[name]()
    system = hb.DampedParticle(problem, mass=1.0, friction=3.0)
    kw = dict(method=method, step=0.02, n_steps=20000, tol=1e-5, record_every=every)
    fast = hb.integrate(system, _start(problem), **kw)
    ref = _numpy_integrate(system, _start(problem), **kw)
    assert fast.status == 1 and fast.n_steps < 20000
    assert_same(fast, ref, name in EXACT)


@pytest.mark.parametrize("method", SCHEMES)
@pytest.mark.parametrize("name", ["diag2", "diag5", "diag3_b", "rosenbrock", "dense3", "lessard"])
@pytest.mark.parametrize("every", [1, 5, 1000])
def test_divergence_ends_at_the_last_good_state(method, name, every):
    # a step far beyond stability: the state grows past 1e50 within a few hundred steps
    problem = PROBLEMS[name]()
    system = hb.DampedParticle(problem, mass=1.0, friction=0.0)
    kw = dict(method=method, step=1.5, n_steps=5000, record_every=every)
    fast = hb.integrate(system, _start(problem), **kw)
    ref = _numpy_integrate(system, _start(problem), **kw)
    assert fast.status == -1 and "diverged at step" in fast.message
    assert np.all(np.isfinite(fast.x)) and np.all(np.isfinite(fast.loss))
    assert_same(fast, ref, name in EXACT)


def test_a_non_finite_loss_of_a_recorded_state_ends_the_run():
    # |x| stays far inside the bound but b (x1 - x0^2)^2 overflows
    system = hb.DampedParticle(hb.Rosenbrock(b=1e250), mass=1.0, friction=1.0)
    for x0 in ([1e20, 0.0], [1e-3, 0.0]):
        kw = dict(method="symplectic_euler", step=1e-3, n_steps=50, record_every=2)
        fast = hb.integrate(system, x0, **kw)
        ref = _numpy_integrate(system, x0, **kw)
        assert fast.status == -1
        assert_same(fast, ref, exact=True)


@pytest.mark.parametrize("n_steps", [0, 1, 2])
def test_short_runs(n_steps):
    for name in ("diag2", "diag5"):
        system = hb.DampedParticle(PROBLEMS[name](), mass=1.0, friction=lambda t: 1.0 + t)
        kw = dict(method="nesterov", step=0.1, n_steps=n_steps, record_every=3)
        x0 = _start(system.problem)
        assert_same(hb.integrate(system, x0, **kw), _numpy_integrate(system, x0, **kw), exact=True)


@pytest.mark.slow
def test_two_million_dimensions_never_form_a_dense_hessian():
    d, n, h, gamma = 2_000_000, 4, 0.1, 1.0
    lam = np.linspace(1.0, 10.0, d)
    system = hb.DampedParticle(hb.Quadratic.diagonal(lam), mass=1.0, friction=gamma)
    traj = hb.integrate(system, np.ones(d), method="symplectic_euler", step=h, n_steps=n, record_every=n)
    assert traj.x.shape == (2, d) and traj.status == 0
    x, v = np.ones(d), np.zeros(d)  # the same recurrence, element-wise in NumPy
    for _ in range(n):
        v = (1.0 - h * gamma / 1.0) * v - (h / 1.0) * (lam * x)
        x = x + h * v
    np.testing.assert_array_equal(traj.x[-1], x)
    np.testing.assert_array_equal(traj.v[-1], v)
    # the loss was summed in the update pass, sequentially: equal to rounding of a pairwise sum
    np.testing.assert_allclose(traj.loss[-1], 0.5 * np.sum(lam * x * x), rtol=1e-12)


# ---------------------------------------------------------------- optimize

OPTIMIZERS = {
    "gd": hb.GD(2e-3),
    "sgd0": hb.SGD(2e-3),
    "sgd": hb.SGD(2e-3, momentum=0.9),
    "sgd_all": hb.SGD(2e-3, momentum=0.8, dampening=0.3, weight_decay=0.05),
    "sgd_nesterov": hb.SGD(2e-3, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_max": hb.SGD(1e-3, momentum=0.5, maximize=True),
    "keras0": hb.KerasSGD(2e-3),
    "keras0_wd": hb.KerasSGD(2e-3, weight_decay=0.1),
    "keras": hb.KerasSGD(2e-3, momentum=0.9),
    "keras_nesterov": hb.KerasSGD(2e-3, momentum=0.9, nesterov=True, weight_decay=0.05),
    "ema": hb.EMAMomentum(2e-2, beta=0.9),
}
OPTIONS = {
    "plain": {},
    "lr_schedule": dict(lr_schedule=lambda k: 2e-3 * (1.0 + np.cos(k / 40.0)) / 2.0 + 1e-4),
    "momentum_schedule": dict(momentum_schedule=lambda k: 0.0 if k < 5 or 50 <= k < 60 else 0.85),
    "restart": dict(restart_every=17),
    "noise": dict(grad_noise=0.3, seed=11),
    "tol": dict(tol=1e-2),
    "record_every": dict(record_every=9),
}


# GD has no momentum, so the momentum-schedule option does not apply to it.
OPT_OPTIONS = [(o, k) for o in sorted(OPTIMIZERS) for k in sorted(OPTIONS) if (o, k) != ("gd", "momentum_schedule")]


@pytest.mark.parametrize("opt, option", OPT_OPTIONS)
@pytest.mark.parametrize("name", ["rosenbrock", "diag3_b", "dense3"])
def test_optimize_kernel_equals_the_numpy_loop(name, opt, option):
    optimizer = OPTIMIZERS[opt]
    kw = OPTIONS[option]
    problem = PROBLEMS[name]()
    assert _fast.optimize_supported(problem, optimizer) is not None
    x0 = _start(problem)
    assert_same(hb.optimize(problem, optimizer, x0, n_steps=300, **kw),
                _numpy_optimize(problem, optimizer, x0, n_steps=300, **kw), name in EXACT)


def test_pytorch_keeps_no_buffer_while_the_momentum_is_zero():
    traj = hb.optimize(hb.Rosenbrock(), hb.SGD(1e-3, momentum=0.9), [-1.0, 1.0], n_steps=20,
                       momentum_schedule=lambda k: 0.0 if k < 5 else 0.9, restart_every=12)
    rosen = hb.Rosenbrock()
    assert np.all(traj.v[:6] == 0.0)  # states 0..5: no buffer yet
    np.testing.assert_array_equal(traj.v[6], rosen.grad(traj.x[5]))  # the first buffer is the gradient
    np.testing.assert_array_equal(traj.v[13], rosen.grad(traj.x[12]))  # and again after the restart at 12
    np.testing.assert_array_equal(traj.v[7], 0.9 * traj.v[6] + rosen.grad(traj.x[6]))


@pytest.mark.parametrize("opt", ["sgd", "keras", "ema", "gd"])
@pytest.mark.parametrize("every", [1, 4])
def test_optimize_divergence_matches(opt, every):
    kw = dict(n_steps=400, record_every=every)
    problem = hb.Quadratic.diagonal([1.0, 30.0, 100.0])
    optimizer = {"sgd": hb.SGD(0.05, 0.9), "keras": hb.KerasSGD(0.05, 0.9), "ema": hb.EMAMomentum(0.5, 0.9),
                 "gd": hb.GD(0.05)}[opt]
    fast = hb.optimize(problem, optimizer, [1.0, 1.0, 1.0], **kw)
    assert fast.status == -1
    assert_same(fast, _numpy_optimize(problem, optimizer, [1.0, 1.0, 1.0], **kw), exact=True)


def test_noise_is_drawn_in_bounded_chunks_with_the_same_numbers(monkeypatch):
    monkeypatch.setattr(_fast, "NOISE_CHUNK_NUMBERS", 14)  # 7 rows of 2 per chunk: many boundaries
    for opt in (hb.SGD(1e-3, momentum=0.9), hb.KerasSGD(1e-3, momentum=0.9)):
        for restart in (None, 7, 5):  # restarts on and off the chunk boundaries
            kw = dict(n_steps=100, grad_noise=0.5, seed=3, record_every=3, restart_every=restart)
            assert_same(hb.optimize(hb.Rosenbrock(), opt, [-1.0, 1.0], **kw),
                        _numpy_optimize(hb.Rosenbrock(), opt, [-1.0, 1.0], **kw), exact=True)


# ---------------------------------------------------------------- dispatch


def test_what_the_kernels_do_not_support_falls_back_to_numpy():
    q = hb.Quadratic.diagonal([1.0, 10.0])
    custom = hb.CustomProblem(2, q.value, q.grad)
    kw = dict(method="symplectic_euler", step=0.05, n_steps=50)
    a = hb.integrate(hb.DampedParticle(custom, 1.0, 1.0), [1.0, 1.0], **kw)
    b = hb.integrate(hb.DampedParticle(q, 1.0, 1.0), [1.0, 1.0], **kw)
    assert _fast.integrate_supported(hb.DampedParticle(custom, 1.0, 1.0)) is None
    np.testing.assert_array_equal(a.x, b.x)

    class Extended(hb.DampedParticle):  # a future feature the kernels do not know
        pass

    extra = hb.DampedParticle(q, 1.0, 1.0)
    extra.a_future_feature = 0.5
    assert _fast.integrate_supported(Extended(q, 1.0, 1.0)) is None
    assert _fast.integrate_supported(extra) is None
    for kw in (dict(hessian_damping=0.5), dict(gradient_scale=2.0), dict(gradient_scale=lambda t: 1.0)):
        assert _fast.integrate_supported(hb.DampedParticle(q, 1.0, 1.0, **kw)) is None
    assert _fast.optimize_supported(q, hb.Adam(1e-2)) is None
    assert _fast.optimize_supported(custom, hb.SGD(1e-2)) is None


def test_the_plain_system_takes_the_kernel_path():
    # fails loudly (instead of silently slowing down) when DampedParticle gains a field:
    # add it to _fast.SUPPORTED_SYSTEM_FIELDS once the kernels implement it
    assert _fast.integrate_supported(hb.DampedParticle(hb.Rosenbrock(), 1.0, 1.0)) is not None
    assert _fast.integrate_supported(hb.DampedParticle(hb.Rosenbrock(), 0.0, 1.0)) is not None


def test_stochastic_gradients_take_the_numpy_path():
    class Noisy(hb.Quadratic):
        def stochastic_grad(self, x, k, rng):
            return self.grad(x) + rng.normal(size=self.dim)

    q = Noisy(np.diag([1.0, 3.0]))
    traj = hb.optimize(q, hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=30, stochastic=True, seed=1)
    again = hb.optimize(q, hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=30, stochastic=True, seed=1)
    np.testing.assert_array_equal(traj.x, again.x)
    assert not np.array_equal(traj.x, hb.optimize(q, hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=30).x)


# ---------------------------------------------------------------- compile cache

_CACHE_PROBE = textwrap.dedent("""
    import json
    import heavyball as hb
    from heavyball import kernels
    q = hb.Quadratic.from_condition_number(10.0)
    hb.integrate(hb.DampedParticle(q, 1.0, 1.0), [1.0, 1.0], method="nesterov", step=0.1, n_steps=5)
    hb.integrate(hb.DampedParticle(hb.Plateau(dim=3), 1.0, 1.0), [1.0, 1.0, 1.0], method="symplectic_euler",
                 step=0.1, n_steps=5)
    hb.optimize(q, hb.SGD(0.01, 0.9), [1.0, 1.0], n_steps=5)
    hb.sweep(q, [0.01, 0.02], [0.0, 0.5], x0=[1.0, 1.0], n_steps=5)
    stats = {}
    for name in ("integrate_kernel", "optimize_kernel", "_sweep_blocks"):  # (their callees are linked in)
        s = getattr(kernels, name).stats
        stats[name] = [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
    print(json.dumps(stats))
""")


@pytest.mark.slow
def test_a_second_process_loads_the_kernels_from_the_disk_cache():
    import json

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    runs = [subprocess.run([sys.executable, "-c", _CACHE_PROBE], capture_output=True, text=True, env=env,
                           cwd=root, timeout=600) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    second = json.loads(runs[1].stdout.strip().splitlines()[-1])
    for name, (hits, misses) in second.items():
        assert misses == 0 and hits >= 1, (name, hits, misses)


def test_the_sweep_threads_cover_every_block_once_and_raise_the_first_error():
    import numba

    from heavyball import kernels

    seen = []
    kernels._in_threads(lambda b0, b1: seen.extend(range(b0, b1)), 37)
    assert sorted(seen) == list(range(37))  # (each block once, whatever the thread count)

    def failing(b0, b1):
        if b0 > 0:
            raise ZeroDivisionError(f"piece from {b0}")

    if numba.get_num_threads() > 1:
        with pytest.raises(ZeroDivisionError, match="piece from"):
            kernels._in_threads(failing, 8)


def test_sweep_results_do_not_depend_on_the_number_of_threads():
    import numba

    run = lambda: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-4, 3e-3, 40), np.linspace(0.0, 0.95, 9),  # noqa: E731
                           x0=[-1.0, 1.0], n_steps=300, progress=False)
    threads = numba.get_num_threads()
    many = run()
    numba.set_num_threads(1)
    try:
        one = run()
    finally:
        numba.set_num_threads(threads)
    for name in ("steps_to_tol", "diverged", "final_loss", "rate"):
        assert np.array_equal(getattr(one, name), getattr(many, name), equal_nan=True), name
