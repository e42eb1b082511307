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
(lr, beta) on a fine grid (61 lrs 1.16x apart, 14 momenta from 0.1 to 0.98) by the median over
7 seeds; median and interquartile range over 31 fresh seeds at the tuned point; B from 1 to
full batch. The script stops with an error if a tuned point lies on an edge of the grid.

Why: with the exact floor (heavyball.noise.minibatch_floor) and the noiseless curves
(heavyball.noise.expected_loss) at the tuned points. At small B the noise caps the usable
lr_eff = lr / (1 - beta) far below the curvature limit 2/L, and heavy ball at (lr, beta) is
SGD at lr_eff; at large B the cap passes 2/L, heavy ball takes an lr_eff where SGD diverges,
and the speed-up is the noiseless one.

    PYTHONPATH=. python scripts/claims_batch_size.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import (MedianPassStop, figure, first_below, fmt_spread, parse_args, plain_ticks, run_batch,
                           save, spread)
from heavyball.landscapes import LeastSquares
from heavyball.noise import expected_loss, minibatch_floor, stationary_loss

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


def tuned_steps(prob, batch_size, lrs, betas, n_seeds, max_steps, seed=0, n_eval=None):
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
    n_eval = n_seeds if n_eval is None else n_eval
    lr2 = np.repeat([out["SGD"][0], out["heavy ball"][0]], n_eval)
    b2 = np.repeat([out["SGD"][1], out["heavy ball"][1]], n_eval)
    stop = MedianPassStop(TARGET, np.arange(2 * n_eval), 1)
    rec, _ = run_batch(gradient(prob, batch_size, seed + 1), np.zeros(prob.dim), lr2, b2, max_steps, metric=excess,
                       stop=stop)
    steps = first_below(rec, TARGET, stay=False).astype(float)
    steps[steps < 0] = np.inf
    return {name: out[name] + (steps[k * n_eval:(k + 1) * n_eval],) for k, name in enumerate(out)}


def check_interior(name, batch_size, lr, beta, lrs, betas):
    """Fail loudly if a tuned point sits on an edge of the grid (the optimum may lie outside it)."""
    i = int(np.argmin(np.abs(lrs - lr)))
    edges = [f"lr {lr:.3g} is the grid's {'lower' if i == 0 else 'upper'} edge"] if i in (0, len(lrs) - 1) else []
    if beta > 0:
        pos = betas[betas > 0]
        j = int(np.argmin(np.abs(pos - beta)))
        if j in (0, len(pos) - 1):
            edges.append(f"beta {beta} is the grid's {'lower' if j == 0 else 'upper'} edge")
    if edges:
        raise RuntimeError(f"B = {batch_size or 'full'}: {name}'s tuned point is on the grid's edge "
                           f"({'; '.join(edges)}): widen the grid")


def noiseless_steps(prob, lr, beta, max_steps):
    """Steps until the excess loss first drops below TARGET with the exact gradient (curvature only)."""
    method = "gd" if beta == 0 else "heavy_ball"
    curve = expected_loss(prob.hessian_matrix, lr, beta, method, 0.0, x0=-prob.minimizer, n_steps=max_steps)
    below = np.flatnonzero(curve <= TARGET)
    return int(below[0]) if below.size else np.inf


def floors(prob, batch_size, lr, beta, exact):
    """(floor, constant-noise floor, mean-square radius) at (lr, beta); inf floors if unstable.

    ``exact``: heavyball.noise.minibatch_floor (the noise depends on x, exact for minibatch least
    squares); otherwise only the constant-noise floor, stationary_loss with Sigma_1(x*) / B.
    """
    if batch_size is None:
        return 0.0, 0.0, np.nan
    method = "gd" if beta == 0 else "heavy_ball"
    try:
        if exact:
            r = minibatch_floor(prob, lr, beta, method, batch_size)
            return r.floor, r.constant_noise_floor, r.second_moment_radius
        Q = prob.gradient_covariance(prob.minimizer, batch_size)
        return np.nan, stationary_loss(prob.hessian_matrix, lr, beta, method, Q), np.nan
    except ValueError:  # not stable in the mean: no floor
        return np.inf, np.inf, np.inf


