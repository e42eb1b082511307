"""The facts of each scheme and optimiser method, in one place (pure Python, no Numba).

:data:`SGD_METHODS` names the three forms of ``torch.optim.SGD`` that the
spectral theory, the sweeps and the command line compare: plain gradient
descent, heavy ball and Nesterov (each is an integrator of the damped
particle, see :mod:`heavyball.maps`).
"""

from __future__ import annotations

#: The methods of the spectral theory, the sweeps and the CLI (``torch.optim.SGD`` plain, heavy ball, Nesterov).
SGD_METHODS = ("gd", "heavy_ball", "nesterov")
