"""The one lookup: any query (postcode, outward code, point or ward code) becomes one answer.

The resident pages, the JSON API and the embed widget all call `Lookup.resolve`; no view holds
lookup logic. Errors are FinderErrors with a message a person can act on.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, overload
from urllib.parse import urlsplit

import numpy as np
import orjson
import shapely

from finder.errors import FinderError, InvalidInput, NotFound, OutsideArea
from finder.geo import geodata as layout
from finder.geo.geocoder import PostcodesIO
from finder.geo.geodata import District, GeoData
from finder.geo.postcodes import GIROBANK, ParsedPostcode, PostcodeFormatError, parse
from finder.geo.wards import Ward, to_bng
from finder.i18n import Text, joined, tr
from finder.ops.metrics import LOOKUPS
from finder.teams.directory import Team, TeamDirectory, TeamLookup, encoded, team_to_api

POLICE_UK = "https://www.police.uk/"
POLICE_SCOTLAND = "https://www.scotland.police.uk/"  # police.uk covers England, Wales and Northern Ireland
FORCES_FILE = Path(__file__).resolve().parent.parent / "data" / "forces.json"
POLICE_AREAS_FILE = FORCES_FILE.with_name("police_areas.json")
NON_GEOGRAPHIC_FILE = FORCES_FILE.with_name("non_geographic.json")
LONDON_DISTRICTS = "E09"  # the GSS prefix of London's boroughs and the City (local authority districts)
# A point whose nearest postcode (within this distance, inside the same ward boundary) is recorded in another
# ward takes that recorded ward, so a place and its postcode get one answer. The generalised ward boundaries put
# the Middle Temple's postcodes in Westminster; their record (and the law) puts them in the City.
RECORD_NEAR_M = 150.0
# How far from a point outside London the nearest GB postcode may be and still name its force.
NEAREST_POSTCODE_M = 5000.0
# Nearer Greater London's boundary than this, the data cannot say which side a point is: the generalised wards
# are drawn to 20 m. Such a point gets both answers, the London ward and the force beyond the line.
LONDON_EDGE_M = 20.0
# The Inner and Middle Temple are in the City of London police area by statute, but no boundary of theirs is held.
# A postcode in their district (EC4Y) recorded outside the City within the generalised wards' resolution (20 m) of
# the City's wards is near them: EC4Y 9BS, 9BW and 9DH (5-18 m). The next EC4Y postcode outside the City is 700 m off.
TEMPLES_OUTCODE = "EC4Y"
# The generalised wards' resolution on the water. Inside the GLA boundary every gap between the wards wider than
# twice this is water (the Thames and its creeks: the Lea, Bow, Deptford and Barking Creeks, the Wandle's mouth,
# the Darent; measured over the built wards), so a point farther than this from every ward is on the water. And a
# point on the water whose distances to two boroughs' banks differ by less than this is undecided: both are shown.
BANKS_TIE_M = 20.0
TEMPLES_NEAR_M = 20.0
CITY_FORCE = "city-of-london"
# The force-wide routes that reach the police from anywhere in the UK, given with a code that is not a place.
NATIONAL_ROUTES = ("emergency", "silent_999", "bsl_999", "emergency_sms", "text_relay", "crimestoppers")
WARD_MATCH = {
    layout.RECORDED: "recorded",
    layout.INSIDE: "inside",
    layout.NEAREST: "nearest",
    layout.NEAREST_BEYOND_LIMIT: "nearest",
}


@dataclass(frozen=True)
class ForceRef:
    """A police force outside London, named: its website only where a stored public page gives one, its
    non-emergency number as police.uk published it (with that date)."""

    id: str
    name: str
    website: str | None = None
    telephone: str | None = None
    telephone_as_of: str | None = None  # ISO date police.uk's force list giving `telephone` was fetched

    @classmethod
    def from_data(cls, force_id: str, data: dict[str, str | None]) -> ForceRef:
        return cls(force_id, data["name"] or "", data["website"], data.get("telephone"), data.get("telephone_as_of"))

    def to_api(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "name": self.name,
            "website": self.website,
            "telephone": self.telephone,
            "telephone_as_of": self.telephone_as_of,
        }


class PoliceAreas:
    """Which force polices a district (Police Act 1996, Schedule 1), or a place beyond England and Wales."""

    def __init__(self, path: Path = POLICE_AREAS_FILE) -> None:
        data = json.loads(path.read_text("utf-8"))
        self.forces = {fid: ForceRef.from_data(fid, f) for fid, f in data["forces"].items()}
        self.beyond = {key: ForceRef.from_data(b["id"], b) for key, b in data["beyond"].items()}
        self.counties: dict[str, str] = data["counties"]
        self.districts: dict[str, str] = data["districts"]
        self.postcode_areas: dict[str, str] = data["postcode_areas"]

    def for_district(self, district: District | None) -> ForceRef | None:
        """A district's force: listed by itself (unitary, metropolitan, Welsh), else with its county."""
        if district is None:
            return None
        if district.code.startswith("S"):
            return self.beyond["scotland"]
        force_id = self.districts.get(district.code) or self.counties.get(district.county or "")
        return self.forces.get(force_id) if force_id else None

    def for_postcode_area(self, outcode: str) -> ForceRef | None:
        """Northern Ireland (BT) and the Crown dependencies (GY, JE, IM), which Code-Point Open leaves out."""
        key = self.postcode_areas.get(re.match(r"[A-Z]*", outcode).group())  # type: ignore[union-attr]
        return self.beyond[key] if key else None


