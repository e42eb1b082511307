"""``optimize(TorchProblem, SGD)`` against the plain PyTorch training loop it replays.

Run: ``python benchmarks/bench_torch_problem.py`` (needs torch; ``--quick`` for a smoke run;
``--threads N`` for PyTorch's intra-op threads, default 1).

A float64 MLP ``d -> 32 -> tanh -> 10`` with cross-entropy on synthetic data of the shape of
scikit-learn's digits (``n = 1797`` samples, ``d = 64`` features), ``SGD(lr=0.1,
momentum=0.9)``, per step (target: ``optimize`` within 1.5x of the loop):

- full batch: ``optimize`` (every iterate and its loss recorded) against ``zero_grad``,
  forward, ``backward``, ``step`` and ``loss.item()``;
- minibatches of 64 (``stochastic=True``) against the same loop on
  ``inputs[problem.batch(k)]``, with the full-data loss recorded only at the ends
  (``record_every = n_steps``), and every step (an extra full-data forward per step, which the
  loop does not do);
- a tiny model (``4 -> 6 -> 3``, 40 samples), where per-step Python overheads dominate.

Both sides start from the same parameters; the script first checks that they end at the same
iterate.
"""

import copy
import sys

import numpy as np

from _common import best_times, machine, report

import heavyball as hb

QUICK = "--quick" in sys.argv


def setup(n, d, hidden, classes, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (n,), generator=g)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, classes))
    return model.double(), X, y


def plain_loop(problem, n_steps, minibatch):
    """The training loop ``optimize`` replays: a fresh copy of the model, torch.optim.SGD."""
    import torch

    F = torch.nn.functional
    model = copy.deepcopy(problem.model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X, y = problem.inputs, problem.targets
    losses = np.empty(n_steps)
    for k in range(n_steps):
        if minibatch:
            idx = torch.from_numpy(problem.batch(k))
            xb, yb = X.index_select(0, idx), y.index_select(0, idx)
        else:
            xb, yb = X, y
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses[k] = loss.item()
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()


def library(problem, n_steps, minibatch, every=1):
    return hb.optimize(problem, hb.SGD(0.1, momentum=0.9), problem.x0, n_steps=n_steps,
                       stochastic=minibatch, record_every=every)


def case(title, problem, n_steps, minibatch, repeats):
    ours = library(problem, 20, minibatch).x[-1]
    theirs = plain_loop(problem, 20, minibatch)
    assert np.allclose(ours, theirs, rtol=1e-10, atol=1e-13), "library and torch disagree"
    contenders = {"plain torch loop": lambda: plain_loop(problem, n_steps, minibatch),
                  "optimize, every step recorded": lambda: library(problem, n_steps, minibatch)}
    if minibatch:
        contenders["optimize, ends recorded"] = lambda: library(problem, n_steps, minibatch, every=n_steps)
    t = best_times(contenders, repeats=repeats)
    per = {k: v / n_steps for k, v in t.items()}
    base = per["plain torch loop"]
    ratios = [(f"{k} / plain loop", v / base, (lambda r: r <= 1.5) if k != "optimize, every step recorded"
               or not minibatch else None) for k, v in per.items() if k != "plain torch loop"]
    report(title, [(f"{k} per step", v * 1e6, "us") for k, v in per.items()], ratios)


def main():
    try:
        import torch
    except ImportError:
        print("torch is not installed: pip install 'heavyball-dynamics[frameworks]'")
        return
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    torch.set_num_threads(threads)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)")
    n_steps, repeats = (20, 2) if QUICK else (200, 5)
    model, X, y = setup(1797, 64, 32, 10)
    F = torch.nn.functional
    full = hb.problems.TorchProblem(model, F.cross_entropy, X, y)
    case(f"MLP 64-32-10 on 1797 samples, full batch ({full.dim} parameters)", full, n_steps, False, repeats)
    mini = hb.problems.TorchProblem(model, F.cross_entropy, X, y, batch_size=64, seed=0)
    case("same MLP, minibatches of 64 (stochastic=True)", mini, n_steps, True, repeats)
    model, X, y = setup(40, 4, 6, 3)
    tiny = hb.problems.TorchProblem(model, F.cross_entropy, X, y)
    case(f"tiny MLP 4-6-3 on 40 samples, full batch ({tiny.dim} parameters)", tiny, n_steps, False, repeats)


if __name__ == "__main__":
    print(machine())
    main()
