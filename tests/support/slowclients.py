"""The shipped server on a local port, and clients that connect and then send nothing or next to nothing.

Shared by tests/web/test_slow_clients.py and scripts/bench_slow_clients.py (issue 22, item 2).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parents[2]
RUN_SERVER = ROOT / "scripts" / "run-server"
# What a trickling client sends, one byte at a time: a request whose end never comes.
TRICKLE = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 4000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def shipped_server(env: dict[str, str], log: IO[bytes], workers: int = 2) -> Iterator[tuple[subprocess.Popen, str]]:
    """./scripts/run-server (what ./scripts/serve runs after setup) on a free port; stopped afterwards."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env, "PORT": str(port), "WORKERS": str(workers)}
    # Its own session, so that a server which does not stop can be killed whole (gunicorn, nginx, sed).
    server = subprocess.Popen(
        [str(RUN_SERVER)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/api/v1/health", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)  # gunicorn's graceful_timeout (10 s) and nginx's stop (up to 10 s) fit
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            tail = Path(log.name).read_text("utf-8", "replace")[-3000:] if isinstance(log.name, str) else ""
            raise AssertionError(f"the server did not stop within 30 s of SIGTERM; its log ends:\n{tail}") from None


@contextmanager
def slow_clients(port: int, idle: int, trickling: int, every: float) -> Iterator[list[socket.socket]]:
    """`idle` connections that send nothing and `trickling` ones that send one byte each `every` seconds."""
    quiet = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(trickling)]
    stop = threading.Event()

    def trickle() -> None:
        sent = 0
        while not stop.is_set() and sent < len(TRICKLE):
            for sock in slow:
                with contextlib.suppress(OSError):  # closed by the server: it may time a slow client out
                    sock.send(TRICKLE[sent : sent + 1])
            sent += 1
            stop.wait(every)

    thread = threading.Thread(target=trickle, name="trickle", daemon=True)
    thread.start()
    try:
        yield quiet + slow
    finally:
        stop.set()
        thread.join()
        for sock in quiet + slow:
            sock.close()


def timed_gets(port: int, paths: list[str], rounds: int, timeout: float) -> dict[str, list[float]]:
    """Seconds each GET took (a new connection each, as a new visitor's), by path; a timeout raises."""
    took: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
            assert response.status == 200, (path, response.status)
            took[path].append(time.perf_counter() - started)
    return took


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
