"""Resident pages in Polish, Bengali and Arabic: choosing the language, keeping it, and safe, complete catalogues.

The pseudo-locale test builds a catalogue at test time from messages.pot in which every message reads
"[!! <the English> !!]", serves it as Arabic, and renders every kind of resident page: once the
markers and the data (ward, team and place names, postcodes, links) are taken out, no English word
may be left. A string someone forgot to mark, or to extract into the .pot, shows up as English there.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from finder import create_app
from finder.config import ROOT
from finder.errors import FinderError
from finder.i18n import LANGUAGES, TRANSLATIONS, Text, reviewed_languages
from finder.lookup.service import ContactRoute, Lookup, WardAnswer, load_forces
from tests.store.teamdata import NO_TEAM_WARD, SAMPLE_POSTCODE, SAMPLE_WARD, team_lookup, team_store

SHIPPED = [code for code in LANGUAGES if code != "en"]
FORCE_NAMES = {name for force in load_forces().values() for name in (force.name, force.short_name)}
POT = TRANSLATIONS / "messages.pot"
PSEUDO = "ar"  # served under a shipped code; Arabic's own dates and times have no Latin letters
MARKER = re.compile(r"\[!! (?:(?!\[!! ).)*? !!\]", re.S)  # an innermost marker: translations nest
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TEXT_ATTRIBUTES = (
    "aria-label",
    "title",
    "alt",
    "placeholder",
    "data-ask",
    "data-ask-button",
    "data-finding",
    "data-failed",
)


@pytest.fixture(scope="module")
def teams_lookup(geodata) -> Lookup:
    return team_lookup(geodata, team_store())


def app_with(lookup: Lookup, translations: Path | None = None):
    config = {"ENV_NAME": "testing"}
    if translations is not None:
        config["BABEL_TRANSLATION_DIRECTORIES"] = str(translations)
    app = create_app(config, lookup=lookup)
    return app


@pytest.fixture()
def client(teams_lookup):
    return app_with(teams_lookup).test_client()


# --- choosing the language and keeping it ------------------------------------------------------


def html_lang(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]*)" dir="([^"]*)">', html)
    assert match, html[:200]
    return match.group(1), match.group(2)


def test_a_page_is_in_english_when_the_browser_asks_for_nothing_we_ship(client) -> None:
    response = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})

    assert html_lang(response.get_data(as_text=True)) == ("en", "ltr")
    assert "Find your local police team" in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]


def test_the_browsers_accept_language_chooses_the_language_when_the_address_has_no_lang(client) -> None:
    response = client.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    html = response.get_data(as_text=True)

    assert html_lang(html) == ("pl", "ltr")
    assert "Znajdź swój lokalny zespół policji" in html
    assert "Accept-Language" in response.headers["Vary"]


def test_lang_in_the_address_wins_over_the_browser_and_the_page_then_does_not_vary_by_it(client) -> None:
    response = client.get("/?lang=bn", headers={"Accept-Language": "pl"})

    assert html_lang(response.get_data(as_text=True)) == ("bn", "ltr")
    assert "Accept-Language" not in response.headers.get("Vary", "")


def test_arabic_pages_are_right_to_left(client) -> None:
    assert html_lang(client.get("/?lang=ar").get_data(as_text=True)) == ("ar", "rtl")
    assert html_lang(client.get("/embed?lang=ar").get_data(as_text=True)) == ("ar", "rtl")


@pytest.mark.parametrize("lang", ["xx", "EN-GB", "", "ar;q=1", '"><script>alert(1)</script>', "{{7*7}}"])
def test_an_unknown_or_hostile_lang_is_ignored_and_never_reflected(client, lang) -> None:
    response = client.get("/search", query_string={"postcode": SAMPLE_POSTCODE, "lang": lang})
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert html_lang(html) == ("en", "ltr")
    assert "<script>alert" not in html and "{{7*7}}" not in html and "49" not in re.findall(r"\d+", html[:300])
    assert 'name="lang"' not in html  # nothing to carry on


def test_the_chosen_language_is_kept_from_the_form_to_the_result_and_its_links(client) -> None:
    home = client.get("/?lang=bn").get_data(as_text=True)
    assert '<input type="hidden" name="lang" value="bn">' in home

    html = client.get("/search", query_string={"postcode": SAMPLE_POSTCODE, "lang": "bn"}).get_data(as_text=True)

    assert html_lang(html) == ("bn", "ltr")
    assert f'data-address="/wards/{SAMPLE_WARD}?lang=bn"' in html  # the address bar keeps the language
    assert '<input type="hidden" name="lang" value="bn">' in html  # "Search again"
    neighbours = re.findall(r'href="(/wards/E05\d+[^"]*)"', html[html.index("</nav>") :])  # after the switcher
    assert neighbours and all(link.endswith("lang=bn") for link in neighbours if not link.endswith("/poster"))
    assert f'href="/wards/{SAMPLE_WARD}/team.vcf?lang=bn"' in html


def test_the_switcher_is_plain_links_and_never_carries_a_searched_postcode(client) -> None:
    html = client.get("/search", query_string={"postcode": SAMPLE_POSTCODE}).get_data(as_text=True)
    switcher = html[html.index('<nav class="languages"') : html.index("</nav>")]

    links = dict(re.findall(r'href="([^"]+)" lang="(\w+)"', switcher))
    assert sorted(links.values()) == sorted(LANGUAGES)
    assert all(href.startswith(f"/wards/{SAMPLE_WARD}?lang=") for href in links)  # the ward, not ?postcode=
    assert "SW1A" not in switcher


def test_the_embed_keeps_its_language_and_switches_inside_the_frame(client) -> None:
    html = client.get(f"/embed/search?postcode={SAMPLE_POSTCODE}&lang=pl").get_data(as_text=True)

    assert html_lang(html) == ("pl", "ltr")
    assert 'href="/embed?lang=pl"' in html  # "Search for another postcode"
    switcher = html[html.index('<nav class="languages"') : html.index("</nav>")]
    assert switcher.count('target="_self"') == len(LANGUAGES)
    assert "/embed/search?" in switcher and "lang=ar" in switcher


def test_the_map_takes_its_words_and_the_locate_address_from_the_page(client) -> None:
    html = client.get(f"/wards/{SAMPLE_WARD}?lang=pl").get_data(as_text=True)

    assert 'data-ask="Sprawdzić to miejsce?"' in html and 'data-ask-button="Sprawdź to miejsce"' in html
    assert 'data-locate="/locate?lang=pl"' in html
    script = (ROOT / "static" / "map.js").read_text("utf-8")
    assert "Look up this place" not in script.replace('("Look up this place?")', "")  # only in a comment
    assert "/locate?" not in script


def test_use_my_location_keeps_the_language_through_its_redirect(client) -> None:
    response = client.get("/locate?lat=51.5014&lon=-0.1419&lang=ar")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("from=location&lang=ar") or "lang=ar" in response.headers["Location"]


def test_a_translation_not_yet_reviewed_says_so_in_its_language_and_in_english(client) -> None:
    polish = client.get("/?lang=pl").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)

    assert "To tłumaczenie nie zostało jeszcze sprawdzone przez rodzimego użytkownika języka." in polish
    assert '<p lang="en" dir="ltr">This translation has not yet been reviewed by a native speaker.' in polish
    assert 'href="/about?lang=pl#report-a-mistake"' in polish
    assert "data-unreviewed" not in english
    about = client.get("/about?lang=pl").get_data(as_text=True)
    assert 'id="report-a-mistake"' in about


def test_a_catalogue_marked_reviewed_in_its_header_drops_the_notice(tmp_path) -> None:
    for code in SHIPPED:
        (tmp_path / code / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", tmp_path / code / "LC_MESSAGES")
    po = tmp_path / "bn" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text("utf-8").replace("# X-Reviewed: no", "# X-Reviewed: yes", 1), "utf-8")

    assert reviewed_languages(TRANSLATIONS) == {"en"}
    assert reviewed_languages(tmp_path) == {"en", "bn"}


def test_the_json_api_stays_english_whatever_the_browser_asks(client) -> None:
    response = client.get("/api/v1/postcodes/ZZ", headers={"Accept-Language": "ar"})

    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Enter a full postcode, like SW1A 2AA"
    assert "Accept-Language" not in response.headers.get("Vary", "")


def test_the_lookups_messages_are_translated_on_the_page_and_escaped(client) -> None:
    html = client.get("/search", query_string={"postcode": "<b>ZZ</b>", "lang": "pl"}).get_data(as_text=True)

    assert "Nie znaleźliśmy tu kodu pocztowego" in html or "Wpisz" in html
    assert "<b>ZZ</b>" not in html


def test_vcards_and_calendars_speak_the_language_of_the_link(client) -> None:
    card = client.get(f"/wards/{SAMPLE_WARD}/team.vcf?lang=pl").get_data(as_text=True)
    feed = client.get(f"/wards/{SAMPLE_WARD}/calendar.ics?lang=pl").get_data(as_text=True)

    assert "W nagłym wypadku dzwoń pod 999" in card.replace("\r\n ", "")
    assert "PRZYKŁAD (fikcyjny)" in feed.replace("\r\n ", "")
    assert "SAMPLE (fictional)" in client.get(f"/wards/{SAMPLE_WARD}/calendar.ics").get_data(as_text=True)


def test_meeting_times_and_dates_are_written_the_way_the_language_writes_them(client) -> None:
    html = client.get(f"/wards/{SAMPLE_WARD}?lang=pl").get_data(as_text=True)
    meetings = html[html.index("data-meetings") : html.index("</ol>", html.index("data-meetings"))]

    assert re.search(r"(poniedziałek|wtorek|środa|czwartek|piątek|sobota|niedziela) \d+ \w+ 20\d\d", meetings)
    assert not re.search(r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|\d[ap]m\b", meetings)


# --- the catalogues ----------------------------------------------------------------------------


def catalogue(code: str) -> Catalog:
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def forms(message) -> list[tuple[str, str]]:
    """(English, translation) pairs: each plural form against the English plural (the singular for form 0)."""
    if isinstance(message.id, tuple):
        return [(message.id[0] if i == 0 else message.id[1], text) for i, text in enumerate(message.string)]
    return [(message.id, message.string)]


@pytest.mark.parametrize("code", SHIPPED)
def test_every_translation_keeps_every_number_and_placeholder_exactly(code) -> None:
    """999, 101, 18000, 0800 numbers and %(name)s placeholders are never lost or changed in translation."""
    wrong = []
    for message in catalogue(code):
        if not message.id:
            continue
        for english, text in forms(message):
            if not text:
                continue
            if Counter(re.findall(r"\d+", english)) != Counter(re.findall(r"\d+", text)):
                wrong.append((english, text))
            if set(re.findall(r"%\(\w+\)s", english)) != set(re.findall(r"%\(\w+\)s", text)):
                wrong.append((english, text))
            if re.findall(r'href="[^"]*"', english) != re.findall(r'href="[^"]*"', text):
                wrong.append((english, text))
    assert not wrong


@pytest.mark.parametrize("code", SHIPPED)
def test_each_compiled_catalogue_matches_its_po_file(code) -> None:
    """The .mo files are committed: scripts/translations compiles them again after any change to a .po."""
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {tuple(m.id) if isinstance(m.id, list) else m.id: m.string for m in read_mo(f) if m.id}
    compiled = {key: tuple(value) if isinstance(value, list) else value for key, value in compiled.items()}
    written = {m.id: m.string for m in catalogue(code) if m.id and m.string and all(m.string)}

    assert compiled == written


@pytest.mark.parametrize("code", SHIPPED)
def test_each_catalogue_says_whether_a_native_speaker_has_reviewed_it(code) -> None:
    header = (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").read_text("utf-8").split('msgid ""')[0]

    assert re.search(r"^# X-Reviewed: (yes|no)$", header, re.M)


def test_the_template_lists_every_translatable_string_in_the_code(tmp_path) -> None:
    """Run scripts/translations after adding or changing a resident-facing string."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).with_name("pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "tr",
            "-k",
            "ntr:1,2",
            "-k",
            "said",
            "--no-location",
            "--sort-output",
            "-o",
            fresh,
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(fresh, "rb") as f:
        expected = {m.id for m in read_po(f)}
    with open(POT, "rb") as f:
        committed = {m.id for m in read_po(f)}

    assert expected == committed


