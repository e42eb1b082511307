r"""Optimisers exactly as the frameworks implement them, and :func:`optimize`.

Each optimiser is a small immutable object with ``init(x0) -> state`` and
``step(x, grad, state, *, lr=None, momentum=None) -> (x_new, state_new)``;
the keyword overrides are how schedules reach it. The update formulas follow
the frameworks' source line by line, quirks included (PyTorch's first-step
buffer ``buf = g``; Keras's velocity that holds the learning rate).

==================  =====================================================================
optimiser           update (``g`` the gradient, ``k`` the step)
==================  =====================================================================
``GD``              ``x -= lr g``
``SGD``             ``buf = g`` (first step), else ``beta buf + (1 - d) g``; ``x -= lr buf``
                    (Nesterov: ``x -= lr (g + beta buf)``)
``KerasSGD``        ``u = beta u - lr g``; ``x += u`` (Nesterov: ``x += beta u - lr g``)
``EMAMomentum``     ``v = beta v + (1 - beta) g``; ``x -= lr v``
``Adam``            ``torch.optim.Adam``
==================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _fast
from . import _validation as _v
from . import problems as _problems
from . import schedules as _schedules
from ._recording import check_records, step_loop

__all__ = ["GD", "SGD", "KerasSGD", "EMAMomentum", "Adam", "optimize"]


class GDState(NamedTuple):
    """Gradient descent keeps no state."""


class SGDState(NamedTuple):
    """PyTorch's per-parameter state: the momentum buffer, None before its first use."""

    momentum_buffer: np.ndarray | None


class KerasSGDState(NamedTuple):
    """Keras's velocity ``u`` (it holds the learning rate), zeros initially."""

    velocity: np.ndarray


class EMAState(NamedTuple):
    """Exponential moving average of the gradients, zeros initially."""

    velocity: np.ndarray


class AdamState(NamedTuple):
    """``torch.optim.Adam`` state: step count and the two moment estimates."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None


def _nonneg(name, value, torch_text):
    """PyTorch's check ``0 <= value``, with our parameter name added."""
    v = _v.number(name, value)  # the wrong kind of value is a TypeError, not a range error
    try:
        return _v.real(name, v, low=0.0)
    except ValueError:
        raise ValueError(f"{torch_text}: {value!r} (`{name}` must be finite and >= 0)") from None


@dataclass(frozen=True)
class GD:
    r"""Plain gradient descent ``x_{k+1} = x_k - lr grad L(x_k)``.

    Parameters
    ----------
    lr : float >= 0
        Learning rate.

    Raises
    ------
    ValueError
        If ``lr`` is negative or not finite (PyTorch's message, with the
        parameter named).

    Notes
    -----
    .. math::

        x_{k+1} = x_k - \mathrm{lr}\, \nabla L(x_k).

    The overdamped limit of the particle: explicit Euler of the gradient flow
    ``gamma x' = -grad L`` with ``lr = h / gamma`` (``to_optimizer(0, gamma,
    h, "explicit_euler")``). It keeps no state, and a run records ``v = None``.
    Like every optimiser here it is a frozen dataclass with ``init``, ``step``
    and ``velocity``.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.GD(lr=0.1)
    >>> opt.step(np.array([1.0, 2.0]), np.array([1.0, -1.0]), opt.init(None))[0]
    array([0.9, 2.1])
    """

    lr: float

    def __post_init__(self):
        object.__setattr__(self, "lr", _nonneg("lr", self.lr, "Invalid learning rate"))

    name = "GD"
    has_velocity = False
    schedule_ranges = {"lr": (0.0, None, False)}

    def init(self, x0):
        """State before the first step (gradient descent keeps none).

        Parameters
        ----------
        x0 : array_like
            The starting point (not used).

        Returns
        -------
        GDState
            An empty tuple.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.GD(0.1).init([0.0])
        GDState()
        """
        return GDState()

    def step(self, x, grad, state, *, lr=None, momentum=None):
        """One step ``x - lr grad``.

        Parameters
        ----------
        x : ndarray
            Current iterate.
        grad : ndarray
            Gradient at ``x``.
        state : GDState
            The (empty) state.
        lr : float, optional
            Learning rate for this step (a schedule's value); default ``self.lr``.
        momentum : None
            Must be None: GD has no momentum.

        Returns
        -------
        x_new : ndarray
            ``x - lr grad``.
        state : GDState
            Unchanged.

        Raises
        ------
        ValueError
            If ``momentum`` is given.

        Examples
        --------
        >>> import numpy as np, heavyball as hb
        >>> hb.GD(0.1).step(np.array([1.0]), np.array([2.0]), (), lr=0.25)[0]
        array([0.5])
        """
        if momentum is not None:
            raise ValueError("GD has no momentum; `momentum` must be None")
        lr = self.lr if lr is None else lr
        return x - lr * grad, state

    def velocity(self, state):
        """The recorded velocity: None (no state).

        Parameters
        ----------
        state : GDState
            The state.

        Returns
        -------
        None
            Gradient descent has no velocity.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.GD(0.1).velocity(()) is None
        True
        """
        return None

    def _kernel_form(self):
        """``(kernel, lr, momentum, weight_decay, dampening)``: this optimiser as the compiled kernel runs it."""
        return "GD", self.lr, 0.0, 0.0, 0.0

    def _heavy_ball(self):
        """``(lr, beta, nesterov, lr_damp)``: this optimiser as heavy ball ``b' = beta b + g``, ``x' = x - lr b'``.

        ``lr`` is the effective learning rate (``lr (1 - dampening)`` for
        PyTorch, ``lr (1 - beta)`` for the EMA form), ``nesterov`` the
        look-ahead form and ``lr_damp`` PyTorch's ``lr * dampening`` (its
        undamped first step). Read by :mod:`heavyball.maps` and
        :func:`heavyball.diagnostics.effective_learning_rate`.
        """
        return self.lr, 0.0, False, 0.0


