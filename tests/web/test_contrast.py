"""The WCAG contrast rule behind the embed's accent colour."""

from __future__ import annotations

import pytest

from finder.web.contrast import AA_TEXT, WHITE, contrast, luminance, readable_on_white, text_on


def test_luminance_and_contrast_match_the_wcag_definitions() -> None:
    assert luminance("#000") == 0 and luminance("#ffffff") == 1
    assert contrast("#000000", "#fff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the well-known just-failing grey
    assert contrast("#1d70b8", WHITE) == pytest.approx(5.17, abs=0.01)


@pytest.mark.parametrize("accent", ["#ffcc00", "#e0e0e0", "#1d70b8", "#d4351c", "#00703c", "#000", "#fff", "#912b88"])
def test_text_on_an_accent_and_links_derived_from_it_always_read_at_aa(accent: str) -> None:
    assert contrast(text_on(accent), accent) >= AA_TEXT
    assert contrast(readable_on_white(accent), WHITE) >= AA_TEXT


def test_a_colour_that_already_reads_is_kept_and_a_light_one_is_darkened_in_its_own_hue() -> None:
    assert readable_on_white("#1d70b8") == "#1d70b8"
    assert readable_on_white("#D4351C") == "#d4351c"
    yellow = readable_on_white("#ffcc00")
    r, g, b = (int(yellow[i : i + 2], 16) for i in (1, 3, 5))
    assert r > g > b == 0 and contrast(yellow, WHITE) < AA_TEXT + 0.5  # no darker than it needs to be
