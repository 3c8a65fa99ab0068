"""Email that follows the work: editors hear what became of their changes, borough admins that changes wait.

Every test runs on SQLite and PostgreSQL, and sends through a real SMTP server on 127.0.0.1 (aiosmtpd).
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update

from finder import create_app
from finder.staff.editing import Editing
from finder.store.nudges import ReviewReminderSent
from finder.teams.samples import load_sample_teams
from tests.store import backends
from tests.store.teamdata import FORCE_NAMES, SAMPLE_WARD
from tests.support.smtp import free_port, smtp_server
from tests.support.staff import WESTMINSTER, make_user, post, sign_in, staff_app

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

HOSTILE_NAME = 'Eve <script>alert("name")</script> O\'Neil'
HOSTILE_REASON = "Wrong ward <script>alert('reason')</script> & <b>bold</b>"
HOSTILE_ISSUE = "Bikes <img src=x onerror=alert(1)> on the pavement"
CAMDEN = "E09000007"


def reviewed_borough(store, geodata) -> Editing:
    """The sample teams, with Westminster's editors' changes waiting for review."""
    load_sample_teams(store, FORCE_NAMES)
    editing = Editing(store, lambda code: w.borough_code if (w := geodata.wards.get(code)) else None)
    editing.set_review_required(make_user(store, "site@example.org", "site_admin", name="Sid Site"), WESTMINSTER, True)
    return editing


def propose(editing: Editing, editor, issue: str) -> int:
    saved = editing.add(editor, SAMPLE_WARD, "priority", {"issue": issue})
    assert saved.status == "pending"
    return saved.change_set_id


def quiet(inbox, seconds: float = 0.5) -> list:
    """The messages after a short wait: mail is sent after the answer, so none may still be on its way."""
    time.sleep(seconds)
    return inbox.messages


def test_an_editor_is_emailed_when_their_change_is_approved_and_when_one_is_rejected_with_the_reason(store, geodata):
    editing = reviewed_borough(store, geodata)
    editor = make_user(store, "eve@example.org", wards=[SAMPLE_WARD], name=HOSTILE_NAME)
    good, wrong = propose(editing, editor, "Speeding on the Mall"), propose(editing, editor, HOSTILE_ISSUE)
    with smtp_server() as inbox:
        client = staff_app(store, geodata, SMTP_URL=inbox.url).test_client()
        sign_in(
            client,
            make_user(store, "bo@example.org", "borough_admin", name="Bo <i>Admin</i>", borough_code=WESTMINSTER),
        )
        assert post(client, f"/admin/review/{good}", {"decision": "approve"}).status_code == 302
        (approved,) = inbox.wait_for(1)
        rejected = post(client, f"/admin/review/{wrong}", {"decision": "reject", f"reason-{wrong}": HOSTILE_REASON})
        assert rejected.status_code == 302
        messages = inbox.wait_for(2)
    assert [m["To"] for m in messages] == ["eve@example.org", "eve@example.org"]
    assert approved["Subject"] == "Your change was reviewed: 1 approved"
    text = approved.get_body(("plain",)).get_content()
    assert f"Hello {HOSTILE_NAME}," in text and "Approved: residents see this change now." in text
    assert "St James's, saved" in text and "approved by Bo <i>Admin</i>" in text
    assert "Priority: The issue (new): (none) -> Speeding on the Mall" in text
    assert f"http://localhost/admin/wards/{SAMPLE_WARD}/history#change-{good}" in text

    rejection = messages[1]
    assert rejection["Subject"] == "Your change was reviewed: 1 rejected"
    text, html = (rejection.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert f"Reason: {HOSTILE_REASON}" in text and HOSTILE_ISSUE in text  # the text part: as they were written
    assert "Rejected: this change was not made." in text
    for raw in (HOSTILE_NAME, HOSTILE_REASON, HOSTILE_ISSUE, "<i>Admin</i>"):
        assert raw not in html
    assert (
        "Reason: Wrong ward &lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    )
    assert "Bikes &lt;img src=x onerror=alert(1)&gt; on the pavement" in html
    assert "Hello Eve &lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; O&#39;Neil," in html


def test_approving_all_of_one_editors_changes_sends_them_one_email_and_the_reviewer_none(store, geodata):
    editing = reviewed_borough(store, geodata)
    erin, fay = (make_user(store, f"{n}@example.org", wards=[SAMPLE_WARD], name=n) for n in ("erin", "fay"))
    for n in range(3):
        propose(editing, erin, f"Erin's priority {n}")
    propose(editing, fay, "Fay's priority")
    with smtp_server() as inbox:
        client = staff_app(store, geodata, SMTP_URL=inbox.url).test_client()
        sign_in(client, make_user(store, "bo@example.org", "borough_admin", borough_code=WESTMINSTER))
        assert post(client, "/admin/review", {"approve_editor": str(erin.id)}).status_code == 302
        messages = quiet(inbox)
    assert [(m["To"], m["Subject"]) for m in messages] == [
        ("erin@example.org", "Your changes were reviewed: 3 approved")
    ]
    text = messages[0].get_body(("plain",)).get_content()
    assert all(f"Erin's priority {n}" in text for n in range(3)) and "Fay" not in text


def test_without_mail_set_up_nothing_is_sent_and_the_staff_home_says_so(store, geodata):
    editing = reviewed_borough(store, geodata)
    editor = make_user(store, "eve@example.org", wards=[SAMPLE_WARD])
    change = propose(editing, editor, "Speeding on the Mall")
    client = staff_app(store, geodata).test_client()  # no FINDER_SMTP_URL
    sign_in(client, make_user(store, "bo@example.org", "borough_admin", borough_code=WESTMINSTER))
    home = client.get("/admin/").get_data(as_text=True)
    assert "Email is not set up: invitation and password-reset links are shown to you to pass on" in home
    assert "no daily reminder of changes waiting for review" in home
    assert post(client, f"/admin/review/{change}", {"decision": "approve"}).status_code == 302  # settled, no error

    editors = staff_app(store, geodata).test_client()
    sign_in(editors, editor)
    home = editors.get("/admin/").get_data(as_text=True)
    assert "Email is not set up: you are not emailed when your changes are approved or rejected" in home
    with smtp_server() as inbox:
        mailed = staff_app(store, geodata, SMTP_URL=inbox.url).test_client()
        sign_in(mailed, editor)
        assert "Email is not set up" not in mailed.get("/admin/").get_data(as_text=True)


def digest_app(store, smtp_url: str):
    return create_app({"ENV_NAME": "testing", "DATABASE_URL": store.url, "SMTP_URL": smtp_url})


def test_send_digest_reminds_each_borough_admin_of_changes_waiting_at_most_once_a_day(store, geodata):
    editing = reviewed_borough(store, geodata)
    editor = make_user(store, "eve@example.org", wards=[SAMPLE_WARD], name=HOSTILE_NAME)
    first = propose(editing, editor, "Speeding on the Mall")
    propose(editing, editor, HOSTILE_ISSUE)
    make_user(store, "bo@example.org", "borough_admin", name=HOSTILE_NAME, borough_code=WESTMINSTER)
    make_user(store, "camden@example.org", "borough_admin", borough_code=CAMDEN)  # nothing waits in Camden
    with smtp_server() as inbox:
        runner = digest_app(store, inbox.url).test_cli_runner()
        once = runner.invoke(args=["send-digest"])
        twice = runner.invoke(args=["send-digest"])
        reminders = [m for m in inbox.messages if "for your review" in m["Subject"]]  # not the weekly digests
        assert once.exit_code == 0, once.output
        assert "reminders: 1 sent, 0 already sent today, 0 failed" in once.output
        assert "reminders: 0 sent, 1 already sent today, 0 failed" in twice.output
        assert [m["To"] for m in reminders] == ["bo@example.org"]  # none to Camden's admin: nothing waits there
        with store.session() as session:  # the next day, with the changes still waiting: one more
            session.execute(update(ReviewReminderSent).values(day=ReviewReminderSent.day - timedelta(days=1)))
        assert "reminders: 1 sent" in runner.invoke(args=["send-digest"]).output
        editing.approve(make_user(store, "site2@example.org", "site_admin"), first)
    (reminder, *_) = reminders
    assert reminder["Subject"] == "2 changes wait for your review in Westminster"
    text, html = (reminder.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert f"Hello {HOSTILE_NAME}," in text and f"St James's, by {HOSTILE_NAME}, saved" in text
    assert "Review them: http://127.0.0.1:5000/admin/review" in text
    assert HOSTILE_NAME not in html and "<script>" not in html
    assert "by Eve &lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; O&#39;Neil, saved" in html


def test_a_reminder_the_mail_server_refused_is_sent_on_the_next_run_and_none_is_sent_without_mail(store, geodata):
    editing = reviewed_borough(store, geodata)
    propose(editing, make_user(store, "eve@example.org", wards=[SAMPLE_WARD]), "Speeding on the Mall")
    make_user(store, "bo@example.org", "borough_admin", borough_code=WESTMINSTER)
    unset = digest_app(store, "").test_cli_runner().invoke(args=["send-digest"])
    assert unset.exit_code == 0 and "bo@example.org: 1 changes waiting for review" in unset.output
    assert "reminders: 1 borough admins have changes waiting (FINDER_SMTP_URL is not set" in unset.output
    refused = digest_app(store, f"smtp://127.0.0.1:{free_port()}").test_cli_runner().invoke(args=["send-digest"])
    assert refused.exit_code == 1 and "not sent to bo@example.org" in refused.output
    with smtp_server() as inbox:
        again = digest_app(store, inbox.url).test_cli_runner().invoke(args=["send-digest"])
    assert again.exit_code == 0
    assert [m["To"] for m in inbox.messages if "for your review" in m["Subject"]] == ["bo@example.org"]
