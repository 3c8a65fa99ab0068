"""A withdrawal and an approval of the same waiting change at once (issue 25): one wins, and each is told the
truth. The approval holds the change set's row from its first statement, so a withdrawal sent meanwhile waits
for it and then says it was approved, and never reports a withdrawal the approval then overwrites."""

from __future__ import annotations

import threading

from finder.staff.editing import SETTLED, Editing, NotWaiting
from finder.store import Store
from finder.store.staff import ChangeSet
from finder.teams.samples import load_sample_teams
from tests.store.backends import migrated_store, store  # noqa: F401  (fixtures)
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.staff import WESTMINSTER, make_user


def test_a_withdrawal_sent_while_an_admin_approves_waits_and_says_the_change_was_approved(store: Store, geodata):  # noqa: F811
    load_sample_teams(store, FORCE_NAMES)

    def borough_of(code: str) -> str | None:
        return geodata.wards.get(code).borough_code

    site = make_user(store, "site@example.org", "site_admin", name="Sid Site")
    editor = make_user(store, "ed@example.org", "ward_editor", name="Eddie Editor", wards=[SAMPLE_WARD])
    Editing(store, borough_of).set_review_required(site, WESTMINSTER, True)
    change = Editing(store, borough_of).add(editor, SAMPLE_WARD, "priority", {"issue": "Bike theft"}).change_set_id
    told: dict[str, str] = {}

    def withdraw() -> None:
        try:
            told["editor"] = Editing(store, borough_of).withdraw(editor, change).status
        except NotWaiting as refused:
            told["editor"] = str(refused)

    editor_clicks = threading.Thread(target=withdraw)

    def borough_mid_approval(code: str) -> str | None:
        """The approval asks for the ward's borough after reading the change set: the editor clicks then."""
        if not editor_clicks.is_alive() and "editor" not in told:
            editor_clicks.start()
            editor_clicks.join(timeout=2)  # a withdrawal that does not wait for the approval is done by now
        return borough_of(code)

    told["admin"] = Editing(store, borough_mid_approval).approve(site, change).status
    editor_clicks.join(timeout=30)
    with store.reader() as session:
        status = session.get(ChangeSet, change).status
    assert (status, told["admin"], told["editor"]) == ("applied", "applied", SETTLED["applied"])
