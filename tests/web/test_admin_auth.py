"""Signing in to the staff area, its sessions, links, email and users page, through the real app."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

import pyotp
import pytest
from limits.errors import ConfigurationError
from sqlalchemy import func, select, update

from finder import create_app
from finder.staff.accounts import Accounts
from finder.store.models import utcnow
from finder.store.staff import StaffSession, StaffToken, StaffUser
from tests.store import backends
from tests.support.smtp import smtp_server
from tests.support.staff import (
    CAMDEN_WARD,
    PASSWORD,
    ST_JAMESS,
    WESTMINSTER,
    csrf_token,
    make_user,
    post,
    sign_in,
    staff_app,
)
from tests.support.stores import discard, new_store, wipe

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

HOSTILE = '{{ 7*7 }}</script><b>"Bob" O\'Hara</b>'
NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory):
    db = new_store("sqlite", tmp_path_factory.mktemp("staff"))
    yield db
    discard(db)


@pytest.fixture()
def db(sqlite_db):
    wipe(sqlite_db)
    return sqlite_db


@pytest.fixture()
def app(db, geodata):
    return staff_app(db, geodata)


@pytest.fixture()
def client(app):
    return app.test_client()


def form_sign_in(client, email: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    return post(client, "/admin/sign-in", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def error_summary(response) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', response.get_data(as_text=True), re.S)
    assert match, "no error summary"
    return match.group(0)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("finder_session")
    return cookie.value if cookie else None


# -- signing in ---------------------------------------------------------------------------------------


def test_an_editor_signs_in_with_the_form_and_sees_their_wards(client, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    response = form_sign_in(client, "Ed@Example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    home = client.get("/admin/").get_data(as_text=True)
    assert f'<a href="/admin/wards/{ST_JAMESS}">St James&#39;s</a>' in home
    assert "/admin/wards/E05013792" not in home  # another Westminster ward


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(client, db):
    make_user(db, "ed@example.org")
    wrong = form_sign_in(client, "ed@example.org", "not the password")
    unknown = form_sign_in(client, "nobody@example.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert error_summary(wrong) == error_summary(unknown)
    assert "Email or password is wrong" in error_summary(wrong)
    assert 'value="nobody@example.org"' in unknown.get_data(as_text=True)  # what was typed is kept


def test_staff_pages_send_people_who_are_not_signed_in_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/sign-in?next=")


def test_after_signing_in_the_session_cookie_is_new_and_the_old_one_signs_nobody_in(app, client, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    csrf_token(client)  # the sign-in form put a token in the session
    with client.session_transaction("/admin/") as session:
        session["planted"] = "by someone else"
        old_token = session["csrf_token"]
    before = session_cookie(client)
    assert form_sign_in(client, "ed@example.org").status_code == 302
    after = session_cookie(client)
    assert after and after != before
    with client.session_transaction("/admin/") as session:
        assert "planted" not in session and session.get("csrf_token") != old_token
    planted = app.test_client()
    planted.set_cookie("finder_session", before)
    assert planted.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_lax_and_secure_in_production(client, db, geodata):
    make_user(db, "ed@example.org")
    form_sign_in(client, "ed@example.org")
    cookie = client.get_cookie("finder_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    production = staff_app(db, geodata, ENV_NAME="production", PUBLIC_URL="https://finder.example.org", SECRET_KEY="k")
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_production_will_not_start_without_a_secret_key(finder_lookup):
    with pytest.raises(ValueError, match="SECRET_KEY must be set in production"):
        create_app({"ENV_NAME": "production", "PUBLIC_URL": "https://finder.example.org", "SECRET_KEY": ""})


def age_sessions(db, **ago: timedelta) -> None:
    """Move every session's created_at / seen_at back by the given amounts."""
    with db.session() as session:
        for row in session.scalars(select(StaffSession)):
            for column, delta in ago.items():
                setattr(row, column, getattr(row, column) - delta)


