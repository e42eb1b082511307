"""The Lessard-Recht-Packard counterexample
========================================

Lessard, Recht & Packard (2016): quadratic-optimal heavy ball cycles on a strongly convex function.

Heavy ball tuned for quadratics with ``mu = 1``, ``L = 25`` (``lr = 1/9``,
``beta = 4/9``, rate 2/3 on every quadratic in the class) is run from rest at
``x0 = 3.3`` on ``LessardCounterexample``, a C^1 piecewise quadratic that is
1-strongly convex with a 25-Lipschitz gradient. It falls into the 3-cycle
``{792, -2208, 2592}/1225`` and never converges, while on the quadratics
``x^2/2`` and ``25 x^2/2`` (its two curvatures) the same method converges at
rate 2/3. Left: the function with the cycle; right: ``|x_k|``.

    python scripts/theory_lessard.py [--out DIR] [--quick]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball.diagnostics import detect_cycle  # noqa: E402

LR, BETA, X0 = 1 / 9, 4 / 9, 3.3
CYCLE = np.array([792.0, -2208.0, 2592.0]) / 1225  # Lessard, Recht & Packard (2016), section 4.6


def runs(n_steps):
    """Heavy ball from rest on the counterexample and on its two quadratic pieces."""
    problems = {
        "Lessard counterexample": hb.LessardCounterexample(),
        r"quadratic $x^2/2$": hb.Quadratic.diagonal([1.0]),
        r"quadratic $25x^2/2$": hb.Quadratic.diagonal([25.0]),
    }
    return {name: hb.optimize(p, hb.SGD(LR, BETA), [X0], n_steps=n_steps) for name, p in problems.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity (the run is already fast)")
    args = parser.parse_args(argv)
    n = 150  # the approach to the cycle decays like (2/3)^k: about 100 steps to reach tol 1e-9
    trajs = runs(n)
    lessard = trajs["Lessard counterexample"]
    period, points = detect_cycle(lessard)
    found = np.sort(points[:, 0])
    print(f"period {period}; cycle points x 1225 = {np.round(found * 1225, 9).tolist()}")
    print(f"max deviation from {{792, -2208, 2592}}/1225: {np.max(np.abs(found - np.sort(CYCLE))):.2e}")
    for name, tr in trajs.items():
        print(f"{name:<28} |x_{n}| = {abs(tr.x[-1, 0]):.3e}")

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    f = hb.LessardCounterexample()
    grid = np.linspace(-2.6, 3.4, 600)
    ax0.plot(grid, f.value(grid[:, None]), color="0.2", label=r"$f$ ($\mu = 1$, $L = 25$)")
    ax0.axvspan(1.0, 2.0, color="#E69F00", alpha=0.15, label="curvature 1 on [1, 2)")
    order = np.append(points[:, 0], points[0, 0])
    ax0.plot(order, f.value(order[:, None]), "o--", color="#D55E00", label="3-cycle of heavy ball")
    ax0.plot([X0], f.value(np.array([[X0]])), "s", color="#0072B2", label=f"start $x_0 = {X0}$")
    ax0.set_xlabel("$x$")
    ax0.set_ylabel("$f(x)$")
    ax0.legend(fontsize="small")
    colors = ("#D55E00", "#0072B2", "#009E73")
    for (name, tr), c in zip(trajs.items(), colors):
        k = np.arange(len(tr.x))
        ax1.semilogy(k, np.maximum(np.abs(tr.x[:, 0]), 1e-300), color=c, marker=".", markersize=3, label=name)
    ax1.semilogy(np.arange(n + 1), X0 * (2 / 3) ** np.arange(n + 1), ":", color="0.5", label=r"rate $2/3$")
    ax1.set_ylim(1e-18, 10)
    ax1.set_xlabel("step $k$")
    ax1.set_ylabel(r"$|x_k - x^*|$")
    ax1.set_title(r"heavy ball, lr = 1/9, $\beta$ = 4/9, from rest", fontsize="medium")
    ax1.legend(fontsize="small")
    path = Path(args.out) / "theory_lessard.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return {"period": period, "points": found, "final": {k: float(abs(t.x[-1, 0])) for k, t in trajs.items()}}


if __name__ == "__main__":
    main()
