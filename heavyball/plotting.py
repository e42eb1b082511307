r"""Publication-quality figures of the damped particle and the optimisers it is.

Every function takes ``ax=None`` (a new figure is made when it is None),
draws on it, and returns the Axes; none calls ``show()`` or ``savefig``, so
the caller decides where the figure goes. Matplotlib is imported only when a
function is called: ``import heavyball`` and ``import heavyball.plotting``
do not import it.

Defaults follow the conventions of the field: axes labelled with their
symbols, a legend wherever more than one series is drawn, logarithmic axes
where errors and rates live, and colour maps (``viridis``, ``cividis``) that
are perceptually uniform and stay readable in greyscale. Each series also
differs by marker and line style, not by colour alone.

==================  ===========================================================
function            draws
==================  ===========================================================
``contour``         level sets of a 2-D loss (log-spaced by default)
``trajectories``    iterates of several runs over those contours
``phase_portrait``  ODE streamlines in ``(x_i, v_i)`` with discrete iterates on top
``convergence``     ``L(x_k) - L*`` or ``|x_k - x*|`` against ``k`` (log scale)
``rate_heatmap``    spectral radius over ``(lr, momentum)``: analytic or measured
``regime_map``      heavy-ball regimes of one mode over ``(lr lambda, beta)``
``floor_heatmap``   noise floor ``E[L] - L*`` over ``(lr, momentum)``, Pareto front on top
==================  ===========================================================
"""

from __future__ import annotations

import numpy as np

from . import _plotstyle as _s
from . import _validation as _v
from ._methods import SGD_METHODS
from .integrators import METHODS
from .system import DampedParticle

__all__ = ["contour", "trajectories", "phase_portrait", "convergence", "rate_heatmap", "regime_map",
           "floor_heatmap"]