def test_a_session_idle_for_longer_than_the_limit_is_signed_out(client, db):
    editor = make_user(db, "ed@example.org", wards=[ST_JAMESS])
    sign_in(client, editor)
    assert client.get("/admin/").status_code == 200
    age_sessions(db, seen_at=timedelta(minutes=31))
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/sign-in"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out because you did nothing for 30 minutes" in page
    assert client.get("/admin/").status_code == 302
    with db.reader() as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_a_busy_session_still_ends_12_hours_after_signing_in(client, db):
    sign_in(client, make_user(db, "ed@example.org", wards=[ST_JAMESS]))
    age_sessions(db, created_at=timedelta(hours=11, minutes=59))
    assert client.get("/admin/").status_code == 200
    age_sessions(db, created_at=timedelta(minutes=2))
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/sign-in"
    assert "because you signed in over 12 hours ago" in client.get("/admin/sign-in").get_data(as_text=True)


def test_the_session_lifetime_is_a_setting(db, geodata):
    client = staff_app(db, geodata, STAFF_SESSION_HOURS=1).test_client()
    sign_in(client, make_user(db, "ed@example.org", wards=[ST_JAMESS]))
    age_sessions(db, created_at=timedelta(minutes=61))
    assert client.get("/admin/").status_code == 302


