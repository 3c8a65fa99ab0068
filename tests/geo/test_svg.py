"""The ward outline drawn on the server for pages without JavaScript."""

from __future__ import annotations

import re

from finder.geo.svg import WIDTH, ward_outline_svg

ST_JAMESS = "E05013806"


def test_a_wards_outline_is_one_closed_path_inside_its_view_box_and_named(geodata) -> None:
    svg = ward_outline_svg(geodata.wards.feature(ST_JAMESS), "St James's")

    width, height = map(float, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    assert max(width, height) == WIDTH
    path = re.search(r' d="([^"]+)"', svg).group(1)
    numbers = [float(n) for n in re.findall(r"-?[\d.]+", path)]
    assert len(numbers) > 40 and min(numbers) >= 0
    assert max(numbers[0::2]) <= width and max(numbers[1::2]) <= height
    assert path.startswith("M") and path.endswith("Z")
    assert 'aria-label="Outline of St James&#x27;s ward"' in svg and 'role="img"' in svg


def test_an_outline_weighs_a_few_kilobytes_even_for_the_largest_ward(geodata) -> None:
    sizes = [len(ward_outline_svg(geodata.wards.feature(w.code), w.name)) for w in geodata.wards.wards]
    assert max(sizes) < 12_000
