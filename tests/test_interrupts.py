"""Ctrl-C in compiled runs, and the slicing that makes it work (issue 17, item 2).

The compiled kernels return to Python every ``_fast.SLICE_WORK`` (integrate,
optimize) or ``sweep.SWEEP_SLICE_WORK`` (sweep) units of work, where a pending
SIGINT raises KeyboardInterrupt. The slices must not change a bit of any
result: the equality tests force them tiny and compare with one unsliced call.
"""

import importlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numba
import numpy as np
import pytest

import heavyball as hb
from heavyball import _fast, kernels

from .test_compiled_problem import well_grad, well_value

SWEEP_MODULE = importlib.import_module("heavyball.sweeps._chunks")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sliced(monkeypatch):
    """``sliced(work)`` sets the slice work (and drops the 64-step minimum) of integrate and optimize."""

    def set_work(work):
        monkeypatch.setattr(_fast, "SLICE_WORK", work)
        monkeypatch.setattr(_fast, "MIN_SLICE_STEPS", 1)

    return set_work


def _same(a, b):
    for name in ("t", "x", "v", "loss"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.shape == y.shape and np.array_equal(x, y), name
    assert (a.status, a.message, a.nfev) == (b.status, b.message, b.nfev)


def _kernel_reference(system, x0, h, n, every):
    """One direct, unsliced call of the integrator kernel (no Python slicing at all)."""
    cp = system.problem.compiled()
    d = system.dim
    size = _fast.n_records(n, every)
    ts, ls, xs, vs = np.empty(size), np.empty(size), np.empty((size, d)), np.empty((size, d))
    g = np.empty(d) if d != 2 and cp.kind != kernels.DIAGONAL_QUADRATIC else np.empty(0)
    status, count, k = kernels.integrate_kernel(
        kernels.SCHEMES["symplectic_euler"], cp.kind, cp.scalars, cp.vec1, cp.vec2, None, None, np.array(x0, float),
        np.zeros(d), g, np.empty(0), h, system.mass, np.array([system.friction]), 0.25, n, -1.0, every,
        ts, xs, vs, ls)
    return ts[:count], xs[:count], vs[:count], ls[:count]


@pytest.mark.parametrize("problem, x0", [(hb.Rosenbrock(), [-1.2, 1.0]),
                                         (hb.Quadratic.diagonal([1.0, 4.0, 9.0]), [1.0, -1.0, 0.5])])
@pytest.mark.parametrize("every", [1, 3, 40])
def test_sliced_integrate_equals_one_kernel_call(sliced, problem, x0, every):
    system = hb.DampedParticle(problem, 1.0, 0.5)
    ts, xs, vs, ls = _kernel_reference(system, x0, 0.01, 57, every)
    for work in (1, 2, 5, 7):
        sliced(work * problem.dim)
        traj = hb.integrate(system, x0, method="symplectic_euler", step=0.01, n_steps=57, record_every=every,
                            t0=0.25)
        assert np.array_equal(traj.t, ts) and np.array_equal(traj.x, xs)
        assert np.array_equal(traj.v, vs) and np.array_equal(traj.loss, ls)


@pytest.mark.parametrize("method, mass", [("nesterov", 1.0), ("implicit_friction_euler", 2.0),
                                          ("explicit_euler", 0.0)])
@pytest.mark.parametrize("every", [1, 4, 25])
def test_sliced_integrate_with_friction_function_tol_and_divergence(sliced, monkeypatch, method, mass, every):
    friction = lambda t: 0.3 + 0.1 * np.sin(t)  # noqa: E731
    cases = [
        (hb.DampedParticle(hb.Rosenbrock(), mass, friction), [-1.2, 1.0], 0.005, None),
        (hb.DampedParticle(hb.Quadratic([[2.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 1.0]]), mass, friction),
         [1.0, 1.0, 1.0], 0.1, 1e-3),
        (hb.DampedParticle(hb.Quadratic.diagonal([1.0, 4.0, 9.0]), mass, 0.1), [1.0, 1.0, 1.0], 1.5, None),
    ]
    for system, x0, h, tol in cases:
        run = lambda: hb.integrate(system, x0, method=method, step=h, n_steps=150, record_every=every,  # noqa
                                   tol=tol)
        monkeypatch.setattr(_fast, "SLICE_WORK", 1 << 60)
        whole = run()
        for work in (1, 3, 8):
            sliced(work * system.dim ** 2)
            _same(run(), whole)
    assert whole.status == -1  # the last case diverges


@pytest.mark.parametrize("optimizer", [hb.SGD(0.01, 0.9), hb.SGD(0.01, 0.9, nesterov=True),
                                       hb.KerasSGD(0.01, 0.9), hb.EMAMomentum(0.05, 0.9), hb.GD(0.01)])
def test_sliced_optimize_with_noise_schedules_and_restarts(sliced, monkeypatch, optimizer):
    kw = dict(n_steps=103, record_every=4, grad_noise=0.1, seed=3, restart_every=7,
              lr_schedule=lambda k: 0.01 * (1.0 + 0.5 * np.cos(k)))
    if not isinstance(optimizer, hb.GD):
        kw["momentum_schedule"] = lambda k: 0.5 + 0.4 * np.sin(k) ** 2
    for problem, x0 in ((hb.Rosenbrock(), [-1.2, 1.0]), (hb.Quadratic.diagonal([1.0, 4.0, 9.0]), [1.0] * 3)):
        monkeypatch.setattr(_fast, "SLICE_WORK", 1 << 60)
        whole = hb.optimize(problem, optimizer, x0, **kw)
        for work in (1, 2, 5, 11):
            sliced(work * problem.dim)
            _same(hb.optimize(problem, optimizer, x0, **kw), whole)


def test_sliced_sweep_equals_unsliced(monkeypatch):
    run = lambda: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-4, 1e-2, 37), [0.0, 0.5, 0.9, 0.99],  # noqa: E731
                           x0=[-1.2, 1.0], n_steps=200, method="nesterov", progress=False)
    monkeypatch.setattr(SWEEP_MODULE, "SWEEP_SLICE_WORK", 1 << 60)
    whole = run()
    monkeypatch.setattr(SWEEP_MODULE, "SWEEP_SLICE_WORK", 1)
    assert SWEEP_MODULE.sweep_slice_points(hb.Rosenbrock().compiled(), 200, 2) == 2 * kernels.LANES
    part = run()
    for name in ("steps_to_tol", "diverged", "final_loss", "rate"):
        assert np.array_equal(getattr(part, name), getattr(whole, name), equal_nan=True), name


