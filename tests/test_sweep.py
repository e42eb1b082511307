"""``sweep``: the compiled kernel against the NumPy backend, and both against independent runs.

The NumPy backend computes the gradient with the problem's own NumPy ``grad``,
the kernel with the compiled one; for problems built from ``+ - * /`` the two
agree bit for bit, so the backends must return identical arrays. For Saddle
and Plateau (``pow``/``exp``) and dense quadratics (BLAS) the gradients differ
by an ulp, so the trajectories agree to rounding: ``steps_to_tol`` and
``diverged`` must still be identical (no test point sits within rounding of a
threshold), ``final_loss`` to ``1e-12``, and ``rate`` where ``|x_n - x*|`` is
above the rounding floor (below it the rate measures that floor).
"""

import dataclasses
import importlib
import math

import numpy as np
import pytest

import heavyball as hb

sweep_module = importlib.import_module("heavyball.sweeps._sweep")

FIELDS = ("final_loss", "steps_to_tol", "rate", "diverged")
METHODS = ("gd", "heavy_ball", "nesterov")

EXACT_CASES = {
    "diag2": (lambda: hb.Quadratic.from_condition_number(50.0), [1.0, 1.0], 0.05),
    "diag2_b": (lambda: hb.Quadratic.diagonal([1.0, 50.0], b=[1.0, -2.0]), [2.0, 1.0], 0.05),
    "diag5": (lambda: hb.Quadratic.from_condition_number(30.0, dim=5), np.ones(5), 0.08),
    "rosenbrock": (lambda: hb.Rosenbrock(), [-1.0, 1.2], 1e-3),
    "double_well": (lambda: hb.DoubleWell(), [1.3, 0.4], 0.3),
    "double_well_flat": (lambda: hb.DoubleWell(tilt=0.0), [1.3, 0.4], 0.3),  # no minimiser: |grad|
    "lessard": (lambda: hb.LessardCounterexample(), [3.3], 0.12),
}
ROUNDED_CASES = {
    "dense2": (lambda: hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], b=[1.0, -1.0]), [1.0, 2.0], 0.6),
    "saddle": (lambda: hb.Saddle(), [0.5, 0.3], 0.8),
    "plateau": (lambda: hb.Plateau(), [1.0, 0.5], 1.5),
    "plateau3": (lambda: hb.Plateau(dim=3), [1.0, 0.5, -0.5], 1.5),
}


def _grid(lr_max, n_lr=37, n_mom=11):
    # 37 lrs: the blocks of 32 points straddle the rows (momenta) and the last block is padded
    return np.linspace(lr_max / n_lr, lr_max, n_lr), np.linspace(0.0, 0.95, n_mom)


def _pair(case, method, n_steps=300, tol=1e-6):
    make, x0, lr_max = case
    problem = make()
    lrs, moms = _grid(lr_max)
    kw = dict(x0=x0, n_steps=n_steps, method=method, tol=tol)
    return problem, hb.sweep(problem, lrs, moms, **kw), hb.sweep(problem, lrs, moms, backend="numpy", **kw)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(EXACT_CASES))
def test_kernel_and_numpy_backends_agree_bit_for_bit(name, method):
    _, fast, ref = _pair(EXACT_CASES[name], method)
    assert fast.backend == "numba" and ref.backend == "numpy"
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(fast, field), getattr(ref, field), err_msg=field)
    assert fast.steps_to_tol.dtype == np.int64 and fast.diverged.dtype == np.bool_


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(ROUNDED_CASES))
def test_kernel_and_numpy_backends_agree_to_rounding(name, method):
    problem, fast, ref = _pair(ROUNDED_CASES[name], method)
    np.testing.assert_array_equal(fast.diverged, ref.diverged)
    np.testing.assert_array_equal(fast.steps_to_tol, ref.steps_to_tol)
    ok = ~fast.diverged
    np.testing.assert_allclose(fast.final_loss[ok], ref.final_loss[ok], rtol=1e-12, atol=1e-12)
    # where the final distance is well above rounding, the rate is a smooth function of it
    # (gradients near a minimum cancel: their rounding floor is ~1e-16 of the terms, so a relative
    # distance of 1e-6 carries a relative error ~1e-10 and the rate, its n-th root, ~1e-10 / n)
    above = ok & (ref.rate ** fast.n_steps > 1e-6)
    assert above.sum() > 10
    np.testing.assert_allclose(fast.rate[above], ref.rate[above], rtol=1e-12)


