"""The lookup rules, on the real London data: one answer per query, or an error a person can act on."""

import pytest

from finder.errors import InvalidInput, NotFound, OutsideArea
from finder.geo.wards import CITY_OF_LONDON


def test_a_live_postcode_gets_its_recorded_ward_borough_and_force(finder_lookup):
    result = finder_lookup.resolve(postcode="sw1a 1aa")
    assert result.postcode == "SW1A 1AA"
    assert result.status == "live"
    assert (result.ward.code, result.ward.name) == ("E05013806", "St James's")
    assert (result.ward.borough_code, result.ward.borough_name) == ("E09000033", "Westminster")
    assert result.force.id == "metropolitan"
    assert result.ward_match == "recorded"
    assert result.lat == pytest.approx(51.501, abs=0.01) and result.lon == pytest.approx(-0.142, abs=0.01)


def test_the_recorded_ward_wins_over_point_in_polygon(finder_lookup, geodata):
    """A postcode whose point falls in a neighbouring generalised polygon still gets its recorded ward."""
    rows = geodata.postcodes.rows
    live = rows[rows["status"] == 0]
    pip = geodata.wards.locate_many_bng(live["easting"].astype(float), live["northing"].astype(float))
    disagree = live[(pip != live["ward"]) & (pip >= 0)][0]
    result = finder_lookup.resolve(postcode=disagree["postcode"].decode())
    assert result.ward.index == int(disagree["ward"])
    assert result.ward.index != int(pip[(pip != live["ward"]) & (pip >= 0)][0])


def test_city_of_london_wards_are_policed_by_city_of_london_police(finder_lookup, geodata):
    city = [w for w in geodata.wards.wards if w.borough_code == CITY_OF_LONDON]
    assert len(city) == 25
    assert {finder_lookup.resolve(ward=w.code).force.id for w in city} == {"city-of-london"}
    others = [w for w in geodata.wards.wards if w.borough_code != CITY_OF_LONDON]
    assert len(others) == 679
    assert {finder_lookup.resolve(ward=w.code).force.id for w in others} == {"metropolitan"}
    assert finder_lookup.resolve(postcode="EC2V 7HH").force.name == "City of London Police"


def test_every_force_has_the_five_force_wide_routes(finder_lookup):
    for force in finder_lookup.forces.values():
        assert [r.id for r in force.routes][:5] == [
            "emergency",
            "non_emergency",
            "online",
            "text_relay",
            "crimestoppers",
        ]
        values = {r.id: r.value for r in force.routes}
        assert values["emergency"] == "999" and values["non_emergency"] == "101"
        assert values["text_relay"] == "18000" and values["crimestoppers"] == "0800 555 111"
        assert all(r.use_when for r in force.routes)


def test_a_withdrawn_postcode_says_so_and_keeps_the_ward_of_its_last_location(finder_lookup):
    result = finder_lookup.resolve(postcode="BR1 1HF")
    assert result.status == "terminated"
    assert result.ward.name == "Bromley Town"
    assert result.ward_match in {"inside", "nearest"}


@pytest.mark.parametrize("postcode, district", [("M1 1AE", "Manchester"), ("EH1 1YZ", "City of Edinburgh")])
def test_a_real_postcode_outside_london_is_named_with_its_district(finder_lookup, postcode, district):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode=postcode)
    assert error.value.code == "outside_area"
    assert error.value.details["district"]["name"] == district
    assert f"{postcode} is in {district}" in error.value.message
    expected = "Police Scotland" if district == "City of Edinburgh" else "Greater Manchester Police"
    assert error.value.details["find_elsewhere"]["name"] == expected


def test_a_force_the_finder_had_no_website_for_gets_police_uks_website_and_101_with_their_date(finder_lookup):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode="TS1 1AA")
    assert error.value.details["force"] == {
        "id": "cleveland",
        "name": "Cleveland Police",
        "website": "https://www.cleveland.police.uk/",
        "telephone": "101",
        "telephone_as_of": "2026-03-09",
    }
    assert error.value.details["find_elsewhere"] == {
        "name": "Cleveland Police",
        "url": "https://www.cleveland.police.uk/",
    }
    assert "Its non-emergency number is 101, as published on police.uk in March 2026." in error.value.message


def test_an_unknown_postcode_in_an_outward_code_with_no_london_postcodes_is_outside_london(finder_lookup):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode="BT1 1AA")  # Northern Ireland: not in the GB file
    assert error.value.details["district"] is None


def test_an_unknown_postcode_in_a_london_outward_code_is_not_found(finder_lookup):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode="SW1A 9ZZ")
    assert error.value.code == "postcode_not_found"
    assert error.value.status == 404


def test_a_badly_formed_postcode_is_invalid_with_an_example(finder_lookup):
    with pytest.raises(InvalidInput) as error:
        finder_lookup.resolve(postcode="not a postcode")
    assert error.value.code == "invalid_postcode" and error.value.status == 400
    assert "SW1A 2AA" in error.value.message


