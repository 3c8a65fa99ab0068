"""The one lookup: any query (postcode, outward code, point or ward code) becomes one Result.

The resident pages, the JSON API and the embed widget all call `Lookup.resolve`; no view holds
lookup logic. Errors are FinderErrors with a message a person can act on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from finder.errors import InvalidInput, NotFound, OutsideArea
from finder.geo import geodata as layout
from finder.geo.geocoder import PostcodesIO
from finder.geo.geodata import GeoData
from finder.geo.postcodes import PostcodeFormatError, parse
from finder.geo.wards import Ward
from finder.services.teams import Team, TeamDirectory, TeamLookup, team_to_api

POLICE_UK = "https://www.police.uk/"
POLICE_SCOTLAND = "https://www.scotland.police.uk/"  # police.uk covers England, Wales and Northern Ireland
FORCES_FILE = Path(__file__).resolve().parent.parent / "data" / "forces.json"
WARD_MATCH = {
    layout.RECORDED: "recorded",
    layout.INSIDE: "inside",
    layout.NEAREST: "nearest",
    layout.NEAREST_BEYOND_LIMIT: "nearest",
}


def find_elsewhere(district_code: str | None) -> dict[str, str]:
    """Where to find a local police team outside London: police.uk, or Police Scotland for Scotland."""
    if district_code and district_code.startswith("S"):
        return {"name": "Police Scotland", "url": POLICE_SCOTLAND}
    return {"name": "police.uk", "url": POLICE_UK}


def outside_london(postcode: str, district: dict[str, str | None] | None = None) -> OutsideArea:
    """The error for a real postcode or outward code that this finder does not cover."""
    where = f"in {district['name']}, outside" if district and district.get("name") else "outside London,"
    return OutsideArea(
        f"{postcode} is {where} the area this finder covers.",
        postcode=postcode,
        district=district,
        find_elsewhere=find_elsewhere(district.get("code") if district else None),
    )


@dataclass(frozen=True)
class ContactRoute:
    """A way to reach the police that is true for every ward of a force, and when to use it."""

    id: str
    label: str
    value: str
    href: str
    use_when: str


@dataclass(frozen=True)
class Force:
    """A police force and its force-wide contact routes."""

    id: str
    name: str
    short_name: str
    website: str
    routes: tuple[ContactRoute, ...]


def load_forces(path: Path = FORCES_FILE) -> dict[str, Force]:
    """Read the reviewed force and contact-route file."""
    data = json.loads(path.read_text("utf-8"))
    return {
        force_id: Force(
            force_id,
            f["name"],
            f["short_name"],
            f["website"],
            tuple(ContactRoute(**route) for route in f["routes"]),
        )
        for force_id, f in data["forces"].items()
    }


@dataclass(frozen=True)
class Result:
    """Everything a surface needs to answer one query."""

    kind: Literal["postcode", "point", "ward", "outcode"]
    ward: Ward | None = None
    force: Force | None = None
    postcode: str | None = None
    status: Literal["live", "terminated"] | None = None
    lat: float | None = None
    lon: float | None = None
    ward_match: Literal["recorded", "inside", "nearest", "chosen"] | None = None
    distance_m: float | None = None
    source: Literal["codepoint", "postcodes.io"] | None = None
    corrected_from: str | None = None
    outcode: str | None = None
    outcode_wards: tuple[tuple[Ward, int], ...] = field(default_factory=tuple)
    neighbours: tuple[Ward, ...] = field(default_factory=tuple)
    teams: TeamLookup | None = None  # the ward's team from the store; None when no store is configured

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

    def to_api(self) -> dict[str, Any]:
        """The JSON shape of a ward-level answer (postcode, point or ward query)."""
        assert self.ward is not None and self.force is not None
        body: dict[str, Any] = {}
        if self.kind == "postcode":
            body["postcode"] = self.postcode
            body["status"] = self.status
        if self.has_location:
            body["location"] = {"lat": self.lat, "lon": self.lon}
        body["ward"] = {"code": self.ward.code, "name": self.ward.name}
        body["borough"] = {"code": self.ward.borough_code, "name": self.ward.borough_name}
        body["force"] = {"id": self.force.id, "name": self.force.name, "website": self.force.website}
        body["contact_routes"] = [route.__dict__.copy() for route in self.force.routes]
        body["ward_match"] = {"method": self.ward_match, "distance_m": self.distance_m}
        body["team_status"] = self.team_status
        body["team"] = team_to_api(self.teams, self.ward.code) if self.teams else None
        return body


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

    def resolve(
        self,
        *,
        postcode: str | None = None,
        lat: Any = None,
        lon: Any = None,
        ward: str | None = None,
    ) -> Result:
        """Turn one query into one Result, or raise a FinderError that says what went wrong."""
        if postcode is not None:
            return self._postcode(postcode)
        if lat is not None or lon is not None:
            return self._point(lat, lon)
        if ward is not None:
            return self._ward(ward)
        raise InvalidInput("Enter a postcode, like SW1A 2AA", code="invalid_postcode")

    def _with_ward(self, ward: Ward, **fields: Any) -> Result:
        teams = self.teams.lookup(ward.code, fields.get("lat"), fields.get("lon")) if self.teams else None
        return Result(
            ward=ward,
            force=self.forces[ward.force_id],
            neighbours=self.geo.wards.neighbours(ward.code),
            teams=teams,
            **fields,
        )

    def _postcode(self, text: str) -> Result:
        try:
            parsed = parse(text)
        except PostcodeFormatError as exc:
            raise InvalidInput(str(exc), code="invalid_postcode") from None
        if parsed.kind == "outcode":
            return self._outcode(parsed.value)
        pc = parsed.value
        corrected = text.strip() if parsed.corrected else None
        row_no = self.geo.postcodes.find(pc)
        if row_no is not None:
            row = self.geo.postcodes.rows[row_no]
            status = "live" if row["status"] == layout.LIVE else "terminated"
            return self._with_ward(
                self.geo.wards.wards[int(row["ward"])],
                kind="postcode",
                postcode=pc,
                status=status,
                lat=round(float(row["lat"]), 6),
                lon=round(float(row["lon"]), 6),
                ward_match=WARD_MATCH[int(row["match"])],
                source="codepoint",
                corrected_from=corrected,
            )
        district = self.geo.district_of(pc)
        if district is not None:
            raise outside_london(pc, {"code": district.code, "name": district.name})
        if parsed.outcode not in self.geo.outcodes:
            raise outside_london(pc)
        remote = self.geocoder.lookup(pc) if self.geocoder else None
        if remote is not None:
            match = self.geo.wards.locate(remote.lat, remote.lon)
            if match is None:
                raise outside_london(pc, {"code": None, "name": remote.district} if remote.district else None)
            return self._with_ward(
                match.ward,
                kind="postcode",
                postcode=pc,
                status="live",
                lat=round(remote.lat, 6),
                lon=round(remote.lon, 6),
                ward_match=match.how,
                distance_m=match.distance_m if match.how == "nearest" else None,
                source="postcodes.io",
                corrected_from=corrected,
            )
        raise NotFound(
            f"We could not find {pc}. Check it is typed correctly, or try a nearby postcode.",
            code="postcode_not_found",
            postcode=pc,
        )

    def _outcode(self, outcode: str) -> Result:
        wards = self.geo.outcodes.get(outcode)
        if wards is None:
            raise outside_london(outcode)
        if not wards:
            raise NotFound(
                f"No postcodes in {outcode} are in use any more. Enter your full postcode, like SW1A 2AA.",
                code="postcode_not_found",
                postcode=outcode,
            )
        return Result(
            kind="outcode",
            outcode=outcode,
            outcode_wards=tuple((self.geo.wards.by_code[code], n) for code, n in wards),
        )

    def _point(self, lat: Any, lon: Any) -> Result:
        try:
            lat_f, lon_f = float(lat), float(lon)
        except (TypeError, ValueError):
            raise InvalidInput(
                "Give a latitude and longitude as decimal numbers, like lat=51.5014&lon=-0.1419",
                code="invalid_location",
            ) from None
        if not (math.isfinite(lat_f) and math.isfinite(lon_f) and -90 <= lat_f <= 90 and -180 <= lon_f <= 180):
            raise InvalidInput(
                "Latitude must be between -90 and 90 and longitude between -180 and 180",
                code="invalid_location",
            )
        match = self.geo.wards.locate(lat_f, lon_f)
        if match is None:
            raise OutsideArea(
                "That place is outside London, the area this finder covers.",
                location={"lat": lat_f, "lon": lon_f},
                find_elsewhere=find_elsewhere(None),
            )
        return self._with_ward(
            match.ward,
            kind="point",
            lat=round(lat_f, 6),
            lon=round(lon_f, 6),
            ward_match=match.how,
            distance_m=match.distance_m if match.how == "nearest" else None,
        )

    def _ward(self, code: str) -> Result:
        ward = self.geo.wards.get(code.strip().upper())
        if ward is None:
            raise NotFound(
                "We do not know that ward. Ward codes look like E05013806; search by postcode instead.",
                code="ward_not_found",
            )
        return self._with_ward(ward, kind="ward", ward_match="chosen")
