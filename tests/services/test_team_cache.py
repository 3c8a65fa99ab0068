"""Each process keeps the teams it read for a short while, so lookups stay fast; changes show after it.

After the store fails, it is left alone for a short while too: lookups answer "unavailable" at once.
"""

import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import event, select, update

from finder.store import Store
from finder.store import models as m
from finder.store.migrate import upgrade
from finder.store.models import utcnow
from finder.teams.directory import TeamDirectory, TeamsUnavailable, encoded, london_now, team_to_api
from finder.teams.records import MeetingData, OfficerData, PriorityData, RouteData, TeamData, apply_team
from finder.teams.samples import load_sample_teams, remove_sample_teams
from tests.store import backends
from tests.store.teamdata import FORCE_NAMES, HOSTILE_WARD, NO_TEAM_WARD, SAMPLE_WARD, hostile_team, team_store

migrated_store, store = backends.migrated_store, backends.store  # on SQLite and PostgreSQL
BELSIZE, HAMPSTEAD_TOWN = "E05013652", "E05013659"  # Camden wards, not among the samples


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


def test_the_api_team_is_built_once_per_team_read_and_its_front_counters_each_lookup(geodata):
    store, clock = team_store(), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    here = team_to_api(teams.lookup(SAMPLE_WARD, 51.5010, -0.1416), SAMPLE_WARD)
    there = team_to_api(teams.lookup(SAMPLE_WARD, 51.5100, -0.1300), SAMPLE_WARD)
    assert here["officers"] is there["officers"]  # the same team read: its API parts made once
    assert here["front_counters"] != there["front_counters"]  # measured from each place
    assert {k: v for k, v in here.items() if k != "front_counters"} == {
        k: v for k, v in there.items() if k != "front_counters"
    }

    with store.session() as session:  # an officer renames the team; the next read makes a new Team
        session.execute(update(m.Team).where(m.Team.ward_code == SAMPLE_WARD).values(name="Renamed team"))
    clock.now += 31
    renamed = team_to_api(teams.lookup(SAMPLE_WARD, 51.5010, -0.1416), SAMPLE_WARD)
    assert renamed["name"] == "Renamed team" and renamed["officers"] is not here["officers"]


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
    with pytest.raises(TeamsUnavailable):
        teams.team(SAMPLE_WARD)  # the store fails
    assert teams.lookup(SAMPLE_WARD).status == "loaded"  # read 5 s ago: still what this process read
    assert teams.lookup(NO_TEAM_WARD).status == "none"  # read in the same pass: no team


def several_wards_team(today) -> TeamData:
    """A team serving two wards, with a route of its own and of its officer, past and coming meetings."""
    return TeamData(
        force_id="metropolitan",
        force_name=FORCE_NAMES["metropolitan"],
        name="Belsize and Hampstead Town team",
        ward_code=BELSIZE,
        extra_wards=[HAMPSTEAD_TOWN],
        routes=[RouteData("email", "Email", "belsize.test@example.org")],
        officers=[
            OfficerData("Sam Sergeant", "PS", "sergeant", routes=[RouteData("phone", "Desk", "020 7946 0111")]),
            OfficerData("Pat Constable", "PC", "police_constable"),
        ],
        meetings=[
            MeetingData("Last month's panel", "ward_panel", today - timedelta(days=30)),
            MeetingData("Next panel", "ward_panel", today + timedelta(days=3), today + timedelta(days=3, hours=1)),
        ],
        priorities=[PriorityData("Cycle theft", "Patrols at the station")],
    )


def filled(store: Store) -> Store:
    """The samples, the hostile team and a team serving two wards."""
    load_sample_teams(store, FORCE_NAMES)
    with store.session() as session:
        apply_team(session, hostile_team(), source="officer", now=utcnow())
        apply_team(session, several_wards_team(london_now()), source="policeuk", now=utcnow())
    return store


def wards_with_teams(store: Store) -> list[str]:
    with store.reader() as session:
        return sorted([*session.scalars(select(m.Team.ward_code)), *session.scalars(select(m.TeamWard.ward_code))])


@contextmanager
def counting_queries(store: Store) -> Iterator[list[str]]:
    """Every statement the store is sent while inside."""
    sent: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def add_teams(store: Store, wards: list[str]) -> None:
    with store.session() as session:
        for code in wards:
            team = TeamData("metropolitan", FORCE_NAMES["metropolitan"], f"Team {code}", code)
            team.routes = [RouteData("email", "Email", f"{code.lower()}@example.org")]
            apply_team(session, team, source="policeuk", now=utcnow())


