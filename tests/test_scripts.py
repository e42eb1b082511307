"""Every example script runs (quick mode, into a tmp dir) and its numbers are right."""

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests import oracles  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
EXAMPLES = sorted(p.name for p in SCRIPTS.glob("*.py")
                  if not p.name.startswith(("claims_", "theory_", "_")))


#: Optional extras an example needs (it is skipped without them).
OPTIONAL = {"real_data.py": ("sklearn", "torch")}


def load(name):
    return runpy.run_path(str(SCRIPTS / name), run_name="heavyball_example")


def test_every_example_is_covered():
    assert set(EXAMPLES) >= {"ravine.py", "kappa_table.py", "ema_half_life.py", "momentum_schedules.py",
                             "phase_portraits.py", "discretisation_error.py"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_script_runs_quick_and_writes_its_png(name, tmp_path, capsys):
    for module in OPTIONAL.get(name, ()):
        pytest.importorskip(module)
    load(name)["main"](["--quick", "--out", str(tmp_path)])
    pngs = list(tmp_path.glob("*.png"))
    assert pngs, f"{name} wrote no figure"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out


def test_ema_weights_are_the_closed_form():
    mod = load("ema_half_life.py")
    for beta in (0.5, 0.9, 0.99):
        w = mod["measured_weights"](beta, 60)
        np.testing.assert_allclose(w, (1 - beta) * beta ** np.arange(60), rtol=1e-12)
        # half of the weight lies within the half-life: 1 - beta^H = 1/2
        assert 1 - beta ** mod["half_life"](beta) == pytest.approx(0.5, rel=1e-12)
        np.testing.assert_allclose(mod["measured_step_response"](beta, 30), 1 - beta ** np.arange(31), atol=1e-15)


def test_phase_portrait_runs_are_the_linear_maps():
    """On L = x^2/2 each scheme is a 2x2 linear map of (x, v); compare its matrix powers."""
    mod = load("phase_portraits.py")
    _, runs, _ = mod["runs"](12)
    h, g, m = mod["STEP"], mod["FRICTION"], mod["MASS"]
    b = 1 - h * g / m
    maps = {
        "explicit_euler": np.array([[1.0, h], [-h / m, b]]),
        "symplectic_euler": np.array([[1 - h * h / m, h * b], [-h / m, b]]),
        # look-ahead: v' = b v - (h/m)(x + h b v), x' = x + h v'
        "nesterov": np.array([[1 - h * h / m, h * b * (1 - h * h / m)], [-h / m, b * (1 - h * h / m)]]),
    }
    for method, A in maps.items():
        y = np.array([mod["X0"], 0.0])
        for k in range(13):
            np.testing.assert_allclose([runs[method].x[k, 0], runs[method].v[k, 0]], y, rtol=1e-12, atol=1e-14)
            y = A @ y
    # explicit Euler gains energy: det = b + h^2/m > 1 here
    assert np.linalg.det(maps["explicit_euler"]) == pytest.approx(b + h * h / m) and b + h * h / m > 1


def test_discretisation_orders_are_one():
    mod = load("discretisation_error.py")
    steps = 0.1 / 2.0 ** np.arange(5)
    for label, errs in mod["errors"](steps).items():
        assert np.all(np.diff(errs) < 0), label
        # first-order schemes: the last observed order is within 0.15 of 1 by h = 0.0125
        assert abs(mod["observed_orders"](steps, errs)[-1] - 1.0) < 0.15, label


def test_momentum_schedule_runs_match_the_pytorch_oracle():
    mod = load("momentum_schedules.py")
    problem, runs = mod["run_all"](300)
    lam = problem.eigenvalues
    for label, (mom, sched, restart) in mod["variants"]().items():
        moms = None if sched is None else [sched(k) for k in range(300)]
        ref = oracles.sgd_torch(lambda x: lam * np.asarray(x), np.ones(50), 300, 1 / 100.0, mom,
                                moms=moms, restart_every=restart)
        assert oracles.rel_err(runs[label].x, ref) <= 1e-13, label
        d = np.linalg.norm(np.asarray(ref), axis=1)
        hit = np.flatnonzero(d <= 1e-6 * d[0])
        assert mod["steps_to_tolerance"](runs[label], mod["TOL"], minimizer=problem.minimizer) == \
            (int(hit[0]) if hit.size else -1), label


def test_ravine_runs_are_the_closed_form_tunings():
    mod = load("ravine.py")
    _, data = mod["runs"](50)
    s = np.sqrt(100.0)
    assert data["gradient descent"][1] == pytest.approx(99 / 101, rel=1e-14)
    assert data["heavy ball"][1] == pytest.approx((s - 1) / (s + 1), rel=1e-14)
    assert data["Nesterov"][1] == pytest.approx(1 - 2 / np.sqrt(301), rel=1e-14)
    seed = data["GD, lr = 0.005 (seed)"][0]
    # lr * 200 = 1: the steep coordinate is solved by the first step; y shrinks by 0.99 per step
    assert np.all(seed.x[1:, 0] == 0.0)
    np.testing.assert_allclose(seed.x[:, 1], 0.99 ** np.arange(51), rtol=1e-13)
    assert data["GD, lr = 0.005 (seed)"][1] == pytest.approx(0.99, rel=1e-15)
    # tuned GD flips the sign of x every step, |x_k| = (99/101)^k
    gd = data["gradient descent"][0].x[:, 0]
    np.testing.assert_allclose(gd, (-99 / 101) ** np.arange(51), rtol=1e-12)


def test_kappa_table_measured_rates_are_within_the_double_root_bias():
    mod = load("kappa_table.py")
    for kappa in (10.0, 1000.0):
        gd = mod["measured_rate"](kappa, "gd", 500)
        assert gd == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-12)  # both modes decay exactly
        s = np.sqrt(kappa)
        hb_rate = (s - 1) / (s + 1)
        n = 2000
        measured = mod["measured_rate"](kappa, "heavy_ball", n)
        # e_k = (a + b k) rho^k: a slope fitted over k in [n/2, n] exceeds log rho by about 1/(0.75 n),
        # but underflow cuts the fit short for fast rates, so bound by the tail actually fitted
        assert 0 <= np.log(measured / hb_rate) <= 4.0 / min(n, -140 * np.log(10) / np.log(hb_rate))


