"""Tests of heavyball.spectral against closed forms, numpy/dense eigen-solves, exact
rational arithmetic and simulated iterates of heavyball.optimize / heavyball.integrate."""

import decimal
import doctest
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, event, example, given
from hypothesis import strategies as st

import heavyball as hb
from heavyball import spectral

from .oracles import rel_err

EPS = np.finfo(float).eps
KAPPAS = (10.0, 100.0, 1000.0, 10000.0)
# The seed course page's table, to the digits it prints.
SEED_GD = (0.818, 0.980, 0.998, 0.9998)
SEED_HB = (0.519, 0.818, 0.939, 0.980)
PHYSICAL = ["explicit_euler", "symplectic_euler", "conformal_symplectic_euler", "nesterov",
            "implicit_friction_euler"]


def random_spd(rng, eigenvalues):
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    H = (Q * np.asarray(eigenvalues)) @ Q.T
    return 0.5 * (H + H.T), Q


def poly(method, lam, lr, beta):
    """Per-mode characteristic polynomial written out independently of the library."""
    a = lr * lam
    if method == "gd":
        return [1.0, -(1.0 - a), 0.0]
    if method == "heavy_ball":
        return [1.0, -(1.0 + beta - a), beta]
    return [1.0, -(1.0 + beta) * (1.0 - a), beta * (1.0 - a)]


def same_roots(z, ref, tol):
    """Both root pairs agree as multisets (either order)."""
    z, ref = np.asarray(z), np.asarray(ref)
    return min(np.max(np.abs(z - ref)), np.max(np.abs(z[::-1] - ref))) <= tol


def optimizer_for(method, lr, beta):
    if method == "gd":
        return hb.GD(lr)
    return hb.SGD(lr, beta, nesterov=method == "nesterov")


# ----------------------------------------------------------------------------- the seed table

def test_rate_table_closed_forms_and_seed_values():
    rows = spectral.rate_table(KAPPAS)
    for row, k, gd, hb_ in zip(rows, KAPPAS, SEED_GD, SEED_HB):
        s = math.sqrt(k)
        # closed forms evaluated here in another arrangement; agreement to a few ulps
        assert row.gd_rate == pytest.approx(1.0 - 2.0 / (k + 1.0), rel=1e-12, abs=0)
        assert row.heavy_ball_rate == pytest.approx(1.0 - 2.0 / (s + 1.0), rel=1e-12, abs=0)
        assert row.nesterov_rate == pytest.approx((math.sqrt(3 * k + 1) - 2) / math.sqrt(3 * k + 1), rel=1e-12)
        # the seed's printed digits
        assert round(row.gd_rate, len(str(gd)) - 2) == gd
        assert round(row.heavy_ball_rate, 3) == hb_


def test_rate_table_steps_are_the_smallest_sufficient():
    # oracle in 50-digit decimals: float rate**steps loses ~steps * eps for kappa = 1e8
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        target = Decimal("1e-6").ln()
        for row in spectral.rate_table([1.5, 2.0, *KAPPAS, 1e8]):
            k = Decimal(row.kappa)
            exact = ((k - 1) / (k + 1), (k.sqrt() - 1) / (k.sqrt() + 1), 1 - 2 / (3 * k + 1).sqrt())
            steps = (row.gd_steps, row.heavy_ball_steps, row.nesterov_steps)
            for rate, n in zip(exact, steps):
                assert n * rate.ln() <= target < (n - 1) * rate.ln()
    # kappa = 1: every method solves the problem in one step (rate 0)
    row = spectral.rate_table(1.0)[0]
    assert (row.gd_rate, row.heavy_ball_rate, row.nesterov_rate) == (0.0, 0.0, 0.0)
    assert (row.gd_steps, row.heavy_ball_steps, row.nesterov_steps) == (1, 1, 1)


def test_rate_table_huge_kappa_returns_and_agrees_with_decimals():
    # Past 2**53 steps the rounding guard used to walk back one integer at a time
    # (rate_table([1e100]) never returned). Run in a child so a regression fails, not hangs.
    import subprocess
    import sys

    code = "from heavyball import spectral; r = spectral.rate_table([1e20, 1e100, 1e300]); print(r[1].gd_steps)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    with decimal.localcontext() as ctx:
        ctx.prec = 400
        k = Decimal("1e100")
        exact = Decimal("1e-6").ln() / ((k - 1) / (k + 1)).ln()
    assert abs(int(out.stdout) - exact) / exact < 1e-12


def test_kappa_100_parameters():
    lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    assert (lr, beta, rate) == pytest.approx((4 / 121, 81 / 121, 9 / 11), rel=1e-15)
    assert tuple(spectral.optimal_parameters(1.0, 100.0, "gd")) == pytest.approx((2 / 101, 0.0, 99 / 101),
                                                                                 rel=1e-15)
    lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "nesterov")
    assert lr == pytest.approx(4 / 301, rel=1e-15)
    assert beta == pytest.approx((math.sqrt(301) - 2) / (math.sqrt(301) + 2), rel=1e-15)
    assert rate == pytest.approx(1 - 2 / math.sqrt(301), rel=1e-15)
    # scale invariance: only kappa matters for the rate
    assert spectral.optimal_parameters(3.0, 300.0, "heavy_ball").rate == pytest.approx(9 / 11, rel=1e-15)


def _exact_modes(method, lam, lr, beta):
    a = lr * lam
    if method == "heavy_ball":
        return 1 + beta - a, beta
    return (1 + beta) * (1 - a), beta * (1 - a)


def _roots_within(T, D, r):
    """Exactly (rationals): both roots of s^2 - T s + D have modulus < r."""
    disc = T * T - 4 * D
    if disc < 0:
        return D < r * r
    return r * r - T * r + D > 0 and r * r + T * r + D > 0 and abs(T) < 2 * r


