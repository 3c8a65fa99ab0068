"""Printable A4 posters, one per ward, to put up where residents will see them.

- /wards/<code>/poster        the poster as a page (print it: static/poster.css lays out the A4 sheet)
- /wards/<code>/poster.pdf    the same page drawn as a PDF on the server (WeasyPrint)

Borough admins download every ward of their borough as one PDF from /admin (finder/posters/admin.py).
The QR code opens the ward's public page (FINDER_PUBLIC_URL; the request's own address in development).
Posters are not lookups by residents, so they are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from finder.i18n import LANGUAGES
from finder.lookup.service import WardChosen
from finder.posters.service import write_pdf
from finder.teams.directory import TeamsUnavailable
from finder.teams.views import store_unavailable
from finder.web import public_url, services
from finder.web.limits import limited

bp = Blueprint("posters", __name__)
bp.register_error_handler(TeamsUnavailable, store_unavailable)
STYLESHEET = "poster.css"


@dataclass(frozen=True)
class Poster:
    """One ward's poster: its result (team included), the public page the QR code opens, and the code."""

    result: WardChosen
    url: str
    qr: Markup


def poster_for(code: str) -> Poster:
    """A ward's poster; 404 for no such ward, 503 when the team store cannot be read (no poster without it)."""
    result = services().lookup.resolve(ward=code)
    if result.team_status == "unavailable":
        raise TeamsUnavailable(services().teams.retry_after)
    url = public_url("public.ward", code=result.ward.code)
    import segno  # here: 0.06 s of start-up for a page staff print now and then

    qr = segno.make(url, error="m").svg_inline(
        omitsize=True, svgclass="poster-qr-code", lineclass=None, title=f"QR code: {url}"
    )
    return Poster(result, url, Markup(qr))


def render_posters(posters: list[Poster], title: str = "") -> str:
    """The poster page: one A4 sheet per poster."""
    return render_template("poster.html", posters=posters, title=title, languages=LANGUAGES, printed=date.today())


def pdf_response(posters: list[Poster], filename: str, title: str = "") -> Response:
    """The posters as one PDF (one A4 page each), drawn from the same page and stylesheet residents print."""
    base = request.url_root
    stylesheet = Path(current_app.static_folder or "static") / STYLESHEET
    files = {urljoin(base, url_for("static", filename=STYLESHEET)): stylesheet}
    body = write_pdf(render_posters(posters, title), base_url=base, files=files)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def ward_posters(codes: Iterable[str]) -> list[Poster]:
    return [poster_for(code) for code in codes]


@bp.get("/wards/<code>/poster")
def poster(code: str):
    """A ward's poster as a page to print."""
    return render_posters([poster_for(code)])


@bp.get("/wards/<code>/poster.pdf")
@limited("POSTER_RATE_LIMIT")
def poster_pdf(code: str):
    """A ward's poster as an A4 PDF."""
    item = poster_for(code)
    suffix = "-sample" if item.result.team and item.result.team.sample else ""
    response = pdf_response([item], f"{item.result.ward.code}-police-poster{suffix}.pdf")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
