"""Claims: momentum escapes saddle points
======================================

Claims about saddle points: "Vanilla GD stops at saddle points (zero gradient = zero update).
Momentum, with its accumulated velocity, can escape saddle points by continuing in the direction
it was already moving"; momentum lets the algorithm "power through ... saddle points".

Landscape: heavyball.Saddle(a=1, b=1, c=1), L = x^2/2 - y^2/2 + y^4/4: saddle at the origin,
minima (0, +-1). Starts: (1, 0), exactly on the saddle's stable manifold y = 0, and (1, 1e-8),
a hair off it. Fair comparison: each method at its own best (lr, beta) from a grid, by the
steps to come within 1e-6 of a minimum for good; escape = first step with ``|y|`` >= 0.1.

    PYTHONPATH=. python scripts/claims_saddle.py [--quick] [--out DIR]
"""

from __future__ import annotations

import math

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, first_below, parse_args, run_batch, save
import heavyball as hb

ESCAPE = 0.1
DELTA = 1e-8


def growth_factor(lr, beta, b=1.0):
    """Largest root of s^2 - (1 + beta + lr b) s + beta: growth per step of the unstable mode."""
    t = 1.0 + beta + lr * b
    return (t + math.sqrt(t * t - 4.0 * beta)) / 2.0


def linear_escape_step(lr, beta, delta=DELTA, threshold=ESCAPE, b=1.0):
    """First k with |y_k| >= threshold for the linearised recurrence started at rest at y = delta.

    ``y_{k+1} = (1 + beta + lr b) y_k - beta (y_k - (y_k - y_{k-1}))``, i.e. heavy ball on
    ``-b y^2 / 2`` with ``y_{-1} = y_0`` (zero velocity).
    """
    y_prev, y = delta, delta
    for k in range(1, 100000):
        y_prev, y = y, (1.0 + beta + lr * b) * y - beta * y_prev
        if abs(y) >= threshold:
            return k
    return -1


def tuned_saddle(lrs, betas, n_steps, delta=DELTA):
    p = hb.Saddle(1.0, 1.0, 1.0)
    L, B = np.meshgrid(lrs, betas)
    x0 = np.array([1.0, delta])
    mins = np.array(p.local_minima)
    dist, _ = run_batch(lambda x, k: p.grad(x), x0, L.ravel(), B.ravel(), n_steps,
                        metric=lambda x, k: np.min(np.linalg.norm(x[:, None, :] - mins, axis=2), axis=1))
    ys, _ = run_batch(lambda x, k: p.grad(x), x0, L.ravel(), B.ravel(), n_steps,
                      metric=lambda x, k: -np.abs(x[:, 1]))
    steps = first_below(dist, 1e-6).reshape(B.shape).astype(float)
    steps[steps < 0] = np.inf
    escape = first_below(ys, -ESCAPE, stay=False).reshape(B.shape)
    best = {}
    for name, rows in (("GD", betas == 0), ("heavy ball", betas > 0)):
        s = np.where(rows[:, None], steps, np.inf)
        i, j = np.unravel_index(int(np.argmin(s)), s.shape)
        best[name] = dict(lr=float(lrs[j]), beta=float(betas[i]), steps=float(s[i, j]), escape=int(escape[i, j]))
    return best


def on_manifold(lrs, betas, n_steps):
    """From (1, 0): distance of the last iterate to the saddle, for every stable grid point."""
    p = hb.Saddle(1.0, 1.0, 1.0)
    L, B = np.meshgrid(lrs, betas)
    xs, div = run_batch(lambda x, k: p.grad(x), [1.0, 0.0], L.ravel(), B.ravel(), n_steps)
    final = np.linalg.norm(xs[-1], axis=1)
    return final[~div], int(div.sum())


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    lrs = np.geomspace(0.05, 1.9, 21 if args.quick else 41)
    betas = np.array([0.0, 0.3, 0.5, 0.7, 0.9] if args.quick else [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95])
    final, n_div = on_manifold(lrs, betas, 2000)
    print(f"start (1, 0): {final.size} stable (lr, beta) runs all end at the saddle: max |x_N - 0| = "
          f"{final.max():.2g} ({n_div} diverged)")
    best = tuned_saddle(lrs, betas, 1500)
    for name, b in best.items():
        pred = linear_escape_step(b["lr"], b["beta"])
        print(f"start (1, 1e-8), tuned {name}: lr = {b['lr']:.3g}, beta = {b['beta']}: escapes (|y| >= 0.1) at "
              f"step {b['escape']} (linear theory {pred}, growth {growth_factor(b['lr'], b['beta']):.3f}/step), "
              f"minimum within 1e-6 at step {b['steps']:.0f}")
    print(f"speed-up of tuned heavy ball: {best['GD']['steps'] / best['heavy ball']['steps']:.2f}x to the minimum, "
          f"{best['GD']['escape'] / best['heavy ball']['escape']:.2f}x to escape")

    p = hb.Saddle(1.0, 1.0, 1.0)
    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    xx, yy = np.meshgrid(np.linspace(-1.3, 1.3, 200), np.linspace(-1.4, 1.4, 200))
    ax1.contour(xx, yy, p.value(np.stack([xx, yy], axis=-1)), levels=20, cmap="viridis", linewidths=0.6)
    for (name, b), c in zip(best.items(), ("C0", "C3")):
        opt = hb.GD(b["lr"]) if b["beta"] == 0 else hb.SGD(b["lr"], b["beta"])
        off = hb.optimize(p, opt, [1.0, DELTA], n_steps=int(b["steps"]))
        on = hb.optimize(p, opt, [1.0, 0.0], n_steps=300)
        ax1.plot(off.x[:, 0], off.x[:, 1], ".-", ms=3, lw=0.8, color=c, label=f"tuned {name}, from (1, 1e-8)")
        ax1.plot(on.x[:, 0], on.x[:, 1], "x", ms=5, color=c, label=f"tuned {name}, from (1, 0): ends at the saddle")
        ax2.plot(off.t, np.abs(off.x[:, 1]), color=c, label=f"tuned {name} (lr {b['lr']:.2g}, beta {b['beta']})")
    ax1.plot([0], [0], "k+", ms=10)
    ax1.set(xlabel="x (stable direction)", ylabel="y (unstable direction)", title="L = x^2/2 - y^2/2 + y^4/4")
    ax1.legend(fontsize=7, loc="lower left")
    ax2.axhline(ESCAPE, color="0.5", ls="--", lw=0.8)
    ax2.set(yscale="log", xlabel="step k", ylabel="|y_k| (distance from the stable manifold)",
            title="Escape from the saddle")
    ax2.legend(fontsize=8)
    save(fig, args.out, "claims_saddle")
    return best


if __name__ == "__main__":
    main()