@pytest.mark.parametrize("sqrt_k", [2, 3, 5, 10, 100])
def test_heavy_ball_optimum_exactly(sqrt_k):
    # kappa a perfect square: lr*, beta*, rate are rationals and the claims hold exactly
    k = sqrt_k**2
    lr, beta, rate = Fraction(4, (sqrt_k + 1) ** 2), Fraction(sqrt_k - 1, sqrt_k + 1) ** 2, \
        Fraction(sqrt_k - 1, sqrt_k + 1)
    for lam, double_root in ((1, rate), (k, -rate)):
        T, D = _exact_modes("heavy_ball", Fraction(lam), lr, beta)
        assert T * T - 4 * D == 0 and T / 2 == double_root
    for j in range(1, 40):  # every interior mode: complex, modulus exactly sqrt(beta) = rate
        T, D = _exact_modes("heavy_ball", 1 + Fraction(j, 40) * (k - 1), lr, beta)
        assert T * T - 4 * D < 0 and D == rate**2


@pytest.mark.parametrize("q", [4, 5, 7, 10, 17, 32])
def test_nesterov_lessard_tuning_exactly(q):
    # 3 kappa + 1 = q^2: the tuning is rational; rate 1 - 2/q attained at mu (double root)
    # and at L (simple root -(1 - 2/q)), every interior mode strictly faster
    k = Fraction(q * q - 1, 3)
    lr, beta, rate = 4 / (3 * k + 1), Fraction(q - 2, q + 2), 1 - Fraction(2, q)
    T, D = _exact_modes("nesterov", Fraction(1), lr, beta)
    assert T * T - 4 * D == 0 and T / 2 == rate
    T, D = _exact_modes("nesterov", k, lr, beta)
    assert rate * rate + T * rate + D == 0  # s = -rate is a root
    assert abs(D / -rate) < rate  # the other root is smaller
    for j in range(1, 60):
        T, D = _exact_modes("nesterov", 1 + Fraction(j, 60) * (k - 1), lr, beta)
        assert _roots_within(T, D, rate)


def test_nesterov_lessard_tuning_symbolically():
    sp = pytest.importorskip("sympy")
    k = sp.symbols("kappa", positive=True)
    q = sp.sqrt(3 * k + 1)
    lr, beta = 4 / (3 * k + 1), (q - 2) / (q + 2)
    for lam, root in ((1, 1 - 2 / q), (k, -(1 - 2 / q))):
        a = lr * lam
        assert sp.simplify(root**2 - (1 + beta) * (1 - a) * root + beta * (1 - a)) == 0
    a = lr
    assert sp.simplify((1 + beta) ** 2 * (1 - a) ** 2 - 4 * beta * (1 - a)) == 0  # double root at mu


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_nesterov_lessard_rate_in_floating_point(kappa):
    lr, beta, rate = spectral.optimal_parameters(1.0, kappa, "nesterov")
    assert rate == pytest.approx(1 - 2 / math.sqrt(3 * kappa + 1), rel=1e-15)
    lam = np.linspace(1.0, kappa, 20001)
    modulus = np.abs(spectral.mode_roots(lam, lr, beta, "nesterov")).max(axis=1)
    # lambda = L: a simple root, well conditioned: a few ulps
    assert modulus[-1] == pytest.approx(rate, rel=1e-14)
    # lambda = mu: a double root, which rounding of lr and beta moves by O(sqrt(eps)) ~ 1e-8
    assert modulus[0] == pytest.approx(rate, abs=1e-7)
    assert modulus[1:-1].max() < rate
    assert spectral.spectral_radius(lam, lr, beta, "nesterov") == pytest.approx(rate, abs=1e-7)


@pytest.mark.parametrize("method", ["gd", "heavy_ball"])
@pytest.mark.parametrize("kappa", KAPPAS)
def test_optimal_rate_is_the_spectral_radius(method, kappa):
    lr, beta, rate = spectral.optimal_parameters(1.0, kappa, method)
    lam = np.linspace(1.0, kappa, 1001)
    # heavy ball: double roots at both ends, hence the sqrt(eps) tolerance (see the module notes)
    tol = 1e-14 if method == "gd" else 1e-7
    assert spectral.spectral_radius(lam, lr, beta, method) == pytest.approx(rate, abs=tol)


def _simulated_rate(kappa, method):
    lr, beta, rate = spectral.optimal_parameters(1.0, kappa, method)
    q = hb.Quadratic.from_condition_number(kappa, dim=8)
    # momentum: e_k ~ k rho^k at the double roots biases log(rate) by ~1.4/(n |log rho|) over the
    # last half; n = 400/|log rho| makes that 0.35% and stays above underflow (rho^n = e^-400).
    # GD has simple roots only: 3000 steps suffice for its fast modes to die out.
    n = 3000 if method == "gd" else math.ceil(400.0 / -math.log(rate))
    traj = hb.optimize(q, optimizer_for(method, lr, beta), np.ones(8), n_steps=n)
    return spectral.empirical_rate(traj, q.minimizer), rate


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
@pytest.mark.parametrize("kappa", KAPPAS)
def test_empirical_rate_of_simulation_matches_seed_table(kappa, method):
    measured, rate = _simulated_rate(kappa, method)
    assert abs(measured - rate) <= 0.02 * rate  # the criterion
    # stricter, because 2% of a rate near 1 is loose: 2% of log(rate), i.e. of the step count
    assert abs(math.log(measured) - math.log(rate)) <= 0.02 * abs(math.log(rate))


# ----------------------------------------------------------------------------- roots and matrices

@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_mode_roots_equal_numpy_roots(method, rng):
    lam = np.concatenate([rng.uniform(-2.0, 40.0, 60), [0.0, 1.0, 25.0]])
    for lr, beta in ((0.05, 0.0), (0.04, 0.7), (0.3, 0.2), (0.01, 0.95)):
        if method == "gd" and beta:
            continue
        if method != "gd" and beta == 0.0:
            beta = 0.4
        z = spectral.mode_roots(lam, lr, beta, method)
        assert z.shape == (lam.size, 2)
        for zi, li in zip(z, lam):
            ref = np.roots(poly(method, li, lr, beta))
            if ref.size == 1:  # numpy drops the trailing zero root of s (s - (1 - a))
                ref = np.array([ref[0], 0.0])
            # generic points: numpy.roots is accurate to ~1e-13 there
            assert same_roots(zi, ref, 1e-12)
            assert abs(zi[0]) >= abs(zi[1]) - 1e-15


