"""data.police.uk responses, read defensively into the store's `TeamData`.

The real API's shapes (see ../shared/data-raw/SOURCES.md §4): coordinates and populations are
strings; bios, descriptions, priorities and event text are HTML; priorities use hyphenated keys
(`issue-date`); any field may be missing or null, and lists may be null. Nothing here trusts a
field's presence or type. Text is reduced to plain text (finder.services.text), links are kept
only when they are http(s), and a contact value that is not what its key says is dropped.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from finder.services.text import one_line, plain_text
from finder.store.records import MeetingData, OfficerData, PlaceData, PriorityData, RouteData, TeamData

LONDON = ZoneInfo("Europe/London")

# police.uk contact_details keys -> (route kind, label). fax and address are not ways we offer.
CONTACT_KEYS: dict[str, tuple[str, str]] = {
    "email": ("email", "Email"),
    "telephone": ("phone", "Phone"),
    "mobile": ("mobile", "Mobile"),
    "textphone": ("textphone", "Textphone"),
    "minicom": ("textphone", "Textphone"),
    "web": ("web", "Web page"),
    "website": ("web", "Web page"),
    "e-messaging": ("online_form", "Online messaging"),
    "facebook": ("social", "Facebook"),
    "twitter": ("social", "X (Twitter)"),
    "x": ("social", "X (Twitter)"),
    "instagram": ("social", "Instagram"),
    "youtube": ("social", "YouTube"),
    "flickr": ("social", "Flickr"),
    "google-plus": ("social", "Google+"),
    "myspace": ("social", "Myspace"),
    "bebo": ("social", "Bebo"),
    "forum": ("web", "Forum"),
    "blog": ("web", "Blog"),
    "rss": ("web", "RSS feed"),
}
IGNORED_CONTACT_KEYS = {"fax", "address"}

_EMAIL = re.compile(r"^[^@\s<>\"'(),;:]+@[^@\s<>\"'(),;:]+\.[^@\s<>\"'(),;:]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{3,24}$")


def as_list(value: Any) -> list[dict[str, Any]]:
    """A JSON list of objects, whatever came (null, an object, a list with junk in it)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, whatever came (null, a list, a string)."""
    return value if isinstance(value, dict) else {}


def parse_float(value: Any, low: float = -180.0, high: float = 180.0) -> float | None:
    """A coordinate from a string or a number; anything else (null, "", "abc", nan, out of range) is None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def parse_int(value: Any) -> int | None:
    """A whole number from a string or a number; anything else is None."""
    try:
        return int(str(value).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None


def parse_datetime(value: Any) -> datetime | None:
    """police.uk local times ("2011-11-02T10:00:00") as naive London time; zoned times converted."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(LONDON).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def parse_date(value: Any) -> date | None:
    """The date part of a police.uk date-time."""
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def web_url(value: Any) -> str | None:
    """An absolute http(s) URL, or None (javascript:, data:, relative and junk links are dropped)."""
    text = one_line(value, limit=None)
    if not text or len(text) > 500 or any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return text


def email_address(value: Any) -> str | None:
    """An email address that looks like one (a mailto: prefix is dropped), or None."""
    text = one_line(value, limit=None)
    if text and text.lower().startswith("mailto:"):
        text = text[7:]
    return text if text and len(text) <= 254 and _EMAIL.match(text) else None


def phone_number(value: Any) -> str | None:
    """A phone number made of digits, spaces and + ( ) - . only, or None."""
    text = one_line(value, limit=None)
    if not text or not _PHONE.match(text):
        return None
    return text if sum(c.isdigit() for c in text) >= 3 else None


def contact_routes(details: Any) -> list[RouteData]:
    """A police.uk contact_details object as typed routes, in the API's order; bad values dropped."""
    routes = []
    for key, raw in as_dict(details).items():
        key = str(key).strip().lower()
        if key in IGNORED_CONTACT_KEYS or raw in (None, ""):
            continue
        kind, label = CONTACT_KEYS.get(key, ("web", (one_line(key, limit=40) or "Link").capitalize()))
        if kind == "email":
            value = email_address(raw)
        elif kind in ("phone", "mobile", "textphone"):
            value = phone_number(raw)
        else:
            value = web_url(raw)
        if value:
            routes.append(RouteData(kind=kind, label=label, value=value))
    return routes


def role_for_rank(rank: str | None) -> str:
    """Our fixed role for a rank as police.uk gives it ("Sgt", "PC", "PCSO", "Special Constable"…)."""
    text = " ".join(re.sub(r"[^a-z ]", " ", (rank or "").lower()).split())
    words = set(text.split())
    if not text:
        return "other"
    if "pcso" in words or "community support" in text:
        return "pcso"
    if "special" in words or words & {"sc", "ssgt", "sps"}:
        return "special_constable"
    if "sergeant" in words or words & {"sgt", "ps", "ds", "dsgt"}:
        return "sergeant"
    if "constable" in words or words & {"pc", "dc", "tdc", "tpc"} or "ward officer" in text:
        # Met Dedicated Ward Officers are constables; chief/assistant chief constables are not ward staff.
        return "other" if "chief" in words else "police_constable"
    return "other"


def meeting_kind(kind: Any, title: str) -> str:
    """ward_panel, contact_session, meeting or other, from the event's type and title."""
    text = " ".join(f"{kind or ''} {title}".lower().replace("_", " ").replace("-", " ").split())
    if "panel" in text:
        return "ward_panel"
    if any(
        word in text
        for word in ("contact session", "surgery", "drop in", "street briefing", "cuppa", "coffee", "contact point")
    ):
        return "contact_session"
    if "meeting" in text:
        return "meeting"
    return "other"


def officers(people: Any) -> list[OfficerData]:
    """The /people response: name (required), rank as given, our role, bio as plain text, routes."""
    out = []
    for person in as_list(people):
        name = one_line(person.get("name"), limit=200)
        if not name:
            continue
        rank = one_line(person.get("rank"), limit=120)
        out.append(
            OfficerData(
                name=name,
                rank=rank,
                role=role_for_rank(rank),
                bio=plain_text(person.get("bio"), limit=4000),
                routes=contact_routes(person.get("contact_details")),
            )
        )
    return out


def meetings(events: Any) -> tuple[list[MeetingData], int]:
    """The /events response; events with no readable start are left out (counted, not guessed)."""
    out, skipped = [], 0
    for event in as_list(events):
        start = parse_datetime(event.get("start_date"))
        title = one_line(event.get("title"), limit=300) or one_line(event.get("type"), limit=60)
        if start is None or not title:
            skipped += 1
            continue
        end = parse_datetime(event.get("end_date"))
        out.append(
            MeetingData(
                title=title,
                kind=meeting_kind(event.get("type"), title),
                start=start,
                end=end if end and end >= start else None,
                place=one_line(event.get("address"), limit=500),
                description=plain_text(event.get("description"), limit=4000),
            )
        )
    return out, skipped


def priorities(items: Any) -> list[PriorityData]:
    """The /priorities response: hyphenated keys (issue-date, action-date), HTML text, nulls."""
    out = []
    for item in as_list(items):
        issue = plain_text(item.get("issue"), limit=4000)
        if not issue:
            continue
        out.append(
            PriorityData(
                issue=issue,
                action=plain_text(item.get("action"), limit=4000),
                issue_date=parse_date(item.get("issue-date")),
                action_date=parse_date(item.get("action-date")),
            )
        )
    return out


def places(locations: Any) -> list[PlaceData]:
    """The neighbourhood's `locations`: police stations (front counters) and other contact points."""
    out = []
    for loc in as_list(locations):
        address = plain_text(loc.get("address"), limit=500)
        address = ", ".join(part.strip(" ,") for part in address.splitlines() if part.strip(" ,")) if address else None
        name = one_line(loc.get("name"), limit=200) or (address.split(",")[0] if address else None)
        if not name:
            continue
        lat, lon = parse_float(loc.get("latitude"), -90, 90), parse_float(loc.get("longitude"))
        if lat is None or lon is None:
            lat = lon = None
        kind = one_line(loc.get("type"), limit=40) or ""
        out.append(
            PlaceData(
                name=name,
                kind="front_counter" if kind.lower() == "station" else "contact_point",
                address=address,
                postcode=(one_line(loc.get("postcode"), limit=10) or None),
                lat=lat,
                lon=lon,
                description=plain_text(loc.get("description"), limit=2000),
            )
        )
    return out


def team_data(
    force_id: str,
    force_name: str,
    reference: dict[str, Any],
    details: Any,
    people: Any,
    events: Any,
    priority_items: Any,
    ward_code: str | None,
) -> tuple[TeamData, list[str]]:
    """One neighbourhood's responses as a TeamData, and notes on what was left out."""
    details = as_dict(details)
    centre = as_dict(details.get("centre"))
    policeuk_id = str(reference.get("id") or details.get("id") or "").strip()
    name = one_line(details.get("name"), limit=200) or one_line(reference.get("name"), limit=200) or policeuk_id
    event_list, skipped_events = meetings(events)
    notes = [f"{skipped_events} event(s) without a readable start date left out"] if skipped_events else []
    lat, lon = parse_float(centre.get("latitude"), -90, 90), parse_float(centre.get("longitude"))
    data = TeamData(
        force_id=force_id,
        force_name=force_name,
        name=name,
        ward_code=ward_code,
        policeuk_id=policeuk_id,
        description=plain_text(details.get("description"), limit=8000),
        url_force=web_url(details.get("url_force")),
        population=parse_int(details.get("population")),
        centre_lat=lat if lon is not None else None,
        centre_lon=lon if lat is not None else None,
        routes=contact_routes(details.get("contact_details")),
        officers=officers(people),
        meetings=event_list,
        priorities=priorities(priority_items),
        places=places(details.get("locations")),
    )
    return data, notes
