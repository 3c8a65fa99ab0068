"""Officers editing their ward's team through the staff pages, end to end on SQLite and PostgreSQL.

The resident page, the API and the vCard read the same store, so each test that saves looks at
what residents then see. Users are made directly and signed in through the session
(tests/support/staff.py); signing in itself is tested in test_admin_auth.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from finder.staff.editing import Editing
from finder.store import Store
from finder.store import models as m
from finder.store.models import utcnow
from finder.store.staff import BoroughSetting
from finder.teams.directory import london_now
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, HOSTILE_NAME, SAMPLE_WARD
from tests.support.staff import WESTMINSTER, make_user, post, sign_in, staff_app

OTHER_WESTMINSTER_WARD = "E05013808"  # West End: Westminster, no team loaded
HOSTILE = "{{ 7*7 }}</script><b>bold</b> \"quoted\" 'single' back\\slash"


@pytest.fixture()
def teams(store: Store) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    return store


@pytest.fixture()
def app(teams: Store, geodata):
    return staff_app(teams, geodata)


def editor_client(app, teams: Store, wards=(SAMPLE_WARD,), email="ed@example.org"):
    account = make_user(teams, email, "ward_editor", name="Eddie Editor", wards=wards)
    client = app.test_client()
    sign_in(client, account)
    return client, account


def admin_client(app, teams: Store, email="boro@example.org"):
    account = make_user(teams, email, "borough_admin", name="Bo Admin", borough_code=WESTMINSTER)
    client = app.test_client()
    sign_in(client, account)
    return client, account


def team_phone(teams: Store, geodata):
    """The sample team's own phone route, as the editing forms open it."""
    editable = Editing(teams, lambda code: geodata.wards.get(code).borough_code).editable(SAMPLE_WARD)
    return next(r for r in editable.routes if r.values["kind"] == "phone" and r.officer_id is None)


def route_form(route, **changes) -> dict:
    return {**route.form(), "version": route.version, **changes}


