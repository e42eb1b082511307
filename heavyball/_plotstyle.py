"""Private helpers for :mod:`heavyball.plotting`: lazy matplotlib, styles, grids.

Nothing here imports matplotlib at module level; :func:`new_axes` does so on
first use, so ``import heavyball`` (and ``import heavyball.plotting``) stays
free of it.
"""

from __future__ import annotations

import numpy as np

#: Okabe-Ito colours (safe for colour-blind readers), each paired with a marker
#: and a line style so that the lines stay apart in greyscale too.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))

#: Display names of methods and optimisers in legends.
PRETTY = {
    "explicit_euler": "explicit Euler",
    "symplectic_euler": "symplectic Euler",
    "conformal_symplectic_euler": "conformal symplectic Euler",
    "implicit_friction_euler": "implicit-friction Euler",
    "nesterov": "Nesterov look-ahead",
    "gd": "gradient descent",
    "heavy_ball": "heavy ball",
    "GD": "GD",
    "SGD": "heavy ball (SGD)",
    "SGD(nesterov)": "Nesterov (SGD)",
}


def style(i):
    """Colour, marker and line style of the ``i``-th drawn series."""
    n = len(COLORS)
    return dict(color=COLORS[i % n], marker=MARKERS[i % n], linestyle=LINESTYLES[i % n])


def new_axes(ax, figsize=(5.0, 4.0)):
    """Return ``ax``, or the Axes of a new figure when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def copy_kw(name, kw):
    """A copy of a user's keyword dict (never modified in place)."""
    if kw is None:
        return {}
    if not isinstance(kw, dict):
        raise ValueError(f"`{name}` must be a dict of matplotlib keywords or None, got {kw!r}")
    return dict(kw)


def limits(name, value):
    """Validate an axis range ``(low, high)`` with ``low < high``."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a pair (low, high), got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"`{name}` must be finite with low < high, got {value!r}")
    return lo, hi


def padded_range(values, pad=0.1, minimum_half_width=1e-3):
    """``(low, high)`` covering ``values`` with a relative margin ``pad``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    half = max(0.5 * (hi - lo), minimum_half_width, 1e-3 * max(abs(lo), abs(hi)))
    mid = 0.5 * (lo + hi)
    return mid - half * (1 + 2 * pad), mid + half * (1 + 2 * pad)


def equal_scale_window(ax, xlim, ylim):
    """``(xlim, ylim)`` widened about their centre to the shape of ``ax`` (one unit, one length).

    The Axes' shape is read after a layout pass (``draw_without_rendering``); the
    window keeps its longer side and stretches the other to ``height / width``.
    """
    ax.figure.draw_without_rendering()
    box = ax.get_window_extent()
    ratio = box.height / box.width
    (x0, x1), (y0, y1) = xlim, ylim
    width = max(x1 - x0, (y1 - y0) / ratio)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - width / 2, cx + width / 2), (cy - width * ratio / 2, cy + width * ratio / 2)


def cell_edges(centres, log):
    """Edges of the cells around grid ``centres`` (geometric midpoints when ``log``)."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        w = 0.1 * abs(c[0]) if c[0] != 0 else 0.1
        return np.array([c[0] / 1.2, c[0] * 1.2]) if log else np.array([c[0] - w, c[0] + w])
    if log:
        lc = np.log(c)
        mids = 0.5 * (lc[1:] + lc[:-1])
        return np.exp(np.concatenate([[2 * lc[0] - mids[0]], mids, [2 * lc[-1] - mids[-1]]]))
    mids = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[2 * c[0] - mids[0]], mids, [2 * c[-1] - mids[-1]]])


def is_geometric(values):
    """True when ``values`` are positive with a constant ratio (a log-spaced grid)."""
    v = np.asarray(values, dtype=float)
    if v.size < 3 or np.any(v <= 0):
        return False
    r = np.diff(np.log(v))
    return bool(np.allclose(r, r[0], rtol=1e-6) and not np.allclose(np.diff(v), np.diff(v)[0], rtol=1e-6))


def label_of(traj, given=None):
    """Legend label of a trajectory: the one given, else its (pretty) method name."""
    if given is not None:
        return str(given)
    return PRETTY.get(traj.method, traj.method)


def as_labelled(name, trajectories, labels):
    """``[(label, Trajectory), ...]`` from a Trajectory, a sequence or a mapping."""
    from .trajectory import Trajectory

    if isinstance(trajectories, Trajectory):
        trajectories = [trajectories]
    if isinstance(trajectories, dict):
        items = [(str(k), t) for k, t in trajectories.items()]
        if labels is not None:
            raise ValueError("give `labels` only with a sequence of trajectories, not a mapping")
    else:
        trajs = list(trajectories)
        if labels is not None:
            labels = list(labels)
            if len(labels) != len(trajs):
                raise ValueError(f"`labels` must have one entry per trajectory ({len(trajs)}), got {len(labels)}")
        else:
            labels = [None] * len(trajs)
        items = [(label_of(t, lab) if isinstance(t, Trajectory) else lab, t) for lab, t in zip(labels, trajs)]
    for _, t in items:
        if not isinstance(t, Trajectory):
            raise ValueError(f"`{name}` must hold Trajectory objects, got {type(t).__name__}")
    return items
