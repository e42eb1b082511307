"""Worst cases: PEPit's performance estimation against closed forms, quadratics and a counterexample."""

import math
import sys

import numpy as np
import pytest

import heavyball as hb
from heavyball.pep import worst_quadratic

MU, L = 1.0, 25.0
KAPPA = L / MU
HB_LR = 4 / (math.sqrt(L) + math.sqrt(MU)) ** 2
HB_BETA = ((math.sqrt(L) - math.sqrt(MU)) / (math.sqrt(L) + math.sqrt(MU))) ** 2
NES_LR = 4 / (3 * L + MU)
NES_BETA = (math.sqrt(3 * KAPPA + 1) - 2) / (math.sqrt(3 * KAPPA + 1) + 2)
TUNED = {"gd": (2 / (L + MU), 0.0), "heavy_ball": (HB_LR, HB_BETA), "nesterov": (NES_LR, NES_BETA)}

# Clarabel's interior point stops at a relative gap of 1e-8; 1e-6 leaves a factor 100.
SDP_RTOL = 1e-6


def grid_worst_quadratic(method, lr, beta, n, size=20001):
    """Max over a fine grid of eigenvalues of the squared one-mode ratio, run by the library's own loops."""
    lam = np.linspace(MU, L, size)
    q = hb.Quadratic.diagonal(lam)  # each coordinate is one mode, x0 = 1 in every mode
    x0 = np.ones(size)
    if method == "gd":
        x = hb.optimize(q, hb.GD(lr), x0, n_steps=n).x[-1]
    elif method == "heavy_ball":
        x = hb.optimize(q, hb.SGD(lr, beta), x0, n_steps=n).x[-1]  # PyTorch starts at rest: buf = g
    else:  # physical position of the look-ahead scheme = the gradient-step sequence x_k
        h = math.sqrt(lr)
        x = hb.integrate(hb.DampedParticle(q, 1.0, (1 - beta) / h), x0, method="nesterov", step=h, n_steps=n).x[-1]
    return float(np.max(x * x))


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
@pytest.mark.parametrize("n", [1, 3, 8, 25])
def test_worst_quadratic_is_the_maximum_over_eigenvalues(method, n):
    lr, beta = TUNED[method]
    exact = worst_quadratic(method, lr, beta, MU, L, n)
    grid = grid_worst_quadratic(method, lr, beta, n)
    # a grid can only miss the peak, by at most p'' dl^2 / 8 relative ~ (n dl)^2 ~ 1e-3 here
    assert grid <= exact * (1 + 1e-11)
    assert exact <= grid * (1 + 1e-3)


def test_worst_quadratic_closed_forms():
    rho = (KAPPA - 1) / (KAPPA + 1)
    for n in (1, 4, 30):
        assert worst_quadratic("gd", 2 / (L + MU), 0.0, MU, L, n) == pytest.approx(rho ** (2 * n), rel=1e-12)
    # one step from rest is a gradient step for all three: max(|1 - lr mu|, |1 - lr L|)^2
    for method, (lr, beta) in TUNED.items():
        assert worst_quadratic(method, lr, beta, MU, L, 1) == pytest.approx(max(abs(1 - lr * MU), abs(1 - lr * L)) ** 2)
    # mu = L: e1 = (1 + beta - lr L) - beta = 0.6, e2 = 1.1 e1 - beta = 0.16
    assert worst_quadratic("heavy_ball", 0.1, 0.5, 4.0, 4.0, 2) == pytest.approx(0.16**2, rel=1e-14)


def test_heavy_ball_worst_quadratic_contracts_geometrically():
    # at the optimal tuning every mode has |roots| = sqrt(beta) = 2/3, with a Jordan block at the
    # ends of the spectrum: ratio ~ C N^2 (4/9)^N, measured C = 2.8 .. 3.1 for N >= 10
    n = np.arange(10, 81, 10)
    values = np.array([worst_quadratic("heavy_ball", HB_LR, HB_BETA, MU, L, int(k)) for k in n])
    assert np.all(np.diff(values) < 0) and values[-1] < 1e-23
    c = values / (n**2 * HB_BETA**n)
    assert np.all((2.7 < c) & (c < 3.2))


