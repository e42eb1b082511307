"""``sweep(backend="dask")`` on a LocalCluster against the single-process kernel.

Run: ``python benchmarks/bench_dask.py`` (``--quick`` for a smoke run). Needs
the ``dask`` extra.

A LocalCluster of 2 worker processes, 1 thread each (one chunk at a time per
worker, the kernel on one Numba thread), on the same machine as the client and
the scheduler. This machine has 2 cores, shared with other developers' jobs:
the client, the scheduler and both workers compete for them, so the overhead
measured here is an upper bound of what a cluster with a dedicated scheduler
would see, and every time is the minimum of several repeats.

Grid: heavy ball on the kappa = 100 quadratic ``diag(1, 100)`` from ``(1, 1)``,
512 x 512 points (``lr`` 1e-4 ... 5e-3, momentum 0.9 ... 0.99, where no point
diverges or underflows, so every chunk of a given size costs the same), 2000
steps: 5.2e8 trajectory-steps. Measured:

1. the per-trajectory-step cost ``t1`` of the kernel on one thread, in this
   process, and the single-process sweep on both cores (``backend="numba"``);
2. the Dask sweep with its default chunks, and its ratio to the single process;
3. the overhead per chunk ``o``: the slope of the wall time of sweeps made of
   K chunks of negligible work (32 points, 1 step) against K; the worker-side
   share of it (the task's own run time, from Dask's task stream); the time of
   a sweep of one such chunk (the fixed cost of a Dask sweep);
4. in the default Dask sweep, the compute time of every chunk on its worker
   (Dask's task stream), to separate slower computing from scheduling;
5. the wall time against the chunk size ``c`` (trajectory-steps per chunk),
   next to the model ``T = W t1 / 2 + (W / c) o`` (the kernel split over the
   2 workers plus each chunk's overhead, paid in series), and the chunk size
   at which the overhead drops below 5 %: of a chunk's time,
   ``o / (o + c t1) < 0.05`` or ``c > 19 o / t1``; of the wall time with 2
   workers, ``2 o / (c t1) < 0.05`` or ``c > 38 o / t1``; and the smallest
   measured ``c`` within 5 % of the single process.
"""

import sys
import time

import numba
import numpy as np

from _common import QUICK, machine, report

import heavyball as hb

try:
    import distributed
except ImportError:
    sys.exit("bench_dask.py needs the dask extra: pip install 'heavyball-dynamics[dask]'")

N_STEPS = 500 if QUICK else 2000
SIZE = 128 if QUICK else 512
REPEATS = 2 if QUICK else 5
Q = hb.Quadratic.from_condition_number(100.0)
LRS, MOMS = np.linspace(1e-4, 0.005, SIZE), np.linspace(0.9, 0.99, SIZE)
WORK = SIZE * SIZE * N_STEPS  # trajectory-steps


def settled_best_times(contenders, repeats, pause=0.5):
    """``best_times`` with a pause before each timed call.

    After a parallel Numba kernel returns, its OpenMP threads keep spinning for
    a while (libgomp's default wait policy) and take CPU from whatever runs
    next on these 2 cores: a Dask sweep timed right after a local one was 5 to
    8 % slower than the same sweep timed after another Dask sweep. The pause
    lets them go to sleep.
    """
    for fn in contenders.values():
        fn()
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            time.sleep(pause)
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def big(**kwargs):
    return hb.sweep(Q, LRS, MOMS, x0=[1.0, 1.0], n_steps=N_STEPS, progress=False, **kwargs)


def trivial(client, k):
    """K chunks of 32 points and one step each: nearly pure overhead."""
    return hb.sweep(Q, np.linspace(1e-4, 0.005, 32), np.linspace(0.9, 0.99, k), x0=[1.0, 1.0], n_steps=1,
                    backend="dask", client=client, chunk_size=32, progress=False)


def per_chunk_overhead(client):
    ks = (1, 50, 200) if QUICK else (1, 100, 400)
    t = settled_best_times({k: (lambda k=k: trivial(client, k)) for k in ks}, REPEATS)
    slope = (t[ks[2]] - t[ks[1]]) / (ks[2] - ks[1])
    with distributed.get_task_stream(client=client) as stream:
        trivial(client, ks[1])
    runs = [sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
            for task in stream.data]
    return slope, t[1], float(np.median(runs))


