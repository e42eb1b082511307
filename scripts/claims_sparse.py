"""Claim: momentum and sparse gradients
====================================

Claim: "In models with sparse gradients ... many parameters receive zero gradients on most
steps. Momentum accumulates all past gradients, including the zeros. When a sparse parameter
finally gets a gradient, its velocity might be dominated by decay from old updates, not the
current signal. This is one motivation for per-parameter adaptive methods (AdaGrad, Adam)."

Problem: heavyball.landscapes.SparseLeastSquares.zipf(dim=50, exponent=1, noise=0.1,
batch_size=4): each sample touches one coordinate j with probability p_j ~ 1/(j + 1), so the
rarest coordinate gets a gradient on 1.8% of the steps. Measured:

1. on a heavy-ball run (lr 1, beta 0.9), at every step where coordinate j receives a gradient,
   the ratio ``|beta v_old|`` / ``|g|`` of the stale velocity to the new gradient;
2. the total displacement a lone gradient causes, against lr g / (1 - beta);
3. fair comparison: SGD, heavy ball and Adam, each at its best hyper-parameters from a grid
   (median over seeds), by the steps until the RMS error over all coordinates drops below 0.1
   (from 1); the tuned points are then re-run on fresh seeds for the median and IQR.

    PYTHONPATH=. python scripts/claims_sparse.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import (MedianPassStop, figure, first_below, parse_args, plain_ticks, run_adam_batch,
                           run_batch, save, spread)
import heavyball as hb
from heavyball.landscapes import SparseLeastSquares

TARGET = 0.1


def problem():
    return SparseLeastSquares.zipf(dim=50, exponent=1.0, noise=0.1, batch_size=4)


def stale_ratios(prob, beta=0.9, lr=1.0, n_steps=20000, seed=1):
    """Per coordinate: |beta v_old| / |g| at every step where the coordinate gets a gradient.

    Uses ``heavyball.optimize``; PyTorch's buffer satisfies ``buf_{k+1} = beta buf_k + g_k``,
    so the gradient of step k is ``buf_{k+1} - beta buf_k`` (``buf_0 = 0``).
    """
    tr = hb.optimize(prob, hb.SGD(lr, beta), np.zeros(prob.dim), n_steps=n_steps, stochastic=True, seed=seed)
    buf = tr.v
    g = buf[1:] - beta * buf[:-1]
    out = []
    for j in range(prob.dim):
        hits = np.flatnonzero(g[:, j] != 0)
        out.append(np.abs(beta * buf[hits, j]) / np.abs(g[hits, j]))
    return out


def lone_gradient_displacement(beta, lr=1.0, gap=200):
    """Displacement caused by one unit gradient followed by ``gap`` zero gradients (flat coordinate)."""
    x, v = 0.0, 0.0
    for k in range(gap + 1):
        v = beta * v + (1.0 if k == 0 else 0.0)
        x -= lr * v
    return -x


def tuned(prob, quick, seed=0):
    """{name: (hyper-parameters, per-seed steps on fresh seeds)} for SGD, heavy ball and Adam."""
    n_seeds = 5 if quick else 11
    n_eval = 11 if quick else 41
    rms = lambda x, k: np.linalg.norm(x - prob.minimizer, axis=1) / np.sqrt(prob.dim)  # noqa: E731
    x0 = np.zeros(prob.dim)

    def grad_stream(s):
        rng = np.random.default_rng(s)
        return lambda x, k: prob.stochastic_grad(x, k, rng)

    lrs = np.geomspace(0.1, 8.0, 9 if quick else 17)
    betas = np.array([0.0, 0.5, 0.9] if quick else [0.0, 0.5, 0.8, 0.9, 0.95])
    LR, BE, _ = np.meshgrid(lrs, betas, np.arange(n_seeds), indexing="ij")
    groups = (np.meshgrid(lrs, betas, indexing="ij")[1].ravel() > 0).astype(int)
    rec, _ = run_batch(grad_stream(seed), x0, LR.ravel(), BE.ravel(), 20000, metric=rms,
                       stop=MedianPassStop(TARGET, groups, n_seeds))
    med = np.median(_steps(rec).reshape(LR.shape), axis=2)
    best = {}
    for name, cols in (("SGD", betas == 0), ("heavy ball", betas > 0)):
        m = np.where(cols[None, :], med, np.inf)
        i, j = np.unravel_index(int(np.argmin(m)), m.shape)
        best[name] = (float(lrs[i]), float(betas[j]))
    alrs = np.geomspace(0.003, 1.0, 9 if quick else 17)
    b1s = np.array([0.0, 0.9])
    LR, B1, _ = np.meshgrid(alrs, b1s, np.arange(n_seeds), indexing="ij")
    rec, _ = run_adam_batch(grad_stream(seed), x0, LR.ravel(), B1.ravel(), 20000, metric=rms,
                            stop=MedianPassStop(TARGET, np.zeros(LR.size // n_seeds, int), n_seeds))
    med = np.median(_steps(rec).reshape(LR.shape), axis=2)
    i, j = np.unravel_index(int(np.argmin(med)), med.shape)
    best["Adam"] = (float(alrs[i]), float(b1s[j]))
    out = {}
    for k, (name, (lr, b)) in enumerate(best.items()):  # fresh seeds for the reported spread
        runner = run_adam_batch if name == "Adam" else run_batch
        rec, _ = runner(grad_stream(seed + 100 + k), x0, np.full(n_eval, lr), b, 20000, metric=rms,
                        stop=MedianPassStop(TARGET, np.arange(n_eval), 1))
        out[name] = ((lr, b), _steps(rec))
    return out


def _steps(rec):
    s = first_below(rec, TARGET, stay=False).astype(float)
    s[s < 0] = np.inf
    return s


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    prob = problem()
    touch = prob.touch_probability()
    ratios = stale_ratios(prob, n_steps=5000 if args.quick else 20000)
    for j in (0, 9, prob.dim - 1):
        r = ratios[j]
        print(f"coordinate {j}: p = {prob.frequencies[j]:.4f}, gradient on {touch[j]:.1%} of steps; at its "
              f"{r.size} arrivals median |beta v_old|/|g| = {np.median(r):.3f}, stale velocity larger on "
              f"{np.mean(r > 1):.0%}")
    for beta in (0.5, 0.9):
        print(f"beta {beta}: a lone gradient moves its coordinate by {lone_gradient_displacement(beta):.6f} "
              f"(lr g/(1-beta) = {1 / (1 - beta):g})")
    res = tuned(prob, args.quick)
    for name, ((lr, b), steps) in res.items():
        m = spread(steps)
        print(f"tuned {name}: lr {lr:.3g}, beta(1) {b}: {m[0]:.0f} [{m[1]:.0f}, {m[2]:.0f}] steps "
              f"to RMS error {TARGET}")

    fig, (ax1, ax2) = figure(2, 1, width=5.0)
    med = np.array([np.median(r) for r in ratios])
    ax1.loglog(touch, med, "o", ms=4, color="C0", label="median |beta v_old| / |g| at arrivals")
    ax1.loglog(touch, [np.quantile(r, 0.9) for r in ratios], "v", ms=4, color="C1", label="90th percentile")
    ax1.axhline(1.0, color="0.5", ls="--", lw=0.8)
    ax1.annotate("above: the stale velocity dominates", (0.03, 1.0), fontsize=7, xytext=(0, -10),
                 textcoords="offset points", color="0.4")
    ax1.set(xlabel="share of steps the coordinate gets a gradient", ylabel="stale velocity / new gradient",
            title="Heavy ball (beta 0.9) at gradient arrivals")
    plain_ticks(ax1, "x")
    ax1.legend(fontsize=8, loc="lower right")
    names = list(res)
    for i, name in enumerate(names):
        s = res[name][1]
        ax2.plot(np.full(s.size, i) + np.linspace(-0.2, 0.2, s.size), s, "o", ms=4, color=f"C{i}", alpha=0.7)
        ax2.plot([i - 0.25, i + 0.25], [np.median(s)] * 2, color=f"C{i}", lw=2)
    ax2.set_xticks(range(len(names)), [f"{n}\nlr {res[n][0][0]:.2g}, b {res[n][0][1]}" for n in names])
    ax2.set(ylabel=f"steps to RMS error {TARGET} (fresh seeds; bar: median)",
            title="Tuned SGD, heavy ball, Adam on sparse gradients")
    save(fig, args.out, "claims_sparse")
    return ratios, res


if __name__ == "__main__":
    main()
