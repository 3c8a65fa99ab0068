"""What a police.uk sync (or a snapshot load) changed, written into the wards' history.

The sync and the snapshot loader call `record_sync` in their own transaction: applied changes become
a change set with source "policeuk", and each difference from a record an officer entered or
verified waits as a pending change set, the editors' task "police.uk says X, you have Y". Kept
apart from the edit rules (finder.staff.editing) because it needs none of them: only the
history's shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finder.staff.history import FIELDS, MODELS, snapshot_rows, to_text
from finder.store.staff import Change, ChangeSet


def record_sync(session: Session, ward_code: str | None, changes: Iterable[Any], now: datetime) -> ChangeSet | None:
    """Write what a police.uk sync changed in one team into the ward's history (source "policeuk"),
    and each conflict with an officer's record as a pending change set: the task "police.uk says X,
    you have Y" (`before` the team's value, `after` police.uk's). A conflict already waiting with the
    same values is not repeated; one with other values is replaced."""
    if not ward_code:
        return None
    rows: list[Change] = []
    for c in changes:
        record = getattr(c, "record", None)
        entity = "place" if c.entity == "place link" else c.entity
        if record is None or entity not in (*MODELS, "place"):
            continue
        if c.action == "conflict" and entity != "place":
            _record_conflict(session, ward_code, entity, record, c, now)
        else:
            rows += _applied_rows(entity, record, c)
    if not rows:
        return None
    change_set = ChangeSet(ward_code=ward_code, source="policeuk", status="applied", created_at=now, changes=rows)
    session.add(change_set)
    return change_set


def _applied_rows(entity: str, record: Any, c: Any) -> list[Change]:
    """The history rows of one change the sync applied (a place link: only its removal is kept)."""
    if entity == "place":
        if c.action == "remove":
            return [Change(entity="place", entity_id=record.id, action="remove", field="linked", before="yes")]
        return []
    if c.action == "add":
        return [
            Change(entity=entity, entity_id=record.id, action="add", field=k, after=to_text(getattr(record, k)))
            for k in FIELDS[entity]
            if getattr(record, k) is not None
        ]
    if c.action == "update":
        return [
            Change(
                entity=entity,
                entity_id=record.id,
                action="update",
                field=k,
                before=to_text(b),
                after=to_text(a),
                version=c.version,
            )
            for k, b, a in c.values
        ]
    if c.action == "remove":
        return [replace_version(r, c.version) for r in snapshot_rows(entity, record, "remove")]
    return []


def replace_version(row: Change, version: int | None) -> Change:
    """A snapshot row with the version the record had before the sync touched it."""
    if version is not None:
        row.version = version
    return row


def _record_conflict(session: Session, ward_code: str, entity: str, record: Any, c: Any, now: datetime) -> None:
    """The task for the ward's editors, unless the same one is already waiting (another one is replaced)."""
    if c.values:
        wanted = [(k, to_text(ours), to_text(theirs)) for k, ours, theirs in c.values if k in FIELDS[entity]]
        action = "update"
    else:  # police.uk no longer lists a record an officer verified
        wanted, action = [(None, None, None)], "remove"
    if not wanted:
        return
    waiting = (
        session.scalars(
            select(ChangeSet)
            .join(Change)
            .where(
                ChangeSet.ward_code == ward_code,
                ChangeSet.source == "policeuk",
                ChangeSet.status == "pending",
                Change.entity == entity,
                Change.entity_id == record.id,
            )
        )
        .unique()
        .all()
    )
    for old in waiting:
        if [(r.field, r.before, r.after) for r in old.changes] == wanted and old.changes[0].action == action:
            return
        session.delete(old)
    rows = [
        Change(entity=entity, entity_id=record.id, action=action, field=k, before=b, after=a, version=record.version)
        for k, b, a in wanted
    ]
    session.add(ChangeSet(ward_code=ward_code, source="policeuk", status="pending", created_at=now, changes=rows))


__all__ = ["record_sync", "replace_version"]
