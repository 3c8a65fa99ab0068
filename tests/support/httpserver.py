"""A real HTTP server on 127.0.0.1 for tests of code that calls other services.

Tests register handlers per path; the server records every request. No mocks of requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server sends back."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[str], Reply]


@dataclass
class LocalServer:
    """Routes: exact path -> Handler; `fallback` answers everything else."""

    url: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    fallback: Handler = lambda path: Reply(404, {"status": 404, "error": "Not found"})
    requests: list[str] = field(default_factory=list)


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """Start a threaded HTTP server on an ephemeral 127.0.0.1 port; stop it afterwards."""
    state = LocalServer()

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            path = self.path.split("?", 1)[0]
            reply = state.routes.get(path, state.fallback)(self.path)
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.encoded()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
