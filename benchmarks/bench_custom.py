"""A user's own loss on the NumPy sweep engine: vectorised ``CustomProblem`` against the built-in.

Run: ``python benchmarks/bench_custom.py`` (``--quick`` for a smoke run).

Issue 12's case: a 64 x 64 (lr x momentum) heavy-ball sweep of 2,000 steps on
``L(x, y) = (x^2 - 1)^2 + 5 y^2`` from ``(0.5, 1)``, three ways, all with
``backend="numpy"``:

* ``DoubleWell(tilt=0, stiffness=10)``, the same loss built in;
* ``CustomProblem(..., vectorized=True)``: ``grad`` called once per step on
  the whole ``(4096, 2)`` array of live grid points (target: within 2x of the
  built-in; it was 25-50x before ``vectorized`` existed);
* ``CustomProblem(...)`` (one point per call), timed on a 16 x 16 grid and
  scaled by the number of points, since the full grid takes about a minute.

It also prints the per-call cost of the output checks of
:mod:`heavyball._user_functions` on a 2-D problem, one point per call (the
``integrate``/``optimize`` case): a ``grad`` call through ``problem.grad``
against the bare user function.
"""

import sys
import time

import numpy as np

from _common import best_times, report

import heavyball as hb
from heavyball import _user_functions

QUICK = "--quick" in sys.argv
N_STEPS = 200 if QUICK else 2000
SIDE = 16 if QUICK else 64
SMALL = 8 if QUICK else 16
X0 = [0.5, 1.0]


def value(x):
    return (x[..., 0] ** 2 - 1.0) ** 2 + 5.0 * x[..., 1] ** 2


def grad(x):
    g = np.empty_like(x)
    g[..., 0] = 4.0 * x[..., 0] * (x[..., 0] ** 2 - 1.0)
    g[..., 1] = 10.0 * x[..., 1]
    return g


def grids(side):
    return np.linspace(0.001, 0.3, side), np.linspace(0.0, 0.99, side)


def run(problem, side):
    lrs, moms = grids(side)
    return hb.sweep(problem, lrs, moms, x0=X0, n_steps=N_STEPS, backend="numpy", progress=False)


def main():
    builtin = hb.DoubleWell(tilt=0.0, stiffness=10.0)
    vec = hb.CustomProblem(2, value, grad, vectorized=True, name="well")
    loop = hb.CustomProblem(2, value, grad, name="well")
    ref = run(builtin, SIDE)
    assert np.array_equal(ref.final_loss, run(vec, SIDE).final_loss)  # the same numbers, bit for bit
    times = best_times({"builtin": lambda: run(builtin, SIDE), "vectorized": lambda: run(vec, SIDE)},
                       repeats=3 if QUICK else 5)
    t0 = time.perf_counter()
    run(loop, SMALL)
    t_loop = (time.perf_counter() - t0) * (SIDE / SMALL) ** 2
    x = np.array([0.3, -0.2])
    n_calls = 20000
    per_call = best_times({"bare": lambda: [grad(x) for _ in range(n_calls)],
                           "checked": lambda: [loop.grad(x) for _ in range(n_calls)],
                           "checks only": lambda: [_user_functions.checked_call(grad, x, (2,), False, "grad", "w")
                                                   for _ in range(n_calls)]}, repeats=5)
    pts = SIDE * SIDE
    report(f"{SIDE} x {SIDE} sweep, {N_STEPS} steps, backend='numpy' ({pts} points)", [
        ("built-in DoubleWell", times["builtin"], "s"),
        ("vectorized CustomProblem", times["vectorized"], "s"),
        (f"point-by-point CustomProblem (from {SMALL} x {SMALL}, scaled)", t_loop, "s"),
        ("bare grad(x), one 2-D point", per_call["bare"] / n_calls * 1e6, "us/call"),
        ("problem.grad(x) (validation of x + checks)", per_call["checked"] / n_calls * 1e6, "us/call"),
        ("checked_call(grad, x) (checks only)", per_call["checks only"] / n_calls * 1e6, "us/call"),
    ], [
        ("vectorized / built-in", times["vectorized"] / times["builtin"], lambda r: r <= 2.0),
        ("point-by-point / vectorized", t_loop / times["vectorized"], None),
        ("checked_call / bare call", per_call["checks only"] / per_call["bare"], None),
    ])


if __name__ == "__main__":
    main()
