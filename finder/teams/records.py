"""How to make the store match what a team should look like (the plain data: finder.teams.schema).

The police.uk sync and the sample loader both describe a team as a `TeamData` and call
`apply_team`, which inserts, updates and removes rows so the store matches, and returns the list
of changes. Records are matched by natural keys (the neighbourhood id or ward code, an officer's
name, a route's kind and value, a meeting's start and title…), so applying the same data twice
changes nothing but the fetched_at times: runs are idempotent and a resumed run makes no duplicates.

A record an officer entered or verified (`Provenance.locked`) is never changed or removed here;
where the incoming data differs, a "conflict" change is reported instead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from finder.store.models import Base, ContactRoute, Force, Meeting, Officer, Place, Priority, Team, TeamWard
from finder.teams.schema import (
    MeetingData,
    OfficerData,
    PlaceData,
    PriorityData,
    RouteData,
    TeamData,
    as_json,
    fold,
    synced_values,
)

__all__ = ["MeetingData", "OfficerData", "PlaceData", "PriorityData", "RouteData", "TeamData", "apply_team", "fold"]

Action = Literal["add", "update", "remove", "conflict", "keep"]
SYMBOLS = {"add": "+", "update": "~", "remove": "-", "conflict": "!", "keep": "="}


@dataclass(frozen=True)
class Change:
    """One difference between the store and the incoming data, and what was (or would be) done."""

    action: Action
    entity: str
    label: str
    fields: tuple[str, ...] = ()
    note: str = ""
    # For the history (finder.staff.sync_changes.record_sync): the record, its version before this
    # change, and (field, stored value, incoming value) for updates and conflicts.
    record: Any = field(default=None, compare=False, repr=False)
    version: int | None = field(default=None, compare=False, repr=False)
    values: tuple[tuple[str, Any, Any], ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{SYMBOLS[self.action]} {self.entity} {self.label}"
        if self.fields:
            text += f" ({', '.join(self.fields)})"
        if self.note:
            text += f": {self.note}"
        return text


@dataclass
class Outcome:
    """What apply_team did to one team."""

    team: Team
    changes: list[Change]

    @property
    def changed(self) -> bool:
        """Whether anything was added, updated or removed."""
        return any(c.action in ("add", "update", "remove") for c in self.changes)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return round(a, 6) == round(b, 6)
    return a == b


class _Applier:
    def __init__(self, session: Session, source: str, now: datetime) -> None:
        self.session = session
        self.source = source
        self.now = now
        self.changes: list[Change] = []
        self.unchanged: dict[type[Base], list[Any]] = {}  # records only fetched again: no new version

    def touch_unchanged(self) -> None:
        """Stamp fetched_at on records that did not change, without an ORM UPDATE: a fetch that
        changes nothing is not a new version, so an editor's open form does not go stale at each sync."""
        for cls, records in self.unchanged.items():
            table = cast(Table, cls.__table__)  # a mapped class's table, typed as any FROM clause
            ids = [r.id for r in records]
            for start in range(0, len(ids), 500):
                self.session.execute(
                    update(table).where(table.c.id.in_(ids[start : start + 500])).values(fetched_at=self.now)
                )
            for record in records:
                set_committed_value(record, "fetched_at", self.now)
        self.unchanged.clear()

    def assign(self, obj: Any, values: dict[str, Any], entity: str, label: str) -> None:
        """Bring an existing record in line with `values`, unless an officer has locked it."""
        diffs = tuple(k for k, v in values.items() if not _same(getattr(obj, k), v))
        version = getattr(obj, "version", None)
        pairs = tuple((k, getattr(obj, k), values[k]) for k in diffs)
        if obj.locked:
            if diffs:
                who = "an officer entered" if obj.source == "officer" else "an officer verified"
                self.changes.append(Change("conflict", entity, label, diffs, f"kept what {who}", obj, version, pairs))
            return
        for name in diffs:
            setattr(obj, name, values[name])
        if obj.source != self.source:
            pairs = (*pairs, ("source", obj.source, self.source))
            obj.source = self.source
            diffs = (*diffs, "source")
        if diffs:
            self.changes.append(Change("update", entity, label, diffs, record=obj, version=version, values=pairs))
            obj.fetched_at = self.now
        elif obj.id is not None and obj.fetched_at != self.now:
            self.unchanged.setdefault(type(obj), []).append(obj)

    def new(self, cls: type, values: dict[str, Any], entity: str, label: str) -> Any:
        """A new record from this source, stamped now."""
        obj = cls(**values, source=self.source, fetched_at=self.now)
        self.changes.append(Change("add", entity, label, record=obj))
        return obj

    def reconcile(
        self,
        existing: Iterable[Any],
        desired: dict[str, tuple[dict[str, Any], str]],
        make: Callable[[str, dict[str, Any], str], Any],
        remove: Callable[[Any], None],
        entity: str,
        label_of: Callable[[Any], str],
        slot: Callable[[Any], Hashable] | None = None,
        desired_slots: dict[str, Hashable] | None = None,
    ) -> dict[str, Any]:
        """Add, update and remove children so they match `desired` ({key: (values, label)}).

        With `slot` (of a stored child) and `desired_slots` (of each desired key): a slot left with exactly one
        unmatched child on each side pairs them, so a changed value (police.uk's new team mailbox) updates the
        stored child, or is a conflict when an officer holds it, instead of arriving as a second child beside it.
        """
        by_key = {obj.key: obj for obj in existing}
        if slot is not None and desired_slots is not None:
            for key, obj in _paired(by_key, desired, slot, desired_slots).items():
                del by_key[obj.key]
                if not obj.locked:
                    obj.key = key
                by_key[key] = obj
        result: dict[str, Any] = {}
        for key, (values, label) in desired.items():
            obj = by_key.get(key)
            if obj is None:
                result[key] = make(key, values, label)
            else:
                self.assign(obj, values, entity, label)
                result[key] = obj
        for key, obj in by_key.items():
            if key in desired:
                continue
            if obj.source == "officer":
                self.changes.append(Change("keep", entity, label_of(obj), note="entered by an officer"))
            elif obj.locked:
                self.changes.append(
                    Change(
                        "conflict",
                        entity,
                        label_of(obj),
                        note="verified by an officer but no longer listed; kept",
                        record=obj,
                        version=getattr(obj, "version", None),
                    )
                )
            else:
                version = getattr(obj, "version", None)
                remove(obj)
                self.changes.append(Change("remove", entity, label_of(obj), record=obj, version=version))
        return result


