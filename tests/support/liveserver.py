"""Serve a real Flask app on 127.0.0.1 in a background thread, for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


def closing_every_answer(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterator[bytes]]:
    """The app, with each answer's iterable closed even when the browser drops the connection mid-answer.

    werkzeug's development server can skip `close()` then (its clean-up after a dropped connection can
    raise first), leaving a static file WhiteNoise opened to be closed by the garbage collector, whose
    ResourceWarning then fails whichever test is running. A generator's `finally` runs either way.
    """

    def answer(environ: dict[str, Any], start_response: Callable) -> Iterator[bytes]:
        iterable = app(environ, start_response)
        try:
            yield from iterable
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return answer


@contextmanager
def serving(app: Flask, name: str = "finder-live-server") -> Iterator[str]:
    """Run `app` threaded on a port the OS picks; yield its base URL; stop it afterwards."""
    server = make_server("127.0.0.1", 0, closing_every_answer(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
