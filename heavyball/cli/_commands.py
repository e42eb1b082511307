"""The computations behind the ``heavyball`` subcommands: each returns a plain dict.

:mod:`heavyball.cli` parses the flags and prints what these return (as text
or JSON); keeping the numbers here lets the tests check them directly.
"""

from __future__ import annotations

import re

import numpy as np

from .. import _paths
from .._methods import SGD_METHODS
from .. import problems as _problems
from ..integrators import METHODS, integrate
from ..maps import to_optimizer, to_physical
from ..optimizers import GD, SGD, Adam, EMAMomentum, KerasSGD, optimize
from ..system import DampedParticle

OPTIMIZERS = ("sgd", "keras", "ema", "adam", "gd")

#: Starting points used when ``--x0`` is not given.
DEFAULT_X0 = {"rosenbrock": [-1.2, 1.0], "double_well": [1.4, 0.5], "saddle": [1.0, 1e-3], "lessard": [3.3]}


def problem_names():
    return _problems.names()


def integrator_names():
    return list(METHODS)


def build_problem(args):
    """The problem and starting point named by ``--problem``, ``--kappa``, ``--dim``, ``--x0``."""
    name = args.problem
    params = {}
    if args.kappa is not None:
        if name != "quadratic":
            raise ValueError(f"`--kappa` applies to --problem quadratic only, got --problem {name}")
        params["kappa"] = args.kappa
    if args.dim is not None:
        if name not in ("quadratic", "plateau"):
            raise ValueError(f"`--dim` applies to --problem quadratic or plateau only, got --problem {name}")
        params["dim"] = args.dim
    problem = _problems.get(name, **params)
    x0 = _start(args, problem, name)
    with np.errstate(all="ignore"):
        loss = float(np.asarray(problem.value(x0), dtype=np.float64))
        grad = np.asarray(problem.grad(x0), dtype=np.float64)
    if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
        raise ValueError(f"`--x0` {_vec(x0)} gives a non-finite loss or gradient on --problem {name} "
                         f"(L = {loss:g}); start closer to the minimiser")
    return problem, x0


def _start(args, problem, name):
    if args.x0 is None:
        x0 = np.array(DEFAULT_X0.get(name, np.ones(problem.dim)), dtype=float)
    else:
        x0 = np.array(args.x0, dtype=float)
        if x0.shape != (problem.dim,):
            raise ValueError(f"`--x0` must have {problem.dim} comma-separated values for --problem {name}, "
                             f"got {len(x0)}")
    return x0


def check_run_size(args):
    """Refuse ``--n-steps`` x ``--dim`` whose recorded trajectory would not fit in memory (before any work)."""
    from ..sweeps._persist import max_load_bytes

    dim = args.dim if args.dim is not None else 2
    need = (args.n_steps + 1) * (2 * dim + 3) * 8
    cap = max_load_bytes()
    if args.n_steps >= 1 and dim >= 1 and need > cap:
        raise ValueError(f"`--n-steps` {args.n_steps} with `--dim` {dim} records a trajectory of about "
                         f"{_size(need)}, more than the {_size(cap)} allowed (half this machine's memory); "
                         "lower --n-steps or --dim")


def _size(n):
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}" if unit != "bytes" else f"{n} bytes"
        n /= 1000



def _run_summary(problem, traj):
    if len(traj.x) == 0:
        raise ValueError(f"the run recorded no state ({traj.message}); check `--x0`")
    out = dict(problem=repr(problem), status=traj.status, message=traj.message, n_steps=traj.n_steps,
               nfev=traj.nfev, x0=traj.x[0], final_x=traj.x[-1],
               final_v=None if traj.v is None else traj.v[-1], final_loss=float(traj.loss[-1]))
    if problem.minimizer is not None:
        out["final_distance"] = float(np.linalg.norm(traj.x[-1] - problem.minimizer))
    return out


def _save_trajectory(path, traj):
    from ..sweeps._persist import atomic_write

    if path is None:
        return None
    arrays = dict(t=traj.t, x=traj.x, loss=traj.loss)
    if traj.v is not None:
        arrays["v"] = traj.v
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return str(path)


