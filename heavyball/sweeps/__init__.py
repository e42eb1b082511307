"""Hyper-parameter sweeps: :func:`sweep` over a learning-rate x momentum grid, and its :class:`SweepResult`.

``import heavyball.sweeps`` is this package; ``heavyball.sweep`` is the
function and ``heavyball.SweepResult`` the class. The private modules:

- ``_sweep``: :func:`sweep` (validation, the grid's cells) and :class:`SweepResult`;
- ``_grid``: the extra leading axes (``grid=``: problem parameters, start seeds);
- ``_chunks``: chunk scheduling, the compiled kernel's slices and the summaries;
- ``_numpy``: the ``"numpy"`` backend, the NumPy twin of the compiled kernel;
- ``_dask``: the ``"dask"`` backend (optional extra ``dask``);
- ``_persist``: :meth:`SweepResult.save` and :meth:`SweepResult.load`.
"""

from ._numpy import DISTANCE_FLOOR, FLOOR_DISTANCE, FLUSH_BELOW, FLUSH_EVERY
from ._sweep import BACKENDS, METHODS, SweepResult, sweep

__all__ = ["sweep", "SweepResult", "METHODS", "BACKENDS", "FLOOR_DISTANCE", "FLUSH_BELOW", "FLUSH_EVERY",
           "DISTANCE_FLOOR"]
