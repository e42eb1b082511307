import subprocess
import sys

import pytest

import heavyball as hb
from heavyball import cli, tour


@pytest.fixture(scope="module")
def data():
    """Everything the quick tour prints, computed once for the tests of this module."""
    return tour.collect(quick=True)


def test_map_check_rows_agree_to_rounding(data):
    rows = data["map"]
    assert len(rows) == 6 and data["map_steps"] == 500
    for row in rows:
        assert row["max_deviation"] <= 1e-12, row
        assert "torch_deviation" not in row  # the quick tour leaves PyTorch out


def test_map_check_against_the_real_torch_optimizer():
    pytest.importorskip("torch")
    rows = tour.map_check(n_steps=200)
    assert len(rows) == 6
    for row in rows:
        assert row["max_deviation"] <= 1e-12 and row["torch_deviation"] <= 1e-12, row
    text = []
    tour._print_map_check(text.append, rows, 200)
    assert sum("torch.optim " in line for line in text) == 6
    text = []
    tour._print_map_check(text.append, tour.map_check(n_steps=5, against_torch=False), 5, quick=True)
    assert sum(line.endswith("torch.optim: full tour") for line in text) == 6


def test_reference_check_observes_order_one():
    for row in tour.reference_check(steps=(0.01, 0.005, 0.0025)):
        assert abs(row["orders"][-1] - 1.0) < 0.1, row
        assert row["errors"][0] > row["errors"][1] > row["errors"][2]


