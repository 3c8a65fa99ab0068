"""The contact-route file: every route says where it was checked and when, and the routes residents need are there."""

import json
from datetime import date

import pytest

from finder.services.lookup import FORCES_FILE, POLICE_AREAS_FILE, load_forces

FORCES = load_forces()
ROUTES = [(force_id, route) for force_id, force in FORCES.items() for route in force.routes]


@pytest.mark.parametrize("force_id, route", ROUTES, ids=[f"{f}-{r.id}" for f, r in ROUTES])
def test_every_route_names_the_public_page_it_was_checked_against_and_when(force_id, route):
    assert route.source.startswith(("https://", "http://")), f"{force_id} {route.id} has no source address"
    checked = date.fromisoformat(route.checked)
    assert date(2026, 1, 1) <= checked <= date.today(), f"{force_id} {route.id}: checked {route.checked}"


def test_a_route_without_a_source_or_a_checked_date_stops_the_file_loading(tmp_path):
    data = json.loads(FORCES_FILE.read_text("utf-8"))
    for field in ("source", "checked"):
        broken = json.loads(json.dumps(data))
        del broken["shared_routes"]["victim_support"][field]
        path = tmp_path / f"no-{field}.json"
        path.write_text(json.dumps(broken), "utf-8")
        with pytest.raises(TypeError, match=field):
            load_forces(path)


@pytest.mark.parametrize("force_id", sorted(FORCES))
def test_each_force_offers_the_routes_a_resident_may_need(force_id):
    routes = {r.id: r for r in FORCES[force_id].routes}
    expected = {
        "emergency": ("999", "tel:999"),
        "non_emergency": ("101", "tel:101"),
        "text_relay": ("18000", "tel:18000"),
        "crimestoppers": ("0800 555 111", "tel:0800555111"),
        "silent_999": ("999, then press 55", "tel:999"),
        "bsl_999": ("999bsl.co.uk", "https://www.999bsl.co.uk/"),
        "emergency_sms": ("Text 999 (register first)", "https://www.emergencysms.org.uk/"),
        "crimestoppers_online": (
            "crimestoppers-uk.org/give-information",
            "https://crimestoppers-uk.org/give-information",
        ),
        "report_fraud": ("reportfraud.police.uk", "https://www.reportfraud.police.uk/"),
        "btp_text": ("61016", "sms:61016"),
        "btp_phone": ("0800 40 50 40", "tel:0800405040"),
        "anti_terrorist_hotline": ("0800 789 321", "tel:0800789321"),
        "act_online": ("gov.uk/ACT", "https://www.gov.uk/ACT"),
        "victim_support": ("08 08 16 89 111", "tel:08081689111"),
    }
    assert {key: (routes[key].value, routes[key].href) for key in expected} == expected
    assert "Free to call, 24 hours a day" in routes["non_emergency"].use_when
    for key in ("emergency", "non_emergency"):
        assert "interpreter" in routes[key].use_when
    assert "Action Fraud" in routes["report_fraud"].use_when
    assert "press 55" in routes["silent_999"].use_when
    assert "Free, 24 hours a day" in routes["bsl_999"].use_when


def test_the_about_page_shows_when_each_route_was_last_checked_and_against_what(client):
    html = client.get("/about").get_data(as_text=True)
    assert "When each contact route was last checked" in html
    for route in FORCES["metropolitan"].routes:
        assert route.label in html
    assert '<time datetime="2026-12-01">1 December 2026</time>' in html
    assert '<a href="https://www.btp.police.uk/advice_and_information/faqs.aspx">www.btp.police.uk</a>' in html
    assert "forces.json" not in html


def _police_areas() -> dict:
    return json.loads(POLICE_AREAS_FILE.read_text())


def test_every_force_website_is_https_and_names_the_page_it_was_found_on():
    data = _police_areas()
    for force_id, force in [*data["forces"].items(), *data["beyond"].items()]:
        if force["website"] is None:
            assert force["website_source"] is None, force_id
            continue
        assert force["website"].startswith("https://") and force["website"].endswith("/"), force_id
        source = force["website_source"] or ""
        assert source.startswith("http") or source.startswith("already in this finder"), force_id


def test_forces_left_without_a_sourced_website_are_few_and_known():
    missing = {fid for fid, f in _police_areas()["forces"].items() if f["website"] is None}
    assert missing == {"cleveland", "cumbria", "north-wales"}
