"""Each process keeps the teams it read for a short while, so lookups stay fast; changes show after it."""

from finder.services.samples import remove_sample_teams
from finder.services.teams import TeamDirectory
from tests.store.teamdata import SAMPLE_WARD, team_store


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_team_is_served_until_the_cache_time_passes(geodata):
    store, clock = team_store(), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    assert teams.lookup(SAMPLE_WARD).status == "loaded"
    assert teams.lookup(SAMPLE_WARD, 51.501, -0.1416).front_counters

    remove_sample_teams(store)
    clock.now += 29
    assert teams.lookup(SAMPLE_WARD).status == "loaded"  # within 30 s: what this process read
    clock.now += 2
    assert teams.lookup(SAMPLE_WARD).status == "none"  # after: the store's answer


def test_without_a_cache_every_lookup_reads_the_store(geodata):
    store = team_store()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=0)
    assert teams.lookup(SAMPLE_WARD).status == "loaded"
    remove_sample_teams(store)
    assert teams.lookup(SAMPLE_WARD).status == "none"


def test_front_counters_are_measured_from_the_point_each_time_even_when_cached(geodata):
    teams = TeamDirectory(team_store(), geodata.wards, cache_seconds=30, monotonic=Clock())
    here = teams.lookup(SAMPLE_WARD, 51.5010, -0.1416).front_counters
    there = teams.lookup(SAMPLE_WARD, 51.5100, -0.1300).front_counters
    assert here and there
    assert [p.distance_m for p in here] != [p.distance_m for p in there]
