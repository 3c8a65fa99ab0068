"""The JSON API's contract: exact keys, status codes and error envelopes."""

import json

import pytest
import shapely.geometry

from finder.lookup.api import OPENAPI_FILE

RESULT_KEYS = ["postcode", "status", "location", "ward", "borough", "force", "contact_routes", "ward_match"]
RESULT_KEYS += ["other_ward", "team_status", "team"]  # why `team` is null, then the team
RESULT_KEYS += ["force_neighbourhoods"]  # the City's neighbourhood teams, which are not wards (null elsewhere)
POSTCODE_KEYS = [*RESULT_KEYS, "last_listed", "near_temples"]  # additions: null while live, away from the Temples
POINT_KEYS = [k for k in RESULT_KEYS if k not in ("postcode", "status")] + ["london_edge"]  # null but on the line


def test_a_postcode_answers_with_the_documented_keys(client):
    response = client.get("/api/v1/postcodes/sw1a1aa")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == POSTCODE_KEYS
    assert body["postcode"] == "SW1A 1AA" and body["status"] == "live"
    assert set(body["location"]) == {"lat", "lon"}
    assert body["ward"] == {"code": "E05013806", "name": "St James's"}
    assert body["borough"] == {"code": "E09000033", "name": "Westminster"}
    assert body["force"]["id"] == "metropolitan" and body["force"]["name"] == "Metropolitan Police Service"
    assert [r["id"] for r in body["contact_routes"]][:5] == [
        "emergency",
        "non_emergency",
        "online",
        "text_relay",
        "crimestoppers",
    ]
    assert body["ward_match"] == {"method": "recorded", "distance_m": None}


def test_a_postcode_with_a_space_in_the_url_works(client):
    assert client.get("/api/v1/postcodes/EC2V%207HH").get_json()["force"]["id"] == "city-of-london"


def test_a_withdrawn_postcode_is_terminated(client):
    body = client.get("/api/v1/postcodes/BR1 1HF").get_json()
    assert body["status"] == "terminated" and body["ward"]["name"] == "Bromley Town"


@pytest.mark.parametrize(
    "postcode, status, code",
    [
        ("nonsense", 400, "invalid_postcode"),
        ("SE1", 400, "invalid_postcode"),
        ("SW1A 9ZZ", 404, "postcode_not_found"),
        ("M1 1AE", 404, "outside_area"),
        ("EH1 1YZ", 404, "outside_area"),
    ],
)
def test_errors_use_the_envelope_and_the_right_status(client, postcode, status, code):
    response = client.get(f"/api/v1/postcodes/{postcode}")
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def test_outside_area_names_the_district_in_the_body(client):
    error = client.get("/api/v1/postcodes/M1 1AE").get_json()["error"]
    assert error["district"] == {"code": "E08000003", "name": "Manchester"}
    assert "Manchester" in error["message"]


def test_locate_answers_the_same_shape_without_a_postcode(client):
    response = client.get("/api/v1/locate?lat=51.50101&lon=-0.14156")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == POINT_KEYS
    assert body["ward"]["code"] == "E05013806" and body["ward_match"]["method"] == "inside"


