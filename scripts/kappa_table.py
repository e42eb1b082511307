"""Rates against the condition number
==================================

Rates against the condition number: GD, heavy ball and Nesterov, analytic and simulated.

For kappa = 10 ... 10^4 on the quadratic diag(1, kappa), each method at its
optimal tuning: the analytic rate (``heavyball.spectral.rate_table``) and the
one measured on a simulated run (``spectral.empirical_rate``), and the steps
to reduce the error by 1e-6. GD needs about ``(kappa/2) ln 10^6`` steps,
heavy ball about ``(sqrt(kappa)/2) ln 10^6``: the square-root speed-up.

    python scripts/kappa_table.py [--out DIR] [--quick]
"""

import argparse
import sys
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import heavyball as hb  # noqa: E402
from heavyball import spectral  # noqa: E402

METHODS = ("gd", "heavy_ball", "nesterov")
NAMES = {"gd": "gradient descent", "heavy_ball": "heavy ball", "nesterov": "Nesterov"}


def measured_rate(kappa, method, n_steps):
    """Run the tuned method on diag(1, kappa) from (1, 1) and measure its contraction."""
    q = hb.Quadratic.diagonal([1.0, kappa])
    lr, beta, _ = spectral.optimal_parameters(1.0, kappa, method)
    opt = hb.GD(lr) if method == "gd" else hb.SGD(lr, beta, nesterov=method == "nesterov")
    return spectral.empirical_rate(hb.optimize(q, opt, [1.0, 1.0], n_steps=n_steps), q.minimizer)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="shorter simulated runs")
    args = parser.parse_args(argv)
    kappas = [10.0, 100.0, 1000.0, 10000.0]
    cap = 2000 if args.quick else 20000
    rows = spectral.rate_table(kappas)
    print(f"{'kappa':>7} | {'GD rate':>16} | {'heavy-ball rate':>16} | {'Nesterov rate':>16} |"
          f" {'steps to 1e-6: GD':>17} {'HB':>5} {'NAG':>5} | {'GD/HB':>6}")
    print(f"{'':>7} | {'analytic  sim.':>16} | {'analytic  sim.':>16} | {'analytic  sim.':>16} |")
    measured = {m: [] for m in METHODS}
    for row in rows:
        cells = []
        for method, rate in zip(METHODS, row[1:4]):
            # long enough for a clean tail, short of float underflow of |x|^2 (rate^n ~ 1e-140)
            n = int(min(cap, math.ceil(-140 * math.log(10) / math.log(rate))))
            sim = measured_rate(row.kappa, method, n)
            measured[method].append(sim)
            cells.append(f"{rate:8.5f} {sim:7.5f}")
        print(f"{row.kappa:7g} | " + " | ".join(cells) +
              f" | {row.gd_steps:17d} {row.heavy_ball_steps:5d} {row.nesterov_steps:5d} |"
              f" {row.gd_steps / row.heavy_ball_steps:6.1f}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    ks = np.geomspace(10, 1e4, 100)
    dense = spectral.rate_table(ks)
    colors = {"gd": "#0072B2", "heavy_ball": "#D55E00", "nesterov": "#009E73"}
    for i, method in enumerate(METHODS):
        rate = np.array([r[1 + i] for r in dense])
        steps = np.array([r[4 + i] for r in dense])
        left.loglog(ks, 1 - rate, color=colors[method], label=f"{NAMES[method]} (analytic)")
        left.loglog(kappas, 1 - np.array(measured[method]), "o", color=colors[method], markerfacecolor="none",
                    label=f"{NAMES[method]} (simulated)")
        right.loglog(ks, steps, color=colors[method], label=NAMES[method])
    band = dict(color="0.6", linewidth=7, alpha=0.35, zorder=0, solid_capstyle="butt")
    right.loglog(ks, 0.5 * ks * math.log(1e6), label=r"$\frac{\kappa}{2}\ln 10^6$ (wide grey)", **band)
    right.loglog(ks, 0.5 * np.sqrt(ks) * math.log(1e6), label=r"$\frac{\sqrt{\kappa}}{2}\ln 10^6$ (wide grey)",
                 **band)
    left.set_xlabel(r"condition number $\kappa$")
    left.set_ylabel(r"$1 - \rho$ (fraction of the error removed per step)")
    left.legend(fontsize="small")
    right.set_xlabel(r"condition number $\kappa$")
    right.set_ylabel(r"steps to reduce the error by $10^{6}$")
    right.legend(fontsize="small")
    path = Path(args.out) / "kappa_table.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return rows, measured


if __name__ == "__main__":
    main()