def find_elsewhere(force: ForceRef | None) -> dict[str, str] | None:
    """Where to look outside London: the force's own website, else police.uk (England, Wales, NI)."""
    if force is not None and force.website:
        return {"name": force.name, "url": force.website}
    if force is None or force.id in ("guernsey", "isle-of-man"):
        return None if force else {"name": "police.uk", "url": POLICE_UK}
    return {"name": "police.uk", "url": POLICE_UK}


def outside_london(
    place: str, district: District | None = None, force: ForceRef | None = None, *, lead: str | None = None
) -> OutsideArea:
    """The error for a real postcode, outward code or place that this finder does not cover, naming its force."""
    if lead:
        message = lead
    elif district:
        message = tr(
            "%(place)s is in %(district)s, outside the area this finder covers.", place=place, district=district.name
        )
    else:
        message = tr("%(place)s is outside London, the area this finder covers.", place=place)
    if force is not None:
        message = joined(message, tr("It is policed by %(force)s.", force=force.name))
        if force.telephone:
            message = joined(
                message,
                tr(
                    "Its non-emergency number is %(phone)s, as published on police.uk in March 2026.",
                    phone=force.telephone,
                ),
            )
        if not force.website and force.id in ("guernsey", "isle-of-man"):
            message = joined(message, tr("Contact %(force)s directly: police.uk does not cover it.", force=force.name))
    return OutsideArea(
        message,
        postcode=place,
        district={"code": district.code, "name": district.name} if district else None,
        force=force.to_api() if force else None,
        find_elsewhere=find_elsewhere(force),
    )


def kept_postcodes(error: FinderError) -> str:
    """What a surface keeps of a pasted text that gave an error: the postcodes found in it, never the rest."""
    return ", ".join(error.details.get("found") or [error.details.get("postcode") or ""])


def withdrawn_lead(postcode: str, last_listed: str | None) -> Text:
    """ "No longer in use", with the only date the data holds: the last release that listed the postcode."""
    if last_listed and re.fullmatch(r"\d{6}", last_listed):  # ONSPD's termination month
        return tr(
            "%(postcode)s is no longer in use: the ONS Postcode Directory records it as withdrawn in %(month)s.",
            postcode=postcode,
            month=f"{last_listed[:4]}-{last_listed[4:]}",
        )
    if last_listed:
        return tr(
            "%(postcode)s is no longer in use: Code-Point Open, the postcode list we use, has not listed it since "
            "its %(release)s release.",
            postcode=postcode,
            release=last_listed,
        )
    return tr("%(postcode)s is no longer in use.", postcode=postcode)


@dataclass(frozen=True)
class ContactRoute:
    """A way to reach the police that is true for every ward of a force, and when to use it.

    Where it comes from is said as it is: the public document (`source`), the date that document published it
    (`as_of`, None where nobody knows) and, in words, what the document is and whether anyone checked it.
    """

    id: str
    label: str
    value: str
    href: str
    use_when: str
    source: str  # the public document the route was taken from
    as_of: str | None  # ISO date that document published it; None: not known
    provenance: str  # what the source is, and whether anyone checked it, in words

    @property
    def source_site(self) -> str:
        """The source page's host, to name the link on the about page."""
        return urlsplit(self.source).hostname or self.source

    def to_api(self) -> dict[str, str | None]:
        """`checked` stays for existing clients, null: nobody opened these pages to check them."""
        return {**self.__dict__, "checked": None}


@dataclass(frozen=True)
class Sourced:
    """Where a force-wide fact (its website) comes from: the document, its date, and what it is."""

    source: str
    as_of: str | None
    provenance: str

    @property
    def source_site(self) -> str:
        return urlsplit(self.source).hostname or self.source


@dataclass(frozen=True)
class Engagement:
    """A force's public account (Facebook, X) as its police.uk record lists it."""

    label: str
    url: str


@dataclass(frozen=True)
class ListedNeighbourhoods:
    """The neighbourhood teams police.uk lists for a force whose neighbourhoods are not wards (the City's),
    named without saying which covers a ward: police.uk does not say."""

    names: tuple[str, ...]
    source: str
    as_of: str  # ISO date the list was fetched from police.uk

    def to_api(self) -> dict[str, Any]:
        return {"names": list(self.names), "source": self.source, "as_of": self.as_of, "covers_ward": None}


# data.police.uk's list of the City's neighbourhoods, fetched 9 March 2026 (shared/data-raw SOURCES.md section 6).
LISTED_NEIGHBOURHOODS = {
    "city-of-london": (
        Path("policeuk-forces-2026-03") / "neighbourhoods_city-of-london_2026-03-09.json",
        "https://data.police.uk/api/city-of-london/neighbourhoods",
        "2026-03-09",
    )
}


def listed_neighbourhoods(force_id: str, raw_dir: Path | None) -> ListedNeighbourhoods | None:
    """Read from the raw file where it is (never copied into the repository); None where it is absent."""
    if raw_dir is None or force_id not in LISTED_NEIGHBOURHOODS:
        return None
    relative, source, as_of = LISTED_NEIGHBOURHOODS[force_id]
    path = raw_dir / relative
    if not path.is_file():
        return None
    items = json.loads(path.read_text("utf-8"))
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None  # not police.uk's answer: the force-wide routes, as without the file
    names = tuple(item["name"].strip() for item in items)
    return ListedNeighbourhoods(names, source, as_of) if names else None