def matched_steps(prob, batch_size, lr_eff, betas, n_eval, max_steps, seed=7):
    """Per-beta steps to TARGET at the same lr_eff = lr / (1 - beta) (fresh seeds)."""
    lr = np.repeat(lr_eff * (1 - np.asarray(betas)), n_eval)
    rec, _ = run_batch(gradient(prob, batch_size, seed), np.zeros(prob.dim), lr, np.repeat(betas, n_eval), max_steps,
                       metric=lambda x, k: 0.5 * np.einsum("ij,jk,ik->i", x - prob.minimizer, prob.hessian_matrix,
                                                           x - prob.minimizer),
                       stop=MedianPassStop(TARGET, np.arange(len(lr)), 1))
    steps = first_below(rec, TARGET, stay=False).astype(float)
    steps[steps < 0] = np.inf
    return steps.reshape(len(betas), n_eval)


def mean_square_edge(prob, batch_size, lo, hi, n_halvings=6):
    """SGD's largest mean-square stable lr under the minibatch noise (geometric bisection in [lo, hi])."""
    for _ in range(n_halvings):
        mid = float(np.sqrt(lo * hi))
        ok = minibatch_floor(prob, mid, 0.0, "gd", batch_size).second_moment_radius < 1
        lo, hi = (mid, hi) if ok else (lo, mid)
    return lo, hi


