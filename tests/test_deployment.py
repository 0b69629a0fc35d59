"""The Docker and systemd files: linted, and in step with the code and the docs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"


def test_the_dockerfile_passes_hadolint() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the test extras)")
    result = subprocess.run([hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(DOCKER / "Dockerfile")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_the_daemon_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "apt-get install" in dockerfile and " chromium " in dockerfile
    assert "USER 10001:10001" in dockerfile and 'CMD ["run"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    for package in ("agent", "flows", "storage", "sandbox"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_compose_file_wires_postgres_mail_and_secrets_that_exist() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"civicwatch", "postgres", "mailpit", "sandbox"} <= set(services)
    assert services["civicwatch"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for secret in compose["secrets"].values():
        assert (DOCKER / secret["file"]).exists()


def test_the_compose_config_is_a_valid_civicwatch_config(tmp_path: Path) -> None:
    text = (DOCKER / "civicwatch.toml").read_text().replace("/run/secrets/", f"{DOCKER / 'secrets'}/")
    config = tmp_path / "civicwatch.toml"
    config.write_text(text)
    settings = load_settings(config)
    assert settings.accounts[0].url.startswith("http://sandbox:8000/")
    assert settings.alerts.routes[0].channels[0].problem is None


def test_the_systemd_unit_uses_credentials_and_the_watchdog() -> None:
    unit = (ROOT / "docs" / "civicwatch.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "LoadCredential=", "ExecReload=/bin/kill -HUP $MAINPID",
                 "User=civicwatch", " run"):
        assert line in unit
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert "civicwatch.service" in operations and "cred:" in operations