@dataclass(frozen=True)
class SGD:
    """``torch.optim.SGD`` semantics exactly.

    Parameters
    ----------
    lr : float >= 0
        Learning rate.
    momentum : float >= 0, optional
        Momentum factor ``beta`` (default 0: no buffer).
    dampening : float, optional
        Applied from the second step on (the first buffer is ``g`` itself);
        default 0.
    nesterov : bool, optional
        Requires ``momentum > 0`` and ``dampening = 0`` (PyTorch's rule).
    weight_decay : float >= 0, optional
        Coupled (L2): ``g += weight_decay x`` before the momentum.
    maximize : bool, optional
        Ascend instead: ``g = -g``.

    Raises
    ------
    ValueError
        For a negative or non-finite ``lr``, ``momentum`` or ``weight_decay``
        (PyTorch's messages), or Nesterov without momentum or with dampening.
    TypeError
        For a value of the wrong kind (a string, a non-boolean flag).

    Notes
    -----
    ``g = (-1)^maximize grad + wd x``; on the first step with ``momentum != 0``
    ``buf = g``, afterwards ``buf = momentum buf + (1 - dampening) g``; the step
    is ``x -= lr buf`` or, with Nesterov, ``x -= lr (g + momentum buf)``. With
    ``momentum = 0`` no buffer is kept and ``dampening`` is ignored. The
    undamped first buffer is why a damped SGD maps onto the particle only with
    a start velocity (``PhysicalParams.v0_scale``).

    References
    ----------
    .. [1] PyTorch documentation, ``torch.optim.SGD``
       (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html).
    .. [2] I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance
       of initialization and momentum in deep learning", ICML 2013.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.SGD(lr=0.1, momentum=0.9, dampening=0.5)
    >>> x, state = np.array([1.0]), opt.init(np.array([1.0]))
    >>> x, state = opt.step(x, np.array([1.0]), state)
    >>> state.momentum_buffer  # the first buffer is g, undamped
    array([1.])
    >>> x, state = opt.step(x, np.array([1.0]), state)
    >>> state.momentum_buffer, x  # buf = 0.9 * 1 + (1 - 0.5) * 1; x = 1 - 0.1 (1 + 1.4)
    (array([1.4]), array([0.76]))
    """

    lr: float
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    maximize: bool = False

    has_velocity = True
    schedule_ranges = {"lr": (0.0, None, False), "momentum": (0.0, None, False)}

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "lr", _nonneg("lr", self.lr, "Invalid learning rate"))
        set_(self, "momentum", _nonneg("momentum", self.momentum, "Invalid momentum value"))
        set_(self, "weight_decay", _nonneg("weight_decay", self.weight_decay, "Invalid weight_decay value"))
        set_(self, "dampening", _v.real("dampening", self.dampening))
        set_(self, "nesterov", _v.flag("nesterov", self.nesterov))
        set_(self, "maximize", _v.flag("maximize", self.maximize))
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(`momentum` must be > 0 and `dampening` 0; got {self.momentum!r}, {self.dampening!r})"
            )

    @property
    def name(self):
        """``"SGD"``, or ``"SGD(nesterov)"``: the ``method`` of its runs.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.SGD(0.1, momentum=0.9, nesterov=True).name
        'SGD(nesterov)'
        """
        return "SGD(nesterov)" if self.nesterov else "SGD"

    def init(self, x0):
        """State before the first step: no momentum buffer yet.

        Parameters
        ----------
        x0 : array_like
            The starting point (not used).

        Returns
        -------
        SGDState
            ``momentum_buffer = None``, as PyTorch before its first step.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.SGD(0.1, 0.9).init([0.0])
        SGDState(momentum_buffer=None)
        """
        return SGDState(None)

    def step(self, x, grad, state, *, lr=None, momentum=None):
        """One step of ``torch.optim.SGD``.

        Parameters
        ----------
        x : ndarray
            Current iterate (for Nesterov, PyTorch's own look-ahead iterate).
        grad : ndarray
            Gradient at ``x``.
        state : SGDState
            The momentum buffer (None before its first use).
        lr : float, optional
            Learning rate for this step (a schedule's value); default ``self.lr``.
        momentum : float, optional
            Momentum for this step; default ``self.momentum``. A step whose
            momentum is 0 neither uses nor creates the buffer.

        Returns
        -------
        x_new : ndarray
            The next iterate.
        state_new : SGDState
            The updated buffer.

        Notes
        -----
        ``g = (-1)^maximize grad + wd x``; ``buf = g`` if there is no buffer yet,
        else ``buf = momentum buf + (1 - dampening) g``; ``x_new = x - lr buf``
        (Nesterov: ``x - lr (g + momentum buf)``).

        Examples
        --------
        >>> import numpy as np, heavyball as hb
        >>> opt = hb.SGD(0.1, momentum=0.9, nesterov=True)
        >>> x, state = opt.step(np.array([1.0]), np.array([1.0]), opt.init(None))
        >>> x, state.momentum_buffer  # 1 - 0.1 (1 + 0.9 * 1)
        (array([0.81]), array([1.]))
        """
        lr = self.lr if lr is None else lr
        mom = self.momentum if momentum is None else momentum
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        buf = state.momentum_buffer
        if mom != 0:
            buf = g.copy() if buf is None else buf * mom + (1.0 - self.dampening) * g
            g = g + mom * buf if self.nesterov else buf
        return x - lr * g, SGDState(buf)

    def velocity(self, state):
        """The recorded velocity: PyTorch's momentum buffer.

        Parameters
        ----------
        state : SGDState
            The state.

        Returns
        -------
        ndarray or None
            ``state.momentum_buffer`` (None before the first step with momentum).

        Examples
        --------
        >>> import heavyball as hb
        >>> opt = hb.SGD(0.1, 0.9)
        >>> opt.velocity(opt.init(None)) is None
        True
        """
        return state.momentum_buffer

    def _kernel_form(self):
        """``(kernel, lr, momentum, weight_decay, dampening)``: this optimiser as the compiled kernel runs it."""
        return "SGD", self.lr, self.momentum, self.weight_decay, self.dampening

    def _heavy_ball(self):
        """``(lr, beta, nesterov, lr_damp)``: this optimiser as heavy ball ``b' = beta b + g``, ``x' = x - lr b'``.

        ``lr`` is the effective learning rate (``lr (1 - dampening)`` for
        PyTorch, ``lr (1 - beta)`` for the EMA form), ``nesterov`` the
        look-ahead form and ``lr_damp`` PyTorch's ``lr * dampening`` (its
        undamped first step). Read by :mod:`heavyball.maps` and
        :func:`heavyball.diagnostics.effective_learning_rate`.
        """
        if self.momentum == 0.0:  # PyTorch keeps no buffer: dampening is ignored
            return self.lr, 0.0, False, 0.0
        d = self.dampening
        return self.lr * (1.0 - d), self.momentum, self.nesterov, self.lr * d

    def _velocity(self, state, h):
        """The particle's velocity ``v_k`` for recorded buffers: ``x' = x - lr b'``, so ``v = -lr b / h``."""
        return state * (-self.lr / h)


