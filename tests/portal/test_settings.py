"""Settings read at start: bad values stop it, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage_check(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    clean.update(PORTAL_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_starts_with_the_defaults(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORTAL_DEBUG": "maybe"}, "PORTAL_DEBUG='maybe'"),
        ({"PORTAL_ENV": "production"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_INVITATION_VALID_DAYS": "a week"}, "PORTAL_INVITATION_VALID_DAYS"),
        ({"PORTAL_LOGIN_FAILURE_LIMIT": "0"}, "PORTAL_LOGIN_FAILURE_LIMIT"),
        ({"PORTAL_EMAIL_BACKEND": "pigeon"}, "PORTAL_EMAIL_BACKEND"),
        ({"DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
        ({"PORTAL_SECRET_KEY_FILE": "/nonexistent/key"}, "PORTAL_SECRET_KEY_FILE"),
    ],
)
def test_it_refuses_to_start_naming_the_bad_variable(tmp_path, env, named):
    result = manage_check(tmp_path, **env)
    assert result.returncode != 0
    assert named in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_it_reads_the_database_url_from_a_file(tmp_path):
    url_file = tmp_path / "database_url"
    url_file.write_text("sqlite:////tmp/from-a-file.sqlite3\n")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": "",
            "DATABASE_URL_FILE": str(url_file),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "/tmp/from-a-file.sqlite3", result.stderr