def step_slicing_cases():
    """``name -> (problem, x0, lrs, momenta, n_steps)``: each path of the compiled sweep kernel.

    Rosenbrock and a user problem (function pointers) take the 2-D path with
    a gradient pass; the 2-D and 3-D/50-D diagonal quadratics the fused
    update (2-D and n-D), the dense quadratic the n-D path with a gradient
    pass. Their grids hold diverging points (the double well's, the
    quadratics' large ``lr``) and points that reach the float floor (the
    flush to zero, and the re-run for the rate before it).
    """
    lrs = np.geomspace(0.01, 0.9, 11)
    moms = [0.0, 0.5, 0.9]
    dense = hb.Quadratic([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])
    return {
        "rosenbrock": (hb.Rosenbrock(), [-1.2, 1.0], np.geomspace(1e-4, 1e-2, 37), [0.0, 0.5, 0.9, 0.99], 200),
        "quadratic_2d": (hb.Quadratic.diagonal([1.0, 4.0]), [1.0, 1.0], lrs, moms, 3000),
        "diagonal_3d": (hb.Quadratic.diagonal([1.0, 4.0, 9.0]), [1.0, -1.0, 0.5], lrs / 5, moms, 700),
        "diagonal_50d": (hb.Quadratic.diagonal(np.linspace(1.0, 10.0, 50)), np.linspace(-1.0, 1.0, 50), lrs / 5,
                         moms, 300),
        "dense": (dense, [1.0, 1.0, 1.0], lrs, moms, 400),
        "double_well": (hb.DoubleWell(), [0.5, 0.5], lrs / 2, moms, 150),
        "user": (hb.CustomProblem(2, well_value, well_grad, name="user well"), [0.5, 0.5], lrs / 3, moms, 150),
    }


def _sweep_case(case, method):
    problem, x0, lrs, moms, n = step_slicing_cases()[case]
    return hb.sweep(problem, lrs, moms, x0=x0, n_steps=n, method=method, progress=False)


@pytest.mark.parametrize("case", sorted(step_slicing_cases()))
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_step_sliced_sweep_equals_unsliced(monkeypatch, case, method):
    """Slices of 1, 5, 16 and 17 steps (the flush runs every 16th) give the bits of one kernel call."""
    problem = step_slicing_cases()[case][0]
    cp = problem.compiled()
    per_step = cp.dim * cp.dim if cp.kind == kernels.DENSE_QUADRATIC else cp.dim
    unit = kernels.LANES * numba.get_num_threads()
    monkeypatch.setattr(SWEEP_MODULE, "SWEEP_SLICE_WORK", 1 << 60)
    whole = _sweep_case(case, method)
    assert whole.backend == "numba"
    if case in ("quadratic_2d", "dense") or (case == "double_well" and method != "gd"):
        assert whole.diverged.any() and not whole.diverged.all()
    if case == "quadratic_2d":
        assert (whole.final_loss == 0.0).any()  # the floor, and the rate before it
    for k in (1, 5, 16, 17):
        monkeypatch.setattr(SWEEP_MODULE, "SWEEP_SLICE_WORK", k * per_step * unit)
        assert SWEEP_MODULE.sweep_slice_points(cp, 100, numba.get_num_threads()) == unit
        assert SWEEP_MODULE.sweep_slice_steps(cp, unit, 100) == k
        part = _sweep_case(case, method)
        for name in ("steps_to_tol", "diverged", "final_loss", "rate"):
            assert np.array_equal(getattr(part, name), getattr(whole, name), equal_nan=True), (name, k)


