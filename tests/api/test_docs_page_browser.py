"""The API's docs page in a real browser, under the portal's own CSP: Swagger UI from the
vendored files renders every operation, and the browser reports no refused script,
style or connection (a CSP violation is a console error)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")


def test_a_developer_reads_the_api_docs_without_csp_refusals(live_server):
    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{live_server.url}/api/v1/docs/")
            page.get_by_text("/api/v1/connections/{id}/token").wait_for(timeout=30_000)
            assert page.get_by_role("button", name="Authorize").is_visible()
            page.get_by_text("/api/v1/connections/{id}/token").click()
            page.get_by_text("A Microsoft Graph access token", exact=False).first.wait_for()
        finally:
            browser.close()
    assert [m for m in messages if m.startswith(("error", "pageerror"))] == []
    assert all(url.startswith(live_server.url) for url in requested)  # no CDN
