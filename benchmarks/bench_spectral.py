"""Closed-form spectral radius against the dense 2n x 2n eigen-solve.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_spectral.py            # n = 2000, 3 repeats
    PYTHONPATH=. python benchmarks/bench_spectral.py --n 500 --repeats 5

Times, for heavy ball and Nesterov at generic parameters (no double roots):

* ``closed form``: ``spectral.spectral_radius(eigenvalues, ...)``, the O(n) per-mode formula;
* ``eigvalsh + closed form``: the whole job from a dense ``H`` (``numpy.linalg.eigvalsh(H)``,
  timed once since both methods share it, plus the closed form);
* ``dense``: ``numpy.linalg.eigvals(spectral.iteration_matrix(H, ...))`` and the largest modulus
  (the matrix build included).

Each is warmed up first (on a small problem for the dense path), then the minimum of
``--repeats`` runs is kept. Ratios are printed first, then the times, then the agreement.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from heavyball import spectral


def best_of(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def problem(n, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = rng.uniform(0.5, 30.0, n)
    H = (Q * lam) @ Q.T
    return 0.5 * (H + H.T)


def dense_radius(H, lr, beta, method):
    return float(np.max(np.abs(np.linalg.eigvals(spectral.iteration_matrix(H, lr, beta, method)))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    lr, beta = 0.04, 0.6  # generic: no mode near a double root; both methods converge
    H = problem(args.n)
    lam = np.linalg.eigvalsh(H)
    small = problem(200, seed=1)
    np.linalg.eigvalsh(small)
    # the symmetric eigen-solve is the same for both methods: timed once, with more repeats
    t_eigvalsh, _ = best_of(lambda: np.linalg.eigvalsh(H), max(args.repeats, 5))
    rows = []
    for method in ("heavy_ball", "nesterov"):
        # warm-up: LAPACK paths, allocation, imports
        spectral.spectral_radius(lam, lr, beta, method)
        dense_radius(small, lr, beta, method)
        t_closed, rho_closed = best_of(lambda: spectral.spectral_radius(lam, lr, beta, method),
                                       max(args.repeats, 20))
        t_full = t_eigvalsh + t_closed
        t_dense, rho_dense = best_of(lambda: dense_radius(H, lr, beta, method), args.repeats)
        rows.append((method, t_closed, t_full, t_dense, rho_closed, rho_dense))
    print(f"n = {args.n} (dense matrix {2 * args.n} x {2 * args.n}), lr = {lr}, momentum = {beta}, "
          f"min of {args.repeats} repeats (eigvalsh: of {max(args.repeats, 5)}, "
          f"closed form: of {max(args.repeats, 20)})")
    for method, t_closed, t_full, t_dense, *_ in rows:
        print(f"{method:11s} dense / closed form = {t_dense / t_closed:12.0f}x   "
              f"dense / (eigvalsh + closed form) = {t_dense / t_full:7.1f}x")
    for method, t_closed, t_full, t_dense, *_ in rows:
        print(f"{method:11s} closed form {t_closed * 1e6:9.1f} us   eigvalsh + closed form {t_full:8.3f} s   "
              f"dense {t_dense:8.3f} s")
    for method, *_, rho_closed, rho_dense in rows:
        print(f"{method:11s} rho closed form {rho_closed:.17g}   dense {rho_dense:.17g}   "
              f"|difference| {abs(rho_closed - rho_dense):.2e}")
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores; "
          f"Python {platform.python_version()}, NumPy {np.__version__}")


if __name__ == "__main__":
    main()
