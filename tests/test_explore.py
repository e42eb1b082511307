"""heavyball.explore without a browser: the URL state, compute's numbers against the library, exports, the CLI hook."""

import os
import subprocess
import sys

import numpy as np
import pytest

import heavyball as hb
from heavyball.explore import ExploreState, QueryError, compute, from_query, to_query
from heavyball.explore.compute import coefficients, window
from heavyball.explore.state import METHODS, problem_parameters

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISSUE_QUERY = "problem=quadratic&kappa=100&method=heavy_ball&lr=0.0330578&momentum=0.669421&x0=1,1"


# ------------------------------------------------------------------------- query
def test_issue_query_parses_and_round_trips():
    s = from_query("?" + ISSUE_QUERY)
    assert (s.problem, s.params, s.method, s.lr, s.momentum, s.x0) == (
        "quadratic", (("kappa", 100.0),), "heavy_ball", 0.0330578, 0.669421, (1.0, 1.0))
    assert from_query(to_query(s)) == s


@pytest.mark.parametrize("query", [
    "problem=rosenbrock&a=1.5&b=50&method=nesterov&lr=0.001&momentum=0.9&x0=-1.2,1&n_steps=300",
    "problem=double_well&method=conformal_symplectic_euler&mass=2&friction=0.5&step=0.05&n_steps=50",
    "problem=quadratic&kappa=3.3&method=gd&lr=0.1&noise=0.25&seed=7",
    "problem=lessard&method=heavy_ball&lr=0.04&momentum=0.4&mass=0.5",
    "problem=quadratic&kappa=10&method=explicit_euler&mass=0&friction=2&step=0.1",
])
def test_round_trip_is_exact(query):
    s = from_query(query)
    assert from_query(to_query(s)) == s
    assert from_query(dict(__import__("urllib.parse").parse.parse_qsl(to_query(s)))) == s


def test_physical_query_sets_the_physical_parametrisation():
    s = from_query("method=heavy_ball&mass=1&friction=2&step=0.1")
    assert s.param == "physical"
    assert "lr=" not in to_query(s) and "friction=2.0" in to_query(s)


@pytest.mark.parametrize("query, field", [
    ("lr=abc", "lr"), ("lr=-1", "lr"), ("lr=nan", "lr"), ("momentum=1.5", "momentum"), ("kappa=zz", "kappa"),
    ("kappa=0.5", "kappa"), ("problem=__import__('os')", "problem"), ("method=adamw", "method"),
    ("x0=1", "x0"), ("x0=1,b", "x0"), ("x0=1e300,1", "x0"), ("n_steps=0", "n_steps"), ("n_steps=2.5", "n_steps"),
    ("n_steps=99999999", "n_steps"), ("noise=-1", "noise"), ("seed=-3", "seed"), ("seed=x", "seed"),
    ("bogus=1", "bogus"), ("lr=0.1&lr=0.2", "lr"), ("lr=0.1&friction=1", "friction"),
    ("method=gd&momentum=0.5", "momentum"), ("problem=rosenbrock&kappa=10", "kappa"), ("step=0", "step"),
    ("mass=-1", "mass"), ("problem=rosenbrock&b=-5", "b"),
])
def test_bad_query_names_its_field(query, field):
    with pytest.raises(QueryError) as exc:
        from_query(query)
    assert exc.value.field == field
    assert str(exc.value).startswith(f"`{field}`")
    assert isinstance(exc.value, ValueError)


def test_problem_controls_come_from_the_registry():
    assert set(problem_parameters("rosenbrock")) == {"a", "b"}
    assert "kappa" in problem_parameters("quadratic") and "dim" not in problem_parameters("quadratic")
    for name in hb.problems.names():
        problem_parameters(name)  # every registry problem has its controls


def test_replace_checks_like_a_query():
    s = ExploreState()
    assert s.replace(lr=0.01).lr == 0.01
    with pytest.raises(QueryError, match="`momentum`"):
        s.replace(momentum=2.0)


