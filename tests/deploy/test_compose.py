"""deploy/compose.yaml cannot run here (no image can be pulled), so: it parses, names every service, and says
what deploy/run-local (which the marked tests run) says, through the same HAProxy file."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from finder.config import ROOT

DEPLOY = ROOT / "deploy"
SERVICES = {"proxy", "finder1", "finder2", "finder3", "migrate", "sync", "postgres", "redis"}
INSTANCES = ("finder1", "finder2", "finder3")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def run_local_instance_settings() -> set[str]:
    """The variables deploy/run-local exports for each instance (its `instance` function)."""
    script = (DEPLOY / "run-local").read_text()
    body = script[script.index("instance() {") : script.index("exec .venv/bin/gunicorn")]
    exported = body[body.index("export ") :]
    return set(re.findall(r"(?:export\s+|\\\n\s+|\s)([A-Z][A-Z0-9_]+)(?==|\s|$)", exported))


def test_the_compose_file_names_the_proxy_three_instances_the_migration_the_sync_postgresql_and_redis(compose):
    assert set(compose["services"]) == SERVICES
    for name in INSTANCES:
        instance = compose["services"][name]
        assert "/readyz" in " ".join(instance["healthcheck"]["test"])
        assert instance["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["command"] == ["finder", "init-db"]
    assert "sync-policeuk" in " ".join(compose["services"]["sync"]["command"])
    assert not any("ports" in compose["services"][name] for name in SERVICES - {"proxy"})  # only the proxy is public


def test_each_instance_gets_every_setting_run_local_gives_its_instances_with_the_same_meaning(compose):
    settings = run_local_instance_settings()
    assert {"BIND", "FINDER_PROXIES", "FINDER_REDIS_URL", "FINDER_METRICS_LISTEN"} <= settings
    script = (DEPLOY / "run-local").read_text()
    for name in INSTANCES:
        environment = compose["services"][name]["environment"]
        assert settings <= set(environment), settings - set(environment)
        assert environment["FINDER_PROXIES"] == "1" and "FINDER_PROXIES=1" in script
        assert environment["FINDER_LOG_FORMAT"] == "json" and "FINDER_LOG_FORMAT=json" in script
        assert environment["FINDER_REDIS_URL"].startswith("redis://") and "redis://" in script


def test_both_fill_in_every_address_the_haproxy_file_asks_for(compose):
    lines = (DEPLOY / "haproxy" / "finder.cfg").read_text().splitlines()
    wanted = {name for line in lines if not line.lstrip().startswith("#") for name in re.findall(r"\$\{(\w+)\}", line)}
    proxy = compose["services"]["proxy"]
    assert "./haproxy/finder.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in proxy["volumes"]
    assert wanted == set(proxy["environment"])
    script = (DEPLOY / "run-local").read_text()
    assert "INSTANCES=3" in script
    for name in wanted:  # each instance's address as FINDER${i}_ADDR, for i in 1..3
        assert re.sub(r"^FINDER\d_", "FINDER${i}_", name) in script, name


@pytest.mark.deploy
def test_haproxy_accepts_the_configuration(tmp_path):
    haproxy = shutil.which("haproxy", path="/usr/sbin:/usr/bin:/sbin:/bin")
    assert haproxy, "haproxy is not installed: deploy/run-local installs it (Debian package haproxy)"
    env = {
        "FINDER_PROXY_BIND": "127.0.0.1:8080",
        "FINDER_HEALTH_HOST": "localhost",
        "FINDER_HAPROXY_SOCKET": str(tmp_path / "haproxy.sock"),
        **{f"FINDER{i}_ADDR": f"127.0.0.1:800{i}" for i in (1, 2, 3)},
    }
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy" / "finder.cfg")], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
