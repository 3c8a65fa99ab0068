"""data.police.uk responses, read defensively into the store's `TeamData`.

The real API's shapes (see ../shared/data-raw/SOURCES.md §4): coordinates and populations are
strings; bios, descriptions, priorities and event text are HTML; priorities use hyphenated keys
(`issue-date`); any field of an item may be missing or null. Nothing here trusts a field's
presence or type. Text is reduced to plain text (finder.text), links are kept
only when they are http(s), and a contact value that is not what its key says is dropped.

What the sync removes follows from what an answer lists, so an answer must first prove it is the
list it claims to be (`check_list`, `check_details`): `{"error": …}`, `null`, an object where a list
belongs, an item without the key that names it, or more items than one team may hold (the MAX_
constants) is a `ShapeError`, a failed fetch, never read as "nobody". Within a well-shaped answer,
an item with a null name is left out (and an event without a readable date, counted).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from finder.teams import dates, schema
from finder.teams.records import MeetingData, OfficerData, PlaceData, PriorityData, RouteData, TeamData
from finder.teams.validation import check_email, parse_phone
from finder.text import one_line, plain_text

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

# No ? or # anywhere (they would begin a query or fragment in our mailto: link), and a domain of
# domain characters only. An apostrophe is kept in the local part (RFC 5322): six Met team mailboxes have one.
_EMAIL = re.compile(r"^[^@\s<>\"(),;:?#%]+@[^@\s<>\"'(),;:?#%/\\&=]+\.[^@\s<>\"'(),;:?#%/\\&=]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{3,24}$")

# The most one team may hold. Real teams hold a handful of each; an answer with more is not believed
# (it is a failed fetch, reported), and never cut down to size.
MAX_OFFICERS = 200
MAX_ROUTES = 100  # the team's own and its officers' together
MAX_MEETINGS = 200
MAX_PRIORITIES = 100
MAX_PLACES = 100

# Per endpoint: the keys every item must have (their value may still be null), and the most items.
LIST_RULES: dict[str, tuple[tuple[str, ...], int]] = {
    "neighbourhoods": (("id", "name"), 5_000),
    "people": (("name",), MAX_OFFICERS),
    "events": (("title", "start_date"), MAX_MEETINGS),
    "priorities": (("issue",), MAX_PRIORITIES),
    "locations": ((), MAX_PLACES),  # a place may be named by its address alone
    "boundary": (("latitude", "longitude"), 100_000),
}


class ShapeError(ValueError):
    """A 200 answer that is not what its endpoint gives: a failed fetch, not an empty team."""


def _what(value: Any) -> str:
    """What an unexpected value is, for a report (an error object's message included, shortened)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        if "error" in value:
            return f"an error object ({one_line(str(value['error']), limit=80)!r})"
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def check_list(endpoint: str, value: Any) -> list[dict[str, Any]]:
    """`value` if it is the list `endpoint` gives (objects with their keys, no more than the cap); else ShapeError."""
    keys, cap = LIST_RULES[endpoint]
    if not isinstance(value, list):
        raise ShapeError(f"{endpoint}: expected a list, got {_what(value)}")
    if len(value) > cap:
        raise ShapeError(f"{endpoint}: {len(value)} items, more than the {cap} we accept")
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise ShapeError(f"{endpoint}: item {n} is {_what(item)}, not an object")
        missing = [key for key in keys if key not in item]
        if missing:
            raise ShapeError(f"{endpoint}: item {n} has no {', '.join(missing)}")
    return value


def check_listing(value: Any) -> list[dict[str, Any]]:
    """A force's neighbourhood list, every item with an id; else ShapeError (an empty list is well-shaped)."""
    items = check_list("neighbourhoods", value)
    for n, item in enumerate(items, 1):
        if not one_line(item["id"]):
            raise ShapeError(f"neighbourhoods: item {n} has an empty id")
    return items


def check_details(value: Any) -> dict[str, Any]:
    """`value` if it is a neighbourhood's details (with id, locations and contact_details); else ShapeError."""
    if not isinstance(value, dict) or "error" in value:
        raise ShapeError(f"details: expected an object, got {_what(value)}")
    missing = [key for key in ("id", "locations", "contact_details") if key not in value]
    if missing:
        raise ShapeError(f"details: no {', '.join(missing)}")
    check_list("locations", value["locations"])
    if not isinstance(value["contact_details"], dict):
        raise ShapeError(f"details: contact_details is {_what(value['contact_details'])}, not an object")
    return value


def boundary_points(value: Any) -> list[tuple[float, float]]:
    """A /boundary answer as (lat, lon) points; ShapeError when it is not a list of points or a point is unreadable."""
    points = []
    for n, item in enumerate(check_list("boundary", value), 1):
        lat, lon = parse_float(item["latitude"], -90, 90), parse_float(item["longitude"])
        if lat is None or lon is None:
            raise ShapeError(f"boundary: point {n} is not a latitude and longitude")
        points.append((lat, lon))
    return points


def titled_links(items: Any, limit: int = 50) -> list[dict[str, str]]:
    """police.uk `links` or `engagement_methods` as [{"title", "url", "description"?}]: http(s) URLs only."""
    out = []
    for item in as_list(items)[:limit]:
        url = web_url(item.get("url"))
        if url is None:
            continue
        link = {"title": one_line(item.get("title"), limit=200) or urlsplit(url).netloc, "url": url}
        description = plain_text(item.get("description"), limit=1000)
        if description:
            link["description"] = description
        out.append(link)
    return out


def check_force(value: Any) -> dict[str, Any]:
    """`value` if it is a force (an object with an id); else ShapeError."""
    if not isinstance(value, dict) or "error" in value or "id" not in value:
        raise ShapeError(f"force: expected an object with an id, got {_what(value)}")
    return value


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
        try:
            parsed = parsed.astimezone(LONDON).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first London time Python holds
            return None
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
    """Just the address, or None: a ?subject=/body= query or #fragment is cut off, and a mailto:
    link loses its scheme (and is percent-decoded), so neither the stored value nor our link carries them."""
    text = one_line(value, limit=None)
    if text:
        text = re.split(r"[?#]", text, maxsplit=1)[0]
        if text.lower().startswith("mailto:"):
            text = unquote(text[7:]).strip()
    return text if text and len(text) <= 254 and _EMAIL.match(text) else None


def phone_number(value: Any) -> str | None:
    """A phone number made of digits, spaces and + ( ) - . only, or None."""
    text = one_line(value, limit=None)
    if not text or not _PHONE.match(text):
        return None
    return text if sum(c.isdigit() for c in text) >= 3 else None


def contact_routes(details: Any, skip: frozenset[str] = frozenset()) -> list[RouteData]:
    """A police.uk contact_details object as typed routes, in the API's order; bad values and `skip` keys dropped."""
    routes = []
    for key, raw in as_dict(details).items():
        key = str(key).strip().lower()
        if key in IGNORED_CONTACT_KEYS or key in skip or raw in (None, ""):
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


def contact_fields(entity: str, details: Any) -> dict[str, Any]:
    """A record's own contact fields (the schema's `policeuk` keys) from a police.uk contact_details object:
    the first of its keys holding a valid value, normalised as an editor's would be (phones in E.164)."""
    details = {str(k).strip().lower(): raw for k, raw in as_dict(details).items()}
    out: dict[str, str | None] = {}
    for name, s in schema.specs(entity).items():
        found = None
        for key in s.policeuk:
            if s.kind == "phone":
                number = phone_number(details.get(key))
                found = parse_phone(number) if number else None
            else:
                address = email_address(details.get(key))
                found = check_email(address, None)[0] if address else None
            if found:
                break
        if s.policeuk:
            out[name] = found
    return out


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


OFFICER_CONTACT_KEYS = frozenset(key for s in schema.specs("officer").values() for key in s.policeuk)


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
                # An officer's phone and email are their work contact fields, shown once an editor marks
                # them public (issue 23), not routes residents see straight from police.uk.
                routes=contact_routes(person.get("contact_details"), skip=OFFICER_CONTACT_KEYS),
                **contact_fields("officer", person.get("contact_details")),
            )
        )
    return out


