"""The computations behind ``heavyball tour``: each returns plain data.

:func:`run` prints them and writes the figures (:mod:`heavyball.cli._tour_figures`);
the tests check every number against an independent reference (closed forms,
matrix powers, ``solve_ivp``, PyTorch), so every number the tour prints is tested.
"""

from __future__ import annotations

import math

import numpy as np

from .. import spectral
from .._methods import SGD_METHODS
from ..integrators import integrate
from ..maps import initial_velocity, to_optimizer, to_physical
from ..optimizers import GD, SGD, optimize
from ..problems import DoubleWell, Quadratic, Rosenbrock
from ..reference import solve_reference
from ..system import DampedParticle

#: (method, mass, friction, step) for the map check on Rosenbrock's valley.
MAP_CASES = [
    ("symplectic_euler", 1.0, 1.0, 0.03),
    ("nesterov", 1.0, 1.0, 0.03),
    ("conformal_symplectic_euler", 1.0, 1.0, 0.03),
    ("implicit_friction_euler", 1.0, 1.0, 0.03),
    ("explicit_euler", 0.0, 1.0, 1e-3),
]


def map_check(n_steps=2000, x0=(-1.2, 1.0), against_torch=True):
    """Max deviation between each integrator and the optimiser it equals.

    ``against_torch=False`` leaves out the run of the real ``torch.optim.SGD``
    (the quick tour does: importing PyTorch costs it 2 - 3 s of its 15 s).

    Returns
    -------
    list of dict
        One row per integrator: ``method``, ``optimizer`` (its repr),
        ``max_deviation`` (max over steps and coordinates, relative to the
        iterate scale) and, when PyTorch is installed and asked for, ``torch_deviation``.
    """
    problem = Rosenbrock()
    rows = []
    for method, mass, friction, step in MAP_CASES:
        system = DampedParticle(problem, mass, friction)
        traj = integrate(system, x0, method=method, step=step, n_steps=n_steps)
        opt = to_optimizer(mass, friction, step, method)
        points = traj.x
        if method == "nesterov":  # PyTorch's iterate is the look-ahead point
            points = traj.x + step * opt.momentum * traj.v
        ours = optimize(problem, opt, x0, n_steps=n_steps)
        row = dict(method=method, optimizer=repr(opt), max_deviation=_deviation(points, ours.x))
        theirs = _torch_iterates(problem, opt, x0, n_steps) if against_torch else None
        if theirs is not None:
            row["torch_deviation"] = _deviation(points, theirs)
        rows.append(row)
    rows.append(_dampening_row(problem, x0, n_steps, against_torch))
    return rows


def _dampening_row(problem, x0, n_steps, against_torch):
    opt = SGD(1e-3, momentum=0.9, dampening=0.5)
    p = to_physical(opt)
    v0 = initial_velocity(opt, problem.grad(np.asarray(x0, dtype=float)))
    traj = integrate(DampedParticle(problem, p.mass, p.friction), x0, v0, method=p.method, step=p.step,
                     n_steps=n_steps)
    ours = optimize(problem, opt, x0, n_steps=n_steps)
    row = dict(method=f"{p.method} + v0", optimizer=repr(opt), max_deviation=_deviation(traj.x, ours.x))
    theirs = _torch_iterates(problem, opt, x0, n_steps) if against_torch else None
    if theirs is not None:
        row["torch_deviation"] = _deviation(traj.x, theirs)
    return row


