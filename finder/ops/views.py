"""/livez and /readyz: the process answers, and the instance is fit for traffic (finder/ops/readiness.py).

For the proxy's health checks, not for people: the deploy's proxy sends them from its own checks and refuses
them from outside (deploy/haproxy/finder.cfg). Never cached, never rate limited.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from finder.geo.geodata import GeodataError
from finder.ops.readiness import store_not_ready
from finder.store.migrate import StoreNotReady, head
from finder.web import services

bp = Blueprint("ops", __name__)


def _probe(body: dict[str, str], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/livez")
def livez() -> Response:
    """The process answers requests: nothing else is asked (a restart would not cure a store outage)."""
    return _probe({"status": "live"})


@bp.get("/readyz")
def readyz() -> Response:
    """200 when this instance can serve (geodata loaded, store readable and at the code's schema), else 503 and why."""
    try:
        lookup = services().lookup  # loaded at start under gunicorn (finder/wsgi.py); loaded now otherwise
    except GeodataError:
        reason: str | None = "the geodata is missing or cannot be read"
    except StoreNotReady:
        reason = f"the team store is not at schema {head()}: run `finder init-db`"
    else:
        reason = store_not_ready(lookup.teams.store) if lookup.teams is not None else None
    if reason is not None:
        return _probe({"status": "not ready", "reason": reason}, 503)
    return _probe({"status": "ready"})
