r"""Worst cases beyond quadratics: performance estimation (PEPit) next to the worst quadratic.

On quadratics the spectral radius decides everything; quadratics are the
*best* case of the smooth strongly convex class. :func:`worst_case` solves the
performance-estimation problem (Drori & Teboulle 2014; Taylor, Hendrickx &
Glineur 2017) with PEPit: the largest ``|x_N - x*|^2 / |x_0 - x*|^2`` over
every ``L``-smooth, ``mu``-strongly convex function in any dimension, as a
semidefinite program that is exact for these methods. :func:`worst_quadratic`
is the same maximum over quadratics only, in closed form; it is a lower bound.

PEPit is the optional extra ``pep``: ``pip install 'heavyball-dynamics[pep]'``
(PEPit, which brings cvxpy and pandas, and the Clarabel interior-point solver).
This module imports without it; :func:`worst_case` raises ``ImportError`` when
it is missing.

All methods start at rest (``x_{-1} = x_0``), as ``torch.optim.SGD`` does:

================  ==================================================================
method            iteration
================  ==================================================================
``gd``            ``x_{k+1} = x_k - lr grad f(x_k)``
``heavy_ball``    ``x_{k+1} = x_k - lr grad f(x_k) + beta (x_k - x_{k-1})``
``nesterov``      ``y_k = x_k + beta (x_k - x_{k-1})``, ``x_{k+1} = y_k - lr grad f(y_k)``
================  ==================================================================

For Nesterov ``x_k`` is the gradient-step sequence, the physical position of
:func:`~heavyball.integrate` ``(method="nesterov")``; PyTorch's iterate is
``y_k``.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
from numpy.polynomial import Chebyshev

from . import _validation as _v
from ._methods import SGD_METHODS

__all__ = ["worst_case", "worst_quadratic", "WORST_CASE_METHODS", "SolverAccuracyWarning"]

WORST_CASE_METHODS = SGD_METHODS

#: Largest ``n_steps`` of :func:`worst_case`: the PEP's semidefinite program
#: has ``N + 2`` points and grows like ``N^2`` (N = 20 takes about a second).
PEP_MAX_STEPS = 100

#: Largest ``n_steps`` of :func:`worst_quadratic`: it finds the roots of a
#: degree-``N`` polynomial (``O(N^3)``; N = 1000 takes seconds), and by then
#: any contracting method's ratio is below the float range.
QUADRATIC_MAX_STEPS = 1000

#: cvxpy solvers that handle PEPit's semidefinite programs (``solver`` is
#: checked against these, case-insensitively, before PEPit is imported).
PEP_SOLVERS = ("CLARABEL", "SCS", "MOSEK", "CVXOPT", "COPT", "SDPA")

_INSTALL = "pip install 'heavyball-dynamics[pep]'"


def _validate(method, lr, momentum, mu, L, n_steps):
    _v.choice("method", method, WORST_CASE_METHODS)
    lr = _v.real("lr", lr, low=0.0, low_open=True)
    momentum = _v.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    if method == "gd" and momentum != 0.0:
        raise ValueError(f"`momentum` must be 0 for method 'gd', got {momentum!r}")
    L = _v.real("L", L, low=0.0, low_open=True)
    mu = _v.real("mu", mu, low=0.0)
    if mu > L:
        raise ValueError(f"`mu` must be in [0, {L:g}] (at most `L`), got {mu!r}")
    n = _v.integer("n_steps", n_steps, low=1)
    return lr, momentum, mu, L, n


def _next(method, lr, beta, grad, x, x_prev):
    """One step of the method on anything supporting + and * (PEPit points, polynomials)."""
    if method == "gd":
        return x - lr * grad(x)
    if method == "heavy_ball":
        return x - lr * grad(x) + beta * (x - x_prev)
    y = x + beta * (x - x_prev)
    return y - lr * grad(y)


def worst_case(method, lr, momentum, mu, L, n_steps, *, solver="CLARABEL"):
    r"""Worst case of ``|x_N - x*|^2 / |x_0 - x*|^2`` over L-smooth mu-strongly convex functions.

    Parameters
    ----------
    method : {"gd", "heavy_ball", "nesterov"}
    lr : float > 0
        Step size.
    momentum : float in [0, 1)
        ``beta`` (0 for ``"gd"``).
    mu : float in [0, L]
        Strong-convexity modulus (0: merely convex; ``mu = L`` leaves only
        ``L/2 |x - x*|^2``, answered by :func:`worst_quadratic` without PEPit).
    L : float > 0
        Lipschitz constant of the gradient.
    n_steps : int in [1, PEP_MAX_STEPS]
        ``N``; the semidefinite program has ``N + 2`` points, so its size
        grows like ``N^2`` (N = 20 takes about a second).
    solver : str
        A cvxpy SDP solver name, one of :data:`PEP_SOLVERS`. The default Clarabel (interior point) is
        accurate to about 1e-8 here; SCS (first order) answers up to about
        1% low on the larger programs.

    Returns
    -------
    float
        The worst-case ratio (the dual bound of the PEP, a certified upper
        bound up to the solver's tolerance, and tight: PEPit's primal value
        agrees).

    Raises
    ------
    ImportError
        Without the ``pep`` extra (PEPit).
    RuntimeError
        If the solver reports neither an optimal nor an inaccurate-optimal
        solution.

    Warns
    -----
    SolverAccuracyWarning
        When the solver met only its reduced tolerances (Clarabel from about
        ``N = 20`` at ``mu = 1, L = 25``; there it still agrees with SCS run
        to ``eps = 1e-9`` within 3e-6 relative).

    Notes
    -----
    The PEP maximises ``|x_N - x*|^2`` subject to ``|x_0 - x*|^2 <= 1``, the
    method's ``N`` steps from rest, and the interpolation inequalities of the
    smooth strongly convex class (Taylor, Hendrickx & Glineur 2017) between
    every pair of the points ``x*, x_0, ..., x_{N-1}`` (``y_k`` for Nesterov).

    Examples
    --------
    >>> import heavyball as hb
    >>> ratio = hb.worst_case("gd", 2 / 26, 0.0, 1.0, 25.0, 1)  # doctest: +SKIP
    >>> round(ratio, 6)  # ((kappa - 1)/(kappa + 1))^2 for kappa = 25     # doctest: +SKIP
    0.852071
    """
    lr, beta, mu, L, n = _validate(method, lr, momentum, mu, L, n_steps)
    if not isinstance(solver, str):
        raise _v.InputTypeError(f"`solver` must be one of {', '.join(PEP_SOLVERS)}; got {_v.describe(solver)}")
    solver = _v.choice("solver", solver.upper(), PEP_SOLVERS)
    if n > PEP_MAX_STEPS:
        raise ValueError(f"`n_steps` must be <= {PEP_MAX_STEPS} for the PEP (its SDP grows like n_steps^2), got {n}")
    if mu == L:  # the class is {L/2 |x - x*|^2 + c}; PEPit's interpolation conditions divide by L - mu
        return worst_quadratic(method, lr, beta, mu, L, n)
    PEP, SmoothStronglyConvexFunction = _import_pepit()
    problem = PEP()
    f = problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=L)
    xs = f.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    x_prev, x = x0, x0
    for _ in range(n):
        x_prev, x = x, _next(method, lr, beta, f.gradient, x, x_prev)
    problem.set_performance_metric((x - xs) ** 2)
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        warnings.simplefilter("ignore", UserWarning)  # cvxpy's "may be inaccurate": status checked below
        value = problem.solve(wrapper="cvxpy", solver=solver, verbose=0)
    status = problem.wrapper.prob.status
    if status not in ("optimal", "optimal_inaccurate") or value is None or not math.isfinite(value):
        raise RuntimeError(f"the PEP solver {solver} did not converge (status {status!r}, value {value!r}); "
                           "try solver='CLARABEL' or a smaller `n_steps`")
    notes = printed.getvalue().strip()  # PEPit prints (does not warn) when its own checks fail
    if status != "optimal" or "Warning" in notes:
        warnings.warn(f"PEP solved to reduced accuracy by {solver} (status {status!r}) {notes}".strip(),
                      SolverAccuracyWarning, stacklevel=2)
    return float(value)


class SolverAccuracyWarning(UserWarning):
    """The SDP solver met only its reduced tolerances (cvxpy status ``optimal_inaccurate``)."""


def _import_pepit():
    try:
        from PEPit import PEP
        from PEPit.functions import SmoothStronglyConvexFunction
    except ImportError as exc:
        raise ImportError(
            f"heavyball.worst_case needs the optional extra 'pep' (PEPit and the Clarabel solver): {_INSTALL}"
        ) from exc
    return PEP, SmoothStronglyConvexFunction


def worst_quadratic(method, lr, momentum, mu, L, n_steps):
    r"""Worst ``|x_N - x*|^2 / |x_0 - x*|^2`` over quadratics with ``mu <= H <= L``, from rest.

    Parameters are as in :func:`worst_case` (``n_steps <= QUADRATIC_MAX_STEPS``);
    no optional dependency.

    Returns
    -------
    float

    Notes
    -----
    On a quadratic each eigen-component of ``x_k - x*`` evolves by itself:
    ``e_N = p_N(lambda) e_0`` with ``p_N`` a polynomial of degree ``N`` in the
    eigenvalue (``p_0 = p_{-1} = 1``, then the method's recurrence), so the
    ratio is a convex combination of ``p_N(lambda_i)^2`` and its maximum over
    quadratics is ``max p_N(lambda)^2`` over ``lambda`` in ``[mu, L]``. That
    maximum sits at an end point or at a real root of ``p_N'``; the
    polynomial is built in the Chebyshev basis of ``[mu, L]``, where it is well
    conditioned, and the candidates are compared exactly.

    Examples
    --------
    >>> from heavyball.pep import worst_quadratic
    >>> round(worst_quadratic("heavy_ball", 1 / 9, 4 / 9, 1.0, 25.0, 1), 10)  # (1 - 25/9)^2
    3.1604938272
    """
    lr, beta, mu, L, n = _validate(method, lr, momentum, mu, L, n_steps)
    if n > QUADRATIC_MAX_STEPS:
        raise ValueError(f"`n_steps` must be <= {QUADRATIC_MAX_STEPS} (the roots of a degree-n_steps polynomial "
                         f"are found), got {n}")
    if mu == L:
        e = _scalar_run(method, lr, beta, mu, n)
        return float(e * e)
    lam = Chebyshev.identity(domain=[mu, L])
    x_prev = x = Chebyshev([1.0], domain=[mu, L])
    overflow = ValueError("`lr` times `L` (or `momentum`) is too large: the worst-case polynomial overflows "
                          f"float64 (lr={lr!r}, momentum={beta!r}, L={L!r})")
    with np.errstate(all="ignore"):
        try:
            for _ in range(n):
                x_prev, x = x, _next(method, lr, beta, lambda p: lam * p, x, x_prev)
        except TypeError:  # NumPy refuses to multiply polynomials whose coefficients became NaN
            raise overflow from None
        if not np.all(np.isfinite(x.coef)):
            raise overflow
        roots = x.deriv().roots() if n > 1 else np.empty(0)  # (p^2)' = 2 p p': maxima where p' = 0
        real = roots[np.abs(roots.imag) <= 1e-9 * (L - mu)].real
        candidates = np.concatenate([[mu, L], np.clip(real, mu, L)])
        worst = float(np.max(x(candidates) ** 2))
    if math.isnan(worst):
        raise overflow
    return worst


def _scalar_run(method, lr, beta, lam, n):
    x_prev = x = 1.0
    for _ in range(n):
        x_prev, x = x, _next(method, lr, beta, lambda p: lam * p, x, x_prev)
    return x
