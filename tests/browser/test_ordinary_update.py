"""The ordinary update as a new ward officer does it, in real Chromium at a phone's and a desktop's width (issue 25).

From the staff home: open the ward, "Update this team's details", add a PCSO with a work mobile and email,
change the team email, add a meeting and a priority, tick that the rest is still correct, Continue, check
the answers, save. The test counts the page loads and form submits on the way (the goal: one page, at most
2 submits, under 3 minutes), checks every page reached with axe-core, and reads the residents' page after.
In Camden the change shows at once; in Westminster (which reviews editors' changes) it waits.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Request, expect

from finder.teams.directory import london_now
from tests.browser.conftest import RecordedPage
from tests.browser.test_accessibility import with_axe
from tests.browser.test_staff_area import SCREENS, StaffServer, live_server, no_violations, sign_in  # noqa: F401
from tests.store.teamdata import SAMPLE_WARD
from tests.support.staff import make_user

pytestmark = pytest.mark.browser

CAMDEN_TOWN = "E05013655"  # Camden does not review editors' changes; Westminster (St James's) does
WARDS = {"applied at once": (CAMDEN_TOWN, "Camden Town"), "waiting for review": (SAMPLE_WARD, "St James's")}
_runs = itertools.count(1)


class Steps:
    """The page loads and form submits of one tab, as the browser makes them."""

    def __init__(self, page: Page) -> None:
        self.loads: list[str] = []
        self.submits: list[str] = []
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.loads.append(frame.url))
        page.on("request", self._request)

    def _request(self, request: Request) -> None:
        if request.method == "POST" and request.resource_type == "document":
            self.submits.append(request.url)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
@pytest.mark.parametrize("outcome", WARDS.keys())
def test_a_new_officer_does_the_ordinary_update_on_one_page_in_two_submits_and_residents_see_it(
    browser_page: RecordedPage,
    live_server: StaffServer,  # noqa: F811  (the staff area's server, imported above)
    screen,
    outcome: str,
) -> None:
    ward, ward_name = WARDS[outcome]
    run = next(_runs)
    pcso, email, mobile = f"Priya Shah {run}", f"team{run}.snt@met.police.uk", f"07700 900{run:03d}"
    meeting, priority = f"Ward panel at the library {run}", f"Bikes stolen outside the station {run}"
    officer = make_user(live_server.store, f"new.officer{run}@example.org", "ward_editor", name="Nia New", wards=[ward])
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, officer.email)

    steps, started = Steps(page), time.monotonic()
    page.get_by_role("link", name=ward_name).first.click()
    no_violations(page, recorded)
    page.get_by_role("button", name="Update this team’s details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Update the team’s details")
    no_violations(page, recorded)

    page.get_by_label("Name", exact=True).fill(pcso)
    page.get_by_label("PCSO", exact=True).check()
    page.get_by_label("Work phone (optional)").fill(mobile)
    page.get_by_label("Show the work phone to the public").check()
    page.get_by_label("Work email (optional)").fill(f"priya.shah{run}@met.police.uk")
    page.get_by_label("Show the work email to the public").check()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Title").fill(meeting)
    page.get_by_label("Ward panel meeting").check()
    start = (london_now() + timedelta(days=10 + run)).replace(hour=18, minute=30)
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("The issue").fill(priority)
    page.get_by_label("The rest of the team's details are still correct").check()
    page.get_by_role("button", name="Continue").click()  # submit 1

    review = outcome == "waiting for review"
    heading = "Check your answers before " + ("sending them for review" if review else "saving")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("[data-answers=officer]")).to_contain_text(pcso)
    expect(page.locator("[data-answers=routes]")).to_contain_text(f"{email} (changed from")
    no_violations(page, recorded)
    change = page.locator("[data-answers=officer]").get_by_role("link", name="Change name")
    expect(change).to_have_attribute("href", "#officer-name")  # back to the field, what was typed still in it
    expect(page.locator("#officer-name")).to_have_value(pcso)
    page.get_by_role("button", name="Send these changes for review" if review else "Save these changes").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{ward_name}: your neighbourhood team")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("marked as checked today")
    expect(banner).to_contain_text(
        f"Waiting for review by your borough admin: the new officer “{pcso}”"
        if review
        else f"Saved the new officer “{pcso}”, the contact detail “{email}”"
    )
    no_violations(page, recorded)
    seconds = time.monotonic() - started
    print(
        f"\nordinary update ({outcome}, {screen['width']} px): {len(steps.loads)} page loads, "
        f"{len(steps.submits)} submits, {seconds:.1f} s: {steps.loads}"
    )
    assert len(steps.submits) == 2, steps.submits
    assert len(steps.loads) == 4, steps.loads  # the ward, the form, "Check your answers", the ward again
    assert seconds < 180

    residents = recorded.context.new_page()
    residents.goto(f"/wards/{ward}")
    shown = residents.locator("main")
    for text in (pcso, mobile, email, meeting, priority):
        if review:
            expect(shown).not_to_contain_text(text)
        else:
            expect(shown).to_contain_text(text)
    no_violations(residents, recorded)


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_a_mistake_and_a_change_made_from_check_your_answers_keep_everything_typed(
    browser_page: RecordedPage,
    live_server: StaffServer,  # noqa: F811  (the staff area's server, imported above)
    screen,
) -> None:
    run = next(_runs)
    officer = make_user(
        live_server.store, f"new.officer{run}@example.org", "ward_editor", name="Nia New", wards=[CAMDEN_TOWN]
    )
    recorded = browser_page.new_context(viewport=screen)
    recorded.expect_status_console_error(400)  # the form with its mistake comes back as a 400
    page = with_axe(recorded)
    sign_in(page, officer.email)
    page.goto(f"/admin/wards/{CAMDEN_TOWN}/update")
    page.get_by_label("Name", exact=True).fill(f"Sam Lee {run}")
    page.get_by_label("Work email (optional)").fill("sam.lee@gmail.com")
    page.get_by_label("The issue").fill(f"Noise from the late bar {run}")
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the officer's role")
    expect(summary).to_contain_text("met.police.uk")
    no_violations(page, recorded)
    summary.get_by_role("link", name="Select the officer's role").click()
    expect(page.get_by_label("Sergeant")).to_be_focused()  # GOV.UK Frontend moves to the field's first choice
    expect(page.get_by_label("Name", exact=True)).to_have_value(f"Sam Lee {run}")  # nothing typed is lost
    expect(page.get_by_label("The issue")).to_have_value(f"Noise from the late bar {run}")
    page.get_by_label("Police constable").check()
    page.get_by_label("Work email (optional)").fill(f"sam.lee{run}@met.police.uk")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before saving")
    page.locator("[data-answers=priority]").get_by_role("link", name="Change the issue").click()
    expect(page).to_have_url(f"{recorded.base_url}/admin/wards/{CAMDEN_TOWN}/update#priority-issue")
    page.get_by_label("The issue").fill(f"Noise from the late bar on Fridays {run}")
    page.get_by_role("button", name="Check your answers again").click()
    expect(page.locator("[data-answers=priority]")).to_contain_text(f"Noise from the late bar on Fridays {run}")
    no_violations(page, recorded)
    page.get_by_role("button", name="Save these changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Saved the new officer “Sam Lee {run}”")

    residents = recorded.context.new_page()
    residents.goto(f"/wards/{CAMDEN_TOWN}")
    expect(residents.locator("main")).to_contain_text(f"Noise from the late bar on Fridays {run}")
