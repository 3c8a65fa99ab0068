"""Every fact carries its source and date (issue 24 item 2): a police.uk value older than FINDER_STALE_AFTER_MONTHS
that no officer has confirmed is marked as such, in words, on the ward page, the embed, the poster and the API.

The store is built the default way (`finder init-db` with the real police.uk snapshot in ../shared/data-raw), so
every Met ward's mailbox is police.uk's, fetched 6 March 2023."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import select, update

from finder import create_app
from finder.config import Config, default_raw_data
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store import models as m
from finder.teams.api import OPENAPI_FILE, PROVENANCE_COMPONENTS
from finder.teams.directory import TeamDirectory, months_before
from finder.web import services

ST_JAMESS = "E05013806"  # SW1A 1AA; its police.uk mailbox is in the snapshot
ST_JAMESS_MAILBOX = "AWMailbox.SNTCWStJamesWard@met.police.uk"


def cli_app(database: str):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": database})


@pytest.fixture(scope="module")
def default_store(tmp_path_factory) -> Store:
    """A store made as ./scripts/setup makes it: `finder init-db` on nothing, with the raw data beside."""
    url = f"sqlite:///{tmp_path_factory.mktemp('default') / 'finder.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINDER_RAW_DATA", str(default_raw_data()))
        result = cli_app(url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "snapshot: 679 Met ward teams" in result.output, result.output
    return Store(url)


def email_of(directory: TeamDirectory, ward: str = ST_JAMESS):
    team = directory.lookup(ward).team
    return next(r for r in team.routes if r.kind == "email")


def test_months_before_keeps_the_day_or_takes_the_last_day_of_a_shorter_month():
    assert months_before(datetime(2027, 3, 31, 9, tzinfo=UTC), 1) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert months_before(datetime(2024, 3, 6, tzinfo=UTC), 12) == datetime(2023, 3, 6, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 14) == datetime(2025, 11, 15, tzinfo=UTC)


def test_the_threshold_defaults_to_twelve_months_and_reaches_the_directory_from_the_setting(default_store):
    assert Config.STALE_AFTER_MONTHS == 12
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": default_store.url, "STALE_AFTER_MONTHS": 48})
    with app.app_context():
        directory = services().lookup.teams
    assert directory.stale_after_months == 48
    assert not email_of(directory).provenance.stale  # 6 March 2023 is within 48 months of now (December 2026)


def test_a_snapshot_value_is_stale_once_it_is_older_than_the_threshold_and_not_before(default_store, geodata):
    def at(when: datetime, months: int = 12) -> TeamDirectory:
        return TeamDirectory(default_store, geodata.wards, clock=lambda: when, stale_after_months=months)

    assert not email_of(at(datetime(2024, 3, 5, 23))).provenance.stale  # fetched 6 March 2023: under 12 months
    assert email_of(at(datetime(2024, 3, 6, 1))).provenance.stale
    assert email_of(TeamDirectory(default_store, geodata.wards)).provenance.stale  # today, by default
    assert not email_of(at(datetime(2024, 3, 6, 1), months=13)).provenance.stale


def test_a_team_kept_by_the_cache_is_read_again_as_stale_once_it_has_aged(default_store, geodata):
    london = [datetime(2024, 3, 5, 12)]
    monotonic = [1000.0]
    directory = TeamDirectory(
        default_store, geodata.wards, clock=lambda: london[0], cache_seconds=30, monotonic=lambda: monotonic[0]
    )
    assert not email_of(directory).provenance.stale
    london[0], monotonic[0] = datetime(2024, 3, 7, 12), 1031.0  # a day and a half later, the cache expired
    assert email_of(directory).provenance.stale


def resident_app(store: Store, geodata):
    lookup = Lookup(geodata, load_forces(raw_dir=default_raw_data()), teams=TeamDirectory(store, geodata.wards))
    return create_app({"ENV_NAME": "testing"}, lookup=lookup)


@pytest.fixture(scope="module")
def resident(default_store, geodata):
    return resident_app(default_store, geodata).test_client()


@pytest.fixture()
def own_store(default_store, tmp_path) -> Store:
    """A copy of the default store that a test may change."""
    shutil.copy(default_store.url.removeprefix("sqlite:///"), tmp_path / "finder.db")
    return Store(f"sqlite:///{tmp_path / 'finder.db'}")


STALE_NOTE = "As published on police.uk in March 2023: it may have changed since"


def test_a_met_postcodes_answer_says_its_mailbox_is_police_uks_of_6_march_2023_and_may_have_changed(resident):
    team = resident.get("/api/v1/postcodes/SW1A1AA").get_json()["team"]
    [email] = [r for r in team["contact_routes"] if r["kind"] == "email"]
    assert email["value"] == "AWMailbox.SNTCWStJamesWard@met.police.uk"
    assert (email["source"], email["as_of"], email["verified_by_officer"]) == ("policeuk", "2023-03-06", False)
    assert (email["stale"], email["stale_note"]) == (True, STALE_NOTE)
    assert email["confirmed_at"].startswith("2023-03-06")  # what the field meant before: unchanged
    assert (team["source"], team["as_of"], team["stale"], team["stale_note"]) == (
        "policeuk",
        "2023-03-06",
        True,
        STALE_NOTE,
    )


def test_a_value_an_officer_confirmed_is_not_stale_and_keeps_police_uks_date_as_its_as_of(own_store, geodata):
    set_email(own_store, verified_at=datetime(2026, 12, 4, 10, tzinfo=UTC), verified_by="PS Example")
    team = resident_app(own_store, geodata).test_client().get("/api/v1/wards/" + ST_JAMESS).get_json()["team"]
    [email] = [r for r in team["contact_routes"] if r["kind"] == "email"]
    assert (email["as_of"], email["confirmed_at"], email["verified_by_officer"]) == (
        "2023-03-06",
        "2026-12-04T10:00:00Z",
        True,
    )
    assert (email["stale"], email["stale_note"]) == (False, None)
    assert team["stale"] is True  # the team's own record is still police.uk's, unconfirmed


def test_the_openapi_document_describes_as_of_and_stale_on_every_item_and_the_snapshots_answers_keep_to_it(
    resident,
):
    import jsonschema_rs  # installed with the test extras (schemathesis validates with it)

    schemas = json.loads(OPENAPI_FILE.read_text("utf-8"))["components"]["schemas"]
    validator = jsonschema_rs.Draft202012Validator({"components": {"schemas": schemas}, **schemas["Team"]})
    validator.validate(resident.get("/api/v1/postcodes/SW1A1AA").get_json()["team"])
    for component in PROVENANCE_COMPONENTS:
        assert {"as_of", "stale", "stale_note"} <= set(schemas[component]["required"]), component
        assert "officer" in schemas[component]["properties"]["as_of"]["description"]
        assert "FINDER_STALE_AFTER_MONTHS" in schemas[component]["properties"]["stale"]["description"]


def text_of(html: str) -> str:
    """The page as a resident reads it: tags out, entities decoded, spaces folded."""
    return re.sub(r" ([.,:])", r"\1", " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()))


def mailbox_item(html: str, mailbox: str = ST_JAMESS_MAILBOX) -> str:
    """The list item that holds the mailbox (the ward page, the embed and the poster each list the routes)."""
    start = html.index(mailbox)
    return html[html.rindex("<li", 0, start) : html.index("</li>", start)]


SURFACES = {
    "result page": "/search?postcode=SW1A+1AA",
    "ward page": f"/wards/{ST_JAMESS}",
    "embed": "/embed/search?postcode=SW1A+1AA",
    "poster": f"/wards/{ST_JAMESS}/poster",
}


@pytest.mark.parametrize("surface", SURFACES)
def test_every_surface_says_beside_the_mailbox_that_it_is_police_uks_of_march_2023_and_may_have_changed(
    resident, surface
):
    item = mailbox_item(resident.get(SURFACES[surface]).get_data(as_text=True))
    assert STALE_NOTE in text_of(item)
    assert "data-stale" in item


def set_email(store: Store, **values) -> None:
    """Change St James's mailbox's provenance in the store, as an officer's confirmation or a sync would."""
    with store.session() as session:
        team_id = session.scalar(select(m.Team.id).where(m.Team.ward_code == ST_JAMESS))
        session.execute(
            update(m.ContactRoute)
            .where(m.ContactRoute.team_id == team_id, m.ContactRoute.kind == "email")
            .values(**values)
        )


