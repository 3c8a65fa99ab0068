"""Download the official open data releases when no local mirror exists.

`finder build-geodata` normally reads a mirror laid out like ../shared/data-raw. On a machine
without one it calls `fetch_all`, which fetches the same releases from their publishers and
writes them into raw_dir under the names and columns `finder.geo.build.RAW_FILES` expects, so
the build runs unchanged. Every address is a constant here and can be overridden by the
environment variable named beside it (tests point them at a local server):

- CODEPOINT_URL, FINDER_CODEPOINT_URL: OS Code-Point Open, CSV, all of GB, from the OS Data Hub
  downloads API (`&redirect` answers with a redirect to the zip).
  https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect
- WARDS_URL, FINDER_WARDS_URL: ONS Wards (December 2024) Boundaries UK BGC, the ONS Open
  Geography Portal's ArcGIS FeatureServer layer query, asked for LAD24CD LIKE 'E09%' as GeoJSON
  in British National Grid (outSR=27700), page by page (resultOffset / resultRecordCount).
  https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0/query
- ONSPD_URL, FINDER_ONSPD_URL: ONS Postcode Directory (November 2025) for the UK, a zip of some
  hundreds of MB. Its terminated postcodes (non-empty `doterm`) in London (E09) are the withdrawn postcodes.
  https://www.arcgis.com/sharing/rest/content/items/3635ca7f69df4733af27caf86473ffa1/data
  (the item behind geoportal.statistics.gov.uk/datasets/ons::ons-postcode-directory-november-2025-for-the-uk).
  The portal gives every ONSPD release a new item id; point FINDER_ONSPD_URL at a newer one when
  it is published. Both the 2025 column names (lad25cd, east1m, ...) and the older ones (oslaua,
  oseast1m, ...) are read. Set FINDER_ONSPD_URL to an empty string to skip it: the withdrawn-postcode
  file is then written empty (header only) and the log says so loudly.

What lands in raw_dir (relative paths; <ver> is the release, e.g. 2025_4 for Code-Point 2025.4.0):

- postcodes-codepoint-open/gb_postcodes_codepoint_<ver>.csv.gz: every GB postcode, columns
  postcode ("OUTWARD INWARD"), Positional_quality_indicator, Eastings, Northings, Country_code,
  Admin_county_code, Admin_district_code, Admin_ward_code.
- postcodes-codepoint-open/london_postcodes_codepoint_<ver>.csv.gz: the rows whose district
  starts E09, with every source column, latitude/longitude (pyproj EPSG:27700 -> 4326, 6 dp) and
  district_name/ward_name from the release's Doc/Codelist.xlsx (sheets LBO, LBW).
- postcodes-codepoint-open/Codelist.xlsx, codepoint_metadata.txt, codepoint_licence.txt,
  Code-Point_Open_Column_Headers.csv: copied from the release's Doc/ folder.
- wards-2024-ons-bgc-london/london_wards_dec2024_bgc.geojson: the London wards, EPSG:27700.
- postcodes-onspd/london_postcodes_terminated_onspd_<release>.csv.gz: columns as the mirror's
  withdrawn file (postcode, last_seen_release, Positional_quality_indicator, Eastings, Northings,
  latitude, longitude, Admin_district_code, Admin_ward_code_at_last_seen), where
  last_seen_release is ONSPD's doterm (YYYYMM), Positional_quality_indicator is ONSPD's grid
  reference indicator (1-9, not Code-Point's 10-90 scale), and the ward is ONSPD's current ward.
  Postcodes without a grid reference are left out: they cannot be placed in a ward.
- sources.json: what each file is and where it came from; the build copies it into the manifest.

Downloads stream to disk, retry twice on connection errors, timeouts and 5xx replies, and are
written to a .part file that replaces the old file only once complete, so a failure never leaves
half a file where a good one was. A failure raises DownloadError, a click.ClickException whose
message names the address and the variable that overrides it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import click
import pandas as pd
import requests
from requests.exceptions import ChunkedEncodingError

from finder.geo.build import RAW_DESCRIPTIONS

Log = Callable[[str], None]

CODEPOINT_URL = "https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect"
WARDS_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0/query"
)
ONSPD_URL = "https://www.arcgis.com/sharing/rest/content/items/3635ca7f69df4733af27caf86473ffa1/data"
URL_ENV = {"codepoint": "FINDER_CODEPOINT_URL", "wards": "FINDER_WARDS_URL", "onspd": "FINDER_ONSPD_URL"}
DEFAULT_URLS = {"codepoint": CODEPOINT_URL, "wards": WARDS_URL, "onspd": ONSPD_URL}

WARDS_WHERE = "LAD24CD LIKE 'E09%'"
WARDS_PAGE_SIZE = 200  # ArcGIS caps a page at the layer's maxRecordCount; we follow exceededTransferLimit
WARD_FIELDS = ("WD24CD", "WD24NM", "LAD24CD", "LAD24NM")

TIMEOUT = (15, 120)  # seconds to connect, and to wait for each read
RETRIES = 2
RETRY_WAIT_S = 3.0  # times the attempt number
USER_AGENT = f"finder-build-geodata requests/{requests.__version__}"

CODEPOINT_DIR = "postcodes-codepoint-open"
WARDS_FILE = "wards-2024-ons-bgc-london/london_wards_dec2024_bgc.geojson"
ONSPD_DIR = "postcodes-onspd"
DOWNLOADS_DIR = "downloads"
SOURCES_FILE = RAW_DESCRIPTIONS  # the build copies these descriptions into the manifest

GB_COLUMNS = [
    "postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
]
LONDON_COLUMNS = [
    "postcode",
    "postcode_raw",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "latitude",
    "longitude",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "district_name",
    "Admin_ward_code",
    "ward_name",
]
WITHDRAWN_COLUMNS = [
    "postcode",
    "last_seen_release",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "latitude",
    "longitude",
    "Admin_district_code",
    "Admin_ward_code_at_last_seen",
]
# ONSPD renamed its columns in 2025 (oslaua -> lad25cd, oseast1m -> east1m, ...): accept both.
ONSPD_COLUMNS = {
    "postcode": r"pcds|pcd|pcd7|pcd2|pcd8",
    "doterm": r"doterm",
    "district": r"oslaua|laua|lad\d\dcd",
    "ward": r"osward|ward|wd\d\dcd",
    "easting": r"oseast1m|east1m",
    "northing": r"osnrth1m|north1m",
    "grid": r"osgrdind|gridind",
}
ONSPD_OPTIONAL = {"grid"}


class DownloadError(click.ClickException):
    """A release could not be fetched or read; the message names the address and how to change it."""


class _Transient(Exception):
    """A failure worth another try: no connection, a timeout, a 5xx or 429 reply."""


def source_url(name: str) -> str:
    """The address for one source ("codepoint", "wards", "onspd"): its environment variable or the default."""
    value = os.environ.get(URL_ENV[name])
    return DEFAULT_URLS[name] if value is None else value.strip()


def fetch_all(raw_dir: Path, log: Log = print) -> None:
    """Fetch every release into raw_dir, laid out as finder.geo.build.RAW_FILES expects."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        for fetch in (fetch_codepoint, fetch_wards, fetch_withdrawn):
            _record_sources(raw_dir, fetch(raw_dir, session, log))
    with contextlib.suppress(OSError):  # the zips are gone once read; keep the folder if anything is left
        (raw_dir / DOWNLOADS_DIR).rmdir()
    log(f"download: all releases are in {raw_dir}")