def test_the_grid_sees_divergence_convergence_and_both_distance_measures():
    # guards the cases above against testing nothing
    _, fast, _ = _pair(EXACT_CASES["diag2"], "heavy_ball")
    assert fast.diverged.any() and (~fast.diverged).any() and (fast.steps_to_tol >= 0).any()
    assert fast.distance == "x - x*"
    _, flat, _ = _pair(EXACT_CASES["double_well_flat"], "nesterov")
    assert flat.distance == "grad" and (flat.steps_to_tol >= 0).any()


@pytest.mark.parametrize("method", METHODS)
def test_each_point_is_the_run_of_the_framework_optimiser(method):
    problem = hb.Rosenbrock()
    lrs, moms = np.array([2e-4, 1e-3]), np.array([0.0, 0.6, 0.9])
    x0, n, tol = np.array([-1.0, 1.2]), 400, 1e-3
    res = hb.sweep(problem, lrs, moms, x0=x0, n_steps=n, method=method, tol=tol)
    xstar = problem.minimizer
    for i, mom in enumerate(moms):
        for j, lr in enumerate(lrs):
            if method == "gd":
                opt = hb.GD(lr)
            else:
                opt = hb.SGD(lr, momentum=mom, nesterov=method == "nesterov" and mom > 0)
            traj = hb.optimize(problem, opt, x0, n_steps=n)
            dist = np.linalg.norm(traj.x - xstar, axis=1)
            reached = np.flatnonzero(dist <= tol * dist[0])
            assert res.steps_to_tol[i, j] == (reached[0] if reached.size else -1)
            assert res.final_loss[i, j] == traj.loss[-1]
            assert res.rate[i, j] == pytest.approx((dist[-1] / dist[0]) ** (1.0 / n), rel=1e-14)


def _heavy_ball_closed_form(lam, x0, lr, beta, n):
    """|x_n| on a diagonal quadratic from powers of each mode's 2x2 iteration matrix.

    Heavy ball is x_{k+1} = (1 + beta - lr lam) x_k - beta x_{k-1} with x_{-1} = x_0
    (PyTorch's first buffer is the gradient), independent of the buffer form.
    """
    xn = [np.linalg.matrix_power(np.array([[1.0 + beta - lr * l, -beta], [1.0, 0.0]]), n) @ [x, x]
          for l, x in zip(lam, x0)]
    return np.sqrt(sum(v[0] ** 2 for v in xn))


def test_rate_is_the_mean_contraction_of_the_closed_form_iteration():
    lam, x0 = np.array([1.0, 10.0]), np.array([1.0, -0.5])
    lrs, moms, n = np.array([0.02, 0.05, 0.1, 0.15]), np.array([0.0, 0.3, 0.6, 0.8]), 400
    res = hb.sweep(hb.Quadratic.diagonal(lam), lrs, moms, x0=x0, n_steps=n)
    for i, beta in enumerate(moms):
        for j, lr in enumerate(lrs):
            expect = (_heavy_ball_closed_form(lam, x0, lr, beta, n) / np.linalg.norm(x0)) ** (1.0 / n)
            # matrix powers and n steps round differently: ~n ulps in |x_n|, n times less in the rate
            assert res.rate[i, j] == pytest.approx(expect, rel=1e-12), (lr, beta)
            # and the rate is close to the spectral radius (the largest root of a mode)
            rho = max(max(abs(np.roots([1.0, -(1.0 + beta - lr * l), beta]))) for l in lam)
            assert res.rate[i, j] <= rho * 1.02


