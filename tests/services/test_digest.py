"""The weekly digest's rules and residents' "no published team" counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from finder.coverage.service import MAXIMUM, WardCoverage, ward_coverage
from finder.mail import MailError
from finder.staff.digest import (
    digests,
    month_start,
    needs_attention,
    no_team_reports,
    report_no_team,
    send_digests,
    week_of,
)
from finder.store.nudges import DigestSent, NoTeamReport
from tests.services.test_coverage import BELSIZE, NOW, ST_JAMESS, WEST_END, complete_team, save
from tests.store import backends
from tests.support.staff import make_user

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

CAMDEN = "E09000007"


def coverage(score: int, confirmed: bool = True) -> WardCoverage:
    parts = (True,) * (score - 1) + (False,) * (MAXIMUM - score) + (confirmed,)
    return WardCoverage("E05013806", "St James's", "E09000033", "Westminster", parts)


def test_a_ward_below_half_the_parts_or_unconfirmed_for_90_days_needs_attention():
    assert not needs_attention(coverage(3))  # 3 of 6 is 50%, not below it
    assert needs_attention(coverage(2))
    assert needs_attention(coverage(6, confirmed=False))
    assert not needs_attention(coverage(2), threshold=30)
    assert needs_attention(coverage(5), threshold=90)


def test_a_week_starts_on_monday_and_a_month_on_its_first_day():
    assert week_of(date(2025, 6, 8)) == date(2025, 6, 2) == week_of(date(2025, 6, 2))
    assert month_start(date(2025, 6, 30)) == date(2025, 6, 1)


def test_each_report_adds_one_to_its_ward_and_day_and_nothing_else_is_stored(store):
    for day in (date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 1), date(2025, 6, 2)):
        report_no_team(store, WEST_END, day)
    report_no_team(store, BELSIZE, date(2025, 6, 2))
    assert no_team_reports(store, date(2025, 6, 1)) == {WEST_END: 3, BELSIZE: 1}
    assert no_team_reports(store, date(2025, 5, 1)) == {WEST_END: 4, BELSIZE: 1}
    with store.reader() as session:
        rows = session.execute(select(NoTeamReport.__table__)).all()
    assert sorted(tuple(r) for r in rows) == [
        (date(2025, 5, 31), WEST_END, 1),
        (date(2025, 6, 1), WEST_END, 2),
        (date(2025, 6, 2), BELSIZE, 1),
        (date(2025, 6, 2), WEST_END, 1),
    ]
    assert [c.name for c in NoTeamReport.__table__.columns] == ["day", "ward_code", "count"]


def test_each_editor_gets_only_their_wards_that_need_attention_and_a_borough_admin_their_boroughs(store, geodata):
    save(store, complete_team())  # St James's: everything, confirmed now
    save(store, complete_team(BELSIZE, name="Belsize team"), when=NOW - timedelta(days=120))  # complete, but stale
    editor = make_user(store, "ed@example.org", wards=[ST_JAMESS, WEST_END])
    settled = make_user(store, "settled@example.org", wards=[ST_JAMESS])
    camden = make_user(store, "camden@example.org", "borough_admin", borough_code=CAMDEN)
    make_user(store, "site@example.org", "site_admin")
    make_user(store, "invited@example.org", wards=[WEST_END], password=None)  # has not signed up yet
    report = ward_coverage(store, geodata.wards, NOW)
    found = {d.email: d for d in digests(store, report, {WEST_END: 3})}
    assert set(found) == {"ed@example.org", "camden@example.org"}
    assert settled.email not in found  # no ward of theirs needs attention: no digest at all
    (west_end,) = found[editor.email].wards
    assert (west_end.coverage.code, west_end.no_team_reports, west_end.reports_shown) == (WEST_END, 3, "fewer than 10")
    camden_wards = found[camden.email].wards
    assert {w.coverage.borough_code for w in camden_wards} == {CAMDEN}
    belsize = next(w for w in camden_wards if w.coverage.code == BELSIZE)
    assert belsize.stale and belsize.coverage.score == MAXIMUM - 1  # in for its age alone
    assert len(camden_wards) == sum(w.borough_code == CAMDEN for w in report.wards)


def test_a_digest_goes_once_a_week_and_one_that_failed_is_tried_again(store, geodata):
    make_user(store, "ed@example.org", wards=[WEST_END])
    make_user(store, "jo@example.org", wards=[WEST_END])
    found = digests(store, ward_coverage(store, geodata.wards, NOW), {})
    delivered: list[str] = []
    refusals = ["jo@example.org"]  # the server refuses Jo's first digest only

    def deliver(digest) -> None:
        if digest.email in refusals:
            refusals.remove(digest.email)
            raise MailError("the mail server at 127.0.0.1 did not take the message")
        delivered.append(digest.email)

    first = send_digests(store, found, deliver, NOW)
    assert first.failed[0][0] == "jo@example.org" and first.sent == ["ed@example.org"]
    second = send_digests(store, found, deliver, NOW + timedelta(days=2))  # the same week (Monday 2 June)
    assert second.sent == ["jo@example.org"] and second.already == ["ed@example.org"]
    third = send_digests(store, found, deliver, datetime(2025, 6, 9, 6, 0, tzinfo=UTC))  # the next Monday
    assert sorted(third.sent) == ["ed@example.org", "jo@example.org"]
    assert delivered == ["ed@example.org", "jo@example.org", "ed@example.org", "jo@example.org"]
    with store.reader() as session:
        assert (
            sorted(w for (w,) in session.execute(select(DigestSent.week)))
            == [date(2025, 6, 2)] * 2 + [date(2025, 6, 9)] * 2
        )
