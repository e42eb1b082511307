"""Issue 17, items 5, 7, 8 and 12: sizes, obscure errors, silent nonsense, tensor-like numbers.

Each test starts from the issue's reproducer.
"""

import numpy as np
import pytest

import heavyball as hb
from heavyball import _validation as _v
from heavyball import schedules, spectral
from heavyball._validation import InputTypeError

Q = hb.Quadratic.from_condition_number(10.0)
SYS = hb.DampedParticle(Q, 1.0, 1.0)


def custom(problem):
    """The same problem with only a Python gradient: runs in the NumPy loops."""
    return hb.CustomProblem(problem.dim, problem.value, problem.grad)


# ---------------------------------------------------------------- item 5: sizes


@pytest.mark.parametrize("call", [
    lambda: hb.integrate(SYS, [1.0, 1.0], method="symplectic_euler", step=0.1, n_steps=10**10),
    lambda: hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=10**10),
])
def test_huge_n_steps_is_refused_before_allocating(call):
    with pytest.raises(ValueError, match=r"`n_steps` = 10000000000 needs .* numbers \(.*GiB\)"):
        call()


def test_transient_growth_caps_its_steps():
    with pytest.raises(ValueError, match=r"`n_steps` must be <= 1000000"):
        spectral.transient_growth([1.0], 0.1, 0.5, n_steps=10**10)


def test_records_not_steps_decide_the_size(monkeypatch):
    monkeypatch.setattr(_v, "MAX_NUMBERS", 1000)
    with pytest.raises(ValueError, match="raise `record_every`"):
        hb.optimize(Q, hb.SGD(0.01), [1.0, 1.0], n_steps=1000)
    traj = hb.optimize(Q, hb.SGD(0.01), [1.0, 1.0], n_steps=1000, record_every=100)
    assert traj.status == 0 and len(traj.t) == 11


def test_size_limit_is_the_cap_or_half_the_ram():
    assert 1 << 20 <= _v.size_limit() <= _v.MAX_NUMBERS == 2**31


def test_huge_sweep_grid_is_refused():
    lrs, moms = np.linspace(0.01, 0.1, 10**5), np.linspace(0.0, 0.9, 10**5)
    with pytest.raises(ValueError, match=r"`lrs x momenta` = '100000 x 100000' needs 4e\+10 numbers"):
        hb.sweep(Q, lrs, moms, x0=[1.0, 1.0], n_steps=10)


def test_huge_contour_resolution_is_refused():
    from heavyball import plotting

    with pytest.raises(ValueError, match=r"`resolution` = 100000 needs 8e\+10 numbers"):
        plotting.contour(Q, resolution=10**5)


def _hand_sgd(problem, x0, lrs, moms):
    """torch.optim.SGD with per-step lr and momentum, written out independently."""
    x, buf, out = np.array(x0, float), None, [np.array(x0, float)]
    for lr, mom in zip(lrs, moms):
        g = problem.grad(x)
        buf = g.copy() if buf is None else mom * buf + g
        x = x - lr * buf
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("make", [lambda p: p, custom])
def test_long_schedules_are_evaluated_in_chunks(monkeypatch, make):
    monkeypatch.setattr(schedules, "FULL_ARRAY_STEPS", 50)
    monkeypatch.setattr(schedules, "CHUNK", 16)
    calls = []

    def lr(k):
        calls.append(k)
        return 0.05 / (1.0 + 0.01 * k)

    n = 120
    traj = hb.optimize(make(Q), hb.SGD(0.1, 0.5), [1.0, -1.0], n_steps=n, lr_schedule=lr,
                       momentum_schedule=schedules.linear(0.2, 0.8, 100), record_every=7)
    ks = np.arange(n)
    expected = _hand_sgd(Q, [1.0, -1.0], 0.05 / (1.0 + 0.01 * ks), schedules.linear(0.2, 0.8, 100)(ks))
    np.testing.assert_allclose(traj.x, expected[traj.t.astype(int)], rtol=1e-13, atol=1e-15)
    # each step's value computed once, plus the first chunk checked up front
    assert len(calls) == n + 16 and sorted(set(calls)) == list(range(n))


