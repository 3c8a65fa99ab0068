"""A real Redis on 127.0.0.1 for the tests of shared state, from Debian's redis-server (./scripts/test installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import redis

SEARCH_PATH = f"{os.environ.get('PATH', '')}:/usr/bin:/usr/sbin:/sbin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on a free port, nothing saved to disk; `stop()` and `start()` again keep its address."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server", path=SEARCH_PATH)
        assert binary is not None, "redis-server is missing: ./scripts/test installs it (apt-get install redis-server)"
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return self
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
