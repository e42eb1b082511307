"""High-resolution ODEs: heavy ball against Nesterov
=================================================

High-resolution ODEs (Shi, Du, Jordan & Su 2021) separate heavy ball from Nesterov (NAG-SC).

Heavy ball and NAG-SC with step ``s`` and momentum ``(1 - sqrt(mu s))/(1 + sqrt(mu s))``
share the low-resolution ODE ``x'' + 2 sqrt(mu) x' + grad f = 0``. Their
high-resolution ODEs differ by the gradient correction ``sqrt(s) Hess f x'``.
Three measurements:

1. the stiff coordinate of both methods on ``diag(1, 100)`` at ``s = 1e-3``, with
   the one low-resolution curve and the two high-resolution ones;
2. ``max_k |x_k - x(k sqrt s)|`` over ``t <= 5`` on a non-quadratic strongly
   convex function, against ``s``: each method tracks its own high-resolution
   ODE with error ``O(s)`` and both the low-resolution ODE and the other
   method's high-resolution ODE only with ``O(sqrt s)``;
3. the decay rate, per unit of ODE time, of the stiffest mode ``lambda = L``
   against ``s L``: the low-resolution ODE says ``sqrt(mu)`` for both methods;
   NAG-SC damps it faster, as its high-resolution ODE predicts.

    python scripts/theory_high_resolution.py [--out DIR] [--quick]
"""

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball.odes import accelerated_momentum, accelerated_ode, iterates  # noqa: E402

MU, L = 1.0, 100.0
METHODS = {"heavy_ball": "heavy ball", "nag_sc": "NAG-SC"}
COLORS = {"heavy_ball": "#D55E00", "nag_sc": "#0072B2"}


def log_cosh(mu=0.5):
    """``sum log cosh((A x)_i) + mu |x|^2/2``: mu-strongly convex, not quadratic, minimiser 0."""
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    return hb.CustomProblem(
        2,
        lambda x: np.sum(np.log(np.cosh(x @ A.T)), axis=-1) + 0.5 * mu * np.sum(x * x, axis=-1),
        lambda x: np.tanh(x @ A.T) @ A + mu * x,
        lambda x: A.T @ ((1.0 / np.cosh(A @ x) ** 2)[:, None] * A) + mu * np.eye(2),
        minimizer=[0.0, 0.0], min_value=0.0, name="log_cosh")


def tracking_table(steps, T=5.0, mu=0.5):
    """Errors of each method against its own and the other ODEs, one row per step size."""
    problem, x0 = log_cosh(mu), [1.0, -0.5]
    table = {}
    for method in METHODS:
        other = "nag_sc" if method == "heavy_ball" else "heavy_ball"
        rows = []
        for s in steps:
            run = iterates(method, problem, x0, s, int(round(T / math.sqrt(s))), mu=mu)
            rows.append([accelerated_ode(method, problem, s, mu=mu).tracking_error(run),
                         accelerated_ode(method, problem, s, mu=mu, resolution="low").tracking_error(run),
                         accelerated_ode(other, problem, s, mu=mu).tracking_error(run)])
        table[method] = np.array(rows)
    return table


def decay_rates(s, lam=L, mu=MU):
    """Decay rate per unit ODE time of mode ``lam``: discrete methods and their ODEs."""
    h, beta = math.sqrt(s), accelerated_momentum(mu, s)
    disc_hb = np.roots([1.0, -(1 + beta - s * lam), beta])
    disc_nag = np.roots([1.0, -(1 + beta) * (1 - s * lam), beta * (1 - s * lam)])
    sigma = 1 + math.sqrt(mu * s)
    ode_hb = np.roots([1.0, 2 * math.sqrt(mu), sigma * lam])
    ode_nag = np.roots([1.0, 2 * math.sqrt(mu) + h * lam, sigma * lam])
    with np.errstate(divide="ignore"):  # NAG kills the mode lambda = 1/s in one step: rate inf
        return {"heavy ball": -math.log(np.max(np.abs(disc_hb))) / h,
                "NAG-SC": -np.log(np.max(np.abs(disc_nag))) / h,
                "low-resolution ODE (both)": math.sqrt(mu),
                "high-resolution ODE, heavy ball": -np.max(ode_hb.real),
                "high-resolution ODE, NAG-SC": -np.max(ode_nag.real)}