def test_long_friction_is_evaluated_in_chunks(monkeypatch):
    friction = lambda t: 1.0 + 0.5 * np.sin(t)  # noqa: E731
    system = hb.DampedParticle(Q, 1.0, friction)
    whole = hb.integrate(system, [1.0, 1.0], method="symplectic_euler", step=0.05, n_steps=200, record_every=9)
    monkeypatch.setattr(schedules, "FULL_ARRAY_STEPS", 50)
    monkeypatch.setattr(schedules, "CHUNK", 16)
    seen = []
    system = hb.DampedParticle(Q, 1.0, lambda t: seen.append(np.size(t)) or friction(t))
    parts = hb.integrate(system, [1.0, 1.0], method="symplectic_euler", step=0.05, n_steps=200, record_every=9)
    np.testing.assert_allclose(parts.x, whole.x, rtol=1e-13, atol=1e-15)
    assert max(seen) <= 16


def test_a_bad_value_late_in_a_chunked_schedule_names_its_step(monkeypatch):
    monkeypatch.setattr(schedules, "FULL_ARRAY_STEPS", 50)
    monkeypatch.setattr(schedules, "CHUNK", 16)
    with pytest.raises(ValueError, match=r"momentum_schedule\(70\) = 1.0"):
        hb.optimize(Q, hb.Adam(0.01), [1.0, 1.0], n_steps=100, momentum_schedule=lambda k: 0.9 if k < 70 else 1.0)


# ---------------------------------------------------------------- item 7: obscure errors


def _infinite_start():
    return hb.CustomProblem(2, lambda x: np.full(np.shape(x)[:-1], np.inf), lambda x: np.zeros_like(x))


@pytest.mark.parametrize("run", [
    lambda p: hb.optimize(p, hb.SGD(0.1), [1.0, 2.0], n_steps=5),
    lambda p: hb.integrate(hb.DampedParticle(p, 1.0, 1.0), [1.0, 2.0], method="nesterov", step=0.1, n_steps=5),
])
def test_a_start_with_a_non_finite_loss_is_the_one_record(run):
    traj = run(_infinite_start())
    assert traj.status == -1 and not traj.success
    assert "loss at the start is not finite" in traj.message
    assert traj.n_steps == 0 and traj.x.tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="at least 3"):
        spectral.empirical_rate(traj)


def test_a_compiled_start_beyond_the_float_range_is_the_one_record():
    traj = hb.optimize(Q, hb.SGD(0.1), [1e200, 1e200], n_steps=5)
    assert traj.status == -1 and traj.n_steps == 0 and len(traj.x) == 1


def test_registered_names_are_accepted_where_a_problem_is():
    by_name = hb.optimize("quadratic", hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=20)
    by_object = hb.optimize(hb.problems.get("quadratic"), hb.SGD(0.1, 0.5), [1.0, 1.0], n_steps=20)
    np.testing.assert_array_equal(by_name.x, by_object.x)
    system = hb.DampedParticle("rosenbrock", 1.0, 2.0)
    assert isinstance(system.problem, hb.Rosenbrock)
    with pytest.raises(ValueError, match="`problem` must be one of .*'quadratic'"):
        hb.optimize("no-such-problem", hb.SGD(0.1), [1.0, 1.0], n_steps=2)
    with pytest.raises(TypeError, match=r"`system` must be a DampedParticle.*DampedParticle\('quadratic'"):
        hb.integrate("quadratic", [1.0, 1.0], method="symplectic_euler", step=0.1, n_steps=5)


