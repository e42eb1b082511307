"""Real data: logistic regression and a small MLP
==============================================

Real data without downloads: logistic regression and a small MLP on scikit-learn's datasets.

Two studies on data that ships inside scikit-learn (the ``examples`` extra), with PyTorch
(the ``frameworks`` extra) for the second:

1. **Logistic regression on breast cancer** (569 samples, 30 standardised features and a bias,
   L2 weight 1e-3), written as a Numba-compiled problem: ``value(x) -> float`` and
   ``grad(x, out) -> None`` built by a factory that captures the data in a closure. A 64 x 64
   ``(lr, momentum)`` rate map of heavy ball by :func:`heavyball.sweep`, next to the analytic
   map of the quadratic with the Hessian at the minimiser (found by Newton's method).
2. **A small MLP on digits** (1797 images of 8 x 8 pixels, 64 -> 32 -> tanh -> 10,
   cross-entropy) as a :class:`heavyball.problems.TorchProblem`: gradient descent, heavy ball
   and Nesterov each tuned on a small grid by the final training loss, with the
   velocity-gradient angle and the kinetic and potential energy over training.

    python scripts/real_data.py [--out DIR] [--quick]
"""

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import heavyball as hb  # noqa: E402
from heavyball import plotting, spectral  # noqa: E402
from heavyball.diagnostics import energies, velocity_gradient_angle  # noqa: E402

L2 = 1e-3
SEED = 0


# --------------------------------------------------------------------------- logistic regression
def breast_cancer():
    """Standardised features with a column of ones (the bias), and labels in {-1, +1}."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    A = np.hstack([X, np.ones((len(X), 1))])
    return np.ascontiguousarray(A), np.where(y == 1, 1.0, -1.0)


def logistic_functions(A, s, l2):
    r"""Numba-compiled ``value(x)`` and ``grad(x, out)`` of the L2-regularised logistic loss.

    ``L(x) = (1/n) sum_i log(1 + exp(-s_i a_i^T x)) + (l2/2) |x|^2`` and
    ``grad L(x) = -(1/n) sum_i s_i sigma(-s_i a_i^T x) a_i + l2 x``. The data are captured by
    the closure (Numba freezes them into the compiled code).
    """
    n, d = A.shape

    @numba.njit
    def value(x):
        total = 0.0
        for i in range(n):
            z = 0.0
            for j in range(d):
                z += A[i, j] * x[j]
            m = -s[i] * z  # log(1 + e^m), overflow-safe
            total += max(m, 0.0) + np.log1p(np.exp(-abs(m)))
        reg = 0.0
        for j in range(d):
            reg += x[j] * x[j]
        return total / n + 0.5 * l2 * reg

    @numba.njit
    def grad(x, out):
        for j in range(d):
            out[j] = l2 * x[j]
        for i in range(n):
            z = 0.0
            for j in range(d):
                z += A[i, j] * x[j]
            m = -s[i] * z
            sig = 1.0 / (1.0 + np.exp(-m)) if m >= 0 else np.exp(m) / (1.0 + np.exp(m))  # sigma(m)
            c = -s[i] * sig / n
            for j in range(d):
                out[j] += c * A[i, j]

    return value, grad


def as_problem(dim, value, grad, **kw):
    """The compiled pair as a :class:`~heavyball.CustomProblem`: it runs inside the kernels."""
    return hb.CustomProblem(dim, value, grad, **kw)


def newton_minimizer(A, s, l2, iters=30):
    """The minimiser and the Hessian there, by Newton's method in NumPy (independent of Numba)."""
    n, d = A.shape
    x = np.zeros(d)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(s * (A @ x)))  # sigma(-s a^T x)
        g = -(A.T @ (s * p)) / n + l2 * x
        H = (A.T * (p * (1 - p))) @ A / n + l2 * np.eye(d)
        if np.linalg.norm(g) <= 1e-15:
            break
        x = x - np.linalg.solve(H, g)
    return x, H, np.linalg.norm(g)