def test_mode_roots_scalar_and_order():
    z = spectral.mode_roots(1.0, 0.5, 0.81)
    assert z.shape == (2,) and z[0].imag > 0 and z[1] == np.conj(z[0])
    assert np.abs(z) == pytest.approx([0.9, 0.9], rel=1e-15)


@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.6),
                                         ("heavy_ball", -0.3)])
def test_iteration_matrix_eigenvalues_are_the_mode_roots(method, beta, rng):
    lam = np.sort(rng.uniform(0.5, 30.0, 40))
    H, _ = random_spd(rng, lam)
    lr = 0.05
    eig = np.linalg.eigvals(spectral.iteration_matrix(H, lr, beta, method))
    roots = spectral.mode_roots(lam, lr, beta, method)
    if method == "gd":
        roots = roots[:, :1]
    ours = np.sort_complex(np.round(roots.ravel(), 9))
    dense = np.sort_complex(np.round(eig, 9))
    # generic parameters (no double roots): the dense solver is accurate to ~1e-12 here;
    # rounding to 9 digits before sorting only fixes the order of near-equal values
    assert np.max(np.abs(ours - dense)) <= 2e-9
    matched = [np.min(np.abs(eig - r)) for r in roots.ravel()]
    assert max(matched) <= 1e-11


@pytest.mark.slow
@pytest.mark.parametrize("method,beta", [("gd", 0.0), ("heavy_ball", 0.6), ("nesterov", 0.5)])
def test_spectral_radius_equals_dense_eigen_solve(method, beta, rng):
    n = 200
    lam = rng.uniform(0.5, 30.0, n)
    H, _ = random_spd(rng, lam)
    lr = 0.06
    dense = float(np.max(np.abs(np.linalg.eigvals(spectral.iteration_matrix(H, lr, beta, method)))))
    ours = spectral.spectral_radius(np.linalg.eigvalsh(H), lr, beta, method)
    assert abs(ours - dense) <= 1e-12


def _errors(traj, xstar):
    return traj.x - xstar


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_iteration_matrix_reproduces_optimize(method, rng):
    n = 4
    H, _ = random_spd(rng, [0.3, 1.0, 2.5, 7.0])
    q = hb.Quadratic(H, rng.standard_normal(n))
    lr, beta = 0.15, (0.0 if method == "gd" else 0.7)
    traj = hb.optimize(q, optimizer_for(method, lr, beta), rng.standard_normal(n), n_steps=60)
    e = _errors(traj, q.minimizer)
    R = spectral.iteration_matrix(H, lr, beta, method)
    scale = np.max(np.abs(e))
    for k in range(1, 60):
        if method == "gd":
            pred, true = R @ e[k], e[k + 1]
        else:
            pred, true = R @ np.concatenate([e[k], e[k - 1]]), np.concatenate([e[k + 1], e[k]])
        assert np.max(np.abs(pred - true)) <= 1e-13 * scale  # one step: a few roundings
    # PyTorch's first step: heavy ball fits R with e_{-1} = e_0, Nesterov takes (I - lr (1 + beta) H)
    first = {"gd": np.eye(n) - lr * H, "heavy_ball": np.eye(n) - lr * H,
             "nesterov": np.eye(n) - lr * (1 + beta) * H}[method]
    assert np.max(np.abs(first @ e[0] - e[1])) <= 1e-13 * scale


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_mode_polynomials_reproduce_optimize_mode_by_mode(method, rng):
    lam = np.array([0.3, 1.0, 2.5, 7.0])
    H, Q = random_spd(rng, lam)
    q = hb.Quadratic(H, rng.standard_normal(4))
    lr, beta = 0.2, (0.0 if method == "gd" else 0.6)
    traj = hb.optimize(q, optimizer_for(method, lr, beta), rng.standard_normal(4), n_steps=40)
    z = _errors(traj, q.minimizer) @ Q  # coordinates in the eigenbasis, one column per mode
    roots = spectral.mode_roots(lam, lr, beta, method)
    T, D = (roots[:, 0] + roots[:, 1]).real, (roots[:, 0] * roots[:, 1]).real
    pred = T * z[1:-1] - D * z[:-2]  # e_{k+1} = T e_k - D e_{k-1} for k >= 1
    assert np.max(np.abs(pred - z[2:])) <= 1e-12 * np.max(np.abs(z))


def test_iteration_matrix_accepts_a_quadratic():
    q = hb.Quadratic.diagonal([1.0, 3.0])
    np.testing.assert_array_equal(spectral.iteration_matrix(q, 0.1, 0.5),
                                  spectral.iteration_matrix(np.diag([1.0, 3.0]), 0.1, 0.5))


# ----------------------------------------------------------------------------- physical schemes

@pytest.mark.parametrize("method", PHYSICAL)
def test_physical_iteration_matrix_reproduces_integrate(method, rng):
    n = 5
    H, _ = random_spd(rng, [0.2, 1.0, 3.0, 6.0, 12.0])
    q = hb.Quadratic(H, rng.standard_normal(n))
    m, gamma, h = 1.3, 0.8, 0.1
    traj = hb.integrate(hb.DampedParticle(q, m, gamma), rng.standard_normal(n), rng.standard_normal(n),
                        method=method, step=h, n_steps=150)
    M = spectral.physical_iteration_matrix(H, m, gamma, h, method)
    state = np.concatenate([traj.x[0] - q.minimizer, traj.v[0]])
    predicted = [state]
    for _ in range(150):
        state = M @ state
        predicted.append(state)
    actual = np.hstack([traj.x - q.minimizer, traj.v])
    # 150 steps of rounding in two different operation orders; explicit Euler grows here
    # (rho > 1), so compare relative to the size of the state at each step
    rel = np.max(np.abs(np.array(predicted) - actual), axis=1) / np.max(np.abs(actual), axis=1)
    assert rel.max() <= 1e-12


