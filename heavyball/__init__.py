"""heavyball: gradient-based optimisation as a damped particle.

``m x'' = -grad L(x) - gamma x'``: integrators of this ODE, the optimisers they
*are* (symplectic Euler is heavy-ball momentum, the look-ahead scheme is
Nesterov, the overdamped limit is gradient descent) and the exact maps
between them.

Distribution name ``heavyball-dynamics``; unrelated to the PyTorch optimiser
library published on PyPI as ``heavyball``.
"""

import sys as _sys

from . import odes, problems, schedules
from . import diagnostics, landscapes  # landscapes registers the scenario problems
from .integrators import METHODS, integrate
from .maps import PhysicalParams, initial_velocity, to_optimizer, to_physical
from .optimizers import GD, SGD, Adam, EMAMomentum, KerasSGD, optimize
from .problems import (
    CustomProblem,
    DoubleWell,
    LessardCounterexample,
    Plateau,
    Quadratic,
    Rosenbrock,
    Saddle,
    TorchProblem,
)
from .reference import solve_reference
from .sweeps import SweepResult, sweep
from .system import DampedParticle
from .trajectory import Trajectory
from .pep import worst_case
from ._warnings import CacheWarning
from ._version import __version__

#: Public submodules loaded on first attribute access (PEP 562), as SciPy
#: does: ``import heavyball as hb; hb.spectral.half_life(...)`` works without
#: importing the module first, and ``import heavyball`` stays as light as it
#: was (``hb.plotting`` loads matplotlib only when a figure is drawn,
#: ``hb.kernels`` compiles or loads Numba kernels only when accessed).
#: ``heavyball.sweep`` and ``heavyball.worst_case`` are functions; their
#: modules are the package ``heavyball.sweeps`` and ``heavyball.pep``.
LAZY_SUBMODULES = ("spectral", "plotting", "kernels", "tour", "cli", "noise", "explore")

#: Public modules that moved, importable at their old path as the same module
#: object: ``import heavyball.tour`` and ``hb.tour`` give ``heavyball.cli.tour``.
MOVED_MODULES = {"heavyball.tour": "heavyball.cli.tour"}


class _MovedModuleFinder:
    """Finds each module of :data:`MOVED_MODULES` under its old name (no file there, no copy)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in MOVED_MODULES:
            return None
        import importlib.util

        return importlib.util.spec_from_loader(name, _MovedModuleFinder)

    @staticmethod
    def create_module(spec):
        import importlib

        module = importlib.import_module(MOVED_MODULES[spec.name])
        spec.loader_state = module.__spec__  # the import overwrites it with `spec`: restored below
        return module

    @staticmethod
    def exec_module(module):
        module.__spec__ = module.__spec__.loader_state


if not any(f is _MovedModuleFinder for f in _sys.meta_path):
    _sys.meta_path.insert(0, _MovedModuleFinder)


def __getattr__(name):
    if name in LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # also binds it as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(LAZY_SUBMODULES))

__all__ = [
    "problems",
    "schedules",
    "odes",
    "diagnostics",
    "landscapes",
    "spectral",
    "plotting",
    "noise",
    "Quadratic",
    "Rosenbrock",
    "DoubleWell",
    "Saddle",
    "Plateau",
    "LessardCounterexample",
    "CustomProblem",
    "TorchProblem",
    "DampedParticle",
    "integrate",
    "METHODS",
    "solve_reference",
    "Trajectory",
    "GD",
    "SGD",
    "KerasSGD",
    "EMAMomentum",
    "Adam",
    "optimize",
    "PhysicalParams",
    "to_optimizer",
    "to_physical",
    "initial_velocity",
    "sweep",
    "SweepResult",
    "worst_case",
    "CacheWarning",
    "__version__",
]
