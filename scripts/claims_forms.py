"""Claims: the EMA, PyTorch, Keras and Nesterov forms are the same
===============================================================

Claims that two update rules are "the same": the EMA form vs the learning-rate-inside form
("scale the learning rate by (1 - beta)"), PyTorch vs Keras ("the behavior is equivalent, but
hyperparameters ... may not directly transfer"), the course page's Nesterov class vs
torch.optim.SGD(nesterov=True), the Q&A page's NAG and its symplectic-Euler map
(alpha = eta*eps/m), "mass is irrelevant", and gradient descent as Euler's method with
eta = Delta t.

Each pair is run side by side on Rosenbrock's valley from (-1.2, 1); the figure shows the
largest deviation of the iterates up to each step.

    PYTHONPATH=. python scripts/claims_forms.py [--quick] [--out DIR]
"""

from __future__ import annotations

import numpy as np

# claims_common first: it puts this checkout on sys.path when run without PYTHONPATH=.
from claims_common import figure, parse_args, save
import heavyball as hb

X0 = np.array([-1.2, 1.0])


def course_class_iterates(problem, x0, n_steps, lr, beta, weight_decay=0.0, nesterov=False):
    """The update rule of the course page's ``MomentumSGD`` class, re-implemented from its text.

    ``g = grad + wd x``; ``v = beta v + g`` (v starts at 0); the step is ``x -= lr v`` or,
    with ``nesterov``, ``x -= lr (beta v + g)`` using the freshly updated ``v``.
    """
    x, v = np.array(x0, dtype=float), np.zeros(len(x0))
    out = [x.copy()]
    for _ in range(n_steps):
        g = problem.grad(x) + weight_decay * x
        v = beta * v + g
        x = x - lr * (beta * v + g if nesterov else v)
        out.append(x.copy())
    return np.array(out)


def sutskever_nag(problem, x0, n_steps, eta, gamma):
    """The Q&A page's NAG: ``v = gamma v + eta grad(theta - gamma v)``, ``theta -= v``.

    Returns ``(theta, v)`` histories, shape ``(n_steps + 1, dim)`` each.
    """
    th, v = np.array(x0, dtype=float), np.zeros(len(x0))
    ths, vs = [th.copy()], [v.copy()]
    for _ in range(n_steps):
        v = gamma * v + eta * problem.grad(th - gamma * v)
        th = th - v
        ths.append(th.copy())
        vs.append(v.copy())
    return np.array(ths), np.array(vs)


def torch_iterates(problem, x0, n_steps, lr_of_step=None, **sgd_kwargs):
    """``torch.optim.SGD`` iterates in float64, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    p = torch.tensor(np.asarray(x0, dtype=np.float64), requires_grad=False)
    p = torch.nn.Parameter(p)
    opt = torch.optim.SGD([p], **sgd_kwargs)
    out = [p.detach().numpy().copy()]
    for k in range(n_steps):
        if lr_of_step is not None:
            opt.param_groups[0]["lr"] = float(lr_of_step[k])
        p.grad = torch.tensor(problem.grad(p.detach().numpy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def running_max_deviation(a, b):
    """max_{j <= k} |a_j - b_j|_inf / max(1, |b_j|_inf) for each k."""
    d = np.max(np.abs(a - b), axis=1) / np.maximum(1.0, np.max(np.abs(b), axis=1))
    return np.maximum.accumulate(d)


def seed_map_iterates(problem, x0, n_steps, m, eps, eta):
    """Heavy ball with the Q&A page's coefficients: momentum ``eta eps / m``, lr ``eta^2 / m``."""
    return hb.optimize(problem, hb.SGD(eta**2 / m, eta * eps / m), x0, n_steps=n_steps).x


