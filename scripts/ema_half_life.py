"""EMA momentum: weights, half-life and start-up bias
==================================================

EMA momentum: the weight each past gradient gets, its half-life and the start-up bias.

``EMAMomentum`` keeps ``v_k = beta v_{k-1} + (1 - beta) g_k``, so the gradient
from ``i`` steps ago carries weight ``(1 - beta) beta^i``. Half of the total
weight sits in the last ``ln 2 / ln(1/beta)`` gradients (the half-life); the
mean lag is ``beta / (1 - beta)`` and ``1 / (1 - beta)`` is the usual
"effective window". Started from ``v = 0`` the average of a constant gradient
is only ``1 - beta^k`` of it after ``k`` steps (Adam's bias correction undoes this).

The weights are *measured*: an impulse ``g_0 = 1`` fed to the real optimiser.

    python scripts/ema_half_life.py [--out DIR] [--quick]
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

BETAS = (0.5, 0.9, 0.99)


class Impulse:
    """1-D problem whose 'gradient' is 1 at step 0 and 0 afterwards (or 1 always)."""

    dim, minimizer, min_value, name = 1, None, None, "impulse"

    def __init__(self, constant=False):
        self.constant, self.k = constant, 0

    def value(self, x):
        return np.zeros(np.shape(x)[:-1])

    def grad(self, x):
        return np.ones(1)

    def stochastic_grad(self, x, k, rng):
        return np.ones(1) if (self.constant or k == 0) else np.zeros(1)


def measured_weights(beta, n):
    """Velocity of EMAMomentum after an impulse: v_k = (1 - beta) beta^k."""
    run = hb.optimize(Impulse(), hb.EMAMomentum(1.0, beta), [0.0], n_steps=n, stochastic=True)
    return run.v[1:, 0]  # v after steps 1..n: the weight of the gradient k = 0, 1, ... steps back


def measured_step_response(beta, n):
    run = hb.optimize(Impulse(constant=True), hb.EMAMomentum(1.0, beta), [0.0], n_steps=n, stochastic=True)
    return run.v[:, 0]


def half_life(beta):
    return math.log(2.0) / math.log(1.0 / beta)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="shorter horizon")
    args = parser.parse_args(argv)
    n = 1500 if args.quick else 3000  # beta^n below 3e-7 for beta = 0.99: the tail is negligible
    print(f"{'beta':>6} {'half-life':>10} {'mean lag (measured)':>20} {'beta/(1-beta)':>14} {'1/(1-beta)':>11}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
    for i, beta in enumerate(BETAS):
        w = measured_weights(beta, n)
        h = half_life(beta)
        lags = np.arange(n)
        mean_lag = float(np.sum(lags * w) / np.sum(w))
        print(f"{beta:6.2f} {h:10.2f} {mean_lag:20.4f} {beta / (1 - beta):14.4f} {1 / (1 - beta):11.1f}")
        style = dict(color=("#0072B2", "#D55E00", "#009E73")[i], linestyle=("-", "--", "-.")[i])
        left.plot(lags, w, label=f"$\\beta$ = {beta:g}: half-life {h:.1f}", **style)
        left.axvline(h, linewidth=0.8, alpha=0.6, **style)
        resp = measured_step_response(beta, n)
        right.plot(np.arange(n + 1), resp, label=f"$\\beta$ = {beta:g}", **style)
        right.axvline(h, linewidth=0.8, alpha=0.6, **style)
    left.set_xlim(0, 400)
    left.set_yscale("log")
    left.set_ylim(1e-6, 1)
    left.set_xlabel("lag $i$ (steps back)")
    left.set_ylabel(r"weight $(1-\beta)\,\beta^i$")
    left.set_title("weight of a past gradient (measured)", fontsize="medium")
    left.legend(fontsize="small")
    right.axhline(0.5, color="0.5", linewidth=0.8, linestyle=":")
    right.set_xscale("symlog", linthresh=1, linscale=0.5)
    right.set_xlim(0, 1000)
    right.set_xlabel("step $k$")
    right.set_ylabel(r"$v_k$ for a constant gradient 1")
    right.set_title(r"start-up bias: $v_k = 1 - \beta^k$", fontsize="medium")
    right.legend(fontsize="small", loc="lower right")
    path = Path(args.out) / "ema_half_life.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