# --------------------------------------------------------------------------- contour
def contour(problem, *, xlim=None, ylim=None, levels=15, resolution=201, scale="log", filled=False,
            cmap="viridis", colors=None, colorbar=False, minimizer=True, ax=None, contour_kw=None):
    r"""Level sets of a two-dimensional loss ``L(x_1, x_2)``.

    Parameters
    ----------
    problem : Problem
        A problem with ``dim = 2`` whose ``value`` broadcasts over ``(..., 2)``.
    xlim, ylim : (float, float), optional
        Plotted ranges; default ``x* +- 2`` (the origin when there is no minimiser).
    levels : int >= 2
        Number of contour levels.
    resolution : int >= 10
        Grid points per axis (a grid too big for memory, see
        :func:`heavyball._validation.size_limit`, raises a ValueError).
    scale : {"log", "linear"}
        Spacing of the levels above the grid minimum ``L_min``: ``"log"``
        (geometric, so the floor of a ravine and its walls both show) or ``"linear"``.
    filled : bool
        Filled contours (``contourf``) under thin lines.
    cmap : str
        Colour map of the levels (ignored when ``colors`` is given).
    colors : str, optional
        One colour for all lines (e.g. ``"0.7"`` under trajectories).
    colorbar : bool
        Add a colour bar labelled ``L(x)``.
    minimizer : bool
        Mark the problem's minimiser ``x*`` (if it has one) with a star.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.
    contour_kw : dict, optional
        Extra keywords for ``ax.contour`` (copied, never modified).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with the contour set(s) in ``ax.collections``
        and axis labels ``x_1``, ``x_2``.

    Raises
    ------
    ValueError
        For a problem with ``dim != 2``, ``levels < 2``, ``resolution < 10``,
        a grid beyond the size limit, or an unknown ``scale``.

    Notes
    -----
    With ``scale="log"`` the levels are ``L_min + geomspace(d, L_max - L_min, levels)``
    where ``d`` is the 0.5 % quantile of the positive values of ``L - L_min`` on the grid.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import plotting
    >>> ax = plotting.contour(hb.Rosenbrock(), xlim=(-2, 2), ylim=(-1, 3))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('$x_1$', '$x_2$')
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    _need_dim2(problem)
    xlim, ylim = _default_window(problem, xlim, ylim)
    levels = _v.integer("levels", levels, low=2)
    resolution = _v.integer("resolution", resolution, low=10)
    _v.check_size("resolution", resolution, 8 * resolution**2, "the grid (X, Y, the points and L on them)",
                  "lower `resolution`")
    _v.choice("scale", scale, ["log", "linear"])
    kw = _s.copy_kw("contour_kw", contour_kw)
    ax = _s.new_axes(ax)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(problem.value(np.stack([X, Y], axis=-1)), dtype=float)
    lv = _levels(Z, levels, scale)
    # Colour by level index, not value: log-spaced levels would otherwise share one colour.
    shades = _shades(cmap, len(lv))
    color_kw = dict(colors=colors if colors is not None else shades)
    if filled:
        cf = ax.contourf(X, Y, Z, levels=lv, colors=shades[:-1], extend="max")
        kw.setdefault("colors", "white" if colors is None else colors)
        kw.setdefault("linewidths", 0.4)
        ax.contour(X, Y, Z, levels=lv, **kw)
        mappable = cf
    else:
        kw.setdefault("linewidths", 0.8)
        mappable = ax.contour(X, Y, Z, levels=lv, **{**color_kw, **kw})
    if colorbar:
        cb = ax.figure.colorbar(mappable, ax=ax)
        cb.set_label(r"$L(x)$")
    if minimizer and getattr(problem, "minimizer", None) is not None:
        xm = np.asarray(problem.minimizer, dtype=float)
        ax.plot([xm[0]], [xm[1]], marker="*", color="black", markersize=11, linestyle="none",
                label=r"minimiser $x^*$", zorder=5)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(r"$x_1$")
    ax.set_ylabel(r"$x_2$")
    return ax


_contour = contour  # `trajectories` has a keyword of the same name


def _need_dim2(problem):
    if getattr(problem, "dim", None) != 2:
        raise ValueError(f"`problem` must be two-dimensional for a contour plot, got dim = "
                         f"{getattr(problem, 'dim', None)!r}")


def _default_window(problem, xlim, ylim):
    centre = np.zeros(2) if getattr(problem, "minimizer", None) is None else np.asarray(problem.minimizer, float)
    xlim = (centre[0] - 2.0, centre[0] + 2.0) if xlim is None else _s.limits("xlim", xlim)
    ylim = (centre[1] - 2.0, centre[1] + 2.0) if ylim is None else _s.limits("ylim", ylim)
    return xlim, ylim


def _shades(cmap, n):
    """``n`` colours of ``cmap`` by index, without its palest 15 % (invisible on white)."""
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    return [cm(f) for f in np.linspace(0.0, 0.85, n)]


def _levels(Z, n, scale):
    finite = Z[np.isfinite(Z)]
    zmin, zmax = float(finite.min()), float(finite.max())
    if zmax <= zmin:
        raise ValueError("the loss is constant on the plotted window; widen `xlim`/`ylim`")
    if scale == "linear":
        return np.linspace(zmin, zmax, n + 2)[1:-1]
    above = finite - zmin
    low = float(np.quantile(above[above > 0], 0.005))
    return zmin + np.geomspace(low, zmax - zmin, n)


# ----------------------------------------------------------------------- trajectories
def trajectories(problem, trajectories, *, labels=None, xlim=None, ylim=None, levels=15, contour=True,
                 markevery=None, start=True, minimizer=True, legend=True, ax=None, line_kw=None,
                 equal_scale=False):
    r"""Paths of several runs over the contours of a two-dimensional loss.

    Parameters
    ----------
    problem : Problem
        Two-dimensional problem (its contours are drawn underneath).
    trajectories : Trajectory, sequence of Trajectory, or dict
        The runs; a dict maps legend labels to trajectories. A reference
        trajectory (``step`` None, from :func:`~heavyball.solve_reference`) is
        drawn as a plain curve; discrete runs get a marker on their iterates.
    labels : sequence of str, optional
        Legend labels (default: the method names).
    xlim, ylim : (float, float), optional
        Plotted ranges; default the extent of all paths plus a margin.
    levels : int
        Number of (log-spaced) contour levels.
    contour : bool
        Draw the contours (grey, so the paths stand out).
    markevery : int, optional
        Mark every ``markevery``-th iterate (default: about 40 marks per path).
    start, minimizer : bool
        Mark the starting point(s) and the minimiser.
    legend : bool
        Add a legend (when more than one series is drawn).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.
    line_kw : dict, optional
        Extra keywords for every path's ``ax.plot`` (copied).
    equal_scale : bool
        One unit the same length on both axes (``set_aspect("equal")``): the
        shorter side of the window is widened about its centre to the shape
        of the Axes (read after a layout pass), so an ill-conditioned
        quadratic's level sets keep their true shape.

    Returns
    -------
    matplotlib.axes.Axes
        One ``Line2D`` per trajectory, labelled; a diverged run's label says so.

    Raises
    ------
    ValueError
        For a problem or a trajectory whose dimension is not 2, or labels that
        do not match the trajectories.

    Notes
    -----
    Each path is the polyline through the recorded iterates ``x_k``; nothing
    is interpolated or resampled. The contours are those of :func:`contour`
    (log-spaced levels) over the plotted window.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import plotting
    >>> ravine = hb.Quadratic.diagonal([200.0, 2.0])      # L = 100 x^2 + y^2
    >>> runs = {"GD": hb.optimize(ravine, hb.GD(0.004), [1.0, 1.0], n_steps=100),
    ...         "heavy ball": hb.optimize(ravine, hb.SGD(0.004, 0.8), [1.0, 1.0], n_steps=100)}
    >>> ax = plotting.trajectories(ravine, runs)
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['GD', 'heavy ball']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    _need_dim2(problem)
    items = _s.as_labelled("trajectories", trajectories, labels)
    kw = _s.copy_kw("line_kw", line_kw)
    for label, t in items:
        if t.x.shape[1] != 2:
            raise ValueError(f"trajectory {label!r} has dim {t.x.shape[1]}, the problem has 2")
    if xlim is None or ylim is None:
        pts = np.concatenate([t.x for _, t in items] +
                             ([np.asarray(problem.minimizer, float)[None]] if problem.minimizer is not None else []))
        xlim = _s.padded_range(pts[:, 0]) if xlim is None else xlim
        ylim = _s.padded_range(pts[:, 1]) if ylim is None else ylim
    ax = _s.new_axes(ax)
    if equal_scale:
        xlim, ylim = _s.equal_scale_window(ax, xlim, ylim)
        ax.set_aspect("equal", adjustable="box")
    if contour:
        _contour(problem, xlim=xlim, ylim=ylim, levels=levels, colors="0.72",
                             minimizer=False, ax=ax)
    for i, (label, t) in enumerate(items):
        st = _s.style(i)
        every = markevery if markevery is not None else max(1, len(t.x) // 40)
        line = dict(color=st["color"], linestyle=st["linestyle"], linewidth=1.3,
                    marker=None if t.step is None else st["marker"], markersize=3.5, markevery=every)
        line.update(kw)
        ax.plot(t.x[:, 0], t.x[:, 1], label=label + ("" if t.success else " (diverged)"), **line)
    if start:
        x0 = np.unique(np.array([t.x[0] for _, t in items]), axis=0)
        ax.plot(x0[:, 0], x0[:, 1], marker="o", markerfacecolor="white", markeredgecolor="black",
                markersize=7, linestyle="none", label="start $x_0$", zorder=6)
    if minimizer and problem.minimizer is not None:
        ax.plot([problem.minimizer[0]], [problem.minimizer[1]], marker="*", color="black",
                markersize=11, linestyle="none", label=r"minimiser $x^*$", zorder=6)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(r"$x_1$")
    ax.set_ylabel(r"$x_2$")
    if legend:
        _legend(ax)
    return ax


def _legend(ax, extra=(), **kw):
    handles, labels = ax.get_legend_handles_labels()
    handles, labels = handles + list(extra), labels + [h.get_label() for h in extra]
    if len(handles) > 1:
        ax.legend(handles, labels, fontsize="small", framealpha=0.9, **kw)


# --------------------------------------------------------------------- phase portrait
def phase_portrait(system, *, coordinate=0, trajectories=(), labels=None, xlim=None, vlim=None,
                   point=None, t=0.0, density=1.0, resolution=41, legend=True, ax=None, stream_kw=None):
    r"""The ODE's flow in the ``(x_i, v_i)`` plane with discrete iterates over it.

    Streamlines show the continuous flow of ``m x'' = -grad L(x) - gamma x'``
    for one coordinate ``i``; each integrator's iterates ``(x_k, v_k)`` are
    drawn on top, so the gap between the ODE and its discretisation is seen.

    Parameters
    ----------
    system : DampedParticle
        With ``mass > 0`` (gradient flow has no velocity).
    coordinate : int
        The coordinate ``i`` whose phase plane is drawn.
    trajectories : Trajectory, sequence or dict
        Runs of :func:`~heavyball.integrate` (physical ``v``) or
        :func:`~heavyball.solve_reference` (drawn as a solid curve). A run of
        :func:`~heavyball.optimize` records the optimiser's state, not the
        velocity, and is refused: convert it with
        :func:`heavyball.maps.physical_run` (``mass=system.mass``).
    labels : sequence of str, optional
        Legend labels (default: the method names).
    xlim, vlim : (float, float), optional
        Plotted ranges; default the extent of the runs (or ``x*_i +- 2``).
    point : array_like, shape (dim,), optional
        Where the other coordinates are held for the streamlines (default the
        minimiser, else the origin). For a separable loss (a diagonal
        quadratic) the streamlines are then exactly the coordinate's flow.
    t : float
        Time at which a time-dependent friction is frozen for the streamlines.
    density : float
        ``streamplot`` density.
    resolution : int
        Grid points per axis of the vector field.
    legend : bool
        Add a legend.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.
    stream_kw : dict, optional
        Extra keywords for ``ax.streamplot`` (copied).

    Returns
    -------
    matplotlib.axes.Axes
        One labelled ``Line2D`` per trajectory plus a legend proxy for the flow.

    Raises
    ------
    ValueError
        For a ``system`` that is not a :class:`~heavyball.DampedParticle` or
        has ``mass = 0``, a ``coordinate`` out of range, or a trajectory that
        is an optimiser run or lacks a velocity.

    Notes
    -----
    The field drawn is ``x_i' = v_i``, ``v_i' = (-dL/dx_i(p) - gamma(t) v_i) / m``
    with ``p = point`` except ``p_i = x_i``. For symplectic Euler and its
    relatives ``v_k`` is the velocity that carried ``x_{k-1}`` to ``x_k``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import plotting
    >>> sys = hb.DampedParticle(hb.Quadratic.diagonal([1.0]), mass=1.0, friction=0.3)
    >>> run = hb.integrate(sys, [1.5], method="symplectic_euler", step=0.5, n_steps=40)
    >>> ax = plotting.phase_portrait(sys, trajectories=[run], density=0.3)  # sparse streamlines: quick
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('$x$', '$v = \\dot x$')
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    if not isinstance(system, DampedParticle):
        raise ValueError(f"`system` must be a DampedParticle, got {type(system).__name__}")
    if system.mass == 0.0:
        raise ValueError("`system` must have mass > 0: gradient flow (mass 0) has no velocity, "
                         "so it has no (x, v) phase plane")
    dim = system.dim
    i = _v.integer("coordinate", coordinate, low=0)
    if i >= dim:
        raise ValueError(f"`coordinate` must be in [0, {dim - 1}], got {coordinate!r}")
    items = _s.as_labelled("trajectories", trajectories, labels)
    for label, tr in items:
        if tr.step is not None and tr.method not in METHODS:
            raise ValueError(
                f"trajectory {label!r} is a run of optimize ({tr.method}): its v is the optimiser's state "
                "(PyTorch's momentum buffer, in gradient units and of the opposite sign), not the velocity; "
                f"convert it first with heavyball.maps.physical_run(run, optimizer, mass={system.mass:g})")
        if tr.v is None or tr.x.shape[1] != dim:
            raise ValueError(f"trajectory {label!r} needs a velocity and dim {dim} "
                             "(a run of integrate or solve_reference on this system)")
    base = _base_point(system.problem, point, dim)
    xlim, vlim = _phase_window(items, i, base, xlim, vlim)
    kw = _s.copy_kw("stream_kw", stream_kw)
    ax = _s.new_axes(ax)
    xs, vs = np.linspace(*xlim, resolution), np.linspace(*vlim, resolution)
    X, V = np.meshgrid(xs, vs)
    U, A = _phase_field(system, i, base, X, V, _v.real("t", t))
    gamma = float(system.friction_at(t))
    flow_color = "#8a9bb0"
    kw.setdefault("color", flow_color)
    kw.setdefault("linewidth", 0.7)
    kw.setdefault("arrowsize", 0.8)
    before = set(ax.patches)
    stream = ax.streamplot(X, V, U, A, density=_v.real("density", density, low=0.0, low_open=True), **kw)
    for artist in [stream.lines] + [p for p in ax.patches if p not in before]:
        artist.set_in_layout(False)  # clipped to the Axes; a layout would split every arrow's path (measured)
        if hasattr(artist, "shrinkA"):  # each arrow ends on its streamline: no Bezier split per draw
            artist.shrinkA = artist.shrinkB = 0.0
    ax.plot([], [], color=kw["color"], linewidth=1.0,
            label=f"ODE flow ($m$ = {system.mass:g}, $\\gamma$ = {_gamma_text(system, gamma)})")
    _draw_phase_runs(ax, items, i)
    if system.problem.minimizer is not None:
        ax.plot([system.problem.minimizer[i]], [0.0], marker="*", color="black", markersize=11,
                linestyle="none", label="rest at $x^*$", zorder=6)
    ax.set_xlim(xlim)
    ax.set_ylim(vlim)
    sub = "" if dim == 1 else f"_{{{i + 1}}}"
    ax.set_xlabel(f"$x{sub}$")
    ax.set_ylabel(f"$v{sub} = \\dot x{sub}$")
    if legend:
        _legend(ax, loc=_quiet_corner(ax))  # not "best": it weighs every streamline arrow (slow)
    return ax


def _quiet_corner(ax, width=0.45, height=0.4):
    """The legend location code (1-4) of the corner box holding the fewest points of ``ax``'s lines.

    Matplotlib's ``loc="best"`` weighs every artist, including each of the
    hundreds of arrows of a streamplot (a Bezier split per arrow, per draw):
    it made a three-panel phase portrait take 2.0 s to save instead of 1.25 s
    (measured, docs/performance.md). Here only the lines count (trajectories
    and markers, in axes coordinates); ties go in matplotlib's order: upper
    right, upper left, lower left, lower right.
    """
    to_axes = ax.transScale + ax.transLimits
    points = [_along(to_axes.transform(line.get_xydata())) for line in ax.lines if len(line.get_xydata())]
    uv = np.concatenate(points) if points else np.empty((0, 2))
    boxes = {1: (1.0 - width, 1.0 - height), 2: (0.0, 1.0 - height), 3: (0.0, 0.0), 4: (1.0 - width, 0.0)}
    inside = {code: int(np.count_nonzero((uv[:, 0] >= u) & (uv[:, 0] <= u + width)
                                         & (uv[:, 1] >= w) & (uv[:, 1] <= w + height)))
              for code, (u, w) in boxes.items()}
    return min(inside, key=inside.get)  # the first of the emptiest, in dict order


def _along(uv, per_segment=8, most=20_000):
    """The vertices ``uv`` of a polyline with ``per_segment - 1`` points added on each segment.

    So a segment that crosses a corner box counts there, not only its ends
    (a line of over ``most`` vertices is dense enough as it is).
    """
    if len(uv) < 2 or len(uv) > most:
        return uv
    t = np.arange(per_segment)[None, :, None] / per_segment
    inner = uv[:-1, None, :] + t * (uv[1:] - uv[:-1])[:, None, :]
    return np.concatenate([inner.reshape(-1, 2), uv[-1:]])


def _phase_field(system, i, base, X, V, t):
    """``(x_i', v_i')`` on the grid ``(X, V)``, other coordinates held at ``base``."""
    P = np.broadcast_to(base, X.shape + (system.dim,)).copy()
    P[..., i] = X
    gamma = float(system.friction_at(t))
    with np.errstate(all="ignore"):
        G = np.asarray(system.problem.grad(P), dtype=float)[..., i]
    return V, (-G - gamma * V) / system.mass


def _gamma_text(system, gamma):
    return f"{gamma:g}" if not system.time_dependent else f"{gamma:g} at t"


def _base_point(problem, point, dim):
    if point is not None:
        return _v.vector("point", point, dim)
    if getattr(problem, "minimizer", None) is not None:
        return np.asarray(problem.minimizer, dtype=float)
    return np.zeros(dim)


def _phase_window(items, i, base, xlim, vlim):
    if items:
        xs = np.concatenate([tr.x[:, i] for _, tr in items] + [[base[i]]])
        vs = np.concatenate([tr.v[:, i] for _, tr in items] + [[0.0]])
        dx, dv = _s.padded_range(xs), _s.padded_range(vs)
    else:
        dx, dv = (base[i] - 2.0, base[i] + 2.0), (-2.0, 2.0)
    xlim = dx if xlim is None else _s.limits("xlim", xlim)
    vlim = dv if vlim is None else _s.limits("vlim", vlim)
    return xlim, vlim


def _draw_phase_runs(ax, items, i):
    k = 0
    for label, tr in items:
        if tr.step is None:  # the continuous reference: a plain curve
            ax.plot(tr.x[:, i], tr.v[:, i], color="black", linewidth=1.6, label=label, zorder=4)
            continue
        st = _s.style(k)
        k += 1
        ax.plot(tr.x[:, i], tr.v[:, i], color=st["color"], marker=st["marker"], markersize=4,
                linestyle=st["linestyle"], linewidth=0.9, label=label + ("" if tr.success else " (diverged)"),
                zorder=5)


# ------------------------------------------------------------------------ convergence
_QUANTITIES = ("loss", "distance", "grad_norm")


def convergence(trajectories, *, labels=None, quantity="loss", problem=None, min_value=None, minimizer=None,
                xaxis="step", rates=None, legend=True, ax=None, line_kw=None):
    r"""Error against iteration (or time) on a logarithmic axis.

    Parameters
    ----------
    trajectories : Trajectory, sequence or dict
        The runs; a dict maps legend labels to trajectories.
    labels : sequence of str, optional
        Legend labels (default: the method names).
    quantity : {"loss", "distance", "grad_norm"}
        ``"loss"``: ``L(x_k) - L*``; ``"distance"``: ``|x_k - x*|``;
        ``"grad_norm"``: ``|grad L(x_k)|`` (needs ``problem``).
    problem : Problem, optional
        Supplies ``L*`` (``min_value``), ``x*`` (``minimizer``) and the gradient.
    min_value, minimizer : optional
        Override the problem's ``L*`` / ``x*``. Without ``L*`` the raw loss is
        drawn if it is positive; if any recorded loss is ``<= 0`` (a log axis
        cannot show it), ``L(x_k) - min L`` is drawn instead, with ``min L``
        the smallest recorded loss of all the runs, and the axis label says so
        (the points at that minimum are zero and not drawn).
    xaxis : {"step", "time"}
        Step index ``k`` (discrete runs only) or time ``t``.
    rates : sequence of float or None, optional
        One analytic contraction factor ``rho`` per trajectory (None to skip):
        a dotted guide ``e_0 rho^k`` (``rho^(2k)`` for the loss, which is
        quadratic in the error) in the trajectory's colour.
    legend : bool
        Add a legend.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.
    line_kw : dict, optional
        Extra keywords for every curve (copied).

    Returns
    -------
    matplotlib.axes.Axes
        One labelled ``Line2D`` per trajectory, then one per guide. Non-positive
        values (an exact zero, or ``L(x_k) - L*`` below zero by rounding) are
        left out of the log-scale curve.

    Raises
    ------
    ValueError
        If a recorded loss is below ``L*`` by more than rounding (``min_value``
        wrong for this problem), ``"distance"`` without a minimiser,
        ``"grad_norm"`` without ``problem``, ``xaxis="step"`` for a
        continuous run, or ``rates`` of the wrong length.

    Notes
    -----
    The curves are ``e_k = L(x_k) - L*``, ``|x_k - x*|`` or
    ``|grad L(x_k)|`` against ``k = (t_k - t_0)/h`` (or ``t_k``), with
    ``e_k <= 0`` left out. A guide for rate ``rho`` is ``e_0 rho^k``
    (``e_0 rho^(2k)`` for the loss): a run converging at the spectral radius
    runs parallel to it.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball import plotting
    >>> q = hb.Quadratic.from_condition_number(100)
    >>> run = hb.optimize(q, hb.SGD(4 / 121, 81 / 121), [1.0, 1.0], n_steps=100)
    >>> ax = plotting.convergence([run], quantity="distance", problem=q, rates=[9 / 11])
    >>> ax.get_yscale(), len(ax.get_lines())
    ('log', 2)
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    items = _s.as_labelled("trajectories", trajectories, labels)
    _v.choice("quantity", quantity, list(_QUANTITIES))
    _v.choice("xaxis", xaxis, ["step", "time"])
    kw = _s.copy_kw("line_kw", line_kw)
    rates = _rates(rates, len(items))
    lstar, shifted = _loss_reference(items, problem, min_value) if quantity == "loss" else (None, False)
    ax = _s.new_axes(ax)
    for i, (label, tr) in enumerate(items):
        x = _abscissa(tr, xaxis, label)
        y = _error(tr, quantity, problem, lstar, minimizer)
        y = np.where(y > 0, y, np.nan)
        st = _s.style(i)
        line = dict(color=st["color"], linestyle=st["linestyle"], linewidth=1.5)
        if len(x) <= 60 and tr.step is not None:
            line.update(marker=st["marker"], markersize=3)
        line.update(kw)
        ax.plot(x, y, label=label + ("" if tr.success else " (diverged)"), **line)
    for i, ((label, tr), rho) in enumerate(zip(items, rates)):
        if rho is None:
            continue
        x = _abscissa(tr, xaxis, label)
        y = _error(tr, quantity, problem, lstar, minimizer)
        power = 2.0 if quantity == "loss" else 1.0
        k = x if xaxis == "step" else (tr.t - tr.t[0]) / tr.step
        ax.plot(x, y[0] * rho ** (power * k), color=_s.style(i)["color"], linestyle=(0, (2, 2)),
                linewidth=1.0, alpha=0.8, label=f"$\\rho^{{{'2k' if power == 2 else 'k'}}}$, $\\rho$ = {rho:.4g}")
    ax.set_yscale("log")
    ax.set_xlabel("step $k$" if xaxis == "step" else "time $t$")
    sub = "k" if xaxis == "step" else "t"
    names = {"loss": f"$L(x_{sub}) - L^*$", "distance": f"$\\|x_{sub} - x^*\\|$",
             "grad_norm": f"$\\|\\nabla L(x_{sub})\\|$"}
    ylabel = names[quantity]
    if quantity == "loss" and lstar is None:
        ylabel = f"$L(x_{sub})$"
    elif shifted:
        ylabel = f"$L(x_{sub}) - \\min L$ (smallest recorded loss)"
    ax.set_ylabel(ylabel)
    if legend:
        _legend(ax)
    return ax


def _rates(rates, n):
    if rates is None:
        return [None] * n
    rates = list(rates)
    if len(rates) != n:
        raise ValueError(f"`rates` must have one entry per trajectory ({n}), got {len(rates)}")
    return [None if r is None else _v.real("rates[i]", r, low=0.0, low_open=True) for r in rates]


def _abscissa(tr, xaxis, label):
    if xaxis == "time":
        return tr.t
    if tr.step is None:
        raise ValueError(f"trajectory {label!r} is continuous (step None); use xaxis='time'")
    return np.rint((tr.t - tr.t[0]) / tr.step)


def _min_value(problem, min_value):
    if min_value is not None:
        return _v.real("min_value", min_value)
    return None if problem is None else getattr(problem, "min_value", None)


def _loss_reference(items, problem, min_value):
    """``(L*, shifted)``: the known minimum, else the smallest recorded loss when some loss is <= 0."""
    lstar = _min_value(problem, min_value)
    losses = [tr.loss for _, tr in items if len(tr.loss)]
    if lstar is not None:
        for label, tr in items:
            scale = np.max(np.abs(tr.loss), initial=abs(lstar)) + 1.0
            if np.any(tr.loss - lstar < -1e-9 * scale):
                raise ValueError(f"trajectory {label!r} has a loss of {np.min(tr.loss):.6g}, below the minimum "
                                 f"value L* = {lstar:.6g}: pass the right `min_value` (or problem)")
        return lstar, False
    if losses and min(np.min(loss) for loss in losses) <= 0.0:
        return float(min(np.min(loss) for loss in losses)), True
    return None, False


def _error(tr, quantity, problem, lstar, minimizer):
    if quantity == "loss":
        return tr.loss - (0.0 if lstar is None else lstar)
    if quantity == "distance":
        xstar = minimizer if minimizer is not None else getattr(problem, "minimizer", None)
        if xstar is None:
            raise ValueError("quantity 'distance' needs `minimizer` or a `problem` with a minimiser")
        return np.linalg.norm(tr.x - _v.vector("minimizer", xstar, tr.x.shape[1]), axis=1)
    if problem is None:
        raise ValueError("quantity 'grad_norm' needs `problem`")
    return np.linalg.norm(problem.grad(tr.x), axis=1)


# ----------------------------------------------------------------------- rate heat-map
_RATE_METHODS = SGD_METHODS


def rate_heatmap(result=None, *, eigenvalues=None, lrs=None, momenta=None, method=None, vmin=None, vmax=None,
                 scale="log", cmap="viridis_r", optimum=True, colorbar=True, legend=True, ax=None, mesh_kw=None,
                 field="rate"):
    r"""Contraction rate over a ``(lr, momentum)`` grid: analytic, or measured by a sweep.

    Analytic (``result`` None): the spectral radius of ``method`` on a
    quadratic with the given ``eigenvalues``, from
    :func:`heavyball.spectral.spectral_radius`. Measured: the ``rate`` of a
    :class:`~heavyball.SweepResult` (the mean contraction per step of every
    simulated grid point). Both use the same colour scale ``[vmin, vmax]``,
    so two panels side by side compare directly. Rates live near 1, so by
    default the colour is logarithmic in ``1 - rho`` (ticks at 0.9, 0.99,
    0.999: one more decade of steps per tick); rates above ``vmax`` get the
    top colour and rates ``>= 1`` (divergence) are light grey.

    Parameters
    ----------
    result : SweepResult, optional
        A sweep; its ``lrs``, ``momenta`` and ``rate`` are drawn.
    eigenvalues : float or array_like, optional
        The quadratic's Hessian eigenvalues (an object with ``eigenvalues``,
        such as a :class:`~heavyball.Quadratic`, also works). Needed for the
        analytic map; with a sweep, used only to mark the analytic optimum.
    lrs, momenta : array_like, optional
        Grid of the analytic map (ignored with ``result``). A log-spaced
        ``lrs`` gets a logarithmic axis.
    method : {"gd", "heavy_ball", "nesterov"}, optional
        Default ``"heavy_ball"``, or the sweep's method.
    vmin, vmax : float, optional
        Colour-scale limits in ``rho`` (``0 <= vmin < vmax < 1`` for the log
        scale). Default: ``vmin = 0`` and ``vmax`` the first of 0.999,
        0.9999, 0.99999 at or above every rate below 1 that is drawn. For
        ``field="steps_to_tol"`` or ``"final_loss"`` the limits are in those
        units, and default to the range of the values drawn.
    scale : {"log", "linear"}
        ``"log"``: colour by ``-log10(1 - rho)``; ``"linear"``: by ``rho``.
    cmap : str
        Perceptually uniform colour map (default ``"viridis_r"``: fast is
        bright, slow is dark, next to the grey of divergence).
    optimum : bool
        Mark :func:`heavyball.spectral.optimal_parameters` for ``[mu, L]``
        (needs the eigenvalues) with a star; a sweep also gets its best grid
        point as a hollow circle.
    colorbar : bool
        Add a colour bar.
    legend : bool
        Add a legend (optimum markers, divergent patch).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.
    mesh_kw : dict, optional
        Extra keywords for ``ax.pcolormesh`` (copied).
    field : {"rate", "steps_to_tol", "final_loss"}
        What to draw of a sweep (the analytic map has only ``"rate"``):
        ``steps_to_tol`` on a linear scale (points that never reached the
        tolerance, or diverged, are grey), ``final_loss`` on a logarithmic
        scale (diverged points grey; a loss of 0 gets the bottom colour).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` is the ``QuadMesh`` whose array is the drawn grid
        (shape ``(len(momenta), len(lrs))``; for the rate, masked where ``>= 1``
        or not finite).

    Raises
    ------
    ValueError
        For an analytic map without ``eigenvalues``, ``lrs`` and ``momenta``,
        a ``field`` other than ``"rate"`` without a sweep, an unknown
        ``method``, ``scale`` or ``field``, or colour limits out of range.

    Notes
    -----
    The analytic value at ``(lr, beta)`` is
    ``rho = max_i max |s|`` over the roots of each mode's polynomial (heavy
    ball ``s^2 - (1 + beta - lr lambda_i) s + beta``), as computed by
    :func:`heavyball.spectral.spectral_radius`. With ``scale="log"`` the
    colour is ``-log10(1 - rho)`` of ``rho`` clipped to ``[vmin, vmax]``
    (``rho`` itself with ``scale="linear"``); ``rho >= 1`` is masked.

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import plotting
    >>> ax = plotting.rate_heatmap(eigenvalues=[1.0, 100.0], lrs=np.geomspace(1e-3, 0.1, 12),
    ...                            momenta=np.linspace(0, 0.99, 12))
    >>> ax.get_xscale(), ax.collections[0].get_clim()
    ('log', (0.0, 0.999))
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    from . import spectral

    _v.choice("scale", scale, ["log", "linear"])
    _v.choice("field", field, list(_FIELDS))
    if field != "rate":
        if result is None:
            raise ValueError(f"`field` {field!r} needs a SweepResult; the analytic map draws only the rate")
        return _field_heatmap(result, field, vmin, vmax, cmap, colorbar, ax, mesh_kw)
    lam = _eigen_arg(eigenvalues)
    if result is None:
        if lam is None or lrs is None or momenta is None:
            raise ValueError("the analytic rate map needs `eigenvalues`, `lrs` and `momenta` (or pass a SweepResult)")
        method = _v.choice("method", "heavy_ball" if method is None else method, list(_RATE_METHODS))
        lrs, momenta = _grid_axis("lrs", lrs, positive=True), _grid_axis("momenta", momenta)
        rate = np.array([[spectral.spectral_radius(lam, lr, b, method) for lr in lrs] for b in momenta])
        label = r"spectral radius $\rho$ (analytic)"
    else:
        for attr in ("lrs", "momenta", "rate"):
            if not hasattr(result, attr):
                raise ValueError(f"`result` must be a SweepResult (with lrs, momenta, rate); missing `{attr}`")
        lrs, momenta = np.asarray(result.lrs, float), np.asarray(result.momenta, float)
        rate = np.asarray(result.rate, dtype=float)
        method = _v.choice("method", method or getattr(result, "method", "heavy_ball"), list(_RATE_METHODS))
        label = r"measured rate $\rho$ (simulated)"
    if rate.shape != (len(momenta), len(lrs)):
        raise ValueError(f"the rate grid must have shape (len(momenta), len(lrs)) = {(len(momenta), len(lrs))}, "
                         f"got {rate.shape}")
    vmin = _v.real("vmin", 0.0 if vmin is None else vmin, low=0.0)
    vmax = _v.real("vmax", _auto_rate_top(rate, vmin) if vmax is None else vmax, low=vmin, low_open=True,
                   high=1.0, high_open=scale == "log")
    kw = _s.copy_kw("mesh_kw", mesh_kw)
    ax = _s.new_axes(ax, figsize=(5.4, 4.2))
    mesh = _draw_rate_mesh(ax, lrs, momenta, rate, vmin, vmax, scale, cmap, kw)
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax)
        cb.set_label(label)
        if scale == "log":
            ticks = [t for t in (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999) if vmin <= t <= vmax]
            cb.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    extra = []
    if np.any(~(rate < 1.0)):
        from matplotlib.patches import Patch

        extra.append(Patch(facecolor=_DIVERGENT, edgecolor="0.5", label=r"divergent ($\rho \geq 1$)"))
    if optimum:
        _mark_optima(ax, spectral, lam, method, result, lrs, momenta, rate)
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(r"momentum $\beta$")
    if legend:
        _legend(ax, extra, loc="lower left")
    return ax


_FIELDS = {"rate": None, "steps_to_tol": "steps to tolerance (simulated)",
           "final_loss": r"final loss $L(x_n)$ (simulated)"}


def _auto_rate_top(rate, vmin):
    """The first of 0.999, 0.9999, 0.99999 at or above every drawn rate below 1."""
    with np.errstate(invalid="ignore"):
        drawn = rate[np.isfinite(rate) & (rate < 1.0)]
    top = float(drawn.max()) if drawn.size else 0.0
    return next((t for t in (0.999, 0.9999, 0.99999) if t >= top and t > vmin), 0.99999)


def _field_heatmap(result, field, vmin, vmax, cmap, colorbar, ax, mesh_kw):
    """``steps_to_tol`` (linear colours) or ``final_loss`` (log colours) of a sweep; grey where not drawn."""
    import matplotlib
    from matplotlib.colors import LogNorm, Normalize

    lrs, momenta = np.asarray(result.lrs, float), np.asarray(result.momenta, float)
    values = np.asarray(getattr(result, field), dtype=float)
    if values.shape != (len(momenta), len(lrs)):
        raise ValueError(f"`{field}` must have shape (len(momenta), len(lrs)) = {(len(momenta), len(lrs))}, "
                         f"got {values.shape}; select the grid axes of a labelled result with sel() first")
    bad = np.asarray(result.diverged, bool) | ~np.isfinite(values) | (values < 0)
    shown = np.ma.masked_array(values, mask=bad)
    good = values[~bad]
    log = field == "final_loss" and np.any(good > 0)
    low = (good[good > 0].min() if log else good.min()) if good.size else 1.0
    high = good.max() if good.size else 1.0
    vmin = _v.real("vmin", low if vmin is None else vmin, low=0.0, low_open=log)
    vmax = _v.real("vmax", max(high, vmin * 10.0 if log else vmin + 1.0) if vmax is None else vmax, low=vmin,
                   low_open=True)
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=True) if log else Normalize(vmin=vmin, vmax=vmax, clip=True)
    kw = _s.copy_kw("mesh_kw", mesh_kw)
    kw.setdefault("shading", "flat")
    ax = _s.new_axes(ax, figsize=(5.4, 4.2))
    cm = matplotlib.colormaps[cmap].with_extremes(bad=_DIVERGENT)
    geometric = _s.is_geometric(lrs)
    mesh = ax.pcolormesh(_s.cell_edges(lrs, geometric), _s.cell_edges(momenta, False), shown, cmap=cm, norm=norm,
                         **kw)
    if geometric:
        ax.set_xscale("log")
    if colorbar:
        label = _FIELDS[field] + (f", tol = {result.tol:g}" if field == "steps_to_tol" else "")
        ax.figure.colorbar(mesh, ax=ax).set_label(label)
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(r"momentum $\beta$")
    return ax


def _eigen_arg(eigenvalues):
    if eigenvalues is None:
        return None
    if hasattr(eigenvalues, "eigenvalues"):
        eigenvalues = eigenvalues.eigenvalues
    return _v.vector("eigenvalues", np.atleast_1d(np.asarray(eigenvalues, dtype=float)))


def _grid_axis(name, values, positive=False):
    arr = _v.vector(name, np.atleast_1d(np.asarray(values, dtype=float)))
    if arr.size == 0 or np.any(np.diff(arr) <= 0) or (positive and arr[0] <= 0):
        raise ValueError(f"`{name}` must be strictly increasing{' and positive' if positive else ''}, got {values!r}")
    return arr


_DIVERGENT = "0.86"


def _draw_rate_mesh(ax, lrs, momenta, rate, vmin, vmax, scale, cmap, kw):
    import matplotlib
    from matplotlib.colors import FuncNorm

    log = _s.is_geometric(lrs)
    cm = matplotlib.colormaps[cmap].with_extremes(bad=_DIVERGENT)
    with np.errstate(invalid="ignore"):
        shown = np.ma.masked_invalid(np.where(rate >= 1.0, np.nan, np.clip(rate, vmin, vmax)))
    if scale == "log":
        norm = FuncNorm((lambda r: -np.log10(1.0 - r), lambda y: 1.0 - 10.0 ** (-y)), vmin=vmin, vmax=vmax)
    else:
        norm = matplotlib.colors.Normalize(vmin=vmin, vmax=vmax)
    kw.setdefault("shading", "flat")
    mesh = ax.pcolormesh(_s.cell_edges(lrs, log), _s.cell_edges(momenta, False), shown, cmap=cm, norm=norm, **kw)
    if log:
        ax.set_xscale("log")
    return mesh


def _mark_optima(ax, spectral, lam, method, result, lrs, momenta, rate):
    if lam is not None and lam.min() > 0:
        lr, beta, rho = spectral.optimal_parameters(float(lam.min()), float(lam.max()), method)
        ax.plot([lr], [beta], marker="*", markersize=14, color="white", markeredgecolor="black",
                linestyle="none", label=f"optimum: $\\rho$ = {rho:.4g}", zorder=5)
    if result is not None:
        finite = np.where(np.isfinite(rate), rate, np.inf)
        if np.isfinite(finite).any():
            i, j = np.unravel_index(np.argmin(finite), finite.shape)
            best = result.best() if hasattr(result, "best") and hasattr(result, "steps_to_tol") else None
            if best is not None:  # SweepResult.best: fewest steps to tolerance, then the rate
                i, j = int(np.flatnonzero(momenta == best[1])[0]), int(np.flatnonzero(lrs == best[0])[0])
            ax.plot([lrs[j]], [momenta[i]], marker="o", markersize=9, markerfacecolor="none",
                    markeredgecolor="white", markeredgewidth=1.8, linestyle="none",
                    label=f"best simulated: $\\rho$ = {finite[i, j]:.4g}", zorder=5)


# ------------------------------------------------------------------------ regime map
_REGIME_COLORS = ("#fde725", "#21918c", "#3b528b", "0.88")  # viridis light -> dark; divergent grey


def regime_map(*, lr_lambda=(0.0, 4.2), momenta=(0.0, 1.0), resolution=301, boundaries=True, eigenvalues=None,
               lr=None, momentum=None, legend=True, ax=None):
    r"""Heavy ball's four regimes of one mode over the ``(lr lambda, beta)`` plane.

    Each point is classified by :func:`heavyball.spectral.regime` from the
    roots of ``s^2 - (1 + beta - lr lambda) s + beta``: monotone (real
    positive roots), oscillating (complex roots, modulus ``sqrt(beta)``),
    sign flipping (a negative dominant root) and divergent (modulus ``>= 1``).
    The boundary curves of :func:`heavyball.spectral.regime_boundaries` are
    drawn on top.

    Parameters
    ----------
    lr_lambda : (float, float)
        Range of ``lr lambda`` (x axis).
    momenta : (float, float)
        Range of ``beta`` (y axis).
    resolution : int >= 10
        Grid points per axis.
    boundaries : bool
        Draw and label the boundary curves.
    eigenvalues, lr, momentum : optional
        Mark the modes of a quadratic at a given tuning: one marker per
        eigenvalue at ``(lr lambda_i, momentum)``.
    legend : bool
        Add a legend (one patch per regime, beside the Axes).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure and Axes when None.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the regime codes (indices into
        ``heavyball.spectral.REGIMES``).

    Raises
    ------
    ValueError
        For bad ranges, ``resolution < 10``, or ``eigenvalues`` without
        ``lr`` and ``momentum``.

    Notes
    -----
    With ``a = lr lambda`` and ``0 <= beta < 1`` the regions are
    ``0 < a < (1 - sqrt beta)^2`` (monotone),
    ``(1 - sqrt beta)^2 < a < (1 + sqrt beta)^2`` (oscillating),
    ``(1 + sqrt beta)^2 < a < 2 + 2 beta`` (sign flipping) and the rest
    (divergent); negative ``a`` is drawn as ``a = 0``. The map follows
    Goh's [1]_.

    References
    ----------
    .. [1] G. Goh, "Why Momentum Really Works", Distill, 2017.
       https://distill.pub/2017/momentum/

    Examples
    --------
    >>> from heavyball import plotting
    >>> ax = plotting.regime_map(eigenvalues=[1.0, 100.0], lr=4 / 121, momentum=81 / 121)
    >>> sorted(t.get_text() for t in ax.get_legend().get_texts())[:2]
    ['divergent', 'modes $\\lambda_i$ at $\\alpha$ = 0.03306, $\\beta$ = 0.6694']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    import matplotlib
    from matplotlib.patches import Patch

    from . import spectral

    x0, x1 = _s.limits("lr_lambda", lr_lambda)
    y0, y1 = _s.limits("momenta", momenta)
    n = _v.integer("resolution", resolution, low=10)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    codes = spectral.regime(1.0, np.maximum(X, 0.0), Y, codes=True)
    ax = _s.new_axes(ax, figsize=(5.4, 4.2))
    cm = matplotlib.colors.ListedColormap(_REGIME_COLORS)
    ax.imshow(codes, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap=cm, vmin=-0.5, vmax=3.5,
              interpolation="nearest")
    handles = [Patch(facecolor=c, edgecolor="0.3", label=name.replace("_", " "))
               for c, name in zip(_REGIME_COLORS, spectral.REGIMES)]
    if boundaries:
        _draw_boundaries(ax, spectral)
    if eigenvalues is not None:
        handles.append(_mark_modes(ax, eigenvalues, lr, momentum))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(r"$\alpha\lambda$ (learning rate $\times$ eigenvalue)")
    ax.set_ylabel(r"momentum $\beta$")
    if legend:
        ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax


def _draw_boundaries(ax, spectral):
    b = spectral.regime_boundaries(num=201)
    for curve, text, beta, offset in ((b.monotone_oscillating, r"$(1-\sqrt{\beta})^2$", 0.3, (4, -2)),
                                      (b.oscillating_sign_flipping, r"$(1+\sqrt{\beta})^2$", 0.3, (-46, 4)),
                                      (b.stability, r"$2 + 2\beta$", 0.5, (6, -10))):
        ax.plot(curve.lr_lambda, curve.momentum, color="black", linewidth=1.0)
        i = int(np.argmin(np.abs(curve.momentum - beta)))
        ax.annotate(text, (curve.lr_lambda[i], curve.momentum[i]), textcoords="offset points", xytext=offset,
                    fontsize="small", color="black")


def _mark_modes(ax, eigenvalues, lr, momentum):
    from matplotlib.lines import Line2D

    if lr is None or momentum is None:
        raise ValueError("marking modes needs `lr` and `momentum` with `eigenvalues`")
    lam = _eigen_arg(eigenvalues)
    lr = _v.real("lr", lr, low=0.0)
    beta = _v.real("momentum", momentum)
    label = f"modes $\\lambda_i$ at $\\alpha$ = {lr:.4g}, $\\beta$ = {beta:.4g}"
    ax.plot(lr * lam, np.full(lam.shape, beta), marker="X", markersize=8, color="#D55E00",
            markeredgecolor="black", linestyle="none", label=label, zorder=5)
    return Line2D([], [], marker="X", markersize=8, color="#D55E00", markeredgecolor="black", linestyle="none",
                  label=label)


# ------------------------------------------------------------------------ floor map
def floor_heatmap(H, *, lrs, momenta, method="heavy_ball", noise_cov=1.0, vmin=None, vmax=None, cmap="cividis",
                  front=True, optimum=True, colorbar=True, legend=True, ax=None, mesh_kw=None):
    r"""Stationary loss floor under gradient noise over a ``(lr, momentum)`` grid.

    The companion of :func:`rate_heatmap` (draw the two side by side): the
    exact floor ``lim E[L(x_k)] - L*`` of :func:`heavyball.noise.tradeoff`
    on a logarithmic colour scale, unstable points light grey, and the
    tunings on the Pareto front of rate against floor as white dots.

    Parameters
    ----------
    H : array_like, shape (n, n), or Quadratic
        Symmetric positive definite Hessian.
    lrs : array_like
        Strictly increasing learning rates ``> 0`` (log-spaced: log axis).
    momenta : array_like
        Strictly increasing momenta in ``[0, 1)``.
    method : {"gd", "heavy_ball", "nesterov"}
        The optimiser (PyTorch semantics).
    noise_cov : float >= 0, array_like shape (n,) or (n, n)
        Gradient noise covariance (``sigma^2`` for ``grad_noise = sigma``).
    vmin, vmax : float > 0, optional
        Colour limits of the floor (default: the range drawn).
    cmap : str
        Perceptually uniform colour map (low floor dark).
    front : bool
        Mark the Pareto-optimal tunings.
    optimum : bool
        Mark the rate-optimal tuning of :func:`heavyball.spectral.optimal_parameters`
        for the extreme eigenvalues, with its floor in the legend.
    colorbar, legend : bool
        Draw a colour bar and a legend.
    ax : matplotlib Axes, optional
        Draw here (default: a new figure).
    mesh_kw : dict, optional
        Extra keywords for ``ax.pcolormesh`` (copied).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` is the ``QuadMesh`` whose array is the floor
        (shape ``(len(momenta), len(lrs))``, masked where unstable).

    Raises
    ------
    ValueError
        For bad input (see :func:`heavyball.noise.tradeoff`) or bad colour limits.

    Notes
    -----
    The floor is ``1/2 tr(H C)`` with ``C`` the solution of the discrete
    Lyapunov equation ``S = A S A^T + B Q B^T``
    (:func:`heavyball.noise.stationary_loss`).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import plotting
    >>> ax = plotting.floor_heatmap(np.diag([1.0, 100.0]), lrs=np.geomspace(1e-3, 0.03, 12),
    ...                             momenta=np.linspace(0, 0.9, 10))
    >>> ax.collections[0].get_array().shape, ax.get_xscale()
    ((10, 12), 'log')
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    import matplotlib
    from matplotlib.colors import LogNorm

    from . import noise, spectral

    t = noise.tradeoff(H, lrs, momenta, method, noise_cov)
    good = t.floor[np.isfinite(t.floor) & (t.floor > 0)]
    low = float(good.min()) if good.size else 1e-3
    high = float(good.max()) if good.size else 1.0
    vmin = _v.real("vmin", low if vmin is None else vmin, low=0.0, low_open=True)
    vmax = _v.real("vmax", max(high, 10.0 * vmin) if vmax is None else vmax, low=vmin, low_open=True)
    kw = _s.copy_kw("mesh_kw", mesh_kw)
    kw.setdefault("shading", "flat")
    ax = _s.new_axes(ax, figsize=(5.4, 4.2))
    cm = matplotlib.colormaps[cmap].with_extremes(bad=_DIVERGENT)
    shown = np.ma.masked_array(t.floor, mask=~np.isfinite(t.floor))
    geometric = _s.is_geometric(t.lrs)
    mesh = ax.pcolormesh(_s.cell_edges(t.lrs, geometric), _s.cell_edges(t.momenta, False), shown, cmap=cm,
                         norm=LogNorm(vmin=vmin, vmax=vmax, clip=True), **kw)
    if geometric:
        ax.set_xscale("log")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax).set_label(r"noise floor $E[L] - L^*$ (exact)")
    extra = []
    if np.any(~np.isfinite(t.floor)):
        from matplotlib.patches import Patch

        extra.append(Patch(facecolor=_DIVERGENT, edgecolor="0.5", label=r"unstable ($\rho \geq 1$)"))
    if front and len(t.front):
        ax.plot(t.lrs[t.front[:, 1]], t.momenta[t.front[:, 0]], "o", markersize=3, color="white",
                markeredgecolor="black", markeredgewidth=0.4, linestyle="none",
                label=f"Pareto front (rate vs floor, {len(t.front)} points)", zorder=4)
    if optimum and method != "gd":
        lam = np.linalg.eigvalsh(_hessian(H))
        lr, beta, rho = spectral.optimal_parameters(float(lam[0]), float(lam[-1]), method)
        floor = noise.stationary_loss(H, lr, beta, method, noise_cov)
        ax.plot([lr], [beta], marker="*", markersize=14, color="white", markeredgecolor="black", linestyle="none",
                label=f"rate optimum: floor {floor:.3g}", zorder=5)
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(r"momentum $\beta$")
    if legend:
        _legend(ax, extra, loc="lower left")
    return ax


def _hessian(H):
    from .spectral._modes import check_hessian

    return check_hessian(H)
