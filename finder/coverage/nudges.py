"""Nudges: residents tell the borough a ward has no published team; staff see what needs attention, and get it by email.

The report is a public form with no CSRF token (a resident has no session, and the finder sets them
no cookie): a browser's Sec-Fetch-Site or Origin must say it was sent from our own page, its body is
capped, all it can do is add one to a ward's count for the day, and each client address may
send NO_TEAM_RATE_LIMIT of them (finder/web/limits.py: memory, or Redis to share the count). Nothing about
the sender (address, browser, the page they came from) is kept. The rules live in
finder/staff/digest.py; this module renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from finder.coverage.service import MAXIMUM
from finder.coverage.views import coverage_report
from finder.errors import FinderError
from finder.i18n import tr
from finder.staff.account import Account
from finder.staff.digest import (
    Digest,
    DigestWard,
    UnconfirmedWard,
    attention_list,
    london_today,
    month_start,
    no_team_reports,
    report_no_team,
    unconfirmed_list,
)
from finder.store.models import utcnow
from finder.web import services
from finder.web.limits import limited

bp = Blueprint("nudges", __name__)


class ReportUnavailable(FinderError):
    """The store cannot take the report just now (503)."""

    status = 503
    code = "store_unavailable"


class CrossSiteReport(FinderError):
    """A report sent from another site's page (403)."""

    status = 403
    code = "cross_site_report"


class ReportTooLarge(FinderError):
    """A report with a body larger than the form ever sends (413)."""

    status = 413
    code = "report_too_large"


NO_TEAM_MAX_BODY = 1024  # bytes; the form sends its button alone


def _from_another_site() -> bool:
    """What the browser says of where the form was: Sec-Fetch-Site, else Origin against our own.

    This stands in for a CSRF token, which would need a session cookie no public page may set.
    A request with neither header comes from no modern browser's page, so no site can forge it."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin != request.host_url.rstrip("/")


def _already_told() -> str:
    return tr("Thank you: you have already told us several times. Nothing more is needed.")


@bp.post("/wards/<code>/no-team")
@limited("NO_TEAM_RATE_LIMIT", _already_told)
def no_team(code: str) -> Any:
    """Count one "this ward has no published team" for today, then thank the resident (303)."""
    if _from_another_site():
        raise CrossSiteReport(
            tr("Reports are taken from this finder's own pages only. Use the button on the ward's page.")
        )
    # A Content-Length over the cap is refused unread; a chunked body is read up to the cap and no further.
    request.max_content_length = NO_TEAM_MAX_BODY
    try:
        too_large = len(request.get_data()) >= NO_TEAM_MAX_BODY
    except RequestEntityTooLarge:
        too_large = True
    if too_large:
        raise ReportTooLarge(tr("This report is larger than the form sends. Use the button on the ward's page."))
    result = services().lookup.resolve(ward=code)  # 404 for an unknown ward
    if result.team_status == "loaded":  # a team was published meanwhile: show it
        return redirect(url_for("public.ward", code=result.ward.code), 303)
    teams = services().lookup.teams
    try:
        if result.team_status == "unavailable" or teams is None:
            raise SQLAlchemyError("the store is not answering")
        report_no_team(teams.store, result.ward.code, london_today(utcnow()))
    except SQLAlchemyError as exc:
        raise ReportUnavailable(tr("We could not pass on your report just now. Please try again in a minute.")) from exc
    return redirect(url_for(".no_team_thanks", code=result.ward.code), 303)


@bp.get("/wards/<code>/no-team/thanks")
def no_team_thanks(code: str) -> Any:
    """Where a report lands: what happens next, and the force's routes meanwhile."""
    ward = services().lookup.geo.wards.get(code)
    if ward is None:
        abort(404)
    return render_template("no_team_thanks.html", ward=ward, force=services().lookup.forces[ward.force_id])


# -- for staff: the dashboard, /admin/coverage and the emailed digest -------------------------------


def month_reports() -> dict[str, int]:
    """Ward code -> residents' no-team reports this month (London time)."""
    teams = services().lookup.teams
    return no_team_reports(teams.store, month_start(london_today(utcnow()))) if teams is not None else {}


def attention_for(account: Account) -> tuple[DigestWard, ...]:
    """The signed-in person's weekly list, as their dashboard shows it (the digest email's list)."""
    report, _ = coverage_report()
    threshold = current_app.config["DIGEST_THRESHOLD"]
    return attention_list(account.role, account.borough_code, account.wards, report, month_reports(), threshold)


def unconfirmed_for(account: Account) -> tuple[UnconfirmedWard, ...]:
    """The signed-in person's wards whose details nobody has confirmed, oldest first (as their digest lists them)."""
    report, _ = coverage_report()
    return unconfirmed_list(account.role, account.borough_code, account.wards, report)


def render_digest(digest: Digest) -> tuple[str, str, str]:
    """(subject, text, HTML) of one digest email; call inside a request context for absolute links.

    Untrusted text (ward names are trusted; team names and staff names are not) is only ever a
    template variable: escaped in the HTML part, literal in the text part (a .txt template).
    """
    count = len(digest.wards)
    subject = f"{count} of your wards need{'s' if count == 1 else ''} attention this week"
    context = {"digest": digest, "maximum": MAXIMUM}
    return subject, render_template("email/digest.txt", **context), render_template("email/digest.html", **context)


def init_app(app: Flask) -> None:
    """The report form's route (no CSRF check, which only staff forms have: no session to ride on);
    finder/web/limits.py checks its limit."""
    app.register_blueprint(bp)
