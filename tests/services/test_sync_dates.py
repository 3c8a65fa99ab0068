"""Events dated where no meeting can be (issue 22, item 1), through the real sync against a local police.uk server.

9999-12-31 is past the window a meeting may have (a year back, two years ahead); 0001-01-01T00:00:00+01:00 is
before the first London time Python can hold, so converting it raised and stopped the sync on every resume.
Each is left out and reported, and the run carries on. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from finder.store.models import Meeting, Priority, SyncRun
from finder.teams.sync import WardMatcher
from tests.services.syncdata import AS_OF, EVENTS, MET, PEOPLE, PRIORITIES, bare, make_sync, serve, st_james
from tests.store import backends
from tests.support.policeuk_stub import StubData

migrated_store = backends.migrated_store
store = backends.store

FAR_FUTURE = {"title": "Panel at the end of time", "type": "meeting", "start_date": "9999-12-31T23:30:00"}
YEAR_ONE = {"title": "Panel at the dawn of time", "type": "meeting", "start_date": "0001-01-01T00:00:00+01:00"}
OLD_PRIORITY = {"issue": "Horses in the road", "issue-date": "0001-01-01T00:00:00+01:00", "action": None}


@pytest.fixture(scope="module")
def matcher(geodata) -> WardMatcher:
    return WardMatcher(geodata.wards.wards)


def with_bad_dates() -> StubData:
    """St James's with a 9999 and a year-one event and a year-one priority, and a second neighbourhood."""
    data = StubData()
    events = [*copy.deepcopy(EVENTS), FAR_FUTURE, YEAR_ONE]
    data.add("metropolitan", st_james(), copy.deepcopy(PEOPLE), events, [*copy.deepcopy(PRIORITIES), OLD_PRIORITY])
    data.add("metropolitan", bare("E05013805", "Regent's Park"))
    return data


def stored_meetings(store) -> list[str]:
    with store.reader() as session:
        return list(session.scalars(select(Meeting.title).order_by(Meeting.start)))


def test_events_dated_9999_and_year_one_are_left_out_and_reported_and_the_rest_is_stored(store, matcher):
    with serve(with_bad_dates()) as stub:
        sync, _ = make_sync(store, stub, matcher, now=lambda: AS_OF)
        report = sync.run("metropolitan")
    assert report.status == "complete" and not report.failed and report.synced == 2
    assert stored_meetings(store) == ["St James's ward panel", "Cuppa with a copper"]
    assert (
        "E05013806N: 1 event(s) dated outside the meeting window (between 1 November 2025 and 31 October 2028) "
        "left out: 'Panel at the end of time' (9999-12-31T23:30:00)" in report.notes
    )
    assert "E05013806N: 2 event(s) without a readable start date left out" in report.notes  # null, and year one
    assert any("Panel at the end of time" in line for line in report.lines())
    with store.reader() as session:
        old = session.scalar(select(Priority).where(Priority.issue == "Horses in the road"))
        assert old.issue_date is None  # kept, undated: the date is not one a London calendar holds


def test_a_run_stopped_part_way_resumes_past_a_year_one_event_and_completes(store, matcher):
    with serve(with_bad_dates()) as stub:
        stub.broken.add(f"{MET}/E05013806N/priorities")  # St James's fails this run: the next one resumes it
        first = make_sync(store, stub, matcher, now=lambda: AS_OF)[0].run("metropolitan")
        assert first.status == "incomplete" and [nid for nid, _ in first.failed] == ["E05013806N"]

        stub.broken.clear()
        before = len(stub.log)
        second = make_sync(store, stub, matcher, now=lambda: AS_OF)[0].run("metropolitan")
        fetched = {r.path for r in stub.log[before:]}
    assert second.resumed and second.run_id == first.run_id and second.status == "complete"
    assert f"{MET}/E05013806N/events" in fetched and f"{MET}/E05013805" not in fetched
    assert "E05013806N: 2 event(s) without a readable start date left out" in second.notes
    assert stored_meetings(store) == ["St James's ward panel", "Cuppa with a copper"]
    with store.reader() as session:
        assert [r.status for r in session.scalars(select(SyncRun))] == ["complete"]
