"""Ward posters: the printable page, the PDF WeasyPrint draws (one A4 page a ward, a QR code that decodes
to the ward's public page), hostile team text, fetching nothing from outside, and borough admins' PDF."""

from __future__ import annotations

import html as html_lib
import io
import logging
import re
import subprocess
import sys

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from finder import create_app
from finder.posters.service import write_pdf
from finder.store.models import utcnow
from finder.teams.records import OfficerData, RouteData, TeamData, apply_team
from finder.web import services
from tests.store.faults import locked_sqlite
from tests.store.teamdata import (
    FORCE_NAMES,
    HOSTILE_TEAM,
    HOSTILE_WARD,
    NO_TEAM_WARD,
    SAMPLE_WARD,
    team_lookup,
    team_store,
)
from tests.support.httpserver import Reply, local_server
from tests.support.staff import CAMDEN_WARD, WESTMINSTER, make_user, sign_in, staff_app

A4_POINTS = (595, 842)
PUBLIC = "https://finder.example.org"
FETCH_WARD = "E05013652"  # Belsize, Camden: given a team that names a local server


@pytest.fixture(scope="module")
def store():
    return team_store()


@pytest.fixture(scope="module")
def teams_lookup(geodata, store):
    return team_lookup(geodata, store)


@pytest.fixture()
def client(teams_lookup):
    app = create_app({"ENV_NAME": "testing"}, lookup=teams_lookup)
    return app.test_client()


