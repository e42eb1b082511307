"""Independent slow re-implementations used as test oracles.

Written coordinate by coordinate over plain Python floats, straight from the
frameworks' documented update rules, sharing no code with ``heavyball``.
"""

import math

import numpy as np


def sgd_torch(grad, x0, n, lr, momentum=0.0, dampening=0.0, nesterov=False,
              weight_decay=0.0, maximize=False, lrs=None, moms=None, restart_every=None):
    x = [float(c) for c in x0]
    buf = None
    out = [list(x)]
    for k in range(n):
        if restart_every and k and k % restart_every == 0:
            buf = None
        a = lrs[k] if lrs is not None else lr
        mu = moms[k] if moms is not None else momentum
        g = [float(c) for c in grad(x)]
        d = [(-gi if maximize else gi) + weight_decay * xi for gi, xi in zip(g, x)]
        if mu != 0:
            if buf is None:
                buf = list(d)
            else:
                buf = [mu * b + (1 - dampening) * di for b, di in zip(buf, d)]
            d = [di + mu * b for di, b in zip(d, buf)] if nesterov else list(buf)
        x = [xi - a * di for xi, di in zip(x, d)]
        out.append(list(x))
    return out


def sgd_keras(grad, x0, n, lr, momentum=0.0, nesterov=False, weight_decay=0.0, lrs=None):
    x = [float(c) for c in x0]
    u = [0.0] * len(x)
    out = [list(x)]
    for k in range(n):
        a = lrs[k] if lrs is not None else lr
        g = [float(c) for c in grad(x)]
        x = [xi - xi * weight_decay * a for xi in x]
        if momentum == 0:
            x = [xi - gi * a for xi, gi in zip(x, g)]
        else:
            u = [momentum * ui - a * gi for ui, gi in zip(u, g)]
            if nesterov:
                x = [xi + momentum * ui - a * gi for xi, ui, gi in zip(x, u, g)]
            else:
                x = [xi + ui for xi, ui in zip(x, u)]
        out.append(list(x))
    return out


def adam_torch(grad, x0, n, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False):
    x = [float(c) for c in x0]
    m = [0.0] * len(x)
    s = [0.0] * len(x)
    smax = [0.0] * len(x)
    out = [list(x)]
    for k in range(1, n + 1):
        g = [float(c) + weight_decay * xi for c, xi in zip(grad(x), x)]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        s = [b2 * si + (1 - b2) * gi * gi for si, gi in zip(s, g)]
        smax = [max(a, b) for a, b in zip(smax, s)]
        use = smax if amsgrad else s
        mhat = [mi / (1 - b1**k) for mi in m]
        shat_sqrt = [math.sqrt(si) / math.sqrt(1 - b2**k) for si in use]
        x = [xi - lr * mh / (sh + eps) for xi, mh, sh in zip(x, mhat, shat_sqrt)]
        out.append(list(x))
    return out


def rel_err(a, b):
    """Max absolute difference relative to the scale of the iterates."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


def check_derivatives(problem, points, eps=1e-6):
    """Gradient and Hessian of ``problem`` against central differences at each point.

    Central differences err by ~eps^2 |f'''| + 1e-16 |f| / eps, well below 1e-6 of the
    scale of the derivatives for the smooth test problems.
    """
    eye = np.eye(problem.dim)
    for x in points:
        fd_g = np.array([(problem.value(x + eps * e) - problem.value(x - eps * e)) / (2 * eps) for e in eye])
        fd_h = np.array([(problem.grad(x + eps * e) - problem.grad(x - eps * e)) / (2 * eps) for e in eye])
        g, H = problem.grad(x), problem.hessian(x)
        scale = 1.0 + np.max(np.abs(H)) + np.max(np.abs(g))
        np.testing.assert_allclose(g, fd_g, atol=1e-6 * scale)
        np.testing.assert_allclose(H, fd_h.T, atol=1e-6 * scale)
        np.testing.assert_allclose(H, H.T, atol=1e-12 * scale)


def check_broadcast(problem, x):
    """``value``/``grad``/``hessian`` on a batch ``x`` of shape (a, b, dim) equal point-by-point calls."""
    a, b = x.shape[:2]
    vals, grads, hess = problem.value(x), problem.grad(x), problem.hessian(x)
    assert vals.shape == (a, b) and grads.shape == x.shape and hess.shape == (a, b, problem.dim, problem.dim)
    for i in range(a):
        for j in range(b):
            np.testing.assert_allclose(vals[i, j], float(problem.value(x[i, j])), rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(grads[i, j], problem.grad(x[i, j]), rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(hess[i, j], problem.hessian(x[i, j]), rtol=1e-13, atol=1e-13)
