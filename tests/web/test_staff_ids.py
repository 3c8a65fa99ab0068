"""Every staff form that names a record by id answers a clear 4xx for an id no store can hold, never a 500.

SQLite's driver raises OverflowError on an integer above 2**63 - 1 (and PostgreSQL refuses it),
so an id of 2**63 typed into a URL or a form field must stop at the edge. The routes come from
the app's url_map, each with the id fields its form posts declared below: a new staff POST route
fails `test_every_staff_post_route_declares_its_id_fields` until someone lists its ids here.
"""

from __future__ import annotations

import re

import pytest

from finder.store import Store
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.staff import csrf_token, make_user, sign_in, staff_app

BAD_IDS = [str(2**63), str(2**64), "-1", "abc"]
URL_ID = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")

# Every staff POST route: the form fields it reads as ids, and a form that is otherwise good (so the
# bad id is what is tested). "ROUTE" and "VERSION" stand for the sample team's phone route and its version.
STAFF_POSTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "admin.sign_in": ((), {}),
    "admin.second_step": ((), {}),
    "admin.enrol": ((), {}),
    "admin.enrol_offered": ((), {}),
    "admin.sign_out": ((), {}),
    "admin.sign_out_everywhere": ((), {}),
    "admin.invitation": ((), {}),
    "admin.reset": ((), {}),
    "admin.reset_request": ((), {}),
    "admin.users": ((), {}),
    "admin.user_wards": ((), {"wards": SAMPLE_WARD}),
    "admin.user_link": ((), {}),
    "admin.user_active": ((), {"active": "0"}),
    "admin.user_cancel": ((), {}),
    "admin.add": (
        ("officer_id",),
        {"kind": "phone", "label": "Team phone", "value": "020 7946 0123", "display_order": "5"},
    ),
    "admin.save": (("version",), {"kind": "phone", "label": "Team phone", "value": "020 7946 0123"}),
    "admin.places": (("place", "version"), {"version": "VERSION"}),
    "admin.confirm": (("seen",), {}),
    "admin.update_team_answers": (("seen",), {"priority-issue": "Bikes stolen", "confirm_rest": "y"}),
    "admin.confirm_value": (("version",), {}),
    "admin.conflict": ((), {"keep": "team"}),
    "admin.restore": ((), {}),
    "admin.review_settings": ((), {}),
    "admin.decide": ((), {"decision": "approve"}),
    "admin.decide_many": (("change_set",), {"decision": "approve"}),
    "admin.withdraw": ((), {}),
    "admin.move": (("version",), {"direction": "down"}),
}
URL_VALUES = {"ward_code": SAMPLE_WARD, "entity": "route", "item_id": "ROUTE"}


def staff_post_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and "POST" in r.methods]


def test_every_staff_post_route_declares_its_id_fields(finder_lookup):
    from finder import create_app

    app = create_app({"ENV_NAME": "testing"})
    assert {rule.endpoint for rule in staff_post_rules(app)} == set(STAFF_POSTS)


@pytest.fixture()
def site_admin(store: Store, geodata):  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    app = staff_app(store, geodata)
    client = app.test_client()
    sign_in(client, make_user(store, "site@example.org", "site_admin", name="Sid Admin"))
    return app, client


def sample_route(app) -> tuple[str, str]:
    from finder.staff.views.wards import editing

    with app.test_request_context():
        team = editing().editable(SAMPLE_WARD)
    route = next(r for r in team.routes if r.values["kind"] == "phone")
    return str(route.id), str(route.version)


def cases():
    """(endpoint, where the bad id goes: "url:<name>" or "form:<name>") for every id field."""
    from finder import create_app

    app = create_app({"ENV_NAME": "testing"})
    for rule in staff_post_rules(app):
        for name in URL_ID.findall(rule.rule):
            yield rule.endpoint, f"url:{name}"
        for name in STAFF_POSTS.get(rule.endpoint, ((), {}))[0]:
            yield rule.endpoint, f"form:{name}"


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("endpoint,field", list(cases()))
def test_an_id_no_store_can_hold_gets_a_clear_4xx_from_every_staff_form(site_admin, endpoint, field, bad):
    app, client = site_admin
    route_id, version = sample_route(app)
    rule = next(r for r in staff_post_rules(app) if r.endpoint == endpoint)
    where, name = field.split(":")
    form = {k: {"VERSION": version}.get(v, v) for k, v in STAFF_POSTS[endpoint][1].items()}
    form.setdefault("version", version)
    url_values = {**URL_VALUES, "item_id": route_id}
    if where == "url":
        url_values[name] = bad
    else:
        form[name] = bad
    path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: url_values.get(m.group(1), "1"), rule.rule)
    response = client.post(path, data={**form, "csrf_token": csrf_token(client)})
    assert 400 <= response.status_code < 500, (path, form, response.status_code)
    assert re.search(r"Page not found|there is a problem", response.get_data(as_text=True), re.IGNORECASE)
