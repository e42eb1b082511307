"""Momentum schedules and restarts
===============================

Momentum schedules and restarts: what they do to convergence on an ill-conditioned quadratic.

Heavy ball (``torch.optim.SGD`` semantics) with ``lr = 1/L`` on a quadratic of
condition number 100 (50 eigenvalues spread evenly over ``[1, 100]``), from
``x0 = (1, ..., 1)``. Compared, by the first step at which
``|x_k - x*| <= 1e-6 |x_0 - x*|``:

* constant momentum 0.9 and 0.5;
* annealing 0.5 -> 0.9 (cosine, over the first 150 steps);
* a linear ramp 0 -> 0.95 over 300 steps;
* momentum 0.95 restarted (buffer zeroed) every 50 steps.

    python scripts/momentum_schedules.py [--out DIR] [--quick]
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

import heavyball as hb  # noqa: E402
from heavyball import plotting, schedules  # noqa: E402
from heavyball.diagnostics import steps_to_tolerance  # noqa: E402

TOL = 1e-6


def variants():
    """label -> (momentum, momentum_schedule, restart_every)."""
    return {
        "constant 0.9": (0.9, None, None),
        "constant 0.5": (0.5, None, None),
        "anneal 0.5 -> 0.9 (cosine, 150 steps)": (0.9, schedules.cosine(0.5, 0.9, 150), None),
        "linear ramp 0 -> 0.95 (300 steps)": (0.95, schedules.linear(0.0, 0.95, 300), None),
        "0.95, restart every 50 steps": (0.95, None, 50),
    }


def run_all(n_steps):
    problem = hb.Quadratic.diagonal(np.linspace(1.0, 100.0, 50))
    x0 = np.ones(problem.dim)
    lr = 1.0 / problem.L
    out = {}
    for label, (mom, sched, restart) in variants().items():
        opt = hb.SGD(lr, momentum=mom)
        out[label] = hb.optimize(problem, opt, x0, n_steps=n_steps, momentum_schedule=sched, restart_every=restart)
    return problem, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)
    n = 400 if args.quick else 800
    problem, runs = run_all(n)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.4), layout="constrained", sharex=True,
                                      height_ratios=(2.2, 1))
    top.axhline(TOL * np.sqrt(problem.dim), color="0.5", linewidth=0.8, linestyle=":",
                label=r"$10^{-6}\,\|x_0 - x^*\|$")
    plotting.convergence(runs, quantity="distance", problem=problem, ax=top)
    top.set_xlabel("")
    print(f"{'schedule':<40} steps to |x - x*| <= 1e-6 |x0 - x*|")
    for i, (label, (mom, sched, restart)) in enumerate(variants().items()):
        k = steps_to_tolerance(runs[label], TOL, minimizer=problem.minimizer)
        print(f"{label:<40} {k if k >= 0 else f'> {n}'}")
        values = np.full(n, mom) if sched is None else np.array([sched(j) for j in range(n)])
        st = dict(color=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")[i],
                  linestyle=("-", "--", "-.", ":", (0, (5, 1)))[i])
        bottom.plot(np.arange(n), values, label=label, **st)
        if restart:
            bottom.plot(np.arange(0, n, restart), np.full(len(range(0, n, restart)), mom), linestyle="none",
                        marker="|", markersize=10, color=st["color"])
    bottom.set_ylabel(r"momentum $\beta_k$")
    bottom.set_xlabel("step $k$")
    bottom.set_ylim(-0.05, 1.0)
    path = Path(args.out) / "momentum_schedules.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return problem, runs


if __name__ == "__main__":
    main()
