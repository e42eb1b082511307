"""The Su-Boyd-Candes ODE of Nesterov's method
===========================================

Su, Boyd & Candes (2016): Nesterov's method for convex f follows x'' + (3/t) x' + grad f = 0.

1. The exact solution ``2 x0 J1(sqrt(lambda) t)/(sqrt(lambda) t)`` on ``lambda = 2``
   (the published values at t = 1, 5, 10, 20), the reference solver started on
   it at ``t = 0.5``, and Nesterov's iterates (momentum ``(k-1)/(k+2)``) at
   ``t = k sqrt(s)`` for three steps ``s``.
2. ``max_k |x_k - x(k sqrt s)|`` over ``t <= 10`` against ``s``: slope 1/2, for
   the paper's scheme and for PyTorch's ``SGD(nesterov=True)`` with
   ``momentum_schedule = lambda j: j/(j+3)``; and slope 1 against the
   high-resolution ODE of NAG-C.
3. ``t^2 (f(x(t)) - f*) / (2 |x0 - x*|^2)`` on four convex problems: never above 1.

    python scripts/theory_su_boyd_candes.py [--out DIR] [--quick]
"""

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import heavyball as hb  # noqa: E402
from heavyball.odes import (  # noqa: E402
    accelerated_ode,
    iterates,
    nesterov_momentum,
    su_boyd_candes,
    su_boyd_candes_exact,
    su_boyd_candes_start,
)

PUBLISHED = {1.0: 0.769987, 5.0: 0.004689, 10.0: 0.021894, 20.0: 0.007327}
LAM = np.array([2.0, 0.3])
X0 = np.array([1.0, -0.7])


def published_check():
    """Exact solution and reference solver against the published values (lambda = 2, x0 = 1)."""
    q, t = hb.Quadratic.diagonal([2.0]), np.array(list(PUBLISHED))
    exact, _ = su_boyd_candes_exact(q, [1.0], t)
    xs, vs = su_boyd_candes_exact(q, [1.0], [0.5])
    ref = hb.solve_reference(su_boyd_candes(q), xs[0], vs[0], t_span=(0.5, 20.0), t_eval=t)
    return t, exact[:, 0], ref.x[:, 0]


def tracking(steps, T=10.0):
    """Errors against the exact ODE solution: the paper's scheme, PyTorch's schedule; and vs NAG-C's high-res ODE."""
    q = hb.Quadratic.diagonal(LAM)
    out = {"Nesterov (paper) vs SBC ODE": [], "PyTorch schedule j/(j+3) vs SBC ODE": [],
           "Nesterov (paper) vs high-resolution NAG-C ODE": []}
    for s in steps:
        n = int(round(T / math.sqrt(s)))
        run = iterates("nag_c", q, X0, s, n)
        torch_like = hb.optimize(q, hb.SGD(s, 0.5, nesterov=True), X0, n_steps=n,
                                 momentum_schedule=lambda j: nesterov_momentum(j + 1))
        exact, _ = su_boyd_candes_exact(q, X0, math.sqrt(s) * np.arange(n + 1))
        out["Nesterov (paper) vs SBC ODE"].append(np.max(np.linalg.norm(run.x - exact, axis=1)))
        out["PyTorch schedule j/(j+3) vs SBC ODE"].append(np.max(np.linalg.norm(torch_like.x - exact, axis=1)))
        out["Nesterov (paper) vs high-resolution NAG-C ODE"].append(accelerated_ode("nag_c", q, s).tracking_error(run))
    return {k: np.array(v) for k, v in out.items()}


def softplus_pair():
    """``log(1 + e^x) + log(1 + e^{-2x})``: convex, not strongly; minimiser ``log u``, ``u^3 - u - 2 = 0``."""
    u = max(r.real for r in np.roots([1.0, 0.0, -1.0, -2.0]) if abs(r.imag) < 1e-12)
    xstar = math.log(u)

    def value(x):
        return float(np.logaddexp(0.0, x[0]) + np.logaddexp(0.0, -2.0 * x[0]))

    def grad(x):
        return np.array([1.0 / (1.0 + np.exp(-x[0])) - 2.0 / (1.0 + np.exp(2.0 * x[0]))])

    return hb.CustomProblem(1, value, grad, minimizer=[xstar], min_value=value([xstar]), name="softplus_pair")


