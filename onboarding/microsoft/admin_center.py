"""Links into the Entra admin center, and what the guide has the admin set there.

Deep links follow the admin center's own addresses (entra.microsoft.com/#view/...);
settings.ENTRA_ADMIN_URL points them at another admin center when needed.
"""

from __future__ import annotations

from django.conf import settings

_REGISTERED_APPS = "#view/Microsoft_AAD_RegisteredApps"
ACCOUNT_TYPE = (
    "Accounts in any organizational directory (Any Microsoft Entra ID tenant - Multitenant) "
    "and personal Microsoft accounts (e.g. Skype, Xbox)"
)
# Redirect URIs from the guide, for the operations app's own sign-in.
GUIDE_REDIRECT_URIS = ("https://localhost", "http://localhost")
GRAPH_PERMISSIONS = ("Mail.Read", "Mail.Send")


def _base() -> str:
    return str(settings.ENTRA_ADMIN_URL)


def app_list_url() -> str:
    return f"{_base()}/{_REGISTERED_APPS}/ApplicationsListBlade"


def new_registration_url() -> str:
    blade = "CreateApplicationBlade/quickStartType~/null/isMSAApp~/false"
    return f"{_base()}/{_REGISTERED_APPS}/{blade}"


def app_page_url(client_id: object, page: str) -> str:
    """page: Overview, Authentication, CallAnAPI (API permissions) or Credentials."""
    return f"{_base()}/{_REGISTERED_APPS}/ApplicationMenuBlade/~/{page}/appId/{client_id}"


def web_redirect_uris(consent_callback_url: str) -> list[str]:
    """Every Web redirect URI to register: the guide's and the portal's consent callback."""
    return [*GUIDE_REDIRECT_URIS, consent_callback_url]
