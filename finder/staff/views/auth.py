"""Signing in and out, the second step, one-time links, the staff home and the users page.

An admin's password step starts a "pending" session (a row in the store that signs nobody in; the
TOTP secret being enrolled is kept on it, never in the cookie); the code from their authenticator
app, or enrolling one, ends it and starts the real one. Every sign-in starts a fresh session with a
new id, so a cookie planted before it signs nobody in.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from flask import (
    copy_current_request_context,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from finder.coverage.nudges import attention_for, unconfirmed_for
from finder.mail import MailError
from finder.staff.account import ROLE_NAMES, Account
from finder.staff.accounts import (
    AccountError,
    FormErrors,
    new_totp_secret,
    totp_uri,
)
from finder.staff.history import FIELDS
from finder.staff.permissions import may_edit
from finder.staff.views import (
    accounts,
    admin_required,
    borough_of,
    boroughs,
    bp,
    current_account,
    open_page,
    safe_next,
    staff_required,
    staff_sessions,
)
from finder.staff.views.wards import ENTITY_NAMES, actor, editing, ward_name
from finder.store.staff import Role
from finder.web import public_url, services

PENDING = "staff_pending"  # the pending session's id, after an admin's password, before their code
PENDING_NEXT = "staff_pending_next"
RESETS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finder-reset")  # one email at a time, in turn


def _field(name: str) -> str:
    value = request.form.get(name, "")
    return value if isinstance(value, str) else ""


def _address() -> str:
    return request.remote_addr or "unknown"


def _no_referrer(response: Any) -> Any:
    """Pages whose URL holds a one-time secret must not pass it on in a Referer header."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _start_session(account: Account) -> None:
    """A fresh session for this user: nothing from before signing in survives (session fixation)."""
    pending = session.get(PENDING)
    if isinstance(pending, str):
        staff_sessions().end(pending)
    session.clear()
    login_user(account.signed_in(staff_sessions().start(account)))


def _pending() -> tuple[str, Account] | None:
    """The admin between their password and their code, and their pending session's id, while it holds."""
    key = session.get(PENDING)
    if not isinstance(key, str):
        return None
    account = staff_sessions().check(key, pending=True)[0]
    return (key, account) if account is not None else None


# -- signing in ------------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@open_page
def sign_in() -> Any:
    if request.method == "GET":
        return render_template("admin/sign_in.html", email="", next=request.args.get("next", ""))
    email, next_page = _field("email"), _field("next")
    try:
        account = accounts().sign_in(email, _field("password"), _address())
    except AccountError as error:
        return render_template("admin/sign_in.html", error=error, email=email, next=next_page), error.status
    if not (account.is_admin or account.totp_enrolled or current_app.config["REQUIRE_TOTP_FOR_EDITORS"]):
        _start_session(account)  # an editor who has not set up an app, where the finder does not require one
        return redirect(safe_next(next_page))
    session.clear()
    session.update({PENDING: staff_sessions().start(account, pending=True), PENDING_NEXT: next_page})
    return redirect(url_for("admin.second_step" if account.totp_enrolled else "admin.enrol"))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@open_page
def second_step() -> Any:
    pending = _pending()
    if pending is None or not pending[1].totp_enrolled:
        return redirect(url_for("admin.sign_in"))
    account = pending[1]
    if request.method == "GET":
        return render_template("admin/second_step.html")
    try:
        account = accounts().second_step(account.id, _field("code"), _address())
    except AccountError as error:
        return render_template("admin/second_step.html", error=error), error.status
    next_page = session.get(PENDING_NEXT)
    _start_session(account)
    if account.recovery_codes_left < 3:
        flash(f"You have {account.recovery_codes_left} recovery codes left. Ask a site admin to reset your app.")
    return redirect(safe_next(next_page))


@bp.route("/sign-in/set-up-app", methods=["GET", "POST"])
@open_page
def enrol() -> Any:
    """First sign-in of an admin (or of an editor, where FINDER_REQUIRE_TOTP_FOR_EDITORS): add the app, get codes."""
    pending = _pending()
    if pending is None or pending[1].totp_enrolled:
        return redirect(url_for("admin.sign_in"))
    key, account = pending
    why = "Admins sign in" if account.is_admin else "This finder asks ward editors to sign in"
    return _enrol(key, account, f"{why} with their password and a code from an authenticator app on their phone.")


@bp.route("/account/set-up-app", methods=["GET", "POST"])
@staff_required
def enrol_offered() -> Any:
    """An editor signed in with their password alone adds an authenticator app: from then on it asks for a code."""
    account = current_account()
    if account.totp_enrolled:
        flash("Your authenticator app is already set up.")
        return redirect(url_for("admin.home"))
    assert account.session_key is not None  # staff_required: signed in through a session
    why = "Sign in with a code from an authenticator app as well as your password: someone who learns your password"
    return _enrol(account.session_key, account, f"{why} still cannot sign in as you.")