def slope(steps, errors):
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


def draw_stiff_coordinate(ax, s=1e-3, T=1.2):
    q = hb.Quadratic.diagonal([MU, L])
    x0 = [1.0, 1.0]
    n = int(round(T / math.sqrt(s)))
    low = accelerated_ode("heavy_ball", q, s, mu=MU, resolution="low").solve(x0, n)
    ax.plot(low.t, low.x[:, 1], color="0.3", linestyle=":", label="low-resolution ODE (both)")
    for method, label in METHODS.items():
        run = iterates(method, q, x0, s, n, mu=MU)
        hr = accelerated_ode(method, q, s, mu=MU).solve(x0, n)
        ax.plot(hr.t, hr.x[:, 1], color=COLORS[method], label=f"high-resolution ODE, {label}")
        ax.plot(run.t * math.sqrt(s), run.x[:, 1], "o", color=COLORS[method], markersize=2.5,
                label=f"{label} iterates")
    ax.set_xlabel(r"ODE time $t = k\sqrt{s}$")
    ax.set_ylabel(r"stiff coordinate $x_2$ ($\lambda = 100$)")
    ax.set_title(rf"$\mathrm{{diag}}(1, 100)$, $s = {s:g}$", fontsize="medium")
    ax.legend(fontsize="x-small")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer step sizes")
    args = parser.parse_args(argv)
    steps = np.array([1e-2, 1e-3, 1e-4] if args.quick else [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5])
    table = tracking_table(steps)
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.3), layout="constrained")
    draw_stiff_coordinate(axes[0])
    exponents = {}
    print("tracking error max_k |x_k - x(t_k)| over t <= 5 (log-cosh, mu = 0.5); columns: s = "
          + ", ".join(f"{s:g}" for s in steps))
    for method, label in METHODS.items():
        other = "NAG-SC" if method == "heavy_ball" else "heavy ball"
        names = ["own high-res ODE", "low-res ODE", f"{other}'s high-res ODE"]
        for j, (name, style) in enumerate(zip(names, ("-", ":", "--"))):
            p = slope(steps, table[method][:, j])
            exponents[(method, j)] = p
            print(f"  {label:<10} vs {name:<24}" + "".join(f"{e:10.2e}" for e in table[method][:, j])
                  + f"   exponent {p:.3f}")
            axes[1].loglog(steps, table[method][:, j], style, marker="o", markersize=3, color=COLORS[method],
                           label=f"{label} vs {name} (slope {p:.2f})")
    axes[1].set_xlabel("step $s$")
    axes[1].set_ylabel(r"$\max_k |x_k - x(t_k)|$, $t \leq 5$")
    axes[1].set_title("tracking error, non-quadratic f", fontsize="medium")
    axes[1].legend(fontsize="x-small")

    sl = np.logspace(-4, 0, 9 if args.quick else 81)
    rates = [decay_rates(x / L) for x in sl]
    print("decay rate of the mode lambda = L = 100 per unit ODE time (mu = 1):")
    for x, r in zip(sl[:: max(1, len(sl) // 8)], rates[:: max(1, len(sl) // 8)]):
        print(f"  s L = {x:8.2e}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items()))
    styles = {"heavy ball": ("o", COLORS["heavy_ball"], ""), "NAG-SC": ("o", COLORS["nag_sc"], ""),
              "low-resolution ODE (both)": (None, "0.3", ":"),
              "high-resolution ODE, heavy ball": (None, COLORS["heavy_ball"], "-"),
              "high-resolution ODE, NAG-SC": (None, COLORS["nag_sc"], "-")}
    for key, (marker, color, line) in styles.items():
        axes[2].semilogx(sl, [r[key] for r in rates], marker=marker, markersize=3, linestyle=line or "none",
                         color=color, label=key if marker is None else f"{key} iterates")
    axes[2].set_ylim(0, 12)
    axes[2].set_xlabel(r"$sL$")
    axes[2].set_ylabel("decay rate of the mode $\\lambda = L$ per unit time")
    axes[2].set_title(r"stiffest mode, $\mu = 1$, $L = 100$", fontsize="medium")
    axes[2].legend(fontsize="x-small")
    path = Path(args.out) / "theory_high_resolution.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return {"steps": steps, "table": table, "exponents": exponents}


if __name__ == "__main__":
    main()