def test_physical_iteration_matrix_gradient_flow(rng):
    H, _ = random_spd(rng, [0.5, 2.0, 4.0])
    q = hb.Quadratic(H, rng.standard_normal(3))
    traj = hb.integrate(hb.DampedParticle(q, 0.0, 2.0), np.ones(3), method="explicit_euler", step=0.3,
                        n_steps=50)
    M = spectral.physical_iteration_matrix(H, 0.0, 2.0, 0.3, "explicit_euler")
    assert M.shape == (3, 3)
    e = traj.x - q.minimizer
    assert rel_err(e[1:], e[:-1] @ M.T) <= 1e-13
    np.testing.assert_allclose(spectral.physical_mode_roots([0.5, 2.0], 0.0, 2.0, 0.3, "explicit_euler"),
                               [[1 - 0.15 * 0.5], [1 - 0.15 * 2.0]], rtol=1e-15)


def _determinants(lam, m, gamma, h):
    """The issue's per-mode determinants (the implicit one derived in docs/spectral.md)."""
    beta = 1 - h * gamma / m
    return {
        "symplectic_euler": beta,
        "conformal_symplectic_euler": math.exp(-h * gamma / m),
        "nesterov": beta * (1 - h * h * lam / m),
        "explicit_euler": beta + h * h * lam / m,
        "implicit_friction_euler": m / (m + gamma * h),
    }


@pytest.mark.parametrize("method", PHYSICAL)
@pytest.mark.parametrize("m,gamma,h", [(1.0, 1.0, 0.1), (2.5, 0.3, 0.4), (0.7, 3.0, 0.05)])
def test_physical_determinants_per_mode(method, m, gamma, h):
    lam = np.array([0.1, 1.0, 4.0, 20.0])
    M = spectral.physical_iteration_matrix(np.diag(lam), m, gamma, h, method)
    n = lam.size
    for i, li in enumerate(lam):
        block = M[np.ix_([i, n + i], [i, n + i])]
        assert np.linalg.det(block) == pytest.approx(_determinants(li, m, gamma, h)[method], rel=1e-12,
                                                     abs=1e-15)
        z = spectral.physical_mode_roots(li, m, gamma, h, method)
        assert (z[0] * z[1]).real == pytest.approx(_determinants(li, m, gamma, h)[method], rel=1e-12,
                                                   abs=1e-15)


@pytest.mark.parametrize("method", PHYSICAL)
def test_physical_mode_roots_are_the_matrix_eigenvalues(method, rng):
    lam = np.sort(rng.uniform(0.1, 15.0, 12))
    H, _ = random_spd(rng, lam)
    m, gamma, h = 1.2, 0.9, 0.2
    eig = np.linalg.eigvals(spectral.physical_iteration_matrix(H, m, gamma, h, method))
    roots = spectral.physical_mode_roots(lam, m, gamma, h, method)
    assert max(np.min(np.abs(eig - r)) for r in roots.ravel()) <= 1e-10
    assert spectral.physical_spectral_radius(lam, m, gamma, h, method) == pytest.approx(
        np.max(np.abs(eig)), rel=1e-12)


@pytest.mark.parametrize("h", [1e-4, 1e-2, 0.5])
def test_explicit_euler_without_friction_always_diverges(h):
    lam = np.array([1e-3, 1.0, 50.0])
    assert spectral.physical_spectral_radius(lam, 1.0, 0.0, h, "explicit_euler") > 1.0
    # energy grows by det = 1 + h^2 lambda per step on a 1-D oscillator
    traj = hb.integrate(hb.DampedParticle(hb.Quadratic.diagonal([1.0]), 1.0, 0.0), [1.0],
                        method="explicit_euler", step=h, n_steps=200)
    energy = 0.5 * traj.x[:, 0] ** 2 + 0.5 * traj.v[:, 0] ** 2
    np.testing.assert_allclose(energy[1:] / energy[:-1], 1 + h * h, rtol=1e-12)


@given(h=st.floats(0.01, 3.0), lam=st.floats(0.001, 50.0), gamma=st.floats(0.0, 20.0))
def test_explicit_euler_stability_conditions(h, lam, gamma):
    # Jury for s^2 - (1 + beta) s + beta + a (m = 1, beta = 1 - h gamma, a = h^2 lambda):
    # D < 1 <=> h lambda < gamma (API.md's "h < gamma / lambda_max"), and 1 + T + D > 0
    # <=> h gamma < 2 + h^2 lambda / 2, which API.md's condition does not imply
    margins = (gamma - h * lam, 2 + h * h * lam / 2 - h * gamma)
    assume(all(abs(x) > 1e-6 for x in margins))
    rho = spectral.physical_spectral_radius(lam, 1.0, gamma, h, "explicit_euler")
    assume(abs(rho - 1) > 1e-9)
    assert (rho < 1) == (margins[0] > 0 and margins[1] > 0)


def test_explicit_euler_needs_more_than_h_below_gamma_over_lambda():
    # h = 0.5 < gamma / lambda_max = 10, yet a root near -4: h gamma/m = 5 > 2 + h^2 lambda/(2m)
    assert spectral.physical_spectral_radius([0.01, 1.0], 1.0, 10.0, 0.5, "explicit_euler") == pytest.approx(
        3.9995, abs=1e-4)


def test_physical_maps_agree_with_optimizer_roots():
    # symplectic Euler = heavy ball with lr = h^2/m, beta = 1 - h gamma/m (the map of heavyball.maps)
    lam = np.array([0.5, 2.0, 9.0])
    m, gamma, h = 1.0, 1.0, 0.3
    opt = hb.to_optimizer(m, gamma, h, "symplectic_euler")
    np.testing.assert_allclose(spectral.physical_mode_roots(lam, m, gamma, h, "symplectic_euler"),
                               spectral.mode_roots(lam, opt.lr, opt.momentum), rtol=1e-14)
    opt = hb.to_optimizer(m, gamma, h, "nesterov")
    np.testing.assert_allclose(spectral.physical_mode_roots(lam, m, gamma, h, "nesterov"),
                               spectral.mode_roots(lam, opt.lr, opt.momentum, "nesterov"), rtol=1e-14)


