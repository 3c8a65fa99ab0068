"""Ward map scripts are drawn once with geodata, so a serving process never imports Folium (issue 12)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from finder import create_app
from finder.config import ROOT
from finder.geo.maps import SCRIPTS_FILE, prebuilt_scripts, renderer, ward_map_script, write_map_scripts

WARD = "E05013806"  # St James's


@pytest.fixture(scope="module")
def built(tmp_path_factory, geodata) -> Path:
    """The real geodata, with every ward's map script written beside it as build-geodata writes it."""
    folder = tmp_path_factory.mktemp("geodata")
    for path in (ROOT / "geodata").iterdir():
        if path.name != SCRIPTS_FILE:
            (folder / path.name).symlink_to(path)
    write_map_scripts(geodata.wards, folder / SCRIPTS_FILE)
    return folder


def test_the_built_file_holds_every_wards_script_as_drawn_on_demand(built, geodata):
    scripts = prebuilt_scripts(built)
    assert scripts is not None and set(scripts) == {w.code for w in geodata.wards.wards}
    ids = re.compile(r"_[0-9a-f]{32}")  # Folium names each element afresh on every drawing
    assert ids.sub("_id", scripts[WARD]) == ids.sub("_id", ward_map_script(geodata.wards, WARD))


def test_the_app_serves_the_built_script(built):
    (built / "marked").mkdir()
    for path in built.iterdir():
        if path.is_symlink():
            (built / "marked" / path.name).symlink_to(path.resolve())
    written = {"renderer": renderer(), "scripts": {WARD: "/* drawn when geodata was built */\n"}}
    (built / "marked" / SCRIPTS_FILE).write_text(json.dumps(written))
    client = create_app({"ENV_NAME": "testing", "GEODATA_DIR": str(built / "marked")}).test_client()
    response = client.get(f"/maps/{WARD}.js")
    assert response.status_code == 200 and response.data == b"/* drawn when geodata was built */\n"


def test_scripts_drawn_by_another_renderer_are_ignored(tmp_path, geodata):
    (tmp_path / SCRIPTS_FILE).write_text(json.dumps({"renderer": "an older maps.py", "scripts": {WARD: "old"}}))
    assert prebuilt_scripts(tmp_path) is None
    assert prebuilt_scripts(tmp_path / "nowhere") is None


def test_a_worker_serving_pages_and_maps_from_built_scripts_never_imports_folium_or_pandas(built):
    program = f"""
import sys
from finder.wsgi import app
client = app.test_client()
assert client.get("/maps/{WARD}.js").status_code == 200
assert client.get("/wards/{WARD}").status_code == 200
assert client.get("/api/v1/postcodes/SW1A%201AA").status_code == 200
print(sorted(m for m in ("folium", "branca", "pandas") if m in sys.modules))
"""
    env = {**os.environ, "FINDER_ENV": "testing", "FINDER_GEODATA": str(built), "FINDER_GEOCODER_URL": ""}
    out = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_build_geodata_on_built_geodata_redraws_scripts_another_renderer_drew(tmp_path):
    for path in (ROOT / "geodata").iterdir():
        if path.name != SCRIPTS_FILE:
            (tmp_path / path.name).symlink_to(path)
    (tmp_path / SCRIPTS_FILE).write_text(json.dumps({"renderer": "an older maps.py", "scripts": {WARD: "old"}}))
    env = {**os.environ, "FINDER_ENV": "testing", "FINDER_GEODATA": str(tmp_path)}
    finder = Path(sys.executable).with_name("finder")
    out = subprocess.run([finder, "build-geodata"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "drawing each ward's map script" in out.stdout and "nothing to do" in out.stdout
    scripts = prebuilt_scripts(tmp_path)
    assert scripts is not None and len(scripts) == 704 and scripts[WARD] != "old"
    assert not (tmp_path / f"{SCRIPTS_FILE}.tmp").exists()
