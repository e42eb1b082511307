"""Beyond quadratics, measured: noise floors and escapes against the quadratic prediction at the minimiser.
========================================================================================================

Heavy ball (PyTorch SGD, momentum 0.9) with Gaussian gradient noise on
Rosenbrock and on the tilted double well, and with minibatch gradients on
least squares: the floor simulated over seeds (``noise.measured_floor``,
mean +- standard error) against ``noise.stationary_loss`` at the minimiser's
Hessian (for least squares also the exact ``noise.minibatch_floor``). On the
double well, the first passage over the barrier from the global minimum,
against Arrhenius' ``exp(Delta L / T)`` with the small-step temperature
``T = lr sigma^2 / (2 (1 - beta))`` (the stationary covariance is
``T H^{-1}``).

    python scripts/noise_landscapes.py [--out DIR] [--quick]
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
from heavyball import noise  # noqa: E402
from heavyball.landscapes import LeastSquares  # noqa: E402

BETA = 0.9
ROSENBROCK = dict(lr=2e-4, sigmas=[0.3, 3.0, 10.0, 30.0])
WELL = dict(lr=0.01, sigmas=[0.25, 0.5, 1.0, 1.5])
ESCAPE_SIGMAS = [1.8, 2.0, 2.5, 3.0, 3.5]
BATCHES = [1, 4, 16, 64]


def floors(problem, lr, sigmas, n_steps, burn_in, seeds):
    return {s: noise.measured_floor(problem, lr, BETA, grad_noise=s, n_steps=n_steps, burn_in=burn_in, seeds=seeds)
            for s in sigmas}


def least_squares(n_steps, burn_in, seeds):
    out = {}
    for B in BATCHES:
        p = LeastSquares.random(n_samples=200, dim=4, kappa=10.0, noise=0.5, batch_size=B, seed=0)
        m = noise.measured_floor(p, 0.01, BETA, stochastic=True, n_steps=n_steps, burn_in=burn_in, seeds=seeds)
        out[B] = (m, noise.minibatch_floor(p, 0.01, BETA))
    return out


def first_passages(sigma, n_steps, seeds, lr=WELL["lr"]):
    """Steps until x crosses the barrier from the global minimum, per seed (inf: not within n_steps)."""
    p = hb.DoubleWell()
    out = np.full(seeds, np.inf)
    for s in range(seeds):
        traj = hb.optimize(p, hb.SGD(lr, BETA), p.minimizer, n_steps=n_steps, grad_noise=sigma, seed=1000 + s)
        hit = np.flatnonzero(traj.x[:, 0] > p.barrier_point[0])
        if hit.size:
            out[s] = hit[0]
    return out


def escape_study(n_steps, seeds):
    p = hb.DoubleWell()
    dL = float(p.value(p.barrier_point) - p.min_value)
    rows = []
    for sigma in ESCAPE_SIGMAS:
        T = WELL["lr"] * sigma**2 / (2 * (1 - BETA))
        fp = first_passages(sigma, n_steps, seeds)
        frac = float(np.mean(np.isfinite(fp)))
        rows.append(dict(sigma=sigma, T=T, barrier_over_T=dL / T, escaped=frac,
                         escaped_se=float(np.sqrt(frac * (1 - frac) / seeds)),
                         median=float(np.median(fp)) if frac > 0.5 else np.inf))
    ok = [r for r in rows if np.isfinite(r["median"])]
    slope = (float(np.polyfit([r["barrier_over_T"] for r in ok], np.log([r["median"] for r in ok]), 1)[0])
             if len(ok) >= 2 else float("nan"))
    return dL, rows, slope


def _line(name, m):
    z = (m.mean - m.prediction) / m.stderr
    return (f"  {name:>10} | {m.mean:11.4g} +- {m.stderr:9.2g} | {m.prediction:11.4g} | "
            f"{m.mean / m.prediction:6.3f} | {z:+6.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer seeds and steps")
    args = parser.parse_args(argv)
    seeds, steps, burn = (4, 3000, 1000) if args.quick else (16, 40000, 8000)
    head = (f"  {'sigma':>10} | {'measured floor +- s.e.':>26} | {'quadratic':>11} | {'ratio':>6} | "
            f"{'z':>6}")
    rosen = floors(hb.Rosenbrock(), ROSENBROCK["lr"], ROSENBROCK["sigmas"], steps, burn, seeds)
    print(f"Rosenbrock, lr = {ROSENBROCK['lr']:g}, momentum {BETA}: floor over {seeds} seeds x {steps} steps")
    print(head)
    for s, m in rosen.items():
        print(_line(f"{s:g}", m))
    well = floors(hb.DoubleWell(), WELL["lr"], WELL["sigmas"], steps, burn, seeds)
    print(f"double well (tilt 0.25), lr = {WELL['lr']:g}, momentum {BETA}: floor")
    print(head)
    for s, m in well.items():
        print(_line(f"{s:g}", m))
    ls = least_squares(steps // 4, burn // 4, seeds)
    print(f"minibatch least squares (200 x 4, kappa 10), lr = 0.01, momentum {BETA}: measured, constant-noise "
          "prediction Sigma_1(x*)/B, exact (second-moment recursion)")
    print(f"  {'B':>10} | {'measured floor +- s.e.':>26} | {'Sigma(x*)/B':>11} | {'exact':>11} | z(exact)")
    for B, (m, exact) in ls.items():
        if not np.isfinite(exact.floor):  # not mean-square stable: the runs' loss grows without bound
            print(f"  {B:>10} | {m.mean:11.4g} (grows) {'':>9} | {m.prediction:11.4g} | {'diverges':>11} | "
                  f"second-moment radius {exact.second_moment_radius:.4f}")
            continue
        print(f"  {B:>10} | {m.mean:11.4g} +- {m.stderr:9.2g} | {m.prediction:11.4g} | {exact.floor:11.4g} | "
              f"{(m.mean - exact.floor) / m.stderr:+6.1f}")
    dL, rows, slope = escape_study(4000 if args.quick else 30000, 6 if args.quick else 32)
    print(f"double well escape from the global minimum over the barrier (Delta L = {dL:.4f}):")
    print(f"  {'sigma':>6} {'T':>7} {'dL/T':>7} {'escaped':>14} {'median steps':>13}")
    for r in rows:
        print(f"  {r['sigma']:6g} {r['T']:7.4f} {r['barrier_over_T']:7.3f} {r['escaped']:7.2f} +- "
              f"{r['escaped_se']:4.2f} {r['median']:13.0f}")
    print(f"  fitted slope of ln(median first passage) against Delta L / T: {slope:.2f} (Arrhenius: 1)")
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.2), layout="constrained")
    for ax, (name, data) in zip(axes[:2], (("Rosenbrock", rosen), ("double well", well))):
        s = np.array(list(data))
        ax.errorbar(s, [m.mean for m in data.values()], yerr=[3 * m.stderr for m in data.values()], fmt="o",
                    capsize=3, label="measured (3 s.e.)")
        ax.loglog(s, [m.prediction for m in data.values()], "s--", markerfacecolor="none",
                  label="quadratic at the minimiser")
        ax.set_xlabel(r"gradient noise $\sigma$")
        ax.set_ylabel(r"floor $E[L] - L^*$")
        ax.set_title(f"{name}, heavy ball $\\beta$ = {BETA}", fontsize="medium")
        ax.legend(fontsize="small")
    ok = [r for r in rows if np.isfinite(r["median"])]
    axes[2].semilogy([r["barrier_over_T"] for r in ok], [r["median"] for r in ok], "o", label="median first passage")
    if len(ok) >= 2:
        x = np.array([r["barrier_over_T"] for r in ok])
        c = np.polyfit(x, np.log([r["median"] for r in ok]), 1)
        axes[2].semilogy(x, np.exp(np.polyval(c, x)), "--", label=f"fit: slope {c[0]:.2f}")
    axes[2].set_xlabel(r"$\Delta L / T$, $T = \alpha \sigma^2 / (2 (1 - \beta))$")
    axes[2].set_ylabel("steps to cross the barrier")
    axes[2].set_title("double well: escape", fontsize="medium")
    axes[2].legend(fontsize="small")
    path = Path(args.out) / "noise_landscapes.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return dict(rosenbrock=rosen, double_well=well, least_squares=ls, escape=(dL, rows, slope))


if __name__ == "__main__":
    main()
