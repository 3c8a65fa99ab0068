"""The coverage score: six parts a resident needs, each shown, for all 704 wards from a few queries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from finder.coverage.service import MAXIMUM, PART_KEYS, WardCoverage, borough_rollups, ward_coverage, worst_first
from finder.staff.editing import Editing
from finder.teams.directory import LONDON
from finder.teams.records import MeetingData, OfficerData, PriorityData, RouteData, TeamData, apply_team
from finder.teams.snapshot import PUBLISHED_AT
from tests.store import backends
from tests.store.teamdata import FORCE_NAMES
from tests.support.staff import make_user

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
LOCAL = NOW.astimezone(LONDON).replace(tzinfo=None)
ST_JAMESS, WEST_END, BELSIZE = "E05013806", "E05013808", "E05013652"


def complete_team(ward: str = ST_JAMESS, **changes) -> TeamData:
    """A team with everything a resident needs."""
    team = TeamData(
        force_id="metropolitan",
        force_name=FORCE_NAMES["metropolitan"],
        name="St James's team",
        ward_code=ward,
        routes=[RouteData("phone", "Phone", "020 7946 0000"), RouteData("email", "Email", "sj@met.police.uk")],
        officers=[OfficerData("Jo Bloggs", "PC", "police_constable")],
        meetings=[MeetingData("Ward panel", "ward_panel", LOCAL + timedelta(days=30))],
        priorities=[PriorityData("Bike theft", issue_date=date(2025, 4, 1))],
    )
    return replace(team, **changes)


def save(store, team: TeamData, when: datetime = NOW, source: str = "officer") -> None:
    with store.session() as session:
        apply_team(session, team, source=source, now=when)


def ward(report, code: str) -> WardCoverage:
    return next(w for w in report.wards if w.code == code)


def test_a_ward_with_everything_a_resident_needs_scores_six_with_every_part_shown(store, geodata):
    save(store, complete_team())
    found = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert found.score == MAXIMUM == 6
    assert found.has == dict.fromkeys(PART_KEYS, True)
    assert found.missing == [] and found.team_name == "St James's team"


def test_every_ward_is_scored_and_a_ward_without_a_team_has_none_of_the_parts(store, geodata):
    save(store, complete_team())
    report = ward_coverage(store, geodata.wards, NOW)
    assert len(report.wards) == 704
    west_end = ward(report, WEST_END)
    assert west_end.score == 0 and west_end.team_name is None
    assert west_end.missing[0] == "A named team" and len(west_end.missing) == 6


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"routes": [RouteData("email", "Email", "sj@met.police.uk")]}, "phone"),
        (
            {"routes": [RouteData("phone", "Phone", "ring the station"), RouteData("email", "E", "sj@met.police.uk")]},
            "phone",
        ),
        ({"routes": [RouteData("phone", "Phone", "020 7946 0000")]}, "email"),
        (
            {"routes": [RouteData("phone", "Phone", "020 7946 0000"), RouteData("email", "Email", "not an address")]},
            "email",
        ),
        ({"meetings": [MeetingData("Ward panel", "ward_panel", LOCAL + timedelta(days=100))]}, "meeting"),
        ({"meetings": [MeetingData("Ward panel", "ward_panel", LOCAL - timedelta(days=3))]}, "meeting"),
        ({"meetings": []}, "meeting"),
        ({"priorities": [PriorityData("Bike theft", issue_date=date(2023, 4, 1))]}, "priorities"),
        ({"priorities": []}, "priorities"),
    ],
)
def test_each_part_is_missing_on_its_own_when_the_team_lacks_it(store, geodata, change, missing):
    save(store, complete_team(**change))
    found = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert found.score == 5
    assert [key for key, present in found.has.items() if not present] == [missing]


def test_an_officers_own_phone_is_not_the_teams_phone(store, geodata):
    officer = OfficerData("Jo Bloggs", "PC", "police_constable", routes=[RouteData("phone", "Mobile", "07700 900000")])
    save(store, complete_team(routes=[RouteData("email", "Email", "sj@met.police.uk")], officers=[officer]))
    assert ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS).has["phone"] is False


def test_details_last_confirmed_over_90_days_ago_lose_the_confirmed_part_until_confirmed_again(store, geodata):
    save(
        store,
        complete_team(meetings=[MeetingData("Panel", "ward_panel", LOCAL + timedelta(days=30))]),
        NOW - timedelta(days=91),
    )
    found = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert found.has["confirmed"] is False and found.score == 5
    assert found.confirmed_at == NOW - timedelta(days=91)
    assert ward(ward_coverage(store, geodata.wards, NOW - timedelta(days=2)), ST_JAMESS).has["confirmed"] is True


def test_sample_teams_are_scored_as_shown_and_marked_as_sample(store, geodata):
    save(store, complete_team(), source="sample")
    found = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert found.sample is True and found.score == 6


def test_the_whole_store_is_read_in_six_queries_however_many_teams_it_holds(store, geodata):
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    codes = [w.code for w in geodata.wards.wards[:40]]
    for code in codes[:2]:
        save(store, complete_team(code))
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        ward_coverage(store, geodata.wards, NOW)
        few = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        for code in codes[2:]:
            save(store, complete_team(code))
        statements.clear()
        report = ward_coverage(store, geodata.wards, NOW)
        many = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(few) == len(many) == 6
    assert sum(w.score == 6 for w in report.wards) == 40


def test_worst_covered_wards_come_first_and_among_equals_the_most_looked_up(geodata):
    def made(code: str, score: int) -> WardCoverage:
        w = geodata.wards.by_code[code]
        return WardCoverage(code, w.name, w.borough_code, w.borough_name, (True,) * score + (False,) * (6 - score))

    wards = [made(ST_JAMESS, 6), made(WEST_END, 2), made(BELSIZE, 2)]
    assert [w.code for w in worst_first(wards)] == [BELSIZE, WEST_END, ST_JAMESS]  # Camden before Westminster
    assert [w.code for w in worst_first(wards, {WEST_END: 50, BELSIZE: 3})] == [WEST_END, BELSIZE, ST_JAMESS]


def test_borough_rollups_count_wards_parts_and_complete_wards_lowest_mean_first(store, geodata):
    save(store, complete_team())
    report = ward_coverage(store, geodata.wards, NOW)
    westminster = next(b for b in report.boroughs if b.name == "Westminster")
    assert westminster.wards == 18 and westminster.total == 6 and westminster.complete == 1
    assert westminster.with_part == (1, 1, 1, 1, 1, 1)
    assert report.boroughs[-1] == westminster  # the only borough with any cover
    assert sum(b.wards for b in borough_rollups(report.wards)) == 704


def test_a_confirmed_email_scores_its_part_and_the_snapshots_unconfirmed_one_does_not(store, geodata):
    snapshot_team = complete_team(
        routes=[RouteData("phone", "Phone", "020 7946 0000"), RouteData("email", "E", "x@y.z")]
    )
    save(store, snapshot_team, PUBLISHED_AT, source="policeuk")  # as the police.uk snapshot of March 2023 stores it
    before = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert [key for key, present in before.has.items() if not present] == ["phone", "email", "confirmed"]
    editing = Editing(store, lambda code: "E09000033")
    editor = make_user(store, "ed@met.police.uk", wards=[ST_JAMESS])
    email = next(r for r in editing.editable(ST_JAMESS).routes if r.values["kind"] == "email")
    editing.confirm_value(editor, ST_JAMESS, "route", email.id, email.version)  # "Still correct" on the email alone
    after = ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS)
    assert after.has["email"] and not after.has["phone"] and after.score == before.score + 1
    save(store, snapshot_team, NOW - timedelta(days=400), source="policeuk")  # police.uk published it again, long ago
    assert ward(ward_coverage(store, geodata.wards, NOW), ST_JAMESS).has["phone"]
