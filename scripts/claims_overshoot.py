"""Claims: overshoot and stability as beta nears 1
===============================================

Claims about overshoot and stability: "if gamma is too close to 1, the network might overshoot
and miss the best solution"; "momentum can make the model less stable"; beta is "a friction
coefficient/smoothing constant ... which helps in controlling the value of V and avoids
overshooting the minima".

Measured on the 1-D quadratic L = x^2 / 2 from x = 1 at rest: the overshoot past the minimum
(heavyball.diagnostics.overshoot: the farthest excursion beyond x* as a share of ``|x_0 - x*|``) for
each beta at lr = 0.1 and at the same effective learning rate lr / (1 - beta) = 0.1, and the
largest stable lr (on a grid of step 1e-3, simulated) against the closed form lr < 2 (1 + beta).

    PYTHONPATH=. python scripts/claims_overshoot.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, run_batch, save
import heavyball as hb

BETAS = np.array([0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])


def overshoots(lrs, betas, n_steps=3000):
    """Overshoot past x* = 0 of heavy ball on x^2/2 from 1 at rest, one value per (lr, beta) pair."""
    q = hb.Quadratic.diagonal([1.0])
    xs, _ = run_batch(lambda x, k: q.grad(x), [1.0], lrs, betas, n_steps, metric=lambda x, k: x[:, 0])
    return np.maximum(0.0, -xs.min(axis=0))


def largest_stable_lr(betas, n_steps=2000, resolution=1e-3):
    """Largest lr (lambda = 1) on a grid of step ``resolution`` whose run does not grow: |x_N| <= |x_0|.

    Just below the bound the slowest root has modulus slightly under 1, just above one root is
    beyond -1, so after ``n_steps`` the runs separate sharply.
    """
    q = hb.Quadratic.diagonal([1.0])

    def last_stable(grid, beta):
        xs, div = run_batch(lambda x, k: q.grad(x), [1.0], grid, beta, n_steps, metric=lambda x, k: x[:, 0])
        ok = ~div & (np.abs(xs[-1]) <= 1.0)
        return float(grid[np.flatnonzero(ok)[-1]])

    out = {}
    for beta in betas:  # coarse grid, then a fine one around its answer
        coarse = last_stable(np.arange(0.05, 4.5, 0.05), beta)
        out[beta] = last_stable(np.arange(coarse, coarse + 0.05, resolution), beta)
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    same_lr = overshoots(np.full(BETAS.size, 0.1), BETAS)
    same_eff = overshoots(0.1 * (1.0 - BETAS), BETAS, n_steps=3000)
    for b, a, e in zip(BETAS, same_lr, same_eff):
        print(f"beta {b:4}: overshoot {a:.3f} at lr 0.1, {e:.3f} at lr_eff 0.1")
    betas_stab = (0.0, 0.5, 0.9) if args.quick else (0.0, 0.3, 0.5, 0.7, 0.9, 0.95)
    stab = largest_stable_lr(betas_stab)
    for b, s in stab.items():
        print(f"beta {b}: largest stable lr * lambda {s:.4f} (closed form 2 (1 + beta) = {2 * (1 + b):.4f})")
    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    ax1.plot(BETAS, same_lr, "o-", label="lr = 0.1")
    ax1.plot(BETAS, same_eff, "s--", label="lr / (1 - beta) = 0.1")
    ax1.set(xlabel="momentum beta", ylabel="overshoot past x* / |x_0 - x*|",
            title="L = x^2/2 from x = 1: overshoot grows with beta")
    ax1.legend(fontsize=8)
    bb = np.linspace(0, 0.99, 100)
    ax2.plot(bb, 2 * (1 + bb), color="C3", label="heavy ball: lr lambda < 2 (1 + beta)")
    ax2.axhline(2.0, color="C0", label="gradient descent: lr lambda < 2")
    ax2.plot(list(stab), list(stab.values()), "ko", ms=5, label="measured (simulated)")
    ax2.set(xlabel="momentum beta", ylabel="largest stable lr * lambda", title="Stability: momentum widens it")
    ax2.legend(fontsize=8)
    save(fig, args.out, "claims_overshoot")
    return same_lr, same_eff, stab


if __name__ == "__main__":
    main()