def test_an_outward_code_lists_the_wards_its_postcodes_fall_in(finder_lookup):
    result = finder_lookup.resolve(postcode="se1")
    assert result.kind == "outcode" and result.outcode == "SE1"
    names = [ward.name for ward, _ in result.outcode_wards]
    assert "Borough & Bankside" in names
    counts = [n for _, n in result.outcode_wards]
    assert counts == sorted(counts, reverse=True) and all(n > 0 for n in counts)


def test_an_outward_code_outside_london_is_outside_the_area(finder_lookup):
    with pytest.raises(OutsideArea):
        finder_lookup.resolve(postcode="M1")


def test_a_point_inside_a_ward_is_matched_by_point_in_polygon(finder_lookup):
    result = finder_lookup.resolve(lat=51.50101, lon=-0.14156)  # Buckingham Palace
    assert result.ward.code == "E05013806"
    assert result.ward_match == "inside" and result.distance_m is None


def test_a_point_just_outside_every_polygon_takes_the_nearest_ward_within_100_m(finder_lookup, geodata):
    from finder.geo import geodata as layout
    from finder.geo.wards import to_bng

    # A live London postcode whose point lies in no generalised ward polygon, but inside the GLA boundary.
    rows = geodata.postcodes.rows
    row = rows[(rows["status"] == layout.LIVE) & (rows["centre"] == -1)][0]
    assert geodata.london.signed_distance(float(row["easting"]), float(row["northing"])) < -20
    result = finder_lookup.resolve(lat=float(row["lat"]), lon=float(row["lon"]))
    assert result.ward_match == "nearest" and result.london_edge is None
    assert 0 < result.distance_m <= 100
    assert to_bng(float(row["lon"]), float(row["lat"]))  # round trip is usable


def test_a_point_40_m_outside_the_gla_edge_is_outside_london_not_the_nearest_ward(finder_lookup, geodata):
    import shapely

    # Walk 40 m outwards from the GLA edge at the southern tip of London (issue 26: this got Coulsdon Town).
    ward = geodata.wards.get("E05011466")  # Coulsdon Town, on the Surrey border
    poly = geodata.wards.bng[ward.index]
    south = min(
        poly.exterior.coords if poly.geom_type == "Polygon" else poly.geoms[0].exterior.coords, key=lambda c: c[1]
    )
    outside = shapely.Point(south[0], south[1] - 40)
    assert geodata.london.signed_distance(outside.x, outside.y) > 20
    lon, lat = _bng_to_wgs84(outside.x, outside.y)
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(lat=lat, lon=lon)
    assert error.value.details["force"]["id"] == "surrey"


def test_a_point_far_from_london_is_outside_the_area(finder_lookup):
    with pytest.raises(OutsideArea):
        finder_lookup.resolve(lat=53.4794, lon=-2.2453)  # Manchester


@pytest.mark.parametrize(
    "lat, lon", [("abc", "0"), ("51.5", ""), ("nan", "0"), ("91", "0"), ("51.5", "181"), ("inf", "1")]
)
def test_bad_coordinates_are_invalid(finder_lookup, lat, lon):
    with pytest.raises(InvalidInput) as error:
        finder_lookup.resolve(lat=lat, lon=lon)
    assert error.value.code == "invalid_location"


def test_an_unknown_ward_code_is_not_found(finder_lookup):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(ward="E05999999")
    assert error.value.code == "ward_not_found"


def test_neighbours_border_the_ward_and_exclude_it(finder_lookup, geodata):
    result = finder_lookup.resolve(ward="E05013806")
    codes = {w.code for w in result.neighbours}
    assert "E05013806" not in codes and len(codes) >= 3
    for code in codes:
        assert "E05013806" in {w.code for w in geodata.wards.neighbours(code)}


def _bng_to_wgs84(easting, northing):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(easting, northing)


def test_every_district_of_england_and_wales_maps_to_exactly_one_of_43_forces(finder_lookup, geodata):
    areas = finder_lookup.areas
    ew = [d for d in geodata.districts if d.code[0] in "EW"]
    assert len(ew) == 318
    for district in ew:  # listed by itself or through its county, never both
        assert (district.code in areas.districts) != (district.county in areas.counties), district
    forces = {areas.for_district(d).id for d in ew}
    assert len(forces) == 43 == len(areas.forces)
    london = {d.code: areas.for_district(d).id for d in ew if d.code.startswith("E09")}
    assert len(london) == 33
    assert london.pop("E09000001") == "city-of-london" and set(london.values()) == {"metropolitan"}


@pytest.mark.parametrize(
    ("postcode", "force"),
    [
        ("KT19 8AA", "Surrey Police"),
        ("M1 1AE", "Greater Manchester Police"),
        ("EH1 1YZ", "Police Scotland"),
        ("CF10 1EP", "South Wales Police"),
        ("BT1 1AA", "Police Service of Northern Ireland"),
        ("GY1 1AA", "Guernsey Police"),
        ("JE2 3AA", "States of Jersey Police"),
        ("IM1 1AA", "Isle of Man Constabulary"),
    ],
)
def test_a_postcode_outside_london_names_the_force_that_polices_it(finder_lookup, postcode, force):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode=postcode)
    assert error.value.details["force"]["name"] == force
    assert f"It is policed by {force}." in error.value.message