def comparisons(n_steps):
    """name -> running max deviation, for every pair of update rules."""
    p = hb.Rosenbrock()
    lr, beta = 1e-3, 0.9
    out = {}
    ema = hb.optimize(p, hb.EMAMomentum(lr / (1 - beta), beta), X0, n_steps=n_steps).x
    sgd = hb.optimize(p, hb.SGD(lr, beta), X0, n_steps=n_steps).x
    out["EMA(lr/(1-b), b) vs SGD(lr, b)"] = running_max_deviation(ema, sgd)
    ramp = hb.schedules.linear(0.5, 0.9, n_steps // 2)
    ema_s = hb.optimize(p, hb.EMAMomentum(lr / (1 - beta), beta), X0, n_steps=n_steps, momentum_schedule=ramp).x
    lr_k = np.array([lr / (1 - beta) * (1 - ramp(k)) for k in range(n_steps)])
    sgd_s = hb.optimize(p, hb.SGD(lr, beta), X0, n_steps=n_steps, momentum_schedule=ramp,
                        lr_schedule=lambda k: lr_k[k]).x
    out["same, momentum 0.5->0.9 (lr scaled per step)"] = running_max_deviation(ema_s, sgd_s)
    keras = hb.optimize(p, hb.KerasSGD(lr, beta), X0, n_steps=n_steps).x
    out["Keras vs PyTorch, constant lr"] = running_max_deviation(keras, sgd)
    decay = hb.schedules.step_decay(lr, 0.1, n_steps // 3)
    keras_d = hb.optimize(p, hb.KerasSGD(lr, beta), X0, n_steps=n_steps, lr_schedule=decay).x
    sgd_d = hb.optimize(p, hb.SGD(lr, beta), X0, n_steps=n_steps, lr_schedule=decay).x
    out["Keras vs PyTorch, lr / 10 every n/3 steps"] = running_max_deviation(keras_d, sgd_d)
    theirs = torch_iterates(p, X0, n_steps, lr=lr, momentum=beta, nesterov=True, weight_decay=0.01)
    if theirs is not None:
        course = course_class_iterates(p, X0, n_steps, lr, beta, weight_decay=0.01, nesterov=True)
        out["course class (Nesterov, wd) vs torch"] = running_max_deviation(course, theirs)
        th, v = sutskever_nag(p, X0, n_steps, lr, beta)
        torch_nag = torch_iterates(p, X0, n_steps, lr=lr, momentum=beta, nesterov=True)
        out["Q&A NAG look-ahead theta - gamma v vs torch"] = running_max_deviation(th - beta * v, torch_nag)
        out["Q&A NAG theta vs torch"] = running_max_deviation(th, torch_nag)
    m, eps, eta = 1.0, 3.0, 0.03  # mass, friction, step
    phys = hb.integrate(hb.DampedParticle(p, m, eps), X0, method="symplectic_euler", step=eta, n_steps=n_steps).x
    right = hb.optimize(p, hb.SGD(eta**2 / m, 1 - eta * eps / m), X0, n_steps=n_steps).x
    out["symplectic Euler vs momentum 1 - eta eps/m"] = running_max_deviation(right, phys)
    out["symplectic Euler vs Q&A momentum eta eps/m"] = running_max_deviation(
        seed_map_iterates(p, X0, n_steps, m, eps, eta), phys)
    return out


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], argv)
    n_steps = 300 if args.quick else 3000
    out = comparisons(n_steps)
    width = max(len(k) for k in out)
    for name, dev in out.items():
        print(f"{name:<{width}}  max deviation over {n_steps} steps: {dev[-1]:.3g}")
    fig, (ax,) = figure(1, 1, width=8.5, height=4.5)
    k = np.arange(n_steps + 1)
    for i, (name, dev) in enumerate(out.items()):
        ax.plot(k[1:], np.maximum(dev[1:], 1e-18), label=name, color=f"C{i % 10}",
                ls="-" if dev[-1] < 1e-12 else "--")
    ax.axhline(2.2e-16, color="0.5", lw=0.8, ls=":")
    ax.annotate("machine epsilon", (1, 2.2e-16), fontsize=7, color="0.4", xytext=(0, 3),
                textcoords="offset points")
    ax.set(xscale="log", yscale="log", ylim=(1e-18, 10), xlabel="step k",
           ylabel="max relative deviation of iterates so far",
           title="Which update rules are the same? (solid: equal to rounding; dashed: they differ)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    save(fig, args.out, "claims_forms")
    return out


if __name__ == "__main__":
    main()
