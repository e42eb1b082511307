"""Claim: the kappa table, its speed-ups and the optimal (lr, beta)
================================================================

Claim: the course page's kappa table, its "speedup factor" column, the optimal (lr, beta)
formulas, and "beta = 0.9 is optimal for condition numbers around 100".

Measured: the analytic rates next to the contraction simulated on L = (mu x^2 + L y^2)/2 with
mu = 1, L = kappa (both at their optimal tuning, started at (1, 1)), the steps each needs
for a 1e-6 reduction of ``|x - x*|``, and the optimal (lr, beta) found by a grid search of the
spectral radius, against the closed forms.

    PYTHONPATH=. python scripts/claims_rates.py [--quick] [--out DIR]
"""

from __future__ import annotations

import math

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save

SEED_TABLE = {  # kappa: (gd_rate, hb_rate, speedup) as printed in the course page
    10: (0.818, 0.519, 2.6),
    100: (0.980, 0.818, 9.0),
    1000: (0.998, 0.939, 30.0),
    10000: (0.9998, 0.980, 100.0),
}


def gd_rate(kappa):
    """Gradient descent at lr = 2/(L + mu): (kappa - 1)/(kappa + 1)."""
    return (kappa - 1.0) / (kappa + 1.0)


def hb_rate(kappa):
    """Heavy ball at Polyak's tuning: (sqrt kappa - 1)/(sqrt kappa + 1)."""
    s = math.sqrt(kappa)
    return (s - 1.0) / (s + 1.0)


def hb_optimal(mu, L):
    """Polyak's lr = 4/(sqrt L + sqrt mu)^2 and beta = ((sqrt k - 1)/(sqrt k + 1))^2."""
    return 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, hb_rate(L / mu) ** 2


def kappa_where_optimal(beta):
    """The condition number whose Polyak-optimal momentum is ``beta``."""
    r = math.sqrt(beta)
    return ((1.0 + r) / (1.0 - r)) ** 2


def mode_radius(lam, lr, beta):
    """Largest |root| of s^2 - (1 + beta - lr lam) s + beta, vectorised."""
    b = 1.0 + beta - lr * lam
    disc = b * b - 4.0 * beta
    real = np.maximum(np.abs(b + np.sqrt(np.maximum(disc, 0))), np.abs(b - np.sqrt(np.maximum(disc, 0)))) / 2
    return np.where(disc >= 0, real, np.sqrt(np.abs(beta)))


def simulated_steps(kappa, method, tol=1e-6, max_steps=10**6):
    """Steps until |x_k - x*| <= tol |x_0 - x*| on the two extreme modes, started at (1, 1) at rest.

    Each mode is its own scalar recurrence (the problem is diagonal), iterated in plain
    floats: GD ``e <- (1 - lr lam) e``; heavy ball ``e_{k+1} = (1 + beta - lr lam) e_k - beta e_{k-1}``.
    """
    lams = (1.0, float(kappa))
    if method == "gd":
        lr, beta = 2.0 / (1.0 + kappa), 0.0
    else:
        lr, beta = hb_optimal(1.0, kappa)
    e = [1.0, 1.0]
    prev = [1.0, 1.0]
    for k in range(1, max_steps + 1):
        new = [(1 + beta - lr * lam) * ei - beta * pi for lam, ei, pi in zip(lams, e, prev)]
        prev, e = e, new
        if math.sqrt((e[0] ** 2 + e[1] ** 2) / 2.0) <= tol:
            return k
    return -1


