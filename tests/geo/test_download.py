"""Downloading the official releases, against a real local server serving small look-alikes.

Each fixture is built here from the shared mirror (real postcodes and grid references, real ward
polygons, the real Code-Point Doc/ files) in the shape its publisher serves: a Code-Point Open CSV
zip behind the OS API's redirect, an ArcGIS FeatureServer that pages GeoJSON, and an ONSPD zip.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pytest
import requests
import shapely

from finder.config import default_raw_data
from finder.geo import download
from finder.geo.build import build, resolve_raw_files
from tests.support.httpserver import Reply, local_server

MIRROR = default_raw_data()
CODEPOINT = MIRROR / "postcodes-codepoint-open"
WARDS_SHP = MIRROR / "wards-2024-ons-bgc-london" / "london_wards_dec2024_bgc_704.shp"
WARDS = ("E05009288", "E05009289", "E05013991")  # Aldersgate and Aldgate (City of London), Bromley Town
LIVE_PER_WARD = 4
WITHDRAWN_PER_WARD = 2
ARCGIS_MAX_RECORDS = 2  # so three wards take two pages

CODEPOINT_PATH = "/downloads/v1/products/CodePointOpen/downloads"
CODEPOINT_ZIP_PATH = "/files/codepo_gb.zip"
WARDS_PATH = "/arcgis/rest/services/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0/query"
ONSPD_PATH = "/sharing/rest/content/items/3635ca7f/data"

# the first columns of the ONSPD header since 2025, and before (lat and long sit further on in both)
ONSPD_HEADER_2025 = (
    "pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,cty25cd,ced25cd,lad25cd,wd25cd,"
    "nhser24cd,ctry25cd,rgn25cd,pcon24cd,lat,long"
)
ONSPD_HEADER_OLD = (
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,"
    "oshlthau,nhser,ctry,rgn,lat,long"
)
# our name for each ONSPD field -> its column in the 2025 header and in the older one
ONSPD_FIELDS = {
    "pcd7": ("pcd7", "pcd"),
    "pcds": ("pcds", "pcds"),
    "doterm": ("doterm", "doterm"),
    "east": ("east1m", "oseast1m"),
    "north": ("north1m", "osnrth1m"),
    "grid": ("gridind", "osgrdind"),
    "lad": ("lad25cd", "oslaua"),
    "ward": ("wd25cd", "osward"),
    "lat": ("lat", "lat"),
    "long": ("long", "long"),
}


@dataclass
class Release:
    codepoint_zip: bytes
    live: pd.DataFrame  # the mirror's London rows we serve, as the London file must come out
    outside: pd.DataFrame  # a few rows of the mirror's GB file outside London
    ward_features: list[dict]
    onspd_rows: list[dict[str, str]]
    terminated: list[str]  # what fetch keeps from ONSPD: London, terminated, with a grid reference
    withdrawn_columns: list[str]


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _codepoint_csv(rows: pd.DataFrame) -> str:
    """Rows the way Code-Point Open ships them: no header, text quoted, numbers bare."""
    lines = []
    for row in rows.itertuples(index=False):
        text = [row.Country_code, row.NHS_regional_HA_code, row.NHS_HA_code, row.Admin_county_code]
        text += [row.Admin_district_code, row.Admin_ward_code]
        numbers = [row.Positional_quality_indicator, row.Eastings, row.Northings]
        lines.append(",".join([f'"{row.postcode_raw}"', *numbers, *(f'"{t}"' for t in text)]))
    return "\n".join(lines) + "\n"


def _onspd_csv(rows: list[dict[str, str]], old: bool = False) -> str:
    header = (ONSPD_HEADER_OLD if old else ONSPD_HEADER_2025).split(",")
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        named = {names[1 if old else 0]: row[field] for field, names in ONSPD_FIELDS.items()}
        writer.writerow([named.get(column, "") for column in header])
    return out.getvalue()


def _onspd_row(postcode: str, doterm: str, east: str, north: str, lad: str, ward: str, grid: str = "1") -> dict:
    compact = postcode.replace(" ", "")
    return {
        "pcd7": compact[:-3].ljust(4) + compact[-3:],
        "pcds": postcode,
        "doterm": doterm,
        "east": east,
        "north": north,
        "grid": grid,
        "lad": lad,
        "ward": ward,
        "lat": "99.999999" if not east else "51.5",
        "long": "0.000000" if not east else "-0.1",
    }


@pytest.fixture(scope="module")
def release() -> Release:
    london = pd.read_csv(CODEPOINT / "london_postcodes_codepoint_2025_4.csv.gz", dtype=str, keep_default_na=False)
    live = london[london.Admin_ward_code.isin(WARDS)].groupby("Admin_ward_code", sort=False).head(LIVE_PER_WARD)
    live = live.reset_index(drop=True)
    outside = pd.read_csv(CODEPOINT / "gb_postcodes_codepoint_2025_4.csv.gz", dtype=str, keep_default_na=False, nrows=3)
    outside = outside.assign(postcode_raw=outside.postcode, NHS_regional_HA_code="", NHS_HA_code="")
    docs = {
        "Doc/Code-Point_Open_Column_Headers.csv": (CODEPOINT / "Code-Point_Open_Column_Headers.csv").read_bytes(),
        "Doc/Codelist.xlsx": (CODEPOINT / "Codelist.xlsx").read_bytes(),
        "Doc/metadata.txt": (CODEPOINT / "codepoint_metadata.txt").read_bytes(),
        "Doc/licence.txt": (CODEPOINT / "codepoint_licence.txt").read_bytes(),
    }
    # one CSV per postcode area, as in the release (ab.csv, br.csv, e.csv, ec.csv)
    rows = pd.concat([outside, live], ignore_index=True)
    area = rows.postcode.str.extract(r"^([A-Z]+)", expand=False).str.lower()
    codepoint_zip = _zip({f"Data/CSV/{a}.csv": _codepoint_csv(rows[area == a]) for a in sorted(set(area))} | docs)

    wards = gpd.read_file(WARDS_SHP)
    wards = wards[wards.WD24CD.isin(WARDS)].sort_values("WD24CD")
    features = json.loads(wards.to_json(drop_id=True))["features"]
    for fid, feature in enumerate(features, 1):
        feature["properties"]["FID"] = fid

    gone = pd.read_csv(
        CODEPOINT / "london_postcodes_absent_from_codepoint_2025_4.csv.gz", dtype=str, keep_default_na=False
    )
    points = shapely.points(gone.Eastings.astype(float), gone.Northings.astype(float))
    onspd_rows, terminated = [], []
    for ward in wards.itertuples():
        inside = gone[shapely.contains(ward.geometry, points)].head(WITHDRAWN_PER_WARD)
        for row in inside.itertuples():
            where = (row.Eastings, row.Northings, ward.LAD24CD, ward.WD24CD)
            onspd_rows.append(_onspd_row(row.postcode, "201806", *where))
            terminated.append(row.postcode)
    still_live = live.iloc[0]  # ONSPD says terminated; Code-Point still lists it, so the build keeps it live
    onspd_rows += [
        _onspd_row(still_live.postcode, "202001", still_live.Eastings, still_live.Northings, "E09000006", WARDS[2]),
        _onspd_row(live.postcode.iloc[1], "", live.Eastings.iloc[1], live.Northings.iloc[1], "E09000006", WARDS[2]),
        _onspd_row("AB10 9ZZ", "201001", "394235", "806529", "S12000033", "S13002842"),  # terminated, not London
        _onspd_row("EC3A 9ZZ", "200506", "", "", "E09000001", "E05009289", grid="9"),  # no grid reference
    ]
    terminated.append(still_live.postcode)
    withdrawn_columns = pd.read_csv(
        CODEPOINT / "london_postcodes_absent_from_codepoint_2025_4.csv.gz", nrows=0
    ).columns.tolist()
    return Release(codepoint_zip, live, outside, features, onspd_rows, sorted(terminated), withdrawn_columns)


def _arcgis(features: list[dict]):
    """A FeatureServer layer query: checks the parameters, pages like ArcGIS with exceededTransferLimit."""

    def handle(path: str) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        if (query.get("where"), query.get("outSR"), query.get("f")) != ("LAD24CD LIKE 'E09%'", "27700", "geojson"):
            return Reply(200, {"error": {"code": 400, "message": "Invalid query parameters", "details": []}})
        offset = int(query.get("resultOffset", 0))
        count = min(int(query.get("resultRecordCount", ARCGIS_MAX_RECORDS)), ARCGIS_MAX_RECORDS)
        page: dict = {"type": "FeatureCollection", "features": features[offset : offset + count]}
        if offset + count < len(features):
            page["properties"] = {"exceededTransferLimit": True}
        return Reply(200, page, headers={"Content-Type": "application/geo+json"})

    return handle


@pytest.fixture()
def publishers(release: Release, monkeypatch: pytest.MonkeyPatch):
    """The three publishers on one local server, with FINDER_*_URL pointing at them."""
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0)
    onspd_zip = _zip(
        {
            "Data/ONSPD_NOV_2025_UK.csv": _onspd_csv(release.onspd_rows),
            # the real zip also splits the same rows by postcode area: they must not be read twice
            "Data/multi_csv/ONSPD_NOV_2025_UK_EC.csv": _onspd_csv(
                [r for r in release.onspd_rows if r["pcds"].startswith("EC")]
            ),
            "User Guide/ONSPD User Guide Nov 2025.txt": "the user guide",
        }
    )
    with local_server() as server:
        server.routes[CODEPOINT_PATH] = lambda _: Reply(
            307, b"", headers={"Location": server.url + CODEPOINT_ZIP_PATH, "Content-Type": "text/plain"}
        )
        server.routes[CODEPOINT_ZIP_PATH] = lambda _: Reply(
            200, release.codepoint_zip, headers={"Content-Type": "application/zip"}
        )
        server.routes[WARDS_PATH] = _arcgis(release.ward_features)
        server.routes[ONSPD_PATH] = lambda _: Reply(200, onspd_zip, headers={"Content-Type": "application/zip"})
        monkeypatch.setenv("FINDER_CODEPOINT_URL", f"{server.url}{CODEPOINT_PATH}?area=GB&format=CSV&redirect")
        monkeypatch.setenv("FINDER_WARDS_URL", server.url + WARDS_PATH)
        monkeypatch.setenv("FINDER_ONSPD_URL", server.url + ONSPD_PATH)
        yield server


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_mirror_still_resolves_to_its_own_files():
    assert resolve_raw_files(MIRROR) == {
        "london_postcodes": "postcodes-codepoint-open/london_postcodes_codepoint_2025_4.csv.gz",
        "withdrawn_postcodes": "postcodes-codepoint-open/london_postcodes_absent_from_codepoint_2025_4.csv.gz",
        "gb_postcodes": "postcodes-codepoint-open/gb_postcodes_codepoint_2025_4.csv.gz",
        "codelist": "postcodes-codepoint-open/Codelist.xlsx",
        "codepoint_metadata": "postcodes-codepoint-open/codepoint_metadata.txt",
        "wards": "wards-2024-ons-bgc-london/london_wards_dec2024_bgc_704.shp",
        "london_boundary": "boroughs-london/London_GLA_Boundary.shp",
    }


def test_fetch_all_writes_the_mirror_layout_and_the_build_runs_on_it(release, publishers, tmp_path):
    raw, messages = tmp_path / "raw", []
    download.fetch_all(raw, log=messages.append)

    files = resolve_raw_files(raw)
    assert files == {
        "london_postcodes": "postcodes-codepoint-open/london_postcodes_codepoint_2025_4.csv.gz",
        "withdrawn_postcodes": "postcodes-onspd/london_postcodes_terminated_onspd_nov_2025.csv.gz",
        "gb_postcodes": "postcodes-codepoint-open/gb_postcodes_codepoint_2025_4.csv.gz",
        "codelist": "postcodes-codepoint-open/Codelist.xlsx",
        "codepoint_metadata": "postcodes-codepoint-open/codepoint_metadata.txt",
        "wards": "wards-2024-ons-bgc-london/london_wards_dec2024_bgc.geojson",
    }
    # The London file is the mirror's, row for row and column for column (lat/lon and names included).
    pd.testing.assert_frame_equal(_read(raw / files["london_postcodes"]), release.live)
    gb = _read(raw / files["gb_postcodes"])
    mirror_gb_columns = pd.read_csv(CODEPOINT / "gb_postcodes_codepoint_2025_4.csv.gz", nrows=0).columns.tolist()
    assert gb.columns.tolist() == mirror_gb_columns
    assert gb.postcode.tolist() == [*release.outside.postcode, *release.live.postcode]
    pd.testing.assert_frame_equal(gb.head(3), release.outside[mirror_gb_columns])
    withdrawn = _read(raw / files["withdrawn_postcodes"])
    assert withdrawn.columns.tolist() == release.withdrawn_columns
    assert withdrawn.postcode.tolist() == release.terminated
    assert set(withdrawn.Admin_district_code) <= {"E09000001", "E09000006"}
    assert set(withdrawn.last_seen_release) == {"201806", "202001"}
    for name in ("Codelist.xlsx", "codepoint_metadata.txt", "codepoint_licence.txt"):
        assert (raw / "postcodes-codepoint-open" / name).read_bytes() == (CODEPOINT / name).read_bytes()
    assert not list(raw.rglob("*.part")) and not (raw / "downloads").exists()
    assert any(m.startswith("OS Code-Point Open: downloaded") for m in messages)
    assert any("3 wards so far" in m for m in messages)
    assert any("1 without a grid reference left out" in m for m in messages)

    manifest = build(raw, tmp_path / "geodata", log=messages.append)
    counts = manifest["counts"]
    assert (counts["wards"], counts["boroughs"]) == (3, 2)
    assert counts["live_postcodes"] == len(release.live) == 3 * LIVE_PER_WARD
    assert counts["withdrawn_postcodes"] == len(release.terminated) - 1  # the one Code-Point still lists
    assert counts["withdrawn_ward_by"]["inside"] == counts["withdrawn_postcodes"]
    assert counts["gb_postcodes"] == len(release.outside) + len(release.live)
    assert counts["gb_districts"] == 3
    assert counts["pip_in_no_polygon"] == 0
    assert manifest["codepoint_version"] == "2025.4.0"
    sources = manifest["sources"]
    assert sources["withdrawn_postcodes"]["what"].startswith("ONS Postcode Directory ONSPD_NOV_2025: London")
    assert publishers.url + WARDS_PATH in sources["wards"]["what"]
    assert sources["london_postcodes"]["what"].startswith("OS Code-Point Open 2025.4.0, London (E09) rows")
    boundaries = json.loads((tmp_path / "geodata" / "wards.geojson").read_text("utf-8"))
    assert sorted(f["properties"]["code"] for f in boundaries["features"]) == sorted(WARDS)


@pytest.mark.parametrize("served_crs", [27700, 4326])
def test_wards_are_written_in_british_national_grid_whatever_arcgis_returns(release, tmp_path, served_crs):
    mirror = gpd.read_file(WARDS_SHP)
    mirror = mirror[mirror.WD24CD.isin(WARDS)].sort_values("WD24CD").reset_index(drop=True)
    features = json.loads(mirror.to_crs(served_crs).to_json(drop_id=True))["features"]
    for feature in features:  # some ONS layers spell their fields in lower case
        feature["properties"] = {k.lower(): v for k, v in feature["properties"].items()}
    with local_server() as server, requests.Session() as session:
        server.routes[WARDS_PATH] = _arcgis(features)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FINDER_WARDS_URL", server.url + WARDS_PATH)
            download.fetch_wards(tmp_path, session, lambda _: None)
    assert len(server.requests) == 2  # two pages
    written = gpd.read_file(tmp_path / download.WARDS_FILE)
    assert written.crs.to_epsg() == 27700
    assert written.WD24CD.tolist() == sorted(WARDS)
    assert written.geometry.geom_equals_exact(mirror.geometry, tolerance=0.01).all()


def test_an_onspd_release_with_the_older_column_names_in_per_area_files(release, tmp_path):
    by_area: dict[str, list[dict[str, str]]] = {}
    for row in release.onspd_rows:
        by_area.setdefault(row["pcds"][:2], []).append(row)
    archive = tmp_path / "onspd.zip"
    files = {
        f"Data/multi_csv/ONSPD_FEB_2024_UK_{area}.csv": _onspd_csv(rows, old=True) for area, rows in by_area.items()
    }
    archive.write_bytes(_zip(files))
    name, dest = download.extract_onspd_withdrawn(archive, tmp_path / "out", lambda _: None)
    assert (name, dest.name) == ("ONSPD_FEB_2024", "london_postcodes_terminated_onspd_feb_2024.csv.gz")
    withdrawn = _read(dest)
    assert withdrawn.postcode.tolist() == release.terminated
    first = release.onspd_rows[0]
    row = withdrawn.set_index("postcode").loc[first["pcds"]]
    assert (row.Eastings, row.Northings) == (first["east"], first["north"])
    assert row.Admin_ward_code_at_last_seen == first["ward"]
    assert (row.Positional_quality_indicator, row.last_seen_release) == ("1", "201806")


def test_an_empty_onspd_address_writes_no_withdrawn_postcodes_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FINDER_ONSPD_URL", "")
    messages: list[str] = []
    with requests.Session() as session:
        download.fetch_withdrawn(tmp_path, session, messages.append)
    (written,) = (tmp_path / "postcodes-onspd").iterdir()
    assert _read(written).columns.tolist() == download.WITHDRAWN_COLUMNS and _read(written).empty
    assert any("NOT downloaded" in m for m in messages)


@pytest.mark.parametrize(
    "raw, canonical",
    [("E1  6AN", "E1 6AN"), ("ec1a1bb", "EC1A 1BB"), ("SW1A 1AA", "SW1A 1AA"), ("W1A 0AX ", "W1A 0AX")],
)
def test_postcodes_are_written_with_one_space(raw, canonical):
    assert download.normalise_postcodes(pd.Series([raw])).tolist() == [canonical]


def test_a_server_error_is_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0)
    replies = iter([Reply(500, "busy"), Reply(200, b"the release")])
    messages: list[str] = []
    with local_server() as server, requests.Session() as session:
        server.routes["/release.zip"] = lambda _: next(replies)
        dest = download.download(
            session, server.url + "/release.zip", tmp_path / "r.bin", messages.append, what="a release", env="FINDER_X"
        )
    assert dest.read_bytes() == b"the release"
    assert len(server.requests) == 2
    assert any("HTTP 500" in m and "retrying" in m for m in messages)
    assert list(tmp_path.iterdir()) == [dest]


def test_a_missing_file_fails_clearly_and_keeps_the_good_copy(tmp_path):
    dest = tmp_path / "release.zip"
    dest.write_bytes(b"the good copy")
    with local_server() as server, requests.Session() as session:
        url = server.url + "/gone.zip"
        with pytest.raises(download.DownloadError) as failure:
            download.download(session, url, dest, lambda _: None, what="a release", env="FINDER_X_URL")
    message = failure.value.format_message()
    assert url in message and "HTTP 404" in message and "FINDER_X_URL" in message
    assert len(server.requests) == 1  # a 404 is not worth retrying
    assert dest.read_bytes() == b"the good copy"
    assert list(tmp_path.iterdir()) == [dest]


@pytest.mark.parametrize(
    "reply, says",
    [
        (Reply(200, "<html>Sign in</html>", headers={"Content-Type": "text/html"}), "is not a zip file"),
        (Reply(503, "down for maintenance"), "after 3 attempts: HTTP 503"),
    ],
)
def test_a_bad_reply_fails_clearly(tmp_path, monkeypatch, reply, says):
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0)
    with local_server() as server, requests.Session() as session:
        server.fallback = lambda _: reply
        with pytest.raises(download.DownloadError, match=says):
            download.download(
                session, server.url + "/r.zip", tmp_path / "r.zip", lambda _: None, what="r", env="E", expect_zip=True
            )
    assert not list(tmp_path.iterdir())


def test_an_unreachable_server_fails_after_the_retries(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0)
    with local_server() as server:
        url = server.url + "/r.zip"
    with requests.Session() as session, pytest.raises(download.DownloadError, match="after 3 attempts") as failure:
        download.download(session, url, tmp_path / "r.zip", lambda _: None, what="r", env="FINDER_X_URL")
    assert url in failure.value.format_message()


def test_an_arcgis_server_error_inside_a_200_reply_is_retried(release, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0)
    pages = _arcgis(release.ward_features)
    replies = iter([Reply(200, {"error": {"code": 500, "message": "Error performing query operation"}})])
    with local_server() as server, requests.Session() as session:
        server.routes[WARDS_PATH] = lambda path: next(replies, None) or pages(path)
        monkeypatch.setenv("FINDER_WARDS_URL", server.url + WARDS_PATH)
        download.fetch_wards(tmp_path, session, lambda _: None)
    assert len(server.requests) == 3  # the error, then two pages
    assert len(gpd.read_file(tmp_path / download.WARDS_FILE)) == len(WARDS)


def test_an_arcgis_error_reply_fails_clearly(tmp_path, monkeypatch):
    with local_server() as server, requests.Session() as session:
        server.routes[WARDS_PATH] = lambda _: Reply(200, {"error": {"code": 499, "message": "Token Required"}})
        monkeypatch.setenv("FINDER_WARDS_URL", server.url + WARDS_PATH)
        with pytest.raises(download.DownloadError, match="Token Required") as failure:
            download.fetch_wards(tmp_path, session, lambda _: None)
    assert server.url + WARDS_PATH in failure.value.format_message()


def test_the_command_reports_a_failed_download_without_a_traceback(app, tmp_path, monkeypatch):
    with local_server() as server:
        monkeypatch.setenv("FINDER_CODEPOINT_URL", server.url + "/missing.zip")
        app.config["GEODATA_DIR"] = str(tmp_path / "geodata")
        result = app.test_cli_runner().invoke(args=["build-geodata", "--raw", str(tmp_path / "no-mirror"), "--force"])
    assert result.exit_code == 1
    assert f"Error: could not download OS Code-Point Open from {server.url}/missing.zip: HTTP 404" in result.output
