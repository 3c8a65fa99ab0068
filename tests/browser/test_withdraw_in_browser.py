"""An editor withdraws their own change waiting for review, in real Chromium at a phone's and a desktop's width
(issue 25), with axe-core finding nothing on each page the flow reaches."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import RecordedPage
from tests.browser.test_accessibility import with_axe
from tests.browser.test_staff_area import (  # noqa: F401  (live_server: the staff area's server fixture)
    SCREENS,
    StaffServer,
    live_server,
    new_editor,
    no_violations,
    propose,
    sign_in,
)
from tests.store.teamdata import SAMPLE_WARD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_an_editor_withdraws_their_waiting_change_from_the_ward_page_and_sees_it_gone_and_recorded(
    browser_page: RecordedPage,
    live_server: StaffServer,  # noqa: F811
    screen,
) -> None:
    editor = new_editor(live_server, name="Wanda Withdrawer")
    change = propose(live_server, editor, "Scooters on the pavement")
    recorded = browser_page.new_context(viewport=screen)
    page = with_axe(recorded)
    sign_in(page, editor.email)
    page.goto(f"/admin/wards/{SAMPLE_WARD}")
    waiting = page.locator(f'[data-waiting="{change}"]')
    expect(waiting).to_contain_text("Scooters on the pavement")
    button = waiting.get_by_role("button", name=re.compile(r"^Withdraw the change saved"))
    expect(button).to_be_visible()
    no_violations(page, recorded)

    button.click()
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Withdrawn: the change to St James's saved")
    expect(page.locator(f'[data-waiting="{change}"]')).to_have_count(0)
    no_violations(page, recorded)

    page.goto("/admin/")
    expect(page.locator(f'[data-recent-change="{change}"]')).to_contain_text("withdrawn by Wanda Withdrawer")
    no_violations(page, recorded)
    page.goto(f"/admin/wards/{SAMPLE_WARD}/history")
    expect(page.locator(f"#change-{change}").locator("..")).to_contain_text("Withdrawn by Wanda Withdrawer")
    no_violations(page, recorded)
    assert live_server.editing.change_set(change).status == "withdrawn"
