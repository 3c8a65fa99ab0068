"""Email that follows the work, rendered and sent (finder/staff/notices.py decides who hears what).

Untrusted text (staff names, reasons, what editors typed) is only ever a template variable: escaped in the
HTML part, literal in the text part (a .txt template), and never in a Subject line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from logging import Logger
from urllib.parse import urlsplit

from flask import current_app, render_template

from finder.mail import Mailer, MailError
from finder.staff.account import Account
from finder.staff.notices import Outcome, Waiting, outcomes
from finder.web import public_url, services

# Review outcomes are sent after the answer, one at a time, so a slow mail server never holds up the reviewer.
OUTCOMES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finder-outcomes")
WardName = Callable[[str], tuple[str, str]]


def _count(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what}s"


def render_outcome(outcome: Outcome, *, ward_name: WardName, entity_names: Mapping[str, str]) -> tuple[str, str, str]:
    """(subject, text, HTML) telling an editor what became of their changes; inside a request context."""
    parts = [f"{len(outcome.approved)} approved"] if outcome.approved else []
    parts += [f"{len(outcome.rejected)} rejected"] if outcome.rejected else []
    subject = f"Your {'change was' if len(outcome.approved + outcome.rejected) == 1 else 'changes were'} reviewed: "
    context = {"outcome": outcome, "ward_name": ward_name, "entity_names": entity_names, "link": public_url}
    return (
        subject + ", ".join(parts),
        render_template("email/review_outcome.txt", **context),
        render_template("email/review_outcome.html", **context),
    )


def render_waiting(waiting: Waiting, *, ward_name: WardName, borough_name: str) -> tuple[str, str, str]:
    """(subject, text, HTML) of a borough admin's reminder of changes waiting for review; inside a request context."""
    count = len(waiting.entries)
    subject = f"{_count(count, 'change')} {'waits' if count == 1 else 'wait'} for your review in {borough_name}"
    context = {"waiting": waiting, "ward_name": ward_name, "borough_name": borough_name, "link": public_url}
    return (
        subject,
        render_template("email/review_waiting.txt", **context),
        render_template("email/review_waiting.html", **context),
    )


def tell_editors(
    reviewer: Account,
    approved: list[int],
    rejected: list[int],
    *,
    ward_name: WardName,
    entity_names: Mapping[str, str],
) -> None:
    """Email each editor what this review did to their changes, after the answer; nothing without mail set up."""
    mailer = services().mailer
    if mailer is None or not (approved or rejected):
        return
    store = services().lookup.teams
    assert store is not None  # the staff area runs only with the team store
    host = urlsplit(public_url("admin.home")).hostname
    for outcome in outcomes(store.store, reviewer.id, approved, rejected):
        subject, text, html = render_outcome(outcome, ward_name=ward_name, entity_names=entity_names)
        OUTCOMES.submit(_send, mailer, current_app.logger, host, outcome.email, subject, text, html)


def _send(mailer: Mailer, logger: Logger, host: str | None, to: str, subject: str, text: str, html: str) -> None:
    try:
        mailer.send(host=host, to=to, subject=subject, body=text, html=html)
    except MailError as error:
        logger.warning("review outcome email not sent: %s", error)
    except Exception:  # nobody waits on this thread: what goes wrong is logged, or it is never seen
        logger.exception("review outcome email failed")
