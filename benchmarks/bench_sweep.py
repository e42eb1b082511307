"""``sweep`` against a hand-written blocked ``prange`` kernel and the best NumPy formulation.

Run: ``python benchmarks/bench_sweep.py`` (``--quick`` for a smoke run).

A 256 x 256 grid of learning rate x momentum, 1000 steps of heavy ball on the
kappa = 100 quadratic ``diag(1, 100)`` from ``(1, 1)``, with the per-step
tolerance bookkeeping of ``steps_to_tol`` (tol = 1e-8), the per-step
divergence test and the flush to zero every 16 steps of the library. Targets (issue 16): within 1.3x of the
hand-written kernel, at least 5x faster than NumPy (issue 4 asked 1.5x and 4x).

Two grids. "stability region": ``lr`` up to 0.04 and momentum 0 ... 0.99,
which contains divergent points and points that converge onto ``x* = 0``
within a few hundred steps; "slow": ``lr <= 0.005``, momentum 0.9 ... 0.99,
where nothing converges far and no number gets near the subnormal range.
The hand-written kernel does the same work as the library (same semantics,
bit-identical results) for one problem and one method, with no dispatch;
a variant without the flush to zero shows what the subnormals cost.
"""

import math
import sys
import time

import numpy as np
import numba
from numba import njit, prange

from _common import best_times, machine, report

import heavyball as hb

QUICK = "--quick" in sys.argv
TINY = np.finfo(float).tiny
LANES = 32


def make_handwritten(flush):
    """Heavy ball on diag(lam0, lam1): blocks of LANES neighbouring lrs advanced together.

    With ``flush`` (a compile-time choice), coordinates below the smallest
    normal number are set to zero every 16 steps, as the library does.
    """

    @njit(parallel=True, error_model="numpy")
    def handwritten(lam0, lam1, lrs, moms, x0, x1, n, scale, thr2, steps_out, dead_out):
        n_lr = lrs.size
        n_blocks = (n_lr + LANES - 1) // LANES
        for t in prange(moms.size * n_blocks):
            i = t // n_blocks
            j0 = (t % n_blocks) * LANES
            nl = min(LANES, n_lr - j0)
            mom = moms[i]
            a0, a1 = np.empty(LANES), np.empty(LANES)
            b0, b1 = np.zeros(LANES), np.zeros(LANES)
            lr = np.empty(LANES)
            st = np.full(LANES, -1)
            dead = np.zeros(LANES, np.bool_)
            for j in range(LANES):
                a0[j], a1[j] = x0, x1
                lr[j] = lrs[j0 + min(j, nl - 1)]
            for k in range(n):
                n_dead = 0
                for j in range(LANES):
                    e0 = max(abs(a0[j]) * scale, 1e-150)
                    e1 = max(abs(a1[j]) * scale, 1e-150)
                    hit = (st[j] < 0) & (not dead[j]) & (e0 * e0 + e1 * e1 <= thr2)
                    st[j] = k if hit else st[j]
                    c0 = b0[j] * mom + lam0 * a0[j]
                    c1 = b1[j] * mom + lam1 * a1[j]
                    y0 = a0[j] - lr[j] * c0
                    y1 = a1[j] - lr[j] * c1
                    bad = not ((abs(y0) <= 1e50) & (abs(y1) <= 1e50) & (abs(c0) <= 1e50) & (abs(c1) <= 1e50))
                    dj = dead[j] | bad
                    dead[j] = dj
                    n_dead += dj
                    b0[j], b1[j], a0[j], a1[j] = c0, c1, y0, y1
                if n_dead == LANES:
                    break
                if flush and (k + 1) % 16 == 0:
                    for arr in (a0, a1, b0, b1):
                        for j in range(LANES):
                            arr[j] = 0.0 if abs(arr[j]) < TINY else arr[j]
            for j in range(LANES):  # the test on the final state
                e0 = max(abs(a0[j]) * scale, 1e-150)
                e1 = max(abs(a1[j]) * scale, 1e-150)
                hit = (st[j] < 0) & (not dead[j]) & (e0 * e0 + e1 * e1 <= thr2)
                st[j] = n if hit else st[j]
            for j in range(nl):
                steps_out[i, j0 + j] = st[j]
                dead_out[i, j0 + j] = dead[j]

    return handwritten


HANDWRITTEN = {True: make_handwritten(True), False: make_handwritten(False)}