def test_step_slices_stop_when_every_point_is_dead(monkeypatch):
    """A slice of points that all diverged stops calling the kernel (and the result is unchanged)."""
    calls = []
    real = kernels.sweep_kernel

    def counting(*args):
        calls.append(args[16:18])  # (k0, k1)
        return real(*args)

    run = lambda: hb.sweep(hb.Quadratic.diagonal([1.0, 4.0]), [5.0, 6.0], [0.0, 0.5], x0=[1.0, 1.0],  # noqa: E731
                           n_steps=1000, progress=False)
    whole = run()
    assert whole.diverged.all()
    monkeypatch.setattr(SWEEP_MODULE, "SWEEP_SLICE_WORK", 2 * 10 * kernels.LANES)  # 10 steps of one block
    monkeypatch.setattr(kernels, "sweep_kernel", counting)
    part = run()
    assert calls[0] == (0, 10) and len(calls) < 30  # not the 101 calls of 1001 steps
    for name in ("steps_to_tol", "diverged", "final_loss", "rate"):
        assert np.array_equal(getattr(part, name), getattr(whole, name), equal_nan=True), name


# ---------------------------------------------------------------------------
# a real SIGINT at a real process
# ---------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import heavyball as hb

    rosen = hb.DampedParticle(hb.Rosenbrock(), 1.0, 0.1)
    runs = {
        "integrate": lambda n: hb.integrate(rosen, [-1.2, 1.0], method="symplectic_euler", step=1e-5,
                                           n_steps=n, record_every=10**12),
        "optimize": lambda n: hb.optimize(hb.Rosenbrock(), hb.SGD(1e-6, 0.5), [-1.2, 1.0], n_steps=n,
                                          record_every=10**12),
        "sweep": lambda n: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-7, 1e-6, 400), np.linspace(0, 0.5, 50),
                                    x0=[-1.2, 1.0], n_steps=n // 10**5, progress=False),
        # a small grid and many steps: one block per thread, sliced over the steps
        "sweep_steps": lambda n: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-6, 1e-5, 8), [0.0, 0.5],
                                          x0=[-1.2, 1.0], n_steps=min(n, 3 * 10**9), progress=False),
    }
    for name, run in runs.items():
        run(10**6)  # compile (or load the cache) before the clock starts
        print("start", name, flush=True)
        t = time.perf_counter()
        try:
            run(10**11)
            print("finished", name, flush=True)
        except KeyboardInterrupt:
            print("interrupted", name, time.perf_counter(), flush=True)
    """)


def _lines(proc):
    """A queue of the child's stdout lines (read by a thread, so waiting on it can time out)."""
    out = queue.Queue()

    def pump():
        for line in proc.stdout:
            out.put(line.split())
        out.put(["eof"])

    threading.Thread(target=pump, daemon=True).start()
    return out


def test_sigint_stops_long_compiled_runs_promptly(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines = _lines(proc)
    latencies = {}
    try:
        for name in ("integrate", "optimize", "sweep", "sweep_steps"):
            assert lines.get(timeout=60) == ["start", name]
            time.sleep(1.0)
            sent = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            line = lines.get(timeout=10)  # an ignored SIGINT fails here rather than hangs
            latencies[name] = time.perf_counter() - sent
            assert line[:2] == ["interrupted", name]
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    print("SIGINT latencies (s):", latencies)
    assert all(t < 2.0 for t in latencies.values()), latencies


def test_cli_exits_130_on_sigint(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "heavyball", "sweep", "--problem", "rosenbrock", "--lrs", "log:1e-7:1e-6:400",
           "--momenta", "0:0.5:20", "--n-steps", "1000000", "--out", str(tmp_path / "s.npz")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(3.0)
    assert proc.poll() is None, proc.stderr.read()
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=5)
    finally:
        proc.kill()
    latency = time.perf_counter() - sent
    err = proc.stderr.read()
    assert code == 130 and "Traceback" not in err and "interrupted" in err, err
    assert latency < 2.0
