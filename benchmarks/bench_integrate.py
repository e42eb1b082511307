"""``integrate`` against hand-written loops: one trajectory, and high dimension.

Run: ``python benchmarks/bench_integrate.py`` (add ``--quick`` for a smoke run).

1. 2-D Rosenbrock, symplectic Euler, 2,000,000 steps, every state recorded
   (x, v, loss, t): against a hand-written scalar Numba loop that records the
   same arrays (target: within 1.3x, issue 16; 1.5x before), pure Python (target: over 20x faster)
   and the library's own NumPy loop.
2. Diagonal quadratic, d = 2,000,000, 50 steps, ``record_every=50``: against a
   fused Numba loop that keeps only the recorded states (target: within 1.5x).
3. Diagonal quadratic, d = 200,000, 50 steps, every state recorded: against a
   fused Numba loop that writes each state and its loss (target: within 1.5x).

Parameters avoid subnormal numbers (the friction is small enough that the
velocity never decays below 1e-300 within the run), which would cost all
contenders 20x per step.
"""

import sys
import time

import numpy as np
from numba import njit

from _common import best_times, machine, report

import heavyball as hb
from heavyball import integrators

QUICK = "--quick" in sys.argv


@njit(cache=True)
def scalar_rosenbrock(a, b, x0, x1, h, m, gamma, n, t0, ts, xs, vs, ls):
    """Symplectic Euler on Rosenbrock with the state in registers, recording x, v, loss, t."""
    beta = 1.0 - h * gamma / m
    c = h / m
    v0 = 0.0
    v1 = 0.0
    xs[0, 0], xs[0, 1], vs[0, 0], vs[0, 1], ts[0] = x0, x1, 0.0, 0.0, t0
    ls[0] = (a - x0) ** 2 + b * (x1 - x0 * x0) ** 2
    for k in range(n):
        r = x1 - x0 * x0
        g0 = -2.0 * (a - x0) - 4.0 * b * x0 * r
        g1 = 2.0 * b * r
        v0 = beta * v0 - c * g0
        v1 = beta * v1 - c * g1
        x0 = x0 + h * v0
        x1 = x1 + h * v1
        xs[k + 1, 0], xs[k + 1, 1], vs[k + 1, 0], vs[k + 1, 1] = x0, x1, v0, v1
        ts[k + 1] = t0 + h * (k + 1)
        p = a - x0
        q = x1 - x0 * x0
        ls[k + 1] = p * p + b * (q * q)


def python_rosenbrock(a, b, x0, x1, h, m, gamma, n):
    """The same loop in pure Python, recording into lists."""
    beta, c = 1.0 - h * gamma / m, h / m
    v0 = v1 = 0.0
    xs, vs, ts, ls = [(x0, x1)], [(0.0, 0.0)], [0.0], [(a - x0) ** 2 + b * (x1 - x0 * x0) ** 2]
    for k in range(n):
        r = x1 - x0 * x0
        g0 = -2.0 * (a - x0) - 4.0 * b * x0 * r
        g1 = 2.0 * b * r
        v0, v1 = beta * v0 - c * g0, beta * v1 - c * g1
        x0, x1 = x0 + h * v0, x1 + h * v1
        xs.append((x0, x1))
        vs.append((v0, v1))
        ts.append(h * (k + 1))
        ls.append((a - x0) ** 2 + b * (x1 - x0 * x0) ** 2)
    return xs, vs, ts, ls


@njit(cache=True)
def fused_keep_recorded(lam, x, v, h, m, gamma, n, every, xs, vs):
    """Symplectic Euler on a diagonal quadratic, in place, copying out every ``every``-th state."""
    a = 1.0 - h * gamma / m
    c = h / m
    d = x.shape[0]
    for i in range(d):
        xs[0, i] = x[i]
        vs[0, i] = v[i]
    row = 1
    for k in range(n):
        for i in range(d):
            vi = a * v[i] - c * (lam[i] * x[i])
            v[i] = vi
            x[i] = x[i] + h * vi
        if (k + 1) % every == 0:
            for i in range(d):
                xs[row, i] = x[i]
                vs[row, i] = v[i]
            row += 1


@njit(cache=True)
def fused_record_all(lam, x0, h, m, gamma, n, xs, vs, ls):
    """Symplectic Euler on a diagonal quadratic writing every state and its loss in one pass."""
    a = 1.0 - h * gamma / m
    c = h / m
    d = x0.shape[0]
    acc = 0.0
    for i in range(d):
        xs[0, i] = x0[i]
        vs[0, i] = 0.0
        acc += lam[i] * x0[i] * x0[i]
    ls[0] = 0.5 * acc
    for k in range(n):
        acc = 0.0
        for i in range(d):
            xi = xs[k, i]
            vi = a * vs[k, i] - c * (lam[i] * xi)
            xn = xi + h * vi
            vs[k + 1, i] = vi
            xs[k + 1, i] = xn
            acc += lam[i] * xn * xn
        ls[k + 1] = 0.5 * acc


