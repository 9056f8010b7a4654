"""`make run`: prepare the embedded setup, then run every process in the foreground.

Each step says what it does. One Ctrl-C stops the web server, the Celery worker
and beat together (honcho supervises them).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Everything the embedded setup writes: the database, the broker's queue, e-mails,
# the cache, the encryption keys, the emulator's state. Private to the user.
STATE_FOLDERS = ("broker/queue", "broker/processed", "broker/control", "mail", "cache", "emulator")
PRIVATE_UMASK = 0o077


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def var_dir() -> Path:
    """The state folder as portal/settings.py reads it (PORTAL_VAR_DIR, else var/),
    made absolute against the project so that every process started from here agrees."""
    sys.path.insert(0, str(ROOT))
    from portal.env import env_str

    folder = Path(env_str("PORTAL_VAR_DIR", str(ROOT / "var"))).expanduser()
    return folder if folder.is_absolute() else ROOT / folder


def prepare_state_folder() -> Path:
    """Create the state folder and its sub-folders, readable by this user only.

    The umask stays set for the rest of the run (and the servers started from it), so
    the database, keys, e-mails and queued tasks they write are 0600 as well. Returns
    the folder, which is also exported as PORTAL_VAR_DIR for the child processes."""
    folder = var_dir()
    os.umask(PRIVATE_UMASK)
    os.environ["PORTAL_VAR_DIR"] = str(folder)
    step(f"Preparing the local state folder {folder}")
    for sub in STATE_FOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    _make_private(folder)
    return folder


def _make_private(folder: Path) -> None:
    """chmod go-rwx on the folder and what an earlier run left in it with wider modes."""
    for parent, folders, files in os.walk(folder):
        for name in [*folders, *files, ""]:
            path = Path(parent, name) if name else Path(parent)
            if path.is_symlink():
                continue
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)


def ensure_encryption_keys(var: Path) -> None:
    """The vault's local key file, made once: losing it makes the stored secrets unreadable."""
    if os.environ.get("PORTAL_ENCRYPTION_KEYS") or os.environ.get("PORTAL_ENCRYPTION_KEYS_FILE"):
        step("Encryption keys come from PORTAL_ENCRYPTION_KEYS(_FILE)")
        return
    key_file = var / "encryption.keys"
    if key_file.exists():
        step(f"Encryption keys: using {key_file}")
        return
    step(f"Creating the local encryption key file {key_file} (keep it; never commit it)")
    from portal.keyring import ensure_key_file

    ensure_key_file(key_file)


def vendor_app_settings() -> None:
    """Vendor mode and the automatic registration on, with the emulator's demo vendor
    app and registration app (unless set otherwise)."""
    from microsoft_emulator.scenarios import (
        PROVISIONING_APP_ID,
        VENDOR_APP_ID,
        VENDOR_APP_OBJECT_ID,
        VENDOR_DIRECTORY_ID,
    )

    os.environ.setdefault("PORTAL_PROVISIONING_APP_ID", PROVISIONING_APP_ID)
    os.environ.setdefault("PORTAL_VENDOR_APP_ID", VENDOR_APP_ID)
    os.environ.setdefault("PORTAL_VENDOR_APP_OBJECT_ID", VENDOR_APP_OBJECT_ID)
    os.environ.setdefault("PORTAL_VENDOR_DIRECTORY", VENDOR_DIRECTORY_ID)


def vendor_certificate(var: Path) -> str:
    """The vendor app's certificate in the portal's vault: made on the first run, as the
    README's vendor set-up does (its public part is what the vendor uploads)."""
    step("The vendor app's certificate (its private key stays in the portal's vault)")
    certificate = var / "emulator" / "vendor-app.cer"
    manage("vendor_certificate", "make", "--out", str(certificate), "--unless-active")
    return certificate.read_text(encoding="utf-8")


def seed_emulator(var: Path, vendor_certificate_pem: str) -> None:
    """The Microsoft emulator's demo state, written once (the emulator keeps it up to
    date), with the vendor's directory and app, its certificate uploaded as the vendor
    would upload it in Entra."""
    from microsoft_emulator.scenarios import DEMO_PASSWORDS, add_vendor, demo_state
    from microsoft_emulator.state import load_state, save_state

    state_file = var / "emulator" / "state.json"
    if state_file.exists():
        step(f"Keeping the Microsoft emulator's state in {state_file} (delete it to start over)")
        state = load_state(state_file)
    else:
        step(f"Seeding the Microsoft emulator's demo directory Contoso in {state_file}")
        state = demo_state()
    portal_url = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
    app = add_vendor(state, portal_url=portal_url, certificate_pem=vendor_certificate_pem)
    save_state(state, state_file)
    uploaded = next(
        c for c in app.key_credentials if c.pem.strip() == vendor_certificate_pem.strip()
    )
    manage("vendor_certificate", "activate", "--certificate-id", uploaded.key_id, "--if-pending")
    port = os.environ.get("MICROSOFT_EMULATOR_PORT", "8443")
    print(f"    Entra admin center: https://127.0.0.1:{port}/entra/", flush=True)
    print(f"    Global Administrator: admin@contoso.onmicrosoft.com / {DEMO_PASSWORDS['admin']}")
    print(f"    Mailbox: dispatch@contoso.onmicrosoft.com / {DEMO_PASSWORDS['dispatch']}")
    print(f"    MFA user: mfa.user@contoso.onmicrosoft.com / {DEMO_PASSWORDS['mfa']}")
    print(f"    Personal account: someone@outlook.com / {DEMO_PASSWORDS['personal']}")
    print(f"    The vendor's multi-tenant app: {app.name} ({app.client_id})")
    print(f"    Emulator state and counters: https://127.0.0.1:{port}/_emulator/", flush=True)


def runserver_address() -> str:
    """Where the web server listens: the host and port of PORTAL_BASE_URL (by default
    http://127.0.0.1:8000), so that every link the portal writes reaches it."""
    base = urlsplit(os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000"))
    if base.scheme != "http" or base.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("make run serves http://127.0.0.1:<port>: set PORTAL_BASE_URL to one or unset it.")
    return f"{base.hostname}:{base.port or 80}"


def main() -> None:
    var = prepare_state_folder()
    ensure_encryption_keys(var)
    vendor_app_settings()
    step(f"Applying database migrations (SQLite in {var / 'portal.sqlite3'} unless DATABASE_URL)")
    manage("migrate", "--noinput", "--verbosity", "0")
    step("Loading the demo data")
    manage("demo_data")
    seed_emulator(var, vendor_certificate(var))
    address = runserver_address()
    os.environ["RUNSERVER_ADDRESS"] = address  # Procfile.dev's web line
    step(
        f"Starting the web server on http://{address}, a Celery worker, beat and the "
        "Microsoft emulator (its browser pages use its own CA: accept the warning once)"
    )
    step(f"Liveness http://{address}/healthz/, readiness http://{address}/readyz/")
    step("One Ctrl-C stops them all")
    os.chdir(ROOT)
    honcho = Path(PY).with_name("honcho")
    os.execv(honcho, [str(honcho), "-f", "Procfile.dev", "start"])  # noqa: S606


if __name__ == "__main__":
    main()
