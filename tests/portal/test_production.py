"""Production settings, loaded in a fresh process as the containers load them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

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
        PORTAL_BASE_URL="https://portal.example.com",
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


def production_check(tmp_path: Path, **changes: str | None) -> subprocess.CompletedProcess[str]:
    env = production_env(tmp_path)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"PORTAL_ALLOWED_HOSTS": "*"}, "PORTAL_ALLOWED_HOSTS=* is not allowed"),
        ({"PORTAL_ALLOWED_HOSTS": "portal.example.com,*"}, "PORTAL_ALLOWED_HOSTS=* is not allowed"),
        ({"PORTAL_BASE_URL": "http://portal.example.com"}, "PORTAL_BASE_URL='http://portal"),
        ({"PORTAL_BASE_URL": None}, "PORTAL_BASE_URL='http://127.0.0.1:8000'"),
        ({"PORTAL_BASE_URL": "https://"}, "PORTAL_BASE_URL='https:'"),
    ],
)
def test_it_refuses_any_host_and_a_plain_http_base_url(tmp_path, changes, named):
    result = production_check(tmp_path, **changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


COOKIES = """
import django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from django.test.utils import override_settings
from accounts.models import User
User.objects.create_user("cookie@example.com", "a long enough passphrase")
client = Client(HTTP_HOST="portal.example.com")
# Without the collected static files' manifest, which the image build makes.
storages = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
with override_settings(STORAGES=storages):
    page = client.get("/accounts/login/", secure=True)
    data = {"username": "cookie@example.com", "password": "a long enough passphrase"}
    signed_in = client.post("/accounts/login/", data, secure=True)
for response in (page, signed_in):
    for name, morsel in response.cookies.items():
        print(name, bool(morsel["secure"]), morsel["path"], repr(morsel["domain"]))
"""


def test_it_names_the_cookies_host_only_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", COOKIES],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # __Host-: the browser keeps them only Secure, for Path=/ and without a Domain.
    assert set(result.stdout.splitlines()) == {
        "__Host-csrftoken True / ''",
        "__Host-sessionid True / ''",
    }