def test_cli_tour_quick_runs(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(tour, "run", lambda out, quick: calls.append((out, quick)) or 0)
    assert cli.main(["tour", "--quick", "--out", str(tmp_path)]) == 0
    assert cli.main(["tour"]) == 0
    assert calls == [(str(tmp_path), True), ("heavyball-tour", False)]


def test_bad_argument_is_one_line_on_stderr_with_exit_code_2():
    proc = subprocess.run([sys.executable, "-m", "heavyball", "tour", "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--bogus" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["--help"], ["tour", "--help"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0


# ------------------------------------------------------------------ the tour's numbers
import math  # noqa: E402

import numpy as np  # noqa: E402

from tests import oracles  # noqa: E402


def _closed_form_tuning(kappa, method):
    """(lr, momentum, rate) for eigenvalues [1, kappa], straight from the formulas."""
    s, q = math.sqrt(kappa), math.sqrt(3 * kappa + 1)
    return {"gd": (2 / (kappa + 1), 0.0, (kappa - 1) / (kappa + 1)),
            "heavy_ball": (4 / (1 + s) ** 2, ((s - 1) / (s + 1)) ** 2, (s - 1) / (s + 1)),
            "nesterov": (4 / (3 * kappa + 1), (q - 2) / (q + 2), 1 - 2 / q)}[method]


def _first_hit_by_oracle(kappa, method, lr, beta, n):
    lam = np.array([1.0, kappa])
    xs = np.asarray(oracles.sgd_torch(lambda x: lam * np.asarray(x), [1.0, 1.0], n, lr, beta,
                                      nesterov=method == "nesterov"))
    d = np.linalg.norm(xs, axis=1)
    hit = np.flatnonzero(d <= 1e-6 * d[0])
    return int(hit[0]) if hit.size else None


@pytest.fixture(scope="module")
def rows(data):
    return data["rates"]


def test_rate_rows_analytic_columns_are_the_closed_forms(rows):
    assert [(r["kappa"], r["method"]) for r in rows] == [(k, m) for k in (10.0, 100.0, 1000.0, 1e4)
                                                       for m in ("gd", "heavy_ball", "nesterov")]
    for r in rows:
        lr, beta, rate = _closed_form_tuning(r["kappa"], r["method"])
        assert r["lr"] == pytest.approx(lr, rel=1e-13) and r["momentum"] == pytest.approx(beta, rel=1e-13)
        assert r["analytic_rate"] == pytest.approx(rate, rel=1e-13)
        k = r["analytic_steps"]  # smallest k with rate^k <= 1e-6
        assert k * math.log(rate) <= math.log(1e-6) < (k - 1) * math.log(rate)


def test_rate_rows_measured_steps_match_an_independent_simulation(rows):
    for r in rows:
        if r["method"] == "gd":  # both modes are (1 - lr lambda)^k exactly
            lam = np.array([1.0, r["kappa"]])
            k = np.arange(r["n_steps"] + 1)[:, None]
            d = np.sqrt(np.sum((1 - r["lr"] * lam) ** (2 * k), axis=1))
            want = int(np.flatnonzero(d <= 1e-6 * math.sqrt(2))[0])
        else:
            want = _first_hit_by_oracle(r["kappa"], r["method"], r["lr"], r["momentum"], r["measured_steps"] + 2)
        assert r["measured_steps"] == want, r


def test_rate_rows_measured_rates_are_the_analytic_ones_up_to_the_double_root_bias(rows):
    for r in rows:
        if r["method"] == "gd":
            assert r["measured_rate"] == pytest.approx(r["analytic_rate"], rel=1e-12)
        else:
            # e_k = (a + b k) rho^k: a slope fitted over the second half of n steps exceeds
            # log rho by at most about 1/(n/2)
            bias = math.log(r["measured_rate"] / r["analytic_rate"])
            assert 0.0 <= bias <= 2.0 / r["n_steps"], r


def test_ravine_and_phase_runs_are_what_they_say():
    problem, runs, rates = tour.ravine_runs(n_steps=40)
    assert list(problem.eigenvalues) == [2.0, 200.0]
    for (label, run), method in zip(runs.items(), ("gd", "heavy_ball", "nesterov")):
        lr, beta, rate = _closed_form_tuning(100.0, method)
        lr *= 0.5  # eigenvalues [2, 200]: the tunings scale as 1/mu
        assert rates[label] == pytest.approx(rate, rel=1e-13)
        ref = oracles.sgd_torch(lambda x: np.array([200.0, 2.0]) * np.asarray(x), [1.0, 1.0], 40, lr, beta,
                                nesterov=method == "nesterov")
        assert oracles.rel_err(run.x, ref) <= 1e-13, label
    system, pruns, ref = tour.phase_runs(n_steps=10)
    m, g, h, x0 = tour.PHASE
    b = 1 - h * g / m
    A = {"explicit_euler": [[1.0, h], [-h / m, b]], "symplectic_euler": [[1 - h * h / m, h * b], [-h / m, b]],
         "nesterov": [[1 - h * h / m, h * b * (1 - h * h / m)], [-h / m, b * (1 - h * h / m)]]}
    compiled = hb.DampedParticle(hb.Quadratic.diagonal([1.0]), m, g)
    for method, run in pruns.items():
        y = np.linalg.matrix_power(np.array(A[method]), 10) @ [x0, 0.0]
        np.testing.assert_allclose([run.x[-1, 0], run.v[-1, 0]], y, rtol=1e-12)
        # the NumPy loop the tour uses for these runs gives the compiled kernel's iterates, bit for bit
        kernel = hb.integrate(compiled, [x0], method=method, step=h, n_steps=10)
        assert np.array_equal(run.x, kernel.x) and np.array_equal(run.v, kernel.v), method
    # the reference is the damped oscillator's closed form: x = e^{-gt/2}(x0 cos wt + x0 g/(2w) sin wt)
    w = math.sqrt(1 - g * g / 4)
    t = ref.t
    exact = np.exp(-g * t / 2) * x0 * (np.cos(w * t) + g / (2 * w) * np.sin(w * t))
    np.testing.assert_allclose(ref.x[:, 0], exact, atol=1e-9)


# --------------------------------------------------------------- the heat-map sweep
@pytest.fixture(scope="module")
def heat(data):
    return data["heat"]


def test_heatmap_sweep_rates_match_an_independent_loop(heat):
    problem, result, summary = heat
    lam = np.array([1.0, 100.0])
    n = summary["n_steps"]
    rng = np.random.default_rng(0)
    for i, j in [(0, 0), (len(result.momenta) // 2, len(result.lrs) // 2), (len(result.momenta) - 1, 3)] + \
            [tuple(rng.integers(0, s) for s in result.rate.shape) for _ in range(3)]:
        lr, beta = result.lrs[j], result.momenta[i]
        x = np.asarray(oracles.sgd_torch(lambda z: lam * np.asarray(z), [1.0, 1.0], n, lr, beta))[-1]
        with np.errstate(all="ignore"):
            rate = (np.linalg.norm(x) / math.sqrt(2)) ** (1 / n)
        if result.diverged[i, j]:
            assert not np.isfinite(rate) or rate > 1.0 or np.max(np.abs(x)) > 1e40
        else:
            assert result.rate[i, j] == pytest.approx(rate, rel=1e-10), (i, j)


def test_heatmap_summary_numbers(heat):
    problem, result, s = heat
    assert s["analytic"] == pytest.approx(_closed_form_tuning(100.0, "heavy_ball"), rel=1e-13)
    # SweepResult.best: the fewest steps to tolerance, then the smallest rate
    rate = np.where(result.diverged, np.inf, result.rate)
    steps = np.where((result.steps_to_tol >= 0) & ~result.diverged, result.steps_to_tol, np.iinfo(np.int64).max)
    i, j = np.unravel_index(np.lexsort((rate.ravel(), steps.ravel()))[0], rate.shape)
    assert s["best"] == (result.lrs[j], result.momenta[i], rate[i, j])
    assert s["converged"] == int((~result.diverged).sum()) and s["grid"] == result.rate.size
    # analytic radius of each grid point from numpy.roots of the two modes' polynomials
    radius = np.array([[max(np.abs(np.roots([1, -(1 + b - lr * lam), b])).max() for lam in (1.0, 100.0))
                        for lr in result.lrs] for b in result.momenta])
    ok = ~result.diverged
    assert s["analytic_converging"] == int((radius < 1).sum())
    assert s["agree_max"] == pytest.approx(np.max(np.abs(result.rate[ok] - radius[ok])), abs=1e-7)
    # the simulated optimum is the analytic one to within the grid spacing
    assert abs(math.log(s["best"][0] / s["analytic"][0])) <= 2 * math.log(result.lrs[1] / result.lrs[0])


# ------------------------------------------------------------------------ the run
@pytest.fixture(scope="module")
def tour_output(tmp_path_factory, data, monkeypatch_module):
    import io

    out = tmp_path_factory.mktemp("tour")
    monkeypatch_module.setattr(tour, "collect", lambda quick: data)  # computed (and checked) once
    buf = io.StringIO()
    assert tour.run(out, quick=True, stream=buf) == 0
    return out, buf.getvalue()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_tour_prints_the_checked_numbers(tour_output, data, rows):
    _, text = tour_output
    assert text.startswith(tour.report(data))
    for r in rows:
        steps = "-" if r["measured_steps"] is None else str(r["measured_steps"])
        line = (f"   {r['kappa']:7g}  {r['method']:<10} {r['lr']:10.4g} {r['momentum']:9.4f}  "
                f"{r['analytic_rate']:8.4f} {r['measured_rate']:9.4f}  {r['analytic_steps']:6d} {steps:>9}")
        assert line in text
    for row in data["map"]:
        assert f"heavyball {row['max_deviation']:.1e}" in text
    for row in data["reference"]:
        assert "observed order " + ", ".join(f"{o:.2f}" for o in row["orders"]) in text
    # the heat-map lines, from the closed-form tuning
    lr, beta, rho = _closed_form_tuning(100.0, "heavy_ball")
    assert f"analytic optimum      lr = {lr:.4g}, momentum = {beta:.4f}, rate = {rho:.4f}" in text
    blr, bbeta, brate = data["heat"][2]["best"]
    assert f"best simulated point  lr = {blr:.4g}, momentum = {bbeta:.4f}, rate = {brate:.4f}" in text


def test_reference_check_errors_are_against_solve_ivp(data):
    """The printed errors: recompute one scheme's against an independent solve_ivp call."""
    from scipy.integrate import solve_ivp

    from heavyball import DampedParticle, DoubleWell, integrate

    problem = DoubleWell(stiffness=2.0)

    def rhs(t, y):  # m = 1, gamma = 0.7, written out by hand
        x, v = y[:2], y[2:]
        gx = 4 * x[0] * (x[0] ** 2 - 1) + 0.25
        return np.concatenate([v, -np.array([gx, 2.0 * x[1]]) - 0.7 * v])

    exact = solve_ivp(rhs, (0, 2), [1.4, 0.5, 0.0, -0.3], method="DOP853", rtol=1e-12, atol=1e-13).y[:2, -1]
    row = next(r for r in data["reference"] if r["method"] == "symplectic_euler")
    for h, err in zip(row["steps"], row["errors"]):
        traj = integrate(DampedParticle(problem, 1.0, 0.7), [1.4, 0.5], [0.0, -0.3], method="symplectic_euler",
                         step=h, n_steps=int(round(2 / h)))
        assert err == pytest.approx(np.linalg.norm(traj.x[-1] - exact), rel=1e-6)


def test_tour_writes_and_lists_its_five_figures(tour_output):
    out, text = tour_output
    names = ["phase_portrait.png", "ravine_trajectories.png", "convergence.png", "rate_heatmap.png",
             "regime_map.png"]
    for name in names:
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
        assert str(path) in text
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_tour_map_rows_show_the_closed_form_parameters(tour_output):
    import re

    _, text = tour_output
    h = 0.03  # m = gamma = 1 in tour.MAP_CASES
    want = {"symplectic_euler": (h * h, 1 - h), "nesterov": (h * h, 1 - h),
            "conformal_symplectic_euler": (h * h, math.exp(-h)),
            "implicit_friction_euler": (h * h / (1 + h), 1 / (1 + h))}
    for name, (lr, beta) in want.items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(name + " "))
        got_lr = float(re.search(r"lr=([0-9.e-]+)", line).group(1))
        got_beta = float(re.search(r"momentum=([0-9.e-]+)", line).group(1))
        assert got_lr == pytest.approx(lr, rel=1e-6) and got_beta == pytest.approx(beta, rel=1e-6), line
    gd_line = next(ln for ln in text.splitlines() if ln.strip().startswith("explicit_euler "))
    assert "GD(lr=0.001)" in gd_line  # h / gamma with h = 1e-3, gamma = 1


def test_cli_tour_json_is_one_object_with_the_tours_numbers(data, monkeypatch, tmp_path, capsys):
    """``heavyball tour --json``: the README says every subcommand takes --json (issue 14)."""
    import json

    monkeypatch.setattr(tour, "collect", lambda quick: data)  # the numbers checked above, computed once
    assert cli.main(["tour", "--quick", "--json", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.lstrip().startswith("{")
    obj = json.loads(out)  # exactly one JSON document: json.loads rejects anything after it
    assert obj["command"] == "tour" and obj["quick"] is True and obj["map_steps"] == 500
    assert [(r["kappa"], r["method"], r["measured_steps"]) for r in obj["rates"]] == \
        [(r["kappa"], r["method"], r["measured_steps"]) for r in data["rates"]]
    assert [r["max_deviation"] for r in obj["map"]] == [float(r["max_deviation"]) for r in data["map"]]
    _, result, summary = data["heat"]
    assert obj["heatmap"]["agree_max"] == summary["agree_max"]
    assert obj["heatmap"]["shape"] == list(result.rate.shape)
    assert obj["heatmap"]["analytic"] == list(summary["analytic"])
    assert sorted(obj["figures"]) == sorted(str(p) for p in tmp_path.glob("*.png")) and len(obj["figures"]) == 5
