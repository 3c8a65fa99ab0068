"""A ward editor confirms one value of the dated police.uk snapshot in one click, on a store loaded from the real file
(../shared/data-raw/policeuk-met-neighbourhoods-2023-03), on SQLite and PostgreSQL; a confirm from a page older
than the value is refused, never stamped on what the value has become."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from finder import create_app
from finder.config import default_raw_data
from finder.staff.editing import Editing, parse_seen
from finder.staff.sync_changes import record_sync
from finder.store import Store
from finder.store.models import utcnow
from finder.teams.directory import LONDON
from finder.teams.records import RouteData, TeamData, apply_team
from finder.teams.snapshot import load_snapshot, snapshot_path
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.support.smtp import smtp_server
from tests.support.staff import ST_JAMESS, make_user, post, sign_in, staff_app

MAILBOX = "AWMailbox.SNTCWStJamesWard@met.police.uk"
MARCH_2023 = "as published on police.uk in March 2023"


@pytest.fixture()
def snapshot(store: Store, geodata) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_snapshot(store, snapshot_path(default_raw_data()), geodata.wards.wards, "Metropolitan Police Service")
    return store


def editor_client(snapshot: Store, geodata):
    app = staff_app(snapshot, geodata)
    client = app.test_client()
    sign_in(client, make_user(snapshot, "edna@met.police.uk", name="Edna Editor", wards=[ST_JAMESS]))
    return client


def mailbox(snapshot: Store):
    [route] = Editing(snapshot, lambda code: "E09000033").editable(ST_JAMESS).routes
    assert route.values["value"] == MAILBOX
    return route


def status_of(html: str, key: str) -> str:
    """The text of one record's source-and-date block on the ward page."""
    found = re.search(rf'<div class="value-status[^"]*" id="{key}-status".*?</div>', html, re.S)
    assert found, key
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_an_editor_confirms_the_snapshot_mailbox_in_one_click_and_the_page_then_says_confirmed_by_the_team(
    snapshot, geodata
):
    client = editor_client(snapshot, geodata)
    route = mailbox(snapshot)
    page = client.get(f"/admin/wards/{ST_JAMESS}").get_data(as_text=True)
    assert f"Every detail below: {MARCH_2023}." in page
    assert f"{MAILBOX} ({MARCH_2023}; never checked by the team)" in page
    assert f'id="route-{route.id}-confirm"' in page

    response = post(client, f"/admin/wards/{ST_JAMESS}/route/{route.id}/confirm", {"version": route.version})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"#route-{route.id}-status")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    today = f"{utcnow().astimezone(LONDON):%-d %B %Y}"
    assert "the contact route is marked as confirmed by the team today" in page
    assert status_of(page, f"route-{route.id}") == f"Confirmed by the team on {today}."
    team_id = Editing(snapshot, lambda code: "E09000033").editable(ST_JAMESS).team.id
    assert status_of(page, f"team-{team_id}").startswith("As published on police.uk in March 2023. Still correct")
    assert f'id="route-{route.id}-confirm"' not in page
    after = mailbox(snapshot)
    assert (after.values, after.source, after.verified_by) == (route.values, "policeuk", "Edna Editor")


def test_a_confirm_from_a_page_opened_before_a_sync_relabelled_the_mailbox_is_refused_and_says_what_it_says_now(
    snapshot, geodata
):
    client = editor_client(snapshot, geodata)
    route = mailbox(snapshot)
    live = TeamData(
        force_id="metropolitan",
        force_name="Metropolitan Police Service",
        name="St James's",
        ward_code=ST_JAMESS,
        policeuk_id="E05013806N",
        routes=[RouteData("email", "Team mailbox", MAILBOX)],
    )
    with snapshot.session() as session:
        record_sync(session, ST_JAMESS, apply_team(session, live, source="policeuk", now=utcnow()).changes, utcnow())

    response = post(client, f"/admin/wards/{ST_JAMESS}/route/{route.id}/confirm", {"version": route.version})

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    message = (
        "Nothing was confirmed: this contact route changed after you opened the page, and now says Label: Team mailbox."
    )
    assert f'<a href="#route-{route.id}-status">{message}' in page.replace("&#39;", "'")
    assert mailbox(snapshot).verified_at is None
    assert status_of(page, f"route-{route.id}").startswith(f"Error: {message}")
    assert f'id="route-{route.id}-label" name="label" type="text" value="Team mailbox"' in page  # open, as it is now


def test_a_confirm_without_the_version_it_was_opened_at_is_refused(snapshot, geodata):
    client = editor_client(snapshot, geodata)
    route = mailbox(snapshot)
    response = post(client, f"/admin/wards/{ST_JAMESS}/route/{route.id}/confirm", {})
    assert response.status_code == 400 and "missing the version" in response.get_data(as_text=True)
    assert mailbox(snapshot).verified_at is None


def test_the_home_page_and_the_digest_list_the_wards_nobody_has_confirmed_oldest_first(snapshot, geodata):
    west_end = "E05013808"
    editing = Editing(snapshot, lambda code: "E09000033")
    make_user(snapshot, "wes@met.police.uk", name="Wes", wards=[ST_JAMESS, west_end])
    live = TeamData(
        "metropolitan", "Met", "West End", west_end, routes=[RouteData("email", "Email", "we@met.police.uk")]
    )
    with snapshot.session() as session:  # police.uk published West End's again 100 days ago
        apply_team(session, live, source="policeuk", now=utcnow() - timedelta(days=100))
    client = editor_client(snapshot, geodata)  # Edna: St James's only
    home = client.get("/admin/").get_data(as_text=True)
    listed = home.split("data-unconfirmed>")[1].split("</section>")[0]
    assert "Details nobody has confirmed: 1 ward" in listed and west_end not in listed
    assert f'<a href="/admin/wards/{ST_JAMESS}">St James&#39;s</a>' in listed
    assert "2 details, the oldest as published on police.uk in March 2023" in listed
    assert "confirmed 6 March 2023" not in home  # police.uk published it then; nobody confirmed it

    with smtp_server() as inbox:
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": snapshot.url, "SMTP_URL": inbox.url})
        sent = app.test_cli_runner().invoke(args=["send-digest"])
    assert sent.exit_code == 0, sent.output
    mail = {m["To"]: m for m in inbox.messages}
    text = mail["wes@met.police.uk"].get_body(("plain",)).get_content()
    listed = text.split("Details nobody has confirmed, oldest first (2 wards)")[1]
    synced = f"{(utcnow() - timedelta(days=100)).astimezone(LONDON):%-d %B %Y}"
    assert listed.index("St James's (Westminster) - 2 details, the oldest as published on police.uk in March 2023") < (
        listed.index(f"West End (Westminster) - 2 details, the oldest from police.uk, synced on {synced}")
    )
    assert f"http://127.0.0.1:5000/admin/wards/{west_end}" in listed
    assert "confirmed 6 March 2023" not in text

    editing.confirm_ward(
        make_user(snapshot, "a@met.police.uk", wards=[ST_JAMESS]),
        ST_JAMESS,
        parse_seen(editing.editable(ST_JAMESS).seen),
    )
    assert "data-unconfirmed" not in client.get("/admin/").get_data(as_text=True)
