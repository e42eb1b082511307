"""Diagnostics computed from a :class:`~heavyball.Trajectory`.

==================================  ======================================================
function                            what it measures
==================================  ======================================================
:func:`velocities`                  velocity at each recorded state
:func:`velocity_norms`              its Euclidean norm
:func:`velocity_gradient_angle`     angle between the velocity and ``-grad L`` (degrees)
:func:`energies`                    kinetic and potential energy of the particle
:func:`effective_learning_rate`     ``lr / (1 - beta)``, the step on a constant gradient
:func:`oscillation_count`           sign changes per coordinate
:func:`overshoot`                   farthest excursion past the minimiser
:func:`distances`                   distance to a point or a moving target
:func:`steps_to_tolerance`          first step within a tolerance of the minimum
:func:`final_minimum`               which of several minima a run ends in
:func:`detect_cycle`                a limit cycle at the end of a run
==================================  ======================================================

*Velocity* means the physical velocity ``v`` where the trajectory carries one
(:func:`~heavyball.integrate`, :func:`~heavyball.solve_reference`,
:func:`heavyball.odes.iterates`), and the displacement per unit time
``(x_k - x_{k-1}) / (t_k - t_{k-1})`` for an optimiser run
(:func:`~heavyball.optimize`, method in :data:`OPTIMIZER_METHODS`, whose ``v``
is a framework's buffer, not a velocity) and for runs without ``v``, with
``v_0 = 0``: optimisers start at rest. For
symplectic Euler the two agree exactly (``x_{k+1} = x_k + h v_{k+1}``).
"""

from __future__ import annotations

import numpy as np

from . import _validation as _v

__all__ = [
    "velocities",
    "velocity_norms",
    "velocity_gradient_angle",
    "energies",
    "effective_learning_rate",
    "oscillation_count",
    "overshoot",
    "distances",
    "steps_to_tolerance",
    "final_minimum",
    "nearest_minimum",
    "detect_cycle",
]


def _positions(trajectory):
    _v.trajectory("trajectory", trajectory)
    x = np.asarray(trajectory.x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"`trajectory.x` must have shape (n + 1, dim) with n >= 0, got shape {x.shape}")
    return x


#: ``Trajectory.method`` of :func:`~heavyball.optimize` runs, whose ``v`` is a framework's buffer.
OPTIMIZER_METHODS = frozenset({"GD", "SGD", "SGD(nesterov)", "KerasSGD", "EMAMomentum", "Adam"})


def _is_physical(trajectory):
    """True when ``trajectory.v`` is a physical velocity (anything but an optimiser run)."""
    return trajectory.v is not None and trajectory.method not in OPTIMIZER_METHODS


def velocities(trajectory):
    """Velocity at each recorded state.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.

    Returns
    -------
    ndarray, shape (n + 1, dim)
        ``trajectory.v`` for integrator and reference runs; for optimiser
        runs the displacement per unit time ``(x_k - x_{k-1}) / (t_k - t_{k-1})``
        (per step for :func:`~heavyball.optimize`), with zeros at ``k = 0``.

    Raises
    ------
    TypeError
        When ``trajectory`` is not a :class:`~heavyball.Trajectory`.

    Notes
    -----
    A trajectory's ``v`` is used as is when it is a physical velocity (any
    ``method`` but an optimiser's); otherwise
    ``v_k = (x_k - x_{k-1}) / (t_k - t_{k-1})`` for ``k >= 1`` and
    ``v_0 = 0``. The result is a fresh array (never a view of ``trajectory``).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import velocities
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(0.5), [1.0], n_steps=2)
    >>> velocities(traj)[:, 0].tolist()
    [0.0, -0.5, -0.25]
    """
    x = _positions(trajectory)
    if _is_physical(trajectory):
        return np.asarray(trajectory.v, dtype=np.float64).copy()
    t = np.asarray(trajectory.t, dtype=np.float64)
    out = np.zeros_like(x)
    if len(x) > 1:
        out[1:] = np.diff(x, axis=0) / np.diff(t)[:, None]
    return out