@dataclass(frozen=True)
class KerasSGD:
    """Keras 3 ``keras.optimizers.SGD`` semantics.

    Parameters
    ----------
    learning_rate : float >= 0
        Learning rate.
    momentum : float in [0, 1], optional
        Momentum factor (default 0: Keras builds no velocity).
    nesterov : bool, optional
        Nesterov's form (default False).
    weight_decay : float >= 0, optional
        Decoupled: ``x -= learning_rate * weight_decay * x`` before the update.

    Raises
    ------
    ValueError
        For a negative ``learning_rate`` or ``weight_decay``, or a momentum
        outside ``[0, 1]`` (Keras's message).
    TypeError
        For a value of the wrong kind.

    Notes
    -----
    ``u = momentum u - lr g``; ``x += u`` (Nesterov: ``x += momentum u - lr g``).
    The velocity holds the learning rate, so under a learning-rate schedule
    Keras and PyTorch differ although they agree for a constant one. With a
    constant learning rate ``u = -lr buf`` of PyTorch, so the particle's
    velocity is ``v = u / h``.

    References
    ----------
    .. [1] Keras documentation, ``keras.optimizers.SGD``
       (https://keras.io/api/optimizers/sgd/).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.KerasSGD(learning_rate=0.1, momentum=0.9)
    >>> x, state = np.array([1.0]), opt.init([1.0])
    >>> for _ in range(2):
    ...     x, state = opt.step(x, np.array([1.0]), state)
    >>> state.velocity, x  # u = -0.1, then 0.9 u - 0.1 = -0.19
    (array([-0.19]), array([0.71]))
    """

    learning_rate: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    has_velocity = True
    name = "KerasSGD"
    schedule_ranges = {"lr": (0.0, None, False), "momentum": (0.0, 1.0, False)}

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "learning_rate", _v.real("learning_rate", self.learning_rate, low=0.0))
        momentum = _v.number("momentum", self.momentum)
        try:
            set_(self, "momentum", _v.real("momentum", momentum, low=0.0, high=1.0))
        except ValueError:
            raise ValueError(f"`momentum` must be a float between [0, 1], got {self.momentum!r}") from None
        set_(self, "weight_decay", _v.real("weight_decay", self.weight_decay, low=0.0))
        set_(self, "nesterov", _v.flag("nesterov", self.nesterov))

    @property
    def lr(self):
        """Alias of ``learning_rate``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.KerasSGD(0.05).lr
        0.05
        """
        return self.learning_rate

    def init(self, x0):
        """State before the first step: a zero velocity.

        Parameters
        ----------
        x0 : array_like
            The starting point (its shape).

        Returns
        -------
        KerasSGDState
            ``velocity = zeros_like(x0)``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.KerasSGD(0.1, 0.9).init([1.0, 2.0])
        KerasSGDState(velocity=array([0., 0.]))
        """
        return KerasSGDState(np.zeros_like(np.asarray(x0, dtype=np.float64)))

    def step(self, x, grad, state, *, lr=None, momentum=None):
        """One step of ``keras.optimizers.SGD``.

        Parameters
        ----------
        x : ndarray
            Current iterate.
        grad : ndarray
            Gradient at ``x``.
        state : KerasSGDState
            The velocity ``u``.
        lr : float, optional
            Learning rate for this step (a schedule's value); default
            ``self.learning_rate``.
        momentum : float, optional
            Momentum for this step; default ``self.momentum``.

        Returns
        -------
        x_new : ndarray
            The next iterate.
        state_new : KerasSGDState
            The updated velocity.

        Notes
        -----
        ``x = x - lr wd x`` (if ``weight_decay``); then ``u = momentum u - lr g``
        and ``x_new = x + u`` (Nesterov: ``x + momentum u - lr g``). With
        ``momentum = 0`` and no momentum schedule Keras keeps no velocity and the
        step is ``x - lr g``.

        Examples
        --------
        >>> import numpy as np, heavyball as hb
        >>> opt = hb.KerasSGD(0.1, momentum=0.9, nesterov=True)
        >>> x, state = opt.step(np.array([1.0]), np.array([1.0]), opt.init([1.0]))
        >>> x.round(12), state.velocity  # u = -0.1; x += 0.9 u - 0.1
        (array([0.81]), array([-0.1]))
        """
        lr = self.learning_rate if lr is None else lr
        mom = self.momentum if momentum is None else momentum
        if self.weight_decay != 0:
            x = x - x * self.weight_decay * lr
        if self.momentum == 0 and momentum is None:  # Keras builds no velocity variable at all
            return x - grad * lr, state
        u = state.velocity * mom - grad * lr
        if self.nesterov:
            return x + (u * mom - grad * lr), KerasSGDState(u)
        return x + u, KerasSGDState(u)

    def velocity(self, state):
        """The recorded velocity: Keras's ``u`` (it includes the learning rate).

        Parameters
        ----------
        state : KerasSGDState
            The state.

        Returns
        -------
        ndarray
            ``state.velocity``.

        Examples
        --------
        >>> import heavyball as hb
        >>> opt = hb.KerasSGD(0.1, 0.9)
        >>> opt.velocity(opt.init([0.0]))
        array([0.])
        """
        return state.velocity

    def _kernel_form(self):
        """``(kernel, lr, momentum, weight_decay, dampening)``: this optimiser as the compiled kernel runs it."""
        return "KerasSGD", self.learning_rate, self.momentum, self.weight_decay, 0.0

    def _heavy_ball(self):
        """``(lr, beta, nesterov, lr_damp)``: this optimiser as heavy ball ``b' = beta b + g``, ``x' = x - lr b'``.

        ``lr`` is the effective learning rate (``lr (1 - dampening)`` for
        PyTorch, ``lr (1 - beta)`` for the EMA form), ``nesterov`` the
        look-ahead form and ``lr_damp`` PyTorch's ``lr * dampening`` (its
        undamped first step). Read by :mod:`heavyball.maps` and
        :func:`heavyball.diagnostics.effective_learning_rate`.
        """
        return self.learning_rate, self.momentum, self.nesterov, 0.0

    def _velocity(self, state, h):
        """The particle's velocity ``v_k`` for recorded Keras velocities: ``x' = x + u'``, so ``v = u / h``."""
        return state / h


