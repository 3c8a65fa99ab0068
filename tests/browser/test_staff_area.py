"""The staff area on GOV.UK Frontend, as a new officer finds it, in real Chromium at a phone's and a desktop's width.

Each test signs in its own people (an admin's TOTP code is used once per 30 seconds, so admins are never
shared between tests), seeds what it needs through the editing service, and checks every staff page it
reaches with axe-core (tests/browser/test_accessibility.py's rules: WCAG 2.2 AA and best practices).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from finder.staff.account import Account
from finder.staff.editing import Editing
from finder.store import Store
from finder.store import models as m
from finder.store.migrate import upgrade
from finder.teams.samples import load_sample_teams
from tests.browser.conftest import RecordedPage
from tests.browser.test_accessibility import AXE, AXE_PATH, violations, with_axe
from tests.store.teamdata import FORCE_NAMES, NO_TEAM_WARD, SAMPLE_WARD
from tests.support.liveserver import serving
from tests.support.smtp import smtp_server
from tests.support.staff import PASSWORD, WESTMINSTER, make_user, staff_app

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 375, "height": 667}, "desktop": {"width": 1280, "height": 900}}
_people = itertools.count(1)


@dataclass(frozen=True)
class StaffServer:
    base_url: str
    store: Store
    editing: Editing
    site_admin: Account
    strict_url: str  # the same store served with FINDER_REQUIRE_TOTP_FOR_EDITORS on


@pytest.fixture(scope="module")
def live_server(geodata, tmp_path_factory) -> Iterator[StaffServer]:
    """The real app over a SQLite file holding the sample teams; Westminster reviews its editors' changes."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('staff-area') / 'finder.db'}")
    upgrade(store)
    load_sample_teams(store, FORCE_NAMES)
    app = staff_app(store, geodata)
    borough_of = lambda code: geodata.wards.get(code).borough_code if geodata.wards.get(code) else None  # noqa: E731
    editing = Editing(store, borough_of)
    site = make_user(store, "site@example.org", "site_admin", name="Sid Site")
    editing.set_review_required(site, WESTMINSTER, True)
    strict = staff_app(store, geodata, REQUIRE_TOTP_FOR_EDITORS=True)
    with serving(app, "finder-staff-area-server") as base_url, serving(strict, "finder-strict-server") as strict_url:
        yield StaffServer(base_url, store, editing, site, strict_url)
    store.dispose()


def new_admin(server: StaffServer) -> tuple[str, str]:
    """A fresh Westminster borough admin: (email, TOTP secret)."""
    email, secret = f"admin{next(_people)}@example.org", pyotp.random_base32()
    make_user(server.store, email, "borough_admin", name="Bo Admin", borough_code=WESTMINSTER, totp_secret=secret)
    return email, secret


def new_editor(server: StaffServer, name: str = "Erin Editor"):
    return make_user(server.store, f"editor{next(_people)}@example.org", "ward_editor", name=name, wards=[SAMPLE_WARD])


def sign_in(page: Page, email: str, totp_secret: str | None = None) -> None:
    page.goto("/admin/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.get_by_label("Code").fill(pyotp.TOTP(totp_secret).now())
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1, name="Your wards")).to_be_visible()


def propose(server: StaffServer, editor, issue: str) -> int:
    """An editor's new priority, waiting for review; its change set's id."""
    saved = server.editing.add(editor, SAMPLE_WARD, "priority", {"issue": issue})
    assert saved.status == "pending"
    return saved.change_set_id


def route_provenance(store: Store, ward: str, kind: str) -> dict:
    """The source and fetch time of a ward team's first route of this kind."""
    with store.reader() as session:
        route = session.scalars(
            select(m.ContactRoute).join(m.Team).where(m.Team.ward_code == ward, m.ContactRoute.kind == kind)
        ).first()
        assert route is not None
        return {"source": route.source, "fetched_at": route.fetched_at}


