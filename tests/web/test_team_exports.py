"""The vCard and the iCalendar files: valid line structure, escaping that round-trips, and sample data marked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from finder import create_app
from finder.teams.directory import Meeting, Provenance, Team
from finder.teams.exports import calendar, escape_text, fold_content_line
from tests.store.teamdata import (
    HOSTILE_BIO,
    HOSTILE_NAME,
    HOSTILE_TEAM,
    HOSTILE_TITLE,
    HOSTILE_WARD,
    NO_TEAM_WARD,
    SAMPLE_WARD,
    team_lookup,
    team_store,
)

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def teams_lookup(geodata):
    return team_lookup(geodata, team_store())


@pytest.fixture()
def client(teams_lookup):
    app = create_app({"ENV_NAME": "testing"}, lookup=teams_lookup)
    return app.test_client()


def content_lines(text: str) -> list[str]:
    """Check the line structure (CRLF, at most 75 octets, folds) and return the unfolded content lines."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical), "a line is longer than 75 octets"
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def properties(text: str) -> list[tuple[str, str, str]]:
    """(name, parameters, unescaped value) for every content line."""
    out = []
    for line in content_lines(text):
        head, value = line.split(":", 1)
        name, _, params = head.partition(";")
        out.append((name, params, unescape(value)))
    return out


def values(text: str, name: str) -> list[str]:
    return [value for n, _, value in properties(text) if n == name]


def test_the_team_vcard_downloads_as_a_contact_marked_as_sample_data(client):
    response = client.get(f"/wards/{SAMPLE_WARD}/team.vcf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/vcard; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SAMPLE_WARD}-police-team-sample.vcf"'
    card = response.get_data(as_text=True)
    props = properties(card)
    assert [p[0] for p in props[:3]] == ["BEGIN", "VERSION", "PRODID"] and props[1][2] == "3.0"
    assert props[-1] == ("END", "", "VCARD")
    assert values(card, "FN") == ["SAMPLE (fictional) - St James's sample team"]
    assert values(card, "ORG") == ["Metropolitan Police Service;St James's sample team"]
    assert values(card, "EMAIL") == ["stjames.sample@example.org"]
    assert [(p, v) for n, p, v in props if n == "TEL"] == [
        ("TYPE=WORK,VOICE", "020 7946 0123"),
        ("TYPE=WORK,CELL", "07700 900123"),
    ]
    assert "http://localhost/wards/E05013806" in values(card, "URL")
    [note] = values(card, "NOTE")
    assert note.startswith("SAMPLE DATA - FICTIONAL: these people, contact details and meetings are made up")
    assert "Team: Sergeant Amara Quill; PC Tomasz Ferrow (Police constable);" in note
    assert "Email (stjames.sample@example.org): Read Monday to Friday, 9am to 5pm" in note
    assert values(card, "X-FINDER-SAMPLE") == ["TRUE"]


def test_a_meeting_downloads_as_one_event_in_utc_marked_as_sample_data(client, teams_lookup):
    team = teams_lookup.teams.team(SAMPLE_WARD)
    panel = next(m for m in team.meetings if m.kind == "ward_panel")
    response = client.get(f"/wards/{SAMPLE_WARD}/meetings/{panel.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    ics = response.get_data(as_text=True)
    assert values(ics, "BEGIN") == ["VCALENDAR", "VEVENT"] and values(ics, "VERSION") == ["2.0"]
    start = panel.start.replace(tzinfo=LONDON).astimezone(UTC)
    assert values(ics, "DTSTART") == [start.strftime("%Y%m%dT%H%M%SZ")]
    assert len(values(ics, "DTEND")) == 1 and len(values(ics, "DTSTAMP")) == 1
    assert values(ics, "SUMMARY") == ["SAMPLE (fictional): St James's ward panel (sample)"]
    assert values(ics, "LOCATION") == ["Sample Community Hall, 1 Example Street, London"]
    assert values(ics, "DESCRIPTION")[0].startswith("SAMPLE DATA - FICTIONAL")
    assert values(ics, "X-FINDER-SAMPLE") == ["TRUE"]
    [uid] = values(ics, "UID")
    again = client.get(f"/wards/{SAMPLE_WARD}/meetings/{panel.id}.ics").get_data(as_text=True)
    assert values(again, "UID") == [uid] and uid.endswith(f".{SAMPLE_WARD}@finder")


def test_the_ward_calendar_feed_lists_every_meeting_and_names_itself(client):
    response = client.get(f"/wards/{SAMPLE_WARD}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline;")
    ics = response.get_data(as_text=True)
    assert values(ics, "X-WR-CALNAME") == ["SAMPLE (fictional) - St James's police team meetings"]
    assert values(ics, "REFRESH-INTERVAL") == ["PT6H"]
    assert values(ics, "BEGIN").count("VEVENT") == 3 == values(ics, "END").count("VEVENT")
    assert len(set(values(ics, "UID"))) == 3


def test_exports_for_a_ward_without_a_team_are_404_with_a_reason(client):
    for path in (f"/wards/{NO_TEAM_WARD}/team.vcf", f"/wards/{NO_TEAM_WARD}/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 404
        assert "We have no neighbourhood team details for West End to export" in response.get_data(as_text=True)
    assert client.get(f"/wards/{SAMPLE_WARD}/meetings/999999.ics").status_code == 404
    assert client.get("/wards/E05999999/team.vcf").status_code == 404


def test_a_meeting_of_another_ward_is_not_served_under_this_one(client, teams_lookup):
    other = teams_lookup.teams.team("E05009290").meetings[0]
    assert client.get(f"/wards/{SAMPLE_WARD}/meetings/{other.id}.ics").status_code == 404


def test_hostile_text_round_trips_through_the_vcard_as_text_and_adds_no_properties(client):
    card = client.get(f"/wards/{HOSTILE_WARD}/team.vcf").get_data(as_text=True)
    names = [name for name, _, _ in properties(card)]
    assert names.count("BEGIN") == 1 and names.count("END") == 1
    assert "X-FINDER-SAMPLE" not in names
    [org] = values(card, "ORG")
    assert org == f"Metropolitan Police Service;{HOSTILE_TEAM}"
    [note] = values(card, "NOTE")
    assert HOSTILE_NAME in note
    assert all("javascript:" not in v for v in values(card, "URL"))
    assert values(card, "EMAIL") == ["bromley.test@example.org"]  # the malformed address is left out


def test_hostile_text_round_trips_through_the_ics_and_cannot_inject_properties(client):
    ics = client.get(f"/wards/{HOSTILE_WARD}/calendar.ics").get_data(as_text=True)
    names = [name for name, _, _ in properties(ics)]
    assert "ATTENDEE" not in names
    assert values(ics, "SUMMARY") == [HOSTILE_TITLE.replace("\r\n", "\n")]
    description = values(ics, "DESCRIPTION")[0]
    assert HOSTILE_BIO in description
    assert names.count("BEGIN") == 2 and names.count("END") == 2


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("a;b,c\\d", "a\\;b\\,c\\\\d"),
        ("line\r\nbreak\nand\rmore", "line\\nbreak\\nand\\nmore"),
        ("tab\tand\x00nul\x1b", "tab\tandnul"),  # HTAB is allowed text; other controls go
    ],
)
def test_text_values_are_escaped_as_rfc_5545_and_6350_say(text, escaped):
    assert escape_text(text) == escaped


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "Café — ward panel 🚓 " * 12
    folded = fold_content_line(line)
    physical = folded.split("\r\n")[:-1]
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert "".join(p[1:] if i else p for i, p in enumerate(physical)) == line
    assert fold_content_line("SHORT:x") == "SHORT:x\r\n"


def test_the_confirmation_words_say_who_confirmed_it_and_when():
    from finder.teams.directory import Provenance
    from finder.teams.views import confirmed

    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert confirmed(Provenance("policeuk", now), now) == "From police.uk, synced today"
    assert (
        confirmed(Provenance("policeuk", datetime(2026, 11, 20, tzinfo=UTC)), now) == "From police.uk, synced yesterday"
    )
    assert confirmed(Provenance("policeuk", datetime(2026, 11, 1, tzinfo=UTC)), now).endswith("2 weeks ago")
    synced = Provenance("policeuk", datetime(2026, 11, 20, 9, tzinfo=UTC))
    assert confirmed(synced, now, dated=True) == "From police.uk, synced on 20 November 2026"  # a poster: a date
    old = Provenance("policeuk", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 3, tzinfo=UTC))
    assert confirmed(old, now) == "Confirmed by the team on 3 July 2026"  # a date, not "4 months ago"
    unsynced = Provenance("policeuk", datetime(2026, 7, 3, tzinfo=UTC))  # not yet stale, not a recent sync
    assert confirmed(unsynced, now) == "As published on police.uk in July 2026"
    stale = Provenance("policeuk", datetime(2023, 3, 6, tzinfo=UTC), stale=True)
    assert confirmed(stale, now) == "As published on police.uk in March 2023: it may have changed since"
    assert confirmed(Provenance("sample", now), now) == "Sample data — fictional"


