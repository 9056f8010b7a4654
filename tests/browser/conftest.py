"""Playwright driving Debian's Chromium, as a new user would use the portal.

Playwright's own browser download cannot run here, so Chromium is launched by
path. Screenshots go to var/screenshots/ at desktop and phone widths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service

# Playwright's sync API keeps an event loop in the test thread; Django's ORM
# calls from the same thread are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium_browser():
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


@pytest.fixture
def page(chromium_browser, request) -> Iterator:
    """A fresh browser context per test (its own cookies), desktop-sized."""
    context = chromium_browser.new_context(viewport=DESKTOP, ignore_https_errors=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
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
