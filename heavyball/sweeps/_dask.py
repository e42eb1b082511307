r"""The ``"dask"`` backend of :func:`heavyball.sweep`: chunks of the grid as Dask tasks.

The grid (every cell of the extra axes times every momentum x learning-rate
point) is numbered flat and cut into chunks of consecutive points; each chunk
is one task, :func:`run_chunk`, which runs on a worker the code the local
backend runs (:func:`heavyball.sweeps._chunks.run_piece`: the compiled kernel, then the
NumPy summary) and returns ``steps_to_tol``, ``diverged``, ``final_loss`` and
``rate`` of its points, 25 bytes per point. Grid points never interact, so the
result is bit-identical to the local one. The cells (problems, starts) and the
shared arguments are scattered to the cluster once per sweep; a task carries
only references to them and its range.

Workers import heavyball and load the compiled kernels from Numba's on-disk
cache (``heavyball/__pycache__``, or ``NUMBA_CACHE_DIR``); a worker with a
cold cache compiles the kernel on its first chunk (about 10 s). Each chunk
runs the kernel on one Numba thread: Dask provides the parallelism, one task
per worker thread, so give workers one thread per core (``dask worker
--nthreads`` = cores, or one single-threaded worker process per core as the
private ``LocalCluster`` does). Each chunk checks that the worker runs the
same heavyball, NumPy and Numba versions as the client.

This module imports ``distributed`` only when a Dask sweep runs: it is the
optional extra ``dask`` (``pip install 'heavyball-dynamics[dask]'``).
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from . import _chunks

INSTALL = "pip install 'heavyball-dynamics[dask]'"
#: Default work per chunk, per worker thread of the cluster, in
#: trajectory-steps (grid points x steps) times ``dim``: a chunk of a 2-D
#: problem takes about ``0.16 s x threads`` of kernel time, so the scheduling
#: overhead, about 2.5 ms per chunk and paid in series by the one scheduler,
#: stays near ``threads x 2.5 ms / (0.16 s x threads)`` = 1.6 % of the wall
#: time however many workers there are (Amdahl's law; measured by
#: ``benchmarks/bench_dask.py``, see docs/performance.md, "Sweeps beyond one
#: machine").
CHUNK_WORK_PER_THREAD = 2e8
#: With the default chunk size, a grid too small for chunks of that size is
#: cut into this many chunks per worker thread: every thread gets work, and
#: chunks of unequal cost (diverging points stop early) can even out. Not
#: more: each chunk costs the scheduler about 2.5 ms in series, so the share of
#: the wall time lost to it grows with ``threads x chunks``.
CHUNKS_PER_THREAD = 2

_KERNEL_LOCK = threading.Lock()


def import_distributed():
    """``distributed``, or an ImportError that names the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"backend='dask' needs the optional extra 'dask' (dask.distributed): {INSTALL}") from exc
    return distributed


def run(cells, common, total, *, client, workers, chunk_size, show):
    """Run the ``total`` points of ``cells`` on a cluster; flat ``steps, dead, final_loss, rate``."""
    distributed = import_distributed()
    _, lrs, momenta, n = common
    n_pts = len(lrs) * len(momenta)
    dim = cells[0].x0.shape[0]
    out = _chunks.empty_outputs(total)
    with connect(client, workers) as c:
        if chunk_size is None:
            chunk_size = default_chunk(total, n, dim, threads=max(1, sum(c.nthreads().values())))
        size = _chunks.round_chunk(chunk_size, total, dim)
        ranges = [(g0, min(total, g0 + size)) for g0 in range(0, total, size)]
        common_ref, *cell_refs = c.scatter([common, *cells], hash=False)  # one round trip
        tasks = [[(cell_refs[k], p0, p1) for k, p0, p1 in _chunks.pieces(g0, g1, n_pts)] for g0, g1 in ranges]
        futures = c.map(run_chunk, tasks, common=common_ref, expected=versions(), pure=False)
        where = dict(zip((f.key for f in futures), ranges))
        bar = _chunks.progress_bar(total, show)
        try:
            for future, result in distributed.as_completed(futures, with_results=True, loop=c.loop):
                g0, g1 = where[future.key]
                for o, r in zip(out, result):
                    o[g0:g1] = r
                if bar is not None:
                    bar.update(g1 - g0)
        finally:
            if bar is not None:
                bar.close()
            c.cancel(futures + cell_refs + [common_ref])
    return out


def default_chunk(total, n_steps, dim, threads):
    """Grid points per chunk: ``CHUNK_WORK_PER_THREAD x threads`` of work, or less so as to make
    ``CHUNKS_PER_THREAD`` chunks per thread when the grid is smaller than that."""
    by_work = -(-int(CHUNK_WORK_PER_THREAD * threads) // (n_steps * dim))
    by_balance = -(-total // (CHUNKS_PER_THREAD * threads))
    return max(1, min(by_work, by_balance))


def versions():
    """``(heavyball, numpy, numba)`` versions; a chunk refuses to run under others."""
    import numba

    from .._version import __version__

    return (__version__, np.__version__, numba.__version__)


def run_chunk(pieces, common, expected):
    """Dask task: run ``[(cell, p0, p1), ...]``; returns ``steps, dead, final_loss, rate`` of those points."""
    import numba

    here = versions()
    if tuple(expected) != here:
        raise RuntimeError(f"this Dask worker runs heavyball, NumPy, Numba {here}, the client {tuple(expected)}: "
                           "bit-identical results need the same versions everywhere")
    size = sum(p1 - p0 for _, p0, p1 in pieces)
    out = _chunks.empty_outputs(size)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with _kernel_guard():
            o = 0
            for cell, p0, p1 in pieces:
                _chunks.run_piece(cell, common, p0, p1, *(a[o:o + p1 - p0] for a in out))
                o += p1 - p0
    finally:
        numba.set_num_threads(threads)
    return out


def _kernel_guard():
    """A lock when Numba's threading layer may be ``workqueue``, which aborts on concurrent parallel launches.

    OpenMP and TBB accept launches from several worker threads at once; the
    layer is known only after a first parallel call in this process.
    """
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel function has run in this process yet
        layer = None
    return _KERNEL_LOCK if layer in (None, "workqueue") else contextlib.nullcontext()


@contextlib.contextmanager
def connect(client=None, workers=None):
    """Yield a ``distributed.Client`` and shut down whatever this call started.

    ``client``: a Client (used as is, left open), or a scheduler address
    (connected to, closed on exit). None: with ``workers`` None, the current
    default client if there is one; otherwise a private ``LocalCluster`` of
    ``workers`` (default: the usable cores) single-threaded worker processes,
    closed on exit, also on error or Ctrl-C.
    """
    distributed = import_distributed()
    if isinstance(client, str):
        with distributed.Client(client, set_as_default=False) as c:
            yield c
        return
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise ValueError(f"`client` must be a distributed.Client or a scheduler address, got "
                             f"{type(client).__name__}")
        yield client
        return
    if workers is None:
        current = _current_client(distributed)
        if current is not None:
            yield current
            return
    # dashboard on a free port: two sweeps (or users) on one machine never contend for 8787
    cluster = distributed.LocalCluster(n_workers=workers or _cores(), threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    try:
        with distributed.Client(cluster, set_as_default=False) as c:
            yield c
    finally:
        cluster.close()


def _current_client(distributed):
    try:
        c = distributed.Client.current()
    except ValueError:
        return None
    return c if c.status == "running" else None


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
