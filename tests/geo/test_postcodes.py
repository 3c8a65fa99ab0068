"""Postcode rules: what people type becomes one canonical form, or a clear error."""

import numpy as np
import pytest

from finder.geo.postcodes import PostcodeFormatError, PostcodeIndex, normalise, parse


@pytest.mark.parametrize(
    "typed, canonical",
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  SW1A-1AA  ", "SW1A 1AA"),
        ("sw1a  1aa", "SW1A 1AA"),
        ("Sw1a.1Aa", "SW1A 1AA"),
        ("E1 6AN", "E1 6AN"),
        ("e16an", "E1 6AN"),
        ("EC2V7HH", "EC2V 7HH"),
        ("W1A 0AX", "W1A 0AX"),
        ("BR1\t1AA", "BR1 1AA"),
    ],
)
def test_any_case_spacing_and_punctuation_gives_the_canonical_postcode(typed, canonical):
    assert normalise(typed) == canonical


def test_a_letter_o_where_the_inward_digit_must_be_is_read_as_zero():
    parsed = parse("SW1A OAA")
    assert parsed.value == "SW1A 0AA"
    assert parsed.corrected is True
    assert parse("SW1A 0AA").corrected is False


@pytest.mark.parametrize("typed, outcode", [("SE1", "SE1"), ("se1", "SE1"), (" ec2v ", "EC2V"), ("W1A", "W1A")])
def test_an_outward_code_alone_is_recognised(typed, outcode):
    parsed = parse(typed)
    assert (parsed.kind, parsed.value) == ("outcode", outcode)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "hello",
        "12345",
        "SW1A 1A",
        "SW1A 1AAA",
        "SW1A1AAXYZ",
        "<script>alert(1)</script>",
        "1SW 1AA",
        "SW1A 1AI",
    ],
)
def test_anything_else_is_a_format_error_that_shows_an_example(typed):
    with pytest.raises(PostcodeFormatError) as error:
        parse(typed)
    assert "SW1A 2AA" in str(error.value)


def test_normalise_refuses_an_outward_code():
    with pytest.raises(PostcodeFormatError):
        normalise("SE1")


def test_index_finds_rows_one_at_a_time_and_many_at_once():
    rows = np.array([(b"A1 1AA", 1), (b"B2 2BB", 2), (b"C3 3CC", 3)], dtype=[("postcode", "S8"), ("n", "i4")])
    index = PostcodeIndex(rows)
    assert index.find("B2 2BB") == 1
    assert index.find("B2 2BA") is None
    assert index.find("ZZ9 9ZZ") is None
    assert index.find_many(["C3 3CC", "nope", "A1 1AA", "ZZ9 9ZZ"]).tolist() == [2, -1, 0, -1]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("SWIA 2AA", "SW1A 2AA"), ("swla oaa", "SW1A 0AA"), ("LI 8JQ", "L1 8JQ"), ("SWIA", "SW1A")],
)
def test_a_letter_i_or_l_where_a_digit_must_be_is_read_as_one_and_said(typed, canonical):
    parsed = parse(typed)
    assert parsed.value == canonical and parsed.corrected


@pytest.mark.parametrize(
    "typed", ["10 Downing Street, SW1A 2AA", "SW1A 2AA, London", "Flat 3, 1 High St, London sw1a2aa"]
)
def test_the_postcode_inside_a_pasted_address_is_found_and_said(typed):
    parsed = parse(typed)
    assert (parsed.kind, parsed.value, parsed.corrected) == ("postcode", "SW1A 2AA", True)


def test_an_address_with_two_postcodes_or_none_asks_for_one():
    with pytest.raises(PostcodeFormatError, match="more than one postcode"):
        parse("SW1A 2AA or SW1A 1AA")
    with pytest.raises(PostcodeFormatError, match="could not find a postcode"):
        parse("10 Downing Street, London")


def test_girobanks_postcode_is_read_although_it_breaks_the_pattern():
    assert parse("gir0aa").value == "GIR 0AA"
