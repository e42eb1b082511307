"""Claim: the velocity-gradient angle as a diagnostic
==================================================

Claim: "A useful diagnostic is the angle between velocity and current gradient. In smooth
optimization, this angle should be small (velocity aligns with gradient). In oscillatory
regimes, this angle becomes large (velocity fights gradient). Tracking this angle can reveal
optimization issues."

heavyball.diagnostics.velocity_gradient_angle measures the angle between the velocity
(the last step x_k - x_{k-1}) and the force -grad L(x_k). Measured on
heavyball.landscapes.Ravine (100 x^2 + y^2) from (1, 1) until ``|x - x*|`` <= 1e-6 ``|x_0 - x*|``:
an overdamped run, and gradient descent and heavy ball at their tuned parameters
(scripts/claims_ravine.py): the share of steps with an angle above 90 degrees and the steps
each run needs.

    PYTHONPATH=. python scripts/claims_angle.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save
import heavyball as hb
from heavyball.diagnostics import steps_to_tolerance, velocity_gradient_angle
from heavyball.landscapes import Ravine

RUNS = {  # name: (lr, beta)
    "overdamped heavy ball (lr 0.002, beta 0.1)": (0.002, 0.1),
    "tuned GD (lr 0.00952)": (0.00952, 0.0),
    "tuned heavy ball (lr 0.01386, beta 0.7)": (0.01386, 0.7),
}


def angle_stats(lr, beta, n_steps=4000):
    """(angles until 1e-6, steps to 1e-6, share of steps with angle > 90) on the ravine."""
    p = Ravine()
    opt = hb.GD(lr) if beta == 0 else hb.SGD(lr, beta)
    tr = hb.optimize(p, opt, [1.0, 1.0], n_steps=n_steps)
    n = steps_to_tolerance(tr, 1e-6, minimizer=[0.0, 0.0], stay=True)
    ang = velocity_gradient_angle(tr, p)[1:n + 1]
    return ang, n, float(np.mean(ang > 90))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    stats = {name: angle_stats(*params) for name, params in RUNS.items()}
    for name, (ang, n, share) in stats.items():
        print(f"{name}: {n} steps to 1e-6; median angle {np.median(ang):.1f} deg, above 90 deg on {share:.0%} of steps")
    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    for i, (name, (ang, n, share)) in enumerate(stats.items()):
        k = np.arange(1, len(ang) + 1)
        ax1.plot(k, ang, ".", ms=2, color=f"C{i}", label=f"{name}: {n} steps, {share:.0%} above 90")
        ax2.hist(ang, bins=np.linspace(0, 180, 37), density=True, histtype="step", color=f"C{i}", lw=1.5, label=name)
    ax1.axhline(90, color="0.5", lw=0.8, ls="--")
    ax1.set(xscale="log", ylim=(0, 180), xlabel="step k (until 1e-6)", ylabel="angle(velocity, -gradient) [deg]",
            title="Ravine 100 x^2 + y^2")
    ax1.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.93))
    ax2.set(xlabel="angle(velocity, -gradient) [deg]", ylabel="density over the steps",
            title="Distribution of the angle")
    ax2.legend(fontsize=7)
    save(fig, args.out, "claims_angle")
    return stats


if __name__ == "__main__":
    main()