# -- HTTP ---------------------------------------------------------------------------------------


def _check(response: requests.Response, what: str, env: str) -> None:
    """Raise _Transient for replies worth retrying, DownloadError for the rest of the failures."""
    if response.status_code >= 500 or response.status_code == 429:
        raise _Transient(f"HTTP {response.status_code} {response.reason}")
    if response.status_code >= 400:
        raise DownloadError(
            f"could not download {what} from {response.url}: HTTP {response.status_code} {response.reason}"
            f" (set {env} to another address)"
        )


def _retrying(op: Callable[[], Any], url: str, what: str, env: str, log: Log) -> Any:
    """Run op, trying again after connection errors, timeouts and 5xx replies."""
    for attempt in range(1, RETRIES + 2):
        try:
            return op()
        except (_Transient, requests.ConnectionError, requests.Timeout, ChunkedEncodingError) as exc:
            reason = str(exc) or type(exc).__name__
            if attempt > RETRIES:
                raise DownloadError(
                    f"could not download {what} from {url} after {attempt} attempts: {reason}"
                    f" (set {env} to another address)"
                ) from exc
            wait = RETRY_WAIT_S * attempt
            log(f"{what}: {reason}; retrying in {wait:g} s ({attempt} of {RETRIES} retries)")
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _replacing(dest: Path) -> Iterator[Path]:
    """Yield a .part path beside dest; move it over dest only when the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        yield part
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def download(
    session: requests.Session, url: str, dest: Path, log: Log, *, what: str, env: str, expect_zip: bool = False
) -> Path:
    """Stream url to dest (via dest.part), logging progress; return dest."""
    if not url:
        raise DownloadError(f"no address for {what}: {env} is empty")

    def attempt() -> Path:
        with _replacing(dest) as part:
            started, done, next_report = time.monotonic(), 0, 0
            # identity: the bytes on the wire are the file, so Content-Length can be checked
            with session.get(url, stream=True, timeout=TIMEOUT, headers={"Accept-Encoding": "identity"}) as response:
                _check(response, what, env)
                total = int(response.headers.get("Content-Length") or 0)
                step = max(total // 10, 1 << 20) if total else 25 << 20
                log(f"{what}: downloading {response.url}" + (f" ({_mb(total)})" if total else ""))
                with open(part, "wb") as out:
                    for block in response.iter_content(chunk_size=1 << 20):
                        out.write(block)
                        done += len(block)
                        if done >= next_report + step:
                            next_report = done
                            log(f"{what}: {_mb(done)}" + (f" of {_mb(total)}" if total else ""))
            if total and done != total:
                raise _Transient(f"the reply ended after {done:,} of {total:,} bytes")
            if expect_zip and not zipfile.is_zipfile(part):
                kind = response.headers.get("Content-Type", "unknown type")
                raise DownloadError(f"{what} from {url} is not a zip file ({kind}; set {env} to another address)")
            log(f"{what}: downloaded {_mb(done)} in {time.monotonic() - started:.1f} s")
        return dest

    return _retrying(attempt, url, what, env, log)


def _get_json(session: requests.Session, url: str, params: dict[str, Any], log: Log, *, what: str, env: str) -> Any:
    """GET url with params and return its JSON, with the same retries as download() (and on ArcGIS 5xx errors)."""

    def attempt() -> Any:
        with session.get(url, params=params, timeout=TIMEOUT) as response:
            _check(response, what, env)
            try:
                data = response.json()
            except ValueError as exc:
                raise DownloadError(f"{what} from {response.url} is not JSON (set {env} to another address)") from exc
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and str(error.get("code", "")).isdigit() and int(error["code"]) >= 500:
            raise _Transient(f"ArcGIS error {error['code']}: {error.get('message', '')}")  # ArcGIS says 200 even so
        return data

    return _retrying(attempt, url, what, env, log)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


# -- OS Code-Point Open -------------------------------------------------------------------------


def fetch_codepoint(raw_dir: Path, session: requests.Session, log: Log) -> dict[str, str]:
    """Download Code-Point Open and write the GB and London postcode files and its Doc/ files."""
    url = source_url("codepoint")
    zip_path = download(
        session,
        url,
        raw_dir / DOWNLOADS_DIR / "codepo_gb.zip",
        log,
        what="OS Code-Point Open",
        env=URL_ENV["codepoint"],
        expect_zip=True,
    )
    version = extract_codepoint(zip_path, raw_dir / CODEPOINT_DIR, log, url=url)
    zip_path.unlink()
    where = f"downloaded from {url}"
    return {
        "london_postcodes": f"OS Code-Point Open {version}, London (E09) rows ({where})",
        "gb_postcodes": f"OS Code-Point Open {version}, all GB postcodes ({where})",
        "codelist": f"OS Code-Point Open {version} Doc/Codelist.xlsx ({where})",
        "codepoint_metadata": f"OS Code-Point Open {version} Doc/metadata.txt ({where})",
    }


def _members(archive: zipfile.ZipFile, pattern: str) -> list[str]:
    """Names in the zip whose path matches pattern (case-insensitive), whatever folder wraps them."""
    regex = re.compile(rf"(^|.*/){pattern}$", re.IGNORECASE)
    return sorted((n for n in archive.namelist() if regex.match(n)), key=lambda n: n.lower())


def _one_member(archive: zipfile.ZipFile, pattern: str, url: str) -> str:
    found = _members(archive, pattern)
    if len(found) != 1:
        raise DownloadError(f"expected one {pattern} in the zip from {url}, found {len(found)}")
    return found[0]


def normalise_postcodes(raw: pd.Series) -> pd.Series:
    """Postcodes in the mirror's one-space "OUTWARD INWARD" form: "E1  6AN", "e16an" -> "E1 6AN"."""
    compact = raw.str.upper().str.replace(r"\s+", "", regex=True)
    return compact.str[:-3] + " " + compact.str[-3:]