HOSTILE_KEYS = ["abc\r\nATTENDEE:mailto:x@evil.example", "a;b,c\\d:e", "with space\tand tab", "ünï\x00code", "a" * 40]


def test_a_meeting_key_from_a_source_cannot_break_or_inject_into_the_ics_uid():
    seen = Provenance("policeuk", datetime(2026, 11, 1, tzinfo=UTC))
    meetings = [
        Meeting(
            id=n,
            key=key,
            title="Ward panel",
            kind="ward_panel",
            start=datetime(2026, 12, 1, 18),
            end=None,
            place=None,
            description=None,
            provenance=seen,
        )
        for n, key in enumerate(HOSTILE_KEYS, 1)
    ]
    team = Team(
        ward_code="E05013806",
        force_id="metropolitan",
        policeuk_id="E05013806N",
        name="St James's",
        description=None,
        url=None,
        provenance=seen,
        meetings=tuple(meetings),
    )
    ics = calendar(
        team, meetings, ward_code="E05013806", ward_name="St James's", page_url="https://x.example/", feed=True
    )
    names = [name for name, _, _ in properties(ics)]  # parses: CRLF lines, folds, NAME:VALUE
    assert "ATTENDEE" not in names and names.count("BEGIN") == 1 + len(HOSTILE_KEYS)
    uids = values(ics, "UID")
    assert len(set(uids)) == len(HOSTILE_KEYS)
    assert all(re.fullmatch(r"[A-Za-z0-9%._~-]+\.E05013806@finder", uid) for uid in uids), uids
    assert [unquote(uid.removesuffix(".E05013806@finder")) for uid in uids] == HOSTILE_KEYS