def test_divergence_is_flagged_with_infinite_loss_and_rate():
    lam = 50.0
    q = hb.Quadratic.diagonal([1.0, lam])
    moms = np.array([0.0, 0.5, 0.9])
    lrs = np.array([0.01, 0.039, 0.05, 0.1])
    res = hb.sweep(q, lrs, moms, x0=[1.0, 1.0], n_steps=2000)
    # heavy ball on a quadratic is stable iff 0 < lr lam < 2 (1 + beta); no point is near the edge
    expect = lrs[None, :] * lam > 2.0 * (1.0 + moms[:, None])
    np.testing.assert_array_equal(res.diverged, expect)
    assert np.all(np.isinf(res.final_loss[expect])) and np.all(np.isinf(res.rate[expect]))
    assert np.all(np.isfinite(res.final_loss[~expect])) and np.all(np.isfinite(res.rate[~expect]))


def test_gd_ignores_the_momentum_axis():
    q = hb.Quadratic.from_condition_number(10.0)
    lrs = np.linspace(0.01, 0.25, 9)
    many = hb.sweep(q, lrs, [0.0, 0.5, 0.9], x0=[1.0, -1.0], n_steps=200, method="gd")
    one = hb.sweep(q, lrs, [0.0], x0=[1.0, -1.0], n_steps=200, method="gd")
    assert many.final_loss.shape == (3, 9) and one.final_loss.shape == (1, 9)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(many, field), np.repeat(getattr(one, field), 3, axis=0))
    # GD on a quadratic multiplies mode i by (1 - lr lam_i) each step
    x_n = (1.0 - lrs[:, None] * q.eigenvalues[None, :]) ** 200 * np.array([1.0, -1.0])
    expect = (np.linalg.norm(x_n, axis=1) / math.sqrt(2.0)) ** (1.0 / 200)
    np.testing.assert_allclose(one.rate[0], expect, rtol=1e-12)


def test_steps_to_tol_counts_from_zero_and_is_minus_one_when_never_reached():
    q = hb.Quadratic.diagonal([1.0])
    res = hb.sweep(q, [0.1, 1e-4], [0.0], x0=[1.0], n_steps=50, method="gd", tol=0.5)
    # x_k = 0.9^k: 0.9^7 = 0.478 <= 0.5 < 0.9^6; the tiny lr never gets there
    np.testing.assert_array_equal(res.steps_to_tol, [[7, -1]])
    assert hb.sweep(q, [0.1], [0.0], x0=[1.0], n_steps=5, tol=1.0).steps_to_tol[0, 0] == 0


def test_rate_before_the_floor_is_the_contraction_factor_in_both_backends():
    q = hb.Quadratic.diagonal([1.0])
    lrs = np.array([1.0, 0.5, 0.875])  # x_1 = 0 exactly; x_k = 2^-k and 8^-k reach the floor (flushed to 0)
    for backend in ("numba", "numpy"):
        res = hb.sweep(q, lrs, [0.0], x0=[1.0], n_steps=1100, method="gd", backend=backend)
        np.testing.assert_array_equal(res.steps_to_tol, [[1, 27, 9]])  # 2^-27 <= 1e-8 < 2^-26, 8^-9 ...
        # measured over steps_to_tol steps: 0.5 and 0.125 exactly; 0 only for the exact landing on x*
        np.testing.assert_allclose(res.rate, [[0.0, 0.5, 0.125]], rtol=1e-15, atol=0)
    slow = hb.sweep(q, [0.05], [0.0], x0=[1.0], n_steps=1100, method="gd")  # 0.95^1100 = 3.7e-25
    assert slow.rate[0, 0] == pytest.approx(0.95, rel=1e-12)


