"""Every London postcode, resolved through the one lookup: the data and the rules agree at scale."""

import numpy as np
import pytest
import shapely

from finder.errors import FinderError, OutsideArea
from finder.geo import geodata as layout
from finder.geo.postcodes import parse


def _places(rows: np.ndarray, finder_lookup) -> np.ndarray:
    """Which rows are places, not PO boxes or organisations' postcodes (finder/data/non_geographic.json)."""
    odd_outcodes, odd_postcodes = finder_lookup.non_geographic_outcodes, finder_lookup.non_geographic_postcodes
    return np.array(
        [
            pc.split(b" ")[0].decode() not in odd_outcodes and pc.decode() not in odd_postcodes
            for pc in rows["postcode"].tolist()
        ],
        dtype=bool,
    )


pytestmark = pytest.mark.slow


def test_the_build_holds_the_documented_counts(geodata):
    counts = geodata.manifest["counts"]
    assert counts["wards"] == len(geodata.wards) == 704
    assert counts["boroughs"] == 33
    assert counts["live_postcodes"] == 180_792
    assert counts["withdrawn_postcodes"] == 16_412
    assert counts["gb_postcodes"] == len(geodata.gb_postcodes) == 1_745_849
    rows = geodata.postcodes.rows
    assert int((rows["status"] == layout.LIVE).sum()) == 180_792
    assert int((rows["status"] == layout.TERMINATED).sum()) == 16_412


def test_every_live_postcode_resolves_to_its_recorded_ward(finder_lookup, geodata):
    rows = geodata.postcodes.rows
    live = rows[rows["status"] == layout.LIVE]
    live = live[_places(live, finder_lookup)]
    wrong = []
    for postcode, ward in zip(live["postcode"].tolist(), live["ward"].tolist(), strict=True):
        result = finder_lookup.resolve(postcode=postcode.decode().replace(" ", "").lower())
        if result.ward.index != ward or result.status != "live":
            wrong.append(postcode)
    assert wrong == []


def test_point_in_polygon_agrees_with_the_recorded_ward_for_at_least_99_8_percent(geodata, record_property):
    rows = geodata.postcodes.rows
    live = rows[rows["status"] == layout.LIVE]
    pip = geodata.wards.locate_many_bng(live["easting"].astype(float), live["northing"].astype(float))
    agreement = float(np.mean(pip == live["ward"]))
    in_no_polygon = int((pip == -1).sum())
    record_property("pip_agreement", f"{agreement:.4%}")
    print(f"\npoint-in-polygon agrees with the recorded ward for {agreement:.3%}; {in_no_polygon} in no polygon")
    assert agreement >= 0.998
    assert agreement == pytest.approx(geodata.manifest["counts"]["pip_agreement_percent"] / 100, abs=1e-5)


def test_every_withdrawn_postcode_says_so_and_has_a_ward(finder_lookup, geodata):
    rows = geodata.postcodes.rows
    gone = rows[rows["status"] == layout.TERMINATED]
    gone = gone[_places(gone, finder_lookup)]
    statuses = {finder_lookup.resolve(postcode=pc.decode()).status for pc in gone["postcode"].tolist()}
    assert statuses == {"terminated"}
    assert (gone["ward"] >= 0).all()


def test_postcodes_outside_london_are_named_with_their_district(finder_lookup, geodata):
    gb = geodata.gb_postcodes.rows
    elsewhere = gb[gb["district"] >= 0]
    london_codes = {w.borough_code for w in geodata.wards.wards}
    district_codes = np.array([d.code for d in geodata.districts])
    elsewhere = elsewhere[~np.isin(district_codes[elsewhere["district"]], list(london_codes))]
    sample = np.random.default_rng(2026).choice(elsewhere, 2_000, replace=False)
    for row in sample:
        with pytest.raises(OutsideArea) as error:
            finder_lookup.resolve(postcode=row["postcode"].decode())
        assert error.value.details["district"]["name"] == geodata.districts[int(row["district"])].name


def test_every_postcode_in_the_data_passes_the_postcode_rules(geodata):
    keys = geodata.postcodes.rows["postcode"].tolist()
    assert all(parse(k.decode()).value == k.decode() for k in keys)


def test_no_postcode_in_a_london_outward_code_is_given_the_wrong_force(finder_lookup, geodata):
    """Every live GB postcode whose outward code has London postcodes: London's answer names the Met or the
    City of London Police by borough; outside London the answer names the district's own force, never those two."""
    london_forces = {"metropolitan", "city-of-london"}
    gb = geodata.gb_postcodes.rows
    outcodes = set(geodata.outcodes)
    in_london_outcodes = np.array([pc.split(b" ")[0].decode() in outcodes for pc in gb["postcode"].tolist()])
    rows = gb[in_london_outcodes & (gb["district"] >= 0)]
    rows = rows[_places(rows, finder_lookup)]
    wrong, outside = [], 0
    for postcode, number in zip(rows["postcode"].tolist(), rows["district"].tolist(), strict=True):
        district = geodata.districts[number]
        try:
            result = finder_lookup.resolve(postcode=postcode.decode())
            force = result.force.id
        except FinderError as error:
            force = (error.details.get("force") or {}).get("id")
            outside += 1
        if district.code.startswith("E09"):
            expected_ok = force == ("city-of-london" if district.code == "E09000001" else "metropolitan")
        else:
            expected_ok = force is not None and force not in london_forces
            expected_ok = expected_ok and force == finder_lookup.areas.for_district(district).id
        if not expected_ok:
            wrong.append((postcode, district.name, force))
    assert len(rows) > 190_000 and outside > 5_000
    assert wrong == []


def test_every_live_postcode_point_gets_the_same_ward_as_the_postcode(finder_lookup, geodata):
    """One place, one answer: a search at a postcode's published point names the postcode's recorded ward.

    That holds for the 242 postcodes whose point lies in another ward's boundary (the Temple's among them) and the
    22 in no boundary (on the river's edge, where the clipped boundaries stop). The only exceptions allowed are points
    within a metre of a boundary, which the 6-decimal latitude and longitude (about 0.1 m) can carry across it.
    """
    rows = geodata.postcodes.rows
    live = rows[rows["status"] == layout.LIVE]
    differ = []
    for postcode, lat, lon, ward in zip(
        live["postcode"].tolist(), live["lat"].tolist(), live["lon"].tolist(), live["ward"].tolist(), strict=True
    ):
        if finder_lookup.resolve(lat=lat, lon=lon).ward.index != ward:
            differ.append(geodata.postcodes.find(postcode.decode()))
    near_boundary = [
        shapely.Point(rows[i]["easting"], rows[i]["northing"]).distance(geodata.wards.bng[rows[i]["ward"]].boundary)
        < 1.0
        for i in differ
    ]
    assert all(near_boundary) and len(differ) <= 5, [rows[i]["postcode"] for i in differ]
