"""Revision 0010 lets a change set be "withdrawn" (issue 25); going back to 0009 keeps such a change as turned down."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from finder.store.migrate import downgrade, upgrade
from finder.store.models import utcnow
from finder.store.staff import ChangeSet
from tests.store.backends import BACKENDS, fresh_store
from tests.store.teamdata import SAMPLE_WARD
from tests.support.stores import discard

WITHDRAWN = (
    "INSERT INTO change_set (ward_code, source, status, created_at) VALUES ('E05013806', 'officer', 'withdrawn', :at)"
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_schema_accepts_withdrawn_and_a_downgrade_keeps_a_withdrawn_change_as_rejected_saying_why(
    backend, tmp_path
):
    store = fresh_store(backend, tmp_path)
    try:
        with store.session() as session:
            session.add(ChangeSet(ward_code=SAMPLE_WARD, source="officer", status="withdrawn", created_at=utcnow()))
        downgrade(store, "0009")
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT status, review_reason FROM change_set")).one() == (
                "rejected",
                "Withdrawn before review.",
            )
        with pytest.raises(IntegrityError), store.engine.begin() as connection:
            connection.execute(text(WITHDRAWN), {"at": utcnow().replace(tzinfo=None)})
        upgrade(store)
        with store.engine.begin() as connection:
            connection.execute(text(WITHDRAWN), {"at": utcnow().replace(tzinfo=None)})
    finally:
        discard(store)
