"""The app a capable developer writes in an afternoon from the same card: issue 27's yardstick, never shipped.

Postcodes in a dict to their recorded ward (Code-Point Open), points through one shapely STRtree over the
ONS wards, the force routes of finder/data/forces.json, each ward team's contacts read once from the same
store as the finder (sqlite3, DATABASE_URL), the security headers in one after_request, and each ward's
page rendered once with Folium and kept in an lru_cache.

    DATABASE_URL=sqlite:///…/finder.db FINDER_RAW_DATA=../shared/data-raw gunicorn -w 2 --preload scripts.peer_app:app
"""

import csv
import gzip
import json
import os
import sqlite3
from functools import cache
from pathlib import Path

import folium
import shapely
from flask import Flask, abort, jsonify, render_template_string, request

ROOT = Path(__file__).resolve().parent.parent
RAW = Path(os.environ.get("FINDER_RAW_DATA") or ROOT.parent / "shared" / "data-raw")
app = Flask(__name__)

with gzip.open(next((RAW / "postcodes-codepoint-open").glob("london_postcodes_codepoint_*.csv.gz")), "rt") as f:
    POSTCODES = {
        r["postcode"].replace(" ", ""): (
            r["postcode"],
            r["Admin_ward_code"],
            float(r["latitude"]),
            float(r["longitude"]),
        )
        for r in csv.DictReader(f)
    }
features = json.loads((RAW / "wards-2024-ons-bgc-london" / "london_wards_dec2024_bgc_704_wgs84.geojson").read_text())
WARDS = {w["properties"]["WD24CD"]: w for w in features["features"]}
SHAPES = [shapely.geometry.shape(w["geometry"]) for w in WARDS.values()]
CODES, TREE = list(WARDS), shapely.STRtree(SHAPES)
FORCES = json.loads((ROOT / "finder" / "data" / "forces.json").read_text("utf-8"))
ROUTES = {
    k: [FORCES["shared_routes"][r] if isinstance(r, str) else r for r in f["routes"]]
    for k, f in FORCES["forces"].items()
}
db = sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
TEAMS: dict[str, dict] = {}
for ward, name, kind, label, value in db.execute(
    "SELECT t.ward_code, t.name, r.kind, r.label, r.value FROM team t LEFT JOIN contact_route r"
    " ON r.team_id = t.id AND r.officer_id IS NULL ORDER BY t.id, r.display_order"
):
    team = TEAMS.setdefault(ward, {"name": name, "contact_routes": []})
    if kind:
        team["contact_routes"].append({"kind": kind, "label": label, "value": value})
db.close()
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), geolocation=(self), microphone=(), payment=(), usb=()",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


@app.after_request
def security_headers(response):
    response.headers.update(HEADERS)
    return response


def answer(code: str, lat: float, lon: float, postcode: str | None = None):
    p = WARDS[code]["properties"]
    force = "city-of-london" if p["LAD24CD"] == "E09000001" else "metropolitan"
    return jsonify(
        postcode=postcode,
        location={"lat": lat, "lon": lon},
        ward={"code": code, "name": p["WD24NM"]},
        borough={"code": p["LAD24CD"], "name": p["LAD24NM"]},
        force={"id": force, "name": FORCES["forces"][force]["name"]},
        contact_routes=ROUTES[force],
        team=TEAMS.get(code),
    )


@app.get("/api/v1/health")
def health():
    return jsonify(status="ok")


@app.get("/api/v1/postcodes/<postcode>")
def postcode_lookup(postcode: str):
    pc, code, lat, lon = POSTCODES.get(postcode.upper().replace(" ", ""), (None, None, 0, 0))
    if code not in WARDS:
        return jsonify(error="unknown postcode"), 404
    return answer(code, lat, lon, pc)


@app.get("/api/v1/locate")
def locate():
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    if lat is None or lon is None:
        return jsonify(error="give lat and lon"), 400
    hits = TREE.query(shapely.Point(lon, lat), predicate="intersects")
    if not len(hits):
        return jsonify(error="not in London"), 404
    return answer(CODES[hits[0]], lat, lon)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ p.WD24NM }} – your police team</title>
</head><body><h1>{{ p.WD24NM }}</h1><p>{{ p.LAD24NM }}</p>{% if team %}<h2>{{ team.name }} team</h2><ul>
{% for r in team.contact_routes %}<li>{{ r.label }}: {{ r.value }}</li>{% endfor %}</ul>{% endif %}<h2>Contact</h2><ul>
{% for r in routes %}<li>{{ r.label }}: <a href="{{ r.href }}">{{ r.value }}</a> – {{ r.use_when }}</li>
{% endfor %}</ul>{{ map_html|safe }}</body></html>"""


@cache  # the lru_cache, unbounded: one page per ward
def ward_html(code: str) -> str:
    w, shape = WARDS[code], SHAPES[CODES.index(code)]
    m = folium.Map(location=[w["properties"]["LAT"], w["properties"]["LONG"]], zoom_start=14)
    folium.GeoJson(w["geometry"], tooltip=w["properties"]["WD24NM"]).add_to(m)
    minx, miny, maxx, maxy = shape.bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    force = "city-of-london" if w["properties"]["LAD24CD"] == "E09000001" else "metropolitan"
    return render_template_string(
        PAGE, p=w["properties"], team=TEAMS.get(code), routes=ROUTES[force], map_html=m._repr_html_()
    )


@app.get("/wards/<code>")
def ward_page(code: str):
    if code not in WARDS:
        abort(404)
    return ward_html(code)
