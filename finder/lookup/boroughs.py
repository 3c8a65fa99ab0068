"""London's boroughs, and limiting a result to one of them.

A council embeds the finder for its own borough: a resident there gets their team, and a resident
elsewhere is told so and pointed at the full finder. The boroughs are the ones the wards belong to
(GSS codes, E09…), so they always agree with the geodata.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from finder.geo.wards import WardIndex
from finder.lookup.service import Answer, OutcodeAnswer, WardAnswer


@dataclass(frozen=True)
class Borough:
    """A London borough (or the City of London), by GSS code."""

    code: str
    name: str


@lru_cache(maxsize=8)
def boroughs(wards: WardIndex) -> dict[str, Borough]:
    """Every borough the wards belong to, by code, in name order (for the embed builder's list)."""
    found = {w.borough_code: Borough(w.borough_code, w.borough_name) for w in wards.wards}
    return dict(sorted(found.items(), key=lambda item: item[1].name))


def within_borough(result: Answer, borough: str) -> Answer | None:
    """The part of `result` inside `borough`, or None when none of it is there.

    A ward-level result is kept whole or not at all; an outward code keeps only its wards in the
    borough, so a postcode district that straddles two boroughs still offers the right choices.
    """
    if isinstance(result, OutcodeAnswer):
        inside = tuple((ward, n) for ward, n in result.outcode_wards if ward.borough_code == borough)
        return dataclasses.replace(result, outcode_wards=inside) if inside else None
    if isinstance(result, WardAnswer) and result.ward.borough_code == borough:
        return result
    return None
