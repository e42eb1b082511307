"""The real-data study's compiled logistic loss against NumPy (needs scikit-learn and torch)."""

import runpy
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "real_data.py"


@pytest.fixture(scope="module")
def mod():
    return runpy.run_path(str(SCRIPT), run_name="heavyball_example")


def test_compiled_logistic_loss_and_gradient_equal_numpy(mod, rng):
    A = rng.standard_normal((50, 4))
    s = np.where(rng.random(50) < 0.5, -1.0, 1.0)
    value, grad = mod["logistic_functions"](A, s, 0.1)
    for x in (np.zeros(4), 3.0 * rng.standard_normal(4), np.array([40.0, -40.0, 40.0, -40.0])):
        ref = np.logaddexp(0.0, -s * (A @ x)).mean() + 0.05 * x @ x
        assert value(x) == pytest.approx(ref, rel=1e-13)
        out = np.full(4, np.nan)
        grad(x, out)
        p = np.exp(-np.logaddexp(0.0, s * (A @ x)))  # sigma(-s a^T x), overflow-safe
        np.testing.assert_allclose(out, -(A.T @ (s * p)) / 50 + 0.1 * x, rtol=1e-12, atol=1e-15)
        problem = mod["as_problem"](4, value, grad)
        np.testing.assert_array_equal(problem.grad(x), out)
        fd = [(value(x + 1e-6 * e) - value(x - 1e-6 * e)) / 2e-6 for e in np.eye(4)]
        np.testing.assert_allclose(out, fd, rtol=1e-5, atol=1e-8)


def test_newton_finds_the_minimiser_of_the_breast_cancer_loss(mod):
    A, s = mod["breast_cancer"]()
    assert A.shape == (569, 31) and set(np.unique(s)) == {-1.0, 1.0}
    x_star, H, gnorm = mod["newton_minimizer"](A, s, mod["L2"])
    value, grad = mod["logistic_functions"](A, s, mod["L2"])
    out = np.empty(31)
    grad(x_star, out)
    assert gnorm < 1e-13 and np.linalg.norm(out) < 1e-12
    assert np.all(np.linalg.eigvalsh(H) >= mod["L2"] * (1 - 1e-12))  # the L2 term bounds mu from below
    for d in np.eye(31)[:5]:
        assert value(x_star + 1e-3 * d) > value(x_star)
