"""Every /admin route carries an access check: proved by walking the app's url_map, and enforced at run time."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from finder.staff.views import staff_required
from tests.support.staff import staff_app

# The only staff pages anyone may open: signing in, its second step, and the one-time links.
OPEN_PAGES = {
    "admin.sign_in",
    "admin.second_step",
    "admin.enrol",
    "admin.invitation",
    "admin.reset",
    "admin.reset_request",
}
CHECKS = {"staff", "admin", "ward", "open"}
SAMPLE_VALUES = {"int": "1", "ward_code": "E05013806", "token": "not-a-token"}  # for URL variables


def staff_rules(app: Flask):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]


def unchecked_routes(app: Flask) -> list[str]:
    """Staff routes whose view has no check, is open without being on the list, or takes a ward unchecked."""
    problems = []
    for rule in staff_rules(app):
        check = getattr(app.view_functions[rule.endpoint], "staff_check", None)
        if check not in CHECKS:
            problems.append(f"{rule.rule}: no access check")
        elif (check == "open") != (rule.endpoint in OPEN_PAGES):
            listed = rule.endpoint in OPEN_PAGES
            problems.append(f"{rule.rule}: open is {check == 'open'}, the allow-list says {listed}")
        elif "ward_code" in rule.arguments and check != "ward":
            problems.append(f"{rule.rule}: takes a ward_code but is not @ward_required")
    return problems


@pytest.fixture()
def app(finder_lookup):
    from finder import create_app

    app = create_app({"ENV_NAME": "testing"}, lookup=finder_lookup)
    return app


def test_every_staff_route_has_an_access_check_and_only_the_sign_in_pages_are_open(app):
    assert len(staff_rules(app)) >= 10
    assert unchecked_routes(app) == []
    assert {rule.endpoint for rule in staff_rules(app)} >= OPEN_PAGES


def test_the_walk_finds_a_staff_route_added_without_a_check(app):
    app.add_url_rule("/admin/forgotten", "admin.forgotten", lambda: "secret")
    app.add_url_rule("/admin/wards/<ward_code>/oops", "admin.oops", staff_required(lambda ward_code: ward_code))
    assert unchecked_routes(app) == [
        "/admin/forgotten: no access check",
        "/admin/wards/<ward_code>/oops: takes a ward_code but is not @ward_required",
    ]


def test_a_staff_route_without_a_check_is_refused_before_it_runs(app):
    ran = []
    app.add_url_rule("/admin/forgotten", "admin.forgotten", lambda: ran.append(1) or "secret")
    response = app.test_client().get("/admin/forgotten")
    assert response.status_code == 403 and ran == []


def test_every_staff_page_sends_someone_signed_out_to_sign_in_and_none_fails(db_app):
    client = db_app.test_client()
    for rule in staff_rules(db_app):
        path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE_VALUES.get(m.group(1) or m.group(2), "x"), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            if rule.endpoint in OPEN_PAGES:
                assert response.status_code in (200, 302, 400, 404), (method, path, response.status_code)
            elif method == "POST":
                assert response.status_code == 400, (method, path)  # no CSRF token: refused before the view
            else:
                assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"], (method, path)


@pytest.fixture()
def db_app(tmp_path, geodata):
    from tests.support.stores import new_store

    return staff_app(new_store("sqlite", tmp_path), geodata)
