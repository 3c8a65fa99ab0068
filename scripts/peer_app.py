"""The app a typical developer writes from the same card: the benchmark's peer (issue 12), never shipped.

Plain Flask + pandas + geopandas + Folium over the same raw releases the finder builds from
(FINDER_RAW_DATA, default ../shared/data-raw): Code-Point Open for postcodes, the ONS wards for
boundaries, and the finder's own forces.json for contact routes (so both apps answer with the same
facts). Each request does point-in-polygon on the ward GeoDataFrame, either by `contains` over
every ward (the first thing anyone writes) or through geopandas' STRtree (`sindex`, the fix a
developer finds next); a ward page renders its Folium map inline, per request.

    FINDER_RAW_DATA=../shared/data-raw gunicorn -w 2 --preload scripts.peer_app:app
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from flask import Flask, abort, jsonify, render_template_string, request
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parent.parent
RAW = Path(os.environ.get("FINDER_RAW_DATA") or ROOT.parent / "shared" / "data-raw")
CITY = "E09000001"

app = Flask(__name__)

postcodes = pd.read_csv(
    next((RAW / "postcodes-codepoint-open").glob("london_postcodes_codepoint_*.csv.gz")),
    usecols=["postcode", "latitude", "longitude"],
)
postcodes["key"] = postcodes["postcode"].str.replace(" ", "").str.upper()
postcodes = postcodes.set_index("key")
wards = gpd.read_file(RAW / "wards-2024-ons-bgc-london" / "london_wards_dec2024_bgc_704_wgs84.geojson")
wards_by_code = wards.set_index("WD24CD")
forces_file = json.loads((ROOT / "finder" / "data" / "forces.json").read_text("utf-8"))


def force_for(borough_code: str) -> dict:
    force = forces_file["forces"]["city-of-london" if borough_code == CITY else "metropolitan"]
    routes = [forces_file["shared_routes"][r] if isinstance(r, str) else r for r in force["routes"]]
    return {"name": force["name"], "website": force["website"], "routes": routes}


def ward_at(lat: float, lon: float, indexed: bool):
    point = Point(lon, lat)
    hits = wards.iloc[wards.sindex.query(point, predicate="intersects")] if indexed else wards[wards.contains(point)]
    return None if hits.empty else hits.iloc[0]


def answer(row, lat: float, lon: float, postcode: str | None = None) -> dict:
    return {
        "postcode": postcode,
        "location": {"lat": lat, "lon": lon},
        "ward": {"code": row["WD24CD"], "name": row["WD24NM"]},
        "borough": {"code": row["LAD24CD"], "name": row["LAD24NM"]},
        "force": force_for(row["LAD24CD"]),
    }


@app.get("/api/v1/health")
def health():
    return jsonify({"status": "ok"})


@app.get("/api/v1/postcodes/<postcode>")
@app.get("/api/v1/indexed/postcodes/<postcode>", defaults={"indexed": True})
def postcode_lookup(postcode: str, indexed: bool = False):
    key = re.sub(r"[^A-Z0-9]", "", postcode.upper())
    if key not in postcodes.index:
        return jsonify({"error": "unknown postcode"}), 404
    found = postcodes.loc[key]
    lat, lon = float(found["latitude"]), float(found["longitude"])
    row = ward_at(lat, lon, indexed)
    if row is None:
        return jsonify({"error": "not in London"}), 404
    return jsonify(answer(row, lat, lon, found["postcode"]))


@app.get("/api/v1/locate")
@app.get("/api/v1/indexed/locate", defaults={"indexed": True})
def locate(indexed: bool = False):
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return jsonify({"error": "give lat and lon"}), 400
    row = ward_at(lat, lon, indexed)
    if row is None:
        return jsonify({"error": "not in London"}), 404
    return jsonify(answer(row, lat, lon))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ ward.WD24NM }} – your police team</title></head>
<body>
<h1>{{ ward.WD24NM }}</h1>
<p>{{ ward.LAD24NM }} · policed by {{ force.name }}</p>
<ul>{% for r in force.routes %}
<li>{{ r.label }}: <a href="{{ r.href }}">{{ r.value }}</a> – {{ r.use_when }}</li>{% endfor %}</ul>
{{ map_html|safe }}
</body></html>"""


@app.get("/wards/<code>")
def ward_page(code: str):
    if code not in wards_by_code.index:
        abort(404)
    ward = wards_by_code.loc[code]
    m = folium.Map(location=[ward["LAT"], ward["LONG"]], zoom_start=14)
    folium.GeoJson(ward.geometry.__geo_interface__, tooltip=ward["WD24NM"]).add_to(m)
    minx, miny, maxx, maxy = ward.geometry.bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return render_template_string(PAGE, ward=ward, force=force_for(ward["LAD24CD"]), map_html=m._repr_html_())
