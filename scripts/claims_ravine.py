"""Claims: gradient descent bounces in a ravine, momentum damps it
===============================================================

Claims about ravines: "vanilla gradient descent bounces back and forth between the walls,
making tiny progress along the valley floor", momentum "accelerates along the valley while its
wall-to-wall oscillations are damped", and the course page's example on 100 x^2 + y^2 at
lr = 0.005 with the comment "Vanilla oscillates; momentum converges smoothly".

Fair comparison: gradient descent (beta = 0) and heavy ball each at their own best (lr, beta)
from a grid, measured by the steps to reduce ``|x - x*|`` by 1e-6 for good (deterministic, so one
run per grid point), and the sign changes of each coordinate on the way.

    PYTHONPATH=. python scripts/claims_ravine.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, first_below, parse_args, run_batch, save
import heavyball as hb
from heavyball.diagnostics import oscillation_count, steps_to_tolerance
from heavyball.landscapes import Ravine

X0 = np.array([1.0, 1.0])
TOL = 1e-6


def grid(quick):
    lrs = np.geomspace(1e-3, 2.5e-2, 25 if quick else 61)
    betas = np.array([0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95] if quick else
                     [0.0, 0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99])
    return lrs, betas


def tuned(problem, lrs, betas, n_steps):
    """Steps to TOL for every (beta, lr) and the best (lr, beta, steps) with and without momentum."""
    L, B = np.meshgrid(lrs, betas)
    err, _ = run_batch(lambda x, k: problem.grad(x), X0, L.ravel(), B.ravel(), n_steps,
                       metric=lambda x, k: np.linalg.norm(x, axis=1) / np.linalg.norm(X0))
    steps = first_below(err, TOL).reshape(B.shape).astype(float)
    steps[steps < 0] = np.inf
    best = {}
    for name, rows in (("GD", betas == 0), ("heavy ball", betas > 0)):
        s = np.where(rows[:, None], steps, np.inf)
        i, j = np.unravel_index(int(np.argmin(s)), s.shape)
        best[name] = (float(lrs[j]), float(betas[i]), int(s[i, j]))
    return steps, best


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    p = Ravine()  # 100 x^2 + y^2
    print(f"{p!r}: L = 100 x^2 + y^2, eigenvalues {p.eigenvalues.tolist()}, kappa = {p.kappa:g}")
    runs = {}
    for beta in (0.0, 0.9):  # the course page's example, lr = 0.005, 100 steps
        tr = hb.optimize(p, hb.SGD(0.005, beta), X0, n_steps=100)
        runs[f"seed example, beta = {beta}"] = tr
        print(f"lr 0.005, beta {beta}: final x = {tr.x[-1]}, sign changes about x* (x, y) = "
              f"{oscillation_count(tr, about=[0, 0], tol=1e-12).tolist()}")
    lrs, betas = grid(args.quick)
    steps, best = tuned(p, lrs, betas, 1500 if args.quick else 4000)
    for name, (lr, beta, n) in best.items():
        tr = hb.optimize(p, hb.SGD(lr, beta), X0, n_steps=n)
        runs[f"tuned {name}: lr {lr:.4f}, beta {beta}"] = tr
        check = steps_to_tolerance(tr, TOL, minimizer=[0, 0], stay=True)
        osc = oscillation_count(tr, about=[0, 0], tol=1e-12 * np.abs(tr.x[0]).max())
        swing = float(np.abs(tr.x[:, 0]).max() / abs(X0[0]))
        print(f"tuned {name}: lr = {lr:.4g}, beta = {beta}: {n} steps to 1e-6 (optimize: {check}); "
              f"sign changes across / along the valley: {osc.tolist()}; largest swing across the "
              f"valley {swing:.2f} x |x_0|")
    print(f"speed-up of tuned heavy ball: {best['GD'][2] / best['heavy ball'][2]:.2f}x")
    for i, beta in enumerate(betas):
        print(f"  beta {beta:4}: best {np.min(steps[i]):6.0f} steps at lr {lrs[np.argmin(steps[i])]:.4g}")

    fig, (ax1, ax2, ax3) = figure(3, 1, width=4.4)
    for (name, tr), c in zip(runs.items(), ["C0", "C1", "C2", "C3"]):
        ls = "--" if "seed" in name else "-"
        k = tr.t[:101]
        ax1.plot(k, tr.x[:101, 0], ls, lw=0.9, color=c, label=name)
        ax2.plot(k, tr.x[:101, 1], ls, lw=0.9, color=c, label=name)
        err = np.linalg.norm(tr.x, axis=1) / np.linalg.norm(X0)
        ax3.plot(tr.t, err, ls, color=c, label=name)
    ax1.axhline(0, color="0.5", lw=0.6)
    ax1.set(xlabel="step k", ylabel="x_k (across the valley, curvature 200)",
            title="Across the valley: 'bouncing'")
    ax1.legend(fontsize=7)
    ax2.axhline(0, color="0.5", lw=0.6)
    ax2.set(xlabel="step k", ylabel="y_k (along the floor, curvature 2)", title="Along the valley floor")
    ax3.axhline(TOL, color="0.5", lw=0.8, ls=":")
    ax3.set(yscale="log", xlabel="step k", ylabel="|x_k - x*| / |x_0 - x*|", ylim=(1e-7, 5),
            title="Convergence (tuned runs stop at 1e-6)")
    ax3.legend(fontsize=7)
    save(fig, args.out, "claims_ravine")
    return best


if __name__ == "__main__":
    main()
