"""What create_app builds once (issue 23, step 3): one typed Services object that the pages and the commands share."""

from __future__ import annotations

from finder import create_app
from finder.geo.wards import WardIndex
from finder.web import services
from tests.support.stores import sqlite_url

SAMPLE_WARD = "E05013806"  # St James's


def test_the_pages_and_the_commands_of_one_app_load_the_ward_index_once(tmp_path, monkeypatch):
    loads: list[str] = []
    load = WardIndex.from_files

    def counted(*paths: str) -> WardIndex:
        loads.append(paths[0])
        return load(*paths)

    monkeypatch.setattr(WardIndex, "from_files", counted)  # the real loader, counted
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": sqlite_url(tmp_path)})
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["send-digest", "--dry-run"])
        assert result.exit_code == 0, result.output
    assert app.test_client().get(f"/api/v1/wards/{SAMPLE_WARD}").status_code == 200
    assert len(loads) == 1


def test_the_commands_use_the_apps_database_without_the_webs_time_limit(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": sqlite_url(tmp_path), "DB_TIMEOUT": 0.5})
    built = services(app)
    assert built.command_store.url == built.store.url
    assert built.store.timeout == 0.5 and built.command_store.timeout is None
    assert built.command_store is built.command_store  # built once
