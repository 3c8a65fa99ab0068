"""Staff accounts: who may sign in, how, and which wards each may change. No Flask here.

- Roles: a ward editor changes their assigned wards; a borough admin every ward of their borough
  (and invites and assigns editors there); a site admin everything, users included.
- Invitation and password-reset links are one-time secrets (`secrets.token_urlsafe(32)`) that
  expire after 24 hours; only their SHA-256 is stored, and a link is spent by a conditional UPDATE,
  so two clicks cannot both use it.
- Passwords are argon2 hashes (rehashed when the parameters change), at least 12 characters, and
  not guessable: zxcvbn's score of 3 or more (which refuses common passwords like Password123!).
- Admins add a second step: TOTP (a time step is never accepted twice) or one of ten single-use
  recovery codes, stored as SHA-256 hashes.
- Failures are counted by a `limits` rate limiter (the library under the app's rate limits: memory, or Redis to
  share it) under keyed HMACs, never the values (`Throttle`): wrong passwords per client and
  account together, so a stranger cannot lock an officer out from their own address; per client
  address; per account, looser than one client can reach; wrong second-step codes per account on
  their own, in tiers that lock for longer each time. A refusal never says whether the account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from sqlalchemy import CursorResult, Result, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from finder.errors import FinderError
from finder.staff.account import Account
from finder.staff.permissions import BoroughOf, may_manage
from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import STAFF_ROLES, Role, StaffSession, StaffToken, StaffUser, StaffWard

TOKEN_LIFETIME = timedelta(hours=24)
MIN_PASSWORD, MAX_PASSWORD = 12, 1000
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" against throttled online guessing
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "London police team finder"

SIGN_IN_REFUSED = "Email or password is wrong. Check them and try again."
SITE_ADMIN_RESETS = (
    "This finder cannot send email, so a reset link would be shown to you instead of going to {name}. "
    "Ask a site admin to make one."
)
TOO_MANY = "Too many failed attempts to sign in. Wait {minutes}, then try again."

hasher = PasswordHasher()


class AccountError(FinderError):
    """A request about accounts that cannot be done as asked."""


class SignInRefused(AccountError):
    """Wrong email, password or code: the same answer whether or not the account exists."""

    code = "sign_in_refused"


class Throttled(AccountError):
    """Too many recent failures for this account or address (429)."""

    status = 429
    code = "too_many_attempts"


class LinkInvalid(AccountError):
    """An invitation or reset link that is unknown (404), or expired or used (410)."""

    status = 404
    code = "link_invalid"


class LinkSpent(LinkInvalid):
    """A link that has expired or has already been used (410)."""

    status = 410


class NotAllowed(AccountError):
    """The signed-in user's role does not allow this (403)."""

    status = 403
    code = "not_allowed"


