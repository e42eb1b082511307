"""Accelerated ODEs: Su-Boyd-Candes, the high-resolution ODEs, and the system terms behind them."""

import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import j1

import heavyball as hb
from heavyball.odes import (
    InverseTime,
    accelerated_momentum,
    accelerated_ode,
    iterates,
    nesterov_momentum,
    su_boyd_candes,
    su_boyd_candes_exact,
    su_boyd_candes_start,
)

# Su, Boyd & Candes (2016): x'' + (3/t) x' + lambda x = 0 from x(0) = 1, x'(0) = 0, lambda = 2
PUBLISHED_T = [1.0, 5.0, 10.0, 20.0]
PUBLISHED_X = [0.769987, 0.004689, 0.021894, 0.007327]


def coupled_log_cosh(mu=0.5):
    """sum_i log cosh((A x)_i) + mu |x|^2 / 2: smooth, mu-strongly convex, not quadratic, minimiser 0."""
    A = np.array([[2.0, 1.0], [0.5, 3.0]])

    def value(x):
        return np.sum(np.log(np.cosh(x @ A.T)), axis=-1) + 0.5 * mu * np.sum(x * x, axis=-1)

    def grad(x):
        return np.tanh(x @ A.T) @ A + mu * x

    def hessian(x):
        sech2 = 1.0 / np.cosh(A @ x) ** 2
        return A.T @ (sech2[:, None] * A) + mu * np.eye(2)

    return hb.CustomProblem(2, value, grad, hessian, minimizer=[0.0, 0.0], min_value=0.0, name="log_cosh")


def slope(steps, errors):
    """Least-squares exponent p in error ~ C s^p."""
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


# ---------------------------------------------------------------- Su-Boyd-Candes


def test_exact_solution_reproduces_the_published_values():
    x, _ = su_boyd_candes_exact(hb.Quadratic.diagonal([2.0]), [1.0], PUBLISHED_T)
    # published to 6 decimals: half a unit in the last place
    np.testing.assert_allclose(x[:, 0], PUBLISHED_X, rtol=0, atol=5e-7)
    z = math.sqrt(2.0) * np.array(PUBLISHED_T)
    np.testing.assert_allclose(x[:, 0], 2 * j1(z) / z, rtol=1e-13)  # the r = 3 closed form, via scipy's J1


@pytest.mark.parametrize("r", [3.0, 5.0, 1.0])
def test_reference_started_on_the_exact_solution_stays_on_it(r):
    # dense, rotated H with a shifted minimiser, so the eigen-decomposition path is exercised
    rot = np.array([[math.cos(0.4), -math.sin(0.4)], [math.sin(0.4), math.cos(0.4)]])
    q = hb.Quadratic(rot @ np.diag([2.0, 0.3]) @ rot.T, b=[0.5, -1.0])
    x0 = np.array([1.0, -0.7])
    t0, t = 0.5, np.array([0.5] + PUBLISHED_T)
    x_start, v_start = su_boyd_candes_exact(q, x0, [t0], r=r)
    ref = hb.solve_reference(su_boyd_candes(q, r), x_start[0], v_start[0], t_span=(t0, 20.0), t_eval=t)
    exact, exact_v = su_boyd_candes_exact(q, x0, t, r=r)
    # solve_ivp at rtol 1e-10, atol 1e-12 over 40 time units: 1e-8 leaves a factor ~100
    np.testing.assert_allclose(ref.x, exact, atol=1e-8)
    np.testing.assert_allclose(ref.v, exact_v, atol=1e-8)


def test_reference_on_the_published_problem():
    q = hb.Quadratic.diagonal([2.0])
    t0 = 0.1
    x_start, v_start = su_boyd_candes_exact(q, [1.0], [t0])
    ref = hb.solve_reference(su_boyd_candes(q), x_start[0], v_start[0], t_span=(t0, 20.0), t_eval=PUBLISHED_T)
    np.testing.assert_allclose(ref.x[:, 0], PUBLISHED_X, rtol=0, atol=5e-7)


