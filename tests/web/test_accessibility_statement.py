"""The accessibility statement that councils embedding the finder must publish, linked from every resident page."""

from __future__ import annotations

import pytest

from finder import create_app
from tests.store.teamdata import SAMPLE_POSTCODE, team_lookup, team_store


@pytest.fixture(scope="module")
def client(geodata):
    return create_app({"ENV_NAME": "testing"}, lookup=team_lookup(geodata, team_store())).test_client()


def test_the_accessibility_statement_answers_with_the_model_statements_sections(client):
    response = client.get("/accessibility")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("What is not yet accessible", "Reporting accessibility problems", "Enforcement procedure"):
        assert f"<h2>{heading}</h2>" in html
    assert "Equality and Human Rights Commission" in html and "Equality Commission for Northern Ireland" in html
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA" in html


@pytest.mark.parametrize(
    "path",
    ["/", f"/search?postcode={SAMPLE_POSTCODE}", "/embed", f"/embed/search?postcode={SAMPLE_POSTCODE}"],
    ids=["home page", "result page", "embed", "embed result"],
)
def test_the_statement_is_linked_from_the_page(client, path):
    html = client.get(path).get_data(as_text=True)
    assert '<a href="/accessibility" data-accessibility-link>' in html


def test_the_statement_link_keeps_the_residents_language(client):
    html = client.get("/?lang=pl").get_data(as_text=True)
    assert '<a href="/accessibility?lang=pl" data-accessibility-link>' in html
