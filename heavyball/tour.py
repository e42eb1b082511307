"""The computations behind ``heavyball tour``: each returns plain data.

The command line prints these; the tests check them against independent
references, so every number the tour prints is tested.
"""

from __future__ import annotations

import numpy as np

from .integrators import integrate
from .maps import initial_velocity, to_optimizer, to_physical
from .optimizers import SGD, optimize
from .problems import DoubleWell, Rosenbrock
from .reference import solve_reference
from .system import DampedParticle

#: (method, mass, friction, step) for the map check on Rosenbrock's valley.
MAP_CASES = [
    ("symplectic_euler", 1.0, 1.0, 0.03),
    ("nesterov", 1.0, 1.0, 0.03),
    ("conformal_symplectic_euler", 1.0, 1.0, 0.03),
    ("implicit_friction_euler", 1.0, 1.0, 0.03),
    ("explicit_euler", 0.0, 1.0, 1e-3),
]


def map_check(n_steps=2000, x0=(-1.2, 1.0)):
    """Max deviation between each integrator and the optimiser it equals.

    Returns
    -------
    list of dict
        One row per integrator: ``method``, ``optimizer`` (its repr),
        ``max_deviation`` (max over steps and coordinates, relative to the
        iterate scale) and, when PyTorch is installed, ``torch_deviation``.
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
        theirs = _torch_iterates(problem, opt, x0, n_steps)
        if theirs is not None:
            row["torch_deviation"] = _deviation(points, theirs)
        rows.append(row)
    rows.append(_dampening_row(problem, x0, n_steps))
    return rows


def _dampening_row(problem, x0, n_steps):
    opt = SGD(1e-3, momentum=0.9, dampening=0.5)
    p = to_physical(opt)
    v0 = initial_velocity(opt, problem.grad(np.asarray(x0, dtype=float)))
    traj = integrate(DampedParticle(problem, p.mass, p.friction), x0, v0, method=p.method, step=p.step,
                     n_steps=n_steps)
    ours = optimize(problem, opt, x0, n_steps=n_steps)
    row = dict(method=f"{p.method} + v0", optimizer=repr(opt), max_deviation=_deviation(traj.x, ours.x))
    theirs = _torch_iterates(problem, opt, x0, n_steps)
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


def run(out="heavyball-tour", quick=False):
    """Print the tour's results; returns the exit code."""
    n = 500 if quick else 2000
    print("heavyball tour: each integrator is an optimiser (Rosenbrock, "
          f"{n} steps, max deviation relative to the iterate scale)")
    for row in map_check(n_steps=n):
        torch_dev = row.get("torch_deviation")
        torch_txt = "torch n/a" if torch_dev is None else f"torch {torch_dev:.1e}"
        print(f"  {row['method']:<32} = {row['optimizer']:<60} heavyball {row['max_deviation']:.1e}  {torch_txt}")
    print("\nintegrators against solve_ivp (DOP853, rtol 1e-10) on a double well, t = 2:")
    for row in reference_check():
        errs = "  ".join(f"h={h:g}: {e:.2e}" for h, e in zip(row["steps"], row["errors"]))
        orders = ", ".join(f"{o:.2f}" for o in row["orders"])
        print(f"  {row['method']:<32} {errs}   observed order {orders}")
    return 0
