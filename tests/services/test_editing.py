"""The editing service on SQLite and PostgreSQL: saves, conflicts, review, history, restore, confirm, sync tasks."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from finder.staff.account import Account
from finder.staff.editing import (
    EditConflict,
    Editing,
    Invalid,
    NotAllowed,
    NotFound,
    StaleConfirm,
    parse_seen,
)
from finder.staff.sync_changes import record_sync
from finder.store import Store
from finder.store import models as m
from finder.store.models import utcnow
from finder.store.staff import BoroughSetting, ChangeSet, StaffUser, StaffWard
from finder.teams.directory import LONDON, Provenance, TeamDirectory, age_in_words
from finder.teams.records import OfficerData, RouteData, TeamData, apply_team
from tests.store import backends

migrated_store, store = backends.migrated_store, backends.store  # on SQLite and PostgreSQL

WARD, OTHER_WARD = "E05013806", "E05013808"  # St James's and West End, both in Westminster
BOROUGH, OTHER_BOROUGH = "E09000033", "E09000001"
BOROUGHS = {WARD: BOROUGH, OTHER_WARD: BOROUGH}
HOSTILE = "{{ 7*7 }} </script><script>alert(1)</script> \"quoted\" 'single' =cmd|' /C calc'!A0"


def team_data(ward: str = WARD, phone: str = "020 7946 0001", officer: str = "Jo Bloggs") -> TeamData:
    """A small police.uk-style team."""
    return TeamData(
        force_id="metropolitan",
        force_name="Metropolitan Police Service",
        name=f"Team {ward}",
        ward_code=ward,
        policeuk_id=ward,
        routes=[RouteData("phone", "Phone", phone), RouteData("email", "Email", f"{ward.lower()}@met.police.uk")],
        officers=[
            OfficerData(officer, "PC", "police_constable", routes=[RouteData("mobile", "Mobile", "07700 900001")])
        ],
    )


def load_team(store: Store, data: TeamData | None = None) -> None:
    with store.session() as session:
        apply_team(session, data or team_data(), source="policeuk", now=utcnow())


def make_user(
    store: Store, name: str, role: str, *, borough: str | None = None, wards: tuple[str, ...] = ()
) -> Account:
    """A staff user in the store (change sets point at it), as the services see them."""
    with store.session() as session:
        user = StaffUser(
            email=f"{name.lower().replace(' ', '.')}@met.police.uk",
            name=name,
            role=role,
            borough_code=borough,
            created_at=utcnow(),
            wards=[StaffWard(ward_code=w) for w in wards],
        )
        session.add(user)
        session.flush()
        return Account.of(user)


def service(store: Store, **kwargs) -> Editing:
    return Editing(store, BOROUGHS.get, **kwargs)


def route(editing: Editing, kind: str = "phone", officer: bool = False):
    """The team's (or its officer's) route of a kind, as the editor opens it."""
    team = editing.editable(WARD)
    return next(r for r in team.routes if r.values["kind"] == kind and (r.officer_id is not None) == officer)


def require_review(store: Store, required: bool = True) -> None:
    with store.session() as session:
        session.merge(BoroughSetting(borough_code=BOROUGH, review_required=required, changed_at=utcnow()))


@pytest.fixture()
def editor(store: Store) -> Account:
    load_team(store)
    return make_user(store, "Edna Editor", "ward_editor", wards=(WARD,))


@pytest.fixture()
def admin(store: Store) -> Account:
    return make_user(store, "Ada Admin", "borough_admin", borough=BOROUGH)


def test_an_editors_phone_change_is_stored_in_e164_and_recorded_with_who_before_and_after(store, editor):
    editing = service(store)
    phone = route(editing)
    saved = editing.update(
        editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0999"}, phone.version, note="new number"
    )
    assert saved.status == "applied"
    changed = route(editing)
    assert changed.values["value"] == "+442079460999"
    assert changed.form()["value"] == "020 7946 0999"
    assert changed.version == phone.version + 1
    assert (changed.source, changed.verified_by) == ("officer", "Edna Editor")
    entry = editing.history(WARD)[0]
    assert (entry.id, entry.who, entry.source, entry.status, entry.note) == (
        saved.change_set_id,
        "Edna Editor",
        "officer",
        "applied",
        "new number",
    )
    assert [(c.entity, c.entity_id, c.action, c.field, c.before, c.after) for c in entry.changes] == [
        ("route", phone.id, "update", "value", "020 7946 0001", "+442079460999")
    ]


def test_a_second_editor_saving_the_same_record_gets_a_conflict_showing_what_changed(store, editor):
    editing = service(store)
    other = make_user(store, "Olu Other", "ward_editor", wards=(WARD,))
    opened = route(editing)  # both open the form at the same version
    editing.update(editor, WARD, "route", opened.id, {**opened.form(), "value": "020 7946 0111"}, opened.version)
    with pytest.raises(EditConflict) as caught:
        editing.update(other, WARD, "route", opened.id, {**opened.form(), "value": "020 7946 0222"}, opened.version)
    conflict = caught.value
    assert not conflict.removed and conflict.current_version == opened.version + 1
    assert [(d.field, d.yours, d.current) for d in conflict.differences] == [
        ("value", "+442079460222", "+442079460111")
    ]
    assert [(c.field, c.before, c.after) for c in conflict.changed_since] == [
        ("value", "020 7946 0001", "+442079460111")
    ]
    assert route(editing).values["value"] == "+442079460111"  # nothing overwritten
    assert len(editing.history(WARD, statuses=["applied"])) == 1
    # Having seen it, the second editor may choose theirs knowingly, with the current version.
    editing.update(
        other, WARD, "route", opened.id, {**opened.form(), "value": "020 7946 0222"}, conflict.current_version
    )
    assert route(editing).values["value"] == "+442079460222"


def test_saving_a_record_someone_removed_meanwhile_says_it_was_removed(store, editor):
    editing = service(store)
    opened = route(editing)
    editing.remove(editor, WARD, "route", opened.id, opened.version)
    with pytest.raises(EditConflict) as caught:
        editing.update(editor, WARD, "route", opened.id, opened.form(), opened.version)
    assert caught.value.removed and caught.value.current_version is None


def test_a_disabled_account_changes_nothing_though_its_wards_and_role_would_allow_it(store, editor, admin):
    editing = service(store)
    phone = route(editing)
    with store.session() as session:
        for account in (editor, admin):
            session.get(StaffUser, account.id).active = False
    for account in (editor, admin):
        with store.reader() as session:
            disabled = Account.of(session.get(StaffUser, account.id))
        with pytest.raises(NotAllowed):
            editing.update(disabled, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0999"}, phone.version)
    assert route(editing).version == phone.version and editing.history(WARD) == []


def test_an_editor_cannot_reach_another_wards_records_by_changing_ids(store, editor):
    load_team(store, team_data(OTHER_WARD, phone="020 7946 0555"))
    editing = service(store)
    theirs = next(r for r in editing.editable(OTHER_WARD).routes if r.values["kind"] == "phone")
    with pytest.raises(NotAllowed):
        editing.update(editor, OTHER_WARD, "route", theirs.id, theirs.form(), theirs.version)
    with pytest.raises(NotFound):  # their own ward in the URL, the other ward's record id in the form
        editing.update(editor, WARD, "route", theirs.id, theirs.form(), theirs.version)
    with pytest.raises(NotFound):
        editing.remove(editor, WARD, "route", theirs.id, theirs.version)
    officer = editing.editable(OTHER_WARD).officers[0]
    with pytest.raises(NotFound):
        editing.add(
            editor, WARD, "route", {"kind": "phone", "label": "x", "value": "020 7946 0666"}, officer_id=officer.id
        )
    assert next(r for r in editing.editable(OTHER_WARD).routes if r.id == theirs.id).values == theirs.values


def test_bad_input_is_refused_with_a_message_per_field_and_the_input_kept(store, editor):
    editing = service(store)
    form = {"kind": "email", "label": "", "value": "someone@gmail.com"}
    with pytest.raises(Invalid) as caught:
        editing.add(editor, WARD, "route", form)
    assert caught.value.errors == {
        "label": "Enter a label, like Team email",
        "value": "Enter an email address ending @met.police.uk",
    }
    assert caught.value.values["value"] == "someone@gmail.com"
    assert editing.history(WARD) == []


def test_force_email_domains_come_from_configuration(store, editor):
    editing = service(store, force_domains={"metropolitan": ["example.org"]})
    saved = editing.add(editor, WARD, "route", {"kind": "email", "label": "Team", "value": "Team@Example.org"})
    assert saved.status == "applied"
    with pytest.raises(Invalid):
        editing.add(editor, WARD, "route", {"kind": "email", "label": "Team", "value": "team@met.police.uk"})


def test_a_new_meeting_must_be_in_the_future_and_end_after_it_starts(store, editor):
    editing = service(store)
    past = datetime.now(LONDON).replace(tzinfo=None) - timedelta(days=1)
    with pytest.raises(Invalid) as caught:
        editing.add(
            editor, WARD, "meeting", {"title": "Panel", "kind": "ward_panel", "start": f"{past:%Y-%m-%dT%H:%M}"}
        )
    assert caught.value.errors == {"start": "The start must be in the future"}
    soon = past + timedelta(days=8)
    form = {"title": "Panel", "kind": "ward_panel", "start": f"{soon:%Y-%m-%d %H:%M}", "end": f"{soon:%Y-%m-%d} 00:00"}
    with pytest.raises(Invalid) as caught:
        editing.add(editor, WARD, "meeting", form)
    assert caught.value.errors == {"end": "The end must be after the start"}
    form["end"] = f"{soon + timedelta(hours=1):%Y-%m-%dT%H:%M}"
    saved = editing.add(editor, WARD, "meeting", form)
    meeting = editing.editable(WARD).meetings[0]
    assert meeting.id == saved.entity_id and meeting.values["start"] == soon.replace(second=0, microsecond=0)


def test_hostile_text_in_every_field_is_kept_literally(store, editor):
    editing = service(store)
    saved = editing.add(
        editor,
        WARD,
        "officer",
        {"name": HOSTILE[:200], "rank": HOSTILE[:120], "role": "pcso", "bio": HOSTILE + "\nline two"},
    )
    officer = next(o for o in editing.editable(WARD).officers if o.id == saved.entity_id)
    assert officer.values["name"] == HOSTILE[:200] and officer.values["bio"] == HOSTILE + "\nline two"
    assert {c.after for c in editing.history(WARD)[0].changes} >= {HOSTILE[:200], HOSTILE + "\nline two"}


def test_an_officer_removed_goes_with_their_routes_and_a_restore_brings_them_all_back(store, editor, admin):
    editing = service(store)
    officer = editing.editable(WARD).officers[0]
    removed = editing.remove(editor, WARD, "officer", officer.id, officer.version, note="moved on")
    assert editing.editable(WARD).officers == ()
    assert all(r.officer_id is None for r in editing.editable(WARD).routes)
    restored = editing.restore(admin, removed.change_set_id)
    team = editing.editable(WARD)
    assert [o.values["name"] for o in team.officers] == ["Jo Bloggs"]
    assert [(r.values["value"], r.officer_id) for r in team.routes if r.officer_id] == [
        ("07700 900001", team.officers[0].id)
    ]
    entry = editing.history(WARD)[0]
    assert (entry.id, entry.source, entry.restored_from, entry.who) == (
        restored.change_set_id,
        "restore",
        removed.change_set_id,
        "Ada Admin",
    )


def test_a_restore_puts_the_old_phone_back_as_a_new_change_and_refuses_over_a_later_edit(store, editor, admin):
    editing = service(store)
    phone = route(editing)
    first = editing.update(editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0111"}, phone.version)
    later = route(editing)
    editing.update(editor, WARD, "route", later.id, {**later.form(), "value": "020 7946 0222"}, later.version)
    with pytest.raises(EditConflict) as caught:
        editing.restore(admin, first.change_set_id)
    assert [(d.field, d.current) for d in caught.value.differences] == [("value", "+442079460222")]
    with pytest.raises(NotAllowed):
        editing.restore(editor, first.change_set_id)
    seen = {("route", phone.id): caught.value.current_version}
    editing.restore(admin, first.change_set_id, seen=seen)
    assert route(editing).values["value"] == "020 7946 0001"
    assert [e.source for e in editing.history(WARD)] == ["restore", "officer", "officer"]


def test_under_review_a_save_waits_changes_nothing_and_approval_applies_it(store, editor, admin):
    require_review(store)
    forgotten = []
    editing = service(store, on_change=forgotten.append)
    phone = route(editing)
    saved = editing.update(editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0333"}, phone.version)
    assert saved.status == "pending" and forgotten == []
    assert route(editing).values == phone.values and route(editing).version == phone.version
    meeting_start = datetime.now(LONDON).replace(tzinfo=None, second=0, microsecond=0) + timedelta(days=3)
    added = editing.add(editor, WARD, "meeting", {"title": "Panel", "kind": "ward_panel", "start": meeting_start})
    assert added.status == "pending" and editing.editable(WARD).meetings == ()
    assert [e.id for e in editing.pending([WARD])] == [saved.change_set_id, added.change_set_id]
    assert editing.pending([OTHER_WARD]) == []
    with pytest.raises(NotAllowed):
        editing.approve(editor, saved.change_set_id)
    outsider = make_user(store, "Oscar Outsider", "borough_admin", borough=OTHER_BOROUGH)
    with pytest.raises(NotAllowed):
        editing.approve(outsider, saved.change_set_id)

    editing.approve(admin, saved.change_set_id)
    editing.approve(admin, added.change_set_id)
    assert route(editing).values["value"] == "+442079460333"
    assert [x.values["title"] for x in editing.editable(WARD).meetings] == ["Panel"]
    assert forgotten == [WARD, WARD]
    mine = editing.submissions(editor)
    assert [(e.status, e.reviewed_by) for e in mine] == [("applied", "Ada Admin"), ("applied", "Ada Admin")]
    assert next(c for c in mine[0].changes if c.field == "title").entity_id == editing.editable(WARD).meetings[0].id
    # An admin's own saves never wait.
    now = route(editing)
    assert (
        editing.update(admin, WARD, "route", now.id, {**now.form(), "label": "Call us"}, now.version).status
        == "applied"
    )


def test_a_rejection_keeps_the_reason_for_the_editor_and_changes_nothing(store, editor, admin):
    require_review(store)
    editing = service(store)
    phone = route(editing)
    saved = editing.update(editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0444"}, phone.version)
    with pytest.raises(Invalid) as caught:
        editing.reject(admin, saved.change_set_id, "  ")
    assert caught.value.errors == {"reason": "Enter a reason, so the editor knows what to change"}
    editing.reject(admin, saved.change_set_id, "That is the front desk, not the team")
    assert route(editing).values == phone.values
    entry = editing.submissions(editor)[0]
    assert (entry.status, entry.review_reason, entry.reviewed_by) == (
        "rejected",
        "That is the front desk, not the team",
        "Ada Admin",
    )
    with pytest.raises(NotFound):
        editing.approve(admin, saved.change_set_id)


def test_approval_is_refused_when_the_record_moved_on_after_the_draft(store, editor, admin):
    require_review(store)
    editing = service(store)
    phone = route(editing)
    draft = editing.update(editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0555"}, phone.version)
    editing.update(admin, WARD, "route", phone.id, {**phone.form(), "label": "Front desk"}, phone.version)
    with pytest.raises(EditConflict):
        editing.approve(admin, draft.change_set_id)
    assert route(editing).values["label"] == "Front desk" and route(editing).values["value"] == "020 7946 0001"
    assert editing.change_set(draft.change_set_id).status == "pending"


def test_still_correct_stamps_the_whole_ward_in_one_change_and_clears_the_stale_list(store, editor, admin):
    editing = service(store)
    before = editing.stale_items(WARD)
    assert {s.entity for s in before} == {"team", "route", "officer"} and len(before) == 5
    editing.confirm_ward(editor, WARD, parse_seen(editing.editable(WARD).seen))
    assert editing.stale_items(WARD) == []
    entry = editing.history(WARD)[0]
    assert {c.action for c in entry.changes} == {"confirm"} and len(entry.changes) == 10
    later = service(store, clock=lambda: utcnow() + timedelta(days=91))
    assert len(later.stale_items(WARD)) == 5
    team = editing.editable(WARD)
    assert team.team.verified_by == "Edna Editor" and all(r.verified_at for r in team.routes)
    editing.restore(admin, entry.id)
    assert len(editing.stale_items(WARD)) == 5


def test_still_correct_at_versions_older_than_the_team_stamps_nothing_and_says_what_changed(store, editor, admin):
    editing = service(store)
    seen = editing.editable(WARD).seen
    phone = route(editing)
    editing.update(admin, WARD, "route", phone.id, {**phone.form(), "label": "Front desk"}, phone.version)
    unchecked = editing.stale_items(WARD)
    with pytest.raises(StaleConfirm) as stale:
        editing.confirm_ward(editor, WARD, parse_seen(seen))
    [(entity, label, changes)] = stale.value.changed
    assert (entity, label) == ("route", "Front desk: 020 7946 0001")
    assert [(c.field, c.before, c.after) for c in changes] == [("label", "Phone", "Front desk")]
    assert editing.stale_items(WARD) == unchecked and unchecked  # nothing stamped
    assert stale.value.seen == editing.editable(WARD).seen
    editing.confirm_ward(editor, WARD, parse_seen(stale.value.seen))
    assert editing.stale_items(WARD) == []


def test_the_team_lists_the_front_counters_its_editor_picks(store, editor):
    with store.session() as session:
        for name in ("Charing Cross", "Belgravia"):
            session.add(
                m.Place(
                    force_id="metropolitan",
                    key=name,
                    name=name,
                    kind="front_counter",
                    source="policeuk",
                    fetched_at=utcnow(),
                )
            )
    editing = service(store)
    team = editing.editable(WARD)
    ids = {p.name: p.id for p in team.places}
    editing.set_places(editor, WARD, [ids["Belgravia"]], team.team.version)
    team = editing.editable(WARD)
    assert [p.name for p in team.places if p.listed] == ["Belgravia"]
    with pytest.raises(EditConflict):  # the team's version moved on with the first save
        editing.set_places(editor, WARD, [ids["Charing Cross"]], team.team.version - 1)
    with pytest.raises(Invalid):
        editing.set_places(editor, WARD, [999_999], team.team.version)


def test_history_csv_defuses_spreadsheet_formulas_and_keeps_the_text(store, editor):
    editing = service(store)
    officer = editing.editable(WARD).officers[0]
    editing.update(
        editor,
        WARD,
        "officer",
        officer.id,
        {**officer.form(), "name": '=HYPERLINK("x")', "bio": "@SUM(1)"},
        officer.version,
        note="+1 -2",
    )
    rows = list(csv.DictReader(io.StringIO(editing.history_csv([WARD]))))
    assert {(r["field"], r["after"]) for r in rows} == {("name", '\'=HYPERLINK("x")'), ("bio", "'@SUM(1)")}
    assert {r["note"] for r in rows} == {"'+1 -2"} and {r["who"] for r in rows} == {"Edna Editor"}
    assert editing.history_csv([OTHER_WARD]).count("\r\n") == 1  # the header only


def test_syncs_write_into_the_same_history_and_disagreements_become_tasks(store, editor):
    editing = service(store)
    phone = route(editing)
    editing.update(editor, WARD, "route", phone.id, {**phone.form(), "label": "Team phone"}, phone.version)
    with store.session() as session:  # police.uk now has another label and a new officer
        data = team_data()
        data.routes[0].label = "Telephone"
        data.officers.append(OfficerData("Sam Newman", "PCSO", "pcso"))
        outcome = apply_team(session, data, source="policeuk", now=utcnow())
        record_sync(session, WARD, outcome.changes, utcnow())
    with store.session() as session:  # the next sync: the same disagreement is not a second task
        outcome = apply_team(session, data, source="policeuk", now=utcnow())
        record_sync(session, WARD, outcome.changes, utcnow())
    synced = editing.history(WARD, statuses=["applied"])[0]
    assert (synced.source, synced.who) == ("policeuk", "police.uk")
    assert {(c.entity, c.action, c.field, c.after) for c in synced.changes} >= {
        ("officer", "add", "name", "Sam Newman")
    }
    [task] = editing.conflicts(WARD)
    assert [(c.field, c.before, c.after) for c in task.changes] == [("label", "Team phone", "Telephone")]
    editing.resolve_conflict(editor, task.id, "policeuk")
    assert route(editing).values["label"] == "Telephone" and editing.conflicts(WARD) == []
    assert editing.change_set(task.id).reviewed_by == "Edna Editor"


def test_keeping_the_teams_value_closes_the_task_and_changes_nothing(store, editor):
    editing = service(store)
    phone = route(editing)
    editing.update(editor, WARD, "route", phone.id, {**phone.form(), "label": "Team phone"}, phone.version)
    with store.session() as session:
        data = team_data()
        data.routes[0].label = "Telephone"
        record_sync(session, WARD, apply_team(session, data, source="policeuk", now=utcnow()).changes, utcnow())
    [task] = editing.conflicts(WARD)
    outsider = make_user(store, "Wanda Westend", "ward_editor", wards=(OTHER_WARD,))
    with pytest.raises(NotAllowed):
        editing.resolve_conflict(outsider, task.id, "team")
    editing.resolve_conflict(editor, task.id, "team")
    assert route(editing).values["label"] == "Team phone" and editing.conflicts(WARD) == []
    assert editing.change_set(task.id).status == "rejected"


def test_a_sync_that_changes_nothing_leaves_versions_alone_so_open_forms_stay_good(store, editor):
    editing = service(store)
    before = route(editing)
    load_team(store)
    after = route(editing)
    assert after.version == before.version and after.fetched_at > before.fetched_at
    assert editing.history(WARD) == []


def test_an_approved_change_shows_at_once_on_the_same_worker(store, editor, geodata):
    directory = TeamDirectory(store, geodata.wards, cache_seconds=3600)
    editing = service(store, on_change=directory.forget)
    assert directory.lookup(WARD).team.routes[0].value == "020 7946 0001"
    phone = route(editing)
    editing.update(editor, WARD, "route", phone.id, {**phone.form(), "value": "020 7946 0777"}, phone.version)
    assert directory.lookup(WARD).team.routes[0].value == "+442079460777"


def test_residents_see_how_long_ago_the_team_checked_in_words():
    now = datetime(2026, 6, 1, 12, tzinfo=LONDON)
    assert age_in_words(now - timedelta(days=125), now) == "4 months ago"
    assert age_in_words(now - timedelta(days=20), now) == "2 weeks ago"
    assert age_in_words(now - timedelta(days=800), now) == "2 years ago"
    checked = Provenance("policeuk", now - timedelta(days=200), verified_at=now - timedelta(days=125))
    assert checked.freshness(now) == "Confirmed by the team on 27 January 2026"
    assert Provenance("policeuk", now - timedelta(days=3)).freshness(now) == "From police.uk, synced 3 days ago"


def test_nothing_is_recorded_when_the_editor_saves_what_is_already_there(store, editor):
    editing = service(store)
    officer = editing.editable(WARD).officers[0]
    saved = editing.update(editor, WARD, "officer", officer.id, officer.form(), officer.version)
    assert saved.status == "unchanged" and editing.history(WARD) == []
    assert editing.editable(WARD).officers[0].version == officer.version
    with store.reader() as session:
        assert session.query(ChangeSet).count() == 0


def test_still_correct_on_one_value_stamps_only_it_and_the_history_says_what_who_and_when(store, editor):
    forgotten = []
    editing = service(store, on_change=forgotten.append)
    phone, email = route(editing), route(editing, "email")
    saved = editing.confirm_value(editor, WARD, "route", phone.id, phone.version, note="Rang it")
    assert saved.status == "applied" and forgotten == [WARD]
    now = route(editing)
    assert (now.values, now.source, now.verified_by) == (phone.values, "policeuk", "Edna Editor")
    assert now.provenance == f"confirmed by the team on {now.verified_at.astimezone(LONDON):%-d %B %Y}"
    assert route(editing, "email").verified_at is None  # only the value confirmed
    assert [s.id for s in editing.stale_items(WARD) if s.entity == "route"] == [
        r.id for r in editing.editable(WARD).routes if r.id != phone.id
    ]
    entry = editing.history(WARD)[0]
    assert (entry.status, entry.who, entry.note) == ("applied", "Edna Editor", "Rang it")
    assert [(c.entity, c.entity_id, c.action, c.field, c.before) for c in entry.changes] == [
        ("route", phone.id, "confirm", "verified_at", None),
        ("route", phone.id, "confirm", "verified_by", None),
    ]
    assert entry.changes[0].after == now.verified_at.isoformat() and email.verified_at is None
    team = editing.editable(WARD)
    assert len(team.ages) == 2  # the phone's age now differs from the rest: each record says its own


def test_still_correct_on_a_value_that_changed_since_the_page_was_opened_confirms_nothing(store, editor):
    editing = service(store)
    phone = route(editing)
    data = team_data()
    data.routes[0].label = "Telephone"
    with store.session() as session:  # a sync relabels the number while the editor has the page open
        record_sync(session, WARD, apply_team(session, data, source="policeuk", now=utcnow()).changes, utcnow())
    changed = route(editing)
    with pytest.raises(EditConflict) as refused:
        editing.confirm_value(editor, WARD, "route", phone.id, phone.version)
    assert not refused.value.removed and refused.value.current_version == changed.version
    assert ("label", "Telephone") in [(c.field, c.after) for c in refused.value.changed_since]
    assert route(editing).verified_at is None and editing.history(WARD)[0].source == "policeuk"
    other = make_user(store, "Olly Other", "ward_editor", wards=(WARD,))
    editing.remove(other, WARD, "route", changed.id, changed.version)  # another editor removes it meanwhile
    with pytest.raises(EditConflict) as gone:
        editing.confirm_value(editor, WARD, "route", changed.id, changed.version)
    assert gone.value.removed and editing.history(WARD)[0].who == "Olly Other"


def test_under_review_a_value_confirm_waits_and_approval_stamps_it_as_the_editor_confirmed_it(store, editor, admin):
    require_review(store)
    editing = service(store)
    phone = route(editing)
    saved = editing.confirm_value(editor, WARD, "route", phone.id, phone.version)
    assert saved.status == "pending" and route(editing).verified_at is None
    [waiting] = editing.pending([WARD])
    confirmed_at = waiting.changes[0].after
    editing.approve(admin, saved.change_set_id)
    now = route(editing)
    assert (now.source, now.verified_by, now.verified_at.isoformat()) == ("policeuk", "Edna Editor", confirmed_at)
    assert now.values == phone.values
    assert {c.action for c in editing.change_set(saved.change_set_id).changes} == {"confirm"}
    # An admin's own confirm never waits.
    email = route(editing, "email")
    assert editing.confirm_value(admin, WARD, "route", email.id, email.version).status == "applied"


def test_an_editor_cannot_confirm_another_wards_value(store, editor):
    load_team(store, team_data(OTHER_WARD))
    editing = service(store)
    theirs = next(r for r in editing.editable(OTHER_WARD).routes if r.officer_id is None)
    with pytest.raises(NotAllowed):
        editing.confirm_value(editor, OTHER_WARD, "route", theirs.id, theirs.version)
    with pytest.raises(NotFound):
        editing.confirm_value(editor, WARD, "route", theirs.id, theirs.version)
    assert next(r for r in editing.editable(OTHER_WARD).routes if r.id == theirs.id).verified_at is None


def test_a_new_route_added_without_an_order_is_shown_after_the_existing_ones_also_to_residents(store, editor, geodata):
    directory = TeamDirectory(store, geodata.wards, cache_seconds=3600)
    editing = service(store, on_change=directory.forget)
    new = {"kind": "mobile", "label": "PCSO mobile", "value": "07700 900555", "hours": "", "display_order": ""}
    editing.add(editor, WARD, "route", new)
    shown = [r.label for r in directory.lookup(WARD).team.routes]
    assert shown == ["Phone", "Email", "PCSO mobile"]
    assert [r.values["label"] for r in editing.editable(WARD).routes if r.officer_id is None] == shown
    officer = {"name": "Sam New", "rank": "PCSO", "role": "police_constable", "display_order": ""}
    editing.add(editor, WARD, "officer", officer)
    assert [o.name for o in directory.lookup(WARD).team.officers] == ["Jo Bloggs", "Sam New"]


def test_an_editor_can_still_put_a_new_route_first_by_giving_its_order(store, editor, geodata):
    directory = TeamDirectory(store, geodata.wards, cache_seconds=3600)
    editing = service(store, on_change=directory.forget)
    phone = route(editing)
    editing.update(editor, WARD, "route", phone.id, {**phone.form(), "display_order": "5"}, phone.version)
    new = {"kind": "mobile", "label": "PCSO mobile", "value": "07700 900555", "hours": "", "display_order": "1"}
    editing.add(editor, WARD, "route", new)
    assert [r.label for r in directory.lookup(WARD).team.routes] == ["Email", "PCSO mobile", "Phone"]


def test_a_stored_number_the_check_now_refuses_does_not_block_changing_only_that_routes_hours(store, editor):
    load_team(store, team_data(phone="101"))  # police.uk lists "101", which is no UK number a form accepts
    editing = service(store)
    phone = route(editing)
    assert phone.values["value"] == "101"
    saved = editing.update(editor, WARD, "route", phone.id, {**phone.form(), "hours": "Any time"}, phone.version)
    assert saved.status == "applied"
    after = route(editing)
    assert (after.values["value"], after.values["hours"]) == ("101", "Any time")
    assert editing.needs_correction(editing.editable(WARD)) == {
        f"route-{phone.id}": {
            "value": "What is saved here no longer passes our check: correct it. "
            "Enter a UK phone number, like 020 7946 0999"
        }
    }
    with pytest.raises(Invalid) as refused:
        editing.update(editor, WARD, "route", after.id, {**after.form(), "value": "102"}, after.version)
    assert refused.value.errors == {"value": "Enter a UK phone number, like 020 7946 0999"}
    fixed = editing.update(editor, WARD, "route", after.id, {**after.form(), "value": "020 7946 0101"}, after.version)
    assert fixed.status == "applied" and editing.needs_correction(editing.editable(WARD)) == {}
