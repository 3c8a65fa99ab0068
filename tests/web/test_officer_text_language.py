"""Text officers or police.uk wrote stays English on a translated page, and says so (WCAG 3.1.2).

A screen reader reading a Polish, Bengali or Arabic page reads an officer's name, a meeting's place
or a priority with that language's voice unless the element says lang="en"; on a right-to-left page
the English runs left to right as well.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from finder import create_app
from finder.teams.directory import Route
from finder.teams.views import route_value
from tests.store.teamdata import SAMPLE_POSTCODE, SAMPLE_WARD, team_lookup, team_store

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture(scope="module")
def client(geodata):
    lookup = team_lookup(geodata, team_store())
    return create_app({"ENV_NAME": "testing"}, lookup=lookup).test_client(), lookup


def officer_texts(lookup) -> set[str]:
    """Every piece of the sample team (and its front counters) that an officer or police.uk wrote."""
    found = lookup.teams.lookup(SAMPLE_WARD)
    team = found.team

    def route(r: Route, *, label: bool = True) -> list[str | None]:
        return [r.label if label else None, r.value, route_value(r), r.hours]

    texts: list[str | None] = [team.name, team.description]
    for r in team.routes:
        texts += route(r)
    for link in team.more_links + team.force_engagement:
        texts += [link.title, link.description]
    for officer in team.officers:
        texts += [officer.name, officer.rank, officer.title, officer.bio]
        for r in officer.routes:
            texts += route(r)
        for r in officer.work_routes:
            texts += route(r, label=False)  # the label is the finder's own words, translated
    for meeting in team.meetings:
        texts += [meeting.title, meeting.place, meeting.description]
        for r in meeting.contacts:
            texts += route(r)
    for priority in team.priorities:
        texts += [priority.issue, priority.action]
    for place in found.front_counters:
        texts += [place.name, place.address, place.opening_hours]
    # Past four letters: "PC" and "PCSO" are ranks, but also the finder's own (translated) words.
    return {" ".join(text.split()) for text in texts if text and len(text.strip()) > 4}


class LanguageOfText(HTMLParser):
    """Each text node of the page's <main>, with the language its nearest lang="…" gives it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.in_main = 0
        self.nodes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append((tag, dict(attrs).get("lang")))
        self.in_main += tag == "main"

    def handle_endtag(self, tag):
        while self.stack:
            popped, _ = self.stack.pop()
            self.in_main -= popped == "main"
            if popped == tag:
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and self.in_main:
            lang = next((lang for _, lang in reversed(self.stack) if lang), None)
            self.nodes.append((text, lang))


def unmarked_officer_text(html: str, texts: set[str]) -> tuple[list[str], int]:
    parser = LanguageOfText()
    parser.feed(html)
    marked = 0
    unmarked = []
    for node, lang in parser.nodes:
        if any(text in node for text in texts):
            if lang == "en":
                marked += 1
            else:
                unmarked.append(f"{node!r} (lang={lang})")
    return unmarked, marked


@pytest.mark.parametrize("lang", ["pl", "bn", "ar"])
@pytest.mark.parametrize(
    "path",
    [f"/wards/{SAMPLE_WARD}", f"/search?postcode={SAMPLE_POSTCODE}", f"/embed/search?postcode={SAMPLE_POSTCODE}"],
    ids=["ward page", "result page", "embed"],
)
def test_every_element_holding_officer_entered_text_on_a_translated_page_says_it_is_english(client, path, lang):
    test_client, lookup = client
    response = test_client.get(f"{path}&lang={lang}" if "?" in path else f"{path}?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    unmarked, marked = unmarked_officer_text(html, officer_texts(lookup))
    assert not unmarked, 'officer-entered text without lang="en":\n' + "\n".join(unmarked)
    assert marked >= 5, "the page shows the sample team's own text"


def test_an_english_page_adds_no_language_marks_to_officer_text(client):
    test_client, _ = client
    html = test_client.get(f"/wards/{SAMPLE_WARD}").get_data(as_text=True)
    assert '<span class="officer-name">Amara Quill</span>' in html


def test_on_a_right_to_left_page_the_english_runs_left_to_right(client):
    test_client, _ = client
    html = test_client.get(f"/wards/{SAMPLE_WARD}?lang=ar").get_data(as_text=True)
    assert html.count('lang="en" dir="ltr"') > 10
