"""Claim: momentum restarts help
=============================

Claim (FAQ page): "momentum restart ... resetting the momentum to zero at certain points during
training ... v_t = 0 every k steps ... This can help the model avoid getting stuck and find the
best solution more efficiently."

Measured on heavyball.landscapes.Ravine (100 x^2 + y^2, from (1, 1)) and heavyball.Rosenbrock
(from (-1.2, 1)): the steps to ``|x - x*|`` <= 1e-6 ``|x_0 - x*|`` for good, over a grid of
(lr, beta, restart period k), each (beta, k) at its best lr; deterministic, one run per point.

    PYTHONPATH=. python scripts/claims_restarts.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, first_below, parse_args, plain_ticks, run_batch, save
import heavyball as hb
from heavyball.landscapes import Ravine

PERIODS = (None, 5, 10, 20, 50, 100, 200)


def steps_grid(problem, x0, lrs, betas, periods, n_steps):
    """Best-over-lr steps to 1e-6, array (len(periods), len(betas)) (inf: never within n_steps)."""
    xs = problem.minimizer
    scale = np.linalg.norm(np.asarray(x0) - xs)
    L, B = np.meshgrid(lrs, betas)
    out = np.empty((len(periods), len(betas)))
    for i, k in enumerate(periods):
        err, _ = run_batch(lambda x, kk: problem.grad(x), x0, L.ravel(), B.ravel(), n_steps, restart_every=k,
                           metric=lambda x, kk: np.linalg.norm(x - xs, axis=1) / scale)
        s = first_below(err, 1e-6).reshape(B.shape).astype(float)
        s[s < 0] = np.inf
        out[i] = s.min(axis=1)
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    betas = np.array([0.5, 0.7, 0.9, 0.99] if args.quick else [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99])
    periods = (None, 10, 50) if args.quick else PERIODS
    cases = {"ravine": (Ravine(), np.array([1.0, 1.0]), np.geomspace(1e-3, 3e-2, 12 if args.quick else 30),
                        1500 if args.quick else 3000),
             "Rosenbrock": (hb.Rosenbrock(), np.array([-1.2, 1.0]), np.geomspace(1e-4, 4e-3, 8 if args.quick else 25),
                            3000 if args.quick else 20000)}
    results = {}
    for name, (p, x0, lrs, n) in cases.items():
        grid = steps_grid(p, x0, lrs, betas, periods, n)
        results[name] = grid
        none = grid[0]
        jb = int(np.argmin(none))
        i, j = np.unravel_index(int(np.argmin(grid[1:])), grid[1:].shape)
        print(f"{name}: no restart best {none[jb]:.0f} steps (beta {betas[jb]}); with restarts best "
              f"{grid[1 + i, j]:.0f} (every {periods[1 + i]}, beta {betas[j]})")
        print(f"  at the tuned beta {betas[jb]}: " + ", ".join(f"k={k}: {v:.0f}" for k, v in zip(periods, grid[:, jb])))
        print(f"  at beta {betas[-1]}: " + ", ".join(f"k={k}: {v:.0f}" for k, v in zip(periods, grid[:, -1])))

    fig, axes = figure(2, 1, width=5.0)
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    for ax, (name, grid) in zip(axes, results.items()):
        for i, k in enumerate(periods):
            color = "k" if k is None else cmap(0.85 * (i - 1) / max(len(periods) - 2, 1))  # no pale yellow
            ax.plot(betas, grid[i], "o-", ms=4, color=color, lw=2 if k is None else 1,
                    label="no restart" if k is None else f"restart every {k}")
        ax.set(yscale="log", xlabel="momentum beta (each point at its best lr)", ylabel="steps to 1e-6",
               title=f"{name}: restarting the velocity every k steps")
        plain_ticks(ax)
        ax.legend(fontsize=7)
    save(fig, args.out, "claims_restarts")
    return results


if __name__ == "__main__":
    main()
