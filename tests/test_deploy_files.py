"""Deployment files stay valid: docker-compose.yml parses, the Procfile and nginx config say what
the platform and the proxy need (no Docker engine is required)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_compose_config_is_valid() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    proc = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_compose_has_the_documented_services() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed")
    proc = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
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