def lessard_lower_bound(n):
    """max over starting points of |x_n|^2/|x_0|^2 for heavy ball on the Lessard function (in the class)."""
    f = hb.LessardCounterexample()
    x0 = np.linspace(-5.0, 5.0, 2001)
    x0 = x0[np.abs(x0) > 1e-3]
    x_prev, x = x0.copy(), x0.copy()
    for _ in range(n):
        x_prev, x = x, x - HB_LR * f.grad(x[:, None])[:, 0] + HB_BETA * (x - x_prev)
    return float(np.max((x / x0) ** 2))


def test_the_lessard_function_beats_every_quadratic():
    # no PEPit needed: a single smooth strongly convex function already does worse than all quadratics
    # measured 3.16 vs 2.29 at N = 4, 4.93 vs 0.313 at N = 8, 4.88 vs 0.0500 at N = 11
    assert lessard_lower_bound(4) > 1.3 * worst_quadratic("heavy_ball", HB_LR, HB_BETA, MU, L, 4)
    for n in (8, 11):
        assert lessard_lower_bound(n) > 10 * worst_quadratic("heavy_ball", HB_LR, HB_BETA, MU, L, n)


def test_validation_and_import_error_without_the_extra(monkeypatch):
    with pytest.raises(ValueError, match="'gd', 'heavy_ball', 'nesterov'"):
        worst_quadratic("adam", 0.1, 0.0, MU, L, 3)
    with pytest.raises(ValueError, match="`momentum` must be 0 for method 'gd'"):
        worst_quadratic("gd", 0.1, 0.5, MU, L, 3)
    with pytest.raises(ValueError, match=r"`mu` must be in \[0, 25\]"):
        worst_quadratic("gd", 0.1, 0.0, 30.0, L, 3)
    with pytest.raises(ValueError, match="`n_steps` must be an integer >= 1"):
        hb.worst_case("gd", 0.1, 0.0, MU, L, 0)
    with pytest.raises(ValueError, match=r"`momentum` must be in \[0, 1\)"):
        hb.worst_case("heavy_ball", 0.1, 1.0, MU, L, 3)
    monkeypatch.setitem(sys.modules, "PEPit", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "PEPit.functions", None)
    with pytest.raises(ImportError, match=r"extra 'pep'.*pip install 'heavyball-dynamics\[pep\]'"):
        hb.worst_case("gd", 0.1, 0.0, MU, L, 3)
    # mu = L: one function up to shifts, no SDP: e1 = 1 - 0.1 * 4 = 0.6, e2 = 0.6 * 1.1 - 0.5 = 0.16
    assert hb.worst_case("heavy_ball", 0.1, 0.5, 4.0, 4.0, 2) == pytest.approx(0.16**2, rel=1e-14)


# ---------------------------------------------------------------- PEPit (optional extra)


@pytest.fixture
def pepit():
    return pytest.importorskip("PEPit")


@pytest.mark.pep
@pytest.mark.parametrize("mu, L_, lr, n", [(1.0, 25.0, 2 / 26, 1), (1.0, 25.0, 2 / 26, 3), (1.0, 25.0, 1 / 25, 2),
                                          (0.1, 1.0, 1.5, 2), (0.0, 1.0, 1.0, 2)])
def test_gradient_descent_matches_its_closed_form(pepit, mu, L_, lr, n):
    # tight for lr <= 2/L: max(|1 - lr mu|, |1 - lr L|)^(2N), attained on a quadratic
    want = max(abs(1 - lr * mu), abs(1 - lr * L_)) ** (2 * n)
    assert hb.worst_case("gd", lr, 0.0, mu, L_, n) == pytest.approx(want, rel=SDP_RTOL)


@pytest.mark.pep
@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_one_step_from_rest_is_a_gradient_step(pepit, method):
    lr, beta = TUNED[method]
    want = max(abs(1 - lr * MU), abs(1 - lr * L)) ** 2
    assert hb.worst_case(method, lr, beta, MU, L, 1) == pytest.approx(want, rel=SDP_RTOL)


