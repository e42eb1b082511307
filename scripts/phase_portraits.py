"""Phase portraits of three integrators
====================================

Phase portraits: the ODE's flow and the iterates of three integrators on top.

A unit mass on ``L(x) = x^2 / 2`` with friction ``gamma = 0.5`` (under-damped),
integrated with step ``h = 0.6``. The exact trajectory (``solve_ivp``) spirals
into the rest point. Symplectic Euler (= heavy ball) and the look-ahead scheme
(= Nesterov) stay on spirals of their own close to it; explicit Euler adds
energy every step (its per-mode determinant is ``1 - h gamma + h^2 lambda = 1.06``
here, above 1 since ``h > gamma / lambda``) and spirals outwards.

    python scripts/phase_portraits.py [--out DIR] [--quick]
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
from heavyball import plotting  # noqa: E402

METHODS = {"explicit_euler": "explicit Euler", "symplectic_euler": "symplectic Euler",
           "nesterov": "Nesterov look-ahead"}
MASS, FRICTION, STEP, X0 = 1.0, 0.5, 0.6, 1.5


def runs(n_steps):
    """The three integrators and the reference from x0 = 1.5 at rest."""
    system = hb.DampedParticle(hb.Quadratic.diagonal([1.0]), MASS, FRICTION)
    out = {m: hb.integrate(system, [X0], method=m, step=STEP, n_steps=n_steps) for m in METHODS}
    t_end = n_steps * STEP
    ref = hb.solve_reference(system, [X0], t_span=(0.0, t_end), t_eval=np.linspace(0.0, t_end, 40 * n_steps + 1))
    return system, out, ref


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)
    n = 15 if args.quick else 25
    system, out, ref = runs(n)
    ref_at_steps = hb.solve_reference(system, [X0], t_span=(0.0, n * STEP), t_eval=STEP * np.arange(n + 1))
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), layout="constrained", sharex=True, sharey=True)
    print(f"m = {MASS:g}, gamma = {FRICTION:g}, lambda = 1, h = {STEP:g}, {n} steps")
    print(f"{'method':<18} {'is':<34} {'energy at the end':>18} {'exact':>10} {'max |x_k - x(t_k)|':>19}")
    e_ref = float(system.energy(ref_at_steps.x[-1], ref_at_steps.v[-1]))
    for ax, (method, traj) in zip(axes, out.items()):
        plotting.phase_portrait(system, trajectories={"exact (solve_ivp)": ref, METHODS[method]: traj},
                                xlim=(-2.6, 2.6), vlim=(-2.6, 2.6), density=0.7, ax=ax)
        try:
            opt = hb.to_optimizer(MASS, FRICTION, STEP, method)
            name = f"SGD(lr={opt.lr:.2f}, momentum={opt.momentum:.2f}{', nesterov' if opt.nesterov else ''})"
        except ValueError:
            name = "a delayed-gradient method"
        ax.set_title(f"{METHODS[method]}\n= {name}", fontsize="medium")
        energy = float(system.energy(traj.x[-1], traj.v[-1]))
        err = float(np.max(np.abs(traj.x[:, 0] - ref_at_steps.x[:, 0])))
        print(f"{method:<18} {name:<34} {energy:18.4g} {e_ref:10.4g} {err:19.4g}")
    for ax in axes[1:]:
        ax.set_ylabel("")
    path = Path(args.out) / "phase_portraits.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
