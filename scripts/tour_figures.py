"""The figures of heavyball tour
=============================

The five figures of ``heavyball tour``, written without the rest of the tour.

The same functions the tour calls: the phase portrait of three integrators,
GD / heavy ball / Nesterov in the ravine (paths and convergence), the
analytic and simulated rate heat-maps of heavy ball on diag(1, 100), and the
regime map. ``docs/plotting.md`` embeds them (``--out docs/figures``).

    python scripts/tour_figures.py [--out DIR] [--quick]
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heavyball import tour  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the figures (default .)")
    parser.add_argument("--quick", action="store_true", help="coarser heat-map grid")
    args = parser.parse_args(argv)
    paths = tour.figures(args.out, quick=args.quick)
    for p in paths:
        print(f"wrote {p}")
    return paths


if __name__ == "__main__":
    main()
