"""The constants compiled into the Numba kernels, read from ``kernels.py`` without loading Numba.

Numba's on-disk cache is keyed on the source file of the compiled functions
(its modification time and size), and it freezes the global values a kernel
reads into the machine code. A constant the kernels read must therefore be
defined *in* ``kernels.py``: imported from another module, a change to it
would leave stale kernels in the cache. So ``kernels.py`` imports nothing
from heavyball and is the one home of these constants (the kind codes of the
compiled problems, the divergence bound, the sweep's flush and distance
floor). The light modules that need them without loading Numba
(:mod:`heavyball.trajectory`, :mod:`heavyball._compiled`, the sweeps' NumPy
engine) read the literal assignments ``NAME = literal`` at the top level of
``kernels.py`` here: each value is written once, and a change to it both
recompiles the kernels and reaches every reader.

Examples
--------
>>> from heavyball._kernel_constants import constant
>>> constant("BOUND")
1e+50
"""

from __future__ import annotations

import ast
import os
import re

__all__ = ["constant", "KERNELS_PY"]

#: The source file of :mod:`heavyball.kernels`.
KERNELS_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernels.py")

# ``NAME = value`` or ``A, B, C = 0, 1, 2`` at the start of a line (module level), optional comment.
_ASSIGN = re.compile(r"^([A-Z][A-Z0-9_]*(?:, [A-Z][A-Z0-9_]*)*) = ([^\n#]+?)[ \t]*(?:#[^\n]*)?$", re.M)


def _read(path):
    """Every module-level ``NAME = literal`` of ``path`` (values that are not literals are skipped)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:  # pragma: no cover (an installation without kernels.py cannot run the kernels)
        raise ImportError(f"heavyball cannot read the kernel constants from {path}: {exc}") from exc
    found = {}
    for m in _ASSIGN.finditer(text):
        try:
            value = ast.literal_eval(m.group(2))
        except (ValueError, SyntaxError):
            continue
        names = m.group(1).split(", ")
        if len(names) == 1:
            found[names[0]] = value
        elif isinstance(value, tuple) and len(value) == len(names):
            found.update(zip(names, value))
    return found


_CONSTANTS = _read(KERNELS_PY)


def constant(name):
    """The value of the literal constant ``name`` of ``kernels.py`` (``KeyError`` if it has none)."""
    try:
        return _CONSTANTS[name]
    except KeyError:
        raise KeyError(f"kernels.py defines no literal constant {name!r}") from None
