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
    from portal.keyring import ensure_key_file

    ensure_key_file(key_file)


def seed_emulator() -> None:
    """The Microsoft emulator's demo state, written once; the emulator keeps it up to date."""
    from microsoft_emulator.scenarios import DEMO_PASSWORDS, demo_state
    from microsoft_emulator.state import save_state

    state_file = VAR / "emulator" / "state.json"
    if state_file.exists():
        step(f"Keeping the Microsoft emulator's state in {state_file} (delete it to start over)")
    else:
        step(f"Seeding the Microsoft emulator's demo directory Contoso in {state_file}")
        save_state(demo_state(), state_file)
    port = os.environ.get("MICROSOFT_EMULATOR_PORT", "8443")
    print(f"    Entra admin center: https://127.0.0.1:{port}/entra/", flush=True)
    print(f"    Global Administrator: admin@contoso.onmicrosoft.com / {DEMO_PASSWORDS['admin']}")
    print(f"    Mailbox: dispatch@contoso.onmicrosoft.com / {DEMO_PASSWORDS['dispatch']}")
    print(f"    MFA user: mfa.user@contoso.onmicrosoft.com / {DEMO_PASSWORDS['mfa']}")
    print(f"    Personal account: someone@outlook.com / {DEMO_PASSWORDS['personal']}")
    print(f"    Emulator state and counters: https://127.0.0.1:{port}/_emulator/", flush=True)


def main() -> None:
    step(f"Preparing the local state folder {VAR}")
    for folder in (
        "broker/queue",
        "broker/processed",
        "broker/control",
        "mail",
        "cache",
        "emulator",
    ):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    ensure_encryption_keys()
    step("Applying database migrations (SQLite in var/portal.sqlite3)")
    manage("migrate", "--noinput", "--verbosity", "0")
    step("Loading the demo data")
    manage("demo_data")
    seed_emulator()
    step(
        "Starting the web server on http://127.0.0.1:8000, a Celery worker, beat and the "
        "Microsoft emulator (its browser pages use its own CA: accept the warning once)"
    )
    step("One Ctrl-C stops them all")
    os.chdir(ROOT)
    honcho = Path(PY).with_name("honcho")
    os.execv(honcho, [str(honcho), "-f", "Procfile.dev", "start"])  # noqa: S606


if __name__ == "__main__":
    main()
