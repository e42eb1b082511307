"""Shared helpers of the benchmark scripts (not part of the test run).

Every benchmark warms up each contender (compiling it), then times the
contenders in turn, ``repeats`` rounds, and keeps the minimum of each: on a
shared machine the minimum is the run least disturbed by other processes.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, ROOT)


def best_times(contenders, repeats=7, clock=time.perf_counter):
    """``{name: min seconds}`` over ``repeats`` interleaved rounds (after one warm-up call each).

    ``clock`` is wall time by default; ``time.process_time`` (CPU seconds of
    all threads of this process) is less sensitive to other processes taking
    a core away from a parallel kernel.
    """
    for fn in contenders.values():
        fn()
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            t = clock()
            fn()
            best[name] = min(best[name], clock() - t)
    return best


def machine():
    """One line: CPU model, cores, Python, NumPy and Numba versions, Numba threads."""
    import numba
    import numpy

    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return (f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"NumPy {numpy.__version__}, Numba {numba.__version__} ({numba.get_num_threads()} threads)")


QUICK = "--quick" in sys.argv


def report(title, rows, ratios):
    """Print the ratios first (with a verdict against the target), then the per-unit timings.

    A ``--quick`` run uses sizes too small for the targets (fixed costs dominate): no verdict.
    """
    print(f"== {title}")
    for text, value, target in ratios:
        if target is None:
            verdict = ""
        elif QUICK:
            verdict = "  [quick run: sizes too small for a verdict]"
        else:
            verdict = "  [target met]" if target(value) else "  [TARGET MISSED]"
        print(f"  {text}: {value:.2f}x{verdict}")
    for text, value, unit in rows:
        print(f"    {text}: {value:.3g} {unit}")
    sys.stdout.flush()
