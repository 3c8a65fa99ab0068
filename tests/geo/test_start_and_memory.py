"""Start-up and per-worker memory of the geodata (issue 12): neighbours found ward by ward, a compact GB order."""

from __future__ import annotations

import numpy as np
import shapely

from finder.geo.wards import NEIGHBOUR_GAP_M

ST_JAMESS = "E05013806"


def test_asking_for_one_wards_neighbours_finds_that_wards_alone(geodata):
    wards = geodata.wards
    wards._neighbours[:] = [None] * len(wards)  # as a fresh worker has them
    neighbours = wards.neighbours(ST_JAMESS)
    assert neighbours and sum(found is not None for found in wards._neighbours) == 1


def test_every_wards_neighbours_are_the_wards_within_the_gap_by_name_and_the_relation_is_symmetric(geodata):
    wards = geodata.wards
    left, right = wards.tree.query(wards.bng, predicate="dwithin", distance=NEIGHBOUR_GAP_M)
    expected: dict[int, set[int]] = {i: set() for i in range(len(wards))}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            expected[a].add(b)
    for ward in wards.wards:
        found = wards.neighbours(ward.code)
        assert {n.index for n in found} == expected[ward.index]
        assert [n.name for n in found] == sorted(n.name for n in found)
        assert all(ward in wards.neighbours(n.code) for n in found)
    assert (
        shapely.distance(wards.bng[0], wards.bng[[n.index for n in wards.neighbours(wards.wards[0].code)]]).max()
        <= NEIGHBOUR_GAP_M
    )


def test_the_gb_band_order_for_points_outside_london_holds_4_byte_row_numbers_and_still_finds_the_nearest(geodata):
    order, eastings, starts = geodata._by_band
    assert order.dtype == "int32" and starts[0] == 0 and starts[-1] == len(order)
    falls = np.nonzero(np.diff(eastings) < 0)[0] + 1  # eastings run in order within each band
    assert set(falls.tolist()) <= set(starts.tolist())
    row = geodata.gb_postcodes.rows[int(order[len(order) // 2])]
    found = geodata.nearest_gb_postcode(float(row["easting"]), float(row["northing"]), 1.0)
    assert found is not None and found[1] is not None


def test_the_nearest_postcode_by_bands_is_the_nearest_over_all_of_britain(geodata):
    """Points near London's edge, in the country and at sea: the banded search against every row at once."""
    rows = geodata.gb_postcodes.rows
    located = rows[rows["district"] >= 0]
    not_london = np.array([not d.code.startswith("E09") for d in geodata.districts] + [True])
    rng = np.random.default_rng(27)
    points = [*rng.uniform((500_000, 150_000), (565_000, 205_000), (12, 2)), (84_000, 4_000), (350_000, 1_240_000)]
    for easting, northing in points:
        for within, outside in ((5_000.0, "E09"), (20_000.0, None), (300.0, None)):
            near = located if outside is None else located[not_london[located["district"]]]
            distance = np.hypot(near["easting"] - easting, near["northing"] - northing)
            expected = distance.min() if distance.min() <= within else None
            found = geodata.nearest_gb_postcode(float(easting), float(northing), within, outside=outside)
            if expected is None:
                assert found is None
            else:
                at = rows[rows["postcode"] == found[0].encode("ascii")][0]
                assert np.hypot(at["easting"] - easting, at["northing"] - northing) == expected