class FormErrors(AccountError):
    """Fields a person must correct: field name -> message, in the order shown."""

    code = "invalid_form"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE changed: its result is a CursorResult, which Session.execute types as Result."""
    return cast(CursorResult[Any], result).rowcount


def normalise_email(text: str) -> str:
    """A checked email address, lower case; FormErrors saying how to fix it otherwise."""
    from email_validator import EmailNotValidError, validate_email  # staff pages only: not loaded at start

    try:
        return validate_email(text.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise FormErrors({"email": f"Enter an email address like name@example.org. {exc}"}) from None


def check_new_password(password: str, confirm: str, known: Iterable[str] = ()) -> str:
    """The new password, if it is long enough, hard to guess and typed the same twice.

    `known`: what the finder knows of the person (email, name), which a password must not lean on.
    """
    if len(password) < MIN_PASSWORD:
        raise FormErrors({"password": f"Enter a password of at least {MIN_PASSWORD} characters"})
    if len(password) > MAX_PASSWORD:
        raise FormErrors({"password": f"Enter a password of at most {MAX_PASSWORD:,} characters"})
    if problem := _guessable(password, list(known)):
        raise FormErrors({"password": problem})
    if password != confirm:
        raise FormErrors({"confirm": "The two passwords are not the same. Type the password again in both boxes"})
    return password


def _guessable(password: str, known: list[str]) -> str | None:
    """Why `password` is easy to guess (zxcvbn: common passwords, words, dates, keyboard runs), or None."""
    from zxcvbn import zxcvbn  # staff pages only: not loaded at start

    # zxcvbn's time grows with length; past 100 characters a password's strength is its length.
    verdict = zxcvbn(password[:100], user_inputs=known)
    if verdict["score"] >= MIN_STRENGTH:
        return None
    warning = verdict["feedback"]["warning"] or "This password would be easy to guess."
    return (
        f"Choose a password that is harder to guess. {warning} "
        "Three or four random words together make a strong password that is easy to remember."
    )


def parse_ward_codes(text: str) -> list[str]:
    """Ward codes separated by spaces, commas or new lines, upper case, in order, once each."""
    return list(dict.fromkeys(code.upper() for code in re.split(r"[\s,;]+", text) if code))


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(email: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _recovery_hash(code: str) -> str:
    return _sha256(re.sub(r"[^0-9a-z]", "", code.lower()))


@cache
def _dummy_hash() -> str:
    """Verified against when no account matches, so unknown emails take as long as wrong passwords."""
    return hasher.hash(secrets.token_hex(16))


def _load(session: Session, **where: object) -> StaffUser | None:
    query = select(StaffUser).options(selectinload(StaffUser.wards)).filter_by(**where)
    return session.scalars(query).one_or_none()


def _limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


@dataclass(frozen=True)
class Limits:
    """How many failures each key may have (the `limits` notation, several separated by ";")."""

    client_account: tuple[RateLimitItem, ...] = _limits("5 per 15 minutes")  # wrong passwords, one client, one account
    client: tuple[RateLimitItem, ...] = _limits("20 per 15 minutes")  # wrong passwords from one client
    # Wrong passwords for one account from everywhere: above what one client can reach (80 an hour),
    # so one stranger cannot lock an officer out; it stops a crowd of addresses guessing one account.
    account: tuple[RateLimitItem, ...] = _limits("100 per hour")
    # Wrong second-step codes per account, whoever sends them (they hold the password): each tier
    # reached locks for longer, 5 minutes, then an hour, then a day (3 codes in 10^6 are right).
    second_step: tuple[RateLimitItem, ...] = _limits("5 per 5 minutes; 10 per hour; 20 per day")
    resets: tuple[RateLimitItem, ...] = _limits("3 per 15 minutes")  # reset emails per account; more are not sent


@dataclass(frozen=True)
class Invitations:
    """The invitation links a person was sent: each re-send is one more, and only the last works."""

    count: int
    last_sent_at: datetime


class Throttle:
    """Failure counts on a `limits` rate limiter, under keys that are HMACs of emails and addresses."""

    def __init__(self, limiter: RateLimiter, secret: bytes) -> None:
        self.limiter = limiter
        self.secret = secret

    def key(self, kind: str, *values: str) -> str:
        return f"{kind}:{hmac.new(self.secret, chr(0).join(values).encode(), hashlib.sha256).hexdigest()}"

    def check(self, *counts: tuple[tuple[RateLimitItem, ...], str]) -> None:
        """Throttled, saying how long to wait, when any of these (limits, key) counts is full."""
        waits = [
            self.limiter.get_window_stats(item, key).reset_time
            for items, key in counts
            for item in items
            if not self.limiter.test(item, key)
        ]
        if waits:
            minutes = max(1, math.ceil((max(waits) - time.time()) / 60))
            raise Throttled(TOO_MANY.format(minutes="1 minute" if minutes == 1 else f"{minutes} minutes"))

    def hit(self, *counts: tuple[tuple[RateLimitItem, ...], str]) -> bool:
        """Count one more against each; False when one was already full."""
        return all([self.limiter.hit(item, key) for items, key in counts for item in items])

    def clear(self, items: tuple[RateLimitItem, ...], key: str) -> None:
        for item in items:
            self.limiter.clear(item, key)


def memory_limiter() -> RateLimiter:
    """A limiter of this process's own (the command line, tests): the web app passes its shared one."""
    return MovingWindowRateLimiter(MemoryStorage())


