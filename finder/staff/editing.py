"""Ward officers keep their team's details right: the edit rules (edits, confirm, restore, conflicts).

Every save is one transaction that writes the records and a `ChangeSet` (who, when, why) with one
`Change` per field (before and after, as text), so the history is complete by construction. Each
operation takes the `version` of the record the editor opened; if the record has moved on since,
the save raises `EditConflict` with what changed, and nothing is written. Two checks make that hold
under real concurrency: the version compared when the record is read, and SQLAlchemy's
`version_id_col` (`UPDATE … WHERE version = ?`), which catches a save that commits in between.

Approval, restore and picking a side in a sync conflict are all the same thing: a list of
operations (`Op`) replayed through the same `_apply`, checked against the versions they were made
against. No Flask here: the web views, the CLI and the tests share this service. It builds on
finder.staff.history (the change sets read back, replayed and undone) and finder.staff.review
(who reviews what); the sync records its own changes through finder.staff.sync_changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from finder.staff.account import Account
from finder.staff.history import (
    FIELDS,
    MODELS,
    HistoryChange,
    HistoryEntry,
    Op,
    applied_changes,
    find_change_set,
    from_text,
    history_change,
    history_csv,
    pending_review,
    replay_ops,
    snapshot_rows,
    sync_conflicts,
    to_text,
    undo_ops,
    user_submissions,
    ward_history,
)
from finder.staff.permissions import may_edit, may_review
from finder.staff.review import (
    borough_reviews,
    boroughs_reviewing,
    claim_waiting,
    may_decide,
    needs_review,
    reason_problem,
    set_borough_review,
    settle,
    waiting_change_set,
    withdraw_waiting,
)
from finder.store import Store
from finder.store import models as m
from finder.store.models import MAX_ID, utcnow
from finder.store.staff import Change, ChangeSet
from finder.teams import dates, schema
from finder.teams import validation as v
from finder.teams.records import MeetingData, PriorityData, RouteData, fold
from finder.teams.snapshot import PUBLISHED_AT

Entity = Literal["team", "route", "officer", "meeting", "priority"]
Record = m.Team | m.ContactRoute | m.Officer | m.Meeting | m.Priority
STAMP = ("verified_at", "verified_by")
STALE_DAYS = 90
# The records residents see in an order an editor sets, and the team's list of each.
ORDERED: dict[str, str] = {"route": "routes", "officer": "officers", "priority": "priorities"}
# Why a change cannot be withdrawn, by what became of it first.
SETTLED = {
    "applied": "This change was already approved, so it cannot be withdrawn: residents see it now. "
    "To undo it, change the details again.",
    "rejected": "This change was already rejected, so there is nothing to withdraw.",
    "withdrawn": "This change was already withdrawn.",
}
LONDON = ZoneInfo("Europe/London")


# ---- errors ------------------------------------------------------------------------------------


class EditingError(Exception):
    """Base of what an edit can refuse with; each carries a message a person can act on."""


class NotAllowed(EditingError):
    """The user may not do this to this ward (or change set)."""


class NotFound(EditingError):
    """No such team, record or change set (in this ward)."""


class Invalid(EditingError):
    """The input needs fixing: `errors` maps each field to a message; `values` is what was typed."""

    def __init__(self, errors: Mapping[str, str], values: Mapping[str, Any] | None = None) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)
        self.values = dict(values or {})


@dataclass(frozen=True)
class Difference:
    """One field where what this editor submitted differs from what the store holds now."""

    field: str
    yours: str | None
    current: str | None


class EditConflict(EditingError):
    """The record moved on since the editor opened it. Nothing was written.

    `current_version` is the version to submit to overwrite knowingly (None when the record was
    removed); `differences` compares the submitted values with the current ones; `changed_since`
    is the history of the record since the version the editor saw (who changed what)."""

    def __init__(
        self,
        entity: str,
        entity_id: int | None,
        *,
        removed: bool,
        current_version: int | None,
        differences: Sequence[Difference] = (),
        changed_since: Sequence[HistoryChange] = (),
    ) -> None:
        what = "was removed" if removed else "was changed by someone else"
        super().__init__(f"This {entity} {what} after you opened it. Check the changes and choose what to keep.")
        self.entity, self.entity_id, self.removed = entity, entity_id, removed
        self.current_version = current_version
        self.differences = tuple(differences)
        self.changed_since = tuple(changed_since)


class NotWaiting(EditingError):
    """The change set was settled (approved, rejected or withdrawn) before this; nothing was done."""


class StaleConfirm(EditingError):
    """ "Still correct" sent from a page older than the team: nothing was stamped.

    `changed` lists each record added, changed or removed since the page was opened, as
    (entity, label, its changes since); `seen` is what to send to confirm the team as it is now."""

    def __init__(self, changed: Sequence[tuple[str, str, tuple[HistoryChange, ...]]], seen: str) -> None:
        super().__init__("Someone changed this team after you opened the page. Check what changed, then confirm again.")
        self.changed = tuple(changed)
        self.seen = seen


class _Stale(Exception):
    def __init__(self, op: Op) -> None:
        self.op = op


# ---- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """What a save did: "applied", "pending" (waiting for review) or "unchanged" (nothing differed); or a review."""

    change_set_id: int | None
    status: Literal["applied", "pending", "unchanged", "rejected", "withdrawn"]
    entity_id: int | None = None


@dataclass(frozen=True)
class Item:
    """One editable record as the editor opens it: its id and version travel with the form."""

    entity: str
    id: int
    version: int
    values: dict[str, Any]
    source: str
    fetched_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    officer_id: int | None = None

    @property
    def provenance(self) -> str:
        """Where its values came from and when, in words (provenance_words)."""
        return provenance_words(self.source, self.fetched_at, self.verified_at)

    def form(self) -> dict[str, str]:
        """The values as a form shows them: phones in national format, times as 2026-03-27T18:30, a ticked
        box as "1"."""
        specs = schema.specs(self.entity)
        phone = self.values.get("kind") in v.PHONE_KINDS  # a route's contact value is a phone number
        return {name: _form_text(specs[name].kind, value, phone) for name, value in self.values.items()}


def _form_text(kind: str, value: Any, phone: bool) -> str:
    """One value as a form shows it (see Item.form)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if kind == "phone" or (kind == "contact" and phone):
        return v.format_phone(value)
    return str(value)