def test_scottish_outward_codes_and_points_go_to_police_scotland_not_police_uk(finder_lookup):
    for query in ({"postcode": "EH1"}, {"postcode": "G1"}, {"lat": 55.9533, "lon": -3.1883}):
        with pytest.raises(OutsideArea) as error:
            finder_lookup.resolve(**query)
        assert error.value.details["force"]["name"] == "Police Scotland"
        assert error.value.details["find_elsewhere"]["url"] == "https://www.scotland.police.uk/"


@pytest.mark.parametrize(
    "outcode, name, website",
    [
        ("IM1", "Isle of Man Constabulary", "https://www.iompolice.im/"),
        ("GY1", "Guernsey Police", "https://guernsey.police.uk/"),
    ],
)
def test_crown_dependencies_link_to_their_own_force_not_police_uk(finder_lookup, outcode, name, website):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode=outcode)
    assert error.value.details["force"]["website"] == website
    assert error.value.details["find_elsewhere"] == {"name": name, "url": website}


def test_an_outward_code_across_the_boundary_counts_every_postcode_and_names_the_force_outside(finder_lookup):
    result = finder_lookup.resolve(postcode="KT19")
    assert result.outcode_total == 731
    (district, force, count), *_ = result.outcode_outside
    assert (district.name, force.name, count) == ("Epsom and Ewell", "Surrey Police", 728)
    assert sum(n for _, n in result.outcode_wards) == 3


def test_an_outward_code_wholly_outside_london_names_its_district_and_force(finder_lookup):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode="GU1")
    assert "All postcodes starting GU1 are in Guildford" in error.value.message
    assert error.value.details["force"]["id"] == "surrey"


@pytest.mark.parametrize(
    ("district", "first", "last"), [("W1", "W1A", "W1W"), ("EC2", "EC2A", "EC2Y"), ("SW1", "SW1A", "SW1Y")]
)
def test_a_london_postal_district_lists_the_outward_codes_it_covers(finder_lookup, district, first, last):
    with pytest.raises(InvalidInput) as error:
        finder_lookup.resolve(postcode=district)
    assert error.value.code == "postal_district"
    codes = error.value.details["outcodes"]
    assert (codes[0], codes[-1]) == (first, last)
    assert "London postal district" in error.value.message and "outside" not in error.value.message


@pytest.mark.parametrize("postcode", ["W1A 1AA", "N1P 1AA", "SE1P 5LX", "EC4P 4BQ", "TW6 1EL", "W1A", "SE1P"])
def test_po_box_postcodes_say_so_instead_of_naming_the_delivery_offices_ward(finder_lookup, postcode):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode=postcode)
    assert error.value.code == "po_box_postcode"
    assert "PO boxes" in error.value.message and "home address" in error.value.message


def test_girobanks_postcode_is_answered_truthfully(finder_lookup):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode="GIR 0AA")
    assert error.value.code == "non_geographic_postcode" and "Girobank" in error.value.message


def test_a_postcode_whose_centre_lies_in_another_ward_says_so_and_keeps_its_recorded_ward(finder_lookup):
    result = finder_lookup.resolve(postcode="EC4Y 9AH")
    assert (result.ward.name, result.force.id) == ("Farringdon Without", "city-of-london")
    assert (result.other_ward.name, result.other_force.id, result.other_reason) == (
        "St James's",
        "metropolitan",
        "postcode_centre",
    )
    assert result.to_api()["other_ward"]["force"]["id"] == "metropolitan"


def test_a_point_at_a_temple_postcode_answers_city_of_london_police_like_the_postcode(finder_lookup):
    postcode = finder_lookup.resolve(postcode="EC4Y 9AJ")
    point = finder_lookup.resolve(lat=postcode.lat, lon=postcode.lon)
    assert point.ward == postcode.ward and point.force.id == "city-of-london"
    assert (point.other_ward.name, point.other_reason, point.ward_match) == ("St James's", "ward_boundary", "recorded")


def test_an_ordinary_postcode_has_no_other_ward(finder_lookup):
    assert finder_lookup.resolve(postcode="SW1A 1AA").other_ward is None


def test_equal_results_hash_alike_and_different_places_do_not_compare_equal(finder_lookup):
    """Kept ward pages are keyed by their answer (finder/web/pagecache.py), whose hash reads only a few fields."""
    ward = finder_lookup.resolve(ward="E05013806")
    again = finder_lookup.resolve(ward="E05013806")
    assert ward == again and hash(ward) == hash(again)
    assert ward != finder_lookup.resolve(ward="E05013807")
    point = finder_lookup.resolve(postcode="SW1A 2AA")
    assert point != finder_lookup.resolve(postcode="SW1A 1AA")
    assert {ward: 1, again: 2} == {ward: 2}
