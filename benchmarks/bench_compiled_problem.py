"""A user's Numba-compiled problem against the same loss built in.

Run: ``python benchmarks/bench_compiled_problem.py`` (``--quick`` for a smoke run).

``L(x, y) = (x^2 - 1)^2 + 5 y^2`` written by a user as ``@numba.njit``
``value(x)`` and ``grad(x, out)`` (a :class:`heavyball.CustomProblem`),
against the built-in ``DoubleWell(tilt=0, stiffness=10)``, which is the same
function: ``integrate`` (2,000,000 steps of symplectic Euler), ``optimize``
(PyTorch SGD with momentum, 2,000,000 steps) and a 64 x 64 (lr x momentum)
sweep of 2,000 steps of heavy ball. Targets (issue 12): the sweep within 2x
per trajectory-step and ``integrate`` within 2x of the built-in.

Two ways of running the user's functions in the kernels are timed:

- "pointer" (the default for ``integrate``, ``optimize`` and sweeps below
  ``heavyball._compiled.SPECIALISE_SWEEP_WORK``): the one cached kernel calls
  the user's functions through first-class function pointers; nothing to
  compile per problem but the user's two functions.
- "specialised": copies of the kernels compiled with the user's functions
  linked in (inlined by LLVM); seconds of compilation per problem and
  process, not cached on disk.

Times are CPU seconds of the process (``time.process_time``, all threads),
the minimum over interleaved rounds: on the shared 2-core machine wall time
varies several-fold with other jobs. The compile cost is the first-call latency of each path in fresh processes
with a private ``NUMBA_CACHE_DIR``: first empty (every kernel compiles once
per machine: the built-ins' signature, then the user-problem signature of
the pointer path), then warm (each process loads the built-in kernels
first, so the user's numbers are the per-problem, per-process cost).
"""

import json
import os
import subprocess
import sys
import time

import numba
import numpy as np

from _common import QUICK, ROOT, best_times, machine, report

import heavyball as hb
from heavyball import _compiled


@numba.njit
def value(x):
    q = x[0] * x[0] - 1.0
    return q * q + 5.0 * (x[1] * x[1])


@numba.njit
def grad(x, out):
    x0 = x[0]
    out[0] = 4.0 * x0 * (x0 * x0 - 1.0)
    out[1] = 10.0 * x[1]


USER = hb.CustomProblem(2, value, grad, name="user double well")
BUILTIN = hb.DoubleWell(tilt=0.0, stiffness=10.0)


class specialising:
    """Within the block, user problems run in the kernels specialised on their functions."""

    def __enter__(self):
        self.saved = _compiled.kernels_for

        def kernels_for(cp, x0, sweep_work=0):
            ns = self.saved(cp, x0, sweep_work)
            if cp.kind == _compiled.USER_FUNCTIONS:
                return _compiled.specialised(cp.value_fn, cp.grad_fn, cp.dim)
            return ns

        _compiled.kernels_for = kernels_for

    def __exit__(self, *exc):
        _compiled.kernels_for = self.saved


def timed_pair(name, run, unit_count, unit, repeats):
    """Time ``run(problem)`` for the user problem (both paths) and the built-in; check equal results."""
    ref = run(BUILTIN)
    for label, ctx in (("pointer", None), ("specialised", specialising())):
        if ctx:
            ctx.__enter__()
        try:
            out = run(USER)
            same = all(np.array_equal(a, b) for a, b in zip(out, ref))
            if not same:
                raise AssertionError(f"{name}: user problem ({label}) and built-in differ")
            t = best_times({"user": lambda: run(USER), "built-in": lambda: run(BUILTIN)}, repeats=repeats,
                           clock=time.process_time)
        finally:
            if ctx:
                ctx.__exit__()
        yield label, t["user"] / unit_count, t["built-in"] / unit_count


def bench_integrate():
    n = 200_000 if QUICK else 2_000_000
    system = {p: hb.DampedParticle(p, mass=1.0, friction=0.1) for p in (USER, BUILTIN)}

    def run(p):
        tr = hb.integrate(system[p], [0.3, 0.2], method="symplectic_euler", step=1e-3, n_steps=n)
        return tr.x, tr.v, tr.loss

    rows, ratios = [], []
    for label, tu, tb in timed_pair("integrate", run, n, "step", 3 if QUICK else 7):
        ratios.append((f"integrate, user ({label}) / built-in", tu / tb, lambda r: r <= 2.0))
        rows += [(f"user ({label}) per step", tu * 1e9, "ns"), (f"built-in per step ({label} round)", tb * 1e9, "ns")]
    report(f"integrate, symplectic Euler, {n:,} steps, x, v, loss, t recorded", rows, ratios)


