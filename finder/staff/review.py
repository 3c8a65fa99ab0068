"""Review: whether a borough's editors' changes wait for an admin, and settling a change set that waits.

Approving replays the change set through the edit rules (finder.staff.editing's `_apply`) in the
same transaction as the approval, so the `Editing` service keeps `approve`/`reject` as short methods
over these helpers. This module knows nothing of the edit rules (editing builds on it, never the
other way round) and raises nothing: it answers, and the service turns answers into its errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from finder.staff.account import Account
from finder.staff.permissions import may_review
from finder.store.staff import BoroughSetting, Change, ChangeSet, Role
from finder.teams import validation as v


def borough_reviews(session: Session, borough_code: str) -> bool:
    """Whether editors' changes in this borough wait for an admin's approval."""
    setting = session.get(BoroughSetting, borough_code)
    return bool(setting and setting.review_required)


def boroughs_reviewing(session: Session) -> set[str]:
    """The boroughs whose editors' changes wait for an admin's approval (one query)."""
    found = select(BoroughSetting.borough_code).where(BoroughSetting.review_required.is_(True))
    return set(session.scalars(found))


def set_borough_review(session: Session, borough_code: str, required: bool, actor: Account, now: datetime) -> None:
    """Turn review on or off for a borough (who may is the caller's check: permissions.may_review)."""
    setting = session.get(BoroughSetting, borough_code)
    if setting is None:
        setting = BoroughSetting(borough_code=borough_code)
        session.add(setting)
    setting.review_required = required
    setting.changed_by = actor.id
    setting.changed_at = now


def needs_review(session: Session, actor: Account, borough: str | None) -> bool:
    """Whether this user's save waits for review: a ward editor's, in a borough that reviews."""
    if actor.role != Role.WARD_EDITOR or borough is None:
        return False
    return borough_reviews(session, borough)


def reason_problem(reason: str) -> str | None:
    """What is wrong with a rejection's reason (already stripped), or None: the editor must learn why."""
    if not reason:
        return "Enter a reason, so the editor knows what to change"
    if len(reason) > v.TEXT_LIMIT:
        return f"The reason must be {v.TEXT_LIMIT} characters or fewer"
    return None


def waiting_change_set(session: Session, change_set_id: int) -> ChangeSet | None:
    """The change set if it still waits (for review, or a sync conflict for the team); else None."""
    found = session.get(ChangeSet, change_set_id)
    return found if found is not None and found.status == "pending" else None


def may_decide(reviewer: Account, change_set: ChangeSet, borough: str | None) -> bool:
    """An admin for the ward's borough reviews editors' changes; a sync conflict is the team's to settle."""
    return change_set.source != "policeuk" and may_review(reviewer, borough)


def settle(
    change_set: ChangeSet,
    reviewer: Account,
    now: datetime,
    *,
    applied: list[Change] | None,
    reason: str | None = None,
    note: str | None = None,
) -> None:
    """Mark a waiting change set decided: `applied` (the changes its approval made) or rejected for `reason`."""
    if applied is not None:
        change_set.changes = applied
        change_set.status = "applied"
    else:
        change_set.status = "rejected"
        change_set.review_reason = reason
    if note:
        change_set.note = note
    change_set.reviewed_by, change_set.reviewed_at = reviewer.id, now


def claim_waiting(session: Session, change_set_id: int) -> ChangeSet | None:
    """The change set if it still waits, held for this transaction's decision (else None). Run first in the
    transaction: its no-op UPDATE locks the row until commit (SQLite: takes the write lock), so a withdrawal
    or a second reviewer meanwhile waits, then finds it settled, and never overwrites the decision."""
    held = session.execute(
        update(ChangeSet)
        .where(ChangeSet.id == change_set_id, ChangeSet.status == "pending")
        .values(status="pending")
        .execution_options(synchronize_session=False)
    )
    return session.get(ChangeSet, change_set_id) if held.rowcount == 1 else None  # type: ignore[attr-defined]


def withdraw_waiting(session: Session, change_set_id: int, actor: Account, now: datetime) -> bool:
    """Mark an editor's waiting change set withdrawn by `actor`; False if it is not waiting. One UPDATE that holds
    only while it is still pending, run first in the transaction like `claim_waiting`, so a withdrawal and a
    decision never both succeed."""
    still = (ChangeSet.id == change_set_id) & (ChangeSet.status == "pending") & (ChangeSet.source != "policeuk")
    done = session.execute(
        update(ChangeSet)
        .where(still)
        .values(status="withdrawn", reviewed_by=actor.id, reviewed_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


@dataclass
class Decided:
    """What one submit of the review page did: the change sets settled, and those that could not be, with why."""

    approved: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def decide_all(ids: Iterable[int], decide: Callable[[int], object], failures: tuple[type[Exception], ...]) -> Decided:
    """Settle each change set in turn with `decide` (the Editing service's approve, or reject with one reason).

    Each is its own transaction, as a single decision is: one that fails (`failures`: it changed since, or
    was settled by someone else meanwhile) is reported by its message and the others still go through."""
    done = Decided()
    for change_set_id in ids:
        try:
            saved = decide(change_set_id)
        except failures as error:
            done.failed.append((change_set_id, str(error)))
            continue
        (done.rejected if getattr(saved, "status", None) == "rejected" else done.approved).append(change_set_id)
    return done


__all__ = [
    "Decided",
    "borough_reviews",
    "boroughs_reviewing",
    "claim_waiting",
    "decide_all",
    "may_decide",
    "needs_review",
    "reason_problem",
    "set_borough_review",
    "settle",
    "waiting_change_set",
    "withdraw_waiting",
]
