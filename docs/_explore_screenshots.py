"""Screenshots of ``heavyball explore`` for docs/explore.md, taken by headless Chromium.

Starts the explorer (``python -m heavyball explore --no-browser``) on a free port, opens each
view below by its URL query in headless Chromium (Selenium) and saves the page as
``explore-<name>.png``. Needs the extras ``explore`` and ``test`` (Selenium) and Debian's
``chromium`` and ``chromium-driver``.

    python docs/_explore_screenshots.py [--out DIR] [--quick]
"""

import argparse
import signal
import sys
import time
from pathlib import Path

try:
    import heavyball  # noqa: F401
except ImportError:  # run from a clone without installing it: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heavyball.explore._browser import chromium, open_page, start_server, text, wait_for  # noqa: E402

#: name -> (URL query, what it shows)
VIEWS = {
    "optimal": ("problem=quadratic&kappa=100&method=heavy_ball&lr=0.0330578&momentum=0.669421&x0=1,1",
                "heavy ball at its optimal tuning on kappa = 100 (the issue's link)"),
    "distill": ("problem=quadratic&kappa=100&method=heavy_ball&lr=0.039&momentum=0.99&x0=1,1&n_steps=600",
                "momentum 0.99 with lr near 2/L: slow ripples at sqrt(0.99) per step"),
    "rosenbrock": ("problem=rosenbrock&method=nesterov&lr=0.0015&momentum=0.9&n_steps=1500",
                   "Nesterov on Rosenbrock (no spectral radius: not a quadratic)"),
    "physical": ("problem=double_well&method=conformal_symplectic_euler&mass=1&friction=0.4&step=0.1&n_steps=800",
                 "the damped particle in the double well, set by mass, friction and step"),
    "bad-query": ("problem=quadratic&lr=abc", "a bad query: the message, over the default view"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG files (default docs/figures)")
    parser.add_argument("--quick", action="store_true", help="one view only")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc, url = start_server()
    driver = chromium(1400, 1250)
    try:
        for name, (query, _) in list(VIEWS.items())[: 1 if args.quick else None]:
            open_page(driver, url + "?" + query)
            if name == "bad-query":
                wait_for(lambda: text(driver, "hb-error"), what="the message")
            time.sleep(1.0)  # let every figure finish its first paint
            path = out / f"explore-{name}.png"
            driver.save_screenshot(str(path))
            print(f"wrote {path}")
    finally:
        driver.quit()
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


if __name__ == "__main__":
    main()
