"""The one description of each team record's fields: what it is called, how it is checked, who sees it.

Each record is a dataclass whose fields carry a `Spec` in their metadata (`about(...)`). The dataclass is the sync's
input (police.uk and the sample loader describe a team with it; `finder.teams.records` applies it),
and the specs are what the rest is derived from: the staff forms (`finder.teams.forms`), the checks
(`finder.teams.validation.check`), the editable fields, history labels and form values
(`finder.staff.editing`), and the JSON API with its OpenAPI document (`finder.teams.api`).
A field without a Spec (a team's force, an officer's routes) is sync-only data, not a field an editor
sees. The ORM models that store these records are in `finder.store.models`.

To add a field to a record: add it here with its Spec, add its column to the model and an Alembic
revision, and show it in the templates that residents see (if it is public).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from finder.store.models import MEETING_KINDS, ROLES, ROUTE_KINDS

Kind = Literal["text", "textarea", "choice", "contact", "email", "phone", "url", "number", "date", "datetime", "flag"]
# How a kind is typed into a form (HTML input type; select and textarea are their own elements).
INPUT_TYPES: dict[str, str] = {
    "choice": "select",
    "textarea": "textarea",
    "url": "url",
    "number": "number",
    "date": "date",
    "datetime": "datetime-local",
    "email": "email",
    "phone": "tel",
    "flag": "checkbox",
}
# Each kind's value in the JSON API (JSON Schema), for fields whose Spec gives none of its own.
API_TYPES: dict[str, dict[str, Any]] = {
    "number": {"type": "integer"},
    "date": {"type": ["string", "null"], "format": "date"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "flag": {"type": "boolean"},
}


@dataclass(frozen=True)
class Spec:
    """One field of a record, declared once.

    `label`/`hint`: the staff form's words (and the history's); `noun`: how a check's message names it
    ("Enter the officer's name"); `kind` chooses the check and the input; `pattern` is a further rule with
    its message. `editable`: officers may change it. `synced`: a source (police.uk, the samples) gives it.
    `api`: its name in the JSON API ("" keeps it out), with `api_type` its JSON Schema. `public_when`:
    the flag field an editor sets before residents may see it (None: always public when `api` is set).
    `policeuk`: the keys of a police.uk `contact_details` object it is read from."""

    label: str
    noun: str
    kind: Kind = "text"
    hint: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: tuple[str, str] | None = None
    editable: bool = True
    synced: bool = True
    api: str | None = None
    api_type: dict[str, Any] | None = None
    public_when: str | None = None
    policeuk: tuple[str, ...] = ()

    @property
    def input_type(self) -> str:
        """The form's input type."""
        return INPUT_TYPES.get(self.kind, "text")

    def api_schema(self) -> dict[str, Any]:
        """The field's value in the JSON API, as JSON Schema."""
        if self.api_type is not None:
            return self.api_type
        if self.public_when is not None:  # the route it is shown as, or null until an editor marks it public
            route = {"$ref": "#/components/schemas/TeamContactRoute"}
            return {"anyOf": [route, {"type": "null"}], "description": "Null unless the team has made it public."}
        if self.choices:
            return {"enum": list(self.choices)}
        return API_TYPES.get(self.kind, {"type": "string"} if self.required else {"type": ["string", "null"]})


def about(**kwargs: Any) -> dict[str, Spec]:
    """A dataclass field's metadata: its Spec (from keyword arguments)."""
    return {"spec": Spec(**kwargs)}


ORDER = {
    "label": "Order on the page",
    "noun": "the order",
    "kind": "number",
    "hint": "Lower numbers come first. Left blank, a new one goes last.",
}


def fold(text: str | None) -> str:
    """Case- and space-insensitive form of a text, for keys."""
    return " ".join((text or "").split()).casefold()


def _digest(*parts: Any) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


