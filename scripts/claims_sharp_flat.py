"""Claim: momentum prefers flat minima
===================================

Claim: "momentum prefers flat minima over sharp minima. Sharp minima have high curvature;
momentum's oscillation-damping effect prevents settling into these. Flat minima have low
curvature; momentum doesn't oscillate and settles smoothly."

Landscape: heavyball.landscapes.SharpFlatMinima(flat=1, sharp=20), two minima of equal depth
(L = 0) at x = -1 (curvature 1) and x = +1 (curvature 20). Measured, at equal *effective*
learning rate lr/(1 - beta) (the rate at which both move on slow, smooth slopes):

1. deterministic runs from a grid of starts in [-1.6, 1.6]: the share ending in each minimum,
   against the linear-stability limit of the sharp one, lr * 20 < 2 (1 + beta);
2. noisy runs (Gaussian gradient noise sigma, half started in each minimum): the share of time
   spent in the flat basin, against the Gibbs prediction exp(-L/T), T = lr_eff sigma^2 / 2,
   integrated by quadrature.

    PYTHONPATH=. python scripts/claims_sharp_flat.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, fmt_spread, parse_args, run_batch, save
from heavyball.diagnostics import nearest_minimum
from heavyball.landscapes import SharpFlatMinima

BETAS = (0.0, 0.5, 0.9)


def stability_limit(beta, curvature):
    """Largest effective lr lr/(1 - beta) at which a minimum of this curvature is stable."""
    return 2.0 * (1.0 + beta) / ((1.0 - beta) * curvature)


def basin_shares(problem, lr_effs, beta, starts, n_steps):
    """Shares of starts ending (within 1e-3) in the flat / sharp minimum, per effective lr."""
    flat, sharp = [], []
    x0 = np.repeat(starts[:, None], len(lr_effs), axis=0)
    lr = np.tile(np.asarray(lr_effs) * (1.0 - beta), len(starts))
    xs, div = run_batch(lambda x, k: problem.grad(x), x0, lr, beta, n_steps)
    idx = nearest_minimum(xs[-1], problem.local_minima, tol=1e-3)
    idx[div] = -1
    idx = idx.reshape(len(starts), len(lr_effs))
    flat, sharp = np.mean(idx == 0, axis=0), np.mean(idx == 1, axis=0)
    return flat, sharp


def gibbs_flat_share(problem, temperature):
    """P(x < x_b) under exp(-L/T), by quadrature on a fine grid over [-3, 3]."""
    x = np.linspace(-3.0, 3.0, 200001)
    w = np.exp(-problem.value(x[:, None]) / temperature)
    return float(np.trapezoid(w * (x < problem.barrier_point[0]), x) / np.trapezoid(w, x))


def noisy_occupancy(problem, lr_eff, beta, sigma, n_runs, n_steps, seed=0):
    """Per-run share of steps spent left of the barrier (flat basin); half the runs start at each minimum."""
    rng = np.random.default_rng(seed)
    x0 = np.where(np.arange(n_runs) % 2 == 0, -1.0, 1.0)[:, None]
    xb = problem.barrier_point[0]
    rec, div = run_batch(lambda x, k: problem.grad(x) + sigma * rng.standard_normal(x.shape), x0,
                         lr_eff * (1.0 - beta), beta, n_steps, metric=lambda x, k: (x[:, 0] < xb).astype(float))
    return rec[n_steps // 10:].mean(axis=0), int(div.sum())


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    p = SharpFlatMinima(flat=1.0, sharp=20.0)
    print(f"{p!r}: barrier at x = {p.barrier_point[0]:.4f}, height {p.barrier_height:.4f}")
    starts = np.linspace(-1.6, 1.6, 80 if args.quick else 320)  # misses the minima themselves
    lr_effs = np.geomspace(0.01, 2.4, 12 if args.quick else 41)  # GD's flat minimum is unstable from 2 on
    shares = {}
    for beta in BETAS:
        shares[beta] = basin_shares(p, lr_effs, beta, starts, 1000 if args.quick else 4000)
        lim = stability_limit(beta, p.sharp)
        small = lr_effs < lim
        print(f"beta {beta}: sharp minimum stable for lr_eff < {lim:.3f}; share ending in the flat one "
              f"{shares[beta][0][small].min():.2f}-{shares[beta][0][small].max():.2f} below it, in the sharp one "
              f"{shares[beta][1][small].min():.2f}-{shares[beta][1][small].max():.2f} below and at most "
              f"{shares[beta][1][~small].max():.3f} above it")
    sigma, lr_eff = 8.0, 0.01
    T = lr_eff * sigma**2 / 2
    gibbs = gibbs_flat_share(p, T)
    n_runs, n_steps = (60, 2500) if args.quick else (200, 20000)
    occ = {}
    for beta in BETAS:
        occ[beta], n_div = noisy_occupancy(p, lr_eff, beta, sigma, n_runs, n_steps)
        print(f"noise sigma {sigma}, lr_eff {lr_eff}, beta {beta}: time in the flat basin, median [IQR] over "
              f"{n_runs} runs: {fmt_spread(occ[beta])}, mean {occ[beta].mean():.3f} ({n_div} diverged); "
              f"Gibbs at T = {T}: {gibbs:.3f}")

    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    for beta, c in zip(BETAS, ("C0", "C1", "C3")):
        ax1.plot(lr_effs, shares[beta][1], "o-", ms=3, color=c, label=f"beta = {beta}: ends in sharp minimum")
        ax1.plot(lr_effs, shares[beta][0], "s--", ms=3, color=c, label=f"beta = {beta}: ends in flat minimum")
        ax1.axvline(stability_limit(beta, p.sharp), color=c, lw=0.8, ls=":")
    ax1.set(xscale="log", ylim=(-0.02, 1.02), xlabel="effective learning rate lr / (1 - beta)",
            ylabel="share of starts in [-1.6, 1.6]", title="Deterministic runs (dotted: sharp minimum unstable)")
    ax1.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    for i, (beta, c) in enumerate(zip(BETAS, ("C0", "C1", "C3"))):
        o = occ[beta]
        ax2.errorbar([i], [o.mean()], yerr=[2 * o.std(ddof=1) / np.sqrt(o.size)], fmt="o", color=c, capsize=4,
                     label=f"beta = {beta}: mean +- 2 s.e. over {o.size} runs")
    ax2.axhline(gibbs, color="0.3", ls="--", lw=1, label=f"Gibbs exp(-L/T), T = lr_eff sigma^2/2 = {T:g}")
    ax2.set_xticks(range(len(BETAS)), [f"beta = {b}" for b in BETAS])
    ax2.set(xlim=(-0.5, len(BETAS) - 0.5), ylim=(0.5, 1), ylabel="share of steps in the flat basin",
            title=f"Noisy gradients (sigma {sigma:g}), equal lr_eff = {lr_eff}")
    ax2.legend(fontsize=8, loc="lower right")
    save(fig, args.out, "claims_sharp_flat")
    return shares, occ, gibbs


if __name__ == "__main__":
    main()