# --------------------------------------------------------------------------- docs
DOCS = Path(__file__).resolve().parent.parent / "docs"
#: Pages of this issue whose ``pycon`` examples run as doctests (others test their own pages).
DOC_PAGES = ["getting-started.md", "theory.md", "problems.md", "integrators.md", "optimizers.md", "maps.md",
             "diagnostics.md", "plotting.md", "cli.md"]


@pytest.mark.parametrize("page", DOC_PAGES)
def test_doc_examples_run(page, monkeypatch, tmp_path):
    import doctest

    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    result = doctest.testfile(str(DOCS / page), module_relative=False, verbose=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    plt.close("all")
    assert result.attempted > 0, f"{page} has no runnable example"
    assert result.failed == 0, f"{result.failed} example(s) in {page} failed"


# --------------------------------------------------------------------------- gallery
def _gallery():
    import importlib.util

    spec = importlib.util.spec_from_file_location("heavyball_docs_gallery", DOCS / "_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_script_has_a_gallery_topic_and_title():
    """The documentation's gallery runs every script of scripts/ (docs/_gallery.py): each needs a
    topic (by prefix or by name) and a sphinx-gallery title, else the site's build stops."""
    gallery = _gallery()
    found = gallery.examples()  # raises, naming the script, if one has no topic or title
    scripts = {p.name for p in SCRIPTS.glob("*.py")}
    assert {p.name for p in found} == {n for n in scripts if not n.startswith("_") and not n.endswith("_common.py")}
    assert set(found.values()) <= set(gallery.TOPICS)
    for path in found:
        assert gallery.check_title(path).strip()


def test_a_script_without_topic_or_title_is_refused(tmp_path):
    gallery = _gallery()
    with pytest.raises(ValueError, match="no gallery topic"):
        gallery.topic_of(tmp_path / "mystery.py")
    assert gallery.topic_of(tmp_path / "noise_new_study.py") == "noise"
    bad = tmp_path / "claims_x.py"
    bad.write_text('"""A study without a title underline."""\n')
    with pytest.raises(ValueError, match="title"):
        gallery.check_title(bad)
