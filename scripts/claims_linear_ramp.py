"""Claim: a linear momentum ramp towards 0.95
==========================================

Claim (FAQ page): increase the momentum during training "to a higher value like 0.95" with
"a simple formula like gamma_t = gamma_0 + (1 - gamma_0) t / T" (T the total number of steps),
presented as "learning rate scheduling".

The formula ends at gamma_T = 1: no friction at all (the particle's energy is no longer
dissipated; every mode's contraction sqrt(gamma) tends to 1; the effective learning rate
lr / (1 - gamma) grows to lr T / (1 - gamma_0)). Measured on noisy least squares (B = 16,
kappa 100), each schedule at its own best lr from a grid, with T = the run length: the mean
excess loss over the last 10% of the steps (median over seeds), against the ramp the text
intends (gamma_0 -> 0.95, the same formula capped) and constant 0.9.

    PYTHONPATH=. python scripts/claims_linear_ramp.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, run_batch, save
from heavyball.landscapes import LeastSquares

GAMMA0 = 0.5


def schedules(T):
    t = np.arange(T)
    return {"seed formula 0.5 -> 1": GAMMA0 + (1.0 - GAMMA0) * t / T,
            "0.5 -> 0.95 (capped)": GAMMA0 + (0.95 - GAMMA0) * t / T,
            "constant 0.9": np.full(T, 0.9)}


def noisy_final_loss(T, lrs, n_seeds, seed=0):
    """{schedule: (median over seeds of the mean excess loss in the last 10% of steps, lr, per-seed values)}."""
    ls = LeastSquares.random(n_samples=1000, dim=20, kappa=100.0, noise=0.5, seed=1)
    pb = LeastSquares(ls.A, ls.y, batch_size=16)
    H, xs = ls.hessian_matrix, ls.minimizer
    out = {}
    for name, bos in schedules(T).items():
        rng = np.random.default_rng(seed)
        rec, div = run_batch(lambda x, k: pb.stochastic_grad(x, k, rng), np.zeros(20), np.repeat(lrs, n_seeds),
                             0.9, T, beta_of_step=bos,
                             metric=lambda x, k: 0.5 * np.einsum("ij,jk,ik->i", x - xs, H, x - xs))
        tail = rec[-(T // 10):].mean(axis=0).reshape(len(lrs), n_seeds)
        med = np.median(tail, axis=1)
        j = int(np.argmin(med))
        out[name] = (float(med[j]), float(lrs[j]), tail[j], rec[:, j * n_seeds:(j + 1) * n_seeds])
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    T = 600 if args.quick else 3000
    print(f"T = {T}: the seed formula's last momentum is {GAMMA0 + (1 - GAMMA0) * (T - 1) / T:.5f}, "
          f"effective-lr multiplier 1/(1 - gamma) = {T / (1 - GAMMA0):.0f} (constant 0.9: 10)")
    noisy = noisy_final_loss(T, np.geomspace(1e-5, 3e-2, 7 if args.quick else 19), 3 if args.quick else 7)
    for name, (med, lr, per_seed, _) in noisy.items():
        print(f"noisy least squares, {name}: final excess loss {med:.3g} (lr {lr:.3g}; seeds "
              f"{np.round(per_seed, 4).tolist()})")

    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    for i, (name, bos) in enumerate(schedules(T).items()):
        ax1.plot(np.arange(T), 1.0 - bos, color=f"C{i}", label=name)
        ax2.plot(np.median(noisy[name][3], axis=1), color=f"C{i}", label=f"{name} (lr {noisy[name][1]:.2g})")
    ax1.set(yscale="log", xlabel="step k", ylabel="friction share 1 - gamma_k", title="Momentum schedules")
    ax1.legend(fontsize=8)
    ax2.set(yscale="log", xlabel="step k", ylabel="excess loss (median over seeds)",
            title="Noisy least squares (B = 16)")
    ax2.legend(fontsize=8)
    save(fig, args.out, "claims_linear_ramp")
    return noisy


if __name__ == "__main__":
    main()
