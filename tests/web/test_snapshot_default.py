"""The default install: `finder init-db` on an empty store seeds the Met wards' teams from the dated police.uk
snapshot (the real file in ../shared/data-raw), nothing fictional, and a resident's ward page shows its own mailbox
with where and when it comes from."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from finder import create_app
from finder.config import default_raw_data
from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store import models as m
from finder.teams.directory import TeamDirectory

SOURCED = (m.Force, m.Team, m.Officer, m.ContactRoute, m.Meeting, m.Priority, m.Place)


def cli_app(database: str):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": database})


@pytest.fixture(scope="module")
def default_store(tmp_path_factory) -> Store:
    """A store made as ./scripts/setup makes it: `finder init-db` on nothing, with the raw data beside."""
    url = f"sqlite:///{tmp_path_factory.mktemp('default') / 'finder.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINDER_RAW_DATA", str(default_raw_data()))
        result = cli_app(url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "snapshot: 679 Met ward teams from police.uk as published in March 2023" in result.output
    return Store(url)


def test_init_db_on_an_empty_store_gives_every_met_ward_its_team_and_nothing_fictional(default_store, geodata):
    with default_store.reader() as session:
        emails = select(m.Team.ward_code).join(m.ContactRoute).where(m.ContactRoute.kind == "email")
        wards = set(session.scalars(emails))
        sources = {source for model in SOURCED for source in session.scalars(select(model.source).distinct())}
    assert wards == {ward.code for ward in geodata.wards.wards if ward.force_id == "metropolitan"}
    assert len(wards) == 679
    assert "sample" not in sources and sources == {"policeuk"}


def test_init_db_again_leaves_a_store_that_has_teams_as_it_is(default_store):
    with default_store.reader() as session:
        before = session.scalar(select(func.count()).select_from(m.ContactRoute))
    result = cli_app(default_store.url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "snapshot" not in result.output
    with default_store.reader() as session:
        assert session.scalar(select(func.count()).select_from(m.ContactRoute)) == before


def test_without_the_raw_files_init_db_works_as_before_and_says_where_teams_come_from(tmp_path, monkeypatch):
    monkeypatch.setenv("FINDER_RAW_DATA", str(tmp_path / "no-raw-data"))
    url = f"sqlite:///{tmp_path / 'finder.db'}"
    result = cli_app(url).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "teams come from sync-policeuk on a connected machine" in result.output
    with Store(url).reader() as session:
        assert session.scalar(select(func.count()).select_from(m.Team)) == 0


def test_load_snapshot_without_the_file_fails_saying_which_file(tmp_path):
    result = (
        cli_app(f"sqlite:///{tmp_path / 'finder.db'}")
        .test_cli_runner()
        .invoke(args=["load-snapshot", "--raw", str(tmp_path)])
    )
    assert result.exit_code == 1
    assert "metropolitan_neighbourhoods_2023-03.json" in result.output


@pytest.fixture(scope="module")
def resident(default_store, geodata):
    lookup = Lookup(geodata, load_forces(), teams=TeamDirectory(default_store, geodata.wards))
    return create_app({"ENV_NAME": "testing"}, lookup=lookup).test_client()


@pytest.mark.parametrize(
    "postcode, mailbox",
    [("SW1A 1AA", "AWMailbox.SNTCWStJamesWard@met.police.uk"), ("NW1 0AE", "SNTEK-CamdenTown@met.police.uk")],
)
def test_a_residents_ward_page_shows_its_own_mailbox_as_published_on_police_uk_in_march_2023(
    resident, postcode, mailbox
):
    html = resident.get("/search", query_string={"postcode": postcode}).get_data(as_text=True)
    routes = html[html.index("data-team-routes") :]
    item = unescape(re.sub(r"<[^>]+>", " ", routes[routes.index(f'href="mailto:{mailbox}"') : routes.index("</li>")]))
    assert mailbox in item
    assert "As published on police.uk in March 2023" in " ".join(item.split())
    assert "We hold no direct contact details" not in html