@pytest.mark.parametrize("surface", SURFACES)
def test_a_value_the_team_confirmed_says_the_date_it_did_on_every_surface(own_store, geodata, surface):
    set_email(own_store, verified_at=datetime(2026, 12, 4, 10, tzinfo=UTC), verified_by="PS Example")
    html = resident_app(own_store, geodata).test_client().get(SURFACES[surface]).get_data(as_text=True)
    item = mailbox_item(html)
    assert "Confirmed by the team on 4 December 2026" in text_of(item)
    assert "data-stale" not in item and "may have changed" not in text_of(item)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_value_from_a_live_sync_says_when_it_was_synced(own_store, geodata, surface):
    set_email(own_store, fetched_at=datetime.now(UTC))
    html = resident_app(own_store, geodata).test_client().get(SURFACES[surface]).get_data(as_text=True)
    words = text_of(mailbox_item(html))
    if surface == "poster":  # a printed sheet is read for weeks: a date, not an age
        assert f"From police.uk, synced on {datetime.now(UTC):%-d %B %Y}" in words
    else:
        assert "From police.uk, synced today" in words


def set_team(store: Store, **values) -> None:
    with store.session() as session:
        session.execute(update(m.Team).where(m.Team.ward_code == ST_JAMESS).values(**values))


def stale_note(html: str) -> str:
    start = html.index("data-stale-note")
    return html[html.rindex("<p", 0, start) : html.index("</p>", start)]


