"""How ./scripts/run-server serves the finder: gunicorn's settings, and nginx in front of it.

gunicorn's sync workers each hold one connection until its request has arrived, so two idle clients
stopped both workers (issue 22). nginx reads every request whole and buffers every answer, so idle
and slow clients cost it an event each, and a worker is only ever handed a complete request over a
unix socket. Measured against gunicorn's threaded workers and granian in BENCHMARKS.md ("Slow
clients"). gunicorn starts nginx once the app is loaded and stops it when it exits.

Read by gunicorn as `--config python:finder.serving`; HOST, PORT and WORKERS come from the environment.
With BIND (like 127.0.0.1:8001) it is one instance behind the deploy's proxy instead (deploy/run-local,
deploy/compose.yaml): gunicorn listens there and starts no nginx of its own, HAProxy in front reading each
request whole. gunicorn binds only once the app is loaded (preload_app), so an instance listens only when ready.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from gunicorn import glogging

from finder.ops import metrics

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx" / "finder.conf"
HOST = os.environ.get("HOST") or "127.0.0.1"
PORT = int(os.environ.get("PORT") or "5000")
RUN_DIR = Path(tempfile.mkdtemp(prefix="finder-server-"))  # the socket, nginx's config and buffers; removed on exit

BEHIND_PROXY = os.environ.get("BIND", "")  # an instance behind the deploy's HAProxy: no nginx of its own
bind = BEHIND_PROXY or f"unix:{RUN_DIR / 'app.sock'}"
workers = int(os.environ.get("WORKERS") or "2")
preload_app = True  # geodata loaded once and shared by the workers (BENCHMARKS.md, "Memory per gunicorn worker")
control_socket_disable = True  # each server its own: two on one machine must not share ~/.gunicorn/gunicorn.ctl
logger_class = "finder.serving.PrivateLogger"
# How long a stopping worker may finish its request. gunicorn's default is 30 s, and a stop sometimes took
# all of it (CI timed out waiting). nginx hands workers only whole requests and an answer takes
# milliseconds, so 10 s is ample; an operator's service manager waits longer than this and nginx's stop.
graceful_timeout = 10
METRICS_LISTEN = os.environ.get("FINDER_METRICS_LISTEN", "")  # Prometheus metrics, from this master (finder/ops)
if METRICS_LISTEN:
    metrics.prepare(METRICS_LISTEN)


class PrivateLogger(glogging.Logger):
    """gunicorn's own log without what it quotes from a refused request: the client's address and the
    request line, which can hold a postcode (`GET /api/v1/postcodes/SW1A2AA HTTP/9`)."""

    def warning(self, msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith("Invalid request from ip="):
            msg, args = "- (no route) refused by gunicorn: %s", (refusal(msg),)
        super().warning(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            msg, args = "Error handling a request", ()  # gunicorn would add the method and the path
        super().exception(msg, *args, **kwargs)


def refusal(message: str) -> str:
    """What was wrong, without what was sent: `Invalid HTTP Version: 'HTTP/9'` → `Invalid HTTP Version`."""
    error = message.split(": ", 1)[1] if ": " in message else ""
    return re.split(r"[:'\"(]", error, maxsplit=1)[0].strip() or "malformed request"


def nginx_binary() -> str:
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise SystemExit("nginx is not installed: ./scripts/setup installs it (Debian package nginx)")
    return found


def nginx_config() -> str:
    listen = f"[{HOST}]:{PORT}" if ":" in HOST else f"{HOST}:{PORT}"
    values = {
        "@RUN_DIR@": str(RUN_DIR),
        "@SOCKET@": str(RUN_DIR / "app.sock"),
        "@LISTEN@": listen,
        # Run by root, nginx's workers would switch to `nobody`, who cannot reach the socket: keep root's.
        "@USER@": "user root;" if os.geteuid() == 0 else "",
    }
    text = NGINX_CONF.read_text("utf-8")
    for name, value in values.items():
        text = text.replace(name, value)
    return text


_front: list[subprocess.Popen] = []  # nginx, and the filter its log goes through


def on_starting(server) -> None:
    if METRICS_LISTEN:
        metrics.forget_counted()  # the app is loaded (preload_app); the workers are not started yet


def serve_metrics(server) -> None:
    """Serve the workers' metrics from the master, on their own port (never through the proxy)."""
    from finder.web import services  # the app gunicorn loaded (preload_app)

    if METRICS_LISTEN:
        found = services(server.app.wsgi())
        metrics.serve(METRICS_LISTEN, found.database_url(), found.config["DB_TIMEOUT"], found.geodata.manifest)
        server.log.info("metrics at http://%s:%s/metrics", *metrics.address(METRICS_LISTEN))


def child_exit(server, worker) -> None:
    metrics.worker_exited(worker.pid)


def when_ready(server) -> None:
    """Start nginx once the app answers on its socket; stop the whole server if nginx cannot listen."""
    serve_metrics(server)
    if BEHIND_PROXY:
        return
    conf = RUN_DIR / "nginx.conf"
    conf.write_text(nginx_config(), "utf-8")
    # nginx's error-log format is fixed and appends the client's address, request line and host to each
    # line: cut from ", client: " on. Its access lines (its own refusals) carry neither.
    log_filter = subprocess.Popen(["sed", "-u", "-E", "s/, client: .*$//"], stdin=subprocess.PIPE)
    nginx = subprocess.Popen(
        [nginx_binary(), "-e", "stderr", "-p", str(RUN_DIR), "-c", str(conf), "-g", "daemon off;"],
        stdout=log_filter.stdin,
        stderr=log_filter.stdin,
    )
    assert log_filter.stdin is not None  # stdin=PIPE above
    log_filter.stdin.close()  # nginx holds the pipe now: sed ends when nginx does
    _front[:] = [nginx, log_filter]
    deadline = time.monotonic() + 5
    while not (RUN_DIR / "nginx.pid").exists():
        if nginx.poll() is not None or time.monotonic() > deadline:
            server.log.error("nginx did not start on %s:%s (see above); stopping", HOST, PORT)
            stop_front()
            shutil.rmtree(RUN_DIR, ignore_errors=True)
            raise SystemExit(1)
        time.sleep(0.02)
    server.log.info("nginx listening at http://%s:%s, in front of %s", HOST, PORT, bind)


def stop_front() -> None:
    for process in _front:
        if process.poll() is None:
            process.terminate()  # nginx: fast shutdown; sed: ends with its input anyway
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def on_exit(server) -> None:
    stop_front()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
