"""The ``heavyball`` command line (also ``python -m heavyball``).

Built on :mod:`argparse` from the standard library: subcommands, typed flags
and ``--help`` are all it needs, and it adds no dependency. Each subcommand
computes a plain dict (in :mod:`heavyball.cli._commands`), then prints it as a
short text report or, with ``--json``, as exactly one JSON object on stdout
(non-finite numbers become ``null``).

Every failure prints exactly one line on stderr and exits with code 2: a bad
argument, a ``ValueError``/``TypeError`` raised by the library (a parameter
named ```n_steps``` in it is shown as its flag ```--n-steps```), a file that
cannot be written (every output path is checked before any computation), an
overflow or running out of memory. Any other exception is a bug: one line
asking to report it, or the full traceback when the environment variable
``HEAVYBALL_DEBUG`` is set.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys

import numpy as np

from .._methods import SGD_METHODS
from . import _commands as _c

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line on stderr and exits 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


# ------------------------------------------------------------------ argument types
#: Largest NUM of a ``START:STOP:NUM`` grid.
MAX_GRID_NUM = 1_000_000


def _finite(text):
    """A finite float (``nan`` and ``inf`` are refused by argparse with the flag named)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _floats(text):
    """``A,B,...`` -> list of floats (the ``--x0`` format)."""
    try:
        values = [float(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 1.0,-0.5, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def _grid(text):
    """``START:STOP:NUM`` -> ``numpy.linspace(START, STOP, NUM)``; ``log:START:STOP:NUM`` -> geomspace."""
    parts = text.split(":")
    log = parts[0] == "log"
    if log:
        parts = parts[1:]
    try:
        start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise IndexError
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"expected START:STOP:NUM (or log:START:STOP:NUM), got {text!r}") from None
    if not (1 <= num <= MAX_GRID_NUM) or not (math.isfinite(start) and math.isfinite(stop)):
        raise argparse.ArgumentTypeError(f"expected finite START, STOP and 1 <= NUM <= {MAX_GRID_NUM}, got {text!r}")
    if log and not (start > 0 and stop > 0):
        raise argparse.ArgumentTypeError(f"a log grid needs START, STOP > 0, got {text!r}")
    return np.geomspace(start, stop, num) if log else np.linspace(start, stop, num)


# ------------------------------------------------------------------------ parser
def _problem_flags(p):
    names = _c.problem_names()
    p.add_argument("--problem", default="quadratic", choices=names, metavar="NAME",
                   help=f"loss landscape (default quadratic): {', '.join(names)}")
    p.add_argument("--kappa", type=_finite, help="condition number of --problem quadratic (default 10)")
    p.add_argument("--dim", type=int, help="dimension of --problem quadratic or plateau (default 2)")
    p.add_argument("--x0", type=_floats, help="starting point A,B,... (default: a standard start per problem)")


def _common(p, *, out_help=None):
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    if out_help:
        p.add_argument("--out", metavar="PATH", help=out_help)


def _build_parser():
    parser = _Parser(prog="heavyball", description="Gradient-based optimisation as a damped particle "
                     "m x'' = -grad L(x) - gamma x': integrators, the optimisers they are, spectra, sweeps.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("tour", help="reproduce the core results and write the figures",
                       description="Reproduce the library's core results: rate table, map check, "
                       "integrators against solve_ivp, and the figures.")
    t.add_argument("--out", default="heavyball-tour", metavar="DIR", help="directory for the figures "
                   "(default ./heavyball-tour)")
    t.add_argument("--quick", action="store_true", help="fewer steps and smaller grids (about 3x faster)")
    t.add_argument("--json", action="store_true", help="print the tour's numbers as exactly one JSON object on "
                   "stdout (the figures are still written)")

    s = sub.add_parser("simulate", help="integrate the damped particle with a fixed-step scheme",
                       description="Integrate m x'' = -grad L(x) - gamma x' and report the final state "
                       "and the optimiser the scheme equals.")
    _problem_flags(s)
    s.add_argument("--method", default="symplectic_euler", choices=_c.integrator_names())
    s.add_argument("--mass", type=_finite, default=1.0, help="m >= 0 (default 1; 0 is gradient flow)")
    s.add_argument("--friction", type=_finite, default=1.0, help="gamma >= 0 (default 1)")
    s.add_argument("--step", type=_finite, default=0.1, help="time step h > 0 (default 0.1)")
    s.add_argument("--n-steps", type=int, default=1000, help="number of steps (default 1000)")
    s.add_argument("--tol", type=_finite, help="stop once the gradient and the move are below tol")
    _common(s, out_help="save the trajectory (t, x, v, loss) to this .npz file")

    o = sub.add_parser("optimize", help="run an optimiser with framework-exact semantics",
                       description="Run GD, SGD (PyTorch), Keras SGD, EMA momentum or Adam and report "
                       "the final iterate and the damped particle it is.")
    _problem_flags(o)
    o.add_argument("--optimizer", default="sgd", choices=_c.OPTIMIZERS, help="default sgd (torch.optim.SGD)")
    o.add_argument("--lr", type=_finite, default=0.01, help="learning rate (default 0.01)")
    o.add_argument("--momentum", type=_finite, default=0.0, help="momentum beta (default 0; Adam: beta1)")
    o.add_argument("--dampening", type=_finite, default=0.0, help="PyTorch dampening (sgd only)")
    o.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd, keras)")
    o.add_argument("--n-steps", type=int, default=1000, help="number of steps (default 1000)")
    o.add_argument("--tol", type=_finite, help="stop once the gradient and the move are below tol")
    _common(o, out_help="save the trajectory (t, x, v, loss) to this .npz file")

    m = sub.add_parser("map", help="convert between (mass, friction, step) and (lr, momentum)",
                       description="With --lr: the particle (mass, friction, step) whose integrator is "
                       "the optimiser. With --step (and --mass, --friction): the optimiser the "
                       "integrator is.")
    m.add_argument("--optimizer", default="sgd", choices=("sgd", "keras", "ema", "gd"))
    m.add_argument("--lr", type=_finite, help="learning rate: map optimiser -> particle")
    m.add_argument("--momentum", type=_finite, default=0.0)
    m.add_argument("--dampening", type=_finite, default=0.0)
    m.add_argument("--nesterov", action="store_true")
    m.add_argument("--mass", type=_finite, default=None, help="mass m (the gauge; default 1)")
    m.add_argument("--friction", type=_finite, default=None, help="friction gamma: map particle -> optimiser")
    m.add_argument("--step", type=_finite, default=None, help="time step h: map particle -> optimiser")
    m.add_argument("--method", default=None, choices=_c.integrator_names(),
                   help="integrator (default symplectic_euler, or nesterov for --nesterov)")
    _common(m)

    sp = sub.add_parser("spectrum", help="optimal parameters and rates on a quadratic",
                        description="Optimal (lr, momentum) and contraction rates of GD, heavy ball and "
                        "Nesterov on a quadratic with eigenvalues in [mu, kappa mu]; with --lr, the "
                        "spectral radius and regimes at that point.")
    sp.add_argument("--kappa", type=_finite, default=100.0, help="condition number (default 100)")
    sp.add_argument("--mu", type=_finite, default=1.0, help="smallest eigenvalue (default 1)")
    sp.add_argument("--lr", type=_finite, help="also analyse this learning rate")
    sp.add_argument("--momentum", type=_finite, default=0.0, help="momentum for --lr (default 0)")
    sp.add_argument("--method", default="heavy_ball", choices=SGD_METHODS,
                    help="method for --lr (default heavy_ball)")
    sp.add_argument("--noise", type=_finite, default=None, metavar="SIGMA",
                    help="gradient noise std per coordinate: also print each tuning's loss floor")
    _common(sp)

    w = sub.add_parser("sweep", help="simulate a grid of (lr, momentum) and save it",
                       description="Run every (lr, momentum) of a grid from x0 at rest (Numba kernels) "
                       "and save the SweepResult to .npz (SweepResult.save); --plot draws the measured rate heat-map. "
                       "--scheduler or --workers run the grid on Dask.")
    _problem_flags(w)
    w.add_argument("--method", default="heavy_ball", choices=SGD_METHODS)
    w.add_argument("--lrs", type=_grid, required=True, metavar="START:STOP:NUM",
                   help="learning rates, linspace (prefix log: for geomspace)")
    w.add_argument("--momenta", type=_grid, default=np.array([0.0]), metavar="START:STOP:NUM",
                   help="momenta, linspace (default 0)")
    w.add_argument("--n-steps", type=int, default=500, help="steps per grid point (default 500)")
    w.add_argument("--tol", type=_finite, default=1e-8, help="relative distance counted as converged")
    w.add_argument("--backend", choices=("numba", "numpy", "dask"),
                   help="numba (default), numpy, or dask (implied by --scheduler and --workers)")
    w.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://10.0.0.5:8786 "
                   "(needs the dask extra)")
    w.add_argument("--workers", type=int, metavar="N",
                   help="run on a Dask LocalCluster of N worker processes, shut down at the end (needs the dask extra)")
    w.add_argument("--plot", metavar="PNG", help="also draw a heat-map of the result to this .png, .pdf or .svg file")
    w.add_argument("--plot-field", default="rate", choices=("rate", "steps_to_tol", "final_loss"),
                   help="what --plot draws (default rate; colour limits follow the data)")
    _common(w, out_help="write the SweepResult to this .npz file (default sweep.npz)")

    e = sub.add_parser("explore", help="a live explorer in the browser (needs the explore extra)",
                       description="Serve the interactive explorer (problem, method, lr/momentum or "
                       "mass/friction/step, x0, steps, noise) and print its URL; Ctrl-C stops it.")
    e.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    e.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    e.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


