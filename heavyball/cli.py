"""The ``heavyball`` command line (also ``python -m heavyball``).

argparse from the standard library: subcommands, ``--help`` and typed flags
are all it needs, and it adds no dependency.
"""

from __future__ import annotations

import argparse
import sys

from . import tour as _tour


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line on stderr and exits 2."""

    def error(self, message):
        self.exit(2, f"heavyball: error: {message}\n")


def _build_parser():
    parser = _Parser(prog="heavyball", description="Gradient descent as a damped particle.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("tour", help="reproduce the core results")
    t.add_argument("--out", default="heavyball-tour", help="directory for figures (default ./heavyball-tour)")
    t.add_argument("--quick", action="store_true", help="fewer steps")
    return parser


def _run_tour(args):
    n = 500 if args.quick else 2000
    print("heavyball tour: each integrator is an optimiser (Rosenbrock, "
          f"{n} steps, max deviation relative to the iterate scale)")
    for row in _tour.map_check(n_steps=n):
        torch_dev = row.get("torch_deviation")
        torch_txt = "torch n/a" if torch_dev is None else f"torch {torch_dev:.1e}"
        print(f"  {row['method']:<32} = {row['optimizer']:<60} heavyball {row['max_deviation']:.1e}  {torch_txt}")
    print("\nintegrators against solve_ivp (DOP853, rtol 1e-10) on a double well, t = 2:")
    for row in _tour.reference_check():
        errs = "  ".join(f"h={h:g}: {e:.2e}" for h, e in zip(row["steps"], row["errors"]))
        orders = ", ".join(f"{o:.2f}" for o in row["orders"])
        print(f"  {row['method']:<32} {errs}   observed order {orders}")
    return 0


def main(argv=None):
    """Entry point; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "tour":
            return _run_tour(args)
    except ValueError as exc:
        print(f"heavyball: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