def test_an_editor_sees_their_wards_team_as_forms_and_no_other_ward(app, teams):
    client, _ = editor_client(app, teams)
    page = client.get(f"/admin/wards/{SAMPLE_WARD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "St James&#39;s: your neighbourhood team" in html
    assert "Ways to reach the team" in html and "Officers and PCSOs" in html and 'name="version"' in html
    assert client.get(f"/admin/wards/{OTHER_WESTMINSTER_WARD}").status_code == 403
    assert client.get("/admin/wards/E05999999").status_code == 404


def test_an_editor_changes_the_team_phone_and_residents_see_it_on_the_page_the_api_and_the_vcard(app, teams, geodata):
    client, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    response = post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0777"))
    assert response.status_code == 302
    assert "Residents see it now" in client.get(response.headers["Location"]).get_data(as_text=True)

    resident = app.test_client()
    page = resident.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert '<a class="route-value" href="tel:+442079460777">020 7946 0777</a>' in page  # stored E.164, shown national
    api = resident.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    assert "+442079460777" in [r["value"] for r in api["contact_routes"]]
    assert "TEL;TYPE=WORK,VOICE:+442079460777" in resident.get(f"/wards/{SAMPLE_WARD}/team.vcf").get_data(as_text=True)


def test_a_phone_number_that_is_not_one_comes_back_with_a_message_and_everything_typed(app, teams, geodata):
    client, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    response = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/route/{route.id}",
        route_form(route, value="0207 946", label="Team phone (new)"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and f'href="#route-{route.id}-value"' in html
    assert 'value="0207 946"' in html and 'value="Team phone (new)"' in html  # nothing lost


def test_a_team_email_must_be_on_the_forces_own_domain(app, teams, geodata):
    client, _ = editor_client(app, teams)
    response = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/route/new",
        {"kind": "email", "label": "Team email", "value": "someone@gmail.com", "display_order": "5"},
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "met.police.uk" in html and 'value="someone@gmail.com"' in html


def test_two_editors_on_one_record_the_second_sees_what_changed_and_chooses(app, teams, geodata):
    first, _ = editor_client(app, teams, email="first@example.org")
    second, _ = editor_client(app, teams, email="second@example.org")
    route = team_phone(teams, geodata)  # both open the same version

    assert (
        post(
            first, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0111")
        ).status_code
        == 302
    )
    clash = post(second, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0222"))
    html = clash.get_data(as_text=True)
    assert clash.status_code == 409 and "Someone changed this contact route after you opened it" in html
    assert "020 7946 0222" in html and "+442079460111" in html  # what they typed, and what it says now
    assert team_phone(teams, geodata).values["value"] == "+442079460111"  # nothing silently overwritten

    current = re.search(r'name="version" value="(\d+)"', html).group(1)
    mine = post(
        second,
        f"/admin/wards/{SAMPLE_WARD}/route/{route.id}",
        route_form(route, value="020 7946 0222", version=current),
    )
    assert mine.status_code == 302 and team_phone(teams, geodata).values["value"] == "+442079460222"


def test_a_new_meeting_must_be_in_the_future_and_then_shows_to_residents(app, teams):
    client, _ = editor_client(app, teams)
    past = (london_now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/meeting/new",
        {"title": "Street surgery", "kind": "contact_session", "start": past},
    )
    assert refused.status_code == 400 and 'value="Street surgery"' in refused.get_data(as_text=True)

    soon = (london_now() + timedelta(days=5)).replace(hour=18, minute=30).strftime("%Y-%m-%dT%H:%M")
    added = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/meeting/new",
        {"title": "Street surgery", "kind": "contact_session", "start": soon, "place": "Outside the library"},
    )
    assert added.status_code == 302
    assert "Street surgery" in app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "Street surgery" in app.test_client().get(f"/wards/{SAMPLE_WARD}/calendar.ics").get_data(as_text=True)


def test_a_meeting_dated_9999_is_refused_with_the_window_in_an_error_summary_and_nothing_is_stored(app, teams):
    client, _ = editor_client(app, teams)
    refused = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/meeting/new",
        {"title": "Panel at the end of time", "kind": "ward_panel", "start": "9999-12-31T23:30"},
    )
    html = refused.get_data(as_text=True)
    earliest, latest = (london_now() - timedelta(days=365)), (london_now() + timedelta(days=730))
    window = f"between {earliest:%-d %B %Y} and {latest:%-d %B %Y}: from a year ago to two years ahead"
    assert refused.status_code == 400
    summary = html[html.index("data-error-summary") : html.index("</div>", html.index("data-error-summary"))]
    assert f'<a href="#meeting-new-start">The start must be {window}</a>' in summary
    assert 'value="9999-12-31T23:30"' in html  # what they typed, kept to correct
    assert "Panel at the end of time" not in app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)


def test_an_editor_cannot_change_another_wards_record_by_editing_ids(app, teams, geodata):
    """The ward in the URL is the editor's; the record id belongs to another ward's team."""
    client, _ = editor_client(app, teams, wards=(OTHER_WESTMINSTER_WARD,))
    route = team_phone(teams, geodata)  # St James's route
    response = post(
        client, f"/admin/wards/{OTHER_WESTMINSTER_WARD}/route/{route.id}", route_form(route, value="020 7946 0999")
    )
    assert response.status_code in (403, 404)
    assert team_phone(teams, geodata).values["value"] == route.values["value"]
    direct = post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0999"))
    assert direct.status_code == 403 and team_phone(teams, geodata).values["value"] == route.values["value"]


SEEN_FIELD = re.compile(r'name="seen" value="([^"]+)"')


def seen_on(client, path: str = f"/admin/wards/{SAMPLE_WARD}") -> str:
    """The versions a "still correct" form on `path` carries."""
    match = SEEN_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f'no "still correct" form on {path}'
    return unescape(match.group(1))


