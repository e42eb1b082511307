"""Shared machinery of the ``claims_*.py`` studies (not a study itself).

- :func:`parse_args`: the ``--out DIR`` / ``--quick`` command line every study takes.
- :func:`run_batch`: heavy ball (PyTorch form) on a whole grid of runs at once, one
  NumPy array operation per step; ``tests/test_claims.py`` checks it against
  ``heavyball.optimize`` to rounding.
- :func:`tune`: pick each method's best hyper-parameters from a grid by a median over
  seeds, so that every comparison is between methods at their own best.
- :func:`save`: write a figure as PNG and print its path.

Run a study with ``PYTHONPATH=. python scripts/claims_<name>.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a checkout without PYTHONPATH=.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: A state coordinate beyond this counts as diverged (as in heavyball.trajectory).
BOUND = 1e50


def parse_args(description, argv=None):
    """``--out DIR`` (default ``./figures``) and ``--quick`` (a small, fast version)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="figures", help="directory for the PNG figure (default ./figures)")
    parser.add_argument("--quick", action="store_true", help="smaller grids and fewer seeds (seconds)")
    return parser.parse_args(argv)


def run_batch(grad, x0, lr, beta, n_steps, *, nesterov=False, beta_of_step=None, lr_of_step=None,
              restart_every=None, metric=None, stop=None):
    r"""Heavy ball on ``R`` runs at once: ``v = beta v + g``, ``x -= lr v``.

    This is ``torch.optim.SGD(lr, momentum=beta)`` (its first buffer ``g`` equals
    ``beta * 0 + g``); ``nesterov=True`` gives ``x -= lr (g + beta v)``; ``beta = 0`` is
    gradient descent.

    Parameters
    ----------
    grad : callable
        ``grad(x, k) -> (R, dim)`` for ``x`` of shape ``(R, dim)`` at step ``k``.
    x0 : array_like, shape (dim,) or (R, dim)
    lr, beta : array_like, shape (R,) or scalar
    n_steps : int
    beta_of_step, lr_of_step : array_like, shape (n_steps,) or (n_steps, R), optional
        Per-step values replacing ``beta`` / ``lr`` (schedules).
    restart_every : int, optional
        Zero the velocity before steps ``k, 2k, ...``.
    metric : callable, optional
        ``metric(x, k) -> (R,)`` recorded after every step (and at ``k = 0``); default
        the positions themselves.
    stop : callable, optional
        ``stop(rec, k) -> bool`` called with each new record row ``rec`` (after step
        ``k``); when True the runs end there and the record is truncated (for
        first-passage measurements).

    Returns
    -------
    record : ndarray, shape (n_steps + 1, R) or (n_steps + 1, R, dim)
        ``metric`` at every step; rows of diverged runs are ``inf`` from the step they
        left the bound on (the run is frozen there).
    diverged : ndarray of bool, shape (R,)
    """
    lr = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    x = np.array(x0, dtype=np.float64, ndmin=2)
    R = max(len(lr), len(beta), x.shape[0])
    x = np.broadcast_to(x, (R, x.shape[1])).copy()
    lr, beta = np.broadcast_to(lr, (R,)).copy(), np.broadcast_to(beta, (R,)).copy()
    v = np.zeros_like(x)
    alive = np.ones(R, dtype=bool)
    rec0 = x.copy() if metric is None else np.asarray(metric(x, 0), dtype=np.float64)
    record = np.empty((n_steps + 1,) + rec0.shape)
    record[0] = rec0
    with np.errstate(all="ignore"):
        for k in range(n_steps):
            b = beta if beta_of_step is None else np.broadcast_to(beta_of_step[k], (R,))
            a = lr if lr_of_step is None else np.broadcast_to(lr_of_step[k], (R,))
            if restart_every is not None and k > 0 and k % restart_every == 0:
                v[:] = 0.0
            g = grad(x, k)
            v_new = b[:, None] * v + g
            step = g + b[:, None] * v_new if nesterov else v_new
            x_new = x - a[:, None] * step
            ok = alive & np.all(np.abs(x_new) <= BOUND, axis=1) & np.all(np.abs(v_new) <= BOUND, axis=1)
            alive &= ok
            x[alive], v[alive] = x_new[alive], v_new[alive]
            rec = x.copy() if metric is None else np.asarray(metric(x, k + 1), dtype=np.float64)
            rec[~alive] = np.inf
            record[k + 1] = rec
            if stop is not None and stop(rec, k + 1):
                return record[: k + 2], ~alive
    return record, ~alive


def first_below(errors, tol, *, stay=True):
    """First index along axis 0 with ``errors <= tol`` (for good if ``stay``); -1 if never.

    ``errors`` has shape ``(n + 1, ...)``; returns an int array of shape ``(...)``.
    """
    ok = np.asarray(errors) <= tol
    n = ok.shape[0]
    if stay:
        bad_rev = ~ok[::-1]
        last_bad = n - 1 - np.argmax(bad_rev, axis=0)
        first = np.where(bad_rev.any(axis=0), last_bad + 1, 0)
        return np.where(first < n, first, -1)
    return np.where(ok.any(axis=0), np.argmax(ok, axis=0), -1)