# ----------------------------------------------------------------------------- regimes

def _simulate_1d(lam, lr, beta, n):
    q = hb.Quadratic.diagonal([lam])
    return hb.optimize(q, hb.SGD(lr, beta), [1.0], n_steps=n)


def _oracle_roots(a, beta):
    return np.roots([1.0, -(1.0 + beta - a), beta])


@given(beta=st.floats(0.0, 0.95), a=st.floats(0.001, 4.5), lam=st.floats(0.1, 10.0))
@example(beta=0.5, a=2.95, lam=1.0).via("sign flipping")
@example(beta=0.1, a=1.9, lam=3.0).via("sign flipping, small momentum")
@example(beta=0.8, a=3.55, lam=0.5).via("sign flipping, large momentum")
def test_regime_agrees_with_simulation(beta, a, lam):
    lr = a / lam
    a = lr * lam
    edges = ((1 - math.sqrt(beta)) ** 2, (1 + math.sqrt(beta)) ** 2, 2 + 2 * beta)
    assume(all(abs(a - e) > 0.02 * max(e, 0.05) for e in edges))  # strictly inside a region
    kind = spectral.regime(lam, lr, beta)
    event(kind)
    roots = _oracle_roots(a, beta)
    rho = float(np.max(np.abs(roots)))
    if kind == "divergent":
        traj = _simulate_1d(lam, lr, beta, min(5000, math.ceil(math.log(1e3) / math.log(rho)) + 50))
        assert traj.status == -1 or abs(traj.x[-1, 0]) > 100.0
        return
    if kind == "oscillating":  # needs a few turns of the angle before the error underflows
        theta = float(np.abs(np.angle(roots[0])))
        n = math.ceil(4 * math.pi / min(theta, math.pi - theta))
        assume(n * math.log(rho) > math.log(1e-250))
    else:
        n = 200
    e = _simulate_1d(lam, lr, beta, n).x[:, 0]
    e = e[np.abs(e) > 1e-250]
    same_sign = np.sign(e[1:]) == np.sign(e[:-1])
    if kind == "monotone":
        assert np.all(e > 0) and np.all(np.diff(e) < 0)
    elif kind == "sign_flipping":  # (|e| need not decrease: from rest the first step overshoots)
        assert not np.any(same_sign)
    else:
        assert np.any(same_sign) and not np.all(same_sign)
        # its envelope decays at sqrt(beta) per step (the modulus of the complex roots)
        assert rho == pytest.approx(math.sqrt(beta), rel=1e-12)


@given(beta=st.floats(-0.99, 0.99), a=st.floats(-0.5, 4.5))
def test_regime_matches_boundary_curves(beta, a):
    edges = [2 + 2 * beta, 0.0] + ([(1 - math.sqrt(beta)) ** 2, (1 + math.sqrt(beta)) ** 2] if beta >= 0 else [])
    assume(all(abs(a - e) > 1e-9 for e in edges))
    kind = spectral.regime(1.0, abs(a), beta) if a >= 0 else spectral.regime(-1.0, -a, beta)
    inside = spectral.convergence_region(a, beta)
    assert inside == (kind != "divergent")
    assert inside == (0 < a < 2 + 2 * beta)
    if beta >= 0 and inside:
        expected = ("monotone" if a < (1 - math.sqrt(beta)) ** 2 else
                    "oscillating" if a < (1 + math.sqrt(beta)) ** 2 else "sign_flipping")
        assert kind == expected


def test_regime_boundaries_are_the_double_roots_and_the_stability_edge():
    b = spectral.regime_boundaries(num=41)
    for curve, sign in ((b.monotone_oscillating, 1), (b.oscillating_sign_flipping, -1)):
        for a, beta in zip(curve.lr_lambda, curve.momentum):
            r = _oracle_roots(a, beta)
            # a double root: numpy.roots sees it to sqrt(eps), so compare at 1e-7
            assert np.allclose(r, sign * math.sqrt(beta), atol=1e-7)
    for a, beta in zip(b.stability.lr_lambda, b.stability.momentum):
        assert np.min(np.abs(_oracle_roots(a, beta) + 1.0)) <= 1e-12  # a root at -1
    assert np.all(b.zero_step.lr_lambda == 0) and b.stability.momentum[0] == -1.0


def test_regime_vectorised_and_codes():
    a = np.array([0.05, 1.0, 2.95, 3.5, -0.1])
    kinds = spectral.regime(a, 1.0, 0.5)
    assert kinds.tolist() == ["monotone", "oscillating", "sign_flipping", "divergent", "divergent"]
    codes = spectral.regime(a[None, :], 1.0, np.array([[0.5], [0.0]]), codes=True)
    assert codes.shape == (2, 5)
    assert [spectral.REGIMES[c] for c in codes[0]] == kinds.tolist()
    assert [spectral.REGIMES[c] for c in codes[1]] == ["monotone", "monotone", "divergent", "divergent",
                                                      "divergent"]
    assert spectral.regime(1.0, 1.0, 0.0) == "monotone"  # one-step convergence: root 0


def test_regime_negative_momentum_describes_the_dominant_root():
    # beta < 0: real roots of opposite signs; the label is the long-run sign pattern
    for a, beta, kind in ((0.2, -0.3, "monotone"), (1.2, -0.3, "sign_flipping"), (0.9, -0.3, "sign_flipping")):
        assert spectral.regime(1.0, a, beta) == kind
        e = [1.0, 1.0]
        for _ in range(300):  # the recurrence written out
            e.append((1 + beta - a) * e[-1] - beta * e[-2])
        tail = np.sign(e[-20:])
        assert np.all(tail[1:] == tail[:-1]) if kind == "monotone" else np.all(tail[1:] == -tail[:-1])


