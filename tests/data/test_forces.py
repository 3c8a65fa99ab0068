"""The contact-route file: each route says where it comes from and how old it is; the routes residents need."""

import json
from datetime import date

import pytest

from finder.config import default_raw_data
from finder.lookup.service import FORCES_FILE, POLICE_AREAS_FILE, load_forces

FORCES = load_forces()
ROUTES = [(force_id, route) for force_id, force in FORCES.items() for route in force.routes]


@pytest.mark.parametrize("force_id, route", ROUTES, ids=[f"{f}-{r.id}" for f, r in ROUTES])
def test_every_route_names_the_document_it_was_taken_from_its_date_if_known_and_what_it_is(force_id, route):
    assert route.source.startswith(("https://", "http://")), f"{force_id} {route.id} has no source address"
    assert route.as_of is None or date.fromisoformat(route.as_of) <= date.today(), f"{force_id} {route.id}"
    assert len(route.provenance) > 20, f"{force_id} {route.id} does not say where it comes from"
    if route.as_of is None:
        assert "not checked" in route.provenance.lower() or "not held" in route.provenance, route.provenance


def test_no_route_claims_a_check_nobody_made():
    """Nobody opened these pages live: no route carries a `checked` date, and each says it was not checked."""
    data = json.loads(FORCES_FILE.read_text("utf-8"))
    entries = [*data["shared_routes"].values()] + [
        entry for force in data["forces"].values() for entry in force["routes"] if isinstance(entry, dict)
    ]
    assert entries and all("checked" not in entry for entry in entries)
    for _, route in ROUTES:
        assert "not checked" in route.provenance.lower() or "Not checked" in route.provenance, route.id


def test_a_route_without_its_source_date_or_provenance_stops_the_file_loading(tmp_path):
    data = json.loads(FORCES_FILE.read_text("utf-8"))
    for field in ("source", "as_of", "provenance"):
        broken = json.loads(json.dumps(data))
        del broken["shared_routes"]["victim_support"][field]
        path = tmp_path / f"no-{field}.json"
        path.write_text(json.dumps(broken), "utf-8")
        with pytest.raises(TypeError, match=field):
            load_forces(path)


def _policeuk_forces() -> dict[str, dict]:
    """police.uk's force list as fetched on 9 March 2026 (../shared/data-raw/policeuk-forces-2026-03)."""
    path = default_raw_data() / "policeuk-forces-2026-03" / "forces_details_2026-03-09.json"
    return {force["id"]: force["details"] for force in json.loads(path.read_text("utf-8"))["forces"]}


@pytest.mark.parametrize("force_id", ["metropolitan", "city-of-london"])
def test_the_london_forces_website_101_and_accounts_are_police_uks_of_march_2026_and_say_so(force_id):
    published = _policeuk_forces()[force_id]
    force = FORCES[force_id]
    assert force.website == published["url"]
    assert force.website_provenance.as_of == "2026-03-09"
    assert "police.uk" in force.website_provenance.provenance and "9 March 2026" in force.website_provenance.provenance
    accounts = {m["url"] for m in published["engagement_methods"] if m["type"] != "web"}
    assert {account.url for account in force.engagement} == accounts
    (non_emergency,) = [r for r in force.routes if r.id == "non_emergency"]
    assert non_emergency.value == published["telephone"] == "101"
    assert non_emergency.as_of == "2026-03-09" and non_emergency.source.endswith(f"/api/forces/{force_id}")


def test_retired_pages_are_kept_only_with_a_label_saying_so():
    for _, route in ROUTES:
        if any(page in route.source for page in ("content.met.police.uk", "faqs.aspx", "Pages/default.aspx")):
            assert "retired" in route.provenance, route.id


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


def test_the_about_page_says_where_each_route_comes_from_how_old_it_is_and_that_none_was_checked(client):
    html = client.get("/about").get_data(as_text=True)
    assert "Where each contact route comes from, and how old it is" in html
    assert "When each contact route was last checked" not in html and "2026-12-01" not in html
    assert "Nobody has opened these pages to check them" in html
    for route in FORCES["metropolitan"].routes:
        assert route.label in html
    assert '<time datetime="2026-03-09">9 March 2026</time>' in html
    assert "Date unknown, not checked" in html
    assert '<a href="https://www.btp.police.uk/advice_and_information/faqs.aspx">www.btp.police.uk</a>' in html
    assert "https://x.com/Metpoliceuk" in html
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


def test_every_force_has_a_website_and_police_uks_101_with_its_date():
    published = _policeuk_forces()
    forces = {**_police_areas()["forces"], "northern-ireland": _police_areas()["beyond"]["northern-ireland"]}
    assert all(force["website"] for force in forces.values())
    for force_id in ("cleveland", "cumbria", "north-wales"):
        assert forces[force_id]["website"].rstrip("/") == published[force_id]["url"].rstrip("/")
        assert (
            "police.uk" in forces[force_id]["website_source"] and "9 March 2026" in forces[force_id]["website_source"]
        )
    for force_id, force in forces.items():
        assert force["telephone"] == published[force_id]["telephone"] == "101", force_id
        assert force["telephone_as_of"] == "2026-03-09" and force_id in force["telephone_source"]


def test_the_api_gives_each_route_its_date_and_provenance_and_claims_no_check(client):
    body = client.get("/api/v1/postcodes/SW1A 2AA").get_json()
    routes = {route["id"]: route for route in body["contact_routes"]}
    assert routes["non_emergency"]["as_of"] == "2026-03-09"
    assert routes["victim_support"]["as_of"] is None and "Not checked" in routes["victim_support"]["provenance"]
    assert all(route["checked"] is None for route in routes.values())
