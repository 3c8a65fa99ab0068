"""Move up and Move down (issue 25): an editor orders the team's ways to reach it, its officers and its priorities
without JavaScript, one place at a time, on SQLite and PostgreSQL. The forms are read from the ward page as a
browser would send them; what residents see is read from the API.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import update

from finder.store import Store
from finder.store.models import ContactRoute, Priority, Team, utcnow
from finder.store.staff import BoroughSetting, ChangeSet
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.staff import WESTMINSTER, make_user, post, sign_in, staff_app

WARD_PAGE = f"/admin/wards/{SAMPLE_WARD}"
MOVE_FORM = re.compile(r'<form method="post" action="([^"]+/move)"[^>]*data-move>(.*?)</form>', re.S)


@pytest.fixture()
def teams(store: Store) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    return store


@pytest.fixture()
def app(teams: Store, geodata):
    return staff_app(teams, geodata)


def editor(app, teams: Store):
    client = app.test_client()
    sign_in(client, make_user(teams, "ed@example.org", "ward_editor", name="Eddie Editor", wards=(SAMPLE_WARD,)))
    return client


def move_forms(client) -> dict[str, tuple[str, str, set[str]]]:
    """The page's move forms by their record ("route-7"): action, version and the directions offered."""
    page = client.get(WARD_PAGE).get_data(as_text=True)
    forms = {}
    for action, body in MOVE_FORM.findall(page):
        key = re.search(r"/wards/\w+/(\w+)/(\d+)/move", action)
        assert key is not None
        version = re.search(r'name="version" value="(\d+)"', body)
        assert version is not None
        forms[f"{key[1]}-{key[2]}"] = (unescape(action), version[1], set(re.findall(r'value="(up|down)"', body)))
    return forms


def residents_see(client, what: str, name: str) -> list[str]:
    team = client.get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    return [item[name] for item in team[what]]


def route_ids(teams: Store) -> dict[str, int]:
    """The sample ward's team's own routes (not an officer's) by label."""
    with teams.reader() as session:
        team = session.query(Team).filter(Team.ward_code == SAMPLE_WARD).one()
        return {r.label: r.id for r in team.routes if r.officer_id is None}


def priority_id(teams: Store, issue: str) -> int:
    with teams.reader() as session:
        team = session.query(Team).filter(Team.ward_code == SAMPLE_WARD).one()
        return next(p.id for p in team.priorities if p.issue == issue)


def test_an_editor_moves_the_team_email_down_and_residents_see_the_phone_first_unstamped_and_recorded(app, teams):
    client = editor(app, teams)
    ids = route_ids(teams)
    before = residents_see(client, "contact_routes", "label")
    assert before[:2] == ["Email", "Phone"]
    forms = move_forms(client)
    action, version, offered = forms[f"route-{ids['Email']}"]
    assert offered == {"down"}  # the first offers no Move up; the last no Move down
    assert forms[f"route-{ids['Facebook']}"][2] == {"up"}
    with teams.reader() as session:
        checked_before = session.get(ContactRoute, ids["Email"]).verified_at

    moved = post(client, action, {"direction": "down", "version": version})

    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"#route-{ids['Email']}")
    assert residents_see(client, "contact_routes", "label") == [before[1], before[0], *before[2:]]
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "Saved the order of the ways to reach the team." in unescape(page)
    with teams.reader() as session:
        assert session.get(ContactRoute, ids["Email"]).verified_at == checked_before  # a move checks nothing
        change = session.query(ChangeSet).order_by(ChangeSet.id.desc()).first()
        assert {(c.entity_id, c.field) for c in change.changes} == {
            (ids["Email"], "display_order"),
            (ids["Phone"], "display_order"),
        }


def test_priorities_on_the_same_number_are_numbered_apart_so_a_move_up_shows(app, teams):
    with teams.session() as session:
        session.execute(update(Priority).values(display_order=0))
    client = editor(app, teams)
    first, second = residents_see(client, "priorities", "issue")
    action, version, offered = move_forms(client)[f"priority-{priority_id(teams, second)}"]
    assert offered == {"up"}

    assert post(client, action, {"direction": "up", "version": version}).status_code == 302

    assert residents_see(client, "priorities", "issue") == [second, first]
    with teams.reader() as session:
        team = session.query(Team).filter(Team.ward_code == SAMPLE_WARD).one()
        assert sorted(p.display_order for p in team.priorities) == [1, 2]


def test_in_a_reviewing_borough_a_move_waits_and_residents_keep_the_order(app, teams):
    with teams.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    client = editor(app, teams)
    before = residents_see(client, "officers", "name")
    action, version, _ = next(form for key, form in move_forms(client).items() if key.startswith("officer-"))

    moved = post(client, action, {"direction": "down", "version": version}, follow_redirects=True)

    assert "is waiting for review by your borough admin" in unescape(moved.get_data(as_text=True))
    assert residents_see(client, "officers", "name") == before
    with teams.reader() as session:
        assert session.query(ChangeSet).order_by(ChangeSet.id.desc()).first().status == "pending"


def test_a_move_from_a_page_opened_before_the_record_changed_is_refused_and_says_so(app, teams):
    client = editor(app, teams)
    ids = route_ids(teams)
    action, version, _ = move_forms(client)[f"route-{ids['Phone']}"]
    with teams.session() as session:  # another editor's save meanwhile
        session.get(ContactRoute, ids["Phone"]).label = "Team phone"
    before = residents_see(client, "contact_routes", "label")

    refused = post(client, action, {"direction": "up", "version": version})

    assert refused.status_code == 409
    page = unescape(refused.get_data(as_text=True))
    assert "Someone changed this list after you opened the page" in page
    assert f'href="#route-{ids["Phone"]}-move"' in page and f'id="route-{ids["Phone"]}-move"' in page
    assert residents_see(client, "contact_routes", "label") == before


@pytest.mark.parametrize(
    ("path", "direction", "status"),
    [("route/ROUTE/move", "sideways", 400), ("route/ROUTE/move", "", 400), ("meeting/ROUTE/move", "up", 404)],
)
def test_a_move_that_is_not_up_or_down_or_of_a_meeting_gets_a_clear_4xx(app, teams, path, direction, status):
    client = editor(app, teams)
    route = route_ids(teams)["Phone"]
    answer = post(client, f"{WARD_PAGE}/{path.replace('ROUTE', str(route))}", {"direction": direction, "version": "1"})
    assert answer.status_code == status


def test_a_hostile_label_in_a_move_buttons_hidden_name_is_text(app, teams):
    hostile = "<script>window.__pwned=1</script>{{7*7}}"
    ids = route_ids(teams)
    with teams.session() as session:
        session.get(ContactRoute, ids["Phone"]).label = hostile
    page = editor(app, teams).get(WARD_PAGE).get_data(as_text=True)
    assert "<script>window.__pwned" not in page  # escaped, and the braces shown as typed, never evaluated:
    shown = "&lt;script&gt;window.__pwned=1&lt;/script&gt;{{7*7}}"
    assert f'Move up<span class="govuk-visually-hidden">: {shown}</span>' in page