def single_trajectory():
    n = 200_000 if QUICK else 2_000_000
    n_python = n // 10
    n_numpy = 20_000
    h, m, gamma = 1e-3, 1.0, 0.1
    system = hb.DampedParticle(hb.Rosenbrock(), m, gamma)

    def library():
        return hb.integrate(system, [-1.0, 1.0], method="symplectic_euler", step=h, n_steps=n)

    def scalar():
        ts, ls = np.empty(n + 1), np.empty(n + 1)
        xs, vs = np.empty((n + 1, 2)), np.empty((n + 1, 2))
        scalar_rosenbrock(1.0, 100.0, -1.0, 1.0, h, m, gamma, n, 0.0, ts, xs, vs, ls)
        return ts, xs, vs, ls  # all four records, as the library returns them (and frees them) together

    def python():
        python_rosenbrock(1.0, 100.0, -1.0, 1.0, h, m, gamma, n_python)

    def numpy_loop():
        x, v, hh, nn, t0, tol, every = integrators._validate(system, [-1.0, 1.0], None, "symplectic_euler",
                                                             h, n_numpy, 0.0, None, 1)
        integrators._run(system, integrators.METHODS["symplectic_euler"], "symplectic_euler", x, v, hh, nn,
                         t0, system.friction, tol, every)

    traj, (ts, xs, vs, ls) = library(), scalar()
    assert all(np.array_equal(a, b) for a, b in [(traj.t, ts), (traj.x, xs), (traj.v, vs), (traj.loss, ls)]), \
        "library and baseline differ"
    assert np.all((np.abs(traj.v) > 1e-300) | (traj.v == 0.0)), "subnormal velocities in the benchmark"
    # Dropped before timing: with these 192 MB of records alive, each timed call's 96 MB came from
    # fresh pages, whose faults (and whether they got huge pages) moved either contender by up
    # to 1.5x from one process to the next; without them every call reuses the memory the
    # previous one freed.
    del traj, ts, xs, vs, ls
    t = best_times({"library": library, "scalar": scalar}, repeats=3 if QUICK else 7)
    cpu = best_times({"library": library, "scalar": scalar}, repeats=3 if QUICK else 15, clock=time.process_time)
    t.update(best_times({"python": python, "numpy": numpy_loop}, repeats=1 if QUICK else 3))
    per = {"library": t["library"] / n, "scalar": t["scalar"] / n, "python": t["python"] / n_python,
           "numpy": t["numpy"] / n_numpy}
    report(f"single trajectory: Rosenbrock, symplectic Euler, {n:,} steps, x, v, loss, t recorded",
           [(f"{k} per step", v * 1e9, "ns") for k, v in per.items()],
           [("library / hand-written scalar Numba loop", per["library"] / per["scalar"], lambda r: r <= 1.3),
            ("same, in CPU time (robust to other processes)", cpu["library"] / cpu["scalar"], lambda r: r <= 1.3),
            ("pure Python / library", per["python"] / per["library"], lambda r: r >= 20.0),
            ("library's NumPy loop / library", per["numpy"] / per["library"], None)])


def high_dimension(d, n, every):
    lam = np.linspace(1.0, 100.0, d)
    h, m, gamma = 0.05, 1.0, 0.5
    system = hb.DampedParticle(hb.Quadratic.diagonal(lam), m, gamma)
    x0 = np.ones(d)

    def library():
        return hb.integrate(system, x0, method="symplectic_euler", step=h, n_steps=n, record_every=every)

    def fused():
        if every == 1:
            xs, vs, ls = np.empty((n + 1, d)), np.empty((n + 1, d)), np.empty(n + 1)
            fused_record_all(lam, x0, h, m, gamma, n, xs, vs, ls)
        else:
            size = n // every + 1
            xs, vs = np.empty((size, d)), np.empty((size, d))
            fused_keep_recorded(lam, x0.copy(), np.zeros(d), h, m, gamma, n, every, xs, vs)
        return xs, vs

    traj, (xs, vs) = library(), fused()
    assert np.array_equal(traj.x, xs) and np.array_equal(traj.v, vs), "library and baseline differ"
    t = best_times({"library": library, "fused": fused}, repeats=3 if QUICK else 7)
    unit = n * d
    what = "every state and its loss" if every == 1 else f"record_every={every}"
    report(f"diagonal quadratic, d = {d:,}, {n} steps, {what}",
           [(f"{k} per coordinate-step", v / unit * 1e9, "ns") for k, v in t.items()],
           [("library / fused Numba loop", t["library"] / t["fused"], lambda r: r <= 1.5)])


if __name__ == "__main__":
    print(machine())
    single_trajectory()
    high_dimension(200_000 if QUICK else 2_000_000, 50, 50)
    high_dimension(20_000 if QUICK else 200_000, 50, 1)
