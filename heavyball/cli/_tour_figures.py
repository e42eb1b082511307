"""The figures of ``heavyball tour``, drawn with :mod:`heavyball.plotting` and saved as PNG.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot,
no global state, no GUI backend), so the tour runs headless.
"""

from __future__ import annotations

from pathlib import Path

from .. import plotting

DPI = 110
_PRETTY = {"explicit_euler": "explicit Euler", "symplectic_euler": "symplectic Euler",
           "nesterov": "Nesterov look-ahead"}


def _figure(figsize, ncols=1, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols, **kw)
    return fig, axes


def _save(fig, out, name):
    path = Path(out) / name
    fig.savefig(path, dpi=DPI)
    return str(path)


def phase_portrait(out, phase):
    """Three panels: explicit Euler, symplectic Euler, Nesterov over the ODE's flow."""
    system, runs, ref = phase
    gamma = system.friction
    fig, axes = _figure((12.0, 4.1), ncols=3, sharex=True, sharey=True)
    for ax, (method, traj) in zip(axes, runs.items()):
        plotting.phase_portrait(system, trajectories={"exact (solve_ivp)": ref, _PRETTY[method]: traj},
                                xlim=(-2.6, 2.6), vlim=(-2.6, 2.6), density=0.7, ax=ax)
        ax.set_title(f"{_PRETTY[method]}, h = {traj.step:g}", fontsize="medium")
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.suptitle(f"$x'' = -x - {gamma:g}\\,x'$: the flow and three discretisations of it", fontsize="medium")
    return _save(fig, out, "phase_portrait.png")


def ravine(out, ravine_data):
    problem, runs, _ = ravine_data
    fig, ax = _figure((7.0, 4.6))
    plotting.trajectories(problem, runs, ax=ax, markevery=1, levels=20, equal_scale=True)
    ax.set_title("$L = 100x^2 + y^2$, each method at its optimal tuning", fontsize="medium")
    return _save(fig, out, "ravine_trajectories.png")


def convergence(out, ravine_data):
    problem, runs, rates = ravine_data
    fig, ax = _figure((6.0, 4.3))
    plotting.convergence(runs, quantity="distance", problem=problem, rates=list(rates.values()), ax=ax)
    ax.set_title(r"ravine: distance to $x^*$ and the analytic rates $\rho^k$ (dotted)", fontsize="medium")
    return _save(fig, out, "convergence.png")


def rate_heatmap(out, heat):
    problem, result, _ = heat
    fig, (left, right) = _figure((11.0, 4.3), ncols=2, sharey=True)
    scale = dict(vmin=0.5, vmax=0.999)  # one colour scale for both panels
    plotting.rate_heatmap(eigenvalues=problem, lrs=result.lrs, momenta=result.momenta, ax=left, colorbar=False,
                          **scale)
    plotting.rate_heatmap(result, eigenvalues=problem, ax=right, **scale)
    fig.axes[-1].set_ylabel(r"contraction rate $\rho$ (both panels)")
    left.set_title(r"analytic spectral radius (heavy ball, $\kappa$ = 100)", fontsize="medium")
    right.set_title(f"simulated: mean contraction over {result.n_steps} steps", fontsize="medium")
    right.set_ylabel("")
    return _save(fig, out, "rate_heatmap.png")


def regime_map(out, ravine_data):
    problem, _, _ = ravine_data
    from .. import spectral

    lr, beta, _ = spectral.optimal_parameters(problem.mu, problem.L, "heavy_ball")
    fig, ax = _figure((7.4, 4.3))
    plotting.regime_map(eigenvalues=problem, lr=lr, momentum=beta, ax=ax)
    ax.set_title("regimes of a heavy-ball mode; crosses: the ravine at its optimum", fontsize="medium")
    return _save(fig, out, "regime_map.png")


def write_all(out, phase, ravine_data, heat):
    """Write the five figures into ``out`` (created if needed); return their paths."""
    Path(out).mkdir(parents=True, exist_ok=True)
    return [phase_portrait(out, phase), ravine(out, ravine_data), convergence(out, ravine_data),
            rate_heatmap(out, heat), regime_map(out, ravine_data)]
