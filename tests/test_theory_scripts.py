"""The theory studies (scripts/theory_*.py) run in quick mode, and their numbers are right."""

import math
import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import heavyball as hb  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run(name, tmp_path):
    module = runpy.run_path(str(SCRIPTS / name), run_name="heavyball_theory")
    result = module["main"](["--quick", "--out", str(tmp_path)])
    png = tmp_path / name.replace(".py", ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    return module, result


def test_lessard_study(tmp_path):
    _, out = run("theory_lessard.py", tmp_path)
    assert out["period"] == 3
    np.testing.assert_allclose(out["points"] * 1225, [-2208.0, 792.0, 2592.0], atol=1e-9)
    finals = out["final"]
    assert finals["Lessard counterexample"] > 0.5  # never converges ...
    assert max(v for k, v in finals.items() if k != "Lessard counterexample") < 1e-8  # ... unlike the quadratics


def test_friction_study_stability_limits_hold_for_the_integrators(tmp_path):
    module, limits = run("theory_friction.py", tmp_path)
    mode = hb.DampedParticle(hb.Quadratic.diagonal([module["LAM"]]), 1.0, module["GAMMA"])
    for method, h_max in limits.items():
        # the library's own integrators, just inside and just outside the closed-form limit
        inside = hb.integrate(mode, [1.0], method=method, step=0.99 * h_max, n_steps=4000)
        outside = hb.integrate(mode, [1.0], method=method, step=1.01 * h_max, n_steps=4000)
        assert abs(inside.x[-1, 0]) < 1e-3 and (outside.status == -1 or abs(outside.x[-1, 0]) > 1e3), method
        # the coefficients are the library's maps wherever those accept them (beta >= 0)
        lr, beta = module["coefficients"](method, 0.3)
        opt = hb.to_optimizer(1.0, module["GAMMA"], 0.3, method)
        assert (lr, beta) == pytest.approx((opt.lr, opt.momentum), rel=1e-14)


def test_high_resolution_study(tmp_path):
    _, out = run("theory_high_resolution.py", tmp_path)
    for method in ("heavy_ball", "nag_sc"):  # s = 1e-2 .. 1e-4 in quick mode
        assert out["exponents"][(method, 0)] == pytest.approx(1.0, abs=0.1)
        assert out["exponents"][(method, 1)] == pytest.approx(0.5, abs=0.1)
        assert out["exponents"][(method, 2)] == pytest.approx(0.5, abs=0.1)


def test_su_boyd_candes_study(tmp_path):
    _, out = run("theory_su_boyd_candes.py", tmp_path)
    t, exact, ref = out["published"]
    np.testing.assert_allclose(exact, [0.769987, 0.004689, 0.021894, 0.007327], atol=5e-7)
    np.testing.assert_allclose(ref, exact, atol=1e-9)
    for ratio in out["ratios"].values():
        assert np.all(ratio <= 1.0) and np.all(ratio >= -1e-9)


def test_worst_case_study(tmp_path):
    pytest.importorskip("PEPit")
    _, out = run("theory_worst_case.py", tmp_path)
    worst, quad, _ = out["table"]["gd"]
    np.testing.assert_allclose(worst, quad, rtol=1e-6)  # GD: quadratics are the worst case
    worst, quad, _ = out["table"]["heavy_ball"]
    assert np.all(np.diff(worst) > 0) and quad[-1] < 1 < worst[0]
    assert np.all(worst >= out["lessard"] * (1 - 1e-6))
    assert math.isclose(worst[0], (1 - 25 / 9) ** 2, rel_tol=1e-6)


def test_theory_page_examples_run(monkeypatch, tmp_path):
    import doctest

    monkeypatch.chdir(tmp_path)
    page = Path(__file__).resolve().parent.parent / "docs" / "theory-beyond.md"
    result = doctest.testfile(str(page), module_relative=False, verbose=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_friction_radii_agree_with_the_physical_iteration_matrix():
    spectral = pytest.importorskip("heavyball.spectral", reason="heavyball.spectral lands with the spectral issue")
    module = runpy.run_path(str(SCRIPTS / "theory_friction.py"), run_name="heavyball_theory")
    lam, gamma = module["LAM"], module["GAMMA"]
    for method in module["SCHEMES"]:
        for h in (0.1, 0.45, 0.8, 1.3, 3.0):  # explicit friction has beta < 0 beyond h gamma = 1
            M = spectral.physical_iteration_matrix(np.array([[lam]]), 1.0, gamma, h, method)
            rho = float(np.max(np.abs(np.linalg.eigvals(M))))
            assert rho == pytest.approx(module["radius"](method, h), rel=1e-9), (method, h)
            assert np.linalg.det(M) == pytest.approx(module["coefficients"](method, h)[1], rel=1e-12)
