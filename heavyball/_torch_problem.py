r"""A PyTorch model and its data as a heavyball problem (:class:`TorchProblem`).

``x`` is the model's parameter vector, ``parameters_to_vector(model.parameters())``
in float64, and the loss is ``L(x) = loss_fn(model_x(inputs), targets)``; its value
and gradient come from autograd. PyTorch is imported only when a
:class:`TorchProblem` is made, so ``import heavyball`` never needs it.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

from . import _validation as _v
from ._problem import Problem

__all__ = ["TorchProblem"]

#: Full-batch losses remembered from gradient evaluations (see ``TorchProblem.value``).
_LOSS_CACHE_SIZE = 1 << 18


def _import_torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("TorchProblem needs PyTorch: pip install 'heavyball-dynamics[frameworks]'") from None
    return torch


class TorchProblem(Problem):
    r"""A PyTorch model trained on fixed data, as a problem ``L(x)``.

    Parameters
    ----------
    model : torch.nn.Module
        A float64 CPU module with at least one parameter, all of them with
        ``requires_grad=True`` (call ``model.double()`` first). Its parameters
        are never changed: see Notes.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``, e.g.
        ``torch.nn.functional.cross_entropy`` (mean reduction: a minibatch
        then gives the minibatch mean).
    inputs, targets : torch.Tensor
        The data, with the same first dimension ``n`` (the samples); floating
        point inputs must be float64.
    batch_size : int in [1, n], optional
        Minibatch size used by ``optimize(..., stochastic=True)``; None means
        the full batch.
    seed : int >= 0
        Seed of the minibatch order (see :meth:`batch`).

    Attributes
    ----------
    dim : int
        Number of parameters.
    n_samples : int
    x0 : ndarray, shape (dim,)
        The model's parameters when the problem was made (a copy).

    Notes
    -----
    ``value(x)`` and ``grad(x)`` accept ``x`` of shape ``(dim,)`` or
    ``(..., dim)``; a batch of points is evaluated one point after another
    (one forward, and one backward for ``grad``, per point). For each call the
    model's parameters are pointed at ``x`` without copying (as
    ``torch.nn.utils.vector_to_parameters`` does, ``param.data = view``) and
    restored afterwards, also on error: after any call the model holds the
    parameters it had before, and ``param.grad`` is untouched. A parameter
    the forward does not use gets a zero gradient (PyTorch's optimisers skip
    such a parameter, weight decay included).

    Buffers (BatchNorm statistics) are not part of ``x``; a module in training
    mode may update them on every forward, so prefer models without buffers
    or call ``model.eval()`` (also for dropout, which makes the loss random).

    With ``batch_size = B``, step ``k`` of ``optimize(..., stochastic=True)``
    uses the gradient of ``loss_fn(model_x(inputs[i]), targets[i])`` for
    ``i = batch(k)``: epochs of ``n // B`` minibatches (the last ``n mod B``
    samples of each epoch's shuffle are dropped, as with ``drop_last=True``),
    epoch ``e`` shuffled by
    ``numpy.random.default_rng([seed, e]).permutation(n)``. The batches depend
    on the problem's ``seed`` only, not on the ``rng`` that ``optimize`` passes
    to :meth:`stochastic_grad`, so a plain PyTorch loop replays them with
    ``inputs[problem.batch(k)]``.

    ``Trajectory.loss`` is always the full-data loss. Each full-batch
    gradient evaluation remembers its loss (keyed by a 128-bit BLAKE2 digest
    of ``x``), so ``value`` at an iterate where the gradient was taken costs
    no second forward pass; it is the same number a fresh forward gives.

    References
    ----------
    .. [1] PyTorch documentation: ``torch.nn.utils.parameters_to_vector`` and
       ``vector_to_parameters`` (the layout of ``x``), ``torch.autograd.grad``,
       and ``torch.utils.data.DataLoader`` (``drop_last``).

    Examples
    --------
    >>> import torch
    >>> import heavyball as hb
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Linear(3, 1).double()
    >>> X, y = torch.randn(20, 3, dtype=torch.float64), torch.randn(20, 1, dtype=torch.float64)
    >>> problem = hb.problems.TorchProblem(model, torch.nn.functional.mse_loss, X, y)
    >>> problem.dim
    4
    >>> traj = hb.optimize(problem, hb.SGD(0.1, momentum=0.9), problem.x0, n_steps=100)
    >>> bool(traj.loss[-1] < traj.loss[0])
    True
    """

    name = "torch"

    def __init__(self, model, loss_fn, inputs, targets, *, batch_size=None, seed=0):
        torch = self._torch = _import_torch()
        self._params_list = _check_model(torch, model)
        if not callable(loss_fn):
            raise TypeError(f"`loss_fn` must be callable, e.g. torch.nn.functional.mse_loss; got {loss_fn!r}")
        self.inputs, self.targets = _check_data(torch, inputs, targets)
        self.model, self.loss_fn = model, loss_fn
        self.n_samples = int(inputs.shape[0])
        if batch_size is not None:
            batch_size = _v.integer("batch_size", batch_size, low=1)
            if batch_size > self.n_samples:
                raise ValueError(f"`batch_size` must be in [1, {self.n_samples}] (the number of samples), "
                                 f"got {batch_size}")
        self.batch_size = batch_size
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._shapes = [p.shape for p in self._params_list]
        self._sizes = [p.numel() for p in self._params_list]
        self.dim = int(sum(self._sizes))
        with torch.no_grad():
            vec = torch.nn.utils.parameters_to_vector(self._params_list)
        self.x0 = vec.numpy().copy()
        self.minimizer, self.min_value = None, None
        self._losses = {}
        self._epoch, self._perm = None, None

    # ------------------------------------------------------------------ batches
    def batch(self, k):
        """Indices of the samples step ``k`` of ``optimize(..., stochastic=True)`` uses.

        Parameters
        ----------
        k : int >= 0
            The step.

        Returns
        -------
        ndarray of int64, shape (batch_size,)
            Sample indices; ``arange(n)`` without a ``batch_size``.

        Raises
        ------
        ValueError
            If ``k`` is not an integer ``>= 0``.

        Notes
        -----
        Epoch ``e = k // (n // B)`` is the permutation
        ``numpy.random.default_rng([seed, e]).permutation(n)``, and step ``k``
        takes its slice ``j B .. (j + 1) B`` with ``j = k mod (n // B)``; the last
        ``n mod B`` samples of each permutation are dropped (``drop_last=True``).

        Examples
        --------
        >>> import torch, heavyball as hb
        >>> model = torch.nn.Linear(2, 1).double()
        >>> X, y = torch.zeros(10, 2, dtype=torch.float64), torch.zeros(10, 1, dtype=torch.float64)
        >>> p = hb.TorchProblem(model, torch.nn.functional.mse_loss, X, y, batch_size=4, seed=1)
        >>> len(p.batch(0)), len(set(p.batch(0)) | set(p.batch(1)))  # two disjoint batches per epoch
        (4, 8)
        """
        k = _v.integer("k", k, low=0)
        if self.batch_size is None:
            return np.arange(self.n_samples)
        per_epoch = self.n_samples // self.batch_size
        epoch, j = divmod(k, per_epoch)
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n_samples)
            self._epoch = epoch
        return self._perm[j * self.batch_size:(j + 1) * self.batch_size].copy()

    def stochastic_grad(self, x, k, rng=None):
        """Gradient of the minibatch loss on the samples :meth:`batch` ``(k)``.

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            Parameter vector(s); every point is evaluated on the same minibatch.
        k : int >= 0
            The step, which selects the minibatch.
        rng : numpy.random.Generator, optional
            Not used: the batches depend on the problem's ``seed`` only (the
            argument is there for the ``stochastic_grad(x, k, rng)`` protocol).

        Returns
        -------
        ndarray, same shape as ``x``
            ``grad_x loss_fn(model_x(inputs[i]), targets[i])`` for ``i = batch(k)``;
            the full-data gradient when ``batch_size`` is None.

        Notes
        -----
        One forward and one backward pass per point, on the selected rows of
        ``inputs`` and ``targets``; the model's parameters are restored afterwards.

        Examples
        --------
        >>> import numpy as np, torch, heavyball as hb
        >>> model = torch.nn.Linear(1, 1, bias=False).double()
        >>> X = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
        >>> p = hb.TorchProblem(model, torch.nn.functional.mse_loss, X, 2 * X, batch_size=1)
        >>> sorted(float(p.stochastic_grad([0.0], k, None)[0]) for k in (0, 1))  # 2 x_i (w x_i - y_i)
        [-16.0, -4.0]
        """
        x = _v.points("x", x, self.dim)
        if self.batch_size is None:
            return self.grad(x)
        idx = self._torch.from_numpy(self.batch(k))
        data = (self.inputs.index_select(0, idx), self.targets.index_select(0, idx))
        return self._map(lambda p: self._loss_grad(p, data)[1], x, (self.dim,))

    # ------------------------------------------------------------------ value / grad
    def _value(self, x):
        return self._map(self._full_value, x, ())

    def _grad(self, x):
        return self._map(self._full_grad, x, (self.dim,))

    def _hessian(self, x):
        return self._map(self._full_hessian, x, (self.dim, self.dim))

    def value(self, x):
        """Full-data loss ``L(x)``: a float for ``x`` of shape ``(dim,)``, else shape ``(...)``.

        Parameters
        ----------
        x : array_like, shape (dim,) or (..., dim)
            Parameter vector(s).

        Returns
        -------
        float or ndarray, shape (...)
            ``loss_fn(model_x(inputs), targets)`` at each point.

        Notes
        -----
        At a point where the full-batch gradient was taken the loss remembered
        then is returned (no second forward pass; the same number).

        Examples
        --------
        >>> import torch, heavyball as hb
        >>> model = torch.nn.Linear(1, 1, bias=False).double()
        >>> X = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
        >>> p = hb.TorchProblem(model, torch.nn.functional.mse_loss, X, 2 * X)
        >>> p.value([0.0]), p.value([[2.0], [1.0]])  # mean((w x_i - 2 x_i)^2)
        (10.0, array([0. , 2.5]))
        """
        out = super().value(x)
        return float(out) if out.ndim == 0 else out

    def _map(self, fn, x, trailing):
        if x.ndim == 1:
            return np.asarray(fn(x), dtype=np.float64)
        flat = x.reshape(-1, self.dim)
        out = np.empty((len(flat),) + trailing)
        for i, p in enumerate(flat):
            out[i] = fn(p)
        return out.reshape(x.shape[:-1] + trailing)

    def _full_value(self, x):
        key = _digest(x)
        if key in self._losses:
            return self._losses[key]
        torch = self._torch
        with torch.no_grad(), self._at(x):
            return float(self.loss_fn(self.model(self.inputs), self.targets))

    def _full_grad(self, x):
        loss, g = self._loss_grad(x, (self.inputs, self.targets))
        if len(self._losses) >= _LOSS_CACHE_SIZE:
            self._losses.clear()
        self._losses[_digest(x)] = loss
        return g

    def _loss_grad(self, x, data):
        """``(loss, grad)`` on ``data = (inputs, targets)``: one forward, one backward."""
        torch = self._torch
        with torch.enable_grad(), self._at(x):
            loss = self.loss_fn(self.model(data[0]), data[1])
            grads = torch.autograd.grad(loss, self._params_list, allow_unused=True)
        out = np.empty(self.dim)
        start = 0
        for g, size in zip(grads, self._sizes):
            out[start:start + size] = 0.0 if g is None else g.reshape(-1).numpy()
            start += size
        return loss.item(), out

    def _full_hessian(self, x):
        torch = self._torch

        def loss_of(vec):
            views = dict(zip(self._names(), self._views(vec)))
            out = torch.func.functional_call(self.model, views, (self.inputs,))
            return self.loss_fn(out, self.targets)

        return torch.autograd.functional.hessian(loss_of, torch.tensor(x)).numpy()

    # ------------------------------------------------------------------ parameters at x
    def _views(self, vec):
        return [c.view(s) for c, s in zip(self._torch.split(vec, self._sizes), self._shapes)]

    def _names(self):
        ids = {id(p): name for name, p in self.model.named_parameters()}
        return [ids[id(p)] for p in self._params_list]

    def _at(self, x):
        return _ParametersAt(self, x)

    def _params(self):
        return {"model": type(self.model).__name__, "n_samples": self.n_samples,
                "batch_size": self.batch_size, "seed": self.seed}


class _ParametersAt:
    """Context: the model's parameters are views of ``x``; the old ones come back on exit."""

    def __init__(self, problem, x):
        self.problem = problem
        x = np.ascontiguousarray(x, dtype=np.float64)
        self.vec = problem._torch.from_numpy(x if x.flags.writeable else x.copy())

    def __enter__(self):
        params = self.problem._params_list
        self.saved = [p.data for p in params]
        for p, view in zip(params, self.problem._views(self.vec)):
            p.data = view
        return self

    def __exit__(self, *exc):
        for p, data in zip(self.problem._params_list, self.saved):
            p.data = data
        return False


