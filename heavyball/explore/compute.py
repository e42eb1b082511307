"""What the explorer draws, computed from an :class:`~heavyball.explore.state.ExploreState`.

:func:`compute` is pure Python on heavyball's public API (no widgets): the
run (:func:`heavyball.optimize` or :func:`heavyball.integrate`), the exact map
between ``(lr, momentum)`` and ``(mass, friction, step)``
(:func:`heavyball.to_physical`, :func:`heavyball.to_optimizer`), the spectral
radius and the modes' regimes (:mod:`heavyball.spectral`), the continuous flow
of the phase portrait, and the ``(lr, momentum)`` rate map of the problem
(:func:`heavyball.sweep`, cached per problem, method and start).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

import heavyball as hb

from .state import INTEGRATOR_METHODS, ExploreState

#: Rate map grid (momenta x learning rates) and its steps.
RATE_GRID = 128
RATE_STEPS = 500
CONTOUR_RESOLUTION = 96


@dataclasses.dataclass
class View:
    """Everything one state shows; arrays are plain NumPy, text is plain str."""

    state: ExploreState
    problem: object
    x0: np.ndarray
    lr: float
    momentum: float
    physical: object  # PhysicalParams or None
    run: object  # Trajectory
    phys_run: object  # physical (x, v) Trajectory or None
    status: str
    radius: float | None
    eigenvalues: np.ndarray | None
    exact_quadratic: bool
    torch_call: str
    keras_call: str
    map_text: str
    regimes: list
    rates: object  # RateMap or None
    contour: dict | None
    flow: dict | None
    notes: list


@dataclasses.dataclass(frozen=True)
class RateMap:
    lrs: np.ndarray
    momenta: np.ndarray
    rate: np.ndarray
    method: str
    result: object  # SweepResult


def build_problem(state):
    """The registry problem of ``state`` (cached: problems are immutable)."""
    return _problem(state.problem, state.params)


@functools.lru_cache(maxsize=32)
def _problem(name, params):
    return hb.problems.get(name, **dict(params))


def coefficients(state):
    """``(lr, momentum, PhysicalParams or None)`` of ``state``, mapped exactly by heavyball.maps.

    With ``param="physical"`` the optimiser follows from :func:`heavyball.to_optimizer`
    (explicit Euler has none; its ``lr = h^2/m``, ``beta = 1 - h gamma/m`` are those of the
    delayed-gradient recurrence); otherwise the particle follows from :func:`heavyball.to_physical`.
    """
    if state.param == "physical":
        return _from_physical(state)
    if state.method == "gd":
        return state.lr, 0.0, hb.to_physical(hb.GD(state.lr), mass=state.mass)
    target = {"heavy_ball": "symplectic_euler", "explicit_euler": "symplectic_euler"}.get(state.method, state.method)
    opt = hb.SGD(state.lr, state.momentum, nesterov=state.method == "nesterov")
    if state.momentum == 0.0 and target in ("conformal_symplectic_euler", "implicit_friction_euler"):
        raise ValueError(f"`momentum` 0 needs infinite friction in {target}; raise momentum or use heavy_ball")
    return state.lr, state.momentum, hb.to_physical(opt, mass=state.mass, method=target)


def _from_physical(state):
    if state.mass == 0.0:
        if state.method not in ("gd", "explicit_euler"):
            raise ValueError(f"`mass` 0 is gradient flow: method gd or explicit_euler, got {state.method}")
        opt = hb.to_optimizer(0.0, state.friction, state.step, "explicit_euler")
        return float(opt.lr), 0.0, hb.maps.PhysicalParams(0.0, state.friction, state.step, "explicit_euler", 0.0)
    if state.method == "gd":
        raise ValueError("`mass` must be 0 for method gd given by mass, friction and step (gradient flow)")
    map_method = "symplectic_euler" if state.method in ("heavy_ball", "explicit_euler") else state.method
    opt = hb.to_optimizer(state.mass, state.friction, state.step, map_method)
    phys = hb.maps.PhysicalParams(state.mass, state.friction, state.step, map_method, 0.0)
    return float(opt.lr), float(opt.momentum), phys


def optimizer_of(state, lr, momentum):
    if state.method == "gd" or (momentum == 0.0 and state.method != "nesterov"):
        return hb.GD(lr) if state.method == "gd" else hb.SGD(lr, 0.0)
    return hb.SGD(lr, momentum, nesterov=state.method in ("nesterov",))


def run_of(state, problem, x0, lr, momentum, phys):
    """The trajectory of ``state``: ``optimize`` for the optimisers, ``integrate`` for the integrators."""
    if state.method in INTEGRATOR_METHODS:
        system = hb.DampedParticle(problem, mass=phys.mass, friction=phys.friction)
        return hb.integrate(system, x0, method=state.method, step=phys.step, n_steps=state.n_steps), None
    opt = optimizer_of(state, lr, momentum)
    run = hb.optimize(problem, opt, x0, n_steps=state.n_steps, grad_noise=state.noise,
                      seed=state.seed if state.noise > 0 else None)
    return run, opt


def status_text(run, n_steps):
    if run.status == -1:
        return f"diverged at step {len(run.loss) - 1}"
    if run.status == 1:
        return f"converged (tol) at step {len(run.loss) - 1}"
    return f"ran all {n_steps} steps; final loss {run.loss[-1]:.4g}"


def spectrum(problem):
    """``(eigenvalues, exact)``: a quadratic's eigenvalues, else the Hessian's at the minimiser (local)."""
    lam = getattr(problem, "eigenvalues", None)
    if lam is not None and type(problem).__name__ != "DriftingQuadratic":
        return np.asarray(lam, dtype=float), True
    if problem.minimizer is None:
        return None, False
    h = np.asarray(problem.hessian(np.asarray(problem.minimizer, dtype=float)), dtype=float)
    return np.linalg.eigvalsh(h), False


def spectral_radius(state, eig, lr, momentum, phys):
    """The analytic radius of the state's iteration on eigenvalues ``eig`` (per mode, closed form)."""
    if state.method in INTEGRATOR_METHODS:
        return float(hb.spectral.physical_spectral_radius(eig, phys.mass, phys.friction, phys.step, state.method))
    method = "gd" if state.method == "gd" else state.method
    return float(hb.spectral.spectral_radius(eig, lr, momentum, method))


