"""The staff area, /admin: sign-in, accounts, and the checks every staff view must carry.

Every view of this blueprint is marked with one of the decorators below, and a view that is not is
refused (403) before it runs; tests/web/test_admin_routes_meta.py walks the url_map to prove it:
- `staff_required`: signed in, and for admins the second step (TOTP) done.
- `admin_required`: as above, and a borough or site admin.
- `ward_required`: as `staff_required`, and the user may edit the URL's `<ward_code>` (`require_ward`).
- `open_page`: the few pages for people not yet signed in (sign-in, second step, links).

Each staff session is a row in the store (finder/staff/sessions.py); Flask's signed cookie
holds only its random id, which Flask-Login keeps as the "user id" and loads through `_load_user`.
Signing out deletes the row, so a copied cookie stops working; a password reset, "sign out
everywhere", a role change or disabling the account ends every session of that user; a session
also ends after STAFF_IDLE_MINUTES without a request and STAFF_SESSION_HOURS after sign-in. Every
POST in the app needs a CSRF token (Flask-WTF) except the JSON API, which takes no cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import BaseLoader, ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy.exc import SQLAlchemyError

from finder.lookup.boroughs import boroughs as all_boroughs
from finder.staff.account import Account
from finder.staff.accounts import Accounts
from finder.staff.permissions import may_edit
from finder.staff.sessions import EXPIRED, IDLE, StaffSessions
from finder.store import Store
from finder.web import services
from finder.web.limits import sign_in_limiter

bp = Blueprint("admin", __name__, url_prefix="/admin")
login_manager = LoginManager()
csrf = CSRFProtect()

SESSION_ENDED = "staff_session_ended"  # g: why the cookie's session no longer signs anyone in

F = TypeVar("F", bound=Callable[..., Any])


# -- what the views use ----------------------------------------------------------------------------


def staff_store() -> Store:
    """The store the resident pages read teams from: staff edits land where residents look."""
    teams = services().lookup.teams
    if teams is None:
        raise RuntimeError("the staff area needs the team store (the lookup was built without one)")
    return teams.store


def accounts() -> Accounts:
    return Accounts(staff_store(), secret=current_app.config["SECRET_KEY"], limiter=sign_in_limiter())


def staff_sessions() -> StaffSessions:
    config = current_app.config
    return StaffSessions(
        staff_store(),
        idle=timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
        lifetime=timedelta(hours=config["STAFF_SESSION_HOURS"]),
    )


def borough_of(ward_code: str) -> str | None:
    """A ward's borough code, or None when there is no such ward."""
    ward = services().lookup.geo.wards.get(ward_code)
    return ward.borough_code if ward else None


def boroughs() -> dict[str, str]:
    """Every borough, code -> name, in name order."""
    return {code: b.name for code, b in all_boroughs(services().lookup.geo.wards).items()}


def current_account() -> Account:
    """The signed-in user (only in views marked staff_required, admin_required or ward_required)."""
    return cast(Account, current_user)  # Flask-Login's proxy to the Account that _load_user returned


def require_ward(user: Account, ward_code: str) -> None:
    """404 for no such ward; 403 unless `user` may edit it (permissions.may_edit)."""
    if borough_of(ward_code) is None:
        abort(404, description=f"There is no ward with the code {ward_code}.")
    if not may_edit(user, ward_code, borough_of):
        abort(403, description="You cannot edit this ward. Ask your borough admin if you should.")


def _mark(view: F, check: str) -> F:
    view.staff_check = check  # type: ignore[attr-defined]
    return view


def open_page(view: F) -> F:
    """For pages anyone may open (sign-in and one-time links): they check what they need themselves."""
    return _mark(view, "open")


def _signed_in_check() -> Any:
    """A redirect to sign in (or to finish the second step), or None when the user may go on."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def staff_required(view: F) -> F:
    """Signed in, with the second step done for admins."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        return _signed_in_check() or view(*args, **kwargs)

    return _mark(cast(F, checked), "staff")  # wraps keeps the view's signature


