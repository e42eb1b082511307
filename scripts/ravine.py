"""The ravine: gradient descent, heavy ball and Nesterov
=====================================================

The ravine L = 100 x^2 + y^2: gradient descent, heavy ball and Nesterov.

The seed scenario. The Hessian is diag(200, 2) (condition number 100). Each
method runs at its optimal tuning (``heavyball.spectral.optimal_parameters``),
plus gradient descent at the seed's ``lr = 0.005``: there ``lr * 200 = 1``, so
the steep direction is solved in one step and nothing oscillates. Tuned GD
(``lr = 2/202``) does flip sign across the ravine, every step.

    python scripts/ravine.py [--out DIR] [--quick]
"""

import argparse
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import heavyball as hb  # noqa: E402
from heavyball import plotting, spectral  # noqa: E402
from heavyball.diagnostics import steps_to_tolerance  # noqa: E402

X0 = (1.0, 1.0)
TOL = 1e-6


def runs(n_steps):
    """label -> (trajectory, analytic rate) in the ravine."""
    ravine = hb.Quadratic.diagonal([200.0, 2.0])
    mu, L = ravine.mu, ravine.L
    out = {}
    lr, _, rate = spectral.optimal_parameters(mu, L, "gd")
    out["gradient descent"] = (hb.optimize(ravine, hb.GD(lr), X0, n_steps=n_steps), rate)
    lr, beta, rate = spectral.optimal_parameters(mu, L, "heavy_ball")
    out["heavy ball"] = (hb.optimize(ravine, hb.SGD(lr, beta), X0, n_steps=n_steps), rate)
    lr, beta, rate = spectral.optimal_parameters(mu, L, "nesterov")
    out["Nesterov"] = (hb.optimize(ravine, hb.SGD(lr, beta, nesterov=True), X0, n_steps=n_steps), rate)
    out["GD, lr = 0.005 (seed)"] = (hb.optimize(ravine, hb.GD(0.005), X0, n_steps=n_steps),
                                    spectral.spectral_radius(ravine.eigenvalues, 0.005, 0.0, "gd"))
    return ravine, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)
    n = 400 if args.quick else 800
    ravine, data = runs(n)
    print(f"{'method':<24} {'rate':>8} {'steps to 1e-6':>14}   first steps of x (the steep coordinate)")
    for label, (traj, rate) in data.items():
        k = steps_to_tolerance(traj, TOL, minimizer=ravine.minimizer)
        first = ", ".join(f"{v:+.3f}" for v in traj.x[:5, 0])
        print(f"{label:<24} {rate:8.4f} {k if k >= 0 else f'> {n}':>14}   {first}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    trajs = {label: traj for label, (traj, _) in data.items()}
    short = {label: hb.Trajectory(t=t.t[:61], x=t.x[:61], v=None, loss=t.loss[:61], method=t.method, step=t.step,
                                  status=t.status, message=t.message, nfev=t.nfev) for label, t in trajs.items()}
    plotting.trajectories(ravine, short, ax=left, markevery=1, levels=20, equal_scale=True)
    left.set_title("first 60 steps on $L = 100x^2 + y^2$", fontsize="medium")
    plotting.convergence(trajs, quantity="distance", problem=ravine, rates=[r for _, r in data.values()], ax=right)
    right.set_ylim(1e-12, 10)
    right.set_title(r"distance to $x^*$; dotted: analytic $\rho^k$", fontsize="medium")
    path = Path(args.out) / "ravine.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return data


if __name__ == "__main__":
    main()
