"""Start-up behaviour of the encryption key settings, in real `manage.py check` processes."""

import os
import subprocess
import sys
from pathlib import Path

from portal import keyring

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "x" * 64,
    "PORTAL_ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_BASE_URL": "https://portal.example.com",
}


def manage_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "PORTAL_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_in_production_without_keys(tmp_path):
    result = manage_check(tmp_path, **PRODUCTION)
    assert result.returncode != 0
    assert "PORTAL_ENCRYPTION_KEYS (or PORTAL_ENCRYPTION_KEYS_FILE) must be set" in result.stderr


def test_it_starts_in_production_with_keys(tmp_path):
    result = manage_check(
        tmp_path, **PRODUCTION, PORTAL_ENCRYPTION_KEYS=keyring.generate_entry("k1")
    )
    assert result.returncode == 0, result.stderr


def test_it_stops_on_a_malformed_key_list_naming_the_position_only(tmp_path):
    good, bad = keyring.generate_entry("k1"), "k2:" + keyring.generate_entry("x").split(":")[1][:20]
    result = manage_check(tmp_path, PORTAL_ENCRYPTION_KEYS=f"{good},{bad}")
    assert result.returncode != 0
    assert "PORTAL_ENCRYPTION_KEYS: entry 2 has a 15-byte key" in result.stderr
    assert good.split(":")[1][:10] not in result.stderr + result.stdout
    assert bad.split(":")[1][:10] not in result.stderr + result.stdout


def test_it_names_the_file_variable_when_the_file_is_malformed(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text("just-a-key-without-id\n")
    result = manage_check(tmp_path, PORTAL_ENCRYPTION_KEYS_FILE=str(key_file))
    assert "PORTAL_ENCRYPTION_KEYS_FILE: entry 1 is not of the form" in result.stderr
    assert "just-a-key" not in result.stderr


def test_it_starts_in_development_without_keys_or_key_file(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr
    # The key file appears on first use, not merely on start.
    assert not (tmp_path / "encryption.keys").exists()