# ----------------------------------------------------------------------- numbers
def test_spectral_radius_and_calls_of_the_issue_query():
    v = compute(from_query(ISSUE_QUERY), rates=False)
    lam = hb.Quadratic.from_condition_number(100.0).eigenvalues
    assert v.radius == hb.spectral.spectral_radius(lam, 0.0330578, 0.669421, "heavy_ball")
    assert v.torch_call == "torch.optim.SGD(params, lr=0.0330578, momentum=0.669421)"
    assert v.keras_call == "keras.optimizers.SGD(learning_rate=0.0330578, momentum=0.669421)"
    ref = hb.optimize(hb.Quadratic.from_condition_number(100.0), hb.SGD(0.0330578, 0.669421), [1.0, 1.0],
                      n_steps=200)
    np.testing.assert_array_equal(v.run.x, ref.x)


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_radius_matches_spectral_for_each_optimizer(method):
    mom = 0.0 if method == "gd" else 0.5
    v = compute(from_query(f"kappa=20&method={method}&lr=0.05&momentum={mom}"), rates=False)
    assert v.radius == hb.spectral.spectral_radius([1.0, 20.0], 0.05, mom, method)


@pytest.mark.parametrize("method", ["symplectic_euler", "conformal_symplectic_euler", "implicit_friction_euler",
                                    "nesterov"])
def test_physical_map_equals_to_optimizer(method):
    s = from_query(f"kappa=20&method={method}&mass=1.5&friction=0.7&step=0.2")
    lr, mom, phys = coefficients(s)
    opt = hb.to_optimizer(1.5, 0.7, 0.2, method)
    assert (lr, mom) == (opt.lr, opt.momentum)
    v = compute(s, rates=False)
    if method != "nesterov":
        assert v.radius == hb.spectral.physical_spectral_radius([1.0, 20.0], 1.5, 0.7, 0.2, method)
        # the integrator's run equals the optimiser it is (heavy ball) to rounding
        ref = hb.optimize(hb.Quadratic.from_condition_number(20.0), opt, [1.0, 1.0], n_steps=200)
        np.testing.assert_allclose(v.run.x, ref.x, rtol=1e-9, atol=1e-12)
    assert f"lr={float(f'{opt.lr:.12g}')!r}" in v.torch_call


def test_optimizer_parametrisation_maps_by_to_physical():
    s = from_query("kappa=20&method=heavy_ball&lr=0.02&momentum=0.8&mass=2")
    v = compute(s, rates=False)
    p = hb.to_physical(hb.SGD(0.02, 0.8), mass=2.0)
    assert (v.physical.mass, v.physical.friction, v.physical.step) == (p.mass, p.friction, p.step)
    # the phase portrait is the physical run of heavyball.maps
    np.testing.assert_allclose(v.phys_run.v, hb.maps.physical_run(v.run, hb.SGD(0.02, 0.8), mass=2.0).v)


def test_divergence_is_reported_not_nan():
    v = compute(from_query("kappa=100&lr=0.05&momentum=0.1"), rates=False)
    assert v.run.status == -1 and v.status.startswith("diverged at step")
    assert v.radius > 1


def test_noise_and_seed_reach_optimize():
    a = compute(from_query("method=heavy_ball&noise=0.3&seed=4&n_steps=50"), rates=False)
    ref = hb.optimize(hb.Quadratic.from_condition_number(100.0), hb.SGD(0.03, 0.6), [1.0, 1.0], n_steps=50,
                      grad_noise=0.3, seed=4)
    np.testing.assert_array_equal(a.run.x, ref.x)


def test_regimes_are_spectral_regime():
    v = compute(from_query(ISSUE_QUERY), rates=False)
    assert [r for _, _, r in v.regimes] == [hb.spectral.regime(l, 0.0330578, 0.669421) for l in (1.0, 100.0)]


def test_rate_map_is_the_sweep_and_is_cached():
    s = from_query("kappa=10&lr=0.1&momentum=0.3&n_steps=20")
    a = compute(s)
    b = compute(s.replace(lr=0.12))
    assert a.rates is b.rates  # one sweep per problem/method/start
    lam_max = 10.0
    lrs = np.linspace(4 / lam_max / 128, 4 / lam_max, 128)
    ref = hb.sweep(hb.Quadratic.from_condition_number(10.0), lrs, np.linspace(0, 0.99, 128), x0=[1.0, 1.0],
                   n_steps=500)
    np.testing.assert_array_equal(a.rates.rate, ref.rate)


