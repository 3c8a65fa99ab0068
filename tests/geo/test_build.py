"""The geodata build: repeatable, recorded in the manifest, names cleaned, safe under a running server."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from finder.config import ROOT, default_raw_data
from finder.geo import build as geobuild
from finder.geo.geodata import GeoData
from tests.geo.test_geodata import copy_geodata

# Postcodes the real data lacks, sorting after every London one: 1,000 rows (36 KB, several pages).
OLD_ONLY = [f"ZZ9 {d}{a}{b}" for d in "0123456789" for a in "ABDEFGHJLN" for b in "ABDEFGHJLN"]

# A stand-in for a server worker: maps geodata as the app does, waits while the build runs, then looks up.
WORKER = """
import sys
from finder.geo.geodata import GeoData

geodata = GeoData(sys.argv[1])
print("mapped", flush=True)
sys.stdin.readline()
for postcode in sys.argv[2:]:
    row = geodata.postcodes.find(postcode)
    ward = None if row is None else geodata.wards.wards[int(geodata.postcodes.rows[row]["ward"])].code
    print(postcode, ward, flush=True)
"""


@pytest.fixture()
def older_geodata(tmp_path):
    """A copy of geodata/ whose postcodes.npy holds 1,000 more postcodes than a build writes."""
    folder = copy_geodata(tmp_path / "geodata")
    rows = np.load(folder / "postcodes.npy")
    extra = np.zeros(len(OLD_ONLY), dtype=rows.dtype)
    extra["postcode"] = OLD_ONLY
    np.save(folder / "postcodes.npy", np.concatenate([rows, extra]), allow_pickle=False)
    return folder


def files_in(folder):
    return {p.name: geobuild.sha256(p) for p in folder.iterdir()}


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Bromley London Boro", "Bromley"),
        ("Manchester District (B)", "Manchester"),
        ("East Cambridgeshire District", "East Cambridgeshire"),
        ("Hartlepool (B)", "Hartlepool"),
        ("Caerdydd - Cardiff", "Cardiff"),
        ("City and County of the City of London", "City of London"),
        ("Aberdeen City", "Aberdeen City"),
    ],
)
def test_district_names_lose_the_code_list_suffixes(raw, clean):
    assert geobuild.clean_district_name(raw) == clean


@pytest.mark.slow
def test_the_build_is_repeatable_and_matches_the_committed_manifest(tmp_path):
    messages: list[str] = []
    manifest = geobuild.build(default_raw_data(), tmp_path, log=messages.append)
    committed = json.loads((ROOT / "geodata" / "manifest.json").read_text("utf-8"))
    assert manifest == committed
    assert (tmp_path / "manifest.json").read_text("utf-8") == (ROOT / "geodata" / "manifest.json").read_text("utf-8")
    assert geobuild.is_built(tmp_path)
    assert any("180,792 live" in m for m in messages)
    assert manifest["codepoint_version"] == "2025.4.0"


def test_is_built_notices_a_changed_or_missing_file(tmp_path):
    for name in (*geobuild.OUTPUTS, "manifest.json"):
        shutil.copy(ROOT / "geodata" / name, tmp_path / name)
    assert geobuild.is_built(tmp_path)
    (tmp_path / "outcodes.json").write_text("{}")
    assert not geobuild.is_built(tmp_path)
    (tmp_path / "outcodes.json").unlink()
    assert not geobuild.is_built(tmp_path)


def test_the_command_does_nothing_when_geodata_matches_its_manifest(runner):
    result = runner.invoke(args=["build-geodata"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output


def test_the_command_refuses_when_there_is_no_raw_data_and_downloads_are_off(app, runner, tmp_path):
    app.config["GEODATA_DIR"] = str(tmp_path / "geodata")
    result = runner.invoke(args=["build-geodata", "--raw", str(tmp_path / "nowhere"), "--no-download"])
    assert result.exit_code != 0
    assert "no raw data" in result.output


@pytest.mark.slow
def test_a_rebuild_leaves_a_running_server_its_old_files_and_a_restart_sees_the_new_ones(older_geodata):
    with subprocess.Popen(
        [sys.executable, "-c", WORKER, str(older_geodata), "SW1A 1AA", OLD_ONLY[-1]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as worker:
        try:
            assert worker.stdout.readline() == "mapped\n"
            geobuild.build(default_raw_data(), older_geodata, log=lambda message: None)
            out, err = worker.communicate("go\n", timeout=60)
        finally:
            worker.kill()
    # Written in place, postcodes.npy shrank under the worker's mapping and its lookup died of SIGBUS (-7).
    assert worker.returncode == 0, err
    assert out.splitlines() == ["SW1A 1AA E05013806", f"{OLD_ONLY[-1]} E05009288"]  # the old file, still whole
    restarted = GeoData(older_geodata)
    assert restarted.postcodes.find("SW1A 1AA") is not None
    assert restarted.postcodes.find(OLD_ONLY[-1]) is None
    expected = [*geobuild.OUTPUTS, geobuild.SCRIPTS_FILE, "manifest.json"]  # and no temporary files
    assert sorted(files_in(older_geodata)) == sorted(expected)
    assert geobuild.is_built(older_geodata)


@pytest.mark.slow
def test_a_build_that_fails_leaves_geodata_as_it_was_and_no_temporary_files(older_geodata):
    before = files_in(older_geodata)

    def fail_after_the_postcodes(message):
        if message.startswith("districts:"):  # postcodes.npy and outcodes.json are written by now
            raise RuntimeError("the build stopped")

    with pytest.raises(RuntimeError, match="the build stopped"):
        geobuild.build(default_raw_data(), older_geodata, log=fail_after_the_postcodes)
    assert files_in(older_geodata) == before
