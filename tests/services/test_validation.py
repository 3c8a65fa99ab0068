"""What editors type: one message per field a person can act on, values cleaned for the store."""

from __future__ import annotations

from datetime import datetime

from finder.store import models as m
from finder.teams.validation import (
    check_email,
    check_https,
    check_meeting,
    check_officer,
    check_priority,
    check_route,
    check_team,
    format_phone,
    limit,
    only_changed,
    parse_phone,
    phone_kind,
)

MET = ("met.police.uk",)
NOW = datetime(2026, 3, 1, 12, 0)


def test_uk_phone_numbers_are_stored_in_e164_and_shown_in_national_format():
    assert parse_phone("020 7946 0999") == "+442079460999"
    assert parse_phone("+44 (0)20 7946-0999") == "+442079460999"
    assert parse_phone("07912 345678") == "+447912345678"
    assert format_phone("+442079460999") == "020 7946 0999"
    assert parse_phone("12345") is None and parse_phone("call us") is None
    assert format_phone("not a number") == "not a number"


def test_a_phone_route_that_is_not_a_uk_number_says_how_to_write_one():
    checked = check_route({"kind": "phone", "label": "Phone", "value": "555-CALL"}, email_domains=MET)
    assert checked.errors == {"value": "Enter a UK phone number, like 020 7946 0999"}


def test_team_emails_must_be_on_the_forces_domains_and_well_formed():
    assert check_email("Team.Westminster@MET.police.uk", MET) == ("Team.Westminster@met.police.uk", None)
    assert check_email("a@sub.met.police.uk", MET)[1] is None
    assert check_email("a@evilmet.police.uk", MET) == (None, "Enter an email address ending @met.police.uk")
    assert check_email("not an email", MET)[1] == (
        "Enter an email address in the correct format, like name@met.police.uk"
    )
    assert check_email("a@example.org", None)[1] is None  # no limit given: any well-formed address


def test_links_must_be_full_https_addresses():
    assert check_https("https://www.met.police.uk/a/your-area/")[1] is None
    for bad in ("http://example.org", "javascript:alert(1)", "https://", "www.met.police.uk", "https://x y.org"):
        assert check_https(bad) == (
            None,
            "Enter a full web address starting with https://, like https://www.met.police.uk/",
        )


def test_required_fields_and_fixed_choices_each_get_their_own_message():
    assert check_route({}, email_domains=MET).errors == {
        "kind": "Select the kind of contact",
        "label": "Enter a label, like Team email",
        "value": "Enter the contact detail",
    }
    assert check_officer({"name": " ", "role": "chief"}).errors == {
        "name": "Enter the officer's name",
        "role": "Select the officer's role",
    }


def test_lengths_follow_the_stores_columns():
    too_long = "x" * (limit(m.Officer, "name") + 1)
    assert check_officer({"name": too_long, "role": "pcso"}).errors == {
        "name": "The officer's name must be 200 characters or fewer"
    }
    assert check_officer({"name": "Jo", "role": "pcso", "bio": "b" * 2001}).errors == {
        "bio": "The short bio must be 2000 characters or fewer"
    }


def test_hostile_text_is_kept_as_typed_but_control_characters_and_line_breaks_in_names_are_refused():
    hostile = "{{ 7*7 }}</script><b onclick=\"x\">'Jo'</b>"
    checked = check_officer({"name": hostile, "role": "pcso", "bio": "line one\r\nline two"})
    assert checked.ok and checked.values["name"] == hostile and checked.values["bio"] == "line one\nline two"
    assert check_officer({"name": "Jo\x00", "role": "pcso"}).errors == {
        "name": "Remove the hidden control characters from the officer's name"
    }
    assert check_officer({"name": "Jo\nBloggs", "role": "pcso"}).errors == {
        "name": "The officer's name must be on one line"
    }


