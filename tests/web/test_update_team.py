"""The ordinary update in one form: answers, "Check your answers", one save (issue 25), on SQLite and PostgreSQL.

The form is read from the page as a browser would send it back (its hidden versions and filled-in contact
details), so each test posts what a person would; what residents see is read from their own page.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from finder.staff.editing import Editing
from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import BoroughSetting
from finder.teams.directory import london_now
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.staff import WESTMINSTER, make_user, post, sign_in, staff_app

UPDATE = f"/admin/wards/{SAMPLE_WARD}/update"
HOSTILE = "<script>window.__pwned=1</script>{{7*7}} Pat"
INPUT = re.compile(r"<input\b[^>]*>")
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)


@pytest.fixture()
def teams(store: Store) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    return store


@pytest.fixture()
def app(teams: Store, geodata):
    return staff_app(teams, geodata)


def editor(app, teams: Store, email="ed@example.org", wards=(SAMPLE_WARD,)):
    client = app.test_client()
    sign_in(client, make_user(teams, email, "ward_editor", name="Eddie Editor", wards=wards))
    return client


def service(teams: Store, geodata) -> Editing:
    return Editing(teams, lambda code: geodata.wards.get(code).borough_code)


def filled_in(html: str) -> dict[str, str]:
    """What the form sends back untouched: its hidden fields and text inputs as filled in (no boxes ticked)."""
    data = {}
    for tag in INPUT.findall(html):
        kind = re.search(r'type="([^"]+)"', tag)
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrf_token" and kind and kind.group(1) not in ("checkbox", "radio"):
            data[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, text in TEXTAREA.findall(html):
        data[name] = unescape(text).removeprefix("\n")
    return data


def team_email_field(teams: Store, geodata) -> str:
    route = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.values["kind"] == "email")
    return f"route_{route.id}"


def soon() -> str:
    return (london_now() + timedelta(days=9)).replace(hour=18, minute=30).strftime("%Y-%m-%dT%H:%M")


def ordinary(teams: Store, geodata, **extra: str) -> dict[str, str]:
    """The ordinary update's answers: a PCSO with a work mobile and email, the team email, a meeting, a priority."""
    return {
        "officer-name": "Priya Shah",
        "officer-role": "pcso",
        "officer-work_phone": "07700 900456",
        "officer-phone_public": "y",
        "officer-work_email": "priya.shah@met.police.uk",
        "officer-email_public": "y",
        team_email_field(teams, geodata): "stjames.snt@met.police.uk",
        "meeting-title": "Ward panel at the library",
        "meeting-kind": "ward_panel",
        "meeting-start": soon(),
        "priority-issue": "Bikes stolen outside the station",
        "priority-action": "Marking bikes on Saturdays",
        "confirm_rest": "y",
        **extra,
    }


def answer(client, answers: dict[str, str], page: str | None = None):
    """Submit 1: the form as opened (or as `page` carries it), with these answers."""
    return post(client, UPDATE, {**filled_in(page or client.get(UPDATE).get_data(as_text=True)), **answers})


def save(client, checked_page: str, **changes: str):
    """Submit 2: the save button on "Check your answers", sending the form below it (with `changes`)."""
    return post(client, UPDATE, {**filled_in(checked_page), **checked_boxes(checked_page), **changes, "save": "1"})


def checked_boxes(html: str) -> dict[str, str]:
    """The radios and boxes the page shows chosen."""
    chosen = {}
    for tag in INPUT.findall(html):
        if " checked" in tag:
            chosen[re.search(r'name="([^"]+)"', tag).group(1)] = re.search(r'value="([^"]*)"', tag).group(1)
    return chosen


def residents_page(app) -> str:
    return unescape(app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True))


