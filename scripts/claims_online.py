"""Claim: momentum hurts when the data distribution shifts
=======================================================

Claim: "In online learning, the data distribution may shift over time. Momentum averages old
gradients, which reflect the old distribution. If the distribution changes faster than
1/(1-beta) steps, momentum actively hurts by pulling toward outdated optima. Use lower
momentum (beta <= 0.5) or none for online settings."

Problem: heavyball.landscapes.DriftingQuadratic with curvatures (1, 100) whose minimiser
(a) circles with radius 1 and period P steps, (b) moves steadily at 0.01 per step; with and
without gradient noise (sigma 3 per coordinate). Measured: the mean distance ``|x_k - c(k)|`` to the
moving minimiser over the second half of the run, for each beta at its own best lr from a
grid (median over seeds when noisy), and the steady-state lag of a steady drift against the
closed form (1 - beta) s u_i / (lr lambda_i) per coordinate.

    PYTHONPATH=. python scripts/claims_online.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, plain_ticks, run_batch, save
from heavyball.landscapes import DriftingQuadratic

BETAS = (0.0, 0.5, 0.9, 0.95)
EIG = (1.0, 100.0)


def tracking(problem, lrs, betas, n_seeds, n_steps, seed=0):
    """Mean |x_k - c(k)| over the second half: array (len(lrs), len(betas), n_seeds)."""
    LR, BE, _ = np.meshgrid(lrs, betas, np.arange(n_seeds), indexing="ij")
    rng = np.random.default_rng(seed)
    rec, div = run_batch(lambda x, k: problem.stochastic_grad(x, k, rng), problem.minimizer_at(0),
                         LR.ravel(), BE.ravel(), n_steps,
                         metric=lambda x, k: np.linalg.norm(x - problem.minimizer_at(k), axis=1))
    err = rec[n_steps // 2:].mean(axis=0)
    err[div] = np.inf
    return err.reshape(LR.shape)


def best_per_beta(err, lrs):
    med = np.median(err, axis=2)
    j = np.argmin(med, axis=0)
    return med[j, np.arange(med.shape[1])], lrs[j]


def steady_lag(beta, lr, speed=0.01, eig=EIG):
    """|e| of the steady state of heavy ball tracking c(k) = k s u: e_i = (1 - beta) s u_i / (lr lambda_i)."""
    u = 1.0 / np.sqrt(len(eig))
    return float(np.linalg.norm([(1.0 - beta) * speed * u / (lr * lam) for lam in eig]))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    lrs = np.geomspace(0.05, 3.9, 8 if args.quick else 24) / EIG[1]  # lr * lambda_max in [0.05, 3.9]
    betas = np.array(BETAS)
    periods = [10, 1000] if args.quick else [10, 20, 50, 100, 300, 1000]
    curves = {}
    for noise in (0.0, 3.0):
        n_seeds = 1 if noise == 0 else (3 if args.quick else 7)
        rows = []
        for P in periods:
            prob = DriftingQuadratic(EIG, drift="circle", radius=1.0, period=P, noise=noise)
            best, _ = best_per_beta(tracking(prob, lrs, betas, n_seeds, max(1000, (2 if args.quick else 4) * P)), lrs)
            rows.append(best)
            print(f"circle, period {P:5d}, noise {noise}: best mean error per beta "
                  + ", ".join(f"{b}: {e:.3g}" for b, e in zip(BETAS, best)))
        curves[noise] = np.array(rows)
        prob = DriftingQuadratic(EIG, drift="linear", speed=0.01, noise=noise)
        best, blr = best_per_beta(tracking(prob, lrs, betas, n_seeds, 2000), lrs)
        print(f"steady drift 0.01/step, noise {noise}: best mean error per beta "
              + ", ".join(f"{b}: {e:.3g} (lr {l:.3g}, lag theory {steady_lag(b, l):.3g})"
                          for b, e, l in zip(BETAS, best, blr)))

    fig, axes = figure(2, 1, width=5.0)
    for ax, noise in zip(axes, curves):
        for i, (beta, c) in enumerate(zip(BETAS, ("C0", "C1", "C2", "C3"))):
            ax.plot(periods, curves[noise][:, i], "o-", ms=4, color=c, label=f"beta = {beta} (best lr)")
            if beta > 0:
                ax.axvline(1 / (1 - beta), color=c, lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="period of the drift P (steps)",
               ylabel="mean |x_k - c(k)| over the 2nd half",
               title=f"Circling minimiser, noise {noise:g} (dotted: 1/(1 - beta))")
        plain_ticks(ax)
        ax.legend(fontsize=8, loc="lower left")
    save(fig, args.out, "claims_online")
    return curves


if __name__ == "__main__":
    main()
