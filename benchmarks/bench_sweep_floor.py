"""Cost of measuring the sweep's rate before the float floor (issue 17, item 11).

Points whose distance ends below ``FLOOR_DISTANCE`` are run again for
``steps_to_tol`` steps. This times a sweep where most points reach the floor
(heavy ball on diag(1, 10), 5000 steps) against the same sweep with the
re-run switched off (the old rate, 0 at the floor), in the same process.

    python benchmarks/bench_sweep_floor.py
"""

import numpy as np

from _common import best_times, machine

import heavyball as hb
from heavyball.sweeps import _chunks as sweep_module


def main():
    q = hb.Quadratic.from_condition_number(10.0)
    lrs, moms = np.linspace(0.01, 0.2, 120), np.linspace(0.0, 0.9, 100)
    kw = dict(x0=[1.0, 1.0], n_steps=5000, method="heavy_ball")
    res = hb.sweep(q, lrs, moms, **kw)
    floor = ~res.diverged & (res.final_loss == 0.0)
    real = sweep_module._rate_before_floor

    def without():
        sweep_module._rate_before_floor = lambda cell, common, points, steps: np.zeros(len(points))
        try:
            hb.sweep(q, lrs, moms, **kw)
        finally:
            sweep_module._rate_before_floor = real

    times = best_times({"with re-run": lambda: hb.sweep(q, lrs, moms, **kw), "without": without}, repeats=5)
    print(machine())
    print(f"grid {len(moms)} x {len(lrs)}, {kw['n_steps']} steps; {int(floor.sum())} of {floor.size} points "
          f"reach the floor; rates in (0, 1) there: {bool(np.all((res.rate[floor] > 0) & (res.rate[floor] < 1)))}")
    for name, t in times.items():
        print(f"  {name:<12} {t * 1e3:8.1f} ms")
    print(f"  ratio with/without: {times['with re-run'] / times['without']:.2f}")


if __name__ == "__main__":
    main()