@pytest.mark.parametrize("name", hb.problems.names())
@pytest.mark.parametrize("method", ["heavy_ball", "symplectic_euler"])
def test_every_registry_problem_computes(name, method):
    v = compute(from_query(f"problem={name}&method={method}&lr=0.001&momentum=0.5&n_steps=30"), rates=False)
    assert len(v.run.loss) >= 1 and v.status
    if v.problem.dim == 2:
        assert v.contour["z"].shape == (96, 96)


def test_window_holds_the_run_within_ten_start_distances():
    v = compute(from_query("kappa=100&lr=0.039&momentum=0.0&n_steps=100"), rates=False)
    lo, hi = window(v.problem, v.x0, v.run)
    assert np.all(np.array(hi) - np.array(lo) <= 2 * 10 * 1.0 * 1.31 + 1)


def test_every_method_is_offered():
    assert set(METHODS) == {"gd", "heavy_ball", *hb.METHODS}  # hb.METHODS has the integrators and nesterov


# ------------------------------------------------------------------------ exports
def test_png_and_gif_exports():
    from heavyball.explore import export

    v = compute(from_query(ISSUE_QUERY + "&n_steps=30"))
    png = export.png_bytes(v, dpi=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    gif = export.gif_bytes(v, frames=5, dpi=30)
    assert gif[:6] == b"GIF89a"


# --------------------------------------------------------------------------- CLI
def test_import_heavyball_does_not_import_panel():
    code = "import sys, heavyball, heavyball.explore; print('panel' in sys.modules, 'bokeh' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["False", "False"]


def test_explore_without_panel_exits_2_with_the_install_hint(tmp_path):
    (tmp_path / "panel.py").write_text("raise ImportError('hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    run = subprocess.run([sys.executable, "-m", "heavyball", "explore", "--no-browser", "--port", "0"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install -e '.[explore]'" in lines[0]


def test_explore_bad_port_exits_2(capsys):
    assert hb.cli.main(["explore", "--port", "70000", "--no-browser"]) == 2
    assert "`--port`" in capsys.readouterr().err


def test_docs_page_examples_run():
    import doctest
    from pathlib import Path

    path = Path(ROOT) / "docs" / "explore.md"
    result = doctest.testfile(str(path), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_lecture_numbers_of_the_docs():
    """docs/explore.md's lecture quotes these rates and the physical setting of momentum 0.99."""
    gd = compute(from_query("problem=quadratic&kappa=100&method=gd&lr=0.0198&n_steps=300"), rates=False)
    assert gd.radius == pytest.approx(0.980, abs=5e-4)
    _, _, rate = hb.spectral.optimal_parameters(1.0, 100.0, "heavy_ball")
    assert rate == pytest.approx(0.818, abs=5e-4)
    v = compute(from_query("problem=quadratic&kappa=100&lr=0.039&momentum=0.99&x0=1,1&n_steps=600"), rates=False)
    assert v.radius == pytest.approx(0.99 ** 0.5, rel=1e-12) and v.run.status == 0
    assert (round(v.physical.friction, 4), round(v.physical.step, 3)) == (0.0506, 0.197)


def test_app_builds_without_a_server_and_shows_a_bad_query():
    pytest.importorskip("panel")
    from heavyball.explore.app import Explorer

    ex = Explorer(ISSUE_QUERY)
    assert ex.src["trajectory"].data["x"].tolist() == compute(from_query(ISSUE_QUERY), rates=False).run.x[:, 0].tolist()
    assert ">0.818542956555<" in ex.text.object and not ex.error.visible
    ex.lr.value = 0.02  # a widget change recomputes (no browser: the same code path as a slider move)
    assert ex.state.lr == 0.02 and ex.view.radius == hb.spectral.spectral_radius([1.0, 100.0], 0.02, 0.669421)
    bad = Explorer("lr=abc")
    assert bad.error.visible and "`lr`" in bad.error.object and bad.state == ExploreState()
    refused = Explorer("method=conformal_symplectic_euler&lr=0.01&momentum=0")  # the map refuses momentum 0
    assert refused.error.visible and "`momentum`" in refused.error.object and refused.state == ExploreState()