def test_still_correct_stamps_the_team_checked_today_and_residents_see_it(app, teams):
    client, _ = editor_client(app, teams)
    assert post(client, f"/admin/wards/{SAMPLE_WARD}/confirm", {"seen": seen_on(client)}).status_code == 302
    history = client.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True)
    assert "Eddie Editor" in history and "verified_at" in history
    api = app.test_client().get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    assert api["verified_by_officer"] is True


def test_still_correct_from_a_tab_opened_before_a_change_shows_what_changed_and_marks_nothing(app, teams, geodata):
    old_tab, _ = editor_client(app, teams, email="first@example.org")
    other, _ = editor_client(app, teams, email="second@example.org")
    seen = seen_on(old_tab)  # the page is opened, then someone changes the team phone
    route = team_phone(teams, geodata)
    assert (
        post(
            other, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0777")
        ).status_code
        == 302
    )
    before = Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD)

    stale = post(old_tab, f"/admin/wards/{SAMPLE_WARD}/confirm", {"seen": seen, "note": "checked at the panel"})
    html = unescape(stale.get_data(as_text=True))
    assert stale.status_code == 409 and "St James's: someone changed the team after you opened the page" in html
    assert "Contact route: Phone: +442079460777" in html and "“020 7946 0123” to “+442079460777”" in html
    assert Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD) == before  # nothing marked as checked

    again = post(old_tab, f"/admin/wards/{SAMPLE_WARD}/confirm", {"seen": SEEN_FIELD.search(html).group(1)})
    assert again.status_code == 302  # confirmed knowingly, as the team is now
    latest = Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD)[0]
    assert {c.action for c in latest.changes} == {"confirm"}


def test_still_correct_without_the_versions_it_was_opened_at_is_refused(app, teams):
    client, _ = editor_client(app, teams)
    response = post(client, f"/admin/wards/{SAMPLE_WARD}/confirm")
    assert response.status_code == 400 and "Reload the page" in response.get_data(as_text=True)


