"""Each process keeps the teams it read for a short while, so lookups stay fast; changes show after it.

After the store fails, it is left alone for a short while too: lookups answer "unavailable" at once.
"""

import pytest

from finder.services.samples import load_sample_teams, remove_sample_teams
from finder.services.teams import TeamDirectory, TeamsUnavailable
from finder.store import Store
from finder.store.migrate import upgrade
from tests.store.teamdata import FORCE_NAMES, NO_TEAM_WARD, SAMPLE_WARD, team_store


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


def test_after_the_store_fails_it_is_not_asked_again_until_the_back_off_ends(geodata, tmp_path):
    store, clock = Store(f"sqlite:///{tmp_path / 'teams.db'}"), Clock()  # never migrated: every read fails
    teams = TeamDirectory(store, geodata.wards, monotonic=clock, backoff_seconds=15)
    assert teams.state == "unknown"
    assert teams.lookup(SAMPLE_WARD).status == "unavailable"
    assert teams.state == "unavailable"

    upgrade(store)  # the store comes back
    load_sample_teams(store, FORCE_NAMES)
    clock.now += 14
    assert teams.lookup(SAMPLE_WARD).status == "unavailable"  # not asked: still backing off
    with pytest.raises(TeamsUnavailable) as raised:
        teams.team(SAMPLE_WARD)
    assert raised.value.retry_after == 1
    clock.now += 2
    assert teams.lookup(SAMPLE_WARD).status == "loaded"
    assert teams.state == "ok"


def test_a_team_read_moments_ago_is_still_served_while_the_store_is_backing_off(geodata, tmp_path):
    store, clock = team_store(f"sqlite:///{tmp_path / 'teams.db'}"), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock, backoff_seconds=15)
    assert teams.lookup(SAMPLE_WARD).status == "loaded"
    store.dispose()
    (tmp_path / "teams.db").write_bytes(b"not a database any more")
    clock.now += 5
    assert teams.lookup(NO_TEAM_WARD).status == "unavailable"  # not cached: the store fails
    assert teams.lookup(SAMPLE_WARD).status == "loaded"  # cached 5 s ago: still what this process read
