r"""Momentum under gradient noise: exact on quadratics, the SDE limit, scaling rules, measured beyond.

On ``L(x) = 1/2 (x - x*)^T H (x - x*)`` the optimisers of
:func:`heavyball.optimize` with ``grad_noise = sigma`` see the gradients
``g_k = H (x_k - x*) + xi_k``, ``xi_k`` i.i.d. with mean 0 and covariance
``Q = sigma^2 I`` (here any ``noise_cov``: a scalar ``s`` means ``s I``). With
PyTorch's buffer (``torch.optim.SGD``, dampening 0; its first-step rule
``buf = g_0`` is ``b_{-1} = 0``) and ``e_k = x_k - x*``:

==============  =====================================================
method          update (``b`` the momentum buffer)
==============  =====================================================
``gd``          ``e_{k+1} = e_k - lr g_k``
``heavy_ball``  ``b_k = beta b_{k-1} + g_k``; ``e_{k+1} = e_k - lr b_k``
``nesterov``    ``b_k = beta b_{k-1} + g_k``; ``e_{k+1} = e_k - lr (g_k + beta b_k)``
==============  =====================================================

The state ``z_k = (e_k, b_{k-1})`` then obeys the linear system with white
input ``z_{k+1} = A z_k + B xi_k`` (:func:`noisy_system`), started at rest,
``z_0 = (x_0 - x*, 0)``. This realisation, not the ``(e_k, e_{k-1})`` one of
:func:`heavyball.spectral.iteration_matrix`, is used because Nesterov's noise
enters through the buffer: in ``(e_k, e_{k-1})`` it would be a moving average
``-lr (1 + beta) xi_k + lr beta xi_{k-1}``, not white. Both realisations have
the same eigenvalues (the mode roots of :func:`heavyball.spectral.mode_roots`),
and stability is decided by :func:`heavyball.spectral.spectral_radius`.

Functions: :func:`stationary_covariance` (the discrete Lyapunov equation
``S = A S A^T + B Q B^T``), :func:`stationary_loss` (``1/2 tr(H C)``) and
:func:`expected_loss` (the exact mean and covariance recursions).

The continuous limit (:mod:`heavyball.noise._sde`): :func:`langevin_sde` (the
physical schemes under :func:`heavyball.maps.to_optimizer`),
:func:`modified_equation` (Li, Tai and E), :func:`continuous_covariance`
(``F S + S F^T + D = 0``), and :func:`langevin_limit` /
:func:`modified_equation_limit` with the observed convergence order.

Scaling rules (:mod:`heavyball.noise._scaling`): :func:`rule_floor` (the
small-step floor ``lr tr(Q) / (4 B (1 - beta))``), :func:`rule_error` (the
exact floor against it) and :func:`batch_equivalents` (a larger batch against a
larger learning rate or momentum).

Speed against floor (:mod:`heavyball.noise._pareto`): :func:`tradeoff` (the
rate and floor maps over ``(lr, momentum)`` and their Pareto front) and
:func:`pareto_front`; :func:`spectrum_floors` for ``heavyball spectrum --noise``.

Minibatch least squares (:mod:`heavyball.noise._minibatch`):
:func:`minibatch_floor`, exact although the noise depends on ``x`` (the
second-moment recursion closes), against the constant-noise prediction.

Beyond quadratics (:mod:`heavyball.noise._measure`): :func:`measured_floor`,
the simulated floor over seeds with its error bar, against the quadratic
prediction at the minimiser's Hessian.

Import as a submodule: ``from heavyball import noise`` (or ``hb.noise``).
"""

from __future__ import annotations

__all__ = ["noisy_system", "stationary_covariance", "stationary_loss", "expected_loss",
           "langevin_sde", "modified_equation", "continuous_covariance", "fitted_order", "langevin_limit",
           "modified_equation_limit", "SDELimit", "rule_floor", "rule_error", "batch_equivalents",
           "pareto_front", "tradeoff", "Tradeoff", "spectrum_floors",
           "minibatch_floor", "MinibatchFloor", "measured_floor", "MeasuredFloor"]

from ._discrete import expected_loss, noisy_system, stationary_covariance, stationary_loss
from ._sde import (SDELimit, continuous_covariance, fitted_order, langevin_limit, langevin_sde,
                   modified_equation, modified_equation_limit)
from ._scaling import batch_equivalents, rule_error, rule_floor
from ._pareto import Tradeoff, pareto_front, spectrum_floors, tradeoff
from ._minibatch import MinibatchFloor, minibatch_floor
from ._measure import MeasuredFloor, measured_floor
