"""The optional remote geocoder, against a real local server shaped like postcodes.io."""

import pytest

from finder import create_app
from finder.errors import NotFound, OutsideArea
from finder.geo.geocoder import PostcodesIO
from finder.lookup.service import Lookup
from finder.web import services
from tests.support.httpserver import Reply, local_server

# A new-build postcode in SE1 that our Code-Point release does not hold, placed in Borough & Bankside.
NEW_SE1 = {
    "status": 200,
    "result": {"postcode": "SE1 9ZZ", "latitude": 51.5045, "longitude": -0.0945, "admin_district": "Southwark"},
}


def test_a_postcode_the_service_knows_is_geocoded():
    with local_server() as server:
        server.routes["/postcodes/SE1%209ZZ"] = lambda _: Reply(200, NEW_SE1)
        found = PostcodesIO(server.url).lookup("SE1 9ZZ")
    assert (found.postcode, found.lat, found.lon, found.district) == ("SE1 9ZZ", 51.5045, -0.0945, "Southwark")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, {"status": 404, "error": "Postcode not found"}),
        Reply(500, "oops"),
        Reply(200, "not json"),
        Reply(200, {"status": 200, "result": None}),
        Reply(200, {"status": 200, "result": {"latitude": None, "longitude": None}}),
        Reply(200, {"status": 200, "result": {"latitude": "x", "longitude": 1}}),
    ],
)
def test_any_failure_of_the_service_means_unknown(reply):
    with local_server() as server:
        server.fallback = lambda _: reply
        assert PostcodesIO(server.url).lookup("SE1 9ZZ") is None


def test_a_slow_service_times_out_as_unknown():
    with local_server() as server:
        server.fallback = lambda _: Reply(200, NEW_SE1, delay=1.0)
        assert PostcodesIO(server.url, timeout=0.2).lookup("SE1 9ZZ") is None


def test_a_refused_connection_is_unknown():
    with local_server() as server:
        url = server.url
    assert PostcodesIO(url, timeout=0.5).lookup("SE1 9ZZ") is None


def test_lookup_falls_back_to_the_geocoder_only_for_unknown_london_postcodes(geodata, finder_lookup):
    with local_server() as server:
        server.routes["/postcodes/SE1%209ZZ"] = lambda _: Reply(200, NEW_SE1)
        lookup = Lookup(geodata, finder_lookup.forces, PostcodesIO(server.url))
        result = lookup.resolve(postcode="se19zz")
        assert lookup.resolve(postcode="SW1A 1AA").source == "codepoint"
        with pytest.raises(OutsideArea):
            lookup.resolve(postcode="M1 1AE")
    assert (result.postcode, result.status, result.source) == ("SE1 9ZZ", "live", "postcodes.io")
    assert result.ward.borough_name == "Southwark" and result.ward_match == "inside"
    assert server.requests == ["/postcodes/SE1%209ZZ"]  # known and non-London postcodes never leave the machine


def test_a_geocoded_point_outside_london_is_outside_the_area(geodata, finder_lookup):
    far = {
        "status": 200,
        "result": {"postcode": "SE1 9ZZ", "latitude": 53.48, "longitude": -2.24, "admin_district": "Manchester"},
    }
    with local_server() as server:
        server.fallback = lambda _: Reply(200, far)
        with pytest.raises(OutsideArea):
            Lookup(geodata, finder_lookup.forces, PostcodesIO(server.url)).resolve(postcode="SE1 9ZZ")


def test_a_failing_geocoder_leaves_an_honest_not_found_page(geodata, finder_lookup):
    with local_server() as server:
        server.fallback = lambda _: Reply(503, "down")
        app = create_app({"ENV_NAME": "testing"}, lookup=Lookup(geodata, finder_lookup.forces, PostcodesIO(server.url)))
        response = app.test_client().get("/search?postcode=SE1 9ZZ")
        with pytest.raises(NotFound):
            services(app).lookup.resolve(postcode="SE1 9ZZ")
    assert response.status_code == 404
    assert "We could not find SE1 9ZZ" in response.get_data(as_text=True)


def test_the_geocoder_is_switched_on_by_config_and_the_page_says_it_was_used():
    with local_server() as server:
        server.fallback = lambda _: Reply(200, NEW_SE1)
        app = create_app({"ENV_NAME": "testing", "GEOCODER_URL": server.url, "GEOCODER_TIMEOUT": 1.0})
        html = app.test_client().get("/search?postcode=SE1 9ZZ").get_data(as_text=True)
    assert "newer than our postcode data" in html and "postcodes.io" in html