def velocity_norms(trajectory):
    r"""Euclidean norm of :func:`velocities`, shape ``(n + 1,)``.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.

    Returns
    -------
    ndarray, shape (n + 1,)
        ``|v_k|`` for each recorded state.

    Raises
    ------
    TypeError
        When ``trajectory`` is not a :class:`~heavyball.Trajectory`.

    Notes
    -----
    ``|v_k| = sqrt(sum_i v_{k,i}^2)`` with ``v_k`` from :func:`velocities`.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import velocity_norms
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0, 1.0]), hb.GD(0.5), [3.0, 4.0], n_steps=2)
    >>> velocity_norms(traj).tolist()
    [0.0, 2.5, 1.25]
    """
    return np.linalg.norm(velocities(trajectory), axis=1)


def velocity_gradient_angle(trajectory, problem):
    r"""Angle (degrees) between the velocity and the negative gradient at each state.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    problem : Problem
        The landscape the run was on (its ``grad`` at the recorded points).

    Returns
    -------
    ndarray, shape (n + 1,)
        ``arccos(<v_k, -g_k> / (|v_k| |g_k|))`` in ``[0, 180]``; NaN where the
        velocity or the gradient is zero (the angle is undefined, e.g. at
        rest at ``k = 0``).

    Notes
    -----
    Below 90 degrees the particle moves downhill (the force agrees with the
    velocity it carries); above 90 it coasts uphill against the force, as at
    each turn of an oscillation.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import velocity_gradient_angle
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.SGD(1.0, 0.5), [1.0], n_steps=3)
    >>> velocity_gradient_angle(traj, hb.Quadratic.diagonal([1.0])).tolist()
    [nan, nan, 180.0, 0.0]
    """
    v = velocities(trajectory)
    g = -np.asarray(problem.grad(_positions(trajectory)), dtype=np.float64)
    nv, ng = np.linalg.norm(v, axis=1), np.linalg.norm(g, axis=1)
    ok = (nv > 0) & (ng > 0)
    cos = np.full(len(v), np.nan)
    cos[ok] = np.einsum("ij,ij->i", v[ok], g[ok]) / (nv[ok] * ng[ok])
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def energies(trajectory, *, mass=1.0, optimizer=None):
    r"""Kinetic and potential energy at each recorded state.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    mass : float >= 0
        The particle's mass ``m`` (for integrator and reference runs).
    optimizer : GD, SGD, KerasSGD or EMAMomentum, optional
        Required for an optimiser run: its velocity is ``(x_k - x_{k-1}) / h``
        with the step ``h`` of :func:`~heavyball.to_physical` (``mass`` is
        then irrelevant, see Notes).

    Returns
    -------
    kinetic, potential : ndarray, shape (n + 1,)
        ``m |v_k|^2 / 2`` and ``L(x_k)`` (``trajectory.loss``).

    Raises
    ------
    ValueError
        For an optimiser run without ``optimizer``, an integrator run with
        one, or a negative ``mass``.

    Notes
    -----
    For an optimiser with effective learning rate ``lr`` (``h^2 / m`` of the
    map) the kinetic energy is ``|x_k - x_{k-1}|^2 / (2 lr)`` whatever the
    mass: the gauge cancels. For symplectic Euler it equals
    ``m |v_k|^2 / 2`` of the integrator exactly.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import energies
    >>> opt = hb.GD(0.5)
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), opt, [1.0], n_steps=1)
    >>> kin, pot = energies(traj, optimizer=opt)
    >>> kin.tolist(), pot.tolist()
    ([0.0, 0.25], [0.5, 0.125])
    """
    m = _v.real("mass", mass, low=0.0)
    v = velocities(trajectory)
    if not _is_physical(trajectory):
        if optimizer is None:
            raise ValueError("`optimizer` is required for the energies of an optimiser run "
                             f"(method {trajectory.method!r}): it fixes the time step h")
        from .maps import _optimizer_parameters  # deferred: maps imports the optimisers

        lr_eff = _optimizer_parameters(optimizer)[0]  # h^2 / m of the map, for every mass
        return 0.5 * np.einsum("ij,ij->i", v, v) / lr_eff, np.asarray(trajectory.loss, dtype=np.float64).copy()
    if optimizer is not None:
        raise ValueError("`optimizer` must be None for an integrator or reference trajectory")
    kinetic = 0.5 * m * np.einsum("ij,ij->i", v, v)
    return kinetic, np.asarray(trajectory.loss, dtype=np.float64).copy()


