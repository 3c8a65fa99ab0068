"""Boroughs come from the wards, and a result can be limited to one of them (the embed's option)."""

from __future__ import annotations

from finder.lookup.boroughs import boroughs, within_borough
from finder.lookup.service import Lookup

CAMDEN, WESTMINSTER, CITY = "E09000007", "E09000033", "E09000001"


def test_there_are_33_boroughs_keyed_by_gss_code_in_name_order(finder_lookup: Lookup) -> None:
    found = boroughs(finder_lookup.geo.wards)

    assert len(found) == 33
    assert all(code.startswith("E09") and b.code == code for code, b in found.items())
    assert found[CITY].name == "City of London" and found[WESTMINSTER].name == "Westminster"
    names = [b.name for b in found.values()]
    assert names == sorted(names)


def test_a_postcode_in_the_borough_is_kept_whole(finder_lookup: Lookup) -> None:
    result = finder_lookup.resolve(postcode="SW1A 1AA")

    assert within_borough(result, WESTMINSTER) is result


def test_a_postcode_in_another_borough_is_not_kept(finder_lookup: Lookup) -> None:
    assert within_borough(finder_lookup.resolve(postcode="SW1A 1AA"), CAMDEN) is None


def test_an_outward_code_across_two_boroughs_keeps_only_the_wards_in_the_one_asked_for(finder_lookup: Lookup) -> None:
    nw1 = finder_lookup.resolve(postcode="NW1")
    assert {w.borough_code for w, _ in nw1.outcode_wards} == {CAMDEN, WESTMINSTER}

    camden_part = within_borough(nw1, CAMDEN)

    assert camden_part is not None and camden_part.outcode == "NW1"
    assert camden_part.outcode_wards == tuple((w, n) for w, n in nw1.outcode_wards if w.borough_code == CAMDEN)


def test_an_outward_code_with_no_ward_in_the_borough_is_not_kept(finder_lookup: Lookup) -> None:
    assert within_borough(finder_lookup.resolve(postcode="NW1"), CITY) is None


def test_a_ward_chosen_by_code_is_limited_like_a_postcode(finder_lookup: Lookup) -> None:
    ward = finder_lookup.resolve(ward="E05013806")  # St James's, Westminster

    assert within_borough(ward, WESTMINSTER) is ward
    assert within_borough(ward, CAMDEN) is None