@dataclass(frozen=True)
class EMAMomentum:
    """Momentum as an exponential moving average of the gradients.

    Parameters
    ----------
    lr : float >= 0
        Learning rate.
    beta : float in [0, 1), optional
        Averaging coefficient (default 0.9).

    Raises
    ------
    ValueError
        If ``lr`` is negative or ``beta`` is outside ``[0, 1)``.

    Notes
    -----
    ``v = beta v + (1 - beta) g``; ``x -= lr v``. Identical to
    ``SGD(lr (1 - beta), beta)`` (whose buffer is ``v / (1 - beta)``), so its
    effective learning rate is ``lr (1 - beta)``.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.EMAMomentum(lr=1.0, beta=0.9)
    >>> x, state = opt.step(np.array([1.0]), np.array([1.0]), opt.init([1.0]))
    >>> state.velocity.round(12), x.round(12)  # v = 0.1 g
    (array([0.1]), array([0.9]))
    """

    lr: float
    beta: float = 0.9

    has_velocity = True
    name = "EMAMomentum"
    schedule_ranges = {"lr": (0.0, None, False), "momentum": (0.0, 1.0, True)}

    def __post_init__(self):
        object.__setattr__(self, "lr", _v.real("lr", self.lr, low=0.0))
        object.__setattr__(self, "beta", _v.real("beta", self.beta, low=0.0, high=1.0, high_open=True))

    @property
    def momentum(self):
        """Alias of ``beta``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.EMAMomentum(0.1, beta=0.5).momentum
        0.5
        """
        return self.beta

    def init(self, x0):
        """State before the first step: a zero average.

        Parameters
        ----------
        x0 : array_like
            The starting point (its shape).

        Returns
        -------
        EMAState
            ``velocity = zeros_like(x0)``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.EMAMomentum(0.1).init([1.0])
        EMAState(velocity=array([0.]))
        """
        return EMAState(np.zeros_like(np.asarray(x0, dtype=np.float64)))

    def step(self, x, grad, state, *, lr=None, momentum=None):
        """One step ``v = beta v + (1 - beta) g``, ``x -= lr v``.

        Parameters
        ----------
        x : ndarray
            Current iterate.
        grad : ndarray
            Gradient at ``x``.
        state : EMAState
            The average ``v``.
        lr : float, optional
            Learning rate for this step (a schedule's value); default ``self.lr``.
        momentum : float, optional
            ``beta`` for this step; default ``self.beta``.

        Returns
        -------
        x_new : ndarray
            The next iterate.
        state_new : EMAState
            The updated average.

        Examples
        --------
        >>> import numpy as np, heavyball as hb
        >>> opt = hb.EMAMomentum(1.0, beta=0.5)
        >>> opt.step(np.array([1.0]), np.array([2.0]), opt.init([1.0]))[0]
        array([0.])
        """
        lr = self.lr if lr is None else lr
        beta = self.beta if momentum is None else momentum
        v = beta * state.velocity + (1.0 - beta) * grad
        return x - lr * v, EMAState(v)

    def velocity(self, state):
        """The recorded velocity: the average ``v``.

        Parameters
        ----------
        state : EMAState
            The state.

        Returns
        -------
        ndarray
            ``state.velocity``.

        Examples
        --------
        >>> import heavyball as hb
        >>> opt = hb.EMAMomentum(0.1)
        >>> opt.velocity(opt.init([0.0]))
        array([0.])
        """
        return state.velocity

    def _kernel_form(self):
        """``(kernel, lr, momentum, weight_decay, dampening)``: this optimiser as the compiled kernel runs it."""
        return "EMAMomentum", self.lr, self.beta, 0.0, 0.0

    def _heavy_ball(self):
        """``(lr, beta, nesterov, lr_damp)``: this optimiser as heavy ball ``b' = beta b + g``, ``x' = x - lr b'``.

        ``lr`` is the effective learning rate (``lr (1 - dampening)`` for
        PyTorch, ``lr (1 - beta)`` for the EMA form), ``nesterov`` the
        look-ahead form and ``lr_damp`` PyTorch's ``lr * dampening`` (its
        undamped first step). Read by :mod:`heavyball.maps` and
        :func:`heavyball.diagnostics.effective_learning_rate`.
        """
        return self.lr * (1.0 - self.beta), self.beta, False, 0.0

    def _velocity(self, state, h):
        """The particle's velocity ``v_k`` for recorded averages: ``x' = x - lr b'``, so ``v = -lr b / h``."""
        return state * (-self.lr / h)


