"""Production settings, loaded in a fresh process as the containers load them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
client = Client(HTTP_HOST="portal.example.com")
print(client.get("/healthz/").status_code, client.get("/accounts/login/").status_code)
"""


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY=secrets.token_urlsafe(50),
        PORTAL_ALLOWED_HOSTS="portal.example.com",
        PORTAL_VAR_DIR=str(tmp_path),
        PORTAL_ENCRYPTION_KEYS=f"prod:{base64.b64encode(secrets.token_bytes(32)).decode()}",
    )
    env.pop("REDIS_URL", None)
    return env


def test_it_answers_health_checks_over_http_and_redirects_the_rest(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["200", "301"], result.stderr


def test_it_collects_static_files_as_the_image_build_does(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static" / "css").glob("portal.*.css.gz"))