def admin_required(view: F) -> F:
    """Signed in as a borough or site admin, second step done."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if refusal := _signed_in_check():
            return refusal
        if not current_account().is_admin:
            abort(403, description="Only borough and site admins can do this.")
        return view(*args, **kwargs)

    return _mark(cast(F, checked), "admin")  # wraps keeps the view's signature


def ward_required(view: F) -> F:
    """Signed in, and allowed to edit the ward named by the URL's `ward_code`."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if refusal := _signed_in_check():
            return refusal
        require_ward(current_account(), kwargs["ward_code"])
        return view(*args, **kwargs)

    return _mark(cast(F, checked), "ward")  # wraps keeps the view's signature


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a staff page of ours, never another site, nor a line break (no header holds it)."""
    safe = target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target
    if safe and target and target.isprintable():  # `target and`: for mypy, which does not follow `safe`
        return target
    return url_for("admin.home")


# -- every request to /admin -------------------------------------------------------------------------


@bp.before_request
def _before_staff_request() -> Any:
    """Check the form's CSRF token; refuse views without a check; say so when a session has timed out."""
    if current_app.config["WTF_CSRF_ENABLED"]:  # only staff forms ride on a session (init_app: CHECK_DEFAULT off)
        csrf.protect()
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and not getattr(view, "staff_check", None):
        abort(403, description="This page has no access check, so nobody may use it.")
    if current_user.is_authenticated:  # loads the session's row (_load_user): the one check per request
        return None
    ended = g.pop(SESSION_ENDED, None)
    if ended in (IDLE, EXPIRED):
        if ended == IDLE:
            reason = f"did nothing for {current_app.config['STAFF_IDLE_MINUTES']:g} minutes"
        else:
            reason = f"signed in over {current_app.config['STAFF_SESSION_HOURS']:g} hours ago"
        flash(f"You were signed out because you {reason}. Sign in again.")
        return redirect(url_for("admin.sign_in"))
    return None


@bp.context_processor
def _staff_template_globals() -> dict[str, Any]:
    return {"current_user": current_user}


@bp.after_request
def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(SQLAlchemyError)
def _store_unavailable(error: SQLAlchemyError) -> Any:
    current_app.logger.warning("staff area: the store failed: %s", type(error).__name__)
    message = "The staff area cannot reach its database right now. Try again in a minute."
    return render_template("admin/message.html", title="Try again later", message=message), 503


def _csrf_refused(error: CSRFError) -> Any:
    message = (
        "This form could not be accepted: it was open too long, or was sent from somewhere else. "
        "Go back, reload the page and try again."
    )
    return render_template("admin/message.html", title="Try again", message=message), 400


# -- set-up ---------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Sessions, CSRF and the staff blueprint (its views' modules are imported by create_app first).

    Settings that could never work stop the app here."""
    if not app.config.get("SECRET_KEY"):
        raise ValueError(
            "SECRET_KEY must be set in production: a long random value, like the output of "
            "python3 -c 'import secrets; print(secrets.token_hex(32))', the same for every worker. "
            "It signs staff sessions and form tokens."
        )
    # Only staff pages read the session (finder.web.security.StaffOnlySessions): elsewhere Flask-Login
    # and Flask-WTF see Flask's null session, so public pages and the API neither vary by cookie nor set one.
    login_manager.init_app(app, add_context_processor=False)
    login_manager.login_view = "admin.sign_in"
    login_manager.login_message = "Sign in to see that page."
    # Every staff form posted carries its CSRF token, checked by the staff blueprint's own before_request
    # (Flask-WTF's documented selective use), so residents' pages and the API, which take no session and
    # so have nothing to forge, skip the check's work on each request (issue 27).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    # The staff pages are built from GOV.UK Frontend's components: govuk-frontend-jinja's macros and
    # govuk-frontend-wtf's widgets, loaded under their package names as both packages document.
    govuk = PrefixLoader({name: PackageLoader(name) for name in ("govuk_frontend_jinja", "govuk_frontend_wtf")})
    own: list[BaseLoader] = [app.jinja_loader] if app.jinja_loader is not None else []
    app.jinja_loader = ChoiceLoader([*own, govuk])
    WTFormsHelpers(app)
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _csrf_refused)


@login_manager.user_loader
def _load_user(session_key: str) -> Account | None:
    """The session's user, while its row in the store still holds (StaffSessions.check says why not)."""
    account, ended = staff_sessions().check(session_key)
    if account is None:
        session.clear()  # the cookie's session is over: nothing of it is kept
        g.setdefault(SESSION_ENDED, ended)
        return None
    return account.signed_in(session_key)
