"""The API keeps to its OpenAPI document, checked by schemathesis against the real app in process.

Schemathesis reads the OpenAPI document (the file the app serves at /api/v1/openapi.json; a test
in test_api.py checks they are the same), generates valid and invalid requests for every
operation, and checks each answer: no server errors, only documented status codes, content types
and headers, bodies that match their schemas, valid input accepted and invalid input refused.
Bounded: at most 50 generated examples per operation (about 15 seconds in all).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from finder import create_app
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
