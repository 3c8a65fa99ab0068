"""The police.uk snapshot as the default: every Met ward's own mailbox, on SQLite and PostgreSQL, from the real file
(../shared/data-raw/policeuk-met-neighbourhoods-2023-03), safe to load again, never over an officer or a newer sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from finder.config import default_raw_data
from finder.coverage.service import ward_coverage
from finder.staff.account import Account
from finder.staff.digest import unconfirmed_list
from finder.staff.editing import Editing, parse_seen
from finder.store import Store
from finder.store import models as m
from finder.store.models import utcnow
from finder.teams.directory import LONDON
from finder.teams.records import RouteData, TeamData, apply_team
from finder.teams.snapshot import PUBLISHED_AT, SnapshotError, load_snapshot, snapshot_path
from tests.store import backends
from tests.support.staff import make_user

migrated_store, store = backends.migrated_store, backends.store  # on SQLite and PostgreSQL

MET = "Metropolitan Police Service"
SNAPSHOT = snapshot_path(default_raw_data())
ST_JAMESS = "E05013806"  # police.uk's E05013806N
ST_JAMESS_MAILBOX = "AWMailbox.SNTCWStJamesWard@met.police.uk"


@pytest.fixture(scope="module")
def neighbourhoods() -> list[dict]:
    return json.loads(SNAPSHOT.read_text("utf-8"))


@pytest.fixture(scope="module")
def met_wards(geodata) -> set[str]:
    return {ward.code for ward in geodata.wards.wards if ward.force_id == "metropolitan"}


def load(store: Store, geodata, path=SNAPSHOT):
    return load_snapshot(store, path, geodata.wards.wards, MET)


def team_routes(store: Store) -> dict[str, dict[str, list[str]]]:
    """{ward: {kind: [values]}} for every team in the store."""
    found: dict[str, dict[str, list[str]]] = {}
    with store.reader() as session:
        for team in session.scalars(select(m.Team)):
            kinds = found.setdefault(team.ward_code, {})
            for route in team.routes:
                kinds.setdefault(route.kind, []).append(route.value)
    return found


def everything(store: Store) -> dict[str, list[tuple]]:
    """Every team and route with its provenance and version: what "changes nothing" compares."""
    with store.reader() as session:
        teams = session.execute(
            select(m.Team.ward_code, m.Team.policeuk_id, m.Team.name, m.Team.source, m.Team.fetched_at)
        ).all()
        routes = session.execute(
            select(m.ContactRoute.team_id, m.ContactRoute.kind, m.ContactRoute.value, m.ContactRoute.source)
            .add_columns(m.ContactRoute.fetched_at, m.ContactRoute.version)
            .order_by(m.ContactRoute.id)
        ).all()
    return {"teams": sorted(map(tuple, teams)), "routes": [tuple(r) for r in routes]}


def test_the_loaded_store_holds_every_met_ward_with_the_files_own_mailbox_and_accounts(
    store, geodata, neighbourhoods, met_wards
):
    report = load(store, geodata)
    assert report.teams == 679 and len(met_wards) == 679
    routes = team_routes(store)
    assert set(routes) == met_wards  # one team per Met ward, none for the City
    for item in neighbourhoods:
        ward = item["id"].removesuffix("N")
        details = item["contact_details"]
        assert routes[ward]["email"] == [details["email"]], ward
        social = [details[key] for key in ("facebook", "twitter") if details.get(key)]
        assert sorted(routes[ward].get("social", [])) == sorted(social), ward
    assert sum(len(kinds.get("social", [])) for kinds in routes.values()) == 390 + 535
    with store.reader() as session:
        assert set(session.scalars(select(m.Team.source))) == {"policeuk"}
        assert set(session.scalars(select(m.ContactRoute.source))) == {"policeuk"}
        dates = {*session.scalars(select(m.ContactRoute.fetched_at)), *session.scalars(select(m.Team.fetched_at))}
        assert dates == {datetime(2023, 3, 6, tzinfo=UTC)}  # the snapshot's date, never the day it was loaded
        ids = {ward: pid for ward, pid in session.execute(select(m.Team.ward_code, m.Team.policeuk_id))}
    assert ids[ST_JAMESS] == "E05013806N" and routes[ST_JAMESS]["email"] == [ST_JAMESS_MAILBOX]
    assert sum(pid.endswith("N") for pid in ids.values()) == 65


def test_ids_that_do_not_map_to_the_met_wards_exactly_stop_the_load_and_store_nothing(
    store, geodata, neighbourhoods, tmp_path
):
    cases = {
        "unknown": [*neighbourhoods[:-1], {**neighbourhoods[-1], "id": "E05999999"}],
        "missing": neighbourhoods[1:],
        "twice": [*neighbourhoods, {**neighbourhoods[0], "id": neighbourhoods[0]["id"].removesuffix("N") + "N"}],
        "city": [*neighbourhoods, {**neighbourhoods[0], "id": "E05009290"}],  # Bassishaw: the City's, not the Met's
    }
    expected = {
        "unknown": "1 ids are no Met ward: E05999999",
        "missing": "1 Met wards have no neighbourhood",
        "twice": "1 wards are listed twice",
        "city": "1 ids are no Met ward: E05009290",
    }
    for case, items in cases.items():
        path = tmp_path / f"{case}.json"
        path.write_text(json.dumps(items), "utf-8")
        with pytest.raises(SnapshotError, match=expected[case]):
            load(store, geodata, path)
    assert team_routes(store) == {}


def test_loading_the_snapshot_twice_changes_nothing(store, geodata):
    load(store, geodata)
    before = everything(store)
    again = load(store, geodata)
    assert {key: n for key, n in again.changes.items() if key[1] != "keep"} == {}
    assert everything(store) == before


def make_editor(store: Store, ward: str) -> Account:
    return make_user(store, "edna.editor@met.police.uk", name="Edna Editor", wards=[ward])


def test_an_officers_edit_survives_loading_the_snapshot_again(store, geodata):
    load(store, geodata)
    editing = Editing(store, {ST_JAMESS: "E09000033"}.get)
    editor = make_editor(store, ST_JAMESS)
    email = next(r for r in editing.editable(ST_JAMESS).routes if r.values["kind"] == "email")
    saved = editing.update(
        editor, ST_JAMESS, "route", email.id, {**email.form(), "value": "stjames.team@met.police.uk"}, email.version
    )
    assert saved.status == "applied"
    report = load(store, geodata)
    assert team_routes(store)[ST_JAMESS]["email"] == ["stjames.team@met.police.uk"]
    assert report.conflicts == [
        f"{ST_JAMESS} St James's: ! route email {ST_JAMESS_MAILBOX} (value): kept what an officer entered"
    ]


def test_a_value_synced_from_police_uk_after_the_snapshot_is_not_taken_back_to_2023(store, geodata):
    load(store, geodata)
    live = TeamData(
        force_id="metropolitan",
        force_name=MET,
        name="St James's",
        ward_code=ST_JAMESS,
        policeuk_id="E05013806N",
        routes=[RouteData("email", "Email", "live.stjames@met.police.uk")],
    )
    with store.session() as session:
        apply_team(session, live, source="policeuk", now=utcnow())
    report = load(store, geodata)
    assert report.kept_newer == [ST_JAMESS]
    assert team_routes(store)[ST_JAMESS] == {"email": ["live.stjames@met.police.uk"]}


def test_still_correct_covers_snapshot_values_unconfirmed_since_march_2023_until_the_team_confirms_them(store, geodata):
    load(store, geodata)
    editing = Editing(store, {ST_JAMESS: "E09000033"}.get)
    editor = make_editor(store, ST_JAMESS)
    march_2023 = "as published on police.uk in March 2023"
    stale = editing.stale_items(ST_JAMESS)
    assert [(s.entity, s.since, s.provenance) for s in stale] == [
        ("team", PUBLISHED_AT, march_2023),
        ("route", PUBLISHED_AT, march_2023),
    ]
    before = {w.code: w for w in ward_coverage(store, geodata.wards, utcnow()).wards}[ST_JAMESS]
    assert not before.has["confirmed"] and before.confirmed_at == PUBLISHED_AT

    editing.confirm_ward(editor, ST_JAMESS, parse_seen(editing.editable(ST_JAMESS).seen))

    assert editing.stale_items(ST_JAMESS) == []
    [email] = editing.editable(ST_JAMESS).routes
    assert (email.values["value"], email.source, email.verified_by) == (ST_JAMESS_MAILBOX, "policeuk", "Edna Editor")
    [entry] = editing.history(ST_JAMESS, statuses=["applied"])[:1]
    assert ("route", email.id, "confirm", "verified_at", None) in [
        (c.entity, c.entity_id, c.action, c.field, c.before) for c in entry.changes
    ]
    after = {w.code: w for w in ward_coverage(store, geodata.wards, utcnow()).wards}[ST_JAMESS]
    assert after.has["confirmed"]
    later = Editing(store, {ST_JAMESS: "E09000033"}.get, clock=lambda: utcnow() + timedelta(days=91))
    assert [(s.entity, s.since) for s in later.stale_items(ST_JAMESS)] == [
        ("team", email.verified_at),
        ("route", email.verified_at),
    ]
    assert later.stale_items(ST_JAMESS)[1].provenance.startswith("confirmed by the team on ")


def test_the_wards_nobody_has_confirmed_are_listed_oldest_first_within_what_each_person_may_edit(store, geodata):
    load(store, geodata)
    westminster = sorted(
        (w for w in geodata.wards.wards if w.borough_code == "E09000033"), key=lambda w: w.name
    )  # 18 wards, every one from the snapshot
    west_end, marylebone = "E05013808", next(w.code for w in westminster if w.name == "Marylebone")
    editing = Editing(store, lambda code: "E09000033")
    editing.confirm_ward(make_editor(store, ST_JAMESS), ST_JAMESS, parse_seen(editing.editable(ST_JAMESS).seen))
    mailbox = editing.editable(west_end).routes[0]
    editing.confirm_value(make_user(store, "wes@met.police.uk", wards=[west_end]), west_end, "route", mailbox.id, 1)
    now = utcnow()
    for ward, days in ((marylebone, 200), ("E05013807", 10)):  # police.uk published these again since 2023
        live = TeamData("metropolitan", MET, "Team", ward, policeuk_id=None, routes=[RouteData("email", "E", "a@b.c")])
        with store.session() as session:
            apply_team(session, live, source="policeuk", now=now - timedelta(days=days))
    report = ward_coverage(store, geodata.wards, now)

    listed = unconfirmed_list("borough_admin", "E09000033", (), report)

    older = [w.code for w in westminster if w.code not in (ST_JAMESS, marylebone, "E05013807")]
    assert [u.coverage.code for u in listed] == [*older, marylebone]  # 2023 first, by name; then 200 days ago
    by_code = {u.coverage.code: u for u in listed}
    assert by_code[west_end].coverage.unconfirmed == 1  # its team record; the mailbox is confirmed
    assert by_code[west_end].since == "as published on police.uk in March 2023"
    synced = (now - timedelta(days=200)).astimezone(LONDON)
    assert by_code[marylebone].since == f"from police.uk, synced on {synced:%-d %B %Y}"
    assert [u.coverage.code for u in unconfirmed_list("ward_editor", None, {west_end, ST_JAMESS}, report)] == [west_end]
    assert len(unconfirmed_list("site_admin", None, (), report)) == 679 - 2  # St James's; the one synced lately
