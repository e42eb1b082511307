"""Claim: momentum matters less with larger batches
================================================

Claim: "Larger batches produce less noisy gradients. With low noise, momentum has fewer
oscillations to dampen, so its benefit decreases." Also the EMA "can provide us a better
estimate ... than our noisy calculations" and momentum "is helpful in regularizing the
stochasticity inherent in SGD".

Problem: heavyball.landscapes.LeastSquares.random(n_samples=1000, dim=20, kappa=100,
noise=0.5, seed=1), minibatches of B samples drawn with replacement (gradient noise variance
exactly Sigma_1 / B), started at 0. Measured: the steps until the excess loss L - L* first
drops below 0.1 (initial excess 373), for SGD (beta = 0) and heavy ball, each at its own best
(lr, beta) from a grid by the median over seeds; median and interquartile range over seeds
at the tuned point; B from 1 to full batch.

    PYTHONPATH=. python scripts/claims_batch_size.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import MedianPassStop, figure, first_below, parse_args, plain_ticks, run_batch, save, spread
from heavyball.landscapes import LeastSquares

TARGET = 0.1


def problem():
    return LeastSquares.random(n_samples=1000, dim=20, kappa=100.0, noise=0.5, seed=1)


def gradient(prob, batch_size, seed):
    """``grad(x, k)`` for a grid of runs: minibatches of ``batch_size`` (None: the full gradient)."""
    if batch_size is None:
        H, xs = prob.hessian_matrix, prob.minimizer
        return lambda x, k: (x - xs) @ H  # exact for least squares
    pb = LeastSquares(prob.A, prob.y, batch_size=batch_size)
    rng = np.random.default_rng(seed)
    return lambda x, k: pb.stochastic_grad(x, k, rng)


def tuned_steps(prob, batch_size, lrs, betas, n_seeds, max_steps, seed=0):
    """{name: (lr, beta, per-seed steps)} for SGD and heavy ball at their best grid point.

    ``batch_size = None`` is the full-batch gradient.
    """
    LR, BE, _ = np.meshgrid(lrs, betas, np.arange(n_seeds), indexing="ij")
    H, xs = prob.hessian_matrix, prob.minimizer
    grad = gradient(prob, batch_size, seed)

    def excess(x, k):
        d = x - xs
        return 0.5 * np.einsum("ij,jk,ik->i", d, H, d)

    groups = (np.meshgrid(lrs, betas, indexing="ij")[1].ravel() > 0).astype(int)
    stop = MedianPassStop(TARGET, groups, n_seeds)
    rec, _ = run_batch(grad, np.zeros(prob.dim), LR.ravel(), BE.ravel(), max_steps, metric=excess, stop=stop)
    steps = first_below(rec, TARGET, stay=False).astype(float)
    steps[steps < 0] = np.inf
    steps = steps.reshape(LR.shape)
    med = np.median(steps, axis=2)
    out = {}
    for name, cols in (("SGD", betas == 0), ("heavy ball", betas > 0)):
        m = np.where(cols[None, :], med, np.inf)
        i, j = np.unravel_index(int(np.argmin(m)), m.shape)
        out[name] = (float(lrs[i]), float(betas[j]))
    # the early stop cut the slower seeds short: rerun the two tuned points to completion
    lr2 = np.repeat([out["SGD"][0], out["heavy ball"][0]], n_seeds)
    b2 = np.repeat([out["SGD"][1], out["heavy ball"][1]], n_seeds)
    stop = MedianPassStop(TARGET, np.arange(2 * n_seeds), 1)
    rec, _ = run_batch(gradient(prob, batch_size, seed + 1), np.zeros(prob.dim), lr2, b2, max_steps, metric=excess,
                       stop=stop)
    steps = first_below(rec, TARGET, stay=False).astype(float)
    steps[steps < 0] = np.inf
    return {name: out[name] + (steps[k * n_seeds:(k + 1) * n_seeds],) for k, name in enumerate(out)}


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    prob = problem()
    initial = 0.5 * prob.minimizer @ prob.hessian_matrix @ prob.minimizer
    print(f"least squares: kappa {prob.kappa:.0f}, initial excess {initial:.0f}, "
          f"trace Sigma_1(x*) = {np.trace(prob.gradient_covariance(prob.minimizer, 1)):.1f}")
    if args.quick:
        batches, lrs, betas, n_seeds = [1, 256, None], np.geomspace(3e-4, 4e-2, 7), np.array([0.0, 0.5, 0.9]), 3
    else:
        batches = [1, 4, 16, 64, 256, None]
        lrs, betas, n_seeds = np.geomspace(1e-4, 4e-2, 13), np.array([0.0, 0.5, 0.8, 0.9, 0.95]), 7
    rows = []
    for B in batches:
        res = tuned_steps(prob, B, lrs, betas, n_seeds, 8000)
        (lr0, _, s0), (lr1, b1, s1) = res["SGD"], res["heavy ball"]
        m0, m1 = spread(s0), spread(s1)
        rows.append((B, m0, m1))
        print(f"B = {B or 'full'}: SGD lr {lr0:.3g}: {m0[0]:.0f} [{m0[1]:.0f}, {m0[2]:.0f}] steps; "
              f"heavy ball lr {lr1:.3g}, "
              f"beta {b1}: {m1[0]:.0f} [{m1[1]:.0f}, {m1[2]:.0f}]; speed-up {m0[0] / m1[0]:.2f}x")

    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    xb = np.arange(len(rows))
    labels = [str(r[0] or "full") for r in rows]
    for k, (name, c) in enumerate((("SGD (tuned lr)", "C0"), ("heavy ball (tuned lr, beta)", "C3"))):
        med = np.array([r[1 + k][0] for r in rows])
        lo, hi = np.array([r[1 + k][1] for r in rows]), np.array([r[1 + k][2] for r in rows])
        ax1.errorbar(xb, med, yerr=[med - lo, hi - med], fmt="o-", capsize=3, color=c, label=name)
    ax1.set_xticks(xb, labels)
    ax1.set(yscale="log", xlabel="batch size B", ylabel=f"steps to excess loss <= {TARGET} (median, IQR)",
            title="Least squares, kappa = 100")
    plain_ticks(ax1)
    ax1.legend(fontsize=8)
    ax2.plot(xb, [r[1][0] / r[2][0] for r in rows], "o-", color="C2")
    ax2.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax2.set_xticks(xb, labels)
    ax2.set(yscale="log", xlabel="batch size B", ylabel="speed-up of tuned heavy ball over tuned SGD",
            title="Momentum's benefit grows with the batch size")
    plain_ticks(ax2)
    save(fig, args.out, "claims_batch_size")
    return rows


if __name__ == "__main__":
    main()
