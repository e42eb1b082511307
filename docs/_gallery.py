"""The example gallery: topics, staging, the quick-mode command line and the PNG scraper.

``scripts/`` stays the one home of the example scripts (the README, the docs, the tests and
the scripts' own ``sys.path`` fallback name that folder). sphinx-gallery groups a gallery by
sub-folder, so :func:`stage` copies each script into ``docs/_gallery_src/<topic>/`` before
every build. A new script is picked up by its prefix (``claims_``, ``theory_``, ``noise_``) or
by its name in :data:`BY_NAME`; a script that has neither, or whose docstring lacks a
sphinx-gallery title (a line underlined with ``=``), stops the build with a message naming it.

Each example runs as ``script.py --quick --out <tmp dir>`` (:func:`reset_argv`), and
:func:`png_scraper` puts the PNG files the script wrote into its page (the scripts save their
figures and close them, so the matplotlib scraper would see nothing).
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SCRIPTS = DOCS.parent / "scripts"
STAGE = DOCS / "_gallery_src"

#: topic folder -> (section title, one-line description), in gallery order.
TOPICS = {
    "integrators": ("Integrators", "The damped particle's integrators: their flows, orders and errors."),
    "optimizers": ("Optimisers and maps", "Framework optimisers, momentum forms, schedules and real data."),
    "spectra": ("Spectra", "Closed-form rates against measured ones on quadratics."),
    "sweeps": ("Sweeps", "(learning rate x momentum) grids and the tour's figures."),
    "claims": ("The seeds' claims", "Each claim of the documents the project started from, measured "
                                    "(:doc:`/seed-claims`)."),
    "theory": ("Theory", "ODE limits, friction schemes, counterexamples and worst cases "
                         "(:doc:`/theory-beyond`)."),
    "noise": ("Noise", "Momentum with noisy gradients (:doc:`/noise`)."),
}
#: file-name prefix -> topic (new scripts with these prefixes need no edit here).
BY_PREFIX = {"claims_": "claims", "theory_": "theory", "noise_": "noise"}
#: the other scripts, by name.
BY_NAME = {
    "phase_portraits": "integrators",
    "discretisation_error": "integrators",
    "ema_half_life": "optimizers",
    "momentum_schedules": "optimizers",
    "real_data": "optimizers",
    "ravine": "spectra",
    "kappa_table": "spectra",
    "tour_figures": "sweeps",
}


def is_helper(path: Path) -> bool:
    """Modules the examples import (``claims_common.py``, ``_x.py``), not examples."""
    return path.name.startswith("_") or path.stem.endswith("_common")


def topic_of(path: Path) -> str:
    """The gallery topic of ``scripts/<name>.py``; a script without one is an error."""
    for prefix, topic in BY_PREFIX.items():
        if path.stem.startswith(prefix):
            return topic
    if path.stem in BY_NAME:
        return BY_NAME[path.stem]
    raise ValueError(f"scripts/{path.name} has no gallery topic: give it a prefix of {sorted(BY_PREFIX)} "
                     f"or add it to BY_NAME in docs/_gallery.py (topics: {sorted(TOPICS)})")


_TITLE = re.compile(r"\A(?P<title>\S[^\n]*)\n(?P<rule>=+)\n")


def check_title(path: Path) -> str:
    """The script's sphinx-gallery title: its docstring's first line, underlined with ``=``."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""
    m = _TITLE.match(doc)
    if not m or len(m["rule"]) < len(m["title"]):
        raise ValueError(f"scripts/{path.name}: the docstring must start with a title line underlined "
                         "with '=' (at least as long as the title), as sphinx-gallery requires")
    return m["title"]


def examples() -> dict[Path, str]:
    """Every example script and its topic (helpers excluded); raises on a script without one."""
    out = {}
    for path in sorted(SCRIPTS.glob("*.py")):
        if not is_helper(path):
            out[path] = topic_of(path)
            check_title(path)
    return out


def stage() -> Path:
    """Copy the examples into ``_gallery_src/<topic>/`` with a header per topic; return the folder."""
    found = examples()
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir()
    (STAGE / "GALLERY_HEADER.rst").write_text(
        "Gallery\n=======\n\nEvery script of ``scripts/`` run in its quick mode (``--quick``): its figures, "
        "what it prints and how long it took. Each page links the script and a notebook to download. "
        "The full-size figures are the ones in the pages that cite them (``docs/figures/``).\n",
        encoding="utf-8")
    used = set(found.values())
    for topic, (title, blurb) in TOPICS.items():
        if topic not in used:
            continue
        folder = STAGE / topic
        folder.mkdir()
        (folder / "GALLERY_HEADER.rst").write_text(f"{title}\n{'-' * len(title)}\n\n{blurb}\n", encoding="utf-8")
    for path, topic in found.items():
        shutil.copy2(path, STAGE / topic / path.name)
    return STAGE


def subsection_order() -> list[str]:
    """Gallery sections in :data:`TOPICS` order (paths as sphinx-gallery compares them)."""
    return [f"_gallery_src/{t}" for t in TOPICS]


# ------------------------------------------------------------------ run-time hooks
_OUT: dict[str, Path] = {}
_TMP: list[Path] = []  # one temporary folder per build, made on first use


def reset_argv(gallery_conf, script_vars):
    """``--quick --out <fresh dir>`` for each example (the scripts' own quick mode).

    sphinx-gallery runs the code without its docstring (that is the page's text) and sets
    ``__doc__`` to ``""``; the scripts build their ``--help`` from it, so it is put back.
    """
    src = str(script_vars["src_file"])
    script_vars["example_globals"]["__doc__"] = ast.get_docstring(
        ast.parse(Path(src).read_text(encoding="utf-8")), clean=False)
    if not _TMP:
        _TMP.append(Path(tempfile.mkdtemp(prefix="heavyball-gallery-")))
    out = _TMP[0] / Path(src).stem
    out.mkdir(parents=True, exist_ok=True)
    _OUT[Path(src).stem] = out
    return ["--quick", "--out", str(out)]


def png_scraper(block, block_vars, gallery_conf):
    """Move the PNG files the example wrote since the last block into its page."""
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import figure_rst

    plt.close("all")
    out = _OUT.get(Path(str(block_vars["src_file"])).stem)
    if out is None:
        return ""
    pngs = sorted(out.glob("*.png"))
    paths = []
    for png, image_path in zip(pngs, block_vars["image_path_iterator"]):
        shutil.move(str(png), image_path)
        paths.append(image_path)
    return figure_rst(paths, gallery_conf["src_dir"])
