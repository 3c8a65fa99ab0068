"""The embeddable finder for council websites, and the page that writes the code to embed it.

/embed is the finder without site chrome, made to sit in an iframe on another site: a postcode
form, the result with team and contact routes, and a small map. Links that leave the widget open
in the host's window (the templates set `<base target="_top">`). Options come in the URL and are
validated before anything is shown, because they end up in links, CSS and the page language:

- borough=E09…  only that borough's results; a postcode elsewhere gets a link to the full finder
- lang=pl       the page language (en, pl, bn or ar; finder/i18n.py); without it, the resident's browser chooses
- accent=#rgb or #rrggbb  the colour of buttons and links
- map=0         no map
- parent=https://council.example  the host page's origin, so the widget sends its height there only

/embed/build ("Embed this finder") writes the snippet and the iframe code for a chosen borough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from finder.coverage.views import counted
from finder.errors import FinderError, InvalidInput
from finder.i18n import LANGUAGES, tr
from finder.lookup.boroughs import Borough, boroughs, within_borough
from finder.lookup.service import Answer, OutcodeAnswer, kept_postcodes
from finder.web import services
from finder.web.contrast import AA_TEXT, WHITE, contrast, readable_on_white, text_on
from finder.web.security import frameable

bp = Blueprint("embed", __name__, url_prefix="/embed")

DEFAULT_ACCENT = "#1d70b8"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


class InvalidOption(InvalidInput):
    """An embed option that is not one we accept (400)."""

    code = "invalid_option"


@dataclass(frozen=True)
class EmbedOptions:
    """The widget's validated options, carried through every link and form inside it."""

    borough: Borough | None = None
    lang: str | None = None  # None: the resident's browser chooses (Accept-Language)
    accent: str | None = None
    show_map: bool = True
    parent: str | None = None

    @property
    def params(self) -> dict[str, str]:
        """The options as URL parameters: only those that differ from the defaults."""
        params: dict[str, str] = {}
        if self.borough:
            params["borough"] = self.borough.code
        if self.lang:
            params["lang"] = self.lang
        if self.accent:
            params["accent"] = self.accent
        if not self.show_map:
            params["map"] = "0"
        if self.parent:
            params["parent"] = self.parent
        return params

    @property
    def accent_text(self) -> str:
        """Black or white, whichever reads better on the accent colour (buttons)."""
        return text_on(self.accent or DEFAULT_ACCENT)

    @property
    def accent_link(self) -> str:
        """The accent as a link colour on white: itself, or darkened until it reads at WCAG AA."""
        return readable_on_white(self.accent or DEFAULT_ACCENT)

    @property
    def accent_warning(self) -> str | None:
        """What the builder tells a council whose colour is too light for links on white."""
        accent = self.accent or DEFAULT_ACCENT
        if self.accent_link == accent:
            return None
        return (
            f"{accent} is too light to read as text on white (contrast {contrast(accent, WHITE):.1f}:1; "
            f"WCAG asks for {AA_TEXT:g}:1). The finder keeps it for borders and buttons, and shows links "
            f"in {self.accent_link}, a darker shade of it. Choose a darker colour to use yours everywhere."
        )


def parse_options(args: MultiDict[str, str]) -> EmbedOptions:
    """Validate the options in a query string; an empty value means the default."""
    known = boroughs(services().lookup.geo.wards)
    borough = None
    if code := args.get("borough", "").strip():
        borough = known.get(code.upper())
        if borough is None:
            raise InvalidOption(
                f"borough={code} is not a London borough code. Use a code like E09000033 (Westminster); "
                "the “Embed this finder” page lists them all."
            )
    lang = args.get("lang", "").strip().lower() or None
    if lang is not None and lang not in LANGUAGES:
        raise InvalidOption(f"lang={lang} is not available. Use one of: {', '.join(LANGUAGES)}.")
    accent = args.get("accent", "").strip() or None
    if accent is not None and not _HEX.match(accent):
        raise InvalidOption("accent must be a hex colour like #1d70b8 or #d4351c (with the #, written %23 in a URL).")
    show_map = args.get("map", "").strip() or "1"
    if show_map not in ("0", "1"):
        raise InvalidOption("map must be 0 (no map) or 1 (show the map).")
    accent = accent.lower() if accent and accent.lower() != DEFAULT_ACCENT else None
    return EmbedOptions(borough, lang, accent, show_map == "1", _parent(args))