def framework_calls(state, lr, momentum, phys):
    """The ``torch.optim.SGD(...)`` and ``keras.optimizers.SGD(...)`` calls whose iterates are the run's."""
    if state.method == "explicit_euler" and phys.mass > 0:
        try:
            hb.to_optimizer(phys.mass, phys.friction, phys.step, "explicit_euler")
        except ValueError as exc:
            msg = f"# no SGD equivalent: {exc}"
            return msg, msg
    nesterov = state.method in ("nesterov",) or (phys is not None and phys.method == "nesterov")
    mom = 0.0 if state.method == "gd" else momentum
    tail = ", nesterov=True" if nesterov else ""
    torch = f"torch.optim.SGD(params, lr={_num(lr)}, momentum={_num(mom)}{tail})"
    keras = f"keras.optimizers.SGD(learning_rate={_num(lr)}, momentum={_num(mom)}{tail})"
    return torch, keras


def _num(v):
    return repr(float(f"{float(v):.12g}"))


def map_text(state, lr, momentum, phys):
    if phys is None:
        return ""
    return (f"lr = {lr:.6g}, momentum = {momentum:.6g}  <->  mass m = {phys.mass:.6g}, "
            f"friction gamma = {phys.friction:.6g}, step h = {phys.step:.6g} ({phys.method})")


