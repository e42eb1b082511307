"""Fuzz the public Python API with bad values, one parameter at a time.

For every entry point a valid call is written out; hypothesis replaces one
parameter with a bad value (NaN, inf, negative, zero, huge, a string, None, a
bool, a complex number, a list of the wrong length, an array of the wrong
shape, a 0-d or 1-d tensor-like array). The call must end in a ValueError or
TypeError whose message names that parameter, or return a valid result:
no other exception, no NaN in the result, no warning. Runs are tiny.
"""

import importlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heavyball as hb
from heavyball import diagnostics, landscapes, maps, schedules, spectral
from heavyball.trajectory import Trajectory

FUZZ = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

BAD_VALUES = [
    math.nan, math.inf, -math.inf, -1, -1.0, 0, 0.0, 1e308, -1e308, 10**30, 2**63, 1e-320,
    "0.1", "abc", "", None, True, False, 1 + 2j, [1.0], [1.0, 2.0, 3.0], [], np.zeros((2, 2)),
    np.array(np.nan), np.array(0.5), np.float32(0.5), np.int64(-3), np.bool_(True), np.array([True, False]),
    np.array([1 + 1j, 0.0]), object(), {"a": 1}, (0.9,), lambda k: 0.1,
]
try:  # 0-d and 1-d tensors when torch is there (not required)
    import torch

    BAD_VALUES += [torch.tensor(0.5), torch.tensor(math.nan), torch.tensor([0.1, 0.2]), torch.tensor(True)]
except ImportError:  # pragma: no cover
    pass

#: Random numbers on top of the fixed table (which every parameter meets in full).
bad_numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 1000)

Q = hb.Quadratic.from_condition_number(10.0)
SYS = hb.DampedParticle(Q, 1.0, 1.0)


def _traj():
    return hb.optimize(Q, hb.SGD(0.05, 0.5), [1.0, 1.0], n_steps=30)


TRAJ = _traj()

