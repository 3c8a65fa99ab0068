"""Sync neighbourhood teams from data.police.uk into the store.

`finder sync-policeuk --force metropolitan` reads the force's neighbourhood list, then each
neighbourhood's details (with its `locations`), people, events and priorities, and makes the store
match (finder.teams.records.apply_team). How it behaves:

- Polite: a token bucket keeps requests under FINDER_POLICEUK_RATE per second (default 14; the API
  allows 15) with bursts of at most FINDER_POLICEUK_BURST (default 20; the API allows 30), leaving
  room for network jitter. A 429 pauses every worker for its Retry-After; a
  429, a 5xx or a dropped connection is retried with exponential backoff (tenacity).
- Resumable: each neighbourhood is written in its own transaction and stamped with the run's id.
  A run that dies half way stays "running" (or ends "incomplete" when some neighbourhoods failed);
  the next run for that force resumes it, skipping the neighbourhoods already done in it.
- Idempotent: records are matched by natural keys, so rerunning changes nothing but fetched_at.
- Honest about what it cannot do: neighbourhoods are matched to wards by id (the ward's GSS code,
  sometimes with an "N" suffix; if both X and XN are listed, XN holds the ward and X is reported),
  else by name within the force's wards, else (given the ward shapes) by their police.uk boundary:
  such a neighbourhood serves every ward mostly inside it that no other team holds (a force-wide
  City of London neighbourhood, a merged team), the most covered as its ward and the rest in
  `team_ward`. The unmatched are stored without a ward and reported. Records an officer entered
  or verified are never overwritten; the differences are reported as conflicts.
- Keeps what police.uk offers beyond the team: neighbourhood `links` and event contact details
  (http(s) links and checked contacts only), and the force's `engagement_methods` (one request a run).
- Never deletes on a bad answer: a 200 of the wrong shape (`{"error": …}`, null, an object where a
  list belongs, items without their keys, more than one team may hold: finder.teams.policeuk_answers) is
  retried like a 5xx, then that neighbourhood fails and nothing of it changes; a run with failures
  is "incomplete" and removes no teams. A listing or a team that would hold fewer records than the
  store does, by more than SHRINK_THRESHOLD and at least SHRINK_MIN_ITEMS, is held back and reported
  (the run stays incomplete) unless `--allow-shrink` says the smaller answer is right.
- Recorded: what a run changes in a ward's team goes into the ward's history (source police.uk),
  and each difference from an officer's record waits as a task for the ward's editors
  (finder.staff.sync_changes.record_sync).
- `--dry-run` fetches everything, applies it inside transactions that are rolled back, and prints
  what would change.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from finder.geo.overlap import boundary_polygon, wards_covered
from finder.geo.wards import Ward, WardIndex
from finder.staff.sync_changes import record_sync
from finder.store import Store
from finder.store.models import Place, Provenance, SyncRun, Team, team_place, utcnow
from finder.teams import policeuk_answers as policeuk
from finder.teams.policeuk_client import ClientStats, FetchError, PoliceUK
from finder.teams.records import (
    Outcome,
    TeamData,
    apply_team,
    ensure_force,
    find_team,
    incoming_counts,
    stored_counts,
)

# An answer with fewer records than the store holds is believed only when it loses at most this share
# of them, or fewer than SHRINK_MIN_ITEMS (a team going from 2 officers to 1 is ordinary news);
# otherwise it waits for --allow-shrink.
SHRINK_THRESHOLD = 0.2
SHRINK_MIN_ITEMS = 2
Log = Callable[[str], None]


class SyncError(RuntimeError):
    """The sync cannot go on (the neighbourhood list is unavailable, or the force is unknown)."""


def shrinks_too_much(before: int, after: int) -> bool:
    """Whether going from `before` records to `after` needs --allow-shrink (see SHRINK_THRESHOLD)."""
    lost = before - after
    return lost >= SHRINK_MIN_ITEMS and lost > before * SHRINK_THRESHOLD


def _name_key(name: str) -> str:
    text = name.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"[^a-z0-9 ]", "", text.replace("-", " "))
    words = [w for w in text.split() if w not in ("ward", "snt", "safer", "neighbourhood", "neighbourhoods", "team")]
    return " ".join(words)


class WardMatcher:
    """Matches police.uk neighbourhoods to ward GSS codes: by id (with or without "N"), then by name."""

    def __init__(self, wards: Iterable[Ward], index: WardIndex | None = None) -> None:
        self.index = index  # ward shapes: with them, a neighbourhood unmatched by id is placed by its boundary
        self.by_code: dict[str, Ward] = {}
        self.by_name: dict[tuple[str, str], list[Ward]] = {}
        for ward in wards:
            self.by_code[ward.code] = ward
            self.by_name.setdefault((ward.force_id, _name_key(ward.name)), []).append(ward)

    def match(self, force_id: str, policeuk_id: str, name: str | None) -> tuple[str | None, str]:
        """(ward code, how) or (None, why not)."""
        code = policeuk_id.strip().upper()
        if code not in self.by_code and code.endswith("N") and code[:-1] in self.by_code:
            code = code[:-1]
        ward = self.by_code.get(code)
        if ward is not None:
            if ward.force_id != force_id:
                return None, f"ward {code} is policed by {ward.force_id}, not {force_id}"
            return ward.code, "id"
        found = self.by_name.get((force_id, _name_key(name or "")), [])
        if len(found) == 1:
            return found[0].code, "name"
        if len(found) > 1:
            return None, f"its name matches {len(found)} wards"
        return None, "no ward has this code or name"

    def covered(self, force_id: str, points: list[tuple[float, float]]) -> list[str]:
        """The force's wards mostly inside a police.uk boundary, most covered first."""
        if self.index is None:
            return []
        polygon = boundary_polygon(points)
        if polygon is None:
            return []
        return [ward.code for ward, _ in wards_covered(self.index, polygon) if ward.force_id == force_id]


