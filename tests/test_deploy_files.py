"""Deployment files stay valid: docker-compose.yml parses, the Procfile and nginx config say what
the platform and the proxy need (no Docker engine is required)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECRET = "compose-test-secret-" + "s" * 32


def compose(*args: str, secret: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    """``docker-compose -f docker-compose.yml ARGS`` with ``JWT_SECRET`` set (or unset)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    if secret is not None:
        env["JWT_SECRET"] = secret
    return subprocess.run([binary, "-f", "docker-compose.yml", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_compose_config_is_valid() -> None:
    proc = compose("config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_compose_refuses_to_start_without_a_jwt_secret() -> None:
    proc = compose("config", "-q", secret=None)
    assert proc.returncode != 0
    assert "JWT_SECRET" in proc.stderr
    assert "JWT_SECRET: ${JWT_SECRET:?" in (ROOT / "docker-compose.yml").read_text()


def _config() -> dict[str, Any]:
    proc = compose("config")
    assert proc.returncode == 0, proc.stderr
    return dict(yaml.safe_load(proc.stdout))


def test_compose_hubs_trust_only_the_proxy() -> None:
    services = _config()["services"]
    proxy_ip = services["proxy"]["networks"]["default"]["ipv4_address"]
    for name in ("hub1", "hub2"):
        env = services[name]["environment"]
        assert env["JWT_SECRET"] == SECRET
        assert env["FORWARDED_ALLOW_IPS"] == proxy_ip  # not "*": other containers can't lie
    assert "FORWARDED_ALLOW_IPS" not in services["locust-master"]["environment"]


def test_compose_has_the_documented_services() -> None:
    proc = compose("config", "--services")
    assert proc.returncode == 0, proc.stderr
    services = set(proc.stdout.split())
    expected = {"postgres", "redis", "migrate", "hub1", "hub2", "proxy", "locust-master"}
    assert expected <= services, expected - services
    assert any(s.startswith("locust-worker") for s in services)


def test_procfile() -> None:
    lines = {
        kind.strip(): command.strip()
        for kind, command in (
            line.split(":", 1)
            for line in (ROOT / "Procfile").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    }
    assert lines == {
        "release": "evently migrate",
        "web": "evently serve --host 0.0.0.0 --port $PORT",
    }


def test_proxy_passes_websocket_upgrades_to_both_replicas() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in conf
    assert "proxy_set_header Connection $connection_upgrade" in conf
    assert "proxy_http_version 1.1" in conf
    assert "server hub1:8000" in conf and "server hub2:8000" in conf
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf" in compose


def test_dockerfile_uses_uv_and_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert '"evently", "serve", "--host", "0.0.0.0"' in dockerfile


def test_proxy_overwrites_forwarded_for_and_hides_metrics() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in conf  # would append to the client's own header
    assert conf.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    block = conf[conf.index("location = /metrics"):]
    assert "return 404;" in block[:block.index("}")]
