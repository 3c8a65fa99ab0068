"""A ward's team kept right by its officers, in real Chromium, from invitation to restore (issue 8's proof).

A borough admin (with TOTP) turns on review and invites an editor; the editor sets a password,
signs in, changes the team phone and adds a meeting; the admin approves; residents see the
change on the ward page, in the API and in the vCard; the history shows both steps; a restore
brings the old phone back. The store is a real SQLite file with the fictional sample teams.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect

from finder.store import Store
from finder.store.migrate import upgrade
from finder.teams.directory import london_now
from finder.teams.samples import load_sample_teams
from tests.browser.conftest import RecordedPage
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.liveserver import serving
from tests.support.staff import PASSWORD, WESTMINSTER, make_user, staff_app

pytestmark = pytest.mark.browser

ADMIN_EMAIL, EDITOR_EMAIL = "bo.admin@example.org", "erin.editor@example.org"
NEW_PASSWORD = "a long passphrase of mine"


@dataclass(frozen=True)
class StaffServer:
    base_url: str
    store: Store
    totp_secret: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def live_server(geodata, tmp_path_factory) -> Iterator[StaffServer]:
    """The real app over a SQLite file holding the sample teams and one borough admin."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('staff') / 'finder.db'}")
    upgrade(store)
    load_sample_teams(store, FORCE_NAMES)
    secret = pyotp.random_base32()
    make_user(store, ADMIN_EMAIL, "borough_admin", name="Bo Admin", borough_code=WESTMINSTER, totp_secret=secret)
    with serving(staff_app(store, geodata), "finder-staff-server") as base_url:
        yield StaffServer(base_url, store, secret)
    store.dispose()


def sign_in(page: Page, email: str, password: str, totp_secret: str | None = None) -> None:
    page.goto("/admin/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.get_by_label("Code").fill(pyotp.TOTP(totp_secret).now())
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1, name="Your wards")).to_be_visible()


def test_an_invited_editor_changes_the_team_an_admin_approves_residents_see_it_and_a_restore_undoes_it(
    browser_page: RecordedPage, live_server: StaffServer
) -> None:
    admin = browser_page.page
    sign_in(admin, ADMIN_EMAIL, PASSWORD, live_server.totp_secret)

    # The admin turns on review for Westminster and invites an editor for St James's.
    admin.goto("/admin/review")
    admin.get_by_label("Borough", exact=True).select_option(WESTMINSTER)
    admin.get_by_role("button", name="Require review").click()
    expect(admin.get_by_role("status")).to_contain_text("now wait for review")
    admin.goto("/admin/users")
    admin.get_by_label("Name").fill("Erin Editor")
    admin.get_by_label("Email address").fill(EDITOR_EMAIL)
    admin.get_by_role("group", name="Wards (for a ward editor)").get_by_label("St James's", exact=True).check()
    admin.get_by_role("button", name="Invite").click()
    link = admin.locator(".one-time-link").input_value()
    assert re.fullmatch(r"https?://\S+/admin/invitation/\S+", link), link

    # The editor sets a password through the link and signs in.
    editor = browser_page.new_context().page
    editor.goto(link.replace(re.match(r"https?://[^/]+", link).group(0), ""))
    editor.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    editor.get_by_label("New password again").fill(NEW_PASSWORD)
    editor.get_by_role("button", name="Set password").click()
    sign_in(editor, EDITOR_EMAIL, NEW_PASSWORD)

    # ... changes the team phone and adds a meeting; both wait for review.
    editor.get_by_role("link", name="St James's").click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("St James's")
    expect(editor.get_by_role("note").filter(has_text="waits for a borough admin")).to_be_visible()
    phone = editor.locator("details.record", has=editor.locator("summary", has_text="020 7946 0123"))
    phone.locator("summary").click()
    phone.get_by_label("Address, number or link").fill("020 7946 0765")
    phone.get_by_label("Why (optional)").fill("New team desk")
    phone.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_contain_text("waiting for review")

    add_meeting = editor.locator("details.record", has=editor.locator("summary", has_text="Add a meeting"))
    add_meeting.locator("summary").click()
    add_meeting.get_by_label("Title").fill("Coffee with a cop")
    add_meeting.get_by_label("Kind").select_option("contact_session")
    start = (london_now() + timedelta(days=6)).replace(hour=10, minute=0)
    add_meeting.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    add_meeting.get_by_label("Where (optional)").fill("Piccadilly café")
    add_meeting.get_by_role("button", name="Add").click()
    expect(editor.get_by_role("status")).to_contain_text("waiting for review")

    resident = browser_page.new_context().page
    resident.goto(f"/wards/{SAMPLE_WARD}")
    expect(resident.locator("section.reach")).to_contain_text("020 7946 0123")  # nothing shows before approval

    # The admin approves both.
    admin.goto("/admin/review")
    for _ in range(2):
        admin.get_by_role("button", name="Approve").first.click()
        expect(admin.get_by_role("status")).to_contain_text("Approved")
    expect(admin.get_by_text("Nothing is waiting for review.")).to_be_visible()

    # Residents see the change on the page, in the API and in the vCard.
    resident.goto(f"/wards/{SAMPLE_WARD}")
    reach = resident.locator("section.reach")
    expect(reach.get_by_role("link", name="020 7946 0765")).to_have_attribute("href", "tel:+442079460765")
    expect(resident.locator("section.team")).to_contain_text("Coffee with a cop")
    api = resident.request.get(live_server.url(f"/api/v1/wards/{SAMPLE_WARD}")).json()["team"]
    assert "+442079460765" in [r["value"] for r in api["contact_routes"]]
    assert "Coffee with a cop" in [m["title"] for m in api["meetings"]]
    assert "+442079460765" in resident.request.get(live_server.url(f"/wards/{SAMPLE_WARD}/team.vcf")).text()

    # The history shows both steps: who asked, who approved; a restore brings the old phone back.
    admin.goto(f"/admin/wards/{SAMPLE_WARD}/history")
    entry = admin.locator("section.history-entry", has_text="New team desk")
    expect(entry).to_contain_text("Erin Editor")
    expect(entry).to_contain_text("Bo Admin")
    entry.get_by_role("button", name="Restore what it said before this change").click()
    expect(admin.get_by_role("status")).to_contain_text("Saved the earlier version")
    resident.goto(f"/wards/{SAMPLE_WARD}")
    expect(resident.locator("section.reach").get_by_role("link", name="020 7946 0123")).to_be_visible()