@dataclass
class SyncReport:
    """What a run did (or, for a dry run, would do)."""

    force_id: str
    dry_run: bool
    run_id: int | None = None
    resumed: bool = False
    listed: int = 0
    already_done: int = 0
    synced: int = 0
    matched: dict[str, int] = field(default_factory=Counter)
    unmatched: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)  # shrinks waiting for --allow-shrink
    changes: Counter = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removed_teams: list[str] = field(default_factory=list)
    status: str = "running"
    elapsed: float = 0.0
    stats: ClientStats | None = None

    def add(self, outcome: Outcome, label: str) -> None:
        """Count one team's changes and keep its conflicts for the summary."""
        for change in outcome.changes:
            self.changes[(change.entity, change.action)] += 1
            if change.action == "conflict":
                self.conflicts.append(f"{label}: {change}")

    def summary(self) -> dict[str, Any]:
        """The run's figures as JSON-friendly data (also stored on the run)."""
        stats = self.stats or ClientStats()
        return {
            "force": self.force_id,
            "dry_run": self.dry_run,
            "status": self.status,
            "listed": self.listed,
            "synced": self.synced,
            "already_done": self.already_done,
            "matched_by": dict(self.matched),
            "unmatched": [{"id": i, "name": n, "reason": r} for i, n, r in self.unmatched],
            "failed": [{"id": i, "reason": r} for i, r in self.failed],
            "held_back": [{"id": i, "reason": r} for i, r in self.held],
            "changes": {f"{entity}.{action}": n for (entity, action), n in sorted(self.changes.items())},
            "conflicts": self.conflicts,
            "removed_teams": self.removed_teams,
            "requests": stats.requests,
            "retries": stats.retries,
            "throttled_429": stats.throttled,
            "server_errors": stats.server_errors,
            "wrong_shape": stats.wrong_shape,
            "seconds": round(self.elapsed, 2),
            "mean_requests_per_second": round(stats.mean_rate(), 2),
            "busiest_second": stats.busiest_second(),
        }

    def lines(self) -> list[str]:
        """A human summary for the command line."""
        s = self.summary()
        verb = "would change" if self.dry_run else "changed"
        out = [
            f"{self.force_id}: {s['listed']} neighbourhoods listed; {s['synced']} synced"
            + (f", {s['already_done']} already done in resumed run {self.run_id}" if self.resumed else "")
            + f"; status {s['status']}",
            f"  matched to wards: {sum(self.matched.values())} "
            f"({', '.join(f'{n} by {k}' for k, n in self.matched.items()) or 'none'})",
            f"  unmatched: {len(self.unmatched)}",
        ]
        out += [f"    {i} {n!r}: {r}" for i, n, r in self.unmatched]
        if self.failed:
            out.append(f"  FAILED: {len(self.failed)} (the next run resumes them)")
            out += [f"    {i}: {r}" for i, r in self.failed]
        if self.held:
            out.append(
                f"  HELD BACK: {len(self.held)} (police.uk lists much less than the store holds; nothing of it "
                "was changed or removed; rerun with --allow-shrink if police.uk is right)"
            )
            out += [f"    {i}: {r}" for i, r in self.held]
        changed = {k: v for k, v in s["changes"].items() if not k.endswith(".conflict")}
        out.append(f"  {verb}: " + (", ".join(f"{k} {v}" for k, v in changed.items()) or "nothing"))
        if self.removed_teams:
            out.append(f"  teams no longer listed, removed: {', '.join(self.removed_teams)}")
        if self.conflicts:
            out.append(f"  conflicts (officer-entered or verified data kept): {len(self.conflicts)}")
            out += [f"    {c}" for c in self.conflicts]
        out += [f"  note: {n}" for n in self.notes]
        out.append(
            f"  {s['requests']} requests in {s['seconds']} s: mean {s['mean_requests_per_second']}/s, "
            f"busiest second {s['busiest_second']}, {s['retries']} retries, {s['throttled_429']} × 429, "
            f"{s['server_errors']} × 5xx, {s['wrong_shape']} wrong-shaped"
        )
        return out