def _deviation(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def _torch_iterates(problem, opt, x0, n_steps):
    """Iterates of the real ``torch.optim`` optimiser, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    p = torch.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    if isinstance(opt, SGD):
        topt = torch.optim.SGD([p], lr=opt.lr, momentum=opt.momentum, dampening=opt.dampening,
                               nesterov=opt.nesterov)
    else:
        topt = torch.optim.SGD([p], lr=opt.lr)
    out = np.empty((n_steps + 1, problem.dim))
    out[0] = x0
    for k in range(n_steps):
        p.grad = torch.from_numpy(problem.grad(p.detach().numpy()))
        topt.step()
        out[k + 1] = p.detach().numpy()
    return out


def reference_check(steps=(0.02, 0.01, 0.005), t_end=2.0, x0=(1.4, 0.5), v0=(0.0, -0.3)):
    """Each integrator against ``solve_reference`` on a double well: error and observed order.

    Returns
    -------
    list of dict
        ``method``, ``errors`` (final-state error for each step) and
        ``orders`` (``log2`` of successive error ratios; 1 for these schemes).
    """
    problem = DoubleWell(stiffness=2.0)
    rows = []
    for method, mass in [("explicit_euler", 0.0)] + [(m, 1.0) for m, *_ in MAP_CASES[:4]]:
        system = DampedParticle(problem, mass, 0.7)
        v_init = None if mass == 0 else v0
        ref = solve_reference(system, x0, v_init, t_span=(0.0, t_end), t_eval=[t_end])
        errors = []
        for h in steps:
            traj = integrate(system, x0, v_init, method=method, step=h, n_steps=int(round(t_end / h)))
            errors.append(float(np.linalg.norm(traj.x[-1] - ref.x[-1])))
        orders = [float(np.log2(a / b)) for a, b in zip(errors[:-1], errors[1:])]
        label = method if mass > 0 else "explicit_euler (mass 0)"
        rows.append(dict(method=label, steps=list(steps), errors=errors, orders=orders))
    return rows



# ------------------------------------------------------------------------ rate table
#: Condition numbers of the rate table.
KAPPAS = (10.0, 100.0, 1000.0, 10000.0)
#: Methods in table order, with the optimiser each tuning builds.
RATE_METHODS = SGD_METHODS
REDUCTION = 1e-6


def tuned_optimizer(mu, L, method):
    """The optimiser at :func:`heavyball.spectral.optimal_parameters` for ``[mu, L]``."""
    lr, beta, _ = spectral.optimal_parameters(mu, L, method)
    if method == "gd":
        return GD(lr)
    return SGD(lr, beta, nesterov=method == "nesterov")


def rate_rows(kappas=KAPPAS, reduction=REDUCTION):
    """Analytic rates and steps next to simulated ones, on ``diag(1, kappa)`` from ``(1, 1)``.

    Each method runs at its optimal tuning for ``n = max(s + 1, min(N, 20000))``
    steps, ``s`` the analytic step count and ``N`` the steps for ``rho^N`` to
    reach ``1e-140`` (the squares in ``|e|`` stay normal floats), so that the measured contraction
    (:func:`heavyball.spectral.empirical_rate`, a least-squares slope over
    the second half of the run) sees a long tail.

    Returns
    -------
    list of dict
        ``kappa``, ``method``, ``lr``, ``momentum``, ``analytic_rate``,
        ``measured_rate``, ``analytic_steps`` (smallest ``k`` with
        ``rate^k <= reduction``), ``measured_steps`` (first ``k`` with
        ``|x_k - x*| <= reduction |x_0 - x*|``) and ``n_steps``.

    Notes
    -----
    At the optimal heavy-ball and Nesterov tunings the extreme modes have a
    double root, so the error is ``(a + b k) rho^k``: the measured rate is
    above ``rho`` by about ``exp(1/k)`` over the fitted window, and more steps
    than ``log(reduction) / log(rho)`` are needed. Gradient descent's two
    modes both decay exactly as ``rho^k``.
    """
    table = spectral.rate_table(list(kappas), reduction=reduction)
    rows = []
    for row in table:
        q = Quadratic.diagonal([1.0, row.kappa])
        for method, rate, steps in zip(RATE_METHODS, row[1:4], row[4:7]):
            opt = tuned_optimizer(1.0, row.kappa, method)
            n = int(max(steps + 1, min(math.ceil(-140 * math.log(10) / math.log(rate)), 20000)))
            traj = optimize(q, opt, [1.0, 1.0], n_steps=n)
            dist = np.linalg.norm(traj.x, axis=1)
            hit = np.flatnonzero(dist <= reduction * dist[0])
            rows.append(dict(kappa=row.kappa, method=method, lr=opt.lr, momentum=getattr(opt, "momentum", 0.0),
                             analytic_rate=rate, measured_rate=spectral.empirical_rate(traj, q.minimizer),
                             analytic_steps=int(steps), measured_steps=int(hit[0]) if hit.size else None,
                             n_steps=n))
    return rows


# ---------------------------------------------------------------- figures' runs
#: The seed's ravine ``100 x^2 + y^2``: Hessian ``diag(200, 2)``.
RAVINE_EIGENVALUES = (200.0, 2.0)


def ravine_runs(n_steps=120, x0=(1.0, 1.0)):
    """GD, heavy ball and Nesterov at their optimal tunings in the ravine.

    Returns
    -------
    problem : Quadratic
    runs : dict
        Label -> Trajectory.
    rates : dict
        Label -> analytic rate (the spectral radius at that tuning).
    """
    problem = Quadratic.diagonal(list(RAVINE_EIGENVALUES))
    mu, L = min(RAVINE_EIGENVALUES), max(RAVINE_EIGENVALUES)
    runs, rates = {}, {}
    for method, label in zip(RATE_METHODS, ("gradient descent", "heavy ball", "Nesterov")):
        opt = tuned_optimizer(mu, L, method)
        runs[label] = optimize(problem, opt, x0, n_steps=n_steps)
        rates[label] = spectral.optimal_parameters(mu, L, method).rate
    return problem, runs, rates


#: (mass, friction, step, start) of the phase portrait: under-damped, a large step.
PHASE = (1.0, 0.5, 0.6, 1.5)
PHASE_METHODS = ("explicit_euler", "symplectic_euler", "nesterov")


class _Spring(Quadratic):
    """``L = x^2/2`` run by the NumPy loop (a subclass has no compiled form).

    The phase portrait's three 25-step runs are the tour's only 1-D runs:
    compiling the kernels' n-D path for them was about 5 s of a cold tour,
    while the NumPy loop gives the same iterates bit for bit in a millisecond.
    """


def phase_runs(n_steps=25):
    """The three integrators and the ``solve_ivp`` reference on ``L = x^2/2``."""
    m, gamma, h, x0 = PHASE
    system = DampedParticle(_Spring.diagonal([1.0]), m, gamma)
    runs = {meth: integrate(system, [x0], method=meth, step=h, n_steps=n_steps) for meth in PHASE_METHODS}
    t_end = n_steps * h
    ref = solve_reference(system, [x0], t_span=(0.0, t_end), t_eval=np.linspace(0.0, t_end, 30 * n_steps + 1))
    return system, runs, ref


#: Condition number and start of the heat-map sweep.
HEATMAP_KAPPA = 100.0


def heatmap_sweep(quick=False, backend=None):
    """Heavy ball over a ``(lr, momentum)`` grid on ``diag(1, 100)``: simulated and analytic.

    ``backend`` defaults to ``"numba"`` (the compiled kernels) and, with
    ``quick``, to ``"numpy"``: the same numbers without the one-off compile,
    which would dominate a quick tour on a cold cache.

    Returns
    -------
    problem : Quadratic
    result : SweepResult
    summary : dict
        ``analytic`` (:func:`heavyball.spectral.optimal_parameters`), ``best``
        (the sweep's best grid point ``(lr, momentum, rate)``), ``converged``
        (number of non-diverged points), ``agree_max`` (max over the
        converged points of ``|measured - analytic|``) and ``n_steps``.
    """
    from ..sweeps import sweep

    backend = ("numpy" if quick else "numba") if backend is None else backend
    problem = Quadratic.diagonal([1.0, HEATMAP_KAPPA])
    n = 24 if quick else 60
    lrs = np.geomspace(1e-3, 0.05, n)
    momenta = np.linspace(0.0, 0.98, n)
    n_steps = 400
    result = sweep(problem, lrs, momenta, x0=[1.0, 1.0], n_steps=n_steps, method="heavy_ball", backend=backend)
    analytic = analytic_grid(problem.eigenvalues, lrs, momenta)
    ok = ~result.diverged
    return problem, result, dict(
        analytic=tuple(spectral.optimal_parameters(1.0, HEATMAP_KAPPA, "heavy_ball")),
        best=result.best(), converged=int(ok.sum()), grid=int(ok.size),
        agree_max=float(np.max(np.abs(result.rate[ok] - analytic[ok]))), n_steps=n_steps,
        analytic_converging=int((analytic < 1.0).sum()))


def analytic_grid(eigenvalues, lrs, momenta, method="heavy_ball"):
    """``spectral_radius`` at every ``(momentum, lr)``: shape ``(len(momenta), len(lrs))``."""
    return np.array([[spectral.spectral_radius(eigenvalues, lr, b, method) for lr in lrs] for b in momenta])


# ------------------------------------------------------------------------------ run
def collect(quick=False):
    """Every number the tour prints, as plain data.

    Returns
    -------
    dict
        ``rates`` (:func:`rate_rows`), ``map`` (:func:`map_check`, 500 steps
        quick without PyTorch, 2000 full), ``map_steps``, ``reference`` (:func:`reference_check`)
        and ``heat`` (:func:`heatmap_sweep`).
    """
    n = 500 if quick else 2000
    return dict(rates=rate_rows(), map=map_check(n_steps=n, against_torch=not quick), map_steps=n,
                reference=reference_check(),
                heat=heatmap_sweep(quick=quick), quick=bool(quick))


def report(data):
    """The text the tour prints for :func:`collect`'s ``data``."""
    lines = []
    say = lines.append
    say(f"heavyball tour ({'quick' if data['quick'] else 'full'}): gradient methods as a damped particle "
        "m x'' = -grad L - gamma x'\n")
    _print_rate_table(say, data["rates"])
    _print_map_check(say, data["map"], data["map_steps"], data["quick"])
    _print_reference_check(say, data["reference"])
    _print_heatmap(say, data["heat"])
    return "\n".join(lines)


def run(out="heavyball-tour", quick=False, stream=None):
    """Compute, print and draw the tour; returns the exit code (0).

    Parameters
    ----------
    out : str or path
        Directory for the PNG figures (created if needed). Checked before any
        work: ``ValueError`` if it is a file, lies under a file or a missing
        place that cannot be created, or nothing can be written there.
    quick : bool
        Shorter map check and a coarser heat-map grid.
    stream : file, optional
        Where to print (default ``sys.stdout``).
    """
    import sys
    import time

    from .._paths import check_directory

    check_directory("out", out)  # before the work: a bad directory must not cost the whole tour
    start = time.perf_counter()
    stream = sys.stdout if stream is None else stream
    data = collect(quick=quick)
    print(report(data), file=stream)
    paths = figures(out, heat=data["heat"])
    print("\nfigures written:", file=stream)
    for p in paths:
        print(f"  {p}", file=stream)
    print(f"\ndone in {time.perf_counter() - start:.1f} s", file=stream)
    return 0


def run_data(out="heavyball-tour", quick=False):
    """The tour as data (``heavyball tour --json``): :func:`collect`'s numbers and the figures.

    Parameters
    ----------
    out : str or path
        Directory for the PNG figures, checked before any work as in :func:`run`.
    quick : bool
        Shorter map check and a coarser heat-map grid.

    Returns
    -------
    dict
        ``rates``, ``map``, ``map_steps``, ``reference`` and ``quick`` as :func:`collect`
        returns them; ``heatmap``, the heat-map summary of :func:`heatmap_sweep` with the grid's
        ``shape`` (momentum x lr) and ``backend``; ``figures`` (the PNG paths) and ``seconds``.
    """
    import time

    from .._paths import check_directory

    check_directory("out", out)
    start = time.perf_counter()
    data = collect(quick=quick)
    paths = figures(out, heat=data["heat"])
    _, result, summary = data["heat"]
    heatmap = dict(summary, shape=[len(result.momenta), len(result.lrs)], backend=result.backend)
    return dict(command="tour", **{k: v for k, v in data.items() if k != "heat"}, heatmap=heatmap,
                figures=[str(p) for p in paths], seconds=round(time.perf_counter() - start, 3))


def figures(out, quick=False, heat=None):
    """Write the tour's five PNG figures into ``out``; returns their paths.

    ``phase_portrait.png``, ``ravine_trajectories.png``, ``convergence.png``,
    ``rate_heatmap.png`` (analytic and simulated) and ``regime_map.png``.
    ``heat`` reuses a :func:`heatmap_sweep` result.
    """
    from . import _tour_figures

    heat = heatmap_sweep(quick=quick) if heat is None else heat
    return _tour_figures.write_all(out, phase_runs(), ravine_runs(), heat)


def _print_rate_table(say, rows):
    say("1. Rates on the quadratic diag(1, kappa), each method at its optimal tuning, from x0 = (1, 1)")
    say("   analytic: spectral.rate_table; measured: spectral.empirical_rate of the simulated run and the")
    say("   first step with |x_k - x*| <= 1e-6 |x_0 - x*|")
    say(f"   {'kappa':>7}  {'method':<10} {'lr':>10} {'momentum':>9}  {'rate':>8} {'measured':>9}"
        f"  {'steps':>6} {'measured':>9}")
    for r in rows:
        steps = "-" if r["measured_steps"] is None else str(r["measured_steps"])
        say(f"   {r['kappa']:7g}  {r['method']:<10} {r['lr']:10.4g} {r['momentum']:9.4f}  "
            f"{r['analytic_rate']:8.4f} {r['measured_rate']:9.4f}  {r['analytic_steps']:6d} {steps:>9}")
    say("   GD's two modes decay exactly as rate^k. Heavy ball and Nesterov tuned this way have a double")
    say("   root, error (a + b k) rate^k: slightly slower measured rates and more steps than log(1e-6)/log(rate).\n")


def _print_map_check(say, rows, n, quick=False):
    say(f"2. Each integrator is an optimiser (Rosenbrock, {n} steps; max deviation relative to the iterate scale)")
    for row in rows:
        torch_dev = row.get("torch_deviation")
        torch_txt = f"torch.optim {torch_dev:.1e}" if torch_dev is not None else (
            "torch.optim: full tour" if quick else "torch not installed")
        say(f"   {row['method']:<28} = {_short(row['optimizer']):<46} heavyball {row['max_deviation']:.1e}"
            f"  {torch_txt}")
    say("")


def _short(opt_repr):
    """``SGD(lr=..., momentum=..., dampening=0.0, ...)`` without the default-valued fields."""
    import re

    for default in (", dampening=0.0", ", nesterov=False", ", weight_decay=0.0", ", maximize=False"):
        opt_repr = opt_repr.replace(default, "")
    return re.sub(r"\d+\.\d{7,}", lambda m: f"{float(m.group()):.6g}", opt_repr)


def _print_reference_check(say, rows):
    say("3. Integrators against solve_ivp (DOP853, rtol 1e-10) in a double well at t = 2: |x_N - x(2)|")
    for row in rows:
        errs = "  ".join(f"h={h:g}: {e:.2e}" for h, e in zip(row["steps"], row["errors"]))
        orders = ", ".join(f"{o:.2f}" for o in row["orders"])
        say(f"   {row['method']:<28} {errs}   observed order {orders}")
    say("")


def _print_heatmap(say, heat):
    _, result, s = heat
    lr, beta, rho = s["analytic"]
    say(f"4. Heavy ball over a {len(result.momenta)} x {len(result.lrs)} (momentum x lr) grid on diag(1, 100), "
        f"{s['n_steps']} steps each ({result.backend})")
    say(f"   analytic optimum      lr = {lr:.4g}, momentum = {beta:.4f}, rate = {rho:.4f}")
    if s["best"] is not None:
        blr, bbeta, brate = s["best"]
        say(f"   best simulated point  lr = {blr:.4g}, momentum = {bbeta:.4f}, rate = {brate:.4f}")
    say(f"   finite at {s['converged']} of {s['grid']} points, analytic rate < 1 at {s['analytic_converging']} "
        "(just past the boundary a run grows too slowly to diverge in time);")
    say(f"   max |measured - analytic rate| over the finite points: {s['agree_max']:.3f}")
