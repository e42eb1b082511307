"""The compiled path of :func:`~heavyball.integrate` and :func:`~heavyball.optimize`.

Each ``*_compiled`` function returns a :class:`Trajectory`, or None when the
kernels do not support the request, in which case the caller runs its NumPy
loop. Support is decided by listing what *is* supported (exact types, a
compiled problem, the known fields of :class:`DampedParticle`), never by
looking for features that are absent, so a feature added later falls back to
the NumPy loop until someone teaches the kernels about it.
"""

from __future__ import annotations

import numpy as np

from . import _compiled
from ._kinds import CompiledProblem
from ._recording import first_non_finite, n_records, outcome
from .system import DampedParticle
from .trajectory import Trajectory

#: The instance fields of a DampedParticle the integrator kernel understands,
#: with the one value it supports (None: any valid value). A system with any
#: other field (a new physical feature) or another value uses the NumPy loop.
SUPPORTED_SYSTEM_FIELDS = {
    "problem": None,
    "mass": None,
    "friction": None,
    "hessian_damping": 0.0,  # high-resolution ODE terms (off)
    "gradient_scale": 1.0,
}

#: Rows of gradient noise drawn at a time are capped so the chunk holds at
#: most this many numbers (32 MiB), whatever the dimension.
NOISE_CHUNK_NUMBERS = 1 << 22
NOISE_CHUNK_ROWS = 4096


def compiled_problem(problem):
    """``problem.compiled()`` if it is a usable :class:`CompiledProblem`, else None."""
    fn = getattr(problem, "compiled", None)
    if not callable(fn):
        return None
    cp = fn()
    if not isinstance(cp, CompiledProblem) or cp.dim != problem.dim:
        return None
    return cp


def integrate_supported(system):
    """The compiled problem when the integrator kernel can run ``system``, else None."""
    if type(system) is not DampedParticle or set(vars(system)) != set(SUPPORTED_SYSTEM_FIELDS):
        return None
    for name, value in SUPPORTED_SYSTEM_FIELDS.items():
        given = getattr(system, name)
        if value is not None and (callable(given) or given != value):
            return None
    return compiled_problem(system.problem)


def _empty(*shape):
    return np.empty(shape, dtype=np.float64)


def integrate_compiled(system, method, x, v, h, n, t0, gammas, tol, every):
    """Run :func:`heavyball.kernels.integrate_kernel`; None if unsupported.

    Arguments as validated by ``integrators._validate`` (``x`` and ``v`` are
    fresh copies, ``gammas`` a float or the per-step array).
    """
    cp = integrate_supported(system)
    if cp is None:
        return None
    from . import kernels

    d = system.dim
    fused = cp.kind == kernels.DIAGONAL_QUADRATIC
    size = n_records(n, every)
    ts, ls = _empty(size), _empty(size)
    xs = _empty(size, d)
    vs = _empty(size, d) if v is not None else _empty(0, d)
    if v is None:
        v = _empty(0)
    g = _empty(0) if fused or d == 2 else _empty(d)
    y = _empty(d) if (method == "nesterov" and not fused and d != 2) else _empty(0)
    gam = np.ascontiguousarray(np.atleast_1d(np.asarray(gammas, dtype=np.float64)))
    if gam.size == 0:  # n = 0 with a friction function: the kernel reads gam[0] but takes no step
        gam = np.ones(1)
    status, count, k = _compiled.kernels_for(cp, x).integrate_kernel(
        kernels.SCHEMES[method], *_compiled.problem_args(cp), x, v, g, y,
        h, system.mass, gam, t0, n, -1.0 if tol is None else tol, every, ts, xs, vs, ls)
    stop = k + 1 if status == -1 else k
    step_of = lambda j: k if j == count - 1 else j * every  # noqa: E731 (record j -> step)
    return build_trajectory(step_of, ts, xs, vs if system.mass > 0 else None, ls, count,
                            method=method, step=h, status=status, stop_step=stop, nfev=stop)


def optimize_supported(problem, optimizer):
    """The compiled problem when the optimiser kernel can run this pair, else None."""
    from . import optimizers as o

    if type(optimizer) not in (o.GD, o.SGD, o.KerasSGD, o.EMAMomentum):
        return None
    return compiled_problem(problem)


