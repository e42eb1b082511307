"""``heavyball explore``: serve the explorer on a local port until Ctrl-C."""

from __future__ import annotations

import signal
import sys

INSTALL_HINT = "the explorer needs Panel: pip install -e '.[explore]' (or pip install 'heavyball-dynamics[explore]')"


def serve(port=5006, host="127.0.0.1", open_browser=True):
    """Serve the explorer at ``http://host:port/`` (one independent app per browser session).

    Prints the URL, opens it unless ``open_browser`` is false, and returns the
    process exit code: 0 when the server stops, 130 after Ctrl-C (SIGINT), 2
    (after one line on stderr) when Panel is missing or the port cannot be bound.
    Binds to 127.0.0.1 unless ``host`` says otherwise.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        print(f"heavyball explore: error: `--port` must be an integer in [0, 65535], got {port!r}", file=sys.stderr)
        return 2
    try:
        import panel as pn
    except ImportError:
        print(f"heavyball explore: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from .app import build

    url = f"http://{host}:{port}/"
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    try:
        server = pn.serve(build, port=port, address=host, show=False, start=False, title="heavyball explore",
                          websocket_origin=origins, threaded=False, verbose=False)
    except OSError as exc:
        print(f"heavyball explore: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"heavyball explore: serving {url} (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    interrupted = []

    def on_sigint():  # stop the loop; the server then shuts down cleanly
        interrupted.append(signal.SIGINT)
        server.io_loop.stop()

    loop = server.io_loop.asyncio_loop
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        server.start()
        server.io_loop.start()
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        server.stop()
    if interrupted:
        print("heavyball explore: stopped", file=sys.stderr)
        return 130
    return 0
