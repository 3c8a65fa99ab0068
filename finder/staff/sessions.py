"""Staff sessions kept in the store, one row each, so that ending one takes effect everywhere. No Flask here.

The signed cookie holds only a random id (`secrets.token_urlsafe(32)`); the store keeps its SHA-256.
A session ends when its row is deleted (signing out; a password reset or "sign out everywhere" deletes
all of a user's), when the user's role or session generation is no longer the one it was granted
against, when the account is disabled, after `idle` without a request, and `lifetime` after sign-in.
Several workers and instances share the rows, so each of these holds on all of them at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from finder.staff.account import Account
from finder.store import Store
from finder.store.models import utcnow
from finder.store.staff import StaffSession, StaffUser

# last-seen is written at most this often: one UPDATE a minute per active session, not one per request
TOUCH_EVERY = timedelta(minutes=1)

IDLE, EXPIRED, GONE = "idle", "expired", "gone"  # why a session no longer signs anyone in


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class StaffSessions:
    """Sessions over one store, with the idle timeout and the absolute lifetime they obey."""

    def __init__(
        self, store: Store, *, idle: timedelta, lifetime: timedelta, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

    def start(self, account: Account, *, pending: bool = False) -> str:
        """A new session's id for `account` (`pending`: an admin who has still to give their code)."""
        key = secrets.token_urlsafe(32)
        now = self.clock()
        with self.store.session() as session:
            # Sessions nobody signed out of are cleared as others start: no sweeper to run.
            session.execute(
                delete(StaffSession).where(
                    or_(StaffSession.seen_at < now - self.idle, StaffSession.created_at < now - self.lifetime)
                )
            )
            session.add(
                StaffSession(
                    key_hash=_hash(key),
                    user_id=account.id,
                    role=account.role,
                    generation=account.session_generation,
                    pending=pending,
                    created_at=now,
                    seen_at=now,
                )
            )
        return key

    def check(self, key: str, *, pending: bool = False) -> tuple[Account | None, str | None]:
        """The session's account, or None and why (IDLE, EXPIRED or GONE). Notes the request as activity."""
        now = self.clock()
        with self.store.session() as session:
            found = session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.key_hash == _hash(key))
            ).one_or_none()
            if found is None:
                return None, GONE
            record, user = found
            reason = None
            if (
                record.pending != pending
                or not user.active
                or user.role != record.role
                or user.session_generation != record.generation
            ):
                reason = GONE
            elif now - record.created_at > self.lifetime:
                reason = EXPIRED
            elif now - record.seen_at > self.idle:
                reason = IDLE
            if reason is not None:
                if record.pending == pending:  # a pending session looked up as a full one is not this caller's
                    session.delete(record)
                return None, reason
            if now - record.seen_at >= TOUCH_EVERY:
                record.seen_at = now
            return Account.of(user), None

    def end(self, key: str) -> None:
        """This session ends (signing out)."""
        with self.store.session() as session:
            session.execute(delete(StaffSession).where(StaffSession.key_hash == _hash(key)))

    def enrol_secret(self, key: str, new_secret: Callable[[], str]) -> str:
        """The TOTP secret a pending session is enrolling, made on first asking and kept server-side."""
        with self.store.session() as session:
            session.execute(
                update(StaffSession)
                .where(StaffSession.key_hash == _hash(key), StaffSession.enrol_secret.is_(None))
                .values(enrol_secret=new_secret())
            )
            secret = session.scalar(select(StaffSession.enrol_secret).where(StaffSession.key_hash == _hash(key)))
        if secret is None:
            raise LookupError("no such session")
        return secret
