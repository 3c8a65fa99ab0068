"""Issue 26: the edges of the lookup, on the real data. Codes that are no place, withdrawn PO boxes, old
London districts in full postcodes, whole pasted addresses and points just outside London."""

import orjson
import pytest

from finder.errors import InvalidInput, NotFound, OutsideArea

# Item 5: codes that are no place. What each is, and never a place or a force.
NOT_A_PLACE = [
    ("ZZ1 1ZZ", "not_in_use"),
    ("ZZ99 3VZ", "not_in_use"),
    ("zz99 3wz", "not_in_use"),
    ("BX1 1LT", "non_geographic"),
    ("BX4 7SB", "non_geographic"),
    ("BX5 5AT", "non_geographic"),
    ("XM4 5HQ", "non_geographic"),
    ("BF1 3AD", "non_geographic"),
    ("BX4", "non_geographic"),
    ("XM4", "non_geographic"),
]


@pytest.mark.parametrize(("code", "kind"), NOT_A_PLACE)
def test_a_code_that_is_no_place_says_what_it_is_and_gives_the_routes_that_reach_the_police(finder_lookup, code, kind):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode=code)
    assert error.value.code == "not_a_place"
    details = error.value.details
    assert details["kind"] == kind
    assert "outside London" not in error.value.message and "force" not in details and "district" not in details
    expected = "non-geographic postcode" if kind == "non_geographic" else "not a postcode in use"
    assert expected in error.value.message
    assert {r["id"] for r in details["contact_routes"]} >= {"emergency", "text_relay", "crimestoppers"}
    assert all(r["source"] for r in details["contact_routes"])
    assert details["find_elsewhere"] == {"name": "police.uk", "url": "https://www.police.uk/"}


def test_santas_postcode_says_whose_it_is(finder_lookup):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode="XM4 5HQ")
    assert "Father Christmas" in error.value.message


# Item 6: a withdrawn PO box says first that it is no longer in use, with the only date the data holds.
@pytest.mark.parametrize(
    ("postcode", "release"),
    [("N1P 1AA", "2018.3.0"), ("EC1P 1AJ", "2018.3.0"), ("W1A 0AX", "2014.3.0"), ("EC1P 1AB", "2014.3.0")],
)
def test_a_withdrawn_po_box_says_first_that_it_is_no_longer_in_use(finder_lookup, postcode, release):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(postcode=postcode)
    message = error.value.message
    assert message.startswith(f"{postcode} is no longer in use: Code-Point Open")
    assert f"since its {release} release" in message
    assert message.index("no longer in use") < message.index("PO boxes")
    assert error.value.details["status"] == "terminated" and error.value.details["last_listed"] == release
    with pytest.raises(NotFound) as live:
        finder_lookup.resolve(postcode="W1A 1AA")  # a live PO box is not called withdrawn
    assert "no longer in use" not in live.value.message and "status" not in live.value.details


def test_a_withdrawn_postcode_gives_the_last_release_that_listed_it(finder_lookup):
    result = finder_lookup.resolve(postcode="BR1 1HF")
    assert (result.status, result.last_listed) == ("terminated", "2014.3.0")
    assert result.to_api()["last_listed"] == "2014.3.0"
    assert finder_lookup.resolve(postcode="SW1A 1AA").to_api()["last_listed"] is None


# Item 8: an old London district in a full postcode.
@pytest.mark.parametrize(
    ("postcode", "district", "first", "candidates"),
    [
        ("SW1 1AA", "SW1", "SW1A", ["SW1A 1AA", "SW1P 1AA", "SW1V 1AA"]),
        ("EC2 1AA", "EC2", "EC2A", []),
        ("WC1 1AA", "WC1", "WC1A", []),
        ("W1 0AX", "W1", "W1A", ["W1J 0AX"]),
        ("w1 0ax", "W1", "W1A", ["W1J 0AX"]),
    ],
)
def test_a_full_postcode_with_an_old_london_district_names_the_district_and_the_real_postcodes(
    finder_lookup, postcode, district, first, candidates
):
    with pytest.raises(InvalidInput) as error:
        finder_lookup.resolve(postcode=postcode)
    assert error.value.code == "postal_district"
    assert "outside London" not in error.value.message
    assert f"{district}, a London postal district now split" in error.value.message
    assert error.value.details["outcodes"][0] == first
    assert error.value.details["postcodes"] == candidates
    for candidate in candidates:
        assert candidate in error.value.message
        assert finder_lookup.resolve(postcode=candidate).status == "live"