def test_a_cookie_copied_before_signing_out_signs_nobody_in_afterwards(app, client, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    form_sign_in(client, "ed@example.org")
    copied = session_cookie(client)
    assert post(client, "/admin/sign-out").status_code == 302
    thief = app.test_client()
    thief.set_cookie("finder_session", copied)
    assert thief.get("/admin/").status_code == 302
    with db.reader() as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_a_password_reset_or_a_role_change_or_disabling_ends_every_session_of_that_user(app, db):
    editor = make_user(db, "ed@example.org", wards=[ST_JAMESS])
    admin = make_user(db, "admin@example.org", "site_admin")
    laptop, phone, boss = app.test_client(), app.test_client(), app.test_client()
    for client, account in ((laptop, editor), (phone, editor), (boss, admin)):
        sign_in(client, account)

    reset = shown_link(post(boss, f"/admin/users/{editor.id}/link")).removeprefix("http://localhost")
    assert post(app.test_client(), reset, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert laptop.get("/admin/").status_code == phone.get("/admin/").status_code == 302

    editor = Accounts(db, secret="unused").get(editor.id)  # its generation moved with the reset
    sign_in(laptop, editor)
    sign_in(phone, editor)
    with db.session() as session:  # made a borough admin by a site admin's SQL, say
        session.execute(
            update(StaffUser).where(StaffUser.id == editor.id).values(role="borough_admin", borough_code=WESTMINSTER)
        )
    assert laptop.get("/admin/").status_code == phone.get("/admin/").status_code == 302

    with db.session() as session:
        session.execute(update(StaffUser).where(StaffUser.id == editor.id).values(role="ward_editor"))
    sign_in(laptop, editor)
    assert laptop.get("/admin/").status_code == 200
    with db.session() as session:
        session.execute(update(StaffUser).where(StaffUser.id == editor.id).values(active=False))
    assert laptop.get("/admin/").status_code == 302
    assert boss.get("/admin/").status_code == 200  # nobody else's session ended


def test_the_totp_secret_being_set_up_stays_on_the_server_not_in_the_cookie(app, db):
    admin = make_user(db, "admin@example.org", "site_admin")
    with db.session() as session:
        session.execute(update(StaffUser).values(totp_secret=None))
    client = app.test_client()
    form_sign_in(client, "admin@example.org")
    html = client.get("/admin/sign-in/set-up-app").get_data(as_text=True)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    cookie = app.session_interface.get_signing_serializer(app).loads(session_cookie(client))
    assert secret not in repr(cookie)
    assert secret in client.get("/admin/sign-in/set-up-app").get_data(as_text=True)  # the same one, kept
    done = post(client, "/admin/sign-in/set-up-app", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and client.get("/admin/users").status_code == 200
    with db.reader() as session:
        assert session.get(StaffUser, admin.id).totp_secret == secret
        rows = session.execute(select(StaffSession.pending, StaffSession.enrol_secret)).all()
    assert [tuple(row) for row in rows] == [(False, None)]  # the pending session has gone with its secret


def test_signing_out_everywhere_ends_the_session_in_another_browser(app, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    laptop, phone = app.test_client(), app.test_client()
    form_sign_in(laptop, "ed@example.org")
    form_sign_in(phone, "ed@example.org")
    assert phone.get("/admin/").status_code == 200
    assert post(laptop, "/admin/sign-out-everywhere").status_code == 302
    assert phone.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 302
    form_sign_in(phone, "ed@example.org")  # signing in again works
    assert phone.get("/admin/").status_code == 200


def test_signing_out_ends_the_session(client, db):
    make_user(db, "ed@example.org")
    form_sign_in(client, "ed@example.org")
    assert post(client, "/admin/sign-out").status_code == 302
    assert client.get("/admin/").status_code == 302


# -- the second step ---------------------------------------------------------------------------------


def test_an_admin_needs_their_code_after_the_password_and_a_code_is_accepted_only_once(app, db):
    secret = pyotp.random_base32()
    make_user(db, "admin@example.org", "site_admin", totp_secret=secret)
    client = app.test_client()
    response = form_sign_in(client, "admin@example.org")
    assert response.headers["Location"] == "/admin/sign-in/code"
    assert client.get("/admin/").status_code == 302  # not signed in yet
    code = pyotp.TOTP(secret).now()
    assert post(client, "/admin/sign-in/code", {"code": code}).headers["Location"] == "/admin/"
    assert client.get("/admin/users").status_code == 200

    thief = app.test_client()
    form_sign_in(thief, "admin@example.org", address="10.6.6.6")
    replayed = post(thief, "/admin/sign-in/code", {"code": code})
    assert replayed.status_code == 400 and "has been used" in error_summary(replayed)
    assert thief.get("/admin/").status_code == 302


def test_an_admin_without_an_app_must_set_one_up_before_anything_else(app, db):
    admin = make_user(db, "admin@example.org", "site_admin", name=HOSTILE)
    with db.session() as session:  # invited as an admin, not yet enrolled
        session.execute(update(StaffUser).values(totp_secret=None))
    client = app.test_client()
    assert form_sign_in(client, "admin@example.org").headers["Location"] == "/admin/sign-in/set-up-app"
    assert client.get("/admin/users").status_code == 302
    page = client.get("/admin/sign-in/set-up-app")
    html = page.get_data(as_text=True)
    assert "<svg" in html and "data:" not in html and "<script" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    wrong = post(client, "/admin/sign-in/set-up-app", {"code": "12345"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    done = post(client, "/admin/sign-in/set-up-app", {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(codes)) == 10
    users = client.get("/admin/users").get_data(as_text=True)
    assert admin.id and "{{ 7*7 }}&lt;/script&gt;&lt;b&gt;&#34;Bob&#34; O&#39;Hara&lt;/b&gt;" in users

    other = app.test_client()  # a recovery code works once instead of the app
    form_sign_in(other, "admin@example.org")
    assert post(other, "/admin/sign-in/code", {"code": codes[0]}).headers["Location"] == "/admin/"
    again = app.test_client()
    form_sign_in(again, "admin@example.org")
    assert post(again, "/admin/sign-in/code", {"code": codes[0]}).status_code == 400


def test_an_editor_is_offered_an_app_and_once_set_up_signs_in_with_a_code(app, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS], name=HOSTILE)
    client = app.test_client()
    assert form_sign_in(client, "ed@example.org").headers["Location"] == "/admin/"  # the password alone, as before
    home = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/account/set-up-app">Set up an authenticator app</a>' in home
    old_session = session_cookie(client)
    html = client.get("/admin/account/set-up-app").get_data(as_text=True)
    assert "someone who learns your password still cannot sign in as you" in html
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    wrong = post(client, "/admin/account/set-up-app", {"code": "000000"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    done = post(client, "/admin/account/set-up-app", {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>[0-9a-f]{5}-[0-9a-f]{5}</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert session_cookie(client) != old_session  # a fresh session once the code is set up
    assert "Set up an authenticator app" not in client.get("/admin/").get_data(as_text=True)

    later = app.test_client()  # from now on the password alone signs nobody in
    assert form_sign_in(later, "ed@example.org").headers["Location"] == "/admin/sign-in/code"
    assert later.get("/admin/").status_code == 302
    assert post(later, "/admin/sign-in/code", {"code": "999999"}).status_code == 400
    assert later.get("/admin/").status_code == 302


def test_with_the_setting_an_editor_without_an_app_is_sent_to_set_one_up_at_sign_in(db, geodata):
    app = staff_app(db, geodata, REQUIRE_TOTP_FOR_EDITORS=True)
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    client = app.test_client()
    assert form_sign_in(client, "ed@example.org").headers["Location"] == "/admin/sign-in/set-up-app"
    assert client.get(f"/admin/wards/{ST_JAMESS}").status_code == 302  # nothing else until it is set up
    html = client.get("/admin/sign-in/set-up-app").get_data(as_text=True)
    assert "This finder asks ward editors to sign in with their password and a code" in html
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    done = post(client, "/admin/sign-in/set-up-app", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "Your recovery codes" in done.get_data(as_text=True)
    assert client.get(f"/admin/wards/{ST_JAMESS}").status_code == 200


# -- throttling -----------------------------------------------------------------------------------------


def test_a_stranger_failing_an_officers_email_does_not_lock_the_officer_out_of_their_own_address(client, db):
    make_user(db, "ed@example.org", wards=[ST_JAMESS])
    for _ in range(5):
        assert form_sign_in(client, "ed@example.org", "wrong password!", "10.6.6.6").status_code == 400
    refused = form_sign_in(client, "ed@example.org", PASSWORD, "10.6.6.6")
    assert refused.status_code == 429 and "Too many failed attempts" in error_summary(refused)
    assert form_sign_in(client, "ed@example.org", PASSWORD, "10.0.0.1").status_code == 302


def test_an_admin_holding_the_password_cannot_keep_guessing_codes_by_signing_in_again(app, db):
    secret = pyotp.random_base32()
    make_user(db, "admin@example.org", "site_admin", totp_secret=secret)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for n in range(5):
        thief = app.test_client()
        assert form_sign_in(thief, "admin@example.org", address=f"10.6.6.{n}").status_code == 302
        assert post(thief, "/admin/sign-in/code", {"code": wrong}).status_code == 400
    form_sign_in(thief, "admin@example.org", address="10.6.6.9")
    refused = post(thief, "/admin/sign-in/code", {"code": pyotp.TOTP(secret).now()})
    assert refused.status_code == 429 and "Wait 5 minutes" in error_summary(refused)
    assert thief.get("/admin/").status_code == 302


def test_the_limiter_storage_is_a_setting(db, geodata):
    app = staff_app(db, geodata, LIMITER_STORAGE_URI="memory://")
    assert app.extensions["finder_limits"].storage.check()  # sign-in failures count on it too
    with pytest.raises(ConfigurationError, match="nosuch"):
        staff_app(db, geodata, LIMITER_STORAGE_URI="nosuch://127.0.0.1")


# -- CSRF -------------------------------------------------------------------------------------------


def test_a_form_posted_without_its_csrf_token_is_refused_with_a_readable_page(client, db):
    make_user(db, "ed@example.org")
    assert client.application.config["WTF_CSRF_ENABLED"] is True
    response = client.post("/admin/sign-in", data={"email": "ed@example.org", "password": PASSWORD})
    assert response.status_code == 400 and "Go back, reload the page and try again" in response.get_data(as_text=True)
    forged = client.post("/admin/sign-in", data={"email": "ed@example.org", "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 400 and client.get("/admin/").status_code == 302


def test_the_api_batch_post_needs_no_csrf_token_and_public_pages_set_no_cookie(client):
    response = client.post("/api/v1/postcodes", json={"postcodes": ["SW1A 2AA"]})
    assert response.status_code == 200
    for page in ("/", "/search?postcode=SW1A+2AA", "/embed", "/embed/build", "/api/v1/postcodes/SW1A2AA"):
        answer = client.get(page)
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers, page
        assert "Cookie" not in answer.headers.get("Vary", ""), page


def test_a_signed_in_officers_public_pages_neither_vary_by_cookie_nor_set_one(client, db):
    sign_in(client, make_user(db, "ed@example.org", wards=[ST_JAMESS]))
    assert client.get("/admin/").status_code == 200
    for page in ("/", "/search?postcode=SW1A+2AA", f"/wards/{ST_JAMESS}", "/api/v1/postcodes/SW1A2AA"):
        answer = client.get(page)
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers, page
        assert "Cookie" not in answer.headers.get("Vary", ""), page
    assert client.get("/admin/").status_code == 200  # still signed in


# -- invitations, resets and email ---------------------------------------------------------------------


def invite(client, **fields):
    form = {"name": "Ed", "email": "ed@example.org", "role": "ward_editor", "wards": ST_JAMESS, **fields}
    return post(client, "/admin/users", form)


def shown_link(response) -> str:
    match = re.search(r'<input [^>]*id="one-time-link" [^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no link on the page"
    return unescape(match.group(1))


def test_an_admin_invites_an_editor_who_sets_a_password_through_the_link_once(app, client, db):
    sign_in(client, make_user(db, "admin@example.org", "site_admin"))
    response = invite(client)
    link = shown_link(response)
    assert link.startswith("http://localhost/admin/invitation/")
    path = link.removeprefix("http://localhost")

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and "ed@example.org" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    short = post(newcomer, path, {"password": "too short", "confirm": "too short"})
    assert short.status_code == 400 and "at least 12 characters" in error_summary(short)
    common = post(newcomer, path, {"password": "Password123!", "confirm": "Password123!"})
    assert common.status_code == 400 and "similar to a commonly used password" in error_summary(common)
    done = post(newcomer, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/admin/sign-in"
    assert form_sign_in(newcomer, "ed@example.org", NEW_PASSWORD).status_code == 302
    again = app.test_client().get(path)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_an_expired_invitation_link_is_refused_and_a_new_one_can_be_sent(app, client, db):
    sign_in(client, make_user(db, "admin@example.org", "site_admin"))
    path = shown_link(invite(client)).removeprefix("http://localhost")
    with db.session() as session:
        session.execute(update(StaffToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = app.test_client().get(path)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    with db.reader() as session:
        user_id = session.scalar(select(StaffUser.id).filter_by(email="ed@example.org"))
    fresh = post(client, f"/admin/users/{user_id}/link")
    assert app.test_client().get(shown_link(fresh).removeprefix("http://localhost")).status_code == 200


def test_re_sending_an_invitation_makes_a_new_link_stops_the_old_one_and_is_recorded(app, client, db):
    sign_in(client, make_user(db, "admin@example.org", "site_admin"))
    first = shown_link(invite(client, name=HOSTILE)).removeprefix("http://localhost")
    with db.reader() as session:
        user_id = session.scalar(select(StaffUser.id).filter_by(email="ed@example.org"))
    resent = post(client, f"/admin/users/{user_id}/link")
    html = resent.get_data(as_text=True)
    second = shown_link(resent).removeprefix("http://localhost")
    assert second != first
    escaped = "{{ 7*7 }}&lt;/script&gt;&lt;b&gt;&#34;Bob&#34; O&#39;Hara&lt;/b&gt;"
    assert f"A new invitation for {escaped} is made. The link sent before no longer works." in html
    assert f'<label class="govuk-label" for="one-time-link">Invitation link for {escaped}</label>' in html
    assert "readonly" in re.search(r'<input [^>]*id="one-time-link"[^>]*>', html).group(0)
    assert 'data-copy-link="one-time-link"' in html and "/static/copy-link." in html  # the button, for browsers with JS
    assert "<b>" not in html

    old = app.test_client().get(first)
    assert old.status_code == 410 and "already been used" in old.get_data(as_text=True)
    assert app.test_client().get(second).status_code == 200
    row = re.search(rf'<tr data-user="{user_id}">.*?</tr>', client.get("/admin/users").get_data(as_text=True), re.S)
    assert re.search(r"2 invitations sent, the last \d+ \w+ \d{4}, \d\d:\d\d UTC", row.group(0))
    assert f'Re-send invitation<span class="govuk-visually-hidden"> to {escaped}</span>' in row.group(0)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(StaffToken).filter_by(user_id=user_id)) == 2


def test_with_smtp_set_the_invitation_is_emailed_through_the_server(db, geodata):
    with smtp_server() as inbox:
        app = staff_app(db, geodata, SMTP_URL=inbox.url)
        client = app.test_client()
        sign_in(client, make_user(db, "admin@example.org", "site_admin"))
        response = post(
            client,
            "/admin/users",
            {"name": HOSTILE, "email": "ed@example.org", "role": "ward_editor", "wards": ST_JAMESS},
        )
        assert response.status_code == 200 and 'id="one-time-link"' not in response.get_data(as_text=True)
    (message,) = inbox.messages
    assert message["To"] == "ed@example.org" and message["From"] == "finder@localhost"
    body = message.get_content()
    assert f"Hello {HOSTILE}," in body
    path = re.search(r"http://localhost(/admin/invitation/\S+)", body).group(1)
    assert app.test_client().get(path).status_code == 200


def test_a_password_reset_is_emailed_and_the_page_says_the_same_for_an_unknown_account(db, geodata):
    make_user(db, "ed@example.org")
    with smtp_server() as inbox:
        client = staff_app(db, geodata, SMTP_URL=inbox.url).test_client()
        known = post(client, "/admin/reset", {"email": "ed@example.org"})
        unknown = post(client, "/admin/reset", {"email": "nobody@example.org"})
        (message,) = inbox.wait_for(1)
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)
    path = re.search(r"http://localhost(/admin/reset/\S+)", message.get_content()).group(1)
    assert post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert form_sign_in(client, "ed@example.org", NEW_PASSWORD).status_code == 302


def test_the_reset_form_answers_as_fast_for_a_real_account_as_for_an_unknown_one(db, geodata):
    make_user(db, "ed@example.org")
    with smtp_server(delay=0.5) as inbox:  # a slow mail server: a reply that waited on it would show
        client = staff_app(db, geodata, SMTP_URL=inbox.url).test_client()
        token = csrf_token(client, "/admin/reset")

        def answer_time(email: str) -> float:
            started = time.perf_counter()
            assert client.post("/admin/reset", data={"email": email, "csrf_token": token}).status_code == 200
            return time.perf_counter() - started

        real = [answer_time("ed@example.org") for _ in range(3)]
        unknown = [answer_time(f"nobody{n}@example.org") for n in range(3)]
        assert len(inbox.wait_for(3)) == 3  # the real account's emails were sent all the same
    assert max(real) < 0.25 and max(unknown) < 0.25, (real, unknown)


def test_without_smtp_nobody_can_ask_for_a_reset_link_by_email(client, db):
    make_user(db, "ed@example.org")
    page = client.get("/admin/reset").get_data(as_text=True)
    assert "Ask your borough admin or a site admin" in page and "<form" not in page.split("<main")[1]


# -- who may do what on the users page -----------------------------------------------------------------


def test_an_editor_cannot_see_users_or_invite(client, db):
    sign_in(client, make_user(db, "ed@example.org", wards=[ST_JAMESS]))
    assert client.get("/admin/users").status_code == 403
    assert invite(client, email="new@example.org").status_code == 403


def test_a_borough_admin_cannot_invite_for_another_borough(client, db):
    sign_in(client, make_user(db, "b@example.org", "borough_admin", borough_code=WESTMINSTER))
    refused = invite(client, wards=CAMDEN_WARD)
    assert refused.status_code == 400 and f"{CAMDEN_WARD} is not in it" in error_summary(refused)
    assert f'value="{CAMDEN_WARD}"' in refused.get_data(as_text=True)  # the form keeps what was typed
    camden_editor = make_user(db, "c@example.org", wards=[CAMDEN_WARD])
    assert post(client, f"/admin/users/{camden_editor.id}/wards", {"wards": ST_JAMESS}).status_code == 403
    assert post(client, f"/admin/users/{camden_editor.id}/link").status_code == 403
    assert invite(client).status_code == 200


def test_a_borough_admin_cannot_reset_or_change_an_editor_who_also_edits_another_borough(client, db):
    sign_in(client, make_user(db, "b@example.org", "borough_admin", borough_code=WESTMINSTER))
    both = make_user(db, "both@example.org", wards=[ST_JAMESS, CAMDEN_WARD])
    refused = post(client, f"/admin/users/{both.id}/link")
    assert refused.status_code == 403 and 'id="one-time-link"' not in refused.get_data(as_text=True)
    assert post(client, f"/admin/users/{both.id}/wards", {"wards": ST_JAMESS}).status_code == 403
    with db.reader() as session:
        assert session.scalars(select(StaffToken)).all() == []
        assert session.get(StaffUser, both.id).ward_codes == {ST_JAMESS, CAMDEN_WARD}


def test_without_mail_a_borough_admin_is_told_to_ask_a_site_admin_for_a_reset_link(app, client, db):
    sign_in(client, make_user(db, "b@example.org", "borough_admin", borough_code=WESTMINSTER))
    editor = make_user(db, "ed@example.org", name="Ed", wards=[ST_JAMESS])
    row = re.search(rf'<tr data-user="{editor.id}">.*?</tr>', client.get("/admin/users").get_data(as_text=True), re.S)
    assert "ask a site admin" in row.group(0) and "Password reset link" not in row.group(0)
    refused = post(client, f"/admin/users/{editor.id}/link")
    assert refused.status_code == 403 and "Ask a site admin to make one" in error_summary(refused)
    assert 'id="one-time-link"' not in refused.get_data(as_text=True)
    site = app.test_client()
    sign_in(site, make_user(db, "site@example.org", "site_admin"))
    assert shown_link(post(site, f"/admin/users/{editor.id}/link")).startswith("http://localhost/admin/reset/")


def test_with_mail_a_borough_admin_sends_a_reset_to_the_editors_own_address_and_sees_no_link(db, geodata):
    editor = make_user(db, "ed@example.org", wards=[ST_JAMESS])
    with smtp_server() as inbox:
        client = staff_app(db, geodata, SMTP_URL=inbox.url).test_client()
        sign_in(client, make_user(db, "b@example.org", "borough_admin", borough_code=WESTMINSTER))
        response = post(client, f"/admin/users/{editor.id}/link")
        assert response.status_code == 200 and 'id="one-time-link"' not in response.get_data(as_text=True)
    (message,) = inbox.messages
    assert message["To"] == "ed@example.org" and "/admin/reset/" in message.get_content()


def test_names_typed_by_staff_are_shown_as_text(client, db):
    sign_in(client, make_user(db, "admin@example.org", "site_admin", name=HOSTILE))
    invite(client, name=HOSTILE)
    for page in ("/admin/", "/admin/users"):
        html = client.get(page).get_data(as_text=True)
        assert "{{ 7*7 }}&lt;/script&gt;&lt;b&gt;&#34;Bob&#34; O&#39;Hara&lt;/b&gt;" in html, page
        assert "<b>" not in html and "O'Hara" not in html, page


# -- the command line ----------------------------------------------------------------------------------


def test_create_admin_makes_a_site_admin_and_prints_a_link_on_the_public_url(db, geodata):
    app = staff_app(db, geodata, DATABASE_URL=db.url, PUBLIC_URL="https://finder.example.org")
    result = app.test_cli_runner().invoke(args=["create-admin", "Boss@Example.org", "--name", "The Boss"])
    assert result.exit_code == 0, result.output
    link = re.search(r"https://finder\.example\.org/admin/invitation/\S+", result.output).group(0)
    path = link.removeprefix("https://finder.example.org")
    page = app.test_client().get(path, headers={"Host": "finder.example.org"})
    assert page.status_code == 200 and "The Boss" in page.get_data(as_text=True)
    again = app.test_cli_runner().invoke(args=["create-admin", "boss@example.org"])
    assert again.exit_code != 0 and "already an account" in again.output


def test_create_admin_links_to_the_local_server_without_a_public_url(db, geodata):
    app = staff_app(db, geodata, DATABASE_URL=db.url)
    result = app.test_cli_runner().invoke(args=["create-admin", "boss@example.org"])
    assert "http://127.0.0.1:5000/admin/invitation/" in result.output