def effective_learning_rate(lr, momentum=0.0):
    r"""The effective learning rate ``lr / (1 - momentum)``.

    Parameters
    ----------
    lr : float or array_like, or an optimiser
        Learning rate(s) ``>= 0``; or a ``GD``, ``SGD``, ``KerasSGD`` or
        ``EMAMomentum`` (then ``momentum`` is read from it).
    momentum : float or array_like in [0, 1)
        Broadcasts with ``lr`` (for schedules, the per-step values).

    Returns
    -------
    float or ndarray
        ``lr / (1 - momentum)``: a float for scalar inputs and optimisers,
        else an array of the broadcast shape.

    Raises
    ------
    ValueError
        For ``lr < 0``, ``momentum`` outside ``[0, 1)``, an overflowing
        ratio, or an ``Adam`` optimiser (no such rate: it rescales each
        coordinate).

    Notes
    -----
    On a constant gradient ``g`` heavy ball's step tends to
    ``lr g (1 + beta + beta^2 + ...) = lr g / (1 - beta)``, and on the slow
    modes of a quadratic (``lr lambda << (1 - beta)^2``) its contraction
    ``1 - lr lambda / (1 - beta)`` is that of gradient descent at this rate.
    An ``SGD`` with dampening ``d`` has ``lr (1 - d) / (1 - beta)``; the EMA
    form ``v = beta v + (1 - beta) g`` has ``lr`` itself.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import effective_learning_rate
    >>> round(effective_learning_rate(0.01, 0.9), 12), effective_learning_rate(hb.EMAMomentum(0.1, 0.9))
    (0.1, 0.1)
    """
    from .optimizers import Adam

    if isinstance(lr, Adam):
        raise ValueError("Adam has no effective learning rate lr / (1 - beta): it rescales each coordinate")
    if callable(getattr(lr, "_heavy_ball", None)):  # an optimiser: its heavy-ball form
        lr_eff, beta = lr._heavy_ball()[:2]
        return effective_learning_rate(lr_eff, beta)
    a = _v.real_array("lr", lr)
    b = _v.real_array("momentum", momentum)
    if not (np.all(np.isfinite(a)) and np.all(a >= 0)):
        raise ValueError(f"`lr` must be finite and >= 0, got {lr!r}")
    if not (np.all(np.isfinite(b)) and np.all((b >= 0) & (b < 1))):
        raise ValueError(f"`momentum` must be in [0, 1), got {momentum!r}")
    with np.errstate(over="ignore"):
        out = a / (1.0 - b)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"`lr` / (1 - `momentum`) overflows float64 (lr={lr!r}, momentum={momentum!r})")
    return float(out) if out.ndim == 0 else out


def _signals(trajectory, about):
    x = _positions(trajectory)
    if about is None:
        return np.diff(x, axis=0)
    return x - _v.vector("about", about, x.shape[1])