def _release_tag(version: str) -> str:
    """2025.4.0 -> 2025_4, the suffix the mirror's file names use."""
    parts = re.findall(r"\d+", version)
    return "_".join(parts[:2]) if parts else "unknown"


def _to_wgs84(eastings: pd.Series, northings: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Latitude and longitude (6 dp) of British National Grid points, as the mirror computed them."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(27700, 4326, always_xy=True)
    lon, lat = transformer.transform(eastings.to_numpy(float), northings.to_numpy(float))
    return pd.Series(lat, index=eastings.index).round(6), pd.Series(lon, index=eastings.index).round(6)


def _write_csv_gz(frame: pd.DataFrame, dest: Path) -> None:
    """Write a gzip CSV reproducibly (no timestamp in the gzip header), replacing dest atomically."""
    with _replacing(dest) as part:
        frame.to_csv(part, index=False, compression={"method": "gzip", "mtime": 0, "compresslevel": 6})


def _drop_other_releases(dest: Path, pattern: str) -> None:
    """Remove older releases beside dest, so the build finds exactly one file per source."""
    for old in dest.parent.glob(pattern):
        if old != dest:
            old.unlink()


def extract_codepoint(zip_path: Path, out_dir: Path, log: Log, *, url: str = "") -> str:
    """Turn a Code-Point Open CSV zip into the mirror's files in out_dir; return the release version."""
    url = url or str(zip_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        metadata = archive.read(_one_member(archive, r"doc/metadata\.txt", url))
        match = re.search(rb"DATASET VERSION NUMBER:\s*(\S+)", metadata)
        version = match.group(1).decode() if match else "unknown"
        headers_name = _one_member(archive, r"doc/code-point_open_column_headers\.csv", url)
        names = _column_names(archive.read(headers_name), url)
        copies = {
            "codepoint_metadata.txt": metadata,
            "Codelist.xlsx": archive.read(_one_member(archive, r"doc/codelist\.xlsx", url)),
            "Code-Point_Open_Column_Headers.csv": archive.read(headers_name),
        }
        licence = _members(archive, r"doc/licence\.txt")
        if licence:
            copies["codepoint_licence.txt"] = archive.read(licence[0])
        csv_names = _members(archive, r"data/csv/[^/]+\.csv")
        if not csv_names:
            raise DownloadError(f"the zip from {url} holds no Data/CSV/*.csv files")
        log(f"OS Code-Point Open {version}: reading {len(csv_names)} CSV files")
        gb_parts, london_parts = [], []
        for name in csv_names:
            with archive.open(name) as fh:
                frame = pd.read_csv(fh, header=None, dtype=str, keep_default_na=False)
            if frame.shape[1] != len(names):
                found = f"{frame.shape[1]} columns; the header file names {len(names)}"
                raise DownloadError(f"{name} from {url} has {found}")
            frame.columns = names
            frame["postcode"] = normalise_postcodes(frame.postcode_raw)
            for column in ("Positional_quality_indicator", "Eastings", "Northings"):
                frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
            gb_parts.append(frame[GB_COLUMNS])  # only London keeps the NHS and raw postcode columns
            london_parts.append(frame[frame.Admin_district_code.str.startswith("E09")])
    for filename, data in copies.items():
        with _replacing(out_dir / filename) as part:
            part.write_bytes(data)

    gb = pd.concat(gb_parts, ignore_index=True)
    tag = _release_tag(version)
    gb_dest = out_dir / f"gb_postcodes_codepoint_{tag}.csv.gz"
    _write_csv_gz(gb, gb_dest)
    _drop_other_releases(gb_dest, "gb_postcodes_codepoint_*.csv.gz")
    log(f"OS Code-Point Open {version}: {len(gb):,} GB postcodes -> {gb_dest.name}")

    london = pd.concat(london_parts, ignore_index=True)
    london["latitude"], london["longitude"] = _to_wgs84(london.Eastings, london.Northings)
    sheets = pd.read_excel(out_dir / "Codelist.xlsx", sheet_name=["LBO", "LBW"], header=None, dtype=str)
    district_names = {code: name for name, code in sheets["LBO"].itertuples(index=False)}
    ward_names = {code: name for name, code in sheets["LBW"].itertuples(index=False)}
    london["district_name"] = london.Admin_district_code.map(district_names).fillna("")
    london["ward_name"] = london.Admin_ward_code.map(ward_names).fillna("")
    london_dest = out_dir / f"london_postcodes_codepoint_{tag}.csv.gz"
    _write_csv_gz(london[LONDON_COLUMNS], london_dest)
    _drop_other_releases(london_dest, "london_postcodes_codepoint_*.csv.gz")
    log(f"OS Code-Point Open {version}: {len(london):,} London postcodes -> {london_dest.name}")
    return version


def _column_names(header_csv: bytes, url: str) -> list[str]:
    """The long column names from Doc/Code-Point_Open_Column_Headers.csv, postcode as postcode_raw."""
    rows = list(csv.reader(io.StringIO(header_csv.decode("utf-8-sig"))))
    for row in rows:
        names = [cell.strip() for cell in row]
        if "Eastings" in names and "Admin_ward_code" in names:
            return ["postcode_raw" if n.lower() == "postcode" else n for n in names]
    raise DownloadError(f"the column header file from {url} does not name Eastings and Admin_ward_code")


# -- ONS wards ----------------------------------------------------------------------------------


def fetch_wards(raw_dir: Path, session: requests.Session, log: Log) -> dict[str, str]:
    """Page through the ArcGIS layer for London's wards and write them as GeoJSON in EPSG:27700."""
    url, env, what = source_url("wards"), URL_ENV["wards"], "ONS wards (December 2024) BGC"
    if not url:
        raise DownloadError(f"no address for {what}: {env} is empty")
    features: list[dict[str, Any]] = []
    crs: Any = None
    while True:
        params = {
            "where": WARDS_WHERE,
            "outFields": "*",
            "outSR": "27700",
            "returnGeometry": "true",
            "orderByFields": "WD24CD",
            "resultOffset": str(len(features)),
            "resultRecordCount": str(WARDS_PAGE_SIZE),
            "f": "geojson",
        }
        page = _get_json(session, url, params, log, what=what, env=env)
        if not isinstance(page, dict) or "error" in page or "features" not in page:
            detail = page.get("error") if isinstance(page, dict) else page
            raise DownloadError(f"{what}: {url} answered with an error, not features: {str(detail)[:300]}")
        crs = crs or page.get("crs")
        batch = page["features"]
        features.extend(batch)
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit")
        log(f"{what}: {len(features)} wards so far")
        if not batch or not (more or len(batch) >= WARDS_PAGE_SIZE):
            break
    if not features:
        raise DownloadError(f"{what}: {url} returned no wards for {WARDS_WHERE}")
    dest = raw_dir / WARDS_FILE
    count = write_wards(features, crs, dest)
    log(f"{what}: {count} London wards -> {dest.relative_to(raw_dir)}")
    return {"wards": f"ONS Wards (December 2024) Boundaries UK BGC, {WARDS_WHERE} (downloaded from {url})"}


def write_wards(features: list[dict[str, Any]], crs: Any, dest: Path) -> int:
    """Write ArcGIS GeoJSON features as one deterministic GeoJSON in EPSG:27700; return the ward count.

    ArcGIS should honour outSR=27700, but GeoJSON may come back in WGS84 whatever was asked:
    read the crs member when there is one, and otherwise tell metres from degrees by size.
    """
    import geopandas as gpd  # here: 200 ms, for the wards download only

    for feature in features:  # some ONS layers spell the fields in lower case
        props = feature.get("properties") or {}
        for field in WARD_FIELDS:
            if field not in props:
                match = next((k for k in props if k.upper() == field), None)
                if match is None:
                    raise DownloadError(f"a ward feature lacks {field}: {sorted(props)}")
                props[field] = props.pop(match)
        feature["properties"] = props
    gdf = gpd.GeoDataFrame.from_features(features)
    gdf = gdf.drop_duplicates("WD24CD").sort_values("WD24CD").reset_index(drop=True)
    named = (crs or {}).get("properties", {}).get("name", "") if isinstance(crs, dict) else ""
    minx, miny, maxx, maxy = gdf.total_bounds
    if named:
        source = named
    elif max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        source = "EPSG:4326"
    else:
        source = "EPSG:27700"
    gdf = gdf.set_crs(source, allow_override=True).to_crs(27700)
    collection = json.loads(gdf.to_json(drop_id=True))
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    with _replacing(dest) as part:
        part.write_text(json.dumps(collection, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    return len(gdf)


# -- ONSPD terminated postcodes ----------------------------------------------------------------


def fetch_withdrawn(raw_dir: Path, session: requests.Session, log: Log) -> dict[str, str]:
    """Download ONSPD and keep London's terminated postcodes; with FINDER_ONSPD_URL empty, write none."""
    url, env = source_url("onspd"), URL_ENV["onspd"]
    out_dir = raw_dir / ONSPD_DIR
    if not url:
        dest = out_dir / "london_postcodes_terminated_onspd_none.csv.gz"
        _write_csv_gz(pd.DataFrame(columns=WITHDRAWN_COLUMNS), dest)
        _drop_other_releases(dest, "london_postcodes_terminated_onspd_*.csv.gz")
        log("!" * 78)
        log(f"WARNING: {env} is empty, so withdrawn postcodes were NOT downloaded.")
        log("Terminated London postcodes will be reported as unknown rather than withdrawn.")
        log("!" * 78)
        return {"withdrawn_postcodes": f"none: withdrawn postcodes were not downloaded ({env} was empty)"}
    dest = raw_dir / DOWNLOADS_DIR / "onspd.zip"
    zip_path = download(session, url, dest, log, what="ONS Postcode Directory", env=env, expect_zip=True)
    release, dest = extract_onspd_withdrawn(zip_path, out_dir, log, url=url)
    zip_path.unlink()
    return {
        "withdrawn_postcodes": (
            f"ONS Postcode Directory {release}: London (E09) postcodes with a termination date (downloaded from {url})"
        )
    }


def _onspd_csvs(archive: zipfile.ZipFile, url: str) -> list[str]:
    """The one whole-UK CSV when the zip has it, or else every per-area CSV in Data/multi_csv."""
    whole = [n for n in _members(archive, r"data/onspd_[^/]*\.csv") if "multi_csv" not in n.lower()]
    if len(whole) == 1:
        return whole
    parts = _members(archive, r"data/multi_csv/[^/]+\.csv")
    if parts:
        return parts
    raise DownloadError(f"the zip from {url} holds no ONSPD CSV (Data/ONSPD_*.csv or Data/multi_csv/*.csv)")


def _onspd_columns(header: list[str], name: str) -> dict[str, str]:
    """Map our roles (postcode, doterm, ...) to this release's column names; earlier spellings win."""
    found: dict[str, str] = {}
    for role, pattern in ONSPD_COLUMNS.items():
        for alternative in pattern.split("|"):
            column = next((c for c in header if re.fullmatch(alternative, c.strip(), re.IGNORECASE)), None)
            if column is not None:
                found[role] = column
                break
    missing = [role for role in ONSPD_COLUMNS if role not in found and role not in ONSPD_OPTIONAL]
    if missing:
        raise DownloadError(f"{name} lacks the ONSPD columns for {', '.join(missing)}; its header: {header[:12]}")
    return found


def extract_onspd_withdrawn(zip_path: Path, out_dir: Path, log: Log, *, url: str = "") -> tuple[str, Path]:
    """Write London's terminated postcodes from an ONSPD zip; return the release name and the file."""
    url = url or str(zip_path)
    kept = []
    with zipfile.ZipFile(zip_path) as archive:
        names = _onspd_csvs(archive, url)
        stem = PurePosixPath(names[0]).stem
        match = re.search(r"ONSPD_([A-Z]{3}_\d{4})", stem, re.IGNORECASE)
        release = f"ONSPD_{match.group(1).upper()}" if match else stem
        log(f"ONS Postcode Directory: reading {len(names)} CSV file(s) of {release}")
        for name in names:
            with archive.open(name) as fh:
                header = next(csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")))
            columns = _onspd_columns(header, name)
            with archive.open(name) as fh:
                chunks = pd.read_csv(
                    fh,
                    usecols=list(columns.values()),
                    dtype=str,
                    keep_default_na=False,
                    encoding="utf-8-sig",
                    chunksize=250_000,
                )
                for chunk in chunks:
                    chunk = chunk.rename(columns={v: k for k, v in columns.items()})
                    chunk = chunk[chunk.district.str.startswith("E09") & (chunk.doterm.str.strip() != "")]
                    kept.append(chunk)
    rows = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=list(ONSPD_COLUMNS))
    if "grid" not in rows:
        rows["grid"] = ""
    rows["easting"] = pd.to_numeric(rows.easting, errors="coerce")
    rows["northing"] = pd.to_numeric(rows.northing, errors="coerce")
    located = (rows.easting > 0) & (rows.northing > 0) & (rows.grid.str.strip() != "9")
    skipped = int((~located).sum())
    rows = rows[located].copy()
    rows["postcode"] = normalise_postcodes(rows.postcode)
    rows = rows.drop_duplicates("postcode", keep="last").sort_values("postcode", kind="stable")
    rows["Eastings"] = rows.easting.round().astype("int64")
    rows["Northings"] = rows.northing.round().astype("int64")
    rows["latitude"], rows["longitude"] = _to_wgs84(rows.Eastings, rows.Northings)
    out = pd.DataFrame(
        {
            "postcode": rows.postcode,
            "last_seen_release": rows.doterm.str.strip(),
            "Positional_quality_indicator": rows.grid.str.strip(),
            "Eastings": rows.Eastings,
            "Northings": rows.Northings,
            "latitude": rows.latitude,
            "longitude": rows.longitude,
            "Admin_district_code": rows.district,
            "Admin_ward_code_at_last_seen": rows.ward,
        },
        columns=WITHDRAWN_COLUMNS,
    )
    dest = out_dir / f"london_postcodes_terminated_onspd_{release.removeprefix('ONSPD_').lower()}.csv.gz"
    _write_csv_gz(out, dest)
    _drop_other_releases(dest, "london_postcodes_terminated_onspd_*.csv.gz")
    log(
        f"ONS Postcode Directory: {len(out):,} terminated London postcodes -> {dest.name}"
        + (f" ({skipped:,} without a grid reference left out)" if skipped else "")
    )
    return release, dest


# -- provenance ---------------------------------------------------------------------------------


def _record_sources(raw_dir: Path, described: dict[str, str]) -> None:
    """Merge what each downloaded file is into raw_dir/sources.json, for the build's manifest."""
    path = raw_dir / SOURCES_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update(described)
    with _replacing(path) as part:
        part.write_text(json.dumps(current, sort_keys=True, indent=2) + "\n", encoding="utf-8")
