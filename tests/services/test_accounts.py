"""Account rules on SQLite and PostgreSQL: links, passwords, throttling, the second step, who may do what."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from finder.staff import accounts as accounts_module
from finder.staff.account import Account
from finder.staff.accounts import (
    SIGN_IN_REFUSED,
    Accounts,
    FormErrors,
    Limits,
    LinkInvalid,
    LinkSpent,
    NotAllowed,
    SignInRefused,
    Throttled,
    _limits,
)
from finder.staff.permissions import may_edit
from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import StaffToken, StaffUser
from tests.store import backends
from tests.support.staff import CAMDEN_WARD, PASSWORD, ST_JAMESS, WESTMINSTER, make_user

migrated_store = backends.migrated_store  # every test taking `store` runs on SQLite and PostgreSQL
store = backends.store

BOROUGH_OF = {ST_JAMESS: WESTMINSTER, "E05013792": WESTMINSTER, CAMDEN_WARD: "E09000007"}.get
BOROUGHS = {WESTMINSTER, "E09000007"}
NEW_PASSWORD = "a much longer passphrase"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def service(store: Store, clock: Clock) -> Accounts:
    return Accounts(store, secret="test secret", clock=clock)


def invite_editor(service: Accounts, actor: Account | None = None, **fields) -> tuple[Account, str]:
    fields = {"email": "Ed@Example.org", "name": "Ed", "role": "ward_editor", "wards": ST_JAMESS, **fields}
    return service.invite(actor, **fields, borough_of=BOROUGH_OF, boroughs=BOROUGHS)


def test_an_invitation_link_sets_the_password_once_and_is_stored_only_as_a_hash(service, store):
    account, token = invite_editor(service)
    assert account.email == "ed@example.org" and not account.has_password

    with store.reader() as session:
        stored = session.scalars(select(StaffToken.token_hash)).one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # token_urlsafe(32)

    assert service.link_account(token, "invite").id == account.id
    service.use_link(token, "invite", NEW_PASSWORD, NEW_PASSWORD)
    assert service.sign_in("ed@example.org", NEW_PASSWORD, "10.0.0.1").id == account.id
    with pytest.raises(LinkSpent, match="already been used"):
        service.use_link(token, "invite", "another password!!", "another password!!")


def test_an_invitation_link_expires_after_24_hours(service, clock):
    _, token = invite_editor(service)
    clock.now += timedelta(hours=24, seconds=1)
    with pytest.raises(LinkSpent, match="expired"):
        service.link_account(token, "invite")
    with pytest.raises(LinkSpent, match="expired"):
        service.use_link(token, "invite", NEW_PASSWORD, NEW_PASSWORD)


def test_a_made_up_link_or_one_for_another_purpose_is_not_valid(service):
    _, token = invite_editor(service)
    with pytest.raises(LinkInvalid) as unknown:
        service.link_account("x" + token, "invite")
    assert unknown.value.status == 404
    with pytest.raises(LinkInvalid):
        service.link_account(token, "reset")


def test_a_short_or_mistyped_password_is_refused_and_the_link_still_works(service):
    _, token = invite_editor(service)
    with pytest.raises(FormErrors, match="at least 12 characters"):
        service.use_link(token, "invite", "elevenchars", "elevenchars")
    with pytest.raises(FormErrors, match="not the same"):
        service.use_link(token, "invite", NEW_PASSWORD, NEW_PASSWORD + "x")
    service.use_link(token, "invite", NEW_PASSWORD, NEW_PASSWORD)  # not spent by the failures


def test_a_new_link_replaces_the_earlier_unused_one(service, store):
    admin = make_user(store, "admin@example.org", "site_admin")
    account, first = invite_editor(service)
    _, purpose, second = service.new_link(admin, account.id, BOROUGH_OF, by_email=False)
    assert purpose == "invite"
    with pytest.raises(LinkSpent):
        service.link_account(first, "invite")
    assert service.link_account(second, "invite").id == account.id


def test_a_password_reset_signs_the_user_out_everywhere_and_spends_every_other_reset_link(service, store):
    user = make_user(store, "ed@example.org")
    first = service.request_reset("ED@example.org")
    second = service.request_reset("ed@example.org")
    assert first is not None and second is not None
    with pytest.raises(LinkSpent):
        service.link_account(first[1], "reset")
    after = service.use_link(second[1], "reset", NEW_PASSWORD, NEW_PASSWORD)
    assert after.session_generation == user.session_generation + 1
    with pytest.raises(SignInRefused):
        service.sign_in("ed@example.org", PASSWORD, "10.0.0.1")


def test_a_reset_for_no_account_gives_nothing_and_requests_are_limited_quietly(service, store):
    make_user(store, "ed@example.org")
    assert service.request_reset("nobody@example.org") is None
    assert service.request_reset("not an email") is None
    assert [service.request_reset("ed@example.org") is not None for _ in range(4)] == [True, True, True, False]


def test_a_wrong_password_and_an_unknown_account_get_the_same_refusal(service, store):
    make_user(store, "ed@example.org")
    with pytest.raises(SignInRefused) as wrong:
        service.sign_in("ed@example.org", "not the password", "10.0.0.1")
    with pytest.raises(SignInRefused) as unknown:
        service.sign_in("nobody@example.org", PASSWORD, "10.0.0.1")
    assert wrong.value.message == unknown.value.message == SIGN_IN_REFUSED
    assert wrong.value.status == unknown.value.status


def test_a_client_is_refused_for_an_account_after_5_wrong_passwords_and_the_officer_still_signs_in_elsewhere(
    service, store
):
    make_user(store, "ed@example.org")
    for _ in range(5):  # a stranger at one address fails the officer's email (and an unknown one)
        with pytest.raises(SignInRefused):
            service.sign_in("ed@example.org", "wrong password!", "10.6.6.6")
        with pytest.raises(SignInRefused):
            service.sign_in("nobody@example.org", "wrong password!", "10.6.6.6")
    with pytest.raises(Throttled) as known:
        service.sign_in("ed@example.org", PASSWORD, "10.6.6.6")
    with pytest.raises(Throttled) as unknown:
        service.sign_in("nobody@example.org", PASSWORD, "10.6.6.6")
    assert known.value.message == unknown.value.message and known.value.status == 429
    assert "Wait 15 minutes" in known.value.message
    assert service.sign_in("ed@example.org", PASSWORD, "10.0.0.1").email == "ed@example.org"


def test_the_failure_counts_end_with_their_window(store):
    # 4 s, not 1: under a loaded CI machine two password checks took longer than a 1-second window.
    service = Accounts(store, secret="s", limits=Limits(client_account=_limits("2 per 4 seconds")))
    make_user(store, "ed@example.org")
    for _ in range(2):
        with pytest.raises(SignInRefused):
            service.sign_in("ed@example.org", "wrong password!", "10.6.6.6")
    with pytest.raises(Throttled, match="Wait 1 minute,"):
        service.sign_in("ed@example.org", PASSWORD, "10.6.6.6")
    time.sleep(4.1)
    assert service.sign_in("ed@example.org", PASSWORD, "10.6.6.6").email == "ed@example.org"


def test_many_addresses_guessing_one_account_reach_its_ceiling_which_one_client_cannot(store):
    limits = Limits(client=_limits("4 per hour"), account=_limits("6 per hour"))
    service = Accounts(store, secret="s", limits=limits)
    make_user(store, "ed@example.org")
    for n in range(6):
        with pytest.raises(SignInRefused):
            service.sign_in("ed@example.org", "wrong password!", f"10.6.6.{n // 2}")
    with pytest.raises(Throttled):
        service.sign_in("ed@example.org", PASSWORD, "10.0.0.1")
    assert Limits().account[0].amount > 4 * Limits().client[0].amount  # one client's hour stays below it


def test_an_address_is_refused_after_20_failures_whichever_accounts_it_tried(service, store):
    make_user(store, "ed@example.org")
    for n in range(20):
        with pytest.raises(SignInRefused):
            service.sign_in(f"guess{n}@example.org", "wrong password!", "10.0.0.66")
    with pytest.raises(Throttled):
        service.sign_in("ed@example.org", PASSWORD, "10.0.0.66")
    assert service.sign_in("ed@example.org", PASSWORD, "10.0.0.67").email == "ed@example.org"


class Recording:
    """A real limiter that notes the keys it is asked about."""

    def __init__(self) -> None:
        self.limiter = accounts_module.memory_limiter()
        self.keys: set[str] = set()

    def __getattr__(self, name: str):
        method = getattr(self.limiter, name)

        def noted(item, *keys):
            self.keys.update(keys)
            return method(item, *keys)

        return noted


def test_the_throttle_keeps_neither_emails_nor_addresses_in_the_clear(store):
    recording = Recording()
    service = Accounts(store, secret="s", limiter=recording)
    with pytest.raises(SignInRefused):
        service.sign_in("ed@example.org", "wrong password!", "10.0.0.66")
    service.request_reset("ed@example.org")
    assert len(recording.keys) == 4 and not any("ed@" in key or "10.0.0.66" in key for key in recording.keys)


def test_a_right_password_does_not_clear_the_count_of_wrong_codes(store, clock):
    service = Accounts(store, secret="s", clock=clock)
    secret = pyotp.random_base32()
    admin = make_user(store, "admin@example.org", "site_admin", totp_secret=secret)
    right = pyotp.TOTP(secret).at(clock.now)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        service.sign_in("admin@example.org", PASSWORD, "10.6.6.6")
        with pytest.raises(SignInRefused):
            service.second_step(admin.id, wrong, f"10.6.6.{_}")
    service.sign_in("admin@example.org", PASSWORD, "10.6.6.6")
    with pytest.raises(SignInRefused):
        service.second_step(admin.id, wrong, "10.7.7.7")
    service.sign_in("admin@example.org", PASSWORD, "10.6.6.6")
    with pytest.raises(Throttled, match="Wait 5 minutes"):
        service.second_step(admin.id, right, "10.8.8.8")  # locked, whichever address, even with the right code


def test_wrong_codes_lock_for_longer_each_tier_they_reach(store, clock):
    service = Accounts(store, secret="s", clock=clock, limits=Limits(second_step=_limits("2 per 1 second; 3 per hour")))
    secret = pyotp.random_base32()
    admin = make_user(store, "admin@example.org", "site_admin", totp_secret=secret)
    wrong = "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(SignInRefused):
            service.second_step(admin.id, wrong, "10.0.0.1")
    with pytest.raises(Throttled, match="Wait 1 minute,"):
        service.second_step(admin.id, wrong, "10.0.0.1")
    time.sleep(1.1)
    with pytest.raises(SignInRefused):  # the first lock is over
        service.second_step(admin.id, wrong, "10.0.0.1")
    time.sleep(1.1)
    with pytest.raises(Throttled, match="Wait 60 minutes"):  # the next lasts the hour
        service.second_step(admin.id, pyotp.TOTP(secret).at(clock.now), "10.0.0.1")


def test_a_common_password_like_password123_is_refused_with_advice(service):
    _, token = invite_editor(service, name="Edward Example")
    for weak in ("Password123!", "Welcome12345", "ed@example.org!"):
        with pytest.raises(FormErrors) as refused:
            service.use_link(token, "invite", weak, weak)
        message = refused.value.errors["password"]
        assert message.startswith("Choose a password that is harder to guess.") and "random words" in message
    service.use_link(token, "invite", NEW_PASSWORD, NEW_PASSWORD)


def test_a_password_hashed_with_old_parameters_is_rehashed_at_sign_in(service, store):
    user = make_user(store, "ed@example.org")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with store.session() as session:
        session.get(StaffUser, user.id).password_hash = weak
    service.sign_in("ed@example.org", PASSWORD, "10.0.0.1")
    with store.reader() as session:
        renewed = session.get(StaffUser, user.id).password_hash
    assert renewed != weak and not accounts_module.hasher.check_needs_rehash(renewed)


def test_totp_enrolment_needs_a_right_code_and_a_code_is_never_accepted_twice(service, store, clock):
    admin = make_user(store, "admin@example.org", "site_admin", totp_secret=None)
    with store.session() as session:  # as an admin who has not enrolled yet
        session.get(StaffUser, admin.id).totp_secret = None
    secret = accounts_module.new_totp_secret()
    with pytest.raises(FormErrors):
        service.enrol_totp(admin.id, secret, "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "111111")
    enrolled, codes = service.enrol_totp(admin.id, secret, pyotp.TOTP(secret).at(clock.now))
    assert enrolled.totp_enrolled and len(codes) == len(set(codes)) == 10
    with pytest.raises(SignInRefused):  # the enrolment's code, replayed
        service.second_step(admin.id, pyotp.TOTP(secret).at(clock.now), "10.0.0.1")
    clock.now += timedelta(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now)
    assert service.second_step(admin.id, code, "10.0.0.1").id == admin.id
    with pytest.raises(SignInRefused, match="has been used"):
        service.second_step(admin.id, code, "10.0.0.2")


def test_a_recovery_code_works_once(service, store, clock):
    admin = make_user(store, "admin@example.org", "site_admin")
    with store.session() as session:
        session.get(StaffUser, admin.id).totp_secret = None
    secret = accounts_module.new_totp_secret()
    _, codes = service.enrol_totp(admin.id, secret, pyotp.TOTP(secret).at(clock.now))
    with store.reader() as session:
        stored = session.get(StaffUser, admin.id).recovery_codes
    assert not any(code in stored for code in codes) and len(json.loads(stored)) == 10
    assert service.second_step(admin.id, codes[3].upper(), "10.0.0.1").recovery_codes_left == 9
    with pytest.raises(SignInRefused):
        service.second_step(admin.id, codes[3], "10.0.0.1")
    assert service.second_step(admin.id, codes[4], "10.0.0.1").recovery_codes_left == 8


def test_an_enrolled_admin_cannot_enrol_again(service, store, clock):
    admin = make_user(store, "admin@example.org", "site_admin")
    secret = accounts_module.new_totp_secret()
    with pytest.raises(SignInRefused):
        service.enrol_totp(admin.id, secret, pyotp.TOTP(secret).at(clock.now))


def test_who_may_edit_which_ward(store):
    site = make_user(store, "site@example.org", "site_admin")
    borough = make_user(store, "borough@example.org", "borough_admin", borough_code=WESTMINSTER)
    editor = make_user(store, "ed@example.org", wards=[ST_JAMESS])
    assert may_edit(site, CAMDEN_WARD, BOROUGH_OF) and not may_edit(site, "E05999999", BOROUGH_OF)
    assert may_edit(borough, "E05013792", BOROUGH_OF) and not may_edit(borough, CAMDEN_WARD, BOROUGH_OF)
    assert may_edit(editor, ST_JAMESS, BOROUGH_OF) and not may_edit(editor, "E05013792", BOROUGH_OF)


def test_an_editor_cannot_invite_and_a_borough_admin_invites_editors_for_their_own_borough_only(service, store):
    editor = make_user(store, "ed@example.org", wards=[ST_JAMESS])
    borough = make_user(store, "borough@example.org", "borough_admin", borough_code=WESTMINSTER)
    with pytest.raises(NotAllowed):
        invite_editor(service, editor, email="new@example.org")
    with pytest.raises(FormErrors, match=f"{CAMDEN_WARD} is not in it"):
        invite_editor(service, borough, email="new@example.org", wards=f"{ST_JAMESS} {CAMDEN_WARD}")
    with pytest.raises(FormErrors) as promoted:
        invite_editor(service, borough, email="new@example.org", role="site_admin")
    assert promoted.value.errors["role"] == "Borough admins can invite ward editors only"
    invited, _ = invite_editor(service, borough, email="new@example.org")
    assert invited.wards == {ST_JAMESS}


def test_an_invitation_says_what_to_fix_in_every_field_at_once(service, store):
    make_user(store, "taken@example.org")
    with pytest.raises(FormErrors) as failed:
        invite_editor(service, email="not an email", name="  ", wards="E05999999")
    assert set(failed.value.errors) == {"email", "name", "wards"}
    with pytest.raises(FormErrors, match="already an account"):
        invite_editor(service, email="Taken@example.org")


def test_a_borough_admin_changes_only_editors_whose_every_ward_is_in_their_borough(service, store):
    site = make_user(store, "site@example.org", "site_admin")
    borough = make_user(store, "borough@example.org", "borough_admin", borough_code=WESTMINSTER)
    camden_only = make_user(store, "camden@example.org", wards=[CAMDEN_WARD])
    both = make_user(store, "both@example.org", wards=[CAMDEN_WARD, ST_JAMESS])
    own = make_user(store, "own@example.org", wards=[ST_JAMESS])
    for target in (camden_only, both):
        with pytest.raises(NotAllowed):
            service.set_wards(borough, target.id, ST_JAMESS, BOROUGH_OF)
        with pytest.raises(NotAllowed):
            service.new_link(borough, target.id, BOROUGH_OF, by_email=True)
    with pytest.raises(FormErrors):
        service.set_wards(borough, own.id, CAMDEN_WARD, BOROUGH_OF)
    assert service.set_wards(borough, own.id, "e05013792", BOROUGH_OF).wards == {"E05013792"}
    assert service.new_link(borough, own.id, BOROUGH_OF, by_email=True)[1] == "reset"
    assert service.set_wards(site, both.id, ST_JAMESS, BOROUGH_OF).wards == {ST_JAMESS}
    assert {a.email for a in service.users_for(borough, BOROUGH_OF)} == {
        "borough@example.org",
        "own@example.org",
        "both@example.org",  # now all in Westminster, after the site admin's change
    }


def test_without_mail_only_a_site_admin_is_given_a_reset_link_to_pass_on(service, store):
    site = make_user(store, "site@example.org", "site_admin")
    borough = make_user(store, "borough@example.org", "borough_admin", borough_code=WESTMINSTER)
    editor = make_user(store, "ed@example.org", name="Ed", wards=[ST_JAMESS])
    with pytest.raises(NotAllowed, match="Ask a site admin") as refused:
        service.new_link(borough, editor.id, BOROUGH_OF, by_email=False)
    assert "going to Ed" in refused.value.message
    with store.reader() as session:
        assert session.scalars(select(StaffToken)).all() == []  # no link was made for nobody to use
    _, purpose, token = service.new_link(site, editor.id, BOROUGH_OF, by_email=False)
    assert purpose == "reset" and service.link_account(token, "reset").id == editor.id


def test_a_disabled_account_cannot_sign_in_until_re_enabled_and_only_its_managers_may_disable_it(service, store):
    admin = make_user(store, "bo@example.org", "borough_admin", borough_code=WESTMINSTER)
    other_admin = make_user(store, "cam@example.org", "borough_admin", borough_code="E09000007")
    editor = make_user(store, "ed@example.org", wards=[ST_JAMESS])
    with pytest.raises(NotAllowed):
        service.set_active(other_admin, editor.id, False, BOROUGH_OF)  # not their borough's editor
    with pytest.raises(NotAllowed):
        service.set_active(admin, admin.id, False, BOROUGH_OF)  # nobody locks themselves out
    assert not service.set_active(admin, editor.id, False, BOROUGH_OF).active
    with pytest.raises(SignInRefused):
        service.sign_in("ed@example.org", PASSWORD, "10.0.0.1")
    assert service.set_active(admin, editor.id, True, BOROUGH_OF).active
    assert service.sign_in("ed@example.org", PASSWORD, "10.0.0.1").id == editor.id


def test_a_cancelled_invitation_removes_the_account_and_its_link_stops_working(service, store):
    admin = make_user(store, "bo@example.org", "borough_admin", borough_code=WESTMINSTER)
    invited, token = invite_editor(service, admin)
    signed_up = make_user(store, "sam@example.org", wards=[ST_JAMESS])
    with pytest.raises(NotAllowed, match="disable the account instead"):
        service.cancel_invitation(admin, signed_up.id, BOROUGH_OF)
    assert service.cancel_invitation(admin, invited.id, BOROUGH_OF).email == "ed@example.org"
    assert service.get(invited.id) is None
    with pytest.raises(LinkInvalid):
        service.link_account(token, "invite")
    assert sorted(a.email for a in service.users_for(admin, BOROUGH_OF)) == ["bo@example.org", "sam@example.org"]
