"""The ``"numpy"`` backend of :func:`~heavyball.sweep`: the NumPy twin of the compiled sweep kernel.

Vectorised over the grid points, with the same operations in the same order
as :func:`heavyball.kernels.sweep_kernel`; it is the test oracle of the
compiled backends, and the engine of problems the kernels cannot run.
"""

from __future__ import annotations

import numpy as np

from .._kernel_constants import constant
from ..trajectory import DIVERGENCE_BOUND

#: Smallest normal float64: every ``FLUSH_EVERY`` steps the sweep sets smaller
#: coordinates of ``x`` and of the momentum buffer to zero (see :func:`sweep`, Notes).
#: Both defined in ``kernels.py``, which compiles them in (see :mod:`heavyball._kernel_constants`).
FLUSH_BELOW = constant("FLUSH_BELOW")
FLUSH_EVERY = constant("FLUSH_EVERY")
#: A final distance ``|x_n - x*|`` below this has reached the floating-point floor (flushed to
#: zero or about to be): such a point's ``rate`` is measured over its ``steps_to_tol`` steps instead.
#: Below :data:`SMALLEST_THRESHOLD`, so every such point has reached the tolerance.
FLOOR_DISTANCE = 1e-300
#: Each scaled term of the per-step tolerance test is raised to at least this
#: before squaring (see :func:`_tolerance_scale`).
DISTANCE_FLOOR = constant("DISTANCE_FLOOR")


def norms(e):
    """Euclidean norm of each row; rows whose squares could under- or overflow use ``hypot``."""
    with np.errstate(all="ignore"):
        sq = np.einsum("ij,ij->i", e, e)
        out = np.sqrt(sq)
        risky = ~((sq > 1e-290) & (sq < 1e290))
        if risky.any():
            out[risky] = np.hypot.reduce(np.abs(e[risky]), axis=1)
    return out


def numpy_chunk(problem, method, x0, xstar, use_grad, scale, thr2, lr, mom, n):
    """The NumPy twin of :func:`heavyball.kernels.sweep_kernel` for points with the given ``lr, mom``.

    Vectorised over the points, same operations in the same order; the
    gradient is the problem's own NumPy ``grad``, called once per step on
    the ``(points, dim)`` array of the runs still alive (a run that diverged
    is dropped, so a user's function never sees its state again). Returns
    ``steps, dead, xf``; the rows of ``xf`` of diverged runs are NaN.
    """
    p, d = len(lr), len(x0)
    steps = np.full(p, -1, dtype=np.int64)
    dead = np.zeros(p, dtype=np.bool_)
    xf = np.full((p, d), np.nan)
    live = np.arange(p)  # the runs still going; the arrays below hold their rows only
    X, V, st = np.tile(x0, (p, 1)), np.zeros((p, d)), steps.copy()
    lr, mom = lr[:, None], mom[:, None]
    with np.errstate(all="ignore"):
        for k in range(n + 1):
            G = np.asarray(problem.grad(X), dtype=np.float64)
            d2 = _tolerance_distance2(G if use_grad else X - xstar, scale)
            st[(st < 0) & (d2 <= thr2)] = k
            if k == n:
                break
            if method == "gd":
                X = X - lr * G
                B = V
            else:
                B = V * mom + G
                X = X - lr * (B if method == "heavy_ball" else G + mom * B)
            ok = np.all(np.abs(X) <= DIVERGENCE_BOUND, axis=1)
            if method != "gd":
                ok &= np.all(np.abs(B) <= DIVERGENCE_BOUND, axis=1)
            V = B
            if not ok.all():
                dead[live[~ok]] = True
                steps[live[~ok]] = st[~ok]
                live, X, V, st, lr, mom = (a[ok] for a in (live, X, V, st, lr, mom))
                if live.size == 0:
                    break
            if (k + 1) % FLUSH_EVERY == 0:
                X = np.where(np.abs(X) < FLUSH_BELOW, 0.0, X)
                V = np.where(np.abs(V) < FLUSH_BELOW, 0.0, V)
    steps[live], xf[live] = st, X
    return steps, dead, xf


def _tolerance_distance2(e, scale):
    """Sum over coordinates of ``max(scale |e_i|, DISTANCE_FLOOR)^2``, in the kernel's order (small ``dim``)."""
    a = np.maximum(np.abs(e) * scale, DISTANCE_FLOOR)
    if a.shape[1] > 32:
        return np.sum(a * a, axis=1)
    d2 = np.zeros(a.shape[0])
    for i in range(a.shape[1]):
        d2 += a[:, i] * a[:, i]
    return d2