def logistic_study(quick):
    A, s = breast_cancer()
    value, grad = logistic_functions(A, s, L2)
    x_star, H, gnorm = newton_minimizer(A, s, L2)
    problem = as_problem(A.shape[1], value, grad, minimizer=x_star, min_value=float(value(x_star)),
                         name="breast-cancer logistic")
    eig = np.linalg.eigvalsh(H)
    mu, L = eig[0], eig[-1]
    lr_opt, mom_opt, rate_opt = spectral.optimal_parameters(mu, L, "heavy_ball")
    # global bounds: sigma' <= 1/4 gives L_glob = lambda_max(A^T A)/(4n) + l2; mu_glob = l2
    L_glob = np.linalg.eigvalsh(A.T @ A / (4 * len(A)))[-1] + L2
    lr_glob, mom_glob, rate_glob = spectral.optimal_parameters(L2, L_glob, "heavy_ball")
    size, n_steps = (8, 60) if quick else (64, 400)
    lrs = np.geomspace(0.05, 4.0 / L, size)
    momenta = np.linspace(0.0, 0.99, size)
    t = time.perf_counter()
    result = hb.sweep(problem, lrs, momenta, x0=np.zeros(A.shape[1]), n_steps=n_steps, progress=False)
    seconds = time.perf_counter() - t
    ok = np.where(result.diverged, np.inf, result.rate)
    i, j = np.unravel_index(np.argmin(ok), ok.shape)
    print(f"logistic regression on breast cancer: n = {len(A)}, dim = {A.shape[1]}, L2 = {L2:g}")
    print(f"  Newton minimiser: |grad L(x*)| = {gnorm:.1e}, L(x*) = {problem.min_value:.6f}")
    print(f"  Hessian at x*: mu = {mu:.4g}, L = {L:.4g}, kappa = {L / mu:.4g}")
    print(f"  quadratic theory at x*: heavy ball lr = {lr_opt:.4g}, momentum = {mom_opt:.4f}, rate = {rate_opt:.4f}")
    print(f"  global bounds mu = {L2:g}, L = {L_glob:.4g}: heavy ball lr = {lr_glob:.4g}, "
          f"momentum = {mom_glob:.4f}, rate = {rate_glob:.4f}")
    print(f"  {size} x {size} sweep, {n_steps} steps: best rate {ok[i, j]:.4f} at lr = {lrs[j]:.4g}, "
          f"momentum = {momenta[i]:.3f}; {result.diverged.mean():.0%} of the grid diverged ({seconds:.1f} s)")
    return problem, result, eig, dict(mu=mu, L=L, L_glob=L_glob, rate_opt=rate_opt, best_rate=float(ok[i, j]))


# --------------------------------------------------------------------------- MLP on digits
def digits_problem(n_samples=None):
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
    return hb.problems.TorchProblem(model, torch.nn.functional.cross_entropy,
                                    torch.tensor(X, dtype=torch.float64), torch.tensor(y))


def candidates(quick):
    """Each method's grid: ``label -> [optimizer, ...]``."""
    gd_lrs = [1.0, 3.0] if quick else [1.0, 3.0, 10.0, 30.0, 100.0, 300.0]
    lrs = [0.1, 0.3] if quick else [0.1, 0.3, 1.0, 3.0, 10.0]
    moms = [0.9] if quick else [0.9, 0.95, 0.98, 0.99]
    return {
        "gradient descent": [hb.GD(lr) for lr in gd_lrs],
        "heavy ball": [hb.SGD(lr, momentum=m) for lr in lrs for m in moms],
        "Nesterov": [hb.SGD(lr, momentum=m, nesterov=True) for lr in lrs for m in moms],
    }


def on_edge(opt, opts):
    """True when ``opt`` sits on the edge of its grid (the tuning may want a wider grid)."""
    edge = opt.lr in (min(o.lr for o in opts), max(o.lr for o in opts))
    if not isinstance(opt, hb.GD):
        edge = edge or opt.momentum == max(o.momentum for o in opts)
    return edge


