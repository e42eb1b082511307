"""Claims: momentum overcomes small local minima
=============================================

Claims about local minima: momentum "helps to overcome small local minima", "avoid getting
stuck in small dips along the way", the ball "is able to pass through slight hills in its way",
momentum lets the algorithm "power through ... local minima".

Landscape: heavyball.DoubleWell (barrier 1), tilted so that the left well is the global minimum
and the right one a local minimum: tilt 0.25 (a deep local minimum) and tilt 1.2 (a small dip).
Deterministic runs from a grid of starts x in [-1.8, 1.8], y = 0, at equal effective learning
rate lr/(1 - beta): the share of starts in the local basin that end in the global minimum, the
share of starts in the global basin carried *out* to the local one, and the overall share
ending in the global minimum, for each beta at its own best effective learning rate.

    PYTHONPATH=. python scripts/claims_local_minima.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, run_batch, save
import heavyball as hb
from heavyball.diagnostics import nearest_minimum

BETAS = (0.0, 0.5, 0.9, 0.95)


def outcomes(problem, starts, lr_effs, beta, n_steps):
    """Index of the minimum each (start, lr_eff) run ends in (-1: diverged or not settled)."""
    x0 = np.stack([starts, np.zeros_like(starts)], axis=1)
    x0 = np.repeat(x0, len(lr_effs), axis=0)
    lr = np.tile(np.asarray(lr_effs) * (1.0 - beta), len(starts))
    xs, div = run_batch(lambda x, k: problem.grad(x), x0, lr, beta, n_steps)
    idx = nearest_minimum(xs[-1], problem.local_minima, tol=1e-3)
    idx[div] = -1
    return idx.reshape(len(starts), len(lr_effs))


def crossing_shares(problem, starts, idx):
    """(local basin -> global, global basin -> local, all -> global) per effective lr."""
    right = starts > problem.barrier_point[0]  # local_minima[1] is the right (local) one
    return np.mean(idx[right] == 0, axis=0), np.mean(idx[~right] == 1, axis=0), np.mean(idx == 0, axis=0)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    starts = np.linspace(-1.8, 1.8, 40 if args.quick else 240)
    lr_effs = np.geomspace(0.005, 0.5, 8 if args.quick else 31)
    results = {}
    for tilt in (0.25, 1.2):
        p = hb.DoubleWell(barrier=1.0, tilt=tilt)
        vals = p.value(np.array(p.local_minima))
        hump = float(p.value(p.barrier_point))
        print(f"tilt {tilt}: global minimum L = {vals[0]:.3f}, local L = {vals[1]:.3f}; barrier {hump - vals[1]:.3f} "
              f"above the local and {hump - vals[0]:.3f} above the global minimum")
        for beta in BETAS:
            out = crossing_shares(p, starts, outcomes(p, starts, lr_effs, beta, 1000 if args.quick else 4000))
            results[tilt, beta] = out
            j = int(np.argmax(out[2]))
            small = lr_effs <= 0.02
            print(f"  beta {beta}: best lr_eff {lr_effs[j]:.3g}: local->global {out[0][j]:.2f}, global->local "
                  f"{out[1][j]:.2f}, all->global {out[2][j]:.2f}; at lr_eff <= 0.02: local->global "
                  f"{out[0][small].max():.2f}, global->local {out[1][small].max():.2f}")

    fig, axes = figure(2, 1, width=5.0)
    for ax, tilt in zip(axes, (0.25, 1.2)):
        for beta, c in zip(BETAS, ("C0", "C1", "C2", "C3")):
            up, down, _ = results[tilt, beta]
            ax.plot(lr_effs, up, "-", color=c, label=f"beta {beta}: local basin -> global min")
            ax.plot(lr_effs, down, ":", color=c, label=f"beta {beta}: global basin -> local min")
        ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="effective learning rate lr / (1 - beta)",
               ylabel="share of starts in that basin", title=f"Tilted double well, tilt {tilt}")
        ax.legend(fontsize=6.5, loc="upper left")
    save(fig, args.out, "claims_local_minima")
    return results


if __name__ == "__main__":
    main()
