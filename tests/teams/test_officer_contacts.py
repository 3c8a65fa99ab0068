"""Officers' work phone and email: edited, checked, reviewed and synced like any field, shown only once public.

End to end on SQLite and PostgreSQL: an editor saves through the staff pages (real forms, CSRF on), and
every surface residents use (the ward page, the embed, the vCard, the poster and the JSON API) is read
back through Flask's test client from the same store. The sync runs against the police.uk stub server on
127.0.0.1.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from finder.staff.editing import Editing
from finder.store import Store
from finder.store.models import Officer, utcnow
from finder.store.staff import BoroughSetting
from finder.teams.sync import WardMatcher
from tests.services.syncdata import PEOPLE, make_sync, met_data, serve
from tests.store.teamdata import SAMPLE_WARD
from tests.support.staff import WESTMINSTER, post
from tests.web.test_admin_wards import admin_client, editor_client

MOBILE, MOBILE_SHOWN, MOBILE_E164 = "07700900654", "07700 900654", "+447700900654"  # Ofcom's drama range
EMAIL = "jo.bloggs@met.police.uk"
ST_JAMES = ("metropolitan", "E05013806N")  # the stub's key for the neighbourhood's people
SURFACES = (
    f"/wards/{SAMPLE_WARD}",
    f"/embed/wards/{SAMPLE_WARD}",
    f"/wards/{SAMPLE_WARD}/team.vcf",
    f"/wards/{SAMPLE_WARD}/poster",
    f"/api/v1/wards/{SAMPLE_WARD}",
)


def signed_in(app, teams: Store, role: str = "ward_editor"):
    """An editor of the sample ward, or its borough's admin (the staff-page tests' users)."""
    return (editor_client if role == "ward_editor" else admin_client)(app, teams)[0]


def first_officer(teams: Store, geodata):
    editable = Editing(teams, lambda code: geodata.wards.get(code).borough_code).editable(SAMPLE_WARD)
    return editable.officers[0]


def save_officer(client, officer, **changes):
    form = {**officer.form(), "version": officer.version, **changes}
    form = {k: v for k, v in form.items() if v not in ("", None)}  # an unticked box is not sent at all
    return post(client, f"/admin/wards/{SAMPLE_WARD}/officer/{officer.id}", form)


def surfaces(client) -> dict[str, str]:
    bodies = {}
    for path in SURFACES:
        response = client.get(path)
        assert response.status_code == 200, path
        bodies[path] = response.get_data(as_text=True)
    return bodies


def api_officer(client, name: str) -> dict:
    officers = client.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]["officers"]
    return next(o for o in officers if o["name"] == name)


def test_a_work_phone_not_marked_public_appears_on_no_surface_and_a_public_one_on_every_surface(app, teams, geodata):
    editor = signed_in(app, teams)
    officer = first_officer(teams, geodata)
    assert save_officer(editor, officer, work_phone=MOBILE, work_email=EMAIL).status_code == 302
    stored = first_officer(teams, geodata)
    assert (stored.values["work_phone"], stored.values["phone_public"]) == (MOBILE_E164, False)
    resident = app.test_client()
    for path, body in surfaces(resident).items():
        assert "900654" not in body and EMAIL not in body, path
    assert api_officer(resident, officer.values["name"])["work_phone"] is None

    assert save_officer(editor, stored, phone_public="1").status_code == 302
    for path, body in surfaces(resident).items():
        assert MOBILE_SHOWN in body, path
        assert EMAIL not in body, path  # the email is not marked public: still nowhere
    work_phone = api_officer(resident, officer.values["name"])["work_phone"]
    assert (work_phone["kind"], work_phone["value"], work_phone["href"]) == (
        "mobile",
        MOBILE_SHOWN,
        "tel:07700900654",
    )
    assert 'href="tel:07700900654"' in resident.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)


def test_a_public_work_email_shows_with_a_mailto_link_and_unticking_hides_it_again(app, teams, geodata):
    editor = signed_in(app, teams)
    officer = first_officer(teams, geodata)
    save_officer(editor, officer, work_email=EMAIL, email_public="1")
    resident = app.test_client()
    assert f'href="mailto:{EMAIL}"' in resident.get(f"/embed/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert api_officer(resident, officer.values["name"])["work_email"]["value"] == EMAIL
    save_officer(editor, first_officer(teams, geodata), email_public="")
    for path, body in surfaces(resident).items():
        assert EMAIL not in body, path


def test_a_hostile_or_invalid_phone_or_email_is_refused_with_a_clear_message_in_the_error_summary(app, teams, geodata):
    editor = signed_in(app, teams)
    officer = first_officer(teams, geodata)
    response = save_officer(
        editor, officer, work_phone="<script>alert(1)</script>", work_email="<script>@met.police.uk"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert "Enter a UK phone number, like 020 7946 0999 or 07700 900123" in summary
    assert "Enter an email address in the correct format, like name@met.police.uk" in summary
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # kept, as text
    elsewhere = save_officer(editor, officer, work_phone="12345", work_email="jo@gmail.com").get_data(as_text=True)
    assert "Enter an email address ending @met.police.uk" in elsewhere  # work addresses only
    assert "Enter a UK phone number" in elsewhere
    assert first_officer(teams, geodata).values["work_phone"] is None  # nothing saved


def test_a_change_to_a_work_phone_waits_for_review_and_the_history_names_the_field(app, teams, geodata):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    editor = signed_in(app, teams)
    officer = first_officer(teams, geodata)
    save_officer(editor, officer, work_phone="020 7946 0998", phone_public="1")
    assert first_officer(teams, geodata).values["work_phone"] is None  # waiting: residents see nothing yet
    admin = signed_in(app, teams, "borough_admin")
    queue = admin.get("/admin/review").get_data(as_text=True)
    assert re.search(r">\s*Officer: Work phone\s*<", queue) and "+442079460998" in queue
    assert re.search(r">\s*Officer: Show the work phone to the public\s*<", queue)
    pending = re.search(r"/admin/review/(\d+)", queue).group(1)
    assert post(admin, f"/admin/review/{pending}", {"decision": "approve"}).status_code == 302
    assert "020 7946 0998" in app.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    history = admin.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True)
    assert "<td>Work phone</td><td>—</td><td>+442079460998</td>" in history


def test_removing_an_officer_removes_their_contact_details_from_the_store_and_every_surface(app, teams, geodata):
    editor = signed_in(app, teams)
    officer = first_officer(teams, geodata)
    save_officer(editor, officer, work_phone=MOBILE, phone_public="1")
    officer = first_officer(teams, geodata)
    removed = post(
        editor, f"/admin/wards/{SAMPLE_WARD}/officer/{officer.id}", {"version": officer.version, "remove": "1"}
    )
    assert removed.status_code == 302
    with teams.reader() as session:
        assert session.scalars(select(Officer).where(Officer.work_phone == MOBILE_E164)).all() == []
    for path, body in surfaces(app.test_client()).items():
        assert "900654" not in body, path


def test_hostile_contact_details_that_reach_the_store_are_text_on_every_surface(app, teams, geodata):
    officer = first_officer(teams, geodata)
    with teams.session() as session:  # as a bad write or a hand edit would leave them: no check has run
        row = session.get(Officer, officer.id)
        row.work_phone, row.work_email = "<script>alert(1)</script>", "<b>x</b>@{{7*7}}.uk"
        row.phone_public = row.email_public = True
    bodies = surfaces(app.test_client())
    for path in SURFACES[:2] + SURFACES[3:4]:  # the HTML surfaces: escaped, never markup or template source
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bodies[path] and "<script>alert(1)" not in bodies[path], path
        assert "&lt;b&gt;x&lt;/b&gt;@{{7*7}}.uk" in bodies[path] and "@49.uk" not in bodies[path], path
        assert 'href="tel:' not in bodies[path].split("&lt;script&gt;")[0][-200:], path  # shown, never linked
    assert "<script>alert(1)</script>" in bodies[SURFACES[2]]  # the vCard's note holds it as plain text
    officer_api = api_officer(app.test_client(), officer.values["name"])
    assert (officer_api["work_phone"]["value"], officer_api["work_phone"]["href"]) == (
        "<script>alert(1)</script>",
        None,
    )
    assert officer_api["work_email"]["href"] is None


def people_with_contacts(contacts: dict) -> list[dict]:
    people = [dict(p) for p in PEOPLE]
    people[0] = {**people[0], "contact_details": contacts}  # Jo Example
    return people


def test_the_sync_keeps_police_uks_officer_contact_details_not_public_and_drops_hostile_ones(store, geodata):
    matcher = WardMatcher(geodata.wards.wards)
    data = met_data()
    data.people[ST_JAMES] = people_with_contacts({"telephone": "020 7946 0999", "email": "jo.example@met.police.uk"})
    with serve(data) as stub:
        assert make_sync(store, stub, matcher)[0].run("metropolitan").status == "complete"
        with store.reader() as session:
            jo = session.scalar(select(Officer).where(Officer.name == "Jo Example"))
            assert (jo.work_phone, jo.work_email) == ("+442079460999", "jo.example@met.police.uk")
            assert (jo.phone_public, jo.email_public) == (False, False)  # police.uk gives them; an editor shows them

        stub.data.people[ST_JAMES] = people_with_contacts(
            {"telephone": "<script>alert(1)</script>", "email": "<script>@example.org"}
        )
        make_sync(store, stub, matcher)[0].run("metropolitan", allow_shrink=True)  # Jo's routes go too
        with store.reader() as session:
            jo = session.scalar(select(Officer).where(Officer.name == "Jo Example"))
            assert (jo.work_phone, jo.work_email) == (None, None)

        stub.data.people[ST_JAMES] = people_with_contacts({"mobile": "07700 900654"})
        make_sync(store, stub, matcher)[0].run("metropolitan", allow_shrink=True)
        with store.reader() as session:
            assert session.scalar(select(Officer.work_phone).where(Officer.name == "Jo Example")) == MOBILE_E164

        stub.data.people[ST_JAMES] = [p for p in PEOPLE if p["name"] != "Jo Example"]
        make_sync(store, stub, matcher)[0].run("metropolitan", allow_shrink=True)  # Jo has left the team
        with store.reader() as session:
            assert session.scalars(select(Officer).where(Officer.work_phone == MOBILE_E164)).all() == []


def test_the_about_page_explains_officers_contact_details(app):
    page = app.test_client().get("/about").get_data(as_text=True)
    assert "only their work phone and work email" in page and "marked it public" in page