@dataclass(frozen=True)
class Force:
    """A police force and its force-wide contact routes."""

    id: str
    name: str
    short_name: str
    website: str
    routes: tuple[ContactRoute, ...]
    website_provenance: Sourced | None = None
    engagement: tuple[Engagement, ...] = ()
    neighbourhoods: ListedNeighbourhoods | None = None

    def __hash__(self) -> int:
        return hash(self.id)  # equal forces share it; hashing every route cost more than a kept page's lookup

    @cached_property
    def api_routes(self) -> orjson.Fragment:
        """The routes as the API gives them, encoded once: 6 KB of every London answer."""
        return encoded([route.to_api() for route in self.routes])


def load_forces(path: Path = FORCES_FILE, raw_dir: Path | None = None) -> dict[str, Force]:
    """Read the reviewed force and contact-route file; a force names a shared route by its id. With `raw_dir`,
    a force whose neighbourhoods are not wards gets police.uk's list of them, where the raw file is."""
    data = json.loads(path.read_text("utf-8"))
    shared = data.get("shared_routes", {})

    def route(entry: str | dict[str, str]) -> ContactRoute:
        return ContactRoute(id=entry, **shared[entry]) if isinstance(entry, str) else ContactRoute(**entry)

    return {
        force_id: Force(
            force_id,
            f["name"],
            f["short_name"],
            f["website"],
            tuple(route(entry) for entry in f["routes"]),
            Sourced(**f["website_provenance"]),
            tuple(Engagement(**e) for e in f["engagement"]),
            listed_neighbourhoods(force_id, raw_dir),
        )
        for force_id, f in data["forces"].items()
    }


@dataclass(frozen=True, kw_only=True)
class WardAnswer:
    """A query answered with one ward: what postcode, point and ward-code answers share.

    One type per kind of answer (`PostcodeAnswer`, `PointAnswer`, `WardChosen`, and `OutcodeAnswer` for
    an outward code's list of wards), so a surface reads only the fields its kind has.
    """

    kind: ClassVar[Literal["postcode", "point", "ward"]]
    ward: Ward
    force: Force
    ward_match: Literal["recorded", "inside", "nearest", "chosen"]
    distance_m: float | None = None
    lat: float | None = None
    lon: float | None = None
    other_ward: Ward | None = None  # where the postcode's record and the ward boundaries disagree
    other_force: Force | None = None
    other_reason: Literal["postcode_centre", "ward_boundary"] | None = None
    neighbours: tuple[Ward, ...] = ()
    teams: TeamLookup | None = None  # the ward's team from the store; None when no store is configured

    def __hash__(self) -> int:
        """From the fields that tell answers apart most cheaply (equal answers share them): a kept page's
        key holds its answer (finder/web/pagecache.py), hashed on every view."""
        team = self.teams.team if self.teams else None
        return hash((self.kind, self.ward.code, self.lat, self.lon, team and team.name))

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def team(self) -> Team | None:
        """The ward's neighbourhood team, or None when none is loaded (see `team_status` for why)."""
        return self.teams.team if self.teams else None

    @property
    def team_status(self) -> Literal["loaded", "none", "unavailable"]:
        return self.teams.status if self.teams else "none"

    def _query_fields(self, body: dict[str, Any]) -> None:
        """What the query itself adds to the API answer, before the ward (a postcode's own fields)."""

    def to_api(self) -> dict[str, Any]:
        """The JSON shape of a ward-level answer (postcode, point or ward query)."""
        body: dict[str, Any] = {}
        self._query_fields(body)
        if self.has_location:
            body["location"] = {"lat": self.lat, "lon": self.lon}
        body["ward"] = {"code": self.ward.code, "name": self.ward.name}
        body["borough"] = {"code": self.ward.borough_code, "name": self.ward.borough_name}
        body["force"] = {"id": self.force.id, "name": self.force.name, "website": self.force.website}
        body["contact_routes"] = self.force.api_routes
        body["ward_match"] = {"method": self.ward_match, "distance_m": self.distance_m}
        body["other_ward"] = (
            {
                "code": self.other_ward.code,
                "name": self.other_ward.name,
                "borough": {"code": self.other_ward.borough_code, "name": self.other_ward.borough_name},
                "force": {
                    "id": self.other_force.id,
                    "name": self.other_force.name,
                    "website": self.other_force.website,
                },
                "reason": self.other_reason,
            }
            if self.other_ward is not None and self.other_force is not None
            else None
        )
        body["team_status"] = self.team_status
        body["team"] = team_to_api(self.teams, self.ward.code) if self.teams else None
        # The City's neighbourhood teams, which are not wards: last, as an addition (CHANGELOG.md).
        neighbourhoods = self.force.neighbourhoods
        body["force_neighbourhoods"] = neighbourhoods.to_api() if neighbourhoods else None
        return body


@dataclass(frozen=True)
class NearTemples:
    """A postcode recorded outside the City, near the Inner and Middle Temple, which the City of London Police
    polices by statute. Whether the postcode is inside a Temple cannot be settled: no Temple boundary is held."""

    distance_m: float  # from the City of London's wards
    force: Force  # the City of London Police

    def to_api(self) -> dict[str, Any]:
        return {
            "distance_m": self.distance_m,
            "within_m": TEMPLES_NEAR_M,
            "inside_temple": None,  # unknown: the data holds no Temple boundary
            "force": {"id": self.force.id, "name": self.force.name, "website": self.force.website},
            "contact_routes": self.force.api_routes,
        }


