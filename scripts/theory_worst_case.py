"""Worst cases (PEPit) against the worst quadratic
===============================================

Worst case over smooth strongly convex functions (PEPit) against the worst quadratic.

For ``mu = 1``, ``L = 25`` and each method at its quadratic-optimal tuning
(GD ``lr = 2/(L + mu)``; heavy ball ``lr = 1/9``, ``beta = 4/9``; Nesterov
``lr = 4/(3L + mu)``, ``beta = (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2)``),
the largest ``|x_N - x*|^2 / |x_0 - x*|^2`` after ``N`` steps from rest:

* over all L-smooth, mu-strongly convex functions (``heavyball.worst_case``,
  a semidefinite program solved by Clarabel);
* over quadratics only (``worst_quadratic``, closed form);
* for heavy ball, over starting points on the Lessard counterexample (one
  function of the class: a lower bound on the worst case).

GD's two curves coincide (quadratics are its worst case). Heavy ball's worst
quadratic contracts like ``N^2 (4/9)^N`` while its true worst case grows;
Nesterov's rises above 1 and then contracts. Needs the ``pep`` extra.

    python scripts/theory_worst_case.py [--out DIR] [--quick]
"""

import argparse
import math
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball.pep import SolverAccuracyWarning, worst_quadratic  # noqa: E402

MU, L = 1.0, 25.0
KAPPA = L / MU
TUNED = {
    "gd": ("gradient descent", 2 / (L + MU), 0.0),
    "heavy_ball": ("heavy ball", 4 / (math.sqrt(L) + math.sqrt(MU)) ** 2,
                   ((math.sqrt(L) - math.sqrt(MU)) / (math.sqrt(L) + math.sqrt(MU))) ** 2),
    "nesterov": ("Nesterov", 4 / (3 * L + MU),
                 (math.sqrt(3 * KAPPA + 1) - 2) / (math.sqrt(3 * KAPPA + 1) + 2)),
}
COLORS = {"gd": "#009E73", "heavy_ball": "#D55E00", "nesterov": "#0072B2"}


def lessard_lower_bound(n_max, lr, beta):
    """``max_x0 |x_N|^2 / |x_0|^2`` for heavy ball on the Lessard function, N = 1..n_max."""
    f = hb.LessardCounterexample()
    x0 = np.linspace(-5.0, 5.0, 4001)
    x0 = x0[np.abs(x0) > 1e-3]
    x_prev, x, out = x0.copy(), x0.copy(), []
    for _ in range(n_max):
        x_prev, x = x, x - lr * f.grad(x[:, None])[:, 0] + beta * (x - x_prev)
        out.append(float(np.max((x / x0) ** 2)))
    return np.array(out)


def curves(ns):
    """Worst case and worst quadratic of each method at each N (with the inaccurate solves flagged)."""
    table = {}
    for method, (_, lr, beta) in TUNED.items():
        worst, flagged = [], []
        for n in ns:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SolverAccuracyWarning)
                worst.append(hb.worst_case(method, lr, beta, MU, L, int(n)))
            flagged.append(any(issubclass(w.category, SolverAccuracyWarning) for w in caught))
        quad = [worst_quadratic(method, lr, beta, MU, L, int(n)) for n in ns]
        table[method] = (np.array(worst), np.array(quad), np.array(flagged))
    return table


def scs_gap(n=10):
    """Relative difference SCS - Clarabel on heavy ball's PEP at N = n (SCS at its default accuracy)."""
    _, lr, beta = TUNED["heavy_ball"]
    clarabel = hb.worst_case("heavy_ball", lr, beta, MU, L, n)
    scs = hb.worst_case("heavy_ball", lr, beta, MU, L, n, solver="SCS")
    return clarabel, scs, (scs - clarabel) / clarabel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="N up to 6 only")
    args = parser.parse_args(argv)
    ns = np.arange(1, 7 if args.quick else 21)
    start = time.perf_counter()
    table = curves(ns)
    print(f"{len(ns) * 3} PEPs solved in {time.perf_counter() - start:.1f} s (Clarabel)")
    lessard = lessard_lower_bound(int(ns[-1]), *TUNED["heavy_ball"][1:])
    fig, ax = plt.subplots(figsize=(8.5, 4.8), layout="constrained")
    for method, (worst, quad, flagged) in table.items():
        label = TUNED[method][0]
        print(f"{label}: N, worst case, worst quadratic" + (" (* reduced solver accuracy)" if flagged.any() else ""))
        for n, w, q, f in zip(ns, worst, quad, flagged):
            print(f"  {n:3d}  {w:12.6g}{'*' if f else ' '}  {q:12.6g}")
        ax.semilogy(ns, worst, "o-", color=COLORS[method], label=f"{label}: worst case (PEP)")
        ax.semilogy(ns, quad, "s:", color=COLORS[method], markerfacecolor="none", label=f"{label}: worst quadratic")
    ax.semilogy(ns, lessard, "^--", color="#CC79A7", markersize=4,
                label="heavy ball on the Lessard function (best start)")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("steps $N$")
    ax.set_ylabel(r"$\max |x_N - x^*|^2 / |x_0 - x^*|^2$")
    ax.set_title(r"$\mu = 1$, $L = 25$, quadratic-optimal tunings, from rest", fontsize="medium")
    ax.legend(fontsize="small", loc="lower left")
    if not args.quick:
        clarabel, scs, rel = scs_gap()
        print(f"heavy ball, N = 10: Clarabel {clarabel:.8g}, SCS {scs:.8g}, SCS relative error {rel:+.2%}")
    path = Path(args.out) / "theory_worst_case.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return {"ns": ns, "table": table, "lessard": lessard}


if __name__ == "__main__":
    main()