@dataclass(frozen=True)
class Adam:
    r"""``torch.optim.Adam`` semantics (coupled weight decay; ``amsgrad``, ``maximize``).

    Parameters
    ----------
    lr : float >= 0, optional
        Learning rate (default ``1e-3``).
    betas : (float, float), optional
        ``(b1, b2)`` in ``[0, 1)``, the moment coefficients (default
        ``(0.9, 0.999)``).
    eps : float >= 0, optional
        Added to the denominator (default ``1e-8``).
    weight_decay : float >= 0, optional
        Coupled (L2): ``g += weight_decay x``.
    amsgrad : bool, optional
        Use the running maximum of the second moment.
    maximize : bool, optional
        Ascend instead: ``g = -g``.

    Raises
    ------
    ValueError
        For a parameter out of range (PyTorch's messages).
    TypeError
        For a value of the wrong kind (``betas`` not a pair of numbers).

    Notes
    -----
    At step ``k = 1, 2, ...``: ``m = lerp(m, g, 1 - b1)`` (``= b1 m + (1 - b1)
    g``, computed as ``torch.lerp``), ``s = b2 s + (1 - b2) g^2``,

    .. math::

        x \leftarrow x - \frac{\mathrm{lr}}{1 - b_1^k}
        \frac{m}{\sqrt{s} / \sqrt{1 - b_2^k} + \epsilon},

    with ``s`` replaced by its running maximum under ``amsgrad``. A
    ``momentum`` override replaces ``b1`` for that step. Adam rescales each
    coordinate, so it has no constant-coefficient particle
    (:func:`~heavyball.to_physical` refuses it).

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A method for stochastic
       optimization", ICLR 2015.
    .. [2] S. J. Reddi, S. Kale and S. Kumar, "On the convergence of Adam and
       beyond", ICLR 2018 (``amsgrad``).
    .. [3] PyTorch documentation, ``torch.optim.Adam``
       (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.Adam(lr=1e-3)
    >>> x, state = opt.step(np.array([1.0, 1.0]), np.array([2.0, -3.0]), opt.init([1.0, 1.0]))
    >>> x.round(6)  # the first step moves each coordinate by lr, against the gradient's sign
    array([0.999, 1.001])
    """

    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    maximize: bool = False

    has_velocity = True
    name = "Adam"
    schedule_ranges = {"lr": (0.0, None, False), "momentum": (0.0, 1.0, True)}

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "lr", _nonneg("lr", self.lr, "Invalid learning rate"))
        set_(self, "eps", _nonneg("eps", self.eps, "Invalid epsilon value"))
        if isinstance(self.betas, (str, bytes)) or getattr(self.betas, "ndim", 1) != 1:
            raise _v.InputTypeError(f"`betas` must be a pair (beta1, beta2), got {_v.describe(self.betas)}")
        try:
            b1, b2 = self.betas
        except (TypeError, ValueError):
            raise ValueError(f"`betas` must be a pair (beta1, beta2), got {self.betas!r}") from None
        b1, b2 = _v.number("betas[0]", b1), _v.number("betas[1]", b2)
        for i, b in enumerate((b1, b2)):
            try:
                _v.real(f"betas[{i}]", b, low=0.0, high=1.0, high_open=True)
            except ValueError:
                raise ValueError(f"Invalid beta parameter at index {i}: {b!r} (must be in [0, 1))") from None
        set_(self, "betas", (float(b1), float(b2)))
        set_(self, "weight_decay", _nonneg("weight_decay", self.weight_decay, "Invalid weight_decay value"))
        set_(self, "amsgrad", _v.flag("amsgrad", self.amsgrad))
        set_(self, "maximize", _v.flag("maximize", self.maximize))

    @property
    def momentum(self):
        """``betas[0]``, the first-moment coefficient.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Adam().momentum
        0.9
        """
        return self.betas[0]

    def init(self, x0):
        """State before the first step: step 0, zero moments.

        Parameters
        ----------
        x0 : array_like
            The starting point (its shape).

        Returns
        -------
        AdamState
            ``(step, exp_avg, exp_avg_sq, max_exp_avg_sq)``; the last is None
            without ``amsgrad``.

        Examples
        --------
        >>> import heavyball as hb
        >>> hb.Adam().init([1.0]).step
        0
        """
        z = np.zeros_like(np.asarray(x0, dtype=np.float64))
        return AdamState(0, z, z.copy(), z.copy() if self.amsgrad else None)

    def step(self, x, grad, state, *, lr=None, momentum=None):
        """One step of ``torch.optim.Adam``.

        Parameters
        ----------
        x : ndarray
            Current iterate.
        grad : ndarray
            Gradient at ``x``.
        state : AdamState
            Step count and moment estimates.
        lr : float, optional
            Learning rate for this step (a schedule's value); default ``self.lr``.
        momentum : float, optional
            ``b1`` for this step; default ``betas[0]``.

        Returns
        -------
        x_new : ndarray
            The next iterate.
        state_new : AdamState
            The updated count and moments.

        Notes
        -----
        The update of the class Notes, with bias corrections ``1 - b1^k`` and
        ``sqrt(1 - b2^k)`` at the new count ``k``.

        Examples
        --------
        >>> import numpy as np, heavyball as hb
        >>> opt = hb.Adam(lr=0.1)
        >>> x, state = opt.step(np.array([1.0]), np.array([4.0]), opt.init([1.0]))
        >>> state.step, state.exp_avg.round(12), state.exp_avg_sq.round(12)
        (1, array([0.4]), array([0.016]))
        """
        lr = self.lr if lr is None else lr
        beta1 = self.betas[0] if momentum is None else momentum
        beta2 = self.betas[1]
        k = state.step + 1
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        m = _torch_lerp(state.exp_avg, g, 1.0 - beta1)
        s = state.exp_avg_sq * beta2 + (1.0 - beta2) * (g * g)
        step_size = lr / (1.0 - beta1**k)
        bc2_sqrt = (1.0 - beta2**k) ** 0.5
        s_max = None
        if self.amsgrad:
            s_max = np.maximum(state.max_exp_avg_sq, s)
            denom = np.sqrt(s_max) / bc2_sqrt + self.eps
        else:
            denom = np.sqrt(s) / bc2_sqrt + self.eps
        return x + (-step_size) * (m / denom), AdamState(k, m, s, s_max)

    def velocity(self, state):
        """The recorded velocity: the first moment ``exp_avg``.

        Parameters
        ----------
        state : AdamState
            The state.

        Returns
        -------
        ndarray
            ``state.exp_avg``.

        Examples
        --------
        >>> import heavyball as hb
        >>> opt = hb.Adam()
        >>> opt.velocity(opt.init([0.0]))
        array([0.])
        """
        return state.exp_avg