class Accounts:
    """Account rules over one store. `secret` keys the hashes that name accounts and addresses in
    `limiter`'s counts; `limits` says how many failures each may have."""

    def __init__(
        self,
        store: Store,
        *,
        secret: str | bytes,
        limiter: RateLimiter | None = None,
        limits: Limits = Limits(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.throttle = Throttle(limiter or memory_limiter(), self.secret)
        self.limits = limits
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------------

    def get(self, user_id: int) -> Account | None:
        with self.store.reader() as session:
            user = _load(session, id=user_id)
            return Account.of(user) if user else None

    def users_for(self, actor: Account, borough_of: BoroughOf) -> list[Account]:
        """The accounts `actor` may manage (site admins: everyone), by name."""
        if not actor.is_admin:
            raise NotAllowed("Only admins can see and invite users.")
        with self.store.reader() as session:
            users = session.scalars(select(StaffUser).options(selectinload(StaffUser.wards)).order_by(StaffUser.name))
            accounts = [Account.of(user) for user in users]
        return [a for a in accounts if a.id == actor.id or may_manage(actor, a, borough_of)]

    def invitations_sent(self, user_ids: Iterable[int]) -> dict[int, Invitations]:
        """How many invitation links each of these people was sent, and when the last (every link is kept as a row)."""
        query = (
            select(StaffToken.user_id, func.count(), func.max(StaffToken.created_at))
            .where(StaffToken.purpose == "invite", StaffToken.user_id.in_(list(user_ids)))
            .group_by(StaffToken.user_id)
        )
        with self.store.reader() as session:
            return {user_id: Invitations(count, last) for user_id, count, last in session.execute(query)}

    # -- creating and one-time links ---------------------------------------------------------------

    def invite(
        self,
        actor: Account | None,
        *,
        email: str,
        name: str,
        role: str,
        borough_code: str = "",
        wards: str | Iterable[str] = (),
        borough_of: BoroughOf,
        boroughs: Collection[str],
    ) -> tuple[Account, str]:
        """Make an account and its invitation link's secret. `actor` None is the command line."""
        if actor is not None and not actor.is_admin:
            raise NotAllowed("Only admins can invite people.")
        errors: dict[str, str] = {}
        try:
            email = normalise_email(email)
        except FormErrors as exc:
            errors.update(exc.errors)
        name = " ".join(name.split())
        if not name:
            errors["name"] = "Enter the person's name"
        elif len(name) > 200:
            errors["name"] = "Enter a name of at most 200 characters"
        codes = parse_ward_codes(wards) if isinstance(wards, str) else list(wards)
        borough_code = borough_code.strip().upper()
        if role not in STAFF_ROLES:
            errors["role"] = "Choose a role"
        elif actor is not None and actor.role == Role.BOROUGH_ADMIN and role != Role.WARD_EDITOR:
            errors["role"] = "Borough admins can invite ward editors only"
        if role == Role.BOROUGH_ADMIN and borough_code not in boroughs:
            errors["borough_code"] = "Enter the borough's code, like E09000033"
        if role == Role.WARD_EDITOR:
            problem = _unknown_wards(codes, borough_of) or (actor and _outside_borough(actor, codes, borough_of))
            if problem:
                errors["wards"] = problem
            elif not codes:
                errors["wards"] = "Enter at least one ward code, like E05013806"
        if errors:
            raise FormErrors(errors)
        now = self.clock()
        with self.store.session() as session:
            if session.scalar(select(StaffUser.id).filter_by(email=email)) is not None:
                raise FormErrors({"email": "There is already an account with this email address"})
            user = StaffUser(
                email=email,
                name=name,
                role=role,
                borough_code=borough_code if role == Role.BOROUGH_ADMIN else None,
                created_at=now,
                session_generation=1,
                active=True,
                wards=[StaffWard(ward_code=c) for c in codes] if role == Role.WARD_EDITOR else [],
            )
            session.add(user)
            session.flush()
            token = self._issue(session, user.id, "invite", now)
            return Account.of(user), token

    def new_link(
        self, actor: Account, user_id: int, borough_of: BoroughOf, *, by_email: bool
    ) -> tuple[Account, str, str]:
        """A fresh invitation (no password yet) or reset link for someone `actor` manages.

        A reset link that would be shown to the admin rather than emailed to its owner (`by_email`
        False: no mail set up) is made for site admins only: it lets whoever holds it become the user.
        """
        target = self.get(user_id)
        if target is None or not may_manage(actor, target, borough_of):
            raise NotAllowed("You can only send links to people you manage.")
        purpose = "reset" if target.has_password else "invite"
        if purpose == "reset" and not by_email and actor.role != Role.SITE_ADMIN:
            raise NotAllowed(SITE_ADMIN_RESETS.format(name=target.name))
        with self.store.session() as session:
            return target, purpose, self._issue(session, user_id, purpose, self.clock())

    def request_reset(self, email: str) -> tuple[Account, str] | None:
        """A reset link's secret for an active account, or None (no account, or asked too often)."""
        try:
            email = normalise_email(email)
        except FormErrors:
            return None
        now = self.clock()
        if not self.throttle.hit((self.limits.resets, self.throttle.key("reset", email))):
            return None
        with self.store.session() as session:
            user = _load(session, email=email)
            if user is None or not user.active:
                return None
            return Account.of(user), self._issue(session, user.id, "reset", now)

    def _issue(self, session: Session, user_id: int, purpose: str, now: datetime) -> str:
        """A new link's secret; the user's earlier unused links for the same purpose stop working."""
        self._spend_all(session, user_id, purpose, now)
        token = secrets.token_urlsafe(32)
        session.add(
            StaffToken(
                user_id=user_id,
                purpose=purpose,
                token_hash=_sha256(token),
                created_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
        )
        return token

    @staticmethod
    def _spend_all(session: Session, user_id: int, purpose: str, now: datetime) -> None:
        session.execute(
            update(StaffToken)
            .where(StaffToken.user_id == user_id, StaffToken.purpose == purpose, StaffToken.used_at.is_(None))
            .values(used_at=now)
        )

    def _token(self, session: Session, token: str, purpose: str, now: datetime) -> StaffToken:
        row = session.scalar(select(StaffToken).filter_by(token_hash=_sha256(token), purpose=purpose))
        kind = "invitation" if purpose == "invite" else "password reset"
        if row is None:
            raise LinkInvalid(f"This {kind} link is not valid. Check you copied all of it, or ask for a new one.")
        if row.used_at is not None:
            raise LinkSpent(f"This {kind} link has already been used. Ask for a new one.")
        if row.expires_at <= now:
            raise LinkSpent(f"This {kind} link has expired: links last 24 hours. Ask for a new one.")
        return row

    def link_account(self, token: str, purpose: str) -> Account:
        """Whose link this is, if it can still be used."""
        with self.store.reader() as session:
            row = self._token(session, token, purpose, self.clock())
            user = _load(session, id=row.user_id)
            assert user is not None
            return Account.of(user)

    def use_link(self, token: str, purpose: str, password: str, confirm: str) -> Account:
        """Set the password through a link, spending it; a reset also signs the user out everywhere."""
        now = self.clock()
        with self.store.session() as session:
            row = self._token(session, token, purpose, now)
            owner = _load(session, id=row.user_id)
            assert owner is not None
            check_new_password(password, confirm, known=(owner.email, owner.email.split("@")[0], *owner.name.split()))
            spent = session.execute(
                update(StaffToken).where(StaffToken.id == row.id, StaffToken.used_at.is_(None)).values(used_at=now)
            )
            if _rowcount(spent) != 1:  # another request used it first
                raise LinkSpent("This link has already been used. Ask for a new one.")
            user = _load(session, id=row.user_id)
            assert user is not None
            user.password_hash = hasher.hash(password)
            if purpose == "reset":
                user.session_generation += 1
                self._spend_all(session, user.id, "reset", now)
            _end_sessions(session, user.id)
            return Account.of(user)

    # -- signing in -------------------------------------------------------------------------------

    def _password_counts(self, email: str, address: str) -> tuple[tuple[tuple[RateLimitItem, ...], str], ...]:
        key = self.throttle.key
        limits = self.limits
        return (
            (limits.client_account, key("client-account", address, email)),
            (limits.client, key("client", address)),
            (limits.account, key("account", email)),
        )

    def sign_in(self, email: str, password: str, address: str) -> Account:
        """The account, if the password is right and none of its failure counts is full."""
        email = email.strip().lower()
        counts = self._password_counts(email, address)
        self.throttle.check(*counts)
        now = self.clock()
        with self.store.session() as session:
            user = _load(session, email=email)
            stored = user.password_hash if user is not None and user.active else None
            try:
                hasher.verify(stored or _dummy_hash(), password)
                ok = stored is not None
            except (VerificationError, InvalidHashError):
                ok = False
            if ok and user is not None:
                if stored is not None and hasher.check_needs_rehash(stored):  # ok implies a stored hash
                    user.password_hash = hasher.hash(password)
                user.last_login_at = now
                self.throttle.clear(*counts[0])  # this client's count for this account; never the code's
                return Account.of(user)
        self.throttle.hit(*counts)
        raise SignInRefused(SIGN_IN_REFUSED)

    def second_step(self, user_id: int, code: str, address: str) -> Account:
        """Check a TOTP code (never one already used) or spend a recovery code."""
        now = self.clock()
        code = "".join(code.split())
        counts = (self.limits.second_step, self.throttle.key("second-step", str(user_id)))
        self.throttle.check(counts)
        with self.store.session() as session:
            user = _load(session, id=user_id)
            if user is None or user.totp_secret is None or not user.active:
                raise SignInRefused("Sign in again.")
            if re.fullmatch(r"\d{6}", code):
                step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
                if step is not None:
                    used = session.execute(
                        update(StaffUser)
                        .where(
                            StaffUser.id == user.id,
                            or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
                        )
                        .values(totp_last_step=step)
                    )
                    if _rowcount(used) == 1:
                        session.expire(user, ["totp_last_step"])
                        self.throttle.clear(*counts)
                        return Account.of(user)
            elif code:
                hashes = json.loads(user.recovery_codes or "[]")
                if (wanted := _recovery_hash(code)) in hashes:
                    left = json.dumps([h for h in hashes if h != wanted])
                    spent = session.execute(
                        update(StaffUser)
                        .where(and_(StaffUser.id == user.id, StaffUser.recovery_codes == user.recovery_codes))
                        .values(recovery_codes=left)
                    )
                    if _rowcount(spent) == 1:
                        session.expire(user, ["recovery_codes"])
                        self.throttle.clear(*counts)
                        return Account.of(user)
        self.throttle.hit(counts)
        raise SignInRefused("That code is not right, or has been used. Enter the 6-digit code your app shows now.")

    def enrol_totp(self, user_id: int, secret: str, code: str) -> tuple[Account, list[str]]:
        """Turn on TOTP once the user proves their app holds `secret`; returns ten recovery codes."""
        now = self.clock()
        step = _matching_step(secret, "".join(code.split()), now, None)
        if step is None:
            raise FormErrors({"code": "That code is not right. Enter the 6-digit code your app shows now"})
        codes = [f"{c[:5]}-{c[5:]}" for c in (secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT))]
        with self.store.session() as session:
            user = _load(session, id=user_id)
            if user is None or user.totp_secret is not None:
                raise SignInRefused("Sign in again.")
            user.totp_secret = secret
            user.totp_last_step = step
            user.recovery_codes = json.dumps([_recovery_hash(c) for c in codes])
            return Account.of(user), codes

    def sign_out_everywhere(self, user_id: int) -> None:
        """Every session of this user ends, and any other kept against their old generation."""
        with self.store.session() as session:
            session.execute(
                update(StaffUser)
                .where(StaffUser.id == user_id)
                .values(session_generation=StaffUser.session_generation + 1)
            )
            _end_sessions(session, user_id)

    # -- disabling and cancelling ---------------------------------------------------------------------

    def set_active(self, actor: Account, user_id: int, active: bool, borough_of: BoroughOf) -> Account:
        """Disable (a leaver: every session ends now, and signing in is refused) or re-enable an account."""
        target = self.get(user_id)
        if target is None or target.id == actor.id or not may_manage(actor, target, borough_of):
            raise NotAllowed("You can only disable or re-enable other people you manage.")
        with self.store.session() as session:
            user = _load(session, id=user_id)
            assert user is not None
            user.active = active
            if not active:
                _end_sessions(session, user_id)
            session.flush()
            return Account.of(user)

    def cancel_invitation(self, actor: Account, user_id: int, borough_of: BoroughOf) -> Account:
        """Remove an account nobody has set a password for yet (a wrong invite): its links stop working."""
        target = self.get(user_id)
        if target is None or target.id == actor.id or not may_manage(actor, target, borough_of):
            raise NotAllowed("You can only cancel invitations of people you manage.")
        if target.has_password:
            raise NotAllowed(f"{target.name} has accepted the invitation: disable the account instead.")
        with self.store.session() as session:
            session.execute(delete(StaffToken).where(StaffToken.user_id == user_id))
            _end_sessions(session, user_id)
            user = _load(session, id=user_id)
            assert user is not None
            session.delete(user)
        return target

    # -- wards ------------------------------------------------------------------------------------

    def set_wards(self, actor: Account, user_id: int, text: str, borough_of: BoroughOf) -> Account:
        """Assign an editor's wards (a borough admin: an editor of theirs, within their borough)."""
        target = self.get(user_id)
        if target is None or target.role != Role.WARD_EDITOR or not may_manage(actor, target, borough_of):
            raise NotAllowed("You can only assign wards to ward editors you manage.")
        codes = parse_ward_codes(text)
        if problem := _unknown_wards(codes, borough_of) or _outside_borough(actor, codes, borough_of):
            raise FormErrors({"wards": problem})
        with self.store.session() as session:
            user = _load(session, id=user_id)
            assert user is not None
            user.wards = [StaffWard(ward_code=c) for c in codes]
            session.flush()
            return Account.of(user)


def _end_sessions(session: Session, user_id: int) -> None:
    """Every session of this user ends (finder.staff.sessions), in the caller's transaction."""
    session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


def _unknown_wards(codes: list[str], borough_of: BoroughOf) -> str | None:
    unknown = [c for c in codes if borough_of(c) is None]
    if unknown:
        return f"{', '.join(unknown)} is not a London ward code. Ward codes look like E05013806"
    return None


def _outside_borough(actor: Account, codes: list[str], borough_of: BoroughOf) -> str | None:
    """For a borough admin: the wards outside their borough, which they may not assign."""
    elsewhere = [c for c in codes if borough_of(c) != actor.borough_code]
    if actor.role == Role.BOROUGH_ADMIN and elsewhere:
        return f"You can only assign wards in your own borough, and {', '.join(elsewhere)} is not in it"
    return None


def _matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is `code`, if newer than `last_step`."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