def set_route_provenance(store: Store, ward: str, kind: str, **values) -> None:
    """Give a ward team's routes of this kind another source and fetch time, as a sync or the snapshot would."""
    with store.session() as session:
        team_id = session.scalar(select(m.Team.id).where(m.Team.ward_code == ward))
        session.execute(
            update(m.ContactRoute)
            .where(m.ContactRoute.team_id == team_id, m.ContactRoute.kind == kind)
            .values(**values)
        )


def no_violations(page: Page, recorded: RecordedPage, origin: str | None = None) -> None:
    found = violations(page, origin or recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_borough_admin_sees_every_place_they_may_go_with_what_waits_there(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server)
    propose(live_server, editor, "Bikes on the pavement")
    waiting = len(live_server.editing.pending([SAMPLE_WARD]))
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, *new_admin(live_server))

    nav = page.get_by_role("navigation", name="Staff")
    if screen["width"] < 641:  # GOV.UK Frontend folds the navigation behind a menu button on a phone
        nav.get_by_role("button", name="Menu").click()
    review = nav.get_by_role("link", name=f"Review: {waiting} waiting")
    expect(review).to_have_attribute("href", "/admin/review")
    expect(nav.get_by_role("link", name="Unconfirmed wards:")).to_be_visible()
    expect(nav.get_by_role("link", name="% coverage:")).to_have_attribute("href", "/admin/coverage")
    expect(nav.get_by_role("link", name="People")).to_be_visible()
    no_violations(page, recorded)
    review.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("waiting for review")
    no_violations(page, recorded)


def test_an_editor_sees_no_review_queue_and_their_own_wards_counts(
    browser_page: RecordedPage, live_server: StaffServer
) -> None:
    editor = make_user(live_server.store, "two.wards@example.org", wards=[SAMPLE_WARD, NO_TEAM_WARD])
    page = browser_page.page
    sign_in(page, editor.email)
    nav = page.get_by_role("navigation", name="Staff")
    expect(nav.get_by_role("link", name="Your wards")).to_be_visible()
    expect(nav.get_by_role("link", name="Review")).to_have_count(0)
    expect(nav.get_by_role("link", name="People")).to_have_count(0)
    # The sample ward's details were just loaded; the ward with no team shows nothing, so nothing is unconfirmed.
    expect(nav.get_by_role("link", name="Unconfirmed wards: 0")).to_be_visible()
    expect(nav.get_by_role("link", name="Below 50% coverage: 1")).to_be_visible()


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_the_unconfirmed_count_leads_to_the_list_of_those_wards_on_the_staff_home(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server)
    published = datetime(2023, 3, 6, tzinfo=UTC)  # as the police.uk snapshot's values: nobody has confirmed it since
    email = route_provenance(live_server.store, SAMPLE_WARD, "email")
    set_route_provenance(live_server.store, SAMPLE_WARD, "email", source="policeuk", fetched_at=published)
    try:
        recorded = browser_page.new_context(viewport=screen)
        page = with_axe(recorded)
        sign_in(page, editor.email)
        nav = page.get_by_role("navigation", name="Staff")
        if screen["width"] < 641:
            nav.get_by_role("button", name="Menu").click()
        nav.get_by_role("link", name="Unconfirmed wards: 1").click()
        expect(page).to_have_url(f"{live_server.base_url}/admin/#unconfirmed")
        listed = page.locator("#unconfirmed [data-unconfirmed-ward]")
        expect(listed).to_have_count(1)
        expect(listed.first).to_have_attribute("data-unconfirmed-ward", SAMPLE_WARD)
        expect(listed.first).to_be_in_viewport()
        no_violations(page, recorded)
    finally:
        set_route_provenance(live_server.store, SAMPLE_WARD, "email", **email)


