"""Nudges (issue 11, section 4): residents tell the borough a ward has no published team, and staff get a weekly digest.

Every test runs on SQLite and on PostgreSQL; the digest goes through a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from finder import create_app
from finder.staff.digest import no_team_reports
from finder.store.models import Base, utcnow
from finder.teams.directory import london_now
from finder.teams.records import apply_team
from tests.services.test_coverage import complete_team
from tests.store import backends
from tests.store.teamdata import HOSTILE_NAME, HOSTILE_TEAM, HOSTILE_WARD, NO_TEAM_WARD, hostile_team
from tests.support.smtp import free_port, smtp_server
from tests.support.staff import ST_JAMESS, make_user, sign_in, staff_app

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

WEST_END = NO_TEAM_WARD  # Westminster, no team
BROMLEY = "E09000006"
CLIENT = "203.0.113.77"
BROWSER = "Mozilla/5.0 (NudgeTest) Resident/1.0"
POSTCODE = "W1D 3QF"  # a West End postcode the resident searched for, in the Referer


def save(store, team, when=None) -> None:
    with store.session() as session:
        apply_team(session, team, source="officer", now=when or utcnow())


def today_reports(store) -> dict[str, int]:
    return no_team_reports(store, london_now().date())


def report(client, ward: str = WEST_END, **kwargs):
    return client.post(f"/wards/{ward}/no-team", environ_base={"REMOTE_ADDR": CLIENT}, **kwargs)


# -- residents ---------------------------------------------------------------------------------------


def test_a_ward_without_a_team_offers_to_tell_the_borough_and_one_with_a_team_does_not(store, geodata):
    save(store, complete_team())
    client = staff_app(store, geodata).test_client()
    missing = client.get(f"/wards/{WEST_END}").get_data(as_text=True)
    assert f'action="/wards/{WEST_END}/no-team"' in missing
    assert "Tell Westminster this ward has no published team" in missing
    assert "/no-team" not in client.get(f"/wards/{ST_JAMESS}").get_data(as_text=True)


def test_a_report_counts_once_for_the_ward_today_and_thanks_the_resident_without_a_cookie(store, geodata):
    client = staff_app(store, geodata).test_client()
    first = report(client)  # no CSRF token: the form is public and sessionless
    assert first.status_code == 303 and first.headers["Location"] == f"/wards/{WEST_END}/no-team/thanks"
    assert "Set-Cookie" not in first.headers
    thanks = client.get(first.headers["Location"])
    assert thanks.status_code == 200 and "Set-Cookie" not in thanks.headers
    assert "Thank you" in thanks.get_data(as_text=True) and "West End" in thanks.get_data(as_text=True)
    report(client)
    assert today_reports(store) == {WEST_END: 2}


def test_a_report_keeps_no_address_browser_or_postcode_in_any_table_or_log(store, geodata, caplog):
    caplog.set_level(logging.DEBUG)
    client = staff_app(store, geodata).test_client()
    referer = f"http://localhost/search?postcode={POSTCODE.replace(' ', '+')}"
    response = report(client, headers={"User-Agent": BROWSER, "Referer": referer})
    assert response.status_code == 303
    stored = []
    with store.reader() as session:
        for table in Base.metadata.sorted_tables:
            stored.extend(repr(tuple(row)) for row in session.execute(select(table)))
    assert stored  # the count itself
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (CLIENT, BROWSER, "NudgeTest", POSTCODE, "W1D+3QF", "W1D3QF"):
        assert not any(secret in row for row in stored), secret
        assert secret not in logged, secret


def test_a_client_over_the_report_limit_is_told_so_and_not_counted(store, geodata):
    client = staff_app(store, geodata, NO_TEAM_RATE_LIMIT="2/hour").test_client()
    assert [report(client).status_code for _ in range(3)] == [303, 303, 429]
    assert "already told us" in report(client).get_data(as_text=True)
    other = client.post(f"/wards/{WEST_END}/no-team", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 303
    assert today_reports(store) == {WEST_END: 3}


def test_a_bad_rate_limit_setting_stops_the_app_with_its_name():
    with pytest.raises(ValueError, match="FINDER_NO_TEAM_RATE_LIMIT"):
        create_app({"ENV_NAME": "testing", "NO_TEAM_RATE_LIMIT": "lots"})


def test_an_unknown_ward_is_a_404_and_a_ward_whose_team_is_published_goes_back_to_its_page(store, geodata):
    save(store, complete_team())
    client = staff_app(store, geodata).test_client()
    unknown = report(client, "E05999999")
    assert unknown.status_code == 404 and "We do not know that ward" in unknown.get_data(as_text=True)
    published = report(client, ST_JAMESS)
    assert published.status_code == 303 and published.headers["Location"] == f"/wards/{ST_JAMESS}"
    assert client.get("/wards/E05999999/no-team/thanks").status_code == 404
    assert today_reports(store) == {}


def test_a_get_cannot_count_a_report(store, geodata):
    client = staff_app(store, geodata).test_client()
    assert client.get(f"/wards/{WEST_END}/no-team").status_code == 405
    assert today_reports(store) == {}


# -- staff -------------------------------------------------------------------------------------------


def test_staff_see_reports_on_their_coverage_page_below_ten_as_fewer_than_ten(store, geodata):
    app = staff_app(store, geodata, NO_TEAM_RATE_LIMIT="off")
    client = app.test_client()
    for _ in range(3):
        report(client)
    for _ in range(12):
        report(client, "E05013807")  # Vincent Square, also in Westminster
    sign_in(client, make_user(store, "ed@example.org", wards=[WEST_END, "E05013807"]))
    page = client.get("/admin/coverage").get_data(as_text=True)
    west_end = page.split(f'id="todo-{WEST_END}"')[1].split("</li>")[0]
    assert "Residents reported no published team fewer than 10 times this month" in west_end
    assert "Residents reported no published team 12 times this month" in page


def test_the_dashboard_lists_the_wards_that_need_attention_this_week(store, geodata):
    save(store, complete_team())
    client = staff_app(store, geodata).test_client()
    report(client)
    sign_in(client, make_user(store, "ed@example.org", wards=[ST_JAMESS, WEST_END]))
    page = client.get("/admin/").get_data(as_text=True)
    listed = page.split("data-attention>")[1].split("</section>")[0]
    assert f'data-attention-ward="{WEST_END}"' in listed and ST_JAMESS not in listed
    assert "fewer than 10 times this month" in listed and "email is not set up" in page


# -- the weekly digest -------------------------------------------------------------------------------


def digest_app(store, smtp_url: str):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": store.url, "SMTP_URL": smtp_url})


def test_send_digest_emails_each_editor_only_their_wards_and_nobody_twice_in_a_week(store, geodata):
    save(store, complete_team())  # St James's: nothing to do
    save(store, hostile_team(), when=utcnow() - timedelta(days=120))  # Bromley Town: stale, with a hostile name
    make_user(store, "westend@example.org", wards=[WEST_END], name="Wes")
    make_user(store, "bromley@example.org", wards=[HOSTILE_WARD], name=HOSTILE_NAME)
    make_user(store, "settled@example.org", wards=[ST_JAMESS])
    staff_app(store, geodata).test_client().post(f"/wards/{WEST_END}/no-team")
    with smtp_server() as inbox:
        runner = digest_app(store, inbox.url).test_cli_runner()
        first = runner.invoke(args=["send-digest"])
        second = runner.invoke(args=["send-digest"])
    assert first.exit_code == 0, first.output
    assert "2 sent, 0 already sent this week, 0 failed" in first.output
    assert "0 sent, 2 already sent this week" in second.output
    mail = {m["To"]: m for m in inbox.messages}
    assert sorted(mail) == ["bromley@example.org", "westend@example.org"]  # once each; none for the settled editor
    west_end = mail["westend@example.org"].get_body(("plain",)).get_content()
    assert "West End (Westminster) - 0 of 6" in west_end and "Bromley" not in west_end
    assert "Residents reported no published team fewer than 10 times this month" in west_end
    assert f"http://127.0.0.1:5000/admin/wards/{WEST_END}" in west_end
    text = mail["bromley@example.org"].get_body(("plain",)).get_content()
    html = mail["bromley@example.org"].get_body(("html",)).get_content()
    assert f"Hello {HOSTILE_NAME}," in text and f'team "{HOSTILE_TEAM}"' in text and "West End" not in text
    assert "over 90 days ago" in text
    assert HOSTILE_NAME not in html and HOSTILE_TEAM not in html and "<script>" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;Bromley &lt;i&gt;Town&lt;/i&gt; team" in html
    assert f'<a href="http://127.0.0.1:5000/admin/wards/{HOSTILE_WARD}">Bromley Town</a>' in html


def test_a_digest_the_mail_server_did_not_take_is_sent_on_the_next_run(store, geodata):
    make_user(store, "westend@example.org", wards=[WEST_END])
    refused = digest_app(store, f"smtp://127.0.0.1:{free_port()}").test_cli_runner().invoke(args=["send-digest"])
    assert refused.exit_code == 1 and "not sent to westend@example.org" in refused.output
    with smtp_server() as inbox:
        again = digest_app(store, inbox.url).test_cli_runner().invoke(args=["send-digest"])
    assert again.exit_code == 0 and [m["To"] for m in inbox.messages] == ["westend@example.org"]


def test_without_smtp_send_digest_says_the_lists_are_on_the_dashboards(store, geodata):
    make_user(store, "westend@example.org", wards=[WEST_END])
    result = digest_app(store, "").test_cli_runner().invoke(args=["send-digest"])
    assert result.exit_code == 0
    assert "westend@example.org: 1 wards" in result.output and "FINDER_SMTP_URL is not set" in result.output


def test_a_report_made_in_polish_is_thanked_in_polish(store, geodata):
    client = staff_app(store, geodata).test_client()
    page = client.get(f"/wards/{WEST_END}?lang=pl").get_data(as_text=True)
    assert f'action="/wards/{WEST_END}/no-team?lang=pl"' in page
    sent = report(client, query_string={"lang": "pl"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/wards/{WEST_END}/no-team/thanks?lang=pl"
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "<h1>Dziękujemy</h1>" in thanks and '<html lang="pl"' in thanks


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://elsewhere.example"},  # a browser that sends no Sec-Fetch-Site
        {"Origin": "null"},  # a sandboxed frame or a data: page
    ],
)
def test_a_report_sent_from_another_sites_page_is_refused_and_not_counted(store, geodata, headers):
    client = staff_app(store, geodata).test_client()
    refused = report(client, headers=headers)
    assert refused.status_code == 403 and "own pages only" in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers and "Cookie" not in refused.headers.get("Vary", "")
    assert today_reports(store) == {}


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, {"Origin": "http://localhost"}, {}]
)
def test_a_report_from_the_finders_own_page_counts(store, geodata, headers):
    client = staff_app(store, geodata).test_client()
    assert report(client, headers=headers).status_code == 303
    assert today_reports(store) == {WEST_END: 1}


def test_a_report_with_a_body_larger_than_the_form_sends_is_refused(store, geodata):
    client = staff_app(store, geodata).test_client()
    refused = report(client, data={"x": "a" * 5000})
    assert refused.status_code == 413 and "larger than the form sends" in refused.get_data(as_text=True)
    assert today_reports(store) == {}
