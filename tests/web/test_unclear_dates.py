"""Dates out of range (issue 22, item 1): one far-future meeting must not take any page down.

A meeting dated 9999-12-31 is put straight into the store (as a bad import or a hand edit would),
past every check at the edge; each surface that shows the ward must still answer, say "date unclear"
where it shows the meeting, and flag it for the ward's editor.
"""

from __future__ import annotations

import io
from datetime import datetime

from pypdf import PdfReader
from sqlalchemy import select

from finder import create_app
from finder.store import models as m
from finder.store.models import utcnow
from tests.services.test_coverage import complete_team, save
from tests.store import backends
from tests.support.smtp import smtp_server
from tests.support.staff import ST_JAMESS, WESTMINSTER, make_user, sign_in, staff_app

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

FAR_FUTURE = datetime(9999, 12, 31, 23, 30)  # an hour later is past the last datetime Python has
ST_JAMESS_POSTCODE = "SW1A 1AA"
UNCLEAR = "Date unclear"


def store_far_future_meeting(store) -> None:
    """A meeting dated 9999-12-31, written straight into the store (no form, no sync)."""
    with store.session() as session:
        team_id = session.scalar(select(m.Team.id).where(m.Team.ward_code == ST_JAMESS))
        session.add(
            m.Meeting(
                team_id=team_id,
                key="far-future",
                title="Panel at the end of time",
                kind="ward_panel",
                start=FAR_FUTURE,
                source="officer",
                fetched_at=utcnow(),
            )
        )


def test_a_meeting_stored_in_9999_leaves_every_surface_answering_and_says_date_unclear(store, geodata):
    save(store, complete_team())
    store_far_future_meeting(store)
    client = staff_app(store, geodata).test_client()

    def answer(path: str, **kwargs):
        response = client.post(path, **kwargs) if "json" in kwargs else client.get(path, **kwargs)
        assert response.status_code != 500, path
        assert response.status_code in (200, 304), (path, response.status_code)
        return response

    for path in (f"/wards/{ST_JAMESS}", f"/search?postcode={ST_JAMESS_POSTCODE}", f"/wards/{ST_JAMESS}/poster"):
        page = answer(path).get_data(as_text=True)
        assert "Panel at the end of time" in page and UNCLEAR in page, path
        assert "9999" not in page, path
    for path in (f"/embed/wards/{ST_JAMESS}", f"/embed/search?postcode={ST_JAMESS_POSTCODE}"):  # no meetings shown
        assert "St James" in answer(path).get_data(as_text=True), path
    pdf = answer(f"/wards/{ST_JAMESS}/poster.pdf").data
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Panel at the end of time" in text and UNCLEAR in text

    for api in (f"/api/v1/wards/{ST_JAMESS}", f"/api/v1/postcodes/{ST_JAMESS_POSTCODE}"):
        meetings = answer(api).get_json()["team"]["meetings"]
        far = next(x for x in meetings if x["title"] == "Panel at the end of time")
        assert far["date_unclear"] is True and far["start"] is None
    batch = answer("/api/v1/postcodes", json={"postcodes": ["E1 6AN", ST_JAMESS_POSTCODE]}).get_json()["results"]
    assert [r["query"] for r in batch] == ["E1 6AN", ST_JAMESS_POSTCODE]
    unclear = [x["title"] for x in batch[1]["result"]["team"]["meetings"] if x["date_unclear"]]
    assert unclear == ["Panel at the end of time"]

    for path in ("/coverage", "/coverage.csv", "/coverage/map.js", "/api/v1/coverage"):
        answer(path)

    calendar = answer(f"/wards/{ST_JAMESS}/calendar.ics").get_data(as_text=True)
    assert "Panel at the end of time" not in calendar and "9999" not in calendar  # no calendar entry for no date
    answer(f"/wards/{ST_JAMESS}/team.vcf")

    editor = make_user(store, "ed@example.org", wards=[ST_JAMESS])
    sign_in(client, editor)
    for path in ("/admin/", "/admin/coverage", f"/admin/wards/{ST_JAMESS}", f"/admin/wards/{ST_JAMESS}/history"):
        answer(path)
    staff = answer(f"/admin/wards/{ST_JAMESS}").get_data(as_text=True)
    assert "The date of “Panel at the end of time” is unclear" in staff
    home = answer("/admin/").get_data(as_text=True)
    assert "meeting with an unclear date" in home

    admin = make_user(store, "admin@example.org", "borough_admin", borough_code=WESTMINSTER)
    sign_in(client, admin)
    answer("/admin/review")
    answer(f"/admin/boroughs/{WESTMINSTER}/posters.pdf")

    with smtp_server() as inbox:
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": store.url, "SMTP_URL": inbox.url})
        result = app.test_cli_runner().invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    mail = {message["To"]: message.get_body(("plain",)).get_content() for message in inbox.messages}
    assert "1 meeting with an unclear date: residents see no date" in mail["ed@example.org"]
