"""heavyball explore in a real headless browser (Chromium + Selenium): marker ``browser``.

One server (``python -m heavyball explore --no-browser --port P``) and one browser serve the
whole module. The page is driven through its Bokeh document (a slider's model value set in
the page travels to the server exactly as a drag does) and read from what the page holds
(the status text inside Panel's shadow DOM, the trajectory's data source, ``location.search``).
Skipped where Panel, Selenium or Chromium/chromedriver are missing.
"""

import re
import signal
import subprocess
import time
import urllib.request

import numpy as np
import pytest

import heavyball as hb

pytest.importorskip("panel")
pytest.importorskip("selenium.webdriver")

from heavyball.explore._browser import SET_SLIDER_JS as SET_JS  # noqa: E402
from heavyball.explore._browser import binaries, chromium, open_page, start_server, text, wait_for  # noqa: E402

pytestmark = pytest.mark.browser

if binaries() is None:
    pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)", allow_module_level=True)

ISSUE_QUERY = "problem=quadratic&kappa=100&method=heavy_ball&lr=0.0330578&momentum=0.669421&x0=1,1"
LAM = np.array([1.0, 100.0])
TRAJ_JS = "const s = Bokeh.documents[0].get_model_by_name('trajectory'); return s ? Array.from(s.data.x) : null;"


@pytest.fixture(scope="module")
def server():
    proc, url = start_server()
    yield url
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def driver():
    d = chromium()
    yield d
    d.quit()


def radius_in(status):
    m = re.search(r"rho = ([0-9.eE+-]+)", status)
    return float(m.group(1)) if m else None


def test_query_url_shows_radius_and_torch_call(server, driver):
    status = open_page(driver, server + "?" + ISSUE_QUERY)
    assert radius_in(status) == pytest.approx(hb.spectral.spectral_radius(LAM, 0.0330578, 0.669421), rel=1e-11)
    assert "torch.optim.SGD(params, lr=0.0330578, momentum=0.669421)" in status
    assert "keras.optimizers.SGD(learning_rate=0.0330578, momentum=0.669421)" in status


def test_slider_move_redraws_trajectory_and_rate(server, driver):
    open_page(driver, server + "?" + ISSUE_QUERY)
    before = driver.execute_script(TRAJ_JS)
    assert driver.execute_script(SET_JS, "lr", 0.02)
    want = hb.spectral.spectral_radius(LAM, 0.02, 0.669421)
    wait_for(lambda: radius_in(text(driver)) == pytest.approx(want, rel=1e-11), what="the new spectral radius")
    after = wait_for(lambda: (lambda x: x if x != before else None)(driver.execute_script(TRAJ_JS)),
                     what="the new trajectory")
    ref = hb.optimize(hb.Quadratic.from_condition_number(100.0), hb.SGD(0.02, 0.669421), [1.0, 1.0], n_steps=200)
    np.testing.assert_allclose(after, ref.x[:, 0], rtol=1e-12, atol=1e-300)
    assert "lr=0.02" in driver.execute_script("return window.location.search")


def test_url_round_trip_restores_the_view(server, driver):
    open_page(driver, server + "?" + ISSUE_QUERY)
    driver.execute_script(SET_JS, "momentum", 0.5)
    want = hb.spectral.spectral_radius(LAM, 0.0330578, 0.5)
    wait_for(lambda: radius_in(text(driver)) == pytest.approx(want, rel=1e-11), what="momentum 0.5")
    search = wait_for(lambda: (lambda s: s if "momentum=0.5&" in s else None)(
        driver.execute_script("return window.location.search")), what="the URL")
    shown = text(driver)
    driver.get("about:blank")
    assert open_page(driver, server + search) == shown


def test_bad_query_shows_its_message(server, driver):
    d = driver
    d.get(server + "?problem=quadratic&lr=abc")
    msg = wait_for(lambda: text(d, "hb-error"), what="the error message")
    assert "`lr`" in msg and "expected a number" in msg and "'abc'" in msg
    assert radius_in(text(d)) is not None  # the default view is drawn under the message


def test_fifty_rapid_slider_moves_leave_the_server_responsive(server, driver):
    open_page(driver, server + "?" + ISSUE_QUERY)
    lrs = np.linspace(0.005, 0.03, 50)
    driver.execute_script("""
        const doc = Bokeh.documents[0]; const lrs = arguments[0];
        const s = [...doc.all_models].find(m => m.type === 'Slider' && m.title === 'lr');
        for (const v of lrs) s.value = v;""", lrs.tolist())
    want = hb.spectral.spectral_radius(LAM, lrs[-1], 0.669421)
    wait_for(lambda: radius_in(text(driver)) == pytest.approx(want, rel=1e-11), timeout=30, what="the last move")
    t = time.monotonic()
    with urllib.request.urlopen(server, timeout=10) as r:
        assert r.status == 200
    assert time.monotonic() - t < 10


def test_two_sessions_do_not_share_state(server, driver):
    open_page(driver, server + "?" + ISSUE_QUERY)
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    open_page(driver, server + "?" + ISSUE_QUERY)
    second = driver.current_window_handle
    driver.execute_script(SET_JS, "lr", 0.01)
    want = hb.spectral.spectral_radius(LAM, 0.01, 0.669421)
    wait_for(lambda: radius_in(text(driver)) == pytest.approx(want, rel=1e-11), what="tab 2's move")
    driver.switch_to.window(first)
    time.sleep(0.3)
    assert radius_in(text(driver)) == pytest.approx(hb.spectral.spectral_radius(LAM, 0.0330578, 0.669421), rel=1e-11)
    assert "lr=0.01&" not in driver.execute_script("return window.location.search")
    driver.switch_to.window(second)
    driver.close()
    driver.switch_to.window(first)


def test_sigint_stops_the_server():
    proc, url = start_server()
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 130
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_the_docs_screenshot_script_writes_a_page_image(tmp_path):
    """docs/_explore_screenshots.py (the docs' figures) in its quick mode: one real PNG of the page."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "docs" / "_explore_screenshots.py"
    runpy.run_path(str(script), run_name="heavyball_docs_tool")["main"](["--quick", "--out", str(tmp_path)])
    pngs = list(tmp_path.glob("explore-*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pngs[0].stat().st_size > 10_000
