"""Editing a ward's team: the forms, "still correct", history and restore, review, sync conflicts.

Thin views over `finder.staff.editing.Editing`, which holds every rule. Each record's form
carries the version the editor opened; a save that meets a newer version shows what changed and
lets the editor choose. A form with a mistake comes back with every field as typed.

- /admin/wards/<ward_code>                              the team, one form per record
- POST /admin/wards/<ward_code>/<entity>/new            add a route, officer, meeting or priority
- POST /admin/wards/<ward_code>/<entity>/<id>           save (or, with `remove`, remove) a record
- POST /admin/wards/<ward_code>/places                  the front counters the team lists
- POST /admin/wards/<ward_code>/confirm                 "still correct": stamp everything verified (as seen)
- POST /admin/wards/<ward_code>/<entity>/<id>/confirm   "still correct" for one record (as of its version)
- POST /admin/wards/<ward_code>/conflicts/<id>          settle a sync conflict (keep=policeuk|team)
- /admin/wards/<ward_code>/history (.csv for admins)    every change; admins restore from here
- /admin/review                                         admins: edits waiting for review
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from finder.staff.account import Account
from finder.staff.editing import (
    EditConflict,
    Editing,
    Invalid,
    NotAllowed,
    NotFound,
    NotWaiting,
    Saved,
    StaleConfirm,
    parse_seen,
)
from finder.staff.history import FIELDS, HistoryEntry
from finder.staff.permissions import may_review
from finder.staff.review import decide_all, reason_problem
from finder.staff.views import (
    admin_required,
    borough_of,
    boroughs,
    bp,
    current_account,
    staff_store,
    ward_required,
)
from finder.staff.views.notify import tell_editors
from finder.store.models import MAX_ID
from finder.store.staff import Role
from finder.teams.directory import MEETING_LABELS, ROLE_LABELS
from finder.teams.forms import field_forms, posted
from finder.teams.validation import ROUTE_KIND_LABELS
from finder.web import services

ENTITIES = ("team", "route", "officer", "meeting", "priority")
ENTITY_NAMES = {
    "team": "team details",
    "route": "contact route",
    "officer": "officer",
    "meeting": "meeting",
    "priority": "priority",
}
# How each field is asked for: (label, input type, hint), from the records' schema (finder/teams/schema.py).
FIELD_FORMS: dict[str, dict[str, tuple[str, str, str]]] = {entity: field_forms(entity) for entity in ENTITIES}
# The words for each fixed choice (the choices themselves come from the store's fixed sets, via the schema).
CHOICES: dict[tuple[str, str], dict[str, str]] = {
    ("route", "kind"): {k: v[0].upper() + v[1:] for k, v in ROUTE_KIND_LABELS.items()},
    ("officer", "role"): {k: v[0] for k, v in ROLE_LABELS.items()},
    ("meeting", "kind"): dict(MEETING_LABELS),
}


def editing() -> Editing:
    """The editing service over the store residents read, announcing each change (this worker shows it at once;
    every other one too, with FINDER_REDIS_URL)."""
    domains = current_app.config.get("FORCE_EMAIL_DOMAINS")
    return Editing(staff_store(), borough_of, force_domains=domains, on_change=services().announce)


def actor() -> Account:
    """Who is acting: the signed-in user, as the editing rules take them."""
    return current_account()


def ward_name(ward_code: str) -> tuple[str, str]:
    """(ward name, borough name) from the geodata."""

    ward = services().lookup.geo.wards.get(ward_code)
    return (ward.name, ward.borough_name) if ward else (ward_code, "")


def _form(entity: str) -> dict[str, str]:
    """The submitted fields an editor may change, read by the record's form (nothing else reaches the service)."""
    return posted(entity, request.form)


def _form_id(text: str | None, message: str) -> int:
    """A record id or version from a form: a whole number a store can hold, else a 400 saying `message`."""
    if text is None or not text.isdecimal() or int(text) > MAX_ID:
        abort(400, description=message)
    return int(text)


def _version() -> int:
    return _form_id(
        request.form.get("version"),
        "This form is missing the version it was opened at. Reload the page and try again.",
    )


def _note() -> str | None:
    return (request.form.get("note") or "").strip()[:1000] or None


def shown_when() -> str:
    """When residents see a saved change: "now", or when the other workers' copies of the teams expire."""
    seconds = services().changes_show_everywhere_within
    return f"now on this server, and everywhere within {seconds:.0f} seconds" if seconds else "now"