def tune(problem, n_steps, quick):
    """Each method's ``(trajectory, optimiser, on the grid's edge)`` with the lowest final training loss."""
    best = {}
    for label, opts in candidates(quick).items():
        runs = [(hb.optimize(problem, opt, problem.x0, n_steps=n_steps), opt) for opt in opts]
        runs = [(traj, opt) for traj, opt in runs if traj.success]
        traj, opt = min(runs, key=lambda r: r[0].loss[-1])
        best[label] = (traj, opt, on_edge(opt, opts))
    return best


def mlp_study(quick):
    import torch

    torch.set_num_threads(1)
    problem = digits_problem(600 if quick else None)
    n_steps = 40 if quick else 300
    t = time.perf_counter()
    best = tune(problem, n_steps, quick)
    print(f"MLP 64-32-10 on digits: n = {problem.n_samples}, dim = {problem.dim}, {n_steps} full-batch steps "
          f"({time.perf_counter() - t:.1f} s to tune)")
    print(f"  {'method':<18} {'tuned as':<28} {'loss':>9} {'accuracy':>9} {'mean angle':>11}")
    stats = {}
    for label, (traj, opt, edge) in best.items():
        angle = velocity_gradient_angle(traj, problem)
        kinetic, potential = energies(traj, optimizer=opt)
        acc = accuracy(problem, traj.x[-1])
        stats[label] = dict(traj=traj, opt=opt, angle=angle, kinetic=kinetic, potential=potential, accuracy=acc)
        print(f"  {label:<18} {describe(opt):<28} {traj.loss[-1]:9.2e} {acc:9.3f} {np.nanmean(angle[1:]):9.1f} deg"
              + ("  (edge of its grid)" if edge else ""))
    return problem, stats


def describe(opt):
    return f"lr = {opt.lr:g}" + ("" if isinstance(opt, hb.GD) else f", momentum = {opt.momentum:g}")


def accuracy(problem, x):
    import torch

    with torch.no_grad(), problem._at(x):
        return float((problem.model(problem.inputs).argmax(1) == problem.targets).double().mean())


# --------------------------------------------------------------------------- figures
def rate_figure(result, eig, out):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    plotting.rate_heatmap(result, eigenvalues=eig, ax=left)
    left.set_title("measured: heavy ball, logistic regression", fontsize="medium")
    plotting.rate_heatmap(eigenvalues=eig, lrs=result.lrs, momenta=result.momenta, ax=right)
    right.set_title(r"analytic: quadratic with $\nabla^2 L(x^*)$", fontsize="medium")
    return save(fig, out, "real_data_rate_map")


def mlp_figure(stats, out):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    for label, st in stats.items():
        k = st["traj"].t
        axes[0].semilogy(k, st["traj"].loss, label=f"{label}")
        axes[1].plot(k, st["angle"], lw=0.8, label=label)
        line, = axes[2].semilogy(k[1:], st["kinetic"][1:], lw=0.8, label=f"{label}: kinetic")
        axes[2].semilogy(k, st["potential"], ls="--", color=line.get_color(), lw=0.8)
    axes[0].set(xlabel="step", ylabel="training loss", title="tuned methods, digits MLP")
    axes[1].set(xlabel="step", ylabel="degrees", ylim=(0, 180), title="angle between velocity and -gradient")
    axes[1].axhline(90, color="grey", lw=0.5)
    axes[2].set(xlabel="step", ylabel="energy", title="kinetic (solid) and potential (dashed)")
    for ax in axes:
        ax.legend(fontsize="small")
    return save(fig, out, "real_data_mlp")


def save(fig, out, name):
    path = Path(out) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figures (default .)")
    parser.add_argument("--quick", action="store_true", help="small grids, few steps (seconds)")
    args = parser.parse_args(argv)
    _, result, eig, logistic = logistic_study(args.quick)
    rate_figure(result, eig, args.out)
    _, stats = mlp_study(args.quick)
    mlp_figure(stats, args.out)
    return logistic, stats


if __name__ == "__main__":
    main()
