"""Residents' pages in their language: which language a request gets, and text translated where it is shown.

A page's language is `?lang=` when it names a shipped language (anything else is ignored), then the
browser's Accept-Language, then English; a `?lang=` is carried into every link and form of the
resident's pages, so a shared link keeps it. Staff pages and the JSON API stay English: the API's
messages are data for programs (a `Text` serialises as its English), and no Babel work runs on /api/.

Messages built outside a request (the lookup's errors) are `Text`: English as a string, translated
only when a template shows it. This module imports Flask only inside functions, so the services can
use `tr` without depending on the web layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from finder.headers import per_header_value

if TYPE_CHECKING:
    from babel import Locale
    from flask import Flask, Response
    from werkzeug.exceptions import HTTPException

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
RESIDENT_BLUEPRINTS = ("public", "embed", "teams", "coverage", "nudges")


@dataclass(frozen=True)
class Language:
    """A shipped language: its name in itself, and its writing direction."""

    name: str
    dir: str = "ltr"


LANGUAGES = {
    "en": Language("English"),
    "pl": Language("Polski"),
    "bn": Language("বাংলা"),
    "ar": Language("العربية", "rtl"),
}


class Text(str):
    """English text (what str(), JSON and logs see) that a template shows translated.

    Jinja escapes a value by calling its __html__, so `{{ error.message }}` shows the resident's
    language with no filter; the parameters (postcodes, place names) are escaped, never translated.
    """

    msgid: str
    plural: str | None
    n: int | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any], plural: str | None = None, n: int | None = None) -> Text:
        english = plural if plural is not None and n != 1 else msgid
        text = super().__new__(cls, english % params if params else english)
        text.msgid, text.plural, text.n, text.params = msgid, plural, n, params
        return text

    def translated(self) -> str:
        """The text in the current request's language (English outside a request)."""
        messages = catalogue()
        if self.plural is not None:
            return messages.ungettext(self.msgid, self.plural, self.n)
        return messages.ugettext(self.msgid)

    def plain(self) -> str:
        """Translated, unescaped, for places that escape for themselves (JSON in an attribute, vCards)."""
        params = {key: plain(value) for key, value in self.params.items()}
        return self.translated() % params if params else self.translated()

    def __html__(self) -> Markup:
        template = escape(self.translated())
        return template % self.params if self.params else template


def tr(msgid: str, **params: Any) -> Text:
    """Mark a message for translation (`pybabel extract -k tr`); %(name)s placeholders take `params`."""
    return Text(msgid, params)


def ntr(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A message with a singular and plural form, chosen by `n` (given to the placeholders as `n` too)."""
    return Text(singular, {"n": n, **params}, plural, n)


def joined(*parts: str) -> Text:
    """Sentences one after another, each translated on its own."""
    return Text(" ".join(f"%(p{i})s" for i in range(len(parts))), {f"p{i}": part for i, part in enumerate(parts)})


def plain(value: Any) -> Any:
    """A Text translated for the current request, anything else as it is."""
    return value.plain() if isinstance(value, Text) else value


def carried_lang() -> str | None:
    """The language named in this request's `?lang=`, if it is one we ship (asked for by every link made)."""
    from flask import request

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
    from flask import g, request

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
    from babel import Locale

    return Locale.parse(lang)


@per_header_value(maxsize=512)
def _best_language(accept_language: str) -> str:
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    return parse_accept_header(accept_language, LanguageAccept).best_match(LANGUAGES, "en")


def current_lang() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


@lru_cache(maxsize=1)
def reviewed_languages(directory: Path = TRANSLATIONS) -> frozenset[str]:
    """English, and each language whose messages.po header says `# X-Reviewed: yes` (read once).

    The flag sits in the header comment, which `pybabel update` keeps (it drops unknown header fields).
    """
    found = {"en"}
    for code in LANGUAGES:
        po = directory / code / "LC_MESSAGES" / "messages.po"
        header = po.read_text("utf-8").split('msgid ""', 1)[0] if po.exists() else ""
        if re.search(r"^# X-Reviewed: yes\s*$", header, re.MULTILINE | re.IGNORECASE):
            found.add(code)
    return frozenset(found)


def language_url(code: str, page: tuple[str, dict[str, Any]] | None = None) -> str:
    """This page (or `page`, an endpoint and its values) in another language."""
    from flask import request, url_for

    if page is not None:
        values: dict[str, Any] = {**page[1], "lang": code}
        return url_for(page[0], **values)
    if request.endpoint is None or request.blueprint not in RESIDENT_BLUEPRINTS:
        return url_for("public.home", lang=code)
    args: dict[str, Any] = {key: value for key, value in request.args.items() if key != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)


def translate(text: str) -> str:
    """Text from a reviewed data file (forces.json's routes) in the page's language; escaped where shown."""
    return catalogue().ugettext(text) if text else text


def catalogue() -> Any:
    """This request's messages, found once: Flask-Babel finds them afresh for every string (its domain, the
    locale and the locale's name each time), and a page shows about a hundred. Outside an app, English."""
    import flask  # here: geo and services use `tr` with no Flask; plain (no `from`): this runs for every string
    import flask_babel  # likewise

    if not flask.has_app_context():
        return flask_babel.get_translations()
    found = flask.g.get("finder_catalogue")
    if found is None:
        found = flask.g.finder_catalogue = flask_babel.get_translations()
    return found


def date_words(day: date | str) -> str:
    """A date as the page's language writes it, like 1 December 2026 (CLDR month names, through Babel)."""
    from babel.dates import format_date
    from flask_babel import get_locale

    return format_date(date.fromisoformat(day) if isinstance(day, str) else day, "d MMMM y", locale=get_locale())


def error_title(status: int | None) -> str:
    from flask_babel import gettext as _

    return _("Page not found") if status == 404 else _("Sorry, there is a problem")


def error_description(error: HTTPException) -> str:
    """An HTTP error's own description when the finder wrote one, else a translated one for its status."""
    from flask_babel import gettext as _

    if error.description != type(error).description:
        return error.description or ""
    return {
        400: _("The request could not be understood. Check the address, or search by postcode."),
        404: _("We could not find that page. Check the address, or search by postcode."),
        405: _("That page cannot be used that way. Search by postcode instead."),
        503: _("This finder is not available just now. Please try again in a minute."),
    }.get(error.code or 500, _("Something went wrong on our side. Please try again in a minute."))


def extract_forces(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extractor for forces.json: each route's label and when to use it, and values that are words."""
    data = json.load(fileobj)
    routes = [*data["shared_routes"].values()]
    routes += [route for force in data["forces"].values() for route in force["routes"] if isinstance(route, dict)]
    for route in routes:
        yield 0, None, route["label"], ["forces.json: a contact route's name"]
        yield 0, None, route["use_when"], ["forces.json: when to use the route. Keep every number exactly."]
        if any(char.isalpha() for char in route["value"]) and " " in route["value"]:
            yield 0, None, route["value"], ["forces.json: what to dial or type. Keep every number exactly."]


def init_app(app: Flask) -> None:
    """Flask-Babel with the finder's catalogues, the language in templates, links and Vary."""
    from flask import g, has_request_context, request
    from flask_babel import Babel

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