def oscillation_count(trajectory, *, about=None, tol=0.0):
    r"""Sign changes per coordinate: how often each coordinate reverses.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    about : array_like, shape (dim,), optional
        Count crossings of this point (e.g. the minimiser): sign changes of
        ``x_k - about``. Default: reversals of direction, sign changes of the
        steps ``x_{k+1} - x_k``.
    tol : float >= 0
        Values with ``|.| <= tol`` carry no sign and are skipped (so rounding
        noise at convergence is not counted).

    Returns
    -------
    ndarray of int, shape (dim,)
        Number of sign changes in each coordinate's sequence.

    Raises
    ------
    ValueError
        For ``tol < 0`` or an ``about`` of the wrong shape.

    Notes
    -----
    With ``s_k = x_k - about`` (or ``s_k = x_{k+1} - x_k``), the count for
    coordinate ``i`` is the number of consecutive pairs with different signs
    in the subsequence of ``s_{k,i}`` with ``|s_{k,i}| > tol``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import oscillation_count
    >>> q = hb.Quadratic.diagonal([1.5, 0.5])
    >>> traj = hb.optimize(q, hb.GD(1.0), [1.0, 1.0], n_steps=5)
    >>> oscillation_count(traj, about=q.minimizer).tolist()  # 1 - 1.5 < 0 flips, 1 - 0.5 > 0 does not
    [5, 0]
    """
    tol = _v.real("tol", tol, low=0.0)
    s = _signals(trajectory, about)
    counts = np.zeros(s.shape[1], dtype=np.int64)
    for j in range(s.shape[1]):
        col = s[:, j]
        signs = np.sign(col[np.abs(col) > tol])
        counts[j] = int(np.count_nonzero(signs[1:] != signs[:-1]))
    return counts


def overshoot(trajectory, minimizer):
    r"""Farthest excursion past the minimiser, relative to the initial distance.

    With ``u = (x_0 - x*) / |x_0 - x*|``, the overshoot is
    ``max(0, -min_k <x_k - x*, u>) / |x_0 - x*|``: how far (as a fraction of
    the start's distance) the run went beyond ``x*`` on the far side.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    minimizer : array_like, shape (dim,)
        ``x*``.

    Returns
    -------
    float
        0 for a run that never passes the minimiser.

    Raises
    ------
    ValueError
        When the trajectory starts at ``minimizer`` (no direction ``u``), or
        for a ``minimizer`` of the wrong shape.

    Notes
    -----
    Only the component along the initial direction ``u`` counts; for a
    one-dimensional quadratic this is the classical overshoot
    ``max(0, -min_k (x_k - x*)/(x_0 - x*))`` of a step response.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import overshoot
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(1.5), [1.0], n_steps=3)
    >>> overshoot(traj, [0.0])
    0.5
    """
    x = _positions(trajectory)
    d = x - _v.vector("minimizer", minimizer, x.shape[1])
    r0 = float(np.linalg.norm(d[0]))
    if r0 == 0.0:
        raise ValueError("the trajectory starts at `minimizer`; its overshoot is undefined")
    proj = d @ (d[0] / r0)
    return max(0.0, -float(proj.min())) / r0


def distances(trajectory, target):
    """Euclidean distance of each recorded state to ``target``.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    target : array_like, shape (dim,) or (n + 1, dim)
        A point, or one point per recorded state (a moving minimiser, e.g.
        ``DriftingQuadratic.minimizer_at(trajectory.t)``).

    Returns
    -------
    ndarray, shape (n + 1,)
        ``|x_k - c_k|`` per recorded state.

    Raises
    ------
    ValueError
        For a ``target`` of another shape.

    Notes
    -----
    ``d_k = sqrt(sum_i (x_{k,i} - c_{k,i})^2)`` with ``c_k = target`` for a
    single point.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import distances
    >>> from heavyball.landscapes import DriftingQuadratic
    >>> p = DriftingQuadratic([1.0], drift="linear", speed=0.5)
    >>> traj = hb.optimize(p, hb.GD(1.0), [0.0], n_steps=3, stochastic=True)
    >>> distances(traj, p.minimizer_at(traj.t)).tolist()  # GD at lr = 1/lambda lags one step
    [0.0, 0.5, 0.5, 0.5]
    """
    x = _positions(trajectory)
    c = _v.real_array("target", target)
    if c.shape not in (x.shape[1:], x.shape):
        raise ValueError(f"`target` must have shape {x.shape[1:]} or {x.shape}, got {c.shape}")
    return np.linalg.norm(x - c, axis=1)


