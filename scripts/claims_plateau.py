"""Claims: momentum carries the optimiser across plateaus
======================================================

Claims about plateaus: "without momentum, progress stalls. With momentum, velocity persists
from previous steps, carrying the optimizer across the plateau"; gradient descent "taking
thousands of iterations to cross what could be traversed quickly with momentum"; momentum lets
the algorithm "power through flat areas".

Landscape: heavyball.Plateau (a Gaussian well of width 1 and depth 1 on a plateau), started
at distance r0 from the minimum, where the gradient is r0 exp(-r0^2/2): 1.3e-3 at r0 = 4 and
1.9e-5 at r0 = 5. Fair comparison: each method at its own best (lr, beta) from a grid, by the
steps to reach ``|x - x*|`` <= 1e-6 ``|x_0 - x*|`` for good; the crossing time (first step with
L <= depth/2) is reported for the tuned runs. Deterministic, one run per grid point.

    PYTHONPATH=. python scripts/claims_plateau.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, first_below, parse_args, run_batch, save
import heavyball as hb
from heavyball.diagnostics import effective_learning_rate

TOL = 1e-6
HALF_DEPTH_RADIUS = np.sqrt(2 * np.log(2))  # L = depth / 2 at r = w sqrt(2 ln 2)


def tuned_plateau(r0, lrs, betas, n_steps, problem=None):
    """Best (lr, beta, steps to TOL, crossing step) for GD and for heavy ball from (r0, 0)."""
    p = problem or hb.Plateau(width=1.0, depth=1.0, dim=2)
    x0 = np.array([r0, 0.0])
    L, B = np.meshgrid(lrs, betas)
    dist, _ = run_batch(lambda x, k: p.grad(x), x0, L.ravel(), B.ravel(), n_steps,
                        metric=lambda x, k: np.linalg.norm(x, axis=1))
    steps = first_below(dist / r0, TOL).reshape(B.shape).astype(float)
    steps[steps < 0] = np.inf
    cross = first_below(dist, HALF_DEPTH_RADIUS, stay=False).reshape(B.shape)
    best = {}
    for name, rows in (("GD", betas == 0), ("heavy ball", betas > 0)):
        s = np.where(rows[:, None], steps, np.inf)
        i, j = np.unravel_index(int(np.argmin(s)), s.shape)
        best[name] = dict(lr=float(lrs[j]), beta=float(betas[i]), steps=float(s[i, j]),
                          cross=int(cross[i, j]))
    return best, steps


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    lrs = np.geomspace(0.5, 5.0, 11) if args.quick else np.geomspace(0.1, 10.0, 41)
    betas = np.array([0.0, 0.5, 0.9] if args.quick else [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
    p = hb.Plateau(width=1.0, depth=1.0, dim=2)
    results = {}
    for r0, n_steps in ((4.0, 3000), (5.0, 9000)):
        best, _ = tuned_plateau(r0, lrs, betas, n_steps, p)
        results[r0] = best
        g0 = float(np.linalg.norm(p.grad([r0, 0.0])))
        print(f"start r0 = {r0} (|grad| = {g0:.2g}):")
        for name, b in best.items():
            print(f"  tuned {name}: lr = {b['lr']:.3g}, beta = {b['beta']}, effective lr "
                  f"{effective_learning_rate(b['lr'], b['beta']):.3g}: crosses at step {b['cross']}, "
                  f"1e-6 at step {b['steps']:.0f}")
        print(f"  speed-up {best['GD']['steps'] / best['heavy ball']['steps']:.2f}x (1e-6), "
              f"{best['GD']['cross'] / best['heavy ball']['cross']:.2f}x (crossing); stability bounds at the "
              f"well (curvature 1): GD lr < 2, heavy ball lr < 2 (1 + beta)")

    fig, axes = figure(2, 1, width=5.0)
    for ax, r0 in zip(axes, results):
        for name, c in (("GD", "C0"), ("heavy ball", "C3")):
            b = results[r0][name]
            opt = hb.GD(b["lr"]) if b["beta"] == 0 else hb.SGD(b["lr"], b["beta"])
            tr = hb.optimize(p, opt, [r0, 0.0], n_steps=int(b["steps"]))
            ax.plot(tr.t + 1, np.linalg.norm(tr.x, axis=1) / r0, color=c,
                    label=f"tuned {name} (lr {b['lr']:.2g}, beta {b['beta']})")
        ax.axhline(HALF_DEPTH_RADIUS / r0, color="0.5", ls="--", lw=0.8)
        ax.annotate("edge of the well (L = depth/2)", (1, HALF_DEPTH_RADIUS / r0), fontsize=7,
                    xytext=(0, 3), textcoords="offset points", color="0.4")
        ax.set(xscale="log", yscale="log", ylim=(5e-7, 2), xlabel="step k + 1",
               ylabel="|x_k - x*| / |x_0 - x*|", title=f"Plateau, start at r0 = {r0:g} widths")
        ax.legend(fontsize=8, loc="lower left")
    save(fig, args.out, "claims_plateau")
    return results


if __name__ == "__main__":
    main()