@pytest.mark.parametrize("opt, value, allowed", [
    (hb.Adam(0.1), 1.0, r"in \[0, 1\)"),
    (hb.EMAMomentum(0.1), 1.0, r"in \[0, 1\)"),
    (hb.KerasSGD(0.1, 0.5), 2.0, r"in \[0, 1\]"),
    (hb.SGD(0.1, 0.5), -0.1, ">= 0"),
])
def test_schedules_obey_the_constructors_ranges(opt, value, allowed):
    with pytest.raises(ValueError, match=rf"`momentum_schedule` must return values {allowed}.*momentum_schedule\(3\)"):
        hb.optimize(Q, opt, [1.0, 1.0], n_steps=5, momentum_schedule=lambda k: 0.5 if k < 3 else value)
    with pytest.raises(ValueError, match=r"lr_schedule\(0\) = -1.0"):
        hb.optimize(Q, opt, [1.0, 1.0], n_steps=5, lr_schedule=lambda k: -1.0)


def test_keras_accepts_a_momentum_of_one_as_its_constructor_does():
    traj = hb.optimize(Q, hb.KerasSGD(0.01, 0.5), [1.0, 1.0], n_steps=5, momentum_schedule=lambda k: 1.0)
    assert traj.status == 0


def test_seed_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match="`seed` must be an integer >= 0, got -1"):
        hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=5, grad_noise=0.1, seed=-1)
    with pytest.raises(TypeError, match="`seed` must be an integer"):
        hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=5, seed=1.5)


@pytest.mark.parametrize("bad, kind", [(np.array([0.1, 0.2]), "ndarray of shape"), ("0.1", "str"),
                                       (None, "NoneType"), (0.1 + 0j, "complex"), (True, "bool")])
def test_a_schedule_must_return_real_numbers(bad, kind):
    with pytest.raises(TypeError, match=rf"`lr_schedule\(0\)` must be a real number, got {kind}"):
        hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=3, lr_schedule=lambda k: bad)


def test_t_eval_must_be_finite():
    with pytest.raises(ValueError, match="`t_eval` must be finite"):
        hb.solve_reference(SYS, [1.0, 1.0], t_span=(0.0, 1.0), t_eval=[np.nan])


def test_an_unknown_worst_case_solver_is_named_without_pepit():
    with pytest.raises(ValueError, match="`solver` must be one of 'CLARABEL', 'SCS'"):
        hb.worst_case("heavy_ball", 0.1, 0.5, 1.0, 10.0, 3, solver="NOPE")
    with pytest.raises(TypeError, match="`solver`"):
        hb.worst_case("heavy_ball", 0.1, 0.5, 1.0, 10.0, 3, solver=3)


# ---------------------------------------------------------------- item 8: silent nonsense


@pytest.mark.parametrize("x0, kind", [([1 + 1j, 1.0], "complex"), (np.array([True, False]), "booleans"),
                                      (["1", "2"], "strings"), ([None, 1.0], "NoneType")])
def test_x0_of_the_wrong_kind_is_a_type_error(x0, kind):
    with pytest.raises(TypeError, match=f"`x0.*{kind}"):
        hb.optimize(Q, hb.SGD(0.1), x0, n_steps=2)
    with pytest.raises(TypeError, match=f"`x0.*{kind}"):
        hb.integrate(SYS, x0, method="symplectic_euler", step=0.1, n_steps=2)


def test_strings_are_not_numbers():
    with pytest.raises(TypeError, match="`beta` must be an array of real numbers, got str '0.5'"):
        spectral.half_life("0.5")
    with pytest.raises(TypeError, match="`lr` must be a real number, got str"):
        hb.SGD("0.1")
    with pytest.raises(TypeError, match="`mass` must be a real number"):
        hb.DampedParticle(Q, "1", 1.0)


def test_type_errors_are_still_value_errors():
    # code that caught ValueError for every bad input (the CLI) keeps working
    with pytest.raises(ValueError):
        hb.SGD(0.1, 0.9, nesterov="no")


