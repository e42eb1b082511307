"""Every public function and class has a docstring that meets the project's standard (issue 14).

The names are the documentation site's (``docs/_api.py``: ``heavyball.__all__``, the
``__all__`` of each public submodule, ``sweep``, ``SweepResult`` and ``worst_case``); constants
are documented by a comment and are not checked. For each name, one case fails when

* numpydoc's validation reports an error of the enforced set: every check except
  :data:`NOT_ENFORCED` (the same set as ``numpydoc_validation_checks`` in ``docs/conf.py``,
  which the Sphinx build enforces too);
* the Notes section is empty (the equation computed, or what the function guarantees);
* the Examples section has no ``>>>`` line (the doctests run with ``--doctest-modules``).

Only numpydoc is needed (the ``test`` extra), not Sphinx.
"""

import importlib.util
import inspect
from pathlib import Path

import pytest

validate = pytest.importorskip("numpydoc.validate")
from numpydoc.docscrape import NumpyDocString, get_doc_object  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: numpydoc checks the project does not enforce ("all" then these codes, as in docs/conf.py).
NOT_ENFORCED = {"GL01", "GL02", "SA01", "ES01", "SS05", "SS06", "PR09", "RT05", "RT02"}


def _api():
    spec = importlib.util.spec_from_file_location("heavyball_docs_api", DOCS / "_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


API = _api()
PUBLIC = {name: obj for name, obj in API.public_objects().items() if API.kind(obj) != "data"}
ENFORCED = validate.get_validation_checks({"all", *NOT_ENFORCED})


def test_the_list_covers_every_public_module_and_the_top_level():
    names = set(PUBLIC)
    assert {"heavyball.sweep", "heavyball.SweepResult", "heavyball.worst_case", "heavyball.integrate",
            "heavyball.Quadratic", "heavyball.spectral.spectral_radius", "heavyball.noise.expected_loss",
            "heavyball.kernels.sweep_kernel", "heavyball.plotting.contour"} <= names
    for module in API.MODULES:
        assert any(n.startswith(f"heavyball.{module}.") for n in names) or module in (
            "problems", "integrators", "optimizers", "maps"), module


def test_the_enforced_set_is_the_sites():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    expected = '{"all", "GL01", "GL02", "SA01", "ES01", "SS05", "SS06", "PR09", "RT05", "RT02"}'
    assert f"numpydoc_validation_checks = {expected}" in conf
    assert {"all", *NOT_ENFORCED} == eval(expected)  # noqa: S307 - a literal set written above


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_meets_the_standard(name):
    obj = PUBLIC[name]
    report = validate.validate(get_doc_object(obj))
    problems = [f"{code}: {msg}" for code, msg in report["errors"] if code in ENFORCED]
    doc = NumpyDocString(inspect.getdoc(obj) or "")
    if not "\n".join(doc["Notes"]).strip():
        problems.append("Notes: empty (give the equation it computes, or what it guarantees)")
    if not any(line.lstrip().startswith(">>>") for line in doc["Examples"]):
        problems.append("Examples: no '>>>' doctest")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