@pytest.mark.parametrize("query", ["lat=abc&lon=0", "lat=51.5", "lon=0", "lat=95&lon=0", "lat=nan&lon=0", ""])
def test_locate_with_bad_numbers_is_400(client, query):
    response = client.get(f"/api/v1/locate?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_location"


def test_locate_outside_london_is_outside_area(client):
    response = client.get("/api/v1/locate?lat=53.4794&lon=-2.2453")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "outside_area"


def test_a_ward_answers_with_its_neighbours(client):
    body = client.get("/api/v1/wards/E05013806").get_json()
    assert body["ward"]["name"] == "St James's" and body["ward_match"]["method"] == "chosen"
    assert "location" not in body and "postcode" not in body
    assert len(body["neighbours"]) >= 3 and all(set(n) == {"code", "name"} for n in body["neighbours"])


def test_an_unknown_ward_is_404(client):
    response = client.get("/api/v1/wards/E05000000")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "ward_not_found"


def test_a_ward_boundary_is_a_geojson_feature(client):
    response = client.get("/api/v1/wards/E05013806/boundary")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert feature["properties"]["code"] == "E05013806"
    inside = shapely.geometry.shape(feature["geometry"]).representative_point()
    assert -0.16 < inside.x < -0.12 and 51.49 < inside.y < 51.52  # WGS84 St James's, not BNG metres


def test_a_batch_answers_each_postcode_in_order(client):
    response = client.post("/api/v1/postcodes", json={"postcodes": ["sw1a1aa", "M1 1AE", "junk", "BR1 1HF"]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["query"] for r in results] == ["sw1a1aa", "M1 1AE", "junk", "BR1 1HF"]
    assert results[0]["result"]["ward"]["code"] == "E05013806"
    assert (results[1]["status"], results[1]["error"]["code"]) == (404, "outside_area")
    assert (results[2]["status"], results[2]["error"]["code"]) == (400, "invalid_postcode")
    assert results[3]["result"]["status"] == "terminated"


def test_a_batch_of_more_than_100_is_refused(client):
    response = client.post("/api/v1/postcodes", json={"postcodes": ["SW1A 1AA"] * 101})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "too_many_postcodes"
    assert client.post("/api/v1/postcodes", json={"postcodes": ["SW1A 1AA"] * 100}).status_code == 200


@pytest.mark.parametrize("body", [None, [], {"postcodes": "SW1A 1AA"}, {"postcodes": [1, 2]}, {"wrong": []}])
def test_a_malformed_batch_is_400(client, body):
    response = client.post("/api/v1/postcodes", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"


def test_an_outcode_lists_its_wards(client):
    body = client.get("/api/v1/outcodes/se1").get_json()
    assert body["outcode"] == "SE1" and len(body["wards"]) > 3
    assert {"code", "name", "borough", "postcodes"} == set(body["wards"][0])


@pytest.mark.parametrize("outcode", ["n9%3F", "n9%3F%C2%81%0A%C2%B7", "SE1%20%3Cb%3E", "SE1-"])
def test_the_api_refuses_an_outcode_outside_its_documented_pattern_rather_than_guess(client, outcode):
    response = client.get(f"/api/v1/outcodes/{outcode}")  # schemathesis found "n9?\x81\n·" answered as N9
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_outcode"


def test_an_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_openapi_document_is_served_and_describes_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc == json.loads(OPENAPI_FILE.read_text("utf-8"))
    documented = {path for path in doc["paths"]}
    routes = {
        rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    assert routes == documented


def test_every_operation_documents_the_size_limits_clients_may_meet(app):
    doc = json.loads(OPENAPI_FILE.read_text("utf-8"))
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]

    for path, method, op in operations:
        # gunicorn answers these itself, before the app: a request line over 4,094 bytes, headers too big.
        assert {"414", "431"} <= set(op["responses"]), f"{method} {path}"
        assert ("413" in op["responses"]) == ("requestBody" in op), f"{method} {path}"
    batch = doc["paths"]["/api/v1/postcodes"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch["properties"]["postcodes"]["items"]["maxLength"] == app.config["MAX_POSTCODE_LENGTH"]
    assert batch["properties"]["postcodes"]["maxItems"] == app.config["MAX_BATCH"]


def test_an_outward_code_across_the_boundary_lists_its_postcodes_outside_london_with_their_force(client):
    body = client.get("/api/v1/outcodes/KT19").get_json()
    assert body["postcodes"] == 731
    assert body["outside"][0] == {
        "district": {"code": "E07000208", "name": "Epsom and Ewell"},
        "force": {
            "id": "surrey",
            "name": "Surrey Police",
            "website": "https://www.surrey.police.uk/",
            "telephone": "101",
            "telephone_as_of": "2026-03-09",
        },
        "postcodes": 728,
    }


def test_a_postcode_outside_london_carries_the_force_object(client):
    error = client.get("/api/v1/postcodes/M1%201AE").get_json()["error"]
    gmp = "https://www.gmp.police.uk/"
    assert error["force"] == {
        "id": "greater-manchester",
        "name": "Greater Manchester Police",
        "website": gmp,
        "telephone": "101",
        "telephone_as_of": "2026-03-09",
    }
    assert error["find_elsewhere"]["url"] == gmp


def test_a_temple_postcode_names_both_wards_and_both_forces(client):
    body = client.get("/api/v1/postcodes/EC4Y9AH").get_json()
    assert body["force"]["id"] == "city-of-london"
    assert body["other_ward"]["name"] == "St James's" and body["other_ward"]["reason"] == "postcode_centre"
    assert body["other_ward"]["force"]["id"] == "metropolitan"