def test_series_start_agrees_with_the_exact_solution():
    q = hb.Quadratic.diagonal([2.0, 0.3])
    for t0 in (1e-2, 1e-3):
        x, v = su_boyd_candes_start(q, [1.0, -0.7], t0)
        ex, ev = su_boyd_candes_exact(q, [1.0, -0.7], [t0])
        # neglected terms: lambda^2 t^4 / 48 in x and lambda^2 t^3 / 12 in v (lambda = 2)
        assert np.max(np.abs(x - ex[0])) <= 4 * t0**4 / 48 * 1.01
        assert np.max(np.abs(v - ev[0])) <= 4 * t0**3 / 12 * 1.01


CONVEX = [
    ("quadratic kappa 100", hb.Quadratic.from_condition_number(100.0, dim=3), [1.0, -1.0, 0.5]),
    ("singular quadratic", hb.Quadratic([[1.0, 1.0], [1.0, 1.0]], b=[1.0, 1.0]), [2.0, 1.0]),
    ("lessard (piecewise)", hb.LessardCounterexample(), [3.3]),
    ("log-cosh", coupled_log_cosh(mu=0.0), [1.0, -0.5]),
    ("quartic", hb.CustomProblem(1, lambda x: float(x[0] ** 4) / 4, lambda x: x**3, minimizer=[0.0], min_value=0.0),
     [2.0]),
]


@pytest.mark.parametrize("name, problem, x0", CONVEX, ids=[c[0] for c in CONVEX])
def test_su_boyd_candes_bound_on_convex_problems(name, problem, x0):
    # f(x(t)) - f* <= 2 |x0 - x*|^2 / t^2, via the Lyapunov function
    # E(t) = t^2 (f - f*) + 2 |x + t x'/2 - x*|^2, which never increases.
    t0 = 1e-3
    x, v = su_boyd_candes_start(problem, x0, t0)
    t = np.linspace(t0, 30.0, 600)
    ref = hb.solve_reference(su_boyd_candes(problem), x, v, t_span=(t0, 30.0), t_eval=t)
    assert ref.status == 0
    xstar, fstar = problem.minimizer, problem.min_value
    r0 = 2.0 * np.sum((np.asarray(x0) - xstar) ** 2)
    gap = ref.loss - fstar
    assert np.all(gap >= -1e-12)  # f* really is the minimum (a wrong one would fake or break the bound)
    # the series start puts E(t0) within O(t0^4) of r0, and the solver errs ~1e-10
    assert np.all(t**2 * gap <= r0 * (1 + 1e-8) + 1e-9)
    energy = t**2 * gap + 2.0 * np.sum((ref.x + 0.5 * t[:, None] * ref.v - xstar) ** 2, axis=1)
    assert np.all(np.diff(energy) <= 1e-8 * r0)


def test_the_bound_fails_with_too_little_friction():
    # r = 1: x = x0 J0(sqrt(lambda) t), and t^2 (f - f*) grows like t, so the check above can fail
    q = hb.Quadratic.diagonal([2.0])
    t = np.linspace(1.0, 60.0, 400)
    x, _ = su_boyd_candes_exact(q, [1.0], t, r=1.0)
    assert np.max(t**2 * q.value(x)) > 2.0 * 5


# ---------------------------------------------------------------- Nesterov's scheme and the ODE clock


def sbc_oracle(grad, x0, s, n):
    """Su-Boyd-Candes's scheme as printed: x_k = y_{k-1} - s grad(y_{k-1}), y_k = x_k + (k-1)/(k+2)(x_k - x_{k-1})."""
    x_prev = [float(c) for c in x0]
    y = list(x_prev)
    xs, ys = [list(x_prev)], [list(y)]
    for k in range(1, n + 1):
        g = [float(c) for c in grad(np.array(y))]
        x = [yi - s * gi for yi, gi in zip(y, g)]
        y = [xi + (k - 1) / (k + 2) * (xi - pi) for xi, pi in zip(x, x_prev)]
        x_prev = x
        xs.append(x)
        ys.append(y)
    return np.array(xs), np.array(ys)