@dataclass(frozen=True, kw_only=True)
class PostcodeAnswer(WardAnswer):
    """A full postcode: its recorded ward, where it is, and whether it is still in use."""

    kind: ClassVar[Literal["postcode"]] = "postcode"
    postcode: str
    status: Literal["live", "terminated"]
    source: Literal["codepoint", "postcodes.io"]
    corrected_from: str | None = None  # what was typed, when it was read as another postcode (SWIA -> SW1A)
    last_listed: str | None = None  # a withdrawn postcode's last release listing it: the only date the data holds
    found_in_text: bool = False  # read from a longer text (a pasted address), which is not kept
    near_temples: NearTemples | None = None

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.postcode))

    def _query_fields(self, body: dict[str, Any]) -> None:
        body["postcode"] = self.postcode
        body["status"] = self.status

    def to_api(self) -> dict[str, Any]:
        """A withdrawn postcode's last listing comes last, as an addition (CHANGELOG.md)."""
        body = super().to_api()
        body["last_listed"] = self.last_listed
        body["near_temples"] = self.near_temples.to_api() if self.near_temples else None
        return body


@dataclass(frozen=True)
class LondonEdge:
    """A point within LONDON_EDGE_M of Greater London's boundary: which side the GLA boundary puts it, and who
    polices the other side (the district of the nearest postcode outside London), since the data cannot decide."""

    distance_m: float
    inside: bool
    postcode: str | None = None  # the nearest postcode outside London, within NEAREST_POSTCODE_M
    district: District | None = None
    force: ForceRef | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "distance_m": self.distance_m,
            "side": "inside" if self.inside else "outside",
            "outside": {
                "postcode": self.postcode,
                "district": {"code": self.district.code, "name": self.district.name} if self.district else None,
                "force": self.force.to_api() if self.force else None,
            },
        }


@dataclass(frozen=True, kw_only=True)
class PointAnswer(WardAnswer):
    """A latitude and longitude: the ward its point lies in (or the recorded ward of the postcode there)."""

    kind: ClassVar[Literal["point"]] = "point"
    london_edge: LondonEdge | None = None

    def to_api(self) -> dict[str, Any]:
        """Near London's boundary, the other side's answer comes last, as an addition (CHANGELOG.md)."""
        body = super().to_api()
        body["london_edge"] = self.london_edge.to_api() if self.london_edge else None
        return body


@dataclass(frozen=True, kw_only=True)
class WardChosen(WardAnswer):
    """A ward asked for by its code (a ward page, a map click's redirect): no place of its own."""

    kind: ClassVar[Literal["ward"]] = "ward"
    ward_match: Literal["recorded", "inside", "nearest", "chosen"] = "chosen"


@dataclass(frozen=True, kw_only=True)
class OutcodeAnswer:
    """An outward code (SW1A): the London wards its postcodes are in, and the share outside London."""

    kind: ClassVar[Literal["outcode"]] = "outcode"
    outcode: str
    outcode_wards: tuple[tuple[Ward, int], ...]
    outcode_total: int  # every live GB postcode in the outward code, London or not
    outcode_outside: tuple[tuple[District, ForceRef | None, int], ...] = ()

    @property
    def outcode_outside_count(self) -> int:
        return sum(n for _, _, n in self.outcode_outside)


Answer = PostcodeAnswer | PointAnswer | WardChosen | OutcodeAnswer
A = TypeVar("A", bound=WardAnswer)


