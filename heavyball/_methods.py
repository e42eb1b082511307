"""The names of the three methods of the ``torch.optim.SGD`` family, defined once.

Plain gradient descent, heavy ball and Nesterov: the methods the spectral
theory (:mod:`heavyball.spectral`), the sweeps, the worst cases
(:mod:`heavyball.pep`), the plots and the command line compare. Each is an
integrator of the damped particle (:mod:`heavyball.maps`); the integrators
themselves are the records of :data:`heavyball.integrators.SCHEMES`.
"""

from __future__ import annotations

#: ``torch.optim.SGD`` plain, with momentum (heavy ball) and with ``nesterov=True``.
SGD_METHODS = ("gd", "heavy_ball", "nesterov")