def numpy_best(lam0, lam1, lrs, moms, x0, x1, n, scale, thr2, chunk=16384):
    """The same work in NumPy: separate 1-D arrays per coordinate, in-place ufuncs with ``out=``.

    Chunks of 16384 points (about 10 arrays of 128 KiB, inside L2) were the
    fastest of 2048 ... 65536; each step is ~40 ufunc calls, so smaller chunks
    pay the ~1 us call overhead per element many times.
    """
    lr_all = np.tile(lrs, moms.size)
    mom_all = np.repeat(moms, lrs.size)
    steps = np.full(lr_all.size, -1, dtype=np.int64)
    dead = np.zeros(lr_all.size, dtype=np.bool_)
    with np.errstate(all="ignore"):
        for p0 in range(0, lr_all.size, chunk):
            lr, mom = lr_all[p0:p0 + chunk], mom_all[p0:p0 + chunk]
            m = lr.size
            a0, a1 = np.full(m, x0), np.full(m, x1)
            b0, b1 = np.zeros(m), np.zeros(m)
            t, u = np.empty(m), np.empty(m)
            st, dd = steps[p0:p0 + chunk], dead[p0:p0 + chunk]
            hit, bad = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
            todo = np.ones(m, dtype=np.bool_)  # live and not yet within tol
            for k in range(n + 1):
                for a, out in ((a0, t), (a1, u)):  # scaled |x_k - x*|^2, as the library
                    np.abs(a, out=out)
                    np.multiply(out, scale, out=out)
                    np.maximum(out, 1e-150, out=out)
                    np.multiply(out, out, out=out)
                t += u
                np.less_equal(t, thr2, out=hit)
                hit &= todo
                np.putmask(st, hit, k)
                todo &= ~hit
                if k == n:
                    break
                for a, b, lam in ((a0, b0, lam0), (a1, b1, lam1)):  # buf = mom buf + g; x -= lr buf
                    np.multiply(b, mom, out=b)
                    np.multiply(a, lam, out=t)
                    b += t
                    np.multiply(b, lr, out=t)
                    a -= t
                np.abs(a0, out=t)
                for arr in (a1, b0, b1):
                    np.abs(arr, out=u)
                    np.maximum(t, u, out=t)
                np.less_equal(t, 1e50, out=bad)  # False for NaN
                np.logical_not(bad, out=bad)
                dd |= bad
                todo &= ~bad
                if (k + 1) % 16 == 0:
                    for arr in (a0, a1, b0, b1):
                        np.abs(arr, out=t)
                        np.less(t, TINY, out=hit)
                        np.putmask(arr, hit, 0.0)
    return steps.reshape(moms.size, lrs.size), dead.reshape(moms.size, lrs.size)


def main():
    n = 200 if QUICK else 1000
    size = 64 if QUICK else 256
    q = hb.Quadratic.from_condition_number(100.0)
    x0 = np.array([1.0, 1.0])
    d0 = math.sqrt(2.0)
    scale = math.ldexp(1.0, -math.frexp(1e-8 * d0)[1])
    thr2 = (1e-8 * d0 * scale) ** 2
    grids = {"stability region": (np.linspace(1e-4, 0.04, size), np.linspace(0.0, 0.99, size)),
             "slow": (np.linspace(1e-4, 0.005, size), np.linspace(0.9, 0.99, size))}
    for name, (lrs, moms) in grids.items():
        def library():
            return hb.sweep(q, lrs, moms, x0=x0, n_steps=n, progress=False)

        def kernel(flush=True):
            st, dd = np.empty((size, size), np.int64), np.empty((size, size), np.bool_)
            HANDWRITTEN[flush](1.0, 100.0, lrs, moms, 1.0, 1.0, n, scale, thr2, st, dd)
            return st, dd

        res, (st, dd) = library(), kernel()
        assert np.array_equal(res.steps_to_tol, st) and np.array_equal(res.diverged, dd), "results differ"
        nst, ndd = numpy_best(1.0, 100.0, lrs, moms, 1.0, 1.0, n, scale, thr2)
        assert np.array_equal(nst, st) and np.array_equal(ndd, dd), "NumPy baseline differs"
        t = best_times({"library": library, "hand-written": kernel,
                        "hand-written, no flush": lambda: kernel(False)}, repeats=3 if QUICK else 7)
        t.update(best_times({"NumPy": lambda: numpy_best(1.0, 100.0, lrs, moms, 1.0, 1.0, n, scale, thr2)},
                            repeats=1 if QUICK else 3))
        cpu = best_times({"library": library, "hand-written": kernel}, repeats=3 if QUICK else 7,
                         clock=time.process_time)
        per = {k: v / (size * size * n) for k, v in t.items()}
        per.update({f"{k}, CPU time / threads": v / (size * size * n) / numba.get_num_threads()
                    for k, v in cpu.items()})
        report(f"sweep, {size} x {size} grid ({name}), {n} steps, kappa = 100, heavy ball; "
               f"{int(res.diverged.sum())} diverged, {int((res.rate == 0).sum())} underflowed",
               [(f"{k} per trajectory-step", v * 1e9, "ns") for k, v in per.items()],
               [("library / hand-written blocked prange kernel", per["library"] / per["hand-written"],
                 lambda r: r <= 1.3),
                ("same, in CPU time (robust to other processes)",
                 per["library, CPU time / threads"] / per["hand-written, CPU time / threads"], lambda r: r <= 1.3),
                ("NumPy / library", per["NumPy"] / per["library"], lambda r: r >= 5.0),
                ("hand-written without flush / with",
                 per["hand-written, no flush"] / per["hand-written"], None)])


if __name__ == "__main__":
    print(machine())
    main()