def grid_optimum(mu, L, n=401):
    """(lr, beta, rate) minimising the spectral radius over a grid (refined twice)."""
    lr_lo, lr_hi, b_lo, b_hi = 0.0, 4.0 / L, 0.0, 0.999
    for _ in range(3):
        lrs, bs = np.linspace(lr_lo, lr_hi, n), np.linspace(b_lo, b_hi, n)
        LR, B = np.meshgrid(lrs, bs)
        rad = np.maximum(mode_radius(mu, LR, B), mode_radius(L, LR, B))
        i, j = np.unravel_index(int(np.argmin(rad)), rad.shape)
        dl, db = 4 * (lrs[1] - lrs[0]), 4 * (bs[1] - bs[0])
        best = (float(lrs[j]), float(bs[i]), float(rad[i, j]))
        lr_lo, lr_hi = max(best[0] - dl, 0.0), best[0] + dl
        b_lo, b_hi = max(best[1] - db, 0.0), min(best[1] + db, 0.9999)
    return best


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    kappas = [10, 100, 1000] if args.quick else [10, 100, 1000, 10000]
    print("kappa  GD rate  HB rate  | seed speedup  (1-rho_HB)/(1-rho_GD)  steps GD/HB analytic  simulated")
    rows = []
    for kappa in kappas:
        g, h = gd_rate(kappa), hb_rate(kappa)
        reduction_ratio = (1 - h) / (1 - g)
        steps_ratio = math.log(h) / math.log(g)  # steps scale as 1 / abs(ln rho)
        sim_gd, sim_hb = simulated_steps(kappa, "gd"), simulated_steps(kappa, "hb")
        rows.append((kappa, g, h, reduction_ratio, steps_ratio, sim_gd, sim_hb))
        print(f"{kappa:6d}  {g:.4f}  {h:.4f}  | {SEED_TABLE[kappa][2]:6.1f}        {reduction_ratio:8.2f}"
              f"              {steps_ratio:8.2f}          {sim_gd}/{sim_hb} = {sim_gd / sim_hb:.2f}")
    lr_f, b_f = hb_optimal(1.0, 100.0)
    lr_g, b_g, r_g = grid_optimum(1.0, 100.0)
    print(f"kappa 100: Polyak lr* = {lr_f:.5f}, beta* = {b_f:.5f}; grid search lr = {lr_g:.5f}, "
          f"beta = {b_g:.5f}, rate = {r_g:.5f} (closed form {hb_rate(100):.5f})")
    k09 = kappa_where_optimal(0.9)
    rate09 = math.sqrt(0.9)  # best rate at beta = 0.9 for kappa <= k09: all modes complex
    print(f"beta = 0.9 is optimal at kappa = {k09:.0f}; at kappa = 100 its best rate is sqrt(0.9) = "
          f"{rate09:.4f} vs {hb_rate(100):.4f} at beta* = {b_f:.3f}: "
          f"{math.log(hb_rate(100)) / math.log(rate09):.2f}x the steps")
    for beta in (0.5, 0.9, 0.95, 0.99):
        print(f"  beta* = {beta}: kappa = {kappa_where_optimal(beta):.0f}")

    fig, (ax1, ax2, ax3) = figure(3, 1, width=4.6)
    ks = np.geomspace(2, 2e4, 200)
    ax1.plot(ks, 1 - gd_rate(ks), label="GD, analytic")
    ax1.plot(ks, 1 - np.array([hb_rate(k) for k in ks]), label="heavy ball, analytic")
    ax1.plot([r[0] for r in rows], [1 - r[1] for r in rows], "o", color="C0", label="seed table (GD)")
    ax1.plot([r[0] for r in rows], [1 - SEED_TABLE[r[0]][1] for r in rows], "s", color="C1",
             label="seed table (HB)")
    ax1.set(xscale="log", yscale="log", xlabel="condition number kappa",
            ylabel="error reduction per step 1 - rho", title="Rates at optimal tuning")
    ax1.legend(fontsize=8)
    kk = [r[0] for r in rows]
    ax2.plot(kk, [SEED_TABLE[k][2] for k in kk], "s--", label="seed 'speedup factor'")
    ax2.plot(kk, [r[3] for r in rows], "x", ms=9, label="(1 - rho_HB)/(1 - rho_GD)")
    ax2.plot(kk, [r[4] for r in rows], "o-", label="ln rho_HB / ln rho_GD (asymptotic steps)")
    ax2.plot(kk, [r[5] / r[6] for r in rows], "^:", label="simulated steps ratio (1e-6)")
    ax2.plot(ks, np.sqrt(ks), color="0.6", lw=1, label="sqrt(kappa)")
    ax2.set(xscale="log", yscale="log", xlabel="condition number kappa", ylabel="speed-up of heavy ball",
            title="What the 'speedup' column measures")
    ax2.legend(fontsize=8)
    ax3.plot(ks, [hb_optimal(1.0, k)[1] for k in ks], label="Polyak beta*(kappa)")
    ax3.axhline(0.9, color="0.5", ls="--", lw=1)
    ax3.axvline(100, color="C3", ls=":", lw=1, label="kappa = 100 (seed)")
    ax3.plot([k09], [0.9], "o", color="C3", label=f"beta* = 0.9 at kappa = {k09:.0f}")
    ax3.set(xscale="log", xlabel="condition number kappa", ylabel="optimal momentum beta*",
            title="Which kappa is beta = 0.9 optimal for?")
    ax3.legend(fontsize=8)
    save(fig, args.out, "claims_rates")
    return rows


if __name__ == "__main__":
    main()
