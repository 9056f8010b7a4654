"""The emulator's state page and control API are for development: the page says so."""

from __future__ import annotations

from microsoft_emulator import control


def test_the_state_page_says_it_is_for_development_only(emulator, http):
    page = http.get(f"{emulator.base_url}/_emulator/")
    assert page.status_code == 200
    assert 'role="alert" id="development-only"' in page.text
    assert "Development only." in page.text
    assert "Never expose it on a network" in page.text


def test_the_control_api_says_it_is_for_development_only():
    assert control.__doc__ is not None
    assert "DEVELOPMENT ONLY" in control.__doc__