def test_a_new_meeting_is_in_the_future_and_ends_after_it_starts():
    form = {"title": "Ward panel", "kind": "ward_panel", "start": "2026-02-01 18:00"}
    assert check_meeting(form, now=NOW, new=True).errors == {"start": "The start must be in the future"}
    assert check_meeting(form, now=NOW, new=False).ok  # an existing past meeting may be corrected
    form = {**form, "start": "2026-04-01T18:00", "end": "2026-04-01T17:00"}
    assert check_meeting(form, now=NOW, new=True).errors == {"end": "The end must be after the start"}
    assert check_meeting({**form, "start": "1 April"}, now=NOW, new=True).errors == {
        "start": "The date and time it starts must be a real date and time, like 2026-03-27 18:30"
    }
    good = check_meeting({**form, "end": "2026-04-01T19:30"}, now=NOW, new=True)
    assert good.values["start"] == datetime(2026, 4, 1, 18, 0) and good.values["end"] == datetime(2026, 4, 1, 19, 30)


def test_a_meeting_starts_and_ends_within_a_year_back_and_two_years_ahead_and_the_message_names_them():
    window = "between 1 March 2025 and 29 February 2028: from a year ago to two years ahead"
    form = {"title": "Ward panel", "kind": "ward_panel", "start": "9999-12-31 23:30"}
    assert check_meeting(form, now=NOW, new=True).errors == {"start": f"The start must be {window}"}
    assert check_meeting({**form, "start": "2025-02-28 18:00"}, now=NOW, new=False).errors == {
        "start": f"The start must be {window}"
    }
    late_end = {**form, "start": "2028-02-28 18:00", "end": "9999-12-31 23:59"}
    assert check_meeting(late_end, now=NOW, new=True).errors == {"end": f"The end must be {window}"}
    assert check_meeting({**form, "start": "2028-02-29 12:00"}, now=NOW, new=True).ok  # the last day it may be
    assert check_meeting({**form, "start": "2025-03-01 12:00"}, now=NOW, new=False).ok  # the first


def test_priorities_and_teams_check_their_dates_numbers_and_links():
    assert check_priority({"issue": "Bikes", "issue_date": "2026-13-01", "display_order": "first"}).errors == {
        "issue_date": "The date it was set must be a real date, like 2026-03-27",
        "display_order": "The order must be a whole number, like 1",
    }
    assert check_team({"name": "Team", "url_force": "http://met.police.uk"}).errors == {
        "url_force": "Enter a full web address starting with https://, like https://www.met.police.uk/"
    }


def test_ofcoms_drama_mobiles_pass_as_mobiles_so_the_forms_own_example_can_be_typed():
    assert parse_phone("07700 900123") == "+447700900123" and format_phone("+447700900123") == "07700 900123"
    assert phone_kind("+447700900123") == "mobile" and phone_kind("+442079460999") == "phone"
    assert parse_phone("07700 901123") is None  # next to the drama range: unallocated, refused


def test_each_phone_kinds_message_gives_an_example_of_its_own_kind():
    def message(kind: str) -> str:
        return check_route({"kind": kind, "label": "x", "value": "555-CALL"}, email_domains=MET).errors["value"]

    assert message("mobile") == "Enter a UK mobile number, like 07700 900123"
    assert message("phone") == "Enter a UK phone number, like 020 7946 0999"
    assert parse_phone("07700 900123") and phone_kind("07700 900123") == "mobile"  # the example itself passes
    assert phone_kind("020 7946 0999") == "phone"


def test_a_stored_value_the_check_now_refuses_blocks_only_a_change_to_itself_or_what_it_depends_on():
    stored = {"kind": "phone", "label": "Non-emergency", "value": "101", "hours": "", "display_order": "0"}

    def checked(**typed: str):
        form = {**stored, **typed}
        return only_changed("route", check_route(form, email_domains=MET), form, stored)

    hours_only = checked(hours="Any time")
    assert hours_only.ok and hours_only.values["hours"] == "Any time" and "value" not in hours_only.values
    assert checked(value="102").errors == {"value": "Enter a UK phone number, like 020 7946 0999"}
    assert checked(kind="mobile").errors == {"value": "Enter a UK mobile number, like 07700 900123"}
    assert checked(hours="Any time", label="").errors == {"label": "Enter a label, like Team email"}