def tune(scores, axis_names=None):
    """Best grid point of ``scores`` (lower is better; ``nan``/``inf`` lose).

    Parameters
    ----------
    scores : ndarray, shape (..., n_seeds)
        One score per grid point and seed; the median over seeds ranks.

    Returns
    -------
    index : tuple
        Grid index of the best median.
    median : float
    """
    med = np.median(np.where(np.isfinite(scores), scores, np.inf), axis=-1)
    idx = np.unravel_index(int(np.argmin(med)), med.shape)
    return idx, float(med[idx])


def spread(values):
    """``(median, q25, q75)`` of a sample, for "median [IQR]" reports.

    Quartiles are sample values (``method="nearest"``), so ``inf`` (never reached) stays
    ``inf`` instead of turning into NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    q = np.quantile(v, [0.5, 0.25, 0.75], method="nearest")
    return float(q[0]), float(q[1]), float(q[2])


def fmt_spread(values, digits=3):
    m, lo, hi = spread(values)
    return f"{m:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def figure(ncols=1, nrows=1, width=5.0, height=3.8):
    """A Matplotlib figure with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             layout="constrained")
    return fig, axes.ravel()


def save(fig, out, name):
    """Write ``fig`` to ``out/name.png``, close it and print the path."""
    import matplotlib.pyplot as plt

    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    file = path / f"{name}.png"
    fig.savefig(file, dpi=110)
    plt.close(fig)
    print(f"wrote {file}")
    return file


class MedianPassStop:
    """Early stop for tuning by first passage: ``stop(rec, k)`` for :func:`run_batch`.

    Runs are laid out as ``(grid points, seeds)`` (seed fastest). A grid point is *decided*
    once a majority of its seeds (``n_seeds`` odd) has had ``rec <= threshold``; its median
    first-passage step is then known. Once every group (e.g. GD and heavy ball) has a decided
    point, no undecided point can beat that group's best median, so the tuning is final.

    Parameters
    ----------
    threshold : float
    groups : array_like of int, shape (n_points,)
        Group label of each grid point.
    n_seeds : int, odd
    """

    def __init__(self, threshold, groups, n_seeds):
        if n_seeds % 2 == 0:
            raise ValueError(f"`n_seeds` must be odd for a median, got {n_seeds}")
        self.threshold, self.n_seeds = threshold, n_seeds
        self.groups = np.asarray(groups)
        self.passed = np.zeros(self.groups.size * n_seeds, dtype=bool)

    def __call__(self, rec, k):
        self.passed |= rec <= self.threshold
        decided = self.passed.reshape(-1, self.n_seeds).sum(axis=1) > self.n_seeds // 2
        return all(decided[self.groups == g].any() for g in np.unique(self.groups))


def plain_ticks(ax, axis="y"):
    """Label a log axis with plain numbers (2, 3, 20) instead of 2 x 10^0."""
    from matplotlib.ticker import FuncFormatter

    def label(v, _):
        lead = f"{v:.0e}"[0]
        return f"{v:g}" if lead in "1235" else ""

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(label))
    target.set_minor_formatter(FuncFormatter(label))


def run_adam_batch(grad, x0, lr, beta1, n_steps, *, beta2=0.999, eps=1e-8, metric=None, stop=None):
    """``torch.optim.Adam`` (no weight decay) on ``R`` runs at once; same returns as :func:`run_batch`.

    ``m = beta1 m + (1 - beta1) g``, ``s = beta2 s + (1 - beta2) g^2``,
    ``x -= lr / (1 - beta1^k) * m / (sqrt(s) / sqrt(1 - beta2^k) + eps)``.
    """
    lr = np.atleast_1d(np.asarray(lr, dtype=np.float64))
    beta1 = np.atleast_1d(np.asarray(beta1, dtype=np.float64))
    x = np.array(x0, dtype=np.float64, ndmin=2)
    R = max(len(lr), len(beta1), x.shape[0])
    x = np.broadcast_to(x, (R, x.shape[1])).copy()
    lr, b1 = np.broadcast_to(lr, (R,))[:, None], np.broadcast_to(beta1, (R,))[:, None]
    m, s = np.zeros_like(x), np.zeros_like(x)
    alive = np.ones(R, dtype=bool)
    rec0 = x.copy() if metric is None else np.asarray(metric(x, 0), dtype=np.float64)
    record = np.empty((n_steps + 1,) + rec0.shape)
    record[0] = rec0
    with np.errstate(all="ignore"):
        for k in range(1, n_steps + 1):
            g = grad(x, k - 1)
            m_new = m + (1.0 - b1) * (g - m)
            s_new = beta2 * s + (1.0 - beta2) * g * g
            denom = np.sqrt(s_new) / np.sqrt(1.0 - beta2**k) + eps
            x_new = x - (lr / (1.0 - b1**k)) * (m_new / denom)
            ok = alive & np.all(np.abs(x_new) <= BOUND, axis=1)
            alive &= ok
            x[alive], m[alive], s[alive] = x_new[alive], m_new[alive], s_new[alive]
            rec = x.copy() if metric is None else np.asarray(metric(x, k), dtype=np.float64)
            rec[~alive] = np.inf
            record[k] = rec
            if stop is not None and stop(rec, k):
                return record[: k + 1], ~alive
    return record, ~alive