def bench_optimize():
    n = 200_000 if QUICK else 2_000_000

    def run(p):
        tr = hb.optimize(p, hb.SGD(1e-3, momentum=0.9), [0.3, 0.2], n_steps=n)
        return tr.x, tr.v, tr.loss

    rows, ratios = [], []
    for label, tu, tb in timed_pair("optimize", run, n, "step", 3 if QUICK else 7):
        ratios.append((f"optimize, user ({label}) / built-in", tu / tb, None))
        rows += [(f"user ({label}) per step", tu * 1e9, "ns"), (f"built-in per step ({label} round)", tb * 1e9, "ns")]
    report(f"optimize, SGD(momentum=0.9), {n:,} steps", rows, ratios)


def bench_sweep():
    size, n = (32, 500) if QUICK else (64, 2000)
    grids = {"lr up to 0.15, momentum 0 ... 0.99 (a third diverge)": np.linspace(1e-3, 0.15, size),
             "lr up to 0.02, momentum 0 ... 0.99 (every point runs all steps)": np.linspace(1e-3, 0.02, size)}
    moms = np.linspace(0.0, 0.99, size)
    for title, lrs in grids.items():
        def run(p):
            r = hb.sweep(p, lrs, moms, x0=[0.5, 0.5], n_steps=n, progress=False)
            return r.rate, r.steps_to_tol, r.diverged, r.final_loss

        units = size * size * n
        rows, ratios = [], []
        for label, tu, tb in timed_pair("sweep", run, units, "trajectory-step", 3 if QUICK else 7):
            ratios.append((f"sweep, user ({label}) / built-in, per trajectory-step", tu / tb, lambda r: r <= 2.0))
            rows += [(f"user ({label}) per trajectory-step", tu * 1e9, "ns"),
                     (f"built-in per trajectory-step ({label} round)", tb * 1e9, "ns")]
        report(f"sweep, {size} x {size} grid, {n} steps, heavy ball; {title}", rows, ratios)


PROBE = r"""
import json, sys, time
sys.path.insert(0, ROOT_DIR + "/benchmarks")
out = {}
t = time.perf_counter()
import numba, numpy as np
import heavyball as hb
from heavyball import _compiled
import bench_compiled_problem as b  # defines the user functions (not compiled yet)
out["import"] = time.perf_counter() - t

def timed(name, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    out[name] = (time.perf_counter() - t0, time.process_time() - c0)

sysm = lambda p: hb.DampedParticle(p, 1.0, 0.1)
integ = lambda p: hb.integrate(sysm(p), [0.3, 0.2], method="symplectic_euler", step=1e-3, n_steps=10)
opt = lambda p: hb.optimize(p, hb.SGD(1e-3, 0.9), [0.3, 0.2], n_steps=10)
swp = lambda p: hb.sweep(p, [0.01, 0.02], [0.0, 0.5], x0=[0.5, 0.5], n_steps=10)
timed("built-in: first integrate (loads the cached kernel)", lambda: integ(b.BUILTIN))
timed("built-in: first optimize", lambda: opt(b.BUILTIN))
timed("built-in: first sweep", lambda: swp(b.BUILTIN))
timed("user, pointer: first integrate (compiles value and grad)", lambda: integ(b.USER))
timed("user, pointer: first optimize", lambda: opt(b.USER))
timed("user, pointer: first sweep", lambda: swp(b.USER))
with b.specialising():
    timed("user, specialised: first integrate", lambda: integ(b.USER))
    timed("user, specialised: first optimize", lambda: opt(b.USER))
    timed("user, specialised: first sweep", lambda: swp(b.USER))
print(json.dumps(out))
"""


def _probe(cache_dir):
    env = dict(os.environ, PYTHONPATH=ROOT)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    probe = PROBE.replace("ROOT_DIR", repr(ROOT))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True,
                          cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_compile_cost():
    """First calls in fresh processes: with an empty cache (once per machine), then with the cache warm."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        rows = {"empty cache (compiles every kernel)": [_probe(cache)]}
        rows["warm cache (per problem and process)"] = [_probe(cache) for _ in range(1 if QUICK else 2)]
    for label, runs in rows.items():
        print(f"== first-call latency in a fresh process, {label}, min of {len(runs)}: wall s (CPU s)")
        for key in runs[0]:
            if key == "import":
                continue
            wall = min(r[key][0] for r in runs)
            cpu = min(r[key][1] for r in runs)
            print(f"    {key}: {wall:.2f} s ({cpu:.2f} s)")
    sys.stdout.flush()


def main():
    print(machine())
    bench_compile_cost()
    bench_integrate()
    bench_optimize()
    bench_sweep()


if __name__ == "__main__":
    main()
