"""The front counters nearest a place: the short list kept per square gives the answer measuring them all gives."""

import random

import numpy as np
import pytest

from finder.geo.places import NearestPlaces

LONDON = (503_000.0, 156_000.0, 562_000.0, 201_000.0)  # British National Grid metres around Greater London


def nearest_bng(
    origin: tuple[float, float], eastings: np.ndarray, northings: np.ndarray, limit: int, max_m: float
) -> list[tuple[int, float]]:
    """Every place measured: the `limit` nearest within `max_m`, as (index, metres), nearest first."""
    distances = np.hypot(eastings - origin[0], northings - origin[1])
    order = np.argsort(distances, kind="stable")[:limit]
    return [(int(i), float(distances[i])) for i in order if distances[i] <= max_m]


def scattered(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = LONDON
    return rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)


@pytest.mark.parametrize(("count", "limit", "max_m"), [(97, 3, 15_000.0), (40, 3, 15_000.0), (12, 5, 4_000.0)])
def test_the_nearest_places_are_those_measuring_every_place_gives(count, limit, max_m):
    eastings, northings = scattered(count, seed=count)
    nearest = NearestPlaces(eastings, northings, limit, max_m)
    rng = random.Random(count)
    x0, y0, x1, y1 = LONDON
    # Places all over London, and some on the corners and edges of the squares the short lists are kept for.
    origins = [(rng.uniform(x0 - 5000, x1 + 5000), rng.uniform(y0 - 5000, y1 + 5000)) for _ in range(3000)]
    origins += [(530_000.0 + dx, 180_000.0 + dy) for dx in (0.0, 0.4, 999.9, 1000.0) for dy in (0.0, 500.0, 999.99)]
    for origin in origins:
        expected = nearest_bng(origin, eastings, northings, limit, max_m)
        found = nearest.near(origin)
        assert [i for i, _ in found] == [i for i, _ in expected], origin
        assert [d for _, d in found] == pytest.approx([d for _, d in expected], abs=1e-6)


def test_places_at_the_same_distance_come_lowest_index_first_and_none_beyond_the_limit():
    # Four places 300 m from (530 500, 180 500), one far off; then one 20 km away alone.
    eastings = np.array([530_800.0, 530_500.0, 530_200.0, 530_500.0, 545_000.0])
    northings = np.array([180_500.0, 180_800.0, 180_500.0, 180_200.0, 180_500.0])
    nearest = NearestPlaces(eastings, northings, 3, 15_000.0)
    assert nearest.near((530_500.0, 180_500.0)) == [(0, 300.0), (1, 300.0), (2, 300.0)]
    assert nearest.near((560_000.0, 180_500.0)) == [(4, 15_000.0)]  # exactly at the limit: kept
    assert nearest.near((590_000.0, 180_500.0)) == []  # nothing within 15 km


def test_fewer_places_than_asked_for_are_all_given_nearest_first():
    nearest = NearestPlaces(np.array([531_000.0, 530_100.0]), np.array([180_000.0, 180_000.0]), 3, 15_000.0)
    assert nearest.near((530_000.0, 180_000.0)) == [(1, 100.0), (0, 1000.0)]