def _done(ward_code: str, saved: Saved, what: str, section: str) -> WerkzeugResponse:
    """After a save: say what happens next, and go back to the section saved, open (`section`: its anchor)."""
    if saved.status == "pending":
        flash(f"Your change to the {what} is waiting for review by your borough admin.", "success")
    elif saved.status == "unchanged":
        flash(f"Nothing to save: the {what} already says that.")
    else:
        flash(f"Saved the {what}. Residents see it {shown_when()}.", "success")
    return redirect(url_for("admin.ward", ward_code=ward_code, open=section, _anchor=section))


def _record_key(entity: str, item_id: int | None) -> str:
    """A record's anchor on the ward page; a record not (yet) stored goes back to its section's heading."""
    return f"{entity}-{item_id}" if item_id is not None else f"{entity}-title"


def _waiting(service: Editing, ward_code: str) -> dict[str, list[HistoryEntry]]:
    """The ward's changes waiting for review, by the record each touches ("route-7"; an addition: "route-new")."""
    by_record: dict[str, list[HistoryEntry]] = {}
    for entry in service.pending([ward_code]):
        keys = {f"{c.entity}-{c.entity_id if c.action != 'add' else 'new'}" for c in entry.changes}
        for key in keys:
            by_record.setdefault(key, []).append(entry)
    return by_record


def _page(ward_code: str, *, status: int = 200, **extra: Any) -> tuple[str, int]:
    service = editing()
    try:
        team = service.editable(ward_code)
    except NotFound:
        team = None
    name, borough = ward_name(ward_code)
    borough_code = borough_of(ward_code)
    review = service.review_required(borough_code) if borough_code else False
    stale = service.stale_items(ward_code) if team else []
    return (
        render_template(
            "admin/ward.html",
            ward_code=ward_code,
            ward_name=name,
            borough_name=borough,
            team=team,
            review=review and current_account().role == Role.WARD_EDITOR,
            stale=stale,
            unconfirmed={f"{item.entity}-{item.id}" for item in stale},
            unclear=service.unclear_meetings(team) if team else [],
            flagged=service.needs_correction(team) if team else {},
            conflicts=service.conflicts(ward_code) if team else [],
            pending=_waiting(service, ward_code) if team else {},
            editable=FIELDS,
            fields=FIELD_FORMS,
            choices=CHOICES,
            entity_names=ENTITY_NAMES,
            **extra,
        ),
        status,
    )


@bp.get("/wards/<ward_code>")
@ward_required
def ward(ward_code: str) -> Any:
    """The ward's team, one form per record; `open` names the record just saved, shown open."""
    return _page(ward_code, opened=request.args.get("open", ""))


@bp.post("/wards/<ward_code>/<entity>/new")
@ward_required
def add(ward_code: str, entity: str) -> Any:
    """Add a route, officer, meeting or priority."""
    if entity not in ENTITIES or entity == "team":
        abort(404)
    try:
        officer = request.form.get("officer_id")
        officer_id = None if officer is None else _form_id(officer, "Choose an officer from the page.")
        saved = editing().add(actor(), ward_code, entity, _form(entity), officer_id=officer_id, note=_note())  # type: ignore[arg-type]
    except Invalid as error:
        return _page(ward_code, status=400, error=error, failed=f"{entity}-new", typed=_form(entity))
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))
    return _done(ward_code, saved, ENTITY_NAMES[entity], _record_key(entity, saved.entity_id))


@bp.post("/wards/<ward_code>/<entity>/<int:item_id>")
@ward_required
def save(ward_code: str, entity: str, item_id: int) -> Any:
    """Save a record as typed, or remove it (the `remove` button), as of the version the editor opened."""
    if entity not in ENTITIES:
        abort(404)
    service, version = editing(), _version()
    try:
        if "remove" in request.form:
            saved = service.remove(actor(), ward_code, entity, item_id, version, note=_note())  # type: ignore[arg-type]
        else:
            saved = service.update(actor(), ward_code, entity, item_id, _form(entity), version, note=_note())  # type: ignore[arg-type]
    except Invalid as error:
        return _page(ward_code, status=400, error=error, failed=f"{entity}-{item_id}", typed=_form(entity))
    except EditConflict as conflict:
        name, _ = ward_name(ward_code)
        return (
            render_template(
                "admin/conflict.html",
                conflict=conflict,
                ward_code=ward_code,
                ward_name=name,
                entity=entity,
                item_id=item_id,
                typed=_form(entity),
                note=_note() or "",
                removing="remove" in request.form,
                labels=FIELD_FORMS.get(entity, {}),
                entity_name=ENTITY_NAMES[entity],
            ),
            409,
        )
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))
    removed = "remove" in request.form and saved.status == "applied"
    return _done(ward_code, saved, ENTITY_NAMES[entity], _record_key(entity, None if removed else item_id))


