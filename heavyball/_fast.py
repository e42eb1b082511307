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
from ._compiled import compiled_problem, work_per_step
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


#: Work (steps x coordinates; x dim^2 for a dense quadratic) a compiled call
#: runs before it returns to Python, where a pending Ctrl-C (SIGINT) raises
#: KeyboardInterrupt. About 0.05-0.3 s on a 2020s core, so an interrupt is
#: obeyed within a fraction of a second and the slicing costs nothing
#: measurable (docs/performance.md, "Interruptible kernels"). The results do
#: not depend on it: tests force it small and compare bit for bit.
SLICE_WORK = 1 << 24
#: At least this many steps per call, so that copying the state between
#: calls (O(dim)) stays a small share of a call (O(dim) per step).
MIN_SLICE_STEPS = 64


def slice_steps(cp):
    """Steps per compiled call of ``integrate``/``optimize`` for the compiled problem ``cp``."""
    return max(MIN_SLICE_STEPS, SLICE_WORK // max(work_per_step(cp), 1), 1)


def integrate_compiled(system, method, x, v, h, n, t0, gammas, tol, every):
    """Run :func:`heavyball.kernels.integrate_kernel`; None if unsupported.

    Arguments as validated by ``integrators._validate`` (``x`` and ``v`` are
    fresh copies, ``gammas`` a float or the per-step array). The run is cut
    into slices of :func:`slice_steps` steps (see :class:`_IntegrateSlices`).
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
    g = _empty(0) if fused else _empty(d)
    y = _empty(d) if (method == "nesterov" and not fused and d != 2) else _empty(0)
    gam = np.ascontiguousarray(np.atleast_1d(np.asarray(gammas, dtype=np.float64)))
    if gam.size == 0:  # n = 0 with a friction function: the kernel reads gam[0] but takes no step
        gam = np.ones(1)
    kern = _compiled.kernels_for(cp, x)
    prob = _compiled.problem_args(cp)

    losses_finite = d == 2  # whether every loss the kernel wrote is known to be finite

    def call(x, v, k0, steps, rec_every, out):
        nonlocal losses_finite
        gk = gam[k0:k0 + steps] if gam.shape[0] > 1 else gam
        if gk.shape[0] == 0:
            gk = gam[:1]
        tl = -1.0 if tol is None else tol
        if d == 2:  # the 2-D loop itself: integrate_kernel's compile would link and optimise it once more
            status, count, k, finite = kern._integrate_2d(kernels.SCHEMES[method], *prob, x, v, h, system.mass,
                                                          gk, t0, steps, tl, rec_every, *out)
            losses_finite &= finite  # (all finite: build_trajectory need not scan them)
            return status, count, k
        return kern.integrate_kernel(kernels.SCHEMES[method], *prob, x, v, g, y, h, system.mass, gk, t0, steps,
                                     tl, rec_every, *out)

    run = _IntegrateSlices(call, n, every, slice_steps(cp), (ts, xs, vs, ls))
    status, count, k = run.run(x, v)
    step_of = lambda j: k if j == count - 1 else j * every  # noqa: E731 (record j -> step)
    if run.exact < count:  # rows written by later slices hold their local times: the kernel's expression,
        steps = np.arange(run.exact, count, dtype=np.float64) * every  # with the global step
        steps[-1] = k
        ts[run.exact:count] = t0 + h * steps
    stop = k + 1 if status == -1 else k
    return build_trajectory(step_of, ts, xs, vs if system.mass > 0 else None, ls, count,
                            method=method, step=h, status=status, stop_step=stop, nfev=stop,
                            losses_finite=losses_finite)


class _IntegrateSlices:
    """An ``n``-step integrator run as a sequence of kernel calls of at most ``cap`` steps.

    The kernel records the state at its local steps ``0, every, 2 every, ...``
    and its last one, so a slice that starts on the global recording grid and
    spans whole recording intervals writes straight into the records (its
    first record, the state it starts from, overwrites the previous slice's
    last one with the same numbers). When a recording interval is longer than
    ``cap``, it is run in pieces that record into a two-row scratch buffer; a
    piece's final state is copied into the records when it is one the whole
    run records (a grid point, the end, or where the run stopped). Each slice
    restarts from the state recorded last, so the steps, and the records, are
    those of one uninterrupted call. The times of the records a slice wrote
    are those of its local steps: after :meth:`run`, the first ``exact``
    rows are right (all of them when one call did the whole run, the common
    case, which so needs no pass over the times) and the caller recomputes
    the others from the global step.
    """

    def __init__(self, call, n, every, cap, out):
        self.call, self.n, self.every, self.cap, self.out = call, n, every, cap, out
        d = out[1].shape[1]
        has_v = out[2].shape[0] > 0
        self.scratch = (_empty(2), _empty(2, d), _empty(2 if has_v else 0, d), _empty(2))
        self.has_v = has_v

    def _state(self, rec, row):
        v = rec[2][row].copy() if self.has_v else _empty(0)
        return rec[1][row].copy(), v

    def run(self, x, v):
        n, every, cap, out = self.n, self.every, self.cap, self.out
        k, count, status = 0, 0, 0
        self.exact = 0  # leading rows whose times are right (see the class docstring)
        while True:
            if k % every == 0 and every <= cap:  # whole intervals, straight into the records
                steps = min(n - k, cap // every * every)
                start = max(count - 1, 0)
                status, c, kk = self.call(x, v, k, steps, every, tuple(a[start:] for a in out))
                count = start + c
                if k == 0:  # local steps are global ones; a next slice rewrites the last row
                    self.exact = count if status != 0 or kk >= n else count - 1
                x, v = self._state(out, count - 1)
            else:  # part of one long interval, through the scratch rows
                nxt = min(n, (k // every + 1) * every)
                steps = min(nxt - k, cap)
                status, c, kk = self.call(x, v, k, steps, steps, self.scratch)
                x, v = self._state(self.scratch, c - 1)
                if count == 0:
                    count = self._copy(0, 0)
                if (k + kk == nxt or status != 0) and not (kk == 0 and k % every == 0):
                    count = self._copy(c - 1, count)
            k += kk
            if status != 0 or k >= n:
                return status, count, k

    def _copy(self, row, count):
        for a, b in zip(self.out, self.scratch):
            if a.shape[0]:
                a[count] = b[row]
        return count + 1


def optimize_supported(problem, optimizer):
    """The compiled problem when the optimiser kernel can run this pair, else None."""
    if "_kernel_form" not in vars(type(optimizer)):  # exact types: a subclass may change the step
        return None
    return compiled_problem(problem)


def _hyper(optimizer, sigma, momentum_scheduled=False):
    """``code, flags, hyper, lr, momentum`` of an optimiser for the kernel."""
    from . import kernels

    name, lr, mom, wd, damp = optimizer._kernel_form()
    code = kernels.OPTIMIZERS[name]
    nesterov = int(getattr(optimizer, "nesterov", False))
    maximize = int(getattr(optimizer, "maximize", False))
    no_velocity = int(code == kernels.OPT_KERAS and optimizer.momentum == 0 and not momentum_scheduled)
    flags = np.array([nesterov, maximize, no_velocity], dtype=np.int64)
    hyper = np.array([wd, damp, sigma], dtype=np.float64)
    return code, flags, hyper, lr, mom


def optimize_compiled(problem, optimizer, x, n, lrs, moms, restart, sigma, seed, tol, every):
    """Run :func:`heavyball.kernels.optimize_kernel`; None if unsupported.

    ``lrs``/``moms`` are the evaluated schedules or None; the gradient noise is
    drawn from ``numpy.random.default_rng(seed)`` row by row in the order
    ``optimizers._NoiseStream`` draws it, in chunks of bounded size. The
    kernel is resumable; each call runs at most :func:`slice_steps` steps.
    """
    cp = optimize_supported(problem, optimizer)
    if cp is None:
        return None
    from . import kernels

    d = problem.dim
    code, flags, hyper, lr, mom = _hyper(optimizer, sigma, moms is not None)
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
    cap = slice_steps(cp)  # steps per call, so that Ctrl-C is obeyed between calls
    kern, prob = _compiled.kernels_for(cp, x), _compiled.problem_args(cp)  # once, not per slice
    status, k = 0, 0
    while True:
        k1 = min(n, k + cap) if rng is None else min(n, k + rows, k + cap)
        noise = _empty(0, d) if rng is None else rng.standard_normal((k1 - k, d))
        status, k = kern.optimize_kernel(
            code, *prob, x, buf, state, flags, hyper, lr_arr,
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


def build_trajectory(step_of, ts, xs, vs, ls, count, *, method, step, status, stop_step, nfev,
                     losses_finite=False):
    """A :class:`Trajectory` from kernel records, with the checks of ``_recording.finish``.

    ``step_of(j)`` is the step index of record ``j``. A recorded state whose
    loss is not finite ends the trajectory there (status -1), exactly as in
    the NumPy loops. ``losses_finite``: the kernel found every recorded loss
    finite as it wrote them (the 2-D integrator), so they are not scanned again.
    """
    j = None if losses_finite else first_non_finite(ls[:count])
    if j is not None:
        count = max(j, 1)  # a start with a non-finite loss stays as the one record
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
