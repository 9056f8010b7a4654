"""docker-compose.yml cannot run here (no Docker), so it is read and checked:
the services, their health checks, and that everything they name exists."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]
# Read by the vault work stream (onboarding/vault.py), not by settings.py yet.
# Read by onboarding.vault (through portal/settings.py) under a named constant.
READ_ELSEWHERE = {"PORTAL_ENCRYPTION_KEYS"}


def settings_variables() -> set[str]:
    source = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))


def command(service: str) -> list[str]:
    value = SERVICES[service]["command"]
    return value.split() if isinstance(value, str) else list(value)


def test_it_has_the_production_services():
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(SERVICES)


@pytest.mark.parametrize("service", ["web", "worker", "beat", "postgres", "redis"])
def test_it_checks_the_health_of_every_long_running_service(service):
    healthcheck = SERVICES[service]["healthcheck"]
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert not healthcheck.get("disable")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_it_runs_the_portal_in_production_mode(service):
    env = SERVICES[service]["environment"]
    assert env["PORTAL_ENV"] == "production"
    for name in [
        "PORTAL_SECRET_KEY_FILE",
        "DATABASE_URL_FILE",
        "REDIS_URL",
        "PORTAL_ALLOWED_HOSTS",
        "PORTAL_ENCRYPTION_KEYS_FILE",
    ]:
        assert name in env, name
    assert "PORTAL_SECRET_KEY" not in env  # secrets come from files, never the environment


@pytest.mark.parametrize("service", APP_SERVICES)
def test_it_sets_only_variables_the_portal_reads(service):
    known = settings_variables() | READ_ELSEWHERE
    for name in SERVICES[service]["environment"]:
        assert name.removesuffix("_FILE") in known, f"{service}: {name} is read by nothing"


def test_it_declares_every_secret_it_mounts():
    for name, service in SERVICES.items():
        for secret in service.get("secrets", []):
            assert secret in COMPOSE["secrets"], f"{name}: {secret}"
            mount = f"/run/secrets/{secret}"
            env_values = [str(v) for v in service.get("environment", {}).values()]
            assert mount in env_values or name == "postgres", f"{name} mounts {secret} unused"


def test_it_starts_web_after_the_database_redis_and_migrations():
    depends = SERVICES["web"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert command("migrate")[-2:] == ["migrate", "--noinput"]


def test_it_serves_the_wsgi_application_with_gunicorn():
    cmd = command("web")
    assert cmd[0] == "gunicorn"
    module, attribute = cmd[1].split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize(("service", "role"), [("worker", "worker"), ("beat", "beat")])
def test_it_runs_celery_from_the_portal_app(service, role):
    cmd = command(service)
    assert cmd[:4] == ["celery", "-A", "portal", role]
    from portal.celery import app

    assert app.main == "portal"


def test_it_runs_exactly_one_beat():
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_it_names_only_management_commands_that_exist():
    for name, service in SERVICES.items():
        cmd = service.get("command") or []
        if "manage.py" in cmd:
            assert cmd[cmd.index("manage.py") + 1] in get_commands(), name


@pytest.mark.parametrize("service", ["web", "beat"])
def test_it_uses_python_health_checks_that_compile_and_import(service):
    test = SERVICES[service]["healthcheck"]["test"]
    code = test[test.index("-c") + 1]
    compile(code, f"{service} healthcheck", "exec")
    for module in re.findall(r"import ([\w.]+)", code):
        importlib.import_module(module)


def test_it_pings_the_worker_with_the_portal_app():
    assert "celery -A portal inspect ping" in SERVICES["worker"]["healthcheck"]["test"][1]


def test_it_uses_executables_the_project_installs():
    bin_dir = Path(sys.executable).parent
    for name in ["gunicorn", "celery", "python"]:
        assert (bin_dir / name).exists() or shutil.which(name), name


def test_it_builds_an_image_that_collects_static_files_for_whitenoise():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.M)
    assert "manage.py collectstatic --noinput" in dockerfile
    assert "PORTAL_VAR_DIR=/var/lib/portal" in dockerfile
    assert re.search(r"^USER portal$", dockerfile, re.M)
    assert SERVICES["web"]["build"] == "."
    assert {".venv", "var", "secrets"} <= set((ROOT / ".dockerignore").read_text().split())