def test_one_pass_over_every_team_gives_each_ward_the_same_team_as_reading_that_ward_alone(store, geodata):
    filled(store)
    now = london_now()
    kept = TeamDirectory(store, geodata.wards, clock=lambda: now, cache_seconds=30, monotonic=Clock())
    alone = TeamDirectory(store, geodata.wards, clock=lambda: now, cache_seconds=0)
    wards = wards_with_teams(store)
    assert {SAMPLE_WARD, HOSTILE_WARD, BELSIZE, HAMPSTEAD_TOWN} <= set(wards)
    for code in [*wards, NO_TEAM_WARD]:
        assert kept.lookup(code) == alone.lookup(code), code
    shared = kept.lookup(HAMPSTEAD_TOWN).team
    assert (shared.ward_code, shared.name) == (HAMPSTEAD_TOWN, "Belsize and Hampstead Town team")
    assert [o.title for o in shared.officers] == ["PS Sam Sergeant", "PC Pat Constable"]
    assert [x.title for x in shared.meetings] == ["Next panel"]
    assert [r.value for r in shared.officers[0].routes] == ["020 7946 0111"]


def test_reading_every_ward_after_the_cache_expires_costs_the_same_queries_however_many_teams(store, geodata):
    filled(store)
    clock = Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)

    def queries_to_read_every_ward() -> int:
        clock.now += 31
        with counting_queries(store) as sent:
            for code in wards_with_teams(store):
                assert teams.lookup(code).status == "loaded"
        return len(sent) - 2  # less wards_with_teams' own two

    before = queries_to_read_every_ward()
    add_teams(store, ["E05013653", "E05013654", "E05013656", "E05013657", "E05013658"])  # more Camden wards
    assert len(wards_with_teams(store)) == 12
    assert queries_to_read_every_ward() == before <= 7  # teams, team_ward, four of their parts, front counters


def test_the_first_lookup_after_the_cache_expires_reads_every_ward_in_one_pass(geodata):
    store, clock = filled(team_store()), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    assert teams.lookup(SAMPLE_WARD).status == "loaded"
    clock.now += 31
    assert teams.lookup(SAMPLE_WARD).status == "loaded"  # the pass: every ward read again

    remove_sample_teams(store)
    with counting_queries(store) as sent:
        assert teams.lookup(HAMPSTEAD_TOWN).status == "loaded"
        assert teams.lookup("E05009290").status == "loaded"  # a sample, removed since the pass
    assert sent == []
    clock.now += 30
    assert teams.lookup("E05009290").status == "none"


def test_a_forgotten_ward_is_read_again_at_once_and_only_it(geodata):
    store, clock = filled(team_store()), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    assert teams.lookup(BELSIZE).team.name == "Belsize and Hampstead Town team"
    with store.session() as session:
        session.execute(update(m.Team).where(m.Team.ward_code == BELSIZE).values(name="Renamed team"))

    teams.forget(BELSIZE)
    assert teams.lookup(BELSIZE).team.name == "Renamed team"
    assert teams.lookup(HAMPSTEAD_TOWN).team.name == "Belsize and Hampstead Town team"  # until the cache expires
    teams.forget(HAMPSTEAD_TOWN)
    assert teams.lookup(HAMPSTEAD_TOWN).team == replace(teams.lookup(BELSIZE).team, ward_code=HAMPSTEAD_TOWN)
    remove_sample_teams(store)
    teams.forget(SAMPLE_WARD)
    assert teams.lookup(SAMPLE_WARD).status == "none"


def test_a_forgotten_ward_the_store_could_not_read_is_read_when_the_store_is_back(geodata, tmp_path):
    path = tmp_path / "teams.db"
    store, clock = filled(team_store(f"sqlite:///{path}")), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock, backoff_seconds=15)
    assert teams.lookup(BELSIZE).status == "loaded"
    with store.session() as session:
        session.execute(update(m.Team).where(m.Team.ward_code == BELSIZE).values(name="Renamed team"))
    teams.forget(BELSIZE)

    store.dispose()
    path.rename(tmp_path / "away.db")  # the store fails: an empty file in its place has no tables
    assert teams.lookup(BELSIZE).status == "unavailable"
    store.dispose()
    (tmp_path / "away.db").replace(path)  # and comes back before the cache expires
    clock.now += 16
    assert teams.lookup(BELSIZE).team.name == "Renamed team"


def test_a_wards_own_front_counters_are_found_once_per_read_of_the_places(geodata):
    """From the ward's centre the answer is the same for every view, so it is kept (the same objects) until
    the places are read again; then a changed front counter shows."""
    store, clock = team_store(), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    first = teams.lookup(SAMPLE_WARD).front_counters
    assert first and teams.lookup(SAMPLE_WARD).front_counters is first
    assert teams.lookup(SAMPLE_WARD, 51.5010, -0.1416).front_counters is not first  # a point is measured afresh

    with store.session() as session:
        session.execute(update(m.Place).where(m.Place.kind == "front_counter").values(opening_hours="Closed for works"))
    clock.now += 29
    assert teams.lookup(SAMPLE_WARD).front_counters is first  # within the cache time: as read
    clock.now += 2
    after = teams.lookup(SAMPLE_WARD).front_counters
    assert [p.name for p in after] == [p.name for p in first]
    assert {p.opening_hours for p in after} == {"Closed for works"}


