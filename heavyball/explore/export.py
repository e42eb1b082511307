"""Server-side exports of the explorer: the current view as PNG, the trajectory as a GIF.

Both are drawn by matplotlib (Agg) with :mod:`heavyball.plotting` where it has
the figure, so a slide shows exactly what the library's own figures show.
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np

import heavyball as hb

from .compute import INTEGRATOR_METHODS


def _figure(**kw):
    """A matplotlib Figure on the Agg canvas, without pyplot (no global state; safe in a server thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def title(view):
    s = view.state
    if s.method in INTEGRATOR_METHODS and view.physical is not None:
        p = view.physical
        setting = f"{s.method}, m={p.mass:.4g}, gamma={p.friction:.4g}, h={p.step:.4g}"
    else:
        setting = f"{s.method}, lr={view.lr:.4g}, momentum={view.momentum:.4g}"
    rho = f", rho={view.radius:.4f}" if view.radius is not None else ""
    return f"{s.problem}: {setting}{rho} ({view.status})"


def figure(view):
    """A matplotlib Figure of the current view (trajectory, convergence, rate map, regime map)."""
    fig = _figure(figsize=(11, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    _trajectory(view, axes[0, 0])
    hb.plotting.convergence([view.run], labels=[view.state.method], problem=view.problem, ax=axes[0, 1])
    if view.rates is not None:
        hb.plotting.rate_heatmap(view.rates.result, ax=axes[1, 0])
        axes[1, 0].plot([view.lr], [view.momentum], "r*", markersize=14, label="this setting")
    else:
        axes[1, 0].set_axis_off()
    eig = view.eigenvalues
    if eig is not None and eig.size:
        hb.plotting.regime_map(eigenvalues=eig[:8], lr=view.lr, momentum=view.momentum, ax=axes[1, 1])
    else:
        axes[1, 1].set_axis_off()
    fig.suptitle(title(view))
    return fig


def _trajectory(view, ax):
    if view.problem.dim == 2:
        xlim, ylim = (view.contour["x"], view.contour["y"]) if view.contour else (None, None)
        hb.plotting.trajectories(view.problem, [view.run], labels=[view.state.method], xlim=xlim, ylim=ylim, ax=ax)
    else:
        ax.plot(view.run.x[:, 0], view.run.loss, ".-", label=view.state.method)
        ax.set_xlabel("x[0]")
        ax.set_ylabel("loss")
        ax.legend()
    return ax


def png_bytes(view, dpi=110):
    """The current view as PNG bytes."""
    buf = io.BytesIO()
    figure(view).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def gif_bytes(view, frames=40, fps=10, dpi=72):
    """The trajectory drawn step by step over the contour, as GIF bytes (matplotlib's PillowWriter)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig = _figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    x = view.run.x
    if view.problem.dim == 2:
        xlim, ylim = (view.contour["x"], view.contour["y"]) if view.contour else (None, None)
        hb.plotting.contour(view.problem, xlim=xlim, ylim=ylim, ax=ax)
        pts = x[:, :2]
    else:
        pts = np.column_stack([x[:, 0], view.run.loss])
        ax.set_xlabel("x[0]")
        ax.set_ylabel("loss")
        ax.set_xlim(*_lim(pts[:, 0]))
        ax.set_ylim(*_lim(pts[:, 1]))
    (line,) = ax.plot([], [], "r.-", lw=1, markersize=3)
    ax.set_title(title(view), fontsize=8)
    idx = np.unique(np.linspace(0, len(pts) - 1, min(frames, len(pts))).astype(int))

    def draw(i):
        line.set_data(pts[: idx[i] + 1, 0], pts[: idx[i] + 1, 1])
        return (line,)

    anim = FuncAnimation(fig, draw, frames=len(idx), blit=True)
    fd, path = tempfile.mkstemp(suffix=".gif")
    os.close(fd)
    try:
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        with open(path, "rb") as fh:
            data = fh.read()
    finally:
        os.unlink(path)
    return data


def _lim(a):
    a = a[np.isfinite(a)]
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
    pad = max(0.05 * (hi - lo), 1e-6)
    return lo - pad, hi + pad
