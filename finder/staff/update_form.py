"""The ordinary update on one page: a new officer, the team's contact details, a new meeting and priority,
and "the rest is still correct", in one form drawn with govuk-frontend-wtf's widgets.

The fields and their words come from the records' schema (finder.teams.schema), as on the ward page; the
checks stay in the editing service. A part left blank is no part of the update. The form's answers are
carried through "Check your answers" in the form itself (no server-side draft), with a digest of them, so
a save sends exactly the answers that were checked: any change to them is shown to check again first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovTextArea, GovTextInput
from wtforms import BooleanField, Field, Form, FormField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from finder.staff.editing import Item, Part
from finder.teams import schema

# What each new record asks for, in this order (the rest of its fields stay on the ward page's own forms).
NEW = {
    "officer": ("name", "rank", "role", "work_phone", "phone_public", "work_email", "email_public"),
    "meeting": ("title", "kind", "start", "end", "place"),
    "priority": ("issue", "action"),
}
HEADINGS = {"officer": "Add an officer or PCSO", "meeting": "Add a meeting", "priority": "Add a priority"}


def _field(entity: str, name: str, choices: Mapping[str, str]) -> Field:
    """One field as GOV.UK Frontend draws it: its schema's label, hint and input type."""
    spec = schema.specs(entity)[name]
    if spec.kind == "flag":
        return BooleanField(spec.label, description=spec.hint, widget=GovCheckboxInput())
    if spec.kind == "choice":
        options = [SelectChoice(value, str(words)) for value, words in choices.items()]
        return RadioField(spec.label, choices=options, validate_choice=False, widget=GovRadioInput())
    if spec.kind == "textarea":
        return TextAreaField(spec.label, description=spec.hint, widget=GovTextArea())
    widget = GovTextInput()
    widget.input_type = spec.input_type  # email, tel, datetime-local…: the keyboard and picker that fit
    return StringField(spec.label, description=spec.hint, widget=widget)


def _part_form(entity: str, choices: Mapping[tuple[str, str], Mapping[str, str]]) -> type[Form]:
    fields = {name: _field(entity, name, choices.get((entity, name), {})) for name in NEW[entity]}
    return type(f"New{entity.capitalize()}Form", (Form,), fields)


def update_form_class(routes: Iterable[Item], choices: Mapping[tuple[str, str], Mapping[str, str]]) -> type[Form]:
    """The form for one team: a field for each of its own contact details (`route_<id>`), and the new records."""
    fields: dict[str, Any] = {name: FormField(_part_form(name, choices)) for name in NEW}
    for route in routes:
        label = route.values.get("label") or route.values.get("kind") or "Contact"
        fields[f"route_{route.id}"] = StringField(label, widget=GovTextInput())
        fields[f"was_{route.id}"] = HiddenField()  # what the page showed: a change is what differs from it
    fields["confirm_rest"] = BooleanField(
        "The rest of the team's details are still correct",
        description="Everything else on the team's page is marked as checked today. Residents see that.",
        widget=GovCheckboxInput(),
    )
    fields["note"] = StringField("Why (optional)", widget=GovTextInput())
    fields["seen"] = HiddenField()
    fields["checked"] = HiddenField()
    return type("UpdateForm", (Form,), fields)


def answers(form: Form) -> dict[str, Any]:
    """Everything answered, as posted (not the hidden versions and digest)."""
    return {field.name: field.data for field in form if field.name not in ("seen", "checked")}


def digest(form: Form) -> str:
    """A fingerprint of the answers and the versions they were made against: what "Check your answers" showed.
    Not a secret: it only tells a save from answers changed since they were checked (each is checked again)."""
    text = json.dumps([answers(form), form.seen.data], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _blank(values: Mapping[str, Any], entity: str) -> bool:
    """A new record with nothing typed: its choices and ticks alone are no record."""
    specs = schema.specs(entity)
    return not any(str(values.get(n) or "").strip() for n in NEW[entity] if specs[n].kind not in ("choice", "flag"))


def as_text(value: Any) -> str:
    """A field's value as the editing service reads a form: text, a ticked box "1"."""
    if value is True:
        return "1"
    return "" if value is None or value is False else str(value)


def shown(routes: Sequence[Item]) -> dict[str, str]:
    """The contact details as the form opens with them, and the record of what it showed."""
    values = {f"route_{route.id}": route.form().get("value", "") for route in routes}
    return values | {f"was_{route.id}": value for route, value in zip(routes, values.values(), strict=True)}


def refreshed(form: Form, routes: Iterable[Item]) -> None:
    """After someone else's save: each contact detail the editor left alone shows what it says now; one they
    changed keeps what they typed. Either way the form now shows it as it is now (their next save is knowing)."""
    for route in routes:
        now = route.form().get("value", "")
        typed, was = form[f"route_{route.id}"], form[f"was_{route.id}"]
        if was.data is None or (typed.data or "").strip() == (was.data or "").strip():
            typed.data = now
        was.data = now


def parts(form: Form, routes: Iterable[Item]) -> list[Part]:
    """The update's parts: each new record with something typed, and each contact detail changed on the page."""
    added = {
        entity: Part(entity, entity, {k: as_text(x) for k, x in form[entity].data.items()})  # type: ignore[arg-type]
        for entity in NEW
        if not _blank(form[entity].data, entity)
    }
    changed = [
        Part(f"route_{route.id}", "route", {"value": typed}, route.id)
        for route in routes
        if (typed := (form[f"route_{route.id}"].data or "").strip()) != (form[f"was_{route.id}"].data or "").strip()
    ]
    order = [added.get("officer"), *changed, added.get("meeting"), added.get("priority")]  # as the page asks
    return [part for part in order if part is not None]


def show_errors(form: Form, errors: Mapping[str, str]) -> None:
    """Put the service's messages ("officer-name", "route_7-value") on the fields they are about."""
    for key, message in errors.items():
        part, _, name = key.partition("-")
        if part.startswith("route_"):
            form[part].errors = [message]
        elif part in NEW and name in form[part].form:
            form[part].form[name].errors = [message]
        elif part in form:
            form[part].errors = [message]
