"""The fictional sample teams: loaded on both backends, reloaded idempotently, never over real data, never reachable."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select

from finder import create_app
from finder.store.models import ContactRoute, Meeting, Place, Team
from finder.teams.records import TeamData, apply_team
from finder.teams.samples import SAMPLE_FILE, load_sample_teams, remove_sample_teams
from tests.store.teamdata import FORCE_NAMES
from tests.support.stores import sqlite_url

DRAMA_NUMBERS = re.compile(r"^(020 7946 0\d{3}|07700 900\d{3})$")  # Ofcom's ranges reserved for drama


def test_every_sample_contact_detail_is_one_that_reaches_nobody():
    data = json.loads(SAMPLE_FILE.read_text("utf-8"))
    wards = [t["ward_code"] for t in data["teams"]]
    assert {"E05013806", "E05009290"} <= set(wards)  # St James's (SW1A 1AA) and Bassishaw (EC2V 7HH)
    for team in data["teams"]:
        urls = [team.get("url")] + [r["value"] for r in team["routes"] if r["kind"] in ("web", "online_form", "social")]
        for url in filter(None, urls):
            host = urlsplit(url).hostname
            assert host in ("example.org", "example.com") or host.endswith((".example.org", ".example.com")), url
        for route in team["routes"]:
            if route["kind"] == "email":
                assert route["value"].endswith("@example.org"), route
            if route["kind"] in ("phone", "mobile", "textphone"):
                assert DRAMA_NUMBERS.match(route["value"]), route
        for place in team["places"]:
            assert "(fictional)" in place["name"]


def test_loading_the_samples_twice_gives_the_same_store(store):
    first = load_sample_teams(store, FORCE_NAMES, today=datetime(2026, 11, 21))
    again = load_sample_teams(store, FORCE_NAMES, today=datetime(2026, 11, 21))
    assert len(first.loaded) == 4 and first.changes > 0
    assert again.changes == 0 and not again.skipped
    with store.reader() as session:
        assert set(session.scalars(select(Team.source))) == {"sample"}
        assert session.scalar(select(func.count()).select_from(Meeting)) == 6
        assert session.scalar(select(func.min(Meeting.start))) == datetime(2026, 11, 24, 11, 0)


def test_the_samples_never_replace_a_real_team(store):
    real = TeamData("metropolitan", FORCE_NAMES["metropolitan"], "St James's", "E05013806", "E05013806N")
    with store.session() as session:
        apply_team(session, real, source="policeuk", now=datetime.now().astimezone())
    report = load_sample_teams(store, FORCE_NAMES)
    assert report.skipped == ["E05013806: already has a team from policeuk; left alone"]
    with store.reader() as session:
        team = session.scalar(select(Team).where(Team.ward_code == "E05013806"))
        assert (team.source, team.name, team.routes) == ("policeuk", "St James's", [])


def test_removing_the_samples_leaves_real_teams_alone(store):
    real = TeamData("metropolitan", FORCE_NAMES["metropolitan"], "West End", "E05013808", "00BKX6")
    with store.session() as session:
        apply_team(session, real, source="policeuk", now=datetime.now().astimezone())
    load_sample_teams(store, FORCE_NAMES)
    assert remove_sample_teams(store) == 4
    with store.reader() as session:
        assert list(session.scalars(select(Team.name))) == ["West End"]
        assert session.scalar(select(func.count()).select_from(Place)) == 0
        assert session.scalar(select(func.count()).select_from(ContactRoute)) == 0


def test_the_load_sample_teams_command_says_what_it_loaded_and_that_it_is_fictional(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": sqlite_url(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-sample-teams"])
    assert result.exit_code == 0, result.output
    assert "sample team: E05013806 St James's sample team" in result.output
    assert "sample teams: 4 loaded" in result.output and "all are fictional" in result.output
    removed = runner.invoke(args=["load-sample-teams", "--remove"])
    assert removed.exit_code == 0 and "sample teams: removed 4" in removed.output