def _enrol(key: str, account: Account, why: str) -> Any:
    """The enrolment page for session `key`, whose TOTP secret is kept on the session's row, never in the cookie."""
    secret = staff_sessions().enrol_secret(key, new_totp_secret)
    error = None
    if request.method == "POST":
        try:
            account, codes = accounts().enrol_totp(account.id, secret, _field("code"))
        except FormErrors as failed:
            error = failed
        else:
            staff_sessions().end(key)  # the password-only (or pending) session: the new one follows the code
            _start_session(account)
            return render_template("admin/recovery_codes.html", codes=codes)
    # segno draws the QR code as SVG markup: no script, no data: URI, nothing from the user as markup.
    import segno  # here: 0.06 s of start-up for a page each officer sees once

    qr = Markup(segno.make(totp_uri(account.email, secret), error="m").svg_inline(scale=4, title="QR code"))
    page = render_template("admin/enrol.html", qr=qr, secret=secret, error=error, why=why, action=request.path)
    return page, 400 if error else 200


@bp.route("/sign-out", methods=["POST"])
@staff_required
def sign_out() -> Any:
    staff_sessions().end(current_user.session_key)  # a copy of the cookie signs nobody in from now on
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("admin.sign_in"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@staff_required
def sign_out_everywhere() -> Any:
    accounts().sign_out_everywhere(current_account().id)
    logout_user()
    session.clear()
    flash("You have signed out on every device and browser.")
    return redirect(url_for("admin.sign_in"))


# -- one-time links ----------------------------------------------------------------------------------


def _set_password(token: str, purpose: str) -> Any:
    try:
        account = accounts().link_account(token, purpose)
    except AccountError as refused:
        return _no_referrer(
            current_app.make_response(_message("This link cannot be used", refused.message, refused.status))
        )
    error: AccountError | None = None
    if request.method == "POST":
        try:
            accounts().use_link(token, purpose, _field("password"), _field("confirm"))
        except AccountError as failed:
            error = failed
        else:
            flash("Your password is set. Sign in with it now.")
            return redirect(url_for("admin.sign_in"))
    page = render_template("admin/set_password.html", account=account, purpose=purpose, error=error)
    return _no_referrer(current_app.make_response((page, error.status if error else 200)))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@open_page
def invitation(token: str) -> Any:
    return _set_password(token, "invite")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@open_page
def reset(token: str) -> Any:
    return _set_password(token, "reset")


@bp.route("/reset", methods=["GET", "POST"])
@open_page
def reset_request() -> Any:
    """Ask for a reset email. The answer is the same whether or not the account exists."""
    by_email = services().mailer is not None
    if request.method == "POST" and by_email:
        # Looked up and sent after the answer, so a real account's answer takes no longer than an unknown one's.
        RESETS.submit(copy_current_request_context(_send_reset), _field("email"))
        return render_template("admin/reset_request.html", by_email=True, sent=True)
    return render_template("admin/reset_request.html", by_email=by_email, sent=False)


def _send_reset(email: str) -> None:
    try:
        found = accounts().request_reset(email)
        if found is not None:
            _send_link(found[0], "reset", found[1])
    except MailError as error:
        current_app.logger.warning("password reset email not sent: %s", error)
    except Exception:  # nobody waits on this thread: what goes wrong is logged, or it is never seen
        current_app.logger.exception("password reset failed")


def _link_url(purpose: str, token: str) -> str:
    return public_url("admin.invitation" if purpose == "invite" else "admin.reset", token=token)


def _send_link(account: Account, purpose: str, token: str) -> None:
    """Email a link to its owner (MailError when the server will not take it)."""
    url = _link_url(purpose, token)
    if purpose == "invite":
        subject = "Your account on the London police team finder"
        opening = "You have been invited to keep your ward's police team details up to date."
    else:
        subject = "Reset your password for the London police team finder"
        opening = "Someone asked to reset the password of your account. If it was not you, ignore this email."
    body = (
        f"Hello {account.name},\n\n{opening}\n\nSet your password here (the link works once, within 24 hours):\n{url}\n"
    )
    mailer = services().mailer
    if mailer is None:
        raise MailError("this finder has no mail server (FINDER_SMTP_URL)")
    mailer.send(host=urlsplit(url).hostname, to=account.email, subject=subject, body=body)


def _deliver(account: Account, purpose: str, token: str) -> str | None:
    """Email the link when mail is set up; otherwise (or when sending fails) return it to show the admin.

    A reset link is shown to a site admin only (accounts.new_link): a borough admin is told to ask one.
    """
    if services().mailer is not None:
        try:
            _send_link(account, purpose, token)
        except MailError as error:
            if purpose == "reset" and current_account().role != Role.SITE_ADMIN:
                flash(f"The email could not be sent ({error}). Ask a site admin for a reset link.")
                return None
            flash(f"The email could not be sent ({error}). Pass this link on yourself instead.")
            return _link_url(purpose, token)
        flash(f"We have emailed {account.email} a link. It works once, within 24 hours.")
        return None
    return _link_url(purpose, token)


def _message(title: str, message: str, status: int = 200) -> tuple[str, int]:
    return render_template("admin/message.html", title=title, message=message), status


# -- the staff home and users -----------------------------------------------------------------------


def _editable_wards(account: Account) -> dict[str, list[tuple[str, str]]]:
    """Borough name -> [(ward code, ward name)] of the wards `account` may edit."""
    wards = services().lookup.geo.wards
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for ward in sorted(wards.wards, key=lambda w: (w.borough_name, w.name)):
        if may_edit(account, ward.code, borough_of):
            grouped[ward.borough_name].append((ward.code, ward.name))
    return dict(grouped)


@bp.route("/")
@staff_required
def home() -> Any:
    """The user's wards, and what became of the changes they saved lately (applied, waiting, rejected and why)."""
    account = current_account()
    recent = editing().submissions(actor(), limit=10)
    return render_template(
        "admin/home.html",
        account=account,
        wards=_editable_wards(account),
        recent=recent,
        ward_name=ward_name,
        editable=FIELDS,  # the fields recent changes name (not the stamps a save also writes)
        entity_names=ENTITY_NAMES,
        attention=attention_for(account),  # the weekly digest's list (finder send-digest emails it)
        unconfirmed=unconfirmed_for(account),  # and its wards nobody has confirmed, oldest first
        smtp=services().mailer is not None,
    )


def _wards_field() -> str:
    """The wards picked by name (one value each), or typed as codes: the service reads both as codes."""
    return " ".join(value for value in request.form.getlist("wards") if isinstance(value, str))


def personal_address(email: str) -> bool:
    """Whether an address is at a personal mailbox's domain (PERSONAL_EMAIL_DOMAINS): worth a warning, no more."""
    return email.rpartition("@")[2].strip().lower() in current_app.config["PERSONAL_EMAIL_DOMAINS"]


def _users_page(
    *,
    error: AccountError | None = None,
    link: str | None = None,
    link_for: Account | None = None,
    link_purpose: str = "invite",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    actor = current_account()
    people = accounts().users_for(actor, borough_of)
    page = render_template(
        "admin/users.html",
        actor=actor,
        people=people,
        invitations=accounts().invitations_sent(p.id for p in people if not p.has_password),
        ward_name=ward_name,
        ward_choices=_editable_wards(actor),
        personal=link_for is not None and personal_address(link_for.email),
        roles=ROLE_NAMES if actor.role == Role.SITE_ADMIN else {Role.WARD_EDITOR: ROLE_NAMES[Role.WARD_EDITOR]},
        boroughs=boroughs(),
        own_wards=_editable_wards(actor) if actor.role == Role.BOROUGH_ADMIN else {},
        shows_resets=actor.role == Role.SITE_ADMIN or services().mailer is not None,
        error=error,
        link=link,
        link_for=link_for,
        link_purpose=link_purpose,
        form=form or {"role": Role.WARD_EDITOR},
    )
    return page, status


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users() -> Any:
    """Everyone the admin manages, and the invitation form."""
    if request.method == "GET":
        return _users_page()
    form = {name: _field(name) for name in ("email", "name", "role", "borough_code")} | {"wards": _wards_field()}
    try:
        account, token = accounts().invite(current_account(), **form, borough_of=borough_of, boroughs=boroughs())
    except AccountError as error:
        return _users_page(error=error, form=form, status=error.status)
    return _users_page(link=_deliver(account, "invite", token), link_for=account)


@bp.route("/users/<int:user_id>/wards", methods=["POST"])
@admin_required
def user_wards(user_id: int) -> Any:
    try:
        account = accounts().set_wards(current_account(), user_id, _wards_field(), borough_of)
    except AccountError as error:
        return _users_page(error=error, status=error.status)
    flash(f"{account.name}'s wards are saved.")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/link", methods=["POST"])
@admin_required
def user_link(user_id: int) -> Any:
    """A new invitation (no password set yet) or password reset link for someone the admin manages."""
    try:
        by_email = services().mailer is not None
        account, purpose, token = accounts().new_link(current_account(), user_id, borough_of, by_email=by_email)
    except AccountError as error:
        return _users_page(error=error, status=error.status)
    if purpose == "invite":  # a re-sent invitation: its earlier link was spent as this one was made
        flash(f"A new invitation for {account.name} is made. The link sent before no longer works.")
    return _users_page(link=_deliver(account, purpose, token), link_for=account, link_purpose=purpose)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id: int) -> Any:
    """Disable a leaver's account (their sessions end at once) or re-enable it."""
    active = request.form.get("active") == "1"
    try:
        account = accounts().set_active(current_account(), user_id, active, borough_of)
    except AccountError as error:
        return _users_page(error=error, status=error.status)
    if active:
        flash(f"{account.name} can sign in again.")
    else:
        flash(f"{account.name}'s account is disabled: they were signed out everywhere and cannot sign in.")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/cancel", methods=["POST"])
@admin_required
def user_cancel(user_id: int) -> Any:
    """Cancel an invitation nobody has accepted: the account and its link are gone."""
    try:
        account = accounts().cancel_invitation(current_account(), user_id, borough_of)
    except AccountError as error:
        return _users_page(error=error, status=error.status)
    flash(f"The invitation to {account.name} ({account.email}) is cancelled: its link no longer works.")
    return redirect(url_for("admin.users"))
