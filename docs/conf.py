"""Sphinx configuration of heavyball's documentation site.

Build (from the repository root, after ``pip install -e '.[docs]'``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing here reaches the network: no intersphinx, no remote images, no binder links.
The API pages are written from ``__all__`` (``_api.py``) and the gallery is staged from
``scripts/`` (``_gallery.py``) each time this file is read.
"""

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# this checkout's package (not another install), the two helpers beside this file, and the
# scripts' shared modules (claims_common) for the gallery's examples
for path in (ROOT / "scripts", DOCS, ROOT):
    sys.path.insert(0, str(path))

import _api  # noqa: E402
import _gallery  # noqa: E402
import heavyball  # noqa: E402

_api.write()
_gallery.stage()

project = "heavyball"
author = "the heavyball developers"
copyright = "2026, the heavyball developers"
release = version = heavyball.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# no typographic quotes or dashes: "--quick" and "--json" must stay what a shell takes
smartquotes = False
exclude_patterns = ["_build", "_gallery_src", "_templates", "**.ipynb", "gallery/**/*.md5"]
templates_path = ["_templates"]

# --- MyST: the Markdown pages (also read on the code host, so plain CommonMark + anchors)
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# --- autodoc / autosummary / numpydoc
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_member_order = "bysource"
add_module_names = False
numpydoc_show_class_members = False  # the class template documents its members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Enforced docstring checks: every numpydoc check except those listed after "all".
numpydoc_validation_checks = {"all", "GL01", "GL02", "SA01", "ES01", "SS05", "SS06", "PR09", "RT05", "RT02"}
# Constants (tuples, dicts, numbers) are documented by a comment, not a numpydoc docstring.
numpydoc_validation_exclude = {
    "^" + re.escape(name) + "$" for name, obj in _api.public_objects().items() if _api.kind(obj) == "data"
}

# --- sphinx-gallery: every script of scripts/, run in its quick mode
sphinx_gallery_conf = {
    "examples_dirs": "_gallery_src",
    "gallery_dirs": "gallery",
    "filename_pattern": r".*\.py$",  # execute every example
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "expected_failing_examples": [],
    "reset_argv": "_gallery.reset_argv",
    "image_scrapers": ("_gallery.png_scraper",),
    "subsection_order": _gallery.subsection_order(),
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 0,
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": (),
    "show_signature": False,
}

# --- HTML
html_theme = "pydata_sphinx_theme"
html_title = "heavyball"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}
