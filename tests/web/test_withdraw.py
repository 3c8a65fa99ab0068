"""An editor withdraws their own change while it waits for review (issue 25): it leaves the queue unapplied,
the history says who withdrew it, and a change already settled answers with a message, never a crash."""

from __future__ import annotations

import re
from html import unescape

import pytest

from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import BoroughSetting, ChangeSet
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.staff import WESTMINSTER, make_user, post, sign_in, staff_app
from tests.web.test_admin_wards import route_form, team_phone

NEW_NUMBER = "020 7946 0444"


@pytest.fixture()
def teams(store: Store) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    with store.session() as session:
        session.add(BoroughSetting(borough_code=WESTMINSTER, review_required=True, changed_at=utcnow()))
    return store


@pytest.fixture()
def app(teams: Store, geodata):
    return staff_app(teams, geodata)


def client_of(app, teams: Store, email: str, role: str = "ward_editor", name: str = "Eddie Editor", **kwargs):
    client = app.test_client()
    sign_in(client, make_user(teams, email, role, name=name, **kwargs))
    return client


def editor(app, teams: Store, email: str = "ed@example.org", name: str = "Eddie Editor"):
    return client_of(app, teams, email, name=name, wards=(SAMPLE_WARD,))


def admin(app, teams: Store, borough: str = WESTMINSTER, email: str = "boro@example.org"):
    return client_of(app, teams, email, "borough_admin", name="Bo Admin", borough_code=borough)


def save_waiting_change(client, teams: Store, geodata) -> int:
    """The editor changes the team phone; their borough reviews, so it waits. Returns its change set's id."""
    route = team_phone(teams, geodata)
    assert (
        post(client, f"/admin/wards/{SAMPLE_WARD}/route/{route.id}", route_form(route, value=NEW_NUMBER)).status_code
        == 302
    )
    with teams.reader() as session:
        return max(session.query(ChangeSet.id).filter(ChangeSet.status == "pending").all())[0]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def status_of(teams: Store, change_set_id: int) -> str:
    with teams.reader() as session:
        return session.get(ChangeSet, change_set_id).status


def withdraw_path(change_set_id: int, ward: str = SAMPLE_WARD) -> str:
    return f"/admin/wards/{ward}/changes/{change_set_id}/withdraw"


def test_an_editor_withdraws_their_waiting_change_and_it_leaves_the_queue_unapplied_with_a_success_banner(
    app, teams, geodata
):
    client = editor(app, teams)
    before = team_phone(teams, geodata).values["value"]
    waiting = save_waiting_change(client, teams, geodata)
    page = client.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    form = re.search(
        rf'<form method="post" action="{withdraw_path(waiting)}" data-withdraw="{waiting}">(.*?)</form>', page, re.S
    )
    assert form, "no Withdraw form beside the waiting change"
    assert 'name="csrf_token"' in form.group(1) and "govuk-button--warning" in form.group(1)
    assert page.index("data-waiting") < page.index(f'data-withdraw="{waiting}"')  # inside the waiting notice

    done = post(client, withdraw_path(waiting))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/admin/wards/{SAMPLE_WARD}")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner--success" in html and "Withdrawn: the change to St James's saved" in unescape(
        html
    )
    assert "data-waiting" not in html and "data-withdraw" not in html
    assert status_of(teams, waiting) == "withdrawn"
    assert team_phone(teams, geodata).values["value"] == before  # nothing it held was applied
    queue = admin(app, teams).get("/admin/review").get_data(as_text=True)
    assert f"/admin/review/{waiting}" not in queue


def test_a_withdrawn_change_reads_as_withdrawn_by_its_author_in_the_history_and_the_recent_changes(app, teams, geodata):
    client = editor(app, teams)
    waiting = save_waiting_change(client, teams, geodata)
    post(client, withdraw_path(waiting))
    history = text_of(client.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True))
    assert re.search(
        rf"Change {waiting}: .*? withdrawn Withdrawn by Eddie Editor, \d+ \w+ \d{{4}}, \d\d:\d\d UTC", history
    )
    home = client.get("/admin/").get_data(as_text=True)
    recent = text_of(re.search(rf'<li data-recent-change="{waiting}">(.*?)</li>\s*</ul>', home, re.S).group(1))
    assert "withdrawn by Eddie Editor" in recent and "waiting for review" not in recent