def _check_out(args):
    """Check ``--out`` (a .npz file) before any work."""
    if args.out is not None:
        _paths.check_file("--out", args.out, (".npz",))


# ------------------------------------------------------------------------ simulate
def run_simulate(args):
    _check_out(args)
    check_run_size(args)
    problem, x0 = build_problem(args)
    system = DampedParticle(problem, args.mass, args.friction)
    traj = integrate(system, x0, method=args.method, step=args.step, n_steps=args.n_steps, tol=args.tol)
    out = dict(command="simulate", method=args.method, mass=system.mass, friction=system.friction,
               step=args.step, **_run_summary(problem, traj))
    try:
        out["optimizer"] = repr(to_optimizer(system.mass, system.friction, args.step, args.method))
    except ValueError as exc:  # explicit Euler with mass: not an optimiser; say what it is
        out["optimizer"] = None
        out["optimizer_note"] = str(exc)
    out["written"] = _save_trajectory(args.out, traj)
    return out


def text_simulate(r):
    lines = [f"{r['method']} on {r['problem']}: m = {r['mass']:g}, gamma = {r['friction']:g}, h = {r['step']:g}",
             f"  status {r['status']} ({r['message']}) after {r['n_steps']} steps, {r['nfev']} gradients",
             f"  x = {_vec(r['final_x'])}   L(x) = {r['final_loss']:.6g}"]
    if "final_distance" in r:
        lines.append(f"  |x - x*| = {r['final_distance']:.6g}")
    lines.append(f"  the same iterates as {r['optimizer']}" if r["optimizer"] else f"  {r['optimizer_note']}")
    if r["written"]:
        lines.append(f"  wrote {r['written']}")
    return "\n".join(lines)


def _vec(v):
    return "[" + ", ".join(f"{float(c):.6g}" for c in np.ravel(v)) + "]"


# ------------------------------------------------------------------------ optimize
def build_optimizer(args):
    name, lr, mom = args.optimizer, args.lr, args.momentum
    if args.dampening != 0.0 and name != "sgd":
        raise ValueError(f"`--dampening` applies to --optimizer sgd only, got --optimizer {name}")
    if args.nesterov and name not in ("sgd", "keras"):
        raise ValueError(f"`--nesterov` applies to --optimizer sgd or keras only, got --optimizer {name}")
    if name == "gd":
        if mom != 0.0:
            raise ValueError(f"`--momentum` must be 0 for --optimizer gd, got {mom!r}")
        return GD(lr)
    if name == "sgd":
        return SGD(lr, mom, dampening=args.dampening, nesterov=args.nesterov)
    if name == "keras":
        return KerasSGD(lr, mom, nesterov=args.nesterov)
    if name == "ema":
        return EMAMomentum(lr, mom)
    if not 0.0 <= mom < 1.0:
        raise ValueError(f"`--momentum` is Adam's beta1 and must be in [0, 1), got {mom!r}")
    return Adam(lr, betas=(mom, 0.999))


def run_optimize(args):
    _check_out(args)
    check_run_size(args)
    problem, x0 = build_problem(args)
    opt = build_optimizer(args)
    traj = optimize(problem, opt, x0, n_steps=args.n_steps, tol=args.tol)
    out = dict(command="optimize", optimizer=repr(opt), **_run_summary(problem, traj))
    try:
        p = to_physical(opt)
        out["physical"] = dict(mass=p.mass, friction=p.friction, step=p.step, method=p.method)
    except ValueError as exc:
        out["physical"] = None
        out["physical_note"] = str(exc)
    out["written"] = _save_trajectory(args.out, traj)
    return out