def _hyper(optimizer, sigma):
    """``code, flags, hyper, lr, momentum`` of an optimiser for the kernel."""
    from . import kernels
    from . import optimizers as o

    name = type(optimizer).__name__
    code = kernels.OPTIMIZERS[name]
    nesterov = int(getattr(optimizer, "nesterov", False))
    maximize = int(getattr(optimizer, "maximize", False))
    if isinstance(optimizer, o.GD):
        lr, mom, wd, damp = optimizer.lr, 0.0, 0.0, 0.0
    elif isinstance(optimizer, o.SGD):
        lr, mom, wd, damp = optimizer.lr, optimizer.momentum, optimizer.weight_decay, optimizer.dampening
    elif isinstance(optimizer, o.KerasSGD):
        lr, mom, wd, damp = optimizer.learning_rate, optimizer.momentum, optimizer.weight_decay, 0.0
    else:
        lr, mom, wd, damp = optimizer.lr, optimizer.beta, 0.0, 0.0
    no_velocity = int(isinstance(optimizer, o.KerasSGD) and optimizer.momentum == 0)
    flags = np.array([nesterov, maximize, no_velocity], dtype=np.int64)
    hyper = np.array([wd, damp, sigma], dtype=np.float64)
    return code, flags, hyper, lr, mom


def optimize_compiled(problem, optimizer, x, n, lrs, moms, restart, sigma, seed, tol, every):
    """Run :func:`heavyball.kernels.optimize_kernel`; None if unsupported.

    ``lrs``/``moms`` are the evaluated schedules or None; the gradient noise is
    drawn from ``numpy.random.default_rng(seed)`` row by row in the order
    ``optimizers._NoiseStream`` draws it, in chunks of bounded size.
    """
    cp = optimize_supported(problem, optimizer)
    if cp is None:
        return None
    from . import kernels

    d = problem.dim
    code, flags, hyper, lr, mom = _hyper(optimizer, sigma)
    lr_arr = np.array([lr]) if lrs is None else np.ascontiguousarray(lrs, dtype=np.float64)
    mom_arr = np.array([mom]) if moms is None else np.ascontiguousarray(moms, dtype=np.float64)
    size = n_records(n, every)
    ks, ls = np.empty(size, dtype=np.int64), _empty(size)
    xs = _empty(size, d)
    with_v = code != kernels.OPT_GD
    vs = _empty(size, d) if with_v else _empty(0, d)
    buf = np.zeros(d)
    state = np.array([0 if code == kernels.OPT_SGD else 1, 0, -1], dtype=np.int64)
    g, xn, bn = _empty(d), _empty(d), _empty(d)
    tol_value = -1.0 if tol is None else tol
    rng = np.random.default_rng(seed) if sigma > 0 else None
    rows = max(1, min(NOISE_CHUNK_ROWS, NOISE_CHUNK_NUMBERS // d, n))
    status, k = 0, 0
    while True:
        k1 = n if rng is None else min(n, k + rows)
        noise = _empty(0, d) if rng is None else rng.standard_normal((k1 - k, d))
        status, k = _compiled.kernels_for(cp, x).optimize_kernel(
            code, *_compiled.problem_args(cp), x, buf, state, flags, hyper, lr_arr,
            mom_arr, 0 if restart is None else restart, noise, k, k1, n, tol_value, every,
            ks, xs, vs, ls, g, xn, bn)
        if status != 0 or k >= n:
            break
    stop = k + 1 if status == -1 else k
    count = int(state[1])
    return build_trajectory(ks.__getitem__, ks[:count].astype(np.float64), xs, vs if with_v else None, ls,
                            count, method=optimizer.name, step=1.0, status=status,
                            stop_step=stop, nfev=stop)


def _trim(a, count):
    """``a[:count]``, copied when that frees most of a large buffer."""
    part = a[:count]
    return part.copy() if count < len(a) // 2 else part


def build_trajectory(step_of, ts, xs, vs, ls, count, *, method, step, status, stop_step, nfev):
    """A :class:`Trajectory` from kernel records, with the checks of ``_recording.finish``.

    ``step_of(j)`` is the step index of record ``j``. A recorded state whose
    loss is not finite ends the trajectory there (status -1), exactly as in
    the NumPy loops.
    """
    j = first_non_finite(ls[:count])
    if j is not None:
        count = j
    status, stop_step, message = outcome(status, stop_step, None if j is None else int(step_of(j)))
    return Trajectory(
        t=_trim(ts, count),
        x=_trim(xs, count),
        v=None if vs is None else _trim(vs, count),
        loss=_trim(ls, count),
        method=method,
        step=step,
        status=status,
        message=message,
        nfev=int(nfev),
    )
