"""A ward editor confirms one value of the dated police.uk snapshot in one click, in real Chromium at a phone's width
and a desktop's, with axe-core finding nothing before or after. The store is a real SQLite file loaded from the real
snapshot (../shared/data-raw/policeuk-met-neighbourhoods-2023-03), as `finder init-db` loads it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from finder.config import default_raw_data
from finder.staff.editing import Editing
from finder.store import Store
from finder.store.migrate import upgrade
from finder.store.models import utcnow
from finder.teams.directory import LONDON
from finder.teams.snapshot import load_snapshot, snapshot_path
from tests.browser.conftest import LiveServer, RecordedPage
from tests.browser.test_accessibility import PHONE, violations, with_axe
from tests.support.liveserver import serving
from tests.support.staff import PASSWORD, make_user, staff_app

pytestmark = pytest.mark.browser

EDITOR_EMAIL = "edna.editor@met.police.uk"
WARDS = {"phone": "E05013806", "desktop": "E05013808"}  # St James's and West End, Westminster
SCREENS = {"phone": PHONE, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def store(geodata, tmp_path_factory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('snapshot') / 'finder.db'}")
    upgrade(store)
    load_snapshot(store, snapshot_path(default_raw_data()), geodata.wards.wards, "Metropolitan Police Service")
    make_user(store, EDITOR_EMAIL, "ward_editor", name="Edna Editor", wards=list(WARDS.values()))
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def live_server(store: Store, geodata) -> Iterator[LiveServer]:
    with serving(staff_app(store, geodata), "finder-confirm-server") as base_url:
        yield LiveServer(base_url)


@pytest.mark.parametrize("screen", SCREENS, ids=SCREENS)
def test_a_ward_editor_confirms_the_snapshot_mailbox_in_one_click_and_the_page_says_confirmed_by_the_team(
    browser_page: RecordedPage, store: Store, screen: str
) -> None:
    ward = WARDS[screen]
    routes = Editing(store, lambda code: "E09000033").editable(ward).routes
    [mailbox] = [r for r in routes if r.values["kind"] == "email"]
    recorded = browser_page.new_context(viewport=SCREENS[screen])
    page = with_axe(recorded)
    page.goto("/admin/sign-in")
    page.get_by_label("Email address").fill(EDITOR_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/admin/wards/{ward}")
    expect(page.get_by_text("Every detail below: as published on police.uk in March 2023.")).to_be_visible()
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)
    page.reload()  # the disclosures closed again, as the editor sees them

    button = page.get_by_role("button", name=f"Still correct for {mailbox.values['label']} {mailbox.values['value']}")
    expect(button).to_be_visible()  # beside the value, without opening its form
    button.click()

    expect(page.get_by_role("status")).to_contain_text("the contact route is marked as confirmed by the team today")
    today = f"{utcnow().astimezone(LONDON):%-d %B %Y}"
    status = page.locator(f"#route-{mailbox.id}-status")
    expect(status).to_have_text(f"Confirmed by the team on {today}.")
    expect(status.get_by_role("button")).to_have_count(0)
    found = violations(page, recorded.base_url)
    assert not found, "axe-core found:\n" + "\n".join(found)
