"""JSON API, /api/v1. Answers are a WardAnswer's to_api(); errors are {"error": {"code", "message"}}."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from finder.coverage.views import counted
from finder.errors import FinderError, InvalidInput
from finder.lookup.service import OutcodeAnswer, PostcodeAnswer, WardAnswer
from finder.web import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI_FILE = Path(__file__).resolve().parent.parent / "data" / "openapi.json"


def _full_postcode(text: str) -> PostcodeAnswer:
    """Resolve a postcode; an outward code alone is not one (it has its own endpoint)."""
    result = services().lookup.resolve(postcode=text)
    if isinstance(result, OutcodeAnswer):
        raise InvalidInput(
            f"{result.outcode} is an outward code, not a full postcode. "
            f"Give a full postcode, like SW1A 2AA, or use /api/v1/outcodes/{result.outcode}",
            code="invalid_postcode",
        )
    return result


def _answer(result: WardAnswer) -> dict[str, Any]:
    """The result's JSON. One made while the store cannot be read is not cached: the team is back soon."""
    if result.team_status == "unavailable":
        g.api_no_store = True
    return result.to_api()


def _json_body() -> Any:
    """The request's JSON, or None when it is not JSON we can read.

    A body sent without a Content-Length (chunked) is read up to MAX_CONTENT_LENGTH, and werkzeug
    stops there without a word: a body cut off at the limit was too large (413), not malformed.
    """
    body = request.get_json(silent=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if body is None and request.content_length is None and len(request.get_data()) >= limit:
        raise RequestEntityTooLarge()
    return body


@bp.get("/health")
def health():
    """Load balancers, and the benchmark's ceiling: 200 while geodata serves, with the store's last known state.

    Never queries the store (a hung database must not hang the health check) and never builds the lookup.
    """
    service = services().built_lookup()
    store = service.teams.state if service is not None and service.teams is not None else "unknown"
    return jsonify({"status": "degraded" if store == "unavailable" else "ok", "store": store})


@bp.get("/postcodes/<path:postcode>")
def postcode(postcode: str):
    """One postcode."""
    return jsonify(_answer(counted(_full_postcode(postcode), "api")))


@bp.post("/postcodes")
def postcodes():
    """Up to 100 postcodes: one result or error per item, in the order given."""
    body = _json_body()
    items = body.get("postcodes") if isinstance(body, dict) else None
    limit = current_app.config["MAX_BATCH"]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidInput('Send JSON like {"postcodes": ["SW1A 1AA", "E1 6AN"]}', code="invalid_request")
    if len(items) > limit:
        raise InvalidInput(f"Send at most {limit} postcodes at once, not {len(items)}", code="too_many_postcodes")
    longest = current_app.config["MAX_POSTCODE_LENGTH"]
    for number, item in enumerate(items, 1):
        if len(item) > longest:
            raise InvalidInput(
                f"Postcode {number} is {len(item):,} characters long. Send each postcode in at most "
                f"{longest} characters (a postcode has 8 at most, with its space)",
                code="postcode_too_long",
            )
    results = []
    for item in items:
        try:
            results.append({"query": item, "result": counted(_full_postcode(item), "api").to_api()})
        except FinderError as error:
            results.append({"query": item, "status": error.status, **error.to_dict()})
    return jsonify({"results": results})


# An outward code as the OpenAPI document describes it. The API refuses anything else rather than guess what
# a stray "?" or control character meant (the resident pages stay forgiving of what people paste).
OUTCODE = re.compile(r"\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*")


@bp.get("/outcodes/<outcode>")
def outcode(outcode: str):
    """The wards an outward code's postcodes fall in, most first; its postcodes outside London by district and force."""
    if not OUTCODE.fullmatch(outcode):
        raise InvalidInput("Give an outward code alone, like SE1", code="invalid_outcode")
    result = services().lookup.resolve(postcode=outcode)
    if not isinstance(result, OutcodeAnswer):
        raise InvalidInput("Give an outward code alone, like SE1", code="invalid_outcode")
    return jsonify(
        {
            "outcode": result.outcode,
            "wards": [
                {
                    "code": w.code,
                    "name": w.name,
                    "borough": {"code": w.borough_code, "name": w.borough_name},
                    "postcodes": n,
                }
                for w, n in result.outcode_wards
            ],
            "postcodes": result.outcode_total,
            "outside": [
                {
                    "district": {"code": d.code, "name": d.name},
                    "force": force.to_api() if force else None,
                    "postcodes": n,
                }
                for d, force, n in result.outcode_outside
            ],
        }
    )


@bp.get("/locate")
def locate():
    """A point: ?lat=…&lon=…"""
    args = request.args
    if "lat" not in args or "lon" not in args:
        raise InvalidInput("Give both lat and lon, like ?lat=51.5014&lon=-0.1419", code="invalid_location")
    return jsonify(_answer(counted(services().lookup.resolve(lat=args["lat"], lon=args["lon"]), "api")))


@bp.get("/wards/<code>")
def ward(code: str):
    """One ward, its borough, force and contact routes, and its neighbours."""
    result = counted(services().lookup.resolve(ward=code), "api")
    body = _answer(result)
    body["neighbours"] = [{"code": w.code, "name": w.name} for w in result.neighbours]
    return jsonify(body)


@bp.get("/wards/<code>/boundary")
def boundary(code: str):
    """The ward's boundary as a GeoJSON Feature (WGS84)."""
    result = services().lookup.resolve(ward=code)
    response = jsonify(services().lookup.geo.wards.feature(result.ward.code))
    response.mimetype = "application/geo+json"
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document describing this API."""
    return current_app.response_class(OPENAPI_FILE.read_text("utf-8"), mimetype="application/json")
