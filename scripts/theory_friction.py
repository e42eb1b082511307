"""Three ways to discretise friction
=================================

Three ways to discretise friction: explicit, exact (conformal) and implicit (Qian 1999).

All three are heavy ball with ``lr`` and ``beta`` from the step ``h`` (mass 1):

=====================================  ====================  ===================
scheme                                 ``beta``              ``lr``
=====================================  ====================  ===================
symplectic Euler (explicit friction)   ``1 - h gamma``       ``h^2``
conformal symplectic (exact friction)  ``exp(-h gamma)``     ``h^2``
implicit-friction Euler                ``1/(1 + h gamma)``   ``h^2/(1 + h gamma)``
=====================================  ====================  ===================

On a quadratic mode ``lambda`` heavy ball is stable iff ``|beta| < 1`` and
``lr lambda < 2 (1 + beta)``; the largest stable step is
``(sqrt(gamma^2 + 4 lambda) - gamma)/lambda`` with explicit friction and
``(sqrt(gamma^2 + 4 lambda) + gamma)/lambda`` with implicit friction (the exact
one lies between, a root of ``h^2 lambda = 2 (1 + exp(-h gamma))``). Left:
``beta`` and ``lr/h^2`` against ``h gamma``; right: contraction per unit time
``rho^(1/h)`` of the mode ``lambda = 1`` at critical damping ``gamma = 2``,
against the ODE's ``exp(-1)``.

    python scripts/theory_friction.py [--out DIR] [--quick]
"""

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

SCHEMES = {  # method -> label
    "symplectic_euler": "explicit friction (symplectic Euler)",
    "conformal_symplectic_euler": "exact friction (conformal symplectic)",
    "implicit_friction_euler": "implicit friction (Qian 1999)",
}
LAM, GAMMA = 1.0, 2.0  # critical damping: the ODE's modes decay like exp(-t)


def coefficients(method, h, gamma=GAMMA):
    """``(lr, beta)`` of the scheme with mass 1 (``hb.to_optimizer`` gives the same where ``beta >= 0``;
    it refuses the negative ``beta`` of explicit friction past ``h gamma = 1``)."""
    if method == "symplectic_euler":
        return h * h, 1.0 - h * gamma
    if method == "conformal_symplectic_euler":
        return h * h, math.exp(-h * gamma)
    return h * h / (1.0 + gamma * h), 1.0 / (1.0 + gamma * h)


def radius(method, h, lam=LAM, gamma=GAMMA):
    """Spectral radius per step of heavy ball with the scheme's (lr, beta) on mode ``lam``."""
    lr, beta = coefficients(method, h, gamma)
    roots = np.roots([1.0, -(1.0 + beta - lr * lam), beta])
    return float(np.max(np.abs(roots)))


def stability_limit(method, lam=LAM, gamma=GAMMA):
    """Largest stable step: closed form for explicit and implicit friction, a root for the exact one."""
    if method == "symplectic_euler":
        return (math.sqrt(gamma**2 + 4 * lam) - gamma) / lam
    if method == "implicit_friction_euler":
        return (math.sqrt(gamma**2 + 4 * lam) + gamma) / lam
    return brentq(lambda h: h * h * lam - 2 * (1 + math.exp(-h * gamma)), 1e-6, 10.0, xtol=1e-14)


def measured_limit(method, lam=LAM, gamma=GAMMA):
    """The same limit found numerically where the spectral radius crosses 1 (bracketed by the closed form)."""
    guess = stability_limit(method, lam, gamma)
    return brentq(lambda h: radius(method, h, lam, gamma) - 1.0, 0.5 * guess, 1.5 * guess, xtol=1e-12)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figure (default .)")
    parser.add_argument("--quick", action="store_true", help="coarser grids")
    args = parser.parse_args(argv)
    limits = {}
    print(f"mode lambda = {LAM}, gamma = {GAMMA} (mass 1): largest stable step")
    for method, label in SCHEMES.items():
        closed, found = stability_limit(method), measured_limit(method)
        limits[method] = closed
        print(f"  {label:<40} closed form {closed:.12f}   spectral radius = 1 at {found:.12f}")

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.0, 4.0), layout="constrained")
    colors = dict(zip(SCHEMES, ("#D55E00", "#009E73", "#0072B2")))
    x = np.linspace(0.0, 3.0, 200 if args.quick else 600)
    betas = {"symplectic_euler": 1 - x, "conformal_symplectic_euler": np.exp(-x),
             "implicit_friction_euler": 1 / (1 + x)}
    for method, label in SCHEMES.items():
        ax0.plot(x, betas[method], color=colors[method], label=rf"$\beta$, {label}")
    ax0.plot([], [], " ", label=r"$\mathrm{lr}\,m/h^2$: 1, 1, and $\beta$ for implicit friction")
    ax0.axhline(0.0, color="0.6", linewidth=0.8)
    ax0.set_xlabel(r"$h\gamma/m$")
    ax0.set_ylabel("coefficient")
    ax0.legend(fontsize="small")

    hs = np.linspace(0.01, 5.0, 300 if args.quick else 1000)
    for method, label in SCHEMES.items():
        per_time = np.array([radius(method, h) ** (1.0 / h) for h in hs])
        ax1.plot(hs, per_time, color=colors[method], label=f"{label}, stable to h = {limits[method]:.3f}")
    ax1.axhline(math.exp(-1.0), color="0.2", linestyle=":", label="ODE: exp(-1) per unit time")
    ax1.axhline(1.0, color="0.6", linewidth=0.8)
    ax1.set_ylim(0.0, 2.2)
    ax1.set_xlabel("step $h$")
    ax1.set_ylabel(r"contraction per unit time $\rho^{1/h}$")
    ax1.set_title(r"mode $\lambda = 1$, critical damping $\gamma = 2$", fontsize="medium")
    ax1.legend(fontsize="small", loc="upper right")
    path = Path(args.out) / "theory_friction.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return limits


if __name__ == "__main__":
    main()
