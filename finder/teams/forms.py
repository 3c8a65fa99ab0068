"""The staff forms, made from the records' schema: one WTForms class per record, nothing listed by hand.

WTForms reads what was posted (only a record's editable fields reach the editing service; a checkbox
left empty reads as unticked); the checks stay in `finder.teams.validation.check`, which the CLI and
the tests call without a request. The page still draws each field with the macro in
`templates/admin/_record.html` from `field_forms` (label, input type, hint), in GOV.UK Frontend's classes.
The one-page ordinary update (`finder/staff/update_form.py`) draws its fields with govuk-frontend-wtf widgets.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from wtforms import BooleanField, Field, Form, SelectField, StringField, TextAreaField

from finder.teams import schema


def _field(s: schema.Spec) -> Field:
    """One WTForms field for a Spec; every value stays text as typed (the checks parse it)."""
    if s.kind == "flag":
        return BooleanField(s.label, description=s.hint)
    if s.kind == "choice":
        return SelectField(s.label, description=s.hint, choices=list(s.choices), validate_choice=False)
    if s.kind == "textarea":
        return TextAreaField(s.label, description=s.hint)
    return StringField(s.label, description=s.hint)


@cache
def form_class(entity: str) -> type[Form]:
    """The record's form: its editable fields, in schema order."""
    described = schema.specs(entity)
    fields = {name: _field(described[name]) for name in schema.editable(entity)}
    return type(f"{entity.capitalize()}Form", (Form,), fields)


def posted(entity: str, formdata: Any) -> dict[str, str]:
    """The record's fields as posted, as text (a ticked box "1", an empty one ""); nothing else."""
    form = form_class(entity)(formdata)
    out = {}
    for field in form:
        if isinstance(field, BooleanField):
            out[field.name] = "1" if field.data else ""
        else:
            out[field.name] = "" if field.data is None else str(field.data)
    return out


def field_forms(entity: str) -> dict[str, tuple[str, str, str]]:
    """How the page draws each field: {name: (label, input type, hint)}."""
    return {
        field.name: (str(field.label.text), input_type(entity, field.name), field.description)
        for field in form_class(entity)()
    }


def input_type(entity: str, name: str) -> str:
    """The field's input type on the page (select, textarea, checkbox, or an <input type>)."""
    return schema.specs(entity)[name].input_type
