"""Playwright driving Debian's Chromium, as a new user would use the portal.

Playwright's own browser download cannot run here, so Chromium is launched by
path. Screenshots go to var/screenshots/ at desktop and phone widths.

Every browser context a test opens (through the `chromium_browser` fixture, so the
`page` fixture and each test module's own contexts alike) runs axe-core on every page
load and htmx swap; a serious or critical violation fails the test at teardown.
`PORTAL_TEST_AXE=off` turns that off locally (never in CI). axe-core comes from npm
(package.json, installed by `make test`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.actors import Actor
from microsoft_emulator.scenarios import Ready, ready_directory
from onboarding import progress
from onboarding.invitations import services as invitations
from onboarding.models import AppRegistration, ClientSecret
from tests.conftest import require_service

# Playwright's sync API keeps an event loop in the test thread; Django's ORM
# calls from the same thread are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUNNER = Path(__file__).with_name("axe_runner.js")
# How long closing a context waits for a check still running on one of its pages.
AXE_IDLE_TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
INVITED_PASSWORD = "a long enough passphrase"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def _chromium():
    require_service("Chromium", Path(CHROMIUM).exists())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def axe_enabled() -> bool:
    # CI always checks; only a local run may turn it off.
    if os.environ.get("CI"):
        return True
    return os.environ.get("PORTAL_TEST_AXE", "on").strip().lower() not in {"off", "0", "no"}


def axe_scripts() -> str:
    if not AXE_SCRIPT.exists():
        pytest.fail(
            f"{AXE_SCRIPT.relative_to(ROOT)} is missing: `make test` installs it "
            "(npm ci), or set PORTAL_TEST_AXE=off to skip the accessibility check locally.",
            pytrace=False,
        )
    return AXE_SCRIPT.read_text() + "\n" + AXE_RUNNER.read_text()


@dataclass
class AxeCollector:
    """The serious and critical axe-core violations found in one test's pages."""

    browser: Any
    script: str
    # (rule, url, target) -> one line of the report, in the order found.
    violations: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unfinished: list[tuple[str, str]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)
    pages_checked: int = 0

    def watch(self, context) -> None:
        """Adds axe and the report binding to a new context, and flushes it on close."""
        context.expose_binding("__portalAxeReport", self._report)
        context.add_init_script(script=self.script)
        close = context.close

        def close_after_checks(*args, **kwargs):
            self.flush(context)
            if context in self.contexts:
                self.contexts.remove(context)
            return close(*args, **kwargs)

        context.close = close_after_checks
        self.contexts.append(context)

    def _report(self, source, kind: str, payload: dict) -> None:
        url = payload.get("url", "")
        if kind == "result":
            self.pages_checked += 1
            self.add(url, payload["violations"])
        elif kind == "unfinished":
            self.unfinished.append((url, payload["html"]))
        else:
            self.errors.append(f"axe-core failed on {url}: {payload.get('message')}")

    def add(self, url: str, violations: list[dict]) -> None:
        for violation in violations:
            for node in violation["nodes"]:
                target = " ".join(node["target"])
                key = (violation["id"], url, target)
                if key in self.violations:
                    continue
                html = " ".join(node["html"].split())
                if len(html) > 160:
                    html = html[:157] + "..."
                self.violations[key] = (
                    f"- {violation['id']} ({violation['impact']}) on {url}\n"
                    f"    at {target}: {html}\n"
                    f"    {node['message'] or violation['help']}\n"
                    f"    {violation['help']}: {violation['helpUrl']}"
                )

    def flush(self, context) -> None:
        """Waits for the checks still running in the context's pages."""
        for page in list(context.pages):
            for attempt in range(3):
                if page.is_closed():
                    break
                try:
                    page.evaluate(
                        """(timeout) => window.__portalAxe && Promise.race([
                            window.__portalAxe.idle(),
                            new Promise((resolve) => setTimeout(resolve, timeout)),
                        ])""",
                        AXE_IDLE_TIMEOUT_MS,
                    )
                    break
                except Exception as error:
                    # The page was navigating (its beforeunload handler sent a snapshot if
                    # a check was cut short): wait for the next page and ask it.
                    if attempt == 2:
                        self.errors.append(f"could not wait for axe-core on {page.url}: {error}")
                    else:
                        # A page that never loads is asked again, then reported.
                        with contextlib.suppress(Exception):
                            page.wait_for_load_state("load", timeout=AXE_IDLE_TIMEOUT_MS)

    def check_snapshots(self) -> None:
        """Checks, in a blank page, each page the test left before axe finished (its DOM
        as it was, its style sheets inlined, its scripts removed, no network)."""
        if not self.unfinished:
            return
        # Not java_script_enabled=False: Playwright's evaluate then never returns.
        context = self.browser.new_context(viewport=DESKTOP)
        try:
            page = context.new_page()
            page.route("**/*", lambda route: route.abort())
            for url, html in self.unfinished:
                page.set_content(html, wait_until="domcontentloaded")
                page.evaluate(AXE_SCRIPT.read_text())
                violations = page.evaluate(
                    """async () => {
                        const results = await axe.run(document, {resultTypes: ["violations"]});
                        return results.violations
                            .filter((v) => v.impact === "serious" || v.impact === "critical")
                            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({
                                    target: n.target.map(String), html: n.html,
                                    message: [...n.any, ...n.all, ...n.none]
                                        .map((c) => c.message).filter(Boolean)[0] || ""}))}));
                    }"""
                )
                self.pages_checked += 1
                self.add(url, violations)
        finally:
            context.close()
        self.unfinished.clear()

    def finish(self) -> str | None:
        """The report of what was found, or None when every page passed."""
        for context in list(self.contexts):
            try:
                context.close()
            except Exception:
                # Already closed, with its browser.
                self.contexts.remove(context)
        self.check_snapshots()
        if not self.violations and not self.errors:
            return None
        lines = [
            f"axe-core found {len(self.violations)} serious or critical accessibility "
            f"violation(s) on the pages this test visited "
            "(PORTAL_TEST_AXE=off skips this check locally):",
            *self.violations.values(),
            *self.errors,
        ]
        return "\n".join(lines)


