"""A team as a vCard ("save to my contacts") and its meetings as iCalendar (.ics downloads and a feed).

Written by hand, carefully, rather than with a library: both formats are lines of
`NAME;PARAMS:VALUE`, and the rules that matter for safety are few. Every text value is escaped
(backslash, semicolon, comma and newline: RFC 5545 §3.3.11, RFC 6350 §3.4), parameters never
carry data from a source, lines end in CRLF and are folded at 75 octets without splitting a
UTF-8 character (RFC 5545 §3.1, RFC 6350 §3.2). Sample data says so in the name, in a NOTE or
DESCRIPTION, and in an X-FINDER-SAMPLE property.

The vCard is version 3.0 (RFC 2426, whose text escaping RFC 6350 keeps): it is the version
phones' and mail clients' contact importers read most reliably. Words are in the resident's
language (`said`, finder/i18n.py); data and the X- properties that machines read stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from finder.i18n import plain, tr
from finder.teams.directory import Meeting, Officer, Team

PRODID = "-//finder//London neighbourhood policing finder//EN"
SAMPLE_WARNING = tr(
    "SAMPLE DATA - FICTIONAL: these people, contact details and meetings are made up for a "
    "demonstration and cannot reach anyone."
)


def said(msgid: str, **params: object) -> str:
    """A sentence in the current request's language (English outside a request)."""
    return plain(tr(msgid, **params))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped; other control characters dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def escape_uri(value: str) -> str:
    """A URI value is not TEXT-escaped, but it must not break the line: no controls, no spaces."""
    return re.sub(r"[\x00-\x20\x7f]", "", value)


def uid(key: str, ward_code: str) -> str:
    """A meeting's stable UID. Its key comes from a source, so it is percent-encoded to letters, digits
    and `%._~-`: nothing in it can end the line, start a parameter or collide with another key."""
    return f"{quote(key, safe='')}.{quote(ward_code, safe='')}@finder"


