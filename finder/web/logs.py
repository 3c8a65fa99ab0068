"""Access and error logs that never hold what a resident searched for.

A request line holds postcodes (`/search?postcode=…`, `/api/v1/postcodes/<postcode>`) and
coordinates (`/locate?lat=…`), and the client address says who asked. So the finder logs its own
access line — method, the route's pattern, status and time — instead of the server's, never the
client's address; werkzeug's development-server lines are dropped, and an unhandled error is
logged with the route's pattern rather than the path.

With FINDER_LOG_FORMAT=json (the deploy's instances) the same line is one JSON object, for a log shipper:
{"time", "level", "event": "request", "method", "route", "status", "duration_ms", "request_id"}. The request id
is the proxy's X-Request-ID when there is a trusted proxy and it looks like one (hex and dashes: it can hold
no postcode), else made here; it goes back in the answer's X-Request-ID. The same hook counts the request
in finder_request_duration_seconds when metrics are on (finder/ops/metrics.py).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import cast

from flask import Flask, Response, g, request

from finder.ops.metrics import REQUESTS

access_log = logging.getLogger("finder.access")
ACCESS_LINE = "%s %s %s %.1fms"  # method, route pattern, status, milliseconds
REQUEST_ID = re.compile(r"[0-9A-Fa-f-]{16,64}")  # a proxy's id (HAProxy's, nginx's $request_id): no room for a postcode
REQUEST_LINE = re.compile(r'\S+ - - \[[^\]]*\] "')  # werkzeug: 127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -


def route() -> str:
    """The matched route's pattern, like /api/v1/postcodes/<postcode>; never the path itself."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"


class _NoRequestLines(logging.Filter):
    """Drops werkzeug's development-server request lines: `127.0.0.1 - - [date] "GET /search?postcode=…"`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not REQUEST_LINE.match(record.getMessage())


class JsonLines(logging.Formatter):
    """An access record as one JSON object per line (FINDER_LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        method, route_, status, elapsed = cast(tuple[str, str, int, float], record.args)
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "event": "request",
                "method": method,
                "route": route_,
                "status": status,
                "duration_ms": round(elapsed, 2),
                "request_id": getattr(record, "request_id", None),
            }
        )


class TextLines(logging.Formatter):
    """`%(asctime)s %(message)s`, the date and time written out once a second: time.strftime made up a quarter
    of an access line's cost (2.5 of 10 µs, measured)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return f"{text},{int(record.msecs):03d}"  # logging's default_msec_format, '%s,%03d'


def request_id(from_proxy: bool) -> str:
    """The id the trusted proxy gave this request, if it looks like one; else a new one."""
    given = request.headers.get("X-Request-ID", "") if from_proxy else ""
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Log one private line per request (as text, or JSON), count it in the metrics, keep werkzeug's lines out."""
    if app.config["LOG_FORMAT"] not in ("text", "json"):
        raise ValueError(f"FINDER_LOG_FORMAT must be text or json, not {app.config['LOG_FORMAT']!r}")
    as_json = app.config["LOG_FORMAT"] == "json"
    if not access_log.handlers:
        access_log.addHandler(logging.StreamHandler(sys.stderr))
        access_log.setLevel(logging.INFO)
    for handler in access_log.handlers:
        handler.setFormatter(JsonLines() if as_json else TextLines())
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoRequestLines) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_NoRequestLines())
    metrics = app.config["METRICS"]
    trusts_proxy = app.config["PROXIES"] > 0

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()
        if as_json:
            g.request_id = request_id(trusts_proxy)

    @app.after_request
    def log_request(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        method, pattern, status = request.method, route(), response.status_code
        if metrics:
            REQUESTS.labels(pattern, method, str(status)).observe(elapsed)
        given_id = None
        if as_json:
            given_id = g.get("request_id") or request_id(trusts_proxy)
            response.headers["X-Request-ID"] = given_id
        if access_log.isEnabledFor(logging.INFO):
            args = (method, pattern, status, elapsed * 1000)
            # Handed over as a finished record: Logger.info would walk the stack for the caller's
            # file and line on every request, which no access line shows.
            record = logging.LogRecord(access_log.name, logging.INFO, __file__, 0, ACCESS_LINE, args, None)
            record.request_id = given_id
            access_log.handle(record)
        return response