def _parent(args: MultiDict[str, str]) -> str | None:
    """The host page's origin, given by embed.js: scheme, host and port, nothing more."""
    text = args.get("parent", "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.username
        or parts.password
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", parts.netloc)
    ):
        raise InvalidOption(
            "parent must be the origin of the page the finder is embedded in, like https://www.example.gov.uk"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _render(template: str, options: EmbedOptions, status: int = 200, **context: Any) -> tuple[str, int]:
    # The language switcher's links: this view with the validated options only, never a refused one.
    query = {"postcode": context["query"]} if context.get("query") else {}
    here = (request.endpoint or "embed.widget", {**(request.view_args or {}), **options.params, **query})
    return render_template(template, options=options, language_page=here, **context), status


@bp.errorhandler(FinderError)
def embed_error(error: FinderError):
    """Errors inside the widget stay inside the widget, without the site's header and footer."""
    try:
        options = parse_options(request.args) if not isinstance(error, InvalidOption) else EmbedOptions()
    except FinderError:
        options = EmbedOptions()
    return _render("embed/error.html", options, error.status, error=error)


@bp.get("")
@frameable
def widget():
    """The widget's first view: the postcode form."""
    return _render("embed/home.html", parse_options(request.args), query="")


@bp.get("/search")
@frameable
def search():
    """A postcode or outward code inside the widget, limited to the chosen borough if there is one."""
    options = parse_options(request.args)
    query = request.args.get("postcode", "")
    pasted = request.args.get("pasted") == "1"
    try:
        if pasted and not query.strip():
            raise InvalidInput(tr("We could not find a postcode in what you entered. Enter a postcode, like SW1A 2AA"))
        result = services().lookup.resolve(postcode=query)
    except FinderError as error:
        if error.details.get("found_in_text"):  # a pasted address stays out of the frame's address
            return redirect(url_for(".search", postcode=kept_postcodes(error), pasted="1", **options.params), 303)
        return _render("embed/home.html", options, error.status, query=query, error=error)
    if getattr(result, "found_in_text", False):
        return redirect(url_for(".search", postcode=result.postcode, pasted="1", **options.params), 303)
    return _show(counted(result, "embed"), options, query, pasted=pasted)


@bp.get("/wards/<code>")
@frameable
def ward(code: str):
    """A ward chosen from an outward code's list, inside the widget."""
    options = parse_options(request.args)
    return _show(counted(services().lookup.resolve(ward=code), "embed"), options, "")


def _show(result: Answer, options: EmbedOptions, query: str, *, pasted: bool = False) -> tuple[str, int]:
    """The result page, or the 'outside this borough' page that points to the full finder."""
    if options.borough:
        limited = within_borough(result, options.borough.code)
        if limited is None:
            return _render("embed/outside.html", options, result=result, query=query)
        result = limited
    if isinstance(result, OutcodeAnswer):
        return _render("embed/outcode.html", options, result=result, query=query)
    return _render("embed/result.html", options, result=result, query=query, pasted=pasted)


@bp.get("/build")
def build():
    """“Embed this finder”: choose a borough and colours, copy the code, see it working."""
    error = None
    try:
        options = parse_options(request.args)
    except InvalidOption as exc:
        options, error = EmbedOptions(), exc
    public = (current_app.config["PUBLIC_URL"] or request.host_url).rstrip("/")
    here = request.host_url.rstrip("/")
    body = render_template(
        "embed/build.html",
        options=options,
        error=error,
        boroughs=boroughs(services().lookup.geo.wards).values(),
        default_accent=DEFAULT_ACCENT,
        public_url=public,
        preview_url=here,
        ancestors=describe_ancestors(services().security.ancestors),
        embed_src=public + url_for("embed.widget", **_snippet_params(options)),
    )
    return body, 400 if error else 200


def describe_ancestors(sources: str) -> list[str]:
    """The frame-ancestors allow-list in words, for councils reading the builder page."""
    words = {"https:": "any site served over https", "http:": "any site served over http"}
    described = [words.get(source, source) for source in sources.split() if source != "'self'"]
    return described or ["only this finder's own pages"]


def _snippet_params(options: EmbedOptions) -> dict[str, str]:
    """The options a council's snippet carries (the parent origin is added by embed.js itself)."""
    return {k: v for k, v in options.params.items() if k != "parent"}