# The lists an editor orders with Move up and Move down (finder.staff.editing.ORDERED), as messages name them.
LISTS = {"route": "ways to reach the team", "officer": "officers and PCSOs", "priority": "priorities"}


@bp.post("/wards/<ward_code>/<entity>/<int:item_id>/move")
@ward_required
def move(ward_code: str, entity: str, item_id: int) -> Any:
    """Move a route, officer or priority one place up or down the list residents see (no JavaScript needed)."""
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description="Choose Move up or Move down on the page.")
    key = _record_key(entity, item_id)
    try:
        saved = editing().move(actor(), ward_code, entity, item_id, direction, _version(), note=_note())  # type: ignore[arg-type]
    except EditConflict:
        problem = Invalid({"move": "Someone changed this list after you opened the page. Check it, then try again."})
        return _page(ward_code, status=409, error=problem, failed=key)
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))
    return _done(ward_code, saved, f"order of the {LISTS[entity]}", key)


@bp.post("/wards/<ward_code>/places")
@ward_required
def places(ward_code: str) -> Any:
    """Which front counters the team lists."""
    ids = [_form_id(x, "Select front counters from the list.") for x in request.form.getlist("place")]
    try:
        saved = editing().set_places(actor(), ward_code, ids, _version(), note=_note())
    except Invalid as error:
        return _page(ward_code, status=400, error=error, failed="places", typed={})
    except EditConflict:
        flash("Someone changed this team while you had the page open. Check the front counters and save again.")
        return redirect(url_for("admin.ward", ward_code=ward_code))
    return _done(ward_code, saved, "front counters", "places")


@bp.post("/wards/<ward_code>/confirm")
@ward_required
def confirm(ward_code: str) -> Any:
    """ "Still correct": one click stamps the whole team verified now, if it is still what the page showed."""
    try:
        seen = parse_seen(request.form.get("seen", ""))
        editing().confirm_ward(actor(), ward_code, seen, note=_note())
    except Invalid as error:
        abort(400, description=next(iter(error.errors.values())))
    except StaleConfirm as stale:
        name, _ = ward_name(ward_code)
        page = render_template(
            "admin/confirm_conflict.html",
            stale=stale,
            ward_code=ward_code,
            ward_name=name,
            entity_names=ENTITY_NAMES,
            labels=FIELD_FORMS,
            note=_note() or "",
        )
        return page, 409
    except NotFound as error:
        abort(404, description=str(error))
    flash("Thank you: every detail of this team is marked as checked today. Residents see that.")
    return redirect(url_for("admin.ward", ward_code=ward_code))


@bp.post("/wards/<ward_code>/<entity>/<int:item_id>/confirm")
@ward_required
def confirm_value(ward_code: str, entity: str, item_id: int) -> Any:
    """ "Still correct" for one record: one click stamps it confirmed now, if it is still what the page showed."""
    if entity not in ENTITIES:
        abort(404)
    what = ENTITY_NAMES[entity]
    try:
        saved = editing().confirm_value(actor(), ward_code, entity, item_id, _version(), note=_note())  # type: ignore[arg-type]
    except EditConflict as conflict:
        error = Invalid({"status": _not_confirmed(conflict, entity)})
        now = next((i for i in editing().editable(ward_code).shown if (i.entity, i.id) == (entity, item_id)), None)
        typed = now.form() if now is not None else {}  # its form opens with what it says now, to check
        return _page(ward_code, status=409, error=error, failed=f"{entity}-{item_id}", typed=typed)
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))
    if saved.status == "pending":
        flash(f"Your confirmation of the {what} is waiting for review by your borough admin.")
    else:
        flash(f"Thank you: the {what} is marked as confirmed by the team today. Residents see that.")
    return redirect(url_for("admin.ward", ward_code=ward_code, _anchor=f"{entity}-{item_id}-status"))


def _not_confirmed(conflict: EditConflict, entity: str) -> str:
    """Why a one-record "still correct" was refused, and what the record says now."""
    what = ENTITY_NAMES[entity]
    if conflict.removed:
        return f"Nothing was confirmed: this {what} was removed after you opened the page."
    labels = FIELD_FORMS[entity]
    now = {c.field: c.after for c in conflict.changed_since if c.field in labels}
    says = "; ".join(
        f"{labels[name][0].removesuffix(' (optional)')}: {value or '(empty)'}" for name, value in now.items()
    )
    return (
        f"Nothing was confirmed: this {what} changed after you opened the page"
        + (f", and now says {says}" if says else "")
        + ". Check it below, then confirm it again if it is right."
    )


