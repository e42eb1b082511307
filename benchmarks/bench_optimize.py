"""``optimize`` against a ``torch.optim.SGD`` loop and against the library's own Python loop.

Run: ``python benchmarks/bench_optimize.py`` (needs torch; ``--quick`` for a smoke run).

``optimize(Rosenbrock(), SGD(lr=1e-4, momentum=0.99))`` from ``(-1, 1)`` with
every iterate recorded, per step, against (target: at least 20x faster than
torch):

- a ``torch.optim.SGD(momentum=0.99)`` loop on a 2-element float64 tensor,
  the gradient written into ``p.grad`` through a NumPy view (the leanest
  loop we found), and the textbook loop with ``loss.backward()``;
- the library's NumPy loop over ``SGD.step`` (the fallback path), and the
  same with a cosine learning-rate schedule, restarts and gradient noise,
  which the compiled path evaluates into arrays first.
"""

import sys

import numpy as np

from _common import best_times, machine, report

import heavyball as hb
from heavyball import optimizers

QUICK = "--quick" in sys.argv


def torch_loop(n):
    """The leanest torch loop we found: no autograd, the gradient written through a NumPy view."""
    import torch

    p = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    opt = torch.optim.SGD([p], lr=1e-4, momentum=0.99, foreach=False)
    p.grad = torch.zeros(2, dtype=torch.float64)
    x, g = p.numpy(), p.grad.numpy()
    xs = np.empty((n + 1, 2))
    xs[0] = x
    for k in range(n):
        x0, x1 = x[0], x[1]
        r = x1 - x0 * x0
        g[0] = -2.0 * (1.0 - x0) - 400.0 * x0 * r
        g[1] = 200.0 * r
        opt.step()
        xs[k + 1] = x
    return xs


def torch_autograd_loop(n):
    """The textbook loop: loss, backward, step."""
    import torch

    p = torch.tensor([-1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1e-4, momentum=0.99)
    for _ in range(n):
        opt.zero_grad()
        loss = (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        opt.step()


def numpy_loop(problem, opt, n, **kw):
    x = np.array([-1.0, 1.0])
    lrs = optimizers._schedule_values(kw.get("lr_schedule"), n, "lr_schedule")
    noise = optimizers._NoiseStream(kw.get("grad_noise", 0.0), 2, kw.get("seed"), n)
    return optimizers._run(problem, opt, x, n, lrs, None, kw.get("restart_every"), noise, None, 1,
                           lambda x, k: problem.grad(x))


def main():
    try:
        import torch
    except ImportError:
        print("torch is not installed: pip install 'heavyball-dynamics[frameworks]'")
        return
    torch.set_num_threads(1)  # a 2-element tensor gains nothing from threads
    problem, opt = hb.Rosenbrock(), hb.SGD(lr=1e-4, momentum=0.99)
    n = 100_000 if QUICK else 1_000_000
    n_slow = 2_000 if QUICK else 20_000
    extras = dict(lr_schedule=hb.schedules.cosine(1e-4, 1e-6, n), restart_every=5000, grad_noise=0.1, seed=0)
    extras_slow = dict(extras, lr_schedule=hb.schedules.cosine(1e-4, 1e-6, n_slow))

    lib = hb.optimize(problem, opt, [-1.0, 1.0], n_steps=2000)
    ref = torch_loop(2000)
    # (torch fuses multiply-adds, so the iterates agree to rounding, not bit for bit)
    assert np.allclose(lib.x, ref, rtol=1e-9, atol=1e-12), "library and torch disagree"

    t = best_times({
        "library": lambda: hb.optimize(problem, opt, [-1.0, 1.0], n_steps=n),
        "library, schedule + restarts + noise": lambda: hb.optimize(problem, opt, [-1.0, 1.0], n_steps=n,
                                                                     **extras),
    }, repeats=3 if QUICK else 7)
    t.update(best_times({
        "torch.optim.SGD loop": lambda: torch_loop(n_slow),
        "torch.optim.SGD loop with autograd": lambda: torch_autograd_loop(n_slow // 4),
        "NumPy loop over SGD.step": lambda: numpy_loop(problem, opt, n_slow),
        "NumPy loop, schedule + restarts + noise": lambda: numpy_loop(problem, opt, n_slow, **extras_slow),
    }, repeats=1 if QUICK else 3))
    per = {k: v / (n if k.startswith("library") else n_slow) for k, v in t.items()}
    per["torch.optim.SGD loop with autograd"] *= 4
    report("optimize(Rosenbrock, SGD(lr=1e-4, momentum=0.99)), every iterate recorded",
           [(f"{k} per step", v * 1e9, "ns") for k, v in per.items()],
           [("torch loop / library", per["torch.optim.SGD loop"] / per["library"], lambda r: r >= 20.0),
            ("torch loop / library with schedule, restarts, noise",
             per["torch.optim.SGD loop"] / per["library, schedule + restarts + noise"], lambda r: r >= 20.0),
            ("torch loop / NumPy loop over step()",
             per["torch.optim.SGD loop"] / per["NumPy loop over SGD.step"], None)])


if __name__ == "__main__":
    print(machine())
    main()
