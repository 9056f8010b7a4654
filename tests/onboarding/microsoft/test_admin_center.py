from onboarding.consent import flow as consent
from onboarding.microsoft import admin_center as entra

CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_it_links_into_the_entra_admin_center(settings):
    settings.ENTRA_ADMIN_URL = "https://entra.microsoft.com"
    assert entra.app_list_url() == (
        "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade"
    )
    assert entra.app_page_url(CLIENT_ID, "Credentials") == (
        "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade"
        f"/~/Credentials/appId/{CLIENT_ID}"
    )


def test_it_follows_the_configured_admin_center(settings):
    settings.ENTRA_ADMIN_URL = "https://admin.example.test"
    assert entra.new_registration_url().startswith(
        "https://admin.example.test/#view/Microsoft_AAD_RegisteredApps/CreateApplicationBlade"
    )


def test_it_lists_the_guides_redirect_uris_and_the_consent_callback(settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    assert entra.web_redirect_uris(consent.callback_url()) == [
        "https://localhost",
        "http://localhost",
        "https://portal.example.com/onboarding/consent/callback/",
    ]
