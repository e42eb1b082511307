import subprocess
import sys

import pytest

from heavyball import cli, tour


def test_map_check_rows_agree_to_rounding():
    rows = tour.map_check(n_steps=300)
    assert len(rows) == 6
    for row in rows:
        assert row["max_deviation"] <= 1e-12, row
        if "torch_deviation" in row:
            assert row["torch_deviation"] <= 1e-12, row


def test_reference_check_observes_order_one():
    for row in tour.reference_check(steps=(0.01, 0.005, 0.0025)):
        assert abs(row["orders"][-1] - 1.0) < 0.1, row
        assert row["errors"][0] > row["errors"][1] > row["errors"][2]


def test_cli_tour_quick_runs(capsys, tmp_path):
    assert cli.main(["tour", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "symplectic_euler" in out and "observed order" in out


def test_bad_argument_is_one_line_on_stderr_with_exit_code_2():
    proc = subprocess.run([sys.executable, "-m", "heavyball", "tour", "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--bogus" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["--help"], ["tour", "--help"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 0
