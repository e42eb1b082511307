"""Speed against floor under noise: the (lr, momentum) maps of the rate and the floor, and the Pareto front.
=========================================================================================================

Heavy ball and Nesterov on diag(1, 100) with unit isotropic gradient noise:
the spectral radius and the exact floor over a grid (``noise.tradeoff``),
the Pareto front of rate against floor, and, for a few target rates, the
lowest floor any tuning reaches and the tuning that reaches it.

    python scripts/noise_tradeoff.py [--out DIR] [--quick]
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heavyball import noise, plotting, spectral  # noqa: E402

H = np.diag([1.0, 100.0])
TARGETS = [0.9, 0.95, 0.99, 0.999]


def grids(n):
    return np.geomspace(1e-4, 0.04, n), np.linspace(0.0, 0.99, n)


def best_at(t, target):
    """The front point with the lowest floor among those with rate <= target: (lr, beta, rate, floor)."""
    ok = [(i, j) for i, j in t.front if t.rate[i, j] <= target]
    if not ok:
        return None
    i, j = ok[-1]  # the front is sorted by rate (floor decreasing)
    return float(t.lrs[j]), float(t.momenta[i]), float(t.rate[i, j]), float(t.floor[i, j])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="a coarser grid")
    args = parser.parse_args(argv)
    lrs, momenta = grids(30 if args.quick else 121)
    results = {}
    for method in ("heavy_ball", "nesterov"):
        t = noise.tradeoff(H, lrs, momenta, method, 1.0)
        lr, beta, rho = spectral.optimal_parameters(1.0, 100.0, method)
        opt_floor = noise.stationary_loss(H, lr, beta, method, 1.0)
        rows = {target: best_at(t, target) for target in TARGETS}
        results[method] = dict(tradeoff=t, optimum=(lr, beta, rho, opt_floor), rows=rows)
        print(f"{method}: rate-optimal lr = {lr:.5g}, momentum = {beta:.4f}: rate {rho:.4f}, floor {opt_floor:.4g} "
              f"(small-step rule {noise.rule_floor(H, lr, beta, 1.0):.4g})")
        print(f"  Pareto front: {len(t.front)} of {t.rate.size} grid points; lowest floor at rate <= target:")
        print(f"  {'target':>7} {'lr':>10} {'momentum':>9} {'lr/(1-b)':>9} {'lr L':>6} {'rate':>8} {'floor':>10} "
              f"{'rule':>10}")
        for target, row in rows.items():
            if row is None:
                print(f"  {target:7g}  (none on the grid)")
                continue
            a, b, r, f = row
            print(f"  {target:7g} {a:10.4g} {b:9.3f} {a / (1 - b):9.4g} {100 * a:6.3f} {r:8.5f} {f:10.4g} "
                  f"{noise.rule_floor(H, a, b, 1.0):10.4g}")
    fig, axes = plt.subplots(1, 3, figsize=(15.5, 4.3), layout="constrained")
    plotting.rate_heatmap(eigenvalues=[1.0, 100.0], lrs=lrs, momenta=momenta, ax=axes[0])
    plotting.floor_heatmap(H, lrs=lrs, momenta=momenta, noise_cov=1.0, ax=axes[1])
    axes[0].set_title("heavy ball: rate", fontsize="medium")
    axes[1].set_title("heavy ball: floor (unit noise)", fontsize="medium")
    for method, marker in (("heavy_ball", "o"), ("nesterov", "s")):
        t = results[method]["tradeoff"]
        ok = np.isfinite(t.floor)
        axes[2].scatter(1 - t.rate[ok], t.floor[ok], s=3, alpha=0.25, marker=marker, label=f"{method} grid")
        f = t.front
        axes[2].plot(1 - t.rate[f[:, 0], f[:, 1]], t.floor[f[:, 0], f[:, 1]], "-", linewidth=2,
                     label=f"{method} Pareto front")
        lr, beta, rho, opt_floor = results[method]["optimum"]
        axes[2].plot([1 - rho], [opt_floor], marker="*", markersize=13, markeredgecolor="black", linestyle="none",
                     label=f"{method} rate optimum")
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_xlabel(r"$1 - \rho$ (speed)")
    axes[2].set_ylabel(r"floor $E[L] - L^*$")
    axes[2].legend(fontsize="x-small")
    path = Path(args.out) / "noise_tradeoff.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