def test_iterates_are_the_papers_scheme_exactly():
    p = hb.Rosenbrock()
    s, n = 2e-4, 300
    xs, ys = sbc_oracle(p.grad, [-1.2, 1.0], s, n)
    traj = iterates("nag_c", p, [-1.2, 1.0], s, n)
    np.testing.assert_allclose(traj.x, xs, rtol=1e-12, atol=1e-14)
    assert traj.t.tolist() == list(range(n + 1))
    k = np.arange(1, n + 1)
    beta = np.array([nesterov_momentum(kk) for kk in k])
    y = traj.x[1:] + beta[:, None] * (traj.x[1:] - traj.x[:-1])
    np.testing.assert_allclose(y, ys[1:], rtol=1e-12, atol=1e-14)


def test_pytorch_momentum_schedule_matches_two_steps_then_drifts():
    p = hb.Quadratic.diagonal([2.0, 0.3])
    s, n = 0.01, 40
    _, ys = sbc_oracle(p.grad, [1.0, -0.7], s, n)
    torch_like = hb.optimize(p, hb.SGD(s, 0.5, nesterov=True), [1.0, -0.7], n_steps=n,
                             momentum_schedule=lambda j: nesterov_momentum(j + 1))
    assert nesterov_momentum(1) == 0.0  # so PyTorch keeps no buffer on step 0 ...
    np.testing.assert_allclose(torch_like.x[:3], ys[:3], rtol=1e-15, atol=1e-16)  # ... and y_1, y_2 agree
    # from step 2 one momentum both decays the buffer and looks ahead: a difference of order s
    drift = np.max(np.abs(torch_like.x[3:] - ys[3:]))
    assert 1e-4 < drift < 0.1


def sbc_tracking_error(s, T=10.0, torch_variant=False):
    lam = np.array([2.0, 0.3])
    q, x0 = hb.Quadratic.diagonal(lam), [1.0, -0.7]
    n = int(round(T / math.sqrt(s)))
    if torch_variant:
        x = hb.optimize(q, hb.SGD(s, 0.5, nesterov=True), x0, n_steps=n,
                        momentum_schedule=lambda j: nesterov_momentum(j + 1)).x
    else:
        x = iterates("nag_c", q, x0, s, n).x
    exact, _ = su_boyd_candes_exact(q, x0, math.sqrt(s) * np.arange(n + 1))
    return float(np.max(np.linalg.norm(x - exact, axis=1)))


def test_nesterov_tracks_the_su_boyd_candes_ode_with_error_sqrt_s():
    steps = [1e-2, 1e-3, 1e-4]
    errors = [sbc_tracking_error(s) for s in steps]
    # measured exponents 0.49 and 0.50 between successive decades: the asymptotic 1/2
    assert slope(steps, errors) == pytest.approx(0.5, abs=0.03)
    torch_errors = [sbc_tracking_error(s, torch_variant=True) for s in steps]
    assert slope(steps, torch_errors) == pytest.approx(0.5, abs=0.07)  # approaches 1/2 more slowly (0.44, 0.48)


# ---------------------------------------------------------------- high-resolution ODEs


@pytest.mark.parametrize("method", ["heavy_ball", "nag_sc"])
def test_high_resolution_systems_match_the_matrix_exponential(method):
    lam, mu, s = np.array([1.0, 30.0]), 1.0, 0.01
    q = hb.Quadratic.diagonal(lam)
    ode = accelerated_ode(method, q, s, mu=mu)
    x0, v0 = np.array([1.0, -2.0]), np.array([0.3, 0.1])
    t = np.array([0.5, 2.0, 4.0])
    ref = hb.solve_reference(ode.system, x0, v0, t_span=(0.0, 4.0), t_eval=t)
    c_h = math.sqrt(s) if method == "nag_sc" else 0.0
    sigma = 1.0 + math.sqrt(mu * s)
    for i, li in enumerate(lam):
        # x'' = -sigma lambda x - (2 sqrt(mu) + c_H lambda) x'
        A = np.array([[0.0, 1.0], [-sigma * li, -(2 * math.sqrt(mu) + c_h * li)]])
        want = np.array([expm(A * tt) @ [x0[i], v0[i]] for tt in t])
        np.testing.assert_allclose(ref.x[:, i], want[:, 0], atol=1e-9)
        np.testing.assert_allclose(ref.v[:, i], want[:, 1], atol=1e-9)


