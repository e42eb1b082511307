"""Claim: "good momentum shows smooth descent; bad momentum shows oscillation or plateau".
=======================================================================================

Problem: the quadratic diag(1, 100) from (1, 1) at rest. Heavy ball (PyTorch ``SGD(lr,
momentum)``) on a grid of (lr, beta); for each run that reaches 1e-6 of the start's distance,
the steps it takes and the share of those steps on which the loss goes *up*. Is the fastest
descent the smooth one?

    PYTHONPATH=. python scripts/claims_smooth.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save

import heavyball as hb
from heavyball.diagnostics import steps_to_tolerance

TOL = 1e-6


def runs(lrs, betas, n_steps=3000):
    """Rows ``(lr, beta, steps to TOL, share of steps with a loss increase)`` of the converging runs."""
    q = hb.Quadratic.diagonal([1.0, 100.0])
    rows = []
    for b in betas:
        for a in lrs:
            traj = hb.optimize(q, hb.SGD(float(a), float(b)), [1.0, 1.0], n_steps=n_steps)
            s = steps_to_tolerance(traj, TOL, minimizer=q.minimizer)
            if s > 0:
                rows.append((float(a), float(b), s, float(np.mean(np.diff(traj.loss[:s + 1]) > 0))))
    return np.array(rows)


def spearman(x, y):
    """Rank correlation (average ranks for ties), written out."""
    def rank(v):
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for val in np.unique(v):  # ties share their mean rank
            r[v == val] = r[v == val].mean()
        return r
    rx, ry = rank(np.asarray(x)), rank(np.asarray(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    lrs = np.geomspace(1e-3, 0.039, 10 if args.quick else 25)
    betas = np.linspace(0.0, 0.95, 8 if args.quick else 20)
    rows = runs(lrs, betas)
    fast = rows[np.argmin(rows[:, 2])]
    smooth = rows[rows[:, 3] == 0]
    best_smooth = smooth[np.argmin(smooth[:, 2])]
    rho = spearman(rows[:, 3], rows[:, 2])
    print(f"{len(rows)} of {len(lrs) * len(betas)} grid runs reach {TOL:g}")
    print(f"fastest: lr {fast[0]:.4g}, beta {fast[1]:.2f}: {fast[2]:.0f} steps, loss rises on {100 * fast[3]:.0f}% "
          "of them")
    print(f"fastest with a monotone loss ({len(smooth)} runs): lr {best_smooth[0]:.4g}, beta {best_smooth[1]:.2f}: "
          f"{best_smooth[2]:.0f} steps ({best_smooth[2] / fast[2]:.1f}x slower)")
    print(f"rank correlation of the share of rising steps with the steps taken: {rho:.2f}")
    fig, axes = figure(1, 1, width=5.2)
    axes[0].scatter(100 * rows[:, 3], rows[:, 2], s=10, c=rows[:, 1], cmap="viridis")
    axes[0].plot([100 * fast[3]], [fast[2]], "r*", markersize=12, label="fastest")
    axes[0].plot([0], [best_smooth[2]], "ks", markerfacecolor="none", markersize=9, label="fastest monotone")
    axes[0].set(yscale="log", xlabel="% of steps on which the loss rises", ylabel=f"steps to {TOL:g}",
                title="diag(1, 100): heavy ball grid (colour: beta)")
    axes[0].legend(fontsize="small")
    save(fig, args.out, "claims_smooth")
    return dict(rows=rows, fastest=fast, fastest_smooth=best_smooth, spearman=rho)


if __name__ == "__main__":
    main()