#: name -> (function, valid keyword arguments); every keyword gets fuzzed.
ENTRY_POINTS = {
    "integrate": (lambda system, x0, **kw: hb.integrate(system, x0, **kw),
                  dict(system=SYS, x0=[1.0, 1.0], v0=[0.0, 0.0], method="symplectic_euler", step=0.1,
                       n_steps=5, t0=0.0, tol=1e-3, record_every=2)),
    "optimize": (lambda problem, optimizer, x0, **kw: hb.optimize(problem, optimizer, x0, **kw),
                 dict(problem=Q, optimizer=hb.SGD(0.1, 0.5), x0=[1.0, 1.0], n_steps=5,
                      lr_schedule=schedules.constant(0.1), momentum_schedule=lambda k: 0.5, restart_every=2,
                      grad_noise=0.01, seed=1, tol=1e-3, record_every=2, stochastic=False)),
    "solve_reference": (lambda system, x0, **kw: hb.solve_reference(system, x0, **kw),
                        dict(system=SYS, x0=[1.0, 1.0], v0=[0.0, 0.0], t_span=(0.0, 1.0), t_eval=[0.0, 0.5, 1.0],
                             method="RK45", rtol=1e-6, atol=1e-9)),
    "DampedParticle": (hb.DampedParticle, dict(problem=Q, mass=1.0, friction=1.0, hessian_damping=0.0,
                                               gradient_scale=1.0)),
    "GD": (hb.GD, dict(lr=0.1)),
    "SGD": (hb.SGD, dict(lr=0.1, momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0, maximize=False)),
    "KerasSGD": (hb.KerasSGD, dict(learning_rate=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)),
    "EMAMomentum": (hb.EMAMomentum, dict(lr=0.1, beta=0.9)),
    "Adam": (hb.Adam, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                           maximize=False)),
    "to_optimizer": (maps.to_optimizer, dict(mass=1.0, friction=1.0, step=0.1, method="symplectic_euler",
                                             framework="torch")),
    "to_physical": (maps.to_physical, dict(optimizer=hb.SGD(0.1, 0.9), mass=1.0, method="symplectic_euler")),
    "initial_velocity": (maps.initial_velocity, dict(optimizer=hb.SGD(0.1, 0.9), grad0=[1.0, 2.0], mass=1.0,
                                                     method="symplectic_euler")),
    "iteration_matrix": (spectral.iteration_matrix, dict(H=np.diag([1.0, 2.0]), lr=0.1, momentum=0.5,
                                                         method="heavy_ball")),
    "spectral_radius": (spectral.spectral_radius, dict(eigenvalues=[1.0, 10.0], lr=0.1, momentum=0.5,
                                                       method="nesterov")),
    "mode_roots": (spectral.mode_roots, dict(eigenvalues=[1.0, 10.0], lr=0.1, momentum=0.5, method="heavy_ball")),
    "optimal_parameters": (spectral.optimal_parameters, dict(mu=1.0, L=10.0, method="heavy_ball")),
    "rate_table": (spectral.rate_table, dict(kappas=[1.0, 10.0], reduction=1e-6)),
    "transient_growth": (spectral.transient_growth, dict(eigenvalues=[1.0, 10.0], lr=0.1, momentum=0.5,
                                                         method="heavy_ball", n_steps=5)),
    "half_life": (spectral.half_life, dict(beta=0.9)),
    "memory_window": (spectral.memory_window, dict(beta=0.9, fraction=0.9)),
    "empirical_rate": (spectral.empirical_rate, dict(trajectory=TRAJ, minimizer=[0.0, 0.0], tail=0.5)),
    "effective_learning_rate": (diagnostics.effective_learning_rate, dict(lr=0.1, momentum=0.9)),
    "steps_to_tolerance": (diagnostics.steps_to_tolerance, dict(trajectory=TRAJ, tol=1e-2, minimizer=[0.0, 0.0],
                                                               relative=True, stay=False)),
    "oscillation_count": (diagnostics.oscillation_count, dict(trajectory=TRAJ, about=[0.0, 0.0], tol=0.0)),
    "overshoot": (diagnostics.overshoot, dict(trajectory=TRAJ, minimizer=[0.0, 0.0])),
    "distances": (diagnostics.distances, dict(trajectory=TRAJ, target=[0.0, 0.0])),
    "energies": (diagnostics.energies, dict(trajectory=TRAJ, mass=1.0, optimizer=hb.SGD(0.05, 0.5))),
    "detect_cycle": (diagnostics.detect_cycle, dict(trajectory=TRAJ, tol=1e-9, max_period=4, repeats=2)),
    "constant": (schedules.constant, dict(value=0.1)),
    "linear": (schedules.linear, dict(start=0.1, end=0.2, n_steps=10)),
    "cosine": (schedules.cosine, dict(start=0.1, end=0.2, n_steps=10)),
    "warmup": (schedules.warmup, dict(after=0.1, n_warmup=5, start=0.0)),
    "step_decay": (schedules.step_decay, dict(initial=0.1, factor=0.5, every=3)),
    "Quadratic.from_condition_number": (hb.Quadratic.from_condition_number, dict(kappa=10.0, dim=2, mu=1.0)),
    "Quadratic": (hb.Quadratic, dict(H=np.diag([1.0, 2.0]), b=[0.0, 1.0], c=0.0)),
    "Quadratic.diagonal": (hb.Quadratic.diagonal, dict(eigenvalues=[1.0, 2.0], b=[0.0, 1.0], c=0.0)),
    "Rosenbrock": (hb.Rosenbrock, dict(a=1.0, b=100.0)),
    "DoubleWell": (hb.DoubleWell, dict(barrier=1.0, tilt=0.25, stiffness=1.0)),
    "Saddle": (hb.Saddle, dict(a=1.0, b=1.0, c=1.0)),
    "Plateau": (hb.Plateau, dict(width=1.0, depth=1.0, dim=2)),
    "CustomProblem": (hb.CustomProblem, dict(dim=2, value=Q.value, grad=Q.grad, hessian=None, minimizer=[0.0, 0.0],
                                             min_value=0.0, name="q")),
    "Ravine": (landscapes.Ravine, dict(steep=200.0, shallow=2.0)),
    "SharpFlatMinima": (landscapes.SharpFlatMinima, dict(flat=1.0, sharp=20.0)),
    "LeastSquares": (landscapes.LeastSquares, dict(A=[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], y=[1.0, 0.0, 2.0],
                                                 batch_size=2)),
    "LeastSquares.random": (landscapes.LeastSquares.random, dict(n_samples=4, dim=2, kappa=10.0, noise=0.5,
                                                                 batch_size=1, seed=0)),
    "SparseLeastSquares": (landscapes.SparseLeastSquares, dict(frequencies=[0.9, 0.1], target=[1.0, 2.0],
                                                               noise=0.1, batch_size=2)),
    "SparseLeastSquares.zipf": (landscapes.SparseLeastSquares.zipf, dict(dim=3, exponent=1.0)),
    "DriftingQuadratic": (landscapes.DriftingQuadratic, dict(eigenvalues=[1.0, 2.0], drift="circle", speed=0.01,
                                                             radius=1.0, period=10, noise=0.0)),
    "problems.get": (lambda name, **kw: hb.problems.get(name, **kw), dict(name="quadratic", kappa=10.0)),
    "physical_iteration_matrix": (spectral.physical_iteration_matrix,
                                  dict(H=np.diag([1.0, 2.0]), mass=1.0, friction=1.0, step=0.1,
                                       method="symplectic_euler")),
    "physical_mode_roots": (spectral.physical_mode_roots, dict(eigenvalues=[1.0, 10.0], mass=1.0, friction=1.0,
                                                               step=0.1, method="nesterov")),
    "physical_spectral_radius": (spectral.physical_spectral_radius,
                                 dict(eigenvalues=[1.0, 10.0], mass=1.0, friction=1.0, step=0.1,
                                      method="implicit_friction_euler")),
    "continuous_roots": (spectral.continuous_roots, dict(eigenvalues=[1.0, 10.0], mass=1.0, friction=1.0)),
    "continuous_limit": (spectral.continuous_limit, dict(eigenvalues=[1.0, 10.0], mass=1.0, friction=1.0,
                                                         step=0.1, method="symplectic_euler")),
    "regime": (spectral.regime, dict(eigenvalue=1.0, lr=0.1, momentum=0.5, codes=False)),
    "regime_boundaries": (spectral.regime_boundaries, dict(num=11)),
    "convergence_region": (spectral.convergence_region, dict(lr_lambda=1.0, momentum=0.5)),
    "worst_quadratic": (importlib.import_module("heavyball.pep").worst_quadratic, dict(method="heavy_ball", lr=0.1, momentum=0.5, mu=1.0, L=10.0,
                                                 n_steps=3)),
    "nesterov_momentum": (hb.odes.nesterov_momentum, dict(k=3, r=3.0)),
    "accelerated_momentum": (hb.odes.accelerated_momentum, dict(mu=1.0, lr=0.1)),
    "su_boyd_candes": (hb.odes.su_boyd_candes, dict(problem=Q, r=3.0)),
    "sweep": (lambda problem, lrs, momenta, **kw: hb.sweep(problem, lrs, momenta, **kw),
              dict(problem=Q, lrs=[0.05, 0.1], momenta=[0.0, 0.5], x0=[1.0, 1.0], n_steps=5, method="heavy_ball",
                   tol=1e-6, backend="numba", progress=False)),
}

