"""``heavyball tour`` from a cold and from a warm compile cache, each in a fresh process.

Run: ``python benchmarks/bench_tour.py`` (``--full`` for the full tour instead of ``--quick``).

"Cold" points ``NUMBA_CACHE_DIR`` at an empty directory, as on a fresh install:
every kernel the tour uses compiles (and is written to that cache). "Warm"
reruns with the filled cache: the tour's own work (NumPy, SciPy, PyTorch's
import for the map check, Matplotlib). The difference is what compiling
costs. Each row is the minimum over ``--repeats`` processes (default 2) of
wall time, with the processes' CPU time (user + system, from ``getrusage``)
beside it: on a shared machine the CPU time is the steadier figure.
Targets (issue 16): quick tour under 15 s cold, full tour under 30 s cold.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time

from _common import ROOT, machine

FULL = "--full" in sys.argv
REPEATS = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 2


def tour(cache_dir, out):
    """Wall and CPU seconds of one ``python -m heavyball tour`` process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=ROOT, PYTHONDONTWRITEBYTECODE="1")
    args = [sys.executable, "-m", "heavyball", "tour", "--out", out] + ([] if FULL else ["--quick"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    cold, warm = [], []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
            cold.append(tour(cache, out))
            warm.append(tour(cache, out))
    (cw, cc), (ww, wc) = min(cold), min(warm)
    goal = 30.0 if FULL else 15.0
    name = "full" if FULL else "quick"
    print(f"== heavyball tour --{name}, fresh process, min of {REPEATS}")
    print(f"  cold cache: {cw:.1f} s wall ({cc:.1f} s CPU)  "
          f"[{'target met' if cw < goal else 'TARGET MISSED'}: < {goal:g} s]")
    print(f"  warm cache: {ww:.1f} s wall ({wc:.1f} s CPU)")
    print(f"  compiling (cold - warm): {cw - ww:.1f} s wall ({cc - wc:.1f} s CPU)")


if __name__ == "__main__":
    print(machine())
    main()