def test_nag_c_high_resolution_right_hand_side():
    p, s = hb.Rosenbrock(), 0.04
    ode = accelerated_ode("nag_c", p, s)
    x, v, t = np.array([0.3, -0.2]), np.array([1.0, 2.0]), 0.7
    want = -(3 / t) * v - math.sqrt(s) * p.hessian(x) @ v - (1 + 1.5 * math.sqrt(s) / t) * p.grad(x)
    np.testing.assert_allclose(ode.system.rhs(t, np.concatenate([x, v])), np.concatenate([v, want]), rtol=1e-14)
    assert ode.time_of(1) == pytest.approx(ode.t_start) == pytest.approx(1.5 * math.sqrt(s))


def tracking_exponents(problem, method, mu):
    steps, rows = [1e-3, 1e-4, 1e-5], []
    for s in steps:
        run = iterates(method, problem, [1.0, -0.5], s, int(round(5.0 / math.sqrt(s))), mu=mu)
        row = [accelerated_ode(method, problem, s, mu=mu, resolution=res).tracking_error(run)
               for res in ("high", "low")]
        if method != "nag_c":
            other = "nag_sc" if method == "heavy_ball" else "heavy_ball"
            row.append(accelerated_ode(other, problem, s, mu=mu).tracking_error(run))
        rows.append(row)
    return [slope(steps, col) for col in np.array(rows).T]


@pytest.mark.parametrize("method", ["heavy_ball", "nag_sc", "nag_c"])
@pytest.mark.parametrize("problem, mu", [(hb.Quadratic.diagonal([1.0, 10.0]), 1.0), (coupled_log_cosh(0.5), 0.5)],
                         ids=["quadratic", "log-cosh"])
def test_high_resolution_odes_track_to_order_s_and_separate_the_methods(problem, method, mu):
    # Measured exponents (s = 1e-3 .. 1e-5): own high-resolution ODE 0.98-1.01, low-resolution
    # ODE 0.49-0.50, the other method's high-resolution ODE 0.48-0.49. The asymptotic values are
    # 1, 1/2, 1/2, approached with corrections of relative order sqrt(s) <= 0.03: allow 0.05.
    exps = tracking_exponents(problem, method, None if method == "nag_c" else mu)
    assert exps[0] == pytest.approx(1.0, abs=0.05)
    assert exps[1] == pytest.approx(0.5, abs=0.05)
    if method != "nag_c":
        assert exps[2] == pytest.approx(0.5, abs=0.05)


def test_top_mode_decay_rates_separate_heavy_ball_from_nesterov():
    # Quadratic mode lambda = L = 100, mu = 1, s = 1e-3: decay rate per unit of ODE time.
    mu, L, s = 1.0, 100.0, 1e-3
    h, beta = math.sqrt(s), accelerated_momentum(mu, s)
    hb_roots = np.roots([1.0, -(1 + beta - s * L), beta])
    nag_roots = np.roots([1.0, -(1 + beta) * (1 - s * L), beta * (1 - s * L)])
    rate = {"hb": -math.log(np.max(np.abs(hb_roots))) / h, "nag": -math.log(np.max(np.abs(nag_roots))) / h}
    ode = {}
    for method in ("heavy_ball", "nag_sc"):
        sys_ = accelerated_ode(method, hb.Quadratic.diagonal([L]), s, mu=mu).system
        ode[method] = -np.max(np.roots([1.0, sys_.friction + sys_.hessian_damping * L, sys_.gradient_scale * L]).real)
    low = math.sqrt(mu)  # x'' + 2 sqrt(mu) x' + L x: both methods decay at sqrt(mu) = 1
    assert rate["hb"] == pytest.approx(low, rel=0.02) and ode["heavy_ball"] == pytest.approx(low)
    # NAG-SC damps the stiff mode 2.66 times faster; its high-resolution ODE says 2.58, the low one 1
    assert rate["nag"] == pytest.approx(2.66, abs=0.01)
    assert ode["nag_sc"] == pytest.approx(rate["nag"], rel=0.04)


# ---------------------------------------------------------------- the system terms and validation


