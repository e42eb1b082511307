"""The explorer's state: one frozen dataclass, parsed from and written to a URL query.

Everything the page shows is a function of an :class:`ExploreState`; the
widgets only edit it. The query string is the state's only serialised form,
so a link reproduces a view. Nothing in a query is evaluated: numbers are
parsed with :func:`float` / :func:`int`, names are checked against fixed
lists (problem names come from :func:`heavyball.problems.names`).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from urllib.parse import parse_qsl, urlencode

from .. import problems as _problems
from .._methods import SGD_METHODS

#: Methods of the explorer: three optimisers (run by :func:`heavyball.optimize`)
#: and the fixed-step integrators of the damped particle (run by :func:`heavyball.integrate`).
OPTIMIZER_METHODS = SGD_METHODS
INTEGRATOR_METHODS = ("symplectic_euler", "conformal_symplectic_euler", "implicit_friction_euler", "explicit_euler")
METHODS = OPTIMIZER_METHODS + INTEGRATOR_METHODS

#: Problem constructor arguments not offered as controls (sizes, data seeds, non-scalars).
HIDDEN_PARAMS = ("dim", "seed", "n_samples", "batch_size")

#: Starting points (the CLI's) where ``(1, ..., 1)`` is a poor start.
DEFAULT_X0 = {"rosenbrock": (-1.2, 1.0), "double_well": (1.4, 0.5), "saddle": (1.0, 1e-3), "lessard": (3.3,),
              "sharp_flat": (2.5,)}

MAX_STEPS = 20_000
MAX_SEED = 2**32 - 1


class QueryError(ValueError):
    """A bad query value; ``field`` is the query key it came from."""

    def __init__(self, field, message):
        super().__init__(f"`{field}`: {message}")
        self.field = field


def problem_parameters(name):
    """``{parameter: default}`` of the scalar numeric parameters of problem ``name`` (the controls)."""
    if name not in _problems.names():
        raise QueryError("problem", f"unknown problem {name!r}; one of {', '.join(_problems.names())}")
    out = {}
    for p in inspect.signature(_problems.factory(name)).parameters.values():
        default = 100.0 if (name, p.name) == ("quadratic", "kappa") else p.default
        if p.name in HIDDEN_PARAMS or (name, p.name) == ("quadratic", "c") or isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        out[p.name] = default
    return out


@dataclasses.dataclass(frozen=True)
class ExploreState:
    """One view of the explorer (the whole URL query).

    ``param`` says which parametrisation the user set: ``"optimizer"`` (``lr``,
    ``momentum``; ``mass`` is the gauge of the map to the particle) or
    ``"physical"`` (``mass``, ``friction``, ``step``); the other one is derived
    by :func:`heavyball.to_physical` / :func:`heavyball.to_optimizer`.
    ``x0=None`` is the problem's standard start.
    """

    problem: str = "quadratic"
    params: tuple = (("kappa", 100.0),)
    method: str = "heavy_ball"
    param: str = "optimizer"
    lr: float = 0.03
    momentum: float = 0.6
    mass: float = 1.0
    friction: float = 1.0
    step: float = 0.1
    x0: tuple | None = None
    n_steps: int = 200
    noise: float = 0.0
    seed: int = 0

    def problem_kwargs(self):
        return dict(self.params)

    def replace(self, **changes):
        """A new state with ``changes`` (checked as a query would be)."""
        return from_query(to_query(dataclasses.replace(self, **changes)))

    def start(self, dim):
        if self.x0 is not None:
            return tuple(self.x0)
        if self.problem == "sparse_least_squares":  # its minimiser is (1, ..., 1)
            return (0.0,) * dim
        return DEFAULT_X0.get(self.problem, (1.0,) * dim)


def _number(field, text, *, integral=False, low=None, high=None, low_open=False):
    try:
        value = int(text) if integral else float(text)
    except (TypeError, ValueError):
        kind = "an integer" if integral else "a number"
        raise QueryError(field, f"expected {kind}, got {text!r}") from None
    if not integral and not math.isfinite(value):
        raise QueryError(field, f"expected a finite number, got {text!r}")
    below = value <= low if low_open else value < low if low is not None else False
    if below or (high is not None and value > high):
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" <= {high}"
        raise QueryError(field, f"must satisfy {lo}{field}{hi}, got {text!r}")
    return value


def _choice(field, text, allowed):
    if text not in allowed:
        raise QueryError(field, f"expected one of {', '.join(allowed)}, got {text!r}")
    return text


def _x0(text):
    parts = text.split(",")
    values = tuple(_number("x0", s.strip()) for s in parts)
    if any(abs(v) > 1e6 for v in values):
        raise QueryError("x0", f"coordinates must lie in [-1e6, 1e6], got {text!r}")
    return values


def from_query(query):
    """Parse a URL query (a string, with or without ``?``, or a mapping) into an :class:`ExploreState`.

    Raises
    ------
    QueryError
        (a ``ValueError``) whose message starts with the offending key in
        backquotes, e.g. ``\\`lr\\`: expected a number, got 'abc'``.

    Examples
    --------
    >>> s = from_query("problem=quadratic&kappa=100&method=heavy_ball&lr=0.0330578&momentum=0.669421&x0=1,1")
    >>> s.problem, s.params, s.lr, s.x0
    ('quadratic', (('kappa', 100.0),), 0.0330578, (1.0, 1.0))
    >>> from_query(to_query(s)) == s
    True
    """
    if isinstance(query, str):
        items = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    else:
        items = list(query.items())
    raw = {}
    for key, value in items:
        if key in raw:
            raise QueryError(key, "given twice")
        raw[key] = value
    return _build(raw)


def _build(raw):
    raw = dict(raw)
    name = _choice("problem", raw.pop("problem", "quadratic"), _problems.names())
    defaults = problem_parameters(name)
    params = []
    for key, default in defaults.items():
        if key in raw:
            params.append((key, _number(key, raw.pop(key), integral=isinstance(default, int))))
        elif name == "quadratic" and key == "kappa":
            params.append((key, default))
    method = _choice("method", raw.pop("method", "heavy_ball"), METHODS)
    fields = {"problem": name, "params": tuple(params), "method": method}
    physical = [k for k in ("friction", "step") if k in raw]  # mass alone is the gauge of lr/momentum
    if physical and any(k in raw for k in ("lr", "momentum")):
        raise QueryError(physical[0], "give either lr and momentum or mass, friction and step, not both")
    fields["param"] = "physical" if physical else "optimizer"
    if "lr" in raw:
        fields["lr"] = _number("lr", raw.pop("lr"), low=0.0, low_open=True)
    if "momentum" in raw:
        fields["momentum"] = _number("momentum", raw.pop("momentum"), low=0.0, high=0.999999)
    if method == "gd" and fields.get("momentum", 0.0) != 0.0:
        raise QueryError("momentum", f"method gd has no momentum, got {fields['momentum']!r}")
    if "mass" in raw:
        fields["mass"] = _number("mass", raw.pop("mass"), low=0.0)
    if "friction" in raw:
        fields["friction"] = _number("friction", raw.pop("friction"), low=0.0, low_open=True)
    if "step" in raw:
        fields["step"] = _number("step", raw.pop("step"), low=0.0, low_open=True)
    if "x0" in raw:
        fields["x0"] = _x0(raw.pop("x0"))
    if "n_steps" in raw:
        fields["n_steps"] = _number("n_steps", raw.pop("n_steps"), integral=True, low=1, high=MAX_STEPS)
    if "noise" in raw:
        fields["noise"] = _number("noise", raw.pop("noise"), low=0.0, high=1e3)
    if "seed" in raw:
        fields["seed"] = _number("seed", raw.pop("seed"), integral=True, low=0, high=MAX_SEED)
    if raw:
        key = sorted(raw)[0]
        raise QueryError(key, f"unknown query key; known keys: problem, {', '.join(defaults) + ', ' if defaults else ''}"
                         "method, lr, momentum, mass, friction, step, x0, n_steps, noise, seed")
    if method == "gd" and "momentum" not in fields:
        fields["momentum"] = 0.0
    state = ExploreState(**fields)
    _check(state)
    return state


def _check(state):
    """Checks that need the problem: its parameters (by the problem's constructor) and the dimension of x0."""
    try:
        problem = _problems.get(state.problem, **state.problem_kwargs())
    except (ValueError, TypeError) as exc:
        field = next((k for k, _ in state.params if f"`{k}`" in str(exc) or k in str(exc)), "problem")
        raise QueryError(field, str(exc)) from None
    if state.x0 is not None and len(state.x0) != problem.dim:
        raise QueryError("x0", f"problem {state.problem} has {problem.dim} coordinates, got {len(state.x0)}")


def _fmt(value):
    return repr(float(value)) if isinstance(value, float) else str(value)


def to_query(state):
    """The URL query (without ``?``) that :func:`from_query` turns back into ``state``.

    Only the parametrisation the user set is written (``lr``/``momentum`` or
    ``mass``/``friction``/``step``); ``mass`` is written in both, being the
    gauge of the map. Floats are written with :func:`repr`, so the round trip is exact.
    """
    items = [("problem", state.problem), *[(k, _fmt(v)) for k, v in state.params], ("method", state.method)]
    if state.param == "physical":
        items += [("mass", _fmt(state.mass)), ("friction", _fmt(state.friction)), ("step", _fmt(state.step))]
    else:
        items += [("lr", _fmt(state.lr))]
        if state.method != "gd":
            items += [("momentum", _fmt(state.momentum))]
        if state.mass != 1.0:
            items += [("mass", _fmt(state.mass))]
    if state.x0 is not None:
        items.append(("x0", ",".join(_fmt(float(v)) for v in state.x0)))
    items += [("n_steps", str(state.n_steps)), ("noise", _fmt(state.noise)), ("seed", str(state.seed))]
    return urlencode(items, safe=",")