@pytest.mark.parametrize("cls, kw", [(hb.SGD, {"momentum": 0.9}), (hb.KerasSGD, {"momentum": 0.9})])
@pytest.mark.parametrize("flag", ["no", 0, 1, None, np.array([True])])
def test_flags_must_be_bools(cls, kw, flag):
    with pytest.raises(TypeError, match="`nesterov` must be True or False"):
        cls(0.1, nesterov=flag, **kw)
    assert cls(0.1, nesterov=np.bool_(True), **kw).nesterov is True


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_optimal_parameters_never_return_nan(method):
    with pytest.raises(ValueError, match="kappa = L/mu = inf"):
        spectral.optimal_parameters(1e-320, 1e308, method)
    lr, beta, rate = spectral.optimal_parameters(1e-150, 1e150, method)  # kappa = 1e300: still finite
    assert np.isfinite([lr, beta, rate]).all() and 0.0 <= rate <= 1.0


@pytest.mark.parametrize("make", [lambda p: p, custom])
@pytest.mark.parametrize("nesterov", [False, True])
def test_keras_momentum_zero_applies_a_momentum_schedule(make, nesterov):
    moms = [0.9, 0.5, 0.0, 0.7, 0.3]
    lr, x, u, out = 0.05, np.array([1.0, -2.0]), np.zeros(2), []
    for m in moms:  # keras.optimizers.SGD written out, the velocity built from the start
        g = Q.grad(x)
        u = m * u - lr * g
        x = x + (m * u - lr * g if nesterov else u)
        out.append(x)
    traj = hb.optimize(make(Q), hb.KerasSGD(lr, 0.0, nesterov=nesterov), [1.0, -2.0], n_steps=len(moms),
                       momentum_schedule=lambda k: moms[k])
    np.testing.assert_allclose(traj.x[1:], np.array(out), rtol=1e-14, atol=1e-16)


# ---------------------------------------------------------------- item 12: tensor-like numbers


def test_numpy_scalars_and_0d_arrays_are_numbers():
    opt = hb.SGD(lr=np.float32(0.5), momentum=np.array(0.25))
    assert (opt.lr, opt.momentum) == (0.5, 0.25) and type(opt.lr) is float
    assert hb.Adam(betas=(np.float64(0.9), np.array(0.99))).betas == (0.9, 0.99)
    traj = hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=np.int64(3), record_every=np.array(2))
    assert traj.n_steps == 3


def test_torch_zero_dim_tensors_are_numbers():
    torch = pytest.importorskip("torch")
    assert hb.SGD(lr=torch.tensor(0.5)).lr == 0.5
    assert hb.Adam(betas=(0.9, torch.tensor(0.5))).betas == (0.9, 0.5)
    assert hb.DampedParticle(Q, torch.tensor(2.0), torch.tensor(1.0)).mass == 2.0
    traj = hb.optimize(Q, hb.SGD(0.1), torch.tensor([1.0, 1.0]), n_steps=torch.tensor(3))
    assert traj.n_steps == 3


def test_tensor_like_values_that_are_not_numbers_say_so():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"`lr` must be a real number, got tensor of shape \(3,\)"):
        hb.SGD(lr=torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(TypeError, match=r"`betas\[1\]` must be a real number, got tensor of shape \(2,\)"):
        hb.Adam(betas=(0.9, torch.tensor([0.9, 0.99])))
    with pytest.raises(TypeError, match="`momentum` must be a real number, got tensor"):
        hb.SGD(0.1, momentum=torch.tensor(True))
    with pytest.raises(TypeError, match="`n_steps` must be an integer, got tensor"):
        hb.optimize(Q, hb.SGD(0.1), [1.0, 1.0], n_steps=torch.tensor(3.0))
    with pytest.raises(ValueError, match=r"Invalid learning rate.*must be finite and >= 0"):
        hb.SGD(lr=torch.tensor(-0.1))  # a number, out of range: the range message