def test_ripple_rate_is_sqrt_beta_not_two_sqrt_beta():
    # Goh (Distill 2017) labels the complex-root regime with rate 2 sqrt(beta); it is sqrt(beta)
    beta, lr, lam = 0.9, 0.5, 1.0
    assert spectral.regime(lam, lr, beta) == "oscillating"
    q = hb.Quadratic.diagonal([lam])
    traj = hb.optimize(q, hb.SGD(lr, beta), [1.0], n_steps=3000)
    measured = spectral.empirical_rate(traj, q.minimizer)
    assert measured == pytest.approx(math.sqrt(beta), rel=1e-3)  # oscillation averaged over ~200 turns
    assert spectral.spectral_radius(lam, lr, beta) == pytest.approx(math.sqrt(beta), rel=1e-15)
    assert 2 * math.sqrt(beta) > 1 > measured


# ----------------------------------------------------------------------------- convergence property

@given(lams=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=3), u=st.floats(0.01, 8.0),
       beta=st.floats(0.01, 0.99), method=st.sampled_from(["gd", "heavy_ball", "nesterov"]))
@example(lams=[1.0, 5.0], u=3.0, beta=0.3, method="heavy_ball").via("heavy ball past 2 + 2 beta")
@example(lams=[0.2, 9.0], u=3.9, beta=0.95, method="heavy_ball").via("heavy ball just inside")
def test_radius_below_one_iff_simulation_converges(lams, u, beta, method):
    lr = u / max(lams)  # lr L in (0, 8): both sides of every stability edge (at most 4)
    beta = 0.0 if method == "gd" else beta
    rho = spectral.spectral_radius(lams, lr, beta, method)
    assume(abs(rho - 1.0) > 0.01)
    event(f"{method} {'converges' if rho < 1 else 'diverges'}")
    n = math.ceil(30.0 / abs(math.log(rho))) if rho > 0 else 5
    q = hb.Quadratic.diagonal(lams)
    traj = hb.optimize(q, optimizer_for(method, lr, beta), np.ones(len(lams)), n_steps=n)
    size = np.max(np.abs(traj.x[-1]))
    if rho < 1:  # rho^n = e^-30, so even a transient gain of 1e6 leaves < 1e-3
        assert traj.success and size < 1e-3
    else:
        assert traj.status == -1 or size > 1e3


@given(beta=st.floats(-0.99, 0.99), a=st.floats(-1.0, 5.0))
def test_convergence_region_is_radius_below_one(beta, a):
    rho = spectral.spectral_radius(1.0, a, beta) if a >= 0 else spectral.spectral_radius(-1.0, -a, beta)
    assume(abs(rho - 1.0) > 1e-9)
    assert spectral.convergence_region(a, beta) == (rho < 1.0)
    assert rho == pytest.approx(np.max(np.abs(_oracle_roots(a, beta))), abs=1e-7)


# ----------------------------------------------------------------------------- measured rates

def test_empirical_rate_without_minimizer_and_for_growth():
    q = hb.Quadratic(np.diag([1.0, 5.0]), b=[2.0, -1.0])
    traj = hb.optimize(q, hb.SGD(0.1, 0.5), [0.0, 0.0], n_steps=300)
    rho = spectral.spectral_radius([1.0, 5.0], 0.1, 0.5)
    # x* != 0: the error stalls at ~eps |x*| after ~90 steps, where the fit must stop (a fit
    # through the stalled part would give ~1). The last half then spans about one turn of the
    # slow mode (roots 0.7 +- 0.1i, 44 steps per turn), which bounds the accuracy to ~1%.
    assert spectral.empirical_rate(traj, q.minimizer) == pytest.approx(rho, rel=1e-2)
    assert spectral.empirical_rate(traj) == pytest.approx(rho, rel=1e-2)
    # x* = 0 lets the error decay to 1e-280: ~45 turns in the window, 1e-4
    long = hb.optimize(hb.Quadratic(np.diag([1.0, 5.0])), hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=2000)
    assert spectral.empirical_rate(long, [0.0, 0.0]) == pytest.approx(rho, rel=1e-4)
    assert spectral.empirical_rate(long) == pytest.approx(rho, rel=1e-4)
    grow = hb.optimize(q, hb.GD(0.41), [1.0, 1.0], n_steps=100)  # mode 5: root 1 - 2.05
    assert spectral.empirical_rate(grow, q.minimizer) == pytest.approx(1.05, rel=1e-6)


def test_empirical_rate_of_integrator_and_reference():
    q = hb.Quadratic.diagonal([1.0])
    system = hb.DampedParticle(q, 1.0, 0.5)
    traj = hb.integrate(system, [1.0], method="symplectic_euler", step=0.1, n_steps=2000)
    expected = spectral.physical_spectral_radius(1.0, 1.0, 0.5, 0.1, "symplectic_euler")
    assert spectral.empirical_rate(traj, [0.0]) == pytest.approx(expected, rel=1e-4)
    ref = hb.solve_reference(system, [1.0], t_span=(0.0, 40.0), t_eval=np.linspace(0, 40, 801))
    # per unit time: exp(Re s) = exp(-gamma/(2m)); the dense output is accurate to ~1e-10 relative
    assert spectral.empirical_rate(ref, [0.0]) == pytest.approx(math.exp(-0.25), rel=1e-3)


def test_empirical_rate_needs_resolvable_points():
    traj = hb.optimize(hb.Quadratic.diagonal([1.0]), hb.GD(1.0), [1.0], n_steps=5)  # exact in one step
    with pytest.raises(ValueError, match="resolvable"):
        spectral.empirical_rate(traj, [0.0])


# ----------------------------------------------------------------------------- continuous link

def test_continuous_roots_equal_numpy_roots(rng):
    for m, gamma in ((1.0, 0.5), (2.0, 3.0), (0.5, 0.0), (1.0, 2.0)):
        lam = np.concatenate([rng.uniform(-1.0, 10.0, 20), [0.0, gamma**2 / (4 * m) * 1.5]])
        s = spectral.continuous_roots(lam, m, gamma)
        for si, li in zip(s, lam):
            assert same_roots(si, np.roots([m, gamma, li]), 1e-12)
            assert si[0].real >= si[1].real - 1e-15
    s = spectral.continuous_roots([2.0, 6.0], 0.0, 4.0)
    assert s.shape == (2, 1) and np.allclose(s[:, 0], [-0.5, -1.5], rtol=1e-15)


