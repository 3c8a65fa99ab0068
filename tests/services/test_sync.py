"""The police.uk sync against a real HTTP server on 127.0.0.1 shaped like data.police.uk, on SQLite and PostgreSQL.

No mocks of requests: tests.support.policeuk_stub serves the real API's shapes (string
coordinates, HTML bios with <script>, nulls and missing keys, hyphenated priority keys, "N"-suffixed
ids) and misbehaves on cue (429 with Retry-After, 500s, a neighbourhood that keeps failing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from finder import create_app
from finder.config import ROOT
from finder.store import Store
from finder.store.migrate import upgrade
from finder.store.models import ContactRoute, Meeting, Officer, Place, Priority, SyncRun, Team
from finder.teams.policeuk_client import FetchError, PoliceUK
from finder.teams.sync import SyncError, WardMatcher
from tests.services.syncdata import AS_OF, MET, count, make_sync, met_data, serve
from tests.store import backends
from tests.support.policeuk_stub import Fault, PoliceUKStub, StubData, fake_force

# Every test that takes `store` runs on SQLite and on PostgreSQL.
migrated_store = backends.migrated_store
store = backends.store


@pytest.fixture(scope="module")
def matcher(geodata) -> WardMatcher:
    return WardMatcher(geodata.wards.wards)


def test_a_sync_stores_each_neighbourhood_with_its_people_events_priorities_and_stations(store, matcher):
    with serve(met_data()) as stub:
        sync, _ = make_sync(store, stub, matcher, now=lambda: AS_OF)
        report = sync.run("metropolitan")
    assert report.status == "complete" and not report.failed
    with store.reader() as session:
        team = session.scalar(select(Team).where(Team.ward_code == "E05013806"))
        assert (team.policeuk_id, team.name, team.source) == ("E05013806N", "St James's", "policeuk")
        assert team.description == "Welcome to the St James's team.\nWe listen & act."
        assert (team.population, team.centre_lat, team.centre_lon) == (11403, 51.503, -0.133)
        routes = [(r.kind, r.label, r.value) for r in team.routes if r.officer_id is None]
        assert routes == [
            ("email", "Email", "stjames.snt@example.org"),
            ("phone", "Phone", "020 7946 0001"),
            ("social", "X (Twitter)", "https://x.example.com/StJamesSNT"),
        ]  # fax is not offered; a javascript: "web" link and a null facebook are dropped
        officers = {o.name: o for o in team.officers}
        assert set(officers) == {"Jo Example", "Sam Sampleton", "Alex Notreal"}
        jo = officers["Jo Example"]
        assert (jo.rank, jo.role, jo.bio) == ("Sgt", "sergeant", "Jo leads the team.\nmore")
        assert (officers["Sam Sampleton"].role, officers["Alex Notreal"].role) == ("pcso", "other")
        sam = officers["Sam Sampleton"]  # an officer's email is a work contact field, shown once marked public
        assert (sam.routes, sam.work_email, sam.email_public) == ([], "sam@example.org", False)
        meetings = [(m.title, m.kind, m.start, m.end) for m in team.meetings]
        assert meetings == [
            ("St James's ward panel", "ward_panel", datetime(2026, 12, 1, 18, 30), datetime(2026, 12, 1, 20, 0)),
            ("Cuppa with a copper", "contact_session", datetime(2026, 12, 3, 10, 0), None),
        ]
        assert team.meetings[0].place == "Example Hall, 2 Example Street"
        priorities = [(p.issue, p.action, str(p.issue_date), str(p.action_date)) for p in team.priorities]
        assert priorities == [
            ("Phone snatches on the square.", "Patrols at busy times.", "2026-09-20", "2026-10-14"),
            ("Bikes ridden on pavements", None, "None", "None"),
        ]
        places = {p.name: p for p in team.places}
        station = places["Example Road police station (fictional)"]
        assert (station.kind, station.lat, station.lon) == ("front_counter", 51.5045, -0.1385)
        assert (station.address, station.description) == ("1 Example Road, London", "Front counter open 24 hours")
        mobile = places["Mobile police station"]
        assert (mobile.kind, mobile.lat, mobile.lon) == ("contact_point", None, None)
        minimal = session.scalar(select(Team).where(Team.ward_code == "E05013805"))
        assert (minimal.name, minimal.officers, minimal.meetings, minimal.description) == (
            "Regent's Park",
            [],
            [],
            None,
        )
    assert "E05013806N: 1 event(s) without a readable start date left out" in report.notes


def test_no_markup_or_script_from_police_uk_reaches_the_store(store, matcher):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
    with store.reader() as session:
        texts = [
            *session.scalars(select(Team.description)),
            *session.scalars(select(Officer.name)),
            *session.scalars(select(Officer.bio)),
            *session.scalars(select(Meeting.title)),
            *session.scalars(select(Priority.issue)),
            *session.scalars(select(Place.description)),
            *session.scalars(select(ContactRoute.value)),
        ]
    for text in filter(None, texts):
        assert "<" not in text and "javascript:" not in text and "alert" not in text and "steal" not in text, text


def test_neighbourhoods_are_matched_to_wards_by_id_then_by_name_and_the_rest_are_reported(store, matcher):
    with serve(met_data()) as stub:
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert dict(report.matched) == {"id": 2, "name": 1}
    assert report.unmatched == [
        ("WRP", "Regent's Park", "its name matches 2 wards"),
        ("HEATHROW", "Heathrow Airport", "no ward has this code or name"),
        ("E05009290", "Bassishaw", "ward E05009290 is policed by city-of-london, not metropolitan"),
        ("E05013806", "St James's (old id)", "ward E05013806 is already matched to neighbourhood E05013806N"),
    ]
    with store.reader() as session:
        wards = dict(session.execute(select(Team.policeuk_id, Team.ward_code)).all())
    assert wards["00BKX6"] == "E05013808"  # West End, by name
    assert wards["HEATHROW"] is None and wards["WRP"] is None  # stored, reported, shown nowhere
    assert "unmatched: 4" in "\n".join(report.lines())


def test_a_429_waits_for_its_retry_after_and_a_500_is_retried_with_backoff(store, matcher):
    with serve(met_data()) as stub:
        stub.fail(f"{MET}/E05013806N/people", Fault(429, {"Retry-After": "1"}, "slow down"))
        stub.fail(f"{MET}/E05013805", Fault(500), Fault(503))
        sync, _ = make_sync(store, stub, matcher)
        report = sync.run("metropolitan")
        log = list(stub.log)
    assert report.status == "complete"
    stats = sync.client.stats
    assert (stats.throttled, stats.server_errors, stats.retries) == (1, 2, 3)
    people = [r for r in log if r.path == f"{MET}/E05013806N/people"]
    assert [r.status for r in people] == [429, 200]
    assert people[1].at - people[0].at >= 0.95  # Retry-After: 1 was honoured
    assert [r.status for r in log if r.path == f"{MET}/E05013805"] == [500, 503, 200]
    assert count(store, Officer) == 4


def test_a_429_asking_for_an_hour_waits_only_the_longest_wait_and_a_400_is_not_asked_again():
    with serve(met_data()) as stub:
        stub.fail(f"{MET}/E05013805", Fault(429, {"Retry-After": "3600"}), Fault(400))
        client = PoliceUK(stub.url, max_wait=0.3)
        started = time.monotonic()
        with pytest.raises(FetchError, match="HTTP 400"):
            client.get("metropolitan", "E05013805")
        waited = time.monotonic() - started
        log = list(stub.log)
    assert 0.28 <= waited < 5
    assert [r.status for r in log] == [429, 400]
    assert (client.stats.throttled, client.stats.retries) == (1, 1)


def test_a_neighbourhood_that_keeps_failing_is_reported_and_the_next_run_fetches_only_what_is_left(store, matcher):
    with serve(met_data()) as stub:
        stub.broken.add(f"{MET}/00BKX6/people")
        first = make_sync(store, stub, matcher)[0].run("metropolitan")
        assert first.status == "incomplete"
        assert [nid for nid, _ in first.failed] == ["00BKX6"]
        assert "still after 5 retries" in first.failed[0][1]
        assert count(store, Team) == 6

        stub.broken.clear()
        before = len(stub.log)
        second = make_sync(store, stub, matcher)[0].run("metropolitan")
        fetched = [r.path for r in stub.log[before:]]
    assert second.resumed and second.run_id == first.run_id and second.status == "complete"
    assert (second.already_done, second.synced) == (6, 1)
    assert fetched == [
        f"{MET}/neighbourhoods",
        "/api/forces/metropolitan",  # its engagement methods, once a run
        f"{MET}/00BKX6",
        f"{MET}/00BKX6/people",
        f"{MET}/00BKX6/events",
        f"{MET}/00BKX6/priorities",
    ]
    assert count(store, Team) == 7 and count(store, Officer) == 4
    with store.reader() as session:
        assert [r.status for r in session.scalars(select(SyncRun))] == ["complete"]


def test_a_sync_killed_half_way_resumes_without_refetching_or_duplicating(store, matcher, geodata):
    wards = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "metropolitan"][:12]
    data = fake_force("metropolitan", wards, seed=7)
    listed = [n["id"] for n in data.neighbourhoods["metropolitan"]]
    env = {
        **os.environ,
        "FINDER_ENV": "development",
        "DATABASE_URL": store.url,
        "FINDER_POLICEUK_WORKERS": "1",
        "FINDER_POLICEUK_RATE": "200",
        "FINDER_POLICEUK_BURST": "200",
    }
    with serve(data) as stub:
        env["FINDER_POLICEUK_URL"] = stub.url
        process = subprocess.Popen(
            [sys.executable, "-m", "finder.cli", "sync-policeuk", "--force", "metropolitan"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

        def kill_at_the_sixth_neighbourhood(path: str) -> None:
            if path == f"{MET}/{listed[5]}":
                os.kill(process.pid, signal.SIGKILL)

        stub.on_request = kill_at_the_sixth_neighbourhood
        output = process.communicate(timeout=120)[0].decode()
        assert process.returncode == -signal.SIGKILL, output
        stub.on_request = None
        with store.reader() as session:
            done = set(session.scalars(select(Team.policeuk_id)))
            run_id, status = session.execute(select(SyncRun.id, SyncRun.status)).one()
        assert 0 < len(done) < len(listed) and status == "running"

        before = len(stub.log)
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
        refetched = {r.path.split("/")[3] for r in stub.log[before:] if r.path.startswith(f"{MET}/E")}
    assert report.resumed and report.run_id == run_id and report.status == "complete"
    assert refetched == set(listed) - done
    with store.reader() as session:
        assert sorted(session.scalars(select(Team.policeuk_id))) == sorted(listed)
        officers = session.execute(select(Officer.team_id, Officer.key)).all()
        assert len(officers) == len(set(officers))
    assert count(store, SyncRun) == 1


def test_a_dry_run_prints_what_would_change_and_writes_nothing(store, matcher):
    with serve(met_data()) as stub:
        sync, lines = make_sync(store, stub, matcher)
        report = sync.run("metropolitan", dry_run=True)
        assert report.dry_run and report.run_id is None
        assert count(store, Team) == 0 and count(store, SyncRun) == 0 and count(store, Place) == 0
        text = "\n".join(lines + report.lines())
        assert "E05013806N St James's -> ward E05013806" in text
        assert "+ officer Jo Example (Sgt)" in text
        assert "+ route email stjames.snt@example.org" in text
        assert "would change: " in text and "team.add 7" in text

        make_sync(store, stub, matcher)[0].run("metropolitan")
        stub.data.people[("metropolitan", "E05013806N")][0]["rank"] = "Inspector"
        sync, lines = make_sync(store, stub, matcher)
        sync.run("metropolitan", dry_run=True)
    assert "    ~ officer Jo Example (Inspector) (rank, role)" in lines
    with store.reader() as session:
        assert session.scalar(select(Officer.rank).where(Officer.name == "Jo Example")) == "Sgt"


def test_syncing_again_changes_nothing(store, matcher):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        before = {m.__tablename__: count(store, m) for m in (Team, Officer, ContactRoute, Meeting, Priority, Place)}
        again = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert not again.resumed and again.status == "complete"
    assert {k: v for k, v in again.changes.items() if k[1] != "keep"} == {}
    assert {m.__tablename__: count(store, m) for m in (Team, Officer, ContactRoute, Meeting, Priority, Place)} == before


def test_what_an_officer_verified_survives_a_sync_and_the_conflict_is_reported(store, matcher):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        with store.session() as session:
            jo = session.scalar(select(Officer).where(Officer.name == "Jo Example"))
            jo.bio, jo.verified_at, jo.verified_by = "Corrected by Jo.", datetime.now().astimezone(), "jo"
        stub.data.people[("metropolitan", "E05013806N")][0]["bio"] = "<p>Something else</p>"
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert report.conflicts == [
        "E05013806N St James's: ! officer Jo Example (Sgt) (bio): kept what an officer verified"
    ]
    with store.reader() as session:
        assert session.scalar(select(Officer.bio).where(Officer.name == "Jo Example")) == "Corrected by Jo."


def test_a_team_police_uk_stops_listing_is_removed_after_a_complete_run(store, matcher):
    with serve(met_data()) as stub:
        make_sync(store, stub, matcher)[0].run("metropolitan")
        stub.data.neighbourhoods["metropolitan"] = [
            n for n in stub.data.neighbourhoods["metropolitan"] if n["id"] != "00BKX6"
        ]
        report = make_sync(store, stub, matcher)[0].run("metropolitan")
    assert report.removed_teams == ["00BKX6 West End"]
    assert count(store, Team) == 6


def test_city_of_london_neighbourhoods_sync_into_city_wards(store, matcher, geodata):
    city = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "city-of-london"][:3]
    with serve(fake_force("city-of-london", city, seed=3)) as stub:
        report = make_sync(store, stub, matcher)[0].run("city-of-london")
    assert report.status == "complete" and sum(report.matched.values()) == 3 and not report.unmatched
    with store.reader() as session:
        assert set(session.scalars(select(Team.force_id))) == {"city-of-london"}


def test_an_unknown_force_or_an_empty_list_stops_before_anything_is_written(store, matcher):
    data = StubData()
    data.neighbourhoods["metropolitan"] = []
    with serve(data) as stub:
        sync, _ = make_sync(store, stub, matcher)
        with pytest.raises(SyncError, match="unknown force 'leicestershire'"):
            sync.run("leicestershire")
        with pytest.raises(SyncError, match="listed no neighbourhoods"):
            sync.run("metropolitan")
        with pytest.raises(SyncError, match="could not read the city-of-london neighbourhood list"):
            stub.broken.add("/api/city-of-london/neighbourhoods")
            sync.run("city-of-london")
    assert count(store, SyncRun) == 0


def test_the_sync_holds_to_the_rate_limit_the_api_enforces(matcher, geodata):
    """Not parametrised: timing, not storage. The stub enforces the real limit (15/s, burst 30)."""
    memory = Store("sqlite://")
    upgrade(memory)
    wards = [(w.code, w.name) for w in geodata.wards.wards if w.force_id == "metropolitan"][:20]
    with PoliceUKStub(fake_force("metropolitan", wards)) as stub:  # the real limit: 15 a second, bursts of 30
        sync, _ = make_sync(memory, stub, matcher, rate=14, burst=20, workers=4)  # the defaults
        started = time.monotonic()
        report = sync.run("metropolitan")
        elapsed = time.monotonic() - started
        assert stub.count(429) == 0, "the stub's leaky bucket had to refuse requests"
    assert report.status == "complete" and len(stub.log) == 82  # the list, the force, 4 for each neighbourhood
    # No 429 is the API's own line: the stub refuses what the real limit would. The sync's tighter budget (20 at
    # once, then 14 a second) is held exactly on a fake clock in tests/services/test_sync_parts.py. Here the
    # pace is read from the sync's own send times: the stub stamps a request when it answers it, and on a busy
    # machine those stamps bunch (36 in one second, and 15.2 a second after the burst, in runs of .ci/run).
    # A send can only be later than its turn, never earlier, so the 62 after the burst span at least 62 / 14 s.
    sent = list(sync.client.stats.times)
    assert len(sent) == 82
    assert sent[-1] - sent[0] >= (82 - 20) / 14 - 0.05
    assert elapsed >= (82 - 20) / 14 - 0.05  # it really waited


def test_the_command_line_sync_prints_its_summary(matcher, tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"})
    with serve(met_data()) as stub:
        dry = app.test_cli_runner().invoke(
            args=["sync-policeuk", "--force", "metropolitan", "--url", stub.url, "--dry-run"]
        )
        real = app.test_cli_runner().invoke(args=["sync-policeuk", "--force", "metropolitan", "--url", stub.url])
    assert dry.exit_code == 0, dry.output
    assert "(dry run: nothing will be written)" in dry.output and "would change: " in dry.output
    assert real.exit_code == 0, real.output
    assert "metropolitan: 7 neighbourhoods listed; 7 synced; status complete" in real.output
    assert "HEATHROW 'Heathrow Airport': no ward has this code or name" in real.output
