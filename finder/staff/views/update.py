"""The ordinary update in one page and two submits: the form, then "Check your answers", then one save.

- /admin/wards/<ward_code>/update        the form (a new officer, contact details, a meeting, a priority, and
                                         "the rest is still correct"), opened at the team's versions
- POST /admin/wards/<ward_code>/update   answers with a mistake come back with it marked and nothing lost;
                                         good ones show "Check your answers" (the form follows, for its
                                         Change links); answers saved as checked go to the editing service
                                         in one transaction, and back to the ward page saying what happened.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import Form

from finder.staff.editing import (
    EditableTeam,
    EditConflict,
    Invalid,
    NotAllowed,
    NotFound,
    Part,
    StaleConfirm,
    UpdateSaved,
    parse_seen,
)
from finder.staff.update_form import HEADINGS, NEW, digest, parts, refreshed, show_errors, shown, update_form_class
from finder.staff.views import bp, ward_required
from finder.staff.views.wards import CHOICES, ENTITY_NAMES, FIELD_FORMS, actor, editing, shown_when, ward_name
from finder.store.staff import Role


def _team(ward_code: str) -> EditableTeam:
    try:
        return editing().editable(ward_code)
    except NotFound as error:
        abort(404, description=str(error))


def _own_routes(team: EditableTeam) -> list[Any]:
    return [r for r in team.routes if r.officer_id is None]


def _page(
    ward_code: str, team: EditableTeam, form: Form, *, checking: bool = False, adding: Any = (), status: int = 200
) -> Any:
    name, borough = ward_name(ward_code)
    borough_code = editing().borough_of(ward_code)
    review = borough_code is not None and editing().review_required(borough_code) and actor().role == Role.WARD_EDITOR
    page = render_template(
        "admin/update.html",
        ward_code=ward_code,
        ward_name=name,
        borough_name=borough,
        team=team,
        routes=_own_routes(team),
        form=form,
        new=NEW,
        headings=HEADINGS,
        entity_words={"officer": "officer or PCSO", "meeting": "meeting", "priority": "priority"},
        checking=checking,
        adding={part.key for part in adding},
        review=review,
        choices=CHOICES,
        fields=FIELD_FORMS,
    )
    return page, status


@bp.get("/wards/<ward_code>/update")
@ward_required
def update_team(ward_code: str) -> Any:
    """The one form for the ordinary update, filled with the team's contact details as they are now."""
    team = _team(ward_code)
    routes = _own_routes(team)
    form = update_form_class(routes, CHOICES)(data=shown(routes) | {"seen": team.seen})
    return _page(ward_code, team, form)


@bp.post("/wards/<ward_code>/update")
@ward_required
def update_team_answers(ward_code: str) -> Any:
    """Check the answers; show them to check; save them once checked (and unchanged since)."""
    try:
        seen = parse_seen(request.form.get("seen", ""))
    except Invalid:
        abort(400, description="This form is missing the versions it was opened at. Open it again from the ward page.")
    team = _team(ward_code)
    routes = [r for r in _own_routes(team) if ("route", r.id) in seen]  # as the page showed them
    if any(entity == "route" and not any(r.id == id_ for r in team.routes) for entity, id_ in seen):
        return _moved_on(ward_code, "A contact detail of the team was removed.")
    form = update_form_class(routes, CHOICES)(request.form)
    found = parts(form, routes)
    if not found and not form.confirm_rest.data:
        form.confirm_rest.errors = ["Enter a change, or tick that the rest of the team's details are still correct"]
        return _page(ward_code, team, form, status=400)
    service = editing()
    try:
        service.check_update(ward_code, found, seen)
    except Invalid as error:
        show_errors(form, error.errors)
        return _page(ward_code, team, form, status=400)
    answered = digest(form)
    if "save" not in request.form or form.checked.data != answered:
        form.checked.data = answered
        return _page(ward_code, team, form, checking=True, adding=found)
    try:
        done = service.save_update(
            actor(), ward_code, found, seen, confirm_rest=form.confirm_rest.data, note=form.note.data
        )
    except Invalid as error:
        show_errors(form, error.errors)
        return _page(ward_code, team, form, status=400)
    except EditConflict as conflict:
        where = f"route_{conflict.entity_id}" if conflict.entity == "route" else "confirm_rest"
        return _moved_on(ward_code, _what_changed(conflict), where)
    except StaleConfirm as stale:
        return _moved_on(ward_code, _what_changed(stale))
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        return _moved_on(ward_code, str(error))
    _say_what_happened(found, done)
    return redirect(url_for("admin.ward", ward_code=ward_code, _anchor="top"))


def _moved_on(ward_code: str, why: str, where: str = "confirm_rest") -> Any:
    """Someone changed the team after the form was opened: nothing was saved. The answers come back as typed
    (a contact detail added since: as it is now), at the team's versions now, with what changed on `where`,
    to check and send again: knowingly, never silently over someone else's change."""
    team = _team(ward_code)
    routes = _own_routes(team)
    form = update_form_class(routes, CHOICES)(request.form)
    refreshed(form, routes)
    form.seen.data, form.checked.data = team.seen, ""
    message = f"Nothing was saved: someone changed this team after you opened this page. {why}"
    form[where if where in form else "confirm_rest"].errors = [message]
    return _page(ward_code, team, form, status=409)


def _what_changed(stale: EditConflict | StaleConfirm) -> str:
    """What another save changed, in words: each record and field, before and after."""
    if isinstance(stale, EditConflict):
        what = ENTITY_NAMES.get(stale.entity, stale.entity)
        if stale.removed:
            return f"The {what} was removed."
        labels = FIELD_FORMS.get(stale.entity, {})
        now = [f"{labels.get(d.field, (d.field,))[0]}: now “{d.current or '—'}”" for d in stale.differences]
        return f"The {what} changed ({'; '.join(now)}). Check your answers below, then continue."
    said = []
    for entity, label, changes in stale.changed:
        fields = FIELD_FORMS.get(entity, {})
        edits = [
            f"{fields.get(c.field or '', (c.field,))[0]}: “{c.before or '—'}” to “{c.after or '—'}”"
            for c in changes
            if c.action != "confirm"
        ]
        what = f"{ENTITY_NAMES.get(entity, entity).capitalize()} {label}"
        said.append(what + (f" ({'; '.join(edits)})" if edits else ""))
    return "What changed: " + ". ".join(said) + ". Check your answers below, then continue."


def _say_what_happened(found: list[Part], done: UpdateSaved) -> None:
    """One banner: what residents see now, what waits for review, and what was marked as checked."""
    applied: list[str] = []
    waiting: list[str] = []
    for part in found:
        saved = done.parts.get(part.key)
        if saved is not None and saved.status != "unchanged":
            (waiting if saved.status == "pending" else applied).append(_named(part))
    if applied:
        flash(
            f"Saved {_listed(applied)}. Residents see {'it' if len(applied) == 1 else 'them'} {shown_when()}.",
            "success",
        )
    if waiting:
        flash(f"Waiting for review by your borough admin: {_listed(waiting)}.", "success")
    if done.confirmed is not None:
        flash("The rest of the team's details are marked as checked today. Residents see that.", "success")


def _named(part: Part) -> str:
    """A part of the update as the banner names it."""
    if part.entity == "officer":
        return f"the new officer “{part.form.get('name', '')}”"
    if part.entity == "meeting":
        return f"the new meeting “{part.form.get('title', '')}”"
    if part.entity == "priority":
        return "the new priority"
    return f"the contact detail “{part.form.get('value', '')}”"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
