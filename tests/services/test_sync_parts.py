"""The sync's parts alone: rate limiter, Retry-After, reading police.uk fields, cleaning HTML, matching wards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest

from finder.teams import policeuk_answers as policeuk
from finder.teams.directory import safe_href
from finder.teams.policeuk_client import ClientStats, TokenBucket, retry_after
from finder.teams.sync import SHRINK_MIN_ITEMS, SHRINK_THRESHOLD, Sync, SyncReport, WardMatcher, shrinks_too_much
from finder.text import one_line, plain_text
from tests.services.syncdata import FORCE_NAMES


class FakeClock:
    """Time that only moves when the bucket sleeps: the limiter's arithmetic, without waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_token_bucket_allows_a_burst_then_one_request_per_interval():
    clock = FakeClock()
    bucket = TokenBucket(15, 20, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(50)]
    assert waits[:20] == [0.0] * 20
    assert all(w == pytest.approx(1 / 15) for w in waits[20:])
    assert clock.now - 100.0 == pytest.approx(30 / 15)


def test_a_pause_holds_every_caller_back_and_restarts_with_an_empty_bucket():
    clock = FakeClock()
    bucket = TokenBucket(15, 20, clock=clock, sleep=clock.sleep)
    bucket.pause(2.0)
    assert bucket.acquire() == pytest.approx(2.0)
    assert bucket.acquire() == pytest.approx(1 / 15)


def test_the_token_bucket_refuses_nonsense_settings():
    with pytest.raises(ValueError):
        TokenBucket(0, 10)
    with pytest.raises(ValueError):
        TokenBucket(15, 0)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after(format_datetime(later, usegmt=True)) <= 30


def test_the_busiest_second_counts_requests_in_any_one_second_window():
    stats = ClientStats()
    stats.times.extend([0.0, 0.1, 0.2, 0.95, 1.5, 1.6, 3.0])
    assert stats.busiest_second() == 4  # 0.0, 0.1, 0.2, 0.95
    assert stats.mean_rate() == pytest.approx(6 / 3.0)


@pytest.mark.parametrize(
    "rank, role",
    [
        ("Sgt", "sergeant"),
        ("Sergeant", "sergeant"),
        ("Police Sergeant", "sergeant"),
        ("A/Sgt", "sergeant"),
        ("PC", "police_constable"),
        ("Police Constable", "police_constable"),
        ("Dedicated Ward Officer", "police_constable"),
        ("PCSO", "pcso"),
        ("Police Community Support Officer", "pcso"),
        ("Special Constable", "special_constable"),
        ("Special Sergeant", "special_constable"),
        ("SC", "special_constable"),
        ("Inspector", "other"),
        ("Chief Constable", "other"),
        ("Assistant Chief Officer (Crime)", "other"),
        (None, "other"),
        ("", "other"),
    ],
)
def test_a_rank_as_police_uk_gives_it_maps_to_one_of_five_roles(rank, role):
    assert policeuk.role_for_rank(rank) == role


@pytest.mark.parametrize(
    "kind, title, expected",
    [
        ("meeting", "St James's ward panel", "ward_panel"),
        (None, "Street surgery", "contact_session"),
        ("other", "Cuppa with a copper", "contact_session"),
        ("meeting", "Residents' association", "meeting"),
        (None, "Bike marking", "other"),
    ],
)
def test_an_event_is_classed_as_ward_panel_contact_session_meeting_or_other(kind, title, expected):
    assert policeuk.meeting_kind(kind, title) == expected


def test_contact_details_become_typed_routes_and_bad_values_are_dropped():
    routes = policeuk.contact_routes(
        {
            "email": "team@example.org",
            "telephone": "020 7946 0001",
            "mobile": "not a number",
            "fax": "020 7946 0002",
            "address": "1 Example Road",
            "web": "javascript:alert(1)",
            "twitter": "https://x.example.com/team",
            "facebook": None,
            "youtube": "",
            "e-messaging": "https://example.org/contact",
            "blog": "//example.org/no-scheme",
            "flickr": "data:text/html,<script>alert(1)</script>",
            "google-plus": "https://plus.example.com/team",
        }
    )
    assert [(r.kind, r.label, r.value) for r in routes] == [
        ("email", "Email", "team@example.org"),
        ("phone", "Phone", "020 7946 0001"),
        ("social", "X (Twitter)", "https://x.example.com/team"),
        ("online_form", "Online messaging", "https://example.org/contact"),
        ("social", "Google+", "https://plus.example.com/team"),
    ]
    assert policeuk.contact_routes(None) == [] and policeuk.contact_routes([]) == []


@pytest.mark.parametrize(
    "value, expected",
    [("51.5851", 51.5851), (" -0.1388 ", -0.1388), (51.5, 51.5), ("", None), (None, None), ("abc", None)],
)
def test_coordinates_come_as_strings_and_junk_becomes_none(value, expected):
    assert policeuk.parse_float(value) == expected