def test_an_editor_withdraws_from_their_recent_changes_on_the_staff_home_and_comes_back_there(app, teams, geodata):
    client = editor(app, teams)
    waiting = save_waiting_change(client, teams, geodata)
    home = client.get("/admin/").get_data(as_text=True)
    form = re.search(rf'data-withdraw="{waiting}">(.*?)</form>', home, re.S)
    assert form and 'name="from" value="home"' in form.group(1)
    done = post(client, withdraw_path(waiting), {"from": "home"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    html = client.get("/admin/").get_data(as_text=True)
    assert "govuk-notification-banner--success" in html and "data-withdraw" not in html
    assert status_of(teams, waiting) == "withdrawn"


def test_another_editor_of_the_ward_sees_no_withdraw_button_and_is_refused(app, teams, geodata):
    waiting = save_waiting_change(editor(app, teams), teams, geodata)
    colleague = editor(app, teams, email="colleague@example.org", name="Cole League")
    page = colleague.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert "data-waiting" in page and "data-withdraw" not in page
    refused = post(colleague, withdraw_path(waiting))
    assert refused.status_code == 403 and "Only the person who made a change" in refused.get_data(as_text=True)
    assert status_of(teams, waiting) == "pending"


def test_an_admin_for_the_ward_withdraws_an_editors_change_and_another_boroughs_admin_cannot(app, teams, geodata):
    waiting = save_waiting_change(editor(app, teams), teams, geodata)
    camden = admin(app, teams, borough="E09000007", email="camden@example.org")
    assert post(camden, withdraw_path(waiting)).status_code == 403
    westminster = admin(app, teams)
    assert f'data-withdraw="{waiting}"' in westminster.get(f"/admin/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert post(westminster, withdraw_path(waiting)).status_code == 302
    assert status_of(teams, waiting) == "withdrawn"
    history = text_of(westminster.get(f"/admin/wards/{SAMPLE_WARD}/history").get_data(as_text=True))
    assert "Withdrawn by Bo Admin" in history


@pytest.mark.parametrize(
    ("settle", "says", "status"),
    [
        ({"decision": "approve"}, "This change was already approved, so it cannot be withdrawn", "applied"),
        ({"decision": "reject", "reason": "Use the desk number"}, "already rejected, so there is nothing", "rejected"),
    ],
)
def test_withdrawing_a_change_already_settled_says_so_and_changes_nothing(app, teams, geodata, settle, says, status):
    client = editor(app, teams)
    waiting = save_waiting_change(client, teams, geodata)  # the page with its Withdraw button is open ...
    assert post(admin(app, teams), f"/admin/review/{waiting}", settle).status_code == 302  # ... and it is settled
    late = post(client, withdraw_path(waiting))
    assert late.status_code == 302
    html = client.get(late.headers["Location"]).get_data(as_text=True)
    assert says in html and "govuk-notification-banner--success" not in html
    assert status_of(teams, waiting) == status


def test_withdrawing_twice_says_it_is_already_withdrawn(app, teams, geodata):
    client = editor(app, teams)
    waiting = save_waiting_change(client, teams, geodata)
    post(client, withdraw_path(waiting))
    again = post(client, withdraw_path(waiting))
    assert again.status_code == 302
    assert "This change was already withdrawn." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_withdrawal_without_its_csrf_token_or_through_another_ward_is_refused(app, teams, geodata):
    client = client_of(app, teams, "two@example.org", wards=(SAMPLE_WARD, "E05013808"))
    waiting = save_waiting_change(client, teams, geodata)
    assert client.post(withdraw_path(waiting)).status_code == 400  # no CSRF token
    assert post(client, withdraw_path(waiting, ward="E05013808")).status_code == 404  # not that ward's change
    assert post(client, withdraw_path(999_999)).status_code == 404
    assert status_of(teams, waiting) == "pending"
