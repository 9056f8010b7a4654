"""Private pages are never cached: not by a proxy, not by the browser's disk cache."""

from __future__ import annotations

import pytest

from tests.two_factor import sign_in_verified


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/", "/onboarding/{tenant}/", "/no-such-page/"])
def test_a_tenant_admins_pages_are_not_stored(client, alice, acme, path):
    client.force_login(alice)
    response = client.get(path.format(tenant=acme.pk), follow=True)
    assert _no_store(response), (path, response.status_code, response.get("Cache-Control"))


@pytest.mark.parametrize("path", ["/support/", "/support/overview/", "/support/export.csv"])
def test_support_pages_and_the_csv_export_are_not_stored(client, charlie, path):
    sign_in_verified(client, charlie)
    response = client.get(path)
    assert response.status_code == 200
    assert _no_store(response)


def test_a_response_that_sets_the_session_cookie_is_not_stored(client, alice, settings):
    client.force_login(alice)
    response = client.post("/accounts/logout/")
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert _no_store(response)


def test_public_pages_stay_cacheable(client, db):
    assert not _no_store(client.get("/no-such-page/"))
