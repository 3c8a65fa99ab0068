"""The geodata build: repeatable, recorded in the manifest, and names cleaned."""

import json
import shutil

import pytest

from finder.config import ROOT, default_raw_data
from finder.geo import build as geobuild


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
