"""No writable Numba cache directory: compile without the cache, with one warning (issue 17, item 3).

The child process imports a copy of the package whose ``__pycache__`` is a
regular file (so Numba's in-tree locator cannot create it), with
``NUMBA_CACHE_DIR``, ``HOME`` and ``XDG_CACHE_HOME`` pointing under a regular
file (so the user-provided and user-wide locators fail too): running as root,
permissions would not stop the writes, but a file in the path does. That
leaves Numba no cache locator, where it used to raise ``RuntimeError: cannot
cache function`` from every compiled call.
"""

import os
import shutil
import subprocess
import sys

import heavyball

PACKAGE = os.path.dirname(os.path.abspath(heavyball.__file__))


def _unwritable_copy(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(PACKAGE, root / "heavyball", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    (root / "heavyball" / "__pycache__").write_text("a file where the cache directory would go")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so no directory can be made under it")
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", NUMBA_CACHE_DIR=str(blocker / "numba"),
               HOME=str(blocker / "home"), XDG_CACHE_HOME=str(blocker / "cache"))
    return root, env


def test_no_cache_location_compiles_without_cache_and_warns_once(tmp_path):
    """The CLI runs, a compiled function compiles and runs, with one CacheWarning, no traceback, no cache files.

    (The sweep on the NumPy backend imports the kernels without compiling one;
    ``value_point`` is the cheapest kernel to compile.)
    """
    root, env = _unwritable_copy(tmp_path)
    code = ("import sys, numpy as np, heavyball, heavyball.cli\n"
            "assert heavyball.__file__.startswith(sys.argv[1]), heavyball.__file__\n"
            "code = heavyball.cli.main(['sweep', '--lrs', '0.1:0.5:3', '--n-steps', '5', '--backend', 'numpy',\n"
            "                           '--out', sys.argv[2]])\n"
            "cp = heavyball.Quadratic.diagonal([1.0, 4.0]).compiled()\n"
            "value = heavyball.kernels.value_point(cp.kind, cp.scalars, cp.vec1, cp.vec2, None, None, np.array([1.0, 1.0]))\n"
            "print(heavyball.kernels.CACHE, code, value)\n")
    run = subprocess.run([sys.executable, "-c", code, str(root), str(tmp_path / "s.npz")], capture_output=True,
                         text=True, env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "False 0 2.5", run.stdout
    assert "Traceback" not in run.stderr and run.stderr.count("CacheWarning") == 1, run.stderr
    assert "NUMBA_CACHE_DIR" in run.stderr and str(root / "heavyball" / "__pycache__") in run.stderr
    assert not any(p.suffix in (".nbi", ".nbc") for p in root.rglob("*"))  # nothing cached anywhere


def test_every_cached_function_follows_the_fallback_flag():
    # a literal cache=True would bypass heavyball.kernels.CACHE and fail without a cache location
    import re
    from pathlib import Path

    import heavyball

    for path in Path(heavyball.__file__).parent.rglob("*.py"):
        assert not re.search(r"^\s*@(numba\.)?njit\([^)]*cache\s*=\s*True", path.read_text(), re.M), path.name
