"""Staff accounts for tests: an app over a real store, users made directly, and quick sign-in.

    app = staff_app(store, geodata)
    editor = make_user(store, "ed@example.org", "ward_editor", wards=["E05013806"])
    client = app.test_client()
    sign_in(client, editor)                        # no forms, no argon2: straight into the session
    post(client, "/admin/users", {"name": ...})     # a POST with a valid CSRF token

`sign_in` starts a session in the store and puts its id in the cookie, as a completed sign-in does
(admins included: their second step counts as done). Tests of signing in go through the forms.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from finder import create_app
from finder.geo.geodata import GeoData
from finder.lookup.service import Lookup, load_forces
from finder.staff.account import Account
from finder.staff.accounts import hasher
from finder.staff.views import staff_sessions
from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import StaffUser, StaffWard
from finder.teams.directory import TeamDirectory

PASSWORD = "correct horse battery staple"
WESTMINSTER = "E09000033"
ST_JAMESS = "E05013806"  # a Westminster ward
CAMDEN_WARD = "E05013652"  # Belsize, in Camden


@cache
def password_hash(password: str = PASSWORD) -> str:
    """One argon2 hash per password per test run: hashing costs tens of milliseconds."""
    return hasher.hash(password)


def staff_app(store: Store, geodata: GeoData, *, lookup: Lookup | None = None, **config: Any) -> Flask:
    """A testing app whose lookup and staff area use `store` (CSRF on, as in production)."""
    lookup = lookup or Lookup(geodata, load_forces(), teams=TeamDirectory(store, geodata.wards))
    return create_app({"ENV_NAME": "testing", **config}, lookup=lookup)


def make_user(
    store: Store,
    email: str,
    role: str = "ward_editor",
    *,
    name: str = "Test User",
    wards: tuple[str, ...] | list[str] = (),
    borough_code: str | None = None,
    password: str | None = PASSWORD,
    totp_secret: str | None = None,
) -> Account:
    """An account as if invited and signed up; admins get a TOTP secret (pass one to know it)."""
    if role != "ward_editor" and totp_secret is None:
        totp_secret = pyotp.random_base32()
    with store.session() as session:
        user = StaffUser(
            email=email,
            name=name,
            role=role,
            borough_code=borough_code,
            password_hash=password_hash(password) if password else None,
            totp_secret=totp_secret,
            recovery_codes=json.dumps([]) if totp_secret else None,
            session_generation=1,
            active=True,
            created_at=utcnow(),
            wards=[StaffWard(ward_code=code) for code in wards],
        )
        session.add(user)
        session.flush()
        return Account.of(user)


def sign_in(client: FlaskClient, account: Account) -> str:
    """Put `account` in the client's session as a finished sign-in would; returns the session's id."""
    with client.application.app_context():
        key = staff_sessions().start(account)
    with client.session_transaction("/admin/") as session:
        session.clear()
        session["_user_id"] = key
        session["_fresh"] = True
    return key


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/admin/sign-in") -> str:
    """A valid CSRF token for the client's session, read from a staff form."""
    match = CSRF_FIELD.search(client.get(page).get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
    """A form POST carrying a valid CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)
