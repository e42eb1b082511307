"""Cost of the input checks added for issue 17 (sizes, kinds of values, schedule values).

Prints ratios against baselines run in the same process:

* a Python ``lr_schedule`` evaluated by ``schedules.evaluate`` (every value
  checked to be a real number) against a bare ``np.array([f(k) for k ...])``;
* ``optimize`` with a checked ``momentum_schedule`` (range check per value)
  against the same run with the values as a constant;
* a whole short ``optimize`` call (all validators) against the run itself
  measured through the kernel-sized workload, to show the fixed overhead.

Run: ``PYTHONPATH=. python benchmarks/bench_validation.py``
"""

import time

import numpy as np

import heavyball as hb
from heavyball import schedules


def best(fn, repeat=7):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    n = 100_000
    f = lambda k: 0.1 / (1.0 + 1e-4 * k)  # noqa: E731
    checked = best(lambda: schedules.evaluate(f, n, "lr_schedule"))
    bare = best(lambda: np.array([f(k) for k in range(n)], dtype=np.float64))
    print(f"schedule of {n} Python values: checked {checked * 1e3:.1f} ms, bare {bare * 1e3:.1f} ms, "
          f"ratio {checked / bare:.2f}")

    q = hb.Quadratic.from_condition_number(100.0, dim=10)
    opt = hb.SGD(0.01, 0.9)
    x0 = np.ones(10)
    hb.optimize(q, opt, x0, n_steps=10)  # compile
    sched = best(lambda: hb.optimize(q, opt, x0, n_steps=n, momentum_schedule=schedules.constant(0.9)))
    const = best(lambda: hb.optimize(q, opt, x0, n_steps=n))
    print(f"optimize {n} steps, dim 10: with a checked momentum schedule {sched * 1e3:.1f} ms, "
          f"constant {const * 1e3:.1f} ms, ratio {sched / const:.2f}")

    short = best(lambda: hb.optimize(q, opt, x0, n_steps=1), repeat=200)
    print(f"optimize, 1 step (all validators + kernel call): {short * 1e6:.0f} us; "
          f"{n}-step run {const * 1e6:.0f} us; fixed overhead is {short / const:.1%} of that run")


if __name__ == "__main__":
    main()