class CheckedBrowser:
    """The session's Chromium, whose new contexts all run the accessibility check."""

    def __init__(self, browser, collector: AxeCollector | None) -> None:
        self._browser = browser
        self._collector = collector

    def new_context(self, **kwargs):
        # Reduced motion turns off Bootstrap's colour transitions: axe measures a button
        # just clicked or hovered mid-fade otherwise (CI saw 2.79:1 halfway to 4.5:1).
        kwargs.setdefault("reduced_motion", "reduce")
        context = self._browser.new_context(**kwargs)
        if self._collector is not None:
            self._collector.watch(context)
        return context

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


@pytest.fixture
def axe_collector(_chromium) -> Iterator[AxeCollector | None]:
    """The test's accessibility check; at teardown, fails the test on any serious or
    critical violation found on a page it visited."""
    if not axe_enabled():
        yield None
        return
    collector = AxeCollector(browser=_chromium, script=axe_scripts())
    yield collector
    report = collector.finish()
    if report:
        pytest.fail(report, pytrace=False)


@pytest.fixture
def chromium_browser(_chromium, axe_collector) -> CheckedBrowser:
    return CheckedBrowser(_chromium, axe_collector)


@pytest.fixture
def page(chromium_browser, request) -> Iterator:
    """A fresh browser context per test (its own cookies), desktop-sized."""
    context = chromium_browser.new_context(viewport=DESKTOP, ignore_https_errors=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def browser_context(chromium_browser):
    """A context for a walk through the emulated Entra admin center. The emulator makes
    a new CA each run and Chromium takes no CA per context, so certificate checks are
    off; the portal and the emulator share the context because the consent round trip
    needs both sessions. Downloads are kept (step 4's certificate)."""
    context = chromium_browser.new_context(
        viewport=DESKTOP, ignore_https_errors=True, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def admin_page(chromium_browser) -> Iterator:
    """The tenant admin's browser, for walks through the emulated Entra (browser_context)."""
    context = browser_context(chromium_browser)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step-name"): saves the page at desktop and phone widths."""

    def take(page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        test_name = re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower())
        original = page.viewport_size
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(
                path=str(SCREENSHOTS / f"{test_name}--{name}--{label}.png"), full_page=True
            )
        page.set_viewport_size(original)

    return take


def fits_a_phone(page) -> None:
    """No sideways scrolling at 375 pixels."""
    original = page.viewport_size
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(original)


@pytest.fixture
def portal(live_server, settings, emulated_microsoft):
    """The live portal, with its consent callback at its own address."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def accept_invitation(page, portal, tenant, charlie) -> None:
    """Dora (dora@acme.example), invited by Charlie, creates her account from the link."""
    _, token = invitations.invitation_create(
        tenant=tenant, email="dora@acme.example", actor=Actor(user=charlie)
    )
    page.goto(f"{portal.url}/invitations/{token}/")
    page.get_by_label("Your full name").fill("Dora Admin")
    page.get_by_label("Choose a password").fill(INVITED_PASSWORD)
    page.get_by_label("Repeat the password").fill(INVITED_PASSWORD)
    page.get_by_role("button", name="Create my account").click()


def save_steps_1_to_4(tenant, ready: Ready) -> None:
    """through_step_4's saving, for a test that changes the directory before it."""
    app = AppRegistration.objects.create(
        tenant=tenant,
        client_id=ready.app.client_id,
        directory=ready.directory.id,
        directory_id=ready.directory.id,
        authentication_confirmed_at=timezone.now(),
        consent_granted_at=timezone.now(),
    )
    secret = ClientSecret(
        app=app, secret_id=ready.secret.key_id, expires_on=date.today() + timedelta(days=180)
    )
    secret.set_value(ready.secret.value)
    secret.save()
    progress.record_progress(tenant)


@pytest.fixture
def through_step_4(emulated_microsoft, acme) -> Ready:
    """Contoso set up as the guide says; Acme's steps 1 to 4 saved against it, as the
    admin leaves them (the secret still waiting for its first check)."""
    ready = ready_directory(emulated_microsoft)
    save_steps_1_to_4(acme, ready)
    return ready