@pytest.mark.parametrize("kappa", [10.0, 1000.0])
def test_rate_at_the_floor_is_the_spectral_radius_of_gd_at_its_optimal_lr(kappa):
    # GD at lr = 2 / (mu + L) contracts both modes of diag(1, kappa) by (kappa - 1) / (kappa + 1) each step;
    # with kappa = 10 it reaches the float floor after about 3500 of the 5000 steps (the rate used to be 0)
    q = hb.Quadratic.diagonal([1.0, kappa])
    lr = 2.0 / (1.0 + kappa)
    rho = (kappa - 1.0) / (kappa + 1.0)
    n = 5000 if kappa == 10.0 else 400_000
    runs = {b: hb.sweep(q, [0.5 * lr, lr], [0.0], x0=[1.0, 1.0], n_steps=n, method="gd", backend=b)
            for b in ("numba", "numpy")} if kappa == 10.0 else {
        "numba": hb.sweep(q, [0.5 * lr, lr], [0.0], x0=[1.0, 1.0], n_steps=n, method="gd")}
    for res in runs.values():
        final = (1.0 - lr) ** n  # far below the floor: the final iterate is exactly 0
        assert final < 1e-300 and res.final_loss[0, 1] == 0.0
        assert res.rate[0, 1] == pytest.approx(rho, rel=1e-12)
        # half that lr stays above the floor: the slow mode (1 - lr/2)^n over n steps, from |x_0| = sqrt 2
        assert res.rate[0, 0] == pytest.approx((1.0 - 0.5 * lr) * 2.0 ** (-0.5 / n), rel=1e-12)
        lr_best, mom_best, rate_best = res.best()
        assert (lr_best, rate_best) == (lr, res.rate[0, 1]) and 0.0 < rate_best < 1.0
    if len(runs) == 2:
        np.testing.assert_array_equal(runs["numba"].rate, runs["numpy"].rate)


def test_best_ranks_by_steps_to_tolerance_then_rate():
    res = hb.sweep(hb.Quadratic.diagonal([1.0, 10.0]), [0.05, 0.1, 0.5], [0.0, 0.5], x0=[1.0, 1.0], n_steps=200)
    assert res.steps_to_tol.tolist() == [[-1, 172, -1], [150, 55, -1]]
    assert res.best() == (0.1, 0.5, float(res.rate[1, 1]))
    # a point with a smaller rate but more steps to tol loses to the faster one
    tweaked = dataclasses.replace(res, rate=np.where(res.diverged, np.inf, 0.99))
    tweaked.rate[0, 1] = 0.1
    assert tweaked.best()[:2] == (0.1, 0.5)
    # no point reached the tolerance: the smallest rate wins
    none = dataclasses.replace(res, steps_to_tol=np.full_like(res.steps_to_tol, -1))
    i, j = np.unravel_index(np.argmin(np.where(res.diverged, np.inf, res.rate)), res.rate.shape)
    assert none.best() == (float(res.lrs[j]), float(res.momenta[i]), float(res.rate[i, j]))


def test_user_problem_runs_on_the_numpy_backend():
    q = hb.Quadratic.diagonal([1.0, 20.0])
    custom = hb.CustomProblem(2, q.value, q.grad, minimizer=[0.0, 0.0])
    lrs, moms = np.linspace(0.01, 0.1, 5), np.array([0.0, 0.8])
    a = hb.sweep(custom, lrs, moms, x0=[1.0, 1.0], n_steps=100)
    b = hb.sweep(q, lrs, moms, x0=[1.0, 1.0], n_steps=100)
    assert a.backend == "numpy" and b.backend == "numba"
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_result_carries_its_metadata():
    q = hb.Quadratic.from_condition_number(100.0)
    res = hb.sweep(q, [0.01, 0.02], [0.5], x0=[1.0, 1.0], n_steps=10, method="nesterov", tol=1e-3)
    assert isinstance(res, hb.SweepResult) and res.shape == (1, 2)
    meta = res.metadata
    assert (meta["method"], meta["n_steps"], meta["tol"], meta["problem_name"]) == ("nesterov", 10, 1e-3,
                                                                                   "quadratic")
    np.testing.assert_array_equal(meta["x0"], [1.0, 1.0])
    np.testing.assert_array_equal(meta["problem_params"]["eigenvalues"], [1.0, 100.0])
    assert meta["divergence_bound"] == 1e50
    lr, mom, rate = res.best()
    assert mom == 0.5 and rate == np.min(res.rate)
    assert "grid=1x2" in repr(res) and "nesterov" in repr(res)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="adam"), "`method` must be one of 'gd', 'heavy_ball', 'nesterov'"),
    (dict(backend="gpu"), "`backend` must be one of"),
    (dict(lrs=[-0.1]), "`lrs` must be >= 0"),
    (dict(momenta=[]), "`momenta` must be non-empty"),
    (dict(n_steps=0), "`n_steps` must be an integer >= 1"),
    (dict(tol=-1.0), "`tol` must be > 0"),
    (dict(tol=0.0), "`tol` must be > 0"),
    (dict(tol=1e-310), r"`tol` \* \|x0 - x\*\| must be >= 1e-300"),
    (dict(x0=[0.0, 0.0]), r"finite, non-zero \|x0 - x\*\|"),
    (dict(x0=[1.0]), r"`x0` must have shape \(2,\)"),
    (dict(progress="yes"), "`progress` must be None, True or False"),
])
def test_bad_arguments_raise_value_errors_that_name_them(kwargs, match):
    args = dict(lrs=[0.01], momenta=[0.5], x0=[1.0, 1.0], n_steps=10)
    args.update(kwargs)
    lrs, momenta = args.pop("lrs"), args.pop("momenta")
    with pytest.raises(ValueError, match=match):
        hb.sweep(hb.Quadratic.from_condition_number(10.0), lrs, momenta, **args)


