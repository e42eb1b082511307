"""The SDE limit of momentum under noise: discrete stationary covariance -> continuous, and the order.
===================================================================================================

For each physical scheme under its exact map to ``torch.optim.SGD``
(``heavyball.maps.to_optimizer``) the stationary covariance of the noisy
optimiser is set against underdamped Langevin's (continuous Lyapunov
equation), and for SGD, heavy ball and Nesterov at a fixed momentum against
the stochastic modified equation of Li, Tai and E. The fitted order is printed
next to the predicted one.

    python scripts/noise_sde.py [--out DIR] [--quick]
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

from heavyball import noise  # noqa: E402

MASS, FRICTION = 1.5, 0.7
#: (scheme, predicted order with a generic noise covariance, with isotropic noise)
LANGEVIN = [("symplectic_euler", 1, 2), ("implicit_friction_euler", 1, 2), ("conformal_symplectic_euler", 1, 1),
            ("nesterov", 1, 1)]
SME = [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.6)]


def problem():
    """A rotated 3-D Hessian (eigenvalues 0.5, 1.5, 3) and a generic (non-commuting) noise covariance."""
    rng = np.random.default_rng(3)
    R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    G = rng.standard_normal((3, 3))
    return R @ np.diag([0.5, 1.5, 3.0]) @ R.T, G @ G.T / 3


def study(n_steps):
    H, Q = problem()
    steps = 0.02 / 2.0 ** np.arange(n_steps)
    out = {}
    for method, generic, iso in LANGEVIN:
        out[("langevin", method, "generic")] = (noise.langevin_limit(H, steps, method, mass=MASS, friction=FRICTION,
                                                                     noise_cov=Q), generic)
        out[("langevin", method, "isotropic")] = (noise.langevin_limit(H, steps, method, mass=MASS,
                                                                       friction=FRICTION, noise_cov=0.5), iso)
    for method, beta in SME:
        out[("sme", method, "generic")] = (noise.modified_equation_limit(H, steps, beta, method, noise_cov=Q), 1)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)
    results = study(4 if args.quick else 7)
    print(f"{'limit':<9} {'scheme':<27} {'noise':<9} {'rel. error at smallest step':>27} {'fitted':>7} "
          f"{'predicted':>9}")
    for (kind, method, q), (r, predicted) in results.items():
        print(f"{kind:<9} {method:<27} {q:<9} {r.relative_error[-1]:27.3e} {r.order:7.3f} {predicted:9d}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    styles = ["o-", "s--", "^-.", "v:"]
    for i, (method, _, _) in enumerate(LANGEVIN):
        for ax, q in ((left, "generic"), (left, "isotropic")):
            r = results[("langevin", method, q)][0]
            ax.loglog(r.steps, r.relative_error, styles[i], markerfacecolor="none" if q == "isotropic" else None,
                      label=f"{method}, {q} Q (order {r.order:.2f})")
    for i, (method, _) in enumerate(SME):
        r = results[("sme", method, "generic")][0]
        right.loglog(r.steps, r.relative_error, styles[i], label=f"{method} (order {r.order:.2f})")
    left.set_xlabel(r"time step $h$ (lr $= h^2/m$)")
    left.set_ylabel(r"$\|C_h - C_{SDE}\|_F / \|C_{SDE}\|_F$")
    left.set_title("physical schemes vs underdamped Langevin", fontsize="medium")
    right.set_xlabel(r"learning rate $\alpha$ (momentum fixed)")
    right.set_ylabel(r"$\|C_\alpha - C_{SME}\|_F / \|C_{SME}\|_F$")
    right.set_title("SGD (with momentum) vs modified equation", fontsize="medium")
    left.legend(fontsize="x-small")
    right.legend(fontsize="small")
    path = Path(args.out) / "noise_sde.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
