"""Issue 24's "done when", in a real browser: on the default install (`finder init-db` on an empty store, with
the raw police.uk files beside the checkout), 50 random Met postcodes each show their own ward team's mailbox on
the first screen of a 375 px phone, labelled with where and when it comes from; a City postcode shows the City of
London Police's neighbourhood teams and routes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from finder import create_app
from finder.config import default_raw_data
from finder.errors import FinderError
from finder.geo.geodata import LIVE
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.teams.directory import TeamDirectory
from finder.teams.snapshot import snapshot_path, ward_of
from tests.browser.conftest import LiveServer
from tests.support.liveserver import serving

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
CITY_POSTCODE = "EC2V 7HH"  # Guildhall
CITY_NEIGHBOURHOODS = ("Bank", "Barbican", "Fenchurch Street", "Fleet", "Liverpool Street", "Monument")


@pytest.fixture(scope="module")
def default_server(geodata, tmp_path_factory) -> Iterator[LiveServer]:
    """The app on a store made as ./scripts/serve makes it: `finder init-db` on nothing."""
    url = f"sqlite:///{tmp_path_factory.mktemp('default-install') / 'finder.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINDER_RAW_DATA", str(default_raw_data()))
        done = create_app({"ENV_NAME": "testing", "DATABASE_URL": url}).test_cli_runner().invoke(args=["init-db"])
    assert done.exit_code == 0, done.output
    lookup = Lookup(geodata, load_forces(raw_dir=default_raw_data()), teams=TeamDirectory(Store(url), geodata.wards))
    app = create_app({"ENV_NAME": "testing", "TESTING": True}, lookup=lookup)
    with serving(app, "finder-default-install") as base_url:
        yield LiveServer(base_url)


@pytest.fixture(scope="module")
def mailboxes() -> dict[str, str]:
    """Each Met ward's team mailbox, as the snapshot file gives it."""
    items = json.loads(snapshot_path(default_raw_data()).read_text("utf-8"))
    return {ward_of(item["id"]): item["contact_details"]["email"].strip() for item in items}


def random_met_postcodes(geodata, count: int) -> list[tuple[str, str]]:
    """(postcode, ward code) for `count` live postcodes in Met wards that name a ward (not PO boxes), the same
    ones every run."""
    rows = geodata.postcodes.rows
    wards = geodata.wards.wards
    met = [
        i
        for i in range(0, len(rows), 7)
        if rows["status"][i] == LIVE and rows["ward"][i] >= 0 and wards[rows["ward"][i]].force_id == "metropolitan"
    ]
    lookup = Lookup(geodata, load_forces())
    picked = []
    for i in random.Random(24).sample(met, 4 * count):
        postcode = rows["postcode"][i].decode()
        try:
            lookup.resolve(postcode=postcode)
        except FinderError:  # a PO box's postcode: it has no ward team, and says so
            continue
        picked.append((postcode, wards[rows["ward"][i]].code))
    return picked[:count]


def test_fifty_random_met_postcodes_each_show_their_own_team_mailbox_on_a_phones_first_screen(
    browser: Browser, default_server: LiveServer, geodata, mailboxes
) -> None:
    context = browser.new_context(base_url=default_server.base_url, viewport=PHONE)
    page = context.new_page()
    shown = []
    for postcode, ward_code in random_met_postcodes(geodata, 50):
        page.goto(f"/search?postcode={postcode}")
        mailbox = mailboxes[ward_code]
        link = page.locator(f'[data-team-routes] a[href="mailto:{mailbox}" i]')
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], f"{postcode}: {mailbox} is below the first screen"
        label = " ".join(link.locator("xpath=ancestor::li[1]").inner_text().split())
        assert "police.uk" in label and "March 2023" in label, f"{postcode}: {label!r} does not say its source and date"
        shown.append(ward_code)
    context.close()
    assert len(set(shown)) > 40  # fifty postcodes from across London, not one ward many times


def test_a_city_postcode_shows_the_city_police_neighbourhood_teams_and_its_routes(
    browser: Browser, default_server: LiveServer
) -> None:
    context = browser.new_context(base_url=default_server.base_url, viewport=PHONE)
    page = context.new_page()
    page.goto(f"/search?postcode={CITY_POSTCODE}")
    reach = page.locator("#reach")
    for name in CITY_NEIGHBOURHOODS:
        expect(reach).to_contain_text(name)
    expect(reach).to_contain_text("City of London Police")
    expect(reach.locator("#force-routes a.route-value").first).to_be_visible()
    context.close()
