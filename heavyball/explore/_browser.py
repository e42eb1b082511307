"""Headless Chromium for the explorer's browser tests, benchmark and screenshots (Selenium).

Not used by the app itself. Needs ``selenium`` (extra ``test``) and Debian's ``chromium`` and
``chromium-driver``. The flags keep Chromium off the network except for the page itself.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")

#: Text of every element with a CSS class, through Panel's shadow roots.
TEXT_JS = """
const cls = arguments[0];
function walk(n, out) { if (n.shadowRoot) walk(n.shadowRoot, out);
  for (const c of n.children || []) walk(c, out);
  if (n.classList && n.classList.contains(cls)) out.push(n.textContent); }
const out = []; walk(document.documentElement, out); return out.join('\\n');
"""

#: Set the value of the slider titled arguments[0] in the page (travels to the server like a drag).
SET_SLIDER_JS = """
for (const m of Bokeh.documents[0].all_models) {
  if (m.type === 'Slider' && m.title === arguments[0]) { m.value = arguments[1]; return true; } }
return false;
"""


def binaries():
    """``(chromium, chromedriver)`` paths, or None where either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port=None):
    """``(process, url)`` of ``python -m heavyball explore --no-browser`` on a free port."""
    port = port or free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "heavyball", "explore", "--no-browser", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = proc.stdout.readline()  # "heavyball explore: serving http://127.0.0.1:P/ (Ctrl-C to stop)"
    url = re.search(r"http://\S+/", line)
    if not url:
        proc.kill()
        raise RuntimeError(f"no URL from the server: {line!r} {proc.stderr.read()}")
    return proc, url.group(0)


def chromium(width=1400, height=1400):
    """A headless Chromium driven by Selenium, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = binaries()
    if paths is None:
        raise RuntimeError("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = paths[0]
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='hb-chromium-')}",
                 f"--window-size={width},{height}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(paths[1]), options=opts)


def text(driver, cls="hb-status"):
    return driver.execute_script(TEXT_JS, cls)


def wait_for(predicate, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def open_page(driver, url):
    """Load ``url`` and wait for the explorer's status text; returns it."""
    driver.get(url)
    return wait_for(lambda: text(driver), what="the status text")
