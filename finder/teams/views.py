"""The team's exports: a vCard to save the team to your contacts, and meetings as iCalendar.

- /wards/<code>/team.vcf                 the team as one contact card
- /wards/<code>/calendar.ics             the ward's meetings, as a feed calendars can subscribe to
- /wards/<code>/meetings/<id>.ics        one meeting, to add to a calendar

Also the template filters the team section uses (how recently something was confirmed, meeting
times). Views are thin: the team comes from the one
lookup (`Lookup.resolve`) and the store behind it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from flask import Blueprint, Response, current_app
from flask_babel import get_locale
from werkzeug.exceptions import ServiceUnavailable

from finder.errors import NotFound
from finder.i18n import tr
from finder.lookup.service import WardChosen
from finder.teams import exports
from finder.teams.directory import (
    POLICE_UK_AREA,
    Meeting,
    Provenance,
    Route,
    Team,
    TeamsUnavailable,
    force_area_page,
)
from finder.teams.validation import PHONE_KINDS, format_phone
from finder.web import public_url, services
from finder.web.languages import current_lang

bp = Blueprint("teams", __name__)


def _ward_result(code: str) -> tuple[WardChosen, Team]:
    """The ward's result, with its team; a 404 when the ward has none, a 503 when the store cannot be read."""
    result = services().lookup.resolve(ward=code)
    if result.team_status == "unavailable":
        raise TeamsUnavailable(services().teams.retry_after)
    if result.team is None:
        raise NotFound(
            tr(
                "We have no neighbourhood team details for %(ward)s to export. "
                "The ward's page lists the force-wide ways to contact the police.",
                ward=result.ward.name,
            ),
            code="team_not_found",
        )
    return result, result.team


def _download(body: str, mimetype: str, filename: str, *, attachment: bool = True) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.errorhandler(TeamsUnavailable)
def store_unavailable(error: TeamsUnavailable) -> Any:
    """503 with Retry-After (not 404: the team may well exist), rendered like every other HTTP error."""
    return current_app.handle_http_exception(
        ServiceUnavailable(
            tr(
                "We cannot read the neighbourhood team's details just now. Please try again in a minute; "
                "meanwhile the ward's page lists the force-wide ways to contact the police."
            ),
            retry_after=error.retry_after,
        )
    )


@bp.get("/wards/<code>/team.vcf")
def vcard(code: str) -> Response:
    """The ward's team as a vCard ("Save this team to my contacts")."""
    result, team = _ward_result(code)
    ward = result.ward
    body = exports.vcard(
        team,
        ward_name=ward.name,
        borough_name=ward.borough_name,
        force_name=result.force.name,
        page_url=public_url("public.ward", code=ward.code),
    )
    suffix = "-sample" if team.sample else ""
    return _download(body, "text/vcard", f"{ward.code}-police-team{suffix}.vcf")


@bp.get("/wards/<code>/calendar.ics")
def calendar(code: str) -> Response:
    """The ward's meetings as an iCalendar feed: the last month's and every one to come."""
    result, cached = _ward_result(code)
    team = services().teams.team(result.ward.code) or cached  # removed since this worker cached it
    body = exports.calendar(
        team,
        team.meetings,
        ward_code=result.ward.code,
        ward_name=result.ward.name,
        page_url=public_url("public.ward", code=result.ward.code),
        feed=True,
    )
    return _download(body, "text/calendar", f"{result.ward.code}-police-meetings.ics", attachment=False)


@bp.get("/wards/<code>/meetings/<int:meeting_id>.ics")
def meeting(code: str, meeting_id: int) -> Response:
    """One meeting as an .ics file to add to a calendar."""
    result, _ = _ward_result(code)
    found = services().teams.meeting(result.ward.code, meeting_id)
    if found is None or found[1].date_unclear:  # no calendar entry for a date we cannot believe
        raise NotFound(tr("That meeting is not in our copy of the team's details."), code="meeting_not_found")
    team, item = found
    body = exports.calendar(
        team,
        [item],
        ward_code=result.ward.code,
        ward_name=result.ward.name,
        page_url=public_url("public.ward", code=result.ward.code),
        feed=False,
    )
    return _download(body, "text/calendar", f"{result.ward.code}-meeting-{meeting_id}.ics")


@bp.app_template_filter("route_value")
def route_value(route: Route) -> str:
    """A route's value as people write it: phone numbers (stored E.164 by officers) in national format."""
    return format_phone(route.value) if route.kind in PHONE_KINDS else route.value


@bp.app_template_filter("confirmed")
def confirmed(provenance: Provenance, now: datetime | None = None, *, dated: bool = False) -> str:
    """Where an item comes from and when, in words residents read: "Confirmed by the team on 4 December 2026"."""
    return provenance.freshness(now, dated=dated)


def _clock(when: datetime) -> str:
    text = f"{when:%-I:%M%p}".lower().replace(":00", "")
    return "midday" if text == "12pm" else text


@bp.app_template_filter("meeting_when")
def meeting_when(meeting: Meeting) -> str:
    """When a meeting is, in words: "Tuesday 1 December 2026, 6:30pm to 8pm" (London time)."""
    if meeting.date_unclear:
        return tr("Date unclear (ask the team)")
    if current_lang() != "en":
        return _meeting_when_in(meeting, get_locale())
    text = f"{meeting.start:%A %-d %B %Y}, {_clock(meeting.start)}"
    if meeting.end:
        if meeting.end.date() == meeting.start.date():
            text += f" to {_clock(meeting.end)}"
        else:
            text += f" to {meeting.end:%A %-d %B}, {_clock(meeting.end)}"
    return text


def _meeting_when_in(meeting: Meeting, locale: Locale) -> str:
    """The same, as the resident's language writes days, dates and times (CLDR, through Babel)."""

    def clock(when: datetime) -> str:
        return format_time(when, "short", locale=locale)

    text = f"{format_date(meeting.start, 'EEEE d MMMM y', locale=locale)}, {clock(meeting.start)}"
    if meeting.end:
        if meeting.end.date() == meeting.start.date():
            return f"{text} – {clock(meeting.end)}"
        return f"{text} – {format_date(meeting.end, 'EEEE d MMMM', locale=locale)}, {clock(meeting.end)}"
    return text


@bp.app_context_processor
def team_helpers() -> dict:
    """Template helpers for the team section."""
    return {"force_area_page": force_area_page, "policeuk_area": POLICE_UK_AREA}
