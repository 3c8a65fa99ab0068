"""Changes seen everywhere at once (issue 28, item 3): with FINDER_REDIS_URL, a change made through one instance is
announced on a real Redis and every other instance drops its copy of the team, instead of serving it until its
copy expires (here 300 s, so a test that passed by expiry would take five minutes).

Two apps over one store stand for two instances: each keeps its own copy of the teams. A third, without Redis,
shows what the copy does unannounced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from finder.lookup.service import Lookup, load_forces
from finder.store import Store
from finder.store.models import ContactRoute
from finder.teams.changes import CHANNEL
from finder.teams.directory import TeamDirectory
from finder.teams.samples import load_sample_teams
from finder.web import services
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.redis import RedisServer
from tests.support.staff import make_user, post, sign_in, staff_app

KEPT_SECONDS = 300.0
NEW_EMAIL = "st.jamess.shared@met.police.uk"


@pytest.fixture()
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture()
def teams(store: Store) -> Store:  # noqa: F811  (the store fixture, on each backend)
    load_sample_teams(store, FORCE_NAMES)
    return store


@pytest.fixture()
def instance(teams: Store, geodata) -> Iterator[Callable]:
    """An app over the shared store with its own copy of the teams, kept KEPT_SECONDS; stopped listening after."""
    made = []

    def make(redis_url: str = ""):
        lookup = Lookup(geodata, load_forces(), teams=TeamDirectory(teams, geodata.wards, cache_seconds=KEPT_SECONDS))
        app = staff_app(
            teams,
            geodata,
            lookup=lookup,
            TEAM_CACHE_SECONDS=KEPT_SECONDS,
            REDIS_URL=redis_url,
            DATABASE_URL=teams.url,  # the command line's store too
        )
        made.append(app)
        return app

    yield make
    for app in made:
        if services(app).changes is not None:
            services(app).changes.stop()


def emails(app) -> list[str]:
    team = app.test_client().get(f"/api/v1/wards/{SAMPLE_WARD}").get_json()["team"]
    return [r["value"] for r in (team or {}).get("contact_routes", []) if r["kind"] == "email"]


def within(seconds: float, check: Callable[[], bool]) -> float:
    """How long `check` took to come true (polled); fails the test after `seconds`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def listening(*apps) -> None:
    """Wait until each app listens (from its lookup's first use), then fill its copy of the teams."""
    for app in apps:
        within(5.0, services(app).changes.listening.is_set)
        assert emails(app)


def add_email(app, teams: Store) -> str:
    client = app.test_client()
    sign_in(client, make_user(teams, "ed@example.org", "ward_editor", name="Eddie Editor", wards=(SAMPLE_WARD,)))
    saved = post(
        client,
        f"/admin/wards/{SAMPLE_WARD}/route/new",
        {"kind": "email", "label": "Team email", "value": NEW_EMAIL, "display_order": "5"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    return saved.get_data(as_text=True)


def test_an_edit_through_one_instance_is_served_by_another_at_once_and_without_redis_only_when_its_copy_expires(
    instance, teams, redis_server
):
    a, b, alone = instance(redis_server.url), instance(redis_server.url), instance()
    for app in (a, b, alone):  # each keeps the team as it was
        assert NEW_EMAIL not in emails(app)
    listening(a, b)

    page = add_email(a, teams)
    assert "Residents see it now." in page  # not "within 300 seconds"
    took = within(1.0, lambda: NEW_EMAIL in emails(b))
    assert took < 1.0
    assert NEW_EMAIL in b.test_client().get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)  # the page too
    assert NEW_EMAIL not in emails(alone)  # unannounced, its copy stands: the announcement did the work


def test_a_command_line_restore_of_the_samples_is_announced_to_every_instance(instance, teams, redis_server):
    a, b = instance(redis_server.url), instance(redis_server.url)
    assert emails(b)  # kept
    listening(b)
    removed = a.test_cli_runner().invoke(args=["load-sample-teams", "--remove"])
    assert removed.exit_code == 0, removed.output
    within(1.0, lambda: emails(b) == [])
    loaded = a.test_cli_runner().invoke(args=["load-sample-teams"])
    assert loaded.exit_code == 0, loaded.output
    within(1.0, lambda: emails(b) != [])


def test_redis_away_loses_no_edit_and_a_listener_back_drops_every_copy_it_may_have_missed(
    instance, teams, redis_server, caplog
):
    a, b = instance(redis_server.url), instance(redis_server.url)
    assert NEW_EMAIL not in emails(b)
    listening(b)
    redis_server.stop()
    page = add_email(a, teams)  # saved, though nobody hears of it
    assert "Saved the" in page
    with teams.reader() as session:
        assert session.query(ContactRoute).filter(ContactRoute.value == NEW_EMAIL).count() == 1
    assert NEW_EMAIL not in emails(b)  # b never heard: its copy stands while Redis is away
    time.sleep(2.5)  # two more tries to subscribe again, which say nothing more
    said = [r.getMessage() for r in caplog.records if r.name == "finder.teams.changes"]
    assert 1 <= sum(m.startswith("not listening") for m in said) <= 2, said  # once for each listener, a and b
    redis_server.start()  # the same address: b's listener subscribes again and drops what it kept
    within(5.0, lambda: NEW_EMAIL in emails(b))


def test_a_hostile_announcement_only_makes_a_worker_read_again(instance, teams, redis_server):
    b = instance(redis_server.url)
    assert emails(b)
    listening(b)
    publisher = redis.Redis.from_url(redis_server.url)
    for junk in ("<script>alert(1)</script>", "'; DROP TABLE team; --", "\x00" * 10, "é" * 100_000):
        publisher.publish(CHANNEL, junk)
    publisher.publish(CHANNEL, "*")
    time.sleep(0.2)
    assert emails(b) and b.test_client().get(f"/wards/{SAMPLE_WARD}").status_code == 200
    a = instance(redis_server.url)
    add_email(a, teams)
    within(1.0, lambda: NEW_EMAIL in emails(b))  # still listening