def test_the_ordinary_update_is_checked_on_one_page_then_saved_in_one_submit_and_residents_see_it(app, teams, geodata):
    client = editor(app, teams)
    ward_page = client.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert f'href="{UPDATE}"' in ward_page and "Update this team’s details" in ward_page
    before = len(service(teams, geodata).history(SAMPLE_WARD))

    checking = answer(client, ordinary(teams, geodata))
    html = checking.get_data(as_text=True)
    assert checking.status_code == 200 and "Check your answers before saving" in html
    assert "govuk-summary-list" in html and "Priya Shah" in html and "07700 900456" in html
    for target in ("officer-name", "officer-work_phone", "meeting-start", "priority-issue", "confirm_rest"):
        assert f'href="#{target}"' in html and f'id="{target}"' in html  # each Change link finds its field
    assert "stjames.snt@met.police.uk (changed from stjames.sample@example.org)" in unescape(html)
    assert len(service(teams, geodata).history(SAMPLE_WARD)) == before  # nothing saved by submit 1
    assert "Priya Shah" not in residents_page(app)

    saved = save(client, html)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/admin/wards/{SAMPLE_WARD}#top")
    banner = unescape(client.get(saved.headers["Location"]).get_data(as_text=True))
    assert "Saved the new officer “Priya Shah”, the contact detail “stjames.snt@met.police.uk”" in banner
    assert "The rest of the team's details are marked as checked today" in banner

    entries = service(teams, geodata).history(SAMPLE_WARD)[: len(service(teams, geodata).history(SAMPLE_WARD)) - before]
    assert len(entries) == 5 and {e.status for e in entries} == {"applied"}  # one change set per part, as saves
    kinds = sorted({(c.entity, c.action) for e in entries for c in e.changes if c.action != "confirm"})
    assert kinds == [("meeting", "add"), ("officer", "add"), ("priority", "add"), ("route", "update")]
    page = residents_page(app)
    for shown in ("Priya Shah", "07700 900456", "priya.shah@met.police.uk", "stjames.snt@met.police.uk"):
        assert shown in page
    assert "Ward panel at the library" in page and "Bikes stolen outside the station" in page
    api = app.test_client().get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    assert api["verified_by_officer"] is True


