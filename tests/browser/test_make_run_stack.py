"""Issue 16's "done when", on `make run`'s own stack: scripts/run_portal.py starts the
web server, the Celery worker and beat on the file broker, SQLite and the Microsoft
emulator with its demo directory, exactly as a newcomer gets them. Then, as people
would: the invited admin connects Contoso's mailbox through the wizard and the
emulated Entra admin center; support creates a service key in the dashboard; the
reference client (examples/ops_client.py, a separate process) gets a token with it
and reads the newest message through the emulator's Graph; a webhook endpoint hears
`connection.failing` when the secret is deleted in Entra and `connection.recovered`
once the admin renews it.

Nothing here reaches into the portal's database or the emulator's memory: every fact
comes from a page, the API, the client's output or the webhook receiver.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django_otp.oath import totp
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.browser.conftest import DESKTOP
from tests.browser.entra_steps import (
    entra_certificates,
    entra_new_secret,
    open_in_entra,
    save_portal_certificate,
    sign_in_to_microsoft,
    walk_steps_1_to_3,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "A-long-demo-password-2026"
MS_ADMIN = "admin@contoso.onmicrosoft.com"
MS_ADMIN_PASSWORD = "Contoso-Admin-2026!"  # microsoft_emulator.scenarios.DEMO_PASSWORDS
MAILBOX = "dispatch@contoso.onmicrosoft.com"
PERSONAL = "someone@outlook.com"
PERSONAL_PASSWORD = "Outlook-Personal-2026!"  # microsoft_emulator.scenarios.DEMO_PASSWORDS
START_TIMEOUT = 240  # migrations and demo data on a slow, shared machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    url: str
    emulator_url: str
    var: Path
    log: Path
    env: dict[str, str]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output(), re.MULTILINE)
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"make run never printed {pattern!r}:\n{self.output()[-4000:]}")


def _answers(url: str, **options) -> bool:
    try:
        return requests.get(url, timeout=2, **options).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    """make run's processes, in a fresh state folder, with nothing from the test run's
    environment (no DATABASE_URL, no REDIS_URL: the embedded defaults)."""
    web, emulator = free_port(), free_port()
    var, log = tmp_path / "var", tmp_path / "make-run.log"
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env |= {
        "PORTAL_VAR_DIR": str(var),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{web}",
        "MICROSOFT_EMULATOR_PORT": str(emulator),
        # The webhook receiver below listens on this machine, which the portal refuses
        # as a destination unless told (development only).
        "PORTAL_WEBHOOK_ALLOW_ADDRESSES": "127.0.0.1",
        # The certificate's rollover without its waits for Entra's replication and its
        # day of grace (the emulator has no replicas), so that it ends within the test.
        "PORTAL_CERTIFICATE_ROLLOVER_SETTLE_SECONDS": "2",
        "PORTAL_CERTIFICATE_ROLLOVER_GRACE_HOURS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_portal.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # honcho and its children: one group to stop
        )
    running = Stack(f"http://127.0.0.1:{web}", f"https://127.0.0.1:{emulator}", var, log, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        ca = var / "emulator" / "ca.pem"
        while not (
            _answers(f"{running.url}/healthz/")
            and ca.exists()
            and _answers(f"{running.emulator_url}/_emulator/state", verify=str(ca))
        ):
            assert process.poll() is None, f"make run stopped:\n{running.output()[-4000:]}"
            assert time.monotonic() < deadline, f"make run never answered:\n{running.output()}"
            time.sleep(1)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


class Receiver:
    """The operations app's webhook endpoint: a real HTTP server keeping what it got."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/portal-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(
        self, event_type: str, secret: str, timeout: float = 120, connection: str = ""
    ) -> dict:
        """The first delivery of that type (about `connection`, if given), its signature
        checked as the docs show."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in list(self.received):
                payload = Webhook(secret).verify(body, headers)  # raises if forged
                about = payload["data"].get("connection_id")
                if payload["type"] == event_type and connection in ("", about):
                    return payload
            time.sleep(0.5)
        types = [json.loads(body)["type"] for _, body in self.received]
        raise AssertionError(f"no {event_type} within {timeout} s; received {types}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    listening = Receiver()
    yield listening
    listening.server.shutdown()


def new_page(chromium_browser):
    # The emulator's CA is made at start-up and Chromium takes none per context.
    context = chromium_browser.new_context(viewport=DESKTOP, ignore_https_errors=True)
    context.set_default_timeout(30_000)
    return context.new_page()


def accept_contoso_invitation(page, stack: Stack, way: str = "Register your own app") -> None:
    """The invitation make run printed, then the start page's way to connect (make run
    offers the emulator's vendor app beside the guide's own app)."""
    link = stack.wait_for(r"^\s*(http://\S+/invitations/\S+/)\s*$").group(1)
    page.goto(link)
    page.get_by_label("Your full name").fill("Contoso IT")
    page.get_by_label("Choose a password").fill(ADMIN_PASSWORD)
    page.get_by_label("Repeat the password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("link", name="Set up the mailbox connection").click()
    page.get_by_role("heading", name="How do you want to connect?").wait_for()
    page.get_by_label(way, exact=True).check()
    page.get_by_role("button", name="Continue").click()


def connect_contoso(page, stack: Stack):
    """The invited admin, from the link make run printed to a passing check. Returns
    the admin center's tab, left on the app's Certificates & secrets."""
    accept_contoso_invitation(page, stack)
    walk_steps_1_to_3(page, MS_ADMIN, MS_ADMIN_PASSWORD, with_sign_in=True)

    page.get_by_role("heading", name="Client secret", exact=True).wait_for()
    entra = open_in_entra(page, "Certificates & secrets for this app")
    value, secret_id, expires = entra_new_secret(entra)
    page.get_by_label("Value").fill(value)
    page.get_by_label("Secret ID").fill(secret_id)
    page.get_by_label("Custom, or the date in Entra's Expires column").check()
    page.get_by_label("Expiry date").fill(expires)
    page.get_by_role("button", name="Save secret").click()
    verify_contoso(page)
    return entra


def verify_contoso(page) -> None:
    """Step 5's mailbox and step 6's check, run by make run's own Celery worker."""
    page.get_by_role("heading", name="Mailbox").wait_for()
    page.get_by_label("Mailbox address").fill(MAILBOX)
    page.get_by_role("button", name="Save mailbox").click()
    page.get_by_role("link", name="Continue to verify").click()
    page.get_by_role("heading", name="Verify", exact=True).wait_for()
    # make run's own Celery worker, on the file broker, runs the check.
    page.locator('.check-status [data-status="passed"]').wait_for(timeout=120_000)


