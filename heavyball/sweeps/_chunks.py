"""Chunk scheduling of a sweep: the grid as flat ranges of points, each run by the compiled kernel or NumPy.

Both the local runner (:func:`run_local`) and the Dask runner
(:mod:`heavyball.sweeps._dask`) cut the flat grid into pieces
(:func:`pieces`) and run each with :func:`run_piece`, which writes the four
result arrays of its points; the compiled kernel is called in slices of
points and of steps (:func:`sweep_slice_points`, :func:`sweep_slice_steps`),
between which Python runs and a Ctrl-C is obeyed.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from .. import _compiled
from ._numpy import FLOOR_DISTANCE, norms, numpy_chunk

#: Grid points kept in memory at a time is capped at this many numbers per state array.
CHUNK_NUMBERS = 1 << 22


def _chunk_size(n_pts, dim, show):
    from ..kernels import LANES

    cap = max(LANES, CHUNK_NUMBERS // max(dim, 1))
    target = max(LANES * 16, -(-n_pts // 50)) if show else n_pts
    size = min(n_pts, cap, target)
    return size if size == n_pts else -(-size // LANES) * LANES


def round_chunk(size, total, dim):
    """A requested chunk size capped by memory and rounded up to whole kernel blocks."""
    from ..kernels import LANES

    size = min(size, max(LANES, CHUNK_NUMBERS // max(dim, 1)))
    return total if size >= total else -(-size // LANES) * LANES


def pieces(g0, g1, n_pts):
    """Split the flat range ``[g0, g1)`` of a grid of cells of ``n_pts`` points: ``[(cell, p0, p1)]``."""
    out = []
    g = g0
    while g < g1:
        c, p0 = divmod(g, n_pts)
        p1 = min(n_pts, p0 + g1 - g)
        out.append((c, p0, p1))
        g += p1 - p0
    return out


def empty_outputs(size):
    """``steps, dead, final_loss, rate`` for ``size`` points."""
    return (np.empty(size, dtype=np.int64), np.empty(size, dtype=np.bool_), np.empty(size), np.empty(size))


def run_piece(cell, common, p0, p1, steps, dead, loss, rate):
    """Run points ``p0:p1`` of one cell, writing into the four output arrays (each of length ``p1 - p0``)."""
    method, lrs, momenta, n = common
    if cell.cp is not None:
        xf = _numba_chunk(cell.cp, method, cell.x0, cell.xstar, cell.use_grad, cell.scale, cell.thr2, lrs,
                          momenta, n, p0, p1, steps, dead)
    else:
        pts = np.arange(p0, p1)
        lr, mom = lrs[pts % len(lrs)], momenta[pts // len(lrs)]
        st, dd, xf = numpy_chunk(cell.problem, method, cell.x0, cell.xstar, cell.use_grad, cell.scale, cell.thr2,
                                 lr, mom, n)
        steps[:], dead[:] = st, dd
    loss[:], rate[:], floor = _summarise(cell.problem, xf, dead, cell.xstar, cell.use_grad, cell.d0, n)
    if floor.size:
        rate[floor] = _rate_before_floor(cell, common, p0 + floor, steps[floor])


def _rate_before_floor(cell, common, points, steps):
    """Rates of grid points whose distance reached the floor, measured over the steps before it.

    Re-runs each point for ``K`` steps, the largest power of two
    ``<= max(steps_to_tol, 1)`` (the same iterates, so ``x_K`` is the one the
    full run passed through), and returns ``(|x_K - x*| / |x_0 - x*|)^(1/K)``.
    Powers of two keep the re-runs to a few passes (one per distinct ``K``;
    the compiled kernel's blocks of 32 lanes take any ``(lr, momentum)`` pairs).
    """
    method, lrs, momenta, _ = common
    n_lr = len(lrs)
    k = np.left_shift(1, np.floor(np.log2(np.maximum(steps, 1))).astype(np.int64))
    out = np.empty(len(points))
    lr_all, mom_all = lrs[points % n_lr], momenta[points // n_lr]
    for kk in np.unique(k):
        sel = np.flatnonzero(k == kk)
        if cell.cp is not None and cell.cp.kind != _compiled.USER_FUNCTIONS:  # user functions: their NumPy path
            xf = _block_rerun(cell, method, lr_all[sel], mom_all[sel], int(kk))
        else:
            xf = numpy_chunk(cell.problem, method, cell.x0, cell.xstar, cell.use_grad, cell.scale, cell.thr2,
                             lr_all[sel], mom_all[sel], int(kk))[2]
        with np.errstate(all="ignore"):
            e = np.asarray(cell.problem.grad(xf), dtype=np.float64) if cell.use_grad else xf - cell.xstar
            out[sel] = np.exp((np.log(norms(e)) - math.log(cell.d0)) / kk)
    return out


def _block_rerun(cell, method, lr, mom, n):
    """Final iterates after ``n`` steps of the compiled kernel for arbitrary ``(lr, mom)`` pairs, 32 at a time."""
    from .. import kernels

    lanes, d, cp = kernels.LANES, cell.x0.shape[0], cell.cp
    work = [np.empty((d, lanes)) for _ in range(3)] + [np.empty((2, d)), np.empty(lanes), np.empty(lanes, np.bool_),
                                                        np.empty(lanes, np.int64), np.empty(lanes, np.bool_)]
    xf = np.empty((len(lr), d))
    for b0 in range(0, len(lr), lanes):
        m = min(lanes, len(lr) - b0)
        lr_b, mom_b = np.full(lanes, lr[b0 + m - 1]), np.full(lanes, mom[b0 + m - 1])
        lr_b[:m], mom_b[:m] = lr[b0:b0 + m], mom[b0:b0 + m]
        kernels._sweep_block(kernels.SWEEP_METHODS[method], cp.kind, cp.scalars, cp.vec1, cp.vec2, None, None,
                             cell.x0, cell.xstar, cell.use_grad, cell.scale, cell.thr2, lr_b, mom_b, 0, n + 1, n,
                             *work, None if d == 2 else True)  # (the 2-D or the n-D step, as in the kernel)
        xf[b0:b0 + m] = work[0][:, :m].T
    return xf


def run_local(cells, common, total, chunk, show):
    """Run every grid point in this process, in chunks; returns flat ``steps, dead, final_loss, rate``."""
    _, lrs, momenta, _ = common
    n_pts = len(lrs) * len(momenta)
    dim = cells[0].x0.shape[0]
    out = empty_outputs(total)
    size = _chunk_size(total, dim, show) if chunk is None else round_chunk(chunk, total, dim)
    bar = progress_bar(total, show)
    try:
        for g0 in range(0, total, size):
            for c, p0, p1 in pieces(g0, min(total, g0 + size), n_pts):
                a = c * n_pts
                run_piece(cells[c], common, p0, p1, *(o[a + p0:a + p1] for o in out))
            if bar is not None:
                bar.update(min(total, g0 + size) - g0)
    finally:
        if bar is not None:
            bar.close()
    return out


def progress_bar(total, show):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="pt", file=sys.stderr, dynamic_ncols=True)


#: Work (grid points x steps x dimension, x dim^2 for a dense quadratic) of one
#: call of the compiled sweep kernel: between calls Python runs, so Ctrl-C
#: (SIGINT) is obeyed within about 0.1-0.5 s. A call takes whole blocks of
#: ``kernels.LANES`` points per Numba thread and as many steps as fit (at
#: least one). The grid points are independent and the kernel carries each
#: point's state from one step range to the next, so the slicing changes no
#: result.
SWEEP_SLICE_WORK = 1 << 27


def sweep_slice_points(cp, n, threads):
    """Grid points per compiled call: about :data:`SWEEP_SLICE_WORK`, whole blocks for every thread."""
    from ..kernels import LANES

    unit = LANES * max(1, threads)
    return max(1, SWEEP_SLICE_WORK // max(1, (n + 1) * _compiled.work_per_step(cp) * unit)) * unit


def sweep_slice_steps(cp, n_points, n):
    """Steps per compiled call for ``n_points`` points: about :data:`SWEEP_SLICE_WORK`, at least 1.

    Counts the step ``n`` (the final tolerance test), so ``[0, n + 1)`` is
    the whole run.
    """
    return int(min(n + 1, max(1, SWEEP_SLICE_WORK // max(1, n_points * _compiled.work_per_step(cp)))))


def _numba_chunk(cp, method, x0, xstar, use_grad, scale, thr2, lrs, momenta, n, p0, p1, steps, dead):
    """Run points ``p0:p1`` with the compiled kernel, in slices of points and of steps; returns final iterates.

    Each call of :func:`heavyball.kernels.sweep_kernel` does about
    :data:`SWEEP_SLICE_WORK` (points from :func:`sweep_slice_points`, steps
    from :func:`sweep_slice_steps`); the state of the points (iterates,
    buffers, steps to tolerance, dead flags) lives here between the calls,
    where a pending ``KeyboardInterrupt`` is raised. Writes ``steps`` and
    ``dead`` (length ``p1 - p0``). A slice of points whose points are all
    dead stops early. The result is bit for bit that of one call.
    """
    import numba

    from .. import kernels

    lanes = kernels.LANES
    xf = np.empty((p1 - p0, cp.dim))
    kern = _compiled.kernels_for(cp, x0, (p1 - p0) * n)
    prob = _compiled.problem_args(cp)
    code = kernels.SWEEP_METHODS[method]
    size = sweep_slice_points(cp, n, numba.get_num_threads())
    for q0 in range(p0, p1, size):
        q1 = min(p1, q0 + size)
        m = q1 - q0
        nb = (m + lanes - 1) // lanes
        X, V = np.empty((nb, cp.dim, lanes)), np.empty((nb, cp.dim, lanes))
        st, dd = np.empty((nb, lanes), np.int64), np.empty((nb, lanes), np.bool_)
        k_step = sweep_slice_steps(cp, nb * lanes, n)
        for k0 in range(0, n + 1, k_step):  # a pending KeyboardInterrupt is raised between the calls
            kern.sweep_kernel(code, *prob, x0, xstar, use_grad, scale, thr2, lrs, momenta, q0, q1, k0,
                              min(n + 1, k0 + k_step), n, X, V, st, dd)
            if dd.all():
                break
        a, b = q0 - p0, q1 - p0
        steps[a:b] = st.reshape(-1)[:m]
        dead[a:b] = dd.reshape(-1)[:m]
        xf[a:b] = X.transpose(0, 2, 1).reshape(-1, cp.dim)[:m]
    return xf


def _summarise(problem, xf, dead, xstar, use_grad, d0, n):
    """``final_loss``, ``rate`` and the points at the floor, from final states; updates ``dead``.

    The floor points (live, final distance below :data:`FLOOR_DISTANCE`) get
    their rate from :func:`_rate_before_floor`.
    """
    loss = np.full(len(dead), np.inf)
    rate = np.full(len(dead), np.inf)
    floor = np.zeros(0, dtype=np.intp)
    live = np.flatnonzero(~dead)
    if live.size:
        x = xf if live.size == len(dead) else xf[live]
        with np.errstate(all="ignore"):
            value = np.asarray(problem.value(x), dtype=np.float64).reshape(-1)
            e = np.asarray(problem.grad(x), dtype=np.float64) if use_grad else x - xstar
            # exp(log / n): (dist / d0) itself may overflow for a far but bounded point
            dist = norms(e)
            r = np.exp((np.log(dist) - math.log(d0)) / n)
        ok = np.isfinite(value) & np.isfinite(r)
        loss[live[ok]] = value[ok]
        rate[live[ok]] = r[ok]
        dead[live[~ok]] = True
        floor = live[ok & (dist < FLOOR_DISTANCE)]
    return loss, rate, floor
