"""Residents' pages in their language, the web's half: which language a request gets, and Flask-Babel.

A page's language is `?lang=` when it names a shipped language (anything else is ignored), then the
browser's Accept-Language, then English; a `?lang=` is carried into every link and form of the
resident's pages, so a shared link keeps it. Staff pages and the JSON API stay English. The messages
themselves (`tr`, `Text`) are finder/i18n.py's, which geo and the services use without Flask.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from flask import Flask, Response, g, has_request_context, request, url_for
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from finder.headers import per_header_value
from finder.i18n import LANGUAGES, TRANSLATIONS, catalogue, reviewed_languages

RESIDENT_BLUEPRINTS = ("public", "embed", "teams", "coverage", "nudges")  # the pages shown in a resident's language


def carried_lang() -> str | None:
    """The language named in this request's `?lang=`, if it is one we ship (asked for by every link made)."""
    if not request.environ.get("QUERY_STRING"):  # most views: no need to parse the query
        return None
    lang = request.args.get("lang", "").strip().lower()
    return lang if lang in LANGUAGES else None


def select_language() -> str:
    """This request's language: `?lang=`, then Accept-Language, then English; staff pages are always English.

    An Accept-Language header is read once per distinct value: reading it cost more than the rest of a
    kept ward page's answer. A kept page's key asks here rather than Flask-Babel, which reads `g` and the
    app through Flask's proxies and spells the Locale out again.
    """

    if request.blueprint not in RESIDENT_BLUEPRINTS and request.endpoint is not None:
        return "en"
    lang = carried_lang()
    if lang:
        return lang
    g.finder_lang_from_header = True
    return _best_language(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))


def select_locale() -> Locale:
    """Flask-Babel's locale selector: `select_language`'s, each shipped language's Locale made once."""
    return _locale(select_language())


@lru_cache(maxsize=len(LANGUAGES))
def _locale(lang: str) -> Locale:

    return Locale.parse(lang)


@per_header_value(maxsize=512)
def _best_language(accept_language: str) -> str:

    return parse_accept_header(accept_language, LanguageAccept).best_match(LANGUAGES, "en")


def current_lang() -> str:

    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def language_url(code: str, page: tuple[str, dict[str, Any]] | None = None) -> str:
    """This page (or `page`, an endpoint and its values) in another language."""

    if page is not None:
        values: dict[str, Any] = {**page[1], "lang": code}
        return url_for(page[0], **values)
    if request.endpoint is None or request.blueprint not in RESIDENT_BLUEPRINTS:
        return url_for("public.home", lang=code)
    args: dict[str, Any] = {key: value for key, value in request.args.items() if key != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)


def english_marker(lang: str) -> Markup:
    """The attributes for text officers or police.uk wrote, which stays English on a translated page (WCAG 3.1.2)."""
    if lang == "en":
        return Markup("")
    return Markup(' lang="en" dir="ltr"') if LANGUAGES[lang].dir == "rtl" else Markup(' lang="en"')


def translate(text: str) -> str:
    """Text from a reviewed data file (forces.json's routes) in the page's language; escaped where shown."""
    return catalogue().ugettext(text) if text else text


def date_words(day: date | str) -> str:
    """A date as the page's language writes it, like 1 December 2026 (CLDR month names, through Babel)."""
    return format_date(date.fromisoformat(day) if isinstance(day, str) else day, "d MMMM y", locale=get_locale())


def month_words(day: date | str) -> str:
    """A month as the page's language writes it, like March 2026."""
    return format_date(date.fromisoformat(day) if isinstance(day, str) else day, "MMMM y", locale=get_locale())


def error_title(status: int | None) -> str:

    return _("Page not found") if status == 404 else _("Sorry, there is a problem")


def error_description(error: HTTPException) -> str:
    """An HTTP error's own description when the finder wrote one, else a translated one for its status."""

    if error.description != type(error).description:
        return error.description or ""
    return {
        400: _("The request could not be understood. Check the address, or search by postcode."),
        404: _("We could not find that page. Check the address, or search by postcode."),
        405: _("That page cannot be used that way. Search by postcode instead."),
        503: _("This finder is not available just now. Please try again in a minute."),
    }.get(error.code or 500, _("Something went wrong on our side. Please try again in a minute."))


def init_app(app: Flask) -> None:
    """Flask-Babel with the finder's catalogues, the language in templates, links and Vary."""

    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    # jinja2.ext.i18n (which Flask-Babel adds) puts install_gettext_callables on the environment at run time
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.add_template_filter(translate)
    app.add_template_filter(date_words)
    app.add_template_filter(month_words)
    app.add_template_global(error_title)
    app.add_template_global(error_description)

    @app.url_defaults
    def keep_language(endpoint: str, values: dict[str, Any]) -> None:
        """A `?lang=` the resident chose follows them to every resident page they go on to."""
        if "lang" in values or not has_request_context() or endpoint.split(".")[0] not in RESIDENT_BLUEPRINTS:
            return
        lang = carried_lang()
        if lang:
            values["lang"] = lang

    @app.context_processor
    def language() -> dict[str, Any]:
        lang = current_lang()
        return {
            "lang": lang,
            "lang_dir": LANGUAGES[lang].dir,
            "languages": LANGUAGES,
            "carried_lang": carried_lang(),
            "language_url": language_url,
            "unreviewed": lang not in reviewed_languages(),
            "english": english_marker(lang),
        }

    @app.after_request
    def vary_on_language(response: Response) -> Response:
        """A page whose language came from the browser's header differs by that header."""
        if (
            g.get("finder_lang_from_header")
            and "Accept-Language" not in response.headers.get("Vary", "")  # a kept page says so itself
            and not request.path.startswith("/api/")
        ):
            response.vary.add("Accept-Language")
        return response