def text_optimize(r):
    lines = [f"{r['optimizer']} on {r['problem']}",
             f"  status {r['status']} ({r['message']}) after {r['n_steps']} steps",
             f"  x = {_vec(r['final_x'])}   L(x) = {r['final_loss']:.6g}"]
    if "final_distance" in r:
        lines.append(f"  |x - x*| = {r['final_distance']:.6g}")
    p = r["physical"]
    lines.append(f"  is {p['method']} with m = {p['mass']:g}, gamma = {p['friction']:.6g}, h = {p['step']:.6g}"
                 if p else f"  no physical map: {r['physical_note']}")
    if r["written"]:
        lines.append(f"  wrote {r['written']}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- map
def run_map(args):
    if args.lr is not None and args.step is not None:
        raise ValueError("give either `--lr` (optimiser -> particle) or `--step` (particle -> optimiser), not both")
    if args.lr is None and args.step is None:
        raise ValueError("`--lr` or `--step` is required: --lr maps an optimiser to a particle, "
                         "--step (with --mass, --friction) a particle to an optimiser")
    mass = 1.0 if args.mass is None else args.mass
    if args.lr is not None:
        if args.friction is not None:
            raise ValueError("`--friction` is a result when mapping from --lr; drop it (or map with --step)")
        opt = build_optimizer(args)
        p = to_physical(opt, mass=mass, method=args.method)
        return dict(command="map", direction="optimizer_to_physical", optimizer=repr(opt), mass=p.mass,
                    friction=p.friction, step=p.step, method=p.method, v0_scale=p.v0_scale)
    friction = 1.0 if args.friction is None else args.friction
    method = args.method or "symplectic_euler"
    opt = to_optimizer(mass, friction, args.step, method)
    return dict(command="map", direction="physical_to_optimizer", mass=mass, friction=friction, step=args.step,
                method=method, optimizer=repr(opt), lr=opt.lr, momentum=getattr(opt, "momentum", 0.0),
                nesterov=bool(getattr(opt, "nesterov", False)))


def text_map(r):
    if r["direction"] == "optimizer_to_physical":
        text = (f"{r['optimizer']}\n  is {r['method']} with mass m = {r['mass']:.6g}, friction gamma = "
                f"{r['friction']:.6g}, step h = {r['step']:.6g}")
        if r["v0_scale"]:
            text += f"\n  starting from v0 = {r['v0_scale']:.6g} * grad L(x0) (dampening's undamped first step)"
        return text
    return (f"{r['method']} with m = {r['mass']:.6g}, gamma = {r['friction']:.6g}, h = {r['step']:.6g}\n"
            f"  is {r['optimizer']}\n  lr = {r['lr']:.6g}, momentum = {r['momentum']:.6g}")


# ------------------------------------------------------------------------ spectrum
SPECTRAL_METHODS = SGD_METHODS
#: Largest ``--kappa``: GD needs about ``kappa ln(1e6) / 2`` steps, exact in float64 below ``2**53``.
MAX_KAPPA = 1e15


def run_spectrum(args):
    from .. import spectral

    if not 1 <= args.kappa <= MAX_KAPPA:
        raise ValueError(f"`--kappa` must be in [1, {MAX_KAPPA:g}] (beyond, step counts are not exact "
                         f"in float64), got {args.kappa!r}")
    if not 0 < args.mu < float("inf") or not np.isfinite(args.kappa * args.mu):
        raise ValueError(f"`--mu` must be finite and > 0 with --kappa * --mu finite, got {args.mu!r}")
    if args.lr is not None and not 0 <= args.lr < float("inf"):
        raise ValueError(f"`--lr` must be finite and >= 0, got {args.lr!r}")
    if not -1 < args.momentum < 1:
        raise ValueError(f"`--momentum` must be in (-1, 1), got {args.momentum!r}")
    mu, L = args.mu, args.kappa * args.mu
    row = spectral.rate_table([args.kappa])[0]
    out = dict(command="spectrum", kappa=args.kappa, mu=mu, L=L, reduction=1e-6, optimal={})
    for method, steps in zip(SPECTRAL_METHODS, row[4:7]):
        lr, beta, rate = spectral.optimal_parameters(mu, L, method)
        out["optimal"][method] = dict(lr=lr, momentum=beta, rate=rate, steps=int(steps))
    if args.lr is not None:
        lam = [mu, L]
        rho = spectral.spectral_radius(lam, args.lr, args.momentum, args.method)
        at = dict(method=args.method, lr=args.lr, momentum=args.momentum, rate=rho,
                  steps=_steps_for(rho, 1e-6), modes={})
        for name, value in (("mu", mu), ("L", L)):
            roots = spectral.mode_roots(value, args.lr, args.momentum, args.method)
            at["modes"][name] = dict(eigenvalue=value, root_modulus=float(abs(roots).max()),
                                     regime=spectral.regime(value, args.lr, args.momentum)
                                     if args.method == "heavy_ball" else None)
        out["at"] = at
    if getattr(args, "noise", None) is not None:  # issue 15: the floor next to the rate
        from ..noise import spectrum_floors

        if not 0 <= args.noise < float("inf"):
            raise ValueError(f"`--noise` must be finite and >= 0, got {args.noise!r}")
        out["noise"] = spectrum_floors(args.kappa, mu, args.noise, args.lr, args.momentum, args.method)
    return out


def _steps_for(rho, reduction):
    """Smallest k with rho^k <= reduction (None when rho >= 1; 1 when rho = 0)."""
    import math

    if rho >= 1.0:
        return None
    if rho == 0.0:
        return 1
    return max(1, math.ceil(math.log(reduction) / math.log(rho)))


def text_spectrum(r):
    lines = [f"quadratic with eigenvalues in [{r['mu']:g}, {r['L']:g}] (kappa = {r['kappa']:g}): optimal tunings",
             f"  {'method':<11} {'lr':>11} {'momentum':>9} {'rate':>9} {'steps to 1e-6':>14}"]
    for method, o in r["optimal"].items():
        lines.append(f"  {method:<11} {o['lr']:11.5g} {o['momentum']:9.5f} {o['rate']:9.5f} {o['steps']:14d}")
    if "at" in r:
        a = r["at"]
        steps = "never (diverges)" if a["steps"] is None else str(a["steps"])
        lines.append(f"at lr = {a['lr']:g}, momentum = {a['momentum']:g} ({a['method']}): spectral radius "
                     f"{a['rate']:.5f}, steps to 1e-6: {steps}")
        for name, m in a["modes"].items():
            regime = f", {m['regime']}" if m["regime"] else ""
            lines.append(f"  mode {name} = {m['eigenvalue']:g}: root modulus {m['root_modulus']:.5f}{regime}")
    if "noise" in r:
        lines.append(_text_noise(r["noise"]))
    return "\n".join(lines)


def _text_noise(n):
    lines = [f"under gradient noise of variance {n['noise_cov']:g} per coordinate: floor E[L] - L* (exact; "
             "small-step rule lr tr(Q) / (4 (1 - momentum)))",
             f"  {'method':<11} {'rate':>9} {'floor':>12} {'rule':>12}"]
    rows = list(n["optimal"].items()) + ([("at " + n["at"]["method"], n["at"])] if "at" in n else [])
    for name, o in rows:
        floor = "unstable" if o["floor"] is None else f"{o['floor']:.5g}"
        lines.append(f"  {name:<11} {o['rate']:9.5f} {floor:>12} {o['rule']:12.5g}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- sweep
def run_sweep(args):
    from ..sweeps import sweep

    out_path = _paths.check_file("--out", "sweep.npz" if args.out is None else args.out, (".npz",))
    if args.plot is not None:
        _paths.check_file("--plot", args.plot, (".png", ".pdf", ".svg"))
    check_grid_size(args)
    problem, x0 = build_problem(args)
    backend, dask_args = _sweep_backend(args)
    client = dask_args.get("client")
    if isinstance(client, str):
        dask_args["client"] = connect_scheduler(client)
    try:
        result = sweep(problem, args.lrs, args.momenta, x0=x0, n_steps=args.n_steps, method=args.method,
                       tol=args.tol, backend=backend, **dask_args)
    finally:
        if isinstance(client, str):
            dask_args["client"].close()
    result.save(out_path)
    best = result.best()
    out = dict(command="sweep", problem=repr(problem), method=args.method, n_steps=args.n_steps, tol=args.tol,
               backend=result.backend, grid=[len(result.momenta), len(result.lrs)],
               diverged=int(result.diverged.sum()), best=None if best is None else
               dict(lr=best[0], momentum=best[1], rate=best[2]), written=[str(out_path)])
    reached = result.steps_to_tol[result.steps_to_tol >= 0]
    out["fastest_steps_to_tol"] = int(reached.min()) if reached.size else None
    if args.plot is not None:
        out["written"].append(_plot_sweep(result, problem, args.plot, args.plot_field))
    return out


#: Seconds to wait for a Dask scheduler named by ``--scheduler``.
CONNECT_TIMEOUT = 10
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(\d{1,5})$")


def connect_scheduler(address):
    """A ``distributed.Client`` of the scheduler at ``address`` (``[tcp://]HOST:PORT``), or ``ValueError`` fast."""
    match = _ADDRESS.match(address)
    if match is None or not 0 < int(match.group(1)) < 65536:
        raise ValueError(f"`--scheduler` must be an address like tcp://10.0.0.5:8786 (HOST:PORT, optionally "
                         f"with tcp://, tls://, ucx://, ws:// or wss://), got {address!r}")
    import distributed

    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach the Dask scheduler at `--scheduler` {address} within "
                         f"{CONNECT_TIMEOUT} s: {' '.join(str(exc).split()) or type(exc).__name__}") from None


def check_grid_size(args):
    """Refuse a grid whose result arrays would not fit in memory (before any work)."""
    from ..sweeps._persist import max_load_bytes

    points = len(args.lrs) * len(args.momenta)
    need, cap = points * 8 * 8, max_load_bytes()
    if need > cap:
        raise ValueError(f"`--lrs` x `--momenta` is a grid of {points} points whose results need about "
                         f"{_size(need)}, more than the {_size(cap)} allowed (half this machine's memory)")


def _sweep_backend(args):
    """``backend`` and the Dask arguments of ``sweep`` from ``--backend``, ``--scheduler``, ``--workers``."""
    flags = (("--scheduler", args.scheduler), ("--workers", args.workers))
    given = [flag for flag, value in flags if value is not None]
    if not given and args.backend != "dask":
        return args.backend or "numba", {}
    if given and args.backend not in (None, "dask"):
        raise ValueError(f"`{given[0]}` runs the sweep on Dask: use it with --backend dask or without --backend, "
                         f"got --backend {args.backend}")
    if len(given) == 2:
        raise ValueError("`--scheduler` uses a running cluster and `--workers` starts a local one: give one of them")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"`--workers` must be an integer >= 1, got {args.workers}")
    from ..sweeps._dask import import_distributed

    try:
        import_distributed()
    except ImportError as exc:
        raise ValueError(str(exc)) from None
    return "dask", dict(client=args.scheduler, workers=args.workers)