def pages(pdf: bytes) -> list[tuple[int, int]]:
    """Each page's size in points."""
    return [(round(p.mediabox.width), round(p.mediabox.height)) for p in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes(pdf: bytes, page: int = 0) -> list[str]:
    """The QR codes a reader finds on a page of the PDF, rasterised as a printer would."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=2).to_pil()
    finally:
        document.close()
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def test_a_ward_poster_page_shows_the_team_how_to_reach_it_its_meetings_a_qr_code_and_the_languages(client):
    response = client.get(f"/wards/{SAMPLE_WARD}/poster")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "<h1" in page and "St James&#39;s</h1>" in page
    assert "St James&#39;s sample team" in page and "020 7946 0123" in page  # the team's own phone
    assert "Sample data — fictional." in page  # the fictional team is labelled on the poster too
    assert "In an emergency, call <strong>999</strong>" in page and "<strong>18000</strong>" in page
    assert "101" in page and "met.police.uk/ro/report" in page
    assert "ward panel (sample)" in page  # the next meetings
    assert '<svg viewBox="0 0' in page and "QR code: http://localhost/wards/E05013806" in page
    assert 'lang="pl" dir="ltr">Polski</span>' in page and 'lang="ar" dir="rtl">العربية</span>' in page
    assert f'href="/wards/{SAMPLE_WARD}/poster.pdf"' in page
    assert re.search(r'<link rel="stylesheet" href="/static/poster\.\w+\.css">', page) and "<script" not in page


def test_the_ward_page_links_to_its_poster(client):
    page = client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)

    assert f'href="/wards/{SAMPLE_WARD}/poster"' in page and "Print a poster for St James&#39;s" in page


def test_a_ward_without_a_team_gets_a_poster_with_the_force_routes_and_999(client):
    page = client.get(f"/wards/{NO_TEAM_WARD}/poster").get_data(as_text=True)

    assert "data-team-missing" in page and "We hold no details of the West End team yet" in page
    assert "Non-emergency" in page and "Report online" in page and "<strong>999</strong>" in page
    assert "Who is in the team" not in page  # nothing invented


def test_a_ward_that_does_not_exist_has_no_poster(client):
    for path in ("/wards/E05999999/poster", "/wards/not-a-ward/poster.pdf"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "ward" in response.get_data(as_text=True).lower()


def test_the_poster_pdf_is_one_a4_page_whose_qr_code_opens_the_ward_page(client, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    response = client.get(f"/wards/{SAMPLE_WARD}/poster.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SAMPLE_WARD}-police-poster-sample.pdf"'
    assert pages(response.data) == [A4_POINTS]
    assert qr_codes(response.data) == [f"http://localhost/wards/{SAMPLE_WARD}"]
    text = pdf_text(response.data)
    assert "Sample data — fictional." in text and "St James's" in text and "999" in text
    assert caplog.records == []  # the poster's own stylesheet loaded; nothing refused


def test_the_qr_code_opens_the_public_url_not_the_address_the_request_came_to(teams_lookup):
    app = create_app({"ENV_NAME": "testing", "PUBLIC_URL": PUBLIC}, lookup=teams_lookup)

    response = app.test_client().get(f"/wards/{NO_TEAM_WARD}/poster.pdf", base_url="http://localhost")

    assert response.status_code == 200 and pages(response.data) == [A4_POINTS]
    assert qr_codes(response.data) == [f"{PUBLIC}/wards/{NO_TEAM_WARD}"]


def test_hostile_team_text_is_literal_on_the_poster_page_and_in_the_pdf(client):
    page = client.get(f"/wards/{HOSTILE_WARD}/poster").get_data(as_text=True)
    pdf = client.get(f"/wards/{HOSTILE_WARD}/poster.pdf")

    assert html_lib.escape(HOSTILE_TEAM, quote=True) in page
    assert "<script>window.__pwned" not in page and "<img src=x" not in page and "<i>Town" not in page
    assert pdf.status_code == 200 and pages(pdf.data) == [A4_POINTS]
    assert "<script>window.__pwned=1</script>Bromley <i>Town</" in pdf_text(pdf.data)  # shown, as text


def test_a_poster_stays_one_page_however_much_the_team_holds(geodata):
    store = team_store()
    many = [OfficerData(f"Officer {'Longname' * 12} {i}", "PC", "police_constable", None, None) for i in range(40)]
    routes = [RouteData("phone", f"Phone {i} " + "x" * 200, f"020 7946 01{i:02d}", "Always " * 40) for i in range(12)]
    team = TeamData("metropolitan", FORCE_NAMES["metropolitan"], "A team " * 60, FETCH_WARD, routes=routes,
                    officers=many, description="Words " * 2000)  # fmt: skip
    with store.session() as session:
        apply_team(session, team, source="officer", now=utcnow())
    app = create_app({"ENV_NAME": "testing"}, lookup=team_lookup(geodata, store))

    pdf = app.test_client().get(f"/wards/{FETCH_WARD}/poster.pdf")

    assert pages(pdf.data) == [A4_POINTS]
    assert qr_codes(pdf.data) == [f"http://localhost/wards/{FETCH_WARD}"]  # the code is above what is cut
    assert "999" in pdf_text(pdf.data) and "The finder is in English" in pdf_text(pdf.data)


def test_urls_an_officer_types_into_team_fields_are_never_fetched_when_the_pdf_is_drawn(geodata):
    with local_server() as server:
        server.fallback = lambda path: Reply(200, "body { color: red }", {"Content-Type": "text/css"})
        bait = (
            f'<img src="{server.url}/img"><link rel="stylesheet" href="{server.url}/link">'
            f"<style>@import url({server.url}/import); body {{ background: url({server.url}/bg) }}</style>"
            f'<div style="background-image: url({server.url}/inline)">x</div>'
        )
        store = team_store()
        team = TeamData("metropolitan", FORCE_NAMES["metropolitan"], bait, FETCH_WARD,
                        routes=[RouteData("web", bait, f"{server.url}/route")],
                        officers=[OfficerData(bait, bait, "police_constable", None, bait)])  # fmt: skip
        with store.session() as session:
            apply_team(session, team, source="officer", now=utcnow())
        app = create_app({"ENV_NAME": "testing"}, lookup=team_lookup(geodata, store))

        response = app.test_client().get(f"/wards/{FETCH_WARD}/poster.pdf")

        assert response.status_code == 200 and pages(response.data) == [A4_POINTS]
        assert server.requests == []


def test_the_pdf_writer_loads_only_the_files_it_is_given_even_from_raw_html(tmp_path):
    stylesheet = tmp_path / "a5.css"
    stylesheet.write_text("@page { size: A5 }")
    with local_server() as server:
        server.fallback = lambda path: Reply(200, "@page { size: A3 }", {"Content-Type": "text/css"})
        page = (
            '<link rel="stylesheet" href="/static/a5.css">'
            f'<link rel="stylesheet" href="{server.url}/a3.css"><img src="{server.url}/x.png">'
            f"<style>@import url({server.url}/import.css); p {{ background: url({server.url}/bg.png) }}</style>"
            f'<img src="file://{stylesheet}"><p>Hello</p>'
        )

        pdf = write_pdf(page, base_url="http://finder.test/", files={"http://finder.test/static/a5.css": stylesheet})

        assert server.requests == []  # neither the remote stylesheet, the image, the import nor the background
    assert pages(pdf) == [(420, 595)]  # A5: the listed file was served, the A3 one never fetched


def test_with_the_store_unreadable_a_poster_is_503_not_a_poster_without_its_team(geodata, tmp_path):
    path = tmp_path / "teams.db"
    team_store(f"sqlite:///{path}").dispose()
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{path}", "DB_TIMEOUT": 0.5})
    with locked_sqlite(path):
        for suffix in ("", ".pdf"):
            response = app.test_client().get(f"/wards/{SAMPLE_WARD}/poster{suffix}")
            assert response.status_code == 503
            assert 1 <= int(response.headers["Retry-After"]) <= 15
            assert "cannot read the neighbourhood team" in response.get_data(as_text=True)
    services(app).store.dispose()


# -- borough admins: every ward's poster in one PDF ---------------------------------------------------


@pytest.fixture()
def staff(store, geodata):
    return staff_app(store, geodata)


def test_a_borough_admin_downloads_one_a4_page_per_ward_of_their_borough_from_their_home_page(staff, store, geodata):
    admin = make_user(store, "posters-admin@example.org", "borough_admin", borough_code=WESTMINSTER)
    client = staff.test_client()
    sign_in(client, admin)
    home = client.get("/admin/").get_data(as_text=True)
    link = f"/admin/boroughs/{WESTMINSTER}/posters.pdf"

    response = client.get(link)

    assert f'href="{link}"' in home and "Posters for every ward in Westminster" in home
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{WESTMINSTER}-ward-posters.pdf"'
    westminster = sorted((w for w in geodata.wards.wards if w.borough_code == WESTMINSTER), key=lambda w: w.name)
    assert pages(response.data) == [A4_POINTS] * len(westminster) == [A4_POINTS] * 18
    text = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert all(ward.name in page for ward, page in zip(westminster, text, strict=True))  # one ward a page, in order
    st_james = [w.code for w in westminster].index(SAMPLE_WARD)
    assert qr_codes(response.data, st_james) == [f"http://localhost/wards/{SAMPLE_WARD}"]


def test_only_admins_of_the_borough_or_site_admins_may_download_its_posters(staff, store):
    other = make_user(store, "posters-camden@example.org", "borough_admin", borough_code="E09000007")
    editor = make_user(store, "posters-editor@example.org", "ward_editor", wards=[CAMDEN_WARD])
    site = make_user(store, "posters-site@example.org", "site_admin")
    client = staff.test_client()

    signed_out = client.get(f"/admin/boroughs/{WESTMINSTER}/posters.pdf")
    sign_in(client, other)
    elsewhere = client.get(f"/admin/boroughs/{WESTMINSTER}/posters.pdf")
    sign_in(client, editor)
    as_editor = client.get("/admin/boroughs/E09000007/posters.pdf")
    editor_home = client.get("/admin/").get_data(as_text=True)
    sign_in(client, site)
    unknown = client.get("/admin/boroughs/E09999999/posters.pdf")

    assert signed_out.status_code == 302 and "/admin/sign-in" in signed_out.headers["Location"]
    assert elsewhere.status_code == 403 and "your own borough" in elsewhere.get_data(as_text=True)
    assert as_editor.status_code == 403 and "posters.pdf" not in editor_home
    assert unknown.status_code == 404 and "no London borough" in unknown.get_data(as_text=True)


def test_a_worker_loads_weasyprint_only_when_it_draws_a_poster():
    script = (
        "import sys\n"
        "from finder import create_app\n"
        "app = create_app({'ENV_NAME': 'testing'})\n"
        "app.test_client().get('/wards/E05013806/poster')\n"
        "print('weasyprint' in sys.modules)\n"
    )
    after_start = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert after_start.stdout.strip() == "False"