def steps_to_tolerance(trajectory, tol, *, minimizer=None, min_value=None, relative=True, stay=False):
    r"""First step at which the run is within ``tol`` of the minimum.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    tol : float >= 0
        Tolerance (a fraction of the initial error when ``relative``).
    minimizer : array_like, shape (dim,), optional
        Distance criterion ``|x_k - x*| <= tol |x_0 - x*|`` (the ``sweep``
        definition), or ``<= tol`` when ``relative`` is False.
    min_value : float, optional
        Loss criterion ``L(x_k) - L* <= tol (L(x_0) - L*)`` (or ``<= tol``).
        Give exactly one of ``minimizer`` and ``min_value``.
    relative : bool
        Whether ``tol`` is relative to the initial error (default) or absolute.
    stay : bool
        If True, the first step from which *every* later recorded state meets
        the criterion (a run that passes through the ball and leaves again
        does not count).

    Returns
    -------
    int
        The step index ``k`` (``(t_k - t_0) / step``; for the step-less
        reference solver, the index of the recorded state); -1 if never.

    Raises
    ------
    ValueError
        Unless exactly one of ``minimizer`` and ``min_value`` is given, or for
        ``tol < 0``.

    Notes
    -----
    With ``e_k = |x_k - x*|`` (or ``L(x_k) - L*``) the criterion is
    ``e_k <= tol e_0`` (``relative``) or ``e_k <= tol``; the result is the
    first recorded ``k`` meeting it (with ``stay``, the first after the last
    one that does not), converted to a step count when ``record_every > 1``.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import steps_to_tolerance
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(0.5), [1.0], n_steps=30)
    >>> steps_to_tolerance(traj, 1e-3, minimizer=[0.0])  # 0.5^10 < 1e-3 <= 0.5^9
    10
    """
    tol = _v.real("tol", tol, low=0.0)
    relative, stay = _v.flag("relative", relative), _v.flag("stay", stay)
    if (minimizer is None) == (min_value is None):
        raise ValueError("give exactly one of `minimizer` (distance criterion) and `min_value` (loss criterion)")
    if minimizer is not None:
        err = distances(trajectory, _v.vector("minimizer", minimizer, _positions(trajectory).shape[1]))
    else:
        err = np.asarray(trajectory.loss, dtype=np.float64) - _v.real("min_value", min_value)
    bound = tol * abs(err[0]) if relative else tol
    ok = err <= bound
    if stay:
        tail_bad = np.flatnonzero(~ok)
        first = 0 if tail_bad.size == 0 else int(tail_bad[-1]) + 1
        idx = first if first < len(ok) else -1
    else:
        hits = np.flatnonzero(ok)
        idx = int(hits[0]) if hits.size else -1
    if idx < 0 or trajectory.step is None:
        return idx
    t = np.asarray(trajectory.t, dtype=np.float64)
    return int(round((t[idx] - t[0]) / trajectory.step))


def nearest_minimum(points, minima, *, tol=1e-3):
    """Index of the minimum each point lies within ``tol`` of, or -1.

    Parameters
    ----------
    points : array_like, shape (dim,) or (..., dim)
        Points to classify.
    minima : sequence of array_like, each shape (dim,)
        Candidate minima.
    tol : float > 0
        Euclidean radius around each minimum.

    Returns
    -------
    int or ndarray of int, shape (...)
        Index into ``minima`` of the nearest minimum if it is within ``tol``,
        else -1; an int for a single point.

    Raises
    ------
    ValueError
        For empty or ragged ``minima``, ``tol <= 0`` or points of the wrong
        dimension.

    Notes
    -----
    ``i* = argmin_i |p - m_i|`` (the first on ties), returned when
    ``|p - m_{i*}| <= tol``.

    Examples
    --------
    >>> from heavyball.diagnostics import nearest_minimum
    >>> nearest_minimum([[0.9995], [-1.0], [0.2]], [[-1.0], [1.0]]).tolist()
    [1, 0, -1]
    """
    mins = np.array([np.asarray(m, dtype=np.float64).reshape(-1) for m in minima])
    if mins.ndim != 2 or mins.shape[0] == 0:
        raise ValueError("`minima` must be a non-empty sequence of points of equal length")
    tol = _v.real("tol", tol, low=0.0, low_open=True)
    p = _v.points("points", points, mins.shape[1])
    d = np.linalg.norm(p[..., None, :] - mins, axis=-1)
    idx = np.argmin(d, axis=-1)
    out = np.where(np.take_along_axis(d, idx[..., None], axis=-1)[..., 0] <= tol, idx, -1)
    return int(out) if out.ndim == 0 else out