def explain(prob, rows, exact):
    """Print why the speed-up grows with B: noise caps the usable lr_eff at small B, curvature at large B."""
    L = float(np.linalg.eigvalsh(prob.hessian_matrix)[-1])
    tr = float(np.trace(prob.gradient_covariance(prob.minimizer, 1)))
    print(f"\nWhy: SGD is stable for lr < 2/L = {2 / L:.3g}; the small-step floor rule lr_eff tr(Sigma_1)/(4 B) "
          f"reaches the target {TARGET} at lr_eff = 4 B target / tr(Sigma_1) = {4 * TARGET / tr:.3g} B "
          f"(the noise cap), "
          f"below 2/L for B < {tr / (2 * L * TARGET):.1f}.")
    kind = "exact (noise.minibatch_floor)" if exact else "constant noise Sigma_1(x*)/B (noise.stationary_loss)"
    print(f"floor = lim E[L] - L*, {kind}, over the target; rho = mean-square radius; lr_eff = lr / (1 - beta)")
    print("     B | HB lr_eff/SGD lr  lr_eff/cap | floor/target: SGD   HB   SGD@HB's lr_eff | rho SGD  HB | "
          "noiseless steps SGD HB (ratio) | measured/noiseless SGD HB")
    out = []
    for B, (lr0, _, m0), (lr1, b1, m1) in rows:
        eff = lr1 / (1 - b1)
        cap = 4 * TARGET * (B or np.inf) / tr
        f0, f1 = floors(prob, B, lr0, 0.0, exact), floors(prob, B, lr1, b1, exact)
        fm = floors(prob, B, eff, 0.0, exact) if eff < 2 / L else (np.inf, np.inf, np.inf)
        n0, n1 = noiseless_steps(prob, lr0, 0.0, 20000), noiseless_steps(prob, lr1, b1, 20000)
        k = 0 if exact else 1
        fmt = lambda v: f"{v / TARGET:5.2f}" if np.isfinite(v) else "  unstable"  # noqa: E731
        rho = lambda v: f"{v:.3f}" if np.isfinite(v) else "  -  "  # noqa: E731
        print(f"{str(B or 'full'):>6} | {eff / lr0:16.2f}  {eff / cap:10.2f} | {fmt(f0[k]):>17} {fmt(f1[k]):>5} "
              f"{fmt(fm[k]):>15} | {rho(f0[2])} {rho(f1[2])} | {n0:14d} {n1:3d} ({n0 / n1:.2f}x) | "
              f"{m0 / n0:18.2f} {m1 / n1:.2f}")
        out.append(dict(B=B, floor_sgd=f0[k], floor_hb=f1[k], floor_matched=fm[k], lr_eff_ratio=eff / lr0,
                        noiseless_speedup=n0 / n1, noise_cost=(m0 / n0, m1 / n1)))
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    prob = problem()
    initial = 0.5 * prob.minimizer @ prob.hessian_matrix @ prob.minimizer
    print(f"least squares: kappa {prob.kappa:.0f}, initial excess {initial:.0f}, "
          f"trace Sigma_1(x*) = {np.trace(prob.gradient_covariance(prob.minimizer, 1)):.1f}")
    if args.quick:
        batches, lrs = [1, 256, None], np.geomspace(1e-4, 6e-2, 15)
        betas, n_seeds, n_eval = np.array([0.0, 0.3, 0.5, 0.7, 0.9]), 3, 3
    else:
        batches, lrs = [1, 4, 16, 64, 256, None], np.geomspace(1e-5, 6e-2, 61)  # 1.16x apart
        betas = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98])
        n_seeds, n_eval = 7, 31
    print(f"grid: {len(lrs)} lrs {lrs[0]:.3g} to {lrs[-1]:.3g} ({lrs[1] / lrs[0]:.3f}x apart), betas {betas.tolist()}; "
          f"tuned by the median over {n_seeds} seeds, measured on {n_eval} fresh seeds")
    rows = []
    for B in batches:
        res = tuned_steps(prob, B, lrs, betas, n_seeds, 8000, n_eval=n_eval)
        (lr0, _, s0), (lr1, b1, s1) = res["SGD"], res["heavy ball"]
        check_interior("SGD", B, lr0, 0.0, lrs, betas)
        check_interior("heavy ball", B, lr1, b1, lrs, betas)
        m0, m1 = spread(s0), spread(s1)
        rows.append((B, (lr0, 0.0, m0[0]), (lr1, b1, m1[0]), m0, m1))
        print(f"B = {B or 'full'}: SGD lr {lr0:.3g}: {m0[0]:.0f} [{m0[1]:.0f}, {m0[2]:.0f}] steps; "
              f"heavy ball lr {lr1:.3g}, "
              f"beta {b1}: {m1[0]:.0f} [{m1[1]:.0f}, {m1[2]:.0f}]; speed-up {m0[0] / m1[0]:.2f}x")
    why = explain(prob, [r[:3] for r in rows], exact=not args.quick)
    lr0 = rows[0][1][0]  # the smallest batch: heavy ball at SGD's tuned lr_eff is SGD
    if not args.quick and batches[0] is not None:
        lo, hi = mean_square_edge(prob, batches[0], lr0, 2 / float(np.linalg.eigvalsh(prob.hessian_matrix)[-1]))
        print(f"B = {batches[0]}: SGD is mean-square stable up to lr {lo:.3g}..{hi:.3g} (bisection), "
              f"{lo / lr0:.2f}x its tuned lr")
    mb = np.array([0.0, 0.5, 0.9])
    st = matched_steps(prob, batches[0], lr0, mb, n_eval, 8000)
    print(f"B = {batches[0]}, all at lr_eff = SGD's tuned lr {lr0:.3g}, {n_eval} fresh seeds: steps "
          + ", ".join(f"beta {b}: {fmt_spread(s, 3)}" for b, s in zip(mb, st)))
    rows = [(r[0], r[3], r[4]) for r in rows]

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
    ax2.plot(xb, [r[1][0] / r[2][0] for r in rows], "o-", color="C2", label="measured")
    ax2.plot(xb, [w["noiseless_speedup"] for w in why], "s--", color="0.4", mfc="none",
             label="same tuned points, no noise (noise.expected_loss)")
    ax2.legend(fontsize=8)
    ax2.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax2.set_xticks(xb, labels)
    ax2.set(yscale="log", xlabel="batch size B", ylabel="speed-up of tuned heavy ball over tuned SGD",
            title="Momentum's benefit grows with the batch size")
    plain_ticks(ax2)
    save(fig, args.out, "claims_batch_size")
    return rows




if __name__ == "__main__":
    main()