def test_an_old_district_with_one_real_postcode_asks_if_it_is_that_one(finder_lookup):
    with pytest.raises(InvalidInput) as error:
        finder_lookup.resolve(postcode="W1 0AX")
    assert "Is it W1J 0AX?" in error.value.message


# Item 1: points just outside London. Found in 500 random points within 2 km outside the GLA boundary (seed 26):
# the first three got a London ward through the 100 m allowance, the next two the Met through the nearest postcode.
JUST_OUTSIDE = [
    ((51.398824, -0.336986), "Elmbridge", "surrey"),  # 39 m out; was Hampton ward, Met
    ((51.306078, 0.033663), "Tandridge", "surrey"),  # 89 m out; was Biggin Hill ward, Met
    ((51.605677, 0.074253), "Epping Forest", "essex"),  # 41 m out; was Fairlop ward, Met
    ((51.471721, 0.215244), "Dartford", "kent"),  # 294 m out; was "outside London", then DA8 2SP (Bexley): Met
    ((51.663137, -0.222147), "Hertsmere", "hertfordshire"),  # 319 m out; was EN5 4AN (Barnet): Met
]


@pytest.mark.parametrize(("point", "district", "force"), JUST_OUTSIDE)
def test_a_point_just_outside_london_is_outside_and_never_the_mets(finder_lookup, point, district, force):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(lat=point[0], lon=point[1])
    assert error.value.details["force"]["id"] == force != "metropolitan"
    assert error.value.details["district"]["name"] == district
    assert "outside London" in error.value.message and "Metropolitan" not in error.value.message


@pytest.mark.parametrize(
    ("point", "inside", "ward", "force"),
    [
        ((51.441784, -0.455672), False, "Bedfont", "surrey"),  # 12 m outside
        ((51.441732, -0.455367), True, "Bedfont", "surrey"),  # 10 m inside
        ((51.5821, -0.490014), False, "Ickenham & South Harefield", "thames-valley"),  # 1.3 m outside
    ],
)
def test_a_point_within_20_m_of_londons_boundary_says_so_and_gives_both_answers(
    finder_lookup, point, inside, ward, force
):
    result = finder_lookup.resolve(lat=point[0], lon=point[1])
    assert result.ward.name == ward and result.force.id == "metropolitan"
    edge = result.london_edge
    assert edge.inside is inside and edge.distance_m <= 20
    assert edge.force.id == force and not edge.district.code.startswith("E09")
    body = result.to_api()
    assert body["london_edge"]["side"] == ("inside" if inside else "outside")
    assert body["london_edge"]["outside"]["force"]["id"] == force


def test_a_point_well_inside_london_has_no_edge(finder_lookup):
    assert finder_lookup.resolve(lat=51.5014, lon=-0.1419).london_edge is None


# Item 4: outward codes outside London whose postcodes more than one force polices.
@pytest.mark.parametrize(
    ("outcode", "ranked"),
    [
        ("PE6", [("lincolnshire", 581), ("cambridgeshire", 458)]),
        ("CV7", [("warwickshire", 438), ("west-midlands", 343)]),
        ("SN6", [("wiltshire", 436), ("thames-valley", 237), ("gloucestershire", 1)]),
    ],
)
def test_an_outward_code_spanning_forces_lists_each_with_its_share_and_asks_for_the_full_postcode(
    finder_lookup, outcode, ranked
):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(postcode=outcode)
    details = error.value.details
    assert error.value.code == "outcode_spans_forces" and details["force"] is None
    assert [(f["force"]["id"], f["postcodes"]) for f in details["forces"]] == ranked
    assert sum(f["share"] for f in details["forces"]) == pytest.approx(1, abs=1e-3)
    assert "more than one force" in error.value.message and "Enter your full postcode" in error.value.message
    first, second = (f["force"]["name"] for f in details["forces"][:2])
    assert error.value.message.index(first) < error.value.message.index(second)


