"""Which ward a point falls in: the candidate grid gives what the STRtree's covered_by gives, edges included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import shapely

ROOT = Path(__file__).resolve().parents[2]


def covered_by_tree(wards, easting: float, northing: float) -> int | None:
    """The reference answer: every ward covering the point by the STRtree, the lowest index on a shared edge."""
    hits = wards.tree.query(shapely.Point(easting, northing), predicate="covered_by")
    return int(hits.min()) if len(hits) else None


def located(wards, easting: float, northing: float) -> int | None:
    match = wards.locate_bng(easting, northing)
    return match.ward.index if match is not None and match.how == "inside" else None


def test_the_grid_finds_the_same_ward_as_the_tree_for_postcodes_random_points_and_boundary_vertices(geodata):
    wards = geodata.wards
    rows = geodata.postcodes.rows[::7]  # every seventh London postcode point (28,000)
    rng = np.random.default_rng(12)
    random = np.column_stack([rng.uniform(495_000, 570_000, 20_000), rng.uniform(145_000, 210_000, 20_000)])
    # Boundary vertices lie on shared edges, where two or three wards cover the point.
    vertices = shapely.get_coordinates(shapely.get_exterior_ring(wards.bng[::5]))[::40]
    points = [*np.column_stack([rows["easting"], rows["northing"]]).astype(float), *random, *vertices]
    assert len(points) > 45_000
    differ = [(e, n) for e, n in points if located(wards, e, n) != covered_by_tree(wards, e, n)]
    assert differ == []
    shared = [(e, n) for e, n in vertices if len(wards.tree.query(shapely.Point(e, n), predicate="covered_by")) > 1]
    assert len(shared) > 100  # the edge rule was really tested


def test_points_outside_the_grid_or_far_from_britain_still_get_an_honest_answer(geodata):
    wards = geodata.wards
    assert wards.locate_bng(0.0, 0.0) is None  # off Cornwall's Scilly corner of the grid: no ward near
    assert wards.locate_bng(398051.7, -15635823.1) is None  # the South Pole in BNG
    assert wards.locate_bng(float("inf"), float("nan")) is None
    # 50 m west of London's westernmost boundary point: outside every ward, so the nearest within 100 m
    west = int(np.argmin(shapely.bounds(wards.bng)[:, 0]))
    coords = shapely.get_coordinates(wards.bng[west])
    x, y = coords[np.argmin(coords[:, 0])]
    near = wards.locate_bng(x - 50.0, y)
    assert near is not None and (near.ward.index, near.how) == (west, "nearest") and 49.0 <= near.distance_m <= 50.0
    assert wards.locate_bng(x - 150.0, y) is None


def test_every_ward_feature_is_the_built_file_s_feature_byte_for_byte(geodata):
    """Boundaries are held as shapely geometries, not the parsed file: what the API and the outlines get back
    must still be exactly what the build wrote, every coordinate and property, in the file's order."""
    built = orjson.loads((geodata.directory / "wards.geojson").read_bytes())["features"]
    assert len(built) == len(geodata.wards) == 704
    for feature in built:
        assert orjson.dumps(geodata.wards.feature(feature["properties"]["code"])) == orjson.dumps(feature)


def test_a_cold_load_keeps_no_parsed_geojson_and_starts_no_older_collection():
    """The ward files' parse runs with the collector paused and leaves no Python lists behind: collections
    during start-up walked them again and again (60-80 ms of a cold start). Only the youngest generation
    is collected while the index is built (its grid's tuples)."""
    probe = """
import gc, json
from finder.geo.wards import WardIndex
runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
gc.collect(); runs.clear(); before = len(gc.get_objects())
wards = WardIndex.from_files("geodata/wards.geojson", "geodata/wards_bng.geojson")
print(json.dumps({"runs": runs, "objects": len(gc.get_objects()) - before, "enabled": gc.isenabled()}))
"""
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert set(result["runs"]) <= {0} and result["enabled"]
    assert result["objects"] < 5_000  # the 704 wards and their grid; the parsed files kept were 37,000
