"""The store's schema, on SQLite and PostgreSQL: migrations match the models, and the rules hold in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from finder import create_app
from finder.store import Store, normalise_url
from finder.store.migrate import current, downgrade, head, upgrade
from finder.store.models import Base, ContactRoute, Force, Meeting, Officer, Priority, Team, utcnow
from tests.store.backends import BACKENDS, fresh_store
from tests.support.stores import discard

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TABLES = {"force", "team", "officer", "contact_route", "meeting", "priority", "place", "team_place", "sync_run"}


def a_team(session, ward_code="E05013806", **fields) -> Team:
    if session.get(Force, "metropolitan") is None:
        session.add(Force(id="metropolitan", name="Metropolitan Police Service", source="policeuk", fetched_at=NOW))
    team = Team(
        force_id="metropolitan",
        ward_code=ward_code,
        policeuk_id=fields.pop("policeuk_id", f"{ward_code}N"),
        name=fields.pop("name", "St James's"),
        source=fields.pop("source", "policeuk"),
        fetched_at=NOW,
        **fields,
    )
    session.add(team)
    session.flush()
    return team


@pytest.fixture(params=BACKENDS)
def empty_store(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        store = fresh_store("postgresql", tmp_path)
        downgrade(store, "base")
    yield store
    discard(store)


def test_the_migrations_build_exactly_the_schema_the_models_describe(empty_store):
    upgrade(empty_store)
    assert current(empty_store) == head()
    with empty_store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert set(inspect(empty_store.engine).get_table_names()) >= TABLES


def test_every_migration_can_be_undone_and_redone(empty_store):
    upgrade(empty_store)
    downgrade(empty_store, "base")
    assert not TABLES & set(inspect(empty_store.engine).get_table_names())
    assert current(empty_store) is None
    upgrade(empty_store)
    assert current(empty_store) == head()


def test_upgrading_a_store_at_the_first_schema_keeps_its_teams_and_starts_every_record_at_version_1(empty_store):
    upgrade(empty_store, "0001")
    stamp = NOW.replace(tzinfo=None)
    with empty_store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO force (id, name, source, fetched_at) VALUES ('metropolitan', 'Met', 'policeuk', :t)"),
            {"t": stamp},
        )
        connection.execute(
            text(
                "INSERT INTO team (id, force_id, ward_code, policeuk_id, name, source, fetched_at) "
                "VALUES (7, 'metropolitan', 'E05013806', 'E05013806N', 'St James''s', 'officer', :t)"
            ),
            {"t": stamp},
        )
        connection.execute(
            text(
                "INSERT INTO officer (team_id, key, name, role, display_order, source, fetched_at) "
                "VALUES (7, 'k', 'Jo Bloggs', 'pcso', 0, 'policeuk', :t)"
            ),
            {"t": stamp},
        )
    upgrade(empty_store)
    with empty_store.session() as session:
        team = session.scalars(select(Team)).one()
        assert (team.name, team.source, team.version) == ("St James's", "officer", 1)
        assert [(o.name, o.version) for o in team.officers] == [("Jo Bloggs", 1)]
        team.name = "St James's team"
    with empty_store.session() as session:
        assert session.scalars(select(Team)).one().version == 2  # each save moves the version on
    downgrade(empty_store, "0001")
    with empty_store.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM team")).scalar_one() == "St James's team"


def test_init_db_creates_the_store_and_a_second_run_changes_nothing(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'finder.db'}"})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert f"at schema {head()} (was None)" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0 and "(no change)" in second.output


def test_the_usual_postgresql_url_spellings_use_psycopg_3():
    assert normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_ward_has_at_most_one_team(store):
    with pytest.raises(IntegrityError), store.session() as session:
        a_team(session, policeuk_id="A")
        a_team(session, policeuk_id="B")


def test_a_neighbourhood_id_is_unique_within_its_force(store):
    with pytest.raises(IntegrityError), store.session() as session:
        a_team(session, "E05013806", policeuk_id="E05013806N")
        a_team(session, "E05013807", policeuk_id="E05013806N")


def test_unmatched_neighbourhoods_can_be_stored_without_a_ward(store):
    with store.session() as session:
        a_team(session, None, policeuk_id="HEATHROW")
        a_team(session, None, policeuk_id="CITYAIRPORT")
    with store.reader() as session:
        assert session.scalar(select(func.count()).select_from(Team).where(Team.ward_code.is_(None))) == 2


@pytest.mark.parametrize("column, value", [("role", "inspector"), ("source", "rumour")])
def test_roles_and_sources_outside_their_fixed_sets_are_refused_by_the_database(store, column, value):
    with pytest.raises((IntegrityError, StatementError)), store.session() as session:
        team = a_team(session)
        officer = Officer(
            team=team, key="x", name="X", rank="Inspector", role="other", source="policeuk", fetched_at=NOW
        )
        setattr(officer, column, value)
        session.add(officer)
        session.flush()


def test_deleting_a_team_in_the_database_deletes_everything_that_hangs_off_it(store):
    with store.session() as session:
        team = a_team(session)
        officer = Officer(team=team, key="jo", name="Jo", rank="PC", role="police_constable", source="policeuk")
        officer.fetched_at = NOW
        session.add_all(
            [
                officer,
                ContactRoute(team=team, officer=officer, key="k", kind="email", label="Email", value="a@example.org"),
                Meeting(team=team, key="m", title="Panel", kind="ward_panel", start=datetime(2026, 12, 1, 18)),
                Priority(team=team, key="p", issue="Bikes"),
            ]
        )
        for item in session.new:
            item.source, item.fetched_at = "policeuk", NOW
    with store.session() as session:
        session.execute(delete(Team))  # plain SQL: the database's ON DELETE CASCADE does the work
    with store.reader() as session:
        for model in (Officer, ContactRoute, Meeting, Priority):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model


def test_store_times_come_back_as_aware_utc_whatever_zone_they_were_written_in(store):
    written = datetime(2026, 7, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    with store.session() as session:
        a_team(session).verified_at = written
    with store.reader() as session:
        team = session.scalar(select(Team))
        assert team.verified_at == written and team.verified_at.tzinfo is not None
        assert team.verified_at.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused_rather_than_guessed(store):
    with pytest.raises(StatementError, match="timezone-aware"), store.session() as session:
        a_team(session).verified_at = datetime(2026, 7, 1, 13, 30)
        session.flush()


def test_a_record_is_locked_when_an_officer_entered_or_verified_it():
    synced = Officer(name="Jo", source="policeuk", fetched_at=NOW)
    verified = Officer(name="Jo", source="policeuk", fetched_at=NOW, verified_at=NOW + timedelta(days=1))
    entered = Officer(name="Jo", source="officer", fetched_at=NOW)
    assert not synced.locked and verified.locked and entered.locked
    assert verified.confirmed_at == NOW + timedelta(days=1) and synced.confirmed_at == NOW
    assert utcnow().tzinfo is UTC