def test_defaults_leave_the_damped_particle_unchanged():
    s = hb.DampedParticle(hb.Rosenbrock(), 2.0, 0.5)
    assert s.hessian_damping == 0.0 and s.gradient_scale == 1.0 and not s.high_resolution
    assert repr(s) == "DampedParticle(Rosenbrock(a=1.0, b=100.0), mass=2.0, friction=0.5)"


def test_hessian_damping_and_gradient_scale_in_rhs():
    p = hb.Rosenbrock()
    x, v = np.array([0.3, -0.2]), np.array([1.0, 2.0])
    s = hb.DampedParticle(p, 2.0, 0.5, hessian_damping=0.1, gradient_scale=lambda t: 1 + t)
    want = (-(1 + 3.0) * p.grad(x) - 0.5 * v - 0.1 * p.hessian(x) @ v) / 2.0
    np.testing.assert_allclose(s.rhs(3.0, np.concatenate([x, v])), np.concatenate([v, want]), rtol=1e-14)
    flow = hb.DampedParticle(p, 0.0, 4.0, gradient_scale=2.0)
    np.testing.assert_allclose(flow.rhs(0.0, x), -2.0 * p.grad(x) / 4.0)
    assert s.high_resolution and "hessian_damping=0.1" in repr(s)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hessian_damping=-1.0), "`hessian_damping` must be >= 0"),
        (dict(mass=0.0, friction=1.0, hessian_damping=0.5), "`hessian_damping` must be 0 when `mass` = 0"),
        (dict(gradient_scale=0.0), "`gradient_scale` must be > 0"),
        (dict(gradient_scale=float("inf")), "`gradient_scale` must be finite"),
    ],
)
def test_bad_high_resolution_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hb.DampedParticle(hb.Rosenbrock(), **kwargs)


def test_hessian_damping_needs_a_hessian_and_a_time_dependent_scale_is_checked():
    no_hessian = hb.CustomProblem(1, lambda x: float(x[0] ** 2), lambda x: 2 * x)
    with pytest.raises(ValueError, match="hessian"):
        hb.DampedParticle(no_hessian, 1.0, 1.0, hessian_damping=0.1)
    s = hb.DampedParticle(hb.Rosenbrock(), 1.0, 1.0, gradient_scale=lambda t: t - 1.0)
    with pytest.raises(ValueError, match=r"gradient_scale\(t\)"):
        hb.solve_reference(s, [0.0, 0.0], t_span=(0.5, 1.0))


def test_integrate_refuses_the_high_resolution_terms():
    for kw in (dict(hessian_damping=0.1), dict(gradient_scale=1.5)):
        s = hb.DampedParticle(hb.Rosenbrock(), 1.0, 1.0, **kw)
        with pytest.raises(ValueError, match="hessian_damping.*gradient_scale.*solve_reference"):
            hb.integrate(s, [0.0, 0.0], method="symplectic_euler", step=0.01, n_steps=3)


def test_ode_helpers_validate():
    q = hb.Quadratic.diagonal([1.0, 4.0])
    with pytest.raises(ValueError, match="needs `mu`"):
        accelerated_ode("heavy_ball", q, 0.01)
    with pytest.raises(ValueError, match="'nag_c' takes no `mu`"):
        accelerated_ode("nag_c", q, 0.01, mu=1.0)
    with pytest.raises(ValueError, match="`mu` \\* `lr` must be < 1"):
        accelerated_momentum(1.0, 1.0)
    with pytest.raises(ValueError, match="'heavy_ball', 'nag_sc', 'nag_c'"):
        iterates("adam", q, [1.0, 1.0], 0.01, 3)
    with pytest.raises(ValueError, match="Quadratic"):
        su_boyd_candes_exact(hb.Rosenbrock(), [0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="`t`"):
        su_boyd_candes_exact(q, [1.0, 1.0], [-1.0])
    with pytest.raises(ValueError, match="friction"):
        hb.solve_reference(su_boyd_candes(q), [1.0, 1.0], t_span=(0.0, 1.0))  # singular at t = 0
    assert InverseTime(3.0) == InverseTime(3.0) and repr(InverseTime(1.0, 2.0)) == "InverseTime(1.0, constant=2.0)"
