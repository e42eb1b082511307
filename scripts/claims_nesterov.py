"""Nesterov's claims and frictionless motion, measured
===================================================

Claims about Nesterov ("even faster and smoother", "more stable", "avoids overshooting",
"further accelerates convergence") and the Q&A's frictionless ``x'' = -grad f``.

Nesterov is PyTorch's ``SGD(lr, momentum, nesterov=True)``, heavy ball ``SGD(lr, momentum)``.
Measured: (1) each at its own optimal tuning on quadratics with condition number kappa, the rate
and the steps to 1e-6; (2) the largest stable ``lr L`` at a given momentum, found by bisection on
the spectral radius; (3) at *equal* settings on ``L = x^2/2`` from rest, the overshoot past the
minimum; (4) at equal settings with gradient noise, the exact noise floor (``heavyball.noise``);
(5) without friction (``beta = 1``, ``x'' = -grad f``), the distance to the minimum after many steps.

    PYTHONPATH=. python scripts/claims_nesterov.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save

import heavyball as hb
from heavyball import noise, spectral
from heavyball.diagnostics import overshoot

METHODS = ("heavy_ball", "nesterov")


def tuned(kappas):
    """{kappa: {method: (rate, steps to 1e-6)}} at each method's optimal tuning on [1, kappa]."""
    out = {}
    for row in spectral.rate_table(kappas):
        out[row.kappa] = {"heavy_ball": (row.heavy_ball_rate, row.heavy_ball_steps),
                          "nesterov": (row.nesterov_rate, row.nesterov_steps)}
    return out


def stable_edge(beta, method, iters=60):
    """Largest ``lr lambda`` with spectral radius < 1 (bisection on ``spectral_radius``)."""
    lo, hi = 0.0, 8.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if spectral.spectral_radius([1.0], mid, beta, method) < 1.0:
            lo = mid
        else:
            hi = mid
    return lo


def overshoots(betas, lr_lams, n_steps=400):
    """Overshoot past the minimum of ``x^2/2`` from x0 = 1 at rest, (len(betas), len(lr_lams)) per method."""
    q = hb.Quadratic.diagonal([1.0])
    out = {m: np.full((len(betas), len(lr_lams)), np.nan) for m in METHODS}
    for i, b in enumerate(betas):
        for j, a in enumerate(lr_lams):
            for m in METHODS:
                if spectral.spectral_radius([1.0], a, b, m) < 1.0:
                    opt = hb.SGD(a, b, nesterov=m == "nesterov" and b > 0)  # beta = 0: both are GD
                    traj = hb.optimize(q, opt, [1.0], n_steps=n_steps)
                    out[m][i, j] = overshoot(traj, [0.0])
    return out


def floor_ratios(betas, lr_L, kappa=100.0):
    """Nesterov's floor over heavy ball's at equal (lr, beta) on diag(1, kappa), unit noise."""
    H = np.diag([1.0, kappa])
    return {b: noise.stationary_loss(H, lr_L / kappa, b, "nesterov") / noise.stationary_loss(H, lr_L / kappa, b)
            for b in betas}


def frictionless(h, n_steps):
    """Symplectic Euler of x'' = -x (m = 1, gamma = 0) from x = 1 at rest: max |x| over the last half, |x_n|."""
    run = hb.integrate(hb.DampedParticle(hb.Quadratic.diagonal([1.0]), mass=1.0, friction=0.0), [1.0],
                       method="symplectic_euler", step=h, n_steps=n_steps)
    x = run.x[:, 0]
    return float(np.abs(x[n_steps // 2:]).max()), float(np.abs(x[-1]))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    kappas = [10.0, 100.0, 1000.0]
    t = tuned(kappas)
    print("(1) each at its optimal tuning on [1, kappa]: rate (steps to 1e-6)")
    for k in kappas:
        hbr, nag = t[k]["heavy_ball"], t[k]["nesterov"]
        print(f"  kappa {k:6g}: heavy ball {hbr[0]:.4f} ({hbr[1]}), Nesterov {nag[0]:.4f} ({nag[1]})")
    betas = [0.0, 0.5, 0.9, 0.99]
    print("(2) largest stable lr L at momentum beta (bisection; closed forms 2(1+b) and 2(1+b)/(1+2b))")
    edges = {b: (stable_edge(b, "heavy_ball"), stable_edge(b, "nesterov")) for b in betas}
    for b, (e_hb, e_nag) in edges.items():
        print(f"  beta {b:4g}: heavy ball {e_hb:.4f}, Nesterov {e_nag:.4f}")
    grid_b = np.linspace(0.0, 0.95, 8 if args.quick else 20)
    grid_a = np.geomspace(0.01, 1.3, 8 if args.quick else 25)
    shoot = overshoots(grid_b, grid_a, 200 if args.quick else 400)
    both = np.isfinite(shoot["heavy_ball"]) & np.isfinite(shoot["nesterov"])
    hb_s, nag_s = shoot["heavy_ball"][both], shoot["nesterov"][both]
    over = hb_s > 0
    print(f"(3) overshoot at equal (lr, beta), {int(both.sum())} settings stable for both: Nesterov's <= heavy "
          f"ball's at {100 * np.mean(nag_s <= hb_s):.0f}%; where heavy ball overshoots ({int(over.sum())}), "
          f"median Nesterov / heavy ball {np.median(nag_s[over] / hb_s[over]):.3f}; largest excess of Nesterov "
          f"{np.max(nag_s - hb_s):.4f}")
    fl = floor_ratios([0.5, 0.9, 0.99], 0.1)
    print("(4) noise floor at equal settings, Nesterov / heavy ball, diag(1, 100), lr L = 0.1: "
          + ", ".join(f"beta {b:g}: {r:.3f}" for b, r in fl.items()))
    h, n = 0.1, 2000 if args.quick else 20000
    amp, last = frictionless(h, n)
    print(f"(5) x'' = -x without friction, symplectic Euler h = {h}, {n} steps: max |x| over the last half "
          f"{amp:.4f}, |x_n| = {last:.4f} (start 1); spectral radius at beta = 1: "
          f"{spectral.spectral_radius([1.0], h * h, 1.0):.6f}")
    fig, axes = figure(2, 1, width=5.2)
    for m, style in zip(METHODS, ("-", "--")):
        axes[0].plot(betas, [edges[b][METHODS.index(m)] for b in betas], style + "o", label=m)
    axes[0].set_xlabel(r"momentum $\beta$")
    axes[0].set_ylabel(r"largest stable $\alpha L$")
    axes[0].legend(fontsize="small")
    i = len(grid_b) * 3 // 4
    for m, style in zip(METHODS, ("-", "--")):
        axes[1].semilogx(grid_a, shoot[m][i], style + "o", label=f"{m}, beta = {grid_b[i]:.2f}")
    axes[1].set_xlabel(r"$\alpha \lambda$")
    axes[1].set_ylabel("overshoot past the minimum")
    axes[1].legend(fontsize="small")
    save(fig, args.out, "claims_nesterov")
    return dict(tuned=t, edges=edges, overshoot=(grid_b, grid_a, shoot), floors=fl, frictionless=(amp, last))


if __name__ == "__main__":
    main()
