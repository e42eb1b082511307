"""Cost of running the compiled kernels in slices (so that Ctrl-C is obeyed), and the interrupt latency.

Run: ``python benchmarks/bench_slicing.py`` (``--quick`` for a smoke run).

Each case is timed with the library's slices (``_fast.SLICE_WORK``,
``sweep.SWEEP_SLICE_WORK``) and with one call for the whole run (the
constants set huge), interleaved in the same process; the ratio is
sliced / one call (target: within 1.03x, i.e. no measurable cost). Then a
child process runs a long ``integrate``, ``optimize`` and two sweeps (a
large grid; 16 points and ``n_steps = 3e9``, sliced over the steps), gets
SIGINT one second in, and the time until it reports KeyboardInterrupt is
printed (target: under 1 s).
"""

import importlib
import os
import signal
import subprocess
import sys
import time

import numpy as np

from _common import QUICK, ROOT, best_times, machine, report

import heavyball as hb
from heavyball import _fast

SWEEP = importlib.import_module("heavyball.sweeps._chunks")
HUGE = 1 << 62
SCALE = 20 if QUICK else 1


def _slices(fn, set_work):
    def whole():
        set_work(HUGE)
        try:
            return fn()
        finally:
            set_work(None)
    return {"sliced": fn, "one call": whole}


def _set_fast(work, saved=(_fast.SLICE_WORK,)):
    _fast.SLICE_WORK = saved[0] if work is None else work


def _set_sweep(work, saved=(SWEEP.SWEEP_SLICE_WORK,)):
    SWEEP.SWEEP_SLICE_WORK = saved[0] if work is None else work


def cases():
    rosen = hb.DampedParticle(hb.Rosenbrock(), 1.0, 0.1)
    n2 = 50_000_000 // SCALE
    yield (f"integrate, Rosenbrock, {n2:,} steps, record_every=1000", n2, _fast.slice_steps(
        hb.Rosenbrock().compiled()), _set_fast,
        lambda: hb.integrate(rosen, [-1.2, 1.0], method="symplectic_euler", step=1e-4, n_steps=n2,
                             record_every=1000))
    d, nd = 1000, 200_000 // SCALE
    quad = hb.DampedParticle(hb.Quadratic.diagonal(np.linspace(0.01, 1.0, d)), 1.0, 0.05)
    yield (f"integrate, diagonal quadratic d = {d}, {nd:,} steps, record_every=100", nd,
           _fast.slice_steps(quad.problem.compiled()), _set_fast,
           lambda: hb.integrate(quad, np.ones(d), method="nesterov", step=0.5, n_steps=nd, record_every=100))
    no = 20_000_000 // SCALE
    yield (f"optimize, Rosenbrock, SGD, {no:,} steps, record_every=1000", no,
           _fast.slice_steps(hb.Rosenbrock().compiled()), _set_fast,
           lambda: hb.optimize(hb.Rosenbrock(), hb.SGD(1e-4, 0.9), [-1.2, 1.0], n_steps=no, record_every=1000))
    ns = 100_000 // SCALE
    yield (f"sweep, Rosenbrock, 64 x 64 grid, {ns:,} steps", 4096,
           SWEEP.sweep_slice_points(hb.Rosenbrock().compiled(), ns, __import__("numba").get_num_threads()),
           _set_sweep,
           lambda: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-6, 1e-4, 64), np.linspace(0, 0.9, 64),
                            x0=[-1.2, 1.0], n_steps=ns, progress=False))
    nt = 20_000_000 // SCALE  # one block of 32 points: sliced over the steps
    yield (f"sweep, Rosenbrock, 4 x 8 grid, {nt:,} steps", nt + 1,
           SWEEP.sweep_slice_steps(hb.Rosenbrock().compiled(), 32, nt), _set_sweep,
           lambda: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-6, 1e-5, 8), np.linspace(0, 0.5, 4),
                            x0=[-1.2, 1.0], n_steps=nt, progress=False))


CHILD = """
import sys, time
import numpy as np
import heavyball as hb
rosen = hb.DampedParticle(hb.Rosenbrock(), 1.0, 0.1)
runs = {
    "integrate": lambda n: hb.integrate(rosen, [-1.2, 1.0], method="symplectic_euler", step=1e-5, n_steps=n,
                                        record_every=10**12),
    "optimize": lambda n: hb.optimize(hb.Rosenbrock(), hb.SGD(1e-6, 0.5), [-1.2, 1.0], n_steps=n,
                                      record_every=10**12),
    "sweep": lambda n: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-7, 1e-6, 400), np.linspace(0, 0.5, 50),
                                x0=[-1.2, 1.0], n_steps=n // 10**5, progress=False),
    "sweep, 16 points, 3e9 steps": lambda n: hb.sweep(hb.Rosenbrock(), np.geomspace(1e-6, 1e-5, 8), [0.0, 0.5],
                                                      x0=[-1.2, 1.0], n_steps=min(n, 3 * 10**9), progress=False),
}
for name, run in runs.items():
    run(10**6)
    print("start", name, flush=True)
    try:
        run(10**11)
    except KeyboardInterrupt:
        print("interrupted", name, flush=True)
"""


def latencies():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env)
    out = {}
    for name in ("integrate", "optimize", "sweep", "sweep, 16 points, 3e9 steps"):
        assert proc.stdout.readline().split() == ["start", *name.split()]
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline().split() == ["interrupted", *name.split()]
        out[name] = time.perf_counter() - sent
    proc.wait()
    return out


def main():
    print(machine())
    for title, units, per_call, setter, fn in cases():
        best = best_times(_slices(fn, setter), repeats=3 if QUICK else 5)
        calls = -(-units // per_call)
        report(title, [("sliced", best["sliced"], "s"), ("one call", best["one call"], "s"),
                       ("calls when sliced", calls, ""), ("seconds per call", best["sliced"] / calls, "s")],
               [("sliced / one call", best["sliced"] / best["one call"], lambda r: r < 1.03)])
    lat = latencies()
    report("SIGINT one second into a long run: time until KeyboardInterrupt",
           [(name, t, "s") for name, t in lat.items()], [])


if __name__ == "__main__":
    main()