#: Parameters where a bad value can only be judged by the run, not refused (a
#: callable schedule is called; its values are checked and named then).
CASES = [(name, param) for name, (_, kw) in ENTRY_POINTS.items() for param in kw]

#: A refusal may name a parameter tied to the fuzzed one (the valid call fixes both).
RELATED = {("CustomProblem", "dim"): "`minimizer`", ("Quadratic.diagonal", "eigenvalues"): "`b`"}


def _no_nan(value, seen=None):
    """True when no float in ``value`` (result objects walked recursively) is NaN."""
    if isinstance(value, Trajectory):
        return (np.all(np.isfinite(value.x)) and np.all(np.isfinite(value.t))
                and (not value.success or np.all(np.isfinite(value.loss))))
    if isinstance(value, (float, np.floating)):
        return not math.isnan(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or not np.any(np.isnan(value))
    if isinstance(value, (tuple, list)):
        return all(_no_nan(v) for v in value)
    if hasattr(value, "__dict__") and not callable(value):
        return all(_no_nan(v) for v in vars(value).values())
    return True


def _call(name, param, bad):
    fn, kw = ENTRY_POINTS[name]
    kw = dict(kw, **{param: bad})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = fn(**kw)
        except (ValueError, TypeError) as exc:
            text = str(exc)
            named = param in text or RELATED.get((name, param), "`" + param) in text
            assert named, f"{name}({param}={bad!r}) raised {exc!r} without naming `{param}`"
            return
    assert _no_nan(result), f"{name}({param}={bad!r}) returned NaN: {result!r}"


@pytest.mark.parametrize("name, param", CASES)
def test_every_bad_value_of_the_table_is_refused_by_name_or_gives_a_valid_result(name, param):
    failures = []
    for bad in BAD_VALUES:
        try:
            _call(name, param, bad)
        except Exception as exc:  # collect them all, to report every failing value at once
            failures.append(f"{bad!r}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name, param", CASES)
@FUZZ
@given(bad=bad_numbers)
def test_a_random_number_is_refused_by_name_or_gives_a_valid_result(name, param, bad):
    _call(name, param, bad)