@bp.post("/wards/<ward_code>/conflicts/<int:change_set_id>")
@ward_required
def conflict(ward_code: str, change_set_id: int) -> Any:
    """Settle where police.uk disagrees with the team: keep the team's details or take police.uk's."""
    keep = request.form.get("keep", "")
    try:
        found = editing().change_set(change_set_id)
        if found is None or found.ward_code != ward_code:
            abort(404)
        saved = editing().resolve_conflict(actor(), change_set_id, keep, note=_note())  # type: ignore[arg-type]
    except Invalid as error:
        return _page(ward_code, status=400, error=error, failed="conflicts", typed={})
    except EditConflict:
        flash("That record changed since police.uk's details were seen. Check it and choose again.")
        return redirect(url_for("admin.ward", ward_code=ward_code))
    except NotFound as error:
        abort(404, description=str(error))
    return _done(ward_code, saved, "team details", "team-title")


@bp.get("/wards/<ward_code>/history")
@ward_required
def history(ward_code: str) -> Any:
    """Every change to the ward's team: who, when, which field, before and after, why."""
    name, borough = ward_name(ward_code)
    return render_template(
        "admin/history.html",
        ward_code=ward_code,
        ward_name=name,
        borough_name=borough,
        entries=editing().history(ward_code),
        can_restore=current_account().is_admin,
    )


@bp.get("/wards/<ward_code>/history.csv")
@ward_required
def history_csv(ward_code: str) -> Any:
    """The ward's history as CSV (admins)."""
    if not current_account().is_admin:
        abort(403, description="Only borough and site admins can export history.")
    body = editing().history_csv([ward_code])
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{ward_code}-history.csv"'
    return response


