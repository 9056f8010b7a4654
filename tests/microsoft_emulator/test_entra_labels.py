"""The emulated admin center uses Entra's own labels, and its "Add a client secret" panel
takes a Custom Start and End as Entra's does.

Sources (read 2026-12-01):
- account type: the admin center's label as guides quoting its screen give it, e.g.
  "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant)
  and personal Microsoft accounts (e.g. Skype, Xbox)"; entra-docs
  supported-accounts-validation.md's table says "(Any Microsoft Entra directory -
  Multitenant)" for the same signInAudience AzureADandPersonalMicrosoftAccount.
- platform: MicrosoftDocs/azure-docs articles/active-directory-b2c/tutorial-register-spa.md,
  "Under **Redirect URI**, select **Single-page application (SPA)**".
- expiry: "Recommended: 180 days (6 months)" (Entra's default, quoted by many guides);
  odoo/documentation content/applications/productivity/calendar/outlook.rst: "90 days (3
  months)", "365 days (12 months)", "545 days (18 months)", "730 days (24 months)" or
  "Custom", which "allows the administrator to set a Start and End date"; Custom's Start
  from today to 18 months ahead, End at most two years after Start (jpazureid/blog
  azuread-clientsecrets-202104.md); entra-docs how-to-add-credentials.md: "You can't
  specify a custom lifetime longer than 24 months."
"""

import datetime
import html
import re

import pytest

from tests.microsoft_emulator.conftest import csrf, sign_in

GUIDE_ACCOUNT_TYPE = (
    "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant) "
    "and personal Microsoft accounts (e.g. Skype, Xbox)"
)
EXPIRES = [
    "Recommended: 180 days (6 months)",
    "90 days (3 months)",
    "365 days (12 months)",
    "545 days (18 months)",
    "730 days (24 months)",
    "Custom",
]


@pytest.fixture
def admin_center(emulator, http):
    directory = emulator.add_directory("Contoso", "contoso.onmicrosoft.com")
    emulator.add_user(directory, "admin@contoso.onmicrosoft.com", "Admin-pass-1", admin=True)
    sign_in(
        http,
        http.get(f"{emulator.base_url}/entra/"),
        "admin@contoso.onmicrosoft.com",
        "Admin-pass-1",
    )
    return http


def post(http, url, data):
    return http.post(url, data={"csrf": csrf(http.get(url).text), **data})


def register(emulator, http, **fields):
    data = {"name": "Ops", "audience": "AzureADandPersonalMicrosoftAccount", "platform": "Web"}
    return post(http, f"{emulator.base_url}/entra/apps/new", {**data, **fields})


def test_the_register_page_has_entras_account_types_and_platforms(emulator, admin_center):
    page = html.unescape(admin_center.get(f"{emulator.base_url}/entra/apps/new").text)
    assert f">{GUIDE_ACCOUNT_TYPE}</label>" in page
    assert (
        ">Accounts in any organizational directory (Any Microsoft Entra ID tenant - "
        "Multitenant)</label>" in page
    )
    assert "<option>Single-page application (SPA)</option>" in page
    assert "<option>Web</option>" in page


def test_the_overview_names_the_guides_account_type(emulator, admin_center):
    overview = html.unescape(register(emulator, admin_center).text)
    assert GUIDE_ACCOUNT_TYPE in overview


def test_a_name_over_90_characters_is_refused_for_personal_accounts(emulator, admin_center):
    page = register(emulator, admin_center, name="n" * 91)
    assert "at most 90 characters" in page.text
    assert "not verified" in page.text
    assert emulator.state.apps == []
    register(emulator, admin_center, name="n" * 91, audience="AzureADMultipleOrgs")
    assert [len(a.name) for a in emulator.state.apps] == [91]


def test_the_secret_panel_offers_entras_expiry_choices_and_custom_dates(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    page = admin_center.get(
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret"
    )
    options = re.findall(r"<option[^>]*>([^<]+)</option>", html.unescape(page.text))
    assert options == EXPIRES
    assert '<label class="form-label" for="start">Start</label>' in page.text
    assert '<label class="form-label" for="end">End</label>' in page.text


def test_a_custom_secret_starts_and_ends_on_the_chosen_dates(emulator, admin_center):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    today = emulator.store.now().date()
    start, end = today + datetime.timedelta(days=10), today + datetime.timedelta(days=10 + 730)
    post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret",
        {"expires": "custom", "start": start.isoformat(), "end": end.isoformat()},
    )
    (secret,) = app.secrets
    assert (secret.start.date(), secret.end.date()) == (start, end)


@pytest.mark.parametrize(
    ("start_in", "end_in", "message"),
    [
        (-1, 30, "from today to 18 months away"),
        (546, 600, "from today to 18 months away"),
        (10, 10, "after the start date"),
        (10, 741, "at most 24 months after the start date"),
    ],
)
def test_it_refuses_custom_dates_out_of_range(emulator, admin_center, start_in, end_in, message):
    register(emulator, admin_center)
    app = emulator.state.apps[0]
    today = emulator.store.now().date()
    page = post(
        admin_center,
        f"{emulator.base_url}/entra/apps/{app.client_id}/credentials/new-secret",
        {
            "expires": "custom",
            "start": (today + datetime.timedelta(days=start_in)).isoformat(),
            "end": (today + datetime.timedelta(days=end_in)).isoformat(),
        },
    )
    assert message in page.text
    assert app.secrets == []