def test_history_shows_each_change_and_an_admin_restores_the_old_phone(app, teams, geodata):
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    old = route.values["value"]
    post(
        editor,
        f"/admin/wards/{SAMPLE_WARD}/route/{route.id}",
        route_form(route, value="020 7946 0333", note="new desk"),
    )
    assert "Restore" not in editor.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True)

    admin, _ = admin_client(app, teams)
    history = admin.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True)
    assert "Why: new desk" in history and "+442079460333" in history and old in history
    change_set = re.search(r"/history/(\d+)/restore", history).group(1)
    assert post(admin, f"/admin/wards/{SAMPLE_WARD}/history/{change_set}/restore").status_code == 302
    assert team_phone(teams, geodata).values["value"] == old
    assert "Puts back the details from change" in admin.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(
        as_text=True
    )
    csv = admin.get(f"/admin/wards/{SAMPLE_WARD}/history.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv" and "+442079460333" in csv.get_data(as_text=True)
    assert editor.get(f"/admin/wards/{SAMPLE_WARD}/history.csv").status_code == 403


def test_with_review_required_an_edit_waits_until_an_admin_approves_it(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    saved = post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0444"))
    assert "waiting for review" in editor.get(saved.headers["Location"]).get_data(as_text=True)
    assert team_phone(teams, geodata).values["value"] == route.values["value"]  # residents see no change yet

    admin, _ = admin_client(app, teams)
    queue = admin.get("/admin/review").get_data(as_text=True)
    assert "Eddie Editor" in queue and "+442079460444" in queue
    pending = re.search(r"/admin/review/(\d+)", queue).group(1)
    assert post(admin, f"/admin/review/{pending}", {"decision": "approve"}).status_code == 302
    assert team_phone(teams, geodata).values["value"] == "+442079460444"
    assert editor.get("/admin/review").status_code == 403  # editors do not review


def test_a_rejection_needs_a_reason_and_changes_nothing(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0555"))
    admin, _ = admin_client(app, teams)
    pending = re.search(r"/admin/review/(\d+)", admin.get("/admin/review").get_data(as_text=True)).group(1)
    post(admin, f"/admin/review/{pending}", {"decision": "reject", "reason": "That number is the front desk"})
    assert team_phone(teams, geodata).values["value"] == route.values["value"]
    history = editor.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True)
    assert "That number is the front desk" in history and "rejected" in history


def test_hostile_text_typed_by_an_editor_is_text_on_the_staff_pages_and_the_residents_page(app, teams):
    client, _ = editor_client(app, teams)
    response = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/priority/new",
        {"issue": HOSTILE, "action": HOSTILE_NAME, "display_order": "9"},
    )
    assert response.status_code == 302
    for page in (f"/admin/wards/{SAMPLE_WARD}", f"/admin/wards/{SAMPLE_WARD}/history"):
        html = client.get(page).get_data(as_text=True)
        assert "<b>bold</b>" not in html and "</script><b>" not in html
        assert "{{ 7*7 }}&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html  # literally, never evaluated
    resident = app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "{{ 7*7 }}&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in resident and "<img src=x" not in resident


def test_a_form_without_its_csrf_token_is_refused(app, teams, geodata):
    client, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    response = client.post(
        f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", data=route_form(route, value="020 7946 0666")
    )
    assert response.status_code == 400 and team_phone(teams, geodata).values["value"] == route.values["value"]


def test_a_borough_admin_turns_review_on_for_their_borough_only(app, teams, geodata):
    admin, _ = admin_client(app, teams)
    assert (
        post(admin, "/admin/review/settings", {"borough_code": WESTMINSTER, "review_required": "1"}).status_code == 302
    )
    assert "Westminster" in admin.get("/admin/review").get_data(as_text=True).split("Waiting")[0]
    camden = post(admin, "/admin/review/settings", {"borough_code": "E09000007", "review_required": "1"})
    assert camden.status_code == 403
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0888"))
    assert team_phone(teams, geodata).values["value"] == route.values["value"]  # waiting for review now
    assert (
        post(editor, "/admin/review/settings", {"borough_code": WESTMINSTER, "review_required": "0"}).status_code == 403
    )


OWN_WARD = "E05013655"  # another sample team's ward, which this editor may edit


def st_jamess_items(teams: Store, geodata) -> dict[str, object]:
    """One record of each kind from St James's team, as its forms would carry them."""
    editable = Editing(teams, lambda code: geodata.wards.get(code).borough_code).editable(SAMPLE_WARD)
    return {
        "team": editable.team,
        "route": editable.routes[0],
        "officer": editable.officers[0],
        "meeting": editable.meetings[0],
        "priority": editable.priorities[0],
    }


@pytest.mark.parametrize("entity", ["team", "route", "officer", "meeting", "priority"])
@pytest.mark.parametrize("remove", [False, True])
def test_an_editor_cannot_save_or_remove_another_wards_record_through_their_own_ward(
    app, teams, geodata, entity, remove
):
    client, _ = editor_client(app, teams, wards=(OWN_WARD,))
    item = st_jamess_items(teams, geodata)[entity]
    data = {**item.form(), "version": item.version, **({"remove": "1"} if remove else {})}
    response = post(client, f"/admin/wards/{OWN_WARD}/{entity}/{item.id}", data)
    assert 400 <= response.status_code < 500  # refused (404, or 400 when its values fail first), never saved
    after = st_jamess_items(teams, geodata)[entity]
    assert (after.id, after.version, after.values) == (item.id, item.version, item.values)


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/wards/{SAMPLE_WARD}",
        f"/admin/wards/{SAMPLE_WARD}/history",
        f"/admin/wards/{SAMPLE_WARD}/history.csv",
    ],
)
def test_an_editor_cannot_read_another_wards_team_drafts_or_history(app, teams, path):
    client, _ = editor_client(app, teams, wards=(OWN_WARD,))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize(
    "path, data",
    [
        (f"/admin/wards/{SAMPLE_WARD}/route/new", {"kind": "phone", "label": "Phone", "value": "020 7946 0999"}),
        (f"/admin/wards/{SAMPLE_WARD}/confirm", {}),
        (f"/admin/wards/{SAMPLE_WARD}/route/1/confirm", {"version": "1"}),
        (f"/admin/wards/{SAMPLE_WARD}/places", {"version": "1"}),
        (f"/admin/wards/{SAMPLE_WARD}/conflicts/1", {"keep": "team"}),
        (f"/admin/wards/{SAMPLE_WARD}/history/1/restore", {}),
    ],
)
def test_an_editor_cannot_post_any_form_of_another_ward(app, teams, path, data):
    client, _ = editor_client(app, teams, wards=(OWN_WARD,))
    before = Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD)
    assert post(client, path, data).status_code == 403
    assert Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD) == before


