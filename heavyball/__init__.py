"""heavyball: gradient-based optimisation as a damped particle.

``m x'' = -grad L(x) - gamma x'``: integrators of this ODE, the optimisers they
*are* (symplectic Euler is heavy-ball momentum, the look-ahead scheme is
Nesterov, the overdamped limit is gradient descent) and the exact maps
between them.

Distribution name ``heavyball-dynamics``; unrelated to the PyTorch optimiser
library published on PyPI as ``heavyball``.
"""

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
from .sweep import SweepResult, sweep
from .system import DampedParticle
from .trajectory import Trajectory
from .worst_case import worst_case
from ._warnings import CacheWarning

__version__ = "0.1.0"

#: Public submodules loaded on first attribute access (PEP 562), as SciPy
#: does: ``import heavyball as hb; hb.spectral.half_life(...)`` works without
#: importing the module first, and ``import heavyball`` stays as light as it
#: was (``hb.plotting`` loads matplotlib only when a figure is drawn,
#: ``hb.kernels`` compiles or loads Numba kernels only when accessed).
#: ``heavyball.sweep`` and ``heavyball.worst_case`` are the functions; their
#: modules are ``sys.modules["heavyball.sweep"]`` etc.
LAZY_SUBMODULES = ("spectral", "plotting", "kernels", "tour", "cli", "noise", "explore")


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