def test_staff_inputs_show_what_was_typed_and_only_the_residents_postcode_box_is_in_capitals(
    browser_page: RecordedPage, live_server: StaffServer
) -> None:
    page = browser_page.page
    page.goto("/admin/sign-in")
    email = page.get_by_label("Email address")
    email.fill("Mixed.Case@example.org")
    assert email.evaluate("e => getComputedStyle(e).textTransform") == "none"
    page.goto("/")
    postcode = page.get_by_label("Postcode")
    assert postcode.evaluate("e => getComputedStyle(e).textTransform") == "uppercase"


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_the_staff_pages_a_ward_editor_reaches_have_no_axe_violations(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server)
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    page.goto("/admin/sign-in")
    no_violations(page, recorded)
    sign_in(page, editor.email)
    no_violations(page, recorded)
    for path in (f"/admin/wards/{SAMPLE_WARD}", f"/admin/wards/{SAMPLE_WARD}/history", "/admin/coverage"):
        assert page.goto(path).status == 200
        no_violations(page, recorded)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_borough_admin_clears_a_queue_of_ten_in_three_submits(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    for entry in live_server.editing.pending():  # earlier tests' changes: this queue holds exactly ten
        live_server.editing.reject(live_server.site_admin, entry.id, "Cleared before the test")
    erin, fay = new_editor(live_server, "Erin Editor"), new_editor(live_server, "Fay Editor")
    width = screen["width"]  # each run's priorities differ from the last's: a team lists a priority once
    wrong = propose(live_server, erin, f"Speeding on the Mall (wrong ward, {width})")
    for n in range(6):
        propose(live_server, erin, f"Erin's priority {n} ({width})")
    for n in range(3):
        propose(live_server, fay, f"Fay's priority {n} ({width})")
    recorded = browser_page.new_context(viewport=screen)
    recorded.expect_status_console_error(400)  # the rejection without a reason, on purpose
    page = with_axe(recorded)
    sign_in(page, *new_admin(live_server))
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if r.method == "POST" else None)

    page.goto("/admin/review")
    expect(page.get_by_role("heading", level=1)).to_have_text("Changes waiting for review (10)")
    item = page.locator(f"[data-change-set='{wrong}']")
    expect(item).to_contain_text("Priority: The issue")  # the field as people read it, not "priority issue"
    expect(item.get_by_role("row")).to_contain_text(["What Before After", "—"])
    no_violations(page, recorded)

    # A rejection needs a reason: the page says so at the box, and nothing is settled.
    item.get_by_role("button", name="Reject").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a reason")
    no_violations(page, recorded)
    assert len(live_server.editing.pending([SAMPLE_WARD])) == 10
    submits.clear()  # the failed try does not count: the goal counts the submits of a right path

    item = page.locator(f"[data-change-set='{wrong}']")
    item.get_by_label(f"Reason, if you reject change {wrong}").fill("Wrong ward: that is St James's Park's team")
    item.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("Rejected 1 change")
    page.get_by_role("button", name="Approve all 6 from Erin Editor").click()
    expect(page.get_by_role("status")).to_contain_text("Approved 6 changes")
    for box in page.get_by_label("Select change").all():
        box.check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("status")).to_contain_text("Approved 3 changes")
    expect(page.get_by_text("Nothing is waiting for review.")).to_be_visible()
    no_violations(page, recorded)

    assert len(submits) == 3, submits
    assert live_server.editing.pending() == []
    history = {e.id: e for e in live_server.editing.history(SAMPLE_WARD)}
    assert history[wrong].status == "rejected" and "Wrong ward" in history[wrong].review_reason


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_borough_admin_invites_by_ward_name_is_warned_of_a_personal_address_and_cancels_the_invitation(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, *new_admin(live_server))
    page.goto("/admin/users")
    no_violations(page, recorded)
    email = f"gail{screen['width']}@gmail.com"
    page.get_by_label("Name").fill("Gail Guest")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("group", name="Wards (for a ward editor)").get_by_label("St James's", exact=True).check()
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("[data-personal-address]")).to_contain_text(f"{email} looks like a personal address")
    link = page.locator(".one-time-link").input_value()  # a warning, not a refusal: the invitation exists
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text(f"St James's {SAMPLE_WARD}")  # the ward's name beside its code
    no_violations(page, recorded)
    page.goto(link.replace(recorded.base_url, ""))  # the page the invitee would open, then the password-reset one
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Gail Guest")
    no_violations(page, recorded)
    page.goto("/admin/reset")
    no_violations(page, recorded)

    page.goto("/admin/users")
    row = page.get_by_role("row").filter(has_text=email)
    row.get_by_role("button", name="Cancel invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"The invitation to Gail Guest ({email}) is cancelled")
    expect(page.get_by_role("row").filter(has_text=email)).to_have_count(0)
    recorded.expect_status_console_error(404)  # the cancelled link, on purpose
    page.goto(link.replace(recorded.base_url, ""))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_disabled_officers_open_session_is_refused_on_its_next_request_until_re_enabled(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    leaver = new_editor(live_server, f"Lee Leaver {screen['width']}")
    officers = browser_page.new_context(viewport=screen)
    officers.expect_status_console_error(400)  # the refused sign-in, on purpose
    officer = officers.page
    sign_in(officer, leaver.email)
    recorded = browser_page.new_context(viewport=screen)
    admin = with_axe(recorded)
    sign_in(admin, *new_admin(live_server))
    admin.goto("/admin/users")
    row = admin.get_by_role("row").filter(has_text=leaver.email)
    row.get_by_role("button", name="Disable").click()
    expect(admin.get_by_role("status")).to_contain_text("signed out everywhere and cannot sign in")
    expect(admin.get_by_role("row").filter(has_text=leaver.email)).to_contain_text("Disabled")
    no_violations(admin, recorded)

    officer.goto(f"/admin/wards/{SAMPLE_WARD}")  # the session opened before: refused at once
    expect(officer.get_by_role("heading", level=1)).to_have_text("Sign in")
    officer.get_by_label("Email address").fill(leaver.email)
    officer.get_by_label("Password").fill(PASSWORD)
    officer.get_by_role("button", name="Sign in").click()
    expect(officer.locator(".govuk-error-summary")).to_be_visible()  # and signing in again is refused

    admin.get_by_role("row").filter(has_text=leaver.email).get_by_role("button", name="Re-enable").click()
    expect(admin.get_by_role("status")).to_contain_text("can sign in again")
    sign_in(officer, leaver.email)


CODES_IN_VIEW = """() => [...document.querySelectorAll('.staff-person-wards li .govuk-hint')].map(code => {
    const box = code.getBoundingClientRect();
    return {code: code.textContent, inside: box.left >= 0 && box.right <= window.innerWidth,
            whole: code.scrollWidth <= Math.ceil(box.width) + 1};
})"""


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_an_admin_copies_an_invitation_link_re_sends_it_and_the_first_link_stops_working(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    new_editor(live_server, "Cody Codes")  # someone with a ward in the table, to see its code whole
    recorded = browser_page.new_context(viewport=screen, permissions=["clipboard-read", "clipboard-write"])
    page = with_axe(recorded)
    sign_in(page, *new_admin(live_server))
    page.goto("/admin/users")
    email = f"ivan{screen['width']}@example.org"
    page.get_by_label("Name").fill("Ivan <script>alert(1)</script> Invitee")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("group", name="Wards (for a ward editor)").get_by_label("St James's", exact=True).check()
    page.get_by_role("button", name="Invite", exact=True).click()

    box = page.get_by_label("Invitation link for Ivan <script>alert(1)</script> Invitee")
    expect(box).to_have_attribute("readonly", "")
    first = box.input_value()
    assert first.startswith(f"{recorded.base_url}/admin/invitation/")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("[aria-live=polite]")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == first
    no_violations(page, recorded)

    page.goto("/admin/users")
    codes = page.evaluate(CODES_IN_VIEW)
    assert codes and all(c["inside"] and c["whole"] and len(c["code"]) == 9 for c in codes), codes
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Invitation sent")
    row.get_by_role("button", name="Re-send invitation to Ivan <script>alert(1)</script> Invitee").click()
    expect(page.get_by_role("status").first).to_contain_text("The link sent before no longer works")
    second = page.get_by_label("Invitation link for Ivan <script>alert(1)</script> Invitee").input_value()
    assert second != first
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("2 invitations sent, the last")
    no_violations(page, recorded)

    recorded.expect_status_console_error(410)  # the first link, refused on purpose
    page.goto(first.replace(recorded.base_url, ""))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_text("already been used")).to_be_visible()
    no_violations(page, recorded)
    page.goto(second.replace(recorded.base_url, ""))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ivan <script>alert(1)</script> Invitee")


def test_without_javascript_the_invitation_link_is_in_a_read_only_box_and_no_copy_button_shows(
    browser_page: RecordedPage, live_server: StaffServer
) -> None:
    recorded = browser_page.new_context(java_script_enabled=False, viewport=SCREENS["phone"])
    page = recorded.page
    sign_in(page, *new_admin(live_server))
    page.goto("/admin/users")
    page.get_by_label("Name").fill("Nora No-Script")
    page.get_by_label("Email address").fill("nora@example.org")
    page.get_by_role("group", name="Wards (for a ward editor)").get_by_label("St James's", exact=True).check()
    page.get_by_role("button", name="Invite", exact=True).click()
    box = page.get_by_label("Invitation link for Nora No-Script")
    expect(box).to_be_visible()
    assert box.input_value().startswith(f"{recorded.base_url}/admin/invitation/")
    expect(page.get_by_role("button", name="Copy link")).to_have_count(0)  # hidden: it could do nothing


def set_up_app(page: Page, recorded: RecordedPage, origin: str | None = None) -> str:
    """On the set-up page: read the key, turn the app on with its code, check the recovery codes; the key."""
    check = lambda: no_violations(page, recorded, origin)  # noqa: E731
    check()
    secret = page.locator(".totp-secret").inner_text()
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    check()
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", level=1, name="Your wards")).to_be_visible()
    return secret


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted for clock drift): the one just used is never taken twice."""
    return pyotp.TOTP(secret).at(time.time() + 30)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_an_editor_takes_up_the_offered_authenticator_app_and_then_signs_in_with_a_code(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server, "Tia <b>Totp</b>")
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, editor.email)  # the password alone: the app is offered, not required
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    secret = set_up_app(page, recorded)
    expect(page.get_by_role("link", name="Set up an authenticator app")).to_have_count(0)

    again = browser_page.new_context(viewport=screen)
    again.expect_status_console_error(400)  # the wrong code, on purpose
    other = with_axe(again)
    other.goto("/admin/sign-in")
    other.get_by_label("Email address").fill(editor.email)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")
    other.get_by_label("Code").fill("000000")
    other.get_by_role("button", name="Continue").click()
    expect(other.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    no_violations(other, again)
    other.get_by_label("Code").fill(next_code(secret))
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_role("heading", level=1, name="Your wards")).to_be_visible()
    expect(other.get_by_text("Tia <b>Totp</b>").first).to_be_visible()  # the name as typed, never as markup


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_where_the_setting_requires_it_an_editor_without_an_app_is_sent_to_set_one_up_at_sign_in(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server)
    recorded = browser_page.new_context(viewport=screen)
    recorded.allow_origin(live_server.strict_url)
    page = with_axe(recorded)
    recorded.context.route(live_server.strict_url + AXE_PATH, lambda route: route.fulfill(path=AXE))
    page.goto(f"{live_server.strict_url}/admin/sign-in")
    page.get_by_label("Email address").fill(editor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    expect(page.get_by_text("This finder asks ward editors to sign in with")).to_be_visible()
    page.goto(f"{live_server.strict_url}/admin/wards/{SAMPLE_WARD}")  # nothing else until it is set up
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.go_back()
    set_up_app(page, recorded, live_server.strict_url)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_rejection_emails_the_editor_its_reason_and_without_mail_the_staff_home_says_email_is_not_set_up(
    browser_page: RecordedPage, live_server: StaffServer, geodata, screen
) -> None:
    editor = new_editor(live_server, "Rex <script>alert(1)</script> Rejected")
    change = propose(live_server, editor, f"Parking on the verge ({screen['width']})")
    reason = "Not this ward's <b>issue</b> & <script>alert(2)</script>"
    admin_email, secret = new_admin(live_server)
    with smtp_server() as inbox, serving(staff_app(live_server.store, geodata, SMTP_URL=inbox.url)) as mail_url:
        recorded = browser_page.new_context(viewport=screen)
        recorded.allow_origin(mail_url)
        page = with_axe(recorded)
        recorded.context.route(mail_url + AXE_PATH, lambda route: route.fulfill(path=AXE))
        page.goto(f"{mail_url}/admin/sign-in")
        page.get_by_label("Email address").fill(admin_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("[data-email-off]")).to_have_count(0)  # mail is set up here
        no_violations(page, recorded, mail_url)
        page.goto(f"{mail_url}/admin/review")
        item = page.locator(f"[data-change-set='{change}']")
        item.get_by_label(f"Reason, if you reject change {change}").fill(reason)
        item.get_by_role("button", name="Reject").click()
        expect(page.get_by_role("status")).to_contain_text("Rejected 1 change")
        (message,) = inbox.wait_for(1)
        page.goto("about:blank")  # done with this server before it stops (a late favicon request would fail)
    assert message["To"] == editor.email and message["Subject"] == "Your change was reviewed: 1 rejected"
    assert f"Reason: {reason}" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert reason not in html and "Reason: Not this ward&#39;s &lt;b&gt;issue&lt;/b&gt; &amp; &lt;script&gt;" in html

    editors = browser_page.new_context(viewport=screen)  # the module's server has no FINDER_SMTP_URL
    officer = with_axe(editors)
    sign_in(officer, editor.email)
    expect(officer.locator("[data-email-off]")).to_contain_text(
        "Email is not set up: you are not emailed when your changes are approved or rejected"
    )
    no_violations(officer, editors)
    admins = browser_page.new_context(viewport=screen)
    admin = with_axe(admins)
    sign_in(admin, *new_admin(live_server))
    expect(admin.locator("[data-email-off]")).to_contain_text("no daily reminder of changes waiting for review")
    no_violations(admin, admins)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_an_editor_saves_in_a_reviewing_borough_sees_it_waiting_in_place_and_later_reads_why_it_was_rejected(
    browser_page: RecordedPage, live_server: StaffServer, screen
) -> None:
    editor = new_editor(live_server, "Gus Editor")
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, editor.email)
    page.goto(f"/admin/wards/{SAMPLE_WARD}")
    phone = page.locator("details.record", has=page.locator("summary", has_text="020 7946 0123"))
    phone.locator("summary").click()
    number = f"020 7946 0{screen['width'] % 1000:03d}"  # a drama number of its own each run
    phone.get_by_label("Address, number or link").fill(number)
    phone.get_by_role("button", name="Save").click()

    # Back at the record saved, open, with a success banner; the change waits beside it.
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("waiting for review")
    assert re.search(r"\?open=route-\d+#route-\d+$", page.url), page.url
    expect(phone).to_have_attribute("open", "")
    marker = page.locator("[data-waiting]")
    expect(marker).to_contain_text("Waiting for review since")
    expect(marker).to_contain_text("by Gus Editor")
    expect(marker).to_contain_text(f"020 7946 0123 → +44207946{number[-4:]}")
    no_violations(page, recorded)

    # A borough admin rejects it with a reason; the editor's home says which change, and why.
    waiting = next(e for e in live_server.editing.pending([SAMPLE_WARD]) if e.user_id == editor.id)
    live_server.editing.reject(live_server.site_admin, waiting.id, "Use the shared desk number")
    page.goto("/admin/")
    recent = page.locator(f'[data-recent-change="{waiting.id}"]')
    expect(recent).to_contain_text("rejected by Sid Site: “Use the shared desk number”")
    expect(recent).to_contain_text(f"Contact route, Address, number or link: 020 7946 0123 → +44207946{number[-4:]}")
    no_violations(page, recorded)
