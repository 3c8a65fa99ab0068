"""Staff sessions in the store, on SQLite and PostgreSQL: the idle timeout, the lifetime, ending them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from finder.staff.accounts import Accounts
from finder.staff.sessions import EXPIRED, GONE, IDLE, StaffSessions
from finder.store.staff import StaffSession
from tests.services.test_accounts import Clock
from tests.store import backends
from tests.support.staff import make_user

migrated_store = backends.migrated_store
store = backends.store


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def sessions(store, clock) -> StaffSessions:
    return StaffSessions(store, idle=timedelta(minutes=30), lifetime=timedelta(hours=12), clock=clock)


def seen_at(store):
    with store.reader() as session:
        return session.scalars(select(StaffSession.seen_at)).one()


def test_last_seen_is_written_at_most_once_a_minute_and_the_idle_timeout_counts_from_it(sessions, store, clock):
    key = sessions.start(make_user(store, "ed@example.org"))
    started = seen_at(store)
    clock.now += timedelta(seconds=59)
    assert sessions.check(key)[0] is not None and seen_at(store) == started  # no write
    clock.now += timedelta(seconds=1)
    assert sessions.check(key)[0] is not None and seen_at(store) == clock.now
    clock.now += timedelta(minutes=30)
    assert sessions.check(key)[0] is not None  # 30 minutes after the last request: still in
    clock.now += timedelta(minutes=30, seconds=1)
    assert sessions.check(key) == (None, IDLE)
    assert sessions.check(key) == (None, GONE)  # and its row is gone


def test_a_session_ends_after_its_lifetime_however_busy(sessions, store, clock):
    key = sessions.start(make_user(store, "ed@example.org"))
    for _ in range(12 * 4):
        clock.now += timedelta(minutes=15)
        account, _ = sessions.check(key)
    assert account is not None
    clock.now += timedelta(seconds=1)
    assert sessions.check(key) == (None, EXPIRED)


def test_a_pending_session_signs_nobody_in_and_a_full_one_is_not_pending(sessions, store):
    account = make_user(store, "admin@example.org", "site_admin")
    pending, full = sessions.start(account, pending=True), sessions.start(account)
    assert sessions.check(pending)[0] is None and sessions.check(full, pending=True)[0] is None
    assert sessions.check(pending, pending=True)[0].id == sessions.check(full)[0].id == account.id


def test_signing_out_everywhere_deletes_every_session_of_that_user_only(sessions, store):
    ed, other = make_user(store, "ed@example.org"), make_user(store, "other@example.org")
    keys = [sessions.start(ed), sessions.start(ed)]
    kept = sessions.start(other)
    Accounts(store, secret="s").sign_out_everywhere(ed.id)
    assert [sessions.check(key) for key in keys] == [(None, GONE)] * 2
    assert sessions.check(kept)[0].id == other.id


def test_the_store_keeps_only_a_hash_of_the_session_id(sessions, store):
    key = sessions.start(make_user(store, "ed@example.org"))
    with store.reader() as session:
        stored = session.scalars(select(StaffSession.key_hash)).one()
    assert key not in stored and len(stored) == 64


def test_disabling_an_account_refuses_its_existing_sessions_on_their_next_request(sessions, store):
    admin = make_user(store, "bo@example.org", "borough_admin", borough_code="E09000033")
    editor = make_user(store, "ed@example.org", wards=["E05013806"])
    key = sessions.start(editor)
    assert sessions.check(key)[0] is not None
    Accounts(store, secret="test").set_active(admin, editor.id, False, {"E05013806": "E09000033"}.get)
    assert sessions.check(key)[0] is None