@pytest.mark.parametrize("surface", ["result page", "ward page", "embed"])
def test_a_page_with_old_details_says_they_may_have_changed_and_to_search_your_postcode_on_police_uk(resident, surface):
    note = stale_note(resident.get(SURFACES[surface]).get_data(as_text=True))
    assert 'href="https://www.police.uk/pu/your-area/"' in note  # the snapshot gives no team page: police.uk's search
    assert (
        text_of(note) == "Older details may have changed since police.uk published them. "
        "For the latest, search your postcode on police.uk’s “Your area” page."
    )


def test_the_poster_says_where_to_look_for_the_latest_in_print(resident):
    note = text_of(stale_note(resident.get(SURFACES["poster"]).get_data(as_text=True)))
    assert "Older details may have changed since police.uk published them" in note
    assert "search your postcode at www.police.uk/pu/your-area" in note


@pytest.mark.parametrize("surface", ["result page", "embed"])
def test_where_police_uk_gave_the_teams_own_page_the_note_links_that_page(own_store, geodata, surface):
    page = "https://www.met.police.uk/a/your-area/met/westminster/st-jamess/"
    set_team(own_store, url_force=page)
    html = resident_app(own_store, geodata).test_client().get(SURFACES[surface]).get_data(as_text=True)
    note = stale_note(html)
    assert f'href="{page}"' in note and "the team’s own page on the Met website" in text_of(note)
    assert "police.uk/pu/your-area" not in note


@pytest.mark.parametrize("surface", ["result page", "embed"])
def test_a_hostile_team_page_address_is_escaped_or_not_linked(own_store, geodata, surface):
    set_team(own_store, url_force='https://evil.example/"><script>alert(1)</script>')
    html = resident_app(own_store, geodata).test_client().get(SURFACES[surface]).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    note = stale_note(html)
    assert 'href="https://evil.example/&#34;' in note and '"><' not in note  # the quote cannot end the attribute
    set_team(own_store, url_force="javascript:alert(1)")
    html = resident_app(own_store, geodata).test_client().get(SURFACES[surface]).get_data(as_text=True)
    assert "javascript:" not in html
    assert 'href="https://www.police.uk/pu/your-area/"' in stale_note(html)


def test_once_the_team_has_confirmed_everything_no_page_says_its_details_may_have_changed(own_store, geodata):
    confirmed = {"verified_at": datetime(2026, 12, 4, 10, tzinfo=UTC), "verified_by": "PS Example"}
    set_team(own_store, **confirmed)
    with own_store.session() as session:
        team_id = session.scalar(select(m.Team.id).where(m.Team.ward_code == ST_JAMESS))
        session.execute(update(m.ContactRoute).where(m.ContactRoute.team_id == team_id).values(**confirmed))
    client = resident_app(own_store, geodata).test_client()
    for surface, path in SURFACES.items():
        html = client.get(path).get_data(as_text=True)
        assert "data-stale-note" not in html and "may have changed since police.uk" not in html, surface