# ------------------------------------------------------------------------ output
def _jsonable(obj):
    """Plain JSON types; non-finite floats become None (JSON has no inf/nan)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _emit(result, as_json, text):
    if as_json:
        print(json.dumps(_jsonable(result)))
    else:
        print(text(result))


#: Exceptions that mean bad input or a bad environment: one line on stderr, exit 2.
EXPECTED = (ValueError, TypeError, OSError, OverflowError, MemoryError)


def main(argv=None):
    """Entry point; returns the process exit code (0, or 2 after one line on stderr)."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "explore":
            from ..explore._serve import serve

            return serve(args.port, args.host, not args.no_browser)
        if args.command == "tour":
            from . import tour

            if args.json:
                _emit(tour.run_data(args.out, quick=args.quick), True, None)
                return 0
            return tour.run(args.out, quick=args.quick)
        result = _c.RUNNERS[args.command](args)
        _emit(result, getattr(args, "json", False), _c.TEXT[args.command])
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except EXPECTED as exc:
        _fail(args, _describe(exc))
        return 2
    except Exception as exc:  # a bug: say so in one line, unless debugging
        if os.environ.get("HEAVYBALL_DEBUG"):
            raise
        _fail(args, f"unexpected {_describe(exc)} (this is a bug in heavyball: please report it with the command "
                    "line; set HEAVYBALL_DEBUG=1 to see the traceback)")
        return 2
    except KeyboardInterrupt:  # Ctrl-C: the compiled kernels return to Python often enough to get here
        print(f"heavyball {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


def _describe(exc):
    """One line for an exception: its message, with the file for an OSError and the type for a bare one."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename!r}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc or 'MemoryError'}); lower --n-steps, --dim or the grid"
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, TypeError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fail(args, message):
    flags = {name for name in vars(args) if name not in ("command", "json")}
    message = re.sub(r"`([a-z][a-z0-9_]*)`", lambda m: f"`--{m.group(1).replace('_', '-')}`"
                     if m.group(1) in flags else m.group(0), message)
    print(f"heavyball {args.command}: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