def _digest(x):
    return hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).digest()


def _check_model(torch, model):
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    params = list(model.parameters())
    if not params:
        raise ValueError("`model` must have at least one parameter (model.parameters() is empty)")
    for name, p in model.named_parameters():
        if p.dtype != torch.float64:
            raise TypeError(f"`model` parameters must be float64 (call model.double()); {name!r} is {p.dtype}")
        if p.device.type != "cpu":
            raise ValueError(f"`model` parameters must be on the CPU; {name!r} is on {p.device}")
        if not p.requires_grad:
            raise ValueError(f"`model` parameter {name!r} has requires_grad=False; every parameter is part of x")
    return params


def _check_data(torch, inputs, targets):
    for name, t in (("inputs", inputs), ("targets", targets)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"`{name}` must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0 or t.shape[0] == 0:
            raise ValueError(f"`{name}` must have a non-empty first (sample) dimension, got shape {tuple(t.shape)}")
        if t.device.type != "cpu":
            raise ValueError(f"`{name}` must be on the CPU, got {t.device}")
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"`inputs` and `targets` must have the same first dimension (samples), "
                         f"got {inputs.shape[0]} and {targets.shape[0]}")
    if inputs.is_floating_point() and inputs.dtype != torch.float64:
        raise TypeError(f"`inputs` must be float64 like the model (inputs.double()), got {inputs.dtype}")
    return inputs.contiguous(), targets.contiguous()