def _paired(
    by_key: dict[str, Any],
    desired: dict[str, Any],
    slot: Callable[[Any], Hashable],
    desired_slots: dict[str, Hashable],
) -> dict[str, Any]:
    """{desired key: stored child} for each slot holding exactly one unmatched child on each side."""
    stored: dict[Hashable, list[Any]] = {}
    for key, obj in by_key.items():
        if key not in desired:
            stored.setdefault(slot(obj), []).append(obj)
    wanted: dict[Hashable, list[str]] = {}
    for key in desired:
        if key not in by_key:
            wanted.setdefault(desired_slots[key], []).append(key)
    return {keys[0]: stored[s][0] for s, keys in wanted.items() if len(keys) == 1 and len(stored.get(s, ())) == 1}


def _unique_keys(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Keep the first of any items that share a key (two identical rows in a source are one)."""
    out: dict[str, Any] = {}
    for key, item in items:
        out.setdefault(key, item)
    return out


def officer_keys(officers: list[OfficerData]) -> list[str]:
    """Officers are keyed by name; a second officer of the same name gets "#2"."""
    seen: dict[str, int] = {}
    keys = []
    for officer in officers:
        base = fold(officer.name)[:200]
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return keys


RECORD_KINDS = ("officers", "routes", "meetings", "priorities")


def stored_counts(team: Team | None, since: datetime) -> dict[str, int]:
    """How many of a team's records a source could remove, by kind: not entered or verified by an
    officer, and for meetings only those from `since` (past meetings leaving a listing is normal)."""
    if team is None:
        return dict.fromkeys(RECORD_KINDS, 0)
    return {
        "officers": sum(not o.locked for o in team.officers),
        "routes": sum(not r.locked for r in team.routes),
        "meetings": sum(not m.locked and m.start >= since for m in team.meetings),
        "priorities": sum(not p.locked for p in team.priorities),
    }


def incoming_counts(data: TeamData, since: datetime) -> dict[str, int]:
    """How many records of each kind `data` brings, keyed as apply_team keys them (meetings from `since`)."""
    routes = [r.key("team") for r in data.routes]
    for key, officer in zip(officer_keys(data.officers), data.officers, strict=True):
        routes += [r.key(f"officer:{key}") for r in officer.routes]
    return {
        "officers": len(data.officers),
        "routes": len(set(routes)),
        "meetings": len({m.key() for m in data.meetings if m.start >= since}),
        "priorities": len({p.key() for p in data.priorities}),
    }


def find_team(session: Session, force_id: str, policeuk_id: str | None, ward_code: str | None) -> Team | None:
    """The stored team for a neighbourhood id, else for the ward."""
    team = None
    if policeuk_id:
        team = session.scalar(select(Team).where(Team.force_id == force_id, Team.policeuk_id == policeuk_id))
    if team is None and ward_code:
        team = session.scalar(select(Team).where(Team.ward_code == ward_code))
    return team


def ensure_force(session: Session, force_id: str, name: str, source: str, now: datetime) -> Force:
    """The force row (created on first sight)."""
    force = session.get(Force, force_id)
    if force is None:
        force = Force(id=force_id, name=name, source=source, fetched_at=now)
        session.add(force)
        session.flush()
    elif source == "policeuk" and not force.locked:
        force.name, force.source, force.fetched_at = name, source, now
    return force


def apply_team(session: Session, data: TeamData, *, source: str, now: datetime, run_id: int | None = None) -> Outcome:
    """Make the store's copy of one team match `data`; return what changed (see module docstring)."""
    ap = _Applier(session, source, now)
    ensure_force(session, data.force_id, data.force_name, source, now)
    team = find_team(session, data.force_id, data.policeuk_id, data.ward_code)
    label = f"{data.policeuk_id or data.ward_code} {data.name}"
    values = {
        "name": data.name,
        "policeuk_id": data.policeuk_id,
        "description": data.description,
        "url_force": data.url_force,
        "population": data.population,
        "centre_lat": data.centre_lat,
        "centre_lon": data.centre_lon,
        "links": as_json(data.links),
    }
    if team is None:
        team = ap.new(Team, {**values, "force_id": data.force_id, "ward_code": data.ward_code}, "team", label)
        session.add(team)
    else:
        if data.ward_code and team.ward_code != data.ward_code:
            holder = session.scalar(select(Team).where(Team.ward_code == data.ward_code))
            if holder is None:
                values["ward_code"] = data.ward_code
            else:
                ap.changes.append(Change("conflict", "team", label, ("ward_code",), "another team holds that ward"))
        ap.assign(team, values, "team", label)
    team.sync_run_id = run_id

    # Officers first, so their routes can point at them.
    officer_data = dict(zip(officer_keys(data.officers), data.officers, strict=True))
    desired_officers = {
        key: (
            {**synced_values("officer", o), "display_order": i},
            f"{o.name} ({o.rank or o.role})",
        )
        for i, (key, o) in enumerate(officer_data.items())
    }
    officers = ap.reconcile(
        [o for o in team.officers],
        desired_officers,
        lambda key, values, label: _append(team.officers, ap.new(Officer, {**values, "key": key}, "officer", label)),
        lambda obj: None,  # removed below, after their routes
        "officer",
        lambda o: f"{o.name} ({o.rank or o.role})",
    )
    gone_officers = [o for o in team.officers if o.key not in desired_officers and not o.locked]

    route_items: list[tuple[str, tuple[RouteData, Officer | None]]] = [(r.key("team"), (r, None)) for r in data.routes]
    for key, o in officer_data.items():
        route_items += [(r.key(f"officer:{key}"), (r, officers[key])) for r in o.routes]
    routes_wanted = _unique_keys(route_items)
    desired_routes = {
        key: (
            {**synced_values("route", r), "display_order": i},
            f"{r.kind} {r.value}" + (f" of {owner.name}" if owner is not None else ""),
        )
        for i, (key, (r, owner)) in enumerate(routes_wanted.items())
    }

    def make_route(key: str, values: dict[str, Any], label: str) -> ContactRoute:
        """A new route, attached to its officer when it has one."""
        route = ap.new(ContactRoute, {**values, "key": key}, "route", label)
        route.officer = routes_wanted[key][1]
        return _append(team.routes, route)

    ap.reconcile(
        list(team.routes),
        desired_routes,
        make_route,
        team.routes.remove,
        "route",
        lambda r: f"{r.kind} {r.value}",
        lambda r: _route_slot(r.officer.key if r.officer is not None else None, r.kind, r.label),
        {
            key: _route_slot(owner.key if owner is not None else None, r.kind, r.label)
            for key, (r, owner) in routes_wanted.items()
        },
    )
    for officer in gone_officers:
        team.officers.remove(officer)

    meetings = _unique_keys((m.key(), m) for m in data.meetings)
    ap.reconcile(
        list(team.meetings),
        {
            key: (
                {**synced_values("meeting", m), "contact_details": m.contact_json()},
                f"{m.start:%Y-%m-%d %H:%M} {m.title}",
            )
            for key, m in meetings.items()
        },
        lambda key, values, label: _append(team.meetings, ap.new(Meeting, {**values, "key": key}, "meeting", label)),
        team.meetings.remove,
        "meeting",
        lambda m: f"{m.start:%Y-%m-%d %H:%M} {m.title}",
    )

    priorities = _unique_keys((p.key(), p) for p in data.priorities)
    ap.reconcile(
        list(team.priorities),
        {
            key: (
                {**synced_values("priority", p), "display_order": i},
                _short(p.issue),
            )
            for i, (key, p) in enumerate(priorities.items())
        },
        lambda key, values, label: _append(
            team.priorities, ap.new(Priority, {**values, "key": key}, "priority", label)
        ),
        team.priorities.remove,
        "priority",
        lambda p: _short(p.issue),
    )

    _apply_places(ap, team, data)
    _apply_extra_wards(ap, team, data, label)
    session.flush()
    ap.touch_unchanged()
    return Outcome(team, ap.changes)


def _apply_places(ap: _Applier, team: Team, data: TeamData) -> None:
    """Places are shared by a force's teams: upsert each, then set this team's links to exactly these."""
    wanted = _unique_keys((p.key(), p) for p in data.places)
    stored = {
        p.key: p
        for p in ap.session.scalars(select(Place).where(Place.force_id == data.force_id, Place.key.in_(wanted)))
    }
    linked = []
    for key, p in wanted.items():
        values = {
            "name": p.name,
            "kind": p.kind,
            "address": p.address,
            "postcode": p.postcode,
            "lat": p.lat,
            "lon": p.lon,
            "opening_hours": p.opening_hours,
            "description": p.description,
        }
        place = stored.get(key)
        if place is None:
            place = ap.new(Place, {**values, "key": key, "force_id": data.force_id}, "place", p.name)
            ap.session.add(place)
        elif place.fetched_at != ap.now:  # shared by teams: assess once per run
            ap.assign(place, values, "place", p.name)
        linked.append(place)
    before = {p.key for p in team.places}
    for place in list(team.places):
        if place.key not in wanted:
            team.places.remove(place)
            ap.changes.append(Change("remove", "place link", place.name, record=place))
    for place in linked:
        if place.key not in before:
            team.places.append(place)


def _apply_extra_wards(ap: _Applier, team: Team, data: TeamData, label: str) -> None:
    """Set the further wards the team serves to `data.extra_wards`, leaving out any another team holds."""
    wanted = [code for code in dict.fromkeys(data.extra_wards) if code != (team.ward_code or data.ward_code)]
    others: set[str | None] = set()
    if wanted:
        others = set(
            ap.session.scalars(select(Team.ward_code).where(Team.ward_code.in_(wanted), Team.id != team.id))
        ) | set(
            ap.session.scalars(
                select(TeamWard.ward_code).where(TeamWard.ward_code.in_(wanted), TeamWard.team_id != team.id)
            )
        )
    for code in sorted(code for code in others if code is not None):  # in_(wanted): never None
        ap.changes.append(Change("conflict", "team", label, ("ward",), f"another team holds ward {code}"))
    wanted = [code for code in wanted if code not in others]
    for link in list(team.extra_wards):
        if link.ward_code not in wanted:
            team.extra_wards.remove(link)
    held = {link.ward_code for link in team.extra_wards}
    team.extra_wards.extend(TeamWard(ward_code=code) for code in wanted if code not in held)


def _route_slot(owner: str | None, kind: str, label: str | None) -> Hashable:
    """Where a route sits: its owner and kind, and for a social account its network (Twitter, Facebook)."""
    return (owner, kind, fold(label or "") if kind == "social" else None)


def _append(collection: list, obj: Any) -> Any:
    collection.append(obj)
    return obj


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
