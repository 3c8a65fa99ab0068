"""Geodata that is not what the build writes stops the server at start-up, naming the file and the fix."""

import json
import shutil
from pathlib import Path

import numpy as np
import numpy.lib.recfunctions as rfn
import pytest

from finder.config import ROOT
from finder.geo.geodata import OUTPUTS, POSTCODE_DTYPE, GeoData, GeodataInvalid, PostcodeRow


def copy_geodata(to: Path) -> Path:
    """A private copy of the built geodata/ (outputs and manifest), safe to spoil or rebuild."""
    to.mkdir()
    for name in (*OUTPUTS, "manifest.json"):
        shutil.copy(ROOT / "geodata" / name, to / name)
    return to


def resave(path: Path, rows: np.ndarray) -> None:
    np.save(path, rows, allow_pickle=False)


def lat_as_float32(path: Path) -> None:
    rows = np.load(path)
    resave(path, rows.astype([(n, "<f4" if n == "lat" else rows.dtype[n]) for n in rows.dtype.names]))


def without_match_column(path: Path) -> None:
    resave(path, rfn.drop_fields(np.load(path), "match", usemask=False))


def truncated(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 1000)


def reversed_rows(path: Path) -> None:
    resave(path, np.load(path)[::-1])


def two_neighbours_swapped(path: Path) -> None:
    """One pair out of order, where a shorter postcode sorts first ("E1 6AN" before "E1W 1AA"): the order
    is checked on the keys as integers, which must agree with how they sort as text."""
    rows = np.load(path)
    keys = rows["postcode"]
    i = int(np.nonzero(np.char.str_len(keys[:-1]) < np.char.str_len(keys[1:]))[0][0])
    rows[[i, i + 1]] = rows[[i + 1, i]]
    resave(path, rows)


def one_row_twice(path: Path) -> None:
    rows = np.load(path)
    resave(path, np.concatenate([rows[:1000], rows[999:]]))


def as_two_columns(path: Path) -> None:
    rows = np.load(path)
    resave(path, rows[: len(rows) // 2 * 2].reshape(2, -1))


def with_ward_704(path: Path) -> None:
    rows = np.load(path)
    rows[-1]["ward"] = 704  # there are 704 wards, numbered from 0
    resave(path, rows)


def district_as_int32(path: Path) -> None:
    rows = np.load(path)
    resave(path, rows.astype([(n, "<i4" if n == "district" else rows.dtype[n]) for n in rows.dtype.names]))


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5000])


def a_mapping(path: Path) -> None:
    path.write_text(json.dumps({"E09000001": "City of London"}))


@pytest.mark.parametrize(
    "name, spoil, says",
    [
        ("postcodes.npy", lat_as_float32, "holds rows of"),
        ("postcodes.npy", without_match_column, "holds rows of"),
        ("postcodes.npy", truncated, "mmap length is greater than file size"),
        ("postcodes.npy", reversed_rows, "is not sorted by postcode"),
        ("postcodes.npy", two_neighbours_swapped, "is not sorted by postcode"),
        ("gb_postcodes.npy", one_row_twice, "is not sorted by postcode"),
        ("postcodes.npy", as_two_columns, "has shape (2, 98602)"),
        ("postcodes.npy", with_ward_704, "refers to ward numbers 0..704, but there are 704 wards"),
        ("gb_postcodes.npy", district_as_int32, "holds rows of"),
        ("gb_postcodes.npy", truncated, "mmap length is greater than file size"),
        ("gb_postcodes.npy", emptied, "cannot be read"),
        ("wards.geojson", cut_short, "cannot be read"),
        ("districts.json", a_mapping, "cannot be read"),
    ],
)
def test_a_spoiled_file_is_refused_at_load_naming_it_and_the_command_that_rebuilds_it(tmp_path, name, spoil, says):
    geodata = copy_geodata(tmp_path / "geodata")
    spoil(geodata / name)
    with pytest.raises(GeodataInvalid) as refused:
        GeoData(geodata)
    message = str(refused.value)
    assert f"geodata file {geodata / name}" in message
    assert says in message
    assert message.endswith("run `finder build-geodata --force` to rebuild geodata")


def test_a_postcode_row_read_in_one_call_holds_every_field_under_its_own_name():
    """PostcodeRow takes a row's values by position: its fields must be the file's, in the file's order."""
    assert PostcodeRow._fields == POSTCODE_DTYPE.names
    rows = GeoData(ROOT / "geodata").postcodes.rows
    for number in (0, len(rows) // 2, len(rows) - 1):
        row = PostcodeRow.read(rows, number)
        assert row == tuple(rows[number][name].item() for name in POSTCODE_DTYPE.names)
        assert type(row.lat) is float and type(row.ward) is int  # plain values, not numpy scalars