@pytest.mark.slow
def test_no_outward_code_outside_london_is_given_one_force_unless_it_polices_all_its_postcodes(finder_lookup, geodata):
    """The issue's reference: Code-Point gives each postcode's district, the force table each district's force."""
    keys = geodata.gb_postcodes.keys
    outcodes = sorted({k.split(b" ")[0].decode() for k in keys.tolist()} - set(geodata.outcodes))
    spanning, wrong = 0, []  # spanning: outward codes holding postcodes of more than one force
    for outcode in outcodes:
        forces = {finder_lookup.areas.for_district(d) for d, _ in geodata.outcode_districts(outcode) if d is not None}
        try:
            finder_lookup.resolve(postcode=outcode)
            continue  # a London answer, or one of the finder's own refusals below
        except OutsideArea as error:
            named = error.details["force"]
            if len(forces) > 1:
                spanning += 1
                if named is not None or error.code != "outcode_spans_forces":
                    wrong.append(outcode)
            elif named is not None and {f.id for f in forces if f} != {named["id"]}:
                wrong.append(outcode)
        except (NotFound, InvalidInput):
            continue
    assert wrong == []
    assert spanning == 408  # as the issue counted


# Item 3: the Temples. The recorded answer stands; near the Inner and Middle Temple the City's police is added.
@pytest.mark.parametrize(("postcode", "metres"), [("EC4Y 9DH", 10.2), ("EC4Y 9BW", 18.1), ("EC4Y 9BS", 4.6)])
def test_a_postcode_by_the_temples_keeps_its_recorded_ward_and_adds_the_city_of_london_police(
    finder_lookup, postcode, metres
):
    result = finder_lookup.resolve(postcode=postcode)
    assert (result.ward.name, result.ward.borough_name) == ("St James's", "Westminster")
    assert result.force.id == "metropolitan"
    assert result.near_temples is not None and result.near_temples.distance_m == metres
    body = result.to_api()
    assert body["force"]["id"] == "metropolitan" and list(body)[-1] == "near_temples"
    near = body["near_temples"]
    assert near["force"]["id"] == "city-of-london" and near["inside_temple"] is None and near["within_m"] == 20
    assert {"non_emergency", "online"} <= {r["id"] for r in orjson.loads(orjson.dumps(near["contact_routes"]))}


@pytest.mark.parametrize(
    "postcode",
    [
        "EC4Y 7HL",  # the Inner Temple's own postcode, recorded in the City: the City's answer already
        "EC4Y 1HS",  # EC4Y, but recorded in Clerkenwell, 700 m from the City
        "WC2R 3JH",  # St James's, 7.6 m from the City, but not in the Temples' district
        "EC3N 4DJ",  # 3.2 m from the City, by the Tower: near the City, not the Temples
        "SW1A 2AA",  # far from the Temples
        "SE1 7PB",
    ],
)
def test_a_postcode_away_from_the_temples_gets_no_temples_note(finder_lookup, postcode):
    result = finder_lookup.resolve(postcode=postcode)
    assert result.near_temples is None and result.to_api()["near_temples"] is None


# Item 2: points on the Thames inside Greater London, where the generalised wards stop at the bank.
ON_THE_RIVER = [
    # (lat, lon), the ward on the near bank, the ward on the far bank
    ((51.5008, -0.1218), ("Waterloo & South Bank", "Lambeth"), ("St James's", "Westminster")),  # Westminster Bridge
    (
        (51.5055, -0.0754),
        ("St Katharine's & Wapping", "Tower Hamlets"),
        ("London Bridge & West Bermondsey", "Southwark"),
    ),
    ((51.4965, 0.0640), ("Woolwich Arsenal", "Greenwich"), ("Royal Albert", "Newham")),  # by the Woolwich ferry
]


@pytest.mark.parametrize(("point", "near", "far"), ON_THE_RIVER)
def test_a_point_on_the_thames_in_london_names_the_ward_on_each_bank_and_the_met(finder_lookup, point, near, far):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(lat=point[0], lon=point[1])
    assert error.value.code == "on_river"
    assert "on the River Thames in London" in error.value.message and "Marine Policing Unit" in error.value.message
    banks = [(b["ward"]["name"], b["borough"]["name"]) for b in error.value.details["banks"]]
    assert banks == [near, far]
    assert near[1] in error.value.message and far[1] in error.value.message
    assert error.value.details["force"]["id"] == "metropolitan"
    assert {r["id"] for r in error.value.details["contact_routes"]} >= {"emergency", "non_emergency"}
    assert error.value.details["undecided"] is False
    assert "outside London" not in error.value.message


