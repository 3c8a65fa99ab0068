"""apply_team, on SQLite and PostgreSQL: idempotent upserts, honest removals, and officers' data never overwritten."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from finder.store.models import ContactRoute, Meeting, Officer, Place, Priority, Team
from finder.teams.records import (
    MeetingData,
    OfficerData,
    PlaceData,
    PriorityData,
    RouteData,
    TeamData,
    apply_team,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
STATION = PlaceData("Example station (fictional)", "front_counter", "1 Example Road", "SW1A 9ZZ", 51.5, -0.14)


def st_james(**changes) -> TeamData:
    data = TeamData(
        force_id="metropolitan",
        force_name="Metropolitan Police Service",
        name="St James's",
        ward_code="E05013806",
        policeuk_id="E05013806N",
        description="The team.",
        centre_lat=51.5,
        centre_lon=-0.14,
        routes=[RouteData("email", "Email", "stjames@example.org"), RouteData("phone", "Phone", "020 7946 0001")],
        officers=[
            OfficerData("Jo Example", "Sgt", "sergeant", bio="Leads the team."),
            OfficerData(
                "Sam Sampleton", "PC", "police_constable", routes=[RouteData("mobile", "Mobile", "07700 900001")]
            ),
        ],
        meetings=[MeetingData("Ward panel", "ward_panel", datetime(2026, 12, 1, 18, 30), place="Hall")],
        priorities=[PriorityData("Bike theft", "Patrols", date(2026, 10, 1))],
        places=[STATION],
    )
    return replace(data, **changes)


def counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Team, Officer, ContactRoute, Meeting, Priority, Place)
    }


def test_a_new_team_is_added_with_everything_that_hangs_off_it(store):
    with store.session() as session:
        outcome = apply_team(session, st_james(), source="policeuk", now=T0)
    assert {(c.action, c.entity) for c in outcome.changes} >= {("add", "team"), ("add", "officer"), ("add", "place")}
    with store.reader() as session:
        assert counts(session) == {
            "team": 1,
            "officer": 2,
            "contact_route": 3,
            "meeting": 1,
            "priority": 1,
            "place": 1,
        }
        mobile = session.scalar(select(ContactRoute).where(ContactRoute.kind == "mobile"))
        assert mobile.officer.name == "Sam Sampleton"
        assert session.scalar(select(Team)).places[0].name == STATION.name


def test_applying_the_same_data_again_changes_nothing_but_when_it_was_fetched(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    with store.session() as session:
        again = apply_team(session, st_james(), source="policeuk", now=T1)
    assert again.changes == [] and not again.changed
    with store.reader() as session:
        assert counts(session)["officer"] == 2
        assert {o.fetched_at for o in session.scalars(select(Officer))} == {T1}


def test_a_changed_field_is_updated_and_named_in_the_change(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    officers = [OfficerData("Jo Example", "Inspector", "other", bio="Promoted."), st_james().officers[1]]
    with store.session() as session:
        outcome = apply_team(session, st_james(officers=officers), source="policeuk", now=T1)
    [change] = [c for c in outcome.changes if c.entity == "officer"]
    assert (change.action, change.fields) == ("update", ("rank", "role", "bio"))
    assert str(change) == "~ officer Jo Example (Inspector) (rank, role, bio)"


def test_what_the_source_no_longer_lists_is_removed(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    with store.session() as session:
        outcome = apply_team(
            session, st_james(officers=st_james().officers[:1], meetings=[], places=[]), source="policeuk", now=T1
        )
    removed = {(c.entity, c.label) for c in outcome.changes if c.action == "remove"}
    assert ("officer", "Sam Sampleton (PC)") in removed
    assert ("route", "mobile 07700 900001") in removed
    assert ("meeting", "2026-12-01 18:30 Ward panel") in removed
    with store.reader() as session:
        c = counts(session)
        assert (c["officer"], c["contact_route"], c["meeting"]) == (1, 2, 0)
        assert session.scalar(select(Team)).places == []


def test_a_team_mailbox_the_source_changes_is_updated_in_place_not_added_beside_the_old_one(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    moved = [RouteData("email", "Email", "new.stjames@example.org"), RouteData("phone", "Phone", "020 7946 0001")]
    with store.session() as session:
        outcome = apply_team(session, st_james(routes=moved), source="policeuk", now=T1)
    routes = [(c.action, c.fields) for c in outcome.changes if c.entity == "route" and c.action != "keep"]
    assert routes == [("update", ("value",))]
    with store.reader() as session:
        emails = session.scalars(select(ContactRoute.value).where(ContactRoute.kind == "email")).all()
        assert emails == ["new.stjames@example.org"]
    with store.session() as session:  # its key follows the value: the next run matches it at once
        again = apply_team(session, st_james(routes=moved), source="policeuk", now=T1 + timedelta(days=1))
    assert [c for c in again.changes if c.action not in ("keep",)] == []


def test_two_new_phones_for_two_old_ones_are_not_guessed_as_pairs(store):
    two = [RouteData("phone", "Phone", "020 7946 0001"), RouteData("phone", "Front desk", "020 7946 0002")]
    other = [RouteData("phone", "Phone", "020 7946 0003"), RouteData("phone", "Front desk", "020 7946 0004")]
    with store.session() as session:
        apply_team(session, st_james(routes=two), source="policeuk", now=T0)
    with store.session() as session:
        outcome = apply_team(session, st_james(routes=other), source="policeuk", now=T1)
    actions = sorted(c.action for c in outcome.changes if c.entity == "route")
    assert actions == ["add", "add", "remove", "remove"]


def test_a_record_an_officer_verified_is_never_overwritten_and_the_difference_is_reported(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    with store.session() as session:
        jo = session.scalar(select(Officer).where(Officer.name == "Jo Example"))
        jo.bio, jo.verified_at, jo.verified_by = "Checked and corrected by Jo.", T0, "jo@example.org"
    changed = [OfficerData("Jo Example", "Sgt", "sergeant", bio="Old text from police.uk."), st_james().officers[1]]
    with store.session() as session:
        outcome = apply_team(session, st_james(officers=changed), source="policeuk", now=T1)
    [conflict] = [c for c in outcome.changes if c.action == "conflict"]
    assert (conflict.entity, conflict.fields) == ("officer", ("bio",))
    assert "kept what an officer verified" in str(conflict)
    with store.reader() as session:
        jo = session.scalar(select(Officer).where(Officer.name == "Jo Example"))
        assert jo.bio == "Checked and corrected by Jo." and jo.fetched_at == T0


def test_what_an_officer_entered_stays_when_the_source_does_not_list_it(store):
    with store.session() as session:
        team = apply_team(session, st_james(), source="policeuk", now=T0).team
        team.meetings.append(
            Meeting(
                key="officer-1",
                title="Pop-up surgery",
                kind="contact_session",
                start=datetime(2026, 12, 5, 10),
                source="officer",
                fetched_at=T0,
            )
        )
    with store.session() as session:
        outcome = apply_team(session, st_james(), source="policeuk", now=T1)
    assert [(c.action, c.label) for c in outcome.changes] == [("keep", "2026-12-05 10:00 Pop-up surgery")]
    with store.reader() as session:
        assert counts(session)["meeting"] == 2


def test_a_verified_record_the_source_drops_is_kept_and_reported(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
    with store.session() as session:
        session.scalar(select(Priority)).verified_at = T0
    with store.session() as session:
        outcome = apply_team(session, st_james(priorities=[]), source="policeuk", now=T1)
    assert [c.action for c in outcome.changes if c.entity == "priority"] == ["conflict"]
    with store.reader() as session:
        assert counts(session)["priority"] == 1


def test_real_data_replaces_a_sample_team_for_the_same_ward(store):
    sample = st_james(
        policeuk_id=None,
        name="St James's sample team",
        officers=[OfficerData("Amara Quill", "Sergeant", "sergeant")],
    )
    with store.session() as session:
        apply_team(session, sample, source="sample", now=T0)
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T1)
    with store.reader() as session:
        team = session.scalar(select(Team))
        assert (team.source, team.policeuk_id, team.name) == ("policeuk", "E05013806N", "St James's")
        assert {o.name for o in team.officers} == {"Jo Example", "Sam Sampleton"}
        assert {r.source for r in team.routes} == {"policeuk"}


def test_two_officers_with_the_same_name_are_both_kept(store):
    twins = [OfficerData("Alex Example", "PC", "police_constable"), OfficerData("Alex Example", "PCSO", "pcso")]
    with store.session() as session:
        apply_team(session, st_james(officers=twins), source="policeuk", now=T0)
    with store.session() as session:
        assert apply_team(session, st_james(officers=twins), source="policeuk", now=T1).changes == []
    with store.reader() as session:
        assert sorted(o.key for o in session.scalars(select(Officer))) == ["alex example", "alex example#2"]


def test_duplicates_within_one_response_are_stored_once(store):
    panel = st_james().meetings[0]
    with store.session() as session:
        apply_team(session, st_james(meetings=[panel, panel], places=[STATION, STATION]), source="policeuk", now=T0)
    with store.reader() as session:
        assert counts(session)["meeting"] == 1 and counts(session)["place"] == 1


def test_a_station_two_teams_list_is_stored_once_and_linked_to_both(store):
    with store.session() as session:
        apply_team(session, st_james(), source="policeuk", now=T0)
        apply_team(
            session,
            st_james(ward_code="E05013805", policeuk_id="E05013805", name="Next door"),
            source="policeuk",
            now=T0,
        )
    with store.reader() as session:
        assert counts(session)["place"] == 1
        assert [len(t.places) for t in session.scalars(select(Team).order_by(Team.id))] == [1, 1]


def test_a_neighbourhood_whose_id_gains_an_n_suffix_keeps_its_team(store):
    with store.session() as session:
        first = apply_team(session, st_james(policeuk_id="E05013806"), source="policeuk", now=T0).team.id
    with store.session() as session:
        outcome = apply_team(session, st_james(policeuk_id="E05013806N"), source="policeuk", now=T1)
    assert outcome.team.id == first
    assert [(c.action, c.fields) for c in outcome.changes] == [("update", ("policeuk_id",))]
