"""The API reference pages, written from ``__all__`` before every build.

One page per public module (``docs/api/<module>.rst``) with autosummary tables whose
``:toctree:`` gives every public name its own page (``docs/api/generated/``), so a name added
to an ``__all__`` is documented without an edit here. A name exported both by a submodule and
by ``heavyball`` itself (``heavyball.Quadratic`` is ``heavyball.problems.Quadratic``) gets one
page, under the top-level name users type; the submodule's page links to it.

:func:`public_objects` is also the list ``tests/test_docstrings.py`` checks.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "api"

#: The public submodules, in the reference's order, with a one-line description.
MODULES = {
    "problems": "Loss landscapes: quadratics, test functions, custom problems, the registry.",
    "landscapes": "The seed documents' scenarios as problems.",
    "integrators": "The damped particle's integrators and ``integrate``.",
    "optimizers": "Framework-exact optimisers and ``optimize``.",
    "schedules": "Learning-rate and momentum schedules.",
    "maps": "The exact maps between physical parameters and optimiser hyper-parameters.",
    "spectral": "Iteration matrices, mode roots, rates, optimal tunings, regimes.",
    "noise": "Momentum with noisy gradients on quadratics.",
    "diagnostics": "Functions of a trajectory.",
    "odes": "The Su-Boyd-Candes and high-resolution ODEs.",
    "plotting": "Figures (matplotlib is imported when a figure is drawn).",
    "kernels": "The Numba kernels behind ``integrate``, ``optimize`` and ``sweep``.",
}
#: Functions whose module is shadowed by the function of the same name.
EXTRA_TOP = ("sweep", "SweepResult", "worst_case")


def kind(obj) -> str:
    """``class``, ``function`` (anything callable, Numba dispatchers included) or ``data``."""
    if inspect.isclass(obj):
        return "class"
    return "function" if callable(obj) else "data"


def public_objects() -> dict[str, object]:
    """Canonical dotted name -> object, for every public name (modules excluded)."""
    import heavyball as hb

    out: dict[str, object] = {}
    top_ids = {}
    for name in list(hb.__all__) + [n for n in EXTRA_TOP if n not in hb.__all__]:
        obj = getattr(hb, name)
        if inspect.ismodule(obj) or name.startswith("__"):
            continue
        out[f"heavyball.{name}"] = obj
        top_ids[id(obj)] = f"heavyball.{name}"
    for mod_name in MODULES:
        mod = importlib.import_module(f"heavyball.{mod_name}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if id(obj) not in top_ids:
                out.setdefault(f"heavyball.{mod_name}.{name}", obj)
    return out


def _table(names, template, toctree=True):
    if not names:
        return []
    opts = ["   :toctree: generated", f"   :template: {template}"] if toctree else []
    return [".. autosummary::", *opts, "   :nosignatures:", "", *[f"   {n}" for n in names], ""]


def _sections(module, names, canonical):
    """reST for the names of one module: own pages by kind, then links to top-level pages."""
    import heavyball as hb

    mod = importlib.import_module(module)
    top = {id(getattr(hb, n)): n for n in hb.__all__ if not n.startswith("__")}
    own = {"class": [], "function": [], "data": []}
    elsewhere = []
    for name in names:
        obj = getattr(mod, name)
        full = f"{module}.{name}"
        if full in canonical:
            own[kind(obj)].append(name)
        elif id(obj) in top:
            elsewhere.append(f"~heavyball.{top[id(obj)]}")
    lines = []
    for k, title in (("class", "Classes"), ("function", "Functions"), ("data", "Constants")):
        if own[k]:
            lines += [title, "-" * len(title), "", *_table(own[k], f"{k}.rst")]
    if elsewhere and module != "heavyball":
        title = "Also exported by heavyball"
        lines += [title, "-" * len(title), "",
                  "These names are documented under their top-level name (``heavyball.<name>``).", "",
                  *_table(elsewhere, "", toctree=False)]
    return lines


def write() -> None:
    """(Re)write ``docs/api/index.rst`` and one page per module; leave ``generated/`` to autosummary."""
    import heavyball as hb

    OUT.mkdir(exist_ok=True)
    canonical = public_objects()
    top_names = [n for n in hb.__all__ if not n.startswith("__") and not inspect.ismodule(getattr(hb, n))]
    top_names += [n for n in EXTRA_TOP if n not in top_names]
    index = ["API reference", "=============", "",
             "Every public name, generated from its docstring. ``import heavyball as hb`` gives the "
             "top-level names below; the submodules hold the rest.", "",
             ".. currentmodule:: heavyball", "",
             *_sections("heavyball", top_names, canonical),
             "Submodules", "----------", "",
             ".. toctree::", "   :maxdepth: 1", "",
             *[f"   heavyball.{m} <{m}>" for m in MODULES], ""]
    _write(OUT / "index.rst", index)
    for mod_name, blurb in MODULES.items():
        module = f"heavyball.{mod_name}"
        mod = importlib.import_module(module)
        lines = [module, "=" * len(module), "", blurb, "",
                 f".. automodule:: {module}", "   :no-members:", "   :no-index:", "",
                 f".. currentmodule:: {module}", "",
                 *_sections(module, list(mod.__all__), canonical)]
        _write(OUT / f"{mod_name}.rst", lines)


def _write(path: Path, lines) -> None:
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:  # keep Sphinx's cache valid
        path.write_text(text, encoding="utf-8")
