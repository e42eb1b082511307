"""Scaling rules under noise: the exact floor against lr / (B (1 - momentum)), kappa = 100.
========================================================================================

The floor of heavy ball and Nesterov on diag(1, 100) with isotropic noise,
divided by the small-step rule ``lr tr(Q) / (4 B (1 - beta))``, over
``lr L`` and ``beta`` (``noise.rule_error``); then what doubling the batch
does, against doubling the learning rate or halving ``1 - beta``
(``noise.batch_equivalents``): floor ratios and samples per e-fold.

    python scripts/noise_scaling.py [--out DIR] [--quick]
"""

import argparse
import math
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

from heavyball import noise  # noqa: E402

KAPPA = 100.0
H = np.diag([1.0, KAPPA])
LR_L = [0.01, 0.1, 0.5, 1.0, 2.0, 3.0]
MOMENTA = [0.0, 0.5, 0.9, 0.99]
NAMES = {"heavy_ball": "heavy ball", "nesterov": "Nesterov"}


def rule_table(method):
    """``floor / rule`` (None where unstable) for each momentum (rows) and lr L (columns)."""
    rows = []
    for beta in MOMENTA:
        row = []
        for a in LR_L:
            try:
                row.append(1.0 + noise.rule_error(H, a / KAPPA, beta, method))
            except ValueError:
                row.append(None)
        rows.append(row)
    return rows


def batch_table(method, momenta=(0.0, 0.9), lr_L=(0.01, 0.1, 0.5, 1.0, 1.5)):
    """``noise.batch_equivalents`` at each stable (momentum, lr L)."""
    out = {}
    for b in momenta:
        for a in lr_L:
            try:
                out[(b, a)] = noise.batch_equivalents(H, a / KAPPA, b, method)
            except ValueError:  # the base setting is unstable (Nesterov's range is smaller)
                continue
    return out


def _cell(x):
    return f"{'unstable':>9}" if x is None else f"{x:9.4f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="a coarser curve in the figure")
    args = parser.parse_args(argv)
    tables = {}
    for method in NAMES:
        tables[method] = rule_table(method)
        print(f"{NAMES[method]}: exact floor / (lr tr Q / (4 (1 - beta))) on diag(1, {KAPPA:g})")
        print(f"  {'beta':>6} | " + " ".join(f"{'lr L=' + format(a, 'g'):>9}" for a in LR_L))
        for beta, row in zip(MOMENTA, tables[method]):
            print(f"  {beta:6g} | " + " ".join(_cell(x) for x in row))
    print("Nesterov, one mode: floor / rule against 1 / (1 + x), x = lr lambda beta / (1 - beta) (the Hessian damping "
          "lr beta H over the friction 1 - beta)")
    for beta in (0.9, 0.99, 0.999):
        for a in (1e-4, 1e-3, 1e-2):
            x = a * beta / (1 - beta)
            exact = 1.0 + noise.rule_error(np.diag([1.0]), a, beta, "nesterov")
            print(f"  beta {beta:5g}  lr lambda {a:6g}  x = {x:6.4f}  exact {exact:.4f}  1/(1+x) {1 / (1 + x):.4f}")
    batches = {}
    for method in NAMES:
        batches[method] = batch_table(method)
        print(f"{NAMES[method]}: batch B -> 2B; floor ratio to the base (samples per e-fold of the mean error)")
        print(f"  {'beta':>5} {'lr L':>5} | {'2B':>16} | {'2B, 2 lr':>16} | {'2B, 1-beta over 2':>18} | base samples")
        for (b, a), r in batches[method].items():
            cells = []
            for key in ("batch", "batch_and_lr", "batch_and_momentum"):
                o = r[key]
                cells.append("unstable" if math.isinf(o["floor"]) else f"{o['floor_ratio']:.3f} ({o['samples']:.0f})")
            print(f"  {b:5g} {a:5g} | {cells[0]:>16} | {cells[1]:>16} | {cells[2]:>18} | {r['base']['samples']:.0f}")
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained", sharey=True)
    grid = np.geomspace(1e-3, 4.0, 60 if args.quick else 400)
    styles = ["-", "--", "-.", ":"]
    for ax, method in zip(axes, NAMES):
        for beta, style in zip(MOMENTA, styles):
            ys = []
            for a in grid:
                try:
                    ys.append(1.0 + noise.rule_error(H, a / KAPPA, beta, method))
                except ValueError:
                    ys.append(np.nan)
            ax.loglog(grid, ys, style, label=rf"$\beta$ = {beta:g}")
        ax.axhline(1.0, color="0.5", linewidth=0.8)
        ax.set_xlabel(r"$\alpha L$ (stiff mode, $\kappa$ = 100)")
        ax.set_title(NAMES[method], fontsize="medium")
        ax.legend(fontsize="small")
    axes[0].set_ylabel(r"exact floor / $\frac{\alpha\, \mathrm{tr}\, Q}{4 B (1-\beta)}$")
    path = Path(args.out) / "noise_scaling.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return tables, batches


if __name__ == "__main__":
    main()