def test_a_change_set_of_another_ward_cannot_be_restored_or_settled_through_ones_own_ward(app, teams, geodata):
    st_james_editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(st_james_editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0121"))
    change_set = Editing(teams, lambda code: "E09000033").history(SAMPLE_WARD)[0].id
    admin = make_user(teams, "camden@example.org", "borough_admin", name="Cam Admin", borough_code="E09000007")
    client = app.test_client()
    sign_in(client, admin)
    assert post(client, f"/admin/wards/{OWN_WARD}/history/{change_set}/restore").status_code == 404
    assert post(client, f"/admin/wards/{OWN_WARD}/conflicts/{change_set}", {"keep": "team"}).status_code == 404
    assert post(client, f"/admin/review/{change_set}", {"decision": "approve"}).status_code in (403, 404)
    assert team_phone(teams, geodata).values["value"] == "+442079460121"


def test_a_saved_change_shows_at_once_on_the_same_worker_and_on_others_once_their_cache_expires(teams, geodata):
    from finder.lookup.service import Lookup, load_forces
    from finder.teams.directory import TeamDirectory

    now = [0.0]

    def worker():
        directory = TeamDirectory(teams, geodata.wards, cache_seconds=30, monotonic=lambda: now[0])
        return staff_app(
            teams, geodata, TEAM_CACHE_SECONDS=30.0, lookup=Lookup(geodata, load_forces(), teams=directory)
        )

    this, other = worker(), worker()
    for app in (this, other):  # both workers have read (and cached) the team
        assert "020 7946 0123" in app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    client, _ = editor_client(this, teams)
    route = team_phone(teams, geodata)
    saved = post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0432"))
    assert "within 30 seconds" in client.get(saved.headers["Location"]).get_data(as_text=True)

    assert "020 7946 0432" in this.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "020 7946 0123" in other.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    now[0] += 31
    assert "020 7946 0432" in other.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)


def test_an_editor_sees_on_their_home_page_what_became_of_their_changes(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0555"))
    assert "waiting for review" in editor.get("/admin/").get_data(as_text=True)
    admin, _ = admin_client(app, teams)
    pending = re.search(r"/admin/review/(\d+)", admin.get("/admin/review").get_data(as_text=True)).group(1)
    post(admin, f"/admin/review/{pending}", {"decision": "reject", "reason": "Use the shared desk number"})
    assert "rejected by Bo Admin: “Use the shared desk number”" in editor.get("/admin/").get_data(as_text=True)


def test_recent_changes_say_which_ward_field_and_value_changed_and_each_outcome(app, teams, geodata):
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0777"))
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    post(editor, f"/admin/wards/{SAMPLE_WARD}/priority/new", {"issue": "Bike theft", "action": "Patrols"})
    items = re.findall(r"<li data-recent-change=\"\d+\">(.*?)</ul>", editor.get("/admin/").get_data(as_text=True), re.S)
    waiting, applied = (" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items)
    assert "St James's" in applied and "applied" in applied
    assert f"Contact route, Address, number or link: {route.values['value']} → +442079460777" in applied, applied
    assert "waiting for review" in waiting and "Priority (new)" in waiting and "→ Bike theft" in waiting, waiting


def test_a_borough_admin_downloads_their_boroughs_history_and_no_other(app, teams, geodata):
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="=HYPERLINK(1)"))
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0556"))
    admin, _ = admin_client(app, teams)
    csv = admin.get(f"/admin/boroughs/{WESTMINSTER}/history.csv")
    assert csv.status_code == 200 and "+442079460556" in csv.get_data(as_text=True)
    assert admin.get("/admin/boroughs/E09000007/history.csv").status_code == 403
    assert editor.get(f"/admin/boroughs/{WESTMINSTER}/history.csv").status_code == 403


