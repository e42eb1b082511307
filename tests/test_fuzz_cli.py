"""A table of bad command lines for every subcommand: each ends with exit code 2 and one line on stderr.

The line names the flag at fault and there is no traceback; nothing is
computed or written first (output paths are checked before any work). The
table runs in-process through :func:`heavyball.cli.main` (fast); a handful of
cases also run as real processes. Issue 17, item 6.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heavyball import cli
from heavyball.cli import _commands

ROOT = Path(__file__).resolve().parents[1]
SW = ["sweep", "--lrs", "0.1:0.2:2", "--n-steps", "5"]

#: (argv, a string the one error line must contain). ``{tmp}`` is a fresh directory, ``{file}`` a file in it.
CASES = [
    # no or unknown subcommand
    ([], "COMMAND"),
    (["nope"], "nope"),
    # simulate
    (["simulate", "--step", "nan"], "--step"),
    (["simulate", "--step", "0"], "--step"),
    (["simulate", "--step", "-0.1"], "--step"),
    (["simulate", "--step"], "--step"),
    (["simulate", "--step", "1e400"], "--step"),
    (["simulate", "--mass", "-1"], "--mass"),
    (["simulate", "--friction", "inf"], "--friction"),
    (["simulate", "--friction", "-2"], "--friction"),
    (["simulate", "--friction", "0", "--mass", "0"], "--friction"),
    (["simulate", "--n-steps", "1.5"], "--n-steps"),
    (["simulate", "--n-steps", "-3"], "--n-steps"),
    (["simulate", "--n-steps", "10000000000"], "--n-steps"),
    (["simulate", "--n-steps", str(10**30)], "--n-steps"),
    (["simulate", "--dim", "0"], "--dim"),
    (["simulate", "--dim", "-2"], "--dim"),
    (["simulate", "--dim", "1000000000"], "--dim"),
    (["simulate", "--kappa", "0.5"], "--kappa"),
    (["simulate", "--kappa", "nan"], "--kappa"),
    (["simulate", "--problem", "rosenbrock", "--kappa", "10"], "--kappa"),
    (["simulate", "--problem", "rosenbrock", "--dim", "3"], "--dim"),
    (["simulate", "--x0", "1,2,3"], "--x0"),
    (["simulate", "--x0", "a,b"], "--x0"),
    (["simulate", "--x0", "nan,1"], "--x0"),
    (["simulate", "--x0", ""], "--x0"),
    (["simulate", "--x0", "1e308,1e308"], "--x0"),
    (["simulate", "--x0", "1e400,1"], "--x0"),
    (["simulate", "--method", "leapfrog2"], "--method"),
    (["simulate", "--problem", "nope"], "--problem"),
    (["simulate", "--bogus"], "--bogus"),
    (["simulate", "--tol", "-1"], "--tol"),
    (["simulate", "--tol", "nan"], "--tol"),
    (["simulate", "--out", "x.txt"], "--out"),
    (["simulate", "--out", ""], "--out"),
    (["simulate", "--out", "{tmp}/missing/x.npz"], "--out"),
    (["simulate", "--out", "{file}/x.npz"], "--out"),
    (["simulate", "--out", "{tmp}/dir.npz"], "--out"),
    (["simulate", "--out", "/proc/x.npz"], "--out"),
    # optimize
    (["optimize", "--lr", "-1"], "--lr"),
    (["optimize", "--lr", "inf"], "--lr"),
    (["optimize", "--lr", "0x1"], "--lr"),
    (["optimize", "--momentum", "-0.1"], "--momentum"),
    (["optimize", "--optimizer", "rmsprop"], "--optimizer"),
    (["optimize", "--optimizer", "gd", "--momentum", "0.9"], "--momentum"),
    (["optimize", "--optimizer", "adam", "--nesterov"], "--nesterov"),
    (["optimize", "--optimizer", "adam", "--momentum", "1"], "--momentum"),
    (["optimize", "--optimizer", "ema", "--dampening", "0.5"], "--dampening"),
    (["optimize", "--n-steps", "x"], "--n-steps"),
    (["optimize", "--n-steps", "10000000000"], "--n-steps"),
    (["optimize", "--out", "/proc/x.npz"], "--out"),
    (["optimize", "--out", "{file}"], "--out"),
    # map
    (["map"], "--lr"),
    (["map", "--lr", "0.1", "--step", "0.1"], "--lr"),
    (["map", "--lr", "-0.1"], "--lr"),
    (["map", "--lr", "nan"], "--lr"),
    (["map", "--step", "0"], "--step"),
    (["map", "--step", "0.1", "--friction", "-1"], "--friction"),
    (["map", "--step", "0.1", "--mass", "-1"], "--mass"),
    (["map", "--lr", "0.1", "--friction", "1"], "--friction"),
    (["map", "--optimizer", "adam", "--lr", "0.1"], "--optimizer"),
    (["map", "--lr", "0.1", "--method", "nope"], "--method"),
    # spectrum
    (["spectrum", "--kappa", "0.5"], "--kappa"),
    (["spectrum", "--kappa", "1e308"], "--kappa"),
    (["spectrum", "--kappa", "1e300", "--lr", "1e-300", "--momentum", "0.5"], "--kappa"),
    (["spectrum", "--kappa", "nan"], "--kappa"),
    (["spectrum", "--kappa"], "--kappa"),
    (["spectrum", "--mu", "0"], "--mu"),
    (["spectrum", "--mu", "-1"], "--mu"),
    (["spectrum", "--mu", "1e300", "--kappa", "1e10"], "--mu"),
    (["spectrum", "--lr", "-1"], "--lr"),
    (["spectrum", "--lr", "0.1", "--momentum", "1"], "--momentum"),
    (["spectrum", "--method", "adam"], "--method"),
    # sweep
    (["sweep"], "--lrs"),
    (["sweep", "--lrs"], "--lrs"),
    (["sweep", "--lrs", "0:1"], "--lrs"),
    (["sweep", "--lrs", "0:1:2:3"], "--lrs"),
    (["sweep", "--lrs", "0:1:0"], "--lrs"),
    (["sweep", "--lrs", "a:b:c"], "--lrs"),
    (["sweep", "--lrs", "0:1:2.5"], "--lrs"),
    (["sweep", "--lrs", "log:0:1:3"], "--lrs"),
    (["sweep", "--lrs", "0:nan:3"], "--lrs"),
    (["sweep", "--lrs", "0:inf:3"], "--lrs"),
    (["sweep", "--lrs", "0:1:10000000"], "--lrs"),
    (["sweep", "--lrs", "-1:1:3"], "--lrs"),
    (SW + ["--momenta", "0:1:x"], "--momenta"),
    (SW + ["--momenta", "-0.5:0.5:3"], "--momenta"),
    (["sweep", "--lrs", "0:1:1000000", "--momenta", "0:1:1000000"], "--lrs"),
    (SW[:3] + ["--n-steps", "0"], "--n-steps"),
    (SW[:3] + ["--n-steps", "-1"], "--n-steps"),
    (SW + ["--tol", "0"], "--tol"),
    (SW + ["--tol", "-1"], "--tol"),
    (SW + ["--tol", "1e-320"], "--tol"),
    (SW + ["--method", "adam"], "--method"),
    (SW + ["--backend", "cuda"], "--backend"),
    (SW + ["--workers", "0"], "--workers"),
    (SW + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    (SW + ["--scheduler", "not-an-address"], "--scheduler"),
    (SW + ["--scheduler", "tcp://host:99999"], "--scheduler"),
    (SW + ["--scheduler", "tcp://a b:8786"], "--scheduler"),
    (SW + ["--backend", "numpy", "--workers", "2"], "--workers"),
    (SW + ["--x0", "0,0"], "--x0"),
    (SW + ["--x0", "1"], "--x0"),
    (SW + ["--out", "x.txt"], "--out"),
    (SW + ["--out", "{tmp}/missing/x.npz"], "--out"),
    (SW + ["--out", "{file}/x.npz"], "--out"),
    (SW + ["--out", "/proc/x.npz"], "--out"),
    (SW + ["--plot", "x.gif"], "--plot"),
    (SW + ["--plot", "/proc/x.png"], "--plot"),
    (SW + ["--plot", "{file}/x.png"], "--plot"),
    (SW + ["--plot-field", "loss"], "--plot-field"),
    (SW + ["--problem", "plateau", "--kappa", "3"], "--kappa"),
    # tour (its output directory is checked before the work)
    (["tour", "--out", "{file}"], "--out"),
    (["tour", "--out", "{file}/sub"], "--out"),
    (["tour", "--out", "/proc/heavyball-tour"], "--out"),
    (["tour", "--out", ""], "--out"),
    (["tour", "--bogus"], "--bogus"),
    (["tour", "--quick", "yes"], "yes"),
]


@pytest.fixture
def place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.npz").mkdir()
    (tmp_path / "a_file").write_text("not a directory")
    return tmp_path


def _argv(argv, place):
    return [a.format(tmp=place, file=place / "a_file") for a in argv]


def _run(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, flag", CASES, ids=[" ".join(a) or "(none)" for a, _ in CASES])
def test_a_bad_command_line_is_one_line_naming_the_flag_and_exit_2(argv, flag, place, capsys):
    before = sorted(os.listdir(place))
    code, out, err = _run(_argv(argv, place), capsys)
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0]
    assert flag in lines[0], lines[0]
    assert out == ""
    assert sorted(os.listdir(place)) == before  # nothing written (no sweep.npz, no tour figures)


#: Odd but valid command lines (PyTorch accepts momentum > 1 and any dampening): a result, exit 0.
VALID = [
    ["optimize", "--momentum", "1.5", "--n-steps", "50"],
    ["optimize", "--dampening", "2", "--momentum", "0.5", "--n-steps", "50"],
    ["map", "--lr", "0.1", "--momentum", "1"],
    ["simulate", "--kappa", "1e308", "--n-steps", "50"],
    ["spectrum", "--kappa", "1e15"],
    SW + ["--lrs", "1:0:3"],
]


@pytest.mark.parametrize("argv", VALID, ids=[" ".join(a) for a in VALID])
def test_odd_but_valid_command_lines_give_a_result(argv, place, capsys):
    import json
    import math

    code, out, err = _run(argv + ["--json"], capsys)
    assert code == 0 and err == "", err
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    numbers = []

    def walk(v):
        if isinstance(v, dict):
            [walk(x) for x in v.values()]
        elif isinstance(v, list):
            [walk(x) for x in v]
        elif isinstance(v, float):
            numbers.append(v)

    walk(data)
    assert all(math.isfinite(v) for v in numbers)


@pytest.mark.parametrize("argv, flag", [
    (["simulate", "--x0", "1e308,1e308"], "--x0"),
    (["spectrum", "--kappa", "1e308"], "--kappa"),
    (SW + ["--scheduler", "not-an-address"], "--scheduler"),
    (["simulate", "--out", "/proc/x.npz"], "--out"),
    (["tour", "--out", "{file}"], "--out"),
])
def test_in_a_fresh_process_too(argv, flag, place):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("HEAVYBALL_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "heavyball", *_argv(argv, place)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and flag in proc.stderr and "Traceback" not in proc.stderr


def test_an_unreachable_scheduler_fails_fast_in_one_line(place, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(_commands, "CONNECT_TIMEOUT", 1)
    code, out, err = _run(SW + ["--scheduler", "tcp://127.0.0.1:9"], capsys)  # the discard port: nobody listens
    assert code == 2 and len(err.splitlines()) == 1
    assert "cannot reach the Dask scheduler at `--scheduler` tcp://127.0.0.1:9 within 1 s" in err
    assert os.listdir(place) == ["a_file", "dir.npz"] or sorted(os.listdir(place)) == ["a_file", "dir.npz"]


def test_failures_while_writing_and_bugs_are_one_line_too(place, capsys, monkeypatch):
    from heavyball.sweeps import _persist

    def disk_full(path, write):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(_persist, "atomic_write", disk_full)
    code, _, err = _run(["simulate", "--n-steps", "3", "--out", "t.npz"], capsys)
    assert code == 2 and err == "heavyball simulate: error: No space left on device: 't.npz'\n"

    def bug(args):
        raise RuntimeError("boom")

    monkeypatch.setitem(_commands.RUNNERS, "map", bug)
    monkeypatch.delenv("HEAVYBALL_DEBUG", raising=False)
    code, _, err = _run(["map", "--lr", "0.1"], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "unexpected RuntimeError: boom (this is a bug in heavyball: please report it" in err
    assert "HEAVYBALL_DEBUG=1" in err
    monkeypatch.setenv("HEAVYBALL_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["map", "--lr", "0.1"])
    monkeypatch.setattr(_commands, "run_spectrum", None)
    monkeypatch.setitem(_commands.RUNNERS, "spectrum", lambda args: (_ for _ in ()).throw(MemoryError()))
    monkeypatch.delenv("HEAVYBALL_DEBUG")
    code, _, err = _run(["spectrum"], capsys)
    assert code == 2 and err.startswith("heavyball spectrum: error: out of memory") and len(err.splitlines()) == 1


def test_a_bad_plot_path_costs_no_sweep(place, capsys, monkeypatch):
    import importlib

    sweep_module = importlib.import_module("heavyball.sweeps._sweep")
    monkeypatch.setattr(sweep_module, "sweep", lambda *a, **k: pytest.fail("the sweep ran"))
    code, _, err = _run(SW + ["--plot", "{}/x.png".format(place / "a_file")], capsys)
    assert code == 2 and "--plot" in err and not (place / "sweep.npz").exists()