def _plot_sweep(result, problem, path, field="rate"):
    from matplotlib.figure import Figure

    from .. import plotting

    fig = Figure(figsize=(5.6, 4.3), layout="constrained")
    ax = fig.subplots()
    eig = problem if hasattr(problem, "eigenvalues") and problem.mu > 0 else None
    plotting.rate_heatmap(result, eigenvalues=eig, ax=ax, field=field)
    ax.set_title(f"{result.method} on {result.problem_name}, {result.n_steps} steps", fontsize="medium")
    fig.savefig(path, dpi=110)
    return str(path)


def text_sweep(r):
    m, n = r["grid"]
    lines = [f"{r['method']} on {r['problem']}: {m} momenta x {n} learning rates, {r['n_steps']} steps "
             f"({r['backend']}); {r['diverged']} diverged"]
    if r["best"]:
        b = r["best"]
        lines.append(f"  best: lr = {b['lr']:.5g}, momentum = {b['momentum']:.5g}, rate = {b['rate']:.5f}")
    if r["fastest_steps_to_tol"] is not None:
        lines.append(f"  fastest to tol = {r['tol']:g}: {r['fastest_steps_to_tol']} steps")
    lines += [f"  wrote {p}" for p in r["written"]]
    return "\n".join(lines)


RUNNERS = {"simulate": run_simulate, "optimize": run_optimize, "map": run_map, "spectrum": run_spectrum,
           "sweep": run_sweep}
TEXT = {"simulate": text_simulate, "optimize": text_optimize, "map": text_map, "spectrum": text_spectrum,
        "sweep": text_sweep}