def run_check_again(page) -> None:
    """Presses "Run check again" on the verify step, and when the page says the last
    check was moments ago, waits the seconds it names and presses again."""
    page.reload()
    page.get_by_role("button", name="Run check again").click()
    too_soon = page.get_by_text(re.compile(r"The last check was moments ago; try again in"))
    try:
        too_soon.first.wait_for(timeout=3_000)
    except PlaywrightTimeoutError:
        return  # the check started
    # One message per mailbox: wait for the last of them.
    named = [re.search(r"in (\d+) s", text) for text in too_soon.all_inner_texts()]
    seconds = max(int(found[1]) for found in named if found)
    time.sleep(seconds + 1)
    page.get_by_role("button", name="Run check again").click()
    expect(too_soon).to_have_count(0)


def support_creates_a_key(page, stack: Stack) -> str:
    """Support signs in, sets up the second factor, creates a key; returns it."""
    page.goto(f"{stack.url}/support/")
    page.get_by_label("E-mail address").fill("support@demo.example")
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill("demo-support-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    # What an authenticator app does with the typed key (base32, grouped by four).
    typed = page.locator("#manual-key").inner_text().replace(" ", "")
    key = base64.b32decode(typed + "=" * (-len(typed) % 8))
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm and continue").click()

    page.get_by_role("link", name="Service accounts").click()
    page.get_by_role("link", name="New service account").click()
    page.get_by_label(re.compile(r"^\s*Name\W*$")).fill("Operations app")
    page.get_by_label("Read connections").check()
    page.get_by_label("Issue mail tokens").check()
    page.get_by_label("Manage webhook endpoints").check()
    page.get_by_role("button", name="Create the service account").click()
    page.get_by_text("Copy the key now: it is shown only this once.").wait_for()
    return page.locator("code.form-control").inner_text().strip()


def reference_client(stack: Stack, key: str, connection: str) -> str:
    """examples/ops_client.py as the operations app runs it: its own process."""
    ca = str(stack.var / "emulator" / "ca.pem")
    command = [sys.executable, "examples/ops_client.py", "--portal", stack.url]
    command += ["--connection", connection, "--graph-ca-bundle", ca]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "OPS_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_operations_app_gets_mail_and_hears_of_a_break_and_the_recovery(
    chromium_browser, stack, receiver
):
    admin = new_page(chromium_browser)
    entra = connect_contoso(admin, stack)
    key = support_creates_a_key(new_page(chromium_browser), stack)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"

    # Contoso's connection, as the operations app finds it (demo data adds others, whose
    # made-up directories no token can come from).
    rows = api.get(f"{stack.url}/api/v1/connections/", timeout=30).json()["results"]
    (connection,) = [row["id"] for row in rows if row["mailbox"]["address"] == MAILBOX]
    out = reference_client(stack, key, connection)
    # The newest is the check's own test message (the verify step said it sends one).
    assert "Newest message: '[Mailbox portal check] Connection check" in out, out
    assert key not in stack.output()

    # The operations app registers its webhook endpoint with the same key.
    created = api.post(
        f"{stack.url}/api/v1/webhooks/endpoints/",
        json={"url": receiver.url, "events": ["connection.failing", "connection.recovered"]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]

    # Someone deletes the secret in Entra (in the tab where the admin made it); the
    # admin's next check fails, and the operations app hears so.
    entra.reload()
    entra.get_by_role("button", name="Delete secret Mailbox portal").click()
    run_check_again(admin)
    admin.locator('.check-status [data-status="failed"]').wait_for(timeout=120_000)
    # One failure reads "Partly working"; the second in a row makes it failing
    # (PORTAL_CHECK_FAILING_AFTER), which is when the operations app is told.
    run_check_again(admin)
    failing = receiver.wait_for("connection.failing", secret)
    assert failing["data"]["health"] == "failing"
    assert failing["data"]["diagnosis_code"] == "no_credential_in_entra"
    assert failing["data"]["connection_id"] == connection
    # The token issued before the deletion is still good at Microsoft until it ends: the
    # portal still hands it out, with the health, and the operations app decides.
    answer = api.post(f"{stack.url}/api/v1/connections/{connection}/token", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["connection"]["health"] == "failing"
    assert answer.json()["connection"]["diagnosis"]["code"] == "no_credential_in_entra"

    # The admin renews it: a new secret in Entra, entered where the failure says.
    value, secret_id, expires = entra_new_secret(entra)
    admin.get_by_role("link", name=re.compile("client secret", re.IGNORECASE)).first.click()
    admin.get_by_role("heading", name="Client secret", exact=True).wait_for()
    admin.get_by_text("no longer works: The application has no client secret in Entra").wait_for()
    admin.get_by_label("Value").fill(value)
    admin.get_by_label("Secret ID").fill(secret_id)
    admin.get_by_label("Custom, or the date in Entra's Expires column").check()
    admin.get_by_label("Expiry date").fill(expires)
    admin.get_by_role("button", name="Replace the secret").click()
    recovered = receiver.wait_for("connection.recovered", secret)
    assert (recovered["data"]["connection_id"], recovered["data"]["health"]) == (
        connection,
        "healthy",
    )
    assert "Newest message: '[Mailbox portal check]" in reference_client(stack, key, connection)
    for private in (key, value, secret):
        assert private not in stack.output()

    # Issue 17: the demo's Outlook.com account, which only its owner's own sign-in
    # reaches. The admin adds it in step 5 and connects it with Microsoft.
    tenant = re.search(r"/onboarding/([0-9a-f-]{36})/", admin.url)
    assert tenant is not None, admin.url
    admin.goto(f"{stack.url}/onboarding/{tenant[1]}/step/5/")
    admin.get_by_label("Mailbox address").fill(PERSONAL)
    admin.get_by_role("button", name="Add mailbox").click()
    admin.get_by_text("personal account: its owner must connect it").wait_for()
    admin.get_by_role("button", name=f"Connect with Microsoft {PERSONAL}").click()
    sign_in_to_microsoft(admin, PERSONAL, PERSONAL_PASSWORD)
    admin.get_by_role("button", name="Accept").click()
    admin.get_by_text(f"{PERSONAL} is connected with its own Microsoft sign-in").wait_for()
    personal_check = admin.locator(".check-status").filter(has_text=f"Check of {PERSONAL}")
    personal_check.locator('[data-status="passed"]').wait_for(timeout=120_000)
    rows = api.get(f"{stack.url}/api/v1/connections/", timeout=30).json()["results"]
    (personal,) = [row["id"] for row in rows if row["mailbox"]["address"] == PERSONAL]
    answer = api.post(f"{stack.url}/api/v1/connections/{personal}/token", timeout=30)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["kind"], answer.json()["user_path"]) == ("delegated", "/me")
    assert "Newest message: '[Mailbox portal check]" in reference_client(stack, key, personal)

    # The account's sessions are revoked at Microsoft (as a password change does): the
    # next checks fail with the sign-in's diagnosis, the operations app hears so, and
    # the owner is e-mailed a Connect again link.
    revoked = requests.post(
        f"{stack.emulator_url}/_emulator/users/{PERSONAL}/revoke-refresh-tokens",
        verify=str(stack.var / "emulator" / "ca.pem"),
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text
    run_check_again(admin)
    personal_check = admin.locator(".check-status").filter(has_text=f"Check of {PERSONAL}")
    personal_check.locator('[data-status="failed"]').wait_for(timeout=120_000)
    run_check_again(admin)
    broken = receiver.wait_for("connection.failing", secret, connection=personal)
    assert (broken["data"]["connection_id"], broken["data"]["diagnosis_code"]) == (
        personal,
        "sign_in_revoked",
    )
    admin.reload()
    admin.get_by_text("The mailbox's sign-in was ended").first.wait_for()
    deadline = time.monotonic() + 60
    while not (alerts := _mails_to(stack, PERSONAL, "has stopped working")):
        assert time.monotonic() < deadline, "no alert reached the mailbox's owner"
        time.sleep(1)
    assert "Connect again (one click" in alerts[0]
    for private in (key, value, secret):
        assert private not in stack.output()


def _mails_to(stack: Stack, address: str, subject: str) -> list[str]:
    """The messages make run's file mail backend wrote to `address` with `subject`."""
    found = []
    for path in sorted((stack.var / "mail").glob("*.log")):
        for message in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            if f"To: {address}" in message and subject in message:
                found.append(message)
    return found


CONTOSO_ADMIN = "it-admin@contoso.example"  # onboarding/management/commands/demo_data.py


def test_a_certificate_renews_itself_with_no_failing_check_and_no_email(
    chromium_browser, stack, tmp_path
):
    """Issue 18's "done when": Contoso set up with the portal's certificate verifies
    green; the demo command moves its expiry inside the lead time; make run's worker
    rolls it over through the emulator (addKey, a check, the switch, removeKey) while
    checks keep passing, and the admin gets no e-mail."""
    admin = new_page(chromium_browser)
    accept_contoso_invitation(admin, stack)
    walk_steps_1_to_3(admin, MS_ADMIN, MS_ADMIN_PASSWORD)
    admin.get_by_role("heading", name="Client secret", exact=True).wait_for()
    old, entra = save_portal_certificate(admin, tmp_path)
    admin.get_by_text(f"Certificate {old} saved").wait_for()
    verify_contoso(admin)
    verify_url = admin.url
    before = _mails_to(stack, CONTOSO_ADMIN, "")

    moved = subprocess.run(
        [sys.executable, "manage.py", "certificate_expiry", "Contoso Freight"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Rollover scan: 1 rollover(s) handed to the worker." in moved.stdout, moved

    # The worker's stages, seen where the admin sees them: step 4 names the certificate
    # in use, Entra's page the certificates on the app.
    step_4 = verify_url.replace("/step/6/", "/step/4/")
    deadline = time.monotonic() + 240
    while True:
        admin.goto(step_4)
        saved = admin.get_by_role("status").filter(has_text="A certificate is saved")
        if old not in saved.inner_text():
            break
        assert time.monotonic() < deadline, f"no rollover:\n{stack.output()[-4000:]}"
        time.sleep(3)
    new = re.search(r"thumbprint ([0-9A-F]{40})", saved.inner_text())
    assert new is not None
    entra.get_by_role("link", name="Certificates & secrets").click()
    while set(entra_certificates(entra)) != {new[1]}:
        assert time.monotonic() < deadline, "the old certificate was never removed"
        time.sleep(3)
        entra.reload()

    admin.goto(verify_url)
    run_check_again(admin)
    admin.locator('.check-status [data-status="passed"]').wait_for(timeout=120_000)
    expect(admin.locator('.check-status [data-status="failed"]')).to_have_count(0)
    admin.goto(verify_url.replace("/step/6/", "/step/7/"))
    expect(admin.locator(".connection-facts .rollover")).to_contain_text(
        "The portal renews it by itself from"
    )
    assert _mails_to(stack, CONTOSO_ADMIN, "") == before


def test_a_new_admin_connects_through_the_vendors_app_with_one_consent_and_one_address(
    chromium_browser, stack
):
    """Issue 19's "done when" for vendor mode: from make run's invitation, the start
    page's vendor app, one admin consent at Microsoft, one mailbox address, and make
    run's worker verifies green; the operations app's reference client then reads the
    mailbox with a token the portal got with the vendor's certificate, and support's
    overview shows the vendor credential's health."""
    admin = new_page(chromium_browser)
    accept_contoso_invitation(admin, stack, way="Consent to the vendor's app (quickest)")
    admin.get_by_role("heading", name="Admin consent to the vendor's app").wait_for()
    admin.get_by_role("button", name="Grant admin consent").click()
    sign_in_to_microsoft(admin, MS_ADMIN, MS_ADMIN_PASSWORD)
    admin.get_by_role("heading", name="Permissions requested").wait_for()
    admin.get_by_role("button", name="Accept").click()
    admin.get_by_text("Admin consent granted in your directory").wait_for()
    verify_contoso(admin)

    support = new_page(chromium_browser)
    key = support_creates_a_key(support, stack)
    support.goto(f"{stack.url}/support/overview/")
    health = support.locator(".vendor-health")
    expect(health).to_contain_text("The certificate is valid.")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    rows = api.get(f"{stack.url}/api/v1/connections/", timeout=30).json()["results"]
    (contoso,) = [row for row in rows if row["mailbox"]["address"] == MAILBOX]
    assert contoso["credential"]["type"] == "vendor_app"
    out = reference_client(stack, key, contoso["id"])
    assert "Newest message: '[Mailbox portal check] Connection check" in out, out
    assert key not in stack.output()
    assert "PRIVATE KEY" not in stack.output()


def test_a_new_admin_has_the_portal_register_their_app_without_typing_an_id_or_secret(
    chromium_browser, stack
):
    """Issue 19's "done when" for the automatic registration: from make run's invitation,
    the portal registers Contoso's own app through the emulator's Graph with the admin's
    one sign-in (the plan shown first), and make run's worker verifies green."""
    admin = new_page(chromium_browser)
    accept_contoso_invitation(admin, stack, way="Let the portal register your own app")
    admin.get_by_role("heading", name="Let the portal register your app").wait_for()
    expect(admin.locator(".plan-changes li")).to_have_count(7)
    admin.get_by_role("button", name="Sign in with Microsoft and register the app").click()
    sign_in_to_microsoft(admin, MS_ADMIN, MS_ADMIN_PASSWORD)
    admin.get_by_role("heading", name="Permissions requested").wait_for()
    admin.get_by_role("button", name="Accept").click()
    admin.get_by_text("The portal registered").wait_for()
    verify_contoso(admin)
    assert "PRIVATE KEY" not in stack.output()
