"""The result of a run: :class:`Trajectory`, with status codes as in ``OdeResult``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernel_constants import constant

__all__ = ["Trajectory", "MESSAGES", "DIVERGENCE_BOUND"]

#: A state with a coordinate (of ``x`` or ``v``) larger than this in absolute
#: value counts as diverged, as does any non-finite state or loss. Defined in
#: ``kernels.py``, which compiles it in (``BOUND``; see :mod:`heavyball._kernel_constants`).
DIVERGENCE_BOUND = constant("BOUND")

MESSAGES = {
    0: "all steps done",
    1: "tol reached",
    -1: "diverged",
}


@dataclass
class Trajectory:
    """A recorded run of an integrator, an optimiser or the reference solver.

    Parameters
    ----------
    t : ndarray, shape (n + 1,)
        Times of the recorded states (for :func:`~heavyball.optimize`, the
        iteration index ``k``).
    x : ndarray, shape (n + 1, dim)
        Positions (for an optimiser, its own iterate).
    v : ndarray, shape (n + 1, dim) or None
        Velocities (for an optimiser, its momentum buffer as its framework
        defines it); None for gradient flow and plain gradient descent.
    loss : ndarray, shape (n + 1,)
        ``L(x)`` at each recorded state.
    method : str
        Integrator, optimiser or ``solve_ivp`` method name.
    step : float or None
        Time step ``h`` (1.0 for optimisers, None for the reference solver).
    status : int
        0: all steps done; 1: ``tol`` reached; -1: diverged (the arrays end at
        the last finite state; a start whose loss is not finite is kept as
        the one record, with its loss) or the reference solver failed.
    message : str
        Human-readable status, e.g. ``"diverged at step 37"``.
    nfev : int
        Number of gradient evaluations.

    Notes
    -----
    Modelled on SciPy's ``OdeResult``: failure is a value, not an exception,
    so sweeps survive it. A state counts as diverged when it is not finite or
    a coordinate of ``x`` or ``v`` exceeds
    :data:`~heavyball.trajectory.DIVERGENCE_BOUND` (``1e50``) in absolute
    value. The properties :attr:`success` (``status >= 0``) and
    :attr:`n_steps` summarise the run; the library builds these objects, users
    read them.

    Examples
    --------
    >>> import heavyball as hb
    >>> traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(0.5), [1.0], n_steps=3)
    >>> traj.x[:, 0], traj.loss
    (array([1.   , 0.5  , 0.25 , 0.125]), array([0.5      , 0.125    , 0.03125  , 0.0078125]))
    >>> traj
    Trajectory(method='GD', status=0, message='all steps done', n_recorded=4, dim=1, final_loss=0.0078125)
    """

    t: np.ndarray
    x: np.ndarray
    v: np.ndarray | None
    loss: np.ndarray
    method: str
    step: float | None
    status: int
    message: str
    nfev: int

    @property
    def success(self):
        """``status >= 0``: the run did not diverge or fail.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(2.5), [1.0], n_steps=300).success  # |1 - lr| > 1
        False
        """
        return self.status >= 0

    @property
    def n_steps(self):
        """Index of the last recorded step (steps actually taken for integrators).

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(0.5), [1.0], n_steps=10, record_every=4).n_steps
        10
        """
        if self.step is None:
            return len(self.t) - 1
        return int(round((self.t[-1] - self.t[0]) / self.step))

    def __repr__(self):
        return (
            f"Trajectory(method={self.method!r}, status={self.status}, "
            f"message={self.message!r}, n_recorded={len(self.t)}, dim={self.x.shape[1]}, "
            f"final_loss={float(self.loss[-1]) if len(self.loss) else None!r})"
        )