def meetings(events: Any, now: datetime) -> tuple[list[MeetingData], int, list[str]]:
    """The /events response; events with no readable start are left out (counted, not guessed), and so are
    events dated outside the window as of `now` (naive London time; finder.teams.dates), listed by title."""
    out, skipped, out_of_range = [], 0, []
    for event in as_list(events):
        start = parse_datetime(event.get("start_date"))
        title = one_line(event.get("title"), limit=300) or one_line(event.get("type"), limit=60)
        if start is None or not title:
            skipped += 1
            continue
        end = parse_datetime(event.get("end_date"))
        if not dates.clear(start, end, now):
            out_of_range.append(f"{title!r} ({one_line(event.get('start_date'), limit=40)})")
            continue
        out.append(
            MeetingData(
                title=title,
                kind=meeting_kind(event.get("type"), title),
                start=start,
                end=end if end and end >= start else None,
                place=one_line(event.get("address"), limit=500),
                description=plain_text(event.get("description"), limit=4000),
                contacts=contact_routes(event.get("contact_details"))[:10],
            )
        )
    return out, skipped, out_of_range


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
    extra_wards: list[str] | None = None,
    *,
    now: datetime,
) -> tuple[TeamData, list[str]]:
    """One neighbourhood's responses as a TeamData, and notes on what was left out; ShapeError over MAX_ROUTES.

    `now` (naive London time) bounds the events' dates."""
    details = as_dict(details)
    centre = as_dict(details.get("centre"))
    policeuk_id = str(reference.get("id") or details.get("id") or "").strip()
    name = one_line(details.get("name"), limit=200) or one_line(reference.get("name"), limit=200) or policeuk_id
    event_list, skipped_events, out_of_range = meetings(events, now)
    notes = [f"{skipped_events} event(s) without a readable start date left out"] if skipped_events else []
    if out_of_range:
        notes.append(
            f"{len(out_of_range)} event(s) dated outside the meeting window ({dates.window_words(now)}) left out: "
            + ", ".join(out_of_range)
        )
    lat, lon = parse_float(centre.get("latitude"), -90, 90), parse_float(centre.get("longitude"))
    data = TeamData(
        force_id=force_id,
        force_name=force_name,
        name=name,
        ward_code=ward_code,
        extra_wards=list(extra_wards or []),
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
        links=titled_links(details.get("links")),
    )
    routes = len(data.routes) + sum(len(o.routes) for o in data.officers)
    if routes > MAX_ROUTES:
        raise ShapeError(f"{routes} contact routes, more than the {MAX_ROUTES} one team may hold")
    return data, notes
