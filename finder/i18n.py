"""Residents' pages in their language: the shipped languages, and text translated where it is shown.

Staff pages and the JSON API stay English: the API's messages are data for programs (a `Text`
serialises as its English), and no Babel work runs on /api/. Which language a request gets is
finder/web/languages.py.

Messages built outside a request (the lookup's errors) are `Text`: English as a string, translated
only when a template shows it. Geo and the services use `tr`, so this module imports Flask only inside
`catalogue`, when a message is shown; choosing the language and Flask-Babel are finder/web/languages.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


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
