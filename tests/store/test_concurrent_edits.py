"""No lost updates under real concurrency: threads on real PostgreSQL connections saving the same record."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select

from finder.staff.editing import EditConflict
from finder.store.staff import Change, ChangeSet
from tests.services.test_editing import WARD, load_team, make_user, route, service
from tests.store.backends import fresh_store
from tests.support.stores import discard

THREADS = 6
SAVES_EACH = 12
TIME_LIMIT = 60.0  # seconds: the test stops saving after this, whatever the count


def test_parallel_saves_on_postgresql_lose_nothing_and_each_accepted_one_is_in_the_history(tmp_path):
    store = fresh_store("postgresql", tmp_path)
    try:
        load_team(store)
        editors = [make_user(store, f"Editor {i}", "ward_editor", wards=(WARD,)) for i in range(THREADS)]
        editing = service(store)
        accepted: list[tuple[int, str]] = []  # (change set id, label)
        conflicts: list[EditConflict] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(THREADS)
        deadline = time.monotonic() + TIME_LIMIT

        def work(n: int) -> None:
            try:
                start.wait()
                for k in range(SAVES_EACH):
                    if time.monotonic() > deadline:
                        return
                    opened = route(editing)
                    label = f"label {n}.{k}"
                    try:
                        saved = editing.update(
                            editors[n], WARD, "route", opened.id, {**opened.form(), "label": label}, opened.version
                        )
                    except EditConflict as exc:
                        with lock:
                            conflicts.append(exc)
                    else:
                        with lock:
                            accepted.append((saved.change_set_id, label))
            except BaseException as exc:  # reported below, on the test thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIME_LIMIT + 30)
        assert not errors, errors
        assert accepted and conflicts, "the test must have made editors collide"
        assert all(c.current_version is not None and c.changed_since for c in conflicts)

        final = route(editing)
        with store.reader() as session:
            rows = session.execute(
                select(ChangeSet.id, Change.after, Change.version)
                .join(Change)
                .where(ChangeSet.ward_code == WARD, ChangeSet.status == "applied", Change.field == "label")
                .order_by(Change.version)
            ).all()
            sets = session.scalar(select(func.count()).select_from(ChangeSet).where(ChangeSet.ward_code == WARD))
        # Every accepted save, and nothing else, is in the history, each made against the version before it.
        assert sets == len(accepted) == len(rows)
        assert sorted((r.id, r.after) for r in rows) == sorted(accepted)
        first = rows[0].version
        assert [r.version for r in rows] == list(range(first, first + len(rows)))
        # None lost: what is stored is the last accepted change, and the version counts every one.
        assert final.values["label"] == rows[-1].after
        assert final.version == first + len(rows)
    finally:
        discard(store)


def test_a_save_committed_between_another_saves_read_and_write_makes_that_one_a_conflict(store):
    """The version read at the start is not enough on its own: the UPDATE's version check catches this."""
    load_team(store)
    first, second = (make_user(store, name, "ward_editor", wards=(WARD,)) for name in ("First", "Second"))
    editing = service(store)
    opened = route(editing)
    read, written = threading.Event(), threading.Event()
    slow = threading.get_ident()

    def hold_first_flush(session, _context, _instances) -> None:
        """The first editor's save pauses after reading, until the second editor's save has committed."""
        if threading.get_ident() == slow and not read.is_set():
            read.set()
            assert written.wait(30)

    def second_saves() -> None:
        assert read.wait(30)
        editing.update(second, WARD, "route", opened.id, {**opened.form(), "label": "second"}, opened.version)
        written.set()

    event.listen(store.sessions, "before_flush", hold_first_flush)
    other = threading.Thread(target=second_saves)
    other.start()
    try:
        with pytest.raises(EditConflict) as caught:
            editing.update(first, WARD, "route", opened.id, {**opened.form(), "label": "first"}, opened.version)
    finally:
        written.set()
        other.join(30)
        event.remove(store.sessions, "before_flush", hold_first_flush)
    assert [(d.field, d.yours, d.current) for d in caught.value.differences] == [("label", "first", "second")]
    assert route(editing).values["label"] == "second"
    assert [e.who for e in editing.history(WARD)] == ["Second"]
