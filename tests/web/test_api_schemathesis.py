"""The API keeps to its OpenAPI document, checked by schemathesis against the real app in process.

Schemathesis reads the OpenAPI document (the file the app serves at /api/v1/openapi.json; a test
in test_api.py checks they are the same), generates valid and invalid requests for every
operation, and checks each answer: no server errors, only documented status codes, content types
and headers, bodies that match their schemas, valid input accepted and invalid input refused.
Bounded: at most 50 generated examples per operation (about 15 seconds in all).
"""

from __future__ import annotations

import json
from string import ascii_uppercase, digits

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from finder import create_app
from finder.errors import FinderError, InvalidInput
from finder.lookup.api import OPENAPI_FILE
from finder.lookup.service import Lookup

schema = schemathesis.openapi.from_path(OPENAPI_FILE)
BOUNDED = settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@BOUNDED
def test_every_api_operation_keeps_to_the_openapi_document(case, app) -> None:
    # The in-process transport does not undo Content-Encoding, and a full answer is big enough to be compressed.
    case.call_and_validate(app=app, headers={"Accept-Encoding": "identity"})


@pytest.fixture()
def one_request_an_hour(finder_lookup: Lookup):
    """An app that lets each client make one API request an hour, so nearly every answer is a 429."""
    app = create_app({"ENV_NAME": "testing", "RATE_LIMIT": "1/hour"}, lookup=finder_lookup)
    return app


@schema.parametrize()
@settings(BOUNDED, max_examples=10)
def test_answers_over_the_rate_limit_keep_to_the_openapi_document_too(case, one_request_an_hour) -> None:
    # Refusing valid requests, and any method, is the point of a rate limit: those two checks are off.
    case.call_and_validate(app=one_request_an_hour, excluded_checks=[positive_data_acceptance, unsupported_method])


def outcode_parameter() -> dict:
    """The schema the OpenAPI document gives /api/v1/outcodes/{outcode}'s path parameter."""
    operation = json.loads(OPENAPI_FILE.read_text())["paths"]["/api/v1/outcodes/{outcode}"]["get"]
    return next(p["schema"] for p in operation["parameters"] if p.get("name") == "outcode")


def test_the_outcode_parameter_refuses_exactly_the_postal_districts_the_api_answers_400_for(finder_lookup, client):
    # Schemathesis sent W1, which the document accepted and the API refused (400 postal_district). A district
    # is an outward code with a letter added (W1 -> W1A), so every candidate is one or two letters and a digit.
    accepts = jsonschema_rs.validator_for(outcode_parameter()).is_valid
    areas = [*ascii_uppercase, *(a + b for a in ascii_uppercase for b in ascii_uppercase)]
    candidates = [area + digit for area in areas for digit in digits]
    districts = set()
    for code in candidates:
        try:
            finder_lookup.resolve(postcode=code)
        except InvalidInput as error:
            assert error.code == "postal_district", code
            districts.add(code)
        except FinderError:
            pass
    assert districts == {"W1", "SW1", "WC1", "WC2", "EC1", "EC2", "EC3", "EC4"}
    assert {code for code in candidates if not accepts(code)} == districts
    assert not accepts(" w1 ") and accepts("W1A") and accepts("SE1")
    for district in districts:
        answer = client.get(f"/api/v1/outcodes/{district.lower()}")
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "postal_district"
    operation = schema["/api/v1/outcodes/{outcode}"]["GET"]
    operation.Case(path_parameters={"outcode": "W1"}).call_and_validate(app=client.application)