def test_a_missing_translation_falls_back_to_english_never_to_blank(teams_lookup, tmp_path) -> None:
    partial = Catalog(locale="pl")
    partial.add("Find my team", "Znajdź mój zespół")
    partial.add("Postcode", "")  # not yet translated
    (tmp_path / "pl" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "pl" / "LC_MESSAGES" / "messages.mo", "wb") as f:
        write_mo(f, partial)

    html = app_with(teams_lookup, tmp_path).test_client().get("/?lang=pl").get_data(as_text=True)

    assert ">Znajdź mój zespół</button>" in html
    assert '<label class="label" for="postcode">Postcode</label>' in html
    assert "Enter a London postcode to see your ward" in html


# --- the pseudo-locale: no resident-facing English left untranslatable --------------------------


@pytest.fixture(scope="module")
def pseudo_client(teams_lookup, tmp_path_factory):
    """The app with a catalogue in which every message reads "[!! <English> !!]", served as Arabic."""
    with open(POT, "rb") as f:
        template = read_po(f)
    pseudo = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            string = tuple(f"[!! {singular if i == 0 else plural} !!]" for i in range(pseudo.num_plurals))
        else:
            string = f"[!! {message.id} !!]"
        pseudo.add(message.id, string, flags=message.flags)
    directory = tmp_path_factory.mktemp("pseudo")
    (directory / PSEUDO / "LC_MESSAGES").mkdir(parents=True)
    with open(directory / PSEUDO / "LC_MESSAGES" / "messages.mo", "wb") as f:
        write_mo(f, pseudo)
    return app_with(teams_lookup, directory).test_client()


