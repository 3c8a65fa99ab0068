"""Which ward a point falls in: the candidate grid gives what the STRtree's covered_by gives, edges included."""

from __future__ import annotations

import numpy as np
import shapely


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