def _torch_lerp(start, end, weight):
    """``torch.lerp`` as computed on the CPU (two branches for accuracy)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


_OPTIMIZERS = (GD, SGD, KerasSGD, EMAMomentum, Adam)


def optimize(problem, optimizer, x0, *, n_steps, lr_schedule=None, momentum_schedule=None,
             restart_every=None, grad_noise=0.0, seed=None, tol=None, record_every=1,
             stochastic=False):
    r"""Run an optimiser on a problem and record its iterates.

    Parameters
    ----------
    problem : Problem or str
        Anything with ``dim``, ``value`` and ``grad``, or the name of a
        registered problem (:func:`heavyball.problems.names`), built with its
        default parameters as :func:`~heavyball.sweep` does.
    optimizer : GD, SGD, KerasSGD, EMAMomentum or Adam
        The optimiser, with the framework's exact update.
    x0 : array_like, shape (dim,)
        Starting point.
    n_steps : int >= 0
        Number of steps.
    lr_schedule, momentum_schedule : callable, optional
        ``k -> value`` for steps ``k = 0, 1, ...`` (the value itself, not a
        multiplier), overriding the optimiser's ``lr`` / ``momentum``. Each
        value must be a real number inside the range the optimiser's
        constructor allows (``Adam``/``EMAMomentum`` momentum in ``[0, 1)``,
        ``KerasSGD`` in ``[0, 1]``, learning rates ``>= 0``). A schedule for
        ``KerasSGD(momentum=0)`` is applied (the velocity is then kept).
        Runs longer than ``schedules.FULL_ARRAY_STEPS`` steps evaluate the
        schedules in chunks in the NumPy loop, so memory does not grow with
        ``n_steps``.
    restart_every : int >= 1, optional
        Re-initialise the optimiser state (velocity to zero, or PyTorch's
        "no buffer yet") before steps ``k``, ``2k``, ...
    grad_noise : float >= 0
        Standard deviation of Gaussian noise added to each gradient
        coordinate, drawn from ``numpy.random.default_rng(seed)``.
    seed : int >= 0, optional
        Seed for the noise; the same seed gives the same run.
    tol : float >= 0, optional
        Stop (status 1) after a step whose noise-free gradient has norm
        ``<= tol`` and which moved ``x`` by ``<= tol``.
    record_every : int >= 1
        Keep every ``record_every``-th iterate and always the last.
    stochastic : bool
        Take each gradient from ``problem.stochastic_grad(x, k, rng)`` (a
        minibatch, a sparse or a drifting gradient) instead of
        ``problem.grad(x)``; ``rng`` is ``numpy.random.default_rng(seed)``,
        so a seed reproduces the run. ``tol`` then tests the sampled gradient.

    Returns
    -------
    Trajectory
        ``x`` holds the optimiser's own iterate (for PyTorch Nesterov the
        look-ahead point), ``v`` its momentum buffer as the framework defines
        it (zeros before PyTorch creates it; None for ``GD``), ``t`` the step
        index and ``step = 1.0``. A start whose loss is not finite is the
        one record of a run with status -1.

    Raises
    ------
    TypeError
        (:class:`~heavyball._validation.InputTypeError`, also a ValueError) For
        a value of the wrong kind: a complex or boolean ``x0``, a string where
        a number is expected, a schedule returning a non-number.
    ValueError
        For a value out of range (the message names the parameter; for a
        schedule, also the step), an unknown problem name, or a run whose
        records would need more memory than :func:`heavyball._validation.size_limit`
        allows (``n_steps / record_every`` rows of ``dim`` numbers).

    Notes
    -----
    ``GD``, ``SGD``, ``KerasSGD`` and ``EMAMomentum`` on a built-in problem run
    in the compiled kernel :func:`heavyball.kernels.optimize_kernel`, with the
    schedules, restarts and gradient noise evaluated into arrays first (the
    same numbers as the NumPy loop, the noise drawn from the same stream);
    ``Adam``, ``stochastic=True`` and problems with only a Python ``grad`` run
    in the NumPy loop.

    Examples
    --------
    >>> import heavyball as hb
    >>> traj = hb.optimize(hb.Rosenbrock(), hb.SGD(lr=1e-3, momentum=0.9), [-1.0, 1.0], n_steps=2000)
    >>> bool(traj.loss[-1] < 1e-3)
    True
    """
    if not isinstance(optimizer, _OPTIMIZERS):
        names = ", ".join(c.__name__ for c in _OPTIMIZERS)
        raise _v.InputTypeError(f"`optimizer` must be one of {names}; got {_v.describe(optimizer)}")
    problem = _problems.check_problem("problem", problem)
    dim = problem.dim
    x = _v.vector("x0", x0, dim)
    n = _v.integer("n_steps", n_steps, low=0)
    every = _v.integer("record_every", record_every, low=1)
    tol = None if tol is None else _v.real("tol", tol, low=0.0)
    sigma = _v.real("grad_noise", grad_noise, low=0.0)
    seed = _v.seed("seed", seed)
    stochastic = _v.flag("stochastic", stochastic)
    restart = None if restart_every is None else _v.integer("restart_every", restart_every, low=1)
    restart = None if restart is not None and restart > n else restart  # never reached (and fits int64)
    if momentum_schedule is not None and isinstance(optimizer, GD):
        raise ValueError("`momentum_schedule` given for GD, which has no momentum")
    check_records(n, every, dim, 2 if optimizer.has_velocity else 1)
    every = min(every, n + 1)  # the same records (start and end), and an int64 for the kernel
    lrs = _schedule_values(lr_schedule, n, "lr_schedule", optimizer, "lr")
    moms = _schedule_values(momentum_schedule, n, "momentum_schedule", optimizer, "momentum")
    if stochastic and not callable(getattr(problem, "stochastic_grad", None)):
        raise ValueError("`stochastic=True` needs a problem with a `stochastic_grad(x, k, rng)` method")
    if not stochastic and not isinstance(lrs, _schedules.Chunked) and not isinstance(moms, _schedules.Chunked):
        traj = _fast.optimize_compiled(problem, optimizer, x, n, lrs, moms, restart, sigma, seed, tol, every)
        if traj is not None:
            return traj
    noise = _NoiseStream(sigma, dim, seed, n)
    grad = _sampled_gradient(problem, seed) if stochastic else (lambda x, k: problem.grad(x))
    return _run(problem, optimizer, x, n, lrs, moms, restart, noise, tol, every, grad)


def _sampled_gradient(problem, seed):
    # Its own stream (a child of the seed), so adding grad_noise does not change the batches.
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    return lambda x, k: np.asarray(problem.stochastic_grad(x, k, rng), dtype=np.float64)


def _schedule_values(schedule, n, name, optimizer=None, which=None):
    """The schedule's values (array or chunked), each checked against the optimiser's range.

    Raises
    ------
    ValueError
        Naming the schedule and the first step ``k`` whose value the
        optimiser's constructor would refuse (``Adam`` with a momentum of 1
        divides by zero; ``KerasSGD`` accepts momenta in ``[0, 1]`` only).
    """
    if schedule is None:
        return None
    if optimizer is None:
        return _schedules.values(schedule, n, name)
    low, high, high_open = optimizer.schedule_ranges[which]

    def check(values, k0):
        bad = values < low
        if high is not None:
            bad |= (values >= high) if high_open else (values > high)
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            allowed = _v.range_text(low, high, False, high_open)
            raise ValueError(f"`{name}` must return values {allowed} ({type(optimizer).__name__}'s range for "
                             f"its {which}); {name}({k0 + j}) = {float(values[j])!r}")

    return _schedules.values(schedule, n, name, check)


class _NoiseStream:
    """Gaussian gradient noise drawn in chunks (same numbers as one draw per step)."""

    chunk = 4096

    def __init__(self, sigma, dim, seed, n):
        self.sigma, self.dim, self.n = sigma, dim, n
        self.rng = np.random.default_rng(seed) if sigma > 0 else None
        self.buf, self.pos = None, 0

    def next(self):
        if self.rng is None:
            return None
        if self.buf is None or self.pos == len(self.buf):
            rows = max(1, min(self.chunk, self.n))
            self.buf, self.pos = self.rng.standard_normal((rows, self.dim)), 0
        z = self.buf[self.pos]
        self.pos += 1
        return self.sigma * z


def _run(problem, opt, x, n, lrs, moms, restart, noise, tol, every, grad):
    """The NumPy loop (reference twin of the compiled optimiser kernels): :func:`_recording.step_loop`."""

    def start(k, x, state):
        return opt.init(x) if restart is not None and k > 0 and k % restart == 0 else state

    def advance(k, x, state):
        g = grad(x, k)
        z = noise.next()
        lr = None if lrs is None else float(lrs[k])
        mom = None if moms is None else float(moms[k])
        x_new, state_new = opt.step(x, g if z is None else g + z, state, lr=lr, momentum=mom)
        return x_new, state_new, g

    return step_loop(advance, x, opt.init(x), opt.velocity, n, every, opt.has_velocity, tol, start=start,
                     value=problem.value, t0=0.0, step=1.0, method=opt.name)