def test_a_read_that_finds_nothing_changed_keeps_the_objects_already_read(geodata):
    """Kept pages and API objects are keyed by the objects read: an unchanged team or front counter
    stays the same object across cache periods, and only what changed is new."""
    store, clock = team_store(), Clock()
    add_teams(store, [BELSIZE, HAMPSTEAD_TOWN])
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)
    belsize, hampstead = teams.lookup(BELSIZE), teams.lookup(HAMPSTEAD_TOWN)
    counters = teams.lookup(SAMPLE_WARD).front_counters
    assert belsize.team is not None and hampstead.team is not None and counters

    clock.now += 31  # both read again: nothing changed
    assert teams.lookup(BELSIZE).team is belsize.team
    assert teams.lookup(SAMPLE_WARD).front_counters is counters

    with store.session() as session:
        session.execute(update(m.Team).where(m.Team.ward_code == BELSIZE).values(name="Renamed team"))
        session.execute(update(m.Place).where(m.Place.kind == "front_counter").values(opening_hours="Closed"))
    clock.now += 31
    renamed = teams.lookup(BELSIZE).team
    assert renamed is not belsize.team and renamed.name == "Renamed team"
    assert teams.lookup(HAMPSTEAD_TOWN).team is hampstead.team  # unchanged: the same object
    after = teams.lookup(SAMPLE_WARD).front_counters
    assert after is not counters and {p.opening_hours for p in after} == {"Closed"}


def test_a_kept_team_drops_each_meeting_once_it_is_over_and_keeps_its_objects_until_then(store, geodata):
    """A meeting is over at its end, or an hour after its start when it gives no end; the team read at
    9:00 is kept all day (the monotonic clock stands still), while the wall clock moves on."""
    nine = london_now().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    with store.session() as session:
        team = TeamData("metropolitan", FORCE_NAMES["metropolitan"], "Belsize team", BELSIZE)
        team.routes = [RouteData("email", "Email", "belsize.test@example.org")]
        team.meetings = [
            MeetingData("Street surgery", "contact_session", nine + timedelta(hours=1)),  # no end: over at 11:00
            MeetingData("Ward panel", "ward_panel", nine + timedelta(minutes=30), nine + timedelta(hours=3)),
        ]
        apply_team(session, team, source="policeuk", now=utcnow())
    now = [nine]
    teams = TeamDirectory(store, geodata.wards, clock=lambda: now[0], cache_seconds=30, monotonic=Clock())

    def meetings() -> list[str]:
        return [x.title for x in teams.lookup(BELSIZE).team.meetings]

    assert meetings() == ["Ward panel", "Street surgery"]
    read = teams.lookup(BELSIZE).team
    now[0] = nine + timedelta(hours=2)  # 11:00: the surgery is over as its hour ends
    assert meetings() == ["Ward panel", "Street surgery"] and teams.lookup(BELSIZE).team is read
    now[0] = nine + timedelta(hours=2, seconds=1)
    assert meetings() == ["Ward panel"]
    assert teams.lookup(BELSIZE).team is teams.lookup(BELSIZE).team  # one object while nothing else ends
    now[0] = nine + timedelta(hours=3, seconds=1)
    assert meetings() == []


def test_a_part_encoded_ahead_holds_its_own_bytes_not_the_encoders_buffer():
    """Every team keeps seven of them for as long as it is cached: at orjson's 4 KB a piece, 700 teams held
    about 18 MB more per worker than their JSON."""
    links = {"page": "/wards/E05013806", "vcard": "/wards/E05013806/team.vcf"}
    assert orjson.dumps({"links": encoded(links)}) == orjson.dumps({"links": links})
    tracemalloc.start()
    try:
        kept = [encoded({**links, "n": n}) for n in range(1000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(kept) == 1000 and held / 1000 < 4 * len(orjson.dumps(links))


def test_threads_that_find_the_cache_expired_together_read_every_team_once(geodata):
    store, clock = filled(team_store()), Clock()
    teams = TeamDirectory(store, geodata.wards, cache_seconds=30, monotonic=clock)

    def queries_when_expired(threads: int) -> int:
        clock.now += 31
        start = threading.Barrier(threads)

        def look_up() -> None:
            start.wait()
            assert teams.lookup(SAMPLE_WARD).status == "loaded"

        with counting_queries(store) as sent:
            event.listen(store.engine, "before_cursor_execute", slow)
            try:
                workers = [threading.Thread(target=look_up) for _ in range(threads)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            finally:
                event.remove(store.engine, "before_cursor_execute", slow)
        return len(sent)

    def slow(*args) -> None:
        time.sleep(0.02)  # a store a little slower than this one: every thread arrives during the pass

    assert queries_when_expired(4) == queries_when_expired(1) > 0