@pytest.mark.pep
@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_worst_case_is_never_below_the_worst_quadratic(pepit, method):
    lr, beta = TUNED[method]
    for n in (2, 5):
        assert hb.worst_case(method, lr, beta, MU, L, n) >= worst_quadratic(method, lr, beta, MU, L, n) * (1 - SDP_RTOL)


@pytest.mark.pep
def test_heavy_ball_at_its_quadratic_tuning_does_not_contract(pepit):
    # Lessard-Recht-Packard tuning lr = 1/9, beta = 4/9 at mu = 1, L = 25. Measured worst cases
    # 3.1605, 7.9232, 10.262, 10.996, 11.687, 13.275 for N = 1..6 (25.18 at N = 10).
    assert (HB_LR, HB_BETA) == pytest.approx((1 / 9, 4 / 9), rel=1e-15)
    n = np.arange(1, 7)
    worst = np.array([hb.worst_case("heavy_ball", HB_LR, HB_BETA, MU, L, int(k)) for k in n])
    quad = np.array([worst_quadratic("heavy_ball", HB_LR, HB_BETA, MU, L, int(k)) for k in n])
    assert np.all(worst > 1) and np.all(np.diff(worst) > 0)  # grows with N
    assert worst[-1] > 10 and quad[-1] < 1  # while the worst quadratic already contracts
    for k in (4, 6):  # and it is above the ratio reached on the Lessard function (a member of the class)
        assert worst[k - 1] >= lessard_lower_bound(k) * (1 - SDP_RTOL)


@pytest.mark.pep
def test_nesterov_at_its_tuning_grows_then_contracts(pepit):
    # measured 2.676, 1.633, 0.487 at N = 4, 8, 12 (0.022 at N = 20): a transient above 1, within
    # the Lyapunov bound (1 + kappa)(1 - 1/sqrt(kappa))^N up to constants, then geometric decay
    lr, beta = TUNED["nesterov"]
    values = [hb.worst_case("nesterov", lr, beta, MU, L, n) for n in (4, 8, 12)]
    assert values[0] > 1 and values[0] > values[1] > values[2] and values[2] < 0.5


@pytest.mark.pep
def test_nesterov_textbook_tuning_respects_the_estimate_sequence_bound(pepit):
    # Nesterov (2004, thm 2.2.3), lr = 1/L, beta = (sqrt k - 1)/(sqrt k + 1), y0 = x0:
    # f(x_N) - f* <= (1 - 1/sqrt k)^N (f(x0) - f* + mu/2 |x0 - x*|^2), hence
    # |x_N - x*|^2 <= (1 + kappa) (1 - 1/sqrt kappa)^N |x0 - x*|^2: an upper bound from theory.
    beta = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)
    for n in (2, 6, 10):
        worst = hb.worst_case("nesterov", 1 / L, beta, MU, L, n)
        assert worst <= (1 + KAPPA) * (1 - 1 / math.sqrt(KAPPA)) ** n
        assert worst >= worst_quadratic("nesterov", 1 / L, beta, MU, L, n) * (1 - SDP_RTOL)


def test_worst_quadratic_agrees_with_the_spectral_iteration_matrix():
    spectral = pytest.importorskip("heavyball.spectral", reason="heavyball.spectral lands with the spectral issue")
    lam = np.linspace(MU, L, 2001)
    for method, (lr, beta) in TUNED.items():
        R = np.array([spectral.iteration_matrix(np.array([[li]]), lr, beta, method) for li in lam])
        start = np.ones((len(lam), R.shape[1], 1))  # from rest: e_0 = e_{-1} = 1 (the x_k of Nesterov)
        for n in (3, 9):
            e_n = (np.linalg.matrix_power(R, n) @ start)[:, 0, 0]
            grid = float(np.max(e_n**2))
            exact = worst_quadratic(method, lr, beta, MU, L, n)
            assert grid <= exact * (1 + 1e-11) and exact <= grid * (1 + 1e-3), (method, n)