def test_mistakes_come_back_in_an_error_summary_on_their_fields_with_everything_typed_kept(app, teams, geodata):
    client = editor(app, teams)
    past = (london_now() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    answers = ordinary(teams, geodata, **{"officer-work_email": "priya@gmail.com", "meeting-start": past})
    del answers["officer-role"]
    response = answer(client, answers)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "There is a problem" in html
    summary = html[html.index("govuk-error-summary") : html.index("</ul>", html.index("govuk-error-summary"))]
    for target in ("officer-role", "officer-work_email", "meeting-start"):
        assert f'href="#{target}"' in summary
    assert "The start must be in the future" in html and "govuk-error-message" in html
    for typed in ("Priya Shah", "priya@gmail.com", past, "Bikes stolen outside the station", "07700 900456"):
        assert f'value="{typed}"' in html or f">{typed}</textarea>" in html  # nothing typed is lost
    assert 'value="stjames.snt@met.police.uk"' in html and "Check your answers" not in html
    assert "Priya Shah" not in residents_page(app)


def test_blank_parts_are_left_out_and_an_update_with_nothing_in_it_says_what_to_do(app, teams, geodata):
    client = editor(app, teams)
    nothing = answer(client, {})
    assert nothing.status_code == 400 and "Enter a change, or tick that the rest" in unescape(
        nothing.get_data(as_text=True)
    )
    only_a_priority = answer(client, {"priority-issue": "Graffiti on the bridge", "meeting-kind": "ward_panel"})
    html = unescape(only_a_priority.get_data(as_text=True))
    assert only_a_priority.status_code == 200 and "Check your answers" in html and "None added" in html
    assert save(client, html).status_code == 302
    latest = service(teams, geodata).history(SAMPLE_WARD)[0]
    assert {c.entity for c in latest.changes} == {"priority"}  # no meeting from a kind chosen alone
    assert "Graffiti on the bridge" in residents_page(app)


def test_answers_changed_after_they_were_checked_are_shown_to_check_again_and_not_saved(app, teams, geodata):
    client = editor(app, teams)
    checked = answer(client, ordinary(teams, geodata)).get_data(as_text=True)
    again = save(client, checked, **{"priority-issue": "Something else, not checked"})
    html = unescape(again.get_data(as_text=True))
    assert again.status_code == 200 and "Check your answers" in html and "Something else, not checked" in html
    assert "Priya Shah" not in residents_page(app)


def test_a_team_changed_by_someone_else_meanwhile_is_caught_and_nothing_is_saved_until_sent_again(app, teams, geodata):
    client = editor(app, teams)
    other = editor(app, teams, email="other@example.org")
    checked = answer(client, ordinary(teams, geodata)).get_data(as_text=True)  # opened and checked, then ...
    phone = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.values["kind"] == "phone")
    assert (
        post(
            other,
            f"/admin/wards/{SAMPLE_WARD}/route/{phone.id}",
            {**phone.form(), "version": phone.version, "value": "020 7946 0999"},
        ).status_code
        == 302
    )  # ... someone else changes the team phone
    before = service(teams, geodata).history(SAMPLE_WARD)

    stale = save(client, checked)
    html = unescape(stale.get_data(as_text=True))
    assert stale.status_code == 409 and "Nothing was saved: someone changed this team" in html
    assert "“020 7946 0123” to “+442079460999”" in html  # what changed, who's change it was is in history
    assert service(teams, geodata).history(SAMPLE_WARD) == before and "Priya Shah" not in residents_page(app)
    assert 'value="Priya Shah"' in html and 'value="020 7946 0999"' in html  # typed kept; the phone as it is now

    checked_again = post(client, UPDATE, {**filled_in(html), **checked_boxes(html)}).get_data(as_text=True)
    assert save(client, checked_again).status_code == 302  # sent again knowingly, as the team is now
    assert "Priya Shah" in residents_page(app) and "020 7946 0999" in residents_page(app)


def test_a_contact_detail_changed_by_someone_else_is_not_overwritten_by_the_form_opened_before(app, teams, geodata):
    client = editor(app, teams)
    other = editor(app, teams, email="other@example.org")
    opened = client.get(UPDATE).get_data(as_text=True)
    email = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.values["kind"] == "email")
    post(
        other,
        f"/admin/wards/{SAMPLE_WARD}/route/{email.id}",
        {**email.form(), "version": email.version, "value": "first.change@met.police.uk"},
    )
    answers = {f"route_{email.id}": "second.change@met.police.uk"}  # no "still correct": only its version guards it
    checked = answer(client, answers, opened).get_data(as_text=True)
    clash = save(client, checked)
    html = unescape(clash.get_data(as_text=True))
    assert clash.status_code == 409 and "first.change@met.police.uk" in html
    assert 'value="second.change@met.police.uk"' in html  # what they typed, to send again knowingly
    now = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.id == email.id)
    assert now.values["value"] == "first.change@met.police.uk"


