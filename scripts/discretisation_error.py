"""Discretisation error of the integrators
=======================================

Discretisation error: each integrator against the exact trajectory as h shrinks.

A particle (``m = 1``, ``gamma = 0.7``) in a tilted double well, started at
``x0 = (1.4, 0.5)``, ``v0 = (0, -0.3)``, integrated to ``t = 2`` with steps
``h = 0.1 / 2^j``. The reference is ``solve_ivp`` (DOP853, ``rtol = 1e-10``).
All five schemes are first order: halving ``h`` halves the error, so on
log-log axes the lines have slope 1. Gradient descent is explicit Euler of
the gradient flow (``m = 0``).

    python scripts/discretisation_error.py [--out DIR] [--quick]
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

X0, V0, T_END, FRICTION = (1.4, 0.5), (0.0, -0.3), 2.0, 0.7
SCHEMES = [  # (label, method, mass)
    ("explicit Euler, m = 0 (GD)", "explicit_euler", 0.0),
    ("explicit Euler", "explicit_euler", 1.0),
    ("symplectic Euler (heavy ball)", "symplectic_euler", 1.0),
    ("conformal symplectic Euler", "conformal_symplectic_euler", 1.0),
    ("implicit-friction Euler", "implicit_friction_euler", 1.0),
    ("Nesterov look-ahead", "nesterov", 1.0),
]


def errors(steps):
    """Final-state error ``|x_N - x(T)|`` of each scheme for each step size."""
    problem = hb.DoubleWell(stiffness=2.0)
    table = {}
    for label, method, mass in SCHEMES:
        system = hb.DampedParticle(problem, mass, FRICTION)
        v0 = None if mass == 0 else V0
        exact = hb.solve_reference(system, X0, v0, t_span=(0.0, T_END), t_eval=[T_END]).x[-1]
        errs = []
        for h in steps:
            traj = hb.integrate(system, X0, v0, method=method, step=h, n_steps=int(round(T_END / h)))
            errs.append(float(np.linalg.norm(traj.x[-1] - exact)))
        table[label] = np.array(errs)
    return table


def observed_orders(steps, errs):
    """``log(e_j / e_{j+1}) / log(h_j / h_{j+1})`` for successive steps."""
    steps = np.asarray(steps)
    return np.log(errs[:-1] / errs[1:]) / np.log(steps[:-1] / steps[1:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer step sizes")
    args = parser.parse_args(argv)
    steps = 0.1 / 2.0 ** np.arange(4 if args.quick else 7)
    table = errors(steps)
    fig, ax = plt.subplots(figsize=(8.6, 4.2), layout="constrained")
    colors = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
    markers = ("o", "s", "^", "D", "v", "P")
    print("h:" + "".join(f"{h:>11.5f}" for h in steps) + "    order (last pair)")
    for i, (label, errs) in enumerate(table.items()):
        order = observed_orders(steps, errs)[-1]
        print(f"{label:<31}" + "".join(f"{e:11.3e}" for e in errs) + f"    {order:.3f}")
        ax.loglog(steps, errs, marker=markers[i], color=colors[i], label=f"{label} (order {order:.2f})")
    guide = table["symplectic Euler (heavy ball)"][0] * steps / steps[0] * 3
    ax.loglog(steps, guide, color="0.5", linestyle=":", label="slope 1")
    ax.set_xlabel("step $h$")
    ax.set_ylabel(r"$\|x_N - x(T)\|$ at $T = 2$")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    path = Path(args.out) / "discretisation_error.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