def test_dates_are_read_as_london_local_time():
    assert policeuk.parse_datetime("2011-11-02T10:00:00") == datetime(2011, 11, 2, 10, 0)
    assert policeuk.parse_datetime("2026-07-01T09:00:00Z") == datetime(2026, 7, 1, 10, 0)  # BST
    assert policeuk.parse_datetime("tomorrow") is None and policeuk.parse_datetime(None) is None
    assert policeuk.parse_date("2018-09-20T00:00:00") == date(2018, 9, 20)


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("Line<br>break<br/>again", "Line\nbreak\nagain"),
        ("<script>alert(1)</script>Safe", "Safe"),
        ("<style>p{}</style><b>Bold</b> &amp; <i>more</i>", "Bold & more"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<img src=x onerror="alert(1)">', None),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),  # text, escaped where shown
        ("<!-- hidden -->Visible", "Visible"),
        ("  spaced \t out  \n\n\n\n  text ", "spaced out\n\ntext"),
        ("", None),
        (None, None),
    ],
)
def test_html_from_police_uk_becomes_plain_text(html, text):
    assert plain_text(html) == text


def test_names_and_titles_are_one_line_of_plain_text():
    assert one_line("<b>Sam</b>\n Sampleton") == "Sam Sampleton"
    assert one_line("x" * 300, limit=10) == "xxxxxxxxx…"


def test_a_neighbourhood_matches_its_ward_by_code_with_or_without_an_n_then_by_name(geodata):
    matcher = WardMatcher(geodata.wards.wards)
    assert matcher.match("metropolitan", "E05013806N", "anything") == ("E05013806", "id")
    assert matcher.match("metropolitan", "e05013806", None) == ("E05013806", "id")
    assert matcher.match("metropolitan", "00BKX6", "West End Safer Neighbourhood Team") == ("E05013808", "name")
    assert matcher.match("metropolitan", "X", "Knightsbridge and Belgravia") == ("E05013797", "name")
    assert matcher.match("city-of-london", "cs1", "Bassishaw Ward") == ("E05009290", "name")
    assert matcher.match("metropolitan", "X", "Regent's Park") == (None, "its name matches 2 wards")
    assert matcher.match("metropolitan", "E05009290", "Bassishaw")[0] is None  # policed by the City
    assert matcher.match("metropolitan", "HEATHROW", "Heathrow") == (None, "no ward has this code or name")


@pytest.mark.parametrize(
    "value, address",
    [
        ("mailto:team@example.org?subject=Hello&body=Come%20to%20the%20panel", "team@example.org"),
        ("MAILTO:team%40example.org", "team@example.org"),
        ("mailto:team@example.org#top", "team@example.org"),
        ("team@example.org?body=injected", "team@example.org"),
        ("mailto:?to=team@example.org", None),
        ("mailto:a%3Fb@example.org", None),  # a ? in the address would start a query in our link
        ("team@example.org/path", None),
        ("team@example.org", "team@example.org"),
    ],
)
def test_an_email_is_stored_and_linked_as_just_the_address_without_subject_or_body(value, address):
    assert policeuk.email_address(value) == address
    assert safe_href("email", value) == (f"mailto:{address}" if address else None)


@pytest.mark.parametrize(
    "before, after, held",
    [
        (0, 0, False),
        (2, 1, False),  # one fewer is ordinary news, however small the team
        (10, 8, False),  # a fifth
        (10, 7, True),  # more than a fifth, and at least two
        (3, 1, True),
        (700, 560, False),
        (700, 559, True),
        (1, 5, False),
    ],
)
def test_a_shrink_needs_allowing_when_it_loses_more_than_a_fifth_and_at_least_two(before, after, held):
    assert shrinks_too_much(before, after) is held
    assert (SHRINK_THRESHOLD, SHRINK_MIN_ITEMS) == (0.2, 2)


@pytest.mark.parametrize("order", [("E05013806N", "E05013806"), ("E05013806", "E05013806N")])
def test_when_x_and_xn_are_both_listed_xn_holds_the_ward_whatever_the_order_and_x_is_reported(order, geodata):
    matcher = WardMatcher(geodata.wards.wards)
    sync = Sync(None, None, matcher, FORCE_NAMES, log=lambda line: None)
    report = SyncReport("metropolitan", dry_run=True)
    wards = sync._match("metropolitan", [{"id": nid, "name": "St James's"} for nid in order], report)
    assert wards == {"E05013806N": "E05013806", "E05013806": None}
    assert report.unmatched == [
        ("E05013806", "St James's", "ward E05013806 is already matched to neighbourhood E05013806N")
    ]