# On the water within 100 m of two boroughs' wards, less than 20 m (the generalised wards' resolution) nearer one
# bank than the other: the boundaries held cannot decide, so both banks are shown and the water is not named
# (Deptford Creek is not the Thames).
BETWEEN_BANKS = [
    ((51.48198, -0.29997), ("Syon & Brentford Lock", "Hounslow"), ("Kew", "Richmond upon Thames")),  # 46 m / 51 m
    ((51.47803, -0.01921), ("Greenwich Park", "Greenwich"), ("Deptford", "Lewisham")),  # Deptford Creek, 8 m / 16 m
]


@pytest.mark.parametrize(("point", "near", "far"), BETWEEN_BANKS)
def test_a_point_on_the_water_about_as_near_two_boroughs_banks_shows_both_and_says_it_cannot_decide(
    finder_lookup, point, near, far
):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(lat=point[0], lon=point[1])
    assert error.value.code == "on_river" and error.value.details["undecided"] is True
    assert [(b["ward"]["name"], b["borough"]["name"]) for b in error.value.details["banks"]] == [near, far]
    assert "cannot say which ward team's area it is in" in error.value.message
    assert "River Thames" not in error.value.message
    assert error.value.details["force"]["id"] == "metropolitan"


def test_a_point_within_the_wards_resolution_of_one_bank_keeps_that_banks_ward(finder_lookup):
    answer = finder_lookup.resolve(lat=51.5013, lon=-0.1234)  # off Westminster's bank by the bridge, 13 m
    assert (answer.ward.name, answer.ward.borough_name) == ("St James's", "Westminster")
    assert answer.ward_match == "nearest" and answer.distance_m < 20


# Farther than the wards' resolution (20 m) from every ward, inside the GLA boundary: on the water (every such gap
# between the wards is the Thames or a creek), nearer one bank than the other, so no "cannot decide"; the river is
# not named, since a creek's water is as far from the wards. Before: the nearest ward within 100 m, one bank only.
ON_THE_WATER = [
    ((51.5013, -0.1231), ("St James's", "Westminster"), ("Waterloo & South Bank", "Lambeth")),  # 34 m / 218 m
    ((51.48458, -0.28039), ("Chiswick Riverside", "Hounslow"), ("Kew", "Richmond upon Thames")),
]


@pytest.mark.parametrize(("point", "near", "far"), ON_THE_WATER)
def test_a_point_on_the_water_beyond_the_wards_resolution_shows_both_banks_nearest_first(
    finder_lookup, point, near, far
):
    with pytest.raises(NotFound) as error:
        finder_lookup.resolve(lat=point[0], lon=point[1])
    assert error.value.code == "on_river" and error.value.details["undecided"] is False
    assert [(b["ward"]["name"], b["borough"]["name"]) for b in error.value.details["banks"]][:2] == [near, far]
    assert error.value.message.startswith("That place is on the water in London, between the banks of")
    assert "cannot say" not in error.value.message and "River Thames" not in error.value.message
    assert error.value.details["force"]["id"] == "metropolitan"


def test_a_place_on_the_water_with_a_postcode_of_its_own_answers_as_its_postcode_does(finder_lookup):
    # HMS Belfast (SE1 2JH), moored 62 m off Southwark's ward: an address, not open water.
    point = finder_lookup.resolve(lat=51.506588, lon=-0.081487)
    postcode = finder_lookup.resolve(postcode="SE1 2JH")
    assert point.ward == postcode.ward and point.ward.name == "London Bridge & West Bermondsey"
    with pytest.raises(NotFound) as error:  # 60 m downstream of it, on the water
        finder_lookup.resolve(lat=51.506588, lon=-0.080624)
    assert error.value.code == "on_river"


def test_the_surrey_half_of_the_river_at_hampton_court_is_outside_london_and_never_the_met(finder_lookup):
    with pytest.raises(OutsideArea) as error:
        finder_lookup.resolve(lat=51.4000, lon=-0.3430)  # south of the GLA boundary, mid-river
    assert error.value.code == "outside_area"
    assert error.value.details["force"]["id"] == "surrey"