def worker_compute(client):
    """Wall time, summed worker compute time and number of chunks of one default Dask sweep (task stream)."""
    best = None
    for _ in range(REPEATS):
        with distributed.get_task_stream(client=client) as stream:
            t = time.perf_counter()
            big(backend="dask", client=client)
            wall = time.perf_counter() - t
        runs = [s["stop"] - s["start"] for task in stream.data for s in task["startstops"] if s["action"] == "compute"]
        if best is None or wall < best[0]:
            best = (wall, sum(runs), len(runs))
    return best


def one_thread():
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return big()
    finally:
        numba.set_num_threads(threads)


def main():
    print(machine())
    t = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    startup = time.perf_counter() - t
    try:
        t = time.perf_counter()
        remote, local = big(backend="dask", client=client), big()
        first = time.perf_counter() - t
        assert all(np.array_equal(getattr(remote, f), getattr(local, f)) for f in remote.ARRAYS), "results differ"
        assert not local.diverged.any()
        sizes = [256, 1024, 4096] if QUICK else [256, 1024, 4096, 16384, 65536]
        contenders = {"local": big, "one thread": one_thread, "dask": lambda: big(backend="dask", client=client)}
        contenders.update({c: (lambda c=c: big(backend="dask", client=client, chunk_size=c)) for c in sizes})
        times = settled_best_times(contenders, REPEATS)  # interleaved rounds: the load changes alike for all
        one = times["one thread"]
        t1 = one / WORK
        o, fixed, worker_side = per_chunk_overhead(client)
        wall, computing, chunks = worker_compute(client)
        c5_model = 19.0 * o / t1
        within = [c * N_STEPS for c in sizes if times[c] <= 1.05 * times["local"]]
        ratios = [
            ("Dask, 2 workers, default chunks / single process, 2 Numba threads", times["dask"] / times["local"], None),
            ("Dask, 2 workers / one thread x 1/2 (perfect split of the one-thread kernel)",
             times["dask"] / (one / 2), None),
            ("single process, 2 threads / one thread x 1/2", times["local"] / (one / 2), None),
            ("Dask worker compute (summed) / one-thread kernel: the kernel itself runs slower on busy cores",
             computing / one, None),
        ]
        rows = [
            ("kernel, one thread, per trajectory-step (t1)", t1 * 1e9, "ns"),
            ("single process, 2 threads, per trajectory-step", times["local"] / WORK * 1e9, "ns"),
            ("Dask, default chunks, per trajectory-step", times["dask"] / WORK * 1e9, "ns"),
            (f"Dask, default chunks ({chunks}), worker compute summed over workers, per trajectory-step",
             computing / WORK * 1e9, "ns"),
            ("  same run: time the 2 workers were not computing, per chunk (2 wall - compute) / chunks",
             (2 * wall - computing) / chunks * 1e3, "ms"),
            ("overhead per chunk (o, slope over trivial chunks)", o * 1e3, "ms"),
            ("  of which the task itself on the worker (median)", worker_side * 1e3, "ms"),
            ("a Dask sweep of one trivial chunk (fixed cost per sweep: scatter, submit, gather)", fixed * 1e3, "ms"),
            ("LocalCluster start-up (2 processes)", startup, "s"),
            ("first Dask sweep (workers import heavyball, load the kernel cache) + first local sweep", first, "s"),
        ]
        report(f"sweep on a LocalCluster (2 workers x 1 thread, 2 shared cores), {SIZE} x {SIZE} grid, "
               f"{N_STEPS} steps, kappa = 100, heavy ball: {WORK:.3g} trajectory-steps", rows, ratios)
        print(f"  chunk size for < 5 % overhead: o / (o + c t1) < 5 % of a chunk at c = 19 o / t1 = {c5_model:.3g} "
              f"trajectory-steps ({c5_model * t1:.3g} s of kernel time); < 5 % of the wall time with 2 workers "
              f"sharing one scheduler (Amdahl, 2 o / (c t1) < 5 %) at c = 38 o / t1 = {2 * c5_model:.3g}; measured: "
              + (f"{min(within):.3g} trajectory-steps within 5 % of the single process" if within
                 else "no chunk size tried came within 5 % of the single process"))
        print("    chunk (points, trajectory-steps): wall time / single process")
        for c in sizes:
            steps, chunks = c * N_STEPS, -(-SIZE * SIZE // c)
            # model wall time: the kernel split over 2 workers plus every chunk's overhead, not overlapped
            model = WORK * t1 / 2 + chunks * o
            print(f"    {c:6d} pts, {steps:9.3g} ({chunks:5d} chunks): measured {times[c] / times['local']:.2f}x, "
                  f"model {model / times['local']:.2f}x; overhead o / (o + c t1) = {o / (o + steps * t1):.1%}")
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
