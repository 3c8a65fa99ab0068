"""The sync never deletes on a bad answer: wrong shapes fail, shrinks wait for --allow-shrink, teams have caps.

Against the police.uk-shaped stub on 127.0.0.1, on SQLite and PostgreSQL. Each test first syncs good
data, then serves a bad answer and checks that nothing the store held was removed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from finder import create_app
from finder.store import Store
from finder.store.models import ContactRoute, Meeting, Officer, Place, Priority, SyncRun, Team
from finder.teams.policeuk_answers import MAX_MEETINGS, MAX_OFFICERS, MAX_PRIORITIES, MAX_ROUTES
from finder.teams.sync import WardMatcher
from tests.services.syncdata import MET, count, make_sync, met_data, serve, st_james
from tests.store import backends
from tests.support.policeuk_stub import Fault, fake_force

migrated_store = backends.migrated_store
store = backends.store

ST_JAMES = ("metropolitan", "E05013806N")
TABLES = (Team, Officer, ContactRoute, Meeting, Priority, Place)


@pytest.fixture(scope="module")
def matcher(geodata) -> WardMatcher:
    return WardMatcher(geodata.wards.wards)


def snapshot(store: Store) -> dict[str, int]:
    """How many rows each team table holds."""
    return {model.__tablename__: count(store, model) for model in TABLES}


def officer(n: int, **extra) -> dict:
    return {"name": f"Officer {n} Example", "rank": "PC", "bio": None, "contact_details": {}, **extra}


def many(n: int, item) -> list:
    return [item(k) for k in range(n)]


BAD_ANSWERS = {
    "people: an error object": ("people", {"error": "Service temporarily unavailable"}),
    "people: null": ("people", None),
    "people: an object, not a list": ("people", {"name": "Jo Example"}),
    "people: an item without a name": ("people", [{"rank": "PC", "bio": "renamed key"}]),
    "people: an item that is not an object": ("people", ["Jo Example"]),
    "people: more officers than one team may hold": ("people", many(MAX_OFFICERS + 1, officer)),
    "events: an error object": ("events", {"error": "oops"}),
    "events: an item without a start_date": ("events", [{"title": "Ward panel", "startDate": "2026-12-01"}]),
    "events: more meetings than one team may hold": (
        "events",
        many(MAX_MEETINGS + 1, lambda k: {"title": f"Meeting {k}", "start_date": "2026-12-01T18:00:00"}),
    ),
    "priorities: null": ("priorities", None),
    "priorities: more than one team may hold": ("priorities", many(MAX_PRIORITIES + 1, lambda k: {"issue": f"{k}"})),
    "details: an error object": ("details", {"error": "Not available"}),
    "details: null": ("details", None),
    "details: no locations": ("details", {k: v for k, v in st_james().items() if k != "locations"}),
    "details: locations null": ("details", {**st_james(), "locations": None}),
    "details: contact_details a list": ("details", {**st_james(), "contact_details": []}),
}


@pytest.mark.parametrize("endpoint, answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_wrong_shaped_answer_is_retried_then_fails_and_nothing_is_removed(store, matcher, endpoint, answer):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        before = snapshot(store)
        stub.data.neighbourhoods["metropolitan"].pop()  # a team no longer listed: a complete run would remove it
        getattr(stub.data, endpoint)[ST_JAMES] = answer
        sync, lines = make_sync(store, stub, matcher, retries=2)
        sent = len(stub.log)
        report = sync.run("metropolitan")
        path = f"{MET}/E05013806N" + ("" if endpoint == "details" else f"/{endpoint}")
        assert [r.path for r in stub.log[sent:]].count(path) == 3  # the first answer and two retries
    assert report.status == "incomplete" and not report.removed_teams
    [(nid, reason)] = report.failed
    assert nid == "E05013806N" and "a wrong-shaped answer" in reason, reason
    assert sync.client.stats.wrong_shape == 3
    assert snapshot(store) == before
    with store.reader() as session:
        assert session.scalar(select(SyncRun.status).order_by(SyncRun.id.desc())) == "incomplete"
    assert any("FAILED" in line for line in lines + report.lines())


def test_a_wrong_shaped_answer_then_a_good_one_is_a_retry_not_a_failure(store, matcher):
    with serve(met_data()) as stub:
        stub.fail(f"{MET}/E05013806N/people", Fault(200, body='{"error": "busy"}'), Fault(200, body="null"))
        sync, _ = make_sync(store, stub, matcher)
        report = sync.run("metropolitan")
    assert report.status == "complete" and not report.failed
    assert (sync.client.stats.wrong_shape, sync.client.stats.retries) == (2, 2)
    with store.reader() as session:
        team = session.scalar(select(Team).where(Team.policeuk_id == "E05013806N"))
        assert {o.name for o in team.officers} == {"Jo Example", "Sam Sampleton", "Alex Notreal"}


def test_a_404_for_a_neighbourhoods_people_fails_it_instead_of_emptying_it(store, matcher):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        before = snapshot(store)
        stub.fail(f"{MET}/E05013806N/people", Fault(404))
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert report.status == "incomplete"
    assert report.failed == [("E05013806N", "police.uk has no people for it (404)")]
    assert snapshot(store) == before


def test_a_team_with_more_contact_routes_than_it_may_hold_fails_and_keeps_what_it_had(store, matcher):
    people = many(
        MAX_ROUTES // 2 + 1,
        lambda k: officer(k, contact_details={"twitter": f"https://x.com/o{k}", "web": f"https://example.org/o{k}"}),
    )
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        before = snapshot(store)
        stub.data.people[ST_JAMES] = people
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    [(nid, reason)] = report.failed
    assert nid == "E05013806N" and f"more than the {MAX_ROUTES} one team may hold" in reason
    assert report.status == "incomplete" and snapshot(store) == before


def test_a_force_listing_that_shrinks_from_three_to_one_removes_nothing_without_allow_shrink(store, matcher, geodata):
    wards = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "metropolitan"][:3]
    with serve(fake_force("metropolitan", wards, seed=5)) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        assert count(store, Team) == 3
        listing = stub.data.neighbourhoods["metropolitan"]
        stub.data.neighbourhoods["metropolitan"] = listing[:1]
        held = make_sync(store, stub, matcher)[0].run("metropolitan")
        assert held.status == "incomplete" and not held.removed_teams
        assert held.held == [
            ("listing", "police.uk lists 1 neighbourhoods; the store holds 3 teams from it; no team is removed")
        ]
        assert "HELD BACK: 1" in "\n".join(held.lines())
        assert count(store, Team) == 3

        allowed = make_sync(store, stub, matcher)[0].run("metropolitan", allow_shrink=True)
    assert allowed.status == "complete" and len(allowed.removed_teams) == 2
    assert count(store, Team) == 1


def test_a_team_that_shrinks_by_more_than_a_fifth_is_held_back_until_allowed(store, matcher):
    ten = many(10, officer)
    with serve(met_data()) as stub:
        stub.data.people[ST_JAMES] = ten
        make_sync(store, stub, matcher)[0].run("metropolitan")
        stub.data.people[ST_JAMES] = ten[:7]  # 3 of 10 gone: 30%
        stub.data.details[ST_JAMES]["population"] = "99999"  # an update that waits too
        held = make_sync(store, stub, matcher)[0].run("metropolitan")
        assert held.status == "incomplete" and held.synced == 6
        assert held.held == [("E05013806N", "St James's: officers 10 -> 7; nothing changed")]
        with store.reader() as session:
            team = session.scalar(select(Team).where(Team.policeuk_id == "E05013806N"))
            assert (len(team.officers), team.population) == (10, 11403)

        allowed = make_sync(store, stub, matcher)[0].run("metropolitan", allow_shrink=True)
    assert allowed.status == "complete" and allowed.resumed and allowed.synced == 1
    assert "E05013806N: officers 10 -> 7, allowed by --allow-shrink" in allowed.notes
    with store.reader() as session:
        team = session.scalar(select(Team).where(Team.policeuk_id == "E05013806N"))
        assert (len(team.officers), team.population) == (7, 99999)


def test_small_changes_need_no_flag_a_team_of_two_officers_may_become_one(store, matcher):
    with serve(met_data()) as stub:
        stub.data.people[ST_JAMES] = many(2, officer)
        stub.data.people[("metropolitan", "00BKX6")] = many(10, officer)
        make_sync(store, stub, matcher)[0].run("metropolitan")
        stub.data.people[ST_JAMES] = many(1, officer)  # 2 -> 1: half, but one person
        stub.data.people[("metropolitan", "00BKX6")] = many(8, officer)  # 10 -> 8: a fifth, not more
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert report.status == "complete" and not report.held
    assert count(store, Officer) == 9


def test_the_command_line_reports_a_shrink_and_allow_shrink_lets_it_through(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"})
    sync = ["sync-policeuk", "--force", "metropolitan"]
    with serve(met_data()) as stub:
        sync += ["--url", stub.url]
        assert app.test_cli_runner().invoke(args=sync).exit_code == 0
        stub.data.neighbourhoods["metropolitan"] = stub.data.neighbourhoods["metropolitan"][:2]
        held = app.test_cli_runner().invoke(args=sync)
        allowed = app.test_cli_runner().invoke(args=[*sync, "--allow-shrink"])
    assert held.exit_code == 1, held.output
    assert "HELD BACK: 1" in held.output and "police.uk lists 2 neighbourhoods; the store holds 7" in held.output
    assert allowed.exit_code == 0, allowed.output
    assert "status complete" in allowed.output and "teams no longer listed, removed:" in allowed.output