def regimes(eig, lr, momentum):
    """``[(eigenvalue, lr*eigenvalue, regime)]`` of heavy ball's modes at ``(lr, momentum)``."""
    if eig is None:
        return []
    return [(float(l), float(lr * l), hb.spectral.regime(float(l), lr, momentum)) for l in eig[:8]]


def window(problem, x0, run):
    """The plotting window: the run's points and the minimiser, padded, at most 10 start distances wide.

    Rounded outward to a grid of 1/8 of the start distance, so that small moves of a slider
    keep the window (and the cached contour) unchanged.
    """
    x0 = np.asarray(x0, float)[:2]
    best = np.asarray(problem.minimizer, float)[:2] if problem.minimizer is not None else np.zeros(2)
    unit = max(float(np.max(np.abs(x0 - best))), 0.5)
    pts = run.x[:, :2]
    pts = np.vstack([pts[np.all(np.isfinite(pts), axis=1)], best[None, :], x0[None, :]])
    lo = np.maximum(pts.min(axis=0), x0 - 10 * unit)
    hi = np.minimum(pts.max(axis=0), x0 + 10 * unit)
    pad = 0.15 * np.maximum(hi - lo, unit)
    q = unit / 8
    return tuple(np.floor((lo - pad) / q) * q), tuple(np.ceil((hi + pad) / q) * q)


@functools.lru_cache(maxsize=32)
def _contour(name, params, xlim, ylim):
    problem = _problem(name, params)
    xs = np.linspace(*xlim, CONTOUR_RESOLUTION)
    ys = np.linspace(*ylim, CONTOUR_RESOLUTION)
    with np.errstate(all="ignore"):
        z = problem.value(np.stack(np.meshgrid(xs, ys), axis=-1))
    floor = problem.min_value if problem.min_value is not None else np.nanmin(z)
    zl = np.log10(np.maximum(z - floor, 0.0) + 1e-3 * max(float(np.nanmax(z) - floor), 1e-12))
    return {"x": xlim, "y": ylim, "z": np.where(np.isfinite(zl), zl, np.nan)}


def contour(state, problem, x0, run):
    if problem.dim != 2:
        return None
    lo, hi = window(problem, x0, run)
    xlim, ylim = (lo[0], hi[0]), (lo[1], hi[1])
    return _contour(state.problem, state.params, tuple(map(float, xlim)), tuple(map(float, ylim)))


def flow(problem, phys, phys_run, n=17):
    """Arrows of the continuous flow ``x' = v``, ``m v' = -dL/dx_0 - gamma v`` in the (x_0, v_0) plane.

    The other coordinates are held at their values at the end of the run (for a 1-D problem there are none).
    """
    if phys is None or phys_run is None or phys.mass == 0.0:
        return None
    x, v = phys_run.x[:, 0], phys_run.v[:, 0]
    xlo, xhi = _span(x)
    vlo, vhi = _span(v)
    X, V = np.meshgrid(np.linspace(xlo, xhi, n), np.linspace(vlo, vhi, n))
    pts = np.repeat(phys_run.x[-1][None, None, :], n, axis=0).repeat(n, axis=1)
    pts[..., 0] = X
    with np.errstate(all="ignore"):
        g = np.asarray(problem.grad(pts), dtype=float)[..., 0]
    dx, dv = V, (-g - phys.friction * V) / phys.mass
    scale = np.hypot(dx / (xhi - xlo), dv / (vhi - vlo))
    scale = np.where(scale > 0, scale, 1.0) * n * 1.4
    return {"x0": X.ravel(), "v0": V.ravel(), "x1": (X + dx / scale).ravel(), "v1": (V + dv / scale).ravel(),
            "xlim": (xlo, xhi), "vlim": (vlo, vhi)}


def _span(a):
    a = a[np.isfinite(a)]
    lo, hi = (float(a.min()), float(a.max())) if a.size else (-1.0, 1.0)
    pad = max(0.1 * (hi - lo), 1e-3)
    return lo - pad, hi + pad


