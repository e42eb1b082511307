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

__version__ = "0.1.0"

__all__ = [
    "problems",
    "schedules",
    "odes",
    "diagnostics",
    "landscapes",
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
    "__version__",
]