@pytest.mark.parametrize("method", PHYSICAL)
@pytest.mark.parametrize("lam", [0.05, 0.3, 2.0])
def test_discrete_roots_are_exp_hs_to_second_order(method, lam):
    # m = 1, gamma = 0.7: overdamped at 0.05, underdamped at 0.3 and 2 (critical at 0.1225)
    e1 = spectral.continuous_limit(lam, 1.0, 0.7, 0.01, method).error
    e2 = spectral.continuous_limit(lam, 1.0, 0.7, 0.005, method).error
    assert 0 < e2 < e1 < 1e-3
    assert e1 / e2 == pytest.approx(4.0, rel=0.02)  # first-order schemes: one-step error O(h^2)


def test_continuous_limit_breaks_down_at_the_optimal_heavy_ball():
    # kappa = 100 optimum as a particle (m = 1): h = sqrt(4/121), gamma = (1 - 81/121)/h
    lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    p = hb.to_physical(hb.SGD(lr, beta))
    lim = spectral.continuous_limit([1.0, 100.0], p.mass, p.friction, p.step, "symplectic_euler")
    # lambda = L: double root -9/11 (sign flipping); exp(h s) is a complex pair of modulus e^(-h gamma/2)
    np.testing.assert_allclose(lim.discrete[1], [-9 / 11, -9 / 11], atol=1e-7)
    np.testing.assert_allclose(np.abs(lim.predicted[1]), math.exp(-p.step * p.friction / 2), rtol=1e-12)
    np.testing.assert_allclose(lim.predicted[1], [-0.201370 + 0.823382j, -0.201370 - 0.823382j], atol=1e-6)
    assert lim.error[1] == pytest.approx(1.0288, abs=1e-4)  # the numbers quoted in docs/spectral.md
    # stability lost: light friction (gamma = 0.1) is stable while h^2 < 2 + 2 (1 - 0.1 h), h < 1.9025
    edge = (-0.1 + math.sqrt(0.01 + 4.0))
    assert spectral.physical_spectral_radius(1.0, 1.0, 0.1, edge - 1e-6, "symplectic_euler") < 1.0
    assert spectral.physical_spectral_radius(1.0, 1.0, 0.1, edge + 1e-6, "symplectic_euler") > 1.0
    big = spectral.continuous_limit(1.0, 1.0, 0.1, 2.0, "symplectic_euler")
    assert np.min(big.discrete.real) == pytest.approx(-1.7403, abs=1e-4)
    assert np.max(np.abs(big.predicted)) == pytest.approx(math.exp(-0.1), rel=1e-12) and edge == pytest.approx(
        1.9025, abs=1e-4)
    # overdamped (gamma = 3): a negative root from h = 1/3 on, unstable from h = sqrt(13) - 3
    for h, negative, stable in ((1 / 3 - 1e-6, False, True), (1 / 3 + 1e-6, True, True),
                                (math.sqrt(13) - 3 - 1e-6, True, True), (math.sqrt(13) - 3 + 1e-6, True, False)):
        z = spectral.physical_mode_roots(1.0, 1.0, 3.0, h, "symplectic_euler")
        assert (np.min(z.real) < 0) == negative and (np.max(np.abs(z)) < 1) == stable
        assert np.all(spectral.continuous_limit(1.0, 1.0, 3.0, h).predicted.real > 0)


def test_continuous_limit_mass_zero_and_scalar():
    lim = spectral.continuous_limit([1.0, 3.0], 0.0, 2.0, 0.01, "explicit_euler")
    assert lim.discrete.shape == (2, 1)
    np.testing.assert_allclose(lim.predicted[:, 0], np.exp(-0.01 * np.array([1.0, 3.0]) / 2.0), rtol=1e-15)
    single = spectral.continuous_limit(1.0, 1.0, 1.0, 0.1)
    assert single.discrete.shape == (2,) and isinstance(single.error, float)


# ----------------------------------------------------------------------------- transient growth

@pytest.mark.parametrize("method,lr,beta", [("heavy_ball", 0.05, 0.9), ("nesterov", 0.05, 0.9),
                                            ("gd", 0.1, 0.0)])
def test_transient_growth_equals_dense_matrix_powers(method, lr, beta, rng):
    lam = np.array([0.5, 2.0, 7.0, 15.0, 30.0])
    H, _ = random_spd(rng, lam)
    g = spectral.transient_growth(lam, lr, beta, method, n_steps=40)
    R = spectral.iteration_matrix(H, lr, beta, method)
    dense = [np.linalg.norm(np.linalg.matrix_power(R, k), 2) for k in range(41)]
    np.testing.assert_allclose(g.norm, dense, rtol=1e-10)
    assert g.rho == spectral.spectral_radius(lam, lr, beta, method)
    assert np.all(g.norm >= g.rho_power * (1 - 1e-12))  # ||R^k|| >= rho^k always


def test_transient_growth_at_a_double_root_closed_form():
    # lambda = 1, lr = beta = 0.25: T = 1, D = 1/4, double root r = 1/2 (all exact in binary)
    g = spectral.transient_growth(1.0, 0.25, 0.25, n_steps=30)
    r = 0.5
    for k in range(31):
        Bk = np.array([[(k + 1) * r**k, -k * r ** (k + 1)], [k * r ** (k - 1), -(k - 1) * r**k]])
        assert g.norm[k] == pytest.approx(np.linalg.norm(Bk, 2), rel=1e-13)