@dataclass
class RouteData:
    """One way to reach a team or an officer."""

    kind: str = field(metadata=about(label="Kind", noun="the kind of contact", kind="choice", choices=ROUTE_KINDS))
    label: str = field(
        metadata=about(
            label="Label",
            noun="a label, like Team email",
            required=True,
            hint="What residents see, like Team email or Team phone.",
            api_type={"type": "string", "example": "Email"},
        )
    )
    value: str = field(
        metadata=about(
            label="Address, number or link",
            noun="the contact detail",
            kind="contact",
            required=True,
            hint="Phones like 020 7946 0123, mobiles like 07700 900123; emails on the force's domain.",
            api_type={"type": "string", "example": "stjames.sample@example.org"},
        )
    )
    hours: str | None = field(
        default=None,
        metadata=about(
            label="When it is answered (optional)",
            noun="the hours",
            hint="Like Monday to Friday, 9am to 5pm.",
            api_type={"type": ["string", "null"], "description": "When the route is answered, as the team gives it."},
        ),
    )
    display_order: int = field(default=0, metadata=about(**ORDER, synced=False, api=""))

    def key(self, owner: str = "team") -> str:
        """The natural key that matches this item to its stored row."""
        return f"{owner}|{self.kind}|{fold(self.value)}"[:700]


@dataclass
class OfficerData:
    """A team member as a source describes them."""

    name: str = field(metadata=about(label="Name", noun="the officer's name", required=True))
    rank: str | None = field(
        metadata=about(
            label="Rank as written (optional)",
            noun="the rank",
            hint="Like PC, PCSO, Sergeant.",
            api_type={"type": ["string", "null"], "example": "PCSO"},
        )
    )
    role: str = field(metadata=about(label="Role", noun="the officer's role", kind="choice", choices=ROLES))
    collar_number: str | None = field(
        default=None,
        metadata=about(
            label="Collar number (optional)",
            noun="the collar number",
            pattern=(r"[A-Za-z0-9 /-]+", "Collar number must contain only letters, numbers, spaces, / and -"),
        ),
    )
    bio: str | None = field(
        default=None,
        metadata=about(
            label="Short bio (optional)",
            noun="the short bio",
            kind="textarea",
            api_type={"type": ["string", "null"], "description": "Plain text (HTML from the source is removed)."},
        ),
    )
    # Work contact details only. Each is shown to residents once an editor ticks its "public" box;
    # police.uk's own contact_details for the officer fill them in, never public by themselves.
    work_phone: str | None = field(
        default=None,
        metadata=about(
            label="Work phone (optional)",
            noun="the work phone number",
            kind="phone",
            hint="A work landline like 020 7946 0999, or a work mobile like 07700 900123.",
            public_when="phone_public",
            policeuk=("telephone", "mobile"),
        ),
    )
    phone_public: bool = field(
        default=False,
        metadata=about(
            label="Show the work phone to the public",
            noun="whether to show the work phone",
            kind="flag",
            hint="Residents see it on the ward page, the embed, the contact card, the poster and the API.",
            synced=False,
            api="",
        ),
    )
    work_email: str | None = field(
        default=None,
        metadata=about(
            label="Work email (optional)",
            noun="the work email address",
            kind="email",
            hint="A work address on the force's domain, like firstname.lastname@met.police.uk.",
            public_when="email_public",
            policeuk=("email",),
        ),
    )
    email_public: bool = field(
        default=False,
        metadata=about(
            label="Show the work email to the public",
            noun="whether to show the work email",
            kind="flag",
            hint="Residents see it on the ward page, the embed, the contact card, the poster and the API.",
            synced=False,
            api="",
        ),
    )
    display_order: int = field(default=0, metadata=about(**ORDER, synced=False, api=""))
    routes: list[RouteData] = field(default_factory=list)


@dataclass
class MeetingData:
    """A meeting as a source describes it."""

    title: str = field(metadata=about(label="Title", noun="the meeting's title", required=True))
    kind: str = field(metadata=about(label="Kind", noun="the kind of meeting", kind="choice", choices=MEETING_KINDS))
    start: datetime = field(
        metadata=about(
            label="Starts",
            noun="the date and time it starts",
            kind="datetime",
            required=True,
            hint="London time.",
            api_type={
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Null when `date_unclear`.",
                "example": "2026-12-01T18:30:00+00:00",
            },
        )
    )
    end: datetime | None = field(
        default=None,
        metadata=about(label="Ends (optional)", noun="the date and time it ends", kind="datetime", hint="London time."),
    )
    place: str | None = field(default=None, metadata=about(label="Where (optional)", noun="where it is"))
    description: str | None = field(
        default=None, metadata=about(label="Details (optional)", noun="the description", kind="textarea")
    )
    contacts: list[RouteData] = field(default_factory=list)  # the event's own contact details

    def key(self) -> str:
        """The natural key that matches this item to its stored row."""
        return _digest(self.start.isoformat(), fold(self.title))

    def contact_json(self) -> str | None:
        """The event's contacts as stored: JSON [{"kind", "label", "value"}], or None."""
        return as_json([{"kind": r.kind, "label": r.label, "value": r.value} for r in self.contacts])


