"""Claims: momentum's memory, half-life and window
===============================================

Claims about momentum's memory: the gradient weights beta^i, the half-life (6.6 and 69
steps), the 90% windows (22 and 229 gradients), the "effective window" column of the beta
table, "an exponentially weighted average", the first step, the build-up over 1/(1-beta)
steps, the effective step lr/(1-beta) on consistent gradients and lr/(1+beta) on alternating
ones, the "velocity can grow large" worry, and "increase momentum to 0.95 while halving the
learning rate".

Every number is computed from the closed form and measured on heavyball.optimize runs.

    PYTHONPATH=. python scripts/claims_memory.py [--quick] [--out DIR]
"""

from __future__ import annotations

import math

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save
import heavyball as hb


class SignalSequence:
    """A landscape-free gradient stream: ``stochastic_grad`` returns ``sign(k) * g`` (k the step).

    With ``alternating=False`` every gradient is ``g`` (a constant slope); with ``True``
    the sign flips each step (a gradient that oscillates, as across a ravine).
    """

    dim = 1

    def __init__(self, alternating=False, g=1.0):
        self.alternating, self.g = alternating, g

    def value(self, x):
        return self.g * np.asarray(x)[..., 0]

    def grad(self, x):
        return np.full(np.shape(x), self.g)

    def stochastic_grad(self, x, k, rng):
        return np.full(np.shape(x), self.g * ((-1.0) ** k if self.alternating else 1.0))


def half_life(beta):
    return math.log(0.5) / math.log(beta)


def window(beta, share=0.9):
    """Smallest n with 1 - beta^n >= share: the last n gradients carry that share of the weight."""
    n = math.ceil(math.log(1.0 - share) / math.log(beta))
    while 1.0 - beta ** (n - 1) >= share:  # guard the ceil against rounding
        n -= 1
    return n


def step_sizes(beta, alternating, n_steps, lr=1.0):
    """|x_k - x_{k-1}| of torch-form heavy ball on a gradient stream of magnitude 1."""
    traj = hb.optimize(SignalSequence(alternating), hb.SGD(lr, beta), [0.0], n_steps=n_steps,
                       stochastic=True, seed=0)
    return np.abs(np.diff(traj.x[:, 0]))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    print("weights of past gradients, beta = 0.9:",
          {i: round(0.9**i, 6) for i in (0, 1, 2, 3, 10, 100)})
    for beta in (0.9, 0.99):
        n90 = window(beta)
        print(f"beta = {beta}: half-life {half_life(beta):.2f} steps; 90% of the weight in the last "
              f"{n90} gradients (the last {n90 - 1} hold {1 - beta ** (n90 - 1):.5f}); "
              f"total weight 1/(1 - beta) = {1 / (1 - beta):.0f}")
    print("beta table: 1/(1-beta), share of weight in the last 1/(1-beta) gradients, 90% window, mean age")
    for beta in (0.0, 0.5, 0.9, 0.95, 0.99):
        n = 1.0 / (1.0 - beta)
        share = 1.0 - beta ** round(n)
        n90 = 1 if beta == 0 else window(beta)
        print(f"  {beta:4}: {n:6.0f}  {share:.3f}  {n90:4d}  {beta / (1 - beta):6.1f}")

    n_steps = 60 if args.quick else 300
    const = {b: step_sizes(b, False, n_steps) for b in (0.5, 0.9)}
    alt = {b: step_sizes(b, True, n_steps) for b in (0.5, 0.9)}
    for b in (0.5, 0.9):
        k = round(1 / (1 - b))
        print(f"beta = {b}: step after {k} steps = {const[b][k - 1]:.4f} of lr g/(1-beta) = {1 / (1 - b):.1f} "
              f"({const[b][k - 1] * (1 - b):.1%}); final constant-gradient step {const[b][-1]:.4f}, "
              f"alternating {alt[b][-1]:.4f} (1/(1+beta) = {1 / (1 + b):.4f})")

    # first step: torch form and Keras equal GD; the EMA form takes (1 - beta) of it
    p, x0 = hb.Rosenbrock(), [-1.2, 1.0]
    first = {name: hb.optimize(p, opt, x0, n_steps=1).x[1]
             for name, opt in [("GD", hb.GD(1e-3)), ("SGD", hb.SGD(1e-3, 0.9)),
                               ("KerasSGD", hb.KerasSGD(1e-3, 0.9)), ("EMA", hb.EMAMomentum(1e-3, 0.9))]}
    g0 = p.grad(np.array(x0))
    print("first step minus GD's:", {k: np.abs(v - first["GD"]).max() for k, v in first.items()},
          "EMA step / GD step:", float((first["EMA"] - x0)[0] / (first["GD"] - x0)[0]), "grad", g0)

    # velocity bound on a noisy least-squares run at beta = 0.99
    ls = hb.landscapes.LeastSquares.random(n_samples=200, dim=10, kappa=100.0, noise=0.5, batch_size=1, seed=2)
    traj = hb.optimize(ls, hb.SGD(1e-4, 0.99), np.zeros(10), n_steps=2000 if args.quick else 20000,
                       stochastic=True, seed=3)
    grads = traj.v[1:] - 0.99 * traj.v[:-1]  # buf_k - beta buf_{k-1} = g_k (buf_1 = g_1)
    ratio = np.abs(traj.v).max() / np.abs(grads).max()
    print(f"beta = 0.99: max|buffer| / max|gradient| = {ratio:.1f} <= 1/(1 - beta) = 100")

    fig, (ax1, ax2) = figure(2, 1, width=5.2)
    for beta, color in ((0.9, "C0"), (0.99, "C1")):
        i = np.arange(0, 400)
        ax1.plot(i, 1 - beta ** (i + 1), color=color, label=f"beta = {beta}: share of weight in last n")
        for n, style, what in ((half_life(beta), ":", "half-life"), (window(beta), "--", "90% window"),
                               (1 / (1 - beta), "-.", "1/(1-beta)")):
            ax1.axvline(n, color=color, ls=style, lw=1)
            ax1.annotate(f"{what} {n:.1f}" if what == "half-life" else f"{what} {n:.0f}",
                         (n, 0.05 + (0.3 if what == "1/(1-beta)" else 0) + (0.15 if what == "90% window" else 0)),
                         rotation=90, fontsize=7, color=color, xytext=(2, 0), textcoords="offset points")
    ax1.set(xscale="log", xlim=(1, 400), ylim=(0, 1.02), xlabel="n, most recent gradients",
            ylabel="share of the total weight", title="Momentum's memory")
    ax1.legend(fontsize=8, loc="upper left")
    k = np.arange(1, n_steps + 1)
    for b, color in ((0.5, "C2"), (0.9, "C0")):
        ax2.plot(k, const[b], color=color, label=f"beta = {b}, constant gradient")
        ax2.plot(k, alt[b], color=color, ls="--", label=f"beta = {b}, alternating gradient")
        ax2.axhline(1 / (1 - b), color=color, lw=0.6, ls=":")
        ax2.axhline(1 / (1 + b), color=color, lw=0.6, ls=":")
    ax2.set(xscale="log", yscale="log", xlabel="step k", ylabel="step length |x_k - x_(k-1)| / (lr |g|)",
            title="Effective step: 1/(1-beta) vs 1/(1+beta)")
    ax2.legend(fontsize=8)
    save(fig, args.out, "claims_memory")
    return const, alt


if __name__ == "__main__":
    main()