@dataclass
class Fetched:
    """One neighbourhood's responses (or why they could not be had), from a worker to the writer."""

    reference: dict[str, Any]
    details: Any = None
    people: Any = None
    events: Any = None
    priorities: Any = None
    boundary: list[tuple[float, float]] | None = None
    error: str | None = None


class Sync:
    """One force's sync into one store (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        client: PoliceUK,
        matcher: WardMatcher,
        force_names: dict[str, str],
        *,
        workers: int = 4,
        log: Log = print,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store, self.client, self.matcher = store, client, matcher
        self.force_names = force_names
        self.workers = max(1, workers)
        self.log, self.now = log, now

    def fetch(self, reference: dict[str, Any], force_id: str, boundary: bool = False) -> Fetched:
        """One neighbourhood's four requests (details carries its locations), each checked for its shape,
        and its boundary when asked (a neighbourhood without one is not a failure)."""
        nid = reference["id"]
        item = Fetched(reference)
        try:
            item.details = self.client.get(force_id, nid, check=policeuk.check_details)
            if item.details is None:
                item.error = "police.uk has no details for it (404)"
                return item
            for endpoint in ("people", "events", "priorities"):
                answer = self.client.get(force_id, nid, endpoint, check=partial(policeuk.check_list, endpoint))
                if answer is None:  # a neighbourhood with details has these lists, if only empty ones
                    item.error = f"police.uk has no {endpoint} for it (404)"
                    return item
                setattr(item, endpoint, answer)
            if boundary:
                item.boundary = self.client.get(force_id, nid, "boundary", check=policeuk.boundary_points)
        except FetchError as exc:
            item.error = str(exc)
        return item

    def _start_run(self, force_id: str, restart: bool, report: SyncReport) -> tuple[int, set[str]]:
        with self.store.session() as session:
            run = None
            if not restart:
                run = session.scalar(
                    select(SyncRun)
                    .where(SyncRun.force_id == force_id, SyncRun.status.in_(("running", "incomplete")))
                    .order_by(SyncRun.id.desc())
                )
            if run is None:
                run = SyncRun(force_id=force_id, started_at=self.now(), status="running")
                session.add(run)
                session.flush()
                return run.id, set()
            report.resumed = True
            run.status = "running"
            done = {
                pid
                for pid in session.scalars(
                    select(Team.policeuk_id).where(Team.force_id == force_id, Team.sync_run_id == run.id)
                )
                if pid is not None  # a police.uk team always has its id
            }
            self.log(f"{force_id}: resuming run {run.id} (started {run.started_at:%Y-%m-%d %H:%M} UTC)")
            return run.id, done

    def run(
        self,
        force_id: str,
        *,
        dry_run: bool = False,
        restart: bool = False,
        verbose: bool = False,
        allow_shrink: bool = False,
        on_team: Callable[[str, Outcome], None] | None = None,
    ) -> SyncReport:
        """Sync one force; returns the report. `on_team` is called after each neighbourhood is written.

        `allow_shrink` believes answers that hold much less than the store does (see SHRINK_THRESHOLD)."""
        if force_id not in self.force_names:
            raise SyncError(f"unknown force {force_id!r}: this finder covers {', '.join(self.force_names)}")
        started = time.monotonic()
        report = SyncReport(force_id, dry_run, stats=self.client.stats)
        try:
            listing = self.client.get(force_id, "neighbourhoods", check=policeuk.check_listing)
        except FetchError as exc:
            raise SyncError(f"could not read the {force_id} neighbourhood list: {exc}") from exc
        references: list[dict[str, Any]] = []
        for item in listing or []:
            nid = policeuk.one_line(item["id"])
            references.append({"id": nid, "name": policeuk.one_line(item.get("name")) or nid})
        if not references:
            raise SyncError(f"police.uk listed no neighbourhoods for {force_id}; nothing was changed")
        report.listed = len(references)
        stored = self._stored_teams(force_id)
        if shrinks_too_much(stored, len(references)):
            why = f"police.uk lists {len(references)} neighbourhoods; the store holds {stored} teams from it"
            if allow_shrink:
                report.notes.append(f"listing: {why}; --allow-shrink lets the rest be removed")
            else:
                report.held.append(("listing", f"{why}; no team is removed"))

        wards = self._match(force_id, references, report)
        engagement = self._engagement_methods(force_id, report)
        self._claimed = {code for code in wards.values() if code is not None}

        run_id, done = (None, set()) if dry_run else self._start_run(force_id, restart, report)
        report.run_id = run_id
        todo = [ref for ref in references if ref["id"] not in done]
        report.already_done = len(references) - len(todo)
        self.log(
            f"{force_id}: {len(references)} neighbourhoods, {len(todo)} to fetch"
            + (" (dry run: nothing will be written)" if dry_run else "")
        )

        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="policeuk")
        try:
            by_boundary = self.matcher.index is not None
            futures: list[Future[Fetched]] = [
                pool.submit(self.fetch, ref, force_id, by_boundary and wards[ref["id"]] is None) for ref in todo
            ]
            for n, future in enumerate(futures, 1):
                item = future.result()
                self._write(
                    force_id, item, wards[item.reference["id"]], run_id, report, dry_run, verbose, allow_shrink, on_team
                )
                if n % 50 == 0 or n == len(futures):
                    self.log(
                        f"{force_id}: {n}/{len(futures)} neighbourhoods, "
                        f"{self.client.stats.requests} requests, {self.client.stats.mean_rate():.1f}/s"
                    )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

        report.status = "incomplete" if report.failed or report.held else "complete"
        if report.status == "complete":
            self._prune(force_id, {ref["id"] for ref in references}, report, dry_run)
        report.elapsed = time.monotonic() - started
        if not dry_run:
            with self.store.session() as session:
                if engagement is not None:
                    force = ensure_force(session, force_id, self.force_names[force_id], "policeuk", self.now())
                    if not force.locked:
                        force.engagement_methods = json.dumps(engagement, ensure_ascii=False) if engagement else None
                run = session.get(SyncRun, run_id)
                assert run is not None  # begun above, never deleted
                run.status = report.status
                run.finished_at = self.now()
                run.summary = json.dumps(report.summary())
        return report

    def _match(self, force_id: str, references: list[dict[str, Any]], report: SyncReport) -> dict[str, str | None]:
        """Each listed neighbourhood's ward, or None (reported). Where several claim one ward, the choice does not
        depend on the listing's order: a match by id beats one by name, and of X and XN (both listed) XN wins."""
        found = {ref["id"]: self.matcher.match(force_id, ref["id"], ref["name"]) for ref in references}
        holders: dict[str, str] = {}
        for nid in sorted(found, key=lambda nid: (found[nid][1] != "id", not nid.upper().endswith("N"), nid)):
            code = found[nid][0]
            if code is not None:
                holders.setdefault(code, nid)
        wards: dict[str, str | None] = {}
        for ref in references:
            code, how = found[ref["id"]]
            if code is not None and (holder := holders[code]) != ref["id"]:
                code, how = None, f"ward {code} is already matched to neighbourhood {holder}"
            if code is None:
                report.unmatched.append((ref["id"], ref["name"], how))
            else:
                report.matched[how] += 1
            wards[ref["id"]] = code
        return wards

    def _write(
        self,
        force_id: str,
        item: Fetched,
        ward_code: str | None,
        run_id: int | None,
        report: SyncReport,
        dry_run: bool,
        verbose: bool,
        allow_shrink: bool,
        on_team: Callable[[str, Outcome], None] | None,
    ) -> None:
        nid = item.reference["id"]
        data = None
        extra: list[str] = []
        if not item.error and ward_code is None and item.boundary:
            ward_code, extra = self._place_by_boundary(force_id, item, report)
        if not item.error:
            try:
                data, notes = policeuk.team_data(
                    force_id,
                    self.force_names[force_id],
                    item.reference,
                    item.details,
                    item.people,
                    item.events,
                    item.priorities,
                    ward_code,
                    extra,
                    now=self.now().astimezone(policeuk.LONDON).replace(tzinfo=None),
                )
            except policeuk.ShapeError as exc:
                item.error = f"a wrong-shaped answer ({exc})"
        if data is None:
            assert item.error is not None  # team_data returns data or raises, which sets the error
            report.failed.append((nid, item.error))
            self.log(f"{force_id} {nid}: FAILED: {item.error}")
            return
        report.notes += [f"{nid}: {note}" for note in notes]
        with self.store.sessions() as session:
            session.begin()
            shrunk = self._shrinkage(session, data)
            if shrunk and not allow_shrink:
                session.rollback()
                report.held.append((nid, f"{data.name}: {shrunk}; nothing changed"))
                self.log(f"{force_id} {nid}: HELD BACK: {shrunk}")
                return
            if shrunk:
                report.notes.append(f"{nid}: {shrunk}, allowed by --allow-shrink")
            now = self.now()
            outcome = apply_team(session, data, source="policeuk", now=now, run_id=run_id)
            if dry_run:
                session.rollback()
            else:
                # The same history as officers' edits; disagreements with them become tasks.
                record_sync(session, outcome.team.ward_code, outcome.changes, now)
                session.commit()
        report.synced += 1
        report.add(outcome, f"{nid} {data.name}")
        if dry_run or verbose:
            shown = [c for c in outcome.changes if dry_run or c.action != "keep"]
            if outcome.changed or any(c.action == "conflict" for c in shown):
                self.log(f"{nid} {data.name} -> " + (f"ward {ward_code}" if ward_code else "no ward"))
                for change in shown:
                    self.log(f"    {change}")
        if on_team is not None:
            on_team(nid, outcome)

    def _engagement_methods(self, force_id: str, report: SyncReport) -> list[dict[str, str]] | None:
        """The force's engagement_methods (its own channels, http(s) only), or None when they cannot be read."""
        try:
            force = self.client.get("forces", force_id, check=policeuk.check_force)
        except FetchError as exc:
            report.notes.append(f"the force's engagement methods could not be read: {exc}")
            return None
        if force is None:
            report.notes.append("police.uk has no force record (404): engagement methods left as they were")
            return None
        return policeuk.titled_links(force.get("engagement_methods"))

    def _place_by_boundary(self, force_id: str, item: Fetched, report: SyncReport) -> tuple[str | None, list[str]]:
        """The wards an unmatched neighbourhood's boundary covers that no other team took in this run:
        (the most covered, the rest). Neighbourhoods are written in listing order, so the result is stable."""
        nid = item.reference["id"]
        codes = [code for code in self.matcher.covered(force_id, item.boundary or []) if code not in self._claimed]
        if not codes:
            report.notes.append(f"{nid}: its boundary covers no ward that is not already matched")
            return None, []
        self._claimed.update(codes)
        report.unmatched = [u for u in report.unmatched if u[0] != nid]
        report.matched["boundary"] += 1
        report.notes.append(f"{nid}: by its boundary, serves {len(codes)} ward(s): {', '.join(codes)}")
        return codes[0], codes[1:]

    def _stored_teams(self, force_id: str) -> int:
        """How many teams the store holds from the force's police.uk listing."""
        with self.store.reader() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Team)
                    .where(Team.force_id == force_id, Team.source == "policeuk", Team.policeuk_id.is_not(None))
                )
                or 0
            )  # a COUNT always has its row

    def _shrinkage(self, session: Session, data: TeamData) -> str | None:
        """What `data` would hold much less of than the stored team (as "officers 10 -> 2"), or None."""
        since = self.now().astimezone(policeuk.LONDON).replace(tzinfo=None)
        team = find_team(session, data.force_id, data.policeuk_id, data.ward_code)
        before, after = stored_counts(team, since), incoming_counts(data, since)
        lost = [f"{kind} {n} -> {after[kind]}" for kind, n in before.items() if shrinks_too_much(n, after[kind])]
        return ", ".join(lost) or None

    def _prune(self, force_id: str, listed: set[str], report: SyncReport, dry_run: bool) -> None:
        """After a complete run: remove police.uk teams the force no longer lists, and places no team uses."""
        with self.store.sessions() as session:
            session.begin()
            stale = session.scalars(
                select(Team).where(
                    Team.force_id == force_id,
                    Team.source == "policeuk",
                    Team.policeuk_id.is_not(None),
                    Team.policeuk_id.not_in(listed),
                )
            ).all()
            for team in stale:
                children: list[Provenance] = [*team.officers, *team.routes, *team.meetings, *team.priorities]
                if team.locked or any(c.locked for c in children):
                    report.conflicts.append(
                        f"{team.policeuk_id} {team.name}: no longer listed by police.uk, but holds officer-entered "
                        "or verified data; kept"
                    )
                    continue
                report.removed_teams.append(f"{team.policeuk_id} {team.name}")
                report.changes[("team", "remove")] += 1
                session.delete(team)
            session.flush()
            linked = select(team_place.c.place_id)
            for place in session.scalars(
                select(Place).where(Place.force_id == force_id, Place.source == "policeuk", Place.id.not_in(linked))
            ):
                if not place.locked:
                    report.changes[("place", "remove")] += 1
                    session.delete(place)
            if dry_run:
                session.rollback()
            else:
                session.commit()