def bound_ratios(T=30.0, t0=1e-3):
    """``t^2 (f - f*) / (2 |x0 - x*|^2)`` along the ODE from rest for a few convex problems."""
    problems = {
        "quadratic, kappa = 100": (hb.Quadratic.from_condition_number(100.0, dim=3), [1.0, -1.0, 0.5]),
        "Lessard function": (hb.LessardCounterexample(), [3.3]),
        "quartic x^4/4": (hb.CustomProblem(1, lambda x: float(x[0] ** 4) / 4, lambda x: x**3,
                                           minimizer=[0.0], min_value=0.0), [2.0]),
        "log(1 + exp(x)) + log(1 + exp(-2x))": (softplus_pair(), [-3.0]),
    }
    t = np.linspace(t0, T, 1500)
    out = {}
    for name, (p, x0) in problems.items():
        x, v = su_boyd_candes_start(p, x0, t0)
        ref = hb.solve_reference(su_boyd_candes(p), x, v, t_span=(t0, T), t_eval=t)
        r0 = 2 * np.sum((np.asarray(x0) - p.minimizer) ** 2)
        out[name] = t**2 * (ref.loss - p.min_value) / r0
    return t, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="fewer step sizes")
    args = parser.parse_args(argv)
    t_pub, exact, ref = published_check()
    print("t       published   exact (J1)        solve_reference")
    for ti, e, r in zip(t_pub, exact, ref):
        print(f"{ti:5.1f}   {PUBLISHED[ti]:.6f}    {e:.12f}   {r:.12f}")
    steps = np.array([1e-2, 1e-3, 1e-4] if args.quick else [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5])
    errs = tracking(steps)
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.3), layout="constrained")
    q = hb.Quadratic.diagonal([2.0])
    tt = np.linspace(0, 20, 800)
    axes[0].plot(tt, su_boyd_candes_exact(q, [1.0], tt)[0][:, 0], color="0.2", label="exact ODE solution")
    axes[0].plot(list(PUBLISHED), list(PUBLISHED.values()), "s", color="#E69F00", label="published values")
    for s, c in zip((0.1, 0.01), ("#D55E00", "#0072B2")):
        run = iterates("nag_c", q, [1.0], s, int(20 / math.sqrt(s)))
        axes[0].plot(run.t * math.sqrt(s), run.x[:, 0], "o", markersize=2.5, color=c,
                     label=rf"Nesterov, $s = {s:g}$, at $t = k\sqrt{{s}}$")
    axes[0].set_xlabel("$t$")
    axes[0].set_ylabel("$x(t)$")
    axes[0].set_title(r"$x'' + (3/t)x' + 2x = 0$, $x(0) = 1$", fontsize="medium")
    axes[0].legend(fontsize="x-small")
    print("tracking error over t <= 10 on diag(2, 0.3); s = " + ", ".join(f"{s:g}" for s in steps))
    for (name, e), style in zip(errs.items(), ("o-", "s--", "^-")):
        p = float(np.polyfit(np.log(steps), np.log(e), 1)[0])
        print(f"  {name:<48}" + "".join(f"{x:10.2e}" for x in e) + f"   exponent {p:.3f}")
        axes[1].loglog(steps, e, style, markersize=3, label=f"{name} (slope {p:.2f})")
    axes[1].set_xlabel("step $s$")
    axes[1].set_ylabel(r"$\max_k |x_k - x(t_k)|$, $t \leq 10$")
    axes[1].legend(fontsize="x-small")
    t, ratios = bound_ratios()
    for name, r in ratios.items():
        print(f"  max t^2 (f - f*) / (2 |x0 - x*|^2) = {np.max(r):.4f}   ({name})")
        axes[2].plot(t, r, label=name)
    axes[2].axhline(1.0, color="0.3", linestyle=":", label="bound")
    axes[2].set_xlabel("$t$")
    axes[2].set_ylabel(r"$t^2 (f(x(t)) - f^*) \,/\, 2|x_0 - x^*|^2$")
    axes[2].legend(fontsize="x-small")
    path = Path(args.out) / "theory_su_boyd_candes.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return {"published": (t_pub, exact, ref), "steps": steps, "errors": errs, "ratios": ratios}


if __name__ == "__main__":
    main()
