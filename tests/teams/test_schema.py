"""The records' schema is the one place their fields are described; what is derived from it agrees with it."""

from __future__ import annotations

import json

from werkzeug.datastructures import MultiDict

from finder.staff.editing import FIELDS
from finder.staff.views.wards import FIELD_FORMS
from finder.teams import api, forms, schema
from finder.teams.validation import MODELS, check


def test_every_field_an_editor_may_change_is_a_column_of_its_records_table():
    for entity, model in MODELS.items():
        columns = set(model.__mapper__.columns.keys())
        assert set(schema.editable(entity)) <= columns, entity


def test_the_editing_service_the_forms_and_the_checks_all_take_their_fields_from_the_schema():
    for entity in schema.RECORDS:
        assert FIELDS[entity] == schema.editable(entity)
        assert list(FIELD_FORMS[entity]) == list(schema.editable(entity))
        assert set(check(entity, {}).values) | set(check(entity, {}).errors) == set(schema.editable(entity))
    assert FIELD_FORMS["officer"]["name"] == ("Name", "text", "")
    assert FIELD_FORMS["team"]["url_force"] == ("The team's page on the force website", "url", "Starts with https://")


def test_a_posted_form_reaches_the_service_with_only_the_records_fields():
    posted = forms.posted("officer", MultiDict({"name": "Jo", "role": "pcso", "csrf_token": "x", "is_admin": "1"}))
    assert posted["name"] == "Jo" and posted["role"] == "pcso"
    assert set(posted) == set(schema.editable("officer"))


def test_the_openapi_document_describes_each_records_fields_as_the_schema_does():
    current = api.OPENAPI_FILE.read_text(encoding="utf-8")
    assert api.text(api.document(json.loads(current))) == current, "run: python -m finder.teams.api"
    officer = json.loads(current)["components"]["schemas"]["TeamOfficer"]
    for _, name, spec in api.api_fields("officer"):
        assert officer["properties"][name] == spec.api_schema() and name in officer["required"]