def test_a_stored_number_the_check_refuses_is_flagged_on_the_page_and_blocks_no_change_of_its_hours(
    app, teams, geodata
):
    route = team_phone(teams, geodata)
    with teams.session() as session:  # as police.uk lists it: "101" is no number the form accepts
        session.get(m.ContactRoute, route.id).value = "101"
    route = team_phone(teams, geodata)
    client, _ = editor_client(app, teams)
    html = client.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    # The sample team's example.org email is flagged too: the force's own domain is what its check asks for.
    assert "2 saved details no longer pass our checks." in html and f'href="#route-{route.id}-value"' in html
    assert (
        "Needs correcting:</span> What is saved here no longer passes our check: correct it. Enter a UK phone number"
        in html
    )
    response = post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, hours="Any time"))
    assert response.status_code == 302
    saved = team_phone(teams, geodata)
    assert (saved.values["value"], saved.values["hours"]) == ("101", "Any time")


def test_after_a_save_the_ward_page_returns_to_the_record_saved_open_with_a_success_banner(app, teams, geodata):
    client, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    saved = post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0777"))
    assert saved.headers["Location"].endswith(f"?open=route-{route.id}#route-{route.id}")
    html = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner--success" in html and "Saved the contact route" in html
    assert f"route-{route.id}" in opened_records(html)  # the record saved is open ...
    assert f"route-{route.id}" not in opened_records(client.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True))


def opened_records(html: str) -> list[str]:
    """The records whose <details> the page opens (a flagged record is open anyway)."""
    return re.findall(r"<details class=\"record\" open>\s*<summary>[^<]*</summary>\s*<form[^>]* id=\"([^\"]+)\"", html)


def test_a_new_record_is_shown_open_after_it_is_added_and_one_waiting_for_review_returns_to_its_section(
    app, teams, geodata
):
    client, _ = editor_client(app, teams)
    added = post(client, f"/admin/wards/{SAMPLE_WARD}/priority/new", {"issue": "Bike theft", "action": "Patrols"})
    key = re.search(r"\?open=(priority-\d+)#priority-\d+$", added.headers["Location"]).group(1)
    assert key in opened_records(client.get(added.headers["Location"]).get_data(as_text=True))
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    waiting = post(client, f"/admin/wards/{SAMPLE_WARD}/priority/new", {"issue": "Noise", "action": "Visits"})
    assert waiting.headers["Location"].endswith("?open=priority-title#priority-title")
    html = client.get(waiting.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner--success" in html and "waiting for review" in html


def test_a_change_waiting_for_review_shows_in_place_with_when_who_and_before_and_after(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    editor, _ = editor_client(app, teams)
    route = team_phone(teams, geodata)
    post(editor, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value="020 7946 0444"))
    post(editor, f"/admin/wards/{SAMPLE_WARD}/priority/new", {"issue": "Bike theft", "action": "Patrols"})
    html = editor.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    after_route = text[text.index(f"{route.values['value']} → +442079460444") - 200 :]
    assert "Waiting for review since" in after_route[:200] and "by Eddie Editor" in after_route[:200]
    assert "Priority (new), The issue: — → Bike theft Priority (new), What the team is doing: — → Patrols" in text
    form_end = html.index("</form>", html.index(f'id="route-{route.id}"'))
    assert html.index("data-waiting", form_end) < html.index("<details", form_end)  # beside that record, in place