class Lookup:
    """Resolves queries against the built geodata, the force file and an optional geocoder."""

    def __init__(
        self,
        geodata: GeoData,
        forces: dict[str, Force],
        geocoder: PostcodesIO | None = None,
        teams: TeamDirectory | None = None,
    ) -> None:
        self.geo = geodata
        self.forces = forces
        self.geocoder = geocoder
        self.teams = teams
        self.areas = PoliceAreas()
        non_geographic = json.loads(NON_GEOGRAPHIC_FILE.read_text("utf-8"))
        self.non_geographic_outcodes: dict[str, str] = non_geographic["outcodes"]
        self.non_geographic_postcodes: dict[str, str] = non_geographic["postcodes"]
        self.non_geographic_areas: dict[str, dict[str, str]] = non_geographic["areas"]
        met_routes = forces["metropolitan"].routes if "metropolitan" in forces else ()
        self.national_routes = tuple(r for r in met_routes if r.id in NATIONAL_ROUTES)
        # For each ward boundary holding a live postcode recorded elsewhere (about 250 such postcodes), every
        # live postcode inside that boundary: a point there answers as its nearest postcode does.
        rows = geodata.postcodes.rows
        live_anywhere = rows["status"] == layout.LIVE
        live = live_anywhere & (rows["centre"] >= 0)
        # a set, not np.unique: numpy's unique imports numpy.ma (10-25 ms at start) when asked for values alone
        odd_centres = sorted(set(rows["centre"][live & (rows["centre"] != rows["ward"])].tolist()))
        near = rows[live & np.isin(rows["centre"], odd_centres)][["easting", "northing", "ward", "centre"]]
        self._near_odd: dict[int, np.ndarray] = {int(c): near[near["centre"] == c].copy() for c in odd_centres}
        # The live postcodes published in no ward's boundary (22: piers, moorings, HMS Belfast's SE1 2JH).
        self._on_water = rows[live_anywhere & (rows["centre"] < 0)][["easting", "northing"]].copy()

    @overload
    def resolve(self, *, postcode: str) -> PostcodeAnswer | OutcodeAnswer: ...
    @overload
    def resolve(self, *, lat: Any, lon: Any) -> PointAnswer: ...
    @overload
    def resolve(self, *, ward: str) -> WardChosen: ...

    def resolve(
        self,
        *,
        postcode: str | None = None,
        lat: Any = None,
        lon: Any = None,
        ward: str | None = None,
    ) -> Answer:
        """Turn one query into one answer, or raise a FinderError that says what went wrong."""
        kind = "postcode" if postcode is not None else "point" if lat is not None or lon is not None else "ward"
        try:
            answer: Answer
            if postcode is not None:
                answer = self._postcode(postcode)
            elif lat is not None or lon is not None:
                answer = self._point(lat, lon)
            elif ward is not None:
                answer = self._ward(ward)
            else:
                raise InvalidInput(tr("Enter a postcode, like SW1A 2AA"), code="invalid_postcode")
        except FinderError as exc:
            LOOKUPS.labels(kind, exc.code).inc()  # the error's code: a short fixed word, never the query
            raise
        LOOKUPS.labels(kind, "outcode" if isinstance(answer, OutcodeAnswer) else "ward").inc()
        return answer

    def force_beyond_london(self, force_id: str) -> ForceRef | None:
        """A force outside London named by its id (a London force, or an unknown id, is None)."""
        return None if force_id in self.forces else self.areas.forces.get(force_id)

    def _with_ward(
        self,
        kind: type[A],
        ward: Ward,
        other_ward: Ward | None = None,
        bng: tuple[float, float] | None = None,
        **fields: Any,
    ) -> A:
        """The answer for a ward; `bng` is the place asked about in grid metres (None for a ward asked for by code)."""
        teams = self.teams.lookup(ward.code, bng=bng) if self.teams else None
        return kind(
            ward=ward,
            force=self.forces[ward.force_id],
            other_ward=other_ward,
            other_force=self.forces[other_ward.force_id] if other_ward else None,
            neighbours=self.geo.wards.neighbours(ward.code),
            teams=teams,
            **fields,
        )

    def _postcode(self, text: str) -> PostcodeAnswer | OutcodeAnswer:
        try:
            parsed = parse(text)
        except PostcodeFormatError as exc:
            in_text = {"found": list(exc.found), "found_in_text": True} if exc.in_text else {}
            raise InvalidInput(exc.args[0], code="invalid_postcode", **in_text) from None  # a Text: shown translated
        if not parsed.in_text:
            return self._parsed_postcode(text, parsed)
        try:
            return self._parsed_postcode(text, parsed)
        except FinderError as error:
            error.details["found_in_text"] = True  # a surface can drop the pasted text and keep the postcode
            raise

    def _parsed_postcode(self, text: str, parsed: ParsedPostcode) -> PostcodeAnswer | OutcodeAnswer:
        self._refuse_not_a_place(parsed.value, parsed.outcode)
        if parsed.kind == "outcode":
            return self._outcode(parsed.value)
        pc = parsed.value
        corrected = text.strip() if parsed.corrected and not parsed.in_text else None
        row_no = self.geo.postcodes.find(pc)
        row = layout.PostcodeRow.read(self.geo.postcodes.rows, row_no) if row_no is not None else None
        last_listed = self.geo.last_listed(pc) if row is not None and row.status != layout.LIVE else None
        self._refuse_non_geographic(pc, parsed.outcode, withdrawn=row is not None and row.status != layout.LIVE)
        if row is not None:
            ward_no, centre = row.ward, row.centre
            return self._with_ward(
                PostcodeAnswer,
                self.geo.wards.wards[ward_no],
                self.geo.wards.wards[centre] if centre not in (-1, ward_no) else None,
                bng=(float(row.easting), float(row.northing)),  # Code-Point's own, which lat and lon came from
                other_reason="postcode_centre" if centre not in (-1, ward_no) else None,
                postcode=pc,
                status="live" if row.status == layout.LIVE else "terminated",
                lat=round(row.lat, 6),
                lon=round(row.lon, 6),
                ward_match=WARD_MATCH[row.match],
                source="codepoint",
                corrected_from=corrected,
                found_in_text=parsed.in_text,
                last_listed=last_listed,
                near_temples=self._near_temples(pc, self.geo.wards.wards[ward_no], row.easting, row.northing),
            )
        gb_row = self.geo.gb_postcodes.find(pc)
        if gb_row is not None:
            district = self.geo.district_of(pc)
            if district is None:
                raise NotFound(
                    tr(
                        "%(postcode)s is a real postcode, but it has no place on the map: Code-Point Open gives it no "
                        "location, as for most PO boxes. It is not a home address, so it has no ward team. "
                        "Enter the postcode of the place you want the police team for.",
                        postcode=pc,
                    ),
                    code="po_box_postcode",
                    postcode=pc,
                )
            raise outside_london(pc, district, self.areas.for_district(district))
        if parsed.outcode not in self.geo.outcodes:
            self._refuse_old_district(pc, parsed.outcode)
            raise outside_london(pc, force=self.areas.for_postcode_area(parsed.outcode))
        remote = self.geocoder.lookup(pc) if self.geocoder else None
        if remote is not None:
            easting, northing = to_bng(remote.lon, remote.lat)
            match = self.geo.wards.locate_bng(easting, northing)
            if match is None:
                raise outside_london(pc, District("", remote.district) if remote.district else None)
            return self._with_ward(
                PostcodeAnswer,
                match.ward,
                bng=(easting, northing),
                postcode=pc,
                status="live",
                lat=round(remote.lat, 6),
                lon=round(remote.lon, 6),
                ward_match=match.how,
                distance_m=match.distance_m if match.how == "nearest" else None,
                source="postcodes.io",
                corrected_from=corrected,
                found_in_text=parsed.in_text,
                near_temples=self._near_temples(pc, match.ward, easting, northing),
            )
        raise NotFound(
            tr("We could not find %(postcode)s. Check it is typed correctly, or try a nearby postcode.", postcode=pc),
            code="postcode_not_found",
            postcode=pc,
        )

    def _near_temples(self, postcode: str, ward: Ward, easting: float, northing: float) -> NearTemples | None:
        """Near the Inner and Middle Temple: an EC4Y postcode outside the City within TEMPLES_NEAR_M of its wards."""
        city = self.forces.get(CITY_FORCE)
        if city is None or ward.force_id == CITY_FORCE or not postcode.startswith(f"{TEMPLES_OUTCODE} "):
            return None
        distance = float(self._city_outline.distance(shapely.Point(easting, northing)))
        return NearTemples(round(distance, 1), city) if distance <= TEMPLES_NEAR_M else None

    @cached_property
    def _city_outline(self) -> shapely.Geometry:
        """The City of London's wards as one shape, in grid metres (made on first use: EC4Y postcodes only)."""
        wards = self.geo.wards
        return shapely.union_all(wards.bng[[w.index for w in wards.wards if w.force_id == CITY_FORCE]])

    def _refuse_not_a_place(self, code: str, outcode: str) -> None:
        """Codes in an area that is no place at all (BX, XM, ZZ...): say what they are, give the routes that
        reach the police from anywhere, and never guess a place (sources in finder/data/non_geographic.json)."""
        area = self.non_geographic_areas.get(re.match(r"[A-Z]*", outcode).group())  # type: ignore[union-attr]
        if area is None:
            return
        if area["kind"] == "non_geographic":
            lead = tr(
                "%(code)s is not a place: it is a non-geographic postcode, for %(what)s.", code=code, what=area["what"]
            )
        else:
            lead = tr("%(code)s is not a postcode in use, and it names %(what)s.", code=code, what=area["what"])
        raise NotFound(
            joined(
                lead,
                tr("It cannot tell us where you are, so we cannot name your police team."),
                tr("Enter the postcode of the place you want the police team for, or use the routes below."),
            ),
            code="not_a_place",
            postcode=code,
            kind=area["kind"],
            what=area["what"],
            contact_routes=[route.to_api() for route in self.national_routes],
            find_elsewhere={"name": "police.uk", "url": POLICE_UK},
        )

    def _refuse_old_district(self, postcode: str, outcode: str) -> None:
        """SW1 1AA: a full postcode written with a London district that is now split (SW1A, SW1E...). Offer the
        real postcodes with its inward code, one per part of the district, never choosing among them."""
        parts = sorted(oc for oc in self.geo.outcodes if re.fullmatch(rf"{outcode}[A-Z]", oc))
        if not parts:
            return
        inward = postcode.split(" ")[1]
        rows = self.geo.postcodes.rows
        found = [
            pc
            for pc in (f"{part} {inward}" for part in parts)
            if (row := self.geo.postcodes.find(pc)) is not None and rows[row]["status"] == layout.LIVE
        ]
        message = tr(
            "%(postcode)s is written with %(outcode)s, a London postal district now split into the outward codes "
            "%(parts)s.",
            postcode=postcode,
            outcode=outcode,
            parts=", ".join(parts),
        )
        if len(found) == 1:
            message = joined(message, tr("Is it %(candidate)s?", candidate=found[0]))
        elif found:
            message = joined(message, tr("Is it one of %(candidates)s?", candidates=", ".join(found)))
        raise InvalidInput(
            joined(message, tr("Enter your full postcode with the letter after %(outcode)s.", outcode=outcode)),
            code="postal_district",
            postcode=postcode,
            outcodes=parts,
            postcodes=found,
        )

    def _refuse_non_geographic(self, postcode: str, outcode: str, *, withdrawn: bool = False) -> None:
        """PO boxes and other postcodes that are not a place (sources in finder/data/non_geographic.json).
        A withdrawn one says first that it is no longer in use, with the last release that listed it."""
        if postcode == GIROBANK:
            raise NotFound(
                tr(
                    "%(postcode)s is a real postcode, but not a place anyone lives: it was made for post to "
                    "Girobank in Bootle, Merseyside, and is not in London. Enter the postcode of the place "
                    "you want the police team for.",
                    postcode=GIROBANK,
                ),
                code="non_geographic_postcode",
                postcode=postcode,
            )
        what = self.non_geographic_postcodes.get(postcode) or self.non_geographic_outcodes.get(outcode)
        if what and withdrawn:
            last_listed = self.geo.last_listed(postcode)
            raise NotFound(
                joined(
                    withdrawn_lead(postcode, last_listed),
                    tr(
                        "It was a postcode for %(what)s, not a home address, so it had no ward team of its own. "
                        "Enter the postcode of the place you want the police team for.",
                        what=what,
                    ),
                ),
                code="po_box_postcode",
                postcode=postcode,
                status="terminated",
                last_listed=last_listed,
            )
        if what:
            raise NotFound(
                tr(
                    "%(postcode)s is a postcode for %(what)s, not a home address, so it has no ward team of its own. "
                    "Enter the postcode of the place you want the police team for.",
                    postcode=postcode,
                    what=what,
                ),
                code="po_box_postcode",
                postcode=postcode,
            )

    def _outcode(self, outcode: str) -> OutcodeAnswer:
        what = self.non_geographic_outcodes.get(outcode)
        if what:
            raise NotFound(
                tr(
                    "%(outcode)s postcodes are for %(what)s, not home addresses, so they have no ward team of their "
                    "own. Enter the postcode of the place you want the police team for.",
                    outcode=outcode,
                    what=what,
                ),
                code="po_box_postcode",
                postcode=outcode,
            )
        wards = self.geo.outcodes.get(outcode)
        counted = [(d, n) for d, n in self.geo.outcode_districts(outcode) if d is not None]
        total = sum(n for _, n in counted)
        outside = tuple(
            (d, self.areas.for_district(d), n) for d, n in counted if not d.code.startswith(LONDON_DISTRICTS)
        )
        if not wards:
            forces: dict[ForceRef | None, int] = {}
            for _, force, n in outside:
                forces[force] = forces.get(force, 0) + n
            if len(forces) > 1 or None in forces:
                raise self._forces_of_outcode(outcode, forces, total)
            if outside:
                district, force, n = outside[0]
                if n == total:
                    share = tr(
                        "All postcodes starting %(outcode)s are in %(district)s.",
                        outcode=outcode,
                        district=district.name,
                    )
                else:
                    share = tr(
                        "%(n)s of the %(total)s postcodes starting %(outcode)s are in %(district)s.",
                        n=f"{n:,}",
                        total=f"{total:,}",
                        outcode=outcode,
                        district=district.name,
                    )
                raise outside_london(
                    outcode,
                    district,
                    force,
                    lead=joined(tr("%(place)s is outside London, the area this finder covers.", place=outcode), share),
                )
            if wards is not None:
                raise NotFound(
                    tr(
                        "No postcodes in %(outcode)s are in use any more. Enter your full postcode, like SW1A 2AA.",
                        outcode=outcode,
                    ),
                    code="postcode_not_found",
                    postcode=outcode,
                )
            parts = sorted(oc for oc in self.geo.outcodes if re.fullmatch(rf"{outcode}[A-Z]", oc))
            if parts:
                raise InvalidInput(
                    tr(
                        "%(outcode)s is a London postal district, now split into the outward codes %(parts)s. "
                        "Enter your full postcode, like %(example)s, or one of those codes.",
                        outcode=outcode,
                        parts=", ".join(parts),
                        example=f"{parts[0]} 1AA",
                    ),
                    code="postal_district",
                    postcode=outcode,
                    outcodes=parts,
                )
            raise outside_london(outcode, force=self.areas.for_postcode_area(outcode))
        return OutcodeAnswer(
            outcode=outcode,
            outcode_wards=tuple((self.geo.wards.by_code[code], n) for code, n in wards),
            outcode_total=total,
            outcode_outside=outside,
        )

    def _forces_of_outcode(self, outcode: str, forces: dict[ForceRef | None, int], total: int) -> OutsideArea:
        """An outward code outside London whose postcodes more than one force polices: each force with its share,
        largest first, and a request for the full postcode; never one force for all of them."""
        ranked = sorted(forces.items(), key=lambda fn: (-fn[1], fn[0].name if fn[0] else "~"))
        shares = [
            tr(
                "%(force)s: %(n)s of its %(total)s postcodes (%(percent)s).",
                force=force.name if force else tr("A force we cannot name"),
                n=f"{n:,}",
                total=f"{total:,}",
                percent=f"{round(100 * n / total)}%" if 100 * n >= total else "<1%",
            )
            for force, n in ranked
        ]
        return OutsideArea(
            joined(
                tr("%(place)s is outside London, the area this finder covers.", place=outcode),
                tr("Its postcodes are policed by more than one force:"),
                *shares,
                tr("Enter your full postcode to find which force polices yours."),
            ),
            code="outcode_spans_forces",
            postcode=outcode,
            district=None,
            force=None,
            forces=[
                {"force": force.to_api() if force else None, "postcodes": n, "share": round(n / total, 4)}
                for force, n in ranked
            ],
            find_elsewhere={"name": "police.uk", "url": POLICE_UK},
        )

    def _recorded_near(self, easting: float, northing: float, ward: Ward) -> tuple[Ward, float] | None:
        """The recorded ward of the point's nearest postcode in `ward`'s boundary, when the record names another."""
        near = self._near_odd.get(ward.index)
        if near is None:
            return None
        d = np.hypot(near["easting"] - easting, near["northing"] - northing)
        i = int(np.argmin(d))
        if d[i] > RECORD_NEAR_M or near[i]["ward"] == ward.index:
            return None
        return self.geo.wards.wards[int(near[i]["ward"])], round(float(d[i]), 1)

    def _has_postcode(self, easting: float, northing: float) -> bool:
        """Whether a live postcode is published within BANKS_TIE_M of this point on the water: a place with an
        address (a pier, a mooring), answered as its postcode is, so a place and its postcode get one answer."""
        d = np.hypot(self._on_water["easting"] - easting, self._on_water["northing"] - northing)
        return bool(len(d)) and float(d.min()) <= BANKS_TIE_M

    def _point(self, lat: Any, lon: Any) -> PointAnswer:
        try:
            lat_f, lon_f = float(lat), float(lon)
        except (TypeError, ValueError):
            raise InvalidInput(
                tr("Give a latitude and longitude as decimal numbers, like lat=51.5014&lon=-0.1419"),
                code="invalid_location",
            ) from None
        if not (math.isfinite(lat_f) and math.isfinite(lon_f) and -90 <= lat_f <= 90 and -180 <= lon_f <= 180):
            raise InvalidInput(
                tr("Latitude must be between -90 and 90 and longitude between -180 and 180"),
                code="invalid_location",
            )
        easting, northing = to_bng(lon_f, lat_f)
        # Inside or outside London is decided first, by the GLA boundary: the wards' 100 m allowance is for
        # their generalised edges, and must not carry a point in Surrey into a London ward.
        finite = math.isfinite(easting + northing)
        side = self.geo.london.signed_distance(easting, northing, LONDON_EDGE_M) if finite else math.inf
        if side > LONDON_EDGE_M:
            raise self._outside_point(lat_f, lon_f, easting, northing, beyond_london=True)
        match = self.geo.wards.locate_bng(easting, northing)
        if match is None and side < 0:
            raise self._on_river(lat_f, lon_f, easting, northing)
        if match is None:
            raise self._outside_point(lat_f, lon_f, easting, northing, beyond_london=False)
        if match.how == "nearest" and side < 0 and not self._has_postcode(easting, northing):
            near, far = self.geo.wards.river_banks(easting, northing)
            if far is not None and far[0].borough_code != near[0].borough_code and far[1] - near[1] < BANKS_TIE_M:
                raise self._on_river(lat_f, lon_f, easting, northing, undecided=True)
            if near[1] > BANKS_TIE_M:  # on the water by a bank, maybe a creek's: the river is not named
                raise self._on_river(lat_f, lon_f, easting, northing, thames=False)
        edge = None
        if abs(side) <= LONDON_EDGE_M:
            nearest = self.geo.nearest_gb_postcode(easting, northing, NEAREST_POSTCODE_M, outside=LONDON_DISTRICTS)
            edge = LondonEdge(
                round(abs(side), 1),
                side <= 0,
                nearest[0] if nearest else None,
                nearest[1] if nearest else None,
                self.areas.for_district(nearest[1]) if nearest else None,
            )
        recorded = self._recorded_near(easting, northing, match.ward)
        if recorded is not None:
            return self._with_ward(
                PointAnswer,
                recorded[0],
                match.ward,
                bng=(easting, northing),
                other_reason="ward_boundary",
                lat=round(lat_f, 6),
                lon=round(lon_f, 6),
                ward_match="recorded",
                distance_m=recorded[1],
                london_edge=edge,
            )
        return self._with_ward(
            PointAnswer,
            match.ward,
            bng=(easting, northing),
            lat=round(lat_f, 6),
            lon=round(lon_f, 6),
            ward_match=match.how,
            distance_m=match.distance_m if match.how == "nearest" else None,
            london_edge=edge,
        )

    def _on_river(
        self, lat: float, lon: float, easting: float, northing: float, *, undecided: bool = False, thames: bool = True
    ) -> NotFound:
        """A point inside the GLA boundary on the water, where the wards stop at the bank: no ward covers it or
        comes within 100 m (the Thames), or none within BANKS_TIE_M (`thames` false: a creek's water as well as
        the Thames', so the water is not named). Name the boroughs on each bank, nearest first, and the Met, which
        polices the river through its Marine Policing Unit (no contact of the unit's own is held, so the Met's
        routes), never a ward of its own. `undecided`: about as near two boroughs' banks (BANKS_TIE_M), so the
        answer says the boundaries cannot decide."""
        near, far = self.geo.wards.river_banks(easting, northing)
        banks = [near] if far is None else [near, far]
        boroughs = sorted({ward.borough_name for ward, _ in banks})
        if len(boroughs) == 2:
            where = tr("between the banks of %(one)s and %(other)s", one=boroughs[0], other=boroughs[1])
        elif far is None:
            where = tr("by the bank of %(borough)s", borough=boroughs[0])
        else:
            where = tr("between two banks of %(borough)s", borough=boroughs[0])
        met = self.forces["metropolitan"]
        if thames and not undecided:
            sentences = [tr("That place is on the River Thames in London, %(where)s.", where=where)]
        else:
            sentences = [tr("That place is on the water in London, %(where)s.", where=where)]
        if undecided:
            sentences.append(
                tr(
                    "It is about as near one bank as the other, so the ward boundaries held cannot say which "
                    "ward team's area it is in."
                )
            )
        return NotFound(
            joined(
                *sentences,
                tr("The Metropolitan Police polices the river, through its Marine Policing Unit."),
                tr("The nearest ward teams on each bank are below."),
            ),
            code="on_river",
            location={"lat": lat, "lon": lon},
            undecided=undecided,
            banks=[
                {
                    "ward": {"code": ward.code, "name": ward.name},
                    "borough": {"code": ward.borough_code, "name": ward.borough_name},
                    "distance_m": distance,
                }
                for ward, distance in banks
            ],
            force={"id": met.id, "name": met.name, "website": met.website},
            unit="Marine Policing Unit",
            contact_routes=[route.to_api() for route in met.routes],
        )

    def _outside_point(
        self, lat: float, lon: float, easting: float, northing: float, *, beyond_london: bool
    ) -> OutsideArea:
        """A point no London ward answers for. Beyond the GLA boundary, the force is named from the nearest
        postcode outside London only: never the Met's for a point outside London."""
        outside = LONDON_DISTRICTS if beyond_london else None
        nearest = (
            self.geo.nearest_gb_postcode(easting, northing, NEAREST_POSTCODE_M, outside=outside)
            if math.isfinite(easting + northing)
            else None
        )
        force = self.areas.for_district(nearest[1]) if nearest else None
        message = tr("That place is outside London, the area this finder covers.")
        if nearest and force:
            message = joined(
                message,
                tr(
                    "The nearest postcode, %(postcode)s, is in %(district)s, policed by %(force)s.",
                    postcode=nearest[0],
                    district=nearest[1].name,
                    force=force.name,
                ),
            )
        return OutsideArea(
            message,
            location={"lat": lat, "lon": lon},
            district={"code": nearest[1].code, "name": nearest[1].name} if nearest else None,
            force=force.to_api() if force else None,
            find_elsewhere=find_elsewhere(force),
        )

    def _ward(self, code: str) -> WardChosen:
        ward = self.geo.wards.get(code.strip().upper())
        if ward is None:
            raise NotFound(
                tr("We do not know that ward. Ward codes look like E05013806; search by postcode instead."),
                code="ward_not_found",
            )
        return self._with_ward(WardChosen, ward)