def test_in_a_reviewing_borough_the_changes_wait_for_review_and_the_rest_is_confirmed_at_once(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    client = editor(app, teams)
    checking = answer(client, ordinary(teams, geodata)).get_data(as_text=True)
    assert "Check your answers before sending them for review" in checking
    assert "Send these changes for review" in checking
    saved = save(client, checking)
    banner = unescape(client.get(saved.headers["Location"]).get_data(as_text=True))
    assert "Waiting for review by your borough admin: the new officer “Priya Shah”, the contact detail" in banner
    assert "The rest of the team's details are marked as checked today" in banner
    waiting = service(teams, geodata).pending([SAMPLE_WARD])
    assert len(waiting) == 4  # the officer, the email, the meeting and the priority: each to approve or reject
    page = residents_page(app)
    assert "Priya Shah" not in page and "stjames.snt@met.police.uk" not in page and "Ward panel at the" not in page

    admin = app.test_client()
    sign_in(admin, make_user(teams, "bo@example.org", "borough_admin", name="Bo", borough_code=WESTMINSTER))
    officer = next(e for e in waiting if any(c.entity == "officer" for c in e.changes))
    assert post(admin, f"/admin/review/{officer.id}", {"decision": "approve"}).status_code == 302
    assert "Priya Shah" in residents_page(app) and "stjames.snt@met.police.uk" not in residents_page(app)


def test_hostile_text_in_the_answers_is_shown_as_text_on_every_page_it_reaches(app, teams, geodata):
    client = editor(app, teams)
    answers = ordinary(teams, geodata, **{"officer-name": HOSTILE, "priority-issue": HOSTILE})
    html = answer(client, answers).get_data(as_text=True)
    assert "<script>window.__pwned" not in html and "{{7*7}} Pat" in html and "49 Pat" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;{{7*7}} Pat" in html
    saved = save(client, html)
    banner = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "<script>window.__pwned" not in banner and "&lt;script&gt;window.__pwned=1&lt;/script&gt;{{7*7}}" in banner
    page = app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "<script>window.__pwned" not in page and "&lt;script&gt;window.__pwned=1&lt;/script&gt;{{7*7}} Pat" in page


def test_an_editor_cannot_open_or_send_the_update_of_another_ward(app, teams, geodata):
    client = editor(app, teams, wards=("E05013655",))
    assert client.get(UPDATE).status_code == 403
    before = service(teams, geodata).history(SAMPLE_WARD)
    assert post(client, UPDATE, {"priority-issue": "Not mine", "seen": "team:1:1"}).status_code == 403
    assert service(teams, geodata).history(SAMPLE_WARD) == before


def test_a_form_without_the_versions_it_was_opened_at_is_refused(app, teams):
    client = editor(app, teams)
    response = post(client, UPDATE, {"priority-issue": "No versions"})
    assert response.status_code == 400 and "Open it again from the ward page" in response.get_data(as_text=True)


def test_a_contact_detail_left_alone_on_the_form_keeps_the_change_someone_else_made_meanwhile(app, teams, geodata):
    client = editor(app, teams)
    other = editor(app, teams, email="other@example.org")
    opened = client.get(UPDATE).get_data(as_text=True)  # shows the team phone as 020 7946 0123
    phone = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.values["kind"] == "phone")
    changed = {**phone.form(), "version": phone.version, "value": "020 7946 0999"}
    assert post(other, f"/admin/wards/{SAMPLE_WARD}/route/{phone.id}", changed).status_code == 302
    checked = answer(client, {"priority-issue": "Parking on the pavement"}, opened).get_data(as_text=True)
    assert save(client, checked).status_code == 302  # no "still correct": the priority alone is saved ...
    now = next(r for r in service(teams, geodata).editable(SAMPLE_WARD).routes if r.id == phone.id)
    assert now.values["value"] == "+442079460999"  # ... and the phone it showed, untouched, is not put back


def test_a_meeting_the_team_already_lists_is_refused_on_its_field_and_nothing_of_the_update_is_saved(
    app, teams, geodata
):
    client = editor(app, teams)
    first = answer(client, ordinary(teams, geodata)).get_data(as_text=True)
    assert save(client, first).status_code == 302
    before = service(teams, geodata).history(SAMPLE_WARD)
    again = ordinary(teams, geodata, **{"officer-name": "Another Officer", "priority-issue": "Another priority"})
    checked = answer(client, again).get_data(as_text=True)
    refused = save(client, checked)
    html = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and 'href="#meeting-title"' in html
    assert "There is already a meeting with this title at this time" in html and 'value="Another Officer"' in html
    assert service(teams, geodata).history(SAMPLE_WARD) == before  # all or nothing: no officer, no priority
    assert "Another Officer" not in residents_page(app)