@bp.get("/boroughs/<borough_code>/history.csv")
@admin_required
def borough_history_csv(borough_code: str) -> Any:
    """Every change in a borough's wards as CSV: its own admins, or a site admin."""

    if borough_code not in boroughs():
        abort(404, description="There is no London borough with that code.")
    if not may_review(actor(), borough_code):
        abort(403, description="Only this borough's admins or a site admin can export its history.")
    wards = [w.code for w in services().lookup.geo.wards.wards if w.borough_code == borough_code]
    response = Response(editing().history_csv(wards), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{borough_code}-history.csv"'
    return response


@bp.post("/wards/<ward_code>/history/<int:change_set_id>/restore")
@ward_required
def restore(ward_code: str, change_set_id: int) -> Any:
    """Put an earlier version back, as a new change (admins)."""
    if not current_account().is_admin:
        abort(403, description="Only borough and site admins can restore earlier versions.")
    service = editing()
    found = service.change_set(change_set_id)
    if found is None or found.ward_code != ward_code:
        abort(404)
    try:
        saved = service.restore(actor(), change_set_id, note=_note())
    except EditConflict:
        flash(
            "Something this change touched has changed again since. Restore the later change first, "
            "or edit the details by hand."
        )
        return redirect(url_for("admin.history", ward_code=ward_code))
    except (NotAllowed, NotFound) as error:
        flash(str(error))
        return redirect(url_for("admin.history", ward_code=ward_code))
    return _done(ward_code, saved, "earlier version", "top")


def reviewable(account: Account, entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """The waiting changes this person may approve or reject."""
    return [e for e in entries if may_review(account, borough_of(e.ward_code))]


def _review_page(*, error: Invalid | None = None, chosen: Collection[int] = (), status: int = 200) -> Any:
    """The queue, the form that settles several changes at once, and which boroughs review."""
    account, service = current_account(), editing()
    mine = reviewable(account, service.pending())
    editors: dict[tuple[int | None, str], list[int]] = {}
    for entry in mine:
        editors.setdefault((entry.user_id, entry.who), []).append(entry.id)
    names = boroughs()
    reviewing = service.boroughs_reviewing()
    settings = {code: code in reviewing for code in names}
    if account.role != Role.SITE_ADMIN:
        settings = {code: on for code, on in settings.items() if code == account.borough_code}
    page = render_template(
        "admin/review.html",
        entries=mine,
        editors=editors,
        ward_name=ward_name,
        entity_names=ENTITY_NAMES,
        settings=settings,
        names=names,
        error=error,
        typed=error.values if error else {},
        chosen=set(chosen),
    )
    return page, status


@bp.get("/review")
@admin_required
def review() -> Any:
    """Edits waiting for review in the admin's wards, and whether their borough requires review."""
    return _review_page()


def _settle(ids: list[int], approve: bool, reason: str = "", *, strict: bool = False) -> WerkzeugResponse:
    """Approve or reject (with one reason) these change sets, say what became of each, back to the queue.

    `strict`: one change, whose NotAllowed or NotFound the caller answers (403, 404); in a batch each is told."""
    service, reviewer = editing(), actor()
    failures: tuple[type[Exception], ...] = (EditConflict, Invalid)  # it no longer fits the team as it is now
    if not strict:
        failures += (NotAllowed, NotFound)
    if approve:
        done = decide_all(ids, lambda i: service.approve(reviewer, i), failures)
    else:
        done = decide_all(ids, lambda i: service.reject(reviewer, i, reason), failures)
    tell_editors(reviewer, done.approved, done.rejected, ward_name=ward_name, entity_names=ENTITY_NAMES)
    if done.approved:
        flash(f"Approved {_changes(len(done.approved))}. Residents see them {shown_when()}.")
    if done.rejected:
        flash(f"Rejected {_changes(len(done.rejected))}. The editor will see your reason.")
    for change_set_id, why in done.failed:
        if why.startswith("This "):  # an EditConflict: the team moved on since the edit was made
            why = "the team changed since this edit was made: reject it with a reason, and ask the editor to redo it"
        flash(f"Change {change_set_id} was not settled: {why}")
    return redirect(url_for("admin.review"))


def _changes(count: int) -> str:
    return "1 change" if count == 1 else f"{count} changes"


@bp.post("/review")
@admin_required
def decide_many() -> Any:
    """One submit of the queue: approve the selected changes or all of one editor's, or reject the selected."""
    form = request.form
    mine = reviewable(current_account(), editing().pending())
    chosen = [_form_id(text, "Select changes from the list.") for text in form.getlist("change_set")]
    if (editor := form.get("approve_editor")) is not None:
        return _settle([e.id for e in mine if str(e.user_id) == editor], approve=True)
    decision = form.get("decision")
    if not chosen:
        problem = Invalid({"change_set": "Select the changes to approve or reject"})
        return _review_page(error=problem, status=400)
    if decision == "reject":
        reason = (form.get("reason") or "").strip()
        if problem_text := reason_problem(reason):
            return _review_page(error=Invalid({"reason": problem_text}, {"reason": reason}), chosen=chosen, status=400)
        return _settle(chosen, approve=False, reason=reason)
    return _settle(chosen, approve=True)


@bp.post("/review/settings")
@admin_required
def review_settings() -> Any:
    """Turn review on or off for a borough (its admins, or a site admin)."""
    borough_code = request.form.get("borough_code", "")
    if borough_code not in boroughs():
        abort(400, description="Choose a London borough from the list.")
    required = request.form.get("review_required") == "1"
    try:
        editing().set_review_required(actor(), borough_code, required)
    except NotAllowed as error:
        abort(403, description=str(error))
    name = boroughs()[borough_code]
    flash(
        f"Editors' changes in {name} now wait for review."
        if required
        else f"Editors' changes in {name} now show at once."
    )
    return redirect(url_for("admin.review"))


@bp.post("/review/<int:change_set_id>")
@admin_required
def decide(change_set_id: int) -> Any:
    """Approve or reject (with a reason) one edit waiting for review: its own buttons on the queue."""
    approve = request.form.get("decision") == "approve"
    field = f"reason-{change_set_id}"
    reason = (request.form.get(field) or request.form.get("reason") or "").strip()
    if not approve and (problem := reason_problem(reason)):
        return _review_page(error=Invalid({field: problem}, {field: reason}), chosen=[change_set_id], status=400)
    try:
        return _settle([change_set_id], approve=approve, reason=reason, strict=True)
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))


@bp.post("/wards/<ward_code>/changes/<int:change_set_id>/withdraw")
@ward_required
def withdraw(ward_code: str, change_set_id: int) -> Any:
    """Take back a change waiting for review (its author, or an admin for the ward): it leaves the queue
    unapplied. Back to the page the button was on (`from`: "home", else the ward page)."""
    service = editing()
    found = service.change_set(change_set_id)
    if found is None or found.ward_code != ward_code:
        abort(404, description="There is no such change in this ward.")
    back = url_for("admin.home") if request.form.get("from") == "home" else url_for("admin.ward", ward_code=ward_code)
    try:
        service.withdraw(actor(), change_set_id)
    except NotAllowed as error:
        abort(403, description=str(error))
    except NotFound as error:
        abort(404, description=str(error))
    except NotWaiting as error:
        flash(str(error))
        return redirect(back)
    when = found.created_at.strftime("%-d %B %Y, %H:%M")
    flash(
        f"Withdrawn: the change to {ward_name(ward_code)[0]} saved {when} UTC will not be reviewed or applied.",
        "success",
    )
    return redirect(back)