@dataclass(frozen=True)
class PlaceOption:
    """A front counter or contact point of the force, and whether the team lists it."""

    id: int
    name: str
    kind: str
    postcode: str | None
    listed: bool


@dataclass(frozen=True)
class Part:
    """One record of an update saved in one go (`Editing.save_update`): one to add (`entity_id` None) or one
    to change, with its form as typed. `key` names it in the errors: "officer" gives "officer-name"."""

    key: str
    entity: Entity
    form: Mapping[str, Any]
    entity_id: int | None = None


@dataclass(frozen=True)
class UpdateSaved:
    """What an update saved in one go did: each part's outcome by its key, and the rest marked as checked."""

    parts: dict[str, Saved]
    confirmed: Saved | None


@dataclass(frozen=True)
class EditableTeam:
    """Everything the editing pages show for one ward, with versions."""

    ward_code: str
    force_id: str
    team: Item
    routes: tuple[Item, ...]  # the team's own and its officers' (see officer_id)
    officers: tuple[Item, ...]
    meetings: tuple[Item, ...]
    priorities: tuple[Item, ...]
    places: tuple[PlaceOption, ...]

    @property
    def shown(self) -> tuple[Item, ...]:
        """The records the editing page lists: the team, its own routes, officers, meetings and priorities."""
        own = tuple(r for r in self.routes if r.officer_id is None)
        return (self.team, *own, *self.officers, *self.meetings, *self.priorities)

    @property
    def ages(self) -> tuple[str, ...]:
        """Each different source and date among the records shown, in page order: one, or each record says its own."""
        return tuple(dict.fromkeys(item.provenance for item in self.shown))

    @property
    def seen(self) -> str:
        """Every record's version as the page shows them, for "still correct" to confirm exactly that."""
        items = (self.team, *self.routes, *self.officers, *self.meetings, *self.priorities)
        return seen_text({(i.entity, i.id): i.version for i in items})


def seen_text(versions: Mapping[tuple[str, int], int]) -> str:
    return " ".join(f"{entity}:{id_}:{version}" for (entity, id_), version in sorted(versions.items()))


def parse_seen(text: str) -> dict[tuple[str, int], int]:
    """The versions a "still correct" form was opened at (EditableTeam.seen). Raises Invalid."""
    seen = {}
    for part in text.split():
        entity, _, rest = part.partition(":")
        id_text, _, version_text = rest.partition(":")
        numbers = (id_text, version_text)
        if entity not in MODELS or not all(n.isdecimal() and int(n) <= MAX_ID for n in numbers):
            raise Invalid({"seen": "This form is missing what it was opened at. Reload the page and try again."})
        seen[entity, int(id_text)] = int(version_text)
    if not seen:
        raise Invalid({"seen": "This form is missing what it was opened at. Reload the page and try again."})
    return seen


def provenance_words(source: str, fetched_at: datetime, verified_at: datetime | None) -> str:
    """Where a value came from and when, as the staff pages say it: "as published on police.uk in March 2023",
    "confirmed by the team on 4 December 2026"."""
    if verified_at is not None:
        return f"confirmed by the team on {_day(verified_at)}"
    if source == "officer":
        return f"entered by the team on {_day(fetched_at)}"
    if source == "policeuk" and fetched_at == PUBLISHED_AT:  # the dated snapshot's (finder/teams/snapshot.py)
        return f"as published on police.uk in {fetched_at:%B %Y}"
    if source == "policeuk":
        return f"from police.uk, synced on {_day(fetched_at)}"
    if source == "sample":
        return f"fictional sample data, loaded on {_day(fetched_at)}"
    return f"from {source}, fetched on {_day(fetched_at)}"


def _day(when: datetime) -> str:
    return f"{when.astimezone(LONDON):%-d %B %Y}"


@dataclass(frozen=True)
class StaleItem:
    """A record nobody in the team has confirmed for a while: unconfirmed `since` its last confirmation, or
    (never confirmed) since it was fetched, like a snapshot value published in March 2023."""

    entity: str
    id: int
    label: str
    verified_at: datetime | None
    source: str
    fetched_at: datetime

    @property
    def since(self) -> datetime:
        return self.verified_at or self.fetched_at

    @property
    def provenance(self) -> str:
        return provenance_words(self.source, self.fetched_at, self.verified_at)


def _label(entity: str, record: Any) -> str:
    if entity == "team":
        return record.name
    if entity == "route":
        return f"{record.label}: {record.value}"
    if entity == "officer":
        return f"{record.rank} {record.name}" if record.rank else record.name
    if entity == "meeting":
        return f"{record.start:%Y-%m-%d %H:%M} {record.title}"
    return " ".join(record.issue.split())[:80]


# ---- the service -------------------------------------------------------------------------------


