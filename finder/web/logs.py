"""Access and error logs that never hold what a resident searched for.

A request line holds postcodes (`/search?postcode=…`, `/api/v1/postcodes/<postcode>`) and
coordinates (`/locate?lat=…`), and the client address says who asked. So the finder logs its own
access line — method, the route's pattern, status and time — instead of the server's, never the
client's address; werkzeug's development-server lines are dropped, and an unhandled error is
logged with the route's pattern rather than the path.
"""

from __future__ import annotations

import logging
import re
import sys
import time

from flask import Flask, Response, g, request

access_log = logging.getLogger("finder.access")
ACCESS_LINE = "%s %s %s %.1fms"  # method, route pattern, status, milliseconds
REQUEST_LINE = re.compile(r'\S+ - - \[[^\]]*\] "')  # werkzeug: 127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -


def route() -> str:
    """The matched route's pattern, like /api/v1/postcodes/<postcode>; never the path itself."""
    rule = request.url_rule
    return rule.rule if rule is not None else "(no route)"


class _NoRequestLines(logging.Filter):
    """Drops werkzeug's development-server request lines: `127.0.0.1 - - [date] "GET /search?postcode=…"`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not REQUEST_LINE.match(record.getMessage())


def init_app(app: Flask) -> None:
    """Log one private line per request, and keep werkzeug's request lines out."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoRequestLines) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_NoRequestLines())

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        if access_log.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            args = (request.method, route(), response.status_code, elapsed)
            # Handed over as a finished record: Logger.info would walk the stack for the caller's
            # file and line on every request, which no access line shows.
            access_log.handle(logging.LogRecord(access_log.name, logging.INFO, __file__, 0, ACCESS_LINE, args, None))
        return response
