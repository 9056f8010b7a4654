"""`make run`: prepare the embedded setup, then run every process in the foreground.

Each step says what it does. One Ctrl-C stops the web server, the Celery worker
and beat together (honcho supervises them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PY = sys.executable


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def ensure_encryption_keys() -> None:
    """The vault's local key file, made once: losing it makes the stored secrets unreadable."""
    if os.environ.get("PORTAL_ENCRYPTION_KEYS") or os.environ.get("PORTAL_ENCRYPTION_KEYS_FILE"):
        step("Encryption keys come from PORTAL_ENCRYPTION_KEYS(_FILE)")
        return
    key_file = VAR / "encryption.keys"
    if key_file.exists():
        step(f"Encryption keys: using {key_file}")
        return
    step(f"Creating the local encryption key file {key_file} (keep it; never commit it)")
    sys.path.insert(0, str(ROOT))
    from onboarding.vault import ensure_key_file

    ensure_key_file(key_file)


def main() -> None:
    step(f"Preparing the local state folder {VAR}")
    for folder in ("broker/queue", "broker/processed", "mail", "cache"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    ensure_encryption_keys()
    step("Applying database migrations (SQLite in var/portal.sqlite3)")
    manage("migrate", "--noinput", "--verbosity", "0")
    step("Loading the demo data")
    manage("demo_data")
    step("Starting the web server on http://127.0.0.1:8000, a Celery worker and beat")
    step("One Ctrl-C stops them all")
    os.chdir(ROOT)
    honcho = Path(PY).with_name("honcho")
    os.execv(honcho, [str(honcho), "-f", "Procfile.dev", "start"])  # noqa: S606


if __name__ == "__main__":
    main()
