"""Claim: momentum overshoots near the minimum
===========================================

Claim: "As training approaches the minimum, the gradient becomes small. But momentum carries
residual velocity from previous steps, causing the optimizer to overshoot and oscillate around
the minimum. This is why learning rate schedules are important - reducing alpha near the end
mitigates this oscillation."

Measured:

1. deterministic, heavyball.landscapes.Ravine (100 x^2 + y^2) with heavy ball at its tuned
   (lr, beta): the contraction per step of ``|x - x*|`` early in the run and close to the minimum,
   against the closed form sqrt(beta) (all modes complex here); and the error after 300 steps
   with and without dividing lr by 10 at step 100;
2. noisy least squares (B = 16, kappa 100), SGD and heavy ball each at its tuned constant lr:
   the final excess loss (mean over the last 10% of 3000 steps, median over seeds) with a
   constant lr and with lr divided by 10 at 50% and again at 75% of the run.

    PYTHONPATH=. python scripts/claims_near_convergence.py [--quick] [--out DIR]
"""

from __future__ import annotations

import math

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, run_batch, save
import heavyball as hb
from heavyball.landscapes import LeastSquares, Ravine

LR_HB, BETA_HB = 0.01386, 0.7  # the ravine's tuned heavy ball (scripts/claims_ravine.py)


def window_contraction(err, lo, hi):
    """Geometric-mean contraction per step of ``err`` between steps lo and hi."""
    return float((err[hi] / err[lo]) ** (1.0 / (hi - lo)))


def ravine_runs(n_steps=300):
    p = Ravine()
    const = hb.optimize(p, hb.SGD(LR_HB, BETA_HB), [1.0, 1.0], n_steps=n_steps)
    decay = hb.optimize(p, hb.SGD(LR_HB, BETA_HB), [1.0, 1.0], n_steps=n_steps,
                        lr_schedule=hb.schedules.step_decay(LR_HB, 0.1, 100))
    return const, decay


def noisy_floor(lrs, betas, n_seeds, T, decay, seed=0):
    """{beta: (median final excess, lr, curve)} at the lr minimising the median final excess."""
    ls = LeastSquares.random(n_samples=1000, dim=20, kappa=100.0, noise=0.5, seed=1)
    pb = LeastSquares(ls.A, ls.y, batch_size=16)
    H, xs = ls.hessian_matrix, ls.minimizer
    k = np.arange(T)
    factor = np.where(k < T // 2, 1.0, np.where(k < 3 * T // 4, 0.1, 0.01)) if decay else np.ones(T)
    out = {}
    for beta in betas:
        rng = np.random.default_rng(seed)
        LR = np.repeat(lrs, n_seeds)
        rec, _ = run_batch(lambda x, k: pb.stochastic_grad(x, k, rng), np.zeros(20), LR, beta, T,
                           lr_of_step=factor[:, None] * LR[None, :],
                           metric=lambda x, k: 0.5 * np.einsum("ij,jk,ik->i", x - xs, H, x - xs))
        tail = np.median(rec[-(T // 10):].mean(axis=0).reshape(len(lrs), n_seeds), axis=1)
        j = int(np.argmin(tail))
        out[beta] = (float(tail[j]), float(lrs[j]), np.median(rec[:, j * n_seeds:(j + 1) * n_seeds], axis=1))
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    const, decay = ravine_runs()
    err = np.linalg.norm(const.x, axis=1) / math.sqrt(2)
    late = int(np.flatnonzero(err > 1e-12)[-1])
    early_rate = window_contraction(err, 10, 60)
    late_rate = window_contraction(err, late - 50, late)
    print(f"ravine, heavy ball lr {LR_HB}, beta {BETA_HB}: contraction per step {early_rate:.4f} at error "
          f"{err[10]:.1e}..{err[60]:.1e}, {late_rate:.4f} at {err[late - 50]:.1e}..{err[late]:.1e}; "
          f"sqrt(beta) = {math.sqrt(BETA_HB):.4f}")
    err_d = np.linalg.norm(decay.x, axis=1) / math.sqrt(2)
    print(f"  error after 300 steps: constant lr {err[-1]:.2e}, lr / 10 from step 100 on {err_d[-1]:.2e}")
    T = 800 if args.quick else 3000
    lrs = np.geomspace(1e-4, 3e-2, 5 if args.quick else 16)
    n_seeds = 3 if args.quick else 7
    floors = {d: noisy_floor(lrs, (0.0, 0.9), n_seeds, T, d) for d in (False, True)}
    for beta in (0.0, 0.9):
        c, d = floors[False][beta], floors[True][beta]
        print(f"noisy least squares, beta {beta}: final excess constant lr {c[0]:.3g} (lr {c[1]:.3g}), with lr "
              f"decay {d[0]:.3g} (lr {d[1]:.3g}): {c[0] / d[0]:.1f}x lower")

    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    k = np.arange(len(err))
    ax1.plot(k, err, color="C3", label=f"heavy ball, constant lr {LR_HB}")
    ax1.plot(k, err_d, color="C1", ls="--", label="same, lr / 10 from step 100")
    ax1.plot(k, math.sqrt(BETA_HB) ** k * err[1] / math.sqrt(BETA_HB), color="0.5", lw=0.8, ls=":",
             label="envelope sqrt(beta)^k")
    ax1.set(yscale="log", ylim=(1e-25, 10), xlabel="step k", ylabel="|x_k - x*| / |x_0 - x*|",
            title="Ravine: the same contraction at every scale")
    ax1.legend(fontsize=8)
    for beta, c in ((0.0, "C0"), (0.9, "C3")):
        ax2.plot(floors[False][beta][2], color=c, alpha=0.6, label=f"beta {beta}, constant lr")
        ax2.plot(floors[True][beta][2], color=c, ls="--", label=f"beta {beta}, lr / 10 at 50% and 75%")
    ax2.set(yscale="log", xlabel="step k", ylabel="excess loss (median over seeds)",
            title="Noisy least squares (B = 16): the noise floor")
    ax2.legend(fontsize=8)
    save(fig, args.out, "claims_near_convergence")
    return early_rate, late_rate, floors


if __name__ == "__main__":
    main()
