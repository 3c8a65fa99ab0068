"""The finder installed from its wheel, outside the checkout, serves its pages and static files.

The wheel is built without build isolation and installed without dependencies into a venv in a temporary
folder that sees the project venv's packages through a .pth file, so nothing is downloaded. Geodata and
the vendored front-end packages are build outputs, pointed to by FINDER_GEODATA and FINDER_VENDOR.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from finder.config import ROOT

pytestmark = pytest.mark.wheel
SOURCES = ("finder", "templates", "static", "setup.cfg", "pyproject.toml", "README.md")
NOT_SOURCES = shutil.ignore_patterns("__pycache__", "*.egg-info", "vendor", "*.gz", "*.br", ".*")


def run(*args: str | Path, **kwargs) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def build_wheel(tmp: Path) -> Path:
    """The wheel, built from a copy of the sources: setuptools' build/ folder keeps files a checkout has
    since deleted, so a build in place could ship them."""
    source = tmp / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=NOT_SOURCES)
        else:
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
        "-w", tmp / "dist", source)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("finder-*.whl")
    return wheel


def install(wheel: Path, tmp: Path) -> Path:
    """A venv outside the checkout holding the wheel, and the project venv's packages after its own."""
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_wheel_carries_templates_and_static_files_but_no_build_outputs(tmp_path):
    names = zipfile.ZipFile(build_wheel(tmp_path)).namelist()

    assert "finder/templates/result.html" in names and "finder/templates/admin/sign_in.html" in names
    assert "finder/static/finder.css" in names and "finder/static/embed.js" in names
    assert "finder/store/migrations/env.py" in names
    assert not [name for name in names if "vendor/" in name or name.endswith((".npy", ".geojson", ".gz", ".br"))]


def test_the_installed_wheel_serves_a_result_page_and_static_files_from_outside_the_checkout(tmp_path):
    python = install(build_wheel(tmp_path), tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FINDER_", "DATABASE_URL"))}
    where = run(python, "-c", "import finder; print(finder.__file__)", cwd=tmp_path, env=env)
    assert Path(where).is_relative_to(tmp_path / "venv"), where  # not the checkout's finder

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env |= {
        "FINDER_ENV": "production",
        "SECRET_KEY": "test only",
        "FINDER_PUBLIC_URL": base,
        "FINDER_GEODATA": str(ROOT / "geodata"),
        "FINDER_VENDOR": str(ROOT / "static" / "vendor"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'teams.db'}",
        "FINDER_TILES_URL": "",
        "FINDER_REACH_COUNTING": "0",
    }
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "--preload", "--workers", "1", "--bind", f"127.0.0.1:{port}", "finder.wsgi:app"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the installed finder did not answer within 30 s"
            try:
                if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)

        page = requests.get(f"{base}/search", params={"postcode": "SW1A 1AA"}, timeout=10)
        assert page.status_code == 200 and "St James" in page.text and "Your neighbourhood team" in page.text
        for plain in ("finder.css", "vendor/leaflet/leaflet.js"):
            stem, ext = plain.rsplit(".", 1)
            (address,) = set(re.findall(rf'"(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext})"', page.text))
            served = requests.get(base + address, timeout=10)
            assert served.status_code == 200, address
            assert served.content == (ROOT / "static" / plain).read_bytes(), address
            assert "immutable" in served.headers["Cache-Control"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr:
            server.stderr.close()
