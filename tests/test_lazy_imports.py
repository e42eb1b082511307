"""Issue 17, item 9: the public submodules are attributes of ``heavyball``, loaded on first access."""

import os
import subprocess
import sys

import pytest

import heavyball as hb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(code):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_public_submodules_are_attributes_on_first_access():
    out = _child(
        "import sys, heavyball as hb\n"
        "heavy = ('numba', 'heavyball.kernels', 'heavyball.spectral', 'heavyball.plotting', 'matplotlib',\n"
        "         'scipy.integrate', 'scipy.special')\n"
        "print(*[m in sys.modules for m in heavy])\n"
        "p = hb.spectral.optimal_parameters(1.0, 100.0, 'heavy_ball')\n"
        "print(all(n in dir(hb) for n in ('spectral', 'plotting', 'kernels', 'diagnostics', 'schedules')))\n"
        "ax = hb.plotting\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "hb.plotting.contour(hb.Rosenbrock(), resolution=11)\n"
        "print('matplotlib.pyplot' in sys.modules, hb.sweep.__class__.__name__, callable(hb.worst_case))\n"
        "print(hb.kernels.LANES > 0, 'numba' in sys.modules)\n")
    assert out == ["False"] * 7 + ["True", "False", "True", "function", "True", "True", "True"]


def test_every_public_module_is_an_attribute():
    for name in ("problems", "schedules", "odes", "diagnostics", "landscapes", "maps", "integrators",
                 "optimizers", "reference", "system", "trajectory", *hb.LAZY_SUBMODULES):
        assert getattr(hb, name) is sys.modules[f"heavyball.{name}"], name


def test_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        hb.not_a_module  # noqa: B018
    assert hb.spectral is sys.modules["heavyball.spectral"]
    assert callable(hb.sweep) and callable(hb.worst_case)  # the functions, not their modules