class VisibleText(HTMLParser):
    """Text a resident sees or hears: text nodes and labelling attributes, but not scripts, styles or
    anything marked as deliberately in another language (lang="en" notes, the switcher's own names)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        skip = self.skipping() or tag in ("script", "style") or (tag != "html" and "lang" in attributes)
        if not skip:
            self.parts += [attributes[name] or "" for name in TEXT_ATTRIBUTES if name in attributes]
            if "data-map" in attributes:
                data = json.loads(attributes["data-map"] or "{}")
                self.parts += [data.get("pointLabel") or ""] + [line for p in data["places"] for line in p["lines"]]
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs) -> None:
        if not self.skipping():
            self.parts += [value or "" for name, value in attrs if name in TEXT_ATTRIBUTES]

    def handle_endtag(self, tag) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data) -> None:
        if not self.skipping():
            self.parts.append(data)


def data_strings(value, seen: set[int] | None = None) -> set[str]:
    """Every piece of data a result holds (names, postcodes, team details), but none of the finder's own
    words: Text is the finder's, and forces.json's routes are translated with the page."""
    seen = set() if seen is None else seen
    if isinstance(value, Text) or id(value) in seen or isinstance(value, ContactRoute):
        return set()
    if isinstance(value, str):
        return {value}
    seen.add(id(value))
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    elif dataclasses.is_dataclass(value):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return set()
    return set().union(*(data_strings(item, seen) for item in items)) if items else set()


def english_left(text: str, data: set[str]) -> list[str]:
    """Words of Latin letters left once the markers, the data, links and codes are taken out."""
    while MARKER.search(text):
        text = MARKER.sub(" ", text)
    text = re.sub(r"https?://\S+|\S+@\S+|\b[\w-]+(\.[\w-]+)+(/\S*)?", " ", text)  # links, addresses, sites
    for value in sorted(data | FORCE_NAMES, key=len, reverse=True):
        if len(value) > 1:
            text = text.replace(value, " ")
    text = re.sub(r"\b[EWS]\d{8}\b|\b\d[\d,.]*\s?k?m\b", " ", text)  # ward codes, distances
    return re.findall(r"[A-Za-z]{2,}", text)


def resolved_data(lookup: Lookup, **query) -> set[str]:
    try:
        result = lookup.resolve(**query)
    except FinderError as error:
        return data_strings(error.details)
    strings = data_strings(result)
    if isinstance(result, WardAnswer):
        strings |= {result.force.name, result.force.short_name}
    if isinstance(result, WardAnswer) and result.teams:
        strings |= {place.distance_label for place in result.teams.front_counters}
    return strings


PAGES = {
    "home": ("/", {}),
    "result with a team": (f"/search?postcode={SAMPLE_POSTCODE}", {"postcode": SAMPLE_POSTCODE}),
    "result without a team": (f"/wards/{NO_TEAM_WARD}", {"ward": NO_TEAM_WARD}),
    "ward from my location": (f"/wards/{SAMPLE_WARD}?from=location", {"ward": SAMPLE_WARD}),
    "outward code crossing the boundary": ("/search?postcode=KT19", {"postcode": "KT19"}),
    "outward code": ("/search?postcode=SE1", {"postcode": "SE1"}),
    "postal district": ("/search?postcode=W1", {"postcode": "W1"}),
    "outside London": ("/search?postcode=LE1+5WW", {"postcode": "LE1 5WW"}),
    "outside London, a point": ("/locate?lat=52.6&lon=-1.13", {"lat": 52.6, "lon": -1.13}),
    "PO box": ("/search?postcode=BX1+1LT", {"postcode": "BX1 1LT"}),
    "400 malformed postcode": ("/search?postcode=SW1A+1A", {"postcode": "SW1A 1A"}),
    "a pasted line without a postcode": ("/search?postcode=&pasted=1", {}),
    "a pasted address's postcode": ("/search?postcode=SE1+7PB&pasted=1", {"postcode": "SE1 7PB"}),
    "an old district in a full postcode": ("/search?postcode=SW1+1AA", {"postcode": "SW1 1AA"}),
    "an outward code spanning forces": ("/search?postcode=SN6", {"postcode": "SN6"}),
    "a withdrawn PO box": ("/search?postcode=N1P+1AA", {"postcode": "N1P 1AA"}),
    "a place on London's boundary": ("/wards/E05013606?from=location&beyond=surrey", {"ward": "E05013606"}),
    "404 page": ("/no-such-page", {}),
    "404 ward": ("/wards/E05999999", {"ward": "E05999999"}),
    "about": ("/about", {}),
    "embed home": ("/embed?borough=E09000033", {}),
    "embed result": (f"/embed/search?postcode={SAMPLE_POSTCODE}", {"postcode": SAMPLE_POSTCODE}),
    "embed outcode": ("/embed/search?postcode=SE1", {"postcode": "SE1"}),
    "embed outside the borough": ("/embed/search?postcode=SE1+7PB&borough=E09000033", {"postcode": "SE1 7PB"}),
    "embed error": ("/embed/search?postcode=ZZ", {"postcode": "ZZ"}),
}


@pytest.mark.parametrize("page", PAGES)
def test_no_resident_facing_english_is_left_untranslatable(pseudo_client, teams_lookup, geodata, page) -> None:
    path, query = PAGES[page]
    response = pseudo_client.get(path + ("&" if "?" in path else "?") + f"lang={PSEUDO}")
    assert response.status_code in (200, 400, 404), response.status_code
    parser = VisibleText()
    parser.feed(response.get_data(as_text=True))
    data = resolved_data(teams_lookup, **query) if query else set()
    data |= {"Westminster"} if "borough=" in path else set()

    assert "[!! " in " ".join(parser.parts)
    assert english_left(" ".join(parser.parts), data) == []


@pytest.mark.parametrize("path", [f"/wards/{SAMPLE_WARD}/team.vcf", f"/wards/{SAMPLE_WARD}/calendar.ics"])
def test_no_english_is_left_in_the_words_of_vcards_and_calendars(pseudo_client, teams_lookup, path) -> None:
    body = pseudo_client.get(f"{path}?lang={PSEUDO}").get_data(as_text=True).replace("\r\n ", "")
    words = [
        value.replace("\\n", " ").replace("\\,", ",").replace("\\;", ";")
        for line in body.splitlines()
        for name, _, value in [line.partition(":")]
        if name.split(";")[0] in ("FN", "N", "NOTE", "SUMMARY", "DESCRIPTION", "CATEGORIES", "NAME", "X-WR-CALNAME")
    ]
    team = teams_lookup.teams.team(SAMPLE_WARD)
    data = data_strings(team) | resolved_data(teams_lookup, ward=SAMPLE_WARD) | {"police.uk"}

    assert english_left(" ".join(words), data) == []


@pytest.mark.parametrize("path", ["/", "/embed", "/embed/build", "/about", f"/wards/{SAMPLE_WARD}"])
def test_every_language_link_is_named_in_its_own_language(client, path) -> None:
    html = client.get(path).get_data(as_text=True)
    links = dict(re.findall(r'<a href="[^"]*" lang="(\w+)" hreflang="\1"[^>]*>([^<]*)</a>', html))
    assert links == {code: language.name for code, language in LANGUAGES.items()}


def test_a_long_accept_language_header_is_read_as_well_as_a_short_one(client):
    """Short headers are read once and remembered (a bounded cache); a long one is read each time, never kept."""
    long_header = ", ".join(f"x{i:03d};q=0.1" for i in range(40)) + ", pl;q=0.9"
    assert len(long_header) > 200
    for header in (long_header, "pl", long_header):
        page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert '<html lang="pl"' in page
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