def lr_limit(problem, eig):
    """Largest learning rate of the rate map, ``4 / L`` (the heavy-ball stability limit at momentum 1)."""
    big = float(np.max(np.abs(eig))) if eig is not None and eig.size else 0.0
    if big <= 0:
        h = np.asarray(problem.hessian(np.zeros(problem.dim)), dtype=float)
        big = float(np.max(np.abs(np.linalg.eigvalsh(h)))) if h.size else 1.0
    return 4.0 / big if big > 0 else 1.0


def rate_method(state, phys):
    if state.method == "nesterov" or (phys is not None and phys.method == "nesterov"):
        return "nesterov"
    return "heavy_ball"


@functools.lru_cache(maxsize=16)
def _rate_map(name, params, method, x0, lr_max):
    problem = _problem(name, params)
    lrs = np.linspace(lr_max / RATE_GRID, lr_max, RATE_GRID)
    momenta = np.linspace(0.0, 0.99, RATE_GRID)
    res = hb.sweep(problem, lrs, momenta, x0=np.asarray(x0), n_steps=RATE_STEPS, method=method, progress=False)
    return RateMap(lrs, momenta, np.asarray(res.rate), method, res)


def rate_map(state, problem, x0, eig, phys):
    """The measured ``(lr, momentum)`` rate map of the problem from ``x0`` (cached)."""
    return _rate_map(state.problem, state.params, rate_method(state, phys), tuple(map(float, x0)),
                     lr_limit(problem, eig))


def compute(state, *, rates=True):
    """Everything the explorer shows for ``state`` (see :class:`View`).

    ``rates=False`` skips the rate map (the only part that can take a fraction of a second;
    it is cached per problem, method and start). Raises ``ValueError`` for a setting the
    library refuses (the message names the parameter).

    Examples
    --------
    >>> from heavyball.explore import ExploreState, compute
    >>> v = compute(ExploreState(lr=0.0330578, momentum=0.669421, x0=(1.0, 1.0)), rates=False)
    >>> round(v.radius, 4), v.torch_call
    (0.8185, 'torch.optim.SGD(params, lr=0.0330578, momentum=0.669421)')
    """
    problem = build_problem(state)
    x0 = np.asarray(state.start(problem.dim), dtype=float)
    lr, momentum, phys = coefficients(state)
    run, opt = run_of(state, problem, x0, lr, momentum, phys)
    phys_run = run if state.method in INTEGRATOR_METHODS else _physical_run(run, opt, state, problem)
    eig, exact = spectrum(problem)
    radius = spectral_radius(state, eig, lr, momentum, phys) if (eig is not None and exact) else None
    torch, keras = framework_calls(state, lr, momentum, phys)
    notes = []
    if state.noise > 0 and state.method in INTEGRATOR_METHODS:
        notes.append("gradient noise applies to gd, heavy_ball and nesterov only (integrate has none)")
    return View(state=state, problem=problem, x0=x0, lr=lr, momentum=momentum, physical=phys, run=run,
                phys_run=phys_run, status=status_text(run, state.n_steps), radius=radius, eigenvalues=eig,
                exact_quadratic=exact, torch_call=torch, keras_call=keras,
                map_text=map_text(state, lr, momentum, phys), regimes=regimes(eig, lr, momentum),
                rates=_safe_rate_map(state, problem, x0, eig, phys, notes) if rates else None,
                contour=contour(state, problem, x0, run), flow=flow(problem, phys, phys_run), notes=notes)


def _safe_rate_map(state, problem, x0, eig, phys, notes):
    try:
        return rate_map(state, problem, x0, eig, phys)
    except ValueError as exc:
        notes.append(f"no rate map from this start: {exc}")
        return None


def _physical_run(run, opt, state, problem):
    if state.method == "gd" or run.v is None:
        return None
    target = "nesterov" if state.method == "nesterov" else "symplectic_euler"
    return hb.maps.physical_run(run, opt, mass=state.mass, method=target, problem=problem)
