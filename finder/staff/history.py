"""The wards' change history: what each change set holds, read back, exported, replayed and undone.

Every save writes a `ChangeSet` with one `Change` per field (before and after, as text); this module
reads them back as `HistoryEntry`s, exports them as CSV, and turns their rows back into operations
(`Op`): the `after` values of a pending change set to approve, the `before` values of an applied one
to restore. The edit rules that apply those operations are in finder.staff.editing, which builds
on this module (never the other way round). `Op`, `MODELS` and `FIELDS` live here because the
history's rows are written and replayed in their terms.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from finder.store import Store
from finder.store import models as m
from finder.store.models import UTCDateTime
from finder.store.staff import Change, ChangeSet, StaffUser
from finder.teams import schema

# type[Any]: the code reads the columns some of them have (team_id, key) by entity
MODELS: dict[str, type[Any]] = {
    "team": m.Team,
    "route": m.ContactRoute,
    "officer": m.Officer,
    "meeting": m.Meeting,
    "priority": m.Priority,
}
# What an editor may change on each kind of record, from its schema (a route's officer is fixed when added).
FIELDS: dict[str, tuple[str, ...]] = {entity: schema.editable(entity) for entity in MODELS}
CSV_COLUMNS = (
    "find_change_set",
    "when_utc",
    "ward",
    "who",
    "source",
    "status",
    "note",
    "entity",
    "entity_id",
    "action",
    "field",
    "before",
    "after",
)
_ACTION_ORDER = {"add": 1, "update": 2, "confirm": 2, "remove": 3}


@dataclass
class Op:
    """One operation on one record: the unit that saves, approvals and restores replay."""

    entity: str
    action: str  # add | update | remove | confirm
    entity_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # the version the editor saw
    expect: dict[str, str | None] | None = None  # or: what the record must still hold (restore)
    stamp: bool = True  # stamp source/verified as an officer's write
    old_id: int | None = None  # a restore re-adding a removed record: its former id


@dataclass(frozen=True)
class HistoryChange:
    """One field of one record in a change set (values as text)."""

    entity: str
    entity_id: int | None
    action: str
    field: str | None
    before: str | None
    after: str | None
    version: int | None

    @property
    def label(self) -> str:
        """The field as people read it (its schema's label; a stamp like verified_at by its name)."""
        return schema.label(self.entity, self.field)


@dataclass(frozen=True)
class HistoryEntry:
    """One change set, ready to show: who, when, why, what, and its review."""

    id: int
    ward_code: str
    source: str
    status: str
    note: str | None
    created_at: datetime
    user_id: int | None
    who: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_reason: str | None
    restored_from: int | None
    changes: tuple[HistoryChange, ...]


def to_text(value: Any) -> str | None:
    """A value as the history keeps it."""
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def from_text(entity: str, name: str, text: str | None) -> Any:
    """A history value back into the store's type."""
    if text is None:
        return None
    column = MODELS[entity].__mapper__.attrs[name].columns[0]
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(text)
    kind = column.type.python_type
    if kind is bool:
        return text == "True"
    if kind is datetime:
        return datetime.fromisoformat(text)
    if kind is date:
        return date.fromisoformat(text)
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    return text


def csv_cell(value: Any) -> str:
    """A value for a spreadsheet: text that a spreadsheet would run as a formula starts with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---- reading ------------------------------------------------------------------------------------


def entries(store: Store, query: Any) -> list[HistoryEntry]:
    """The change sets `query` selects, with who made and reviewed them (one query for the names)."""
    with store.reader() as session:
        sets = session.scalars(query).all()
        ids = {s.user_id for s in sets} | {s.reviewed_by for s in sets}
        names = dict(session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids - {None}))).all())
        return [
            HistoryEntry(
                id=s.id,
                ward_code=s.ward_code,
                source=s.source,
                status=s.status,
                note=s.note,
                created_at=s.created_at,
                user_id=s.user_id,
                who=names.get(s.user_id)
                or ("police.uk" if s.source == "policeuk" else "a user who has since been removed"),
                reviewed_by=names.get(s.reviewed_by),
                reviewed_at=s.reviewed_at,
                review_reason=s.review_reason,
                restored_from=s.restored_from,
                changes=tuple(history_change(c) for c in s.changes),
            )
            for s in sets
        ]


def ward_history(
    store: Store, ward_code: str, *, limit: int = 200, statuses: Iterable[str] | None = None
) -> list[HistoryEntry]:
    """The ward's change sets, newest first (all statuses unless `statuses` says)."""
    query = select(ChangeSet).where(ChangeSet.ward_code == ward_code)
    if statuses is not None:
        query = query.where(ChangeSet.status.in_(tuple(statuses)))
    return entries(store, query.order_by(ChangeSet.id.desc()).limit(limit))


def find_change_set(store: Store, change_set_id: int) -> HistoryEntry | None:
    """One change set, or None."""
    found = entries(store, select(ChangeSet).where(ChangeSet.id == change_set_id))
    return found[0] if found else None


def user_submissions(store: Store, user_id: int, *, limit: int = 100) -> list[HistoryEntry]:
    """What this user saved, newest first, with each outcome (applied, pending, rejected and why)."""
    query = select(ChangeSet).where(ChangeSet.user_id == user_id).order_by(ChangeSet.id.desc()).limit(limit)
    return entries(store, query)


def pending_review(store: Store, ward_codes: Iterable[str] | None = None) -> list[HistoryEntry]:
    """Editors' saves waiting for review, oldest first (in these wards, or everywhere)."""
    query = select(ChangeSet).where(ChangeSet.status == "pending", ChangeSet.source != "policeuk")
    if ward_codes is not None:
        query = query.where(ChangeSet.ward_code.in_(tuple(ward_codes)))
    return entries(store, query.order_by(ChangeSet.id))


def sync_conflicts(store: Store, ward_code: str) -> list[HistoryEntry]:
    """Where police.uk disagrees with what the team entered: each change's `before` is what the team
    has, `after` what police.uk says. Oldest first."""
    query = select(ChangeSet).where(
        ChangeSet.ward_code == ward_code, ChangeSet.status == "pending", ChangeSet.source == "policeuk"
    )
    return entries(store, query.order_by(ChangeSet.id))


def history_csv(store: Store, ward_codes: Iterable[str], *, limit: int = 100_000) -> str:
    """The change history of these wards as CSV, one row per field, safe to open in a spreadsheet."""
    codes = tuple(ward_codes)
    query = select(ChangeSet).where(ChangeSet.ward_code.in_(codes)).order_by(ChangeSet.id).limit(limit)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries(store, query):
        head = [
            entry.id,
            entry.created_at.isoformat(),
            entry.ward_code,
            entry.who,
            entry.source,
            entry.status,
            entry.note,
        ]
        for c in entry.changes or (HistoryChange("", None, "", None, None, None, None),):
            writer.writerow([csv_cell(x) for x in (*head, c.entity, c.entity_id, c.action, c.field, c.before, c.after)])
    return out.getvalue()


def applied_changes(ward_code: str, *where: Any) -> Any:
    """The ward's applied changes that match `where`, oldest first: what happened since a page was opened."""
    return (
        select(Change)
        .join(ChangeSet)
        .where(ChangeSet.ward_code == ward_code, ChangeSet.status == "applied", *where)
        .order_by(Change.id)
    )


# ---- replaying -----------------------------------------------------------------------------------


def snapshot_rows(entity: str, record: Any, action: str) -> list[Change]:
    """A record's values as `before` rows (what a restore needs to bring it back)."""
    names = FIELDS[entity] + (("officer_id",) if entity == "route" else ())
    return [
        Change(
            entity=entity,
            entity_id=record.id,
            action=action,
            field=k,
            before=to_text(getattr(record, k)),
            version=record.version,
        )
        for k in names
        if getattr(record, k) is not None
    ]


def history_change(c: Change) -> HistoryChange:
    return HistoryChange(c.entity, c.entity_id, c.action, c.field, c.before, c.after, c.version)


def _groups(rows: Iterable[HistoryChange]) -> list[list[HistoryChange]]:
    """Rows grouped by record and action, in order (one group per operation)."""
    groups: list[list[HistoryChange]] = []
    for row in rows:
        if groups and (groups[-1][0].entity, groups[-1][0].entity_id, groups[-1][0].action) == (
            row.entity,
            row.entity_id,
            row.action,
        ):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def replay_ops(rows: Iterable[HistoryChange]) -> list[Op]:
    """The operations a pending change set (or a sync conflict) holds: `after` values, checked against `version`."""
    ops = []
    for group in _groups(rows):
        first = group[0]
        if first.entity == "place":
            ops.append(Op("place", first.action, first.entity_id))
            continue
        values = {r.field: from_text(r.entity, r.field, r.after) for r in group if r.field is not None}
        kept = values if first.action != "remove" else {}
        # A confirm sets who checked the record and when, as submitted: no officer's write of its values.
        ops.append(
            Op(first.entity, first.action, first.entity_id, kept, first.version, stamp=first.action != "confirm")
        )
    return ops


def undo_ops(rows: Iterable[HistoryChange], seen: Mapping[tuple[str, int], int]) -> list[Op]:
    """The operations that put a change set's `before` values back (adds removed, removes re-added)."""
    ops = []
    for group in _groups(rows):
        first = group[0]
        version = seen.get((first.entity, first.entity_id)) if first.entity_id is not None else None
        if (op := _undo(group, version)) is not None:
            ops.append(op)
    order = {"officer": 0}
    return sorted(ops, key=lambda op: (_ACTION_ORDER[op.action], order.get(op.entity, 1)))


def _undo(group: list[HistoryChange], version: int | None) -> Op | None:
    """The operation that undoes one group of rows (None: nothing to put back), checked against `version`
    if the admin saw one, else against the group's `after` values."""
    first = group[0]
    if first.entity == "place":
        return Op("place", "remove" if first.action == "add" else "add", first.entity_id)
    if first.action == "add":
        expect: dict[str, str | None] | None = None if version is not None else {}
        return Op(first.entity, "remove", first.entity_id, version=version, expect=expect)
    if first.action == "remove":
        values = {field: from_text(r.entity, field, r.before) for r in group if (field := r.field)}
        return Op(first.entity, "add", values=values, old_id=first.entity_id)
    if first.field is None and len(group) == 1:
        return None
    named = [(field, r) for r in group if (field := r.field) is not None]
    return Op(
        first.entity,
        "update",
        first.entity_id,
        {field: from_text(r.entity, field, r.before) for field, r in named},
        version=version,
        expect=None if version is not None else {field: r.after for field, r in named},
        stamp=first.action != "confirm",
    )


__all__ = [
    "CSV_COLUMNS",
    "FIELDS",
    "MODELS",
    "HistoryChange",
    "HistoryEntry",
    "Op",
    "applied_changes",
    "csv_cell",
    "entries",
    "find_change_set",
    "from_text",
    "history_change",
    "history_csv",
    "pending_review",
    "replay_ops",
    "snapshot_rows",
    "sync_conflicts",
    "to_text",
    "undo_ops",
    "user_submissions",
    "ward_history",
]