def final_minimum(trajectory, minima, *, tol=1e-3):
    """Which of ``minima`` the run ends in (its last state within ``tol``), or -1.

    Parameters
    ----------
    trajectory : Trajectory
        A run of :func:`~heavyball.optimize`, :func:`~heavyball.integrate`
        or :func:`~heavyball.solve_reference`.
    minima : sequence of array_like, each shape (dim,)
        Candidate minima (e.g. ``problem.local_minima``).
    tol : float > 0
        Euclidean radius around each minimum.

    Returns
    -------
    int
        Index into ``minima``, or -1 when the last state is near none.

    Raises
    ------
    ValueError
        As :func:`nearest_minimum`.

    Notes
    -----
    :func:`nearest_minimum` of the last recorded state ``x_n``; a run that is
    still moving, or diverged, gives -1.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import final_minimum
    >>> well = hb.DoubleWell()
    >>> traj = hb.optimize(well, hb.GD(0.05), [0.8, 0.3], n_steps=500)
    >>> final_minimum(traj, well.local_minima)  # started right of the barrier: the local minimum
    1
    """
    return nearest_minimum(_positions(trajectory)[-1], minima, tol=tol)


def detect_cycle(trajectory, tol=1e-9, *, max_period=None, repeats=2):
    """Find a limit cycle at the end of a trajectory.

    The smallest period ``p`` is sought for which the last ``repeats + 1``
    turns agree: ``|x[n - i] - x[n - i - p]| <= tol (1 + |x[n - i]|)`` for
    ``i = 0 .. repeats p - 1`` (each coordinate). Period 1 is a fixed point,
    which is convergence, not a cycle.

    Parameters
    ----------
    trajectory : Trajectory
        Recorded at every step (``record_every = 1``), so that a period in
        recorded states is a period in steps.
    tol : float >= 0
        Relative-plus-absolute tolerance on each coordinate.
    max_period : int, optional
        Largest period tried (default: as many as the trajectory allows).
    repeats : int >= 1
        How many periods must repeat exactly.

    Returns
    -------
    (period, points) or None
        ``period >= 2`` and ``points`` of shape ``(period, dim)``, the last
        ``period`` states in time order; None for a fixed point or no cycle.

    Raises
    ------
    ValueError
        For ``tol < 0``, ``repeats < 1`` or ``max_period < 1``.

    Notes
    -----
    Periods are tried in increasing order, so a cycle of period ``p`` is not
    reported as ``2p``. The example is the one-dimensional function of
    Lessard, Recht and Packard [1]_ on which heavy ball with Polyak's tuning for
    ``mu = 1``, ``L = 25`` (``lr = 1/9``, ``beta = 4/9``) settles into a
    3-cycle instead of converging.

    References
    ----------
    .. [1] L. Lessard, B. Recht and A. Packard, "Analysis and design of
       optimization algorithms via integral quadratic constraints", SIAM
       Journal on Optimization 26(1), 2016.

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.diagnostics import detect_cycle
    >>> traj = hb.optimize(hb.LessardCounterexample(), hb.SGD(1/9, 4/9), [3.3], n_steps=300)
    >>> period, points = detect_cycle(traj)
    >>> period, sorted((points[:, 0] * 1225).round(6).tolist())
    (3, [-2208.0, 792.0, 2592.0])
    """
    tol = _v.real("tol", tol, low=0.0)
    repeats = _v.integer("repeats", repeats, low=1)
    x = _positions(trajectory)
    n = len(x)
    longest = (n - 1) // (repeats + 1) if n > 1 else 0
    if max_period is not None:
        longest = min(longest, _v.integer("max_period", max_period, low=1))
    for p in range(1, longest + 1):
        span = repeats * p
        tail, earlier = x[n - span:], x[n - span - p:n - p]
        if np.all(np.abs(tail - earlier) <= tol * (1.0 + np.abs(tail))):
            return None if p == 1 else (p, x[n - p:].copy())
    return None
