"""Claims: momentum warm-up from 0.5 to 0.9
========================================

Claims about momentum warm-up: "the value of momentum is usually initialized at around 0.5
and is slowly annealed to 0.9"; "Some practitioners start with low momentum (beta = 0.5) and
increase to the target value (beta = 0.9) over the first few epochs. This prevents the initial
'cold start' where zero velocity makes the first updates behave like vanilla GD"; warm-up
"to avoid initial instability".

Measured on three problems, each schedule at its own best learning rate from a grid:
constant beta = 0.9, a linear anneal 0.5 -> 0.9 over the first 50 or 200 steps, and the best
constant beta from a grid (its lr tuned too). Problems: heavyball.landscapes.Ravine
(100 x^2 + y^2) and heavyball.Rosenbrock from (-1.2, 1), steps to ``|x - x*|`` <= 1e-6 ``|x_0 - x*|``
for good; noisy least squares (B = 16, kappa 100), steps to excess loss <= 0.1, median over
seeds.

    PYTHONPATH=. python scripts/claims_annealing.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, first_below, parse_args, run_batch, save
import heavyball as hb
from heavyball.landscapes import LeastSquares, Ravine


def schedules(n_steps):
    ramp = lambda n: np.asarray(hb.schedules.linear(0.5, 0.9, n)(np.arange(n_steps)))  # noqa: E731
    return {"constant 0.9": np.full(n_steps, 0.9), "0.5 -> 0.9 over 50": ramp(50),
            "0.5 -> 0.9 over 200": ramp(200)}


def cases(quick):
    ravine, rosen = Ravine(), hb.Rosenbrock()
    ls = LeastSquares.random(n_samples=1000, dim=20, kappa=100.0, noise=0.5, seed=1)
    ls16 = LeastSquares(ls.A, ls.y, batch_size=16)
    H, xs = ls.hessian_matrix, ls.minimizer
    out = {
        "ravine 100x^2 + y^2": dict(grad=lambda rng: (lambda x, k: ravine.grad(x)), x0=np.array([1.0, 1.0]),
                                     err=lambda x, k: np.linalg.norm(x, axis=1) / np.sqrt(2), tol=1e-6, stay=True,
                                     lrs=np.geomspace(5e-4, 2.5e-2, 12 if quick else 50), seeds=1,
                                     n=1000 if quick else 3000),
        "Rosenbrock": dict(grad=lambda rng: (lambda x, k: rosen.grad(x)), x0=np.array([-1.2, 1.0]),
                           err=lambda x, k: np.linalg.norm(x - 1.0, axis=1) / 2.2, tol=1e-6, stay=True,
                           lrs=np.geomspace(1e-4, 5e-3, 8 if quick else 40), seeds=1, n=1500 if quick else 20000),
        "least squares, B = 16": dict(
            grad=lambda rng: (lambda x, k: ls16.stochastic_grad(x, k, rng)), x0=np.zeros(20),
            err=lambda x, k: 0.5 * np.einsum("ij,jk,ik->i", x - xs, H, x - xs), tol=0.1, stay=False,
            lrs=np.geomspace(5e-4, 4e-2, 7 if quick else 19), seeds=3 if quick else 7, n=400 if quick else 1500),
    }
    return out


def best(case, beta_of_step=None, beta=0.9, seed=0):
    """(median steps, lr) at the best lr for one momentum schedule (or constant ``beta``)."""
    lrs, S = case["lrs"], case["seeds"]
    LR = np.repeat(lrs, S)
    rec, _ = run_batch(case["grad"](np.random.default_rng(seed)), case["x0"], LR, beta, case["n"],
                       beta_of_step=beta_of_step, metric=case["err"])
    steps = first_below(rec, case["tol"], stay=case["stay"]).astype(float)
    steps[steps < 0] = np.inf
    med = np.median(steps.reshape(len(lrs), S), axis=1)
    j = int(np.argmin(med))
    return float(med[j]), float(lrs[j])


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    table = {}
    for name, case in cases(args.quick).items():
        row = {}
        for label, bos in schedules(case["n"]).items():
            row[label] = best(case, beta_of_step=bos)
        grid = (0.5, 0.7, 0.9) if args.quick else (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
        const = {b: best(case, beta=b) for b in grid}
        b_star = min(const, key=lambda b: const[b][0])
        row[f"best constant (beta {b_star})"] = const[b_star]
        table[name] = row
        print(f"{name}: " + "; ".join(f"{k}: {v[0]:.0f} steps (lr {v[1]:.3g})" for k, v in row.items()))

    fig, (ax,) = figure(1, 1, width=7.0, height=3.8)
    names = list(table)
    labels = list(next(iter(table.values())).keys())
    width = 0.8 / len(labels)
    for i, label in enumerate(labels):
        vals = [table[n][list(table[n])[i]][0] for n in names]
        shown = label if i < 3 else "best constant beta (tuned)"
        pos = np.arange(len(names)) + (i - (len(labels) - 1) / 2) * width
        ax.bar(pos, vals, width, label=shown, color=f"C{i}")
        for x, v in zip(pos, vals):
            ax.annotate(f"{v:.0f}", (x, v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set(yscale="log", ylabel="steps to tolerance (each at its best lr)",
           title="Momentum warm-up 0.5 -> 0.9 vs constant momentum")
    ax.legend(fontsize=8)
    save(fig, args.out, "claims_annealing")
    return table


if __name__ == "__main__":
    main()
