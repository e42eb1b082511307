"""``heavyball explore``: the work of one slider move, the rate map, and the browser's latency.

Usage (from the repository root; needs the extra ``explore``, and Selenium with Debian's
``chromium``/``chromium-driver`` for the browser part)::

    PYTHONPATH=. python benchmarks/bench_explore.py            # all three
    PYTHONPATH=. python benchmarks/bench_explore.py --no-browser

1. Server side, one move of the ``lr`` slider on a 2-D built-in with ``n_steps=2000`` (target
   < 50 ms): ``compute(state)`` (the run, the exact map, the spectrum, the flow, the contour
   window; the rate map is cached per problem/method/start) and the whole ``Explorer.update``
   (compute + pushing the new arrays into the Bokeh models), against the bare
   ``hb.optimize`` of the same run as the baseline.
2. The rate map of the current problem, ``hb.sweep`` on 128 x 128 (lr, momentum) x 500 steps,
   warm (target < 1 s).
3. In the browser (headless Chromium): from setting the slider's value in the page to the next
   animation frame after the trajectory's data source holds the new run (target < 200 ms);
   measured in the page with ``performance.now()``, 20 moves, median and max.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import time

from _common import best_times, machine

import numpy as np

import heavyball as hb
from heavyball.explore import compute, from_query
from heavyball.explore.compute import RATE_GRID, RATE_STEPS

CASES = {
    "quadratic kappa=100": "problem=quadratic&kappa=100&method=heavy_ball&lr=0.03&momentum=0.6&x0=1,1&n_steps=2000",
    "rosenbrock": "problem=rosenbrock&method=heavy_ball&lr=0.001&momentum=0.9&n_steps=2000",
    "double_well, nesterov": "problem=double_well&method=nesterov&lr=0.05&momentum=0.8&n_steps=2000",
    "rosenbrock, symplectic_euler": "problem=rosenbrock&method=symplectic_euler&mass=1&friction=3&step=0.03"
                                    "&n_steps=2000",
}


def server_side():
    from heavyball.explore.app import Explorer

    print("1. one slider move, server side (best of 15), target < 50 ms")
    for name, query in CASES.items():
        s = from_query(query)
        compute(s)  # warm: compile, rate map, contour
        ex = Explorer(query)
        lrs = iter(np.linspace(0.5, 1.0, 10_000))
        key = "step" if s.param == "physical" else "lr"
        base = getattr(s, key)

        def move():
            return s.replace(**{key: base * next(lrs)})

        v = compute(s, rates=False)
        opt = hb.SGD(v.lr, v.momentum, nesterov=s.method == "nesterov")
        t = best_times({
            "optimize": lambda: hb.optimize(v.problem, opt, v.x0, n_steps=2000),
            "compute": lambda: compute(move()),
            "Explorer.update": lambda: ex.update(move(), push_url=False),
        }, repeats=15)
        print(f"   {name:30s} compute {1e3 * t['compute']:6.2f} ms ({t['compute'] / t['optimize']:5.1f}x the bare "
              f"optimize {1e3 * t['optimize']:.2f} ms); Explorer.update {1e3 * t['Explorer.update']:6.2f} ms")


def rate_map():
    print(f"2. rate map, hb.sweep {RATE_GRID} x {RATE_GRID} x {RATE_STEPS} steps (best of 3), target < 1 s")
    for name, query in list(CASES.items())[:3]:
        s = from_query(query)
        v = compute(s)
        r = v.rates
        t = best_times({"sweep": lambda: hb.sweep(v.problem, r.lrs, r.momenta, x0=v.x0, n_steps=RATE_STEPS,
                                                  method=r.method, progress=False)}, repeats=3)
        print(f"   {name:30s} {t['sweep']:.3f} s")


MOVE_JS = """
const done = arguments[arguments.length - 1];
const doc = Bokeh.documents[0];
const src = doc.get_model_by_name('trajectory');
const slider = [...doc.all_models].find(m => m.type === 'Slider' && m.title === 'lr');
const old = src.data.x;
const t0 = performance.now();
slider.value = arguments[0];
const poll = setInterval(() => {
  if (src.data.x !== old) { clearInterval(poll); const t1 = performance.now();
    requestAnimationFrame(() => done([t1 - t0, performance.now() - t0])); }
  else if (performance.now() - t0 > 10000) { clearInterval(poll); done([-1, -1]); }
}, 1);
"""


def browser():
    from heavyball.explore._browser import chromium, open_page, start_server

    print("3. browser: slider move -> new trajectory drawn (20 moves), target < 200 ms")
    proc, url = start_server()
    d = chromium()
    try:
        for name in ("quadratic kappa=100", "rosenbrock"):
            open_page(d, url + "?" + CASES[name])
            base = from_query(CASES[name]).lr
            pairs = [d.execute_async_script(MOVE_JS, base * (0.6 + 0.02 * i)) for i in range(20)]
            arrived = [a for a, b in pairs if a >= 0]
            ms = [b for a, b in pairs if b >= 0]
            print(f"   {name:30s} drawn: median {statistics.median(ms):6.1f} ms, min {min(ms):6.1f}, "
                  f"max {max(ms):6.1f}; data arrived: median {statistics.median(arrived):6.1f} ms "
                  f"({len(pairs) - len(ms)} timeouts)")
    finally:
        d.quit()
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


if __name__ == "__main__":
    print(machine())
    print(f"load average {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    server_side()
    rate_map()
    if "--no-browser" not in sys.argv:
        browser()