def fold_content_line(line: str) -> str:
    """Fold one content line at 75 octets, never inside a UTF-8 character; CRLF at the end."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # continuation byte: step back
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with a space
    return "\r\n ".join(parts) + "\r\n"


def _lines(lines: Iterable[str]) -> str:
    return "".join(fold_content_line(line) for line in lines)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def team_display_name(team: Team, ward_name: str) -> str:
    """The card's name: the team's, prefixed when it is fictional sample data."""
    if ward_name.casefold() in team.name.casefold():
        name = team.name
    else:
        name = said("%(ward)s neighbourhood team", ward=ward_name)
    return said("SAMPLE (fictional) - %(name)s", name=name) if team.sample else name


def vcard(team: Team, *, ward_name: str, borough_name: str, force_name: str, page_url: str) -> str:
    """One contact card for the team: its routes, and its officers and where it came from in the note."""
    display = team_display_name(team, ward_name)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"PRODID:{PRODID}",
        "N:" + ";".join([escape_text(display), "", "", "", ""]),
        f"FN:{escape_text(display)}",
        f"ORG:{escape_text(force_name)};{escape_text(team.name)}",
        "X-ABShowAs:COMPANY",
    ]
    for route in team.routes:
        if not route.href:
            continue
        if route.kind == "email":
            lines.append(f"EMAIL;TYPE=INTERNET,WORK:{escape_text(route.href.removeprefix('mailto:'))}")
        elif route.kind == "phone":
            lines.append(f"TEL;TYPE=WORK,VOICE:{escape_text(route.value)}")
        elif route.kind == "mobile":
            lines.append(f"TEL;TYPE=WORK,CELL:{escape_text(route.value)}")
        elif route.kind == "textphone":
            lines.append(f"TEL;TYPE=WORK,TEXTPHONE:{escape_text(route.value)}")
        else:
            lines.append(f"URL:{escape_uri(route.href)}")
    lines.append(f"URL:{escape_uri(page_url)}")
    note = [plain(SAMPLE_WARNING)] if team.sample else []
    note.append(
        said(
            "Neighbourhood policing team for %(ward)s ward, %(borough)s (%(force)s).",
            ward=ward_name,
            borough=borough_name,
            force=force_name,
        )
    )
    if team.officers:
        note.append(said("Team: %(officers)s.", officers="; ".join(_officer(o) for o in team.officers)))
    for route in team.routes:
        if route.hours:
            note.append(f"{route.label} ({route.value}): {route.hours}")
    note.append(said("In an emergency call 999. For non-emergencies call 101 or report online."))
    if not team.sample:
        note.append(
            said(
                "From %(source)s, confirmed %(date)s.",
                source=plain(team.provenance.source_label),
                date=f"{team.provenance.confirmed_at:%-d %B %Y}",
            )
        )
    note.append(said("Check the latest at %(url)s", url=page_url))
    lines.append(f"NOTE:{escape_text(chr(10).join(note))}")
    if team.sample:
        lines.append("X-FINDER-SAMPLE:TRUE")
    lines += [f"REV:{_stamp(team.provenance.confirmed_at)}", "END:VCARD"]
    return _lines(lines)


def _officer(officer: Officer) -> str:
    """An officer for the note, like PC Jo Bloggs (Police constable); a rank that says the role is not repeated.
    Their own contact details follow only where the team has made them public (all the view holds)."""
    if officer.rank and officer.role_label.casefold() in officer.rank.casefold():
        text = officer.title
    else:
        text = f"{officer.title} ({plain(officer.role_label)})"
    contacts = ", ".join(f"{said(route.label)} {route.value}" for route in officer.work_routes)
    return f"{text}: {contacts}" if contacts else text


def _event(meeting: Meeting, team: Team, ward_code: str, page_url: str) -> list[str]:
    sample = meeting.provenance.sample or team.sample
    summary = said("SAMPLE (fictional): %(title)s", title=meeting.title) if sample else meeting.title
    description = [plain(SAMPLE_WARNING)] if sample else []
    description.append(said("%(kind)s with the %(team)s.", kind=plain(meeting.kind_label), team=team.name))
    if meeting.description:
        description.append(meeting.description)
    description.append(said("Details and contacts: %(url)s", url=page_url))
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid(meeting.key, ward_code)}",
        f"DTSTAMP:{_stamp(meeting.provenance.confirmed_at)}",
        f"DTSTART:{_stamp(meeting.start_utc)}",
    ]
    if meeting.end_utc:
        lines.append(f"DTEND:{_stamp(meeting.end_utc)}")
    lines += [
        f"SUMMARY:{escape_text(summary)}",
        f"CATEGORIES:{escape_text(plain(meeting.kind_label))}",
    ]
    if meeting.place:
        lines.append(f"LOCATION:{escape_text(meeting.place)}")
    lines += [
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        f"URL:{escape_uri(page_url)}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
    ]
    if sample:
        lines.append("X-FINDER-SAMPLE:TRUE")
    lines.append("END:VEVENT")
    return lines


def calendar(
    team: Team, meetings: Iterable[Meeting], *, ward_code: str, ward_name: str, page_url: str, feed: bool
) -> str:
    """An iCalendar file: one meeting to add, or the ward's feed to subscribe to."""
    name = said("%(ward)s police team meetings", ward=ward_name)
    if team.sample:
        name = said("SAMPLE (fictional) - %(name)s", name=name)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if feed:
        lines += [
            f"NAME:{escape_text(name)}",
            f"X-WR-CALNAME:{escape_text(name)}",
            "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
            "X-PUBLISHED-TTL:PT6H",
        ]
        if team.sample:
            lines.append("X-FINDER-SAMPLE:TRUE")
    for meeting in meetings:
        if not meeting.date_unclear:  # a calendar entry needs a date we can believe
            lines += _event(meeting, team, ward_code, page_url)
    lines.append("END:VCALENDAR")
    return _lines(lines)