class Editing:
    """The editing rules over one store.

    `borough_of(ward_code)` gives a ward's borough code (None for an unknown ward);
    `force_domains` maps a force id to the email domains its team addresses may use;
    `on_change(ward_code)` is told after each applied change (e.g. TeamDirectory.forget)."""

    def __init__(
        self,
        store: Store,
        borough_of: Callable[[str], str | None],
        *,
        force_domains: Mapping[str, Sequence[str]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.borough_of = borough_of
        self.force_domains = force_domains
        self.clock = clock
        self.on_change = on_change

    # -- reading --

    def editable(self, ward_code: str) -> EditableTeam:
        """The ward's team and its records, with ids and versions, for the editing forms."""
        with self.store.reader() as session:
            team = self._team(session, ward_code)
            linked = {p.id for p in team.places}
            places = session.scalars(select(m.Place).where(m.Place.force_id == team.force_id).order_by(m.Place.name))
            return EditableTeam(
                ward_code=ward_code,
                force_id=team.force_id,
                team=_item("team", team),
                routes=tuple(_item("route", r) for r in team.routes),
                officers=tuple(_item("officer", o) for o in team.officers),
                meetings=tuple(_item("meeting", x) for x in team.meetings),
                priorities=tuple(_item("priority", p) for p in team.priorities),
                places=tuple(PlaceOption(p.id, p.name, p.kind, p.postcode, p.id in linked) for p in places),
            )

    def unclear_meetings(self, team: EditableTeam) -> list[Item]:
        """The team's meetings stored with a date outside the window: residents see "date unclear" for them."""
        now = self._london_now()
        return [x for x in team.meetings if not dates.clear(x.values["start"], x.values["end"], now)]

    def _london_now(self) -> datetime:
        """Now as naive London time, as meeting times are stored."""
        return self.clock().astimezone(LONDON).replace(tzinfo=None)

    def stale_items(self, ward_code: str, days: int = STALE_DAYS) -> list[StaleItem]:
        """The ward's records no one in the team has confirmed in `days` days (or ever), unconfirmed longest first."""
        cutoff = self.clock() - timedelta(days=days)
        with self.store.reader() as session:
            team = self._team(session, ward_code)
            records = [("team", team)] + [
                (entity, r)
                for entity, rows in (
                    ("route", team.routes),
                    ("officer", team.officers),
                    ("meeting", team.meetings),
                    ("priority", team.priorities),
                )
                for r in rows
            ]
            stale = [
                StaleItem(entity, r.id, _label(entity, r), r.verified_at, r.source, r.fetched_at)
                for entity, r in records
                if r.verified_at is None or r.verified_at < cutoff
            ]
            return sorted(stale, key=lambda item: item.since)

    def history(self, ward_code: str, *, limit: int = 200, statuses: Iterable[str] | None = None) -> list[HistoryEntry]:
        """The ward's change sets, newest first (all statuses unless `statuses` says)."""
        return ward_history(self.store, ward_code, limit=limit, statuses=statuses)

    def change_set(self, change_set_id: int) -> HistoryEntry | None:
        """One change set, or None."""
        return find_change_set(self.store, change_set_id)

    def submissions(self, actor: Account, *, limit: int = 100) -> list[HistoryEntry]:
        """What this user saved, newest first, with each outcome (applied, pending, rejected and why)."""
        return user_submissions(self.store, actor.id, limit=limit)

    def pending(self, ward_codes: Iterable[str] | None = None) -> list[HistoryEntry]:
        """Editors' saves waiting for review, oldest first (in these wards, or everywhere)."""
        return pending_review(self.store, ward_codes)

    def conflicts(self, ward_code: str) -> list[HistoryEntry]:
        """Where police.uk disagrees with what the team entered (finder.staff.history.sync_conflicts)."""
        return sync_conflicts(self.store, ward_code)

    def history_csv(self, ward_codes: Iterable[str], *, limit: int = 100_000) -> str:
        """The change history of these wards as CSV, one row per field, safe to open in a spreadsheet."""
        return history_csv(self.store, ward_codes, limit=limit)

    # -- editing --

    def add(
        self,
        actor: Account,
        ward_code: str,
        entity: Entity,
        form: Mapping[str, Any],
        *,
        officer_id: int | None = None,
        note: str | None = None,
    ) -> Saved:
        """Add a route (the team's, or `officer_id`'s), an officer, a meeting or a priority.

        Raises Invalid, NotAllowed, NotFound."""
        if entity == "team":
            raise NotAllowed("A ward has one team; change its details instead.")
        borough = self._allow(actor, ward_code)
        values = self._check(entity, form, ward_code, new=True)
        if entity == "route":
            values["officer_id"] = officer_id
        if "display_order" in values and not str(form.get("display_order") or "").strip():
            values["display_order"] = self._next_order(ward_code, entity)
        return self._save(actor, ward_code, borough, [Op(entity, "add", values=values)], note)

    def update(
        self,
        actor: Account,
        ward_code: str,
        entity: Entity,
        entity_id: int,
        form: Mapping[str, Any],
        version: int,
        *,
        note: str | None = None,
    ) -> Saved:
        """Change a record of the ward's team, as of `version`. Raises Invalid, EditConflict, NotAllowed, NotFound."""
        borough = self._allow(actor, ward_code)
        force_id, stored = self._stored(ward_code, entity, entity_id)
        checked = v.only_changed(entity, self._checked(entity, form, force_id, new=False), form, stored)
        if not checked.ok:
            raise Invalid(checked.errors, {k: form.get(k) for k in FIELDS[entity]})
        op = Op(entity, "update", entity_id, checked.values, version)
        return self._save(actor, ward_code, borough, [op], note)

    def move(
        self,
        actor: Account,
        ward_code: str,
        entity: Entity,
        entity_id: int,
        direction: Literal["up", "down"],
        version: int,
        *,
        note: str | None = None,
    ) -> Saved:
        """Swap a route's, officer's or priority's place with its neighbour's in the order residents see (order
        on the page, then id; a route among its own officer's or the team's). Neighbours on the same number are
        numbered 1, 2, 3… first, so the move shows. Checked against `version`: raises EditConflict, NotAllowed,
        NotFound."""
        if entity not in ORDERED:
            raise NotFound("Only ways to reach the team, officers and priorities have an order to change.")
        borough = self._allow(actor, ward_code)
        seen = Op(entity, "update", entity_id, version=version)
        try:
            with self.store.reader() as session:
                team = self._team(session, ward_code)
                record = self._record(session, team, seen)
                same_list = [
                    r for r in getattr(team, ORDERED[entity]) if entity != "route" or r.officer_id == record.officer_id
                ]
                siblings = sorted(same_list, key=lambda r: (r.display_order, r.id))
                now = [(r.id, r.display_order, r.version) for r in siblings]
        except _Stale:
            raise self._conflict(ward_code, seen) from None
        at = [i for i, _, _ in now].index(entity_id)
        to = at - 1 if direction == "up" else at + 1
        if not 0 <= to < len(now):
            return Saved(None, "unchanged", entity_id)
        orders = [order for _, order, _ in now]
        if orders[at] == orders[to]:
            orders = list(range(1, len(now) + 1))
        orders[at], orders[to] = orders[to], orders[at]
        ops = [
            Op(entity, "update", i, {"display_order": new}, version if i == entity_id else v)
            for (i, old, v), new in zip(now, orders, strict=True)
            if new != old
        ]
        ops.sort(key=lambda op: op.entity_id != entity_id)  # the moved record first: the change set names it
        return self._save(actor, ward_code, borough, ops, note)

    def remove(
        self, actor: Account, ward_code: str, entity: Entity, entity_id: int, version: int, *, note: str | None = None
    ) -> Saved:
        """Remove a record (an officer goes with their routes). Raises EditConflict, NotAllowed, NotFound."""
        if entity == "team":
            raise NotAllowed("A ward's team cannot be removed here.")
        borough = self._allow(actor, ward_code)
        return self._save(actor, ward_code, borough, [Op(entity, "remove", entity_id, version=version)], note)

    def set_places(
        self, actor: Account, ward_code: str, place_ids: Iterable[int], team_version: int, *, note: str | None = None
    ) -> Saved:
        """Which of the force's front counters and contact points the team lists (as of the team's version)."""
        borough = self._allow(actor, ward_code)
        wanted = set(place_ids)
        with self.store.reader() as session:
            team = self._team(session, ward_code)
            known = set(session.scalars(select(m.Place.id).where(m.Place.force_id == team.force_id)))
            linked = {p.id for p in team.places}
            team_id = team.id
        if wanted - known:
            raise Invalid({"places": "Select front counters from the list"})
        ops = [Op("team", "update", team_id, {}, team_version)]
        ops += [Op("place", "add", pid) for pid in sorted(wanted - linked)]
        ops += [Op("place", "remove", pid) for pid in sorted(linked - wanted)]
        if len(ops) == 1:
            return Saved(None, "unchanged", team_id)
        return self._save(actor, ward_code, borough, ops, note)

    def confirm_ward(
        self, actor: Account, ward_code: str, seen: Mapping[tuple[str, int], int], *, note: str | None = None
    ) -> Saved:
        """ "Still correct": stamp the team and every record of it verified now, by this user, in one change set,
        if every record is at the version `seen` (parse_seen). Raises StaleConfirm, NotAllowed, NotFound."""
        self._allow(actor, ward_code)
        now = self.clock()
        with self.store.session() as session:
            team = self._team(session, ward_code)
            records = _records(team)
            by_key = {(entity, record.id): record for entity, record in records}
            current = {key: record.version for key, record in by_key.items()}
            if current != seen:
                raise self._stale_confirm(session, ward_code, by_key, seen, current)
            rows = [row for entity, record in records for row in _confirm_rows(entity, record, actor, now)]
            change_set = self._change_set(ward_code, actor, "officer", "applied", note, now, rows)
            session.add(change_set)
            session.flush()
            saved = Saved(change_set.id, "applied", team.id)
        self._changed(ward_code)
        return saved

    def confirm_value(
        self,
        actor: Account,
        ward_code: str,
        entity: Entity,
        entity_id: int,
        version: int,
        *,
        note: str | None = None,
    ) -> Saved:
        """ "Still correct" for one record: stamp it verified now, by this user, if it is still at `version` (the
        page's). Recorded in the ward's history; waits for review where the borough reviews editors' changes.
        Raises EditConflict (nothing stamped) when the record changed since, NotAllowed, NotFound."""
        if entity not in MODELS:
            raise NotFound(f"Unknown kind of record: {entity!r}")
        borough = self._allow(actor, ward_code)
        now = self.clock()
        op = Op(entity, "confirm", entity_id, version=version)
        try:
            with self.store.session() as session:
                team = self._team(session, ward_code)
                record = self._record(session, team, op)
                review = needs_review(session, actor, borough)
                rows = _confirm_rows(entity, record, actor, now, stamp=not review)
                status: Literal["pending", "applied"] = "pending" if review else "applied"
                change_set = self._change_set(ward_code, actor, "officer", status, note, now, rows)
                session.add(change_set)
                session.flush()
                saved = Saved(change_set.id, status, record.id)
        except (_Stale, StaleDataError):
            raise self._conflict(ward_code, op) from None
        if saved.status == "applied":
            self._changed(ward_code)
        return saved

    # -- the ordinary update, in one save --

    def check_update(
        self, ward_code: str, parts: Sequence[Part], seen: Mapping[tuple[str, int], int]
    ) -> list[tuple[Part, Op]]:
        """Each part checked by its record's rules, as the operation that saves it (a change: against the version
        in `seen`, the page's). A change that changes nothing is left out. Raises Invalid, with every part's
        errors at once, keyed "<part key>-<field>", and NotFound."""
        with self.store.reader() as session:
            force_id = self._team(session, ward_code).force_id
        planned: list[tuple[Part, Op]] = []
        errors: dict[str, str] = {}
        for part in parts:
            if part.entity_id is None:
                checked = self._checked(part.entity, part.form, force_id, new=True)
            else:
                _, stored = self._stored(ward_code, part.entity, part.entity_id)
                if not stored or (part.entity, part.entity_id) not in seen:
                    raise NotFound(f"That {part.entity} is not part of this ward's team as the page showed it.")
                if all(str(typed or "").strip() == (stored.get(k) or "").strip() for k, typed in part.form.items()):
                    continue  # left as the page showed it
                checked = self._checked(part.entity, {**stored, **part.form}, force_id, new=False)
                checked = v.only_changed(part.entity, checked, {**stored, **part.form}, stored)
            errors |= {f"{part.key}-{name}": message for name, message in checked.errors.items()}
            if checked.errors:
                continue
            values = checked.values
            if part.entity_id is None:
                if "display_order" in values and not str(part.form.get("display_order") or "").strip():
                    values["display_order"] = self._next_order(ward_code, part.entity)
                planned.append((part, Op(part.entity, "add", values=values)))
            else:
                version = seen[part.entity, part.entity_id]
                planned.append((part, Op(part.entity, "update", part.entity_id, values, version)))
        if errors:
            raise Invalid(errors)
        return planned

    def save_update(
        self,
        actor: Account,
        ward_code: str,
        parts: Sequence[Part],
        seen: Mapping[tuple[str, int], int],
        *,
        confirm_rest: bool,
        note: str | None = None,
    ) -> UpdateSaved:
        """An editor's ordinary update in one transaction: each part saved as its own save would be (its own
        change set, waiting for review where the borough reviews), and with `confirm_rest` every other record
        stamped checked, as "still correct" does (at once, like it). All or nothing: raises Invalid, NotAllowed,
        NotFound, EditConflict (a record changed) or StaleConfirm (the team changed since `seen`)."""
        borough = self._allow(actor, ward_code)
        planned = self.check_update(ward_code, parts, seen)
        now = self.clock()
        outcomes: dict[str, Saved] = {}
        op: Op | None = None
        try:
            with self.store.session() as session:
                team = self._team(session, ward_code)
                records = _records(team)
                if confirm_rest:
                    by_key = {(entity, record.id): record for entity, record in records}
                    current = {key: record.version for key, record in by_key.items()}
                    if current != dict(seen):
                        raise self._stale_confirm(session, ward_code, by_key, seen, current)
                review = needs_review(session, actor, borough)
                status: Literal["pending", "applied"] = "pending" if review else "applied"
                for part, op in planned:
                    try:
                        if review:
                            rows = self._draft(session, team, [op])
                        else:
                            rows = self._apply(session, team, [op], actor, now)
                    except Invalid as error:  # a duplicate of a record the team has: on that part's field
                        raise Invalid({f"{part.key}-{k}": x for k, x in error.errors.items()}) from None
                    if not rows:
                        outcomes[part.key] = Saved(None, "unchanged", op.entity_id)
                        continue
                    change_set = self._change_set(ward_code, actor, "officer", status, note, now, rows)
                    session.add(change_set)
                    session.flush()
                    outcomes[part.key] = Saved(change_set.id, status, rows[0].entity_id)
                confirmed = None
                if confirm_rest:
                    changed = {(op.entity, op.entity_id) for _, op in planned if op.action == "update"}
                    rest = [(entity, record) for entity, record in records if (entity, record.id) not in changed]
                    rows = [row for entity, record in rest for row in _confirm_rows(entity, record, actor, now)]
                    change_set = self._change_set(ward_code, actor, "officer", "applied", note, now, rows)
                    session.add(change_set)
                    session.flush()
                    confirmed = Saved(change_set.id, "applied", team.id)
        except (_Stale, StaleDataError) as exc:
            ops = [op for _, op in planned]
            raise self._conflict(
                ward_code, exc.op if isinstance(exc, _Stale) else self._stale_op(ward_code, ops)
            ) from None
        if confirmed or any(s.status == "applied" for s in outcomes.values()):
            self._changed(ward_code)
        return UpdateSaved(outcomes, confirmed)

    # -- review --

    def review_required(self, borough_code: str) -> bool:
        """Whether editors' changes in this borough wait for an admin's approval."""
        with self.store.reader() as session:
            return borough_reviews(session, borough_code)

    def boroughs_reviewing(self) -> set[str]:
        """The boroughs whose editors' changes wait for an admin's approval (one query)."""
        with self.store.reader() as session:
            return boroughs_reviewing(session)

    def set_review_required(self, actor: Account, borough_code: str, required: bool) -> None:
        """Turn review on or off for a borough: its own borough admins, or a site admin."""
        if not may_review(actor, borough_code):
            raise NotAllowed("Only this borough's admins or a site admin can change how it reviews changes.")
        with self.store.session() as session:
            set_borough_review(session, borough_code, required, actor, self.clock())

    def approve(self, reviewer: Account, change_set_id: int) -> Saved:
        """Apply a pending change set as it was submitted, if nothing it touches moved on (else EditConflict)."""
        return self._decide(reviewer, change_set_id, approve=True)

    def reject(self, reviewer: Account, change_set_id: int, reason: str) -> Saved:
        """Turn a pending change set down, with a reason the editor will see."""
        text = (reason or "").strip()
        if problem := reason_problem(text):
            raise Invalid({"reason": problem}, {"reason": reason})
        return self._decide(reviewer, change_set_id, approve=False, reason=text)

    def withdraw(self, actor: Account, change_set_id: int) -> Saved:
        """Take back a change still waiting for review, so it leaves the queue and is never applied:
        its author may, or an admin for its ward. Raises NotWaiting if it was settled first."""
        now = self.clock()
        with self.store.session() as session:
            took = withdraw_waiting(session, change_set_id, actor, now)  # first: see claim_waiting
            found = session.get(ChangeSet, change_set_id)
            if found is None or found.source == "policeuk":  # a sync conflict is settled, not withdrawn
                raise NotFound("There is no such change to withdraw.")
            mine = found.user_id == actor.id and may_edit(actor, found.ward_code, self.borough_of)
            if not mine and not may_review(actor, self.borough_of(found.ward_code)):
                raise NotAllowed("Only the person who made a change, or an admin for its ward, can withdraw it.")
            if not took:
                raise NotWaiting(SETTLED.get(found.status, SETTLED["withdrawn"]))
            return Saved(found.id, "withdrawn")

    def resolve_conflict(
        self, actor: Account, change_set_id: int, keep: Literal["policeuk", "team"], *, note: str | None = None
    ) -> Saved:
        """Settle a sync conflict: take police.uk's values (an officer's write, so the sync leaves them be)
        or keep the team's. Raises EditConflict if the record changed since police.uk's values were seen."""
        if keep not in ("policeuk", "team"):
            raise Invalid({"keep": "Select which to keep: police.uk's details or the team's"})
        with self.store.reader() as session:
            found = waiting_change_set(session, change_set_id)
            if found is None or found.source != "policeuk":
                raise NotFound("That conflict is not waiting any more.")
            ward_code = found.ward_code
        self._allow(actor, ward_code)
        if keep == "team":
            return self._decide(
                actor, change_set_id, approve=False, reason="The team kept its own details.", check=False
            )
        return self._decide(actor, change_set_id, approve=True, check=False, note=note)

    def restore(
        self,
        actor: Account,
        change_set_id: int,
        *,
        seen: Mapping[tuple[str, int], int] | None = None,
        note: str | None = None,
    ) -> Saved:
        """Put back the `before` values of an applied change set, as a new change set (source "restore").

        Admins only. Refuses (EditConflict) when a record no longer holds that change set's `after`;
        pass `seen={(entity, id): version}` (from the conflict's current_version) to restore anyway."""
        with self.store.reader() as session:
            original = session.get(ChangeSet, change_set_id)
            if original is None or original.status != "applied":
                raise NotFound("Only applied changes can be restored.")
            ward_code = original.ward_code
            rows = [history_change(c) for c in original.changes]
        borough = self.borough_of(ward_code)
        if not may_review(actor, borough):
            raise NotAllowed("Only an admin for this ward's borough can restore earlier details.")
        ops = undo_ops(rows, seen or {})
        if not ops:
            return Saved(None, "unchanged")
        return self._save(actor, ward_code, borough, ops, note, source="restore", restored_from=change_set_id)

    # -- internals --

    def _allow(self, actor: Account, ward_code: str) -> str | None:
        if not may_edit(actor, ward_code, self.borough_of):
            raise NotAllowed("You cannot change this ward's details.")
        return self.borough_of(ward_code)

    def _check(self, entity: str, form: Mapping[str, Any], ward_code: str, *, new: bool) -> dict[str, Any]:
        with self.store.reader() as session:
            force_id = self._team(session, ward_code).force_id
        checked = self._checked(entity, form, force_id, new=new)
        if not checked.ok:
            raise Invalid(checked.errors, {k: form.get(k) for k in FIELDS[entity]})
        return checked.values

    def _stored(self, ward_code: str, entity: str, entity_id: int) -> tuple[str, dict[str, str]]:
        """The team's force, and the record's values as its form shows them (none when it is not the team's:
        the save then says so)."""
        with self.store.reader() as session:
            team = self._team(session, ward_code)
            record = session.get(MODELS[entity], entity_id) if entity in MODELS else None
            owner = getattr(record, "id" if entity == "team" else "team_id", None)
            stored = _item(entity, record).form() if record is not None and owner == team.id else {}
            return team.force_id, stored

    def needs_correction(self, team: EditableTeam) -> dict[str, dict[str, str]]:
        """The stored values on the editing page that its checks refuse now (a rule tightened since they were
        saved), as {"route-12": {"value": message}}: flagged for correction, never blocking other fields."""
        flagged = {}
        for item in team.shown:
            checked = self._checked(item.entity, item.form(), team.force_id, new=False)
            if checked.errors:
                flagged[f"{item.entity}-{item.id}"] = {
                    name: v.STORED_FAILS.format(message=message) for name, message in checked.errors.items()
                }
        return flagged

    def _checked(self, entity: str, form: Mapping[str, Any], force_id: str, *, new: bool) -> v.Checked:
        """The form checked by its record's rules (routes and officers: email by the force's domains)."""
        if entity in ("route", "officer"):
            domains = v.force_domains_for(force_id, self.force_domains)
            check = v.check_route if entity == "route" else v.check_officer
            return check(form, email_domains=domains)
        if entity == "meeting":
            return v.check_meeting(form, now=self._london_now(), new=new)
        if entity == "priority":
            return v.check_priority(form)
        if entity == "team":
            return v.check_team(form)
        raise NotFound(f"Unknown kind of record: {entity!r}")

    def _next_order(self, ward_code: str, entity: str) -> int:
        """The order after every existing record of this kind in the team, so a new one is shown last."""
        model = MODELS[entity]
        with self.store.reader() as session:
            team_id = self._team(session, ward_code).id
            highest = session.scalar(select(func.max(model.display_order)).where(model.team_id == team_id))
        return 0 if highest is None else highest + 1

    def _team(self, session: Session, ward_code: str) -> m.Team:
        team = session.scalar(select(m.Team).where(m.Team.ward_code == ward_code))
        if team is None:  # one team serving several wards: the others are in team_ward
            served = select(m.TeamWard.team_id).where(m.TeamWard.ward_code == ward_code).scalar_subquery()
            team = session.scalar(select(m.Team).where(m.Team.id == served))
        if team is None:
            raise NotFound("This ward has no team in the finder yet.")
        return team

    def _change_set(
        self,
        ward_code: str,
        actor: Account | None,
        source: str,
        status: str,
        note: str | None,
        now: datetime,
        rows: list[Change],
        restored_from: int | None = None,
    ) -> ChangeSet:
        note = (note or "").strip() or None
        if note is not None and len(note) > v.TEXT_LIMIT:
            raise Invalid({"note": f"The note must be {v.TEXT_LIMIT} characters or fewer"}, {"note": note})
        return ChangeSet(
            ward_code=ward_code,
            user_id=actor.id if actor else None,
            source=source,
            status=status,
            note=note,
            created_at=now,
            restored_from=restored_from,
            changes=rows,
        )

    def _save(
        self,
        actor: Account,
        ward_code: str,
        borough: str | None,
        ops: list[Op],
        note: str | None,
        *,
        source: str = "officer",
        restored_from: int | None = None,
    ) -> Saved:
        """Apply `ops` (or hold them for review) in one transaction with their change set."""
        now = self.clock()
        try:
            with self.store.session() as session:
                team = self._team(session, ward_code)
                review = source == "officer" and needs_review(session, actor, borough)
                rows = self._draft(session, team, ops) if review else self._apply(session, team, ops, actor, now)
                if not rows:
                    return Saved(None, "unchanged", ops[0].entity_id)
                status: Literal["pending", "applied"] = "pending" if review else "applied"
                change_set = self._change_set(ward_code, actor, source, status, note, now, rows, restored_from)
                session.add(change_set)
                session.flush()
                saved = Saved(change_set.id, status, rows[0].entity_id)
        except (_Stale, StaleDataError) as exc:
            raise self._conflict(
                ward_code, exc.op if isinstance(exc, _Stale) else self._stale_op(ward_code, ops)
            ) from None
        if saved.status == "applied":
            self._changed(ward_code)
        return saved

    def _decide(
        self,
        reviewer: Account,
        change_set_id: int,
        *,
        approve: bool,
        reason: str | None = None,
        check: bool = True,
        note: str | None = None,
    ) -> Saved:
        """Approve (apply) or reject a pending change set; `check` applies the reviewer rule."""
        now = self.clock()
        try:
            with self.store.session() as session:
                change_set = claim_waiting(session, change_set_id)
                if change_set is None:
                    raise NotFound("That change is not waiting for review.")
                ward_code = change_set.ward_code
                if check and not may_decide(reviewer, change_set, self.borough_of(ward_code)):
                    raise NotAllowed("Only an admin for this ward's borough can review its changes.")
                ops = replay_ops([history_change(c) for c in change_set.changes]) if approve else []
                applied = self._apply(session, self._team(session, ward_code), ops, reviewer, now) if approve else None
                settle(change_set, reviewer, now, applied=applied, reason=reason, note=note)
                session.flush()
                saved = Saved(change_set.id, "applied" if approve else "rejected")
        except (_Stale, StaleDataError) as exc:
            if isinstance(exc, _Stale):
                raise self._conflict(ward_code, exc.op) from None
            raise self._conflict(ward_code, self._stale_op(ward_code, ops)) from None
        if approve:
            self._changed(ward_code)
        return saved

    def _changed(self, ward_code: str) -> None:
        if self.on_change is not None:
            self.on_change(ward_code)

    def _record(self, session: Session, team: m.Team, op: Op) -> Any:
        """The op's record, in this team (else the op is stale: it was removed)."""
        model = MODELS[op.entity]
        record = session.get(model, op.entity_id, populate_existing=True)
        if record is None and (op.version is not None or op.expect is not None) and op.entity != "team":
            raise _Stale(op)  # removed since the editor opened it
        owner = record.id if op.entity == "team" and record is not None else getattr(record, "team_id", None)
        if record is None or owner != team.id:
            raise NotFound(f"That {op.entity} is not part of this ward's team.")
        if op.version is not None and record.version != op.version:
            raise _Stale(op)
        if op.expect is not None and any(to_text(getattr(record, k)) != t for k, t in op.expect.items()):
            raise _Stale(op)
        return record

    def _draft(self, session: Session, team: m.Team, ops: list[Op]) -> list[Change]:
        """The changes `ops` would make, checked but not applied (a save waiting for review)."""
        rows = []
        for op in ops:
            if op.entity == "place":
                before, after = (None, "yes") if op.action == "add" else ("yes", None)
                rows.append(
                    Change(
                        entity="place",
                        entity_id=op.entity_id,
                        action=op.action,
                        field="linked",
                        before=before,
                        after=after,
                    )
                )
                continue
            if op.action == "add":
                rows += [
                    Change(entity=op.entity, action="add", field=k, after=to_text(x))
                    for k, x in op.values.items()
                    if x is not None
                ]
                continue
            record = self._record(session, team, op)
            if op.action == "remove":
                rows += snapshot_rows(op.entity, record, "remove")
                continue
            rows += [
                _field_change(op.entity, record, "update", k, x)
                for k, x in op.values.items()
                if _differs(op.entity, k, getattr(record, k), x)
            ]
            if op.entity == "team" and not op.values:  # the place-link ops' version check
                rows.append(
                    Change(entity="team", entity_id=record.id, action="update", field=None, version=record.version)
                )
        return rows if any(r.field is not None for r in rows) else []

    def _apply(self, session: Session, team: m.Team, ops: list[Op], actor: Account, now: datetime) -> list[Change]:
        """Carry out `ops` on the team's records; the changes made, one per field."""
        rows: list[Change] = []
        new_ids: dict[tuple[str, int], int] = {}
        by = actor.name[:120]

        def stamp(record: Any) -> None:
            record.source, record.verified_at, record.verified_by = "officer", now, by

        for op in ops:
            if op.entity == "place":
                rows += self._link(session, team, op)
                continue
            model = MODELS[op.entity]
            if op.action == "add":
                values = dict(op.values)
                if values.get("officer_id") is not None:
                    values["officer_id"] = new_ids.get(("officer", values["officer_id"]), values["officer_id"])
                record = model(
                    **values, team_id=team.id, key=self._key(session, team, op.entity, values), fetched_at=now
                )
                stamp(record)
                session.add(record)
                session.flush()
                if op.old_id is not None:
                    new_ids[(op.entity, op.old_id)] = record.id
                rows += [
                    Change(entity=op.entity, entity_id=record.id, action="add", field=k, after=to_text(x))
                    for k, x in values.items()
                    if x is not None
                ]
                continue
            record = self._record(session, team, op)
            if op.action == "remove":
                if op.entity == "officer":
                    for route in list(record.routes):
                        rows += snapshot_rows("route", route, "remove")
                        session.delete(route)
                rows += snapshot_rows(op.entity, record, "remove")
                session.delete(record)
                session.flush()
                continue
            changed = [
                _field_change(op.entity, record, op.action, k, x)
                for k, x in op.values.items()
                if _differs(op.entity, k, getattr(record, k), x)
            ]
            for row in changed:
                assert row.field is not None  # each set to a key of op.values just above
                setattr(record, row.field, op.values[row.field])
            # A change of place links (a team op with no values) confirms the team's listing.
            # Reordering alone checks nothing, so it stamps nothing.
            checked = any(row.field != "display_order" for row in changed)
            if (checked and op.stamp) or (op.entity == "team" and not op.values):
                stamp(record)
            rows += changed
            session.flush()
        return rows

    def _link(self, session: Session, team: m.Team, op: Op) -> list[Change]:
        place = session.get(m.Place, op.entity_id)
        if place is None or place.force_id != team.force_id:
            raise NotFound("That front counter is not one of the force's.")
        listed = place in team.places
        if op.action == "add" and not listed:
            team.places.append(place)
        elif op.action == "remove" and listed:
            team.places.remove(place)
        else:
            return []
        before, after = ("yes", None) if listed else (None, "yes")
        return [
            Change(entity="place", entity_id=place.id, action=op.action, field="linked", before=before, after=after)
        ]

    def _key(self, session: Session, team: m.Team, entity: str, values: dict[str, Any]) -> str:
        """The natural key the sync matches by; a duplicate of an existing record is refused."""
        model = MODELS[entity]
        if entity == "officer":
            base = fold(values["name"])[:200]
            taken = set(session.scalars(select(m.Officer.key).where(m.Officer.team_id == team.id)))
            n, key = 1, base
            while key in taken:
                n += 1
                key = f"{base}#{n}"
            return key
        if entity == "route":
            owner = "team"
            if values.get("officer_id") is not None:
                officer = session.get(m.Officer, values["officer_id"])
                if officer is None or officer.team_id != team.id:
                    raise NotFound("That officer is not part of this ward's team.")
                owner = f"officer:{officer.key}"
            key, name, message = (
                RouteData(values["kind"], "", _keyed_value(values["kind"], values["value"])).key(owner),
                "value",
                "The team already lists this contact detail",
            )
        elif entity == "meeting":
            key = MeetingData(values["title"], values["kind"], values["start"]).key()
            name, message = "title", "There is already a meeting with this title at this time"
        else:
            key = PriorityData(values["issue"], issue_date=values.get("issue_date")).key()
            name, message = "issue", "The team already lists this priority"
        if session.scalar(select(model.id).where(model.team_id == team.id, model.key == key)) is not None:
            raise Invalid({name: message}, values)
        return key

    def _stale_op(self, ward_code: str, ops: list[Op]) -> Op:
        """Which op failed the version check at write time (another save committed in between)."""
        with self.store.reader() as session:
            team = self._team(session, ward_code)
            for op in ops:
                if op.entity in MODELS and op.action != "add":
                    try:
                        self._record(session, team, op)
                    except (_Stale, NotFound):
                        return op
        return next((op for op in ops if op.entity in MODELS and op.action != "add"), ops[0])

    def _conflict(self, ward_code: str, op: Op) -> EditConflict:
        """What the editor needs to choose: the submitted values against the current ones, and who changed what."""
        with self.store.reader() as session:
            record = session.get(MODELS[op.entity], op.entity_id) if op.entity in MODELS else None
            query = applied_changes(ward_code, Change.entity == op.entity, Change.entity_id == op.entity_id)
            if op.version is not None:
                query = query.where(Change.version >= op.version)
            since = [history_change(c) for c in session.scalars(query)]
            if record is None:
                return EditConflict(op.entity, op.entity_id, removed=True, current_version=None, changed_since=since)
            # What this save would have written (a removal: what it expected to find), against now.
            yours = op.values or {k: from_text(op.entity, k, t) for k, t in (op.expect or {}).items()}
            differences = [
                Difference(k, to_text(x), to_text(getattr(record, k)))
                for k, x in yours.items()
                if _differs(op.entity, k, getattr(record, k), x)
            ]
            return EditConflict(
                op.entity,
                op.entity_id,
                removed=False,
                current_version=record.version,
                differences=differences,
                changed_since=since,
            )

    def _stale_confirm(
        self,
        session: Session,
        ward_code: str,
        records: Mapping[tuple[str, int], Any],
        seen: Mapping[tuple[str, int], int],
        current: Mapping[tuple[str, int], int],
    ) -> StaleConfirm:
        """What changed between the versions a "still correct" page showed and the team now."""
        moved = sorted(k for k in {*seen, *current} if seen.get(k) != current.get(k))
        query = applied_changes(
            ward_code,
            Change.entity.in_({entity for entity, _ in moved}),
            Change.entity_id.in_({id_ for _, id_ in moved}),
        )
        since: dict[tuple[str, int], list[HistoryChange]] = {k: [] for k in moved}
        for c in session.scalars(query):
            key = (c.entity, c.entity_id)
            # A record added since: all of its history; one the page showed: what came after its version.
            if key in since and (key not in seen or (c.version is not None and c.version >= seen[key])):
                since[key].append(history_change(c))
        changed = []
        for entity, id_ in moved:
            record = records.get((entity, id_))
            if record is not None:
                label = _label(entity, record)
            else:  # removed: its last values are in the history
                before = {c.field: c.before for c in since[entity, id_] if c.action == "remove"}
                label = before.get("name") or before.get("label") or before.get("title") or before.get("issue") or ""
            changed.append((entity, label, tuple(since[entity, id_])))
        return StaleConfirm(changed, seen_text(current))


def _records(team: m.Team) -> list[tuple[str, Record]]:
    """The team and every record of it, as "still correct" confirms them."""
    return [
        ("team", team),
        *(("route", r) for r in team.routes),
        *(("officer", o) for o in team.officers),
        *(("meeting", x) for x in team.meetings),
        *(("priority", p) for p in team.priorities),
    ]


def _field_change(entity: str, record: Any, action: str, field: str, after: Any) -> Change:
    """The history row for one field of a stored record: its value now, the value it takes, at its version."""
    return Change(
        entity=entity,
        entity_id=record.id,
        action=action,
        field=field,
        before=to_text(getattr(record, field)),
        after=to_text(after),
        version=record.version,
    )


def _confirm_rows(entity: str, record: Any, actor: Account, now: datetime, *, stamp: bool = True) -> list[Change]:
    """The history rows that say one record was checked now by `actor`; and, unless it waits for review
    (`stamp` false), the record stamped so."""
    rows = []
    for name, after in (("verified_at", now), ("verified_by", actor.name[:120])):
        rows.append(_field_change(entity, record, "confirm", name, after))
        if stamp:
            setattr(record, name, after)
    return rows


def _differs(entity: str, name: str, stored: Any, new: Any) -> bool:
    """Whether a save changes a field: a phone number or email written another way is the same."""
    if stored == new:
        return False
    if entity == "route" and name == "value" and isinstance(stored, str) and isinstance(new, str):
        return v.parse_phone(stored) != new and stored.casefold() != new.casefold()
    return True


def _keyed_value(kind: str, value: str) -> str:
    """A new route's value as police.uk tends to write it (phones in national format), so that the
    sync matches the same number to this route rather than adding it again."""
    return v.format_phone(value) if kind in v.PHONE_KINDS else value


def _item(entity: str, record: Any) -> Item:
    return Item(
        entity=entity,
        id=record.id,
        version=record.version,
        values={k: getattr(record, k) for k in FIELDS[entity]},
        source=record.source,
        fetched_at=record.fetched_at,
        verified_at=record.verified_at,
        verified_by=record.verified_by,
        officer_id=getattr(record, "officer_id", None) if entity == "route" else None,
    )


__all__ = [
    "STALE_DAYS",
    "EditConflict",
    "EditableTeam",
    "Editing",
    "EditingError",
    "Invalid",
    "Item",
    "NotAllowed",
    "NotFound",
    "Part",
    "PlaceOption",
    "Saved",
    "StaleItem",
    "UpdateSaved",
]