@dataclass
class PriorityData:
    """A priority as a source describes it."""

    issue: str = field(metadata=about(label="The issue", noun="the issue", kind="textarea", required=True))
    action: str | None = field(
        default=None,
        metadata=about(
            label="What the team is doing (optional)", noun="what the team is doing about it", kind="textarea"
        ),
    )
    issue_date: date | None = field(
        default=None, metadata=about(label="Set on (optional)", noun="the date it was set", kind="date")
    )
    action_date: date | None = field(
        default=None, metadata=about(label="Action updated on (optional)", noun="the date of the action", kind="date")
    )
    display_order: int = field(default=0, metadata=about(**ORDER, synced=False, api=""))

    def key(self) -> str:
        """The natural key that matches this item to its stored row."""
        return _digest(self.issue_date, fold(self.issue))


@dataclass
class PlaceData:
    """A station or contact point as a source describes it (not edited by officers: no Specs)."""

    name: str
    kind: str
    address: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    opening_hours: str | None = None
    description: str | None = None

    def key(self) -> str:
        """The natural key that matches this item to its stored row."""
        return f"{fold(self.name)}|{fold(self.postcode).replace(' ', '')}"[:300]


@dataclass
class TeamData:
    """A neighbourhood team as a source describes it; the fields with a Spec are the ones editors change."""

    force_id: str
    force_name: str
    name: str = field(
        metadata=about(
            label="Team name",
            noun="the team's name",
            required=True,
            api_type={"type": "string", "example": "St James's"},
        )
    )
    ward_code: str | None
    extra_wards: list[str] = field(default_factory=list)  # further wards the team serves
    policeuk_id: str | None = None
    description: str | None = field(
        default=None,
        metadata=about(
            label="About the team",
            noun="the description",
            kind="textarea",
            hint="A sentence or two residents will read.",
        ),
    )
    url_force: str | None = field(
        default=None,
        metadata=about(
            label="The team's page on the force website",
            noun="the team's web page",
            kind="url",
            hint="Starts with https://",
            api="url",
            api_type={"type": ["string", "null"], "description": "The team's page on the force's website."},
        ),
    )
    population: int | None = None
    centre_lat: float | None = None
    centre_lon: float | None = None
    routes: list[RouteData] = field(default_factory=list)
    officers: list[OfficerData] = field(default_factory=list)
    meetings: list[MeetingData] = field(default_factory=list)
    priorities: list[PriorityData] = field(default_factory=list)
    places: list[PlaceData] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)  # police.uk `links`, http(s) only


def as_json(items: list[dict[str, str]]) -> str | None:
    """A list as compact JSON text, or None when empty (what the JSON text columns hold)."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")) if items else None


# The records editors change, by the name the editing service, its forms and its history use.
RECORDS: dict[str, type] = {
    "team": TeamData,
    "route": RouteData,
    "officer": OfficerData,
    "meeting": MeetingData,
    "priority": PriorityData,
}


@cache
def specs(entity: str) -> dict[str, Spec]:
    """A record's described fields, in order: {name: Spec}."""
    return {f.name: f.metadata["spec"] for f in fields(RECORDS[entity]) if "spec" in f.metadata}


@cache
def editable(entity: str) -> tuple[str, ...]:
    """The fields an editor may change on a record, in form order."""
    return tuple(name for name, s in specs(entity).items() if s.editable)


def synced_values(entity: str, data: Any) -> dict[str, Any]:
    """The values a source gives for one record (what the sync compares and writes)."""
    return {name: getattr(data, name) for name, s in specs(entity).items() if s.synced}


def label(entity: str, name: str | None) -> str:
    """A field's label for people (the history, a conflict); its own name when it has no Spec."""
    found = specs(entity).get(name or "") if entity in RECORDS else None
    return re.sub(r" \(optional\)$", "", found.label) if found else (name or "")
