"""The ``heavyball`` command line: every printed number against an independent computation."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from heavyball import SweepResult, cli
from tests import oracles

COMMANDS = ["tour", "simulate", "optimize", "map", "spectrum", "sweep"]


def run_json(capsys, *argv):
    """Run in-process with --json; stdout must be exactly one JSON object."""
    assert cli.main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    obj = json.loads(out)
    assert isinstance(obj, dict) and out.count("\n") == 1
    return obj


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: heavyball " + command in capsys.readouterr().out


# ----------------------------------------------------------------------------- map
def test_map_optimizer_to_physical_is_the_closed_form(capsys):
    r = run_json(capsys, "map", "--lr", "0.01", "--momentum", "0.9")
    # symplectic Euler: lr = h^2/m, beta = 1 - h gamma/m with m = 1
    assert r["mass"] == 1.0 and r["method"] == "symplectic_euler"
    assert r["step"] == pytest.approx(0.1, rel=1e-15)
    assert r["friction"] == pytest.approx((1 - 0.9) / 0.1, rel=1e-14)
    r = run_json(capsys, "map", "--lr", "0.04", "--momentum", "0.5", "--mass", "4", "--nesterov")
    assert r["method"] == "nesterov" and r["step"] == pytest.approx(0.4) and r["friction"] == pytest.approx(5.0)
    r = run_json(capsys, "map", "--optimizer", "ema", "--lr", "0.1", "--momentum", "0.9")
    # EMA(lr, beta) is SGD(lr (1 - beta), beta)
    assert r["step"] == pytest.approx(math.sqrt(0.01)) and r["friction"] == pytest.approx(0.1 / 0.1)
    r = run_json(capsys, "map", "--lr", "0.01", "--momentum", "0.9", "--dampening", "0.5")
    h = math.sqrt(0.005)
    assert r["step"] == pytest.approx(h) and r["v0_scale"] == pytest.approx(-0.01 * 0.5 / (h * 0.9))


@pytest.mark.parametrize("method, lr, beta", [
    ("symplectic_euler", 0.01 / 2, 1 - 0.1 * 3 / 2),
    ("nesterov", 0.01 / 2, 1 - 0.1 * 3 / 2),
    ("conformal_symplectic_euler", 0.01 / 2, math.exp(-0.1 * 3 / 2)),
    ("implicit_friction_euler", 0.01 / (2 + 0.3), 2 / (2 + 0.3)),
])
def test_map_physical_to_optimizer_is_the_closed_form(method, lr, beta, capsys):
    r = run_json(capsys, "map", "--step", "0.1", "--mass", "2", "--friction", "3", "--method", method)
    assert r["lr"] == pytest.approx(lr, rel=1e-14) and r["momentum"] == pytest.approx(beta, rel=1e-14)
    assert r["nesterov"] == (method == "nesterov")


def test_map_text_shows_the_same_numbers(capsys):
    assert cli.main(["map", "--lr", "0.01", "--momentum", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "mass m = 1, friction gamma = 1, step h = 0.1" in out


# ------------------------------------------------------------------------ simulate
def test_simulate_symplectic_euler_is_the_per_mode_linear_map(capsys, tmp_path):
    path = tmp_path / "run.npz"
    r = run_json(capsys, "simulate", "--kappa", "10", "--x0", "1,-2", "--step", "0.2", "--friction", "1.5",
                 "--n-steps", "50", "--out", str(path))
    h, g = 0.2, 1.5
    final = []
    for lam, x in zip((1.0, 10.0), (1.0, -2.0)):
        A = np.array([[1 - h * h * lam, h * (1 - h * g)], [-h * lam, 1 - h * g]])  # on (x, v)
        final.append((np.linalg.matrix_power(A, 50) @ [x, 0.0])[0])
    np.testing.assert_allclose(r["final_x"], final, rtol=1e-12, atol=1e-15)
    assert r["final_loss"] == pytest.approx(0.5 * (final[0] ** 2 + 10 * final[1] ** 2), rel=1e-11)
    assert r["status"] == 0 and r["nfev"] == 50 and r["n_steps"] == 50
    assert "SGD(lr=0.04000000000000001, momentum=0.7" in r["optimizer"]
    saved = np.load(r["written"])
    assert saved["x"].shape == (51, 2) and np.array_equal(saved["x"][-1], r["final_x"])


def test_simulate_gradient_flow_is_gd_and_explicit_euler_is_explained(capsys):
    r = run_json(capsys, "simulate", "--kappa", "4", "--mass", "0", "--friction", "2", "--method", "explicit_euler",
                 "--step", "0.1", "--n-steps", "30")
    np.testing.assert_allclose(r["final_x"], [(1 - 0.1 / 2) ** 30, (1 - 0.4 / 2) ** 30], rtol=1e-13)
    assert r["optimizer"].startswith("GD(lr=0.05")
    r = run_json(capsys, "simulate", "--method", "explicit_euler", "--n-steps", "5")
    assert r["optimizer"] is None and "delayed-gradient" in r["optimizer_note"]


def test_simulate_divergence_is_a_status_and_json_has_no_infinity(capsys):
    r = run_json(capsys, "simulate", "--kappa", "100", "--step", "0.5", "--friction", "0", "--n-steps", "2000")
    assert r["status"] == -1 and r["message"].startswith("diverged")


# ------------------------------------------------------------------------ optimize
def test_optimize_sgd_keras_adam_match_the_oracles(capsys):
    from heavyball import Rosenbrock

    grad = Rosenbrock().grad
    r = run_json(capsys, "optimize", "--problem", "rosenbrock", "--lr", "0.001", "--momentum", "0.9",
                 "--dampening", "0.2", "--n-steps", "300")
    ref = oracles.sgd_torch(grad, [-1.2, 1.0], 300, 0.001, 0.9, dampening=0.2)
    assert oracles.rel_err(r["final_x"], ref[-1]) <= 1e-13
    assert r["physical"]["step"] == pytest.approx(math.sqrt(0.001 * 0.8))
    r = run_json(capsys, "optimize", "--problem", "rosenbrock", "--optimizer", "keras", "--lr", "0.001",
                 "--momentum", "0.9", "--nesterov", "--n-steps", "300")
    ref = oracles.sgd_keras(grad, [-1.2, 1.0], 300, 0.001, 0.9, nesterov=True)
    assert oracles.rel_err(r["final_x"], ref[-1]) <= 1e-13
    r = run_json(capsys, "optimize", "--problem", "rosenbrock", "--optimizer", "adam", "--lr", "0.01",
                 "--momentum", "0.8", "--n-steps", "200")
    ref = oracles.adam_torch(grad, [-1.2, 1.0], 200, lr=0.01, b1=0.8)
    assert oracles.rel_err(r["final_x"], ref[-1]) <= 1e-12
    assert r["physical"] is None and "Adam" in r["physical_note"]


def test_optimize_gd_on_a_quadratic_is_the_closed_form(capsys):
    r = run_json(capsys, "optimize", "--optimizer", "gd", "--lr", "0.1", "--kappa", "5", "--dim", "3",
                 "--n-steps", "40")
    lam = np.linspace(1, 5, 3)
    np.testing.assert_allclose(r["final_x"], (1 - 0.1 * lam) ** 40, rtol=1e-12)
    assert r["final_distance"] == pytest.approx(np.linalg.norm((1 - 0.1 * lam) ** 40), rel=1e-12)
    assert r["physical"] == {"mass": 1.0, "friction": pytest.approx(1 / math.sqrt(0.1)),
                             "step": pytest.approx(math.sqrt(0.1)), "method": "symplectic_euler"}


# -------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv, names", [
    (["simulate", "--x0", "1,2,3"], "--x0"),
    (["sweep", "--lrs", "1:2"], "--lrs"),
    (["optimize", "--optimizer", "bogus"], "--optimizer"),
    (["simulate", "--step", "-1"], "step"),
])
def test_errors_in_a_fresh_process_are_one_line_exit_2(argv, names):
    proc = subprocess.run([sys.executable, "-m", "heavyball", *argv], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and names in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv, names", [
    (["map"], "--lr"),
    (["map", "--lr", "0.1", "--step", "0.1"], "--step"),
    (["map", "--lr", "0.1", "--friction", "1"], "--friction"),
    (["map", "--step", "0.5", "--friction", "3"], "friction"),  # h gamma / m > 1
    (["simulate", "--problem", "rosenbrock", "--kappa", "3"], "--kappa"),
    (["simulate", "--mass", "0", "--method", "nesterov"], "mass"),
    (["simulate", "--n-steps", "1.5"], "--n-steps"),
    (["simulate", "--out", "run.txt"], "--out"),
    (["optimize", "--optimizer", "gd", "--momentum", "0.5"], "--momentum"),
    (["optimize", "--optimizer", "ema", "--nesterov"], "--nesterov"),
    (["optimize", "--x0", "1,nan"], "--x0"),
    (["optimize", "--lr", "-1"], "lr"),
    (["simulate", "--problem", "nowhere"], "--problem"),
])
def test_errors_are_one_line_naming_the_argument(argv, names, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and names in captured.err


# ------------------------------------------------------------------------ spectrum
@pytest.mark.parametrize("kappa", [10.0, 100.0, 1e4])
def test_spectrum_optimal_parameters_are_the_closed_forms(kappa, capsys):
    r = run_json(capsys, "spectrum", "--kappa", str(kappa), "--mu", "2")
    mu, L, s, q = 2.0, 2.0 * kappa, math.sqrt(kappa), math.sqrt(3 * kappa + 1)
    want = {"gd": (2 / (L + mu), 0.0, (kappa - 1) / (kappa + 1)),
            "heavy_ball": (4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, ((s - 1) / (s + 1)) ** 2, (s - 1) / (s + 1)),
            "nesterov": (4 / (3 * L + mu), (q - 2) / (q + 2), 1 - 2 / q)}
    for method, (lr, beta, rate) in want.items():
        o = r["optimal"][method]
        assert o["lr"] == pytest.approx(lr, rel=1e-13) and o["momentum"] == pytest.approx(beta, rel=1e-13, abs=0)
        assert o["rate"] == pytest.approx(rate, rel=1e-13)
        # steps: the smallest k with rate^k <= 1e-6
        k = o["steps"]
        assert rate**k <= 1e-6 * (1 + 1e-12) and rate ** (k - 1) > 1e-6 * (1 - 1e-12)


@pytest.mark.parametrize("method, lr, beta", [("heavy_ball", 0.01, 0.9), ("heavy_ball", 0.03, 0.2),
                                              ("nesterov", 0.05, 0.9), ("gd", 0.015, 0.0)])
def test_spectrum_at_a_point_matches_numpy_roots(method, lr, beta, capsys):
    r = run_json(capsys, "spectrum", "--kappa", "100", "--lr", str(lr), "--momentum", str(beta),
                 "--method", method)["at"]
    moduli = []
    for lam in (1.0, 100.0):
        a = lr * lam
        poly = {"gd": [1.0, -(1 - a)], "heavy_ball": [1.0, -(1 + beta - a), beta],
                "nesterov": [1.0, -(1 + beta) * (1 - a), beta * (1 - a)]}[method]
        moduli.append(float(np.max(np.abs(np.roots(poly)))))
    name = {1.0: "mu", 100.0: "L"}
    for lam, m in zip((1.0, 100.0), moduli):
        assert r["modes"][name[lam]]["root_modulus"] == pytest.approx(m, rel=1e-9)
    assert r["rate"] == pytest.approx(max(moduli), rel=1e-9)
    if max(moduli) < 1:
        assert r["steps"] == math.ceil(math.log(1e-6) / math.log(max(moduli)))
    else:
        assert r["steps"] is None
    if method == "heavy_ball" and (lr, beta) == (0.01, 0.9):
        # both modes inside the complex band: modulus sqrt(beta), oscillating
        assert r["modes"]["L"]["regime"] == "oscillating" and r["rate"] == pytest.approx(math.sqrt(0.9))
    if method == "heavy_ball" and (lr, beta) == (0.03, 0.2):
        # lr L = 3 is in [(1 + sqrt b)^2, 2 + 2b) = [2.09, 2.4)? no: 3 >= 2.4, divergent
        assert r["modes"]["L"]["regime"] == "divergent" and r["modes"]["mu"]["regime"] == "monotone"


def test_spectrum_text_lists_the_three_methods(capsys):
    assert cli.main(["spectrum", "--kappa", "100"]) == 0
    out = capsys.readouterr().out
    assert "heavy_ball     0.033058   0.66942   0.81818             69" in out


def test_simulate_explicit_euler_is_the_delayed_gradient_linear_map(capsys):
    """The numbers docs/cli.md shows for explicit Euler: per mode (x, v) -> (x + h v, b v - h lam x)."""
    r = run_json(capsys, "simulate", "--method", "explicit_euler", "--kappa", "10", "--step", "0.05",
                 "--n-steps", "100")
    h, b = 0.05, 1 - 0.05
    final = [(np.linalg.matrix_power(np.array([[1.0, h], [-h * lam, b]]), 100) @ [1.0, 0.0])[0]
             for lam in (1.0, 10.0)]
    np.testing.assert_allclose(r["final_x"], final, rtol=1e-12)
    assert r["final_distance"] == pytest.approx(np.hypot(*final), rel=1e-12)
    assert r["final_loss"] == pytest.approx(0.5 * (final[0] ** 2 + 10 * final[1] ** 2), rel=1e-12)


# --------------------------------------------------------------------------- sweep
def test_sweep_writes_npz_and_plot_and_reports_the_best_point(capsys, tmp_path):
    npz, png = tmp_path / "grid.npz", tmp_path / "grid.png"
    r = run_json(capsys, "sweep", "--kappa", "100", "--lrs", "0.005:0.035:7", "--momenta", "0:0.9:4",
                 "--n-steps", "150", "--backend", "numpy", "--out", str(npz), "--plot", str(png))
    lrs, moms = np.linspace(0.005, 0.035, 7), np.linspace(0, 0.9, 4)
    lam = np.array([1.0, 100.0])
    rate = np.full((4, 7), np.inf)
    for i, b in enumerate(moms):
        for j, lr in enumerate(lrs):
            x = np.asarray(oracles.sgd_torch(lambda z: lam * np.asarray(z), [1.0, 1.0], 150, lr, b))
            if np.all(np.isfinite(x)) and np.max(np.abs(x)) < 1e50:
                rate[i, j] = (np.linalg.norm(x[-1]) / math.sqrt(2)) ** (1 / 150)
    i, j = np.unravel_index(np.argmin(rate), rate.shape)
    assert r["best"]["lr"] == pytest.approx(lrs[j]) and r["best"]["momentum"] == pytest.approx(moms[i])
    assert r["best"]["rate"] == pytest.approx(rate[i, j], rel=1e-10)
    assert r["grid"] == [4, 7] and r["diverged"] == int(np.sum(~np.isfinite(rate)))
    assert r["written"] == [str(npz), str(png)] and png.read_bytes()[:4] == b"\x89PNG"
    saved = SweepResult.load(npz)  # the CLI saves through SweepResult.save
    np.testing.assert_allclose(np.where(saved.diverged, np.inf, saved.rate), rate, rtol=1e-10)
    assert saved.steps_to_tol.dtype == np.int64 and saved.diverged.dtype == bool
    assert saved.method == "heavy_ball" and saved.n_steps == 150
    assert cli.main(["sweep", "--kappa", "100", "--lrs", "log:0.001:0.01:3", "--n-steps", "20",
                     "--backend", "numpy", "--out", str(npz)]) == 0
    assert "1 momenta x 3 learning rates" in capsys.readouterr().out
    np.testing.assert_allclose(np.load(npz)["lrs"], [0.001, math.sqrt(0.001 * 0.01), 0.01])


@pytest.mark.parametrize("argv, names", [
    (["sweep", "--lrs", "0.1:0.2:3", "--out", "grid.txt"], "--out"),
    (["sweep", "--lrs", "0.1:0.2:3", "--plot", "grid.gif"], "--plot"),
    (["sweep", "--lrs", "log:0:0.2:3"], "--lrs"),
    (["sweep", "--lrs", "0.1:0.2:0"], "--lrs"),
    (["sweep", "--lrs", "0.1:0.2:3", "--method", "adam"], "--method"),
])
def test_sweep_errors(argv, names, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and names in err


@pytest.mark.parametrize("field", ["steps_to_tol", "final_loss"])
def test_sweep_plot_field_draws_the_chosen_array(field, capsys, tmp_path):
    out, png = tmp_path / "s.npz", tmp_path / "s.png"
    assert cli.main(["sweep", "--kappa", "10", "--lrs", "0.05:0.15:3", "--momenta", "0:0.5:2", "--n-steps", "300",
                     "--out", str(out), "--plot", str(png), "--plot-field", field, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["written"] == [str(out), str(png)] and png.stat().st_size > 0
    saved = SweepResult.load(out)
    lr, mom, rate = saved.best()
    assert r["best"] == dict(lr=lr, momentum=mom, rate=rate) and 0.0 < rate < 1.0
