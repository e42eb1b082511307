"""The package's architecture: no import cycle among heavyball's modules, and kernels.py stands alone.

The import graph is read from the source with :mod:`ast` (nothing is
imported): an edge ``a -> b`` for every ``import heavyball.b``,
``from heavyball import b``, ``from . import b`` or ``from .b import name``
in module ``a``, absolute or relative, at module level *or inside a
function*. A function-level ("lazy") import only defers the cost of loading
``b`` (Numba, matplotlib); ``a`` still depends on ``b``, so it counts: two
modules that each import the other, one of them lazily, are a cycle. Imports
under ``if TYPE_CHECKING:`` are not dependencies at run time and do not
count. ``from .pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg`` (whose ``__init__`` defines ``name``). Importing a
submodule also runs its parent packages' ``__init__``; those implicit edges
are not drawn, since a package ``__init__`` that re-exports its submodules
would otherwise be in a cycle with each of them by construction.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import heavyball

PACKAGE = Path(heavyball.__file__).parent
NAME = "heavyball"


def module_name(path, root=PACKAGE, package=NAME):
    rel = path.relative_to(root).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root=PACKAGE, package=NAME):
    """``{module name: path}`` of every ``.py`` file of the package."""
    return {module_name(p, root, package): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def _type_checking_nodes(tree):
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                skip.update(id(n) for child in node.body for n in ast.walk(child))
    return skip


def imports_of(name, path, known, package=NAME):
    """The package modules that module ``name`` (file ``path``) imports, anywhere in its body.

    A ``ValueError`` names an import of a package module that does not exist.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package or alias.name.startswith(package + "."):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == package or target.startswith(package + ".")):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    missing = sorted(found - set(known))
    if missing:
        raise ValueError(f"{name} imports {', '.join(missing)}, which is no module of {package}")
    found.discard(name)
    return found


def import_graph(root=PACKAGE, package=NAME):
    known = modules(root, package)
    return {name: imports_of(name, path, known, package) for name, path in known.items()}


def find_cycle(graph):
    """One cycle of ``graph`` (``{node: successors}``) as ``[a, b, ..., a]``, or None."""
    state = {}
    for start in sorted(graph):
        if start in state:
            continue
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        state[start] = "open"
        while stack:
            node, succ = stack[-1]
            nxt = next(succ, None)
            if nxt is None:
                state[node] = "done"
                stack.pop()
                path.pop()
            elif state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond is no cycle
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"a"}, "a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_graph_reader_sees_relative_absolute_and_lazy_imports(tmp_path):
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("from . import b\n\ndef f():\n    from .sub import c\n")
    (pkg / "b.py").write_text("import toy.sub.c\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from .. import a\nfrom ..a import f\n")
    graph = import_graph(pkg, "toy")
    assert graph == {"toy": {"toy.a"}, "toy.a": {"toy.b", "toy.sub.c"}, "toy.b": {"toy.sub.c"},
                     "toy.sub": set(), "toy.sub.c": {"toy.a"}}
    assert find_cycle(graph) == ["toy.a", "toy.b", "toy.sub.c", "toy.a"]
    (pkg / "b.py").write_text("def g():\n    from .gone import h\n")
    with pytest.raises(ValueError, match="toy.b imports toy.gone"):
        import_graph(pkg, "toy")


def test_no_import_cycle_among_heavyball_modules():
    graph = import_graph()
    assert len(graph) > 30 and "heavyball.sweeps._sweep" in graph["heavyball.sweeps"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_kernels_imports_nothing_from_heavyball_but_the_warning_class():
    # Numba's cache is keyed on kernels.py alone: a constant it compiles in must be defined there.
    # Its one heavyball import, inside the no-cache fallback, is the class of the warning it issues.
    graph = import_graph()
    assert graph["heavyball.kernels"] == {"heavyball._warnings"}
    tree = ast.parse((PACKAGE / "kernels.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and (n.level or "heavyball" in (n.module or ""))]
    assert top == []


def test_the_light_modules_read_the_kernels_constants_from_the_kernels_source():
    from heavyball import _compiled, _kernel_constants, kernels, trajectory
    from heavyball.sweeps import _numpy

    consts = _kernel_constants._CONSTANTS
    assert {"BOUND", "FLUSH_BELOW", "FLUSH_EVERY", "DISTANCE_FLOOR", *_compiled.KINDS} <= set(consts)
    for name, value in consts.items():
        assert getattr(kernels, name) == value, name
    assert trajectory.DIVERGENCE_BOUND == kernels.BOUND == 1e50
    assert _numpy.FLUSH_BELOW == kernels.FLUSH_BELOW and _numpy.DISTANCE_FLOOR == kernels.DISTANCE_FLOOR
    assert {k: getattr(kernels, k) for k in _compiled.KINDS} == _compiled.KINDS
    with pytest.raises(KeyError, match="NOT_A_CONSTANT"):
        _kernel_constants.constant("NOT_A_CONSTANT")


def test_the_constant_reader_parses_literal_assignments_only(tmp_path):
    from heavyball import _kernel_constants

    src = tmp_path / "k.py"
    src.write_text("A = 1\nB, C = 2, 3.5  # comment\nD = {'x': A}\nE = 1 << 4\n    F = 9\n#: doc\nG = -1e-300\n")
    assert _kernel_constants._read(os.fspath(src)) == {"A": 1, "B": 2, "C": 3.5, "G": -1e-300}


def test_a_moved_public_module_is_the_same_module_at_its_old_path():
    import importlib
    import subprocess
    import sys

    code = ("import sys, heavyball as hb, heavyball.tour as old, heavyball.cli.tour as new\n"
            "print(old is new, hb.tour is new, sys.modules['heavyball.tour'] is new, new.__spec__.name)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["True", "True", "True", "heavyball.cli.tour"]
    assert importlib.import_module("heavyball.tour") is importlib.import_module("heavyball.cli.tour")
    assert not (PACKAGE / "tour.py").exists()  # no file at the old path: git follows the move


def test_the_sgd_method_names_are_written_once():
    from heavyball import _methods, kernels

    literal = '("gd", "heavy_ball", "nesterov")'
    homes = [p.relative_to(PACKAGE).as_posix() for p in sorted(PACKAGE.rglob("*.py"))
             if literal in p.read_text(encoding="utf-8")]
    assert homes == ["_methods.py"]
    assert tuple(kernels.SWEEP_METHODS) == _methods.SGD_METHODS  # the compiled dispatch's keys