def test_transient_growth_shows_growth_with_rho_below_one():
    lr, beta, rate = spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    g = spectral.transient_growth([1.0, 100.0], lr, beta, n_steps=60)
    assert g.rho < 1 and g.norm.max() > 2 and g.norm[0] == 1.0
    # divergent parameters: no overflow warning; the norms become inf past the float range
    big = spectral.transient_growth([1.0], 3.5, 0.5, n_steps=3000)
    assert big.rho > 1 and np.isinf(big.norm[-1]) and np.all(np.isfinite(big.norm[:100]))


# ----------------------------------------------------------------------------- memory

def test_half_life_and_memory_window():
    assert spectral.half_life(0.9) == pytest.approx(6.58, abs=0.005)  # seed: 6.6
    assert spectral.half_life(0.99) == pytest.approx(68.97, abs=0.005)  # seed: 69
    np.testing.assert_allclose(spectral.half_life(np.array([0.5, 0.25])), [1.0, 0.5], rtol=1e-15)
    for beta, n in ((0.9, 22), (0.99, 230), (0.5, 4)):
        assert spectral.memory_window(beta) == n
        weights = beta ** np.arange(100000)
        share = np.cumsum(weights) / weights.sum()
        assert share[n - 1] >= 0.9 > share[n - 2]  # the last n hold 90%, the last n - 1 do not
    # 229 gradients (the seed's figure) hold 89.99%, not 90%, at beta = 0.99
    assert 1 - 0.99**229 == pytest.approx(0.89989, abs=1e-5)
    assert spectral.memory_window(0.5, 0.75) == 2  # exact boundary: 1 - 0.5^2 = 0.75


# ----------------------------------------------------------------------------- validation

def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match="method.*'gd', 'heavy_ball', 'nesterov'"):
        spectral.spectral_radius([1.0], 0.1, 0.5, "adam")
    with pytest.raises(ValueError, match="momentum.*0 for method 'gd'"):
        spectral.mode_roots([1.0], 0.1, 0.5, "gd")
    with pytest.raises(ValueError, match="lr"):
        spectral.spectral_radius([1.0], -0.1, 0.5)
    with pytest.raises(ValueError, match="eigenvalues"):
        spectral.spectral_radius([[1.0]], 0.1, 0.5)
    with pytest.raises(ValueError, match="eigenvalues"):
        spectral.spectral_radius([np.nan], 0.1, 0.5)
    with pytest.raises(ValueError, match="symmetric"):
        spectral.iteration_matrix([[1.0, 2.0], [0.0, 1.0]], 0.1)
    with pytest.raises(ValueError, match="L"):
        spectral.optimal_parameters(2.0, 1.0, "gd")
    with pytest.raises(ValueError, match="mu"):
        spectral.optimal_parameters(0.0, 1.0, "gd")
    with pytest.raises(ValueError, match="mass = 0"):
        spectral.physical_iteration_matrix([[1.0]], 0.0, 1.0, 0.1, "symplectic_euler")
    with pytest.raises(ValueError, match="friction"):
        spectral.physical_mode_roots(1.0, 1.0, lambda t: 1.0, 0.1, "symplectic_euler")
    with pytest.raises(ValueError, match="step"):
        spectral.physical_mode_roots(1.0, 1.0, 1.0, 0.0, "symplectic_euler")
    with pytest.raises(ValueError, match="kappas"):
        spectral.rate_table([0.5])
    with pytest.raises(ValueError, match="beta"):
        spectral.half_life(1.0)
    with pytest.raises(ValueError, match="fraction"):
        spectral.memory_window(0.9, 1.0)
    with pytest.raises(ValueError, match="num"):
        spectral.regime_boundaries(1)
    with pytest.raises(ValueError, match="lr"):
        spectral.regime(1.0, -1.0, 0.5)


def test_overflowing_inputs_raise_instead_of_warning():
    # the test configuration turns RuntimeWarning into an error, so these also check "no warning"
    for method, beta in (("gd", 0.0), ("heavy_ball", 0.5), ("nesterov", 0.5)):
        with pytest.raises(ValueError, match="overflows"):
            spectral.spectral_radius([1e300, 1.0], 1e10, beta, method)
        with pytest.raises(ValueError, match="overflows"):
            spectral.mode_roots([1e300], 1e10, beta, method)
        with pytest.raises(ValueError, match="overflows"):
            spectral.iteration_matrix([[1e300]], 1e10, beta, method)
    with pytest.raises(ValueError, match="overflows"):
        spectral.regime(1e300, 1e10, 0.5)
    with pytest.raises(ValueError, match="overflows"):
        spectral.physical_mode_roots(1e300, 1.0, 1.0, 1e10, "explicit_euler")
    with pytest.raises(ValueError, match="overflows"):
        spectral.physical_spectral_radius(1e300, 0.0, 1e-10, 1e10, "explicit_euler")
    with pytest.raises(ValueError, match="overflows"):
        spectral.continuous_roots(1.0, 1e-320, 1.0)
    with pytest.raises(ValueError, match="exp"):
        spectral.continuous_limit(-1e6, 1.0, 0.0, 1.0)  # a saddle mode over a long step
    # large but representable: a finite radius, and transient norms that run to inf without warning
    g = spectral.transient_growth([1e60], 1e60, 0.5, n_steps=5)  # rho ~ 1e120
    assert np.isfinite(g.rho) and np.isinf(g.norm[-1])


# ----------------------------------------------------------------------------- docs

def test_docs_examples_run():
    path = Path(__file__).resolve().parents[1] / "docs" / "spectral.md"
    result = doctest.testfile(str(path), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0


def test_empirical_rate_stays_exact_where_squared_errors_would_underflow():
    # GD on diag(1, 10) at lr = 2/11 contracts both modes by exactly 9/11 per step; run until the
    # error is ~1e-250, where |e|^2 would be subnormal (below 1e-308) in an unscaled norm.
    q = hb.Quadratic.from_condition_number(10.0)
    traj = hb.optimize(q, hb.GD(2 / 11), [1.0, 1.0], n_steps=2800)
    assert 1e-280 < np.abs(traj.x[-1]).max() < 1e-240
    assert spectral.empirical_rate(traj, q.minimizer, tail=0.3) == pytest.approx(9 / 11, rel=1e-12)