def test_progress_bar_on_request_and_only_for_long_sweeps_on_a_terminal(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    q = hb.Quadratic.from_condition_number(10.0)
    args = dict(x0=[1.0, 1.0], n_steps=20)
    hb.sweep(q, np.linspace(0.01, 0.1, 40), [0.0, 0.5], progress=True, **args)
    assert "sweep" in capsys.readouterr().err
    hb.sweep(q, np.linspace(0.01, 0.1, 40), [0.0, 0.5], progress=False, **args)
    hb.sweep(q, np.linspace(0.01, 0.1, 40), [0.0, 0.5], **args)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    assert sweep_module._show_progress(None, 1e12, "numba") is False  # not a terminal
    monkeypatch.setattr(sweep_module.sys.stderr, "isatty", lambda: True, raising=False)
    assert sweep_module._show_progress(None, 1e12, "numba") is True
    assert sweep_module._show_progress(None, 1e3, "numba") is False


def test_progress_chunks_give_the_same_numbers():
    q = hb.Quadratic.from_condition_number(30.0)
    lrs, moms = np.linspace(0.001, 0.07, 70), np.linspace(0.0, 0.99, 40)
    a = hb.sweep(q, lrs, moms, x0=[1.0, 1.0], n_steps=200, progress=False)
    b = hb.sweep(q, lrs, moms, x0=[1.0, 1.0], n_steps=200, progress=True)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_tiny_tolerances_are_tested_without_underflow():
    q = hb.Quadratic.diagonal([1.0])
    for backend in ("numba", "numpy"):
        res = hb.sweep(q, [0.5], [0.0], x0=[1.0], n_steps=1000, method="gd", tol=1e-200, backend=backend)
        # first k with 2^-k <= 1e-200 (its square, 1e-400, is not a float64)
        assert res.steps_to_tol[0, 0] == math.ceil(200 * math.log2(10))
    scale, thr2 = sweep_module._tolerance_scale(1e-8, 3.0)
    assert math.log2(scale).is_integer() and 0.25 <= thr2 < 1.0
    assert thr2 == (1e-8 * 3.0 * scale) ** 2


def test_the_constants_of_the_kernel_and_the_numpy_backend_agree():
    from heavyball import kernels

    assert kernels.FLUSH_BELOW == hb.sweeps.FLUSH_BELOW == np.finfo(float).tiny
    assert kernels.FLUSH_EVERY == hb.sweeps.FLUSH_EVERY
    assert kernels.DISTANCE_FLOOR == hb.sweeps.DISTANCE_FLOOR
    assert kernels.BOUND == sweep_module.DIVERGENCE_BOUND
